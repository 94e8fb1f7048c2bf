/* test-ops-qlinear.c — ONNX's quantized operators (core/ops/ops-qlinear*.c).
 *
 * QuantizeLinear and DequantizeLinear per tensor and per axis, u8 and s8
 * (and int32 where ONNX allows it), at every level against the ONNX
 * formula computed here one element at a time: ties rounded to even,
 * saturation at both ends, tensors longer than one work chunk so the
 * SIMD kernels and the thread split are both used. Bad parameters (a zero
 * point of the wrong type or length, a scale as long as the wrong axis, a
 * constant scale of 0, below 0 or not finite, a per-axis scale before
 * opset 13) are errors naming the node and what was wrong.
 */
#include "config.h"

#include "kestrel-kernels.h"
#include "ops-test-util.h"

#define N_BIG 40000   /* more than one chunk of the elementwise ops */

/* ONNX: saturate (round_half_even (x / scale) + zp). */
static gint32
want_quantize (float x, float scale, gint32 zp, gint32 lo, gint32 hi)
{
  double t = (double) rintf (x / scale) + zp;

  if (!(t >= lo))
    return lo;
  return t > hi ? hi : (gint32) t;
}

/* x with ties (k + 0.5) * scale, extremes and random values. */
static float *
quantize_inputs (GRand *rand, gsize n, float scale)
{
  float *x = random_floats (rand, n, -300.0 * (double) scale, 300.0 * (double) scale);
  static const float specials[] = { 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 1e30f, -1e30f, 0.0f, -0.0f };

  for (gsize i = 0; i < G_N_ELEMENTS (specials) && i < n; i++)
    x[i] = specials[i] * scale;
  /* Exact ties at larger magnitudes. */
  for (gsize i = G_N_ELEMENTS (specials); i < 40 && i < n; i++)
    x[i] = ((float) g_rand_int_range (rand, -200, 200) + 0.5f) * scale;
  return x;
}

typedef struct {
  gint64 opset;
  guint n_dims;
  gint64 shape[4];
  gint64 axis;          /* per-axis when n_params > 1 */
  gsize n_params;
  KestrelDType qtype;
} QCase;

static void
fill_params (GRand *rand, const QCase *q, float *scales, guint8 *zps)
{
  /* Scales that make exact ties representable: powers of two and others. */
  static const float pool[] = { 0.25f, 0.5f, 0.0625f, 0.1f, 0.0173f, 2.0f, 0.003f };

  for (gsize c = 0; c < q->n_params; c++)
    {
      scales[c] = pool[(c + g_rand_int_range (rand, 0, 7)) % G_N_ELEMENTS (pool)];
      if (q->qtype == KESTREL_DTYPE_INT8)
        ((gint8 *) zps)[c] = (gint8) g_rand_int_range (rand, -128, 128);
      else
        zps[c] = (guint8) g_rand_int_range (rand, 0, 256);
    }
  zps[0] = q->qtype == KESTREL_DTYPE_INT8 ? (guint8) (gint8) -128 : 255;  /* an extreme */
}

static gsize
channel_of (const QCase *q, gsize i)
{
  gint64 axis = q->axis < 0 ? q->axis + q->n_dims : q->axis;
  gsize inner = 1;

  if (q->n_params == 1)
    return 0;
  for (guint d = axis + 1; d < q->n_dims; d++)
    inner *= q->shape[d];
  return (i / inner) % q->shape[axis];
}

static void
add_params (OpCase *c, const QCase *q, const float *scales, const guint8 *zps, gboolean as_inputs)
{
  gint64 pshape = q->n_params;
  guint pdims = q->n_params == 1 ? 0 : 1;

  if (as_inputs)
    {
      op_case_input (c, KESTREL_DTYPE_FLOAT32, pdims, &pshape, scales);
      op_case_input (c, q->qtype, pdims, &pshape, zps);
    }
  else
    {
      op_case_constant (c, KESTREL_DTYPE_FLOAT32, pdims, &pshape, scales);
      op_case_constant (c, q->qtype, pdims, &pshape, zps);
    }
  if (q->n_params > 1)
    kestrel_node_set_attr_int (op_case_node (c), "axis", q->axis);
}

static void
check_quantize (const QCase *q, gboolean params_as_inputs)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (17 + q->n_params);
  gsize n = shape_elements (q->n_dims, q->shape);
  g_autofree float *scales = g_new (float, q->n_params);
  g_autofree guint8 *zps = g_new (guint8, q->n_params);
  g_autofree float *x = NULL;
  g_autoptr(OpCase) c = op_case_new (q->opset, "QuantizeLinear");
  gboolean s8 = q->qtype == KESTREL_DTYPE_INT8;

  fill_params (rand, q, scales, zps);
  x = quantize_inputs (rand, n, scales[0]);
  op_case_input (c, KESTREL_DTYPE_FLOAT32, q->n_dims, q->shape, x);
  add_params (c, q, scales, zps, params_as_inputs);
  op_case_infer_ok (c);
  g_assert_cmpint (op_case_output (c, 0)->dtype, ==, q->qtype);

  for (int level = 0; level < KK_LEVEL_COUNT; level++)
    {
      g_autofree guint8 *y = op_case_run (c, level);
      for (gsize i = 0; i < n; i++)
        {
          gsize ch = channel_of (q, i);
          gint32 zp = s8 ? ((gint8 *) zps)[ch] : zps[ch];
          gint32 want = want_quantize (x[i], scales[ch], zp, s8 ? -128 : 0, s8 ? 127 : 255);
          gint32 got = s8 ? ((gint8 *) y)[i] : y[i];
          if (got != want)
            g_error ("QuantizeLinear level %s element %zu: x %.9g scale %g zp %d: got %d, want %d",
                     kk_level_name (level), i, (double) x[i], (double) scales[ch], zp, got, want);
        }
    }
}

static void
check_dequantize (const QCase *q, gboolean params_as_inputs)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (29 + q->n_params);
  gsize n = shape_elements (q->n_dims, q->shape);
  g_autofree float *scales = g_new (float, q->n_params);
  g_autofree guint8 *zps = g_new (guint8, q->n_params);
  g_autofree guint8 *x = g_new (guint8, n);
  g_autoptr(OpCase) c = op_case_new (q->opset, "DequantizeLinear");
  gboolean s8 = q->qtype == KESTREL_DTYPE_INT8;

  fill_params (rand, q, scales, zps);
  for (gsize i = 0; i < n; i++)
    x[i] = i < 2 ? (i ? 255 : 0) : (guint8) g_rand_int_range (rand, 0, 256);
  op_case_input (c, q->qtype, q->n_dims, q->shape, x);
  add_params (c, q, scales, zps, params_as_inputs);
  op_case_infer_ok (c);
  g_assert_cmpint (op_case_output (c, 0)->dtype, ==, KESTREL_DTYPE_FLOAT32);

  for (int level = 0; level < KK_LEVEL_COUNT; level++)
    {
      g_autofree float *y = op_case_run (c, level);
      for (gsize i = 0; i < n; i++)
        {
          gsize ch = channel_of (q, i);
          gint32 zp = s8 ? ((gint8 *) zps)[ch] : zps[ch];
          gint32 xi = s8 ? ((gint8 *) x)[i] : x[i];
          float want = ((float) xi - (float) zp) * scales[ch];
          if (memcmp (&y[i], &want, sizeof want) != 0)
            g_error ("DequantizeLinear level %s element %zu: got %.9g, want %.9g",
                     kk_level_name (level), i, (double) y[i], (double) want);
        }
    }
}

static const QCase qcases[] = {
  /* per tensor, opset 10 (scalar parameters) and 13 */
  { 10, 1, { N_BIG }, 0, 1, KESTREL_DTYPE_UINT8 },
  { 13, 2, { 200, 201 }, 1, 1, KESTREL_DTYPE_INT8 },
  /* per axis: the default axis 1, the first, the last (inner runs of 1) */
  { 13, 4, { 2, 3, 90, 80 }, 1, 3, KESTREL_DTYPE_UINT8 },
  { 19, 4, { 2, 3, 90, 80 }, 1, 3, KESTREL_DTYPE_INT8 },
  { 13, 2, { 17, 1000 }, 0, 17, KESTREL_DTYPE_INT8 },
  { 21, 3, { 4, 50, 33 }, -1, 33, KESTREL_DTYPE_UINT8 },
};

static void
test_quantize (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (qcases); i++)
    {
      check_quantize (&qcases[i], FALSE);
      check_quantize (&qcases[i], TRUE);
    }
}

static void
test_dequantize (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (qcases); i++)
    {
      check_dequantize (&qcases[i], FALSE);
      check_dequantize (&qcases[i], TRUE);
    }
}

/* int32 in: QuantizeLinear divides the integer as a float, DequantizeLinear
 * (of a bias) has no zero point. Without a zero point QuantizeLinear gives
 * u8; output_dtype (opset 21) can ask for s8. */
static void
test_int32_and_defaults (void)
{
  const gint64 shape[1] = { 6 };
  const gint32 xi[6] = { -1000, -3, 5, 7, 1000, 0 };
  const float scale = 2.0f;
  static const gint32 want_u8[6] = { 0, 0, 2, 4, 255, 0 };     /* -1.5 -> -2, 2.5 -> 2, 3.5 -> 4 */
  static const gint32 want_s8[6] = { -128, -2, 2, 4, 127, 0 };

  for (int k = 0; k < 2; k++)
    {
      g_autoptr(OpCase) c = op_case_new (21, "QuantizeLinear");
      op_case_input (c, KESTREL_DTYPE_INT32, 1, shape, xi);
      op_case_constant (c, KESTREL_DTYPE_FLOAT32, 0, NULL, &scale);
      if (k == 1)
        kestrel_node_set_attr_int (op_case_node (c), "output_dtype", 3);
      op_case_infer_ok (c);
      g_assert_cmpint (op_case_output (c, 0)->dtype, ==, k ? KESTREL_DTYPE_INT8 : KESTREL_DTYPE_UINT8);
      for (int level = 0; level < KK_LEVEL_COUNT; level++)
        {
          g_autofree guint8 *y = op_case_run (c, level);
          for (int i = 0; i < 6; i++)
            g_assert_cmpint (k ? (gint32) (gint8) y[i] : (gint32) y[i], ==, k ? want_s8[i] : want_u8[i]);
        }
    }
  {
    g_autoptr(OpCase) c = op_case_new (13, "DequantizeLinear");
    const gint32 zero = 0;
    op_case_input (c, KESTREL_DTYPE_INT32, 1, shape, xi);
    op_case_constant (c, KESTREL_DTYPE_FLOAT32, 0, NULL, &scale);
    op_case_constant (c, KESTREL_DTYPE_INT32, 0, NULL, &zero);
    op_case_infer_ok (c);
    for (int level = 0; level < KK_LEVEL_COUNT; level++)
      {
        g_autofree float *y = op_case_run (c, level);
        for (int i = 0; i < 6; i++)
          g_assert_cmpfloat (y[i], ==, (float) xi[i] * scale);
      }
  }
}

/* x - min over the range extended to 0, as ONNX defines it. */
static void
test_dynamic (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);
  static const gint64 shape[2] = { 3, N_BIG / 3 };
  gsize n = shape[0] * shape[1];
  g_autofree float *x = random_floats (rand, n, -2.0, 7.0);
  g_autoptr(OpCase) c = op_case_new (11, "DynamicQuantizeLinear");
  float lo = 0, hi = 0, scale;
  gint32 zp;

  for (gsize i = 0; i < n; i++)
    {
      lo = MIN (lo, x[i]);
      hi = MAX (hi, x[i]);
    }
  scale = (hi - lo) / 255.0f;
  zp = want_quantize (0.0f - lo, scale, 0, 0, 255);
  op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, shape, x);
  op_case_outputs (c, 3);
  op_case_infer_ok (c);
  for (int level = 0; level < KK_LEVEL_COUNT; level++)
    {
      g_autoptr(GPtrArray) out = op_case_run_all (c, level);
      const guint8 *y = out->pdata[0];
      g_assert_cmpfloat (*(float *) out->pdata[1], ==, scale);
      g_assert_cmpint (*(guint8 *) out->pdata[2], ==, zp);
      for (gsize i = 0; i < n; i++)
        g_assert_cmpint (y[i], ==, want_quantize (x[i], scale, zp, 0, 255));
    }
}

/* ---- Errors ---------------------------------------------------------------- */

typedef struct {
  const char *what;
  const char *op;
  gint64 opset;
  KestrelDType zp_dtype;
  gint64 n_scale, n_zp;
  float scale0;
  gint64 axis;
  gint code;
  const char *fragment;
} BadCase;

static const BadCase bad_cases[] = {
  { "float zero point", "QuantizeLinear", 13, KESTREL_DTYPE_FLOAT32, 1, 1, 0.5f, 1,
    KESTREL_ERROR_CORRUPT, "y_zero_point" },
  { "int32 zero point for u8 data", "DequantizeLinear", 13, KESTREL_DTYPE_INT32, 1, 1, 0.5f, 1,
    KESTREL_ERROR_CORRUPT, "x_zero_point" },
  { "scale as long as another axis", "QuantizeLinear", 13, KESTREL_DTYPE_UINT8, 4, 4, 0.5f, 1,
    KESTREL_ERROR_CORRUPT, "length of the quantization axis" },
  { "zero point of another length", "DequantizeLinear", 13, KESTREL_DTYPE_UINT8, 3, 2, 0.5f, 1,
    KESTREL_ERROR_CORRUPT, "same shape" },
  { "axis out of range", "QuantizeLinear", 13, KESTREL_DTYPE_UINT8, 3, 3, 0.5f, 4,
    KESTREL_ERROR_CORRUPT, "axis" },
  { "per-axis scale at opset 10", "QuantizeLinear", 10, KESTREL_DTYPE_UINT8, 3, 3, 0.5f, 1,
    KESTREL_ERROR_CORRUPT, "must be a scalar" },
  { "zero scale", "QuantizeLinear", 13, KESTREL_DTYPE_UINT8, 1, 1, 0.0f, 1,
    KESTREL_ERROR_CORRUPT, "finite and above 0" },
  { "negative scale", "DequantizeLinear", 13, KESTREL_DTYPE_UINT8, 3, 3, -0.5f, 1,
    KESTREL_ERROR_CORRUPT, "finite and above 0" },
  { "NaN scale", "QuantizeLinear", 13, KESTREL_DTYPE_INT8, 1, 1, NAN, 1,
    KESTREL_ERROR_CORRUPT, "finite and above 0" },
  { "infinite scale", "DequantizeLinear", 13, KESTREL_DTYPE_INT8, 1, 1, INFINITY, 1,
    KESTREL_ERROR_CORRUPT, "finite and above 0" },
};

static void
test_bad_params (void)
{
  static const gint64 x_shape[3] = { 2, 3, 4 };
  const float xf[24] = { 0 };
  const guint8 xq[24] = { 0 };
  const gint32 zeros[4] = { 0 };

  for (gsize i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      const BadCase *b = &bad_cases[i];
      g_autoptr(OpCase) c = op_case_new (b->opset, b->op);
      gboolean quantize = strcmp (b->op, "QuantizeLinear") == 0;
      float scales[4] = { b->scale0, 0.5f, 0.5f, 0.5f };

      g_test_message ("%s", b->what);
      if (quantize)
        op_case_input (c, KESTREL_DTYPE_FLOAT32, 3, x_shape, xf);
      else
        op_case_input (c, b->zp_dtype == KESTREL_DTYPE_INT8 ? KESTREL_DTYPE_INT8 : KESTREL_DTYPE_UINT8, 3,
                       x_shape, xq);
      op_case_constant (c, KESTREL_DTYPE_FLOAT32, b->n_scale == 1 ? 0 : 1, &b->n_scale, scales);
      op_case_constant (c, b->zp_dtype, b->n_zp == 1 ? 0 : 1, &b->n_zp, zeros);
      kestrel_node_set_attr_int (op_case_node (c), "axis", b->axis);
      op_case_expect_error (c, b->code, b->fragment);
    }
  {
    /* an int32 input's zero point must be 0 */
    g_autoptr(OpCase) c = op_case_new (13, "DequantizeLinear");
    const gint32 xi[2] = { 1, 2 }, zp = 3;
    const gint64 two = 2;
    const float scale = 1.0f;
    op_case_input (c, KESTREL_DTYPE_INT32, 1, &two, xi);
    op_case_constant (c, KESTREL_DTYPE_FLOAT32, 0, NULL, &scale);
    op_case_constant (c, KESTREL_DTYPE_INT32, 0, NULL, &zp);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "must be 0");
  }
  {
    /* block-wise quantization is not taken */
    g_autoptr(OpCase) c = op_case_new (21, "QuantizeLinear");
    const float scale = 1.0f;
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 3, x_shape, xf);
    op_case_constant (c, KESTREL_DTYPE_FLOAT32, 0, NULL, &scale);
    kestrel_node_set_attr_int (op_case_node (c), "block_size", 2);
    op_case_expect_error (c, KESTREL_ERROR_UNSUPPORTED, "block_size");
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  test_pool = kestrel_thread_pool_new (2);
  g_test_add_func ("/ops/qlinear/quantize", test_quantize);
  g_test_add_func ("/ops/qlinear/dequantize", test_dequantize);
  g_test_add_func ("/ops/qlinear/int32-and-defaults", test_int32_and_defaults);
  g_test_add_func ("/ops/qlinear/dynamic", test_dynamic);
  g_test_add_func ("/ops/qlinear/bad-params", test_bad_params);
  int status = g_test_run ();
  kestrel_thread_pool_unref (test_pool);
  return status;
}
