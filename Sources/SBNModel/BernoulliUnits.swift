import SBNDistributions
import SBNTensor

/// `width` independent binary units h ~ Bern(σ(a)) (Jang et al. 2017 §4.1's Bernoulli SBN).
/// Written in experiment files as a plain number (`200`) or `{bernoulli: 200}`.
public struct BernoulliUnits: StochasticUnits, Equatable {
    public static let kind = "bernoulli"
    public static let parametersText = "units"
    /// Wider layers are refused (a typo such as 1e20, or memory the machine lacks).
    public static let maxWidth = 1 << 16

    /// Every surrogate, and the Bernoulli algebra of ARM, DisARM and REBAR.
    public static let capabilities: UnitCapabilities = UnitCapabilities.surrogates.union([
        .antitheticUniform, .conditionalLogistic, .hardSigmoid,
    ])

    public static let example = BernoulliUnits(width: 1)

    public let width: Int

    public init(width: Int) {
        self.width = width
    }

    public init(parameters: [Int]) throws {
        guard parameters.count == 1, let d = parameters.first, d >= 1 else {
            throw UnitsError("expected one number of units ≥ 1")
        }
        guard d <= Self.maxWidth else { throw UnitsError("expected at most \(Self.maxWidth) units, not \(d)") }
        width = d
    }

    public var parameters: [Int] { [width] }

    public func noise(for surrogate: UnitSurrogate) -> UnitNoise {
        switch surrogate {
        case .exact, .straightThrough, .slopeAnnealed, .hardSigmoidSample, .taylor, .mean: .uniform
        case .relaxed, .straightThroughRelaxed: .logistic
        }
    }

    /// exact: z = 1[u < σ(a)], local = z − σ(a) (Williams 1992);
    /// relaxed: y = σ((a + L)/τ), local = y(1 − y)/τ (binary Concrete, Jang et al. 2017 eq. 2 with k = 2);
    /// straightThroughRelaxed: z = 1[a + L > 0], local as relaxed (Jang et al. 2017 §2.2);
    /// straightThrough: z = 1[u < σ(a)], local = σ(a)(1 − σ(a)) (Gu et al. 2016 fn. 3);
    /// slopeAnnealed: z = 1[u < σ(a)], local = s/2 · 1[|s·a| < 1], s = 1/τ (Chung et al. 2017);
    /// hardSigmoidSample: z = 1[u < hard_sigm(s·a)], local = s/2 · 1[|s·a| < 1] (Chung et al.'s unit);
    /// mean: h = σ(a), local = σ(a)(1 − σ(a)) (no noise read);
    /// taylor: z = 1[u < σ(a)], local = (z − ½)(z − σ(a)) = ½|z − σ(a)| (DARN; its mean over z is σ′(a)).
    public func sample(
        _ surrogate: UnitSurrogate, logits: UnsafePointer<Float>, noise: UnsafePointer<Float>,
        values: UnsafeMutablePointer<Float>, local: UnsafeMutablePointer<Float>?, rows: Int, temperature: Float
    ) {
        let n = rows * width
        switch surrogate {
        case .exact: Bernoulli.draw(logits: logits, uniforms: noise, into: values, score: local, count: n)
        case .straightThrough:
            Bernoulli.drawStraightThrough(logits: logits, uniforms: noise, into: values, derivative: local, count: n)
        case .slopeAnnealed:
            Bernoulli.draw(logits: logits, uniforms: noise, into: values, score: nil, count: n)
            if let local { Bernoulli.hardSigmoidDerivative(logits: logits, into: local, count: n, slope: 1 / temperature) }
        case .hardSigmoidSample:
            let s = 1 / temperature
            for i in 0..<n { values[i] = noise[i] < min(1, max(0, (s * logits[i] + 1) / 2)) ? 1 : 0 }
            if let local { Bernoulli.hardSigmoidDerivative(logits: logits, into: local, count: n, slope: s) }
        case .mean: Bernoulli.mean(logits: logits, into: values, derivative: local, count: n)
        case .taylor:
            Bernoulli.draw(logits: logits, uniforms: noise, into: values, score: local, count: n)
            if let local { for i in 0..<n { local[i] = 0.5 * abs(local[i]) } }
        case .relaxed, .straightThroughRelaxed:
            BinaryConcrete.relax(
                logits: logits, noise: noise, into: values, derivative: local, count: n, temperature: temperature,
                hard: surrogate == .straightThroughRelaxed)
        }
    }

    /// Independent units: ∂loss/∂a = ∂loss/∂h · local, unit by unit.
    public func backward(
        _ surrogate: UnitSurrogate, gradValues: UnsafePointer<Float>, local: UnsafePointer<Float>,
        gradLogits: UnsafeMutablePointer<Float>, rows: Int, temperature: Float
    ) {
        for i in 0..<(rows * width) { gradLogits[i] = gradValues[i] * local[i] }
    }
}
