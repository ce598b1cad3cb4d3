import SBNDistributions
import SBNModel
import SBNOptions
import SBNTensor

/// `reinforce`: the score-function estimator with NVIL's variance reduction
/// (Williams 1992; Mnih & Gregor 2014; as in Gu et al. 2016 "LR-C-VN-IDB" and Jang et al. 2017 §3.2):
///
///   ĝ_hidden = ((f − c − b_ψ(x)) / max(1, σ)) · ∇ log p(h | x),   ĝ_decoder = ∇ f (pathwise),
///
/// with f the multi-sample loss of the image, c a moving average of f − b_ψ(x) (`moving_average`),
/// b_ψ an input-dependent baseline network (`input_baseline`), and σ² a moving average of the
/// centred signal's variance (`variance_normalization`). The score of layer l is the unit kind's
/// ∂log p(h_l)/∂a_l: h_l − σ(a_l) for Bernoulli units, one-hot − softmax(a_l) for categorical groups.
public final class ReinforceEstimator: GradientEstimator {
    public struct Options: ComponentOptions {
        /// Centre the learning signal by a moving average c of f − b_ψ(x).
        public var movingAverage = true
        /// Subtract NVIL's input-dependent baseline b_ψ(x).
        public var inputBaseline = true
        /// Divide the signal by max(1, σ), σ² a moving average of its variance.
        public var varianceNormalization = true
        /// Decay of the moving averages.
        @UnitInterval public var decay = 0.9
        /// Hidden tanh units of b_ψ (Gu et al. 2016 §5.1: 100).
        @Count public var baselineHidden = 100
        /// Adam learning rate of b_ψ.
        @Positive public var baselineLr = 1e-3
        /// Variance normalization divides by max(vn_floor, σ) (Mnih & Gregor 2014 use 1).
        @Positive public var vnFloor = 1.0
        public init() {}
    }

    public static let name = "reinforce"
    public static let summary =
        "score function with moving-average and input-dependent baselines and variance normalization (NVIL)"
    public static let requirements = UnitCapabilities.score

    let model: any LatentModel
    let options: Options
    let baseline: InputDependentBaseline?
    /// The moving mean c and variance σ² (reals) and how many batches have updated them.
    public let state: ComponentState
    private let moments: SignalMoments
    private let signal: UnsafeMutableBufferPointer<Float>
    private let centred: UnsafeMutableBufferPointer<Double>

    public init(model: any LatentModel, options: Options) throws {
        self.model = model
        self.options = options
        baseline =
            options.inputBaseline
            ? InputDependentBaseline(
                observedWidth: model.observedWidth, hiddenUnits: options.baselineHidden, capacity: model.capacityImages,
                learningRate: Float(options.baselineLr), runner: model.runner)
            : nil
        state = ComponentState(
            integers: ["batches": 0], reals: ["mean": 0, "variance": 0],
            parts: baseline.map { [("baseline", $0.state)] } ?? [], nonNegative: ["variance"])
        moments = SignalMoments(state: state, meanKey: "mean", varianceKey: "variance")
        signal = .allocate(capacity: model.capacityImages * model.samples)
        centred = .allocate(capacity: model.capacityImages)
    }

    deinit {
        signal.deallocate()
        centred.deallocate()
    }

    public func estimate(_ batch: Batch, grads: ParameterSet, context: StepContext, using rng: inout Xoshiro256) -> Double {
        let loss = model.forward(batch, surrogate: .exact, temperature: 1, using: &rng)
        model.backwardDecoder(grads: grads)

        let n = model.imageCount
        let predicted = baseline?.predict(batch)
        // f − b_ψ(x), per image.
        for b in 0..<n { centred[b] = model.imageLoss[b] - Double(predicted?[b] ?? 0) }
        let moments = SignalMoments.of(centred, count: n)
        self.moments.seed(with: moments)
        let c = self.moments.centre(options.movingAverage)
        let scale = self.moments.scale(options.varianceNormalization, floor: options.vnFloor)
        for b in 0..<n {
            let s = Float((centred[b] - c) * scale)
            for i in 0..<model.samples { signal[b * model.samples + i] = s }
        }
        model.backwardScoreFunction(batch, signal: UnsafeBufferPointer(signal), grads: grads)
        // The variance is the batch's own, around the batch mean, as NVIL's running estimate of
        // Var[f − b_ψ(x)] (Mnih & Gregor 2014, §3.3); around the moving mean c it would add
        // (batch mean − c)², a drift term, to it.
        self.moments.update(with: moments, decay: options.decay)
        state.integers["batches", default: 0] += 1
        if let baseline {
            // b_ψ is fitted to f − c (NVIL).
            for b in 0..<n { centred[b] = model.imageLoss[b] - c }
            baseline.fit(targets: UnsafeBufferPointer(rebasing: centred[0..<n]))
        }
        return loss
    }
}
