/* ops-qlinear-conv.c — ONNX ConvInteger (opset 10) and QLinearConv (opset
 * 10), the reference loops.
 *
 *   ConvInteger  x, w (u8 or s8), x_zero_point (scalar), w_zero_point
 *                (scalar or one per output channel) -> y int32:
 *                y = sum (x - x_zp) * (w - w_zp[m]), exact
 *   QLinearConv  x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B
 *                (int32, optional) -> y of y_zp's type:
 *                acc = B[m] + sum (x - x_zp) * (w - w_zp[m])
 *                y = saturate (round_half_even (acc * multiplier[m]) + y_zp)
 *                multiplier[m] = x_scale * w_scale[m] / y_scale in float32,
 *                the product acc * multiplier in double (ONNX's reference
 *                definition)
 *
 * Geometry and attributes are Conv's (ops-nn-conv.c). Each output row is
 * summed in tiles of TILE columns on the stack, taps in a fixed order, so
 * every level and thread split gives the same bits; the integer sums are
 * exact. At simd/full the planning pass (graph/kestrel-passes-qlinear.c)
 * moves the QLinearConvs whose parameters fit Kestrel's integer kernels to
 * kestrel.QLinearConvPacked; the rest run here.
 */
#include "config.h"

#include "ops-nn.h"
#include "ops-qlinear.h"

#include "kestrel-error.h"

#define TILE 256

typedef struct {
  KestrelNnConvParams p;
  gboolean qlinear;
  /* Input indices: x, its zero point, w, its zero point, bias (or -1). */
  guint x, x_zp, w, w_zp;
  gint bias;
} IntConvState;

static gboolean
check_int8 (const KestrelNode *node, guint i, const KestrelValue *v, GError **error)
{
  return kestrel_op_check_dtype (node, i, v, kestrel_qlinear_int8_types, 2, error);
}

static void
set_output (KestrelGraph *graph, const KestrelNode *node, const KestrelValue *x,
            const KestrelNnConvParams *p, KestrelDType dtype)
{
  gint64 out_shape[KESTREL_TENSOR_MAX_DIMS];

  out_shape[0] = p->batch;
  out_shape[1] = p->out_c;
  for (guint d = 0; d < x->n_dims - 2; d++)
    out_shape[2 + d] = p->out[3 - (x->n_dims - 2) + d];
  kestrel_op_set_output (graph, node, 0, dtype, x->n_dims, out_shape);
}

static gboolean
conv_integer_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x, *w;
  KestrelNnConvParams p;

  if (!kestrel_op_check_arity (node, 2, 4, 1, error)
      || !kestrel_nn_check_attrs (node, kestrel_nn_conv_attrs, kestrel_nn_n_conv_attrs, error)
      || !(x = kestrel_op_input (graph, node, 0, error)) || !check_int8 (node, 0, x, error)
      || !(w = kestrel_op_input (graph, node, 1, error)) || !check_int8 (node, 1, w, error)
      || !kestrel_nn_conv_params (node, x->n_dims, x->shape, w->n_dims, w->shape, &p, error)
      || !kestrel_qlinear_check_zero_point (graph, node, 2, "x", x->dtype, -1, error)
      || !kestrel_qlinear_check_zero_point (graph, node, 3, "w", w->dtype, p.out_c, error))
    return FALSE;
  set_output (graph, node, x, &p, KESTREL_DTYPE_INT32);
  return TRUE;
}

static gboolean
qlinear_conv_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelQParamInputs xq = { 1, 2, "x" }, wq = { 4, 5, "w" }, yq = { 6, 7, "y" };
  static const KestrelDType i32 = KESTREL_DTYPE_INT32;
  const KestrelValue *x, *w, *b = NULL;
  KestrelDType x_zp, w_zp, y_zp;
  KestrelNnConvParams p;
  gsize n;

  if (!kestrel_op_check_arity (node, 8, 9, 1, error)
      || !kestrel_nn_check_attrs (node, kestrel_nn_conv_attrs, kestrel_nn_n_conv_attrs, error)
      || !(x = kestrel_op_input (graph, node, 0, error)) || !check_int8 (node, 0, x, error)
      || !(w = kestrel_op_input (graph, node, 3, error)) || !check_int8 (node, 3, w, error)
      || !kestrel_nn_conv_params (node, x->n_dims, x->shape, w->n_dims, w->shape, &p, error)
      || !kestrel_qlinear_check_params (graph, node, &xq, -1, &x->dtype, 1, x->dtype, &x_zp, &n, error)
      || !kestrel_qlinear_check_params (graph, node, &wq, p.out_c, &w->dtype, 1, w->dtype, &w_zp, &n,
                                        error)
      || !kestrel_qlinear_check_params (graph, node, &yq, -1, kestrel_qlinear_int8_types, 2,
                                        KESTREL_DTYPE_UINT8, &y_zp, &n, error))
    return FALSE;
  if (kestrel_node_input (node, 8) >= 0
      && (!(b = kestrel_op_input (graph, node, 8, error)) || !kestrel_op_check_dtype (node, 8, b, &i32, 1, error)
          || !kestrel_nn_check_bias (node, b, p.out_c, error)))
    return FALSE;
  set_output (graph, node, x, &p, y_zp);
  return TRUE;
}

static gboolean
int_conv_prepare (KestrelStep *step, gboolean qlinear, GError **error)
{
  IntConvState *s = g_new0 (IntConvState, 1);

  step->state = s;
  step->free_state = g_free;
  s->qlinear = qlinear;
  s->x = 0;
  s->x_zp = 2;
  s->w = qlinear ? 3 : 1;
  s->w_zp = qlinear ? 5 : 3;
  s->bias = qlinear && step->n_inputs > 8 && step->inputs[8].n_dims > 0 ? 8 : -1;
  return kestrel_nn_conv_params (step->node, step->inputs[s->x].n_dims, step->inputs[s->x].shape,
                                 step->inputs[s->w].n_dims, step->inputs[s->w].shape, &s->p, error);
}

static gboolean
conv_integer_prepare (KestrelStep *step, GError **error)
{
  return int_conv_prepare (step, FALSE, error);
}

static gboolean
qlinear_conv_prepare (KestrelStep *step, GError **error)
{
  return int_conv_prepare (step, TRUE, error);
}

/* acc[0 .. ow1 - ow0) += the taps of output columns [ow0, ow1) of row
 * (n, m, od, oh). */
static void
accumulate_tile (const KestrelStep *step, const IntConvState *s, gint64 n, gint64 m, gint64 od,
                 gint64 oh, gint64 ow0, gint64 ow1, gint32 *acc)
{
  const KestrelNnConvParams *p = &s->p;
  const KestrelTensorView *xv = &step->inputs[s->x], *wv = &step->inputs[s->w];
  gint64 cin_g = p->in_c / p->group, cout_g = p->out_c / p->group, g = m / cout_g;
  gint64 in_plane = p->in[0] * p->in[1] * p->in[2];
  gint64 taps = p->kernel[0] * p->kernel[1] * p->kernel[2];
  gint32 xz = kestrel_qlinear_zero_point (s->x_zp < step->n_inputs ? &step->inputs[s->x_zp] : NULL, 0);
  gint32 wz = kestrel_qlinear_zero_point (s->w_zp < step->n_inputs ? &step->inputs[s->w_zp] : NULL, m);

  for (gint64 c = 0; c < cin_g; c++)
    {
      gsize xc = (n * p->in_c + g * cin_g + c) * in_plane;
      gsize wc = (m * cin_g + c) * taps;

      for (gint64 kd = 0; kd < p->kernel[0]; kd++)
        {
          gint64 id = od * p->stride[0] - p->pad[0] + kd * p->dilation[0];
          if (id < 0 || id >= p->in[0])
            continue;
          for (gint64 kh = 0; kh < p->kernel[1]; kh++)
            {
              gint64 ih = oh * p->stride[1] - p->pad[1] + kh * p->dilation[1];
              gsize xrow;
              if (ih < 0 || ih >= p->in[1])
                continue;
              xrow = xc + (id * p->in[1] + ih) * p->in[2];
              for (gint64 kw = 0; kw < p->kernel[2]; kw++)
                {
                  gint32 wt = kestrel_qlinear_load (wv->dtype, wv->data, wc + (kd * p->kernel[1] + kh) * p->kernel[2] + kw) - wz;
                  gint64 offset = kw * p->dilation[2] - p->pad[2], sw = p->stride[2], b, e;

                  kestrel_nn_valid_range (p->out[2], p->in[2], sw, offset, &b, &e);
                  b = MAX (b, ow0);
                  e = MIN (e, ow1);
                  /* Sums past the s32 range wrap (as ONNX Runtime's do) rather than
                   * being undefined: unsigned arithmetic. */
                  for (gint64 ow = b; ow < e; ow++)
                    acc[ow - ow0] = (gint32) ((guint32) acc[ow - ow0]
                                              + (guint32) ((kestrel_qlinear_load (xv->dtype, xv->data,
                                                                                  xrow + ow * sw + offset)
                                                            - xz) * wt));
                }
            }
        }
    }
}

/* Items are output rows (n, m, od, oh), oh fastest. */
static void
int_conv_rows (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const IntConvState *s = step->state;
  const KestrelNnConvParams *p = &s->p;
  gint64 n_rows = p->out[0] * p->out[1];
  gint32 acc[TILE];

  for (gsize item = begin; item < end; item++)
    {
      gint64 row = (gint64) item % n_rows, nm = (gint64) item / n_rows;
      gint64 m = nm % p->out_c, n = nm / p->out_c;
      gint64 od = row / p->out[1], oh = row % p->out[1];
      gsize out0 = item * p->out[2];
      gint32 b = s->bias >= 0 ? ((const gint32 *) step->inputs[s->bias].data)[m] : 0;
      float multiplier = 0;
      gint32 yz = 0, qmin = 0, qmax = 255;
      gboolean y_s8 = step->outputs[0].dtype == KESTREL_DTYPE_INT8;

      if (s->qlinear)
        {
          multiplier = kestrel_qlinear_scale (&step->inputs[1], 0) * kestrel_qlinear_scale (&step->inputs[4], m);
          multiplier = multiplier / kestrel_qlinear_scale (&step->inputs[6], 0);
          yz = kestrel_qlinear_zero_point (&step->inputs[7], 0);
          qmin = y_s8 ? -128 : 0;
          qmax = y_s8 ? 127 : 255;
        }
      for (gint64 ow0 = 0; ow0 < p->out[2]; ow0 += TILE)
        {
          gint64 ow1 = MIN (ow0 + TILE, p->out[2]);

          for (gint64 i = 0; i < ow1 - ow0; i++)
            acc[i] = b;
          accumulate_tile (step, s, n, m, od, oh, ow0, ow1, acc);
          for (gint64 i = 0; i < ow1 - ow0; i++)
            if (!s->qlinear)
              ((gint32 *) step->outputs[0].data)[out0 + ow0 + i] = acc[i];
            else
              {
                gint32 q = kestrel_qlinear_requantize (acc[i], multiplier, yz, qmin, qmax);
                if (y_s8)
                  ((gint8 *) step->outputs[0].data)[out0 + ow0 + i] = (gint8) q;
                else
                  ((guint8 *) step->outputs[0].data)[out0 + ow0 + i] = (guint8) q;
              }
        }
    }
}

static void
int_conv_run (const KestrelStep *step)
{
  const KestrelNnConvParams *p = &((const IntConvState *) step->state)->p;

  kestrel_step_parallel_for (step, p->batch * p->out_c * p->out[0] * p->out[1], int_conv_rows,
                             (gpointer) step);
}

const KestrelOpDef kestrel_op_conv_integer = {
  .domain = "", .op_type = "ConvInteger", .min_opset = 10, .max_opset = 21,
  .infer = conv_integer_infer, .prepare = conv_integer_prepare, .run = int_conv_run,
};

const KestrelOpDef kestrel_op_qlinear_conv = {
  .domain = "", .op_type = "QLinearConv", .min_opset = 10, .max_opset = 21,
  .infer = qlinear_conv_infer, .prepare = qlinear_conv_prepare, .run = int_conv_run,
};
