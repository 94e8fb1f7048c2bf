/* threshold-avx2.c — threshold with AVX2 (128 bytes a step).
 *
 * As in the SSE4.2 version, a saturating subtract stands in for the unsigned
 * compare x86 lacks before AVX-512.
 */
#include "threshold.h"

#include <immintrin.h>

static inline __m256i
threshold_x32 (__m256i x, __m256i t, __m256i maxv)
{
  __m256i at_most = _mm256_cmpeq_epi8 (_mm256_subs_epu8 (x, t), _mm256_setzero_si256 ());
  return _mm256_andnot_si256 (at_most, maxv);
}

void
kk_threshold_u8__avx2 (const uint8_t *src, uint8_t *dst, size_t n, uint8_t thresh, uint8_t maxval)
{
  const __m256i t = _mm256_set1_epi8 ((char) thresh);
  const __m256i maxv = _mm256_set1_epi8 ((char) maxval);
  size_t i = 0;

  for (; i + 128 <= n; i += 128)
    {
      __m256i x0 = _mm256_loadu_si256 ((const __m256i *) (src + i));
      __m256i x1 = _mm256_loadu_si256 ((const __m256i *) (src + i + 32));
      __m256i x2 = _mm256_loadu_si256 ((const __m256i *) (src + i + 64));
      __m256i x3 = _mm256_loadu_si256 ((const __m256i *) (src + i + 96));
      _mm256_storeu_si256 ((__m256i *) (dst + i), threshold_x32 (x0, t, maxv));
      _mm256_storeu_si256 ((__m256i *) (dst + i + 32), threshold_x32 (x1, t, maxv));
      _mm256_storeu_si256 ((__m256i *) (dst + i + 64), threshold_x32 (x2, t, maxv));
      _mm256_storeu_si256 ((__m256i *) (dst + i + 96), threshold_x32 (x3, t, maxv));
    }
  for (; i + 32 <= n; i += 32)
    {
      __m256i x = _mm256_loadu_si256 ((const __m256i *) (src + i));
      _mm256_storeu_si256 ((__m256i *) (dst + i), threshold_x32 (x, t, maxv));
    }
  if (i + 16 <= n)
    {
      __m128i x = _mm_loadu_si128 ((const __m128i *) (src + i));
      __m128i at_most = _mm_cmpeq_epi8 (_mm_subs_epu8 (x, _mm256_castsi256_si128 (t)), _mm_setzero_si128 ());
      _mm_storeu_si128 ((__m128i *) (dst + i), _mm_andnot_si128 (at_most, _mm256_castsi256_si128 (maxv)));
      i += 16;
    }
  for (; i < n; i++)
    dst[i] = src[i] > thresh ? maxval : 0;
}
