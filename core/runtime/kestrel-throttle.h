/* kestrel-throttle.h — keeps Kestrel within a CPU budget.
 *
 * The budget is a share of one core ("25" is a quarter of a core, "150"
 * one and a half), the unit people see in top. The controller turns it into
 * a frame interval: the least time between the starts of two frames. It
 * learns what a frame costs from the process's measured CPU time divided by
 * the frames done in the same intervals (so everything the process spends
 * per frame counts, not just inference), over the last few measurement
 * intervals, and asks for cost / budget between frames. Because the cost is
 * measured per frame rather than from how far the CPU overshot, a source
 * slower than the budget allows (a 15 fps camera) does not wind the
 * controller up.
 *
 * The controller is pure: it never reads a clock or sleeps. The engine
 * tells it about each frame and, once per measurement interval (the system
 * sampler's tick), the process CPU over that interval with the time it
 * ended, which makes it testable under a simulated clock.
 *
 * Not thread-safe: drive it from the engine thread.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  KESTREL_THROTTLE_MODE_OFF,     /* frames as fast as they come: interval 0 */
  KESTREL_THROTTLE_MODE_BUDGET,  /* frames spaced to stay within the budget */
} KestrelThrottleMode;

/* The interval never grows past this, whatever a frame costs: a resource
 * watcher that looks once every ten seconds is still looking. */
#define KESTREL_THROTTLE_MAX_INTERVAL_US ((gint64) 10 * G_USEC_PER_SEC)

typedef struct _KestrelThrottle KestrelThrottle;

/* Mode off, budget 25%, one thread, rate multiplier 1. */
KestrelThrottle     *kestrel_throttle_new  (void);
void                 kestrel_throttle_free (KestrelThrottle *self);

void                 kestrel_throttle_set_mode (KestrelThrottle     *self,
                                                KestrelThrottleMode  mode);
KestrelThrottleMode  kestrel_throttle_get_mode (KestrelThrottle     *self);

/* Percent of one core, clamped to [1, 25600] (256 cores). */
void                 kestrel_throttle_set_budget (KestrelThrottle *self,
                                                  double           percent);
double               kestrel_throttle_get_budget (KestrelThrottle *self);

/* The thread count the plan runs with (for the first estimate and the
 * thread suggestion). */
void                 kestrel_throttle_set_n_threads (KestrelThrottle *self,
                                                     guint            n_threads);
guint                kestrel_throttle_get_n_threads (KestrelThrottle *self);

/* Scales the frame rate the budget allows, in (0, 1]: the engine sets 0.5
 * while GPowerProfileMonitor reports power saving, which doubles the
 * interval. It applies in budget mode only (mode off has no rate to scale). */
void                 kestrel_throttle_set_rate_multiplier (KestrelThrottle *self,
                                                           double           multiplier);
double               kestrel_throttle_get_rate_multiplier (KestrelThrottle *self);

/* A frame finished; @busy_us is the wall time the pipeline spent on it
 * (from start to result, not counting the wait for the next frame). */
void                 kestrel_throttle_frame_done (KestrelThrottle *self,
                                                  gint64           busy_us);

/* The process used @process_cpu_percent (of one core) from the previous
 * update to @now_us (monotonic µs). The first call only starts the first
 * interval. */
void                 kestrel_throttle_update (KestrelThrottle *self,
                                              gint64           now_us,
                                              double           process_cpu_percent);

/* Forgets what frames cost, after a plan change (threads, precision, level,
 * model) made the old estimate wrong. */
void                 kestrel_throttle_reset (KestrelThrottle *self);

/* Microseconds from one frame's start to the next one's; 0 means no limit
 * (mode off, or no estimate yet). */
gint64               kestrel_throttle_get_frame_interval (KestrelThrottle *self);

/* The CPU a frame costs, in core-microseconds, as last estimated; 0 when
 * unknown. */
double               kestrel_throttle_get_frame_cost (KestrelThrottle *self);

/* 1 when a single frame, even on one thread, costs more than the budget
 * allows in a whole measurement interval: frames are then rarer than
 * measurements, so parallel speed buys nothing and one thread wastes the
 * least on synchronisation. Otherwise the current thread count. A
 * suggestion: the engine decides. */
guint                kestrel_throttle_get_suggested_threads (KestrelThrottle *self);

/* TRUE when, in budget mode, the process used more than the budget over the
 * last interval even though the interval is already at its maximum (or no
 * frame ran): what is left is not frame work, and the rate cannot fix it. */
gboolean             kestrel_throttle_get_over_budget (KestrelThrottle *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KestrelThrottle, kestrel_throttle_free)

G_END_DECLS
