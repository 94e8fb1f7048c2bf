/* avgpool-global-avx512.c — global average pooling, NHWC, 16 channels per
 * zmm: blocks of up to 128 channels (eight accumulators) stream the pixels
 * once, each lane summing its channel in pixel order as the reference does;
 * the block's last vectors are masked (masked-off lanes are neither read
 * nor written). */
#include "pool.h"

#include <immintrin.h>

void
kk_avgpool_global_f32_nhwc_avx512 (const float *x, size_t pixels, size_t channels, size_t stride,
                                   float *y)
{
  const __m512 scale = _mm512_set1_ps ((float) pixels);

  for (size_t c0 = 0; c0 < channels; c0 += 128)
    {
      size_t width = channels - c0 < 128 ? channels - c0 : 128;
      __mmask16 m[8];
      __m512 acc[8];

      for (size_t v = 0; v < 8; v++)
        {
          size_t lo = 16 * v, r = width > lo ? (width - lo < 16 ? width - lo : 16) : 0;
          m[v] = (__mmask16) ((1u << r) - 1u);
          acc[v] = _mm512_setzero_ps ();
        }
      if (width == 128)
        for (size_t p = 0; p < pixels; p++)
          {
            const float *xp = x + p * stride + c0;
            for (size_t v = 0; v < 8; v++)
              acc[v] = _mm512_add_ps (acc[v], _mm512_loadu_ps (xp + 16 * v));
          }
      else
        for (size_t p = 0; p < pixels; p++)
          {
            const float *xp = x + p * stride + c0;
            for (size_t v = 0; v < 8; v++)
              acc[v] = _mm512_add_ps (acc[v], _mm512_maskz_loadu_ps (m[v], xp + 16 * v));
          }
      for (size_t v = 0; v < 8; v++)
        _mm512_mask_storeu_ps (y + c0 + 16 * v, m[v],
                               pixels > 0 ? _mm512_div_ps (acc[v], scale) : _mm512_setzero_ps ());
    }
}
