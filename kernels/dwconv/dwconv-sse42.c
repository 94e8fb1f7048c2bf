/* dwconv-sse42.c — depthwise convolution, 4 channels per xmm.
 *
 * SSE has no FMA, so this version does per lane exactly what the scalar
 * reference does — bias, then one multiply and one add per tap in (ky, kx)
 * order, then the clamp — and is bit-identical to it (the tests hold it to
 * that). Keep a single accumulator per lane for that reason.
 *
 * Otherwise it is the AVX2 design (see dwconv.h and dwconv-avx2.c) at half
 * the width: C not a multiple of 4 ends with an overlapping block; C < 4 runs
 * the reference arithmetic lane by lane.
 */
#include "dwconv.h"
#include "eltwise/eltwise.h"

#include <immintrin.h>

#define KK_ALWAYS_INLINE static inline __attribute__ ((always_inline))

KK_ALWAYS_INLINE __m128
clamp_ps (__m128 v, __m128 lo, __m128 hi)
{
  return _mm_max_ps (lo, _mm_min_ps (hi, v));
}

KK_ALWAYS_INLINE __m128
madd_ps (__m128 a, __m128 x, __m128 w)
{
  return _mm_add_ps (a, _mm_mul_ps (x, w));
}

/* Channels [c, c + 16) of one pixel: four independent chains. */
KK_ALWAYS_INLINE void
pixel_block4 (const kk_dwconv_taps *t, size_t C, size_t c, const float *bias,
              __m128 vlo, __m128 vhi, float *o)
{
  __m128 a0, a1, a2, a3;

  if (bias != NULL)
    {
      a0 = _mm_loadu_ps (bias + c);
      a1 = _mm_loadu_ps (bias + c + 4);
      a2 = _mm_loadu_ps (bias + c + 8);
      a3 = _mm_loadu_ps (bias + c + 12);
    }
  else
    a0 = a1 = a2 = a3 = _mm_setzero_ps ();

  const float *xr = t->x + c, *wr = t->w + c;
  for (size_t i = 0; i < t->ny; i++, xr += t->x_row, wr += t->w_row)
    {
      const float *x = xr, *w = wr;
      for (size_t j = 0; j < t->nx; j++, x += t->x_col, w += C)
        {
          a0 = madd_ps (a0, _mm_loadu_ps (x), _mm_loadu_ps (w));
          a1 = madd_ps (a1, _mm_loadu_ps (x + 4), _mm_loadu_ps (w + 4));
          a2 = madd_ps (a2, _mm_loadu_ps (x + 8), _mm_loadu_ps (w + 8));
          a3 = madd_ps (a3, _mm_loadu_ps (x + 12), _mm_loadu_ps (w + 12));
        }
    }
  _mm_storeu_ps (o + c, clamp_ps (a0, vlo, vhi));
  _mm_storeu_ps (o + c + 4, clamp_ps (a1, vlo, vhi));
  _mm_storeu_ps (o + c + 8, clamp_ps (a2, vlo, vhi));
  _mm_storeu_ps (o + c + 12, clamp_ps (a3, vlo, vhi));
}

/* Channels [c, c + 4) of one pixel. */
KK_ALWAYS_INLINE void
pixel_block1 (const kk_dwconv_taps *t, size_t C, size_t c, const float *bias,
              __m128 vlo, __m128 vhi, float *o)
{
  __m128 a = bias != NULL ? _mm_loadu_ps (bias + c) : _mm_setzero_ps ();

  const float *xr = t->x + c, *wr = t->w + c;
  for (size_t i = 0; i < t->ny; i++, xr += t->x_row, wr += t->w_row)
    {
      const float *x = xr, *w = wr;
      for (size_t j = 0; j < t->nx; j++, x += t->x_col, w += C)
        a = madd_ps (a, _mm_loadu_ps (x), _mm_loadu_ps (w));
    }
  _mm_storeu_ps (o + c, clamp_ps (a, vlo, vhi));
}

/* Fewer than 4 channels: the reference arithmetic, one channel at a time. */
static void
pixel_narrow (const kk_dwconv_params *p, const kk_dwconv_taps *t, float *o)
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
            a = a + *x * *w;
        }
      o[c] = kk_clamp_f32_1 (a, p->lo, p->hi);
    }
}

/* Output columns [ox_begin, ox_end) of a row, any kernel. */
static void
dw_pixels (const kk_dwconv_params *p, const kk_dwconv_row *row, size_t ox_begin, size_t ox_end)
{
  const size_t C = p->channels;
  const __m128 vlo = _mm_set1_ps (p->lo), vhi = _mm_set1_ps (p->hi);

  for (size_t ox = ox_begin; ox < ox_end; ox++)
    {
      const kk_dwconv_taps t = kk_dwconv_pixel_taps (p, row, ox);
      float *o = row->out_row + ox * C;
      size_t c = 0;

      if (C < 4)
        {
          pixel_narrow (p, &t, o);
          continue;
        }
      for (; c + 16 <= C; c += 16)
        pixel_block4 (&t, C, c, p->bias, vlo, vhi, o);
      for (; c + 4 <= C; c += 4)
        pixel_block1 (&t, C, c, p->bias, vlo, vhi, o);
      if (c < C)
        pixel_block1 (&t, C, C - 4, p->bias, vlo, vhi, o);
    }
}

/* One 4-channel block of a 3x3 row over n interior columns, weights in
 * registers. One accumulator, taps in (ky, kx) order: see the top. */
KK_ALWAYS_INLINE void
row3x3_block (const float *x0, const float *x1, const float *x2, bool h0, bool h1, bool h2,
              const float *w, size_t C, __m128 vb, __m128 vlo, __m128 vhi,
              float *o, size_t n, size_t step, size_t tap)
{
  const __m128 zero = _mm_setzero_ps ();
  const __m128 w00 = h0 ? _mm_loadu_ps (w) : zero;
  const __m128 w01 = h0 ? _mm_loadu_ps (w + C) : zero;
  const __m128 w02 = h0 ? _mm_loadu_ps (w + 2 * C) : zero;
  const __m128 w10 = h1 ? _mm_loadu_ps (w + 3 * C) : zero;
  const __m128 w11 = h1 ? _mm_loadu_ps (w + 4 * C) : zero;
  const __m128 w12 = h1 ? _mm_loadu_ps (w + 5 * C) : zero;
  const __m128 w20 = h2 ? _mm_loadu_ps (w + 6 * C) : zero;
  const __m128 w21 = h2 ? _mm_loadu_ps (w + 7 * C) : zero;
  const __m128 w22 = h2 ? _mm_loadu_ps (w + 8 * C) : zero;

  for (size_t i = 0; i < n; i++, x0 += step, x1 += step, x2 += step, o += C)
    {
      __m128 a = vb;
      if (h0)
        {
          a = madd_ps (a, _mm_loadu_ps (x0), w00);
          a = madd_ps (a, _mm_loadu_ps (x0 + tap), w01);
          a = madd_ps (a, _mm_loadu_ps (x0 + 2 * tap), w02);
        }
      if (h1)
        {
          a = madd_ps (a, _mm_loadu_ps (x1), w10);
          a = madd_ps (a, _mm_loadu_ps (x1 + tap), w11);
          a = madd_ps (a, _mm_loadu_ps (x1 + 2 * tap), w12);
        }
      if (h2)
        {
          a = madd_ps (a, _mm_loadu_ps (x2), w20);
          a = madd_ps (a, _mm_loadu_ps (x2 + tap), w21);
          a = madd_ps (a, _mm_loadu_ps (x2 + 2 * tap), w22);
        }
      _mm_storeu_ps (o, clamp_ps (a, vlo, vhi));
    }
}

/* Interior columns [ox_begin, ox_end) of a 3x3 row (C >= 4), any stride and
 * dilation; tiled as in dwconv-avx2.c. */
static void
dw3x3_interior (const kk_dwconv_params *p, const kk_dwconv_row *row, size_t ox_begin, size_t ox_end)
{
  const size_t C = p->channels;
  const kk_dwconv_3x3_row r = kk_dwconv_3x3_row_at (p, row, ox_begin, ox_end);
  const bool full = r.h[0] && r.h[1] && r.h[2];
  const __m128 vlo = _mm_set1_ps (p->lo), vhi = _mm_set1_ps (p->hi);

  for (size_t t0 = 0; t0 < r.n; t0 += r.tile)
    {
      const size_t tn = r.n - t0 < r.tile ? r.n - t0 : r.tile;
      const size_t off = t0 * r.step;

      for (size_t c = 0; c < C; c += 4)
        {
          if (c + 4 > C)
            c = C - 4;  /* overlapping last block: same operations, same bits */

          const __m128 vb = p->bias != NULL ? _mm_loadu_ps (p->bias + c) : _mm_setzero_ps ();
          const float *x0 = r.x[0] + off + c, *x1 = r.x[1] + off + c, *x2 = r.x[2] + off + c;
          float *o = r.o + t0 * C + c;

          if (full)
            row3x3_block (x0, x1, x2, true, true, true, p->weights + c, C, vb, vlo, vhi,
                          o, tn, r.step, r.tap);
          else
            row3x3_block (x0, x1, x2, r.h[0], r.h[1], r.h[2], p->weights + c, C, vb, vlo, vhi,
                          o, tn, r.step, r.tap);
        }
    }
}

void
kk_dwconv_f32_nhwc_sse42 (const kk_dwconv_params *p, const float *in, float *out,
                          size_t row_begin, size_t row_end)
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
          dw_pixels (p, &row, 0, x_lo);
          dw3x3_interior (p, &row, x_lo, x_hi);
          dw_pixels (p, &row, x_hi, p->out_w);
        }
      else
        dw_pixels (p, &row, 0, p->out_w);
    }
}
