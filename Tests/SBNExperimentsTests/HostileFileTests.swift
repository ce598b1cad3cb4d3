import Foundation
import SBNTestSupport
import Testing
import SBNStorage

/// Results files and checkpoints edited by hand or damaged by another tool (issue 21): each is a
/// one-line error naming the file and what is wrong, or an `unreadable` row in a summary, never a
/// trap; a resume refuses before it writes anything. Files are edited with h5py, as a user would.
@Suite(.enabled(if: hasPythonWithH5py, "python3 with h5py not available")) struct HostileFileTests {
    let folder = ExperimentFolder()

    func sbnlab(_ args: [String]) throws -> CommandResult {
        try runCommand(try #require(TestPaths.sbnlabBinary, "sbnlab binary not built"), args, in: folder.dir)
    }

    /// A finished small run (2 epochs, a validation each epoch) to damage; returns its run file.
    func finishedRun() throws -> (yaml: String, file: String) {
        let yaml = try folder.write("small.yaml", smallRunYAML(estimator: "gs", extra: "valid_every: 1"))
        let r = try sbnlab(["run", yaml, "--out", "good"])
        #expect(r.status == 0, "\(r.stderr)")
        return (yaml, folder.dir + "/good/run.h5")
    }

    /// A copy of `file` in `name/run.h5` with `edit` (Python, `f` the open h5py file) applied.
    func damaged(_ file: String, _ name: String, _ edit: String) throws -> String {
        try FileManager.default.createDirectory(atPath: folder.dir + "/" + name, withIntermediateDirectories: true)
        let copy = folder.dir + "/\(name)/run.h5"
        try FileManager.default.copyItem(atPath: file, toPath: copy)
        let script = "import h5py, numpy as np\nf = h5py.File('\(copy)', 'a')\n\(edit)\nf.close()\n"
        let r = try runCommand("/usr/bin/env", ["python3", "-c", script])
        #expect(r.status == 0, "\(r.stderr)")
        return copy
    }

    func expectOneLine(_ r: CommandResult, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(
            r.status == 1 && r.stderr == "sbnlab: error: \(expected)\n", "\(r.status): \(r.stderr)",
            sourceLocation: sourceLocation)
    }

    /// Metric columns of unequal length: `show` names the column; `collect` lists the file as an
    /// unreadable row and summarises the others (it trapped in `ResultsFile.readRecord`).
    @Test func unequalMetricLengths() throws {
        let (_, good) = try finishedRun()
        let bad = try damaged(
            good, "short",
            """
            e = f['metrics/valid/epoch'][:1]; del f['metrics/valid/epoch']
            f.create_dataset('metrics/valid/epoch', data=e, maxshape=(None,), chunks=True)
            """)
        expectOneLine(
            try sbnlab(["show", bad]),
            "\(bad): /metrics/valid/epoch has 1 values but /metrics/valid/step has 2 (a damaged or hand-edited file)")
        let collected = try sbnlab(["collect", folder.dir])
        #expect(collected.status == 0, "\(collected.stderr)")
        #expect(collected.stdout.contains("(2 runs)"))
        let status = try runCommand(
            "/usr/bin/env",
            [
                "python3", "-c",
                "import h5py; f = h5py.File('\(folder.dir)/summary.h5'); print(sorted(f['status'].asstr()[:]))",
            ])
        #expect(status.stdout == "['finished', 'unreadable']\n")
    }

    /// A metric column resized to 3·10^8 rows in a file of a few hundred KB: its reader allocated
    /// 2.4 GB of fill values before any check (`make fuzz`, FuzzCheckpoint, out of memory). The
    /// declared shape is now checked against what the file stores for it.
    @Test func declaredShapeBeyondTheStoredData() throws {
        let (yaml, good) = try finishedRun()
        let bad = try damaged(good, "resized", "f['metrics/train/loss'].resize((300_000_000,))")
        let message = ":/metrics/train/loss: declares shape [300000000] but the file stores 8192 bytes for it"
        expectOneLine(try sbnlab(["show", bad]), bad + message)
        let before = try Data(contentsOf: URL(fileURLWithPath: bad))
        expectOneLine(try sbnlab(["run", yaml, "--out", "resized", "--resume"]), "resized/run.h5" + message)
        #expect(try Data(contentsOf: URL(fileURLWithPath: bad)) == before)
    }

    /// Superblocks that point outside the file (`make fuzz`, FuzzResults and FuzzCheckpoint, out
    /// of memory): libhdf5 read a driver-information block of the 32-bit size the superblock gave,
    /// clearing gigabytes past the end of a 193-byte file, before it compared the stored end of
    /// file with the file's size. Each is now one line naming the file, before libhdf5 opens it.
    @Test func damagedSuperblocks() throws {
        let (yaml, good) = try finishedRun()
        let size = try #require(try FileManager.default.attributesOfItem(atPath: good)[.size] as? Int)
        // Version-0 superblock, 8-byte addresses: end of file at byte 40, driver information at 48.
        // The first case made libhdf5 1.10 clear 2.1 GB (2.2 s) before it failed.
        for (name, patch, expected) in [
            (
                "driver", "b[48:56] = struct.pack('<Q', 96); b[96:100] = bytes(4); b[100:104] = struct.pack('<I', 0x7f170008)",
                "driver information of 2132213768 bytes at 96, beyond the file's \(size) bytes"
            ),
            (
                "eof", "b[40:48] = struct.pack('<Q', \(size + 1000))",
                "end of file at \(size + 1000), but the file has \(size) bytes"
            ),
            ("truncated", "del b[49:]", "truncated (the file ends at byte 49)"),
        ] {
            try FileManager.default.createDirectory(atPath: folder.dir + "/" + name, withIntermediateDirectories: true)
            let bad = folder.dir + "/\(name)/run.h5"
            let edit = "import struct, sys\nb = bytearray(open('\(good)', 'rb').read())\n\(patch)\nopen('\(bad)', 'wb').write(b)"
            #expect(try runCommand("/usr/bin/env", ["python3", "-c", edit]).status == 0)
            let before = try Data(contentsOf: URL(fileURLWithPath: bad))
            expectOneLine(try sbnlab(["show", bad]), "\(bad): damaged HDF5 superblock: \(expected)")
            expectOneLine(
                try sbnlab(["run", yaml, "--out", name, "--resume"]), "\(name)/run.h5: damaged HDF5 superblock: \(expected)")
            expectOneLine(
                try sbnlab(["run", yaml, "--set", "data.path=\(bad)", "--out", "never"]),
                "\(bad): damaged HDF5 superblock: \(expected)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: bad)) == before)
        }
        #expect(!FileManager.default.fileExists(atPath: folder.dir + "/never"))
    }

    /// Variable-length strings whose descriptors declare more bytes than the file has (`make
    /// fuzz`, FuzzResults, out of memory): libhdf5 allocated and cleared a buffer of each declared
    /// length before reading the string (2.8 GB for a 15 KB file). The lengths are checked first,
    /// in a dataset (a summary's `status`) and in an attribute (a run's `config`).
    @Test func stringsLongerThanTheFile() throws {
        let (_, good) = try finishedRun()
        #expect(try sbnlab(["collect", folder.dir]).status == 0)
        let summary = folder.dir + "/summary.h5"
        // The descriptor: a 4-byte length, then the global heap collection's address ("GCOL").
        let edit = """
            import h5py, struct, sys
            path, which = sys.argv[1], sys.argv[2]
            if which == 'dataset':
                with h5py.File(path, 'r') as f: at = f['status'].id.get_offset()
            else:
                with h5py.File(path, 'r') as f: length = len(f.attrs['config'].encode())
                b = open(path, 'rb').read()
                at = next(o for o in range(len(b) - 12) if b[o:o + 4] == struct.pack('<I', length)
                          and b[struct.unpack('<Q', b[o + 4:o + 12])[0]:][:4] == b'GCOL')
            with open(path, 'r+b') as f: f.seek(at); f.write(struct.pack('<I', 0x7fffffff))
            """
        for (path, which) in [(summary, "dataset"), (good, "attribute")] {
            let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
            let r = try runCommand("/usr/bin/env", ["python3", "-c", edit, path, which])
            #expect(r.status == 0, "\(r.stderr)")
            let location = which == "dataset" ? "\(path):/status" : "attribute config of \(path)"
            expectOneLine(
                try sbnlab(["show", path]), "\(location): its strings declare 2147483647 bytes, more than the file's \(size)")
        }
    }

    /// Strings whose type declares 1 MiB characters (1 byte in a sound file): libhdf5 cleared the
    /// declared length times that size before reading (13.4 GB for a fuzzed summary, `make fuzz`).
    @Test func stringsOfWideCharacters() throws {
        _ = try finishedRun()
        #expect(try sbnlab(["collect", folder.dir]).status == 0)
        let summary = folder.dir + "/summary.h5"
        let size = try #require(try FileManager.default.attributesOfItem(atPath: summary)[.size] as? Int)
        // Every variable-length string type: its header (class 9), its size, then the base type,
        // a 1-byte integer (class 0, version 1) whose size field is rewritten.
        let edit = """
            import h5py, re, sys
            with h5py.File(sys.argv[1], 'r') as f: print(len(f.attrs['axes'].encode()))
            b = bytearray(open(sys.argv[1], 'rb').read())
            for m in re.finditer(rb'\\x19\\x01\\x01\\x00....\\x10\\x00\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x08\\x00', bytes(b), re.S):
                b[m.start() + 12:m.start() + 16] = (1 << 20).to_bytes(4, 'little')
            open(sys.argv[1], 'wb').write(b)
            """
        let r = try runCommand("/usr/bin/env", ["python3", "-c", edit, summary])
        let characters = try #require(Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(r.stderr)")
        expectOneLine(
            try sbnlab(["show", summary]),
            "attribute axes of \(summary): its strings declare \(characters << 20) bytes, more than the file's \(size)")
    }

    /// A summary.h5 whose status column is shorter than the others trapped in `show`.
    @Test func shortSummaryColumn() throws {
        _ = try finishedRun()
        #expect(try sbnlab(["collect", folder.dir]).status == 0)
        let summary = folder.dir + "/summary.h5"
        let edit =
            "import h5py\nf = h5py.File('\(summary)', 'a'); s = f['status'][:0]; del f['status']\n"
            + "f.create_dataset('status', data=s, dtype=h5py.string_dtype()); f.close()"
        let r = try runCommand("/usr/bin/env", ["python3", "-c", edit])
        #expect(r.status == 0, "\(r.stderr)")
        expectOneLine(
            try sbnlab(["show", summary]), "\(summary): /status has 0 values but /point has 1 (a damaged or hand-edited file)")
    }

    /// Values a sweep's summary could not hold: a finished run whose test value is NaN (averaged
    /// into the table as "nan", and trusted by a sweep in place of the run), negative epochs or
    /// standard errors, an accuracy above 1, an unknown status. Each is one line naming the row.
    @Test func impossibleSummaryRows() throws {
        _ = try finishedRun()
        #expect(try sbnlab(["collect", folder.dir]).status == 0)
        let summary = folder.dir + "/summary.h5"
        for (name, edit, expected) in [
            (
                "nan", "a = f['test_nll'][:]; a[0] = np.nan; f['test_nll'][...] = a",
                "a finished run with test value nan, test_nll nan"
            ),
            ("epochs", "a = f['epochs'][:]; a[0] = -7; f['epochs'][...] = a", "epochs -7, wall_time"),
            (
                "sem", "a = f['test_nll_sem'][:]; a[0] = -0.5; f['test_nll_sem'][...] = a",
                "test_nll_sem -0.5 is not a standard error"
            ),
            (
                "accuracy", "a = f['test_accuracy'][:]; a[0] = 1.5; f['test_accuracy'][...] = a",
                "test_accuracy 1.5 is outside [0, 1]"
            ),
            (
                "status", "del f['status']; f.create_dataset('status', data=['done'], dtype=h5py.string_dtype())",
                "status \"done\" is not one of finished, failed, running, unreadable"
            ),
            (
                "config", "a = f['config'][:]; a[0] = b'{\"seed\": 1, '; f['config'][...] = a",
                "config is not a JSON object (\"{\\\"seed\\\": 1, \")"
            ),
        ] {
            let copy = folder.dir + "/\(name)-summary.h5"
            try FileManager.default.copyItem(atPath: summary, toPath: copy)
            let r = try runCommand(
                "/usr/bin/env", ["python3", "-c", "import h5py, numpy as np\nf = h5py.File('\(copy)', 'a')\n\(edit)\nf.close()"])
            #expect(r.status == 0, "\(r.stderr)")
            let shown = try sbnlab(["show", copy])
            let line = "sbnlab: error: \(copy): row 0 (good): \(expected)"
            #expect(
                shown.status == 1 && shown.stderr.hasPrefix(line) && shown.stderr.hasSuffix("(a damaged or hand-edited file)\n")
                    && shown.stderr.split(separator: "\n").count == 1, "\(name): \(shown.status) \(shown.stderr)")
        }
    }

    /// A curve holding ±1e308 (its range overflows a double) is drawn, not a trap (SIGILL before).
    @Test func extremeCurveValues() throws {
        let (_, good) = try finishedRun()
        let bad = try damaged(good, "extreme", "f['metrics/valid/nll'][0] = 1e308; f['metrics/valid/nll'][1] = -1e308")
        let r = try sbnlab(["show", bad])
        #expect(r.status == 0 && r.stdout.contains("valid NLL"), "\(r.status): \(r.stderr)")
    }

    /// Impossible checkpoint states are refused before the resume restores or writes anything.
    @Test func impossibleCheckpointsAreRefused() throws {
        let (yaml, good) = try finishedRun()
        let cases: [(name: String, edit: String, message: (String) -> String)] = [
            (
                "progress",
                """
                g = f['checkpoint'].create_group('epoch_progress'); f.attrs['status'] = 'running'
                g.attrs['batches'] = np.int64(10**12); g.attrs['loss_sum'] = 0.0; g.attrs['interval_loss'] = 0.0
                g.attrs['interval_count'] = np.int64(0)
                """,
                {
                    "\($0): checkpoint epoch_progress (batches 1000000000000, interval_count 0) does not fit an epoch of 8 batches "
                        + "(a damaged or hand-edited file); choose another --out"
                }
            ),
            (
                "steps", "f['checkpoint'].attrs['step'] = np.int64(7)",
                {
                    "\($0): checkpoint step 7 does not match epoch 2 × 8 batches + 0 (a damaged or hand-edited file); choose another --out"
                }
            ),
            (
                "rng", "f['checkpoint/rng_noise'][:] = np.zeros(4, np.uint64)",
                { "\($0): checkpoint/rng_noise is not a xoshiro256** state (four words, not all zero)" }
            ),
            (
                "nan", "w = f['checkpoint/parameters/W1']; a = w[:]; a[0, 0] = np.nan; w[...] = a",
                { "\($0): checkpoint/parameters/W1 holds a NaN or infinity" }
            ),
            (
                "status", "f.attrs['status'] = 'weird'",
                { "\($0): attribute status is \"weird\", not running, finished or failed (a damaged or hand-edited file)" }
            ),
        ]
        for c in cases {
            let file = try damaged(good, c.name, c.edit)
            let before = try Data(contentsOf: URL(fileURLWithPath: file))
            expectOneLine(
                try sbnlab(["run", yaml, "--out", c.name, "--resume", "--set", "epochs=3"]), c.message("\(c.name)/run.h5"))
            #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == before, "\(c.name): the file was rewritten")
        }
    }

    /// Optimizer and estimator states no component could have written: a negative second moment
    /// or running variance (resuming took its square root and stopped at the next step with a
    /// NaN loss, having rewritten the file), a negative counter, a NaN in a baseline network.
    @Test func impossibleComponentStatesAreRefused() throws {
        let yaml = try folder.write("reinforce.yaml", smallRunYAML(estimator: "reinforce"))
        let r = try sbnlab(["run", yaml, "--out", "good"])
        #expect(r.status == 0, "\(r.stderr)")
        let good = folder.dir + "/good/run.h5"
        let cases: [(name: String, edit: String, message: String)] = [
            (
                "adam", "v = f['checkpoint/optimizer/v.W1']; a = v[:]; a[0, 0] = -1; v[...] = a",
                ":/checkpoint/optimizer/v.W1 holds a negative value"
            ),
            (
                "variance", "f['checkpoint/estimator'].attrs['variance'] = -2.0",
                ":/checkpoint/estimator: attribute variance is -2.0"
            ),
            ("mean", "f['checkpoint/estimator'].attrs['mean'] = np.inf", ":/checkpoint/estimator: attribute mean is inf"),
            (
                "batches", "f['checkpoint/estimator'].attrs['batches'] = np.int64(-1)",
                ":/checkpoint/estimator: attribute batches is -1"
            ),
            (
                "baseline", "f['checkpoint/estimator/baseline/adam'].attrs['t'] = np.int64(-5)",
                ":/checkpoint/estimator/baseline/adam: attribute t is -5"
            ),
        ]
        for c in cases {
            let file = try damaged(good, c.name, c.edit)
            let before = try Data(contentsOf: URL(fileURLWithPath: file))
            expectOneLine(
                try sbnlab(["run", yaml, "--out", c.name, "--resume", "--set", "epochs=3"]),
                "\(c.name)/run.h5\(c.message) (a damaged or hand-edited file)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == before, "\(c.name): the file was rewritten")
        }
        let gradstats = try sbnlab(["gradstats", "--checkpoint", folder.dir + "/variance/run.h5", "--estimates", "10"])
        expectOneLine(
            gradstats,
            folder.dir + "/variance/run.h5:/checkpoint/estimator: attribute variance is -2.0 (a damaged or hand-edited file)")
    }

    /// A temporary file left by a writer killed mid-write is removed when the run is next locked
    /// (the kill left 3.3 MB per checkpoint before); a live writer's is kept.
    @Test func staleTemporariesAreRemoved() throws {
        let (yaml, good) = try finishedRun()
        let dead = Process()
        dead.executableURL = URL(fileURLWithPath: "/bin/true")
        try HDF5File.startChild(dead)
        dead.waitUntilExit()
        let stale = good + ".tmp-\(dead.processIdentifier)", live = good + ".tmp-\(getpid())"
        for path in [stale, live] { #expect(FileManager.default.createFile(atPath: path, contents: Data(count: 1000))) }
        let r = try sbnlab(["run", yaml, "--out", "good", "--resume"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: stale) && FileManager.default.fileExists(atPath: live))
    }

    /// Datasets: labels shorter than the images (trapped in `Split.prefix`), a declared
    /// 10⁹ × 784 split (aborted allocating 784 GB), a shape past 2^40 elements, and a `sha256`
    /// attribute that is an array of strings (overflowed the one-string buffer): one-line errors
    /// before anything is allocated or written.
    @Test func hostileDatasets() throws {
        let yaml = try folder.write("small.yaml", smallRunYAML(estimator: "gs"))
        for (name, edit, expected) in [
            (
                "labels.h5", "f.create_dataset('train/labels', data=np.zeros(5, np.uint8))",
                ": /train/labels has shape [5] for 50000 images, expected (50000,)"
            ),
            (
                "huge.h5",
                "del f['valid/images']; f.create_dataset('valid/images', shape=(10**9, 784), dtype=np.uint8, chunks=(1000, 784))",
                ": /valid/images declares 1000000000 images; at most 1048576 are read (and no more than half the memory)"
            ),
            // An array where one string belongs: HDF5 writes every element into the reader's
            // buffer for one (found by `make fuzz` as a heap overflow).
            (
                "fixedarray.h5", "f['train'].attrs.create('sha256', data=np.array([b'0' * 64] * 100, dtype='S64'))",
                ": /train: attribute sha256 of \(folder.dir)/fixedarray.h5:/train is not a single string; prepare it again: sbnlab data --output \(folder.dir)/fixedarray.h5"
            ),
            (
                "vlenarray.h5", "f['test'].attrs.create('sha256', data=['a', 'b', 'c'], dtype=h5py.string_dtype())",
                ": /test: attribute sha256 of \(folder.dir)/vlenarray.h5:/test is not a single string; prepare it again: sbnlab data --output \(folder.dir)/vlenarray.h5"
            ),
            (
                "declared.h5",
                "del f['valid/images']; f.create_dataset('valid/images', shape=(2**42, 784), dtype=np.uint8, chunks=(1000, 784))",
                ":/valid/images: declares shape [4398046511104, 784], more than 1099511627776 elements"
            ),
        ] {
            let path = folder.dir + "/" + name
            try FileManager.default.copyItem(atPath: TestPaths.preparedDataset, toPath: path)
            let r = try runCommand(
                "/usr/bin/env", ["python3", "-c", "import h5py, numpy as np\nf = h5py.File('\(path)', 'a')\n\(edit)\nf.close()"])
            #expect(r.status == 0, "\(r.stderr)")
            expectOneLine(try sbnlab(["run", yaml, "--set", "data.path=\(path)", "--out", "never"]), "\(path)\(expected)")
            #expect(!FileManager.default.fileExists(atPath: folder.dir + "/never"))
        }
    }

    /// `gradstats --checkpoint` on NaN parameters printed a NaN table with exit 0; `list --folder`
    /// with one broken definition aborted the whole listing.
    @Test func nanCheckpointAndBrokenListing() throws {
        let (_, good) = try finishedRun()
        let bad = try damaged(good, "nanbest", "w = f['checkpoint/best/W2']; a = w[:]; a[1, 1] = np.nan; w[...] = a")
        expectOneLine(
            try sbnlab(["gradstats", "--checkpoint", bad, "--estimates", "10"]),
            "\(bad): checkpoint/best/W2 holds a NaN or infinity")
        let defs = folder.dir + "/defs"
        try FileManager.default.createDirectory(atPath: defs, withIntermediateDirectories: true)
        try "name: [\n".write(toFile: defs + "/broken.yaml", atomically: true, encoding: .utf8)
        try "description: fine\n".write(toFile: defs + "/fine.yaml", atomically: true, encoding: .utf8)
        let r = try sbnlab(["list", "--folder", defs])
        #expect(
            r.status == 0 && r.stdout.contains("broken                 (unreadable: \(defs)/broken.yaml: not valid YAML")
                && r.stdout.contains("fine                   fine"), "\(r.stdout) \(r.stderr)")
    }

    /// A lock file that is a symbolic link is refused; its target is not truncated.
    @Test func symlinkedLockIsRefused() throws {
        let (yaml, _) = try finishedRun()
        let target = folder.dir + "/precious.txt"
        try "keep me".write(toFile: target, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: folder.dir + "/linked", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: folder.dir + "/linked/run.h5.lock", withDestinationPath: target)
        expectOneLine(
            try sbnlab(["run", yaml, "--out", "linked"]),
            "linked/run.h5.lock: cannot open the run's lock file (it is a symbolic link)")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep me")
    }
}
