/* test-eltwise.c — add_clamp_f32, clamp_f32, binary_f32 (Add, Sub, Mul,
 * Div, either operand one value) and hard_gate_f32 (hard sigmoid and hard
 * swish): the scalar reference against
 * an independently written rule, then every ISA against scalar, bit for bit
 * (these kernels are exact; NaN and signed zeros included). sigmoid_f32 and
 * silu_f32: the scalar reference against the formula, every ISA against
 * scalar within 1e-6 relative (they use a polynomial exp), and AVX-512
 * against AVX2 bit for bit (the same operations lane for lane).
 *
 * The rule (eltwise.h): y = max (lo, min (sum, hi)) as x86 MINPS/MAXPS with
 * the bound first, i.e. a NaN value stays NaN, a NaN bound means no bound,
 * and -0.0 is not below lo = +0.0.
 */
#include <math.h>

#include "kk-test-util.h"

typedef struct {
  float lo, hi;
  const char *name;
} Bounds;

static const Bounds bounds[] = {
  { -INFINITY, INFINITY, "none" },
  { 0.0f, INFINITY, "relu" },
  { 0.0f, 6.0f, "relu6" },
  { -0.25f, 0.25f, "narrow" },
  { NAN, 0.5f, "nan-lo" },
  { -0.5f, NAN, "nan-hi" },
  { 1.0f, -1.0f, "lo>hi" },
};

static guint32
bits (float f)
{
  guint32 u;
  memcpy (&u, &f, sizeof u);
  return u;
}

/* The rule, written out without the kernels' helper. */
static float
expected_clamp (float v, float lo, float hi)
{
  if (isnan (v))
    return v;
  if (!isnan (hi) && v > hi)
    v = hi;
  if (!isnan (lo) && v < lo)
    v = lo;
  return v;
}

static gboolean
same (float a, float b)
{
  return isnan (a) ? isnan (b) : bits (a) == bits (b);
}

/* Random floats with plenty of specials: NaN, both infinities, both zeros,
 * subnormals, values near the bounds. */
static float
random_value (GRand *rand)
{
  switch (g_rand_int_range (rand, 0, 24))
    {
    case 0:
      return NAN;
    case 1:
      return INFINITY;
    case 2:
      return -INFINITY;
    case 3:
      return 0.0f;
    case 4:
      return -0.0f;
    case 5:
      return 1e-40f;
    case 6:
      return 6.0f;
    default:
      return (float) g_rand_double_range (rand, -8.0, 8.0);
    }
}

static void
fill_values (GRand *rand, float *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    x[i] = random_value (rand);
}

/* ---- the rule itself, on every table ---- */

static void
test_semantics (void)
{
  const struct {
    float a, b, lo, hi, want;
  } cases[] = {
    { NAN, 0.0f, 0.0f, INFINITY, NAN },            /* NaN stays NaN under ReLU */
    { INFINITY, -INFINITY, 0.0f, 6.0f, NAN },      /* inf - inf = NaN, kept */
    { -0.0f, -0.0f, 0.0f, INFINITY, -0.0f },       /* -0 + -0 = -0, not below +0 */
    { -0.0f, 0.0f, 0.0f, INFINITY, 0.0f },         /* -0 + +0 = +0 */
    { -3.0f, 1.0f, 0.0f, INFINITY, 0.0f },
    { 5.0f, 2.0f, 0.0f, 6.0f, 6.0f },
    { INFINITY, 1.0f, 0.0f, 6.0f, 6.0f },
    { -INFINITY, 1.0f, -INFINITY, INFINITY, -INFINITY },
    { 7.0f, 0.0f, NAN, 6.0f, 6.0f },               /* NaN lo: no lower bound */
    { -7.0f, 0.0f, NAN, 6.0f, -7.0f },
    { 7.0f, 0.0f, 0.0f, NAN, 7.0f },               /* NaN hi: no upper bound */
    { -7.0f, 0.0f, 0.0f, NAN, 0.0f },
    { 0.5f, 0.0f, 1.0f, -1.0f, 1.0f },             /* lo > hi: lo wins */
  };

  for (int isa = 0; isa < KK_ISA_COUNT; isa++)
    {
      const kk_kernels *k = kk_kernels_get ((kk_isa) isa);
      if (k == NULL)
        {
          g_test_message ("skipping %s: this CPU does not support it", kk_isa_name ((kk_isa) isa));
          continue;
        }
      for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
        {
          /* Put the case in every lane position of a 37-element vector so
           * that vector bodies and tails both see it. */
          float a[37], b[37], y[37], y2[37];
          for (size_t pos = 0; pos < 37; pos++)
            {
              for (size_t j = 0; j < 37; j++)
                {
                  a[j] = (float) j * 0.01f;
                  b[j] = 0.0f;
                }
              a[pos] = cases[i].a;
              b[pos] = cases[i].b;
              k->add_clamp_f32 (a, b, y, 37, cases[i].lo, cases[i].hi);
              a[pos] = cases[i].a + cases[i].b;
              k->clamp_f32 (a, y2, 37, cases[i].lo, cases[i].hi);
              if (!same (y[pos], cases[i].want) || !same (y2[pos], cases[i].want))
                g_error ("%s: case %zu at lane %zu: clamp(%g + %g, %g, %g) gave %g / %g, want %g",
                         kk_isa_name ((kk_isa) isa), i, pos, (double) cases[i].a, (double) cases[i].b,
                         (double) cases[i].lo, (double) cases[i].hi, (double) y[pos], (double) y2[pos],
                         (double) cases[i].want);
            }
        }
    }
}

/* ---- scalar against the rule, on random data ---- */

static void
test_scalar_rule (void)
{
  const kk_kernels *ref = kk_kernels_get (KK_ISA_SCALAR);
  GRand *rand = g_rand_new_with_seed (g_test_rand_int ());
  const size_t n = 4099;
  float *a = g_new (float, n), *b = g_new (float, n), *y = g_new (float, n);

  fill_values (rand, a, n);
  fill_values (rand, b, n);
  for (size_t j = 0; j < G_N_ELEMENTS (bounds); j++)
    {
      const float lo = bounds[j].lo, hi = bounds[j].hi;

      ref->add_clamp_f32 (a, b, y, n, lo, hi);
      for (size_t i = 0; i < n; i++)
        if (!same (y[i], expected_clamp (a[i] + b[i], lo, hi)))
          g_error ("scalar add_clamp (%s) [%zu]: %g + %g gave %g", bounds[j].name, i, (double) a[i], (double) b[i], (double) y[i]);
      ref->clamp_f32 (a, y, n, lo, hi);
      for (size_t i = 0; i < n; i++)
        if (!same (y[i], expected_clamp (a[i], lo, hi)))
          g_error ("scalar clamp (%s) [%zu]: %g gave %g", bounds[j].name, i, (double) a[i], (double) y[i]);
    }
  g_free (a);
  g_free (b);
  g_free (y);
  g_rand_free (rand);
}

/* ---- every ISA against scalar ---- */

static void
check_isa (const kk_kernels *ref, const kk_kernels *k, gpointer data)
{
  GRand *rand = data;
  GArray *sizes = kk_test_sizes ();
  const size_t max_n = g_array_index (sizes, size_t, sizes->len - 1);
  KkTestBuf ba = kk_test_buf_new (max_n * sizeof (float));
  KkTestBuf bb = kk_test_buf_new (max_n * sizeof (float));
  KkTestBuf by = kk_test_buf_new (max_n * sizeof (float));
  float *want = g_new (float, max_n + 16);

  for (guint s = 0; s < sizes->len; s++)
    {
      const size_t n = g_array_index (sizes, size_t, s);
      const size_t bytes = n * sizeof (float);
      /* Small sizes try every bound set; large ones one at random. */
      const size_t nb = n <= 300 ? G_N_ELEMENTS (bounds) : 1;

      for (size_t j = 0; j < nb; j++)
        {
          const Bounds *bd = n <= 300 ? &bounds[j] : &bounds[g_rand_int_range (rand, 0, G_N_ELEMENTS (bounds))];
          /* Misalign each pointer independently, in whole floats. */
          float *a = kk_test_buf_at (&ba, 4 * g_rand_int_range (rand, 0, 16));
          float *b = kk_test_buf_at (&bb, 4 * g_rand_int_range (rand, 0, 16));
          float *y = kk_test_buf_at (&by, 4 * g_rand_int_range (rand, 0, 16));

          fill_values (rand, a, n);
          fill_values (rand, b, n);

          ref->add_clamp_f32 (a, b, want, n, bd->lo, bd->hi);
          kk_test_buf_reset (&by);
          k->add_clamp_f32 (a, b, y, n, bd->lo, bd->hi);
          for (size_t i = 0; i < n; i++)
            if (!same (y[i], want[i]))
              g_error ("%s add_clamp n=%zu (%s) [%zu]: %g + %g gave %g, scalar %g",
                       kk_isa_name (k->isa), n, bd->name, i, (double) a[i], (double) b[i], (double) y[i],
                       (double) want[i]);
          kk_test_assert_untouched_after ((guint8 *) y + bytes, KK_TEST_GUARD);
          kk_test_assert_untouched_before (y, KK_TEST_GUARD);

          ref->clamp_f32 (a, want, n, bd->lo, bd->hi);
          kk_test_buf_reset (&by);
          k->clamp_f32 (a, y, n, bd->lo, bd->hi);
          for (size_t i = 0; i < n; i++)
            if (!same (y[i], want[i]))
              g_error ("%s clamp n=%zu (%s) [%zu]: %g gave %g, scalar %g",
                       kk_isa_name (k->isa), n, bd->name, i, (double) a[i], (double) y[i], (double) want[i]);
          kk_test_assert_untouched_after ((guint8 *) y + bytes, KK_TEST_GUARD);
          kk_test_assert_untouched_before (y, KK_TEST_GUARD);

          /* In place: y is a, then b (a residual add writing over one of its
           * inputs), and clamp over its own input. */
          if (n <= 4097)
            {
              float *copy = g_memdup2 (a, bytes + 1);

              ref->add_clamp_f32 (a, b, want, n, bd->lo, bd->hi);
              k->add_clamp_f32 (a, b, a, n, bd->lo, bd->hi);
              for (size_t i = 0; i < n; i++)
                if (!same (a[i], want[i]))
                  g_error ("%s add_clamp in place (y = a) n=%zu [%zu] differs", kk_isa_name (k->isa), n, i);
              memcpy (a, copy, bytes);
              k->add_clamp_f32 (a, b, b, n, bd->lo, bd->hi);
              for (size_t i = 0; i < n; i++)
                if (!same (b[i], want[i]))
                  g_error ("%s add_clamp in place (y = b) n=%zu [%zu] differs", kk_isa_name (k->isa), n, i);
              ref->clamp_f32 (a, want, n, bd->lo, bd->hi);
              k->clamp_f32 (a, a, n, bd->lo, bd->hi);
              for (size_t i = 0; i < n; i++)
                if (!same (a[i], want[i]))
                  g_error ("%s clamp in place n=%zu [%zu] differs", kk_isa_name (k->isa), n, i);
              g_free (copy);
            }
        }
    }

  g_free (want);
  kk_test_buf_free (&ba);
  kk_test_buf_free (&bb);
  kk_test_buf_free (&by);
  g_array_unref (sizes);
}

/* ---- sigmoid and SiLU ---- */

#define ACT_RELATIVE_TOLERANCE 1e-6

static float
random_activation_input (GRand *rand, gboolean infinities)
{
  switch (g_rand_int_range (rand, 0, 16))
    {
    case 0:
      return NAN;
    case 1:
      return infinities ? INFINITY : 87.5f;
    case 2:
      return infinities ? -INFINITY : -87.5f;
    case 3:
      return (float) g_rand_double_range (rand, -120.0, 120.0);
    case 4:
      return 0.0f;
    default:
      return (float) g_rand_double_range (rand, -12.0, 12.0);
    }
}

static void
check_activation (const char *what, void (*ref) (const float *, float *, size_t),
                  void (*fn) (const float *, float *, size_t), const kk_kernels *k, GRand *rand,
                  gboolean infinities)
{
  GArray *sizes = kk_test_sizes ();
  const size_t max_n = g_array_index (sizes, size_t, sizes->len - 1);
  KkTestBuf bx = kk_test_buf_new (max_n * sizeof (float));
  KkTestBuf by = kk_test_buf_new (max_n * sizeof (float));
  float *want = g_new (float, max_n + 16);

  for (guint s = 0; s < sizes->len; s++)
    {
      const size_t n = g_array_index (sizes, size_t, s);
      float *x = kk_test_buf_at (&bx, 4 * g_rand_int_range (rand, 0, 16));
      float *y = kk_test_buf_at (&by, 4 * g_rand_int_range (rand, 0, 16));

      for (size_t i = 0; i < n; i++)
        x[i] = random_activation_input (rand, infinities);
      ref (x, want, n);
      kk_test_buf_reset (&by);
      fn (x, y, n);
      for (size_t i = 0; i < n; i++)
        {
          double d = fabs ((double) y[i] - (double) want[i]);
          if (isnan (want[i]) ? !isnan (y[i]) : !(d <= ACT_RELATIVE_TOLERANCE * fabs ((double) want[i]) + 1e-30))
            g_error ("%s %s n=%zu [%zu]: x = %.9g gave %.9g, scalar %.9g", kk_isa_name (k->isa), what, n, i,
                     (double) x[i], (double) y[i], (double) want[i]);
        }
      kk_test_assert_untouched_after ((guint8 *) y + n * sizeof (float), KK_TEST_GUARD);
      kk_test_assert_untouched_before (y, KK_TEST_GUARD);
      /* In place, as the convolutions call it. */
      fn (x, x, n);
      for (size_t i = 0; i < n; i++)
        if (!(isnan (y[i]) ? isnan (x[i]) : x[i] == y[i]))
          g_error ("%s %s in place n=%zu [%zu] differs", kk_isa_name (k->isa), what, n, i);
    }
  g_free (want);
  kk_test_buf_free (&bx);
  kk_test_buf_free (&by);
  g_array_unref (sizes);
}

static void
check_activation_isa (const kk_kernels *ref, const kk_kernels *k, gpointer data)
{
  check_activation ("sigmoid", ref->sigmoid_f32, k->sigmoid_f32, k, data, TRUE);
  /* SiLU at an infinity is inf * 0 in the formula: no reference value. */
  check_activation ("silu", ref->silu_f32, k->silu_f32, k, data, FALSE);
}

static void
test_activation_scalar_rule (void)
{
  const kk_kernels *ref = kk_kernels_get (KK_ISA_SCALAR);
  float x[] = { -100.0f, -87.0f, -10.0f, -1.0f, -0.0f, 0.0f, 0.5f, 3.0f, 20.0f, 100.0f, NAN, INFINITY, -INFINITY };
  float y[G_N_ELEMENTS (x)];

  ref->sigmoid_f32 (x, y, G_N_ELEMENTS (x));
  for (gsize i = 0; i < G_N_ELEMENTS (x); i++)
    if (!same (y[i], 1.0f / (1.0f + expf (-x[i]))))
      g_error ("scalar sigmoid (%g) = %g", (double) x[i], (double) y[i]);
  g_assert_cmpfloat (y[5], ==, 0.5f);
  ref->silu_f32 (x, y, G_N_ELEMENTS (x));
  for (gsize i = 0; i + 2 < G_N_ELEMENTS (x); i++)
    if (!same (y[i], x[i] * (1.0f / (1.0f + expf (-x[i])))))
      g_error ("scalar silu (%g) = %g", (double) x[i], (double) y[i]);
}

/* AVX-512 does the AVX2 version's operations lane for lane (exp-avx2.h,
 * exp-avx512.h): the same bits, NaN and infinities included, at every
 * length (each AVX-512 tail against AVX2's full vectors and tails), in
 * place or not. */
static void
test_activation_avx512_vs_avx2 (void)
{
  const kk_kernels *k2 = kk_kernels_get (KK_ISA_AVX2), *k5 = kk_kernels_get (KK_ISA_AVX512);
  g_autoptr (GRand) rand = g_rand_new_with_seed (11);

  if (k2 == NULL || k5 == NULL)
    {
      g_test_skip ("this CPU lacks AVX-512 (or AVX2)");
      return;
    }
  GArray *sizes = kk_test_sizes ();
  const size_t max_n = 70000;
  KkTestBuf bx = kk_test_buf_new (max_n * sizeof (float));
  float *y2 = g_new (float, max_n), *y5 = g_new (float, max_n), *x5 = g_new (float, max_n);

  for (guint s = 0; s < sizes->len; s++)
    for (int silu = 0; silu < 2; silu++)
      {
        const size_t n = g_array_index (sizes, size_t, s);
        if (n > max_n)
          continue;
        float *x = kk_test_buf_at (&bx, 4 * g_rand_int_range (rand, 0, 16));
        for (size_t i = 0; i < n; i++)
          x[i] = random_activation_input (rand, TRUE);
        (silu ? k2->silu_f32 : k2->sigmoid_f32) (x, y2, n);
        (silu ? k5->silu_f32 : k5->sigmoid_f32) (x, y5, n);
        memcpy (x5, x, n * sizeof (float));
        (silu ? k5->silu_f32 : k5->sigmoid_f32) (x5, x5, n);
        for (size_t i = 0; i < n; i++)
          if (bits (y5[i]) != bits (y2[i]) || bits (x5[i]) != bits (y2[i]))
            g_error ("%s n=%zu [%zu]: x = %.9g: avx512 %.9g (in place %.9g), avx2 %.9g",
                     silu ? "silu" : "sigmoid", n, i, (double) x[i], (double) y5[i], (double) x5[i],
                     (double) y2[i]);
      }
  g_free (y2);
  g_free (y5);
  g_free (x5);
  kk_test_buf_free (&bx);
  g_array_unref (sizes);
}

/* ---- hard sigmoid and hard swish ---- */

/* The rule (ops-fast.c's hard_gate_1, the reference operators' arithmetic). */
static float
hard_gate_rule (float v, float alpha, float beta, gboolean times_x)
{
  volatile float prod = alpha * v; /* rounded apart from the add */
  float g = prod + beta;
  if (g > 1.0f)
    g = 1.0f;
  if (g < 0.0f)
    g = 0.0f;
  return times_x ? v * g : g;
}

static const float hard_gate_params[][2] = {
  { 1.0f / 6.0f, 0.5f }, /* HardSwish */
  { 0.2f, 0.5f },        /* HardSigmoid's default */
  { -0.3f, 0.25f }, { 3.0f, -1.0f }, { 0.0f, 0.5f }, { 1.0f / 6.0f, NAN },
};

static float
random_gate_input (GRand *rand)
{
  switch (g_rand_int_range (rand, 0, 12))
    {
    case 0:
      return NAN;
    case 1:
      return g_rand_boolean (rand) ? INFINITY : -INFINITY;
    case 2:
      return g_rand_boolean (rand) ? 0.0f : -0.0f;
    case 3:
      /* The clamp's edges: alpha * x + beta at or next to 0 and 1. */
      return (float) g_rand_int_range (rand, -4, 5) * 0.75f;
    default:
      return (float) g_rand_double_range (rand, -8.0, 8.0);
    }
}

static void
test_hard_gate_scalar_rule (void)
{
  const kk_kernels *ref = kk_kernels_get (KK_ISA_SCALAR);
  g_autoptr (GRand) rand = g_rand_new_with_seed (13);
  float x[512], y[512];

  for (gsize p = 0; p < G_N_ELEMENTS (hard_gate_params); p++)
    for (int times_x = 0; times_x < 2; times_x++)
      {
        const float alpha = hard_gate_params[p][0], beta = hard_gate_params[p][1];
        for (gsize i = 0; i < G_N_ELEMENTS (x); i++)
          x[i] = random_gate_input (rand);
        ref->hard_gate_f32 (x, y, G_N_ELEMENTS (x), alpha, beta, times_x);
        for (gsize i = 0; i < G_N_ELEMENTS (x); i++)
          if (!same (y[i], hard_gate_rule (x[i], alpha, beta, times_x)))
            g_error ("scalar hard gate (%g; %g, %g, %d) = %g, rule %g", (double) x[i], (double) alpha,
                     (double) beta, times_x, (double) y[i],
                     (double) hard_gate_rule (x[i], alpha, beta, times_x));
      }
  /* HardSwish at -0.0 keeps the sign: -0 * 0.5. */
  x[0] = -0.0f;
  ref->hard_gate_f32 (x, y, 1, 1.0f / 6.0f, 0.5f, TRUE);
  g_assert_true (bits (y[0]) == bits (-0.0f));
}

static void
check_hard_gate_isa (const kk_kernels *ref, const kk_kernels *k, gpointer data)
{
  GRand *rand = data;
  GArray *sizes = kk_test_sizes ();
  const size_t max_n = g_array_index (sizes, size_t, sizes->len - 1);
  KkTestBuf bx = kk_test_buf_new (max_n * sizeof (float));
  KkTestBuf by = kk_test_buf_new (max_n * sizeof (float));
  float *want = g_new (float, max_n + 16);

  for (guint s = 0; s < sizes->len; s++)
    {
      const size_t n = g_array_index (sizes, size_t, s);
      const gsize p = s % G_N_ELEMENTS (hard_gate_params);
      const float alpha = hard_gate_params[p][0], beta = hard_gate_params[p][1];
      const gboolean times_x = (s / G_N_ELEMENTS (hard_gate_params)) % 2 == 0;
      float *x = kk_test_buf_at (&bx, 4 * g_rand_int_range (rand, 0, 16));
      float *y = kk_test_buf_at (&by, 4 * g_rand_int_range (rand, 0, 16));

      for (size_t i = 0; i < n; i++)
        x[i] = random_gate_input (rand);
      ref->hard_gate_f32 (x, want, n, alpha, beta, times_x);
      kk_test_buf_reset (&by);
      k->hard_gate_f32 (x, y, n, alpha, beta, times_x);
      for (size_t i = 0; i < n; i++)
        if (bits (y[i]) != bits (want[i]))
          g_error ("%s hard gate n=%zu [%zu] (alpha %g beta %g times_x %d): x = %.9g gave %.9g, scalar %.9g",
                   kk_isa_name (k->isa), n, i, (double) alpha, (double) beta, times_x, (double) x[i],
                   (double) y[i], (double) want[i]);
      kk_test_assert_untouched_after ((guint8 *) y + n * sizeof (float), KK_TEST_GUARD);
      kk_test_assert_untouched_before (y, KK_TEST_GUARD);
      /* In place, as the convolutions call it. */
      k->hard_gate_f32 (x, x, n, alpha, beta, times_x);
      if (n > 0 && memcmp (x, want, n * sizeof (float)) != 0)
        g_error ("%s hard gate in place n=%zu differs", kk_isa_name (k->isa), n);
    }
  g_free (want);
  kk_test_buf_free (&bx);
  kk_test_buf_free (&by);
  g_array_unref (sizes);
}

static void
test_hard_gate_isa_vs_scalar (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (17);
  kk_test_each_isa (check_hard_gate_isa, rand);
}

/* ---- softmax of a row ---- */

static void
check_softmax_isa (const kk_kernels *ref, const kk_kernels *k, gpointer data)
{
  GRand *rand = data;
  GArray *sizes = kk_test_sizes ();
  const size_t max_n = g_array_index (sizes, size_t, sizes->len - 1) + 7000;
  KkTestBuf bx = kk_test_buf_new (max_n * sizeof (float));
  KkTestBuf by = kk_test_buf_new (max_n * sizeof (float));
  float *want = g_new (float, max_n);

  g_array_append_val (sizes, ((size_t) { 6625 }));  /* the PaddleOCR recogniser's classes */
  for (guint s = 0; s < sizes->len; s++)
    for (int kind = 0; kind < 4; kind++)
      {
        const size_t n = g_array_index (sizes, size_t, s);
        float *x = kk_test_buf_at (&bx, 4 * g_rand_int_range (rand, 0, 16));
        float *y = kk_test_buf_at (&by, 4 * g_rand_int_range (rand, 0, 16));
        double top = 0;

        /* Rows of classes, not of millions: past 10^5 floats the
         * reference's running float sum drifts by more than any useful
         * bound. */
        if (n > 100000)
          continue;

        /* 0: logits, 1: large values (the maximum matters), 2: a -inf among
         * them, 3: a NaN (the row is NaN) */
        for (size_t i = 0; i < n; i++)
          x[i] = (float) g_rand_double_range (rand, kind == 1 ? -500.0 : -20.0, kind == 1 ? 500.0 : 20.0);
        if (kind == 2 && n > 0)
          x[g_rand_int_range (rand, 0, n)] = -INFINITY;
        if (kind == 3 && n > 0)
          x[g_rand_int_range (rand, 0, n)] = NAN;
        ref->softmax_f32 (x, want, n);
        kk_test_buf_reset (&by);
        k->softmax_f32 (x, y, n);
        /* The reference sums n floats in order, so its own rounding error
         * grows with about sqrt (n) ulps: the bound grows with it. */
        const double tolerance = 1e-5 + 4e-7 * sqrt ((double) n);
        for (size_t i = 0; i < n; i++)
          top = MAX (top, fabs ((double) want[i]));
        for (size_t i = 0; i < n; i++)
          {
            double d = fabs ((double) y[i] - (double) want[i]);
            if (isnan (want[i]) ? !isnan (y[i]) : !(d <= tolerance * top + 1e-30))
              g_error ("%s softmax n=%zu kind %d [%zu]: x = %.9g gave %.9g, scalar %.9g", kk_isa_name (k->isa),
                       n, kind, i, (double) x[i], (double) y[i], (double) want[i]);
          }
        kk_test_assert_untouched_after ((guint8 *) y + n * sizeof (float), KK_TEST_GUARD);
        kk_test_assert_untouched_before (y, KK_TEST_GUARD);
        /* In place, as the operator may run it. */
        k->softmax_f32 (x, x, n);
        for (size_t i = 0; i < n; i++)
          if (!(isnan (y[i]) ? isnan (x[i]) : x[i] == y[i]))
            g_error ("%s softmax in place n=%zu [%zu] differs", kk_isa_name (k->isa), n, i);
      }
  g_free (want);
  kk_test_buf_free (&bx);
  kk_test_buf_free (&by);
  g_array_unref (sizes);
}

static void
test_softmax_scalar_rule (void)
{
  const kk_kernels *ref = kk_kernels_get (KK_ISA_SCALAR);
  float x[] = { 1000.0f, 999.0f, -INFINITY, 998.0f }, y[4];
  float e1 = expf (-1.0f), e2 = expf (-2.0f), sum = 1.0f + e1 + 0.0f + e2;

  ref->softmax_f32 (x, y, 4);
  g_assert_cmpfloat (y[0], ==, 1.0f / sum);
  g_assert_cmpfloat (y[1], ==, e1 / sum);
  g_assert_cmpfloat (y[2], ==, 0.0f);
  g_assert_cmpfloat (y[3], ==, e2 / sum);
}

static void
test_softmax_isa_vs_scalar (void)
{
  GRand *rand = g_rand_new_with_seed (g_test_rand_int ());
  kk_test_each_isa (check_softmax_isa, rand);
  g_rand_free (rand);
}

static void
test_activation_isa_vs_scalar (void)
{
  GRand *rand = g_rand_new_with_seed (g_test_rand_int ());
  kk_test_each_isa (check_activation_isa, rand);
  g_rand_free (rand);
}

static void
test_isa_vs_scalar (void)
{
  GRand *rand = g_rand_new_with_seed (g_test_rand_int ());
  kk_test_each_isa (check_isa, rand);
  g_rand_free (rand);
}

/* ---- binary_f32: Add, Sub, Mul, Div with either operand a single value ---- */

static float
binary_rule (kk_binary_op op, float x, float z)
{
  switch (op)
    {
    case KK_BINARY_ADD: return x + z;
    case KK_BINARY_SUB: return x - z;
    case KK_BINARY_MUL: return x * z;
    case KK_BINARY_DIV: return x / z;
    default: g_assert_not_reached ();
    }
}

static void
test_binary_scalar_rule (void)
{
  const kk_kernels *ref = kk_kernels_get (KK_ISA_SCALAR);
  GRand *rand = g_rand_new_with_seed (g_test_rand_int ());
  const size_t n = 1031;
  float *a = g_new (float, n), *b = g_new (float, n), *y = g_new (float, n);

  fill_values (rand, a, n);
  fill_values (rand, b, n);
  for (int op = 0; op < KK_BINARY_COUNT; op++)
    for (size_t steps = 0; steps < 4; steps++)
      {
        size_t as = steps & 1, bs = steps >> 1;
        ref->binary_f32 ((kk_binary_op) op, a, as, b, bs, y, n);
        for (size_t i = 0; i < n; i++)
          if (!same (y[i], binary_rule ((kk_binary_op) op, a[i * as], b[i * bs])))
            g_error ("scalar binary op %d steps %zu/%zu [%zu]: %g, %g gave %g", op, as, bs, i,
                     (double) a[i * as], (double) b[i * bs], (double) y[i]);
      }
  g_free (a);
  g_free (b);
  g_free (y);
  g_rand_free (rand);
}

static void
check_binary_isa (const kk_kernels *ref, const kk_kernels *k, gpointer data)
{
  GRand *rand = data;
  GArray *sizes = kk_test_sizes ();
  const size_t max_n = g_array_index (sizes, size_t, sizes->len - 1);
  KkTestBuf ba = kk_test_buf_new (max_n * sizeof (float));
  KkTestBuf bb = kk_test_buf_new (max_n * sizeof (float));
  KkTestBuf by = kk_test_buf_new (max_n * sizeof (float));
  float *want = g_new (float, max_n + 16);

  for (guint s = 0; s < sizes->len; s++)
    {
      const size_t n = g_array_index (sizes, size_t, s);
      const size_t bytes = n * sizeof (float);
      float *a = kk_test_buf_at (&ba, 4 * g_rand_int_range (rand, 0, 16));
      float *b = kk_test_buf_at (&bb, 4 * g_rand_int_range (rand, 0, 16));

      fill_values (rand, a, n);
      fill_values (rand, b, n);
      for (int op = 0; op < KK_BINARY_COUNT; op++)
        for (size_t steps = 0; steps < 4; steps++)
          {
            size_t as = steps & 1, bs = steps >> 1;
            float *y = kk_test_buf_at (&by, 4 * g_rand_int_range (rand, 0, 16));

            /* Large sizes: one operand pattern of each op at random. */
            if (n > 4097 && steps != (size_t) g_rand_int_range (rand, 0, 4))
              continue;
            ref->binary_f32 ((kk_binary_op) op, a, as, b, bs, want, n);
            kk_test_buf_reset (&by);
            k->binary_f32 ((kk_binary_op) op, a, as, b, bs, y, n);
            for (size_t i = 0; i < n; i++)
              if (!same (y[i], want[i]))
                g_error ("%s binary op %d steps %zu/%zu n=%zu [%zu]: %g, %g gave %g, scalar %g",
                         kk_isa_name (k->isa), op, as, bs, n, i, (double) a[i * as], (double) b[i * bs],
                         (double) y[i], (double) want[i]);
            kk_test_assert_untouched_after ((guint8 *) y + bytes, KK_TEST_GUARD);
            kk_test_assert_untouched_before (y, KK_TEST_GUARD);
          }
      /* In place over the stepping operand, as the operators run it. */
      if (n <= 4097)
        {
          float *copy = g_memdup2 (a, bytes + 1);

          ref->binary_f32 (KK_BINARY_MUL, a, 1, b, 0, want, n);
          k->binary_f32 (KK_BINARY_MUL, a, 1, b, 0, a, n);
          for (size_t i = 0; i < n; i++)
            if (!same (a[i], want[i]))
              g_error ("%s binary in place (y = a) n=%zu [%zu] differs", kk_isa_name (k->isa), n, i);
          memcpy (a, copy, bytes);
          ref->binary_f32 (KK_BINARY_SUB, a, 1, b, 1, want, n);
          k->binary_f32 (KK_BINARY_SUB, a, 1, b, 1, b, n);
          for (size_t i = 0; i < n; i++)
            if (!same (b[i], want[i]))
              g_error ("%s binary in place (y = b) n=%zu [%zu] differs", kk_isa_name (k->isa), n, i);
          g_free (copy);
        }
    }
  g_free (want);
  kk_test_buf_free (&ba);
  kk_test_buf_free (&bb);
  kk_test_buf_free (&by);
  g_array_unref (sizes);
}

static void
test_binary_isa_vs_scalar (void)
{
  GRand *rand = g_rand_new_with_seed (g_test_rand_int ());
  kk_test_each_isa (check_binary_isa, rand);
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/kernels/eltwise/semantics", test_semantics);
  g_test_add_func ("/kernels/eltwise/scalar-rule", test_scalar_rule);
  g_test_add_func ("/kernels/eltwise/isa-vs-scalar", test_isa_vs_scalar);
  g_test_add_func ("/kernels/eltwise/activation-scalar-rule", test_activation_scalar_rule);
  g_test_add_func ("/kernels/eltwise/activation-isa-vs-scalar", test_activation_isa_vs_scalar);
  g_test_add_func ("/kernels/eltwise/activation-avx512-vs-avx2", test_activation_avx512_vs_avx2);
  g_test_add_func ("/kernels/eltwise/hard-gate-scalar-rule", test_hard_gate_scalar_rule);
  g_test_add_func ("/kernels/eltwise/hard-gate-isa-vs-scalar", test_hard_gate_isa_vs_scalar);
  g_test_add_func ("/kernels/eltwise/softmax-scalar-rule", test_softmax_scalar_rule);
  g_test_add_func ("/kernels/eltwise/softmax-isa-vs-scalar", test_softmax_isa_vs_scalar);
  g_test_add_func ("/kernels/eltwise/binary-scalar-rule", test_binary_scalar_rule);
  g_test_add_func ("/kernels/eltwise/binary-isa-vs-scalar", test_binary_isa_vs_scalar);
  return g_test_run ();
}
