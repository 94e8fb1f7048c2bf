/* ops-quant.c — the INT8 operators other than the convolution (see
 * ops-quant.h for the conventions), and the registry group of all of them.
 *
 *   kestrel.QuantizeU8     X float -> Y u8 at (y_scale, y_zero_point), as
 *                          ONNX QuantizeLinear (round half to even)
 *   kestrel.DequantizeU8   X u8 at (x_scale, x_zero_point) -> Y float
 *   kestrel.QMaxPoolNhwc   X [N,H,W,C] u8 -> Y u8, attributes as ONNX
 *                          MaxPool; max commutes with the (monotonic)
 *                          quantisation, so Y has X's parameters
 *   kestrel.QAdd           A, B u8 of one shape (a_scale / a_zero_point,
 *                          b_scale / b_zero_point) -> Y u8 (y_...), with
 *                          the clamp act_lo / act_hi of a fused Relu/Clip
 *   kestrel.QConcat        u8 inputs along `axis`, each rescaled from its
 *                          in_scales[i] / in_zero_points[i] to Y's
 *                          parameters (copied when they are the same);
 *                          with `before` / `after` (a kestrel.PadAxis made
 *                          INT8), that many places along the axis before
 *                          and after them hold Y's zero point: zeros
 *
 * All of them are exact integer arithmetic (or, for the two conversions,
 * the same IEEE operations at every instruction set), so their outputs do
 * not depend on the level or the thread split.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "kestrel-error.h"
#include "kestrel-ops-registry.h"
#include "ops-quant.h"

/* Elements per work item of the elementwise operators. */
#define CHUNK 16384

void
kestrel_quant_clamp_u8 (float lo, float hi, float scale, gint32 zero_point, guint8 *q_lo, guint8 *q_hi)
{
  double l = isfinite (lo) ? zero_point + floor ((double) lo / (double) scale + 0.5) : 0;
  double h = isfinite (hi) ? zero_point + floor ((double) hi / (double) scale + 0.5) : 255;

  *q_lo = (guint8) CLAMP (l, 0, 255);
  *q_hi = (guint8) CLAMP (h, *q_lo, 255);
}

gboolean
kestrel_quant_attr_params (const KestrelNode *node, const char *prefix, float *scale, gint32 *zero_point,
                           GError **error)
{
  g_autofree char *scale_name = g_strconcat (prefix, "_scale", NULL);
  g_autofree char *zp_name = g_strconcat (prefix, "_zero_point", NULL);
  gint64 zp = kestrel_node_attr_int (node, zp_name, -1);

  *scale = kestrel_node_attr_float (node, scale_name, NAN);
  if (!isfinite (*scale) || !(*scale > 0.0f) || zp < 0 || zp > 255)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "needs %s > 0 and %s in 0 .. 255", scale_name, zp_name);
      return FALSE;
    }
  *zero_point = (gint32) zp;
  return TRUE;
}

const KestrelValue *
kestrel_quant_u8_input (const KestrelGraph *graph, const KestrelNode *node, guint i, GError **error)
{
  static const KestrelDType u8 = KESTREL_DTYPE_UINT8;
  const KestrelValue *v = kestrel_op_input (graph, node, i, error);

  if (v == NULL || !kestrel_op_check_dtype (node, i, v, &u8, 1, error))
    return NULL;
  return v;
}

/* ---- QuantizeU8, DequantizeU8 --------------------------------------------- */

typedef struct {
  float scale;
  gint32 zero_point;
} ConvertState;

static gboolean
quantize_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x;
  float scale;
  gint32 zp;

  if (!kestrel_op_check_arity (node, 1, 1, 1, error) || !(x = kestrel_op_input (graph, node, 0, error))
      || !kestrel_op_check_float (node, 0, x, error) || !kestrel_quant_attr_params (node, "y", &scale, &zp, error))
    return FALSE;
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_UINT8, x->n_dims, x->shape);
  return TRUE;
}

static gboolean
dequantize_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x;
  float scale;
  gint32 zp;

  if (!kestrel_op_check_arity (node, 1, 1, 1, error) || !(x = kestrel_quant_u8_input (graph, node, 0, error))
      || !kestrel_quant_attr_params (node, "x", &scale, &zp, error))
    return FALSE;
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_FLOAT32, x->n_dims, x->shape);
  return TRUE;
}

static gboolean
convert_prepare (KestrelStep *step, const char *prefix, GError **error)
{
  ConvertState *s = g_new0 (ConvertState, 1);

  step->state = s;
  step->free_state = g_free;
  return kestrel_quant_attr_params (step->node, prefix, &s->scale, &s->zero_point, error);
}

static gboolean
quantize_prepare (KestrelStep *step, GError **error)
{
  return convert_prepare (step, "y", error);
}

static gboolean
dequantize_prepare (KestrelStep *step, GError **error)
{
  return convert_prepare (step, "x", error);
}

static void
quantize_chunk (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const ConvertState *s = step->state;
  gsize i0 = begin * CHUNK, i1 = MIN (step->outputs[0].n_elements, end * CHUNK);

  step->kernels->quantize_f32_u8 ((const float *) step->inputs[0].data + i0,
                                  (guint8 *) step->outputs[0].data + i0, i1 - i0, s->scale, s->zero_point);
}

static void
dequantize_chunk (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const ConvertState *s = step->state;
  gsize i0 = begin * CHUNK, i1 = MIN (step->outputs[0].n_elements, end * CHUNK);

  step->kernels->dequantize_u8_f32 ((const guint8 *) step->inputs[0].data + i0,
                                    (float *) step->outputs[0].data + i0, i1 - i0, s->scale, s->zero_point);
}

static void
quantize_run (const KestrelStep *step)
{
  kestrel_step_parallel_for (step, (step->outputs[0].n_elements + CHUNK - 1) / CHUNK, quantize_chunk,
                             (gpointer) step);
}

static void
dequantize_run (const KestrelStep *step)
{
  kestrel_step_parallel_for (step, (step->outputs[0].n_elements + CHUNK - 1) / CHUNK, dequantize_chunk,
                             (gpointer) step);
}

static const KestrelOpDef op_quantize = {
  .domain = "kestrel", .op_type = "QuantizeU8", .min_opset = 1, .max_opset = G_MAXINT64,
  .infer = quantize_infer, .prepare = quantize_prepare, .run = quantize_run,
};

static const KestrelOpDef op_dequantize = {
  .domain = "kestrel", .op_type = "DequantizeU8", .min_opset = 1, .max_opset = G_MAXINT64,
  .infer = dequantize_infer, .prepare = dequantize_prepare, .run = dequantize_run,
};

/* ---- QMaxPoolNhwc --------------------------------------------------------- */

static gboolean
qmaxpool_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x;
  gint64 out[4];

  if (!kestrel_op_check_arity (node, 1, 1, 1, error) || !(x = kestrel_quant_u8_input (graph, node, 0, error))
      || !kestrel_op_maxpool_nhwc_shape (node, x, out, error))
    return FALSE;
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_UINT8, 4, out);
  return TRUE;
}

static void
qmaxpool_rows (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;

  step->kernels->maxpool_u8_nhwc (step->state, step->inputs[0].data, step->outputs[0].data, begin, end);
}

static void
qmaxpool_run (const KestrelStep *step)
{
  const kk_pool_params *p = step->state;

  kestrel_step_parallel_for (step, p->batch * p->out_h, qmaxpool_rows, (gpointer) step);
}

static const KestrelOpDef op_qmaxpool = {
  .domain = "kestrel", .op_type = "QMaxPoolNhwc", .min_opset = 1, .max_opset = G_MAXINT64,
  .infer = qmaxpool_infer, .prepare = kestrel_op_maxpool_nhwc_prepare, .run = qmaxpool_run,
};

/* ---- QAdd ----------------------------------------------------------------- */

gboolean
kestrel_quant_add_params (const KestrelNode *node, const char *a, const char *b, const char *clamp,
                          kk_qadd_params *p, GError **error)
{
  g_autofree char *lo_name = g_strconcat (clamp, "_lo", NULL), *hi_name = g_strconcat (clamp, "_hi", NULL);
  float a_scale, b_scale, y_scale;
  gint32 a_zp, b_zp, y_zp;

  if (!kestrel_quant_attr_params (node, a, &a_scale, &a_zp, error)
      || !kestrel_quant_attr_params (node, b, &b_scale, &b_zp, error)
      || !kestrel_quant_attr_params (node, "y", &y_scale, &y_zp, error))
    return FALSE;
  memset (p, 0, sizeof *p);
  if (!kk_qadd_params_from_scales (a_scale, b_scale, y_scale, p))
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "input scales %g and %g are too far from the output's %g",
                              (double) a_scale, (double) b_scale, (double) y_scale);
      return FALSE;
    }
  p->zero_point_a = a_zp;
  p->zero_point_b = b_zp;
  p->zero_point = y_zp;
  kestrel_quant_clamp_u8 (kestrel_node_attr_float (node, lo_name, -INFINITY),
                          kestrel_node_attr_float (node, hi_name, INFINITY), y_scale, y_zp, &p->lo, &p->hi);
  return TRUE;
}

static gboolean
qadd_params (const KestrelNode *node, kk_qadd_params *p, GError **error)
{
  return kestrel_quant_add_params (node, "a", "b", "act", p, error);
}

static gboolean
qadd_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *a, *b;
  kk_qadd_params p;

  if (!kestrel_op_check_arity (node, 2, 2, 1, error) || !(a = kestrel_quant_u8_input (graph, node, 0, error))
      || !(b = kestrel_quant_u8_input (graph, node, 1, error)) || !qadd_params (node, &p, error))
    return FALSE;
  if (a->n_dims != b->n_dims || memcmp (a->shape, b->shape, a->n_dims * sizeof (gint64)) != 0)
    {
      g_autofree char *sa = kestrel_shape_to_string (a->n_dims, a->shape);
      g_autofree char *sb = kestrel_shape_to_string (b->n_dims, b->shape);
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED, "inputs %s and %s differ (no broadcasting)",
                              sa, sb);
      return FALSE;
    }
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_UINT8, a->n_dims, a->shape);
  return TRUE;
}

static gboolean
qadd_prepare (KestrelStep *step, GError **error)
{
  kk_qadd_params *p = g_new0 (kk_qadd_params, 1);

  step->state = p;
  step->free_state = g_free;
  return qadd_params (step->node, p, error);
}

static void
qadd_chunk (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  gsize i0 = begin * CHUNK, i1 = MIN (step->outputs[0].n_elements, end * CHUNK);

  step->kernels->qadd_u8 ((const guint8 *) step->inputs[0].data + i0, (const guint8 *) step->inputs[1].data + i0,
                          (guint8 *) step->outputs[0].data + i0, i1 - i0, step->state);
}

static void
qadd_run (const KestrelStep *step)
{
  kestrel_step_parallel_for (step, (step->outputs[0].n_elements + CHUNK - 1) / CHUNK, qadd_chunk,
                             (gpointer) step);
}

static const KestrelOpDef op_qadd = {
  .domain = "kestrel", .op_type = "QAdd", .min_opset = 1, .max_opset = G_MAXINT64,
  .infer = qadd_infer, .prepare = qadd_prepare, .run = qadd_run,
};

/* ---- QConcat -------------------------------------------------------------- */

typedef struct {
  guint n_inputs;
  gsize outer;            /* product of the dimensions before the axis */
  gsize out_inner;        /* elements of one outer index in the output */
  gsize *inner;           /* per input: elements of one outer index */
  gsize *offset;          /* per input: where they start in the output's */
  kk_qadd_params *rescale;
  gboolean *copy;         /* same parameters as the output: a copy */
  gsize before, after;    /* zero-point elements per outer index around the inputs */
  guint8 fill;            /* Y's zero point */
  gsize outer_per_chunk;
} QConcatState;

static void
qconcat_state_free (gpointer data)
{
  QConcatState *s = data;

  g_free (s->inner);
  g_free (s->offset);
  g_free (s->rescale);
  g_free (s->copy);
  g_free (s);
}

static gboolean
qconcat_check_params (const KestrelNode *node, guint n_inputs, GError **error)
{
  guint n_scales, n_zps;
  const float *scales = kestrel_node_attr_floats (node, "in_scales", &n_scales);
  const gint64 *zps = kestrel_node_attr_ints (node, "in_zero_points", &n_zps);
  float y_scale;
  gint32 y_zp;

  if (!kestrel_quant_attr_params (node, "y", &y_scale, &y_zp, error))
    return FALSE;
  if (scales == NULL || zps == NULL || n_scales != n_inputs || n_zps != n_inputs)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT, "needs in_scales and in_zero_points for its %u inputs",
                              n_inputs);
      return FALSE;
    }
  for (guint i = 0; i < n_inputs; i++)
    {
      kk_qadd_params p;
      if (!isfinite (scales[i]) || !(scales[i] > 0) || zps[i] < 0 || zps[i] > 255
          || !kk_qadd_params_from_scales (scales[i], 0, y_scale, &p))
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                                  "input %u's scale %g and zero point %" G_GINT64_FORMAT
                                  " cannot be rescaled to the output's %g", i, (double) scales[i], zps[i],
                                  (double) y_scale);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
qconcat_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *first;
  guint n = kestrel_node_n_inputs (node), axis;
  gint64 shape[KESTREL_TENSOR_MAX_DIMS];

  if (!kestrel_op_check_arity (node, 1, G_MAXUINT, 1, error) || !(first = kestrel_quant_u8_input (graph, node, 0, error))
      || !kestrel_op_axis (node, kestrel_node_attr_int (node, "axis", 0), first->n_dims, &axis, error)
      || !qconcat_check_params (node, n, error))
    return FALSE;
  memcpy (shape, first->shape, sizeof shape);
  for (guint i = 1; i < n; i++)
    {
      const KestrelValue *x = kestrel_quant_u8_input (graph, node, i, error);
      if (x == NULL)
        return FALSE;
      for (guint d = 0; d < first->n_dims; d++)
        if (x->n_dims != first->n_dims || (d != axis && x->shape[d] != first->shape[d]))
          {
            kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                    "input %u does not match input 0 outside axis %u", i, axis);
            return FALSE;
          }
      shape[axis] += x->shape[axis];
    }
  gint64 before = kestrel_node_attr_int (node, "before", 0), after = kestrel_node_attr_int (node, "after", 0);
  if (before < 0 || after < 0 || before > G_MAXINT32 || after > G_MAXINT32)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "before and after must be between 0 and 2^31 - 1");
      return FALSE;
    }
  shape[axis] += before + after;
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_UINT8, first->n_dims, shape);
  return TRUE;
}

static gboolean
qconcat_prepare (KestrelStep *step, GError **error)
{
  const KestrelNode *node = step->node;
  QConcatState *s = g_new0 (QConcatState, 1);
  const KestrelTensorView *y = &step->outputs[0];
  guint axis, n_scales, n_zps;
  float y_scale;
  gint32 y_zp;
  gsize offset = 0;

  step->state = s;
  step->free_state = qconcat_state_free;
  if (!kestrel_op_axis (node, kestrel_node_attr_int (node, "axis", 0), y->n_dims, &axis, error)
      || !kestrel_quant_attr_params (node, "y", &y_scale, &y_zp, error))
    return FALSE;
  const float *scales = kestrel_node_attr_floats (node, "in_scales", &n_scales);
  const gint64 *zps = kestrel_node_attr_ints (node, "in_zero_points", &n_zps);

  s->n_inputs = step->n_inputs;
  s->outer = kestrel_shape_product (y->shape, 0, axis);
  s->out_inner = kestrel_shape_product (y->shape, axis, y->n_dims);
  gsize unit = kestrel_shape_product (y->shape, axis + 1, y->n_dims);
  s->before = unit * (gsize) kestrel_node_attr_int (node, "before", 0);
  s->after = unit * (gsize) kestrel_node_attr_int (node, "after", 0);
  s->fill = (guint8) y_zp;
  offset = s->before;
  s->inner = g_new (gsize, s->n_inputs);
  s->offset = g_new (gsize, s->n_inputs);
  s->rescale = g_new0 (kk_qadd_params, s->n_inputs);
  s->copy = g_new0 (gboolean, s->n_inputs);
  for (guint i = 0; i < s->n_inputs; i++)
    {
      const KestrelTensorView *x = &step->inputs[i];
      s->inner[i] = kestrel_shape_product (x->shape, axis, x->n_dims);
      s->offset[i] = offset;
      offset += s->inner[i];
      s->copy[i] = scales[i] == y_scale && zps[i] == y_zp;
      if (!kk_qadd_params_from_scales (scales[i], 0, y_scale, &s->rescale[i]))
        return qconcat_check_params (node, s->n_inputs, error);
      s->rescale[i].zero_point_a = (gint32) zps[i];
      s->rescale[i].zero_point = y_zp;
      s->rescale[i].lo = 0;
      s->rescale[i].hi = 255;
    }
  s->outer_per_chunk = MAX (1, CHUNK / MAX (s->out_inner, 1));
  return TRUE;
}

static void
qconcat_chunk (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const QConcatState *s = step->state;
  gsize o0 = begin * s->outer_per_chunk, o1 = MIN (s->outer, end * s->outer_per_chunk);
  guint8 *y = step->outputs[0].data;

  for (gsize o = o0; o < o1; o++)
    {
      memset (y + o * s->out_inner, s->fill, s->before);
      memset (y + (o + 1) * s->out_inner - s->after, s->fill, s->after);
      for (guint i = 0; i < s->n_inputs; i++)
        {
          const guint8 *x = (const guint8 *) step->inputs[i].data + o * s->inner[i];
          guint8 *dst = y + o * s->out_inner + s->offset[i];

          if (s->copy[i])
            kestrel_op_copy_bytes (dst, x, s->inner[i]);
          else
            step->kernels->qrescale_u8 (x, dst, s->inner[i], &s->rescale[i]);
        }
    }
}

static void
qconcat_run (const KestrelStep *step)
{
  const QConcatState *s = step->state;

  kestrel_step_parallel_for (step, (s->outer + s->outer_per_chunk - 1) / s->outer_per_chunk, qconcat_chunk,
                             (gpointer) step);
}

static const KestrelOpDef op_qconcat = {
  .domain = "kestrel", .op_type = "QConcat", .min_opset = 1, .max_opset = G_MAXINT64,
  .infer = qconcat_infer, .prepare = qconcat_prepare, .run = qconcat_run,
};

const KestrelOpDef *const kestrel_ops_quant[] = {
  &kestrel_op_qconv_nhwc,
  &op_qmaxpool,
  &op_qadd,
  &op_qconcat,
  &op_quantize,
  &op_dequantize,
  NULL,
};
