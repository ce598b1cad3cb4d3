import SBNModel
import SBNOptions

/// `st-annealed`: slope-annealed straight-through (Chung et al. 2017, §3.3; Jang et al. 2017's
/// "Annealed ST" column). Forward an exact sample; backward through a hard sigmoid
/// max(0, min(1, (s·a + 1)/2)) of slope s (Bernoulli units) or the softmax of s·a (categorical
/// groups), s = 1/τ growing as the run's temperature schedule lowers τ.
///
/// The paper gives no schedule. `experiments/sbn-st-annealed.yaml` lowers τ exponentially from 1
/// to 0.2 (slope 1 → 5) over the first half of training, the range and pace of Chung et al.'s
/// s = min(5, 1 + 0.04·epoch).
public final class StraightThroughAnnealedEstimator: PathwiseEstimator {
    public static let name = "st-annealed"
    public static let summary = "slope-annealed straight-through: exact sample forward, hard sigmoid / softmax of slope 1/τ backward"
    public static let surrogate = UnitSurrogate.slopeAnnealed

    public let model: any LatentModel
    public init(model: any LatentModel, options: NoOptions) { self.model = model }
}
