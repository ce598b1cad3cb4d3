import Foundation
import SBNConfig
import SBNEvents
import SBNModel

/// What a run writes for TensorBoard, as it trains (`logging: {tensorboard: true}`): one event
/// file per session in the run's folder (`SBNEvents.EventFileWriter`), holding
/// - at the start of a new run, its configuration (text, `config`) and the hparams plugin's
///   session start, so that a sweep folder opens in the HParams dashboard as a table;
/// - on a resumed run, a SessionLog START at the first step it will train, so that TensorBoard
///   drops what the killed session wrote after its last checkpoint (those steps are trained again);
/// - every `log_every` steps the rows of /metrics/train: train/loss, train/temperature,
///   train/learning_rate and train/examples_per_second;
/// - at each validation valid/<metric> (nll, or neg_elbo for the VAE), then a flush to disk;
/// - diagnostics/<estimator>/<column> when diagnostics are on;
/// - at the end test/nll (and test/neg_elbo) and the session's end.
/// Steps are training steps, the same as /metrics/*/step in `run.h5`. The scalar path reuses one
/// buffer and prepared tags, so the training loop allocates nothing for it. A failure to write is
/// one warning line; the run and its results file go on.
final class RunEvents {
    private let writer: EventFileWriter
    private var buffer = ProtoBuffer(capacity: 512)
    private let trainTags: [[UInt8]] = ["train/loss", "train/temperature", "train/learning_rate", "train/examples_per_second"].map
    { Array($0.utf8) }
    private let validTag: [UInt8]
    private let batchSize: Double
    /// The step and session time of the last training row, for examples per second.
    private var last: (step: Int64, elapsed: Double)

    /// Opens this session's file; nil (after one warning line) when it cannot be created.
    init?(config: ExperimentConfig, folder: String, record: RunRecord, warn: @escaping (String) -> Void) {
        let fresh = record.steps == 0 && !Self.hasEventFiles(folder)
        do {
            writer = try EventFileWriter(
                directory: folder.isEmpty ? "." : folder, wallTime: Date().timeIntervalSince1970, warn: warn)
        } catch {
            warn("warning: \(error.description); the run goes on without TensorBoard events")
            return nil
        }
        validTag = Array("valid/\(config.family.task.selectionMetric)".utf8)
        batchSize = Double(config.batchSize)
        last = (Int64(record.steps), record.elapsed)
        let now = Date().timeIntervalSince1970
        write { EventEncoding.fileVersion(wallTime: now, into: &$0) }
        if fresh {
            write { EventEncoding.text(tag: "config", "```\n\(config.json)\n```", step: 0, wallTime: now, into: &$0) }
            let group = URL(fileURLWithPath: folder.isEmpty ? "." : folder).standardized.lastPathComponent
            write {
                EventEncoding.hparamsSessionStart(Self.hparams(config), group: group, startTime: now, wallTime: now, into: &$0)
            }
        } else {
            write { EventEncoding.sessionStart(step: Int64(record.steps) + 1, wallTime: now, into: &$0) }
        }
        writer.flush()
    }

    var path: String { writer.path }

    func train(_ row: RunRecord.TrainRow) {
        let now = Date().timeIntervalSince1970
        let seconds = row.wallTime - last.elapsed
        let rate = seconds > 0 ? Double(row.step - last.step) * batchSize / seconds : .nan
        last = (row.step, row.wallTime)
        scalar(trainTags[0], row.loss, step: row.step, now)
        scalar(trainTags[1], row.tau, step: row.step, now)
        scalar(trainTags[2], row.lr, step: row.step, now)
        scalar(trainTags[3], rate, step: row.step, now)
    }

    /// One scalar (none when the value is not finite: TensorBoard would show a gap anyway).
    private func scalar(_ tag: [UInt8], _ value: Double, step: Int64, _ now: Double) {
        guard value.isFinite else { return }
        write { EventEncoding.scalar(tag: tag, value: Float(value), step: step, wallTime: now, into: &$0) }
    }

    /// A validation, then a flush: the file on disk is complete up to here.
    func valid(_ row: RunRecord.ValidRow) {
        let now = Date().timeIntervalSince1970
        scalar(validTag, row.nll, step: row.step, now)
        writer.flush()
    }

    func diagnostics(_ measurement: RunRecord.DiagnosticsRow) {
        let now = Date().timeIntervalSince1970
        for row in measurement.rows {
            let columns: [(String, Double)] = [
                ("relative_bias", row.relativeBias), ("variance_trace", row.varianceTrace),
                ("cosine", row.cosine), ("min_layer_cosine", row.minLayerCosine),
            ]
            for (name, value) in columns {
                scalar(Array("diagnostics/\(row.estimator)/\(name)".utf8), value, step: measurement.step, now)
            }
        }
    }

    /// The test metrics at the run's last step, the session's end, a flush.
    func finish(_ record: RunRecord) {
        let now = Date().timeIntervalSince1970, step = Int64(record.steps)
        if let test = record.test {
            scalar(Array("test/nll".utf8), test.nll, step: step, now)
            if let elbo = test.negELBO { scalar(Array("test/neg_elbo".utf8), elbo, step: step, now) }
            if let accuracy = test.accuracy { scalar(Array("test/accuracy".utf8), accuracy, step: step, now) }
        }
        end(success: record.status == .finished)
    }

    /// The hparams session's end (a failed run's too), then a flush.
    func end(success: Bool) {
        let now = Date().timeIntervalSince1970
        write { EventEncoding.hparamsSessionEnd(success: success, endTime: now, wallTime: now, into: &$0) }
        writer.flush()
    }

    /// The file on disk, complete up to the last record (after a stop signal).
    func flush() { writer.flush() }

    private func write(_ encode: (inout ProtoBuffer) -> Void) {
        encode(&buffer)
        writer.write(buffer.bytes)
    }

    static func hasEventFiles(_ folder: String) -> Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? []).contains {
            $0.contains(".tfevents.")
        }
    }

    /// The configuration's leaves as hyperparameters (numbers, booleans, strings; lists as text),
    /// without those that do not change what is computed.
    static func hparams(_ config: ExperimentConfig) -> [(name: String, value: EventEncoding.HParam)] {
        guard let tree = try? ConfigNode.encode(config) else { return [] }
        let skipped = ["description", "name", "data.", "logging.", "diagnostics.", "divergence."]
        return ConfigNode.leaves(tree).compactMap { path, node in
            guard !skipped.contains(where: { $0.hasSuffix(".") ? path.hasPrefix($0) : path == $0 }) else { return nil }
            guard case .scalar(let s) = node else { return (path, .string(ConfigNode.show(node))) }
            if ConfigNode.isString(node) { return (path, .string(s.string)) }
            if s.string == "true" || s.string == "false" { return (path, .bool(s.string == "true")) }
            if let x = Double(s.string) { return (path, .number(x)) }
            return (path, .string(s.string))
        }
    }
}
