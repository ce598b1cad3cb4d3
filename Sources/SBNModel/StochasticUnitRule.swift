import SBNDistributions
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
/// Rules are built from the per-unit functions of the SBNDistributions types (`Bernoulli`,
/// `BinaryConcrete`), whose samplers are tested statistically.
public protocol StochasticUnitRule {
    static var noise: UnitNoise { get }
    static func apply(logit a: Float, noise: Float, temperature tau: Float) -> (value: Float, local: Float)
    /// The rule over `count` consecutive units (a block of rows). The default loops over the
    /// per-unit `apply`; rules with a vectorised kernel implement it with that kernel, which
    /// must give the same values. `local` is nil when nothing will backpropagate (evaluation).
    static func apply(logits: UnsafePointer<Float>, noise: UnsafePointer<Float>, values: UnsafeMutablePointer<Float>,
                      local: UnsafeMutablePointer<Float>?, count: Int, temperature tau: Float)
}

extension StochasticUnitRule {
    @inlinable @inline(__always)
    public static func apply(logits: UnsafePointer<Float>, noise: UnsafePointer<Float>, values: UnsafeMutablePointer<Float>,
                             local: UnsafeMutablePointer<Float>?, count: Int, temperature tau: Float) {
        guard let local else {
            for i in 0..<count { values[i] = apply(logit: logits[i], noise: noise[i], temperature: tau).value }
            return
        }
        for i in 0..<count {
            let (v, g) = apply(logit: logits[i], noise: noise[i], temperature: tau)
            values[i] = v
            local[i] = g
        }
    }
}

/// An exact Bernoulli(σ(a)) draw z = 1[u < σ(a)] with its score z − σ(a) (Williams 1992).
/// Used for evaluation and for score-function estimators.
public enum HardBernoulliRule: StochasticUnitRule {
    public static var noise: UnitNoise { .uniform }

    @inlinable @inline(__always)
    public static func apply(logit a: Float, noise u: Float, temperature tau: Float) -> (value: Float, local: Float) {
        let z = Bernoulli.draw(logit: a, uniform: u)
        return (z, Bernoulli.score(z, logit: a))
    }

    @inlinable @inline(__always)
    public static func apply(logits: UnsafePointer<Float>, noise: UnsafePointer<Float>, values: UnsafeMutablePointer<Float>,
                             local: UnsafeMutablePointer<Float>?, count: Int, temperature tau: Float) {
        Bernoulli.draw(logits: logits, uniforms: noise, into: values, score: local, count: count)
    }
}
