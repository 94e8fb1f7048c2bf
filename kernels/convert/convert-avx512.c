/* convert-avx512.c — AVX-512 F/BW/VL versions: 16 elements a step, and the
 * last 1..15 through masked loads and stores, which never touch memory
 * outside the mask. The half conversions use the F16C-style instructions
 * with the rounding given in the instruction (nearest even). */
#include "convert.h"

#include <immintrin.h>

static inline __mmask16
tail_mask (size_t count)  /* count in 1..15 */
{
  return (__mmask16) ((1u << count) - 1u);
}

void
kk_f32_to_f16__avx512 (const float *src, uint16_t *dst, size_t n)
{
  size_t i = 0;

  for (; i + 32 <= n; i += 32)
    {
      __m256i a = _mm512_cvtps_ph (_mm512_loadu_ps (src + i), _MM_FROUND_TO_NEAREST_INT);
      __m256i b = _mm512_cvtps_ph (_mm512_loadu_ps (src + i + 16), _MM_FROUND_TO_NEAREST_INT);
      _mm256_storeu_si256 ((__m256i *) (dst + i), a);
      _mm256_storeu_si256 ((__m256i *) (dst + i + 16), b);
    }
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256 ((__m256i *) (dst + i),
                         _mm512_cvtps_ph (_mm512_loadu_ps (src + i), _MM_FROUND_TO_NEAREST_INT));
  if (i < n)
    {
      __mmask16 m = tail_mask (n - i);
      __m256i h = _mm512_cvtps_ph (_mm512_maskz_loadu_ps (m, src + i), _MM_FROUND_TO_NEAREST_INT);
      _mm256_mask_storeu_epi16 (dst + i, m, h);
    }
}

void
kk_f16_to_f32__avx512 (const uint16_t *src, float *dst, size_t n)
{
  size_t i = 0;

  for (; i + 32 <= n; i += 32)
    {
      __m512 a = _mm512_cvtph_ps (_mm256_loadu_si256 ((const __m256i *) (src + i)));
      __m512 b = _mm512_cvtph_ps (_mm256_loadu_si256 ((const __m256i *) (src + i + 16)));
      _mm512_storeu_ps (dst + i, a);
      _mm512_storeu_ps (dst + i + 16, b);
    }
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps (dst + i, _mm512_cvtph_ps (_mm256_loadu_si256 ((const __m256i *) (src + i))));
  if (i < n)
    {
      __mmask16 m = tail_mask (n - i);
      __m512 f = _mm512_cvtph_ps (_mm256_maskz_loadu_epi16 (m, src + i));
      _mm512_mask_storeu_ps (dst + i, m, f);
    }
}

/* x / scale clamped to [lo, hi] (integers), rounded half to even, plus the
 * zero point: always within the quantised type's range. NaN clamps to lo,
 * because vmaxps returns its second operand when either is NaN. */
static inline __m512i
quantize_x16 (__m512 x, __m512 scale, __m512 lo, __m512 hi, __m512i zp)
{
  __m512 v = _mm512_min_ps (_mm512_max_ps (_mm512_div_ps (x, scale), lo), hi);
  __m512i q = _mm512_cvt_roundps_epi32 (v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  return _mm512_add_epi32 (q, zp);
}

void
kk_quantize_f32_s8__avx512 (const float *src, int8_t *dst, size_t n, float scale, int32_t zero_point)
{
  if (!kk_quantize_zero_point_ok (zero_point))
    {
      kk_quantize_f32_s8__scalar (src, dst, n, scale, zero_point);
      return;
    }

  const __m512 vscale = _mm512_set1_ps (scale);
  const __m512 lo = _mm512_set1_ps ((float) (INT8_MIN - zero_point));
  const __m512 hi = _mm512_set1_ps ((float) (INT8_MAX - zero_point));
  const __m512i zp = _mm512_set1_epi32 (zero_point);
  size_t i = 0;

  /* the narrowing saturates, but after the clamp it never has to */
  for (; i + 16 <= n; i += 16)
    _mm_storeu_si128 ((__m128i *) (dst + i),
                      _mm512_cvtsepi32_epi8 (quantize_x16 (_mm512_loadu_ps (src + i), vscale, lo, hi, zp)));
  if (i < n)
    {
      __mmask16 m = tail_mask (n - i);
      __m512i q = quantize_x16 (_mm512_maskz_loadu_ps (m, src + i), vscale, lo, hi, zp);
      _mm512_mask_cvtsepi32_storeu_epi8 (dst + i, m, q);
    }
}

void
kk_quantize_f32_u8__avx512 (const float *src, uint8_t *dst, size_t n, float scale, int32_t zero_point)
{
  if (!kk_quantize_zero_point_ok (zero_point))
    {
      kk_quantize_f32_u8__scalar (src, dst, n, scale, zero_point);
      return;
    }

  const __m512 vscale = _mm512_set1_ps (scale);
  const __m512 lo = _mm512_set1_ps ((float) (0 - zero_point));
  const __m512 hi = _mm512_set1_ps ((float) (UINT8_MAX - zero_point));
  const __m512i zp = _mm512_set1_epi32 (zero_point);
  const __m512i zero = _mm512_setzero_si512 ();
  size_t i = 0;

  /* vpmovusdb reads its input as unsigned: the max with 0 keeps it honest
   * even though the clamp already put every lane in 0..255 */
  for (; i + 16 <= n; i += 16)
    {
      __m512i q = quantize_x16 (_mm512_loadu_ps (src + i), vscale, lo, hi, zp);
      _mm_storeu_si128 ((__m128i *) (dst + i), _mm512_cvtusepi32_epi8 (_mm512_max_epi32 (q, zero)));
    }
  if (i < n)
    {
      __mmask16 m = tail_mask (n - i);
      __m512i q = quantize_x16 (_mm512_maskz_loadu_ps (m, src + i), vscale, lo, hi, zp);
      _mm512_mask_cvtusepi32_storeu_epi8 (dst + i, m, _mm512_max_epi32 (q, zero));
    }
}

static inline __m512
dequantize_x16 (__m512i q, __m512 zpf, __m512 scale)
{
  return _mm512_mul_ps (_mm512_sub_ps (_mm512_cvtepi32_ps (q), zpf), scale);
}

void
kk_dequantize_s8_f32__avx512 (const int8_t *src, float *dst, size_t n, float scale, int32_t zero_point)
{
  const __m512 vscale = _mm512_set1_ps (scale);
  const __m512 zpf = _mm512_set1_ps ((float) zero_point);
  size_t i = 0;

  for (; i + 16 <= n; i += 16)
    {
      __m512i q = _mm512_cvtepi8_epi32 (_mm_loadu_si128 ((const __m128i *) (src + i)));
      _mm512_storeu_ps (dst + i, dequantize_x16 (q, zpf, vscale));
    }
  if (i < n)
    {
      __mmask16 m = tail_mask (n - i);
      __m512i q = _mm512_cvtepi8_epi32 (_mm_maskz_loadu_epi8 (m, src + i));
      _mm512_mask_storeu_ps (dst + i, m, dequantize_x16 (q, zpf, vscale));
    }
}

void
kk_dequantize_u8_f32__avx512 (const uint8_t *src, float *dst, size_t n, float scale, int32_t zero_point)
{
  const __m512 vscale = _mm512_set1_ps (scale);
  const __m512 zpf = _mm512_set1_ps ((float) zero_point);
  size_t i = 0;

  for (; i + 16 <= n; i += 16)
    {
      __m512i q = _mm512_cvtepu8_epi32 (_mm_loadu_si128 ((const __m128i *) (src + i)));
      _mm512_storeu_ps (dst + i, dequantize_x16 (q, zpf, vscale));
    }
  if (i < n)
    {
      __mmask16 m = tail_mask (n - i);
      __m512i q = _mm512_cvtepu8_epi32 (_mm_maskz_loadu_epi8 (m, src + i));
      _mm512_mask_storeu_ps (dst + i, m, dequantize_x16 (q, zpf, vscale));
    }
}
