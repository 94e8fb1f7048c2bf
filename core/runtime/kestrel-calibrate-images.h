/* kestrel-calibrate-images.h — the INT8 calibration table of a model that
 * takes pictures: measured (core/quant/kestrel-calibrate.h, then the
 * sensitivity search) on the photos of a folder, the bundled samples by
 * default, each prepared the way the task decoder prepares frames; the
 * samples' table is kept in the user cache across processes, and every
 * table for the rest of the process by the model's content hash, so
 * switching back to INT8 costs nothing.
 *
 * Used by the engine's builder thread (frames keep flowing meanwhile) and
 * by kestrel-cli's --precision int8.
 */
#pragma once

#include <gio/gio.h>

#include "kestrel-calibrate.h"
#include "kestrel-kernels.h"
#include "kestrel-model.h"
#include "kestrel-plan.h"
#include "kestrel-quant-table.h"

G_BEGIN_DECLS

/* At most this many photos of a folder are used (the first, by name). */
#define KESTREL_CALIBRATION_MAX_PHOTOS 32


/* The table for `model` whose input `image_input` takes photos prepared
 * with `params`, minmax ranges and the layers the sensitivity search
 * keeps FP32 (kestrel-mixed-precision.h, default goal): this process's,
 * when one was measured before on `dir`; for the bundled samples (`dir`
 * NULL, kestrel_samples_get_dir()) the user cache's
 * (kestrel_calibrate_mixed_cached: reused when present, measured again
 * with a warning when corrupt); else measured now on the photos in `dir`.
 * `progress` counts thousandths: the photos' runs the first tenth, the
 * search the rest, then (1000, 1000). A QDQ file's model gives its own
 * table (kestrel_model_get_quant_table), measured nothing. Errors: no photo in the folder, a
 * photo that does not decode, G_IO_ERROR_CANCELLED. */
KestrelQuantTable *kestrel_calibrate_images (KestrelModel *model, guint image_input,
                                             const kk_model_input_params *params, const char *dir,
                                             KestrelCalibrationProgressFunc progress, gpointer user_data,
                                             GCancellable *cancellable, GError **error);

/* The same for a plan at `precision`: at INT4 the table also gets the
 * INT4 search's choice of the layers kept INT8 (kestrel-mixed-int4.h),
 * made once per process and table; any other precision is as above. */
KestrelQuantTable *kestrel_calibrate_images_for (KestrelModel *model, guint image_input,
                                                 const kk_model_input_params *params, const char *dir,
                                                 KestrelPrecision precision,
                                                 KestrelCalibrationProgressFunc progress, gpointer user_data,
                                                 GCancellable *cancellable, GError **error);

/* The input frames go to and how they are prepared for it, as the engine
 * does: the model's task decoder's (the generic one, pixels in 0..1, when
 * no plugin decodes it). An error when the model takes no picture. */
gboolean kestrel_calibrate_images_model_input (KestrelModel *model, guint *input, kk_model_input_params *params,
                                               GError **error);

/* The table the engine builds `model`'s plans at `precision` (INT8 or
 * INT4) from: kestrel_calibrate_images_for() on the bundled samples (and
 * the user cache), prepared by the model's task decoder as above.
 * kestrel-cli's --precision and the benchmark's integer cells use it, so
 * their plans are the engine's. A model from a QDQ file: its own table. */
KestrelQuantTable *kestrel_calibrate_images_for_model (KestrelModel *model, KestrelPrecision precision,
                                                       GCancellable *cancellable, GError **error);

/* The table measured before in this process for `model` on `dir` (NULL:
 * the samples), or NULL: whether kestrel_calibrate_images() would be
 * quick. */
KestrelQuantTable *kestrel_calibrate_images_lookup (KestrelModel *model, const char *dir);

G_END_DECLS
