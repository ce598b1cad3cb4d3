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
        /// The Table 1 column of its layers ("bernoulli", "categorical", or "" for neither).
        public var paperColumn: String
        public var status: String
        public var params: [String: String]
        public var bestValidNLL: Double
        public var testNLL: Double
        public var testSEM: Double
        public var epochs: Int
        public var wallTime: Double
        public var error: String
        public var validCurve: [Double]
    }

    public let name: String
    public let axes: [String]
    public let rows: [Row]

    /// Reads every `run.h5` below `folder` (with `points`, only those of these point folders: a
    /// sweep's summary leaves out runs of points no longer in its definition). Unreadable files
    /// become rows with status `unreadable`.
    public static func collect(_ folder: String, points: Set<String>? = nil) throws -> SweepSummary {
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
                flat.append(Self.flatten(r.configJSON))
                rows.append(Row(point: point, path: rel, estimator: r.config.estimator,
                                paperColumn: PaperColumn(r.config)?.rawValue ?? "", status: r.status.rawValue, params: [:],
                                bestValidNLL: r.bestValidNLL,
                                testNLL: r.test?.paperValue(r.config.family.task).value ?? .nan,
                                testSEM: r.test?.paperValue(r.config.family.task).sem ?? .nan, epochs: r.epochsDone,
                                wallTime: r.elapsed, error: r.error ?? "", validCurve: r.valid.map(\.nll)))
            } catch {
                flat.append([:])
                rows.append(Row(point: point, path: rel, estimator: "", paperColumn: "", status: "unreadable", params: [:], bestValidNLL: .nan, testNLL: .nan,
                                testSEM: .nan, epochs: 0, wallTime: 0, error: "\(error)", validCurve: []))
            }
        }
        let keys = Set(flat.flatMap(\.keys)).subtracting(["name", "description"])
        let axes = keys.filter { k in Set(flat.map { $0[k] ?? "" }).count > 1 && !Self.followsComponent(k, flat) }.sorted()
        for i in rows.indices { rows[i].params = Dictionary(uniqueKeysWithValues: axes.map { ($0, flat[i][$0] ?? "") }) }
        let name = flat.first?["name"] ?? (folder as NSString).lastPathComponent
        return SweepSummary(name: name, axes: axes, rows: rows)
    }

    /// Whether key `k` is an option of a component (estimator, optimizer, schedule) that is
    /// constant among the runs of each choice of that component: it then differs only because
    /// the component differs (e.g. `estimator_options.decay` of `reinforce` beside `gs`), and is
    /// no axis of its own.
    static func followsComponent(_ k: String, _ flat: [[String: String]]) -> Bool {
        guard let slot = ExperimentConfig.components.first(where: { k == $0.options || k.hasPrefix($0.options + ".") }),
              k != slot.name else { return false }
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
        let f = try HDF5File.open(path)
        let axesNode = try ConfigNode.parse("axes: " + (try f.stringAttribute("axes")), file: path)
        let axes = axesNode["axes"]?.sequence?.compactMap(\.string) ?? []
        let points = try f.dataset("point").readStrings(), paths = try f.dataset("path").readStrings()
        let status = try f.dataset("status").readStrings(), errors = try f.dataset("error").readStrings()
        let valid: [Double] = try f.dataset("best_valid_nll").read(), test: [Double] = try f.dataset("test_nll").read()
        let sem: [Double] = try f.dataset("test_nll_sem").read(), wall: [Double] = try f.dataset("wall_time").read()
        let epochs: [Int64] = try f.dataset("epochs").read()
        let estimators = f.contains("estimator") ? try f.dataset("estimator").readStrings() : Array(repeating: "", count: points.count)
        let paperColumns = f.contains("paper_column") ? try f.dataset("paper_column").readStrings() : Array(repeating: "", count: points.count)
        let params = try f.group("params")
        var columns: [String: [String]] = [:]
        for axis in axes {
            let ds = try params.dataset(axis)
            if let strings = try? ds.readStrings() {
                columns[axis] = strings
            } else {
                columns[axis] = (try ds.read() as [Double]).map { "\($0)" }
            }
        }
        let rows = points.indices.map { i in
            Row(point: points[i], path: paths[i], estimator: estimators[i], paperColumn: paperColumns[i], status: status[i],
                params: columns.mapValues { $0[i] }, bestValidNLL: valid[i], testNLL: test[i], testSEM: sem[i],
                epochs: Int(epochs[i]), wallTime: wall[i], error: errors[i], validCurve: [])
        }
        return SweepSummary(name: try f.stringAttribute("sweep"), axes: axes, rows: rows)
    }

    /// Writes `summary.h5` atomically: one entry per run in every column.
    public func write(to path: String) throws {
        try AtomicFile.writeHDF5(to: path) { f in
            try f.setAttribute("sweep", name)
            try f.setAttribute("axes", "[" + axes.map { "\"\($0)\"" }.joined(separator: ", ") + "]")
            try f.setAttribute("sbnlab_version", Provenance.version)
            try f.writeStrings("point", rows.map(\.point))
            try f.writeStrings("path", rows.map(\.path))
            try f.writeStrings("status", rows.map(\.status))
            try f.writeStrings("estimator", rows.map(\.estimator))
            try f.writeStrings("paper_column", rows.map(\.paperColumn))
            try f.writeStrings("error", rows.map(\.error))
            try f.write("best_valid_nll", rows.map(\.bestValidNLL))
            try f.write("test_nll", rows.map(\.testNLL))
            try f.write("test_nll_sem", rows.map(\.testSEM))
            try f.write("epochs", rows.map { Int64($0.epochs) })
            try f.write("wall_time", rows.map(\.wallTime))
            try f.write("chosen", chosenRows().map { Int64($0 ? 1 : 0) })
            let params = try f.createGroup("params")
            for axis in axes {
                let values = rows.map { $0.params[axis] ?? "" }
                let numbers = values.compactMap(Double.init)
                if numbers.count == values.count { try params.write(axis, numbers) } else { try params.writeStrings(axis, values) }
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
        let header = ["| " + (groupAxes + ["runs", "best valid NLL", "test NLL (mean ± sd over seeds)", "paper"]).joined(separator: " | ") + " |",
                      "|" + String(repeating: "---|", count: groupAxes.count + 4)]
        func line(_ k: [String], mark: String) -> String {
            let g = groups[k]!
            let finished = g.filter { $0.status == "finished" }
            let tests = finished.map(\.testNLL)
            let test: String
            if tests.isEmpty { test = "—" } else if tests.count == 1 {
                test = String(format: "%.2f ± %.2f (sem)", tests[0], finished[0].testSEM)
            } else { test = String(format: "%.2f ± %.2f", Self.mean(tests), Self.sd(tests)) }
            let valid = Self.mean(finished.map(\.bestValidNLL).filter(\.isFinite))
            let column = g.first.flatMap { PaperColumn(rawValue: $0.paperColumn) }
            let paper = PaperNumbers.nll(for: g.first?.estimator ?? "", column: column).map { String(format: "%.1f", $0) } ?? "—"
            let status = finished.count == g.count ? "\(g.count)" : "\(finished.count)/\(g.count) finished"
            return "| " + (k + [status, (valid.isFinite ? String(format: "%.2f", valid) : "—") + mark, test, paper]).joined(separator: " | ") + " |"
        }
        var lines = header + keys.map { line($0, mark: best.contains($0) ? " ★" : "") }
        if !best.isEmpty {
            lines += ["", "At the learning rate chosen on validation (starred above; Jang et al. 2017 §4's protocol), "
                      + "test NLL as mean ± sd over seeds (± sem for a single run):", ""]
            lines += header + keys.filter(best.contains).map { line($0, mark: "") }
        }
        return lines.joined(separator: "\n")
    }

    /// Per row: whether it ran at the learning rate chosen on validation for its group (the ★ rows
    /// of `markdown()`); all false when the runs do not vary the learning rate.
    public func chosenRows() -> [Bool] {
        let groupAxes = axes.filter { $0 != "seed" }
        let best = chosenLearningRates(groupAxes)
        return rows.map { r in best.contains(groupAxes.map { r.params[$0] ?? "" }) }
    }

    /// The group keys (with their lr) of the learning rate chosen on validation in each group of
    /// the other axes: SweepSelection's rule, the mean over the seeds every rate has run, so extra
    /// seeds at the chosen rate do not change the choice.
    func chosenLearningRates(_ groupAxes: [String]) -> Set<[String]> {
        guard let lrIndex = groupAxes.firstIndex(of: "lr") else { return [] }
        var byRest: [[String]: [(value: String, seed: String, valid: Double)]] = [:]
        for r in rows where r.status == "finished" {
            var rest = groupAxes.map { r.params[$0] ?? "" }
            let value = rest.remove(at: lrIndex)
            byRest[rest, default: []].append((value, r.params["seed"] ?? "", r.bestValidNLL))
        }
        var best: Set<[String]> = []
        for (rest, candidates) in byRest {
            guard let chosen = SweepSelection.choose(candidates) else { continue }
            var key = rest
            key.insert(chosen, at: lrIndex)
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
