import SBNEstimators
import SBNModel

/// Checks that relate several fields of a configuration, made at load time so that a run that
/// cannot work is refused before anything is written.
extension ExperimentConfig {
    /// The first problem as (key path, message), or nil.
    func crossCheck() -> (path: String, message: String)? {
        // The name is the default results folder (results/<name>): it must stay inside results/.
        if name.isEmpty || name == "." || name == ".." || name.contains("/") || name.contains("\0") || name.count > 200 {
            return ("name", "expected a folder name (1–200 characters, no \"/\", not \".\" or \"..\"), got \"\(name)\"")
        }
        if let problem = family.problem(layers: layers, options: model.options, trainingSamples: samples.train) { return problem }
        guard let estimator = EstimatorRegistry.registry.lookup(self.estimator) else { return nil }
        if let problem = Applicability.problem(estimator, units: layers.hidden, samples: samples.train) { return problem }
        return diagnosticsCheck()
    }

    /// Every estimator `diagnostics:` names (`name` or `name{options}`) exists, has valid options
    /// and applies to these layers and m.
    func diagnosticsCheck() -> (path: String, message: String)? {
        guard diagnostics.every != nil else { return nil }
        let named = diagnostics.estimators.enumerated().map { ("diagnostics.estimators[\($0.offset)]", $0.element) }
            + [("diagnostics.reference", diagnostics.referenceName(for: layers))]
        for (path, spec) in named {
            let name = String(spec.prefix { $0 != "{" })
            guard let type = EstimatorRegistry.registry.lookup(name) else {
                return (path, "unknown estimator \"\(name)\" (known: \(EstimatorRegistry.registry.names.joined(separator: ", ")))")
            }
            do { _ = try EstimatorVariant(spec, file: path) } catch let e as ConfigError {
                return (path, "\(e.path): \(e.message)")
            } catch { return (path, "\(error)") }
            if let problem = Applicability.problem(type, units: layers.hidden, samples: samples.train) { return (path, problem.message) }
        }
        return nil
    }
}
