/* gemm-exact-avx2.c — gemm_f32_exact_avx2: the reference gemm's results
 * (gemm_f32_scalar) to the bit, 8 columns per vector.
 *
 * The design of gemm-exact-avx512.c at half the width: each result is the
 * reference's chain (a zero start, then in k order one multiply and one
 * add, each rounded: _mm256_mul_ps then _mm256_add_ps, never fused, as the
 * kernels are built with -ffp-contract=off), then + bias, + residual and
 * the clamp in that order, then the activation. A tile of up to 4 rows of
 * A by 16 columns keeps its 8 sums in registers, and one row of B (the
 * reference's plain [k][n], gemm_f32_pack_b_scalar) serves the tile's rows.
 *
 * A tile narrower than 16 columns (only the last one of a row) reads and
 * writes its columns with _mm256_maskload_ps / _mm256_maskstore_ps: lanes
 * past n are neither read nor written. Full tiles use plain loads and
 * stores (`masked` is a compile-time constant at each call).
 *
 * The clamp as the reference writes it, NaN included: (v < lo) ? lo : v is
 * max_ps (lo, v), (v > hi) ? hi : v is min_ps (hi, v). The activation
 * (expf) goes through the reference's own epilogue.
 *
 * For the float steps of INT8 and INT4 plans (kk_kernels_get_exact).
 */
#include <immintrin.h>

#include "gemm.h"

#define EXACT_ROWS 4
#define EXACT_COLUMNS 16

/* A sliding window over this gives the lane mask of the first r lanes,
 * r in 0..8. */
static const int32_t tail_table[16] = { -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0 };

static inline __m256i
first_lanes (size_t r)
{
  return _mm256_loadu_si256 ((const __m256i *) (tail_table + 8 - r));
}

static inline __attribute__ ((always_inline)) void
exact_tile (size_t rows, bool masked, size_t i0, size_t j0, size_t cols, size_t n, size_t k, const float *a,
            size_t lda, const float *b, float *c, size_t ldc, const kk_gemm_epilogue *e)
{
  const __m256i m0 = masked ? first_lanes (cols >= 8 ? 8 : cols) : _mm256_set1_epi32 (-1);
  const __m256i m1 = masked ? first_lanes (cols > 8 ? cols - 8 : 0) : _mm256_set1_epi32 (-1);
  /* A masked tile of at most 8 columns has no second vector at all. */
  const bool two = !masked || cols > 8;
  __m256 acc[EXACT_ROWS][2];

#define LOAD(ptr, m) (masked ? _mm256_maskload_ps ((ptr), (m)) : _mm256_loadu_ps (ptr))
  for (size_t r = 0; r < rows; r++)
    acc[r][0] = acc[r][1] = _mm256_setzero_ps ();
  if (two)
    for (size_t kk = 0; kk < k; kk++)
      {
        const float *brow = b + kk * n + j0;
        const __m256 b0 = LOAD (brow, m0);
        const __m256 b1 = LOAD (brow + 8, m1);
        for (size_t r = 0; r < rows; r++)
          {
            const __m256 av = _mm256_broadcast_ss (a + (i0 + r) * lda + kk);
            acc[r][0] = _mm256_add_ps (acc[r][0], _mm256_mul_ps (av, b0));
            acc[r][1] = _mm256_add_ps (acc[r][1], _mm256_mul_ps (av, b1));
          }
      }
  else
    for (size_t kk = 0; kk < k; kk++)
      {
        const __m256 b0 = LOAD (b + kk * n + j0, m0);
        for (size_t r = 0; r < rows; r++)
          {
            const __m256 av = _mm256_broadcast_ss (a + (i0 + r) * lda + kk);
            acc[r][0] = _mm256_add_ps (acc[r][0], _mm256_mul_ps (av, b0));
          }
      }

  for (size_t r = 0; r < rows; r++)
    {
      float *crow = c + (i0 + r) * ldc + j0;
      const float *rrow = e->residual != NULL ? e->residual + (i0 + r) * e->ldr + j0 : NULL;

      if (e->act != KK_GEMM_ACT_NONE)
        {
          float sums[EXACT_COLUMNS];
          _mm256_storeu_ps (sums, acc[r][0]);
          _mm256_storeu_ps (sums + 8, acc[r][1]);
          kk_gemm_scalar_epilogue_row (sums, cols, e->bias != NULL ? e->bias + j0 : NULL, rrow, e->lo, e->hi,
                                       e->act, crow);
          continue;
        }
      for (size_t h = 0; h < (two ? 2u : 1u); h++)
        {
          const __m256i m = h == 0 ? m0 : m1;
          __m256 v = acc[r][h];
          if (e->bias != NULL)
            v = _mm256_add_ps (v, LOAD (e->bias + j0 + 8 * h, m));
          if (rrow != NULL)
            v = _mm256_add_ps (v, LOAD (rrow + 8 * h, m));
          v = _mm256_max_ps (_mm256_set1_ps (e->lo), v);
          v = _mm256_min_ps (_mm256_set1_ps (e->hi), v);
          if (masked)
            _mm256_maskstore_ps (crow + 8 * h, m, v);
          else
            _mm256_storeu_ps (crow + 8 * h, v);
        }
    }
#undef LOAD
}

/* Constant row counts, so each tile's sums are registers. */
static inline __attribute__ ((always_inline)) void
exact_tiles (bool masked, size_t m_count, size_t j0, size_t cols, size_t n, size_t k, const float *a, size_t lda,
             const float *b, float *c, size_t ldc, const kk_gemm_epilogue *e)
{
  for (size_t i0 = 0; i0 < m_count; i0 += EXACT_ROWS)
    switch (m_count - i0 < EXACT_ROWS ? m_count - i0 : EXACT_ROWS)
      {
      case 4:
        exact_tile (4, masked, i0, j0, cols, n, k, a, lda, b, c, ldc, e);
        break;
      case 3:
        exact_tile (3, masked, i0, j0, cols, n, k, a, lda, b, c, ldc, e);
        break;
      case 2:
        exact_tile (2, masked, i0, j0, cols, n, k, a, lda, b, c, ldc, e);
        break;
      default:
        exact_tile (1, masked, i0, j0, cols, n, k, a, lda, b, c, ldc, e);
        break;
      }
}

void
gemm_f32_exact_avx2 (size_t m_count, size_t n, size_t k, const float *a, size_t lda, const float *packed_b,
                     float *c, size_t ldc, const kk_gemm_epilogue *epilogue)
{
  const kk_gemm_epilogue e = kk_gemm_epilogue_or_none (epilogue);

  for (size_t j0 = 0; j0 < n; j0 += EXACT_COLUMNS)
    {
      size_t cols = n - j0 < EXACT_COLUMNS ? n - j0 : EXACT_COLUMNS;
      if (cols == EXACT_COLUMNS)
        exact_tiles (false, m_count, j0, cols, n, k, a, lda, packed_b, c, ldc, &e);
      else
        exact_tiles (true, m_count, j0, cols, n, k, a, lda, packed_b, c, ldc, &e);
    }
}
