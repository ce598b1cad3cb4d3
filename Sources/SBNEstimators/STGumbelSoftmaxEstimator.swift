import SBNModel
import SBNOptions

/// `st-gs`: straight-through Gumbel-Softmax. Forward the exact sample argmax(a + g) (Bernoulli:
/// 1[a + L > 0]), backward through the relaxed softmax((a + g)/τ) of the same noise:
/// "∇θ z ≈ ∇θ y" (Jang et al. 2017 §2.2).
public final class STGumbelSoftmaxEstimator: PathwiseEstimator {
    public static let name = "st-gs"
    public static let summary = "straight-through Gumbel-Softmax: hard argmax(a+g) forward, relaxed gradient (Jang et al. 2017)"
    public static let surrogate = UnitSurrogate.straightThroughRelaxed

    public let model: any LatentModel
    public init(model: any LatentModel, options: NoOptions) { self.model = model }
}
