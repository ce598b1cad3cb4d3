import ArgumentParser
import Foundation
import SBNLab

/// `sbnlab sweep experiments/x.yaml --jobs N`: run every point of a sweep in parallel processes,
/// or emit them for a batch system.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep", abstract: "Run (or emit) every point of a sweep definition.")

    enum Emit: String, ExpressibleByArgument { case slurm, jobs }
    enum Executor: String, ExpressibleByArgument { case local, slurm }

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

    @Option(help: "Where the points run: local processes (--jobs) or a SLURM job array submitted with sbatch.")
    var executor: Executor = .local

    @Option(help: "SLURM partition (--executor slurm).")
    var partition: String?

    @Option(help: "SLURM time limit per task, e.g. 2:00:00 (--executor slurm).")
    var time: String?

    @Option(help: "SLURM CPUs per task (default: cores / --jobs).")
    var cpusPerTask: Int?

    @Option(help: "Another sbatch argument, written as an #SBATCH line (repeatable), e.g. --sbatch-arg=--mem=4G.")
    var sbatchArg: [String] = []

    @Flag(help: "With --executor slurm: follow the array until it ends, then collect the summary.")
    var wait = false

    @Flag(help: "Print what running the sweep would do with each point, and why; run and write nothing.")
    var plan = false

    func validate() throws {
        // More processes than points or cores only oversubscribes the machine; a typo such as
        // 1000 would start one process per point.
        try expectCount("--jobs", jobs, in: 1...64)
        try expectCount("--cpus-per-task", cpusPerTask, in: 1...1024)
    }

    func run() throws {
        try reportingErrors {
            let sweep = try SweepDefinition.load(experiment, overrides: overrides)
            let folder = out ?? "results/\(sweep.name)"
            let runner = SweepRunner(
                sweep: sweep, outputFolder: folder, executable: selfExecutable(), jobs: jobs, log: { line in sbnlab.emit(line) })
            var slurm = SlurmExecutor.Options()
            (slurm.partition, slurm.time, slurm.cpusPerTask, slurm.sbatchArgs) = (partition, time, cpusPerTask, sbatchArg)
            let cluster = SlurmExecutor(runner: runner, options: slurm, log: { line in sbnlab.emit(line) })
            if plan { return try printPlan(runner) }
            if let emit { return try write(emit, runner, cluster) }
            StopRequest.install()
            if executor == .slurm { return try runOnSlurm(runner, cluster) }
            let states = try runner.run()
            try summarize(runner, earlier: try runner.earlierRuns())
            if states.contains(.failed) { throw ExitCode(ExitStatus.error) }
            if states.contains(.stopped) || StopRequest.signal != nil { throw ExitCode(ExitStatus.stopped) }
        }
    }

    /// `--plan`: each point's action and why; nothing runs or is written.
    private func printPlan(_ runner: SweepRunner) throws {
        let actions = try runner.plan()
        for (point, action) in actions { print("\(point): \(action)") }
        let runs = actions.filter { $0.action.hasPrefix("runs") || $0.action.hasPrefix("resumes") }.count
        print("\(runs) of \(actions.count) points would run")
    }

    /// `--emit`: a SLURM array script of the points still to run, or every point's command line.
    private func write(_ emit: Emit, _ runner: SweepRunner, _ cluster: SlurmExecutor) throws {
        let sweep = runner.sweep
        switch emit {
        case .slurm:
            if let (path, tasks) = try cluster.write(executable: executable) {
                print("wrote \(path) (\(tasks) array tasks of \(sweep.points.count) points; the others have finished or failed)")
            } else {
                print("every point of \(sweep.name) has finished or failed; no script written")
            }
        case .jobs:
            print("wrote \(try runner.emitJobs(executable: executable)) (\(sweep.points.count) commands)")
            let recorded = sweep.points.filter(try runner.earlierRuns().standsFor)
            if !recorded.isEmpty {
                print(
                    "note: \(recorded.count) of those points are finished in \(runner.summaryPath) without their run files; "
                        + "their lines would run them again")
            }
        }
    }

    /// `--executor slurm`: submit the array of unfinished points; with `--wait`, follow it and
    /// collect, exiting as a local sweep would.
    private func runOnSlurm(_ runner: SweepRunner, _ cluster: SlurmExecutor) throws {
        let sweep = runner.sweep
        guard let job = try cluster.submit(executable: selfExecutable()) else {
            return try summarize(runner, earlier: try runner.earlierRuns())
        }
        guard wait else {
            print("follow it with: squeue -j \(job); then: sbnlab collect \(runner.outputFolder)")
            return
        }
        try cluster.wait(jobID: job)
        let earlier = try runner.earlierRuns()
        try summarize(runner, earlier: earlier)
        if let selection = sweep.selection {
            sbnlab.emit(
                "select: the \(selection.axisText) chosen on validation gets seeds \(selection.seeds) by the local executor: "
                    + "rerun `sbnlab sweep \(experiment)` without --executor slurm")
        }
        let states = sweep.points.map(earlier.state(of:))
        if StopRequest.signal != nil { throw ExitCode(ExitStatus.stopped) }
        if states.contains(where: { $0 != .finished }) { throw ExitCode(ExitStatus.error) }
    }
}

/// Writes and prints the summary of what exists, also after a stop signal; runs of points no
/// longer in the definition (grid or selected) are left out. Rows of the earlier summary whose run
/// files are gone stay (`SweepRunner.EarlierRuns`).
func summarize(_ runner: SweepRunner, earlier: SweepRunner.EarlierRuns) throws {
    let sweep = runner.sweep, folder = runner.outputFolder
    let selected = runner.selectedPoints(earlier)
    let collected = try SweepSummary.collect(
        folder, points: Set((sweep.points + selected).map(\.name)),
        selectionAxes: sweep.selection?.axes ?? ["lr"], alsoAxes: earlier.rows.isEmpty ? [] : earlier.axes)
    let summary = earlier.merged(into: collected)
    try summary.write(to: folder + "/summary.h5")
    print("\n" + summary.markdown())
    print("\nsummary: \(folder)/summary.h5")
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

    @Flag(
        help: """
            Rebuild from the folder's own summary.h5 instead of its run files (for a summary whose run files \
            are gone: it gains the columns a newer schema adds, such as chosen).
            """)
    var fromSummary = false

    @Flag(help: "Keep the rows of the folder's summary.h5 whose run files are gone (runs made elsewhere).")
    var keepMissing = false

    @Flag(help: "Also print each run's test value, one column per seed (which seeds have run, and how far apart they land).")
    var perSeed = false

    func run() throws {
        try reportingErrors {
            var summary: SweepSummary
            if fromSummary {
                summary = try SweepSummary.read(folder + "/summary.h5")
            } else if keepMissing {
                let earlier = try SweepSummary.read(folder + "/summary.h5")
                summary = try SweepSummary.collect(folder, alsoAxes: earlier.axes).keeping(earlier)
            } else {
                summary = try SweepSummary.collect(folder)
            }
            guard !summary.rows.isEmpty else { throw ConfigError(file: folder, path: "", "no run.h5 files found") }
            try summary.write(to: folder + "/summary.h5")
            print(summary.markdown())
            if perSeed { print("\n" + summary.perSeedMarkdown()) }
            print("\nsummary: \(folder)/summary.h5 (\(summary.rows.count) runs)")
        }
    }
}
