import SBNDistributions
import SBNModel
import SBNTensor

/// `reinforce`: the score-function estimator with NVIL's variance reduction
/// (Williams 1992; Mnih & Gregor 2014; as in Gu et al. 2016 "LR-C-VN-IDB" and Jang et al. 2017 §3.2):
///
///   ĝ_hidden = ((f − c − b_ψ(x)) / max(1, σ)) · ∇ log p(h | x),   ĝ_decoder = ∇ f (pathwise),
///
/// with f the multi-sample loss of the image, c a moving average of f − b_ψ(x) (`moving_average`),
/// b_ψ an input-dependent baseline network (`input_baseline`), and σ² a moving average of the
/// centred signal's variance (`variance_normalization`). The score of layer l is h_l − σ(a_l).
public final class ReinforceEstimator: GradientEstimator {
    public static let name = "reinforce"
    public static let summary = "score function with moving-average and input-dependent baselines and variance normalization (NVIL)"
    public static let optionKeys = ["moving_average", "input_baseline", "variance_normalization", "decay",
                                    "baseline_hidden", "baseline_lr"]

    let workspace: SBNWorkspace
    let useMovingAverage: Bool, useInputBaseline: Bool, useVarianceNormalization: Bool
    let decay: Double
    let baseline: InputDependentBaseline?
    /// mean c, variance σ², and whether they have been initialised from a first batch.
    let moments = ParameterSet([("mean", 1, 1), ("variance", 1, 1), ("initialized", 1, 1)])
    public let state: ParameterSet
    private let signal: UnsafeMutableBufferPointer<Float>
    private let centred: UnsafeMutableBufferPointer<Double>

    public init(workspace: SBNWorkspace, options: EstimatorOptions) throws {
        self.workspace = workspace
        useMovingAverage = try options.flag("moving_average", default: true)
        useInputBaseline = try options.flag("input_baseline", default: true)
        useVarianceNormalization = try options.flag("variance_normalization", default: true)
        decay = try options.number("decay", default: 0.9, where: { $0 >= 0 && $0 < 1 }, expected: "a number in [0, 1)")
        let hiddenUnits = try options.number("baseline_hidden", default: 100, where: { $0 >= 1 && $0 == $0.rounded() },
                                             expected: "a whole number ≥ 1")
        let lr = try options.number("baseline_lr", default: 1e-3, where: { $0 > 0 }, expected: "a number > 0")
        let model = workspace.model
        baseline = useInputBaseline
            ? InputDependentBaseline(inputTop: model.sizes[0], inputBottom: model.sizes[model.layerCount],
                                     hiddenUnits: Int(hiddenUnits), capacity: workspace.capacityImages, learningRate: Float(lr))
            : nil
        var parts: [(prefix: String, set: ParameterSet)] = [("moments/", moments)]
        if let baseline { parts.append(("baseline/", baseline.state)) }
        state = ParameterSet(joining: parts)
        signal = .allocate(capacity: workspace.capacityImages * workspace.samples)
        centred = .allocate(capacity: workspace.capacityImages)
    }

    deinit {
        signal.deallocate()
        centred.deallocate()
    }

    public func estimate(_ batch: Batch, grads: ParameterSet, context: StepContext, using rng: inout Xoshiro256) -> Double {
        let loss = workspace.forward(batch, rule: HardBernoulliRule.self, temperature: 1, using: &rng)
        workspace.backwardDecoder(grads: grads)

        let n = workspace.imageCount
        let predicted = baseline?.predict(batch)
        // f − b_ψ(x), per image.
        for b in 0..<n { centred[b] = workspace.imageLoss[b] - Double(predicted?[b] ?? 0) }
        let batchMean = (0..<n).reduce(0.0) { $0 + centred[$1] } / Double(n)
        if moments["initialized"].storage[0] == 0 {
            moments["mean"].storage[0] = Float(batchMean)
            moments["variance"].storage[0] = Float((0..<n).reduce(0.0) { $0 + pow2(centred[$1] - batchMean) } / Double(n))
            moments["initialized"].storage[0] = 1
        }
        let c = useMovingAverage ? Double(moments["mean"].storage[0]) : 0
        let scale = useVarianceNormalization ? 1 / max(1, Double(moments["variance"].storage[0]).squareRoot()) : 1
        for b in 0..<n {
            let s = Float((centred[b] - c) * scale)
            for i in 0..<workspace.samples { signal[b * workspace.samples + i] = s }
        }
        workspace.backwardScoreFunction(batch, signal: UnsafeBufferPointer(signal), grads: grads)

        // Update the running moments and fit b_ψ to f − c (NVIL).
        let residualVariance = (0..<n).reduce(0.0) { $0 + pow2(centred[$1] - c) } / Double(n)
        moments["mean"].storage[0] = Float(decay * Double(moments["mean"].storage[0]) + (1 - decay) * batchMean)
        moments["variance"].storage[0] = Float(decay * Double(moments["variance"].storage[0]) + (1 - decay) * residualVariance)
        if let baseline {
            for b in 0..<n { centred[b] = workspace.imageLoss[b] - c }
            baseline.fit(targets: UnsafeBufferPointer(rebasing: centred[0..<n]))
        }
        return loss
    }
}

@inline(__always) func pow2(_ x: Double) -> Double { x * x }
