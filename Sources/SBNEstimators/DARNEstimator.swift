import SBNDistributions
import SBNModel
import SBNOptions
import SBNTensor

/// `darn`: DARN (Gregor et al. 2014) as the SBN literature ran it: Gu et al. 2016's "1/2"
/// estimator (MuProp paper, eqs. 5–7; their Table 2 labels it "1/2 (DARN)"), with Jang et al.
/// 2017's variance normalization as a per-layer step size. Unit by unit, the learning signal is
/// the first-order Taylor term around h̄ = ½ (Bernoulli) or 1/K (categorical) with f′ at the
/// sample, and MuProp's correction is dropped:
///
///   ∂a_lj ≈ f′_lj (h_lj − h̄) · ∂log p(h_lj)/∂a_lj,
///
/// backpropagated layer to layer like straight-through (`UnitSurrogate.taylor`); this is exactly
/// `taylor-half`. Jang et al. (§4) found VN necessary for DARN, but a per-unit signal has no scalar
/// to normalise; we normalise by the layer's Taylor term t_l = f′(h)ᵀ(h_l − h̄), the scalar whose
/// per-unit parts the estimator uses: the gradients of map l (the parameters in front of layer l)
/// are divided by max(vn_floor, σ_l), σ_l² the moving variance of t_l over earlier batches
/// (NVIL's VN, Mnih & Gregor 2014 §3.3). Each layer's direction is unchanged; only its step
/// size adapts. The output map is exact and is not scaled. Why not a scalar-signal reading of
/// Jang et al.'s text: see `DARNScalarEstimator`. Biased for a loss with curvature in h
/// (`ExactGradientTests` bounds it). m = 1.
public final class DARNEstimator: GradientEstimator {
    public struct Options: ComponentOptions {
        /// Divide map l's gradient by max(vn_floor, σ_l), σ_l² the moving variance of t_l.
        public var varianceNormalization = true
        /// Decay of the moving variance.
        @UnitInterval public var decay = 0.9
        /// VN divides by max(vn_floor, σ_l) (Mnih & Gregor 2014 use 1).
        @Positive public var vnFloor = 1.0
        public init() {}
    }

    public static let name = "darn"
    public static let summary =
        "DARN: Gu et al.'s per-unit 1/2 estimator (Taylor term around 1/2 or 1/K, f' at the sample), VN as a per-layer step; biased"
    public static let requirements: UnitCapabilities = .taylor
    public static let maxTrainingSamples: Int? = 1

    let model: any LatentModel
    let options: Options
    /// Per hidden layer l, the moving variance ("variance_layer<l>") of t_l (its moving mean is
    /// kept but unused), and how many batches have updated them.
    public let state: ComponentState
    private let moments: [SignalMoments]
    /// h̄_l per hidden layer: ½ or 1/K in every row.
    private let centre: [Matrix]
    /// Map l's parameter positions in the gradient, per hidden layer.
    private let mapParameters: [[Int]]
    /// t_l per image.
    private let signal: UnsafeMutableBufferPointer<Double>

    public init(model: any LatentModel, options: Options) {
        self.model = model
        self.options = options
        (state, moments) = SignalMoments.perLayer(1..<model.layerCount)
        centre = supportCentres(model)
        mapParameters = (0..<model.layerCount).map { model.parameterIndices(ofMap: $0) }
        signal = .allocate(capacity: model.capacityImages)
    }

    deinit { signal.deallocate() }

    public func estimate(_ batch: Batch, grads: ParameterSet, context: StepContext, using rng: inout Xoshiro256) -> Double {
        let loss = model.forward(batch, surrogate: .taylor, temperature: context.temperature, using: &rng)
        model.backwardPathwise(batch, grads: grads)
        guard options.varianceNormalization else { return loss }
        for l in 1..<model.layerCount { normalize(layer: l, grads: grads) }
        state.integers["batches", default: 0] += 1
        return loss
    }

    /// Divides map l's gradient by max(vn_floor, σ_l) from earlier batches, then updates σ_l with
    /// this batch's t_l.
    private func normalize(layer l: Int, grads: ParameterSet) {
        let n = model.imageCount, cols = model.width(l)
        // gradUnits holds ∂f_r/∂h_l weighted by 1/B (m = 1): times n gives each image's own.
        for r in 0..<n {
            let h = model.units[l].row(r), hBar = centre[l].row(r), fPrime = model.gradUnits[l].row(r)
            var taylor = 0.0
            for c in 0..<cols { taylor += Double(fPrime[c]) * Double(h[c] - hBar[c]) }
            signal[r] = taylor * Double(n)
        }
        let batchMoments = SignalMoments.of(signal, count: n)
        moments[l - 1].seed(with: batchMoments)
        let scale = Float(moments[l - 1].scale(true, floor: options.vnFloor))
        for i in mapParameters[l] {
            let g = grads.tensors[i]
            for k in 0..<g.count { g.storage[k] *= scale }
        }
        moments[l - 1].update(with: batchMoments, decay: options.decay)
    }
}
