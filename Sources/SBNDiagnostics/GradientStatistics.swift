import Dispatch
import Foundation
import SBNDistributions
import SBNEstimators
import SBNModel
import SBNOptions
import SBNStorage
import SBNTensor

/// Bias, variance and cost of gradient estimators on a tiny SBN whose exact gradient is known by
/// enumeration (`exactGradient`, or `exactTwoSampleGradient` for the m = 2 objective): N estimates
/// of each estimator, their mean against the exact gradient, their spread, and their time beside
/// one plain forward pass (`sbnlab gradstats`; results schema in docs/results-schema.md).
public struct GradientStatistics: Sendable {
    public struct Row: Sendable {
        public var estimator: String
        /// ‖E[ĝ] − ∇‖ and ‖E[ĝ] − ∇‖ / ‖∇‖, E[ĝ] the mean of the N estimates.
        public var biasNorm: Double
        public var relativeBias: Double
        /// √(Σ_k Var[ĝ_k] / N) / ‖∇‖: the relative bias an unbiased estimator shows from its noise alone.
        public var noiseFloor: Double
        /// Σ_k Var[ĝ_k] over all parameters, and per layer (W_l and b_l).
        public var varianceTrace: Double
        public var variancePerLayer: [Double]
        /// cos(E[ĝ], ∇).
        public var cosine: Double
        /// Time per estimate, and that time over the time of one exact forward pass.
        public var microseconds: Double
        public var forwardEquivalents: Double
    }

    public let architecture: String
    public let samples: Int
    public let estimates: Int
    public let temperature: Float
    public let referenceNorm: Double
    public let rows: [Row]
    /// Estimators left out, with the reason (e.g. "arm: supports m ≤ 1").
    public let skipped: [String]

    /// Measures `estimators` (registry names) on `model` and `batch` with the m-sample objective
    /// (m = 1, or 2 for VIMCO and other multi-sample estimators), `estimates` draws each.
    public static func measure(estimators: [String], model: SBN, batch: Batch, samples: Int, estimates: Int,
                               temperature: Float, seed: UInt64) throws -> GradientStatistics {
        precondition(samples == 1 || samples == 2, "GradientStatistics: the exact reference covers m = 1 and m = 2")
        let exact = samples == 1 ? exactGradient(model, batch) : exactTwoSampleGradient(model, batch)
        let forward = forwardMicroseconds(model: model, batch: batch, samples: samples)
        var rows: [Row] = [], skipped: [String] = []
        for name in estimators {
            guard let type = EstimatorRegistry.registry.lookup(name) else { throw Failure("unknown estimator \"\(name)\"") }
            if let reason = unsupported(type, model: model, samples: samples) {
                skipped.append("\(name): \(reason)")
                continue
            }
            let ws = SBNWorkspace(model: model, capacityImages: batch.count, samples: samples)
            let estimator = try type.make(workspace: ws, options: AnyOptions(type.optionsType.init()))
            rows.append(row(name, estimator, model: model, batch: batch, exact: exact, estimates: estimates,
                            temperature: temperature, seed: seed, forward: forward))
        }
        return GradientStatistics(architecture: model.architecture.description, samples: samples, estimates: estimates,
                                  temperature: temperature, referenceNorm: norm(exact), rows: rows, skipped: skipped)
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func unsupported(_ type: any GradientEstimator.Type, model: SBN, samples: Int) -> String? {
        if let kind = model.architecture.hidden.first(where: { !type.supports($0) }) { return "does not support \(kind)" }
        if let most = type.maxTrainingSamples, samples > most { return "supports m ≤ \(most)" }
        if samples < type.minTrainingSamples { return "needs m ≥ \(type.minTrainingSamples)" }
        return nil
    }

    /// N estimates: running sums of ĝ and ĝ² per parameter, and the time they took.
    static func row(_ name: String, _ estimator: any GradientEstimator, model: SBN, batch: Batch, exact: [Double], estimates: Int,
                    temperature: Float, seed: UInt64, forward: Double) -> Row {
        let grads = model.makeGradients()
        var rng = Xoshiro256(seed: seed)
        var sum = [Double](repeating: 0, count: exact.count), sumSq = sum
        var seconds = 0.0
        for step in 0..<estimates {
            grads.zero()
            let start = DispatchTime.now().uptimeNanoseconds
            _ = estimator.estimate(batch, grads: grads, context: StepContext(step: step, temperature: temperature, learningRate: 0),
                                   using: &rng)
            seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            var k = 0
            for t in grads.tensors {
                for v in t.buffer {
                    sum[k] += Double(v)
                    sumSq[k] += Double(v) * Double(v)
                    k += 1
                }
            }
        }
        let n = Double(estimates)
        let mean = sum.map { $0 / n }
        let variance = zip(sumSq, mean).map { max($0 / n - $1 * $1, 0) }
        let bias = norm(zip(mean, exact).map { $0 - $1 }), reference = norm(exact)
        var perLayer: [Double] = [], k = 0
        for l in 1...model.layerCount {
            let count = model.weight(l).count + model.bias(l).count
            perLayer.append(variance[k..<(k + count)].reduce(0, +))
            k += count
        }
        let trace = variance.reduce(0, +)
        let cosine = zip(mean, exact).reduce(0) { $0 + $1.0 * $1.1 } / (norm(mean) * reference)
        let microseconds = seconds / n * 1e6
        return Row(estimator: name, biasNorm: bias, relativeBias: bias / reference, noiseFloor: (trace / n).squareRoot() / reference,
                   varianceTrace: trace, variancePerLayer: perLayer, cosine: cosine, microseconds: microseconds,
                   forwardEquivalents: microseconds / forward)
    }

    /// Microseconds of one forward pass with exact samples (best of 5 runs of 200).
    static func forwardMicroseconds(model: SBN, batch: Batch, samples: Int) -> Double {
        let ws = SBNWorkspace(model: model, capacityImages: batch.count, samples: samples)
        var rng = Xoshiro256(seed: 1)
        var best = Double.infinity
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<200 { ws.forward(batch, surrogate: .exact, temperature: 1, using: &rng, outputGradient: false) }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3 / 200)
        }
        return best
    }

    static func norm(_ x: [Double]) -> Double { x.reduce(0) { $0 + $1 * $1 }.squareRoot() }
}
