/* convert-scalar.c — the reference versions, and the tests' oracle: portable
 * C with bit manipulation, independent of the FP environment. */
#include "convert.h"

void
kk_f32_to_f16__scalar (const float *src, uint16_t *dst, size_t n)
{
  for (size_t i = 0; i < n; i++)
    dst[i] = kk_f32_to_f16_one (src[i]);
}

void
kk_f16_to_f32__scalar (const uint16_t *src, float *dst, size_t n)
{
  for (size_t i = 0; i < n; i++)
    dst[i] = kk_f16_to_f32_one (src[i]);
}

void
kk_quantize_f32_s8__scalar (const float *src, int8_t *dst, size_t n, float scale, int32_t zero_point)
{
  for (size_t i = 0; i < n; i++)
    dst[i] = (int8_t) kk_quantize_one (src[i], scale, zero_point, INT8_MIN, INT8_MAX);
}

void
kk_quantize_f32_u8__scalar (const float *src, uint8_t *dst, size_t n, float scale, int32_t zero_point)
{
  for (size_t i = 0; i < n; i++)
    dst[i] = (uint8_t) kk_quantize_one (src[i], scale, zero_point, 0, UINT8_MAX);
}

void
kk_dequantize_s8_f32__scalar (const int8_t *src, float *dst, size_t n, float scale, int32_t zero_point)
{
  for (size_t i = 0; i < n; i++)
    dst[i] = kk_dequantize_one (src[i], scale, zero_point);
}

void
kk_dequantize_u8_f32__scalar (const uint8_t *src, float *dst, size_t n, float scale, int32_t zero_point)
{
  for (size_t i = 0; i < n; i++)
    dst[i] = kk_dequantize_one (src[i], scale, zero_point);
}
