/* normalize-neon.c — aarch64 Advanced SIMD versions. */
#include "normalize.h"

#include <arm_neon.h>

void
kk_mean_var_f32__neon (const float *x, size_t n, double *mean, double *var)
{
  if (n == 0)
    {
      kk_mean_var_finish (0.0, 0.0, 0.0, 0, mean, var);
      return;
    }

  const double shift = (double) x[0];
  const float64x2_t vshift = vdupq_n_f64 (shift);
  /* Four independent chains per sum hide the latency of the double adds. */
  float64x2_t s1_0 = vdupq_n_f64 (0.0), s1_1 = vdupq_n_f64 (0.0);
  float64x2_t s1_2 = vdupq_n_f64 (0.0), s1_3 = vdupq_n_f64 (0.0);
  float64x2_t s2_0 = vdupq_n_f64 (0.0), s2_1 = vdupq_n_f64 (0.0);
  float64x2_t s2_2 = vdupq_n_f64 (0.0), s2_3 = vdupq_n_f64 (0.0);
  size_t i = 0;

  for (; i + 8 <= n; i += 8)
    {
      float32x4_t a = vld1q_f32 (x + i);
      float32x4_t b = vld1q_f32 (x + i + 4);
      float64x2_t d0 = vsubq_f64 (vcvt_f64_f32 (vget_low_f32 (a)), vshift);
      float64x2_t d1 = vsubq_f64 (vcvt_high_f64_f32 (a), vshift);
      float64x2_t d2 = vsubq_f64 (vcvt_f64_f32 (vget_low_f32 (b)), vshift);
      float64x2_t d3 = vsubq_f64 (vcvt_high_f64_f32 (b), vshift);
      s1_0 = vaddq_f64 (s1_0, d0);
      s1_1 = vaddq_f64 (s1_1, d1);
      s1_2 = vaddq_f64 (s1_2, d2);
      s1_3 = vaddq_f64 (s1_3, d3);
      s2_0 = vfmaq_f64 (s2_0, d0, d0);
      s2_1 = vfmaq_f64 (s2_1, d1, d1);
      s2_2 = vfmaq_f64 (s2_2, d2, d2);
      s2_3 = vfmaq_f64 (s2_3, d3, d3);
    }

  double sum_d = vaddvq_f64 (vaddq_f64 (vaddq_f64 (s1_0, s1_1), vaddq_f64 (s1_2, s1_3)));
  double sum_d2 = vaddvq_f64 (vaddq_f64 (vaddq_f64 (s2_0, s2_1), vaddq_f64 (s2_2, s2_3)));

  for (; i < n; i++)
    {
      double d = (double) x[i] - shift;
      sum_d += d;
      sum_d2 += d * d;
    }
  kk_mean_var_finish (shift, sum_d, sum_d2, n, mean, var);
}

void
kk_normalize_f32__neon (const float *x, float *y, size_t n, float mean, float inv_std)
{
  const float32x4_t vmean = vdupq_n_f32 (mean);
  const float32x4_t vscale = vdupq_n_f32 (inv_std);
  size_t i = 0;

  for (; i + 16 <= n; i += 16)
    {
      float32x4_t a = vld1q_f32 (x + i);
      float32x4_t b = vld1q_f32 (x + i + 4);
      float32x4_t c = vld1q_f32 (x + i + 8);
      float32x4_t d = vld1q_f32 (x + i + 12);
      /* vmulq, not vfmsq: the reference rounds after the subtraction */
      vst1q_f32 (y + i, vmulq_f32 (vsubq_f32 (a, vmean), vscale));
      vst1q_f32 (y + i + 4, vmulq_f32 (vsubq_f32 (b, vmean), vscale));
      vst1q_f32 (y + i + 8, vmulq_f32 (vsubq_f32 (c, vmean), vscale));
      vst1q_f32 (y + i + 12, vmulq_f32 (vsubq_f32 (d, vmean), vscale));
    }
  for (; i + 4 <= n; i += 4)
    vst1q_f32 (y + i, vmulq_f32 (vsubq_f32 (vld1q_f32 (x + i), vmean), vscale));
  for (; i < n; i++)
    y[i] = (x[i] - mean) * inv_std;
}
