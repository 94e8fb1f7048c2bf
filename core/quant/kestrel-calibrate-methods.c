/* kestrel-calibrate-methods.c — percentile and mse calibration on
 * per-tensor histograms (kestrel-calibrate-methods.h). */
#include "kestrel-calibrate-methods.h"

#include <string.h>

#include "kestrel-range-histogram.h"

/* One tensor's histogram, made on the first values of pass 1, when the
 * range of pass 0 is known. */
typedef struct {
  KestrelRangeHistogram *histogram;
} HistogramEntry;

static gpointer
histogram_entry_new (void)
{
  return g_new0 (HistogramEntry, 1);
}

static void
histogram_entry_free (gpointer data)
{
  HistogramEntry *entry = data;
  kestrel_range_histogram_free (entry->histogram);
  g_free (entry);
}

static void
histogram_observe (gpointer data, guint pass, float min, float max, const float *values, gsize n)
{
  HistogramEntry *entry = data;
  (void) pass;
  if (entry->histogram == NULL)
    entry->histogram = kestrel_range_histogram_new (min, max, KESTREL_CALIBRATION_HISTOGRAM_BINS);
  kestrel_range_histogram_add (entry->histogram, values, n);
}

/* The method's range, or [min, max] for a tensor never binned. */
static void
choose (gpointer data, float min, float max, gboolean mse, float *lo, float *hi)
{
  const KestrelRangeHistogram *h = ((HistogramEntry *) data)->histogram;
  if (h == NULL || kestrel_range_histogram_get_count (h) == 0)
    *lo = min, *hi = max;
  else if (mse)
    kestrel_range_histogram_range_mse (h, 256, lo, hi);
  else
    kestrel_range_histogram_range_percentile (h, KESTREL_CALIBRATION_PERCENTILE, lo, hi);
}

static void
choose_percentile (gpointer data, float min, float max, float *lo, float *hi)
{
  choose (data, min, max, FALSE, lo, hi);
}

static void
choose_mse (gpointer data, float min, float max, float *lo, float *hi)
{
  choose (data, min, max, TRUE, lo, hi);
}

const KestrelCalibrationMethod kestrel_calibration_percentile = {
  .name = "percentile",
  .n_passes = 2,
  .entry_new = histogram_entry_new,
  .entry_free = histogram_entry_free,
  .observe = histogram_observe,
  .choose = choose_percentile,
};

const KestrelCalibrationMethod kestrel_calibration_mse = {
  .name = "mse",
  .n_passes = 2,
  .entry_new = histogram_entry_new,
  .entry_free = histogram_entry_free,
  .observe = histogram_observe,
  .choose = choose_mse,
};

static const KestrelCalibrationMethod *const methods[] = {
  &kestrel_calibration_minmax,
  &kestrel_calibration_percentile,
  &kestrel_calibration_mse,
};

const KestrelCalibrationMethod *
kestrel_calibration_method_from_name (const char *name)
{
  for (gsize i = 0; name != NULL && i < G_N_ELEMENTS (methods); i++)
    if (strcmp (methods[i]->name, name) == 0)
      return methods[i];
  return NULL;
}

const char *
kestrel_calibration_method_names (void)
{
  return "minmax, percentile, mse";
}
