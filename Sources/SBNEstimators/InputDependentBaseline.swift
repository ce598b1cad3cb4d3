import SBNDistributions
import SBNModel
import SBNTensor

/// NVIL's input-dependent baseline b_ψ(x) (Mnih & Gregor 2014): one hidden layer of tanh units
/// over the observed data — the image's top and bottom halves for the SBN (Gu et al. 2016 §5.1
/// uses 100 units over input and output), the image for the VAE — fitted by Adam to the centred learning signal, minimising mean_b (target_b − b_ψ(x_b))².
/// Its parameters and Adam moments are estimator state, saved in checkpoints.
public final class InputDependentBaseline {
    public let parameters: ParameterSet
    let optimizer: Adam
    /// The gradient of the last `computeGradient`.
    public let grads: ParameterSet
    private let input: Matrix, hidden: Matrix, output: Matrix, gradOutput: Matrix, gradHidden: Matrix

    /// Its parameters, with its Adam state as a part.
    let state: ComponentState

    /// Runs the parts of each pass (the model's runner).
    let runner: PartRunner

    /// `observedWidth`: the batch's input, and its target unless that is the input itself.
    public init(observedWidth d: Int, hiddenUnits: Int, capacity: Int, learningRate: Float, runner: PartRunner = .serial) {
        self.runner = runner
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

    /// b_ψ(x) for each image of the batch, left in `output`; rows in the runner's parts.
    public func predict(_ batch: Batch) -> UnsafeMutableBufferPointer<Float> {
        let n = batch.count
        input.setRows(n)
        hidden.setRows(n)
        output.setRows(n)
        gradOutput.setRows(n)
        gradHidden.setRows(n)
        let boundary = PartRunner.boundary(n)
        runner.run { part in
            let rows = PartRunner.range(part, of: n, boundary: boundary)
            let width = batch.input.cols
            for r in rows {
                input.row(r).update(from: batch.input.row(r), count: width)
                if !batch.targetIsInput { (input.row(r) + width).update(from: batch.target.row(r), count: batch.target.cols) }
            }
            layer(input, parameters["W1"], parameters["b1"], rows: rows, into: hidden)
            let h = hidden.pointer, cols = hidden.cols
            for i in (rows.lowerBound * cols)..<(rows.upperBound * cols) { h[i] = 2 * FastMath.sigmoid(2 * h[i]) - 1 }  // tanh
            layer(hidden, parameters["W2"], parameters["b2"], rows: rows, into: output)
        }
        return output.buffer
    }

    private func layer(_ x: Matrix, _ w: Matrix, _ b: Matrix, rows: Range<Int>, into y: Matrix) {
        BLAS.gemm(x.view(rows: rows), w.view, into: y.view(rows: rows))
        Kernels.addRowVector(b.pointer, count: b.count, to: y.view(rows: rows))
    }

    /// One Adam step on mean_b (target_b − b_ψ(x_b))², using the activations of the last `predict`.
    func fit(targets: UnsafeBufferPointer<Double>) {
        computeGradient(targets: targets)
        optimizer.step(parameters, gradients: grads, runner: runner)
    }

    /// ∂/∂ψ of mean_b (target_b − b_ψ(x_b))² into `grads`, by backpropagation through the
    /// activations of the last `predict`: rows of the batch, then units of the hidden layer, in
    /// the runner's parts.
    public func computeGradient(targets: UnsafeBufferPointer<Double>) {
        let n = output.rows
        grads.zero(runner: runner)
        for r in 0..<n { gradOutput.storage[r] = 2 * (output.storage[r] - Float(targets[r])) / Float(n) }
        let rowBoundary = PartRunner.boundary(n), unitBoundary = PartRunner.boundary(hidden.cols, align: 16)
        runner.run { part in
            if part == 0 {  // the output unit's weights: one column, not worth cutting
                BLAS.gemm(hidden, transposeA: true, gradOutput, into: grads["W2"], beta: 1)
                Kernels.accumulateColumnSums(of: gradOutput, into: grads["b2"])
            }
            let rows = PartRunner.range(part, of: n, boundary: rowBoundary), cols = hidden.cols
            BLAS.gemm(gradOutput.view(rows: rows), parameters["W2"].view, transposeB: true, into: gradHidden.view(rows: rows))
            let h = hidden.pointer, g = gradHidden.pointer
            for i in (rows.lowerBound * cols)..<(rows.upperBound * cols) { g[i] *= 1 - h[i] * h[i] }
        }
        runner.run { part in
            let units = PartRunner.range(part, of: hidden.cols, boundary: unitBoundary)
            BLAS.gemm(
                input.view, transposeA: true, gradHidden.view(columns: units), into: grads["W1"].view(columns: units), beta: 1)
            Kernels.accumulateColumnSums(
                of: gradHidden.view(columns: units), into: grads["b1"].pointer + units.lowerBound,
                count: units.count)
        }
    }
}
