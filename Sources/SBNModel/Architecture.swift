/// The layers of an SBN for structured prediction: `input` observed units (the image's top
/// half), stochastic hidden layers of any unit kind, and `output` Bernoulli units (the bottom half).
public struct Architecture: Sendable, Equatable, CustomStringConvertible {
    public var input: Int
    public var hidden: [any StochasticUnits]
    public var output: Int

    public init(input: Int, hidden: [any StochasticUnits], output: Int) {
        self.input = input
        self.hidden = hidden
        self.output = output
    }

    /// Bernoulli hidden layers: sizes [d0, d1, …, dL].
    public static func bernoulli(_ sizes: [Int]) -> Architecture {
        Architecture(input: sizes.first!, hidden: sizes.dropFirst().dropLast().map { BernoulliUnits(width: $0) }, output: sizes.last!)
    }

    /// Widths [d0, d1, …, dL] of every layer.
    public var sizes: [Int] { [input] + hidden.map(\.width) + [output] }

    /// Whether every hidden layer is Bernoulli.
    public var isBernoulli: Bool { hidden.allSatisfy { $0 is BernoulliUnits } }

    /// e.g. "392-bernoulli(200)-bernoulli(200)-392".
    public var description: String { ([String(input)] + hidden.map(\.description) + [String(output)]).joined(separator: "-") }

    public static func == (a: Architecture, b: Architecture) -> Bool { a.description == b.description }
}
