import ArgumentParser
import Foundation
import SBNLab

/// `sbnlab run experiments/x.yaml`: train, validate, checkpoint and test one experiment.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run one experiment definition.")

    @Argument(help: "Experiment file (YAML or JSON), e.g. experiments/sbn-gs.yaml.")
    var experiment: String

    @Option(name: .customLong("set"), help: "Override a field, e.g. --set lr=3e-4 --set temperature.tau=0.5.")
    var overrides: [String] = []

    @Option(help: "Output folder (default: results/<name>).")
    var out: String?

    @Flag(help: "Continue an interrupted run from its checkpoint (a finished run is reported as it is).")
    var resume = false

    @Option(help: "Stop after this many epochs in this session (the run stays resumable).")
    var stopAfter: Int?

    @Option(help: "Threads for training steps (up to 2) and evaluation (default: all cores). Results do not depend on it.")
    var threads: Int?

    func validate() throws {
        try expectCount("--stop-after", stopAfter, in: 1...1_000_000)
        try expectCount("--threads", threads, in: 1...1024)
    }

    func run() throws {
        try reportingErrors {
            let config = try ConfigLoader.load(experiment, overrides: overrides)
            guard FileManager.default.fileExists(atPath: config.data.path) else {
                throw ConfigError(file: experiment, path: "data.path", "\(config.data.path) does not exist (run `make data`)")
            }
            let folder = out ?? "results/\(config.name)"
            StopRequest.install()
            StopRequest.followParent()
            let runtime = RuntimeOptions(threads: threads ?? RuntimeOptions.availableCores)
            let trainer = Trainer(config: config, resultsPath: folder + "/run.h5", runtime: runtime, log: emit)
            let record = try trainer.run(resume: resume, stopAfterEpochs: stopAfter)
            if record.status == .running, StopRequest.signal != nil { throw ExitCode(ExitStatus.stopped) }
            if record.status == .finished {
                print("")
                print(PaperNumbers.comparisonTable([record]))
                print("\nresults: \(folder)/run.h5")
            }
        }
    }
}
