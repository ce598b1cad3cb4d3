import SBNDistributions
import SBNModel
import SBNTensor

/// NVIL's input-dependent baseline b_ψ(x) (Mnih & Gregor 2014): one hidden layer of tanh units
/// over the image's top and bottom halves (Gu et al. 2016 §5.1 uses 100 units over input and
/// output), fitted by Adam to the centred learning signal, minimising mean_b (target_b − b_ψ(x_b))².
/// Its parameters and Adam moments are estimator state, saved in checkpoints.
public final class InputDependentBaseline {
    public let parameters: ParameterSet
    let optimizer: Adam
    /// The gradient of the last `computeGradient`.
    public let grads: ParameterSet
    private let input: Matrix, hidden: Matrix, output: Matrix, gradOutput: Matrix, gradHidden: Matrix
    private let inputTop: Int

    /// Its parameters, with its Adam state as a part.
    let state: ComponentState

    public init(inputTop: Int, inputBottom: Int, hiddenUnits: Int, capacity: Int, learningRate: Float) {
        self.inputTop = inputTop
        let d = inputTop + inputBottom
        parameters = ParameterSet([("W1", d, hiddenUnits), ("b1", 1, hiddenUnits), ("W2", hiddenUnits, 1), ("b2", 1, 1)])
        // Fixed-seed U(−1/√d, 1/√d) for W1; W2 = 0 so the baseline starts at 0.
        var rng = Xoshiro256(seed: 0xB45E_11E, stream: 0)
        let bound = 1 / Float(d).squareRoot()
        let w1 = parameters["W1"]
        for i in 0..<w1.count { w1.storage[i] = (2 * rng.nextUniform() - 1) * bound }
        grads = parameters.zerosLike()
        optimizer = Adam(parameters: parameters, learningRate: learningRate)
        state = ComponentState(tensors: parameters, parts: [("adam", optimizer.state)])
        input = Matrix(rows: capacity, cols: d)
        hidden = Matrix(rows: capacity, cols: hiddenUnits)
        output = Matrix(rows: capacity, cols: 1)
        gradOutput = Matrix(rows: capacity, cols: 1)
        gradHidden = Matrix(rows: capacity, cols: hiddenUnits)
    }

    /// b_ψ(x) for each image of the batch, left in `output`.
    public func predict(_ batch: Batch) -> UnsafeMutableBufferPointer<Float> {
        let n = batch.count
        for m in [input, hidden, output, gradOutput, gradHidden] { m.setRows(n) }
        for r in 0..<n {
            input.row(r).update(from: batch.top.row(r), count: inputTop)
            (input.row(r) + inputTop).update(from: batch.bottom.row(r), count: batch.bottom.cols)
        }
        BLAS.gemm(input, parameters["W1"], into: hidden)
        Kernels.addRowVector(parameters["b1"], to: hidden)
        let h = hidden.pointer
        for i in 0..<hidden.count { h[i] = 2 * FastMath.sigmoid(2 * h[i]) - 1 }  // tanh
        BLAS.gemm(hidden, parameters["W2"], into: output)
        Kernels.addRowVector(parameters["b2"], to: output)
        return output.buffer
    }

    /// One Adam step on mean_b (target_b − b_ψ(x_b))², using the activations of the last `predict`.
    func fit(targets: UnsafeBufferPointer<Double>) {
        computeGradient(targets: targets)
        optimizer.step(parameters, gradients: grads)
    }

    /// ∂/∂ψ of mean_b (target_b − b_ψ(x_b))² into `grads`, by backpropagation through the
    /// activations of the last `predict`.
    public func computeGradient(targets: UnsafeBufferPointer<Double>) {
        let n = output.rows
        grads.zero()
        for r in 0..<n { gradOutput.storage[r] = 2 * (output.storage[r] - Float(targets[r])) / Float(n) }
        BLAS.gemm(hidden, transposeA: true, gradOutput, into: grads["W2"], beta: 1)
        Kernels.accumulateColumnSums(of: gradOutput, into: grads["b2"])
        BLAS.gemm(gradOutput, parameters["W2"], transposeB: true, into: gradHidden)
        let h = hidden.pointer, g = gradHidden.pointer
        for i in 0..<gradHidden.count { g[i] *= 1 - h[i] * h[i] }
        BLAS.gemm(input, transposeA: true, gradHidden, into: grads["W1"], beta: 1)
        Kernels.accumulateColumnSums(of: gradHidden, into: grads["b1"])
    }
}
