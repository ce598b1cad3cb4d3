/// A row-major matrix of `Float` that owns its storage.
///
/// A class rather than a value type on purpose: training reuses the same buffers every step, and
/// a reference type makes it impossible to copy one by accident in the hot loop. `rows` may shrink
/// and grow within the allocated `capacityRows`, so a short last batch needs no new allocation.
/// Not thread-safe: each thread owns its own matrices.
public final class Matrix: @unchecked Sendable {
    public private(set) var rows: Int
    public let cols: Int
    public let capacityRows: Int
    public let storage: UnsafeMutableBufferPointer<Float>

    public init(rows: Int, cols: Int, capacityRows: Int? = nil) {
        precondition(rows >= 0 && cols >= 0, "Matrix: negative shape \(rows)x\(cols)")
        let capacity = max(capacityRows ?? rows, rows)
        self.rows = rows
        self.cols = cols
        self.capacityRows = capacity
        storage = .allocate(capacity: max(capacity * cols, 1))
        storage.initialize(repeating: 0)
    }

    public convenience init(rows: Int, cols: Int, values: [Float]) {
        precondition(values.count == rows * cols, "Matrix: \(values.count) values for \(rows)x\(cols)")
        self.init(rows: rows, cols: cols)
        _ = UnsafeMutableBufferPointer(rebasing: storage[0..<values.count]).initialize(from: values)
    }

    deinit { storage.deallocate() }

    public var count: Int { rows * cols }
    public var pointer: UnsafeMutablePointer<Float> { storage.baseAddress! }
    /// The live elements (rows × cols), excluding unused capacity.
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
    public var values: [Float] { Array(buffer) }

    public subscript(row: Int, col: Int) -> Float {
        get { storage[row * cols + col] }
        set { storage[row * cols + col] = newValue }
    }

    /// Pointer to the first element of `row`.
    public func row(_ row: Int) -> UnsafeMutablePointer<Float> { pointer + row * cols }

    /// Changes the number of live rows without reallocating.
    public func setRows(_ newRows: Int) {
        precondition(newRows >= 0 && newRows <= capacityRows, "Matrix: \(newRows) rows exceeds capacity \(capacityRows)")
        rows = newRows
    }

    public func fill(_ value: Float) { buffer.update(repeating: value) }

    public func copy(from other: Matrix) {
        precondition(
            other.rows == rows && other.cols == cols, "Matrix.copy: shape \(other.rows)x\(other.cols) into \(rows)x\(cols)")
        pointer.update(from: other.pointer, count: count)
    }
}
