/* test-histogram.c — buckets, quantiles, merging and concurrent recording. */
#include <math.h>

#include "kestrel-histogram.h"
#include "kestrel-stats.h"

/* The widest ratio between neighbouring R10 bounds (2.00 / 1.58). */
#define BUCKET_RATIO 1.2659

static void
test_histogram_bounds (void)
{
  double prev = 0;

  g_assert_cmpfloat_with_epsilon (kestrel_histogram_get_bucket_bound (0), 1e-5, 1e-18);
  g_assert_cmpfloat_with_epsilon (kestrel_histogram_get_bucket_bound (10), 1e-4, 1e-17);
  g_assert_cmpfloat_with_epsilon (kestrel_histogram_get_bucket_bound (KESTREL_HISTOGRAM_N_BUCKETS - 2),
                                  10.0, 1e-12);
  g_assert_true (isinf (kestrel_histogram_get_bucket_bound (KESTREL_HISTOGRAM_N_BUCKETS - 1)));

  /* Log-spaced: every step is about 10^(1/10), and bounds only grow. */
  for (guint i = 0; i < KESTREL_HISTOGRAM_N_BUCKETS - 1; i++)
    {
      double b = kestrel_histogram_get_bucket_bound (i);

      g_assert_cmpfloat (b, >, prev);
      if (i > 0)
        {
          g_assert_cmpfloat (b / prev, >, 1.24);
          g_assert_cmpfloat (b / prev, <, BUCKET_RATIO + 1e-9);
        }
      prev = b;
    }
}

static void
test_histogram_buckets_inclusive (void)
{
  g_autoptr(KestrelHistogram) h = kestrel_histogram_new ();
  guint64 counts[KESTREL_HISTOGRAM_N_BUCKETS];

  /* `le` is inclusive: a value on a bound counts in that bucket. */
  kestrel_histogram_record_ns (h, 10000);        /* 10 µs: bucket 0 */
  kestrel_histogram_record_ns (h, 10001);        /* bucket 1 */
  kestrel_histogram_record_ns (h, 0);            /* bucket 0 */
  kestrel_histogram_record_ns (h, 20000000000);  /* 20 s: +Inf */
  kestrel_histogram_get_cumulative_counts (h, counts);

  g_assert_cmpuint (counts[0], ==, 2);
  g_assert_cmpuint (counts[1], ==, 3);
  g_assert_cmpuint (counts[KESTREL_HISTOGRAM_N_BUCKETS - 2], ==, 3);
  g_assert_cmpuint (counts[KESTREL_HISTOGRAM_N_BUCKETS - 1], ==, 4);
  for (guint i = 1; i < KESTREL_HISTOGRAM_N_BUCKETS; i++)
    g_assert_cmpuint (counts[i], >=, counts[i - 1]);
}

static void
test_histogram_basics (void)
{
  g_autoptr(KestrelHistogram) h = kestrel_histogram_new ();

  g_assert_cmpuint (kestrel_histogram_get_count (h), ==, 0);
  g_assert_cmpfloat (kestrel_histogram_get_sum (h), ==, 0.0);
  g_assert_true (isnan (kestrel_histogram_get_min (h)));
  g_assert_true (isnan (kestrel_histogram_get_max (h)));
  g_assert_true (isnan (kestrel_histogram_get_quantile (h, 0.5)));

  kestrel_histogram_record (h, 0.001);
  kestrel_histogram_record (h, 0.003);
  kestrel_histogram_record (h, NAN);    /* ignored */
  kestrel_histogram_record (h, -1.0);   /* ignored */

  g_assert_cmpuint (kestrel_histogram_get_count (h), ==, 2);
  g_assert_cmpfloat_with_epsilon (kestrel_histogram_get_sum (h), 0.004, 1e-12);
  g_assert_cmpfloat_with_epsilon (kestrel_histogram_get_min (h), 0.001, 1e-12);
  g_assert_cmpfloat_with_epsilon (kestrel_histogram_get_max (h), 0.003, 1e-12);
  g_assert_true (isnan (kestrel_histogram_get_quantile (h, -0.1)));
  g_assert_true (isnan (kestrel_histogram_get_quantile (h, 1.5)));
  g_assert_cmpfloat_with_epsilon (kestrel_histogram_get_quantile (h, 0), 0.001, 1e-12);
  g_assert_cmpfloat_with_epsilon (kestrel_histogram_get_quantile (h, 1), 0.003, 1e-12);

  kestrel_histogram_reset (h);
  g_assert_cmpuint (kestrel_histogram_get_count (h), ==, 0);
  g_assert_true (isnan (kestrel_histogram_get_min (h)));
}

static void
test_histogram_constant (void)
{
  g_autoptr(KestrelHistogram) h = kestrel_histogram_new ();

  /* All values equal: the recorded extremes pin every quantile exactly. */
  for (guint i = 0; i < 1000; i++)
    kestrel_histogram_record_ns (h, 1234567);
  g_assert_cmpfloat_with_epsilon (kestrel_histogram_get_quantile (h, 0.5), 1.234567e-3, 1e-12);
  g_assert_cmpfloat_with_epsilon (kestrel_histogram_get_quantile (h, 0.99), 1.234567e-3, 1e-12);
}

static void
check_quantiles (const double *data,
                 gsize         n)
{
  g_autoptr(KestrelHistogram) h = kestrel_histogram_new ();
  const double qs[] = { 0.5, 0.95, 0.99 };

  for (gsize i = 0; i < n; i++)
    kestrel_histogram_record (h, data[i]);
  g_assert_cmpuint (kestrel_histogram_get_count (h), ==, n);

  for (guint i = 0; i < G_N_ELEMENTS (qs); i++)
    {
      double exact = kestrel_stats_percentile (data, n, qs[i] * 100);
      double est = kestrel_histogram_get_quantile (h, qs[i]);
      double ratio = est > exact ? est / exact : exact / est;

      g_test_message ("q=%.2f exact=%.6g estimate=%.6g ratio=%.4f", qs[i], exact, est, ratio);
      /* Within the resolution of one bucket. */
      g_assert_cmpfloat (ratio, <=, BUCKET_RATIO);
    }
}

static void
test_histogram_quantiles (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  const gsize n = 20000;
  g_autofree double *data = g_new (double, n);

  /* Log-uniform from 20 µs to 2 s: every bucket in that range is used. */
  for (gsize i = 0; i < n; i++)
    data[i] = 2e-5 * pow (10, 5 * g_rand_double (rand));
  check_quantiles (data, n);

  /* Log-normal around 5 ms, like real inference latencies. */
  for (gsize i = 0; i < n; i++)
    {
      double u1 = g_rand_double_range (rand, 1e-12, 1), u2 = g_rand_double (rand);
      double z = sqrt (-2 * log (u1)) * cos (2 * G_PI * u2);

      data[i] = 5e-3 * exp (0.3 * z);
    }
  check_quantiles (data, n);

  /* Uniform over 1..100 ms. */
  for (gsize i = 0; i < n; i++)
    data[i] = g_rand_double_range (rand, 1e-3, 0.1);
  check_quantiles (data, n);
}

static void
test_histogram_merge (void)
{
  g_autoptr(KestrelHistogram) a = kestrel_histogram_new ();
  g_autoptr(KestrelHistogram) b = kestrel_histogram_new ();
  g_autoptr(KestrelHistogram) all = kestrel_histogram_new ();
  g_autoptr(KestrelHistogram) copy = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  guint64 ca[KESTREL_HISTOGRAM_N_BUCKETS], call[KESTREL_HISTOGRAM_N_BUCKETS];

  for (guint i = 0; i < 5000; i++)
    {
      guint64 ns = (guint64) g_rand_int_range (rand, 1000, 50000000);

      kestrel_histogram_record_ns (i % 3 ? a : b, ns);
      kestrel_histogram_record_ns (all, ns);
    }

  kestrel_histogram_merge (a, b);
  kestrel_histogram_get_cumulative_counts (a, ca);
  kestrel_histogram_get_cumulative_counts (all, call);
  for (guint i = 0; i < KESTREL_HISTOGRAM_N_BUCKETS; i++)
    g_assert_cmpuint (ca[i], ==, call[i]);
  g_assert_cmpfloat (kestrel_histogram_get_sum (a), ==, kestrel_histogram_get_sum (all));
  g_assert_cmpfloat (kestrel_histogram_get_min (a), ==, kestrel_histogram_get_min (all));
  g_assert_cmpfloat (kestrel_histogram_get_max (a), ==, kestrel_histogram_get_max (all));
  g_assert_cmpfloat (kestrel_histogram_get_quantile (a, 0.95), ==,
                     kestrel_histogram_get_quantile (all, 0.95));

  /* Merging an empty histogram changes nothing, min included. */
  {
    g_autoptr(KestrelHistogram) empty = kestrel_histogram_new ();
    kestrel_histogram_merge (a, empty);
    g_assert_cmpfloat (kestrel_histogram_get_min (a), ==, kestrel_histogram_get_min (all));
  }

  /* A copy is independent of its source. */
  copy = kestrel_histogram_copy (a);
  kestrel_histogram_record_ns (a, 1000);
  g_assert_cmpuint (kestrel_histogram_get_count (copy), ==, 5000);
  g_assert_cmpuint (kestrel_histogram_get_count (a), ==, 5001);
}

#define N_THREADS      4
#define PER_THREAD     250000

static gpointer
record_thread (gpointer data)
{
  KestrelHistogram *h = data;

  for (guint i = 0; i < PER_THREAD; i++)
    kestrel_histogram_record_ns (h, 1000 + (guint64) (i % 1000) * 997);
  return NULL;
}

static void
test_histogram_concurrent (void)
{
  g_autoptr(KestrelHistogram) h = kestrel_histogram_new ();
  GThread *threads[N_THREADS];
  guint64 expected_sum_ns = 0;
  guint64 counts[KESTREL_HISTOGRAM_N_BUCKETS];

  for (guint i = 0; i < N_THREADS; i++)
    threads[i] = g_thread_new ("recorder", record_thread, h);
  for (guint i = 0; i < N_THREADS; i++)
    g_thread_join (threads[i]);

  for (guint i = 0; i < PER_THREAD; i++)
    expected_sum_ns += 1000 + (guint64) (i % 1000) * 997;
  expected_sum_ns *= N_THREADS;

  g_assert_cmpuint (kestrel_histogram_get_count (h), ==, (guint64) N_THREADS * PER_THREAD);
  kestrel_histogram_get_cumulative_counts (h, counts);
  g_assert_cmpuint (counts[KESTREL_HISTOGRAM_N_BUCKETS - 1], ==, (guint64) N_THREADS * PER_THREAD);
  g_assert_cmpfloat_with_epsilon (kestrel_histogram_get_sum (h), (double) expected_sum_ns / 1e9, 1e-6);
  g_assert_cmpfloat_with_epsilon (kestrel_histogram_get_min (h), 1e-6, 1e-15);
  g_assert_cmpfloat_with_epsilon (kestrel_histogram_get_max (h), (1000 + 999 * 997) / 1e9, 1e-15);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/histogram/bounds", test_histogram_bounds);
  g_test_add_func ("/histogram/buckets-inclusive", test_histogram_buckets_inclusive);
  g_test_add_func ("/histogram/basics", test_histogram_basics);
  g_test_add_func ("/histogram/constant", test_histogram_constant);
  g_test_add_func ("/histogram/quantiles", test_histogram_quantiles);
  g_test_add_func ("/histogram/merge", test_histogram_merge);
  g_test_add_func ("/histogram/concurrent", test_histogram_concurrent);

  return g_test_run ();
}
