import ArgumentParser
import Foundation
import SBNLab

/// `sbnlab eval RUN.h5 --split train`: the run's best parameters evaluated again on any split,
/// e.g. the training images' bound beside the test images'. Reads only; writes nothing.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a run's best parameters on its train, valid or test images (writes nothing).")

    @Argument(help: "A run's results file (run.h5) with a checkpoint.")
    var runFile: String

    @Option(help: "The split: train, valid or test.")
    var split: CheckpointEvaluation.SplitName = .test

    @Option(help: "Samples per image (default: the run's samples.test).")
    var samples: Int?

    @Option(help: "Only the first N images of the split.")
    var limit: Int?

    @Option(help: "Dataset (default: the run's data.path).")
    var data: String?

    @Option(help: "Evaluation threads (the result does not depend on them; default: all cores).")
    var threads: Int?

    @Flag(help: "For an m2 run, also print the confusion counts (true digit × predicted class) as a table.")
    var confusion = false

    func validate() throws {
        try expectCount("--samples", samples, in: 1...100_000)
        try expectCount("--limit", limit, in: 1...BinarizedMNIST.maxImages)
        try expectCount("--threads", threads, in: 1...1024)
    }

    func run() throws {
        try reportingErrors {
            let r = try CheckpointEvaluation.evaluate(
                run: runFile, split: split, samples: samples, limit: limit, dataPath: data,
                threads: threads ?? RuntimeOptions.availableCores)
            let e = r.evaluation, epoch = r.record.bestEpoch
            let scope = "\(split.rawValue), \(e.images) images, m=\(e.samples), best epoch \(epoch); ± per-image se"
            if let elbo = e.elbo {
                print(
                    String(
                        format: "%@ −ELBO %.3f ± %.3f, −log p(x) ≈ %.3f ± %.3f (%@)", split.rawValue, elbo.mean,
                        elbo.standardError, e.nll, e.standardError, scope))
            } else {
                print(String(format: "%@ NLL %.3f ± %.3f (%@)", split.rawValue, e.nll, e.standardError, scope))
            }
            if let c = r.confusion {
                print(
                    String(
                        format: "%@ accuracy %.2f %% ± %.2f (binomial se)", split.rawValue, 100 * c.accuracy,
                        100 * c.standardError))
                print("\(split.rawValue) \(c.summaryLine)")
                if confusion { print("\n" + c.markdownTable) }
            }
        }
    }
}

extension CheckpointEvaluation.SplitName: ExpressibleByArgument {}
