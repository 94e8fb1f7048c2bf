/* test-ops-nn-resize.c — Resize and Upsample (core/ops/ops-nn-resize.c), checked against the
 * values of the ONNX operator documentation and a random linear oracle.
 *
 * Each test builds a one-node graph by hand, lets the op infer shapes, and
 * runs it as the planner would (ops-nn-test-util.h): prepare() sees only
 * constant data, run() writes into buffers poisoned with NaN, once on the
 * calling thread and once over a thread pool. The two runs must agree bit
 * for bit, and both must match a straightforward double-precision oracle
 * written here (different loop structure from the operator's, on
 * purpose), on random shapes and attributes, or hand-computed values.
 */
#include <math.h>
#include <string.h>

#include "kestrel-error.h"
#include "kestrel-graph.h"
#include "kestrel-op.h"
#include "kestrel-passes.h"
#include "kestrel-thread-pool.h"

#include "ops-nn-test-util.h"

/* ---- Resize, Upsample ------------------------------------------------------------------ */

typedef struct {
  const char *name;
  gint64 opset;
  const char *mode, *coord, *nearest;
  guint n_in;                    /* square input side */
  const float *x;
  const float *scales;           /* 4 values, or NULL */
  const gint64 *sizes;           /* 4 values, or NULL */
  gint64 out_h, out_w;
  const double *want;
} ResizeExample;

static const float x2x2[] = { 1, 2, 3, 4 };
static const float x4x4[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const float x2x4[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static const float s_up_2_3[] = { 1, 1, 2, 3 }, s_up_2_2[] = { 1, 1, 2, 2 };
static const float s_down_06[] = { 1, 1, 0.6f, 0.6f };
static const gint64 sz_7_8[] = { 1, 1, 7, 8 }, sz_8_8[] = { 1, 1, 8, 8 }, sz_3_2[] = { 1, 1, 3, 1 };
static const gint64 sz_1_3[] = { 1, 1, 1, 3 };

static const double want_nearest_up[] = {
  1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4,
};
static const double want_linear_up[] = {
  1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4,
};
static const double want_linear_up_align[] = {
  1, 4 / 3.0, 5 / 3.0, 2, 5 / 3.0, 2, 7 / 3.0, 8 / 3.0, 7 / 3.0, 8 / 3.0, 3, 10 / 3.0,
  3, 10 / 3.0, 11 / 3.0, 4,
};
static const double want_linear_down[] = { 2.6666665, 4.3333331 };
static const double want_linear_down_align[] = { 1, 3.142857 };
static const double want_nearest_down[] = { 1, 3 };
static const double want_nearest_sizes_up[] = {
  1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2,
  3, 3, 3, 3, 4, 4, 4, 4, 3, 3, 3, 3, 4, 4, 4, 4, 3, 3, 3, 3, 4, 4, 4, 4,
};
static const double want_nearest_down_sizes[] = { 1, 2, 4 };
static const double want_nearest_floor_align[] = {
  1, 1, 1, 2, 2, 3, 3, 4, 1, 1, 1, 2, 2, 3, 3, 4, 1, 1, 1, 2, 2, 3, 3, 4, 5, 5, 5, 6, 6, 7, 7, 8,
  5, 5, 5, 6, 6, 7, 7, 8, 9, 9, 9, 10, 10, 11, 11, 12, 9, 9, 9, 10, 10, 11, 11, 12,
  13, 13, 13, 14, 14, 15, 15, 16,
};
static const double want_linear_pytorch_down[] = { 1.6666666, 7.0, 12.333333 };

static const ResizeExample resize_examples[] = {
  { "upsample_scales_nearest", 13, "nearest", NULL, NULL, 2, x2x2, s_up_2_3, NULL, 4, 6,
    want_nearest_up },
  { "upsample_scales_linear", 13, "linear", NULL, NULL, 2, x2x2, s_up_2_2, NULL, 4, 4,
    want_linear_up },
  { "upsample_scales_linear_align_corners", 11, "linear", "align_corners", NULL, 2, x2x2,
    s_up_2_2, NULL, 4, 4, want_linear_up_align },
  { "downsample_scales_linear", 13, "linear", NULL, NULL, 0, x2x4, s_down_06, NULL, 1, 2,
    want_linear_down },
  { "downsample_scales_linear_align_corners", 13, "linear", "align_corners", NULL, 0, x2x4,
    s_down_06, NULL, 1, 2, want_linear_down_align },
  { "downsample_scales_nearest", 13, "nearest", NULL, NULL, 0, x2x4, s_down_06, NULL, 1, 2,
    want_nearest_down },
  { "upsample_sizes_nearest", 13, "nearest", NULL, NULL, 2, x2x2, NULL, sz_7_8, 7, 8,
    want_nearest_sizes_up },
  { "downsample_sizes_nearest", 13, "nearest", NULL, NULL, 0, x2x4, NULL, sz_1_3, 1, 3,
    want_nearest_down_sizes },
  { "upsample_sizes_nearest_floor_align_corners", 13, "nearest", "align_corners", "floor", 4,
    x4x4, NULL, sz_8_8, 8, 8, want_nearest_floor_align },
  { "downsample_sizes_linear_pytorch_half_pixel", 13, "linear", "pytorch_half_pixel", NULL, 4,
    x4x4, NULL, sz_3_2, 3, 1, want_linear_pytorch_down },
  /* Resize-10: asymmetric coordinates, nearest rounds down when growing. */
  { "opset10_nearest", 10, "nearest", NULL, NULL, 2, x2x2, s_up_2_3, NULL, 4, 6,
    want_nearest_up },
};

static void
test_resize_examples (void)
{
  for (gsize e = 0; e < G_N_ELEMENTS (resize_examples); e++)
    {
      const ResizeExample *ex = &resize_examples[e];
      gint64 x_shape[4] = { 1, 1, ex->n_in ? ex->n_in : 2, ex->n_in ? ex->n_in : 4 };
      gint64 y_shape[4] = { 1, 1, ex->out_h, ex->out_w }, four[1] = { 4 }, empty[1] = { 0 };
      g_autoptr(OpCase) c = op_case_new (ex->opset, "Resize");
      g_autoptr(GPtrArray) got = NULL;
      g_autoptr(GError) error = NULL;

      g_test_message ("resize example %s", ex->name);
      op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, x_shape, ex->x);
      if (ex->opset >= 11)
        {
          /* Opset 11 wants roi and scales present, if empty. */
          if (ex->opset == 11)
            op_case_constant (c, KESTREL_DTYPE_FLOAT32, 1, empty, NULL);
          else
            op_case_omit (c);
          if (ex->scales != NULL)
            op_case_constant (c, KESTREL_DTYPE_FLOAT32, 1, four, ex->scales);
          else if (ex->opset == 11)
            op_case_constant (c, KESTREL_DTYPE_FLOAT32, 1, empty, NULL);
          else
            op_case_omit (c);
          if (ex->sizes != NULL)
            op_case_constant (c, KESTREL_DTYPE_INT64, 1, four, ex->sizes);
        }
      else
        op_case_constant (c, KESTREL_DTYPE_FLOAT32, 1, four, ex->scales);
      op_case_outputs (c, 1);
      kestrel_node_set_attr_string (op_case_node (c), "mode", ex->mode);
      if (ex->coord != NULL)
        kestrel_node_set_attr_string (op_case_node (c), "coordinate_transformation_mode", ex->coord);
      if (ex->nearest != NULL)
        kestrel_node_set_attr_string (op_case_node (c), "nearest_mode", ex->nearest);
      if (!op_case_infer (c, &error))
        g_error ("%s: %s", ex->name, error->message);
      assert_shape (op_case_output (c, 0), 4, y_shape);
      got = case_run (c);
      assert_close (ex->name, g_ptr_array_index (got, 0), ex->want, ex->out_h * ex->out_w, 1e-5,
                    1e-6);
    }
}

static void
test_upsample (void)
{
  const gint64 x_shape[] = { 1, 1, 2, 2 }, y_shape[] = { 1, 1, 4, 6 }, four[] = { 4 };

  for (gint64 opset = 7; opset <= 9; opset += 2)
    {
      g_autoptr(OpCase) c = op_case_new (opset, "Upsample");
      g_autoptr(GPtrArray) got = NULL;
      g_autoptr(GError) error = NULL;

      op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, x_shape, x2x2);
      if (opset == 9)
        op_case_constant (c, KESTREL_DTYPE_FLOAT32, 1, four, s_up_2_3);
      else
        {
          KestrelAttr *attr = kestrel_node_add_attr (op_case_node (c), "scales", KESTREL_ATTR_FLOATS);
          attr->n = 4;
          attr->floats = g_memdup2 (s_up_2_3, sizeof s_up_2_3);
        }
      op_case_outputs (c, 1);
      kestrel_node_set_attr_string (op_case_node (c), "mode", "nearest");
      if (!op_case_infer (c, &error))
        g_error ("%s", error->message);
      assert_shape (op_case_output (c, 0), 4, y_shape);
      got = case_run (c);
      assert_close ("Upsample", g_ptr_array_index (got, 0), want_nearest_up, 24, 0, 0);
    }
}

/* A map in NHWC resized in H and W (what the layout pass leaves): the
 * SIMD levels sum whole channel rows (ops-nn-resize.c, sum_rows()), the
 * scalar ones run the general loop; nearest and linear, every level, the
 * same bits as scalar. Channel counts across the 8-lane blocks. */
static void
test_resize_channels_last (void)
{
  static const kk_level levels[] = { KK_LEVEL_SIMD, KK_LEVEL_PARALLEL, KK_LEVEL_FULL };
  static const char *const modes[] = { "nearest", "linear" };

  for (guint iter = 0; iter < 40; iter++)
    {
      gint64 n = rand_range (1, 2), h = rand_range (1, 6), w = rand_range (1, 6), ch = rand_range (1, 37);
      gint64 oh = rand_range (1, 13), ow = rand_range (1, 13);
      gint64 x_shape[4] = { n, h, w, ch }, sizes[4] = { n, oh, ow, ch }, four[1] = { 4 };
      g_autofree float *x = rand_floats (n * h * w * ch);
      g_autoptr(OpCase) c = op_case_new (13, "Resize");
      g_autoptr(GError) error = NULL;
      gsize bytes = n * oh * ow * ch * sizeof (float);

      /* Zeros of both signs: the sums must keep the general loop's. */
      x[0] = -0.0f;
      op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, x_shape, x);
      op_case_omit (c);
      op_case_omit (c);
      op_case_constant (c, KESTREL_DTYPE_INT64, 1, four, sizes);
      op_case_outputs (c, 1);
      kestrel_node_set_attr_string (op_case_node (c), "mode", modes[iter % 2]);
      g_assert_true (op_case_infer (c, &error));
      g_assert_no_error (error);

      g_autoptr(GPtrArray) want = op_case_run_all (c, KK_LEVEL_SCALAR);
      for (guint l = 0; l < G_N_ELEMENTS (levels); l++)
        {
          g_autoptr(GPtrArray) got = op_case_run_all (c, levels[l]);
          g_assert_cmpmem (g_ptr_array_index (got, 0), bytes, g_ptr_array_index (want, 0), bytes);
        }
    }
}

/* Bilinear half_pixel on random sizes, against a separable oracle. */
static void
test_resize_linear_random (void)
{
  for (guint iter = 0; iter < 40; iter++)
    {
      gint64 h = rand_range (1, 7), w = rand_range (1, 7), oh = rand_range (1, 12), ow = rand_range (1, 12);
      gint64 x_shape[4] = { 2, 2, h, w }, sizes[4] = { 2, 2, oh, ow }, four[1] = { 4 };
      g_autofree float *x = rand_floats (4 * h * w);
      g_autofree double *want = g_new (double, 4 * oh * ow);
      g_autoptr(OpCase) c = op_case_new (13, "Resize");
      g_autoptr(GPtrArray) got = NULL;
      g_autoptr(GError) error = NULL;

      op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, x_shape, x);
      op_case_omit (c);
      op_case_omit (c);
      op_case_constant (c, KESTREL_DTYPE_INT64, 1, four, sizes);
      op_case_outputs (c, 1);
      kestrel_node_set_attr_string (op_case_node (c), "mode", "linear");
      g_assert_true (op_case_infer (c, &error));
      got = case_run (c);

      for (gint64 p = 0; p < 4; p++)
        for (gint64 i = 0; i < oh; i++)
          for (gint64 j = 0; j < ow; j++)
            {
              double y = CLAMP ((i + 0.5) * h / oh - 0.5, 0, h - 1);
              double xx = CLAMP ((j + 0.5) * w / ow - 0.5, 0, w - 1);
              gint64 y0 = (gint64) floor (y), x0 = (gint64) floor (xx);
              gint64 y1 = MIN (y0 + 1, h - 1), x1 = MIN (x0 + 1, w - 1);
              double fy = y - y0, fx = xx - x0;
              const float *xp = x + p * h * w;
              want[(p * oh + i) * ow + j]
                = (1 - fy) * ((1 - fx) * (double) xp[y0 * w + x0] + fx * (double) xp[y0 * w + x1])
                  + fy * ((1 - fx) * (double) xp[y1 * w + x0] + fx * (double) xp[y1 * w + x1]);
            }
      assert_close ("Resize linear", g_ptr_array_index (got, 0), want, 4 * oh * ow, 1e-5, 1e-6);
    }
}

static void
test_resize_errors (void)
{
  const gint64 x_shape[] = { 1, 1, 2, 2 }, four[] = { 4 };
  const gint64 sizes[] = { 1, 1, 4, 4 };

  {
    /* Sizes at run time: the output shape would not be static. */
    g_autoptr(OpCase) c = op_case_new (13, "Resize");
    g_autoptr(GError) error = NULL;
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, x_shape, x2x2);
    op_case_omit (c);
    op_case_omit (c);
    op_case_input (c, KESTREL_DTYPE_INT64, 1, four, sizes);
    op_case_outputs (c, 1);
    g_assert_false (op_case_infer (c, &error));
    g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED);
    g_assert_nonnull (strstr (error->message, "must be a constant"));
  }
  {
    g_autoptr(OpCase) c = op_case_new (13, "Resize");
    g_autoptr(GError) error = NULL;
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, x_shape, x2x2);
    op_case_omit (c);
    op_case_omit (c);
    op_case_constant (c, KESTREL_DTYPE_INT64, 1, four, sizes);
    op_case_outputs (c, 1);
    kestrel_node_set_attr_string (op_case_node (c), "coordinate_transformation_mode", "sideways");
    g_assert_false (op_case_infer (c, &error));
    g_assert_nonnull (strstr (error->message, "coordinate_transformation_mode 'sideways'"));
  }
  {
    g_autoptr(OpCase) c = op_case_new (13, "Resize");
    g_autoptr(GError) error = NULL;
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, x_shape, x2x2);
    op_case_omit (c);
    op_case_constant (c, KESTREL_DTYPE_FLOAT32, 1, four, s_up_2_2);
    op_case_constant (c, KESTREL_DTYPE_INT64, 1, four, sizes);
    op_case_outputs (c, 1);
    g_assert_false (op_case_infer (c, &error));
    g_assert_nonnull (strstr (error->message, "exactly one of scales"));
  }
}

static void
test_resize_18 (void)
{
  const gint64 xs[] = { 1, 1, 2, 4 };
  const float x[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
  {
    /* sizes for axes [2, 3] only; not_larger keeps the smaller scale, 1. */
    const gint64 sizes[] = { 4, 4 }, axes[] = { 2, 3 }, os[] = { 1, 1, 2, 4 };
    g_autoptr(OpCase) c = op_case_new (18, "Resize");
    g_autoptr(GPtrArray) out = NULL;

    kestrel_node_set_attr_ints (op_case_node (c), "axes", axes, 2);
    kestrel_node_set_attr_string (op_case_node (c), "keep_aspect_ratio_policy", "not_larger");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, xs, x);
    op_case_omit (c);
    op_case_omit (c);
    op_case_constant_ints (c, 2, sizes);
    op_case_infer_ok (c);
    assert_shape (op_case_output (c, 0), 4, os);
    out = case_run (c);
    g_assert_cmpmem (g_ptr_array_index (out, 0), sizeof x, x, sizeof x);
  }
  {
    /* half_pixel_symmetric, linear, width 4 -> 2 (scale 0.6): the samples
     * sit at 0.667 and 2.333. */
    const gint64 ws[] = { 1, 4 };
    const float scales[] = { 1, 0.6f };
    const float w[] = { 1, 2, 3, 4 };
    const double want[] = { 1 + 2.0 / 3, 3 + 1.0 / 3 };
    g_autoptr(OpCase) c = op_case_new (19, "Resize");
    g_autoptr(GPtrArray) out = NULL;
    const gint64 s2 = 2;

    kestrel_node_set_attr_string (op_case_node (c), "mode", "linear");
    kestrel_node_set_attr_string (op_case_node (c), "coordinate_transformation_mode",
                                  "half_pixel_symmetric");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, ws, w);
    op_case_omit (c);
    op_case_constant (c, KESTREL_DTYPE_FLOAT32, 1, &s2, scales);
    op_case_infer_ok (c);
    g_assert_cmpint (op_case_output (c, 0)->shape[1], ==, 2);
    out = case_run (c);
    for (guint i = 0; i < 2; i++)
      g_assert_true (floats_close (((float *) g_ptr_array_index (out, 0))[i], want[i], 1e-5, 1e-6));
  }
  {
    const float scales[] = { 0.5f, 0.5f };
    const gint64 axes[] = { 2, 3 }, s2 = 2;
    g_autoptr(OpCase) c = op_case_new (18, "Resize");

    kestrel_node_set_attr_ints (op_case_node (c), "axes", axes, 2);
    kestrel_node_set_attr_int (op_case_node (c), "antialias", 1);
    kestrel_node_set_attr_string (op_case_node (c), "mode", "linear");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, xs, x);
    op_case_omit (c);
    op_case_constant (c, KESTREL_DTYPE_FLOAT32, 1, &s2, scales);
    op_case_expect_error (c, KESTREL_ERROR_UNSUPPORTED, "antialias");
  }
}

static void
add_tests (void)
{
  g_test_add_func ("/ops-nn/resize/examples", test_resize_examples);
  g_test_add_func ("/ops-nn/resize/linear-random", test_resize_linear_random);
  g_test_add_func ("/ops-nn/resize/channels-last", test_resize_channels_last);
  g_test_add_func ("/ops-nn/resize/errors", test_resize_errors);
  g_test_add_func ("/ops-nn/upsample", test_upsample);
  g_test_add_func ("/ops-nn/resize-18", test_resize_18);
}

int
main (int argc, char **argv)
{
  return ops_nn_test_main (argc, argv, add_tests);
}
