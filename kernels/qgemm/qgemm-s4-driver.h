/* qgemm-s4-driver.h — the INT4-weight entry points of every SIMD qgemm
 * version, included at the end of qgemm-driver.h (so with the version's
 * flags, its VL, G and A_OFFSET, and its tiles).
 *
 * When the whole widened W fits the stack buffer, it is widened once per
 * call into the int8 layout and the int8 driver runs it. Otherwise, column
 * block by column block (the packer's blocks of 1, 2 or 3 vectors), the
 * nibbles are widened to the s8 panel of the int8 layout, m * (q - z), in
 * the buffer, and the int8 driver runs that block as a matrix of its own
 * (so there is one tile loop, qgemm_run's). The tiles then compute exactly what they
 * compute on an int8 W (kestrel-kernels.h: the result is defined as that),
 * so nothing here can differ between versions. The widening costs k x n
 * byte operations per call, against m x k x n multiply-adds: it is hidden
 * when a call has more than a few dozen rows (the plan's row chunks). Block
 * by block, the A strip is widened again per column block (a pass over
 * strip x k bytes), which the buffer's size makes the price of any k up to
 * KK_QGEMM_S4_MAX_K.
 */
#pragma once

/* Widens one column block (width w columns, its m and z at column 0 of
 * the block) into the int8 panel layout (qgemm.h). */
static void
qgemm_s4_widen_block (const uint8_t *nib, const uint8_t *m, const uint8_t *z, size_t npad,
                      size_t w, size_t kgroups, int8_t *dst)
{
  for (size_t grp = 0; grp < kgroups; grp++)
    {
      const size_t kb = grp * G / KK_QGEMM_S4_BLOCK;
      const uint8_t *mb = m + kb * npad, *zb = z + kb * npad;
      const uint8_t *src = nib + grp * w * G / 2;
      int8_t *d = dst + grp * w * G;

      /* Panel byte x * G + j is column x: in nibble byte (x * G + j) / 2. */
      for (size_t x = 0; x < w; x++)
        {
          const int32_t mx = mb[x], zx = zb[x];
#pragma GCC unroll 4
          for (size_t j = 0; j < G; j++)
            {
              const size_t p = x * G + j;
              const int32_t qv = (src[p / 2] >> (4 * (p & 1))) & 15;
              d[p] = (int8_t) (mx * (qv - zx));
            }
        }
    }
}

static void
qgemm_s4_run (size_t m_count, size_t n, size_t k, const uint8_t *a, size_t lda,
              const void *packed, void *c, size_t ldc, size_t c_elem, const kk_requant *rq)
{
  if (m_count == 0 || n == 0)
    return;

  const size_t nv_total = (n + VL - 1) / VL, npad = nv_total * VL;
  const size_t kpad = kk_qgemm_round_up (k, G), kblocks = kk_qgemm_s4_kblocks (kpad);
  const int32_t *bias_eff = packed;
  const uint8_t *mp = (const uint8_t *) (bias_eff + npad);
  const uint8_t *zp = mp + kblocks * npad;
  const uint8_t *nib = zp + kblocks * npad;
  /* Room for one widest column block in the int8 layout: its bias_eff,
   * then its panel. */
  _Alignas (64) int8_t panel[3 * VL * (sizeof (int32_t) + (KK_QGEMM_S4_MAX_K + G - 1) / G * G)];

  /* When every column's panel fits the buffer (BlazeFace's layers: k and n
   * up to a few hundred), the whole W is widened once, behind a copy of
   * bias_eff: that is the int8 layout itself, which qgemm_run sweeps as it
   * sweeps an int8 W (each strip of A widened once). */
  if (npad * (sizeof (int32_t) + kpad) <= sizeof panel)
    {
      memcpy (panel, bias_eff, npad * sizeof (int32_t));
      for (size_t v = 0; v < nv_total;)
        {
          const size_t bv = kk_gemm_block_vectors (nv_total - v), c0 = v * VL;
          qgemm_s4_widen_block (nib + c0 * kpad / 2, mp + c0, zp + c0, npad, bv * VL, kpad / G,
                                panel + npad * sizeof (int32_t) + c0 * kpad);
          v += bv;
        }
      qgemm_run (m_count, n, k, a, lda, panel, c, ldc, c_elem, rq);
      return;
    }

  /* Otherwise one column block (1, 2 or 3 vectors, as the packer laid
   * them out) at a time: widened behind its own bias_eff, it is the int8
   * layout of a matrix of that block's columns alone (which is one block
   * of the same width, kk_gemm_block_vectors), swept by qgemm_run with C
   * and the multipliers taken from the block's first column. */
  for (size_t v = 0; v < nv_total;)
    {
      const size_t bv = kk_gemm_block_vectors (nv_total - v), c0 = v * VL;
      const size_t cols = n - c0 < bv * VL ? n - c0 : bv * VL;
      kk_requant block_rq;

      memcpy (panel, bias_eff + c0, bv * VL * sizeof (int32_t));
      qgemm_s4_widen_block (nib + c0 * kpad / 2, mp + c0, zp + c0, npad, bv * VL, kpad / G,
                            panel + bv * VL * sizeof (int32_t));
      if (rq != NULL)
        {
          block_rq = *rq;
          block_rq.multiplier = rq->multiplier + c0;
        }
      qgemm_run (m_count, cols, k, a, lda, panel, (uint8_t *) c + c0 * c_elem, ldc, c_elem,
                 rq != NULL ? &block_rq : NULL);
      v += bv;
    }
}

size_t
QGEMM_FN (qgemm_u8s4_packed_size) (size_t k, size_t n)
{
  return kk_qgemm_s4_blocked_packed_size (k, n, VL, G);
}

void
QGEMM_FN (qgemm_u8s4_pack) (const uint8_t *q, const uint8_t *m, const uint8_t *z, size_t k,
                            size_t n, bool q_is_nk, const int32_t *bias, uint8_t a_zero_point,
                            void *packed)
{
  kk_qgemm_s4_blocked_pack (q, m, z, k, n, q_is_nk, bias, a_zero_point, A_OFFSET, packed, VL, G);
}

void
QGEMM_FN (qgemm_u8s4_requant) (size_t m_count, size_t n, size_t k, const uint8_t *a, size_t lda,
                               const void *packed, uint8_t *c, size_t ldc, const kk_requant *rq)
{
  qgemm_s4_run (m_count, n, k, a, lda, packed, c, ldc, sizeof (uint8_t), rq);
}

void
QGEMM_FN (qgemm_u8s4_s32) (size_t m_count, size_t n, size_t k, const uint8_t *a, size_t lda,
                           const void *packed, int32_t *c, size_t ldc)
{
  qgemm_s4_run (m_count, n, k, a, lda, packed, c, ldc, sizeof (int32_t), NULL);
}
