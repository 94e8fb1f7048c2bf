/* kestrel-engine-canary.c — every canary_interval frames, one frame runs
 * again on the scalar reference plan and the outputs are compared; on a
 * difference the layer that went wrong first is found and the engine
 * rolls back to the last configuration that passed (or to the scalar
 * level), running on the reference meanwhile.
 */
#include "config.h"

#include "kestrel-engine-private.h"

#include <math.h>
#include <string.h>

/* A canary output may differ from the scalar reference by this much,
 * relative to the output's largest magnitude: SIMD kernels reassociate
 * sums (about 1e-6 here), a broken kernel is off by far more. */
#define CANARY_TOLERANCE 1e-3

typedef struct {
  GHashTable *values;            /* model value name -> GArray of float (reference) */
  const char *first_layer;
  double first_error;
} Localize;

static void
capture_reference (const KestrelPlan *plan, guint step, gpointer data)
{
  Localize *loc = data;
  const KestrelTensorView *out = &kestrel_plan_get_step (plan, step)->outputs[0];
  const char *name = kestrel_plan_get_step_model_value (plan, step);
  GArray *copy;

  if (name == NULL || out->dtype != KESTREL_DTYPE_FLOAT32 || out->data == NULL)
    return;
  copy = g_array_sized_new (FALSE, FALSE, sizeof (float), out->n_elements);
  if (kestrel_plan_step_is_nhwc (plan, step) && out->n_dims == 4)
    {
      /* The FP16 reference is itself an NHWC plan: kept in the model's
       * NCHW order, which compare_step() expects. */
      const float *x = out->data;
      const gsize h = out->shape[1], w = out->shape[2], c = out->shape[3];
      g_array_set_size (copy, out->n_elements);
      for (gsize i = 0; i < out->n_elements; i++)
        {
          gsize ci = i % c, wi = (i / c) % w, hi = (i / (c * w)) % h, ni = i / (c * w * h);
          g_array_index (copy, float, ((ni * c + ci) * h + hi) * w + wi) = x[i];
        }
    }
  else
    g_array_append_vals (copy, out->data, out->n_elements);
  g_hash_table_replace (loc->values, g_strdup (name), copy);
}

/* First fast-path step whose output differs from the reference's value of
 * the same model name (NHWC outputs compared through the layout). */
static void
compare_step (const KestrelPlan *plan, guint step, gpointer data)
{
  Localize *loc = data;
  const KestrelStep *s = kestrel_plan_get_step (plan, step);
  const KestrelTensorView *out = &s->outputs[0];
  const char *name = kestrel_plan_get_step_model_value (plan, step);
  GArray *want;
  double worst = 0, scale = 1e-6;
  gboolean nhwc;

  if (loc->first_layer != NULL || name == NULL || out->dtype != KESTREL_DTYPE_FLOAT32)
    return;
  want = g_hash_table_lookup (loc->values, name);
  if (want == NULL || want->len != out->n_elements)
    return;
  nhwc = kestrel_plan_step_is_nhwc (plan, step) && out->n_dims == 4;
  for (gsize i = 0; i < out->n_elements; i++)
    {
      gsize j = i;
      if (nhwc)
        {
          /* out is [N,H,W,C]; the reference is [N,C,H,W]. */
          gsize c = i % out->shape[3], w = (i / out->shape[3]) % out->shape[2];
          gsize h = (i / (out->shape[3] * out->shape[2])) % out->shape[1];
          gsize n = i / (out->shape[3] * out->shape[2] * out->shape[1]);
          j = ((n * out->shape[3] + c) * out->shape[1] + h) * out->shape[2] + w;
        }
      double ref = g_array_index (want, float, j);
      worst = MAX (worst, fabs ((double) ((const float *) out->data)[i] - ref));
      scale = MAX (scale, fabs (ref));
    }
  if (worst > CANARY_TOLERANCE * scale)
    {
      loc->first_layer = s->node->name;
      loc->first_error = worst / scale;
    }
}

/* ---- INT8: exact ---------------------------------------------------------- */

/* An INT8 plan is the same graph at every level and its integer arithmetic
 * is defined to the bit (kestrel-plan.h), so the fast path must give the
 * scalar reference's outputs exactly: any difference is a fault. The
 * layer that went wrong first is found step by step (same steps at every
 * level), on the first output of each. */
typedef struct {
  GPtrArray *outputs;            /* GBytes per reference step, or NULL */
  const char *first_layer;
  gsize first_differences;
} ExactLocalize;

static gsize
view_bytes (const KestrelTensorView *view)
{
  return view->n_elements * kestrel_dtype_get_size (view->dtype);
}

static void
capture_step_exact (const KestrelPlan *plan, guint step, gpointer data)
{
  ExactLocalize *loc = data;
  const KestrelTensorView *out = &kestrel_plan_get_step (plan, step)->outputs[0];

  g_ptr_array_add (loc->outputs, out->data != NULL ? g_bytes_new (out->data, view_bytes (out)) : NULL);
}

static gsize
count_differences (const KestrelTensorView *a, gconstpointer b)
{
  gsize size = kestrel_dtype_get_size (a->dtype), n = 0;

  for (gsize i = 0; i < a->n_elements; i++)
    n += memcmp ((const guint8 *) a->data + i * size, (const guint8 *) b + i * size, size) != 0;
  return n;
}

static void
compare_step_exact (const KestrelPlan *plan, guint step, gpointer data)
{
  ExactLocalize *loc = data;
  const KestrelStep *s = kestrel_plan_get_step (plan, step);
  const KestrelTensorView *out = &s->outputs[0];
  GBytes *want;

  if (loc->first_layer != NULL || step >= loc->outputs->len || out->data == NULL
      || (want = g_ptr_array_index (loc->outputs, step)) == NULL || g_bytes_get_size (want) != view_bytes (out))
    return;
  if (memcmp (out->data, g_bytes_get_data (want, NULL), view_bytes (out)) != 0)
    {
      loc->first_layer = s->node->name;
      loc->first_differences = count_differences (out, g_bytes_get_data (want, NULL));
    }
}

static gboolean
canary_check_exact (Active *active, KestrelPlan *plan, guint item, char **message)
{
  KestrelPlan *ref = active->reference, *single = active->plans[0];
  gsize differences = 0, n_elements = 0;
  guint bad_output = 0;

  for (guint o = 0; o < kestrel_plan_get_n_outputs (plan); o++)
    {
      const KestrelTensorView *b = kestrel_plan_get_output (ref, o);
      KestrelTensorView a;
      if (!kestrel_plan_get_output_slice (plan, o, item, &a) || a.n_elements != b->n_elements
          || a.dtype != b->dtype)
        continue;
      if (memcmp (a.data, b->data, view_bytes (&a)) != 0)
        {
          differences = count_differences (&a, b->data);
          n_elements = a.n_elements;
          bad_output = o;
          break;
        }
    }
  if (differences == 0)
    return TRUE;

  ExactLocalize loc = { g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref), NULL, 0 };
  const char *what = kestrel_plan_get_options (ref)->precision == KESTREL_PRECISION_INT4 ? "INT4" : "INT8";
  _kestrel_engine_copy_item (plan, item, single, 0);
  kestrel_plan_run_observed (ref, capture_step_exact, &loc);
  kestrel_plan_run_observed (single, compare_step_exact, &loc);
  if (loc.first_layer != NULL)
    *message = g_strdup_printf ("canary: output '%s' differs from the %s scalar reference in %" G_GSIZE_FORMAT
                                " of %" G_GSIZE_FORMAT " values; layer '%s' is the first to differ (%"
                                G_GSIZE_FORMAT " values)", kestrel_plan_get_output_name (plan, bad_output), what,
                                differences, n_elements, loc.first_layer, loc.first_differences);
  else
    *message = g_strdup_printf ("canary: output '%s' differs from the %s scalar reference in %" G_GSIZE_FORMAT
                                " of %" G_GSIZE_FORMAT " values", kestrel_plan_get_output_name (plan, bad_output), what,
                                differences, n_elements);
  g_ptr_array_unref (loc.outputs);
  return FALSE;
}

/* ---- the check ----------------------------------------------------------- */

/* Runs the scalar reference plan (batch 1) on item `item` of the plan that
 * just ran and compares that item's outputs; FALSE with a message naming
 * the output and, when it can be found, the layer that went wrong first.
 * FP32 within CANARY_TOLERANCE (SIMD sums in another order), INT8 exactly. */
gboolean
_kestrel_engine_canary_check (KestrelEngine *self, Active *active, KestrelPlan *plan, guint item, char **message)
{
  KestrelPlan *ref = active->reference, *single = active->plans[0];
  double worst = 0;
  guint worst_output = 0;

  _kestrel_engine_copy_item (plan, item, ref, 0);
  kestrel_plan_run (ref);
  if (kestrel_precision_is_integer (kestrel_plan_get_options (ref)->precision))
    return canary_check_exact (active, plan, item, message);
  for (guint o = 0; o < kestrel_plan_get_n_outputs (plan); o++)
    {
      const KestrelTensorView *b = kestrel_plan_get_output (ref, o);
      KestrelTensorView a;
      double diff = 0, scale = 1e-6;
      if (b->dtype != KESTREL_DTYPE_FLOAT32 || !kestrel_plan_get_output_slice (plan, o, item, &a)
          || a.n_elements != b->n_elements)
        continue;
      for (gsize i = 0; i < a.n_elements; i++)
        {
          diff = MAX (diff, fabs (((const float *) a.data)[i] - ((const float *) b->data)[i]));
          scale = MAX (scale, fabs (((const float *) b->data)[i]));
        }
      if (diff / scale > worst)
        {
          worst = diff / scale;
          worst_output = o;
        }
    }
  if (worst <= CANARY_TOLERANCE)
    return TRUE;

  /* Failed: find the layer, layer by layer at batch 1 (the reference's
   * batch). Slow, but this happens once. */
  Localize loc = { g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_array_unref),
                   NULL, 0 };
  _kestrel_engine_copy_item (plan, item, single, 0);
  kestrel_plan_run_observed (ref, capture_reference, &loc);
  kestrel_plan_run_observed (single, compare_step, &loc);
  if (loc.first_layer != NULL)
    *message = g_strdup_printf ("canary: output '%s' is off by %.3g (relative) from the scalar "
                                "reference; layer '%s' is the first to differ (by %.3g)",
                                kestrel_plan_get_output_name (plan, worst_output), worst,
                                loc.first_layer, loc.first_error);
  else
    *message = g_strdup_printf ("canary: output '%s' is off by %.3g (relative) from the scalar "
                                "reference", kestrel_plan_get_output_name (plan, worst_output), worst);
  g_hash_table_unref (loc.values);
  return FALSE;
}

char *
_kestrel_engine_describe_config (const KestrelEngineConfig *c)
{
  if (c->batch > 1)
    return g_strdup_printf ("model %s, level %s, %u threads, %s, batch %u", c->model,
                            kk_level_name (c->level), c->threads, kestrel_precision_name (c->precision),
                            c->batch);
  return g_strdup_printf ("model %s, level %s, %u threads, %s", c->model, kk_level_name (c->level),
                          c->threads, kestrel_precision_name (c->precision));
}

void
_kestrel_engine_rollback (KestrelEngine *self, const char *message)
{
  KestrelEngineConfig target = { 0 };
  g_autofree char *what = NULL;

  g_mutex_lock (&self->lock);
  if (self->has_last_good && _kestrel_engine_needs_new_plan (&self->last_good, &self->config))
    kestrel_engine_config_copy (&target, &self->last_good);
  else
    {
      kestrel_engine_config_copy (&target, &self->config);
      target.level = KK_LEVEL_SCALAR;
    }
  what = _kestrel_engine_describe_config (&target);

  /* The scalar reference plan is correct by definition: run on it, one
   * frame at a time, until the rolled-back plans are built. Called
   * between batches, so no frame is staged in the plans that go. */
  if (self->active->reference != NULL)
    {
      for (guint i = 0; i < self->active->n_plans; i++)
        g_clear_pointer (&self->active->plans[i], kestrel_plan_unref);
      self->active->plans[0] = g_steal_pointer (&self->active->reference);
      self->active->n_plans = 1;
      self->active->config.level = KK_LEVEL_SCALAR;
      self->config.level = KK_LEVEL_SCALAR;
      _kestrel_engine_configure_batcher (self, &self->config, TRUE);
    }
  g_clear_pointer (&self->fault_node, g_free);
  if (_kestrel_engine_needs_new_plan (&self->config, &target))
    _kestrel_engine_start_build (self, &target);
  _kestrel_engine_publish_config (self, &self->config);
  g_mutex_unlock (&self->lock);

  kestrel_metrics_rollback (self->metrics);
  _kestrel_engine_post_event (self, KESTREL_ENGINE_EVENT_ROLLBACK, "%s; rolled back to %s", message, what);
  kestrel_engine_config_clear (&target);
}
