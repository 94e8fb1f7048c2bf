/* resize-neon.c — bilinear u8 micro-kernels for aarch64 Advanced SIMD (see
 * resize.h for the arithmetic they must reproduce bit for bit). Built only
 * on aarch64. */
#include "resize.h"

#include <arm_neon.h>
#include <string.h>

void
kk_resize_vpass_u8s16__neon (const uint8_t *s0, const uint8_t *s1, int16_t *v, size_t n,
                             uint32_t fy)
{
  size_t i = 0;

  if (fy == 0)
    {
      /* Exactly on a source row: v = s0 << 7. */
      for (; i + 16 <= n; i += 16)
        {
          const uint8x16_t a = vld1q_u8 (s0 + i);
          vst1q_s16 (v + i, vreinterpretq_s16_u16 (vshll_n_u8 (vget_low_u8 (a), 7)));
          vst1q_s16 (v + i + 8, vreinterpretq_s16_u16 (vshll_n_u8 (vget_high_u8 (a), 7)));
        }
    }
  else
    {
      /* vqrdmulh (a, b) = (2ab + 2^15) >> 16 = (ab + 2^14) >> 15: pmulhrsw.
       * It saturates only for -32768 * -32768, and b = fy << 4 >= 0. */
      const int16x8_t f = vdupq_n_s16 ((int16_t) (fy << 4));
      for (; i + 16 <= n; i += 16)
        {
          const uint8x16_t a = vld1q_u8 (s0 + i);
          const uint8x16_t b = vld1q_u8 (s1 + i);
          const int16x8_t a_lo = vreinterpretq_s16_u16 (vshll_n_u8 (vget_low_u8 (a), 7));
          const int16x8_t a_hi = vreinterpretq_s16_u16 (vshll_n_u8 (vget_high_u8 (a), 7));
          const int16x8_t b_lo = vreinterpretq_s16_u16 (vshll_n_u8 (vget_low_u8 (b), 7));
          const int16x8_t b_hi = vreinterpretq_s16_u16 (vshll_n_u8 (vget_high_u8 (b), 7));
          vst1q_s16 (v + i, vaddq_s16 (a_lo, vqrdmulhq_s16 (vsubq_s16 (b_lo, a_lo), f)));
          vst1q_s16 (v + i + 8, vaddq_s16 (a_hi, vqrdmulhq_s16 (vsubq_s16 (b_hi, a_hi), f)));
        }
    }
  /* The tail must not read past the row, so it goes a byte at a time. */
  for (; i < n; i++)
    v[i] = kk_resize_vblend (s0[i], s1[i], fy);
}

static inline int32_t
load_pair_c1 (const int16_t *v, int32_t o)
{
  int32_t x;
  memcpy (&x, v + o, sizeof x);
  return x;
}

/* Four one-channel pixels: each (v[x0], v[x0 + 1]) word times its weight
 * word (2048 - fx, fx), lane by lane, then pairwise sums and (d + 2^17) >> 18
 * (vrshr rounds exactly that way). */
static inline int16x4_t
hpass4_c1 (const int16_t *v, const int32_t *ofs, const uint32_t *w)
{
  int32x4_t p = vdupq_n_s32 (load_pair_c1 (v, ofs[0]));
  p = vsetq_lane_s32 (load_pair_c1 (v, ofs[1]), p, 1);
  p = vsetq_lane_s32 (load_pair_c1 (v, ofs[2]), p, 2);
  p = vsetq_lane_s32 (load_pair_c1 (v, ofs[3]), p, 3);
  const int16x8_t q = vreinterpretq_s16_s32 (p);
  const int16x8_t wq = vreinterpretq_s16_u32 (vld1q_u32 (w));
  const int32x4_t lo = vmull_s16 (vget_low_s16 (q), vget_low_s16 (wq));
  const int32x4_t hi = vmull_s16 (vget_high_s16 (q), vget_high_s16 (wq));
  return vmovn_s32 (vrshrq_n_s32 (vpaddq_s32 (lo, hi), 18));
}

void
kk_resize_hpass_s16u8c1__neon (const int16_t *v, const int32_t *ofs, const uint32_t *w,
                               uint8_t *dst, size_t n)
{
  size_t i = 0;

  for (; i + 8 <= n; i += 8)
    {
      const int16x8_t d = vcombine_s16 (hpass4_c1 (v, ofs + i, w + i), hpass4_c1 (v, ofs + i + 4, w + i + 4));
      vst1_u8 (dst + i, vqmovun_s16 (d));
    }
  for (; i < n; i++)
    dst[i] = kk_resize_hblend (v[ofs[i]], v[ofs[i] + 1], w[i]);
}

/* One pixel of 3 or 4 channels from the 8 int16 at its pair start:
 * v0 = lanes 0..3, v1 = lanes c..c+3. For 3 channels lane 3 is junk (a
 * bounded dot product, no overflow) that the caller drops. */
static inline int16x4_t
hpass1 (const int16_t *p, uint32_t w, int c)
{
  const int16x8_t q = vld1q_s16 (p);
  const int16x4_t v1 = c == 4 ? vget_high_s16 (q) : vget_low_s16 (vextq_s16 (q, q, 3));
  int32x4_t d = vmull_n_s16 (vget_low_s16 (q), (int16_t) (w & 0xffff));
  d = vmlal_n_s16 (d, v1, (int16_t) (w >> 16));
  return vmovn_s32 (vrshrq_n_s32 (d, 18));
}

/* Four pixels, 4 bytes each, pixel k in bytes 4k..4k+3. */
static inline uint8x16_t
hpass4 (const int16_t *v, const int32_t *ofs, const uint32_t *w, int c)
{
  const int16x8_t d01 = vcombine_s16 (hpass1 (v + ofs[0], w[0], c), hpass1 (v + ofs[1], w[1], c));
  const int16x8_t d23 = vcombine_s16 (hpass1 (v + ofs[2], w[2], c), hpass1 (v + ofs[3], w[3], c));
  return vcombine_u8 (vqmovun_s16 (d01), vqmovun_s16 (d23));
}

void
kk_resize_hpass_s16u8c3__neon (const int16_t *v, const int32_t *ofs, const uint32_t *w,
                               uint8_t *dst, size_t n)
{
  static const uint8_t squeeze_idx[16] = { 0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 255, 255, 255, 255 };
  const uint8x16_t squeeze = vld1q_u8 (squeeze_idx);
  size_t i = 0;

  for (; i + 4 <= n; i += 4)
    {
      const uint8x16_t b = vqtbl1q_u8 (hpass4 (v, ofs + i, w + i, 3), squeeze);
      const uint32_t last = vgetq_lane_u32 (vreinterpretq_u32_u8 (b), 2);
      vst1_u8 (dst + 3 * i, vget_low_u8 (b));
      memcpy (dst + 3 * i + 8, &last, 4);
    }
  for (; i < n; i++)
    {
      const int16_t *p = v + ofs[i];
      for (size_t k = 0; k < 3; k++)
        dst[3 * i + k] = kk_resize_hblend (p[k], p[3 + k], w[i]);
    }
}

void
kk_resize_hpass_s16u8c4__neon (const int16_t *v, const int32_t *ofs, const uint32_t *w,
                               uint8_t *dst, size_t n)
{
  size_t i = 0;

  for (; i + 4 <= n; i += 4)
    vst1q_u8 (dst + 4 * i, hpass4 (v, ofs + i, w + i, 4));
  for (; i < n; i++)
    {
      const int16_t *p = v + ofs[i];
      for (size_t k = 0; k < 4; k++)
        dst[4 * i + k] = kk_resize_hblend (p[k], p[4 + k], w[i]);
    }
}

KK_RESIZE_DEFINE_ENTRY (neon, kk_resize_vpass_u8s16__neon, kk_resize_hpass_s16u8c1__neon,
                        kk_resize_hpass_s16u8c3__neon, kk_resize_hpass_s16u8c4__neon)
