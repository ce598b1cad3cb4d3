import Atomics
import Dispatch
import Foundation
import SBNConfig
import SBNData
import SBNDistributions
import SBNEvents
import SBNModel
import SBNTensor
import SBNTraining

/// `sbnlab bench`: the speed of each path as a ratio to its own gemm-only time, measured in the
/// same process (machines differ, so only ratios within one run compare).
///
/// - Training: real one-epoch runs of `experiments/sbn-gs.yaml` per estimator on the 50000
///   training images, at one and two threads, beside the 8 gemms of a step alone (the same parts
///   and the same threads), and beside those gemms with OpenBLAS threading instead of parts; then
///   the same with categorical 20×10 layers, as a ratio to the Bernoulli step of each estimator.
/// - The discrete VAE (`vaeExperiment`, the mlp of vae-cat-gs.yaml): one-epoch runs with gs at
///   one and two threads beside the step's 17 gemms alone.
/// - Evaluation: the m = 1000 test NLL of the 10000 test images on two threads, beside the same
///   chunks' gemms alone, for the SBN and the VAE.
/// - Validation: the share of an epoch that the experiment's validation protocol takes.
/// - Semi-supervised (§4.3): steps/s of `marginal` (K passes) against `gs` (one) on M2 for
///   K = 10 … 100 at one and two threads, beside the ratio of their multiply-adds.
public struct SpeedBench {
    public let experiment: String
    public let vaeExperiment: String
    public var sslExperiment = "experiments/ssl-st-gs-50.yaml"
    public var greyDataPath = "data/mnist_grey.h5"
    public let dataPath: String
    public let estimators: [String]
    public let log: (String) -> Void

    public init(
        experiment: String, vaeExperiment: String = "experiments/vae-cat-gs.yaml", dataPath: String, estimators: [String],
        log: @escaping (String) -> Void
    ) {
        self.experiment = experiment
        self.vaeExperiment = vaeExperiment
        self.dataPath = dataPath
        self.estimators = estimators
        self.log = log
    }

    /// The report's sections, by the name `sbnlab bench --sections` takes.
    public static let sections = ["training", "vae", "evaluation", "validation", "logging", "ssl"]

    /// Runs the measurements of `sections` (all by default) and returns the Markdown report.
    public func run(sections: [String] = Self.sections) throws -> String {
        var lines = [
            "CPU: \(Self.cpuName()), \(ProcessInfo.processInfo.activeProcessorCount) cores; kernels: "
                + "\(FastMath.kernelLevel); OpenBLAS: \(BLAS.configuration)"
        ]
        let measure: [String: () throws -> [String]] = [
            "training": training, "vae": vaeTraining, "evaluation": evaluation,
            "validation": validation, "logging": logging, "ssl": semiSupervised,
        ]
        for name in Self.sections where sections.contains(name) { lines += [""] + (try measure[name]!()) }
        return lines.joined(separator: "\n")
    }

    // MARK: - The discrete VAE

    /// gs on the experiment's VAE, one epoch at 1 and 2 threads, beside the same step's gemms.
    func vaeTraining() throws -> [String] {
        let config = try ConfigLoader.load(vaeExperiment, overrides: ["data.path=\(dataPath)"])
        var rng = Xoshiro256(seed: 1, purpose: .initialization)
        let architecture = config.network(rng: &rng).architecture
        let widths = (1...architecture.hidden.count + 1).flatMap { architecture.mapWidths($0).dropLast() } + [architecture.output]
        let gemm1 = GemmStep(workers: 1, widths: widths).seconds(), gemm2 = GemmStep(workers: 2, widths: widths).seconds()
        let gemms = GemmStep(workers: 1, widths: widths).gemmCount
        var rows = [
            "| training, batch 100, VAE \(architecture) (\(config.name)) | 1 thread: examples/s | step ÷ gemm-only | "
                + "2 threads: examples/s | step ÷ gemm-only |", "|---|---|---|---|---|",
            String(format: "| gemm-only (%d gemms) | %.0f | 1.00 | %.0f | 1.00 |", gemms, 100 / gemm1, 100 / gemm2),
        ]
        for name in ["gs"] {
            let one = try bestOfTwo(estimator: name, experiment: vaeExperiment, threads: 1)
            let two = try bestOfTwo(estimator: name, experiment: vaeExperiment, threads: 2)
            let (step1, step2) = (one.seconds / Double(one.steps), two.seconds / Double(two.steps))
            log(
                String(
                    format: "VAE `%@`: %.3f ms/step at 1 thread, %.3f ms at 2 (gemm-only %.3f, %.3f)", name, step1 * 1e3,
                    step2 * 1e3,
                    gemm1 * 1e3, gemm2 * 1e3))
            rows.append(
                String(
                    format: "| `%@` | %.0f | %.2f | %.0f | %.2f |", name, Double(one.images) / one.seconds, step1 / gemm1,
                    Double(two.images) / two.seconds, step2 / gemm2))
        }
        return rows
    }

    // MARK: - Semi-supervised (§4.3)

    /// The class counts of the speed-up experiment, and the paper's GPU speed-ups at two of them.
    static let sslClasses = [10, 20, 50, 100]
    static let sslPaper: [Int: Double] = [10: 2, 100: 9.9]

    /// `marginal` against `gs` on M2 per K, each the best of two 3-epoch runs on 2000 unlabelled
    /// images (20 steps an epoch, plus the labelled batch of each step), at 1 and 2 threads.
    func semiSupervised() throws -> [String] {
        var rows = [
            "| K | predicted (multiply-adds, marginal ÷ gs) | 1 thread: marginal steps/s | gs steps/s | speed-up "
                + "| 2 threads: marginal steps/s | gs steps/s | speed-up | paper (GPU) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for k in Self.sslClasses {
            var cells = [String(k), String(format: "%.1f", try sslPredictedRatio(classes: k))]
            for threads in [1, 2] {
                let marginal = try sslStepsPerSecond("marginal", classes: k, threads: threads)
                let gs = try sslStepsPerSecond("gs", classes: k, threads: threads)
                log(String(format: "m2 K = %d, %d thread(s): marginal %.1f steps/s, gs %.1f", k, threads, marginal, gs))
                cells += [String(format: "%.1f", marginal), String(format: "%.1f", gs), String(format: "%.2f", gs / marginal)]
            }
            cells.append(Self.sslPaper[k].map { String(format: "%.1f", $0) } ?? "")
            rows.append("| " + cells.joined(separator: " | ") + " |")
        }
        return rows
    }

    func sslConfig(_ estimator: String, classes: Int, extra: [String] = []) throws -> ExperimentConfig {
        try ConfigLoader.load(
            sslExperiment,
            overrides: [
                "estimator=\(estimator)", "layers=[784, {categorical: [1, \(classes)]}, 784]", "epochs=3",
                "data.path=\(greyDataPath)", "data.train_limit=2100", "data.valid_limit=20", "samples.valid=1",
                "data.test_limit=1", "samples.test=1", "logging.tensorboard=false",
            ] + extra)
    }

    func sslStepsPerSecond(_ estimator: String, classes: Int, threads: Int) throws -> Double {
        let config = try sslConfig(estimator, classes: classes)
        var best = Double.infinity
        for _ in 0..<2 {
            let folder = NSTemporaryDirectory() + "sbnlab-bench-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let record = try Trainer(
                config: config, resultsPath: folder + "/run.h5", runtime: RuntimeOptions(threads: threads), log: { _ in }
            ).run(resume: false)
            best = min(best, record.valid.map(\.trainSeconds).min() ?? .nan)
        }
        return 20 / best
    }

    /// Multiply-adds of a training step (forward; the backward pass scales both alike) of
    /// `marginal` ÷ `gs`: the classifier and the image's part of q(z | x, y) once per image, the
    /// rest (y's part, q(z | x, y), p(x | y, z)) once per class or once, plus the labelled batch.
    func sslPredictedRatio(classes k: Int) throws -> Double {
        let config = try sslConfig("gs", classes: k)
        var rng = Xoshiro256(seed: 1)
        let network = config.network(rng: &rng)
        guard let b = network.bottleneck else { return .nan }
        func macs(_ widths: [Int]) -> Double { zip(widths, widths.dropFirst()).reduce(0) { $0 + Double($1.0 * $1.1) } }
        let shared = macs(network.maps[1].widths) + macs(b.fromImage.widths)
        let perClass = Double(k * b.firstWidth) + macs(b.encoder.widths) + macs(b.decoder.widths)
        let labelled =
            Double(config.model.options.as(SemiSupervisedFamily.Options.self)!.labelledBatch) / Double(config.batchSize)
        let step = { (passes: Double) in shared + passes * perClass + labelled * (shared + perClass) }
        return step(Double(k)) / step(1)
    }

    // MARK: - Training

    func training() throws -> [String] {
        let oneThread = GemmStep(workers: 1).seconds(), twoThreads = GemmStep(workers: 2).seconds()
        let openBLAS = GemmStep(workers: 1).seconds(openBLASThreads: 2)
        log(
            String(
                format: "gemm-only step: %.3f ms (1 thread), %.3f ms (2 threads as parts), %.3f ms (2 OpenBLAS threads)",
                oneThread * 1e3, twoThreads * 1e3, openBLAS * 1e3))
        var rows = [
            "| training, batch 100, 392-200-200-392 | 1 thread: examples/s | step ÷ gemm-only | "
                + "2 threads: examples/s | step ÷ gemm-only | categorical step ÷ Bernoulli step (1 / 2 threads) |",
            "|---|---|---|---|---|---|",
        ]
        rows.append(String(format: "| gemm-only (8 gemms) | %.0f | 1.00 | %.0f | 1.00 | |", 100 / oneThread, 100 / twoThreads))
        var bernoulli: [String: (Double, Double)] = [:]
        for (layers, names) in [(nil, estimators), (Self.categorical, estimators.filter { $0 != "arm" })] {
            for name in names {
                let one = try bestOfTwo(estimator: name, layers: layers, threads: 1)
                let two = try bestOfTwo(estimator: name, layers: layers, threads: 2)
                let (step1, step2) = (one.seconds / Double(one.steps), two.seconds / Double(two.steps))
                let label = layers == nil ? "`\(name)`" : "`\(name)`, categorical 20×10"
                log(String(format: "%@: %.3f ms/step at 1 thread, %.3f ms at 2", label, step1 * 1e3, step2 * 1e3))
                var relative = ""
                if layers == nil {
                    bernoulli[name] = (step1, step2)
                } else if let (b1, b2) = bernoulli[name] {
                    relative = String(format: "%.2f / %.2f", step1 / b1, step2 / b2)
                }
                rows.append(
                    String(
                        format: "| %@ | %.0f | %.2f | %.0f | %.2f | %@ |", label, Double(one.images) / one.seconds,
                        step1 / oneThread, Double(two.images) / two.seconds, step2 / twoThreads, relative))
            }
        }
        let faster = twoThreads <= openBLAS ? "parts of the batch on two workers" : "OpenBLAS threading"
        rows.append("")
        rows.append(
            String(
                format: "Two cores, the 8 gemms of a step: %.3f ms as two parts on two workers, %.3f ms with two "
                    + "OpenBLAS threads; faster: %@ (training uses parts, which also parallelise the elementwise work).",
                twoThreads * 1e3, openBLAS * 1e3, faster))
        return rows
    }

    func best(_ a: (seconds: Double, steps: Int, images: Int), _ b: (seconds: Double, steps: Int, images: Int))
        -> (seconds: Double, steps: Int, images: Int)
    { a.seconds <= b.seconds ? a : b }

    /// The faster of two `epochSeconds` measurements: the second core of a shared machine is
    /// sometimes busy for seconds.
    func bestOfTwo(estimator: String, experiment: String? = nil, layers: String? = nil, threads: Int) throws
        -> (seconds: Double, steps: Int, images: Int)
    {
        try best(
            epochSeconds(estimator: estimator, experiment: experiment, layers: layers, threads: threads),
            epochSeconds(estimator: estimator, experiment: experiment, layers: layers, threads: threads))
    }

    /// The categorical layers of Jang et al. 2017 §4.1 (the gemms are the same shapes).
    static let categorical = "layers=[392, {categorical: [20, 10]}, {categorical: [20, 10]}, 392]"

    /// The best training time of three epochs of a real run (each epoch's `train_seconds`), with
    /// the experiment's layers or the `layers=` override given.
    func epochSeconds(
        estimator: String, experiment: String? = nil, layers: String? = nil,
        threads: Int, logging: Bool = true
    ) throws -> (seconds: Double, steps: Int, images: Int) {
        let experiment = experiment ?? self.experiment
        let folder = NSTemporaryDirectory() + "sbnlab-bench-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let config = try ConfigLoader.load(
            experiment,
            overrides: [
                "estimator=\(estimator)", "estimator_options={}", "epochs=3", "data.path=\(dataPath)", "data.valid_limit=20",
                "samples.valid=1", "data.test_limit=1", "samples.test=1", "logging.tensorboard=\(logging)",
            ] + (layers.map { [$0] } ?? []))
        let record = try Trainer(
            config: config, resultsPath: folder + "/run.h5", runtime: RuntimeOptions(threads: threads),
            log: { _ in }
        ).run(resume: false)
        let images = try BinarizedMNIST(path: dataPath).train.count
        let steps = (images + config.batchSize - 1) / config.batchSize
        return (record.valid.map(\.trainSeconds).min() ?? .nan, steps, images)
    }

    // MARK: - Evaluation

    func evaluation() throws -> [String] {
        let test = try BinarizedMNIST(path: dataPath).test
        let samples = 1000, threads = 2
        var rows = [
            "| evaluation, m = 1000, \(test.count) test images, \(threads) threads | seconds | ÷ gemm-only |", "|---|---|---|",
        ]
        for file in [experiment, vaeExperiment] {
            let config = try ConfigLoader.load(file, overrides: ["data.path=\(dataPath)"])
            var rng = Xoshiro256(seed: 1, purpose: .initialization)
            let model = config.network(rng: &rng)
            let gemmOnly = EvaluationGemms(model: model, images: test.count, samples: samples, threads: threads).seconds()
            let start = DispatchTime.now().uptimeNanoseconds
            let images = test.images, task = config.family.task
            _ = Evaluator.evaluate(model: model, count: test.count, samples: samples, seed: 1, threads: threads) { batch, range in
                images.withUnsafeBufferPointer { task.fill(batch, from: $0, indices: range) }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            log(String(format: "evaluation of %@: %.1f s, gemm-only %.1f s", config.name, seconds, gemmOnly))
            rows += [
                String(format: "| %@: gemm-only (same chunks) | %.1f | 1.00 |", config.name, gemmOnly),
                String(
                    format: "| %@: `Evaluator` (test NLL%@) | %.1f | %.2f |", config.name,
                    model.prior == nil ? "" : " and −ELBO", seconds, seconds / gemmOnly),
            ]
        }
        return rows
    }

    // MARK: - Validation

    /// Two validation periods of the experiment itself (its validation protocol), two threads.
    func validation() throws -> [String] {
        let folder = NSTemporaryDirectory() + "sbnlab-bench-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let base = try ConfigLoader.load(experiment, overrides: ["data.path=\(dataPath)"])
        let config = try ConfigLoader.load(
            experiment,
            overrides: [
                "epochs=\(2 * base.validEvery)", "data.path=\(dataPath)",
                "data.test_limit=1", "samples.test=1",
            ])
        let record = try Trainer(
            config: config, resultsPath: folder + "/run.h5", runtime: RuntimeOptions(threads: 2),
            log: { _ in }
        ).run(resume: false)
        let last = record.valid[record.valid.count - 1]
        let share = last.validSeconds / (last.trainSeconds + last.validSeconds)
        let images = try BinarizedMNIST(path: dataPath).valid.prefix(config.data.validLimit).count
        log(String(format: "validation: %.2f s per %.2f s of training", last.validSeconds, last.trainSeconds))
        return [
            "| validation protocol of \(config.name) | images | m | every | training s | validation s | share of wall time |",
            "|---|---|---|---|---|---|---|",
            String(
                format: "| (from its file) | %d | %d | %d epochs | %.2f | %.2f | %.0f %% |", images, config.samples.valid,
                config.validEvery, last.trainSeconds, last.validSeconds, 100 * share),
        ]
    }

    // MARK: - TensorBoard logging

    /// What the TensorBoard events cost a training run: the time to encode and write one training
    /// row's four scalar events (best of 7 × 2000 rows, into a real event file), as a share of the
    /// `log_every` steps of gs (one thread) that each row follows; and gs's epoch with and without
    /// the events (best of five each, interleaved).
    func logging() throws -> [String] {
        let folder = NSTemporaryDirectory() + "sbnlab-bench-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let writer = try EventFileWriter(directory: folder, wallTime: 0) { self.log($0) }
        var buffer = ProtoBuffer(capacity: 512)
        let tags = ["train/loss", "train/temperature", "train/learning_rate", "train/examples_per_second"].map { Array($0.utf8) }
        var step: Int64 = 0
        let row = bestTime(iterations: 2000) {
            step += 1
            for tag in tags {
                EventEncoding.scalar(tag: tag, value: 63.25, step: step, wallTime: 1.7e9, into: &buffer)
                writer.write(buffer.bytes)
            }
        }
        let every = try ConfigLoader.load(experiment, overrides: ["data.path=\(dataPath)"]).logEvery
        // Interleaved, best of five each: a busy second core moves single epochs by a few per cent.
        var on = (seconds: Double.infinity, steps: 0, images: 0), off = on
        for _ in 0..<5 {
            on = try best(on, epochSeconds(estimator: "gs", threads: 1))
            off = try best(off, epochSeconds(estimator: "gs", threads: 1, logging: false))
        }
        let step1 = off.seconds / Double(off.steps)
        log(
            String(
                format: "events: %.2f µs per training row, %.4f %% of %d gs steps", row * 1e6,
                100 * row / (Double(every) * step1), every))
        return [
            "| TensorBoard events, gs, 1 thread | per training row (4 scalars) | share of the \(every) steps it follows | "
                + "epoch with events | epoch without | ratio |", "|---|---|---|---|---|---|",
            String(
                format: "| (log_every %d) | %.2f µs | %.4f %% | %.3f s | %.3f s | %.3f |", every, row * 1e6,
                100 * row / (Double(every) * step1), on.seconds, off.seconds, on.seconds / off.seconds),
        ]
    }

    static func cpuName() -> String {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        return info.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) }
            ?? "unknown CPU"
    }
}

/// Best-of-repetitions wall time of `body`, divided by `iterations`.
func bestTime(repetitions: Int = 7, iterations: Int, _ body: () -> Void) -> Double {
    var best = Double.infinity
    for _ in 0..<repetitions {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iterations { body() }
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(iterations))
    }
    return best
}
