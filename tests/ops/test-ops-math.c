/* test-ops-math.c — the elementwise reference operators (core/ops/ops-math*.c).
 *
 * Binary operators run on random shape pairs that exercise every
 * broadcasting case (scalars, size-1 dimensions on either side, empty
 * tensors, different ranks) in every data type, against an oracle that
 * walks the output index by index; unary operators against libm in double.
 * Every case runs at the four levels (scalar, simd, parallel over a pool,
 * full), and some tensors are large enough for the parallel split, which
 * must give the same bits. Errors must name the node.
 *
 * Why one file of more than 800 lines: one test program per operator group
 * (core/ops/ops-math*.c), like the other tests/ops programs; the binary,
 * unary and Clip cases share the broadcasting oracle and the typed
 * load/store at the top, and each test is one case list.
 */
#include "ops-test-util.h"

/* ---- Oracle ---------------------------------------------------------------- */

/* The element of an operand that output element `flat` reads, numpy rules. */
static gsize
broadcast_index (guint out_dims, const gint64 *out, gsize flat, guint dims, const gint64 *shape)
{
  gsize index = 0, stride = 1;

  for (gint d = (gint) out_dims - 1; d >= 0; d--)
    {
      gint64 coord = (gint64) (flat % (gsize) out[d]);
      gint od = d - (gint) (out_dims - dims);

      flat /= (gsize) out[d];
      if (od >= 0)
        {
          if (shape[od] != 1)
            index += (gsize) coord * stride;
          stride *= (gsize) shape[od];
        }
    }
  return index;
}

static double
load (KestrelDType dtype, gconstpointer data, gsize i)
{
  switch (dtype)
    {
    case KESTREL_DTYPE_FLOAT32:
      return ((const float *) data)[i];
    case KESTREL_DTYPE_FLOAT16:
      return f16_to_f32 (((const guint16 *) data)[i]);
    case KESTREL_DTYPE_INT8:
      return ((const gint8 *) data)[i];
    case KESTREL_DTYPE_UINT8:
      return ((const guint8 *) data)[i];
    case KESTREL_DTYPE_INT32:
      return ((const gint32 *) data)[i];
    case KESTREL_DTYPE_INT64:
      return (double) ((const gint64 *) data)[i];
    default:
      g_assert_not_reached ();
    }
}

/* Stores r into element i: float types round once, integers wrap. */
static void
store (KestrelDType dtype, gpointer data, gsize i, double r)
{
  switch (dtype)
    {
    case KESTREL_DTYPE_FLOAT32:
      ((float *) data)[i] = (float) r;
      break;
    case KESTREL_DTYPE_FLOAT16:
      ((guint16 *) data)[i] = f32_to_f16 ((float) r);
      break;
    case KESTREL_DTYPE_INT8:
      ((gint8 *) data)[i] = (gint8) (guint8) (gint64) r;
      break;
    case KESTREL_DTYPE_UINT8:
      ((guint8 *) data)[i] = (guint8) (gint64) r;
      break;
    case KESTREL_DTYPE_INT32:
      ((gint32 *) data)[i] = (gint32) (guint32) (gint64) r;
      break;
    case KESTREL_DTYPE_INT64:
      ((gint64 *) data)[i] = (gint64) r;
      break;
    default:
      g_assert_not_reached ();
    }
}

typedef enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MAX, OP_MIN, OP_POW } BinaryOp;

static const char *const op_names[] = { "Add", "Sub", "Mul", "Div", "Max", "Min", "Pow" };

static gboolean
is_float (KestrelDType dtype)
{
  return dtype == KESTREL_DTYPE_FLOAT32 || dtype == KESTREL_DTYPE_FLOAT16;
}

/* In float for the float types (the operators' precision), exactly in
 * double for the small integers the tests use. */
static double
apply (BinaryOp op, KestrelDType dtype, double a, double b)
{
  if (is_float (dtype))
    {
      float x = (float) a, z = (float) b;
      switch (op)
        {
        case OP_ADD: return x + z;
        case OP_SUB: return x - z;
        case OP_MUL: return x * z;
        case OP_DIV: return x / z;
        case OP_MAX: return x > z ? x : z;
        case OP_MIN: return x < z ? x : z;
        case OP_POW: return powf (x, z);
        default: g_assert_not_reached ();
        }
    }
  switch (op)
    {
    case OP_ADD: return a + b;
    case OP_SUB: return a - b;
    case OP_MUL: return a * b;
    case OP_DIV: return b == 0 ? 0 : trunc (a / b);
    case OP_MAX: return MAX (a, b);
    case OP_MIN: return MIN (a, b);
    case OP_POW: return pow (a, b);
    default: g_assert_not_reached ();
    }
}

static gpointer
random_values (GRand *rand, KestrelDType dtype, gsize n, BinaryOp op, gboolean exponent)
{
  gpointer data = g_malloc (MAX (n, 1) * kestrel_dtype_get_size (dtype));

  for (gsize i = 0; i < n; i++)
    {
      double v;
      if (is_float (dtype))
        v = exponent && op == OP_POW ? g_rand_double_range (rand, -2, 2)
                                     : g_rand_double_range (rand, op == OP_POW ? 0.1 : -10, 10);
      else if (exponent && op == OP_POW)
        v = g_rand_int_range (rand, 0, 4);
      else if (dtype == KESTREL_DTYPE_UINT8)
        v = g_rand_int_range (rand, 0, 40);
      else
        v = g_rand_int_range (rand, -20, 21); /* includes zeros: division by 0 gives 0 */
      store (dtype, data, i, v);
    }
  return data;
}

/* A random output shape and two operand shapes that broadcast to it. */
static void
random_shapes (GRand *rand, guint *out_dims, gint64 *out, guint *a_dims, gint64 *a,
               guint *b_dims, gint64 *b)
{
  static const gint64 sizes[] = { 1, 2, 3, 5, 7 };
  guint partial;

  /* One operand has the output's rank, the other any rank up to it. */
  *out_dims = g_rand_int_range (rand, 0, 5);
  partial = g_rand_int_range (rand, 0, *out_dims + 1);
  *a_dims = g_rand_boolean (rand) ? *out_dims : partial;
  *b_dims = *a_dims == *out_dims ? partial : *out_dims;
  for (guint d = 0; d < *out_dims; d++)
    {
      /* One shape in twenty is empty. */
      out[d] = g_rand_int_range (rand, 0, 20) == 0 ? 0 : sizes[g_rand_int_range (rand, 0, 5)];
    }
  for (guint k = 0; k < 2; k++)
    {
      guint dims = k == 0 ? *a_dims : *b_dims;
      gint64 *shape = k == 0 ? a : b;
      for (guint d = 0; d < dims; d++)
        shape[d] = g_rand_boolean (rand) ? out[*out_dims - dims + d] : 1;
    }
  /* The broadcast of the two is the real output. */
  for (guint d = 0; d < *out_dims; d++)
    {
      gint ia = (gint) d - (gint) (*out_dims - *a_dims), ib = (gint) d - (gint) (*out_dims - *b_dims);
      gint64 da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
      out[d] = da == 1 ? db : da;
    }
}

static void
check_binary (BinaryOp op, KestrelDType dtype, guint a_dims, const gint64 *a_shape,
              gconstpointer a, guint b_dims, const gint64 *b_shape, gconstpointer b)
{
  g_autoptr(OpCase) c = op_case_new (14, op_names[op]);
  const KestrelValue *out;
  gsize n, es = kestrel_dtype_get_size (dtype);
  g_autofree guint8 *want = NULL;

  op_case_input (c, dtype, a_dims, a_shape, a);
  op_case_input (c, dtype, b_dims, b_shape, b);
  op_case_infer_ok (c);
  out = op_case_output (c, 0);
  g_assert_cmpint (out->dtype, ==, dtype);
  n = kestrel_value_n_elements (out);

  want = g_malloc (MAX (n, 1) * es);
  for (gsize i = 0; i < n; i++)
    store (dtype, want, i,
           apply (op, dtype,
                  load (dtype, a, broadcast_index (out->n_dims, out->shape, i, a_dims, a_shape)),
                  load (dtype, b, broadcast_index (out->n_dims, out->shape, i, b_dims, b_shape))));

  for (guint l = 0; l < G_N_ELEMENTS (all_levels); l++)
    {
      g_autofree guint8 *got = op_case_run (c, all_levels[l]);
      for (gsize i = 0; i < n; i++)
        if (memcmp (got + i * es, want + i * es, es) != 0)
          {
            g_autofree char *sa = kestrel_shape_to_string (a_dims, a_shape);
            g_autofree char *sb = kestrel_shape_to_string (b_dims, b_shape);
            g_error ("%s %s%s %s at level %s: element %zu is %g, expected %g", op_names[op],
                     kestrel_dtype_get_name (dtype), sa, sb, kk_level_name (all_levels[l]), i,
                     load (dtype, got, i), load (dtype, want, i));
          }
    }
}

static void
test_broadcast_random (void)
{
  static const KestrelDType dtypes[] = {
    KESTREL_DTYPE_FLOAT32, KESTREL_DTYPE_FLOAT16, KESTREL_DTYPE_INT8, KESTREL_DTYPE_UINT8,
    KESTREL_DTYPE_INT32, KESTREL_DTYPE_INT64,
  };
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);

  for (guint iter = 0; iter < 60; iter++)
    for (guint op = OP_ADD; op <= OP_POW; op++)
      for (guint t = 0; t < G_N_ELEMENTS (dtypes); t++)
        {
          guint out_dims, a_dims, b_dims;
          gint64 out[4], a_shape[4], b_shape[4];
          g_autofree gpointer a = NULL, b = NULL;

          /* Pow is float and int32 / int64 only. */
          if (op == OP_POW && (dtypes[t] == KESTREL_DTYPE_INT8 || dtypes[t] == KESTREL_DTYPE_UINT8))
            continue;
          random_shapes (rand, &out_dims, out, &a_dims, a_shape, &b_dims, b_shape);
          a = random_values (rand, dtypes[t], shape_elements (a_dims, a_shape), op, FALSE);
          b = random_values (rand, dtypes[t], shape_elements (b_dims, b_shape), op, TRUE);
          check_binary (op, dtypes[t], a_dims, a_shape, a, b_dims, b_shape, b);
        }
}

/* Big enough for the parallel split, which cuts rows anywhere. */
static void
test_broadcast_large (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  const gint64 a_shape[] = { 3, 200, 129 }, b_shape[] = { 200, 1 }, c_shape[] = { 129 };
  g_autofree float *a = random_floats (rand, 3 * 200 * 129, -5, 5);
  g_autofree float *b = random_floats (rand, 200, -5, 5);
  g_autofree float *c = random_floats (rand, 129, -5, 5);
  g_autofree float *same = random_floats (rand, 3 * 200 * 129, -5, 5);

  check_binary (OP_ADD, KESTREL_DTYPE_FLOAT32, 3, a_shape, a, 2, b_shape, b);
  check_binary (OP_MUL, KESTREL_DTYPE_FLOAT32, 2, b_shape, b, 3, a_shape, a);
  check_binary (OP_SUB, KESTREL_DTYPE_FLOAT32, 3, a_shape, a, 1, c_shape, c);
  /* Same shapes: Add goes through kernels->add_clamp_f32. */
  check_binary (OP_ADD, KESTREL_DTYPE_FLOAT32, 3, a_shape, a, 3, a_shape, same);
  check_binary (OP_DIV, KESTREL_DTYPE_FLOAT32, 3, a_shape, a, 0, NULL, c);
}

/* Pow by a scalar 2 is the correctly rounded square x * x at every level
 * (as ONNX Runtime computes it), by any other exponent powf. */
static void
test_pow_square (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);
  const gint64 shape[] = { 3, 4001 };
  const float two = 2.0f, half = 0.5f;
  g_autofree float *x = random_floats (rand, 3 * 4001, -1e3, 1e3);

  x[0] = -0.0f;
  x[1] = INFINITY;
  x[2] = 1e30f;
  for (guint e = 0; e < 2; e++)
    {
      g_autoptr(OpCase) c = op_case_new (15, "Pow");
      float exponent = e == 0 ? two : half;

      op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, shape, x);
      op_case_input (c, KESTREL_DTYPE_FLOAT32, 0, NULL, &exponent);
      op_case_infer_ok (c);
      for (guint l = 0; l < G_N_ELEMENTS (all_levels); l++)
        {
          g_autofree float *got = op_case_run (c, all_levels[l]);
          for (gsize i = 0; i < 3 * 4001; i++)
            {
              float want = e == 0 ? x[i] * x[i] : powf (x[i], exponent);
              if (memcmp (&got[i], &want, sizeof want) != 0 && !(isnan (want) && isnan (got[i])))
                g_error ("Pow (%g, %g) at level %s is %.9g, expected %.9g", (double) x[i],
                         (double) exponent, kk_level_name (all_levels[l]), (double) got[i],
                         (double) want);
            }
        }
    }
}

/* Integer division never traps: by zero gives 0, MIN / -1 wraps. */
static void
test_integer_division (void)
{
  const gint32 a32[] = { 7, -7, G_MININT32, 5 }, b32[] = { 2, 2, -1, 0 };
  const gint32 want32[] = { 3, -3, G_MININT32, 0 };
  const gint64 a64[] = { G_MININT64, 9 }, b64[] = { -1, 0 };
  const gint64 want64[] = { G_MININT64, 0 };
  const gint64 s4 = 4, s2 = 2;

  for (guint l = 0; l < G_N_ELEMENTS (all_levels); l++)
    {
      g_autoptr(OpCase) c32 = op_case_new (14, "Div");
      g_autoptr(OpCase) c64 = op_case_new (14, "Div");
      g_autofree gint32 *got32 = NULL;
      g_autofree gint64 *got64 = NULL;

      op_case_input (c32, KESTREL_DTYPE_INT32, 1, &s4, a32);
      op_case_input (c32, KESTREL_DTYPE_INT32, 1, &s4, b32);
      op_case_infer_ok (c32);
      got32 = op_case_run (c32, all_levels[l]);
      g_assert_cmpmem (got32, sizeof want32, want32, sizeof want32);

      op_case_input (c64, KESTREL_DTYPE_INT64, 1, &s2, a64);
      op_case_input (c64, KESTREL_DTYPE_INT64, 1, &s2, b64);
      op_case_infer_ok (c64);
      got64 = op_case_run (c64, all_levels[l]);
      g_assert_cmpmem (got64, sizeof want64, want64, sizeof want64);
    }
}

/* Pow with an exponent of another type: the result has the base's type. */
static void
test_pow_mixed (void)
{
  const gint32 base[] = { 2, 3, -2 };
  const float exponent[] = { 0.5f, 2, 3 };
  const gint32 want[] = { 1, 9, -8 };
  const float fbase[] = { 2, 0.5f, -3 };
  const gint64 iexp[] = { 3, -1, 2 };
  const float fwant[] = { 8, 2, 9 };
  const gint64 s3 = 3;
  g_autoptr(OpCase) c = op_case_new (15, "Pow");
  g_autoptr(OpCase) f = op_case_new (15, "Pow");

  op_case_input (c, KESTREL_DTYPE_INT32, 1, &s3, base);
  op_case_input (c, KESTREL_DTYPE_FLOAT32, 1, &s3, exponent);
  op_case_infer_ok (c);
  g_assert_cmpint (op_case_output (c, 0)->dtype, ==, KESTREL_DTYPE_INT32);
  op_case_input (f, KESTREL_DTYPE_FLOAT32, 1, &s3, fbase);
  op_case_input (f, KESTREL_DTYPE_INT64, 1, &s3, iexp);
  op_case_infer_ok (f);
  for (guint l = 0; l < G_N_ELEMENTS (all_levels); l++)
    {
      g_autofree gint32 *got = op_case_run (c, all_levels[l]);
      g_autofree float *fgot = op_case_run (f, all_levels[l]);
      g_assert_cmpmem (got, sizeof want, want, sizeof want);
      g_assert_cmpmem (fgot, sizeof fwant, fwant, sizeof fwant);
    }
}

/* ---- Variadic and PRelu ------------------------------------------------------ */

static void
test_variadic (void)
{
  static const char *const ops[] = { "Max", "Min", "Sum", "Mean" };
  const gint64 s0[] = { 2, 1, 3 }, s1[] = { 4, 1 }, s2[] = { 3 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);
  g_autofree float *x0 = random_floats (rand, 6, -3, 3);
  g_autofree float *x1 = random_floats (rand, 4, -3, 3);
  g_autofree float *x2 = random_floats (rand, 3, -3, 3);

  for (guint o = 0; o < G_N_ELEMENTS (ops); o++)
    {
      g_autoptr(OpCase) c = op_case_new (13, ops[o]);
      g_autoptr(OpCase) one = op_case_new (13, ops[o]);
      const KestrelValue *out;
      float want[24];

      op_case_input (c, KESTREL_DTYPE_FLOAT32, 3, s0, x0);
      op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, s1, x1);
      op_case_input (c, KESTREL_DTYPE_FLOAT32, 1, s2, x2);
      op_case_infer_ok (c);
      out = op_case_output (c, 0);
      g_assert_cmpuint (out->n_dims, ==, 3);
      g_assert_cmpint (out->shape[0], ==, 2);
      g_assert_cmpint (out->shape[1], ==, 4);
      g_assert_cmpint (out->shape[2], ==, 3);
      for (gsize i = 0; i < 24; i++)
        {
          float a = x0[broadcast_index (3, out->shape, i, 3, s0)];
          float b = x1[broadcast_index (3, out->shape, i, 2, s1)];
          float d = x2[broadcast_index (3, out->shape, i, 1, s2)];
          switch (o)
            {
            case 0: want[i] = MAX (MAX (a, b), d); break;
            case 1: want[i] = MIN (MIN (a, b), d); break;
            case 2: want[i] = (a + b) + d; break;
            default: want[i] = ((a + b) + d) / 3; break;
            }
        }
      /* One input: a copy. */
      op_case_input (one, KESTREL_DTYPE_FLOAT32, 3, s0, x0);
      op_case_infer_ok (one);
      for (guint l = 0; l < G_N_ELEMENTS (all_levels); l++)
        {
          g_autofree float *got = op_case_run (c, all_levels[l]);
          g_autofree float *copy = op_case_run (one, all_levels[l]);
          g_assert_cmpmem (got, sizeof want, want, sizeof want);
          g_assert_cmpmem (copy, 6 * sizeof (float), x0, 6 * sizeof (float));
        }
    }
}

/* NaN wins in Max and Min, as in numpy. */
static void
test_max_nan (void)
{
  const float a[] = { 1, NAN, 3 }, b[] = { NAN, 2, 1 };
  const gint64 s3 = 3;
  g_autoptr(OpCase) c = op_case_new (13, "Max");
  g_autofree float *got = NULL;

  op_case_input (c, KESTREL_DTYPE_FLOAT32, 1, &s3, a);
  op_case_input (c, KESTREL_DTYPE_FLOAT32, 1, &s3, b);
  op_case_infer_ok (c);
  got = op_case_run (c, KK_LEVEL_SCALAR);
  g_assert_true (isnan (got[0]) && isnan (got[1]));
  g_assert_cmpfloat (got[2], ==, 3);
}

static void
test_prelu (void)
{
  const gint64 x_shape[] = { 2, 3, 4 }, slope_shape[] = { 3, 1 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);
  g_autofree float *x = random_floats (rand, 24, -4, 4);
  const float slope[] = { 0.1f, -2, 0.5f };
  g_autoptr(OpCase) c = op_case_new (16, "PRelu");

  op_case_input (c, KESTREL_DTYPE_FLOAT32, 3, x_shape, x);
  op_case_constant (c, KESTREL_DTYPE_FLOAT32, 2, slope_shape, slope);
  op_case_infer_ok (c);
  for (guint l = 0; l < G_N_ELEMENTS (all_levels); l++)
    {
      g_autofree float *got = op_case_run (c, all_levels[l]);
      for (gsize i = 0; i < 24; i++)
        g_assert_cmpfloat (got[i], ==, x[i] < 0 ? x[i] * slope[(i / 4) % 3] : x[i]);
    }
}

/* Opsets 1 to 6: B broadcasts to A only when asked, aligned at `axis`;
 * PRelu 6 takes a slope per channel. */
static void
test_legacy_broadcast (void)
{
  const gint64 a_shape[] = { 2, 3, 4 }, b_shape[] = { 3 }, c_shape[] = { 4 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (13);
  g_autofree float *a = random_floats (rand, 24, -3, 3);
  const float b[] = { 10, 20, 30 }, c[] = { 1, 2, 3, 4 };

  for (guint l = 0; l < G_N_ELEMENTS (all_levels); l++)
    {
      g_autoptr(OpCase) axis1 = op_case_new (6, "Add");
      g_autoptr(OpCase) suffix = op_case_new (6, "Mul");
      g_autoptr(OpCase) prelu = op_case_new (6, "PRelu");
      g_autofree float *got = NULL, *got2 = NULL, *got3 = NULL;

      kestrel_node_set_attr_int (op_case_node (axis1), "broadcast", 1);
      kestrel_node_set_attr_int (op_case_node (axis1), "axis", 1);
      op_case_input (axis1, KESTREL_DTYPE_FLOAT32, 3, a_shape, a);
      op_case_constant (axis1, KESTREL_DTYPE_FLOAT32, 1, b_shape, b);
      op_case_infer_ok (axis1);
      got = op_case_run (axis1, all_levels[l]);
      for (guint i = 0; i < 24; i++)
        g_assert_cmpfloat (got[i], ==, a[i] + b[(i / 4) % 3]);

      kestrel_node_set_attr_int (op_case_node (suffix), "broadcast", 1);
      op_case_input (suffix, KESTREL_DTYPE_FLOAT32, 3, a_shape, a);
      op_case_input (suffix, KESTREL_DTYPE_FLOAT32, 1, c_shape, c);
      op_case_infer_ok (suffix);
      got2 = op_case_run (suffix, all_levels[l]);
      for (guint i = 0; i < 24; i++)
        g_assert_cmpfloat (got2[i], ==, a[i] * c[i % 4]);

      op_case_input (prelu, KESTREL_DTYPE_FLOAT32, 3, a_shape, a);
      op_case_constant (prelu, KESTREL_DTYPE_FLOAT32, 1, b_shape, b);
      op_case_infer_ok (prelu);
      got3 = op_case_run (prelu, all_levels[l]);
      for (guint i = 0; i < 24; i++)
        g_assert_cmpfloat (got3[i], ==, a[i] < 0 ? a[i] * b[(i / 4) % 3] : a[i]);
    }
  {
    /* Without `broadcast` the shapes must be equal. */
    g_autoptr(OpCase) c6 = op_case_new (6, "Add");
    op_case_input (c6, KESTREL_DTYPE_FLOAT32, 3, a_shape, a);
    op_case_input (c6, KESTREL_DTYPE_FLOAT32, 1, c_shape, c);
    op_case_expect_error (c6, KESTREL_ERROR_CORRUPT, "'broadcast'");
  }
  {
    g_autoptr(OpCase) c6 = op_case_new (6, "Add");
    kestrel_node_set_attr_int (op_case_node (c6), "broadcast", 1);
    kestrel_node_set_attr_int (op_case_node (c6), "axis", 0);
    op_case_input (c6, KESTREL_DTYPE_FLOAT32, 3, a_shape, a);
    op_case_input (c6, KESTREL_DTYPE_FLOAT32, 1, c_shape, c);
    op_case_expect_error (c6, KESTREL_ERROR_CORRUPT, "does not broadcast");
  }
}

/* ---- Unary ------------------------------------------------------------------- */

typedef struct {
  const char *op;
  gint64 opset;
  double lo, hi;
  double (*oracle) (double x);
} UnaryCase;

static double o_relu (double x) { return x > 0 ? x : 0; }
static double o_leaky (double x) { return x < 0 ? 0.1 * x : x; }
static double o_sigmoid (double x) { return 1 / (1 + exp (-x)); }
static double o_hsig (double x) { return CLAMP (0.2 * x + 0.5, 0, 1); }
static double o_hswish (double x) { return x * CLAMP (x / 6 + 0.5, 0, 1); }
static double o_neg (double x) { return -x; }
static double o_reciprocal (double x) { return 1 / x; }
static double o_elu (double x) { return x < 0 ? exp (x) - 1 : x; }
static double
o_selu (double x)
{
  return 1.0507009873554804934193349852946
         * (x > 0 ? x : 1.6732632423543772848170429916717 * (exp (x) - 1));
}
static double o_softplus (double x) { return log1p (exp (x)); }
static double o_softsign (double x) { return x / (1 + fabs (x)); }
static double o_thresholded (double x) { return x > 1 ? x : 0; }
static double o_celu (double x) { return x > 0 ? x : exp (x) - 1; }
static double o_shrink (double x) { return x < -0.5 || x > 0.5 ? x : 0; }
static double o_sign (double x) { return x > 0 ? 1 : x < 0 ? -1 : 0; }
static double o_mish (double x) { return x * tanh (log1p (exp (x))); }
static double o_gelu (double x) { return 0.5 * x * (1 + erf (x / sqrt (2))); }

static const UnaryCase unary_cases[] = {
  { "Relu", 14, -5, 5, o_relu },
  { "LeakyRelu", 16, -5, 5, o_leaky },
  { "Sigmoid", 13, -20, 20, o_sigmoid },
  { "HardSigmoid", 6, -5, 5, o_hsig },
  { "HardSwish", 14, -5, 5, o_hswish },
  { "Tanh", 13, -5, 5, tanh },
  { "Exp", 13, -10, 10, exp },
  { "Log", 13, 0.01, 100, log },
  { "Sqrt", 13, 0, 100, sqrt },
  { "Neg", 13, -5, 5, o_neg },
  { "Abs", 13, -5, 5, fabs },
  { "Reciprocal", 13, 0.1, 10, o_reciprocal },
  { "Erf", 13, -3, 3, erf },
  { "Elu", 6, -5, 5, o_elu },
  { "Selu", 6, -5, 5, o_selu },
  { "Softplus", 7, -100, 100, o_softplus },
  { "Softsign", 7, -5, 5, o_softsign },
  { "ThresholdedRelu", 10, -3, 3, o_thresholded },
  { "Celu", 12, -5, 5, o_celu },
  { "Floor", 13, -5, 5, floor },
  { "Ceil", 13, -5, 5, ceil },
  { "Round", 11, -5, 5, nearbyint },
  { "Sign", 13, -5, 5, o_sign },
  { "Shrink", 9, -2, 2, o_shrink },
  { "Mish", 18, -20, 20, o_mish },
  { "Gelu", 20, -6, 6, o_gelu },
  { "Sin", 7, -6, 6, sin },
  { "Cos", 7, -6, 6, cos },
  { "Tan", 7, -1.2, 1.2, tan },
  { "Asin", 7, -1, 1, asin },
  { "Acos", 7, -1, 1, acos },
  { "Atan", 7, -6, 6, atan },
  { "Sinh", 9, -5, 5, sinh },
  { "Cosh", 9, -5, 5, cosh },
  { "Asinh", 9, -6, 6, asinh },
  { "Acosh", 9, 1, 10, acosh },
  { "Atanh", 9, -0.99, 0.99, atanh },
};

static void
test_unary (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  /* Large enough for the parallel levels to split it. */
  const gint64 shape[] = { 5, 8000 };

  for (guint u = 0; u < G_N_ELEMENTS (unary_cases); u++)
    {
      const UnaryCase *uc = &unary_cases[u];
      g_autoptr(OpCase) c = op_case_new (uc->opset, uc->op);
      g_autofree float *x = random_floats (rand, 40000, uc->lo, uc->hi);
      /* The result of the scalar levels, and of the SIMD ones: Sigmoid runs
       * on kernels->sigmoid_f32, whose SIMD versions differ from the scalar
       * one by rounding (within the oracle's tolerance); threads never
       * change a bit. */
      g_autofree float *serial = NULL, *serial_simd = NULL;

      if (strcmp (uc->op, "LeakyRelu") == 0)
        kestrel_node_set_attr_float (op_case_node (c), "alpha", 0.1f);
      op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, shape, x);
      op_case_infer_ok (c);
      for (guint l = 0; l < G_N_ELEMENTS (all_levels); l++)
        {
          g_autofree float *got = op_case_run (c, all_levels[l]);
          for (gsize i = 0; i < 40000; i++)
            if (!floats_close (got[i], uc->oracle (x[i]), 1e-5, 1e-6))
              g_error ("%s (%g) at level %s is %.9g, expected %.9g", uc->op, (double) x[i],
                       kk_level_name (all_levels[l]), (double) got[i], uc->oracle (x[i]));
          float **same = kk_level_isa (all_levels[l]) == KK_ISA_SCALAR || strcmp (uc->op, "Sigmoid") != 0
                         ? &serial : &serial_simd;
          if (*same == NULL)
            *same = g_steal_pointer (&got);
          else
            g_assert_cmpmem (got, 40000 * sizeof (float), *same, 40000 * sizeof (float));
        }
    }
}

/* Hand-computed values where libm is not the definition: Round's halves
 * go to even, Gelu's tanh form, Sign of ints. */
static void
test_unary_special (void)
{
  const gint64 s6 = 6, s4 = 4;
  const float x[] = { -2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f };
  const float rounded[] = { -2, -2, -0.0f, 0, 2, 2 };
  const float g[] = { -1, 0, 1, 2 };
  /* 0.5 x (1 + tanh (sqrt (2 / pi) (x + 0.044715 x^3))) */
  const double gelu_tanh[] = { -0.158808, 0, 0.841192, 1.954598 };
  const gint32 xi[] = { -7, 0, 3, G_MININT32 };
  const gint32 signs[] = { -1, 0, 1, -1 };

  for (guint l = 0; l < G_N_ELEMENTS (all_levels); l++)
    {
      g_autoptr(OpCase) r = op_case_new (11, "Round");
      g_autoptr(OpCase) gt = op_case_new (20, "Gelu");
      g_autoptr(OpCase) sg = op_case_new (13, "Sign");
      g_autofree float *got_r = NULL, *got_g = NULL;
      g_autofree gint32 *got_s = NULL;

      op_case_input (r, KESTREL_DTYPE_FLOAT32, 1, &s6, x);
      op_case_infer_ok (r);
      got_r = op_case_run (r, all_levels[l]);
      g_assert_cmpmem (got_r, sizeof rounded, rounded, sizeof rounded);

      kestrel_node_set_attr_string (op_case_node (gt), "approximate", "tanh");
      op_case_input (gt, KESTREL_DTYPE_FLOAT32, 1, &s4, g);
      op_case_infer_ok (gt);
      got_g = op_case_run (gt, all_levels[l]);
      for (guint i = 0; i < 4; i++)
        g_assert_true (floats_close (got_g[i], gelu_tanh[i], 1e-5, 1e-6));

      op_case_input (sg, KESTREL_DTYPE_INT32, 1, &s4, xi);
      op_case_infer_ok (sg);
      got_s = op_case_run (sg, all_levels[l]);
      g_assert_cmpmem (got_s, sizeof signs, signs, sizeof signs);
    }
  {
    g_autoptr(OpCase) c = op_case_new (20, "Gelu");
    kestrel_node_set_attr_string (op_case_node (c), "approximate", "erf");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 1, &s4, g);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "'none' or 'tanh'");
  }
}

/* Mod: fmod = 0 takes the divisor's sign (integers only), fmod = 1 the
 * dividend's; a zero divisor gives 0 for integers. */
static void
test_mod (void)
{
  const gint64 s4 = 4, s1 = 1;
  const gint32 x[] = { -7, 7, -7, 7 }, z[] = { 3, -3, -3, 0 };
  const gint32 floored[] = { 2, -2, -1, 0 }, truncated[] = { -1, 1, -1, 0 };
  const float fx[] = { -7.5f, 7.5f, 1, 2 }, fz = 2;
  const float fwant[] = { -1.5f, 1.5f, 1, 0 };

  for (guint l = 0; l < G_N_ELEMENTS (all_levels); l++)
    for (gint64 f = 0; f < 2; f++)
      {
        g_autoptr(OpCase) c = op_case_new (13, "Mod");
        g_autofree gint32 *got = NULL;

        kestrel_node_set_attr_int (op_case_node (c), "fmod", f);
        op_case_input (c, KESTREL_DTYPE_INT32, 1, &s4, x);
        op_case_input (c, KESTREL_DTYPE_INT32, 1, &s4, z);
        op_case_infer_ok (c);
        got = op_case_run (c, all_levels[l]);
        g_assert_cmpmem (got, sizeof floored, f == 0 ? floored : truncated, sizeof floored);
      }
  {
    g_autoptr(OpCase) c = op_case_new (13, "Mod");
    g_autofree float *got = NULL;

    kestrel_node_set_attr_int (op_case_node (c), "fmod", 1);
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 1, &s4, fx);
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 1, &s1, &fz);
    op_case_infer_ok (c);
    got = op_case_run (c, KK_LEVEL_SCALAR);
    g_assert_cmpmem (got, sizeof fwant, fwant, sizeof fwant);
  }
  {
    g_autoptr(OpCase) c = op_case_new (13, "Mod");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 1, &s4, fx);
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 1, &s1, &fz);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "fmod = 1");
  }
}

/* BitShift on uint8 at every level, with a broadcast shift amount and
 * shifts past the width (0, as numpy gives); a missing or unknown
 * direction is an error naming it. */
static void
test_bit_shift (void)
{
  const gint64 s4 = 4, s1 = 1;
  const guint8 x[] = { 0x81, 16, 255, 3 }, z[] = { 1, 2, 8, 7 }, one = 1;
  const guint8 left[] = { 0x02, 64, 0, 128 }, right[] = { 0x40, 4, 0, 0 };
  const guint8 left_one[] = { 0x02, 32, 254, 6 };

  for (guint l = 0; l < G_N_ELEMENTS (all_levels); l++)
    for (guint d = 0; d < 2; d++)
      {
        g_autoptr(OpCase) c = op_case_new (11, "BitShift");
        g_autoptr(OpCase) b = op_case_new (11, "BitShift");
        g_autofree guint8 *got = NULL, *got_b = NULL;

        kestrel_node_set_attr_string (op_case_node (c), "direction", d == 0 ? "LEFT" : "RIGHT");
        op_case_input (c, KESTREL_DTYPE_UINT8, 1, &s4, x);
        op_case_input (c, KESTREL_DTYPE_UINT8, 1, &s4, z);
        op_case_infer_ok (c);
        got = op_case_run (c, all_levels[l]);
        g_assert_cmpmem (got, sizeof left, d == 0 ? left : right, sizeof left);

        kestrel_node_set_attr_string (op_case_node (b), "direction", "LEFT");
        op_case_input (b, KESTREL_DTYPE_UINT8, 1, &s4, x);
        op_case_input (b, KESTREL_DTYPE_UINT8, 1, &s1, &one);
        op_case_infer_ok (b);
        got_b = op_case_run (b, all_levels[l]);
        g_assert_cmpmem (got_b, sizeof left_one, left_one, sizeof left_one);
      }
  {
    g_autoptr(OpCase) c = op_case_new (11, "BitShift");
    op_case_input (c, KESTREL_DTYPE_UINT8, 1, &s4, x);
    op_case_input (c, KESTREL_DTYPE_UINT8, 1, &s4, z);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "'direction' must be");
  }
  {
    g_autoptr(OpCase) c = op_case_new (11, "BitShift");
    kestrel_node_set_attr_string (op_case_node (c), "direction", "UP");
    op_case_input (c, KESTREL_DTYPE_UINT8, 1, &s4, x);
    op_case_input (c, KESTREL_DTYPE_UINT8, 1, &s4, z);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "not \"UP\"");
  }
  {
    const gint32 xi[] = { 1, 2, 3, 4 };
    g_autoptr(OpCase) c = op_case_new (11, "BitShift");
    kestrel_node_set_attr_string (op_case_node (c), "direction", "LEFT");
    op_case_input (c, KESTREL_DTYPE_INT32, 1, &s4, xi);
    op_case_input (c, KESTREL_DTYPE_INT32, 1, &s4, xi);
    op_case_expect_error (c, KESTREL_ERROR_UNSUPPORTED, "int32");
  }
}

static void
test_unary_ints (void)
{
  const gint8 x8[] = { -128, -3, 0, 5 };
  const gint8 relu8[] = { 0, 0, 0, 5 }, abs8[] = { -128, 3, 0, 5 }, neg8[] = { -128, 3, 0, -5 };
  const gint64 x64[] = { -9, 4 };
  const gint64 neg64[] = { 9, -4 };
  const gint64 s4 = 4, s2 = 2;
  struct { const char *op; gconstpointer want; } cases[] = {
    { "Relu", relu8 }, { "Abs", abs8 }, { "Neg", neg8 },
  };

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      g_autoptr(OpCase) c = op_case_new (14, cases[k].op);
      g_autofree gint8 *got = NULL;

      op_case_input (c, KESTREL_DTYPE_INT8, 1, &s4, x8);
      op_case_infer_ok (c);
      got = op_case_run (c, KK_LEVEL_SCALAR);
      g_assert_cmpmem (got, 4, cases[k].want, 4);
    }
  {
    g_autoptr(OpCase) c = op_case_new (13, "Neg");
    g_autofree gint64 *got = NULL;

    op_case_input (c, KESTREL_DTYPE_INT64, 1, &s2, x64);
    op_case_infer_ok (c);
    got = op_case_run (c, KK_LEVEL_FULL);
    g_assert_cmpmem (got, sizeof neg64, neg64, sizeof neg64);
  }
}

/* ---- Clip -------------------------------------------------------------------- */

static void
check_floats (gconstpointer got, const float *want, gsize n)
{
  g_assert_cmpmem (got, n * sizeof (float), want, n * sizeof (float));
}

static void
test_clip (void)
{
  const float x[] = { -3, -1, 0, 0.5f, 2, 7 };
  const float lo = -1, hi = 2, big = 5;
  const float want[] = { -1, -1, 0, 0.5f, 2, 2 };
  const float want_hi[] = { -3, -1, 0, 0.5f, 2, 2 };
  const float all_hi[] = { 2, 2, 2, 2, 2, 2 };
  const float want_attr[] = { -1, -1, 0, 0.5f, 2, 5 };
  const gint64 s6 = 6;

  for (guint l = 0; l < G_N_ELEMENTS (all_levels); l++)
    {
      g_autoptr(OpCase) constant = op_case_new (13, "Clip");
      g_autoptr(OpCase) runtime = op_case_new (13, "Clip");
      g_autoptr(OpCase) only_max = op_case_new (13, "Clip");
      g_autoptr(OpCase) crossed = op_case_new (13, "Clip");
      g_autoptr(OpCase) v6 = op_case_new (7, "Clip");
      g_autofree float *a = NULL, *b = NULL, *d = NULL, *e = NULL, *f = NULL;

      op_case_input (constant, KESTREL_DTYPE_FLOAT32, 1, &s6, x);
      op_case_constant (constant, KESTREL_DTYPE_FLOAT32, 0, NULL, &lo);
      op_case_constant (constant, KESTREL_DTYPE_FLOAT32, 0, NULL, &hi);
      op_case_infer_ok (constant);
      a = op_case_run (constant, all_levels[l]);
      check_floats (a, want, 6);

      /* Bounds computed at run time. */
      op_case_input (runtime, KESTREL_DTYPE_FLOAT32, 1, &s6, x);
      op_case_input (runtime, KESTREL_DTYPE_FLOAT32, 0, NULL, &lo);
      op_case_input (runtime, KESTREL_DTYPE_FLOAT32, 0, NULL, &hi);
      op_case_infer_ok (runtime);
      b = op_case_run (runtime, all_levels[l]);
      check_floats (b, want, 6);

      op_case_input (only_max, KESTREL_DTYPE_FLOAT32, 1, &s6, x);
      op_case_omit (only_max);
      op_case_input (only_max, KESTREL_DTYPE_FLOAT32, 0, NULL, &hi);
      op_case_infer_ok (only_max);
      d = op_case_run (only_max, all_levels[l]);
      check_floats (d, want_hi, 6);

      /* min > max: numpy.clip gives max everywhere. */
      op_case_input (crossed, KESTREL_DTYPE_FLOAT32, 1, &s6, x);
      op_case_constant (crossed, KESTREL_DTYPE_FLOAT32, 0, NULL, &big);
      op_case_constant (crossed, KESTREL_DTYPE_FLOAT32, 0, NULL, &hi);
      op_case_infer_ok (crossed);
      e = op_case_run (crossed, all_levels[l]);
      check_floats (e, all_hi, 6);

      /* Opset 6 to 10: attributes. */
      op_case_input (v6, KESTREL_DTYPE_FLOAT32, 1, &s6, x);
      kestrel_node_set_attr_float (op_case_node (v6), "min", -1);
      kestrel_node_set_attr_float (op_case_node (v6), "max", 5);
      op_case_infer_ok (v6);
      f = op_case_run (v6, all_levels[l]);
      check_floats (f, want_attr, 6);
    }
}

static void
test_clip_int8 (void)
{
  const gint8 x[] = { -128, -5, 0, 9, 127 }, lo = -4, hi = 8;
  const gint8 want[] = { -4, -4, 0, 8, 8 };
  const gint64 s5 = 5;
  g_autoptr(OpCase) c = op_case_new (13, "Clip");
  g_autofree gint8 *got = NULL;

  op_case_input (c, KESTREL_DTYPE_INT8, 1, &s5, x);
  op_case_input (c, KESTREL_DTYPE_INT8, 0, NULL, &lo);
  op_case_constant (c, KESTREL_DTYPE_INT8, 0, NULL, &hi);
  op_case_infer_ok (c);
  got = op_case_run (c, KK_LEVEL_PARALLEL);
  g_assert_cmpmem (got, sizeof want, want, sizeof want);
}

/* ---- Errors ------------------------------------------------------------------ */

static void
test_errors (void)
{
  const gint64 s23[] = { 2, 3 }, s4[] = { 4 }, s3[] = { 3 }, s2[] = { 2 };
  float zeros[12] = { 0 };

  {
    g_autoptr(OpCase) c = op_case_new (14, "Add");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, s23, zeros);
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 1, s4, zeros);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "[2,3] and [4] cannot be broadcast");
  }
  {
    g_autoptr(OpCase) c = op_case_new (14, "Mul");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 1, s3, zeros);
    op_case_input (c, KESTREL_DTYPE_INT32, 1, s3, zeros);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "same type");
  }
  {
    g_autoptr(OpCase) c = op_case_new (14, "Relu");
    op_case_input (c, KESTREL_DTYPE_BOOL, 1, s3, zeros);
    op_case_expect_error (c, KESTREL_ERROR_UNSUPPORTED, "bool");
  }
  {
    g_autoptr(OpCase) c = op_case_new (14, "Sum");
    op_case_input (c, KESTREL_DTYPE_INT32, 1, s3, zeros);
    op_case_expect_error (c, KESTREL_ERROR_UNSUPPORTED, "int32");
  }
  {
    /* The slope may not make the output bigger than x. */
    g_autoptr(OpCase) c = op_case_new (16, "PRelu");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 1, s3, zeros);
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, s23, zeros);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "slope");
  }
  {
    g_autoptr(OpCase) c = op_case_new (13, "Clip");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 1, s3, zeros);
    op_case_constant (c, KESTREL_DTYPE_FLOAT32, 1, s2, zeros);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "min bound");
  }
  {
    g_autoptr(OpCase) c = op_case_new (14, "Div");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 1, s3, zeros);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "expected 2");
  }
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  test_pool = kestrel_thread_pool_new (2);

  g_test_add_func ("/ops-math/broadcast/random", test_broadcast_random);
  g_test_add_func ("/ops-math/broadcast/large", test_broadcast_large);
  g_test_add_func ("/ops-math/integer-division", test_integer_division);
  g_test_add_func ("/ops-math/pow-mixed", test_pow_mixed);
  g_test_add_func ("/ops-math/pow-square", test_pow_square);
  g_test_add_func ("/ops-math/variadic", test_variadic);
  g_test_add_func ("/ops-math/max-nan", test_max_nan);
  g_test_add_func ("/ops-math/prelu", test_prelu);
  g_test_add_func ("/ops-math/legacy-broadcast", test_legacy_broadcast);
  g_test_add_func ("/ops-math/unary", test_unary);
  g_test_add_func ("/ops-math/unary-ints", test_unary_ints);
  g_test_add_func ("/ops-math/unary-special", test_unary_special);
  g_test_add_func ("/ops-math/mod", test_mod);
  g_test_add_func ("/ops-math/bit-shift", test_bit_shift);
  g_test_add_func ("/ops-math/clip", test_clip);
  g_test_add_func ("/ops-math/clip-int8", test_clip_int8);
  g_test_add_func ("/ops-math/errors", test_errors);

  status = g_test_run ();
  kestrel_thread_pool_unref (test_pool);
  return status;
}
