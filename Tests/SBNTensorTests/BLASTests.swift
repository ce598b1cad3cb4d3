import SBNTensor
import Testing

/// A naive double-accumulating product: the reference for `BLAS.gemm`.
func naiveGemm(_ a: Matrix, _ ta: Bool, _ b: Matrix, _ tb: Bool, alpha: Float, beta: Float, c0: Matrix) -> [Double] {
    let m = ta ? a.cols : a.rows, k = ta ? a.rows : a.cols, n = tb ? b.rows : b.cols
    var out = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k {
                let av = ta ? a[p, i] : a[i, p]
                let bv = tb ? b[j, p] : b[p, j]
                s += Double(av) * Double(bv)
            }
            out[i * n + j] = Double(alpha) * s + Double(beta) * Double(c0[i, j])
        }
    }
    return out
}

func filled(_ rows: Int, _ cols: Int, seed: Int) -> Matrix {
    let m = Matrix(rows: rows, cols: cols)
    var x = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 | 1
    for i in 0..<m.count {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17
        m.storage[i] = Float(Int(x % 2001) - 1000) / 1000
    }
    return m
}

@Suite struct BLASTests {
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func gemmMatchesNaiveProduct(ta: Bool, tb: Bool) {
        // Non-square shapes: op(A) is 7×13, op(B) is 13×5.
        let (m, k, n) = (7, 13, 5)
        let a = ta ? filled(k, m, seed: 1) : filled(m, k, seed: 1)
        let b = tb ? filled(n, k, seed: 2) : filled(k, n, seed: 2)
        for (alpha, beta) in [(Float(1), Float(0)), (0.7, 0.3), (-1.5, 1)] {
            let c = filled(m, n, seed: 3)
            let c0 = Matrix(rows: m, cols: n)
            c0.copy(from: c)
            BLAS.gemm(a, transposeA: ta, b, transposeB: tb, into: c, alpha: alpha, beta: beta)
            let expected = naiveGemm(a, ta, b, tb, alpha: alpha, beta: beta, c0: c0)
            for i in 0..<c.count { #expect(abs(Double(c.storage[i]) - expected[i]) < 1e-5) }
        }
    }

    @Test func accumulatesIntoOutput() {
        // beta = 1 twice equals twice the product (how gradients accumulate).
        let a = filled(20, 392, seed: 4), b = filled(392, 30, seed: 5)
        let c = Matrix(rows: 20, cols: 30)
        BLAS.gemm(a, b, into: c, beta: 1)
        BLAS.gemm(a, b, into: c, beta: 1)
        let expected = naiveGemm(a, false, b, false, alpha: 2, beta: 0, c0: Matrix(rows: 20, cols: 30))
        for i in 0..<c.count { #expect(abs(Double(c.storage[i]) - expected[i]) < 1e-3) }
    }

    /// Only ever sets 1: the count is process-wide and other suites, running in parallel, check
    /// bit-identical results that a different OpenBLAS split could change.
    @Test func threadCountIsSettable() {
        BLAS.threads = 1
        #expect(BLAS.threads == 1)
        #expect(BLAS.configuration.contains("OpenBLAS"))
    }
}
