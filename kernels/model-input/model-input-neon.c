/* model-input-neon.c — one output pixel per Q register, 4 per group.
 *
 * As on x86: a pixel's taps are two 8-byte loads (top pair, bottom pair)
 * combined into one 16-byte register, and tbl (the shared control bytes,
 * out-of-range indices giving 0) spreads each tap's R, G, B into uint32
 * lanes. A group of 4 pixels is transposed into R, G, B vectors, which
 * suits both layouts: vst3q writes 4 NHWC pixels interleaved, exactly 12
 * floats, and NCHW is three plain stores.
 */
#include "model-input.h"

#include <arm_neon.h>

#define GROUP 4

static inline uint8x16_t
load_taps (const kk_mi_row *r, const kk_mi_cols *c, size_t i, bool gray)
{
  const uint32_t o = c->ofs[i];

  if (gray)
    {
      uint16_t t, b;
      memcpy (&t, r->top + o, 2);
      memcpy (&b, r->bottom + o, 2);
      uint16x8_t v = vdupq_n_u16 (0);
      v = vsetq_lane_u16 (t, v, 0);
      v = vsetq_lane_u16 (b, v, 4);
      return vreinterpretq_u8_u16 (v);
    }
  return vcombine_u8 (vld1_u8 (r->top + o), vld1_u8 (r->bottom + o));
}

static inline float32x4_t
tap_f32 (uint8x16_t v, uint8x16_t ctl)
{
  return vcvtq_f32_u32 (vreinterpretq_u32_u8 (vqtbl1q_u8 (v, ctl)));
}

static inline float32x4_t
pixel (uint8x16_t v, const uint8x16_t ctl[4], float32x4_t a, float32x4_t b,
       float32x4_t w0, float32x4_t w1, float32x4_t off)
{
  float32x4_t tl = tap_f32 (v, ctl[0]), tr = tap_f32 (v, ctl[1]);
  float32x4_t bl = tap_f32 (v, ctl[2]), br = tap_f32 (v, ctl[3]);
  float32x4_t left = vfmaq_f32 (vmulq_f32 (tl, a), bl, b);
  float32x4_t right = vfmaq_f32 (vmulq_f32 (tr, a), br, b);
  return vfmaq_f32 (vfmaq_f32 (off, right, w1), left, w0);
}

static inline __attribute__ ((always_inline)) void
row_neon (const kk_mi_row *r, const kk_mi_cols *c, bool gray)
{
  const uint8x16_t ctl[4] = {
    vld1q_u8 (c->ctl[0]), vld1q_u8 (c->ctl[1]), vld1q_u8 (c->ctl[2]), vld1q_u8 (c->ctl[3]),
  };
  const float32x4_t a = vld1q_f32 (r->a), b = vld1q_f32 (r->b), off = vld1q_f32 (r->offset);
  /* Whole groups may run past n into the table's padding only when every
   * column is safe to load; otherwise the unsafe tail is scalar. */
  const size_t n_vec = c->n_simd == c->n ? c->n : c->n_simd / GROUP * GROUP;
  float *dst = r->dst;

  for (size_t i = 0; i < n_vec; i += GROUP)
    {
      /* Weights come pre-replicated from the shared table: plain loads. */
#define PIXEL(k) \
      pixel (load_taps (r, c, i + (k), gray), ctl, a, b, \
             vld1q_f32 (c->w0 + 4 * (i + (k))), vld1q_f32 (c->w1 + 4 * (i + (k))), off)
      float32x4_t p0 = PIXEL (0), p1 = PIXEL (1), p2 = PIXEL (2), p3 = PIXEL (3);
#undef PIXEL
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
kk_model_input_row_u8_f32__neon (const kk_mi_row *row, const kk_mi_cols *cols)
{
  /* Two instantiations so the per-pixel load has no format branch. */
  if (cols->format == KK_PIXEL_GRAY8)
    row_neon (row, cols, true);
  else
    row_neon (row, cols, false);
}

void
kk_model_input_u8_f32__neon (const kk_image_view *src, float *dst,
                             const kk_model_input_params *params, size_t row_begin, size_t row_end)
{
  kk_mi_run (src, dst, params, row_begin, row_end, kk_model_input_row_u8_f32__neon);
}
