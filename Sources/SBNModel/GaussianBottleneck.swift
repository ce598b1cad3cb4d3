import RealModule
import SBNDistributions
import SBNTensor

/// A continuous latent z between the last stochastic layer y and the output, with the image x as
/// a second input: the generative half of Kingma et al. 2014's M2, which Jang et al. 2017 §4.3
/// trains with y ~ q(y | x) relaxed, sampled or summed out.
///
///   q(z | x, y) = N(μ, diag e^v),  [μ, v] = E(act(x·Wzx + bzx + y·Wzy)),
///   z = μ + e^{v/2} ε,  ε ~ N(0, I)   (the reparameterisation, Kingma & Welling 2014 eq. 10),
///   logits of p(x | y, z) = D([y, z]).
///
/// The loss of a row gains the z term: the closed-form KL(q(z | x, y) ‖ N(0, I)) =
/// ½ Σ_j (μ_j² + e^{v_j} − 1 − v_j) (Kingma & Welling 2014 appendix B), or the sampled
/// log q(z | x, y) − log p(z) = Σ_j (z_j² − ε_j² − v_j)/2 at the drawn z, which the m-sample
/// importance-weighted bound needs (an evaluation always uses it).
///
/// The encoder's first layer is split into the image's part (computed once per image, whatever
/// the number of samples or of classes an estimator sums over) and the class's part, so that
/// summing over K classes costs K passes of the rest of the encoder and of the decoder, not of the
/// 784-wide first layer.
public struct GaussianBottleneck: @unchecked Sendable {
    /// What an experiment chooses: z's size, the encoder's and decoder's hidden widths, z's term.
    public struct Spec: Sendable, Equatable {
        public var latent: Int
        /// Widths of E after the first (split) layer's output: at least one (the first layer's width).
        public var encoderHidden: [Int]
        /// Widths of D's hidden layers, from [y, z] towards the output.
        public var decoderHidden: [Int]
        public var divergence: LatentPrior.Divergence

        public init(latent: Int, encoderHidden: [Int], decoderHidden: [Int], divergence: LatentPrior.Divergence = .analytic) {
            precondition(latent > 0 && !encoderHidden.isEmpty, "GaussianBottleneck: need z > 0 and an encoder hidden layer")
            self.latent = latent
            self.encoderHidden = encoderHidden
            self.decoderHidden = decoderHidden
            self.divergence = divergence
        }

        public var description: String {
            "gaussian(\(latent))[" + encoderHidden.map(String.init).joined(separator: "-") + "|"
                + decoderHidden.map(String.init).joined(separator: "-") + "]"
        }
    }

    public let spec: Spec
    /// x's width, y's width (the classes), the output's width.
    public let input: Int, classes: Int, output: Int
    public var latent: Int { spec.latent }
    public let activation: Activation
    /// x·Wzx + bzx: x's part of E's first layer.
    public let fromImage: DenseMap
    /// Wzy (classes × first width): y's part, without a bias of its own.
    let fromClass: Matrix
    let fromClassIndex: Int
    /// E after the first layer's activation: [first, hidden…, 2·latent] → [μ | v].
    public let encoder: DenseMap
    /// D: [classes + latent, hidden…, output].
    public let decoder: DenseMap
    public var firstWidth: Int { spec.encoderHidden[0] }
    var jointWidth: Int { classes + latent }

    /// The parameters in order: Wzx, bzx, Wzy, E's (Wz…), D's (W<map>…).
    static func parameterLayout(_ spec: Spec, input: Int, classes: Int, output: Int, map l: Int) -> [(
        name: String, rows: Int, cols: Int
    )] {
        let first = spec.encoderHidden[0]
        return DenseMap.parameterLayout([input, first], stem: "zx") + [("Wzy", classes, first)]
            + DenseMap.parameterLayout(spec.encoderHidden + [2 * spec.latent], stem: "z")
            + DenseMap.parameterLayout([classes + spec.latent] + spec.decoderHidden + [output], stem: "\(l)")
    }

    /// The number of tensors `parameterLayout` lists.
    static func tensorCount(_ spec: Spec) -> Int { 2 + 1 + 2 * spec.encoderHidden.count + 2 * (spec.decoderHidden.count + 1) }

    init(spec: Spec, input: Int, classes: Int, output: Int, activation: Activation, parameters: ParameterSet, firstIndex: Int) {
        self.spec = spec
        self.input = input
        self.classes = classes
        self.output = output
        self.activation = activation
        fromImage = DenseMap(
            widths: [input, spec.encoderHidden[0]], activation: activation, parameters: parameters, firstIndex: firstIndex)
        fromClassIndex = firstIndex + 2
        fromClass = parameters.tensors[fromClassIndex]
        encoder = DenseMap(
            widths: spec.encoderHidden + [2 * spec.latent], activation: activation, parameters: parameters,
            firstIndex: firstIndex + 3)
        decoder = DenseMap(
            widths: [classes + spec.latent] + spec.decoderHidden + [output], activation: activation, parameters: parameters,
            firstIndex: firstIndex + 3 + 2 * encoder.depth)
    }

    /// Fan-in of each tensor's layer, for the initialisation (y's and x's parts share the first
    /// layer's fan-in, input + classes, as one layer over [x, y] would have).
    var fanIns: [Int] {
        [input + classes, input + classes, input + classes] + encoder.widths.dropLast().flatMap { [$0, $0] }
            + decoder.widths.dropLast().flatMap { [$0, $0] }
    }

    /// What a workspace keeps of the bottleneck per pass.
    public final class Scratch: @unchecked Sendable {
        /// Per image: x·Wzx + bzx.
        let imagePart: Matrix
        /// Per row: act(imagePart + y·Wzy), E's input.
        let first: Matrix
        /// Per row: [μ | v].
        let stats: Matrix
        /// Per row: ε (drawn by the workspace; zero for the mean-field pass).
        public let noise: Matrix
        /// Per row: [y | z], D's input.
        let joint: Matrix
        let gradFirst: Matrix, gradStats: Matrix, gradJoint: Matrix, gradImagePart: Matrix
        let encoderScratch: DenseMap.Scratch, decoderScratch: DenseMap.Scratch, imageScratch: DenseMap.Scratch

        init(_ b: GaussianBottleneck, images: Int, rows: Int) {
            imagePart = Matrix(rows: images, cols: b.firstWidth)
            gradImagePart = Matrix(rows: images, cols: b.firstWidth)
            first = Matrix(rows: rows, cols: b.firstWidth)
            gradFirst = Matrix(rows: rows, cols: b.firstWidth)
            stats = Matrix(rows: rows, cols: 2 * b.latent)
            gradStats = Matrix(rows: rows, cols: 2 * b.latent)
            noise = Matrix(rows: rows, cols: b.latent)
            joint = Matrix(rows: rows, cols: b.jointWidth)
            gradJoint = Matrix(rows: rows, cols: b.jointWidth)
            encoderScratch = b.encoder.makeScratch(rows: rows)
            decoderScratch = b.decoder.makeScratch(rows: rows)
            imageScratch = b.fromImage.makeScratch(rows: images)
        }

        func setRows(images: Int, rows: Int) {
            for m in [imagePart, gradImagePart] { m.setRows(images) }
            for m in [first, gradFirst, stats, gradStats, noise, joint, gradJoint] { m.setRows(rows) }
            encoderScratch.setRows(rows)
            decoderScratch.setRows(rows)
            imageScratch.setRows(images)
        }
    }

    public func makeScratch(images: Int, rows: Int) -> Scratch { Scratch(self, images: images, rows: rows) }

    /// x's part of the first layer for the images `images` of `input`.
    func prepare(_ input: Matrix, images: Range<Int>, scratch s: Scratch) {
        fromImage.forward(input, rows: images, into: s.imagePart, scratch: s.imageScratch)
    }

    /// The output logits of rows `rows` from y (`classValues`) and the stored ε (z = μ when
    /// `mean`): each image's part repeated for its `samples` rows, plus y·Wzy, E, z, D.
    func forward(
        _ classValues: Matrix, rows: Range<Int>, samples: Int, mean: Bool, into out: Matrix, scratch s: Scratch
    ) {
        let images = (rows.lowerBound / samples)..<(rows.upperBound / samples)
        Kernels.repeatRows(s.imagePart, images, times: samples, into: s.first)
        BLAS.gemm(classValues.view(rows: rows), fromClass.view, into: s.first.view(rows: rows), beta: 1)
        encoder.activate(s.first, rows: rows)
        encoder.forward(s.first, rows: rows, into: s.stats, scratch: s.encoderScratch)
        let z = latent, k = classes
        for r in rows {
            let st = s.stats.row(r), e = s.noise.row(r), j = s.joint.row(r), y = classValues.row(r)
            for c in 0..<k { j[c] = y[c] }
            for c in 0..<z { j[k + c] = mean ? st[c] : st[c] + Float.exp(0.5 * st[z + c]) * e[c] }
        }
        decoder.forward(s.joint, rows: rows, into: out, scratch: s.decoderScratch)
    }

    /// Adds z's term to `rowLoss` for `rows`: the closed-form KL, or the sampled log-ratio.
    func addTerm(_ divergence: LatentPrior.Divergence, rows: Range<Int>, scratch s: Scratch, rowLoss: UnsafeMutablePointer<Float>)
    {
        let z = latent, k = classes
        for r in rows {
            let st = s.stats.row(r), e = s.noise.row(r), zr = s.joint.row(r) + k
            var total = 0.0
            for c in 0..<z {
                let mu = st[c], v = st[z + c]
                switch divergence {
                case .analytic: total += Double(0.5 * (mu * mu + Float.exp(v) - 1 - v))
                case .sampled: total += Double(0.5 * (zr[c] * zr[c] - e[c] * e[c] - v))
                }
            }
            rowLoss[r] = Float(Double(rowLoss[r]) + total)
        }
    }

    /// The backward pass of `forward` and of z's term (weighted per row by `weights`, as the
    /// output's gradient already is): parameter gradients into `grads` (when given), ∂loss/∂y into
    /// `gradInput` (when given), then `afterRows(part, rows)` on each part's rows.
    func backward(
        _ classValues: Matrix, input: Matrix, gradOutput: Matrix, divergence: LatentPrior.Divergence, mean: Bool,
        weights: UnsafePointer<Float>, samples: Int, scratch s: Scratch, grads: ParameterSet?, gradInput: Matrix?,
        runner: PartRunner, rowRange: (Int) -> Range<Int>, imageRange: (Int) -> Range<Int>,
        afterRows: (Int, Range<Int>) -> Void = { _, _ in }
    ) {
        decoder.backward(
            s.joint, gradOutput: gradOutput, scratch: s.decoderScratch, grads: grads, gradInput: s.gradJoint,
            runner: runner, rowRange: rowRange
        ) { _, rows in statsGradient(rows, divergence: divergence, mean: mean, weights: weights, scratch: s) }
        encoder.backward(
            s.first, gradOutput: s.gradStats, scratch: s.encoderScratch, grads: grads, gradInput: s.gradFirst,
            runner: runner, rowRange: rowRange
        ) { part, rows in
            encoder.activationBackward(s.gradFirst, values: s.first, rows: rows)
            if let gradInput {
                // ∂/∂y = D's part of ∂/∂[y, z] + ∂/∂first · Wzyᵀ.
                for r in rows { gradInput.row(r).update(from: s.gradJoint.row(r), count: classes) }
                BLAS.gemm(
                    s.gradFirst.view(rows: rows), fromClass.view, transposeB: true, into: gradInput.view(rows: rows), beta: 1)
                afterRows(part, rows)
            }
        }
        guard let grads else { return }
        firstLayerGradients(
            classValues, input: input, samples: samples, scratch: s, grads: grads, runner: runner, imageRange: imageRange)
    }

    /// ∂/∂[μ, v] of rows `rows` from ∂/∂z (in `gradJoint`) and z's term.
    private func statsGradient(
        _ rows: Range<Int>, divergence: LatentPrior.Divergence, mean: Bool, weights: UnsafePointer<Float>, scratch s: Scratch
    ) {
        let z = latent, k = classes
        for r in rows {
            let w = weights[r], st = s.stats.row(r), e = s.noise.row(r), zr = s.joint.row(r) + k
            let gz = s.gradJoint.row(r) + k, g = s.gradStats.row(r)
            for c in 0..<z {
                let mu = st[c], v = st[z + c], sigma = Float.exp(0.5 * v)
                var dz = gz[c], dmu: Float, dv: Float
                switch divergence {
                case .analytic:
                    dmu = w * mu
                    dv = w * 0.5 * (Float.exp(v) - 1)
                case .sampled:
                    dz += w * zr[c]
                    dmu = 0
                    dv = -0.5 * w
                }
                g[c] = dz + dmu
                // z = μ + e^{v/2} ε: ∂z/∂v = ½ e^{v/2} ε (0 for the mean-field pass, z = μ).
                g[z + c] = (mean ? 0 : dz * 0.5 * sigma * e[c]) + dv
            }
        }
    }

    /// Wzy's gradient over every row, and Wzx's and bzx's from the per-image sums of ∂/∂first.
    private func firstLayerGradients(
        _ classValues: Matrix, input: Matrix, samples: Int, scratch s: Scratch, grads: ParameterSet, runner: PartRunner,
        imageRange: (Int) -> Range<Int>
    ) {
        let width = firstWidth, boundary = PartRunner.boundary(width, align: 16)
        runner.run { part in
            let columns = PartRunner.range(part, of: width, boundary: boundary)
            BLAS.gemm(
                classValues.view, transposeA: true, s.gradFirst.view(columns: columns),
                into: grads.tensors[fromClassIndex].view(columns: columns), beta: 1)
        }
        var perImage = s.gradFirst
        if samples > 1 {
            runner.run { part in
                for b in imageRange(part) {
                    let dst = s.gradImagePart.row(b)
                    dst.update(repeating: 0, count: width)
                    for r in (b * samples)..<((b + 1) * samples) {
                        let src = s.gradFirst.row(r)
                        for c in 0..<width { dst[c] += src[c] }
                    }
                }
            }
            perImage = s.gradImagePart
        }
        fromImage.backward(
            input, gradOutput: perImage, scratch: s.imageScratch, grads: grads, gradInput: nil, runner: runner,
            rowRange: imageRange)
    }
}
