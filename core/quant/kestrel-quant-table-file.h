/* kestrel-quant-table-file.h — calibration tables on disk: readable JSON,
 * and the per-user cache that spares a calibration when the same model was
 * calibrated the same way before.
 *
 * The file (version 1):
 *
 *   { "format": "kestrel-calibration", "version": 1,
 *     "model_hash": "<kestrel_model_get_content_hash>", "method": "mse",
 *     "frames": 5,
 *     "tensors": [ { "name": "input", "min": -1.0, "max": 1.0,
 *                    "scale": 0.00784, "zero_point": 128 }, ... ] }
 *
 * Version 2 adds, after a sensitivity search (kestrel-mixed-precision.h),
 *
 *     "mixed": { "goal_output_sqnr_db": 20, "output_sqnr_db": 23.1,
 *                "all_int8_output_sqnr_db": 4.2, "candidates": 80,
 *                "fp32_layers": [ "conv2d_33", ... ],
 *                "sensitivity": [ { "layer": "conv2d_1", "output_sqnr_db": 35.2 }, ... ],
 *                "tensor_errors": [ { "name": "x", "mse": 1e-4, "sqnr_db": 31.0 }, ... ] }
 *
 * (a dB figure of an exact result is null: JSON has no infinity), and,
 * once the INT4 search (kestrel-mixed-int4.h) ran on the table,
 *
 *     "int4": { "int8_layers": [ "conv2d_7", ... ] }
 *
 * (the layers INT4 plans keep INT8; a member older readers skip, so the
 * version stays 2). Version 1 files still read.
 *
 * Numbers are written so that they read back to the same float. A file
 * that is not valid JSON, of another format or version, or with a value
 * out of range (scale <= 0, zero_point outside 0..255, min > max, a name
 * twice) is KESTREL_ERROR_CORRUPT, naming the file and what was wrong.
 *
 * The cache: g_get_user_cache_dir()/kestrel/calibration/<hash>-<method>.json.
 * kestrel_calibrate_cached reads it when present and right (same model
 * hash and method); a corrupt or mismatched one is reported with
 * g_warning, calibrated again and replaced.
 */
#pragma once

#include "kestrel-calibrate.h"
#include "kestrel-mixed-precision.h"

G_BEGIN_DECLS

#define KESTREL_QUANT_TABLE_FILE_VERSION 2

char *kestrel_quant_table_to_json (const KestrelQuantTable *table);
/* `origin` names the data in errors (a path). */
KestrelQuantTable *kestrel_quant_table_from_json (const char *json, gssize length,
                                                  const char *origin, GError **error);

/* Written atomically (a temporary file renamed over the target). */
gboolean kestrel_quant_table_save (const KestrelQuantTable *table, const char *path, GError **error);
KestrelQuantTable *kestrel_quant_table_load (const char *path, GError **error);

/* The cache file of a model and method. */
char *kestrel_quant_table_cache_path (const char *model_hash, const char *method);
/* Writes `table` over the cache file of its model hash and method: for a
 * cached table the INT4 search has just completed, so that the next
 * process finds the INT4 choice too. */
gboolean kestrel_quant_table_save_to_cache (const KestrelQuantTable *table, GError **error);

/* kestrel_calibrate with the cache in front of it (see above); *from_cache
 * (may be NULL) says whether the table was read rather than measured. A
 * table that cannot be written to the cache is still returned (with a
 * g_warning). */
KestrelQuantTable *kestrel_calibrate_cached (KestrelModel *model,
                                             const KestrelCalibrationMethod *method, guint n_frames,
                                             KestrelCalibrationInputFunc fill_input,
                                             gpointer user_data, GCancellable *cancellable,
                                             gboolean *from_cache, GError **error);

/* The same with the sensitivity search (kestrel_calibrate_mixed): a cached
 * table is reused only when it went through the search with the same
 * goal (and the same use of an agreement goal); one without (an older file, kestrel_calibrate_cached's) is
 * measured again and replaced, with a g_message. */
KestrelQuantTable *kestrel_calibrate_mixed_cached (KestrelModel *model,
                                                   const KestrelCalibrationMethod *method, guint n_frames,
                                                   KestrelCalibrationInputFunc fill_input,
                                                   gpointer user_data, double goal_db,
                                                   KestrelMixedAgreeFunc agree, gpointer agree_data,
                                                   KestrelCalibrationProgressFunc search_progress,
                                                   gpointer progress_data, GCancellable *cancellable,
                                                   gboolean *from_cache, GError **error);

G_END_DECLS
