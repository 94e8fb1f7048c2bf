/* kestrel-engine-metrics.c — the monitor thread (its own GMainContext):
 * the libgtop sampler feeding the throttle, the power-saver and
 * low-memory monitors, publishing snapshots, and the Prometheus endpoint;
 * and the configuration as the metrics show it.
 */
#include "config.h"

#include "kestrel-engine-private.h"

#include "kestrel-pool.h"
#include "kestrel-sampler.h"
#include "kestrel-tsan.h"

/* Snapshots for the UI and the HTTP endpoint, per second. */
#define PUBLISH_INTERVAL_MS 250

void
_kestrel_engine_publish_config (KestrelEngine *self, const KestrelEngineConfig *c)
{
  guint64 weight_bytes = 0, arena_bytes = 0;

  /* The plans this configuration runs (the last one stages the batch). */
  if (self->active != NULL && self->active->n_plans > 0)
    {
      weight_bytes = kestrel_plan_get_weight_bytes (_kestrel_engine_active_staging (self->active));
      for (guint i = 0; i < self->active->n_plans; i++)
        arena_bytes += kestrel_plan_get_arena_bytes (self->active->plans[i]);
    }

  KestrelMetricsConfig mc = {
    .level = kk_level_name (c->level),
    .threads = kestrel_thread_pool_get_n_threads (self->pool),
    .precision = kestrel_precision_name (c->precision),
    .budget_percent = c->throttle == KESTREL_THROTTLE_MODE_BUDGET ? c->budget : 0,
    .batch = c->batch,
    .model = c->model,
    .weight_bytes = weight_bytes,
    .arena_bytes = arena_bytes,
  };
  kestrel_metrics_set_config (self->metrics, &mc);
}

static void
on_sampled (KestrelSampler *sampler, gpointer sample_ptr, gpointer data)
{
  KestrelEngine *self = data;
  const KestrelSystemSample *sample = sample_ptr;

  kestrel_metrics_set_system_sample (self->metrics, sample);
  g_mutex_lock (&self->lock);
  kestrel_throttle_update (self->throttle, g_get_monotonic_time (), sample->process_cpu_percent);
  kestrel_metrics_set_over_budget (self->metrics, kestrel_throttle_get_over_budget (self->throttle));
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static gboolean
publish_tick (gpointer data)
{
  KestrelEngine *self = data;

  kestrel_metrics_publish (self->metrics, g_get_monotonic_time ());
  return G_SOURCE_CONTINUE;
}

/* Power saver: half the frame rate (GLib's power-profile monitor, backed by
 * power-profiles-daemon when it runs). */
static void
on_power_saver (GPowerProfileMonitor *monitor, GParamSpec *pspec, gpointer data)
{
  KestrelEngine *self = data;
  gboolean saver = g_power_profile_monitor_get_power_saver_enabled (monitor);

  /* The monitor also notifies when it first learns the (unchanged) state. */
  if (saver == self->power_saver)
    return;
  self->power_saver = saver;
  g_mutex_lock (&self->lock);
  kestrel_throttle_set_rate_multiplier (self->throttle, saver ? 0.5 : 1.0);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  _kestrel_engine_post_event (self, KESTREL_ENGINE_EVENT_INFO, saver ? "power saver on: half the frame rate"
                                                     : "power saver off: full frame rate");
}

/* Low memory: give cached pool memory back. */
static void
on_low_memory (GMemoryMonitor *monitor, GMemoryMonitorWarningLevel level, gpointer data)
{
  KestrelEngine *self = data;
  gsize released = kestrel_pool_trim (self->buffers);

  _kestrel_engine_post_event (self, KESTREL_ENGINE_EVENT_INFO, "low-memory warning (level %d): released %zu cached bytes",
                              (int) level, released);
}

gpointer
_kestrel_engine_monitor_main (gpointer data)
{
  KestrelEngine *self = data;
  GSource *tick;
  g_autoptr(GPowerProfileMonitor) power = g_steal_pointer (&self->power_monitor);
  g_autoptr(GMemoryMonitor) memory = g_steal_pointer (&self->memory_monitor);

  g_main_context_push_thread_default (self->monitor_context);
  self->sampler = kestrel_sampler_new (self->monitor_context);
  kestrel_sampler_set_interval (self->sampler, (guint) g_atomic_int_get (&self->sample_interval_ms));
  g_signal_connect (self->sampler, "sampled", G_CALLBACK (on_sampled), self);
  tick = g_timeout_source_new (PUBLISH_INTERVAL_MS);
  g_source_set_callback (tick, publish_tick, self, NULL);
  g_source_attach (tick, self->monitor_context);

  if (power != NULL)
    {
      g_signal_connect (power, "notify::power-saver-enabled", G_CALLBACK (on_power_saver), self);
      if (g_power_profile_monitor_get_power_saver_enabled (power))
        on_power_saver (power, NULL, self);
    }
  if (memory != NULL)
    g_signal_connect (memory, "low-memory-warning", G_CALLBACK (on_low_memory), self);

  while (!g_atomic_int_get (&self->monitor_quit))
    g_main_context_iteration (self->monitor_context, TRUE);

  g_source_destroy (tick);
  g_source_unref (tick);
  if (power != NULL)
    g_signal_handlers_disconnect_by_data (power, self);
  if (memory != NULL)
    g_signal_handlers_disconnect_by_data (memory, self);
  if (self->prometheus != NULL)
    kestrel_prometheus_server_stop (self->prometheus);
  g_clear_object (&self->prometheus);
  g_clear_object (&self->sampler);
  g_main_context_pop_thread_default (self->monitor_context);
  return NULL;
}

/* On the monitor thread, which owns the sampler. */
static gboolean
apply_sample_interval (gpointer data)
{
  KestrelEngine *self = data;

  if (self->sampler != NULL)
    kestrel_sampler_set_interval (self->sampler, (guint) g_atomic_int_get (&self->sample_interval_ms));
  return G_SOURCE_REMOVE;
}

void
kestrel_engine_set_sample_interval (KestrelEngine *self, guint interval_ms)
{
  g_return_if_fail (KESTREL_IS_ENGINE (self));

  g_atomic_int_set (&self->sample_interval_ms, (gint) CLAMP (interval_ms, 100, 60000));
  if (self->monitor_context != NULL)
    {
      /* A source, so it runs on the monitor thread whoever calls; the
       * engine outlives it (stop joins the monitor thread first). */
      GSource *source = g_idle_source_new ();
      g_source_set_callback (source, apply_sample_interval, g_object_ref (self), g_object_unref);
      g_source_attach (source, self->monitor_context);
      g_source_unref (source);
    }
}

guint
kestrel_engine_get_sample_interval (KestrelEngine *self)
{
  g_return_val_if_fail (KESTREL_IS_ENGINE (self), 0);
  return (guint) g_atomic_int_get (&self->sample_interval_ms);
}

typedef struct {
  KestrelEngine *engine;
  const char *address;
  KestrelPrometheusFlags flags;
  GMutex lock;
  GCond cond;
  gboolean done, ok;
  GError *error;
  char *url;
} ServeJob;

static KestrelMetricsSnapshot *
snapshot_for_prometheus (gpointer data)
{
  return kestrel_metrics_get_snapshot (KESTREL_ENGINE (data)->metrics);
}

static gboolean
serve_on_monitor (gpointer data)
{
  ServeJob *job = data;
  KestrelEngine *self;

  KESTREL_TSAN_ACQUIRE (job);
  self = job->engine;
  if (self->prometheus == NULL)
    self->prometheus = kestrel_prometheus_server_new (self->monitor_context, snapshot_for_prometheus,
                                                      self, NULL);
  job->ok = kestrel_prometheus_server_start (self->prometheus, job->address, job->flags, &job->error);
  if (job->ok)
    job->url = kestrel_prometheus_server_dup_url (self->prometheus);
  g_mutex_lock (&job->lock);
  job->done = TRUE;
  g_cond_signal (&job->cond);
  g_mutex_unlock (&job->lock);
  return G_SOURCE_REMOVE;
}

gboolean
kestrel_engine_serve_metrics (KestrelEngine *self, const char *address, KestrelPrometheusFlags flags,
                              char **url, GError **error)
{
  ServeJob job = { self, address != NULL ? address : "127.0.0.1:9464", flags };

  g_return_val_if_fail (self->monitor_context != NULL, FALSE);
  g_mutex_init (&job.lock);
  g_cond_init (&job.cond);
  KESTREL_TSAN_RELEASE (&job);
  g_main_context_invoke (self->monitor_context, serve_on_monitor, &job);
  g_mutex_lock (&job.lock);
  while (!job.done)
    g_cond_wait (&job.cond, &job.lock);
  g_mutex_unlock (&job.lock);
  g_mutex_clear (&job.lock);
  g_cond_clear (&job.cond);
  if (!job.ok)
    {
      g_propagate_error (error, job.error);
      return FALSE;
    }
  if (url != NULL)
    *url = job.url;
  else
    g_free (job.url);
  return TRUE;
}
