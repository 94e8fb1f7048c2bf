/* test-normalize.c — mean_var_f32 and normalize_f32 of every ISA table this
 * CPU runs against the scalar reference, and the reference against values
 * worked out independently.
 *
 * normalize_f32 must match bit for bit (one subtraction and one
 * multiplication per element on every ISA). mean_var_f32 may differ by
 * summation order only: every version sums d = x - x[0] in double, so the
 * error of a sum of n terms is at most about n * 2^-53 times the sum of their
 * magnitudes. With n up to 2^21 that is below 2.4e-10 of max |d| for the mean
 * and below 7e-10 of max d^2 for the variance (the square of the mean adds
 * twice the mean's relative error); the test allows 1e-9 of each. A float
 * accumulator, or sums of x^2 without the shift, misses that by orders of
 * magnitude on the offset data below.
 */
#include "kk-test-util.h"

#include <math.h>

#define MV_TOLERANCE 1e-9

/* A guarded buffer: 64 bytes before and after the `bytes` the kernel owns,
 * starting `misalign` bytes past a 64-byte boundary. */
typedef struct {
  KkTestBuf buf;
  guint8 *p;
  size_t bytes;
} Guarded;

static Guarded
guarded_new (size_t bytes, size_t misalign)
{
  Guarded g;
  g.buf = kk_test_buf_new (bytes);
  g.p = kk_test_buf_at (&g.buf, misalign);
  g.bytes = bytes;
  return g;
}

static void
guarded_check (const Guarded *g, const char *what)
{
  for (size_t i = 1; i <= KK_TEST_GUARD; i++)
    if (g->p[-(ptrdiff_t) i] != KK_TEST_GUARD_BYTE)
      g_error ("%s: kernel wrote %zu bytes before its output", what, i);
  kk_test_assert_untouched_after (g->p + g->bytes, KK_TEST_GUARD);
}

typedef enum {
  DATA_UNIFORM,     /* uniform in [-1, 1) */
  DATA_WIDE,        /* mixed magnitudes, 1e-6 .. 1e6, both signs */
  DATA_OFFSET,      /* 1e4 + noise of 1e-2 */
  DATA_CONSTANT,    /* 7.25 everywhere */
  DATA_OUTLIER,     /* x[0] far from the rest: the shift at its worst */
  DATA_COUNT
} DataKind;

static const char *const data_names[DATA_COUNT] = {
  "uniform", "wide", "offset", "constant", "outlier",
};

static void
fill_data (GRand *rand, float *x, size_t n, DataKind kind)
{
  for (size_t i = 0; i < n; i++)
    {
      switch (kind)
        {
        case DATA_UNIFORM:
          x[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
          break;
        case DATA_WIDE:
          x[i] = (float) (pow (10.0, g_rand_double_range (rand, -6.0, 6.0))
                          * (g_rand_boolean (rand) ? 1.0 : -1.0));
          break;
        case DATA_OFFSET:
          x[i] = (float) (1e4 + g_rand_double_range (rand, -1e-2, 1e-2));
          break;
        case DATA_CONSTANT:
          x[i] = 7.25f;
          break;
        case DATA_OUTLIER:
        case DATA_COUNT:
        default:
          x[i] = i == 0 ? 5e3f : (float) g_rand_double_range (rand, -1.0, 1.0);
          break;
        }
    }
}

/* Two passes in long double: the oracle for the oracle. */
static void
mean_var_two_pass (const float *x, size_t n, long double *mean, long double *var)
{
  long double s = 0.0L, s2 = 0.0L;
  for (size_t i = 0; i < n; i++)
    s += x[i];
  *mean = n ? s / (long double) n : 0.0L;
  for (size_t i = 0; i < n; i++)
    {
      long double d = (long double) x[i] - *mean;
      s2 += d * d;
    }
  *var = n ? s2 / (long double) n : 0.0L;
}

/* ---- the reference itself ---- */

static void
test_reference_known_values (void)
{
  const kk_kernels *ref = kk_kernels_get (KK_ISA_SCALAR);
  double mean = -1.0, var = -1.0;

  const float four[] = { 1.0f, 2.0f, 3.0f, 4.0f };
  ref->mean_var_f32 (four, 4, &mean, &var);
  g_assert_cmpfloat (mean, ==, 2.5);
  g_assert_cmpfloat (var, ==, 1.25);

  const float two[] = { -3.0f, 5.0f };
  ref->mean_var_f32 (two, 2, &mean, &var);
  g_assert_cmpfloat (mean, ==, 1.0);
  g_assert_cmpfloat (var, ==, 16.0);

  ref->mean_var_f32 (four, 0, &mean, &var);
  g_assert_cmpfloat (mean, ==, 0.0);
  g_assert_cmpfloat (var, ==, 0.0);

  const float one[] = { -42.5f };
  ref->mean_var_f32 (one, 1, &mean, &var);
  g_assert_cmpfloat (mean, ==, -42.5);
  g_assert_cmpfloat (var, ==, 0.0);

  /* Constant data: the shifted sums are exactly zero, so exact answers. */
  float constant[1000];
  for (size_t i = 0; i < G_N_ELEMENTS (constant); i++)
    constant[i] = 1e4f + 0.125f;
  ref->mean_var_f32 (constant, G_N_ELEMENTS (constant), &mean, &var);
  g_assert_cmpfloat (mean, ==, 10000.125);
  g_assert_cmpfloat (var, ==, 0.0);

  const float y_in[] = { 1.0f, 2.0f, 3.0f, -1.0f };
  const float y_want[] = { -0.5f, 0.0f, 0.5f, -1.5f };
  float y[4];
  ref->normalize_f32 (y_in, y, 4, 2.0f, 0.5f);
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat (y[i], ==, y_want[i]);

  /* The difference rounds to float before the multiplication: 2^24 + 2 - 1
   * is a tie that goes to 2^24, then * 0.75 is exact. Computing in double,
   * or with an FMA, gives 12582913 instead. */
  const float big[] = { 16777218.0f };
  ref->normalize_f32 (big, y, 1, 1.0f, 0.75f);
  g_assert_cmpfloat (y[0], ==, 12582912.0f);
}

/* Against a two-pass long double computation. The shifted one-pass sums
 * lose about n * 2^-53 of mean(d^2) = var + (mean - x[0])^2 in the
 * variance (and of its square root in the mean), which is a few var unless
 * x[0] is an outlier: then the error is that much larger relative to var,
 * and still tiny relative to the data. */
static void
test_reference_accuracy (void)
{
  const kk_kernels *ref = kk_kernels_get (KK_ISA_SCALAR);
  g_autoptr (GRand) rand = g_rand_new_with_seed (0x4E0A);

  for (int kind = 0; kind < DATA_COUNT; kind++)
    {
      const size_t n = 1 << 20;
      float *x = g_new (float, n);
      double mean, var;
      long double want_mean, want_var;

      fill_data (rand, x, n, (DataKind) kind);
      ref->mean_var_f32 (x, n, &mean, &var);
      mean_var_two_pass (x, n, &want_mean, &want_var);
      g_test_message ("%s: mean %.17g (two-pass %.17Lg), var %.17g (two-pass %.17Lg)",
                      data_names[kind], mean, want_mean, var, want_var);
      long double shift_d = want_mean - (long double) x[0];
      long double mean_d2 = want_var + shift_d * shift_d;
      g_assert_cmpfloat (fabsl (mean - want_mean), <=, 1e-9L * sqrtl (mean_d2));
      g_assert_cmpfloat (fabsl (var - want_var), <=, 1e-9L * mean_d2);
      g_free (x);
    }
}

/* ---- every ISA against the reference ---- */

static void
check_mean_var (const kk_kernels *ref, const kk_kernels *isa, gpointer data)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (0x3EA7 + isa->isa);
  g_autoptr (GArray) sizes = kk_test_sizes ();

  for (guint s = 0; s < sizes->len; s++)
    {
      size_t n = g_array_index (sizes, size_t, s);
      size_t misalign = 4 * (s % 16);

      for (int kind = 0; kind < DATA_COUNT; kind++)
        {
          Guarded in = guarded_new (n * sizeof (float), misalign);
          float *x = (float *) (void *) in.p;
          double want_mean, want_var, mean = NAN, var = NAN;

          fill_data (rand, x, n, (DataKind) kind);
          ref->mean_var_f32 (x, n, &want_mean, &want_var);
          isa->mean_var_f32 (x, n, &mean, &var);

          double max_d = 0.0;
          for (size_t i = 0; i < n; i++)
            max_d = MAX (max_d, fabs ((double) x[i] - (double) x[0]));
          double tol_mean = MV_TOLERANCE * max_d;
          double tol_var = MV_TOLERANCE * max_d * max_d;

          if (!(fabs (mean - want_mean) <= tol_mean) || !(fabs (var - want_var) <= tol_var))
            g_error ("mean_var_f32: %s, %s data, n=%zu, +%zu bytes: mean %.17g var %.17g, "
                     "scalar says %.17g %.17g (tolerances %.3g, %.3g)",
                     kk_isa_name (isa->isa), data_names[kind], n, misalign, mean, var,
                     want_mean, want_var, tol_mean, tol_var);
          if (kind == DATA_CONSTANT && n > 0)
            {
              g_assert_cmpfloat (mean, ==, 7.25);
              g_assert_cmpfloat (var, ==, 0.0);
            }
          guarded_check (&in, "mean_var_f32 (input)");
          kk_test_buf_free (&in.buf);
        }
    }
}

static void
test_mean_var (void)
{
  kk_test_each_isa (check_mean_var, NULL);
}

static const float norm_params[][2] = {
  { 0.0f, 1.0f }, { 0.485f, 1.0f / 0.229f }, { 127.5f, 1.0f / 127.5f }, { -3.0f, 0.1f },
  { 1e4f, 1e3f }, { 0.3f, -7.0f },
};

static void
check_normalize (const kk_kernels *ref, const kk_kernels *isa, gpointer data)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (0x0A11 + isa->isa);
  g_autoptr (GArray) sizes = kk_test_sizes ();

  for (guint s = 0; s < sizes->len; s++)
    {
      size_t n = g_array_index (sizes, size_t, s);
      size_t bytes = n * sizeof (float);
      size_t in_off = 4 * (s % 16), out_off = 4 * ((s * 7 + 3) % 16);
      const float *params = norm_params[s % G_N_ELEMENTS (norm_params)];
      DataKind kind = (DataKind) (s % DATA_COUNT);
      Guarded in = guarded_new (bytes, in_off);
      Guarded out = guarded_new (bytes, out_off);
      float *x = (float *) (void *) in.p, *y = (float *) (void *) out.p;
      float *want = g_new (float, n + 1);

      fill_data (rand, x, n, kind);
      /* a few values that stress the arithmetic: zero, huge, Inf */
      if (n > 3)
        {
          x[n / 2] = 0.0f;
          x[n / 3] = 3e38f;
          x[n - 1] = -INFINITY;
        }
      ref->normalize_f32 (x, want, n, params[0], params[1]);
      isa->normalize_f32 (x, y, n, params[0], params[1]);
      if (memcmp (want, y, bytes) != 0)
        for (size_t i = 0; i < n; i++)
          if (memcmp (&want[i], &y[i], sizeof (float)) != 0)
            g_error ("normalize_f32: %s, %s data, n=%zu, in+%zu out+%zu, mean %g inv_std %g: "
                     "y[%zu] (x = %.9g) is %.9g, scalar says %.9g",
                     kk_isa_name (isa->isa), data_names[kind], n, in_off, out_off,
                     (double) params[0], (double) params[1], i, (double) x[i], (double) y[i],
                     (double) want[i]);
      guarded_check (&out, "normalize_f32");

      /* in place */
      isa->normalize_f32 (x, x, n, params[0], params[1]);
      g_assert_true (memcmp (want, x, bytes) == 0);
      guarded_check (&in, "normalize_f32 in place");

      g_free (want);
      kk_test_buf_free (&in.buf);
      kk_test_buf_free (&out.buf);
    }
}

static void
test_normalize (void)
{
  kk_test_each_isa (check_normalize, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kernels/normalize/reference/known-values", test_reference_known_values);
  g_test_add_func ("/kernels/normalize/reference/accuracy", test_reference_accuracy);
  g_test_add_func ("/kernels/normalize/mean-var", test_mean_var);
  g_test_add_func ("/kernels/normalize/normalize", test_normalize);

  return g_test_run ();
}
