import Foundation
import SBNConfig
import SBNSweeps
import SBNTraining
import SBNModel
import SBNStorage
import SBNTestSupport
import Testing

func tinySweepYAML(epochs: Int = 2, extra: String = "") -> String {
    """
    name: tiny-sweep
    description: sweep test
    data: {path: \(TestPaths.preparedDataset), train_limit: 1000, valid_limit: 50, test_limit: 50}
    batch_size: 50
    epochs: \(epochs)
    samples: {train: 1, valid: 5, test: 10}
    sweep:
      estimator: [gs, st]
      seed: [1, 2]
    \(extra)
    """
}

@Suite struct SweepDefinitionTests {
    let folder = ExperimentFolder()

    func expectError(_ yaml: String, _ expected: String) throws {
        try folder.expectConfigError(yaml, expected) { _ = try SweepDefinition.load($0) }
    }

    @Test func productAndZip() throws {
        let path = try folder.write(
            "p.yaml",
            """
            name: p
            sweep: {estimator: [gs, st-gs], lr: [0.001, 0.0003], seed: [1, 2, 3]}
            zip: {temperature.schedule: [fixed, exponential], temperature.tau: [0.5, 1.0]}
            """)
        let s = try SweepDefinition.load(path)
        #expect(s.points.count == 2 * 2 * 3 * 2)
        #expect(s.axes == ["estimator", "lr", "seed", "temperature.schedule", "temperature.tau"])
        #expect(Set(s.points.map(\.name)).count == s.points.count)
        let last = s.points.last!.config
        #expect(last.estimator == "st-gs" && last.seed == 3 && last.temperature.schedule == "exponential")
        #expect(last.temperature.options.as(ExponentialTemperature.Options.self)?.tau == 1)
        let nested = try folder.write("n.yaml", "name: n\nsweep: {temperature: {tau: [0.5, 1.0]}}\n")
        #expect(try SweepDefinition.load(nested).axes == ["temperature.tau"])
    }

    @Test func shippedSweepsAreValid() throws {
        #expect(try SweepDefinition.load(TestPaths.packageRoot + "/experiments/sweep-estimators.yaml").points.count == 12)
        #expect(try SweepDefinition.load(TestPaths.packageRoot + "/experiments/sweep-temperature.yaml").points.count == 14)
        let table1 = try SweepDefinition.load(TestPaths.packageRoot + "/experiments/table1.yaml")
        #expect(table1.points.count == 54 && table1.points.allSatisfy { $0.config.optimizer == "sgd" })
        #expect(table1.selection == SweepSelection(axes: ["lr"], seeds: [1, 2, 3]))
        #expect(
            Set(table1.points.map(\.config.estimator)) == [
                "reinforce", "darn", "muprop", "st", "st-annealed", "gs", "st-gs", "arm", "disarm",
            ])
        let categorical = try SweepDefinition.load(TestPaths.packageRoot + "/experiments/table1-categorical.yaml")
        #expect(categorical.points.count == 42 && categorical.points.allSatisfy { !$0.config.layers.isBernoulli })
        #expect(Set(table1.points.map(\.config.lr)) == [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3])
        #expect(
            table1.points.filter { $0.config.temperature.schedule == "exponential" }.allSatisfy {
                $0.config.estimator == "st-annealed"
            })
        #expect(try SweepDefinition.load(TestPaths.packageRoot + "/experiments/sweep-categorical.yaml").points.count == 12)
    }

    @Test func badValueNamesItsIndex() throws {
        try expectError(
            "sweep: {temperature.tau: [0.5, 1, fast]}\n", "sweep.temperature.tau[2]: expected a number > 0, got \"fast\"")
    }
    @Test func unknownEstimatorInAxis() throws {
        try expectError(
            "sweep: {estimator: [gs, gumbel]}\n",
            "sweep.estimator[1]: unknown estimator \"gumbel\" (known: gs, st-gs, st, st-annealed, st-annealed-chung, reinforce, darn, taylor-half, darn-scalar, muprop, arm, disarm, vimco, reinforce-loo, rebar, marginal)"
        )
    }
    @Test func unknownScheduleInZip() throws {
        try expectError(
            "sweep: {seed: [1]}\nzip: {temperature.schedule: [fixed, cosine], temperature.tau: [1, 2]}\n",
            "zip.temperature.schedule[1]: unknown schedule \"cosine\" (known: fixed, exponential, slope)")
    }
    /// `select: {axis: [lr, temperature.tau]}` chooses the pair jointly (the paper's §4.2 choice of
    /// the rate with N and r): the extra seeds run at the pair with the best validation value.
    @Test func selectChoosesSeveralAxesJointly() throws {
        let path = try folder.write(
            "j.yaml",
            "name: j\nsweep: {lr: [0.1, 0.01], temperature.tau: [0.5, 1.0], seed: [1]}\n"
                + "select: {axis: [lr, temperature.tau], seeds: [1, 2]}\n")
        let sweep = try SweepDefinition.load(path)
        #expect(sweep.selection?.axes == ["lr", "temperature.tau"])
        func tau(_ p: SweepDefinition.Point) -> Double? { p.config.temperature.options.as(FixedTemperature.Options.self)?.tau }
        // Best: lr 0.1 with τ 1.0, which neither axis alone would pick from the others' means.
        let valid: [String: Double] = ["0.1 | 0.5": 9, "0.1 | 1.0": 1, "0.01 | 0.5": 2, "0.01 | 1.0": 3]
        let extra = sweep.selection!.points(of: sweep.points) { p in
            valid["\(p.value(of: "lr")!) | \(p.value(of: "temperature.tau")!)"]
        }
        #expect(extra.count == 1 && extra[0].config.seed == 2 && extra[0].config.lr == 0.1 && tau(extra[0]) == 1.0)
        try expectError(
            "sweep: {lr: [0.1], seed: [1]}\nselect: {axis: [lr, lr], seeds: [1, 2]}\n", "select.axis: an axis is listed twice")
    }

    /// `exclude:` leaves out the points a rule matches (the VAE sweeps' temperature grid only for
    /// the estimators that use a temperature), and names a bad rule's key.
    @Test func excludeLeavesOutMatchingPoints() throws {
        for (file, latent) in [("table1-vae", "bernoulli"), ("table1-vae-categorical", "categorical")] {
            let sweep = try SweepDefinition.load(TestPaths.packageRoot + "/experiments/\(file).yaml")
            #expect(sweep.points.count == 4 * 3 + 3 * 3 * 2, "\(file)")
            #expect(
                sweep.points.allSatisfy { $0.config.model.family == "vae" && "\($0.config.layers.hidden[0])".hasPrefix(latent) })
            let slow = sweep.points.filter { $0.value(of: "temperature.rate") == "0.00001" }.map(\.config.estimator)
            #expect(Set(slow) == ["gs", "st-gs", "st-annealed"])
            #expect(sweep.selection?.axes == ["lr", "temperature.rate"])
        }
        // Every estimator × both latent kinds × 3 seeds, the Bernoulli-only ones left out for categorical latents.
        let every = try SweepDefinition.load(TestPaths.packageRoot + "/experiments/sweep-vae-estimators.yaml")
        #expect(every.points.count == (12 + 9) * 3)
        #expect(
            every.points.allSatisfy {
                $0.config.samples.train == (["vimco", "reinforce-loo"].contains($0.config.estimator) ? 2 : 1)
            })
        try expectError(
            "sweep: {lr: [0.1, 0.2], seed: [1]}\nexclude: [{tau: [1]}]\n", "exclude[0].tau: not an axis of sweep: or zip:")
        try expectError(
            "sweep: {lr: [0.1, 0.2], seed: [1]}\nexclude: [{lr: [0.3]}]\n", "exclude[0].lr: 0.3 is not one of the axis's values")
    }

    @Test func selectNamesASweepAxis() throws {
        try expectError(
            "sweep: {lr: [0.1], seed: [1]}\nselect: {axis: tau, seeds: [1, 2]}\n",
            "select.axis: tau is not an axis of sweep: or zip: (other than seed)")
        try expectError("sweep: {lr: [0.1]}\nselect: {axis: lr, seeds: [1, 2]}\n", "select: needs seed as a sweep axis")
        try expectError(
            "sweep: {lr: [0.1], seed: [1]}\nselect: {axis: lr, seeds: []}\n",
            "select.seeds: expected a non-empty list of seeds ≥ 0")
        try expectError(
            "sweep: {lr: [0.1], seed: [1]}\nselect: {axis: lr, seeds: [2], by: test}\n",
            "select.by: unknown key (select has axis and seeds)")
    }

    /// The rule: the lowest mean validation NLL over the seeds every value has run, so a value's
    /// extra seeds do not change the choice.
    @Test func selectionChoosesOnCommonSeeds() {
        let rows: [(value: String, seed: String, valid: Double)] = [
            ("0.1", "1", 60), ("0.1", "2", 62), ("0.01", "1", 61), ("0.01", "2", 60.5), ("0.01", "3", 70),
        ]
        #expect(SweepSelection.choose(rows) == "0.01")
        #expect(SweepSelection.choose(rows.filter { $0.seed != "2" }) == "0.1")
        #expect(SweepSelection.choose([]) == nil)
    }

    @Test func unknownAxis() throws { try expectError("sweep: {lrr: [0.1]}\n", "sweep.lrr[0]: unknown key") }
    @Test func emptySweep() throws {
        try expectError("sweep: {}\n", "sweep: expected a mapping of at least one axis to a list of values")
    }
    @Test func emptyAxis() throws { try expectError("sweep: {lr: []}\n", "sweep.lr: expected a non-empty list of values") }
    @Test func scalarAxis() throws { try expectError("sweep: {lr: 0.1}\n", "sweep.lr: expected a non-empty list of values") }
    @Test func zipLengths() throws {
        try expectError(
            "sweep: {seed: [1]}\nzip: {lr: [0.1, 0.2], temperature.tau: [1]}\n",
            "zip: every zip axis needs the same number of values")
    }
    @Test func noSweep() throws {
        try expectError("name: x\n", "sweep: no sweep section (use `sbnlab run` for a single run)")
    }
    @Test func runRefusesASweepFile() throws {
        let path = try folder.write("r.yaml", "sweep: {seed: [1, 2]}\n")
        #expect(throws: ConfigError.self) { _ = try ConfigLoader.load(path) }
    }
}

@Suite(.serialized) struct SweepRunTests {
    let folder = ExperimentFolder()

    func sbnlab() throws -> String { try #require(TestPaths.sbnlabBinary, "sbnlab binary not built") }

    func finalParameters(_ run: String) throws -> [UInt32] {
        try checkpointTensors(run).sorted { $0.key < $1.key }.flatMap { $0.value.map(\.bitPattern) }
    }

    /// SIGKILL a sweep (and its workers) mid-way; running it again completes every point.
    @Test func killedSweepResumes() throws {
        let def = try folder.write("k.yaml", tinySweepYAML(epochs: 12))
        let out = folder.dir + "/killed"
        let bin = try sbnlab()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin)
        p.arguments = ["sweep", def, "--jobs", "2", "--out", out]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try HDF5File.startChild(p)
        // Wait until some point has a checkpoint past epoch 1 but the sweep is not done.
        let deadline = Date().addingTimeInterval(120)
        var midway = false
        while Date() < deadline, p.isRunning, !midway {
            Thread.sleep(forTimeInterval: 0.05)
            let runs = (try? FileManager.default.contentsOfDirectory(atPath: out))?.map { "\(out)/\($0)/run.h5" } ?? []
            midway = runs.contains { path in
                (try? ResultsFile.readRecord(path)).map { $0.epochsDone >= 2 && $0.status == .running } ?? false
            }
        }
        #expect(midway, "the sweep should be caught mid-way")
        _ = try runCommand("/usr/bin/env", ["pkill", "-KILL", "-P", "\(p.processIdentifier)"])
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let statesAfterKill = try FileManager.default.contentsOfDirectory(atPath: out).compactMap {
            SweepRunner.state(ofResults: "\(out)/\($0)/run.h5")
        }
        #expect(statesAfterKill.contains(.running), "some point was interrupted: \(statesAfterKill)")

        let again = try runCommand(bin, ["sweep", def, "--jobs", "2", "--out", out])
        #expect(again.status == 0, "\(again.stdout)\n\(again.stderr)")
        #expect(again.stdout.contains("4/4 done"))
        let summary = try SweepSummary.collect(out)
        #expect(summary.rows.count == 4 && summary.rows.allSatisfy { $0.status == "finished" && $0.epochs == 12 })
        let logs = try FileManager.default.contentsOfDirectory(atPath: out).compactMap {
            try? String(contentsOfFile: "\(out)/\($0)/log.txt", encoding: .utf8)
        }
        #expect(logs.contains { $0.contains("resuming") }, "an interrupted point resumed from its checkpoint")
    }

    /// A sweep run here, the commands of `--emit jobs` run one by one, and `collect` agree.
    @Test func emittedJobsReproduceTheSweep() throws {
        let def = try folder.write("e.yaml", tinySweepYAML())
        let bin = try sbnlab()
        let swept = folder.dir + "/swept", emitted = folder.dir + "/emitted"
        let r = try runCommand(bin, ["sweep", def, "--jobs", "2", "--out", swept])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("| estimator | runs | best valid NLL | test NLL (mean ± sd over seeds) | paper |"))
        #expect(FileManager.default.fileExists(atPath: swept + "/summary.h5"))

        let slurm = try runCommand(bin, ["sweep", def, "--out", emitted, "--emit", "slurm", "--executable", bin])
        #expect(slurm.status == 0, "\(slurm.stderr)")
        let script = try String(contentsOfFile: emitted + "/sweep.slurm", encoding: .utf8)
        #expect(script.hasPrefix("#!/bin/bash"))
        #expect(script.contains("#SBATCH --array=0-3"))
        #expect(script.contains("sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" \(emitted)/jobs.txt"))
        let jobs = try String(contentsOfFile: emitted + "/jobs.txt", encoding: .utf8).split(separator: "\n")
        #expect(jobs.count == 4)
        #expect(
            jobs[0].hasPrefix(
                "\(bin) run \(emitted)/estimator-gs_seed-1/experiment.json --out \(emitted)/estimator-gs_seed-1 --resume"))
        for line in jobs {
            let run = try runCommand("/bin/sh", ["-c", String(line)])
            #expect(run.status == 0, "\(line): \(run.stderr)")
        }
        let a = try SweepSummary.collect(swept), b = try SweepSummary.collect(emitted)
        #expect(a.axes == ["estimator", "seed"] && b.axes == a.axes)
        #expect(a.rows.map(\.point) == b.rows.map(\.point))
        #expect(a.rows.map(\.testNLL) == b.rows.map(\.testNLL))
        for row in a.rows {
            #expect(try finalParameters("\(swept)/\(row.path)") == finalParameters("\(emitted)/\(row.path)"), "\(row.point)")
        }
        // collect rebuilds the summary file from the run files.
        let c = try runCommand(bin, ["collect", emitted])
        #expect(c.status == 0 && c.stdout.contains("4 runs"))
        let f = try HDF5File.open(emitted + "/summary.h5")
        #expect(try f.dataset("point").readStrings() == a.rows.map(\.point))
        #expect(try f.dataset("params/seed").read(as: Double.self) == [1, 2, 1, 2])
        #expect(try f.dataset("params/estimator").readStrings() == ["gs", "gs", "st", "st"])
        // --from-summary rebuilds it from the summary alone (run files gone): the same rows, table and chosen column.
        let table = c.stdout, chosen: [Int64] = try f.dataset("chosen").read()
        // A run made before a field existed (its stored configuration lacks `logging`) is summarised
        // with that field's default: no spurious axis, the same table.
        do {  // closed before collect opens it (HDF5 locks a file open for writing)
            let old = try HDF5File.open("\(emitted)/\(a.rows[1].path)", mode: .readWrite)
            let stored = try old.stringAttribute("config")
            try old.setAttribute("config", stored.replacingOccurrences(of: #""logging":{"tensorboard":true},"#, with: ""))
            #expect(try old.stringAttribute("config") != stored)
        }
        let mixed = try runCommand(bin, ["collect", emitted])
        #expect(mixed.status == 0 && mixed.stdout == table, "\(mixed.stdout)\(mixed.stderr)")
        // --keep-missing keeps the rows whose run files are gone (here one of four).
        try FileManager.default.removeItem(atPath: "\(emitted)/\(a.rows[0].path)")
        let kept = try runCommand(bin, ["collect", emitted, "--keep-missing"])
        #expect(kept.status == 0 && kept.stdout == table, "\(kept.stdout)\(kept.stderr)")
        // With both gs runs gone the remaining runs agree on the estimator; it stays an axis, and the
        // rows read back from the summary (numbers stored as doubles) group with the collected ones.
        try FileManager.default.removeItem(atPath: "\(emitted)/\(a.rows[1].path)")
        let keptTwo = try runCommand(bin, ["collect", emitted, "--keep-missing"])
        #expect(keptTwo.status == 0 && keptTwo.stdout == table, "\(keptTwo.stdout)\(keptTwo.stderr)")
        #expect(try SweepSummary.read(emitted + "/summary.h5").rows.map { $0.params["seed"] } == ["1", "2", "1", "2"])
        for row in a.rows.dropFirst(2) { try FileManager.default.removeItem(atPath: "\(emitted)/\(row.path)") }
        #expect(try runCommand(bin, ["collect", emitted]).status == 1)
        let d = try runCommand(bin, ["collect", emitted, "--from-summary"])
        #expect(d.status == 0 && d.stdout == table, "\(d.stdout)\(d.stderr)")
        #expect(try HDF5File.open(emitted + "/summary.h5").dataset("chosen").read() == chosen)

        // --per-seed adds a table with a column per seed: each run's test NLL ± its per-image se.
        let perSeed = try runCommand(bin, ["collect", emitted, "--from-summary", "--per-seed"])
        let cells = a.rows.map { String(format: "%.2f ± %.2f", $0.testNLL, $0.testSEM) }
        #expect(perSeed.status == 0 && perSeed.stdout.hasPrefix(table.components(separatedBy: "\n\nsummary:")[0] + "\n\n"))
        #expect(
            perSeed.stdout.contains(
                "| estimator | seed 1 | seed 2 |\n|---|---|---|\n| gs | \(cells[0]) | \(cells[1]) |\n| st | \(cells[2]) | \(cells[3]) |\n"
            ),
            "\(perSeed.stdout)")
        // The VAE's cells are −ELBO ± se with −log p(x) in brackets; a seed that has not run is "—",
        // a run that has not finished shows its status.
        var vaeRows = a.rows.prefix(3).map { row -> SweepSummary.Row in
            var r = row
            (r.paperColumn, r.testNegELBO, r.testNegELBOSem) = ("vae-bernoulli", 100 + row.testNLL, 0.25)
            return r
        }
        vaeRows[2].status = "diverged"
        let vae = SweepSummary(name: a.name, axes: a.axes, rows: vaeRows).perSeedMarkdown().split(separator: "\n")
        let gsCells = a.rows.prefix(2).map { String(format: "%.2f ± 0.25 (%.2f)", 100 + $0.testNLL, $0.testNLL) }
        #expect(
            vae == [
                "Per seed: test −ELBO ± its se over test images, and in brackets −log p(x) by importance sampling:",
                "| estimator | seed 1 | seed 2 |", "|---|---|---|", "| gs | \(gsCells[0]) | \(gsCells[1]) |",
                "| st | diverged | — |",
            ], "\(vae)")
    }

    /// A fresh clone holds a sweep's committed summary.h5 but not its run files. Running the sweep
    /// there runs only what the summary does not record with the point's own configuration, and
    /// its new summary keeps the recorded rows.
    @Test func summaryRowsStandForRunsWhoseFilesAreGone() throws {
        let bin = try sbnlab(), out = folder.dir + "/cloned"
        let def = try folder.write("c.yaml", tinySweepYAML(epochs: 1))
        let first = try runCommand(bin, ["sweep", def, "--jobs", "2", "--out", out])
        #expect(first.status == 0, "\(first.stderr)")
        let table = try SweepSummary.read(out + "/summary.h5").markdown()
        func removeRunFolders() throws {
            for entry in try FileManager.default.contentsOfDirectory(atPath: out) where entry.hasPrefix("estimator-") {
                try FileManager.default.removeItem(atPath: "\(out)/\(entry)")
            }
        }
        try removeRunFolders()
        let plan = try runCommand(bin, ["sweep", def, "--out", out, "--plan"])
        #expect(plan.stdout.contains("estimator-gs_seed-1: finished (summary.h5; its run file is gone)"), "\(plan.stdout)")
        #expect(plan.stdout.hasSuffix("0 of 4 points would run\n"), "\(plan.stdout)")
        let again = try runCommand(bin, ["sweep", def, "--jobs", "2", "--out", out])
        #expect(again.status == 0 && again.stdout.contains("4 points, 4 already finished"), "\(again.stdout)\(again.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out + "/estimator-gs_seed-1/run.h5"), "nothing ran again")
        #expect(try SweepSummary.read(out + "/summary.h5").markdown() == table)

        // A third seed runs two new points; the summary then holds six rows, four from the earlier one.
        let more = try folder.write("c3.yaml", tinySweepYAML(epochs: 1).replacingOccurrences(of: "[1, 2]", with: "[1, 2, 3]"))
        let third = try runCommand(bin, ["sweep", more, "--jobs", "2", "--out", out])
        #expect(third.status == 0 && third.stdout.contains("6 points, 4 already finished"), "\(third.stdout)\(third.stderr)")
        let six = try SweepSummary.read(out + "/summary.h5")
        #expect(six.rows.map(\.point).filter { $0.hasSuffix("seed-3") } == ["estimator-gs_seed-3", "estimator-st_seed-3"])
        #expect(six.rows.count == 6 && six.rows.allSatisfy { $0.status == "finished" && !$0.config.isEmpty })

        // A row of another configuration (here another epoch count) is stale: its point runs again.
        try removeRunFolders()
        let changed = try runCommand(bin, ["sweep", more, "--set", "epochs=2", "--jobs", "2", "--out", out])
        #expect(changed.status == 0 && changed.stdout.contains("6 points, 0 already finished"), "\(changed.stdout)")
        #expect(changed.stdout.contains("point estimator-gs_seed-1: \(out)/summary.h5 records a run of another configuration"))
        #expect(try SweepSummary.read(out + "/summary.h5").rows.map(\.epochs) == Array(repeating: 2, count: 6))

        // A summary written before rows recorded their configuration: its rows are kept, not trusted.
        var old = try SweepSummary.read(out + "/summary.h5")
        old = SweepSummary(
            name: old.name, axes: old.axes,
            rows: old.rows.map {
                var r = $0; r.config = ""; return r
            })
        try old.write(to: out + "/summary.h5")
        try removeRunFolders()
        let oldPlan = try runCommand(bin, ["sweep", more, "--set", "epochs=2", "--out", out, "--plan"])
        #expect(
            oldPlan.stdout.contains(
                "estimator-st_seed-3: runs again (summary.h5 records it as finished but not its configuration)")
                && oldPlan.stdout.hasSuffix("6 of 6 points would run\n"), "\(oldPlan.stdout)")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasPrefix("estimator-") }.isEmpty,
            "--plan writes nothing")
        let older = try runCommand(bin, ["sweep", more, "--set", "epochs=2", "--jobs", "2", "--out", out])
        #expect(older.status == 0 && older.stdout.contains("6 points, 0 already finished"), "\(older.stdout)")
        #expect(older.stdout.contains("records it as finished but not its configuration (an older summary); running it again"))

        // A damaged summary is a one-line error naming it, and the sweep writes nothing.
        try removeRunFolders()
        try Data("not HDF5".utf8).write(to: URL(fileURLWithPath: out + "/summary.h5"))
        let damaged = try runCommand(bin, ["sweep", more, "--out", out])
        #expect(damaged.status == 1 && damaged.stderr.hasPrefix("sbnlab: error: \(out)/summary.h5: "), "\(damaged.stderr)")
        #expect(damaged.stderr.split(separator: "\n").count == 1)
        let emitted = try runCommand(bin, ["sweep", more, "--out", out, "--emit", "slurm"])
        #expect(emitted.status == 1 && emitted.stderr.hasPrefix("sbnlab: error: \(out)/summary.h5: "), "\(emitted.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasPrefix("estimator-") }.isEmpty)
    }

    /// One diverging point fails with its error recorded; the others finish; the sweep exits 1.
    @Test func aFailedPointDoesNotStopTheOthers() throws {
        let yaml =
            tinySweepYAML(epochs: 1).replacingOccurrences(of: "seed: [1, 2]", with: "lr: [1.0e+38, 0.001]")
            + "\noptimizer: sgd\n"
        let def = try folder.write("f.yaml", yaml)
        let out = folder.dir + "/failing"
        let r = try runCommand(try sbnlab(), ["sweep", def, "--jobs", "2", "--out", out])
        #expect(r.status == 1)
        #expect(r.stdout.contains("2/4 done") && r.stdout.contains("2 failed"), "\(r.stdout)")
        let rows = try SweepSummary.collect(out).rows
        #expect(rows.filter { $0.status == "finished" }.map { $0.params["lr"]! } == ["0.001", "0.001"])
        for row in rows where row.status == "failed" {
            #expect(row.params["lr"] == "1e+38" && row.error.hasPrefix("step "), "\(row.error)")
        }
        #expect(FileManager.default.fileExists(atPath: out + "/summary.h5"))
        // Unfinished runs count in neither mean: the failed learning rate has no best valid NLL.
        let line = try SweepSummary.collect(out).markdown().split(separator: "\n").first { $0.contains("1e+38") }
        #expect(line?.contains("finished | — | — |") == true, "\(line ?? "")")
    }

    @Test func summaryMarksTheBestLearningRatePerEstimator() throws {
        let def = try folder.write(
            "lr.yaml", tinySweepYAML(epochs: 1).replacingOccurrences(of: "seed: [1, 2]", with: "lr: [0.00001, 0.003]"))
        let out = folder.dir + "/lr"
        let r = try runCommand(try sbnlab(), ["sweep", def, "--jobs", "2", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        let table = try SweepSummary.collect(out).markdown()
        #expect(table.components(separatedBy: "★").count - 1 == 2, "\(table)")
        #expect(
            table.contains("| gs | 0.003 |")
                && table.split(separator: "\n").first { $0.contains("| gs | 0.003 |") }!.contains("★"))
        // Rows go by the value of the rate, not its text ("1e-05" sorts after "0.003" as text).
        let gsRates = table.split(separator: "\n").prefix { !$0.hasPrefix("At the") }.filter { $0.hasPrefix("| gs |") }.map {
            $0.split(separator: "|")[1].trimmingCharacters(in: .whitespaces)
        }
        #expect(gsRates == ["1e-05", "0.003"], "\(table)")
    }

    /// A run still going (here: stopped after 2 of 4 epochs) counts in neither mean of its row, so
    /// a partial table's validation column holds the finished seeds' alone, as its test column does.
    @Test func unfinishedRunsCountInNeitherMean() throws {
        let yaml = tinySweepYAML(epochs: 4, extra: "valid_every: 1")
            .replacingOccurrences(of: "estimator: [gs, st]", with: "estimator: [gs]").replacingOccurrences(
                of: "seed: [1, 2]", with: "seed: [1]")
        let def = try folder.write("partial.yaml", yaml)
        let out = folder.dir + "/partial"
        let bin = try sbnlab()
        #expect(try runCommand(bin, ["sweep", def, "--out", out]).status == 0)
        // The same point with seed 2, as a single run that stops half-way.
        let single = try folder.write(
            "partial-2.yaml",
            tinySweepYAML(epochs: 4, extra: "valid_every: 1")
                .replacingOccurrences(of: "sweep:\n  estimator: [gs, st]\n  seed: [1, 2]", with: "estimator: gs\nseed: 2"))
        let stopped = try runCommand(bin, ["run", single, "--out", out + "/seed-2", "--stop-after", "2"])
        #expect(stopped.status == 0, "\(stopped.stderr)")
        let summary = try SweepSummary.collect(out)
        let finished = summary.rows.filter { $0.status == "finished" }, going = summary.rows.filter { $0.status != "finished" }
        #expect(finished.count == 1 && going.count == 1 && going[0].bestValidNLL.isFinite, "\(summary.rows.map(\.status))")
        let row = summary.markdown().split(separator: "\n").first { $0.contains("1/2 finished") }
        #expect(
            row?.contains("| 1/2 finished | " + String(format: "%.2f", finished[0].bestValidNLL) + " |") == true, "\(row ?? "")")
    }

    /// `select:` runs more seeds at the learning rate chosen on validation, per estimator, once
    /// the grid has finished; the summary reports them under the ★ row; a rerun has nothing to do.
    @Test func selectionStageRunsSeedsAtTheChosenRate() throws {
        let yaml =
            tinySweepYAML(epochs: 1).replacingOccurrences(of: "seed: [1, 2]", with: "lr: [0.00001, 0.003]\n  seed: [1]")
            + "\nselect: {axis: lr, seeds: [1, 2]}\n"
        let def = try folder.write("select.yaml", yaml)
        let out = folder.dir + "/select"
        let r = try runCommand(try sbnlab(), ["sweep", def, "--jobs", "2", "--out", out])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(
            r.stdout.contains("4/4 done") && r.stdout.contains("select: lr chosen on validation")
                && r.stdout.contains("2/2 done"),
            "\(r.stdout)")
        let summary = try SweepSummary.collect(out)
        let grid = summary.rows.filter { $0.params["seed"] == "1" }, extra = summary.rows.filter { $0.params["seed"] == "2" }
        #expect(grid.count == 4 && extra.count == 2 && summary.rows.allSatisfy { $0.status == "finished" })
        for row in extra {
            let candidates = grid.filter { $0.estimator == row.estimator }
            let chosen = candidates.min { $0.bestValidNLL < $1.bestValidNLL }!
            #expect(row.params["lr"] == chosen.params["lr"], "\(row.point)")
        }
        // summary.h5 marks the runs at each estimator's chosen rate (both seeds there).
        let file = try HDF5File.open(out + "/summary.h5")
        let marked = zip(try file.dataset("path").readStrings(), try file.dataset("chosen").read(as: Int64.self)).filter {
            $0.1 == 1
        }.map(\.0)
        let atChosen = summary.rows.filter { r in r.params["lr"] == extra.first { $0.estimator == r.estimator }?.params["lr"] }
            .map(\.path)
        #expect(marked.count == 4 && Set(marked) == Set(atChosen), "\(marked)")
        let table = summary.markdown().split(separator: "\n")
        #expect(table.filter { $0.contains("★") }.allSatisfy { $0.contains("| 2 |") && !$0.contains("(sem)") }, "\(table)")
        // The second table lists exactly the starred rows, one per estimator.
        let chosen = table.drop { !$0.hasPrefix("At the learning rate chosen") }.filter {
            $0.hasPrefix("| gs") || $0.hasPrefix("| st")
        }
        #expect(chosen.count == 2 && chosen.allSatisfy { $0.contains("| 2 |") }, "\(table)")
        let again = try runCommand(try sbnlab(), ["sweep", def, "--jobs", "2", "--out", out])
        #expect(
            again.status == 0 && again.stdout.contains("4 already finished") && again.stdout.contains("2 already finished"),
            "\(again.stdout)")
    }

    /// A rate that diverged (failed) is never chosen and does not hold the second stage back.
    @Test func selectionSkipsFailedRates() throws {
        let yaml =
            tinySweepYAML(epochs: 1).replacingOccurrences(of: "estimator: [gs, st]", with: "estimator: [gs]")
            .replacingOccurrences(of: "seed: [1, 2]", with: "lr: [1.0e+38, 0.001]\n  seed: [1]")
            + "\noptimizer: sgd\nselect: {axis: lr, seeds: [1, 2]}\n"
        let def = try folder.write("selectfail.yaml", yaml)
        let out = folder.dir + "/selectfail"
        let r = try runCommand(try sbnlab(), ["sweep", def, "--jobs", "2", "--out", out])
        #expect(r.status == 1 && r.stdout.contains("1 failed") && r.stdout.contains("select: lr chosen"), "\(r.stdout)")
        let rows = try SweepSummary.collect(out).rows
        #expect(rows.filter { $0.params["seed"] == "2" }.map { $0.params["lr"] } == ["0.001"], "\(rows.map(\.point))")
        // A failed point is final: a second sweep does not start it again.
        let again = try runCommand(try sbnlab(), ["sweep", def, "--jobs", "2", "--out", out])
        #expect(again.status == 1 && again.stdout.contains("1 already finished, 1 failed before (final)"), "\(again.stdout)")
        let failed = try #require(rows.first { $0.status == "failed" })
        let log = try String(
            contentsOfFile: out + "/" + (failed.path as NSString).deletingLastPathComponent + "/log.txt", encoding: .utf8)
        #expect(log.components(separatedBy: "=== ").count == 2, "\(log)")
    }

    /// Options that come with the chosen estimator (reinforce's, absent for gs) are not axes:
    /// the summary varies by estimator only.
    @Test func optionsOfTheChosenEstimatorAreNoAxes() throws {
        let yaml = tinySweepYAML(epochs: 1).replacingOccurrences(of: "estimator: [gs, st]", with: "estimator: [gs, reinforce]")
            .replacingOccurrences(of: "seed: [1, 2]", with: "seed: [1]")
        let def = try folder.write("o.yaml", yaml)
        let out = folder.dir + "/options"
        let r = try runCommand(try sbnlab(), ["sweep", def, "--jobs", "2", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try SweepSummary.collect(out).axes == ["estimator"])
    }

    /// The Python analysis package on a tiny temperature sweep: table.md, curves.png, temperature.png.
    @Test(.enabled(if: hasPythonWithH5py, "python3 with h5py is not available (.ci/run installs it)"))
    func analysisPackageReportsATinySweep() throws {
        let yaml =
            tinySweepYAML(epochs: 2).replacingOccurrences(of: "estimator: [gs, st]", with: "estimator: [gs, st-gs]")
            + "\nzip: {temperature.schedule: [fixed, fixed, exponential], temperature.tau: [0.5, 1.0, 1.0]}\n"
        let def = try folder.write("t.yaml", yaml)
        let out = folder.dir + "/temperature"
        let r = try runCommand(try sbnlab(), ["sweep", def, "--jobs", "2", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        let a = try runCommand("/usr/bin/env", ["python3", "-m", "analysis", out], in: TestPaths.packageRoot)
        #expect(a.status == 0, "python -m analysis: \(a.stderr)")
        #expect(a.stdout.contains("12 runs"))
        let table = try String(contentsOfFile: out + "/table.md", encoding: .utf8)
        #expect(table.contains("58.5 (Gumbel-Softmax)") && table.contains("59.3 (ST Gumbel-Softmax)"))
        #expect(table.split(separator: "\n").count == 2 + 6 + 1)
        // The fixed τ with the lowest mean best validation NLL per estimator, from our own summary.
        let rows = try SweepSummary.collect(out).rows.filter { $0.params["temperature.schedule"] == "fixed" }
        for estimator in ["gs", "st-gs"] {
            let byTau = Dictionary(
                grouping: rows.filter { $0.estimator == estimator }, by: { $0.params["temperature.tau"] ?? "" })
            let best = byTau.min { a, b in
                a.value.map(\.bestValidNLL).reduce(0, +) / Double(a.value.count) < b.value.map(\.bestValidNLL).reduce(0, +)
                    / Double(b.value.count)
            }!.key
            #expect(table.contains("\(estimator) τ = \(Double(best)!.formatted())"), "\(table)")
        }
        for png in ["curves.png", "temperature.png"] {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: out + "/" + png))
            #expect(bytes.count > 5000 && bytes.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]), "\(png)")
        }
        // No learning-rate axis, nothing chosen: no chosen-rate figure.
        #expect(!FileManager.default.fileExists(atPath: out + "/curves-chosen.png"))
    }

    /// On a learning-rate sweep the analysis package also draws the runs at the chosen rates.
    @Test(.enabled(if: hasPythonWithH5py, "python3 with h5py is not available (.ci/run installs it)"))
    func analysisPackageDrawsTheChosenRates() throws {
        let yaml = tinySweepYAML(epochs: 1).replacingOccurrences(of: "seed: [1, 2]", with: "lr: [0.00001, 0.003]")
        let def = try folder.write("chosen.yaml", yaml)
        let out = folder.dir + "/chosen"
        #expect(try runCommand(try sbnlab(), ["sweep", def, "--jobs", "2", "--out", out]).status == 0)
        let a = try runCommand("/usr/bin/env", ["python3", "-m", "analysis", out], in: TestPaths.packageRoot)
        #expect(a.status == 0 && a.stdout.contains("curves-chosen.png"), "python -m analysis: \(a.stdout)\n\(a.stderr)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: out + "/curves-chosen.png"))
        #expect(bytes.count > 5000 && bytes.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))
    }
}
