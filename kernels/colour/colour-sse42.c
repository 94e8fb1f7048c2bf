/* colour-sse42.c — gray conversions with SSSE3/SSE4.1 (16 pixels a step).
 *
 * The weights need 16-bit lanes (19235 > 127), so each pixel is split into
 * two pairs of 16-bit words, {R, B} and {G, 0}, and one pmaddwd per pair
 * yields a 32-bit partial sum per pixel: the Q15 sum is exact, then rounded,
 * shifted and packed down to bytes.
 */
#include "colour.h"

#include <string.h>
#include <tmmintrin.h>
#include <smmintrin.h>

/* Four 4-byte pixels whose R (or B) sits in byte 0 and G in byte 1: masking
 * keeps bytes 0 and 2 as words, a 16-bit shift moves bytes 1 and 3 down.
 * The 4th byte meets a zero weight, so RGBA, BGRA and BGRx all work. */
static inline __m128i
luma_x4_4ch (__m128i px, __m128i w_02, __m128i w_13)
{
  const __m128i lo_bytes = _mm_set1_epi16 (0x00ff);
  __m128i b02 = _mm_and_si128 (px, lo_bytes);
  __m128i b13 = _mm_srli_epi16 (px, 8);
  __m128i s = _mm_add_epi32 (_mm_madd_epi16 (b02, w_02), _mm_madd_epi16 (b13, w_13));
  return _mm_srli_epi32 (_mm_add_epi32 (s, _mm_set1_epi32 ((int) KK_LUMA_ROUND)), KK_LUMA_SHIFT);
}

/* Four 32-bit lumas (each <= 255) to four bytes at dst. */
static inline void
store_x4 (uint8_t *dst, __m128i y)
{
  __m128i w = _mm_packs_epi32 (y, y);
  int32_t v = _mm_cvtsi128_si32 (_mm_packus_epi16 (w, w));
  memcpy (dst, &v, 4);
}

/* w_02 weighs bytes 0 and 2 of each pixel: (R, B) for RGBA, (B, R) for BGRA. */
static inline void
gray_from_4ch (const uint8_t *src, uint8_t *dst, size_t n, int w0, int w2, int r_at, int b_at)
{
  const __m128i w_02 = _mm_set1_epi32 ((int) ((unsigned) w2 << 16 | (unsigned) w0));
  const __m128i w_13 = _mm_set1_epi32 ((int) KK_LUMA_G);
  size_t i = 0;

  for (; i + 16 <= n; i += 16)
    {
      const uint8_t *p = src + 4 * i;
      __m128i y0 = luma_x4_4ch (_mm_loadu_si128 ((const __m128i *) p), w_02, w_13);
      __m128i y1 = luma_x4_4ch (_mm_loadu_si128 ((const __m128i *) (p + 16)), w_02, w_13);
      __m128i y2 = luma_x4_4ch (_mm_loadu_si128 ((const __m128i *) (p + 32)), w_02, w_13);
      __m128i y3 = luma_x4_4ch (_mm_loadu_si128 ((const __m128i *) (p + 48)), w_02, w_13);
      __m128i w01 = _mm_packs_epi32 (y0, y1);
      __m128i w23 = _mm_packs_epi32 (y2, y3);
      _mm_storeu_si128 ((__m128i *) (dst + i), _mm_packus_epi16 (w01, w23));
    }
  for (; i + 4 <= n; i += 4)
    store_x4 (dst + i, luma_x4_4ch (_mm_loadu_si128 ((const __m128i *) (src + 4 * i)), w_02, w_13));
  for (; i < n; i++)
    dst[i] = kk_luma_u8 (src[4 * i + r_at], src[4 * i + 1], src[4 * i + b_at]);
}

void
kk_gray_from_rgba8__sse42 (const uint8_t *src, uint8_t *dst, size_t n)
{
  gray_from_4ch (src, dst, n, KK_LUMA_R, KK_LUMA_B, 0, 2);
}

void
kk_gray_from_bgra8__sse42 (const uint8_t *src, uint8_t *dst, size_t n)
{
  gray_from_4ch (src, dst, n, KK_LUMA_B, KK_LUMA_R, 2, 0);
}

/* RGB: 4 pixels are 12 bytes, so each group of 4 is loaded on its own and
 * pshufb builds the {R, B} and {G, 0} word pairs directly (index -1 gives a
 * zero byte). The last group of a 48-byte block is loaded from 4 bytes
 * earlier, with indices shifted by 4, so that no load reads past the block. */
static inline __m128i
luma_x4_rgb (__m128i raw, __m128i sh_rb, __m128i sh_g, __m128i w_rb, __m128i w_g)
{
  __m128i rb = _mm_shuffle_epi8 (raw, sh_rb);
  __m128i g = _mm_shuffle_epi8 (raw, sh_g);
  __m128i s = _mm_add_epi32 (_mm_madd_epi16 (rb, w_rb), _mm_madd_epi16 (g, w_g));
  return _mm_srli_epi32 (_mm_add_epi32 (s, _mm_set1_epi32 ((int) KK_LUMA_ROUND)), KK_LUMA_SHIFT);
}

void
kk_gray_from_rgb8__sse42 (const uint8_t *src, uint8_t *dst, size_t n)
{
  const __m128i sh_rb0 = _mm_setr_epi8 (0, -1, 2, -1, 3, -1, 5, -1, 6, -1, 8, -1, 9, -1, 11, -1);
  const __m128i sh_g0 = _mm_setr_epi8 (1, -1, -1, -1, 4, -1, -1, -1, 7, -1, -1, -1, 10, -1, -1, -1);
  const __m128i sh_rb4 = _mm_setr_epi8 (4, -1, 6, -1, 7, -1, 9, -1, 10, -1, 12, -1, 13, -1, 15, -1);
  const __m128i sh_g4 = _mm_setr_epi8 (5, -1, -1, -1, 8, -1, -1, -1, 11, -1, -1, -1, 14, -1, -1, -1);
  const __m128i w_rb = _mm_set1_epi32 ((int) (KK_LUMA_B << 16 | KK_LUMA_R));
  const __m128i w_g = _mm_set1_epi32 ((int) KK_LUMA_G);
  size_t i = 0;

  for (; i + 16 <= n; i += 16)
    {
      const uint8_t *p = src + 3 * i;
      __m128i y0 = luma_x4_rgb (_mm_loadu_si128 ((const __m128i *) p), sh_rb0, sh_g0, w_rb, w_g);
      __m128i y1 = luma_x4_rgb (_mm_loadu_si128 ((const __m128i *) (p + 12)), sh_rb0, sh_g0, w_rb, w_g);
      __m128i y2 = luma_x4_rgb (_mm_loadu_si128 ((const __m128i *) (p + 24)), sh_rb0, sh_g0, w_rb, w_g);
      __m128i y3 = luma_x4_rgb (_mm_loadu_si128 ((const __m128i *) (p + 32)), sh_rb4, sh_g4, w_rb, w_g);
      __m128i w01 = _mm_packs_epi32 (y0, y1);
      __m128i w23 = _mm_packs_epi32 (y2, y3);
      _mm_storeu_si128 ((__m128i *) (dst + i), _mm_packus_epi16 (w01, w23));
    }
  for (; i + 4 <= n; i += 4)
    {
      /* exactly 12 bytes: the row may end right after them */
      const uint8_t *p = src + 3 * i;
      int32_t hi;
      memcpy (&hi, p + 8, 4);
      __m128i raw = _mm_insert_epi32 (_mm_loadl_epi64 ((const __m128i *) p), hi, 2);
      store_x4 (dst + i, luma_x4_rgb (raw, sh_rb0, sh_g0, w_rb, w_g));
    }
  for (; i < n; i++)
    dst[i] = kk_luma_u8 (src[3 * i], src[3 * i + 1], src[3 * i + 2]);
}
