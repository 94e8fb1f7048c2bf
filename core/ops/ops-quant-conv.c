/* ops-quant-conv.c — kestrel.QConvNhwc, the INT8 convolution.
 *
 *   inputs   X [N,H,W,Cin] u8; W [Cout,Cin/g,kh,kw] s8 in [-127, 127]
 *            (constant, ONNX layout); optional B [Cout] s32 (constant, in
 *            units of x_scale * Wscale[c]); Wscale [Cout] float (constant,
 *            the per-channel weight scales)
 *   attrs    as ONNX Conv, plus x_scale / x_zero_point, act_lo / act_hi
 *            (the fused Relu or Clip, real), and either y_scale /
 *            y_zero_point (u8 output) or y_float = 1 (float output)
 *   output   Y [N,OH,OW,Cout]: u8, requantised with the clamp fused
 *            (kk_requant); or float = acc * x_scale * Wscale[c], clamped
 *
 * A residual Add the INT8 pass fused in (one group, u8 output only):
 *   input 4  R [N,OH,OW,Cout] u8 at r_scale / r_zero_point
 *   attrs    t_scale / t_zero_point, the convolution's own result, which
 *            is requantised there (with act_lo / act_hi) exactly as
 *            without the Add; then Y = the requantising add (kk_qadd_params)
 *            of that and R to y_scale / y_zero_point, clamped to the Add's
 *            Relu/Clip add_lo / add_hi. The same bits as the QConvNhwc +
 *            QAdd pair it replaces; the add runs on each chunk of rows
 *            right after the gemm wrote them, still in the L1 cache, rather
 *            than as a pass of its own over the whole tensor.
 *
 * Three shapes of convolution, as in ops-fast.c: pointwise (1x1, stride 1,
 * no padding: one qgemm over the pixels), dense (one group: im2col tiles
 * of u8, padding as the input zero point, and the qgemm), depthwise (one
 * weight per channel, dilation 1: qdwconv, u8 output only). The INT8 pass
 * puts in nothing else.
 *
 * The float output is for a layer whose readers are float (a detector's
 * heads): its accumulators go through one multiply each instead of a u8
 * rounding, which a box coordinate or a logit would feel. The s32
 * accumulators are written where the floats go (the same 4 bytes) and
 * converted in place.
 *
 * INT4 weights (attribute w_int4 = 1, one group only): W holds the
 * widened values m * (q - z) of INT4 blocks along the gemm's k order
 * (kestrel-passes-quant.c); prepare splits them into nibbles and blocks
 * (kestrel_quant_int4_split) and packs them for the INT4 gemm
 * (qgemm_u8s4_*), whose result is defined as the int8 gemm's on the same
 * widened values: everything after the gemm is as above.
 *
 * Every integer result is exact and the float conversion is the same C at
 * every level, so the output is bit-identical at every level and thread
 * count: the rows a thread gets change nothing in any row.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "kestrel-error.h"
#include "ops-quant.h"

#define GEMM_ROWS_PER_CHUNK 48
/* An im2col tile of u8 on the worker's stack. */
#define IM2COL_BYTES 65536

typedef enum {
  QCONV_POINTWISE,
  QCONV_IM2COL,
  QCONV_DEPTHWISE,
} QConvPath;

typedef struct {
  QConvPath path;
  gboolean float_out;
  gint64 n, in_h, in_w, cin, out_h, out_w, cout;
  KestrelConvGeometry geo;
  guint8 x_zero_point;
  gsize k;                /* gemm depth */
  gsize tile_rows;        /* im2col rows per tile */
  void *packed;           /* qgemm-packed, or [kh][kw][C] for depthwise */
  gint32 *bias;           /* depthwise: [C] or NULL */
  gint32 *multiplier;     /* [Cout], u8 output */
  kk_requant rq;
  float *out_scale;       /* [Cout], float output: x_scale * Wscale[c] */
  float lo, hi;           /* float output clamp */
  kk_qdwconv_params dw;
  gboolean residual;      /* Y = qadd (requantised acc, input 4) */
  kk_qadd_params add;
  gboolean int4;          /* packed for qgemm_u8s4_* */
} QConvState;

static void
qconv_state_free (gpointer data)
{
  QConvState *s = data;

  g_free (s->packed);
  g_free (s->bias);
  g_free (s->multiplier);
  g_free (s->out_scale);
  g_free (s);
}

/* The fused residual Add's parameters: from the convolution's own result
 * (t_*) and input 4 (r_*) to the output (y_*), clamped to add_lo / add_hi. */
static gboolean
qconv_residual_params (const KestrelNode *node, kk_qadd_params *add, GError **error)
{
  return kestrel_quant_add_params (node, "t", "r", "add", add, error);
}

static gboolean
qconv_nhwc_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x, *w, *b = NULL, *ws;
  KestrelConvGeometry geo;
  gint64 out[4], group;
  float scale;
  gint32 zp;
  gboolean float_out = kestrel_node_attr_int (node, "y_float", 0) != 0;
  static const KestrelDType s8 = KESTREL_DTYPE_INT8, s32 = KESTREL_DTYPE_INT32;

  /* Input 2 (the bias) may be omitted: only 0 and 1 count as required
   * for the arity check; input 3 is checked by kestrel_op_input(). */
  if (!kestrel_op_check_arity (node, 2, 5, 1, error)
      || !(x = kestrel_quant_u8_input (graph, node, 0, error))
      || !(w = kestrel_op_input (graph, node, 1, error))
      || !kestrel_op_check_dtype (node, 1, w, &s8, 1, error)
      || !(ws = kestrel_op_input (graph, node, 3, error))
      || !kestrel_op_check_float (node, 3, ws, error)
      || !kestrel_quant_attr_params (node, "x", &scale, &zp, error)
      || (!float_out && !kestrel_quant_attr_params (node, "y", &scale, &zp, error)))
    return FALSE;
  if (kestrel_node_input (node, 2) >= 0
      && (!(b = kestrel_op_input (graph, node, 2, error)) || !kestrel_op_check_dtype (node, 2, b, &s32, 1, error)))
    return FALSE;
  if (x->n_dims != 4 || w->n_dims != 4 || w->constant == NULL || ws->constant == NULL
      || (b != NULL && b->constant == NULL))
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "expects a 4-D input and constant 4-D weights, bias and weight scales");
      return FALSE;
    }
  group = kestrel_node_attr_int (node, "group", 1);
  if (!(group == 1 && w->shape[1] == x->shape[3])
      && !(group == x->shape[3] && w->shape[0] == group && w->shape[1] == 1 && !float_out))
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "only one group, or depthwise with u8 output (group %" G_GINT64_FORMAT
                              ", %" G_GINT64_FORMAT " input channels, weights for %" G_GINT64_FORMAT ")",
                              group, x->shape[3], w->shape[1]);
      return FALSE;
    }
  if ((b != NULL && (b->n_dims != 1 || b->shape[0] != w->shape[0]))
      || ws->n_dims != 1 || ws->shape[0] != w->shape[0])
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "bias and weight scales must have %" G_GINT64_FORMAT " values", w->shape[0]);
      return FALSE;
    }
  if (!kestrel_op_conv_geometry (node, 2, &x->shape[1], &w->shape[2], FALSE, &geo, error))
    return FALSE;
  if (group != 1 && (geo.dilation[0] != 1 || geo.dilation[1] != 1))
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED, "depthwise with dilation");
      return FALSE;
    }
  if (kestrel_node_attr_int (node, "w_int4", 0)
      && (group != 1 || w->shape[1] * w->shape[2] * w->shape[3] > KK_QGEMM_S4_MAX_K))
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "INT4 weights need one group and at most %d taps x channels",
                              KK_QGEMM_S4_MAX_K);
      return FALSE;
    }
  if (w->shape[1] * w->shape[2] * w->shape[3] > KK_QGEMM_MAX_K)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED, "more than %d taps x channels",
                              KK_QGEMM_MAX_K);
      return FALSE;
    }
  out[0] = x->shape[0];
  out[1] = geo.out[0];
  out[2] = geo.out[1];
  out[3] = w->shape[0];
  if (kestrel_node_input (node, 4) >= 0)
    {
      const KestrelValue *r = kestrel_quant_u8_input (graph, node, 4, error);
      kk_qadd_params add;

      if (r == NULL || !qconv_residual_params (node, &add, error))
        return FALSE;
      if (group != 1 || float_out || r->n_dims != 4 || memcmp (r->shape, out, sizeof out) != 0)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                                  "a residual input needs one group, a u8 output and the output's shape");
          return FALSE;
        }
    }
  kestrel_op_set_output (graph, node, 0, float_out ? KESTREL_DTYPE_FLOAT32 : KESTREL_DTYPE_UINT8, 4, out);
  return TRUE;
}

static gboolean
qconv_nhwc_prepare (KestrelStep *step, GError **error)
{
  const KestrelNode *node = step->node;
  const KestrelTensorView *x = &step->inputs[0], *w = &step->inputs[1];
  const gint32 *bias = kestrel_node_input (node, 2) >= 0 ? step->inputs[2].data : NULL;
  const float *w_scale = step->inputs[3].data;
  const kk_kernels *k = step->kernels;
  QConvState *s = g_new0 (QConvState, 1);
  float x_scale, y_scale = 1.0f;
  gint32 x_zp, y_zp = 0;

  step->state = s;
  step->free_state = qconv_state_free;
  if (!kestrel_op_conv_geometry (node, 2, &x->shape[1], &w->shape[2], FALSE, &s->geo, error)
      || !kestrel_quant_attr_params (node, "x", &x_scale, &x_zp, error))
    return FALSE;
  s->float_out = kestrel_node_attr_int (node, "y_float", 0) != 0;
  s->residual = kestrel_node_input (node, 4) >= 0;
  /* With a residual, the convolution's own result is requantised at t_*. */
  if (!s->float_out && !kestrel_quant_attr_params (node, s->residual ? "t" : "y", &y_scale, &y_zp, error))
    return FALSE;
  if (s->residual && !qconv_residual_params (node, &s->add, error))
    return FALSE;

  s->n = x->shape[0];
  s->in_h = x->shape[1];
  s->in_w = x->shape[2];
  s->cin = x->shape[3];
  s->out_h = s->geo.out[0];
  s->out_w = s->geo.out[1];
  s->cout = w->shape[0];
  s->x_zero_point = (guint8) x_zp;
  s->lo = kestrel_node_attr_float (node, "act_lo", -INFINITY);
  s->hi = kestrel_node_attr_float (node, "act_hi", INFINITY);

  if (s->float_out)
    {
      s->out_scale = g_new (float, s->cout);
      for (gint64 c = 0; c < s->cout; c++)
        s->out_scale[c] = x_scale * w_scale[c];
    }
  else
    {
      g_autofree double *scales = g_new (double, s->cout);
      for (gint64 c = 0; c < s->cout; c++)
        scales[c] = (double) x_scale * (double) w_scale[c] / (double) y_scale;
      s->multiplier = g_new (gint32, s->cout);
      if (!kk_requant_from_scales (scales, s->cout, s->multiplier, &s->rq.shift))
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                                  "the requantisation multipliers are out of range (input scale %g, "
                                  "output scale %g)", (double) x_scale, (double) y_scale);
          return FALSE;
        }
      s->rq.multiplier = s->multiplier;
      s->rq.zero_point = y_zp;
      kestrel_quant_clamp_u8 (s->lo, s->hi, y_scale, y_zp, &s->rq.lo, &s->rq.hi);
    }

  const KestrelConvGeometry *g = &s->geo;
  const gint64 kh = g->kernel[0], kw = g->kernel[1];
  gboolean unit = kh == 1 && kw == 1 && g->stride[0] == 1 && g->stride[1] == 1 && g->pad_begin[0] == 0
                  && g->pad_begin[1] == 0 && g->pad_end[0] == 0 && g->pad_end[1] == 0;

  if (kestrel_node_attr_int (node, "group", 1) != 1)
    {
      s->path = QCONV_DEPTHWISE;
      s->packed = g_new (gint8, s->cin * kh * kw);
      kk_dwconv_s8_pack_weights (w->data, s->cin, kh, kw, s->packed);
      s->bias = bias != NULL ? g_memdup2 (bias, s->cin * sizeof (gint32)) : NULL;
      s->dw = (kk_qdwconv_params) {
        .batch = s->n, .in_h = s->in_h, .in_w = s->in_w, .channels = s->cin,
        .out_h = s->out_h, .out_w = s->out_w, .kernel_h = kh, .kernel_w = kw,
        .stride_h = g->stride[0], .stride_w = g->stride[1],
        .pad_top = g->pad_begin[0], .pad_left = g->pad_begin[1],
        .weights = s->packed, .bias = s->bias, .input_zero_point = x_zp, .requant = s->rq,
      };
      return TRUE;
    }

  s->path = unit ? QCONV_POINTWISE : QCONV_IM2COL;
  s->k = kh * kw * s->cin;
  g_autofree gint8 *khwc = NULL;
  const gint8 *weights = w->data;
  if (!unit)
    {
      khwc = kestrel_op_weights_to_khwc (weights, 1, s->cout, s->cin, kh, kw);
      weights = khwc;
      s->tile_rows = MAX (1, MIN (64, IM2COL_BYTES / s->k));
    }
  s->int4 = kestrel_node_attr_int (node, "w_int4", 0) != 0;
  if (s->int4)
    {
      const gsize kblocks = (s->k + KK_QGEMM_S4_BLOCK - 1) / KK_QGEMM_S4_BLOCK;
      g_autofree guint8 *q = g_new (guint8, s->k * s->cout);
      g_autofree guint8 *m = g_new (guint8, kblocks * s->cout);
      g_autofree guint8 *z = g_new (guint8, kblocks * s->cout);
      if (!kestrel_quant_int4_split (weights, s->k, s->cout, q, m, z))
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "w_int4 is set but the weights are not INT4 blocks of 32");
          return FALSE;
        }
      s->packed = g_malloc (k->qgemm_u8s4_packed_size (s->k, s->cout));
      k->qgemm_u8s4_pack (q, m, z, s->k, s->cout, true, bias, s->x_zero_point, s->packed);
      return TRUE;
    }
  s->packed = g_malloc (k->qgemm_u8s8_packed_size (s->k, s->cout));
  k->qgemm_u8s8_pack (weights, s->k, s->cout, true, bias, s->x_zero_point, s->packed);
  return TRUE;
}

/* Rows [m0, m0 + rows) of the output from the u8 rows `a` (row stride lda):
 * requantised, or as floats through the s32 accumulators in place. */
static void
qconv_gemm_rows (const KestrelStep *step, const QConvState *s, gsize m0, gsize rows, const guint8 *a,
                 gsize lda)
{
  const kk_kernels *k = step->kernels;

  if (!s->float_out)
    {
      guint8 *y = (guint8 *) step->outputs[0].data + m0 * s->cout;

      (s->int4 ? k->qgemm_u8s4_requant : k->qgemm_u8s8_requant) (rows, s->cout, s->k, a, lda, s->packed, y,
                                                                  s->cout, &s->rq);
      if (s->residual)
        k->qadd_u8 (y, (const guint8 *) step->inputs[4].data + m0 * s->cout, y, rows * s->cout, &s->add);
      return;
    }

  float *y = (float *) step->outputs[0].data + m0 * s->cout;
  gint32 *acc = (gint32 *) (void *) y;
  (s->int4 ? k->qgemm_u8s4_s32 : k->qgemm_u8s8_s32) (rows, s->cout, s->k, a, lda, s->packed, acc, s->cout);
  for (gsize r = 0; r < rows; r++)
    for (gint64 c = 0; c < s->cout; c++)
      {
        gsize i = r * s->cout + c;
        gint32 v;
        float f;

        /* The same 4 bytes: read as s32, written back as float. The
         * product is never NaN, so comparisons clamp it as fminf / fmaxf
         * would, without their calls (GCC keeps them calls for NaN's sake). */
        memcpy (&v, &acc[i], sizeof v);
        f = (float) v * s->out_scale[c];
        f = f < s->lo ? s->lo : f;
        f = f > s->hi ? s->hi : f;
        memcpy (&y[i], &f, sizeof f);
      }
}

static void
qconv_pointwise_chunk (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const QConvState *s = step->state;
  gsize m_total = s->n * s->out_h * s->out_w;
  gsize m0 = begin * GEMM_ROWS_PER_CHUNK, m1 = MIN (m_total, end * GEMM_ROWS_PER_CHUNK);

  qconv_gemm_rows (step, s, m0, m1 - m0, (const guint8 *) step->inputs[0].data + m0 * s->cin, s->cin);
}

/* Fills `rows` im2col rows (output pixels m0..), the input zero point in
 * the padding (real 0). */
static void
qim2col_rows (const QConvState *s, const guint8 *x, gsize m0, gsize rows, guint8 *out)
{
  const KestrelIm2col im = { &s->geo, s->cin, 1, s->x_zero_point };

  kestrel_op_im2col_rows (&im, x, m0, rows, out);
}

static void
qconv_im2col_chunk (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const QConvState *s = step->state;
  gsize m_total = s->n * s->out_h * s->out_w;
  _Alignas (64) guint8 tile[IM2COL_BYTES];

  for (gsize t = begin; t < end; t++)
    {
      gsize m0 = t * s->tile_rows, rows = MIN (s->tile_rows, m_total - m0);

      qim2col_rows (s, step->inputs[0].data, m0, rows, tile);
      qconv_gemm_rows (step, s, m0, rows, tile, s->k);
    }
}

static void
qconv_depthwise_rows (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const QConvState *s = step->state;

  step->kernels->qdwconv_u8_nhwc (&s->dw, step->inputs[0].data, step->outputs[0].data, begin, end);
}

static void
qconv_nhwc_run (const KestrelStep *step)
{
  const QConvState *s = step->state;
  gsize m_total = s->n * s->out_h * s->out_w;

  switch (s->path)
    {
    case QCONV_POINTWISE:
      kestrel_step_parallel_for (step, (m_total + GEMM_ROWS_PER_CHUNK - 1) / GEMM_ROWS_PER_CHUNK,
                                 qconv_pointwise_chunk, (gpointer) step);
      break;
    case QCONV_IM2COL:
      kestrel_step_parallel_for (step, (m_total + s->tile_rows - 1) / s->tile_rows, qconv_im2col_chunk,
                                 (gpointer) step);
      break;
    case QCONV_DEPTHWISE:
      kestrel_step_parallel_for (step, s->n * s->out_h, qconv_depthwise_rows, (gpointer) step);
      break;
    default:
      g_assert_not_reached ();
    }
}

const KestrelOpDef kestrel_op_qconv_nhwc = {
  .domain = "kestrel",
  .op_type = "QConvNhwc",
  .min_opset = 1,
  .max_opset = G_MAXINT64,
  .infer = qconv_nhwc_infer,
  .prepare = qconv_nhwc_prepare,
  .run = qconv_nhwc_run,
};
