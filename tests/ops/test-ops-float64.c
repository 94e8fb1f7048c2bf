/* test-ops-float64.c — the float64 paths: Cast and CastLike to and from
 * double, the arithmetic, Max, Min and Mod, CumSum, the reductions, EyeLike
 * with dtype double, Einsum's matrix products, and double tensors in
 * TensorProto files.
 *
 * Expected values are computed here in double by the formula ONNX defines
 * (or written out where a rounding is the point), and every operator runs
 * at every level: no level may round a double through float.
 */
#include "ops-test-util.h"

#include "kestrel-onnx.h"

/* Cast from double: to float rounds once to nearest; to float16 also once
 * (1 + 2^-11 + 2^-40 is just above the midpoint of two float16 values and
 * must round up, though through the nearest float it would land on the
 * midpoint and round down to even); to int32 truncates, saturates, NaN 0. */
static void
test_cast_from_double (void)
{
  const gint64 s5 = 5;
  const double x[] = { 0.1, 1.0 + 0x1p-11 + 0x1p-40, -2.75, 1e300, NAN };
  const float want_f32[] = { 0.1f, (float) (1.0 + 0x1p-11 + 0x1p-40), -2.75f, INFINITY, NAN };
  const guint16 want_f16[] = { 0x2e66, 0x3c01, 0xc180, 0x7c00, 0x7e00 };
  const gint32 want_i32[] = { 0, 1, -2, G_MAXINT32, 0 };
  const guint8 want_bool[] = { 1, 1, 1, 1, 1 };
  const struct {
    gint64 to;
    gconstpointer want;
    gsize bytes;
  } cases[] = {
    { 10, want_f16, sizeof want_f16 }, { 6, want_i32, sizeof want_i32 },
    { 9, want_bool, sizeof want_bool },
  };

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      g_autoptr(OpCase) c = op_case_new (13, "Cast");

      kestrel_node_set_attr_int (op_case_node (c), "to", cases[k].to);
      op_case_input (c, KESTREL_DTYPE_FLOAT64, 1, &s5, x);
      op_case_infer_ok (c);
      op_case_expect_output (c, cases[k].want, cases[k].bytes);
    }
  /* float32: NaN compared as NaN, the rest bit for bit. */
  for (guint l = 0; l < G_N_ELEMENTS (all_levels); l++)
    {
      g_autoptr(OpCase) c = op_case_new (13, "Cast");
      g_autofree float *got = NULL;

      kestrel_node_set_attr_int (op_case_node (c), "to", 1);
      op_case_input (c, KESTREL_DTYPE_FLOAT64, 1, &s5, x);
      op_case_infer_ok (c);
      g_assert_cmpint (op_case_output (c, 0)->dtype, ==, KESTREL_DTYPE_FLOAT32);
      got = op_case_run (c, all_levels[l]);
      g_assert_cmpmem (got, 4 * sizeof (float), want_f32, 4 * sizeof (float));
      g_assert_true (isnan (got[4]));
    }
}

/* Cast to double is exact from every type, and CastLike takes double from
 * its second input. */
static void
test_cast_to_double (void)
{
  const gint64 s3 = 3;
  const float f[] = { 0.1f, -3.5f, 16777217.0f };
  const guint16 h[] = { 0x3c01, 0xc000, 0x0001 };
  const gint64 i[] = { ((gint64) 1 << 53) + 2, -7, 0 };
  const double like = 0;
  const double want_f[] = { (double) 0.1f, -3.5, 16777216.0 };
  const double want_h[] = { 1.0 + 0x1p-10, -2.0, 0x1p-24 };
  const double want_i[] = { 0x1p53 + 2, -7.0, 0.0 };
  const struct {
    KestrelDType dtype;
    gconstpointer x;
    const double *want;
  } cases[] = {
    { KESTREL_DTYPE_FLOAT32, f, want_f },
    { KESTREL_DTYPE_FLOAT16, h, want_h },
    { KESTREL_DTYPE_INT64, i, want_i },
  };

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      g_autoptr(OpCase) c = op_case_new (13, "Cast");
      g_autoptr(OpCase) cl = op_case_new (15, "CastLike");

      kestrel_node_set_attr_int (op_case_node (c), "to", 11);
      op_case_input (c, cases[k].dtype, 1, &s3, cases[k].x);
      op_case_infer_ok (c);
      g_assert_cmpint (op_case_output (c, 0)->dtype, ==, KESTREL_DTYPE_FLOAT64);
      op_case_expect_output (c, cases[k].want, 3 * sizeof (double));

      op_case_input (cl, cases[k].dtype, 1, &s3, cases[k].x);
      op_case_constant (cl, KESTREL_DTYPE_FLOAT64, 0, NULL, &like);
      op_case_infer_ok (cl);
      op_case_expect_output (cl, cases[k].want, 3 * sizeof (double));
    }
}

/* Add, Sub, Mul, Div, Max, Min and Mod (fmod = 1) in double, with a
 * broadcast second operand: 0.1 + 0.2 is 0.30000000000000004 in double,
 * which float would not give. */
static void
test_arithmetic (void)
{
  const gint64 s23[] = { 2, 3 }, s3 = 3;
  const double a[] = { 0.1, -7.5, 1e200, 3.0, NAN, -0.0 };
  const double b[] = { 0.2, 2.0, 1e200 };
  const char *const ops[] = { "Add", "Sub", "Mul", "Div", "Max", "Min", "Mod" };

  for (guint k = 0; k < G_N_ELEMENTS (ops); k++)
    {
      g_autoptr(OpCase) c = op_case_new (13, ops[k]);
      double want[6];

      for (guint i = 0; i < 6; i++)
        {
          double x = a[i], z = b[i % 3];
          switch (k)
            {
            case 0: want[i] = x + z; break;
            case 1: want[i] = x - z; break;
            case 2: want[i] = x * z; break;
            case 3: want[i] = x / z; break;
            case 4: want[i] = isnan (x) || x > z ? x : z; break;
            case 5: want[i] = isnan (x) || x < z ? x : z; break;
            default: want[i] = fmod (x, z); break;
            }
        }
      if (k == 6)
        kestrel_node_set_attr_int (op_case_node (c), "fmod", 1);
      op_case_input (c, KESTREL_DTYPE_FLOAT64, 2, s23, a);
      op_case_input (c, KESTREL_DTYPE_FLOAT64, 1, &s3, b);
      op_case_infer_ok (c);
      g_assert_cmpint (op_case_output (c, 0)->dtype, ==, KESTREL_DTYPE_FLOAT64);
      op_case_expect_output (c, want, sizeof want);
    }
  {
    g_autoptr(OpCase) c = op_case_new (13, "Mod");
    op_case_input (c, KESTREL_DTYPE_FLOAT64, 2, s23, a);
    op_case_input (c, KESTREL_DTYPE_FLOAT64, 1, &s3, b);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "fmod = 1");
  }
}

/* CumSum accumulates in double, forwards and in reverse, inclusive and
 * exclusive. */
static void
test_cum_sum (void)
{
  const gint64 s4 = 4, s1 = 1, axis = 0;
  const double x[] = { 0.1, 0.2, 0.3, 1e-17 };

  for (gint64 reverse = 0; reverse < 2; reverse++)
    for (gint64 exclusive = 0; exclusive < 2; exclusive++)
      {
        g_autoptr(OpCase) c = op_case_new (14, "CumSum");
        double want[4], acc = 0;

        for (guint s = 0; s < 4; s++)
          {
            guint k = reverse ? 3 - s : s;
            if (exclusive)
              want[k] = acc, acc += x[k];
            else
              acc += x[k], want[k] = acc;
          }
        kestrel_node_set_attr_int (op_case_node (c), "reverse", reverse);
        kestrel_node_set_attr_int (op_case_node (c), "exclusive", exclusive);
        op_case_input (c, KESTREL_DTYPE_FLOAT64, 1, &s4, x);
        op_case_constant (c, KESTREL_DTYPE_INT64, 1, &s1, &axis);
        op_case_infer_ok (c);
        op_case_expect_output (c, want, sizeof want);
      }
}

/* ReduceSum, ReduceMax and ReduceLogSumExp over the last axis, in double
 * (LogSumExp shifted by the largest value, as the operator computes it, so
 * 1000 does not overflow exp). */
static void
test_reduce (void)
{
  const gint64 s23[] = { 2, 3 }, axes = 1, want_shape[] = { 2, 1 };
  const double x[] = { 0.1, 0.2, 0.3, 1000.0, 999.0, -1e300 };
  const double want_sum[] = { (0.1 + 0.2) + 0.3, (1000.0 + 999.0) + -1e300 };
  const double want_max[] = { 0.3, 1000.0 };
  double want_lse[2];

  for (guint r = 0; r < 2; r++)
    {
      double m = want_max[r], acc = 0;
      for (guint i = 0; i < 3; i++)
        acc += exp (x[r * 3 + i] - m);
      want_lse[r] = m + log (acc);
    }
  {
    const struct {
      const char *op;
      const double *want;
    } cases[] = {
      { "ReduceSum", want_sum }, { "ReduceMax", want_max }, { "ReduceLogSumExp", want_lse },
    };
    for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
      {
        g_autoptr(OpCase) c = op_case_new (13, cases[k].op);

        op_case_input (c, KESTREL_DTYPE_FLOAT64, 2, s23, x);
        if (strcmp (cases[k].op, "ReduceSum") == 0)
          op_case_constant_ints (c, 1, &axes);
        else
          kestrel_node_set_attr_ints (op_case_node (c), "axes", &axes, 1);
        op_case_infer_ok (c);
        g_assert_cmpmem (op_case_output (c, 0)->shape, sizeof want_shape, want_shape,
                         sizeof want_shape);
        op_case_expect_output (c, cases[k].want, 2 * sizeof (double));
      }
  }
  {
    /* ArgMax has no float64 (no case needs it): an error naming the type. */
    g_autoptr(OpCase) c = op_case_new (13, "ArgMax");
    op_case_input (c, KESTREL_DTYPE_FLOAT64, 2, s23, x);
    op_case_expect_error (c, KESTREL_ERROR_UNSUPPORTED, "float64");
  }
}

static void
test_eye_like (void)
{
  const gint64 s23[] = { 2, 3 };
  const gint32 x[6] = { 0 };
  const double want[] = { 0, 1, 0, 0, 0, 1 };
  g_autoptr(OpCase) c = op_case_new (9, "EyeLike");

  kestrel_node_set_attr_int (op_case_node (c), "dtype", 11);
  kestrel_node_set_attr_int (op_case_node (c), "k", 1);
  op_case_input (c, KESTREL_DTYPE_INT32, 2, s23, x);
  op_case_infer_ok (c);
  g_assert_cmpint (op_case_output (c, 0)->dtype, ==, KESTREL_DTYPE_FLOAT64);
  op_case_expect_output (c, want, sizeof want);
}

/* "bij,bjk->bik" in double: sums in the order of j, as the operator does;
 * 1e15 + 1 - 1e15 shows they are not done in float. */
static void
test_einsum (void)
{
  const gint64 sa[] = { 2, 1, 3 }, sb[] = { 2, 3, 2 };
  const double a[] = { 1e15, 1, -1e15,   0.1, 0.2, 0.3 };
  const double b[] = { 1, 2, 1, 2, 1, 2,   1, 0, 1, 0, 1, 0 };
  double want[4];
  g_autoptr(OpCase) c = op_case_new (12, "Einsum");

  for (guint bi = 0; bi < 2; bi++)
    for (guint k = 0; k < 2; k++)
      {
        double acc = 0;
        for (guint j = 0; j < 3; j++)
          acc += a[bi * 3 + j] * b[bi * 6 + j * 2 + k];
        want[bi * 2 + k] = acc;
      }
  g_assert_cmpfloat (want[0], ==, 1.0);
  kestrel_node_set_attr_string (op_case_node (c), "equation", "bij,bjk->bik");
  op_case_input (c, KESTREL_DTYPE_FLOAT64, 3, sa, a);
  op_case_input (c, KESTREL_DTYPE_FLOAT64, 3, sb, b);
  op_case_infer_ok (c);
  g_assert_cmpint (op_case_output (c, 0)->dtype, ==, KESTREL_DTYPE_FLOAT64);
  op_case_expect_output (c, want, sizeof want);
}

/* A TensorProto of type DOUBLE (11) with its values in double_data (field
 * 10, packed), and one written by Kestrel (raw_data) read back. */
static void
test_tensor_proto (void)
{
  const double values[] = { 0.1, -1e300, 2.5 };
  g_autoptr(GByteArray) b = g_byte_array_new ();
  g_autoptr(GBytes) bytes = NULL, written = NULL;
  g_autoptr(KestrelTensor) t = NULL, back = NULL;
  g_autoptr(GError) error = NULL;

  pb_int (b, 1, 3);                              /* dims */
  pb_int (b, 2, 11);                             /* data_type: DOUBLE */
  pb_bytes (b, 10, values, sizeof values);       /* double_data, packed */
  bytes = g_bytes_new (b->data, b->len);
  t = kestrel_onnx_tensor_from_bytes (bytes, "double.pb", &error);
  g_assert_no_error (error);
  g_assert_cmpint (kestrel_tensor_get_dtype (t), ==, KESTREL_DTYPE_FLOAT64);
  g_assert_cmpmem (kestrel_tensor_get_data (t), kestrel_tensor_get_n_bytes (t), values,
                   sizeof values);

  written = kestrel_onnx_tensor_to_bytes (t, "x");
  back = kestrel_onnx_tensor_from_bytes (written, "written.pb", &error);
  g_assert_no_error (error);
  g_assert_cmpint (kestrel_tensor_get_dtype (back), ==, KESTREL_DTYPE_FLOAT64);
  g_assert_cmpmem (kestrel_tensor_get_data (back), kestrel_tensor_get_n_bytes (back), values,
                   sizeof values);
  g_assert_cmpstr (kestrel_dtype_get_name (KESTREL_DTYPE_FLOAT64), ==, "float64");
  g_assert_cmpuint (kestrel_dtype_get_size (KESTREL_DTYPE_FLOAT64), ==, 8);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  test_pool = kestrel_thread_pool_new (2);

  g_test_add_func ("/ops-float64/cast-from-double", test_cast_from_double);
  g_test_add_func ("/ops-float64/cast-to-double", test_cast_to_double);
  g_test_add_func ("/ops-float64/arithmetic", test_arithmetic);
  g_test_add_func ("/ops-float64/cum-sum", test_cum_sum);
  g_test_add_func ("/ops-float64/reduce", test_reduce);
  g_test_add_func ("/ops-float64/eye-like", test_eye_like);
  g_test_add_func ("/ops-float64/einsum", test_einsum);
  g_test_add_func ("/ops-float64/tensor-proto", test_tensor_proto);

  status = g_test_run ();
  kestrel_thread_pool_unref (test_pool);
  return status;
}
