/* gemm-scalar.c — the reference gemm: the test oracle and the rollback path.
 *
 * Plain loops, written to be obviously right rather than fast: each result
 * is accumulated in k order with one multiply and one add per step (the
 * build disables FMA contraction), then bias, then residual, then the clamp,
 * then the activation.
 * The loops run i, k, j so that the compiler can vectorise the inner loop
 * with the baseline instruction set without changing a single rounding.
 * B is kept as plain [k][n] row-major so the packing is a copy (or a
 * transpose for [n][k] weights).
 */
#include "gemm.h"

size_t
gemm_f32_packed_size_scalar (size_t k, size_t n)
{
  return k * n;
}

void
gemm_f32_pack_b_scalar (const float *b, size_t k, size_t n, bool b_is_nk, float *packed)
{
  for (size_t kk = 0; kk < k; kk++)
    for (size_t j = 0; j < n; j++)
      packed[kk * n + j] = b_is_nk ? b[j * k + kk] : b[kk * n + j];
}

/* Columns per pass: the running sums of one row live in a small stack array
 * (no heap, and C itself cannot hold them because the residual may be C). */
#define COLUMN_CHUNK 64

void
gemm_f32_scalar (size_t m_count, size_t n, size_t k, const float *a, size_t lda,
                 const float *packed_b, float *c, size_t ldc, const kk_gemm_epilogue *epilogue)
{
  const kk_gemm_epilogue e = kk_gemm_epilogue_or_none (epilogue);

  for (size_t i = 0; i < m_count; i++)
    for (size_t j0 = 0; j0 < n; j0 += COLUMN_CHUNK)
      {
        size_t cols = n - j0 < COLUMN_CHUNK ? n - j0 : COLUMN_CHUNK;
        float acc[COLUMN_CHUNK];

        /* k outermost walks B row by row instead of down its columns; each
         * acc[j] still receives its products in k order, one multiply and
         * one add at a time, so the result is the same as the textbook
         * i-j-k loop, bit for bit. */
        for (size_t j = 0; j < cols; j++)
          acc[j] = 0.0f;
        for (size_t kk = 0; kk < k; kk++)
          {
            const float av = a[i * lda + kk];
            const float *brow = packed_b + kk * n + j0;
            for (size_t j = 0; j < cols; j++)
              {
                float product = av * brow[j];
                acc[j] = acc[j] + product;
              }
          }

        kk_gemm_scalar_epilogue_row (acc, cols, e.bias != NULL ? e.bias + j0 : NULL,
                                     e.residual != NULL ? e.residual + i * e.ldr + j0 : NULL, e.lo,
                                     e.hi, e.act, c + i * ldc + j0);
      }
}
