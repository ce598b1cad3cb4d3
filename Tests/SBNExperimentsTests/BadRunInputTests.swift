import Foundation
import SBNConfig
import SBNData
import SBNStorage
import SBNTestSupport
import SBNTraining
import Testing

/// Whether this process may mount a tmpfs (root with the capability; `.ci/run` runs as root):
/// a probe mount and unmount.
let canMountTmpfs: Bool = {
    guard getuid() == 0, FileManager.default.fileExists(atPath: "/bin/mount") else { return false }
    let probe = TestPaths.temporaryDirectory(prefix: "mount-probe")
    guard (try? runCommand("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", probe]))?.status == 0 else { return false }
    return (try? runCommand("/bin/umount", [probe]))?.status == 0
}()

/// Bad inputs at run time: each gets its one-line error, exit status 1 and no crash, and those
/// that can be checked before training leave no run folder behind.
@Suite struct BadRunInputTests {
    let folder = ExperimentFolder()

    func run(_ args: [String]) throws -> CommandResult {
        try runCommand(try #require(TestPaths.sbnlabBinary, "sbnlab binary not built"), args, in: folder.dir)
    }

    func expectOneLine(_ r: CommandResult, _ expected: String) {
        #expect(r.status == 1, "\(r.stdout)")
        #expect(r.stderr == "sbnlab: error: \(expected)\n")
    }

    /// A prepared file whose test split was altered after `sbnlab data` hashed it.
    func alteredDataset() throws -> String {
        let good = try BinarizedMNIST(path: TestPaths.preparedDataset)
        let path = folder.dir + "/altered.h5"
        try AtomicFile.writeHDF5(to: path) { f in
            for (name, split) in [("train", good.train), ("valid", good.valid), ("test", good.test)] {
                var images = split.images
                let g = try f.createGroup(name)
                try g.setAttribute("sha256", SHA256.hex(images))
                if name == "test" { images[1234] ^= 1 }
                try g.write("images", images, shape: [split.count, ImageHalves.pixels])
            }
        }
        return path
    }

    @Test func badDataStopsTheRunBeforeItsFolderExists() throws {
        let data = try alteredDataset()
        let path = try folder.write("d.yaml", smallRunYAML(estimator: "gs"))
        let out = folder.dir + "/never"
        expectOneLine(
            try run(["run", path, "--set", "data.path=\(data)", "--out", out]),
            "\(data): /test/images does not match the sha256 `sbnlab data` recorded (altered?); "
                + "prepare it again: sbnlab data --output \(data)")
        #expect(!FileManager.default.fileExists(atPath: out))
        let arm = try run(["run", path, "--set", "estimator=arm", "--set", "samples.train=3", "--out", out])
        expectOneLine(arm, "\(path): samples.train: arm supports m ≤ 1, got 3")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// An output folder that cannot be made (a file in its path) is one line naming the path, not
    /// a Foundation error dump.
    @Test func unwritableOutputFolderIsOneLine() throws {
        let path = try folder.write("o.yaml", smallRunYAML(estimator: "gs"))
        let blocker = try folder.write("blocker", "a file, not a folder")
        expectOneLine(
            try run(["run", path, "--out", blocker + "/run"]),
            "\(blocker)/run: cannot be created or written (a part of the path is missing or not a folder)")
    }

    /// lr = 100 diverges in its first epoch: the run stops as failed at the second validation,
    /// and `show` still reads it.
    @Test func divergingRunFails() throws {
        let path = try folder.write("lr.yaml", smallRunYAML(estimator: "gs", extra: "lr: 100\nvalid_every: 1"))
        let out = folder.dir + "/diverged"
        let r = try run(["run", path, "--out", out, "--set", "epochs=6"])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("sbnlab: error: diverged at epoch 2: validation NLL "), "\(r.stderr)")
        #expect(r.stderr.hasSuffix(" for 2 validations (divergence.margin, divergence.patience)\n"), "\(r.stderr)")
        let record = try ResultsFile.readRecord(out + "/run.h5")
        #expect(record.status == .failed && record.error?.hasPrefix("diverged at epoch 2") == true)
        #expect(try run(["show", out + "/run.h5"]).status == 0)
        // Final: resuming trained on past the divergence and could end "finished" (a sweep did).
        let before = try Data(contentsOf: URL(fileURLWithPath: out + "/run.h5"))
        let again = try run(["run", path, "--out", out, "--set", "epochs=6", "--resume"])
        expectOneLine(
            again,
            "\(out)/run.h5: the run failed (\(record.error!)); a failed run is final (resuming repeats its "
                + "configuration): choose another --out")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/run.h5")) == before)
    }

    /// `show` draws a validation curve holding inf and NaN (`!`) instead of crashing.
    @Test func showReadsNonFiniteCurves() throws {
        let config = try ConfigLoader.load(try folder.write("s.yaml", smallRunYAML(estimator: "gs")))
        let state = try TrainingState(config: config)
        state.record.valid = [
            .init(step: 1, epoch: 1, nll: 120), .init(step: 2, epoch: 2, nll: .infinity),
            .init(step: 3, epoch: 3, nll: .nan), .init(step: 4, epoch: 4, nll: 100),
        ]
        state.record.epochsDone = 4
        let path = folder.dir + "/nan.h5"
        try state.save(to: path)
        let r = try run(["show", path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("valid NLL (m=5): █!!▁"), "\(r.stdout)")
        // `impute` on a dataset with an empty test split: the one-line error, no crash.
        let empty = folder.dir + "/empty.h5"
        try AtomicFile.writeHDF5(to: empty) { f in
            for name in ["train", "valid", "test"] {
                let images = name == "test" ? [] : [UInt8](repeating: 0, count: ImageHalves.pixels)
                let g = try f.createGroup(name)
                try g.setAttribute("sha256", SHA256.hex(images))
                try g.write("images", images, shape: [images.count / ImageHalves.pixels, ImageHalves.pixels])
            }
        }
        expectOneLine(
            try run(["impute", path, "--data", empty, "--out", folder.dir + "/i.png"]), "\(empty): /test/images is empty")
    }

    /// A full disk (a 3 MB tmpfs) ends in the one-line error naming the results file, exit 1,
    /// no crash, and no temporary file left.
    @Test(.enabled(if: canMountTmpfs, "needs root to mount a tmpfs")) func fullDisk() throws {
        let mountPoint = TestPaths.temporaryDirectory(prefix: "full-disk")
        #expect(try runCommand("/bin/mount", ["-t", "tmpfs", "-o", "size=3m", "tmpfs", mountPoint]).status == 0)
        defer { _ = try? runCommand("/bin/umount", [mountPoint]) }
        let path = try folder.write("f.yaml", smallRunYAML(estimator: "gs"))
        let r = try run(["run", path, "--out", mountPoint + "/run"])
        #expect(r.status == 1)
        #expect(
            r.stderr.hasPrefix("sbnlab: error: \(mountPoint)/run/run.h5: not written, the previous version is kept ("),
            "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: mountPoint + "/run").filter { $0.contains(".tmp-") }.isEmpty)
    }
}
