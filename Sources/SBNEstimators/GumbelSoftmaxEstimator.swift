import SBNDistributions
import SBNModel
import SBNTensor

/// Binary Concrete relaxation: h = σ((a + L)/τ), L ~ Logistic(0,1), so ∂h/∂a = h(1 − h)/τ
/// (Jang et al. 2017 eq. 2 with k = 2; Maddison et al. 2017). Relaxed in training; evaluation
/// uses hard samples.
public enum RelaxedBernoulliRule: StochasticUnitRule {
    public static var noise: UnitNoise { .logistic }

    @inlinable @inline(__always)
    public static func apply(logit a: Float, noise l: Float, temperature tau: Float) -> (value: Float, local: Float) {
        let y = BinaryConcrete.relax(logit: a, noise: l, temperature: tau)
        return (y, BinaryConcrete.relaxedDerivative(y, temperature: tau))
    }

    @inlinable @inline(__always)
    public static func apply(logits: UnsafePointer<Float>, noise: UnsafePointer<Float>, values: UnsafeMutablePointer<Float>,
                             local: UnsafeMutablePointer<Float>?, count: Int, temperature tau: Float) {
        BinaryConcrete.relax(logits: logits, noise: noise, into: values, derivative: local, count: count, temperature: tau)
    }
}

/// `gs`: the Gumbel-Softmax (binary Concrete) estimator, biased but low-variance.
public final class GumbelSoftmaxEstimator: PathwiseEstimator<RelaxedBernoulliRule>, GradientEstimator {
    public static let name = "gs"
    public static let summary = "Gumbel-Softmax / binary Concrete relaxation, h = σ((a+L)/τ) (Jang et al. 2017)"
}
