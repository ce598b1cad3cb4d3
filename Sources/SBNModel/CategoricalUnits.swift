import SBNDistributions
import SBNTensor

/// `groups` independent categorical variables of `classes` classes each, one-hot coded: group g
/// is units g·K ..< (g+1)·K, i.e. those columns of the layer's weight matrices (Jang et al. 2017
/// §4.1's categorical SBN: 20 variables × 10 classes). Written `{categorical: [20, 10]}`.
public struct CategoricalUnits: StochasticUnits, Equatable {
    public static let kind = "categorical"
    public static let parametersText = "[groups, classes]"

    /// Every surrogate; not ARM's antithetic uniforms nor REBAR's logistic (their categorical
    /// extensions, ARSM and RELAX's, would be other estimators).
    public static let capabilities = UnitCapabilities.surrogates

    public static let example = CategoricalUnits(groups: 1, classes: 2)

    public let groups: Int
    public let classes: Int
    public var width: Int { groups * classes }

    public init(groups: Int, classes: Int) {
        self.groups = groups
        self.classes = classes
    }

    /// The most classes one categorical variable may have.
    public static let maxClasses = 1024

    public init(parameters: [Int]) throws {
        guard parameters.count == 2 else { throw UnitsError("expected [groups, classes]") }
        let (g, k) = (parameters[0], parameters[1])
        guard g >= 1, k >= 2 else { throw UnitsError("expected groups ≥ 1 and classes ≥ 2") }
        guard k <= Self.maxClasses, g <= BernoulliUnits.maxWidth / k else {
            throw UnitsError("expected at most \(Self.maxClasses) classes and \(BernoulliUnits.maxWidth) units in all")
        }
        groups = g
        classes = k
    }

    public var parameters: [Int] { [groups, classes] }

    /// One uniform per group (its first entry) for the inverse-CDF draw; Gumbel noise for the
    /// relaxation and the Gumbel-max draw.
    public func noise(for surrogate: UnitSurrogate) -> UnitNoise {
        switch surrogate {
        case .exact, .straightThrough, .slopeAnnealed, .hardSigmoidSample, .taylor, .mean: .uniform
        case .relaxed, .straightThroughRelaxed: .gumbel
        }
    }

    /// exact: a one-hot draw, local = one-hot − softmax(a) (the score, Williams 1992);
    /// relaxed: y = softmax((a + g)/τ), local = y (Jang et al. 2017 eq. 2);
    /// straightThroughRelaxed: the one-hot argmax(a + g) (eq. 1), local = softmax((a + g)/τ) (§2.2);
    /// straightThrough: a one-hot draw, local = softmax(a) (§4.1's ST through the mean);
    /// slopeAnnealed: a one-hot draw, local = softmax(a/τ) (slope 1/τ, Chung et al. 2017);
    /// mean: h = local = softmax(a) (no noise read);
    /// taylor: a one-hot draw, local = the score, as exact (DARN's backward needs it and the draw).
    public func sample(
        _ surrogate: UnitSurrogate, logits: UnsafePointer<Float>, noise: UnsafePointer<Float>,
        values: UnsafeMutablePointer<Float>, local: UnsafeMutablePointer<Float>?, rows: Int, temperature: Float
    ) {
        let n = rows * groups
        switch surrogate {
        case .exact, .straightThrough, .taylor:
            Categorical.draw(
                logits: logits, uniforms: noise, into: values, local: local, groups: n, classes: classes,
                straightThrough: surrogate == .straightThrough)
        // hardSigmoidSample is binary only (no `.hardSigmoid` capability, so no estimator that
        // needs it is applied to a categorical layer); were it asked, it is slopeAnnealed.
        case .slopeAnnealed, .hardSigmoidSample:
            Categorical.draw(logits: logits, uniforms: noise, into: values, local: nil, groups: n, classes: classes)
            if let local { Categorical.softmax(logits: logits, into: local, groups: n, classes: classes, scale: 1 / temperature) }
        case .mean:
            Categorical.softmax(logits: logits, into: values, groups: n, classes: classes)
            if let local { local.update(from: values, count: n * classes) }
        case .relaxed, .straightThroughRelaxed:
            GumbelSoftmax.relax(
                logits: logits, noise: noise, into: values, soft: local, groups: n, classes: classes,
                temperature: temperature, hard: surrogate == .straightThroughRelaxed)
        }
    }

    /// The softmax Jacobian per group: ∂loss/∂a = s ⊙ (∂loss/∂h − ⟨s, ∂loss/∂h⟩)/τ for the relaxed
    /// and slope-annealed surrogates (s = softmax((a + g)/τ) or softmax(a/τ)), without the 1/τ
    /// for straight-through and the mean (s = softmax(a)); for taylor, DARN's
    /// ⟨∂loss/∂h, h − 1/K⟩ · (h − softmax(a)) per group (`Categorical.taylorBackward`).
    public func backward(
        _ surrogate: UnitSurrogate, gradValues: UnsafePointer<Float>, local: UnsafePointer<Float>,
        gradLogits: UnsafeMutablePointer<Float>, rows: Int, temperature: Float
    ) {
        if surrogate == .taylor {
            return Categorical.taylorBackward(
                gradValues: gradValues, score: local, into: gradLogits, groups: rows * groups,
                classes: classes)
        }
        let scale: Float = surrogate == .straightThrough || surrogate == .mean ? 1 : 1 / temperature
        GumbelSoftmax.backward(
            gradValues: gradValues, softmax: local, into: gradLogits, groups: rows * groups, classes: classes,
            scale: scale)
    }
}
