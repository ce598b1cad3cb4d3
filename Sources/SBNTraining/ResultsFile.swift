import Foundation
import SBNConfig
import SBNDiagnostics
import SBNDistributions
import SBNModel
import SBNStorage

/// Reads and writes run results files; the layout is documented in docs/results-schema.md.
///
/// A results file is also the run's checkpoint: `/checkpoint` holds parameters, best-so-far
/// parameters, optimizer and estimator state and the RNG states. It is always rewritten whole
/// to a temporary name and renamed, so the file on disk is the last good epoch, never a torn one.
public enum ResultsFile {
    public struct Checkpoint {
        public let parameters: ParameterSet
        public let best: ParameterSet
        public let optimizer: ComponentState
        public let estimator: ComponentState
        public let rngNoise: [UInt64]
        public let rngShuffle: [UInt64]
    }

    public static func write(_ record: RunRecord, checkpoint: Checkpoint?, to path: String) throws {
        try AtomicFile.writeHDF5(to: path) { file in
            try file.setAttribute("experiment", record.config.name)
            try file.setAttribute("config", record.configJSON)
            try file.setAttribute("estimator", record.config.estimator)
            try file.setAttribute("seed", Int64(bitPattern: record.config.seed))
            try file.setAttribute("sbnlab_version", Provenance.version)
            try file.setAttribute("code_version", record.codeVersion)
            try file.setAttribute("status", record.status.rawValue)
            if let error = record.error { try file.setAttribute("error", error) }
            try writeMetrics(record, into: file.createGroup("metrics"))
            if let test = record.test {
                try writeTest(test, task: record.config.family.task, into: file.createGroup("eval").createGroup("test"))
            }
            if let checkpoint { try writeCheckpoint(checkpoint, of: record, into: file.createGroup("checkpoint")) }
        }
    }

    /// `/metrics/train`, `/metrics/valid` and, if any, `/metrics/diagnostics`.
    private static func writeMetrics(_ record: RunRecord, into metrics: HDF5Group) throws {
        let train = try metrics.createGroup("train")
        try appendColumn(train, "step", record.train.map(\.step))
        try appendColumn(train, "epoch", record.train.map(\.epoch))
        try appendColumn(train, "loss", record.train.map(\.loss))
        try appendColumn(train, "tau", record.train.map(\.tau))
        try appendColumn(train, "lr", record.train.map(\.lr))
        try appendColumn(train, "wall_time", record.train.map(\.wallTime))
        let valid = try metrics.createGroup("valid")
        try valid.setAttribute("samples", Int64(record.validSamples))
        try valid.setAttribute("metric", record.config.family.task.selectionMetric)
        try appendColumn(valid, "step", record.valid.map(\.step))
        try appendColumn(valid, "epoch", record.valid.map(\.epoch))
        try appendColumn(valid, "nll", record.valid.map(\.nll))
        try appendColumn(valid, "train_seconds", record.valid.map(\.trainSeconds))
        try appendColumn(valid, "valid_seconds", record.valid.map(\.validSeconds))
        if !record.diagnostics.isEmpty { try writeDiagnostics(record.diagnostics, into: metrics) }
    }

    /// `/eval/test`: the task's metric, and the −ELBO and accuracy where the task has them.
    private static func writeTest(_ test: RunRecord.TestResult, task: Task, into g: HDF5Group) throws {
        try g.setAttribute("nll", test.nll)
        try g.setAttribute("nll_sem", test.sem)
        try g.setAttribute("samples", Int64(test.samples))
        try g.setAttribute("images", Int64(test.images))
        try g.write("per_image_nll", test.perImage, chunks: [min(max(test.perImage.count, 1), 10000)], compression: 4)
        try g.setAttribute("paper_metric", task.paperMetric)
        if let elbo = test.negELBO, let sem = test.negELBOSem, let values = test.perImageNegELBO {
            try g.setAttribute("neg_elbo", elbo)
            try g.setAttribute("neg_elbo_sem", sem)
            try g.write("per_image_neg_elbo", values, chunks: [min(max(values.count, 1), 10000)], compression: 4)
        }
        if let accuracy = test.accuracy, let sem = test.accuracySem {
            try g.setAttribute("accuracy", accuracy)
            try g.setAttribute("accuracy_sem", sem)
        }
        if let c = test.confusion { try g.write("confusion", c.counts.map { Int64($0) }, shape: [c.labels, c.classes]) }
    }

    /// `/checkpoint`: the position in training, the parameter sets, component states and RNG states.
    private static func writeCheckpoint(_ checkpoint: Checkpoint, of record: RunRecord, into g: HDF5Group) throws {
        try g.setAttribute("epoch", Int64(record.epochsDone))
        try g.setAttribute("step", Int64(record.steps))
        try g.setAttribute("best_valid_nll", record.bestValidNLL)
        try g.setAttribute("best_epoch", Int64(record.bestEpoch))
        try g.setAttribute("elapsed", record.elapsed)
        try writeSet(checkpoint.parameters, into: g.createGroup("parameters"))
        try writeSet(checkpoint.best, into: g.createGroup("best"))
        try writeState(checkpoint.optimizer, into: g.createGroup("optimizer"))
        try writeState(checkpoint.estimator, into: g.createGroup("estimator"))
        try g.write("rng_noise", checkpoint.rngNoise)
        try g.write("rng_shuffle", checkpoint.rngShuffle)
        if let p = record.epochProgress {
            let e = try g.createGroup("epoch_progress")
            try e.setAttribute("batches", Int64(p.batches))
            try e.setAttribute("loss_sum", p.lossSum)
            try e.setAttribute("interval_loss", p.intervalLoss)
            try e.setAttribute("interval_count", Int64(p.intervalCount))
        }
    }

    /// Reads the record (metrics, status, test result, checkpoint position) of a results file.
    public static func readRecord(_ path: String) throws -> RunRecord {
        try UntrustedFile.check(path, as: .record)
        let file = try HDF5File.open(path)
        let configJSON = try file.stringAttribute("config")
        let config: ExperimentConfig
        do { config = try ExperimentConfig(json: configJSON) } catch {
            throw HDF5Error(operation: "\(path): attribute config is not a valid configuration", hdf5Message: "\(error)")
        }
        var record = RunRecord(config: config, codeVersion: try file.stringAttribute("code_version"))
        record.configJSON = configJSON
        record.error = file.hasAttribute("error") ? try file.stringAttribute("error") : nil
        guard let status = RunRecord.Status(rawValue: try file.stringAttribute("status")) else {
            throw damaged(path, "attribute status is \"\(try file.stringAttribute("status"))\", not running, finished or failed")
        }
        record.status = status
        record.train = try readTrain(file.group("metrics/train"), path: path)
        let v = try file.group("metrics/valid")
        record.valid = try readValid(v, path: path)
        record.validSamples = Int(try v.attribute("samples", as: Int64.self))
        if file.contains("metrics/diagnostics") { record.diagnostics = try readDiagnostics(file.group("metrics/diagnostics")) }
        if file.contains("eval/test") { record.test = try readTest(file.group("eval/test"), path: path) }
        if file.contains("checkpoint") { try readPosition(file.group("checkpoint"), into: &record) }
        return record
    }

    /// `/metrics/train`, one row per logged interval; every column must have one value per row.
    private static func readTrain(_ t: HDF5Group, path: String) throws -> [RunRecord.TrainRow] {
        let steps: [Int64] = try t.dataset("step").read(), epochs: [Int64] = try t.dataset("epoch").read()
        let loss: [Double] = try t.dataset("loss").read(), tau: [Double] = try t.dataset("tau").read()
        let lr: [Double] = try t.dataset("lr").read(), wall: [Double] = try t.dataset("wall_time").read()
        try sameLengths(
            path, "/metrics/train",
            [
                ("step", steps.count), ("epoch", epochs.count), ("loss", loss.count), ("tau", tau.count),
                ("lr", lr.count), ("wall_time", wall.count),
            ])
        return steps.indices.map {
            .init(step: steps[$0], epoch: epochs[$0], loss: loss[$0], tau: tau[$0], lr: lr[$0], wallTime: wall[$0])
        }
    }

    /// `/metrics/valid`, one row per validation; files from before the timing columns read them as NaN.
    private static func readValid(_ v: HDF5Group, path: String) throws -> [RunRecord.ValidRow] {
        let vs: [Int64] = try v.dataset("step").read(), ve: [Int64] = try v.dataset("epoch").read()
        let vn: [Double] = try v.dataset("nll").read()
        let tsec: [Double] = v.contains("train_seconds") ? try v.dataset("train_seconds").read() : vn.map { _ in .nan }
        let vsec: [Double] = v.contains("valid_seconds") ? try v.dataset("valid_seconds").read() : vn.map { _ in .nan }
        try sameLengths(
            path, "/metrics/valid",
            [
                ("step", vs.count), ("epoch", ve.count), ("nll", vn.count), ("train_seconds", tsec.count),
                ("valid_seconds", vsec.count),
            ])
        return vs.indices.map {
            .init(step: vs[$0], epoch: ve[$0], nll: vn[$0], trainSeconds: tsec[$0], validSeconds: vsec[$0])
        }
    }

    /// `/eval/test`; an accuracy must be a fraction.
    private static func readTest(_ g: HDF5Group, path: String) throws -> RunRecord.TestResult {
        var test = RunRecord.TestResult(
            nll: try g.attribute("nll"), sem: try g.attribute("nll_sem"),
            samples: Int(try g.attribute("samples", as: Int64.self)),
            images: Int(try g.attribute("images", as: Int64.self)),
            perImage: try g.dataset("per_image_nll").read())
        if g.hasAttribute("neg_elbo") {
            test.negELBO = try g.attribute("neg_elbo")
            test.negELBOSem = try g.attribute("neg_elbo_sem")
            test.perImageNegELBO = try g.dataset("per_image_neg_elbo").read()
        }
        if g.hasAttribute("accuracy") {
            let (accuracy, sem): (Double, Double) = (try g.attribute("accuracy"), try g.attribute("accuracy_sem"))
            guard (0...1).contains(accuracy), (0...0.5).contains(sem) else {
                throw damaged(path, "eval/test accuracy \(accuracy) ± \(sem) is not a fraction")
            }
            test.accuracy = accuracy
            test.accuracySem = sem
            if g.contains("confusion") {
                test.confusion = try readConfusion(g, path: path, images: test.images, accuracy: accuracy)
            }
        }
        return test
    }

    /// `/eval/test/confusion`: digits × classes counts over exactly the tested images, whose
    /// diagonal is the recorded accuracy.
    private static func readConfusion(_ g: HDF5Group, path: String, images: Int, accuracy: Double) throws -> ClassConfusion {
        let ds = try g.dataset("confusion")
        let shape = ds.shape
        // The shape before the read (its size), each count before the sum (no overflow).
        let fits =
            shape.count == 2 && shape[0] == SemiSupervisedFamily.dataClasses
            && (2...CategoricalUnits.maxClasses).contains(shape[1])
        let counts: [Int64] = fits ? try ds.read() : []
        guard fits, counts.allSatisfy({ (0...Int64(max(images, 0))).contains($0) }),
            let c = ClassConfusion(labels: shape[0], classes: shape[1], counts: counts.map { Int($0) }),
            c.total == images, abs(c.accuracy - accuracy) <= 0.5 / Double(max(images, 1))
        else {
            throw damaged(
                path,
                "eval/test/confusion (shape \(shape)) is not a count of the \(images) tested images "
                    + "matching the accuracy \(accuracy)")
        }
        return c
    }

    /// The checkpoint's position in training (not its parameters: `restore` reads those).
    private static func readPosition(_ g: HDF5Group, into record: inout RunRecord) throws {
        record.epochsDone = Int(try g.attribute("epoch", as: Int64.self))
        record.steps = Int(try g.attribute("step", as: Int64.self))
        record.bestValidNLL = try g.attribute("best_valid_nll")
        record.bestEpoch = Int(try g.attribute("best_epoch", as: Int64.self))
        record.elapsed = try g.attribute("elapsed")
        record.hasCheckpoint = true
        if g.contains("epoch_progress") {
            let e = try g.group("epoch_progress")
            record.epochProgress = .init(
                batches: Int(try e.attribute("batches", as: Int64.self)), lossSum: try e.attribute("loss_sum"),
                intervalLoss: try e.attribute("interval_loss"),
                intervalCount: Int(try e.attribute("interval_count", as: Int64.self)))
        }
    }

    /// The error for a file whose contents contradict themselves (damaged, or edited by hand).
    static func damaged(_ path: String, _ what: String) -> HDF5Error {
        HDF5Error(operation: "\(path): \(what) (a damaged or hand-edited file)", hdf5Message: "")
    }

    /// Columns of one table must have one value per row.
    static func sameLengths(_ path: String, _ group: String, _ columns: [(name: String, count: Int)]) throws {
        guard let first = columns.first, let odd = columns.first(where: { $0.count != first.count }) else { return }
        throw damaged(path, "\(group)/\(odd.name) has \(odd.count) values but \(group)/\(first.name) has \(first.count)")
    }

    /// Restores a checkpoint in place into a checkpoint of the same layout; returns the RNG states.
    public static func restore(_ path: String, into checkpoint: Checkpoint) throws -> (noise: [UInt64], shuffle: [UInt64]) {
        try UntrustedFile.check(path, as: .checkpoint)
        let file = try HDF5File.open(path)
        let g = try file.group("checkpoint")
        try readSet(checkpoint.parameters, from: g.group("parameters"))
        try readSet(checkpoint.best, from: g.group("best"))
        try readState(checkpoint.optimizer, from: g.group("optimizer"))
        try readState(checkpoint.estimator, from: g.group("estimator"))
        return (try g.dataset("rng_noise").read(), try g.dataset("rng_shuffle").read())
    }

    /// The checkpoint's estimator state (baselines, moving moments) read into `state`, which must
    /// be the state of the run's own estimator and options (`gradstats --checkpoint`).
    public static func readEstimatorState(_ path: String, into state: ComponentState) throws {
        try readState(state, from: HDF5File.open(path).group("checkpoint/estimator"))
    }

    /// The run's record and its best parameters (the model that is tested), for `impute` and analyses.
    public static func loadBestModel(_ path: String) throws -> (record: RunRecord, model: StochasticNetwork) {
        let record = try readRecord(path)
        guard record.hasCheckpoint else { throw HDF5Error(operation: "\(path): no checkpoint in this file", hdf5Message: "") }
        try UntrustedFile.check(path, as: .checkpoint)
        var unused = Xoshiro256(seed: 0)
        let model = record.config.network(rng: &unused)
        try readSet(model.parameters, from: HDF5File.open(path).group("checkpoint/best"))
        // gradstats, impute and figures on NaN parameters would print NaN tables or blank images.
        if let bad = model.parameters.firstNonFinite {
            throw HDF5Error(operation: "\(path): checkpoint/best/\(bad) holds a NaN or infinity", hdf5Message: "")
        }
        return (record, model)
    }

    /// Marks an existing results file as failed without touching its checkpoint: a copy is
    /// updated and renamed over the original.
    public static func markFailed(_ path: String, error: String) throws {
        try AtomicFile.write(to: path) { tmp in
            try FileManager.default.copyItem(atPath: path, toPath: tmp)
            let file = try HDF5File.open(tmp, mode: .readWrite)
            try file.setAttribute("status", RunRecord.Status.failed.rawValue)
            try file.setAttribute("error", error)
            try file.flush()
        }
    }

    /// /metrics/diagnostics: step, epoch, reference_norm, reference_relative_error, and a group per
    /// estimator (attribute `estimators` lists them in order) with relative_bias, bias_norm,
    /// noise_floor, variance_trace, variance_per_layer (measurements × layers), cosine and
    /// microseconds, one entry per measurement (docs/results-schema.md).
    static func writeDiagnostics(_ rows: [RunRecord.DiagnosticsRow], into metrics: HDF5Group) throws {
        let g = try metrics.createGroup("diagnostics")
        let names = rows[0].rows.map(\.estimator)
        try g.setAttribute("estimators", names.joined(separator: ","))
        try g.write("step", rows.map(\.step))
        try g.write("epoch", rows.map(\.epoch))
        try g.write("reference_norm", rows.map(\.referenceNorm))
        try g.write("reference_relative_error", rows.map(\.referenceRelativeError))
        for (i, name) in names.enumerated() {
            let e = try g.createGroup(name), column = rows.map { $0.rows[i] }
            try e.write("relative_bias", column.map(\.relativeBias))
            try e.write("bias_norm", column.map(\.biasNorm))
            try e.write("noise_floor", column.map(\.noiseFloor))
            try e.write("variance_trace", column.map(\.varianceTrace))
            try e.write(
                "variance_per_layer", column.flatMap(\.variancePerLayer), shape: [column.count, column[0].variancePerLayer.count])
            try e.write("cosine", column.map(\.cosine))
            try e.write("min_layer_cosine", column.map(\.minLayerCosine))
            try e.write("microseconds", column.map(\.microseconds))
        }
    }

    static func readDiagnostics(_ g: HDF5Group) throws -> [RunRecord.DiagnosticsRow] {
        let names = try g.stringAttribute("estimators").split(separator: ",").map(String.init)
        let steps: [Int64] = try g.dataset("step").read(), epochs: [Int64] = try g.dataset("epoch").read()
        let norms: [Double] = try g.dataset("reference_norm").read(),
            errors: [Double] = try g.dataset("reference_relative_error").read()
        var columns: [[GradientStatistics.Row]] = []
        for name in names {
            let e = try g.group(name)
            func read(_ key: String) throws -> [Double] { try e.dataset(key).read() }
            let (bias, norm, floor, trace) = (
                try read("relative_bias"), try read("bias_norm"), try read("noise_floor"), try read("variance_trace")
            )
            let (perLayer, cosine, micro) = (try read("variance_per_layer"), try read("cosine"), try read("microseconds"))
            let layers = perLayer.count / max(steps.count, 1)
            // Files written before the column existed have none: NaN there.
            let minLayerCosine =
                e.contains("min_layer_cosine") ? try read("min_layer_cosine") : [Double](repeating: .nan, count: steps.count)
            for (key, column) in [
                ("relative_bias", bias), ("bias_norm", norm), ("noise_floor", floor), ("variance_trace", trace),
                ("cosine", cosine), ("min_layer_cosine", minLayerCosine), ("microseconds", micro),
            ]
            where column.count != steps.count {
                throw HDF5Error(
                    operation: "\(e.location)/\(key) has \(column.count) values for \(steps.count) measurements", hdf5Message: "")
            }
            guard perLayer.count == layers * steps.count, norms.count == steps.count, errors.count == steps.count,
                epochs.count == steps.count
            else {
                throw HDF5Error(operation: "\(g.location): diagnostics columns of unequal length", hdf5Message: "")
            }
            columns.append(
                steps.indices.map { k in
                    GradientStatistics.Row(
                        estimator: name, biasNorm: norm[k], relativeBias: bias[k], noiseFloor: floor[k],
                        varianceTrace: trace[k], variancePerLayer: Array(perLayer[(k * layers)..<((k + 1) * layers)]),
                        cosine: cosine[k], minLayerCosine: minLayerCosine[k], microseconds: micro[k], forwardEquivalents: .nan)
                })
        }
        return steps.indices.map { k in
            RunRecord.DiagnosticsRow(
                step: steps[k], epoch: epochs[k], referenceNorm: norms[k], referenceRelativeError: errors[k],
                rows: columns.map { $0[k] })
        }
    }

    static func datasetName(_ name: String) -> String { name.replacingOccurrences(of: "/", with: ".") }

    static func writeSet(_ set: ParameterSet, into group: HDF5Group) throws {
        for (name, t) in zip(set.names, set.tensors) {
            try group.write(datasetName(name), t.values, shape: [t.rows, t.cols])
        }
    }

    static func readSet(_ set: ParameterSet, from group: HDF5Group) throws {
        for (name, t) in zip(set.names, set.tensors) {
            let ds = try group.dataset(datasetName(name))
            guard ds.shape == [t.rows, t.cols] else {
                throw HDF5Error(operation: "\(ds.location): shape \(ds.shape), expected [\(t.rows), \(t.cols)]", hdf5Message: "")
            }
            try ds.read(into: t.buffer)
        }
    }

    /// A component's state as a group: tensors as datasets, integers and reals as typed
    /// attributes, parts as subgroups.
    static func writeState(_ state: ComponentState, into group: HDF5Group) throws {
        try state.visit { path, part in
            let g = path.isEmpty ? group : try group.createGroup(path)
            try writeSet(part.tensors, into: g)
            for (k, v) in part.integers { try g.setAttribute(k, v) }
            for (k, v) in part.reals { try g.setAttribute(k, v) }
        }
    }

    static func readState(_ state: ComponentState, from group: HDF5Group) throws {
        try state.visit { path, part in
            let g = path.isEmpty ? group : try group.group(path)
            try readSet(part.tensors, from: g)
            for k in part.integers.keys { part.integers[k] = try g.attribute(k, as: Int64.self) }
            for k in part.reals.keys { part.reals[k] = try g.attribute(k, as: Double.self) }
            if let bad = part.firstInvalidValue {
                let what = bad.tensor ? "\(g.location)/\(datasetName(bad.name))" : "\(g.location): attribute \(bad.name)"
                throw HDF5Error(operation: "\(what) \(bad.problem) (a damaged or hand-edited file)", hdf5Message: "")
            }
        }
    }

    static func appendColumn<T: HDF5Element>(_ group: HDF5Group, _ name: String, _ values: [T]) throws {
        try group.createExtendable(name, of: T.self, chunkRows: 1024).append(values)
    }
}
