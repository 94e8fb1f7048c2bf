/* resize-sse42.c — bilinear u8 micro-kernels for SSE4.2 + SSSE3 (see
 * resize.h for the arithmetic they must reproduce bit for bit). */
#include "resize.h"

#include <immintrin.h>
#include <string.h>

void
kk_resize_vpass_u8s16__sse42 (const uint8_t *s0, const uint8_t *s1, int16_t *v, size_t n,
                              uint32_t fy)
{
  const __m128i zero = _mm_setzero_si128 ();
  size_t i = 0;

  if (fy == 0)
    {
      /* Exactly on a source row: v = s0 << 7. */
      for (; i + 16 <= n; i += 16)
        {
          const __m128i a = _mm_loadu_si128 ((const __m128i *) (s0 + i));
          _mm_storeu_si128 ((__m128i *) (v + i), _mm_slli_epi16 (_mm_unpacklo_epi8 (a, zero), 7));
          _mm_storeu_si128 ((__m128i *) (v + i + 8), _mm_slli_epi16 (_mm_unpackhi_epi8 (a, zero), 7));
        }
    }
  else
    {
      const __m128i f = _mm_set1_epi16 ((int16_t) (fy << 4));
      for (; i + 16 <= n; i += 16)
        {
          const __m128i a = _mm_loadu_si128 ((const __m128i *) (s0 + i));
          const __m128i b = _mm_loadu_si128 ((const __m128i *) (s1 + i));
          const __m128i a_lo = _mm_slli_epi16 (_mm_unpacklo_epi8 (a, zero), 7);
          const __m128i a_hi = _mm_slli_epi16 (_mm_unpackhi_epi8 (a, zero), 7);
          const __m128i b_lo = _mm_slli_epi16 (_mm_unpacklo_epi8 (b, zero), 7);
          const __m128i b_hi = _mm_slli_epi16 (_mm_unpackhi_epi8 (b, zero), 7);
          _mm_storeu_si128 ((__m128i *) (v + i),
                            _mm_add_epi16 (a_lo, _mm_mulhrs_epi16 (_mm_sub_epi16 (b_lo, a_lo), f)));
          _mm_storeu_si128 ((__m128i *) (v + i + 8),
                            _mm_add_epi16 (a_hi, _mm_mulhrs_epi16 (_mm_sub_epi16 (b_hi, a_hi), f)));
        }
    }
  /* The tail must not read past the row, so it goes a byte at a time. */
  for (; i < n; i++)
    v[i] = kk_resize_vblend (s0[i], s1[i], fy);
}

/* (d + 2^17) >> 18 on four dot products. */
static inline __m128i
descale (__m128i d)
{
  return _mm_srai_epi32 (_mm_add_epi32 (d, _mm_set1_epi32 (1 << 17)), 18);
}

static inline int32_t
load_pair_c1 (const int16_t *v, int32_t o)
{
  int32_t x;
  memcpy (&x, v + o, sizeof x);
  return x;
}

void
kk_resize_hpass_s16u8c1__sse42 (const int16_t *v, const int32_t *ofs, const uint32_t *w,
                                uint8_t *dst, size_t n)
{
  size_t i = 0;

  /* One channel: (v[x0], v[x0 + 1]) is one 32-bit word, already a pmaddwd
   * pair against (2048 - fx, fx). */
  for (; i + 8 <= n; i += 8)
    {
      const __m128i p0 = _mm_setr_epi32 (load_pair_c1 (v, ofs[i + 0]), load_pair_c1 (v, ofs[i + 1]),
                                         load_pair_c1 (v, ofs[i + 2]), load_pair_c1 (v, ofs[i + 3]));
      const __m128i p1 = _mm_setr_epi32 (load_pair_c1 (v, ofs[i + 4]), load_pair_c1 (v, ofs[i + 5]),
                                         load_pair_c1 (v, ofs[i + 6]), load_pair_c1 (v, ofs[i + 7]));
      const __m128i d0 = descale (_mm_madd_epi16 (p0, _mm_loadu_si128 ((const __m128i *) (w + i))));
      const __m128i d1 = descale (_mm_madd_epi16 (p1, _mm_loadu_si128 ((const __m128i *) (w + i + 4))));
      const __m128i d = _mm_packs_epi32 (d0, d1);
      _mm_storel_epi64 ((__m128i *) (dst + i), _mm_packus_epi16 (d, d));
    }
  for (; i < n; i++)
    dst[i] = kk_resize_hblend (v[ofs[i]], v[ofs[i] + 1], w[i]);
}

/* Four pixels of 3 or 4 channels, 4 bytes each (for 3 channels the fourth
 * is 0). `pair` turns the 16 bytes from a pair start, [a0 a1 a2 (a3) b0 b1
 * b2 (b3)], into pmaddwd pairs (a0 b0) (a1 b1) ...; pshufd broadcasts the
 * pixel's weight word. */
static inline __m128i
hpass4 (const int16_t *v, const int32_t *ofs, const uint32_t *w, __m128i pair)
{
  const __m128i wv = _mm_loadu_si128 ((const __m128i *) w);
  const __m128i d0 = descale (_mm_madd_epi16 (
    _mm_shuffle_epi8 (_mm_loadu_si128 ((const __m128i *) (v + ofs[0])), pair), _mm_shuffle_epi32 (wv, 0x00)));
  const __m128i d1 = descale (_mm_madd_epi16 (
    _mm_shuffle_epi8 (_mm_loadu_si128 ((const __m128i *) (v + ofs[1])), pair), _mm_shuffle_epi32 (wv, 0x55)));
  const __m128i d2 = descale (_mm_madd_epi16 (
    _mm_shuffle_epi8 (_mm_loadu_si128 ((const __m128i *) (v + ofs[2])), pair), _mm_shuffle_epi32 (wv, 0xAA)));
  const __m128i d3 = descale (_mm_madd_epi16 (
    _mm_shuffle_epi8 (_mm_loadu_si128 ((const __m128i *) (v + ofs[3])), pair), _mm_shuffle_epi32 (wv, 0xFF)));
  return _mm_packus_epi16 (_mm_packs_epi32 (d0, d1), _mm_packs_epi32 (d2, d3));
}

void
kk_resize_hpass_s16u8c3__sse42 (const int16_t *v, const int32_t *ofs, const uint32_t *w,
                                uint8_t *dst, size_t n)
{
  const __m128i pair = _mm_setr_epi8 (0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11, -1, -1, -1, -1);
  const __m128i squeeze = _mm_setr_epi8 (0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);
  size_t i = 0;

  for (; i + 4 <= n; i += 4)
    {
      const __m128i b = _mm_shuffle_epi8 (hpass4 (v, ofs + i, w + i, pair), squeeze);
      const int32_t last = _mm_extract_epi32 (b, 2);
      _mm_storel_epi64 ((__m128i *) (dst + 3 * i), b);
      memcpy (dst + 3 * i + 8, &last, 4);
    }
  for (; i < n; i++)
    {
      const int16_t *p = v + ofs[i];
      for (size_t k = 0; k < 3; k++)
        dst[3 * i + k] = kk_resize_hblend (p[k], p[3 + k], w[i]);
    }
}

void
kk_resize_hpass_s16u8c4__sse42 (const int16_t *v, const int32_t *ofs, const uint32_t *w,
                                uint8_t *dst, size_t n)
{
  const __m128i pair = _mm_setr_epi8 (0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15);
  size_t i = 0;

  for (; i + 4 <= n; i += 4)
    _mm_storeu_si128 ((__m128i *) (dst + 4 * i), hpass4 (v, ofs + i, w + i, pair));
  for (; i < n; i++)
    {
      const int16_t *p = v + ofs[i];
      for (size_t k = 0; k < 4; k++)
        dst[4 * i + k] = kk_resize_hblend (p[k], p[4 + k], w[i]);
    }
}

KK_RESIZE_DEFINE_ENTRY (sse42, kk_resize_vpass_u8s16__sse42, kk_resize_hpass_s16u8c1__sse42,
                        kk_resize_hpass_s16u8c3__sse42, kk_resize_hpass_s16u8c4__sse42)
