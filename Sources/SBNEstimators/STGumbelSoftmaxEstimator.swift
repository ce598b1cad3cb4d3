import SBNDistributions
import SBNModel
import SBNTensor

/// Straight-through Gumbel-Softmax, binary case: forward the hard sample z = 1[a + L > 0]
/// (exactly Bernoulli(σ(a))), backward through the relaxed y = σ((a + L)/τ):
/// ∂z/∂a ≈ ∂y/∂a = y(1 − y)/τ (Jang et al. 2017 §2.2, "∇θ z ≈ ∇θ y").
public enum StraightThroughRelaxedRule: StochasticUnitRule {
    public static var noise: UnitNoise { .logistic }

    @inlinable @inline(__always)
    public static func apply(logit a: Float, noise l: Float, temperature tau: Float) -> (value: Float, local: Float) {
        let y = BinaryConcrete.relax(logit: a, noise: l, temperature: tau)
        return (BinaryConcrete.hard(logit: a, noise: l), BinaryConcrete.relaxedDerivative(y, temperature: tau))
    }

    @inlinable @inline(__always)
    public static func apply(logits: UnsafePointer<Float>, noise: UnsafePointer<Float>, values: UnsafeMutablePointer<Float>,
                             local: UnsafeMutablePointer<Float>?, count: Int, temperature tau: Float) {
        BinaryConcrete.relax(logits: logits, noise: noise, into: values, derivative: local, count: count, temperature: tau, hard: true)
    }
}

/// `st-gs`: straight-through Gumbel-Softmax.
public final class STGumbelSoftmaxEstimator: PathwiseEstimator<StraightThroughRelaxedRule>, GradientEstimator {
    public static let name = "st-gs"
    public static let summary = "straight-through Gumbel-Softmax: hard 1[a+L>0] forward, relaxed gradient (Jang et al. 2017)"
}
