import SBNDistributions
import SBNModel
import SBNOptions
import SBNTensor

/// `darn`: DARN (Gregor et al. 2014) in the form Jang et al. 2017 §3.2 ran it: a first-order
/// Taylor expansion of the loss around the centre of each unit's support, h̄ = ½ (Bernoulli) or
/// 1/K (categorical), whose linear term is the learning signal of a score-function estimator,
/// with NVIL's centring and variance normalization (Jang et al. found VN necessary for SF, DARN
/// and MuProp). For hidden layer l,
///
///   t_l = f′(h̄_l)ᵀ (h_l − h̄_l),   ∂a_l = ((t_l − c_l) / max(vn_floor, σ_l)) · ∂log p(h_l)/∂a_l,
///
/// f′(h̄_l) = ∂f/∂h_l from the deterministic continuation above layer l with h_l set to h̄_l (the
/// layers above at their means, as in MuProp's pass; `forwardMean(_:layer:…)`), c_l and σ_l² the
/// moving mean and variance of t_l. E[t_l · score] = ∂μ_l/∂a_lᵀ f′(h̄_l): the gradient of the
/// loss's linearisation around h̄, exact for a loss linear in h_l and biased by its curvature
/// (`ExactGradientTests` bounds it). It is MuProp's correction term estimated by sampling, at ½
/// instead of the mean field, without MuProp's residual.
///
/// Why the Taylor term and not f − b(h) ("a Taylor baseline" read literally, without MuProp's
/// correction): that estimator's mean is ∇ − ∂μᵀf′(h̄), which cancels the first-order part of the
/// gradient. On the tiny nets its smallest per-layer cosine to the exact gradient is −0.84 (bias
/// 0.29 and 0.43 of ‖∇‖), so it could not have trained to the paper's DARN column; it stays
/// available as `residual_signal: true` for comparison. Gu et al.'s per-unit variant with f′ at
/// the sample, which has no scalar signal to normalise, is `taylor-half`. m = 1.
public final class DARNEstimator: GradientEstimator {
    public struct Options: ComponentOptions {
        /// Centre each layer's learning signal by its moving average c_l.
        public var movingAverage = true
        /// Divide it by max(vn_floor, σ_l), σ_l² a moving average of its variance.
        public var varianceNormalization = true
        /// Decay of the moving averages.
        @UnitInterval public var decay = 0.9
        /// VN divides by max(vn_floor, σ_l) (Mnih & Gregor 2014 use 1).
        @Positive public var vnFloor = 1.0
        /// Use the residual f − b_l(h_l) as the learning signal instead of the Taylor term t_l:
        /// the literal "Taylor baseline without correction", heavily biased (see above).
        public var residualSignal = false
        public init() {}
    }

    public static let name = "darn"
    public static let summary = "DARN: score function whose signal is the Taylor term around 1/2 (or 1/K), with C and VN; biased (Gregor et al. 2014)"
    /// Exact samples and their score; the mean-field continuation for the baseline's f and f′.
    public static let requirements: UnitCapabilities = [.score, .meanField]
    public static let maxTrainingSamples: Int? = 1

    let model: any LatentModel
    /// The continuation's buffers.
    let expansion: any LatentModel
    let options: Options
    /// Per hidden layer l, the moving mean ("mean_layer<l>") and variance ("variance_layer<l>")
    /// of the learning signal, and how many batches have updated them.
    public let state: ComponentState
    private let moments: [SignalMoments]
    /// h̄_l per hidden layer: ½ or 1/K in every row (the mean at zero logits).
    private let centre: [Matrix]
    /// The learning signal of the current layer, per image.
    private let signal: UnsafeMutableBufferPointer<Double>

    public init(model: any LatentModel, options: Options) {
        self.model = model
        self.options = options
        expansion = model.companion()
        let layers = 1..<model.layerCount
        (state, moments) = SignalMoments.perLayer(layers)
        centre = model.layerBuffers()
        let zeros = model.layerBuffers(), local = model.layerBuffers()
        let rows = model.capacityImages * model.samples
        for l in layers {
            for m in [centre[l], zeros[l], local[l]] { m.setRows(rows) }
            zeros[l].pointer.update(repeating: 0, count: rows * model.width(l))
            model.units(of: l).sample(.mean, logits: zeros[l].pointer, noise: zeros[l].pointer, values: centre[l].pointer,
                                      local: local[l].pointer, rows: rows, temperature: 1)
        }
        signal = .allocate(capacity: model.capacityImages)
    }

    deinit { signal.deallocate() }

    public func estimate(_ batch: Batch, grads: ParameterSet, context: StepContext, using rng: inout Xoshiro256) -> Double {
        let loss = model.forward(batch, surrogate: .exact, temperature: 1, using: &rng)
        model.backwardDecoder(grads: grads)
        for l in 1..<model.layerCount { layerGradient(l, batch) }
        model.backwardHiddenLogits(batch, grads: grads)
        state.integers["batches", default: 0] += 1
        return loss
    }

    /// Fills ∂a_l (batch mean) for hidden layer l and updates its moving moments.
    private func layerGradient(_ l: Int, _ batch: Batch) {
        let n = model.imageCount, cols = model.width(l)
        centre[l].setRows(model.rowCount)  // every capacity row holds h̄ already
        expansion.forwardMean(batch, layer: l, values: centre[l], logits: model.logits[l])
        taylorTerm(model, layer: l, expansion: expansion, point: centre[l], into: signal)
        if options.residualSignal {
            for r in 0..<n { signal[r] = Double(model.rowLoss[r]) - Double(expansion.rowLoss[r]) - signal[r] }
        }
        let moments = SignalMoments.of(signal, count: n)
        self.moments[l - 1].seed(with: moments)
        let c = self.moments[l - 1].centre(options.movingAverage)
        let weight = Float(self.moments[l - 1].scale(options.varianceNormalization, floor: options.vnFloor)) / Float(n)
        for r in 0..<n {
            let s = Float(signal[r] - c) * weight
            let g = model.gradLogits[l].row(r), score = model.local[l].row(r)
            for j in 0..<cols { g[j] = s * score[j] }
        }
        self.moments[l - 1].update(with: moments, decay: options.decay)
    }
}
