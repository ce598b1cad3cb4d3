import RealModule
import SBNDistributions
import SBNTensor

/// Preallocated buffers and the batched forward/backward building blocks of one pass of a
/// `StochasticNetwork` over B images × m samples (R = B·m rows, sample i of image b in row
/// b·m + i): the `LatentModel` that every model family built on `StochasticNetwork` gives its
/// estimators.
///
/// Estimators compose these blocks: sample the hidden layers with a surrogate (each layer's unit
/// kind implements it), score the output (and the prior terms, `LatentPrior`),
/// then backpropagate pathwise (`backwardPathwise`) or with learning signals
/// (`backwardScoreFunction`). Layer 1's logits depend only on the image, so they are computed
/// once per image and repeated m times. Nothing here allocates after `init`.
///
/// Every pass runs in `PartRunner.parts` fixed parts: row-wise work (gemms over the batch, unit
/// kinds' samplers, the output NLL) by parts of the images, weight gradients (which sum over the batch) by
/// parts of each dense layer's units, so no two parts write the same value. The parts are the same
/// whether one thread or two run them, so results do not depend on the thread count. A layer's
/// noise is drawn by its parts too, each a block of vectorised uniforms (`Uniform.sample(into:seed:)`)
/// whose seed comes from one draw of the caller's stream.
///
/// A layer's unit kind is called once per block of rows (not per unit), so the dynamic dispatch
/// costs nothing measurable; the per-unit work is in the kinds' vectorised kernels.
public final class NetworkWorkspace: LatentModel, @unchecked Sendable {
    public let model: StochasticNetwork
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
    /// Hidden activations of each map (map 1's per image), index l.
    private let mapScratch: [DenseMap.Scratch]
    /// The prior term's form in this pass (nil: the network has none); an evaluation always
    /// uses the sampled one, whose mean over samples is −ELBO and whose log-mean-exp is the
    /// importance-weighted bound.
    public let divergence: LatentPrior.Divergence?
    /// 1 per row: the weights of the unweighted backward pass's prior-term gradients.
    private let ones: UnsafeMutableBufferPointer<Float>
    /// Per stochastic layer, rows × width scratch for the prior terms' kernels (empty without a prior).
    private let priorScratch: [Matrix]
    /// The Gaussian latent's buffers when it is the last map (M2), its term's form in this pass,
    /// whether the last pass through it took z = μ (the mean field), and the batch's input (its
    /// first layer's weight gradient reads the images).
    public let bottleneckScratch: GaussianBottleneck.Scratch?
    /// The convolutions' patches and feature maps, when the model has any (M2's CNN classifier).
    public let convScratch: ConvStack.Scratch?
    let gaussianDivergence: LatentPrior.Divergence
    private var bottleneckMean = false
    private var input: Matrix?

    /// f per row: −log p(target | h), plus the prior terms when the network has them.
    public let rowLoss: UnsafeMutableBufferPointer<Float>
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

    public init(
        model: StochasticNetwork, capacityImages: Int, samples: Int = 1, runner: PartRunner = .serial,
        keepsLocal: Bool = true, divergence: LatentPrior.Divergence? = nil
    ) {
        precondition(capacityImages > 0 && samples > 0, "NetworkWorkspace: capacity and samples must be > 0")
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
        mapScratch = (0...L).map { l in model.maps[l].makeScratch(rows: l == 0 ? 0 : l == 1 ? capacityImages : rows) }
        self.divergence = model.prior.map { divergence ?? $0.divergence }
        bottleneckScratch = model.bottleneck?.makeScratch(images: capacityImages, rows: rows)
        convScratch = model.conv?.makeScratch(images: capacityImages)
        gaussianDivergence = divergence ?? model.bottleneck?.spec.divergence ?? .sampled
        priorScratch = (0...L).map { l in
            Matrix(rows: model.prior == nil ? 0 : rows, cols: (1..<L).contains(l) ? model.sizes[l] : 0)
        }
        ones = .allocate(capacity: rows)
        ones.initialize(repeating: 1)
        rowLoss = .allocate(capacity: rows)
        rowWeight = .allocate(capacity: rows)
        rowScale = .allocate(capacity: rows)
        outputScratch = (0..<PartRunner.parts).map { _ in .allocate(capacity: model.sizes[L]) }
        imageLoss = .allocate(capacity: capacityImages)
        surrogates = Array(repeating: .exact, count: L)
        temperatures = Array(repeating: 1, count: L)
    }

    deinit {
        ones.deallocate()
        rowLoss.deallocate()
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

    public func parameterIndices(ofMap l: Int) -> [Int] { model.parameterIndices(ofMap: l) }

    /// A second workspace of the same model, capacity, m, runner and prior term: for a
    /// deterministic pass beside the sampled one (MuProp's mean field, REBAR's relaxations).
    public func companion() -> any LatentModel {
        NetworkWorkspace(model: model, capacityImages: capacityImages, samples: samples, runner: runner, divergence: divergence)
    }

    public func units(of l: Int) -> any StochasticUnits { model.layer(l) }
    public func width(_ l: Int) -> Int { model.sizes[l] }
    public var layerCount: Int { model.layerCount }
    public var observedWidth: Int { model.sizes[0] + (model.reconstructsInput ? 0 : model.sizes[model.layerCount]) }

    /// Sets the live row counts for a batch of `images` images.
    public func resize(images: Int) {
        precondition(images <= capacityImages, "NetworkWorkspace: \(images) images exceed capacity \(capacityImages)")
        imageCount = images
        imageBoundary = PartRunner.boundary(images)
        let rows = images * samples
        for m in rowBuffers { m.setRows(rows) }
        for (l, scratch) in mapScratch.enumerated() { scratch.setRows(l == 1 ? images : rows) }
        firstLogitsPerImage.setRows(images)
        firstGradPerImage.setRows(images)
        bottleneckScratch?.setRows(images: images, rows: rows)
        convScratch?.setRows(images: images)
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

    /// Layer-1 logits, once per image, repeated for the m samples.
    public func computeFirstLogits(_ batch: Batch) {
        resize(images: batch.count)
        input = batch.input
        runner.run { part in
            if let b = model.bottleneck { b.prepare(batch.input, images: imageRange(part), scratch: bottleneckScratch!) }
            if let conv = model.conv { conv.forward(batch.input, images: imageRange(part), scratch: convScratch!) }
            let x = convScratch?.features ?? batch.input
            if samples == 1 {
                model.maps[1].forward(x, rows: rowRange(part), into: logits[1], scratch: mapScratch[1])
            } else {
                model.maps[1].forward(x, rows: imageRange(part), into: firstLogitsPerImage, scratch: mapScratch[1])
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
            if l == model.layerCount - 1, let eps = bottleneckScratch?.noise {
                let z = eps.cols
                Normal.sample(
                    into: UnsafeMutableBufferPointer(start: eps.pointer + rows.lowerBound * z, count: rows.count * z),
                    seed: mix.next())
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
        model.layer(l).sample(
            surrogate, logits: logits[l].pointer + start, noise: noise[l].pointer + start,
            values: units[l].pointer + start, local: keepsLocal ? local[l].pointer + start : nil,
            rows: rows.count, temperature: temperature)
        forwardMap(l + 1, rows: rows, mean: surrogate == .mean)
    }

    /// logits[l] from the layer below for `rows`: map l, or for the last map of an M2 network its
    /// Gaussian latent (z = μ when `mean`, else from the stored ε).
    func forwardMap(_ l: Int, rows: Range<Int>, mean: Bool) {
        if l == model.layerCount, let b = model.bottleneck {
            bottleneckMean = mean
            b.forward(units[l - 1], rows: rows, samples: samples, mean: mean, into: logits[l], scratch: bottleneckScratch!)
        } else {
            model.maps[l].forward(units[l - 1], rows: rows, into: logits[l], scratch: mapScratch[l])
        }
    }

    /// Sets stochastic layer l to `values` (a configuration the caller chose, such as one class of
    /// an enumeration; `local` is left as it was) and computes the next logits, drawing the
    /// Gaussian latent's ε from `rng` when the next map has one.
    public func setLayer(_ l: Int, values: Matrix, using rng: inout Xoshiro256) {
        units[l].copy(from: values)
        remember(l, .exact, 1)
        let seed = rng.next()
        runner.run { part in
            let rows = rowRange(part)
            if l == model.layerCount - 1, let eps = bottleneckScratch?.noise {
                var mix = SplitMix64(state: seed ^ (UInt64(part) &* 0xD1B5_4A32_D192_ED03))
                Normal.sample(
                    into: UnsafeMutableBufferPointer(
                        start: eps.pointer + rows.lowerBound * eps.cols, count: rows.count * eps.cols),
                    seed: mix.next())
            }
            forwardMap(l + 1, rows: rows, mean: false)
        }
    }

    /// The whole forward pass: layer-1 logits, every hidden layer with `surrogate`, and the
    /// output score. Returns the batch mean of the multi-sample loss.
    @discardableResult
    public func forward(
        _ batch: Batch, surrogate: UnitSurrogate, temperature: Float, using rng: inout Xoshiro256,
        outputGradient: Bool
    ) -> Double {
        computeFirstLogits(batch)
        return propagate(
            batch, from: 1, surrogate: surrogate, temperature: temperature, using: &rng, outputGradient: outputGradient)
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
    public func forwardMean(_ batch: Batch, layer l: Int, values: Matrix, logits layerLogits: Matrix) -> Double {
        resize(images: batch.count)
        units[l].copy(from: values)
        if divergence != nil { logits[l].copy(from: layerLogits) }
        input = batch.input
        runner.run { part in
            // A companion workspace has not seen this batch: the Gaussian latent's image part first.
            if let b = model.bottleneck { b.prepare(batch.input, images: imageRange(part), scratch: bottleneckScratch!) }
            forwardMap(l + 1, rows: rowRange(part), mean: true)
        }
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
    public func propagate(
        _ batch: Batch, from layer: Int, surrogate: UnitSurrogate, temperature: Float,
        using rng: inout Xoshiro256, outputGradient: Bool = true
    ) -> Double {
        for l in layer..<model.layerCount { sampleLayer(l, surrogate: surrogate, temperature: temperature, using: &rng) }
        return scoreOutput(batch, outputGradient: outputGradient)
    }

    /// Per-row loss (the target's NLL, −log p(target | h), plus the prior terms), per-image
    /// multi-sample loss via log-mean-exp, the sample weights w_{b,i} = softmax_i(−f_i), and
    /// (optionally) ∂NLL_row/∂a_L = σ(a_L) − x. Returns the mean loss over images.
    @discardableResult
    public func scoreOutput(_ batch: Batch, outputGradient: Bool) -> Double {
        let L = model.layerCount
        runner.run { part in
            Kernels.bernoulliNLL(
                logits: logits[L], rows: rowRange(part), targets: batch.target, targetRepeat: samples,
                nll: rowLoss, gradient: outputGradient ? gradLogits[L] : nil, scratch: outputScratch[part])
            if let divergence { addPriorTerms(divergence, rows: rowRange(part)) }
            if let b = model.bottleneck {
                b.addTerm(gaussianDivergence, rows: rowRange(part), scratch: bottleneckScratch!, rowLoss: rowLoss.baseAddress!)
            }
        }
        var total = 0.0
        for b in 0..<imageCount {
            let base = b * samples
            var best = -Double.infinity
            for i in 0..<samples { best = max(best, -Double(rowLoss[base + i])) }
            var sum = 0.0
            for i in 0..<samples {
                let w = Double.exp(-Double(rowLoss[base + i]) - best)
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

    /// Adds every stochastic layer's prior term to the loss of `rows`.
    private func addPriorTerms(_ divergence: LatentPrior.Divergence, rows: Range<Int>) {
        for l in 1..<model.layerCount {
            let cols = model.sizes[l], start = rows.lowerBound * cols
            model.layer(l).addPriorTerm(
                divergence, values: units[l].pointer + start, logits: logits[l].pointer + start,
                prior: model.priorLogits(l)!.pointer, rows: rows.count, rowLoss: rowLoss.baseAddress! + rows.lowerBound,
                scratch: priorScratch[l].pointer + start)
        }
    }

    /// Adds layer l's prior-term derivative ∂f/∂h_l for `rows`, each row weighted by `weights`
    /// (before the layer's surrogate turns ∂/∂h into ∂/∂a).
    private func addPriorGradientValues(_ l: Int, rows: Range<Int>, weights: UnsafeMutableBufferPointer<Float>) {
        addPriorGradient(l, rows: rows, weights: weights, values: true)
    }

    /// Adds layer l's prior-term derivative ∂f/∂a_l at fixed h_l for `rows`, weighted: the loss's
    /// direct dependence on the logits (log q(h | a)).
    private func addPriorGradientLogits(_ l: Int, rows: Range<Int>, weights: UnsafeMutableBufferPointer<Float>) {
        addPriorGradient(l, rows: rows, weights: weights, values: false)
    }

    private func addPriorGradient(_ l: Int, rows: Range<Int>, weights: UnsafeMutableBufferPointer<Float>, values: Bool) {
        guard let divergence else { return }
        let cols = model.sizes[l], start = rows.lowerBound * cols
        model.layer(l).addPriorTermGradient(
            divergence, values: units[l].pointer + start, logits: logits[l].pointer + start,
            prior: model.priorLogits(l)!.pointer, rows: rows.count,
            weights: weights.baseAddress! + rows.lowerBound,
            gradValues: values ? gradUnits[l].pointer + start : nil,
            gradLogits: values ? nil : gradLogits[l].pointer + start, gradPrior: nil,
            scratch: priorScratch[l].pointer + start)
    }

    /// A learned prior's gradient, Σ_rows rowScale · ∂f/∂b, over every row in order (one serial
    /// pass: the prior's logits are shared by all rows).
    private func accumulatePriorGradients(grads: ParameterSet) {
        guard let divergence else { return }
        for l in 1..<model.layerCount {
            guard let gradPrior = model.priorGradient(l, in: grads) else { continue }
            model.layer(l).addPriorTermGradient(
                divergence, values: units[l].pointer, logits: logits[l].pointer,
                prior: model.priorLogits(l)!.pointer, rows: rowCount,
                weights: rowScale.baseAddress!, gradValues: nil, gradLogits: nil,
                gradPrior: gradPrior.pointer, scratch: priorScratch[l].pointer)
        }
    }

    /// Pathwise backward pass of the mean multi-sample loss: ∂/∂a_L is weighted by w_{b,i}/B, then
    /// propagated through every hidden layer by its unit kind's `backward` for the surrogate it
    /// was sampled with, accumulating into `grads`.
    public func backwardPathwise(_ batch: Batch, grads: ParameterSet) {
        scaleOutputGradientByWeights()
        backpropagateHidden(grads: grads, weights: rowScale)
        backwardFirstLayer(batch, grads: grads)
        accumulatePriorGradients(grads: grads)
    }

    /// ∂f_row/∂h_l for every hidden layer into `gradUnits` (and ∂f_row/∂a_l into `gradLogits`),
    /// per row and unweighted, without parameter gradients: the derivative of the loss of each
    /// row's own configuration, as MuProp's Taylor baseline needs it from the mean-field pass.
    public func backwardUnits(downTo lowest: Int) {
        backpropagateHidden(grads: nil, weights: ones, downTo: lowest)
    }

    /// Maps L … lowest + 1: weight gradients (when `grads` is given), ∂/∂h_{l−1} (plus the prior
    /// term's) and ∂/∂a_{l−1} through the layer's surrogate (plus the prior term's direct part),
    /// prior terms weighted by `weights`.
    private func backpropagateHidden(grads: ParameterSet?, weights: UnsafeMutableBufferPointer<Float>, downTo lowest: Int = 1) {
        let L = model.layerCount
        for l in stride(from: L, through: lowest + 1, by: -1) {
            let below = model.layer(l - 1), cols = model.sizes[l - 1]
            backwardMap(l, grads: grads, gradInput: gradUnits[l - 1], weights: weights) { _, rows in
                let start = rows.lowerBound * cols
                if divergence != nil { addPriorGradientValues(l - 1, rows: rows, weights: weights) }
                below.backward(
                    surrogates[l - 1], gradValues: gradUnits[l - 1].pointer + start,
                    local: local[l - 1].pointer + start, gradLogits: gradLogits[l - 1].pointer + start,
                    rows: rows.count, temperature: temperatures[l - 1])
                if divergence != nil { addPriorGradientLogits(l - 1, rows: rows, weights: weights) }
            }
        }
    }

    /// Decoder-only pathwise gradient (the output map), as score-function estimators use.
    public func backwardDecoder(grads: ParameterSet) {
        scaleOutputGradientByWeights()
        backwardMap(model.layerCount, grads: grads, gradInput: nil, weights: rowScale)
    }

    /// The backward pass of map l (or of the Gaussian latent, whose own term is weighted by
    /// `weights` like the output's gradient), then `afterRows` on each part's rows.
    private func backwardMap(
        _ l: Int, grads: ParameterSet?, gradInput: Matrix?, weights: UnsafeMutableBufferPointer<Float>,
        afterRows: (Int, Range<Int>) -> Void = { _, _ in }
    ) {
        if l == model.layerCount, let b = model.bottleneck {
            b.backward(
                units[l - 1], input: input!, gradOutput: gradLogits[l], divergence: gaussianDivergence, mean: bottleneckMean,
                weights: weights.baseAddress!, samples: samples, scratch: bottleneckScratch!, grads: grads,
                gradInput: gradInput, runner: runner, rowRange: rowRange, imageRange: imageRange, afterRows: afterRows)
        } else {
            model.maps[l].backward(
                units[l - 1], gradOutput: gradLogits[l], scratch: mapScratch[l], grads: grads, gradInput: gradInput,
                runner: runner, rowRange: rowRange, afterRows: afterRows)
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
    /// that the caller left in `gradLogits[1 … L−1]` (inputs are the current `units`), after
    /// adding the prior terms' direct gradient ∂f/∂a_l at fixed h_l (weighted like the decoder).
    public func backwardHiddenLogits(_ batch: Batch, grads: ParameterSet) {
        if divergence != nil {
            runner.run { part in
                for l in 1..<model.layerCount { addPriorGradientLogits(l, rows: rowRange(part), weights: rowScale) }
            }
        }
        for l in 2..<model.layerCount {
            model.maps[l].backward(
                units[l - 1], gradOutput: gradLogits[l], scratch: mapScratch[l], grads: grads, gradInput: nil,
                runner: runner, rowRange: rowRange)
        }
        backwardFirstLayer(batch, grads: grads)
        accumulatePriorGradients(grads: grads)
    }

    /// Enumeration's backward pass for one configuration of the top stochastic layer l (set by
    /// `setLayer`, output scored): the gradient of Σ_rows weights · f / B for the map above l, the
    /// learned priors and (accumulated into `gradLogits[l]`) the loss's direct dependence on a_l.
    public func backwardEnumerated(layer l: Int, weights: UnsafeBufferPointer<Float>, grads: ParameterSet) {
        precondition(l == model.layerCount - 1, "backwardEnumerated: only the top stochastic layer is enumerated")
        for r in 0..<rowCount { rowWeight[r] = weights[r] }
        scaleOutputGradientByWeights()
        backwardMap(model.layerCount, grads: grads, gradInput: nil, weights: rowScale)
        if divergence != nil {
            runner.run { part in addPriorGradientLogits(l, rows: rowRange(part), weights: rowScale) }
        }
        accumulatePriorGradients(grads: grads)
    }

    /// Map 1's parameters from the ∂a_1 the caller left in `gradLogits[1]`, adding nothing.
    public func backwardFirstLogits(_ batch: Batch, grads: ParameterSet) { backwardFirstLayer(batch, grads: grads) }

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
        model.maps[1].backward(
            convScratch?.features ?? batch.input, gradOutput: gradient, scratch: mapScratch[1], grads: grads,
            gradInput: convScratch?.gradFeatures, runner: runner, rowRange: imageRange)
        if let conv = model.conv { conv.backward(scratch: convScratch!, grads: grads, runner: runner, imageRange: imageRange) }
    }
}
