/* kestrel-calibrate-methods.h — the calibration methods beyond minmax, and
 * finding a method by the name a user or a table gives.
 *
 * Both bin each tensor, in a second pass over the frames, into a
 * kestrel-range-histogram of the range the first pass found (2048 bins per side
 * of zero: 32 KiB per tensor whatever the frames), then clip:
 *
 *   percentile  each side at 99.99 % of its values (one in 10000 clipped)
 *   mse         at the range of least expected quantisation error for the
 *               256 u8 levels (kestrel-range-histogram.h says how it is counted)
 */
#pragma once

#include "kestrel-calibrate.h"

G_BEGIN_DECLS

#define KESTREL_CALIBRATION_HISTOGRAM_BINS 2048
#define KESTREL_CALIBRATION_PERCENTILE 99.99

extern const KestrelCalibrationMethod kestrel_calibration_percentile;
extern const KestrelCalibrationMethod kestrel_calibration_mse;

/* "minmax", "percentile" or "mse"; NULL for any other name. */
const KestrelCalibrationMethod *kestrel_calibration_method_from_name (const char *name);

/* The names above, for help texts: "minmax, percentile, mse". */
const char *kestrel_calibration_method_names (void);

G_END_DECLS
