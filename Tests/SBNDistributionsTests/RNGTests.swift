import CKernels
import SBNDistributions
import SBNTensor
import Testing

@Suite struct RNGTests {
    @Test func xoshiroMatchesTheReferenceOutputs() {
        // Reference C implementation (Blackman & Vigna) from state {1, 2, 3, 4}.
        var rng = Xoshiro256(stateWords: [1, 2, 3, 4])
        #expect([rng.next(), rng.next(), rng.next(), rng.next()] == [11520, 0, 1_509_978_240, 1_215_971_899_390_074_240])
    }

    @Test func splitMixMatchesTheReferenceOutput() {
        var sm = SplitMix64(state: 1_234_567)
        #expect(sm.next() == 6_457_827_717_110_365_317)
    }

    @Test func savedStateReplaysTheSameBits() {
        var a = Xoshiro256(seed: 42, purpose: .noise)
        for _ in 0..<1000 { _ = a.next() }
        var b = Xoshiro256(stateWords: a.stateWords)
        for _ in 0..<1000 { #expect(a.next() == b.next()) }
    }

    @Test func streamsAreDistinctAndSeedsReproducible() {
        var n1 = Xoshiro256(seed: 1, purpose: .noise), n2 = Xoshiro256(seed: 1, purpose: .noise)
        var s = Xoshiro256(seed: 1, purpose: .shuffling)
        let x = n1.next()
        #expect(x == n2.next())
        #expect(x != s.next())
    }

    /// The largest 24-bit draw maps below 1 (its (k + ½)·2⁻²⁴ rounds to 1.0 in Float), the
    /// smallest above 0, and the logistic and Gumbel transforms of both are finite.
    @Test func extremeDrawsStayInsideTheUnitInterval() {
        let top = sbn_open_unit(0xFF_FFFF), bottom = sbn_open_unit(0)
        #expect(top < 1 && top == Float(1).nextDown && bottom == 0x1p-25)
        #expect(sbn_open_unit(0xFF_FFFE) == (Float(0xFF_FFFE) + 0.5) * 0x1p-24, "every other draw keeps its bits")
        var x = [top, bottom], g = [top, bottom]
        sbn_logistic_from_uniform(&x, 2)
        sbn_gumbel_from_uniform(&g, 2)
        let finite = (x + g).allSatisfy { $0.isFinite }
        #expect(finite, "\(x) \(g)")
    }

    @Test func uniformsAreStrictlyInsideTheUnitInterval() {
        var rng = Xoshiro256(seed: 3)
        let m = Matrix(rows: 1, cols: 1_000_001)
        Uniform.sample(into: m, using: &rng)
        var lo: Float = 1, hi: Float = 0, sum = 0.0
        for v in m.buffer { lo = min(lo, v); hi = max(hi, v); sum += Double(v) }
        #expect(lo > 0 && hi < 1)
        // Mean of n uniforms: sd = sqrt(1/12/n) ≈ 2.9e-4; allow 5 sd.
        #expect(abs(sum / Double(m.count) - 0.5) < 5 * (1.0 / 12 / Double(m.count)).squareRoot())
    }

    /// The vectorised block generator the SBN layers' noise uses (16 xoshiro256** streams):
    /// strictly inside (0, 1), uniform by a KS test and by the mean, uncorrelated neighbours
    /// (which come from different streams), a function of its seed only.
    @Test func blockUniformsAreUniformAndReproducible() {
        let n = 200_003  // no multiple of 32: the tail path runs too
        let x = UnsafeMutableBufferPointer<Float>.allocate(capacity: n),
            y = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
        defer { x.deallocate(); y.deallocate() }
        Uniform.sample(into: x, seed: 42)
        Uniform.sample(into: y, seed: 42)
        #expect(Array(x) == Array(y))
        #expect(x.allSatisfy { $0 > 0 && $0 < 1 })
        #expect(ksStatistic(Array(x), cdf: { min(max($0, 0), 1) }) < ksCritical(n))
        let mean = x.reduce(0.0) { $0 + Double($1) } / Double(n)
        #expect(abs(mean - 0.5) < 5 * (1.0 / 12 / Double(n)).squareRoot())
        // Lag-1 and lag-16 correlations: n·r² is χ²(1)-like; 5 sd of r is 5/√n.
        for lag in [1, 16, 32] {
            var c = 0.0
            for i in 0..<(n - lag) { c += (Double(x[i]) - 0.5) * (Double(x[i + lag]) - 0.5) }
            let r = c / Double(n - lag) * 12
            #expect(abs(r) < 5 / Double(n).squareRoot(), "lag \(lag): r = \(r)")
        }
        Uniform.sample(into: y, seed: 43)
        #expect(Array(x) != Array(y))
    }
}
