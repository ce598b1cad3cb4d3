import RealModule
import SBNDistributions
import SBNTensor
import Testing

/// Pearson χ² of class counts against probabilities.
func chiSquare(_ counts: [Double], probabilities p: [Double]) -> Double {
    let n = counts.reduce(0, +)
    return zip(counts, p).reduce(0.0) { $0 + ($1.0 - n * $1.1) * ($1.0 - n * $1.1) / (n * $1.1) }
}

func softmax(_ a: [Double]) -> [Double] {
    let m = a.max()!
    let e = a.map { Double.exp($0 - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
}

/// The categorical samplers the categorical SBN layers use, checked against their distributions.
@Suite struct CategoricalTests {
    static let logits: [Float] = [1.5, -0.5, 0, 2.0, -2.0, 0.3, -1.0]

    /// n rows of the logits above, `groups` groups of K per row.
    func tiled(rows n: Int, groups: Int) -> Matrix {
        let k = Self.logits.count
        let m = Matrix(rows: n, cols: groups * k)
        for r in 0..<n { for c in 0..<(groups * k) { m[r, c] = Self.logits[c % k] } }
        return m
    }

    func counts(ofOneHot z: Matrix, classes k: Int) -> [Double] {
        var counts = [Double](repeating: 0, count: k)
        for i in 0..<z.count where z.storage[i] == 1 { counts[i % k] += 1 }
        return counts
    }

    /// The inverse-CDF sampler the layers use (`Categorical.draw`): class frequencies over
    /// 3 groups × 20000 rows pass Pearson's χ² with K − 1 = 6 degrees of freedom at α = 0.001
    /// (22.46), every draw is one-hot, and the groups are independent of one another (their
    /// joint frequencies pass χ² with 36 degrees of freedom, 0.999 quantile 67.99).
    @Test func inverseCDFDrawsFollowSoftmax() {
        let k = Self.logits.count, n = 20_000
        let z = Matrix(rows: n, cols: 3 * k)
        var rng = Xoshiro256(seed: 71)
        Categorical(logits: tiled(rows: n, groups: 3), classes: k).sample(into: z, using: &rng)
        let p = softmax(Self.logits.map(Double.init))
        #expect(chiSquare(counts(ofOneHot: z, classes: k), probabilities: p) < 22.46)
        for r in 0..<n { for g in 0..<3 { #expect((0..<k).reduce(0) { $0 + z[r, g * k + $1] } == 1) } }
        var joint = [Double](repeating: 0, count: k * k)
        for r in 0..<n {
            let a = (0..<k).first { z[r, $0] == 1 }!, b = (0..<k).first { z[r, k + $0] == 1 }!
            joint[a * k + b] += 1
        }
        let pairs = (0..<(k * k)).map { p[$0 / k] * p[$0 % k] }
        // Cells with tiny expectation (p ≈ 0.005² · n ≈ 0.5) break χ²'s approximation: pool them.
        let big = pairs.indices.filter { pairs[$0] * Double(n) >= 5 }
        let pooled = big.map { joint[$0] } + [pairs.indices.filter { !big.contains($0) }.reduce(0) { $0 + joint[$1] }]
        let pooledP = big.map { pairs[$0] } + [pairs.indices.filter { !big.contains($0) }.reduce(0) { $0 + pairs[$1] }]
        let df = Double(pooled.count - 1)
        // Wilson–Hilferty approximation of the 0.999 χ² quantile.
        let q = df * Double.pow(1 - 2 / (9 * df) + 3.09 * (2 / (9 * df)).squareRoot(), 3)
        #expect(chiSquare(pooled, probabilities: pooledP) < q)
    }

    /// Gumbel-max and the inverse CDF agree in distribution: a two-sample χ² homogeneity test of
    /// their class counts (K − 1 = 6 degrees of freedom, α = 0.001: 22.46).
    @Test func gumbelMaxAndInverseCDFAgree() {
        let k = Self.logits.count, n = 40_000
        var rng = Xoshiro256(seed: 72)
        let z = Matrix(rows: n, cols: k)
        Categorical(logits: tiled(rows: n, groups: 1), classes: k).sample(into: z, using: &rng)
        let a = counts(ofOneHot: z, classes: k)
        let idx = UnsafeMutableBufferPointer<Int32>.allocate(capacity: n)
        defer { idx.deallocate() }
        GumbelMaxCategorical(logits: tiled(rows: n, groups: 1)).sample(into: idx, scratch: Matrix(rows: n, cols: k), using: &rng)
        var b = [Double](repeating: 0, count: k)
        for i in idx { b[Int(i)] += 1 }
        let pooled = zip(a, b).map { ($0 + $1) / Double(2 * n) }
        let chi2 = chiSquare(a, probabilities: pooled) + chiSquare(b, probabilities: pooled)
        #expect(chi2 < 22.46, "χ² = \(chi2)")
        #expect(chiSquare(b, probabilities: softmax(Self.logits.map(Double.init))) < 22.46)
    }

    /// One coordinate against its marginal. With K = 2, y_1 = σ((a_1 − a_2 + L)/τ), L = g_1 − g_2
    /// ~ Logistic(0, 1), has a closed-form CDF at every τ. With K = 7 no coordinate does, but every
    /// log-ratio of the sample, log y_c − log y_{c+1} = (a_c − a_{c+1} + L)/τ, is logistic too.
    /// KS (n = 40000, α = 0.001) for both, at τ = 0.5 and 1.
    @Test(arguments: [Float(0.5), 1])
    func gumbelSoftmaxCoordinateFollowsItsMarginal(tau: Float) {
        let n = 40_000
        var rng = Xoshiro256(seed: 73)
        let pair = Matrix(rows: n, cols: 2)
        for r in 0..<n { pair[r, 0] = 0.8; pair[r, 1] = -0.4 }
        let y2 = Matrix(rows: n, cols: 2), noise2 = Matrix(rows: n, cols: 2)
        GumbelSoftmax(logits: pair, temperature: tau).rsample(into: y2, noise: noise2, using: &rng)
        let t = Double(tau)
        let d2 = ksStatistic((0..<n).map { y2[$0, 0] }) { y in
            y <= 0 ? 0 : y >= 1 ? 1 : Logistic.cdf(t * (.log(y) - .log(1 - y)) - 1.2)
        }
        #expect(d2 < ksCritical(n), "K = 2: KS \(d2)")

        let k = Self.logits.count
        let y = Matrix(rows: n, cols: k), noise = Matrix(rows: n, cols: k)
        GumbelSoftmax(logits: tiled(rows: n, groups: 1), temperature: tau).rsample(into: y, noise: noise, using: &rng)
        for c in 0..<(k - 1) {
            let ratios = (0..<n).map { Float(Double.log(Double(y[$0, c])) - .log(Double(y[$0, c + 1]))) }
            let shift = Double(Self.logits[c] - Self.logits[c + 1])
            let d = ksStatistic(ratios) { Logistic.cdf(t * $0 - shift) }
            #expect(d < ksCritical(n), "classes \(c), \(c + 1): KS \(d)")
        }
    }

    /// The paper's closed-form density (Jang et al. 2017 eq. 3) integrates to 1 over the simplex
    /// for K = 3. Integrated in log-ratio coordinates x_i = log(y_i/y_3), where the simplex is
    /// the plane and dy = y1·y2·y3 dx, on a grid wide enough for the tails at each τ.
    @Test(arguments: [0.25, 0.5, 1.0, 2.0, 5.0])
    func gumbelSoftmaxDensityIntegratesToOne(tau: Double) {
        let pi = softmax([0.5, -0.3, 0.1])
        let half = 40.0 / tau, steps = 1600
        let h = 2 * half / Double(steps)
        var total = 0.0
        for i in 0..<steps {
            let x1 = -half + (Double(i) + 0.5) * h
            for j in 0..<steps {
                let x2 = -half + (Double(j) + 0.5) * h
                let y = softmax([x1, x2, 0])
                guard y.allSatisfy({ $0 > 0 }) else { continue }
                total += Double.exp(GumbelSoftmax.logDensity(y, probabilities: pi, temperature: tau)) * y[0] * y[1] * y[2] * h * h
            }
        }
        #expect(abs(total - 1) < 1e-3, "τ = \(tau): ∫ p = \(total)")
    }

    /// The sampler and the closed-form density describe the same distribution: at τ = 0.5 the
    /// frequencies of the log-ratio x1 = log(y1/y3) in 22 bins match the density's marginal,
    /// integrated numerically (Pearson χ², 21 degrees of freedom, α = 0.001: 46.8).
    @Test func gumbelSoftmaxSamplesMatchTheDensity() {
        let tau = 0.5, n = 40_000
        let a: [Float] = [0.5, -0.3, 0.1]
        let pi = softmax(a.map(Double.init))
        let logits = Matrix(rows: n, cols: 3)
        for r in 0..<n { for c in 0..<3 { logits[r, c] = a[c] } }
        let y = Matrix(rows: n, cols: 3), noise = Matrix(rows: n, cols: 3)
        var rng = Xoshiro256(seed: 74)
        GumbelSoftmax(logits: logits, temperature: Float(tau)).rsample(into: y, noise: noise, using: &rng)
        // x1 − x3 in the sample is (a1 + g1 − a3 − g3)/τ; bins of width 0.5 in [−5, 5) plus the two tails.
        let edges = (0...20).map { -5 + 0.5 * Double($0) }
        var counts = [Double](repeating: 0, count: 22)
        for r in 0..<n {
            let x = Double(noise[r, 0] + a[0] - noise[r, 2] - a[2]) / tau
            let bin = x < edges.first! ? 0 : x >= edges.last! ? 21 : 1 + Int((x - edges.first!) / 0.5)
            counts[bin] += 1
        }
        // The marginal of x1 by integrating the density over x2 (grid as above).
        func mass(_ lo: Double, _ hi: Double) -> Double {
            let steps1 = 40, steps2 = 1600, half = 80.0
            let h1 = (hi - lo) / Double(steps1), h2 = 2 * half / Double(steps2)
            var total = 0.0
            for i in 0..<steps1 {
                let x1 = lo + (Double(i) + 0.5) * h1
                for j in 0..<steps2 {
                    let x2 = -half + (Double(j) + 0.5) * h2
                    let yy = softmax([x1, x2, 0])
                    guard yy.allSatisfy({ $0 > 0 }) else { continue }
                    total +=
                        Double.exp(GumbelSoftmax.logDensity(yy, probabilities: pi, temperature: tau)) * yy[0] * yy[1] * yy[2] * h1
                        * h2
                }
            }
            return total
        }
        var p = (0..<20).map { mass(edges[$0], edges[$0 + 1]) }
        let inner = p.reduce(0, +)
        let below = mass(-80, -5)
        p = [below] + p + [max(1 - inner - below, 1e-12)]
        let chi2 = chiSquare(counts, probabilities: p)
        #expect(chi2 < 46.8, "χ² = \(chi2)")
    }
}
