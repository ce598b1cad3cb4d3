import RealModule

// The prior term of the discrete VAE's loss (Jang et al. 2017 §4.2): per row,
// log q(h | a) − log p(h | b) with the discrete densities, evaluated at the layer's values h — one-hot
// samples, or relaxed ones, which is how the paper's relaxed objective uses the categorical prior —
// or the closed-form KL(q ‖ p). In logit space throughout: log σ(a) = −softplus(−a).

@inline(__always) private func softplus(_ x: Double) -> Double { x > 0 ? x + Double.log(1 + .exp(-x)) : Double.log(1 + .exp(x)) }
@inline(__always) private func sigmoid(_ x: Double) -> Double { 1 / (1 + .exp(-x)) }

extension BernoulliUnits {
    /// Per unit, log q(h|a) − log p(h|b) = h(a − b) − softplus(a) + softplus(b) (for h ∈ {0, 1}
    /// and, with the same formula, relaxed h); KL is the same at h = σ(a).
    public func addPriorTerm(_ divergence: LatentPrior.Divergence, values: UnsafePointer<Float>, logits: UnsafePointer<Float>,
                             prior: UnsafePointer<Float>, rows: Int, rowLoss: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            var total = 0.0
            for j in 0..<width {
                let a = Double(logits[r * width + j]), b = Double(prior[j])
                let h = divergence == .sampled ? Double(values[r * width + j]) : sigmoid(a)
                total += h * (a - b) - softplus(a) + softplus(b)
            }
            rowLoss[r] = Float(Double(rowLoss[r]) + total)
        }
    }

    /// sampled: ∂/∂h = a − b, ∂/∂a = h − σ(a), ∂/∂b = σ(b) − h;
    /// analytic: ∂/∂a = σ′(a)(a − b), ∂/∂b = σ(b) − σ(a).
    public func addPriorTermGradient(_ divergence: LatentPrior.Divergence, values: UnsafePointer<Float>, logits: UnsafePointer<Float>,
                                     prior: UnsafePointer<Float>, rows: Int, weights: UnsafePointer<Float>,
                                     gradValues: UnsafeMutablePointer<Float>?, gradLogits: UnsafeMutablePointer<Float>?,
                                     gradPrior: UnsafeMutablePointer<Float>?) {
        for r in 0..<rows {
            let w = Double(weights[r])
            for j in 0..<width {
                let i = r * width + j, a = Double(logits[i]), b = Double(prior[j]), p = sigmoid(a)
                let h = divergence == .sampled ? Double(values[i]) : p
                if divergence == .sampled { gradValues?[i] += Float(w * (a - b)) }
                gradLogits?[i] += Float(w * (divergence == .sampled ? h - p : p * (1 - p) * (a - b)))
                gradPrior?[j] += Float(w * (sigmoid(b) - h))
            }
        }
    }
}

extension CategoricalUnits {
    /// Per group, Σ_k h_k (log softmax(a)_k − log softmax(b)_k); KL is the same at h = softmax(a).
    public func addPriorTerm(_ divergence: LatentPrior.Divergence, values: UnsafePointer<Float>, logits: UnsafePointer<Float>,
                             prior: UnsafePointer<Float>, rows: Int, rowLoss: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            var total = 0.0
            for g in 0..<groups {
                let o = r * width + g * classes
                let (za, zb) = (logNormaliser(logits + o), logNormaliser(prior + g * classes))
                for k in 0..<classes {
                    let la = Double(logits[o + k]) - za, lb = Double(prior[g * classes + k]) - zb
                    let h = divergence == .sampled ? Double(values[o + k]) : Double.exp(la)
                    total += h * (la - lb)
                }
            }
            rowLoss[r] = Float(Double(rowLoss[r]) + total)
        }
    }

    /// sampled: ∂/∂h_k = log π_k − log ρ_k, ∂/∂a_k = h_k − π_k Σh, ∂/∂b_k = ρ_k Σh − h_k
    /// (π = softmax(a), ρ = softmax(b)); analytic: ∂/∂a_k = π_k (log π_k − log ρ_k − KL), ∂/∂b_k = ρ_k − π_k.
    public func addPriorTermGradient(_ divergence: LatentPrior.Divergence, values: UnsafePointer<Float>, logits: UnsafePointer<Float>,
                                     prior: UnsafePointer<Float>, rows: Int, weights: UnsafePointer<Float>,
                                     gradValues: UnsafeMutablePointer<Float>?, gradLogits: UnsafeMutablePointer<Float>?,
                                     gradPrior: UnsafeMutablePointer<Float>?) {
        for r in 0..<rows {
            let w = Double(weights[r])
            for g in 0..<groups {
                let o = r * width + g * classes, po = g * classes
                let (za, zb) = (logNormaliser(logits + o), logNormaliser(prior + po))
                var mass = 0.0, kl = 0.0
                for k in 0..<classes {
                    let la = Double(logits[o + k]) - za, lb = Double(prior[po + k]) - zb
                    mass += Double(values[o + k])
                    kl += Double.exp(la) * (la - lb)
                }
                for k in 0..<classes {
                    let la = Double(logits[o + k]) - za, lb = Double(prior[po + k]) - zb, pi = Double.exp(la), rho = Double.exp(lb)
                    if divergence == .sampled {
                        let h = Double(values[o + k])
                        gradValues?[o + k] += Float(w * (la - lb))
                        gradLogits?[o + k] += Float(w * (h - pi * mass))
                        gradPrior?[po + k] += Float(w * (rho * mass - h))
                    } else {
                        gradLogits?[o + k] += Float(w * pi * (la - lb - kl))
                        gradPrior?[po + k] += Float(w * (rho - pi))
                    }
                }
            }
        }
    }

    /// log Σ_k exp(x_k) over one group, stabilised by its maximum.
    private func logNormaliser(_ x: UnsafePointer<Float>) -> Double {
        var top = -Double.infinity
        for k in 0..<classes { top = max(top, Double(x[k])) }
        var sum = 0.0
        for k in 0..<classes { sum += .exp(Double(x[k]) - top) }
        return top + .log(sum)
    }
}
