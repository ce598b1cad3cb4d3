import Foundation
import SBNConfig
import Yams

/// A sweep's second stage (`select:`), the protocol of Jang et al. 2017 §4: choose the value of
/// one axis, or jointly of several, on validation, then run more seeds at it.
///
///     select: {axis: lr, seeds: [1, 2, 3]}
///     select: {axis: [lr, temperature], seeds: [1, 2, 3]}   # §4.2: the rate, N and r together
///
/// Once every grid point has run, for each combination of the other axes (seed aside) the values
/// of `axes` with the lowest mean best-validation NLL over the seeds that every value has run
/// are chosen (what the summary marks ★), and the `seeds` the grid lacks run at them.
public struct SweepSelection: Sendable, Equatable {
    public let axes: [String]
    public let seeds: [UInt64]

    public init(axes: [String], seeds: [UInt64]) {
        self.axes = axes
        self.seeds = seeds
    }

    /// The selected axes as written, e.g. "lr" or "lr, temperature".
    public var axisText: String { axes.joined(separator: ", ") }

    static func parse(_ tree: Node, axes: [String], file: String) throws -> SweepSelection? {
        guard let raw = tree["select"] else { return nil }
        guard let section = raw.mapping, let node = section["axis"],
            let selected = node.string.map({ [$0] }) ?? node.sequence?.compactMap(\.string), !selected.isEmpty,
            node.string != nil || selected.count == node.sequence?.count
        else {
            throw ConfigError(file: file, path: "select", "expected {axis: <sweep axis or list of axes>, seeds: [..]}")
        }
        if let extra = section.keys.compactMap(\.string).first(where: { !["axis", "seeds"].contains($0) }) {
            throw ConfigError(file: file, path: "select.\(extra)", "unknown key (select has axis and seeds)")
        }
        if let axis = selected.first(where: { !axes.contains($0) || $0 == "seed" }) {
            throw ConfigError(file: file, path: "select.axis", "\(axis) is not an axis of sweep: or zip: (other than seed)")
        }
        guard Set(selected).count == selected.count else {
            throw ConfigError(file: file, path: "select.axis", "an axis is listed twice")
        }
        guard axes.contains("seed") else { throw ConfigError(file: file, path: "select", "needs seed as a sweep axis") }
        guard let list = section["seeds"]?.sequence, !list.isEmpty,
            let seeds = Optional(list.compactMap { $0.int.flatMap { $0 >= 0 ? UInt64($0) : nil } }), seeds.count == list.count
        else {
            throw ConfigError(file: file, path: "select.seeds", "expected a non-empty list of seeds ≥ 0")
        }
        return SweepSelection(axes: selected, seeds: seeds)
    }

    /// The points of the second stage, given each grid point's best validation NLL (nil while it
    /// has not run, +∞ when it failed): for each group, its chosen point with each seed the grid
    /// lacks. Groups with points still to run choose nothing yet.
    public func points(of grid: [SweepDefinition.Point], bestValid: (SweepDefinition.Point) -> Double?) -> [SweepDefinition.Point]
    {
        let groups = Dictionary(grouping: grid) { p in
            p.assignments.filter { !axes.contains($0.axis) && $0.axis != "seed" }.map(\.value)
        }
        var extra: [SweepDefinition.Point] = []
        for key in groups.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let members = groups[key]!
            let valid = members.map(bestValid)
            guard valid.allSatisfy({ $0 != nil }) else { continue }
            let rows = zip(members, valid).map { (value: $0.selected(axes), seed: $0.value(of: "seed") ?? "", valid: $1!) }
            guard let chosen = Self.choose(rows), let point = members.first(where: { $0.selected(axes) == chosen }) else {
                continue
            }
            let gridSeeds = Set(members.compactMap { $0.value(of: "seed") })
            for seed in seeds where !gridSeeds.contains("\(seed)") {
                extra.append(point.withSeed(seed, index: grid.count + extra.count))
            }
        }
        return extra
    }

    /// The value with the lowest mean validation NLL over the seeds every value has (finite ones).
    public static func choose(_ rows: [(value: String, seed: String, valid: Double)]) -> String? {
        let byValue = Dictionary(grouping: rows, by: \.value)
        var common: Set<String>?
        for group in byValue.values { common = common?.intersection(group.map(\.seed)) ?? Set(group.map(\.seed)) }
        let shared = common ?? []
        var best: (value: String, valid: Double)?
        for value in byValue.keys.sorted() {
            let v = byValue[value]!.filter { shared.contains($0.seed) && $0.valid.isFinite }.map(\.valid)
            guard !v.isEmpty else { continue }
            let mean = v.reduce(0, +) / Double(v.count)
            if mean < best?.valid ?? .infinity { best = (value, mean) }
        }
        return best?.value
    }
}

extension SweepDefinition.Point {
    /// The value (as written) of `axis` at this point.
    public func value(of axis: String) -> String? { assignments.first { $0.axis == axis }?.value }

    /// The values of the selected axes, as one key.
    func selected(_ axes: [String]) -> String { axes.map { value(of: $0) ?? "" }.joined(separator: " | ") }

    func withSeed(_ seed: UInt64, index: Int) -> SweepDefinition.Point {
        var config = self.config
        config.seed = seed
        return SweepDefinition.Point(
            index: index, assignments: assignments.map { $0.axis == "seed" ? ($0.axis, "\(seed)") : $0 },
            config: config)
    }
}
