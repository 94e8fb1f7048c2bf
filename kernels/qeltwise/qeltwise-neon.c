/* qeltwise-neon.c — requantising add and rescale, 8 elements per step as
 * two int32x4 (see qeltwise.h). vshlq_s32 by -shift is the arithmetic
 * (floor) right shift of kk_qadd_one. */
#include "qeltwise.h"

#include <arm_neon.h>

static inline int16x8_t
centred (const uint8_t *p, int16_t zero_point)
{
  return vsubq_s16 (vreinterpretq_s16_u16 (vmovl_u8 (vld1_u8 (p))), vdupq_n_s16 (zero_point));
}

static inline uint8x8_t
finish (int32x4_t t0, int32x4_t t1, const kk_qadd_params *p)
{
  const int32x4_t rnd = vdupq_n_s32 ((int32_t) (1u << (p->shift - 1)));
  const int32x4_t neg = vdupq_n_s32 (-(int32_t) p->shift);
  const int32x4_t zp = vdupq_n_s32 (p->zero_point);
  const int32x4_t lo = vdupq_n_s32 (p->lo), hi = vdupq_n_s32 (p->hi);
  t0 = vminq_s32 (vmaxq_s32 (vaddq_s32 (vshlq_s32 (vaddq_s32 (t0, rnd), neg), zp), lo), hi);
  t1 = vminq_s32 (vmaxq_s32 (vaddq_s32 (vshlq_s32 (vaddq_s32 (t1, rnd), neg), zp), lo), hi);
  return vqmovun_s16 (vcombine_s16 (vmovn_s32 (t0), vmovn_s32 (t1)));  /* 0..255: exact */
}

void
kk_qadd_u8_neon (const uint8_t *a, const uint8_t *b, uint8_t *y, size_t n, const kk_qadd_params *p)
{
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    {
      const int16x8_t xa = centred (a + i, (int16_t) p->zero_point_a);
      const int16x8_t xb = centred (b + i, (int16_t) p->zero_point_b);
      int32x4_t t0 = vmulq_n_s32 (vmovl_s16 (vget_low_s16 (xa)), p->multiplier_a);
      int32x4_t t1 = vmulq_n_s32 (vmovl_high_s16 (xa), p->multiplier_a);
      t0 = vmlaq_n_s32 (t0, vmovl_s16 (vget_low_s16 (xb)), p->multiplier_b);
      t1 = vmlaq_n_s32 (t1, vmovl_high_s16 (xb), p->multiplier_b);
      vst1_u8 (y + i, finish (t0, t1, p));
    }
  kk_qadd_u8_tail (a + i, b + i, y + i, n - i, p);
}

void
kk_qrescale_u8_neon (const uint8_t *x, uint8_t *y, size_t n, const kk_qadd_params *p)
{
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    {
      const int16x8_t xa = centred (x + i, (int16_t) p->zero_point_a);
      int32x4_t t0 = vmulq_n_s32 (vmovl_s16 (vget_low_s16 (xa)), p->multiplier_a);
      int32x4_t t1 = vmulq_n_s32 (vmovl_high_s16 (xa), p->multiplier_a);
      vst1_u8 (y + i, finish (t0, t1, p));
    }
  kk_qrescale_u8_tail (x + i, y + i, n - i, p);
}
