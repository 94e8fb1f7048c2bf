/* convert-neon.c — aarch64 Advanced SIMD versions.
 *
 * The half conversions are the FCVTN/FCVTL instructions, which round as the
 * FPCR says: nearest even, with subnormals kept, under the FPCR Linux gives
 * every thread (FZ and DN clear). FCVTNS rounds to nearest even by itself.
 */
#include "convert.h"

#include <arm_neon.h>

void
kk_f32_to_f16__neon (const float *src, uint16_t *dst, size_t n)
{
  size_t i = 0;

  for (; i + 16 <= n; i += 16)
    {
      float16x8_t a = vcvt_high_f16_f32 (vcvt_f16_f32 (vld1q_f32 (src + i)), vld1q_f32 (src + i + 4));
      float16x8_t b = vcvt_high_f16_f32 (vcvt_f16_f32 (vld1q_f32 (src + i + 8)), vld1q_f32 (src + i + 12));
      vst1q_u16 (dst + i, vreinterpretq_u16_f16 (a));
      vst1q_u16 (dst + i + 8, vreinterpretq_u16_f16 (b));
    }
  for (; i + 4 <= n; i += 4)
    vst1_u16 (dst + i, vreinterpret_u16_f16 (vcvt_f16_f32 (vld1q_f32 (src + i))));
  for (; i < n; i++)
    dst[i] = kk_f32_to_f16_one (src[i]);
}

void
kk_f16_to_f32__neon (const uint16_t *src, float *dst, size_t n)
{
  size_t i = 0;

  for (; i + 16 <= n; i += 16)
    {
      float16x8_t a = vreinterpretq_f16_u16 (vld1q_u16 (src + i));
      float16x8_t b = vreinterpretq_f16_u16 (vld1q_u16 (src + i + 8));
      vst1q_f32 (dst + i, vcvt_f32_f16 (vget_low_f16 (a)));
      vst1q_f32 (dst + i + 4, vcvt_high_f32_f16 (a));
      vst1q_f32 (dst + i + 8, vcvt_f32_f16 (vget_low_f16 (b)));
      vst1q_f32 (dst + i + 12, vcvt_high_f32_f16 (b));
    }
  for (; i + 4 <= n; i += 4)
    vst1q_f32 (dst + i, vcvt_f32_f16 (vreinterpret_f16_u16 (vld1_u16 (src + i))));
  for (; i < n; i++)
    dst[i] = kk_f16_to_f32_one (src[i]);
}

/* x / scale clamped to [lo, hi] (integers), rounded half to even, plus the
 * zero point. FMAXNM/FMINNM, unlike FMAX/FMIN, turn a NaN into the bound,
 * as the scalar reference does. */
static inline int32x4_t
quantize_x4 (float32x4_t x, float32x4_t scale, float32x4_t lo, float32x4_t hi, int32x4_t zp)
{
  float32x4_t v = vminnmq_f32 (vmaxnmq_f32 (vdivq_f32 (x, scale), lo), hi);
  return vaddq_s32 (vcvtnq_s32_f32 (v), zp);
}

void
kk_quantize_f32_s8__neon (const float *src, int8_t *dst, size_t n, float scale, int32_t zero_point)
{
  if (!kk_quantize_zero_point_ok (zero_point))
    {
      kk_quantize_f32_s8__scalar (src, dst, n, scale, zero_point);
      return;
    }

  const float32x4_t vscale = vdupq_n_f32 (scale);
  const float32x4_t lo = vdupq_n_f32 ((float) (INT8_MIN - zero_point));
  const float32x4_t hi = vdupq_n_f32 ((float) (INT8_MAX - zero_point));
  const int32x4_t zp = vdupq_n_s32 (zero_point);
  size_t i = 0;

  for (; i + 16 <= n; i += 16)
    {
      int32x4_t a = quantize_x4 (vld1q_f32 (src + i), vscale, lo, hi, zp);
      int32x4_t b = quantize_x4 (vld1q_f32 (src + i + 4), vscale, lo, hi, zp);
      int32x4_t c = quantize_x4 (vld1q_f32 (src + i + 8), vscale, lo, hi, zp);
      int32x4_t d = quantize_x4 (vld1q_f32 (src + i + 12), vscale, lo, hi, zp);
      int16x8_t ab = vcombine_s16 (vqmovn_s32 (a), vqmovn_s32 (b));
      int16x8_t cd = vcombine_s16 (vqmovn_s32 (c), vqmovn_s32 (d));
      vst1q_s8 (dst + i, vcombine_s8 (vqmovn_s16 (ab), vqmovn_s16 (cd)));
    }
  for (; i < n; i++)
    dst[i] = (int8_t) kk_quantize_one (src[i], scale, zero_point, INT8_MIN, INT8_MAX);
}

void
kk_quantize_f32_u8__neon (const float *src, uint8_t *dst, size_t n, float scale, int32_t zero_point)
{
  if (!kk_quantize_zero_point_ok (zero_point))
    {
      kk_quantize_f32_u8__scalar (src, dst, n, scale, zero_point);
      return;
    }

  const float32x4_t vscale = vdupq_n_f32 (scale);
  const float32x4_t lo = vdupq_n_f32 ((float) (0 - zero_point));
  const float32x4_t hi = vdupq_n_f32 ((float) (UINT8_MAX - zero_point));
  const int32x4_t zp = vdupq_n_s32 (zero_point);
  size_t i = 0;

  for (; i + 16 <= n; i += 16)
    {
      int32x4_t a = quantize_x4 (vld1q_f32 (src + i), vscale, lo, hi, zp);
      int32x4_t b = quantize_x4 (vld1q_f32 (src + i + 4), vscale, lo, hi, zp);
      int32x4_t c = quantize_x4 (vld1q_f32 (src + i + 8), vscale, lo, hi, zp);
      int32x4_t d = quantize_x4 (vld1q_f32 (src + i + 12), vscale, lo, hi, zp);
      int16x8_t ab = vcombine_s16 (vqmovn_s32 (a), vqmovn_s32 (b));
      int16x8_t cd = vcombine_s16 (vqmovn_s32 (c), vqmovn_s32 (d));
      vst1q_u8 (dst + i, vcombine_u8 (vqmovun_s16 (ab), vqmovun_s16 (cd)));
    }
  for (; i < n; i++)
    dst[i] = (uint8_t) kk_quantize_one (src[i], scale, zero_point, 0, UINT8_MAX);
}

static inline float32x4_t
dequantize_x4 (int32x4_t q, float32x4_t zpf, float32x4_t scale)
{
  /* vmulq, not a fused op: the reference rounds after the subtraction */
  return vmulq_f32 (vsubq_f32 (vcvtq_f32_s32 (q), zpf), scale);
}

void
kk_dequantize_s8_f32__neon (const int8_t *src, float *dst, size_t n, float scale, int32_t zero_point)
{
  const float32x4_t vscale = vdupq_n_f32 (scale);
  const float32x4_t zpf = vdupq_n_f32 ((float) zero_point);
  size_t i = 0;

  for (; i + 16 <= n; i += 16)
    {
      int8x16_t b = vld1q_s8 (src + i);
      int16x8_t lo = vmovl_s8 (vget_low_s8 (b));
      int16x8_t hi = vmovl_high_s8 (b);
      vst1q_f32 (dst + i, dequantize_x4 (vmovl_s16 (vget_low_s16 (lo)), zpf, vscale));
      vst1q_f32 (dst + i + 4, dequantize_x4 (vmovl_high_s16 (lo), zpf, vscale));
      vst1q_f32 (dst + i + 8, dequantize_x4 (vmovl_s16 (vget_low_s16 (hi)), zpf, vscale));
      vst1q_f32 (dst + i + 12, dequantize_x4 (vmovl_high_s16 (hi), zpf, vscale));
    }
  for (; i < n; i++)
    dst[i] = kk_dequantize_one (src[i], scale, zero_point);
}

void
kk_dequantize_u8_f32__neon (const uint8_t *src, float *dst, size_t n, float scale, int32_t zero_point)
{
  const float32x4_t vscale = vdupq_n_f32 (scale);
  const float32x4_t zpf = vdupq_n_f32 ((float) zero_point);
  size_t i = 0;

  for (; i + 16 <= n; i += 16)
    {
      uint8x16_t b = vld1q_u8 (src + i);
      int16x8_t lo = vreinterpretq_s16_u16 (vmovl_u8 (vget_low_u8 (b)));
      int16x8_t hi = vreinterpretq_s16_u16 (vmovl_high_u8 (b));
      vst1q_f32 (dst + i, dequantize_x4 (vmovl_s16 (vget_low_s16 (lo)), zpf, vscale));
      vst1q_f32 (dst + i + 4, dequantize_x4 (vmovl_high_s16 (lo), zpf, vscale));
      vst1q_f32 (dst + i + 8, dequantize_x4 (vmovl_s16 (vget_low_s16 (hi)), zpf, vscale));
      vst1q_f32 (dst + i + 12, dequantize_x4 (vmovl_high_s16 (hi), zpf, vscale));
    }
  for (; i < n; i++)
    dst[i] = kk_dequantize_one (src[i], scale, zero_point);
}
