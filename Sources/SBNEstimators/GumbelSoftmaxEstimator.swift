import SBNModel
import SBNOptions

/// `gs`: the Gumbel-Softmax estimator, biased but low-variance. Each hidden layer is relaxed and
/// backpropagated exactly: Bernoulli units as the binary Concrete h = σ((a + L)/τ), ∂h/∂a =
/// h(1 − h)/τ; categorical groups as y = softmax((a + g)/τ) (Jang et al. 2017 eq. 2). Relaxed in
/// training; evaluation uses exact samples.
public final class GumbelSoftmaxEstimator: PathwiseEstimator {
    public static let name = "gs"
    public static let summary = "Gumbel-Softmax / Concrete relaxation, softmax((a+g)/τ) (Jang et al. 2017)"
    public static let surrogate = UnitSurrogate.relaxed

    public let model: any LatentModel
    public init(model: any LatentModel, options: NoOptions) { self.model = model }
}
