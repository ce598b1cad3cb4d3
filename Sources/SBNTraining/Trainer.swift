import Foundation
import SBNConfig
import SBNData
import SBNDistributions
import SBNEstimators
import SBNModel
import SBNStorage
import SBNTensor

/// A failure during training that stops the run (the last good checkpoint is kept).
public struct TrainingError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// Runs one experiment: shuffled minibatches, the chosen estimator and optimizer, validation
/// NLL after every epoch (keeping the best parameters), a checkpoint after every epoch, and the
/// final m-sample test NLL of the best parameters (Jang et al. 2017 §4.1 protocol).
public final class Trainer {
    public let config: ExperimentConfig
    public let resultsPath: String
    public let runtime: RuntimeOptions
    let log: (String) -> Void
    /// This session's TensorBoard events (nil when `logging.tensorboard` is off or the file could
    /// not be created).
    var events: RunEvents?
    /// An m2 run's labelled set and term (nil for the other families).
    var semiSupervised: SemiSupervisedRun?

    public init(
        config: ExperimentConfig, resultsPath: String, runtime: RuntimeOptions = RuntimeOptions(),
        log: @escaping (String) -> Void = { print($0) }
    ) {
        self.config = config
        self.resultsPath = resultsPath
        self.runtime = runtime
        self.log = log
    }

    /// The three splits, each cut to its configured limit.
    struct Splits {
        let train: BinarizedMNIST.Split, valid: BinarizedMNIST.Split, test: BinarizedMNIST.Split
    }

    /// Trains (or resumes) and evaluates. With `resume`, an existing results file of the same
    /// configuration continues from its checkpoint (a finished one is returned as it is, unless
    /// `epochs` grew: then it trains on); without it, an existing file is an error, so nothing is
    /// overwritten. The data are checked (`BinarizedMNIST`) before the run's folder is created,
    /// and the run is locked (`RunLock`) for as long as this call lasts.
    /// `stopAfterEpochs` ends the session early after an epoch; a stop signal (`StopRequest`)
    /// ends it after the current step: the checkpoint is written and the status stays running.
    @discardableResult
    public func run(resume: Bool, stopAfterEpochs: Int? = nil) throws -> RunRecord {
        let (splits, labelled) = try loadData()
        let state = try TrainingState(config: config, runner: PartRunner(workers: runtime.trainThreads))
        if let labelled {
            semiSupervised = SemiSupervisedRun(
                config: config, labelled: labelled, unlabelledCount: splits.train.count, model: state.model,
                runner: state.workspace.runner)
        }
        let lock = try lockRun()
        defer { withExtendedLifetime(lock) {} }
        if let finished = try start(state, resume: resume, trainImages: splits.train.count) { return finished }
        if config.logging.tensorboard {
            events = RunEvents(
                config: config, folder: (resultsPath as NSString).deletingLastPathComponent, record: state.record,
                warn: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
        }
        defer { events?.flush() }
        let session = Session(elapsedBefore: state.record.elapsed)
        let firstEpoch = state.record.epochsDone + 1
        let lastEpoch = min(config.epochs, stopAfterEpochs.map { firstEpoch - 1 + $0 } ?? config.epochs)
        if firstEpoch <= lastEpoch {
            log(
                "\(config.name): \(config.estimator), \(config.optimizer) lr \(config.lr)\(lrScheduleNote), batch \(config.batchSize), "
                    + "\(config.epochs) epochs, \(splits.train.count) training images, seed \(config.seed)")
        }
        var trainingSinceValidation = 0.0
        let probe = try DiagnosticsProbe(config, valid: splits.valid)
        for epoch in stride(from: firstEpoch, through: lastEpoch, by: 1) {
            let epochStart = Date()
            guard let loss = try trainEpoch(epoch, state, split: splits.train, session: session, probe: probe) else {
                let p = state.record.epochProgress!
                log(
                    "\(StopRequest.name(StopRequest.signal!)): stopped after step \(state.record.steps) (epoch \(epoch), "
                        + "batch \(p.batches)) with a checkpoint; continue with --resume")
                return state.record
            }
            let trainTime = Date().timeIntervalSince(epochStart)
            trainingSinceValidation += trainTime
            state.record.epochsDone = epoch
            if epoch % config.validEvery == 0 || epoch == config.epochs {
                try validate(epoch, state, split: splits.valid)
                state.record.valid[state.record.valid.count - 1].trainSeconds = trainingSinceValidation
                state.record.valid[state.record.valid.count - 1].validSeconds = Date().timeIntervalSince(epochStart) - trainTime
                trainingSinceValidation = 0
            }
            state.record.elapsed = session.elapsed
            try checkDivergence(epoch, state)
            try state.save(to: resultsPath)
            logEpoch(epoch, state, loss: loss, throughput: Double(splits.train.count) / trainTime, started: epochStart)
            if let signal = StopRequest.signal, epoch < config.epochs {
                log("\(StopRequest.name(signal)): stopped after epoch \(epoch) with a checkpoint; continue with --resume")
                return state.record
            }
        }
        guard state.record.epochsDone >= config.epochs else { return state.record }
        return try finish(state, split: splits.test, session: session)
    }

    /// The three splits, each cut to its configured limit; for m2 the training split is the
    /// unlabelled images and the labelled set comes apart. Checked before anything is written.
    func loadData() throws -> (Splits, labelled: BinarizedMNIST.Split?) {
        let dataset = try BinarizedMNIST(path: config.data.path)
        let path = config.data.path
        let (train, valid, test) = (
            dataset.train.prefix(config.data.trainLimit), dataset.valid.prefix(config.data.validLimit),
            dataset.test.prefix(config.data.testLimit)
        )
        guard let options = SemiSupervisedRun.options(config) else {
            // Grey images are binarised afresh each epoch ("dynamic MNIST") for a model of whole
            // images; the SBN's task splits an image into halves and reads fixed binary pixels.
            if dataset.train.grey, !config.family.task.targetIsInput {
                throw TrainingError(
                    description: "\(path): grey images (binarization grey) are binarised for whole-image models (vae, m2) only; "
                        + "\(config.family.name) trains on binary images (make data)")
            }
            return (Splits(train: train, valid: valid, test: test), nil)
        }
        let divided = try SemiSupervisedRun.divide(train, options: options, path: path)
        for (name, split) in [("valid", valid), ("test", test)] where split.labels == nil {
            throw TrainingError(description: "\(path): /\(name)/labels is missing; model.family m2 reports its accuracy")
        }
        return (Splits(train: divided.unlabelled, valid: valid, test: test), divided.labelled)
    }

    /// Wall time of this session on top of the sessions before it.
    struct Session {
        let start = Date()
        let elapsedBefore: Double
        var elapsed: Double { elapsedBefore + Date().timeIntervalSince(start) }
    }

    /// Creates the run's folder and takes its lock.
    func lockRun() throws -> RunLock {
        let folder = (resultsPath as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        return try RunLock(results: resultsPath)
    }

    /// Stops the run as failed when its validation NLL has stayed more than `divergence.margin`
    /// nats above a reference for the last `divergence.patience` validations (a learning rate
    /// too large for the estimator), as the NaN guard stops a run whose loss is not finite. The
    /// reference is the first validation, or the NLL of predicting every pixel with probability ½
    /// (392 ln 2 = 271.7 nats) when that is lower: a run that diverged within its first epoch is
    /// worse than a coin.
    func checkDivergence(_ epoch: Int, _ state: TrainingState) throws {
        let valid = state.record.valid, rule = config.divergence
        // A classification error is no likelihood: a worse one is not a diverged run.
        guard config.family.task.selectionMetric != "error" else { return }
        guard let first = valid.first?.nll, valid.last?.epoch == Int64(epoch), valid.count >= rule.patience else { return }
        let reference = min(first, config.family.task.coinFlipNLL)
        let recent = valid.suffix(rule.patience)
        // A run diverging from its first validation needs `patience` validations after it.
        guard recent.allSatisfy({ !($0.nll <= reference + rule.margin) }), reference < first || valid.count > rule.patience else {
            return
        }
        try state.save(to: resultsPath)
        throw fail(
            String(
                format: "diverged at epoch %d: validation NLL %.2f stayed more than %g nats above %.2f for %d "
                    + "validations (divergence.margin, divergence.patience)", epoch, valid.last!.nll, rule.margin,
                reference, rule.patience))
    }

    /// Restores a resumed run, or writes the epoch-0 checkpoint of a new one (so the run is
    /// visible and resumable from the start). Returns the record of an already finished run.
    func start(_ state: TrainingState, resume: Bool, trainImages: Int) throws -> RunRecord? {
        guard FileManager.default.fileExists(atPath: resultsPath) else {
            try state.save(to: resultsPath)
            return nil
        }
        guard resume else {
            throw TrainingError(description: "\(resultsPath): results exist; pass --resume to continue or choose another --out")
        }
        let saved = try ResultsFile.readRecord(resultsPath)
        // `epochs` may grow on resume (training continues); every other key must match.
        let differing = saved.config.differences(from: config).filter { $0 != "epochs" || config.epochs < saved.epochsDone }
        guard differing.isEmpty else {
            throw TrainingError(
                description: "\(resultsPath): holds a run with another configuration (differs in "
                    + "\(differing.joined(separator: ", "))); choose another --out")
        }
        // Only a training outcome marks a run failed (`fail`: divergence, a non-finite loss,
        // gradient or parameter). Resuming it would repeat it, or train on past a divergence and
        // end as finished with the divergence forgotten, so it is final.
        if saved.status == .failed {
            throw TrainingError(
                description: "\(resultsPath): the run failed (\(saved.error ?? "no message recorded")); a failed run is final "
                    + "(resuming repeats its configuration): choose another --out")
        }
        if saved.status == .finished && config.epochs <= saved.epochsDone {
            log("\(resultsPath): already finished")
            return saved
        }
        if saved.hasCheckpoint {
            try validateCheckpoint(saved, trainImages: trainImages)
            try state.restore(from: resultsPath, record: saved)
            if saved.status == .finished {
                state.record.test = nil
                log("extending \(resultsPath) from \(saved.epochsDone) to \(config.epochs) epochs")
            } else {
                let inside = saved.epochProgress.map { ", batch \($0.batches) of epoch \(saved.epochsDone + 1)" } ?? ""
                log("resuming \(resultsPath) after epoch \(saved.epochsDone) (step \(saved.steps)\(inside))")
            }
        }
        return nil
    }

    /// The checkpoint's position against the configuration and its own invariants, before anything
    /// is restored: completed epochs within the run's, the step count equal to the batches of those
    /// epochs plus those of the epoch in progress, the best epoch among the completed ones.
    public func validateCheckpoint(_ saved: RunRecord, trainImages: Int) throws {
        let perEpoch = (trainImages + config.batchSize - 1) / config.batchSize
        func bad(_ what: String) -> TrainingError {
            TrainingError(description: "\(resultsPath): checkpoint \(what) (a damaged or hand-edited file); choose another --out")
        }
        guard (0...max(config.epochs, saved.config.epochs)).contains(saved.epochsDone) else {
            throw bad("epoch \(saved.epochsDone) is outside 0…\(max(config.epochs, saved.config.epochs))")
        }
        if let p = saved.epochProgress {
            guard (0..<perEpoch).contains(p.batches), p.intervalCount >= 0, p.lossSum.isFinite, p.intervalLoss.isFinite else {
                throw bad(
                    "epoch_progress (batches \(p.batches), interval_count \(p.intervalCount)) does not fit an epoch of \(perEpoch) batches"
                )
            }
        }
        let expected = saved.epochsDone * perEpoch + (saved.epochProgress?.batches ?? 0)
        guard saved.steps == expected else {
            throw bad(
                "step \(saved.steps) does not match epoch \(saved.epochsDone) × \(perEpoch) batches + \(saved.epochProgress?.batches ?? 0)"
            )
        }
        guard (0...saved.epochsDone).contains(saved.bestEpoch), !saved.bestValidNLL.isNaN, saved.elapsed.isFinite,
            saved.elapsed >= 0
        else {
            throw bad(
                "best_epoch \(saved.bestEpoch), best_valid_nll \(saved.bestValidNLL) or elapsed \(saved.elapsed) is impossible after epoch \(saved.epochsDone)"
            )
        }
    }

    /// One pass over the training split in the order of the shuffling stream (from where a
    /// stopped run left it, `epochProgress`). Returns the mean loss, or nil when a stop signal
    /// ended the epoch early: the checkpoint then holds the batches done (`stopInside`).
    func trainEpoch(
        _ epoch: Int, _ state: TrainingState, split: BinarizedMNIST.Split, session: Session,
        probe: DiagnosticsProbe? = nil
    ) throws -> Double? {
        BLAS.threads = 1  // parallelism is across the runner's parts; one OpenBLAS thread each
        let batch = Batch(
            capacity: config.batchSize, inputSize: config.layers.input, outputSize: config.layers.output,
            targetIsInput: config.family.task.targetIsInput)
        // A fresh identity before shuffling, so each epoch's order depends only on the saved RNG state.
        let shuffleAtStart = state.shuffle
        var permutation = Array(0..<split.count)
        Self.shuffle(&permutation, using: &state.shuffle)
        let resumed = state.record.epochProgress
        state.record.epochProgress = nil
        var interval = (loss: resumed?.intervalLoss ?? 0, count: resumed?.intervalCount ?? 0), epochLoss = resumed?.lossSum ?? 0
        let batches = (split.count + config.batchSize - 1) / config.batchSize
        var stopped = false
        try split.images.withUnsafeBufferPointer { images in
            for b in (resumed?.batches ?? 0)..<batches {
                if StopRequest.signal != nil, b > (resumed?.batches ?? 0) {
                    let progress = RunRecord.EpochProgress(
                        batches: b, lossSum: epochLoss, intervalLoss: interval.loss,
                        intervalCount: interval.count)
                    try stopInside(state, progress: progress, shuffleAtStart: shuffleAtStart, session: session)
                    stopped = true
                    return
                }
                let indices = permutation[(b * config.batchSize)..<min(split.count, (b + 1) * config.batchSize)]
                fill(
                    batch, indices: indices, from: images, runner: state.workspace.runner,
                    binarize: split.grey ? (config.seed, epoch) : nil)
                let loss = try step(batch, epoch: epoch, state)
                if let probe, probe.due(afterStep: state.record.steps) {
                    let tau = state.schedule.temperature(atStep: state.record.steps - 1)
                    state.record.diagnostics.append(
                        try probe.measure(
                            state.model, step: state.record.steps, epoch: epoch,
                            temperature: tau, seed: config.seed))
                    events?.diagnostics(state.record.diagnostics[state.record.diagnostics.count - 1])
                }
                interval = (interval.loss + loss, interval.count + 1)
                epochLoss += loss
                if state.record.steps % config.logEvery == 0 || b == batches - 1 {
                    state.record.train.append(
                        .init(
                            step: Int64(state.record.steps), epoch: Int64(epoch),
                            loss: interval.loss / Double(interval.count),
                            tau: Double(state.schedule.temperature(atStep: state.record.steps - 1)),
                            lr: Double(state.optimizer.learningRate), wallTime: session.elapsed))
                    events?.train(state.record.train[state.record.train.count - 1])
                    interval = (0, 0)
                }
            }
        }
        if stopped { return nil }
        if let bad = state.model.parameters.firstNonFinite {
            throw fail("epoch \(epoch): parameter \(bad) is not finite; run stopped, last good checkpoint kept")
        }
        return epochLoss / Double(batches)
    }

    /// Writes a checkpoint inside an epoch: everything as it is, except the shuffling stream,
    /// saved as it was before this epoch's shuffle so that a resumed run redraws the same order.
    func stopInside(_ state: TrainingState, progress: RunRecord.EpochProgress, shuffleAtStart: Xoshiro256, session: Session)
        throws
    {
        let shuffled = state.shuffle
        state.shuffle = shuffleAtStart
        state.record.epochProgress = progress
        state.record.elapsed = session.elapsed
        defer { state.shuffle = shuffled }
        try state.save(to: resultsPath)
    }

    /// One estimator step and one optimizer update; a non-finite loss or gradient stops the run.
    func step(_ batch: Batch, epoch: Int, _ state: TrainingState) throws -> Double {
        let tau = state.schedule.temperature(atStep: state.record.steps)
        state.optimizer.learningRate = state.lrSchedule.learningRate(base: config.lr, atStep: state.record.steps)
        // The gradients are zero here: a new state's are, and the optimizer leaves them so.
        let context = StepContext(step: state.record.steps, temperature: tau, learningRate: state.optimizer.learningRate)
        var loss = state.estimator.estimate(batch, grads: state.gradients, context: context, using: &state.noise)
        if let semiSupervised {
            loss += semiSupervised.accumulate(
                step: state.record.steps, grads: state.gradients, task: config.family.task, using: &state.noise)
        }
        state.record.steps += 1
        // Messages are built only on failure: a string per step would allocate in the loop.
        guard loss.isFinite else {
            throw fail(
                "step \(state.record.steps) (epoch \(epoch)): loss is not finite (\(loss.isNaN ? "nan" : "\(loss)")); "
                    + "run stopped, last good checkpoint kept")
        }
        // The optimizer checks the gradients in its own pass; after a non-finite one the update
        // is meaningless, but only the checkpoint on disk is kept.
        if let bad = state.optimizer.step(state.model.parameters, gradients: state.gradients, runner: state.workspace.runner) {
            throw fail(
                "step \(state.record.steps) (epoch \(epoch)): non-finite gradient of \(bad); run stopped, last good checkpoint kept"
            )
        }
        return loss
    }

    /// The batch's rows for the task, its images cut into the runner's parts.
    func fill(
        _ batch: Batch, indices: ArraySlice<Int>, from images: UnsafeBufferPointer<UInt8>, runner: PartRunner,
        binarize: (seed: UInt64, epoch: Int)? = nil
    ) {
        batch.setRows(indices.count)
        let boundary = PartRunner.boundary(indices.count)
        runner.run { part in
            config.family.task.fill(
                batch, from: images, indices: indices, rows: PartRunner.range(part, of: indices.count, boundary: boundary),
                binarize: binarize)
        }
    }

    /// The validation metric of the current parameters (the task's `selectionMetric`: the NLL, or
    /// −ELBO for the VAE); keeps them when they are the best so far.
    func validate(_ epoch: Int, _ state: TrainingState, split: BinarizedMNIST.Split) throws {
        let metric: Double
        if config.family.task.selectionMetric == "error" {
            let c = SemiSupervisedRun.confusion(state.model, split: split, purpose: .validation, task: config.family.task)
            metric = 100 * (1 - c.accuracy)
        } else {
            let v = evaluate(state.model, split: split, samples: config.samples.valid, purpose: .validation)
            metric = v.elbo?.mean ?? v.nll
        }
        state.record.valid.append(.init(step: Int64(state.record.steps), epoch: Int64(epoch), nll: metric))
        events?.valid(state.record.valid[state.record.valid.count - 1])
        if metric < state.record.bestValidNLL {
            state.record.bestValidNLL = metric
            state.record.bestEpoch = epoch
            state.best.copy(from: state.model.parameters)
        }
    }

    /// The m-sample test NLL of the best parameters; the run is then finished.
    func finish(_ state: TrainingState, split: BinarizedMNIST.Split, session: Session) throws -> RunRecord {
        let t = evaluate(state.model.copy(with: state.best), split: split, samples: config.samples.test, purpose: .evaluation)
        state.record.test = .init(
            nll: t.nll, sem: t.standardError, samples: t.samples, images: t.images, perImage: t.perImage,
            negELBO: t.elbo?.mean, negELBOSem: t.elbo?.standardError, perImageNegELBO: t.elbo?.values)
        if semiSupervised != nil {
            let c = SemiSupervisedRun.confusion(
                state.model.copy(with: state.best), split: split, purpose: .evaluation, task: config.family.task)
            (state.record.test!.accuracy, state.record.test!.accuracySem) = (c.accuracy, c.standardError)
            state.record.test!.confusion = c
            log(
                String(
                    format: "test accuracy %.2f %% ± %.2f (binomial se, %d images)", 100 * c.accuracy, 100 * c.standardError,
                    split.count))
            log("test " + c.summaryLine)
        }
        state.record.status = .finished
        state.record.elapsed = session.elapsed
        try state.save(to: resultsPath)
        events?.finish(state.record)
        if let elbo = t.elbo {
            log(
                String(
                    format: "test −ELBO %.3f ± %.3f nats (%@), −log p(x) ≈ %.3f ± %.3f (importance-weighted, "
                        + "m=%d, %d images, best epoch %d), total %@", elbo.mean, elbo.standardError,
                    semiSupervised == nil ? "the paper's metric" : "unlabelled", t.nll, t.standardError,
                    t.samples, t.images, state.record.bestEpoch, TimeText.duration(state.record.elapsed)))
        } else {
            log(
                String(
                    format: "test NLL %.3f ± %.3f nats (m=%d, %d images, best epoch %d), total %@",
                    t.nll, t.standardError, t.samples, t.images, state.record.bestEpoch, TimeText.duration(state.record.elapsed)))
        }
        return state.record
    }

    func logEpoch(_ epoch: Int, _ state: TrainingState, loss: Double, throughput: Double, started: Date) {
        let seconds = Date().timeIntervalSince(started)
        let r = state.record
        let valid = r.valid.last.flatMap { $0.epoch == epoch ? String(format: "%7.3f", $0.nll) : nil } ?? "      –"
        log(
            String(
                format: "epoch %3d/%d  loss %7.3f  valid %@ (best %7.3f @%d)  %6.0f ex/s  %5.1fs  ETA %@",
                epoch, config.epochs, loss, valid, r.bestValidNLL, r.bestEpoch, throughput, seconds,
                TimeText.duration(Double(config.epochs - epoch) * seconds)))
    }

    /// Marks the results file failed (its checkpoint stays) and returns the error to throw.
    /// " (step schedule)" in a run's first line when its learning rate is not constant.
    var lrScheduleNote: String {
        config.lrSchedule.schedule == ConstantRate.name ? "" : " (\(config.lrSchedule.schedule) schedule)"
    }

    func fail(_ message: String) -> TrainingError {
        if FileManager.default.fileExists(atPath: resultsPath) { try? ResultsFile.markFailed(resultsPath, error: message) }
        events?.end(success: false)
        return TrainingError(description: message)
    }

    func evaluate(_ model: StochasticNetwork, split: BinarizedMNIST.Split, samples: Int, purpose: RandomStream) -> Evaluation {
        Self.evaluate(model, config: config, split: split, samples: samples, purpose: purpose, threads: runtime.evalThreads)
    }

    /// The m-sample evaluation of `model` on a split, with the run's seed and the stream of
    /// `purpose` (the run's test numbers are `.evaluation` with `samples.test` on the test split).
    static func evaluate(
        _ model: StochasticNetwork, config: ExperimentConfig, split: BinarizedMNIST.Split, samples: Int, purpose: RandomStream,
        threads: Int
    ) -> Evaluation {
        let images = split.images, task = config.family.task
        return Evaluator.evaluate(
            model: model, count: split.count, samples: samples, seed: config.seed, purpose: purpose, threads: threads
        ) { batch, range in
            images.withUnsafeBufferPointer {
                task.fill(batch, from: $0, indices: range, binarize: SemiSupervisedRun.evaluationBinarization(split, purpose))
            }
        }
    }

    /// Fisher–Yates with the run's shuffling stream (deterministic given its state).
    static func shuffle(_ a: inout [Int], using rng: inout Xoshiro256) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            let j = Int(rng.next() % UInt64(i + 1))
            a.swapAt(i, j)
        }
    }
}

/// Durations as progress lines show them: "42.0s", "6m05s".
public enum TimeText {
    public static func duration(_ s: Double) -> String {
        s >= 60 ? String(format: "%dm%02ds", Int(s) / 60, Int(s) % 60) : String(format: "%.1fs", s)
    }
}
