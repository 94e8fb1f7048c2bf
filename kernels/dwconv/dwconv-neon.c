/* dwconv-neon.c — depthwise convolution, 4 channels per q register: with
 * FMLA, and an exact version for the integer plans' float steps.
 *
 * The AVX2 design (see dwconv.h and dwconv-avx2.c) at NEON's width: C not a
 * multiple of 4 ends with an overlapping block (same operations, same bits),
 * C < 4 goes lane by lane with fmaf.
 *
 * Every function also takes a compile-time `exact`, as in dwconv-avx2.c.
 * kk_dwconv_f32_nhwc_exact_neon sets it: each lane then does what the
 * scalar reference does — the bias (or +0), one rounded multiply and one
 * rounded add (vmulq_f32, vaddq_f32; for C < 4 the same in plain C) per
 * in-bounds tap in (ky, kx) order in a single chain, then the clamp — so it
 * gives the reference's bits (kk_kernels_get_exact). A tap outside the
 * input is skipped, never added as a zero product (that would turn a -0
 * sum into +0).
 *
 * The clamp is compare + bit-select rather than FMIN/FMAX, whose NaN rules
 * differ from the reference's (see eltwise.h).
 */
#include "dwconv.h"
#include "eltwise/eltwise.h"

#include <arm_neon.h>
#include <math.h>

#define KK_ALWAYS_INLINE static inline __attribute__ ((always_inline))

KK_ALWAYS_INLINE float32x4_t
clamp_ps (float32x4_t v, float32x4_t lo, float32x4_t hi)
{
  v = vbslq_f32 (vcltq_f32 (hi, v), hi, v);
  return vbslq_f32 (vcgtq_f32 (lo, v), lo, v);
}

/* a + x * w: one fused multiply-add, or with `exact` the reference's
 * rounded multiply, then rounded add. */
KK_ALWAYS_INLINE float32x4_t
madd_ps (float32x4_t a, float32x4_t x, float32x4_t w, bool exact)
{
  return exact ? vaddq_f32 (a, vmulq_f32 (x, w)) : vfmaq_f32 (a, x, w);
}

/* Channels [c, c + 16) of one pixel: four independent chains. */
KK_ALWAYS_INLINE void
pixel_block4 (const kk_dwconv_taps *t, size_t C, size_t c, const float *bias,
              float32x4_t vlo, float32x4_t vhi, float *o, bool exact)
{
  float32x4_t a0, a1, a2, a3;

  if (bias != NULL)
    {
      a0 = vld1q_f32 (bias + c);
      a1 = vld1q_f32 (bias + c + 4);
      a2 = vld1q_f32 (bias + c + 8);
      a3 = vld1q_f32 (bias + c + 12);
    }
  else
    a0 = a1 = a2 = a3 = vdupq_n_f32 (0.0f);

  const float *xr = t->x + c, *wr = t->w + c;
  for (size_t i = 0; i < t->ny; i++, xr += t->x_row, wr += t->w_row)
    {
      const float *x = xr, *w = wr;
      for (size_t j = 0; j < t->nx; j++, x += t->x_col, w += C)
        {
          a0 = madd_ps (a0, vld1q_f32 (x), vld1q_f32 (w), exact);
          a1 = madd_ps (a1, vld1q_f32 (x + 4), vld1q_f32 (w + 4), exact);
          a2 = madd_ps (a2, vld1q_f32 (x + 8), vld1q_f32 (w + 8), exact);
          a3 = madd_ps (a3, vld1q_f32 (x + 12), vld1q_f32 (w + 12), exact);
        }
    }
  vst1q_f32 (o + c, clamp_ps (a0, vlo, vhi));
  vst1q_f32 (o + c + 4, clamp_ps (a1, vlo, vhi));
  vst1q_f32 (o + c + 8, clamp_ps (a2, vlo, vhi));
  vst1q_f32 (o + c + 12, clamp_ps (a3, vlo, vhi));
}

/* Channels [c, c + 4) of one pixel. */
KK_ALWAYS_INLINE void
pixel_block1 (const kk_dwconv_taps *t, size_t C, size_t c, const float *bias,
              float32x4_t vlo, float32x4_t vhi, float *o, bool exact)
{
  float32x4_t a = bias != NULL ? vld1q_f32 (bias + c) : vdupq_n_f32 (0.0f);

  const float *xr = t->x + c, *wr = t->w + c;
  for (size_t i = 0; i < t->ny; i++, xr += t->x_row, wr += t->w_row)
    {
      const float *x = xr, *w = wr;
      for (size_t j = 0; j < t->nx; j++, x += t->x_col, w += C)
        a = madd_ps (a, vld1q_f32 (x), vld1q_f32 (w), exact);
    }
  vst1q_f32 (o + c, clamp_ps (a, vlo, vhi));
}

/* Fewer than 4 channels: one lane at a time, fused like the vector code
 * (with `exact`, a rounded multiply and a rounded add, as the reference). */
KK_ALWAYS_INLINE void
pixel_narrow (const kk_dwconv_params *p, const kk_dwconv_taps *t, float *o, bool exact)
{
  const size_t C = p->channels;

  for (size_t c = 0; c < C; c++)
    {
      float a = p->bias != NULL ? p->bias[c] : 0.0f;
      const float *xr = t->x + c, *wr = t->w + c;

      for (size_t i = 0; i < t->ny; i++, xr += t->x_row, wr += t->w_row)
        {
          const float *x = xr, *w = wr;
          for (size_t j = 0; j < t->nx; j++, x += t->x_col, w += C)
            a = exact ? a + *x * *w : fmaf (*x, *w, a);
        }
      o[c] = kk_clamp_f32_1 (a, p->lo, p->hi);
    }
}

/* Output columns [ox_begin, ox_end) of a row, any kernel. */
KK_ALWAYS_INLINE void
dw_pixels (const kk_dwconv_params *p, const kk_dwconv_row *row, size_t ox_begin, size_t ox_end,
           bool exact)
{
  const size_t C = p->channels;
  const float32x4_t vlo = vdupq_n_f32 (p->lo), vhi = vdupq_n_f32 (p->hi);

  for (size_t ox = ox_begin; ox < ox_end; ox++)
    {
      const kk_dwconv_taps t = kk_dwconv_pixel_taps (p, row, ox);
      float *o = row->out_row + ox * C;
      size_t c = 0;

      if (C < 4)
        {
          pixel_narrow (p, &t, o, exact);
          continue;
        }
      for (; c + 16 <= C; c += 16)
        pixel_block4 (&t, C, c, p->bias, vlo, vhi, o, exact);
      for (; c + 4 <= C; c += 4)
        pixel_block1 (&t, C, c, p->bias, vlo, vhi, o, exact);
      if (c < C)
        pixel_block1 (&t, C, C - 4, p->bias, vlo, vhi, o, exact);
    }
}

/* One 4-channel block of a 3x3 row over n interior columns, weights in
 * registers, one partial sum per kernel row (see dwconv-avx2.c); with
 * `exact`, one chain through the in-bounds taps, as the reference. */
KK_ALWAYS_INLINE void
row3x3_block (const float *x0, const float *x1, const float *x2, bool h0, bool h1, bool h2,
              const float *w, size_t C, float32x4_t vb, float32x4_t vlo, float32x4_t vhi,
              float *o, size_t n, size_t step, size_t tap, bool exact)
{
  const float32x4_t zero = vdupq_n_f32 (0.0f);
  const float32x4_t w00 = h0 ? vld1q_f32 (w) : zero;
  const float32x4_t w01 = h0 ? vld1q_f32 (w + C) : zero;
  const float32x4_t w02 = h0 ? vld1q_f32 (w + 2 * C) : zero;
  const float32x4_t w10 = h1 ? vld1q_f32 (w + 3 * C) : zero;
  const float32x4_t w11 = h1 ? vld1q_f32 (w + 4 * C) : zero;
  const float32x4_t w12 = h1 ? vld1q_f32 (w + 5 * C) : zero;
  const float32x4_t w20 = h2 ? vld1q_f32 (w + 6 * C) : zero;
  const float32x4_t w21 = h2 ? vld1q_f32 (w + 7 * C) : zero;
  const float32x4_t w22 = h2 ? vld1q_f32 (w + 8 * C) : zero;

  if (exact)
    {
      for (size_t i = 0; i < n; i++, x0 += step, x1 += step, x2 += step, o += C)
        {
          float32x4_t a = vb;
          if (h0)
            {
              a = madd_ps (a, vld1q_f32 (x0), w00, true);
              a = madd_ps (a, vld1q_f32 (x0 + tap), w01, true);
              a = madd_ps (a, vld1q_f32 (x0 + 2 * tap), w02, true);
            }
          if (h1)
            {
              a = madd_ps (a, vld1q_f32 (x1), w10, true);
              a = madd_ps (a, vld1q_f32 (x1 + tap), w11, true);
              a = madd_ps (a, vld1q_f32 (x1 + 2 * tap), w12, true);
            }
          if (h2)
            {
              a = madd_ps (a, vld1q_f32 (x2), w20, true);
              a = madd_ps (a, vld1q_f32 (x2 + tap), w21, true);
              a = madd_ps (a, vld1q_f32 (x2 + 2 * tap), w22, true);
            }
          vst1q_f32 (o, clamp_ps (a, vlo, vhi));
        }
      return;
    }

  for (size_t i = 0; i < n; i++, x0 += step, x1 += step, x2 += step, o += C)
    {
      float32x4_t a0 = vb, a1 = zero, a2 = zero;
      if (h0)
        {
          a0 = vfmaq_f32 (a0, vld1q_f32 (x0), w00);
          a0 = vfmaq_f32 (a0, vld1q_f32 (x0 + tap), w01);
          a0 = vfmaq_f32 (a0, vld1q_f32 (x0 + 2 * tap), w02);
        }
      if (h1)
        {
          a1 = vfmaq_f32 (a1, vld1q_f32 (x1), w10);
          a1 = vfmaq_f32 (a1, vld1q_f32 (x1 + tap), w11);
          a1 = vfmaq_f32 (a1, vld1q_f32 (x1 + 2 * tap), w12);
        }
      if (h2)
        {
          a2 = vfmaq_f32 (a2, vld1q_f32 (x2), w20);
          a2 = vfmaq_f32 (a2, vld1q_f32 (x2 + tap), w21);
          a2 = vfmaq_f32 (a2, vld1q_f32 (x2 + 2 * tap), w22);
        }
      vst1q_f32 (o, clamp_ps (vaddq_f32 (vaddq_f32 (a0, a1), a2), vlo, vhi));
    }
}

/* Interior columns [ox_begin, ox_end) of a 3x3 row (C >= 4), any stride and
 * dilation; tiled as in dwconv-avx2.c. */
KK_ALWAYS_INLINE void
dw3x3_interior (const kk_dwconv_params *p, const kk_dwconv_row *row, size_t ox_begin, size_t ox_end,
                bool exact)
{
  const size_t C = p->channels;
  const kk_dwconv_3x3_row r = kk_dwconv_3x3_row_at (p, row, ox_begin, ox_end);
  const bool full = r.h[0] && r.h[1] && r.h[2];
  const float32x4_t vlo = vdupq_n_f32 (p->lo), vhi = vdupq_n_f32 (p->hi);

  for (size_t t0 = 0; t0 < r.n; t0 += r.tile)
    {
      const size_t tn = r.n - t0 < r.tile ? r.n - t0 : r.tile;
      const size_t off = t0 * r.step;

      for (size_t c = 0; c < C; c += 4)
        {
          if (c + 4 > C)
            c = C - 4;  /* overlapping last block */

          const float32x4_t vb = p->bias != NULL ? vld1q_f32 (p->bias + c) : vdupq_n_f32 (0.0f);
          const float *x0 = r.x[0] + off + c, *x1 = r.x[1] + off + c, *x2 = r.x[2] + off + c;
          float *o = r.o + t0 * C + c;

          if (full)
            row3x3_block (x0, x1, x2, true, true, true, p->weights + c, C, vb, vlo, vhi,
                          o, tn, r.step, r.tap, exact);
          else
            row3x3_block (x0, x1, x2, r.h[0], r.h[1], r.h[2], p->weights + c, C, vb, vlo, vhi,
                          o, tn, r.step, r.tap, exact);
        }
    }
}

KK_ALWAYS_INLINE void
dwconv_neon (const kk_dwconv_params *p, const float *in, float *out,
             size_t row_begin, size_t row_end, bool exact)
{
  const bool is3x3 = p->kernel_h == 3 && p->kernel_w == 3 && p->channels >= 4;
  size_t x_lo = 0, x_hi = 0;

  if (p->channels == 0)
    return;
  if (is3x3)
    kk_window_interior (p->out_w, p->in_w, 3, p->stride_w, p->dilation_w, p->pad_left, &x_lo, &x_hi);

  row_end = kk_dwconv_rows_end (p, row_end);
  for (size_t r = row_begin; r < row_end; r++)
    {
      const kk_dwconv_row row = kk_dwconv_row_at (p, in, out, r);

      if (is3x3 && x_lo < x_hi && row.ky_lo < row.ky_hi)
        {
          dw_pixels (p, &row, 0, x_lo, exact);
          dw3x3_interior (p, &row, x_lo, x_hi, exact);
          dw_pixels (p, &row, x_hi, p->out_w, exact);
        }
      else
        dw_pixels (p, &row, 0, p->out_w, exact);
    }
}

void
kk_dwconv_f32_nhwc_neon (const kk_dwconv_params *p, const float *in, float *out,
                         size_t row_begin, size_t row_end)
{
  dwconv_neon (p, in, out, row_begin, row_end, false);
}

void
kk_dwconv_f32_nhwc_exact_neon (const kk_dwconv_params *p, const float *in, float *out,
                               size_t row_begin, size_t row_end)
{
  dwconv_neon (p, in, out, row_begin, row_end, true);
}
