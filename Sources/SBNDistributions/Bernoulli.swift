import CKernels
import SBNTensor

/// Factorised Bernoulli units parameterised by logits a, p = σ(a); batched over a matrix.
///
/// The block functions are what `BernoulliUnits` runs in training and evaluation, and the
/// per-unit functions state them one unit at a time (tested bit for bit against each other), so
/// the statistically tested sampler is the code that trains.
public struct Bernoulli {
    public let logits: Matrix
    public init(logits: Matrix) { self.logits = logits }

    /// z = 1[u < σ(a)] for u ~ Uniform(0, 1): an exact Bernoulli(σ(a)) draw.
    @inlinable @inline(__always)
    public static func draw(logit a: Float, uniform u: Float) -> Float { u < FastMath.sigmoid(a) ? 1 : 0 }

    /// ∂ log p(z) / ∂a = z − σ(a) (Williams 1992).
    @inlinable @inline(__always)
    public static func score(_ z: Float, logit a: Float) -> Float { z - FastMath.sigmoid(a) }

    /// `draw` and, when `score` is given, `score` over `count` units, vectorised (CKernels):
    /// what the exact surrogate and the evaluator run. `z` may be `uniforms` (in place).
    @inlinable
    public static func draw(
        logits: UnsafePointer<Float>, uniforms: UnsafePointer<Float>, into z: UnsafeMutablePointer<Float>,
        score: UnsafeMutablePointer<Float>?, count: Int
    ) {
        sbn_bernoulli_sample(logits, uniforms, z, score, count, 0)
    }

    /// `draw` and, when `derivative` is given, `meanDerivative` over `count` units, vectorised:
    /// what the straight-through surrogate runs.
    @inlinable
    public static func drawStraightThrough(
        logits: UnsafePointer<Float>, uniforms: UnsafePointer<Float>,
        into z: UnsafeMutablePointer<Float>, derivative: UnsafeMutablePointer<Float>?,
        count: Int
    ) {
        sbn_bernoulli_sample(logits, uniforms, z, derivative, count, 1)
    }

    /// d = s/2 where |s·a| < 1, else 0: the derivative of the hard sigmoid max(0, min(1, (s·a + 1)/2))
    /// of slope s (Chung et al. 2017), vectorised (CKernels).
    @inlinable
    public static func hardSigmoidDerivative(
        logits: UnsafePointer<Float>, into d: UnsafeMutablePointer<Float>, count: Int,
        slope: Float
    ) {
        sbn_hard_sigmoid_slope(logits, d, count, slope)
    }

    /// p = σ(a) and, when `derivative` is given, σ′(a) = p(1 − p) over `count` units: a
    /// mean-field layer (MuProp's deterministic pass).
    @inlinable
    public static func mean(
        logits: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>,
        derivative: UnsafeMutablePointer<Float>?, count: Int
    ) {
        for i in 0..<count { p[i] = FastMath.sigmoid(logits[i]) }
        if let derivative { for i in 0..<count { derivative[i] = p[i] * (1 - p[i]) } }
    }

    /// (z − ½)(z − σ(a)): DARN's weight of ∂loss/∂z for a sample z (Gregor et al. 2014), the
    /// Taylor signal's factor z − ½ times the score. Its mean over z is σ′(a).
    @inlinable @inline(__always)
    public static func taylorWeight(_ z: Float, logit a: Float) -> Float { (z - 0.5) * score(z, logit: a) }

    /// ∂σ(a)/∂a = σ(a)(1 − σ(a)): the derivative of the mean.
    @inlinable @inline(__always)
    public static func meanDerivative(logit a: Float) -> Float {
        let p = FastMath.sigmoid(a)
        return p * (1 - p)
    }

    /// z = 1[u < σ(a)], as 0/1 floats.
    public func sample(into z: Matrix, using rng: inout Xoshiro256) {
        precondition(z.count == logits.count, "Bernoulli.sample: size mismatch")
        rng.fillUniform(z.buffer)
        Self.draw(logits: logits.pointer, uniforms: z.pointer, into: z.pointer, score: nil, count: z.count)
    }

    /// The mean σ(a).
    public func mean(into p: Matrix) { Kernels.sigmoid(logits, into: p) }

    /// Row sums of log p(z) = z·a − softplus(a), computed in logit space.
    public func logProb(_ z: Matrix, into rowSums: UnsafeMutableBufferPointer<Float>) {
        Kernels.bernoulliNLL(logits: logits, targets: z, nll: rowSums)
        for r in 0..<logits.rows { rowSums[r] = -rowSums[r] }
    }

    /// ∂ log p(z) / ∂a = z − σ(a): the score of each unit (REINFORCE, Williams 1992).
    public func score(_ z: Matrix, into g: Matrix) {
        let a = logits.pointer, zp = z.pointer, gp = g.pointer
        for i in 0..<z.count { gp[i] = Self.score(zp[i], logit: a[i]) }
    }
}
