import Foundation
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

    public init(config: ExperimentConfig, resultsPath: String, runtime: RuntimeOptions = RuntimeOptions(),
                log: @escaping (String) -> Void = { print($0) }) {
        self.config = config
        self.resultsPath = resultsPath
        self.runtime = runtime
        self.log = log
    }

    /// Trains (or resumes) and evaluates. With `resume`, an existing results file of the same
    /// configuration continues from its checkpoint (a finished one is returned as it is);
    /// without it, an existing file is an error, so nothing is overwritten.
    /// `stopAfterEpochs` ends the session early (the checkpoint is written; status stays running).
    @discardableResult
    public func run(resume: Bool, stopAfterEpochs: Int? = nil) throws -> RunRecord {
        let exists = FileManager.default.fileExists(atPath: resultsPath)
        if exists && !resume {
            throw TrainingError(description: "\(resultsPath): results exist; pass --resume to continue or choose another --out")
        }
        let dataset = try BinarizedMNIST(path: config.data.path)
        let train = dataset.train.prefix(config.data.trainLimit)
        let valid = dataset.valid.prefix(config.data.validLimit)
        let test = dataset.test.prefix(config.data.testLimit)

        var initRNG = Xoshiro256(seed: config.seed, purpose: .initialization)
        let model = SBN(sizes: config.layers, rng: &initRNG)
        let best = model.parameters.zerosLike()
        best.copy(from: model.parameters)
        let grads = model.makeGradients()
        let workspace = SBNWorkspace(model: model, capacityImages: config.batchSize, samples: config.samples.train)
        let estimatorType = EstimatorRegistry.lookup(config.estimator)!
        let estimator = try estimatorType.init(workspace: workspace, options: EstimatorOptions(config.estimatorOptions))
        let optimizer = OptimizerRegistry.lookup(config.optimizer)!(model.parameters, config)
        let schedule = ScheduleRegistry.lookup(config.temperature.schedule)!.init(config.temperature)
        var noiseRNG = Xoshiro256(seed: config.seed, purpose: .noise)
        var shuffleRNG = Xoshiro256(seed: config.seed, purpose: .shuffling)
        var record = RunRecord(config: config, codeVersion: Provenance.codeVersion)

        if exists {
            let saved = try ResultsFile.readRecord(resultsPath)
            guard saved.config.sameRun(as: config) else {
                throw TrainingError(description: "\(resultsPath): holds a run with another configuration; choose another --out")
            }
            if saved.status == .finished {
                log("\(resultsPath): already finished")
                return saved
            }
            if saved.hasCheckpoint {
                let rng = try ResultsFile.restore(resultsPath, parameters: model.parameters, best: best,
                                                  optimizer: optimizer.state, estimator: estimator.state)
                noiseRNG = Xoshiro256(stateWords: rng.noise)
                shuffleRNG = Xoshiro256(stateWords: rng.shuffle)
                record = saved
                record.config = config
                record.configJSON = config.json
                record.status = .running
                record.error = nil
                record.codeVersion = Provenance.codeVersion
                log("resuming \(resultsPath) after epoch \(saved.epochsDone) (step \(saved.steps))")
            }
        }

        func checkpoint() -> ResultsFile.Checkpoint {
            .init(parameters: model.parameters, best: best, optimizer: optimizer.state, estimator: estimator.state,
                  rngNoise: noiseRNG.stateWords, rngShuffle: shuffleRNG.stateWords)
        }
        func fail(_ message: String) -> TrainingError {
            if FileManager.default.fileExists(atPath: resultsPath) { try? ResultsFile.markFailed(resultsPath, error: message) }
            return TrainingError(description: message)
        }

        if !exists {
            // Epoch-0 checkpoint: the run is visible (status running) and resumable from the start.
            try ResultsFile.write(record, checkpoint: checkpoint(), to: resultsPath)
        }

        let batch = Batch(capacity: config.batchSize, inputSize: config.layers.first!, outputSize: config.layers.last!)
        var permutation = Array(0..<train.count)
        let sessionStart = Date()
        let elapsedBefore = record.elapsed
        let startEpoch = record.epochsDone
        let lastEpoch = min(config.epochs, stopAfterEpochs.map { startEpoch + $0 } ?? config.epochs)

        if startEpoch < lastEpoch {
            log("\(config.name): \(config.estimator), \(config.optimizer) lr \(config.lr), batch \(config.batchSize), "
                + "\(config.epochs) epochs, \(train.count) training images, seed \(config.seed)")
        }
        for epoch in stride(from: startEpoch + 1, through: lastEpoch, by: 1) {
            let epochStart = Date()
            BLAS.threads = runtime.blasThreads
            // Reset before shuffling, so each epoch's order depends only on the saved RNG state.
            permutation = Array(0..<train.count)
            shuffle(&permutation, using: &shuffleRNG)
            var intervalLoss = 0.0, intervalCount = 0, epochLoss = 0.0
            let batches = (train.count + config.batchSize - 1) / config.batchSize
            try train.images.withUnsafeBufferPointer { images in
                for b in 0..<batches {
                    let indices = permutation[(b * config.batchSize)..<min(train.count, (b + 1) * config.batchSize)]
                    ImageHalves.fill(top: batch.top, bottom: batch.bottom, from: images, indices: indices)
                    let tau = schedule.temperature(atStep: record.steps)
                    grads.zero()
                    let loss = estimator.estimate(batch, grads: grads,
                                                  context: StepContext(step: record.steps, temperature: tau, learningRate: optimizer.learningRate),
                                                  using: &noiseRNG)
                    record.steps += 1
                    guard loss.isFinite else { throw fail("step \(record.steps) (epoch \(epoch)): loss is not finite (\(loss.isNaN ? "nan" : "\(loss)")); run stopped, last good checkpoint kept") }
                    if let bad = grads.firstNonFinite {
                        throw fail("step \(record.steps) (epoch \(epoch)): non-finite gradient of \(bad); run stopped, last good checkpoint kept")
                    }
                    optimizer.step(model.parameters, gradients: grads)
                    intervalLoss += loss
                    intervalCount += 1
                    epochLoss += loss
                    if record.steps % config.logEvery == 0 || b == batches - 1 {
                        record.train.append(.init(step: Int64(record.steps), epoch: Int64(epoch), loss: intervalLoss / Double(intervalCount),
                                                  tau: Double(tau), lr: Double(optimizer.learningRate),
                                                  wallTime: elapsedBefore + Date().timeIntervalSince(sessionStart)))
                        intervalLoss = 0
                        intervalCount = 0
                    }
                }
            }
            if let bad = model.parameters.firstNonFinite {
                throw fail("epoch \(epoch): parameter \(bad) is not finite; run stopped, last good checkpoint kept")
            }
            let trainTime = Date().timeIntervalSince(epochStart)
            let v = evaluate(model, split: valid, samples: config.samples.valid, purpose: .validation)
            record.valid.append(.init(step: Int64(record.steps), epoch: Int64(epoch), nll: v.nll))
            if v.nll < record.bestValidNLL {
                record.bestValidNLL = v.nll
                record.bestEpoch = epoch
                best.copy(from: model.parameters)
            }
            record.epochsDone = epoch
            record.elapsed = elapsedBefore + Date().timeIntervalSince(sessionStart)
            try ResultsFile.write(record, checkpoint: checkpoint(), to: resultsPath)
            let eta = Double(config.epochs - epoch) * Date().timeIntervalSince(epochStart)
            log(String(format: "epoch %3d/%d  loss %7.3f  valid %7.3f (best %7.3f @%d)  %6.0f ex/s  %5.1fs  ETA %@",
                       epoch, config.epochs, epochLoss / Double(batches), v.nll, record.bestValidNLL, record.bestEpoch,
                       Double(train.count) / trainTime, Date().timeIntervalSince(epochStart), Self.duration(eta)))
        }

        guard record.epochsDone >= config.epochs else { return record }
        let bestModel = SBN(sizes: config.layers, copying: best)
        let t = evaluate(bestModel, split: test, samples: config.samples.test, purpose: .evaluation)
        record.test = .init(nll: t.nll, sem: t.standardError, samples: t.samples, images: t.images, perImage: t.perImage)
        record.status = .finished
        record.elapsed = elapsedBefore + Date().timeIntervalSince(sessionStart)
        try ResultsFile.write(record, checkpoint: checkpoint(), to: resultsPath)
        log(String(format: "test NLL %.3f ± %.3f nats (m=%d, %d images, best epoch %d), total %@",
                   t.nll, t.standardError, t.samples, t.images, record.bestEpoch, Self.duration(record.elapsed)))
        return record
    }

    func evaluate(_ model: SBN, split: BinarizedMNIST.Split, samples: Int, purpose: RandomStream) -> Evaluation {
        let images = split.images
        return Evaluator.evaluate(model: model, count: split.count, samples: samples, seed: config.seed, purpose: purpose,
                                  threads: runtime.evalThreads) { batch, range in
            images.withUnsafeBufferPointer { ImageHalves.fill(top: batch.top, bottom: batch.bottom, from: $0, indices: range) }
        }
    }

    /// Fisher–Yates with the run's shuffling stream (deterministic given its state).
    func shuffle(_ a: inout [Int], using rng: inout Xoshiro256) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            let j = Int(rng.next() % UInt64(i + 1))
            a.swapAt(i, j)
        }
    }

    public static func duration(_ s: Double) -> String {
        s >= 60 ? String(format: "%dm%02ds", Int(s) / 60, Int(s) % 60) : String(format: "%.1fs", s)
    }
}
