/* kestrel-quant-table.h — the calibration table an INT8 plan is built from.
 *
 * One entry per tensor of the model (named as in the model, so a table
 * reads like the model and survives changes to the passes): the range the
 * calibration chose for it and the asymmetric u8 parameters that follow,
 *
 *   real = (q - zero_point) * scale,   q in 0 .. 255
 *
 * The range is widened to include 0 before the parameters are computed,
 * so real 0 (padding, Relu's floor, a residual's missing channels) is
 * exactly the zero point. The table also says which model it belongs to
 * (kestrel_model_get_content_hash()), which method chose the ranges and
 * over how many frames.
 *
 * Reference-counted and immutable once handed to a plan: set entries
 * while building it, then only read. Plain data on GLib: no part of core
 * but base is needed (graph/'s plan options carry a table).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  float min, max;       /* the calibrated range, as given (before widening to 0) */
  float scale;          /* > 0 */
  guint8 zero_point;
} KestrelQuantParams;

/* The u8 parameters of range [min, max]: widened to include 0, scale =
 * (hi - lo) / 255, zero_point = round (-lo / scale). A range of width 0
 * (a tensor that is always 0) gets scale 1. min > max, or a bound that is
 * not finite, is a caller bug (g_return_if_fail). */
void kestrel_quant_params_from_range (float min, float max, KestrelQuantParams *out);

typedef struct _KestrelQuantTable KestrelQuantTable;

/* `model_hash` from kestrel_model_get_content_hash(); `method` names how
 * the ranges were chosen ("minmax", ...); `n_frames` how many frames they
 * were measured on. */
KestrelQuantTable *kestrel_quant_table_new (const char *model_hash, const char *method, guint n_frames);
KestrelQuantTable *kestrel_quant_table_ref (KestrelQuantTable *table);
void kestrel_quant_table_unref (KestrelQuantTable *table);

const char *kestrel_quant_table_get_model_hash (const KestrelQuantTable *table);
const char *kestrel_quant_table_get_method (const KestrelQuantTable *table);
guint kestrel_quant_table_get_n_frames (const KestrelQuantTable *table);

/* Sets (or replaces) the entry of tensor `name` from its range. */
void kestrel_quant_table_set_range (KestrelQuantTable *table, const char *name, float min, float max);
/* Sets an entry with its parameters as they are (a table read back from a
 * file): scale must be finite and > 0. FALSE (and nothing set) otherwise. */
gboolean kestrel_quant_table_set_params (KestrelQuantTable *table, const char *name,
                                         const KestrelQuantParams *params);
/* The entry of tensor `name`; FALSE when the table has none. `out` may be
 * NULL to ask only whether it is there. */
gboolean kestrel_quant_table_lookup (const KestrelQuantTable *table, const char *name,
                                     KestrelQuantParams *out);

/* Entries in the order they were first set (the model's order when the
 * calibration set them). get_entry returns the name (owned by the table)
 * and fills `out` (may be NULL); NULL when i is out of range. */
guint kestrel_quant_table_get_n_entries (const KestrelQuantTable *table);
const char *kestrel_quant_table_get_entry (const KestrelQuantTable *table, guint i, KestrelQuantParams *out);

/* ---- mixed precision (kestrel-mixed-precision.h) ---------------------------
 *
 * What the sensitivity search decided and measured, kept with the ranges
 * so a cached table says it all: the layers (node names) INT8 plans keep
 * FP32 (kestrel_plan_new takes them with the table's other entries), each
 * candidate layer's sensitivity (the model's worst output SQNR, in dB, with
 * only that layer INT8), and per tensor of the chosen mix its error against
 * FP32 over the calibration frames. */

/* Replaces the FP32 layers (names copied; NULL or empty: none). */
void kestrel_quant_table_set_fp32_layers (KestrelQuantTable *table, const char *const *layers);
/* NULL-terminated, never NULL; owned by the table. */
const char *const *kestrel_quant_table_get_fp32_layers (const KestrelQuantTable *table);
/* INT4 plans: the one-group convolutions kept INT8 (the INT4 sensitivity
 * search's choice, kestrel-mixed-int4.h), as the FP32 layers above. */
void kestrel_quant_table_set_int8_layers (KestrelQuantTable *table, const char *const *layers);
const char *const *kestrel_quant_table_get_int8_layers (const KestrelQuantTable *table);
/* Whether the INT8 layers above were set (the INT4 search ran). */
gboolean kestrel_quant_table_get_int4_searched (const KestrelQuantTable *table);

/* The goal the search aimed at (worst output SQNR, dB), and what the chosen
 * mix and the all-INT8 plan reached. Whether the table has been through
 * the search at all: kestrel_quant_table_has_mixed(). */
typedef struct {
  double goal_db;
  double output_sqnr_db;      /* the chosen mix */
  double all_int8_sqnr_db;    /* every candidate INT8 */
  guint n_candidates;         /* convolutions that can be INT8 */
  gboolean task_agreement;    /* the caller's agreement goal held too (KestrelMixedAgreeFunc) */
} KestrelMixedSummary;

void kestrel_quant_table_set_mixed (KestrelQuantTable *table, const KestrelMixedSummary *summary);
gboolean kestrel_quant_table_has_mixed (const KestrelQuantTable *table);
/* FALSE (and `out` untouched) when the table has not been through it. */
gboolean kestrel_quant_table_get_mixed (const KestrelQuantTable *table, KestrelMixedSummary *out);

/* Sensitivity of layer `layer` (node name): the worst model output's SQNR
 * in dB with only that layer INT8. In the order set. */
void kestrel_quant_table_set_sensitivity (KestrelQuantTable *table, const char *layer, double sqnr_db);
gboolean kestrel_quant_table_lookup_sensitivity (const KestrelQuantTable *table, const char *layer,
                                                 double *sqnr_db);
guint kestrel_quant_table_get_n_sensitivities (const KestrelQuantTable *table);
const char *kestrel_quant_table_get_sensitivity (const KestrelQuantTable *table, guint i, double *sqnr_db);

/* Error of tensor `name` (model name) in the chosen mix against FP32: mean
 * squared error and SQNR in dB (signal power over error power; +inf when
 * exact), over the calibration frames. In the order set. */
void kestrel_quant_table_set_tensor_error (KestrelQuantTable *table, const char *name, double mse,
                                           double sqnr_db);
gboolean kestrel_quant_table_lookup_tensor_error (const KestrelQuantTable *table, const char *name,
                                                  double *mse, double *sqnr_db);
guint kestrel_quant_table_get_n_tensor_errors (const KestrelQuantTable *table);
const char *kestrel_quant_table_get_tensor_error (const KestrelQuantTable *table, guint i, double *mse,
                                                  double *sqnr_db);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KestrelQuantTable, kestrel_quant_table_unref)

G_END_DECLS
