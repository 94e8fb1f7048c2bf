/* colour-avx512.c — gray conversions with AVX-512 F/BW (16 pixels a step).
 *
 * Same arithmetic as the SSE4.2 version (see there). Kept deliberately
 * plain, one zmm of 32-bit sums per step, because it cannot be run on every
 * development machine: vpmovdb narrows the sums (each <= 255) straight to
 * bytes, and the last partial step uses the same code with masked loads and
 * a masked store, so there is no separate tail arithmetic to get wrong.
 */
#include "colour.h"

#include <immintrin.h>

static inline __m512i
luma_x16_4ch (__m512i px, __m512i w_02, __m512i w_13)
{
  const __m512i lo_bytes = _mm512_set1_epi32 (0x00ff00ff);
  __m512i b02 = _mm512_and_si512 (px, lo_bytes);
  __m512i b13 = _mm512_srli_epi16 (px, 8);
  __m512i s = _mm512_add_epi32 (_mm512_madd_epi16 (b02, w_02), _mm512_madd_epi16 (b13, w_13));
  return _mm512_srli_epi32 (_mm512_add_epi32 (s, _mm512_set1_epi32 ((int) KK_LUMA_ROUND)), KK_LUMA_SHIFT);
}

static inline void
gray_from_4ch (const uint8_t *src, uint8_t *dst, size_t n, int w0, int w2)
{
  const __m512i w_02 = _mm512_set1_epi32 ((int) ((unsigned) w2 << 16 | (unsigned) w0));
  const __m512i w_13 = _mm512_set1_epi32 ((int) KK_LUMA_G);
  size_t i = 0;

  for (; i + 16 <= n; i += 16)
    {
      __m512i px = _mm512_loadu_si512 ((const void *) (src + 4 * i));
      _mm_storeu_si128 ((__m128i *) (dst + i), _mm512_cvtepi32_epi8 (luma_x16_4ch (px, w_02, w_13)));
    }
  if (i < n)
    {
      /* 1..15 pixels: one bit per pixel, i.e. per dword in and per byte out */
      __mmask16 k = (__mmask16) ((1u << (n - i)) - 1u);
      __m512i px = _mm512_maskz_loadu_epi32 (k, (const void *) (src + 4 * i));
      _mm512_mask_cvtepi32_storeu_epi8 ((void *) (dst + i), k, luma_x16_4ch (px, w_02, w_13));
    }
}

void
kk_gray_from_rgba8__avx512 (const uint8_t *src, uint8_t *dst, size_t n)
{
  gray_from_4ch (src, dst, n, KK_LUMA_R, KK_LUMA_B);
}

void
kk_gray_from_bgra8__avx512 (const uint8_t *src, uint8_t *dst, size_t n)
{
  gray_from_4ch (src, dst, n, KK_LUMA_B, KK_LUMA_R);
}

/* RGB: 16 pixels are 48 bytes = 12 dwords. vpermd spreads them so that
 * 128-bit lane L holds dwords 3L..3L+2, i.e. pixels 4L..4L+3 in its first 12
 * bytes; from there the in-lane pshufb of the SSE4.2 version applies per
 * lane. The load is masked to the 3 * m bytes of the m pixels converted. */
static inline __m512i
luma_x16_rgb (__m512i raw, __m512i spread, __m512i sh_rb, __m512i sh_g, __m512i w_rb, __m512i w_g)
{
  __m512i grouped = _mm512_permutexvar_epi32 (spread, raw);
  __m512i rb = _mm512_shuffle_epi8 (grouped, sh_rb);
  __m512i g = _mm512_shuffle_epi8 (grouped, sh_g);
  __m512i s = _mm512_add_epi32 (_mm512_madd_epi16 (rb, w_rb), _mm512_madd_epi16 (g, w_g));
  return _mm512_srli_epi32 (_mm512_add_epi32 (s, _mm512_set1_epi32 ((int) KK_LUMA_ROUND)), KK_LUMA_SHIFT);
}

void
kk_gray_from_rgb8__avx512 (const uint8_t *src, uint8_t *dst, size_t n)
{
  const __m512i spread = _mm512_setr_epi32 (0, 1, 2, 0, 3, 4, 5, 0, 6, 7, 8, 0, 9, 10, 11, 0);
  const __m512i sh_rb = _mm512_broadcast_i32x4 (
    _mm_setr_epi8 (0, -1, 2, -1, 3, -1, 5, -1, 6, -1, 8, -1, 9, -1, 11, -1));
  const __m512i sh_g = _mm512_broadcast_i32x4 (
    _mm_setr_epi8 (1, -1, -1, -1, 4, -1, -1, -1, 7, -1, -1, -1, 10, -1, -1, -1));
  const __m512i w_rb = _mm512_set1_epi32 ((int) (KK_LUMA_B << 16 | KK_LUMA_R));
  const __m512i w_g = _mm512_set1_epi32 ((int) KK_LUMA_G);
  const __mmask64 bytes48 = (((__mmask64) 1) << 48) - 1;
  size_t i = 0;

  for (; i + 16 <= n; i += 16)
    {
      __m512i raw = _mm512_maskz_loadu_epi8 (bytes48, (const void *) (src + 3 * i));
      __m512i y = luma_x16_rgb (raw, spread, sh_rb, sh_g, w_rb, w_g);
      _mm_storeu_si128 ((__m128i *) (dst + i), _mm512_cvtepi32_epi8 (y));
    }
  if (i < n)
    {
      size_t m = n - i;  /* 1..15 */
      __mmask64 kin = (((__mmask64) 1) << (3 * m)) - 1;
      __mmask16 kout = (__mmask16) ((1u << m) - 1u);
      __m512i raw = _mm512_maskz_loadu_epi8 (kin, (const void *) (src + 3 * i));
      __m512i y = luma_x16_rgb (raw, spread, sh_rb, sh_g, w_rb, w_g);
      _mm512_mask_cvtepi32_storeu_epi8 ((void *) (dst + i), kout, y);
    }
}
