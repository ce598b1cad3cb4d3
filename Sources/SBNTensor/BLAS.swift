import CBLAS

/// OpenBLAS entry points: matrix products and the process-wide thread count.
public enum BLAS {
    /// OpenBLAS's thread count. Process-wide: it applies to every later call from every thread.
    /// The default is all online cores. For batch ≤ 100 one thread is faster (measured: 8 gemms of a batch-100 step take no less time on 2 OpenBLAS threads than on 1).
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    public static var configuration: String { String(cString: openblas_get_config()) }

    /// C ← alpha · op(A) · op(B) + beta · C, row-major, through `cblas_sgemm`.
    /// With `beta = 1` the product accumulates into C (used for gradient accumulation).
    public static func gemm(
        _ a: Matrix, transposeA: Bool = false,
        _ b: Matrix, transposeB: Bool = false,
        into c: Matrix, alpha: Float = 1, beta: Float = 0
    ) {
        gemm(a.view, transposeA: transposeA, b.view, transposeB: transposeB, into: c.view, alpha: alpha, beta: beta)
    }

    /// The same on windows of matrices (a part of a batch's rows, a part of a layer's columns).
    public static func gemm(
        _ a: MatrixView, transposeA: Bool = false,
        _ b: MatrixView, transposeB: Bool = false,
        into c: MatrixView, alpha: Float = 1, beta: Float = 0
    ) {
        let m = transposeA ? a.cols : a.rows
        let k = transposeA ? a.rows : a.cols
        let kb = transposeB ? b.cols : b.rows
        let n = transposeB ? b.rows : b.cols
        precondition(k == kb, "gemm: inner dimensions \(k) and \(kb) differ")
        precondition(c.rows == m && c.cols == n, "gemm: output is \(c.rows)x\(c.cols), expected \(m)x\(n)")
        if m == 0 || n == 0 { return }
        if k == 0 {
            for r in 0..<c.rows {
                let row = UnsafeMutableBufferPointer(start: c.row(r), count: c.cols)
                if beta == 0 { row.update(repeating: 0) } else { scale(row, by: beta) }
            }
            return
        }
        cblas_sgemm(
            CblasRowMajor,
            transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha,
            a.base, Int32(max(a.stride, 1)),
            b.base, Int32(max(b.stride, 1)),
            beta, c.base, Int32(max(c.stride, 1)))
    }

    static func scale(_ x: UnsafeMutableBufferPointer<Float>, by factor: Float) {
        cblas_sscal(Int32(x.count), factor, x.baseAddress, 1)
    }
}
