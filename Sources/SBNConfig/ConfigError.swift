/// A bad experiment definition or override: names the file and the key path.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let path: String
    public let message: String
    public init(file: String, path: String, _ message: String) {
        self.file = file
        self.path = path
        self.message = message
    }
    public var description: String { path.isEmpty ? "\(file): \(message)" : "\(file): \(path): \(message)" }
}
