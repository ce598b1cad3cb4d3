/// A rectangular window of a row-major matrix (rows r0..<r1, columns c0..<c1), without a copy:
/// how a fixed part of a batch (rows) or of a layer (columns) is handed to a gemm or a kernel.
public struct MatrixView {
    public let base: UnsafeMutablePointer<Float>
    public let rows: Int
    public let cols: Int
    /// Distance between rows, in elements (the parent's column count).
    public let stride: Int

    public init(base: UnsafeMutablePointer<Float>, rows: Int, cols: Int, stride: Int) {
        self.base = base
        self.rows = rows
        self.cols = cols
        self.stride = stride
    }

    public func row(_ r: Int) -> UnsafeMutablePointer<Float> { base + r * stride }
}

extension Matrix {
    /// The whole live matrix.
    public var view: MatrixView { MatrixView(base: pointer, rows: rows, cols: cols, stride: cols) }

    /// Rows `range`, every column.
    public func view(rows range: Range<Int>) -> MatrixView {
        precondition(range.upperBound <= rows, "Matrix.view: rows \(range) of \(rows)")
        return MatrixView(base: pointer + range.lowerBound * cols, rows: range.count, cols: cols, stride: cols)
    }

    /// Columns `range` of every live row.
    public func view(columns range: Range<Int>) -> MatrixView {
        precondition(range.upperBound <= cols, "Matrix.view: columns \(range) of \(cols)")
        return MatrixView(base: pointer + range.lowerBound, rows: rows, cols: range.count, stride: cols)
    }
}
