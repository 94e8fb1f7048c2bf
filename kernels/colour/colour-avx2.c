/* colour-avx2.c — gray conversions with AVX2 (32 pixels a step).
 *
 * Same arithmetic as the SSE4.2 version (see there): pmaddwd on {R, B} and
 * {G, 0} word pairs, an exact Q15 sum, round, shift, pack. The packs work
 * within 128-bit lanes, so 4-byte pixels need one vpermd to put the bytes
 * back in order; RGB groups are loaded lane by lane in the order the packs
 * want, which needs no permute at all.
 */
#include "colour.h"

#include <immintrin.h>
#include <string.h>

static inline __m256i
luma_x8_4ch (__m256i px, __m256i w_02, __m256i w_13)
{
  const __m256i lo_bytes = _mm256_set1_epi16 (0x00ff);
  __m256i b02 = _mm256_and_si256 (px, lo_bytes);
  __m256i b13 = _mm256_srli_epi16 (px, 8);
  __m256i s = _mm256_add_epi32 (_mm256_madd_epi16 (b02, w_02), _mm256_madd_epi16 (b13, w_13));
  return _mm256_srli_epi32 (_mm256_add_epi32 (s, _mm256_set1_epi32 ((int) KK_LUMA_ROUND)), KK_LUMA_SHIFT);
}

/* Eight 32-bit lumas whose lanes hold pixels 0-3 and 4-7, to 8 bytes. */
static inline void
store_x8 (uint8_t *dst, __m256i y)
{
  __m256i w = _mm256_packs_epi32 (y, y);
  __m256i b = _mm256_packus_epi16 (w, w);
  __m128i both = _mm_unpacklo_epi32 (_mm256_castsi256_si128 (b), _mm256_extracti128_si256 (b, 1));
  _mm_storel_epi64 ((__m128i *) dst, both);
}

static inline void
gray_from_4ch (const uint8_t *src, uint8_t *dst, size_t n, int w0, int w2, int r_at, int b_at)
{
  const __m256i w_02 = _mm256_set1_epi32 ((int) ((unsigned) w2 << 16 | (unsigned) w0));
  const __m256i w_13 = _mm256_set1_epi32 ((int) KK_LUMA_G);
  /* after the in-lane packs, dword k of the result holds pixels
   * 4 * order[k] .. + 3 */
  const __m256i order = _mm256_setr_epi32 (0, 4, 1, 5, 2, 6, 3, 7);
  size_t i = 0;

  for (; i + 32 <= n; i += 32)
    {
      const uint8_t *p = src + 4 * i;
      __m256i y0 = luma_x8_4ch (_mm256_loadu_si256 ((const __m256i *) p), w_02, w_13);
      __m256i y1 = luma_x8_4ch (_mm256_loadu_si256 ((const __m256i *) (p + 32)), w_02, w_13);
      __m256i y2 = luma_x8_4ch (_mm256_loadu_si256 ((const __m256i *) (p + 64)), w_02, w_13);
      __m256i y3 = luma_x8_4ch (_mm256_loadu_si256 ((const __m256i *) (p + 96)), w_02, w_13);
      __m256i w01 = _mm256_packs_epi32 (y0, y1);
      __m256i w23 = _mm256_packs_epi32 (y2, y3);
      __m256i b = _mm256_permutevar8x32_epi32 (_mm256_packus_epi16 (w01, w23), order);
      _mm256_storeu_si256 ((__m256i *) (dst + i), b);
    }
  for (; i + 8 <= n; i += 8)
    store_x8 (dst + i, luma_x8_4ch (_mm256_loadu_si256 ((const __m256i *) (src + 4 * i)), w_02, w_13));
  for (; i < n; i++)
    dst[i] = kk_luma_u8 (src[4 * i + r_at], src[4 * i + 1], src[4 * i + b_at]);
}

void
kk_gray_from_rgba8__avx2 (const uint8_t *src, uint8_t *dst, size_t n)
{
  gray_from_4ch (src, dst, n, KK_LUMA_R, KK_LUMA_B, 0, 2);
}

void
kk_gray_from_bgra8__avx2 (const uint8_t *src, uint8_t *dst, size_t n)
{
  gray_from_4ch (src, dst, n, KK_LUMA_B, KK_LUMA_R, 2, 0);
}

/* RGB, 4 pixels (12 bytes) per 128-bit lane. A group loaded from 4 bytes
 * before its start uses the "4" shuffles, which keeps every load inside the
 * pixels being converted. */
static inline __m256i
luma_x8_rgb (__m256i raw, __m256i sh_rb, __m256i sh_g, __m256i w_rb, __m256i w_g)
{
  __m256i rb = _mm256_shuffle_epi8 (raw, sh_rb);
  __m256i g = _mm256_shuffle_epi8 (raw, sh_g);
  __m256i s = _mm256_add_epi32 (_mm256_madd_epi16 (rb, w_rb), _mm256_madd_epi16 (g, w_g));
  return _mm256_srli_epi32 (_mm256_add_epi32 (s, _mm256_set1_epi32 ((int) KK_LUMA_ROUND)), KK_LUMA_SHIFT);
}

static inline __m256i
load_2x128 (const uint8_t *lo, const uint8_t *hi)
{
  return _mm256_inserti128_si256 (_mm256_castsi128_si256 (_mm_loadu_si128 ((const __m128i *) lo)),
                                  _mm_loadu_si128 ((const __m128i *) hi), 1);
}

void
kk_gray_from_rgb8__avx2 (const uint8_t *src, uint8_t *dst, size_t n)
{
  const __m128i sh_rb0_128 = _mm_setr_epi8 (0, -1, 2, -1, 3, -1, 5, -1, 6, -1, 8, -1, 9, -1, 11, -1);
  const __m128i sh_g0_128 = _mm_setr_epi8 (1, -1, -1, -1, 4, -1, -1, -1, 7, -1, -1, -1, 10, -1, -1, -1);
  const __m128i sh_rb4_128 = _mm_setr_epi8 (4, -1, 6, -1, 7, -1, 9, -1, 10, -1, 12, -1, 13, -1, 15, -1);
  const __m128i sh_g4_128 = _mm_setr_epi8 (5, -1, -1, -1, 8, -1, -1, -1, 11, -1, -1, -1, 14, -1, -1, -1);
  const __m256i sh_rb0 = _mm256_broadcastsi128_si256 (sh_rb0_128);
  const __m256i sh_g0 = _mm256_broadcastsi128_si256 (sh_g0_128);
  const __m256i sh_rb4 = _mm256_broadcastsi128_si256 (sh_rb4_128);
  const __m256i sh_g4 = _mm256_broadcastsi128_si256 (sh_g4_128);
  /* for the 8-pixel step: the low lane's group starts its load, the high
   * lane's is loaded from 4 bytes early */
  const __m256i sh_rb04 = _mm256_setr_m128i (sh_rb0_128, sh_rb4_128);
  const __m256i sh_g04 = _mm256_setr_m128i (sh_g0_128, sh_g4_128);
  const __m256i w_rb = _mm256_set1_epi32 ((int) (KK_LUMA_B << 16 | KK_LUMA_R));
  const __m256i w_g = _mm256_set1_epi32 ((int) KK_LUMA_G);
  size_t i = 0;

  /* Group g (pixels 4g..4g+3) starts at byte 12g. Vector j carries groups j
   * and j + 4 in its two lanes, so after packs(y0, y1), packs(y2, y3) and
   * packus the low lane holds pixels 0-15 and the high lane 16-31. */
  for (; i + 32 <= n; i += 32)
    {
      const uint8_t *p = src + 3 * i;
      __m256i y0 = luma_x8_rgb (load_2x128 (p, p + 48), sh_rb0, sh_g0, w_rb, w_g);
      __m256i y1 = luma_x8_rgb (load_2x128 (p + 12, p + 60), sh_rb0, sh_g0, w_rb, w_g);
      __m256i y2 = luma_x8_rgb (load_2x128 (p + 24, p + 72), sh_rb0, sh_g0, w_rb, w_g);
      __m256i y3 = luma_x8_rgb (load_2x128 (p + 32, p + 80), sh_rb4, sh_g4, w_rb, w_g);
      __m256i w01 = _mm256_packs_epi32 (y0, y1);
      __m256i w23 = _mm256_packs_epi32 (y2, y3);
      _mm256_storeu_si256 ((__m256i *) (dst + i), _mm256_packus_epi16 (w01, w23));
    }
  for (; i + 8 <= n; i += 8)
    {
      const uint8_t *p = src + 3 * i;
      store_x8 (dst + i, luma_x8_rgb (load_2x128 (p, p + 8), sh_rb04, sh_g04, w_rb, w_g));
    }
  for (; i < n; i++)
    dst[i] = kk_luma_u8 (src[3 * i], src[3 * i + 1], src[3 * i + 2]);
}
