/* gemm-exact-neon.c — gemm_f32_exact_neon: the reference gemm's results
 * (gemm_f32_scalar) to the bit, 4 columns per q register.
 *
 * The design of gemm-exact-avx512.c at NEON's width: each result is the
 * reference's chain (a zero start, then in k order one multiply and one
 * add, each rounded: vmulq_f32 then vaddq_f32, never FMLA; the kernels are
 * built with -ffp-contract=off), then + bias, + residual and the clamp in
 * that order, then the activation. A tile of up to 4 rows of A by 16
 * columns keeps its 16 sums in registers, and one row of B (the
 * reference's plain [k][n], gemm_f32_pack_b_scalar) serves the tile's rows.
 * Columns past the last multiple of 16 go in tiles of 4, and the last
 * n % 4 in plain C with the same operations (NEON has no masked loads).
 *
 * The clamp as the reference writes it, NaN included: compare and select
 * ((v < lo) ? lo : v, then (v > hi) ? hi : v) rather than FMIN/FMAX, whose
 * NaN rules differ. The activation (expf) goes through the reference's own
 * epilogue.
 *
 * For the float steps of INT8 and INT4 plans (kk_kernels_get_exact).
 */
#include <arm_neon.h>

#include "gemm.h"

#define EXACT_ROWS 4
#define EXACT_VECTORS 4

/* Rows [i0, i0 + rows) by columns [j0, j0 + 4 * vecs). */
static inline __attribute__ ((always_inline)) void
exact_tile (size_t rows, size_t vecs, size_t i0, size_t j0, size_t n, size_t k, const float *a, size_t lda,
            const float *b, float *c, size_t ldc, const kk_gemm_epilogue *e)
{
  float32x4_t acc[EXACT_ROWS][EXACT_VECTORS];

  for (size_t r = 0; r < rows; r++)
    for (size_t v = 0; v < vecs; v++)
      acc[r][v] = vdupq_n_f32 (0.0f);
  for (size_t kk = 0; kk < k; kk++)
    {
      const float *brow = b + kk * n + j0;
      float32x4_t bv[EXACT_VECTORS];
      for (size_t v = 0; v < vecs; v++)
        bv[v] = vld1q_f32 (brow + 4 * v);
      for (size_t r = 0; r < rows; r++)
        {
          const float32x4_t av = vdupq_n_f32 (a[(i0 + r) * lda + kk]);
          for (size_t v = 0; v < vecs; v++)
            acc[r][v] = vaddq_f32 (acc[r][v], vmulq_f32 (av, bv[v]));
        }
    }

  const float32x4_t lo = vdupq_n_f32 (e->lo), hi = vdupq_n_f32 (e->hi);
  for (size_t r = 0; r < rows; r++)
    {
      float *crow = c + (i0 + r) * ldc + j0;
      const float *rrow = e->residual != NULL ? e->residual + (i0 + r) * e->ldr + j0 : NULL;

      if (e->act != KK_GEMM_ACT_NONE)
        {
          float sums[4 * EXACT_VECTORS];
          for (size_t v = 0; v < vecs; v++)
            vst1q_f32 (sums + 4 * v, acc[r][v]);
          kk_gemm_scalar_epilogue_row (sums, 4 * vecs, e->bias != NULL ? e->bias + j0 : NULL, rrow, e->lo,
                                       e->hi, e->act, crow);
          continue;
        }
      for (size_t v = 0; v < vecs; v++)
        {
          float32x4_t x = acc[r][v];
          if (e->bias != NULL)
            x = vaddq_f32 (x, vld1q_f32 (e->bias + j0 + 4 * v));
          if (rrow != NULL)
            x = vaddq_f32 (x, vld1q_f32 (rrow + 4 * v));
          x = vbslq_f32 (vcltq_f32 (x, lo), lo, x);
          x = vbslq_f32 (vcgtq_f32 (x, hi), hi, x);
          vst1q_f32 (crow + 4 * v, x);
        }
    }
}

/* Constant row and vector counts, so each tile's sums are registers. */
static inline __attribute__ ((always_inline)) void
exact_tiles (size_t vecs, size_t m_count, size_t j0, size_t n, size_t k, const float *a, size_t lda,
             const float *b, float *c, size_t ldc, const kk_gemm_epilogue *e)
{
  for (size_t i0 = 0; i0 < m_count; i0 += EXACT_ROWS)
    switch (m_count - i0 < EXACT_ROWS ? m_count - i0 : EXACT_ROWS)
      {
      case 4:
        exact_tile (4, vecs, i0, j0, n, k, a, lda, b, c, ldc, e);
        break;
      case 3:
        exact_tile (3, vecs, i0, j0, n, k, a, lda, b, c, ldc, e);
        break;
      case 2:
        exact_tile (2, vecs, i0, j0, n, k, a, lda, b, c, ldc, e);
        break;
      default:
        exact_tile (1, vecs, i0, j0, n, k, a, lda, b, c, ldc, e);
        break;
      }
}

void
gemm_f32_exact_neon (size_t m_count, size_t n, size_t k, const float *a, size_t lda, const float *packed_b,
                     float *c, size_t ldc, const kk_gemm_epilogue *epilogue)
{
  const kk_gemm_epilogue e = kk_gemm_epilogue_or_none (epilogue);
  size_t j0 = 0;

  for (; j0 + 4 * EXACT_VECTORS <= n; j0 += 4 * EXACT_VECTORS)
    exact_tiles (EXACT_VECTORS, m_count, j0, n, k, a, lda, packed_b, c, ldc, &e);
  for (; j0 + 4 <= n; j0 += 4)
    exact_tiles (1, m_count, j0, n, k, a, lda, packed_b, c, ldc, &e);
  if (j0 == n)
    return;

  /* The last n % 4 columns, one chain each as the reference. */
  const size_t cols = n - j0;
  for (size_t i = 0; i < m_count; i++)
    {
      float acc[3] = { 0.0f, 0.0f, 0.0f };
      for (size_t kk = 0; kk < k; kk++)
        {
          const float av = a[i * lda + kk];
          for (size_t j = 0; j < cols; j++)
            {
              float product = av * packed_b[kk * n + j0 + j];
              acc[j] = acc[j] + product;
            }
        }
      kk_gemm_scalar_epilogue_row (acc, cols, e.bias != NULL ? e.bias + j0 : NULL,
                                   e.residual != NULL ? e.residual + i * e.ldr + j0 : NULL, e.lo, e.hi, e.act,
                                   c + i * ldc + j0);
    }
}
