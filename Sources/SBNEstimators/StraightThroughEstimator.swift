import SBNModel
import SBNOptions

/// `st`: straight-through. Forward an exact sample, backward through the derivative of its mean:
/// σ'(a) = σ(a)(1 − σ(a)) for Bernoulli units (Bengio et al. 2013; Gu et al. 2016 eq. 4 and
/// footnote 3), the softmax(a) Jacobian for categorical groups (Jang et al. 2017 §4.1).
public final class StraightThroughEstimator: PathwiseEstimator {
    public static let name = "st"
    public static let summary = "straight-through: exact sample forward, derivative of the mean (σ'(a) or softmax) backward"
    public static let surrogate = UnitSurrogate.straightThrough

    public let model: any LatentModel
    public init(model: any LatentModel, options: NoOptions) { self.model = model }
}
