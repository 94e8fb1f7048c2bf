/* qgemm-scalar-rows.h — the row and column loops the two scalar reference
 * gemms (int8 weights: qgemm-scalar.c; int4: qgemm-s4-scalar.c) share.
 * They differ only in how one row's sums over a block of columns are made
 * (how a weight is read), which each passes in as row_sums; taking a row a
 * block of columns at a time keeps the running sums in a small stack array,
 * and the requantising version rounds each block as soon as it is summed.
 * Static inline so that each caller's row_sums is inlined into its loop. */
#ifndef KK_QGEMM_SCALAR_ROWS_H
#define KK_QGEMM_SCALAR_ROWS_H

#include "qgemm.h"

/* Columns per pass: one row's running sums live in a stack array this long. */
#define KK_QGEMM_SCALAR_COLUMNS 64

/* The sums of row a_row for columns [j0, j0 + cols), cols <= KK_QGEMM_SCALAR_COLUMNS. */
typedef void (*kk_qgemm_scalar_row_sums) (size_t n, size_t k, const uint8_t *a_row,
                                          const void *packed, size_t j0, size_t cols,
                                          int32_t *out);

static inline void
kk_qgemm_scalar_requant_rows (kk_qgemm_scalar_row_sums row_sums, size_t m_count, size_t n,
                              size_t k, const uint8_t *a, size_t lda, const void *packed,
                              uint8_t *c, size_t ldc, const kk_requant *rq)
{
  int32_t acc[KK_QGEMM_SCALAR_COLUMNS];

  for (size_t i = 0; i < m_count; i++)
    for (size_t j0 = 0; j0 < n; j0 += KK_QGEMM_SCALAR_COLUMNS)
      {
        size_t cols = n - j0 < KK_QGEMM_SCALAR_COLUMNS ? n - j0 : KK_QGEMM_SCALAR_COLUMNS;
        row_sums (n, k, a + i * lda, packed, j0, cols, acc);
        for (size_t j = 0; j < cols; j++)
          c[i * ldc + j0 + j] = kk_requant_one (acc[j], rq->multiplier[j0 + j], rq->shift,
                                                rq->zero_point, rq->lo, rq->hi);
      }
}

static inline void
kk_qgemm_scalar_s32_rows (kk_qgemm_scalar_row_sums row_sums, size_t m_count, size_t n,
                          size_t k, const uint8_t *a, size_t lda, const void *packed,
                          int32_t *c, size_t ldc)
{
  for (size_t i = 0; i < m_count; i++)
    for (size_t j0 = 0; j0 < n; j0 += KK_QGEMM_SCALAR_COLUMNS)
      {
        size_t cols = n - j0 < KK_QGEMM_SCALAR_COLUMNS ? n - j0 : KK_QGEMM_SCALAR_COLUMNS;
        row_sums (n, k, a + i * lda, packed, j0, cols, c + i * ldc + j0);
      }
}

#endif
