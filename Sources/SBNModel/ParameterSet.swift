import SBNTensor

/// An ordered set of named tensors: a model's parameters, their gradients, an optimizer's
/// moments, or an estimator's own state. Checkpoints save and restore these by name.
public final class ParameterSet: @unchecked Sendable {
    public let names: [String]
    public let tensors: [Matrix]

    public convenience init(_ entries: [(name: String, rows: Int, cols: Int)]) {
        self.init(names: entries.map(\.name), tensors: entries.map { Matrix(rows: $0.rows, cols: $0.cols) })
    }

    init(names: [String], tensors: [Matrix]) {
        precondition(Set(names).count == names.count, "ParameterSet: duplicate names \(names)")
        self.names = names
        self.tensors = tensors
    }

    /// A zero-filled set with the same names and shapes (for gradients and optimizer moments).
    public func zerosLike(prefix: String = "") -> ParameterSet {
        ParameterSet(zip(names, tensors).map { (prefix + $0.0, $0.1.rows, $0.1.cols) })
    }

    public subscript(name: String) -> Matrix {
        guard let i = names.firstIndex(of: name) else { preconditionFailure("ParameterSet: no tensor '\(name)'") }
        return tensors[i]
    }

    public var scalarCount: Int { tensors.reduce(0) { $0 + $1.count } }

    public func zero() { for t in tensors { t.fill(0) } }

    /// Calls `body(tensor index, element range)` for every tensor, each cut into the runner's
    /// parts (on a multiple of 64 so vector loops run whole), and returns the name of the first
    /// tensor for which some part returned false.
    public func partwise(runner: PartRunner, _ body: (Int, Range<Int>) -> Bool) -> String? {
        // A flag per part and tensor, on the stack (the training step must not allocate).
        withUnsafeTemporaryAllocation(of: Bool.self, capacity: PartRunner.parts * tensors.count) { ok in
            runner.run { part in
                for (k, t) in tensors.enumerated() {
                    let r = PartRunner.range(part, of: t.count, boundary: PartRunner.boundary(t.count, align: 64))
                    ok[part * tensors.count + k] = body(k, r)
                }
            }
            return names.indices.first { k in (0..<PartRunner.parts).contains { !ok[$0 * tensors.count + k] } }.map { names[$0] }
        }
    }

    /// Zeroes every tensor, each cut into the runner's parts.
    public func zero(runner: PartRunner) {
        _ = partwise(runner: runner) { k, r in
            (tensors[k].pointer + r.lowerBound).update(repeating: 0, count: r.count)
            return true
        }
    }

    public func copy(from other: ParameterSet) {
        precondition(other.names == names, "ParameterSet.copy: names differ")
        for (t, o) in zip(tensors, other.tensors) { t.copy(from: o) }
    }

    /// The name of the first tensor holding a NaN or ±Inf, or nil.
    public var firstNonFinite: String? {
        for (n, t) in zip(names, tensors) where !t.allFinite { return n }
        return nil
    }
}

extension ParameterSet: Equatable {
    /// Bit-identical names, shapes and values.
    public static func == (a: ParameterSet, b: ParameterSet) -> Bool {
        a.names == b.names && zip(a.tensors, b.tensors).allSatisfy { $0 == $1 }
    }
}

extension ParameterSet {
    /// A set that refers to (does not copy) the tensors of several sets, each name prefixed, so
    /// that restoring the joined set restores its parts in place.
    public convenience init(joining parts: [(prefix: String, set: ParameterSet)]) {
        self.init(
            names: parts.flatMap { p in p.set.names.map { p.prefix + $0 } },
            tensors: parts.flatMap { $0.set.tensors })
    }
}
