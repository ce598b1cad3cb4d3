import SBNModel

/// Optimizers by the name experiment files use.
public enum OptimizerRegistry {
    public typealias Factory = @Sendable (ParameterSet, ExperimentConfig) -> any Optimizer

    public static let all: [(name: String, make: Factory)] = [
        (SGDMomentum.name, { SGDMomentum(parameters: $0, learningRate: Float($1.lr), momentum: Float($1.momentum)) }),
        (Adam.name, { Adam(parameters: $0, learningRate: Float($1.lr)) }),
    ]

    public static var names: [String] { all.map(\.name) }
    public static func lookup(_ name: String) -> Factory? { all.first { $0.name == name }?.make }
}
