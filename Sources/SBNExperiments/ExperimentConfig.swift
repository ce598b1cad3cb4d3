import Foundation
import SBNEstimators

/// A fully resolved experiment: every field has a value (defaults below, then the file and its
/// `extends:` chain, then `--set` overrides). Encoded as JSON into each results file.
public struct ExperimentConfig: Codable, Equatable, Sendable {
    public struct DataSource: Codable, Equatable, Sendable {
        /// The prepared HDF5 dataset (`make data`).
        public var path: String
        /// Use only the first N images of a split (nil: all). For quick runs and tests.
        public var trainLimit: Int?
        public var validLimit: Int?
        public var testLimit: Int?
    }

    public struct Temperature: Codable, Equatable, Sendable {
        /// A name from `ScheduleRegistry`: `fixed` or `exponential`.
        public var schedule: String
        public var tau: Double
        /// For `exponential`: τ = max(tauMin, tau · exp(−rate · t)), updated every `every` steps.
        public var tauMin: Double
        public var rate: Double
        public var every: Int
    }

    public struct Samples: Codable, Equatable, Sendable {
        /// m of the training objective log (1/m) Σ p(x | h_i).
        public var train: Int
        /// m of the per-epoch validation NLL.
        public var valid: Int
        /// m of the final test NLL (1000 in Jang et al. 2017).
        public var test: Int
    }

    public var name: String
    public var description: String
    public var data: DataSource
    public var layers: [Int]
    public var estimator: String
    public var estimatorOptions: [String: Double]
    public var temperature: Temperature
    public var optimizer: String
    public var lr: Double
    public var momentum: Double
    public var batchSize: Int
    public var epochs: Int
    public var samples: Samples
    public var seed: UInt64
    /// Log a training-metrics row every this many steps.
    public var logEvery: Int

    /// The defaults every experiment starts from: the paper's task and protocol
    /// (Jang et al. 2017 §4.1), with the optimizer of the PyTorch reference run.
    public static let defaultsYAML = """
        name: unnamed
        description: ""
        data: {path: data/binarized_mnist.h5, train_limit: null, valid_limit: null, test_limit: null}
        layers: [392, 200, 200, 392]
        estimator: gs
        estimator_options: {}
        temperature: {schedule: fixed, tau: 1.0, tau_min: 0.5, rate: 0.0001, every: 1000}
        optimizer: adam
        lr: 0.001
        momentum: 0.9
        batch_size: 100
        epochs: 50
        samples: {train: 1, valid: 100, test: 1000}
        seed: 1
        log_every: 50
        """

    /// The resolved configuration as canonical JSON (sorted keys), as stored in results files.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: (try? encoder.encode(self)) ?? Foundation.Data(), as: UTF8.self)
    }
}

extension ExperimentConfig {
    /// Whether two configurations describe the same run: every field but the name and the
    /// description, which may be edited without invalidating results.
    public func sameRun(as other: ExperimentConfig) -> Bool {
        var a = self, b = other
        (a.name, a.description, b.name, b.description) = ("", "", "", "")
        return a == b
    }

    /// Parses the JSON written by `json`.
    public init(json: String) throws {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        self = try decoder.decode(ExperimentConfig.self, from: Foundation.Data(json.utf8))
    }
}

/// How a run uses the machine. Not part of the experiment's identity (results do not depend on
/// it), so it is not stored in the configuration and a run may resume with other values.
public struct RuntimeOptions: Sendable {
    /// Worker threads for evaluation, each with a single-threaded OpenBLAS. Evaluation noise is
    /// drawn per chunk, so the numbers do not depend on this.
    public var evalThreads: Int
    /// OpenBLAS threads during training steps (1 is fastest at batch ≤ 100: swift-native-stack §4).
    public var blasThreads: Int

    public init(evalThreads: Int = ProcessInfo.processInfo.activeProcessorCount, blasThreads: Int = 1) {
        self.evalThreads = max(1, evalThreads)
        self.blasThreads = max(1, blasThreads)
    }
}
