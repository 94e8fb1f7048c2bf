/* kestrel-engine.c — see kestrel-engine.h for the threads and their jobs.
 *
 * The GObject, its configuration, events, the public API and the command
 * queue (kestrel_engine_reconfigure() -> _kestrel_engine_apply_pending(),
 * applied by the worker between frames). The rest of the engine, along
 * its seams (kestrel-engine-private.h): the batch ladder and the builder
 * thread (kestrel-engine-plans.c), the frame loop
 * (kestrel-engine-worker.c), the canary and rollback
 * (kestrel-engine-canary.c), the monitor thread, snapshots and the
 * Prometheus endpoint (kestrel-engine-metrics.c).
 */
#include "config.h"

#include "kestrel-engine-private.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "kestrel-builtin-models.h"
#include "kestrel-error.h"
#include "kestrel-pool.h"
#include "kestrel-tsan.h"

G_DEFINE_FINAL_TYPE (KestrelEngine, kestrel_engine, G_TYPE_OBJECT)

enum { EVENT, N_SIGNALS };
static guint signals[N_SIGNALS];

/* ---- configuration ------------------------------------------------------- */

void
kestrel_engine_config_init (KestrelEngineConfig *config)
{
  memset (config, 0, sizeof *config);
  config->source = g_strdup ("synthetic:");
  config->model = g_strdup ("front");
  config->level = KK_LEVEL_FULL;
  config->precision = KESTREL_PRECISION_FP32;
  config->throttle = KESTREL_THROTTLE_MODE_OFF;
  config->budget = 25;
  config->batch = 1;
  config->canary_interval = 0;
  config->score_threshold = -1;
  config->batch_wait_ms = 20;
  config->batch_latency_ms = 0;
  config->agreement_interval = 30;
}

void
kestrel_engine_config_copy (KestrelEngineConfig *dest, const KestrelEngineConfig *src)
{
  char *source = g_strdup (src->source), *model = g_strdup (src->model);
  char **input_shapes = g_strdupv (src->input_shapes);

  kestrel_engine_config_clear (dest);
  *dest = *src;
  dest->source = source;
  dest->model = model;
  dest->input_shapes = input_shapes;
}

void
kestrel_engine_config_clear (KestrelEngineConfig *config)
{
  g_clear_pointer (&config->source, g_free);
  g_clear_pointer (&config->model, g_free);
  g_clear_pointer (&config->input_shapes, g_strfreev);
}

const char *
kestrel_engine_event_kind_name (KestrelEngineEventKind kind)
{
  static const char *const names[] = { "info", "source-error", "config-error", "rollback", "safe-mode" };
  return (guint) kind < G_N_ELEMENTS (names) ? names[kind] : "unknown";
}

/* ---- events -------------------------------------------------------------- */

typedef struct {
  KestrelEngine *engine;
  KestrelEngineEventKind kind;
  char *message;
} Event;

static gboolean
emit_event (gpointer data)
{
  Event *event = data;

  KESTREL_TSAN_ACQUIRE (event);
  g_signal_emit (event->engine, signals[EVENT], 0, event->kind, event->message);
  return G_SOURCE_REMOVE;
}

static void
event_free (gpointer data)
{
  Event *event = data;

  KESTREL_TSAN_ACQUIRE (event);
  g_object_unref (event->engine);
  g_free (event->message);
  g_free (event);
}

void
_kestrel_engine_post_event (KestrelEngine *self, KestrelEngineEventKind kind, const char *format, ...)
{
  Event *event = g_new0 (Event, 1);
  va_list args;

  event->engine = g_object_ref (self);
  event->kind = kind;
  va_start (args, format);
  event->message = g_strdup_vprintf (format, args);
  va_end (args);
  g_debug ("engine event %s: %s", kestrel_engine_event_kind_name (kind), event->message);
  /* Always through a source, never g_main_context_invoke(): when the
   * owner's context is the global default and no thread is iterating it
   * at that moment, invoke acquires it and runs the handler right here, on
   * the worker thread, and a UI handler then touched GSettings bindings
   * from two threads at once. */
  GSource *source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, emit_event, event, event_free);
  g_source_set_static_name (source, "[kestrel] engine event");
  KESTREL_TSAN_RELEASE (event);
  g_source_attach (source, self->owner_context);
  g_source_unref (source);
}

/* ---- the command queue (worker thread) --------------------------------- */

static gboolean
open_source (KestrelEngine *self, const char *spec, GError **error)
{
  KestrelFrameSource *source = kestrel_frame_source_open (kestrel_plugin_registry_get_default (),
                                                          spec, error);
  if (source == NULL)
    return FALSE;
  g_clear_pointer (&self->source, kestrel_frame_source_close);
  self->source = source;
  g_free (self->source_spec);
  self->source_spec = g_strdup (spec);
  self->source_ended = FALSE;
  return TRUE;
}

/* Applies what changed, between frames. Called with the lock held; may
 * drop it around slow work. A new plan is swapped in only between batches
 * (the worker runs a partial batch first: frames staged in the old plan
 * stay there). */
void
_kestrel_engine_apply_pending (KestrelEngine *self)
{
  KestrelEngineConfig next = { 0 };

  if (self->has_pending)
    {
      kestrel_engine_config_copy (&next, &self->pending);
      self->has_pending = FALSE;
      self->n_reconfigurations++;

      kestrel_thread_pool_set_n_threads (self->pool, next.threads);
      kestrel_throttle_set_mode (self->throttle, next.throttle);
      kestrel_throttle_set_budget (self->throttle, next.budget);

      if (g_strcmp0 (next.source, self->source_spec) != 0)
        {
          g_autoptr(GError) error = NULL;
          g_mutex_unlock (&self->lock);
          gboolean ok = open_source (self, next.source, &error);
          g_mutex_lock (&self->lock);
          if (!ok)
            {
              _kestrel_engine_post_event (self, KESTREL_ENGINE_EVENT_CONFIG_ERROR, "%s; keeping source %s",
                                          error->message, self->source_spec);
              g_free (next.source);
              next.source = g_strdup (self->source_spec);
            }
        }

      /* Compared with the newest request's plans, not only with those in
       * force: going back to the plans in force while others are being
       * built must drop that build, or its result would replace them. */
      if (self->has_build_target && !_kestrel_engine_needs_new_plan (&self->build_target, &next))
        kestrel_engine_config_copy (&self->build_target, &next);
      else if (_kestrel_engine_needs_new_plan (&self->config, &next))
        _kestrel_engine_start_build (self, &next);
      else
        {
          if (self->has_build_target)
            _kestrel_engine_abandon_build (self);
          /* Threads, budget, canary interval, thresholds: no new plan. */
          char *model = self->config.model;
          self->config.model = NULL;
          kestrel_engine_config_copy (&self->config, &next);
          g_free (model);
          if (self->active != NULL)
            kestrel_engine_config_copy (&self->active->config, &next);
          _kestrel_engine_configure_batcher (self, &self->config, FALSE);
          _kestrel_engine_publish_config (self, &self->config);
        }
      kestrel_engine_config_clear (&next);
    }

  if ((self->built != NULL && self->n_collected == 0) || self->build_error != NULL)
    {
      /* The newest build is over: installed now, or failed (the plans in
       * force stay). */
      self->has_build_target = FALSE;
      if (self->built != NULL)
        {
          Active *old = self->active;
          self->active = self->built;
          self->built = NULL;
          /* With what was asked since the build started (threads, budget,
           * thresholds: changes that needed no other plan). */
          kestrel_engine_config_copy (&self->active->config, &self->build_target);
          /* At FP32 again: no agreement to show any more. */
          if (self->active->fp32 == NULL)
            kestrel_metrics_record_agreement (self->metrics, NULL);
          kestrel_engine_config_copy (&self->config, &self->active->config);
          _kestrel_engine_configure_batcher (self, &self->config, TRUE);
          _kestrel_engine_publish_config (self, &self->config);
          if (self->config.canary_interval == 0)
            {
              kestrel_engine_config_copy (&self->last_good, &self->config);
              self->has_last_good = TRUE;
            }
          g_mutex_unlock (&self->lock);
          _kestrel_engine_active_free (old);
          g_mutex_lock (&self->lock);
        }
      else if (g_error_matches (self->build_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autofree char *what = _kestrel_engine_describe_config (&self->config);
          _kestrel_engine_post_event (self, KESTREL_ENGINE_EVENT_INFO, "%s; still running %s",
                                      self->build_error->message, what);
          g_clear_error (&self->build_error);
        }
      else
        {
          _kestrel_engine_post_event (self, KESTREL_ENGINE_EVENT_CONFIG_ERROR, "%s", self->build_error->message);
          g_clear_error (&self->build_error);
        }
    }
}

/* ---- public API ---------------------------------------------------------- */

KestrelEngine *
kestrel_engine_new (const KestrelEngineConfig *config)
{
  KestrelEngine *self = g_object_new (KESTREL_TYPE_ENGINE, NULL);

  if (config != NULL)
    kestrel_engine_config_copy (&self->config, config);
  return self;
}

static gboolean
write_state_file (const char *path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *text = g_strdup_printf ("pid %d\n", (int) getpid ());

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "cannot create the folder of the state file %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  if (!g_file_set_contents (path, text, -1, error))
    {
      g_prefix_error (error, "cannot write the state file: ");
      return FALSE;
    }
  return TRUE;
}

gboolean
kestrel_engine_start (KestrelEngine *self, const char *state_file, GError **error)
{
  Active *active;

  g_return_val_if_fail (KESTREL_IS_ENGINE (self), FALSE);
  g_return_val_if_fail (self->state == KESTREL_ENGINE_STOPPED && self->worker == NULL, FALSE);

  if (state_file != NULL)
    {
      self->state_file = g_strdup (state_file);
      if (g_file_test (state_file, G_FILE_TEST_EXISTS))
        {
          self->config.level = KK_LEVEL_SCALAR;
          _kestrel_engine_post_event (self, KESTREL_ENGINE_EVENT_SAFE_MODE,
                                      "the last run did not end cleanly (%s is still there): starting in safe "
                                      "mode on the scalar reference path", state_file);
        }
    }

  kestrel_thread_pool_set_n_threads (self->pool, self->config.threads);
  kestrel_throttle_set_mode (self->throttle, self->config.throttle);
  kestrel_throttle_set_budget (self->throttle, self->config.budget);

  g_clear_object (&self->build_cancellable);
  self->build_cancellable = g_cancellable_new ();
  /* No frame yet: a model that takes the frames' size is planned for a
   * usual one, and again at the first frame's if it differs. */
  self->frame_width = self->frame_height = 0;
  self->n_other = 0;
  active = _kestrel_engine_build_active (self, &self->config, NULL, TRUE, 0, 0, self->fault_node,
                                         (guint) g_atomic_int_get ((gint *) &self->build_generation),
                                         self->build_cancellable, error);
  if (active == NULL)
    return FALSE;
  if (!open_source (self, self->config.source, error))
    {
      _kestrel_engine_active_free (active);
      return FALSE;
    }
  /* Written once the pipeline can start, so a failed start leaves no
   * marker behind; a marker that cannot be written fails the start: safe
   * mode after a crash depends on it. */
  if (self->state_file != NULL && !write_state_file (self->state_file, error))
    {
      _kestrel_engine_active_free (active);
      g_clear_pointer (&self->source, kestrel_frame_source_close);
      return FALSE;
    }
  self->active = active;
  _kestrel_engine_configure_batcher (self, &self->config, TRUE);
  if (self->config.canary_interval == 0)
    {
      kestrel_engine_config_copy (&self->last_good, &self->config);
      self->has_last_good = TRUE;
    }
  _kestrel_engine_publish_config (self, &self->config);

  self->quit = FALSE;
  self->state = KESTREL_ENGINE_RUNNING;
  self->monitor_context = g_main_context_new ();
  /* The system monitors are got here, on the caller's thread, not on the
   * monitor thread: the first call loads GIO's modules under GIO's module
   * lock and then needs GType's class lock, and a GTK main thread in a
   * class_init holds the class lock while it waits for GIO (adw_init), so
   * getting them concurrently deadlocked. With the monitor context as the
   * thread-default one, they still signal on the monitor thread. */
  g_main_context_push_thread_default (self->monitor_context);
  self->power_monitor = g_power_profile_monitor_dup_default ();
  self->memory_monitor = g_memory_monitor_dup_default ();
  g_main_context_pop_thread_default (self->monitor_context);
  g_atomic_int_set (&self->monitor_quit, FALSE);
  self->monitor = g_thread_new ("kestrel-monitor", _kestrel_engine_monitor_main, self);
  self->worker = g_thread_new ("kestrel-worker", _kestrel_engine_worker_main, self);
  return TRUE;
}

void
kestrel_engine_pause (KestrelEngine *self)
{
  g_mutex_lock (&self->lock);
  if (self->state == KESTREL_ENGINE_RUNNING)
    self->state = KESTREL_ENGINE_PAUSED;
  g_mutex_unlock (&self->lock);
  if (self->sampler != NULL)
    kestrel_metrics_publish (self->metrics, g_get_monotonic_time ());
}

void
kestrel_engine_resume (KestrelEngine *self)
{
  g_mutex_lock (&self->lock);
  if (self->state == KESTREL_ENGINE_PAUSED)
    self->state = KESTREL_ENGINE_RUNNING;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

void
kestrel_engine_stop (KestrelEngine *self)
{
  g_return_if_fail (KESTREL_IS_ENGINE (self));

  if (self->worker == NULL)
    return;
  g_mutex_lock (&self->lock);
  self->quit = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  g_cancellable_cancel (self->cancellable);
  g_thread_join (self->worker);
  self->worker = NULL;

  /* A plan being built finishes on its own (a calibration stops at the
   * next frame); wait so nothing outlives us. */
  g_mutex_lock (&self->lock);
  if (self->build_cancellable != NULL)
    g_cancellable_cancel (self->build_cancellable);
  while (self->n_building > 0)
    g_cond_wait (&self->cond, &self->lock);
  g_clear_pointer (&self->built, _kestrel_engine_active_free);
  g_clear_error (&self->build_error);
  g_mutex_unlock (&self->lock);

  kestrel_metrics_publish (self->metrics, g_get_monotonic_time ());
  g_atomic_int_set (&self->monitor_quit, TRUE);
  g_main_context_wakeup (self->monitor_context);
  g_thread_join (self->monitor);
  self->monitor = NULL;
  g_clear_pointer (&self->monitor_context, g_main_context_unref);

  g_clear_pointer (&self->source, kestrel_frame_source_close);
  g_clear_pointer (&self->active, _kestrel_engine_active_free);
  self->state = KESTREL_ENGINE_STOPPED;
  if (self->state_file != NULL)
    g_unlink (self->state_file);
}

KestrelEngineState
kestrel_engine_get_state (KestrelEngine *self)
{
  KestrelEngineState state;

  g_mutex_lock (&self->lock);
  state = self->state;
  g_mutex_unlock (&self->lock);
  return state;
}

void
kestrel_engine_reconfigure (KestrelEngine *self, const KestrelEngineConfig *config)
{
  g_mutex_lock (&self->lock);
  kestrel_engine_config_copy (&self->pending, config);
  self->has_pending = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

void
kestrel_engine_get_config (KestrelEngine *self, KestrelEngineConfig *out)
{
  memset (out, 0, sizeof *out);
  g_mutex_lock (&self->lock);
  kestrel_engine_config_copy (out, &self->config);
  g_mutex_unlock (&self->lock);
}

guint
kestrel_engine_get_batch_size (KestrelEngine *self)
{
  g_return_val_if_fail (KESTREL_IS_ENGINE (self), 1);
  return (guint) MAX (g_atomic_int_get (&self->batch_size), 1);
}

float
kestrel_engine_get_score_threshold (KestrelEngine *self)
{
  float threshold;

  g_return_val_if_fail (KESTREL_IS_ENGINE (self), -1.0f);

  g_mutex_lock (&self->lock);
  threshold = self->config.score_threshold;
  if (threshold < 0 && self->config.model != NULL)
    threshold = kestrel_builtin_model_get_score_threshold (self->config.model);
  if (threshold < 0 && self->active != NULL)
    threshold = kestrel_task_decoder_get_vtable (self->active->decoder)->default_score_threshold;
  g_mutex_unlock (&self->lock);
  return threshold;
}

KestrelEngineInputSize
kestrel_engine_get_input_size (KestrelEngine *self, guint *width, guint *height)
{
  KestrelEngineInputSize from = KESTREL_ENGINE_INPUT_FIXED;
  guint w = 0, h = 0;

  g_return_val_if_fail (KESTREL_IS_ENGINE (self), KESTREL_ENGINE_INPUT_FIXED);
  g_mutex_lock (&self->lock);
  if (self->active != NULL)
    {
      w = self->active->params.width;
      h = self->active->params.height;
      if (self->active->frame_sized)
        from = KESTREL_ENGINE_INPUT_FRAME;
      else if (self->active->free_size)
        from = KESTREL_ENGINE_INPUT_GIVEN;
    }
  g_mutex_unlock (&self->lock);
  if (width != NULL)
    *width = w;
  if (height != NULL)
    *height = h;
  return from;
}

guint
kestrel_engine_get_n_frame_size_builds (KestrelEngine *self)
{
  guint n;

  g_return_val_if_fail (KESTREL_IS_ENGINE (self), 0);
  g_mutex_lock (&self->lock);
  n = self->n_frame_size_builds;
  g_mutex_unlock (&self->lock);
  return n;
}

gboolean
kestrel_engine_get_calibration_progress (KestrelEngine *self, double *fraction)
{
  gint total, done;

  g_return_val_if_fail (KESTREL_IS_ENGINE (self), FALSE);
  total = g_atomic_int_get (&self->calibration_total);
  done = g_atomic_int_get (&self->calibration_done);
  if (fraction != NULL)
    *fraction = total > 0 ? CLAMP ((double) done / total, 0.0, 1.0) : 0.0;
  return total > 0;
}

void
kestrel_engine_cancel_build (KestrelEngine *self)
{
  g_return_if_fail (KESTREL_IS_ENGINE (self));

  g_mutex_lock (&self->lock);
  if (self->n_building > 0 && self->build_cancellable != NULL)
    g_cancellable_cancel (self->build_cancellable);
  g_mutex_unlock (&self->lock);
}

guint
kestrel_engine_get_n_reconfigurations (KestrelEngine *self)
{
  guint n;

  g_mutex_lock (&self->lock);
  n = self->n_reconfigurations;
  g_mutex_unlock (&self->lock);
  return n;
}

KestrelMetricsSnapshot *
kestrel_engine_get_snapshot (KestrelEngine *self)
{
  return kestrel_metrics_get_snapshot (self->metrics);
}

KestrelDetections *
kestrel_engine_get_last_detections (KestrelEngine *self)
{
  KestrelDetections *d;

  g_mutex_lock (&self->lock);
  d = self->last_detections != NULL ? kestrel_detections_ref (self->last_detections) : NULL;
  g_mutex_unlock (&self->lock);
  return d;
}

void
kestrel_engine_set_preview_interval (KestrelEngine *self, guint interval_ms)
{
  g_return_if_fail (KESTREL_IS_ENGINE (self));
  g_atomic_int_set (&self->preview_interval_ms, (gint) MIN (interval_ms, G_MAXINT / 1000));
}

KestrelPreviewFrame *
kestrel_engine_get_preview (KestrelEngine *self)
{
  KestrelPreviewFrame *preview;

  g_return_val_if_fail (KESTREL_IS_ENGINE (self), NULL);
  g_mutex_lock (&self->lock);
  preview = self->preview != NULL ? kestrel_preview_frame_ref (self->preview) : NULL;
  g_mutex_unlock (&self->lock);
  return preview;
}

guint
kestrel_engine_get_pool_outstanding (KestrelEngine *self)
{
  KestrelPoolStats stats;

  kestrel_pool_get_stats (self->buffers, &stats);
  return stats.buffers_in_use;
}

void
kestrel_engine_inject_fault_for_testing (KestrelEngine *self, const char *node_name)
{
  g_mutex_lock (&self->lock);
  g_free (self->fault_node);
  self->fault_node = g_strdup (node_name);
  g_mutex_unlock (&self->lock);
}

static void
kestrel_engine_finalize (GObject *object)
{
  KestrelEngine *self = KESTREL_ENGINE (object);

  kestrel_engine_stop (self);
  kestrel_engine_config_clear (&self->config);
  kestrel_engine_config_clear (&self->pending);
  kestrel_engine_config_clear (&self->last_good);
  kestrel_engine_config_clear (&self->build_target);
  g_clear_pointer (&self->throttle, kestrel_throttle_free);
  g_clear_pointer (&self->batcher, kestrel_batcher_free);
  g_clear_pointer (&self->last_detections, kestrel_detections_unref);
  g_clear_pointer (&self->preview, kestrel_preview_frame_unref);
  g_clear_pointer (&self->pool, kestrel_thread_pool_unref);
  g_clear_pointer (&self->buffers, kestrel_pool_unref);
  g_clear_object (&self->metrics);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->build_cancellable);
  g_clear_pointer (&self->owner_context, g_main_context_unref);
  g_free (self->source_spec);
  g_free (self->state_file);
  g_free (self->fault_node);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (kestrel_engine_parent_class)->finalize (object);
}

static void
kestrel_engine_class_init (KestrelEngineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = kestrel_engine_finalize;

  /**
   * KestrelEngine::event:
   * @kind: a #KestrelEngineEventKind
   * @message: what happened, for people
   *
   * Emitted in the thread-default main context of the thread that created
   * the engine.
   */
  signals[EVENT] = g_signal_new ("event", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                 NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_STRING);
}

static void
kestrel_engine_init (KestrelEngine *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->owner_context = g_main_context_ref_thread_default ();
  self->sample_interval_ms = 1000;
  kestrel_engine_config_init (&self->config);
  self->throttle = kestrel_throttle_new ();
  self->batcher = kestrel_batcher_new (1, 0);
  self->metrics = kestrel_metrics_new ();
  self->pool = kestrel_thread_pool_new (0);
  self->buffers = kestrel_pool_ref (kestrel_frame_pool_get_default ());
  kestrel_metrics_set_pool (self->metrics, self->buffers);
  self->cancellable = g_cancellable_new ();
  self->state = KESTREL_ENGINE_STOPPED;
}
