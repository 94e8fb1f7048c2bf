/* test-range-histogram.c — the calibration histogram and its percentile and MSE
 * ranges (core/quant/kestrel-range-histogram.h) on distributions whose answer is
 * known in closed form. */
#include <math.h>

#include <glib.h>

#include "kestrel-range-histogram.h"

/* Deterministic uniform in (0, 1). */
static double
uniform (guint64 *state)
{
  *state = *state * 6364136223846793005ull + 1442695040888963407ull;
  return ((double) (*state >> 11) + 0.5) / 9007199254740992.0;
}

/* n samples of the Laplace distribution with scale 1 (inverse CDF). */
static float *
laplace_samples (gsize n, float *min, float *max)
{
  float *v = g_new (float, n);
  guint64 state = 42;
  *min = INFINITY, *max = -INFINITY;
  for (gsize i = 0; i < n; i++)
    {
      double u = uniform (&state) - 0.5;
      v[i] = (float) (u < 0 ? log (1.0 + 2.0 * u) : -log (1.0 - 2.0 * u));
      *min = MIN (*min, v[i]);
      *max = MAX (*max, v[i]);
    }
  return v;
}

/* Exact percentiles: values at the centres of bins 0 .. n - 1 of width 1
 * (positive side) and of width 0.01 (negative side, 100 values in [0, 100)
 * over 10000 bins). */
static void
test_percentile_exact (void)
{
  g_autoptr (KestrelRangeHistogram) h = kestrel_range_histogram_new (-100.0f, 10000.0f, 10000);
  float values[10100];
  for (int i = 1; i <= 10000; i++)
    values[i - 1] = (float) i - 0.5f;
  for (int i = 1; i <= 100; i++)
    values[10000 + i - 1] = -((float) i - 0.5f);
  kestrel_range_histogram_add (h, values, G_N_ELEMENTS (values));
  g_assert_cmpuint (kestrel_range_histogram_get_count (h), ==, 10100);
  g_assert_cmpuint (kestrel_range_histogram_get_count_negative (h), ==, 100);

  float lo, hi;
  /* 99.99 % of 10000: the 9999th value, 9998.5, whose bin ends at 9999;
   * 99.99 % of 100 is 99.99 values: the 100th, 99.5, in [99.5, 99.51). */
  kestrel_range_histogram_range_percentile (h, 99.99, &lo, &hi);
  g_assert_cmpfloat_with_epsilon (hi, 9999.0f, 1e-3);
  g_assert_cmpfloat_with_epsilon (lo, -99.51f, 1e-3);
  /* 99 %: the 9900th value (bin ends at 9900) and the 99th, 98.5, in the
   * bin [98.5, 98.51). */
  kestrel_range_histogram_range_percentile (h, 99.0, &lo, &hi);
  g_assert_cmpfloat_with_epsilon (hi, 9900.0f, 1e-3);
  g_assert_cmpfloat_with_epsilon (lo, -98.51f, 1e-3);
  /* 100 %: the edge of the last bin holding a value. */
  kestrel_range_histogram_range_percentile (h, 100.0, &lo, &hi);
  g_assert_cmpfloat_with_epsilon (hi, 10000.0f, 1e-3);
  g_assert_cmpfloat_with_epsilon (lo, -99.51f, 1e-3);
}

/* Laplace(0, 1): P(|x| > t) = exp (-t) on each side, so the 99.99th
 * percentile of each side is ln 10^4 = 9.21. The MSE clip for 256 levels
 * minimises t^2 / (3 * 255^2) + 2 exp (-t) (noise over [-t, t] plus both
 * tails' clipping), t e^t = 3 * 255^2: t = 9.89 (the 8-bit value Banner et
 * al. give for the Laplace prior, ACIQ). */
static void
test_laplace (void)
{
  const gsize n = 4000000;
  float min, max;
  g_autofree float *v = laplace_samples (n, &min, &max);
  g_autoptr (KestrelRangeHistogram) h = kestrel_range_histogram_new (min, max, 2048);
  kestrel_range_histogram_add (h, v, n);

  float lo, hi;
  kestrel_range_histogram_range_percentile (h, 99.99, &lo, &hi);
  g_test_message ("Laplace range [%g, %g], 99.99%%: [%g, %g]", (double) min, (double) max, (double) lo, (double) hi);
  g_assert_cmpfloat (hi, >, 9.21 - 0.4);
  g_assert_cmpfloat (hi, <, 9.21 + 0.4);
  g_assert_cmpfloat (lo, <, -(9.21 - 0.4));
  g_assert_cmpfloat (lo, >, -(9.21 + 0.4));

  float mlo, mhi;
  kestrel_range_histogram_range_mse (h, 256, &mlo, &mhi);
  g_test_message ("mse: [%g, %g]", (double) mlo, (double) mhi);
  g_assert_cmpfloat (mhi, >, 9.0);
  g_assert_cmpfloat (mhi, <, 10.8);
  g_assert_cmpfloat (mlo, <, -9.0);
  g_assert_cmpfloat (mlo, >, -10.8);

  /* The chosen range is no worse than the whole range, the percentile one
   * or a tighter one. */
  double e = kestrel_range_histogram_quantisation_mse (h, 256, mlo, mhi);
  g_assert_cmpfloat (e, <=, kestrel_range_histogram_quantisation_mse (h, 256, min, max));
  g_assert_cmpfloat (e, <=, kestrel_range_histogram_quantisation_mse (h, 256, lo, hi));
  g_assert_cmpfloat (e, <=, kestrel_range_histogram_quantisation_mse (h, 256, mlo * 0.8f, mhi * 0.8f));
  g_assert_cmpfloat (e, <, kestrel_range_histogram_quantisation_mse (h, 256, min, max) * 0.75);

  /* With 16 levels the noise weighs more: a much tighter clip (t e^t =
   * 3 * 15^2 = 675: t = 4.96). */
  kestrel_range_histogram_range_mse (h, 16, &mlo, &mhi);
  g_assert_cmpfloat (mhi, >, 4.5);
  g_assert_cmpfloat (mhi, <, 5.5);
}

/* Uniform on [-1, 3]: clipping costs more than it saves, the range stays
 * whole (within a few bins); percentile 100 is the whole range. A one-sided
 * (Relu-like) distribution keeps lo at 0. */
static void
test_uniform_and_one_sided (void)
{
  const gsize n = 1000000;
  g_autofree float *v = g_new (float, n);
  guint64 state = 7;
  for (gsize i = 0; i < n; i++)
    v[i] = (float) (-1.0 + 4.0 * uniform (&state));
  g_autoptr (KestrelRangeHistogram) h = kestrel_range_histogram_new (-1.0f, 3.0f, 2048);
  kestrel_range_histogram_add (h, v, n);
  float lo, hi;
  kestrel_range_histogram_range_mse (h, 256, &lo, &hi);
  g_assert_cmpfloat_with_epsilon (lo, -1.0f, 0.02);
  g_assert_cmpfloat_with_epsilon (hi, 3.0f, 0.02);

  for (gsize i = 0; i < n; i++)
    v[i] = fabsf (v[i]);
  g_autoptr (KestrelRangeHistogram) r = kestrel_range_histogram_new (0.0f, 3.0f, 2048);
  kestrel_range_histogram_add (r, v, n);
  g_assert_cmpuint (kestrel_range_histogram_get_count_negative (r), ==, 0);
  kestrel_range_histogram_range_mse (r, 256, &lo, &hi);
  g_assert_cmpfloat (lo, ==, 0.0f);
  g_assert_cmpfloat_with_epsilon (hi, 3.0f, 0.02);
  kestrel_range_histogram_range_percentile (r, 99.99, &lo, &hi);
  g_assert_cmpfloat (lo, ==, 0.0f);
  g_assert_cmpfloat_with_epsilon (hi, 3.0f, 0.01);
}

/* Values that are not finite are not counted; values past the range are
 * counted at its edge (clipped); a histogram of zeros gives [0, 0]. */
static void
test_edges (void)
{
  g_autoptr (KestrelRangeHistogram) h = kestrel_range_histogram_new (-1.0f, 1.0f, 16);
  const float values[] = { NAN, INFINITY, -INFINITY, 5.0f, -5.0f, 0.0f, 0.5f };
  kestrel_range_histogram_add (h, values, G_N_ELEMENTS (values));
  g_assert_cmpuint (kestrel_range_histogram_get_count (h), ==, 4);
  g_assert_cmpuint (kestrel_range_histogram_get_count_negative (h), ==, 1);
  float lo, hi;
  kestrel_range_histogram_range_percentile (h, 100.0, &lo, &hi);
  g_assert_cmpfloat (lo, ==, -1.0f);
  g_assert_cmpfloat (hi, ==, 1.0f);

  g_autoptr (KestrelRangeHistogram) z = kestrel_range_histogram_new (0.0f, 0.0f, 2048);
  const float zeros[4] = { 0 };
  kestrel_range_histogram_add (z, zeros, 4);
  kestrel_range_histogram_range_mse (z, 256, &lo, &hi);
  g_assert_cmpfloat (lo, ==, 0.0f);
  g_assert_cmpfloat (hi, ==, 0.0f);
  kestrel_range_histogram_range_percentile (z, 99.99, &lo, &hi);
  g_assert_cmpfloat (lo, ==, 0.0f);
  g_assert_cmpfloat (hi, ==, 0.0f);
  g_assert_cmpfloat (kestrel_range_histogram_quantisation_mse (z, 256, 0.0f, 0.0f), ==, 0.0);
}

/* The search over bin edges (coarse grid, then around the best) finds the
 * same minimum as trying every pair, on a skewed two-sided histogram small
 * enough to try them all. */
static void
test_mse_exhaustive (void)
{
  const gsize n = 200000;
  g_autofree float *v = g_new (float, n);
  guint64 state = 3;
  float min = 0, max = 0;
  for (gsize i = 0; i < n; i++)
    {
      double u = uniform (&state);
      /* exponential tail to the right, a short uniform one to the left */
      v[i] = i % 5 == 0 ? (float) (-0.3 * uniform (&state)) : (float) (-log (u) * 0.7);
      min = MIN (min, v[i]);
      max = MAX (max, v[i]);
    }
  const guint bins = 600;   /* stride 2: the coarse grid skips edges */
  g_autoptr (KestrelRangeHistogram) h = kestrel_range_histogram_new (min, max, bins);
  kestrel_range_histogram_add (h, v, n);
  float lo, hi;
  kestrel_range_histogram_range_mse (h, 64, &lo, &hi);
  double found = kestrel_range_histogram_quantisation_mse (h, 64, lo, hi), best = INFINITY;
  for (guint kn = 0; kn <= bins; kn++)
    for (guint kp = 0; kp <= bins; kp++)
      {
        float l = kn == bins ? min : (float) ((double) min * kn / bins);
        float r = kp == bins ? max : (float) ((double) max * kp / bins);
        best = MIN (best, kestrel_range_histogram_quantisation_mse (h, 64, l, r));
      }
  g_test_message ("search %g, exhaustive %g, range [%g, %g]", found, best, (double) lo,
                  (double) hi);
  g_assert_cmpfloat (found, <=, best * (1.0 + 1e-9));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/quant/range-histogram/percentile-exact", test_percentile_exact);
  g_test_add_func ("/quant/range-histogram/laplace", test_laplace);
  g_test_add_func ("/quant/range-histogram/uniform-one-sided", test_uniform_and_one_sided);
  g_test_add_func ("/quant/range-histogram/edges", test_edges);
  g_test_add_func ("/quant/range-histogram/mse-exhaustive", test_mse_exhaustive);
  return g_test_run ();
}
