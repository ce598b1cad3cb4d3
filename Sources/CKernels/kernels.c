// Run-time dispatch of the kernels in kernels_body.h to the widest instruction set the CPU has.
#include "CKernels.h"

// SplitMix64 (Steele, Lea & Flood 2014), to expand one seed into generator states.
static inline uint64_t sbn_splitmix64(uint64_t *z) {
    uint64_t r = (*z += 0x9E3779B97F4A7C15ull);
    r = (r ^ (r >> 30)) * 0xBF58476D1CE4E5B9ull;
    r = (r ^ (r >> 27)) * 0x94D049BB133111EBull;
    return r ^ (r >> 31);
}

struct sbn_kernel_table {
    void (*uniform_fill)(float *, size_t, uint64_t);
    void (*bernoulli_sample)(const float *, const float *, float *, float *, size_t, int);
    void (*binary_concrete)(const float *, const float *, float *, float *, size_t, float, int);
    void (*logistic_from_uniform)(float *, size_t);
    void (*bernoulli_nll_rows)(const float *, const float *, size_t, size_t, size_t, float *, float *, float *);
    int (*adam_update)(float *, float *, float *, float *, size_t, float, float, float, float);
    int (*sgd_momentum_update)(float *, float *, float *, size_t, float, float);
    void (*gumbel_from_uniform)(float *, size_t);
    void (*categorical_sample)(const float *, const float *, float *, float *, size_t, size_t, int);
    void (*gumbel_softmax)(const float *, const float *, float *, float *, size_t, size_t, float, int);
    void (*softmax_backward)(const float *, const float *, float *, size_t, size_t, float);
    void (*softmax_scaled)(const float *, float *, size_t, size_t, float);
    void (*hard_sigmoid_slope)(const float *, float *, size_t, float);
};

#define SBN_SUFFIX _portable
#define SBN_TARGET
#include "kernels_body.h"
#undef SBN_SUFFIX
#undef SBN_TARGET

#if defined(__x86_64__)
#define SBN_SUFFIX _avx2
#define SBN_TARGET __attribute__((target("avx2")))
#include "kernels_body.h"
#undef SBN_SUFFIX
#undef SBN_TARGET

#define SBN_SUFFIX _avx512
#define SBN_TARGET __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))
#include "kernels_body.h"
#undef SBN_SUFFIX
#undef SBN_TARGET

static const struct sbn_kernel_table *const tables[] = {&table_portable, &table_avx2, &table_avx512};
#else
static const struct sbn_kernel_table *const tables[] = {&table_portable};
#endif

static int max_level = -1;
static const struct sbn_kernel_table *active = &table_portable;
static int active_level = 0;

int sbn_kernels_max_level(void) {
    if (max_level < 0) {
#if defined(__x86_64__)
        __builtin_cpu_init();
        max_level = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                            __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")
                        ? 2
                        : __builtin_cpu_supports("avx2") ? 1 : 0;
#else
        max_level = 0;
#endif
    }
    return max_level;
}

int sbn_kernels_set_level(int level) {
    int top = sbn_kernels_max_level();
    active_level = level < 0 ? 0 : (level > top ? top : level);
    active = tables[active_level];
    return active_level;
}

// The widest level is chosen when the library loads, before any thread can call a kernel.
__attribute__((constructor)) static void sbn_kernels_init(void) { sbn_kernels_set_level(sbn_kernels_max_level()); }

int sbn_kernels_level(void) { return active_level; }

const char *sbn_kernels_level_name(int level) {
    static const char *const names[] = {"portable", "avx2", "avx512"};
    return level >= 0 && level <= 2 ? names[level] : "?";
}

void sbn_uniform_fill(float *x, size_t n, uint64_t seed) { active->uniform_fill(x, n, seed); }

void sbn_bernoulli_sample(const float *a, const float *u, float *z, float *local, size_t n, int straight_through) {
    active->bernoulli_sample(a, u, z, local, n, straight_through);
}

void sbn_binary_concrete(const float *a, const float *l, float *y, float *dy, size_t n, float tau, int hard) {
    active->binary_concrete(a, l, y, dy, n, tau, hard);
}

void sbn_logistic_from_uniform(float *x, size_t n) { active->logistic_from_uniform(x, n); }

void sbn_bernoulli_nll_rows(const float *logits, const float *targets, size_t rows, size_t cols, size_t target_repeat,
                            float *nll, float *gradient, float *scratch) {
    active->bernoulli_nll_rows(logits, targets, rows, cols, target_repeat, nll, gradient, scratch);
}

int sbn_adam_update(float *m, float *v, float *g, float *w, size_t n, float beta1, float beta2, float step_size,
                    float eps_hat) {
    return active->adam_update(m, v, g, w, n, beta1, beta2, step_size, eps_hat);
}

int sbn_sgd_momentum_update(float *v, float *g, float *w, size_t n, float momentum, float learning_rate) {
    return active->sgd_momentum_update(v, g, w, n, momentum, learning_rate);
}

void sbn_gumbel_from_uniform(float *x, size_t n) { active->gumbel_from_uniform(x, n); }

void sbn_categorical_sample(const float *a, const float *u, float *z, float *local, size_t groups, size_t k,
                            int straight_through) {
    active->categorical_sample(a, u, z, local, groups, k, straight_through);
}

void sbn_gumbel_softmax(const float *a, const float *gumbel, float *y, float *soft, size_t groups, size_t k, float tau,
                        int hard) {
    active->gumbel_softmax(a, gumbel, y, soft, groups, k, tau, hard);
}

void sbn_softmax_backward(const float *gy, const float *s, float *ga, size_t groups, size_t k, float scale) {
    active->softmax_backward(gy, s, ga, groups, k, scale);
}

void sbn_softmax_scaled(const float *a, float *p, size_t groups, size_t k, float scale) {
    active->softmax_scaled(a, p, groups, k, scale);
}

void sbn_hard_sigmoid_slope(const float *a, float *d, size_t n, float slope) { active->hard_sigmoid_slope(a, d, n, slope); }
