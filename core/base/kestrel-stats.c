/* kestrel-stats.c — see kestrel-stats.h. */
#include "config.h"

#include "kestrel-stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

guint64
kestrel_stats_now_ns (void)
{
  struct timespec ts;

  /* g_get_monotonic_time() only has microseconds; kernels on small inputs
   * run in tens of them. */
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (guint64) ts.tv_sec * G_GUINT64_CONSTANT (1000000000) + (guint64) ts.tv_nsec;
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  /* NANs sort last so they never land in the middle of the data. */
  if (isnan (x) || isnan (y))
    return isnan (x) - isnan (y);
  return (x > y) - (x < y);
}

static double *
sorted_copy (const double *samples, gsize n)
{
  double *copy = g_new (double, n);

  memcpy (copy, samples, n * sizeof *copy);
  qsort (copy, n, sizeof *copy, compare_doubles);
  return copy;
}

double
kestrel_stats_percentile_sorted (const double *sorted, gsize n, double p)
{
  double rank, frac;
  gsize lo;

  if (n == 0 || !(p >= 0.0 && p <= 100.0))
    return NAN;
  g_return_val_if_fail (sorted != NULL, NAN);

  /* Multiply first: p = 29, n = 101 must give rank 29 exactly. */
  rank = p * (double) (n - 1) / 100.0;
  lo = (gsize) floor (rank);
  if (lo >= n - 1)
    return sorted[n - 1];
  frac = rank - (double) lo;
  /* Written so that frac == 0 gives sorted[lo] exactly. */
  return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

double
kestrel_stats_percentile (const double *samples, gsize n, double p)
{
  g_autofree double *sorted = NULL;

  if (n == 0 || !(p >= 0.0 && p <= 100.0))
    return NAN;
  g_return_val_if_fail (samples != NULL, NAN);

  sorted = sorted_copy (samples, n);
  return kestrel_stats_percentile_sorted (sorted, n, p);
}

double
kestrel_stats_median (const double *samples, gsize n)
{
  return kestrel_stats_percentile (samples, n, 50.0);
}

void
kestrel_stats_summarize (const double *samples, gsize n, KestrelStatsSummary *out)
{
  g_autofree double *sorted = NULL;
  double sum = 0.0;

  g_return_if_fail (out != NULL);

  if (n == 0)
    {
      *out = (KestrelStatsSummary) { 0, NAN, NAN, NAN, NAN, NAN, NAN };
      return;
    }
  g_return_if_fail (samples != NULL);

  sorted = sorted_copy (samples, n);
  for (gsize i = 0; i < n; i++)
    sum += sorted[i];

  out->n = n;
  out->min = sorted[0];
  out->max = sorted[n - 1];
  out->mean = sum / (double) n;
  out->median = kestrel_stats_percentile_sorted (sorted, n, 50.0);
  out->p10 = kestrel_stats_percentile_sorted (sorted, n, 10.0);
  out->p90 = kestrel_stats_percentile_sorted (sorted, n, 90.0);
}
