/* test-sampler.c — real libgtop samples, the RSS slope, pausing. */
#include <math.h>
#include <time.h>

#include "kestrel-sampler.h"

static guint64
process_cpu_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (guint64) ts.tv_sec * 1000000000u + (guint64) ts.tv_nsec;
}

/* Spends @ns of this process's CPU time, however long the scheduler makes
 * that take on a loaded machine. */
static void
burn_cpu (guint64 ns)
{
  guint64 end = process_cpu_ns () + ns;
  volatile double x = 0;

  while (process_cpu_ns () < end)
    for (guint i = 0; i < 10000; i++)
      x += i * 0.5;
}

static gboolean
has_timer (GMainContext   *context,
           KestrelSampler *sampler)
{
  return g_main_context_find_source_by_funcs_user_data (context, &g_timeout_funcs, sampler) != NULL;
}

static void
on_sampled (KestrelSampler            *sampler,
            const KestrelSystemSample *sample,
            gpointer                   user_data)
{
  guint *count = user_data;

  g_assert_nonnull (sample);
  g_assert_cmpuint (sample->rss_bytes, >, 0);
  (*count)++;
}

static void
test_sampler_process_usage (void)
{
  g_autoptr(GError) error = NULL;
  guint64 cpu0 = 0, cpu1 = 0, rss = 0;

  g_assert_true (kestrel_process_usage_read (&cpu0, &rss, &error));
  g_assert_no_error (error);
  burn_cpu (200000000);
  g_assert_true (kestrel_process_usage_read (&cpu1, NULL, &error));
  g_assert_no_error (error);

  g_test_message ("CPU time %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT " ns, RSS %" G_GUINT64_FORMAT,
                  cpu0, cpu1, rss);
  g_assert_cmpuint (cpu1, >, cpu0);
  g_assert_cmpuint (rss, >, 0);
}

static void
test_sampler_real_sample (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(KestrelSampler) sampler = kestrel_sampler_new (context);
  g_autoptr(GError) error = NULL;
  KestrelSystemSample sample, latest;
  guint n_sampled = 0;

  g_signal_connect (sampler, "sampled", G_CALLBACK (on_sampled), &n_sampled);
  g_assert_false (kestrel_sampler_get_latest (sampler, &latest));

  /* Construction took the baseline; burn CPU and take the sample. */
  burn_cpu (300000000);
  g_assert_true (kestrel_sampler_sample_now (sampler, &sample, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_sampled, ==, 1);

  g_test_message ("process %.1f%% of a core, system %.1f%% over %u cores, RSS %" G_GUINT64_FORMAT,
                  sample.process_cpu_percent, sample.system_cpu_percent, sample.n_cores, sample.rss_bytes);
  g_assert_cmpfloat (sample.process_cpu_percent, >, 0.0);
  g_assert_cmpuint (sample.rss_bytes, >, 0);
  g_assert_cmpuint (sample.process_cpu_time_ns, >, 0);
  g_assert_cmpfloat (sample.interval_s, >, 0.0);
  g_assert_cmpuint (sample.n_cores, >=, 1);
  g_assert_cmpuint (sample.n_cores, ==, MIN (g_get_num_processors (), KESTREL_SYSTEM_MAX_CORES));
  g_assert_cmpfloat (sample.system_cpu_percent, >=, 0.0);
  g_assert_cmpfloat (sample.system_cpu_percent, <=, 100.0);
  for (guint i = 0; i < sample.n_cores; i++)
    {
      g_assert_cmpfloat (sample.core_cpu_percent[i], >=, 0.0);
      g_assert_cmpfloat (sample.core_cpu_percent[i], <=, 100.0);
    }
  /* Too early for a slope. */
  g_assert_true (isnan (sample.memory_growth_mb_per_hour));

  g_assert_true (kestrel_sampler_get_latest (sampler, &latest));
  g_assert_cmpint (latest.time_us, ==, sample.time_us);
  g_assert_cmpuint (latest.rss_bytes, ==, sample.rss_bytes);
}

static void
test_sampler_timer (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(KestrelSampler) sampler = NULL;
  guint n_sampled = 0;

  sampler = g_object_new (KESTREL_TYPE_SAMPLER, "context", context, "interval", 100, NULL);
  g_assert_cmpuint (kestrel_sampler_get_interval (sampler), ==, 100);
  g_assert_true (kestrel_sampler_get_context (sampler) == context);
  g_signal_connect (sampler, "sampled", G_CALLBACK (on_sampled), &n_sampled);
  g_assert_true (has_timer (context, sampler));

  /* The timer fires on the given context (however late a loaded machine
   * makes it: only that it fires is checked). */
  while (n_sampled < 2)
    g_main_context_iteration (context, TRUE);
}

static void
test_sampler_pause (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(KestrelSampler) sampler = kestrel_sampler_new (context);
  g_autoptr(KestrelSampler) born_paused = NULL;
  g_autoptr(GError) error = NULL;
  KestrelSystemSample sample;

  g_assert_false (kestrel_sampler_get_paused (sampler));
  g_assert_true (has_timer (context, sampler));

  kestrel_sampler_set_paused (sampler, TRUE);
  g_assert_true (kestrel_sampler_get_paused (sampler));
  g_assert_false (has_timer (context, sampler));
  /* Nothing else is left on the context either: no wake-ups at all. */
  g_assert_false (g_main_context_iteration (context, FALSE));

  /* Changing the interval while paused does not bring the timer back. */
  kestrel_sampler_set_interval (sampler, 2000);
  g_assert_false (has_timer (context, sampler));

  kestrel_sampler_set_paused (sampler, FALSE);
  g_assert_true (has_timer (context, sampler));
  /* Resuming took a new baseline, so a sample is complete at once. */
  g_assert_true (kestrel_sampler_sample_now (sampler, &sample, &error));
  g_assert_no_error (error);

  g_object_set (sampler, "paused", TRUE, NULL);
  g_assert_false (has_timer (context, sampler));
  g_clear_object (&sampler);

  /* Constructed paused: never had a timer; the first reading is a baseline. */
  born_paused = g_object_new (KESTREL_TYPE_SAMPLER, "context", context, "paused", TRUE, NULL);
  g_assert_false (has_timer (context, born_paused));
  g_assert_false (kestrel_sampler_sample_now (born_paused, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (kestrel_sampler_sample_now (born_paused, NULL, &error));
  g_assert_no_error (error);
}

#define MB 1000000.0
#define T0 ((gint64) 5000000000)

static guint64
rss_at (double seconds, double mb_per_hour, double base_mb)
{
  return (guint64) llround ((base_mb + mb_per_hour * seconds / 3600.0) * MB);
}

static void
test_sampler_slope (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(KestrelSampler) sampler = NULL;
  double growth;

  sampler = g_object_new (KESTREL_TYPE_SAMPLER,
                          "context", context,
                          "paused", TRUE,
                          "warmup", 30,
                          "growth-window", 600,
                          NULL);
  g_assert_cmpuint (kestrel_sampler_get_warmup (sampler), ==, 30);
  g_assert_cmpuint (kestrel_sampler_get_growth_window (sampler), ==, 600);
  g_assert_true (isnan (kestrel_sampler_get_memory_growth (sampler)));

  /* Warm-up: the model loads, RSS jumps by 400 MB. Ignored. */
  for (int s = 0; s < 30; s++)
    kestrel_sampler_add_rss_sample (sampler, T0 + s * G_USEC_PER_SEC,
                                    rss_at (s, 0, 100 + 400.0 * s / 30));

  /* Then a leak of 36 MB an hour (10 kB a second). */
  for (int s = 30; s < 60; s++)
    kestrel_sampler_add_rss_sample (sampler, T0 + s * G_USEC_PER_SEC, rss_at (s, 36, 500));
  /* 30 s of samples after the warm-up: not enough for a slope yet. */
  g_assert_true (isnan (kestrel_sampler_get_memory_growth (sampler)));

  for (int s = 60; s <= 400; s++)
    kestrel_sampler_add_rss_sample (sampler, T0 + s * G_USEC_PER_SEC, rss_at (s, 36, 500));
  growth = kestrel_sampler_get_memory_growth (sampler);
  g_test_message ("leaking 36 MB/h: measured %.4f MB/h", growth);
  g_assert_cmpfloat_with_epsilon (growth, 36.0, 0.01);

  /* The leak stops at 400 s. Halfway through the window the fit sees a
   * bend; once the window has slid past it, a flat line. */
  for (int s = 401; s <= 700; s++)
    kestrel_sampler_add_rss_sample (sampler, T0 + s * G_USEC_PER_SEC, rss_at (400, 36, 500));
  growth = kestrel_sampler_get_memory_growth (sampler);
  g_assert_cmpfloat (growth, >, 0.5);
  g_assert_cmpfloat (growth, <, 36.0);
  for (int s = 701; s <= 1100; s++)
    kestrel_sampler_add_rss_sample (sampler, T0 + s * G_USEC_PER_SEC, rss_at (400, 36, 500));
  growth = kestrel_sampler_get_memory_growth (sampler);
  g_test_message ("leak stopped: measured %.4f MB/h", growth);
  g_assert_cmpfloat_with_epsilon (growth, 0.0, 1e-6);

  /* Shrinking memory (a trim) is a negative slope, not hidden. */
  for (int s = 1101; s <= 1800; s++)
    kestrel_sampler_add_rss_sample (sampler, T0 + s * G_USEC_PER_SEC, rss_at (s, -72, 600));
  g_assert_cmpfloat_with_epsilon (kestrel_sampler_get_memory_growth (sampler), -72.0, 0.01);
}

static void
test_sampler_slope_noise (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(KestrelSampler) sampler = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);

  sampler = g_object_new (KESTREL_TYPE_SAMPLER, "context", context, "paused", TRUE,
                          "warmup", 0, NULL);

  /* Allocator noise of ±2 MB around a 12 MB/h leak, over ten minutes. */
  for (int s = 0; s <= 600; s++)
    kestrel_sampler_add_rss_sample (sampler, T0 + s * G_USEC_PER_SEC,
                                    rss_at (s, 12, 200) + (guint64) (g_rand_double_range (rand, 0, 4) * MB));
  g_assert_cmpfloat_with_epsilon (kestrel_sampler_get_memory_growth (sampler), 12.0, 2.0);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sampler/process-usage", test_sampler_process_usage);
  g_test_add_func ("/sampler/real-sample", test_sampler_real_sample);
  g_test_add_func ("/sampler/timer", test_sampler_timer);
  g_test_add_func ("/sampler/pause", test_sampler_pause);
  g_test_add_func ("/sampler/slope", test_sampler_slope);
  g_test_add_func ("/sampler/slope-noise", test_sampler_slope_noise);

  return g_test_run ();
}
