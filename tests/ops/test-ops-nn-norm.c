/* test-ops-nn-norm.c — the normalisations: BatchNormalization, LRN, Softmax and LogSoftmax
 * (core/ops/ops-nn-norm.c); InstanceNormalization, LayerNormalization and
 * MeanVarianceNormalization (core/ops/ops-nn-layer-norm.c).
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

/* ---- BatchNormalization, LRN, Softmax ------------------------------------------------- */

static void
test_batch_norm (void)
{
  const gint64 x_shape[] = { 2, 3, 2, 2 }, p_shape[] = { 3 };
  g_autofree float *x = rand_floats (24);
  const float scale[] = { 1.0f, 1.5f, -0.5f }, bias[] = { 0.0f, 1.0f, -2.0f };
  const float mean[] = { 0.1f, -0.2f, 0.3f }, var[] = { 0.5f, 1.0f, 2.0f };
  double want[24];

  for (gint64 opset = 7; opset <= 15; opset += 8)
    {
      g_autoptr(OpCase) c = op_case_new (opset, "BatchNormalization");
      g_autoptr(GPtrArray) got = NULL;
      g_autoptr(GError) error = NULL;

      op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, x_shape, x);
      op_case_constant (c, KESTREL_DTYPE_FLOAT32, 1, p_shape, scale);
      op_case_constant (c, KESTREL_DTYPE_FLOAT32, 1, p_shape, bias);
      op_case_constant (c, KESTREL_DTYPE_FLOAT32, 1, p_shape, mean);
      op_case_constant (c, KESTREL_DTYPE_FLOAT32, 1, p_shape, var);
      op_case_outputs (c, 1);
      kestrel_node_set_attr_float (op_case_node (c), "epsilon", 1e-3f);
      g_assert_true (op_case_infer (c, &error));
      g_assert_no_error (error);
      got = case_run (c);
      for (guint i = 0; i < 24; i++)
        {
          guint ch = i / 4 % 3;
          want[i] = ((double) x[i] - (double) mean[ch]) / sqrt ((double) var[ch] + 1e-3)
                    * (double) scale[ch] + (double) bias[ch];
        }
      assert_close ("BatchNormalization", g_ptr_array_index (got, 0), want, 24, 1e-5, 1e-6);
    }

  /* Training is refused, clearly. */
  for (guint variant = 0; variant < 2; variant++)
    {
      g_autoptr(OpCase) c = op_case_new (15, "BatchNormalization");
      g_autoptr(GError) error = NULL;

      op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, x_shape, x);
      for (guint i = 0; i < 4; i++)
        op_case_constant (c, KESTREL_DTYPE_FLOAT32, 1, p_shape, var);
      op_case_outputs (c, variant == 0 ? 1 : 3);
      if (variant == 0)
        kestrel_node_set_attr_int (op_case_node (c), "training_mode", 1);
      g_assert_false (op_case_infer (c, &error));
      g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED);
      g_assert_nonnull (strstr (error->message, "inference only"));
    }
}

static void
test_lrn (void)
{
  const gint64 x_shape[] = { 2, 5, 3, 2 };
  g_autofree float *x = rand_floats (60);
  double want[60];

  for (gint64 size = 1; size <= 4; size++)
    {
      g_autoptr(OpCase) c = op_case_new (13, "LRN");
      g_autoptr(GPtrArray) got = NULL;
      g_autoptr(GError) error = NULL;

      op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, x_shape, x);
      op_case_outputs (c, 1);
      kestrel_node_set_attr_int (op_case_node (c), "size", size);
      kestrel_node_set_attr_float (op_case_node (c), "alpha", 0.2f);
      kestrel_node_set_attr_float (op_case_node (c), "bias", 2.0f);
      g_assert_true (op_case_infer (c, &error));
      got = case_run (c);
      for (guint n = 0; n < 2; n++)
        for (gint64 ch = 0; ch < 5; ch++)
          for (guint i = 0; i < 6; i++)
            {
              double sum = 0;
              for (gint64 k = ch - (size - 1) / 2; k <= ch + size / 2; k++)
                if (k >= 0 && k < 5)
                  sum += (double) x[(n * 5 + k) * 6 + i] * (double) x[(n * 5 + k) * 6 + i];
              want[(n * 5 + ch) * 6 + i] = (double) x[(n * 5 + ch) * 6 + i]
                                           / pow (2.0 + (double) 0.2f / size * sum, 0.75);
            }
      assert_close ("LRN", g_ptr_array_index (got, 0), want, 60, 1e-5, 1e-6);
    }
}

static void
test_softmax (void)
{
  const gint64 x_shape[] = { 2, 3, 4 };
  g_autofree float *x = rand_floats (24);

  for (guint log_domain = 0; log_domain < 2; log_domain++)
    for (gint64 opset = 12; opset <= 13; opset++)
      for (gint64 axis = -3; axis <= 3; axis++)
        {
          g_autoptr(OpCase) c = op_case_new (opset, log_domain ? "LogSoftmax" : "Softmax");
          g_autoptr(GPtrArray) got = NULL;
          g_autoptr(GError) error = NULL;
          gint64 a = axis < 0 ? axis + 3 : axis, outer = 1, len = 1, stride = 1;
          double want[24];

          op_case_input (c, KESTREL_DTYPE_FLOAT32, 3, x_shape, x);
          op_case_outputs (c, 1);
          if (axis != 3)
            kestrel_node_set_attr_int (op_case_node (c), "axis", axis);
          else
            a = opset < 13 ? 1 : 2;     /* the default */
          if (!op_case_infer (c, &error))
            g_error ("%s", error->message);

          for (gint64 d = 0; d < 3; d++)
            {
              if (d < a)
                outer *= x_shape[d];
              else if (d == a || opset < 13)
                len *= x_shape[d];
              else
                stride *= x_shape[d];
            }
          for (gint64 o = 0; o < outer; o++)
            for (gint64 i = 0; i < stride; i++)
              {
                double max = -INFINITY, sum = 0;
                for (gint64 k = 0; k < len; k++)
                  max = MAX (max, (double) x[(o * len + k) * stride + i]);
                for (gint64 k = 0; k < len; k++)
                  sum += exp ((double) x[(o * len + k) * stride + i] - max);
                for (gint64 k = 0; k < len; k++)
                  {
                    double v = (double) x[(o * len + k) * stride + i] - max;
                    want[(o * len + k) * stride + i] = log_domain ? v - log (sum) : exp (v) / sum;
                  }
              }
          got = case_run (c);
          assert_close (op_case_node (c)->op_type, g_ptr_array_index (got, 0), want, 24, 1e-5, 1e-6);
        }
}

/* ---- InstanceNormalization, LayerNormalization, MVN (by hand) ----------------- */

static void
test_instance_norm (void)
{
  const gint64 xs[] = { 1, 2, 2 }, cs = 2;
  const float x[] = { 1, 3, 5, 5 }, scale[] = { 2, 3 }, bias[] = { 1, 0.5f };
  /* Channel 0: mean 2, variance 1; channel 1 is constant, so only B. */
  const double want[] = { -0.99999, 2.99999, 0.5, 0.5 };
  g_autoptr(OpCase) c = op_case_new (6, "InstanceNormalization");
  g_autoptr(GPtrArray) out = NULL;

  op_case_input (c, KESTREL_DTYPE_FLOAT32, 3, xs, x);
  op_case_constant (c, KESTREL_DTYPE_FLOAT32, 1, &cs, scale);
  op_case_constant (c, KESTREL_DTYPE_FLOAT32, 1, &cs, bias);
  op_case_infer_ok (c);
  out = case_run (c);
  for (guint i = 0; i < 4; i++)
    g_assert_true (floats_close (((float *) g_ptr_array_index (out, 0))[i], want[i], 1e-5, 1e-6));
}

static void
test_layer_norm (void)
{
  const gint64 xs[] = { 2, 3 }, ps = 3, stats[] = { 2, 1 };
  const float x[] = { 1, 2, 3, 4, 4, 4 }, scale[] = { 1, 1, 2 }, bias[] = { 0, 0, 1 };
  /* Row 0: mean 2, variance 2/3; row 1 is constant. epsilon 1e-5. */
  const double want[] = { -1.2247357, 0, 3.4494714, 0, 0, 1 };
  const double want_inv[] = { 1.2247357, 316.22777 };
  g_autoptr(OpCase) c = op_case_new (17, "LayerNormalization");
  g_autoptr(GPtrArray) out = NULL;

  op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, xs, x);
  op_case_input (c, KESTREL_DTYPE_FLOAT32, 1, &ps, scale);
  op_case_constant (c, KESTREL_DTYPE_FLOAT32, 1, &ps, bias);
  op_case_outputs (c, 3);
  op_case_infer_ok (c);
  assert_shape (op_case_output (c, 1), 2, stats);
  out = case_run (c);
  for (guint i = 0; i < 6; i++)
    g_assert_true (floats_close (((float *) g_ptr_array_index (out, 0))[i], want[i], 1e-5, 1e-6));
  g_assert_cmpfloat (((float *) g_ptr_array_index (out, 1))[0], ==, 2);
  g_assert_cmpfloat (((float *) g_ptr_array_index (out, 1))[1], ==, 4);
  for (guint i = 0; i < 2; i++)
    g_assert_true (floats_close (((float *) g_ptr_array_index (out, 2))[i], want_inv[i], 1e-5, 0));

  /* Scale of a shape that does not broadcast to the normalised one. */
  {
    const gint64 bad = 2;
    g_autoptr(OpCase) e = op_case_new (17, "LayerNormalization");
    op_case_input (e, KESTREL_DTYPE_FLOAT32, 2, xs, x);
    op_case_constant (e, KESTREL_DTYPE_FLOAT32, 1, &bad, scale);
    op_case_expect_error (e, KESTREL_ERROR_CORRUPT, NULL);
  }
}

static void
test_mean_variance_norm (void)
{
  /* axes [0, 2, 3] over [1, 2, 1, 2]: per channel. */
  const gint64 xs[] = { 1, 2, 1, 2 };
  const float x[] = { 1, 3, 10, 10 };
  const double want[] = { -1, 1, 0, 0 };
  g_autoptr(OpCase) c = op_case_new (13, "MeanVarianceNormalization");
  g_autoptr(GPtrArray) out = NULL;

  op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, xs, x);
  op_case_infer_ok (c);
  out = case_run (c);
  for (guint i = 0; i < 4; i++)
    g_assert_true (floats_close (((float *) g_ptr_array_index (out, 0))[i], want[i], 1e-6, 1e-6));
}

static void
add_tests (void)
{
  g_test_add_func ("/ops-nn/batch-norm", test_batch_norm);
  g_test_add_func ("/ops-nn/lrn", test_lrn);
  g_test_add_func ("/ops-nn/softmax", test_softmax);
  g_test_add_func ("/ops-nn/instance-norm", test_instance_norm);
  g_test_add_func ("/ops-nn/layer-norm", test_layer_norm);
  g_test_add_func ("/ops-nn/mean-variance-norm", test_mean_variance_norm);
}

int
main (int argc, char **argv)
{
  return ops_nn_test_main (argc, argv, add_tests);
}
