import SBNTensor

/// What a component (optimizer, estimator) keeps between steps and a checkpoint must restore:
/// tensors by name, typed scalars — integer counters such as Adam's step count, real-valued
/// running statistics such as REINFORCE's moving mean — and the states of its parts (an
/// estimator's baseline network and that network's optimizer). Nothing is squeezed into a Float
/// matrix: checkpoints store tensors as datasets, scalars as typed attributes, parts as groups.
public final class ComponentState: @unchecked Sendable {
    public let tensors: ParameterSet
    public var integers: [String: Int64]
    public var reals: [String: Double]
    public let parts: [(name: String, state: ComponentState)]
    /// Name prefixes of the tensors and reals that cannot be negative (Adam's second moments
    /// "v/", a running "variance"): a checkpoint holding a negative one was damaged or edited,
    /// and resuming from it would take a square root of it (`firstInvalid`).
    public let nonNegative: [String]

    public init(
        tensors: ParameterSet = ParameterSet([]), integers: [String: Int64] = [:], reals: [String: Double] = [:],
        parts: [(name: String, state: ComponentState)] = [], nonNegative: [String] = []
    ) {
        self.tensors = tensors
        self.integers = integers
        self.reals = reals
        self.parts = parts
        self.nonNegative = nonNegative
    }

    /// The empty state of a stateless component.
    public static var none: ComponentState { ComponentState() }

    /// Calls `body` for this state and every part below it, with its path ("" for this one,
    /// then "baseline", "baseline/adam", …), parents first.
    public func visit(_ path: String = "", _ body: (String, ComponentState) throws -> Void) rethrows {
        try body(path, self)
        for (name, part) in parts { try part.visit(path.isEmpty ? name : path + "/" + name, body) }
    }

    /// The first of this state's own values (not its parts') that no component could have
    /// written, or nil: a NaN or infinity, a negative counter (every integer counts steps or
    /// batches), or a negative value under `nonNegative`. A checkpoint's reader checks each part
    /// before the state is trusted; `tensor` says whether `name` is a tensor or a scalar.
    public var firstInvalidValue: (name: String, tensor: Bool, problem: String)? {
        func bounded(_ name: String) -> Bool { nonNegative.contains { name.hasPrefix($0) } }
        for (name, t) in zip(tensors.names, tensors.tensors) {
            if !t.allFinite { return (name, true, "holds a NaN or infinity") }
            if bounded(name), t.buffer.contains(where: { $0 < 0 }) { return (name, true, "holds a negative value") }
        }
        for (key, value) in reals.sorted(by: { $0.key < $1.key }) where !value.isFinite || (bounded(key) && value < 0) {
            return (key, false, "is \(value)")
        }
        for (key, value) in integers.sorted(by: { $0.key < $1.key }) where value < 0 { return (key, false, "is \(value)") }
        return nil
    }
}
