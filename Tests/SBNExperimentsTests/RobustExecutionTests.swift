import Foundation
import SBNData
import SBNStorage
import SBNSweeps
import SBNTestSupport
import SBNTraining
import Testing

/// A long-enough run for signals to arrive mid-run: 40 epochs of 1000 images (about 2 s).
func longRunYAML(seed: Int = 3, epochs: Int = 40) -> String {
    """
    name: long
    data: {path: \(TestPaths.preparedDataset), train_limit: 1000, valid_limit: 100, test_limit: 100}
    estimator: gs
    epochs: \(epochs)
    samples: {train: 1, valid: 5, test: 20}
    seed: \(seed)
    """
}

/// An `sbnlab` process started in the background, its stdout and stderr in a file.
final class Background {
    let process = Process()
    let output: String

    init(_ args: [String], in dir: String, environment: [String: String] = [:]) throws {
        let bin = try #require(TestPaths.sbnlabBinary, "sbnlab binary not built")
        output = dir + "/background-\(UUID().uuidString).log"
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.executableURL = URL(fileURLWithPath: bin)
        process.arguments = args
        process.currentDirectoryURL = URL(fileURLWithPath: dir)
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = handle
        process.standardError = handle
        try HDF5File.startChild(process)
    }

    var log: String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }

    /// Waits (up to `timeout` seconds) until the log contains `text`; false on timeout.
    func waitFor(_ text: String, timeout: Double = 60) -> Bool { waitUntil(timeout) { self.log.contains(text) } }

    func finish(timeout: Double = 120) -> Int32? {
        waitUntil(timeout) { !self.process.isRunning } ? process.terminationStatus : nil
    }
}

func waitUntil(_ timeout: Double, _ condition: () -> Bool) -> Bool {
    let end = Date().addingTimeInterval(timeout)
    while Date() < end {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return condition()
}

/// The bits of a finished run's test NLL.
func testNLLBits(_ path: String) throws -> UInt64 {
    try #require(try ResultsFile.readRecord(path).test?.nll).bitPattern
}

/// One writer per run, stop signals, and sweeps that never leave workers behind.
@Suite(.serialized) struct RobustExecutionTests {
    let folder = ExperimentFolder()

    func run(_ args: [String]) throws -> CommandResult {
        try runCommand(try #require(TestPaths.sbnlabBinary, "sbnlab binary not built"), args, in: folder.dir)
    }

    /// Two runs on one --out: the second, with or without --resume, exits 1 naming the holder;
    /// only the first trains, and a stop signal leaves it resumable.
    @Test func oneWriterPerRun() throws {
        // Long enough that the first run is still training after both refusals on a slow machine
        // (40 epochs once finished first on CI); it is stopped by the signal below.
        let path = try folder.write("longer.yaml", longRunYAML(epochs: 100_000))
        let out = folder.dir + "/one"
        let first = try Background(["run", path, "--out", out], in: folder.dir)
        #expect(first.waitFor("epoch   1/100000"))
        for extra in [[], ["--resume"]] {
            let second = try run(["run", path, "--out", out, "--set", "seed=4"] + extra)
            #expect(second.status == 1)
            #expect(
                second.stderr == "sbnlab: error: \(out)/run.h5: another process is writing this run "
                    + "(pid \(first.process.processIdentifier) on \(ProcessInfo.processInfo.hostName)); wait for it or stop it\n")
        }
        first.process.terminate()
        #expect(first.finish() == ExitStatus.stopped)
        #expect(try ResultsFile.readRecord(out + "/run.h5").config.seed == 3)
    }

    /// SIGTERM, SIGINT and SIGUSR1 each stop a run after its current step with a checkpoint
    /// (inside an epoch: the batches done and the epoch's shuffling state), status running and
    /// exit status 75; `--resume` then finishes it with the same test NLL and the same training
    /// curve, to the bit, as an uninterrupted run.
    @Test(arguments: [SIGTERM, SIGINT, SIGUSR1])
    func stopSignalsLeaveAResumableRun(signal: Int32) throws {
        let path = try folder.write("long.yaml", longRunYAML())
        let reference = folder.dir + "/reference"
        if !FileManager.default.fileExists(atPath: reference + "/run.h5") {
            #expect(try run(["run", path, "--out", reference]).status == 0)
        }
        let out = folder.dir + "/signal-\(signal)"
        let stopped = try Background(["run", path, "--out", out], in: folder.dir)
        #expect(stopped.waitFor("epoch   3/40"))
        kill(stopped.process.processIdentifier, signal)
        #expect(stopped.finish() == ExitStatus.stopped, "\(stopped.log)")
        // The signal lands inside epoch 4 (or, rarely, in its validation): the run stops after its current step.
        #expect(
            stopped.log.contains("\(StopRequest.name(signal)): stopped after step")
                || stopped.log.contains("stopped after epoch"),
            "\(stopped.log)")
        let record = try ResultsFile.readRecord(out + "/run.h5")
        #expect(record.status == .running && record.epochsDone >= 3 && record.epochsDone < 40)
        let resumed = try run(["run", path, "--out", out, "--resume"])
        #expect(resumed.status == 0 && resumed.stdout.contains("resuming"), "\(resumed.stderr)")
        #expect(try testNLLBits(out + "/run.h5") == testNLLBits(reference + "/run.h5"))
        let (a, b) = (try ResultsFile.readRecord(out + "/run.h5"), try ResultsFile.readRecord(reference + "/run.h5"))
        #expect(a.train.map(\.loss.bitPattern) == b.train.map(\.loss.bitPattern) && a.train.count == b.train.count)
    }

    /// `epochs` may grow on resume: a finished run trains on and is tested again, the same as a
    /// run that had the larger `epochs` from the start.
    @Test func resumeMayExtendEpochs() throws {
        let path = try folder.write("long.yaml", longRunYAML())
        let out = folder.dir + "/extend", whole = folder.dir + "/whole"
        let three = try run(["run", path, "--out", out, "--set", "epochs=3"])
        #expect(three.status == 0, "\(three.stderr)")
        let more = try run(["run", path, "--out", out, "--resume", "--set", "epochs=5"])
        #expect(more.status == 0 && more.stdout.contains("extending \(out)/run.h5 from 3 to 5 epochs"), "\(more.stderr)")
        let five = try run(["run", path, "--out", whole, "--set", "epochs=5"])
        #expect(five.status == 0, "\(five.stderr)")
        #expect(try testNLLBits(out + "/run.h5") == testNLLBits(whole + "/run.h5"))
        let fewer = try run(["run", path, "--out", out, "--resume", "--set", "epochs=4"])
        #expect(fewer.status == 1 && fewer.stderr.contains("differs in epochs"))
    }

    /// The workers of a sweep, found by their command lines.
    func workers(of out: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            let cmd = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            let state = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.split(separator: " ").dropFirst(2)
                .first
            return cmd.contains(out + "/") && cmd.contains("run") && state != "Z"
        }
    }

    /// SIGKILL or SIGTERM to a sweep leaves no worker alive (PR_SET_PDEATHSIG; SIGTERM is also
    /// forwarded, and the summary of what exists is written); a rerun completes the sweep and
    /// keeps each log's earlier sessions; a rerun of a smaller definition leaves the dropped
    /// points out of the summary.
    @Test(arguments: [SIGKILL, SIGTERM])
    func sweepsLeaveNoOrphans(signal: Int32) throws {
        let sweepYAML = longRunYAML().replacingOccurrences(of: "name: long", with: "name: kill") + "\nsweep: {seed: [1, 2, 3]}\n"
        let path = try folder.write("sweep-\(signal).yaml", sweepYAML)
        let out = folder.dir + "/sweep-\(signal)"
        let sweep = try Background(["sweep", path, "--jobs", "2", "--out", out], in: folder.dir)
        #expect(waitUntil(60) { workers(of: out).count == 2 })
        #expect(
            waitUntil(60) {
                ((try? String(contentsOfFile: out + "/seed-1/log.txt", encoding: .utf8)) ?? "").contains("epoch   2/40")
            })
        kill(sweep.process.processIdentifier, signal)
        let status = sweep.finish()
        #expect(status == (signal == SIGKILL ? nil : ExitStatus.stopped) || (signal == SIGKILL && status == 9), "\(sweep.log)")
        #expect(waitUntil(30) { workers(of: out).isEmpty }, "workers left: \(workers(of: out))")
        if signal == SIGTERM { #expect(FileManager.default.fileExists(atPath: out + "/summary.h5")) }

        let rerun = try run(["sweep", path, "--jobs", "2", "--out", out])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(try SweepSummary.read(out + "/summary.h5").rows.map(\.status) == ["finished", "finished", "finished"])
        let log = try String(contentsOfFile: out + "/seed-1/log.txt", encoding: .utf8)
        #expect(log.components(separatedBy: "=== ").count - 1 == 2, "two sessions, both kept: \(log)")

        let smaller = try folder.write("smaller-\(signal).yaml", sweepYAML.replacingOccurrences(of: "[1, 2, 3]", with: "[1, 2]"))
        #expect(try run(["sweep", smaller, "--out", out]).status == 0)
        #expect(try SweepSummary.read(out + "/summary.h5").rows.map(\.point) == ["seed-1", "seed-2"])
    }
}
