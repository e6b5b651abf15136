// Log-softmax statistics of logit rows: the numbers behind every exact
// log-probability and entropy. Plain loops that GCC and Clang vectorise
// (AVX-512, AVX2 or SSE2, chosen at run time by target_clones); exp is a
// Cephes-style polynomial so that no libm call blocks vectorisation.
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "shim.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define LF_CLONES __attribute__((target_clones("avx512f", "avx2,fma", "default")))
#else
#define LF_CLONES
#endif

// lf_expf returns e^x for x in [-87, 0] with a relative error below 2e-7
// (Cephes expf: x = n·ln2 + r, |r| ≤ ln2/2, degree-6 polynomial in r).
static inline float lf_expf(float x) {
    x = x < -87.0f ? -87.0f : x;
    // n = round(x / ln2) by the 1.5·2^23 trick: adding it leaves the
    // rounded integer in the low mantissa bits (needs no floor instruction).
    const float magic = 12582912.0f;
    float n = (x * 1.44269504088896341f + magic) - magic;
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

#define LF_LANES 16
#define LF_BLOCK 512 // a multiple of LF_LANES

// Sums e^(x-mx) and (x-mx)·e^(x-mx) over one block. Each of LF_LANES
// partial sums is a vector lane: without -ffast-math a compiler keeps a
// single float sum in order and cannot vectorise it.
LF_CLONES static void lf_block(const float *x, int n, float mx, float *s1, float *s2) {
    float a[LF_LANES] = {0}, b[LF_LANES] = {0};
    int i = 0;
    for (; i + LF_LANES <= n; i += LF_LANES) {
        for (int j = 0; j < LF_LANES; j++) {
            float d = x[i + j] - mx;
            float e = lf_expf(d);
            a[j] += e;
            b[j] += d * e;
        }
    }
    float sa = 0.0f, sb = 0.0f;
    for (; i < n; i++) {
        float d = x[i] - mx;
        float e = lf_expf(d);
        sa += e;
        sb += d * e;
    }
    for (int j = 0; j < LF_LANES; j++) {
        sa += a[j];
        sb += b[j];
    }
    *s1 = sa;
    *s2 = sb;
}

// lf_max returns the largest of n finite floats.
LF_CLONES static float lf_max(const float *x, int n) {
    float m[LF_LANES];
    for (int j = 0; j < LF_LANES; j++) {
        m[j] = x[0];
    }
    int i = 0;
    for (; i + LF_LANES <= n; i += LF_LANES) {
        for (int j = 0; j < LF_LANES; j++) {
            m[j] = x[i + j] > m[j] ? x[i + j] : m[j];
        }
    }
    float r = x[0];
    for (; i < n; i++) {
        r = x[i] > r ? x[i] : r;
    }
    for (int j = 0; j < LF_LANES; j++) {
        r = m[j] > r ? m[j] : r;
    }
    return r;
}

// lf_finite reports whether all n floats are finite (no NaN, no ±Inf),
// by their exponent bits, in vector lanes.
LF_CLONES static int lf_finite(const float *x, int n) {
    uint32_t bad = 0;
    for (int i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], sizeof u);
        bad |= ((u & 0x7f800000u) == 0x7f800000u);
    }
    return bad == 0;
}

int lf_row_stats(const float *logits, int n, lf_stats *out) {
    if (n <= 0) {
        return -1;
    }
    // A NaN or an infinity anywhere makes the row unusable: report it rather
    // than let it poison a log-probability.
    if (!lf_finite(logits, n)) {
        for (int i = 0; i < n; i++) {
            if (!isfinite(logits[i])) {
                return -1 - i;
            }
        }
    }
    float mx = lf_max(logits, n);
    int32_t arg = 0;
    for (int i = 0; i < n; i++) {
        if (logits[i] == mx) {
            arg = i;
            break;
        }
    }
    // Blocks keep each float lane's sum short; blocks add up in double.
    double s1 = 0.0, s2 = 0.0;
    for (int i = 0; i < n; i += LF_BLOCK) {
        float a, b;
        lf_block(logits + i, n - i < LF_BLOCK ? n - i : LF_BLOCK, mx, &a, &b);
        s1 += a;
        s2 += b;
    }
    // log Z = mx + log s1;  H = -Σ p log p = log s1 - s2/s1.
    out->log_z = (double)mx + log(s1);
    out->entropy = log(s1) - s2 / s1;
    out->argmax = arg;
    return 0;
}
