import SBNEstimators
import SBNModel

/// Checks that relate several fields of a configuration, made at load time so that a run that
/// cannot work is refused before anything is written.
extension ExperimentConfig {
    /// The first problem as (key path, message), or nil.
    func crossCheck() -> (path: String, message: String)? {
        guard let estimator = EstimatorRegistry.registry.lookup(self.estimator) else { return nil }
        for (i, units) in layers.hidden.enumerated() where !estimator.supports(units) {
            return ("estimator", "\(estimator.name) does not support \(type(of: units).kind) layers (layers[\(i + 1)] is \(units))")
        }
        if let most = estimator.maxTrainingSamples, samples.train > most {
            return ("samples.train", "\(estimator.name) supports m ≤ \(most), got \(samples.train)")
        }
        if samples.train < estimator.minTrainingSamples {
            return ("samples.train", "\(estimator.name) needs m ≥ \(estimator.minTrainingSamples), got \(samples.train)")
        }
        return nil
    }
}
