import SBNDistributions
import SBNModel
import SBNOptions
import SBNTensor

/// How an antithetic estimator weighs the pair of downstream losses into a logit gradient:
/// f(b) at the Bernoulli sample b = 1[u < σ(a)] and f(b̃) at its antithetic b̃ = 1[1 − u < σ(a)].
/// The row factor is computed once per example, the unit weight once per unit.
public protocol AntitheticWeight {
    static func rowFactor(sample f: Float, antithetic fTilde: Float, scale: Float) -> Float
    static func unit(_ rowFactor: Float, uniform u: Float, logit a: Float) -> Float
}

/// ARM-like estimators: a weighting of the antithetic pair (`AntitheticWeight`) on Bernoulli
/// layers with m = 1, run by `AntitheticPairs`. A conforming class declares its name, summary,
/// weights and `pairs`; the rest comes from here.
public protocol AntitheticEstimator: GradientEstimator, AntitheticWeight where Options == NoOptions {
    var pairs: AntitheticPairs { get }
}

extension AntitheticEstimator {
    /// The antithetic pair 1[u < σ(a)], 1[1 − u < σ(a)] is Bernoulli algebra (the categorical
    /// extension, ARSM, would be another estimator).
    public static var requirements: UnitCapabilities { [.score, .antitheticUniform] }
    /// The pair is of one sample's configuration.
    public static var maxTrainingSamples: Int? { 1 }
    public var state: ComponentState { .none }

    public func estimate(_ batch: Batch, grads: ParameterSet, context: StepContext, using rng: inout Xoshiro256) -> Double {
        pairs.estimate(batch, grads: grads, weight: Self.self, using: &rng)
    }
}

/// The machinery ARM and DisARM share on Bernoulli layers: layer by layer, one uniform vector
/// u, the downstream loss at b̃ = 1[1 − u < σ(a)] and at b = 1[u < σ(a)] (the layers below
/// sampled afresh for each), the logit gradient from `Weight`; b is kept for the layers below
/// and for the decoder's pathwise gradient. Training objective with m = 1.
public final class AntitheticPairs {
    let model: any LatentModel
    private let uniforms: [Matrix]
    private let fTilde: UnsafeMutableBufferPointer<Float>

    public init(model: any LatentModel) {
        self.model = model
        uniforms = model.noise.map { Matrix(rows: $0.capacityRows, cols: $0.cols) }
        fTilde = .allocate(capacity: model.capacityImages)
    }

    deinit { fTilde.deallocate() }

    func estimate<Weight: AntitheticWeight>(
        _ batch: Batch, grads: ParameterSet, weight: Weight.Type,
        using rng: inout Xoshiro256
    ) -> Double {
        let ws = model
        ws.computeFirstLogits(batch)
        let invB = 1 / Float(batch.count)
        for l in 1..<ws.layerCount {
            let u = uniforms[l], noise = ws.noise[l]
            u.setRows(noise.rows)
            Uniform.sample(into: u, using: &rng)
            // f(1[1 − u < σ(a)]): the antithetic configuration.
            for i in 0..<u.count { noise.storage[i] = 1 - u.storage[i] }
            ws.applyLayer(l, surrogate: .exact, temperature: 1)
            ws.propagate(batch, from: l + 1, surrogate: .exact, temperature: 1, using: &rng, outputGradient: false)
            for r in 0..<ws.rowCount { fTilde[r] = ws.rowLoss[r] }
            // f(1[u < σ(a)]): the Bernoulli sample itself.
            noise.copy(from: u)
            ws.applyLayer(l, surrogate: .exact, temperature: 1)
            ws.propagate(batch, from: l + 1, surrogate: .exact, temperature: 1, using: &rng, outputGradient: false)
            for r in 0..<ws.rowCount {
                let d = Weight.rowFactor(sample: ws.rowLoss[r], antithetic: fTilde[r], scale: invB)
                let g = ws.gradLogits[l].row(r), ur = u.row(r), a = ws.logits[l].row(r)
                for c in 0..<u.cols { g[c] = Weight.unit(d, uniform: ur[c], logit: a[c]) }
            }
            // Keep the Bernoulli configuration for the layers below (and recompute their logits).
            ws.applyLayer(l, surrogate: .exact, temperature: 1)
        }
        let loss = ws.scoreOutput(batch)
        ws.backwardDecoder(grads: grads)
        ws.backwardHiddenLogits(batch, grads: grads)
        return loss
    }
}
