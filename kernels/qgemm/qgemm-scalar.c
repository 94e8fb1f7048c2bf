/* qgemm-scalar.c — the reference int8 gemm: the test oracle and the
 * rollback path. W stays plain [k][n] behind bias_eff (qgemm.h's layout
 * with G = 1 and a single vector as wide as the matrix, VL = n). Accumulation is in s64 and the result narrowed at the
 * end: the same value as any s32 order of the sum (qgemm.h, Exactness), and
 * no signed overflow in C. */
#include "qgemm-scalar-rows.h"

size_t
qgemm_u8s8_packed_size_scalar (size_t k, size_t n)
{
  return kk_qgemm_blocked_packed_size (k, n, n > 0 ? n : 1, 1);
}

void
qgemm_u8s8_pack_scalar (const int8_t *w, size_t k, size_t n, bool w_is_nk,
                        const int32_t *bias, uint8_t a_zero_point, void *packed)
{
  kk_qgemm_blocked_pack (w, k, n, w_is_nk, bias, a_zero_point, 0, packed, n > 0 ? n : 1, 1);
}

/* acc for row i, columns [j0, j0 + cols) */
static void
row_sums (size_t n, size_t k, const uint8_t *a_row, const void *packed, size_t j0, size_t cols,
          int32_t *out)
{
  const int32_t *bias_eff = packed;
  const int8_t *w = (const int8_t *) packed + n * sizeof (int32_t);
  uint32_t acc[KK_QGEMM_SCALAR_COLUMNS];

  for (size_t j = 0; j < cols; j++)
    acc[j] = (uint32_t) bias_eff[j0 + j];
  for (size_t kk = 0; kk < k; kk++)
    {
      const int32_t av = a_row[kk];
      const int8_t *wrow = w + kk * n + j0;
      for (size_t j = 0; j < cols; j++)
        acc[j] += (uint32_t) (av * wrow[j]);
    }
  for (size_t j = 0; j < cols; j++)
    out[j] = (int32_t) acc[j];
}

void
qgemm_u8s8_requant_scalar (size_t m_count, size_t n, size_t k, const uint8_t *a, size_t lda,
                           const void *packed, uint8_t *c, size_t ldc, const kk_requant *rq)
{
  kk_qgemm_scalar_requant_rows (row_sums, m_count, n, k, a, lda, packed, c, ldc, rq);
}

void
qgemm_u8s8_s32_scalar (size_t m_count, size_t n, size_t k, const uint8_t *a, size_t lda,
                       const void *packed, int32_t *c, size_t ldc)
{
  kk_qgemm_scalar_s32_rows (row_sums, m_count, n, k, a, lda, packed, c, ldc);
}
