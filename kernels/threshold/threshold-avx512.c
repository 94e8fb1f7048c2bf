/* threshold-avx512.c — threshold with AVX-512 BW (64 bytes a step).
 *
 * AVX-512BW has the unsigned byte compare, straight into a mask, and a
 * zero-masked move turns it into maxval-or-0. The tail is the same step with
 * a masked load and store. Kept plain because it can only be checked on
 * machines that have AVX-512.
 */
#include "threshold.h"

#include <immintrin.h>

void
kk_threshold_u8__avx512 (const uint8_t *src, uint8_t *dst, size_t n, uint8_t thresh, uint8_t maxval)
{
  const __m512i t = _mm512_set1_epi8 ((char) thresh);
  const __m512i maxv = _mm512_set1_epi8 ((char) maxval);
  size_t i = 0;

  for (; i + 128 <= n; i += 128)
    {
      __m512i x0 = _mm512_loadu_si512 ((const void *) (src + i));
      __m512i x1 = _mm512_loadu_si512 ((const void *) (src + i + 64));
      _mm512_storeu_si512 ((void *) (dst + i), _mm512_maskz_mov_epi8 (_mm512_cmpgt_epu8_mask (x0, t), maxv));
      _mm512_storeu_si512 ((void *) (dst + i + 64), _mm512_maskz_mov_epi8 (_mm512_cmpgt_epu8_mask (x1, t), maxv));
    }
  for (; i + 64 <= n; i += 64)
    {
      __m512i x = _mm512_loadu_si512 ((const void *) (src + i));
      _mm512_storeu_si512 ((void *) (dst + i), _mm512_maskz_mov_epi8 (_mm512_cmpgt_epu8_mask (x, t), maxv));
    }
  if (i < n)
    {
      /* 1..63 bytes, one mask bit each */
      __mmask64 k = (((__mmask64) 1) << (n - i)) - 1;
      __m512i x = _mm512_maskz_loadu_epi8 (k, (const void *) (src + i));
      _mm512_mask_storeu_epi8 ((void *) (dst + i), k, _mm512_maskz_mov_epi8 (_mm512_cmpgt_epu8_mask (x, t), maxv));
    }
}
