/* test-throttle.c — the CPU budget controller under a simulated clock.
 *
 * The simulated process runs frames on one thread, each costing about
 * `cost_us` of CPU (with ±10% noise), plus a steady overhead that does not
 * depend on frames (a UI, the sampler). Its CPU use over each simulated
 * second is what a real sampler would report: frames that straddle a
 * second are billed to both. Nothing sleeps; no real time is measured.
 */
#include <math.h>
#include <string.h>

#include "kestrel-throttle.h"

#define PERIOD_US G_USEC_PER_SEC

typedef struct {
  KestrelThrottle *throttle;
  GRand           *rand;
  double           cost_us;        /* mean CPU per frame */
  double           overhead;       /* percent of one core, always */
  gint64           now_us;
  gint64           next_period_us;
  double           period_cpu_us;
  gint64           last_start_us;
  guint            period_frames;
  /* Per-period record, for the checks. */
  GArray          *cpu_percent;    /* double */
  GArray          *frames;         /* guint */
} Sim;

static void
sim_init (Sim             *sim,
          KestrelThrottle *throttle,
          double           cost_us,
          double           overhead)
{
  memset (sim, 0, sizeof *sim);
  sim->throttle = throttle;
  sim->rand = g_rand_new_with_seed (1234);
  sim->cost_us = cost_us;
  sim->overhead = overhead;
  sim->now_us = 1000000000;   /* monotonic clocks do not start at 0 */
  sim->next_period_us = sim->now_us + PERIOD_US;
  sim->last_start_us = G_MININT64 / 2;
  sim->cpu_percent = g_array_new (FALSE, FALSE, sizeof (double));
  sim->frames = g_array_new (FALSE, FALSE, sizeof (guint));
  kestrel_throttle_update (throttle, sim->now_us, 0);   /* starts the first interval */
}

static void
sim_clear (Sim *sim)
{
  g_rand_free (sim->rand);
  g_array_unref (sim->cpu_percent);
  g_array_unref (sim->frames);
}

/* Moves the clock to @t, busy (one core) or idle, reporting each period's
 * CPU to the throttle as it ends. */
static void
sim_advance (Sim     *sim,
             gint64   t,
             gboolean busy)
{
  while (sim->now_us < t)
    {
      gint64 end = MIN (t, sim->next_period_us);
      double dt = (double) (end - sim->now_us);

      sim->period_cpu_us += dt * ((busy ? 1.0 : 0.0) + sim->overhead / 100.0);
      sim->now_us = end;
      if (end == sim->next_period_us)
        {
          double percent = 100.0 * sim->period_cpu_us / PERIOD_US;

          kestrel_throttle_update (sim->throttle, end, percent);
          g_array_append_val (sim->cpu_percent, percent);
          g_array_append_val (sim->frames, sim->period_frames);
          sim->period_cpu_us = 0;
          sim->period_frames = 0;
          sim->next_period_us += PERIOD_US;
        }
    }
}

/* Runs frames for @seconds of simulated time, as the engine would: wait
 * until the throttle's interval has passed since the last frame started,
 * run the frame, report it. */
static void
sim_run (Sim   *sim,
         guint  seconds)
{
  gint64 end = sim->now_us + (gint64) seconds * G_USEC_PER_SEC;

  while (sim->now_us < end)
    {
      gint64 interval = kestrel_throttle_get_frame_interval (sim->throttle);
      gint64 start = MAX (sim->now_us, sim->last_start_us + interval);
      double cost = sim->cost_us * g_rand_double_range (sim->rand, 0.9, 1.1);

      sim_advance (sim, start, FALSE);
      sim->last_start_us = start;
      sim_advance (sim, start + (gint64) cost, TRUE);
      sim->period_frames++;
      kestrel_throttle_frame_done (sim->throttle, (gint64) cost);
    }
}

/* Mean of the last @n periods' CPU, and the worst deviation from @target. */
static double
sim_tail_mean (Sim    *sim,
               guint   n,
               double  target,
               double *worst)
{
  double sum = 0;

  g_assert_cmpuint (sim->cpu_percent->len, >=, n);
  *worst = 0;
  for (guint i = sim->cpu_percent->len - n; i < sim->cpu_percent->len; i++)
    {
      double v = g_array_index (sim->cpu_percent, double, i);

      sum += v;
      *worst = MAX (*worst, fabs (v - target));
    }
  return sum / n;
}

static double
sim_tail_fps (Sim   *sim,
              guint  n)
{
  guint64 sum = 0;

  for (guint i = sim->frames->len - n; i < sim->frames->len; i++)
    sum += g_array_index (sim->frames, guint, i);
  return (double) sum / n;
}

static void
check_budget (double budget,
              double cost_us,
              double overhead)
{
  g_autoptr(KestrelThrottle) throttle = kestrel_throttle_new ();
  Sim sim;
  double mean, worst;

  kestrel_throttle_set_mode (throttle, KESTREL_THROTTLE_MODE_BUDGET);
  kestrel_throttle_set_budget (throttle, budget);
  sim_init (&sim, throttle, cost_us, overhead);

  /* Converge, then every one of the next 60 seconds stays within 3 points. */
  sim_run (&sim, 30);
  sim_run (&sim, 60);
  mean = sim_tail_mean (&sim, 60, budget, &worst);
  g_test_message ("budget %.0f%%, frame %.1f ms, overhead %.1f%%: mean %.2f%%, worst deviation %.2f, "
                  "interval %" G_GINT64_FORMAT " us",
                  budget, cost_us / 1000, overhead, mean, worst,
                  kestrel_throttle_get_frame_interval (throttle));
  g_assert_cmpfloat (worst, <=, 3.0);
  g_assert_cmpfloat (fabs (mean - budget), <=, 1.0);
  g_assert_false (kestrel_throttle_get_over_budget (throttle));

  sim_clear (&sim);
}

static void
test_throttle_converges (void)
{
  const double budgets[] = { 10, 25, 50 };

  for (guint i = 0; i < G_N_ELEMENTS (budgets); i++)
    {
      /* CPU use proportional to the frame rate. */
      check_budget (budgets[i], 8000, 0);
      /* Plus a fixed overhead the rate cannot remove, and cheaper frames. */
      check_budget (budgets[i], 3000, 2.0);
    }
}

static void
test_throttle_budget_change (void)
{
  g_autoptr(KestrelThrottle) throttle = kestrel_throttle_new ();
  Sim sim;
  double mean, worst;

  kestrel_throttle_set_mode (throttle, KESTREL_THROTTLE_MODE_BUDGET);
  kestrel_throttle_set_budget (throttle, 50);
  sim_init (&sim, throttle, 5000, 0);
  sim_run (&sim, 30);

  /* The per-frame cost is known by now, so a new budget holds at once. */
  kestrel_throttle_set_budget (throttle, 10);
  sim_run (&sim, 40);
  mean = sim_tail_mean (&sim, 39, 10, &worst);
  g_test_message ("50%% -> 10%%: mean %.2f%%, worst deviation %.2f", mean, worst);
  g_assert_cmpfloat (worst, <=, 3.0);

  sim_clear (&sim);
}

static void
test_throttle_power_saver (void)
{
  g_autoptr(KestrelThrottle) throttle = kestrel_throttle_new ();
  Sim sim;
  double fps_normal, fps_saver, mean, worst;
  gint64 interval_normal;

  kestrel_throttle_set_mode (throttle, KESTREL_THROTTLE_MODE_BUDGET);
  kestrel_throttle_set_budget (throttle, 25);
  sim_init (&sim, throttle, 8000, 0);
  sim_run (&sim, 40);
  fps_normal = sim_tail_fps (&sim, 20);
  interval_normal = kestrel_throttle_get_frame_interval (throttle);

  kestrel_throttle_set_rate_multiplier (throttle, 0.5);
  g_assert_cmpfloat (kestrel_throttle_get_rate_multiplier (throttle), ==, 0.5);
  /* The interval doubles at once... */
  g_assert_cmpint (llabs (kestrel_throttle_get_frame_interval (throttle) - 2 * interval_normal), <=, 1);

  /* ...and stays doubled: the cost per frame has not changed. */
  sim_run (&sim, 40);
  fps_saver = sim_tail_fps (&sim, 20);
  mean = sim_tail_mean (&sim, 20, 12.5, &worst);
  g_test_message ("power saver: %.2f fps -> %.2f fps, CPU %.2f%%", fps_normal, fps_saver, mean);
  g_assert_cmpfloat (fabs (fps_saver / fps_normal - 0.5), <=, 0.05);
  g_assert_cmpfloat (worst, <=, 3.0);

  kestrel_throttle_set_rate_multiplier (throttle, 1.0);
  sim_run (&sim, 30);
  mean = sim_tail_mean (&sim, 20, 25, &worst);
  g_assert_cmpfloat (worst, <=, 3.0);

  sim_clear (&sim);
}

static void
test_throttle_off (void)
{
  g_autoptr(KestrelThrottle) throttle = kestrel_throttle_new ();
  Sim sim;

  g_assert_cmpint (kestrel_throttle_get_mode (throttle), ==, KESTREL_THROTTLE_MODE_OFF);
  sim_init (&sim, throttle, 8000, 0);
  g_assert_cmpint (kestrel_throttle_get_frame_interval (throttle), ==, 0);
  sim_run (&sim, 10);

  /* Frames back to back, one core busy; the interval never moved. */
  g_assert_cmpint (kestrel_throttle_get_frame_interval (throttle), ==, 0);
  g_assert_cmpfloat (g_array_index (sim.cpu_percent, double, sim.cpu_percent->len - 1), >, 95.0);
  /* The power-saver multiplier has nothing to scale in mode off. */
  kestrel_throttle_set_rate_multiplier (throttle, 0.5);
  g_assert_cmpint (kestrel_throttle_get_frame_interval (throttle), ==, 0);
  g_assert_false (kestrel_throttle_get_over_budget (throttle));

  /* It still learnt the cost, so switching to a budget acts at once. */
  g_assert_cmpfloat (fabs (kestrel_throttle_get_frame_cost (throttle) - 8000), <, 400);
  kestrel_throttle_set_rate_multiplier (throttle, 1.0);
  kestrel_throttle_set_mode (throttle, KESTREL_THROTTLE_MODE_BUDGET);
  kestrel_throttle_set_budget (throttle, 20);
  g_assert_cmpint (llabs (kestrel_throttle_get_frame_interval (throttle) - 40000), <, 2000);

  sim_clear (&sim);
}

static void
test_throttle_first_guess (void)
{
  g_autoptr(KestrelThrottle) throttle = kestrel_throttle_new ();

  kestrel_throttle_set_mode (throttle, KESTREL_THROTTLE_MODE_BUDGET);
  kestrel_throttle_set_budget (throttle, 50);
  kestrel_throttle_set_n_threads (throttle, 2);
  /* No estimate, no limit. */
  g_assert_cmpint (kestrel_throttle_get_frame_interval (throttle), ==, 0);

  /* Before any CPU measurement: both threads assumed busy the whole frame,
   * 2 x 10 ms per frame at half a core is one frame per 40 ms. */
  kestrel_throttle_frame_done (throttle, 10000);
  g_assert_cmpint (kestrel_throttle_get_frame_interval (throttle), ==, 40000);

  kestrel_throttle_reset (throttle);
  g_assert_cmpint (kestrel_throttle_get_frame_interval (throttle), ==, 0);
}

static void
test_throttle_suggested_threads (void)
{
  g_autoptr(KestrelThrottle) throttle = kestrel_throttle_new ();
  gint64 now = 5000000;

  kestrel_throttle_set_mode (throttle, KESTREL_THROTTLE_MODE_BUDGET);
  kestrel_throttle_set_n_threads (throttle, 4);
  kestrel_throttle_set_budget (throttle, 50);
  kestrel_throttle_update (throttle, now, 0);

  /* 20 ms per frame fits many times in half a second of CPU a second. */
  kestrel_throttle_frame_done (throttle, 20000);
  kestrel_throttle_update (throttle, now += G_USEC_PER_SEC, 8);
  g_assert_cmpuint (kestrel_throttle_get_suggested_threads (throttle), ==, 4);

  /* At 5% a second allows 50 ms of CPU: a frame that takes 120 ms of wall
   * time even on four threads takes longer on one, so one frame per
   * measurement interval is already over budget. */
  kestrel_throttle_set_budget (throttle, 5);
  kestrel_throttle_reset (throttle);
  kestrel_throttle_frame_done (throttle, 120000);
  g_assert_cmpuint (kestrel_throttle_get_suggested_threads (throttle), ==, 1);
  /* 4 threads x 120 ms at 5%: 9.6 s between frames. */
  g_assert_cmpint (kestrel_throttle_get_frame_interval (throttle), ==, 9600000);
  kestrel_throttle_set_budget (throttle, 2);
  g_assert_cmpint (kestrel_throttle_get_frame_interval (throttle), ==, KESTREL_THROTTLE_MAX_INTERVAL_US);

  kestrel_throttle_set_mode (throttle, KESTREL_THROTTLE_MODE_OFF);
  g_assert_cmpuint (kestrel_throttle_get_suggested_threads (throttle), ==, 4);
}

static void
test_throttle_over_budget (void)
{
  g_autoptr(KestrelThrottle) throttle = kestrel_throttle_new ();
  gint64 now = 1000000;

  kestrel_throttle_set_mode (throttle, KESTREL_THROTTLE_MODE_BUDGET);
  kestrel_throttle_set_budget (throttle, 10);
  kestrel_throttle_update (throttle, now, 0);

  /* 30% with no frame at all: the rate cannot help. */
  kestrel_throttle_update (throttle, now += G_USEC_PER_SEC, 30);
  g_assert_true (kestrel_throttle_get_over_budget (throttle));

  /* Frames come back and the CPU is within the budget. */
  kestrel_throttle_frame_done (throttle, 1000);
  kestrel_throttle_update (throttle, now += G_USEC_PER_SEC, 5);
  g_assert_false (kestrel_throttle_get_over_budget (throttle));
}

static void
test_throttle_clamps (void)
{
  g_autoptr(KestrelThrottle) throttle = kestrel_throttle_new ();

  g_assert_cmpfloat (kestrel_throttle_get_budget (throttle), ==, 25.0);
  kestrel_throttle_set_budget (throttle, 0);
  g_assert_cmpfloat (kestrel_throttle_get_budget (throttle), ==, 1.0);
  kestrel_throttle_set_budget (throttle, 1e9);
  g_assert_cmpfloat (kestrel_throttle_get_budget (throttle), ==, 25600.0);
  kestrel_throttle_set_n_threads (throttle, 0);
  g_assert_cmpuint (kestrel_throttle_get_n_threads (throttle), ==, 1);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/throttle/converges", test_throttle_converges);
  g_test_add_func ("/throttle/budget-change", test_throttle_budget_change);
  g_test_add_func ("/throttle/power-saver", test_throttle_power_saver);
  g_test_add_func ("/throttle/off", test_throttle_off);
  g_test_add_func ("/throttle/first-guess", test_throttle_first_guess);
  g_test_add_func ("/throttle/suggested-threads", test_throttle_suggested_threads);
  g_test_add_func ("/throttle/over-budget", test_throttle_over_budget);
  g_test_add_func ("/throttle/clamps", test_throttle_clamps);

  return g_test_run ();
}
