import SBNDistributions
import SBNModel
import SBNOptions
import SBNTensor

/// `disarm`: DisARM (Dong, Mnih & Tucker 2020, eq. 9), ARM's antithetic pair with the
/// uniform integrated out given the pair, which lowers the variance. With b = 1[u < σ(a)] and
/// b̃ = 1[1 − u < σ(a)] per unit,
///
///   ∂E[f]/∂a_j ≈ ½ (f(b) − f(b̃)) · (−1)^{b̃_j} · 1[b_j ≠ b̃_j] · σ(|a_j|),
///
/// unbiased. Same downstream evaluations as `arm` (`AntitheticPairs`); Bernoulli layers, m = 1.
public final class DisARMEstimator: AntitheticEstimator {
    public static let name = "disarm"
    public static let summary = "DisARM: ARM's antithetic pair with the noise integrated out (Dong et al. 2020)"

    public let pairs: AntitheticPairs

    public init(model: any LatentModel, options: NoOptions) {
        pairs = AntitheticPairs(model: model)
    }

    /// ½ (f(b) − f(b̃)) / B.
    @inlinable @inline(__always)
    public static func rowFactor(sample f: Float, antithetic fTilde: Float, scale: Float) -> Float { 0.5 * (f - fTilde) * scale }

    /// The units where the pair differs carry (−1)^{b̃} σ(|a|); the others nothing.
    @inlinable @inline(__always)
    public static func unit(_ rowFactor: Float, uniform u: Float, logit a: Float) -> Float {
        let b = Bernoulli.draw(logit: a, uniform: u), bTilde = Bernoulli.draw(logit: a, uniform: 1 - u)
        guard b != bTilde else { return 0 }
        return rowFactor * (bTilde == 1 ? -1 : 1) * FastMath.sigmoid(abs(a))
    }
}
