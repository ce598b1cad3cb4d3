import SBNDistributions
import SBNModel
import SBNOptions
import SBNTensor

/// `arm`: the Augment-REINFORCE-Merge estimator (Yin & Zhou 2019, eq. 5), unbiased and
/// antithetic. For hidden layer l with logits a and one uniform vector u,
///
///   ∂E[f]/∂a = E_u[(f(1[u > σ(−a)]) − f(1[u < σ(a)])) · (u − ½)],
///
/// where each f is the downstream loss with layer l fixed to that configuration and the layers
/// below it sampled afresh (as the reference code does for the first layer); see `AntitheticPairs`.
public final class ARMEstimator: AntitheticEstimator {
    public static let name = "arm"
    public static let summary = "ARM: antithetic, unbiased score-function estimator (Yin & Zhou 2019)"

    public let pairs: AntitheticPairs

    public init(model: any LatentModel, options: NoOptions) {
        pairs = AntitheticPairs(model: model)
    }

    /// (f(b̃) − f(b)) / B, then times (u − ½) per unit (eq. 5).
    @inlinable @inline(__always)
    public static func rowFactor(sample f: Float, antithetic fTilde: Float, scale: Float) -> Float { (fTilde - f) * scale }

    @inlinable @inline(__always)
    public static func unit(_ rowFactor: Float, uniform u: Float, logit a: Float) -> Float { rowFactor * (u - 0.5) }
}
