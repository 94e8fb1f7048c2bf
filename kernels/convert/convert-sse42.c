/* convert-sse42.c — SSE4.2 versions.
 *
 * There is no F16C here, so the half conversions are integer SIMD bit
 * manipulation: the same case split as the scalar reference, every case
 * computed for all lanes and picked with blends. The subnormal cases use
 * float arithmetic that is exact (scaling by a power of two, integers below
 * 2^11) and a rounding whose mode is given explicitly, so the result does not
 * depend on MXCSR either.
 */
#include "convert.h"

#include <immintrin.h>

/* 4 floats -> 4 halves in the low 16 bits of each 32-bit lane */
static inline __m128i
f32_to_f16_x4 (__m128 f)
{
  const __m128i x = _mm_castps_si128 (f);
  const __m128i ax = _mm_and_si128 (x, _mm_set1_epi32 (0x7fffffff));
  const __m128i sign = _mm_and_si128 (_mm_srli_epi32 (x, 16), _mm_set1_epi32 (0x8000));

  /* normal: rebias, then round the 13 dropped bits to nearest even */
  __m128i lsb = _mm_and_si128 (_mm_srli_epi32 (ax, 13), _mm_set1_epi32 (1));
  __m128i normal = _mm_add_epi32 (ax, _mm_set1_epi32 (0xfff - 0x38000000));
  normal = _mm_srli_epi32 (_mm_add_epi32 (normal, lsb), 13);

  /* |f| < 2^-14: |f| * 2^24 is exact and below 1024; rounding it to an
   * integer gives the subnormal half (or 0x400, the smallest normal) */
  __m128 units = _mm_mul_ps (_mm_castsi128_ps (ax), _mm_set1_ps (16777216.0f));
  __m128i subnormal = _mm_cvttps_epi32 (_mm_round_ps (units, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));

  __m128i nan = _mm_or_si128 (_mm_set1_epi32 (0x7e00),
                              _mm_and_si128 (_mm_srli_epi32 (ax, 13), _mm_set1_epi32 (0x3ff)));

  /* ax <= 0x7fffffff, so signed compares are safe */
  __m128i h = normal;
  h = _mm_blendv_epi8 (h, subnormal, _mm_cmplt_epi32 (ax, _mm_set1_epi32 (0x38800000)));
  h = _mm_blendv_epi8 (h, _mm_set1_epi32 (0x7c00), _mm_cmpgt_epi32 (ax, _mm_set1_epi32 (0x477fefff)));
  h = _mm_blendv_epi8 (h, nan, _mm_cmpgt_epi32 (ax, _mm_set1_epi32 (0x7f800000)));
  return _mm_or_si128 (h, sign);
}

/* 4 halves (zero-extended to 32-bit lanes) -> 4 floats */
static inline __m128
f16_to_f32_x4 (__m128i h)
{
  const __m128i sign = _mm_slli_epi32 (_mm_and_si128 (h, _mm_set1_epi32 (0x8000)), 16);
  const __m128i em = _mm_and_si128 (h, _mm_set1_epi32 (0x7fff));
  const __m128i shifted = _mm_slli_epi32 (em, 13);

  __m128i normal = _mm_add_epi32 (shifted, _mm_set1_epi32 (0x38000000));
  /* m * 2^-24 for the subnormal halves (and zero): exact, and a normal float */
  __m128i subnormal = _mm_castps_si128 (_mm_mul_ps (_mm_cvtepi32_ps (em), _mm_set1_ps (0x1p-24f)));
  __m128i is_nan = _mm_cmpgt_epi32 (em, _mm_set1_epi32 (0x7c00));
  __m128i infnan = _mm_or_si128 (_mm_add_epi32 (shifted, _mm_set1_epi32 (0x70000000)),
                                 _mm_and_si128 (is_nan, _mm_set1_epi32 (0x400000)));

  __m128i bits = normal;
  bits = _mm_blendv_epi8 (bits, subnormal, _mm_cmplt_epi32 (em, _mm_set1_epi32 (0x400)));
  bits = _mm_blendv_epi8 (bits, infnan, _mm_cmpgt_epi32 (em, _mm_set1_epi32 (0x7bff)));
  return _mm_castsi128_ps (_mm_or_si128 (bits, sign));
}

void
kk_f32_to_f16__sse42 (const float *src, uint16_t *dst, size_t n)
{
  size_t i = 0;

  for (; i + 16 <= n; i += 16)
    {
      __m128i a = f32_to_f16_x4 (_mm_loadu_ps (src + i));
      __m128i b = f32_to_f16_x4 (_mm_loadu_ps (src + i + 4));
      __m128i c = f32_to_f16_x4 (_mm_loadu_ps (src + i + 8));
      __m128i d = f32_to_f16_x4 (_mm_loadu_ps (src + i + 12));
      /* lanes hold 0..0xffff, so the unsigned saturating pack only narrows */
      _mm_storeu_si128 ((__m128i *) (dst + i), _mm_packus_epi32 (a, b));
      _mm_storeu_si128 ((__m128i *) (dst + i + 8), _mm_packus_epi32 (c, d));
    }
  for (; i + 4 <= n; i += 4)
    {
      __m128i a = f32_to_f16_x4 (_mm_loadu_ps (src + i));
      _mm_storel_epi64 ((__m128i *) (dst + i), _mm_packus_epi32 (a, a));
    }
  for (; i < n; i++)
    dst[i] = kk_f32_to_f16_one (src[i]);
}

void
kk_f16_to_f32__sse42 (const uint16_t *src, float *dst, size_t n)
{
  const __m128i zero = _mm_setzero_si128 ();
  size_t i = 0;

  for (; i + 16 <= n; i += 16)
    {
      __m128i a = _mm_loadu_si128 ((const __m128i *) (src + i));
      __m128i b = _mm_loadu_si128 ((const __m128i *) (src + i + 8));
      _mm_storeu_ps (dst + i, f16_to_f32_x4 (_mm_unpacklo_epi16 (a, zero)));
      _mm_storeu_ps (dst + i + 4, f16_to_f32_x4 (_mm_unpackhi_epi16 (a, zero)));
      _mm_storeu_ps (dst + i + 8, f16_to_f32_x4 (_mm_unpacklo_epi16 (b, zero)));
      _mm_storeu_ps (dst + i + 12, f16_to_f32_x4 (_mm_unpackhi_epi16 (b, zero)));
    }
  for (; i + 4 <= n; i += 4)
    {
      __m128i a = _mm_loadl_epi64 ((const __m128i *) (src + i));
      _mm_storeu_ps (dst + i, f16_to_f32_x4 (_mm_unpacklo_epi16 (a, zero)));
    }
  for (; i < n; i++)
    dst[i] = kk_f16_to_f32_one (src[i]);
}

/* x / scale clamped to [lo, hi] (integers), rounded half to even, plus the
 * zero point: always within the quantised type's range. NaN clamps to lo,
 * because maxps returns its second operand when either is NaN. */
static inline __m128i
quantize_x4 (__m128 x, __m128 scale, __m128 lo, __m128 hi, __m128i zp)
{
  __m128 v = _mm_min_ps (_mm_max_ps (_mm_div_ps (x, scale), lo), hi);
  v = _mm_round_ps (v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  return _mm_add_epi32 (_mm_cvttps_epi32 (v), zp);
}

void
kk_quantize_f32_s8__sse42 (const float *src, int8_t *dst, size_t n, float scale, int32_t zero_point)
{
  if (!kk_quantize_zero_point_ok (zero_point))
    {
      kk_quantize_f32_s8__scalar (src, dst, n, scale, zero_point);
      return;
    }

  const __m128 vscale = _mm_set1_ps (scale);
  const __m128 lo = _mm_set1_ps ((float) (INT8_MIN - zero_point));
  const __m128 hi = _mm_set1_ps ((float) (INT8_MAX - zero_point));
  const __m128i zp = _mm_set1_epi32 (zero_point);
  size_t i = 0;

  for (; i + 16 <= n; i += 16)
    {
      __m128i a = quantize_x4 (_mm_loadu_ps (src + i), vscale, lo, hi, zp);
      __m128i b = quantize_x4 (_mm_loadu_ps (src + i + 4), vscale, lo, hi, zp);
      __m128i c = quantize_x4 (_mm_loadu_ps (src + i + 8), vscale, lo, hi, zp);
      __m128i d = quantize_x4 (_mm_loadu_ps (src + i + 12), vscale, lo, hi, zp);
      __m128i q = _mm_packs_epi16 (_mm_packs_epi32 (a, b), _mm_packs_epi32 (c, d));
      _mm_storeu_si128 ((__m128i *) (dst + i), q);
    }
  for (; i < n; i++)
    dst[i] = (int8_t) kk_quantize_one (src[i], scale, zero_point, INT8_MIN, INT8_MAX);
}

void
kk_quantize_f32_u8__sse42 (const float *src, uint8_t *dst, size_t n, float scale, int32_t zero_point)
{
  if (!kk_quantize_zero_point_ok (zero_point))
    {
      kk_quantize_f32_u8__scalar (src, dst, n, scale, zero_point);
      return;
    }

  const __m128 vscale = _mm_set1_ps (scale);
  const __m128 lo = _mm_set1_ps ((float) (0 - zero_point));
  const __m128 hi = _mm_set1_ps ((float) (UINT8_MAX - zero_point));
  const __m128i zp = _mm_set1_epi32 (zero_point);
  size_t i = 0;

  for (; i + 16 <= n; i += 16)
    {
      __m128i a = quantize_x4 (_mm_loadu_ps (src + i), vscale, lo, hi, zp);
      __m128i b = quantize_x4 (_mm_loadu_ps (src + i + 4), vscale, lo, hi, zp);
      __m128i c = quantize_x4 (_mm_loadu_ps (src + i + 8), vscale, lo, hi, zp);
      __m128i d = quantize_x4 (_mm_loadu_ps (src + i + 12), vscale, lo, hi, zp);
      __m128i q = _mm_packus_epi16 (_mm_packs_epi32 (a, b), _mm_packs_epi32 (c, d));
      _mm_storeu_si128 ((__m128i *) (dst + i), q);
    }
  for (; i < n; i++)
    dst[i] = (uint8_t) kk_quantize_one (src[i], scale, zero_point, 0, UINT8_MAX);
}

static inline void
dequantize_x16 (__m128i q_lo_to_hi[4], __m128 zpf, __m128 scale, float *dst)
{
  for (int k = 0; k < 4; k++)
    _mm_storeu_ps (dst + 4 * k, _mm_mul_ps (_mm_sub_ps (_mm_cvtepi32_ps (q_lo_to_hi[k]), zpf), scale));
}

void
kk_dequantize_s8_f32__sse42 (const int8_t *src, float *dst, size_t n, float scale, int32_t zero_point)
{
  const __m128 vscale = _mm_set1_ps (scale);
  const __m128 zpf = _mm_set1_ps ((float) zero_point);
  size_t i = 0;

  for (; i + 16 <= n; i += 16)
    {
      __m128i b = _mm_loadu_si128 ((const __m128i *) (src + i));
      __m128i q[4] = {
        _mm_cvtepi8_epi32 (b),
        _mm_cvtepi8_epi32 (_mm_srli_si128 (b, 4)),
        _mm_cvtepi8_epi32 (_mm_srli_si128 (b, 8)),
        _mm_cvtepi8_epi32 (_mm_srli_si128 (b, 12)),
      };
      dequantize_x16 (q, zpf, vscale, dst + i);
    }
  for (; i < n; i++)
    dst[i] = kk_dequantize_one (src[i], scale, zero_point);
}

void
kk_dequantize_u8_f32__sse42 (const uint8_t *src, float *dst, size_t n, float scale, int32_t zero_point)
{
  const __m128 vscale = _mm_set1_ps (scale);
  const __m128 zpf = _mm_set1_ps ((float) zero_point);
  size_t i = 0;

  for (; i + 16 <= n; i += 16)
    {
      __m128i b = _mm_loadu_si128 ((const __m128i *) (src + i));
      __m128i q[4] = {
        _mm_cvtepu8_epi32 (b),
        _mm_cvtepu8_epi32 (_mm_srli_si128 (b, 4)),
        _mm_cvtepu8_epi32 (_mm_srli_si128 (b, 8)),
        _mm_cvtepu8_epi32 (_mm_srli_si128 (b, 12)),
      };
      dequantize_x16 (q, zpf, vscale, dst + i);
    }
  for (; i < n; i++)
    dst[i] = kk_dequantize_one (src[i], scale, zero_point);
}
