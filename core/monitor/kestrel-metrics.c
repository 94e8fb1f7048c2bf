/* kestrel-metrics.c — see kestrel-metrics.h.
 *
 * Two locks, never held together:
 *  - `lock` guards the writer-side state that is not atomic (frame times,
 *    histories, the system sample, the configuration). Writers hold it for
 *    a few stores; publish() holds it while copying.
 *  - `snapshot_lock` guards only the pointer to the latest snapshot, held
 *    for a pointer copy and a reference count. A bare atomic pointer would
 *    not do: a reader could load it just before the writer drops the last
 *    reference.
 *
 * History rings are copied into a snapshot only when a point was added
 * since the previous publication; otherwise the new snapshot shares the
 * previous snapshot's copies, which nobody writes to.
 */
#include "config.h"

#include "kestrel-metrics.h"

#include <math.h>
#include <string.h>

#define DEFAULT_FPS_WINDOW_MS 2000
/* Enough frame times for a 2 s window at 500 fps; beyond that the fps is
 * computed over the span those frames cover. */
#define N_FRAME_TIMES         1024

struct _KestrelMetrics
{
  GObject           parent_instance;

  /* Lock-free. */
  KestrelHistogram *stage_latency[KESTREL_N_STAGES];
  KestrelHistogram *frame_latency;
  guint64           frames_dropped;  /* atomic */
  guint64           rollbacks;       /* atomic */
  gboolean          over_budget;     /* atomic */

  GMutex            lock;
  guint64           frames_processed;
  guint64           faces_seen;
  KestrelHistogram *recent_latency;  /* since the last history point */
  gint64            frame_times[N_FRAME_TIMES];
  guint             frame_times_head;  /* oldest */
  guint             frame_times_len;
  guint             fps_window_ms;
  guint             history_capacity;
  KestrelRing      *history[KESTREL_N_SERIES];
  gboolean          history_dirty;
  gboolean          have_system;
  KestrelSystemSample system;
  KestrelPool      *pool;
  char             *level;
  char             *precision;
  char             *model;
  guint             threads;
  guint             batch;
  double            budget_percent;
  guint64           weight_bytes, arena_bytes;
  guint64           agreement_checks;
  gboolean          have_agreement;
  KestrelAgreement  agreement;
  double            recent_agreement;  /* percent, summed since the last history point */
  guint             recent_agreement_n;
  double            calibration_progress;
  gboolean          calibrating_int4;
  guint64           serial;

  GMutex            snapshot_lock;
  KestrelMetricsSnapshot *snapshot;
};

enum {
  PROP_0,
  PROP_HISTORY_CAPACITY,
  PROP_FPS_WINDOW,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (KestrelMetrics, kestrel_metrics, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (KestrelStage, kestrel_stage,
  G_DEFINE_ENUM_VALUE (KESTREL_STAGE_CAPTURE, "capture"),
  G_DEFINE_ENUM_VALUE (KESTREL_STAGE_PREPROCESS, "preprocess"),
  G_DEFINE_ENUM_VALUE (KESTREL_STAGE_INFERENCE, "inference"),
  G_DEFINE_ENUM_VALUE (KESTREL_STAGE_DECODE, "decode"))

G_DEFINE_BOXED_TYPE (KestrelMetricsSnapshot, kestrel_metrics_snapshot,
                     kestrel_metrics_snapshot_ref, kestrel_metrics_snapshot_unref)

static const char * const stage_names[KESTREL_N_STAGES] = {
  "capture", "preprocess", "inference", "decode",
};

static const char * const series_names[KESTREL_N_SERIES] = {
  "fps", "process-cpu", "system-cpu", "rss", "memory-growth", "latency-p50", "latency-p95",
  "fp32-agreement",
};

const char *
kestrel_stage_get_name (KestrelStage stage)
{
  g_return_val_if_fail ((guint) stage < KESTREL_N_STAGES, NULL);

  return stage_names[stage];
}

const char *
kestrel_series_get_name (KestrelSeries series)
{
  g_return_val_if_fail ((guint) series < KESTREL_N_SERIES, NULL);

  return series_names[series];
}

/* Snapshots */

static void
snapshot_clear (gpointer data)
{
  KestrelMetricsSnapshot *s = data;

  for (guint i = 0; i < KESTREL_N_STAGES; i++)
    g_clear_pointer (&s->stage_latency[i], kestrel_histogram_unref);
  g_clear_pointer (&s->frame_latency, kestrel_histogram_unref);
  for (guint i = 0; i < KESTREL_N_SERIES; i++)
    g_clear_pointer (&s->history[i], kestrel_ring_unref);
  g_free ((char *) s->config.level);
  g_free ((char *) s->config.precision);
  g_free ((char *) s->config.model);
}

KestrelMetricsSnapshot *
kestrel_metrics_snapshot_ref (KestrelMetricsSnapshot *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return g_atomic_rc_box_acquire (self);
}

void
kestrel_metrics_snapshot_unref (KestrelMetricsSnapshot *self)
{
  g_return_if_fail (self != NULL);

  g_atomic_rc_box_release_full (self, snapshot_clear);
}

/* Frames per second over the window ending at @now_us. While every frame
 * we remember is younger than the window (the first seconds of a run, or
 * more than N_FRAME_TIMES frames per window), divide by the span the frames
 * cover instead of the whole window, so the number is right from the
 * second frame on rather than ramping up. */
static double
compute_fps_locked (KestrelMetrics *self,
                    gint64          now_us)
{
  gint64 window_start_us = now_us - (gint64) self->fps_window_ms * 1000;
  gint64 oldest_us = 0, newest_us = 0;
  guint n = 0;

  for (guint i = 0; i < self->frame_times_len; i++)
    {
      gint64 t = self->frame_times[(self->frame_times_head + i) % N_FRAME_TIMES];

      if (t > window_start_us && t <= now_us)
        {
          if (n == 0)
            oldest_us = t;
          newest_us = t;
          n++;
        }
    }
  if (n == 0)
    return 0.0;
  if (self->frame_times[self->frame_times_head] <= window_start_us)
    return (double) n * 1000.0 / (double) self->fps_window_ms;
  if (n < 2 || newest_us <= oldest_us)
    return 0.0;
  return (double) (n - 1) * 1e6 / (double) (newest_us - oldest_us);
}

static KestrelMetricsSnapshot *
build_snapshot_locked (KestrelMetrics               *self,
                       gint64                        now_us,
                       const KestrelMetricsSnapshot *previous)
{
  KestrelMetricsSnapshot *s = g_atomic_rc_box_new0 (KestrelMetricsSnapshot);

  s->time_us = now_us;
  s->serial = ++self->serial;
  for (guint i = 0; i < KESTREL_N_STAGES; i++)
    s->stage_latency[i] = kestrel_histogram_copy (self->stage_latency[i]);
  s->frame_latency = kestrel_histogram_copy (self->frame_latency);
  s->frames_processed = self->frames_processed;
  s->frames_dropped = __atomic_load_n (&self->frames_dropped, __ATOMIC_RELAXED);
  s->faces_seen = self->faces_seen;
  s->rollbacks = __atomic_load_n (&self->rollbacks, __ATOMIC_RELAXED);
  s->over_budget = g_atomic_int_get (&self->over_budget);
  s->fps = compute_fps_locked (self, now_us);
  s->have_system = self->have_system;
  if (self->have_system)
    s->system = self->system;
  s->config.level = g_strdup (self->level != NULL ? self->level : "");
  s->config.precision = g_strdup (self->precision != NULL ? self->precision : "");
  s->config.model = g_strdup (self->model != NULL ? self->model : "");
  s->config.threads = self->threads;
  s->config.batch = self->batch;
  s->config.budget_percent = self->budget_percent;
  s->config.weight_bytes = self->weight_bytes;
  s->config.arena_bytes = self->arena_bytes;
  s->agreement_checks = self->agreement_checks;
  s->have_agreement = self->have_agreement;
  s->agreement = self->agreement;
  s->calibration_progress = self->calibration_progress;
  s->calibrating_int4 = self->calibrating_int4;

  for (guint i = 0; i < KESTREL_N_SERIES; i++)
    {
      if (!self->history_dirty && previous != NULL && previous->history[i] != NULL)
        s->history[i] = kestrel_ring_ref (previous->history[i]);
      else
        s->history[i] = kestrel_ring_copy (self->history[i]);
    }
  self->history_dirty = FALSE;
  return s;
}

static void
swap_snapshot (KestrelMetrics         *self,
               KestrelMetricsSnapshot *snapshot)
{
  KestrelMetricsSnapshot *old;

  g_mutex_lock (&self->snapshot_lock);
  old = self->snapshot;
  self->snapshot = snapshot;
  g_mutex_unlock (&self->snapshot_lock);

  /* The last reference may go here; free it outside the lock. */
  g_clear_pointer (&old, kestrel_metrics_snapshot_unref);
}

void
kestrel_metrics_publish (KestrelMetrics *self,
                         gint64          now_us)
{
  g_autoptr(KestrelMetricsSnapshot) previous = NULL;
  g_autoptr(KestrelPool) pool = NULL;
  KestrelMetricsSnapshot *s;

  g_return_if_fail (KESTREL_IS_METRICS (self));

  previous = kestrel_metrics_get_snapshot (self);

  g_mutex_lock (&self->lock);
  s = build_snapshot_locked (self, now_us, previous);
  if (self->pool != NULL)
    pool = kestrel_pool_ref (self->pool);
  g_mutex_unlock (&self->lock);

  /* The pool has its own lock; don't nest it inside ours. */
  if (pool != NULL)
    {
      kestrel_pool_get_stats (pool, &s->pool);
      s->have_pool = TRUE;
    }

  swap_snapshot (self, s);
}

KestrelMetricsSnapshot *
kestrel_metrics_get_snapshot (KestrelMetrics *self)
{
  KestrelMetricsSnapshot *s;

  g_return_val_if_fail (KESTREL_IS_METRICS (self), NULL);

  g_mutex_lock (&self->snapshot_lock);
  s = kestrel_metrics_snapshot_ref (self->snapshot);
  g_mutex_unlock (&self->snapshot_lock);
  return s;
}

/* Writers */

void
kestrel_metrics_record_stage (KestrelMetrics *self,
                              KestrelStage    stage,
                              guint64         nanoseconds)
{
  g_return_if_fail (KESTREL_IS_METRICS (self));
  g_return_if_fail ((guint) stage < KESTREL_N_STAGES);

  kestrel_histogram_record_ns (self->stage_latency[stage], nanoseconds);
}

void
kestrel_metrics_frame_dropped (KestrelMetrics *self)
{
  g_return_if_fail (KESTREL_IS_METRICS (self));

  __atomic_fetch_add (&self->frames_dropped, 1, __ATOMIC_RELAXED);
}

void
kestrel_metrics_rollback (KestrelMetrics *self)
{
  g_return_if_fail (KESTREL_IS_METRICS (self));

  __atomic_fetch_add (&self->rollbacks, 1, __ATOMIC_RELAXED);
}

void
kestrel_metrics_set_over_budget (KestrelMetrics *self,
                                 gboolean        over_budget)
{
  g_return_if_fail (KESTREL_IS_METRICS (self));

  g_atomic_int_set (&self->over_budget, over_budget != FALSE);
}

void
kestrel_metrics_frame_processed (KestrelMetrics *self,
                                 gint64          now_us,
                                 guint64         latency_ns,
                                 guint           n_faces)
{
  g_return_if_fail (KESTREL_IS_METRICS (self));

  /* Under the lock, so that a snapshot's frame count and frame-latency
   * count always agree. */
  g_mutex_lock (&self->lock);
  kestrel_histogram_record_ns (self->frame_latency, latency_ns);
  kestrel_histogram_record_ns (self->recent_latency, latency_ns);
  self->frames_processed++;
  self->faces_seen += n_faces;
  if (self->frame_times_len < N_FRAME_TIMES)
    {
      self->frame_times[(self->frame_times_head + self->frame_times_len) % N_FRAME_TIMES] = now_us;
      self->frame_times_len++;
    }
  else
    {
      self->frame_times[self->frame_times_head] = now_us;
      self->frame_times_head = (self->frame_times_head + 1) % N_FRAME_TIMES;
    }
  g_mutex_unlock (&self->lock);
}

static void
push_history_locked (KestrelMetrics *self,
                     gint64          now_us)
{
  double values[KESTREL_N_SERIES];
  gboolean have_latency = kestrel_histogram_get_count (self->recent_latency) > 0;

  values[KESTREL_SERIES_FPS] = compute_fps_locked (self, now_us);
  values[KESTREL_SERIES_PROCESS_CPU] = self->have_system ? self->system.process_cpu_percent : (double) NAN;
  values[KESTREL_SERIES_SYSTEM_CPU] = self->have_system ? self->system.system_cpu_percent : (double) NAN;
  values[KESTREL_SERIES_RSS] = self->have_system ? (double) self->system.rss_bytes / 1e6 : (double) NAN;
  values[KESTREL_SERIES_MEMORY_GROWTH] = self->have_system ? self->system.memory_growth_mb_per_hour : (double) NAN;
  values[KESTREL_SERIES_LATENCY_P50] =
    have_latency ? kestrel_histogram_get_quantile (self->recent_latency, 0.50) * 1e3 : (double) NAN;
  values[KESTREL_SERIES_LATENCY_P95] =
    have_latency ? kestrel_histogram_get_quantile (self->recent_latency, 0.95) * 1e3 : (double) NAN;
  values[KESTREL_SERIES_FP32_AGREEMENT] =
    self->recent_agreement_n > 0 ? self->recent_agreement / self->recent_agreement_n : (double) NAN;

  for (guint i = 0; i < KESTREL_N_SERIES; i++)
    kestrel_ring_push (self->history[i], now_us, values[i]);
  kestrel_histogram_reset (self->recent_latency);
  self->recent_agreement = 0;
  self->recent_agreement_n = 0;
  self->history_dirty = TRUE;
}

void
kestrel_metrics_push_history (KestrelMetrics *self,
                              gint64          now_us)
{
  g_return_if_fail (KESTREL_IS_METRICS (self));

  g_mutex_lock (&self->lock);
  push_history_locked (self, now_us);
  g_mutex_unlock (&self->lock);
}

void
kestrel_metrics_set_system_sample (KestrelMetrics            *self,
                                   const KestrelSystemSample *sample)
{
  g_return_if_fail (KESTREL_IS_METRICS (self));
  g_return_if_fail (sample != NULL);

  g_mutex_lock (&self->lock);
  self->system = *sample;
  self->have_system = TRUE;
  push_history_locked (self, sample->time_us);
  g_mutex_unlock (&self->lock);
}

void
kestrel_metrics_set_pool (KestrelMetrics *self,
                          KestrelPool    *pool)
{
  KestrelPool *old;

  g_return_if_fail (KESTREL_IS_METRICS (self));

  g_mutex_lock (&self->lock);
  old = self->pool;
  self->pool = pool != NULL ? kestrel_pool_ref (pool) : NULL;
  g_mutex_unlock (&self->lock);
  g_clear_pointer (&old, kestrel_pool_unref);
}

void
kestrel_metrics_set_config (KestrelMetrics             *self,
                            const KestrelMetricsConfig *config)
{
  g_return_if_fail (KESTREL_IS_METRICS (self));
  g_return_if_fail (config != NULL);

  g_mutex_lock (&self->lock);
  g_free (self->level);
  g_free (self->precision);
  g_free (self->model);
  self->level = g_strdup (config->level);
  self->precision = g_strdup (config->precision);
  self->model = g_strdup (config->model);
  self->threads = config->threads;
  self->batch = config->batch;
  self->budget_percent = config->budget_percent;
  self->weight_bytes = config->weight_bytes;
  self->arena_bytes = config->arena_bytes;
  g_mutex_unlock (&self->lock);
}

double
kestrel_agreement_get_percent (const KestrelAgreement *a)
{
  guint either;

  g_return_val_if_fail (a != NULL, NAN);
  either = a->fp32_faces + a->extra_faces;
  if (either == 0)
    return 100.0;
  if (a->matched_faces == 0)
    return 0.0;
  return 100.0 * a->mean_iou * a->matched_faces / either;
}

void
kestrel_metrics_record_agreement (KestrelMetrics         *self,
                                  const KestrelAgreement *agreement)
{
  g_return_if_fail (KESTREL_IS_METRICS (self));

  g_mutex_lock (&self->lock);
  self->have_agreement = agreement != NULL;
  if (agreement != NULL)
    {
      self->agreement = *agreement;
      self->agreement_checks++;
      self->recent_agreement += kestrel_agreement_get_percent (agreement);
      self->recent_agreement_n++;
    }
  g_mutex_unlock (&self->lock);
}

void
kestrel_metrics_set_calibrating_int4 (KestrelMetrics *self,
                                      gboolean        int4)
{
  g_return_if_fail (KESTREL_IS_METRICS (self));

  g_mutex_lock (&self->lock);
  self->calibrating_int4 = int4;
  g_mutex_unlock (&self->lock);
}

void
kestrel_metrics_set_calibration_progress (KestrelMetrics *self,
                                          double          fraction)
{
  g_return_if_fail (KESTREL_IS_METRICS (self));

  g_mutex_lock (&self->lock);
  self->calibration_progress = fraction < 0 ? -1.0 : MIN (fraction, 1.0);
  g_mutex_unlock (&self->lock);
}

void
kestrel_metrics_reset (KestrelMetrics *self)
{
  g_return_if_fail (KESTREL_IS_METRICS (self));

  for (guint i = 0; i < KESTREL_N_STAGES; i++)
    kestrel_histogram_reset (self->stage_latency[i]);
  kestrel_histogram_reset (self->frame_latency);
  __atomic_store_n (&self->frames_dropped, 0, __ATOMIC_RELAXED);
  __atomic_store_n (&self->rollbacks, 0, __ATOMIC_RELAXED);

  g_mutex_lock (&self->lock);
  kestrel_histogram_reset (self->recent_latency);
  self->frames_processed = 0;
  self->faces_seen = 0;
  self->frame_times_len = 0;
  self->frame_times_head = 0;
  g_mutex_unlock (&self->lock);
}

/* Properties */

guint
kestrel_metrics_get_history_capacity (KestrelMetrics *self)
{
  g_return_val_if_fail (KESTREL_IS_METRICS (self), 0);

  return self->history_capacity;
}

void
kestrel_metrics_set_history_capacity (KestrelMetrics *self,
                                      guint           capacity)
{
  g_return_if_fail (KESTREL_IS_METRICS (self));

  capacity = CLAMP (capacity, 1, KESTREL_RING_MAX_CAPACITY);
  if (capacity == self->history_capacity)
    return;

  g_mutex_lock (&self->lock);
  self->history_capacity = capacity;
  for (guint i = 0; i < KESTREL_N_SERIES; i++)
    kestrel_ring_set_capacity (self->history[i], capacity);
  self->history_dirty = TRUE;
  g_mutex_unlock (&self->lock);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HISTORY_CAPACITY]);
}

guint
kestrel_metrics_get_fps_window (KestrelMetrics *self)
{
  g_return_val_if_fail (KESTREL_IS_METRICS (self), 0);

  return self->fps_window_ms;
}

void
kestrel_metrics_set_fps_window (KestrelMetrics *self,
                                guint           window_ms)
{
  g_return_if_fail (KESTREL_IS_METRICS (self));

  window_ms = MAX (window_ms, 1);
  if (window_ms == self->fps_window_ms)
    return;

  g_mutex_lock (&self->lock);
  self->fps_window_ms = window_ms;
  g_mutex_unlock (&self->lock);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FPS_WINDOW]);
}

static void
kestrel_metrics_finalize (GObject *object)
{
  KestrelMetrics *self = KESTREL_METRICS (object);

  for (guint i = 0; i < KESTREL_N_STAGES; i++)
    g_clear_pointer (&self->stage_latency[i], kestrel_histogram_unref);
  g_clear_pointer (&self->frame_latency, kestrel_histogram_unref);
  g_clear_pointer (&self->recent_latency, kestrel_histogram_unref);
  for (guint i = 0; i < KESTREL_N_SERIES; i++)
    g_clear_pointer (&self->history[i], kestrel_ring_unref);
  g_clear_pointer (&self->pool, kestrel_pool_unref);
  g_clear_pointer (&self->level, g_free);
  g_clear_pointer (&self->precision, g_free);
  g_clear_pointer (&self->model, g_free);
  g_clear_pointer (&self->snapshot, kestrel_metrics_snapshot_unref);
  g_mutex_clear (&self->lock);
  g_mutex_clear (&self->snapshot_lock);

  G_OBJECT_CLASS (kestrel_metrics_parent_class)->finalize (object);
}

static void
kestrel_metrics_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  KestrelMetrics *self = KESTREL_METRICS (object);

  switch (prop_id)
    {
    case PROP_HISTORY_CAPACITY:
      g_value_set_uint (value, kestrel_metrics_get_history_capacity (self));
      break;
    case PROP_FPS_WINDOW:
      g_value_set_uint (value, kestrel_metrics_get_fps_window (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kestrel_metrics_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  KestrelMetrics *self = KESTREL_METRICS (object);

  switch (prop_id)
    {
    case PROP_HISTORY_CAPACITY:
      kestrel_metrics_set_history_capacity (self, g_value_get_uint (value));
      break;
    case PROP_FPS_WINDOW:
      kestrel_metrics_set_fps_window (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kestrel_metrics_class_init (KestrelMetricsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = kestrel_metrics_finalize;
  object_class->get_property = kestrel_metrics_get_property;
  object_class->set_property = kestrel_metrics_set_property;

  properties[PROP_HISTORY_CAPACITY] =
    g_param_spec_uint ("history-capacity", NULL, NULL,
                       1, KESTREL_RING_MAX_CAPACITY, KESTREL_RING_DEFAULT_CAPACITY,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_FPS_WINDOW] =
    g_param_spec_uint ("fps-window", NULL, NULL,
                       1, G_MAXUINT, DEFAULT_FPS_WINDOW_MS,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kestrel_metrics_init (KestrelMetrics *self)
{
  g_mutex_init (&self->lock);
  g_mutex_init (&self->snapshot_lock);

  for (guint i = 0; i < KESTREL_N_STAGES; i++)
    self->stage_latency[i] = kestrel_histogram_new ();
  self->frame_latency = kestrel_histogram_new ();
  self->recent_latency = kestrel_histogram_new ();
  self->fps_window_ms = DEFAULT_FPS_WINDOW_MS;
  self->history_capacity = KESTREL_RING_DEFAULT_CAPACITY;
  for (guint i = 0; i < KESTREL_N_SERIES; i++)
    self->history[i] = kestrel_ring_new (self->history_capacity);
  self->calibration_progress = -1.0;

  self->snapshot = build_snapshot_locked (self, g_get_monotonic_time (), NULL);
}

KestrelMetrics *
kestrel_metrics_new (void)
{
  return g_object_new (KESTREL_TYPE_METRICS, NULL);
}
