import SBNTensor

/// A minibatch of the structured-prediction task: the given top halves and the target bottom
/// halves (see `ImageHalves`), one image per row. Capacity is fixed; `rows` follows the batch.
public final class Batch: @unchecked Sendable {
    public let top: Matrix
    public let bottom: Matrix
    public var count: Int { top.rows }

    public init(capacity: Int, inputSize: Int, outputSize: Int) {
        top = Matrix(rows: capacity, cols: inputSize)
        bottom = Matrix(rows: capacity, cols: outputSize)
    }

    public init(top: Matrix, bottom: Matrix) {
        precondition(top.rows == bottom.rows, "Batch: \(top.rows) inputs for \(bottom.rows) targets")
        self.top = top
        self.bottom = bottom
    }
}
