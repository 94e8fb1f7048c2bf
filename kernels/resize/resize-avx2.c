/* resize-avx2.c — bilinear u8 micro-kernels for AVX2 (see resize.h for the
 * arithmetic they must reproduce bit for bit). */
#include "resize.h"

#include <immintrin.h>
#include <string.h>

void
kk_resize_vpass_u8s16__avx2 (const uint8_t *s0, const uint8_t *s1, int16_t *v, size_t n,
                             uint32_t fy)
{
  size_t i = 0;

  if (fy == 0)
    {
      /* Exactly on a source row (every row of an integer downscale such as
       * 1080 -> 360): v = s0 << 7, no second row. */
      for (; i + 32 <= n; i += 32)
        {
          const __m256i a = _mm256_cvtepu8_epi16 (_mm_loadu_si128 ((const __m128i *) (s0 + i)));
          const __m256i b = _mm256_cvtepu8_epi16 (_mm_loadu_si128 ((const __m128i *) (s0 + i + 16)));
          _mm256_storeu_si256 ((__m256i *) (v + i), _mm256_slli_epi16 (a, 7));
          _mm256_storeu_si256 ((__m256i *) (v + i + 16), _mm256_slli_epi16 (b, 7));
        }
    }
  else
    {
      const __m256i f = _mm256_set1_epi16 ((int16_t) (fy << 4));
      for (; i + 32 <= n; i += 32)
        {
          const __m256i a0 = _mm256_slli_epi16 (
            _mm256_cvtepu8_epi16 (_mm_loadu_si128 ((const __m128i *) (s0 + i))), 7);
          const __m256i b0 = _mm256_slli_epi16 (
            _mm256_cvtepu8_epi16 (_mm_loadu_si128 ((const __m128i *) (s0 + i + 16))), 7);
          const __m256i a1 = _mm256_slli_epi16 (
            _mm256_cvtepu8_epi16 (_mm_loadu_si128 ((const __m128i *) (s1 + i))), 7);
          const __m256i b1 = _mm256_slli_epi16 (
            _mm256_cvtepu8_epi16 (_mm_loadu_si128 ((const __m128i *) (s1 + i + 16))), 7);
          const __m256i a = _mm256_add_epi16 (a0, _mm256_mulhrs_epi16 (_mm256_sub_epi16 (a1, a0), f));
          const __m256i b = _mm256_add_epi16 (b0, _mm256_mulhrs_epi16 (_mm256_sub_epi16 (b1, b0), f));
          _mm256_storeu_si256 ((__m256i *) (v + i), a);
          _mm256_storeu_si256 ((__m256i *) (v + i + 16), b);
        }
    }
  /* The tail must not read past the row, so it goes a byte at a time. */
  for (; i < n; i++)
    v[i] = kk_resize_vblend (s0[i], s1[i], fy);
}

/* (d + 2^17) >> 18 on eight dot products. */
static inline __m256i
descale (__m256i d)
{
  return _mm256_srai_epi32 (_mm256_add_epi32 (d, _mm256_set1_epi32 (1 << 17)), 18);
}

void
kk_resize_hpass_s16u8c1__avx2 (const int16_t *v, const int32_t *ofs, const uint32_t *w,
                               uint8_t *dst, size_t n)
{
  size_t i = 0;

  /* With one channel the pair (v[x0], v[x0 + 1]) is one 32-bit word, already
   * in the order pmaddwd wants, so a dword gather (scale 2: ofs counts int16)
   * fetches eight pairs. */
  for (; i + 16 <= n; i += 16)
    {
      const __m256i p0 = _mm256_i32gather_epi32 ((const int *) v,
                                                 _mm256_loadu_si256 ((const __m256i *) (ofs + i)), 2);
      const __m256i p1 = _mm256_i32gather_epi32 ((const int *) v,
                                                 _mm256_loadu_si256 ((const __m256i *) (ofs + i + 8)), 2);
      const __m256i d0 = descale (_mm256_madd_epi16 (p0, _mm256_loadu_si256 ((const __m256i *) (w + i))));
      const __m256i d1 = descale (_mm256_madd_epi16 (p1, _mm256_loadu_si256 ((const __m256i *) (w + i + 8))));
      /* packs interleaves lanes: 0-3, 8-11 | 4-7, 12-15; put them in order. */
      const __m256i p = _mm256_permute4x64_epi64 (_mm256_packs_epi32 (d0, d1), 0xD8);
      const __m128i b = _mm_packus_epi16 (_mm256_castsi256_si128 (p), _mm256_extracti128_si256 (p, 1));
      _mm_storeu_si128 ((__m128i *) (dst + i), b);
    }
  for (; i < n; i++)
    dst[i] = kk_resize_hblend (v[ofs[i]], v[ofs[i] + 1], w[i]);
}

/* Pixels i (low lane) and j (high lane): the 16 bytes from each pair start. */
static inline __m256i
load_pairs (const int16_t *v, int32_t oi, int32_t oj)
{
  return _mm256_inserti128_si256 (
    _mm256_castsi128_si256 (_mm_loadu_si128 ((const __m128i *) (v + oi))),
    _mm_loadu_si128 ((const __m128i *) (v + oj)), 1);
}

/* Eight pixels of 3 or 4 channels. Register k holds pixels k and k + 4 so
 * that packs + packus leave pixels 0-3 in the low lane and 4-7 in the high
 * one; the weight of pixel k (k + 4) is w lane k broadcast by pshufd. The
 * shuffle `pair` turns [a0 a1 a2 (a3) b0 b1 b2 (b3)] into pmaddwd pairs
 * (a0 b0) (a1 b1) ... ; for 3 channels its fourth pair is zeroed. */
static inline __m256i
hpass8 (const int16_t *v, const int32_t *ofs, const uint32_t *w, __m256i pair)
{
  const __m256i wv = _mm256_loadu_si256 ((const __m256i *) w);
  const __m256i d0 = descale (_mm256_madd_epi16 (
    _mm256_shuffle_epi8 (load_pairs (v, ofs[0], ofs[4]), pair), _mm256_shuffle_epi32 (wv, 0x00)));
  const __m256i d1 = descale (_mm256_madd_epi16 (
    _mm256_shuffle_epi8 (load_pairs (v, ofs[1], ofs[5]), pair), _mm256_shuffle_epi32 (wv, 0x55)));
  const __m256i d2 = descale (_mm256_madd_epi16 (
    _mm256_shuffle_epi8 (load_pairs (v, ofs[2], ofs[6]), pair), _mm256_shuffle_epi32 (wv, 0xAA)));
  const __m256i d3 = descale (_mm256_madd_epi16 (
    _mm256_shuffle_epi8 (load_pairs (v, ofs[3], ofs[7]), pair), _mm256_shuffle_epi32 (wv, 0xFF)));
  return _mm256_packus_epi16 (_mm256_packs_epi32 (d0, d1), _mm256_packs_epi32 (d2, d3));
}

void
kk_resize_hpass_s16u8c3__avx2 (const int16_t *v, const int32_t *ofs, const uint32_t *w,
                               uint8_t *dst, size_t n)
{
  const __m256i pair = _mm256_setr_epi8 (0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11, -1, -1, -1, -1,
                                         0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11, -1, -1, -1, -1);
  /* Drop each pixel's zero fourth byte, then close the gap between lanes. */
  const __m256i squeeze = _mm256_setr_epi8 (0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1,
                                            0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);
  const __m256i join = _mm256_setr_epi32 (0, 1, 2, 4, 5, 6, 7, 7);
  size_t i = 0;

  for (; i + 8 <= n; i += 8)
    {
      __m256i b = hpass8 (v, ofs + i, w + i, pair);
      b = _mm256_permutevar8x32_epi32 (_mm256_shuffle_epi8 (b, squeeze), join);
      _mm_storeu_si128 ((__m128i *) (dst + 3 * i), _mm256_castsi256_si128 (b));
      _mm_storel_epi64 ((__m128i *) (dst + 3 * i + 16), _mm256_extracti128_si256 (b, 1));
    }
  for (; i < n; i++)
    {
      const int16_t *p = v + ofs[i];
      for (size_t k = 0; k < 3; k++)
        dst[3 * i + k] = kk_resize_hblend (p[k], p[3 + k], w[i]);
    }
}

void
kk_resize_hpass_s16u8c4__avx2 (const int16_t *v, const int32_t *ofs, const uint32_t *w,
                               uint8_t *dst, size_t n)
{
  const __m256i pair = _mm256_setr_epi8 (0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15,
                                         0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15);
  size_t i = 0;

  for (; i + 8 <= n; i += 8)
    _mm256_storeu_si256 ((__m256i *) (dst + 4 * i), hpass8 (v, ofs + i, w + i, pair));
  for (; i < n; i++)
    {
      const int16_t *p = v + ofs[i];
      for (size_t k = 0; k < 4; k++)
        dst[4 * i + k] = kk_resize_hblend (p[k], p[4 + k], w[i]);
    }
}

KK_RESIZE_DEFINE_ENTRY (avx2, kk_resize_vpass_u8s16__avx2, kk_resize_hpass_s16u8c1__avx2,
                        kk_resize_hpass_s16u8c3__avx2, kk_resize_hpass_s16u8c4__avx2)
