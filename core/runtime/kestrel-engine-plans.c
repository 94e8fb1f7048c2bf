/* kestrel-engine-plans.c — what a configuration needs to run (Active in
 * kestrel-engine-private.h): the batch ladder of plans (batch 1, 2, 4...
 * and the configured batch), the scalar reference for the canary, the
 * task decoder; built on a short-lived builder thread so that frames keep
 * flowing while a reconfiguration is planned; plans that follow the
 * frames' size, for a model whose picture input leaves it free
 * (kestrel-frame-size.h); and the batcher that follows the plans in force.
 */
#include "config.h"

#include "kestrel-engine-private.h"

#include <string.h>
/* After a libc header, which defines __GLIBC__. */
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "kestrel-builtin-models.h"
#include "kestrel-calibrate-images.h"
#include "kestrel-error.h"
#include "kestrel-generic-decoder.h"
#include "kestrel-onnx.h"
#include "kestrel-plugin.h"
#include "kestrel-thread-pool.h"

/* Gives the memory of the plans just freed back to the system. Their
 * large buffers are mappings of their own, unmapped when freed (glibc's
 * mmap threshold is fixed at start-up: core/base/kestrel-malloc.c); their
 * small blocks come from the builder thread's malloc arena, whose heap
 * only shrinks from its top. The soak found it (scripts/soak.sh, a
 * reconfiguration every 3 s): after 13 minutes 341 MB resident for 26 MB
 * in use (malloc_stats), growing about 8 MB a minute. malloc_trim(0)
 * returns the free pages of every arena. Once per configuration freed,
 * never on the frame path. */
static void
give_back_memory (void)
{
#ifdef __GLIBC__
  malloc_trim (0);
#endif
}

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
  kestrel_frame_sized_input_clear (&active->sized_input);
  kestrel_engine_config_clear (&active->config);
  g_free (active);
  give_back_memory ();
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
  gboolean int4;        /* calibrating for INT4 (the subtitle says which) */
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
  kestrel_metrics_set_calibrating_int4 (self->metrics, progress->int4);
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

/* Before the first frame, a model that takes the frames' size is planned
 * for a 640x480 frame, a common camera's: from such a camera the first
 * frame then needs no other plan. */
#define FIRST_FRAME_WIDTH 640
#define FIRST_FRAME_HEIGHT 480

/* The configuration's model; one whose picture input takes the frames'
 * size is planned at theirs (kestrel-frame-size.h). */
static KestrelModel *
load_model (KestrelEngine *self, Active *active, const KestrelEngineConfig *config, guint frame_width,
            guint frame_height, GError **error)
{
  const char *const *given = (const char *const *) config->input_shapes;
  g_autofree char *origin = NULL;
  g_autoptr(GBytes) bytes = kestrel_model_spec_dup_bytes (config->model, &origin, error);
  KestrelGraph *graph;
  KestrelModel *model;
  guint width, height;

  if (bytes == NULL)
    return NULL;
  graph = kestrel_onnx_load_graph (bytes, origin, error);
  if (graph == NULL)
    return NULL;
  if (!kestrel_frame_sized_input_find (graph, given, &active->sized_input))
    return kestrel_model_new_from_graph_at (graph, origin, given, error);

  active->frame_sized = TRUE;
  active->frame_width = frame_width > 0 ? frame_width : FIRST_FRAME_WIDTH;
  active->frame_height = frame_height > 0 ? frame_height : FIRST_FRAME_HEIGHT;
  model = kestrel_frame_size_load_model (graph, origin, given, &active->sized_input, active->frame_width,
                                         active->frame_height, &active->multiple, &width, &height, error);
  kestrel_graph_free (graph);
  if (model != NULL)
    _kestrel_engine_post_event (self, KESTREL_ENGINE_EVENT_INFO,
                                "input '%s' planned at %ux%u for frames of %ux%u%s (longer side at most %u, "
                                "sides rounded up to a multiple of %u)", active->sized_input.name, width,
                                height, active->frame_width, active->frame_height,
                                frame_width > 0 ? "" : ", before the first frame", KESTREL_FRAME_SIZE_MAX_SIDE,
                                active->multiple);
  return model;
}

Active *
_kestrel_engine_build_active (KestrelEngine *self, const KestrelEngineConfig *config, KestrelModel *reuse,
                              gboolean new_model, guint frame_width, guint frame_height, const char *fault_node, guint generation,
                              GCancellable *cancellable, GError **error)
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
  active->model = reuse != NULL ? kestrel_model_ref (reuse)
                                : load_model (self, active, config, frame_width, frame_height, error);
  if (active->model == NULL)
    goto fail;
  {
    KestrelFrameSizedInput probe;
    active->free_size = kestrel_frame_sized_input_find (kestrel_model_get_source_graph (active->model), NULL, &probe);
    kestrel_frame_sized_input_clear (&probe);
  }

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
        /* Said once per model, not at each plan for another frame size. */
        if (new_model)
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

  /* INT8 and INT4 plans are built from a calibration table: this process's for
   * the model, the user cache's, or one measured now on the bundled photos
   * (prepared as the decoder prepares frames) with the layers the
   * sensitivity search keeps FP32. The long part of a switch to INT8, so
   * it is here, off the worker, with progress and a cancellable. */
  if (kestrel_precision_is_integer (config->precision) && kestrel_precision_is_supported (config->precision))
    {
      Progress progress = { self, generation, config->precision == KESTREL_PRECISION_INT4 };

      table = kestrel_calibrate_images_for (active->model, kestrel_task_decoder_get_image_input (active->decoder),
                                            &active->params, NULL, config->precision, on_calibration_progress,
                                            &progress, cancellable, error);
      calibration_ended (self, generation);
      if (table == NULL)
        {
          g_prefix_error (error, "calibrating for %s: ", config->precision == KESTREL_PRECISION_INT4 ? "INT4" : "INT8");
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
  gboolean new_model;
  guint frame_width, frame_height;
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
  Active *active = _kestrel_engine_build_active (self, &job->config, job->reuse, job->new_model,
                                                 job->frame_width, job->frame_height, job->fault_node, job->generation,
                                                 job->cancellable, &error);

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
  /* A model planned at the frames' size is loaded again: the frames may
   * have another size by now. */
  if (self->active != NULL && same_model (&self->active->config, config) && !self->active->frame_sized)
    job->reuse = kestrel_model_ref (self->active->model);
  job->new_model = self->active == NULL || !same_model (&self->active->config, config);
  job->frame_width = self->frame_width;
  job->frame_height = self->frame_height;
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

/* ---- plans that follow the frames' size --------------------------------- */

/* Frames of another size must come this many in a row before plans are
 * built at their size: a camera that changed its resolution gets new
 * plans after three frames, while a folder of photos of mixed sizes (two
 * sizes taking turns, every photo its own size) runs on the plans it has,
 * each frame resized into them, instead of rebuilding at every frame. */
#define FRAME_SIZE_SETTLE 3

void
_kestrel_engine_follow_frame_size (KestrelEngine *self, const Active *active, guint width, guint height)
{
  guint want_w, want_h, have_w, have_h;
  KestrelEngineConfig target = { 0 };

  g_mutex_lock (&self->lock);
  if (!active->frame_sized)
    {
      /* What a model planned at the frames' size would be planned for. */
      self->frame_width = width;
      self->frame_height = height;
      g_mutex_unlock (&self->lock);
      return;
    }
  /* Another model is being built: that build decides. */
  if (self->has_build_target && !same_model (&self->build_target, &active->config))
    {
      g_mutex_unlock (&self->lock);
      return;
    }

  kestrel_frame_size_fit (&active->sized_input, width, height, active->multiple, &want_w, &want_h);
  kestrel_frame_size_fit (&active->sized_input, self->frame_width > 0 ? self->frame_width : active->frame_width,
                          self->frame_height > 0 ? self->frame_height : active->frame_height,
                          active->multiple, &have_w, &have_h);
  if (want_w == have_w && want_h == have_h)
    {
      if (self->frame_width == 0)
        {
          self->frame_width = width;
          self->frame_height = height;
        }
      self->n_other = 0;
      g_mutex_unlock (&self->lock);
      return;
    }
  /* The first frame replaces the plans made before it at once; later
   * changes must last. */
  if (self->frame_width > 0)
    {
      if (width == self->other_width && height == self->other_height)
        self->n_other++;
      else
        {
          self->other_width = width;
          self->other_height = height;
          self->n_other = 1;
        }
      if (self->n_other < FRAME_SIZE_SETTLE)
        {
          g_mutex_unlock (&self->lock);
          return;
        }
    }

  _kestrel_engine_post_event (self, KESTREL_ENGINE_EVENT_INFO,
                              "frames are %ux%u, the plans are for %ux%u: planning at the frames' size; until "
                              "then frames are resized into the plans in force",
                              width, height, have_w, have_h);
  self->frame_width = width;
  self->frame_height = height;
  self->n_other = 0;
  self->n_frame_size_builds++;
  kestrel_engine_config_copy (&target, self->has_build_target ? &self->build_target : &self->config);
  _kestrel_engine_start_build (self, &target);
  kestrel_engine_config_clear (&target);
  g_mutex_unlock (&self->lock);
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
