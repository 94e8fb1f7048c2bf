/* test-ops-index.c — operators that move elements by index or along an
 * axis (core/ops/ops-shape-index.c, ops-shape-make.c, ops-math-axis.c):
 * GatherElements, ScatterElements, GatherND, ScatterND, OneHot, NonZero,
 * Range, EyeLike, Trilu, CumSum, TopK, Hardmax.
 *
 * Values are computed by hand, for the cases the conformance data lacks
 * (the opset-18 scatter reductions, CumSum and Range on float32 and ints,
 * out-of-range indices) and a few it has, at every level.
 */
#include "ops-test-util.h"

static void
test_gather_elements (void)
{
  const gint64 ds[] = { 2, 3 }, is[] = { 2, 2 };
  const float data[] = { 1, 2, 3, 4, 5, 6 };
  /* axis 1, a negative index, and 7 out of range (reads 0). */
  const gint32 idx[] = { 2, -3, 7, 1 };
  const float want[] = { 3, 1, 0, 5 };
  g_autoptr(OpCase) c = op_case_new (13, "GatherElements");

  op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, ds, data);
  op_case_input (c, KESTREL_DTYPE_INT32, 2, is, idx);
  kestrel_node_set_attr_int (op_case_node (c), "axis", 1);
  op_case_infer_ok (c);
  op_case_expect_output (c, want, sizeof want);
}

static void
test_scatter_elements (void)
{
  const gint64 ds[] = { 1, 4 }, is[] = { 1, 3 };
  const gint64 idx[] = { 1, 1, 3 };
  struct { const char *reduction; float want[4]; } cases[] = {
    { "none", { 1, 20, 3, 30 } },   /* the later of two updates to one place wins */
    { "add", { 1, 32, 3, 34 } },
    { "mul", { 1, 400, 3, 120 } },
    { "max", { 1, 20, 3, 30 } },
    { "min", { 1, 2, 3, 4 } },
  };
  const float data[] = { 1, 2, 3, 4 }, upd[] = { 10, 20, 30 };

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      g_autoptr(OpCase) c = op_case_new (18, "ScatterElements");

      op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, ds, data);
      op_case_input (c, KESTREL_DTYPE_INT64, 2, is, idx);
      op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, is, upd);
      kestrel_node_set_attr_int (op_case_node (c), "axis", -1);
      kestrel_node_set_attr_string (op_case_node (c), "reduction", cases[k].reduction);
      op_case_infer_ok (c);
      op_case_expect_output (c, cases[k].want, sizeof cases[k].want);
    }
  {
    /* max is opset 18's; at 16 it is refused by name. */
    g_autoptr(OpCase) c = op_case_new (16, "ScatterElements");
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, ds, data);
    op_case_input (c, KESTREL_DTYPE_INT64, 2, is, idx);
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, is, upd);
    kestrel_node_set_attr_string (op_case_node (c), "reduction", "max");
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "reduction");
  }
}

static void
test_gather_scatter_nd (void)
{
  /* data [2, 2, 2]; batch_dims 1, indices [2, 1]: one row per batch. */
  const gint64 ds[] = { 2, 2, 2 }, is[] = { 2, 1 }, os[] = { 2, 2 };
  const gint32 data[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
  const gint64 idx[] = { 1, 0 };
  const gint32 want[] = { 2, 3, 4, 5 };
  g_autoptr(OpCase) g = op_case_new (13, "GatherND");

  op_case_input (g, KESTREL_DTYPE_INT32, 3, ds, data);
  op_case_input (g, KESTREL_DTYPE_INT64, 2, is, idx);
  kestrel_node_set_attr_int (op_case_node (g), "batch_dims", 1);
  op_case_infer_ok (g);
  g_assert_cmpmem (op_case_output (g, 0)->shape, sizeof os, os, sizeof os);
  op_case_expect_output (g, want, sizeof want);

  /* ScatterND: rows [1, 1] and [0, 0] of the first two dimensions. */
  {
    const gint64 sis[] = { 2, 2 }, us[] = { 2, 2 };
    const gint64 sidx[] = { 1, 1, 0, 0 };
    const gint32 upd[] = { 60, 70, 100, 110 };
    const gint32 swant[] = { 100, 111, 2, 3, 4, 5, 66, 77 };
    g_autoptr(OpCase) s = op_case_new (16, "ScatterND");

    op_case_input (s, KESTREL_DTYPE_INT32, 3, ds, data);
    op_case_input (s, KESTREL_DTYPE_INT64, 2, sis, sidx);
    op_case_input (s, KESTREL_DTYPE_INT32, 2, us, upd);
    kestrel_node_set_attr_string (op_case_node (s), "reduction", "add");
    op_case_infer_ok (s);
    op_case_expect_output (s, swant, sizeof swant);
  }
}

static void
test_one_hot (void)
{
  const gint64 is = 3, s1 = 1, s2 = 2, os[] = { 4, 3 };
  const float indices[] = { 0, -1, 5 };  /* -1 is depth - 1; 5 is out of range */
  const gint64 depth = 4;
  const gint32 values[] = { 7, 9 };
  /* axis 0: out[d, i] = on where indices[i] == d. */
  const gint32 want[] = { 9, 7, 7, 7, 7, 7, 7, 7, 7, 7, 9, 7 };
  g_autoptr(OpCase) c = op_case_new (11, "OneHot");

  op_case_input (c, KESTREL_DTYPE_FLOAT32, 1, &is, indices);
  op_case_constant (c, KESTREL_DTYPE_INT64, 1, &s1, &depth);
  op_case_input (c, KESTREL_DTYPE_INT32, 1, &s2, values);
  kestrel_node_set_attr_int (op_case_node (c), "axis", 0);
  op_case_infer_ok (c);
  g_assert_cmpmem (op_case_output (c, 0)->shape, sizeof os, os, sizeof os);
  op_case_expect_output (c, want, sizeof want);
  {
    g_autoptr(OpCase) e = op_case_new (11, "OneHot");
    op_case_input (e, KESTREL_DTYPE_FLOAT32, 1, &is, indices);
    op_case_input (e, KESTREL_DTYPE_INT64, 1, &s1, &depth);
    op_case_input (e, KESTREL_DTYPE_INT32, 1, &s2, values);
    op_case_expect_error (e, KESTREL_ERROR_UNSUPPORTED, "depth");
  }
}

/* NonZero on a constant: the coordinates, row-major, as infer() makes
 * them a constant and as run() writes them at every level (float -0.0 is
 * zero, NaN is not, float16 by its bits); on an activation, an error
 * saying why the input must be a constant. */
static void
test_non_zero (void)
{
  const gint64 s23[] = { 2, 3 }, s4 = 4;
  const float x[] = { 0, 2, -0.0f, NAN, 0, 5 };
  const gint64 want[] = { 0, 1, 1,   1, 0, 2 }, want_shape[] = { 2, 3 };
  const guint16 h[] = { 0x8000, 0x3c00, 0, 0x0001 };
  const gint64 hwant[] = { 1, 3 }, hshape[] = { 1, 2 };
  {
    g_autoptr(OpCase) c = op_case_new (13, "NonZero");
    const KestrelValue *out;

    op_case_constant (c, KESTREL_DTYPE_FLOAT32, 2, s23, x);
    op_case_infer_ok (c);
    out = op_case_output (c, 0);
    g_assert_cmpuint (out->n_dims, ==, 2);
    g_assert_cmpmem (out->shape, sizeof want_shape, want_shape, sizeof want_shape);
    g_assert_nonnull (out->constant);
    g_assert_cmpmem (kestrel_tensor_get_data (out->constant), sizeof want, want, sizeof want);
    op_case_expect_output (c, want, sizeof want);
  }
  {
    g_autoptr(OpCase) c = op_case_new (9, "NonZero");

    op_case_constant (c, KESTREL_DTYPE_FLOAT16, 1, &s4, h);
    op_case_infer_ok (c);
    g_assert_cmpmem (op_case_output (c, 0)->shape, sizeof hshape, hshape, sizeof hshape);
    op_case_expect_output (c, hwant, sizeof hwant);
  }
  {
    g_autoptr(OpCase) e = op_case_new (13, "NonZero");
    op_case_input (e, KESTREL_DTYPE_FLOAT32, 2, s23, x);
    op_case_expect_error (e, KESTREL_ERROR_UNSUPPORTED, "count of non-zero elements");
  }
}

static void
test_range_eye_trilu (void)
{
  const gint64 s0 = 0;
  {
    const float start = 1, limit = 2.2f, delta = 0.5f;
    const float want[] = { 1, 1.5f, 2 };
    g_autoptr(OpCase) c = op_case_new (11, "Range");

    op_case_constant (c, KESTREL_DTYPE_FLOAT32, 0, &s0, &start);
    op_case_constant (c, KESTREL_DTYPE_FLOAT32, 0, &s0, &limit);
    op_case_constant (c, KESTREL_DTYPE_FLOAT32, 0, &s0, &delta);
    op_case_infer_ok (c);
    g_assert_cmpint (op_case_output (c, 0)->shape[0], ==, 3);
    op_case_expect_output (c, want, sizeof want);
  }
  {
    const gint64 start = 10, limit = 3, delta = -3;
    const gint64 want[] = { 10, 7, 4 };
    g_autoptr(OpCase) c = op_case_new (11, "Range");

    op_case_constant (c, KESTREL_DTYPE_INT64, 0, &s0, &start);
    op_case_constant (c, KESTREL_DTYPE_INT64, 0, &s0, &limit);
    op_case_constant (c, KESTREL_DTYPE_INT64, 0, &s0, &delta);
    op_case_infer_ok (c);
    op_case_expect_output (c, want, sizeof want);
  }
  {
    const gint64 start = 0, limit = 3, delta = 1;
    g_autoptr(OpCase) c = op_case_new (11, "Range");

    op_case_input (c, KESTREL_DTYPE_INT64, 0, &s0, &start);
    op_case_constant (c, KESTREL_DTYPE_INT64, 0, &s0, &limit);
    op_case_constant (c, KESTREL_DTYPE_INT64, 0, &s0, &delta);
    op_case_expect_error (c, KESTREL_ERROR_UNSUPPORTED, "length");
  }
  {
    const gint64 s23[] = { 2, 3 };
    const float x[6] = { 0 };
    const gint32 want[] = { 0, 1, 0, 0, 0, 1 };
    g_autoptr(OpCase) c = op_case_new (9, "EyeLike");

    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, s23, x);
    kestrel_node_set_attr_int (op_case_node (c), "k", 1);
    kestrel_node_set_attr_int (op_case_node (c), "dtype", 6);
    op_case_infer_ok (c);
    op_case_expect_output (c, want, sizeof want);
  }
  {
    const gint64 s33[] = { 3, 3 }, k = -1;
    const gint64 x[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    const gint64 upper[] = { 1, 2, 3, 4, 5, 6, 0, 8, 9 };
    const gint64 lower[] = { 0, 0, 0, 4, 0, 0, 7, 8, 0 };
    g_autoptr(OpCase) u = op_case_new (14, "Trilu");
    g_autoptr(OpCase) l = op_case_new (14, "Trilu");

    op_case_input (u, KESTREL_DTYPE_INT64, 2, s33, x);
    op_case_input (u, KESTREL_DTYPE_INT64, 0, &s0, &k);
    op_case_infer_ok (u);
    op_case_expect_output (u, upper, sizeof upper);
    op_case_input (l, KESTREL_DTYPE_INT64, 2, s33, x);
    op_case_constant (l, KESTREL_DTYPE_INT64, 0, &s0, &k);
    kestrel_node_set_attr_int (op_case_node (l), "upper", 0);
    op_case_infer_ok (l);
    op_case_expect_output (l, lower, sizeof lower);
  }
}

static void
test_cum_sum (void)
{
  const gint64 xs[] = { 2, 3 }, s1 = 1;
  const float x[] = { 1, 2, 3, 4, 5, 6 };
  const gint32 xi[] = { 1, 2, 3, 4, 5, 6 };
  struct { gint64 axis; gboolean exclusive, reverse; float want[6]; } cases[] = {
    { 1, FALSE, FALSE, { 1, 3, 6, 4, 9, 15 } },
    { 0, FALSE, FALSE, { 1, 2, 3, 5, 7, 9 } },
    { -1, TRUE, FALSE, { 0, 1, 3, 0, 4, 9 } },
    { 1, FALSE, TRUE, { 6, 5, 3, 15, 11, 6 } },
    { 1, TRUE, TRUE, { 5, 3, 0, 11, 6, 0 } },
  };

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    for (guint t = 0; t < 2; t++)
      {
        g_autoptr(OpCase) c = op_case_new (14, "CumSum");
        gint32 want_i[6];

        op_case_input (c, t == 0 ? KESTREL_DTYPE_FLOAT32 : KESTREL_DTYPE_INT32, 2, xs,
                       t == 0 ? (gconstpointer) x : (gconstpointer) xi);
        op_case_constant (c, KESTREL_DTYPE_INT64, 1, &s1, &cases[k].axis);
        kestrel_node_set_attr_int (op_case_node (c), "exclusive", cases[k].exclusive);
        kestrel_node_set_attr_int (op_case_node (c), "reverse", cases[k].reverse);
        op_case_infer_ok (c);
        for (guint i = 0; i < 6; i++)
          want_i[i] = (gint32) cases[k].want[i];
        if (t == 0)
          op_case_expect_output (c, cases[k].want, sizeof cases[k].want);
        else
          op_case_expect_output (c, want_i, sizeof want_i);
      }
}

static void
test_top_k (void)
{
  const gint64 xs[] = { 2, 4 }, s1 = 1, k2 = 2;
  const gint32 x[] = { 3, 1, 3, 2, 5, 5, 0, 5 };
  /* Ties keep the lower index first. */
  const gint32 largest[] = { 3, 3, 5, 5 };
  const gint64 largest_idx[] = { 0, 2, 0, 1 };
  const gint32 smallest[] = { 1, 2, 0, 5 };
  const gint64 smallest_idx[] = { 1, 3, 2, 0 };

  for (guint s = 0; s < 2; s++)
    for (guint l = 0; l < G_N_ELEMENTS (all_levels); l++)
      {
        g_autoptr(OpCase) c = op_case_new (11, "TopK");
        g_autoptr(GPtrArray) out = NULL;

        op_case_input (c, KESTREL_DTYPE_INT32, 2, xs, x);
        op_case_constant (c, KESTREL_DTYPE_INT64, 1, &s1, &k2);
        kestrel_node_set_attr_int (op_case_node (c), "largest", s == 0);
        op_case_outputs (c, 2);
        op_case_infer_ok (c);
        out = op_case_run_all (c, all_levels[l]);
        g_assert_cmpmem (g_ptr_array_index (out, 0), sizeof largest,
                         s == 0 ? largest : smallest, sizeof largest);
        g_assert_cmpmem (g_ptr_array_index (out, 1), sizeof largest_idx,
                         s == 0 ? largest_idx : smallest_idx, sizeof largest_idx);
      }
  {
    const gint64 k9 = 9;
    g_autoptr(OpCase) c = op_case_new (11, "TopK");
    op_case_input (c, KESTREL_DTYPE_INT32, 2, xs, x);
    op_case_constant (c, KESTREL_DTYPE_INT64, 1, &s1, &k9);
    op_case_outputs (c, 2);
    op_case_expect_error (c, KESTREL_ERROR_CORRUPT, "k = 9");
  }
}

static void
test_hardmax (void)
{
  const gint64 xs[] = { 2, 3 };
  const float x[] = { 1, 3, 3, -1, -2, -5 };
  const float want13[] = { 0, 1, 0, 1, 0, 0 };
  /* Opset 11 with axis 0 coerces to one row of six. */
  const float want11[] = { 0, 1, 0, 0, 0, 0 };
  g_autoptr(OpCase) c = op_case_new (13, "Hardmax");
  g_autoptr(OpCase) o = op_case_new (11, "Hardmax");

  op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, xs, x);
  op_case_infer_ok (c);
  op_case_expect_output (c, want13, sizeof want13);
  op_case_input (o, KESTREL_DTYPE_FLOAT32, 2, xs, x);
  kestrel_node_set_attr_int (op_case_node (o), "axis", 0);
  op_case_infer_ok (o);
  op_case_expect_output (o, want11, sizeof want11);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  test_pool = kestrel_thread_pool_new (2);

  g_test_add_func ("/ops-index/gather-elements", test_gather_elements);
  g_test_add_func ("/ops-index/scatter-elements", test_scatter_elements);
  g_test_add_func ("/ops-index/gather-scatter-nd", test_gather_scatter_nd);
  g_test_add_func ("/ops-index/one-hot", test_one_hot);
  g_test_add_func ("/ops-index/non-zero", test_non_zero);
  g_test_add_func ("/ops-index/range-eye-trilu", test_range_eye_trilu);
  g_test_add_func ("/ops-axis/cum-sum", test_cum_sum);
  g_test_add_func ("/ops-axis/top-k", test_top_k);
  g_test_add_func ("/ops-axis/hardmax", test_hardmax);

  status = g_test_run ();
  kestrel_thread_pool_unref (test_pool);
  return status;
}
