// The kernel bodies, included once per instruction set by kernels.c with SBN_SUFFIX (a name
// suffix) and SBN_TARGET (a function attribute) defined. Not a public header.
#define SBN_CAT2(a, b) a##b
#define SBN_CAT(a, b) SBN_CAT2(a, b)
#define SBN_NAME(name) SBN_CAT(name, SBN_SUFFIX)

SBN_TARGET static void SBN_NAME(logistic_from_uniform)(float *restrict x, size_t n) {
#pragma clang fp contract(off)
    for (size_t i = 0; i < n; i++) x[i] = sbn_log(x[i]) - sbn_log(1.0f - x[i]);
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

SBN_TARGET static void SBN_NAME(bernoulli_nll_rows)(const float *restrict logits, const float *restrict targets, size_t rows,
                                                    size_t cols, size_t target_repeat, float *restrict nll,
                                                    float *restrict gradient, float *restrict t) {
#pragma clang fp contract(off)
    for (size_t r = 0; r < rows; r++) {
        const float *restrict a = logits + r * cols;
        const float *restrict x = targets + (r / target_repeat) * cols;
        for (size_t c = 0; c < cols; c++) t[c] = sbn_softplus(a[c]) - x[c] * a[c];
        nll[r] = SBN_NAME(sum8)(t, cols);
        if (gradient) {
            float *restrict g = gradient + r * cols;
            for (size_t c = 0; c < cols; c++) g[c] = sbn_sigmoid(a[c]) - x[c];
        }
    }
}

SBN_TARGET static void SBN_NAME(adam_update)(float *restrict m, float *restrict v, const float *restrict g, float *restrict w,
                                             size_t n, float beta1, float beta2, float step_size, float eps_hat) {
#pragma clang fp contract(off)
    for (size_t j = 0; j < n; j++) {
        float mj = beta1 * m[j] + (1.0f - beta1) * g[j];
        float vj = beta2 * v[j] + (1.0f - beta2) * g[j] * g[j];
        m[j] = mj;
        v[j] = vj;
        w[j] -= step_size * mj / (__builtin_elementwise_sqrt(vj) + eps_hat);
    }
}

SBN_TARGET static void SBN_NAME(sgd_momentum_update)(float *restrict v, const float *restrict g, float *restrict w, size_t n,
                                                     float momentum, float learning_rate) {
#pragma clang fp contract(off)
    for (size_t j = 0; j < n; j++) {
        float vj = momentum * v[j] + g[j];
        v[j] = vj;
        w[j] -= learning_rate * vj;
    }
}

static const struct sbn_kernel_table SBN_NAME(table) = {
    SBN_NAME(logistic_from_uniform), SBN_NAME(bernoulli_nll_rows), SBN_NAME(adam_update), SBN_NAME(sgd_momentum_update),
};

#undef SBN_NAME
#undef SBN_CAT
#undef SBN_CAT2
