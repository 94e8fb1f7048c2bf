/* kestrel-engine-plans.c — what a configuration needs to run (Active in
 * kestrel-engine-private.h): the batch ladder of plans (batch 1, 2, 4...
 * and the configured batch), the scalar reference for the canary, the
 * task decoder; built on a short-lived builder thread so that frames keep
 * flowing while a reconfiguration is planned; and the batcher that
 * follows the plans in force.
 */
#include "config.h"

#include "kestrel-engine-private.h"

#include <string.h>

#include "kestrel-builtin-models.h"
#include "kestrel-calibrate-images.h"
#include "kestrel-error.h"
#include "kestrel-generic-decoder.h"
#include "kestrel-plugin.h"
#include "kestrel-thread-pool.h"

void
_kestrel_engine_active_free (Active *active)
{
  if (active == NULL)
    return;
  g_clear_pointer (&active->decoder, kestrel_task_decoder_free);
  g_clear_pointer (&active->reference, kestrel_plan_unref);
  g_clear_pointer (&active->fp32, kestrel_plan_unref);
  g_clear_pointer (&active->fp32_detections, kestrel_detections_unref);
  for (guint i = 0; i < active->n_plans; i++)
    g_clear_pointer (&active->plans[i], kestrel_plan_unref);
  g_clear_pointer (&active->model, kestrel_model_unref);
  kestrel_engine_config_clear (&active->config);
  g_free (active);
}

static gboolean
same_model (const KestrelEngineConfig *a, const KestrelEngineConfig *b)
{
  return g_strcmp0 (a->model, b->model) == 0
         && g_strv_equal ((const char *const *) (a->input_shapes != NULL ? a->input_shapes : (char *[]) { NULL }),
                          (const char *const *) (b->input_shapes != NULL ? b->input_shapes : (char *[]) { NULL }));
}

/* Whether going from `a` to `b` needs a new plan. */
gboolean
_kestrel_engine_needs_new_plan (const KestrelEngineConfig *a, const KestrelEngineConfig *b)
{
  return !same_model (a, b) || a->level != b->level
         || a->precision != b->precision || a->batch != b->batch
         || (a->canary_interval == 0) != (b->canary_interval == 0)
         || (a->precision != KESTREL_PRECISION_FP32
             && (a->agreement_interval == 0) != (b->agreement_interval == 0));
}

/* ---- calibration progress ------------------------------------------------ */

typedef struct {
  KestrelEngine *engine;
  guint generation;
} Progress;

/* Only the newest build's calibration is shown: one overtaken by a newer
 * request is being cancelled. */
static void
on_calibration_progress (guint done, guint total, gpointer data)
{
  Progress *progress = data;
  KestrelEngine *self = progress->engine;

  if ((guint) g_atomic_int_get ((gint *) &self->build_generation) != progress->generation)
    return;
  g_atomic_int_set (&self->calibration_done, (gint) done);
  g_atomic_int_set (&self->calibration_total, (gint) total);
  kestrel_metrics_set_calibration_progress (self->metrics, total > 0 ? (double) done / total : 0.0);
}

static void
calibration_ended (KestrelEngine *self, guint generation)
{
  if ((guint) g_atomic_int_get ((gint *) &self->build_generation) != generation)
    return;
  g_atomic_int_set (&self->calibration_total, 0);
  kestrel_metrics_set_calibration_progress (self->metrics, -1);
}

/* ---- building a configuration (builder thread) ------------------------- */

Active *
_kestrel_engine_build_active (KestrelEngine *self, const KestrelEngineConfig *config, KestrelModel *reuse,
                              const char *fault_node, guint generation, GCancellable *cancellable,
                              GError **error)
{
  Active *active = g_new0 (Active, 1);
  KestrelPlanOptions options;
  const KestrelTaskDecoderVTable *vtable;
  g_autoptr(KestrelQuantTable) table = NULL;

  kestrel_engine_config_copy (&active->config, config);
  if (config->batch < 1 || config->batch > KESTREL_ENGINE_MAX_BATCH)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "batch %u is out of range: the engine runs 1 to %d frames at once",
                   config->batch, KESTREL_ENGINE_MAX_BATCH);
      goto fail;
    }
  active->model = reuse != NULL ? kestrel_model_ref (reuse) : kestrel_model_new_for_spec_at (config->model, (const char *const *) config->input_shapes, error);
  if (active->model == NULL)
    goto fail;

  /* A model no plugin decodes still runs, on the generic decoder, when
   * its input is a picture: everything is measured, nothing is found. */
  {
    g_autoptr(GError) no_plugin = NULL;

    vtable = kestrel_plugin_registry_find_task_decoder_for_model (kestrel_plugin_registry_get_default (),
                                                                active->model, &no_plugin);
    if (vtable == NULL && g_error_matches (no_plugin, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED))
      {
        g_autoptr(GError) generic_error = NULL;
        active->decoder = kestrel_task_decoder_new (&kestrel_generic_decoder_vtable, active->model, &generic_error);
        if (active->decoder == NULL)
          {
            g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED, "%s; and it cannot run undecoded: %s",
                         no_plugin->message, generic_error->message);
            goto fail;
          }
        _kestrel_engine_post_event (self, KESTREL_ENGINE_EVENT_INFO,
                                    "%s; running it undecoded: frames, latency, processor and memory are "
                                    "measured, nothing is detected", no_plugin->message);
      }
    else if (vtable == NULL)
      {
        g_propagate_error (error, g_steal_pointer (&no_plugin));
        goto fail;
      }
    else
      {
        active->decoder = kestrel_task_decoder_new (vtable, active->model, error);
        if (active->decoder == NULL)
          goto fail;
      }
  }
  kestrel_task_decoder_get_input_params (active->decoder, TRUE, &active->params);

  /* INT8 plans are built from a calibration table: this process's for
   * the model, or one measured now on the bundled photos, prepared as the
   * decoder prepares frames. The long part of a switch to INT8, so it is
   * here, off the worker, with progress and a cancellable. */
  if (config->precision == KESTREL_PRECISION_INT8 && kestrel_precision_is_supported (config->precision))
    {
      Progress progress = { self, generation };

      table = kestrel_calibrate_images (active->model, kestrel_task_decoder_get_image_input (active->decoder),
                                        &active->params, NULL, on_calibration_progress, &progress,
                                        cancellable, error);
      calibration_ended (self, generation);
      if (table == NULL)
        {
          g_prefix_error (error, "calibrating for INT8: ");
          goto fail;
        }
    }

  kestrel_plan_options_init (&options);
  options.level = config->level;
  options.precision = config->precision;
  options.quant_table = table;
  options.pool = self->pool;
  for (guint batch = 1; active->n_plans < MAX_PLANS; batch = MIN (batch * 2, config->batch))
    {
      options.batch = batch;
      active->plans[active->n_plans] = kestrel_plan_new (active->model, &options, error);
      if (active->plans[active->n_plans] == NULL)
        goto fail;
      if (fault_node != NULL)
        kestrel_plan_inject_fault_for_testing (active->plans[active->n_plans], fault_node, 0.5f);
      active->n_plans++;
      if (batch == config->batch)
        break;
    }

  if (config->canary_interval > 0 && config->level != KK_LEVEL_SCALAR)
    {
      options.level = KK_LEVEL_SCALAR;
      options.pool = NULL;
      options.batch = 1;
      active->reference = kestrel_plan_new (active->model, &options, error);
      if (active->reference == NULL)
        goto fail;
    }

  if (config->precision != KESTREL_PRECISION_FP32 && config->agreement_interval > 0)
    {
      options.level = config->level;
      options.pool = self->pool;
      options.batch = 1;
      options.precision = KESTREL_PRECISION_FP32;
      options.quant_table = NULL;
      active->fp32 = kestrel_plan_new (active->model, &options, error);
      if (active->fp32 == NULL)
        goto fail;
      active->fp32_detections = kestrel_detections_new ();
    }
  return active;

fail:
  _kestrel_engine_active_free (active);
  return NULL;
}

typedef struct {
  KestrelEngine *engine;
  KestrelEngineConfig config;
  KestrelModel *reuse;
  char *fault_node;
  guint generation;
  GCancellable *cancellable;
} BuildJob;

static gpointer
builder_main (gpointer data)
{
  BuildJob *job = data;
  KestrelEngine *self = job->engine;
  GError *error = NULL;
  Active *active = _kestrel_engine_build_active (self, &job->config, job->reuse, job->fault_node,
                                                 job->generation, job->cancellable, &error);

  g_mutex_lock (&self->lock);
  if (job->generation == self->build_generation)
    {
      _kestrel_engine_active_free (self->built);
      g_clear_error (&self->build_error);
      self->built = g_steal_pointer (&active);
      self->build_error = g_steal_pointer (&error);
    }
  self->n_building--;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  /* A result overtaken by a newer request. */
  _kestrel_engine_active_free (active);
  g_clear_error (&error);

  kestrel_engine_config_clear (&job->config);
  g_clear_pointer (&job->reuse, kestrel_model_unref);
  g_free (job->fault_node);
  g_object_unref (job->cancellable);
  g_object_unref (job->engine);
  g_free (job);
  return NULL;
}

/* Called with the lock held. */
void
_kestrel_engine_start_build (KestrelEngine *self, const KestrelEngineConfig *config)
{
  BuildJob *job = g_new0 (BuildJob, 1);

  job->engine = g_object_ref (self);
  kestrel_engine_config_copy (&job->config, config);
  if (self->active != NULL && same_model (&self->active->config, config))
    job->reuse = kestrel_model_ref (self->active->model);
  job->fault_node = g_strdup (self->fault_node);
  /* A newer request makes the older build pointless: stop it. */
  _kestrel_engine_abandon_build (self);
  job->generation = (guint) g_atomic_int_get ((gint *) &self->build_generation);
  self->build_cancellable = g_cancellable_new ();
  job->cancellable = g_object_ref (self->build_cancellable);
  kestrel_engine_config_copy (&self->build_target, config);
  self->has_build_target = TRUE;
  self->n_building++;
  g_thread_unref (g_thread_new ("kestrel-builder", builder_main, job));
}

/* Called with the lock held. Whatever the newest build would give is no
 * longer wanted: its calibration stops, its result (when it comes, or if
 * it already waits for the worker) is dropped. The plans in force stay. */
void
_kestrel_engine_abandon_build (KestrelEngine *self)
{
  g_atomic_int_inc ((gint *) &self->build_generation);
  if (self->build_cancellable != NULL)
    g_cancellable_cancel (self->build_cancellable);
  g_clear_object (&self->build_cancellable);
  g_clear_pointer (&self->built, _kestrel_engine_active_free);
  g_clear_error (&self->build_error);
  self->has_build_target = FALSE;
  g_atomic_int_set (&self->calibration_total, 0);
  kestrel_metrics_set_calibration_progress (self->metrics, -1);
}

/* Copies item `from_item` of `from`'s inputs into item `to_item` of `to`'s
 * (a chunk of the ladder, the canary's reference, the FP32 plan that the
 * agreement is checked on): inputs of the same type and size. */
void
_kestrel_engine_copy_item (KestrelPlan *from, guint from_item, KestrelPlan *to, guint to_item)
{
  for (guint i = 0; i < kestrel_plan_get_n_inputs (from); i++)
    {
      KestrelTensorView a, b;
      if (kestrel_plan_get_input_slice (from, i, from_item, &a)
          && kestrel_plan_get_input_slice (to, i, to_item, &b) && a.data != b.data
          && a.dtype == b.dtype && a.n_elements == b.n_elements)
        memcpy (b.data, a.data, a.n_elements * kestrel_dtype_get_size (a.dtype));
    }
}

/* The batcher follows the configuration and the plans in force: batches
 * up to the largest plan's size. Worker thread. */
void
_kestrel_engine_configure_batcher (KestrelEngine *self, const KestrelEngineConfig *c, gboolean plans_changed)
{
  guint max_batch = self->active != NULL ? _kestrel_engine_active_max_batch (self->active) : 1;

  kestrel_batcher_set_max_batch (self->batcher, MIN (max_batch, MAX (c->batch, 1)));
  kestrel_batcher_set_max_wait (self->batcher, (gint64) c->batch_wait_ms * 1000);
  if (c->batch_latency_ms > 0)
    {
      kestrel_batcher_set_mode (self->batcher, KESTREL_BATCHER_MODE_ADAPTIVE);
      kestrel_batcher_set_target_latency (self->batcher, (gint64) c->batch_latency_ms * 1000);
    }
  else
    kestrel_batcher_set_mode (self->batcher, KESTREL_BATCHER_MODE_FIXED);
  /* Run times measured on other plans say nothing about these. */
  if (plans_changed)
    kestrel_batcher_reset_model (self->batcher);
  g_atomic_int_set (&self->batch_size, (gint) kestrel_batcher_get_batch_size (self->batcher));
}
