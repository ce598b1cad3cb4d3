import CKernels
import RealModule
import SBNTensor

/// Uniform(0, 1) on the open interval.
public enum Uniform {
    public static func sample(using rng: inout Xoshiro256) -> Float { rng.nextUniform() }
    public static func sample(into m: Matrix, using rng: inout Xoshiro256) { rng.fillUniform(m.buffer) }
    public static func sample(into x: UnsafeMutableBufferPointer<Float>, using rng: inout Xoshiro256) { rng.fillUniform(x) }

    /// A block of uniforms from 16 interleaved xoshiro256** streams expanded from `seed`
    /// (CKernels, vectorised): a function of (seed, count) only. The SBN layers' noise.
    public static func sample(into x: UnsafeMutableBufferPointer<Float>, seed: UInt64) {
        sbn_uniform_fill(x.baseAddress!, x.count, seed)
    }
}

/// Gumbel(0, 1): G = −log(−log U) (Jang et al. 2017, §2). CDF F(x) = exp(−e^(−x)).
public enum Gumbel {
    public static func sample(using rng: inout Xoshiro256) -> Float {
        -Float.log(-Float.log(rng.nextUniform()))
    }

    public static func sample(into m: Matrix, using rng: inout Xoshiro256) {
        rng.fillUniform(m.buffer)
        sbn_gumbel_from_uniform(m.pointer, m.count)  // −log(−log U), in CKernels
    }

    /// A block from `Uniform.sample(into:seed:)`'s uniforms: the categorical layers' noise.
    public static func sample(into x: UnsafeMutableBufferPointer<Float>, seed: UInt64) {
        sbn_uniform_fill(x.baseAddress!, x.count, seed)
        sbn_gumbel_from_uniform(x.baseAddress!, x.count)
    }

    public static func cdf(_ x: Double) -> Double { .exp(-.exp(-x)) }
}

/// Logistic(0, 1): L = log U − log(1 − U), the difference of two Gumbels (Maddison et al. 2017).
public enum Logistic {
    public static func sample(using rng: inout Xoshiro256) -> Float {
        let u = rng.nextUniform()
        return Float.log(u) - Float.log(onePlus: -u)
    }

    public static func sample(into m: Matrix, using rng: inout Xoshiro256) { sample(into: m.buffer, using: &rng) }

    public static func sample(into x: UnsafeMutableBufferPointer<Float>, using rng: inout Xoshiro256) {
        rng.fillUniform(x)
        sbn_logistic_from_uniform(x.baseAddress!, x.count)  // log U − log(1 − U), in CKernels
    }

    /// A block from `Uniform.sample(into:seed:)`'s uniforms.
    public static func sample(into x: UnsafeMutableBufferPointer<Float>, seed: UInt64) {
        sbn_uniform_fill(x.baseAddress!, x.count, seed)
        sbn_logistic_from_uniform(x.baseAddress!, x.count)
    }

    public static func cdf(_ x: Double) -> Double { 1 / (1 + .exp(-x)) }
}

/// Normal(0, 1) by the Box–Muller transform of pairs of open-interval uniforms (Box & Muller
/// 1958): √(−2 log U₁)·cos(2πU₂) and √(−2 log U₁)·sin(2πU₂). The reparameterised Gaussian latent
/// of Kingma et al. 2014's M2 (Jang et al. 2017 §4.3) draws its ε from this.
public enum Normal {
    /// A block from `Uniform.sample(into:seed:)`'s uniforms (an odd last value takes one more
    /// uniform from a second block seeded from `seed`): a function of (seed, count) only.
    public static func sample(into x: UnsafeMutableBufferPointer<Float>, seed: UInt64) {
        guard let p = x.baseAddress, x.count > 0 else { return }
        sbn_uniform_fill(p, x.count, seed)
        let pairs = x.count / 2
        for i in 0..<pairs { transform(&p[2 * i], &p[2 * i + 1]) }
        if x.count % 2 == 1 {
            var extra: Float = 0
            sbn_uniform_fill(&extra, 1, seed ^ 0x5DEE_CE66_D1CE_4E5B)
            var last = p[x.count - 1]
            transform(&last, &extra)
            p[x.count - 1] = last
        }
    }

    /// Two uniforms in, two independent standard normals out.
    @inline(__always)
    static func transform(_ a: inout Float, _ b: inout Float) {
        let radius = (-2 * Float.log(a)).squareRoot(), angle = 2 * Float.pi * b
        a = radius * Float.cos(angle)
        b = radius * Float.sin(angle)
    }

    public static func cdf(_ x: Double) -> Double { 0.5 * Double.erfc(-x / 2.0.squareRoot()) }
}
