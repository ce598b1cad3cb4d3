import Foundation
import SBNConfig
import SBNSweeps
import SBNTraining
import SBNModel
import SBNStorage
import SBNTestSupport
import Testing

/// Short runs on a slice of the genuine data.
func smallRunYAML(estimator: String, extra: String = "") -> String {
    """
    name: small-\(estimator)
    description: test run
    data: {path: \(TestPaths.preparedDataset), train_limit: 400, valid_limit: 60, test_limit: 40}
    estimator: \(estimator)
    batch_size: 50
    epochs: 2
    samples: {train: 1, valid: 5, test: 7}
    seed: 3
    log_every: 3
    \(extra)
    """
}

/// Every tensor of a checkpoint, and every scalar attribute (the bits of its Double value as two
/// Floats), by path: "optimizer/m.W1", "estimator/baseline/adam@t", …
func checkpointTensors(_ path: String) throws -> [String: [Float]] {
    let f = try HDF5File.open(path)
    var out: [String: [Float]] = [:]
    func walk(_ g: HDF5Group, _ prefix: String) throws {
        for name in try g.childNames() {
            if g.isGroup(name) {
                try walk(try g.group(name), prefix + "/" + name)
            } else {
                out[prefix + "/" + name] = try g.dataset(name).read()
            }
        }
        for name in try g.attributeNames() {
            let bits = try g.attribute(name, as: Double.self).bitPattern  // exact for the integer counters too
            out[prefix + "@" + name] = [
                Float(bitPattern: UInt32(truncatingIfNeeded: bits)), Float(bitPattern: UInt32(bits >> 32)),
            ]
        }
    }
    for group in ["parameters", "best", "optimizer", "estimator"] { try walk(try f.group("checkpoint/" + group), group) }
    return out
}

@Suite struct TrainingRunTests {
    let folder = ExperimentFolder()

    /// `python -m analysis diagnostics` reads a run's diagnostics and plots them.
    @Test(.enabled(if: hasPythonWithH5py, "python3 with h5py is not available (.ci/run installs it)"))
    func analysisPlotsDiagnostics() throws {
        let config = try ConfigLoader.load(
            try folder.write(
                "dp.yaml",
                smallRunYAML(
                    estimator: "st",
                    extra:
                        "diagnostics: {every: 4, estimators: [st, darn], estimates: 10, reference_estimates: 50, images: 10}")))
        let run = folder.dir + "/dp/run.h5", png = folder.dir + "/dp/diagnostics.png"
        try Trainer(config: config, resultsPath: run, log: { _ in }).run(resume: false)
        let r = try runCommand("/usr/bin/env", ["python3", "-m", "analysis", "diagnostics", run, png], in: TestPaths.packageRoot)
        #expect(r.status == 0 && r.stdout.contains("4 measurements of 2 estimators"), "\(r.stdout)\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: png))
        let plain = folder.dir + "/plain/run.h5"
        try Trainer(
            config: try ConfigLoader.load(try folder.write("np.yaml", smallRunYAML(estimator: "st"))), resultsPath: plain,
            log: { _ in }
        ).run(resume: false)
        let none = try runCommand("/usr/bin/env", ["python3", "-m", "analysis", "diagnostics", plain], in: TestPaths.packageRoot)
        #expect(none.status == 1 && none.stderr.contains("no diagnostics recorded"), "\(none.stderr)")
    }

    /// `diagnostics:` records the estimators' numbers every k steps into the run's file (and
    /// across a resume), and draws its own random numbers: the trained parameters are bit for
    /// bit those of the same run without it.
    @Test func diagnosticsAreRecordedAndChangeNothing() throws {
        let plain = try ConfigLoader.load(try folder.write("d0.yaml", smallRunYAML(estimator: "gs")))
        let probed = try ConfigLoader.load(
            try folder.write(
                "d1.yaml",
                smallRunYAML(
                    estimator: "gs",
                    extra:
                        "diagnostics: {every: 5, estimators: [gs, \"muprop{variance_normalization: false}\"], estimates: 20, reference_estimates: 100, images: 20}"
                )))
        let a = folder.dir + "/plain.h5", b = folder.dir + "/probed.h5"
        try Trainer(config: plain, resultsPath: a, log: { _ in }).run(resume: false)
        try Trainer(config: probed, resultsPath: b, log: { _ in }).run(resume: false, stopAfterEpochs: 1)
        let record = try Trainer(config: probed, resultsPath: b, log: { _ in }).run(resume: true)
        // 400 images in batches of 50: 8 steps per epoch, 16 in all; measured after steps 5, 10, 15.
        #expect(record.diagnostics.map(\.step) == [5, 10, 15])
        let reread = try ResultsFile.readRecord(b).diagnostics
        #expect(
            reread.map(\.step) == [5, 10, 15]
                && reread.allSatisfy { $0.rows.map(\.estimator) == ["gs", "muprop{variance_normalization:false}"] })
        #expect(
            reread.allSatisfy { d in
                d.rows.allSatisfy { $0.varianceTrace > 0 && $0.variancePerLayer.count == 3 && $0.cosine.isFinite }
            })
        #expect(zip(reread, record.diagnostics).allSatisfy { $0.rows[1].relativeBias == $1.rows[1].relativeBias })
        let ta = try checkpointTensors(a).filter { $0.key.hasPrefix("parameters") },
            tb = try checkpointTensors(b).filter { $0.key.hasPrefix("parameters") }
        #expect(!ta.isEmpty && ta.keys.sorted() == tb.keys.sorted())
        for (k, v) in ta { #expect(v.map(\.bitPattern) == tb[k]!.map(\.bitPattern), "\(k) differs with diagnostics") }
    }

    /// Two epochs straight and one epoch plus a resumed one give bit-identical state; so does a
    /// learning rate that decays inside both epochs (a function of the step, nothing to save).
    @Test(arguments: ["gs", "reinforce", "gs-decay"])
    func resumeIsBitIdentical(variant: String) throws {
        let estimator = variant == "gs-decay" ? "gs" : variant
        let decay = variant == "gs-decay" ? "lr_schedule: {schedule: step, factor: 0.5, every: 5}" : ""
        let config = try ConfigLoader.load(
            try folder.write("r-\(variant).yaml", smallRunYAML(estimator: estimator, extra: decay)))
        let straight = folder.dir + "/straight-\(variant).h5", resumed = folder.dir + "/resumed-\(variant).h5"
        let a = try Trainer(config: config, resultsPath: straight, log: { _ in }).run(resume: false)
        let partial = try Trainer(config: config, resultsPath: resumed, log: { _ in }).run(resume: false, stopAfterEpochs: 1)
        #expect(partial.status == .running && partial.epochsDone == 1)
        let b = try Trainer(config: config, resultsPath: resumed, log: { _ in }).run(resume: true)
        #expect(a.status == .finished && b.status == .finished)
        let ta = try checkpointTensors(straight), tb = try checkpointTensors(resumed)
        #expect(ta.keys.sorted() == tb.keys.sorted())
        #expect(!ta.isEmpty)
        for (k, v) in ta { #expect(v.map(\.bitPattern) == tb[k]!.map(\.bitPattern), "\(k) differs after resume") }
        #expect(a.valid.map(\.nll) == b.valid.map(\.nll))
        #expect(a.train.map(\.loss) == b.train.map(\.loss))
        #expect(a.test?.nll == b.test?.nll)
        if estimator == "reinforce" { #expect(ta.keys.contains { $0.hasPrefix("estimator/baseline") }) }
        // 8 steps an epoch, rows every 3 steps and at each epoch's end; a row's rate is its last
        // step's (0-based index step − 1): 1e-3 halved every 5 steps, or constant.
        let expected = a.train.map { row in
            Double(Float(variant == "gs-decay" ? 1e-3 * pow(0.5, Double((row.step - 1) / 5)) : 1e-3))
        }
        #expect(a.train.map(\.lr) == expected && b.train.map(\.lr) == expected, "\(a.train.map(\.lr))")
    }

    @Test func resultsFileFollowsTheSchema() throws {
        let config = try ConfigLoader.load(try folder.write("s.yaml", smallRunYAML(estimator: "st")))
        let path = folder.dir + "/schema.h5"
        let record = try Trainer(config: config, resultsPath: path, log: { _ in }).run(resume: false)
        let f = try HDF5File.open(path)
        #expect(try f.stringAttribute("experiment") == "small-st")
        #expect(try f.stringAttribute("estimator") == "st")
        #expect(try f.stringAttribute("status") == "finished")
        #expect(try f.attribute("seed", as: Int64.self) == 3)
        #expect(try f.stringAttribute("sbnlab_version") == Provenance.version)
        #expect(try ExperimentConfig(json: try f.stringAttribute("config")) == config)
        for name in ["step", "epoch", "loss", "tau", "lr", "wall_time"] {
            #expect(try f.dataset("metrics/train/" + name).shape == [record.train.count])
            #expect(try f.dataset("metrics/train/" + name).maxShape == [nil])
        }
        // 8 steps per epoch, a row every 3rd global step and at each epoch's end:
        // steps 3, 6, 8 | 9, 12, 15, 16.
        #expect(record.train.map(\.step) == [3, 6, 8, 9, 12, 15, 16])
        #expect(try f.dataset("metrics/valid/nll").shape == [2])
        #expect(try f.group("metrics/valid").attribute("samples", as: Int64.self) == 5)
        let test = try f.group("eval/test")
        #expect(try test.attribute("samples", as: Int64.self) == 7 && test.attribute("images", as: Int64.self) == 40)
        #expect(try test.attribute("nll", as: Double.self) == record.test!.nll)
        #expect(try test.attribute("nll_sem", as: Double.self) > 0)
        #expect(try f.group("checkpoint").attribute("epoch", as: Int64.self) == 2)
        #expect(try f.group("checkpoint").attribute("step", as: Int64.self) == 16)
    }

    @Test func existingResultsAreNotOverwritten() throws {
        let config = try ConfigLoader.load(try folder.write("o.yaml", smallRunYAML(estimator: "gs")), overrides: ["epochs=1"])
        let path = folder.dir + "/once.h5"
        try Trainer(config: config, resultsPath: path, log: { _ in }).run(resume: false)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(throws: TrainingError.self) {
            _ = try Trainer(config: config, resultsPath: path, log: { _ in }).run(resume: false)
        }
        // A finished run resumed is reported as it is.
        let again = try Trainer(config: config, resultsPath: path, log: { _ in }).run(resume: true)
        #expect(again.status == .finished)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        // Another configuration in the same place is refused.
        let other = try ConfigLoader.load(folder.dir + "/o.yaml", overrides: ["epochs=1", "lr=0.01"])
        #expect(throws: TrainingError.self) { try Trainer(config: other, resultsPath: path, log: { _ in }).run(resume: true) }
    }

    /// Editing the name or description does not orphan a run; changing what it computes does.
    @Test func resumeToleratesLabelEdits() throws {
        let file = try folder.write("l.yaml", smallRunYAML(estimator: "st"))
        let path = folder.dir + "/labels.h5"
        try Trainer(config: try ConfigLoader.load(file), resultsPath: path, log: { _ in }).run(resume: false, stopAfterEpochs: 1)
        let edited = try ConfigLoader.load(file, overrides: ["description=renamed", "name=other"])
        let r = try Trainer(config: edited, resultsPath: path, log: { _ in }).run(resume: true)
        #expect(r.status == .finished && r.epochsDone == 2)
        #expect(try HDF5File.open(path).stringAttribute("experiment") == "other")
        let changed = try ConfigLoader.load(file, overrides: ["batch_size=40"])
        do {
            _ = try Trainer(config: changed, resultsPath: path, log: { _ in }).run(resume: true)
            Issue.record("a changed configuration must be refused")
        } catch let e as TrainingError {
            #expect(e.description.contains("(differs in batch_size)"), "\(e)")
        }
    }

    /// A NaN stops the run with an error naming the step; the file keeps the last good checkpoint.
    @Test func nonFiniteLossStopsTheRunAndKeepsTheCheckpoint() throws {
        let config = try ConfigLoader.load(try folder.write("n.yaml", smallRunYAML(estimator: "gs")))
        let path = folder.dir + "/nan.h5"
        try Trainer(config: config, resultsPath: path, log: { _ in }).run(resume: false, stopAfterEpochs: 1)
        let good = try checkpointTensors(path)
        // Weights the next epoch starts from that are finite, so the restore accepts them (NaNs in
        // parameters or optimizer states are refused there, HostileFileTests), but so large that
        // the first step's output logits overflow: its loss is not finite.
        do {
            let f = try HDF5File.open(path, mode: .readWrite)
            let ds = try f.dataset("checkpoint/parameters/W3")
            let w: [Float] = try ds.read()
            try ds.write([Float](repeating: 3e38, count: w.count))
        }
        do {
            try Trainer(config: config, resultsPath: path, log: { _ in }).run(resume: true)
            Issue.record("a non-finite loss must stop the run")
        } catch let e as TrainingError {
            #expect(e.description.hasPrefix("step 9 (epoch 2): loss is not finite"), "\(e)")
        }
        let f = try HDF5File.open(path)
        #expect(try f.stringAttribute("status") == "failed")
        #expect(try f.stringAttribute("error").contains("step 9"))
        #expect(try f.group("checkpoint").attribute("epoch", as: Int64.self) == 1)
        let kept = try checkpointTensors(path)
        #expect(kept["parameters/W1"]! == good["parameters/W1"]!)
    }

    @Test func divergingTrainingIsCaught() throws {
        let config = try ConfigLoader.load(
            try folder.write("d.yaml", smallRunYAML(estimator: "gs", extra: "optimizer: sgd\nlr: 1.0e+38")))
        let path = folder.dir + "/diverge.h5"
        do {
            try Trainer(config: config, resultsPath: path, log: { _ in }).run(resume: false)
            Issue.record("lr 1e38 must diverge")
        } catch let e as TrainingError {
            #expect(e.description.hasPrefix("step "), "\(e)")
            #expect(e.description.contains("last good checkpoint kept"))
        }
        let f = try HDF5File.open(path)
        #expect(try f.stringAttribute("status") == "failed")
        let w1: [Float] = try f.dataset("checkpoint/parameters/W1").read()
        #expect(w1.allSatisfy { $0.isFinite })
    }

    /// 430 images in batches of 50: eight full batches and one of 30 per epoch.
    @Test func shortLastBatchIsAStep() throws {
        let config = try ConfigLoader.load(
            try folder.write("b.yaml", smallRunYAML(estimator: "reinforce")),
            overrides: ["data.train_limit=430"])
        let r = try Trainer(config: config, resultsPath: folder.dir + "/short.h5", log: { _ in }).run(resume: false)
        #expect(r.status == .finished && r.steps == 18)
        #expect(r.train.map(\.step) == [3, 6, 9, 12, 15, 18])
    }

    /// The same run on one thread and on two gives the same bits: the work is cut into the same
    /// parts either way (`NetworkWorkspace`, `PartRunner`).
    @Test(arguments: ["gs", "reinforce", "arm"])
    func oneAndTwoThreadsGiveTheSameBits(estimator: String) throws {
        let config = try ConfigLoader.load(try folder.write("t-\(estimator).yaml", smallRunYAML(estimator: estimator)))
        let one = folder.dir + "/one-\(estimator).h5", two = folder.dir + "/two-\(estimator).h5"
        let a = try Trainer(config: config, resultsPath: one, runtime: RuntimeOptions(threads: 1), log: { _ in }).run(
            resume: false)
        let b = try Trainer(config: config, resultsPath: two, runtime: RuntimeOptions(threads: 2), log: { _ in }).run(
            resume: false)
        let ta = try checkpointTensors(one), tb = try checkpointTensors(two)
        #expect(!ta.isEmpty && ta.keys.sorted() == tb.keys.sorted())
        for (k, v) in ta { #expect(v.map(\.bitPattern) == tb[k]!.map(\.bitPattern), "\(k) differs between 1 and 2 threads") }
        #expect(a.train.map(\.loss) == b.train.map(\.loss) && a.test?.nll == b.test?.nll)
    }

    /// `valid_every: 2` over 3 epochs validates after epochs 2 and 3 (the last), and a run resumed
    /// after the unvalidated epoch 1 ends bit-identical to the straight run.
    @Test func validEveryValidatesEveryNthAndTheLastEpoch() throws {
        let file = try folder.write("v.yaml", smallRunYAML(estimator: "gs"))
        let config = try ConfigLoader.load(file, overrides: ["epochs=3", "valid_every=2"])
        let straight = folder.dir + "/valid-straight.h5", resumed = folder.dir + "/valid-resumed.h5"
        let a = try Trainer(config: config, resultsPath: straight, log: { _ in }).run(resume: false)
        #expect(a.valid.map(\.epoch) == [2, 3] && a.epochsDone == 3)
        #expect(a.valid.allSatisfy { $0.trainSeconds > 0 && $0.validSeconds > 0 })
        _ = try Trainer(config: config, resultsPath: resumed, log: { _ in }).run(resume: false, stopAfterEpochs: 1)
        let b = try Trainer(config: config, resultsPath: resumed, log: { _ in }).run(resume: true)
        #expect(b.valid.map(\.epoch) == [2, 3] && b.test?.nll == a.test?.nll)
        let ta = try checkpointTensors(straight), tb = try checkpointTensors(resumed)
        for (k, v) in ta { #expect(v.map(\.bitPattern) == tb[k]!.map(\.bitPattern), "\(k) differs after resume") }
    }
}
