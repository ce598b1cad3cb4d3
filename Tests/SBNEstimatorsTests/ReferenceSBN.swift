import Foundation
import SBNDistributions
import SBNEstimators
import SBNModel
import SBNTensor

/// A plain double-precision reimplementation of the SBN maths with naive loops, independent of
/// the BLAS path: the reference the estimator tests compare against.
struct ReferenceSBN {
    var sizes: [Int]
    var W: [[Double]]  // W[l-1] is sizes[l-1] × sizes[l], row-major
    var b: [[Double]]

    init(_ model: SBN) {
        sizes = model.sizes
        W = (1...model.layerCount).map { model.weight($0).values.map(Double.init) }
        b = (1...model.layerCount).map { model.bias($0).values.map(Double.init) }
    }

    func linear(_ l: Int, _ x: [Double]) -> [Double] {
        let n = sizes[l - 1], k = sizes[l]
        var out = b[l - 1]
        for i in 0..<n where x[i] != 0 { for j in 0..<k { out[j] += x[i] * W[l - 1][i * k + j] } }
        return out
    }

    static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
    static func softplus(_ x: Double) -> Double { max(x, 0) + log1p(exp(-abs(x))) }

    /// −log p(x | h_last) for factorised Bernoulli output logits.
    func outputNLL(_ hLast: [Double], target: [Double]) -> Double {
        let a = linear(sizes.count - 1, hLast)
        return zip(a, target).reduce(0) { $0 + Self.softplus($1.0) - $1.1 * $1.0 }
    }

    /// The GS loss of one image with m samples and fixed logistic noise noise[i][l-1][unit]:
    /// −log (1/m) Σ_i p(x | h_i), h_l = σ((a_l + L)/τ).
    func relaxedLoss(top: [Double], bottom: [Double], noise: [[[Double]]], tau: Double) -> Double {
        let nll: [Double] = noise.map { sampleNoise in
            var h = top
            for l in 1..<(sizes.count - 1) {
                let a = linear(l, h)
                h = zip(a, sampleNoise[l - 1]).map { Self.sigmoid(($0 + $1) / tau) }
            }
            return outputNLL(h, target: bottom)
        }
        let best = nll.map { -$0 }.max()!
        return -(best + log(nll.reduce(0) { $0 + exp(-$1 - best) } / Double(nll.count)))
    }
}

/// A tiny network on random binary data, as a Batch and a model.
func tinyProblem(sizes: [Int], images: Int, seed: UInt64) -> (SBN, Batch) {
    var rng = Xoshiro256(seed: seed)
    let model = SBN(sizes: sizes, rng: &rng)
    // Larger weights than the default init so the units are far from ½ and gradients are not tiny.
    for t in model.parameters.tensors { for i in 0..<t.count { t.storage[i] *= 3 } }
    let batch = Batch(capacity: images, inputSize: sizes.first!, outputSize: sizes.last!)
    for i in 0..<batch.top.count { batch.top.storage[i] = rng.nextUniform() < 0.4 ? 1 : 0 }
    for i in 0..<batch.bottom.count { batch.bottom.storage[i] = rng.nextUniform() < 0.4 ? 1 : 0 }
    return (model, batch)
}
