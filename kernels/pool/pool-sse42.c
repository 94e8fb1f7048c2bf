/* pool-sse42.c — max pooling, 4 channels per xmm: the AVX2 version
 * (pool-avx2.c) at half the width, interior path and 2x2 loop included;
 * C < 4 goes channel by channel with the reference step. */
#include "pool.h"

#include <immintrin.h>
#include <math.h>

#define KK_ALWAYS_INLINE static inline __attribute__ ((always_inline))

/* Channels [c, c + 16) of one pixel. */
KK_ALWAYS_INLINE void
pixel_block4 (const kk_pool_taps *t, size_t c, float *o)
{
  __m128 a0 = _mm_set1_ps (-INFINITY), a1 = a0, a2 = a0, a3 = a0;
  const float *xr = t->x + c;

  for (size_t i = 0; i < t->ny; i++, xr += t->x_row)
    {
      const float *x = xr;
      for (size_t j = 0; j < t->nx; j++, x += t->x_col)
        {
          a0 = _mm_max_ps (_mm_loadu_ps (x), a0);
          a1 = _mm_max_ps (_mm_loadu_ps (x + 4), a1);
          a2 = _mm_max_ps (_mm_loadu_ps (x + 8), a2);
          a3 = _mm_max_ps (_mm_loadu_ps (x + 12), a3);
        }
    }
  _mm_storeu_ps (o + c, a0);
  _mm_storeu_ps (o + c + 4, a1);
  _mm_storeu_ps (o + c + 8, a2);
  _mm_storeu_ps (o + c + 12, a3);
}

/* Channels [c, c + 4) of one pixel. */
KK_ALWAYS_INLINE void
pixel_block1 (const kk_pool_taps *t, size_t c, float *o)
{
  __m128 a = _mm_set1_ps (-INFINITY);
  const float *xr = t->x + c;

  for (size_t i = 0; i < t->ny; i++, xr += t->x_row)
    {
      const float *x = xr;
      for (size_t j = 0; j < t->nx; j++, x += t->x_col)
        a = _mm_max_ps (_mm_loadu_ps (x), a);
    }
  _mm_storeu_ps (o + c, a);
}

/* Fewer than 4 channels: the reference step, one channel at a time. */
static void
pixel_narrow (const kk_pool_taps *t, size_t C, float *o)
{
  for (size_t c = 0; c < C; c++)
    {
      float a = -INFINITY;
      const float *xr = t->x + c;

      for (size_t i = 0; i < t->ny; i++, xr += t->x_row)
        {
          const float *x = xr;
          for (size_t j = 0; j < t->nx; j++, x += t->x_col)
            a = *x > a ? *x : a;
        }
      o[c] = a;
    }
}

/* All channels of one pixel whose taps are t. */
KK_ALWAYS_INLINE void
pixel (const kk_pool_taps *t, size_t C, float *o)
{
  size_t c = 0;

  if (C < 4)
    {
      pixel_narrow (t, C, o);
      return;
    }
  for (; c + 16 <= C; c += 16)
    pixel_block4 (t, c, o);
  for (; c + 4 <= C; c += 4)
    pixel_block1 (t, c, o);
  if (c < C)
    pixel_block1 (t, C - 4, o);  /* overlapping last block: same bits */
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

/* A 2x2 set of taps, 4 channels, in the reference order from -inf. */
KK_ALWAYS_INLINE __m128
max2x2 (const float *x, size_t col, size_t row)
{
  __m128 a = _mm_max_ps (_mm_loadu_ps (x), _mm_set1_ps (-INFINITY));
  a = _mm_max_ps (_mm_loadu_ps (x + col), a);
  a = _mm_max_ps (_mm_loadu_ps (x + row), a);
  return _mm_max_ps (_mm_loadu_ps (x + row + col), a);
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

  if (t.ny == 2 && t.nx == 2 && C >= 4)
    {
      for (size_t ox = ox_begin; ox < ox_end; ox++, t.x += step, o += C)
        {
          size_t c = 0;
          for (; c + 8 <= C; c += 8)
            {
              const __m128 a0 = max2x2 (t.x + c, t.x_col, t.x_row);
              const __m128 a1 = max2x2 (t.x + c + 4, t.x_col, t.x_row);
              _mm_storeu_ps (o + c, a0);
              _mm_storeu_ps (o + c + 4, a1);
            }
          for (; c + 4 <= C; c += 4)
            _mm_storeu_ps (o + c, max2x2 (t.x + c, t.x_col, t.x_row));
          if (c < C)
            _mm_storeu_ps (o + C - 4, max2x2 (t.x + C - 4, t.x_col, t.x_row));
        }
      return;
    }
  for (size_t ox = ox_begin; ox < ox_end; ox++, t.x += step, o += C)
    pixel (&t, C, o);
}

void
kk_maxpool_f32_nhwc_sse42 (const kk_pool_params *p, const float *in, float *out,
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
