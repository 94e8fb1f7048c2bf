/* threshold-neon.c — threshold with aarch64 Advanced SIMD (64 bytes a step).
 * vcgtq_u8 gives all-ones lanes where x > thresh; and-ing keeps maxval. */
#include "threshold.h"

#include <arm_neon.h>

void
kk_threshold_u8__neon (const uint8_t *src, uint8_t *dst, size_t n, uint8_t thresh, uint8_t maxval)
{
  const uint8x16_t t = vdupq_n_u8 (thresh);
  const uint8x16_t maxv = vdupq_n_u8 (maxval);
  size_t i = 0;

  for (; i + 64 <= n; i += 64)
    {
      uint8x16_t x0 = vld1q_u8 (src + i);
      uint8x16_t x1 = vld1q_u8 (src + i + 16);
      uint8x16_t x2 = vld1q_u8 (src + i + 32);
      uint8x16_t x3 = vld1q_u8 (src + i + 48);
      vst1q_u8 (dst + i, vandq_u8 (vcgtq_u8 (x0, t), maxv));
      vst1q_u8 (dst + i + 16, vandq_u8 (vcgtq_u8 (x1, t), maxv));
      vst1q_u8 (dst + i + 32, vandq_u8 (vcgtq_u8 (x2, t), maxv));
      vst1q_u8 (dst + i + 48, vandq_u8 (vcgtq_u8 (x3, t), maxv));
    }
  for (; i + 16 <= n; i += 16)
    vst1q_u8 (dst + i, vandq_u8 (vcgtq_u8 (vld1q_u8 (src + i), t), maxv));
  for (; i < n; i++)
    dst[i] = src[i] > thresh ? maxval : 0;
}
