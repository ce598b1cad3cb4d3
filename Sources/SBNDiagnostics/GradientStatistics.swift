import Dispatch
import Foundation
import SBNDistributions
import SBNEstimators
import SBNModel
import SBNOptions
import SBNStorage
import SBNTensor

/// Bias, variance and cost of gradient estimators against a reference gradient: N estimates of
/// each estimator, their mean against the reference, their spread, and their time beside one
/// plain forward pass (`sbnlab gradstats`; results schema in docs/results-schema.md). The
/// reference is exact on a tiny SBN (`exactGradient`, or `exactTwoSampleGradient` for the m = 2
/// objective, by enumeration), or on a real model the mean of many estimates of an unbiased
/// estimator, whose own standard error is reported and counted in every noise floor.
public struct GradientStatistics: Sendable {
    /// What the estimates are compared with.
    public enum Reference: Sendable {
        /// The enumerated gradient (tiny networks with two hidden layers only).
        case exact
        /// The mean of `estimates` draws of an unbiased estimator.
        case estimated(Subject, estimates: Int)
    }

    public struct Row: Sendable {
        public var estimator: String
        /// ‖E[ĝ] − ∇‖ and ‖E[ĝ] − ∇‖ / ‖∇‖, E[ĝ] the mean of the N estimates.
        public var biasNorm: Double
        public var relativeBias: Double
        /// √(Σ_k Var[ĝ_k] / N + reference variance) / ‖∇‖: the relative bias an unbiased
        /// estimator shows from the noise of its mean and of an estimated reference alone.
        public var noiseFloor: Double
        /// Σ_k Var[ĝ_k] over all parameters, and per layer (W_l and b_l).
        public var varianceTrace: Double
        public var variancePerLayer: [Double]
        /// cos(E[ĝ], ∇).
        public var cosine: Double
        /// The smallest cosine between E[ĝ] and the reference over the maps' parameter blocks:
        /// 1 (up to noise) for an estimator unbiased in direction layer by layer, such as one
        /// whose variance normalization scales each layer's estimate by its own step size.
        public var minLayerCosine: Double
        /// cos(E[ĝ], ∇) over each map's parameter block (map 1 first; 1 for a block whose
        /// reference is zero); empty when read back from a run's diagnostics, which keep the minimum.
        public var cosinePerLayer: [Double] = []
        /// Time per estimate, and that time over the time of one exact forward pass.
        public var microseconds: Double
        public var forwardEquivalents: Double

        public init(
            estimator: String, biasNorm: Double, relativeBias: Double, noiseFloor: Double, varianceTrace: Double,
            variancePerLayer: [Double], cosine: Double, minLayerCosine: Double, microseconds: Double, forwardEquivalents: Double
        ) {
            (self.estimator, self.biasNorm, self.relativeBias, self.noiseFloor) = (estimator, biasNorm, relativeBias, noiseFloor)
            (self.varianceTrace, self.variancePerLayer, self.cosine) = (varianceTrace, variancePerLayer, cosine)
            self.minLayerCosine = minLayerCosine
            (self.microseconds, self.forwardEquivalents) = (microseconds, forwardEquivalents)
        }
    }

    public let architecture: String
    public let samples: Int
    public let estimates: Int
    public let temperature: Float
    public let referenceNorm: Double
    /// How the reference was obtained, e.g. "exact (enumeration)" or "disarm, 50000 estimates".
    public let referenceText: String
    /// √(Σ_k Var[reference_k]) / ‖∇‖: its relative standard error (0 when exact).
    public let referenceRelativeError: Double
    public let rows: [Row]
    /// Estimators left out, with the reason (e.g. "arm: supports m ≤ 1").
    public let skipped: [String]
    /// Rows measured against another reference than the header's, and which.
    public var notes: [String] = []

    /// An estimator to measure: its registry name, options and the label of its row.
    public struct Subject: Sendable {
        public var label: String, name: String, options: AnyOptions?
        /// Fills the fresh estimator's state before it is measured (a checkpoint's trained
        /// baselines and moving moments), or nil to measure it as a new run would start.
        public var prepare: (@Sendable (ComponentState) throws -> Void)?
        public init(
            label: String, name: String, options: AnyOptions? = nil, prepare: (@Sendable (ComponentState) throws -> Void)? = nil
        ) {
            (self.label, self.name, self.options, self.prepare) = (label, name, options, prepare)
        }
    }

    /// `measure` of registry names with their default options.
    public static func measure(
        estimators: [String], model: StochasticNetwork, batch: Batch, samples: Int, estimates: Int,
        temperature: Float, seed: UInt64, reference: Reference = .exact,
        timing: Bool = true
    ) throws -> GradientStatistics {
        try measure(
            subjects: estimators.map { Subject(label: $0, name: $0) }, model: model, batch: batch, samples: samples,
            estimates: estimates, temperature: temperature, seed: seed, reference: reference, timing: timing)
    }

    /// Measures `subjects` (registry names with options) on `model` and `batch` with the m-sample objective
    /// (m = 1, or 2 for VIMCO and other multi-sample estimators), `estimates` draws each, against
    /// `reference`.
    /// Estimators of the single-sample objective (`reinforce-loo`) at m > 1 are compared with that
    /// objective's gradient: exact, or the estimated `singleSampleReference` (left out without one).
    public static func measure(
        subjects: [Subject], model: StochasticNetwork, batch: Batch, samples: Int, estimates: Int,
        temperature: Float, seed: UInt64, reference: Reference = .exact,
        singleSampleReference: Reference? = nil, timing: Bool = true
    ) throws -> GradientStatistics {
        let (target, targetVariance, text) = try referenceGradient(
            reference, model: model, batch: batch, samples: samples,
            temperature: temperature, seed: seed)
        let forward = timing ? forwardMicroseconds(model: model, batch: batch, samples: samples) : .nan
        var rows: [Row] = [], skipped: [String] = [], notes: [String] = []
        for subject in subjects {
            let (name, type) = (subject.label, try lookup(subject.name))
            if let reason = unsupported(type, model: model, samples: samples) {
                skipped.append("\(name): \(reason)")
                continue
            }
            // An estimator of the single-sample objective is compared with that objective's gradient.
            var (goal, goalVariance) = (target, targetVariance)
            if samples > 1 && type.estimatesSingleSampleObjective {
                let single: Reference? = if case .exact = reference { .exact } else { singleSampleReference }
                guard let single else {
                    skipped.append("\(name): estimates the single-sample objective, the reference is the m = \(samples) bound's")
                    continue
                }
                let text: String
                (goal, goalVariance, text) = try referenceGradient(
                    single, model: model, batch: batch, samples: 1,
                    temperature: temperature, seed: seed)
                notes.append("\(name): against the single-sample objective's gradient (\(text)), which it estimates")
            }
            let estimator = try make(type, model: model, batch: batch, samples: samples, options: subject.options)
            try subject.prepare?(estimator.state)
            let m = moments(estimator, model: model, batch: batch, estimates: estimates, temperature: temperature, seed: seed)
            rows.append(row(name, m, model: model, reference: goal, referenceVariance: goalVariance, forward: forward))
        }
        return GradientStatistics(
            architecture: model.architecture.description, samples: samples, estimates: estimates,
            temperature: temperature, referenceNorm: norm(target), referenceText: text,
            referenceRelativeError: targetVariance.squareRoot() / norm(target), rows: rows, skipped: skipped,
            notes: notes)
    }

    /// The reference gradient, the variance of its entries summed (0 when exact), and its description.
    static func referenceGradient(
        _ reference: Reference, model: StochasticNetwork, batch: Batch, samples: Int, temperature: Float,
        seed: UInt64
    ) throws -> ([Double], Double, String) {
        switch reference {
        case .exact:
            precondition(samples == 1 || samples == 2, "GradientStatistics: the exact reference covers m = 1 and m = 2")
            precondition(model.layerCount == 3, "GradientStatistics: the exact reference covers two hidden layers")
            return (samples == 1 ? exactGradient(model, batch) : exactTwoSampleGradient(model, batch), 0, "exact (enumeration)")
        case .estimated(let subject, let n):
            let type = try lookup(subject.name)
            if let reason = unsupported(type, model: model, samples: samples) {
                throw Failure("reference \(subject.label): \(reason)")
            }
            let m = moments(
                try make(type, model: model, batch: batch, samples: samples, options: subject.options), model: model,
                batch: batch, estimates: n, temperature: temperature, seed: seed ^ 0x5EED)
            return (m.mean, m.variance.reduce(0, +) / Double(n), "\(subject.label), \(n) estimates")
        }
    }

    static func lookup(_ name: String) throws -> any GradientEstimator.Type {
        guard let type = EstimatorRegistry.registry.lookup(name) else { throw Failure("unknown estimator \"\(name)\"") }
        return type
    }

    static func make(
        _ type: any GradientEstimator.Type, model: StochasticNetwork, batch: Batch, samples: Int,
        options: AnyOptions? = nil
    ) throws -> any GradientEstimator {
        let ws = NetworkWorkspace(model: model, capacityImages: batch.count, samples: samples)
        return try type.make(model: ws, options: options ?? AnyOptions(type.optionsType.init()))
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func unsupported(_ type: any GradientEstimator.Type, model: StochasticNetwork, samples: Int) -> String? {
        Applicability.problem(type, units: model.architecture.hidden, samples: samples)?.message
    }

    /// N estimates: their mean and variance per parameter, and the seconds each took.
    struct Moments {
        var mean: [Double], variance: [Double], seconds: Double, estimates: Int
    }

    static func moments(
        _ estimator: any GradientEstimator, model: StochasticNetwork, batch: Batch, estimates: Int, temperature: Float,
        seed: UInt64
    ) -> Moments {
        let grads = model.makeGradients()
        var rng = Xoshiro256(seed: seed)
        var sum = [Double](repeating: 0, count: model.parameters.scalarCount), sumSq = sum
        var seconds = 0.0
        for step in 0..<estimates {
            grads.zero()
            let start = DispatchTime.now().uptimeNanoseconds
            _ = estimator.estimate(
                batch, grads: grads, context: StepContext(step: step, temperature: temperature, learningRate: 0),
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
        return Moments(
            mean: mean, variance: zip(sumSq, mean).map { max($0 / n - $1 * $1, 0) }, seconds: seconds / n,
            estimates: estimates)
    }

    /// One row: the estimator's moments against the reference (whose summed variance is
    /// `referenceVariance`).
    static func row(
        _ name: String, _ m: Moments, model: StochasticNetwork, reference: [Double], referenceVariance: Double, forward: Double
    ) -> Row {
        let bias = norm(zip(m.mean, reference).map { $0 - $1 }), size = norm(reference)
        var perLayer: [Double] = [], cosines: [Double] = []
        // Where each tensor's entries start in the flattened gradient; map l's entries are those
        // of its tensors (its dense layers, and any convolutions or Gaussian latent it holds).
        let starts = model.parameters.tensors.reduce(into: [0]) { $0.append($0.last! + $1.count) }
        for l in 1...model.layerCount {
            let block = model.parameterIndices(ofMap: l).flatMap { starts[$0]..<starts[$0 + 1] }
            perLayer.append(block.reduce(0) { $0 + m.variance[$1] })
            let (mean, goal) = (block.map { m.mean[$0] }, block.map { reference[$0] })
            cosines.append(norm(goal) > 0 ? zip(mean, goal).reduce(0) { $0 + $1.0 * $1.1 } / (norm(mean) * norm(goal)) : 1)
        }
        let trace = m.variance.reduce(0, +)
        let cosine = zip(m.mean, reference).reduce(0) { $0 + $1.0 * $1.1 } / (norm(m.mean) * size)
        let microseconds = m.seconds * 1e6
        var row = Row(
            estimator: name, biasNorm: bias, relativeBias: bias / size,
            noiseFloor: (trace / Double(m.estimates) + referenceVariance).squareRoot() / size,
            varianceTrace: trace, variancePerLayer: perLayer, cosine: cosine, minLayerCosine: cosines.min() ?? 1,
            microseconds: microseconds,
            forwardEquivalents: microseconds / forward)
        row.cosinePerLayer = cosines
        return row
    }

    /// Microseconds of one forward pass with exact samples (best of 5 runs of 200).
    static func forwardMicroseconds(model: StochasticNetwork, batch: Batch, samples: Int) -> Double {
        let ws = NetworkWorkspace(model: model, capacityImages: batch.count, samples: samples)
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
