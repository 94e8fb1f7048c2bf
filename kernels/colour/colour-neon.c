/* colour-neon.c — gray conversions with aarch64 Advanced SIMD (16 pixels a
 * step).
 *
 * vld3/vld4 deinterleave the channels for free. The weights exceed a byte,
 * so channels are widened to 16 bits and multiplied into 32-bit sums;
 * vrshrn by 15 is exactly (sum + 16384) >> 15, the reference rounding.
 */
#include "colour.h"

#include <arm_neon.h>

static inline uint16x8_t
luma_x8 (uint16x8_t r, uint16x8_t g, uint16x8_t b)
{
  uint32x4_t lo = vmull_n_u16 (vget_low_u16 (r), (uint16_t) KK_LUMA_R);
  lo = vmlal_n_u16 (lo, vget_low_u16 (g), (uint16_t) KK_LUMA_G);
  lo = vmlal_n_u16 (lo, vget_low_u16 (b), (uint16_t) KK_LUMA_B);
  uint32x4_t hi = vmull_high_n_u16 (r, (uint16_t) KK_LUMA_R);
  hi = vmlal_high_n_u16 (hi, g, (uint16_t) KK_LUMA_G);
  hi = vmlal_high_n_u16 (hi, b, (uint16_t) KK_LUMA_B);
  return vrshrn_high_n_u32 (vrshrn_n_u32 (lo, KK_LUMA_SHIFT), hi, KK_LUMA_SHIFT);
}

static inline uint8x16_t
luma_x16 (uint8x16_t r, uint8x16_t g, uint8x16_t b)
{
  uint16x8_t lo = luma_x8 (vmovl_u8 (vget_low_u8 (r)), vmovl_u8 (vget_low_u8 (g)), vmovl_u8 (vget_low_u8 (b)));
  uint16x8_t hi = luma_x8 (vmovl_high_u8 (r), vmovl_high_u8 (g), vmovl_high_u8 (b));
  /* every luma is <= 255, so plain narrowing loses nothing */
  return vmovn_high_u16 (vmovn_u16 (lo), hi);
}

void
kk_gray_from_rgb8__neon (const uint8_t *src, uint8_t *dst, size_t n)
{
  size_t i = 0;

  for (; i + 16 <= n; i += 16)
    {
      uint8x16x3_t px = vld3q_u8 (src + 3 * i);
      vst1q_u8 (dst + i, luma_x16 (px.val[0], px.val[1], px.val[2]));
    }
  for (; i < n; i++)
    dst[i] = kk_luma_u8 (src[3 * i], src[3 * i + 1], src[3 * i + 2]);
}

void
kk_gray_from_rgba8__neon (const uint8_t *src, uint8_t *dst, size_t n)
{
  size_t i = 0;

  for (; i + 16 <= n; i += 16)
    {
      uint8x16x4_t px = vld4q_u8 (src + 4 * i);
      vst1q_u8 (dst + i, luma_x16 (px.val[0], px.val[1], px.val[2]));
    }
  for (; i < n; i++)
    dst[i] = kk_luma_u8 (src[4 * i], src[4 * i + 1], src[4 * i + 2]);
}

void
kk_gray_from_bgra8__neon (const uint8_t *src, uint8_t *dst, size_t n)
{
  size_t i = 0;

  for (; i + 16 <= n; i += 16)
    {
      uint8x16x4_t px = vld4q_u8 (src + 4 * i);
      vst1q_u8 (dst + i, luma_x16 (px.val[2], px.val[1], px.val[0]));
    }
  for (; i < n; i++)
    dst[i] = kk_luma_u8 (src[4 * i + 2], src[4 * i + 1], src[4 * i]);
}
