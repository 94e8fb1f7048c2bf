/* qgemm-s4-scalar.c — the reference INT4-weight gemm: the test oracle and
 * the rollback path. qgemm.h's INT4 layout with G = 1 and one vector as wide
 * as the matrix (VL = n): the nibbles are plain [k][n]. Each weight is
 * widened on its own (m * (q - z)) and multiplied as the int8 reference
 * does; the sum wraps in u32 and is the exact s32 result (qgemm.h,
 * Exactness), so it needs no shared code with the SIMD versions, which
 * widen whole column blocks and run the int8 tiles. Its row and column
 * loops are the int8 reference's (qgemm-scalar-rows.h). */
#include "qgemm-scalar-rows.h"

size_t
qgemm_u8s4_packed_size_scalar (size_t k, size_t n)
{
  return kk_qgemm_s4_blocked_packed_size (k, n, n > 0 ? n : 1, 1);
}

void
qgemm_u8s4_pack_scalar (const uint8_t *q, const uint8_t *m, const uint8_t *z, size_t k, size_t n,
                        bool q_is_nk, const int32_t *bias, uint8_t a_zero_point, void *packed)
{
  kk_qgemm_s4_blocked_pack (q, m, z, k, n, q_is_nk, bias, a_zero_point, 0, packed, n > 0 ? n : 1, 1);
}

/* acc for one row, columns [j0, j0 + cols) */
static void
row_sums (size_t n, size_t k, const uint8_t *a_row, const void *packed, size_t j0, size_t cols,
          int32_t *out)
{
  const int32_t *bias_eff = packed;
  const uint8_t *mp = (const uint8_t *) (bias_eff + n);
  const uint8_t *zp = mp + kk_qgemm_s4_kblocks (k) * n;
  const uint8_t *nib = zp + kk_qgemm_s4_kblocks (k) * n;
  uint32_t acc[KK_QGEMM_SCALAR_COLUMNS];

  for (size_t j = 0; j < cols; j++)
    acc[j] = (uint32_t) bias_eff[j0 + j];
  for (size_t kk = 0; kk < k; kk++)
    {
      const int32_t av = a_row[kk];
      const size_t b = kk / KK_QGEMM_S4_BLOCK;
      for (size_t j = 0; j < cols; j++)
        {
          size_t col = j0 + j, p = kk * n + col;
          int32_t qv = (nib[p / 2] >> (4 * (p & 1))) & 15;
          int32_t w = (int32_t) mp[b * n + col] * (qv - (int32_t) zp[b * n + col]);
          acc[j] += (uint32_t) (av * w);
        }
    }
  for (size_t j = 0; j < cols; j++)
    out[j] = (int32_t) acc[j];
}

void
qgemm_u8s4_requant_scalar (size_t m_count, size_t n, size_t k, const uint8_t *a, size_t lda,
                           const void *packed, uint8_t *c, size_t ldc, const kk_requant *rq)
{
  kk_qgemm_scalar_requant_rows (row_sums, m_count, n, k, a, lda, packed, c, ldc, rq);
}

void
qgemm_u8s4_s32_scalar (size_t m_count, size_t n, size_t k, const uint8_t *a, size_t lda,
                       const void *packed, int32_t *c, size_t ldc)
{
  kk_qgemm_scalar_s32_rows (row_sums, m_count, n, k, a, lda, packed, c, ldc);
}
