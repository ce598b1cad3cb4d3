import SBNDistributions
import SBNModel
import SBNOptions
import SBNTensor

/// `darn-scalar`: the literal reading of Jang et al. 2017 §3.2's DARN, kept as a measured
/// negative result. Per hidden layer l a scalar learning signal, the first-order Taylor term of the
/// loss around the centre of each unit's support, h̄ = ½ (Bernoulli) or 1/K (categorical), times
/// the layer's score, with NVIL's centring and variance normalization:
///
///   t_l = f′(h̄_l)ᵀ (h_l − h̄_l),   ∂a_l = ((t_l − c_l) / max(vn_floor, σ_l)) · ∂log p(h_l)/∂a_l,
///
/// f′(h̄_l) = ∂f/∂h_l from the deterministic continuation above layer l with h_l set to h̄_l (the
/// layers above at their means, as in MuProp's pass; `forwardMean(_:layer:…)`), or at the sampled
/// h_l with `derivative_at_sample: true`; c_l and σ_l² the moving mean and variance of t_l.
/// E[t_l · score] = ∂μ_l/∂a_lᵀ f′(h̄_l), the gradient of the loss's linearisation around h̄.
///
/// Why it is not `darn`: on the tiny nets it is close to the gradient (min per-layer cosine 0.96),
/// but on a trained 392-200-200-392 SBN its smallest per-layer cosine to the reference gradient is
/// 0.17 (−0.05 with f′ at the sample), and trained under Table 1's protocol at lr 3e-3 it ends at
/// 101.3 nats, against the paper's DARN at 59.7 (docs/results.md). So the paper's DARN column
/// cannot have been this estimator; `darn` is Gu et al.'s per-unit form. `residual_signal: true`
/// uses f − b_l(h_l), "a Taylor baseline without correction" read literally: its mean cancels the
/// first-order part of the gradient (min layer cosine −0.84 on the tiny nets). m = 1.
public final class DARNScalarEstimator: GradientEstimator {
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
        /// Take f′ at the sampled h_l (the layers above at their means given it), not at h̄_l.
        public var derivativeAtSample = false
        public init() {}
    }

    public static let name = "darn-scalar"
    public static let summary =
        "scalar Taylor-term signal around 1/2 (or 1/K) with C and VN: the literal reading of Jang et al.'s DARN; fails at scale"
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
        centre = supportCentres(model)
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
        expansion.forwardMean(
            batch, layer: l, values: options.derivativeAtSample ? model.units[l] : centre[l],
            logits: model.logits[l])
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
