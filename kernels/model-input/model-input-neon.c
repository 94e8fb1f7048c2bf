/* model-input-neon.c — one output pixel per Q register, 4 per group.
 *
 * As on x86: a pixel's taps are two 8-byte loads (top pair, bottom pair);
 * tbl with the shared control bytes (out-of-range indices giving 0) spreads
 * x0 and x1 of R, G, B into uint16 pairs, and a widening multiply by the
 * column's fixed-point weights followed by a pairwise add does what x86's
 * pmaddwd does: the horizontal blend in exact int32, the reference's
 * integer arithmetic. Two FMAs do the vertical blend, scale and offset. A
 * group of 4 pixels is transposed into R, G, B vectors, which suits both
 * layouts: vst3q writes 4 NHWC pixels interleaved, exactly 12 floats, and
 * NCHW is three plain stores.
 */
#include "model-input.h"

#include <arm_neon.h>

#define GROUP 4

/* Horizontal blend of one row's pair at ofs: R, G, B, 0 as exact floats. */
static inline float32x4_t
row_pair (const uint8_t *row, uint32_t ofs, uint8x16_t ctl, int16x8_t w)
{
  const uint8x16_t pair = vcombine_u8 (vld1_u8 (row + ofs), vdup_n_u8 (0));
  const int16x8_t v = vreinterpretq_s16_u8 (vqtbl1q_u8 (pair, ctl));
  const int32x4_t lo = vmull_s16 (vget_low_s16 (v), vget_low_s16 (w));  /* x0.R W0, x1.R W1, x0.G W0, x1.G W1 */
  const int32x4_t hi = vmull_high_s16 (v, w);                            /* x0.B W0, x1.B W1, 0, 0 */
  return vcvtq_f32_s32 (vpaddq_s32 (lo, hi));
}

/* R, G, B, 0 of column i. */
static inline float32x4_t
pixel (const kk_mi_row *r, const kk_mi_cols *c, size_t i, uint8x16_t ctl,
       float32x4_t a, float32x4_t b, float32x4_t off)
{
  const int16x8_t w = vld1q_s16 (c->wx + 8 * i);
  float32x4_t top = row_pair (r->top, c->ofs[i], ctl, w);
  float32x4_t bottom = row_pair (r->bottom, c->ofs[i], ctl, w);
  return vfmaq_f32 (vfmaq_f32 (off, top, a), bottom, b);
}

void
kk_model_input_row_u8_f32__neon (const kk_mi_row *r, const kk_mi_cols *c)
{
  const uint8x16_t ctl = vld1q_u8 (c->ctl);
  const float32x4_t a = vld1q_f32 (r->a), b = vld1q_f32 (r->b), off = vld1q_f32 (r->offset);
  /* Whole groups may run past n into the table's padding only when every
   * column is safe to load; otherwise the unsafe tail is scalar. */
  const size_t n_vec = c->n_simd == c->n ? c->n : c->n_simd / GROUP * GROUP;
  float *dst = r->dst;

  for (size_t i = 0; i < n_vec; i += GROUP)
    {
      kk_mi_prefetch (r, c, i);
      kk_mi_prefetch (r, c, i + 2);
      float32x4_t p0 = pixel (r, c, i, ctl, a, b, off), p1 = pixel (r, c, i + 1, ctl, a, b, off);
      float32x4_t p2 = pixel (r, c, i + 2, ctl, a, b, off), p3 = pixel (r, c, i + 3, ctl, a, b, off);
      /* 4x4 transpose of R G B 0 rows into R, G, B columns. */
      float32x4_t t0 = vzip1q_f32 (p0, p1);  /* R0 R1 G0 G1 */
      float32x4_t t1 = vzip2q_f32 (p0, p1);  /* B0 B1 .. .. */
      float32x4_t t2 = vzip1q_f32 (p2, p3);  /* R2 R3 G2 G3 */
      float32x4_t t3 = vzip2q_f32 (p2, p3);  /* B2 B3 .. .. */
      float32x4x3_t rgb;
      rgb.val[0] = vcombine_f32 (vget_low_f32 (t0), vget_low_f32 (t2));
      rgb.val[1] = vcombine_f32 (vget_high_f32 (t0), vget_high_f32 (t2));
      rgb.val[2] = vcombine_f32 (vget_low_f32 (t1), vget_low_f32 (t3));
      const size_t m = n_vec - i < GROUP ? n_vec - i : GROUP;

      if (m == GROUP)
        {
          if (c->layout == KK_LAYOUT_NHWC)
            vst3q_f32 (dst + 3 * i, rgb);
          else
            for (int ch = 0; ch < 3; ch++)
              vst1q_f32 (dst + ch * c->plane + i, rgb.val[ch]);
        }
      else
        {
          float tmp[3][GROUP];
          for (int ch = 0; ch < 3; ch++)
            vst1q_f32 (tmp[ch], rgb.val[ch]);
          for (size_t k = 0; k < m; k++)
            for (int ch = 0; ch < 3; ch++)
              {
                if (c->layout == KK_LAYOUT_NHWC)
                  dst[3 * (i + k) + ch] = tmp[ch][k];
                else
                  dst[ch * c->plane + i + k] = tmp[ch][k];
              }
        }
    }
  kk_mi_pixels (r, c, n_vec, c->n);
}

void
kk_model_input_u8_f32__neon (const kk_image_view *src, float *dst,
                             const kk_model_input_params *params, size_t row_begin, size_t row_end)
{
  kk_mi_run (src, dst, params, row_begin, row_end, kk_model_input_row_u8_f32__neon);
}
