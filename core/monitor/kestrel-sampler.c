/* kestrel-sampler.c — see kestrel-sampler.h.
 *
 * libgtop's Linux backend reads /proc into buffers hung off one global
 * server structure, and glibtop_cpu alone is 70 KiB (per-core arrays for
 * 1024 CPUs), so every libgtop call here goes through one process-wide lock
 * and one static buffer; callers get the few numbers they need copied out.
 */
#include "config.h"

#include "kestrel-sampler.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

/* libgtop's headers test configure macros they do not define. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wundef"
#include <glibtop.h>
#include <glibtop/cpu.h>
#include <glibtop/procmem.h>
#include <glibtop/proctime.h>
#pragma GCC diagnostic pop

#include "kestrel-error.h"

#define DEFAULT_INTERVAL_MS   1000
#define MIN_INTERVAL_MS       100
#define MAX_INTERVAL_MS       3600000
#define DEFAULT_WINDOW_S      600
#define DEFAULT_WARMUP_S      60
/* A slope over a few seconds is mostly allocator noise. */
#define MIN_SLOPE_SPAN_S      60
/* Bounds the history if someone samples at 10 Hz over an hour. */
#define MAX_RSS_POINTS        36000

typedef struct {
  gint64  time_us;
  guint64 total;   /* CPU ticks, all cores */
  guint64 idle;    /* idle + iowait ticks */
  guint   n_cores;
  guint64 core_total[KESTREL_SYSTEM_MAX_CORES];
  guint64 core_idle[KESTREL_SYSTEM_MAX_CORES];
  guint64 process_ns;
  guint64 rss_bytes;
} Reading;

typedef struct {
  gint64  time_us;
  guint64 rss_bytes;
} RssPoint;

struct _KestrelSampler
{
  GObject       parent_instance;

  GMainContext *context;
  GSource      *timer;
  guint         interval_ms;
  guint         growth_window_s;
  guint         warmup_s;
  gboolean      paused;

  /* Everything below is shared between the sampling thread and readers. */
  GMutex        lock;
  gboolean      have_baseline;
  Reading       baseline;
  gboolean      have_latest;
  KestrelSystemSample latest;
  GArray       *rss_points;    /* RssPoint, oldest first, after warm-up */
  gboolean      have_start;
  gint64        start_us;      /* first RSS reading: the warm-up runs from it */
  double        growth;
};

enum {
  PROP_0,
  PROP_CONTEXT,
  PROP_INTERVAL,
  PROP_GROWTH_WINDOW,
  PROP_WARMUP,
  PROP_PAUSED,
  N_PROPS
};

enum {
  SAMPLED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (KestrelSampler, kestrel_sampler, G_TYPE_OBJECT)

G_LOCK_DEFINE_STATIC (gtop);
static glibtop_cpu gtop_cpu;

static void
ensure_gtop_locked (void)
{
  static gboolean initialized;

  if (!initialized)
    {
      glibtop_init ();
      initialized = TRUE;
    }
}

static gboolean
read_process_locked (guint64  *cpu_ns,
                     guint64  *rss_bytes,
                     GError  **error)
{
  glibtop_proc_time t = { 0 };
  glibtop_proc_mem m = { 0 };
  pid_t pid = getpid ();
  guint64 hz;

  glibtop_get_proc_time (&t, pid);
  glibtop_get_proc_mem (&m, pid);
  if (!(t.flags & (1 << GLIBTOP_PROC_TIME_UTIME)) ||
      !(t.flags & (1 << GLIBTOP_PROC_TIME_STIME)) ||
      !(m.flags & (1 << GLIBTOP_PROC_MEM_RESIDENT)))
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_DEPENDENCY,
                   "libgtop could not read the CPU time and memory of process %d "
                   "(expected readable /proc/%d/stat and /proc/%d/statm)",
                   (int) pid, (int) pid, (int) pid);
      return FALSE;
    }
  hz = t.frequency != 0 ? t.frequency : 100;
  if (cpu_ns != NULL)
    *cpu_ns = (guint64) ((double) (t.utime + t.stime) * (1e9 / (double) hz));
  if (rss_bytes != NULL)
    *rss_bytes = m.resident;
  return TRUE;
}

gboolean
kestrel_process_usage_read (guint64  *cpu_time_ns,
                            guint64  *rss_bytes,
                            GError  **error)
{
  gboolean ok;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  G_LOCK (gtop);
  ensure_gtop_locked ();
  ok = read_process_locked (cpu_time_ns, rss_bytes, error);
  G_UNLOCK (gtop);
  return ok;
}

gboolean
kestrel_system_cpu_read (guint64 *busy_ticks,
                         guint64 *total_ticks)
{
  guint64 total, idle;

  G_LOCK (gtop);
  ensure_gtop_locked ();
  glibtop_get_cpu (&gtop_cpu);
  total = gtop_cpu.total;
  idle = gtop_cpu.idle + gtop_cpu.iowait;
  G_UNLOCK (gtop);
  if (total == 0)
    return FALSE;
  if (busy_ticks != NULL)
    *busy_ticks = total >= idle ? total - idle : 0;
  if (total_ticks != NULL)
    *total_ticks = total;
  return TRUE;
}

static gboolean
take_reading (Reading  *r,
              GError  **error)
{
  gboolean ok;

  G_LOCK (gtop);
  ensure_gtop_locked ();
  r->time_us = g_get_monotonic_time ();
  glibtop_get_cpu (&gtop_cpu);
  r->total = gtop_cpu.total;
  r->idle = gtop_cpu.idle + gtop_cpu.iowait;
  /* libgtop's ncpu is the highest CPU index, 0 on a single CPU. */
  r->n_cores = (guint) MAX (glibtop_global_server->ncpu, 0) + 1;
  r->n_cores = MIN (r->n_cores, MIN (GLIBTOP_NCPU, KESTREL_SYSTEM_MAX_CORES));
  for (guint i = 0; i < r->n_cores; i++)
    {
      r->core_total[i] = gtop_cpu.xcpu_total[i];
      r->core_idle[i] = gtop_cpu.xcpu_idle[i] + gtop_cpu.xcpu_iowait[i];
    }
  ok = read_process_locked (&r->process_ns, &r->rss_bytes, error);
  G_UNLOCK (gtop);
  return ok;
}

static double
busy_percent (guint64 total0, guint64 idle0, guint64 total1, guint64 idle1)
{
  double dt, di;

  /* Counters can step back when a CPU goes offline; report idle then. */
  if (total1 <= total0)
    return 0.0;
  dt = (double) (total1 - total0);
  di = idle1 >= idle0 ? (double) (idle1 - idle0) : 0.0;
  return CLAMP (100.0 * (dt - di) / dt, 0.0, 100.0);
}

/* Least-squares slope through the points, in MB per hour, with times and
 * sizes taken relative to the first point so the sums stay small. */
static double
fit_slope (const RssPoint *p,
           guint           n)
{
  double mean_x = 0, mean_y = 0, sxx = 0, sxy = 0;

  if (n < 2)
    return NAN;
  for (guint i = 0; i < n; i++)
    {
      mean_x += (double) (p[i].time_us - p[0].time_us) / 3.6e9;
      mean_y += ((double) p[i].rss_bytes - (double) p[0].rss_bytes) / 1e6;
    }
  mean_x /= n;
  mean_y /= n;
  for (guint i = 0; i < n; i++)
    {
      double x = (double) (p[i].time_us - p[0].time_us) / 3.6e9 - mean_x;
      double y = ((double) p[i].rss_bytes - (double) p[0].rss_bytes) / 1e6 - mean_y;

      sxx += x * x;
      sxy += x * y;
    }
  if (sxx <= 0)
    return NAN;
  return sxy / sxx;
}

static void
add_rss_point_locked (KestrelSampler *self,
                      gint64          time_us,
                      guint64         rss_bytes)
{
  RssPoint point = { time_us, rss_bytes };
  const RssPoint *points;
  gint64 window_us = (gint64) self->growth_window_s * G_USEC_PER_SEC;
  gint64 min_span_us = MIN ((gint64) MIN_SLOPE_SPAN_S * G_USEC_PER_SEC, window_us / 2);
  guint drop = 0;

  if (!self->have_start)
    {
      self->have_start = TRUE;
      self->start_us = time_us;
    }
  /* Startup growth (model, pools, caches) is expected, not a leak. */
  if (time_us < self->start_us + (gint64) self->warmup_s * G_USEC_PER_SEC)
    return;

  g_array_append_val (self->rss_points, point);
  points = (const RssPoint *) (gpointer) self->rss_points->data;
  while (drop < self->rss_points->len &&
         (points[drop].time_us < time_us - window_us ||
          self->rss_points->len - drop > MAX_RSS_POINTS))
    drop++;
  if (drop > 0)
    g_array_remove_range (self->rss_points, 0, drop);

  points = (const RssPoint *) (gpointer) self->rss_points->data;
  if (self->rss_points->len >= 2 &&
      points[self->rss_points->len - 1].time_us - points[0].time_us >= min_span_us)
    self->growth = fit_slope (points, self->rss_points->len);
  else
    self->growth = NAN;
}

/* Turns a new reading into a sample against the baseline, and makes the
 * reading the next baseline. */
static gboolean
process_reading_locked (KestrelSampler      *self,
                        const Reading       *r,
                        KestrelSystemSample *out)
{
  const Reading *b = &self->baseline;
  double wall_s;

  if (!self->have_baseline || r->time_us <= b->time_us)
    {
      self->baseline = *r;
      self->have_baseline = TRUE;
      return FALSE;
    }

  memset (out, 0, sizeof *out);
  wall_s = (double) (r->time_us - b->time_us) / G_USEC_PER_SEC;
  out->time_us = r->time_us;
  out->interval_s = wall_s;
  out->system_cpu_percent = busy_percent (b->total, b->idle, r->total, r->idle);
  out->n_cores = MIN (r->n_cores, b->n_cores);
  for (guint i = 0; i < out->n_cores; i++)
    out->core_cpu_percent[i] = busy_percent (b->core_total[i], b->core_idle[i],
                                             r->core_total[i], r->core_idle[i]);
  out->process_cpu_time_ns = r->process_ns;
  out->process_cpu_percent = r->process_ns >= b->process_ns
    ? 100.0 * (double) (r->process_ns - b->process_ns) / 1e9 / wall_s
    : 0.0;
  out->rss_bytes = r->rss_bytes;

  add_rss_point_locked (self, r->time_us, r->rss_bytes);
  out->memory_growth_mb_per_hour = self->growth;

  self->baseline = *r;
  self->latest = *out;
  self->have_latest = TRUE;
  return TRUE;
}

gboolean
kestrel_sampler_sample_now (KestrelSampler      *self,
                            KestrelSystemSample *out,
                            GError             **error)
{
  g_autofree Reading *r = g_new0 (Reading, 1);
  g_autofree KestrelSystemSample *sample = g_new0 (KestrelSystemSample, 1);
  gboolean complete;

  g_return_val_if_fail (KESTREL_IS_SAMPLER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!take_reading (r, error))
    return FALSE;

  g_mutex_lock (&self->lock);
  complete = process_reading_locked (self, r, sample);
  g_mutex_unlock (&self->lock);

  if (!complete)
    return FALSE;
  if (out != NULL)
    *out = *sample;
  g_signal_emit (self, signals[SAMPLED], 0, sample);
  return TRUE;
}

static void
take_baseline (KestrelSampler *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree Reading *r = g_new0 (Reading, 1);

  if (!take_reading (r, &error))
    {
      g_warning ("System sampler: %s", error->message);
      return;
    }
  g_mutex_lock (&self->lock);
  self->baseline = *r;
  self->have_baseline = TRUE;
  g_mutex_unlock (&self->lock);
}

static gboolean
on_tick (gpointer user_data)
{
  KestrelSampler *self = user_data;
  g_autoptr(GError) error = NULL;

  if (!kestrel_sampler_sample_now (self, NULL, &error) && error != NULL)
    {
      /* The next tick may work (a transient /proc read failure); say it
       * once per failure rather than stop sampling for good. */
      g_warning ("System sampler: %s", error->message);
    }
  return G_SOURCE_CONTINUE;
}

static void
stop_timer (KestrelSampler *self)
{
  if (self->timer != NULL)
    {
      g_source_destroy (self->timer);
      g_clear_pointer (&self->timer, g_source_unref);
    }
}

static void
start_timer (KestrelSampler *self)
{
  stop_timer (self);
  self->timer = g_timeout_source_new (self->interval_ms);
  g_source_set_name (self->timer, "[kestrel] system sampler");
  /* No reference: dispose destroys the source before the sampler goes. */
  g_source_set_callback (self->timer, on_tick, self, NULL);
  g_source_attach (self->timer, self->context);
}

static void
kestrel_sampler_constructed (GObject *object)
{
  KestrelSampler *self = KESTREL_SAMPLER (object);

  G_OBJECT_CLASS (kestrel_sampler_parent_class)->constructed (object);

  if (self->context == NULL)
    self->context = g_main_context_ref_thread_default ();
  if (!self->paused)
    {
      take_baseline (self);
      start_timer (self);
    }
}

static void
kestrel_sampler_dispose (GObject *object)
{
  KestrelSampler *self = KESTREL_SAMPLER (object);

  stop_timer (self);

  G_OBJECT_CLASS (kestrel_sampler_parent_class)->dispose (object);
}

static void
kestrel_sampler_finalize (GObject *object)
{
  KestrelSampler *self = KESTREL_SAMPLER (object);

  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->rss_points, g_array_unref);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (kestrel_sampler_parent_class)->finalize (object);
}

static void
kestrel_sampler_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  KestrelSampler *self = KESTREL_SAMPLER (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      g_value_set_boxed (value, self->context);
      break;
    case PROP_INTERVAL:
      g_value_set_uint (value, self->interval_ms);
      break;
    case PROP_GROWTH_WINDOW:
      g_value_set_uint (value, self->growth_window_s);
      break;
    case PROP_WARMUP:
      g_value_set_uint (value, self->warmup_s);
      break;
    case PROP_PAUSED:
      g_value_set_boolean (value, self->paused);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kestrel_sampler_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  KestrelSampler *self = KESTREL_SAMPLER (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      self->context = g_value_dup_boxed (value);
      break;
    case PROP_INTERVAL:
      kestrel_sampler_set_interval (self, g_value_get_uint (value));
      break;
    case PROP_GROWTH_WINDOW:
      kestrel_sampler_set_growth_window (self, g_value_get_uint (value));
      break;
    case PROP_WARMUP:
      kestrel_sampler_set_warmup (self, g_value_get_uint (value));
      break;
    case PROP_PAUSED:
      kestrel_sampler_set_paused (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kestrel_sampler_class_init (KestrelSamplerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = kestrel_sampler_constructed;
  object_class->dispose = kestrel_sampler_dispose;
  object_class->finalize = kestrel_sampler_finalize;
  object_class->get_property = kestrel_sampler_get_property;
  object_class->set_property = kestrel_sampler_set_property;

  properties[PROP_CONTEXT] =
    g_param_spec_boxed ("context", NULL, NULL,
                        G_TYPE_MAIN_CONTEXT,
                        (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  properties[PROP_INTERVAL] =
    g_param_spec_uint ("interval", NULL, NULL,
                       MIN_INTERVAL_MS, MAX_INTERVAL_MS, DEFAULT_INTERVAL_MS,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_GROWTH_WINDOW] =
    g_param_spec_uint ("growth-window", NULL, NULL,
                       1, G_MAXUINT / 2, DEFAULT_WINDOW_S,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_WARMUP] =
    g_param_spec_uint ("warmup", NULL, NULL,
                       0, G_MAXUINT / 2, DEFAULT_WARMUP_S,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_PAUSED] =
    g_param_spec_boolean ("paused", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * KestrelSampler::sampled:
   * @sample: (type gpointer): the new `KestrelSystemSample`, valid during
   *   the emission only
   *
   * Emitted on the sampler's context after each timer sample, and on the
   * calling thread from kestrel_sampler_sample_now().
   */
  signals[SAMPLED] =
    g_signal_new ("sampled",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void
kestrel_sampler_init (KestrelSampler *self)
{
  g_mutex_init (&self->lock);
  self->interval_ms = DEFAULT_INTERVAL_MS;
  self->growth_window_s = DEFAULT_WINDOW_S;
  self->warmup_s = DEFAULT_WARMUP_S;
  self->rss_points = g_array_new (FALSE, FALSE, sizeof (RssPoint));
  self->growth = NAN;
}

KestrelSampler *
kestrel_sampler_new (GMainContext *context)
{
  return g_object_new (KESTREL_TYPE_SAMPLER, "context", context, NULL);
}

GMainContext *
kestrel_sampler_get_context (KestrelSampler *self)
{
  g_return_val_if_fail (KESTREL_IS_SAMPLER (self), NULL);

  return self->context;
}

guint
kestrel_sampler_get_interval (KestrelSampler *self)
{
  g_return_val_if_fail (KESTREL_IS_SAMPLER (self), 0);

  return self->interval_ms;
}

void
kestrel_sampler_set_interval (KestrelSampler *self,
                              guint           interval_ms)
{
  g_return_if_fail (KESTREL_IS_SAMPLER (self));

  interval_ms = CLAMP (interval_ms, MIN_INTERVAL_MS, MAX_INTERVAL_MS);
  if (interval_ms == self->interval_ms)
    return;
  self->interval_ms = interval_ms;
  /* Before constructed() there is no context yet; it starts the timer. */
  if (self->timer != NULL)
    start_timer (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INTERVAL]);
}

guint
kestrel_sampler_get_growth_window (KestrelSampler *self)
{
  g_return_val_if_fail (KESTREL_IS_SAMPLER (self), 0);

  return self->growth_window_s;
}

void
kestrel_sampler_set_growth_window (KestrelSampler *self,
                                   guint           seconds)
{
  g_return_if_fail (KESTREL_IS_SAMPLER (self));

  seconds = MAX (seconds, 1);
  if (seconds == self->growth_window_s)
    return;
  g_mutex_lock (&self->lock);
  self->growth_window_s = seconds;
  g_mutex_unlock (&self->lock);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_GROWTH_WINDOW]);
}

guint
kestrel_sampler_get_warmup (KestrelSampler *self)
{
  g_return_val_if_fail (KESTREL_IS_SAMPLER (self), 0);

  return self->warmup_s;
}

void
kestrel_sampler_set_warmup (KestrelSampler *self,
                            guint           seconds)
{
  g_return_if_fail (KESTREL_IS_SAMPLER (self));

  if (seconds == self->warmup_s)
    return;
  g_mutex_lock (&self->lock);
  self->warmup_s = seconds;
  g_mutex_unlock (&self->lock);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WARMUP]);
}

gboolean
kestrel_sampler_get_paused (KestrelSampler *self)
{
  g_return_val_if_fail (KESTREL_IS_SAMPLER (self), FALSE);

  return self->paused;
}

void
kestrel_sampler_set_paused (KestrelSampler *self,
                            gboolean        paused)
{
  g_return_if_fail (KESTREL_IS_SAMPLER (self));

  paused = !!paused;
  if (paused == self->paused)
    return;
  self->paused = paused;

  /* During construction, constructed() decides. */
  if (self->context != NULL)
    {
      if (paused)
        {
          stop_timer (self);
          g_mutex_lock (&self->lock);
          self->have_baseline = FALSE;
          g_mutex_unlock (&self->lock);
        }
      else
        {
          take_baseline (self);
          start_timer (self);
        }
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAUSED]);
}

gboolean
kestrel_sampler_get_latest (KestrelSampler      *self,
                            KestrelSystemSample *out)
{
  gboolean ok;

  g_return_val_if_fail (KESTREL_IS_SAMPLER (self), FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  g_mutex_lock (&self->lock);
  ok = self->have_latest;
  if (ok)
    *out = self->latest;
  g_mutex_unlock (&self->lock);
  return ok;
}

double
kestrel_sampler_get_memory_growth (KestrelSampler *self)
{
  double growth;

  g_return_val_if_fail (KESTREL_IS_SAMPLER (self), NAN);

  g_mutex_lock (&self->lock);
  growth = self->growth;
  g_mutex_unlock (&self->lock);
  return growth;
}

void
kestrel_sampler_add_rss_sample (KestrelSampler *self,
                                gint64          time_us,
                                guint64         rss_bytes)
{
  g_return_if_fail (KESTREL_IS_SAMPLER (self));

  g_mutex_lock (&self->lock);
  add_rss_point_locked (self, time_us, rss_bytes);
  g_mutex_unlock (&self->lock);
}
