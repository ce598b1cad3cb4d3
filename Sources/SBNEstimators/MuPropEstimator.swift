import SBNDistributions
import SBNModel
import SBNOptions
import SBNTensor

/// `muprop`: MuProp (Gu et al. 2016, eq. 3 and Algorithm 1), unbiased in direction. A
/// deterministic mean-field pass h̄_l = E[h_l | h̄_{l−1}] (one trunk from the input) gives
/// f̄ = f(h̄) and f̄′_l = ∂f̄/∂h̄_l. For hidden layer l the first-order Taylor expansion
/// b_l(h_l) = f̄ + f̄′_l (h_l − h̄_l) is the baseline, and its expectation's gradient is added back:
///
///   ∂a_l = [ (f − b_l(h_l) − c_l) · ∂log p(h_l)/∂a_l + ∂μ_l/∂a_lᵀ f̄′_l ] / max(vn_floor, σ_l),
///
/// μ_l = E[h_l | h_{l−1}] = σ(a_l) or softmax(a_l) at the sampled chain's logits a_l. b_l is
/// linear in h_l with coefficients that depend on the input only, so the first term minus its
/// mean is what the second adds back: the bracket is unbiased whatever c_l is. c_l and σ_l² are
/// moving averages of the residual f − b_l and of its batch variance (MuProp-C-VN, Gu et al. 2016
/// Table 2; Jang et al. 2017 §4 found VN necessary), from earlier batches only.
///
/// Variance normalization divides the whole bracket, so it acts as a per-layer step size and
/// E[ĝ] is the gradient divided by max(vn_floor, σ_l): unbiased in direction layer by layer. Our
/// reading of Gu et al.'s Algorithm 1 is that it divides the residual term only; that makes
/// E[ĝ] = ∇/σ + (1 − 1/σ)·∂μᵀf̄′, a changed direction (relative bias 0.14 on the tiny net of
/// `ExactGradientTests` before this form was adopted), so we do not follow it. The decoder gets the pathwise gradient.
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
    /// Per hidden layer, the running moments of its residual ("mean_layer<l>", "variance_layer<l>").
    private let moments: [SignalMoments]
    /// μ_l at the sampled chain's logits, its derivative, and ∂μ_lᵀ f̄′_l.
    private let mu: [Matrix], muLocal: [Matrix], correction: [Matrix]
    private let residual: UnsafeMutableBufferPointer<Double>

    public init(model: any LatentModel, options: Options) {
        self.model = model
        self.options = options
        let capacity = model.capacityImages
        meanField = model.companion()
        let layers = 1..<model.layerCount
        (state, moments) = SignalMoments.perLayer(layers)
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
        // f − b_l(h_l) = f − f̄ − t_l(h_l) per image.
        taylorTerm(ws, layer: l, expansion: meanField, point: meanField.units[l], into: residual)
        for r in 0..<n { residual[r] = Double(ws.rowLoss[r]) - Double(meanField.rowLoss[r]) - residual[r] }
        let batch = SignalMoments.of(residual, count: n)
        moments[l - 1].seed(with: batch)
        let centre = moments[l - 1].centre(options.movingAverage)
        let scale = moments[l - 1].scale(options.varianceNormalization, floor: options.vnFloor)
        // ∂μ_l/∂a_lᵀ f̄′_l through the kind's mean-field derivative at the sampled logits.
        mu[l].setRows(n)  // one call each: an array literal would allocate every step
        muLocal[l].setRows(n)
        correction[l].setRows(n)
        layer.sample(
            .mean, logits: ws.logits[l].pointer, noise: ws.logits[l].pointer, values: mu[l].pointer,
            local: muLocal[l].pointer, rows: n, temperature: 1)
        layer.backward(
            .mean, gradValues: meanField.gradUnits[l].pointer, local: muLocal[l].pointer,
            gradLogits: correction[l].pointer, rows: n, temperature: 1)
        // VN scales the whole estimate, the analytic correction with the residual term: a step
        // size that depends on earlier batches only, so the direction stays unbiased. (Scaling the
        // residual alone, as Gu et al.'s Algorithm 1 reads, tilts E[ĝ] toward the correction.)
        let weight = Float(scale) / Float(n)
        for r in 0..<n {
            let s = Float(residual[r] - centre)
            let g = ws.gradLogits[l].row(r), score = ws.local[l].row(r), fix = correction[l].row(r)
            for c in 0..<cols { g[c] = (s * score[c] + fix[c]) * weight }
        }
        moments[l - 1].update(with: batch, decay: options.decay)
    }
}
