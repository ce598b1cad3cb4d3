import SBNDiagnostics
import SBNDistributions
import SBNEstimators
import SBNModel
import SBNOptions
import SBNTensor
import Testing

/// Registry-driven: every registered estimator, on every model family and unit kind it applies
/// to (`Applicability.problem`), trains a tiny model for 300 Adam steps and lowers its loss by
/// more than 0.2 nats (the loss is a mean over 400 exact passes of 8 images; its noise is ≈ 0.02;
/// every estimator measured lowers it by 0.47 nats or more). A new estimator, unit kind or family is covered without a new test.
@Suite struct EveryEstimatorTrainsTests {
    /// Tiny models of each family and unit kind: (label, network, batch, evaluation loss).
    static func models(_ kind: TinyNet) -> [(String, StochasticNetwork, Batch)] {
        let (sbn, sbnBatch) = tinyProblem(kind.architecture, images: 8, seed: 61)
        let units: any StochasticUnits = kind == .bernoulli ? BernoulliUnits(width: 4) : CategoricalUnits(groups: 2, classes: 3)
        var rng = Xoshiro256(seed: 62)
        let vae = VAEFamily.network(
            layers: Architecture(input: 6, hidden: [units], output: 6),
            options: AnyOptions(VAEFamilyOptions.small), rng: &rng)
        let vaeBatch = Batch(capacity: 8, inputSize: 6, outputSize: 6, targetIsInput: true)
        for i in 0..<vaeBatch.input.count { vaeBatch.input.storage[i] = rng.nextUniform() < 0.4 ? 1 : 0 }
        var models = [("sbn \(kind)", sbn, sbnBatch), ("vae \(kind)", vae, vaeBatch)]
        if kind == .categorical {
            // M2's one class variable (3 classes), which `marginal` also sums over.
            let m2 = SemiSupervisedFamily.network(
                layers: Architecture(input: 6, hidden: [CategoricalUnits(groups: 1, classes: 3)], output: 6),
                options: AnyOptions(SemiSupervisedFamilyOptions.small), rng: &rng)
            models.append(("m2", m2, vaeBatch))
        }
        return models
    }

    /// The m-sample objective of the batch with exact samples, averaged over many passes.
    static func loss(_ model: StochasticNetwork, _ batch: Batch) -> Double {
        let ws = NetworkWorkspace(model: model, capacityImages: batch.count, samples: 1, divergence: .sampled)
        var rng = Xoshiro256(seed: 63), total = 0.0
        for _ in 0..<400 { total += ws.forward(batch, surrogate: .exact, temperature: 1, using: &rng, outputGradient: false) }
        return total / 400
    }

    @Test(arguments: EstimatorRegistry.registry.names, TinyNet.allCases)
    func lowersTheLoss(estimator name: String, kind: TinyNet) throws {
        let type = try #require(EstimatorRegistry.registry.lookup(name))
        let samples = max(type.minTrainingSamples, 1)
        for (label, model, batch) in Self.models(kind) {
            guard Applicability.problem(type, units: model.architecture.hidden, samples: samples) == nil else { continue }
            let before = Self.loss(model, batch)
            let ws = NetworkWorkspace(model: model, capacityImages: batch.count, samples: samples)
            let estimator = try type.make(model: ws, options: AnyOptions(type.optionsType.init()))
            let grads = model.makeGradients(), adam = Adam(parameters: model.parameters, learningRate: 0.01)
            var rng = Xoshiro256(seed: 64)
            for step in 0..<300 {
                grads.zero()
                _ = estimator.estimate(
                    batch, grads: grads, context: StepContext(step: step, temperature: 0.7, learningRate: 0.01), using: &rng)
                #expect(adam.step(model.parameters, gradients: grads) == nil, "\(name) on \(label): non-finite gradient")
            }
            let after = Self.loss(model, batch)
            print("\(name) on \(label): loss \(before) → \(after)")
            #expect(after < before - 0.2, "\(name) on \(label): loss \(before) → \(after)")
        }
    }
}

/// Small M2 options for tests: hidden layers of 5, z of 2, z's term sampled (any m).
enum SemiSupervisedFamilyOptions {
    static var small: SemiSupervisedFamily.Options {
        var o = SemiSupervisedFamily.Options()
        (o.classifierHidden, o.encoderHidden, o.decoderHidden, o.latent, o.zKl) = ([5], [5], [5], 2, .sampled)
        return o
    }
}

/// Small VAE options for tests: one hidden layer of 5 on each side.
enum VAEFamilyOptions {
    static var small: VAEFamily.Options {
        var o = VAEFamily.Options()
        (o.encoderHidden, o.decoderHidden) = ([5], [5])
        return o
    }
}
