import SBNOptions

/// Estimators by the name experiment files use. Adding an estimator: one file with a type that
/// conforms to `GradientEstimator`, plus one line here.
public enum EstimatorRegistry {
    public static let registry = Registry<any GradientEstimator.Type>(
        kind: "estimator",
        [
            GumbelSoftmaxEstimator.self,
            STGumbelSoftmaxEstimator.self,
            StraightThroughEstimator.self,
            StraightThroughAnnealedEstimator.self,
            StraightThroughChungEstimator.self,
            ReinforceEstimator.self,
            DARNEstimator.self,
            TaylorHalfEstimator.self,
            DARNScalarEstimator.self,
            MuPropEstimator.self,
            ARMEstimator.self,
            DisARMEstimator.self,
            VIMCOEstimator.self,
            ReinforceLOOEstimator.self,
            REBAREstimator.self,
            MarginalEstimator.self,
        ]
    ) { $0 }
}
