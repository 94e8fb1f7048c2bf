/* pool-avx2.c — max pooling, 8 channels per ymm.
 *
 * VMAXPS (x, acc) is exactly the reference step x > acc ? x : acc (see
 * pool.h), and the taps are folded in the same order, so results are
 * bit-identical to scalar. Channel counts that are not a multiple of 8 end
 * with a block overlapping the previous one (it rewrites the same bits)
 * instead of slow masked stores; only C < 8 uses masks.
 *
 * Pooling does almost no arithmetic, so per-pixel bookkeeping is what costs:
 * the columns whose window is inside the input share one set of taps per
 * row, and BlazeFace's 2x2 window has its own unrolled loop.
 */
#include "pool.h"

#include <immintrin.h>
#include <math.h>

#define KK_ALWAYS_INLINE static inline __attribute__ ((always_inline))

static const int32_t tail_table[16] = { -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0 };

/* Channels [c, c + 32) of one pixel: four independent chains. */
KK_ALWAYS_INLINE void
pixel_block4 (const kk_pool_taps *t, size_t c, float *o)
{
  __m256 a0 = _mm256_set1_ps (-INFINITY), a1 = a0, a2 = a0, a3 = a0;
  const float *xr = t->x + c;

  for (size_t i = 0; i < t->ny; i++, xr += t->x_row)
    {
      const float *x = xr;
      for (size_t j = 0; j < t->nx; j++, x += t->x_col)
        {
          a0 = _mm256_max_ps (_mm256_loadu_ps (x), a0);
          a1 = _mm256_max_ps (_mm256_loadu_ps (x + 8), a1);
          a2 = _mm256_max_ps (_mm256_loadu_ps (x + 16), a2);
          a3 = _mm256_max_ps (_mm256_loadu_ps (x + 24), a3);
        }
    }
  _mm256_storeu_ps (o + c, a0);
  _mm256_storeu_ps (o + c + 8, a1);
  _mm256_storeu_ps (o + c + 16, a2);
  _mm256_storeu_ps (o + c + 24, a3);
}

/* Channels [c, c + 8) of one pixel; with `masked`, only the lanes in m. A
 * masked-off lane loads 0.0 but is never stored. */
KK_ALWAYS_INLINE void
pixel_block1 (const kk_pool_taps *t, size_t c, float *o, bool masked, __m256i m)
{
  __m256 a = _mm256_set1_ps (-INFINITY);
  const float *xr = t->x + c;

  for (size_t i = 0; i < t->ny; i++, xr += t->x_row)
    {
      const float *x = xr;
      for (size_t j = 0; j < t->nx; j++, x += t->x_col)
        a = _mm256_max_ps (masked ? _mm256_maskload_ps (x, m) : _mm256_loadu_ps (x), a);
    }
  if (masked)
    _mm256_maskstore_ps (o + c, m, a);
  else
    _mm256_storeu_ps (o + c, a);
}

/* All channels of one pixel whose taps are t. */
KK_ALWAYS_INLINE void
pixel (const kk_pool_taps *t, size_t C, float *o)
{
  const __m256i all = _mm256_set1_epi32 (-1);
  size_t c = 0;

  if (C < 8)
    {
      const __m256i m = _mm256_loadu_si256 ((const __m256i *) (tail_table + 8 - C));
      pixel_block1 (t, 0, o, true, m);
      return;
    }
  for (; c + 32 <= C; c += 32)
    pixel_block4 (t, c, o);
  for (; c + 8 <= C; c += 8)
    pixel_block1 (t, c, o, false, all);
  if (c < C)
    pixel_block1 (t, C - 8, o, false, all);
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

/* A full 2x2 window, 8 channels: the reference order (0,0) (0,1) (1,0)
 * (1,1), each step folded into the running max from -inf. */
KK_ALWAYS_INLINE __m256
max2x2 (const float *x, size_t col, size_t row)
{
  __m256 a = _mm256_max_ps (_mm256_loadu_ps (x), _mm256_set1_ps (-INFINITY));
  a = _mm256_max_ps (_mm256_loadu_ps (x + col), a);
  a = _mm256_max_ps (_mm256_loadu_ps (x + row), a);
  return _mm256_max_ps (_mm256_loadu_ps (x + row + col), a);
}

/* Interior columns [ox_begin, ox_end) of a row: every pixel has the same
 * taps, moved along by the stride. */
static void
pool_interior (const kk_pool_params *p, const kk_pool_row *row, size_t ox_begin, size_t ox_end)
{
  const size_t C = p->channels;
  const size_t step = p->stride_w * C;
  kk_pool_taps t = kk_pool_pixel_taps (p, row, ox_begin);
  float *o = row->out_row + ox_begin * C;

  if (t.ny == 2 && t.nx == 2 && C >= 8)
    {
      for (size_t ox = ox_begin; ox < ox_end; ox++, t.x += step, o += C)
        {
          size_t c = 0;
          for (; c + 16 <= C; c += 16)
            {
              const __m256 a0 = max2x2 (t.x + c, t.x_col, t.x_row);
              const __m256 a1 = max2x2 (t.x + c + 8, t.x_col, t.x_row);
              _mm256_storeu_ps (o + c, a0);
              _mm256_storeu_ps (o + c + 8, a1);
            }
          for (; c + 8 <= C; c += 8)
            _mm256_storeu_ps (o + c, max2x2 (t.x + c, t.x_col, t.x_row));
          if (c < C)
            _mm256_storeu_ps (o + C - 8, max2x2 (t.x + C - 8, t.x_col, t.x_row));
        }
      return;
    }
  for (size_t ox = ox_begin; ox < ox_end; ox++, t.x += step, o += C)
    pixel (&t, C, o);
}

void
kk_maxpool_f32_nhwc_avx2 (const kk_pool_params *p, const float *in, float *out,
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
