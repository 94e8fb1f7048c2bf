/* resize-avx512.c — bilinear u8 micro-kernels for AVX-512 F/BW (see resize.h
 * for the arithmetic they must reproduce bit for bit).
 *
 * The same structure as the AVX2 file with 512-bit vectors: the vertical
 * pass ends with a masked load/store instead of a scalar tail (masked-off
 * bytes are never read, so nothing past the row is touched); the horizontal
 * passes do 16 pixels per step and hand the last < 16 to the AVX2 kernels,
 * which this CPU also runs. */
#include "resize.h"

#include <immintrin.h>

static inline __m512i
vblend32 (const uint8_t *s0, const uint8_t *s1, __m512i f, __mmask32 m)
{
  const __m512i a = _mm512_slli_epi16 (_mm512_cvtepu8_epi16 (_mm256_maskz_loadu_epi8 (m, s0)), 7);
  const __m512i b = _mm512_slli_epi16 (_mm512_cvtepu8_epi16 (_mm256_maskz_loadu_epi8 (m, s1)), 7);
  /* mulhrs (x, 0) = 0, so fy == 0 (s1 == s0) needs no special case. */
  return _mm512_add_epi16 (a, _mm512_mulhrs_epi16 (_mm512_sub_epi16 (b, a), f));
}

void
kk_resize_vpass_u8s16__avx512 (const uint8_t *s0, const uint8_t *s1, int16_t *v, size_t n,
                               uint32_t fy)
{
  const __m512i f = _mm512_set1_epi16 ((int16_t) (fy << 4));
  size_t i = 0;

  for (; i + 32 <= n; i += 32)
    _mm512_storeu_si512 ((void *) (v + i), vblend32 (s0 + i, s1 + i, f, (__mmask32) 0xFFFFFFFFu));
  if (i < n)
    {
      const __mmask32 m = (__mmask32) ((1u << (n - i)) - 1u);  /* n - i < 32 */
      _mm512_mask_storeu_epi16 (v + i, m, vblend32 (s0 + i, s1 + i, f, m));
    }
}

/* (d + 2^17) >> 18 on sixteen dot products. */
static inline __m512i
descale (__m512i d)
{
  return _mm512_srai_epi32 (_mm512_add_epi32 (d, _mm512_set1_epi32 (1 << 17)), 18);
}

void
kk_resize_hpass_s16u8c1__avx512 (const int16_t *v, const int32_t *ofs, const uint32_t *w,
                                 uint8_t *dst, size_t n)
{
  size_t i = 0;

  /* As in AVX2: each pair (v[x0], v[x0 + 1]) is one dword, gathered with
   * scale 2 (ofs counts int16). Results are 0..255, so vpmovdb's truncation
   * is exact and keeps pixel order. */
  for (; i + 16 <= n; i += 16)
    {
      const __m512i p = _mm512_i32gather_epi32 (_mm512_loadu_si512 ((const void *) (ofs + i)),
                                                (const void *) v, 2);
      const __m512i d = descale (_mm512_madd_epi16 (p, _mm512_loadu_si512 ((const void *) (w + i))));
      _mm_storeu_si128 ((__m128i *) (dst + i), _mm512_cvtepi32_epi8 (d));
    }
  if (i < n)
    kk_resize_hpass_s16u8c1__avx2 (v, ofs + i, w + i, dst + i, n - i);
}

/* Pixels k, k+4, k+8, k+12 in 128-bit lanes 0..3: 16 bytes from each pair
 * start. */
static inline __m512i
load_pairs (const int16_t *v, const int32_t *ofs, int k)
{
  __m512i r = _mm512_castsi128_si512 (_mm_loadu_si128 ((const __m128i *) (v + ofs[k])));
  r = _mm512_inserti32x4 (r, _mm_loadu_si128 ((const __m128i *) (v + ofs[k + 4])), 1);
  r = _mm512_inserti32x4 (r, _mm_loadu_si128 ((const __m128i *) (v + ofs[k + 8])), 2);
  r = _mm512_inserti32x4 (r, _mm_loadu_si128 ((const __m128i *) (v + ofs[k + 12])), 3);
  return r;
}

/* Sixteen pixels of 3 or 4 channels, 4 bytes each, in order: register k
 * holds pixels 4L + k in lane L, so packs + packus (which work per lane)
 * leave pixels 4L..4L+3 in lane L; pshufd broadcasts weight 4L + k within
 * lane L. `pair` as in the AVX2 file. */
static inline __m512i
hpass16 (const int16_t *v, const int32_t *ofs, const uint32_t *w, __m512i pair)
{
  const __m512i wv = _mm512_loadu_si512 ((const void *) w);
  const __m512i d0 = descale (_mm512_madd_epi16 (_mm512_shuffle_epi8 (load_pairs (v, ofs, 0), pair),
                                                 _mm512_shuffle_epi32 (wv, (_MM_PERM_ENUM) 0x00)));
  const __m512i d1 = descale (_mm512_madd_epi16 (_mm512_shuffle_epi8 (load_pairs (v, ofs, 1), pair),
                                                 _mm512_shuffle_epi32 (wv, (_MM_PERM_ENUM) 0x55)));
  const __m512i d2 = descale (_mm512_madd_epi16 (_mm512_shuffle_epi8 (load_pairs (v, ofs, 2), pair),
                                                 _mm512_shuffle_epi32 (wv, (_MM_PERM_ENUM) 0xAA)));
  const __m512i d3 = descale (_mm512_madd_epi16 (_mm512_shuffle_epi8 (load_pairs (v, ofs, 3), pair),
                                                 _mm512_shuffle_epi32 (wv, (_MM_PERM_ENUM) 0xFF)));
  return _mm512_packus_epi16 (_mm512_packs_epi32 (d0, d1), _mm512_packs_epi32 (d2, d3));
}

void
kk_resize_hpass_s16u8c3__avx512 (const int16_t *v, const int32_t *ofs, const uint32_t *w,
                                 uint8_t *dst, size_t n)
{
  const __m512i pair = _mm512_broadcast_i32x4 (
    _mm_setr_epi8 (0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11, -1, -1, -1, -1));
  /* Drop each pixel's zero fourth byte (12 bytes left per lane), then
   * close the gaps between lanes: 48 bytes. */
  const __m512i squeeze = _mm512_broadcast_i32x4 (
    _mm_setr_epi8 (0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1));
  const __m512i join = _mm512_setr_epi32 (0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 15, 15, 15, 15);
  size_t i = 0;

  for (; i + 16 <= n; i += 16)
    {
      __m512i b = _mm512_shuffle_epi8 (hpass16 (v, ofs + i, w + i, pair), squeeze);
      b = _mm512_permutexvar_epi32 (join, b);
      _mm512_mask_storeu_epi8 (dst + 3 * i, (__mmask64) 0x0000FFFFFFFFFFFFull, b);
    }
  if (i < n)
    kk_resize_hpass_s16u8c3__avx2 (v, ofs + i, w + i, dst + 3 * i, n - i);
}

void
kk_resize_hpass_s16u8c4__avx512 (const int16_t *v, const int32_t *ofs, const uint32_t *w,
                                 uint8_t *dst, size_t n)
{
  const __m512i pair = _mm512_broadcast_i32x4 (
    _mm_setr_epi8 (0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15));
  size_t i = 0;

  for (; i + 16 <= n; i += 16)
    _mm512_storeu_si512 ((void *) (dst + 4 * i), hpass16 (v, ofs + i, w + i, pair));
  if (i < n)
    kk_resize_hpass_s16u8c4__avx2 (v, ofs + i, w + i, dst + 4 * i, n - i);
}

KK_RESIZE_DEFINE_ENTRY (avx512, kk_resize_vpass_u8s16__avx512, kk_resize_hpass_s16u8c1__avx512,
                        kk_resize_hpass_s16u8c3__avx512, kk_resize_hpass_s16u8c4__avx512)
