import SBNDistributions
import SBNTensor

/// A layered network of discrete stochastic layers: h_l ~ p_l(· | a_l), a_l = map_l(h_{l−1}) for
/// l = 1 … L−1 (h_0 the observed input), each layer of its own unit kind (Bernoulli
/// h ~ Bern(σ(a)), or categorical groups h ~ Cat(softmax(a)) one-hot coded), and a factorised
/// Bernoulli output x ~ Bern(σ(map_L(h_{L−1}))). Every model family is one of these:
/// - the SBN of Jang et al. 2017 §4.1: linear maps, no prior term (392-200-200-392);
/// - the discrete VAE of §4.2: an MLP encoder map_1 from the image, one stochastic layer with a
///   prior (`LatentPrior`), an MLP decoder map_2 back to the image.
///
/// Rows are examples and every dense layer is one `sgemm` over the batch.
public final class StochasticNetwork: @unchecked Sendable {
    public let architecture: Architecture
    /// The prior term of every stochastic layer (nil: none, the SBN's conditional likelihood).
    public let prior: LatentPrior?
    /// Whether the output reconstructs the input (an autoencoder) rather than predicting another
    /// part of the example.
    public let reconstructsInput: Bool
    public let sizes: [Int]
    public let parameters: ParameterSet
    /// map_l for l = 1 … L (index 0 unused; index L unused when a Gaussian bottleneck is the last map).
    public let maps: [DenseMap]
    /// The last map when it is a Gaussian latent (M2, Jang et al. 2017 §4.3), else nil.
    public let bottleneck: GaussianBottleneck?
    /// Convolutions between the input and map 1 (M2's CNN classifier), else nil.
    public let conv: ConvStack?
    /// Per stochastic layer l, the index of its learned prior logits in `parameters` (nil: fixed).
    let priorIndex: [Int?]

    /// The unit kind of hidden layer l (1 … L−1).
    public func layer(_ l: Int) -> any StochasticUnits { architecture.hidden[l - 1] }

    /// Number of maps L (hidden stochastic layers are 1 … L−1).
    public var layerCount: Int { sizes.count - 1 }

    /// The parameter layout: convolutions before map 1 (`ConvStack.parameterLayout`), each map's
    /// dense layers in order (`DenseMap.parameterLayout`: W1, b1, W2, b2, … for linear maps), then
    /// a learned prior's logits `prior<l>`.
    public static func parameterLayout(_ architecture: Architecture, prior: LatentPrior?) -> [(
        name: String, rows: Int, cols: Int
    )] {
        let L = architecture.sizes.count - 1
        let dense = (1..<(architecture.gaussian == nil ? L + 1 : L)).flatMap {
            DenseMap.parameterLayout(architecture.mapWidths($0), map: $0)
        }
        let maps =
            (architecture.conv.map(ConvStack.parameterLayout) ?? []) + dense
            + (architecture.gaussian.map {
                GaussianBottleneck.parameterLayout(
                    $0, input: architecture.input, classes: architecture.hidden[L - 2].width, output: architecture.output, map: L)
            } ?? [])
        let priors =
            prior?.kind == .learned
            ? architecture.hidden.enumerated().map { ("prior\($0.offset + 1)", 1, $0.element.width) } : []
        return maps + priors
    }

    /// Initialisation: every weight and bias ~ U(−1/√fan_in, 1/√fan_in), the default of
    /// PyTorch's `nn.Linear` (He et al. 2015's kaiming_uniform with a = √5), which the PyTorch
    /// reference run of the SBN used. Drawn from the `initialization` stream in parameter order.
    /// A learned prior starts at zero logits (uniform).
    public init(architecture: Architecture, prior: LatentPrior? = nil, reconstructsInput: Bool = false, rng: inout Xoshiro256) {
        let sizes = architecture.sizes
        precondition(
            sizes.count >= 3 && sizes.allSatisfy { $0 > 0 }, "network: need ≥ 1 hidden layer and positive sizes, got \(sizes)")
        self.architecture = architecture
        self.prior = prior
        self.reconstructsInput = reconstructsInput
        self.sizes = sizes
        let layout = Self.parameterLayout(architecture, prior: prior)
        parameters = ParameterSet(layout)
        var maps = [DenseMap.none]
        var index = 0
        let L = sizes.count - 1
        if let spec = architecture.conv {
            let stack = ConvStack(
                spec: spec, input: sizes[0], activation: architecture.activation, parameters: parameters, firstIndex: 0)
            Self.initialise(parameters.tensors[0..<ConvStack.tensorCount(spec)], fanIns: stack.fanIns, &rng)
            index = ConvStack.tensorCount(spec)
            conv = stack
        } else {
            conv = nil
        }
        for l in 1..<(architecture.gaussian == nil ? L + 1 : L) {
            let map = DenseMap(
                widths: architecture.mapWidths(l), activation: architecture.activation, parameters: parameters,
                firstIndex: index)
            for k in 0..<map.depth {
                let bound = 1 / Float(map.widths[k]).squareRoot()
                for t in [map.weights[k], map.biases[k]] {
                    for i in 0..<t.count { t.storage[i] = (2 * rng.nextUniform() - 1) * bound }
                }
            }
            index += 2 * map.depth
            maps.append(map)
        }
        if let spec = architecture.gaussian {
            let b = GaussianBottleneck(
                spec: spec, input: sizes[0], classes: sizes[L - 1], output: sizes[L], activation: architecture.activation,
                parameters: parameters, firstIndex: index)
            Self.initialise(parameters.tensors[index..<(index + GaussianBottleneck.tensorCount(spec))], fanIns: b.fanIns, &rng)
            index += GaussianBottleneck.tensorCount(spec)
            maps.append(.none)
            bottleneck = b
        } else {
            bottleneck = nil
        }
        self.maps = maps
        priorIndex = [nil] + architecture.hidden.indices.map { prior?.kind == .learned ? index + $0 : nil }
        zeroPriors = sizes.indices.map { Matrix(rows: 1, cols: $0 == 0 || $0 == sizes.count - 1 ? 0 : sizes[$0]) }
    }

    /// Each tensor ~ U(−1/√fan_in, 1/√fan_in), in order, from `rng`.
    static func initialise(_ tensors: ArraySlice<Matrix>, fanIns: [Int], _ rng: inout Xoshiro256) {
        for (t, fanIn) in zip(tensors, fanIns) {
            let bound = 1 / Float(fanIn).squareRoot()
            for i in 0..<t.count { t.storage[i] = (2 * rng.nextUniform() - 1) * bound }
        }
    }

    /// The weight and bias of map l when it is linear (the SBN's W_l, b_l; d_{l−1} × d_l).
    public func weight(_ l: Int) -> Matrix { maps[l].weights[0] }
    public func bias(_ l: Int) -> Matrix { maps[l].biases[0] }
    /// The positions in `parameters` (and in gradients of the same layout) of map l's weights
    /// and biases: the parameters that only the layers from l on depend on through layer l.
    public func parameterIndices(ofMap l: Int) -> [Int] {
        if l == layerCount, let b = bottleneck {
            let first = b.fromImage.weightIndex[0]
            return Array(first..<(first + GaussianBottleneck.tensorCount(b.spec)))
        }
        let dense = maps[l].weightIndex.flatMap { [$0, $0 + 1] }
        guard l == 1, let conv else { return dense }
        return Array(0..<ConvStack.tensorCount(conv.spec)) + dense
    }
    /// Whether every map is one dense layer (the SBN).
    public var isLinear: Bool { bottleneck == nil && conv == nil && maps.dropFirst().allSatisfy { $0.depth == 1 } }

    /// Gradients with the same layout as the parameters.
    public func makeGradients() -> ParameterSet { parameters.zerosLike() }

    /// Logits of layer l's prior (zeros when uniform), or nil when the network has no prior term.
    public func priorLogits(_ l: Int) -> Matrix? {
        guard prior != nil else { return nil }
        return priorIndex[l].map { parameters.tensors[$0] } ?? zeroPriors[l]
    }
    /// Zero logits per stochastic layer: the uniform prior.
    private let zeroPriors: [Matrix]

    /// The gradient tensor of layer l's learned prior, or nil.
    public func priorGradient(_ l: Int, in grads: ParameterSet) -> Matrix? { priorIndex[l].map { grads.tensors[$0] } }
}

extension StochasticNetwork {
    /// A network of Bernoulli hidden layers with linear maps and widths `sizes` (the SBN).
    public convenience init(sizes: [Int], rng: inout Xoshiro256) {
        self.init(architecture: .bernoulli(sizes), rng: &rng)
    }

    /// A network of the same shape holding a copy of `parameters` (e.g. the best-so-far set).
    public convenience init(
        architecture: Architecture, prior: LatentPrior? = nil, reconstructsInput: Bool = false,
        copying parameters: ParameterSet
    ) {
        var unused = Xoshiro256(seed: 0)
        self.init(architecture: architecture, prior: prior, reconstructsInput: reconstructsInput, rng: &unused)
        self.parameters.copy(from: parameters)
    }

    /// The same shape holding a copy of `parameters`.
    public func copy(with parameters: ParameterSet) -> StochasticNetwork {
        StochasticNetwork(architecture: architecture, prior: prior, reconstructsInput: reconstructsInput, copying: parameters)
    }
}
