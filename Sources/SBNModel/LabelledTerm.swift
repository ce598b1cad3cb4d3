import SBNDistributions
import SBNTensor

/// The labelled images' part of M2's objective (Kingma et al. 2014 eq. 9, divided by the number
/// of unlabelled images N_U so that it sits beside the unlabelled images' mean −ELBO):
///
///   λ · mean_b L(x_b, y_b) + α · mean_b (−log q(y_b | x_b)),   λ = N_L / N_U,
///
/// with L(x, y) = −log p(x | y, z) + KL(q(z | x, y) ‖ p(z)) − log p(y) the −ELBO of an image
/// whose class is known (z reparameterised, one sample), and α the classification weight of
/// Jang et al. 2017 §4.3's grid. Computed through `LatentModel` with the class set to the label
/// (`setLayer`), so it trains any model of one categorical variable.
public final class LabelledTerm {
    public let model: any LatentModel
    public let alpha: Float, elboWeight: Float
    let values: Matrix, probabilities: Matrix
    let weights: UnsafeMutableBufferPointer<Float>

    /// `model` is a workspace of the labelled batch's capacity (m = 1).
    public init(model: any LatentModel, alpha: Float, elboWeight: Float) {
        precondition(model.samples == 1 && model.layerCount == 2, "LabelledTerm: one class variable, one sample")
        self.model = model
        self.alpha = alpha
        self.elboWeight = elboWeight
        values = Matrix(rows: model.capacityImages, cols: model.width(1))
        probabilities = Matrix(rows: model.capacityImages, cols: model.width(1))
        weights = .allocate(capacity: model.capacityImages)
    }

    deinit { weights.deallocate() }

    /// Adds the term's gradient for `batch` with classes `labels` (one per row) into `grads`;
    /// returns the term (λ·mean L + α·mean CE). The noise of z comes from `rng`.
    public func accumulate(
        _ batch: Batch, labels: UnsafeBufferPointer<Int32>, grads: ParameterSet, using rng: inout Xoshiro256
    ) -> Double {
        model.computeFirstLogits(batch)
        let rows = model.rowCount, K = model.width(1), invB = 1 / Float(rows)
        values.setRows(rows)
        probabilities.setRows(rows)
        values.fill(0)
        var crossEntropy = 0.0
        for r in 0..<rows {
            let y = Int(labels[r])
            values.row(r)[y] = 1
            crossEntropy -= logSoftmax(model.logits[1].row(r), K, class: y, into: probabilities.row(r))
            weights[r] = elboWeight
        }
        model.setLayer(1, values: values, using: &rng)
        model.scoreOutput(batch)
        // The row loss holds log q(y | x) − log p(y); L(x, y) has only −log p(y): add the cross-entropy back.
        var elbo = 0.0
        for r in 0..<rows { elbo += Double(model.rowLoss[r]) }
        elbo += crossEntropy
        model.gradLogits[1].fill(0)
        model.backwardEnumerated(layer: 1, weights: UnsafeBufferPointer(weights), grads: grads)
        // ∂/∂a of λ·(row loss + CE) is 0 (L does not depend on q); α·CE's is α (q − onehot(y)).
        for r in 0..<rows {
            let g = model.gradLogits[1].row(r), q = probabilities.row(r), y = Int(labels[r])
            for k in 0..<K { g[k] = alpha * (q[k] - (k == y ? 1 : 0)) * invB }
        }
        model.backwardFirstLogits(batch, grads: grads)
        return (Double(elboWeight) * elbo + Double(alpha) * crossEntropy) / Double(rows)
    }

    /// log softmax(a)_y in logit space, with softmax(a) into `q`.
    private func logSoftmax(_ a: UnsafeMutablePointer<Float>, _ K: Int, class y: Int, into q: UnsafeMutablePointer<Float>)
        -> Double
    {
        var top = a[0]
        for k in 1..<K { top = max(top, a[k]) }
        var sum = 0.0
        for k in 0..<K { sum += Double(FastMath.exp(a[k] - top)) }
        for k in 0..<K { q[k] = Float(Double(FastMath.exp(a[k] - top)) / sum) }
        return Double(a[y] - top) - .log(sum)
    }
}
