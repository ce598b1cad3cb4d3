import ArgumentParser
import Foundation
import SBNLab

/// `sbnlab bench`: speed of training, evaluation and validation, as ratios to gemm-only time.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure training, evaluation and validation speed beside gemm-only time (release build)."
    )

    @Option(help: "The experiment whose protocol is measured.")
    var experiment = "experiments/sbn-gs.yaml"

    @Option(help: "The prepared dataset.")
    var data = BinarizedMNIST.defaultPath

    @Option(help: "Estimators to time, comma-separated.")
    var estimators = "gs,st,st-gs,reinforce,arm"

    @Option(help: "Also write the report to this file.")
    var out: String?

    @Option(help: "Sections to measure, comma-separated: \(SpeedBench.sections.joined(separator: ", ")) (default: all).")
    var sections = SpeedBench.sections.joined(separator: ",")

    func validate() throws {
        let unknown = sections.split(separator: ",").map(String.init).filter { !SpeedBench.sections.contains($0) }
        guard unknown.isEmpty else {
            throw ValidationError(
                "--sections: unknown section \(unknown[0]) (known: \(SpeedBench.sections.joined(separator: ", ")))")
        }
    }

    func run() throws {
        try reportingErrors {
            let bench = SpeedBench(
                experiment: experiment, dataPath: data,
                estimators: estimators.split(separator: ",").map(String.init), log: emit)
            let report = try bench.run(sections: sections.split(separator: ",").map(String.init))
            print("\n" + report)
            if let out { try AtomicFile.writeText(report, to: out) }
        }
    }
}
