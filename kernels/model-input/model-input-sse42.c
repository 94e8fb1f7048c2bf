/* model-input-sse42.c — one output pixel per XMM register.
 *
 * Each pixel's four taps arrive as one 16-byte register (the top pair from
 * byte 0, the bottom pair from byte 8: two 8-byte loads, as the downscales
 * that matter touch only 4 source pixels per output and a gather would cost
 * more), pshufb spreads each tap's R, G, B into int32 lanes, and the
 * arithmetic then runs on R, G, B, 0 lanes in the order of the scalar
 * formula. Without FMA that order is the reference's exactly, so this
 * version matches it bit for bit (the tests still allow rounding).
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

static inline __m128i
load_taps (const kk_mi_row *r, const kk_mi_cols *c, size_t i, bool gray)
{
  const uint32_t o = c->ofs[i];

  if (gray)
    {
      uint16_t t, b;
      memcpy (&t, r->top + o, 2);
      memcpy (&b, r->bottom + o, 2);
      return _mm_insert_epi16 (_mm_cvtsi32_si128 (t), b, 4);
    }
  /* Two duplicating loads (movddup, a pure load) and a blend keep this off
   * the shuffle port, which pshufb already keeps busy. */
  long long t, b;
  memcpy (&t, r->top + o, 8);
  memcpy (&b, r->bottom + o, 8);
  return _mm_blend_epi16 (_mm_set1_epi64x (t), _mm_set1_epi64x (b), 0xF0);
}

/* R, G, B, 0 of column i, in the reference's order of operations. */
static inline __m128
pixel (__m128i v, const __m128i ctl[4], __m128 a, __m128 b, __m128 w0, __m128 w1, __m128 off)
{
  __m128 tl = _mm_cvtepi32_ps (_mm_shuffle_epi8 (v, ctl[0]));
  __m128 tr = _mm_cvtepi32_ps (_mm_shuffle_epi8 (v, ctl[1]));
  __m128 bl = _mm_cvtepi32_ps (_mm_shuffle_epi8 (v, ctl[2]));
  __m128 br = _mm_cvtepi32_ps (_mm_shuffle_epi8 (v, ctl[3]));
  __m128 left = _mm_add_ps (_mm_mul_ps (tl, a), _mm_mul_ps (bl, b));
  __m128 right = _mm_add_ps (_mm_mul_ps (tr, a), _mm_mul_ps (br, b));
  return _mm_add_ps (_mm_add_ps (_mm_mul_ps (left, w0), _mm_mul_ps (right, w1)), off);
}

static inline void
store3 (float *d, __m128 v)
{
  _mm_storel_pi ((__m64 *) d, v);
  _mm_store_ss (d + 2, _mm_movehl_ps (v, v));
}

static inline __attribute__ ((always_inline)) void
row_sse42 (const kk_mi_row *r, const kk_mi_cols *c, bool gray)
{
  const __m128i ctl[4] = {
    _mm_loadu_si128 ((const __m128i *) c->ctl[0]), _mm_loadu_si128 ((const __m128i *) c->ctl[1]),
    _mm_loadu_si128 ((const __m128i *) c->ctl[2]), _mm_loadu_si128 ((const __m128i *) c->ctl[3]),
  };
  const __m128 a = _mm_loadu_ps (r->a), b = _mm_loadu_ps (r->b), off = _mm_loadu_ps (r->offset);
  /* Whole groups may run past n into the table's padding only when every
   * column is safe to load; otherwise the unsafe tail is scalar. */
  const size_t n_vec = c->n_simd == c->n ? c->n : c->n_simd / GROUP * GROUP;
  float *dst = r->dst;

  for (size_t i = 0; i < n_vec; i += GROUP)
    {
      __m128 p[GROUP];
#define PIXEL(k) \
      p[k] = pixel (load_taps (r, c, i + k, gray), ctl, a, b, \
                    _mm_loadu_ps (c->w0 + 4 * (i + k)), _mm_loadu_ps (c->w1 + 4 * (i + k)), off)
      PIXEL (0);
      PIXEL (1);
      PIXEL (2);
      PIXEL (3);
#undef PIXEL
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
kk_model_input_row_u8_f32__sse42 (const kk_mi_row *row, const kk_mi_cols *cols)
{
  /* Two instantiations so the per-pixel load has no format branch. */
  if (cols->format == KK_PIXEL_GRAY8)
    row_sse42 (row, cols, true);
  else
    row_sse42 (row, cols, false);
}

void
kk_model_input_u8_f32__sse42 (const kk_image_view *src, float *dst,
                              const kk_model_input_params *params, size_t row_begin, size_t row_end)
{
  kk_mi_run (src, dst, params, row_begin, row_end, kk_model_input_row_u8_f32__sse42);
}
