import Foundation
import SBNDistributions
import SBNModel
import SBNTensor

/// A plain double-precision reimplementation of the SBN maths with naive loops, independent of
/// the BLAS path and of the unit-kind kernels: the reference that `sbnlab gradstats` and the
/// estimator tests compare against. Hidden layer l has `classes[l−1]` = 1 for Bernoulli units,
/// K for one-hot groups of K classes. For tiny networks only: it enumerates hidden states.
public struct ReferenceSBN {
    public var sizes: [Int]
    public var classes: [Int]
    public var W: [[Double]]  // W[l-1] is sizes[l-1] × sizes[l], row-major
    public var b: [[Double]]

    public init(_ model: StochasticNetwork) {
        sizes = model.sizes
        classes = model.architecture.hidden.map { ($0 as? CategoricalUnits)?.classes ?? 1 }
        W = (1...model.layerCount).map { model.weight($0).values.map(Double.init) }
        b = (1...model.layerCount).map { model.bias($0).values.map(Double.init) }
    }

    public func linear(_ l: Int, _ x: [Double]) -> [Double] {
        let n = sizes[l - 1], k = sizes[l]
        var out = b[l - 1]
        for i in 0..<n where x[i] != 0 { for j in 0..<k { out[j] += x[i] * W[l - 1][i * k + j] } }
        return out
    }

    public static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
    public static func softplus(_ x: Double) -> Double { max(x, 0) + log1p(exp(-abs(x))) }
    public static func softmax(_ x: ArraySlice<Double>) -> [Double] {
        let m = x.max()!
        let e = x.map { exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    /// Applies `f` to each group of layer l's units (a single unit when Bernoulli).
    public func groups(_ l: Int, _ x: [Double], _ f: (ArraySlice<Double>) -> [Double]) -> [Double] {
        let k = classes[l - 1]
        return stride(from: 0, to: x.count, by: k).flatMap { f(x[$0..<($0 + k)]) }
    }

    /// Every configuration of hidden layer l: 2^d binary vectors, or K^G concatenated one-hots.
    public func states(_ l: Int) -> [[Double]] {
        let k = classes[l - 1], d = sizes[l]
        if k == 1 { return (0..<(1 << d)).map { s in (0..<d).map { Double((s >> $0) & 1) } } }
        let g = d / k
        return (0..<Int(pow(Double(k), Double(g)))).map { s in
            (0..<g).flatMap { group in (0..<k).map { Double(($0 == (s / Int(pow(Double(k), Double(group)))) % k) ? 1 : 0) } }
        }
    }

    /// The layer's mean: σ(a) per unit, or softmax(a) per group.
    public func mean(_ l: Int, _ a: [Double]) -> [Double] {
        classes[l - 1] == 1 ? a.map(Self.sigmoid) : groups(l, a) { Self.softmax($0) }
    }

    /// log p(h | a): Σ h·a − softplus(a), or Σ_groups ⟨h, a⟩ − logsumexp(a).
    public func logProb(_ l: Int, _ h: [Double], _ a: [Double]) -> Double {
        if classes[l - 1] == 1 { return zip(h, a).reduce(0) { $0 + $1.0 * $1.1 - Self.softplus($1.1) } }
        let logMeans = groups(l, a) { Self.softmax($0).map(log) }
        return zip(h, logMeans).reduce(0) { $0 + $1.0 * $1.1 }
    }

    /// −log p(x | h_last) for factorised Bernoulli output logits.
    public func outputNLL(_ hLast: [Double], target: [Double]) -> Double {
        let a = linear(sizes.count - 1, hLast)
        return zip(a, target).reduce(0) { $0 + Self.softplus($1.0) - $1.1 * $1.0 }
    }

    /// The relaxed loss of one image with m samples and fixed noise noise[i][l-1][unit]:
    /// −log (1/m) Σ_i p(x | h_i), h_l = σ((a_l + L)/τ) (Bernoulli) or softmax((a_l + g)/τ) per group.
    public func relaxedLoss(top: [Double], bottom: [Double], noise: [[[Double]]], tau: Double) -> Double {
        let nll: [Double] = noise.map { sampleNoise in
            var h = top
            for l in 1..<(sizes.count - 1) {
                let x = zip(linear(l, h), sampleNoise[l - 1]).map { ($0 + $1) / tau }
                h = classes[l - 1] == 1 ? x.map(Self.sigmoid) : groups(l, x) { Self.softmax($0) }
            }
            return outputNLL(h, target: bottom)
        }
        let best = nll.map { -$0 }.max()!
        return -(best + log(nll.reduce(0) { $0 + exp(-$1 - best) } / Double(nll.count)))
    }
}

/// A tiny network on random binary data, as a Batch and a model.
public func tinyProblem(sizes: [Int], images: Int, seed: UInt64) -> (StochasticNetwork, Batch) {
    tinyProblem(.bernoulli(sizes), images: images, seed: seed)
}

public func tinyProblem(_ architecture: Architecture, images: Int, seed: UInt64) -> (StochasticNetwork, Batch) {
    var rng = Xoshiro256(seed: seed)
    let model = StochasticNetwork(architecture: architecture, rng: &rng)
    // Larger weights than the default init so the units are far from ½ and gradients are not tiny.
    for t in model.parameters.tensors { for i in 0..<t.count { t.storage[i] *= 3 } }
    let batch = Batch(capacity: images, inputSize: architecture.input, outputSize: architecture.output)
    for i in 0..<batch.input.count { batch.input.storage[i] = rng.nextUniform() < 0.4 ? 1 : 0 }
    for i in 0..<batch.target.count { batch.target.storage[i] = rng.nextUniform() < 0.4 ? 1 : 0 }
    return (model, batch)
}

/// The tiny networks the estimator tests run on: Bernoulli 6-3-3-6 (64 hidden states) and
/// categorical 6-(2×3)-(2×3)-6 (81 hidden states).
public enum TinyNet: String, CaseIterable, CustomStringConvertible, Sendable {
    case bernoulli, categorical
    public var architecture: Architecture {
        switch self {
        case .bernoulli: .bernoulli([6, 3, 3, 6])
        case .categorical:
            Architecture(
                input: 6, hidden: [CategoricalUnits(groups: 2, classes: 3), CategoricalUnits(groups: 2, classes: 3)], output: 6)
        }
    }
    public var description: String { rawValue }
}
