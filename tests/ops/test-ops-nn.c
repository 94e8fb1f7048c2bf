/* test-ops-nn.c — the neural-network reference operators (core/ops/ops-nn-*.c).
 *
 * Each test builds a one-node graph by hand, lets the op infer shapes, and
 * runs it as the planner would — prepare() sees only constant data, run()
 * writes into buffers poisoned with NaN — once on the calling thread and
 * once over a thread pool. The two runs must agree bit for bit, and both
 * must match a straightforward double-precision oracle written here
 * (different loop structure from the operator's, on purpose), on random
 * shapes and attributes. Resize is checked against the values of the ONNX
 * operator documentation.
 *
 * When Debian's libonnx-testdata is installed, /ops-nn/onnx-node-cases also
 * runs the ONNX node test cases of these operators through the same path,
 * feeding every input but the first as a constant (Kestrel needs pads,
 * scales and sizes at plan time).
 *
 * Why one file of more than 800 lines: one test program per operator group,
 * like core/ops/; each test is one operator's case list, and the shared
 * harness is ops-test-util.h.
 */
#include <math.h>
#include <string.h>

#include "kestrel-error.h"
#include "kestrel-graph.h"
#include "kestrel-onnx.h"
#include "kestrel-op.h"
#include "kestrel-passes.h"
#include "kestrel-thread-pool.h"

#include "ops-test-util.h"
#include "../test-missing.h"

/* ---- one-node graphs (OpCase, ops-test-util.h) --------------------------------- */

/* Runs serially and over the pool, checks both agree bit for bit and
 * returns the serial results. */
static GPtrArray *
case_run (OpCase *c)
{
  GPtrArray *serial = op_case_run_all (c, KK_LEVEL_SCALAR);
  g_autoptr(GPtrArray) parallel = op_case_run_all (c, KK_LEVEL_PARALLEL);

  for (guint o = 0; o < serial->len; o++)
    {
      const KestrelValue *value = op_case_output (c, o);
      gsize bytes = 0;
      if (value == NULL)
        continue;
      kestrel_shape_get_size (value->dtype, value->n_dims, value->shape, NULL, &bytes, NULL);
      if (memcmp (g_ptr_array_index (serial, o), g_ptr_array_index (parallel, o), bytes) != 0)
        g_error ("%s: output %u differs between the serial and the parallel run",
                 op_case_node (c)->op_type, o);
    }
  return serial;
}

static void
assert_shape (const KestrelValue *value, guint n_dims, const gint64 *shape)
{
  g_autofree char *got = kestrel_shape_to_string (value->n_dims, value->shape);
  g_autofree char *want = kestrel_shape_to_string (n_dims, shape);

  g_assert_cmpstr (got, ==, want);
}

static void
assert_close (const char *what, const float *got, const double *want, gsize n, double rtol,
              double atol)
{
  for (gsize i = 0; i < n; i++)
    if (!(fabs ((double) got[i] - want[i]) <= atol + rtol * fabs (want[i])))
      g_error ("%s: element %" G_GSIZE_FORMAT " is %.9g, expected %.9g", what, i,
               (double) got[i], want[i]);
}

static float *
rand_floats (gsize n)
{
  float *data = g_new (float, MAX (n, 1));

  for (gsize i = 0; i < n; i++)
    data[i] = (float) g_test_rand_double_range (-1.0, 1.0);
  return data;
}

static gint64
rand_range (gint64 lo, gint64 hi)   /* inclusive */
{
  return g_test_rand_int_range ((gint32) lo, (gint32) hi + 1);
}

/* ---- registry ------------------------------------------------------------------ */

static void
test_registry (void)
{
  static const char *const ops[] = {
    "Conv", "ConvTranspose", "Gemm", "MatMul", "MaxPool", "AveragePool", "GlobalAveragePool",
    "GlobalMaxPool", "BatchNormalization", "LRN", "Softmax", "LogSoftmax", "Pad", "Resize",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (ops); i++)
    {
      gint64 from = strcmp (ops[i], "Resize") == 0 ? 10 : 7;
      /* Up to opset 21, the newest Kestrel knows. */
      gint64 to = 21;
      for (gint64 opset = from; opset <= to; opset++)
        if (kestrel_op_lookup ("", ops[i], opset) == NULL)
          g_error ("%s is missing at opset %" G_GINT64_FORMAT, ops[i], opset);
      g_assert_null (kestrel_op_lookup ("", ops[i], to + 1));
    }
  /* Where the semantics changed there are two definitions. */
  g_assert_true (kestrel_op_lookup ("", "Softmax", 12) != kestrel_op_lookup ("", "Softmax", 13));
  g_assert_true (kestrel_op_lookup ("", "LogSoftmax", 12)
                 != kestrel_op_lookup ("", "LogSoftmax", 13));
  g_assert_true (kestrel_op_lookup ("", "Pad", 10) != kestrel_op_lookup ("", "Pad", 11));
  g_assert_true (kestrel_op_lookup ("", "Resize", 10) != kestrel_op_lookup ("", "Resize", 11));
  g_assert_true (kestrel_op_lookup ("", "Upsample", 8) != kestrel_op_lookup ("", "Upsample", 9));
  g_assert_null (kestrel_op_lookup ("", "Upsample", 11));
  g_assert_null (kestrel_op_lookup ("", "Resize", 9));
}

/* ---- Conv ------------------------------------------------------------------------ */

typedef struct {
  guint n_spatial;
  gint64 batch, in_c, out_c, group;
  gint64 in[3], kernel[3], stride[3], dilation[3], pad_begin[3], pad_end[3], out[3];
} ConvSpec;

/* Plain scatter-free oracle: out(n, m, o) = b(m) + sum over c, taps. The
 * spatial position is decoded from a flat index, unlike the operator. */
static double *
conv_oracle (const ConvSpec *s, const float *x, const float *w, const float *b)
{
  gsize out_plane = shape_elements (s->n_spatial, s->out), in_plane = shape_elements (s->n_spatial, s->in);
  gsize taps = shape_elements (s->n_spatial, s->kernel);
  gint64 cin_g = s->in_c / s->group, cout_g = s->out_c / s->group;
  double *y = g_new0 (double, s->batch * s->out_c * out_plane + 1);

  for (gint64 n = 0; n < s->batch; n++)
    for (gint64 m = 0; m < s->out_c; m++)
      for (gsize op = 0; op < out_plane; op++)
        {
          gint64 o[3];
          double sum = b != NULL ? (double) b[m] : 0.0;
          gsize rest = op;
          for (guint d = s->n_spatial; d-- > 0;)
            {
              o[d] = rest % s->out[d];
              rest /= s->out[d];
            }
          for (gint64 c = 0; c < cin_g; c++)
            for (gsize t = 0; t < taps; t++)
              {
                gint64 k[3], pos = 0;
                gboolean inside = TRUE;
                gsize trest = t;
                for (guint d = s->n_spatial; d-- > 0;)
                  {
                    k[d] = trest % s->kernel[d];
                    trest /= s->kernel[d];
                  }
                for (guint d = 0; d < s->n_spatial; d++)
                  {
                    gint64 i = o[d] * s->stride[d] - s->pad_begin[d] + k[d] * s->dilation[d];
                    inside = inside && i >= 0 && i < s->in[d];
                    pos = pos * s->in[d] + i;
                  }
                if (inside)
                  sum += (double) x[(n * s->in_c + (m / cout_g) * cin_g + c) * in_plane + pos]
                         * (double) w[(m * cin_g + c) * taps + t];
              }
          y[(n * s->out_c + m) * out_plane + op] = sum;
        }
  return y;
}

static void
test_conv_random (void)
{
  for (guint iter = 0; iter < 150; iter++)
    {
      ConvSpec s = { 0 };
      gint64 x_shape[5], w_shape[5], out_shape[5], b_shape[1], pads[6];
      const char *auto_pad = "NOTSET";
      gboolean with_bias = g_test_rand_bit ();
      g_autofree float *x = NULL, *w = NULL, *b = NULL;
      g_autofree double *want = NULL;
      g_autoptr(OpCase) c = op_case_new (rand_range (7, 17), "Conv");
      g_autoptr(GPtrArray) got = NULL;
      g_autoptr(GError) error = NULL;
      guint kind = g_test_rand_int_range (0, 4);

      s.n_spatial = iter < 100 ? 2 : rand_range (1, 3);
      s.batch = rand_range (1, 2);
      s.group = kind == 0 ? 1 : kind == 1 ? 2 : kind == 2 ? 3 : rand_range (1, 4);
      s.in_c = s.group * rand_range (1, 3);
      s.out_c = s.group * rand_range (1, 3);
      if (kind == 3)                    /* depthwise, maybe with a multiplier */
        {
          s.group = s.in_c = rand_range (1, 6);
          s.out_c = s.in_c * rand_range (1, 2);
        }
      switch (g_test_rand_int_range (0, 4))
        {
        case 0:
          auto_pad = "SAME_UPPER";
          break;
        case 1:
          auto_pad = "SAME_LOWER";
          break;
        case 2:
          auto_pad = "VALID";
          break;
        default:
          break;
        }
      for (guint d = 0; d < s.n_spatial; d++)
        {
          s.kernel[d] = rand_range (1, s.n_spatial == 3 ? 3 : 5);
          s.stride[d] = rand_range (1, 3);
          s.dilation[d] = rand_range (1, 2);
          s.pad_begin[d] = rand_range (0, 2);
          s.pad_end[d] = rand_range (0, 2);
          s.in[d] = (s.kernel[d] - 1) * s.dilation[d] + rand_range (1, s.n_spatial == 3 ? 4 : 9);
        }

      /* The expected geometry, written out from the ONNX text. */
      for (guint d = 0; d < s.n_spatial; d++)
        {
          gint64 extent = (s.kernel[d] - 1) * s.dilation[d] + 1;
          if (g_str_has_prefix (auto_pad, "SAME"))
            {
              gint64 out = (s.in[d] + s.stride[d] - 1) / s.stride[d];
              gint64 total = MAX (0, (out - 1) * s.stride[d] + extent - s.in[d]);
              gint64 small = total / 2, large = total - small;
              s.pad_begin[d] = strcmp (auto_pad, "SAME_UPPER") == 0 ? small : large;
              s.pad_end[d] = total - s.pad_begin[d];
            }
          else if (strcmp (auto_pad, "VALID") == 0)
            s.pad_begin[d] = s.pad_end[d] = 0;
          s.out[d] = (s.in[d] + s.pad_begin[d] + s.pad_end[d] - extent) / s.stride[d] + 1;
        }

      x_shape[0] = s.batch;
      x_shape[1] = s.in_c;
      w_shape[0] = s.out_c;
      w_shape[1] = s.in_c / s.group;
      out_shape[0] = s.batch;
      out_shape[1] = s.out_c;
      for (guint d = 0; d < s.n_spatial; d++)
        {
          x_shape[2 + d] = s.in[d];
          w_shape[2 + d] = s.kernel[d];
          out_shape[2 + d] = s.out[d];
          pads[d] = s.pad_begin[d];
          pads[s.n_spatial + d] = s.pad_end[d];
        }
      b_shape[0] = s.out_c;
      x = rand_floats (shape_elements (s.n_spatial + 2, x_shape));
      w = rand_floats (shape_elements (s.n_spatial + 2, w_shape));
      b = rand_floats (s.out_c);

      op_case_input (c, KESTREL_DTYPE_FLOAT32, s.n_spatial + 2, x_shape, x);
      /* Weights are usually constants, but graph inputs must work too. */
      if (g_test_rand_bit ())
        op_case_constant (c, KESTREL_DTYPE_FLOAT32, s.n_spatial + 2, w_shape, w);
      else
        op_case_input (c, KESTREL_DTYPE_FLOAT32, s.n_spatial + 2, w_shape, w);
      if (with_bias)
        op_case_constant (c, KESTREL_DTYPE_FLOAT32, 1, b_shape, b);
      else if (g_test_rand_bit ())
        op_case_omit (c);
      op_case_outputs (c, 1);
      if (s.group != 1 || g_test_rand_bit ())
        kestrel_node_set_attr_int (op_case_node (c), "group", s.group);
      if (g_test_rand_bit ())
        kestrel_node_set_attr_ints (op_case_node (c), "kernel_shape", s.kernel, s.n_spatial);
      kestrel_node_set_attr_ints (op_case_node (c), "strides", s.stride, s.n_spatial);
      kestrel_node_set_attr_ints (op_case_node (c), "dilations", s.dilation, s.n_spatial);
      if (strcmp (auto_pad, "NOTSET") == 0)
        kestrel_node_set_attr_ints (op_case_node (c), "pads", pads, 2 * s.n_spatial);
      else
        kestrel_node_set_attr_string (op_case_node (c), "auto_pad", auto_pad);

      g_assert_true (op_case_infer (c, &error));
      g_assert_no_error (error);
      assert_shape (op_case_output (c, 0), s.n_spatial + 2, out_shape);
      got = case_run (c);
      want = conv_oracle (&s, x, w, with_bias ? b : NULL);
      assert_close ("Conv", g_ptr_array_index (got, 0), want,
                    shape_elements (s.n_spatial + 2, out_shape), 1e-5, 1e-5);
    }
}

static void
test_conv_errors (void)
{
  const gint64 x_shape[] = { 1, 4, 5, 5 }, w_bad[] = { 2, 3, 3, 3 }, w_ok[] = { 2, 2, 3, 3 };
  const gint64 b_bad[] = { 3 }, x_1d[] = { 4, 5 };
  float zeros[4 * 25] = { 0 };

  {
    g_autoptr(OpCase) c = op_case_new (13, "Conv");
    g_autoptr(GError) error = NULL;
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, x_shape, zeros);
    op_case_constant (c, KESTREL_DTYPE_FLOAT32, 4, w_bad, zeros);
    op_case_outputs (c, 1);
    kestrel_node_set_attr_int (op_case_node (c), "group", 2);
    g_assert_false (op_case_infer (c, &error));
    g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT);
    g_assert_nonnull (strstr (error->message, "node 'the_node' (Conv)"));
    g_assert_nonnull (strstr (error->message, "weights W have shape [2,3,3,3]"));
  }
  {
    g_autoptr(OpCase) c = op_case_new (13, "Conv");
    g_autoptr(GError) error = NULL;
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, x_shape, zeros);
    op_case_constant (c, KESTREL_DTYPE_FLOAT32, 4, w_ok, zeros);
    op_case_constant (c, KESTREL_DTYPE_FLOAT32, 1, b_bad, zeros);
    op_case_outputs (c, 1);
    kestrel_node_set_attr_int (op_case_node (c), "group", 2);
    g_assert_false (op_case_infer (c, &error));
    g_assert_nonnull (strstr (error->message, "bias B has shape [3]"));
  }
  {
    g_autoptr(OpCase) c = op_case_new (13, "Conv");
    g_autoptr(GError) error = NULL;
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, x_1d, zeros);
    op_case_constant (c, KESTREL_DTYPE_FLOAT32, 4, w_ok, zeros);
    op_case_outputs (c, 1);
    g_assert_false (op_case_infer (c, &error));
    g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED);
    g_assert_nonnull (strstr (error->message, "expected [N, C, D1...]"));
  }
  {
    /* A 4x4 kernel does not fit a 3x3 input without padding. */
    const gint64 x_small[] = { 1, 1, 3, 3 }, w_big[] = { 1, 1, 4, 4 };
    g_autoptr(OpCase) c = op_case_new (13, "Conv");
    g_autoptr(GError) error = NULL;
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, x_small, zeros);
    op_case_constant (c, KESTREL_DTYPE_FLOAT32, 4, w_big, zeros);
    op_case_outputs (c, 1);
    g_assert_false (op_case_infer (c, &error));
    g_assert_nonnull (strstr (error->message, "larger than the padded input"));
  }
}

/* ---- ConvTranspose ----------------------------------------------------------------- */

static void
test_conv_transpose_random (void)
{
  for (guint iter = 0; iter < 100; iter++)
    {
      guint ns = iter < 70 ? 2 : rand_range (1, 3);
      gint64 batch = rand_range (1, 2), group = rand_range (1, 3);
      gint64 in_c = group * rand_range (1, 2), out_c = group * rand_range (1, 3);
      gint64 in[3], k[3], st[3], dil[3], pb[3], pe[3], op[3], out[3], pads[6];
      gint64 x_shape[5], w_shape[5], out_shape[5], b_shape[1] = { out_c };
      gboolean with_bias = g_test_rand_bit ();
      gsize in_plane, out_plane, taps;
      g_autofree float *x = NULL, *w = NULL, *b = NULL;
      g_autofree double *want = NULL;
      g_autoptr(OpCase) c = op_case_new (rand_range (7, 17), "ConvTranspose");
      g_autoptr(GPtrArray) got = NULL;
      g_autoptr(GError) error = NULL;

      for (guint d = 0; d < ns; d++)
        {
          in[d] = rand_range (1, ns == 3 ? 3 : 6);
          k[d] = rand_range (1, 4);
          st[d] = rand_range (1, 3);
          dil[d] = rand_range (1, 2);
          op[d] = rand_range (0, MAX (st[d], dil[d]) - 1);
          pb[d] = rand_range (0, 2);
          pe[d] = rand_range (0, 2);
          out[d] = st[d] * (in[d] - 1) + op[d] + (k[d] - 1) * dil[d] + 1 - pb[d] - pe[d];
          if (out[d] < 1)
            {
              pb[d] = pe[d] = 0;
              out[d] = st[d] * (in[d] - 1) + op[d] + (k[d] - 1) * dil[d] + 1;
            }
          pads[d] = pb[d];
          pads[ns + d] = pe[d];
        }
      x_shape[0] = batch;
      x_shape[1] = in_c;
      w_shape[0] = in_c;
      w_shape[1] = out_c / group;
      out_shape[0] = batch;
      out_shape[1] = out_c;
      for (guint d = 0; d < ns; d++)
        {
          x_shape[2 + d] = in[d];
          w_shape[2 + d] = k[d];
          out_shape[2 + d] = out[d];
        }
      x = rand_floats (shape_elements (ns + 2, x_shape));
      w = rand_floats (shape_elements (ns + 2, w_shape));
      b = rand_floats (out_c);

      op_case_input (c, KESTREL_DTYPE_FLOAT32, ns + 2, x_shape, x);
      op_case_constant (c, KESTREL_DTYPE_FLOAT32, ns + 2, w_shape, w);
      if (with_bias)
        op_case_constant (c, KESTREL_DTYPE_FLOAT32, 1, b_shape, b);
      op_case_outputs (c, 1);
      kestrel_node_set_attr_int (op_case_node (c), "group", group);
      kestrel_node_set_attr_ints (op_case_node (c), "strides", st, ns);
      kestrel_node_set_attr_ints (op_case_node (c), "dilations", dil, ns);
      kestrel_node_set_attr_ints (op_case_node (c), "output_padding", op, ns);
      if (g_test_rand_bit ())
        kestrel_node_set_attr_ints (op_case_node (c), "pads", pads, 2 * ns);
      else
        /* The same geometry asked for by output size. */
        kestrel_node_set_attr_ints (op_case_node (c), "output_shape", out, ns);

      g_assert_true (op_case_infer (c, &error));
      g_assert_no_error (error);
      assert_shape (op_case_output (c, 0), ns + 2, out_shape);
      got = case_run (c);

      /* Oracle: the scatter form, input by input (the operator gathers).
       * With output_shape, pads are split as SAME_UPPER, begin = total / 2. */
      {
        gint64 begin[3];
        in_plane = shape_elements (ns, in);
        out_plane = shape_elements (ns, out);
        taps = shape_elements (ns, k);
        want = g_new0 (double, batch * out_c * out_plane);
        for (guint d = 0; d < ns; d++)
          {
            gint64 total = st[d] * (in[d] - 1) + op[d] + (k[d] - 1) * dil[d] + 1 - out[d];
            begin[d] = kestrel_node_find_attr (op_case_node (c), "pads") != NULL ? pb[d] : total / 2;
          }
        for (gint64 n = 0; n < batch; n++)
          for (gint64 m = 0; m < out_c; m++)
            for (gsize p = 0; p < out_plane; p++)
              want[(n * out_c + m) * out_plane + p] = with_bias ? (double) b[m] : 0.0;
        for (gint64 n = 0; n < batch; n++)
          for (gint64 ci = 0; ci < in_c; ci++)
            for (gsize ip = 0; ip < in_plane; ip++)
              for (gint64 ml = 0; ml < out_c / group; ml++)
                for (gsize t = 0; t < taps; t++)
                  {
                    gint64 i[3], kk[3], pos = 0;
                    gsize r = ip, tr = t;
                    gboolean inside = TRUE;
                    gint64 m = ci / (in_c / group) * (out_c / group) + ml;
                    for (guint d = ns; d-- > 0;)
                      {
                        i[d] = r % in[d];
                        r /= in[d];
                        kk[d] = tr % k[d];
                        tr /= k[d];
                      }
                    for (guint d = 0; d < ns; d++)
                      {
                        gint64 o = i[d] * st[d] - begin[d] + kk[d] * dil[d];
                        inside = inside && o >= 0 && o < out[d];
                        pos = pos * out[d] + o;
                      }
                    if (inside)
                      want[(n * out_c + m) * out_plane + pos]
                        += (double) x[(n * in_c + ci) * in_plane + ip]
                           * (double) w[(ci * (out_c / group) + ml) * taps + t];
                  }
      }
      assert_close ("ConvTranspose", g_ptr_array_index (got, 0), want,
                    shape_elements (ns + 2, out_shape), 1e-5, 1e-5);
    }
}

/* The ONNX documentation's auto_pad = SAME_UPPER example. */
static void
test_conv_transpose_same_upper (void)
{
  const gint64 x_shape[] = { 1, 1, 3, 3 }, w_shape[] = { 1, 2, 3, 3 }, strides[] = { 2, 2 };
  const gint64 y_shape[] = { 1, 2, 6, 6 };
  const float x[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8 };
  float w[18];
  static const double plane[] = {
    0, 0, 1, 1, 3, 2,
    0, 0, 1, 1, 3, 2,
    3, 3, 8, 5, 12, 7,
    3, 3, 7, 4, 9, 5,
    9, 9, 20, 11, 24, 13,
    6, 6, 13, 7, 15, 8,
  };
  double want[72];
  g_autoptr(OpCase) c = op_case_new (11, "ConvTranspose");
  g_autoptr(GPtrArray) got = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 18; i++)
    w[i] = 1.0f;
  memcpy (want, plane, sizeof plane);
  memcpy (want + 36, plane, sizeof plane);
  op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, x_shape, x);
  op_case_constant (c, KESTREL_DTYPE_FLOAT32, 4, w_shape, w);
  op_case_outputs (c, 1);
  kestrel_node_set_attr_string (op_case_node (c), "auto_pad", "SAME_UPPER");
  kestrel_node_set_attr_ints (op_case_node (c), "strides", strides, 2);
  g_assert_true (op_case_infer (c, &error));
  assert_shape (op_case_output (c, 0), 4, y_shape);
  got = case_run (c);
  assert_close ("ConvTranspose SAME_UPPER", g_ptr_array_index (got, 0), want, 72, 0, 0);
}

/* ---- Gemm, MatMul ------------------------------------------------------------------ */

static void
test_gemm_random (void)
{
  for (guint iter = 0; iter < 60; iter++)
    {
      gint64 m = rand_range (1, 9), n = rand_range (1, 150), k = rand_range (1, 20);
      gboolean ta = g_test_rand_bit (), tb = g_test_rand_bit ();
      float alpha = g_test_rand_bit () ? 1.0f : (float) g_test_rand_double_range (-2, 2);
      float beta = g_test_rand_bit () ? 1.0f : (float) g_test_rand_double_range (-2, 2);
      guint c_kind = g_test_rand_int_range (0, 6);
      gint64 a_shape[2] = { ta ? k : m, ta ? m : k }, b_shape[2] = { tb ? n : k, tb ? k : n };
      gint64 c_shape[2], y_shape[2] = { m, n };
      guint c_dims = 0;
      g_autofree float *a = rand_floats (m * k), *b = rand_floats (k * n);
      g_autofree float *cv = rand_floats (m * n);
      g_autofree double *want = g_new0 (double, m * n);
      g_autoptr(OpCase) c = op_case_new (13, "Gemm");
      g_autoptr(GPtrArray) got = NULL;
      g_autoptr(GError) error = NULL;

      switch (c_kind)
        {
        case 1: c_dims = 1; c_shape[0] = 1; break;                        /* scalar-like */
        case 2: c_dims = 1; c_shape[0] = n; break;                        /* row vector */
        case 3: c_dims = 2; c_shape[0] = m; c_shape[1] = 1; break;        /* column */
        case 4: c_dims = 2; c_shape[0] = m; c_shape[1] = n; break;
        case 5: c_dims = 0; break;                                        /* rank 0 */
        default: break;
        }
      op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, a_shape, a);
      op_case_constant (c, KESTREL_DTYPE_FLOAT32, 2, b_shape, b);
      if (c_kind != 0)
        op_case_constant (c, KESTREL_DTYPE_FLOAT32, c_dims, c_shape, cv);
      op_case_outputs (c, 1);
      kestrel_node_set_attr_int (op_case_node (c), "transA", ta);
      kestrel_node_set_attr_int (op_case_node (c), "transB", tb);
      kestrel_node_set_attr_float (op_case_node (c), "alpha", alpha);
      kestrel_node_set_attr_float (op_case_node (c), "beta", beta);
      g_assert_true (op_case_infer (c, &error));
      g_assert_no_error (error);
      assert_shape (op_case_output (c, 0), 2, y_shape);
      got = case_run (c);

      for (gint64 i = 0; i < m; i++)
        for (gint64 j = 0; j < n; j++)
          {
            double sum = 0, cval = 0;
            for (gint64 p = 0; p < k; p++)
              sum += (double) (ta ? a[p * m + i] : a[i * k + p])
                     * (double) (tb ? b[j * k + p] : b[p * n + j]);
            switch (c_kind)
              {
              case 1: case 5: cval = cv[0]; break;
              case 2: cval = cv[j]; break;
              case 3: cval = cv[i]; break;
              case 4: cval = cv[i * n + j]; break;
              default: break;
              }
            want[i * n + j] = (double) alpha * sum + (double) beta * cval;
          }
      assert_close ("Gemm", g_ptr_array_index (got, 0), want, m * n, 1e-5, 1e-5);
    }
}

static void
test_gemm_errors (void)
{
  const gint64 a_shape[] = { 2, 3 }, b_shape[] = { 4, 5 }, c_shape[] = { 3, 5 };
  float zeros[20] = { 0 };

  {
    g_autoptr(OpCase) c = op_case_new (13, "Gemm");
    g_autoptr(GError) error = NULL;
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, a_shape, zeros);
    op_case_constant (c, KESTREL_DTYPE_FLOAT32, 2, b_shape, zeros);
    op_case_outputs (c, 1);
    g_assert_false (op_case_infer (c, &error));
    g_assert_nonnull (strstr (error->message, "do not agree on K"));
  }
  {
    const gint64 b_ok[] = { 3, 5 };
    g_autoptr(OpCase) c = op_case_new (13, "Gemm");
    g_autoptr(GError) error = NULL;
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, a_shape, zeros);
    op_case_constant (c, KESTREL_DTYPE_FLOAT32, 2, b_ok, zeros);
    op_case_constant (c, KESTREL_DTYPE_FLOAT32, 2, c_shape, zeros);
    op_case_outputs (c, 1);
    g_assert_false (op_case_infer (c, &error));
    g_assert_nonnull (strstr (error->message, "C [3,5] cannot be broadcast to [2,5]"));
  }
}

static void
test_matmul_random (void)
{
  for (guint iter = 0; iter < 80; iter++)
    {
      guint a_dims = rand_range (1, 4), b_dims = rand_range (1, 4);
      gint64 m = rand_range (1, 5), n = rand_range (1, 70), k = rand_range (1, 9);
      gint64 a_shape[4], b_shape[4], y_shape[6], batch[2];
      guint a_batch = a_dims > 2 ? a_dims - 2 : 0, b_batch = b_dims > 2 ? b_dims - 2 : 0;
      guint nb = MAX (a_batch, b_batch), y_dims = 0;
      gsize n_batch = 1;
      g_autofree float *a = NULL, *b = NULL;
      g_autofree double *want = NULL;
      g_autoptr(OpCase) c = op_case_new (13, "MatMul");
      g_autoptr(GPtrArray) got = NULL;
      g_autoptr(GError) error = NULL;

      for (guint d = 0; d < nb; d++)
        batch[d] = rand_range (1, 3);
      /* Each operand's batch dimensions are the trailing ones of the
       * result's, some broadcast as 1. */
      for (guint d = 0; d < a_batch; d++)
        a_shape[d] = g_test_rand_int_range (0, 3) == 0 ? 1 : batch[nb - a_batch + d];
      for (guint d = 0; d < b_batch; d++)
        b_shape[d] = g_test_rand_int_range (0, 3) == 0 ? 1 : batch[nb - b_batch + d];
      for (guint d = 0; d < nb; d++)
        {
          gint64 ad = d >= nb - a_batch ? a_shape[d - (nb - a_batch)] : 1;
          gint64 bd = d >= nb - b_batch ? b_shape[d - (nb - b_batch)] : 1;
          batch[d] = MAX (ad, bd);
          y_shape[y_dims++] = batch[d];
          n_batch *= batch[d];
        }
      if (a_dims == 1)
        a_shape[0] = k;
      else
        {
          a_shape[a_dims - 2] = m;
          a_shape[a_dims - 1] = k;
          y_shape[y_dims++] = m;
        }
      if (b_dims == 1)
        b_shape[0] = k;
      else
        {
          b_shape[b_dims - 2] = k;
          b_shape[b_dims - 1] = n;
          y_shape[y_dims++] = n;
        }
      if (a_dims == 1)
        m = 1;
      if (b_dims == 1)
        n = 1;

      a = rand_floats (shape_elements (a_dims, a_shape));
      b = rand_floats (shape_elements (b_dims, b_shape));
      op_case_input (c, KESTREL_DTYPE_FLOAT32, a_dims, a_shape, a);
      op_case_input (c, KESTREL_DTYPE_FLOAT32, b_dims, b_shape, b);
      op_case_outputs (c, 1);
      g_assert_true (op_case_infer (c, &error));
      g_assert_no_error (error);
      assert_shape (op_case_output (c, 0), y_dims, y_shape);
      got = case_run (c);

      want = g_new0 (double, n_batch * m * n);
      for (gsize bi = 0; bi < n_batch; bi++)
        {
          gsize a_off = 0, b_off = 0, rest = bi, a_mul = 1, b_mul = 1;
          for (guint d = nb; d-- > 0;)
            {
              gsize i = rest % batch[d];
              gint64 ad = d >= nb - a_batch ? a_shape[d - (nb - a_batch)] : 1;
              gint64 bd = d >= nb - b_batch ? b_shape[d - (nb - b_batch)] : 1;
              rest /= batch[d];
              a_off += (ad == 1 ? 0 : i) * a_mul;
              b_off += (bd == 1 ? 0 : i) * b_mul;
              a_mul *= ad;
              b_mul *= bd;
            }
          for (gint64 i = 0; i < m; i++)
            for (gint64 j = 0; j < n; j++)
              {
                double sum = 0;
                for (gint64 p = 0; p < k; p++)
                  sum += (double) a[a_off * m * k + i * k + p] * (double) b[b_off * k * n + p * n + j];
                want[(bi * m + i) * n + j] = sum;
              }
        }
      assert_close ("MatMul", g_ptr_array_index (got, 0), want, n_batch * m * n, 1e-5, 1e-5);
    }
}

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

/* ---- the ONNX node test cases ----------------------------------------------------------- */

#define ONNX_NODE_DATA "/usr/share/libonnx-testdata/data/node"

/* Cases Kestrel refuses on purpose, and why. */
static const struct {
  const char *name;
  const char *reason;
} refused_cases[] = {
  { "test_batchnorm_epsilon_training_mode", "training outputs" },
  { "test_batchnorm_example_training_mode", "training outputs" },
};

static gboolean
case_is_mine (const char *name)
{
  static const char *const prefixes[] = {
    "test_averagepool_", "test_basic_conv_", "test_batchnorm_", "test_constant_pad",
    "test_conv_with_", "test_convtranspose", "test_edge_pad", "test_gemm_",
    "test_globalaveragepool", "test_globalmaxpool", "test_logsoftmax_", "test_lrn",
    "test_matmul_", "test_maxpool_", "test_reflect_pad", "test_resize_", "test_softmax_",
    "test_upsample_",
  };

  if (g_str_has_suffix (name, "_expanded"))
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (prefixes); i++)
    if (g_str_has_prefix (name, prefixes[i]))
      return TRUE;
  return FALSE;
}

/* Loads one case and runs it; returns FALSE with `error` set when Kestrel
 * refuses it (*loaded says whether the loader took the file), and fails
 * the test when it runs but gets a wrong answer. */
static gboolean
run_onnx_case (const char *dir, gboolean *loaded, GError **error)
{
  g_autofree char *model_path = g_build_filename (dir, "model.onnx", NULL);
  g_autoptr(GMappedFile) file = g_mapped_file_new (model_path, FALSE, error);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(OpCase) c = g_new0 (OpCase, 1);
  g_autoptr(GPtrArray) tensors = g_ptr_array_new_with_free_func ((GDestroyNotify) kestrel_tensor_unref);
  gint node_index = -1;
  g_autoptr(GPtrArray) got = NULL;

  if (file == NULL)
    return FALSE;
  bytes = g_mapped_file_get_bytes (file);
  c->graph = kestrel_onnx_load_graph (bytes, model_path, error);
  c->data = g_hash_table_new (NULL, NULL);
  *loaded = c->graph != NULL;
  if (c->graph == NULL)
    return FALSE;

  for (guint n = 0; n < c->graph->nodes->len; n++)
    if (!kestrel_graph_node (c->graph, n)->removed)
      {
        g_assert_cmpint (node_index, <, 0);
        node_index = n;
      }
  g_assert_cmpint (node_index, >=, 0);
  c->node = node_index;

  /* Graph input 0 is fed at run time; the others become constants. */
  for (guint i = 0; i < c->graph->inputs->len; i++)
    {
      g_autofree char *name = g_strdup_printf ("test_data_set_0/input_%u.pb", i);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      gint v = g_array_index (c->graph->inputs, gint, i);
      KestrelValue *value = kestrel_graph_value (c->graph, v);
      KestrelTensor *t = kestrel_onnx_tensor_from_file (path, error);

      if (t == NULL)
        return FALSE;
      if (i == 0)
        {
          kestrel_value_set_shape (value, kestrel_tensor_get_dtype (t),
                                   kestrel_tensor_get_n_dims (t), kestrel_tensor_get_shape (t));
          g_hash_table_insert (c->data, GINT_TO_POINTER (v), kestrel_tensor_get_data (t));
          g_ptr_array_add (tensors, t);
        }
      else
        {
          value->constant = t;
          kestrel_value_set_shape (value, kestrel_tensor_get_dtype (t),
                                   kestrel_tensor_get_n_dims (t), kestrel_tensor_get_shape (t));
        }
    }
  if (!op_case_infer (c, error))
    return FALSE;

  got = case_run (c);

  for (guint o = 0; o < c->graph->outputs->len; o++)
    {
      g_autofree char *name = g_strdup_printf ("test_data_set_0/output_%u.pb", o);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr(KestrelTensor) want = kestrel_onnx_tensor_from_file (path, error);
      const KestrelValue *value = op_case_output (c, o);
      gsize n;

      g_assert_nonnull (want);
      g_assert_cmpint (kestrel_tensor_get_dtype (want), ==, value->dtype);
      assert_shape (value, kestrel_tensor_get_n_dims (want), kestrel_tensor_get_shape (want));
      n = kestrel_tensor_get_n_elements (want);
      if (value->dtype == KESTREL_DTYPE_FLOAT32)
        {
          const float *g = g_ptr_array_index (got, o), *w = kestrel_tensor_get_data (want);
          for (gsize i = 0; i < n; i++)
            if (!(fabsf (g[i] - w[i]) <= 1e-5f + 1e-3f * fabsf (w[i])))
              g_error ("%s: output %u element %" G_GSIZE_FORMAT " is %.9g, expected %.9g", dir,
                       o, i, (double) g[i], (double) w[i]);
        }
      else
        g_assert_cmpmem (g_ptr_array_index (got, o), kestrel_tensor_get_n_bytes (want),
                         kestrel_tensor_get_data (want), kestrel_tensor_get_n_bytes (want));
    }
  return TRUE;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void
test_onnx_node_cases (void)
{
  g_autoptr(GDir) dir = g_dir_open (ONNX_NODE_DATA, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  guint passed = 0, refused = 0, not_loaded = 0;

  if (dir == NULL)
    {
      test_missing ("libonnx-testdata", ONNX_NODE_DATA);
      return;
    }
  for (const char *name; (name = g_dir_read_name (dir)) != NULL;)
    if (case_is_mine (name))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      g_autofree char *path = g_build_filename (ONNX_NODE_DATA, name, NULL);
      g_autoptr(GError) error = NULL;
      const char *expected_refusal = NULL;
      gboolean loaded = FALSE;

      for (gsize r = 0; r < G_N_ELEMENTS (refused_cases); r++)
        if (strcmp (refused_cases[r].name, name) == 0)
          expected_refusal = refused_cases[r].reason;

      if (run_onnx_case (path, &loaded, &error))
        {
          if (expected_refusal != NULL)
            g_error ("%s ran, but was expected to be refused (%s)", name, expected_refusal);
          passed++;
        }
      else if (!loaded)
        {
          /* Not the operators' business (the ONNX opset 1 cases). */
          g_test_message ("%s not loaded: %s", name, error->message);
          not_loaded++;
        }
      else if (expected_refusal != NULL)
        {
          g_test_message ("%s refused as expected: %s", name, error->message);
          refused++;
        }
      else
        g_error ("%s: %s", name, error->message);
    }
  g_test_message ("%u ONNX node cases passed, %u refused as expected, %u not loadable", passed,
                  refused, not_loaded);
  g_assert_cmpuint (passed, >, 100);
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

/* ---- Einsum (matrix products) and NonMaxSuppression --------------------------- */

typedef struct {
  const char *equation;
  guint a_dims, b_dims;
  gint64 a[4], b[4];
} EinsumCase;

/* The oracle: sum over every assignment of the letters of a * b. */
static void
einsum_oracle (const char *eq, const EinsumCase *ec, const float *a, const float *b,
               const KestrelValue *out, float *y)
{
  gint64 size[128] = { 0 };
  char letters[16];
  guint n_letters = 0;
  g_auto(GStrv) sides = g_strsplit (eq, "->", 2);
  g_auto(GStrv) terms = g_strsplit (sides[0], ",", 2);
  const char *t[3] = { terms[0], terms[1], sides[1] };
  gsize n_y = 1, combos = 1;

  for (guint i = 0; i < ec->a_dims; i++)
    size[(int) t[0][i]] = ec->a[i];
  for (guint i = 0; i < ec->b_dims; i++)
    size[(int) t[1][i]] = ec->b[i];
  for (int c = 'a'; c <= 'z'; c++)
    if (size[c] > 0)
      {
        letters[n_letters++] = (char) c;
        combos *= (gsize) size[c];
      }
  for (guint d = 0; d < out->n_dims; d++)
    n_y *= (gsize) out->shape[d];
  memset (y, 0, n_y * sizeof (float));
  for (gsize f = 0; f < combos; f++)
    {
      gint64 v[128] = { 0 };
      gsize rest = f, ia = 0, ib = 0, iy = 0;

      for (gint l = (gint) n_letters - 1; l >= 0; l--)
        {
          v[(int) letters[l]] = (gint64) (rest % (gsize) size[(int) letters[l]]);
          rest /= (gsize) size[(int) letters[l]];
        }
      for (guint i = 0; i < ec->a_dims; i++)
        ia = ia * (gsize) ec->a[i] + (gsize) v[(int) t[0][i]];
      for (guint i = 0; i < ec->b_dims; i++)
        ib = ib * (gsize) ec->b[i] + (gsize) v[(int) t[1][i]];
      for (guint i = 0; i < out->n_dims; i++)
        iy = iy * (gsize) out->shape[i] + (gsize) v[(int) t[2][i]];
      y[iy] += a[ia] * b[ib];
    }
}

static void
test_einsum (void)
{
  static const EinsumCase cases[] = {
    { "ij,jk->ik", 2, 2, { 3, 4 }, { 4, 5 } },
    { "ij,kj->ik", 2, 2, { 3, 4 }, { 5, 4 } },
    { "ji,jk->ki", 2, 2, { 4, 3 }, { 4, 5 } },
    { "bij,bjk->bik", 3, 3, { 2, 3, 4 }, { 2, 4, 5 } },
    { "bhid,bhjd->bhij", 4, 4, { 2, 3, 4, 5 }, { 2, 3, 6, 5 } },
    { "bhij,bhjd->bhid", 4, 4, { 1, 2, 3, 4 }, { 1, 2, 4, 5 } },
    { "ik,k->i", 2, 1, { 3, 4 }, { 4 } },
  };
  g_autoptr(GRand) rand = g_rand_new_with_seed (12);

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      const EinsumCase *ec = &cases[k];
      gsize na = shape_elements (ec->a_dims, ec->a), nb = shape_elements (ec->b_dims, ec->b);
      g_autofree float *a = random_floats (rand, na, -1, 1);
      g_autofree float *b = random_floats (rand, nb, -1, 1);
      g_autoptr(OpCase) c = op_case_new (12, "Einsum");
      g_autoptr(GPtrArray) out = NULL;
      g_autofree float *want = NULL;
      const KestrelValue *y;
      gsize ny;

      kestrel_node_set_attr_string (op_case_node (c), "equation", ec->equation);
      op_case_input (c, KESTREL_DTYPE_FLOAT32, ec->a_dims, ec->a, a);
      op_case_constant (c, KESTREL_DTYPE_FLOAT32, ec->b_dims, ec->b, b);
      op_case_infer_ok (c);
      y = op_case_output (c, 0);
      ny = shape_elements (y->n_dims, y->shape);
      want = g_new (float, ny);
      einsum_oracle (ec->equation, ec, a, b, y, want);
      out = case_run (c);
      for (gsize i = 0; i < ny; i++)
        if (!floats_close (((float *) g_ptr_array_index (out, 0))[i], want[i], 1e-5, 1e-5))
          g_error ("%s: element %zu is %g, expected %g", ec->equation, i,
                   (double) ((float *) g_ptr_array_index (out, 0))[i], (double) want[i]);
    }

  /* Not matrix products: refused with the equation named. */
  {
    static const char *const refused[] = { "ii,ij->j", "ij,jk->k", "ij,jk" };
    const gint64 s[] = { 3, 3 };
    const float z[9] = { 0 };

    for (guint k = 0; k < G_N_ELEMENTS (refused); k++)
      {
        g_autoptr(OpCase) c = op_case_new (12, "Einsum");
        kestrel_node_set_attr_string (op_case_node (c), "equation", refused[k]);
        op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, s, z);
        op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, s, z);
        if (k < 2)
          op_case_expect_error (c, KESTREL_ERROR_UNSUPPORTED, refused[k]);
        else
          op_case_infer_ok (c);  /* implicit output "ik" is a product */
      }
    {
      g_autoptr(OpCase) c = op_case_new (12, "Einsum");
      kestrel_node_set_attr_string (op_case_node (c), "equation", "ij->ji");
      op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, s, z);
      op_case_expect_error (c, KESTREL_ERROR_UNSUPPORTED, "ij->ji");
    }
  }
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

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  /* More threads than this machine's cores, so chunks interleave. */
  test_pool = kestrel_thread_pool_new (3);

  g_test_add_func ("/ops-nn/registry", test_registry);
  g_test_add_func ("/ops-nn/conv/random", test_conv_random);
  g_test_add_func ("/ops-nn/conv/errors", test_conv_errors);
  g_test_add_func ("/ops-nn/conv-transpose/random", test_conv_transpose_random);
  g_test_add_func ("/ops-nn/conv-transpose/same-upper", test_conv_transpose_same_upper);
  g_test_add_func ("/ops-nn/gemm/random", test_gemm_random);
  g_test_add_func ("/ops-nn/gemm/errors", test_gemm_errors);
  g_test_add_func ("/ops-nn/matmul/random", test_matmul_random);
  g_test_add_func ("/ops-nn/max-pool/random", test_max_pool_random);
  g_test_add_func ("/ops-nn/max-pool/uint8", test_max_pool_uint8);
  g_test_add_func ("/ops-nn/average-pool/random", test_average_pool_random);
  g_test_add_func ("/ops-nn/global-pools", test_global_pools);
  g_test_add_func ("/ops-nn/batch-norm", test_batch_norm);
  g_test_add_func ("/ops-nn/lrn", test_lrn);
  g_test_add_func ("/ops-nn/softmax", test_softmax);
  g_test_add_func ("/ops-nn/pad/random", test_pad_random);
  g_test_add_func ("/ops-nn/pad/errors", test_pad_errors);
  g_test_add_func ("/ops-nn/resize/examples", test_resize_examples);
  g_test_add_func ("/ops-nn/resize/linear-random", test_resize_linear_random);
  g_test_add_func ("/ops-nn/resize/errors", test_resize_errors);
  g_test_add_func ("/ops-nn/upsample", test_upsample);
  g_test_add_func ("/ops-nn/pad-18", test_pad_18);
  g_test_add_func ("/ops-nn/resize-18", test_resize_18);
  g_test_add_func ("/ops-nn/grid-sample", test_grid_sample);
  g_test_add_func ("/ops-nn/roi-align", test_roi_align);
  g_test_add_func ("/ops-nn/max-unpool", test_max_unpool);
  g_test_add_func ("/ops-nn/instance-norm", test_instance_norm);
  g_test_add_func ("/ops-nn/layer-norm", test_layer_norm);
  g_test_add_func ("/ops-nn/mean-variance-norm", test_mean_variance_norm);
  g_test_add_func ("/ops-nn/einsum", test_einsum);
  g_test_add_func ("/ops-nn/non-max-suppression", test_non_max_suppression);
  g_test_add_func ("/ops-nn/onnx-node-cases", test_onnx_node_cases);

  status = g_test_run ();
  kestrel_thread_pool_unref (test_pool);
  return status;
}
