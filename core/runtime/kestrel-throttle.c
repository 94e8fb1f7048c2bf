/* kestrel-throttle.c — see kestrel-throttle.h.
 *
 * The cost estimate is the CPU time over the last few measurement
 * intervals divided by the frames finished in them. One interval alone is
 * too coarse: at a tight budget a second holds two or three frames, and a
 * frame that straddles the interval's end is counted in one interval but
 * billed partly to the next, so single-interval estimates swing by a third.
 * Summing over several intervals makes that error a frame in a dozen.
 *
 * Overhead that does not scale with frames (the UI, the sampler) is billed
 * to the frames too. At the rate r the estimate gives, cost(r) = c + o / r,
 * and the fixed point of r = B / cost(r) is r = (B - o) / c: exactly the
 * rate that spends the budget, reached geometrically as long as the
 * overhead o is below the budget B.
 */
#include "config.h"

#include "kestrel-throttle.h"

#include <math.h>

#define N_HISTORY         5      /* measurement intervals in the estimate */
#define DEFAULT_BUDGET    25.0
#define MAX_BUDGET        25600.0
#define BUSY_SMOOTHING    0.2    /* weight of the newest frame in the busy average */
#define DEFAULT_PERIOD_US G_USEC_PER_SEC

typedef struct {
  double cpu_us;   /* core-microseconds the process used */
  guint  frames;
} Interval;

struct _KestrelThrottle
{
  KestrelThrottleMode mode;
  double   budget;        /* percent of one core */
  guint    n_threads;
  double   multiplier;

  gboolean started;
  gint64   last_update_us;
  gint64   last_period_us;  /* length of the last measurement interval */
  guint    frames;          /* finished since the last update */

  Interval history[N_HISTORY];
  guint    history_len;
  guint    history_next;

  double   busy_avg_us;     /* 0 until the first frame */
  double   cost_us;         /* core-µs per frame; 0 while unknown */
  gboolean cost_measured;   /* from CPU time, not guessed from busy time */
  gboolean over_budget;
};

KestrelThrottle *
kestrel_throttle_new (void)
{
  KestrelThrottle *self = g_new0 (KestrelThrottle, 1);

  self->mode = KESTREL_THROTTLE_MODE_OFF;
  self->budget = DEFAULT_BUDGET;
  self->n_threads = 1;
  self->multiplier = 1.0;
  self->last_period_us = DEFAULT_PERIOD_US;
  return self;
}

void
kestrel_throttle_free (KestrelThrottle *self)
{
  g_free (self);
}

void
kestrel_throttle_set_mode (KestrelThrottle     *self,
                           KestrelThrottleMode  mode)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (mode == KESTREL_THROTTLE_MODE_OFF || mode == KESTREL_THROTTLE_MODE_BUDGET);

  self->mode = mode;
  if (mode == KESTREL_THROTTLE_MODE_OFF)
    self->over_budget = FALSE;
}

KestrelThrottleMode
kestrel_throttle_get_mode (KestrelThrottle *self)
{
  g_return_val_if_fail (self != NULL, KESTREL_THROTTLE_MODE_OFF);

  return self->mode;
}

void
kestrel_throttle_set_budget (KestrelThrottle *self,
                             double           percent)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!isnan (percent));

  self->budget = CLAMP (percent, 1.0, MAX_BUDGET);
}

double
kestrel_throttle_get_budget (KestrelThrottle *self)
{
  g_return_val_if_fail (self != NULL, 0.0);

  return self->budget;
}

void
kestrel_throttle_set_n_threads (KestrelThrottle *self,
                                guint            n_threads)
{
  g_return_if_fail (self != NULL);

  self->n_threads = MAX (n_threads, 1);
  /* A guess from busy time scales with the threads that were busy. */
  if (!self->cost_measured && self->busy_avg_us > 0)
    self->cost_us = self->busy_avg_us * self->n_threads;
}

guint
kestrel_throttle_get_n_threads (KestrelThrottle *self)
{
  g_return_val_if_fail (self != NULL, 1);

  return self->n_threads;
}

void
kestrel_throttle_set_rate_multiplier (KestrelThrottle *self,
                                      double           multiplier)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (multiplier > 0 && multiplier <= 1);

  self->multiplier = multiplier;
}

double
kestrel_throttle_get_rate_multiplier (KestrelThrottle *self)
{
  g_return_val_if_fail (self != NULL, 1.0);

  return self->multiplier;
}

void
kestrel_throttle_frame_done (KestrelThrottle *self,
                             gint64           busy_us)
{
  g_return_if_fail (self != NULL);

  busy_us = MAX (busy_us, 0);
  self->frames++;
  if (self->busy_avg_us <= 0)
    self->busy_avg_us = (double) busy_us;
  else
    self->busy_avg_us += BUSY_SMOOTHING * ((double) busy_us - self->busy_avg_us);

  /* Before the first CPU measurement, assume every thread was busy for the
   * whole frame: too high rather than too low, so the first seconds stay
   * under the budget and the measurement then speeds frames up. */
  if (!self->cost_measured)
    self->cost_us = self->busy_avg_us * self->n_threads;
}

static double
base_interval_us (KestrelThrottle *self)
{
  return self->cost_us / (self->budget / 100.0);
}

void
kestrel_throttle_update (KestrelThrottle *self,
                         gint64           now_us,
                         double           process_cpu_percent)
{
  Interval *slot;
  double cpu_us = 0;
  guint frames = 0;
  gint64 period_us;

  g_return_if_fail (self != NULL);

  if (!self->started || now_us <= self->last_update_us)
    {
      self->started = TRUE;
      self->last_update_us = now_us;
      self->frames = 0;
      return;
    }
  if (!(process_cpu_percent >= 0))
    process_cpu_percent = 0;

  period_us = now_us - self->last_update_us;
  slot = &self->history[self->history_next];
  slot->cpu_us = process_cpu_percent / 100.0 * (double) period_us;
  slot->frames = self->frames;
  self->history_next = (self->history_next + 1) % N_HISTORY;
  self->history_len = MIN (self->history_len + 1, N_HISTORY);
  self->last_update_us = now_us;
  self->last_period_us = period_us;
  self->frames = 0;

  for (guint i = 0; i < self->history_len; i++)
    {
      cpu_us += self->history[i].cpu_us;
      frames += self->history[i].frames;
    }
  if (frames > 0)
    {
      self->cost_us = cpu_us / frames;
      self->cost_measured = TRUE;
    }

  self->over_budget =
    self->mode == KESTREL_THROTTLE_MODE_BUDGET &&
    process_cpu_percent > self->budget &&
    (slot->frames == 0 ||
     base_interval_us (self) / self->multiplier >= (double) KESTREL_THROTTLE_MAX_INTERVAL_US);
}

void
kestrel_throttle_reset (KestrelThrottle *self)
{
  g_return_if_fail (self != NULL);

  self->history_len = 0;
  self->history_next = 0;
  self->frames = 0;
  self->busy_avg_us = 0;
  self->cost_us = 0;
  self->cost_measured = FALSE;
  self->over_budget = FALSE;
}

gint64
kestrel_throttle_get_frame_interval (KestrelThrottle *self)
{
  double interval;

  g_return_val_if_fail (self != NULL, 0);

  if (self->mode == KESTREL_THROTTLE_MODE_OFF || self->cost_us <= 0)
    return 0;
  interval = base_interval_us (self) / self->multiplier;
  return (gint64) MIN (llround (interval), KESTREL_THROTTLE_MAX_INTERVAL_US);
}

double
kestrel_throttle_get_frame_cost (KestrelThrottle *self)
{
  g_return_val_if_fail (self != NULL, 0.0);

  return self->cost_us;
}

guint
kestrel_throttle_get_suggested_threads (KestrelThrottle *self)
{
  g_return_val_if_fail (self != NULL, 1);

  /* A frame on one thread takes at least the wall time it takes on
   * several, and on one thread CPU time equals wall time. */
  if (self->mode == KESTREL_THROTTLE_MODE_BUDGET &&
      self->busy_avg_us > 0 &&
      self->busy_avg_us >= self->budget / 100.0 * (double) self->last_period_us)
    return 1;
  return self->n_threads;
}

gboolean
kestrel_throttle_get_over_budget (KestrelThrottle *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->over_budget;
}
