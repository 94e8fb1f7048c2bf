/* qgemm-s4-pack.c — packs INT4 weights into qgemm.h's INT4 layout for a
 * version's VL and G (every version shares this; compiled with the scalar
 * flags: packing runs once per plan). */
#include "qgemm.h"

#include <string.h>

size_t
kk_qgemm_s4_blocked_packed_size (size_t k, size_t n, size_t vl, size_t g)
{
  const size_t npad = kk_qgemm_round_up (n, vl), kpad = kk_qgemm_round_up (k, g);
  return npad * sizeof (int32_t) + 2 * kk_qgemm_s4_kblocks (kpad) * npad + (kpad * npad + 1) / 2;
}

void
kk_qgemm_s4_blocked_pack (const uint8_t *q, const uint8_t *m, const uint8_t *z, size_t k, size_t n,
                          bool q_is_nk, const int32_t *bias, uint8_t a_zero_point, int32_t a_offset,
                          void *packed, size_t vl, size_t g)
{
  const size_t npad = kk_qgemm_round_up (n, vl), kpad = kk_qgemm_round_up (k, g);
  const size_t kblocks = kk_qgemm_s4_kblocks (kpad), kblocks_in = kk_qgemm_s4_kblocks (k);
  const size_t nv = npad / vl;
  int32_t *bias_eff = packed;
  uint8_t *mp = (uint8_t *) (bias_eff + npad);
  uint8_t *zp = mp + kblocks * npad;
  uint8_t *nib = zp + kblocks * npad;

  for (size_t b = 0; b < kblocks; b++)
    for (size_t j = 0; j < npad; j++)
      {
        bool real = j < n && b < kblocks_in;
        mp[b * npad + j] = real ? m[j * kblocks_in + b] : 0;
        zp[b * npad + j] = real ? z[j * kblocks_in + b] : 0;
      }

  for (size_t j = 0; j < npad; j++)
    {
      int64_t sum = 0;
      if (j >= n)
        {
          bias_eff[j] = 0;
          continue;
        }
      for (size_t kk = 0; kk < k; kk++)
        {
          size_t b = kk / KK_QGEMM_S4_BLOCK;
          int qv = q_is_nk ? q[j * k + kk] : q[kk * n + j];
          sum += (int64_t) mp[b * npad + j] * (qv - zp[b * npad + j]);
        }
      /* Inside s32 for k and bias within the documented bounds. */
      bias_eff[j] = (int32_t) ((bias != NULL ? bias[j] : 0) - ((int64_t) a_zero_point - a_offset) * sum);
    }

  memset (nib, 0, (kpad * npad + 1) / 2);
  for (size_t v = 0; v < nv;)
    {
      size_t bv = kk_gemm_block_vectors (nv - v);
      size_t c0 = v * vl, width = bv * vl;
      size_t base = c0 * kpad;

      for (size_t grp = 0; grp < kpad / g; grp++)
        for (size_t x = 0; x < width; x++)
          for (size_t j = 0; j < g; j++)
            {
              size_t kk = grp * g + j, col = c0 + x;
              size_t p = base + grp * width * g + x * g + j;
              uint8_t value = 0;
              if (col < n && kk < k)
                value = q_is_nk ? q[col * k + kk] : q[kk * n + col];
              else if (col < n)
                value = zp[(kk / KK_QGEMM_S4_BLOCK) * npad + col];  /* widens to 0 */
              nib[p / 2] |= (uint8_t) ((value & 15) << (4 * (p & 1)));
            }
      v += bv;
    }
}
