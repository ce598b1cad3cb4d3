import CKernels
import RealModule
import SBNTensor

/// Binary Concrete / Gumbel-sigmoid relaxation of Bernoulli(σ(a)) at temperature τ
/// (Maddison et al. 2017, Prop. 2; Jang et al. 2017, eq. 2 with k = 2).
///
/// rsample: y = σ((a + L)/τ) with L ~ Logistic(0, 1). Thresholding, 1[a + L > 0], gives an exact
/// Bernoulli(σ(a)) sample at any τ. Densities are computed in logit space, where they stay finite
/// even when y rounds to 0 or 1 (pytorch#18254, tfp#1738).
public struct BinaryConcrete {
    public let logits: Matrix
    public let temperature: Float

    public init(logits: Matrix, temperature: Float) {
        precondition(temperature > 0, "BinaryConcrete: temperature must be > 0, got \(temperature)")
        self.logits = logits
        self.temperature = temperature
    }

    /// y = σ((a + L)/τ); the logistic noise L is written to `noise` so that the caller can
    /// threshold or differentiate with the same draw.
    public func rsample(into y: Matrix, noise: Matrix, using rng: inout Xoshiro256) {
        Logistic.sample(into: noise, using: &rng)
        relax(noise: noise, into: y)
    }

    /// y = σ((a + L)/τ) for given noise L (deterministic: used by the gradient checks).
    public func relax(noise: Matrix, into y: Matrix) {
        precondition(y.count == logits.count && noise.count == logits.count, "BinaryConcrete: size mismatch")
        Self.relax(
            logits: logits.pointer, noise: noise.pointer, into: y.pointer, derivative: nil, count: y.count,
            temperature: temperature)
    }

    // Per-unit functions: the block kernel below, one unit at a time (tested bit for bit against
    // it through `BernoulliUnits`), so that the tested sampler is the code that trains.

    /// y = σ((a + L)/τ) (Maddison et al. 2017, Prop. 2; Jang et al. 2017 eq. 2 with k = 2).
    @inlinable @inline(__always)
    public static func relax(logit a: Float, noise l: Float, temperature tau: Float) -> Float {
        FastMath.sigmoid((a + l) / tau)
    }

    /// `relax` (or with `hard`, `hard`) and, when `derivative` is given, `relaxedDerivative` of
    /// the relaxed value over `count` units, vectorised (CKernels): what the `gs` and `st-gs`
    /// Bernoulli surrogates run.
    @inlinable
    public static func relax(
        logits: UnsafePointer<Float>, noise: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
        derivative: UnsafeMutablePointer<Float>?, count: Int, temperature tau: Float, hard: Bool = false
    ) {
        sbn_binary_concrete(logits, noise, y, derivative, count, tau, hard ? 1 : 0)
    }

    /// ∂y/∂a = y(1 − y)/τ for y = σ((a + L)/τ).
    @inlinable @inline(__always)
    public static func relaxedDerivative(_ y: Float, temperature tau: Float) -> Float { y * (1 - y) / tau }

    /// The τ → 0 limit 1[a + L > 0]: exactly Bernoulli(σ(a)) at any τ (Maddison et al. 2017, Prop. 1).
    @inlinable @inline(__always)
    public static func hard(logit a: Float, noise l: Float) -> Float { a + l > 0 ? 1 : 0 }

    /// Log-density of the pre-sigmoid variable X = (a + L)/τ, a logistic with location a/τ and
    /// scale 1/τ: log p(x) = log τ − τx + a − 2·softplus(a − τx).
    public static func logDensityLogit(_ x: Double, logit a: Double, temperature tau: Double) -> Double {
        .log(tau) - tau * x + a - 2 * softplus(a - tau * x)
    }

    /// Log-density of y ∈ (0, 1): log p_X(logit y) − log y − log(1 − y), all in logit space.
    public static func logDensity(_ y: Double, logit a: Double, temperature tau: Double) -> Double {
        let x = Double.log(y) - Double.log(onePlus: -y)
        return logDensityLogit(x, logit: a, temperature: tau) + softplus(-x) + softplus(x)
    }

    static func softplus(_ x: Double) -> Double { Swift.max(x, 0) + .log(onePlus: .exp(-Swift.abs(x))) }
}
