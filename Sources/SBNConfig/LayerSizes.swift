import SBNData
import SBNOptions

/// The layer sizes of an SBN for the structured-prediction task: the input is the image's top
/// half and the output its bottom half (`ImageHalves`), so the list is [392, hidden…, 392] with
/// at least one hidden layer. Checked when decoded, element by element, so an error names the entry.
@propertyWrapper
public struct LayerSizes: Codable, Equatable, Sendable {
    /// Hidden layers wider than this are refused (a typo such as 1e20, or memory the machine lacks).
    public static let maxHidden = 1 << 16

    public var wrappedValue: [Int]

    public init(wrappedValue: [Int]) { self.wrappedValue = wrappedValue }

    public init(from decoder: any Decoder) throws {
        var list = try decoder.unkeyedContainer()
        var sizes: [Int] = []
        while !list.isAtEnd { sizes.append(try list.decode(Count.self).wrappedValue) }
        let (input, output) = (ImageHalves.top.count, ImageHalves.bottom.count)
        func fail(_ message: String) -> DecodingError {
            .dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: message))
        }
        guard sizes.count >= 3 else { throw fail("expected at least 3 sizes (input, hidden…, output)") }
        guard sizes.first == input, sizes.last == output else {
            throw fail("expected input size \(input) and output size \(output) (the two image halves)")
        }
        if let wide = sizes.dropFirst().dropLast().first(where: { $0 > Self.maxHidden }) {
            throw fail("expected hidden layers of at most \(Self.maxHidden) units, not \(wide)")
        }
        wrappedValue = sizes
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue)
    }
}
