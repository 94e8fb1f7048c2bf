/* model-input-avx2.c — two output pixels per YMM register, 8 per group.
 *
 * At the downscales that matter (a 720p camera frame into a 128x128 tensor)
 * each output pixel touches only 4 source pixels, so the work is fetching
 * them and spreading bytes into lanes; the arithmetic is small. On AMD Zen 3
 * the binding limit is the FP/SIMD load path (two vector loads or stores a
 * cycle, shared by the shuffles that broadcast loads cost there), so the
 * scheme counts loads:
 *
 * - Taps: per pixel, one 8-byte load of the top pair and one of the bottom
 *   pair (both taps of a row are adjacent), never vpgather, which is slow on
 *   AMD Zen. Register pair k of a group holds pixels i + 2k (low lane) and
 *   i + 2k + 1 (high lane), top and bottom rows in separate registers.
 * - One vpshufb per row register spreads x0 and x1 of R, G, B into uint16
 *   pairs and one vpmaddwd with the column's fixed-point weights (one load
 *   for both pixels) does the horizontal blend exactly in int32: that is the
 *   reference's integer arithmetic, not an approximation of it.
 * - cvtdq2ps (exact: below 2^24), then two FMAs do the vertical blend, scale
 *   and offset in float.
 * - The next tensor row's source lines are prefetched while this one is
 *   computed (kk_mi_prefetch). With that, 720p RGBA -> 128x128 runs within
 *   a few percent of the time it takes only to read the cache lines it
 *   needs and write the tensor, which is what bounds it once the frame is
 *   not in L1 (compare the avx2 and floor rows of
 *   `kestrel-cli bench-kernels --kernel model_input`).
 * - NHWC: vpermps packs a register's two pixels into 6 contiguous floats and
 *   one 32-byte store writes them at a 24-byte pitch; its 2 spare floats land
 *   on the next pixel, which the next store rewrites. The last store of the
 *   run writes exactly what belongs to it, so nothing outside the row is
 *   ever written (rows may belong to other threads).
 * - NCHW: in-lane 4x4 transposes and a vpermps per channel.
 */
#include "model-input.h"

#include <immintrin.h>

#define GROUP 8

/* The pair at ofs[a] of row in the low lane, at ofs[a + 1] in the high one. */
static inline __m256i
load_pairs2 (const uint8_t *row, const uint32_t *ofs, size_t a)
{
  return _mm256_inserti128_si256 (_mm256_castsi128_si256 (_mm_loadl_epi64 ((const __m128i *) (row + ofs[a]))),
                                  _mm_loadl_epi64 ((const __m128i *) (row + ofs[a + 1])), 1);
}

/* Pixels a and a + 1 as R, G, B, 0 | R, G, B, 0. Also prefetches column a
 * of the next tensor row's two source rows (see kk_mi_prefetch). */
static inline __m256
pixels2 (const kk_mi_row *r, const kk_mi_cols *c, size_t a, __m256i ctl, __m256 wa, __m256 wb, __m256 off)
{
  const uint8_t *const top = r->top, *const bottom = r->bottom;
  const __m256i w = _mm256_loadu_si256 ((const __m256i *) (c->wx + 8 * a));

  kk_mi_prefetch (r, c, a);
  __m256 t = _mm256_cvtepi32_ps (_mm256_madd_epi16 (_mm256_shuffle_epi8 (load_pairs2 (top, c->ofs, a), ctl), w));
  __m256 b = _mm256_cvtepi32_ps (_mm256_madd_epi16 (_mm256_shuffle_epi8 (load_pairs2 (bottom, c->ofs, a), ctl), w));
  return _mm256_fmadd_ps (b, wb, _mm256_fmadd_ps (t, wa, off));
}

/* The 8 pixels of the group at column i: p[k] = pixels i + 2k | i + 2k + 1. */
static inline __attribute__ ((always_inline)) void
group8 (const kk_mi_row *r, const kk_mi_cols *c, size_t i,
        __m256i ctl, __m256 a, __m256 b, __m256 off, __m256 p[4])
{
  for (int k = 0; k < 4; k++)
    p[k] = pixels2 (r, c, i + 2 * (size_t) k, ctl, a, b, off);
}

/* R, G, B of both pixels of p in lanes 0..5. */
static inline __m256
pack6 (__m256 p)
{
  return _mm256_permutevar8x32_ps (p, _mm256_setr_epi32 (0, 1, 2, 4, 5, 6, 7, 7));
}

/* NCHW: p[k] holds pixels 2k and 2k+1; in-lane 4x4 transposes give each
 * channel as pixels 0 2 4 6 | 1 3 5 7, and one vpermps restores the order. */
static inline void
transpose (const __m256 p[4], __m256 rgb[3])
{
  const __m256i order = _mm256_setr_epi32 (0, 4, 1, 5, 2, 6, 3, 7);
  __m256 t0 = _mm256_unpacklo_ps (p[0], p[1]);  /* R0 R2 G0 G2 | R1 R3 G1 G3 */
  __m256 t1 = _mm256_unpackhi_ps (p[0], p[1]);  /* B0 B2 .. .. | B1 B3 .. .. */
  __m256 t2 = _mm256_unpacklo_ps (p[2], p[3]);  /* R4 R6 G4 G6 | R5 R7 G5 G7 */
  __m256 t3 = _mm256_unpackhi_ps (p[2], p[3]);
  rgb[0] = _mm256_permutevar8x32_ps (_mm256_shuffle_ps (t0, t2, 0x44), order);
  rgb[1] = _mm256_permutevar8x32_ps (_mm256_shuffle_ps (t0, t2, 0xEE), order);
  rgb[2] = _mm256_permutevar8x32_ps (_mm256_shuffle_ps (t1, t3, 0x44), order);
}

/* The 4 floats at p in both lanes (p needs no alignment). */
static inline __m256
bcast4 (const float *p)
{
  const __m128 v = _mm_loadu_ps (p);
  return _mm256_set_m128 (v, v);
}

void
kk_model_input_row_u8_f32__avx2 (const kk_mi_row *r, const kk_mi_cols *c)
{
  const __m256i ctl = _mm256_broadcastsi128_si256 (_mm_loadu_si128 ((const __m128i *) c->ctl));
  const __m256 a = bcast4 (r->a), b = bcast4 (r->b), off = bcast4 (r->offset);
  const bool nhwc = c->layout == KK_LAYOUT_NHWC;
  const size_t plane = c->plane;
  float *const dst = r->dst;
  /* Whole groups may run past n into the table's padding only when every
   * column is safe to load; otherwise the unsafe tail is scalar. */
  const size_t n_vec = c->n_simd == c->n ? c->n : c->n_simd / GROUP * GROUP;
  __m256 p[4];
  size_t i = 0;

  /* Every group but the last of the run: full stores. */
  for (; i + GROUP < n_vec; i += GROUP)
    {
      group8 (r, c, i, ctl, a, b, off, p);
      if (nhwc)
        {
          float *d = dst + 3 * i;
          _mm256_storeu_ps (d + 0, pack6 (p[0]));
          _mm256_storeu_ps (d + 6, pack6 (p[1]));
          _mm256_storeu_ps (d + 12, pack6 (p[2]));
          _mm256_storeu_ps (d + 18, pack6 (p[3]));
        }
      else
        {
          __m256 rgb[3];
          transpose (p, rgb);
          _mm256_storeu_ps (dst + i, rgb[0]);
          _mm256_storeu_ps (dst + plane + i, rgb[1]);
          _mm256_storeu_ps (dst + 2 * plane + i, rgb[2]);
        }
    }
  /* The last group: m pixels, ending exactly at the run's last float. */
  if (i < n_vec)
    {
      const size_t m = n_vec - i;
      group8 (r, c, i, ctl, a, b, off, p);
      if (nhwc)
        {
          float *d = dst + 3 * i;
          size_t k = 0;
          for (; 2 * k + 2 < m; k++)  /* pairs followed by more pixels */
            _mm256_storeu_ps (d + 6 * k, pack6 (p[k]));
          __m256 last = pack6 (p[k]);
          __m128 lo = _mm256_castps256_ps128 (last);
          float *e = d + 6 * k;
          if (2 * k + 2 == m)
            {
              /* a whole pair: 6 floats */
              _mm_storeu_ps (e, lo);
              _mm_storel_pi ((__m64 *) (e + 4), _mm256_extractf128_ps (last, 1));
            }
          else
            {
              /* one pixel: 3 floats */
              _mm_storel_pi ((__m64 *) e, lo);
              _mm_store_ss (e + 2, _mm_movehl_ps (lo, lo));
            }
        }
      else
        {
          __m256 rgb[3];
          const __m256i mask = _mm256_cmpgt_epi32 (_mm256_set1_epi32 ((int) m),
                                                   _mm256_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7));
          transpose (p, rgb);
          _mm256_maskstore_ps (dst + i, mask, rgb[0]);
          _mm256_maskstore_ps (dst + plane + i, mask, rgb[1]);
          _mm256_maskstore_ps (dst + 2 * plane + i, mask, rgb[2]);
        }
    }
  kk_mi_pixels (r, c, n_vec, c->n);
}

void
kk_model_input_u8_f32__avx2 (const kk_image_view *src, float *dst,
                             const kk_model_input_params *params, size_t row_begin, size_t row_end)
{
  kk_mi_run (src, dst, params, row_begin, row_end, kk_model_input_row_u8_f32__avx2);
}
