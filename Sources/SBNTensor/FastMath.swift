import CKernels

/// Branch-free single-precision exp and log (Cephes expf/logf polynomials) and what is built on
/// them. The one implementation is the C header of `CKernels` (`sbn_exp`, `sbn_log`, …), which
/// the C kernels and these Swift wrappers share; both inline it into loops that vectorise.
/// Maximum relative error is a few ulp; tests compare them with the C library.
public enum FastMath {
    /// e^x for x in [-87.3, 88.3]; inputs outside are clamped, so the result never overflows to
    /// infinity and never underflows to a denormal.
    @inlinable @inline(__always)
    public static func exp(_ x: Float) -> Float { sbn_exp(x) }

    /// Natural log for finite x > 0.
    @inlinable @inline(__always)
    public static func log(_ x: Float) -> Float { sbn_log(x) }

    /// σ(x) = 1 / (1 + e^(−x)).
    @inlinable @inline(__always)
    public static func sigmoid(_ x: Float) -> Float { sbn_sigmoid(x) }

    /// softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^(−|x|)); never overflows.
    @inlinable @inline(__always)
    public static func softplus(_ x: Float) -> Float { sbn_softplus(x) }

    /// The instruction set the C kernels use on this CPU ("avx512", "avx2" or "portable").
    public static var kernelLevel: String { String(cString: sbn_kernels_level_name(sbn_kernels_level())) }
}
