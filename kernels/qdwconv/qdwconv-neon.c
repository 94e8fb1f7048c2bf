/* qdwconv-neon.c — int8 depthwise convolution, 8 channels per block:
 * smlal of the centred input by the widened weight straight into two
 * int32x4 (qdwconv.h); requantisation as in qgemm-neon.c. */
#include "qdwconv.h"

#include <arm_neon.h>

static inline int32x4_t
requant4 (int32x4_t acc, const int32_t *mult, const kk_requant *rq)
{
  const int32x4_t m = vld1q_s32 (mult);
  const int64x2_t neg = vdupq_n_s64 (-(int64_t) rq->shift);
  int64x2_t p0 = vrshlq_s64 (vmull_s32 (vget_low_s32 (acc), vget_low_s32 (m)), neg);
  int64x2_t p1 = vrshlq_s64 (vmull_high_s32 (acc, m), neg);
  int32x4_t x = vaddq_s32 (vcombine_s32 (vmovn_s64 (p0), vmovn_s64 (p1)), vdupq_n_s32 (rq->zero_point));
  return vminq_s32 (vmaxq_s32 (x, vdupq_n_s32 (rq->lo)), vdupq_n_s32 (rq->hi));
}

static inline void
block8 (const kk_qdwconv_params *p, const kk_qdwconv_taps *t, size_t c, uint8_t *o)
{
  const int16x8_t zi = vdupq_n_s16 ((int16_t) p->input_zero_point);
  int32x4_t acc0 = vdupq_n_s32 (0), acc1 = vdupq_n_s32 (0);

  if (p->bias != NULL)
    {
      acc0 = vld1q_s32 (p->bias + c);
      acc1 = vld1q_s32 (p->bias + c + 4);
    }
  for (size_t i = 0; i < t->ny; i++)
    {
      const uint8_t *x = t->x + i * t->x_row + c;
      const int8_t *w = t->w + i * t->w_row + c;
      for (size_t j = 0; j < t->nx; j++, x += t->C, w += t->C)
        {
          int16x8_t xv = vsubq_s16 (vreinterpretq_s16_u16 (vmovl_u8 (vld1_u8 (x))), zi);
          int16x8_t wv = vmovl_s8 (vld1_s8 (w));
          acc0 = vmlal_s16 (acc0, vget_low_s16 (xv), vget_low_s16 (wv));
          acc1 = vmlal_high_s16 (acc1, xv, wv);
        }
    }
  int32x4_t r0 = requant4 (acc0, p->requant.multiplier + c, &p->requant);
  int32x4_t r1 = requant4 (acc1, p->requant.multiplier + c + 4, &p->requant);
  vst1_u8 (o + c, vqmovun_s16 (vcombine_s16 (vmovn_s32 (r0), vmovn_s32 (r1))));
}

KK_QDWCONV_PIXEL_BLOCKS (pixel, 8, block8)

void
kk_qdwconv_u8_nhwc_neon (const kk_qdwconv_params *p, const uint8_t *in, uint8_t *out,
                         size_t row_begin, size_t row_end)
{
  KK_QDWCONV_FOR_EACH_PIXEL (p, in, out, row_begin, row_end, pixel);
}
