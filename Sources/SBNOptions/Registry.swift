/// Components of one kind by the names experiment files use. The same shape serves estimators,
/// optimizers and temperature schedules: adding one is a type plus one line in its registry.
public struct Registry<Entry>: @unchecked Sendable {
    /// What the entries are, for messages ("estimator", "optimizer", "schedule").
    public let kind: String
    public let all: [Entry]
    private let component: (Entry) -> any Component.Type

    /// `component` views an entry as a `Component` (for an existential metatype, `{ $0 }`).
    public init(kind: String, _ all: [Entry], component: @escaping (Entry) -> any Component.Type) {
        self.kind = kind
        self.all = all
        self.component = component
        precondition(Set(names).count == names.count, "Registry \(kind): duplicate names")
    }

    public var names: [String] { all.map { component($0).name } }

    public func lookup(_ name: String) -> Entry? { all.first { component($0).name == name } }

    public func component(named name: String) -> (any Component.Type)? { lookup(name).map(component) }

    /// `unknown estimator "x" (known: a, b)`.
    public func unknownMessage(_ name: String) -> String {
        "unknown \(kind) \"\(name)\" (known: \(names.joined(separator: ", ")))"
    }
}
