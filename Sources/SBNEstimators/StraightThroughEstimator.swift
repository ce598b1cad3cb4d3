import SBNDistributions
import SBNModel
import SBNTensor

/// Straight-through: forward a Bernoulli sample z = 1[u < σ(a)], backward ∂z/∂a ≈ σ'(a) =
/// σ(a)(1 − σ(a)), i.e. the gradient of the mean, including the sigmoid derivative
/// (Bengio et al. 2013; Gu et al. 2016 eq. 4 and footnote 3).
public enum StraightThroughRule: StochasticUnitRule {
    public static var noise: UnitNoise { .uniform }

    @inlinable @inline(__always)
    public static func apply(logit a: Float, noise u: Float, temperature tau: Float) -> (value: Float, local: Float) {
        (Bernoulli.draw(logit: a, uniform: u), Bernoulli.meanDerivative(logit: a))
    }

    @inlinable @inline(__always)
    public static func apply(logits: UnsafePointer<Float>, noise: UnsafePointer<Float>, values: UnsafeMutablePointer<Float>,
                             local: UnsafeMutablePointer<Float>?, count: Int, temperature tau: Float) {
        Bernoulli.drawStraightThrough(logits: logits, uniforms: noise, into: values, derivative: local, count: count)
    }
}

/// `st`: the straight-through estimator.
public final class StraightThroughEstimator: PathwiseEstimator<StraightThroughRule>, GradientEstimator {
    public static let name = "st"
    public static let summary = "straight-through: Bernoulli forward, σ'(a) backward (Gu et al. 2016 fn. 3)"
}
