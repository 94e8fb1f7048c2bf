/* gemm.h — single-precision gemm with pre-packed B and a fused epilogue.
 *
 * One set of three functions per instruction set (see kk_kernels.gemm_f32*
 * in kestrel-kernels.h for the contract). Each ISA packs B in its own layout,
 * so a packed B is only valid for the table that packed it.
 *
 * Packed layout of the SIMD versions. With VL floats per vector and
 * nv = ceil (n / VL) vectors across a row of B, the columns are split into
 * blocks of whole vectors (kk_gemm_block_vectors). Block j covers columns
 * [c0, c0 + w), w = VL * vectors, and is stored k-major at packed + c0 * k:
 *
 *   packed[c0 * k + kk * w + x] = B[kk][c0 + x]   (0 when c0 + x >= n)
 *
 * so the micro-kernel reads w consecutive floats per k step, and columns
 * past n are zeros (they are computed and never stored). The scalar
 * reference keeps B as plain [k][n] row-major.
 *
 * Why blocks of 2 vectors, with a final block of 3 when the count is odd:
 * each block width has a row count MR chosen so that MR x vectors = 12
 * accumulators (AVX2: 6x16 or 4x24, a single 12x8 when n <= 8), which keeps
 * both FMA pipes busy past the FMA latency while leaving registers for the B
 * vectors and the broadcast. BlazeFace widths such as 24 (3 vectors) then
 * run as one 4x24 block instead of a full 16-block plus a half-empty one.
 */
#pragma once

#include <math.h>

#include "kk-internal.h"
#include "eltwise/eltwise.h"

/* How many vectors the next column block takes, when `left` vectors remain
 * (left >= 1): 2, except a lone vector stays 1 and an odd tail of 3 stays
 * together rather than leaving a single-vector block behind. */
static inline size_t
kk_gemm_block_vectors (size_t left)
{
  if (left == 1 || left == 3)
    return left;
  return 2;
}

/* Packed size and packing for the blocked layout above, shared by the SIMD
 * versions (they differ only in VL). */
size_t kk_gemm_blocked_packed_size (size_t k, size_t n, size_t vl);
void kk_gemm_blocked_pack_b (const float *b, size_t k, size_t n, bool b_is_nk,
                             float *packed, size_t vl);

/* Column blocks of one L2-sized group: the SIMD drivers sweep all rows of A
 * over a group of column blocks before moving to the next, so the group's
 * packed B (k x group width floats) stays in L2 however large n is. */
#define KK_GEMM_L2_GROUP_BYTES ((size_t) 192 * 1024)

/* An epilogue as the kernels read it: a NULL epilogue is one with no bias,
 * no residual, no bounds and no activation. */
static inline kk_gemm_epilogue
kk_gemm_epilogue_or_none (const kk_gemm_epilogue *epilogue)
{
  if (epilogue != NULL)
    return *epilogue;
  return (kk_gemm_epilogue) { .bias = NULL, .residual = NULL, .ldr = 0, .lo = -INFINITY, .hi = INFINITY,
                              .act = KK_GEMM_ACT_NONE };
}

/* The reference epilogue of one row of cols results (both scalar
 * references): + bias, + residual (read before the store: it may be C
 * itself), clamp. A NaN sum stays NaN (both comparisons are false), so an
 * infinite bound is the same as no bound and SIMD versions may skip it. */
static inline void
kk_gemm_scalar_epilogue_row (const float *acc, size_t cols, const float *bias, const float *residual,
                             float lo, float hi, kk_gemm_act act, float *c)
{
  for (size_t j = 0; j < cols; j++)
    {
      float v = acc[j];
      if (bias != NULL)
        v = v + bias[j];
      if (residual != NULL)
        v = v + residual[j];
      if (v < lo)
        v = lo;
      if (v > hi)
        v = hi;
      /* As kk_sigmoid_f32_scalar and kk_silu_f32_scalar, to the bit. */
      if (act == KK_GEMM_ACT_SIGMOID)
        v = 1.0f / (1.0f + expf (-v));
      else if (act == KK_GEMM_ACT_SILU)
        v = v * (1.0f / (1.0f + expf (-v)));
      c[j] = v;
    }
}

/* The epilogue's act over m rows of n results of C, in place, with the
 * eltwise family's kernels of the caller's ISA: the versions that do not
 * apply it in registers call this at the end, while C's rows are still in
 * cache (ConvNhwc hands the gemm a few dozen rows at a time). */
typedef void (*kk_gemm_act_fn) (const float *x, float *y, size_t n);

static inline void
kk_gemm_act_rows (kk_gemm_act act, float *c, size_t ldc, size_t m, size_t n,
                  kk_gemm_act_fn sigmoid, kk_gemm_act_fn silu)
{
  kk_gemm_act_fn fn = act == KK_GEMM_ACT_SIGMOID ? sigmoid : act == KK_GEMM_ACT_SILU ? silu : NULL;

  if (fn == NULL)
    return;
  for (size_t i = 0; i < m; i++)
    fn (c + i * ldc, c + i * ldc, n);
}

/* Scalar reference: B as plain [k][n]. */
size_t gemm_f32_packed_size_scalar (size_t k, size_t n);
void gemm_f32_pack_b_scalar (const float *b, size_t k, size_t n, bool b_is_nk, float *packed);
void gemm_f32_scalar (size_t m_count, size_t n, size_t k, const float *a, size_t lda,
                      const float *packed_b, float *c, size_t ldc, const kk_gemm_epilogue *epilogue);

/* FP16 weights (gemm-f16-*.c): B stored as IEEE half in the same layouts
 * (plain [k][n] for the reference, the blocked layout above per ISA), the
 * arithmetic defined exactly as the FP32 reference's, so every ISA gives
 * the same bits (see gemm-f16-driver.h). */
void kk_gemm_blocked_pack_b_f16 (const float *b, size_t k, size_t n, bool b_is_nk,
                                 uint16_t *packed, size_t vl);
#define KK_GEMM_F16_DECLARE(isa)                                                                   \
  size_t gemm_f16_packed_size_##isa (size_t k, size_t n);                                          \
  void gemm_f16_pack_b_##isa (const float *b, size_t k, size_t n, bool b_is_nk, uint16_t *packed); \
  void gemm_f16_##isa (size_t m_count, size_t n, size_t k, const float *a, size_t lda,             \
                       const uint16_t *packed_b, float *c, size_t ldc,                             \
                       const kk_gemm_epilogue *epilogue);
KK_GEMM_F16_DECLARE (scalar)
#if KK_ARCH_X86
KK_GEMM_F16_DECLARE (avx2)
KK_GEMM_F16_DECLARE (avx512)
#endif
#if KK_ARCH_ARM64
KK_GEMM_F16_DECLARE (neon)
#endif

#if KK_ARCH_X86
/* SSE4.2: 4 floats per vector, no FMA (multiply then add, as the reference). */
size_t gemm_f32_packed_size_sse42 (size_t k, size_t n);
void gemm_f32_pack_b_sse42 (const float *b, size_t k, size_t n, bool b_is_nk, float *packed);
void gemm_f32_sse42 (size_t m_count, size_t n, size_t k, const float *a, size_t lda,
                     const float *packed_b, float *c, size_t ldc, const kk_gemm_epilogue *epilogue);

/* AVX2 + FMA: 8 floats per vector. */
size_t gemm_f32_packed_size_avx2 (size_t k, size_t n);
void gemm_f32_pack_b_avx2 (const float *b, size_t k, size_t n, bool b_is_nk, float *packed);
void gemm_f32_avx2 (size_t m_count, size_t n, size_t k, const float *a, size_t lda,
                    const float *packed_b, float *c, size_t ldc, const kk_gemm_epilogue *epilogue);

/* The reference's results to the bit, B as the reference packs it
 * (gemm-exact-avx2.c, gemm-exact-avx512.c). */
void gemm_f32_exact_avx2 (size_t m_count, size_t n, size_t k, const float *a, size_t lda,
                          const float *packed_b, float *c, size_t ldc, const kk_gemm_epilogue *epilogue);
void gemm_f32_exact_avx512 (size_t m_count, size_t n, size_t k, const float *a, size_t lda,
                            const float *packed_b, float *c, size_t ldc, const kk_gemm_epilogue *epilogue);

/* AVX-512F: 16 floats per vector, masked edges. */
size_t gemm_f32_packed_size_avx512 (size_t k, size_t n);
void gemm_f32_pack_b_avx512 (const float *b, size_t k, size_t n, bool b_is_nk, float *packed);
void gemm_f32_avx512 (size_t m_count, size_t n, size_t k, const float *a, size_t lda,
                      const float *packed_b, float *c, size_t ldc, const kk_gemm_epilogue *epilogue);
#endif

#if KK_ARCH_ARM64
/* NEON: 4 floats per vector, FMA. */
size_t gemm_f32_packed_size_neon (size_t k, size_t n);
void gemm_f32_pack_b_neon (const float *b, size_t k, size_t n, bool b_is_nk, float *packed);
void gemm_f32_neon (size_t m_count, size_t n, size_t k, const float *a, size_t lda,
                    const float *packed_b, float *c, size_t ldc, const kk_gemm_epilogue *epilogue);

/* The reference's results to the bit, B as the reference packs it
 * (gemm-exact-neon.c). */
void gemm_f32_exact_neon (size_t m_count, size_t n, size_t k, const float *a, size_t lda,
                          const float *packed_b, float *c, size_t ldc, const kk_gemm_epilogue *epilogue);
#endif
