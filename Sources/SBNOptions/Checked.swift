/// A constraint on one configuration value: how to read it and what range is accepted. The
/// `expected` text becomes the error message ("expected a number > 0, got -1"), so every option
/// that uses a rule gets the same wording.
public protocol ValueRule {
    associatedtype Value: Codable & Equatable & Sendable
    static var expected: String { get }
    /// The value in the container, or nil when it is of another type or out of range.
    static func read(_ container: any SingleValueDecodingContainer) -> Value?
}

/// A configuration value checked by `Rule` when it is decoded.
@propertyWrapper
public struct Checked<Rule: ValueRule>: Codable, Equatable, Sendable {
    public var wrappedValue: Rule.Value

    public init(wrappedValue: Rule.Value) { self.wrappedValue = wrappedValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let value = Rule.read(container) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected \(Rule.expected)")
        }
        wrappedValue = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue)
    }
}

/// A finite number (a YAML integer or float; quoted strings are not numbers).
func readNumber(_ c: any SingleValueDecodingContainer) -> Double? {
    if let i = try? c.decode(Int.self) { return Double(i) }
    if let d = try? c.decode(Double.self), d.isFinite { return d }
    return nil
}

/// A whole number written as an integer or as an integral float (1e3), below 2⁵³.
func readWhole(_ c: any SingleValueDecodingContainer) -> Int? {
    guard let d = readNumber(c), d == d.rounded(), abs(d) < 9.0e15 else { return nil }
    return Int(d)
}

public enum PositiveNumber: ValueRule {
    public static let expected = "a number > 0"
    public static func read(_ c: any SingleValueDecodingContainer) -> Double? { readNumber(c).flatMap { $0 > 0 ? $0 : nil } }
}

public enum NonNegativeNumber: ValueRule {
    public static let expected = "a number ≥ 0"
    public static func read(_ c: any SingleValueDecodingContainer) -> Double? { readNumber(c).flatMap { $0 >= 0 ? $0 : nil } }
}

/// A decay or momentum coefficient.
public enum UnitIntervalNumber: ValueRule {
    public static let expected = "a number in [0, 1)"
    public static func read(_ c: any SingleValueDecodingContainer) -> Double? {
        readNumber(c).flatMap { $0 >= 0 && $0 < 1 ? $0 : nil }
    }
}

/// A multiplier that shrinks or keeps a value (a learning-rate decay factor).
public enum FactorNumber: ValueRule {
    public static let expected = "a number in (0, 1]"
    public static func read(_ c: any SingleValueDecodingContainer) -> Double? {
        readNumber(c).flatMap { $0 > 0 && $0 <= 1 ? $0 : nil }
    }
}

public enum PositiveWhole: ValueRule {
    public static let expected = "a whole number ≥ 1"
    public static func read(_ c: any SingleValueDecodingContainer) -> Int? { readWhole(c).flatMap { $0 >= 1 ? $0 : nil } }
}

/// A limit that may be absent (null).
public enum OptionalPositiveWhole: ValueRule {
    public static let expected = "a whole number ≥ 1 or null"
    public static func read(_ c: any SingleValueDecodingContainer) -> Int?? {
        if c.decodeNil() { return .some(nil) }
        return PositiveWhole.read(c).map { .some($0) }
    }
}

public enum Seed: ValueRule {
    public static let expected = "a whole number ≥ 0"
    public static func read(_ c: any SingleValueDecodingContainer) -> UInt64? {
        if let u = try? c.decode(UInt64.self) { return u }
        return readWhole(c).flatMap { $0 >= 0 ? UInt64($0) : nil }
    }
}

public typealias Positive = Checked<PositiveNumber>
public typealias NonNegative = Checked<NonNegativeNumber>
public typealias UnitInterval = Checked<UnitIntervalNumber>
public typealias Factor = Checked<FactorNumber>
public typealias Count = Checked<PositiveWhole>
public typealias OptionalCount = Checked<OptionalPositiveWhole>
public typealias SeedValue = Checked<Seed>
