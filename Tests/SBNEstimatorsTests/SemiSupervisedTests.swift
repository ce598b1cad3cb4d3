import Foundation
import RealModule
import SBNDistributions
import SBNEstimators
import SBNModel
import SBNOptions
import SBNTensor
import Testing

/// A tiny M2 (Kingma et al. 2014; Jang et al. 2017 §4.3): 6 pixels, K = 3 classes, z of 2, one
/// tanh hidden layer of 4 in the classifier, the Gaussian encoder and the decoder; weights twice
/// the default initialisation so that the gradients are not tiny. With `conv`, a 5 × 5 image
/// (25 pixels) whose classifier starts with those convolutions (5 → 3 → 2 per side).
struct TinyM2 {
    let model: StochasticNetwork
    let batch: Batch

    init(
        divergence: LatentPrior.Divergence, images: Int = 4, seed: UInt64 = 61, conv: [Int]? = nil,
        runner: PartRunner = .serial
    ) {
        let pixels = conv == nil ? 6 : 25
        let spec = GaussianBottleneck.Spec(latent: 2, encoderHidden: [4], decoderHidden: [4], divergence: divergence)
        let architecture = Architecture(
            input: pixels, hidden: [CategoricalUnits(groups: 1, classes: 3)], output: pixels, mapHidden: [[4], []],
            activation: .tanh, gaussian: spec, conv: conv.map(ConvStack.Spec.init))
        var rng = Xoshiro256(seed: seed)
        model = StochasticNetwork(
            architecture: architecture, prior: LatentPrior(kind: .uniform, divergence: .sampled), reconstructsInput: true,
            rng: &rng)
        for t in model.parameters.tensors { for i in 0..<t.count { t.storage[i] *= 2 } }
        batch = Batch(capacity: images, inputSize: pixels, outputSize: pixels, targetIsInput: true)
        // Grey values in the convolutions' images (tanh, as every map here, so that central
        // differences see a smooth function).
        for i in 0..<batch.input.count {
            batch.input.storage[i] = conv == nil ? (rng.nextUniform() < 0.4 ? 1 : 0) : rng.nextUniform()
        }
    }

    /// One pass with the class relaxed at τ = 0.7 (noise from `seed`) and its pathwise gradient.
    func pathwiseGradient(_ ws: NetworkWorkspace, seed: UInt64) -> ParameterSet {
        var rng = Xoshiro256(seed: seed)
        ws.computeFirstLogits(batch)
        ws.sampleLayer(1, surrogate: .relaxed, temperature: 0.7, using: &rng)
        ws.scoreOutput(batch)
        let grads = model.makeGradients()
        ws.backwardPathwise(batch, grads: grads)
        return grads
    }

    /// Central differences of `objective` in every parameter of the model.
    func finiteDifferences(h: Float = 1e-2, _ objective: () -> Double) -> [Double] {
        centralDifferences(model.parameters, h: h, objective)
    }
}

/// Central differences of `objective` (a deterministic function of `parameters`) in every entry,
/// step `h`, flattened in parameter order.
func centralDifferences(_ parameters: ParameterSet, h: Float = 1e-2, _ objective: () -> Double) -> [Double] {
    var out: [Double] = []
    for t in parameters.tensors {
        for i in 0..<t.count {
            let keep = t.storage[i]
            t.storage[i] = keep + h
            let up = objective()
            t.storage[i] = keep - h
            let down = objective()
            t.storage[i] = keep
            out.append((up - down) / Double(2 * h))
        }
    }
    return out
}

/// Expects `gradient` equal to `reference` within `absolute` + `relative`·|reference| per entry,
/// and the reference not all zero (so that the check can fail).
func expectClose(
    _ gradient: [Double], _ reference: [Double], absolute: Double, relative: Double, _ label: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(gradient.count == reference.count, "\(label): sizes", sourceLocation: sourceLocation)
    var worst = 0.0, bad = 0
    for (g, r) in zip(gradient, reference) {
        let excess = abs(g - r) / (absolute + relative * abs(r))
        worst = max(worst, excess)
        if excess > 1 { bad += 1 }
    }
    #expect(
        bad == 0, "\(label): \(bad) of \(gradient.count) entries off (worst \(worst) × tolerance)", sourceLocation: sourceLocation
    )
    #expect(norm(reference) > 0.1, "\(label): the reference must not vanish", sourceLocation: sourceLocation)
    print("\(label): worst |g − reference| / tolerance = \(worst)")
}

@Suite struct SemiSupervisedTests {
    /// `marginal` on a tiny VAE with one 3-way variable: its loss is the enumerated −ELBO and its
    /// gradient the enumerated gradient (no noise at all: nothing above the variable is random),
    /// with the sampled prior term (log q − log p) and with the closed-form KL.
    @Test(arguments: [LatentPrior.Divergence.sampled, .analytic])
    func marginalEqualsTheEnumeratedELBOAndItsGradient(divergence: LatentPrior.Divergence) throws {
        let vae = TinyVAE(latent: .categorical, divergence: divergence, units: CategoricalUnits(groups: 1, classes: 3))
        let exact = vae.enumerate(vae.parameters)
        let ws = NetworkWorkspace(model: vae.model, capacityImages: vae.batch.count)
        let estimator = try MarginalEstimator.make(model: ws, options: AnyOptions(NoOptions()))
        let grads = vae.model.makeGradients()
        var rng = Xoshiro256(seed: 1)
        let loss = estimator.estimate(
            vae.batch, grads: grads, context: StepContext(step: 0, temperature: 1, learningRate: 0), using: &rng)
        let enumerated = exact.reduce(0) { $0 + $1.elbo } / Double(exact.count)
        #expect(abs(loss - enumerated) < 1e-4 * abs(enumerated), "loss \(loss), enumerated \(enumerated)")
        expectClose(
            grads.tensors.flatMap { $0.buffer.map(Double.init) }, vae.exactGradient(), absolute: 2e-4, relative: 1e-3,
            "marginal (\(divergence))")
    }

    /// M2's pathwise gradient (relaxed y, reparameterised z, z's term in either form, the class's
    /// prior term) equals central differences of the same pass replayed from its stored noise,
    /// for one sample per image and for the two-sample bound.
    @Test(arguments: [(LatentPrior.Divergence.analytic, 1), (.sampled, 1), (.sampled, 2)])
    func gaussianReparameterisedGradientMatchesFiniteDifferences(divergence: LatentPrior.Divergence, samples: Int) {
        pathwiseGradientMatchesFiniteDifferences(TinyM2(divergence: divergence), samples: samples, "\(divergence)")
    }

    /// The same with a CNN classifier (`ConvStack`, im2col + gemm): its kernels' and biases'
    /// gradients against central differences, for m = 1 and m = 2.
    @Test(arguments: [1, 2])
    func convolutionalClassifierGradientMatchesFiniteDifferences(samples: Int) {
        pathwiseGradientMatchesFiniteDifferences(
            TinyM2(divergence: .analytic, conv: [2, 3]), samples: samples, "conv classifier")
    }

    func pathwiseGradientMatchesFiniteDifferences(_ m2: TinyM2, samples: Int, _ label: String) {
        let ws = NetworkWorkspace(model: m2.model, capacityImages: m2.batch.count, samples: samples)
        let analytic = m2.pathwiseGradient(ws, seed: 62).tensors.flatMap { $0.buffer.map(Double.init) }
        let numeric = m2.finiteDifferences {
            ws.computeFirstLogits(m2.batch)
            ws.applyLayer(1, surrogate: .relaxed, temperature: 0.7)
            return ws.scoreOutput(m2.batch, outputGradient: false)
        }
        expectClose(analytic, numeric, absolute: 5e-4, relative: 5e-3, "m2 pathwise (\(label), m = \(samples))")
        if let conv = m2.model.conv {
            // The convolutions' own entries, so that their reference cannot hide among the rest.
            let n = m2.model.parameters.tensors.prefix(2 * conv.spec.channels.count).reduce(0) { $0 + $1.count }
            expectClose(
                Array(analytic.prefix(n)), Array(numeric.prefix(n)), absolute: 5e-4, relative: 5e-3,
                "conv kernels (m = \(samples))")
        }
    }

    /// `marginal` on M2 (z drawn once per class) is the exact gradient of its own objective
    /// Σ_k q_k f(k, ε_k): central differences of the estimate replayed with the same stream.
    @Test func marginalOnM2IsTheGradientOfItsObjective() throws {
        let m2 = TinyM2(divergence: .analytic)
        let ws = NetworkWorkspace(model: m2.model, capacityImages: m2.batch.count)
        let estimator = try MarginalEstimator.make(model: ws, options: AnyOptions(NoOptions()))
        let context = StepContext(step: 0, temperature: 1, learningRate: 0)
        let grads = m2.model.makeGradients(), scratch = m2.model.makeGradients()
        var rng = Xoshiro256(seed: 63)
        let loss = estimator.estimate(m2.batch, grads: grads, context: context, using: &rng)
        let numeric = m2.finiteDifferences {
            var replay = Xoshiro256(seed: 63)
            return estimator.estimate(m2.batch, grads: scratch, context: context, using: &replay)
        }
        expectClose(
            grads.tensors.flatMap { $0.buffer.map(Double.init) }, numeric, absolute: 5e-4, relative: 5e-3, "marginal on m2")
        // The same objective by hand: K passes with the class set, the same noise stream.
        let check = NetworkWorkspace(model: m2.model, capacityImages: m2.batch.count)
        check.computeFirstLogits(m2.batch)
        let values = Matrix(rows: m2.batch.count, cols: 3)
        var replay = Xoshiro256(seed: 63), total = 0.0
        let logits = (0..<m2.batch.count).map { r in (0..<3).map { Double(check.logits[1][r, $0]) } }
        for k in 0..<3 {
            values.fill(0)
            for r in 0..<m2.batch.count { values[r, k] = 1 }
            check.setLayer(1, values: values, using: &replay)
            check.scoreOutput(m2.batch, outputGradient: false)
            for r in 0..<m2.batch.count {
                let a = logits[r], top = a.max()!, z = a.reduce(0) { $0 + .exp($1 - top) }
                total += Double.exp(a[k] - top) / z * Double(check.rowLoss[r])
            }
        }
        #expect(abs(loss - total / Double(m2.batch.count)) < 1e-4 * abs(loss), "loss \(loss) by hand \(total / 4)")
    }

    /// ST Gumbel-Softmax on the class (Jang et al. 2017 §2.2): forward, the one-hot argmax(a + g);
    /// backward, the relaxation's Jacobian (1/τ) s ⊙ (g_y − ⟨g_y, s⟩), s = softmax((a + g)/τ),
    /// plus the class's prior term's direct part (y − softmax(a))/B.
    @Test func straightThroughGumbelSoftmaxOnTheClass() {
        let m2 = TinyM2(divergence: .analytic)
        let ws = NetworkWorkspace(model: m2.model, capacityImages: m2.batch.count)
        var rng = Xoshiro256(seed: 64)
        let tau: Float = 0.6
        ws.forward(m2.batch, surrogate: .straightThroughRelaxed, temperature: tau, using: &rng)
        ws.backwardPathwise(m2.batch, grads: m2.model.makeGradients())
        var checked = 0
        for r in 0..<m2.batch.count {
            let a = (0..<3).map { Double(ws.logits[1][r, $0]) }, g = (0..<3).map { Double(ws.noise[1][r, $0]) }
            let perturbed = zip(a, g).map { $0 + $1 }
            let winner = perturbed.indices.max { perturbed[$0] < perturbed[$1] }!
            for k in 0..<3 { #expect(ws.units[1][r, k] == (k == winner ? 1 : 0), "row \(r): forward is one-hot argmax") }
            func softmax(_ x: [Double]) -> [Double] {
                let top = x.max()!, e = x.map { Double.exp($0 - top) }, z = e.reduce(0, +)
                return e.map { $0 / z }
            }
            let s = softmax(perturbed.map { $0 / Double(tau) }), q = softmax(a)
            let gy = (0..<3).map { Double(ws.gradUnits[1][r, $0]) }
            let inner = zip(gy, s).reduce(0) { $0 + $1.0 * $1.1 }
            for k in 0..<3 {
                let expected = s[k] * (gy[k] - inner) / Double(tau) + ((k == winner ? 1 : 0) - q[k]) / Double(m2.batch.count)
                #expect(abs(Double(ws.gradLogits[1][r, k]) - expected) < 1e-5, "row \(r) class \(k)")
                checked += 1
            }
        }
        #expect(checked == 12)
    }
}

/// The labelled images' term (Kingma et al. 2014 eq. 9 per image): its value is
/// λ·mean L(x, y) + α·mean(−log q(y | x)), L computed by hand from the row loss with the class
/// set to the label, and its gradient the derivative of that value (central differences of the
/// term replayed with the same noise).
@Suite struct LabelledTermTests {
    @Test func weightsAndGradientAreAsDocumented() {
        let m2 = TinyM2(divergence: .analytic)
        let (lambda, alpha): (Float, Float) = (0.3, 2.5)
        let ws = NetworkWorkspace(model: m2.model, capacityImages: m2.batch.count)
        let term = LabelledTerm(model: ws, alpha: alpha, elboWeight: lambda)
        let labels = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 4)
        defer { labels.deallocate() }
        for (r, y) in [2, 0, 1, 2].enumerated() { labels[r] = Int32(y) }
        let grads = m2.model.makeGradients()
        var rng = Xoshiro256(seed: 65)
        let value = term.accumulate(m2.batch, labels: UnsafeBufferPointer(labels), grads: grads, using: &rng)
        // By hand: the row loss holds −log p(x|y,z) + KL_z + log q(y|x) + log 3.
        let check = NetworkWorkspace(model: m2.model, capacityImages: 4)
        check.computeFirstLogits(m2.batch)
        let values = Matrix(rows: 4, cols: 3)
        for r in 0..<4 { values[r, Int(labels[r])] = 1 }
        var replay = Xoshiro256(seed: 65)
        check.setLayer(1, values: values, using: &replay)
        check.scoreOutput(m2.batch, outputGradient: false)
        var expected = 0.0
        for r in 0..<4 {
            let a = (0..<3).map { Double(check.logits[1][r, $0]) }, top = a.max()!
            let logQ = a[Int(labels[r])] - top - .log(a.reduce(0) { $0 + .exp($1 - top) })
            expected += Double(lambda) * (Double(check.rowLoss[r]) - logQ) + Double(alpha) * -logQ
        }
        expected /= 4
        #expect(abs(value - expected) < 1e-5 * abs(expected), "term \(value), by hand \(expected)")
        let scratch = m2.model.makeGradients()
        let numeric = m2.finiteDifferences {
            var again = Xoshiro256(seed: 65)
            return term.accumulate(m2.batch, labels: UnsafeBufferPointer(labels), grads: scratch, using: &again)
        }
        expectClose(
            grads.tensors.flatMap { $0.buffer.map(Double.init) }, numeric, absolute: 5e-4, relative: 5e-3, "labelled term")
    }
}
