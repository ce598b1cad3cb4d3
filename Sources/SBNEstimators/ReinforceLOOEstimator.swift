import SBNDistributions
import SBNModel
import SBNOptions
import SBNTensor

/// `reinforce-loo`: REINFORCE with the leave-one-out baseline over m ≥ 2 samples per image
/// (Kool et al. 2019; Dong et al. 2020's "REINFORCE LOO"), for the single-sample objective
/// E[f(h)] that Table 1 trains (m samples estimate it; they are not the multi-sample bound VIMCO
/// trains):
///
///   ĝ = (1/m) Σ_i (f_i − (1/(m − 1)) Σ_{j≠i} f_j) ∇log p(h_i),
///
/// the special case of VIMCO's leave-one-out signal for a loss that is a plain mean over samples.
/// Unbiased; the decoder gets (1/m) Σ_i ∇f_i. Its cost is m forward passes, so m = 2 compares
/// with DisARM's antithetic pair. Every unit kind.
public final class ReinforceLOOEstimator: GradientEstimator {
    public static let name = "reinforce-loo"
    public static let summary =
        "REINFORCE with leave-one-out baselines over m samples of the single-sample objective (Kool et al. 2019)"
    public static let requirements = UnitCapabilities.score
    public static let minTrainingSamples = 2
    public static let estimatesSingleSampleObjective = true

    let loo: LeaveOneOutSignals
    public let state = ComponentState.none

    public init(model: any LatentModel, options: NoOptions) {
        loo = LeaveOneOutSignals(model: model)
    }

    /// Returns the batch mean of (1/m) Σ_i f_i, the objective it estimates.
    public func estimate(_ batch: Batch, grads: ParameterSet, context: StepContext, using rng: inout Xoshiro256) -> Double {
        let ws = loo.model, signal = loo.signal, m = ws.samples
        var total = 0.0
        // Each sample's own loss weighs the decoder 1/m (not the multi-sample bound's posterior weights).
        _ = loo.estimate(batch, grads: grads, uniformWeights: true, using: &rng) { b in
            let base = b * m
            var sum = 0.0
            for i in 0..<m { sum += Double(ws.rowLoss[base + i]) }
            total += sum / Double(m)
            for i in 0..<m {
                let f = Double(ws.rowLoss[base + i])
                signal[base + i] = Float((f - (sum - f) / Double(m - 1)) / Double(m))
            }
        }
        return total / Double(ws.imageCount)
    }
}
