import Foundation
import SBNConfig
import SBNStorage
import SBNTraining

/// Runs the points of a sweep as parallel `sbnlab run` processes, each writing its own results
/// file under `<out>/<point name>/`. Finished points are skipped and interrupted ones resume from
/// their checkpoints, so running the same sweep again after a crash or SIGKILL completes it. A
/// point whose results file is gone (a fresh clone holds a sweep's committed `summary.h5`, not its
/// run files) counts as finished when the folder's summary records its run with this point's
/// configuration (`earlierRuns`).
public struct SweepRunner {
    public let sweep: SweepDefinition
    public let outputFolder: String
    /// The `sbnlab` executable that runs each point.
    public let executable: String
    public let jobs: Int
    let log: (String) -> Void

    public init(sweep: SweepDefinition, outputFolder: String, executable: String, jobs: Int, log: @escaping (String) -> Void) {
        self.sweep = sweep
        self.outputFolder = outputFolder
        self.executable = executable
        self.jobs = max(1, jobs)
        self.log = log
    }

    public func folder(of point: SweepDefinition.Point) -> String { outputFolder + "/" + point.name }
    public func definition(of point: SweepDefinition.Point) -> String { folder(of: point) + "/experiment.json" }
    public func results(of point: SweepDefinition.Point) -> String { folder(of: point) + "/run.h5" }

    /// Threads per point: the cores this process may use shared among the parallel jobs.
    public var threadsPerJob: Int { max(1, RuntimeOptions.availableCores / jobs) }

    /// The command that runs one point (what `--emit jobs` writes, one per line), with the
    /// point's paths absolute when asked (for a batch system that starts elsewhere).
    public func command(for point: SweepDefinition.Point, executable: String? = nil, absolutePaths: Bool = false) -> [String] {
        let cwd = FileManager.default.currentDirectoryPath
        func path(_ p: String) -> String { absolutePaths && !p.hasPrefix("/") ? cwd + "/" + p : p }
        return [
            executable ?? self.executable, "run", path(definition(of: point)), "--out", path(folder(of: point)), "--resume",
            "--threads", "\(threadsPerJob)",
        ]
    }

    /// Writes each point's resolved definition (JSON, a valid experiment file) into its folder.
    /// An existing definition must match, so a changed sweep never mixes into old results.
    public func prepare(_ points: [SweepDefinition.Point]? = nil) throws {
        try FileManager.default.createDirectory(atPath: outputFolder, withIntermediateDirectories: true)
        for point in points ?? sweep.points {
            try FileManager.default.createDirectory(atPath: folder(of: point), withIntermediateDirectories: true)
            let path = definition(of: point)
            let json = point.config.json + "\n"
            if let existing = try? String(contentsOfFile: path, encoding: .utf8) {
                guard let saved = try? ExperimentConfig(json: existing), saved.sameRun(as: point.config) else {
                    throw ConfigError(
                        file: sweep.file, path: "sweep",
                        "\(path) holds another definition for point \(point.name); use another --out")
                }
                if existing == json { continue }
            }
            try AtomicFile.write(to: path) { tmp in try json.write(toFile: tmp, atomically: false, encoding: .utf8) }
        }
    }

    /// A point's state; `stopped` is a worker that a stop signal ended with a checkpoint.
    public enum PointState: String, Sendable { case pending, running, finished, failed, stopped }

    /// Runs every unfinished point, then the points its `select:` stage chooses (once the grid
    /// has finished); returns the final state of each. One failed point does not
    /// stop the others: its error is in its log and its results file. A stop signal (SIGTERM,
    /// SIGINT, SIGUSR1, see `StopRequest`) is forwarded to the running workers, which stop
    /// resumably; no new point starts, and the call returns once every worker has exited.
    @discardableResult
    public func run() throws -> [PointState] {
        // One sweep per folder: a second would start the same points and interleave their logs.
        try FileManager.default.createDirectory(atPath: outputFolder, withIntermediateDirectories: true)
        let lock = try RunLock(
            lockFile: outputFolder + "/sweep.lock", results: outputFolder + "/summary.h5",
            busy: { "\(outputFolder): another sweep holds this folder (\($0)); wait for it or stop it" })
        defer { withExtendedLifetime(lock) {} }
        let earlier = try earlierRuns()
        try prepare()
        for point in earlier.stale {
            log("point \(point): \(summaryPath) records a run of another configuration; leaving it out")
        }
        for (point, row) in earlier.rows.sorted(by: { $0.key < $1.key }) where row.config.isEmpty {
            log(
                "point \(point): \(summaryPath) records it as \(row.status) but not its configuration (an older summary); running it again"
            )
        }
        var states = try run(sweep.points, stage: "", earlier: earlier)
        // Failed points (a rate that diverged) are final: they are never chosen.
        guard sweep.selection != nil, StopRequest.signal == nil, states.allSatisfy({ $0 == .finished || $0 == .failed }) else {
            return states
        }
        let chosen = selectedPoints(earlier)
        try prepare(chosen)
        states += try run(
            chosen, stage: " (select: \(sweep.selection!.axisText) chosen on validation, more seeds)", earlier: earlier)
        return states
    }

    /// The second-stage points that the grid's results choose so far (none without `select:`):
    /// a finished point offers its best validation NLL, a failed one +∞ (never chosen).
    public func selectedPoints(_ earlier: EarlierRuns) -> [SweepDefinition.Point] {
        sweep.selection?.points(of: sweep.points) { point in
            switch earlier.state(of: point) {
            case .finished?:
                earlier.standsFor(point)
                    ? earlier.rows[point.name]?.bestValidNLL : (try? ResultsFile.readRecord(results(of: point)))?.bestValidNLL
            case .failed?: .infinity
            default: nil
            }
        } ?? []
    }

    private func run(_ points: [SweepDefinition.Point], stage: String, earlier: EarlierRuns) throws -> [PointState] {
        // A failed run is final (see `Trainer.start`): it is not started again.
        var states = points.map { point -> PointState in
            switch earlier.state(of: point) {
            case .finished?: .finished
            case .failed?: .failed
            default: .pending
            }
        }
        let skipped = states.filter { $0 == .finished }.count, failedBefore = states.filter { $0 == .failed }.count
        log(
            "sweep \(sweep.name)\(stage): \(points.count) points, \(skipped) already finished"
                + (failedBefore > 0 ? ", \(failedBefore) failed before (final)" : "")
                + ", \(jobs) parallel jobs, \(threadsPerJob) threads each → \(outputFolder)")
        var running: [Int: Process] = [:]
        var durations: [Double] = []
        var started: [Int: Date] = [:]
        var lastLine = ""
        let begin = Date()
        var forwarded: Int32?
        while true {
            if let signal = StopRequest.signal, forwarded == nil {
                forwarded = signal
                log("\(StopRequest.name(signal)): stopping \(running.count) running points resumably; no new point starts")
                for p in running.values { kill(p.processIdentifier, signal) }
            }
            for (i, p) in running where !p.isRunning {
                running.removeValue(forKey: i)
                durations.append(Date().timeIntervalSince(started[i]!))
                states[i] = p.terminationStatus == 0 ? .finished : p.terminationStatus == ExitStatus.stopped ? .stopped : .failed
                if states[i] == .failed {
                    log("point \(points[i].name) failed: \(Self.lastError(folder(of: points[i])))")
                }
            }
            while forwarded == nil, running.count < jobs, let next = states.firstIndex(of: .pending) {
                running[next] = try launch(points[next])
                started[next] = Date()
                states[next] = .running
            }
            let done = states.filter { $0 == .finished }.count, failed = states.filter { $0 == .failed }.count
            let remaining = states.filter { $0 == .pending || $0 == .running }.count
            let average = durations.isEmpty ? nil : durations.reduce(0, +) / Double(durations.count)
            let eta = average.map { TimeText.duration($0 * Double(remaining) / Double(jobs)) } ?? "?"
            let line = "sweep: \(done)/\(states.count) done, \(running.count) running, \(failed) failed, ETA \(eta)"
            if line != lastLine {
                log(line)
                lastLine = line
            }
            if running.isEmpty && (forwarded != nil || !states.contains(.pending)) { break }
            Thread.sleep(forTimeInterval: 0.5)
        }
        log("sweep \(forwarded == nil ? "finished" : "stopped") in \(TimeText.duration(Date().timeIntervalSince(begin)))")
        return states
    }

    func launch(_ point: SweepDefinition.Point) throws -> Process {
        let p = Process()
        let args = command(for: point)
        p.executableURL = URL(fileURLWithPath: args[0])
        p.arguments = Array(args.dropFirst())
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_NUM_THREADS"] = "1"
        // The worker asks for SIGTERM when this process dies (`StopRequest.followParent`).
        env[StopRequest.parentVariable] = "\(getpid())"
        p.environment = env
        let handle = try Self.appendLog(folder(of: point) + "/log.txt", header: args)
        p.standardOutput = handle
        p.standardError = handle
        try HDF5File.startChild(p)
        try? handle.close()
        return p
    }

    /// Opens a point's log for appending (never truncating), after a header for this session.
    static func appendLog(_ path: String, header command: [String]) throws -> FileHandle {
        // O_APPEND: every write lands at the end, whoever else has the log open.
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AtomicFile.Failure(description: "\(path): cannot open (\(String(cString: strerror(errno))))") }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        let stamp = ISO8601DateFormatter().string(from: Date())
        let header =
            "=== \(stamp) session of sweep pid \(getpid()) on \(ProcessInfo.processInfo.hostName): "
            + command.map(quote).joined(separator: " ") + "\n"
        try handle.write(contentsOf: Data(header.utf8))
        return handle
    }

    public var summaryPath: String { outputFolder + "/summary.h5" }

    /// What running the sweep now would do with each point of its grid, and why (`sbnlab sweep
    /// --plan`); reads the folder, writes nothing. The `select:` stage's points are decided once
    /// the grid has finished, and are not listed.
    public func plan() throws -> [(point: String, action: String)] {
        let earlier = try earlierRuns()
        return sweep.points.map { point in
            let action: String
            if let status = Self.state(ofResults: results(of: point)) {
                switch status {
                case .finished: action = "finished (run.h5)"
                case .failed: action = "failed (final; not run again)"
                case .running:
                    let done = (try? ResultsFile.readRecord(results(of: point)))?.epochsDone ?? 0
                    action = "resumes from its checkpoint (epoch \(done) of \(point.config.epochs))"
                }
            } else if earlier.standsFor(point), let row = earlier.rows[point.name],
                row.status == "finished" || row.status == "failed"
            {
                action = "\(row.status) (summary.h5; its run file is gone)"
            } else if let row = earlier.rows[point.name], row.config.isEmpty {
                action = "runs again (summary.h5 records it as \(row.status) but not its configuration)"
            } else if earlier.stale.contains(point.name) {
                action = "runs (summary.h5 records a run of another configuration)"
            } else {
                action = "runs"
            }
            return (point.name, action)
        }
    }

    /// What the folder's summary records of this sweep's points whose results files are gone.
    /// A row stands for its point only when it records that point's configuration; a row of
    /// another definition (its configuration differs) is stale and is left out. A summary that
    /// cannot be read is an error: its rows would otherwise be lost when the sweep rewrites it.
    public func earlierRuns() throws -> EarlierRuns {
        guard FileManager.default.fileExists(atPath: summaryPath) else {
            return EarlierRuns(runner: self, rows: [:], axes: [], stale: [])
        }
        let summary: SweepSummary
        do { summary = try SweepSummary.read(summaryPath) } catch {
            throw ConfigError(
                file: summaryPath, path: "",
                "cannot be read (\(error)); move it away to run the sweep without the runs it records")
        }
        let points = Dictionary(uniqueKeysWithValues: sweep.points.map { ($0.name, $0) })
        var rows: [String: SweepSummary.Row] = [:], stale: [String] = []
        for row in summary.rows {
            guard let point = points[row.point], Self.state(ofResults: results(of: point)) == nil else { continue }
            if !row.config.isEmpty, !EarlierRuns.records(row, point) {
                stale.append(row.point)
            } else {
                rows[row.point] = row
            }
        }
        return EarlierRuns(runner: self, rows: rows, axes: summary.axes, stale: stale)
    }

    /// The runs of a sweep's earlier summary that its folder's results files no longer hold.
    public struct EarlierRuns {
        let runner: SweepRunner
        /// By point name: rows of points without a results file, whose configuration is this
        /// point's or not recorded (a summary written before rows recorded it).
        public let rows: [String: SweepSummary.Row]
        /// The earlier summary's axes (kept when its rows are merged back in).
        public let axes: [String]
        /// Points whose row records another configuration (a changed definition): left out.
        public let stale: [String]

        /// Whether the summary's row is this point's run: its recorded configuration is the point's.
        static func records(_ row: SweepSummary.Row, _ point: SweepDefinition.Point) -> Bool {
            (try? ExperimentConfig(json: row.config, source: "summary.h5 /config"))?.sameRun(as: point.config) ?? false
        }

        /// Whether the point is known only from the summary, as a run of its own configuration.
        public func standsFor(_ point: SweepDefinition.Point) -> Bool {
            rows[point.name].map { Self.records($0, point) } ?? false
        }

        /// The point's status: its results file's, else its summary row's where that row stands for it.
        public func state(of point: SweepDefinition.Point) -> RunRecord.Status? {
            if let status = SweepRunner.state(ofResults: runner.results(of: point)) { return status }
            return standsFor(point) ? rows[point.name].flatMap { RunRecord.Status(rawValue: $0.status) } : nil
        }

        /// `summary` (collected from the run files) with these rows merged back in, so a sweep's
        /// summary keeps what it recorded of the points whose run files are gone.
        public func merged(into summary: SweepSummary) -> SweepSummary {
            guard !rows.isEmpty else { return summary }
            return summary.keeping(SweepSummary(name: summary.name, axes: axes, rows: Array(rows.values)))
        }
    }

    /// The status recorded in a results file, or nil when there is none (or it is unreadable).
    public static func state(ofResults path: String) -> RunRecord.Status? {
        guard FileManager.default.fileExists(atPath: path), let f = try? HDF5File.open(path),
            let s = try? f.stringAttribute("status")
        else { return nil }
        return RunRecord.Status(rawValue: s)
    }

    static func lastError(_ folder: String) -> String {
        let text = (try? String(contentsOfFile: folder + "/log.txt", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").last { $0.contains("error") }.map(String.init) ?? "see \(folder)/log.txt"
    }

    // MARK: - Emitting for batch systems

    /// `jobs.txt`: one shell command per point, for GNU parallel or any batch system.
    public func emitJobs(executable: String = ".build/release/sbnlab", absolutePaths: Bool = false) throws -> String {
        try prepare()
        let lines = sweep.points.map {
            command(for: $0, executable: executable, absolutePaths: absolutePaths).map(Self.quote).joined(separator: " ")
        }
        let path = outputFolder + "/jobs.txt"
        try AtomicFile.writeText(lines.joined(separator: "\n") + "\n", to: path)
        return path
    }

    static func quote(_ s: String) -> String {
        s.allSatisfy { $0.isLetter || $0.isNumber || "/._-+=~,:".contains($0) }
            ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
