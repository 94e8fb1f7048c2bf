/* normalize-sse42.c — SSE4.2 versions. */
#include "normalize.h"

#include <immintrin.h>

void
kk_mean_var_f32__sse42 (const float *x, size_t n, double *mean, double *var)
{
  if (n == 0)
    {
      kk_mean_var_finish (0.0, 0.0, 0.0, 0, mean, var);
      return;
    }

  const double shift = (double) x[0];
  const __m128d vshift = _mm_set1_pd (shift);
  /* Four independent chains per sum hide the latency of the double adds. */
  __m128d s1_0 = _mm_setzero_pd (), s1_1 = _mm_setzero_pd ();
  __m128d s1_2 = _mm_setzero_pd (), s1_3 = _mm_setzero_pd ();
  __m128d s2_0 = _mm_setzero_pd (), s2_1 = _mm_setzero_pd ();
  __m128d s2_2 = _mm_setzero_pd (), s2_3 = _mm_setzero_pd ();
  size_t i = 0;

  for (; i + 8 <= n; i += 8)
    {
      __m128 a = _mm_loadu_ps (x + i);
      __m128 b = _mm_loadu_ps (x + i + 4);
      __m128d d0 = _mm_sub_pd (_mm_cvtps_pd (a), vshift);
      __m128d d1 = _mm_sub_pd (_mm_cvtps_pd (_mm_movehl_ps (a, a)), vshift);
      __m128d d2 = _mm_sub_pd (_mm_cvtps_pd (b), vshift);
      __m128d d3 = _mm_sub_pd (_mm_cvtps_pd (_mm_movehl_ps (b, b)), vshift);
      s1_0 = _mm_add_pd (s1_0, d0);
      s1_1 = _mm_add_pd (s1_1, d1);
      s1_2 = _mm_add_pd (s1_2, d2);
      s1_3 = _mm_add_pd (s1_3, d3);
      s2_0 = _mm_add_pd (s2_0, _mm_mul_pd (d0, d0));
      s2_1 = _mm_add_pd (s2_1, _mm_mul_pd (d1, d1));
      s2_2 = _mm_add_pd (s2_2, _mm_mul_pd (d2, d2));
      s2_3 = _mm_add_pd (s2_3, _mm_mul_pd (d3, d3));
    }

  __m128d s1 = _mm_add_pd (_mm_add_pd (s1_0, s1_1), _mm_add_pd (s1_2, s1_3));
  __m128d s2 = _mm_add_pd (_mm_add_pd (s2_0, s2_1), _mm_add_pd (s2_2, s2_3));
  double sum_d = _mm_cvtsd_f64 (_mm_add_sd (s1, _mm_unpackhi_pd (s1, s1)));
  double sum_d2 = _mm_cvtsd_f64 (_mm_add_sd (s2, _mm_unpackhi_pd (s2, s2)));

  for (; i < n; i++)
    {
      double d = (double) x[i] - shift;
      sum_d += d;
      sum_d2 += d * d;
    }
  kk_mean_var_finish (shift, sum_d, sum_d2, n, mean, var);
}

void
kk_normalize_f32__sse42 (const float *x, float *y, size_t n, float mean, float inv_std)
{
  const __m128 vmean = _mm_set1_ps (mean);
  const __m128 vscale = _mm_set1_ps (inv_std);
  size_t i = 0;

  for (; i + 16 <= n; i += 16)
    {
      __m128 a = _mm_loadu_ps (x + i);
      __m128 b = _mm_loadu_ps (x + i + 4);
      __m128 c = _mm_loadu_ps (x + i + 8);
      __m128 d = _mm_loadu_ps (x + i + 12);
      _mm_storeu_ps (y + i, _mm_mul_ps (_mm_sub_ps (a, vmean), vscale));
      _mm_storeu_ps (y + i + 4, _mm_mul_ps (_mm_sub_ps (b, vmean), vscale));
      _mm_storeu_ps (y + i + 8, _mm_mul_ps (_mm_sub_ps (c, vmean), vscale));
      _mm_storeu_ps (y + i + 12, _mm_mul_ps (_mm_sub_ps (d, vmean), vscale));
    }
  for (; i + 4 <= n; i += 4)
    _mm_storeu_ps (y + i, _mm_mul_ps (_mm_sub_ps (_mm_loadu_ps (x + i), vmean), vscale));
  for (; i < n; i++)
    y[i] = (x[i] - mean) * inv_std;
}
