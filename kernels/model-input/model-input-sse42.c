/* model-input-sse42.c — one output pixel per XMM register.
 *
 * Each pixel's taps arrive as two 8-byte loads (the top pair and the bottom
 * pair: the downscales that matter touch only 4 source pixels per output,
 * and a gather would cost more). One pshufb per row spreads x0 and x1 of
 * R, G, B into uint16 pairs, one pmaddwd with the column's fixed-point
 * weights does the horizontal blend in exact int32 (the reference's integer
 * arithmetic), and the vertical blend, scale and offset run on R, G, B, 0
 * float lanes in the reference's order. Without FMA that order is the
 * reference's exactly, so this version matches it bit for bit (the tests
 * still allow rounding).
 *
 * NHWC output is written with overlapping 16-byte stores, one per pixel at
 * a 12-byte pitch; each store's 4th float lands on the next pixel, which is
 * written later in the same row, so only the last pixel of the run stores
 * 12 bytes. NCHW transposes groups of 4 pixels into R, G, B vectors.
 */
#include "model-input.h"

#include <smmintrin.h>
#include <tmmintrin.h>

#define GROUP 4

/* Horizontal blend of one row's pair at ofs: R, G, B, 0 as exact floats. */
static inline __m128
row_pair (const uint8_t *row, uint32_t ofs, __m128i ctl, __m128i w)
{
  const __m128i pair = _mm_loadl_epi64 ((const __m128i *) (row + ofs));
  return _mm_cvtepi32_ps (_mm_madd_epi16 (_mm_shuffle_epi8 (pair, ctl), w));
}

/* R, G, B, 0 of column i, in the reference's order of operations. */
static inline __m128
pixel (const kk_mi_row *r, const kk_mi_cols *c, size_t i, __m128i ctl, __m128 a, __m128 b, __m128 off)
{
  const __m128i w = _mm_loadu_si128 ((const __m128i *) (c->wx + 8 * i));
  __m128 top = row_pair (r->top, c->ofs[i], ctl, w);
  __m128 bottom = row_pair (r->bottom, c->ofs[i], ctl, w);
  return _mm_add_ps (_mm_add_ps (_mm_mul_ps (top, a), off), _mm_mul_ps (bottom, b));
}

static inline void
store3 (float *d, __m128 v)
{
  _mm_storel_pi ((__m64 *) d, v);
  _mm_store_ss (d + 2, _mm_movehl_ps (v, v));
}

void
kk_model_input_row_u8_f32__sse42 (const kk_mi_row *r, const kk_mi_cols *c)
{
  const __m128i ctl = _mm_loadu_si128 ((const __m128i *) c->ctl);
  const __m128 a = _mm_loadu_ps (r->a), b = _mm_loadu_ps (r->b), off = _mm_loadu_ps (r->offset);
  /* Whole groups may run past n into the table's padding only when every
   * column is safe to load; otherwise the unsafe tail is scalar. */
  const size_t n_vec = c->n_simd == c->n ? c->n : c->n_simd / GROUP * GROUP;
  float *dst = r->dst;

  for (size_t i = 0; i < n_vec; i += GROUP)
    {
      __m128 p[GROUP];
      kk_mi_prefetch (r, c, i);
      kk_mi_prefetch (r, c, i + 2);
      for (size_t k = 0; k < GROUP; k++)
        p[k] = pixel (r, c, i + k, ctl, a, b, off);
      const size_t m = n_vec - i < GROUP ? n_vec - i : GROUP;

      if (c->layout == KK_LAYOUT_NHWC)
        {
          float *d = dst + 3 * i;
          if (i + GROUP < n_vec)
            {
              _mm_storeu_ps (d + 0, p[0]);
              _mm_storeu_ps (d + 3, p[1]);
              _mm_storeu_ps (d + 6, p[2]);
              _mm_storeu_ps (d + 9, p[3]);
            }
          else
            {
              for (size_t k = 0; k + 1 < m; k++)
                _mm_storeu_ps (d + 3 * k, p[k]);
              store3 (d + 3 * (m - 1), p[m - 1]);
            }
        }
      else
        {
          /* 4x4 transpose of R G B 0 rows into R, G, B columns. */
          __m128 t0 = _mm_unpacklo_ps (p[0], p[1]);  /* R0 R1 G0 G1 */
          __m128 t1 = _mm_unpackhi_ps (p[0], p[1]);  /* B0 B1 .. .. */
          __m128 t2 = _mm_unpacklo_ps (p[2], p[3]);  /* R2 R3 G2 G3 */
          __m128 t3 = _mm_unpackhi_ps (p[2], p[3]);  /* B2 B3 .. .. */
          __m128 rgb[3] = { _mm_movelh_ps (t0, t2), _mm_movehl_ps (t2, t0), _mm_movelh_ps (t1, t3) };
          for (int ch = 0; ch < 3; ch++)
            {
              float *d = dst + ch * c->plane + i;
              if (m == GROUP)
                _mm_storeu_ps (d, rgb[ch]);
              else
                {
                  float tmp[GROUP];
                  _mm_storeu_ps (tmp, rgb[ch]);
                  for (size_t k = 0; k < m; k++)
                    d[k] = tmp[k];
                }
            }
        }
    }
  kk_mi_pixels (r, c, n_vec, c->n);
}

void
kk_model_input_u8_f32__sse42 (const kk_image_view *src, float *dst,
                              const kk_model_input_params *params, size_t row_begin, size_t row_end)
{
  kk_mi_run (src, dst, params, row_begin, row_end, kk_model_input_row_u8_f32__sse42);
}
