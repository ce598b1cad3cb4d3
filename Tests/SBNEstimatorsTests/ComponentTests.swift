import Foundation
import SBNDiagnostics
import SBNDistributions
import SBNEstimators
import SBNModel
import SBNOptions
import SBNTensor
import Testing

/// Optimizers and schedules against values computed by hand from their papers' formulas.
@Suite struct OptimizerAndScheduleTests {
    /// θ = [1, −2], g = [0.5, 0.25], lr 0.1.
    func oneParameterSet() -> (ParameterSet, ParameterSet) {
        let p = ParameterSet([("w", 1, 2)]), g = ParameterSet([("w", 1, 2)])
        p.tensors[0].storage[0] = 1
        p.tensors[0].storage[1] = -2
        setGradient(g)
        return (p, g)
    }

    func setGradient(_ g: ParameterSet) {
        g.tensors[0].storage[0] = 0.5
        g.tensors[0].storage[1] = 0.25
    }

    /// Adam's first step moves every weight by lr·sign(g) (up to ε): m̂ = g, v̂ = g²
    /// (Kingma & Ba 2015, Algorithm 1). The second, with the same gradient, does so again.
    @Test func adamStepsByTheLearningRate() {
        let (p, g) = oneParameterSet()
        let adam = Adam(parameters: p, learningRate: 0.1)
        #expect(adam.step(p, gradients: g) == nil)
        #expect(g.tensors[0].values == [0, 0], "the step consumes the gradient")
        let w = p.tensors[0]
        #expect(abs(w.storage[0] - 0.9) < 1e-6)
        #expect(abs(w.storage[1] + 2.1) < 1e-6)
        #expect(adam.state.integers["t"] == 1)
        // m = (1 − β1) g, v = (1 − β2) g², in Float arithmetic (1 − 0.999 rounds in single precision).
        let (beta1, beta2): (Float, Float) = (0.9, 0.999)
        #expect(adam.state.tensors["m/w"].storage[0] == (1 - beta1) * 0.5)
        #expect(adam.state.tensors["v/w"].storage[0] == (1 - beta2) * 0.5 * 0.5)
        setGradient(g)
        adam.step(p, gradients: g)
        #expect(abs(w.storage[0] - 0.8) < 1e-6)
        #expect(abs(w.storage[1] + 2.2) < 1e-6)
    }

    /// Heavy-ball SGD: v₁ = g, θ₁ = θ − ηg; v₂ = μg + g, θ₂ = θ₁ − η(1 + μ)g.
    @Test func sgdMomentumAccumulatesVelocity() {
        let (p, g) = oneParameterSet()
        var options = SGDMomentum.Options()
        options.momentum = 0.5
        let sgd = SGDMomentum(parameters: p, learningRate: 0.1, options: options)
        sgd.step(p, gradients: g)
        let first: Float = 1 - 0.1 * 0.5
        #expect(p.tensors[0].storage[0] == first)
        #expect(g.tensors[0].values == [0, 0], "the step consumes the gradient")
        setGradient(g)
        sgd.step(p, gradients: g)
        let second: [Float] = [0.95 - 0.1 * 1.5 * 0.5, -2 - 0.1 * 0.25 - 0.1 * 1.5 * 0.25]
        #expect(abs(p.tensors[0].storage[0] - second[0]) < 1e-7)
        #expect(abs(p.tensors[0].storage[1] - second[1]) < 1e-7)
    }

    /// A non-finite gradient is reported by name, whichever part of the tensor holds it.
    @Test func optimizersNameANonFiniteGradient() {
        let p = ParameterSet([("a", 3, 64), ("b", 1, 5)])
        for nonFinite in [Float.nan, .infinity] {
            let g = p.zerosLike()
            g["b"].storage[4] = nonFinite
            #expect(Adam(parameters: p, learningRate: 0.1).step(p, gradients: g, runner: PartRunner(workers: 2)) == "b")
            g["a"].storage[150] = nonFinite
            #expect(SGDMomentum(parameters: p, learningRate: 0.1).step(p, gradients: g) == "a")
        }
    }

    /// τ = max(τ_min, τ₀·exp(−r·⌊t/N⌋N)) (Jang et al. 2017 §4.2).
    @Test func exponentialTemperatureFollowsItsFormula() {
        var o = ExponentialTemperature.Options()
        (o.tau, o.tauMin, o.rate, o.every) = (2, 0.5, 1e-3, 10)
        let s = ExponentialTemperature(options: o)
        #expect(s.temperature(atStep: 0) == 2 && s.temperature(atStep: 9) == 2)
        #expect(s.temperature(atStep: 10) == Float(2 * Foundation.exp(-0.01)))
        #expect(s.temperature(atStep: 259) == Float(2 * Foundation.exp(-0.25)))
        #expect(s.temperature(atStep: 5000) == 0.5)
        #expect(FixedTemperature(options: .init()).temperature(atStep: 123_456) == 1)
    }
}

/// NVIL's input-dependent baseline: its backpropagated gradient matches central finite
/// differences of its squared-error loss, so a missing factor (the 2, the 1/n, tanh′) fails.
@Suite struct InputDependentBaselineTests {
    @Test func gradientMatchesFiniteDifferences() {
        let (_, batch) = tinyProblem(sizes: [6, 5, 4, 6], images: 4, seed: 41)
        let baseline = InputDependentBaseline(observedWidth: 12, hiddenUnits: 3, capacity: 4, learningRate: 1e-3)
        // W2 starts at 0; give it values so that every parameter has a gradient.
        var rng = Xoshiro256(seed: 42)
        for t in baseline.parameters.tensors { for i in 0..<t.count { t.storage[i] = 2 * rng.nextUniform() - 1 } }
        let targets: [Double] = [1.5, -0.5, 0.25, 2]
        func loss() -> Double {
            let out = baseline.predict(batch)
            return (0..<4).reduce(0.0) { $0 + (targets[$1] - Double(out[$1])) * (targets[$1] - Double(out[$1])) } / 4
        }
        _ = loss()
        targets.withUnsafeBufferPointer { baseline.computeGradient(targets: $0) }
        let numeric = centralDifferences(baseline.parameters, loss)
        let analytic = baseline.parameters.names.flatMap { baseline.grads[$0].buffer.map(Double.init) }
        for (i, (n, a)) in zip(numeric, analytic).enumerated() {
            #expect(abs(n - a) <= 2e-3 * max(1, abs(n)), "entry \(i): \(a) vs \(n)")
        }
    }
}

/// A short batch in a larger workspace (the last batch of an epoch) gives exactly the gradient of
/// a workspace of its own size: nothing of the unused rows leaks in, and the mean is over its images.
@Suite struct ShortBatchTests {
    @Test(arguments: ["gs", "st", "reinforce", "arm"])
    func shortBatchGradientEqualsItsOwnWorkspace(name: String) throws {
        let (model, full) = tinyProblem(sizes: [6, 5, 4, 6], images: 5, seed: 51)
        let short = Batch(capacity: 3, inputSize: 6, outputSize: 6)
        for (dst, src) in [(short.input, full.input), (short.target, full.target)] {
            for r in 0..<3 { for c in 0..<6 { dst[r, c] = src[r, c] } }
        }
        func gradient(capacity: Int) throws -> [Float] {
            // Fill the big workspace with a full batch first, as the previous steps of an epoch do.
            let type = try #require(EstimatorRegistry.registry.lookup(name))
            let estimator = try type.make(
                model: NetworkWorkspace(model: model, capacityImages: capacity),
                options: AnyOptions(type.optionsType.init()))
            let grads = model.makeGradients()
            var rng = Xoshiro256(seed: 52)
            let context = StepContext(step: 0, temperature: 1, learningRate: 0)
            if capacity == 5 { _ = estimator.estimate(full, grads: grads, context: context, using: &rng) }
            rng = Xoshiro256(seed: 53)
            grads.zero()
            _ = estimator.estimate(short, grads: grads, context: context, using: &rng)
            return grads.tensors.flatMap { Array($0.buffer) }
        }
        let a = try gradient(capacity: 5), b = try gradient(capacity: 3)
        if name == "reinforce" {
            // Its moving averages saw one more batch in the larger workspace; compare the decoder only.
            let decoder = model.parameters.tensors.suffix(2).reduce(0) { $0 + $1.count }
            #expect(Array(a.suffix(decoder)) == Array(b.suffix(decoder)))
        } else {
            #expect(a == b)
        }
    }
}

/// REINFORCE's running moments follow NVIL: the mean is a moving average of the batch means of
/// f − b_ψ(x), the variance a moving average of each batch's variance around its own mean.
@Suite struct ReinforceMomentTests {
    @Test func varianceIsTheBatchVarianceAroundTheBatchMean() throws {
        let (model, batch) = tinyProblem(sizes: [6, 5, 4, 6], images: 8, seed: 81)
        var options = ReinforceEstimator.Options()
        options.inputBaseline = false
        let ws = NetworkWorkspace(model: model, capacityImages: 8)
        let estimator = try ReinforceEstimator(model: ws, options: options)
        let grads = model.makeGradients()
        var rng = Xoshiro256(seed: 82)
        func step() -> (mean: Double, variance: Double) {
            _ = estimator.estimate(
                batch, grads: grads, context: StepContext(step: 0, temperature: 1, learningRate: 0), using: &rng)
            let f = (0..<ws.imageCount).map { ws.imageLoss[$0] }
            let mean = f.reduce(0, +) / Double(f.count)
            return (mean, f.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(f.count))
        }
        // The first batch initialises both moments, then they are updated once with it.
        let first = step()
        #expect(abs(try #require(estimator.state.reals["variance"]) - first.variance) < 1e-9 * max(first.variance, 1))
        let (m1, v1) = (try #require(estimator.state.reals["mean"]), try #require(estimator.state.reals["variance"]))
        let second = step()
        let m2 = try #require(estimator.state.reals["mean"]), v2 = try #require(estimator.state.reals["variance"])
        #expect(abs(m2 - (0.9 * m1 + 0.1 * second.mean)) < 1e-9 * abs(m2))
        #expect(abs(v2 - (0.9 * v1 + 0.1 * second.variance)) < 1e-9 * max(v2, 1), "v2 \(v2), batch variance \(second.variance)")
        #expect(second.mean != m1, "the two batches' samples differ, so the old rule would have added (mean − c)²")
    }
}
