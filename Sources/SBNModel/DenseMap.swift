import SBNTensor

/// The nonlinearity between the dense layers of a `DenseMap` (never after its last layer, whose
/// output is logits).
public enum Activation: String, Sendable, Codable, CaseIterable {
    case relu
    case tanh

    /// y = f(y) in place for `count` values.
    func apply(_ p: UnsafeMutablePointer<Float>, count n: Int) {
        // Counted loops over plain pointers from 0, so that they vectorise.
        switch self {
        case .relu: for i in 0..<n { p[i] = max(p[i], 0) }
        case .tanh: for i in 0..<n { p[i] = 2 * FastMath.sigmoid(2 * p[i]) - 1 }
        }
    }

    /// ∂/∂(pre-activation) from ∂/∂(activation) `g`, in place, given the activation values `y`.
    func backward(_ gp: UnsafeMutablePointer<Float>, values y: UnsafeMutablePointer<Float>, count n: Int) {
        let yp = UnsafePointer(y)
        switch self {
        case .relu: for i in 0..<n { gp[i] = yp[i] > 0 ? gp[i] : 0 }  // a select, so that it vectorises
        case .tanh: for i in 0..<n { gp[i] *= 1 - yp[i] * yp[i] }
        }
    }
}

/// The deterministic map from one stochastic layer (or the input) to the next layer's logits:
/// dense layers of `widths` [d_in, hidden…, d_out] with `activation` between them. A single
/// dense layer (no hidden widths) is the linear map of the SBN (Jang et al. 2017 §4.1); the
/// discrete VAE's encoder and decoder are MLPs (ericjang/gumbel-softmax's 784-512-256 / 256-512-784).
///
/// Rows are examples. Hidden activations are kept in a `Scratch` per workspace, because the
/// backward pass needs them. Forward work is row-wise; weight gradients sum over every row and are
/// cut by output columns, so the parts of a `PartRunner` never write the same value whatever the
/// thread count.
public struct DenseMap: @unchecked Sendable {
    public let widths: [Int]
    public let activation: Activation
    /// Per dense layer k (0 ..< count): its weight (d_k × d_{k+1}) and bias, and their indices in
    /// the network's `ParameterSet` (gradients have the same layout).
    public let weights: [Matrix], biases: [Matrix]
    let weightIndex: [Int]
    /// Per dense layer, where its output columns are cut into parts (a multiple of 16).
    let columnBoundary: [Int]

    public var inputWidth: Int { widths[0] }
    public var outputWidth: Int { widths[widths.count - 1] }
    /// The number of dense layers.
    public var depth: Int { widths.count - 1 }

    /// A placeholder for index 0 of a network's maps (layer numbers match the maths).
    static let none = DenseMap(widths: [0], activation: .relu, parameters: ParameterSet([]), firstIndex: 0)

    init(widths: [Int], activation: Activation, parameters: ParameterSet, firstIndex: Int) {
        self.widths = widths
        self.activation = activation
        weightIndex = (0..<(widths.count - 1)).map { firstIndex + 2 * $0 }
        weights = weightIndex.map { parameters.tensors[$0] }
        biases = weightIndex.map { parameters.tensors[$0 + 1] }
        columnBoundary = widths.dropFirst().map { PartRunner.boundary($0, align: 16) }
    }

    /// The parameter layout of a map: W, b of each dense layer, named `W<l>`, `b<l>` for a single
    /// layer (the SBN's names) and `W<l>_<k>`, `b<l>_<k>` (k = 1 …) for an MLP.
    static func parameterLayout(_ widths: [Int], map l: Int) -> [(name: String, rows: Int, cols: Int)] {
        parameterLayout(widths, stem: "\(l)")
    }

    /// The same layout named `W<stem>`, `b<stem>` (one layer) or `W<stem>_<k>`, `b<stem>_<k>`.
    static func parameterLayout(_ widths: [Int], stem: String) -> [(name: String, rows: Int, cols: Int)] {
        let depth = widths.count - 1
        return (0..<depth).flatMap { k -> [(name: String, rows: Int, cols: Int)] in
            let suffix = depth == 1 ? stem : "\(stem)_\(k + 1)"
            return [("W" + suffix, widths[k], widths[k + 1]), ("b" + suffix, 1, widths[k + 1])]
        }
    }

    /// Hidden activations and their gradients for `rows` rows (empty for a single dense layer).
    public final class Scratch: @unchecked Sendable {
        let hidden: [Matrix], gradHidden: [Matrix]
        init(widths: [Int], rows: Int) {
            let inner = widths.dropFirst().dropLast()
            hidden = inner.map { Matrix(rows: rows, cols: $0) }
            gradHidden = inner.map { Matrix(rows: rows, cols: $0) }
        }
        func setRows(_ rows: Int) { for m in hidden + gradHidden { m.setRows(rows) } }
    }

    public func makeScratch(rows: Int) -> Scratch { Scratch(widths: widths, rows: rows) }

    /// out = map(input) for rows `rows` (a part of a batch). Each dense layer's output rows start
    /// as copies of its bias and the gemm accumulates into them (beta = 1): one pass over the
    /// output instead of OpenBLAS zeroing it and a second pass adding the bias.
    public func forward(_ input: Matrix, rows: Range<Int>, into out: Matrix, scratch: Scratch) {
        var x = input
        for k in 0..<depth {
            let y = k == depth - 1 ? out : scratch.hidden[k]
            let o = y.view(rows: rows), b = biases[k].pointer
            for r in 0..<o.rows { o.row(r).update(from: b, count: o.cols) }
            BLAS.gemm(x.view(rows: rows), weights[k].view, into: o, beta: 1)
            if k < depth - 1 { activate(y, rows: rows) }
            x = y
        }
    }

    func activate(_ y: Matrix, rows: Range<Int>) {
        activation.apply(y.pointer + rows.lowerBound * y.cols, count: rows.count * y.cols)
    }

    /// ∂/∂(pre-activation) from ∂/∂(activation) `g`, in place, given the activation values `y`.
    func activationBackward(_ g: Matrix, values y: Matrix, rows: Range<Int>) {
        let offset = rows.lowerBound * y.cols
        activation.backward(g.pointer + offset, values: y.pointer + offset, count: rows.count * y.cols)
    }

    /// The backward pass of `forward` over every row of `gradOutput` (∂loss/∂out): weight and bias
    /// gradients into `grads` (when given), and ∂loss/∂input into `gradInput` (when given), after
    /// which `afterRows(part, rows)` runs on the same part's rows (the layer below's backward).
    /// One `runner.run` per dense layer: the gradient of layer k's weights needs every row of the
    /// gradient above it.
    public func backward(
        _ input: Matrix, gradOutput: Matrix, scratch: Scratch, grads: ParameterSet?, gradInput: Matrix?,
        runner: PartRunner, rowRange: (Int) -> Range<Int>, afterRows: (Int, Range<Int>) -> Void = { _, _ in }
    ) {
        for k in stride(from: depth - 1, through: 0, by: -1) {
            let x = k == 0 ? input : scratch.hidden[k - 1]
            let g = k == depth - 1 ? gradOutput : scratch.gradHidden[k]
            runner.run { part in
                if let grads {
                    let columns = PartRunner.range(part, of: widths[k + 1], boundary: columnBoundary[k])
                    let gw = grads.tensors[weightIndex[k]], gb = grads.tensors[weightIndex[k] + 1]
                    BLAS.gemm(x.view, transposeA: true, g.view(columns: columns), into: gw.view(columns: columns), beta: 1)
                    Kernels.accumulateColumnSums(
                        of: g.view(columns: columns), into: gb.pointer + columns.lowerBound,
                        count: columns.count)
                }
                let rows = rowRange(part)
                if k > 0 {
                    BLAS.gemm(
                        g.view(rows: rows), weights[k].view, transposeB: true, into: scratch.gradHidden[k - 1].view(rows: rows))
                    activationBackward(scratch.gradHidden[k - 1], values: scratch.hidden[k - 1], rows: rows)
                } else if let gradInput {
                    BLAS.gemm(g.view(rows: rows), weights[k].view, transposeB: true, into: gradInput.view(rows: rows))
                    afterRows(part, rows)
                }
            }
        }
    }
}
