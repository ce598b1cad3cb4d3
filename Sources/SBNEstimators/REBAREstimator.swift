import RealModule
import SBNDistributions
import SBNModel
import SBNOptions
import SBNTensor

/// `rebar`: REBAR (Tucker et al. 2017, eq. 6), unbiased, for Bernoulli layers. For hidden layer
/// l with logits a, θ = σ(a), the sample b = 1[u < θ] is H(z) with z = a + log((1 − u)/u), and
/// z̃ ~ p(z | b) is z's conditional reparameterisation by a fresh v: u' = vθ if b = 1,
/// θ + v(1 − θ) if b = 0, z̃ = a + log((1 − u')/u'). With the relaxed control variate
/// c_l(z) = f̄_l(σ(z/λ)),
///
///   ∂a_l = [f(b) − η c_l(z̃)] (b − θ) + η ∂c_l(z)/∂a − η ∂c_l(z̃)/∂a,
///
/// whose last two terms are reparameterised derivatives (u and v fixed). Unbiased for any c_l
/// that depends on z_l alone (Tucker et al. 2017 §3). f̄_l is the loss with layer l relaxed
/// and the layers above it at their means (`LatentModel.forwardMean(_:layer:values:logits:)`): a
/// differentiable stand-in for them, as MuProp's mean field is. For the last hidden layer this is
/// REBAR exactly; for earlier ones it departs from the paper's all-relaxed network, which needs
/// the discrete upstream logits inside the relaxation to stay unbiased. η and λ are fixed options
/// (the paper also learns them to minimise variance; not done here). The decoder gets the
/// pathwise gradient. m = 1.
public final class REBAREstimator: GradientEstimator {
    public struct Options: ComponentOptions {
        /// η, the control variate's scale.
        public var eta = 1.0
        /// λ, the relaxation's temperature.
        @Positive public var lambda = 0.5
        public init() {}
    }

    public static let name = "rebar"
    public static let summary =
        "REBAR: relaxed control variate with conditional reparameterisation; unbiased (Tucker et al. 2017)"
    /// Exact samples, their score and the logistic reparameterisation's conditional (Bernoulli
    /// algebra; RELAX's categorical form would be another estimator).
    public static let requirements: UnitCapabilities = [.score, .conditionalLogistic, .meanField]
    public static let maxTrainingSamples: Int? = 1

    let model: any LatentModel
    let relaxed: any LatentModel
    let options: Options
    public let state = ComponentState.none
    /// Per layer: v, the relaxed values σ(z/λ) or σ(z̃/λ), ∂(value)/∂a, and the accumulated ∂a.
    private let v: [Matrix], values: [Matrix], slope: [Matrix], gradient: [Matrix]
    private let controlTilde: UnsafeMutableBufferPointer<Double>

    public init(model: any LatentModel, options: Options) {
        self.model = model
        self.options = options
        relaxed = model.companion()
        (v, values, slope, gradient) = (model.layerBuffers(), model.layerBuffers(), model.layerBuffers(), model.layerBuffers())
        controlTilde = .allocate(capacity: model.capacityImages)
    }

    deinit { controlTilde.deallocate() }

    public func estimate(_ batch: Batch, grads: ParameterSet, context: StepContext, using rng: inout Xoshiro256) -> Double {
        let ws = model
        let loss = ws.forward(batch, surrogate: .exact, temperature: 1, using: &rng)
        ws.backwardDecoder(grads: grads)
        for l in 1..<ws.layerCount {
            // One call each: an array literal here would allocate every step.
            v[l].setRows(ws.rowCount)
            values[l].setRows(ws.rowCount)
            slope[l].setRows(ws.rowCount)
            gradient[l].setRows(ws.rowCount)
            Uniform.sample(into: v[l], using: &rng)
            gradient[l].fill(0)
            let eta = Float(options.eta)
            // + η ∂c(z)/∂a, then − η ∂c(z̃)/∂a, keeping c(z̃) for the learning signal.
            relax(l, conditional: false)
            control(batch, l, scale: eta, keep: false)
            relax(l, conditional: true)
            control(batch, l, scale: -eta, keep: true)
            let invB = 1 / Float(ws.imageCount)
            for r in 0..<ws.rowCount {
                let signal = Float(Double(ws.rowLoss[r]) - options.eta * controlTilde[r])
                let g = ws.gradLogits[l].row(r), score = ws.local[l].row(r), cv = gradient[l].row(r)
                for c in 0..<ws.width(l) { g[c] = (signal * score[c] + cv[c]) * invB }
            }
        }
        ws.backwardHiddenLogits(batch, grads: grads)
        return loss
    }

    /// values = σ(z/λ) and slope = ∂values/∂a for z (u fixed) or z̃ (v and b fixed), in double.
    private func relax(_ l: Int, conditional: Bool) {
        let ws = model, lambda = options.lambda
        let a = ws.logits[l].storage, u = ws.noise[l].storage, b = ws.units[l].storage
        let vv = v[l].storage, out = values[l].storage, d = slope[l].storage
        for i in 0..<(ws.rowCount * ws.width(l)) {
            let logit = Double(a[i]), theta = 1 / (1 + .exp(-logit))
            var z: Double, dz: Double
            if !conditional {
                z = logit + .log(1 - Double(u[i])) - .log(Double(u[i]))
                dz = 1
            } else if b[i] == 1 {
                let uPrime = Double(vv[i]) * theta
                z = logit + .log(1 - uPrime) - .log(uPrime)
                dz = 1 - (1 - theta) / (1 - uPrime)
            } else {
                let uPrime = theta + Double(vv[i]) * (1 - theta)
                z = logit + .log(1 - uPrime) - .log(uPrime)
                dz = 1 - theta / uPrime
            }
            let y = 1 / (1 + .exp(-z / lambda))
            out[i] = Float(y)
            d[i] = Float(y * (1 - y) / lambda * dz)
        }
    }

    /// Evaluates c_l at the current `values`, adds scale · ∂c/∂a to `gradient`, and keeps c per
    /// row when asked.
    private func control(_ batch: Batch, _ l: Int, scale: Float, keep: Bool) {
        relaxed.forwardMean(batch, layer: l, values: values[l], logits: model.logits[l])
        let n = model.rowCount * model.width(l)
        let gy = relaxed.gradUnits[l].storage, d = slope[l].storage, g = gradient[l].storage
        for i in 0..<n { g[i] += scale * gy[i] * d[i] }
        if keep { for r in 0..<model.rowCount { controlTilde[r] = Double(relaxed.rowLoss[r]) } }
    }
}
