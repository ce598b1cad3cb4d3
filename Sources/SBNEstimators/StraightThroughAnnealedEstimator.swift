import SBNModel
import SBNOptions

/// `st-annealed`: slope-annealed straight-through (Chung et al. 2017, §3.3; Jang et al. 2017's
/// "Annealed ST" column). Forward an exact sample; backward through a hard sigmoid
/// max(0, min(1, (s·a + 1)/2)) of slope s (Bernoulli units), s = 1/τ growing as the run's
/// temperature schedule lowers τ. The `slope` schedule follows Chung et al.'s pace,
/// s = min(5, 1 + 0.04·epoch) (`experiments/sbn-st-annealed.yaml`).
///
/// Categorical groups backpropagate through the softmax of s·a instead: a different family from
/// the Bernoulli hard sigmoid (Chung et al. define only the binary unit), chosen because a hard
/// sigmoid has no K-way form whose outputs sum to one. Chung et al.'s own unit also samples from
/// the hard sigmoid forward: that is `st-annealed-chung`; this one samples Bernoulli(σ(a)), as Jang
/// et al.'s wording has it.
public final class StraightThroughAnnealedEstimator: PathwiseEstimator {
    public static let name = "st-annealed"
    public static let summary =
        "slope-annealed straight-through: exact sample forward, hard sigmoid / softmax of slope 1/τ backward"
    public static let surrogate = UnitSurrogate.slopeAnnealed

    public let model: any LatentModel
    public init(model: any LatentModel, options: NoOptions) { self.model = model }
}
