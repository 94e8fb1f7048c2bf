/* test-ops-nn-sample.c — the sampling operators GridSample, RoiAlign and MaxUnpool
 * (core/ops/ops-nn-sample.c) and NonMaxSuppression (core/ops/ops-nn-nms.c),
 * on hand-computed cases.
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

/* ---- GridSample, RoiAlign, MaxUnpool (by hand) -------------------------------- */

static void
test_grid_sample (void)
{
  const gint64 xs[] = { 1, 1, 2, 2 }, gs[] = { 1, 1, 3, 2 };
  const float x[] = { 1, 2, 3, 4 };
  /* (0, 0) is the centre; (-1, -1) and (1, 1) the corners. */
  const float grid[] = { 0, 0, -1, -1, 1, 1 };
  struct { const char *padding; gint64 align; double want[3]; } cases[] = {
    { "zeros", 0, { 2.5, 0.25, 1.0 } },
    { "border", 0, { 2.5, 1, 4 } },
    { "zeros", 1, { 2.5, 1, 4 } },
  };

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      g_autoptr(OpCase) c = op_case_new (16, "GridSample");
      g_autoptr(GPtrArray) out = NULL;

      kestrel_node_set_attr_string (op_case_node (c), "padding_mode", cases[k].padding);
      kestrel_node_set_attr_int (op_case_node (c), "align_corners", cases[k].align);
      op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, xs, x);
      op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, gs, grid);
      op_case_infer_ok (c);
      out = case_run (c);
      for (guint i = 0; i < 3; i++)
        if (!floats_close (((float *) g_ptr_array_index (out, 0))[i], cases[k].want[i], 1e-6, 1e-6))
          g_error ("GridSample %s align %d: %u is %g, expected %g", cases[k].padding,
                   (int) cases[k].align, i, (double) ((float *) g_ptr_array_index (out, 0))[i],
                   cases[k].want[i]);
    }
}

static void
test_roi_align (void)
{
  const gint64 xs[] = { 1, 1, 4, 4 }, rs[] = { 2, 4 }, is = 2;
  float x[16];
  /* The first region's single sample lands on pixel (1, 1); the second
   * names batch 3, which does not exist, and reads nothing. */
  const float rois[] = { 0, 0, 3, 3, 0, 0, 3, 3 };
  const gint64 batch[] = { 0, 3 };
  g_autoptr(OpCase) c = op_case_new (16, "RoiAlign");
  g_autoptr(GPtrArray) out = NULL;

  for (guint i = 0; i < 16; i++)
    x[i] = (float) i;
  kestrel_node_set_attr_int (op_case_node (c), "sampling_ratio", 1);
  op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, xs, x);
  op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, rs, rois);
  op_case_input (c, KESTREL_DTYPE_INT64, 1, &is, batch);
  op_case_infer_ok (c);
  out = case_run (c);
  g_assert_cmpfloat (((float *) g_ptr_array_index (out, 0))[0], ==, 5);
  g_assert_cmpfloat (((float *) g_ptr_array_index (out, 0))[1], ==, 0);
}

/* Found by fuzz-model: an input of height 0 is a valid shape, and sampling
 * it read before the buffer. Regions given as infinity or NaN have no
 * extent to divide into samples. All give zeros. */
static void
test_roi_align_degenerate (void)
{
  const gint64 empty[] = { 1, 2, 0, 4 }, xs[] = { 1, 1, 4, 4 }, rs[] = { 2, 4 }, is = 2;
  float x[16];
  const float rois[] = { 0, 0, 3, 3, 1, 1, 2, 2 };
  const float odd_rois[] = { 0, 0, INFINITY, 3, NAN, 0, 3, NAN };
  const gint64 batch[] = { 0, 0 };

  for (guint i = 0; i < 16; i++)
    x[i] = (float) (i + 1);
  for (guint k = 0; k < 2; k++)
    {
      g_autoptr(OpCase) c = op_case_new (16, "RoiAlign");
      g_autoptr(GPtrArray) out = NULL;
      const float *y;
      /* Output 2 regions x C channels x 1 x 1. */
      guint n = k == 0 ? 4 : 2;

      kestrel_node_set_attr_int (op_case_node (c), "output_height", 1);
      kestrel_node_set_attr_int (op_case_node (c), "output_width", 1);
      op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, k == 0 ? empty : xs, x);
      op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, rs, k == 0 ? rois : odd_rois);
      op_case_input (c, KESTREL_DTYPE_INT64, 1, &is, batch);
      op_case_infer_ok (c);
      out = case_run (c);
      y = g_ptr_array_index (out, 0);
      for (guint i = 0; i < n; i++)
        if (!isfinite (y[i]))
          g_error ("RoiAlign %s: output %u is %g", k == 0 ? "on an empty plane" : "of non-finite regions",
                   i, (double) y[i]);
      if (k == 0)
        for (guint i = 0; i < n; i++)
          g_assert_cmpfloat (y[i], ==, 0);
    }
}

static void
test_max_unpool (void)
{
  const gint64 xs[] = { 1, 1, 2, 2 }, os[] = { 1, 1, 4, 4 }, k[] = { 2, 2 };
  const float x[] = { 1, 2, 3, 4 };
  const gint64 idx[] = { 5, 7, 13, 99 };  /* 99 is outside: dropped */
  float want[16] = { 0 };
  g_autoptr(OpCase) c = op_case_new (11, "MaxUnpool");
  g_autoptr(GPtrArray) out = NULL;

  want[5] = 1;
  want[7] = 2;
  want[13] = 3;
  kestrel_node_set_attr_ints (op_case_node (c), "kernel_shape", k, 2);
  kestrel_node_set_attr_ints (op_case_node (c), "strides", k, 2);
  op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, xs, x);
  op_case_input (c, KESTREL_DTYPE_INT64, 4, xs, idx);
  op_case_infer_ok (c);
  assert_shape (op_case_output (c, 0), 4, os);
  out = case_run (c);
  g_assert_cmpmem (g_ptr_array_index (out, 0), sizeof want, want, sizeof want);
}

static void
test_non_max_suppression (void)
{
  /* Three boxes of one class: 0 overlaps the higher-scored 1 by IoU 0.82
   * and goes; 2 is apart. */
  const gint64 bs[] = { 1, 3, 4 }, ss[] = { 1, 1, 3 }, s1 = 1;
  const float boxes[] = { 0, 0, 1, 1,  0, 0.1f, 1, 1.1f,  0, 5, 1, 6 };
  const float scores[] = { 0.9f, 0.95f, 0.3f };
  const gint64 max_out = 5;
  const float iou = 0.5f, score = 0.2f;
  const gint64 want[] = { 0, 0, 1, 0, 0, 2 };
  g_autoptr(OpCase) c = op_case_new (11, "NonMaxSuppression");
  g_autoptr(GPtrArray) out = NULL;
  const KestrelValue *y;

  op_case_constant (c, KESTREL_DTYPE_FLOAT32, 3, bs, boxes);
  op_case_constant (c, KESTREL_DTYPE_FLOAT32, 3, ss, scores);
  op_case_constant (c, KESTREL_DTYPE_INT64, 1, &s1, &max_out);
  op_case_constant (c, KESTREL_DTYPE_FLOAT32, 1, &s1, &iou);
  op_case_constant (c, KESTREL_DTYPE_FLOAT32, 1, &s1, &score);
  op_case_infer_ok (c);
  y = op_case_output (c, 0);
  g_assert_cmpint (y->shape[0], ==, 2);
  g_assert_nonnull (y->constant);
  g_assert_cmpmem (kestrel_tensor_get_data (y->constant), sizeof want, want, sizeof want);
  out = case_run (c);
  g_assert_cmpmem (g_ptr_array_index (out, 0), sizeof want, want, sizeof want);

  /* Boxes known only at run time: the output length is unknown, refused. */
  {
    g_autoptr(OpCase) e = op_case_new (11, "NonMaxSuppression");
    op_case_input (e, KESTREL_DTYPE_FLOAT32, 3, bs, boxes);
    op_case_constant (e, KESTREL_DTYPE_FLOAT32, 3, ss, scores);
    op_case_expect_error (e, KESTREL_ERROR_UNSUPPORTED, "static shapes");
  }
}

static void
add_tests (void)
{
  g_test_add_func ("/ops-nn/grid-sample", test_grid_sample);
  g_test_add_func ("/ops-nn/roi-align", test_roi_align);
  g_test_add_func ("/ops-nn/roi-align/degenerate", test_roi_align_degenerate);
  g_test_add_func ("/ops-nn/max-unpool", test_max_unpool);
  g_test_add_func ("/ops-nn/non-max-suppression", test_non_max_suppression);
}

int
main (int argc, char **argv)
{
  return ops_nn_test_main (argc, argv, add_tests);
}
