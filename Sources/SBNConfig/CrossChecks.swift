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
        // Parameters, gradients, optimizer moments and the best copy are ≈ 5 copies of the
        // network: a hand-edited width must not allocate the machine away.
        let count = parameterCount
        if count > Self.maxParameters {
            return ("layers", "the network would have \(count) parameters; at most \(Self.maxParameters)")
        }
        if let problem = workspaceMemoryProblem() { return problem }
        guard let estimator = EstimatorRegistry.registry.lookup(self.estimator) else { return nil }
        if let problem = Applicability.problem(estimator, units: layers.hidden, samples: samples.train) { return problem }
        return diagnosticsCheck()
    }

    /// The most parameters a network may have (the VAE of §4.2 has 1.1 million).
    static let maxParameters = 20_000_000

    /// The most a pass's buffers may take: a workspace keeps about ten rows × (every layer's width)
    /// matrices, with batch_size × samples.train rows in training and at least samples.valid or
    /// samples.test rows (one image's samples) in an evaluation chunk.
    static let maxWorkspaceBytes = 4 << 30

    func workspaceMemoryProblem() -> (path: String, message: String)? {
        let architecture = family.fullArchitecture(layers: layers, options: model.options)
        let widths =
            (1...architecture.hidden.count + 1).reduce(architecture.input) {
                $0 + architecture.mapWidths($1).dropFirst().reduce(0, +)
            } + (architecture.conv?.bufferUnits(input: architecture.input) ?? 0)
        let training = batchSize.multipliedReportingOverflow(by: samples.train)
        let cases: [(String, Int, Bool)] = [
            ("batch_size", training.partialValue, training.overflow),
            ("samples.valid", samples.valid, false), ("samples.test", samples.test, false),
        ]
        for (path, rows, overflow) in cases {
            let (bytes, over) = rows.multipliedReportingOverflow(by: widths * 40)
            if overflow || over || bytes > Self.maxWorkspaceBytes {
                return (
                    path,
                    "a pass would need about \(overflow || over ? "more than 4" : String(bytes >> 30)) GB of buffers "
                        + "(\(path == "batch_size" ? "batch_size × samples.train" : path) rows × \(widths) units); at most 4 GB"
                )
            }
        }
        return nil
    }

    /// The network's weights and biases, from the family's maps (no allocation; saturating).
    var parameterCount: Int {
        let architecture = family.fullArchitecture(layers: layers, options: model.options)
        var total = architecture.conv?.parameterCount ?? 0
        for l in 1...architecture.hidden.count + 1 {
            let widths = architecture.mapWidths(l)
            for k in 1..<widths.count {
                let (product, overflow) = (widths[k - 1] + 1).multipliedReportingOverflow(by: widths[k])
                if overflow || total > Int.max / 2 - product { return .max }
                total += product
            }
        }
        return total
    }

    /// Every estimator `diagnostics:` names (`name` or `name{options}`) exists, has valid options
    /// and applies to these layers and m.
    func diagnosticsCheck() -> (path: String, message: String)? {
        guard diagnostics.every != nil else { return nil }
        let named =
            diagnostics.estimators.enumerated().map { ("diagnostics.estimators[\($0.offset)]", $0.element) }
            + [("diagnostics.reference", diagnostics.referenceName(for: layers))]
        for (path, spec) in named {
            let name = String(spec.prefix { $0 != "{" })
            guard let type = EstimatorRegistry.registry.lookup(name) else {
                return (
                    path, "unknown estimator \"\(name)\" (known: \(EstimatorRegistry.registry.names.joined(separator: ", ")))"
                )
            }
            if let problem = Applicability.problem(type, units: layers.hidden, samples: samples.train) {
                return (path, problem.message)
            }
            do { _ = try EstimatorVariant(spec, file: path, for: self) } catch let e as ConfigError {
                return (path, "\(e.path): \(e.message)")
            } catch { return (path, "\(error)") }
        }
        return nil
    }
}
