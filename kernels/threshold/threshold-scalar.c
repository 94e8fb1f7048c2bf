/* threshold-scalar.c — the reference threshold and the tests' oracle. */
#include "threshold.h"

void
kk_threshold_u8__scalar (const uint8_t *src, uint8_t *dst, size_t n, uint8_t thresh, uint8_t maxval)
{
  for (size_t i = 0; i < n; i++)
    dst[i] = src[i] > thresh ? maxval : 0;
}
