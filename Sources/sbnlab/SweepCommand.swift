import ArgumentParser
import Foundation
import SBNLab

/// `sbnlab sweep experiments/x.yaml --jobs N`: run every point of a sweep in parallel processes,
/// or emit them for a batch system.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep", abstract: "Run (or emit) every point of a sweep definition.")

    enum Emit: String, ExpressibleByArgument { case slurm, jobs }

    @Argument(help: "Experiment file with a sweep: section.")
    var experiment: String

    @Option(name: .customLong("set"), help: "Override a field of every point, e.g. --set epochs=1.")
    var overrides: [String] = []

    @Option(help: "Parallel processes (each gets cores/N threads).")
    var jobs = 1

    @Option(help: "Output folder (default: results/<sweep name>).")
    var out: String?

    @Option(help: "Instead of running: write a SLURM job-array script (slurm) or one command per line (jobs).")
    var emit: Emit?

    @Option(help: "The sbnlab executable named in emitted commands.")
    var executable = ".build/release/sbnlab"

    func run() throws {
        try reportingErrors {
            let sweep = try SweepDefinition.load(experiment, overrides: overrides)
            let folder = out ?? "results/\(sweep.name)"
            let runner = SweepRunner(sweep: sweep, outputFolder: folder, executable: selfExecutable(), jobs: jobs, log: { line in sbnlab.emit(line) })
            switch emit {
            case .slurm?:
                print("wrote \(try runner.emitSlurm(executable: executable)) (\(sweep.points.count) array tasks)")
                return
            case .jobs?:
                print("wrote \(try runner.emitJobs(executable: executable)) (\(sweep.points.count) commands)")
                return
            case nil:
                break
            }
            let states = try runner.run()
            let summary = try SweepSummary.collect(folder)
            try summary.write(to: folder + "/summary.h5")
            print("\n" + summary.markdown())
            print("\nsummary: \(folder)/summary.h5")
            if states.contains(.failed) { throw ExitCode(1) }
        }
    }
}

/// The running executable's path, so sweep workers run the same build.
func selfExecutable() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}

/// `sbnlab collect DIR`: rebuild summary.h5 from the run files below DIR.
struct CollectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collect", abstract: "Rebuild summary.h5 from the run files in a folder.")

    @Argument(help: "Folder holding run folders (searched recursively for run.h5).")
    var folder: String

    func run() throws {
        try reportingErrors {
            let summary = try SweepSummary.collect(folder)
            guard !summary.rows.isEmpty else { throw ConfigError(file: folder, path: "", "no run.h5 files found") }
            try summary.write(to: folder + "/summary.h5")
            print(summary.markdown())
            print("\nsummary: \(folder)/summary.h5 (\(summary.rows.count) runs)")
        }
    }
}
