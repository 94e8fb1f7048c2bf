/* normalize-avx512.c — AVX-512 (F) versions; tails use masked loads and
 * stores, which never touch memory outside the mask. */
#include "normalize.h"

#include <immintrin.h>

void
kk_mean_var_f32__avx512 (const float *x, size_t n, double *mean, double *var)
{
  if (n == 0)
    {
      kk_mean_var_finish (0.0, 0.0, 0.0, 0, mean, var);
      return;
    }

  const double shift = (double) x[0];
  const __m512d vshift = _mm512_set1_pd (shift);
  /* Four independent chains per sum hide the latency of the double adds. */
  __m512d s1_0 = _mm512_setzero_pd (), s1_1 = _mm512_setzero_pd ();
  __m512d s1_2 = _mm512_setzero_pd (), s1_3 = _mm512_setzero_pd ();
  __m512d s2_0 = _mm512_setzero_pd (), s2_1 = _mm512_setzero_pd ();
  __m512d s2_2 = _mm512_setzero_pd (), s2_3 = _mm512_setzero_pd ();
  size_t i = 0;

  for (; i + 32 <= n; i += 32)
    {
      __m512d d0 = _mm512_sub_pd (_mm512_cvtps_pd (_mm256_loadu_ps (x + i)), vshift);
      __m512d d1 = _mm512_sub_pd (_mm512_cvtps_pd (_mm256_loadu_ps (x + i + 8)), vshift);
      __m512d d2 = _mm512_sub_pd (_mm512_cvtps_pd (_mm256_loadu_ps (x + i + 16)), vshift);
      __m512d d3 = _mm512_sub_pd (_mm512_cvtps_pd (_mm256_loadu_ps (x + i + 24)), vshift);
      s1_0 = _mm512_add_pd (s1_0, d0);
      s1_1 = _mm512_add_pd (s1_1, d1);
      s1_2 = _mm512_add_pd (s1_2, d2);
      s1_3 = _mm512_add_pd (s1_3, d3);
      s2_0 = _mm512_fmadd_pd (d0, d0, s2_0);
      s2_1 = _mm512_fmadd_pd (d1, d1, s2_1);
      s2_2 = _mm512_fmadd_pd (d2, d2, s2_2);
      s2_3 = _mm512_fmadd_pd (d3, d3, s2_3);
    }
  for (; i + 8 <= n; i += 8)
    {
      __m512d d0 = _mm512_sub_pd (_mm512_cvtps_pd (_mm256_loadu_ps (x + i)), vshift);
      s1_0 = _mm512_add_pd (s1_0, d0);
      s2_0 = _mm512_fmadd_pd (d0, d0, s2_0);
    }

  __m512d s1 = _mm512_add_pd (_mm512_add_pd (s1_0, s1_1), _mm512_add_pd (s1_2, s1_3));
  __m512d s2 = _mm512_add_pd (_mm512_add_pd (s2_0, s2_1), _mm512_add_pd (s2_2, s2_3));
  double sum_d = _mm512_reduce_add_pd (s1);
  double sum_d2 = _mm512_reduce_add_pd (s2);

  for (; i < n; i++)
    {
      double d = (double) x[i] - shift;
      sum_d += d;
      sum_d2 += d * d;
    }
  kk_mean_var_finish (shift, sum_d, sum_d2, n, mean, var);
}

void
kk_normalize_f32__avx512 (const float *x, float *y, size_t n, float mean, float inv_std)
{
  const __m512 vmean = _mm512_set1_ps (mean);
  const __m512 vscale = _mm512_set1_ps (inv_std);
  size_t i = 0;

  for (; i + 32 <= n; i += 32)
    {
      __m512 a = _mm512_loadu_ps (x + i);
      __m512 b = _mm512_loadu_ps (x + i + 16);
      _mm512_storeu_ps (y + i, _mm512_mul_ps (_mm512_sub_ps (a, vmean), vscale));
      _mm512_storeu_ps (y + i + 16, _mm512_mul_ps (_mm512_sub_ps (b, vmean), vscale));
    }
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps (y + i, _mm512_mul_ps (_mm512_sub_ps (_mm512_loadu_ps (x + i), vmean), vscale));
  if (i < n)
    {
      /* 1..15 elements left */
      __mmask16 m = (__mmask16) ((1u << (n - i)) - 1u);
      __m512 a = _mm512_maskz_loadu_ps (m, x + i);
      _mm512_mask_storeu_ps (y + i, m, _mm512_mul_ps (_mm512_sub_ps (a, vmean), vscale));
    }
}
