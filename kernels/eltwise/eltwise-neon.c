/* eltwise-neon.c — 4 floats per vector, two vectors per step.
 *
 * NEON's FMIN/FMAX return NaN if either input is NaN, and FMINNM/FMAXNM
 * return the number; neither matches the reference rule (see eltwise.h), so
 * the clamp is spelled as compare + bit-select, which does match it: a NaN
 * value fails the comparison and is kept, a NaN bound fails it and is
 * ignored. */
#include "eltwise.h"

#include <arm_neon.h>

static inline float32x4_t
clamp_ps (float32x4_t v, float32x4_t lo, float32x4_t hi)
{
  v = vbslq_f32 (vcltq_f32 (hi, v), hi, v);
  return vbslq_f32 (vcgtq_f32 (lo, v), lo, v);
}

void
kk_add_clamp_f32_neon (const float *a, const float *b, float *y, size_t n, float lo, float hi)
{
  const float32x4_t vlo = vdupq_n_f32 (lo), vhi = vdupq_n_f32 (hi);
  size_t i = 0;

  for (; i + 8 <= n; i += 8)
    {
      float32x4_t s0 = vaddq_f32 (vld1q_f32 (a + i), vld1q_f32 (b + i));
      float32x4_t s1 = vaddq_f32 (vld1q_f32 (a + i + 4), vld1q_f32 (b + i + 4));
      vst1q_f32 (y + i, clamp_ps (s0, vlo, vhi));
      vst1q_f32 (y + i + 4, clamp_ps (s1, vlo, vhi));
    }
  for (; i + 4 <= n; i += 4)
    vst1q_f32 (y + i, clamp_ps (vaddq_f32 (vld1q_f32 (a + i), vld1q_f32 (b + i)), vlo, vhi));
  for (; i < n; i++)
    y[i] = kk_clamp_f32_1 (a[i] + b[i], lo, hi);
}

void
kk_clamp_f32_neon (const float *x, float *y, size_t n, float lo, float hi)
{
  const float32x4_t vlo = vdupq_n_f32 (lo), vhi = vdupq_n_f32 (hi);
  size_t i = 0;

  for (; i + 8 <= n; i += 8)
    {
      float32x4_t v0 = vld1q_f32 (x + i), v1 = vld1q_f32 (x + i + 4);
      vst1q_f32 (y + i, clamp_ps (v0, vlo, vhi));
      vst1q_f32 (y + i + 4, clamp_ps (v1, vlo, vhi));
    }
  for (; i + 4 <= n; i += 4)
    vst1q_f32 (y + i, clamp_ps (vld1q_f32 (x + i), vlo, vhi));
  for (; i < n; i++)
    y[i] = kk_clamp_f32_1 (x[i], lo, hi);
}
