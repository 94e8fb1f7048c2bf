/* convert-avx2.c — AVX2 versions; the half conversions use F16C, with the
 * rounding mode given in the instruction (nearest even), not taken from
 * MXCSR. */
#include "convert.h"

#include <immintrin.h>

void
kk_f32_to_f16__avx2 (const float *src, uint16_t *dst, size_t n)
{
  size_t i = 0;

  for (; i + 32 <= n; i += 32)
    {
      __m128i a = _mm256_cvtps_ph (_mm256_loadu_ps (src + i), _MM_FROUND_TO_NEAREST_INT);
      __m128i b = _mm256_cvtps_ph (_mm256_loadu_ps (src + i + 8), _MM_FROUND_TO_NEAREST_INT);
      __m128i c = _mm256_cvtps_ph (_mm256_loadu_ps (src + i + 16), _MM_FROUND_TO_NEAREST_INT);
      __m128i d = _mm256_cvtps_ph (_mm256_loadu_ps (src + i + 24), _MM_FROUND_TO_NEAREST_INT);
      _mm_storeu_si128 ((__m128i *) (dst + i), a);
      _mm_storeu_si128 ((__m128i *) (dst + i + 8), b);
      _mm_storeu_si128 ((__m128i *) (dst + i + 16), c);
      _mm_storeu_si128 ((__m128i *) (dst + i + 24), d);
    }
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128 ((__m128i *) (dst + i),
                      _mm256_cvtps_ph (_mm256_loadu_ps (src + i), _MM_FROUND_TO_NEAREST_INT));
  if (i + 4 <= n)
    {
      _mm_storel_epi64 ((__m128i *) (dst + i), _mm_cvtps_ph (_mm_loadu_ps (src + i), _MM_FROUND_TO_NEAREST_INT));
      i += 4;
    }
  for (; i < n; i++)
    dst[i] = kk_f32_to_f16_one (src[i]);
}

void
kk_f16_to_f32__avx2 (const uint16_t *src, float *dst, size_t n)
{
  size_t i = 0;

  for (; i + 32 <= n; i += 32)
    {
      __m256 a = _mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *) (src + i)));
      __m256 b = _mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *) (src + i + 8)));
      __m256 c = _mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *) (src + i + 16)));
      __m256 d = _mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *) (src + i + 24)));
      _mm256_storeu_ps (dst + i, a);
      _mm256_storeu_ps (dst + i + 8, b);
      _mm256_storeu_ps (dst + i + 16, c);
      _mm256_storeu_ps (dst + i + 24, d);
    }
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps (dst + i, _mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *) (src + i))));
  if (i + 4 <= n)
    {
      _mm_storeu_ps (dst + i, _mm_cvtph_ps (_mm_loadl_epi64 ((const __m128i *) (src + i))));
      i += 4;
    }
  for (; i < n; i++)
    dst[i] = kk_f16_to_f32_one (src[i]);
}

/* x / scale clamped to [lo, hi] (integers), rounded half to even, plus the
 * zero point: always within the quantised type's range. NaN clamps to lo,
 * because maxps returns its second operand when either is NaN. */
static inline __m256i
quantize_x8 (__m256 x, __m256 scale, __m256 lo, __m256 hi, __m256i zp)
{
  __m256 v = _mm256_min_ps (_mm256_max_ps (_mm256_div_ps (x, scale), lo), hi);
  v = _mm256_round_ps (v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  return _mm256_add_epi32 (_mm256_cvttps_epi32 (v), zp);
}

/* The packs work within 128-bit lanes; this puts the 32 results of four
 * vectors a, b, c, d back in order (dwords a0 b0 c0 d0 | a1 b1 c1 d1). */
static inline __m256i
unlane_x32 (__m256i packed)
{
  return _mm256_permutevar8x32_epi32 (packed, _mm256_setr_epi32 (0, 4, 1, 5, 2, 6, 3, 7));
}

/* 8 int32 (all within the target range) -> 8 bytes, s8 or u8 */
static inline __m128i
pack_s8_x8 (__m256i q)
{
  __m128i w = _mm_packs_epi32 (_mm256_castsi256_si128 (q), _mm256_extracti128_si256 (q, 1));
  return _mm_packs_epi16 (w, w);
}

static inline __m128i
pack_u8_x8 (__m256i q)
{
  __m128i w = _mm_packs_epi32 (_mm256_castsi256_si128 (q), _mm256_extracti128_si256 (q, 1));
  return _mm_packus_epi16 (w, w);
}

void
kk_quantize_f32_s8__avx2 (const float *src, int8_t *dst, size_t n, float scale, int32_t zero_point)
{
  if (!kk_quantize_zero_point_ok (zero_point))
    {
      kk_quantize_f32_s8__scalar (src, dst, n, scale, zero_point);
      return;
    }

  const __m256 vscale = _mm256_set1_ps (scale);
  const __m256 lo = _mm256_set1_ps ((float) (INT8_MIN - zero_point));
  const __m256 hi = _mm256_set1_ps ((float) (INT8_MAX - zero_point));
  const __m256i zp = _mm256_set1_epi32 (zero_point);
  size_t i = 0;

  for (; i + 32 <= n; i += 32)
    {
      __m256i a = quantize_x8 (_mm256_loadu_ps (src + i), vscale, lo, hi, zp);
      __m256i b = quantize_x8 (_mm256_loadu_ps (src + i + 8), vscale, lo, hi, zp);
      __m256i c = quantize_x8 (_mm256_loadu_ps (src + i + 16), vscale, lo, hi, zp);
      __m256i d = quantize_x8 (_mm256_loadu_ps (src + i + 24), vscale, lo, hi, zp);
      __m256i q = _mm256_packs_epi16 (_mm256_packs_epi32 (a, b), _mm256_packs_epi32 (c, d));
      _mm256_storeu_si256 ((__m256i *) (dst + i), unlane_x32 (q));
    }
  for (; i + 8 <= n; i += 8)
    _mm_storel_epi64 ((__m128i *) (dst + i),
                      pack_s8_x8 (quantize_x8 (_mm256_loadu_ps (src + i), vscale, lo, hi, zp)));
  for (; i < n; i++)
    dst[i] = (int8_t) kk_quantize_one (src[i], scale, zero_point, INT8_MIN, INT8_MAX);
}

void
kk_quantize_f32_u8__avx2 (const float *src, uint8_t *dst, size_t n, float scale, int32_t zero_point)
{
  if (!kk_quantize_zero_point_ok (zero_point))
    {
      kk_quantize_f32_u8__scalar (src, dst, n, scale, zero_point);
      return;
    }

  const __m256 vscale = _mm256_set1_ps (scale);
  const __m256 lo = _mm256_set1_ps ((float) (0 - zero_point));
  const __m256 hi = _mm256_set1_ps ((float) (UINT8_MAX - zero_point));
  const __m256i zp = _mm256_set1_epi32 (zero_point);
  size_t i = 0;

  for (; i + 32 <= n; i += 32)
    {
      __m256i a = quantize_x8 (_mm256_loadu_ps (src + i), vscale, lo, hi, zp);
      __m256i b = quantize_x8 (_mm256_loadu_ps (src + i + 8), vscale, lo, hi, zp);
      __m256i c = quantize_x8 (_mm256_loadu_ps (src + i + 16), vscale, lo, hi, zp);
      __m256i d = quantize_x8 (_mm256_loadu_ps (src + i + 24), vscale, lo, hi, zp);
      __m256i q = _mm256_packus_epi16 (_mm256_packs_epi32 (a, b), _mm256_packs_epi32 (c, d));
      _mm256_storeu_si256 ((__m256i *) (dst + i), unlane_x32 (q));
    }
  for (; i + 8 <= n; i += 8)
    _mm_storel_epi64 ((__m128i *) (dst + i),
                      pack_u8_x8 (quantize_x8 (_mm256_loadu_ps (src + i), vscale, lo, hi, zp)));
  for (; i < n; i++)
    dst[i] = (uint8_t) kk_quantize_one (src[i], scale, zero_point, 0, UINT8_MAX);
}

static inline __m256
dequantize_x8 (__m256i q, __m256 zpf, __m256 scale)
{
  return _mm256_mul_ps (_mm256_sub_ps (_mm256_cvtepi32_ps (q), zpf), scale);
}

void
kk_dequantize_s8_f32__avx2 (const int8_t *src, float *dst, size_t n, float scale, int32_t zero_point)
{
  const __m256 vscale = _mm256_set1_ps (scale);
  const __m256 zpf = _mm256_set1_ps ((float) zero_point);
  size_t i = 0;

  for (; i + 32 <= n; i += 32)
    {
      __m128i lo = _mm_loadu_si128 ((const __m128i *) (src + i));
      __m128i hi = _mm_loadu_si128 ((const __m128i *) (src + i + 16));
      _mm256_storeu_ps (dst + i, dequantize_x8 (_mm256_cvtepi8_epi32 (lo), zpf, vscale));
      _mm256_storeu_ps (dst + i + 8, dequantize_x8 (_mm256_cvtepi8_epi32 (_mm_srli_si128 (lo, 8)), zpf, vscale));
      _mm256_storeu_ps (dst + i + 16, dequantize_x8 (_mm256_cvtepi8_epi32 (hi), zpf, vscale));
      _mm256_storeu_ps (dst + i + 24, dequantize_x8 (_mm256_cvtepi8_epi32 (_mm_srli_si128 (hi, 8)), zpf, vscale));
    }
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps (dst + i, dequantize_x8 (_mm256_cvtepi8_epi32 (_mm_loadl_epi64 ((const __m128i *) (src + i))),
                                              zpf, vscale));
  for (; i < n; i++)
    dst[i] = kk_dequantize_one (src[i], scale, zero_point);
}

void
kk_dequantize_u8_f32__avx2 (const uint8_t *src, float *dst, size_t n, float scale, int32_t zero_point)
{
  const __m256 vscale = _mm256_set1_ps (scale);
  const __m256 zpf = _mm256_set1_ps ((float) zero_point);
  size_t i = 0;

  for (; i + 32 <= n; i += 32)
    {
      __m128i lo = _mm_loadu_si128 ((const __m128i *) (src + i));
      __m128i hi = _mm_loadu_si128 ((const __m128i *) (src + i + 16));
      _mm256_storeu_ps (dst + i, dequantize_x8 (_mm256_cvtepu8_epi32 (lo), zpf, vscale));
      _mm256_storeu_ps (dst + i + 8, dequantize_x8 (_mm256_cvtepu8_epi32 (_mm_srli_si128 (lo, 8)), zpf, vscale));
      _mm256_storeu_ps (dst + i + 16, dequantize_x8 (_mm256_cvtepu8_epi32 (hi), zpf, vscale));
      _mm256_storeu_ps (dst + i + 24, dequantize_x8 (_mm256_cvtepu8_epi32 (_mm_srli_si128 (hi, 8)), zpf, vscale));
    }
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps (dst + i, dequantize_x8 (_mm256_cvtepu8_epi32 (_mm_loadl_epi64 ((const __m128i *) (src + i))),
                                              zpf, vscale));
  for (; i < n; i++)
    dst[i] = kk_dequantize_one (src[i], scale, zero_point);
}
