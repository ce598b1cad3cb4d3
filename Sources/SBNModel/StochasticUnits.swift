import SBNDistributions
import SBNTensor

/// Which noise a layer's sampler consumes: Uniform(0,1), Logistic(0,1) = log U − log(1 − U), or
/// Gumbel(0,1) = −log(−log U), always drawn from open-interval uniforms.
public enum UnitNoise: Sendable {
    case uniform
    case logistic
    case gumbel
}

/// How an estimator wants a stochastic layer's values and what the backward pass goes through.
/// Each unit kind implements every surrogate on a block of rows.
public enum UnitSurrogate: String, Sendable, CaseIterable {
    /// An exact sample; `local` is the score ∂log p(h)/∂a (Williams 1992). Evaluation, imputation
    /// and the score-function estimators.
    case exact
    /// The Gumbel-Softmax / Concrete relaxation at temperature τ, backpropagated exactly
    /// (Jang et al. 2017 eq. 2; Maddison et al. 2017).
    case relaxed
    /// An exact sample by the Gumbel-max trick forward, the relaxation's derivative backward
    /// (straight-through Gumbel-Softmax, Jang et al. 2017 §2.2).
    case straightThroughRelaxed
    /// An exact sample forward, the derivative of its mean backward (Bengio et al. 2013;
    /// Jang et al. 2017 §4.1's ST).
    case straightThrough
    /// An exact sample forward; backward through a hard sigmoid of slope s = 1/τ (Bernoulli) or
    /// the softmax of s·a (categorical), s growing as τ falls on the run's temperature schedule
    /// (slope-annealed straight-through, Chung et al. 2017).
    case slopeAnnealed
    /// Chung et al. 2017's own binary unit: a sample of Bernoulli(hard_sigm(s·a)),
    /// hard_sigm(x) = max(0, min(1, (x + 1)/2)), forward, and the hard sigmoid's derivative of
    /// slope s = 1/τ backward. The forward distribution is not the SBN's Bernoulli(σ(a)), so it
    /// trains a surrogate of the model it is evaluated as. Bernoulli units only (`.hardSigmoid`).
    case hardSigmoidSample
    /// No sample: the mean E[h] = σ(a) or softmax(a) forward, its derivative backward. The
    /// deterministic mean-field pass of MuProp (Gu et al. 2016 §3); consumes no noise.
    case mean
    /// An exact sample forward; backward, ∂loss/∂h becomes the first-order Taylor learning
    /// signal ⟨∂loss/∂h, h − h̄⟩ around h̄ = ½ (Bernoulli) or 1/K (categorical), times the score
    /// ∂log p(h)/∂a: DARN (Gregor et al. 2014; Gu et al. 2016 §3.3; Jang et al. 2017 §3.2).
    case taylor
}

/// What a unit kind can do, beyond the surrogates every kind implements: what estimators tied to
/// one kind's algebra need (`GradientEstimator.requirements`).
public struct UnitCapabilities: OptionSet, Sendable, CustomStringConvertible {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Exact samples and their score ∂log p(h)/∂a (`UnitSurrogate.exact`).
    public static let score = UnitCapabilities(rawValue: 1 << 0)
    /// The Gumbel-Softmax / Concrete relaxation and its straight-through form.
    public static let relaxation = UnitCapabilities(rawValue: 1 << 1)
    /// Straight-through through the mean, and the slope-annealed form.
    public static let straightThrough = UnitCapabilities(rawValue: 1 << 2)
    /// The mean E[h | a] and its derivative (MuProp's mean field).
    public static let meanField = UnitCapabilities(rawValue: 1 << 3)
    /// DARN's first-order Taylor signal around a fixed point.
    public static let taylor = UnitCapabilities(rawValue: 1 << 4)
    /// Samples from a hard sigmoid of the logits (`UnitSurrogate.hardSigmoidSample`; binary only).
    public static let hardSigmoid = UnitCapabilities(rawValue: 1 << 7)
    /// The sample is 1[u < σ(a)] for one Uniform(0, 1) per unit, so that 1 − u gives its
    /// antithetic partner (ARM, DisARM).
    public static let antitheticUniform = UnitCapabilities(rawValue: 1 << 5)
    /// The logistic reparameterisation z = a + log(u/(1 − u)) with H(z) the sample, and z's
    /// conditional given the sample (REBAR).
    public static let conditionalLogistic = UnitCapabilities(rawValue: 1 << 6)

    /// What every kind of this framework implements (every `UnitSurrogate` but `hardSigmoidSample`).
    public static let surrogates: UnitCapabilities = [.score, .relaxation, .straightThrough, .meanField, .taylor]

    static let names: [(UnitCapabilities, String)] = [
        (.score, "score"), (.relaxation, "relaxation"), (.straightThrough, "straight-through"), (.meanField, "mean field"),
        (.taylor, "taylor"), (.antitheticUniform, "antithetic uniforms"), (.conditionalLogistic, "conditional logistic"),
        (.hardSigmoid, "hard-sigmoid samples"),
    ]
    public var description: String { Self.names.filter { contains($0.0) }.map(\.1).joined(separator: ", ") }
}

/// The kind of one stochastic layer: how its `width` units turn logits and noise into values,
/// and how the pathwise backward pass goes from ∂loss/∂values to ∂loss/∂logits.
///
/// Everything works on blocks of whole rows (`rows × width` values, row-major), so a kind whose
/// units are coupled within a row (a categorical group's softmax) is as natural as the
/// independent Bernoulli units. A new kind is one type conforming to this protocol plus one line
/// in `UnitKinds.all`; experiment files then name it by `kind`.
public protocol StochasticUnits: Sendable, CustomStringConvertible {
    /// The key experiment files use, e.g. `{categorical: [20, 10]}`.
    static var kind: String { get }
    /// What the numbers under the key mean, for messages, e.g. "[groups, classes]".
    static var parametersText: String { get }
    /// The layer from the numbers under its key; throws a message ("expected …") when they are wrong.
    init(parameters: [Int]) throws
    /// The numbers under its key (what `init(parameters:)` takes back).
    var parameters: [Int] { get }
    /// The number of units (columns of the weight matrices).
    var width: Int { get }
    /// A small layer of this kind (tests and examples).
    static var example: Self { get }
    /// What this kind can do.
    static var capabilities: UnitCapabilities { get }

    /// The noise `sample` consumes for `surrogate`: `rows × width` values.
    func noise(for surrogate: UnitSurrogate) -> UnitNoise
    /// Values (and, when `local` is given, what `backward` or a score-function estimator needs)
    /// for `rows` rows of logits and noise.
    func sample(
        _ surrogate: UnitSurrogate, logits: UnsafePointer<Float>, noise: UnsafePointer<Float>,
        values: UnsafeMutablePointer<Float>, local: UnsafeMutablePointer<Float>?, rows: Int, temperature: Float)
    /// The pathwise backward pass of a pathwise `surrogate`: ∂loss/∂logits from ∂loss/∂values and
    /// the `local` that `sample` wrote.
    func backward(
        _ surrogate: UnitSurrogate, gradValues: UnsafePointer<Float>, local: UnsafePointer<Float>,
        gradLogits: UnsafeMutablePointer<Float>, rows: Int, temperature: Float)

    /// The prior term of `rows` rows, added to `rowLoss` (`scratch`: rows × width floats of the
    /// caller's, for vectorised intermediate values): log q(h | a) − log p(h | b) at the values
    /// h (`sampled`), or KL(q(· | a) ‖ p(· | b)) (`analytic`), with b the prior's logits (one row,
    /// shared). See `PriorTerms.swift`.
    func addPriorTerm(
        _ divergence: LatentPrior.Divergence, values: UnsafePointer<Float>, logits: UnsafePointer<Float>,
        prior: UnsafePointer<Float>, rows: Int, rowLoss: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>)
    /// Adds weight[r] times the prior term's derivatives: ∂/∂h into `gradValues` (sampled only:
    /// the analytic KL does not depend on h), ∂/∂a at fixed h into `gradLogits`, and ∂/∂b summed
    /// over the rows into `gradPrior`.
    func addPriorTermGradient(
        _ divergence: LatentPrior.Divergence, values: UnsafePointer<Float>, logits: UnsafePointer<Float>,
        prior: UnsafePointer<Float>, rows: Int, weights: UnsafePointer<Float>,
        gradValues: UnsafeMutablePointer<Float>?, gradLogits: UnsafeMutablePointer<Float>?,
        gradPrior: UnsafeMutablePointer<Float>?, scratch: UnsafeMutablePointer<Float>)
}

extension StochasticUnits {
    public var description: String { "\(Self.kind)(\(parameters.map(String.init).joined(separator: "×")))" }
}

/// The unit kinds experiment files may name.
public enum UnitKinds {
    public static let all: [any StochasticUnits.Type] = [
        BernoulliUnits.self,
        CategoricalUnits.self,
    ]

    /// One small layer of each kind.
    public static var examples: [any StochasticUnits] { all.map { $0.example } }

    public static func lookup(_ kind: String) -> (any StochasticUnits.Type)? { all.first { $0.kind == kind } }

    public static var names: [String] { all.map { $0.kind } }
}

/// Why a layer's parameters were refused ("expected …").
public struct UnitsError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
