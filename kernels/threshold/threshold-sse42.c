/* threshold-sse42.c — threshold with SSE2 (64 bytes a step).
 *
 * SSE has no unsigned byte compare; a saturating subtract is zero exactly
 * when x <= thresh, which also covers thresh == 255 (nothing passes) without
 * a special case.
 */
#include "threshold.h"

#include <emmintrin.h>

static inline __m128i
threshold_x16 (__m128i x, __m128i t, __m128i maxv)
{
  __m128i at_most = _mm_cmpeq_epi8 (_mm_subs_epu8 (x, t), _mm_setzero_si128 ());
  return _mm_andnot_si128 (at_most, maxv);
}

void
kk_threshold_u8__sse42 (const uint8_t *src, uint8_t *dst, size_t n, uint8_t thresh, uint8_t maxval)
{
  const __m128i t = _mm_set1_epi8 ((char) thresh);
  const __m128i maxv = _mm_set1_epi8 ((char) maxval);
  size_t i = 0;

  for (; i + 64 <= n; i += 64)
    {
      __m128i x0 = _mm_loadu_si128 ((const __m128i *) (src + i));
      __m128i x1 = _mm_loadu_si128 ((const __m128i *) (src + i + 16));
      __m128i x2 = _mm_loadu_si128 ((const __m128i *) (src + i + 32));
      __m128i x3 = _mm_loadu_si128 ((const __m128i *) (src + i + 48));
      _mm_storeu_si128 ((__m128i *) (dst + i), threshold_x16 (x0, t, maxv));
      _mm_storeu_si128 ((__m128i *) (dst + i + 16), threshold_x16 (x1, t, maxv));
      _mm_storeu_si128 ((__m128i *) (dst + i + 32), threshold_x16 (x2, t, maxv));
      _mm_storeu_si128 ((__m128i *) (dst + i + 48), threshold_x16 (x3, t, maxv));
    }
  for (; i + 16 <= n; i += 16)
    {
      __m128i x = _mm_loadu_si128 ((const __m128i *) (src + i));
      _mm_storeu_si128 ((__m128i *) (dst + i), threshold_x16 (x, t, maxv));
    }
  for (; i < n; i++)
    dst[i] = src[i] > thresh ? maxval : 0;
}
