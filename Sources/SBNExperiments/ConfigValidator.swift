import Foundation
import SBNEstimators
import Yams

/// Checks a definition before anything runs and turns it into an `ExperimentConfig`. Every error
/// names the file and the key path, e.g. `experiments/x.yaml: temperature.tau: expected a number > 0, got "fast"`.
public enum ConfigValidator {
    /// Top-level keys that belong to sweeps, not to one run.
    public static let sweepKeys: Set<String> = ["sweep", "zip"]

    public static var defaults: ConfigTree.Node {
        // The defaults are a constant of this file; a failure here is a programming error.
        (try! Yams.load(yaml: ExperimentConfig.defaultsYAML)) as! ConfigTree.Node
    }

    /// Loads `file`, applies `overrides` (`key=value`), validates, and resolves.
    public static func load(_ file: String, overrides: [String] = [], allowSweep: Bool = false) throws -> ExperimentConfig {
        var tree = try ConfigTree.load(file)
        for o in overrides { try ConfigTree.set(o, in: &tree) }
        if !allowSweep, tree["sweep"] != nil || tree["zip"] != nil {
            throw ConfigError(file: file, path: "sweep", "this file defines a sweep; run it with `sbnlab sweep`")
        }
        for k in sweepKeys { tree.removeValue(forKey: k) }
        if tree["name"] == nil { tree["name"] = ((file as NSString).lastPathComponent as NSString).deletingPathExtension }
        return try resolve(tree, file: file)
    }

    /// Validates a tree (already merged over nothing) against the schema and the registries.
    public static func resolve(_ tree: ConfigTree.Node, file: String) throws -> ExperimentConfig {
        let defaultTree = defaults
        let known = Set(ConfigTree.leafPaths(defaultTree))
        for path in ConfigTree.leafPaths(tree) where !known.contains(path) && !path.hasPrefix("estimator_options.") {
            let parentIsLeaf = known.contains(where: { path.hasPrefix($0 + ".") })
            throw ConfigError(file: file, path: path, parentIsLeaf ? "expected a scalar here" : "unknown key")
        }
        let t = ConfigTree.merge(defaultTree, tree)
        let r = Reader(tree: t, file: file)

        let estimator = try r.string("estimator")
        guard let estimatorType = EstimatorRegistry.lookup(estimator) else {
            throw ConfigError(file: file, path: "estimator",
                              "unknown estimator \"\(estimator)\" (known: \(EstimatorRegistry.names.joined(separator: ", ")))")
        }
        var options: [String: Double] = [:]
        for (k, v) in (t["estimator_options"] as? ConfigTree.Node) ?? [:] {
            guard estimatorType.optionKeys.contains(k) else {
                let known = estimatorType.optionKeys.isEmpty ? "none" : estimatorType.optionKeys.joined(separator: ", ")
                throw ConfigError(file: file, path: "estimator_options.\(k)", "unknown option for \(estimator) (known: \(known))")
            }
            if let b = v as? Bool { options[k] = b ? 1 : 0 } else if let d = Reader.number(v) { options[k] = d } else {
                throw ConfigError(file: file, path: "estimator_options.\(k)", "expected a number or true/false, got \(Reader.show(v))")
            }
        }
        let schedule = try r.string("temperature.schedule")
        guard ScheduleRegistry.lookup(schedule) != nil else {
            throw ConfigError(file: file, path: "temperature.schedule",
                              "unknown schedule \"\(schedule)\" (known: \(ScheduleRegistry.names.joined(separator: ", ")))")
        }
        let optimizer = try r.string("optimizer")
        guard OptimizerRegistry.lookup(optimizer) != nil else {
            throw ConfigError(file: file, path: "optimizer",
                              "unknown optimizer \"\(optimizer)\" (known: \(OptimizerRegistry.names.joined(separator: ", ")))")
        }
        let layers = try r.integers("layers", min: 1)
        guard layers.count >= 3 else { throw ConfigError(file: file, path: "layers", "expected at least 3 sizes (input, hidden…, output)") }
        guard layers.first! + layers.last! == 784 else {
            throw ConfigError(file: file, path: "layers", "input + output sizes must be 784 (the two image halves), got \(layers)")
        }
        let config = ExperimentConfig(
            name: try r.string("name"),
            description: try r.string("description"),
            data: .init(path: try r.string("data.path"),
                        trainLimit: try r.optionalInteger("data.train_limit", min: 1),
                        validLimit: try r.optionalInteger("data.valid_limit", min: 1),
                        testLimit: try r.optionalInteger("data.test_limit", min: 1)),
            layers: layers,
            estimator: estimator,
            estimatorOptions: options,
            temperature: .init(schedule: schedule,
                               tau: try r.number("temperature.tau", positive: true),
                               tauMin: try r.number("temperature.tau_min", positive: true),
                               rate: try r.number("temperature.rate", positive: false),
                               every: try r.integer("temperature.every", min: 1)),
            optimizer: optimizer,
            lr: try r.number("lr", positive: true),
            momentum: try r.number("momentum", positive: false),
            batchSize: try r.integer("batch_size", min: 1),
            epochs: try r.integer("epochs", min: 1),
            samples: .init(train: try r.integer("samples.train", min: 1),
                           valid: try r.integer("samples.valid", min: 1),
                           test: try r.integer("samples.test", min: 1)),
            seed: UInt64(try r.integer("seed", min: 0)),
            logEvery: try r.integer("log_every", min: 1))
        guard config.momentum < 1 else { throw ConfigError(file: file, path: "momentum", "expected a number in [0, 1), got \(config.momentum)") }
        return config
    }

    /// Typed reads from a merged tree.
    struct Reader {
        let tree: ConfigTree.Node
        let file: String

        func value(_ path: String) -> Any? { ConfigTree.get(path.split(separator: ".").map(String.init), in: tree) }

        static func number(_ v: Any?) -> Double? {
            switch v {
            case let d as Double: return d
            case let i as Int: return Double(i)
            case let s as String: return Double(s.trimmingCharacters(in: .whitespaces))
            default: return nil
            }
        }

        static func show(_ v: Any?) -> String {
            switch v {
            case nil, is NSNull: return "null"
            case let s as String: return "\"\(s)\""
            default: return String(describing: v!)
            }
        }

        func string(_ path: String) throws -> String {
            guard let s = value(path) as? String else {
                throw ConfigError(file: file, path: path, "expected a string, got \(Reader.show(value(path)))")
            }
            return s
        }

        func number(_ path: String, positive: Bool) throws -> Double {
            let v = value(path)
            guard v is Bool == false, let d = Reader.number(v), d.isFinite, positive ? d > 0 : d >= 0 else {
                throw ConfigError(file: file, path: path, "expected a number \(positive ? "> 0" : "≥ 0"), got \(Reader.show(v))")
            }
            return d
        }

        func integer(_ path: String, min: Int) throws -> Int {
            let v = value(path)
            guard v is Bool == false, let d = Reader.number(v), d == d.rounded(), d >= Double(min), d < 1e15 else {
                throw ConfigError(file: file, path: path, "expected a whole number ≥ \(min), got \(Reader.show(v))")
            }
            return Int(d)
        }

        func optionalInteger(_ path: String, min: Int) throws -> Int? {
            let v = value(path)
            if v == nil || v is NSNull { return nil }
            return try integer(path, min: min)
        }

        func integers(_ path: String, min: Int) throws -> [Int] {
            guard let list = value(path) as? [Any] else {
                throw ConfigError(file: file, path: path, "expected a list of whole numbers, got \(Reader.show(value(path)))")
            }
            return try list.enumerated().map { i, v in
                guard let d = Reader.number(v), d == d.rounded(), d >= Double(min) else {
                    throw ConfigError(file: file, path: "\(path)[\(i)]", "expected a whole number ≥ \(min), got \(Reader.show(v))")
                }
                return Int(d)
            }
        }
    }
}
