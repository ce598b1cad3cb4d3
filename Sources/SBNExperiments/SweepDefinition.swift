import Foundation

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
    public let points: [Point]

    public static func load(_ file: String, overrides: [String] = []) throws -> SweepDefinition {
        var tree = try ConfigTree.load(file)
        for o in overrides { try ConfigTree.set(o, in: &tree) }
        let sweep = try axesSection(tree, key: "sweep", file: file, required: true)
        let zip = try axesSection(tree, key: "zip", file: file, required: false)
        if let length = zip.first?.values.count, zip.contains(where: { $0.values.count != length }) {
            throw ConfigError(file: file, path: "zip", "every zip axis needs the same number of values")
        }
        let overlap = Set(sweep.map(\.axis)).intersection(zip.map(\.axis))
        if let axis = overlap.first { throw ConfigError(file: file, path: "zip.\(axis)", "axis also appears under sweep") }
        var base = tree
        base.removeValue(forKey: "sweep")
        base.removeValue(forKey: "zip")
        if base["name"] == nil { base["name"] = ((file as NSString).lastPathComponent as NSString).deletingPathExtension }
        // Validate the base and every single axis value, reporting the sweep's own key path.
        _ = try ConfigValidator.resolve(base, file: file)
        for section in [("sweep", sweep), ("zip", zip)] {
            for (axis, values) in section.1 {
                for (i, v) in values.enumerated() {
                    var t = base
                    ConfigTree.set(v, at: axis.split(separator: ".").map(String.init), in: &t)
                    do { _ = try ConfigValidator.resolve(t, file: file) } catch let e as ConfigError where e.path.hasPrefix(axis) {
                        throw ConfigError(file: file, path: "\(section.0).\(axis)[\(i)]", e.message)
                    }
                }
            }
        }
        // Cartesian product of the sweep axes, times the zipped group.
        var combos: [[(String, Any)]] = [[]]
        for (axis, values) in sweep {
            combos = combos.flatMap { c in values.map { c + [(axis, $0)] } }
        }
        if let length = zip.first?.values.count {
            combos = combos.flatMap { c in (0..<length).map { i in c + zip.map { ($0.axis, $0.values[i]) } } }
        }
        let points = try combos.enumerated().map { index, combo -> Point in
            var t = base
            for (axis, value) in combo { ConfigTree.set(value, at: axis.split(separator: ".").map(String.init), in: &t) }
            return Point(index: index, assignments: combo.map { ($0.0, Self.show($0.1)) }, config: try ConfigValidator.resolve(t, file: file))
        }
        return SweepDefinition(file: file, name: base["name"] as? String ?? "sweep", description: base["description"] as? String ?? "",
                               axes: sweep.map(\.axis) + zip.map(\.axis), points: points)
    }

    static func axesSection(_ tree: ConfigTree.Node, key: String, file: String, required: Bool) throws -> [(axis: String, values: [Any])] {
        guard let raw = tree[key] else {
            if required { throw ConfigError(file: file, path: key, "no sweep section (use `sbnlab run` for a single run)") }
            return []
        }
        guard let section = raw as? ConfigTree.Node, !section.isEmpty else {
            throw ConfigError(file: file, path: key, "expected a mapping of at least one axis to a list of values")
        }
        // Axes may be written nested ({temperature: {tau: […]}}) or dotted ("temperature.tau": […]).
        var axes: [(String, [Any])] = []
        func walk(_ node: ConfigTree.Node, prefix: String) throws {
            for k in node.keys.sorted() {
                let path = prefix.isEmpty ? k : prefix + "." + k
                if let child = node[k] as? ConfigTree.Node { try walk(child, prefix: path); continue }
                guard let list = node[k] as? [Any], !list.isEmpty else {
                    throw ConfigError(file: file, path: "\(key).\(path)", "expected a non-empty list of values")
                }
                axes.append((path, list))
            }
        }
        try walk(section, prefix: "")
        return axes
    }

    static func show(_ v: Any) -> String {
        switch v {
        case let d as Double: return d == d.rounded() && abs(d) < 1e15 ? String(format: "%.1f", d) : "\(d)"
        default: return "\(v)"
        }
    }
}
