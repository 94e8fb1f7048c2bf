/* kestrel-stats.h — small measurement helpers shared by benchmarks.
 *
 * Benchmarks here report medians and percentiles, never means: the machines
 * are shared and noisy, and a single preempted run would drag a mean. Times
 * are nanoseconds from a monotonic clock; samples are doubles so callers can
 * feed in times, rates or ratios alike.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Nanoseconds from CLOCK_MONOTONIC (unaffected by wall-clock changes, not
 * counting time suspended). Only differences mean anything. */
guint64 kestrel_stats_now_ns (void);

/* The median of n samples (the mean of the two middle ones when n is even);
 * NAN when n == 0. The samples are not modified. */
double kestrel_stats_median (const double *samples, gsize n);

/* The p-th percentile, p in [0, 100], by linear interpolation between the
 * closest ranks: rank = p / 100 * (n - 1) in the sorted samples (numpy's
 * default "linear" method). p = 0 is the minimum, 50 the median, 100 the
 * maximum. NAN when n == 0 or p is outside [0, 100] or NAN. The samples are
 * not modified. */
double kestrel_stats_percentile (const double *samples, gsize n, double p);

/* Everything a benchmark usually prints about one series, from one sort. */
typedef struct {
  gsize n;
  double min, max;
  double mean;
  double median;
  double p10, p90;
} KestrelStatsSummary;

/* Fills *out for n samples; with n == 0 every value is NAN and n is 0. */
void kestrel_stats_summarize (const double *samples, gsize n, KestrelStatsSummary *out);

/* Same as the functions above on samples the caller has already sorted in
 * ascending order (no copy, no sort). */
double kestrel_stats_percentile_sorted (const double *sorted, gsize n, double p);

G_END_DECLS
