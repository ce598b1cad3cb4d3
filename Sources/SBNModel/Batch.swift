import SBNTensor

/// A minibatch of a task, one example per row: what the network is given (`input`) and what its
/// output scores (`target`): the top and the bottom half of a digit for the structured-prediction
/// task, the image itself (`target` is `input`) for the VAE. Capacity is fixed; `rows` follows
/// the batch.
public final class Batch: @unchecked Sendable {
    public let input: Matrix
    public let target: Matrix
    public var count: Int { input.rows }
    /// Whether the target is the input itself (an autoencoder's reconstruction).
    public var targetIsInput: Bool { input === target }

    /// Separate input and target buffers, or one buffer for both when `targetIsInput`.
    public init(capacity: Int, inputSize: Int, outputSize: Int, targetIsInput: Bool = false) {
        input = Matrix(rows: capacity, cols: inputSize)
        precondition(!targetIsInput || inputSize == outputSize, "Batch: a reconstruction target needs input size = output size")
        target = targetIsInput ? input : Matrix(rows: capacity, cols: outputSize)
    }

    public init(input: Matrix, target: Matrix) {
        precondition(input.rows == target.rows, "Batch: \(input.rows) inputs for \(target.rows) targets")
        self.input = input
        self.target = target
    }

    /// Sets the live row count of both.
    public func setRows(_ rows: Int) {
        input.setRows(rows)
        if !targetIsInput { target.setRows(rows) }
    }
}
