/* test-ops-qlinear-int.c — ONNX's integer operators (core/ops/
 * ops-qlinear-{conv,gemm,add}.c) at every level.
 *
 *  - ConvInteger and MatMulInteger equal the float Conv and MatMul of the
 *    same integers minus their zero points (exact in float here: the sums
 *    stay below 2^24), with per-channel / per-row / per-column zero
 *    points, groups, strides, padding and broadcast batches.
 *  - QLinearConv and QLinearMatMul equal their integer sums (+ bias)
 *    requantised by ONNX's definition computed here, u8 and s8 outputs.
 *  - QLinearAdd, in models built with python3-onnx
 *    (make-qlinear-models.py), gives the bytes of the DequantizeLinear /
 *    Add / QuantizeLinear chain it stands for and of the formula.
 *  - QLinearConv and QLinearMatMul with constant weights (models from
 *    make-qlinear-models.py): at simd and full on the integer kernels
 *    (kestrel.QLinear*Packed), the same bytes as the reference loops at
 *    scalar; with round scales, where sums can land on rounding ties,
 *    still on the reference loop at every level, saying why.
 *  - Bad parameters are errors naming the node and what was wrong.
 */
#include "config.h"

#include "kestrel-kernels.h"
#include "kestrel-onnx.h"
#include "ops-test-util.h"

static guint8 *
random_bytes (GRand *rand, gsize n)
{
  guint8 *x = g_new (guint8, MAX (n, 1));

  for (gsize i = 0; i < n; i++)
    x[i] = i < 4 ? (i & 1 ? 255 : 0) : (guint8) g_rand_int_range (rand, 0, 256);
  return x;
}

static gint32
load_q (KestrelDType dtype, const guint8 *data, gsize i)
{
  return dtype == KESTREL_DTYPE_INT8 ? (gint32) (gint8) data[i] : (gint32) data[i];
}

/* ONNX: saturate (rint (acc * (float) (a_scale * b_scale / y_scale)) + zp). */
static gint32
want_requant (gint32 acc, float a_scale, float b_scale, float y_scale, gint32 zp, gboolean s8)
{
  float m = a_scale * b_scale;
  double t;

  m = m / y_scale;
  t = rint ((double) acc * (double) m) + zp;
  return (gint32) CLAMP (t, s8 ? -128 : 0, s8 ? 127 : 255);
}

/* ---- Convolutions ---------------------------------------------------------- */

typedef struct {
  gint64 x_shape[4], w_shape[4];
  gint64 group, stride, pad;
  KestrelDType x_type, w_type, y_type;
} ConvCase;

static const ConvCase conv_cases[] = {
  { { 1, 4, 9, 11 }, { 6, 2, 3, 3 }, 2, 2, 1, KESTREL_DTYPE_UINT8, KESTREL_DTYPE_INT8, KESTREL_DTYPE_UINT8 },
  { { 2, 3, 7, 300 }, { 5, 3, 1, 3 }, 1, 1, 1, KESTREL_DTYPE_UINT8, KESTREL_DTYPE_UINT8, KESTREL_DTYPE_INT8 },
  { { 1, 8, 6, 6 }, { 8, 1, 3, 3 }, 8, 1, 0, KESTREL_DTYPE_INT8, KESTREL_DTYPE_INT8, KESTREL_DTYPE_UINT8 },
};

static void
set_conv_attrs (OpCase *c, const ConvCase *k)
{
  KestrelNode *node = op_case_node (c);
  const gint64 strides[2] = { k->stride, k->stride }, pads[4] = { k->pad, k->pad, k->pad, k->pad };

  kestrel_node_set_attr_int (node, "group", k->group);
  kestrel_node_set_attr_ints (node, "strides", strides, 2);
  kestrel_node_set_attr_ints (node, "pads", pads, 4);
}

static void
test_conv (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (41);

  for (gsize ci = 0; ci < G_N_ELEMENTS (conv_cases); ci++)
    {
      const ConvCase *k = &conv_cases[ci];
      gsize nx = shape_elements (4, k->x_shape), nw = shape_elements (4, k->w_shape);
      gint64 m_count = k->w_shape[0], per_m = nw / m_count;
      gboolean y_s8 = k->y_type == KESTREL_DTYPE_INT8;
      g_autofree guint8 *x = random_bytes (rand, nx);
      g_autofree guint8 *w = random_bytes (rand, nw);
      g_autofree guint8 *w_zp = random_bytes (rand, m_count);
      g_autofree gint32 *bias = g_new (gint32, m_count);
      g_autofree float *w_scale = random_floats (rand, m_count, 0.001, 0.02);
      g_autofree float *xf = g_new (float, nx);
      g_autofree float *wf = g_new (float, nw);
      guint8 x_zp = k->x_type == KESTREL_DTYPE_INT8 ? (guint8) (gint8) -7 : 131;
      guint8 y_zp = y_s8 ? (guint8) (gint8) 5 : 77;
      const float x_scale = 0.0173f, y_scale = 0.0311f;
      const gint64 m_shape = m_count;
      g_autoptr(OpCase) conv = op_case_new (13, "Conv");
      g_autoptr(OpCase) ci_case = op_case_new (10, "ConvInteger");
      g_autoptr(OpCase) ql = op_case_new (10, "QLinearConv");
      g_autofree float *want = NULL;

      for (gint64 m = 0; m < m_count; m++)
        bias[m] = g_rand_int_range (rand, -3000, 3000);
      for (gsize i = 0; i < nx; i++)
        xf[i] = (float) (load_q (k->x_type, x, i) - load_q (k->x_type, &x_zp, 0));
      for (gsize i = 0; i < nw; i++)
        wf[i] = (float) (load_q (k->w_type, w, i) - load_q (k->w_type, w_zp, i / per_m));

      op_case_input (conv, KESTREL_DTYPE_FLOAT32, 4, k->x_shape, xf);
      op_case_constant (conv, KESTREL_DTYPE_FLOAT32, 4, k->w_shape, wf);
      set_conv_attrs (conv, k);
      op_case_infer_ok (conv);
      want = op_case_run (conv, KK_LEVEL_SCALAR);

      op_case_input (ci_case, k->x_type, 4, k->x_shape, x);
      op_case_constant (ci_case, k->w_type, 4, k->w_shape, w);
      op_case_constant (ci_case, k->x_type, 0, NULL, &x_zp);
      op_case_constant (ci_case, k->w_type, 1, &m_shape, w_zp);
      set_conv_attrs (ci_case, k);
      op_case_infer_ok (ci_case);

      op_case_input (ql, k->x_type, 4, k->x_shape, x);
      op_case_constant (ql, KESTREL_DTYPE_FLOAT32, 0, NULL, &x_scale);
      op_case_constant (ql, k->x_type, 0, NULL, &x_zp);
      op_case_constant (ql, k->w_type, 4, k->w_shape, w);
      op_case_constant (ql, KESTREL_DTYPE_FLOAT32, 1, &m_shape, w_scale);
      op_case_constant (ql, k->w_type, 1, &m_shape, w_zp);
      op_case_constant (ql, KESTREL_DTYPE_FLOAT32, 0, NULL, &y_scale);
      op_case_constant (ql, k->y_type, 0, NULL, &y_zp);
      op_case_constant (ql, KESTREL_DTYPE_INT32, 1, &m_shape, bias);
      set_conv_attrs (ql, k);
      op_case_infer_ok (ql);
      g_assert_cmpint (op_case_output (ql, 0)->dtype, ==, k->y_type);

      for (int level = 0; level < KK_LEVEL_COUNT; level++)
        {
          g_autofree gint32 *acc = op_case_run (ci_case, level);
          g_autofree guint8 *y = op_case_run (ql, level);
          const KestrelValue *out = op_case_output (ci_case, 0);
          gsize n_out = kestrel_value_n_elements (out), plane = n_out / out->shape[0] / m_count;

          for (gsize i = 0; i < n_out; i++)
            {
              gint64 m = (i / plane) % m_count;
              gint32 q = want_requant (acc[i] + bias[m], x_scale, w_scale[m], y_scale,
                                       load_q (k->y_type, &y_zp, 0), y_s8);
              if ((float) acc[i] != want[i])
                g_error ("ConvInteger case %zu level %s element %zu: %d, float Conv %g", ci,
                         kk_level_name (level), i, acc[i], (double) want[i]);
              if (load_q (k->y_type, y, i) != q)
                g_error ("QLinearConv case %zu level %s element %zu: %d, want %d", ci,
                         kk_level_name (level), i, load_q (k->y_type, y, i), q);
            }
        }
    }
}

/* ---- Matrix products ------------------------------------------------------- */

static void
test_matmul (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (43);
  static const gint64 a_shape[3] = { 3, 37, 70 }, b_shape[2] = { 70, 300 };
  const gint64 m_count = a_shape[1], n_count = b_shape[1];
  gsize na = shape_elements (3, a_shape), nb = shape_elements (2, b_shape);
  g_autofree guint8 *a = random_bytes (rand, na);
  g_autofree guint8 *b = random_bytes (rand, nb);
  g_autofree guint8 *a_zp = random_bytes (rand, m_count);
  g_autofree guint8 *b_zp = random_bytes (rand, n_count);
  g_autofree float *a_scale = random_floats (rand, m_count, 0.01, 0.03);
  g_autofree float *b_scale = random_floats (rand, n_count, 0.001, 0.01);
  g_autofree float *af = g_new (float, na);
  g_autofree float *bf = g_new (float, nb);
  const float y_scale = 0.37f;
  guint8 y_zp = 3;
  g_autoptr(OpCase) mm = op_case_new (13, "MatMul");
  g_autoptr(OpCase) mi = op_case_new (10, "MatMulInteger");
  g_autofree float *want = NULL;

  for (gsize i = 0; i < na; i++)
    af[i] = (float) (a[i] - a_zp[(i / a_shape[2]) % m_count]);
  for (gsize i = 0; i < nb; i++)
    bf[i] = (float) ((gint8) b[i] - (gint8) b_zp[i % n_count]);
  op_case_input (mm, KESTREL_DTYPE_FLOAT32, 3, a_shape, af);
  op_case_constant (mm, KESTREL_DTYPE_FLOAT32, 2, b_shape, bf);
  op_case_infer_ok (mm);
  want = op_case_run (mm, KK_LEVEL_SCALAR);

  op_case_input (mi, KESTREL_DTYPE_UINT8, 3, a_shape, a);
  op_case_constant (mi, KESTREL_DTYPE_INT8, 2, b_shape, b);
  op_case_constant (mi, KESTREL_DTYPE_UINT8, 1, &m_count, a_zp);
  op_case_constant (mi, KESTREL_DTYPE_INT8, 1, &n_count, b_zp);
  op_case_infer_ok (mi);

  for (int y_kind = 0; y_kind < 2; y_kind++)
    {
      g_autoptr(OpCase) ql = op_case_new (10, "QLinearMatMul");
      KestrelDType y_type = y_kind ? KESTREL_DTYPE_INT8 : KESTREL_DTYPE_UINT8;

      op_case_input (ql, KESTREL_DTYPE_UINT8, 3, a_shape, a);
      op_case_constant (ql, KESTREL_DTYPE_FLOAT32, 1, &m_count, a_scale);
      op_case_constant (ql, KESTREL_DTYPE_UINT8, 1, &m_count, a_zp);
      op_case_constant (ql, KESTREL_DTYPE_INT8, 2, b_shape, b);
      op_case_constant (ql, KESTREL_DTYPE_FLOAT32, 1, &n_count, b_scale);
      op_case_constant (ql, KESTREL_DTYPE_INT8, 1, &n_count, b_zp);
      op_case_constant (ql, KESTREL_DTYPE_FLOAT32, 0, NULL, &y_scale);
      op_case_constant (ql, y_type, 0, NULL, &y_zp);
      op_case_infer_ok (ql);

      for (int level = 0; level < KK_LEVEL_COUNT; level++)
        {
          g_autofree gint32 *acc = op_case_run (mi, level);
          g_autofree guint8 *y = op_case_run (ql, level);
          gsize n_out = na / a_shape[2] * n_count;

          for (gsize i = 0; i < n_out; i++)
            {
              gint64 m = (i / n_count) % m_count, j = i % n_count;
              gint32 q = want_requant (acc[i], a_scale[m], b_scale[j], y_scale, y_zp, y_kind);
              if ((float) acc[i] != want[i])
                g_error ("MatMulInteger level %s element %zu: %d, float MatMul %g",
                         kk_level_name (level), i, acc[i], (double) want[i]);
              if (load_q (y_type, y, i) != q)
                g_error ("QLinearMatMul level %s element %zu: %d, want %d", kk_level_name (level), i,
                         load_q (y_type, y, i), q);
            }
        }
    }
}

/* ---- QLinearAdd models ------------------------------------------------------ */

static float
dequant (gint32 q, float scale, gint32 zp)
{
  return ((float) q - (float) zp) * scale;
}

static void
run_model (const char *name, kk_level level, const guint8 *a, const guint8 *b, guint8 *out, gsize n_out)
{
  g_autofree char *path = g_build_filename (TEST_BUILD_DIR, name, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = kestrel_model_new_from_file (path, &error);
  g_autoptr(KestrelPlan) plan = NULL;
  KestrelPlanOptions options;

  g_assert_no_error (error);
  kestrel_plan_options_init (&options);
  options.level = level;
  options.n_threads = 2;
  plan = kestrel_plan_new (model, &options, &error);
  g_assert_no_error (error);
  memcpy (kestrel_plan_get_input (plan, 0)->data, a, kestrel_plan_get_input (plan, 0)->n_elements);
  memcpy (kestrel_plan_get_input (plan, 1)->data, b, kestrel_plan_get_input (plan, 1)->n_elements);
  kestrel_plan_run (plan);
  g_assert_cmpuint (kestrel_plan_get_output (plan, 0)->n_elements, ==, n_out);
  memcpy (out, kestrel_plan_get_output (plan, 0)->data, n_out);
}

static void
test_add_models (void)
{
  /* make-qlinear-models.py's shapes and parameters */
  static const struct {
    const char *kind;
    KestrelDType dtype;
    float scale[3];
    gint32 zp[3];
  } kinds[] = {
    { "u8", KESTREL_DTYPE_UINT8, { 0.0213f, 0.0078125f, 0.0301f }, { 131, 7, 90 } },
    { "s8", KESTREL_DTYPE_INT8, { 0.0213f, 0.0078125f, 0.0301f }, { -3, 100, -20 } },
  };
  const gsize na = 2 * 3 * 4 * 5, nb = 3 * 5;
  g_autoptr(GRand) rand = g_rand_new_with_seed (47);

  for (gsize k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      g_autofree guint8 *a = random_bytes (rand, na);
      g_autofree guint8 *b = random_bytes (rand, nb);
      g_autofree char *ql_name = g_strdup_printf ("qlinear_add_%s.onnx", kinds[k].kind);
      g_autofree char *qdq_name = g_strdup_printf ("qdq_add_%s.onnx", kinds[k].kind);
      gboolean s8 = kinds[k].dtype == KESTREL_DTYPE_INT8;

      for (int level = 0; level < KK_LEVEL_COUNT; level++)
        {
          guint8 got[2 * 3 * 4 * 5], chain[2 * 3 * 4 * 5];

          run_model (ql_name, level, a, b, got, na);
          run_model (qdq_name, level, a, b, chain, na);
          for (gsize i = 0; i < na; i++)
            {
              /* A [2, 3, 4, 5] + B [3, 1, 5]: B's index drops the batch and the row. */
              gsize c = (i / 20) % 3, x = i % 5;
              float sum = dequant (load_q (kinds[k].dtype, a, i), kinds[k].scale[0], kinds[k].zp[0])
                          + dequant (load_q (kinds[k].dtype, b, c * 5 + x), kinds[k].scale[1], kinds[k].zp[1]);
              double t = rint ((double) (sum / kinds[k].scale[2])) + kinds[k].zp[2];
              gint32 want = (gint32) CLAMP (t, s8 ? -128 : 0, s8 ? 127 : 255);

              if (load_q (kinds[k].dtype, got, i) != want || got[i] != chain[i])
                g_error ("QLinearAdd %s level %s element %zu: %d, QDQ chain %d, formula %d",
                         kinds[k].kind, kk_level_name (level), i, load_q (kinds[k].dtype, got, i),
                         load_q (kinds[k].dtype, chain, i), want);
            }
        }
    }
}

/* ---- QLinearConv / QLinearMatMul on the integer kernels ---------------------- */

/* The op of the plan's only QLinear node and, for the reference, why. */
static const KestrelNode *
qlinear_node (KestrelPlan *plan)
{
  const KestrelGraph *graph = kestrel_plan_get_graph (plan);

  for (guint n = 0; n < graph->nodes->len; n++)
    {
      const KestrelNode *node = kestrel_graph_node (graph, n);
      if (strstr (node->op_type, "QLinear") != NULL)
        return node;
    }
  g_assert_not_reached ();
  return NULL;
}

static void
test_packed_models (void)
{
  static const char *const names[] = { "qlinear_conv_3x3", "qlinear_conv_1x1", "qlinear_matmul" };
  g_autoptr(GRand) rand = g_rand_new_with_seed (53);

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    for (int round = 0; round < 2; round++)
      {
        g_autofree char *file = g_strdup_printf ("%s%s.onnx", names[i], round ? "_round" : "");
        g_autofree char *path = g_build_filename (TEST_BUILD_DIR, file, NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(KestrelModel) model = kestrel_model_new_from_file (path, &error);
        g_autofree guint8 *x = NULL;
        g_autofree guint8 *want = NULL;
        gsize n_in = 0, n_out = 0;

        g_assert_no_error (error);
        for (int level = 0; level < KK_LEVEL_COUNT; level++)
          {
            g_autoptr(KestrelPlan) plan = NULL;
            KestrelPlanOptions options;
            const KestrelNode *node;
            gboolean packed;

            kestrel_plan_options_init (&options);
            options.level = level;
            options.n_threads = 2;
            plan = kestrel_plan_new (model, &options, &error);
            g_assert_no_error (error);
            node = qlinear_node (plan);
            packed = strcmp (node->domain, "kestrel") == 0;
            g_test_message ("%s at %s: %s%s%s", file, kk_level_name (level), node->op_type,
                            packed ? "" : ", reference: ",
                            packed ? "" : kestrel_node_attr_string (node, "kestrel_reference_why", "(scalar level)"));
            /* Quantizer-like scales run on the kernels at the SIMD levels. */
            g_assert_cmpint (packed, ==, !round && (level == KK_LEVEL_SIMD || level == KK_LEVEL_FULL));
            if (round && (level == KK_LEVEL_SIMD || level == KK_LEVEL_FULL))
              g_assert_nonnull (strstr (kestrel_node_attr_string (node, "kestrel_reference_why", ""), "tie"));

            if (x == NULL)
              {
                n_in = kestrel_plan_get_input (plan, 0)->n_elements;
                n_out = kestrel_plan_get_output (plan, 0)->n_elements;
                x = random_bytes (rand, n_in);
              }
            memcpy (kestrel_plan_get_input (plan, 0)->data, x, n_in);
            kestrel_plan_run (plan);
            if (want == NULL)
              want = g_memdup2 (kestrel_plan_get_output (plan, 0)->data, n_out);
            else if (memcmp (want, kestrel_plan_get_output (plan, 0)->data, n_out) != 0)
              {
                const guint8 *got = kestrel_plan_get_output (plan, 0)->data;
                gsize e = 0;
                while (got[e] == want[e])
                  e++;
                g_error ("%s at level %s: element %zu is %u, the scalar reference %u", file,
                         kk_level_name (level), e, got[e], want[e]);
              }
          }
      }
}

/* ---- Errors ----------------------------------------------------------------- */

static OpCase *
qlinear_matmul_case (KestrelDType a_zp_type, gint64 n_b_scale, float b_scale0, KestrelDType y_zp_type)
{
  OpCase *c = op_case_new (10, "QLinearMatMul");
  static const gint64 a_shape[2] = { 2, 3 }, b_shape[2] = { 3, 4 };
  const guint8 zeros[16] = { 0 };
  const float scales[4] = { b_scale0, 0.5f, 0.5f, 0.5f }, one = 1.0f;

  op_case_input (c, KESTREL_DTYPE_UINT8, 2, a_shape, zeros);
  op_case_constant (c, KESTREL_DTYPE_FLOAT32, 0, NULL, &one);
  op_case_constant (c, a_zp_type, 0, NULL, zeros);
  op_case_constant (c, KESTREL_DTYPE_INT8, 2, b_shape, zeros);
  op_case_constant (c, KESTREL_DTYPE_FLOAT32, n_b_scale == 1 ? 0 : 1, &n_b_scale, scales);
  op_case_constant (c, KESTREL_DTYPE_INT8, 0, NULL, zeros);
  op_case_constant (c, KESTREL_DTYPE_FLOAT32, 0, NULL, &one);
  op_case_constant (c, y_zp_type, 0, NULL, zeros);
  return c;
}

static void
test_bad_params (void)
{
  {
    g_autoptr(OpCase) c = qlinear_matmul_case (KESTREL_DTYPE_INT8, 1, 0.5f, KESTREL_DTYPE_UINT8);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "a_zero_point");
  }
  {
    g_autoptr(OpCase) c = qlinear_matmul_case (KESTREL_DTYPE_UINT8, 3, 0.5f, KESTREL_DTYPE_UINT8);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "b_scale");
  }
  {
    g_autoptr(OpCase) c = qlinear_matmul_case (KESTREL_DTYPE_UINT8, 4, -1.0f, KESTREL_DTYPE_UINT8);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "finite and above 0");
  }
  {
    g_autoptr(OpCase) c = qlinear_matmul_case (KESTREL_DTYPE_UINT8, 1, INFINITY, KESTREL_DTYPE_UINT8);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "finite and above 0");
  }
  {
    g_autoptr(OpCase) c = qlinear_matmul_case (KESTREL_DTYPE_UINT8, 1, 0.5f, KESTREL_DTYPE_INT32);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "y_zero_point");
  }
  {
    /* ConvInteger: a per-channel w_zero_point of the wrong length */
    g_autoptr(OpCase) c = op_case_new (10, "ConvInteger");
    static const gint64 x_shape[4] = { 1, 1, 3, 3 }, w_shape[4] = { 2, 1, 2, 2 }, three = 3;
    const guint8 zeros[9] = { 0 };
    op_case_input (c, KESTREL_DTYPE_UINT8, 4, x_shape, zeros);
    op_case_constant (c, KESTREL_DTYPE_UINT8, 4, w_shape, zeros);
    op_case_constant (c, KESTREL_DTYPE_UINT8, 0, NULL, zeros);
    op_case_constant (c, KESTREL_DTYPE_UINT8, 1, &three, zeros);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "w_zero_point");
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  test_pool = kestrel_thread_pool_new (2);
  g_test_add_func ("/ops/qlinear-int/conv", test_conv);
  g_test_add_func ("/ops/qlinear-int/matmul", test_matmul);
  g_test_add_func ("/ops/qlinear-int/add-models", test_add_models);
  g_test_add_func ("/ops/qlinear-int/packed-models", test_packed_models);
  g_test_add_func ("/ops/qlinear-int/bad-params", test_bad_params);
  int status = g_test_run ();
  kestrel_thread_pool_unref (test_pool);
  return status;
}
