import Foundation
import SBNDiagnostics
import SBNDistributions
import SBNModel
import SBNTensor
import Testing

/// Random logits and the noise a kind's surrogate consumes, `rows × width`.
func unitInputs(_ units: any StochasticUnits, _ surrogate: UnitSurrogate, rows: Int, seed: UInt64) -> (
    logits: [Float], noise: [Float]
) {
    var rng = Xoshiro256(seed: seed)
    let n = rows * units.width
    let logits = (0..<n).map { _ in 8 * rng.nextUniform() - 4 }
    let noise: [Float] = (0..<n).map { _ in
        switch units.noise(for: surrogate) {
        case .uniform: rng.nextUniform()
        case .logistic: Logistic.sample(using: &rng)
        case .gumbel: Gumbel.sample(using: &rng)
        }
    }
    return (logits, noise)
}

func sampleUnits(
    _ units: any StochasticUnits, _ s: UnitSurrogate, _ logits: [Float], _ noise: [Float], rows: Int,
    temperature: Float, keepLocal: Bool = true
) -> (values: [Float], local: [Float]) {
    var values = [Float](repeating: 0, count: logits.count), local = values
    if keepLocal {
        units.sample(s, logits: logits, noise: noise, values: &values, local: &local, rows: rows, temperature: temperature)
    } else {
        units.sample(s, logits: logits, noise: noise, values: &values, local: nil, rows: rows, temperature: temperature)
    }
    return (values, local)
}

@Suite struct UnitKindTests {
    /// Bernoulli layers: every surrogate's vectorised block gives exactly (bit for bit) the
    /// per-unit functions of `Bernoulli` and `BinaryConcrete`, with and without `local`.
    @Test(arguments: UnitSurrogate.allCases)
    func bernoulliBlocksEqualPerUnitFunctions(surrogate s: UnitSurrogate) {
        let units = BernoulliUnits(width: 17), rows = 59, tau: Float = 0.7
        let (logits, noise) = unitInputs(units, s, rows: rows, seed: 61)
        let (values, local) = sampleUnits(units, s, logits, noise, rows: rows, temperature: tau)
        let valuesOnly = sampleUnits(units, s, logits, noise, rows: rows, temperature: tau, keepLocal: false).values
        let expected: [(Float, Float)] = zip(logits, noise).map { a, u in
            switch s {
            case .exact:
                let z = Bernoulli.draw(logit: a, uniform: u)
                return (z, Bernoulli.score(z, logit: a))
            case .straightThrough: return (Bernoulli.draw(logit: a, uniform: u), Bernoulli.meanDerivative(logit: a))
            case .relaxed:
                let y = BinaryConcrete.relax(logit: a, noise: u, temperature: tau)
                return (y, BinaryConcrete.relaxedDerivative(y, temperature: tau))
            case .straightThroughRelaxed:
                let y = BinaryConcrete.relax(logit: a, noise: u, temperature: tau)
                return (BinaryConcrete.hard(logit: a, noise: u), BinaryConcrete.relaxedDerivative(y, temperature: tau))
            case .slopeAnnealed:
                // The hard sigmoid of slope s = 1/τ: derivative s/2 inside |s·a| < 1.
                let slope = 1 / tau
                return (Bernoulli.draw(logit: a, uniform: u), abs(slope * a) < 1 ? 0.5 * slope : 0)
            case .hardSigmoidSample:
                // Chung et al.'s unit: a draw from the hard sigmoid itself, the same derivative.
                let slope = 1 / tau
                return (u < min(1, max(0, (slope * a + 1) / 2)) ? 1 : 0, abs(slope * a) < 1 ? 0.5 * slope : 0)
            case .mean: return (FastMath.sigmoid(a), Bernoulli.meanDerivative(logit: a))
            case .taylor:
                let z = Bernoulli.draw(logit: a, uniform: u)
                return (z, Bernoulli.taylorWeight(z, logit: a))
            }
        }
        #expect(values.map(\.bitPattern) == expected.map(\.0.bitPattern))
        #expect(local.map(\.bitPattern) == expected.map(\.1.bitPattern))
        #expect(valuesOnly == values)
        // Backward: ∂loss/∂a = ∂loss/∂h · local, unit by unit.
        let gy = logits.map { $0 * 0.37 - 0.2 }
        var ga = [Float](repeating: 0, count: gy.count)
        units.backward(s, gradValues: gy, local: local, gradLogits: &ga, rows: rows, temperature: tau)
        #expect(ga == zip(gy, local).map { $0 * $1 })
    }

    /// Categorical layers: values are one-hot (or the relaxation), and the derivative each
    /// pathwise surrogate backpropagates is checked exactly against central finite differences of
    /// a double-precision reference: ∂/∂a of ⟨gy, softmax((a + g)/τ)⟩ for the relaxed surrogates
    /// (so a missing 1/τ fails at τ = 0.5), of ⟨gy, softmax(a/τ)⟩ for slope-annealed
    /// straight-through, of ⟨gy, softmax(a)⟩ for straight-through. The score of `exact` is
    /// one-hot − softmax(a).
    /// (Every surrogate but Chung et al.'s binary `hardSigmoidSample`, which a categorical layer
    /// does not offer: it lacks the `.hardSigmoid` capability, so no estimator asks it.)
    @Test(arguments: UnitSurrogate.allCases.filter { $0 != .hardSigmoidSample })
    func categoricalValuesAndDerivatives(surrogate s: UnitSurrogate) {
        #expect(!CategoricalUnits.capabilities.contains(.hardSigmoid) && BernoulliUnits.capabilities.contains(.hardSigmoid))
        let units = CategoricalUnits(groups: 3, classes: 5), rows = 7, tau: Float = 0.5
        let (logits, noise) = unitInputs(units, s, rows: rows, seed: 62)
        let (values, local) = sampleUnits(units, s, logits, noise, rows: rows, temperature: tau)
        #expect(sampleUnits(units, s, logits, noise, rows: rows, temperature: tau, keepLocal: false).values == values)
        let gy = (0..<logits.count).map { Float(($0 * 7919) % 13) / 13 - 0.5 }
        var ga = [Float](repeating: 0, count: gy.count)
        if s != .exact { units.backward(s, gradValues: gy, local: local, gradLogits: &ga, rows: rows, temperature: tau) }
        for group in 0..<(rows * units.groups) {
            let range = (group * 5)..<(group * 5 + 5)
            let a = range.map { Double(logits[$0]) }, g = range.map { Double(noise[$0]) }
            let relaxedInput = zip(a, g).map { ($0 + $1) / Double(tau) }
            let v = range.map { values[$0] }
            switch s {
            case .relaxed:
                for (x, y) in zip(v, ReferenceSBN.softmax(relaxedInput[...])) { #expect(abs(Double(x) - y) < 1e-6) }
            case .straightThroughRelaxed:
                let best = zip(a, g).map { $0 + $1 }.indices.max { a[$0] + g[$0] < a[$1] + g[$1] }!
                #expect(v == (0..<5).map { $0 == best ? 1 : 0 })
            case .mean:
                for (x, y) in zip(v, ReferenceSBN.softmax(a[...])) { #expect(abs(Double(x) - y) < 1e-6) }
            case .exact, .straightThrough, .slopeAnnealed, .hardSigmoidSample, .taylor:
                // Inverse CDF of the group's first uniform (hardSigmoidSample is binary only: as slopeAnnealed).
                let p = ReferenceSBN.softmax(a[...]), u = g[0]
                var cum = 0.0
                let chosen =
                    (0..<5).first {
                        cum += p[$0]; return u < cum
                    } ?? 4
                #expect(v == (0..<5).map { $0 == chosen ? 1 : 0 })
                if s == .exact {
                    for k in 0..<5 { #expect(abs(Double(local[range.lowerBound + k]) - (Double(v[k]) - p[k])) < 1e-6) }
                }
            }
            guard s != .exact else { continue }
            if s == .taylor {
                // DARN: ⟨gy, h − 1/K⟩ (h − softmax(a)), against the reference.
                let expected = ReferenceSurrogate.taylor.backward(
                    g: range.map { Double(gy[$0]) }, a: a, h: v.map(Double.init), slope: 1)
                for j in 0..<5 {
                    #expect(abs(Double(ga[range.lowerBound + j]) - expected[j]) < 1e-6, "taylor group \(group) class \(j)")
                }
                continue
            }
            // ⟨gy, softmax(x(a))⟩ with x = (a + g)/τ (relaxed surrogates), a/τ (slope-annealed) or a
            // (straight-through).
            let relaxed = s == .relaxed || s == .straightThroughRelaxed
            let weights = range.map { Double(gy[$0]) }
            func objective(_ a: [Double]) -> Double {
                let x: [Double] =
                    relaxed
                    ? zip(a, g).map { ($0 + $1) / Double(tau) }
                    : s == .slopeAnnealed ? a.map { $0 / Double(tau) } : a  // straight-through and the mean
                let y = ReferenceSBN.softmax(x[...])
                return zip(weights, y).reduce(0.0) { $0 + $1.0 * $1.1 }
            }
            for j in 0..<5 {
                var plus = a, minus = a
                plus[j] += 1e-5
                minus[j] -= 1e-5
                let fd = (objective(plus) - objective(minus)) / 2e-5
                #expect(abs(Double(ga[range.lowerBound + j]) - fd) < 1e-5 + 1e-4 * abs(fd), "\(s) group \(group) class \(j)")
            }
        }
    }
}
