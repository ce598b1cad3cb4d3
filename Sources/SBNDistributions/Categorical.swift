import SBNTensor

/// Categorical sampling by the Gumbel-max trick: argmax_k (logits_k + G_k) is distributed as
/// softmax(logits) (Gumbel 1954; Maddison et al. 2014; Jang et al. 2017, eq. 1).
/// Rows of `logits` are independent K-way distributions.
public struct GumbelMaxCategorical {
    public let logits: Matrix
    public init(logits: Matrix) { self.logits = logits }

    public func sample(into indices: UnsafeMutableBufferPointer<Int32>, scratch: Matrix, using rng: inout Xoshiro256) {
        precondition(indices.count >= logits.rows && scratch.count == logits.count, "GumbelMaxCategorical: size mismatch")
        Gumbel.sample(into: scratch, using: &rng)
        for r in 0..<logits.rows {
            let l = logits.row(r), g = scratch.row(r)
            var best = 0
            var bestValue = l[0] + g[0]
            for k in 1..<logits.cols where l[k] + g[k] > bestValue {
                best = k
                bestValue = l[k] + g[k]
            }
            indices[r] = Int32(best)
        }
    }
}

/// K-way Gumbel-Softmax / Concrete relaxation: y = softmax((logits + G)/τ) per row
/// (Jang et al. 2017, eq. 2). Used by categorical SBN layers.
public struct GumbelSoftmax {
    public let logits: Matrix
    public let temperature: Float

    public init(logits: Matrix, temperature: Float) {
        precondition(temperature > 0, "GumbelSoftmax: temperature must be > 0, got \(temperature)")
        self.logits = logits
        self.temperature = temperature
    }

    /// Writes the relaxed one-hot sample into `y`; the Gumbel noise is left in `noise`.
    public func rsample(into y: Matrix, noise: Matrix, using rng: inout Xoshiro256) {
        precondition(y.count == logits.count && noise.count == logits.count, "GumbelSoftmax: size mismatch")
        Gumbel.sample(into: noise, using: &rng)
        let invTau = 1 / temperature
        for r in 0..<logits.rows {
            let l = logits.row(r), g = noise.row(r), out = y.row(r)
            var maxValue = -Float.infinity
            for k in 0..<logits.cols {
                out[k] = (l[k] + g[k]) * invTau
                maxValue = Swift.max(maxValue, out[k])
            }
            var sum: Float = 0
            for k in 0..<logits.cols {
                out[k] = FastMath.exp(out[k] - maxValue)
                sum += out[k]
            }
            let inv = 1 / sum
            for k in 0..<logits.cols { out[k] *= inv }
        }
    }
}
