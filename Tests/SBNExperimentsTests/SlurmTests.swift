import Foundation
import SBNStorage
import SBNSweeps
import SBNTestSupport
import SBNTraining
import Testing

/// Whether a SLURM cluster answers here (`make slurm-up`; `.ci/run` starts one). Without one the
/// tests below are reported as skipped.
let slurmAvailable: Bool = (try? runCommand("/usr/bin/env", ["sinfo", "-h", "-o", "%t"]))?.stdout.contains("idle") == true

/// Sweeps on a real single-node SLURM cluster (slurm-wlm, munge; scripts/slurm-up.sh).
@Suite(.serialized, .enabled(if: slurmAvailable, "no SLURM cluster (make slurm-up)"))
struct SlurmTests {
    let folder = ExperimentFolder()

    func sweepYAML(epochs: Int, seeds: String, estimators: String = "[gs]") -> String {
        """
        name: slurm-test
        data: {path: \(TestPaths.preparedDataset), train_limit: 1000, valid_limit: 100, test_limit: 100}
        epochs: \(epochs)
        samples: {train: 1, valid: 5, test: 20}
        sweep: {estimator: \(estimators), seed: \(seeds)}
        """
    }

    func run(_ args: [String]) throws -> CommandResult {
        try runCommand(try #require(TestPaths.sbnlabBinary, "sbnlab binary not built"), args, in: folder.dir)
    }

    func testNLLs(_ summary: String) throws -> [UInt64] {
        try SweepSummary.read(summary).rows.map(\.testNLL.bitPattern)
    }

    /// A 4-point sweep submitted with `--executor slurm --wait` gives the summary of the same
    /// sweep run locally, to the last bit of every test NLL.
    @Test func slurmSweepEqualsLocalSweep() throws {
        let path = try folder.write("four.yaml", sweepYAML(epochs: 3, seeds: "[1, 2]", estimators: "[gs, st]"))
        let slurm = try run(["sweep", path, "--executor", "slurm", "--wait", "--out", "on-slurm"])
        #expect(slurm.status == 0, "\(slurm.stdout)\(slurm.stderr)")
        #expect(slurm.stdout.contains("sweep: 4/4 done, 0 queued or running in job"))
        let local = try run(["sweep", path, "--jobs", "2", "--out", "local"])
        #expect(local.status == 0, "\(local.stderr)")
        let a = try testNLLs(folder.dir + "/on-slurm/summary.h5"), b = try testNLLs(folder.dir + "/local/summary.h5")
        #expect(a.count == 4 && a == b)

        // A third seed, with one finished point's run files gone (recorded in summary.h5): the
        // array holds only the two new points.
        try FileManager.default.removeItem(atPath: folder.dir + "/on-slurm/estimator-gs_seed-1")
        let six = try folder.write("six.yaml", sweepYAML(epochs: 3, seeds: "[1, 2, 3]", estimators: "[gs, st]"))
        let more = try run(["sweep", six, "--executor", "slurm", "--wait", "--out", "on-slurm"])
        #expect(more.status == 0 && more.stdout.contains("(2 of 6 points)"), "\(more.stdout)\(more.stderr)")
        #expect(try String(contentsOfFile: folder.dir + "/on-slurm/sweep.slurm", encoding: .utf8).contains("#SBATCH --array=2,5"))
        #expect(more.stdout.contains("sweep: 6/6 done, 0 queued or running in job"))
        #expect(!FileManager.default.fileExists(atPath: folder.dir + "/on-slurm/estimator-gs_seed-1/run.h5"))
        let rows = try SweepSummary.read(folder.dir + "/on-slurm/summary.h5").rows
        #expect(rows.count == 6 && rows.allSatisfy { $0.status == "finished" })
        #expect(Array(rows.map(\.testNLL.bitPattern).prefix(2)) == Array(a.prefix(2)))
    }

    /// `scancel --signal=USR1 --batch` of a running task (what `--signal=B:USR1@60` sends before
    /// the time limit): the run stops with a checkpoint, the task requeues itself, resumes, and
    /// finishes with the test NLL of an uninterrupted run. SLURM holds a requeued task for about
    /// two minutes before it is eligible; the test moves its start time to 5 s from now.
    @Test func preemptedTaskRequeuesAndFinishesBitIdentically() throws {
        let path = try folder.write("one.yaml", sweepYAML(epochs: 40, seeds: "[1]"))
        let sweep = try Background(["sweep", path, "--executor", "slurm", "--wait", "--out", "preempted"], in: folder.dir)
        #expect(sweep.waitFor("submitted job array"))
        let job = try #require(sweep.log.firstMatch(of: /submitted job array (\d+)/)).1
        let out = folder.dir + "/preempted/slurm-\(job)_0.out"
        func taskLog() -> String { (try? String(contentsOfFile: out, encoding: .utf8)) ?? "" }
        #expect(waitUntil(120) { taskLog().contains("epoch   3/40") }, "\(taskLog())")
        #expect(try runCommand("/usr/bin/env", ["scancel", "--signal=USR1", "--batch", "\(job)_0"]).status == 0)
        #expect(waitUntil(60) { taskLog().contains("requeueing \(job)_0") }, "\(taskLog())")
        func state() -> String {
            (try? runCommand("/usr/bin/env", ["squeue", "-h", "-j", "\(job)_0", "-o", "%T"]))?.stdout ?? ""
        }
        #expect(waitUntil(60) { state().contains("PENDING") }, "\(state())")
        // Not `now`: slurmd refuses a job restarted within the second its old credential was
        // revoked ("Job credential revoked"); a few seconds later is safe.
        #expect(try runCommand("/usr/bin/env", ["scontrol", "update", "JobId=\(job)_0", "StartTime=now+5"]).status == 0)
        #expect(sweep.finish(timeout: 300) == 0, "\(sweep.log)")
        let log = taskLog()
        #expect(log.contains("SIGUSR1: stopped after") && log.contains("(restart 1)") && log.contains("resuming"), "\(log)")
        let local = try run(["sweep", path, "--out", "local-one"])
        #expect(local.status == 0)
        #expect(try testNLLs(folder.dir + "/preempted/summary.h5") == testNLLs(folder.dir + "/local-one/summary.h5"))
    }
}
