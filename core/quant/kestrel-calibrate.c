/* kestrel-calibrate.c — range collection and the calibration run (see
 * kestrel-calibrate.h). */
#include "config.h"

#include "kestrel-calibrate.h"

#include <math.h>

#include "kestrel-error.h"

typedef struct {
  char *name;
  float min, max;
  gboolean seen;            /* at least one finite value */
  gpointer entry;           /* the method's */
} Tensor;

struct _KestrelCalibrationCollector {
  const KestrelCalibrationMethod *method;
  guint pass;
  GPtrArray *tensors;       /* Tensor *, in the order first observed */
  GHashTable *by_name;      /* name (the Tensor's) -> Tensor * */
};

const KestrelCalibrationMethod kestrel_calibration_minmax = {
  .name = "minmax",
  .n_passes = 1,
};

static void
tensor_free (gpointer data)
{
  Tensor *t = data;

  g_free (t->name);
  g_free (t);
}

KestrelCalibrationCollector *
kestrel_calibration_collector_new (const KestrelCalibrationMethod *method)
{
  KestrelCalibrationCollector *c;

  g_return_val_if_fail (method != NULL && method->n_passes >= 1, NULL);
  c = g_new0 (KestrelCalibrationCollector, 1);
  c->method = method;
  c->tensors = g_ptr_array_new_with_free_func (tensor_free);
  c->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  return c;
}

void
kestrel_calibration_collector_free (KestrelCalibrationCollector *c)
{
  if (c == NULL)
    return;
  for (guint i = 0; i < c->tensors->len; i++)
    {
      Tensor *t = g_ptr_array_index (c->tensors, i);
      if (t->entry != NULL && c->method->entry_free != NULL)
        c->method->entry_free (t->entry);
    }
  g_hash_table_unref (c->by_name);
  g_ptr_array_unref (c->tensors);
  g_free (c);
}

void
kestrel_calibration_collector_begin_pass (KestrelCalibrationCollector *c, guint pass)
{
  g_return_if_fail (pass < c->method->n_passes);
  c->pass = pass;
}

void
kestrel_calibration_collector_observe (KestrelCalibrationCollector *c, const char *name,
                                       const float *data, gsize n)
{
  Tensor *t = g_hash_table_lookup (c->by_name, name);

  if (t == NULL)
    {
      /* A tensor first seen after pass 0 has no range to bin over. */
      if (c->pass > 0)
        return;
      t = g_new0 (Tensor, 1);
      t->name = g_strdup (name);
      t->entry = c->method->entry_new != NULL ? c->method->entry_new () : NULL;
      g_ptr_array_add (c->tensors, t);
      g_hash_table_insert (c->by_name, t->name, t);
    }

  if (c->pass == 0)
    {
      float lo = t->seen ? t->min : INFINITY, hi = t->seen ? t->max : -INFINITY;

      for (gsize i = 0; i < n; i++)
        if (isfinite (data[i]))
          {
            lo = MIN (lo, data[i]);
            hi = MAX (hi, data[i]);
          }
      if (lo <= hi)
        {
          t->min = lo;
          t->max = hi;
          t->seen = TRUE;
        }
    }
  else if (t->seen && c->method->observe != NULL)
    c->method->observe (t->entry, c->pass, t->min, t->max, data, n);
}

KestrelQuantTable *
kestrel_calibration_collector_finish (KestrelCalibrationCollector *c, const char *model_hash, guint n_frames)
{
  KestrelQuantTable *table = kestrel_quant_table_new (model_hash, c->method->name, n_frames);

  for (guint i = 0; i < c->tensors->len; i++)
    {
      const Tensor *t = g_ptr_array_index (c->tensors, i);
      float lo = t->min, hi = t->max;

      if (!t->seen)
        continue;
      if (c->method->choose != NULL)
        {
          c->method->choose (t->entry, t->min, t->max, &lo, &hi);
          lo = CLAMP (lo, t->min, t->max);
          hi = CLAMP (hi, lo, t->max);
        }
      kestrel_quant_table_set_range (table, t->name, lo, hi);
    }
  return table;
}

typedef struct {
  KestrelCalibrationCollector *collector;
  const KestrelGraph *graph;
} Observation;

static void
observe_view (KestrelCalibrationCollector *c, const char *name, const KestrelTensorView *view)
{
  if (name != NULL && view->dtype == KESTREL_DTYPE_FLOAT32 && view->data != NULL && view->n_elements > 0)
    kestrel_calibration_collector_observe (c, name, view->data, view->n_elements);
}

/* After each step of the reference plan: its float outputs, under their
 * model names; before the first, the graph inputs. */
static void
observe_step (const KestrelPlan *plan, guint s, gpointer user_data)
{
  Observation *o = user_data;
  const KestrelStep *step = kestrel_plan_get_step (plan, s);

  if (s == 0)
    for (guint i = 0; i < kestrel_plan_get_n_inputs (plan); i++)
      observe_view (o->collector, kestrel_plan_get_input_name (plan, i), kestrel_plan_get_input (plan, i));
  for (guint i = 0; i < step->n_outputs; i++)
    {
      gint v = kestrel_node_output (step->node, i);
      if (v >= 0)
        observe_view (o->collector, kestrel_graph_value (o->graph, v)->name, &step->outputs[i]);
    }
}

KestrelQuantTable *
kestrel_calibrate (KestrelModel *model, const KestrelCalibrationMethod *method, guint n_frames,
                   KestrelCalibrationInputFunc fill_input, gpointer user_data, GCancellable *cancellable,
                   GError **error)
{
  KestrelPlanOptions options;
  g_autoptr(KestrelPlan) plan = NULL;
  g_autoptr(KestrelCalibrationCollector) collector = NULL;
  Observation observation;

  g_return_val_if_fail (model != NULL && method != NULL && fill_input != NULL, NULL);

  if (n_frames == 0)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "calibration needs at least one frame");
      return NULL;
    }

  /* The reference graph: every tensor of the model is a step output, under
   * its own name (see the top of kestrel-calibrate.h). */
  kestrel_plan_options_init (&options);
  options.level = KK_LEVEL_PARALLEL;
  plan = kestrel_plan_new (model, &options, error);
  if (plan == NULL)
    return NULL;

  collector = kestrel_calibration_collector_new (method);
  observation.collector = collector;
  observation.graph = kestrel_plan_get_graph (plan);
  for (guint pass = 0; pass < method->n_passes; pass++)
    {
      kestrel_calibration_collector_begin_pass (collector, pass);
      for (guint frame = 0; frame < n_frames; frame++)
        {
          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            return NULL;
          if (!fill_input (plan, frame, user_data, error))
            return NULL;
          kestrel_plan_run_observed (plan, observe_step, &observation);
        }
    }
  return kestrel_calibration_collector_finish (collector, kestrel_model_get_content_hash (model), n_frames);
}

KestrelQuantTable *
kestrel_calibrate_minmax (KestrelModel *model, guint n_frames, KestrelCalibrationInputFunc fill_input,
                          gpointer user_data, GCancellable *cancellable, GError **error)
{
  return kestrel_calibrate (model, &kestrel_calibration_minmax, n_frames, fill_input, user_data,
                            cancellable, error);
}
