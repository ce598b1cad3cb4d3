// The kernel bodies, included once per instruction set by kernels.c with SBN_SUFFIX (a name
// suffix) and SBN_TARGET (a function attribute) defined. Not a public header.
#define SBN_CAT2(a, b) a##b
#define SBN_CAT(a, b) SBN_CAT2(a, b)
#define SBN_NAME(name) SBN_CAT(name, SBN_SUFFIX)
// Four vectors in flight: the exp/log polynomials are chains of dependent multiply-adds, so one
// vector at a time would wait on latency rather than throughput.
#define SBN_INTERLEAVE _Pragma("clang loop vectorize(enable) interleave_count(4)")

SBN_TARGET static void SBN_NAME(logistic_from_uniform)(float *restrict x, size_t n) {
#pragma clang fp contract(off)
    SBN_INTERLEAVE
    for (size_t i = 0; i < n; i++) x[i] = sbn_log(x[i]) - sbn_log(1.0f - x[i]);
}

// One step of the 16 xoshiro256** streams: 32 open-interval uniforms into out[0..32).
SBN_TARGET static inline void SBN_NAME(xoshiro_step16)(uint64_t *restrict s0, uint64_t *restrict s1, uint64_t *restrict s2,
                                                       uint64_t *restrict s3, float *restrict out) {
#pragma clang fp contract(off)
    for (int k = 0; k < 16; k++) {
        uint64_t a = s1[k] * 5;
        uint64_t r = ((a << 7) | (a >> 57)) * 9;
        uint64_t t = s1[k] << 17;
        s2[k] ^= s0[k];
        s3[k] ^= s1[k];
        s1[k] ^= s2[k];
        s0[k] ^= s3[k];
        s2[k] ^= t;
        s3[k] = (s3[k] << 45) | (s3[k] >> 19);
        out[k] = sbn_open_unit((uint32_t)(r >> 40));
        out[16 + k] = sbn_open_unit((uint32_t)((r >> 8) & 0xFFFFFFu));
    }
}

SBN_TARGET static void SBN_NAME(uniform_fill)(float *restrict x, size_t n, uint64_t seed) {
    uint64_t s0[16], s1[16], s2[16], s3[16];
    uint64_t z = seed;
    for (int k = 0; k < 16; k++) {
        s0[k] = sbn_splitmix64(&z);
        s1[k] = sbn_splitmix64(&z);
        s2[k] = sbn_splitmix64(&z);
        s3[k] = sbn_splitmix64(&z);
    }
    size_t i = 0;
    for (; i + 32 <= n; i += 32) SBN_NAME(xoshiro_step16)(s0, s1, s2, s3, x + i);
    if (i < n) {
        float tail[32];
        SBN_NAME(xoshiro_step16)(s0, s1, s2, s3, tail);
        memcpy(x + i, tail, (n - i) * sizeof(float));
    }
}

// No `restrict` on u and z: sampling in place (z == u) is allowed.
SBN_TARGET static void SBN_NAME(bernoulli_sample)(const float *a, const float *u, float *z, float *local, size_t n,
                                                  int straight_through) {
#pragma clang fp contract(off)
    if (!local) {
        SBN_INTERLEAVE
        for (size_t i = 0; i < n; i++) z[i] = u[i] < sbn_sigmoid(a[i]) ? 1.0f : 0.0f;
    } else if (straight_through) {
        SBN_INTERLEAVE
        for (size_t i = 0; i < n; i++) {
            float p = sbn_sigmoid(a[i]);
            z[i] = u[i] < p ? 1.0f : 0.0f;
            local[i] = p * (1.0f - p);
        }
    } else {
        SBN_INTERLEAVE
        for (size_t i = 0; i < n; i++) {
            float p = sbn_sigmoid(a[i]);
            float zi = u[i] < p ? 1.0f : 0.0f;
            z[i] = zi;
            local[i] = zi - p;
        }
    }
}

SBN_TARGET static void SBN_NAME(binary_concrete)(const float *restrict a, const float *restrict l, float *restrict y,
                                                 float *restrict dy, size_t n, float tau, int hard) {
#pragma clang fp contract(off)
    if (!dy) {
        SBN_INTERLEAVE
        for (size_t i = 0; i < n; i++) y[i] = hard ? (a[i] + l[i] > 0.0f ? 1.0f : 0.0f) : sbn_sigmoid((a[i] + l[i]) / tau);
    } else {
        SBN_INTERLEAVE
        for (size_t i = 0; i < n; i++) {
            float yi = sbn_sigmoid((a[i] + l[i]) / tau);
            y[i] = hard ? (a[i] + l[i] > 0.0f ? 1.0f : 0.0f) : yi;
            dy[i] = yi * (1.0f - yi) / tau;
        }
    }
}

SBN_TARGET static void SBN_NAME(gumbel_from_uniform)(float *restrict x, size_t n) {
#pragma clang fp contract(off)
    SBN_INTERLEAVE
    for (size_t i = 0; i < n; i++) x[i] = -sbn_log(-sbn_log(x[i]));
}

// The categorical kernels work on chunks of whole groups, at most SBN_CHUNK values, in stages:
// elementwise passes over the whole chunk (which vectorise whatever k is) alternate with short
// per-group reductions (max, sum, dot) in a fixed order, whose results are spread back over the
// group's entries so that the next elementwise pass needs no gather. Every stage does the same
// IEEE operations in the same order on every instruction set.
#define SBN_CHUNK 2048
// for each chunk: `ng` groups from group `g0`, `n` = ng·k values from offset `base`.
#define SBN_FOR_CHUNKS(groups, k)                                                                       \
    for (size_t g0 = 0, per_ = SBN_CHUNK / (k), ng, n, base;                                            \
         g0 < (groups) && (ng = (groups) - g0 < per_ ? (groups) - g0 : per_, n = ng * (k), base = g0 * (k), 1); \
         g0 += per_)

// Per group of k in x[0..n): spread[i] = max of i's group.
SBN_TARGET static inline void SBN_NAME(group_max)(const float *restrict x, float *restrict spread, size_t n, size_t k) {
    for (size_t s = 0; s < n; s += k) {
        float m = x[s];
        for (size_t j = 1; j < k; j++) m = x[s + j] > m ? x[s + j] : m;
        for (size_t j = 0; j < k; j++) spread[s + j] = m;
    }
}

// Per group: spread[i] = 1 / Σ of i's group of e.
SBN_TARGET static inline void SBN_NAME(group_inverse_sum)(const float *restrict e, float *restrict spread, size_t n, size_t k) {
#pragma clang fp contract(off)
    for (size_t s = 0; s < n; s += k) {
        float sum = 0.0f;
        for (size_t j = 0; j < k; j++) sum += e[s + j];
        float inv = 1.0f / sum;
        for (size_t j = 0; j < k; j++) spread[s + j] = inv;
    }
}

// p = softmax(x) per group of k, in place (x may be p); `work` holds n floats.
SBN_TARGET static inline void SBN_NAME(softmax_chunk)(float *restrict x, float *restrict work, size_t n, size_t k) {
#pragma clang fp contract(off)
    SBN_NAME(group_max)(x, work, n, k);
    SBN_INTERLEAVE
    for (size_t i = 0; i < n; i++) x[i] = sbn_exp(x[i] - work[i]);
    SBN_NAME(group_inverse_sum)(x, work, n, k);
    for (size_t i = 0; i < n; i++) x[i] *= work[i];
}

// No `restrict` on u and z: sampling in place (z == u) is allowed; each chunk reads its uniforms
// before writing its values.
SBN_TARGET static void SBN_NAME(categorical_sample)(const float *a, const float *u, float *z, float *local, size_t groups,
                                                    size_t k, int straight_through) {
#pragma clang fp contract(off)
    float p[SBN_CHUNK], work[SBN_CHUNK], uniform[SBN_CHUNK];
    SBN_FOR_CHUNKS(groups, k) {
        for (size_t g = 0; g < ng; g++) uniform[g] = u[base + g * k];
        memcpy(p, a + base, n * sizeof(float));
        SBN_NAME(softmax_chunk)(p, work, n, k);
        // Inverse CDF: the first class whose cumulative probability exceeds u (the last on rounding).
        for (size_t g = 0; g < ng; g++) {
            const float *pg = p + g * k;
            float cum = 0.0f;
            size_t chosen = k - 1;
            for (size_t j = 0; j + 1 < k; j++) {
                cum += pg[j];
                if (uniform[g] < cum) {
                    chosen = j;
                    break;
                }
            }
            float *zg = z + base + g * k;
            for (size_t j = 0; j < k; j++) zg[j] = j == chosen ? 1.0f : 0.0f;
        }
        if (local) {
            float *lg = local + base;
            const float *zc = z + base;
            if (straight_through) {
                memcpy(lg, p, n * sizeof(float));
            } else {
                for (size_t i = 0; i < n; i++) lg[i] = zc[i] - p[i];
            }
        }
    }
}

SBN_TARGET static void SBN_NAME(gumbel_softmax)(const float *restrict a, const float *restrict gumbel, float *restrict y,
                                                float *restrict soft, size_t groups, size_t k, float tau, int hard) {
#pragma clang fp contract(off)
    float t[SBN_CHUNK], work[SBN_CHUNK];
    SBN_FOR_CHUNKS(groups, k) {
        const float *ac = a + base, *gc = gumbel + base;
        float *yc = y + base;
        SBN_INTERLEAVE
        for (size_t i = 0; i < n; i++) t[i] = ac[i] + gc[i];
        if (hard) {
            // The one-hot argmax(a + g): the first entry equal to its group's maximum (the last
            // when none is, which only NaN logits cause; the NaN guard stops such a run).
            SBN_NAME(group_max)(t, work, n, k);
            for (size_t s = 0; s < n; s += k) {
                size_t best = 0;
                while (best + 1 < k && t[s + best] != work[s + best]) best++;
                for (size_t j = 0; j < k; j++) yc[s + j] = j == best ? 1.0f : 0.0f;
            }
            if (!soft) continue;
        }
        SBN_INTERLEAVE
        for (size_t i = 0; i < n; i++) t[i] = t[i] / tau;
        SBN_NAME(softmax_chunk)(t, work, n, k);
        if (soft) memcpy(soft + base, t, n * sizeof(float));
        if (!hard) memcpy(yc, t, n * sizeof(float));
    }
}

SBN_TARGET static void SBN_NAME(softmax_scaled)(const float *restrict a, float *restrict p, size_t groups, size_t k, float scale) {
#pragma clang fp contract(off)
    float work[SBN_CHUNK];
    SBN_FOR_CHUNKS(groups, k) {
        float *pc = p + base;
        const float *ac = a + base;
        SBN_INTERLEAVE
        for (size_t i = 0; i < n; i++) pc[i] = ac[i] * scale;
        SBN_NAME(softmax_chunk)(pc, work, n, k);
    }
}

SBN_TARGET static void SBN_NAME(hard_sigmoid_slope)(const float *restrict a, float *restrict d, size_t n, float slope) {
#pragma clang fp contract(off)
    float half = 0.5f * slope;
    SBN_INTERLEAVE
    for (size_t i = 0; i < n; i++) {
        float x = slope * a[i];
        d[i] = (x > -1.0f && x < 1.0f) ? half : 0.0f;
    }
}

SBN_TARGET static void SBN_NAME(softmax_backward)(const float *restrict gy, const float *restrict s, float *restrict ga,
                                                  size_t groups, size_t k, float scale) {
#pragma clang fp contract(off)
    float prod[SBN_CHUNK], work[SBN_CHUNK];
    SBN_FOR_CHUNKS(groups, k) {
        const float *gc = gy + base, *sc = s + base;
        float *out = ga + base;
        SBN_INTERLEAVE
        for (size_t i = 0; i < n; i++) prod[i] = sc[i] * gc[i];
        for (size_t st = 0; st < n; st += k) {
            float dot = 0.0f;
            for (size_t j = 0; j < k; j++) dot += prod[st + j];
            for (size_t j = 0; j < k; j++) work[st + j] = dot;
        }
        SBN_INTERLEAVE
        for (size_t i = 0; i < n; i++) out[i] = scale * sc[i] * (gc[i] - work[i]);
    }
}

SBN_TARGET static float SBN_NAME(sum8)(const float *restrict x, size_t n) {
#pragma clang fp contract(off)
    float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int k = 0; k < 8; k++) s[k] += x[i + k];
    }
    for (; i < n; i++) s[0] += x[i];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

// Σ_c softplus(a_c) − x_c a_c without a log per element: softplus(a) = max(a, 0) + log(1 + e^(−|a|)),
// and the log terms of a row are summed as the logs of 16 products Π (1 + e^(−|a|)) — element c
// goes to product c mod 16, each factor is in (1, 2], so a product of up to 64 factors cannot
// overflow; rows are cut into pieces of 16·64 elements. A last partial group of 16 is padded with
// a = −100, x = 0, which contributes a factor of exactly 1 and nothing to the linear part. The
// assignment of elements to products is fixed here, not by the vector width, so every
// instruction set gives the same bits.
SBN_TARGET static inline void SBN_NAME(nll_group)(const float *restrict a, const float *restrict x, float *restrict prod,
                                                  float *restrict lin) {
#pragma clang fp contract(off)
    for (int k = 0; k < 16; k++) {
        float ak = a[k];
        prod[k] *= 1.0f + sbn_exp(-__builtin_fabsf(ak));
        lin[k] += ((0.0f >= ak) ? 0.0f : ak) - x[k] * ak;
    }
}

SBN_TARGET static float SBN_NAME(nll_row_products)(const float *restrict a, const float *restrict x, size_t cols) {
#pragma clang fp contract(off)
    float total = 0.0f;
    for (size_t start = 0; start < cols; start += 16 * 64) {
        size_t end = start + 16 * 64 < cols ? start + 16 * 64 : cols;
        float prod[16], lin[16], logs[16];
        for (int k = 0; k < 16; k++) prod[k] = 1.0f, lin[k] = 0.0f;
        size_t c = start;
        for (; c + 16 <= end; c += 16) SBN_NAME(nll_group)(a + c, x + c, prod, lin);
        if (c < end) {
            float pa[16], px[16];
            for (int k = 0; k < 16; k++) pa[k] = c + k < end ? a[c + k] : -100.0f, px[k] = c + k < end ? x[c + k] : 0.0f;
            SBN_NAME(nll_group)(pa, px, prod, lin);
        }
        for (int k = 0; k < 16; k++) logs[k] = sbn_log(prod[k]) + lin[k];
        float piece = 0.0f;
        for (int k = 0; k < 16; k++) piece += logs[k];
        total += piece;
    }
    return total;
}

SBN_TARGET static void SBN_NAME(bernoulli_nll_rows)(const float *restrict logits, const float *restrict targets, size_t rows,
                                                    size_t cols, size_t target_repeat, float *restrict nll,
                                                    float *restrict gradient, float *restrict t) {
#pragma clang fp contract(off)
    for (size_t r = 0; r < rows; r++) {
        const float *restrict a = logits + r * cols;
        const float *restrict x = targets + (r / target_repeat) * cols;
        if (!gradient) {
            nll[r] = SBN_NAME(nll_row_products)(a, x, cols);
            continue;
        }
        SBN_INTERLEAVE
        for (size_t c = 0; c < cols; c++) t[c] = sbn_softplus(a[c]) - x[c] * a[c];
        nll[r] = SBN_NAME(sum8)(t, cols);
        if (gradient) {
            float *restrict g = gradient + r * cols;
            SBN_INTERLEAVE
            for (size_t c = 0; c < cols; c++) g[c] = sbn_sigmoid(a[c]) - x[c];
        }
    }
}

SBN_TARGET static int SBN_NAME(adam_update)(float *restrict m, float *restrict v, float *restrict g, float *restrict w,
                                            size_t n, float beta1, float beta2, float step_size, float eps_hat) {
#pragma clang fp contract(off)
    uint32_t bad = 0;
    SBN_INTERLEAVE
    for (size_t j = 0; j < n; j++) {
        float gj = g[j];
        bad |= sbn_not_finite(gj);
        float mj = beta1 * m[j] + (1.0f - beta1) * gj;
        float vj = beta2 * v[j] + (1.0f - beta2) * gj * gj;
        m[j] = mj;
        v[j] = vj;
        w[j] -= step_size * mj / (__builtin_elementwise_sqrt(vj) + eps_hat);
        g[j] = 0.0f;
    }
    return bad == 0;
}

SBN_TARGET static int SBN_NAME(sgd_momentum_update)(float *restrict v, float *restrict g, float *restrict w, size_t n,
                                                    float momentum, float learning_rate) {
#pragma clang fp contract(off)
    uint32_t bad = 0;
    SBN_INTERLEAVE
    for (size_t j = 0; j < n; j++) {
        float gj = g[j];
        bad |= sbn_not_finite(gj);
        float vj = momentum * v[j] + gj;
        v[j] = vj;
        w[j] -= learning_rate * vj;
        g[j] = 0.0f;
    }
    return bad == 0;
}

static const struct sbn_kernel_table SBN_NAME(table) = {
    SBN_NAME(uniform_fill), SBN_NAME(bernoulli_sample), SBN_NAME(binary_concrete), SBN_NAME(logistic_from_uniform), SBN_NAME(bernoulli_nll_rows), SBN_NAME(adam_update), SBN_NAME(sgd_momentum_update),
    SBN_NAME(gumbel_from_uniform), SBN_NAME(categorical_sample), SBN_NAME(gumbel_softmax), SBN_NAME(softmax_backward),
    SBN_NAME(softmax_scaled), SBN_NAME(hard_sigmoid_slope),
};

#undef SBN_INTERLEAVE
#undef SBN_FOR_CHUNKS
#undef SBN_CHUNK
#undef SBN_NAME
#undef SBN_CAT
#undef SBN_CAT2
