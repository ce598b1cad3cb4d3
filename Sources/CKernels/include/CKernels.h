// Hot elementwise kernels of SBNLab, in C so that one source is compiled for several instruction
// sets (portable, AVX2, AVX-512) and the widest one the CPU has is picked at run time. Every
// variant performs the same IEEE operations in the same order (no FMA contraction, fixed
// summation order), so all give the same bits; tests compare them.
#ifndef SBNLAB_CKERNELS_H
#define SBNLAB_CKERNELS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

// Branch-free single-precision exp and log (Cephes expf/logf polynomials), written without
// trapping conversions so that loops calling them vectorise. Maximum relative error a few ulp.

/// e^x for x in [-87.3, 88.3]; inputs outside are clamped (no overflow to inf, no denormals).
static inline float sbn_exp(float x) {
#pragma clang fp contract(off)
    x = (-87.3f >= x) ? -87.3f : x;
    x = (88.3f < x) ? 88.3f : x;
    // n = round(x / ln 2) with the 1.5·2^23 rounding trick (no float→int conversion).
    const float magic = 12582912.0f;
    float t = x * 1.44269504f + magic;
    float n = t - magic;
    float r = x - n * 0.693359375f + n * 2.1219444e-4f;
    float p = 1.98756915e-4f;
    p = p * r + 1.39819995e-3f;
    p = p * r + 8.3334519e-3f;
    p = p * r + 4.16657959e-2f;
    p = p * r + 1.66666655e-1f;
    p = p * r + 5.00000012e-1f;
    float y = p * r * r + r + 1.0f;
    // 2^n from the exponent field; the low mantissa bits of t hold n + 2^22 + 2^23.
    uint32_t tb;
    memcpy(&tb, &t, 4);
    uint32_t sb = ((tb - 0x4B400000u) + 127u) << 23;
    float scale;
    memcpy(&scale, &sb, 4);
    return y * scale;
}

/// Natural log for finite x > 0.
static inline float sbn_log(float x) {
#pragma clang fp contract(off)
    uint32_t bits;
    memcpy(&bits, &x, 4);
    int32_t e = (int32_t)((bits >> 23) & 0xFFu) - 126;
    uint32_t mb = (bits & 0x007FFFFFu) | 0x3F000000u;  // mantissa in [0.5, 1)
    float m;
    memcpy(&m, &mb, 4);
    int small = m < 0.707106781f;
    e = small ? e - 1 : e;
    m = (small ? m + m : m) - 1.0f;
    float z = m * m;
    float y = 7.03768363e-2f;
    y = y * m - 1.15146103e-1f;
    y = y * m + 1.16769987e-1f;
    y = y * m - 1.24201408e-1f;
    y = y * m + 1.42493228e-1f;
    y = y * m - 1.66680577e-1f;
    y = y * m + 2.00007148e-1f;
    y = y * m - 2.4999994e-1f;
    y = y * m + 3.33333312e-1f;
    y = y * m * z;
    float fe = (float)e;
    y += -2.1219444e-4f * fe;
    y += -0.5f * z;
    return m + y + 0.693359375f * fe;
}

/// σ(x) = 1 / (1 + e^(−x)).
static inline float sbn_sigmoid(float x) {
#pragma clang fp contract(off)
    return 1.0f / (1.0f + sbn_exp(-x));
}

/// softplus(x) = log(1 + e^x) = max(x, 0) + log(1 + e^(−|x|)); never overflows.
static inline float sbn_softplus(float x) {
#pragma clang fp contract(off)
    float ax = __builtin_fabsf(x);
    return ((0.0f >= x) ? 0.0f : x) + sbn_log(1.0f + sbn_exp(-ax));
}

/// The open-interval uniform of a 24-bit integer k: (k + ½)·2⁻²⁴, in (0, 1). For k = 2²⁴ − 1 that
/// value, 1 − 2⁻²⁵, is not a float and rounds to exactly 1.0 (which made a logistic or Gumbel
/// draw infinite, with probability 2⁻²⁴); it is mapped to the largest float below 1 instead. Every
/// other k gives the same bits as before.
static inline float sbn_open_unit(uint32_t k) {
#pragma clang fp contract(off)
    float u = ((float)(int32_t)k + 0.5f) * 0x1p-24f;
    return u < 1.0f ? u : 0x1.fffffep-1f;
}

/// 1 when x is NaN or ±inf (exponent bits all ones): an integer bit test, so loops vectorise.
static inline uint32_t sbn_not_finite(float x) {
    uint32_t b;
    memcpy(&b, &x, 4);
    return (b & 0x7F800000u) == 0x7F800000u;
}

/// 1 when none of the `n` values is NaN or ±inf, else 0.
static inline int sbn_all_finite(const float *x, size_t n) {
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++) bad |= sbn_not_finite(x[i]);
    return bad == 0;
}

/// dst[i] = src[i]: pixel bytes to floats (`restrict`, so the loop vectorises).
static inline void sbn_bytes_to_floats(const uint8_t *restrict src, float *restrict dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = (float)src[i];
}

/// A hint to the CPU inside a spin-wait loop.
static inline void sbn_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/// z = 1[u < σ(a)], an exact Bernoulli(σ(a)) draw. When `local` is not NULL it receives the
/// score z − σ(a) (Williams 1992), or with `straight_through` the derivative of the mean
/// σ(a)(1 − σ(a)) (Bengio et al. 2013; Gu et al. 2016 fn. 3). `z` may be `u` (in place).
void sbn_bernoulli_sample(const float *a, const float *u, float *z, float *local, size_t n, int straight_through);

/// y = σ((a + l)/τ), the binary Concrete relaxation (Maddison et al. 2017, Prop. 2; Jang et al.
/// 2017 eq. 2 with k = 2), or with `hard` its exact-Bernoulli limit 1[a + l > 0] (straight-through
/// Gumbel-Softmax, Jang et al. 2017 §2.2); when `dy` is not NULL, dy = y(1 − y)/τ of the relaxed y.
void sbn_binary_concrete(const float *a, const float *l, float *y, float *dy, size_t n, float tau, int hard);

/// Fills x[0..n) with uniforms on the open interval (0, 1), (k + ½)·2⁻²⁴ for 24-bit k, from 16
/// xoshiro256** streams (Blackman & Vigna 2018) whose states SplitMix64 expands from `seed`: each
/// step of the 16 streams gives 32 values, the high 24 bits of each draw to x[32j + k] and bits
/// 8–31 to x[32j + 16 + k]. A function of (seed, n) only, with the same bits on every
/// instruction set; the 16 streams make it vectorise.
void sbn_uniform_fill(float *x, size_t n, uint64_t seed);

/// x ← log x − log(1 − x): uniforms in (0, 1) to Logistic(0, 1) (Maddison et al. 2017).
void sbn_logistic_from_uniform(float *x, size_t n);

/// The most classes a categorical kernel handles per group (its stack buffers hold 2048 values).
#define SBN_MAX_CLASSES 1024

/// x ← −log(−log x): uniforms in (0, 1) to Gumbel(0, 1) (Gumbel 1954; Jang et al. 2017 §2).
void sbn_gumbel_from_uniform(float *x, size_t n);

/// Exact categorical draws for `groups` consecutive groups of `k` classes with logits a (Jang
/// et al. 2017 §2's Categorical(π), π = softmax(a)), by the inverse CDF of one uniform per group:
/// the group's first entry of `u`. z receives the one-hot draw; when `local` is not NULL it
/// receives the score one-hot − softmax(a) (Williams 1992), or with `straight_through` softmax(a),
/// the derivative the straight-through backward pass goes through (Jang et al. 2017 §4.1's ST).
/// `z` may be `u` (in place). k ≤ SBN_MAX_CLASSES.
void sbn_categorical_sample(const float *a, const float *u, float *z, float *local, size_t groups, size_t k,
                            int straight_through);

/// The Gumbel-Softmax relaxation y = softmax((a + g)/τ) per group of k (Jang et al. 2017 eq. 2),
/// with Gumbel noise g. With `hard`, y is the one-hot argmax(a + g) — an exact categorical draw by
/// the Gumbel-max trick (eq. 1), the straight-through Gumbel-Softmax forward pass — and `soft`
/// receives the relaxed softmax; without `hard`, `soft` (when not NULL) receives a copy of y. The
/// backward pass goes through `soft` (`sbn_softmax_backward`). k ≤ SBN_MAX_CLASSES.
void sbn_gumbel_softmax(const float *a, const float *gumbel, float *y, float *soft, size_t groups, size_t k, float tau,
                        int hard);

/// The softmax Jacobian-vector product per group of k: ga = scale · s ⊙ (gy − ⟨s, gy⟩), where
/// s = softmax(x) and ga = ∂/∂x of ⟨gy, s⟩ times `scale` (1/τ for x = (a + g)/τ, Jang et al. 2017
/// eq. 2; 1 for straight-through's softmax(a)).
void sbn_softmax_backward(const float *gy, const float *s, float *ga, size_t groups, size_t k, float scale);

/// p = softmax(scale · a) per group of k.
void sbn_softmax_scaled(const float *a, float *p, size_t groups, size_t k, float scale);

/// d = ∂/∂a of the hard sigmoid max(0, min(1, (s·a + 1)/2)) with slope s: s/2 where |s·a| < 1,
/// else 0 (Chung et al. 2017's slope-annealed straight-through).
void sbn_hard_sigmoid_slope(const float *a, float *d, size_t n, float slope);

/// Per-row −log p(x | a) = Σ_j softplus(a_j) − x_j a_j of binary targets under Bernoulli logits,
/// row r scored against target row r / target_repeat; and when `gradient` is not NULL,
/// ∂/∂a = σ(a) − x. `scratch` holds `cols` floats. With a gradient the row sum uses eight
/// accumulators in a fixed order; without one (evaluation), the log terms are summed as logs of
/// products, one log per 16 elements instead of one per element (same accuracy to ~1e-6 relative).
void sbn_bernoulli_nll_rows(const float *logits, const float *targets, size_t rows, size_t cols, size_t target_repeat,
                            float *nll, float *gradient, float *scratch);

/// Adam (Kingma & Ba 2015, Algorithm 1, §2's efficient form): m ← β1 m + (1−β1) g,
/// v ← β2 v + (1−β2) g², w ← w − α_t m / (√v + ε̂). Consumes the gradient: g is zero afterwards,
/// ready to accumulate the next step's. Returns 1 when every g was finite, 0 otherwise (the
/// update is then meaningless and the caller stops) — one pass instead of three.
int sbn_adam_update(float *m, float *v, float *g, float *w, size_t n, float beta1, float beta2, float step_size,
                    float eps_hat);

/// Heavy-ball SGD: v ← μ v + g, w ← w − η v; consumes g and reports finiteness like `sbn_adam_update`.
int sbn_sgd_momentum_update(float *v, float *g, float *w, size_t n, float momentum, float learning_rate);

/// The instruction-set level in use: 0 portable, 1 AVX2, 2 AVX-512 (x86-64 only).
int sbn_kernels_level(void);
/// The widest level this CPU supports.
int sbn_kernels_max_level(void);
/// Uses `level` (clamped to what the CPU supports) from now on; returns the level in effect.
/// For tests and benchmarks that compare the variants.
int sbn_kernels_set_level(int level);
/// "portable", "avx2" or "avx512".
const char *sbn_kernels_level_name(int level);

#endif
