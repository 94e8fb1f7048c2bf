/* normalize-scalar.c — the reference versions, and the tests' oracle. */
#include "normalize.h"

void
kk_mean_var_f32__scalar (const float *x, size_t n, double *mean, double *var)
{
  double shift = n > 0 ? (double) x[0] : 0.0;
  double sum_d = 0.0, sum_d2 = 0.0;

  for (size_t i = 0; i < n; i++)
    {
      double d = (double) x[i] - shift;
      sum_d += d;
      sum_d2 += d * d;
    }
  kk_mean_var_finish (shift, sum_d, sum_d2, n, mean, var);
}

void
kk_normalize_f32__scalar (const float *x, float *y, size_t n, float mean, float inv_std)
{
  for (size_t i = 0; i < n; i++)
    y[i] = (x[i] - mean) * inv_std;
}
