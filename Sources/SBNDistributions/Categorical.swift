import CKernels
import RealModule
import SBNTensor

/// Factorised categorical variables: each row of `logits` holds `groups` consecutive groups of
/// `classes` logits a, one K-way Categorical(softmax(a)) per group, values one-hot coded
/// (Jang et al. 2017 §2). The block functions are the kernels the categorical SBN layers run, so
/// the statistically tested sampler is the code that trains.
public struct Categorical {
    public let logits: Matrix
    public let classes: Int
    public var groups: Int { logits.count / classes }

    public init(logits: Matrix, classes: Int) {
        precondition(
            classes >= 2 && logits.cols % classes == 0, "Categorical: \(logits.cols) columns are not groups of \(classes)")
        self.logits = logits
        self.classes = classes
    }

    /// Exact one-hot draws by the inverse CDF of one uniform per group (the group's first entry
    /// of `uniforms`); with `local`, the score one-hot − softmax(a) (Williams 1992), or with
    /// `straightThrough` softmax(a). Vectorised in CKernels; `z` may be `uniforms`.
    @inlinable
    public static func draw(
        logits: UnsafePointer<Float>, uniforms: UnsafePointer<Float>, into z: UnsafeMutablePointer<Float>,
        local: UnsafeMutablePointer<Float>?, groups: Int, classes: Int, straightThrough: Bool = false
    ) {
        sbn_categorical_sample(logits, uniforms, z, local, groups, classes, straightThrough ? 1 : 0)
    }

    /// p = softmax(scale · a) per group, vectorised (CKernels).
    @inlinable
    public static func softmax(
        logits: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>, groups: Int, classes: Int,
        scale: Float = 1
    ) {
        sbn_softmax_scaled(logits, p, groups, classes, scale)
    }

    /// DARN's backward pass for one-hot draws z (Gregor et al. 2014): per group,
    /// ∂loss/∂a = ⟨g, z − 1/K⟩ · (z − softmax(a)), the first-order Taylor signal around the
    /// uniform point 1/K times the score; exact in expectation when the loss is linear in z.
    /// z is read off the score: its one positive entry (an all-zero score, softmax(a) one-hot
    /// on the drawn class, gives zero whichever class is taken).
    public static func taylorBackward(
        gradValues g: UnsafePointer<Float>, score: UnsafePointer<Float>,
        into gradLogits: UnsafeMutablePointer<Float>, groups: Int, classes: Int
    ) {
        for group in 0..<groups {
            let base = group * classes
            var chosen = base, total: Float = 0
            for k in base..<(base + classes) {
                if score[k] > score[chosen] { chosen = k }
                total += g[k]
            }
            let signal = g[chosen] - total / Float(classes)
            for k in base..<(base + classes) { gradLogits[k] = signal * score[k] }
        }
    }

    /// One-hot draws into `z` (same shape as the logits).
    public func sample(into z: Matrix, using rng: inout Xoshiro256) {
        precondition(z.count == logits.count, "Categorical.sample: size mismatch")
        rng.fillUniform(z.buffer)
        Self.draw(logits: logits.pointer, uniforms: z.pointer, into: z.pointer, local: nil, groups: groups, classes: classes)
    }

    /// The class probabilities softmax(a) per group.
    public func probabilities(into p: Matrix) {
        precondition(p.count == logits.count, "Categorical.probabilities: size mismatch")
        Self.softmax(logits: logits.pointer, into: p.pointer, groups: groups, classes: classes)
    }

    /// log p(z) = Σ_groups ⟨z, a⟩ − logsumexp(a) per row, in double precision.
    public func logProb(_ z: Matrix, into rowSums: UnsafeMutableBufferPointer<Float>) {
        for r in 0..<logits.rows {
            let a = logits.row(r), zr = z.row(r)
            var total = 0.0
            for g in 0..<(logits.cols / classes) {
                let base = g * classes
                let m = (0..<classes).map { Double(a[base + $0]) }.max()!
                let lse = m + .log((0..<classes).reduce(0.0) { $0 + .exp(Double(a[base + $1]) - m) })
                for k in 0..<classes { total += Double(zr[base + k]) * (Double(a[base + k]) - lse) }
            }
            rowSums[r] = Float(total)
        }
    }
}

/// Categorical sampling by the Gumbel-max trick: argmax_k (logits_k + G_k) is distributed as
/// softmax(logits) (Gumbel 1954; Maddison et al. 2014; Jang et al. 2017, eq. 1).
/// Rows of `logits` are independent K-way distributions. The forward pass of straight-through
/// Gumbel-Softmax (`GumbelSoftmax.relax(…, hard: true)`) is this draw.
public struct GumbelMaxCategorical {
    public let logits: Matrix
    public init(logits: Matrix) { self.logits = logits }

    public func sample(into indices: UnsafeMutableBufferPointer<Int32>, scratch: Matrix, using rng: inout Xoshiro256) {
        precondition(indices.count >= logits.rows && scratch.count == logits.count, "GumbelMaxCategorical: size mismatch")
        Gumbel.sample(into: scratch, using: &rng)
        GumbelSoftmax.relax(
            logits: logits.pointer, noise: scratch.pointer, into: scratch.pointer, soft: nil,
            groups: logits.rows, classes: logits.cols, temperature: 1, hard: true)
        for r in 0..<logits.rows {
            let row = scratch.row(r)
            indices[r] = Int32((0..<logits.cols).first { row[$0] == 1 }!)
        }
    }
}

/// K-way Gumbel-Softmax / Concrete relaxation: y = softmax((logits + G)/τ) per group of `classes`
/// (Jang et al. 2017, eq. 2; Maddison et al. 2017). Used by categorical SBN layers.
public struct GumbelSoftmax {
    public let logits: Matrix
    public let classes: Int
    public let temperature: Float

    /// Groups of `classes` logits per row (default: each row is one distribution).
    public init(logits: Matrix, classes: Int? = nil, temperature: Float) {
        precondition(temperature > 0, "GumbelSoftmax: temperature must be > 0, got \(temperature)")
        self.logits = logits
        self.classes = classes ?? logits.cols
        self.temperature = temperature
        precondition(logits.cols % self.classes == 0, "GumbelSoftmax: \(logits.cols) columns are not groups of \(self.classes)")
    }

    /// Writes the relaxed one-hot sample into `y`; the Gumbel noise is left in `noise`.
    public func rsample(into y: Matrix, noise: Matrix, using rng: inout Xoshiro256) {
        precondition(y.count == logits.count && noise.count == logits.count, "GumbelSoftmax: size mismatch")
        Gumbel.sample(into: noise, using: &rng)
        Self.relax(
            logits: logits.pointer, noise: noise.pointer, into: y.pointer, soft: nil, groups: logits.count / classes,
            classes: classes, temperature: temperature)
    }

    /// y = softmax((a + g)/τ) per group, or with `hard` the one-hot argmax(a + g) with the
    /// relaxed softmax in `soft` (straight-through); without `hard`, `soft` gets a copy of y.
    /// Vectorised in CKernels: what the `gs` and `st-gs` categorical layers run. `y` may be `noise`.
    @inlinable
    public static func relax(
        logits: UnsafePointer<Float>, noise: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
        soft: UnsafeMutablePointer<Float>?, groups: Int, classes: Int, temperature tau: Float,
        hard: Bool = false
    ) {
        sbn_gumbel_softmax(logits, noise, y, soft, groups, classes, tau, hard ? 1 : 0)
    }

    /// ∂/∂a of ⟨gy, s⟩ for s = softmax(x), x = a/scale⁻¹: ga = scale · s ⊙ (gy − ⟨s, gy⟩) per group
    /// (the softmax Jacobian, Jang et al. 2017 eq. 2 with scale 1/τ).
    @inlinable
    public static func backward(
        gradValues gy: UnsafePointer<Float>, softmax s: UnsafePointer<Float>,
        into ga: UnsafeMutablePointer<Float>, groups: Int, classes: Int, scale: Float
    ) {
        sbn_softmax_backward(gy, s, ga, groups, classes, scale)
    }

    /// log p(y) of the Gumbel-Softmax density (Jang et al. 2017 eq. 3) for a point y of the
    /// simplex, class probabilities π and temperature τ, in log space:
    /// log Γ(k) + (k − 1) log τ − k log Σ_i π_i y_i^(−τ) + Σ_i (log π_i − (τ + 1) log y_i).
    public static func logDensity(_ y: [Double], probabilities pi: [Double], temperature tau: Double) -> Double {
        let k = Double(y.count)
        let logTerms = zip(pi, y).map { Double.log($0) - tau * .log($1) }
        let m = logTerms.max()!
        let logSum = m + .log(logTerms.reduce(0) { $0 + .exp($1 - m) })
        let logGammaK = (1..<y.count).reduce(0.0) { $0 + .log(Double($1)) }
        return logGammaK + (k - 1) * .log(tau) - k * logSum + zip(pi, y).reduce(0) { $0 + .log($1.0) - (tau + 1) * .log($1.1) }
    }
}
