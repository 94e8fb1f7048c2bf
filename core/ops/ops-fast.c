/* ops-fast.c — the engine's own NHWC operators for the SIMD levels.
 *
 * kestrel-passes-fast.c rewrites ONNX Conv and MaxPool (NCHW) into these,
 * with Transposes around them that then cancel out across the graph. In NHWC
 * the channels of a pixel are contiguous, which is what makes the kernels
 * fast: a 1x1 convolution is one gemm over all pixels, a depthwise one
 * vectorises across channels, and a dense one is a gemm over im2col rows.
 *
 *   kestrel.ConvNhwc     inputs X [N,H,W,Cin], W [Cout,Cin/g,kh,kw] (constant,
 *                        ONNX layout), optional B [Cout] (constant), optional
 *                        residual R [N,OH,OW,Cout]; attributes as ONNX Conv
 *                        plus act_lo / act_hi (the fused Relu/Clip).
 *                        Y = clamp (conv (X, W) + B + R, act_lo, act_hi)
 *   kestrel.MaxPoolNhwc  X [N,H,W,C]; attributes as ONNX MaxPool.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "kestrel-error.h"
#include "kestrel-op-util.h"
#include "kestrel-ops-registry.h"

/* Output pixels per im2col tile: the tile's rows live on the worker's stack
 * (IM2COL_FLOATS floats), so large kernels get fewer rows per tile. Pointwise
 * convolutions hand the gemm GEMM_ROWS_PER_CHUNK pixels per work item. */
#define IM2COL_FLOATS 16384
#define GEMM_ROWS_PER_CHUNK 48

typedef enum {
  CONV_POINTWISE,  /* 1x1, stride 1, no padding, one group: a gemm */
  CONV_DEPTHWISE,  /* one group per channel, multiplier 1 */
  CONV_IM2COL,     /* one group, any kernel: im2col tiles and a gemm */
  CONV_GROUPED,    /* anything else: direct loops */
} ConvPath;

typedef struct {
  ConvPath path;
  gint64 n, in_h, in_w, cin, out_h, out_w, cout, group;
  KestrelConvGeometry geo;
  float lo, hi;
  gboolean has_residual;
  float *packed;          /* gemm-packed weights, or dwconv-packed, or [Cout][kh][kw][Cin/g] */
  float *bias;            /* [Cout], zeros when the model has none */
  gsize k;                /* gemm depth: Cin (pointwise) or kh*kw*Cin (im2col) */
  gsize tile_rows;        /* im2col rows per tile */
  kk_dwconv_params dw;
} ConvState;

static void
conv_state_free (gpointer data)
{
  ConvState *state = data;

  g_free (state->packed);
  g_free (state->bias);
  g_free (state);
}

static gboolean
conv_nhwc_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x, *w, *b = NULL, *r = NULL;
  KestrelConvGeometry geo;
  gint64 out[4];

  if (!kestrel_op_check_arity (node, 2, 4, 1, error)
      || !(x = kestrel_op_input (graph, node, 0, error))
      || !(w = kestrel_op_input (graph, node, 1, error))
      || !kestrel_op_check_float (node, 0, x, error)
      || !kestrel_op_check_float (node, 1, w, error))
    return FALSE;
  if (kestrel_node_input (node, 2) >= 0 && !(b = kestrel_op_input (graph, node, 2, error)))
    return FALSE;
  if (kestrel_node_input (node, 3) >= 0 && !(r = kestrel_op_input (graph, node, 3, error)))
    return FALSE;
  if (x->n_dims != 4 || w->n_dims != 4 || w->constant == NULL || (b != NULL && b->constant == NULL))
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "expects a 4-D input and constant 4-D weights and bias");
      return FALSE;
    }
  gint64 group = kestrel_node_attr_int (node, "group", 1);
  if (group < 1 || x->shape[3] % group != 0 || w->shape[0] % group != 0
      || w->shape[1] * group != x->shape[3])
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "group %" G_GINT64_FORMAT " does not fit %" G_GINT64_FORMAT
                              " input channels and weights for %" G_GINT64_FORMAT " per group",
                              group, x->shape[3], w->shape[1]);
      return FALSE;
    }
  if (b != NULL && (b->n_dims != 1 || b->shape[0] != w->shape[0]))
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "bias must have %" G_GINT64_FORMAT " values", w->shape[0]);
      return FALSE;
    }
  if (!kestrel_op_conv_geometry (node, 2, &x->shape[1], &w->shape[2], FALSE, &geo, error))
    return FALSE;
  out[0] = x->shape[0];
  out[1] = geo.out[0];
  out[2] = geo.out[1];
  out[3] = w->shape[0];
  if (r != NULL && (r->n_dims != 4 || memcmp (r->shape, out, sizeof out) != 0))
    {
      g_autofree char *want = kestrel_shape_to_string (4, out);
      g_autofree char *got = kestrel_shape_to_string (r->n_dims, r->shape);
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "residual input is %s, expected %s", got, want);
      return FALSE;
    }
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_FLOAT32, 4, out);
  return TRUE;
}

/* [Cout][Cin][kh][kw] -> [Cout][kh][kw][Cin]: the im2col row order. */
static float *
reorder_weights_khwc (const float *w, gint64 cout, gint64 cin, gint64 kh, gint64 kw)
{
  float *out = g_new (float, cout * cin * kh * kw);

  for (gint64 o = 0; o < cout; o++)
    for (gint64 c = 0; c < cin; c++)
      for (gint64 y = 0; y < kh; y++)
        for (gint64 x = 0; x < kw; x++)
          out[((o * kh + y) * kw + x) * cin + c] = w[((o * cin + c) * kh + y) * kw + x];
  return out;
}

static gboolean
conv_nhwc_prepare (KestrelStep *step, GError **error)
{
  const KestrelNode *node = step->node;
  const KestrelTensorView *x = &step->inputs[0], *w = &step->inputs[1];
  ConvState *state = g_new0 (ConvState, 1);
  const kk_kernels *k = step->kernels;
  const float *weights = w->data;

  step->state = state;
  step->free_state = conv_state_free;
  if (!kestrel_op_conv_geometry (node, 2, &x->shape[1], &w->shape[2], FALSE, &state->geo, error))
    return FALSE;

  state->n = x->shape[0];
  state->in_h = x->shape[1];
  state->in_w = x->shape[2];
  state->cin = x->shape[3];
  state->out_h = state->geo.out[0];
  state->out_w = state->geo.out[1];
  state->cout = w->shape[0];
  state->group = kestrel_node_attr_int (node, "group", 1);
  state->lo = kestrel_node_attr_float (node, "act_lo", -INFINITY);
  state->hi = kestrel_node_attr_float (node, "act_hi", INFINITY);
  state->has_residual = kestrel_node_input (node, 3) >= 0;
  state->bias = g_new0 (float, state->cout);
  if (kestrel_node_input (node, 2) >= 0)
    memcpy (state->bias, step->inputs[2].data, state->cout * sizeof (float));

  const KestrelConvGeometry *geo = &state->geo;
  gboolean unit = geo->kernel[0] == 1 && geo->kernel[1] == 1 && geo->stride[0] == 1
                  && geo->stride[1] == 1 && geo->pad_begin[0] == 0 && geo->pad_begin[1] == 0
                  && geo->pad_end[0] == 0 && geo->pad_end[1] == 0;

  if (state->group == 1 && unit)
    {
      state->path = CONV_POINTWISE;
      state->k = state->cin;
      state->packed = g_new (float, k->gemm_f32_packed_size (state->k, state->cout));
      k->gemm_f32_pack_b (weights, state->k, state->cout, true, state->packed);
    }
  else if (state->group == state->cin && state->cout == state->cin)
    {
      state->path = CONV_DEPTHWISE;
      state->packed = g_new (float, state->cin * geo->kernel[0] * geo->kernel[1]);
      kk_dwconv_f32_pack_weights (weights, state->cin, geo->kernel[0], geo->kernel[1], state->packed);
      state->dw = (kk_dwconv_params) {
        .batch = state->n, .in_h = state->in_h, .in_w = state->in_w, .channels = state->cin,
        .out_h = state->out_h, .out_w = state->out_w,
        .kernel_h = geo->kernel[0], .kernel_w = geo->kernel[1],
        .stride_h = geo->stride[0], .stride_w = geo->stride[1],
        .dilation_h = geo->dilation[0], .dilation_w = geo->dilation[1],
        .pad_top = geo->pad_begin[0], .pad_left = geo->pad_begin[1],
        .weights = state->packed, .bias = state->bias,
        /* With a residual the clamp comes after the addition. */
        .lo = state->has_residual ? -INFINITY : state->lo,
        .hi = state->has_residual ? INFINITY : state->hi,
      };
    }
  else if (state->group == 1)
    {
      g_autofree float *khwc = reorder_weights_khwc (weights, state->cout, state->cin,
                                                     geo->kernel[0], geo->kernel[1]);
      state->path = CONV_IM2COL;
      state->k = geo->kernel[0] * geo->kernel[1] * state->cin;
      state->tile_rows = MAX (1, MIN (64, IM2COL_FLOATS / state->k));
      state->packed = g_new (float, k->gemm_f32_packed_size (state->k, state->cout));
      k->gemm_f32_pack_b (khwc, state->k, state->cout, true, state->packed);
      if (state->k > IM2COL_FLOATS)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                                  "a kernel of %zu taps x channels is larger than the im2col "
                                  "tile (%d)", state->k, IM2COL_FLOATS);
          return FALSE;
        }
    }
  else
    {
      state->path = CONV_GROUPED;
      state->packed = reorder_weights_khwc (weights, state->cout, state->cin / state->group,
                                            geo->kernel[0], geo->kernel[1]);
    }
  return TRUE;
}

typedef struct {
  const KestrelStep *step;
  const ConvState *state;
} ConvRun;

static kk_gemm_epilogue
conv_epilogue (const KestrelStep *step, const ConvState *state, gsize first_row)
{
  kk_gemm_epilogue e = { state->bias, NULL, 0, state->lo, state->hi };

  if (state->has_residual)
    {
      e.residual = (const float *) step->inputs[3].data + first_row * state->cout;
      e.ldr = state->cout;
    }
  return e;
}

static void
conv_pointwise_chunk (gsize begin, gsize end, guint worker, gpointer data)
{
  const ConvRun *run = data;
  const ConvState *s = run->state;
  const KestrelStep *step = run->step;
  gsize m_total = s->n * s->out_h * s->out_w;
  gsize m0 = begin * GEMM_ROWS_PER_CHUNK, m1 = MIN (m_total, end * GEMM_ROWS_PER_CHUNK);
  kk_gemm_epilogue e = conv_epilogue (step, s, m0);

  step->kernels->gemm_f32 (m1 - m0, s->cout, s->k, (const float *) step->inputs[0].data + m0 * s->cin,
                           s->cin, s->packed, (float *) step->outputs[0].data + m0 * s->cout,
                           s->cout, &e);
}

/* Fills `rows` im2col rows (output pixels m0..) with the (ky, kx, c) patch
 * of each pixel, zeros where the patch hangs over the padding. */
static void
im2col_rows (const ConvState *s, const float *x, gsize m0, gsize rows, float *out)
{
  const KestrelConvGeometry *g = &s->geo;

  for (gsize r = 0; r < rows; r++)
    {
      gsize m = m0 + r;
      gint64 ox = m % s->out_w, oy = (m / s->out_w) % s->out_h, img = m / (s->out_w * s->out_h);
      float *row = out + r * s->k;

      for (gint64 ky = 0; ky < g->kernel[0]; ky++)
        {
          gint64 iy = oy * g->stride[0] - g->pad_begin[0] + ky * g->dilation[0];
          gint64 ix0 = ox * g->stride[1] - g->pad_begin[1];

          /* Inside the image with no dilation, a kernel row's taps are one
           * contiguous run of kw * Cin floats: copy it in one go. With few
           * channels (the RGB input layer) per-tap copies would dominate. */
          if (g->dilation[1] == 1 && iy >= 0 && iy < s->in_h && ix0 >= 0
              && ix0 + g->kernel[1] <= s->in_w)
            {
              const float *src = x + ((img * s->in_h + iy) * s->in_w + ix0) * s->cin;
              float *dst = row + ky * g->kernel[1] * s->cin;
              memcpy (dst, src, g->kernel[1] * s->cin * sizeof (float));
              continue;
            }
          for (gint64 kx = 0; kx < g->kernel[1]; kx++)
            {
              gint64 ix = ox * g->stride[1] - g->pad_begin[1] + kx * g->dilation[1];
              float *dst = row + (ky * g->kernel[1] + kx) * s->cin;
              if (iy < 0 || iy >= s->in_h || ix < 0 || ix >= s->in_w)
                memset (dst, 0, s->cin * sizeof (float));
              else
                memcpy (dst, x + ((img * s->in_h + iy) * s->in_w + ix) * s->cin,
                        s->cin * sizeof (float));
            }
        }
    }
}

static void
conv_im2col_chunk (gsize begin, gsize end, guint worker, gpointer data)
{
  const ConvRun *run = data;
  const ConvState *s = run->state;
  const KestrelStep *step = run->step;
  gsize m_total = s->n * s->out_h * s->out_w;
  float tile[IM2COL_FLOATS];

  for (gsize t = begin; t < end; t++)
    {
      gsize m0 = t * s->tile_rows, rows = MIN (s->tile_rows, m_total - m0);
      kk_gemm_epilogue e = conv_epilogue (step, s, m0);

      im2col_rows (s, step->inputs[0].data, m0, rows, tile);
      step->kernels->gemm_f32 (rows, s->cout, s->k, tile, s->k, s->packed,
                               (float *) step->outputs[0].data + m0 * s->cout, s->cout, &e);
    }
}

static void
conv_depthwise_rows (gsize begin, gsize end, guint worker, gpointer data)
{
  const ConvRun *run = data;
  const ConvState *s = run->state;
  const KestrelStep *step = run->step;
  float *y = step->outputs[0].data;

  step->kernels->dwconv_f32_nhwc (&s->dw, step->inputs[0].data, y, begin, end);
  if (s->has_residual)
    {
      gsize row = s->out_w * s->cout;
      const float *r = step->inputs[3].data;
      step->kernels->add_clamp_f32 (y + begin * row, r + begin * row, y + begin * row,
                                    (end - begin) * row, s->lo, s->hi);
    }
}

static void
conv_grouped_rows (gsize begin, gsize end, guint worker, gpointer data)
{
  const ConvRun *run = data;
  const ConvState *s = run->state;
  const KestrelStep *step = run->step;
  const KestrelConvGeometry *g = &s->geo;
  const float *x = step->inputs[0].data;
  const float *r = s->has_residual ? step->inputs[3].data : NULL;
  float *y = step->outputs[0].data;
  gint64 cin_g = s->cin / s->group, cout_g = s->cout / s->group;

  for (gsize row = begin; row < end; row++)
    {
      gint64 img = row / s->out_h, oy = row % s->out_h;
      for (gint64 ox = 0; ox < s->out_w; ox++)
        for (gint64 o = 0; o < s->cout; o++)
          {
            gint64 grp = o / cout_g;
            const float *w = s->packed + o * g->kernel[0] * g->kernel[1] * cin_g;
            float acc = s->bias[o];
            for (gint64 ky = 0; ky < g->kernel[0]; ky++)
              {
                gint64 iy = oy * g->stride[0] - g->pad_begin[0] + ky * g->dilation[0];
                if (iy < 0 || iy >= s->in_h)
                  continue;
                for (gint64 kx = 0; kx < g->kernel[1]; kx++)
                  {
                    gint64 ix = ox * g->stride[1] - g->pad_begin[1] + kx * g->dilation[1];
                    if (ix < 0 || ix >= s->in_w)
                      continue;
                    const float *px = x + ((img * s->in_h + iy) * s->in_w + ix) * s->cin + grp * cin_g;
                    const float *pw = w + (ky * g->kernel[1] + kx) * cin_g;
                    for (gint64 c = 0; c < cin_g; c++)
                      acc += px[c] * pw[c];
                  }
              }
            gsize at = ((img * s->out_h + oy) * s->out_w + ox) * s->cout + o;
            if (r != NULL)
              acc += r[at];
            y[at] = fminf (fmaxf (acc, s->lo), s->hi);
          }
    }
}

static void
conv_nhwc_run (const KestrelStep *step)
{
  const ConvState *s = step->state;
  ConvRun run = { step, s };
  gsize m_total = s->n * s->out_h * s->out_w;

  switch (s->path)
    {
    case CONV_POINTWISE:
      kestrel_step_parallel_for (step, (m_total + GEMM_ROWS_PER_CHUNK - 1) / GEMM_ROWS_PER_CHUNK,
                                 conv_pointwise_chunk, &run);
      break;
    case CONV_IM2COL:
      kestrel_step_parallel_for (step, (m_total + s->tile_rows - 1) / s->tile_rows,
                                 conv_im2col_chunk, &run);
      break;
    case CONV_DEPTHWISE:
      kestrel_step_parallel_for (step, s->n * s->out_h, conv_depthwise_rows, &run);
      break;
    case CONV_GROUPED:
      kestrel_step_parallel_for (step, s->n * s->out_h, conv_grouped_rows, &run);
      break;
    default:
      g_assert_not_reached ();
    }
}

static const KestrelOpDef op_conv_nhwc = {
  .domain = "kestrel",
  .op_type = "ConvNhwc",
  .min_opset = 1,
  .max_opset = G_MAXINT64,
  .infer = conv_nhwc_infer,
  .prepare = conv_nhwc_prepare,
  .run = conv_nhwc_run,
};

/* ---- MaxPoolNhwc --------------------------------------------------------- */

static gboolean
maxpool_nhwc_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x;
  KestrelConvGeometry geo;
  gint64 out[4];

  if (!kestrel_op_check_arity (node, 1, 1, 1, error)
      || !(x = kestrel_op_input (graph, node, 0, error))
      || !kestrel_op_check_float (node, 0, x, error))
    return FALSE;
  if (x->n_dims != 4)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED, "expects a 4-D input");
      return FALSE;
    }
  if (!kestrel_op_conv_geometry (node, 2, &x->shape[1], NULL,
                                 kestrel_node_attr_int (node, "ceil_mode", 0) != 0, &geo, error))
    return FALSE;
  out[0] = x->shape[0];
  out[1] = geo.out[0];
  out[2] = geo.out[1];
  out[3] = x->shape[3];
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_FLOAT32, 4, out);
  return TRUE;
}

static gboolean
maxpool_nhwc_prepare (KestrelStep *step, GError **error)
{
  const KestrelTensorView *x = &step->inputs[0], *y = &step->outputs[0];
  KestrelConvGeometry geo;
  kk_pool_params *p;

  if (!kestrel_op_conv_geometry (step->node, 2, &x->shape[1], NULL,
                                 kestrel_node_attr_int (step->node, "ceil_mode", 0) != 0, &geo, error))
    return FALSE;
  p = g_new0 (kk_pool_params, 1);
  *p = (kk_pool_params) {
    .batch = x->shape[0], .in_h = x->shape[1], .in_w = x->shape[2], .channels = x->shape[3],
    .out_h = y->shape[1], .out_w = y->shape[2],
    .kernel_h = geo.kernel[0], .kernel_w = geo.kernel[1],
    .stride_h = geo.stride[0], .stride_w = geo.stride[1],
    .dilation_h = geo.dilation[0], .dilation_w = geo.dilation[1],
    .pad_top = geo.pad_begin[0], .pad_left = geo.pad_begin[1],
  };
  step->state = p;
  step->free_state = g_free;
  return TRUE;
}

static void
maxpool_nhwc_rows (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;

  step->kernels->maxpool_f32_nhwc (step->state, step->inputs[0].data, step->outputs[0].data,
                                   begin, end);
}

static void
maxpool_nhwc_run (const KestrelStep *step)
{
  const kk_pool_params *p = step->state;

  kestrel_step_parallel_for (step, p->batch * p->out_h, maxpool_nhwc_rows, (gpointer) step);
}

static const KestrelOpDef op_maxpool_nhwc = {
  .domain = "kestrel",
  .op_type = "MaxPoolNhwc",
  .min_opset = 1,
  .max_opset = G_MAXINT64,
  .infer = maxpool_nhwc_infer,
  .prepare = maxpool_nhwc_prepare,
  .run = maxpool_nhwc_run,
};

const KestrelOpDef *const kestrel_ops_fast[] = {
  &op_conv_nhwc,
  &op_maxpool_nhwc,
  NULL,
};
