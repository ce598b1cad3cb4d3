import SBNModel
import SBNOptions

/// `st-annealed-chung`: slope-annealed straight-through with Chung et al. 2017's own binary unit
/// (§3.3 of the hierarchical multiscale RNN paper): forward, a sample of Bernoulli(hard_sigm(s·a)),
/// hard_sigm(x) = max(0, min(1, (x + 1)/2)); backward, the hard sigmoid's derivative s/2 ·
/// 1[|s·a| < 1]; s = 1/τ on the run's temperature schedule (the `slope` schedule is Chung et
/// al.'s pace). `st-annealed` differs only in its forward sample, Bernoulli(σ(a)), as Jang et al.
/// word it. The SBN is evaluated with its Bernoulli(σ(a)) units, so this estimator trains a
/// different forward distribution from the one tested: a surrogate, biased by construction.
/// Bernoulli layers only (a hard sigmoid has no K-way form that sums to one).
public final class StraightThroughChungEstimator: PathwiseEstimator {
    public static let name = "st-annealed-chung"
    public static let summary =
        "slope-annealed straight-through with Chung et al.'s unit: Bernoulli(hard sigmoid(s·a)) sample forward, hard sigmoid backward"
    public static let surrogate = UnitSurrogate.hardSigmoidSample

    public let model: any LatentModel
    public init(model: any LatentModel, options: NoOptions) { self.model = model }
}
