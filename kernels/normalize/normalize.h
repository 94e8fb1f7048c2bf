/* normalize.h — the normalize family's per-ISA versions (internal).
 *
 * mean_var_f32: population mean and variance in one pass over the data. The
 * sums are taken in double over d = x[i] - x[0] rather than over x itself:
 * shifting by a sample keeps sum(d^2)/n - (sum(d)/n)^2 from cancelling
 * catastrophically when the data sit on a large offset (1e4 + small noise),
 * and one pass keeps the kernel memory-bound. Every ISA uses the same shift
 * and double sums, so versions differ only by summation order. Accuracy:
 * about n * 2^-53 of mean(d^2) = var + (mean - x[0])^2, as good as two
 * passes unless x[0] is an outlier far outside the spread of the data.
 * (The tests allow versions to differ by 1e-9 of max d^2.)
 * n == 0 gives mean = var = 0.
 *
 * normalize_f32: y = (x - mean) * inv_std, one subtraction then one
 * multiplication in float (never an FMA), so every ISA matches the scalar
 * reference bit for bit.
 */
#pragma once

#include "kk-internal.h"

#define KK_NORMALIZE_DECLARE(isa)                                                         \
  void kk_mean_var_f32__##isa (const float *x, size_t n, double *mean, double *var);      \
  void kk_normalize_f32__##isa (const float *x, float *y, size_t n, float mean, float inv_std);

KK_NORMALIZE_DECLARE (scalar)
KK_NORMALIZE_DECLARE (sse42)
KK_NORMALIZE_DECLARE (avx2)
KK_NORMALIZE_DECLARE (avx512)
KK_NORMALIZE_DECLARE (neon)

/* Turns the shifted sums into the results; shared so every ISA finishes the
 * same way. */
static inline void
kk_mean_var_finish (double shift, double sum_d, double sum_d2, size_t n,
                    double *mean, double *var)
{
  if (n == 0)
    {
      *mean = 0.0;
      *var = 0.0;
      return;
    }
  double m = sum_d / (double) n;
  double v = sum_d2 / (double) n - m * m;
  *mean = shift + m;
  *var = v > 0.0 ? v : 0.0;  /* rounding can push a zero variance just below 0 */
}
