import SBNModel
import SBNOptions

/// `darn`: the DARN estimator (Gregor et al. 2014), as Gu et al. 2016 §3.3 and Jang et al. 2017
/// §3.2 describe it: the first-order Taylor baseline b(h) = f(h̄) + f′(h̄)(h − h̄) around
/// h̄ = ½ (Bernoulli) or 1/K (categorical), with MuProp's correction term dropped. Of the
/// learning signal only the Taylor term is kept, so each layer's logit gradient is
///
///   ∂a_l ≈ ⟨f′, h_l − h̄⟩ · ∂log p(h_l)/∂a_l,
///
/// backpropagated layer to layer like straight-through (`UnitSurrogate.taylor`). f′ is taken at
/// the sample, through the layers above, because a discrete network has no derivative at h̄
/// without a surrogate of its own; this keeps DARN at ST's cost. For a loss linear in h_l the
/// estimate is exact in expectation (the weight's mean is σ′(a), or the softmax Jacobian); the
/// curvature makes it biased, which `ExactGradientTests` measures.
public final class DARNEstimator: PathwiseEstimator {
    public static let name = "darn"
    public static let summary = "DARN: first-order Taylor signal around 1/2 (or 1/K) times the score, backpropagated; biased"
    public static let surrogate = UnitSurrogate.taylor

    public let model: any LatentModel
    public init(model: any LatentModel, options: NoOptions) { self.model = model }
}
