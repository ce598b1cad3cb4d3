import Foundation
import SBNEvents
import SBNSweeps
import SBNTestSupport
import SBNTraining
import Testing
import SBNStorage

/// python3 with the `tensorboard` package (`make setup` installs it from analysis/requirements.txt).
let hasTensorBoard: Bool = {
    guard let r = try? runCommand("/usr/bin/env", ["python3", "-c", "import tensorboard"]) else { return false }
    return r.status == 0
}()

/// The events TensorBoard itself reads from a run folder, as JSON: every scalar tag's
/// (step, value) list after its EventAccumulator (restart purge included), each event file's
/// record count, and the tensor tags (text and hparams).
let readEventsScript = """
    import json, sys, glob
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.backend.event_processing import event_file_loader
    d = sys.argv[1]
    files = {p: sum(1 for _ in event_file_loader.EventFileLoader(p).Load()) for p in sorted(glob.glob(d + '/events.out.tfevents.*'))}
    ea = EventAccumulator(d); ea.Reload()
    tags = ea.Tags()
    print(json.dumps({'files': files, 'tensors': sorted(tags['tensors']),
                      'scalars': {t: [[e.step, e.value] for e in ea.Scalars(t)] for t in tags['scalars']}}))
    """

/// TensorBoard event files (issue 19): our bytes against TensorBoard's, and our files read back by
/// TensorBoard itself, against the run's own results file.
@Suite(.serialized) struct TensorBoardTests {
    let folder = ExperimentFolder()

    func run(_ args: [String]) throws -> CommandResult {
        try runCommand(try #require(TestPaths.sbnlabBinary, "sbnlab binary not built"), args, in: folder.dir)
    }

    static func bytes(_ hex: String) -> [UInt8] {
        stride(from: 0, to: hex.count, by: 2).map { i in
            UInt8(hex[hex.index(hex.startIndex, offsetBy: i)..<hex.index(hex.startIndex, offsetBy: i + 2)], radix: 16)!
        }
    }

    /// The published check value of CRC-32C (RFC 3720 B.4), and that it is not zlib's CRC-32.
    @Test func crc32cCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum(Array("123456789".utf8)) != 0xCBF4_3926)
        #expect(CRC32C.checksum([]) == 0)
    }

    /// Golden bytes from TensorBoard 2.21's own classes (tensorboard.compat.proto.event_pb2 and
    /// summary.writer.record_writer.RecordWriter) for Event(wall_time=1700000000.5, step=42,
    /// summary: train/loss = 63.25) and for the file-version event; and the framed record our
    /// writer puts in a file.
    @Test func goldenBytes() throws {
        let scalar = "0900002040fc54d941102a2a130a110a0a747261696e2f6c6f73731500007d42"
        var b = ProtoBuffer()
        EventEncoding.scalar(tag: Array("train/loss".utf8), value: 63.25, step: 42, wallTime: 1_700_000_000.5, into: &b)
        #expect(b.bytes == Self.bytes(scalar))
        EventEncoding.fileVersion(wallTime: 1_700_000_000.5, into: &b)
        #expect(b.bytes == Self.bytes("0900002040fc54d9411a0d627261696e2e4576656e743a32"))

        let dir = folder.dir + "/golden"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let writer = try EventFileWriter(directory: dir, wallTime: 1_700_000_000.5) { Issue.record("\($0)") }
        writer.write(Self.bytes(scalar))
        writer.close()
        #expect(writer.path.hasPrefix(dir + "/events.out.tfevents.1700000000."))
        let file = [UInt8](try Data(contentsOf: URL(fileURLWithPath: writer.path)))
        #expect(file == Self.bytes("200000000000000029eda950" + scalar + "aa8e420a"))
        // Nested lengths of one, two and three bytes.
        for size in [5, 200, 20_000] {
            b.removeAll()
            b.message(1) { $0.bytes(2, [UInt8](repeating: 7, count: size)) }
            let inner = 1 + (size < 128 ? 1 : size < 16384 ? 2 : 3) + size
            let header =
                [UInt8(0x0A)]
                + (inner < 128
                    ? [UInt8(inner)]
                    : inner < 16384
                        ? [UInt8(inner & 0x7F | 0x80), UInt8(inner >> 7)]
                        : [UInt8(inner & 0x7F | 0x80), UInt8((inner >> 7) & 0x7F | 0x80), UInt8(inner >> 14)])
            #expect(Array(b.bytes.prefix(header.count)) == header && b.bytes.count == header.count + inner, "size \(size)")
        }
    }

    func tinyRunYAML(epochs: Int = 3, name: String = "tb") -> String {
        """
        name: \(name)
        data: {path: \(TestPaths.preparedDataset), train_limit: 1000, valid_limit: 100, test_limit: 100}
        estimator: gs
        epochs: \(epochs)
        log_every: 2
        samples: {train: 1, valid: 5, test: 20}
        seed: 5
        """
    }

    struct ReadBack: Decodable {
        let files: [String: Int]
        let tensors: [String]
        let scalars: [String: [[Double]]]
    }

    func readBack(_ dir: String) throws -> ReadBack {
        let r = try runCommand("/usr/bin/env", ["python3", "-c", readEventsScript, dir])
        try #require(r.status == 0, "\(r.stderr)")
        return try JSONDecoder().decode(ReadBack.self, from: Data(r.stdout.utf8))
    }

    /// TensorBoard reads a finished run's file with every series of /metrics at the same steps and
    /// with the same values (as float32), the configuration as text and the hparams session.
    @Test(.enabled(if: hasTensorBoard, "python3 with tensorboard is not available (make setup installs it)"))
    func readBackMatchesTheResultsFile() throws {
        let path = try folder.write("tb.yaml", tinyRunYAML())
        let out = folder.dir + "/finished"
        let r = try run(["run", path, "--out", out])
        #expect(r.status == 0 && r.stderr.isEmpty, "\(r.stderr)")
        let events = try readBack(out)
        let record = try ResultsFile.readRecord(out + "/run.h5")
        #expect(events.files.count == 1)
        #expect(events.tensors == ["_hparams_/session_end_info", "_hparams_/session_start_info", "config"])
        #expect(
            Set(events.scalars.keys) == [
                "train/loss", "train/temperature", "train/learning_rate", "train/examples_per_second",
                "valid/nll", "test/nll",
            ])
        func expectSeries(_ tag: String, _ rows: [(step: Int64, value: Double)]) {
            let got = events.scalars[tag] ?? []
            #expect(got.map { Int64($0[0]) } == rows.map(\.step), "\(tag) steps")
            #expect(got.map { Float($0[1]) } == rows.map { Float($0.value) }, "\(tag) values")
        }
        expectSeries("train/loss", record.train.map { ($0.step, $0.loss) })
        expectSeries("train/temperature", record.train.map { ($0.step, $0.tau) })
        expectSeries("train/learning_rate", record.train.map { ($0.step, $0.lr) })
        expectSeries("valid/nll", record.valid.map { ($0.step, $0.nll) })
        expectSeries("test/nll", [(Int64(record.steps), try #require(record.test).nll)])
        #expect(record.train.count == 15 && events.scalars["train/examples_per_second"]?.count == 15)
    }

    /// A run killed (SIGKILL) after its checkpoint, once it has written events past it, leaves a
    /// file TensorBoard reads up to its last record; the resumed run's SessionLog START makes
    /// TensorBoard drop those steps, so the curve has every step of the results file once.
    @Test(.enabled(if: hasTensorBoard, "python3 with tensorboard is not available (make setup installs it)"))
    func killedAndResumedRunReadsBackWithoutDuplicates() throws {
        let yaml = longRunYAML().replacingOccurrences(of: "epochs: 40", with: "epochs: 12\nlog_every: 1")
        let path = try folder.write("killed.yaml", yaml)
        let out = folder.dir + "/killed"
        let first = try Background(["run", path, "--out", out], in: folder.dir)
        #expect(first.waitFor("epoch   3/12"))
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: out).first { $0.contains("tfevents") })
        func size() -> Int { ((try? FileManager.default.attributesOfItem(atPath: out + "/" + file))?[.size] as? Int) ?? 0 }
        // Rows are written as they are trained and the checkpoint follows the epoch's validation,
        // so a kill timed by the file's growth alone can land after the next checkpoint. The
        // process is stopped (SIGSTOP) when the file grows and killed only once its events are
        // seen past the checkpoint on disk (written atomically, so it can be read meanwhile).
        let pid = first.process.processIdentifier
        var killed: ReadBack?
        var checkpoint: RunRecord?
        for _ in 0..<10 where killed == nil {
            let before = size()
            #expect(waitUntil(30) { size() > before })
            kill(pid, SIGSTOP)
            let events = try readBack(out), saved = try ResultsFile.readRecord(out + "/run.h5")
            let written = try #require(events.scalars["train/loss"]).map { Int64($0[0]) }
            if written.last! > Int64(saved.steps) {
                (killed, checkpoint) = (events, saved)
                kill(pid, SIGKILL)
            } else {
                kill(pid, SIGCONT)
            }
        }
        _ = first.finish()
        let atKill = try #require(checkpoint, "the killed session wrote past its checkpoint")
        #expect(atKill.status == .running)
        #expect(try readBack(out).scalars["train/loss"]?.count == killed?.scalars["train/loss"]?.count)

        let resumed = try run(["run", path, "--out", out, "--resume"])
        #expect(resumed.status == 0 && resumed.stdout.contains("resuming"), "\(resumed.stderr)")
        let events = try readBack(out)
        let record = try ResultsFile.readRecord(out + "/run.h5")
        #expect(events.files.count == 2)
        let steps = try #require(events.scalars["train/loss"]).map { Int64($0[0]) }
        #expect(steps == record.train.map(\.step), "no duplicated or missing step")
        #expect(try #require(events.scalars["train/loss"]).map { Float($0[1]) } == record.train.map { Float($0.loss) })
        #expect(try #require(events.scalars["valid/nll"]).map { Int64($0[0]) } == record.valid.map(\.step))
    }

    /// Events that cannot be written (here a file-size limit of 320 kB, which the results file
    /// stays under and the event file of 2000 logged steps does not; SIGXFSZ ignored, so the
    /// write fails with a short write, as on a full disk) cost one warning line: the run finishes,
    /// its results file is complete, and TensorBoard reads the events up to the last whole record.
    @Test(.enabled(if: hasTensorBoard, "python3 with tensorboard is not available (make setup installs it)"))
    func eventsThatCannotBeWrittenDoNotStopTheRun() throws {
        let yaml = """
            name: limited
            data: {path: \(TestPaths.preparedDataset), train_limit: 2000, valid_limit: 100, test_limit: 100}
            layers: [392, 1, 392]
            estimator: gs
            epochs: 100
            log_every: 1
            samples: {train: 1, valid: 5, test: 20}
            """
        let path = try folder.write("limited.yaml", yaml)
        let out = folder.dir + "/limited"
        let bin = try #require(TestPaths.sbnlabBinary)
        let r = try runCommand(
            "/bin/bash", ["-c", "trap '' XFSZ; ulimit -f 320; exec \"$0\" run \"$1\" --out \"$2\"", bin, path, out])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stderr.split(separator: "\n")
        #expect(
            lines.count == 1 && lines[0].hasPrefix("warning: \(out)/events.out.tfevents.")
                && lines[0].hasSuffix(
                    "cannot write TensorBoard events (short write: the disk is full or the file at its size limit); the run goes on without them"
                ),
            "\(r.stderr)")
        let record = try ResultsFile.readRecord(out + "/run.h5")
        #expect(record.status == .finished && record.train.count == 2000)
        let steps = try #require(try readBack(out).scalars["train/loss"]).map { Int64($0[0]) }
        #expect(steps.count > 100 && steps.count < 2000 && steps == Array(record.train.map(\.step).prefix(steps.count)))
    }

    /// `logging: {tensorboard: false}` writes no event file.
    @Test func switchedOff() throws {
        let path = try folder.write("off.yaml", tinyRunYAML(epochs: 1) + "\nlogging: {tensorboard: false}\n")
        let out = folder.dir + "/off"
        #expect(try run(["run", path, "--out", out]).status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.contains("tfevents") }.isEmpty)
    }

    /// A sweep folder served by a real `tensorboard`: its scalars API lists every point as a run
    /// with its tags, and the HParams API lists the swept seed with both values.
    @Test(.enabled(if: hasTensorBoard, "python3 with tensorboard is not available (make setup installs it)"))
    func sweepOpensAsOneRunPerPoint() throws {
        let path = try folder.write("sweep.yaml", tinyRunYAML(epochs: 1, name: "tbsweep") + "\nsweep: {seed: [1, 2]}\n")
        let out = folder.dir + "/sweep"
        #expect(try run(["sweep", path, "--out", out]).status == 0)
        let port = 16000 + Int(getpid() % 1000)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["tensorboard", "--logdir", out, "--host", "127.0.0.1", "--port", "\(port)"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try HDF5File.startChild(server)
        // SIGKILL: the server ignores SIGTERM and SIGINT when started from the test process (it
        // inherits a signal mask), and its data-server child exits when its stdin closes.
        defer {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
            #expect(
                waitUntil(20) { !Self.processes(mentioning: out).contains { $0.contains("tensorboard") } },
                "a TensorBoard process outlived the test")
        }
        func get(_ route: String, body: String? = nil) -> String? {
            let r = try? runCommand(
                "/usr/bin/env",
                ["curl", "-sf", "--max-time", "10"]
                    + (body.map { ["-X", "POST", "-H", "Content-Type: application/json", "-d", $0] } ?? [])
                    + ["http://127.0.0.1:\(port)\(route)"])
            return r?.status == 0 ? r?.stdout : nil
        }
        var runs: [String: [String: AnyDecodable]] = [:]
        #expect(
            waitUntil(60) {
                guard let text = get("/data/plugin/scalars/tags"),
                    let decoded = try? JSONDecoder().decode([String: [String: AnyDecodable]].self, from: Data(text.utf8))
                else { return false }
                runs = decoded
                return runs.count == 2 && runs.values.allSatisfy { $0["valid/nll"] != nil }
            })
        #expect(runs.keys.sorted() == ["seed-1", "seed-2"])
        #expect(
            runs["seed-1"].map { Set($0.keys) } == [
                "train/loss", "train/temperature", "train/learning_rate",
                "train/examples_per_second", "valid/nll", "test/nll",
            ])
        let experiment = get("/data/plugin/hparams/experiment", body: #"{"experimentName": ""}"#) ?? ""
        #expect(
            experiment.contains("\"name\": \"seed\"") && experiment.contains("1.0") && experiment.contains("2.0"), "\(experiment)"
        )
        try screenshot(port: port)
    }

    /// Headless Chromium renders the scalars page: a PNG of the requested size that is not a
    /// blank page (a blank 1600 × 1000 page compresses to a few kB; the rendered charts to > 40 kB).
    /// docs/figures/tensorboard-*.png come from scripts/tensorboard-screenshots.sh the same way.
    func screenshot(port: Int) throws {
        guard
            let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: {
                FileManager.default.isExecutableFile(atPath: $0)
            })
        else {
            Issue.record("no chromium: .ci/run and make setup install Debian's chromium")
            return
        }
        let png = folder.dir + "/scalars.png"
        let r = try runCommand(
            chromium,
            [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1600,1000",
                "--virtual-time-budget=20000", "--screenshot=\(png)",
                "http://127.0.0.1:\(port)/?darkMode=false#scalars&tagFilter=valid",
            ])
        #expect(r.status == 0, "\(r.stderr)")
        let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: png)))
        #expect(data.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        let width = data[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = data[20..<24].reduce(0) { $0 << 8 | Int($1) }
        #expect(width == 1600 && height == 1000)
        #expect(data.count > 40_000, "a blank page? \(data.count) bytes")
    }
}

extension TensorBoardTests {
    /// Command lines of the processes whose command line mentions `text`.
    static func processes(mentioning text: String) -> [String] {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.filter { Int($0) != nil } ?? []
        return pids.compactMap { pid in
            guard let raw = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
            let line = String(decoding: raw.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return line.contains(text) ? line : nil
        }
    }
}

/// Any JSON value (the tags API's per-tag objects are not needed here).
struct AnyDecodable: Decodable {
    init(from decoder: Decoder) throws {}
}
