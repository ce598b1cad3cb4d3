import Foundation
import SBNStorage
import SBNTestSupport
import SBNTraining
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
        expectOneLineError(
            try run(["run", path, "--set", "temperature.tau=-0.5"]), "temperature.tau: expected a number > 0, got -0.5")
    }

    @Test func missingDataFile() throws {
        let path = try folder.write("m.yaml", smallRunYAML(estimator: "gs") + "\n")
        expectOneLineError(
            try run(["run", path, "--set", "data.path=nowhere/missing.h5"]), "data.path: nowhere/missing.h5 does not exist")
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
    @Test(
        .enabled(
            if: ["OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"].allSatisfy {
                ProcessInfo.processInfo.environment[$0] == nil
            }, "an OpenBLAS thread variable is set in the environment"))
    func blasDefaultsToAllCores() throws {
        let r = try run(["list", "--folder", TestPaths.packageRoot + "/experiments"])
        #expect(r.status == 0, "\(r.stderr)")
        let cores = ProcessInfo.processInfo.activeProcessorCount
        #expect(r.stdout.contains("OpenBLAS: \(cores) threads by default on \(cores) cores"), "\(r.stdout)")
        #expect(r.stdout.contains("sbn-gs ") && r.stdout.contains("reinforce "))
    }

    /// Threads default to the cores of the process's affinity mask, not the machine's: under
    /// `taskset -c 0` a run, `list` and a sweep's points use one thread (two sweeps side by side on
    /// two cores then do not run two threads each on one core).
    @Test(.enabled(if: ProcessInfo.processInfo.activeProcessorCount >= 2, "needs 2 cores"))
    func threadsFollowTheAffinityMask() throws {
        let bin = try #require(TestPaths.sbnlabBinary, "sbnlab binary not built")
        let list = try runCommand(
            "/usr/bin/env", ["taskset", "-c", "0", bin, "list", "--folder", TestPaths.packageRoot + "/experiments"],
            in: folder.dir)
        #expect(list.status == 0 && list.stdout.contains("threads by default on 1 cores"), "\(list.stdout)\(list.stderr)")
        let yaml = try folder.write("s.yaml", smallRunYAML(estimator: "gs") + "\nsweep: {seed: [1, 2]}\n")
        let one = try runCommand(
            "/usr/bin/env", ["taskset", "-c", "0", bin, "sweep", yaml, "--emit", "jobs", "--out", "one"], in: folder.dir)
        #expect(one.status == 0, "\(one.stderr)")
        let commands = try String(contentsOfFile: folder.dir + "/one/jobs.txt", encoding: .utf8)
        #expect(commands.split(separator: "\n").allSatisfy { $0.hasSuffix("--threads 1") }, "\(commands)")
        let all = try run(["sweep", yaml, "--emit", "jobs", "--out", "all"])
        #expect(all.status == 0, "\(all.stderr)")
        let cores = ProcessInfo.processInfo.activeProcessorCount
        #expect(try String(contentsOfFile: folder.dir + "/all/jobs.txt", encoding: .utf8).contains("--threads \(cores)\n"))
    }

    /// Every shipped experiment is listed by its whole name, the one `make exp-<name>` takes.
    @Test func listShowsEveryExperimentWhole() throws {
        let folder = TestPaths.packageRoot + "/experiments"
        let r = try run(["list", "--folder", folder])
        #expect(r.status == 0, "\(r.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".yaml") }.map {
            String($0.dropLast(5))
        }
        let listed = Set(r.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) })
        #expect(names.count > 20 && names.allSatisfy(listed.contains), "\(names.filter { !listed.contains($0) })")
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

    /// `show` prints a finished run's status, numbers and curve; `impute` writes a PNG that
    /// decodes (Python's zlib, independently of our writer) to the size it reports, with the true
    /// digits' pixels in their first column.
    @Test func showAndImputeAFinishedRun() throws {
        let path = try folder.write("si.yaml", smallRunYAML(estimator: "gs"))
        let out = folder.dir + "/si"
        let r = try run(["run", path, "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        let show = try run(["show", out + "/run.h5"])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("small-gs — status finished"))
        #expect(show.stdout.contains("epochs 2/2, steps 16"))
        #expect(show.stdout.contains("test NLL") && show.stdout.contains("paper 58.5"))
        let png = folder.dir + "/imputations.png"
        let imp = try run([
            "impute", out + "/run.h5", "--out", png, "--images", "3", "--samples", "2",
            "--data", TestPaths.preparedDataset,
        ])
        #expect(imp.status == 0, "\(imp.stderr)")
        let size = try #require(imp.stdout.firstMatch(of: /\((\d+)x(\d+):/), "\(imp.stdout)")
        let fields = try decodePNG(png)
        #expect(fields.count == 3 && fields[0] == Int(size.1) && fields[1] == Int(size.2), "\(fields)")
        #expect(fields.count == 3 && fields[2] >= 3, "background, ink and paper colours at least")
    }

    /// `figure gumbel-softmax` writes Figure 1 as a PNG that decodes to the size it reports.
    @Test func gumbelSoftmaxFigure() throws {
        let png = folder.dir + "/gs.png"
        let r = try run(["figure", "gumbel-softmax", "--out", png, "--draws", "2000"])
        #expect(r.status == 0, "\(r.stderr)")
        let size = try #require(r.stdout.firstMatch(of: /\((\d+)x(\d+)\)/), "\(r.stdout)")
        let fields = try decodePNG(png)
        #expect(fields.count == 3 && fields[0] == Int(size.1) && fields[1] == Int(size.2), "\(r.stdout)")
        #expect(
            try run(["figure", "gumbel-softmax", "--draws", "0"]).stderr.contains("--draws: expected a whole number ≥ 1, got 0"))
    }

    /// Decodes a PNG with Python's zlib (independently of our writer), checking the signature,
    /// CRCs, 8-bit RGB and unfiltered scanlines; returns [width, height, distinct byte values].
    func decodePNG(_ png: String) throws -> [Int] {
        let decode = """
            import struct, sys, zlib
            data = open(sys.argv[1], 'rb').read()
            assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
            pos, idat = 8, b''
            while pos < len(data):
                n, kind = struct.unpack('>I4s', data[pos:pos + 8])
                body = data[pos + 8:pos + 8 + n]
                assert struct.unpack('>I', data[pos + 8 + n:pos + 12 + n])[0] == zlib.crc32(kind + body)
                if kind == b'IHDR': w, h = struct.unpack('>II', body[:8]); assert body[8:10] == bytes([8, 2])
                if kind == b'IDAT': idat += body
                pos += 12 + n
            raw = zlib.decompress(idat)
            assert len(raw) == h * (1 + 3 * w), (len(raw), w, h)
            assert all(raw[y * (1 + 3 * w)] == 0 for y in range(h))
            pixels = set(raw[y * (1 + 3 * w) + 1 + x] for y in range(h) for x in range(3 * w))
            print(w, h, len(pixels))
            """
        let py = try runCommand("/usr/bin/env", ["python3", "-c", decode, png])
        #expect(py.status == 0, "\(py.stderr)")
        return py.stdout.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}

/// `sbnlab gradstats` on the tiny SBNs: every applicable estimator gets a row; the unbiased ones
/// stay within a few noise floors of the exact gradient and the relaxation does not; the HDF5
/// file holds the same table.
@Suite struct GradStatsCommandTests {
    let folder = ExperimentFolder()

    /// On a trained run's checkpoint against an estimated reference, whose standard error is
    /// printed; reinforce-loo at m = 2 is measured against the single-sample reference.
    @Test func checkpointMode() throws {
        let bin = try #require(TestPaths.sbnlabBinary, "sbnlab binary not built")
        let run = folder.dir + "/small/run.h5"
        let config = try folder.write("small.yaml", smallRunYAML(estimator: "gs"))
        #expect(try runCommand(bin, ["run", config, "--out", folder.dir + "/small"]).status == 0)
        let r = try runCommand(
            bin,
            [
                "gradstats", "--checkpoint", run, "--images", "10", "--estimates", "50",
                "--reference-estimates", "200", "--estimators", "st,disarm", "--out", folder.dir + "/c.h5",
            ])
        #expect(
            r.status == 0 && r.stdout.contains("(reference: disarm, 200 estimates, relative standard error"),
            "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("| st |") && r.stdout.contains("| disarm |"))
        let f = try HDF5File.open(folder.dir + "/c.h5")
        #expect(try f.stringAttribute("reference") == "disarm, 200 estimates")
        #expect(try f.attribute("reference_relative_error", as: Double.self) > 0)
        let two = try runCommand(
            bin,
            [
                "gradstats", "--checkpoint", run, "--images", "10", "--samples", "2", "--reference", "vimco",
                "--estimates", "50", "--reference-estimates", "200", "--estimators", "vimco,reinforce-loo",
            ])
        #expect(
            two.status == 0 && two.stdout.contains("| vimco |") && two.stdout.contains("| reinforce-loo |"),
            "\(two.stdout)\(two.stderr)")
        #expect(!r.stdout.contains("trained state"), "gs was not measured, and has no state")
        // A VAE checkpoint: whole images, an MLP map per layer (it once trapped in ImageHalves.fill).
        let vae = try folder.write(
            "vae.yaml",
            smallRunYAML(
                estimator: "gs",
                extra: "model: {family: vae, encoder_hidden: [32], decoder_hidden: [32]}\nlayers: [784, 20, 784]"))
        #expect(try runCommand(bin, ["run", vae, "--out", folder.dir + "/vae"]).status == 0)
        let v = try runCommand(
            bin,
            [
                "gradstats", "--checkpoint", folder.dir + "/vae/run.h5", "--images", "10", "--estimates", "50",
                "--reference-estimates", "200", "--estimators", "st,disarm",
            ])
        #expect(
            v.status == 0 && v.stdout.contains("784-[32]-bernoulli(20)-[32]-784") && v.stdout.contains("| disarm |"),
            "\(v.stdout)\(v.stderr)")
        // The run's own estimator once more with its checkpoint's baselines and moments, labelled.
        let sf = try folder.write("sf.yaml", smallRunYAML(estimator: "reinforce"))
        #expect(try runCommand(bin, ["run", sf, "--out", folder.dir + "/sf"]).status == 0)
        let trained = try runCommand(
            bin,
            [
                "gradstats", "--checkpoint", folder.dir + "/sf/run.h5", "--images", "10", "--estimates", "50",
                "--reference-estimates", "200", "--estimators", "reinforce",
            ])
        #expect(
            trained.status == 0 && trained.stdout.contains("| reinforce |")
                && trained.stdout.contains("| reinforce (trained state) |"),
            "\(trained.stdout)\(trained.stderr)")
    }

    @Test func tableAndFile() throws {
        let bin = try #require(TestPaths.sbnlabBinary, "sbnlab binary not built")
        let out = folder.dir + "/stats.h5"
        let r = try runCommand(bin, ["gradstats", "--estimates", "20000", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Left out: vimco: vimco needs m ≥ 2"))
        let f = try HDF5File.open(out)
        let names = try f.dataset("estimator").readStrings()
        #expect(
            names == [
                "gs", "st-gs", "st", "st-annealed", "st-annealed-chung", "reinforce", "darn", "taylor-half", "darn-scalar",
                "muprop", "arm", "disarm",
                "rebar",
            ])
        let bias: [Double] = try f.dataset("relative_bias").read(), floor: [Double] = try f.dataset("noise_floor").read()
        for name in ["muprop", "arm", "disarm", "rebar"] {
            let i = names.firstIndex(of: name)!
            #expect(bias[i] < 4 * floor[i], "\(name): relative bias \(bias[i]), noise floor \(floor[i])")
        }
        let gs = names.firstIndex(of: "gs")!
        #expect(bias[gs] > 10 * floor[gs], "the relaxation is biased for the discrete objective")
        #expect(try f.dataset("variance_per_layer").shape == [13, 3])
        let variant = try runCommand(
            bin,
            [
                "gradstats", "--estimators", "muprop", "--variant", "muprop{variance_normalization: false}",
                "--estimates", "2000",
            ])
        #expect(variant.status == 0 && variant.stdout.contains("| muprop{variance_normalization:false} |"), "\(variant.stderr)")
        let bad = try runCommand(bin, ["gradstats", "--variant", "muprop{vn: false}"])
        #expect(
            bad.status == 1
                && bad.stderr.hasPrefix("sbnlab: error: --variant muprop{vn: false}: estimator_options.vn: unknown option"),
            "\(bad.stderr)")
        let two = try runCommand(
            bin,
            [
                "gradstats", "--net", "categorical", "--samples", "2", "--estimates", "2000",
                "--estimators", "vimco,arm",
            ])
        #expect(
            two.status == 0 && two.stdout.contains("| vimco |") && two.stdout.contains("Left out: arm: arm does not support"),
            "\(two.stdout)\(two.stderr)")
    }
}

/// `sbnlab eval`: a run's best parameters on any split. On the test split with the run's own
/// samples it is the run's test evaluation, to the bit, at any thread count; on the training
/// split it is another number; it writes nothing, and bad input is one line.
@Suite struct EvalCommandTests {
    let folder = ExperimentFolder()

    func run(_ args: [String]) throws -> CommandResult {
        try runCommand(try #require(TestPaths.sbnlabBinary, "sbnlab binary not built"), args, in: folder.dir)
    }

    @Test func testSplitIsTheRunsOwnTestEvaluation() throws {
        let yaml = try folder.write(
            "vae.yaml",
            smallRunYAML(
                estimator: "gs", extra: "model: {family: vae, encoder_hidden: [32], decoder_hidden: [32]}\nlayers: [784, 20, 784]"
            ))
        #expect(try run(["run", yaml, "--out", "vae"]).status == 0)
        let file = folder.dir + "/vae/run.h5"
        let test = try #require(try ResultsFile.readRecord(file).test)
        for threads in [1, 2] {
            let e = try CheckpointEvaluation.evaluate(
                run: file, split: .test, samples: nil, limit: nil, dataPath: nil, threads: threads
            )
            .evaluation
            #expect(e.perImage.map(\.bitPattern) == test.perImage.map(\.bitPattern), "\(threads) threads")
            #expect(e.elbo?.values.map(\.bitPattern) == test.perImageNegELBO?.map(\.bitPattern), "\(threads) threads")
        }
        let before = try FileManager.default.contentsOfDirectory(atPath: folder.dir + "/vae").sorted()
        let printed = try run(["eval", file])
        let expected = String(
            format: "test −ELBO %.3f ± %.3f, −log p(x) ≈ %.3f ± %.3f (test, 40 images, m=7", test.negELBO!, test.negELBOSem!,
            test.nll, test.sem)
        #expect(printed.status == 0 && printed.stdout.hasPrefix(expected), "\(printed.stdout)\(printed.stderr)")
        let train = try run(["eval", file, "--split", "train", "--samples", "3", "--limit", "100", "--threads", "1"])
        #expect(
            train.status == 0 && train.stdout.contains("(train, 100 images, m=3, best epoch"), "\(train.stdout)\(train.stderr)")
        #expect(!train.stdout.hasPrefix(expected))
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: folder.dir + "/vae").sorted() == before, "eval writes nothing")
        // `impute` draws an SBN's bottom halves; on a VAE run it is one line, not a trap.
        let impute = try run(["impute", file, "--out", folder.dir + "/i.png"])
        #expect(
            impute.status == 1 && impute.stderr.hasPrefix("sbnlab: error: \(file): a run of the vae family")
                && impute.stderr.split(separator: "\n").count == 1, "\(impute.stderr)")

        // An SBN run prints its NLL.
        let sbn = try folder.write("sbn.yaml", smallRunYAML(estimator: "st"))
        #expect(try run(["run", sbn, "--out", "sbn"]).status == 0)
        let nll = try #require(try ResultsFile.readRecord(folder.dir + "/sbn/run.h5").test?.nll)
        #expect(try run(["eval", "sbn/run.h5"]).stdout.hasPrefix(String(format: "test NLL %.3f", nll)))

        // Bad input: one line and a non-zero status.
        for (args, status, fragment) in [
            (["eval", "missing.h5"], Int32(1), "missing.h5"),
            (["eval", file, "--split", "training"], 64, "--split"),
            (["eval", file, "--samples", "0"], 64, "--samples"),
            (["eval", file, "--data", yaml], 1, "vae.yaml"),
        ] {
            let r = try run(args)
            #expect(r.status == status && r.stderr.contains(fragment), "\(args): \(r.status) \(r.stderr)")
            if status == 1 { #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)") }
        }
    }
}
