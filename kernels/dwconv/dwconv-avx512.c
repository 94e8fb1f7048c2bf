/* dwconv-avx512.c — depthwise convolution, 16 channels per zmm: with FMA,
 * and an exact version for the integer plans' float steps.
 *
 * A straight widening of dwconv-avx2.c (see it and dwconv.h for the plan),
 * except for the channel tail: AVX-512 has cheap opmask loads and stores, so
 * the last C % 16 channels are one masked block instead of an overlapping
 * one, which also covers C < 16. Masked-off lanes are neither read (no
 * fault past the end of a row) nor written.
 *
 * Written without an AVX-512 machine to run it on: every function mirrors
 * its AVX2 counterpart line by line, and `masked` is a compile-time constant
 * at each call so the full blocks use plain loads and stores.
 *
 * Every function also takes a compile-time `exact`. kk_dwconv_f32_nhwc_exact_avx512
 * sets it: each lane then does what the scalar reference does — bias, one
 * rounded multiply and one rounded add per in-bounds tap in (ky, kx) order in
 * a single chain, then the clamp — so it gives the reference's bits
 * (kk_kernels_get_exact). The FMA version splits a 3x3 window into one
 * partial sum per kernel row instead, which is faster and rounds differently.
 */
#include "dwconv.h"

#include <immintrin.h>

#define KK_ALWAYS_INLINE static inline __attribute__ ((always_inline))

KK_ALWAYS_INLINE __m512
clamp_ps (__m512 v, __m512 lo, __m512 hi)
{
  return _mm512_max_ps (lo, _mm512_min_ps (hi, v));
}

/* a + x * w: one fused multiply-add, or with `exact` the reference's
 * rounded multiply, then rounded add. */
KK_ALWAYS_INLINE __m512
madd_ps (__m512 a, __m512 x, __m512 w, bool exact)
{
  return exact ? _mm512_add_ps (a, _mm512_mul_ps (x, w)) : _mm512_fmadd_ps (x, w, a);
}

/* The first r lanes, r in 1..16. */
KK_ALWAYS_INLINE __mmask16
lanes (size_t r)
{
  return (__mmask16) ((1u << r) - 1u);
}

/* Channels [c, c + 64) of one pixel: four independent chains. */
KK_ALWAYS_INLINE void
pixel_block4 (const kk_dwconv_taps *t, size_t C, size_t c, const float *bias,
              __m512 vlo, __m512 vhi, float *o, bool exact)
{
  __m512 a0, a1, a2, a3;

  if (bias != NULL)
    {
      a0 = _mm512_loadu_ps (bias + c);
      a1 = _mm512_loadu_ps (bias + c + 16);
      a2 = _mm512_loadu_ps (bias + c + 32);
      a3 = _mm512_loadu_ps (bias + c + 48);
    }
  else
    a0 = a1 = a2 = a3 = _mm512_setzero_ps ();

  const float *xr = t->x + c, *wr = t->w + c;
  for (size_t i = 0; i < t->ny; i++, xr += t->x_row, wr += t->w_row)
    {
      const float *x = xr, *w = wr;
      for (size_t j = 0; j < t->nx; j++, x += t->x_col, w += C)
        {
          a0 = madd_ps (a0, _mm512_loadu_ps (x), _mm512_loadu_ps (w), exact);
          a1 = madd_ps (a1, _mm512_loadu_ps (x + 16), _mm512_loadu_ps (w + 16), exact);
          a2 = madd_ps (a2, _mm512_loadu_ps (x + 32), _mm512_loadu_ps (w + 32), exact);
          a3 = madd_ps (a3, _mm512_loadu_ps (x + 48), _mm512_loadu_ps (w + 48), exact);
        }
    }
  _mm512_storeu_ps (o + c, clamp_ps (a0, vlo, vhi));
  _mm512_storeu_ps (o + c + 16, clamp_ps (a1, vlo, vhi));
  _mm512_storeu_ps (o + c + 32, clamp_ps (a2, vlo, vhi));
  _mm512_storeu_ps (o + c + 48, clamp_ps (a3, vlo, vhi));
}

/* Channels [c, c + 16) of one pixel; with `masked`, only the lanes in m. */
KK_ALWAYS_INLINE void
pixel_block1 (const kk_dwconv_taps *t, size_t C, size_t c, const float *bias,
              __m512 vlo, __m512 vhi, float *o, bool masked, __mmask16 m, bool exact)
{
#define LOAD(ptr) (masked ? _mm512_maskz_loadu_ps (m, (ptr)) : _mm512_loadu_ps (ptr))
  __m512 a = bias != NULL ? LOAD (bias + c) : _mm512_setzero_ps ();

  const float *xr = t->x + c, *wr = t->w + c;
  for (size_t i = 0; i < t->ny; i++, xr += t->x_row, wr += t->w_row)
    {
      const float *x = xr, *w = wr;
      for (size_t j = 0; j < t->nx; j++, x += t->x_col, w += C)
        a = madd_ps (a, LOAD (x), LOAD (w), exact);
    }
  a = clamp_ps (a, vlo, vhi);
  if (masked)
    _mm512_mask_storeu_ps (o + c, m, a);
  else
    _mm512_storeu_ps (o + c, a);
#undef LOAD
}

/* Output columns [ox_begin, ox_end) of a row, any kernel. */
KK_ALWAYS_INLINE void
dw_pixels (const kk_dwconv_params *p, const kk_dwconv_row *row, size_t ox_begin, size_t ox_end,
           bool exact)
{
  const size_t C = p->channels;
  const __m512 vlo = _mm512_set1_ps (p->lo), vhi = _mm512_set1_ps (p->hi);

  for (size_t ox = ox_begin; ox < ox_end; ox++)
    {
      const kk_dwconv_taps t = kk_dwconv_pixel_taps (p, row, ox);
      float *o = row->out_row + ox * C;
      size_t c = 0;

      for (; c + 64 <= C; c += 64)
        pixel_block4 (&t, C, c, p->bias, vlo, vhi, o, exact);
      for (; c + 16 <= C; c += 16)
        pixel_block1 (&t, C, c, p->bias, vlo, vhi, o, false, lanes (16), exact);
      if (c < C)
        pixel_block1 (&t, C, c, p->bias, vlo, vhi, o, true, lanes (C - c), exact);
    }
}

/* One 16-channel block of a 3x3 row over n interior columns, no bounds
 * checks; the nine weight vectors stay in registers. h0..h2: which kernel
 * rows are inside the input. With `masked`, only the lanes in m. */
KK_ALWAYS_INLINE void
row3x3_block (const float *x0, const float *x1, const float *x2, bool h0, bool h1, bool h2,
              const float *w, size_t C, __m512 vb, __m512 vlo, __m512 vhi,
              float *o, size_t n, size_t step, size_t tap, bool masked, __mmask16 m, bool exact)
{
#define LOAD(ptr) (masked ? _mm512_maskz_loadu_ps (m, (ptr)) : _mm512_loadu_ps (ptr))
  const __m512 zero = _mm512_setzero_ps ();
  const __m512 w00 = h0 ? LOAD (w) : zero;
  const __m512 w01 = h0 ? LOAD (w + C) : zero;
  const __m512 w02 = h0 ? LOAD (w + 2 * C) : zero;
  const __m512 w10 = h1 ? LOAD (w + 3 * C) : zero;
  const __m512 w11 = h1 ? LOAD (w + 4 * C) : zero;
  const __m512 w12 = h1 ? LOAD (w + 5 * C) : zero;
  const __m512 w20 = h2 ? LOAD (w + 6 * C) : zero;
  const __m512 w21 = h2 ? LOAD (w + 7 * C) : zero;
  const __m512 w22 = h2 ? LOAD (w + 8 * C) : zero;

  for (size_t i = 0; i < n; i++, x0 += step, x1 += step, x2 += step, o += C)
    {
      __m512 a;
      if (exact)
        {
          /* One chain through the in-bounds taps, as the reference. */
          a = vb;
          if (h0)
            {
              a = madd_ps (a, LOAD (x0), w00, true);
              a = madd_ps (a, LOAD (x0 + tap), w01, true);
              a = madd_ps (a, LOAD (x0 + 2 * tap), w02, true);
            }
          if (h1)
            {
              a = madd_ps (a, LOAD (x1), w10, true);
              a = madd_ps (a, LOAD (x1 + tap), w11, true);
              a = madd_ps (a, LOAD (x1 + 2 * tap), w12, true);
            }
          if (h2)
            {
              a = madd_ps (a, LOAD (x2), w20, true);
              a = madd_ps (a, LOAD (x2 + tap), w21, true);
              a = madd_ps (a, LOAD (x2 + 2 * tap), w22, true);
            }
        }
      else
        {
          /* One partial sum per kernel row, as in dwconv-avx2.c. */
          __m512 a0 = vb, a1 = zero, a2 = zero;
          if (h0)
            {
              a0 = _mm512_fmadd_ps (LOAD (x0), w00, a0);
              a0 = _mm512_fmadd_ps (LOAD (x0 + tap), w01, a0);
              a0 = _mm512_fmadd_ps (LOAD (x0 + 2 * tap), w02, a0);
            }
          if (h1)
            {
              a1 = _mm512_fmadd_ps (LOAD (x1), w10, a1);
              a1 = _mm512_fmadd_ps (LOAD (x1 + tap), w11, a1);
              a1 = _mm512_fmadd_ps (LOAD (x1 + 2 * tap), w12, a1);
            }
          if (h2)
            {
              a2 = _mm512_fmadd_ps (LOAD (x2), w20, a2);
              a2 = _mm512_fmadd_ps (LOAD (x2 + tap), w21, a2);
              a2 = _mm512_fmadd_ps (LOAD (x2 + 2 * tap), w22, a2);
            }
          a = _mm512_add_ps (_mm512_add_ps (a0, a1), a2);
        }
      a = clamp_ps (a, vlo, vhi);
      if (masked)
        _mm512_mask_storeu_ps (o, m, a);
      else
        _mm512_storeu_ps (o, a);
    }
#undef LOAD
}

/* Interior columns [ox_begin, ox_end) of a 3x3 row, any stride and
 * dilation; tiled as in dwconv-avx2.c. */
KK_ALWAYS_INLINE void
dw3x3_interior (const kk_dwconv_params *p, const kk_dwconv_row *row, size_t ox_begin, size_t ox_end,
                bool exact)
{
  const size_t C = p->channels;
  const kk_dwconv_3x3_row r = kk_dwconv_3x3_row_at (p, row, ox_begin, ox_end);
  const bool full = r.h[0] && r.h[1] && r.h[2];
  const __m512 vlo = _mm512_set1_ps (p->lo), vhi = _mm512_set1_ps (p->hi);

  for (size_t t0 = 0; t0 < r.n; t0 += r.tile)
    {
      const size_t tn = r.n - t0 < r.tile ? r.n - t0 : r.tile;
      const size_t off = t0 * r.step;

      for (size_t c = 0; c < C; c += 16)
        {
          const float *x0 = r.x[0] + off + c, *x1 = r.x[1] + off + c, *x2 = r.x[2] + off + c;
          float *o = r.o + t0 * C + c;

          if (c + 16 <= C)
            {
              const __m512 vb = p->bias != NULL ? _mm512_loadu_ps (p->bias + c) : _mm512_setzero_ps ();
              if (full)
                row3x3_block (x0, x1, x2, true, true, true, p->weights + c, C, vb, vlo, vhi,
                              o, tn, r.step, r.tap, false, lanes (16), exact);
              else
                row3x3_block (x0, x1, x2, r.h[0], r.h[1], r.h[2], p->weights + c, C, vb, vlo, vhi,
                              o, tn, r.step, r.tap, false, lanes (16), exact);
            }
          else
            {
              /* The last C % 16 channels: the same loop with masks. */
              const __mmask16 m = lanes (C - c);
              const __m512 vb = p->bias != NULL ? _mm512_maskz_loadu_ps (m, p->bias + c)
                                                : _mm512_setzero_ps ();
              row3x3_block (x0, x1, x2, r.h[0], r.h[1], r.h[2], p->weights + c, C, vb, vlo, vhi,
                            o, tn, r.step, r.tap, true, m, exact);
            }
        }
    }
}

KK_ALWAYS_INLINE void
dwconv_avx512 (const kk_dwconv_params *p, const float *in, float *out,
               size_t row_begin, size_t row_end, bool exact)
{
  const bool is3x3 = p->kernel_h == 3 && p->kernel_w == 3;
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
kk_dwconv_f32_nhwc_avx512 (const kk_dwconv_params *p, const float *in, float *out,
                           size_t row_begin, size_t row_end)
{
  dwconv_avx512 (p, in, out, row_begin, row_end, false);
}

void
kk_dwconv_f32_nhwc_exact_avx512 (const kk_dwconv_params *p, const float *in, float *out,
                                 size_t row_begin, size_t row_end)
{
  dwconv_avx512 (p, in, out, row_begin, row_end, true);
}
