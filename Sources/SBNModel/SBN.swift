import SBNDistributions
import SBNTensor

/// A stochastic binary network with linear maps: widths [d0, d1, …, dL] give hidden layers
/// h_l ~ p_l(· | h_{l−1} W_l + b_l) for l = 1 … L−1, each of its own unit kind (Bernoulli
/// h ~ Bern(σ(a)), or categorical groups h ~ Cat(softmax(a)) one-hot coded), and the factorised
/// Bernoulli output x ~ Bern(σ(h_{L−1} W_L + b_L)) (Jang et al. 2017 §4.1; default 392-200-200-392).
///
/// Rows are examples: W_l is d_{l−1} × d_l and every linear map is one `sgemm` over the batch.
public final class SBN: @unchecked Sendable {
    public let architecture: Architecture
    public let sizes: [Int]
    public let parameters: ParameterSet

    /// The unit kind of hidden layer l (1 … L−1).
    public func layer(_ l: Int) -> any StochasticUnits { architecture.hidden[l - 1] }

    /// Number of linear maps L (hidden stochastic layers are 1 … L−1).
    public var layerCount: Int { sizes.count - 1 }

    public func weight(_ l: Int) -> Matrix { parameters.tensors[2 * (l - 1)] }
    public func bias(_ l: Int) -> Matrix { parameters.tensors[2 * (l - 1) + 1] }

    /// The parameter layout of an SBN with `sizes`: W1, b1, W2, b2, …
    public static func parameterLayout(_ sizes: [Int]) -> [(name: String, rows: Int, cols: Int)] {
        (1..<sizes.count).flatMap { l in [("W\(l)", sizes[l - 1], sizes[l]), ("b\(l)", 1, sizes[l])] }
    }

    /// Initialisation: every weight and bias ~ U(−1/√fan_in, 1/√fan_in), the default of
    /// PyTorch's `nn.Linear` (He et al. 2015's kaiming_uniform with a = √5), which the PyTorch
    /// reference run of this task used. Drawn from the `initialization` stream in parameter order.
    public init(architecture: Architecture, rng: inout Xoshiro256) {
        let sizes = architecture.sizes
        precondition(sizes.count >= 3 && sizes.allSatisfy { $0 > 0 }, "SBN: need ≥ 1 hidden layer and positive sizes, got \(sizes)")
        self.architecture = architecture
        self.sizes = sizes
        parameters = ParameterSet(Self.parameterLayout(sizes))
        for l in 1..<sizes.count {
            let bound = 1 / Float(sizes[l - 1]).squareRoot()
            for t in [weight(l), bias(l)] {
                for i in 0..<t.count { t.storage[i] = (2 * rng.nextUniform() - 1) * bound }
            }
        }
    }

    /// Gradients with the same layout as the parameters.
    public func makeGradients() -> ParameterSet { parameters.zerosLike() }

    /// out = input · W_l + b_l.
    public func linear(_ l: Int, _ input: Matrix, into out: Matrix) { linear(l, input, rows: 0..<input.rows, into: out) }

    /// The same for rows `rows` of input and output (a part of a batch). The output rows start
    /// as copies of b_l and the gemm accumulates into them (beta = 1): one pass over the output
    /// instead of OpenBLAS zeroing it and a second pass adding the bias.
    public func linear(_ l: Int, _ input: Matrix, rows: Range<Int>, into out: Matrix) {
        let o = out.view(rows: rows), b = bias(l).pointer
        for r in 0..<o.rows { o.row(r).update(from: b, count: o.cols) }
        BLAS.gemm(input.view(rows: rows), weight(l).view, into: o, beta: 1)
    }

    /// Backward pass of `linear`: accumulates ∂W_l += inputᵀ · gradOut and ∂b_l += Σ_rows gradOut
    /// into `grads`, and writes gradInput = gradOut · W_lᵀ when asked.
    public func linearBackward(_ l: Int, input: Matrix, gradOutput: Matrix, grads: ParameterSet, gradInput: Matrix? = nil) {
        accumulateWeightGradient(l, input: input, gradOutput: gradOutput, columns: 0..<gradOutput.cols, grads: grads)
        if let gradInput { backpropagate(l, gradOutput: gradOutput, rows: 0..<gradOutput.rows, into: gradInput) }
    }

    /// The weight and bias gradients of `linear` for output units `columns` (a part of a layer):
    /// ∂W_l[:, columns] += inputᵀ · gradOut[:, columns], ∂b_l[columns] += Σ_rows gradOut[:, columns].
    /// Every row of the batch contributes, so parts of a layer never write the same gradient.
    public func accumulateWeightGradient(_ l: Int, input: Matrix, gradOutput: Matrix, columns: Range<Int>, grads: ParameterSet) {
        let gw = grads.tensors[2 * (l - 1)], gb = grads.tensors[2 * (l - 1) + 1]
        BLAS.gemm(input.view, transposeA: true, gradOutput.view(columns: columns), into: gw.view(columns: columns), beta: 1)
        Kernels.accumulateColumnSums(of: gradOutput.view(columns: columns), into: gb.pointer + columns.lowerBound,
                                     count: columns.count)
    }

    /// gradInput = gradOut · W_lᵀ for rows `rows` (a part of a batch).
    public func backpropagate(_ l: Int, gradOutput: Matrix, rows: Range<Int>, into gradInput: Matrix) {
        BLAS.gemm(gradOutput.view(rows: rows), weight(l).view, transposeB: true, into: gradInput.view(rows: rows))
    }
}

extension SBN {
    /// A network of Bernoulli hidden layers with widths `sizes`.
    public convenience init(sizes: [Int], rng: inout Xoshiro256) {
        self.init(architecture: .bernoulli(sizes), rng: &rng)
    }

    /// A network with the given layers holding a copy of `parameters` (e.g. the best-so-far set).
    public convenience init(architecture: Architecture, copying parameters: ParameterSet) {
        var unused = Xoshiro256(seed: 0)
        self.init(architecture: architecture, rng: &unused)
        self.parameters.copy(from: parameters)
    }
}
