import ArgumentParser
import Foundation
import SBNLab

/// `sbnlab bench`: speed of training, evaluation and validation, as ratios to gemm-only time.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure training, evaluation and validation speed beside gemm-only time (release build).")

    @Option(help: "The experiment whose protocol is measured.")
    var experiment = "experiments/sbn-gs.yaml"

    @Option(help: "The prepared dataset.")
    var data = BinarizedMNIST.defaultPath

    @Option(help: "Estimators to time, comma-separated.")
    var estimators = "gs,st,st-gs,reinforce,arm"

    @Option(help: "Also write the report to this file.")
    var out: String?

    func run() throws {
        try reportingErrors {
            let bench = SpeedBench(experiment: experiment, dataPath: data,
                                   estimators: estimators.split(separator: ",").map(String.init), log: emit)
            let report = try bench.run()
            print("\n" + report)
            if let out { try AtomicFile.writeText(report, to: out) }
        }
    }
}
