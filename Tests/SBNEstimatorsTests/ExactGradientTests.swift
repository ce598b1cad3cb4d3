import Foundation
import SBNDiagnostics
import SBNDistributions
import SBNEstimators
import SBNModel
import SBNOptions
import SBNTensor
import Testing

/// Mean and standard error of N gradient estimates, flattened.
func estimateMoments(
    _ estimator: any GradientEstimator, _ model: StochasticNetwork, _ batch: Batch, n: Int, skip: Int = 0,
    temperature: Float = 1, seed: UInt64
) -> (mean: [Double], se: [Double]) {
    let grads = model.makeGradients()
    var rng = Xoshiro256(seed: seed)
    let p = model.parameters.scalarCount
    var sum = [Double](repeating: 0, count: p), sumSq = [Double](repeating: 0, count: p)
    for step in 0..<(n + skip) {
        grads.zero()
        _ = estimator.estimate(
            batch, grads: grads, context: StepContext(step: step, temperature: temperature, learningRate: 0), using: &rng)
        guard step >= skip else { continue }
        var k = 0
        for t in grads.tensors { for v in t.buffer { sum[k] += Double(v); sumSq[k] += Double(v) * Double(v); k += 1 } }
    }
    let mean = sum.map { $0 / Double(n) }
    let se = zip(sumSq, mean).map { ((max($0 / Double(n) - $1 * $1, 0)) / Double(n)).squareRoot() }
    return (mean, se)
}

func norm(_ x: [Double]) -> Double { x.reduce(0) { $0 + $1 * $1 }.squareRoot() }

/// Expects every parameter's mean of N estimates within 4.5 standard errors of `target` (plus a
/// small absolute slack for parameters with no spread); returns the worst |mean − target| / se.
/// With ~60–130 parameters a false alarm has probability < 1e-3.
@discardableResult
func expectWithinStandardErrors(
    _ mean: [Double], _ se: [Double], of target: [Double], slack: Double = 1e-7,
    _ label: String, sourceLocation: SourceLocation = #_sourceLocation
) -> Double {
    var worst = 0.0
    for i in target.indices {
        worst = max(worst, abs(mean[i] - target[i]) / max(se[i], 1e-9))
        #expect(
            abs(mean[i] - target[i]) <= 4.5 * se[i] + slack,
            "\(label) parameter \(i): mean \(mean[i]) target \(target[i]) se \(se[i])", sourceLocation: sourceLocation)
    }
    return worst
}

@Suite struct ExactGradientTests {
    static let sizes = [6, 3, 3, 6]

    /// REINFORCE is unbiased: the mean of N estimates lies within 4.5 standard errors of the
    /// enumerated gradient for every parameter (57 of them for Bernoulli layers, 126 for
    /// categorical ones; a false alarm has probability < 1e-3), on both unit kinds.
    @Test(arguments: [false, true], TinyNet.allCases)
    func reinforceIsUnbiased(baselines: Bool, net: TinyNet) throws {
        let (model, batch) = tinyProblem(net.architecture, images: 4, seed: 31)
        let exact = exactGradient(model, batch)
        let ws = NetworkWorkspace(model: model, capacityImages: 4)
        let options = Self.reinforceOptions(baselines: baselines)
        let estimator = try ReinforceEstimator(model: ws, options: options)
        // The first estimate initialises the moving average from its own batch; skip it.
        let n = 40_000
        let (mean, se) = estimateMoments(estimator, model, batch, n: n, skip: 1, seed: 32)
        let worst = expectWithinStandardErrors(mean, se, of: exact, "\(net)")
        let meanSE = se.reduce(0, +) / Double(se.count)
        print("reinforce (\(net), baselines \(baselines)): worst |mean − exact| / se = \(worst), mean se = \(meanSE)")
    }

    /// ARM and DisARM are unbiased too (and need no baseline): same criterion as REINFORCE. DisARM
    /// integrates ARM's noise out given the pair, so its standard error must be lower.
    @Test func antitheticEstimatorsAreUnbiased() throws {
        let (model, batch) = tinyProblem(sizes: Self.sizes, images: 4, seed: 31)
        let exact = exactGradient(model, batch)
        var meanSE: [String: Double] = [:]
        for name in ["arm", "disarm"] {
            let type = try #require(EstimatorRegistry.registry.lookup(name))
            let estimator = try type.make(
                model: NetworkWorkspace(model: model, capacityImages: 4), options: AnyOptions(NoOptions()))
            let (mean, se) = estimateMoments(estimator, model, batch, n: 40_000, seed: 35)
            let worst = expectWithinStandardErrors(mean, se, of: exact, "\(name)")
            meanSE[name] = se.reduce(0, +) / Double(se.count)
            print("\(name): worst |mean − exact| / se = \(worst), mean se = \(meanSE[name]!)")
        }
        #expect(meanSE["disarm"]! < meanSE["arm"]!)
    }

    /// VIMCO is unbiased for the two-sample objective, on both unit kinds: the mean of N
    /// estimates lies within 4.5 standard errors of the enumerated gradient (pairs of hidden
    /// states: 4096 for Bernoulli 6-3-3-6, 6561 for categorical 6-(2×3)-(2×3)-6).
    @Test(arguments: TinyNet.allCases)
    func vimcoIsUnbiased(net: TinyNet) throws {
        let (model, batch) = tinyProblem(net.architecture, images: 4, seed: 31)
        let exact = exactTwoSampleGradient(model, batch)
        let estimator = try VIMCOEstimator(
            model: NetworkWorkspace(model: model, capacityImages: 4, samples: 2), options: NoOptions())
        let (mean, se) = estimateMoments(estimator, model, batch, n: 40_000, seed: 36)
        let worst = expectWithinStandardErrors(mean, se, of: exact, "\(net)")
        print("vimco (\(net), m = 2): worst |mean − exact| / se = \(worst), mean se = \(se.reduce(0, +) / Double(se.count))")
        #expect(throws: (any Error).self) {
            _ = try VIMCOEstimator.make(
                model: NetworkWorkspace(model: model, capacityImages: 4), options: AnyOptions(NoOptions()))
        }
    }

    /// REINFORCE-LOO with m = 2 and m = 3 samples is unbiased for the single-sample objective's
    /// gradient, on both unit kinds.
    @Test(arguments: [2, 3], TinyNet.allCases)
    func reinforceLeaveOneOutIsUnbiased(m: Int, net: TinyNet) throws {
        let (model, batch) = tinyProblem(net.architecture, images: 4, seed: 31)
        let exact = exactGradient(model, batch)
        let estimator = try ReinforceLOOEstimator(
            model: NetworkWorkspace(model: model, capacityImages: 4, samples: m), options: NoOptions())
        let (mean, se) = estimateMoments(estimator, model, batch, n: 30_000, seed: 40)
        let worst = expectWithinStandardErrors(mean, se, of: exact, "\(net)")
        print("reinforce-loo (\(net), m = \(m)): worst |mean − exact| / se = \(worst)")
    }

    @Test func armRejectsMultiSampleObjectives() {
        let (model, _) = tinyProblem(sizes: Self.sizes, images: 2, seed: 31)
        #expect(throws: (any Error).self) {
            _ = try ARMEstimator.make(
                model: NetworkWorkspace(model: model, capacityImages: 2, samples: 3), options: AnyOptions(NoOptions()))
        }
        let (categorical, _) = tinyProblem(TinyNet.categorical.architecture, images: 2, seed: 31)
        #expect(!ARMEstimator.supports(categorical.layer(1)) && ReinforceEstimator.supports(categorical.layer(1)))
        #expect(throws: (any Error).self) {
            _ = try ARMEstimator.make(
                model: NetworkWorkspace(model: categorical, capacityImages: 2), options: AnyOptions(NoOptions()))
        }
    }

    /// Baselines reduce the variance of the score-function estimator.
    @Test func baselinesReduceVariance() throws {
        let (model, batch) = tinyProblem(sizes: Self.sizes, images: 4, seed: 31)
        func meanSE(_ options: ReinforceEstimator.Options) throws -> Double {
            let est = try ReinforceEstimator(model: NetworkWorkspace(model: model, capacityImages: 4), options: options)
            let se = estimateMoments(est, model, batch, n: 5000, skip: 100, seed: 33).se
            return se.reduce(0, +) / Double(se.count)
        }
        let plain = try meanSE(Self.reinforceOptions(baselines: false))
        let centred = try meanSE(Self.reinforceOptions(baselines: true))
        print("reinforce mean standard error: no baseline \(plain), with baselines \(centred)")
        #expect(centred < plain)
    }

    /// MuProp is unbiased on both unit kinds, with its moving-average centring (it uses only
    /// earlier batches): same criterion as REINFORCE. Its Taylor
    /// baseline must also pay: lower standard errors than REINFORCE without baselines.
    @Test(arguments: TinyNet.allCases)
    func mupropIsUnbiased(net: TinyNet) throws {
        let (model, batch) = tinyProblem(net.architecture, images: 4, seed: 31)
        let exact = exactGradient(model, batch)
        var options = MuPropEstimator.Options()
        options.varianceNormalization = false  // VN is a step size: `varianceNormalizationKeepsTheDirection`
        let estimator = try MuPropEstimator(model: NetworkWorkspace(model: model, capacityImages: 4), options: options)
        let (mean, se) = estimateMoments(estimator, model, batch, n: 40_000, skip: 1, seed: 37)
        let worst = expectWithinStandardErrors(mean, se, of: exact, "\(net)")
        let plain = try ReinforceEstimator(
            model: NetworkWorkspace(model: model, capacityImages: 4),
            options: Self.reinforceOptions(baselines: false))
        let plainSE = estimateMoments(plain, model, batch, n: 5000, seed: 37).se
        let (muSE, sfSE) = (
            se.reduce(0, +) / Double(se.count), plainSE.reduce(0, +) / Double(plainSE.count) / (40_000.0 / 5000).squareRoot()
        )
        print(
            "muprop (\(net)): worst |mean − exact| / se = \(worst), mean se = \(muSE); reinforce without baselines at the same N: \(sfSE)"
        )
        #expect(muSE < sfSE)
        #expect(throws: (any Error).self) {
            _ = try MuPropEstimator.make(
                model: NetworkWorkspace(model: model, capacityImages: 4, samples: 2),
                options: AnyOptions(MuPropEstimator.Options()))
        }
    }

    /// Variance normalization active (a floor of 0.01, below σ on these nets) with the moving
    /// moments frozen after the first batch (decay 1, set in code: files accept [0, 1)): each
    /// hidden layer's estimate is then the gradient times that layer's fixed step size
    /// 1 / max(floor, σ_l), the decoder's is the gradient. REINFORCE (one σ for every layer) and
    /// MuProp (one per layer, dividing its correction term too) must match that scaled gradient
    /// within 4.5 standard errors; MuProp dividing only its residual, as before, was 0.14 of ‖∇‖
    /// off on the Bernoulli net, far outside.
    @Test(arguments: ["reinforce", "muprop"], TinyNet.allCases)
    func varianceNormalizationKeepsTheDirection(estimator name: String, net: TinyNet) throws {
        let (model, batch) = tinyProblem(net.architecture, images: 4, seed: 31)
        let exact = exactGradient(model, batch)
        let ws = NetworkWorkspace(model: model, capacityImages: 4)
        let floor = 0.01
        let estimator: any GradientEstimator, variance: (Int) -> String
        if name == "reinforce" {
            var o = Self.reinforceOptions(baselines: true)
            (o.inputBaseline, o.varianceNormalization, o.vnFloor, o.decay) = (false, true, floor, 1)
            (estimator, variance) = (try ReinforceEstimator(model: ws, options: o), { _ in "variance" })
        } else {
            var o = MuPropEstimator.Options()
            (o.vnFloor, o.decay) = (floor, 1)
            (estimator, variance) = (MuPropEstimator(model: ws, options: o), { "variance_layer\($0)" })
        }
        let (mean, se) = estimateMoments(estimator, model, batch, n: 40_000, skip: 1, seed: 39)
        var target = exact, k = 0, scales: [Double] = []
        for l in 1...model.layerCount {
            let count = model.weight(l).count + model.bias(l).count
            if l < model.layerCount {
                let sigma = try #require(estimator.state.reals[variance(l)]).squareRoot()
                scales.append(1 / max(floor, sigma))
                for i in k..<(k + count) { target[i] *= scales.last! }
            }
            k += count
        }
        #expect(scales.allSatisfy { $0 < 1 / floor }, "VN must be active: scales \(scales)")
        let worst = expectWithinStandardErrors(mean, se, of: target, "\(name) \(net)")
        print("\(name) (\(net), VN floor \(floor)): layer scales \(scales), worst |mean − scaled ∇| / se = \(worst)")
    }

    /// `darn` is `taylor-half` with VN as a per-layer step size. Without VN it gives the same
    /// bits as `taylor-half`; with VN active (floor 0.01, the moving variance frozen after the
    /// first batch) each hidden map's mean is the taylor estimator's enumerated expectation
    /// times 1 / max(floor, σ_l), and the output map's is unscaled, within 4.5 standard errors.
    @Test(arguments: TinyNet.allCases)
    func darnIsTaylorHalfWithALayerStepSize(net: TinyNet) throws {
        let (model, batch) = tinyProblem(net.architecture, images: 4, seed: 31)
        var off = DARNEstimator.Options()
        off.varianceNormalization = false
        let plain = try #require(EstimatorRegistry.registry.lookup("taylor-half"))
        let a = estimateMoments(
            DARNEstimator(model: NetworkWorkspace(model: model, capacityImages: 4), options: off),
            model, batch, n: 50, seed: 40)
        let b = estimateMoments(
            try plain.make(model: NetworkWorkspace(model: model, capacityImages: 4), options: AnyOptions(NoOptions())),
            model, batch, n: 50, seed: 40)
        #expect(a.mean == b.mean && a.se == b.se)

        var on = DARNEstimator.Options()
        (on.vnFloor, on.decay) = (0.01, 1)
        let darn = DARNEstimator(model: NetworkWorkspace(model: model, capacityImages: 4), options: on)
        let (mean, se) = estimateMoments(darn, model, batch, n: 20_000, skip: 1, seed: 41)
        var target = expectedPathwiseGradient(model, batch, surrogate: .taylor, slope: 1), k = 0, scales: [Double] = []
        for l in 1...model.layerCount {
            let count = model.weight(l).count + model.bias(l).count
            if l < model.layerCount {
                scales.append(1 / max(0.01, try #require(darn.state.reals["variance_layer\(l)"]).squareRoot()))
                for i in k..<(k + count) { target[i] *= scales.last! }
            }
            k += count
        }
        #expect(scales.allSatisfy { $0 < 100 }, "VN must be active: scales \(scales)")
        let worst = expectWithinStandardErrors(mean, se, of: target, slack: 1e-6, "darn \(net)")
        print("darn (\(net), VN floor 0.01): layer scales \(scales), worst |mean − scaled E[ĝ]| / se = \(worst)")
    }

    /// REBAR is unbiased (Bernoulli layers): same criterion, at λ = 0.5 and η = 1 and with η = 0
    /// (plain REINFORCE); its control variate must cut the standard error below REINFORCE's.
    @Test func rebarIsUnbiased() throws {
        let (model, batch) = tinyProblem(sizes: Self.sizes, images: 4, seed: 31)
        let exact = exactGradient(model, batch)
        var meanSE: [Double] = []
        for eta in [1.0, 0.0] {
            var options = REBAREstimator.Options()
            options.eta = eta
            let estimator = try REBAREstimator(model: NetworkWorkspace(model: model, capacityImages: 4), options: options)
            let (mean, se) = estimateMoments(estimator, model, batch, n: 40_000, seed: 39)
            let worst = expectWithinStandardErrors(mean, se, of: exact, "η \(eta)")
            meanSE.append(se.reduce(0, +) / Double(se.count))
            print("rebar (η = \(eta)): worst |mean − exact| / se = \(worst), mean se = \(meanSE.last!)")
        }
        #expect(meanSE[0] < meanSE[1])
        let (categorical, _) = tinyProblem(TinyNet.categorical.architecture, images: 2, seed: 31)
        #expect(throws: (any Error).self) {
            _ = try REBAREstimator.make(
                model: NetworkWorkspace(model: categorical, capacityImages: 2), options: AnyOptions(REBAREstimator.Options()))
        }
    }

    /// The mean-field pass MuProp's baseline expands around: `forwardMean`'s values and loss, and
    /// `backwardUnits`' ∂f̄/∂h̄_l against central differences of the double-precision reference
    /// f̄(h̄_l) (layers above h̄_l recomputed by their means), on both unit kinds.
    @Test(arguments: TinyNet.allCases)
    func meanFieldPassAndDerivatives(net: TinyNet) throws {
        let (model, batch) = tinyProblem(net.architecture, images: 3, seed: 41)
        let ref = ReferenceSBN(model)
        let ws = NetworkWorkspace(model: model, capacityImages: 3)
        ws.forwardMean(batch)
        ws.backwardUnits()
        for b in 0..<3 {
            let x = (0..<6).map { Double(batch.input[b, $0]) }, y = (0..<6).map { Double(batch.target[b, $0]) }
            let h1 = ref.mean(1, ref.linear(1, x)), h2 = ref.mean(2, ref.linear(2, h1))
            func loss(from l: Int, _ h: [Double]) -> Double {
                ref.outputNLL(l == 1 ? ref.mean(2, ref.linear(2, h)) : h, target: y)
            }
            #expect(abs(Double(ws.rowLoss[b]) - loss(from: 2, h2)) < 1e-4)
            for (l, h) in [(1, h1), (2, h2)] {
                for j in h.indices {
                    #expect(abs(Double(ws.units[l][b, j]) - h[j]) < 1e-6)
                    var plus = h, minus = h
                    plus[j] += 1e-5
                    minus[j] -= 1e-5
                    let fd = (loss(from: l, plus) - loss(from: l, minus)) / 2e-5
                    #expect(
                        abs(Double(ws.gradUnits[l][b, j]) - fd) < 1e-4 + 1e-3 * abs(fd),
                        "layer \(l) unit \(j): \(ws.gradUnits[l][b, j]) vs \(fd)")
                }
            }
        }
    }

    /// st, st-annealed (τ = 0.5, slope 2) and taylor-half forward exact samples, so each estimate is a
    /// function of the hidden configuration and its expectation is a sum over configurations
    /// (`expectedPathwiseGradient`, an independent double-precision backward pass). The mean of
    /// N estimates must lie within 4.5 standard errors of it for every parameter: a missing σ′,
    /// ½, slope or 1/τ factor, or a wrong Jacobian, fails on both unit kinds.
    @Test(
        arguments: [("st", ReferenceSurrogate.straightThrough), ("st-annealed", .slopeAnnealed), ("taylor-half", .taylor)],
        TinyNet.allCases)
    func pathwiseEstimatorsMatchTheirExpectation(estimator: (name: String, surrogate: ReferenceSurrogate), net: TinyNet) throws {
        let (model, batch) = tinyProblem(net.architecture, images: 4, seed: 31)
        let tau: Float = 0.5
        let expected = expectedPathwiseGradient(model, batch, surrogate: estimator.surrogate, slope: 1 / Double(tau))
        let type = try #require(EstimatorRegistry.registry.lookup(estimator.name))
        let ws = NetworkWorkspace(model: model, capacityImages: 4)
        let (mean, se) = estimateMoments(
            try type.make(model: ws, options: AnyOptions(NoOptions())), model, batch, n: 20_000,
            temperature: tau, seed: 38)
        let worst = expectWithinStandardErrors(mean, se, of: expected, slack: 1e-6, "\(estimator.name)")
        print("\(estimator.name) (\(net), τ = 0.5): worst |mean − E[ĝ]| / se = \(worst)")
    }

    /// Chung et al.'s own unit (`st-annealed-chung`, Bernoulli only): its forward draws from the
    /// hard sigmoid of s·a, so the enumerated expectation weighs each configuration by those
    /// probabilities (τ = 0.5, slope 2, where some units are clipped to 0 or 1); the mean of N
    /// estimates must lie within 4.5 standard errors of it. Drawing from σ(a) instead (what
    /// `st-annealed` does) fails, which the second check shows; categorical layers are refused.
    @Test func chungsUnitMatchesItsExpectation() throws {
        let (model, batch) = tinyProblem(TinyNet.bernoulli.architecture, images: 4, seed: 31)
        let expected = expectedPathwiseGradient(model, batch, surrogate: .hardSigmoidSample, slope: 2)
        let type = try #require(EstimatorRegistry.registry.lookup("st-annealed-chung"))
        let estimator = try type.make(model: NetworkWorkspace(model: model, capacityImages: 4), options: AnyOptions(NoOptions()))
        let (mean, se) = estimateMoments(estimator, model, batch, n: 20_000, temperature: 0.5, seed: 38)
        let worst = expectWithinStandardErrors(mean, se, of: expected, slack: 1e-6, "st-annealed-chung")
        let logistic = expectedPathwiseGradient(model, batch, surrogate: .slopeAnnealed, slope: 2)
        let apart = zip(zip(mean, logistic), se).map { abs($0.0 - $0.1) / max($1, 1e-6) }.max() ?? 0
        #expect(apart > 10, "the hard-sigmoid forward must differ measurably from σ(a)'s: \(apart) se")
        print("st-annealed-chung (bernoulli, τ = 0.5): worst |mean − E[ĝ]| / se = \(worst); against σ(a)'s forward \(apart) se")
        let (categorical, _) = tinyProblem(TinyNet.categorical.architecture, images: 2, seed: 31)
        #expect(throws: (any Error).self) {
            _ = try type.make(model: NetworkWorkspace(model: categorical, capacityImages: 2), options: AnyOptions(NoOptions()))
        }
    }

    /// The biased estimators' bias and variance against the exact gradient at τ = 0.5 (so that a
    /// missing 1/τ shows too), asserted
    /// within stated bounds around the values measured at commit time (ExactGradientTests'
    /// `biasBounds`): the relative bias ‖E[ĝ] − ∇‖/‖∇‖ within ± 0.02 plus 4 noise floors, the
    /// variance trace within a factor 1.5. A changed factor anywhere in an estimator moves one of them.
    @Test(arguments: Self.biasBounds)
    func biasAndVarianceWithinBounds(bound: BiasBound) throws {
        let (model, batch) = tinyProblem(bound.net.architecture, images: 4, seed: 31)
        let subject = GradientStatistics.Subject(label: bound.label, name: bound.estimator, options: bound.options)
        let stats = try GradientStatistics.measure(
            subjects: [subject], model: model, batch: batch, samples: 1,
            estimates: 20_000, temperature: 0.5, seed: 34)
        let row = try #require(stats.rows.first)
        print(
            String(
                format: "%@ %@ (τ=0.5): relative bias %.4f (noise floor %.4f), variance trace %.4g, cosine %.3f",
                bound.label, bound.net.description, row.relativeBias, row.noiseFloor, row.varianceTrace, row.cosine))
        #expect(abs(row.relativeBias - bound.relativeBias) <= 0.02 + 4 * row.noiseFloor)
        #expect(row.varianceTrace <= 1.5 * bound.varianceTrace && row.varianceTrace >= bound.varianceTrace / 1.5)
    }

    struct BiasBound: Sendable, CustomStringConvertible {
        let estimator: String, net: TinyNet, relativeBias: Double, varianceTrace: Double
        var options: AnyOptions? = nil, label: String
        init(estimator: String, net: TinyNet, relativeBias: Double, varianceTrace: Double, vnFloor: Double? = nil) {
            (self.estimator, self.net, self.relativeBias, self.varianceTrace) = (estimator, net, relativeBias, varianceTrace)
            label = vnFloor.map { "\(estimator){vn_floor: \($0)}" } ?? estimator
            if let vnFloor {  // darn-scalar with variance normalization active (σ > 0.01 on these nets)
                var o = DARNScalarEstimator.Options()
                o.vnFloor = vnFloor
                options = AnyOptions(o)
            }
        }
        var description: String { "\(label) \(net)" }
    }

    /// Measured values (20000 estimates, seed 34, 4 images, τ = 0.5; st, taylor-half, darn and
    /// darn-scalar do not use τ). darn-scalar's bias is the loss's curvature around ½ (or 1/K),
    /// and with variance normalization active also its per-layer step sizes; darn's is
    /// taylor-half's plus its step sizes (VN at the default floor 1 acts on these nets).
    static let biasBounds: [BiasBound] = [
        BiasBound(estimator: "gs", net: .bernoulli, relativeBias: 0.0613, varianceTrace: 0.5041),
        BiasBound(estimator: "st-gs", net: .bernoulli, relativeBias: 0.0523, varianceTrace: 0.7537),
        BiasBound(estimator: "st", net: .bernoulli, relativeBias: 0.0574, varianceTrace: 0.5228),
        BiasBound(estimator: "st-annealed", net: .bernoulli, relativeBias: 0.3194, varianceTrace: 2.366),
        BiasBound(estimator: "taylor-half", net: .bernoulli, relativeBias: 0.01, varianceTrace: 0.5755),
        BiasBound(estimator: "darn", net: .bernoulli, relativeBias: 0.1032, varianceTrace: 0.5155),
        BiasBound(estimator: "darn-scalar", net: .bernoulli, relativeBias: 0.1250, varianceTrace: 0.8674),
        BiasBound(estimator: "darn-scalar", net: .bernoulli, relativeBias: 0.2335, varianceTrace: 1.406, vnFloor: 0.01),
        BiasBound(estimator: "gs", net: .categorical, relativeBias: 0.1326, varianceTrace: 0.5063),
        BiasBound(estimator: "st-gs", net: .categorical, relativeBias: 0.0691, varianceTrace: 0.7957),
        BiasBound(estimator: "st", net: .categorical, relativeBias: 0.093, varianceTrace: 0.5598),
        BiasBound(estimator: "st-annealed", net: .categorical, relativeBias: 0.2405, varianceTrace: 0.8824),
        BiasBound(estimator: "taylor-half", net: .categorical, relativeBias: 0.042, varianceTrace: 0.7531),
        BiasBound(estimator: "darn", net: .categorical, relativeBias: 0.0421, varianceTrace: 0.7521),
        BiasBound(estimator: "darn-scalar", net: .categorical, relativeBias: 0.1691, varianceTrace: 1.109),
        BiasBound(estimator: "darn-scalar", net: .categorical, relativeBias: 0.6721, varianceTrace: 1.727, vnFloor: 0.01),
    ]

    /// REINFORCE without variance normalization, with both baselines or with none.
    static func reinforceOptions(baselines: Bool) -> ReinforceEstimator.Options {
        var o = ReinforceEstimator.Options()
        o.movingAverage = baselines
        o.inputBaseline = baselines
        o.varianceNormalization = false
        return o
    }
}
