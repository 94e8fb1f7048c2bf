/* model-input-avx512.c — four output pixels per ZMM register, 16 per group.
 *
 * The AVX2 scheme (see model-input-avx2.c) widened, kept deliberately close
 * to it because this file cannot be run on the machines it was written on:
 * register k of a group holds pixels i + 4k .. i + 4k + 3, one per 128-bit
 * lane, built from two AVX2-style halves (8-byte pair loads, vpbroadcastq +
 * vpblendd, no gathers); vpshufb (BW) spreads the taps into int32 lanes;
 * weights are one plain load of the pre-replicated table. The arithmetic
 * per pixel is half of AVX2's.
 *
 * Stores use opmasks instead of the AVX2 version's careful overlap rules at
 * the end of a run: NHWC packs each register's 4 pixels into 12 contiguous
 * floats (vpermps) and stores 16 at a 48-byte pitch inside the run (the 4
 * spare floats are rewritten by the next store), and with a 3-per-pixel
 * mask in the run's last group; NCHW transposes in-lane, restores pixel
 * order with one vpermps per channel, and masks the last group.
 */
#include "model-input.h"

#include <immintrin.h>

#define GROUP 16

/* Pixels a and a + 1: [top pair a, bottom pair a | top pair a+1, bottom pair a+1]. */
static inline __m256i
load_taps2 (const uint8_t *top, const uint8_t *bottom, const uint32_t *ofs, size_t a, bool gray)
{
  const uint32_t o0 = ofs[a], o1 = ofs[a + 1];

  if (gray)
    {
      uint16_t t0, b0, t1, b1;
      memcpy (&t0, top + o0, 2);
      memcpy (&b0, bottom + o0, 2);
      memcpy (&t1, top + o1, 2);
      memcpy (&b1, bottom + o1, 2);
      return _mm256_setr_epi64x ((long long) t0, (long long) b0, (long long) t1, (long long) b1);
    }
  long long q[4];
  memcpy (&q[0], top + o0, 8);
  memcpy (&q[1], bottom + o0, 8);
  memcpy (&q[2], top + o1, 8);
  memcpy (&q[3], bottom + o1, 8);
  __m256i lo = _mm256_blend_epi32 (_mm256_set1_epi64x (q[0]), _mm256_set1_epi64x (q[1]), 0x0C);
  __m256i hi = _mm256_blend_epi32 (_mm256_set1_epi64x (q[2]), _mm256_set1_epi64x (q[3]), 0xC0);
  return _mm256_blend_epi32 (lo, hi, 0xF0);
}

/* Pixels a .. a + 3, one per 128-bit lane. */
static inline __m512i
load_taps4 (const uint8_t *top, const uint8_t *bottom, const uint32_t *ofs, size_t a, bool gray)
{
  return _mm512_inserti64x4 (_mm512_castsi256_si512 (load_taps2 (top, bottom, ofs, a, gray)),
                             load_taps2 (top, bottom, ofs, a + 2, gray), 1);
}

static inline __m512
pixels4 (__m512i v, const __m512i ctl[4], __m512 a, __m512 b, __m512 w0, __m512 w1, __m512 off)
{
  __m512 tl = _mm512_cvtepi32_ps (_mm512_shuffle_epi8 (v, ctl[0]));
  __m512 tr = _mm512_cvtepi32_ps (_mm512_shuffle_epi8 (v, ctl[1]));
  __m512 bl = _mm512_cvtepi32_ps (_mm512_shuffle_epi8 (v, ctl[2]));
  __m512 br = _mm512_cvtepi32_ps (_mm512_shuffle_epi8 (v, ctl[3]));
  __m512 left = _mm512_fmadd_ps (bl, b, _mm512_mul_ps (tl, a));
  __m512 right = _mm512_fmadd_ps (br, b, _mm512_mul_ps (tr, a));
  return _mm512_fmadd_ps (left, w0, _mm512_fmadd_ps (right, w1, off));
}

/* The 16 pixels of the group at column i: p[k] = pixels i + 4k .. i + 4k + 3.
 * Reads table entries up to i + 15, inside the padding when past n. */
static inline __attribute__ ((always_inline)) void
group16 (const uint8_t *top, const uint8_t *bottom, const kk_mi_cols *c, size_t i, bool gray,
         const __m512i ctl[4], __m512 a, __m512 b, __m512 off, __m512 p[4])
{
  for (int k = 0; k < 4; k++)
    {
      const size_t px = i + 4 * (size_t) k;
      p[k] = pixels4 (load_taps4 (top, bottom, c->ofs, px, gray), ctl, a, b,
                      _mm512_loadu_ps (c->w0 + 4 * px), _mm512_loadu_ps (c->w1 + 4 * px), off);
    }
}

/* R, G, B of the 4 pixels of p in lanes 0..11. */
static inline __m512
pack12 (__m512 p)
{
  return _mm512_permutexvar_ps (_mm512_setr_epi32 (0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 15, 15, 15, 15), p);
}

/* NCHW: lane L of p[k] is pixel 4k + L, so the in-lane 4x4 transposes leave
 * channel value j at position 4 (j % 4) + j / 4; the same index vector (a
 * 4x4 transpose is its own inverse) puts it back at j. */
static inline void
transpose (const __m512 p[4], __m512 rgb[3])
{
  const __m512i order = _mm512_setr_epi32 (0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  __m512 t0 = _mm512_unpacklo_ps (p[0], p[1]);  /* per lane L: R(L) R(4+L) G(L) G(4+L) */
  __m512 t1 = _mm512_unpackhi_ps (p[0], p[1]);  /* per lane L: B(L) B(4+L) .. .. */
  __m512 t2 = _mm512_unpacklo_ps (p[2], p[3]);  /* per lane L: R(8+L) R(12+L) G(8+L) G(12+L) */
  __m512 t3 = _mm512_unpackhi_ps (p[2], p[3]);
  rgb[0] = _mm512_permutexvar_ps (order, _mm512_shuffle_ps (t0, t2, 0x44));
  rgb[1] = _mm512_permutexvar_ps (order, _mm512_shuffle_ps (t0, t2, 0xEE));
  rgb[2] = _mm512_permutexvar_ps (order, _mm512_shuffle_ps (t1, t3, 0x44));
}

static inline __attribute__ ((always_inline)) void
row_avx512 (const kk_mi_row *r, const kk_mi_cols *c, bool gray)
{
  __m512i ctl[4];
  for (int t = 0; t < 4; t++)
    ctl[t] = _mm512_broadcast_i32x4 (_mm_loadu_si128 ((const __m128i *) c->ctl[t]));
  const __m512 a = _mm512_broadcast_f32x4 (_mm_loadu_ps (r->a));
  const __m512 b = _mm512_broadcast_f32x4 (_mm_loadu_ps (r->b));
  const __m512 off = _mm512_broadcast_f32x4 (_mm_loadu_ps (r->offset));
  /* Locals: the stores below may alias anything (no strict aliasing). */
  const uint8_t *const top = r->top, *const bottom = r->bottom;
  const bool nhwc = c->layout == KK_LAYOUT_NHWC;
  const size_t plane = c->plane;
  float *const dst = r->dst;
  /* Whole groups may run past n into the table's padding (which reaches
   * n + 15) only when every column is safe to load; otherwise the unsafe
   * tail is scalar. */
  const size_t n_vec = c->n_simd == c->n ? c->n : c->n_simd / GROUP * GROUP;
  __m512 p[4];
  size_t i = 0;

  /* Every group but the last of the run: full stores. */
  for (; i + GROUP < n_vec; i += GROUP)
    {
      group16 (top, bottom, c, i, gray, ctl, a, b, off, p);
      if (nhwc)
        {
          float *d = dst + 3 * i;
          _mm512_storeu_ps (d + 0, pack12 (p[0]));
          _mm512_storeu_ps (d + 12, pack12 (p[1]));
          _mm512_storeu_ps (d + 24, pack12 (p[2]));
          _mm512_storeu_ps (d + 36, pack12 (p[3]));
        }
      else
        {
          __m512 rgb[3];
          transpose (p, rgb);
          _mm512_storeu_ps (dst + i, rgb[0]);
          _mm512_storeu_ps (dst + plane + i, rgb[1]);
          _mm512_storeu_ps (dst + 2 * plane + i, rgb[2]);
        }
    }
  /* The last group: m pixels (1..16), every store masked to what is ours. */
  if (i < n_vec)
    {
      const size_t m = n_vec - i;
      group16 (top, bottom, c, i, gray, ctl, a, b, off, p);
      if (nhwc)
        {
          float *d = dst + 3 * i;
          for (size_t k = 0; k < 4 && 4 * k < m; k++)
            {
              const size_t count = m - 4 * k < 4 ? m - 4 * k : 4;  /* pixels in p[k] */
              _mm512_mask_storeu_ps (d + 12 * k, (__mmask16) ((1u << (3 * count)) - 1u), pack12 (p[k]));
            }
        }
      else
        {
          __m512 rgb[3];
          const __mmask16 mask = (__mmask16) ((1u << m) - 1u);  /* m <= 16; 1u << 16 fits */
          transpose (p, rgb);
          _mm512_mask_storeu_ps (dst + i, mask, rgb[0]);
          _mm512_mask_storeu_ps (dst + plane + i, mask, rgb[1]);
          _mm512_mask_storeu_ps (dst + 2 * plane + i, mask, rgb[2]);
        }
    }
  kk_mi_pixels (r, c, n_vec, c->n);
}

void
kk_model_input_row_u8_f32__avx512 (const kk_mi_row *row, const kk_mi_cols *cols)
{
  /* Two instantiations so the per-pixel load has no format branch. */
  if (cols->format == KK_PIXEL_GRAY8)
    row_avx512 (row, cols, true);
  else
    row_avx512 (row, cols, false);
}

void
kk_model_input_u8_f32__avx512 (const kk_image_view *src, float *dst,
                               const kk_model_input_params *params, size_t row_begin, size_t row_end)
{
  kk_mi_run (src, dst, params, row_begin, row_end, kk_model_input_row_u8_f32__avx512);
}
