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

/// A gradient estimator for the SBN's expected multi-sample loss
/// E[−log (1/m) Σ_i p(x_bottom | h_i)] (Raiko et al. 2014; Gu et al. 2016).
///
/// Every estimator sits on the same model and the same `SBNWorkspace` building blocks
/// (tensorflow/models research/rebar does the same with classes), and is chosen by name through
/// `EstimatorRegistry`. The workspace gives an estimator what later ones need: per-layer logits,
/// values, noise and local derivatives; replaying a layer with other values (`applyLayer`) to get
/// the downstream loss at several configurations (ARM's antithetic
/// pair, leave-one-out over m samples); and pathwise or per-row learning-signal backward passes.
/// Trainable state of its own (baseline networks, running moments) goes in `state`, which
/// checkpoints save and restore in place.
public protocol GradientEstimator: Component, AnyObject {
    /// `Options` (from `Component`) is what `estimator_options` may set, with its defaults.
    init(workspace: SBNWorkspace, options: Options) throws

    /// Estimates the gradient of the batch-mean loss, accumulating it into `grads` (zeroed by
    /// the caller), and returns the batch-mean loss.
    func estimate(_ batch: Batch, grads: ParameterSet, context: StepContext, using rng: inout Xoshiro256) -> Double

    /// Estimator-owned state for checkpoints (empty for stateless estimators).
    var state: ComponentState { get }

    /// How the estimator samples the hidden layers (`UnitSurrogate`).
    static var surrogate: UnitSurrogate { get }

    /// Whether it can train a layer of this kind. By default: every kind, since every kind
    /// implements every surrogate; estimators tied to one kind's algebra (ARM's antithetic
    /// uniforms) say so.
    static func supports(_ units: any StochasticUnits) -> Bool

    /// The largest m of the training objective it handles (nil: any).
    static var maxTrainingSamples: Int? { get }

    /// The smallest m it needs (VIMCO's leave-one-out needs two samples).
    static var minTrainingSamples: Int { get }

    /// Whether its m samples estimate the single-sample objective E[f(h)] (reinforce-loo) rather
    /// than the m-sample bound: what its estimates are to be compared with.
    static var estimatesSingleSampleObjective: Bool { get }
}

extension GradientEstimator {
    public static func supports(_ units: any StochasticUnits) -> Bool { true }
    public static var maxTrainingSamples: Int? { nil }
    public static var minTrainingSamples: Int { 1 }
    public static var estimatesSingleSampleObjective: Bool { false }

    /// What it trains, for `sbnlab list`: the unit kinds it supports and its range of m.
    public static var applicability: String {
        let kinds = UnitKinds.examples.filter { supports($0) }.map { type(of: $0).kind }
        let m = maxTrainingSamples.map { $0 == minTrainingSamples ? "m = \($0)" : "\(minTrainingSamples) ≤ m ≤ \($0)" }
            ?? (minTrainingSamples > 1 ? "m ≥ \(minTrainingSamples)" : "any m")
        return "units: \(kinds.joined(separator: ", ")); \(m)"
    }

    /// Builds the estimator from a configuration's options (decoded for this type by the loader).
    public static func make(workspace: SBNWorkspace, options: AnyOptions) throws -> any GradientEstimator {
        guard let typed = options.as(Options.self) else { preconditionFailure("\(name): options of another estimator") }
        return try Self(workspace: workspace, options: typed)
    }
}

/// Estimators that backpropagate through every layer: each layer's unit kind samples with the
/// estimator's `surrogate` and differentiates it (`StochasticUnits.backward`). They differ only
/// in the surrogate, so each is a class that names it and its registry entry.
public protocol PathwiseEstimator: GradientEstimator where Options == NoOptions {
    var workspace: SBNWorkspace { get }
}

extension PathwiseEstimator {
    public var state: ComponentState { .none }

    public func estimate(_ batch: Batch, grads: ParameterSet, context: StepContext, using rng: inout Xoshiro256) -> Double {
        let loss = workspace.forward(batch, surrogate: Self.surrogate, temperature: context.temperature, using: &rng)
        workspace.backwardPathwise(batch, grads: grads)
        return loss
    }
}
