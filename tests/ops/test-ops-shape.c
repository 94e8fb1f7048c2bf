/* test-ops-shape.c — the tensor-shape reference operators (core/ops/ops-shape*.c).
 *
 * Through real models and plans: view operators share their input's memory
 * (the planner's aliasing), Shape / Size / ConstantOfShape fold away, and a
 * bad Reshape fails to load with an error naming the node. Through one-node
 * cases at every level: Slice, Transpose, Concat, Split, Gather, Expand and
 * Tile against index-by-index oracles (random shapes, negative steps, large
 * tensors for the parallel split), Cast's rounding and saturation, and the
 * errors of each operator.
 *
 * When Debian's libonnx-testdata is installed, /ops-shape/onnx-node-cases
 * also runs the ONNX node cases of the operators whose shape comes from an
 * input (Reshape, Slice, Squeeze...): those files feed it as a graph input,
 * which a model cannot do in Kestrel, so here it becomes a constant.
 *
 * Why one file of more than 800 lines: one test program per operator group,
 * like core/ops/; each test is one operator's case list.
 */
#include "ops-test-util.h"
#include "../test-missing.h"

#include "kestrel-onnx.h"

static const char *const one_in[] = { "x", NULL };
static const char *const one_out[] = { "y", NULL };

/* The plan step running `op_type`, or NULL. */
static const KestrelStep *
find_step (KestrelPlan *plan, const char *op_type)
{
  for (guint s = 0; s < kestrel_plan_get_n_steps (plan); s++)
    {
      const KestrelStep *step = kestrel_plan_get_step (plan, s);
      if (strcmp (step->node->op_type, op_type) == 0)
        return step;
    }
  return NULL;
}

static void
fill_input (KestrelPlan *plan, const float *x)
{
  const KestrelTensorView *in = kestrel_plan_get_input (plan, 0);
  memcpy (in->data, x, in->n_elements * sizeof (float));
}

/* ---- Reshape and the planner --------------------------------------------------- */

static void
test_reshape_alias (void)
{
  const gint64 x_shape[] = { 2, 3, 4 }, y_shape[] = { 4, 6 }, target[] = { 4, -1 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (1);
  g_autofree float *x = random_floats (rand, 24, -1, 1);

  for (guint l = 0; l < G_N_ELEMENTS (all_levels); l++)
    {
      TestModel *m = test_model_new (14);
      const char *const relu_out[] = { "r", NULL };
      const char *const reshape_in[] = { "r", "shape", NULL };
      g_autoptr(GError) error = NULL;
      g_autoptr(KestrelModel) model = NULL;
      g_autoptr(KestrelPlan) plan = NULL;
      const KestrelStep *step;
      const KestrelTensorView *y;

      test_model_input (m, "x", KESTREL_DTYPE_FLOAT32, 3, x_shape);
      test_model_ints (m, "shape", 2, target);
      test_model_node (m, "Relu", "relu", one_in, relu_out, NULL);
      test_model_node (m, "Reshape", "reshape", reshape_in, one_out, NULL);
      test_model_output (m, "y", KESTREL_DTYPE_FLOAT32, 2, y_shape);
      model = test_model_load (m, &error);
      g_assert_no_error (error);
      plan = test_plan_new (model, all_levels[l]);

      /* The reference levels run the graph as loaded: the Reshape's output
       * is its input's memory. */
      step = find_step (plan, "Reshape");
      if (all_levels[l] == KK_LEVEL_SCALAR || all_levels[l] == KK_LEVEL_PARALLEL)
        g_assert_nonnull (step);
      if (step != NULL)
        g_assert_true (step->outputs[0].data == step->inputs[0].data);

      fill_input (plan, x);
      kestrel_plan_run (plan);
      y = kestrel_plan_get_output (plan, 0);
      g_assert_cmpuint (y->n_dims, ==, 2);
      g_assert_cmpint (y->shape[0], ==, 4);
      g_assert_cmpint (y->shape[1], ==, 6);
      for (guint i = 0; i < 24; i++)
        g_assert_cmpfloat (((float *) y->data)[i], ==, MAX (x[i], 0.0f));
    }
}

/* A chain of views straight from the graph input to the output: all of them
 * are the caller's input buffer. */
static void
test_view_chain (void)
{
  const gint64 x_shape[] = { 1, 6, 1 }, y_shape[] = { 6 }, axes[] = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = NULL;
  g_autoptr(KestrelPlan) plan = NULL;
  const float x[] = { 1, 2, 3, 4, 5, 6 };
  TestModel *m = test_model_new (13);
  const char *const a_out[] = { "a", NULL }, *const b_in[] = { "a", NULL };
  const char *const b_out[] = { "b", NULL }, *const c_in[] = { "b", "axes", NULL };

  test_model_input (m, "x", KESTREL_DTYPE_FLOAT32, 3, x_shape);
  test_model_ints (m, "axes", 1, axes);
  test_model_node (m, "Flatten", "flatten", one_in, a_out, NULL);   /* [1, 6] */
  test_model_node (m, "Identity", "identity", b_in, b_out, NULL);
  test_model_node (m, "Squeeze", "squeeze", c_in, one_out, NULL);  /* [6] */
  test_model_output (m, "y", KESTREL_DTYPE_FLOAT32, 1, y_shape);
  model = test_model_load (m, &error);
  g_assert_no_error (error);
  plan = test_plan_new (model, KK_LEVEL_SCALAR);
  g_assert_cmpuint (kestrel_plan_get_n_steps (plan), ==, 3);
  g_assert_true (kestrel_plan_get_output (plan, 0)->data == kestrel_plan_get_input (plan, 0)->data);
  fill_input (plan, x);
  kestrel_plan_run (plan);
  g_assert_cmpmem (kestrel_plan_get_output (plan, 0)->data, sizeof x, x, sizeof x);
  g_assert_cmpuint (kestrel_plan_get_output (plan, 0)->n_dims, ==, 1);
}

/* Shape, Size and ConstantOfShape of a static shape run at load time. */
static void
test_shape_folds (void)
{
  const gint64 x_shape[] = { 2, 3, 4 }, two[] = { 2 }, dims[] = { 3, 4 };
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = NULL;
  g_autoptr(KestrelPlan) plan = NULL;
  TestModel *m = test_model_new (15);
  const char *const s_out[] = { "s", NULL }, *const c_in[] = { "s", NULL };
  const char *const c_out[] = { "c", NULL }, *const n_out[] = { "n", NULL };
  const KestrelTensorView *s, *c, *n;
  GPtrArray *attrs = g_ptr_array_new ();
  const gint64 c_shape[] = { 3, 4 };

  test_model_input (m, "x", KESTREL_DTYPE_FLOAT32, 3, x_shape);
  g_ptr_array_add (attrs, attr_int ("start", 1));
  test_model_node (m, "Shape", "shape", one_in, s_out, attrs);
  test_model_node (m, "ConstantOfShape", "fill", c_in, c_out, NULL);
  test_model_node (m, "Size", "size", one_in, n_out, NULL);
  test_model_output (m, "s", KESTREL_DTYPE_INT64, 1, two);
  test_model_output (m, "c", KESTREL_DTYPE_FLOAT32, 2, c_shape);
  test_model_output (m, "n", KESTREL_DTYPE_INT64, 0, NULL);
  model = test_model_load (m, &error);
  g_assert_no_error (error);
  plan = test_plan_new (model, KK_LEVEL_SCALAR);
  g_assert_cmpuint (kestrel_plan_get_n_steps (plan), ==, 0);
  kestrel_plan_run (plan);
  s = kestrel_plan_get_output (plan, 0);
  c = kestrel_plan_get_output (plan, 1);
  n = kestrel_plan_get_output (plan, 2);
  g_assert_cmpmem (s->data, 2 * sizeof (gint64), dims, sizeof dims);
  g_assert_cmpuint (c->n_elements, ==, 12);
  for (guint i = 0; i < 12; i++)
    g_assert_cmpfloat (((float *) c->data)[i], ==, 0);
  g_assert_cmpint (*(gint64 *) n->data, ==, 24);
}

static void
test_reshape_error_names_node (void)
{
  const gint64 x_shape[] = { 2, 3, 4 }, target[] = { 5, 5 };
  const char *const inputs[] = { "x", "shape", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = NULL;
  TestModel *m = test_model_new (14);

  test_model_input (m, "x", KESTREL_DTYPE_FLOAT32, 3, x_shape);
  test_model_ints (m, "shape", 2, target);
  test_model_node (m, "Reshape", "my_bad_reshape", inputs, one_out, NULL);
  test_model_output (m, "y", KESTREL_DTYPE_FLOAT32, 2, target);
  model = test_model_load (m, &error);
  g_assert_null (model);
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "node 'my_bad_reshape' (Reshape)"));
  g_assert_nonnull (strstr (error->message, "cannot reshape [2,3,4] (24 elements) to [5,5]"));
}

static void
test_reshape_cases (void)
{
  const gint64 x_shape[] = { 2, 3, 4 }, empty_shape[] = { 0, 3 };
  float x[24];

  for (guint i = 0; i < 24; i++)
    x[i] = i;
  {
    /* 0 copies the input's dimension, -1 takes the rest. */
    const gint64 target[] = { 0, -1, 2 };
    g_autoptr(OpCase) c = op_case_new (14, "Reshape");
    const KestrelValue *out;

    op_case_input (c, KESTREL_DTYPE_FLOAT32, 3, x_shape, x);
    op_case_constant_ints (c, 3, target);
    op_case_infer_ok (c);
    out = op_case_output (c, 0);
    g_assert_cmpuint (out->n_dims, ==, 3);
    g_assert_cmpint (out->shape[0], ==, 2);
    g_assert_cmpint (out->shape[1], ==, 6);
    g_assert_cmpint (out->shape[2], ==, 2);
    /* Outside a plan the output is its own buffer: run() copies. */
    for (guint l = 0; l < G_N_ELEMENTS (all_levels); l++)
      {
        g_autofree float *got = op_case_run (c, all_levels[l]);
        g_assert_cmpmem (got, sizeof x, x, sizeof x);
      }
  }
  {
    /* allowzero: a 0 is a real 0. */
    const gint64 target[] = { 3, 0 };
    g_autoptr(OpCase) c = op_case_new (14, "Reshape");

    kestrel_node_set_attr_int (op_case_node (c), "allowzero", 1);
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, empty_shape, x);
    op_case_constant_ints (c, 2, target);
    op_case_infer_ok (c);
    g_assert_cmpint (op_case_output (c, 0)->shape[0], ==, 3);
    g_assert_cmpint (op_case_output (c, 0)->shape[1], ==, 0);
  }
  {
    const gint64 target[] = { -1, -1 };
    g_autoptr(OpCase) c = op_case_new (14, "Reshape");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 3, x_shape, x);
    op_case_constant_ints (c, 2, target);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "more than one -1");
  }
  {
    const gint64 target[] = { 5, -1 };
    g_autoptr(OpCase) c = op_case_new (14, "Reshape");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 3, x_shape, x);
    op_case_constant_ints (c, 2, target);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "cannot reshape");
  }
  {
    const gint64 target[] = { 1, 1, 1, 0 };
    g_autoptr(OpCase) c = op_case_new (14, "Reshape");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 3, x_shape, x);
    op_case_constant_ints (c, 4, target);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "only 3 dimensions");
  }
  {
    /* A shape computed at run time cannot be planned. */
    const gint64 target[] = { 24 }, one = 1;
    g_autoptr(OpCase) c = op_case_new (14, "Reshape");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 3, x_shape, x);
    op_case_input (c, KESTREL_DTYPE_INT64, 1, &one, target);
    op_case_expect_error (c, KESTREL_ERROR_UNSUPPORTED, "must be a constant");
  }
}

/* ---- Squeeze, Unsqueeze, Flatten ------------------------------------------------- */

static void
expect_shape (OpCase *c, guint n_dims, const gint64 *shape)
{
  const KestrelValue *out = op_case_output (c, 0);
  g_autofree char *got = kestrel_shape_to_string (out->n_dims, out->shape);
  g_autofree char *want = kestrel_shape_to_string (n_dims, shape);

  g_assert_cmpstr (got, ==, want);
}

static void
test_squeeze_unsqueeze (void)
{
  const gint64 x_shape[] = { 1, 3, 1, 5 };
  float x[15] = { 0 };

  {
    const gint64 want[] = { 3, 5 };
    g_autoptr(OpCase) c = op_case_new (13, "Squeeze");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, x_shape, x);
    op_case_infer_ok (c);
    expect_shape (c, 2, want);
  }
  {
    const gint64 axes[] = { -2 }, want[] = { 1, 3, 5 };
    g_autoptr(OpCase) c = op_case_new (13, "Squeeze");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, x_shape, x);
    op_case_constant_ints (c, 1, axes);
    op_case_infer_ok (c);
    expect_shape (c, 3, want);
  }
  {
    const gint64 axes[] = { 0, 2 }, want[] = { 3, 5 };
    g_autoptr(OpCase) c = op_case_new (11, "Squeeze");
    kestrel_node_set_attr_ints (op_case_node (c), "axes", axes, 2);
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, x_shape, x);
    op_case_infer_ok (c);
    expect_shape (c, 2, want);
  }
  {
    const gint64 axes[] = { 1 };
    g_autoptr(OpCase) c = op_case_new (13, "Squeeze");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, x_shape, x);
    op_case_constant_ints (c, 1, axes);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "its size is 3, not 1");
  }
  {
    const gint64 axes[] = { 5, 0, -1 }, want[] = { 1, 1, 3, 1, 5, 1, 1 };
    g_autoptr(OpCase) c = op_case_new (13, "Unsqueeze");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, x_shape, x);
    op_case_constant_ints (c, 3, axes);
    op_case_infer_ok (c);
    expect_shape (c, 7, want);
  }
  {
    const gint64 axes[] = { 4 }, want[] = { 1, 3, 1, 5, 1 };
    g_autoptr(OpCase) c = op_case_new (11, "Unsqueeze");
    kestrel_node_set_attr_ints (op_case_node (c), "axes", axes, 1);
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, x_shape, x);
    op_case_infer_ok (c);
    expect_shape (c, 5, want);
  }
  {
    const gint64 axes[] = { 1, -5 };
    g_autoptr(OpCase) c = op_case_new (13, "Unsqueeze");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, x_shape, x);
    op_case_constant_ints (c, 2, axes);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "listed twice");
  }
  {
    g_autoptr(OpCase) c = op_case_new (11, "Unsqueeze");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, x_shape, x);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "axes");
  }
  {
    const gint64 want[] = { 3, 5 };
    g_autoptr(OpCase) c = op_case_new (13, "Flatten");
    kestrel_node_set_attr_int (op_case_node (c), "axis", -1);
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, x_shape, x);
    op_case_infer_ok (c);
    expect_shape (c, 2, want);
  }
  {
    g_autoptr(OpCase) c = op_case_new (13, "Flatten");
    kestrel_node_set_attr_int (op_case_node (c), "axis", 5);
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, x_shape, x);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "out of range");
  }
}

/* ---- Strided copies ---------------------------------------------------------- */

static void
expect_floats_all_levels (OpCase *c, const float *want, gsize n)
{
  for (guint l = 0; l < G_N_ELEMENTS (all_levels); l++)
    {
      g_autofree float *got = op_case_run (c, all_levels[l]);
      for (gsize i = 0; i < n; i++)
        if (got[i] != want[i])
          g_error ("%s at level %s: element %zu is %g, expected %g", op_case_node (c)->op_type,
                   kk_level_name (all_levels[l]), i, (double) got[i], (double) want[i]);
    }
}

/* Python-style index lists per axis, then the cartesian product. */
static void
test_slice_random (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (9);

  for (guint iter = 0; iter < 300; iter++)
    {
      guint rank = g_rand_int_range (rand, 1, 5);
      gint64 shape[4], starts[4], ends[4], axes[4], steps[4];
      gint64 index[4][16], count[4];
      gsize n_in, n_out = 1;
      guint n_sliced = g_rand_int_range (rand, 1, rank + 1);
      gboolean used[4] = { FALSE };
      g_autofree float *x = NULL, *want = NULL;
      g_autoptr(OpCase) c = op_case_new (13, "Slice");

      for (guint d = 0; d < rank; d++)
        shape[d] = g_rand_int_range (rand, 0, 6);
      n_in = shape_elements (rank, shape);
      x = random_floats (rand, n_in, -9, 9);
      for (guint d = 0; d < rank; d++)
        {
          count[d] = shape[d];
          for (gint64 i = 0; i < shape[d]; i++)
            index[d][i] = i;
        }
      for (guint k = 0; k < n_sliced; k++)
        {
          guint axis;
          gint64 dim, s, e, step, i;

          do
            axis = g_rand_int_range (rand, 0, rank);
          while (used[axis]);
          used[axis] = TRUE;
          axes[k] = g_rand_boolean (rand) ? (gint64) axis : (gint64) axis - rank;
          dim = shape[axis];
          starts[k] = g_rand_int_range (rand, -8, 9);
          ends[k] = g_rand_int_range (rand, 0, 4) == 0 ? (g_rand_boolean (rand) ? G_MAXINT64 : G_MININT64)
                                                      : g_rand_int_range (rand, -8, 9);
          steps[k] = g_rand_boolean (rand) ? g_rand_int_range (rand, 1, 4) : -g_rand_int_range (rand, 1, 4);
          step = steps[k];
          /* The ONNX rules, written out. */
          s = starts[k] < 0 ? starts[k] + dim : starts[k];
          e = ends[k] == G_MININT64 ? -1 : ends[k] < 0 ? ends[k] + dim : ends[k];
          if (step > 0)
            {
              s = CLAMP (s, 0, dim);
              e = CLAMP (e, 0, dim);
            }
          else
            {
              s = CLAMP (s, 0, dim - 1);
              e = CLAMP (e, -1, dim - 1);
            }
          count[axis] = 0;
          for (i = s; dim > 0 && (step > 0 ? i < e : i > e); i += step)
            index[axis][count[axis]++] = i;
        }
      for (guint d = 0; d < rank; d++)
        n_out *= (gsize) count[d];
      want = g_new (float, MAX (n_out, 1));
      for (gsize o = 0; o < n_out; o++)
        {
          gsize rest = o, flat = 0, stride = 1;
          for (gint d = rank - 1; d >= 0; d--)
            {
              flat += (gsize) index[d][rest % count[d]] * stride;
              rest /= count[d];
              stride *= (gsize) shape[d];
            }
          want[o] = x[flat];
        }

      op_case_input (c, KESTREL_DTYPE_FLOAT32, rank, shape, x);
      op_case_constant_ints (c, n_sliced, starts);
      op_case_constant_ints (c, n_sliced, ends);
      op_case_constant_ints (c, n_sliced, axes);
      op_case_constant_ints (c, n_sliced, steps);
      op_case_infer_ok (c);
      for (guint d = 0; d < rank; d++)
        g_assert_cmpint (op_case_output (c, 0)->shape[d], ==, count[d]);
      expect_floats_all_levels (c, want, n_out);
    }
}

static void
test_slice_attrs_and_errors (void)
{
  const gint64 shape[] = { 4, 5 }, starts[] = { 1 }, ends[] = { -1 }, axes[] = { 1 };
  const gint64 zero[] = { 0 }, one = 1;
  float x[20];
  float want[12];

  for (guint i = 0; i < 20; i++)
    x[i] = i;
  for (guint r = 0; r < 4; r++)
    for (guint k = 0; k < 3; k++)
      want[r * 3 + k] = r * 5 + 1 + k;
  {
    g_autoptr(OpCase) c = op_case_new (9, "Slice");
    kestrel_node_set_attr_ints (op_case_node (c), "starts", starts, 1);
    kestrel_node_set_attr_ints (op_case_node (c), "ends", ends, 1);
    kestrel_node_set_attr_ints (op_case_node (c), "axes", axes, 1);
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, shape, x);
    op_case_infer_ok (c);
    expect_floats_all_levels (c, want, 12);
  }
  {
    g_autoptr(OpCase) c = op_case_new (13, "Slice");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, shape, x);
    op_case_constant_ints (c, 1, starts);
    op_case_constant_ints (c, 1, ends);
    op_case_constant_ints (c, 1, axes);
    op_case_constant_ints (c, 1, zero);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "step along axis 1 is 0");
  }
  {
    g_autoptr(OpCase) c = op_case_new (13, "Slice");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, shape, x);
    op_case_input (c, KESTREL_DTYPE_INT64, 1, &one, starts);
    op_case_constant_ints (c, 1, ends);
    op_case_expect_error (c, KESTREL_ERROR_UNSUPPORTED, "must be a constant");
  }
}

static void
test_transpose (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (17);

  for (guint iter = 0; iter < 100; iter++)
    {
      /* The last one is large, for the parallel split. */
      gboolean large = iter == 99;
      guint rank = large ? 3 : g_rand_int_range (rand, 1, 6);
      gint64 shape[5], perm[5], out_shape[5], in_stride[5];
      g_autofree float *x = NULL, *want = NULL;
      g_autoptr(OpCase) c = op_case_new (13, "Transpose");
      /* One in ten has no perm attribute, which means reversed axes. */
      gboolean reversed = !large && iter % 10 == 0;
      gsize n;

      for (guint d = 0; d < rank; d++)
        {
          shape[d] = large ? 40 + (gint64) d * 13 : g_rand_int_range (rand, 1, 5);
          perm[d] = reversed ? rank - 1 - d : d;
        }
      for (guint d = rank; !reversed && d-- > 1;)
        {
          guint j = g_rand_int_range (rand, 0, d + 1);
          gint64 t = perm[d];
          perm[d] = perm[j];
          perm[j] = t;
        }
      n = shape_elements (rank, shape);
      x = random_floats (rand, n, -1, 1);
      for (guint d = rank, stride = 1; d-- > 0;)
        {
          in_stride[d] = stride;
          stride *= shape[d];
        }
      for (guint d = 0; d < rank; d++)
        out_shape[d] = shape[perm[d]];
      want = g_new (float, n);
      for (gsize o = 0; o < n; o++)
        {
          gsize rest = o, flat = 0;
          for (gint d = rank - 1; d >= 0; d--)
            {
              flat += (rest % out_shape[d]) * in_stride[perm[d]];
              rest /= out_shape[d];
            }
          want[o] = x[flat];
        }
      if (!reversed)
        kestrel_node_set_attr_ints (op_case_node (c), "perm", perm, rank);
      op_case_input (c, KESTREL_DTYPE_FLOAT32, rank, shape, x);
      op_case_infer_ok (c);
      expect_shape (c, rank, out_shape);
      expect_floats_all_levels (c, want, n);
    }
  {
    const gint64 shape[] = { 2, 3 }, bad[] = { 0, 0 };
    float x[6] = { 0 };
    g_autoptr(OpCase) c = op_case_new (13, "Transpose");
    kestrel_node_set_attr_ints (op_case_node (c), "perm", bad, 2);
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, shape, x);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "not a permutation");
  }
}

/* Transposes whose last two output axes are a 2-D transpose of the input
 * (NCHW <-> NHWC) are copied in tiles of 16 x 16: sizes across tile edges,
 * every element size, a batch in front. */
static void
test_transpose_tiles (void)
{
  static const KestrelDType dtypes[] = {
    KESTREL_DTYPE_UINT8, KESTREL_DTYPE_FLOAT16, KESTREL_DTYPE_FLOAT32, KESTREL_DTYPE_INT64,
  };
  static const gint64 shapes[][4] = {
    { 1, 3, 37, 35 }, { 2, 17, 5, 16 }, { 1, 33, 1, 47 }, { 3, 1, 16, 16 }, { 1, 96, 20, 20 },
  };
  static const gint64 perms[][4] = { { 0, 2, 3, 1 }, { 0, 3, 1, 2 }, { 0, 1, 3, 2 } };
  g_autoptr(GRand) rand = g_rand_new_with_seed (23);

  for (guint t = 0; t < G_N_ELEMENTS (dtypes); t++)
    for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
      for (guint p = 0; p < G_N_ELEMENTS (perms); p++)
        {
          const gint64 *shape = shapes[s], *perm = perms[p];
          gsize es = kestrel_dtype_get_size (dtypes[t]), n = shape_elements (4, shape);
          gint64 out_shape[4], in_stride[4];
          g_autofree guint8 *x = g_malloc (n * es), *want = g_malloc (n * es);
          g_autoptr(OpCase) c = op_case_new (13, "Transpose");

          for (gsize i = 0; i < n * es; i++)
            x[i] = (guint8) g_rand_int (rand);
          if (dtypes[t] == KESTREL_DTYPE_FLOAT16)
            for (gsize i = 0; i < n; i++)
              x[2 * i + 1] &= 0x3b; /* finite halves: no NaN to compare */
          for (gint d = 3, stride = 1; d >= 0; d--)
            {
              in_stride[d] = stride;
              stride *= (gint) shape[d];
            }
          for (guint d = 0; d < 4; d++)
            out_shape[d] = shape[perm[d]];
          for (gsize o = 0; o < n; o++)
            {
              gsize rest = o, flat = 0;
              for (gint d = 3; d >= 0; d--)
                {
                  flat += (rest % out_shape[d]) * in_stride[perm[d]];
                  rest /= out_shape[d];
                }
              memcpy (want + o * es, x + flat * es, es);
            }
          kestrel_node_set_attr_ints (op_case_node (c), "perm", perm, 4);
          op_case_input (c, dtypes[t], 4, shape, x);
          op_case_infer_ok (c);
          expect_shape (c, 4, out_shape);
          op_case_expect_output (c, want, n * es);
        }
}

static void
test_expand_tile (void)
{
  const gint64 x_shape[] = { 3, 1 };
  const float x[] = { 1, 2, 3 };

  {
    const gint64 target[] = { 2, 1, 4 }, want_shape[] = { 2, 3, 4 };
    float want[24];
    g_autoptr(OpCase) c = op_case_new (13, "Expand");

    for (guint i = 0; i < 24; i++)
      want[i] = x[(i / 4) % 3];
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, x_shape, x);
    op_case_constant_ints (c, 3, target);
    op_case_infer_ok (c);
    expect_shape (c, 3, want_shape);
    expect_floats_all_levels (c, want, 24);
  }
  {
    const gint64 repeats[] = { 2, 3 }, want_shape[] = { 6, 3 };
    float want[18];
    g_autoptr(OpCase) c = op_case_new (13, "Tile");

    for (guint r = 0; r < 6; r++)
      for (guint k = 0; k < 3; k++)
        want[r * 3 + k] = x[r % 3];
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, x_shape, x);
    op_case_constant_ints (c, 2, repeats);
    op_case_infer_ok (c);
    expect_shape (c, 2, want_shape);
    expect_floats_all_levels (c, want, 18);
  }
  {
    /* Large: every level must agree with the oracle. */
    const gint64 big_shape[] = { 50, 1, 40 }, target[] = { 50, 30, 40 };
    g_autoptr(GRand) rand = g_rand_new_with_seed (2);
    g_autofree float *big = random_floats (rand, 2000, -1, 1);
    g_autofree float *want = g_new (float, 60000);
    g_autoptr(OpCase) c = op_case_new (13, "Expand");

    for (guint i = 0; i < 60000; i++)
      want[i] = big[(i / 1200) * 40 + i % 40];
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 3, big_shape, big);
    op_case_constant_ints (c, 3, target);
    op_case_infer_ok (c);
    expect_floats_all_levels (c, want, 60000);
  }
  {
    const gint64 target[] = { 2, 2 };
    g_autoptr(OpCase) c = op_case_new (13, "Expand");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, x_shape, x);
    op_case_constant_ints (c, 2, target);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "cannot be broadcast");
  }
}

/* ---- Concat, Split, Gather ------------------------------------------------------ */

static void
test_concat_split (void)
{
  const gint64 a_shape[] = { 2, 1, 3 }, b_shape[] = { 2, 4, 3 }, e_shape[] = { 2, 0, 3 };
  float a[6], b[24];
  float want[30];
  const gint64 sizes[] = { 1, 0, 4 };

  for (guint i = 0; i < 6; i++)
    a[i] = 100 + i;
  for (guint i = 0; i < 24; i++)
    b[i] = i;
  for (guint n = 0; n < 2; n++)
    {
      memcpy (want + n * 15, a + n * 3, 3 * sizeof (float));
      memcpy (want + n * 15 + 3, b + n * 12, 12 * sizeof (float));
    }
  {
    g_autoptr(OpCase) c = op_case_new (13, "Concat");
    kestrel_node_set_attr_int (op_case_node (c), "axis", -2);
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 3, a_shape, a);
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 3, e_shape, a);
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 3, b_shape, b);
    op_case_infer_ok (c);
    expect_floats_all_levels (c, want, 30);
  }
  for (guint v = 0; v < 2; v++)
    {
      const gint64 in_shape[] = { 2, 5, 3 };
      g_autoptr(OpCase) c = op_case_new (v == 0 ? 11 : 13, "Split");

      kestrel_node_set_attr_int (op_case_node (c), "axis", 1);
      op_case_input (c, KESTREL_DTYPE_FLOAT32, 3, in_shape, want);
      if (v == 0)
        kestrel_node_set_attr_ints (op_case_node (c), "split", sizes, 3);
      else
        op_case_constant_ints (c, 3, sizes);
      op_case_outputs (c, 3);
      op_case_infer_ok (c);
      expect_shape (c, 3, a_shape);
      for (guint l = 0; l < G_N_ELEMENTS (all_levels); l++)
        {
          g_autoptr(GPtrArray) parts = op_case_run_all (c, all_levels[l]);
          g_assert_cmpmem (parts->pdata[0], sizeof a, a, sizeof a);
          g_assert_cmpmem (parts->pdata[2], sizeof b, b, sizeof b);
        }
    }
  {
    const gint64 in_shape[] = { 7 };
    g_autoptr(OpCase) c = op_case_new (13, "Split");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 1, in_shape, want);
    op_case_outputs (c, 2);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "7 into 2 equal parts");
  }
  {
    g_autoptr(OpCase) c = op_case_new (13, "Concat");
    kestrel_node_set_attr_int (op_case_node (c), "axis", 0);
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 3, a_shape, a);
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 3, b_shape, b);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "except along axis 0");
  }
}

static void
test_gather (void)
{
  const gint64 data_shape[] = { 2, 4, 3 }, idx_shape[] = { 2, 2 }, want_shape[] = { 2, 2, 2, 3 };
  const gint32 idx[] = { 3, -4, 1, -1 };
  const gint64 bad[] = { 0, 4 }, bad_shape[] = { 2 };
  float data[24], want[24];

  for (guint i = 0; i < 24; i++)
    data[i] = i;
  for (guint n = 0; n < 2; n++)
    for (guint j = 0; j < 4; j++)
      for (guint k = 0; k < 3; k++)
        want[(n * 4 + j) * 3 + k] = data[(n * 4 + (idx[j] + 4) % 4) * 3 + k];
  {
    g_autoptr(OpCase) c = op_case_new (13, "Gather");
    kestrel_node_set_attr_int (op_case_node (c), "axis", 1);
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 3, data_shape, data);
    op_case_input (c, KESTREL_DTYPE_INT32, 2, idx_shape, idx);
    op_case_infer_ok (c);
    expect_shape (c, 4, want_shape);
    expect_floats_all_levels (c, want, 24);
  }
  {
    /* Out of range at run time: zeros, not a crash. */
    const gint64 wild[] = { 1, 99 };
    g_autoptr(OpCase) c = op_case_new (13, "Gather");
    g_autofree float *got = NULL;

    op_case_input (c, KESTREL_DTYPE_FLOAT32, 3, data_shape, data);
    op_case_input (c, KESTREL_DTYPE_INT64, 1, bad_shape, wild);
    op_case_infer_ok (c);
    got = op_case_run (c, KK_LEVEL_SCALAR);
    g_assert_cmpmem (got, 12 * sizeof (float), data + 12, 12 * sizeof (float));
    for (guint i = 12; i < 24; i++)
      g_assert_cmpfloat (got[i], ==, 0);
  }
  {
    g_autoptr(OpCase) c = op_case_new (13, "Gather");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 3, data_shape, data);
    op_case_constant (c, KESTREL_DTYPE_INT64, 1, bad_shape, bad);
    kestrel_node_set_attr_int (op_case_node (c), "axis", 0);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "index 4 is out of range");
  }
}

/* ---- Cast -------------------------------------------------------------------- */

static void
test_cast (void)
{
  const float x[] = { -300.7f, -1.5f, -0.4f, 0, 0.6f, 2.5f, 300.2f, NAN };
  const gint8 want_i8[] = { -128, -1, 0, 0, 0, 2, 127, 0 };
  const guint8 want_u8[] = { 0, 0, 0, 0, 0, 2, 255, 0 };
  const gint32 want_i32[] = { -300, -1, 0, 0, 0, 2, 300, 0 };
  const guint8 want_bool[] = { 1, 1, 1, 0, 1, 1, 1, 1 };
  const gint64 s8 = 8, s3 = 3;
  struct { int to; gconstpointer want; gsize bytes; } cases[] = {
    { 3, want_i8, sizeof want_i8 }, { 2, want_u8, sizeof want_u8 },
    { 6, want_i32, sizeof want_i32 }, { 9, want_bool, sizeof want_bool },
  };

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    for (guint l = 0; l < G_N_ELEMENTS (all_levels); l++)
      {
        g_autoptr(OpCase) c = op_case_new (13, "Cast");
        g_autofree gpointer got = NULL;

        kestrel_node_set_attr_int (op_case_node (c), "to", cases[k].to);
        op_case_input (c, KESTREL_DTYPE_FLOAT32, 1, &s8, x);
        op_case_infer_ok (c);
        got = op_case_run (c, all_levels[l]);
        g_assert_cmpmem (got, cases[k].bytes, cases[k].want, cases[k].bytes);
      }
  {
    /* int64 -> int32 wraps; -> float16 rounds to nearest even. */
    const gint64 big[] = { ((gint64) 1 << 32) + 5, -1, 2049 };
    const gint32 want[] = { 5, -1, 2049 };
    g_autoptr(OpCase) c = op_case_new (13, "Cast");
    g_autoptr(OpCase) h = op_case_new (13, "Cast");
    g_autofree gint32 *got = NULL;
    g_autofree guint16 *half = NULL;

    kestrel_node_set_attr_int (op_case_node (c), "to", 6);
    op_case_input (c, KESTREL_DTYPE_INT64, 1, &s3, big);
    op_case_infer_ok (c);
    got = op_case_run (c, KK_LEVEL_SCALAR);
    g_assert_cmpmem (got, sizeof want, want, sizeof want);

    kestrel_node_set_attr_int (op_case_node (h), "to", 10);
    op_case_input (h, KESTREL_DTYPE_INT64, 1, &s3, big);
    op_case_infer_ok (h);
    half = op_case_run (h, KK_LEVEL_SCALAR);
    g_assert_cmpfloat (f16_to_f32 (half[1]), ==, -1);
    g_assert_cmpfloat (f16_to_f32 (half[2]), ==, 2048);
  }
  {
    const guint8 pixels[] = { 0, 128, 255 };
    const float want[] = { 0, 128, 255 };
    g_autoptr(OpCase) c = op_case_new (13, "Cast");
    g_autofree float *got = NULL;

    kestrel_node_set_attr_int (op_case_node (c), "to", 1);
    op_case_input (c, KESTREL_DTYPE_UINT8, 1, &s3, pixels);
    op_case_infer_ok (c);
    got = op_case_run (c, KK_LEVEL_FULL);
    g_assert_cmpmem (got, sizeof want, want, sizeof want);
  }
  {
    g_autoptr(OpCase) c = op_case_new (13, "Cast");
    /* A type Kestrel lacks (double is test-ops-float64.c's). */
    kestrel_node_set_attr_int (op_case_node (c), "to", 16);
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 1, &s8, x);
    op_case_expect_error (c, KESTREL_ERROR_UNSUPPORTED, "BFLOAT16");
  }
}

/* ---- Opsets before the current definitions ------------------------------------ */

static void
test_legacy_shape_ops (void)
{
  const gint64 x_shape[] = { 2, 3 }, target[] = { 3, -1 }, want_shape[] = { 3, 2 };
  const gint64 cat_shape[] = { 2, 6 };
  const float x[] = { 1, 2, 3, 4, 5, 6 };
  const float cat[] = { 1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6 };

  {
    g_autoptr(OpCase) c = op_case_new (4, "Reshape");
    kestrel_node_set_attr_ints (op_case_node (c), "shape", target, 2);
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, x_shape, x);
    op_case_infer_ok (c);
    expect_shape (c, 2, want_shape);
  }
  {
    /* Concat before opset 4: axis 1 unless given. */
    g_autoptr(OpCase) c = op_case_new (3, "Concat");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, x_shape, x);
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, x_shape, x);
    op_case_infer_ok (c);
    expect_shape (c, 2, cat_shape);
    expect_floats_all_levels (c, cat, 12);
  }
  {
    /* Cast before opset 6 names the type. */
    const gint32 want[] = { 1, 2, 3, 4, 5, 6 };
    g_autoptr(OpCase) c = op_case_new (5, "Cast");
    g_autofree gint32 *got = NULL;

    kestrel_node_set_attr_string (op_case_node (c), "to", "INT32");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, x_shape, x);
    op_case_infer_ok (c);
    got = op_case_run (c, KK_LEVEL_SCALAR);
    g_assert_cmpmem (got, sizeof want, want, sizeof want);
  }
}

/* ---- ONNX node cases ------------------------------------------------------------ */

static gboolean
run_onnx_case (const char *dir, const char *name)
{
  g_autofree char *model_path = g_build_filename (dir, "model.onnx", NULL);
  g_autofree char *data_dir = g_build_filename (dir, "test_data_set_0", NULL);
  g_autoptr(GMappedFile) file = g_mapped_file_new (model_path, FALSE, NULL);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) activations = g_array_new (FALSE, FALSE, sizeof (gint));
  g_autoptr(OpCase) c = g_new0 (OpCase, 1);
  gboolean shape_first = strstr (name, "constantofshape") != NULL;

  if (file == NULL)
    return FALSE;
  bytes = g_mapped_file_get_bytes (file);
  c->graph = kestrel_onnx_load_graph (bytes, model_path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (c->graph->nodes->len, ==, 1);
  c->data = g_hash_table_new_full (NULL, NULL, NULL, g_free);

  /* Integer inputs after the data (all of ConstantOfShape's) become
   * constants; the rest stay activations with the stored data. */
  for (guint i = 0; i < c->graph->inputs->len; i++)
    {
      gint v = g_array_index (c->graph->inputs, gint, i);
      KestrelValue *value = kestrel_graph_value (c->graph, v);
      g_autofree char *file_name = g_strdup_printf ("input_%u.pb", i);
      g_autofree char *path = g_build_filename (data_dir, file_name, NULL);
      g_autoptr(KestrelTensor) t = kestrel_onnx_tensor_from_file (path, &error);

      g_assert_no_error (error);
      if (value->dtype == KESTREL_DTYPE_INT64 && (i > 0 || shape_first))
        {
          value->constant = g_steal_pointer (&t);
          value->is_input = FALSE;
        }
      else
        {
          g_hash_table_insert (c->data, GINT_TO_POINTER (v),
                               g_memdup2 (kestrel_tensor_get_data (t),
                                          MAX (kestrel_tensor_get_n_bytes (t), 1)));
          g_array_append_val (activations, v);
        }
    }
  g_array_set_size (c->graph->inputs, 0);
  g_array_append_vals (c->graph->inputs, activations->data, activations->len);
  op_case_infer_ok (c);

  for (guint l = 0; l < G_N_ELEMENTS (all_levels); l++)
    {
      g_autoptr(GPtrArray) got = op_case_run_all (c, all_levels[l]);

      for (guint o = 0; o < got->len; o++)
        {
          g_autofree char *file_name = g_strdup_printf ("output_%u.pb", o);
          g_autofree char *path = g_build_filename (data_dir, file_name, NULL);
          g_autoptr(KestrelTensor) want = kestrel_onnx_tensor_from_file (path, &error);
          const KestrelValue *out = op_case_output (c, o);
          g_autofree char *want_shape = NULL, *got_shape = NULL;

          g_assert_no_error (error);
          want_shape = kestrel_shape_to_string (kestrel_tensor_get_n_dims (want),
                                                kestrel_tensor_get_shape (want));
          got_shape = kestrel_shape_to_string (out->n_dims, out->shape);
          g_assert_cmpstr (got_shape, ==, want_shape);
          g_assert_cmpint (out->dtype, ==, kestrel_tensor_get_dtype (want));
          /* Pure data movement: exact. */
          g_assert_cmpmem (got->pdata[o], kestrel_tensor_get_n_bytes (want),
                           kestrel_tensor_get_data (want), kestrel_tensor_get_n_bytes (want));
        }
    }
  return TRUE;
}

static void
test_onnx_node_cases (void)
{
  static const char *const prefixes[] = {
    "test_reshape_", "test_slice", "test_squeeze", "test_unsqueeze", "test_split_",
    "test_tile", "test_expand_", "test_constantofshape_",
  };
  const char *root = g_getenv ("KESTREL_CONFORMANCE_DATA");
  g_autofree char *node_dir = g_build_filename (root != NULL ? root
                                                : "/usr/share/libonnx-testdata/data",
                                                "node", NULL);
  g_autoptr(GDir) dir = g_dir_open (node_dir, 0, NULL);
  const char *name;
  guint n_run = 0;

  if (dir == NULL)
    {
      test_missing ("libonnx-testdata", node_dir);
      return;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    for (guint p = 0; p < G_N_ELEMENTS (prefixes); p++)
      if (g_str_has_prefix (name, prefixes[p]))
        {
          g_autofree char *case_dir = g_build_filename (node_dir, name, NULL);
          g_test_message ("%s", name);
          n_run += run_onnx_case (case_dir, name);
          break;
        }
  g_test_message ("%u cases", n_run);
  g_assert_cmpuint (n_run, >, 0);
}

/* ---- Split-18 num_outputs ------------------------------------------------------ */

static void
test_cast_like (void)
{
  const gint64 s2 = 2, s1 = 1;
  const float x[] = { 1.7f, -2.5f };
  const gint32 like = 0, want[] = { 1, -2 };
  g_autoptr(OpCase) c = op_case_new (15, "CastLike");
  g_autofree gint32 *got = NULL;

  op_case_input (c, KESTREL_DTYPE_FLOAT32, 1, &s2, x);
  op_case_constant (c, KESTREL_DTYPE_INT32, 1, &s1, &like);
  op_case_infer_ok (c);
  g_assert_cmpint (op_case_output (c, 0)->dtype, ==, KESTREL_DTYPE_INT32);
  got = op_case_run (c, KK_LEVEL_SCALAR);
  g_assert_cmpmem (got, sizeof want, want, sizeof want);
}

static void
test_split_18 (void)
{
  const gint64 s7 = 7;
  const gint32 x[] = { 0, 1, 2, 3, 4, 5, 6 };
  g_autoptr(OpCase) c = op_case_new (18, "Split");
  g_autoptr(GPtrArray) out = NULL;

  kestrel_node_set_attr_int (op_case_node (c), "num_outputs", 3);
  op_case_input (c, KESTREL_DTYPE_INT32, 1, &s7, x);
  op_case_outputs (c, 3);
  op_case_infer_ok (c);
  /* ceil (7 / 3) = 3: parts of 3, 3 and 1. */
  g_assert_cmpint (op_case_output (c, 0)->shape[0], ==, 3);
  g_assert_cmpint (op_case_output (c, 1)->shape[0], ==, 3);
  g_assert_cmpint (op_case_output (c, 2)->shape[0], ==, 1);
  out = op_case_run_all (c, KK_LEVEL_FULL);
  g_assert_cmpmem (g_ptr_array_index (out, 1), 12, x + 3, 12);
  g_assert_cmpmem (g_ptr_array_index (out, 2), 4, x + 6, 4);
  {
    g_autoptr(OpCase) e = op_case_new (18, "Split");
    kestrel_node_set_attr_int (op_case_node (e), "num_outputs", 2);
    op_case_input (e, KESTREL_DTYPE_INT32, 1, &s7, x);
    op_case_outputs (e, 3);
    op_case_expect_error (e, KESTREL_ERROR_CORRUPT, "num_outputs");
  }
}

/* ---- DepthToSpace, SpaceToDepth, Dropout -------------------------------------- */

static void
test_depth_to_space (void)
{
  const gint64 xs[] = { 1, 8, 1, 1 }, ys[] = { 1, 2, 2, 2 };
  const gint32 x[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
  /* DCR: out[c, i, j] = in[(i*2 + j)*2 + c]; CRD: in[c*4 + i*2 + j]. */
  const gint32 dcr[] = { 0, 2, 4, 6, 1, 3, 5, 7 };
  const gint32 crd[] = { 0, 1, 2, 3, 4, 5, 6, 7 };

  for (guint l = 0; l < G_N_ELEMENTS (all_levels); l++)
    for (guint m = 0; m < 2; m++)
      {
        g_autoptr(OpCase) c = op_case_new (13, "DepthToSpace");
        g_autofree gint32 *got = NULL;

        kestrel_node_set_attr_int (op_case_node (c), "blocksize", 2);
        if (m == 1)
          kestrel_node_set_attr_string (op_case_node (c), "mode", "CRD");
        op_case_input (c, KESTREL_DTYPE_INT32, 4, xs, x);
        op_case_infer_ok (c);
        g_assert_cmpmem (op_case_output (c, 0)->shape, sizeof ys, ys, sizeof ys);
        got = op_case_run (c, all_levels[l]);
        g_assert_cmpmem (got, sizeof x, m == 0 ? dcr : crd, sizeof x);
      }

  /* SpaceToDepth undoes DCR, on a larger random tensor. */
  {
    g_autoptr(GRand) rand = g_rand_new_with_seed (7);
    const gint64 big[] = { 2, 12, 5, 7 };
    g_autofree float *data = random_floats (rand, 2 * 12 * 5 * 7, -1, 1);
    g_autoptr(OpCase) d2s = op_case_new (11, "DepthToSpace");
    g_autofree float *mid = NULL;

    kestrel_node_set_attr_int (op_case_node (d2s), "blocksize", 2);
    op_case_input (d2s, KESTREL_DTYPE_FLOAT32, 4, big, data);
    op_case_infer_ok (d2s);
    mid = op_case_run (d2s, KK_LEVEL_SCALAR);
    for (guint l = 0; l < G_N_ELEMENTS (all_levels); l++)
      {
        g_autoptr(OpCase) s2d = op_case_new (13, "SpaceToDepth");
        g_autofree float *back = NULL;

        kestrel_node_set_attr_int (op_case_node (s2d), "blocksize", 2);
        op_case_input (s2d, KESTREL_DTYPE_FLOAT32, 4, op_case_output (d2s, 0)->shape, mid);
        op_case_infer_ok (s2d);
        g_assert_cmpmem (op_case_output (s2d, 0)->shape, sizeof big, big, sizeof big);
        back = op_case_run (s2d, all_levels[l]);
        g_assert_cmpmem (back, sizeof (float) * 2 * 12 * 5 * 7, data,
                         sizeof (float) * 2 * 12 * 5 * 7);
      }
  }
  {
    const gint64 odd[] = { 1, 6, 2, 2 };
    const gint32 zeros[24] = { 0 };
    g_autoptr(OpCase) c = op_case_new (13, "DepthToSpace");
    kestrel_node_set_attr_int (op_case_node (c), "blocksize", 2);
    op_case_input (c, KESTREL_DTYPE_INT32, 4, odd, zeros);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "channels");
  }
  {
    g_autoptr(OpCase) c = op_case_new (13, "DepthToSpace");
    kestrel_node_set_attr_int (op_case_node (c), "blocksize", 2);
    kestrel_node_set_attr_string (op_case_node (c), "mode", "XYZ");
    op_case_input (c, KESTREL_DTYPE_INT32, 4, xs, x);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "mode");
  }
}

static void
test_dropout (void)
{
  const gint64 s3 = 3, s1 = 1;
  const float x[] = { 1, -2, 3 }, ratio = 0.5f;
  const guint8 on = 1;

  {
    g_autoptr(OpCase) c = op_case_new (13, "Dropout");
    g_autoptr(GPtrArray) out = NULL;

    op_case_input (c, KESTREL_DTYPE_FLOAT32, 1, &s3, x);
    op_case_outputs (c, 2);
    op_case_infer_ok (c);
    g_assert_cmpint (op_case_output (c, 1)->dtype, ==, KESTREL_DTYPE_BOOL);
    out = op_case_run_all (c, KK_LEVEL_SCALAR);
    g_assert_cmpmem (g_ptr_array_index (out, 0), sizeof x, x, sizeof x);
    g_assert_cmpmem (g_ptr_array_index (out, 1), 3, ((const guint8[]) { 1, 1, 1 }), 3);
  }
  {
    /* Training with a non-zero ratio is random: refused. */
    g_autoptr(OpCase) c = op_case_new (13, "Dropout");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 1, &s3, x);
    op_case_constant (c, KESTREL_DTYPE_FLOAT32, 0, &s1, &ratio);
    op_case_constant (c, KESTREL_DTYPE_BOOL, 0, &s1, &on);
    op_case_expect_error (c, KESTREL_ERROR_UNSUPPORTED, "training");
  }
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  test_pool = kestrel_thread_pool_new (2);

  g_test_add_func ("/ops-shape/reshape/alias", test_reshape_alias);
  g_test_add_func ("/ops-shape/depth-to-space", test_depth_to_space);
  g_test_add_func ("/ops-shape/dropout", test_dropout);
  g_test_add_func ("/ops-shape/split-18", test_split_18);
  g_test_add_func ("/ops-shape/cast-like", test_cast_like);
  g_test_add_func ("/ops-shape/reshape/view-chain", test_view_chain);
  g_test_add_func ("/ops-shape/reshape/cases", test_reshape_cases);
  g_test_add_func ("/ops-shape/reshape/error-names-node", test_reshape_error_names_node);
  g_test_add_func ("/ops-shape/shape-folds", test_shape_folds);
  g_test_add_func ("/ops-shape/squeeze-unsqueeze-flatten", test_squeeze_unsqueeze);
  g_test_add_func ("/ops-shape/slice/random", test_slice_random);
  g_test_add_func ("/ops-shape/slice/attrs-errors", test_slice_attrs_and_errors);
  g_test_add_func ("/ops-shape/transpose", test_transpose);
  g_test_add_func ("/ops-shape/transpose-tiles", test_transpose_tiles);
  g_test_add_func ("/ops-shape/expand-tile", test_expand_tile);
  g_test_add_func ("/ops-shape/concat-split", test_concat_split);
  g_test_add_func ("/ops-shape/gather", test_gather);
  g_test_add_func ("/ops-shape/cast", test_cast);
  g_test_add_func ("/ops-shape/legacy", test_legacy_shape_ops);
  g_test_add_func ("/ops-shape/onnx-node-cases", test_onnx_node_cases);

  status = g_test_run ();
  kestrel_thread_pool_unref (test_pool);
  return status;
}
