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

    public init(
        tensors: ParameterSet = ParameterSet([]), integers: [String: Int64] = [:], reals: [String: Double] = [:],
        parts: [(name: String, state: ComponentState)] = []
    ) {
        self.tensors = tensors
        self.integers = integers
        self.reals = reals
        self.parts = parts
    }

    /// The empty state of a stateless component.
    public static var none: ComponentState { ComponentState() }

    /// Calls `body` for this state and every part below it, with its path ("" for this one,
    /// then "baseline", "baseline/adam", …), parents first.
    public func visit(_ path: String = "", _ body: (String, ComponentState) throws -> Void) rethrows {
        try body(path, self)
        for (name, part) in parts { try part.visit(path.isEmpty ? name : path + "/" + name, body) }
    }
}
