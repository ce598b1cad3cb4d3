import SBNData
import SBNModel
import SBNOptions

/// The `layers:` entry of an experiment: the input size, hidden layers, and the output size, e.g.
/// `[392, 200, 200, 392]` (Bernoulli layers as plain numbers) or
/// `[392, {categorical: [20, 10]}, {categorical: [20, 10]}, 392]` (any kind from `UnitKinds`,
/// keyed by its name). Checked when decoded, entry by entry, so an error names the entry; the
/// input and output sizes are the model family's to check (`ModelFamily.problem`).
/// Encoded in the same form, Bernoulli layers as plain numbers.
@propertyWrapper
public struct Layers: Codable, Equatable, Sendable {
    public var wrappedValue: Architecture

    public init(wrappedValue: Architecture) { self.wrappedValue = wrappedValue }

    public init(from decoder: any Decoder) throws {
        var list = try decoder.unkeyedContainer()
        var entries: [Entry] = []
        while !list.isAtEnd { entries.append(try list.decode(Entry.self)) }
        func fail(_ message: String) -> DecodingError {
            .dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: message))
        }
        guard entries.count >= 3 else { throw fail("expected at least 3 entries (input, hidden…, output)") }
        guard let first = entries.first?.plain, let last = entries.last?.plain else {
            throw fail("expected plain numbers for the input and output sizes")
        }
        wrappedValue = Architecture(input: first, hidden: entries.dropFirst().dropLast().map(\.units), output: last)
    }

    /// The layers as an experiment file writes them, e.g. `[784, {categorical: [1, 10]}, 784]`.
    public static func flowList(_ a: Architecture) -> String {
        let hidden = a.hidden.map { units in
            units is BernoulliUnits
                ? "\(units.width)"
                : "{\(type(of: units).kind): [\(units.parameters.map(String.init).joined(separator: ", "))]}"
        }
        return "[" + (["\(a.input)"] + hidden + ["\(a.output)"]).joined(separator: ", ") + "]"
    }

    public func encode(to encoder: any Encoder) throws {
        var list = encoder.unkeyedContainer()
        try list.encode(wrappedValue.input)
        for units in wrappedValue.hidden {
            if let bernoulli = units as? BernoulliUnits {
                try list.encode(bernoulli.width)
            } else {
                try list.encode([type(of: units).kind: units.parameters])
            }
        }
        try list.encode(wrappedValue.output)
    }

    /// One entry: a plain number (a Bernoulli layer, or the input/output size) or `{kind: parameters}`.
    struct Entry: Decodable {
        let units: any StochasticUnits
        /// The number, when the entry is a plain number.
        let plain: Int?

        struct Key: CodingKey {
            let stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            guard let keyed = try? decoder.container(keyedBy: Key.self) else {
                let width = try decoder.singleValueContainer().decode(Count.self).wrappedValue
                plain = width
                units = try Self.make(BernoulliUnits.self, [width], at: decoder.codingPath)
                return
            }
            let kinds = UnitKinds.names.joined(separator: ", ")
            guard keyed.allKeys.count == 1, let key = keyed.allKeys.first else {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath,
                        debugDescription: "expected a number or one of {\(kinds): …}"))
            }
            guard let kind = UnitKinds.lookup(key.stringValue) else {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath + [key],
                        debugDescription: "unknown unit kind (known: \(kinds))"))
            }
            let numbers: [Int]
            if let list = try? keyed.decode([Int].self, forKey: key) {
                numbers = list
            } else if let one = try? keyed.decode(Int.self, forKey: key) {
                numbers = [one]
            } else {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath + [key],
                        debugDescription: "expected \(kind.parametersText) as whole numbers"))
            }
            plain = nil
            units = try Self.make(kind, numbers, at: decoder.codingPath + [key])
        }

        static func make(_ kind: any StochasticUnits.Type, _ numbers: [Int], at path: [any CodingKey]) throws
            -> any StochasticUnits
        {
            do {
                return try kind.init(parameters: numbers)
            } catch let error as UnitsError {
                throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: error.description))
            }
        }
    }
}
