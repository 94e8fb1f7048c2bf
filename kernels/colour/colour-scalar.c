/* colour-scalar.c — the reference gray conversions and the tests' oracle. */
#include "colour.h"

void
kk_gray_from_rgb8__scalar (const uint8_t *src, uint8_t *dst, size_t n)
{
  for (size_t i = 0; i < n; i++)
    dst[i] = kk_luma_u8 (src[3 * i], src[3 * i + 1], src[3 * i + 2]);
}

void
kk_gray_from_rgba8__scalar (const uint8_t *src, uint8_t *dst, size_t n)
{
  for (size_t i = 0; i < n; i++)
    dst[i] = kk_luma_u8 (src[4 * i], src[4 * i + 1], src[4 * i + 2]);
}

void
kk_gray_from_bgra8__scalar (const uint8_t *src, uint8_t *dst, size_t n)
{
  for (size_t i = 0; i < n; i++)
    dst[i] = kk_luma_u8 (src[4 * i + 2], src[4 * i + 1], src[4 * i]);
}
