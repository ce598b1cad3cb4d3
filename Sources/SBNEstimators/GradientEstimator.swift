import SBNDistributions
import SBNModel
import SBNOptions
import SBNTensor

/// What an estimator may read at each step besides the batch.
public struct StepContext: Sendable {
    public var step: Int
    public var temperature: Float
    public var learningRate: Float
    public init(step: Int, temperature: Float, learningRate: Float) {
        self.step = step
        self.temperature = temperature
        self.learningRate = learningRate
    }
}

/// A gradient estimator for a model's expected m-sample loss E[−log (1/m) Σ_i exp(−f(h_i))]
/// (Raiko et al. 2014; Gu et al. 2016; Burda et al. 2016 for the VAE's bound).
///
/// Every estimator is written against `LatentModel` only (tensorflow/models research/rebar and
/// google-research disarm do the same with classes), so it trains every model family, and is
/// chosen by name through `EstimatorRegistry`. The model gives an estimator what later ones need:
/// per-layer logits, values, noise and local derivatives; replaying a layer with other values
/// (`applyLayer`) to get the downstream loss at several configurations (ARM's antithetic
/// pair, leave-one-out over m samples); and pathwise or per-row learning-signal backward passes.
/// Trainable state of its own (baseline networks, running moments) goes in `state`, which
/// checkpoints save and restore in place.
public protocol GradientEstimator: Component, AnyObject {
    /// `Options` (from `Component`) is what `estimator_options` may set, with its defaults.
    /// Called only for models that `Applicability.problem` accepts.
    init(model: any LatentModel, options: Options) throws

    /// Estimates the gradient of the batch-mean loss, accumulating it into `grads` (zeroed by
    /// the caller), and returns the batch-mean loss.
    func estimate(_ batch: Batch, grads: ParameterSet, context: StepContext, using rng: inout Xoshiro256) -> Double

    /// Estimator-owned state for checkpoints (empty for stateless estimators).
    var state: ComponentState { get }

    /// What it needs of every stochastic layer's unit kind; it trains exactly the kinds whose
    /// `capabilities` include these. No default: each estimator states its own.
    static var requirements: UnitCapabilities { get }

    /// The largest m of the training objective it handles (nil: any).
    static var maxTrainingSamples: Int? { get }

    /// The smallest m it needs (VIMCO's leave-one-out needs two samples).
    static var minTrainingSamples: Int { get }

    /// Whether its m samples estimate the single-sample objective E[f(h)] (reinforce-loo) rather
    /// than the m-sample bound: what its estimates are to be compared with.
    static var estimatesSingleSampleObjective: Bool { get }

    /// What it needs of the model's stochastic layers as a whole beyond each kind's capabilities
    /// (exact marginalisation: one small categorical variable), as the reason it refuses these.
    static func layersProblem(_ units: [any StochasticUnits]) -> String?
}

extension GradientEstimator {
    public static var maxTrainingSamples: Int? { nil }
    public static var minTrainingSamples: Int { 1 }
    public static var estimatesSingleSampleObjective: Bool { false }
    public static func layersProblem(_ units: [any StochasticUnits]) -> String? { nil }

    /// Whether it can train a layer of this kind: inclusion of its requirements in the kind's capabilities.
    public static func supports(_ units: any StochasticUnits) -> Bool {
        type(of: units).capabilities.isSuperset(of: requirements)
    }

    /// What it trains, for `sbnlab list`: the model families (every family is a `LatentModel`,
    /// so all of them), the unit kinds it supports and its range of m.
    public static var applicability: String {
        let kinds = UnitKinds.all.filter { $0.capabilities.isSuperset(of: requirements) && layersProblem([$0.example]) == nil }
            .map { $0.kind }
        let m =
            maxTrainingSamples.map { $0 == minTrainingSamples ? "m = \($0)" : "\(minTrainingSamples) ≤ m ≤ \($0)" }
            ?? (minTrainingSamples > 1 ? "m ≥ \(minTrainingSamples)" : "any m")
        return "families: \(ModelFamilies.registry.names.joined(separator: ", ")); units: \(kinds.joined(separator: ", ")); \(m)"
    }

    /// Builds the estimator from a configuration's options (decoded for this type by the loader),
    /// after the one applicability check.
    public static func make(model: any LatentModel, options: AnyOptions) throws -> any GradientEstimator {
        guard let typed = options.as(Options.self) else { preconditionFailure("\(name): options of another estimator") }
        if let problem = Applicability.problem(Self.self, units: model.stochasticUnits, samples: model.samples) {
            throw Applicability.Refused(description: "\(problem.path): \(problem.message)")
        }
        return try Self(model: model, options: typed)
    }
}

/// The one check of whether an estimator applies to a model's layers and m: used by the
/// configuration loader, `diagnostics:`, `gradstats` and `make`, so they refuse the same things
/// with the same words.
public enum Applicability {
    public struct Refused: Error, CustomStringConvertible { public let description: String }

    /// The first problem as (key path, message), or nil.
    public static func problem(
        _ estimator: any GradientEstimator.Type, units: [any StochasticUnits],
        samples: Int
    ) -> (path: String, message: String)? {
        for (i, layer) in units.enumerated() where !estimator.supports(layer) {
            let missing = estimator.requirements.subtracting(type(of: layer).capabilities)
            return (
                "estimator",
                "\(estimator.name) does not support \(type(of: layer).kind) layers (layers[\(i + 1)] is \(layer); "
                    + "it needs \(missing))"
            )
        }
        if let problem = estimator.layersProblem(units) { return ("layers", "\(estimator.name): \(problem)") }
        if let most = estimator.maxTrainingSamples, samples > most {
            return ("samples.train", "\(estimator.name) supports m ≤ \(most), got \(samples)")
        }
        if samples < estimator.minTrainingSamples {
            return ("samples.train", "\(estimator.name) needs m ≥ \(estimator.minTrainingSamples), got \(samples)")
        }
        return nil
    }
}

/// Estimators that backpropagate through every layer: each layer's unit kind samples with the
/// estimator's `surrogate` and differentiates it (`StochasticUnits.backward`). They differ only
/// in the surrogate, so each is a class that names it and its registry entry.
public protocol PathwiseEstimator: GradientEstimator where Options == NoOptions {
    var model: any LatentModel { get }
    /// How it samples the hidden layers and what its backward pass goes through.
    static var surrogate: UnitSurrogate { get }
}

extension PathwiseEstimator {
    public var state: ComponentState { .none }

    /// What its surrogate needs of a unit kind.
    public static var requirements: UnitCapabilities {
        switch surrogate {
        case .exact: .score
        case .relaxed, .straightThroughRelaxed: .relaxation
        case .straightThrough, .slopeAnnealed: .straightThrough
        case .hardSigmoidSample: .hardSigmoid
        case .mean: .meanField
        case .taylor: .taylor
        }
    }

    public func estimate(_ batch: Batch, grads: ParameterSet, context: StepContext, using rng: inout Xoshiro256) -> Double {
        let loss = model.forward(batch, surrogate: Self.surrogate, temperature: context.temperature, using: &rng)
        model.backwardPathwise(batch, grads: grads)
        return loss
    }
}
