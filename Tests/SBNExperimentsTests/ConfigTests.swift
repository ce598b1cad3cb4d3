import Foundation
import SBNExperiments
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
        try folder.expectConfigError(yaml, expected) { _ = try ConfigValidator.load($0, overrides: overrides) }
    }

    @Test func defaultsAreThePapersTask() throws {
        let c = try ConfigValidator.load(try folder.write("d.yaml", "name: d\n"))
        #expect(c.layers == [392, 200, 200, 392])
        #expect(c.samples.test == 1000 && c.samples.train == 1 && c.batchSize == 100)
        #expect(c.temperature.schedule == "fixed" && c.temperature.tau == 1)
    }

    @Test func theShippedExperimentsAreValid() throws {
        for name in ["sbn-gs", "sbn-st-gs", "sbn-st", "sbn-reinforce", "sbn-arm"] {
            let c = try ConfigValidator.load(TestPaths.packageRoot + "/experiments/\(name).yaml")
            #expect(c.name == name)
        }
        let gs = try ConfigValidator.load(TestPaths.packageRoot + "/experiments/sbn-gs.yaml")
        #expect(gs.estimator == "gs" && gs.epochs == 100 && gs.optimizer == "adam" && gs.lr == 0.001)
    }

    @Test func extendsInheritsAndOverrides() throws {
        try folder.write("base.yaml", "name: base\nlr: 0.003\nepochs: 7\ntemperature: {tau: 0.5}\n")
        let child = try folder.write("child.yaml", "extends: base\nname: child\nepochs: 9\ntemperature: {schedule: exponential}\n")
        let c = try ConfigValidator.load(child)
        #expect(c.name == "child" && c.lr == 0.003 && c.epochs == 9)
        #expect(c.temperature.tau == 0.5 && c.temperature.schedule == "exponential")
    }

    @Test func setOverridesAnyField() throws {
        let c = try ConfigValidator.load(try folder.write("s.yaml", "name: s\n"),
                                         overrides: ["lr=3e-4", "temperature.tau=0.25", "estimator=st", "layers=[392, 50, 392]"])
        #expect(c.lr == 3e-4 && c.temperature.tau == 0.25 && c.estimator == "st" && c.layers == [392, 50, 392])
    }

    @Test func unknownKey() throws { try expectConfigError("lrr: 0.1\n", "lrr: unknown key") }
    @Test func unknownNestedKey() throws { try expectConfigError("temperature: {taux: 1}\n", "temperature.taux: unknown key") }
    @Test func wrongType() throws {
        try expectConfigError("temperature: {tau: fast}\n", "temperature.tau: expected a number > 0, got \"fast\"")
    }
    @Test func negativeTemperature() throws {
        try expectConfigError("temperature: {tau: -1}\n", "temperature.tau: expected a number > 0, got -1")
    }
    @Test func unknownEstimator() throws {
        try expectConfigError("estimator: gumbel\n", "estimator: unknown estimator \"gumbel\" (known: gs, st-gs, st, reinforce, arm)")
    }
    @Test func unknownSchedule() throws {
        try expectConfigError("temperature: {schedule: cosine}\n",
                              "temperature.schedule: unknown schedule \"cosine\" (known: fixed, exponential)")
    }
    @Test func unknownEstimatorOption() throws {
        try expectConfigError("estimator: gs\nestimator_options: {decay: 0.9}\n",
                              "estimator_options.decay: unknown option for gs (known: none)")
    }
    @Test func badBatchSize() throws { try expectConfigError("batch_size: 0\n", "batch_size: expected a whole number ≥ 1, got 0") }
    @Test func badLayerEntry() throws {
        try expectConfigError("layers: [392, two, 392]\n", "layers[1]: expected a whole number ≥ 1, got \"two\"")
    }
    @Test func badOverride() throws { try expectConfigError("name: x\n", "lr: expected a number > 0, got \"fast\"", overrides: ["lr=fast"]) }
    @Test func invalidYAML() throws {
        let path = try folder.write("bad.yaml", "lr: [1, 2\n")
        #expect(throws: ConfigError.self) { _ = try ConfigValidator.load(path) }
    }
    @Test func extendsCycle() throws {
        try folder.write("a.yaml", "extends: b\n")
        let b = try folder.write("b.yaml", "extends: a\n")
        #expect(throws: ConfigError.self) { _ = try ConfigValidator.load(b) }
    }

    @Test func configRoundTripsThroughJSON() throws {
        let c = try ConfigValidator.load(TestPaths.packageRoot + "/experiments/sbn-reinforce.yaml")
        #expect(try ExperimentConfig(json: c.json) == c)
        #expect(c.json.contains("\"batch_size\":100"))
    }
}
