/* pool-avx512.c — max pooling, 16 channels per zmm: a straight widening of
 * pool-avx2.c (interior path and 2x2 loop included), with an opmask block
 * for the last C % 16 channels (masked-off lanes are neither read nor
 * written). Written without an AVX-512 machine to run it on, so it mirrors
 * the AVX2 code line by line. */
#include "pool.h"

#include <immintrin.h>
#include <math.h>

#define KK_ALWAYS_INLINE static inline __attribute__ ((always_inline))

/* Channels [c, c + 64) of one pixel. */
KK_ALWAYS_INLINE void
pixel_block4 (const kk_pool_taps *t, size_t c, float *o)
{
  __m512 a0 = _mm512_set1_ps (-INFINITY), a1 = a0, a2 = a0, a3 = a0;
  const float *xr = t->x + c;

  for (size_t i = 0; i < t->ny; i++, xr += t->x_row)
    {
      const float *x = xr;
      for (size_t j = 0; j < t->nx; j++, x += t->x_col)
        {
          a0 = _mm512_max_ps (_mm512_loadu_ps (x), a0);
          a1 = _mm512_max_ps (_mm512_loadu_ps (x + 16), a1);
          a2 = _mm512_max_ps (_mm512_loadu_ps (x + 32), a2);
          a3 = _mm512_max_ps (_mm512_loadu_ps (x + 48), a3);
        }
    }
  _mm512_storeu_ps (o + c, a0);
  _mm512_storeu_ps (o + c + 16, a1);
  _mm512_storeu_ps (o + c + 32, a2);
  _mm512_storeu_ps (o + c + 48, a3);
}

/* Channels [c, c + 16) of one pixel; with `masked`, only the lanes in m (a
 * masked-off lane loads 0.0 but is never stored). */
KK_ALWAYS_INLINE void
pixel_block1 (const kk_pool_taps *t, size_t c, float *o, bool masked, __mmask16 m)
{
  __m512 a = _mm512_set1_ps (-INFINITY);
  const float *xr = t->x + c;

  for (size_t i = 0; i < t->ny; i++, xr += t->x_row)
    {
      const float *x = xr;
      for (size_t j = 0; j < t->nx; j++, x += t->x_col)
        a = _mm512_max_ps (masked ? _mm512_maskz_loadu_ps (m, x) : _mm512_loadu_ps (x), a);
    }
  if (masked)
    _mm512_mask_storeu_ps (o + c, m, a);
  else
    _mm512_storeu_ps (o + c, a);
}

/* All channels of one pixel whose taps are t. */
KK_ALWAYS_INLINE void
pixel (const kk_pool_taps *t, size_t C, float *o)
{
  size_t c = 0;

  for (; c + 64 <= C; c += 64)
    pixel_block4 (t, c, o);
  for (; c + 16 <= C; c += 16)
    pixel_block1 (t, c, o, false, (__mmask16) 0xFFFF);
  if (c < C)
    pixel_block1 (t, c, o, true, (__mmask16) ((1u << (C - c)) - 1u));
}

/* Columns [ox_begin, ox_end) of a row, bounds worked out per pixel. */
static void
pool_pixels (const kk_pool_params *p, const kk_pool_row *row, size_t ox_begin, size_t ox_end)
{
  for (size_t ox = ox_begin; ox < ox_end; ox++)
    {
      const kk_pool_taps t = kk_pool_pixel_taps (p, row, ox);
      pixel (&t, p->channels, row->out_row + ox * p->channels);
    }
}

/* A 2x2 set of taps, 16 channels (the lanes in m when masked), in the
 * reference order from -inf. */
KK_ALWAYS_INLINE __m512
max2x2 (const float *x, size_t col, size_t row, bool masked, __mmask16 m)
{
#define LOAD(ptr) (masked ? _mm512_maskz_loadu_ps (m, (ptr)) : _mm512_loadu_ps (ptr))
  __m512 a = _mm512_max_ps (LOAD (x), _mm512_set1_ps (-INFINITY));
  a = _mm512_max_ps (LOAD (x + col), a);
  a = _mm512_max_ps (LOAD (x + row), a);
  return _mm512_max_ps (LOAD (x + row + col), a);
#undef LOAD
}

/* Interior columns [ox_begin, ox_end) of a row: every pixel has the same
 * taps, moved along by the stride (see pool-avx2.c). */
static void
pool_interior (const kk_pool_params *p, const kk_pool_row *row, size_t ox_begin, size_t ox_end)
{
  const size_t C = p->channels;
  const size_t step = p->stride_w * C;
  kk_pool_taps t = kk_pool_pixel_taps (p, row, ox_begin);
  float *o = row->out_row + ox_begin * C;

  if (t.ny == 2 && t.nx == 2)
    {
      const __mmask16 all = (__mmask16) 0xFFFF;
      for (size_t ox = ox_begin; ox < ox_end; ox++, t.x += step, o += C)
        {
          size_t c = 0;
          for (; c + 16 <= C; c += 16)
            _mm512_storeu_ps (o + c, max2x2 (t.x + c, t.x_col, t.x_row, false, all));
          if (c < C)
            {
              const __mmask16 m = (__mmask16) ((1u << (C - c)) - 1u);
              _mm512_mask_storeu_ps (o + c, m, max2x2 (t.x + c, t.x_col, t.x_row, true, m));
            }
        }
      return;
    }
  for (size_t ox = ox_begin; ox < ox_end; ox++, t.x += step, o += C)
    pixel (&t, C, o);
}

void
kk_maxpool_f32_nhwc_avx512 (const kk_pool_params *p, const float *in, float *out,
                            size_t row_begin, size_t row_end)
{
  size_t x_lo, x_hi;

  if (p->channels == 0)
    return;
  kk_window_interior (p->out_w, p->in_w, p->kernel_w, p->stride_w, p->dilation_w, p->pad_left, &x_lo, &x_hi);
  row_end = kk_pool_rows_end (p, row_end);
  for (size_t r = row_begin; r < row_end; r++)
    {
      const kk_pool_row row = kk_pool_row_at (p, in, out, r);

      if (x_lo < x_hi)
        {
          pool_pixels (p, &row, 0, x_lo);
          pool_interior (p, &row, x_lo, x_hi);
          pool_pixels (p, &row, x_hi, p->out_w);
        }
      else
        pool_pixels (p, &row, 0, p->out_w);
    }
}
