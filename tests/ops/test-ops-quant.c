/* test-ops-quant.c — the INT8 operators as plan steps.
 *
 * kestrel.QConvNhwc with a fused residual (input 4, what the INT8 pass makes
 * of a convolution and the QAdd after it) gives, at every level, exactly
 * the bytes of the two operators it replaces: the convolution alone,
 * requantised at t_scale / t_zero_point, then the requantising add of the
 * residual input (the scalar kernel table's qadd_u8) to y_scale /
 * y_zero_point with the Add's clamp. Pointwise and dense (im2col)
 * convolutions, output channels off the vector widths, rows across the
 * op's chunks, extreme inputs; and a residual of the wrong shape is an
 * error naming the node.
 *
 * kestrel.QConcat with before / after (a kestrel.PadAxis made INT8) gives
 * the bytes of the QConcat of its input with constants of the output's
 * zero point, which is what the channel padding Concat's quantised zeros
 * were, rescaled or copied.
 */
#include "config.h"

#include "kestrel-kernels.h"
#include "ops-test-util.h"

typedef struct {
  gint64 h, w, cin, cout, k, stride, pad;
} ConvShape;

typedef struct {
  float x_scale, t_scale, r_scale, y_scale;
  gint64 x_zp, t_zp, r_zp, y_zp;
} ResidualParams;

static const ResidualParams params = { 0.02f, 0.05f, 0.03f, 0.06f, 128, 100, 20, 10 };

static gint64
out_size (const ConvShape *s, gint64 in)
{
  return (in + 2 * s->pad - s->k) / s->stride + 1;
}

/* The inputs of a QConvNhwc of shape s (random, with the extremes 0 / 255
 * and -127 / 127 at the start), and its attributes; its output's u8
 * parameters are (y_scale, y_zp): the conv's own or, with `residual`, the
 * sum's (the residual input r added as input 4). */
static OpCase *
qconv_case (const ConvShape *s, GRand *rand, const guint8 *r, gboolean residual)
{
  OpCase *c = op_case_new_in (13, "kestrel", "QConvNhwc");
  KestrelNode *node = op_case_node (c);
  const gint64 x_shape[4] = { 1, s->h, s->w, s->cin }, w_shape[4] = { s->cout, s->cin, s->k, s->k };
  const gint64 n_shape[1] = { s->cout };
  const gint64 r_shape[4] = { 1, out_size (s, s->h), out_size (s, s->w), s->cout };
  const gsize nx = s->h * s->w * s->cin, nw = s->cout * s->cin * s->k * s->k;
  g_autofree guint8 *x = g_new (guint8, nx);
  g_autofree gint8 *w = g_new (gint8, nw);
  g_autofree gint32 *b = g_new (gint32, s->cout);
  g_autofree float *ws = g_new (float, s->cout);
  const gint64 kernel[2] = { s->k, s->k }, strides[2] = { s->stride, s->stride };
  const gint64 pads[4] = { s->pad, s->pad, s->pad, s->pad };

  for (gsize i = 0; i < nx; i++)
    x[i] = i < 8 ? (i & 1 ? 255 : 0) : (guint8) g_rand_int_range (rand, 0, 256);
  for (gsize i = 0; i < nw; i++)
    w[i] = i < 8 ? (i & 1 ? 127 : -127) : (gint8) g_rand_int_range (rand, -127, 128);
  for (gint64 o = 0; o < s->cout; o++)
    {
      b[o] = g_rand_int_range (rand, -20000, 20000);
      ws[o] = (float) g_rand_double_range (rand, 0.0005, 0.004);
    }
  op_case_input (c, KESTREL_DTYPE_UINT8, 4, x_shape, x);
  op_case_constant (c, KESTREL_DTYPE_INT8, 4, w_shape, w);
  op_case_constant (c, KESTREL_DTYPE_INT32, 1, n_shape, b);
  op_case_constant (c, KESTREL_DTYPE_FLOAT32, 1, n_shape, ws);
  kestrel_node_set_attr_ints (node, "kernel_shape", kernel, 2);
  kestrel_node_set_attr_ints (node, "strides", strides, 2);
  kestrel_node_set_attr_ints (node, "pads", pads, 4);
  kestrel_node_set_attr_float (node, "x_scale", params.x_scale);
  kestrel_node_set_attr_int (node, "x_zero_point", params.x_zp);
  /* A Relu on the convolution and one on the sum. */
  kestrel_node_set_attr_float (node, "act_lo", 0.0f);
  if (!residual)
    {
      kestrel_node_set_attr_float (node, "y_scale", params.t_scale);
      kestrel_node_set_attr_int (node, "y_zero_point", params.t_zp);
      return c;
    }
  op_case_input (c, KESTREL_DTYPE_UINT8, 4, r_shape, r);
  kestrel_node_set_attr_float (node, "t_scale", params.t_scale);
  kestrel_node_set_attr_int (node, "t_zero_point", params.t_zp);
  kestrel_node_set_attr_float (node, "r_scale", params.r_scale);
  kestrel_node_set_attr_int (node, "r_zero_point", params.r_zp);
  kestrel_node_set_attr_float (node, "y_scale", params.y_scale);
  kestrel_node_set_attr_int (node, "y_zero_point", params.y_zp);
  kestrel_node_set_attr_float (node, "add_lo", 0.0f);
  return c;
}

static void
check_residual (const ConvShape *s, guint32 seed)
{
  const gsize n_out = out_size (s, s->h) * out_size (s, s->w) * s->cout;
  g_autofree guint8 *r = g_new (guint8, n_out);
  g_autofree guint8 *want = g_new (guint8, n_out);
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  kk_qadd_params add = { 0 };

  for (gsize i = 0; i < n_out; i++)
    r[i] = i < 4 ? (i & 1 ? 255 : 0) : (guint8) g_rand_int_range (rand, 0, 256);

  /* The pair it replaces: the convolution alone (scalar level), then the add. */
  g_rand_set_seed (rand, seed + 1);
  g_autoptr(OpCase) plain = qconv_case (s, rand, r, FALSE);
  op_case_infer_ok (plain);
  g_autofree guint8 *t = op_case_run (plain, KK_LEVEL_SCALAR);
  g_assert_true (kk_qadd_params_from_scales (params.t_scale, params.r_scale, params.y_scale, &add));
  add.zero_point_a = (gint32) params.t_zp;
  add.zero_point_b = (gint32) params.r_zp;
  add.zero_point = (gint32) params.y_zp;
  add.lo = (guint8) params.y_zp;  /* the Relu: real 0 */
  add.hi = 255;
  kk_kernels_for_level (KK_LEVEL_SCALAR)->qadd_u8 (t, r, want, n_out, &add);

  g_rand_set_seed (rand, seed + 1);
  g_autoptr(OpCase) fused = qconv_case (s, rand, r, TRUE);
  op_case_infer_ok (fused);
  g_assert_cmpint (op_case_output (fused, 0)->dtype, ==, KESTREL_DTYPE_UINT8);
  for (int level = 0; level < KK_LEVEL_COUNT; level++)
    {
      g_autofree guint8 *got = op_case_run (fused, level);
      for (gsize i = 0; i < n_out; i++)
        if (got[i] != want[i])
          g_error ("%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT " conv, %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT
                   " channels, level %s: element %zu is %u, the conv + add gives %u", s->k, s->k, s->cin,
                   s->cout, kk_level_name (level), i, got[i], want[i]);
    }
}

static void
test_residual_matches_pair (void)
{
  static const ConvShape shapes[] = {
    { 16, 16, 24, 24, 1, 1, 0 },   /* BlazeFace's first block */
    { 9, 11, 28, 28, 1, 1, 0 },    /* 99 rows: a chunk and a part */
    { 7, 5, 40, 37, 1, 1, 0 },     /* columns off every vector width */
    { 3, 3, 5, 3, 1, 1, 0 },       /* fewer columns than a vector */
    { 12, 10, 6, 19, 3, 1, 1 },    /* dense 3x3, padded: im2col */
    { 13, 9, 3, 24, 5, 2, 2 },     /* BlazeFace's first layer's shape */
  };

  for (guint i = 0; i < G_N_ELEMENTS (shapes); i++)
    check_residual (&shapes[i], 1000 + i);
}

static void
test_residual_bad_shape (void)
{
  const ConvShape s = { 4, 4, 8, 8, 1, 1, 0 };
  const gint64 wrong[4] = { 1, 4, 4, 9 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  guint8 r[4 * 4 * 9] = { 0 };
  g_autoptr(OpCase) c = qconv_case (&s, rand, r, TRUE);
  KestrelNode *node = op_case_node (c);

  /* Input 4 replaced by one of 9 channels. */
  g_array_set_size (node->inputs, 4);
  op_case_input (c, KESTREL_DTYPE_UINT8, 4, wrong, r);
  op_case_expect_error (c, KESTREL_ERROR_UNSUPPORTED, "residual");
}

static OpCase *
qconcat_case (const guint8 *x, const gint64 *x_shape, float x_scale, gint64 x_zp, gint64 before, gint64 after,
              gboolean as_constants)
{
  OpCase *c = op_case_new_in (13, "kestrel", "QConcat");
  KestrelNode *node = op_case_node (c);
  const float y_scale = 0.05f;
  const gint64 y_zp = 17;
  guint n = 0;
  float scales[3];
  gint64 zps[3];
  gint64 pad_shape[4] = { x_shape[0], x_shape[1], x_shape[2], 0 };
  guint8 fill[4 * 5 * 3];

  memset (fill, (int) y_zp, sizeof fill);
  if (as_constants && before > 0)
    {
      pad_shape[3] = before;
      op_case_constant (c, KESTREL_DTYPE_UINT8, 4, pad_shape, fill);
      scales[n] = y_scale;
      zps[n++] = y_zp;
    }
  op_case_input (c, KESTREL_DTYPE_UINT8, 4, x_shape, x);
  scales[n] = x_scale;
  zps[n++] = x_zp;
  if (as_constants && after > 0)
    {
      pad_shape[3] = after;
      op_case_constant (c, KESTREL_DTYPE_UINT8, 4, pad_shape, fill);
      scales[n] = y_scale;
      zps[n++] = y_zp;
    }
  if (!as_constants)
    {
      kestrel_node_set_attr_int (node, "before", before);
      kestrel_node_set_attr_int (node, "after", after);
    }
  kestrel_node_set_attr_int (node, "axis", 3);
  KestrelAttr *sa = kestrel_node_add_attr (node, "in_scales", KESTREL_ATTR_FLOATS);
  KestrelAttr *za = kestrel_node_add_attr (node, "in_zero_points", KESTREL_ATTR_INTS);
  sa->n = za->n = n;
  sa->floats = g_memdup2 (scales, n * sizeof (float));
  za->ints = g_memdup2 (zps, n * sizeof (gint64));
  kestrel_node_set_attr_float (node, "y_scale", y_scale);
  kestrel_node_set_attr_int (node, "y_zero_point", y_zp);
  op_case_infer_ok (c);
  return c;
}

static void
test_qconcat_padding (void)
{
  static const gint64 x_shape[4] = { 1, 4, 5, 6 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  guint8 x[120];
  /* The output's own parameters (a copy) and others (a rescale). */
  static const struct { float scale; gint64 zp; } in[] = { { 0.05f, 17 }, { 0.031f, 140 } };

  for (gsize i = 0; i < sizeof x; i++)
    x[i] = (guint8) g_rand_int_range (rand, 0, 256);
  for (gsize p = 0; p < G_N_ELEMENTS (in); p++)
    for (gint64 before = 0; before <= 3; before += 3)
      for (gint64 after = 1; after <= 3; after += 2)
        {
          g_autoptr(OpCase) pad = qconcat_case (x, x_shape, in[p].scale, in[p].zp, before, after, FALSE);
          g_autoptr(OpCase) cat = qconcat_case (x, x_shape, in[p].scale, in[p].zp, before, after, TRUE);
          const gsize n = 4 * 5 * (6 + before + after);

          g_assert_cmpint (op_case_output (pad, 0)->shape[3], ==, 6 + before + after);
          for (int level = 0; level < KK_LEVEL_COUNT; level++)
            {
              g_autofree guint8 *got = op_case_run (pad, level);
              g_autofree guint8 *want = op_case_run (cat, level);
              g_assert_cmpmem (got, n, want, n);
            }
        }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  test_pool = kestrel_thread_pool_new (2);
  g_test_add_func ("/ops/quant/conv-residual", test_residual_matches_pair);
  g_test_add_func ("/ops/quant/conv-residual-shape", test_residual_bad_shape);
  g_test_add_func ("/ops/quant/concat-padding", test_qconcat_padding);
  int status = g_test_run ();
  kestrel_thread_pool_unref (test_pool);
  return status;
}
