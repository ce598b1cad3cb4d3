import RealModule
import SBNDistributions
import SBNTensor

/// Preallocated buffers and the batched forward/backward building blocks of one SBN pass over
/// B images × m samples (R = B·m rows, sample i of image b in row b·m + i).
///
/// Estimators compose these blocks: sample the hidden layers with a surrogate (each layer's unit
/// kind implements it), score the output,
/// then backpropagate pathwise (`backwardPathwise`) or with learning signals
/// (`backwardScoreFunction`). Layer 1's logits depend only on the image, so they are computed
/// once per image and repeated m times. Nothing here allocates after `init`.
///
/// Every pass runs in `PartRunner.parts` fixed parts: row-wise work (gemms over the batch, unit
/// kinds' samplers, the output NLL) by parts of the images, weight gradients (which sum over the batch) by
/// parts of each layer's units, so no two parts write the same value. The parts are the same
/// whether one thread or two run them, so results do not depend on the thread count. A layer's
/// noise is drawn by its parts too, each a block of vectorised uniforms (`Uniform.sample(into:seed:)`)
/// whose seed comes from one draw of the caller's stream.
///
/// A layer's unit kind is called once per block of rows (not per unit), so the dynamic dispatch
/// costs nothing measurable; the per-unit work is in the kinds' vectorised kernels.
public final class SBNWorkspace: @unchecked Sendable {
    public let model: SBN
    public let samples: Int
    public let capacityImages: Int
    /// Runs the parts of each pass (one or two threads).
    public let runner: PartRunner
    /// Whether layers write their local quantity (`local`); an evaluation, which never
    /// backpropagates, skips it.
    public let keepsLocal: Bool

    /// Index l = 1 … L; index 0 is unused so that layer numbers match the maths.
    public let logits: [Matrix]
    /// Hidden values h_l (l = 1 … L−1).
    public let units: [Matrix]
    /// What the layer's sampler keeps per hidden unit for the backward pass: the score, ∂h/∂a,
    /// or a softmax (see each `StochasticUnits` kind).
    public let local: [Matrix]
    /// Noise drawn for each hidden layer (kept so that a pass can be replayed).
    public let noise: [Matrix]
    /// ∂loss/∂logits per layer; for l = L it is filled by `scoreOutput`.
    public let gradLogits: [Matrix]
    /// ∂loss/∂h_l per hidden layer, written by the pathwise backward passes.
    public let gradUnits: [Matrix]
    let firstLogitsPerImage: Matrix
    let firstGradPerImage: Matrix
    /// Every per-row buffer, for `resize` (kept so that resizing allocates nothing).
    private let rowBuffers: [Matrix]
    /// Per layer, where its units are cut into parts (a multiple of 16, for the gemm kernels).
    private let unitBoundary: [Int]

    /// −log p(x_bottom | h) per row.
    public let rowNLL: UnsafeMutableBufferPointer<Float>
    /// Posterior weight of each sample in its image's log-mean-exp (1 when m = 1).
    public let rowWeight: UnsafeMutableBufferPointer<Float>
    let rowScale: UnsafeMutableBufferPointer<Float>
    /// One scratch row per part for the output NLL.
    let outputScratch: [UnsafeMutableBufferPointer<Float>]
    /// Per image: −log (1/m) Σ_i p(x_bottom | h_i), the multi-sample loss (Raiko et al. 2014).
    public let imageLoss: UnsafeMutableBufferPointer<Double>

    public private(set) var imageCount = 0
    /// Per layer, the surrogate and temperature it was last sampled with (what `backwardPathwise`
    /// goes through).
    private var surrogates: [UnitSurrogate]
    private var temperatures: [Float]
    /// Where the images of the current batch are cut into parts.
    public private(set) var imageBoundary = 0
    public var rowCount: Int { imageCount * samples }

    public init(model: SBN, capacityImages: Int, samples: Int = 1, runner: PartRunner = .serial, keepsLocal: Bool = true) {
        precondition(capacityImages > 0 && samples > 0, "SBNWorkspace: capacity and samples must be > 0")
        self.model = model
        self.keepsLocal = keepsLocal
        self.samples = samples
        self.capacityImages = capacityImages
        self.runner = runner
        let rows = capacityImages * samples
        let L = model.layerCount
        func layerMatrices(_ range: ClosedRange<Int>) -> [Matrix] {
            (0...L).map { l in Matrix(rows: rows, cols: range.contains(l) ? model.sizes[l] : 0) }
        }
        logits = layerMatrices(1...L)
        gradLogits = layerMatrices(1...L)
        units = layerMatrices(1...(L - 1))
        local = layerMatrices(1...(L - 1))
        noise = layerMatrices(1...(L - 1))
        gradUnits = layerMatrices(1...(L - 1))
        firstLogitsPerImage = Matrix(rows: capacityImages, cols: model.sizes[1])
        firstGradPerImage = Matrix(rows: capacityImages, cols: model.sizes[1])
        rowBuffers = logits + units + local + noise + gradLogits + gradUnits
        unitBoundary = model.sizes.map { PartRunner.boundary($0, align: 16) }
        rowNLL = .allocate(capacity: rows)
        rowWeight = .allocate(capacity: rows)
        rowScale = .allocate(capacity: rows)
        outputScratch = (0..<PartRunner.parts).map { _ in .allocate(capacity: model.sizes[L]) }
        imageLoss = .allocate(capacity: capacityImages)
        surrogates = Array(repeating: .exact, count: L)
        temperatures = Array(repeating: 1, count: L)
    }

    deinit {
        rowNLL.deallocate()
        rowWeight.deallocate()
        rowScale.deallocate()
        for s in outputScratch { s.deallocate() }
        imageLoss.deallocate()
    }

    /// Per hidden layer l = 1 … L−1, a rows × width matrix at this workspace's capacity (index 0
    /// and L empty): an estimator's own per-layer buffers.
    public func layerBuffers() -> [Matrix] {
        (0..<model.layerCount).map { Matrix(rows: capacityImages * samples, cols: $0 == 0 ? 0 : model.sizes[$0]) }
    }

    /// A second workspace of the same model, capacity, m and runner: for a deterministic pass
    /// beside the sampled one (MuProp's mean field, REBAR's relaxations).
    public func companion() -> SBNWorkspace {
        SBNWorkspace(model: model, capacityImages: capacityImages, samples: samples, runner: runner)
    }

    /// Sets the live row counts for a batch of `images` images.
    public func resize(images: Int) {
        precondition(images <= capacityImages, "SBNWorkspace: \(images) images exceed capacity \(capacityImages)")
        imageCount = images
        imageBoundary = PartRunner.boundary(images)
        let rows = images * samples
        for m in rowBuffers { m.setRows(rows) }
        firstLogitsPerImage.setRows(images)
        firstGradPerImage.setRows(images)
    }

    /// The images of part `part` of the current batch.
    @inlinable
    public func imageRange(_ part: Int) -> Range<Int> { PartRunner.range(part, of: imageCount, boundary: imageBoundary) }

    /// The rows (images × samples) of part `part`.
    @inlinable
    public func rowRange(_ part: Int) -> Range<Int> {
        let i = imageRange(part)
        return (i.lowerBound * samples)..<(i.upperBound * samples)
    }

    /// The units of layer `l` that part `part` owns in the weight-gradient passes.
    public func unitRange(_ part: Int, layer l: Int) -> Range<Int> {
        PartRunner.range(part, of: model.sizes[l], boundary: unitBoundary[l])
    }

    /// Layer-1 logits, once per image, repeated for the m samples.
    public func computeFirstLogits(_ batch: Batch) {
        resize(images: batch.count)
        runner.run { part in
            if samples == 1 {
                model.linear(1, batch.top, rows: rowRange(part), into: logits[1])
            } else {
                model.linear(1, batch.top, rows: imageRange(part), into: firstLogitsPerImage)
                Kernels.repeatRows(firstLogitsPerImage, imageRange(part), times: samples, into: logits[1])
            }
        }
    }

    /// Draws hidden layer l with its unit kind's `surrogate` (given logits[l]) and computes
    /// logits[l+1]. Part p of the layer's noise is the block of uniforms seeded by
    /// SplitMix64(s ⊕ p·γ), where s is one draw from `rng`, turned into the kind's noise.
    public func sampleLayer(_ l: Int, surrogate: UnitSurrogate, temperature: Float, using rng: inout Xoshiro256) {
        let seed = rng.next()
        let kind = model.layer(l).noise(for: surrogate)
        remember(l, surrogate, temperature)
        runner.run { part in
            let rows = rowRange(part), cols = noise[l].cols
            let block = UnsafeMutableBufferPointer(start: noise[l].pointer + rows.lowerBound * cols, count: rows.count * cols)
            var mix = SplitMix64(state: seed ^ (UInt64(part) &* 0xD1B5_4A32_D192_ED03))
            switch kind {
            case .uniform: Uniform.sample(into: block, seed: mix.next())
            case .logistic: Logistic.sample(into: block, seed: mix.next())
            case .gumbel: Gumbel.sample(into: block, seed: mix.next())
            }
            applyLayer(l, surrogate: surrogate, temperature: temperature, rows: rows)
        }
    }

    /// Recomputes layer l's values from its stored noise (replay), then logits[l+1].
    public func applyLayer(_ l: Int, surrogate: UnitSurrogate, temperature: Float) {
        remember(l, surrogate, temperature)
        runner.run { part in applyLayer(l, surrogate: surrogate, temperature: temperature, rows: rowRange(part)) }
    }

    /// What the backward pass of layer l must go through.
    private func remember(_ l: Int, _ surrogate: UnitSurrogate, _ temperature: Float) {
        surrogates[l] = surrogate
        temperatures[l] = temperature
    }

    func applyLayer(_ l: Int, surrogate: UnitSurrogate, temperature: Float, rows: Range<Int>) {
        let cols = logits[l].cols, start = rows.lowerBound * cols
        model.layer(l).sample(surrogate, logits: logits[l].pointer + start, noise: noise[l].pointer + start,
                              values: units[l].pointer + start, local: keepsLocal ? local[l].pointer + start : nil,
                              rows: rows.count, temperature: temperature)
        model.linear(l + 1, units[l], rows: rows, into: logits[l + 1])
    }

    /// The whole forward pass: layer-1 logits, every hidden layer with `surrogate`, and the
    /// output score. Returns the batch mean of the multi-sample loss.
    @discardableResult
    public func forward(_ batch: Batch, surrogate: UnitSurrogate, temperature: Float, using rng: inout Xoshiro256,
                        outputGradient: Bool = true) -> Double {
        computeFirstLogits(batch)
        return propagate(batch, from: 1, surrogate: surrogate, temperature: temperature, using: &rng, outputGradient: outputGradient)
    }

    /// The deterministic mean-field pass h̄_l = E[h_l | h̄_{l−1}] (every layer `.mean`, no noise
    /// drawn) and its output score: MuProp's f(h̄) (Gu et al. 2016 §3). Returns the batch mean.
    @discardableResult
    public func forwardMean(_ batch: Batch) -> Double {
        computeFirstLogits(batch)
        for l in 1..<model.layerCount { applyLayer(l, surrogate: .mean, temperature: 1) }
        return scoreOutput(batch)
    }

    /// The loss of each row with hidden layer l set to `values` and the layers above it at their
    /// means, and its derivative ∂f/∂h_l in `gradUnits[l]`: a deterministic, differentiable
    /// function of h_l (REBAR's relaxed control variate). Returns the batch mean.
    @discardableResult
    public func forwardMean(_ batch: Batch, layer l: Int, values: Matrix) -> Double {
        resize(images: batch.count)
        units[l].copy(from: values)
        runner.run { part in model.linear(l + 1, units[l], rows: rowRange(part), into: logits[l + 1]) }
        for k in (l + 1)..<model.layerCount { applyLayer(k, surrogate: .mean, temperature: 1) }
        let loss = scoreOutput(batch)
        backwardUnits(downTo: l)
        return loss
    }

    /// Samples hidden layers `layer` … L−1 (given logits[layer]) and scores the output: the
    /// downstream loss of a configuration. Estimators that need the loss at several
    /// configurations (ARM's antithetic pair) set a layer's noise or values, call `applyLayer`
    /// for it, then `propagate(from: layer + 1, …)`.
    @discardableResult
    public func propagate(_ batch: Batch, from layer: Int, surrogate: UnitSurrogate, temperature: Float,
                          using rng: inout Xoshiro256, outputGradient: Bool = true) -> Double {
        for l in layer..<model.layerCount { sampleLayer(l, surrogate: surrogate, temperature: temperature, using: &rng) }
        return scoreOutput(batch, outputGradient: outputGradient)
    }

    /// Per-row NLL of the targets, per-image multi-sample loss via log-mean-exp, the sample
    /// weights w_{b,i} = softmax_i(log p(x | h_i)), and (optionally) ∂NLL_row/∂a_L = σ(a_L) − x.
    /// Returns the mean loss over images.
    @discardableResult
    public func scoreOutput(_ batch: Batch, outputGradient: Bool = true) -> Double {
        let L = model.layerCount
        runner.run { part in
            Kernels.bernoulliNLL(logits: logits[L], rows: rowRange(part), targets: batch.bottom, targetRepeat: samples,
                                 nll: rowNLL, gradient: outputGradient ? gradLogits[L] : nil, scratch: outputScratch[part])
        }
        var total = 0.0
        for b in 0..<imageCount {
            let base = b * samples
            var best = -Double.infinity
            for i in 0..<samples { best = max(best, -Double(rowNLL[base + i])) }
            var sum = 0.0
            for i in 0..<samples {
                let w = Double.exp(-Double(rowNLL[base + i]) - best)
                rowWeight[base + i] = Float(w)
                sum += w
            }
            for i in 0..<samples { rowWeight[base + i] = Float(Double(rowWeight[base + i]) / sum) }
            let loss = -(best + Double.log(sum / Double(samples)))
            imageLoss[b] = loss
            total += loss
        }
        return imageCount > 0 ? total / Double(imageCount) : 0
    }

    /// Pathwise backward pass of the mean multi-sample loss: ∂/∂a_L is weighted by w_{b,i}/B, then
    /// propagated through every hidden layer by its unit kind's `backward` for the surrogate it
    /// was sampled with, accumulating into `grads`.
    public func backwardPathwise(_ batch: Batch, grads: ParameterSet) {
        scaleOutputGradientByWeights()
        backpropagateHidden(grads: grads)
        backwardFirstLayer(batch, grads: grads)
    }

    /// ∂f_row/∂h_l for every hidden layer into `gradUnits` (and ∂f_row/∂a_l into `gradLogits`),
    /// per row and unweighted, without parameter gradients: the derivative of the loss of each
    /// row's own configuration, as MuProp's Taylor baseline needs it from the mean-field pass.
    public func backwardUnits(downTo lowest: Int = 1) {
        backpropagateHidden(grads: nil, downTo: lowest)
    }

    /// Layers L … lowest + 1: weight gradients (when `grads` is given), ∂/∂h_{l−1} and ∂/∂a_{l−1}.
    private func backpropagateHidden(grads: ParameterSet?, downTo lowest: Int = 1) {
        let L = model.layerCount
        for l in stride(from: L, through: lowest + 1, by: -1) {
            runner.run { part in
                if let grads {
                    model.accumulateWeightGradient(l, input: units[l - 1], gradOutput: gradLogits[l], columns: unitRange(part, layer: l),
                                                   grads: grads)
                }
                let rows = rowRange(part), start = rows.lowerBound * gradUnits[l - 1].cols
                model.backpropagate(l, gradOutput: gradLogits[l], rows: rows, into: gradUnits[l - 1])
                model.layer(l - 1).backward(surrogates[l - 1], gradValues: gradUnits[l - 1].pointer + start,
                                            local: local[l - 1].pointer + start, gradLogits: gradLogits[l - 1].pointer + start,
                                            rows: rows.count, temperature: temperatures[l - 1])
            }
        }
    }

    /// Decoder-only pathwise gradient (the output layer), as score-function estimators use.
    public func backwardDecoder(grads: ParameterSet) {
        let L = model.layerCount
        scaleOutputGradientByWeights()
        runner.run { part in
            model.accumulateWeightGradient(L, input: units[L - 1], gradOutput: gradLogits[L], columns: unitRange(part, layer: L),
                                           grads: grads)
        }
    }

    /// Score-function gradient of the hidden layers: ∂a_l = signal[row] · score_l / B, where
    /// `local` holds the score z − σ(a) and `signal` the (centred, normalised) learning signal of
    /// each row (Williams 1992; Mnih & Gregor 2014).
    public func backwardScoreFunction(_ batch: Batch, signal: UnsafeBufferPointer<Float>, grads: ParameterSet) {
        let invB = 1 / Float(imageCount)
        runner.run { part in
            for l in 1..<model.layerCount {
                let cols = model.sizes[l]
                for r in rowRange(part) {
                    let s = signal[r] * invB
                    let ga = gradLogits[l].row(r), d = local[l].row(r)
                    for c in 0..<cols { ga[c] = s * d[c] }
                }
            }
        }
        backwardHiddenLogits(batch, grads: grads)
    }

    /// Accumulates the parameter gradients of every hidden layer from per-unit logit gradients
    /// that the caller left in `gradLogits[1 … L−1]` (inputs are the current `units`).
    public func backwardHiddenLogits(_ batch: Batch, grads: ParameterSet) {
        runner.run { part in
            for l in 2..<model.layerCount {
                model.accumulateWeightGradient(l, input: units[l - 1], gradOutput: gradLogits[l], columns: unitRange(part, layer: l),
                                               grads: grads)
            }
        }
        backwardFirstLayer(batch, grads: grads)
    }

    private func scaleOutputGradientByWeights() {
        let L = model.layerCount
        let invB = 1 / Float(imageCount)
        for r in 0..<rowCount { rowScale[r] = rowWeight[r] * invB }
        runner.run { part in Kernels.scaleRows(gradLogits[L], rowRange(part), by: UnsafeBufferPointer(rowScale)) }
    }

    /// Layer 1's input is the image, shared by its m samples: sum their logit gradients first.
    private func backwardFirstLayer(_ batch: Batch, grads: ParameterSet) {
        if samples > 1 {
            let cols = model.sizes[1]
            runner.run { part in
                for b in imageRange(part) {
                    let dst = firstGradPerImage.row(b)
                    dst.update(repeating: 0, count: cols)
                    for r in (b * samples)..<((b + 1) * samples) {
                        let src = gradLogits[1].row(r)
                        for c in 0..<cols { dst[c] += src[c] }
                    }
                }
            }
        }
        let gradient = samples == 1 ? gradLogits[1] : firstGradPerImage
        runner.run { part in
            model.accumulateWeightGradient(1, input: batch.top, gradOutput: gradient, columns: unitRange(part, layer: 1), grads: grads)
        }
    }
}
