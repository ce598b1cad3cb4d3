import Foundation
import SBNEstimators
import SBNConfig
import SBNSweeps
import SBNTraining
import SBNModel
import SBNTestSupport
import Testing

/// Writes experiment files into a fresh folder.
struct ExperimentFolder {
    let dir = TestPaths.temporaryDirectory(prefix: "experiments")

    @discardableResult
    func write(_ name: String, _ yaml: String) throws -> String {
        let path = dir + "/" + name
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Writes `yaml`, loads it with `load`, and expects exactly "<file>: <expected>".
    func expectConfigError(_ yaml: String, _ expected: String, load: (String) throws -> Void) throws {
        let path = try write("x.yaml", yaml)
        do {
            try load(path)
            Issue.record("expected: \(expected)")
        } catch let e as ConfigError {
            #expect(e.description == "\(path): \(expected)")
        }
    }
}

@Suite struct ConfigTests {
    let folder = ExperimentFolder()

    func expectConfigError(_ yaml: String, _ expected: String, overrides: [String] = []) throws {
        try folder.expectConfigError(yaml, expected) { _ = try ConfigLoader.load($0, overrides: overrides) }
    }

    @Test func diagnosticsNameKnownApplicableEstimators() throws {
        try expectConfigError(
            "diagnostics: {every: 10, estimators: [gs, gumbel]}\n",
            "diagnostics.estimators[1]: unknown estimator \"gumbel\" (known: gs, st-gs, st, st-annealed, st-annealed-chung, reinforce, darn, taylor-half, darn-scalar, muprop, arm, disarm, vimco, reinforce-loo, rebar, marginal)"
        )
        try expectConfigError(
            "layers: [392, {categorical: [20, 10]}, 392]\ndiagnostics: {every: 10, reference: disarm}\n",
            "diagnostics.reference: disarm does not support categorical layers (layers[1] is categorical(20×10); it needs antithetic uniforms)"
        )
        try expectConfigError("diagnostics: {every: 0}\n", "diagnostics.every: expected a whole number ≥ 1 or null, got 0")
        try expectConfigError(
            "diagnostics: {every: 10, estimators: [gs, \"muprop{vn: false}\"]}\n",
            "diagnostics.estimators[1]: estimator_options.vn: unknown option for muprop (known: decay, moving_average, variance_normalization, vn_floor)"
        )
    }

    @Test func defaultsAreThePapersTask() throws {
        let c = try ConfigLoader.load(try folder.write("d.yaml", "name: d\n"))
        #expect(c.layers.sizes == [392, 200, 200, 392] && c.layers.isBernoulli)
        #expect(c.samples.test == 1000 && c.samples.train == 1 && c.batchSize == 100)
        #expect(c.temperature.schedule == "fixed" && c.temperature.options.as(FixedTemperature.Options.self)?.tau == 1)
    }

    @Test func theShippedExperimentsAreValid() throws {
        for name in ["sbn-gs", "sbn-st-gs", "sbn-st", "sbn-reinforce", "sbn-arm"] {
            let c = try ConfigLoader.load(TestPaths.packageRoot + "/experiments/\(name).yaml")
            #expect(c.name == name)
        }
        let gs = try ConfigLoader.load(TestPaths.packageRoot + "/experiments/sbn-gs.yaml")
        #expect(gs.estimator == "gs" && gs.epochs == 100 && gs.optimizer == "adam" && gs.lr == 0.001)
    }

    @Test func extendsInheritsAndOverrides() throws {
        try folder.write("base.yaml", "name: base\nlr: 0.003\nepochs: 7\ntemperature: {tau: 0.5}\n")
        let child = try folder.write(
            "child.yaml", "extends: base\nname: child\nepochs: 9\ntemperature: {schedule: exponential}\n")
        let c = try ConfigLoader.load(child)
        #expect(c.name == "child" && c.lr == 0.003 && c.epochs == 9)
        #expect(
            c.temperature.options.as(ExponentialTemperature.Options.self)?.tau == 0.5 && c.temperature.schedule == "exponential")
    }

    @Test func setOverridesAnyField() throws {
        let c = try ConfigLoader.load(
            try folder.write("s.yaml", "name: s\n"),
            overrides: ["lr=3e-4", "temperature.tau=0.25", "estimator=st", "layers=[392, 50, 392]"])
        #expect(c.lr == 3e-4 && c.temperature.options.as(FixedTemperature.Options.self)?.tau == 0.25)
        #expect(c.estimator == "st" && c.layers.sizes == [392, 50, 392])
    }

    @Test func unknownKey() throws { try expectConfigError("lrr: 0.1\n", "lrr: unknown key") }
    @Test func unknownNestedKey() throws { try expectConfigError("data: {pth: x}\n", "data.pth: unknown key") }
    @Test func unknownScheduleOption() throws {
        try expectConfigError("temperature: {taux: 1}\n", "temperature.taux: unknown option for fixed (known: tau)")
    }
    @Test func wrongType() throws {
        try expectConfigError("temperature: {tau: fast}\n", "temperature.tau: expected a number > 0, got \"fast\"")
    }
    @Test func negativeTemperature() throws {
        try expectConfigError("temperature: {tau: -1}\n", "temperature.tau: expected a number > 0, got -1")
    }
    @Test func unknownEstimator() throws {
        try expectConfigError(
            "estimator: gumbel\n",
            "estimator: unknown estimator \"gumbel\" (known: gs, st-gs, st, st-annealed, st-annealed-chung, reinforce, darn, taylor-half, darn-scalar, muprop, arm, disarm, vimco, reinforce-loo, rebar, marginal)"
        )
    }
    @Test func unknownSchedule() throws {
        try expectConfigError(
            "temperature: {schedule: cosine}\n",
            "temperature.schedule: unknown schedule \"cosine\" (known: fixed, exponential, slope)")
    }
    /// `lr_schedule` defaults to a constant rate; `step` decays it by `factor` every `every` steps
    /// down to `floor` (Jang's notebook: 0.9 every 1000), and its options are range-checked.
    @Test func learningRateSchedule() throws {
        let plain = try ConfigLoader.load(try folder.write("c.yaml", "name: c\nlr: 0.003\n"))
        #expect(plain.lrSchedule.schedule == "constant")
        let constant = try LearningRateSchedules.registry.lookup("constant")!.make(options: plain.lrSchedule.options)
        #expect([0, 1, 999_999].map { constant.learningRate(base: 0.003, atStep: $0) } == [0.003, 0.003, 0.003])
        let c = try ConfigLoader.load(
            try folder.write("d.yaml", "name: d\nlr_schedule: {schedule: step, every: 10, floor: 2e-4}\n"))
        #expect(c.lrSchedule.options.as(StepDecay.Options.self)?.factor == 0.9)
        let step = try LearningRateSchedules.registry.lookup("step")!.make(options: c.lrSchedule.options)
        let rates = [0, 9, 10, 19, 20, 300].map { step.learningRate(base: 1e-3, atStep: $0) }
        #expect(rates == [1e-3, 1e-3, Float(1e-3 * 0.9), Float(1e-3 * 0.9), Float(1e-3 * 0.81), 2e-4], "\(rates)")
        try expectConfigError(
            "lr_schedule: {schedule: step, factor: 1.5}\n", "lr_schedule.factor: expected a number in (0, 1], got 1.5")
        try expectConfigError(
            "lr_schedule: {schedule: step, every: 0}\n", "lr_schedule.every: expected a whole number ≥ 1, got 0")
        try expectConfigError(
            "lr_schedule: {schedule: cosine}\n", "lr_schedule.schedule: unknown lr schedule \"cosine\" (known: constant, step)")
        try expectConfigError("lr_schedule: {factor: 0.5}\n", "lr_schedule.factor: unknown option for constant (known: none)")
    }

    @Test func unknownEstimatorOption() throws {
        try expectConfigError(
            "estimator: gs\nestimator_options: {decay: 0.9}\n",
            "estimator_options.decay: unknown option for gs (known: none)")
    }
    @Test func badBatchSize() throws {
        try expectConfigError("batch_size: 0\n", "batch_size: expected a whole number ≥ 1, got 0")
    }
    @Test func badLayerEntry() throws {
        try expectConfigError("layers: [392, two, 392]\n", "layers[1]: expected a whole number ≥ 1, got \"two\"")
    }
    @Test func badOverride() throws {
        try expectConfigError("name: x\n", "lr: expected a number > 0, got \"fast\"", overrides: ["lr=fast"])
    }
    @Test func invalidYAML() throws {
        let path = try folder.write("bad.yaml", "lr: [1, 2\n")
        #expect(throws: ConfigError.self) { _ = try ConfigLoader.load(path) }
    }
    @Test func extendsCycle() throws {
        try folder.write("a.yaml", "extends: b\n")
        let b = try folder.write("b.yaml", "extends: a\n")
        #expect(throws: ConfigError.self) { _ = try ConfigLoader.load(b) }
    }

    @Test func quotedNumbersAreNotNumbers() throws {
        try expectConfigError("lr: \"0.01\"\n", "lr: expected a number > 0, got \"0.01\"")
    }
    @Test func estimatorOptionOutOfRange() throws {
        try expectConfigError(
            "estimator: reinforce\nestimator_options: {decay: 1.5}\n",
            "estimator_options.decay: expected a number in [0, 1), got 1.5")
    }
    @Test func estimatorOptionOfTheWrongType() throws {
        try expectConfigError(
            "estimator: reinforce\nestimator_options: {moving_average: 1}\n",
            "estimator_options.moving_average: expected true or false, got 1")
    }
    @Test func optimizerOptionsBelongToTheirOptimizer() throws {
        try expectConfigError(
            "optimizer_options: {momentum: 0.5}\n",
            "optimizer_options.momentum: unknown option for adam (known: beta1, beta2, epsilon)")
        let c = try ConfigLoader.load(try folder.write("sgd.yaml", "optimizer: sgd\noptimizer_options: {momentum: 0.5}\n"))
        #expect(c.optimizerOptions.as(SGDMomentum.Options.self)?.momentum == 0.5)
    }
    /// The model family's options and checks: a VAE option on an SBN, sizes that do not fit the
    /// task, a second stochastic layer, analytic KL with the m-sample bound, an unknown choice.
    @Test func modelFamilyOptionsAreChecked() throws {
        try expectConfigError("model: {family: sbn, prior: uniform}\n", "model.prior: unknown option for sbn (known: none)")
        try expectConfigError(
            "model: {family: vae}\n",
            "layers: expected input size 784 and output size 784 (the image), got 392 and 392")
        try expectConfigError(
            "model: {family: vae}\nlayers: [784, 200, 200, 784]\n",
            "layers: a vae has one stochastic layer ([784, latent, 784]), got 2")
        try expectConfigError(
            "model: {family: vae, kl: analytic}\nlayers: [784, 200, 784]\nestimator: vimco\nsamples: {train: 2}\n",
            "model.kl: analytic KL is the m = 1 objective; the m-sample bound (samples.train = 2) needs kl: sampled")
        try expectConfigError(
            "model: {family: vae, prior: gaussian}\nlayers: [784, 200, 784]\n",
            "model.prior: expected one of uniform, learned, got \"gaussian\"")
        try expectConfigError(
            "model: {family: vae, encoder_hidden: [0]}\nlayers: [784, 200, 784]\n",
            "model.encoder_hidden: expected widths from 1 to 65536, got 0")
        try expectConfigError("model: {family: gan}\n", "model.family: unknown model family \"gan\" (known: sbn, vae, m2)")
        // A scalar where a list belongs, and a list where one value belongs (once "expected a mapping").
        try expectConfigError(
            "model: {family: vae, encoder_hidden: 5}\nlayers: [784, 200, 784]\n", "model.encoder_hidden: expected a list, got 5")
        try expectConfigError(
            "model: {family: vae, kl: [analytic]}\nlayers: [784, 200, 784]\n",
            "model.kl: expected a single value, got [\"analytic\"]"
        )
        try expectConfigError(
            "model: {family: m2, classifier_conv: [0]}\nlayers: [784, {categorical: [1, 10]}, 784]\n",
            "model.classifier_conv: expected channel counts from 1 to 512, got 0")
        // Sizes that would allocate the machine away (the fuzzer's out-of-memory input).
        try expectConfigError(
            "layers: [392, 65536, 65536, 392]\n", "layers: the network would have 4346478984 parameters; at most 20000000")
        try expectConfigError(
            "batch_size: 100000000\n",
            "batch_size: a pass would need about 4410 GB of buffers (batch_size × samples.train rows × 1184 units); at most 4 GB")
        try expectConfigError(
            "samples: {test: 1000000000}\n",
            "samples.test: a pass would need about 44107 GB of buffers (samples.test rows × 1184 units); at most 4 GB")
        let c = try ConfigLoader.load(
            try folder.write("vae.yaml", "model: {family: vae, prior: learned}\nlayers: [784, {categorical: [20, 10]}, 784]\n"))
        #expect(c.model.options.as(VAEFamily.Options.self)?.prior == .learned && c.family.task == .fullImage)
    }

    @Test func layersMustMatchTheImageHalves() throws {
        try expectConfigError(
            "layers: [300, 200, 484]\n",
            "layers: expected input size 392 and output size 392 (the two image halves), got 300 and 484")
        try expectConfigError(
            "layers: [392, 392]\n",
            "layers: expected at least 3 entries (input, hidden…, output), got [392, 392]")
        try expectConfigError("layers: [392, 1e20, 392]\n", "layers[1]: expected a whole number ≥ 1, got 1e20")
        try expectConfigError("layers: [392, 100000, 392]\n", "layers[1]: expected at most 65536 units, not 100000, got 100000")
        try expectConfigError(
            "layers: [{categorical: [2, 196]}, 200, 392]\n",
            "layers: expected plain numbers for the input and output sizes, got [{categorical: [2, 196]}, 200, 392]")
    }

    /// Categorical layers: `{categorical: [groups, classes]}`, checked entry by entry; the
    /// estimator must support every layer's kind, checked before anything runs.
    @Test func categoricalLayers() throws {
        let file = try folder.write("cat.yaml", "layers: [392, {categorical: [20, 10]}, 50, 392]\nestimator: st\n")
        let c = try ConfigLoader.load(file)
        #expect(c.layers.sizes == [392, 200, 50, 392] && !c.layers.isBernoulli)
        #expect(c.layers.hidden.first as? CategoricalUnits == CategoricalUnits(groups: 20, classes: 10))
        #expect(c.layers.description == "392-categorical(20×10)-bernoulli(50)-392")
        // The stored JSON form reads back to the same layers, Bernoulli layers as plain numbers.
        #expect(c.json.contains("\"layers\":[392,{\"categorical\":[20,10]},50,392]"))
        #expect(try ExperimentConfig(json: c.json).layers == c.layers)
        try expectConfigError(
            "layers: [392, {categorical: [20, 1]}, 392]\n",
            "layers[1].categorical: expected groups ≥ 1 and classes ≥ 2, got [20, 1]")
        try expectConfigError(
            "layers: [392, {categorical: 20}, 392]\n", "layers[1].categorical: expected [groups, classes], got 20")
        try expectConfigError(
            "layers: [392, {gaussian: 20}, 392]\n",
            "layers[1].gaussian: unknown unit kind (known: bernoulli, categorical)")
        try expectConfigError(
            "layers: [392, {bernoulli: 20, categorical: [2, 3]}, 392]\n",
            "layers[1]: expected a number or one of {bernoulli, categorical: …}, got {bernoulli: 20, categorical: [2, 3]}")
        try expectConfigError(
            "layers: [392, {categorical: [20, 10]}, 392]\nestimator: arm\n",
            "estimator: arm does not support categorical layers (layers[1] is categorical(20×10); it needs antithetic uniforms)")
        try expectConfigError("estimator: arm\nsamples: {train: 3}\n", "samples.train: arm supports m ≤ 1, got 3")
        try expectConfigError("estimator: vimco\n", "samples.train: vimco needs m ≥ 2, got 1")
        try expectConfigError(
            "layers: [392, {categorical: [20, 10]}, 392]\nestimator: disarm\n",
            "estimator: disarm does not support categorical layers (layers[1] is categorical(20×10); it needs antithetic uniforms)"
        )
    }
    /// A "billion laughs": nine levels of ten aliases each stand for 10⁹ values.
    @Test func yamlAliasBombIsRefused() throws {
        var yaml = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            yaml += "l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        try expectConfigError(yaml, "expands to more than 100000 values (through YAML aliases?)")
    }
    @Test func extendsCycleThroughAnotherFolder() throws {
        let sub = folder.dir + "/sub"
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
        try "extends: ../top\n".write(toFile: sub + "/inner.yaml", atomically: true, encoding: .utf8)
        let top = try folder.write("top.yaml", "extends: sub/../sub/inner\n")
        do {
            _ = try ConfigLoader.load(top)
            Issue.record("a cycle must be refused")
        } catch let e as ConfigError {
            #expect(e.message.hasPrefix("cycle through"), "\(e)")
        }
    }
    @Test func everyOptionIsStoredAndDifferencesAreNamed() throws {
        let a = try ConfigLoader.load(try folder.write("r.yaml", "estimator: reinforce\n"))
        #expect(a.json.contains("\"estimator_options\":{\"baseline_hidden\":100,\"baseline_lr\":0.001,\"decay\":0.9,"))
        let b = try ConfigLoader.load(folder.dir + "/r.yaml", overrides: ["estimator_options.decay=0.5", "lr=0.01", "name=z"])
        #expect(a.differences(from: b) == ["estimator_options.decay", "lr"])
        #expect(a.sameRun(as: try ConfigLoader.load(folder.dir + "/r.yaml", overrides: ["name=z"])))
    }

    @Test func configRoundTripsThroughJSON() throws {
        let c = try ConfigLoader.load(TestPaths.packageRoot + "/experiments/sbn-reinforce.yaml")
        #expect(try ExperimentConfig(json: c.json) == c)
        #expect(c.json.contains("\"batch_size\":100"))
    }
}
