import Foundation
import SBNTestSupport
import Testing

/// Bad configurations on the command line: one line on stderr naming the field, exit status 1.
@Suite struct CommandLineTests {
    let folder = ExperimentFolder()

    func run(_ args: [String]) throws -> CommandResult {
        let bin = try #require(TestPaths.sbnlabBinary, "sbnlab binary not built")
        return try runCommand(bin, args, in: folder.dir)
    }

    func expectOneLineError(_ r: CommandResult, _ fragment: String) {
        #expect(r.status == 1)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(r.stderr)")
        #expect(r.stderr.contains(fragment), "stderr: \(r.stderr)")
    }

    @Test func unknownEstimator() throws {
        let path = try folder.write("e.yaml", smallRunYAML(estimator: "gumbel"))
        expectOneLineError(try run(["run", path]), "estimator: unknown estimator \"gumbel\"")
    }

    @Test func negativeTemperature() throws {
        let path = try folder.write("t.yaml", smallRunYAML(estimator: "gs"))
        expectOneLineError(try run(["run", path, "--set", "temperature.tau=-0.5"]), "temperature.tau: expected a number > 0, got -0.5")
    }

    @Test func missingDataFile() throws {
        let path = try folder.write("m.yaml", smallRunYAML(estimator: "gs") + "\n")
        expectOneLineError(try run(["run", path, "--set", "data.path=nowhere/missing.h5"]), "data.path: nowhere/missing.h5 does not exist")
    }

    @Test func runsAndResumesFromTheCommandLine() throws {
        let path = try folder.write("ok.yaml", smallRunYAML(estimator: "st-gs"))
        let out = folder.dir + "/out"
        let first = try run(["run", path, "--out", out, "--stop-after", "1"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("epoch   1/2"))
        let second = try run(["run", path, "--out", out, "--resume"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("resuming"))
        #expect(second.stdout.contains("| small-st-gs | st-gs |"))
        #expect(second.stdout.contains("59.3"))
    }

    /// `make exp-<name>` reaches every experiment file: a run for plain files, a sweep for sweep files.
    @Test func makeTargetsRunEveryExperimentFile() throws {
        let plain = try runCommand("/usr/bin/env", ["make", "-n", "exp-sbn-gs", "EPOCHS=3"], in: TestPaths.packageRoot)
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stdout.contains(".build/release/sbnlab run experiments/sbn-gs.yaml --resume --set epochs=3"))
        let sweep = try runCommand("/usr/bin/env", ["make", "-n", "exp-sweep-temperature", "JOBS=3"], in: TestPaths.packageRoot)
        #expect(sweep.stdout.contains(".build/release/sbnlab sweep experiments/sweep-temperature.yaml --jobs 3"))
        let list = try runCommand("/usr/bin/env", ["make", "-n", "list-experiments"], in: TestPaths.packageRoot)
        #expect(list.stdout.contains("sbnlab list"))
    }

    /// OpenBLAS starts with one thread per core (the default `BLAS.threads`).
    @Test func blasDefaultsToAllCores() throws {
        let r = try run(["list", "--folder", TestPaths.packageRoot + "/experiments"])
        #expect(r.status == 0, "\(r.stderr)")
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let env = ProcessInfo.processInfo.environment
        if let set = ["OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"].first(where: { env[$0] != nil }) {
            print("SKIPPED the default-thread check: \(set) is set in the environment")
            return
        }
        #expect(r.stdout.contains("OpenBLAS: \(cores) threads by default on \(cores) cores"), "\(r.stdout)")
        #expect(r.stdout.contains("sbn-gs ") && r.stdout.contains("reinforce "))
    }

    /// A corrupt dataset or results file: one line naming the file, exit 1, the file untouched.
    @Test func corruptFiles() throws {
        let garbage = folder.dir + "/garbage.h5"
        try Data("this is not HDF5".utf8).write(to: URL(fileURLWithPath: garbage))
        let path = try folder.write("c.yaml", smallRunYAML(estimator: "gs"))
        expectOneLineError(try run(["run", path, "--set", "data.path=\(garbage)"]), "\(garbage): cannot open dataset")

        let out = folder.dir + "/corrupt-run"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try Data("truncated".utf8).write(to: URL(fileURLWithPath: out + "/run.h5"))
        expectOneLineError(try run(["run", path, "--out", out, "--resume"]), "\(out)/run.h5")
        #expect(try String(contentsOfFile: out + "/run.h5", encoding: .utf8) == "truncated")
    }
}
