import SBNModel
import SBNOptions

/// `taylor-half`: Gu et al. 2016's "1/2" estimator (MuProp paper, eqs. 5–7), which this project
/// called `darn` until the paper's DARN column was settled (see `DARNEstimator`). Unit by unit,
/// the learning signal is a first-order Taylor term around h̄ = ½ (Bernoulli) or 1/K
/// (categorical) with f′ taken at the sample, and MuProp's correction is dropped: per unit,
///
///   ∂a_lj ≈ f′_lj (h_lj − h̄) · ∂log p(h_lj)/∂a_lj,
///
/// backpropagated layer to layer like straight-through (`UnitSurrogate.taylor`). f′ is taken at
/// the sample, through the layers above, because a discrete network has no derivative at h̄
/// without a surrogate of its own; this keeps it at ST's cost. No scalar learning signal, so no
/// centring or variance normalization. For a loss linear in h_l the estimate is exact in
/// expectation (the weight's mean is σ′(a), or the softmax Jacobian); the curvature makes it
/// biased, which `ExactGradientTests` measures.
public final class TaylorHalfEstimator: PathwiseEstimator {
    public static let name = "taylor-half"
    public static let summary =
        "Gu et al.'s 1/2 estimator: per-unit Taylor term around 1/2 (or 1/K) times the score, backpropagated; biased"
    public static let surrogate = UnitSurrogate.taylor

    public let model: any LatentModel
    public init(model: any LatentModel, options: NoOptions) { self.model = model }
}
