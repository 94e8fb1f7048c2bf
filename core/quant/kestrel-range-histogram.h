/* kestrel-range-histogram.h — the histogram a calibration method keeps per
 * tensor, and the two ways of choosing a quantisation range from it.
 *
 * The calibration's first pass finds each tensor's [min, max]; the second
 * bins the same values into a histogram of that range (kestrel-calibrate.h).
 * Memory is fixed: n_bins counts per side of zero. The sides are binned
 * apart, negatives by |value| over [0, -min] and the rest over [0, max],
 * so that a range can clip each side on its own and never moves 0 (the
 * zero point must stay exact, kestrel-quant-table.h).
 *
 * percentile: per side, the smallest bin edge below which at least
 *   `percentile` % of that side's values lie (99.99: one value in 10000 is
 *   clipped on each side).
 * mse: the [lo, hi] (lo <= 0 <= hi, on bin edges) that minimises the
 *   expected squared error of quantising the histogram to `levels` steps:
 *   rounding noise step^2 / 12 for every value inside, step = (hi - lo) /
 *   (levels - 1), plus (value - bound)^2 for every value clipped. Values
 *   are taken at their bin's centre.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _KestrelRangeHistogram KestrelRangeHistogram;

/* A histogram of values in [min, max] (finite, min <= max) with n_bins
 * (>= 1) bins on each side of zero. */
KestrelRangeHistogram *kestrel_range_histogram_new (float min, float max, guint n_bins);
void kestrel_range_histogram_free (KestrelRangeHistogram *histogram);

/* Counts n values. Values that are not finite are skipped; values outside
 * [min, max] go to the outermost bin of their side. */
void kestrel_range_histogram_add (KestrelRangeHistogram *histogram, const float *values, gsize n);

/* Values counted (finite ones), and those below zero. */
guint64 kestrel_range_histogram_get_count (const KestrelRangeHistogram *histogram);
guint64 kestrel_range_histogram_get_count_negative (const KestrelRangeHistogram *histogram);

/* The percentile range (see above); percentile in (0, 100]. lo <= 0 <= hi,
 * within [min, max] widened to 0. An empty side gives 0. */
void kestrel_range_histogram_range_percentile (const KestrelRangeHistogram *histogram, double percentile,
                                         float *lo, float *hi);

/* The range of least expected squared error for `levels` (>= 2)
 * quantisation levels (see above). lo <= 0 <= hi. */
void kestrel_range_histogram_range_mse (const KestrelRangeHistogram *histogram, guint levels, float *lo,
                                  float *hi);

/* The expected squared error per value (the sum above divided by the
 * count) of quantising over [lo, hi], lo <= 0 <= hi: what range_mse
 * minimises, for reports and tests. 0 for an empty histogram. */
double kestrel_range_histogram_quantisation_mse (const KestrelRangeHistogram *histogram, guint levels, float lo,
                                           float hi);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KestrelRangeHistogram, kestrel_range_histogram_free)

G_END_DECLS
