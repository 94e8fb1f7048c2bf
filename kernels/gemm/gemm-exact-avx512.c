/* gemm-exact-avx512.c — gemm_f32_exact_avx512: the reference gemm's
 * results (gemm_f32_scalar) to the bit, 16 columns per vector.
 *
 * Each result is the reference's chain: a zero start, then in k order one
 * multiply and one add, each rounded (_mm512_mul_ps then _mm512_add_ps;
 * kernels are built with -ffp-contract=off, so they are never fused), then
 * + bias, + residual and the clamp in that order, then the activation.
 * Only the loops differ: a tile of up to 4 rows of A by 32 columns keeps
 * its sums in registers, and one row of B (the reference's plain [k][n],
 * gemm_f32_pack_b_scalar) serves the tile's rows.
 *
 * The clamp as the reference writes it, NaN included: (v < lo) ? lo : v is
 * max_ps (lo, v), (v > hi) ? hi : v is min_ps (hi, v) (each returns its
 * second operand when the comparison is false or unordered). The
 * activation (expf) goes through the reference's own epilogue.
 *
 * For the float steps of INT8 and INT4 plans (kk_kernels_get_exact).
 */
#include <immintrin.h>

#include "gemm.h"

#define EXACT_ROWS 4
#define EXACT_COLUMNS 32

static inline __attribute__ ((always_inline)) void
exact_tile (size_t rows, size_t i0, size_t j0, size_t cols, size_t n, size_t k, const float *a, size_t lda,
            const float *b, float *c, size_t ldc, const kk_gemm_epilogue *e)
{
  const float *bias = e->bias, *residual = e->residual;
  const size_t ldr = e->ldr;
  const float lo = e->lo, hi = e->hi;
  const kk_gemm_act act = e->act;
  const __mmask16 m0 = cols >= 16 ? 0xffff : (__mmask16) ((1u << cols) - 1);
  const __mmask16 m1 = cols >= 32 ? 0xffff : cols > 16 ? (__mmask16) ((1u << (cols - 16)) - 1) : 0;
  __m512 acc[EXACT_ROWS][2];

  for (size_t r = 0; r < rows; r++)
    acc[r][0] = acc[r][1] = _mm512_setzero_ps ();
  for (size_t kk = 0; kk < k; kk++)
    {
      const float *brow = b + kk * n + j0;
      const __m512 b0 = _mm512_maskz_loadu_ps (m0, brow);
      const __m512 b1 = _mm512_maskz_loadu_ps (m1, brow + 16);
      for (size_t r = 0; r < rows; r++)
        {
          const __m512 av = _mm512_set1_ps (a[(i0 + r) * lda + kk]);
          acc[r][0] = _mm512_add_ps (acc[r][0], _mm512_mul_ps (av, b0));
          acc[r][1] = _mm512_add_ps (acc[r][1], _mm512_mul_ps (av, b1));
        }
    }

  for (size_t r = 0; r < rows; r++)
    {
      float *crow = c + (i0 + r) * ldc + j0;
      const float *rrow = residual != NULL ? residual + (i0 + r) * ldr + j0 : NULL;

      if (act != KK_GEMM_ACT_NONE)
        {
          float sums[EXACT_COLUMNS];
          _mm512_storeu_ps (sums, acc[r][0]);
          _mm512_storeu_ps (sums + 16, acc[r][1]);
          kk_gemm_scalar_epilogue_row (sums, cols, bias != NULL ? bias + j0 : NULL, rrow, lo, hi, act, crow);
          continue;
        }
      for (size_t h = 0; h < 2; h++)
        {
          const __mmask16 m = h == 0 ? m0 : m1;
          __m512 v = acc[r][h];
          if (m == 0)
            break;
          if (bias != NULL)
            v = _mm512_add_ps (v, _mm512_maskz_loadu_ps (m, bias + j0 + 16 * h));
          if (rrow != NULL)
            v = _mm512_add_ps (v, _mm512_maskz_loadu_ps (m, rrow + 16 * h));
          v = _mm512_max_ps (_mm512_set1_ps (lo), v);
          v = _mm512_min_ps (_mm512_set1_ps (hi), v);
          _mm512_mask_storeu_ps (crow + 16 * h, m, v);
        }
    }
}

void
gemm_f32_exact_avx512 (size_t m_count, size_t n, size_t k, const float *a, size_t lda, const float *packed_b,
                       float *c, size_t ldc, const kk_gemm_epilogue *epilogue)
{
  const kk_gemm_epilogue e = kk_gemm_epilogue_or_none (epilogue);

  for (size_t i0 = 0; i0 < m_count; i0 += EXACT_ROWS)
    for (size_t j0 = 0; j0 < n; j0 += EXACT_COLUMNS)
      {
        size_t cols = n - j0 < EXACT_COLUMNS ? n - j0 : EXACT_COLUMNS;
        /* Constant row counts, so each tile's sums are registers. */
        switch (m_count - i0 < EXACT_ROWS ? m_count - i0 : EXACT_ROWS)
          {
          case 4:
            exact_tile (4, i0, j0, cols, n, k, a, lda, packed_b, c, ldc, &e);
            break;
          case 3:
            exact_tile (3, i0, j0, cols, n, k, a, lda, packed_b, c, ldc, &e);
            break;
          case 2:
            exact_tile (2, i0, j0, cols, n, k, a, lda, packed_b, c, ldc, &e);
            break;
          default:
            exact_tile (1, i0, j0, cols, n, k, a, lda, packed_b, c, ldc, &e);
            break;
          }
      }
}
