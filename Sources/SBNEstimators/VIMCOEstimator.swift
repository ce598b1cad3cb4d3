import RealModule
import SBNDistributions
import SBNModel
import SBNOptions
import SBNTensor

/// `vimco`: VIMCO (Mnih & Rezende 2016, eq. 10) for the multi-sample loss
/// ℓ = −L, L = log (1/m) Σ_i w_i, w_i = p(x_bottom | h_i): each sample's score is weighted by its
/// own leave-one-out learning signal
///
///   s_i = ℓ − ℓ_{−i},  ℓ_{−i} = −log (1/m) (Σ_{j≠i} w_j + ŵ_{−i}),  log ŵ_{−i} = mean_{j≠i} log w_j,
///
/// (the geometric mean of the others stands in for w_i), so the signal of sample i depends on the
/// others only and the estimator is unbiased; the decoder gets the normalised weights' pathwise
/// gradient. Needs m ≥ 2. Every unit kind (the score is the kind's own).
public final class VIMCOEstimator: GradientEstimator {
    public static let name = "vimco"
    public static let summary = "VIMCO: multi-sample score function with leave-one-out baselines (Mnih & Rezende 2016)"
    public static let requirements = UnitCapabilities.score
    public static let minTrainingSamples = 2

    let loo: LeaveOneOutSignals
    public let state = ComponentState.none

    public init(model: any LatentModel, options: NoOptions) {
        loo = LeaveOneOutSignals(model: model)
    }

    public func estimate(_ batch: Batch, grads: ParameterSet, context: StepContext, using rng: inout Xoshiro256) -> Double {
        loo.estimate(batch, grads: grads, uniformWeights: false, using: &rng) { leaveOneOutSignals(image: $0) }
    }

    /// s_i = ℓ − ℓ_{−i} for the m samples of image b, in double precision, log-sum-exp stabilised.
    private func leaveOneOutSignals(image b: Int) {
        let ws = loo.model, signal = loo.signal, m = ws.samples, base = b * m
        var sumLog = 0.0
        for j in 0..<m { sumLog -= Double(ws.rowLoss[base + j]) }
        for i in 0..<m {
            let logWi = -Double(ws.rowLoss[base + i])
            let geometric = (sumLog - logWi) / Double(m - 1)
            var top = geometric
            for j in 0..<m where j != i { top = max(top, -Double(ws.rowLoss[base + j])) }
            var total = Double.exp(geometric - top)
            for j in 0..<m where j != i { total += .exp(-Double(ws.rowLoss[base + j]) - top) }
            let withoutI = top + .log(total) - .log(Double(m))  // L_{−i}
            signal[base + i] = Float(ws.imageLoss[b] + withoutI)
        }
    }
}
