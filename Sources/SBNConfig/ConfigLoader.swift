import Foundation
import SBNOptions
import Yams

/// Where a configuration names a component and where that component's options live.
struct OptionsSlot: @unchecked Sendable {
    let namePath: ConfigNode.Path
    let optionsPath: ConfigNode.Path
    let component: (String) -> (any Component.Type)?
    let unknown: (String) -> String

    init<Entry>(name: String, options: String, _ registry: Registry<Entry>) {
        namePath = ConfigNode.path(name)
        optionsPath = ConfigNode.path(options)
        component = { registry.component(named: $0) }
        unknown = { registry.unknownMessage($0) }
    }

    var dottedOptions: String { optionsPath.joined(separator: ".") }
    /// The options' coding path as the decoder sees it (camelCase keys).
    var codingPath: String { optionsPath.map(KeyCase.camel).joined(separator: ".") }
    /// The name key when it sits inside the options mapping (`temperature.schedule`).
    var nameInsideOptions: String? { Array(namePath.dropLast()) == optionsPath ? namePath.last : nil }
}

/// Turns an experiment definition into an `ExperimentConfig`, checking everything before
/// anything runs. Every error names the file and the key path, e.g.
/// `experiments/x.yaml: temperature.tau: expected a number > 0, got "fast"`.
///
/// The steps: the defaults (`ExperimentConfig()` encoded) are merged under the definition; each
/// component named in it (estimator, optimizer, schedule) is looked up in its registry and its
/// options' defaults are merged under what the definition sets; keys that no field declares
/// are refused; then the tree is decoded with Yams' `YAMLDecoder`, whose errors become
/// one-line messages.
public enum ConfigLoader {
    /// Top-level keys that belong to sweeps, not to one run.
    public static let sweepKeys = ["sweep", "zip", "select", "exclude"]

    /// Loads `file`, applies `overrides` (`key=value`), validates, and resolves.
    public static func load(_ file: String, overrides: [String] = []) throws -> ExperimentConfig {
        var tree = try ConfigNode.load(file)
        for o in overrides {
            let (path, value) = try ConfigNode.assignment(o)
            ConfigNode.set(value, at: path, in: &tree)
        }
        if sweepKeys.contains(where: { tree[$0] != nil }) {
            throw ConfigError(file: file, path: "sweep", "this file defines a sweep; run it with `sbnlab sweep`")
        }
        return try resolve(withName(tree, file: file), file: file)
    }

    /// The tree with `name` set from the file name when it has none.
    public static func withName(_ tree: Node, file: String) -> Node {
        guard tree["name"] == nil else { return tree }
        var named = tree
        ConfigNode.set(Node(((file as NSString).lastPathComponent as NSString).deletingPathExtension), at: ["name"], in: &named)
        return named
    }

    /// Validates a definition tree (without sweep keys) and decodes it.
    public static func resolve(_ tree: Node, file: String) throws -> ExperimentConfig {
        let defaults = try ConfigNode.encode(ExperimentConfig())
        var merged = ConfigNode.merge(defaults, tree)
        var types: [String: any ComponentOptions.Type] = [:]
        // The keys a definition may set: the defaults, with the chosen components' options.
        var known = defaults
        for slot in ExperimentConfig.slots {
            let type = try component(slot, in: merged, file: file)
            types[slot.codingPath] = type.optionsType
            let optionDefaults = try ConfigNode.encode(type.optionsType.init())
            var user = ConfigNode.get(slot.optionsPath, in: tree) ?? ConfigNode.emptyMapping
            guard user.mapping != nil else {
                throw ConfigError(
                    file: file, path: slot.dottedOptions, "expected a mapping of options, got \(ConfigNode.show(user))")
            }
            if let key = slot.nameInsideOptions { ConfigNode.remove(key, from: &user) }
            var options = ConfigNode.merge(optionDefaults, user)
            var knownOptions = optionDefaults
            if let key = slot.nameInsideOptions, let name = ConfigNode.get(slot.namePath, in: merged) {
                ConfigNode.set(name, at: [key], in: &options)
                ConfigNode.set(name, at: [key], in: &knownOptions)
            }
            ConfigNode.set(options, at: slot.optionsPath, in: &merged)
            ConfigNode.set(knownOptions, at: slot.optionsPath, in: &known)
        }
        try refuseUnknownKeys(tree, known: known, chosen: merged, file: file)
        let config = try decode(merged, types: types, file: file)
        if let (path, message) = config.crossCheck() { throw ConfigError(file: file, path: path, message) }
        return config
    }

    static func component(_ slot: OptionsSlot, in tree: Node, file: String) throws -> any Component.Type {
        let node = ConfigNode.get(slot.namePath, in: tree)
        let dotted = slot.namePath.joined(separator: ".")
        guard let node, ConfigNode.isString(node), let name = node.scalar?.string else {
            throw ConfigError(file: file, path: dotted, "expected a string, got \(ConfigNode.show(node))")
        }
        guard let type = slot.component(name) else { throw ConfigError(file: file, path: dotted, slot.unknown(name)) }
        return type
    }

    /// Every key the definition sets must be a field of the configuration or an option of the
    /// chosen component.
    static func refuseUnknownKeys(_ tree: Node, known: Node, chosen: Node, file: String) throws {
        let knownPaths = ConfigNode.leaves(known).map(\.path)
        let knownSet = Set(knownPaths)
        for (path, value) in ConfigNode.leaves(tree) where !knownSet.contains(path) {
            // An empty mapping where the configuration has a mapping is fine ({} options).
            if value.mapping?.isEmpty == true, knownPaths.contains(where: { $0.hasPrefix(path + ".") }) { continue }
            if let slot = ExperimentConfig.slots.first(where: { path.hasPrefix($0.dottedOptions + ".") }),
                let name = ConfigNode.get(slot.namePath, in: chosen)?.scalar?.string
            {
                let keys = ConfigNode.leaves(ConfigNode.get(slot.optionsPath, in: known) ?? ConfigNode.emptyMapping)
                    .map { String($0.path) }.filter { $0 != slot.nameInsideOptions }
                throw ConfigError(
                    file: file, path: path,
                    "unknown option for \(name) (known: \(keys.isEmpty ? "none" : keys.joined(separator: ", ")))")
            }
            let parentIsLeaf = knownSet.contains { path.hasPrefix($0 + ".") }
            throw ConfigError(file: file, path: path, parentIsLeaf ? "expected a single value here" : "unknown key")
        }
    }

    static func decode(_ merged: Node, types: [String: any ComponentOptions.Type], file: String) throws -> ExperimentConfig {
        do {
            return try YAMLDecoder().decode(
                ExperimentConfig.self, from: ConfigNode.mapKeys(merged, KeyCase.camel),
                userInfo: [OptionsResolver.key: OptionsResolver(types)])
        } catch let error as DecodingError {
            throw message(for: error, in: merged, file: file)
        }
    }

    /// A `DecodingError` as "file: key.path: expected …, got …".
    static func message(for error: DecodingError, in tree: Node, file: String) -> ConfigError {
        let (codingPath, expected): ([any CodingKey], String) =
            switch error {
            case .dataCorrupted(let c): (c.codingPath, c.debugDescription)
            case .typeMismatch(let type, let c): (c.codingPath, "expected " + describe(type))
            case .valueNotFound(let type, let c): (c.codingPath, "expected " + describe(type))
            case .keyNotFound(let key, let c): (c.codingPath + [key], "missing")
            @unknown default: ([], "\(error)")
            }
        var keys: ConfigNode.Path = [], dotted = ""
        for key in codingPath {
            if let i = key.intValue {
                dotted += "[\(i)]"
            } else {
                keys.append(KeyCase.snake(key.stringValue))
                dotted += (dotted.isEmpty ? "" : ".") + KeyCase.snake(key.stringValue)
            }
        }
        let value = value(at: codingPath, in: tree)
        let got = expected.hasPrefix("expected") && !expected.contains(", got ") ? ", got \(ConfigNode.show(value))" : ""
        return ConfigError(file: file, path: dotted, expected + got)
    }

    static func value(at codingPath: [any CodingKey], in tree: Node) -> Node? {
        var node: Node? = tree
        for key in codingPath {
            if let i = key.intValue {
                node = node?.sequence.flatMap { i < $0.count ? $0[i] : nil }
            } else {
                node = node?.mapping?[KeyCase.snake(key.stringValue)]
            }
        }
        return node
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is UInt64.Type: "a whole number"
        case is Double.Type, is Float.Type: "a number"
        // Yams names the container it wanted: a sequence where a list was expected.
        case is [Any].Type, is Node.Sequence.Type: "a list"
        case is Node.Scalar.Type: "a single value"
        default: "a mapping"
        }
    }
}
