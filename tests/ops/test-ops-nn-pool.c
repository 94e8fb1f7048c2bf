/* test-ops-nn-pool.c — MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool
 * (core/ops/ops-nn-pool.c).
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

/* ---- pooling ------------------------------------------------------------------------ */

typedef struct {
  guint ns;
  gint64 batch, channels;
  gint64 in[3], kernel[3], stride[3], dilation[3], pb[3], pe[3], out[3];
  gboolean ceil_mode, include_pad;
} PoolSpec;

static void
pool_spec_random (PoolSpec *s, gboolean dilations)
{
  memset (s, 0, sizeof *s);
  s->ns = g_test_rand_int_range (0, 3) != 0 ? 2 : rand_range (1, 3);
  s->batch = rand_range (1, 2);
  s->channels = rand_range (1, 3);
  s->ceil_mode = g_test_rand_bit ();
  s->include_pad = g_test_rand_bit ();
  for (guint d = 0; d < s->ns; d++)
    {
      gint64 extent, span;
      s->kernel[d] = rand_range (1, 4);
      s->stride[d] = rand_range (1, 3);
      s->dilation[d] = dilations ? rand_range (1, 2) : 1;
      s->pb[d] = rand_range (0, (s->kernel[d] - 1) / 2 + 0);
      s->pe[d] = rand_range (0, (s->kernel[d] - 1) / 2 + 0);
      extent = (s->kernel[d] - 1) * s->dilation[d] + 1;
      s->in[d] = extent + rand_range (0, 7);
      span = s->in[d] + s->pb[d] + s->pe[d] - extent;
      s->out[d] = (s->ceil_mode ? (span + s->stride[d] - 1) / s->stride[d] : span / s->stride[d]) + 1;
      if (s->ceil_mode && (s->out[d] - 1) * s->stride[d] >= s->in[d] + s->pb[d])
        s->out[d]--;
    }
}

static void
pool_case_setup (OpCase *c, const PoolSpec *s, gint64 *x_shape, gint64 *y_shape, gboolean dilations)
{
  gint64 pads[6];

  x_shape[0] = y_shape[0] = s->batch;
  x_shape[1] = y_shape[1] = s->channels;
  for (guint d = 0; d < s->ns; d++)
    {
      x_shape[2 + d] = s->in[d];
      y_shape[2 + d] = s->out[d];
      pads[d] = s->pb[d];
      pads[s->ns + d] = s->pe[d];
    }
  kestrel_node_set_attr_ints (op_case_node (c), "kernel_shape", s->kernel, s->ns);
  kestrel_node_set_attr_ints (op_case_node (c), "strides", s->stride, s->ns);
  kestrel_node_set_attr_ints (op_case_node (c), "pads", pads, 2 * s->ns);
  if (dilations)
    kestrel_node_set_attr_ints (op_case_node (c), "dilations", s->dilation, s->ns);
  kestrel_node_set_attr_int (op_case_node (c), "ceil_mode", s->ceil_mode);
}

/* Pooling oracle; max or average. */
static double *
pool_oracle (const PoolSpec *s, const float *x, gboolean max, gint64 **indices_out)
{
  gsize in_plane = shape_elements (s->ns, s->in), out_plane = shape_elements (s->ns, s->out);
  gsize taps = shape_elements (s->ns, s->kernel);
  double *y = g_new0 (double, s->batch * s->channels * out_plane);
  gint64 *indices = g_new0 (gint64, s->batch * s->channels * out_plane);

  for (gint64 p = 0; p < s->batch * s->channels; p++)
    for (gsize op = 0; op < out_plane; op++)
      {
        gint64 o[3];
        gsize rest = op;
        double acc = max ? -(double) INFINITY : 0.0;
        gint64 count = 0, best = -1;
        for (guint d = s->ns; d-- > 0;)
          {
            o[d] = rest % s->out[d];
            rest /= s->out[d];
          }
        for (gsize t = 0; t < taps; t++)
          {
            gint64 k[3], pos = 0;
            gboolean inside = TRUE, in_padded = TRUE;
            gsize tr = t;
            for (guint d = s->ns; d-- > 0;)
              {
                k[d] = tr % s->kernel[d];
                tr /= s->kernel[d];
              }
            for (guint d = 0; d < s->ns; d++)
              {
                gint64 i = o[d] * s->stride[d] - s->pb[d] + k[d] * s->dilation[d];
                inside = inside && i >= 0 && i < s->in[d];
                in_padded = in_padded && i >= -s->pb[d] && i < s->in[d] + s->pe[d];
                pos = pos * s->in[d] + i;
              }
            if (inside)
              {
                double v = x[p * in_plane + pos];
                if (max && v > acc)
                  {
                    acc = v;
                    best = p * in_plane + pos;
                  }
                if (!max)
                  acc += v;
              }
            count += s->include_pad ? in_padded : inside;
          }
        y[p * out_plane + op] = max ? acc : acc / (double) count;
        indices[p * out_plane + op] = best;
      }
  if (indices_out != NULL)
    *indices_out = indices;
  else
    g_free (indices);
  return y;
}

static void
test_max_pool_random (void)
{
  for (guint iter = 0; iter < 100; iter++)
    {
      PoolSpec s;
      gint64 x_shape[5], y_shape[5];
      gboolean with_indices = g_test_rand_bit ();
      g_autofree float *x = NULL;
      g_autofree double *want = NULL;
      g_autofree gint64 *want_indices = NULL;
      g_autoptr(OpCase) c = op_case_new (12, "MaxPool");
      g_autoptr(GPtrArray) got = NULL;
      g_autoptr(GError) error = NULL;
      gsize n_out;

      pool_spec_random (&s, TRUE);
      pool_case_setup (c, &s, x_shape, y_shape, TRUE);
      x = rand_floats (shape_elements (s.ns + 2, x_shape));
      op_case_input (c, KESTREL_DTYPE_FLOAT32, s.ns + 2, x_shape, x);
      op_case_outputs (c, with_indices ? 2 : 1);
      g_assert_true (op_case_infer (c, &error));
      g_assert_no_error (error);
      assert_shape (op_case_output (c, 0), s.ns + 2, y_shape);
      got = case_run (c);
      want = pool_oracle (&s, x, TRUE, &want_indices);
      n_out = shape_elements (s.ns + 2, y_shape);
      assert_close ("MaxPool", g_ptr_array_index (got, 0), want, n_out, 0, 0);
      if (with_indices)
        {
          const gint64 *indices = g_ptr_array_index (got, 1);
          g_assert_cmpint (op_case_output (c, 1)->dtype, ==, KESTREL_DTYPE_INT64);
          for (gsize i = 0; i < n_out; i++)
            g_assert_cmpint (indices[i], ==, want_indices[i]);
        }
    }
}

static void
test_max_pool_uint8 (void)
{
  const gint64 x_shape[] = { 1, 1, 3, 4 }, kernel[] = { 2, 2 }, pads[] = { 1, 1, 1, 1 };
  const gint64 y_shape[] = { 1, 1, 4, 5 };
  const guint8 x[] = { 1, 200, 3, 4, 5, 6, 7, 8, 9, 10, 255, 0 };
  const guint8 want[] = {
    1, 200, 200, 4, 4,
    5, 200, 200, 8, 8,
    9, 10, 255, 255, 8,
    9, 10, 255, 255, 0,
  };
  g_autoptr(OpCase) c = op_case_new (12, "MaxPool");
  g_autoptr(GPtrArray) got = NULL;
  g_autoptr(GError) error = NULL;

  op_case_input (c, KESTREL_DTYPE_UINT8, 4, x_shape, x);
  op_case_outputs (c, 1);
  kestrel_node_set_attr_ints (op_case_node (c), "kernel_shape", kernel, 2);
  kestrel_node_set_attr_ints (op_case_node (c), "pads", pads, 4);
  g_assert_true (op_case_infer (c, &error));
  assert_shape (op_case_output (c, 0), 4, y_shape);
  g_assert_cmpint (op_case_output (c, 0)->dtype, ==, KESTREL_DTYPE_UINT8);
  got = case_run (c);
  g_assert_cmpmem (g_ptr_array_index (got, 0), sizeof want, want, sizeof want);
}

static void
test_average_pool_random (void)
{
  for (guint iter = 0; iter < 100; iter++)
    {
      PoolSpec s;
      gint64 x_shape[5], y_shape[5];
      g_autofree float *x = NULL;
      g_autofree double *want = NULL;
      g_autoptr(OpCase) c = op_case_new (11, "AveragePool");
      g_autoptr(GPtrArray) got = NULL;
      g_autoptr(GError) error = NULL;

      pool_spec_random (&s, FALSE);
      pool_case_setup (c, &s, x_shape, y_shape, FALSE);
      kestrel_node_set_attr_int (op_case_node (c), "count_include_pad", s.include_pad);
      x = rand_floats (shape_elements (s.ns + 2, x_shape));
      op_case_input (c, KESTREL_DTYPE_FLOAT32, s.ns + 2, x_shape, x);
      op_case_outputs (c, 1);
      g_assert_true (op_case_infer (c, &error));
      g_assert_no_error (error);
      assert_shape (op_case_output (c, 0), s.ns + 2, y_shape);
      got = case_run (c);
      want = pool_oracle (&s, x, FALSE, NULL);
      assert_close ("AveragePool", g_ptr_array_index (got, 0), want,
                    shape_elements (s.ns + 2, y_shape), 1e-5, 1e-6);
    }
}

static void
test_global_pools (void)
{
  const gint64 x_shape[] = { 2, 3, 4, 5 }, y_shape[] = { 2, 3, 1, 1 };
  g_autofree float *x = rand_floats (120);

  for (guint kind = 0; kind < 2; kind++)
    {
      g_autoptr(OpCase) c = op_case_new (7, kind == 0 ? "GlobalAveragePool" : "GlobalMaxPool");
      g_autoptr(GPtrArray) got = NULL;
      g_autoptr(GError) error = NULL;
      double want[6];

      op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, x_shape, x);
      op_case_outputs (c, 1);
      g_assert_true (op_case_infer (c, &error));
      assert_shape (op_case_output (c, 0), 4, y_shape);
      got = case_run (c);
      for (guint p = 0; p < 6; p++)
        {
          double acc = kind == 0 ? 0.0 : -(double) INFINITY;
          for (guint i = 0; i < 20; i++)
            acc = kind == 0 ? acc + (double) x[p * 20 + i] : MAX (acc, (double) x[p * 20 + i]);
          want[p] = kind == 0 ? acc / 20 : acc;
        }
      assert_close (op_case_node (c)->op_type, g_ptr_array_index (got, 0), want, 6, 1e-6, 1e-6);
    }
}

/* kestrel.GlobalAveragePoolNhwc (core/ops/ops-global-pool-nhwc.c), what
 * the layout pass makes of a GlobalAveragePool on an NHWC map: at every
 * level the same bits as the reference GlobalAveragePool on the NCHW copy
 * of the input (each channel summed over the pixels in the same order).
 * Channel counts across its block of 64. */
static void
test_global_average_pool_nhwc (void)
{
  static const kk_level levels[] = { KK_LEVEL_SCALAR, KK_LEVEL_SIMD, KK_LEVEL_PARALLEL, KK_LEVEL_FULL };

  for (guint iter = 0; iter < 30; iter++)
    {
      gint64 n = rand_range (1, 2), h = rand_range (1, 9), w = rand_range (1, 9), ch = rand_range (1, 150);
      gint64 nhwc[4] = { n, h, w, ch }, nchw[4] = { n, ch, h, w };
      g_autofree float *x = rand_floats (n * h * w * ch);
      g_autofree float *x_nchw = g_new (float, n * h * w * ch);
      g_autoptr(OpCase) ref = op_case_new (7, "GlobalAveragePool");
      g_autoptr(OpCase) fast = op_case_new_in (7, "kestrel", "GlobalAveragePoolNhwc");
      g_autoptr(GError) error = NULL;

      for (gint64 b = 0; b < n; b++)
        for (gint64 p = 0; p < h * w; p++)
          for (gint64 c = 0; c < ch; c++)
            x_nchw[(b * ch + c) * h * w + p] = x[(b * h * w + p) * ch + c];
      op_case_input (ref, KESTREL_DTYPE_FLOAT32, 4, nchw, x_nchw);
      op_case_outputs (ref, 1);
      g_assert_true (op_case_infer (ref, &error));
      op_case_input (fast, KESTREL_DTYPE_FLOAT32, 4, nhwc, x);
      op_case_outputs (fast, 1);
      g_assert_true (op_case_infer (fast, &error));
      g_assert_no_error (error);
      assert_shape (op_case_output (fast, 0), 4, (gint64[]) { n, 1, 1, ch });

      g_autoptr(GPtrArray) want = op_case_run_all (ref, KK_LEVEL_SCALAR);
      for (guint l = 0; l < G_N_ELEMENTS (levels); l++)
        {
          g_autoptr(GPtrArray) got = op_case_run_all (fast, levels[l]);
          g_assert_cmpmem (g_ptr_array_index (got, 0), n * ch * sizeof (float),
                           g_ptr_array_index (want, 0), n * ch * sizeof (float));
        }
    }
}

static void
add_tests (void)
{
  g_test_add_func ("/ops-nn/max-pool/random", test_max_pool_random);
  g_test_add_func ("/ops-nn/max-pool/uint8", test_max_pool_uint8);
  g_test_add_func ("/ops-nn/average-pool/random", test_average_pool_random);
  g_test_add_func ("/ops-nn/global-pools", test_global_pools);
  g_test_add_func ("/ops-nn/global-average-pool-nhwc", test_global_average_pool_nhwc);
}

int
main (int argc, char **argv)
{
  return ops_nn_test_main (argc, argv, add_tests);
}
