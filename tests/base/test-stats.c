/* test-stats.c — medians, percentiles and the clock used by benchmarks. */
#include <math.h>
#include <time.h>

#include "kestrel-stats.h"

static void
test_stats_median (void)
{
  const double odd[] = { 5, 1, 4, 2, 3 };
  const double even[] = { 10, 1, 4, 3 };
  const double one[] = { 7.5 };
  const double copy_before[] = { 5, 1, 4, 2, 3 };

  g_assert_cmpfloat (kestrel_stats_median (odd, G_N_ELEMENTS (odd)), ==, 3.0);
  /* Even count: the mean of the two middle samples (3 and 4). */
  g_assert_cmpfloat (kestrel_stats_median (even, G_N_ELEMENTS (even)), ==, 3.5);
  g_assert_cmpfloat (kestrel_stats_median (one, 1), ==, 7.5);
  g_assert_true (isnan (kestrel_stats_median (NULL, 0)));

  /* The caller's samples are left in their order. */
  for (gsize i = 0; i < G_N_ELEMENTS (odd); i++)
    g_assert_cmpfloat (odd[i], ==, copy_before[i]);
}

static void
test_stats_median_outlier (void)
{
  /* One preempted run must not move the median, which is why benchmarks use it. */
  const double samples[] = { 100, 101, 99, 100, 1e9, 102, 98 };

  g_assert_cmpfloat (kestrel_stats_median (samples, G_N_ELEMENTS (samples)), ==, 100.0);
}

static void
test_stats_percentile (void)
{
  const double s[] = { 40, 10, 30, 20, 50 };  /* sorted: 10 20 30 40 50 */
  const gsize n = G_N_ELEMENTS (s);

  g_assert_cmpfloat (kestrel_stats_percentile (s, n, 0), ==, 10.0);
  g_assert_cmpfloat (kestrel_stats_percentile (s, n, 100), ==, 50.0);
  g_assert_cmpfloat (kestrel_stats_percentile (s, n, 50), ==, 30.0);
  g_assert_cmpfloat (kestrel_stats_percentile (s, n, 25), ==, 20.0);
  /* rank 0.9 * 4 = 3.6: between 40 and 50. */
  g_assert_cmpfloat_with_epsilon (kestrel_stats_percentile (s, n, 90), 46.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (kestrel_stats_percentile (s, n, 10), 14.0, 1e-9);

  g_assert_true (isnan (kestrel_stats_percentile (s, n, -1)));
  g_assert_true (isnan (kestrel_stats_percentile (s, n, 100.5)));
  g_assert_true (isnan (kestrel_stats_percentile (s, n, NAN)));
  g_assert_true (isnan (kestrel_stats_percentile (NULL, 0, 50)));

  const double one[] = { 3 };
  g_assert_cmpfloat (kestrel_stats_percentile (one, 1, 0), ==, 3.0);
  g_assert_cmpfloat (kestrel_stats_percentile (one, 1, 99), ==, 3.0);
}

static void
test_stats_percentile_monotonic (void)
{
  double s[101];
  double prev = -INFINITY;

  for (gsize i = 0; i < G_N_ELEMENTS (s); i++)
    s[i] = (double) ((i * 37) % 101);  /* a permutation of 0..100 */
  for (int p = 0; p <= 100; p++)
    {
      double v = kestrel_stats_percentile (s, G_N_ELEMENTS (s), p);
      /* With 101 samples 0..100 the p-th percentile is exactly p. */
      g_assert_cmpfloat (v, ==, (double) p);
      g_assert_cmpfloat (v, >=, prev);
      prev = v;
    }
}

static void
test_stats_summarize (void)
{
  const double s[] = { 4, 8, 6, 2, 10 };
  KestrelStatsSummary sum;

  kestrel_stats_summarize (s, G_N_ELEMENTS (s), &sum);
  g_assert_cmpuint (sum.n, ==, 5);
  g_assert_cmpfloat (sum.min, ==, 2.0);
  g_assert_cmpfloat (sum.max, ==, 10.0);
  g_assert_cmpfloat (sum.mean, ==, 6.0);
  g_assert_cmpfloat (sum.median, ==, 6.0);
  g_assert_cmpfloat_with_epsilon (sum.p10, 2.8, 1e-9);
  g_assert_cmpfloat_with_epsilon (sum.p90, 9.2, 1e-9);

  kestrel_stats_summarize (NULL, 0, &sum);
  g_assert_cmpuint (sum.n, ==, 0);
  g_assert_true (isnan (sum.median));
  g_assert_true (isnan (sum.min));
  g_assert_true (isnan (sum.mean));
}

static void
test_stats_clock (void)
{
  guint64 a, b, c;
  struct timespec pause = { 0, 2 * 1000 * 1000 };  /* 2 ms */

  a = kestrel_stats_now_ns ();
  b = kestrel_stats_now_ns ();
  g_assert_cmpuint (b, >=, a);

  nanosleep (&pause, NULL);
  c = kestrel_stats_now_ns ();
  /* Slept at least 2 ms; no upper bound: the machine may be busy. */
  g_assert_cmpuint (c - b, >=, 2 * 1000 * 1000);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/stats/median", test_stats_median);
  g_test_add_func ("/stats/median-outlier", test_stats_median_outlier);
  g_test_add_func ("/stats/percentile", test_stats_percentile);
  g_test_add_func ("/stats/percentile-monotonic", test_stats_percentile_monotonic);
  g_test_add_func ("/stats/summarize", test_stats_summarize);
  g_test_add_func ("/stats/clock", test_stats_clock);
  return g_test_run ();
}
