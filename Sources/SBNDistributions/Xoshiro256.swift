import CKernels
/// xoshiro256** (Blackman & Vigna 2018), seeded through SplitMix64.
///
/// Chosen over `SystemRandomNumberGenerator` (a syscall per draw) and numpy-style PCG64 because it
/// is ~1 G floats/s here (measured) and its whole state is four words, which a
/// checkpoint stores and restores exactly: the same seed gives the same bits.
public struct Xoshiro256: RandomNumberGenerator, Sendable, Equatable {
    @usableFromInline var state: (UInt64, UInt64, UInt64, UInt64)

    /// Seeds the four state words from SplitMix64(seed).
    public init(seed: UInt64) {
        var sm = SplitMix64(state: seed)
        state = (sm.next(), sm.next(), sm.next(), sm.next())
    }

    /// An independent stream for one purpose (init, shuffling, noise, evaluation …) of one run:
    /// the stream id is mixed into the seed before SplitMix64 expands it.
    public init(seed: UInt64, stream: UInt64) {
        var mix = SplitMix64(state: stream &* 0xD1B5_4A32_D192_ED03 ^ 0x5851_F42D_4C95_7F2D)
        self.init(seed: seed ^ mix.next())
    }

    /// Restores a saved state (see `stateWords`).
    public init(stateWords w: [UInt64]) {
        precondition(w.count == 4, "Xoshiro256: state needs 4 words, got \(w.count)")
        state = (w[0], w[1], w[2], w[3])
    }

    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    @inlinable
    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    /// A uniform on the open interval (0, 1): the 24 high bits k give (k + ½)·2⁻²⁴, so the value is
    /// never exactly 0 or 1 and log(u), log(1 − u) are always finite.
    @inlinable
    public mutating func nextUniform() -> Float {
        Self.openUnit(UInt32(truncatingIfNeeded: next() >> 40))
    }

    /// Fills `buffer` with open-interval uniforms, two per 64-bit draw.
    @inlinable
    public mutating func fillUniform(_ buffer: UnsafeMutableBufferPointer<Float>) {
        let n = buffer.count
        var i = 0
        while i + 1 < n {
            let bits = next()
            buffer[i] = Self.openUnit(UInt32(truncatingIfNeeded: bits >> 40))
            buffer[i + 1] = Self.openUnit(UInt32(truncatingIfNeeded: bits >> 8) & 0xFF_FFFF)
            i += 2
        }
        if i < n { buffer[i] = nextUniform() }
    }

    @inlinable @inline(__always)
    static func openUnit(_ k: UInt32) -> Float { sbn_open_unit(k) }

    public static func == (a: Xoshiro256, b: Xoshiro256) -> Bool { a.stateWords == b.stateWords }
}

@inlinable @inline(__always)
func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

/// SplitMix64 (Steele, Lea & Flood 2014): used only to expand seeds.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
