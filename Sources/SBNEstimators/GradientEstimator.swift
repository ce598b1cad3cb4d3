import SBNDistributions
import SBNModel
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
/// values, noise and local derivatives; replaying a layer with other values (`applyRule`) to get
/// the downstream loss at several configurations (MuProp's mean-field pass, ARM's antithetic
/// pair, leave-one-out over m samples); and pathwise or per-row learning-signal backward passes.
/// Trainable state of its own (baseline networks, running moments) goes in `state`, which
/// checkpoints save and restore in place.
public protocol GradientEstimator: AnyObject {
    /// The registry key used in experiment files.
    static var name: String { get }
    /// One line for `sbnlab list`.
    static var summary: String { get }
    /// Option keys accepted under `estimator_options`.
    static var optionKeys: [String] { get }

    init(workspace: SBNWorkspace, options: EstimatorOptions) throws

    /// Estimates the gradient of the batch-mean loss, accumulating it into `grads` (zeroed by
    /// the caller), and returns the batch-mean loss.
    func estimate(_ batch: Batch, grads: ParameterSet, context: StepContext, using rng: inout Xoshiro256) -> Double

    /// Estimator-owned state for checkpoints (empty for stateless estimators).
    var state: ParameterSet { get }
}

extension GradientEstimator {
    public static var optionKeys: [String] { [] }
}

/// Estimators that backpropagate through every layer with a per-unit surrogate derivative. They
/// differ only in their `StochasticUnitRule`, so each is a subclass that names its rule and
/// registry entry: `final class X: PathwiseEstimator<SomeRule>, GradientEstimator`.
open class PathwiseEstimator<Rule: StochasticUnitRule> {
    public let workspace: SBNWorkspace
    public let state = ParameterSet([])

    public required init(workspace: SBNWorkspace, options: EstimatorOptions) throws {
        self.workspace = workspace
    }

    public func estimate(_ batch: Batch, grads: ParameterSet, context: StepContext, using rng: inout Xoshiro256) -> Double {
        let loss = workspace.forward(batch, rule: Rule.self, temperature: context.temperature, using: &rng)
        workspace.backwardPathwise(batch, grads: grads)
        return loss
    }
}
