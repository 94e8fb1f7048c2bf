/* avgpool-global-scalar.c — global average pooling, NHWC: the reference.
 * Channels go in blocks of 64 sums so that the pixels stream past once. */
#include "pool.h"

#define BLOCK 64

void
kk_avgpool_global_f32_nhwc_scalar (const float *x, size_t pixels, size_t channels, size_t stride,
                                   float *y)
{
  for (size_t c0 = 0; c0 < channels; c0 += BLOCK)
    {
      size_t width = channels - c0 < BLOCK ? channels - c0 : BLOCK;
      float sum[BLOCK];

      for (size_t c = 0; c < width; c++)
        sum[c] = 0.0f;
      for (size_t p = 0; p < pixels; p++)
        for (size_t c = 0; c < width; c++)
          sum[c] += x[p * stride + c0 + c];
      for (size_t c = 0; c < width; c++)
        y[c0 + c] = pixels > 0 ? sum[c] / (float) pixels : 0.0f;
    }
}
