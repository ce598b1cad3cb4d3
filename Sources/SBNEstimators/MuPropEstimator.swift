import SBNDistributions
import SBNModel
import SBNOptions
import SBNTensor

/// `muprop`: MuProp (Gu et al. 2016, eq. 3 and Algorithm 1), unbiased. A deterministic
/// mean-field pass h̄_l = E[h_l | h̄_{l−1}] (one trunk from the input) gives f̄ = f(h̄) and
/// f̄′_l = ∂f̄/∂h̄_l. For hidden layer l the first-order Taylor expansion
/// b_l(h_l) = f̄ + f̄′_l (h_l − h̄_l) is the baseline, and its expectation's gradient is added back:
///
///   ∂a_l = ((f − b_l(h_l) − c_l) / max(1, σ_l)) · ∂log p(h_l)/∂a_l + ∂μ_l/∂a_lᵀ f̄′_l,
///
/// μ_l = E[h_l | h_{l−1}] = σ(a_l) or softmax(a_l) at the sampled chain's logits a_l. b_l is
/// linear in h_l with coefficients that depend on the input only, so the first term minus its
/// mean is what the second adds back: unbiased whatever c_l and σ_l are. c_l and σ_l² are moving
/// averages of the residual f − b_l and of its batch variance (MuProp-C-VN, Gu et al. 2016
/// Table 2; Jang et al. 2017 §4 found VN necessary). The decoder gets the pathwise gradient.
/// Every unit kind; m = 1 (the single-sample objective MuProp is defined for).
public final class MuPropEstimator: GradientEstimator {
    public struct Options: ComponentOptions {
        /// Centre each layer's residual learning signal by its moving average c_l ("C").
        public var movingAverage = true
        /// Divide it by max(vn_floor, σ_l), σ_l² a moving average of its variance ("VN").
        public var varianceNormalization = true
        /// Decay of the moving averages.
        @UnitInterval public var decay = 0.9
        /// VN divides by max(vn_floor, σ_l) (Mnih & Gregor 2014 use 1).
        @Positive public var vnFloor = 1.0
        public init() {}
    }

    public static let name = "muprop"
    public static let summary = "MuProp: mean-field Taylor baseline plus its analytic correction; unbiased (Gu et al. 2016)"
    /// Exact samples and their score; the mean field for its Taylor baseline.
    public static let requirements: UnitCapabilities = [.score, .meanField]
    public static let maxTrainingSamples: Int? = 1

    let model: any LatentModel
    /// The mean-field pass's own buffers.
    let meanField: any LatentModel
    let options: Options
    /// Per hidden layer l, the moving mean ("mean_layer<l>") and variance ("variance_layer<l>")
    /// of the residual, and how many batches have updated them.
    public let state: ComponentState
    private let meanKeys: [String], varianceKeys: [String]
    /// μ_l at the sampled chain's logits, its derivative, and ∂μ_lᵀ f̄′_l.
    private let mu: [Matrix], muLocal: [Matrix], correction: [Matrix]
    private let residual: UnsafeMutableBufferPointer<Double>

    public init(model: any LatentModel, options: Options) {
        self.model = model
        self.options = options
        let capacity = model.capacityImages
        meanField = model.companion()
        let layers = 1..<model.layerCount
        meanKeys = layers.map { "mean_layer\($0)" }
        varianceKeys = layers.map { "variance_layer\($0)" }
        var reals: [String: Double] = [:]
        for key in meanKeys + varianceKeys { reals[key] = 0 }
        state = ComponentState(integers: ["batches": 0], reals: reals)
        (mu, muLocal, correction) = (model.layerBuffers(), model.layerBuffers(), model.layerBuffers())
        residual = .allocate(capacity: capacity)
    }

    deinit { residual.deallocate() }

    public func estimate(_ batch: Batch, grads: ParameterSet, context: StepContext, using rng: inout Xoshiro256) -> Double {
        let ws = model
        let loss = ws.forward(batch, surrogate: .exact, temperature: 1, using: &rng)
        ws.backwardDecoder(grads: grads)
        meanField.forwardMean(batch)
        meanField.backwardUnits()
        for l in 1..<ws.layerCount { layerGradient(l) }
        ws.backwardHiddenLogits(batch, grads: grads)
        state.integers["batches", default: 0] += 1
        return loss
    }

    /// Fills ∂a_l (batch mean) for hidden layer l and updates its moving moments.
    private func layerGradient(_ l: Int) {
        let ws = model, n = ws.imageCount, cols = ws.width(l), layer = ws.units(of: l)
        // f − b_l(h_l) per image (m = 1: rows are images).
        for r in 0..<n {
            let h = ws.units[l].row(r), hBar = meanField.units[l].row(r), fPrime = meanField.gradUnits[l].row(r)
            var taylor = 0.0
            for c in 0..<cols { taylor += Double(fPrime[c]) * Double(h[c] - hBar[c]) }
            residual[r] = Double(ws.rowLoss[r]) - Double(meanField.rowLoss[r]) - taylor
        }
        let batchMean = (0..<n).reduce(0.0) { $0 + residual[$1] } / Double(n)
        let batchVariance = (0..<n).reduce(0.0) { $0 + pow2(residual[$1] - batchMean) } / Double(n)
        let (meanKey, varianceKey) = (meanKeys[l - 1], varianceKeys[l - 1])
        if state.integers["batches"] == 0 {
            state.reals[meanKey] = batchMean
            state.reals[varianceKey] = batchVariance
        }
        let centre = options.movingAverage ? state.reals[meanKey]! : 0
        let scale = options.varianceNormalization ? 1 / max(options.vnFloor, state.reals[varianceKey]!.squareRoot()) : 1
        // ∂μ_l/∂a_lᵀ f̄′_l through the kind's mean-field derivative at the sampled logits.
        mu[l].setRows(n)  // one call each: an array literal would allocate every step
        muLocal[l].setRows(n)
        correction[l].setRows(n)
        layer.sample(.mean, logits: ws.logits[l].pointer, noise: ws.logits[l].pointer, values: mu[l].pointer,
                     local: muLocal[l].pointer, rows: n, temperature: 1)
        layer.backward(.mean, gradValues: meanField.gradUnits[l].pointer, local: muLocal[l].pointer,
                       gradLogits: correction[l].pointer, rows: n, temperature: 1)
        let invB = 1 / Float(n)
        for r in 0..<n {
            let s = Float((residual[r] - centre) * scale)
            let g = ws.gradLogits[l].row(r), score = ws.local[l].row(r), fix = correction[l].row(r)
            for c in 0..<cols { g[c] = (s * score[c] + fix[c]) * invB }
        }
        let decay = options.decay
        let mean = decay * state.reals[meanKey]! + (1 - decay) * batchMean
        let variance = decay * state.reals[varianceKey]! + (1 - decay) * batchVariance
        state.reals[meanKey] = mean
        state.reals[varianceKey] = variance
    }
}
