import CProcess
import Foundation
import SBNData
import SBNDistributions
import SBNEstimators
import SBNModel
import SBNOptions

/// A fully resolved experiment. Every property initialiser below is the default (the paper's
/// task, Jang et al. 2017 §4.1, with the optimizer of the PyTorch reference run); an experiment
/// file, its `extends:` chain and `--set` overrides change what differs. Adding a field is one
/// line here: its key (snake_case), default, JSON form and range check (`@Count`, `@Positive`, …)
/// follow from it. Encoded as JSON into each results file.
public struct ExperimentConfig: Codable, Equatable, Sendable {
    public struct DataSource: Codable, Equatable, Sendable {
        /// The prepared HDF5 dataset (`make data`).
        public var path = BinarizedMNIST.defaultPath
        /// Use only the first N images of a split (null: all). For quick runs and tests.
        @OptionalCount public var trainLimit: Int? = nil
        @OptionalCount public var validLimit: Int? = nil
        @OptionalCount public var testLimit: Int? = nil
        public init() {}
    }

    public struct Samples: Codable, Equatable, Sendable {
        /// m of the training objective log (1/m) Σ p(x | h_i).
        @Count public var train = 1
        /// m of the per-epoch validation NLL.
        @Count public var valid = 100
        /// m of the final test NLL (1000 in Jang et al. 2017).
        @Count public var test = 1000
        public init() {}
    }

    /// When a run counts as diverged (see `divergence`).
    public struct Divergence: Codable, Equatable, Sendable {
        /// Nats above the first validation NLL that count as diverging.
        @Positive public var margin = 10.0
        /// Consecutive validations above that before the run stops as failed.
        @Count public var patience = 2
        public init() {}
    }

    /// Gradient diagnostics during training: every `every` steps, the bias, variance and cosine
    /// of `estimators` against a reference gradient (`sbnlab gradstats --checkpoint`'s numbers,
    /// Tucker et al. 2017 Fig. 2 and Yin & Zhou 2019 Fig. 4's variance-versus-step curves), on a
    /// fixed batch of validation images with the current parameters, stored in the run's file
    /// under /metrics/diagnostics. Off unless `every` is set; each measurement runs fresh
    /// estimators (their baselines untrained) and allocates, outside the training step.
    public struct Diagnostics: Codable, Equatable, Sendable {
        /// Measure after every this many training steps (null: never).
        @OptionalCount public var every: Int? = nil
        /// Estimators to measure, `name` or `name{options}` (`EstimatorVariant`), e.g.
        /// `muprop{variance_normalization: false}` (empty: the run's own estimator).
        public var estimators: [String] = []
        /// Estimates of each per measurement.
        @Count public var estimates = 100
        /// The unbiased estimator whose mean is the reference, `name` or `name{options}` ("":
        /// `defaultReference`).
        public var reference = ""
        /// Estimates averaged into the reference.
        @Count public var referenceEstimates = 1000
        /// Validation images in the measured batch (the first ones).
        @Count public var images = 100
        public init() {}

        /// The reference estimator for these layers.
        public func referenceName(for layers: Architecture) -> String {
            !reference.isEmpty ? reference : Self.defaultReference(for: layers)
        }

        /// An unbiased estimator for every layer: DisARM for Bernoulli layers, MuProp without
        /// variance normalization (which rescales its gradient) otherwise.
        public static func defaultReference(for layers: Architecture) -> String {
            layers.isBernoulli ? "disarm" : "muprop{variance_normalization: false}"
        }
    }

    /// What a run writes beside its results file, as it trains.
    public struct Logging: Codable, Equatable, Sendable {
        /// TensorBoard event files (`events.out.tfevents.*`) in the run's folder: the training,
        /// validation and test metrics, the configuration and the hparams plugin's session.
        public var tensorboard = true
        public init() {}
    }

    public var name = "unnamed"
    public var description = ""
    public var data = DataSource()
    /// `{family: <name from ModelFamilies>, <its options>…}`: the SBN (default) or the VAE.
    public var model = ModelSpec()
    /// [input, stochastic layers…, output]: a number is a layer of Bernoulli units,
    /// `{categorical: [groups, classes]}` one-hot groups; [392, …, 392] for the SBN (top half in,
    /// bottom half out), [784, latent, 784] for the VAE.
    @Layers public var layers = Architecture.bernoulli([392, 200, 200, 392])
    /// A name from `EstimatorRegistry`, with its `Options` under `estimator_options`.
    public var estimator = GumbelSoftmaxEstimator.name
    public var estimatorOptions = AnyOptions(GumbelSoftmaxEstimator.Options())
    /// `{schedule: <name from ScheduleRegistry>, <its options>…}`.
    public var temperature = ScheduleChoice(FixedTemperature.name, FixedTemperature.Options())
    /// A name from `OptimizerRegistry`, with its `Options` under `optimizer_options`.
    public var optimizer = Adam.name
    public var optimizerOptions = AnyOptions(Adam.Options())
    @Positive public var lr = 0.001
    /// `{schedule: <name from LearningRateSchedules>, <its options>…}`: η(t) around `lr`.
    public var lrSchedule = ScheduleChoice(ConstantRate.name, NoOptions())
    @Count public var batchSize = 100
    @Count public var epochs = 50
    /// Validate (and keep the best parameters) every this many epochs, and after the last.
    @Count public var validEvery = 1
    public var samples = Samples()
    @SeedValue public var seed: UInt64 = 1
    /// Log a training-metrics row every this many steps.
    @Count public var logEvery = 50
    /// A run whose validation NLL stays `margin` nats above its first validation for `patience`
    /// validations stops as failed ("diverged at epoch N").
    public var divergence = Divergence()
    public var diagnostics = Diagnostics()
    public var logging = Logging()

    public init() {}

    /// The components chosen by name: the key path of the name and of its options.
    public static var components: [(name: String, options: String)] {
        slots.map { ($0.namePath.joined(separator: "."), $0.dottedOptions) }
    }

    /// The components chosen by name, each with its registry and where its options live.
    static let slots: [OptionsSlot] = [
        OptionsSlot(name: "estimator", options: "estimator_options", EstimatorRegistry.registry),
        OptionsSlot(name: "optimizer", options: "optimizer_options", OptimizerRegistry.registry),
        OptionsSlot(name: "temperature.schedule", options: "temperature", ScheduleRegistry.registry),
        OptionsSlot(name: "lr_schedule.schedule", options: "lr_schedule", LearningRateSchedules.registry),
        OptionsSlot(name: "model.family", options: "model", ModelFamilies.registry),
    ]

    /// The chosen model family.
    public var family: any ModelFamily.Type { ModelFamilies.registry.lookup(model.family) ?? SBNFamily.self }

    /// A network of the chosen family and layers, drawn from `rng`.
    public func network(rng: inout Xoshiro256) -> StochasticNetwork {
        family.network(layers: layers, options: model.options, rng: &rng)
    }

    /// The resolved configuration as canonical JSON (sorted keys, snake_case), as stored in
    /// results files; it is itself a valid experiment file.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: (try? encoder.encode(self)) ?? Foundation.Data(), as: UTF8.self)
    }

    /// Whether two configurations describe the same run: every field but the name and the
    /// description, which may be edited without invalidating results.
    public func sameRun(as other: ExperimentConfig) -> Bool { differences(from: other).isEmpty }

    /// The key paths whose values differ (name and description aside), e.g. ["lr", "seed"].
    /// (Logging is not part of what a run computes: a resumed run may switch it.)
    public func differences(from other: ExperimentConfig) -> [String] {
        guard let a = try? ConfigNode.encode(self), let b = try? ConfigNode.encode(other) else { return ["?"] }
        let left = Dictionary(ConfigNode.leaves(a).map { ($0.path, $0.value) }, uniquingKeysWith: { x, _ in x })
        let right = Dictionary(ConfigNode.leaves(b).map { ($0.path, $0.value) }, uniquingKeysWith: { x, _ in x })
        return Set(left.keys).union(right.keys).subtracting(["name", "description", "logging.tensorboard"])
            .filter { left[$0] != right[$0] }.sorted()
    }

    /// Parses the JSON written by `json` (validated like any experiment file).
    public init(json: String, source: String = "stored configuration") throws {
        self = try ConfigLoader.resolve(try ConfigNode.parse(json, file: source), file: source)
    }
}

/// A schedule (of the temperature or the learning rate) and its options, written as one mapping:
/// `temperature: {schedule: exponential, tau: 1.0, rate: 1e-4}`.
public struct ScheduleChoice: Codable, Equatable, Sendable {
    public var schedule: String
    public var options: AnyOptions

    enum Keys: String, CodingKey { case schedule }

    public init(_ schedule: String, _ options: some ComponentOptions) {
        self.schedule = schedule
        self.options = AnyOptions(options)
    }

    public init(from decoder: any Decoder) throws {
        schedule = try decoder.container(keyedBy: Keys.self).decode(String.self, forKey: .schedule)
        options = try AnyOptions(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        try options.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(schedule, forKey: .schedule)
    }
}

/// The model family and its options, written as one mapping:
/// `model: {family: vae, encoder_hidden: [512, 256], prior: uniform}`.
public struct ModelSpec: Codable, Equatable, Sendable {
    public var family = SBNFamily.name
    public var options = AnyOptions(NoOptions())

    enum Keys: String, CodingKey { case family }

    public init() {}

    public init(from decoder: any Decoder) throws {
        family = try decoder.container(keyedBy: Keys.self).decode(String.self, forKey: .family)
        options = try AnyOptions(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        try options.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(family, forKey: .family)
    }
}

/// How a run uses the machine. Not part of the experiment's identity (results do not depend on
/// it), so it is not stored in the configuration and a run may resume with other values.
public struct RuntimeOptions: Sendable {
    /// Worker threads for evaluation, each with a single-threaded OpenBLAS. Evaluation noise is
    /// drawn per chunk, so the numbers do not depend on this.
    public var evalThreads: Int
    /// Threads for training steps (1 or 2), each running a fixed part of every pass with a
    /// single-threaded OpenBLAS (`NetworkWorkspace`); the parts are the same either way, so the numbers
    /// do not depend on this.
    public var trainThreads: Int

    /// `threads` for both (default: every core this process may use).
    public init(threads: Int = RuntimeOptions.availableCores) {
        evalThreads = max(1, threads)
        trainThreads = max(1, threads)
    }

    /// The cores this process may run on: its CPU affinity (`taskset`, a cgroup cpuset, a SLURM
    /// allocation), which `activeProcessorCount` ignores. Two runs started under `taskset -c 0` and
    /// `taskset -c 1` then default to one thread each, as OpenBLAS already does, instead of two
    /// threads each on one core.
    public static var availableCores: Int {
        let count = Int(sbn_affinity_cpu_count())
        return count > 0 ? count : ProcessInfo.processInfo.activeProcessorCount
    }
}
