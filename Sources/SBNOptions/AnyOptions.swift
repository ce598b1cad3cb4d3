/// The options of whichever component a configuration picked, kept typed.
///
/// Decoding needs to know that type, which depends on a sibling field (the component's name), so
/// whoever decodes a configuration supplies an `OptionsResolver` in the decoder's `userInfo`
/// (`ConfigLoader` does). Encoding writes the typed value itself.
public struct AnyOptions: Codable, Equatable, Sendable {
    public let value: any ComponentOptions

    public init(_ value: any ComponentOptions = NoOptions()) { self.value = value }

    /// The options as `T`, or nil when the configuration picked a component of another type.
    public func `as`<T: ComponentOptions>(_ type: T.Type) -> T? { value as? T }

    public static func == (a: AnyOptions, b: AnyOptions) -> Bool { a.value.isEqual(to: b.value) }

    public func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }

    public init(from decoder: any Decoder) throws {
        guard let resolver = decoder.userInfo[OptionsResolver.key] as? OptionsResolver,
            let type = resolver.types[decoder.codingPath.map(\.stringValue).joined(separator: ".")]
        else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "no options type known here"))
        }
        value = try type.init(from: decoder)
    }
}

/// Which options type to decode at which coding path (e.g. "estimatorOptions" → ReinforceEstimator.Options).
public struct OptionsResolver: Sendable {
    public static let key = CodingUserInfoKey(rawValue: "SBNOptions.OptionsResolver")!
    public let types: [String: any ComponentOptions.Type]
    public init(_ types: [String: any ComponentOptions.Type]) { self.types = types }
}
