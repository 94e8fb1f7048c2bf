/* kestrel-sampler.h — what Kestrel costs the machine, sampled with libgtop.
 *
 * Once per interval (1 s by default) the sampler reads the system's CPU
 * time (in total and per core), this process's CPU time and its resident
 * set size, turns the differences into percentages over the interval, and
 * emits ::sampled. It also fits a least-squares line through the RSS of the
 * last ten minutes (by default), leaving out a warm-up period after the
 * sampler starts, when loading the model and filling the pools is expected
 * growth: the slope, in MB per hour, is the "does it leak" number.
 *
 * The timer is a GLib timeout on the GMainContext given at construction, so
 * the sampler runs on whichever thread iterates that context (the engine's
 * or the main thread). Create, configure and drop it on that thread.
 * Pausing removes the timer altogether: a hidden window costs no wake-ups.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* Cores beyond this are counted in the total but not reported one by one. */
#define KESTREL_SYSTEM_MAX_CORES 256

typedef struct {
  gint64  time_us;               /* g_get_monotonic_time() when taken */
  double  interval_s;            /* wall time since the previous reading */

  double  system_cpu_percent;    /* busy share of all cores, 0 to 100 */
  guint   n_cores;
  double  core_cpu_percent[KESTREL_SYSTEM_MAX_CORES];  /* 0 to 100 each */

  /* Of one core, as top shows it: 200 is two cores kept busy. */
  double  process_cpu_percent;
  guint64 process_cpu_time_ns;   /* user + system time since the process began */
  guint64 rss_bytes;

  /* RSS slope in MB (10^6 bytes) per hour; NAN until the samples after the
   * warm-up span at least a minute (or half the window, if shorter). */
  double  memory_growth_mb_per_hour;
} KestrelSystemSample;

#define KESTREL_TYPE_SAMPLER (kestrel_sampler_get_type ())

G_DECLARE_FINAL_TYPE (KestrelSampler, kestrel_sampler, KESTREL, SAMPLER, GObject)

/* NULL means the thread-default context of the calling thread. The sampler
 * starts unpaused (unless constructed with "paused" set): the first
 * ::sampled comes one interval later. */
KestrelSampler *kestrel_sampler_new (GMainContext *context);

GMainContext   *kestrel_sampler_get_context (KestrelSampler *self);

/* Milliseconds between samples, at least 100; default 1000. */
guint           kestrel_sampler_get_interval (KestrelSampler *self);
void            kestrel_sampler_set_interval (KestrelSampler *self,
                                              guint           interval_ms);

/* Seconds of RSS history the slope is fitted over; default 600. */
guint           kestrel_sampler_get_growth_window (KestrelSampler *self);
void            kestrel_sampler_set_growth_window (KestrelSampler *self,
                                                   guint           seconds);

/* Seconds after the first sample whose RSS the slope ignores; default 60. */
guint           kestrel_sampler_get_warmup (KestrelSampler *self);
void            kestrel_sampler_set_warmup (KestrelSampler *self,
                                            guint           seconds);

/* While paused there is no timer at all. Resuming starts a new baseline, so
 * the first sample after it does not average over the pause. */
gboolean        kestrel_sampler_get_paused (KestrelSampler *self);
void            kestrel_sampler_set_paused (KestrelSampler *self,
                                            gboolean        paused);

/* Takes a sample now, on the calling thread, emits ::sampled there and
 * copies it to @out (which may be NULL). Percentages need two readings:
 * construction and resuming take the first, but a sampler that was
 * constructed paused, or paused since, only takes its baseline here and
 * returns FALSE with no error. Returns FALSE with the error when libgtop
 * cannot read this process. Works while paused. */
gboolean        kestrel_sampler_sample_now (KestrelSampler      *self,
                                            KestrelSystemSample *out,
                                            GError             **error);

/* The last complete sample; FALSE when there is none yet. Safe from any
 * thread. */
gboolean        kestrel_sampler_get_latest (KestrelSampler      *self,
                                            KestrelSystemSample *out);

/* The current RSS slope (as in KestrelSystemSample); safe from any thread. */
double          kestrel_sampler_get_memory_growth (KestrelSampler *self);

/* Feeds one RSS reading into the slope fit as if it had been sampled at
 * @time_us (monotonic microseconds). For tests, and for replaying a
 * recorded series; mixing it with live sampling mixes two series. */
void            kestrel_sampler_add_rss_sample (KestrelSampler *self,
                                                gint64          time_us,
                                                guint64         rss_bytes);

/* One-shot reading of this process's CPU time (user + system, in ns, at
 * the kernel's clock-tick resolution, usually 10 ms) and resident set size,
 * for tests and end-of-run summaries. Safe from any thread; needs no
 * sampler. Either pointer may be NULL. */
gboolean        kestrel_process_usage_read (guint64  *cpu_time_ns,
                                            guint64  *rss_bytes,
                                            GError  **error);

/* One-shot reading of the whole machine's CPU counters (libgtop, in clock
 * ticks since boot): `busy` of `total`, summed over all cores. Two
 * readings give the busy share in between; benchmarks subtract their own
 * CPU time from it to see what other processes took. Safe from any
 * thread. */
gboolean        kestrel_system_cpu_read (guint64 *busy_ticks,
                                         guint64 *total_ticks);

G_END_DECLS
