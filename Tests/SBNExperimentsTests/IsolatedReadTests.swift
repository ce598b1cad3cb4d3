import Foundation
import SBNTestSupport
import Testing

/// Damaged files on which libhdf5 1.10 itself faults or never returns (found by `make fuzz`,
/// kept in Fuzz/crashes/): the command line reads every untrusted file once in a child process
/// first, so each is a one-line error naming the file, with nothing written, not a segfault or a
/// hang (issue 21).
@Suite struct IsolatedReadTests {
    let folder = ExperimentFolder()

    func sbnlab(_ args: [String], environment: [String: String] = [:]) throws -> CommandResult {
        try runCommand(
            try #require(TestPaths.sbnlabBinary, "sbnlab binary not built"), args, in: folder.dir, environment: environment)
    }

    /// A fuzzer input as a file of this test's folder.
    func crashInput(_ name: String) throws -> String {
        let path = folder.dir + "/" + name + ".h5"
        try FileManager.default.copyItem(atPath: TestPaths.packageRoot + "/Fuzz/crashes/" + name, toPath: path)
        return path
    }

    /// libhdf5 faults in H5HG_read (a damaged global heap) reading this dataset's string attribute.
    @Test func aFileOnWhichLibhdf5FaultsIsAnError() throws {
        let data = try crashInput("FuzzDataset-crash-2b6cba3544bd45883f26e59b42189042eabd3cbb")
        let yaml = try folder.write("r.yaml", smallRunYAML(estimator: "gs"))
        let r = try sbnlab(["run", yaml, "--set", "data.path=\(data)", "--out", "never"])
        #expect(r.status == 1)
        #expect(
            r.stderr
                == "sbnlab: error: \(data): libhdf5 crashed reading this file (signal 11, a damaged HDF5 structure such as "
                + "a string heap); nothing was read from it\n", "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.dir + "/never"))
    }

    /// libhdf5 never returns reading this dataset: the child is killed at the time limit (3 s here).
    @Test func aFileOnWhichLibhdf5HangsIsAnError() throws {
        let data = try crashInput("FuzzDataset-timeout-fc00adb28a5fe59db2782593ffae407eba5f3110")
        let yaml = try folder.write("r.yaml", smallRunYAML(estimator: "gs"))
        let started = Date()
        let r = try sbnlab(
            ["run", yaml, "--set", "data.path=\(data)", "--out", "never"], environment: ["SBNLAB_READ_TIMEOUT": "3"])
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(r.status == 1)
        #expect(
            r.stderr
                == "sbnlab: error: \(data): libhdf5 did not finish reading this file within 3 s (a damaged HDF5 structure); "
                + "nothing was read from it\n", "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.dir + "/never"))
    }

    /// A file that reads cleanly passes the check unchanged (the run trains), and a reader's own
    /// error still comes from the reader (a results file that is no HDF5 file at all).
    @Test func cleanFilesAndReaderErrorsAreUnchanged() throws {
        let yaml = try folder.write("r.yaml", smallRunYAML(estimator: "gs"))
        #expect(try sbnlab(["run", yaml, "--out", "good"]).status == 0)
        #expect(try sbnlab(["show", "good/run.h5"]).stdout.contains("status finished"))
        try "not hdf5".write(toFile: folder.dir + "/text.h5", atomically: true, encoding: .utf8)
        let r = try sbnlab(["show", "text.h5"])
        #expect(r.status == 1 && r.stderr.hasPrefix("sbnlab: error: text.h5: cannot open HDF5 file"), "\(r.stderr)")
    }

    /// A missing file, a directory and a FIFO are said plainly, in one line, for each command
    /// that reads a results file (libhdf5's message for them was "unable to open file: time = …,
    /// tent_flags = 0; open failed"), and a FIFO does not block the reader.
    @Test func filesThatAreNotThereOrNotFiles() throws {
        try FileManager.default.createDirectory(atPath: folder.dir + "/folder.h5", withIntermediateDirectories: true)
        #expect(mkfifo(folder.dir + "/fifo.h5", 0o600) == 0)
        let cases = [
            ("missing.h5", "cannot open (No such file or directory)"), ("folder.h5", "not a regular file, so not an HDF5 file"),
            ("fifo.h5", "not a regular file, so not an HDF5 file"),
        ]
        for (file, reason) in cases {
            for command in [
                ["show", file], ["eval", file], ["impute", file, "--out", "i.png"], ["gradstats", "--checkpoint", file],
            ] {
                let r = try sbnlab(command)
                #expect(r.status == 1 && r.stderr == "sbnlab: error: \(file): \(reason)\n", "\(command): \(r.stderr)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: folder.dir + "/i.png"))
    }
}
