/* gemm-f16-scalar.c — the reference gemm with FP16 weights: the oracle the
 * SIMD versions must match bit for bit, and the FP16 rollback path.
 *
 * The order is the FP32 reference's (gemm-scalar.c): per result, a sum that
 * starts at +0 and takes a[k] * b[k] in k order, then + bias, + residual,
 * clamp; but each step is one fused multiply-add, fmaf (one rounding),
 * because that is what the SIMD versions' FMA instructions compute, and
 * separate multiplies and adds would cost them a third more instructions.
 * Widening B from half to float is exact. The SIMD versions do the same
 * operations on the same values in the same order per result, so
 * "bit-exact" is a definition here, not a tolerance (gemm-f16-driver.h).
 * fmaf is libm's, correctly rounded on every CPU (glibc uses the FMA
 * instruction where there is one): slower than a multiply and an add here,
 * which only the scalar level and the canary's oracle pay.
 *
 * B is plain [k][n] halves. Widening a half in portable C costs more than
 * the multiply-add it feeds, so a block of B (COLUMN_CHUNK columns by up to
 * K_CHUNK rows) is widened once into a stack buffer and used by every row of
 * A when k fits one chunk, the common case; a deeper k widens per row.
 */
#include "gemm.h"

#include "convert/convert.h"

#define COLUMN_CHUNK 64
#define K_CHUNK 128

size_t
gemm_f16_packed_size_scalar (size_t k, size_t n)
{
  return k * n;
}

void
gemm_f16_pack_b_scalar (const float *b, size_t k, size_t n, bool b_is_nk, uint16_t *packed)
{
  for (size_t kk = 0; kk < k; kk++)
    for (size_t j = 0; j < n; j++)
      packed[kk * n + j] = kk_f32_to_f16_one (b_is_nk ? b[j * k + kk] : b[kk * n + j]);
}

/* Rows [k0, k0 + rows) of columns [j0, j0 + cols) of B, widened to
 * dst[kk][cols]. */
static void
widen_block (const uint16_t *packed_b, size_t n, size_t k0, size_t rows, size_t j0, size_t cols,
             float *dst)
{
  for (size_t kk = 0; kk < rows; kk++)
    for (size_t j = 0; j < cols; j++)
      dst[kk * cols + j] = kk_f16_to_f32_one (packed_b[(k0 + kk) * n + j0 + j]);
}

void
gemm_f16_scalar (size_t m_count, size_t n, size_t k, const float *a, size_t lda,
                 const uint16_t *packed_b, float *c, size_t ldc, const kk_gemm_epilogue *epilogue)
{
  const kk_gemm_epilogue e = kk_gemm_epilogue_or_none (epilogue);
  float wide[K_CHUNK * COLUMN_CHUNK];

  for (size_t j0 = 0; j0 < n; j0 += COLUMN_CHUNK)
    {
      size_t cols = n - j0 < COLUMN_CHUNK ? n - j0 : COLUMN_CHUNK;
      const bool one_chunk = k <= K_CHUNK;

      if (one_chunk)
        widen_block (packed_b, n, 0, k, j0, cols, wide);
      for (size_t i = 0; i < m_count; i++)
        {
          float acc[COLUMN_CHUNK];

          for (size_t j = 0; j < cols; j++)
            acc[j] = 0.0f;
          for (size_t k0 = 0; k0 < k; k0 += K_CHUNK)
            {
              size_t rows = k - k0 < K_CHUNK ? k - k0 : K_CHUNK;
              if (!one_chunk)
                widen_block (packed_b, n, k0, rows, j0, cols, wide);
              for (size_t kk = 0; kk < rows; kk++)
                {
                  const float av = a[i * lda + k0 + kk];
                  const float *brow = wide + kk * cols;
                  for (size_t j = 0; j < cols; j++)
                    acc[j] = fmaf (av, brow[j], acc[j]);
                }
            }

          kk_gemm_scalar_epilogue_row (acc, cols, e.bias != NULL ? e.bias + j0 : NULL,
                                       e.residual != NULL ? e.residual + i * e.ldr + j0 : NULL, e.lo,
                                       e.hi, KK_GEMM_ACT_NONE, c + i * ldc + j0);
        }
    }
}
