import RealModule
import SBNDistributions
import SBNTensor
import Testing

/// Kolmogorov–Smirnov statistic of `samples` against `cdf`.
func ksStatistic(_ samples: [Float], cdf: (Double) -> Double) -> Double {
    let sorted = samples.map(Double.init).sorted()
    let n = Double(sorted.count)
    var d = 0.0
    for (i, x) in sorted.enumerated() {
        let f = cdf(x)
        d = max(d, max(Double(i + 1) / n - f, f - Double(i) / n))
    }
    return d
}

/// The KS critical value at α = 0.001 for large n: 1.949 / √n.
func ksCritical(_ n: Int) -> Double { 1.949 / Double(n).squareRoot() }

func sigmoid(_ x: Double) -> Double { 1 / (1 + .exp(-x)) }

@Suite struct DistributionTests {
    /// Batched and scalar samplers against their CDFs (KS, n = 50000, α = 0.001).
    @Test(arguments: ["gumbel", "logistic"])
    func samplesFollowTheirCDF(name: String) {
        var rng = Xoshiro256(seed: name == "gumbel" ? 11 : 12)
        let n = 50_000
        let m = Matrix(rows: 1, cols: n)
        if name == "gumbel" { Gumbel.sample(into: m, using: &rng) } else { Logistic.sample(into: m, using: &rng) }
        let cdf: (Double) -> Double = { name == "gumbel" ? Gumbel.cdf($0) : Logistic.cdf($0) }
        #expect(ksStatistic(m.values, cdf: cdf) < ksCritical(n))
        var scalar = [Float]()
        for _ in 0..<n { scalar.append(name == "gumbel" ? Gumbel.sample(using: &rng) : Logistic.sample(using: &rng)) }
        #expect(ksStatistic(scalar, cdf: cdf) < ksCritical(n))
    }

    /// The Gumbel-max trick's claim: argmax(logits + G) ~ softmax(logits). Pearson χ² with
    /// K − 1 = 4 degrees of freedom; 18.47 is the 0.999 quantile.
    /// Box–Muller normals (M2's ε): the KS statistic against Φ for an odd count (the last value
    /// from the extra uniform), and the pairs uncorrelated (|r| within 4.5/√(n/2)).
    @Test func normalSamplesFollowTheNormalCDF() {
        let n = 50_001
        let x = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
        defer { x.deallocate() }
        Normal.sample(into: x, seed: 15)
        #expect(ksStatistic(Array(x), cdf: Normal.cdf) < ksCritical(n))
        let pairs = n / 2
        let r = (0..<pairs).reduce(0.0) { $0 + Double(x[2 * $1]) * Double(x[2 * $1 + 1]) } / Double(pairs)
        #expect(abs(r) < 4.5 / Double(pairs).squareRoot(), "pair correlation \(r)")
        let again = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
        defer { again.deallocate() }
        Normal.sample(into: again, seed: 15)
        #expect(Array(again) == Array(x), "a function of the seed")
    }

    @Test func gumbelMaxReproducesSoftmaxProbabilities() {
        let logits: [Float] = [1.5, -0.5, 0, 2.0, -2.0]
        let n = 50_000
        let l = Matrix(rows: n, cols: 5)
        for r in 0..<n { for k in 0..<5 { l[r, k] = logits[k] } }
        var rng = Xoshiro256(seed: 13)
        let idx = UnsafeMutableBufferPointer<Int32>.allocate(capacity: n)
        defer { idx.deallocate() }
        GumbelMaxCategorical(logits: l).sample(into: idx, scratch: Matrix(rows: n, cols: 5), using: &rng)
        var counts = [Double](repeating: 0, count: 5)
        for i in idx { counts[Int(i)] += 1 }
        let z = logits.map { Double.exp(Double($0)) }.reduce(0, +)
        let chi2 = (0..<5).reduce(0.0) { acc, k in
            let e = Double(n) * .exp(Double(logits[k])) / z
            return acc + (counts[k] - e) * (counts[k] - e) / e
        }
        #expect(chi2 < 18.47, "χ² = \(chi2)")
    }

    @Test(arguments: [Float(0.1), 0.5, 1, 2])
    func binaryConcreteThresholdIsExactlyBernoulli(tau: Float) {
        let n = 40_000
        for a in [Float(-2), 0, 1.5] {
            let logits = Matrix(rows: 1, cols: n)
            logits.fill(a)
            let y = Matrix(rows: 1, cols: n), noise = Matrix(rows: 1, cols: n)
            var rng = Xoshiro256(seed: 14)
            BinaryConcrete(logits: logits, temperature: tau).rsample(into: y, noise: noise, using: &rng)
            let p = sigmoid(Double(a))
            let frac = Double(y.values.filter { $0 > 0.5 }.count) / Double(n)
            // 4.5 binomial standard errors.
            #expect(abs(frac - p) < 4.5 * (p * (1 - p) / Double(n)).squareRoot(), "τ=\(tau) a=\(a): \(frac) vs \(p)")
        }
    }

    @Test(arguments: [0.5, 1.0, 2.0])
    func binaryConcreteDensityIntegratesToOne(tau: Double) {
        for a in [-1.0, 0, 2] {
            // ∫₀¹ p(y) dy by the midpoint rule over y = σ(t), t ∈ [−40, 40] (dy = y(1−y) dt).
            let steps = 80_000
            let h = 80.0 / Double(steps)
            var integral = 0.0
            for i in 0..<steps {
                let t = -40 + (Double(i) + 0.5) * h
                let y = sigmoid(t)
                guard y > 0 && y < 1 else { continue }
                integral += Double.exp(BinaryConcrete.logDensity(y, logit: a, temperature: tau)) * y * (1 - y) * h
            }
            #expect(abs(integral - 1) < 1e-4, "τ=\(tau) a=\(a): ∫p = \(integral)")
        }
    }

    /// Our logit-space density equals Maddison et al.'s closed form
    /// τ α y^(−τ−1) (1−y)^(−τ−1) / (α y^(−τ) + (1−y)^(−τ))².
    @Test func binaryConcreteDensityMatchesTheClosedForm() {
        for (y, a, tau) in [(0.3, 0.5, 0.7), (0.9, -1.0, 1.0), (0.01, 2.0, 2.0), (0.5, 0.0, 0.3)] {
            let alpha = Double.exp(a)
            let closed =
                tau * alpha * Double.pow(y, -tau - 1) * Double.pow(1 - y, -tau - 1)
                / Double.pow(alpha * Double.pow(y, -tau) + Double.pow(1 - y, -tau), 2)
            #expect(abs(Double.exp(BinaryConcrete.logDensity(y, logit: a, temperature: tau)) - closed) < 1e-9 * max(1, closed))
        }
    }

    @Test func samplesConcentrateOnTheCornersAsTemperatureFalls() {
        var previous = 0.0
        for tau: Float in [2, 1, 0.5, 0.1, 0.02] {
            let n = 20_000
            let logits = Matrix(rows: 1, cols: n)
            let y = Matrix(rows: 1, cols: n), noise = Matrix(rows: 1, cols: n)
            var rng = Xoshiro256(seed: 15)
            BinaryConcrete(logits: logits, temperature: tau).rsample(into: y, noise: noise, using: &rng)
            let nearCorner = Double(y.values.filter { $0 < 0.01 || $0 > 0.99 }.count) / Double(n)
            #expect(nearCorner >= previous)
            previous = nearCorner
        }
        #expect(previous > 0.95)
    }

    @Test func noNaNOrInfAtLowTemperatureAndLargeLogits() {
        let n = 10_000
        let logits = Matrix(rows: 2, cols: n)
        for i in 0..<n { logits[0, i] = 30; logits[1, i] = -30 }
        let y = Matrix(rows: 2, cols: n), noise = Matrix(rows: 2, cols: n)
        var rng = Xoshiro256(seed: 16)
        BinaryConcrete(logits: logits, temperature: 0.05).rsample(into: y, noise: noise, using: &rng)
        #expect(y.allFinite && noise.allFinite)
        for i in 0..<y.count {
            let x = (Double(logits.storage[i]) + Double(noise.storage[i])) / 0.05
            #expect(BinaryConcrete.logDensityLogit(x, logit: Double(logits.storage[i]), temperature: 0.05).isFinite)
        }
        // The mean of y is σ(a) in the limit; with a = ±30 every sample is at its corner.
        #expect(y.values.prefix(n).allSatisfy { $0 > 0.99 } && y.values.suffix(n).allSatisfy { $0 < 0.01 })
    }

    @Test func bernoulliSamplesHaveTheRightMeanAndLogProb() {
        let n = 40_000
        let logits = Matrix(rows: 1, cols: n)
        logits.fill(-1)
        let z = Matrix(rows: 1, cols: n)
        var rng = Xoshiro256(seed: 17)
        let d = Bernoulli(logits: logits)
        d.sample(into: z, using: &rng)
        let p = sigmoid(-1)
        let frac = Double(z.values.reduce(0, +)) / Double(n)
        #expect(abs(frac - p) < 4.5 * (p * (1 - p) / Double(n)).squareRoot())
        // logProb row sums in logit space against the double-precision formula, 100 units per row.
        let rows = Matrix(rows: 400, cols: 100), zr = Matrix(rows: 400, cols: 100)
        for i in 0..<rows.count { rows.storage[i] = Float(i % 61) / 3 - 10; zr.storage[i] = z.storage[i] }
        let lp = UnsafeMutableBufferPointer<Float>.allocate(capacity: 400)
        defer { lp.deallocate() }
        Bernoulli(logits: rows).logProb(zr, into: lp)
        for r in 0..<400 {
            var expected = 0.0
            for c in 0..<100 {
                let a = Double(rows[r, c])
                expected += zr[r, c] == 1 ? -Double.log(onePlus: .exp(-a)) : -Double.log(onePlus: .exp(a))
            }
            #expect(abs(Double(lp[r]) - expected) < 1e-5 * max(1, abs(expected)))
        }
    }

    @Test func gumbelSoftmaxRowsAreDistributions() {
        let logits = Matrix(rows: 100, cols: 10)
        var rng = Xoshiro256(seed: 18)
        Gumbel.sample(into: logits, using: &rng)
        let y = Matrix(rows: 100, cols: 10), noise = Matrix(rows: 100, cols: 10)
        GumbelSoftmax(logits: logits, temperature: 0.5).rsample(into: y, noise: noise, using: &rng)
        for r in 0..<100 {
            let s = (0..<10).reduce(Float(0)) { $0 + y[r, $1] }
            #expect(abs(s - 1) < 1e-5)
        }
    }
}
