import Foundation
import SBNTestSupport
import Testing
import SBNStorage

/// Hostile flags and definitions (issue 21): each a one-line error (usage errors exit 64, others
/// 1) naming the flag or key, with nothing written; a closed stdout does not stop a run.
@Suite struct HostileFlagTests {
    let folder = ExperimentFolder()

    func sbnlab(_ args: [String]) throws -> CommandResult {
        try runCommand(try #require(TestPaths.sbnlabBinary, "sbnlab binary not built"), args, in: folder.dir)
    }

    /// A 412-byte `--set` value of nested YAML aliases (a "billion laughs") took 21–31 s and
    /// 7.7 GB, then aborted; it is refused by the cap that protects files. Malformed keys were
    /// accepted silently.
    @Test func setValuesAndKeys() throws {
        let yaml = try folder.write("small.yaml", smallRunYAML(estimator: "gs"))
        var bomb = "{a0: &a0 [1,1,1,1,1,1,1,1,1,1]"
        for i in 1...6 { bomb += ", a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ",") + "]" }
        bomb += "}"
        for command in ["run", "sweep"] {
            let r = try sbnlab([command, yaml, "--set", "description=\(bomb)", "--out", "never"])
            #expect(
                r.status == 1
                    && r.stderr
                        == "sbnlab: error: --set: description: expands to more than 100000 values (through YAML aliases?)\n",
                "\(command): \(r.stderr)")
        }
        for key in [".epochs", "samples..test", "epochs."] {
            let r = try sbnlab(["run", yaml, "--set", "\(key)=2", "--out", "never"])
            #expect(
                r.status == 1 && r.stderr == "sbnlab: error: --set: \(key): expected a dotted key such as samples.test\n",
                "\(r.stderr)")
        }
        // A bracketed value that is not valid YAML was taken as a string, so the error came later
        // and read "layers: expected a list, got \"[784,{categorical:[20,10]},784]\"".
        for value in ["[784,{categorical:[20,10]},784]", "[784, 200", "{schedule: fixed"] {
            let r = try sbnlab(["run", yaml, "--set", "layers=\(value)", "--out", "never"])
            #expect(
                r.status == 1
                    && r.stderr.hasPrefix("sbnlab: error: --set: layers: \(value) is not a valid YAML flow list or mapping (")
                    && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: folder.dir + "/never"))
    }

    /// Count flags out of range are usage errors naming the flag (they trapped, drew "true + -1
    /// samples", or were silently clamped: --jobs 1000 started one process per point).
    @Test func countFlagsAreChecked() throws {
        let yaml = try folder.write("small.yaml", smallRunYAML(estimator: "gs"))
        let cases: [([String], String)] = [
            (
                ["impute", "missing.h5", "--samples", "9223372036854775807"],
                "--samples: expected a whole number from 1 to 100, got 9223372036854775807"
            ),
            (["impute", "missing.h5", "--samples=-1"], "--samples: expected a whole number from 1 to 100, got -1"),
            (["impute", "missing.h5", "--images", "0"], "--images: expected a whole number from 1 to 100, got 0"),
            (["run", yaml, "--threads", "0"], "--threads: expected a whole number from 1 to 1024, got 0"),
            (["run", yaml, "--stop-after=-1"], "--stop-after: expected a whole number from 1 to 1000000, got -1"),
            (["sweep", yaml, "--jobs", "1000"], "--jobs: expected a whole number from 1 to 64, got 1000"),
        ]
        for (args, message) in cases {
            let r = try sbnlab(args)
            #expect(r.status == 64 && r.stderr.hasPrefix("Error: \(message)\n"), "\(args): \(r.status) \(r.stderr)")
        }
    }

    /// A run name that leaves results/ ("..", "../../x", "") is refused; 0.001, 1e-3 and 0.0010
    /// are one value of a sweep axis (they ran three times and reported "131.50 ± 0.00").
    @Test func namesAndDuplicateAxisValues() throws {
        for name in ["..", "../../x", "\"\""] {
            let path = try folder.write("n.yaml", "name: \(name)\n")
            let r = try sbnlab(["run", path])
            let shown = name == "\"\"" ? "" : name
            #expect(
                r.status == 1
                    && r.stderr == "sbnlab: error: \(path): name: expected a folder name (1–200 characters, no \"/\", "
                        + "not \".\" or \"..\"), got \"\(shown)\"\n",
                "\(r.stderr)")
        }
        let sweep = try folder.write("d.yaml", "name: d\nsweep: {lr: [0.001, 1e-3, 0.0010], seed: [1]}\n")
        let r = try sbnlab(["sweep", sweep, "--emit", "jobs", "--out", "d"])
        #expect(
            r.status == 1 && r.stderr == "sbnlab: error: \(sweep): sweep.lr[1]: 1e-3 is the same value as sweep.lr[0] (0.001)\n",
            "\(r.stderr)")
    }

    /// `--out` onto a symbolic link or a FIFO is refused, the node kept (as root, a figure written
    /// to /dev/full once replaced the device with a regular file); categorical sizes that are not
    /// whole numbers name their key and what is expected.
    @Test func nonRegularTargetsAndCategoricalSizes() throws {
        let target = folder.dir + "/target.png", link = folder.dir + "/link.png", fifo = folder.dir + "/fifo.png"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        #expect(mkfifo(fifo, 0o644) == 0)
        for path in [link, fifo] {
            let r = try sbnlab(["figure", "gumbel-softmax", "--draws", "100", "--out", path])
            #expect(
                r.status == 1
                    && r.stderr == "sbnlab: error: \(path): exists and is not a regular file (a link, FIFO, device or folder); "
                        + "not replaced\n",
                "\(r.stderr)")
        }
        #expect(
            try FileManager.default.destinationOfSymbolicLink(atPath: link) == target
                && !FileManager.default.fileExists(atPath: target))
        #expect(
            try FileManager.default.attributesOfItem(atPath: fifo)[.type] as? FileAttributeType == .typeUnknown
                || (try FileManager.default.attributesOfItem(atPath: fifo)[.type] as? FileAttributeType) != .typeRegular)
        for (sizes, shown) in [("[\"20\", 10]", "[\"20\", 10]"), ("[20.5, 10]", "[20.5, 10]")] {
            let path = try folder.write("c.yaml", "layers: [392, {categorical: \(sizes)}, 392]\n")
            let r = try sbnlab(["run", path])
            #expect(
                r.stderr
                    == "sbnlab: error: \(path): layers[1].categorical: expected [groups, classes] as whole numbers, got \(shown)\n",
                "\(r.stderr)")
        }
    }

    /// A read-only folder (as an unprivileged user: root writes anywhere) is "permission denied",
    /// naming the file asked for, for a run and for a figure. The user `nobody` must be able to
    /// reach the binary: a checkout under a folder only root may enter (`mktemp -d` makes one with
    /// mode 0700) skips the test.
    @Test(
        .enabled(
            if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")
                && reachableByOthers(TestPaths.sbnlabBinary),
            "needs root, setpriv, and a binary that other users can reach"))
    func readOnlyFolder() throws {
        let binary = try #require(TestPaths.sbnlabBinary, "sbnlab binary not built")
        let ro = folder.dir + "/readonly"
        try FileManager.default.createDirectory(atPath: ro, withIntermediateDirectories: true)
        for dir in [folder.dir, ro] { chmod(dir, dir == ro ? 0o555 : 0o755) }
        let yaml = try folder.write("small.yaml", smallRunYAML(estimator: "gs"))
        chmod(yaml, 0o644)
        let asNobody = ["--reuid", "65534", "--regid", "65534", "--clear-groups", binary]
        let run = try runCommand("/usr/bin/setpriv", asNobody + ["run", yaml, "--out", ro + "/run"])
        #expect(run.status == 1 && run.stderr == "sbnlab: error: \(ro)/run: permission denied\n", "\(run.stderr)")
        let figure = try runCommand(
            "/usr/bin/setpriv", asNobody + ["figure", "gumbel-softmax", "--draws", "10", "--out", ro + "/f.png"])
        #expect(
            figure.status == 1 && figure.stderr == "sbnlab: error: \(ro)/f.png: not written (Permission denied)\n",
            "\(figure.stderr)")
    }

    /// Two sweeps on one folder: the second says the first holds it (both exited 1 with spurious
    /// failed points and overwritten log lines before).
    @Test func oneSweepPerFolder() throws {
        let binary = try #require(TestPaths.sbnlabBinary, "sbnlab binary not built")
        let yaml = try folder.write(
            "s.yaml",
            smallRunYAML(estimator: "gs", extra: "sweep: {lr: [0.001, 0.003], seed: [1]}").replacingOccurrences(
                of: "name: small-gs", with: "name: s"))
        let first = Process()
        first.executableURL = URL(fileURLWithPath: binary)
        first.arguments = ["sweep", yaml, "--out", "s"]
        first.currentDirectoryURL = URL(fileURLWithPath: folder.dir)
        first.standardOutput = FileHandle.nullDevice
        try HDF5File.startChild(first)
        // Wait for the first sweep's lock.
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: folder.dir + "/s/sweep.lock") { usleep(50_000) }
        let second = try sbnlab(["sweep", yaml, "--out", "s"])
        first.waitUntilExit()
        #expect(
            second.status == 1
                && second.stderr.hasPrefix(
                    "sbnlab: error: s: another sweep holds this folder (pid \(first.processIdentifier) on "),
            "\(second.stderr)")
        #expect(first.terminationStatus == 0)
    }

    /// `sbnlab run … | head -1`: the reader leaves after the first line; the run still finishes
    /// (it ended by SIGPIPE, exit 141, before).
    @Test func closedStdoutDoesNotStopTheRun() throws {
        let binary = try #require(TestPaths.sbnlabBinary, "sbnlab binary not built")
        let yaml = try folder.write("small.yaml", smallRunYAML(estimator: "gs"))
        let r = try runCommand(
            "/bin/bash",
            ["-c", "set -o pipefail; '\(binary)' run '\(yaml)' --out piped | head -1 > /dev/null; echo ${PIPESTATUS[0]}"],
            in: folder.dir)
        #expect(r.stdout == "0\n", "\(r.stdout) \(r.stderr)")
        let show = try sbnlab(["show", "piped/run.h5"])
        #expect(show.stdout.contains("status finished"), "\(show.stdout)")
    }
}

/// Whether every folder above `path` lets other users through (mode o+x), so that an unprivileged
/// user can run the file.
func reachableByOthers(_ path: String?) -> Bool {
    guard let path else { return false }
    var folder = URL(fileURLWithPath: path).deletingLastPathComponent()
    while folder.path != "/" {
        var status = stat()
        guard stat(folder.path, &status) == 0, status.st_mode & S_IXOTH != 0 else { return false }
        folder = folder.deletingLastPathComponent()
    }
    return true
}
