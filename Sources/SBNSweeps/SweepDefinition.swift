import Foundation
import SBNConfig
import Yams

/// An experiment file with a `sweep:` section: axes over any field (dotted key paths), whose
/// cartesian product gives the points; `zip:` axes vary together as one extra axis.
///
///     sweep: {estimator: [gs, st], seed: [1, 2, 3]}
///     zip:   {temperature.schedule: [fixed, exponential], temperature.tau: [0.5, 1.0]}
public struct SweepDefinition: Sendable {
    public struct Point: Sendable {
        public let index: Int
        /// (axis, value as written) pairs, in axis order.
        public let assignments: [(axis: String, value: String)]
        public let config: ExperimentConfig
        /// A file-system-safe name made of the point's parameters.
        public var name: String {
            assignments.map { "\($0.axis)-\($0.value)" }.joined(separator: "_")
                .map { $0.isLetter || $0.isNumber || "._-+".contains($0) ? $0 : "~" }.reduce(into: "") { $0.append($1) }
        }
    }

    public let file: String
    public let name: String
    public let description: String
    public let axes: [String]
    /// The grid: every combination of the axes.
    public let points: [Point]
    /// The second stage, if any (`select:`).
    public let selection: SweepSelection?

    public static func load(_ file: String, overrides: [String] = []) throws -> SweepDefinition {
        var tree = try ConfigNode.load(file)
        for o in overrides {
            let (path, value) = try ConfigNode.assignment(o)
            ConfigNode.set(value, at: path, in: &tree)
        }
        let sweep = try axesSection(tree, key: "sweep", file: file, required: true)
        let zip = try axesSection(tree, key: "zip", file: file, required: false)
        if let length = zip.first?.values.count, zip.contains(where: { $0.values.count != length }) {
            throw ConfigError(file: file, path: "zip", "every zip axis needs the same number of values")
        }
        if let axis = Set(sweep.map(\.axis)).intersection(zip.map(\.axis)).first {
            throw ConfigError(file: file, path: "zip.\(axis)", "axis also appears under sweep")
        }
        var base = tree
        for key in ConfigLoader.sweepKeys { ConfigNode.remove(key, from: &base) }
        base = ConfigLoader.withName(base, file: file)
        _ = try ConfigLoader.resolve(base, file: file)
        try validateAxes([("sweep", sweep), ("zip", zip)], base: base, file: file)
        let excluded = try exclusions(tree, axes: sweep + zip, file: file)
        let combos = combinations(sweep: sweep, zip: zip).filter { combo in
            !excluded.contains { rule in
                rule.allSatisfy { axis, values in combo.contains { $0.axis == axis && values.contains(ConfigNode.text($0.value)) }
                }
            }
        }
        let points = try combos.enumerated().map { index, combo -> Point in
            var t = base
            for (axis, value) in combo { ConfigNode.set(value, at: ConfigNode.path(axis), in: &t) }
            return Point(
                index: index, assignments: combo.map { ($0.axis, ConfigNode.text($0.value)) },
                config: try ConfigLoader.resolve(t, file: file))
        }
        if let duplicate = Dictionary(grouping: points, by: \.name).first(where: { $0.value.count > 1 })?.key {
            throw ConfigError(file: file, path: "sweep", "point \(duplicate) appears more than once")
        }
        let axes = sweep.map(\.axis) + zip.map(\.axis)
        return SweepDefinition(
            file: file, name: base["name"]?.string ?? "sweep", description: base["description"]?.string ?? "",
            axes: axes, points: points, selection: try SweepSelection.parse(tree, axes: axes, file: file))
    }

    typealias Axis = (axis: String, values: [Node])

    /// `exclude:`, a list of rules {axis: [values], …}: the grid points whose value of every axis
    /// a rule names is among its values are left out. E.g. the temperature grid only for the
    /// estimators that use a temperature:
    ///
    ///     exclude: [{estimator: [reinforce, darn], temperature.rate: [1.0e-5]}]
    static func exclusions(_ tree: Node, axes: [Axis], file: String) throws -> [[(axis: String, values: Set<String>)]] {
        guard let raw = tree["exclude"] else { return [] }
        guard let rules = raw.sequence else {
            throw ConfigError(file: file, path: "exclude", "expected a list of {axis: [values]} rules")
        }
        return try rules.enumerated().map { i, rule in
            guard rule.mapping?.isEmpty == false else {
                throw ConfigError(file: file, path: "exclude[\(i)]", "expected a mapping of sweep axes to lists of values")
            }
            return try ConfigNode.leaves(rule).map { path, value in
                guard let axis = axes.first(where: { $0.axis == path }) else {
                    throw ConfigError(file: file, path: "exclude[\(i)].\(path)", "not an axis of sweep: or zip:")
                }
                let known = Set(axis.values.map(ConfigNode.text))
                guard let list = value.sequence, !list.isEmpty else {
                    throw ConfigError(file: file, path: "exclude[\(i)].\(path)", "expected a non-empty list of values")
                }
                let texts = Set(list.map(ConfigNode.text))
                if let unknown = texts.subtracting(known).sorted().first {
                    throw ConfigError(file: file, path: "exclude[\(i)].\(path)", "\(unknown) is not one of the axis's values")
                }
                return (path, texts)
            }
        }
    }

    /// Checks the base with each single sweep value, and with each zipped tuple (zip axes vary
    /// together, so `estimator: vimco` is checked with its own `samples.train`), reporting the
    /// sweep's own key path (`sweep.temperature.tau[2]: …`).
    static func validateAxes(_ sections: [(String, [Axis])], base: Node, file: String) throws {
        for (section, axes) in sections {
            for (axis, values) in axes {
                for (i, v) in values.enumerated() {
                    var t = base
                    ConfigNode.set(v, at: ConfigNode.path(axis), in: &t)
                    if section == "zip" {
                        for other in axes where other.axis != axis {
                            ConfigNode.set(other.values[i], at: ConfigNode.path(other.axis), in: &t)
                        }
                    }
                    do { _ = try ConfigLoader.resolve(t, file: file) } catch let e as ConfigError where e.path.hasPrefix(axis) {
                        throw ConfigError(file: file, path: "\(section).\(axis)[\(i)]", e.message)
                    }
                }
            }
        }
    }

    /// The cartesian product of the sweep axes, times the zipped group.
    static func combinations(sweep: [Axis], zip: [Axis]) -> [[(axis: String, value: Node)]] {
        var combos: [[(axis: String, value: Node)]] = [[]]
        for (axis, values) in sweep {
            combos = combos.flatMap { c in values.map { c + [(axis, $0)] } }
        }
        if let length = zip.first?.values.count {
            combos = combos.flatMap { c in (0..<length).map { i in c + zip.map { ($0.axis, $0.values[i]) } } }
        }
        return combos
    }

    /// Whether two axis values are equal: numbers by value, anything else as written.
    static func sameValue(_ a: Node, _ b: Node) -> Bool {
        if let x = a.scalar.flatMap({ Double($0.string) }), let y = b.scalar.flatMap({ Double($0.string) }) { return x == y }
        return ConfigNode.text(a) == ConfigNode.text(b)
    }

    static func axesSection(_ tree: Node, key: String, file: String, required: Bool) throws -> [Axis] {
        guard let raw = tree[key] else {
            if required { throw ConfigError(file: file, path: key, "no sweep section (use `sbnlab run` for a single run)") }
            return []
        }
        guard let section = raw.mapping, !section.isEmpty else {
            throw ConfigError(file: file, path: key, "expected a mapping of at least one axis to a list of values")
        }
        // Axes may be written nested ({temperature: {tau: […]}}) or dotted ("temperature.tau": […]).
        return try ConfigNode.leaves(raw).map { path, value in
            guard let list = value.sequence, !list.isEmpty else {
                throw ConfigError(file: file, path: "\(key).\(path)", "expected a non-empty list of values")
            }
            // 0.001, 1e-3 and 0.0010 are one value: three points of it would run the same run three
            // times. (Zipped axes repeat values by design; their tuples are checked as point names.)
            for (i, v) in list.enumerated() where key == "sweep" {
                if let j = list.prefix(i).firstIndex(where: { sameValue($0, v) }) {
                    throw ConfigError(
                        file: file, path: "\(key).\(path)[\(i)]",
                        "\(ConfigNode.text(v)) is the same value as \(key).\(path)[\(j)] (\(ConfigNode.text(list[j])))")
                }
            }
            return (path, Array(list))
        }
    }
}
