/* test-ops-reduce.c — the reductions, ArgMax / ArgMin, comparisons, logic
 * and Where (core/ops/ops-math-reduce.c, ops-math-logic.c).
 *
 * Reductions run on random shapes and axis sets against an oracle that
 * scatters every input element into its output (the operator gathers), in
 * float32, int32 and int64, with and without keepdims, in both the
 * attribute form and the opset-18 input form; small cases check values
 * computed by hand. Every case runs at the four levels, and the parallel
 * levels must give the serial bits.
 */
#include "ops-test-util.h"

static const char *const reduce_ops[] = {
  "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
  "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare",
};

/* ---- Oracle ---------------------------------------------------------------- */

static double
load_value (KestrelDType dtype, gconstpointer data, gsize i)
{
  switch (dtype)
    {
    case KESTREL_DTYPE_FLOAT32:
      return ((const float *) data)[i];
    case KESTREL_DTYPE_INT32:
      return ((const gint32 *) data)[i];
    case KESTREL_DTYPE_INT64:
      return (double) ((const gint64 *) data)[i];
    default:
      g_assert_not_reached ();
    }
}

static void
store_small_int (KestrelDType dtype, gpointer data, gsize i, gint v)
{
  if (dtype == KESTREL_DTYPE_INT32)
    ((gint32 *) data)[i] = v;
  else
    ((gint64 *) data)[i] = v;
}

/* out[o] over the input elements that map to o, in double. */
static void
reduce_oracle (const char *op, guint rank, const gint64 *shape, const gboolean *mask,
               const double *x, gsize n_out, double *out)
{
  gsize n = shape_elements (rank, shape);
  g_autofree double *acc = g_new (double, MAX (n_out, 1));
  g_autofree double *mx = g_new (double, MAX (n_out, 1));
  g_autofree gsize *count = g_new0 (gsize, MAX (n_out, 1));

  for (gsize o = 0; o < n_out; o++)
    {
      acc[o] = strcmp (op, "ReduceProd") == 0 ? 1 : 0;
      mx[o] = strcmp (op, "ReduceMin") == 0 ? INFINITY : -INFINITY;
    }
  /* First pass: maxima (LogSumExp shifts by them). */
  for (int pass = 0; pass < 2; pass++)
    for (gsize i = 0; i < n; i++)
      {
        gsize rest = i, o = 0, stride = 1;
        double v = x[i];

        for (gint d = (gint) rank - 1; d >= 0; d--)
          {
            gsize coord = rest % (gsize) shape[d];
            rest /= (gsize) shape[d];
            if (!mask[d])
              {
                o += coord * stride;
                stride *= (gsize) shape[d];
              }
          }
        if (pass == 0)
          {
            mx[o] = strcmp (op, "ReduceMin") == 0 ? MIN (mx[o], v) : MAX (mx[o], v);
            count[o]++;
            continue;
          }
        if (strcmp (op, "ReduceProd") == 0)
          acc[o] *= v;
        else if (strcmp (op, "ReduceL1") == 0)
          acc[o] += fabs (v);
        else if (strcmp (op, "ReduceL2") == 0 || strcmp (op, "ReduceSumSquare") == 0)
          acc[o] += v * v;
        else if (strcmp (op, "ReduceLogSumExp") == 0)
          acc[o] += exp (v - mx[o]);
        else
          acc[o] += v;
      }
  for (gsize o = 0; o < n_out; o++)
    {
      if (strcmp (op, "ReduceMax") == 0 || strcmp (op, "ReduceMin") == 0)
        out[o] = mx[o];
      else if (strcmp (op, "ReduceMean") == 0)
        out[o] = acc[o] / (double) count[o];
      else if (strcmp (op, "ReduceL2") == 0)
        out[o] = sqrt (acc[o]);
      else if (strcmp (op, "ReduceLogSum") == 0)
        out[o] = log (acc[o]);
      else if (strcmp (op, "ReduceLogSumExp") == 0)
        out[o] = mx[o] + log (acc[o]);
      else
        out[o] = acc[o];
    }
}

/* ---- Random reductions ------------------------------------------------------- */

static void
run_random_reduce (GRand *rand, const char *op, gint64 opset, KestrelDType dtype)
{
  guint rank = g_rand_int_range (rand, 1, 5);
  gint64 shape[4], out_shape[4];
  gboolean mask[4] = { FALSE }, keepdims = g_rand_boolean (rand);
  gint64 axes[4];
  guint n_axes = 0, out_dims = 0;
  gsize n, n_out = 1;
  g_autofree double *xd = NULL, *want = NULL;
  g_autofree gpointer x = NULL;
  g_autofree gpointer serial = NULL;
  g_autoptr(OpCase) c = op_case_new (opset, op);
  gboolean axes_input = opset >= 18 || (opset >= 13 && strcmp (op, "ReduceSum") == 0);
  gboolean positive = strcmp (op, "ReduceLogSum") == 0;
  gsize elem = kestrel_dtype_get_size (dtype);

  for (guint d = 0; d < rank; d++)
    {
      shape[d] = g_rand_int_range (rand, 1, 7);
      if (g_rand_int_range (rand, 0, 3) == 0)
        {
          mask[d] = TRUE;
          /* Negative axes half the time. */
          axes[n_axes++] = g_rand_boolean (rand) ? (gint64) d : (gint64) d - rank;
        }
    }
  if (n_axes == 0)
    for (guint d = 0; d < rank; d++)
      mask[d] = TRUE;  /* no axes: reduce everything */
  for (guint d = 0; d < rank; d++)
    if (!mask[d])
      n_out *= (gsize) (out_shape[out_dims++] = shape[d]);
    else if (keepdims)
      out_shape[out_dims++] = 1;

  n = shape_elements (rank, shape);
  xd = g_new (double, n);
  x = g_malloc (n * elem);
  for (gsize i = 0; i < n; i++)
    {
      if (dtype == KESTREL_DTYPE_FLOAT32)
        {
          float v = (float) g_rand_double_range (rand, positive ? 0.1 : -2, 2);
          ((float *) x)[i] = v;
          xd[i] = v;
        }
      else
        {
          /* Small values so that products stay exact. */
          gint v = g_rand_int_range (rand, positive ? 1 : -3, 4);
          store_small_int (dtype, x, i, v);
          xd[i] = (double) v;
        }
    }
  want = g_new (double, MAX (n_out, 1));
  reduce_oracle (op, rank, shape, mask, xd, n_out, want);

  op_case_input (c, dtype, rank, shape, x);
  if (axes_input)
    {
      if (n_axes > 0)
        op_case_constant_ints (c, n_axes, axes);
    }
  else if (n_axes > 0)
    kestrel_node_set_attr_ints (op_case_node (c), "axes", axes, n_axes);
  kestrel_node_set_attr_int (op_case_node (c), "keepdims", keepdims);
  op_case_infer_ok (c);
  g_assert_cmpuint (op_case_output (c, 0)->n_dims, ==, out_dims);
  g_assert_cmpmem (op_case_output (c, 0)->shape, out_dims * sizeof (gint64), out_shape,
                   out_dims * sizeof (gint64));

  for (guint l = 0; l < G_N_ELEMENTS (all_levels); l++)
    {
      g_autofree gpointer got = op_case_run (c, all_levels[l]);

      for (gsize o = 0; o < n_out; o++)
        {
          double g = load_value (dtype, got, o);
          double w = want[o];

          if (dtype != KESTREL_DTYPE_FLOAT32)
            w = trunc (w); /* integer results truncate */
          if (dtype == KESTREL_DTYPE_FLOAT32 ? !floats_close ((float) g, w, 1e-5, 1e-6) : g != w)
            g_error ("%s-%" G_GINT64_FORMAT " %s at %s: output %zu is %.9g, expected %.9g",
                     op, opset, kestrel_dtype_get_name (dtype), kk_level_name (all_levels[l]), o,
                     g, w);
        }
      if (serial == NULL)
        serial = g_steal_pointer (&got);
      else
        g_assert_cmpmem (got, n_out * elem, serial, n_out * elem);
    }
}

static void
test_reduce_random (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (18);
  const KestrelDType dtypes[] = { KESTREL_DTYPE_FLOAT32, KESTREL_DTYPE_INT32, KESTREL_DTYPE_INT64 };
  const gint64 opsets[] = { 11, 13, 18 };

  for (guint r = 0; r < G_N_ELEMENTS (reduce_ops); r++)
    for (guint t = 0; t < G_N_ELEMENTS (dtypes); t++)
      for (guint o = 0; o < G_N_ELEMENTS (opsets); o++)
        for (guint k = 0; k < 12; k++)
          run_random_reduce (rand, reduce_ops[r], opsets[o], dtypes[t]);
}

/* A reduction large enough for the parallel levels to split it. */
static void
test_reduce_large (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);
  const gint64 shape[] = { 64, 3, 640 };
  const gint64 axes[] = { -1 };
  g_autofree float *x = random_floats (rand, 64 * 3 * 640, -1, 1);
  g_autoptr(OpCase) c = op_case_new (13, "ReduceMean");
  g_autofree float *serial = NULL;

  op_case_input (c, KESTREL_DTYPE_FLOAT32, 3, shape, x);
  kestrel_node_set_attr_ints (op_case_node (c), "axes", axes, 1);
  op_case_infer_ok (c);
  serial = op_case_run (c, KK_LEVEL_SCALAR);
  for (gsize o = 0; o < 64 * 3; o++)
    {
      double sum = 0;
      for (gsize k = 0; k < 640; k++)
        sum += (double) x[o * 640 + k];
      g_assert_true (floats_close (serial[o], sum / 640, 1e-6, 1e-7));
    }
  for (guint l = 1; l < G_N_ELEMENTS (all_levels); l++)
    {
      g_autofree float *got = op_case_run (c, all_levels[l]);
      g_assert_cmpmem (got, 64 * 3 * sizeof (float), serial, 64 * 3 * sizeof (float));
    }
}

/* By hand: x = [[1, 2], [3, 4]]. */
static void
test_reduce_by_hand (void)
{
  const gint64 shape[] = { 2, 2 }, s0 = 0;
  const float x[] = { 1, 2, 3, 4 };
  const gint64 axis1[] = { 1 };
  struct { const char *op; float want[2]; } cases[] = {
    { "ReduceSum", { 3, 7 } },
    { "ReduceMean", { 1.5f, 3.5f } },
    { "ReduceMax", { 2, 4 } },
    { "ReduceMin", { 1, 3 } },
    { "ReduceProd", { 2, 12 } },
    { "ReduceL1", { 3, 7 } },
    { "ReduceL2", { 2.2360680f, 5 } },
    { "ReduceLogSum", { 1.0986123f, 1.9459101f } },
    { "ReduceLogSumExp", { 2.3132617f, 4.3132617f } },
    { "ReduceSumSquare", { 5, 25 } },
  };

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      g_autoptr(OpCase) c = op_case_new (18, cases[k].op);
      g_autofree float *got = NULL;

      op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, shape, x);
      op_case_constant_ints (c, 1, axis1);
      kestrel_node_set_attr_int (op_case_node (c), "keepdims", 0);
      op_case_infer_ok (c);
      got = op_case_run (c, KK_LEVEL_SCALAR);
      for (guint i = 0; i < 2; i++)
        g_assert_true (floats_close (got[i], cases[k].want[i], 1e-6, 0));
    }
  /* Opset 18 with an empty axes input and noop_with_empty_axes: a copy. */
  {
    g_autoptr(OpCase) c = op_case_new (18, "ReduceMax");
    g_autofree float *got = NULL;

    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, shape, x);
    op_case_constant (c, KESTREL_DTYPE_INT64, 1, &s0, NULL);
    kestrel_node_set_attr_int (op_case_node (c), "noop_with_empty_axes", 1);
    op_case_infer_ok (c);
    g_assert_cmpuint (op_case_output (c, 0)->n_dims, ==, 2);
    got = op_case_run (c, KK_LEVEL_FULL);
    g_assert_cmpmem (got, sizeof x, x, sizeof x);
  }
  /* A NaN wins Max, as in numpy. */
  {
    const float with_nan[] = { 1, NAN, 3, 4 };
    g_autoptr(OpCase) c = op_case_new (13, "ReduceMax");
    g_autofree float *got = NULL;

    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, shape, with_nan);
    kestrel_node_set_attr_ints (op_case_node (c), "axes", axis1, 1);
    op_case_infer_ok (c);
    got = op_case_run (c, KK_LEVEL_SCALAR);
    g_assert_true (isnan (got[0]));
    g_assert_cmpfloat (got[1], ==, 4);
  }
}

static void
test_reduce_errors (void)
{
  const gint64 shape[] = { 2, 2 };
  const float x[] = { 1, 2, 3, 4 };
  const guint8 b[] = { 1, 0, 1, 1 };

  {
    const gint64 axes[] = { 2 };
    g_autoptr(OpCase) c = op_case_new (13, "ReduceMean");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, shape, x);
    kestrel_node_set_attr_ints (op_case_node (c), "axes", axes, 1);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, NULL);
  }
  {
    const gint64 axes[] = { 1, -1 };
    g_autoptr(OpCase) c = op_case_new (18, "ReduceSum");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, shape, x);
    op_case_constant_ints (c, 2, axes);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "twice");
  }
  {
    /* Axes computed at run time decide the shape: refused, named. */
    const gint64 s1 = 1, axes[] = { 0 };
    g_autoptr(OpCase) c = op_case_new (18, "ReduceSum");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, shape, x);
    op_case_input (c, KESTREL_DTYPE_INT64, 1, &s1, axes);
    op_case_expect_error (c, KESTREL_ERROR_UNSUPPORTED, "must be a constant");
  }
  {
    g_autoptr(OpCase) c = op_case_new (13, "ReduceMax");
    op_case_input (c, KESTREL_DTYPE_BOOL, 2, shape, b);
    op_case_expect_error (c, KESTREL_ERROR_UNSUPPORTED, NULL);
  }
}

/* ---- ArgMax / ArgMin ----------------------------------------------------------- */

static void
test_arg (void)
{
  const gint64 shape[] = { 2, 3 };
  /* Ties: 5 twice in row 0, 1 twice in row 1. */
  const float x[] = { 5, 2, 5, 1, 7, 1 };
  const gint32 xi[] = { 5, 2, 5, 1, 7, 1 };
  struct {
    const char *op; gint64 axis, last; gint64 want[3]; guint n;
  } cases[] = {
    { "ArgMax", 1, 0, { 0, 1 }, 2 },
    { "ArgMax", 1, 1, { 2, 1 }, 2 },
    { "ArgMin", 1, 0, { 1, 0 }, 2 },
    { "ArgMin", -1, 1, { 1, 2 }, 2 },
    { "ArgMax", 0, 0, { 0, 1, 0 }, 3 },
    { "ArgMin", 0, 0, { 1, 0, 1 }, 3 },
  };

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    for (guint t = 0; t < 2; t++)
      for (guint l = 0; l < G_N_ELEMENTS (all_levels); l++)
        {
          g_autoptr(OpCase) c = op_case_new (13, cases[k].op);
          g_autofree gint64 *got = NULL;

          op_case_input (c, t == 0 ? KESTREL_DTYPE_FLOAT32 : KESTREL_DTYPE_INT32, 2, shape,
                         t == 0 ? (gconstpointer) x : (gconstpointer) xi);
          kestrel_node_set_attr_int (op_case_node (c), "axis", cases[k].axis);
          kestrel_node_set_attr_int (op_case_node (c), "select_last_index", cases[k].last);
          kestrel_node_set_attr_int (op_case_node (c), "keepdims", 0);
          op_case_infer_ok (c);
          g_assert_cmpint (op_case_output (c, 0)->dtype, ==, KESTREL_DTYPE_INT64);
          g_assert_cmpuint (op_case_output (c, 0)->n_dims, ==, 1);
          got = op_case_run (c, all_levels[l]);
          g_assert_cmpmem (got, cases[k].n * sizeof (gint64), cases[k].want,
                           cases[k].n * sizeof (gint64));
        }
  {
    g_autoptr(OpCase) c = op_case_new (13, "ArgMax");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, shape, x);
    kestrel_node_set_attr_int (op_case_node (c), "axis", 2);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, NULL);
  }
}

/* ---- Comparisons and logic ------------------------------------------------------ */

static void
test_compare (void)
{
  const gint64 sa[] = { 2, 3 }, sb[] = { 3 };
  const float a[] = { 1, 2, 3, 4, 5, 6 }, b[] = { 2, 2, 7 };
  const gint64 ai[] = { 1, 2, 3, 4, 5, 6 }, bi[] = { 2, 2, 7 };
  struct { const char *op; gint64 opset; guint8 want[6]; } cases[] = {
    { "Equal", 11, { 0, 1, 0, 0, 0, 0 } },
    { "Less", 13, { 1, 0, 1, 0, 0, 1 } },
    { "LessOrEqual", 16, { 1, 1, 1, 0, 0, 1 } },
    { "Greater", 13, { 0, 0, 0, 1, 1, 0 } },
    { "GreaterOrEqual", 16, { 0, 1, 0, 1, 1, 0 } },
  };

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    for (guint t = 0; t < 2; t++)
      for (guint l = 0; l < G_N_ELEMENTS (all_levels); l++)
        {
          g_autoptr(OpCase) c = op_case_new (cases[k].opset, cases[k].op);
          g_autofree guint8 *got = NULL;
          KestrelDType dt = t == 0 ? KESTREL_DTYPE_FLOAT32 : KESTREL_DTYPE_INT64;

          op_case_input (c, dt, 2, sa, t == 0 ? (gconstpointer) a : (gconstpointer) ai);
          op_case_input (c, dt, 1, sb, t == 0 ? (gconstpointer) b : (gconstpointer) bi);
          op_case_infer_ok (c);
          g_assert_cmpint (op_case_output (c, 0)->dtype, ==, KESTREL_DTYPE_BOOL);
          got = op_case_run (c, all_levels[l]);
          g_assert_cmpmem (got, 6, cases[k].want, 6);
        }
  {
    g_autoptr(OpCase) c = op_case_new (13, "Less");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, sa, a);
    op_case_input (c, KESTREL_DTYPE_INT64, 1, sb, bi);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "same type");
  }
}

static void
test_logic (void)
{
  const gint64 s4 = 4, s22[] = { 2, 2 }, s21[] = { 2, 1 };
  const guint8 p[] = { 0, 0, 1, 1 }, q[] = { 0, 1, 0, 1 };
  const guint8 col[] = { 1, 0 };
  struct { const char *op; guint8 want[4]; } cases[] = {
    { "And", { 0, 0, 0, 1 } },
    { "Or", { 0, 1, 1, 1 } },
    { "Xor", { 0, 1, 1, 0 } },
    { "Equal", { 1, 0, 0, 1 } },
  };

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      g_autoptr(OpCase) c = op_case_new (13, cases[k].op);
      g_autofree guint8 *got = NULL;

      op_case_input (c, KESTREL_DTYPE_BOOL, 1, &s4, p);
      op_case_input (c, KESTREL_DTYPE_BOOL, 1, &s4, q);
      op_case_infer_ok (c);
      got = op_case_run (c, KK_LEVEL_SCALAR);
      g_assert_cmpmem (got, 4, cases[k].want, 4);
    }
  {
    /* [2,2] and [2,1]: the column broadcasts across. */
    g_autoptr(OpCase) c = op_case_new (13, "And");
    g_autofree guint8 *got = NULL;
    const guint8 m[] = { 0, 1, 1, 1 };

    op_case_input (c, KESTREL_DTYPE_BOOL, 2, s22, m);
    op_case_input (c, KESTREL_DTYPE_BOOL, 2, s21, col);
    op_case_infer_ok (c);
    got = op_case_run (c, KK_LEVEL_FULL);
    g_assert_cmpmem (got, 4, ((const guint8[]) { 0, 1, 0, 0 }), 4);
  }
  {
    g_autoptr(OpCase) c = op_case_new (1, "Not");
    g_autofree guint8 *got = NULL;

    op_case_input (c, KESTREL_DTYPE_BOOL, 1, &s4, q);
    op_case_infer_ok (c);
    got = op_case_run (c, KK_LEVEL_SCALAR);
    g_assert_cmpmem (got, 4, ((const guint8[]) { 1, 0, 1, 0 }), 4);
  }
  {
    const float x[] = { 1, 2, 3, 4 };
    g_autoptr(OpCase) c = op_case_new (13, "And");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 1, &s4, x);
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 1, &s4, x);
    op_case_expect_error (c, KESTREL_ERROR_UNSUPPORTED, NULL);
  }
}

static void
test_where (void)
{
  const gint64 sc[] = { 2, 1 }, sx[] = { 3 }, sy[] = { 2, 3 }, s1 = 1;
  const guint8 cond[] = { 1, 0 };
  const gint64 x[] = { 1, 2, 3 }, y[] = { 10, 20, 30, 40, 50, 60 };
  const gint64 want[] = { 1, 2, 3, 40, 50, 60 };
  const float fx[] = { -1 }, fy[] = { 7, 8, 9 };
  const guint8 fc[] = { 0, 1, 0 };
  const float fwant[] = { 7, -1, 9 };

  for (guint l = 0; l < G_N_ELEMENTS (all_levels); l++)
    {
      g_autoptr(OpCase) c = op_case_new (16, "Where");
      g_autoptr(OpCase) f = op_case_new (9, "Where");
      g_autofree gint64 *got = NULL;
      g_autofree float *fgot = NULL;

      op_case_input (c, KESTREL_DTYPE_BOOL, 2, sc, cond);
      op_case_input (c, KESTREL_DTYPE_INT64, 1, sx, x);
      op_case_input (c, KESTREL_DTYPE_INT64, 2, sy, y);
      op_case_infer_ok (c);
      got = op_case_run (c, all_levels[l]);
      g_assert_cmpmem (got, sizeof want, want, sizeof want);

      op_case_input (f, KESTREL_DTYPE_BOOL, 1, sx, fc);
      op_case_input (f, KESTREL_DTYPE_FLOAT32, 1, &s1, fx);
      op_case_input (f, KESTREL_DTYPE_FLOAT32, 1, sx, fy);
      op_case_infer_ok (f);
      fgot = op_case_run (f, all_levels[l]);
      g_assert_cmpmem (fgot, sizeof fwant, fwant, sizeof fwant);
    }
  {
    g_autoptr(OpCase) c = op_case_new (16, "Where");
    op_case_input (c, KESTREL_DTYPE_BOOL, 2, sc, cond);
    op_case_input (c, KESTREL_DTYPE_INT64, 1, sx, x);
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 1, sx, fy);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "same type");
  }
}

static void
test_is_nan_inf (void)
{
  const gint64 s4 = 4;
  const float x[] = { NAN, INFINITY, -INFINITY, 1 };
  g_autoptr(OpCase) n = op_case_new (13, "IsNaN");
  g_autoptr(OpCase) i = op_case_new (10, "IsInf");
  g_autofree guint8 *got_n = NULL, *got_i = NULL;

  op_case_input (n, KESTREL_DTYPE_FLOAT32, 1, &s4, x);
  op_case_infer_ok (n);
  got_n = op_case_run (n, KK_LEVEL_SCALAR);
  g_assert_cmpmem (got_n, 4, ((const guint8[]) { 1, 0, 0, 0 }), 4);

  op_case_input (i, KESTREL_DTYPE_FLOAT32, 1, &s4, x);
  kestrel_node_set_attr_int (op_case_node (i), "detect_positive", 0);
  op_case_infer_ok (i);
  got_i = op_case_run (i, KK_LEVEL_SCALAR);
  g_assert_cmpmem (got_i, 4, ((const guint8[]) { 0, 0, 1, 0 }), 4);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  test_pool = kestrel_thread_pool_new (2);

  g_test_add_func ("/ops-reduce/random", test_reduce_random);
  g_test_add_func ("/ops-reduce/large", test_reduce_large);
  g_test_add_func ("/ops-reduce/by-hand", test_reduce_by_hand);
  g_test_add_func ("/ops-reduce/errors", test_reduce_errors);
  g_test_add_func ("/ops-reduce/arg", test_arg);
  g_test_add_func ("/ops-logic/compare", test_compare);
  g_test_add_func ("/ops-logic/logic", test_logic);
  g_test_add_func ("/ops-logic/where", test_where);
  g_test_add_func ("/ops-logic/is-nan-inf", test_is_nan_inf);

  status = g_test_run ();
  kestrel_thread_pool_unref (test_pool);
  return status;
}
