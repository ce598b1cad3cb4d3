import CKernels

/// Batched elementwise and row-wise kernels over `Matrix` storage.
///
/// Every loop runs over raw buffers with branch-free bodies so that it vectorises, and none of
/// them allocates: they are called from the training step.
public enum Kernels {
    /// out[r, c] = x[r, c] + bias[c]  (bias broadcast over rows; in-place allowed).
    public static func addRowVector(_ bias: Matrix, to x: Matrix) { addRowVector(bias.pointer, count: bias.count, to: x.view) }

    /// The same on a window; `bias` holds `x.cols` values.
    public static func addRowVector(_ bias: UnsafePointer<Float>, count: Int, to x: MatrixView) {
        precondition(count == x.cols, "addRowVector: bias has \(count) values for \(x.cols) columns")
        for r in 0..<x.rows {
            let row = x.row(r)
            for c in 0..<x.cols { row[c] += bias[c] }
        }
    }

    /// out[c] += Σ_r x[r, c]: the bias gradient of a linear layer.
    public static func accumulateColumnSums(of x: Matrix, into out: Matrix) {
        accumulateColumnSums(of: x.view, into: out.pointer, count: out.count)
    }

    /// The same on a window; `out` holds `x.cols` values. Rows are added in order.
    public static func accumulateColumnSums(of x: MatrixView, into out: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count == x.cols, "accumulateColumnSums: \(count) outputs for \(x.cols) columns")
        for r in 0..<x.rows {
            let row = x.row(r)
            for c in 0..<x.cols { out[c] += row[c] }
        }
    }

    /// y = σ(x), elementwise.
    public static func sigmoid(_ x: Matrix, into y: Matrix) {
        precondition(x.count == y.count, "sigmoid: size mismatch")
        let xp = x.pointer, yp = y.pointer
        for i in 0..<x.count { yp[i] = FastMath.sigmoid(xp[i]) }
    }

    /// Per-row negative log-likelihood of binary targets under factorised Bernoulli logits,
    /// −log p(x | a) = Σ_j softplus(a_j) − x_j a_j (logit space, never log σ), written to `nll[r]`;
    /// optionally the gradient ∂/∂a_j = σ(a_j) − x_j into `gradient`.
    /// Row r is scored against target row r / `targetRepeat`, so m samples of one image can share
    /// its target row without copying it m times.
    /// `scratch` (at least `logits.cols` floats) avoids a temporary allocation per call.
    public static func bernoulliNLL(
        logits: Matrix, targets: Matrix, targetRepeat: Int = 1,
        nll: UnsafeMutableBufferPointer<Float>,
        gradient: Matrix? = nil, scratch: UnsafeMutableBufferPointer<Float>? = nil
    ) {
        precondition(
            logits.cols == targets.cols && logits.rows == targets.rows * targetRepeat,
            "bernoulliNLL: \(logits.rows)x\(logits.cols) logits for \(targets.rows)x\(targets.cols) targets ×\(targetRepeat)")
        precondition(nll.count >= logits.rows, "bernoulliNLL: output too short")
        if let scratch {
            bernoulliNLL(
                logits: logits, rows: 0..<logits.rows, targets: targets, targetRepeat: targetRepeat, nll: nll,
                gradient: gradient, scratch: scratch)
        } else {
            withUnsafeTemporaryAllocation(of: Float.self, capacity: logits.cols) {
                bernoulliNLL(
                    logits: logits, rows: 0..<logits.rows, targets: targets, targetRepeat: targetRepeat, nll: nll,
                    gradient: gradient, scratch: $0)
            }
        }
    }

    /// The same for rows `rows` only (a part of a batch). The C kernel (CKernels: AVX-512, AVX2
    /// or portable) sums each row with eight accumulators in a fixed order.
    public static func bernoulliNLL(
        logits: Matrix, rows: Range<Int>, targets: Matrix, targetRepeat: Int,
        nll: UnsafeMutableBufferPointer<Float>, gradient: Matrix?,
        scratch: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(scratch.count >= logits.cols, "bernoulliNLL: scratch shorter than a row")
        precondition(rows.lowerBound % targetRepeat == 0, "bernoulliNLL: a part starts inside an image's samples")
        guard !rows.isEmpty else { return }
        let first = rows.lowerBound, cols = logits.cols
        sbn_bernoulli_nll_rows(
            logits.pointer + first * cols, targets.pointer + (first / targetRepeat) * cols, rows.count, cols,
            targetRepeat, nll.baseAddress! + first, gradient.map { $0.pointer + first * cols },
            scratch.baseAddress!)
    }

    /// Scales each row r of x (rows `range`) by s[r].
    public static func scaleRows(_ x: Matrix, _ range: Range<Int>, by s: UnsafeBufferPointer<Float>) {
        precondition(s.count >= range.upperBound && range.upperBound <= x.rows, "scaleRows: too few scales")
        for r in range {
            let row = x.row(r), k = s[r]
            for c in 0..<x.cols { row[c] *= k }
        }
    }

    /// Copies each source row `times` times in a row: row i of `x` lands in rows i·times ..< (i+1)·times
    /// (source rows `range`).
    public static func repeatRows(_ x: Matrix, _ range: Range<Int>, times: Int, into out: Matrix) {
        precondition(out.rows == x.rows * times && out.cols == x.cols, "repeatRows: shape mismatch")
        for r in range {
            for k in 0..<times { out.row(r * times + k).update(from: x.row(r), count: x.cols) }
        }
    }
}

extension Matrix {
    /// True when every live value is finite (the NaN guard of the training loop).
    public var allFinite: Bool { Self.allFinite(pointer, count: count) }

    /// True when the `count` values at `p` are finite (a vectorised bit test in CKernels).
    public static func allFinite(_ p: UnsafePointer<Float>, count: Int) -> Bool { sbn_all_finite(p, count) != 0 }
}
