/* ops-nn-conv.c — Conv and ConvTranspose, ONNX semantics, float32, NCHW.
 *
 * Both are direct loops over one output row at a time: the row starts at
 * the bias and every tap (input channel, then kernel depth, height, width)
 * is added in order, so each output element is summed in the same order
 * whatever the thread split. 1-D and 2-D convolutions are run as 3-D ones
 * with unit leading spatial dimensions; the loops skip padding by computing
 * the valid output range of each tap instead of testing every element.
 *
 * Weights are read at run time, not packed: they may be graph inputs
 * (the ONNX conformance models feed them), and the NHWC fast path is where
 * packing pays off.
 */
#include "config.h"

#include "ops-nn.h"

#include <string.h>

#include "kestrel-error.h"

typedef KestrelNnConvParams ConvParams;

const KestrelNnAttr kestrel_nn_conv_attrs[] = {
  { "auto_pad", KESTREL_ATTR_STRING },
  { "dilations", KESTREL_ATTR_INTS },
  { "group", KESTREL_ATTR_INT },
  { "kernel_shape", KESTREL_ATTR_INTS },
  { "pads", KESTREL_ATTR_INTS },
  { "strides", KESTREL_ATTR_INTS },
};
const guint kestrel_nn_n_conv_attrs = G_N_ELEMENTS (kestrel_nn_conv_attrs);

static const KestrelNnAttr conv_transpose_attrs[] = {
  { "auto_pad", KESTREL_ATTR_STRING },
  { "dilations", KESTREL_ATTR_INTS },
  { "group", KESTREL_ATTR_INT },
  { "kernel_shape", KESTREL_ATTR_INTS },
  { "output_padding", KESTREL_ATTR_INTS },
  { "output_shape", KESTREL_ATTR_INTS },
  { "pads", KESTREL_ATTR_INTS },
  { "strides", KESTREL_ATTR_INTS },
};

static void
params_reset (ConvParams *p)
{
  memset (p, 0, sizeof *p);
  for (guint d = 0; d < 3; d++)
    p->in[d] = p->out[d] = p->kernel[d] = p->stride[d] = p->dilation[d] = 1;
}

/* Checks the shapes X [N, C, D...] and W (rank of X) shared by Conv and
 * ConvTranspose and reads `group`. */
static gboolean
check_conv_shapes (const KestrelNode *node, guint x_dims, const gint64 *x_shape, guint w_dims,
                   const gint64 *w_shape, gint64 *group, GError **error)
{
  g_autofree char *xs = kestrel_shape_to_string (x_dims, x_shape);
  g_autofree char *ws = kestrel_shape_to_string (w_dims, w_shape);

  if (x_dims < 3 || x_dims > 5)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "input X has shape %s; expected [N, C, D1...] with 1 to 3 spatial "
                              "dimensions", xs);
      return FALSE;
    }
  if (w_dims != x_dims)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "weights W have shape %s; expected rank %u like X %s", ws, x_dims, xs);
      return FALSE;
    }
  *group = kestrel_node_attr_int (node, "group", 1);
  if (*group < 1 || x_shape[1] % *group != 0)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "group %" G_GINT64_FORMAT " must be positive and divide the %"
                              G_GINT64_FORMAT " input channels of X %s", *group, x_shape[1], xs);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_kernel_attr (const KestrelNode *node, guint n_spatial, const gint64 *w_spatial,
                   GError **error)
{
  guint n;
  const gint64 *kernel = kestrel_node_attr_ints (node, "kernel_shape", &n);

  if (kernel == NULL)
    return TRUE;
  if (n == n_spatial && memcmp (kernel, w_spatial, n * sizeof (gint64)) == 0)
    return TRUE;
  {
    g_autofree char *ks = kestrel_shape_to_string (n, kernel);
    g_autofree char *ws = kestrel_shape_to_string (n_spatial, w_spatial);
    kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                            "attribute kernel_shape %s does not match the weights' kernel %s",
                            ks, ws);
  }
  return FALSE;
}

gboolean
kestrel_nn_check_bias (const KestrelNode *node, const KestrelValue *b, gint64 out_c, GError **error)
{
  if (b->n_dims == 1 && b->shape[0] == out_c)
    return TRUE;
  {
    g_autofree char *bs = kestrel_shape_to_string (b->n_dims, b->shape);
    kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                            "bias B has shape %s; expected [%" G_GINT64_FORMAT "], one value per "
                            "output channel", bs, out_c);
  }
  return FALSE;
}

/* ---- Conv ---------------------------------------------------------------- */

gboolean
kestrel_nn_conv_params (const KestrelNode *node, guint x_dims, const gint64 *x_shape, guint w_dims,
             const gint64 *w_shape, ConvParams *p, GError **error)
{
  guint n_spatial = x_dims - 2, first;
  KestrelConvGeometry geo;
  gint64 group;

  if (!check_conv_shapes (node, x_dims, x_shape, w_dims, w_shape, &group, error))
    return FALSE;
  if (w_shape[1] != x_shape[1] / group || w_shape[0] % group != 0 || w_shape[0] < 1)
    {
      g_autofree char *ws = kestrel_shape_to_string (w_dims, w_shape);
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "weights W have shape %s; expected [M, %" G_GINT64_FORMAT ", k...] "
                              "(%" G_GINT64_FORMAT " input channels in %" G_GINT64_FORMAT
                              " groups) with M a multiple of the group count", ws,
                              x_shape[1] / group, x_shape[1], group);
      return FALSE;
    }
  if (!check_kernel_attr (node, n_spatial, w_shape + 2, error)
      || !kestrel_op_conv_geometry (node, n_spatial, x_shape + 2, w_shape + 2, FALSE, &geo, error))
    return FALSE;

  params_reset (p);
  p->batch = x_shape[0];
  p->in_c = x_shape[1];
  p->out_c = w_shape[0];
  p->group = group;
  first = 3 - n_spatial;
  for (guint d = 0; d < n_spatial; d++)
    {
      p->in[first + d] = geo.in[d];
      p->out[first + d] = geo.out[d];
      p->kernel[first + d] = geo.kernel[d];
      p->stride[first + d] = geo.stride[d];
      p->dilation[first + d] = geo.dilation[d];
      p->pad[first + d] = geo.pad_begin[d];
    }
  return TRUE;
}

static gboolean
conv_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x, *w, *b = NULL;
  gint64 out_shape[KESTREL_TENSOR_MAX_DIMS];
  ConvParams p;

  if (!kestrel_op_check_arity (node, 2, 3, 1, error)
      || !kestrel_nn_check_attrs (node, kestrel_nn_conv_attrs, kestrel_nn_n_conv_attrs, error)
      || (x = kestrel_op_input (graph, node, 0, error)) == NULL
      || !kestrel_op_check_float (node, 0, x, error)
      || (w = kestrel_op_input (graph, node, 1, error)) == NULL
      || !kestrel_op_check_float (node, 1, w, error))
    return FALSE;
  if (kestrel_node_input (node, 2) >= 0
      && ((b = kestrel_op_input (graph, node, 2, error)) == NULL
          || !kestrel_op_check_float (node, 2, b, error)))
    return FALSE;
  if (!kestrel_nn_conv_params (node, x->n_dims, x->shape, w->n_dims, w->shape, &p, error))
    return FALSE;
  if (b != NULL && !kestrel_nn_check_bias (node, b, p.out_c, error))
    return FALSE;

  out_shape[0] = p.batch;
  out_shape[1] = p.out_c;
  for (guint d = 0; d < x->n_dims - 2; d++)
    out_shape[2 + d] = p.out[3 - (x->n_dims - 2) + d];
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_FLOAT32, x->n_dims, out_shape);
  return TRUE;
}

static gboolean
conv_prepare (KestrelStep *step, GError **error)
{
  ConvParams *p = g_new (ConvParams, 1);

  step->state = p;
  step->free_state = g_free;
  return kestrel_nn_conv_params (step->node, step->inputs[0].n_dims, step->inputs[0].shape,
                      step->inputs[1].n_dims, step->inputs[1].shape, p, error);
}

/* Items are output rows: (n, m, od, oh) flattened, oh fastest. */
static void
conv_rows (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const ConvParams *p = step->state;
  const float *x = step->inputs[0].data;
  const float *w = step->inputs[1].data;
  const float *bias = step->n_inputs > 2 ? step->inputs[2].data : NULL;
  float *y = step->outputs[0].data;
  gint64 cin_g = p->in_c / p->group, cout_g = p->out_c / p->group;
  gint64 in_plane = p->in[0] * p->in[1] * p->in[2];
  gint64 taps = p->kernel[0] * p->kernel[1] * p->kernel[2];
  gint64 n_rows = p->out[0] * p->out[1];

  for (gsize item = begin; item < end; item++)
    {
      gint64 row = (gint64) item % n_rows, nm = (gint64) item / n_rows;
      gint64 m = nm % p->out_c, n = nm / p->out_c;
      gint64 od = row / p->out[1], oh = row % p->out[1];
      gint64 g = m / cout_g;
      float *out = y + (gint64) item * p->out[2];
      float b = bias != NULL ? bias[m] : 0.0f;

      for (gint64 ow = 0; ow < p->out[2]; ow++)
        out[ow] = b;

      for (gint64 c = 0; c < cin_g; c++)
        {
          const float *xc = x + (n * p->in_c + g * cin_g + c) * in_plane;
          const float *wc = w + (m * cin_g + c) * taps;

          for (gint64 kd = 0; kd < p->kernel[0]; kd++)
            {
              gint64 id = od * p->stride[0] - p->pad[0] + kd * p->dilation[0];
              if (id < 0 || id >= p->in[0])
                continue;
              for (gint64 kh = 0; kh < p->kernel[1]; kh++)
                {
                  gint64 ih = oh * p->stride[1] - p->pad[1] + kh * p->dilation[1];
                  const float *xrow;
                  if (ih < 0 || ih >= p->in[1])
                    continue;
                  xrow = xc + (id * p->in[1] + ih) * p->in[2];
                  for (gint64 kw = 0; kw < p->kernel[2]; kw++)
                    {
                      float wv = wc[(kd * p->kernel[1] + kh) * p->kernel[2] + kw];
                      gint64 offset = kw * p->dilation[2] - p->pad[2];
                      gint64 sw = p->stride[2], ow_begin, ow_end;

                      kestrel_nn_valid_range (p->out[2], p->in[2], sw, offset, &ow_begin, &ow_end);
                      for (gint64 ow = ow_begin; ow < ow_end; ow++)
                        out[ow] += wv * xrow[ow * sw + offset];
                    }
                }
            }
        }
    }
}

static void
conv_run (const KestrelStep *step)
{
  const ConvParams *p = step->state;

  kestrel_step_parallel_for (step, p->batch * p->out_c * p->out[0] * p->out[1], conv_rows,
                             (gpointer) step);
}

const KestrelOpDef kestrel_op_conv = {
  .domain = "",
  .op_type = "Conv",
  .min_opset = 1, /* unchanged in meaning since its first version */
  .max_opset = 21,
  .infer = conv_infer,
  .prepare = conv_prepare,
  .run = conv_run,
};

/* ---- ConvTranspose -------------------------------------------------------- */

/* Geometry of the transposed convolution. Unlike Conv, pads may come out
 * negative: an output_shape larger than the natural one extends the output
 * at the end (the ONNX conformance data does this), which the gather loop
 * in conv_transpose_rows handles like any other offset. */
static gboolean
conv_transpose_params (const KestrelNode *node, guint x_dims, const gint64 *x_shape, guint w_dims,
                       const gint64 *w_shape, ConvParams *p, GError **error)
{
  guint n_spatial = x_dims - 2, first, n_strides, n_dilations, n_pads, n_out_pad, n_out_shape;
  const gint64 *strides = kestrel_node_attr_ints (node, "strides", &n_strides);
  const gint64 *dilations = kestrel_node_attr_ints (node, "dilations", &n_dilations);
  const gint64 *pads = kestrel_node_attr_ints (node, "pads", &n_pads);
  const gint64 *out_pad = kestrel_node_attr_ints (node, "output_padding", &n_out_pad);
  const gint64 *out_shape = kestrel_node_attr_ints (node, "output_shape", &n_out_shape);
  const char *auto_pad = kestrel_node_attr_string (node, "auto_pad", "NOTSET");
  gboolean same_upper = strcmp (auto_pad, "SAME_UPPER") == 0;
  gboolean same_lower = strcmp (auto_pad, "SAME_LOWER") == 0;
  gboolean valid = strcmp (auto_pad, "VALID") == 0;
  gint64 group;

  if (!check_conv_shapes (node, x_dims, x_shape, w_dims, w_shape, &group, error))
    return FALSE;
  if (w_shape[0] != x_shape[1] || w_shape[1] < 1)
    {
      g_autofree char *ws = kestrel_shape_to_string (w_dims, w_shape);
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "weights W have shape %s; expected [%" G_GINT64_FORMAT ", M/group, "
                              "k...], one filter set per input channel", ws, x_shape[1]);
      return FALSE;
    }
  if (!same_upper && !same_lower && !valid && strcmp (auto_pad, "NOTSET") != 0)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "auto_pad '%s' is not NOTSET, VALID, SAME_UPPER or SAME_LOWER",
                              auto_pad);
      return FALSE;
    }
  if ((strides != NULL && n_strides != n_spatial) || (dilations != NULL && n_dilations != n_spatial)
      || (pads != NULL && n_pads != 2 * n_spatial) || (out_pad != NULL && n_out_pad != n_spatial)
      || (out_shape != NULL && n_out_shape != n_spatial && n_out_shape != n_spatial + 2))
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "strides, dilations, output_padding need %u values, pads %u and "
                              "output_shape %u (or %u with N and C)", n_spatial, 2 * n_spatial,
                              n_spatial, n_spatial + 2);
      return FALSE;
    }
  if (!check_kernel_attr (node, n_spatial, w_shape + 2, error))
    return FALSE;

  params_reset (p);
  p->batch = x_shape[0];
  p->in_c = x_shape[1];
  p->out_c = w_shape[1] * group;
  p->group = group;
  first = 3 - n_spatial;
  for (guint d = 0; d < n_spatial; d++)
    {
      gint64 in = x_shape[2 + d], k = w_shape[2 + d];
      gint64 s = strides != NULL ? strides[d] : 1;
      gint64 dil = dilations != NULL ? dilations[d] : 1;
      gint64 op = out_pad != NULL ? out_pad[d] : 0;
      gint64 pb = pads != NULL ? pads[d] : 0, pe = pads != NULL ? pads[n_spatial + d] : 0;
      gint64 full, out;

      if (s < 1 || dil < 1 || op < 0 || pb < 0 || pe < 0)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "stride %" G_GINT64_FORMAT " and dilation %" G_GINT64_FORMAT
                                  " of spatial axis %u must be positive, output_padding %"
                                  G_GINT64_FORMAT " and pads %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT
                                  " non-negative", s, dil, d, op, pb, pe);
          return FALSE;
        }
      full = s * (in - 1) + op + (k - 1) * dil + 1;
      if (out_shape != NULL || same_upper || same_lower)
        {
          gint64 target = out_shape != NULL ? out_shape[n_out_shape - n_spatial + d] : in * s;
          gint64 total = full - target;
          /* SAME_UPPER and an explicit output_shape put the odd pad at the
           * end, SAME_LOWER at the beginning, as the ONNX test data has it. */
          pb = same_lower ? total - total / 2 : total / 2;
          pe = total - pb;
        }
      else if (valid)
        pb = pe = 0;
      out = full - pb - pe;
      if (out < 1)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "output size %" G_GINT64_FORMAT " on spatial axis %u is not "
                                  "positive (pads too large for the input)", out, d);
          return FALSE;
        }
      p->in[first + d] = in;
      p->out[first + d] = out;
      p->kernel[first + d] = k;
      p->stride[first + d] = s;
      p->dilation[first + d] = dil;
      p->pad[first + d] = pb;
    }
  return TRUE;
}

static gboolean
conv_transpose_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x, *w, *b = NULL;
  gint64 out_shape[KESTREL_TENSOR_MAX_DIMS];
  ConvParams p;

  if (!kestrel_op_check_arity (node, 2, 3, 1, error)
      || !kestrel_nn_check_attrs (node, conv_transpose_attrs, G_N_ELEMENTS (conv_transpose_attrs),
                                  error)
      || (x = kestrel_op_input (graph, node, 0, error)) == NULL
      || !kestrel_op_check_float (node, 0, x, error)
      || (w = kestrel_op_input (graph, node, 1, error)) == NULL
      || !kestrel_op_check_float (node, 1, w, error))
    return FALSE;
  if (kestrel_node_input (node, 2) >= 0
      && ((b = kestrel_op_input (graph, node, 2, error)) == NULL
          || !kestrel_op_check_float (node, 2, b, error)))
    return FALSE;
  if (!conv_transpose_params (node, x->n_dims, x->shape, w->n_dims, w->shape, &p, error))
    return FALSE;
  if (b != NULL && !kestrel_nn_check_bias (node, b, p.out_c, error))
    return FALSE;

  out_shape[0] = p.batch;
  out_shape[1] = p.out_c;
  for (guint d = 0; d < x->n_dims - 2; d++)
    out_shape[2 + d] = p.out[3 - (x->n_dims - 2) + d];
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_FLOAT32, x->n_dims, out_shape);
  return TRUE;
}

static gboolean
conv_transpose_prepare (KestrelStep *step, GError **error)
{
  ConvParams *p = g_new (ConvParams, 1);

  step->state = p;
  step->free_state = g_free;
  return conv_transpose_params (step->node, step->inputs[0].n_dims, step->inputs[0].shape,
                                step->inputs[1].n_dims, step->inputs[1].shape, p, error);
}

/* The gather form of the transposed convolution: output position o
 * receives input i through tap k when o = i * stride - pad + k * dilation.
 * Items are output rows, as in conv_rows. */
static void
conv_transpose_rows (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const ConvParams *p = step->state;
  const float *x = step->inputs[0].data;
  const float *w = step->inputs[1].data;
  const float *bias = step->n_inputs > 2 ? step->inputs[2].data : NULL;
  float *y = step->outputs[0].data;
  gint64 cin_g = p->in_c / p->group, cout_g = p->out_c / p->group;
  gint64 in_plane = p->in[0] * p->in[1] * p->in[2];
  gint64 taps = p->kernel[0] * p->kernel[1] * p->kernel[2];
  gint64 n_rows = p->out[0] * p->out[1];

  for (gsize item = begin; item < end; item++)
    {
      gint64 row = (gint64) item % n_rows, nm = (gint64) item / n_rows;
      gint64 m = nm % p->out_c, n = nm / p->out_c;
      gint64 od = row / p->out[1], oh = row % p->out[1];
      gint64 g = m / cout_g, m_in_group = m % cout_g;
      float *out = y + (gint64) item * p->out[2];
      float b = bias != NULL ? bias[m] : 0.0f;

      for (gint64 ow = 0; ow < p->out[2]; ow++)
        out[ow] = b;

      for (gint64 c = 0; c < cin_g; c++)
        {
          gint64 ci = g * cin_g + c;
          const float *xc = x + (n * p->in_c + ci) * in_plane;
          const float *wc = w + (ci * cout_g + m_in_group) * taps;

          for (gint64 kd = 0; kd < p->kernel[0]; kd++)
            {
              gint64 td = od + p->pad[0] - kd * p->dilation[0], id = td / p->stride[0];
              if (td < 0 || td % p->stride[0] != 0 || id >= p->in[0])
                continue;
              for (gint64 kh = 0; kh < p->kernel[1]; kh++)
                {
                  gint64 th = oh + p->pad[1] - kh * p->dilation[1], ih = th / p->stride[1];
                  const float *xrow;
                  if (th < 0 || th % p->stride[1] != 0 || ih >= p->in[1])
                    continue;
                  xrow = xc + (id * p->in[1] + ih) * p->in[2];
                  for (gint64 kw = 0; kw < p->kernel[2]; kw++)
                    {
                      float wv = wc[(kd * p->kernel[1] + kh) * p->kernel[2] + kw];
                      gint64 offset = kw * p->dilation[2] - p->pad[2];
                      gint64 sw = p->stride[2], iw_begin, iw_end;

                      /* iw such that ow = iw * sw + offset is inside the row. */
                      kestrel_nn_valid_range (p->in[2], p->out[2], sw, offset, &iw_begin, &iw_end);
                      for (gint64 iw = iw_begin; iw < iw_end; iw++)
                        out[iw * sw + offset] += wv * xrow[iw];
                    }
                }
            }
        }
    }
}

static void
conv_transpose_run (const KestrelStep *step)
{
  const ConvParams *p = step->state;

  kestrel_step_parallel_for (step, p->batch * p->out_c * p->out[0] * p->out[1],
                             conv_transpose_rows, (gpointer) step);
}

const KestrelOpDef kestrel_op_conv_transpose = {
  .domain = "",
  .op_type = "ConvTranspose",
  .min_opset = 1, /* unchanged in meaning since its first version */
  .max_opset = 21,
  .infer = conv_transpose_infer,
  .prepare = conv_transpose_prepare,
  .run = conv_transpose_run,
};
