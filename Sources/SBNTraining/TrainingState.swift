import SBNConfig
import SBNDistributions
import SBNEstimators
import SBNModel
import SBNOptions
import SBNStorage
import SBNTensor

/// Everything a run's checkpoint saves and restores, and nothing else: the model, the best
/// parameters so far, the optimizer's and the estimator's state, the noise and shuffling
/// streams, and the record (metrics and counters). The gradients and the workspace are scratch.
public final class TrainingState {
    public let config: ExperimentConfig
    public let model: StochasticNetwork
    public let best: ParameterSet
    public let gradients: ParameterSet
    public let workspace: NetworkWorkspace
    public let estimator: any GradientEstimator
    public let optimizer: any Optimizer
    public let schedule: any TemperatureSchedule
    public let lrSchedule: any LearningRateSchedule
    public var noise: Xoshiro256
    public var shuffle: Xoshiro256
    public var record: RunRecord

    /// A fresh run: the model drawn from the initialisation stream of `config.seed`; `runner` runs
    /// the parts of every pass (one thread or two).
    public init(config: ExperimentConfig, runner: PartRunner = .serial) throws {
        self.config = config
        var initRNG = Xoshiro256(seed: config.seed, purpose: .initialization)
        model = config.network(rng: &initRNG)
        best = model.parameters.zerosLike()
        best.copy(from: model.parameters)
        gradients = model.makeGradients()
        workspace = NetworkWorkspace(
            model: model, capacityImages: config.batchSize, samples: config.samples.train, runner: runner)
        estimator = try Self.lookup(EstimatorRegistry.registry, config.estimator)
            .make(model: workspace, options: config.estimatorOptions)
        optimizer = try Self.lookup(OptimizerRegistry.registry, config.optimizer)
            .make(parameters: model.parameters, learningRate: Float(config.lr), options: config.optimizerOptions)
        schedule = try Self.lookup(ScheduleRegistry.registry, config.temperature.schedule).make(
            options: config.temperature.options)
        lrSchedule = try Self.lookup(LearningRateSchedules.registry, config.lrSchedule.schedule).make(
            options: config.lrSchedule.options)
        noise = Xoshiro256(seed: config.seed, purpose: .noise)
        shuffle = Xoshiro256(seed: config.seed, purpose: .shuffling)
        record = RunRecord(config: config, codeVersion: Provenance.codeVersion)
    }

    /// A registered component; a configuration built in code (not by `ConfigLoader`) may name
    /// one that does not exist.
    static func lookup<Entry>(_ registry: Registry<Entry>, _ name: String) throws -> Entry {
        guard let entry = registry.lookup(name) else { throw TrainingError(description: registry.unknownMessage(name)) }
        return entry
    }

    var checkpoint: ResultsFile.Checkpoint {
        .init(
            parameters: model.parameters, best: best, optimizer: optimizer.state, estimator: estimator.state,
            rngNoise: noise.stateWords, rngShuffle: shuffle.stateWords)
    }

    /// Writes the results file (record and checkpoint) atomically.
    public func save(to path: String) throws {
        try ResultsFile.write(record, checkpoint: checkpoint, to: path)
    }

    /// Restores the checkpoint of `path` in place, and its record with this run's configuration
    /// and code version (a resumed run continues as `running`).
    public func restore(from path: String, record saved: RunRecord) throws {
        let rng = try ResultsFile.restore(path, into: checkpoint)
        // xoshiro256**'s all-zero state is its fixed point: it would draw zeros for ever.
        for (name, words) in [("rng_noise", rng.noise), ("rng_shuffle", rng.shuffle)]
        where words.count != 4 || words.allSatisfy({ $0 == 0 }) {
            throw TrainingError(description: "\(path): checkpoint/\(name) is not a xoshiro256** state (four words, not all zero)")
        }
        for (group, set) in [("parameters", model.parameters), ("best", best)] {
            if let bad = set.firstNonFinite {
                throw TrainingError(description: "\(path): checkpoint/\(group)/\(bad) holds a NaN or infinity")
            }
        }
        noise = Xoshiro256(stateWords: rng.noise)
        shuffle = Xoshiro256(stateWords: rng.shuffle)
        record = saved
        record.config = config
        record.configJSON = config.json
        record.status = .running
        record.error = nil
        record.codeVersion = Provenance.codeVersion
    }
}
