/* eltwise.h — elementwise float32 kernels: y = clamp (a + b, lo, hi) and
 * y = clamp (x, lo, hi). One function per instruction set.
 *
 * Results are exact and bit-identical across ISAs: an IEEE add followed by
 *   t = hi < v ? hi : v;   y = lo > t ? lo : t;
 * which is exactly what x86 MINPS/MAXPS compute with the bound as the first
 * operand. Consequences, the same on every ISA:
 *   - a NaN value stays NaN (it fails both comparisons), so a NaN produced by
 *     a bad layer stays visible instead of turning into a bound;
 *   - a NaN bound never wins, i.e. it means "no bound on that side";
 *   - -0.0 is not below lo = +0.0, so ReLU (-0.0) = -0.0.
 * y may be the same pointer as a, b or x (in-place); other overlaps are not
 * allowed.
 *
 * Sigmoid, y = 1 / (1 + exp (-x)), and SiLU, y = x * sigmoid (x) (the
 * activations fused into convolutions): the scalar reference calls expf;
 * AVX2 and up use a polynomial exp and differ by rounding (within 1e-6
 * relative, tested). NaN stays NaN. AVX-512 does the AVX2 version's
 * operations lane for lane (exp-avx2.h, exp-avx512.h), so the two give the
 * same bits (tested); SSE4.2 and NEON use the scalar version.
 *
 * Softmax of a row (the Softmax operator on its last axis): the reference
 * takes the maximum, stores expf (x - max) and sums it in order, then
 * divides. AVX2 and AVX-512 use the same polynomial exp, with lanes summed
 * apart (so differ by rounding, within 1e-5 relative of the largest value,
 * tested); an exponent below -87 gives 2^-126 rather than less, nothing
 * beside a sum of at least 1. A NaN anywhere, or an infinity (inf - inf),
 * makes the row NaN as in the reference.
 */
/* Hard sigmoid and hard swish (hard_gate_f32): g = alpha * x + beta, a
 * multiply then an add (no FMA), then g = g > 1 ? 1 : g and g = g < 0 ? 0 :
 * g (MINPS/MAXPS with the bound first, as the clamp above: a NaN stays NaN,
 * -0.0 stays -0.0), then x * g for hard swish: exact, so AVX2 and AVX-512
 * give the reference's bits. SSE4.2 and NEON use the scalar version.
 */
/* Binary arithmetic (binary_f32: Add, Sub, Mul, Div, one operand
 * possibly a single value): one IEEE operation per element, so every ISA
 * gives the reference's bits, NaN and signed zeros included. SSE4.2 and
 * NEON use the scalar version.
 */
#pragma once

#include "kk-internal.h"

/* The scalar clamp every kernel family uses for its fused clamp, so that the
 * reference semantics live in one place. */
static inline float
kk_clamp_f32_1 (float v, float lo, float hi)
{
  v = hi < v ? hi : v;
  return lo > v ? lo : v;
}

void kk_add_clamp_f32_scalar (const float *a, const float *b, float *y, size_t n, float lo, float hi);
void kk_clamp_f32_scalar (const float *x, float *y, size_t n, float lo, float hi);
void kk_sigmoid_f32_scalar (const float *x, float *y, size_t n);
void kk_silu_f32_scalar (const float *x, float *y, size_t n);
void kk_softmax_f32_scalar (const float *x, float *y, size_t n);
void kk_hard_gate_f32_scalar (const float *x, float *y, size_t n, float alpha, float beta, bool times_x);
void kk_binary_f32_scalar (kk_binary_op op, const float *a, size_t a_step, const float *b,
                           size_t b_step, float *y, size_t n);

#if KK_ARCH_X86
void kk_add_clamp_f32_sse42 (const float *a, const float *b, float *y, size_t n, float lo, float hi);
void kk_clamp_f32_sse42 (const float *x, float *y, size_t n, float lo, float hi);
void kk_add_clamp_f32_avx2 (const float *a, const float *b, float *y, size_t n, float lo, float hi);
void kk_clamp_f32_avx2 (const float *x, float *y, size_t n, float lo, float hi);
void kk_sigmoid_f32_avx2 (const float *x, float *y, size_t n);
void kk_silu_f32_avx2 (const float *x, float *y, size_t n);
void kk_softmax_f32_avx2 (const float *x, float *y, size_t n);
void kk_softmax_f32_avx512 (const float *x, float *y, size_t n);
void kk_sigmoid_f32_avx512 (const float *x, float *y, size_t n);
void kk_silu_f32_avx512 (const float *x, float *y, size_t n);
void kk_hard_gate_f32_avx2 (const float *x, float *y, size_t n, float alpha, float beta, bool times_x);
void kk_hard_gate_f32_avx512 (const float *x, float *y, size_t n, float alpha, float beta, bool times_x);
void kk_add_clamp_f32_avx512 (const float *a, const float *b, float *y, size_t n, float lo, float hi);
void kk_clamp_f32_avx512 (const float *x, float *y, size_t n, float lo, float hi);
void kk_binary_f32_avx2 (kk_binary_op op, const float *a, size_t a_step, const float *b,
                         size_t b_step, float *y, size_t n);
void kk_binary_f32_avx512 (kk_binary_op op, const float *a, size_t a_step, const float *b,
                           size_t b_step, float *y, size_t n);
#endif

#if KK_ARCH_ARM64
void kk_add_clamp_f32_neon (const float *a, const float *b, float *y, size_t n, float lo, float hi);
void kk_clamp_f32_neon (const float *x, float *y, size_t n, float lo, float hi);
#endif
