/// Estimators by the name experiment files use. Adding an estimator: one file with a type that
/// conforms to `GradientEstimator`, plus one line here.
public enum EstimatorRegistry {
    // Immutable after initialisation; metatypes are not Sendable only because the protocol is not.
    nonisolated(unsafe) public static let all: [any GradientEstimator.Type] = [
        GumbelSoftmaxEstimator.self,
        STGumbelSoftmaxEstimator.self,
        StraightThroughEstimator.self,
        ReinforceEstimator.self,
        ARMEstimator.self,
    ]

    public static var names: [String] { all.map { $0.name } }

    public static func lookup(_ name: String) -> (any GradientEstimator.Type)? {
        all.first { $0.name == name }
    }
}
