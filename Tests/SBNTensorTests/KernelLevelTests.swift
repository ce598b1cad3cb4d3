import CKernels
import Foundation
import SBNTensor
import Testing

/// The C kernels are compiled for several instruction sets; every level this CPU supports must
/// give the same bits as the portable one (no FMA contraction, fixed summation order), so a run
/// does not depend on the machine's vector width.
@Suite(.serialized) struct KernelLevelTests {
    /// Deterministic inputs: logits in (−12, 12), binary targets, uniforms in (0, 1).
    func inputs(_ n: Int) -> (logits: [Float], targets: [Float], uniforms: [Float], grads: [Float]) {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (Float(state >> 40) + 0.5) / 16_777_216
        }
        let logits = (0..<n).map { _ in 24 * next() - 12 }
        let targets = (0..<n).map { _ in next() < 0.3 ? Float(1) : 0 }
        let uniforms = (0..<n).map { _ in next() }
        let grads = (0..<n).map { _ in 2 * next() - 1 }
        return (logits, targets, uniforms, grads)
    }

    /// Every kernel's output at `level`, as bit patterns.
    func outputs(level: Int) -> [UInt32] {
        #expect(sbn_kernels_set_level(Int32(level)) == Int32(level))
        let rows = 7, cols = 397  // a width that is no multiple of any vector length
        let x = inputs(rows * cols)
        var nll = [Float](repeating: 0, count: rows), grad = [Float](repeating: 0, count: rows * cols)
        var scratch = [Float](repeating: 0, count: cols)
        sbn_bernoulli_nll_rows(x.logits, x.targets, rows, cols, 1, &nll, &grad, &scratch)
        var nllProducts = [Float](repeating: 0, count: rows)
        sbn_bernoulli_nll_rows(x.logits, x.targets, rows, cols, 1, &nllProducts, nil, &scratch)
        var z = [Float](repeating: 0, count: rows * cols), score = z, y = z, dy = z, st = z, stLocal = z, hard = z, hardDy = z
        sbn_bernoulli_sample(x.logits, x.uniforms, &z, &score, z.count, 0)
        sbn_bernoulli_sample(x.logits, x.uniforms, &st, &stLocal, z.count, 1)
        sbn_binary_concrete(x.logits, x.grads, &y, &dy, y.count, 0.7, 0)
        sbn_binary_concrete(x.logits, x.grads, &hard, &hardDy, y.count, 0.7, 1)
        var noise = x.uniforms
        sbn_logistic_from_uniform(&noise, noise.count)
        var uniforms = [Float](repeating: 0, count: 1001)
        sbn_uniform_fill(&uniforms, uniforms.count, 7)
        var m = x.grads.map { $0 * 0.1 }, v = x.grads.map { $0 * $0 }, w = x.logits, g = x.grads, g2 = x.grads
        #expect(sbn_adam_update(&m, &v, &g, &w, w.count, 0.9, 0.999, 1e-3, 1e-8) == 1)
        var velocity = x.grads, w2 = x.logits
        #expect(sbn_sgd_momentum_update(&velocity, &g2, &w2, w2.count, 0.9, 0.01) == 1)
        #expect(g.allSatisfy { $0 == 0 } && g2.allSatisfy { $0 == 0 }, "the updates consume the gradient")
        return
            (nll + grad + nllProducts + z + score + st + stLocal + y + dy + hard + hardDy + noise + uniforms + m + v + w
            + velocity + w2)
            .map(\.bitPattern) + categoricalOutputs(x)
    }

    /// The categorical kernels on 7 × 397 values as groups of 397 (one group per row, more than a
    /// vector) and as 2779/7 = 397 groups of 7 (several groups per vector, crossing chunks).
    func categoricalOutputs(_ x: (logits: [Float], targets: [Float], uniforms: [Float], grads: [Float])) -> [UInt32] {
        var out: [Float] = []
        for k in [397, 7] {
            let n = x.logits.count, groups = n / k
            var gumbel = x.uniforms
            sbn_gumbel_from_uniform(&gumbel, n)
            var z = [Float](repeating: 0, count: n), score = z, st = z, stLocal = z, y = z, soft = z, hard = z, hardSoft = z,
                ga = z
            sbn_categorical_sample(x.logits, x.uniforms, &z, &score, groups, k, 0)
            sbn_categorical_sample(x.logits, x.uniforms, &st, &stLocal, groups, k, 1)
            sbn_gumbel_softmax(x.logits, gumbel, &y, &soft, groups, k, 0.7, 0)
            sbn_gumbel_softmax(x.logits, gumbel, &hard, &hardSoft, groups, k, 0.7, 1)
            sbn_softmax_backward(x.grads, soft, &ga, groups, k, 1 / 0.7)
            var scaled = z, slope = z
            sbn_softmax_scaled(x.logits, &scaled, groups, k, 1 / 0.7)
            sbn_hard_sigmoid_slope(x.logits, &slope, n, 0.3)
            out += gumbel + z + score + st + stLocal + y + soft + hard + hardSoft + ga + scaled + slope
        }
        return out.map(\.bitPattern)
    }

    @Test func everyInstructionSetGivesTheSameBits() {
        let top = Int(sbn_kernels_max_level()), original = Int(sbn_kernels_level())
        defer { _ = sbn_kernels_set_level(Int32(original)) }
        let reference = outputs(level: 0)
        for level in 1...max(1, top) where level <= top {
            #expect(outputs(level: level) == reference, "level \(String(cString: sbn_kernels_level_name(Int32(level))))")
        }
        print("kernel levels compared: portable … \(String(cString: sbn_kernels_level_name(Int32(top))))")
    }

    /// The kernels against plain double-precision formulas.
    @Test func kernelsMatchTheirFormulas() {
        let x = inputs(397)
        var nll: [Float] = [0], grad = [Float](repeating: 0, count: 397), scratch = grad
        sbn_bernoulli_nll_rows(x.logits, x.targets, 1, 397, 1, &nll, &grad, &scratch)
        var expected = 0.0
        for (a, t) in zip(x.logits.map(Double.init), x.targets.map(Double.init)) {
            expected += max(a, 0) + (1 + (-abs(a)).exponential).logarithm - t * a
        }
        #expect(abs(Double(nll[0]) - expected) < 1e-5 * expected)
        var products: [Float] = [0]
        sbn_bernoulli_nll_rows(x.logits, x.targets, 1, 397, 1, &products, nil, &scratch)
        #expect(abs(Double(products[0]) - expected) < 1e-5 * expected, "the evaluation form (logs of products)")
        for i in 0..<397 {
            let s = 1 / (1 + (-Double(x.logits[i])).exponential)
            #expect(abs(Double(grad[i]) - (s - Double(x.targets[i]))) < 1e-6)
        }
        var noise = x.uniforms
        sbn_logistic_from_uniform(&noise, noise.count)
        for (l, u) in zip(noise, x.uniforms.map(Double.init)) {
            #expect(abs(Double(l) - (u.logarithm - (1 - u).logarithm)) < 2e-6 * max(1, abs(Double(l))))
        }
    }
}

private extension Double {
    var exponential: Double { Foundation.exp(self) }
    var logarithm: Double { Foundation.log(self) }
}
