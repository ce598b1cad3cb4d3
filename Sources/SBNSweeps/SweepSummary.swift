import Foundation
import SBNConfig
import SBNStorage
import SBNTraining
import Yams

/// One row per run of a sweep, rebuilt from the run files alone (`sbnlab collect`), wherever the
/// runs happened. The parameters are the configuration fields that differ between the runs.
public struct SweepSummary: Sendable {
    public struct Row: Sendable {
        public var point: String
        public var path: String
        public var estimator: String
        /// The paper's row of its model and layers (`PaperColumn`: "bernoulli", "categorical",
        /// "vae-bernoulli", "vae-categorical", or "" for none).
        public var paperColumn: String
        public var status: String
        public var params: [String: String]
        /// The best validation value of the task's selection metric (NLL, or −ELBO for the VAE).
        public var bestValidNLL: Double
        /// The m-sample importance-weighted test NLL (−log p(x) for the VAE) and its per-image se.
        public var testNLL: Double
        public var testSEM: Double
        /// The VAE's test −ELBO and its per-image se (NaN for a model without a prior term).
        public var testNegELBO: Double = .nan
        public var testNegELBOSem: Double = .nan
        /// m2's test accuracy (fraction) and its binomial se (NaN for the other families).
        public var testAccuracy: Double = .nan
        public var testAccuracySem: Double = .nan

        /// The number the paper reports for this row's task: −ELBO for the VAE, accuracy (%) for
        /// the semi-supervised M2, the NLL otherwise.
        public var paperMetric: (value: Double, sem: Double) {
            if paperColumn == PaperColumn.semiSupervised.rawValue { return (100 * testAccuracy, 100 * testAccuracySem) }
            return paperColumn.hasPrefix("vae") ? (testNegELBO, testNegELBOSem) : (testNLL, testSEM)
        }
        public var epochs: Int
        public var wallTime: Double
        public var error: String
        public var validCurve: [Double]
        /// The run's configuration as resolved (JSON, defaults filled in), so a row whose run file
        /// is gone still says what ran: a sweep counts it as its point's only if it is that
        /// point's configuration (`SweepRunner.earlierRuns`). Empty in summaries written before.
        public var config: String = ""

        /// What no run or `collect` could have written in this row, or nil: a status other than
        /// a run's or `unreadable`, a negative or non-finite count, time or standard error, an
        /// accuracy outside [0, 1], a finished run without a finite test value (its task's, when
        /// `taskColumns`: summaries written before the −ELBO and accuracy columns lack them), or a
        /// configuration that is not a JSON object (`collect` writes one or, before, nothing). A
        /// configuration of an older version's options is still readable JSON: it is stale, not
        /// damaged, and its point runs again (`SweepRunner.earlierRuns`).
        /// A sweep trusts a finished row in place of its run (`SweepRunner.earlierRuns`) and its
        /// tables average these numbers, so a hand-edited one is refused rather than averaged.
        func impossibility(taskColumns: Bool) -> String? {
            let statuses = ["finished", "failed", "running", "unreadable"]
            guard statuses.contains(status) else {
                return "status \"\(status)\" is not one of \(statuses.joined(separator: ", "))"
            }
            guard epochs >= 0, wallTime.isFinite, wallTime >= 0 else { return "epochs \(epochs), wall_time \(wallTime)" }
            let errors = [
                ("test_nll_sem", testSEM), ("test_neg_elbo_sem", testNegELBOSem), ("test_accuracy_sem", testAccuracySem),
            ]
            if let (name, value) = errors.first(where: { !$0.1.isNaN && !($0.1.isFinite && $0.1 >= 0) }) {
                return "\(name) \(value) is not a standard error"
            }
            if !testAccuracy.isNaN && !(0...1).contains(testAccuracy) { return "test_accuracy \(testAccuracy) is outside [0, 1]" }
            let test = taskColumns ? paperMetric.value : testNLL
            if status == "finished" && !(testNLL.isFinite && test.isFinite && !bestValidNLL.isNaN) {
                return "a finished run with test value \(test), test_nll \(testNLL), best_valid_nll \(bestValidNLL)"
            }
            if !config.isEmpty,
                (try? JSONSerialization.jsonObject(with: Data(config.utf8))) as? [String: Any] == nil
            {
                return "config is not a JSON object (\(config.prefix(40).debugDescription))"
            }
            return nil
        }
    }

    public let name: String
    public let axes: [String]
    public let rows: [Row]
    /// The axes chosen on validation (`select:`; the learning rate unless a sweep says otherwise).
    /// A summary axis is selected when it is one of these or an option below one (`temperature`
    /// selects `temperature.rate` and `temperature.every`).
    public var selectionAxes = ["lr"]

    public init(name: String, axes: [String], rows: [Row], selectionAxes: [String] = ["lr"]) {
        (self.name, self.axes, self.rows, self.selectionAxes) = (name, axes, rows, selectionAxes)
    }

    /// Reads every `run.h5` below `folder` (with `points`, only those of these point folders: a
    /// sweep's summary leaves out runs of points no longer in its definition). Unreadable files
    /// become rows with status `unreadable`. `alsoAxes` are kept as axes even where these runs
    /// agree on them (the axes of an earlier summary that `keeping` merges in: a remaining run
    /// must still say which point of those axes it is).
    public static func collect(
        _ folder: String, points: Set<String>? = nil, selectionAxes: [String]? = nil, alsoAxes: [String] = []
    ) throws -> SweepSummary {
        // Without a definition (`sbnlab collect`), the axes the folder's previous summary selected.
        let selected = selectionAxes ?? (try? read(folder + "/summary.h5").selectionAxes) ?? ["lr"]
        guard let walker = FileManager.default.enumerator(atPath: folder) else {
            throw ConfigError(file: folder, path: "", "not a readable folder")
        }
        var files: [String] = []
        for case let rel as String in walker where (rel as NSString).lastPathComponent == "run.h5" {
            if let points, !points.contains((rel as NSString).deletingLastPathComponent) { continue }
            files.append(rel)
        }
        files.sort()
        var rows: [Row] = []
        var flat: [[String: String]] = []
        for rel in files {
            let point = (rel as NSString).deletingLastPathComponent
            do {
                let r = try ResultsFile.readRecord(folder + "/" + rel)
                // The configuration as decoded, defaults filled in: a field added after a run was made
                // (absent from its stored JSON) then reads as its default, not as an axis.
                flat.append(Self.flatten(r.config.json))
                rows.append(
                    Row(
                        point: point, path: rel, estimator: r.config.estimator,
                        paperColumn: PaperColumn(r.config)?.rawValue ?? "", status: r.status.rawValue, params: [:],
                        bestValidNLL: r.bestValidNLL,
                        testNLL: r.test?.nll ?? .nan, testSEM: r.test?.sem ?? .nan,
                        testNegELBO: r.test?.negELBO ?? .nan, testNegELBOSem: r.test?.negELBOSem ?? .nan,
                        testAccuracy: r.test?.accuracy ?? .nan, testAccuracySem: r.test?.accuracySem ?? .nan,
                        epochs: r.epochsDone,
                        wallTime: r.elapsed, error: r.error ?? "", validCurve: r.valid.map(\.nll), config: r.config.json))
            } catch {
                flat.append([:])
                rows.append(
                    Row(
                        point: point, path: rel, estimator: "", paperColumn: "", status: "unreadable", params: [:],
                        bestValidNLL: .nan, testNLL: .nan,
                        testSEM: .nan, epochs: 0, wallTime: 0, error: "\(error)", validCurve: []))
            }
        }
        // Logging does not change what a run computes (`ExperimentConfig.differences`).
        let keys = Set(flat.flatMap(\.keys)).subtracting(["name", "description", "logging.tensorboard"])
        let varying = keys.filter { k in Set(flat.map { $0[k] ?? "" }).count > 1 && !Self.followsComponent(k, flat) }
        let axes = varying.union(keys.intersection(alsoAxes)).sorted()
        for i in rows.indices { rows[i].params = Dictionary(uniqueKeysWithValues: axes.map { ($0, flat[i][$0] ?? "") }) }
        let name = flat.first?["name"] ?? (folder as NSString).lastPathComponent
        return SweepSummary(name: name, axes: axes, rows: rows, selectionAxes: selected)
    }

    /// This summary plus the rows of `earlier` whose points it lacks (runs whose files are gone,
    /// e.g. made on another machine), with the union of both axes; rows in point order.
    public func keeping(_ earlier: SweepSummary) -> SweepSummary {
        let present = Set(rows.map(\.point))
        let axes = Array(Set(self.axes).union(earlier.axes)).sorted()
        let merged = (rows + earlier.rows.filter { !present.contains($0.point) }).map { row -> Row in
            var r = row
            for a in axes where r.params[a] == nil { r.params[a] = "" }
            return r
        }
        return SweepSummary(name: name, axes: axes, rows: merged.sorted { $0.point < $1.point }, selectionAxes: selectionAxes)
    }

    /// Whether key `k` is an option of a component (estimator, optimizer, schedule) that is
    /// constant among the runs of each choice of that component: it then differs only because
    /// the component differs (e.g. `estimator_options.decay` of `reinforce` beside `gs`), and is
    /// no axis of its own.
    static func followsComponent(_ k: String, _ flat: [[String: String]]) -> Bool {
        guard let slot = ExperimentConfig.components.first(where: { k == $0.options || k.hasPrefix($0.options + ".") }),
            k != slot.name
        else { return false }
        let groups = Dictionary(grouping: flat, by: { $0[slot.name] ?? "" })
        return groups.values.allSatisfy { runs in Set(runs.map { $0[k] ?? "" }).count <= 1 }
    }

    /// Dotted paths → values of a stored configuration, as written.
    static func flatten(_ json: String) -> [String: String] {
        guard let node = try? ConfigNode.parse(json, file: "config") else { return [:] }
        return Dictionary(ConfigNode.leaves(node).map { ($0.path, ConfigNode.text($0.value)) }, uniquingKeysWith: { a, _ in a })
    }

    /// Reads a `summary.h5` written by `write(to:)`.
    public static func read(_ path: String) throws -> SweepSummary {
        try UntrustedFile.check(path, as: .record)
        let f = try HDF5File.open(path)
        let axesNode = try ConfigNode.parse("axes: " + (try f.stringAttribute("axes")), file: path)
        let axes = axesNode["axes"]?.sequence?.compactMap(\.string) ?? []
        let points = try f.dataset("point").readStrings(), paths = try f.dataset("path").readStrings()
        let status = try f.dataset("status").readStrings(), errors = try f.dataset("error").readStrings()
        let valid: [Double] = try f.dataset("best_valid_nll").read(), test: [Double] = try f.dataset("test_nll").read()
        let sem: [Double] = try f.dataset("test_nll_sem").read(), wall: [Double] = try f.dataset("wall_time").read()
        let epochs: [Int64] = try f.dataset("epochs").read()
        let estimators =
            f.contains("estimator") ? try f.dataset("estimator").readStrings() : Array(repeating: "", count: points.count)
        let paperColumns =
            f.contains("paper_column") ? try f.dataset("paper_column").readStrings() : Array(repeating: "", count: points.count)
        let negELBO: [Double]? = f.contains("test_neg_elbo") ? try f.dataset("test_neg_elbo").read() : nil
        let negELBOSem: [Double]? = f.contains("test_neg_elbo_sem") ? try f.dataset("test_neg_elbo_sem").read() : nil
        let accuracy: [Double]? = f.contains("test_accuracy") ? try f.dataset("test_accuracy").read() : nil
        let accuracySem: [Double]? = f.contains("test_accuracy_sem") ? try f.dataset("test_accuracy_sem").read() : nil
        let configs = f.contains("config") ? try f.dataset("config").readStrings() : Array(repeating: "", count: points.count)
        // One value per run in every column (a shorter hand-edited column trapped in `show`).
        let lengths: [(String, Int)] = [
            ("path", paths.count), ("status", status.count), ("error", errors.count),
            ("best_valid_nll", valid.count), ("test_nll", test.count), ("test_nll_sem", sem.count),
            ("wall_time", wall.count), ("epochs", epochs.count), ("estimator", estimators.count),
            ("paper_column", paperColumns.count), ("test_neg_elbo", negELBO?.count ?? points.count),
            ("test_neg_elbo_sem", negELBOSem?.count ?? points.count), ("test_accuracy", accuracy?.count ?? points.count),
            ("test_accuracy_sem", accuracySem?.count ?? points.count), ("config", configs.count),
        ]
        if let odd = lengths.first(where: { $0.1 != points.count }) {
            throw HDF5Error(
                operation: "\(path): /\(odd.0) has \(odd.1) values but /point has \(points.count) (a damaged or hand-edited file)"
            )
        }
        let columns = try readParams(f, axes: axes, count: points.count, path: path)
        let rows = points.indices.map { i in
            Row(
                point: points[i], path: paths[i], estimator: estimators[i], paperColumn: paperColumns[i], status: status[i],
                params: columns.mapValues { $0[i] }, bestValidNLL: valid[i], testNLL: test[i], testSEM: sem[i],
                testNegELBO: negELBO?[i] ?? .nan, testNegELBOSem: negELBOSem?[i] ?? .nan,
                testAccuracy: accuracy?[i] ?? .nan, testAccuracySem: accuracySem?[i] ?? .nan,
                epochs: Int(epochs[i]), wallTime: wall[i], error: errors[i], validCurve: [], config: configs[i])
        }
        let taskColumns = negELBO != nil && accuracy != nil
        if let (i, what) = rows.indices.lazy.compactMap({ i in rows[i].impossibility(taskColumns: taskColumns).map { (i, $0) } })
            .first
        {
            throw HDF5Error(operation: "\(path): row \(i) (\(rows[i].point)): \(what) (a damaged or hand-edited file)")
        }
        let selected =
            f.hasAttribute("selection_axes")
            ? (try ConfigNode.parse("a: " + f.stringAttribute("selection_axes"), file: path))["a"]?.sequence?.compactMap(\.string)
                ?? ["lr"]
            : ["lr"]
        return SweepSummary(name: try f.stringAttribute("sweep"), axes: axes, rows: rows, selectionAxes: selected)
    }

    /// `/params/<axis>`: each axis's value per run, as text. Numbers are stored as doubles; a whole
    /// one reads back as the configuration wrote it ("2", not "2.0"), so rows read from a summary
    /// and rows collected from run files group together (`keeping`).
    private static func readParams(_ f: HDF5File, axes: [String], count: Int, path: String) throws -> [String: [String]] {
        let params = try f.group("params")
        var columns: [String: [String]] = [:]
        for axis in axes {
            let ds = try params.dataset(axis)
            let column = try (try? ds.readStrings()) ?? (try ds.read() as [Double]).map(numberText)
            guard column.count == count else {
                throw HDF5Error(
                    operation: "\(path): /params/\(axis) has \(column.count) values but /point has \(count) "
                        + "(a damaged or hand-edited file)")
            }
            columns[axis] = column
        }
        return columns
    }

    /// A stored number as a configuration's text: whole values without a fraction.
    static func numberText(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : "\(x)"
    }

    /// Writes `summary.h5` atomically: one entry per run in every column.
    public func write(to path: String) throws {
        try AtomicFile.writeHDF5(to: path) { f in
            try f.setAttribute("sweep", name)
            try f.setAttribute("axes", "[" + axes.map { "\"\($0)\"" }.joined(separator: ", ") + "]")
            try f.setAttribute("selection_axes", "[" + selectionAxes.map { "\"\($0)\"" }.joined(separator: ", ") + "]")
            try f.setAttribute("sbnlab_version", Provenance.version)
            try f.writeStrings("point", rows.map(\.point))
            try f.writeStrings("path", rows.map(\.path))
            try f.writeStrings("status", rows.map(\.status))
            try f.writeStrings("estimator", rows.map(\.estimator))
            try f.writeStrings("paper_column", rows.map(\.paperColumn))
            try f.writeStrings("error", rows.map(\.error))
            try f.writeStrings("config", rows.map(\.config))
            try f.write("best_valid_nll", rows.map(\.bestValidNLL))
            try f.write("test_nll", rows.map(\.testNLL))
            try f.write("test_nll_sem", rows.map(\.testSEM))
            try f.write("test_neg_elbo", rows.map(\.testNegELBO))
            try f.write("test_neg_elbo_sem", rows.map(\.testNegELBOSem))
            try f.write("test_accuracy", rows.map(\.testAccuracy))
            try f.write("test_accuracy_sem", rows.map(\.testAccuracySem))
            try f.write("epochs", rows.map { Int64($0.epochs) })
            try f.write("wall_time", rows.map(\.wallTime))
            try f.write("chosen", chosenRows().map { Int64($0 ? 1 : 0) })
            let params = try f.createGroup("params")
            for axis in axes {
                let values = rows.map { $0.params[axis] ?? "" }
                let numbers = values.compactMap(Double.init)
                if numbers.count == values.count {
                    try params.write(axis, numbers)
                } else {
                    try params.writeStrings(axis, values)
                }
            }
        }
    }

    /// A Markdown table aggregated over seeds (mean ± seed sd), with the paper's number per estimator
    /// (from the Table 1 column of the runs' layers) and
    /// the best learning rate per estimator (by validation NLL, as the paper chooses) marked ★.
    public func markdown() -> String {
        let groupAxes = axes.filter { $0 != "seed" }
        var groups: [[String]: [Row]] = [:]
        for r in rows { groups[groupAxes.map { r.params[$0] ?? "" }, default: []].append(r) }
        let keys = groups.keys.sorted(by: Self.precedes)
        let best = chosenLearningRates(groupAxes)
        let (metric, validMetric) = metricNames
        let header = [
            "| "
                + (groupAxes + ["runs", "best valid \(validMetric)", "test \(metric) (mean ± sd over seeds)", "paper"]).joined(
                    separator: " | ") + " |",
            "|" + String(repeating: "---|", count: groupAxes.count + 4),
        ]
        func line(_ k: [String], mark: String) -> String {
            let g = groups[k]!
            let finished = g.filter { $0.status == "finished" }
            let tests = finished.map(\.paperMetric.value)
            let test: String
            if tests.isEmpty {
                test = "—"
            } else if tests.count == 1 {
                test = String(format: "%.2f ± %.2f (sem)", tests[0], finished[0].paperMetric.sem)
            } else {
                test = String(format: "%.2f ± %.2f", Self.mean(tests), Self.sd(tests))
            }
            let valid = Self.mean(finished.map(\.bestValidNLL).filter(\.isFinite))
            let column = g.first.flatMap { PaperColumn(rawValue: $0.paperColumn) }
            let paper = PaperNumbers.nll(for: g.first?.estimator ?? "", column: column).map { String(format: "%.1f", $0) } ?? "—"
            let status = finished.count == g.count ? "\(g.count)" : "\(finished.count)/\(g.count) finished"
            return "| "
                + (k + [status, (valid.isFinite ? String(format: "%.2f", valid) : "—") + mark, test, paper]).joined(
                    separator: " | ") + " |"
        }
        var lines = header + keys.map { line($0, mark: best.contains($0) ? " ★" : "") }
        if !best.isEmpty {
            let setting = selectionAxes == ["lr"] ? "learning rate" : "setting (\(selectionAxes.joined(separator: ", ")))"
            lines += [
                "",
                "At the \(setting) chosen on validation (starred above; Jang et al. 2017 §4's protocol), "
                    + "test \(metric) as mean ± sd over seeds (± sem for a single run):", "",
            ]
            lines += header + keys.filter(best.contains).map { line($0, mark: "") }
        }
        return lines.joined(separator: "\n")
    }

    /// One row per group of the other axes and one column per seed: each run's test value of the
    /// paper's metric ± its se over test images, so a partial sweep shows which seeds have run and
    /// how far apart they land. The VAE's cells add −log p(x) in brackets. "—" where a seed has not
    /// run, the run's status where it has not finished.
    public func perSeedMarkdown() -> String {
        let groupAxes = axes.filter { $0 != "seed" }
        var groups: [[String]: [String: Row]] = [:]
        for r in rows { groups[groupAxes.map { r.params[$0] ?? "" }, default: [:]][r.params["seed"] ?? ""] = r }
        let seeds = Set(rows.map { $0.params["seed"] ?? "" }).sorted { Self.precedes([$0], [$1]) }
        let vae = rows.contains { $0.paperColumn.hasPrefix("vae") }
        func cell(_ r: Row?) -> String {
            guard let r else { return "—" }
            guard r.status == "finished" else { return r.status }
            let m = r.paperMetric
            return String(format: "%.2f ± %.2f", m.value, m.sem) + (vae ? String(format: " (%.2f)", r.testNLL) : "")
        }
        let caption =
            "Per seed: test \(metricNames.test) ± its se over test images"
            + (vae ? ", and in brackets −log p(x) by importance sampling" : "") + ":"
        let columns = groupAxes + seeds.map { axes.contains("seed") ? "seed \($0)" : "test" }
        var lines = [
            caption, "", "| " + columns.joined(separator: " | ") + " |", "|" + String(repeating: "---|", count: columns.count),
        ]
        for k in groups.keys.sorted(by: Self.precedes) {
            lines.append("| " + (k + seeds.map { cell(groups[k]![$0]) }).joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n")
    }

    /// The metric's name in the tables, on test and on validation: −ELBO for the VAE (the paper's
    /// §4.2 metric, what its runs select on), accuracy and error for M2 (§4.3), the NLL otherwise.
    var metricNames: (test: String, valid: String) {
        if rows.contains(where: { $0.paperColumn == PaperColumn.semiSupervised.rawValue }) { return ("accuracy %", "error %") }
        return rows.contains { $0.paperColumn.hasPrefix("vae") } ? ("−ELBO", "−ELBO") : ("NLL", "NLL")
    }

    /// Per row: whether it ran at the learning rate chosen on validation for its group (the ★ rows
    /// of `markdown()`); all false when the runs do not vary the learning rate.
    public func chosenRows() -> [Bool] {
        let groupAxes = axes.filter { $0 != "seed" }
        let best = chosenLearningRates(groupAxes)
        return rows.map { r in best.contains(groupAxes.map { r.params[$0] ?? "" }) }
    }

    /// The group keys of the setting chosen on validation (the values of the selected axes) in
    /// each group of the other axes: SweepSelection's rule, the mean over the seeds every setting
    /// has run, so extra seeds at the chosen setting do not change the choice.
    func chosenLearningRates(_ groupAxes: [String]) -> Set<[String]> {
        let isSelected = groupAxes.map { a in selectionAxes.contains { a == $0 || a.hasPrefix($0 + ".") } }
        guard isSelected.contains(true) else { return [] }
        var byRest: [[String]: [(value: String, seed: String, valid: Double)]] = [:]
        var keyOf: [String: [String]] = [:]
        for r in rows where r.status == "finished" {
            let key = groupAxes.map { r.params[$0] ?? "" }
            let rest = zip(key, isSelected).filter { !$0.1 }.map(\.0)
            let value = zip(key, isSelected).filter(\.1).map(\.0).joined(separator: " | ")
            keyOf[rest.joined(separator: "\u{1}") + "\u{2}" + value] = key
            byRest[rest, default: []].append((value, r.params["seed"] ?? "", r.bestValidNLL))
        }
        var best: Set<[String]> = []
        for (rest, candidates) in byRest {
            guard let chosen = SweepSelection.choose(candidates),
                let key = keyOf[rest.joined(separator: "\u{1}") + "\u{2}" + chosen]
            else { continue }
            best.insert(key)
        }
        return best
    }

    /// Row order: axis by axis, numbers by value (1e-05 before 0.0001, which text order reverses),
    /// anything else as text.
    static func precedes(_ a: [String], _ b: [String]) -> Bool {
        for (x, y) in zip(a, b) where x != y {
            if let u = Double(x), let v = Double(y), u != v { return u < v }
            return x < y
        }
        return a.count < b.count
    }

    static func mean(_ x: [Double]) -> Double { x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count) }
    static func sd(_ x: [Double]) -> Double {
        guard x.count > 1 else { return 0 }
        let m = mean(x)
        return (x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)).squareRoot()
    }
}
