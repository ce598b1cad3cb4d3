import SBNDistributions
import SBNModel
import SBNOptions
import SBNTensor

/// `arm`: the Augment-REINFORCE-Merge estimator (Yin & Zhou 2019, eq. 5), unbiased and
/// antithetic. For hidden layer l with logits a and one uniform vector u,
///
///   ∂E[f]/∂a = E_u[(f(1[u > σ(−a)]) − f(1[u < σ(a)])) · (u − ½)],
///
/// where each f is the downstream loss with layer l fixed to that configuration and the layers
/// below it sampled afresh (as the reference code does for the first layer). Layers are taken in
/// order; the configuration 1[u < σ(a)] — an exact Bernoulli sample — is kept for the next layer
/// and for the decoder's pathwise gradient. Training objective with m = 1 only.
public final class ARMEstimator: GradientEstimator {
    public static let name = "arm"
    public static let summary = "ARM: antithetic, unbiased score-function estimator (Yin & Zhou 2019)"
    public static let surrogate = UnitSurrogate.exact

    /// The antithetic pair 1[u < σ(a)], 1[u > σ(−a)] is Bernoulli algebra (the categorical
    /// extension, ARSM, is another estimator).
    public static func supports(_ units: any StochasticUnits) -> Bool { units is BernoulliUnits }
    /// The antithetic pair is of one sample's configuration.
    public static let maxTrainingSamples: Int? = 1

    struct Unsupported: Error, CustomStringConvertible { let description: String }

    let workspace: SBNWorkspace
    public let state = ComponentState.none
    private let uniforms: [Matrix]
    private let fPlus: UnsafeMutableBufferPointer<Float>

    public init(workspace: SBNWorkspace, options: NoOptions) throws {
        if let other = workspace.model.architecture.hidden.first(where: { !Self.supports($0) }) {
            throw Unsupported(description: "layers: arm supports Bernoulli layers only, got \(other)")
        }
        guard workspace.samples == 1 else {
            throw Unsupported(description: "samples.train: arm supports m = 1 only, got \(workspace.samples)")
        }
        self.workspace = workspace
        uniforms = workspace.noise.map { Matrix(rows: $0.capacityRows, cols: $0.cols) }
        fPlus = .allocate(capacity: workspace.capacityImages)
    }

    deinit { fPlus.deallocate() }

    public func estimate(_ batch: Batch, grads: ParameterSet, context: StepContext, using rng: inout Xoshiro256) -> Double {
        let ws = workspace
        ws.computeFirstLogits(batch)
        let invB = 1 / Float(batch.count)
        for l in 1..<ws.model.layerCount {
            let u = uniforms[l], noise = ws.noise[l]
            u.setRows(noise.rows)
            Uniform.sample(into: u, using: &rng)
            // f(1[u > σ(−a)]) = f(1[1 − u < σ(a)]): the antithetic configuration.
            for i in 0..<u.count { noise.storage[i] = 1 - u.storage[i] }
            ws.applyLayer(l, surrogate: .exact, temperature: 1)
            ws.propagate(batch, from: l + 1, surrogate: .exact, temperature: 1, using: &rng, outputGradient: false)
            for r in 0..<ws.rowCount { fPlus[r] = ws.rowNLL[r] }
            // f(1[u < σ(a)]): the Bernoulli sample itself.
            noise.copy(from: u)
            ws.applyLayer(l, surrogate: .exact, temperature: 1)
            ws.propagate(batch, from: l + 1, surrogate: .exact, temperature: 1, using: &rng, outputGradient: false)
            for r in 0..<ws.rowCount {
                let d = (fPlus[r] - ws.rowNLL[r]) * invB
                let g = ws.gradLogits[l].row(r), ur = u.row(r)
                for c in 0..<u.cols { g[c] = d * (ur[c] - 0.5) }
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
