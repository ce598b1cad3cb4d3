/// The layers of a stochastic network: `input` observed units, stochastic hidden layers of any unit
/// kind, `output` Bernoulli units, and the deterministic hidden widths inside each map between them
/// (`mapHidden[l − 1]` for map l; empty lists are the SBN's linear maps).
public struct Architecture: Sendable, Equatable, CustomStringConvertible {
    public var input: Int
    public var hidden: [any StochasticUnits]
    public var output: Int
    /// Per map l = 1 … L, the widths of its deterministic hidden layers (empty: linear).
    public var mapHidden: [[Int]]
    /// The nonlinearity between a map's dense layers.
    public var activation: Activation
    /// A Gaussian latent in place of the last map (M2's p(x | y, z) with q(z | x, y); nil: a dense map).
    public var gaussian: GaussianBottleneck.Spec?
    /// Convolutional layers between the image and map 1's dense layers (M2's CNN classifier; nil: none).
    public var conv: ConvStack.Spec?

    public init(
        input: Int, hidden: [any StochasticUnits], output: Int, mapHidden: [[Int]]? = nil, activation: Activation = .relu,
        gaussian: GaussianBottleneck.Spec? = nil, conv: ConvStack.Spec? = nil
    ) {
        self.input = input
        self.hidden = hidden
        self.output = output
        self.mapHidden = mapHidden ?? Array(repeating: [], count: hidden.count + 1)
        self.activation = activation
        self.gaussian = gaussian
        self.conv = conv
        precondition(
            self.mapHidden.count == hidden.count + 1,
            "Architecture: \(self.mapHidden.count) maps for \(hidden.count) hidden layers")
    }

    /// Bernoulli hidden layers and linear maps: sizes [d0, d1, …, dL].
    public static func bernoulli(_ sizes: [Int]) -> Architecture {
        Architecture(
            input: sizes.first!, hidden: sizes.dropFirst().dropLast().map { BernoulliUnits(width: $0) }, output: sizes.last!)
    }

    /// Widths [d0, d1, …, dL] of every stochastic (and the input and output) layer.
    public var sizes: [Int] { [input] + hidden.map(\.width) + [output] }

    /// Widths of map l = 1 … L: its input (map 1's: the convolutional features, if any), its
    /// hidden layers, its output.
    public func mapWidths(_ l: Int) -> [Int] {
        let input = l == 1 ? conv?.outputWidth(input: sizes[0]) ?? sizes[0] : sizes[l - 1]
        return [input] + mapHidden[l - 1] + [sizes[l]]
    }

    /// Whether every hidden layer is Bernoulli.
    public var isBernoulli: Bool { hidden.allSatisfy { $0 is BernoulliUnits } }

    /// e.g. "392-bernoulli(200)-bernoulli(200)-392", or with MLP maps
    /// "784-[512-256]-categorical(20×10)-[256-512]-784" (and "784-conv[32-64-128]-[500]-…" with
    /// convolutions before map 1).
    public var description: String {
        func map(_ l: Int) -> [String] {
            mapHidden[l - 1].isEmpty ? [] : ["[" + mapHidden[l - 1].map(String.init).joined(separator: "-") + "]"]
        }
        var parts = [String(input)] + (conv.map { [$0.description] } ?? [])
        for (i, units) in hidden.enumerated() { parts += map(i + 1) + [units.description] }
        parts += (gaussian.map { [$0.description] } ?? map(hidden.count + 1)) + [String(output)]
        return parts.joined(separator: "-")
    }

    public static func == (a: Architecture, b: Architecture) -> Bool {
        a.description == b.description && a.activation == b.activation
    }
}

/// The prior term of a model's stochastic layers (the discrete VAE's p(z), Jang et al. 2017 §4.2):
/// the loss of a row gains log q(h | a) − log p(h) per layer, so that it is −ELBO's integrand
/// −log p(x | h) − log p(h) + log q(h | x).
public struct LatentPrior: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// p(h) uniform: ½ per Bernoulli unit, 1/K per categorical class.
        case uniform
        /// Factorised logits, trained with the model (parameters `prior<l>`).
        case learned
    }

    public enum Divergence: String, Sendable, Codable, CaseIterable {
        /// log q(h | a) − log p(h) at the layer's values with the discrete (categorical) densities,
        /// also for relaxed values, as the paper's relaxed training objective does (§4.2): not a
        /// bound then. Needed for the m-sample importance-weighted bound.
        case sampled
        /// KL(q(· | a) ‖ p) in closed form, the same for every sample of an image (m = 1 only).
        case analytic
    }

    public var kind: Kind
    public var divergence: Divergence

    public init(kind: Kind = .uniform, divergence: Divergence = .sampled) {
        self.kind = kind
        self.divergence = divergence
    }
}

/// Decoding a named choice with a message that lists the choices ("expected one of …").
enum Choice {
    static func decode<T: RawRepresentable & CaseIterable>(_ decoder: any Decoder) throws -> T where T.RawValue == String {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = T(rawValue: text) else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription:
                        "expected one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(text)\""))
        }
        return value
    }
}

extension LatentPrior.Kind {
    public init(from decoder: any Decoder) throws { self = try Choice.decode(decoder) }
}

extension LatentPrior.Divergence {
    public init(from decoder: any Decoder) throws { self = try Choice.decode(decoder) }
}

extension Activation {
    public init(from decoder: any Decoder) throws { self = try Choice.decode(decoder) }
}
