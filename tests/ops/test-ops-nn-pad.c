/* test-ops-nn-pad.c — Pad, opsets 2 to 21 (core/ops/ops-nn-pad.c).
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

/* ---- Pad ------------------------------------------------------------------------------ */

static gint64
pad_source (const char *mode, gint64 o, gint64 pad, gint64 n)
{
  gint64 i = o - pad;

  if (i >= 0 && i < n)
    return i;
  if (strcmp (mode, "edge") == 0)
    return i < 0 ? 0 : n - 1;
  if (strcmp (mode, "reflect") == 0)
    {
      /* Reflect step by step, as numpy does. */
      while (i < 0 || i >= n)
        {
          if (n == 1)
            return 0;
          i = i < 0 ? -i : 2 * (n - 1) - i;
        }
      return i;
    }
  return -1;
}

static void
test_pad_random (void)
{
  static const char *const modes[] = { "constant", "reflect", "edge" };

  for (guint iter = 0; iter < 90; iter++)
    {
      const char *mode = modes[iter % 3];
      guint n_dims = rand_range (1, 4);
      gint64 opset = g_test_rand_bit () ? 10 : 13;
      gint64 shape[4], out[4], pads[8], pads_shape[1] = { 2 * n_dims }, v_shape[1] = { 1 };
      gsize n_in, n_out;
      gboolean int32 = g_test_rand_bit ();
      g_autofree gint32 *x = NULL, *want = NULL;
      g_autoptr(OpCase) c = op_case_new (opset, "Pad");
      g_autoptr(GPtrArray) got = NULL;
      g_autoptr(GError) error = NULL;
      gint32 value = int32 ? -7 : 0;
      float fvalue = 2.5f;

      for (guint d = 0; d < n_dims; d++)
        {
          shape[d] = rand_range (1, 4);
          /* Crop with negative pads sometimes, but not below one element. */
          pads[d] = rand_range (strcmp (mode, "constant") == 0 ? -1 : 0, 3);
          pads[n_dims + d] = rand_range (strcmp (mode, "constant") == 0 ? -1 : 0, 3);
          if (strcmp (mode, "reflect") == 0)
            {
              pads[d] = MIN (pads[d], shape[d] - 1);
              pads[n_dims + d] = MIN (pads[n_dims + d], shape[d] - 1);
            }
          if (shape[d] + pads[d] + pads[n_dims + d] < 1)
            pads[d] = pads[n_dims + d] = 0;
          out[d] = shape[d] + pads[d] + pads[n_dims + d];
        }
      n_in = shape_elements (n_dims, shape);
      n_out = shape_elements (n_dims, out);
      x = g_new (gint32, n_in);
      for (gsize i = 0; i < n_in; i++)
        x[i] = int32 ? (gint32) i * 3 - 11 : 0;
      if (!int32)
        {
          float *f = (float *) x;
          for (gsize i = 0; i < n_in; i++)
            f[i] = (float) i * 0.5f - 1.0f;
          memcpy (&value, &fvalue, sizeof value);
        }

      op_case_input (c, int32 ? KESTREL_DTYPE_INT32 : KESTREL_DTYPE_FLOAT32, n_dims, shape, x);
      kestrel_node_set_attr_string (op_case_node (c), "mode", mode);
      if (opset < 11)
        {
          kestrel_node_set_attr_ints (op_case_node (c), "pads", pads, 2 * n_dims);
          kestrel_node_set_attr_float (op_case_node (c), "value", int32 ? -7.0f : 2.5f);
        }
      else
        {
          op_case_constant (c, KESTREL_DTYPE_INT64, 1, pads_shape, pads);
          /* The constant may come at run time. */
          op_case_input (c, int32 ? KESTREL_DTYPE_INT32 : KESTREL_DTYPE_FLOAT32, 0, v_shape, &value);
        }
      op_case_outputs (c, 1);
      if (!op_case_infer (c, &error))
        g_error ("%s", error->message);
      assert_shape (op_case_output (c, 0), n_dims, out);
      got = case_run (c);

      want = g_new (gint32, MAX (n_out, 1));
      for (gsize o = 0; o < n_out; o++)
        {
          gsize rest = o, src = 0, stride = 1;
          gboolean constant = FALSE;
          for (guint d = n_dims; d-- > 0;)
            {
              gint64 i = pad_source (mode, rest % out[d], pads[d], shape[d]);
              rest /= out[d];
              if (i < 0)
                constant = TRUE;
              else
                src += i * stride;
              stride *= shape[d];
            }
          want[o] = constant ? value : x[src];
        }
      g_assert_cmpmem (g_ptr_array_index (got, 0), n_out * 4, want, n_out * 4);
    }
}

static void
test_pad_errors (void)
{
  const gint64 shape[] = { 2, 3 }, pads_shape[] = { 4 }, pads[] = { 0, 0, 0, 0 };
  float x[6] = { 0 };
  g_autoptr(OpCase) c = op_case_new (13, "Pad");
  g_autoptr(GError) error = NULL;

  /* pads fed at run time cannot give a static shape. */
  op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, shape, x);
  op_case_input (c, KESTREL_DTYPE_INT64, 1, pads_shape, pads);
  op_case_outputs (c, 1);
  g_assert_false (op_case_infer (c, &error));
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "must be a constant"));
}

/* ---- Opset 18 and 19 additions to Pad, Resize, Split (by hand) ---------------- */

static void
test_pad_18 (void)
{
  const gint64 s3 = 3, s22[] = { 2, 2 }, s1 = 1;
  {
    const float x[] = { 1, 2, 3 };
    const gint64 pads[] = { 2, 1 };
    const float want[] = { 2, 3, 1, 2, 3, 1 };
    g_autoptr(OpCase) c = op_case_new (19, "Pad");
    g_autoptr(GPtrArray) out = NULL;

    kestrel_node_set_attr_string (op_case_node (c), "mode", "wrap");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 1, &s3, x);
    op_case_constant_ints (c, 2, pads);
    op_case_infer_ok (c);
    out = case_run (c);
    g_assert_cmpmem (g_ptr_array_index (out, 0), sizeof want, want, sizeof want);
  }
  {
    /* axes [-1]: pads only the last axis. */
    const gint32 x[] = { 1, 2, 3, 4 };
    const gint64 pads[] = { 1, 1 }, axes[] = { -1 }, os[] = { 2, 4 };
    const gint32 value = 9;
    const gint32 want[] = { 9, 1, 2, 9, 9, 3, 4, 9 };
    g_autoptr(OpCase) c = op_case_new (18, "Pad");
    g_autoptr(GPtrArray) out = NULL;

    op_case_input (c, KESTREL_DTYPE_INT32, 2, s22, x);
    op_case_constant_ints (c, 2, pads);
    op_case_constant (c, KESTREL_DTYPE_INT32, 0, &s1, &value);
    op_case_constant_ints (c, 1, axes);
    op_case_infer_ok (c);
    assert_shape (op_case_output (c, 0), 2, os);
    out = case_run (c);
    g_assert_cmpmem (g_ptr_array_index (out, 0), sizeof want, want, sizeof want);
  }
  {
    const gint32 x[] = { 1, 2, 3, 4 };
    const gint64 pads[] = { 1, 1, 1 }, axes[] = { 1, 0 };
    g_autoptr(OpCase) c = op_case_new (18, "Pad");

    op_case_input (c, KESTREL_DTYPE_INT32, 2, s22, x);
    op_case_constant_ints (c, 3, pads);
    op_case_omit (c);
    op_case_constant_ints (c, 2, axes);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "for 2 axes");
  }
}

/* ---- kestrel.PadAxis and the pass that makes it ---------------------------------------- */

/* PadAxis along each axis of a [2,3,4,5] tensor, zeros before and after, at
 * every level: exactly Concat (zeros, x, zeros). */
static void
test_pad_axis (void)
{
  static const gint64 shape[4] = { 2, 3, 4, 5 };
  GRand *rand = g_rand_new_with_seed (g_test_rand_int ());
  g_autofree float *x = random_floats (rand, 120, -2.0, 2.0);

  for (guint axis = 0; axis < 4; axis++)
    for (gint64 before = 0; before <= 2; before++)
      for (gint64 after = 0; after <= 3; after += 3)
        {
          g_autoptr(OpCase) c = op_case_new_in (17, "kestrel", "PadAxis");
          op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, shape, x);
          kestrel_node_set_attr_int (op_case_node (c), "axis", axis);
          kestrel_node_set_attr_int (op_case_node (c), "before", before);
          kestrel_node_set_attr_int (op_case_node (c), "after", after);
          op_case_infer_ok (c);
          const KestrelValue *y = op_case_output (c, 0);
          gint64 want_shape[4];
          memcpy (want_shape, shape, sizeof want_shape);
          want_shape[axis] += before + after;
          g_assert_cmpmem (y->shape, 4 * sizeof (gint64), want_shape, sizeof want_shape);

          gsize n = 1;
          for (guint d = 0; d < 4; d++)
            n *= (gsize) want_shape[d];
          g_autofree float *want = g_new0 (float, n);
          for (gsize o = 0; o < n; o++)
            {
              gint64 idx[4], rest = (gint64) o, src = 0;
              for (gint d = 3; d >= 0; d--)
                {
                  idx[d] = rest % want_shape[d];
                  rest /= want_shape[d];
                }
              idx[axis] -= before;
              if (idx[axis] < 0 || idx[axis] >= shape[axis])
                continue;
              for (guint d = 0; d < 4; d++)
                src = src * shape[d] + idx[d];
              want[o] = x[src];
            }
          for (int level = 0; level < KK_LEVEL_COUNT; level++)
            {
              g_autofree float *got = op_case_run (c, level);
              g_assert_cmpmem (got, n * sizeof (float), want, n * sizeof (float));
            }
        }
  g_rand_free (rand);

  g_autoptr(OpCase) bad = op_case_new_in (17, "kestrel", "PadAxis");
  op_case_input (bad, KESTREL_DTYPE_FLOAT32, 4, shape, x);
  kestrel_node_set_attr_int (op_case_node (bad), "before", -1);
  op_case_expect_error (bad, KESTREL_ERROR_CORRUPT, "before");
}

/* Concat (zeros, x, zeros) becomes PadAxis keeping the Concat's name and
 * output; a constant with a -0.0 or another value, or two activations,
 * keeps the Concat. */
static void
test_zero_concat_pass (void)
{
  static const gint64 xs[4] = { 1, 2, 3, 4 }, zs[4] = { 1, 2, 3, 1 };
  float x[24] = { 0 }, zeros[6] = { 0 }, minus[6] = { 0, 0, -0.0f, 0, 0, 0 }, ones[6] = { 1, 1, 1, 1, 1, 1 };
  const float *consts[] = { zeros, minus, ones };

  for (guint k = 0; k < G_N_ELEMENTS (consts); k++)
    {
      g_autoptr(OpCase) c = op_case_new (13, "Concat");
      g_autoptr(GError) error = NULL;
      op_case_constant (c, KESTREL_DTYPE_FLOAT32, 4, zs, consts[k]);
      op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, xs, x);
      op_case_constant (c, KESTREL_DTYPE_FLOAT32, 4, zs, consts[k]);
      kestrel_node_set_attr_int (op_case_node (c), "axis", -1);
      op_case_infer_ok (c);

      g_assert_true (kestrel_graph_zero_concat_to_pad (c->graph, &error));
      g_assert_no_error (error);
      /* Compacted: values and nodes are numbered anew. */
      const KestrelValue *y = kestrel_graph_value (c->graph, g_array_index (c->graph->outputs, gint, 0));
      g_assert_cmpint (y->producer, >=, 0);
      const KestrelNode *node = kestrel_graph_node (c->graph, y->producer);
      g_assert_cmpstr (node->name, ==, "the_node");
      if (k == 0)
        {
          g_assert_cmpstr (node->op_type, ==, "PadAxis");
          g_assert_cmpint (kestrel_node_attr_int (node, "axis", 0), ==, 3);
          g_assert_cmpint (kestrel_node_attr_int (node, "before", 0), ==, 1);
          g_assert_cmpint (kestrel_node_attr_int (node, "after", 0), ==, 1);
          g_assert_cmpuint (kestrel_node_n_inputs (node), ==, 1);
          g_assert_cmpint (y->shape[3], ==, 6);
        }
      else
        g_assert_cmpstr (node->op_type, ==, "Concat");
    }
}

static void
add_tests (void)
{
  g_test_add_func ("/ops-nn/pad-axis", test_pad_axis);
  g_test_add_func ("/ops-nn/pad-axis/from-concat", test_zero_concat_pass);
  g_test_add_func ("/ops-nn/pad/random", test_pad_random);
  g_test_add_func ("/ops-nn/pad/errors", test_pad_errors);
  g_test_add_func ("/ops-nn/pad-18", test_pad_18);
}

int
main (int argc, char **argv)
{
  return ops_nn_test_main (argc, argv, add_tests);
}
