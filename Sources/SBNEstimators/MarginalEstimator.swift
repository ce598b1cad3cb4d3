import SBNDistributions
import SBNModel
import SBNOptions
import SBNTensor

/// `marginal`: no estimate at all, the exact sum over the K classes of a model's one categorical
/// variable, as Kingma et al. 2014's M2 treats an unlabelled image's class (the baseline of Jang
/// et al. 2017 §4.3):
///
///   loss = Σ_k q_k f(k),   ∇ = Σ_k q_k ∇f(k) + Σ_k f(k) ∇q_k,
///
/// with q = softmax(a) and f(k) the loss with the variable set to class k (anything continuous
/// above it, M2's z, sampled once per class). The second sum is ∂/∂a_j = q_j (f(j) − Σ_k q_k f(k));
/// the loss's own dependence on a (its log q_k) is added by the model with weight q_k per class.
/// Cost: K passes of everything above the variable per image, against one for gs or st-gs —
/// the speed-up §4.3 measures. Single-sample objective (m = 1).
public final class MarginalEstimator: GradientEstimator {
    public static let name = "marginal"
    public static let summary = "exact sum over the K classes of one categorical variable (Kingma et al. 2014's M2); K passes"
    public static let requirements: UnitCapabilities = []
    public static let maxTrainingSamples: Int? = 1
    /// The most classes summed over: beyond it, one step costs more than this many decoder passes.
    public static let maxClasses = 256

    public static func layersProblem(_ units: [any StochasticUnits]) -> String? {
        guard units.count == 1, let layer = units[0] as? CategoricalUnits, layer.groups == 1 else {
            return "sums over one categorical variable (layers [input, {categorical: [1, K]}, output]), got "
                + units.map(\.description).joined(separator: ", ")
        }
        guard layer.classes <= maxClasses else {
            return "K = \(layer.classes) classes cost \(layer.classes) passes of the decoder per image per step; "
                + "at most \(maxClasses) (sample the class with gs or st-gs instead)"
        }
        return nil
    }

    public let model: any LatentModel
    public let state = ComponentState.none
    let classes: Int
    /// The configuration of the current pass, the softmax of the logits, each class's loss, and
    /// the weights of the current class.
    let values: Matrix, probabilities: Matrix, losses: Matrix
    let weights: UnsafeMutableBufferPointer<Float>

    public init(model: any LatentModel, options: NoOptions) {
        self.model = model
        classes = model.width(1)
        let rows = model.capacityImages * model.samples
        values = Matrix(rows: rows, cols: classes)
        probabilities = Matrix(rows: rows, cols: classes)
        losses = Matrix(rows: rows, cols: classes)
        weights = .allocate(capacity: rows)
    }

    deinit { weights.deallocate() }

    public func estimate(_ batch: Batch, grads: ParameterSet, context: StepContext, using rng: inout Xoshiro256) -> Double {
        model.computeFirstLogits(batch)
        let rows = model.rowCount, K = classes, invB = 1 / Float(model.imageCount)
        for m in [values, probabilities, losses] { m.setRows(rows) }
        model.gradLogits[1].fill(0)
        for r in 0..<rows { softmax(model.logits[1].row(r), into: probabilities.row(r)) }
        for k in 0..<K {
            values.fill(0)
            for r in 0..<rows {
                values.row(r)[k] = 1
                weights[r] = probabilities.row(r)[k]
            }
            model.setLayer(1, values: values, using: &rng)
            model.scoreOutput(batch)
            for r in 0..<rows { losses.row(r)[k] = model.rowLoss[r] }
            model.backwardEnumerated(layer: 1, weights: UnsafeBufferPointer(weights), grads: grads)
        }
        var total = 0.0
        for r in 0..<rows {
            let q = probabilities.row(r), f = losses.row(r), g = model.gradLogits[1].row(r)
            var mean = 0.0
            for k in 0..<K { mean += Double(q[k]) * Double(f[k]) }
            for k in 0..<K { g[k] += q[k] * Float(Double(f[k]) - mean) * invB }
            total += mean
        }
        model.backwardFirstLogits(batch, grads: grads)
        return total / Double(model.imageCount)
    }

    /// softmax in logit space: exp(a − max a) normalised.
    private func softmax(_ a: UnsafeMutablePointer<Float>, into q: UnsafeMutablePointer<Float>) {
        var top = a[0]
        for k in 1..<classes { top = max(top, a[k]) }
        var sum: Float = 0
        for k in 0..<classes {
            q[k] = FastMath.exp(a[k] - top)
            sum += q[k]
        }
        for k in 0..<classes { q[k] /= sum }
    }
}
