/// The `estimator_options` of an experiment: scalar settings by name, read with typed accessors
/// that name the offending key on error.
public struct EstimatorOptions: Sendable, Equatable, Codable {
    public var values: [String: Double]
    public init(_ values: [String: Double] = [:]) { self.values = values }

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public func number(_ key: String, default value: Double, where valid: (Double) -> Bool = { _ in true },
                       expected: String = "a number") throws -> Double {
        guard let v = values[key] else { return value }
        guard valid(v) else { throw Invalid(description: "estimator_options.\(key): expected \(expected), got \(v)") }
        return v
    }

    public func flag(_ key: String, default value: Bool) throws -> Bool {
        guard let v = values[key] else { return value }
        guard v == 0 || v == 1 else { throw Invalid(description: "estimator_options.\(key): expected true or false, got \(v)") }
        return v == 1
    }
}
