/* normalize-avx2.c — AVX2 versions. */
#include "normalize.h"

#include <immintrin.h>

void
kk_mean_var_f32__avx2 (const float *x, size_t n, double *mean, double *var)
{
  if (n == 0)
    {
      kk_mean_var_finish (0.0, 0.0, 0.0, 0, mean, var);
      return;
    }

  const double shift = (double) x[0];
  const __m256d vshift = _mm256_set1_pd (shift);
  const __m256d one = _mm256_set1_pd (1.0);
  /* Four independent chains per sum hide the latency of the double adds. */
  __m256d s1_0 = _mm256_setzero_pd (), s1_1 = _mm256_setzero_pd ();
  __m256d s1_2 = _mm256_setzero_pd (), s1_3 = _mm256_setzero_pd ();
  __m256d s2_0 = _mm256_setzero_pd (), s2_1 = _mm256_setzero_pd ();
  __m256d s2_2 = _mm256_setzero_pd (), s2_3 = _mm256_setzero_pd ();
  size_t i = 0;

  for (; i + 16 <= n; i += 16)
    {
      __m256d d0 = _mm256_sub_pd (_mm256_cvtps_pd (_mm_loadu_ps (x + i)), vshift);
      __m256d d1 = _mm256_sub_pd (_mm256_cvtps_pd (_mm_loadu_ps (x + i + 4)), vshift);
      __m256d d2 = _mm256_sub_pd (_mm256_cvtps_pd (_mm_loadu_ps (x + i + 8)), vshift);
      __m256d d3 = _mm256_sub_pd (_mm256_cvtps_pd (_mm_loadu_ps (x + i + 12)), vshift);
      /* d * 1 + s is exactly d + s, but runs on the FMA ports: with the
       * conversions and subtractions on the add ports (Zen 3), the adds
       * would make this compute-bound. */
      s1_0 = _mm256_fmadd_pd (d0, one, s1_0);
      s1_1 = _mm256_fmadd_pd (d1, one, s1_1);
      s1_2 = _mm256_fmadd_pd (d2, one, s1_2);
      s1_3 = _mm256_fmadd_pd (d3, one, s1_3);
      /* FMA only makes each square-and-add more accurate than the reference. */
      s2_0 = _mm256_fmadd_pd (d0, d0, s2_0);
      s2_1 = _mm256_fmadd_pd (d1, d1, s2_1);
      s2_2 = _mm256_fmadd_pd (d2, d2, s2_2);
      s2_3 = _mm256_fmadd_pd (d3, d3, s2_3);
    }

  __m256d s1 = _mm256_add_pd (_mm256_add_pd (s1_0, s1_1), _mm256_add_pd (s1_2, s1_3));
  __m256d s2 = _mm256_add_pd (_mm256_add_pd (s2_0, s2_1), _mm256_add_pd (s2_2, s2_3));
  __m128d h1 = _mm_add_pd (_mm256_castpd256_pd128 (s1), _mm256_extractf128_pd (s1, 1));
  __m128d h2 = _mm_add_pd (_mm256_castpd256_pd128 (s2), _mm256_extractf128_pd (s2, 1));
  double sum_d = _mm_cvtsd_f64 (_mm_add_sd (h1, _mm_unpackhi_pd (h1, h1)));
  double sum_d2 = _mm_cvtsd_f64 (_mm_add_sd (h2, _mm_unpackhi_pd (h2, h2)));

  for (; i < n; i++)
    {
      double d = (double) x[i] - shift;
      sum_d += d;
      sum_d2 += d * d;
    }
  kk_mean_var_finish (shift, sum_d, sum_d2, n, mean, var);
}

void
kk_normalize_f32__avx2 (const float *x, float *y, size_t n, float mean, float inv_std)
{
  const __m256 vmean = _mm256_set1_ps (mean);
  const __m256 vscale = _mm256_set1_ps (inv_std);
  size_t i = 0;

  for (; i + 32 <= n; i += 32)
    {
      __m256 a = _mm256_loadu_ps (x + i);
      __m256 b = _mm256_loadu_ps (x + i + 8);
      __m256 c = _mm256_loadu_ps (x + i + 16);
      __m256 d = _mm256_loadu_ps (x + i + 24);
      _mm256_storeu_ps (y + i, _mm256_mul_ps (_mm256_sub_ps (a, vmean), vscale));
      _mm256_storeu_ps (y + i + 8, _mm256_mul_ps (_mm256_sub_ps (b, vmean), vscale));
      _mm256_storeu_ps (y + i + 16, _mm256_mul_ps (_mm256_sub_ps (c, vmean), vscale));
      _mm256_storeu_ps (y + i + 24, _mm256_mul_ps (_mm256_sub_ps (d, vmean), vscale));
    }
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps (y + i, _mm256_mul_ps (_mm256_sub_ps (_mm256_loadu_ps (x + i), vmean), vscale));
  if (i + 4 <= n)
    {
      _mm_storeu_ps (y + i, _mm_mul_ps (_mm_sub_ps (_mm_loadu_ps (x + i), _mm256_castps256_ps128 (vmean)),
                                        _mm256_castps256_ps128 (vscale)));
      i += 4;
    }
  for (; i < n; i++)
    y[i] = (x[i] - mean) * inv_std;
}
