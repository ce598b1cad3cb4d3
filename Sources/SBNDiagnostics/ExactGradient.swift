import Foundation
import SBNModel
import SBNTensor

/// The exact gradient of E[−log p(x_bottom | h)] for a tiny SBN with two hidden layers, by
/// enumerating every hidden state: ∇E[f] = Σ_h p(h|x) [f(h) ∇log p(h|x) + ∇f(h)], averaged over
/// the batch's images. ∇_a log p(h | a) is h − mean(a) for both unit kinds (σ or softmax).
public func exactGradient(_ model: StochasticNetwork, _ batch: Batch) -> [Double] {
    let ref = ReferenceSBN(model)
    let sizes = model.sizes
    precondition(sizes.count == 4, "exactGradient: two hidden layers")
    let (n0, n1, n2, n3) = (sizes[0], sizes[1], sizes[2], sizes[3])
    var grad = [Double](repeating: 0, count: model.parameters.scalarCount)
    // Offsets of W1, b1, W2, b2, W3, b3 in the flattened parameter vector.
    var offsets = [0]
    for t in model.parameters.tensors { offsets.append(offsets.last! + t.count) }
    for b in 0..<batch.count {
        let x = (0..<n0).map { Double(batch.input[b, $0]) }
        let y = (0..<n3).map { Double(batch.target[b, $0]) }
        let a1 = ref.linear(1, x)
        let p1 = ref.mean(1, a1)
        for h1 in ref.states(1) {
            let logP1 = ref.logProb(1, h1, a1)
            let a2 = ref.linear(2, h1)
            let p2 = ref.mean(2, a2)
            for h2 in ref.states(2) {
                let w = exp(logP1 + ref.logProb(2, h2, a2)) / Double(batch.count)
                let a3 = ref.linear(3, h2)
                let f = zip(a3, y).reduce(0.0) { $0 + ReferenceSBN.softplus($1.0) - $1.1 * $1.0 }
                for i in 0..<n0 { for j in 0..<n1 { grad[offsets[0] + i * n1 + j] += w * f * x[i] * (h1[j] - p1[j]) } }
                for j in 0..<n1 { grad[offsets[1] + j] += w * f * (h1[j] - p1[j]) }
                for i in 0..<n1 { for j in 0..<n2 { grad[offsets[2] + i * n2 + j] += w * f * h1[i] * (h2[j] - p2[j]) } }
                for j in 0..<n2 { grad[offsets[3] + j] += w * f * (h2[j] - p2[j]) }
                for i in 0..<n2 {
                    for j in 0..<n3 { grad[offsets[4] + i * n3 + j] += w * h2[i] * (ReferenceSBN.sigmoid(a3[j]) - y[j]) }
                }
                for j in 0..<n3 { grad[offsets[5] + j] += w * (ReferenceSBN.sigmoid(a3[j]) - y[j]) }
            }
        }
    }
    return grad
}

/// The exact gradient of E[−log ½ (p(x | h_1) + p(x | h_2))] over two independent samples of a
/// tiny SBN with two hidden layers, by enumerating every pair of hidden states:
/// ∇ = Σ p(h_1) p(h_2) [f ∇(log p(h_1) + log p(h_2)) − Σ_s ŵ_s ∇log p(x | h_s)], ŵ the normalised weights.
public func exactTwoSampleGradient(_ model: StochasticNetwork, _ batch: Batch) -> [Double] {
    let ref = ReferenceSBN(model)
    let (n0, n1, n2, n3) = (model.sizes[0], model.sizes[1], model.sizes[2], model.sizes[3])
    let p = model.parameters.scalarCount
    var offsets = [0]
    for t in model.parameters.tensors { offsets.append(offsets.last! + t.count) }
    var grad = [Double](repeating: 0, count: p)
    for b in 0..<batch.count {
        let x = (0..<n0).map { Double(batch.input[b, $0]) }, y = (0..<n3).map { Double(batch.target[b, $0]) }
        let a1 = ref.linear(1, x), p1 = ref.mean(1, a1)
        var configs: [(logP: Double, score: [Double], logW: Double, decoder: [Double])] = []
        for h1 in ref.states(1) {
            let a2 = ref.linear(2, h1), p2 = ref.mean(2, a2)
            for h2 in ref.states(2) {
                var score = [Double](repeating: 0, count: p), decoder = score
                for i in 0..<n0 { for j in 0..<n1 { score[offsets[0] + i * n1 + j] = x[i] * (h1[j] - p1[j]) } }
                for j in 0..<n1 { score[offsets[1] + j] = h1[j] - p1[j] }
                for i in 0..<n1 { for j in 0..<n2 { score[offsets[2] + i * n2 + j] = h1[i] * (h2[j] - p2[j]) } }
                for j in 0..<n2 { score[offsets[3] + j] = h2[j] - p2[j] }
                let a3 = ref.linear(3, h2)
                for i in 0..<n2 {
                    for j in 0..<n3 { decoder[offsets[4] + i * n3 + j] = h2[i] * (y[j] - ReferenceSBN.sigmoid(a3[j])) }
                }
                for j in 0..<n3 { decoder[offsets[5] + j] = y[j] - ReferenceSBN.sigmoid(a3[j]) }
                configs.append((ref.logProb(1, h1, a1) + ref.logProb(2, h2, a2), score, -ref.outputNLL(h2, target: y), decoder))
            }
        }
        for c in configs {
            for d in configs {
                let w = exp(c.logP + d.logP) / Double(batch.count)
                let top = max(c.logW, d.logW)
                let lse = top + log(exp(c.logW - top) + exp(d.logW - top))
                let f = -(lse - log(2.0))
                let (wc, wd) = (exp(c.logW - lse), exp(d.logW - lse))
                for k in 0..<p { grad[k] += w * (f * (c.score[k] + d.score[k]) - (wc * c.decoder[k] + wd * d.decoder[k])) }
            }
        }
    }
    return grad
}

/// How a pathwise estimator that forwards exact samples weighs ∂f/∂h into ∂f/∂a for one group
/// (a Bernoulli unit, or K one-hot classes), given the logits a and the sample h: its estimate is
/// then a deterministic function of the hidden configuration, and its expectation is a sum over
/// configurations (`expectedPathwiseGradient`).
public enum ReferenceSurrogate: String, CaseIterable, Sendable {
    /// `st`: σ′(a) g, or the softmax(a) Jacobian p ⊙ (g − ⟨p, g⟩).
    case straightThrough
    /// `st-annealed`: the hard sigmoid's s/2 · 1[|s a| < 1] g, or softmax(s a)'s Jacobian times s.
    case slopeAnnealed
    /// `darn`: ⟨g, h − h̄⟩ (h − mean(a)), h̄ = ½ or 1/K.
    case taylor
    /// `st-annealed-chung`: backward as slopeAnnealed; forward h ~ Bernoulli(hard_sigm(s a)) (binary only).
    case hardSigmoidSample

    /// log p(h | a) of the forward sample for one binary unit: σ(a), or the hard sigmoid of s·a.
    func logForward(a: Double, h: Double, slope s: Double) -> Double {
        let p = self == .hardSigmoidSample ? min(1, max(0, (s * a + 1) / 2)) : ReferenceSBN.sigmoid(a)
        return log(h > 0.5 ? p : 1 - p)
    }

    public func backward(g: [Double], a: [Double], h: [Double], slope s: Double) -> [Double] {
        let k = a.count
        if k == 1 {
            let p = ReferenceSBN.sigmoid(a[0])
            switch self {
            case .straightThrough: return [g[0] * p * (1 - p)]
            case .slopeAnnealed, .hardSigmoidSample: return [abs(s * a[0]) < 1 ? g[0] * s / 2 : 0]
            case .taylor: return [g[0] * (h[0] - 0.5) * (h[0] - p)]
            }
        }
        switch self {
        case .straightThrough, .slopeAnnealed, .hardSigmoidSample:
            let scale = self == .straightThrough ? 1 : s
            let p = ReferenceSBN.softmax(a.map { $0 * scale }[...])
            let dot = zip(p, g).reduce(0) { $0 + $1.0 * $1.1 }
            return (0..<k).map { scale * p[$0] * (g[$0] - dot) }
        case .taylor:
            let p = ReferenceSBN.softmax(a[...])
            let signal = zip(g, h).reduce(0) { $0 + $1.0 * ($1.1 - 1 / Double(k)) }
            return (0..<k).map { signal * (h[$0] - p[$0]) }
        }
    }
}

/// E[ĝ] of a pathwise estimator with exact samples forward (st, st-annealed at slope s, darn) on
/// a tiny SBN with two hidden layers: Σ_h p(h|x) ĝ(h), ĝ(h) the backward pass of the sampled
/// configuration through `surrogate`'s weights, in double precision with naive loops. What the
/// mean of N estimates must approach, so a missing factor in any weight shows.
public func expectedPathwiseGradient(_ model: StochasticNetwork, _ batch: Batch, surrogate: ReferenceSurrogate, slope: Double = 1)
    -> [Double]
{
    let ref = ReferenceSBN(model)
    let (n0, n1, n2, n3) = (model.sizes[0], model.sizes[1], model.sizes[2], model.sizes[3])
    var offsets = [0]
    for t in model.parameters.tensors { offsets.append(offsets.last! + t.count) }
    var grad = [Double](repeating: 0, count: model.parameters.scalarCount)
    func weigh(_ l: Int, _ g: [Double], _ a: [Double], _ h: [Double]) -> [Double] {
        let k = ref.classes[l - 1]
        return stride(from: 0, to: g.count, by: k).flatMap { i in
            surrogate.backward(g: Array(g[i..<(i + k)]), a: Array(a[i..<(i + k)]), h: Array(h[i..<(i + k)]), slope: slope)
        }
    }
    func logForward(_ l: Int, _ h: [Double], _ a: [Double]) -> Double {  // the sample's distribution
        guard surrogate == .hardSigmoidSample else { return ref.logProb(l, h, a) }
        return zip(h, a).reduce(0) { $0 + surrogate.logForward(a: $1.1, h: $1.0, slope: slope) }
    }
    func transposed(_ l: Int, _ g: [Double]) -> [Double] {  // Wᵀ-product: ∂/∂input of layer l
        let (rows, cols) = (ref.sizes[l - 1], ref.sizes[l])
        return (0..<rows).map { i in (0..<cols).reduce(0) { $0 + ref.W[l - 1][i * cols + $1] * g[$1] } }
    }
    for b in 0..<batch.count {
        let x = (0..<n0).map { Double(batch.input[b, $0]) }, y = (0..<n3).map { Double(batch.target[b, $0]) }
        let a1 = ref.linear(1, x)
        for h1 in ref.states(1) {
            let a2 = ref.linear(2, h1)
            for h2 in ref.states(2) {
                let w = exp(logForward(1, h1, a1) + logForward(2, h2, a2)) / Double(batch.count)
                let g3 = zip(ref.linear(3, h2), y).map { ReferenceSBN.sigmoid($0) - $1 }
                let g2 = weigh(2, transposed(3, g3), a2, h2)
                let g1 = weigh(1, transposed(2, g2), a1, h1)
                for (l, input, g) in [(0, x, g1), (2, h1, g2), (4, h2, g3)] {
                    let (rows, cols) = ([n0, n1, n2][l / 2], g.count)
                    for i in 0..<rows where input[i] != 0 {
                        for j in 0..<cols { grad[offsets[l] + i * cols + j] += w * input[i] * g[j] }
                    }
                    for j in 0..<cols { grad[offsets[l + 1] + j] += w * g[j] }
                }
            }
        }
    }
    return grad
}
