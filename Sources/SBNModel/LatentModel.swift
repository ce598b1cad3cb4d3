import SBNDistributions
import SBNTensor

/// The seam between gradient estimators and models: what an estimator may do with a model of
/// discrete latent layers and its per-row loss, named by role. Every estimator is written against
/// this protocol only, so it trains every model family that conforms (the SBN of Jang et al. 2017
/// §4.1 and the discrete VAE of §4.2 both do, through `NetworkWorkspace`).
///
/// A pass holds B images × m samples (R = B·m rows, sample i of image b in row b·m + i).
/// Stochastic layers are l = 1 … L−1; index 0 and L of the per-layer buffers are the input and the
/// output. The loss of a row, f(h) = `rowLoss[r]`, is the learning signal: for the SBN
/// −log p(x_bottom | h), for the VAE −log p(x | z) + log q(z | x) − log p(z). It may depend on
/// the parameters directly (the VAE's log q(z | x)): the backward passes add that direct gradient
/// themselves, weighted like the output's, so an estimator only supplies ∂/∂logits of its own
/// learning-signal term.
public protocol LatentModel: AnyObject {
    // MARK: Shape
    /// m, samples per image.
    var samples: Int { get }
    var capacityImages: Int { get }
    var imageCount: Int { get }
    var rowCount: Int { get }
    /// L: the number of maps; stochastic layers are 1 ..< L.
    var layerCount: Int { get }
    /// The unit kind of stochastic layer l.
    func units(of l: Int) -> any StochasticUnits
    /// Width of layer l (0: input, L: output).
    func width(_ l: Int) -> Int
    /// Runs the parts of each pass (one or two threads).
    var runner: PartRunner { get }
    /// Observed values per example: the input, plus the target unless the target is the input
    /// (what NVIL's input-dependent baseline reads).
    var observedWidth: Int { get }

    // MARK: Per-layer state of the current pass (rows × width, index l)
    /// Logits a_l (l = 1 … L).
    var logits: [Matrix] { get }
    /// Values h_l of stochastic layers.
    var units: [Matrix] { get }
    /// What the layer's sampler keeps for the backward pass: the score, ∂h/∂a, or a softmax.
    var local: [Matrix] { get }
    /// The noise each stochastic layer was drawn with (kept so that a layer can be replayed).
    var noise: [Matrix] { get }
    /// ∂loss/∂a_l; for l = L filled by `scoreOutput`, for stochastic layers by the estimator or
    /// the pathwise passes.
    var gradLogits: [Matrix] { get }
    /// ∂loss/∂h_l, written by the pathwise backward passes.
    var gradUnits: [Matrix] { get }

    // MARK: The objective per row and per image
    /// f per row: the learning signal.
    var rowLoss: UnsafeMutableBufferPointer<Float> { get }
    /// Posterior weight of each sample in its image's log-mean-exp (1 when m = 1).
    var rowWeight: UnsafeMutableBufferPointer<Float> { get }
    /// Per image: −log (1/m) Σ_i exp(−f_i), the m-sample objective.
    var imageLoss: UnsafeMutableBufferPointer<Double> { get }

    // MARK: Sampling
    /// Layer-1 logits from the batch's input, once per image, repeated for the m samples.
    func computeFirstLogits(_ batch: Batch)
    /// Draws stochastic layer l with `surrogate` from fresh noise, then the next layer's logits.
    func sampleLayer(_ l: Int, surrogate: UnitSurrogate, temperature: Float, using rng: inout Xoshiro256)
    /// Replays layer l from its stored noise (which the caller may have set), then the next logits.
    func applyLayer(_ l: Int, surrogate: UnitSurrogate, temperature: Float)
    /// Sets stochastic layer l to `values` (one configuration of an enumeration) and computes the
    /// next logits (drawing any continuous noise above it from `rng`); `local` is left as it was.
    func setLayer(_ l: Int, values: Matrix, using rng: inout Xoshiro256)
    /// Samples layers `layer` … L−1 and scores the output: the loss downstream of a configuration.
    @discardableResult
    func propagate(
        _ batch: Batch, from layer: Int, surrogate: UnitSurrogate, temperature: Float,
        using rng: inout Xoshiro256, outputGradient: Bool
    ) -> Double
    /// The whole forward pass; returns the batch mean of the m-sample objective.
    @discardableResult
    func forward(
        _ batch: Batch, surrogate: UnitSurrogate, temperature: Float, using rng: inout Xoshiro256,
        outputGradient: Bool
    ) -> Double
    /// The loss of each row (`rowLoss`), the sample weights and the per-image objective, from the
    /// current layers; with `outputGradient`, ∂f/∂a_L into `gradLogits[L]`.
    @discardableResult
    func scoreOutput(_ batch: Batch, outputGradient: Bool) -> Double

    // MARK: Mean-field continuation (MuProp, REBAR)
    /// The deterministic pass h̄_l = E[h_l | h̄_{l−1}] and its loss (Gu et al. 2016 §3).
    @discardableResult
    func forwardMean(_ batch: Batch) -> Double
    /// The loss with layer l set to `values` (whose prior term is taken at `logits`) and the
    /// layers above at their means, and ∂f/∂h_l in `gradUnits[l]`.
    @discardableResult
    func forwardMean(_ batch: Batch, layer l: Int, values: Matrix, logits: Matrix) -> Double

    // MARK: Backward passes
    /// Pathwise: the whole network through each layer's surrogate, into `grads`.
    func backwardPathwise(_ batch: Batch, grads: ParameterSet)
    /// ∂f_row/∂h_l and ∂f_row/∂a_l per row, unweighted, layers L … lowest, without parameter gradients.
    func backwardUnits(downTo lowest: Int)
    /// The output map's pathwise gradient, each row weighted by `rowWeight` / B.
    func backwardDecoder(grads: ParameterSet)
    /// Score function: ∂a_l = signal[row] · score_l / B for every stochastic layer, then parameters.
    func backwardScoreFunction(_ batch: Batch, signal: UnsafeBufferPointer<Float>, grads: ParameterSet)
    /// Parameters of every stochastic layer's map from the ∂a_l the caller left in `gradLogits`
    /// (plus the loss's direct gradient).
    func backwardHiddenLogits(_ batch: Batch, grads: ParameterSet)
    /// Enumeration (exact marginalisation over the top stochastic layer l, set by `setLayer`):
    /// the gradient of Σ_rows weights · f / B for everything above l, plus the loss's direct
    /// dependence on a_l accumulated into `gradLogits[l]`; nothing below l.
    func backwardEnumerated(layer l: Int, weights: UnsafeBufferPointer<Float>, grads: ParameterSet)
    /// Map 1's parameters from the ∂a_1 the caller left in `gradLogits[1]`, adding nothing.
    func backwardFirstLogits(_ batch: Batch, grads: ParameterSet)

    // MARK: Parameters
    /// Where map l's weights and biases sit in a gradient `ParameterSet` (a per-layer step size
    /// scales exactly these).
    func parameterIndices(ofMap l: Int) -> [Int]

    // MARK: Buffers
    /// Per stochastic layer, a rows × width matrix at this capacity (index 0 and L empty).
    func layerBuffers() -> [Matrix]
    /// A second model of the same parameters, capacity, m and runner, for a pass beside the
    /// sampled one (MuProp's mean field, REBAR's relaxations).
    func companion() -> any LatentModel
}

extension LatentModel {
    /// Every stochastic layer's unit kind.
    public var stochasticUnits: [any StochasticUnits] { (1..<layerCount).map { units(of: $0) } }

    @discardableResult
    public func forward(_ batch: Batch, surrogate: UnitSurrogate, temperature: Float, using rng: inout Xoshiro256) -> Double {
        forward(batch, surrogate: surrogate, temperature: temperature, using: &rng, outputGradient: true)
    }

    @discardableResult
    public func scoreOutput(_ batch: Batch) -> Double { scoreOutput(batch, outputGradient: true) }

    public func backwardUnits() { backwardUnits(downTo: 1) }
}
