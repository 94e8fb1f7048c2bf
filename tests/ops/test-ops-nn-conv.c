/* test-ops-nn-conv.c — Conv and ConvTranspose (core/ops/ops-nn-conv.c).
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
/* kestrel.ConvTransposePacked (core/ops/ops-conv-transpose-packed.c),
 * what the fast passes make of a 2-D ConvTranspose with constant weights,
 * one group and explicit pads: a gemm and a scatter. At every level's
 * kernels (scalar, the best ISA, over the pool) it gives the reference
 * operator's output, within rounding. */
static OpCase *
conv_transpose_case (const char *domain, const char *op_type, const gint64 *x_shape, const float *x,
                     const gint64 *w_shape, const float *w, const float *b, const gint64 *st, const gint64 *dil,
                     const gint64 *pads, const gint64 *op)
{
  OpCase *c = op_case_new (17, "ConvTranspose");
  KestrelNode *node = op_case_node (c);
  g_autoptr(GError) error = NULL;

  g_free (node->domain);
  node->domain = g_strdup (domain);
  g_free (node->op_type);
  node->op_type = g_strdup (op_type);
  op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, x_shape, x);
  op_case_constant (c, KESTREL_DTYPE_FLOAT32, 4, w_shape, w);
  if (b != NULL)
    op_case_constant (c, KESTREL_DTYPE_FLOAT32, 1, &w_shape[1], b);
  op_case_outputs (c, 1);
  kestrel_node_set_attr_ints (node, "strides", st, 2);
  kestrel_node_set_attr_ints (node, "dilations", dil, 2);
  kestrel_node_set_attr_ints (node, "pads", pads, 4);
  kestrel_node_set_attr_ints (node, "output_padding", op, 2);
  g_assert_true (op_case_infer (c, &error));
  g_assert_no_error (error);
  return c;
}

static void
test_conv_transpose_packed (void)
{
  static const kk_level levels[] = { KK_LEVEL_SCALAR, KK_LEVEL_SIMD, KK_LEVEL_FULL };

  for (guint iter = 0; iter < 40; iter++)
    {
      gint64 st[2], dil[2], pads[4], op[2], x_shape[4], w_shape[4];
      g_autofree float *x = NULL, *w = NULL, *b = NULL;
      g_autoptr(OpCase) ref = NULL, packed = NULL;
      g_autoptr(GPtrArray) want = NULL;
      g_autofree double *want_d = NULL;
      gsize n_out;

      x_shape[0] = rand_range (1, 2);
      x_shape[1] = w_shape[0] = rand_range (1, 40);
      w_shape[1] = rand_range (1, 20);
      for (guint d = 0; d < 2; d++)
        {
          x_shape[2 + d] = rand_range (1, 12);
          w_shape[2 + d] = rand_range (1, 4);
          st[d] = rand_range (1, 3);
          dil[d] = rand_range (1, 2);
          op[d] = rand_range (0, MAX (st[d], dil[d]) - 1);
          pads[d] = pads[2 + d] = 0;
          if (st[d] * (x_shape[2 + d] - 1) + (w_shape[2 + d] - 1) * dil[d] + 1 > 4)
            {
              pads[d] = rand_range (0, 1);
              pads[2 + d] = rand_range (0, 1);
            }
        }
      /* Every fourth case: stride = kernel, nothing else, where the
       * patches tile the output (row_tiles()); the last ones with rows
       * longer than one piece of row_tiles() holds (ROW_PIECE_FLOATS /
       * (Cin + Cout x kh x kw) pixels), kernels 2 and 3 wide. */
      if (iter >= 36)
        {
          x_shape[1] = w_shape[0] = 40 + iter;
          w_shape[1] = 30;
          x_shape[2] = 3;
          x_shape[3] = 90 + iter;
          w_shape[2] = 2;
          w_shape[3] = 2 + iter % 2;
        }
      if (iter % 4 == 0 || iter >= 36)
        for (guint d = 0; d < 2; d++)
          {
            st[d] = w_shape[2 + d];
            dil[d] = 1;
            op[d] = 0;
            pads[d] = pads[2 + d] = 0;
          }
      x = rand_floats (shape_elements (4, x_shape));
      w = rand_floats (shape_elements (4, w_shape));
      b = g_test_rand_bit () ? rand_floats (w_shape[1]) : NULL;
      ref = conv_transpose_case ("", "ConvTranspose", x_shape, x, w_shape, w, b, st, dil, pads, op);
      packed = conv_transpose_case ("kestrel", "ConvTransposePacked", x_shape, x, w_shape, w, b, st, dil, pads, op);
      want = op_case_run_all (ref, KK_LEVEL_SCALAR);
      n_out = shape_elements (4, op_case_output (ref, 0)->shape);
      want_d = g_new (double, n_out);
      for (gsize i = 0; i < n_out; i++)
        want_d[i] = ((const float *) g_ptr_array_index (want, 0))[i];
      for (guint l = 0; l < G_N_ELEMENTS (levels); l++)
        {
          g_autoptr(GPtrArray) got = op_case_run_all (packed, levels[l]);
          assert_close ("ConvTransposePacked", g_ptr_array_index (got, 0), want_d, n_out, 1e-5, 1e-5);
        }
    }
}

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

/* kestrel.ConvNhwc's fused hard sigmoid / hard swish and the scalar Mul
 * and Add after them (act_scale, act_shift), eight lanes at a time in
 * ops-fast.c: through an identity 1x1 convolution (each sum is x * 1 plus
 * products by +0, exact for finite nonzero x) the output must be the
 * reference operators' formulas bit for bit, at every level, on channel
 * counts that put elements in the vector part and in the tail. */
static void
test_conv_nhwc_hard_activations (void)
{
  static const kk_level levels[] = { KK_LEVEL_SCALAR, KK_LEVEL_SIMD, KK_LEVEL_FULL };
  static const char *const acts[] = { "hardsigmoid", "hardswish" };

  for (guint iter = 0; iter < 24; iter++)
    {
      gint64 w = rand_range (1, 9), ch = rand_range (1, 13);
      gint64 x_shape[4] = { 1, 1, w, ch }, w_shape[4] = { ch, ch, 1, 1 };
      g_autofree float *x = rand_floats (w * ch);
      g_autofree float *weights = g_new0 (float, ch * ch);
      const float alpha = iter % 3 == 0 ? 0.2f : 1.0f / 6.0f, beta = 0.5f;
      const float scale = iter % 2 ? 0.75f : 1.0f, shift = iter % 4 < 2 ? -0.125f : 0.0f;
      const gboolean swish = iter % 2 == 0;
      g_autoptr(OpCase) c = op_case_new_in (13, "kestrel", "ConvNhwc");
      KestrelNode *node = op_case_node (c);
      g_autoptr(GError) error = NULL;

      for (gint64 i = 0; i < w * ch; i++)
        x[i] = x[i] * 12.0f + (x[i] >= 0 ? 1e-3f : -1e-3f);  /* across both bends, never zero */
      for (gint64 i = 0; i < ch; i++)
        weights[i * ch + i] = 1.0f;
      op_case_input (c, KESTREL_DTYPE_FLOAT32, 4, x_shape, x);
      op_case_constant (c, KESTREL_DTYPE_FLOAT32, 4, w_shape, weights);
      op_case_outputs (c, 1);
      kestrel_node_set_attr_ints (node, "kernel_shape", (gint64[]) { 1, 1 }, 2);
      kestrel_node_set_attr_string (node, "act", acts[swish]);
      kestrel_node_set_attr_float (node, "act_alpha", alpha);
      kestrel_node_set_attr_float (node, "act_beta", beta);
      kestrel_node_set_attr_float (node, "act_scale", scale);
      kestrel_node_set_attr_float (node, "act_shift", shift);
      g_assert_true (op_case_infer (c, &error));
      g_assert_no_error (error);

      g_autofree float *want = g_new (float, w * ch);
      for (gint64 i = 0; i < w * ch; i++)
        {
          volatile float t = alpha * x[i];
          float g = t + beta;
          g = g < 0 ? 0 : g > 1 ? 1 : g;
          volatile float a = swish ? x[i] * g : g;
          volatile float m = a * scale;
          want[i] = (scale != 1.0f || shift != 0.0f) ? m + shift : a;
        }
      for (guint l = 0; l < G_N_ELEMENTS (levels); l++)
        {
          g_autoptr(GPtrArray) got = op_case_run_all (c, levels[l]);
          g_assert_cmpmem (g_ptr_array_index (got, 0), w * ch * sizeof (float), want, w * ch * sizeof (float));
        }
    }
}

static void
add_tests (void)
{
  g_test_add_func ("/ops-nn/conv/random", test_conv_random);
  g_test_add_func ("/ops-nn/conv/errors", test_conv_errors);
  g_test_add_func ("/ops-nn/conv-transpose/random", test_conv_transpose_random);
  g_test_add_func ("/ops-nn/conv-transpose/same-upper", test_conv_transpose_same_upper);
  g_test_add_func ("/ops-nn/conv-transpose/packed", test_conv_transpose_packed);
  g_test_add_func ("/ops-nn/conv-nhwc/hard-activations", test_conv_nhwc_hard_activations);
}

int
main (int argc, char **argv)
{
  return ops_nn_test_main (argc, argv, add_tests);
}
