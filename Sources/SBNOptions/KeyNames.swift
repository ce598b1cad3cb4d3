/// Experiment files spell keys in snake_case (`batch_size`); Swift properties are camelCase.
public enum KeyCase {
    /// `batchSize` → `batch_size`.
    public static func snake(_ camel: String) -> String {
        var out = ""
        for ch in camel {
            if ch.isUppercase {
                out += "_" + ch.lowercased()
            } else {
                out.append(ch)
            }
        }
        return out
    }

    /// `batch_size` → `batchSize`.
    public static func camel(_ snake: String) -> String {
        let parts = snake.split(separator: "_", omittingEmptySubsequences: false)
        guard let head = parts.first else { return snake }
        return parts.dropFirst().reduce(String(head)) { $0 + $1.prefix(1).uppercased() + $1.dropFirst() }
    }
}

extension ComponentOptions {
    /// The option keys in declaration order, as written in experiment files.
    public var keyNames: [String] {
        Mirror(reflecting: self).children.compactMap(\.label).map {
            KeyCase.snake($0.hasPrefix("_") ? String($0.dropFirst()) : $0)
        }
    }
}
