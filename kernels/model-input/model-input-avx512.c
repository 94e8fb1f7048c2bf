/* model-input-avx512.c — four output pixels per ZMM register, 16 per group.
 *
 * The AVX2 scheme (see model-input-avx2.c) widened, kept deliberately close
 * to it because this file cannot be run on the machines it was written on:
 * for each source row, register k of a group holds the 8-byte pairs of
 * pixels i + 4k .. i + 4k + 3, one per 128-bit lane (plain 64-bit loads
 * inserted lane by lane, no gathers); vpshufb (BW) spreads x0 and x1 of
 * R, G, B into uint16 pairs and vpmaddwd (BW) with one load of the
 * fixed-point weight table does the horizontal blend in exact int32; two
 * FMAs do the vertical blend, scale and offset.
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

/* The pairs at ofs[a] and ofs[a + 1] of row, one per 128-bit lane. */
static inline __m256i
load_pairs2 (const uint8_t *row, const uint32_t *ofs, size_t a)
{
  return _mm256_inserti128_si256 (_mm256_castsi128_si256 (_mm_loadl_epi64 ((const __m128i *) (row + ofs[a]))),
                                  _mm_loadl_epi64 ((const __m128i *) (row + ofs[a + 1])), 1);
}

/* The pairs of pixels a .. a + 3, one per 128-bit lane. */
static inline __m512i
load_pairs4 (const uint8_t *row, const uint32_t *ofs, size_t a)
{
  return _mm512_inserti64x4 (_mm512_castsi256_si512 (load_pairs2 (row, ofs, a)),
                             load_pairs2 (row, ofs, a + 2), 1);
}

/* Pixels a .. a + 3 as R, G, B, 0 per lane; prefetches as AVX2 does. */
static inline __m512
pixels4 (const kk_mi_row *r, const kk_mi_cols *c, size_t a, __m512i ctl, __m512 wa, __m512 wb, __m512 off)
{
  const uint8_t *const top = r->top, *const bottom = r->bottom;
  const __m512i w = _mm512_loadu_si512 ((const void *) (c->wx + 8 * a));

  kk_mi_prefetch (r, c, a);
  kk_mi_prefetch (r, c, a + 2);
  __m512 t = _mm512_cvtepi32_ps (_mm512_madd_epi16 (_mm512_shuffle_epi8 (load_pairs4 (top, c->ofs, a), ctl), w));
  __m512 b = _mm512_cvtepi32_ps (_mm512_madd_epi16 (_mm512_shuffle_epi8 (load_pairs4 (bottom, c->ofs, a), ctl), w));
  return _mm512_fmadd_ps (b, wb, _mm512_fmadd_ps (t, wa, off));
}

/* The 16 pixels of the group at column i: p[k] = pixels i + 4k .. i + 4k + 3.
 * Reads table entries up to i + 15, inside the padding when past n. */
static inline __attribute__ ((always_inline)) void
group16 (const kk_mi_row *r, const kk_mi_cols *c, size_t i,
         __m512i ctl, __m512 a, __m512 b, __m512 off, __m512 p[4])
{
  for (int k = 0; k < 4; k++)
    p[k] = pixels4 (r, c, i + 4 * (size_t) k, ctl, a, b, off);
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

void
kk_model_input_row_u8_f32__avx512 (const kk_mi_row *r, const kk_mi_cols *c)
{
  const __m512i ctl = _mm512_broadcast_i32x4 (_mm_loadu_si128 ((const __m128i *) c->ctl));
  const __m512 a = _mm512_broadcast_f32x4 (_mm_loadu_ps (r->a));
  const __m512 b = _mm512_broadcast_f32x4 (_mm_loadu_ps (r->b));
  const __m512 off = _mm512_broadcast_f32x4 (_mm_loadu_ps (r->offset));
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
      group16 (r, c, i, ctl, a, b, off, p);
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
      group16 (r, c, i, ctl, a, b, off, p);
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
kk_model_input_u8_f32__avx512 (const kk_image_view *src, float *dst,
                               const kk_model_input_params *params, size_t row_begin, size_t row_end)
{
  kk_mi_run (src, dst, params, row_begin, row_end, kk_model_input_row_u8_f32__avx512);
}
