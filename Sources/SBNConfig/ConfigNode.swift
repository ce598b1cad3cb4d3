import Foundation
import Yams

/// An experiment definition as a YAML node tree: the one form a definition takes between the
/// file and the typed `ExperimentConfig`. `extends:` chains and `--set` overrides merge here,
/// sweeps set their axis values here, and summaries flatten stored configurations here; every
/// walk over dotted key paths is one of the functions below.
public enum ConfigNode {
    /// A dotted key path split into keys ("temperature.tau" → ["temperature", "tau"]).
    public typealias Path = [String]

    public static func path(_ dotted: String) -> Path { dotted.split(separator: ".").map(String.init) }

    public static var emptyMapping: Node { .mapping(Node.Mapping([])) }

    /// The most values a definition may expand to. YAML aliases share nodes, so a small file can
    /// stand for an exponentially large tree (a "billion laughs"); nothing walks such a tree.
    public static let maxValues = 100_000

    /// Parses YAML (or JSON) text, refusing trees larger than `maxValues`.
    public static func parse(_ text: String, file: String) throws -> Node {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            let reason = String(describing: error).split(separator: "\n").first.map(String.init) ?? "parse error"
            throw ConfigError(file: file, path: "", "not valid YAML: \(reason)")
        }
        guard let node, node.mapping != nil else {
            throw ConfigError(file: file, path: "", "expected a mapping at the top level")
        }
        var budget = maxValues
        guard fits(node, budget: &budget) else {
            throw ConfigError(file: file, path: "", "expands to more than \(maxValues) values (through YAML aliases?)")
        }
        return node
    }

    /// Counts values down from `budget`, stopping as soon as it runs out.
    static func fits(_ node: Node, budget: inout Int) -> Bool {
        budget -= 1
        guard budget >= 0 else { return false }
        switch node {
        case .mapping(let m): return m.allSatisfy { fits($0.value, budget: &budget) }
        case .sequence(let s): return s.allSatisfy { fits($0, budget: &budget) }
        default: return true
        }
    }

    /// Loads `file`, resolving `extends:` (a path relative to the file's folder, `.yaml`
    /// optional): the parent's fields, minus its name, description and sweep, under the child's.
    public static func load(_ file: String, seen: Set<String> = []) throws -> Node {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ConfigError(file: file, path: "", "cannot read experiment file")
        }
        var node = try parse(text, file: file)
        guard let parentName = node["extends"] else { return node }
        guard isString(parentName), let name = parentName.scalar?.string else {
            throw ConfigError(file: file, path: "extends", "expected the name of another experiment")
        }
        let parent = locate(name, relativeTo: file)
        let identity = realPath(file), parentIdentity = realPath(parent)
        if seen.contains(parentIdentity) || parentIdentity == identity {
            throw ConfigError(file: file, path: "extends", "cycle through \(parent)")
        }
        var base = try load(parent, seen: seen.union([identity]))
        for key in ["name", "description", "sweep", "zip"] { remove(key, from: &base) }
        remove("extends", from: &node)
        return merge(base, node)
    }

    static func locate(_ name: String, relativeTo file: String) -> String {
        let dir = (file as NSString).deletingLastPathComponent
        let path = name.hasPrefix("/") || dir.isEmpty ? name : dir + "/" + name
        if FileManager.default.fileExists(atPath: path) { return path }
        return [".yaml", ".yml", ".json"].map { path + $0 }.first { FileManager.default.fileExists(atPath: $0) } ?? path
    }

    static func realPath(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// Deep merge: mappings merge key by key, anything else in `over` replaces `base`. A mapping
    /// that names its component inside it (`temperature: {schedule: …}`, `lr_schedule:`) and
    /// names another one than `base` replaces it whole: the base's options belong to its own
    /// schedule (sbn-st-annealed's `slope` under sbn-gs's `fixed` inherited `tau`, and failed).
    public static func merge(_ base: Node, _ over: Node) -> Node {
        guard case .mapping(var out) = base, case .mapping(let o) = over else { return over }
        if let mine = out["schedule"], let theirs = o["schedule"], mine != theirs { return over }
        for (k, v) in o {
            out[k] = out[k].map { merge($0, v) } ?? v
        }
        return .mapping(out)
    }

    public static func get(_ path: Path, in node: Node) -> Node? {
        var current: Node? = node
        for key in path { current = current?.mapping?[key] }
        return current
    }

    /// Sets the value at `path`, creating mappings on the way (a scalar on the way is replaced).
    public static func set(_ value: Node, at path: Path, in node: inout Node) {
        guard let head = path.first else { node = value; return }
        var mapping = node.mapping ?? Node.Mapping([])
        var child = mapping[head] ?? emptyMapping
        set(value, at: Array(path.dropFirst()), in: &child)
        mapping[head] = child
        node = .mapping(mapping)
    }

    public static func remove(_ key: String, from node: inout Node) {
        guard var mapping = node.mapping else { return }
        mapping[key] = nil
        node = .mapping(mapping)
    }

    /// `key.path=value` from the command line; the value is read as YAML (a scalar or a flow
    /// list), or taken as a string when it is not valid YAML.
    public static func assignment(_ text: String) throws -> (path: Path, value: Node) {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw ConfigError(file: "--set", path: text, "expected key=value")
        }
        let key = String(text[..<eq])
        // Dotted names only: an empty component (".epochs", "samples..test") is a typo, not a key.
        let components = key.split(separator: ".", omittingEmptySubsequences: false)
        guard components.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } }) else {
            throw ConfigError(file: "--set", path: key, "expected a dotted key such as samples.test")
        }
        let raw = String(text[text.index(after: eq)...])
        let value: Node
        do {
            value = try Yams.compose(yaml: raw) ?? Node(raw)
        } catch  where raw.first == "[" || raw.first == "{" {
            // No plain YAML string starts with a bracket: this was meant as a list or mapping, and
            // taking it as a string would only move the error to "expected a list, got \"[…\"".
            let problem = "\(error)".split(separator: "\n").first.map(String.init) ?? ""
            throw ConfigError(file: "--set", path: key, "\(raw) is not a valid YAML flow list or mapping (\(problem))")
        } catch {
            value = Node(raw)
        }
        // The cap that protects files protects values given on the command line too.
        var budget = maxValues
        guard fits(value, budget: &budget) else {
            throw ConfigError(file: "--set", path: key, "expands to more than \(maxValues) values (through YAML aliases?)")
        }
        return (path(key), value)
    }

    /// Every leaf below `node` with its dotted path, in key order. Lists and empty mappings are leaves.
    public static func leaves(_ node: Node, prefix: String = "") -> [(path: String, value: Node)] {
        guard let mapping = node.mapping, !mapping.isEmpty else { return prefix.isEmpty ? [] : [(prefix, node)] }
        return mapping.sorted { ($0.key.string ?? "") < ($1.key.string ?? "") }.flatMap { k, v in
            leaves(v, prefix: prefix.isEmpty ? (k.string ?? "") : prefix + "." + (k.string ?? ""))
        }
    }

    /// The same tree with every mapping key passed through `transform`.
    public static func mapKeys(_ node: Node, _ transform: (String) -> String) -> Node {
        switch node {
        case .mapping(let m):
            return .mapping(Node.Mapping(m.map { (Node(transform($0.key.string ?? "")), mapKeys($0.value, transform)) }))
        case .sequence(let s):
            return .sequence(Node.Sequence(s.map { mapKeys($0, transform) }))
        default:
            return node
        }
    }

    /// A value as an error message shows it: strings quoted, numbers as written, lists in brackets.
    public static func show(_ node: Node?) -> String {
        switch node {
        case nil: return "nothing"
        case .scalar(let s)?:
            return isString(node!) ? "\"\(s.string)\"" : s.string
        case .sequence(let s)?: return "[" + s.map { show($0) }.joined(separator: ", ") + "]"
        case .mapping(let m)?: return "{" + m.map { "\($0.key.string ?? ""): \(show($0.value))" }.joined(separator: ", ") + "}"
        default: return "?"
        }
    }

    /// Whether a node is a string scalar: quoted, or plain text that is no number, boolean or null.
    public static func isString(_ node: Node) -> Bool {
        guard let s = node.scalar else { return false }
        if s.style != .plain && s.style != .any { return true }
        return node.int == nil && node.float == nil && node.bool == nil && node.null == nil
    }

    /// A value as a summary table shows it: scalars as written, lists in brackets.
    public static func text(_ node: Node) -> String {
        if let s = node.scalar { return s.string }
        return show(node)
    }

    /// The tree an `Encodable` value writes, keys in snake_case (as experiment files spell them).
    public static func encode<T: Encodable>(_ value: T) throws -> Node {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        let text = String(decoding: try encoder.encode(value), as: UTF8.self)
        return try Yams.compose(yaml: text) ?? emptyMapping
    }
}
