import Foundation
import Yams

/// An experiment definition as parsed YAML/JSON: nested dictionaries of scalars and lists.
/// Handles `extends:` (inherit another definition, override what differs) and `--set key=value`.
public enum ConfigTree {
    public typealias Node = [String: Any]

    /// Loads `file`, resolving `extends:` chains (relative to the file's folder, `.yaml` optional).
    public static func load(_ file: String, seen: [String] = []) throws -> Node {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ConfigError(file: file, path: "", "cannot read experiment file")
        }
        let parsed: Any?
        do { parsed = try Yams.load(yaml: text) } catch {
            let reason = String(describing: error).split(separator: "\n").first.map(String.init) ?? "parse error"
            throw ConfigError(file: file, path: "", "not valid YAML: \(reason)")
        }
        guard let node = parsed as? Node else { throw ConfigError(file: file, path: "", "expected a mapping at the top level") }
        guard let parentName = node["extends"] else { return node }
        guard let parentName = parentName as? String else {
            throw ConfigError(file: file, path: "extends", "expected the name of another experiment")
        }
        let parent = resolve(parentName, relativeTo: file)
        if seen.contains(parent) || parent == file { throw ConfigError(file: file, path: "extends", "cycle through \(parent)") }
        var base = try load(parent, seen: seen + [file])
        base.removeValue(forKey: "name")
        base.removeValue(forKey: "description")
        base.removeValue(forKey: "sweep")
        base.removeValue(forKey: "zip")
        var child = node
        child.removeValue(forKey: "extends")
        return merge(base, child)
    }

    static func resolve(_ name: String, relativeTo file: String) -> String {
        let dir = (file as NSString).deletingLastPathComponent
        var path = name.hasPrefix("/") ? name : (dir.isEmpty ? name : dir + "/" + name)
        if !FileManager.default.fileExists(atPath: path) {
            for ext in [".yaml", ".yml", ".json"] where FileManager.default.fileExists(atPath: path + ext) {
                path += ext
                break
            }
        }
        return path
    }

    /// Deep merge: mappings merge key by key, anything else in `over` replaces `base`.
    public static func merge(_ base: Node, _ over: Node) -> Node {
        var out = base
        for (k, v) in over {
            if let b = out[k] as? Node, let o = v as? Node { out[k] = merge(b, o) } else { out[k] = v }
        }
        return out
    }

    /// Applies `key.path=value`; the value is parsed as a YAML scalar or flow sequence.
    public static func set(_ assignment: String, in node: inout Node) throws {
        guard let eq = assignment.firstIndex(of: "="), eq != assignment.startIndex else {
            throw ConfigError(file: "--set", path: assignment, "expected key=value")
        }
        let key = String(assignment[..<eq])
        let raw = String(assignment[assignment.index(after: eq)...])
        let value: Any = (try? Yams.load(yaml: raw)).flatMap { $0 } ?? raw
        set(value, at: key.split(separator: ".").map(String.init), in: &node)
    }

    public static func set(_ value: Any, at path: [String], in node: inout Node) {
        guard let head = path.first else { return }
        if path.count == 1 { node[head] = value; return }
        var child = node[head] as? Node ?? [:]
        set(value, at: Array(path.dropFirst()), in: &child)
        node[head] = child
    }

    public static func get(_ path: [String], in node: Node) -> Any? {
        var current: Any? = node
        for key in path { current = (current as? Node)?[key] }
        return current
    }

    /// Every leaf key path ("a.b.c") below `node`.
    public static func leafPaths(_ node: Node, prefix: String = "") -> [String] {
        node.keys.sorted().flatMap { k -> [String] in
            let p = prefix.isEmpty ? k : prefix + "." + k
            if let child = node[k] as? Node { return child.isEmpty ? [p] : leafPaths(child, prefix: p) }
            return [p]
        }
    }
}
