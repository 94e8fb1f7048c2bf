/* avgpool-global-avx2.c — global average pooling, NHWC, 8 channels per
 * lane vector: blocks of up to 64 channels (eight accumulators) stream the
 * pixels once, each lane summing its channel in pixel order as the
 * reference does; the block's last vector is masked (masked-off lanes are
 * neither read nor written). */
#include "pool.h"

#include <immintrin.h>

static const int32_t tail_table[16] = { -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0 };

/* Lanes [0, r) for r in 0..8. */
static inline __m256i
lanes (size_t r)
{
  return _mm256_loadu_si256 ((const __m256i *) (tail_table + 8 - r));
}

void
kk_avgpool_global_f32_nhwc_avx2 (const float *x, size_t pixels, size_t channels, size_t stride,
                                 float *y)
{
  const __m256 scale = _mm256_set1_ps ((float) pixels);

  for (size_t c0 = 0; c0 < channels; c0 += 64)
    {
      size_t width = channels - c0 < 64 ? channels - c0 : 64;
      __m256i m[8];
      __m256 acc[8];

      for (size_t v = 0; v < 8; v++)
        {
          size_t lo = 8 * v;
          m[v] = lanes (width > lo ? (width - lo < 8 ? width - lo : 8) : 0);
          acc[v] = _mm256_setzero_ps ();
        }
      if (width == 64)
        for (size_t p = 0; p < pixels; p++)
          {
            const float *xp = x + p * stride + c0;
            for (size_t v = 0; v < 8; v++)
              acc[v] = _mm256_add_ps (acc[v], _mm256_loadu_ps (xp + 8 * v));
          }
      else
        for (size_t p = 0; p < pixels; p++)
          {
            const float *xp = x + p * stride + c0;
            for (size_t v = 0; v < 8; v++)
              acc[v] = _mm256_add_ps (acc[v], _mm256_maskload_ps (xp + 8 * v, m[v]));
          }
      for (size_t v = 0; v < 8; v++)
        _mm256_maskstore_ps (y + c0 + 8 * v, m[v],
                             pixels > 0 ? _mm256_div_ps (acc[v], scale) : _mm256_setzero_ps ());
    }
}
