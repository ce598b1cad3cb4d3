import Foundation
import SBNDiagnostics
import SBNDistributions
import SBNEstimators
import SBNModel
import SBNOptions
import SBNTensor
import Testing

/// `gs` with its noise held fixed is a deterministic function of the parameters; its analytic
/// (Float, BLAS) gradient must match central finite differences of the double-precision reference,
/// for Bernoulli layers (6-5-4-6) and categorical ones (6-(2×3)-(3×2)-6).
@Suite struct PathwiseGradientTests {
    static let nets: [Architecture] = [
        .bernoulli([6, 5, 4, 6]),
        Architecture(
            input: 6, hidden: [CategoricalUnits(groups: 2, classes: 3), CategoricalUnits(groups: 3, classes: 2)], output: 6),
    ]

    @Test(arguments: [1, 3], [0, 1])
    func gumbelSoftmaxGradientMatchesFiniteDifferences(samples: Int, net: Int) throws {
        let architecture = Self.nets[net], sizes = architecture.sizes, images = 3
        let (model, batch) = tinyProblem(architecture, images: images, seed: 21)
        let ws = NetworkWorkspace(model: model, capacityImages: images, samples: samples)
        let estimator = try GumbelSoftmaxEstimator(model: ws, options: NoOptions())
        let grads = model.makeGradients()
        var rng = Xoshiro256(seed: 22)
        let tau: Float = 0.7
        let loss = estimator.estimate(
            batch, grads: grads, context: StepContext(step: 0, temperature: tau, learningRate: 0), using: &rng)

        // The noise the estimator drew, per image, sample and layer.
        func noise(_ b: Int) -> [[[Double]]] {
            (0..<samples).map { i in
                (1..<model.layerCount).map { l in
                    (0..<sizes[l]).map { Double(ws.noise[l][b * samples + i, $0]) }
                }
            }
        }
        func referenceLoss(_ ref: ReferenceSBN) -> Double {
            (0..<images).reduce(0.0) { acc, b in
                acc
                    + ref.relaxedLoss(
                        top: (0..<sizes[0]).map { Double(batch.input[b, $0]) },
                        bottom: (0..<sizes.last!).map { Double(batch.target[b, $0]) },
                        noise: noise(b), tau: Double(tau))
            } / Double(images)
        }
        let base = ReferenceSBN(model)
        #expect(abs(referenceLoss(base) - loss) < 1e-4 * max(1, abs(loss)))

        let h = 1e-6
        var worst = 0.0
        for (t, name) in zip(grads.tensors.indices, grads.names) {
            for i in 0..<grads.tensors[t].count {
                var plus = base, minus = base
                let l = t / 2
                if t % 2 == 0 { plus.W[l][i] += h; minus.W[l][i] -= h } else { plus.b[l][i] += h; minus.b[l][i] -= h }
                let fd = (referenceLoss(plus) - referenceLoss(minus)) / (2 * h)
                let analytic = Double(grads.tensors[t].storage[i])
                let err = abs(fd - analytic) / max(1e-2, abs(fd))
                worst = max(worst, err)
                #expect(err < 2e-3, "\(name)[\(i)]: analytic \(analytic), finite difference \(fd)")
            }
        }
        print("gs (\(architecture), m=\(samples)) worst relative gradient error vs finite differences: \(worst)")
    }
}
