import SBNDistributions
import SBNTensor

// The prior term of the discrete VAE's loss (Jang et al. 2017 §4.2): per row,
// log q(h | a) − log p(h | b) with the discrete densities, evaluated at the layer's values h — one-hot
// samples, or relaxed ones, which is how the paper's relaxed objective uses the categorical prior —
// or the closed-form KL(q ‖ p). In logit space throughout (log σ(a) = −softplus(−a), log-softmax
// by its normaliser); the transcendental functions are the vectorisable `FastMath` ones (these run
// in the training step), each row's total is summed in double precision.

extension BernoulliUnits {
    /// Per unit, log q(h|a) − log p(h|b) = h(a − b) − softplus(a) + softplus(b) (for h ∈ {0, 1}
    /// and, with the same formula, relaxed h); KL is the same at h = σ(a).
    public func addPriorTerm(
        _ divergence: LatentPrior.Divergence, values: UnsafePointer<Float>, logits: UnsafePointer<Float>,
        prior: UnsafePointer<Float>, rows: Int, rowLoss: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Float>
    ) {
        for r in 0..<rows {
            var total = 0.0
            for j in 0..<width {
                let a = logits[r * width + j], b = prior[j]
                let h = divergence == .sampled ? values[r * width + j] : FastMath.sigmoid(a)
                total += Double(h * (a - b) - FastMath.softplus(a) + FastMath.softplus(b))
            }
            rowLoss[r] = Float(Double(rowLoss[r]) + total)
        }
    }

    /// sampled: ∂/∂h = a − b, ∂/∂a = h − σ(a), ∂/∂b = σ(b) − h;
    /// analytic: ∂/∂a = σ′(a)(a − b), ∂/∂b = σ(b) − σ(a).
    public func addPriorTermGradient(
        _ divergence: LatentPrior.Divergence, values: UnsafePointer<Float>, logits: UnsafePointer<Float>,
        prior: UnsafePointer<Float>, rows: Int, weights: UnsafePointer<Float>,
        gradValues: UnsafeMutablePointer<Float>?, gradLogits: UnsafeMutablePointer<Float>?,
        gradPrior: UnsafeMutablePointer<Float>?, scratch: UnsafeMutablePointer<Float>
    ) {
        let sampled = divergence == .sampled
        for r in 0..<rows {
            let w = weights[r]
            for j in 0..<width {
                let i = r * width + j, a = logits[i], b = prior[j], p = FastMath.sigmoid(a)
                let h = sampled ? values[i] : p
                if sampled { gradValues?[i] += w * (a - b) }
                gradLogits?[i] += w * (sampled ? h - p : p * (1 - p) * (a - b))
                gradPrior?[j] += w * (FastMath.sigmoid(b) - h)
            }
        }
    }
}

extension CategoricalUnits {
    /// Per group, Σ_k h_k (log softmax(a)_k − log softmax(b)_k); KL is the same at h = softmax(a).
    /// softmax(a) comes from the vectorised kernel into `scratch`; log softmax(a)_k = a_k − z_a
    /// with z_a = a_j − log π_j at the group's most probable class j (one log per group).
    public func addPriorTerm(
        _ divergence: LatentPrior.Divergence, values: UnsafePointer<Float>, logits: UnsafePointer<Float>,
        prior: UnsafePointer<Float>, rows: Int, rowLoss: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Float>
    ) {
        Categorical.softmax(logits: logits, into: scratch, groups: rows * groups, classes: classes)
        withPriorNormalisers(prior) { zb in
            for r in 0..<rows {
                var total = 0.0
                for g in 0..<groups {
                    let o = r * width + g * classes, a = logits + o, pi = scratch + o, b = prior + g * classes
                    let za = normaliser(a, pi)
                    var sum: Float = 0
                    for k in 0..<classes {
                        let h = divergence == .sampled ? values[o + k] : pi[k]
                        sum += h * ((a[k] - za) - (b[k] - zb[g]))
                    }
                    total += Double(sum)
                }
                rowLoss[r] = Float(Double(rowLoss[r]) + total)
            }
        }
    }

    /// sampled: ∂/∂h_k = log π_k − log ρ_k, ∂/∂a_k = h_k − π_k Σh, ∂/∂b_k = ρ_k Σh − h_k
    /// (π = softmax(a), ρ = softmax(b)); analytic: ∂/∂a_k = π_k (log π_k − log ρ_k − KL), ∂/∂b_k = ρ_k − π_k.
    public func addPriorTermGradient(
        _ divergence: LatentPrior.Divergence, values: UnsafePointer<Float>, logits: UnsafePointer<Float>,
        prior: UnsafePointer<Float>, rows: Int, weights: UnsafePointer<Float>,
        gradValues: UnsafeMutablePointer<Float>?, gradLogits: UnsafeMutablePointer<Float>?,
        gradPrior: UnsafeMutablePointer<Float>?, scratch: UnsafeMutablePointer<Float>
    ) {
        let sampled = divergence == .sampled
        Categorical.softmax(logits: logits, into: scratch, groups: rows * groups, classes: classes)
        withPriorNormalisers(prior) { zb in
            for r in 0..<rows {
                let w = weights[r]
                for g in 0..<groups {
                    let o = r * width + g * classes, a = logits + o, pi = scratch + o, b = prior + g * classes, h = values + o
                    let za = normaliser(a, pi)
                    var mass: Float = 0, kl: Float = 0
                    for k in 0..<classes {
                        mass += h[k]
                        kl += pi[k] * ((a[k] - za) - (b[k] - zb[g]))
                    }
                    for k in 0..<classes {
                        let la = a[k] - za, lb = b[k] - zb[g]
                        if sampled {
                            gradValues?[o + k] += w * (la - lb)
                            gradLogits?[o + k] += w * (h[k] - pi[k] * mass)
                        } else {
                            gradLogits?[o + k] += w * pi[k] * (la - lb - kl)
                        }
                        if let gradPrior {
                            gradPrior[g * classes + k] += w * (FastMath.exp(lb) * (sampled ? mass : 1) - (sampled ? h[k] : pi[k]))
                        }
                    }
                }
            }
        }
    }

    /// log Σ_k exp(a_k) of one group from its softmax π: a_j − log π_j at the largest π_j.
    private func normaliser(_ a: UnsafePointer<Float>, _ pi: UnsafePointer<Float>) -> Float {
        var j = 0
        for k in 1..<classes where pi[k] > pi[j] { j = k }
        return a[j] - FastMath.log(pi[j])
    }

    /// `body` with log Σ_k exp(b_k) of each group of the prior's logits (computed once per call).
    private func withPriorNormalisers<R>(_ b: UnsafePointer<Float>, _ body: (UnsafeMutableBufferPointer<Float>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: groups) { zb in
            for g in 0..<groups {
                let x = b + g * classes
                var top = -Float.infinity
                for k in 0..<classes { top = max(top, x[k]) }
                var sum: Float = 0
                for k in 0..<classes { sum += FastMath.exp(x[k] - top) }
                zb[g] = top + FastMath.log(sum)
            }
            return body(zb)
        }
    }
}
