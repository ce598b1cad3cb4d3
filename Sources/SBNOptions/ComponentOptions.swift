/// The typed options of a component chosen by name in an experiment file (an estimator, an
/// optimizer, a temperature schedule).
///
/// A conforming type is a plain struct whose property initialisers are the defaults: `init()`
/// gives them all, and an experiment file lists only what differs. Range constraints are the
/// property wrappers of `Checked.swift` (`@Positive var tau = 1.0`), so adding an option is one
/// line, and its key path, default, JSON form and error message follow from that line.
public protocol ComponentOptions: Codable, Equatable, Sendable {
    init()
}

extension ComponentOptions {
    /// Equality across the existential: options of another type are never equal.
    public func isEqual(to other: any ComponentOptions) -> Bool { (other as? Self) == self }
}

/// The options of a component that takes none.
public struct NoOptions: ComponentOptions {
    public init() {}
}

/// Something an experiment file picks by name: `static name`, a line for `sbnlab list`, and its
/// options type.
public protocol Component {
    associatedtype Options: ComponentOptions = NoOptions
    static var name: String { get }
    static var summary: String { get }
}

extension Component {
    public static var optionsType: any ComponentOptions.Type { Options.self }

    /// The option keys (snake_case, as written in experiment files).
    public static var optionKeys: [String] { Options().keyNames }
}
