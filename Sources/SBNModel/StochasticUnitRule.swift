import SBNTensor

/// Which noise a unit rule consumes: Uniform(0,1) or Logistic(0,1) = log U − log(1 − U).
public enum UnitNoise: Sendable {
    case uniform
    case logistic
}

/// How one stochastic binary unit turns its logit a and a noise draw into the value passed
/// forward and a local quantity the backward pass uses (a surrogate derivative ∂h/∂a for
/// pathwise estimators, the score ∂log p(h)/∂a for score-function ones).
///
/// Implemented as a static, generic-specialised function so that the per-unit loop inlines.
public protocol StochasticUnitRule {
    static var noise: UnitNoise { get }
    static func apply(logit a: Float, noise: Float, temperature tau: Float) -> (value: Float, local: Float)
}

/// An exact Bernoulli(σ(a)) draw z = 1[u < σ(a)] with its score z − σ(a) (Williams 1992).
/// Used for evaluation and for score-function estimators.
public enum HardBernoulliRule: StochasticUnitRule {
    public static var noise: UnitNoise { .uniform }

    @inlinable @inline(__always)
    public static func apply(logit a: Float, noise u: Float, temperature tau: Float) -> (value: Float, local: Float) {
        let p = FastMath.sigmoid(a)
        let z: Float = u < p ? 1 : 0
        return (z, z - p)
    }
}
