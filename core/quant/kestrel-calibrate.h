/* kestrel-calibrate.h — measuring the ranges an INT8 plan is built from.
 *
 * Calibration runs the model in FP32 over some frames and records, for
 * every float tensor of the model (graph inputs included), what it saw;
 * a method then turns that into the range each tensor is quantised over,
 * and the ranges become a KestrelQuantTable keyed by the model's tensor
 * names.
 *
 * The FP32 plan observed is the reference graph (level parallel): there
 * every tensor of the model is the output of one step, under its own name,
 * including the ones the fast levels keep inside a fused operator. The
 * INT8 pass (kestrel-passes-quant.c) looks its tensors up by those names
 * (kestrel_graph_get_model_value_name()), so the table does not depend on
 * how the passes rewrite the graph.
 *
 * The collector is the part a method plugs into. A method sees each
 * tensor's data once per pass over the frames; pass 0 always tracks the
 * minimum and maximum, so a histogram method (percentile, mse) asks for a
 * second pass and bins the data over the range pass 0 found.
 */
#pragma once

#include <gio/gio.h>

#include "kestrel-model.h"
#include "kestrel-plan.h"
#include "kestrel-quant-table.h"

G_BEGIN_DECLS

/* How ranges are chosen. Per tensor the collector keeps min and max (of
 * the finite values, over every frame of pass 0) and one `entry` of the
 * method's own. */
typedef struct {
  const char *name;       /* "minmax", as written in the table */
  guint n_passes;         /* >= 1: times the frames are run */
  gpointer (*entry_new) (void);                 /* NULL: no entry */
  void (*entry_free) (gpointer entry);
  /* Called for passes >= 1 with the range pass 0 saw (min <= max, finite). */
  void (*observe) (gpointer entry, guint pass, float min, float max, const float *data, gsize n);
  /* The range to quantise over, within [min, max]; NULL keeps [min, max]. */
  void (*choose) (gpointer entry, float min, float max, float *lo, float *hi);
} KestrelCalibrationMethod;

/* The whole range each tensor took: nothing clipped. */
extern const KestrelCalibrationMethod kestrel_calibration_minmax;

typedef struct _KestrelCalibrationCollector KestrelCalibrationCollector;

KestrelCalibrationCollector *kestrel_calibration_collector_new (const KestrelCalibrationMethod *method);
void kestrel_calibration_collector_free (KestrelCalibrationCollector *collector);
/* Pass `pass` begins (0 first, then up to method->n_passes - 1). */
void kestrel_calibration_collector_begin_pass (KestrelCalibrationCollector *collector, guint pass);
/* n floats of tensor `name` from one frame. Values that are not finite
 * are not counted in min and max. */
void kestrel_calibration_collector_observe (KestrelCalibrationCollector *collector, const char *name,
                                            const float *data, gsize n);
/* The table of every tensor observed with at least one finite value, in
 * the order first observed. */
KestrelQuantTable *kestrel_calibration_collector_finish (KestrelCalibrationCollector *collector,
                                                         const char *model_hash, guint n_frames);

/* Fills the plan's inputs with calibration frame `frame` (0 .. n_frames - 1);
 * FALSE with `error` set stops the calibration with that error. The
 * caller's progress: it is called once per frame and pass, in order. */
typedef gboolean (*KestrelCalibrationInputFunc) (KestrelPlan *plan, guint frame, gpointer user_data,
                                                 GError **error);

/* `done` of `total` units of work (frame runs, plans tried); called on the
 * calibrating thread, as work starts and once at the end (done == total). */
typedef void (*KestrelCalibrationProgressFunc) (guint done, guint total, gpointer user_data);

/* Runs the calibration: every pass of `method` over frames 0 .. n_frames - 1.
 * Checks `cancellable` between frames (G_IO_ERROR_CANCELLED). n_frames 0
 * is an error (KESTREL_ERROR_INVALID_ARGUMENT). */
KestrelQuantTable *kestrel_calibrate (KestrelModel *model, const KestrelCalibrationMethod *method,
                                      guint n_frames, KestrelCalibrationInputFunc fill_input,
                                      gpointer user_data, GCancellable *cancellable, GError **error);
KestrelQuantTable *kestrel_calibrate_minmax (KestrelModel *model, guint n_frames,
                                             KestrelCalibrationInputFunc fill_input, gpointer user_data,
                                             GCancellable *cancellable, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KestrelCalibrationCollector, kestrel_calibration_collector_free)

G_END_DECLS
