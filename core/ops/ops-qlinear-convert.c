/* ops-qlinear-convert.c — ONNX QuantizeLinear, DequantizeLinear (opsets 10
 * to 21) and DynamicQuantizeLinear (opset 11).
 *
 *   QuantizeLinear     x float32 (or int32) -> y u8 or s8 (the zero point's
 *                      type; u8 when it is omitted, or output_dtype)
 *   DequantizeLinear   x u8, s8 or int32 -> y float32
 *   DynamicQuantizeLinear  x float32 -> y u8, y_scale, y_zero_point from
 *                      the range of x (extended to hold 0)
 *
 * Per tensor, or per slice along `axis` (opset 13 on) with 1-D scales and
 * zero points. Not taken: block-wise quantization (opset 21 block_size),
 * float16 scales and inputs, and the 16-bit, 4-bit and float8 types
 * Kestrel has no tensors of. The float8 `saturate` attribute does not
 * apply to integers.
 *
 * The work is runs of one scale and zero point (a whole tensor, or the
 * inner elements of one slice), converted by the level's kernels
 * (quantize_f32_u8 and friends: ONNX's rounding, the same bits at every
 * instruction set) in chunks over the step's pool.
 */
#include "config.h"

#include "ops-qlinear.h"

#include <math.h>
#include <string.h>

#include "kestrel-error.h"

#define CHUNK 16384

typedef struct {
  gsize outer, channels, inner;   /* x as [outer][channels][inner] */
  gsize chunks_per_run;           /* ceil (inner / CHUNK) */
} Layout;

/* Converts elements [begin, end) of the step's x, all of one scale and
 * zero point. */
typedef void (*ConvertRange) (const KestrelStep *step, gsize begin, gsize end, float scale, gint32 zp);

typedef struct {
  const KestrelStep *step;
  const Layout *layout;
  ConvertRange range;
} RunArgs;

/* ---- Shared checks ------------------------------------------------------- */

/* The axis and the per-slice count of x's quantization parameters at this
 * node: per_axis_dim is x's dimension along `axis` from opset 13 on, -1
 * before (scalars only). */
static gboolean
quant_axis (const KestrelGraph *graph, const KestrelNode *node, const KestrelValue *x, guint *axis,
            gint64 *per_axis_dim, GError **error)
{
  static const char *const ints[] = { "axis", "saturate", "block_size", "output_dtype" };
  const KestrelValue *scale;

  for (gsize a = 0; a < G_N_ELEMENTS (ints); a++)
    if (!kestrel_node_check_attr_type (node, ints[a], KESTREL_ATTR_INT, error))
      return FALSE;
  if (kestrel_node_attr_int (node, "block_size", 0) != 0)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "block-wise quantization (block_size %" G_GINT64_FORMAT ") is not "
                              "supported by Kestrel", kestrel_node_attr_int (node, "block_size", 0));
      return FALSE;
    }
  *axis = 0;
  *per_axis_dim = -1;
  /* The axis matters only to 1-D parameters longer than 1 (a scalar
   * parameter of a 1-D x leaves the default axis 1 out of range). */
  scale = kestrel_graph_value (graph, kestrel_node_input (node, 1));
  if (graph->opset < 13 || x->n_dims == 0 || scale == NULL || !scale->has_shape
      || (scale->n_dims <= 1 && kestrel_value_n_elements (scale) == 1))
    return TRUE;
  if (!kestrel_op_axis (node, kestrel_node_attr_int (node, "axis", 1), x->n_dims, axis, error))
    return FALSE;
  *per_axis_dim = x->shape[*axis];
  return TRUE;
}

/* Computes the layout at plan time from the step's views: the scale's
 * length says per tensor or per axis. */
static gboolean
convert_prepare (KestrelStep *step, GError **error)
{
  Layout *l = g_new0 (Layout, 1);
  const KestrelTensorView *x = &step->inputs[0], *scale = &step->inputs[1];
  gint64 axis = 0;

  step->state = l;
  step->free_state = g_free;
  if (scale->n_elements == 1 || x->n_dims == 0)
    {
      l->outer = 1;
      l->channels = 1;
      l->inner = x->n_elements;
    }
  else
    {
      axis = kestrel_node_attr_int (step->node, "axis", 1);
      if (axis < 0)
        axis += x->n_dims;
      if (axis < 0 || axis >= (gint64) x->n_dims || x->shape[axis] != (gint64) scale->n_elements)
        {
          kestrel_node_set_error (error, step->node, KESTREL_ERROR_CORRUPT,
                                  "the scale's length does not match the axis");
          return FALSE;
        }
      l->outer = kestrel_shape_product (x->shape, 0, axis);
      l->channels = x->shape[axis];
      l->inner = kestrel_shape_product (x->shape, axis + 1, x->n_dims);
    }
  l->chunks_per_run = MAX ((l->inner + CHUNK - 1) / CHUNK, 1);
  return TRUE;
}

/* Work item i: run i / chunks_per_run (one outer index and channel), its
 * chunk i % chunks_per_run. Sets the element range and the channel. */
static void
item_range (const Layout *l, gsize item, gsize *begin, gsize *end, gsize *channel)
{
  gsize run = item / l->chunks_per_run, chunk = item % l->chunks_per_run;
  gsize base = run * l->inner;

  *channel = run % l->channels;
  *begin = base + chunk * CHUNK;
  *end = base + MIN (l->inner, (chunk + 1) * CHUNK);
}

static gsize
n_items (const Layout *l)
{
  return l->outer * l->channels * l->chunks_per_run;
}

static void
convert_items (gsize first, gsize last, guint worker, gpointer data)
{
  const RunArgs *a = data;
  const KestrelStep *step = a->step;
  const KestrelTensorView *zp = step->n_inputs > 2 ? &step->inputs[2] : NULL;

  for (gsize item = first; item < last; item++)
    {
      gsize begin, end, c;

      item_range (a->layout, item, &begin, &end, &c);
      a->range (step, begin, end, kestrel_qlinear_scale (&step->inputs[1], c),
                kestrel_qlinear_zero_point (zp, c));
    }
}

static void
convert_run (const KestrelStep *step, ConvertRange range)
{
  RunArgs a = { step, step->state, range };

  if (step->outputs[0].n_elements > 0)
    kestrel_step_parallel_for (step, n_items (a.layout), convert_items, &a);
}

/* ---- QuantizeLinear ------------------------------------------------------ */

static gboolean
quantize_output_dtype (const KestrelNode *node, KestrelDType zp_dtype, gboolean has_zp,
                       KestrelDType *out, GError **error)
{
  gint64 wanted = kestrel_node_attr_int (node, "output_dtype", 0);
  KestrelDType d;

  *out = zp_dtype;
  if (wanted == 0)
    return TRUE;
  switch (wanted)
    {
    case 2: d = KESTREL_DTYPE_UINT8; break;
    case 3: d = KESTREL_DTYPE_INT8; break;
    default:
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "output_dtype %" G_GINT64_FORMAT " is not supported by Kestrel "
                              "(uint8 is 2, int8 is 3)", wanted);
      return FALSE;
    }
  if (has_zp && d != zp_dtype)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "output_dtype says %s but y_zero_point is %s",
                              kestrel_dtype_get_name (d), kestrel_dtype_get_name (zp_dtype));
      return FALSE;
    }
  *out = d;
  return TRUE;
}

static gboolean
quantize_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  static const KestrelDType x_types[] = { KESTREL_DTYPE_FLOAT32, KESTREL_DTYPE_INT32 };
  static const KestrelDType zp_types[] = { KESTREL_DTYPE_UINT8, KESTREL_DTYPE_INT8 };
  const KestrelQParamInputs q = { 1, 2, "y" };
  const KestrelValue *x;
  KestrelDType zp_dtype, out;
  gint64 per_axis_dim;
  guint axis;
  gsize n_params;

  if (!kestrel_op_check_arity (node, 2, 3, 1, error) || !(x = kestrel_op_input (graph, node, 0, error))
      || !kestrel_op_check_dtype (node, 0, x, x_types, G_N_ELEMENTS (x_types), error)
      || !quant_axis (graph, node, x, &axis, &per_axis_dim, error)
      || !kestrel_qlinear_check_params (graph, node, &q, per_axis_dim, zp_types, G_N_ELEMENTS (zp_types),
                                        KESTREL_DTYPE_UINT8, &zp_dtype, &n_params, error)
      || !quantize_output_dtype (node, zp_dtype, kestrel_node_input (node, 2) >= 0, &out, error))
    return FALSE;
  kestrel_op_set_output (graph, node, 0, out, x->n_dims, x->shape);
  return TRUE;
}

static void
quantize_range (const KestrelStep *step, gsize begin, gsize end, float scale, gint32 z)
{
  const KestrelTensorView *x = &step->inputs[0], *y = &step->outputs[0];
  gboolean s8 = y->dtype == KESTREL_DTYPE_INT8;

  if (x->dtype == KESTREL_DTYPE_INT32)
    for (gsize i = begin; i < end; i++)
      {
        gint32 q = kestrel_qlinear_round_saturate ((float) ((const gint32 *) x->data)[i] / scale, z,
                                                   s8 ? -128 : 0, s8 ? 127 : 255);
        if (s8)
          ((gint8 *) y->data)[i] = (gint8) q;
        else
          ((guint8 *) y->data)[i] = (guint8) q;
      }
  else if (s8)
    step->kernels->quantize_f32_s8 ((const float *) x->data + begin, (gint8 *) y->data + begin,
                                    end - begin, scale, z);
  else
    step->kernels->quantize_f32_u8 ((const float *) x->data + begin, (guint8 *) y->data + begin,
                                    end - begin, scale, z);
}

static void
quantize_run (const KestrelStep *step)
{
  convert_run (step, quantize_range);
}

const KestrelOpDef kestrel_op_quantize_linear = {
  .domain = "", .op_type = "QuantizeLinear", .min_opset = 10, .max_opset = 21,
  .infer = quantize_infer, .prepare = convert_prepare, .run = quantize_run,
};

/* ---- DequantizeLinear ---------------------------------------------------- */

static gboolean
dequantize_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  static const KestrelDType x_types[] = { KESTREL_DTYPE_UINT8, KESTREL_DTYPE_INT8, KESTREL_DTYPE_INT32 };
  const KestrelQParamInputs q = { 1, 2, "x" };
  const KestrelValue *x, *zp;
  KestrelDType zp_dtype;
  gint64 per_axis_dim;
  guint axis;
  gsize n_params;

  if (!kestrel_op_check_arity (node, 2, 3, 1, error) || !(x = kestrel_op_input (graph, node, 0, error))
      || !kestrel_op_check_dtype (node, 0, x, x_types, G_N_ELEMENTS (x_types), error)
      || !quant_axis (graph, node, x, &axis, &per_axis_dim, error)
      || !kestrel_qlinear_check_params (graph, node, &q, per_axis_dim, &x->dtype, 1, x->dtype,
                                        &zp_dtype, &n_params, error))
    return FALSE;
  /* int32 (a bias) has no zero point: it must be absent or 0. */
  zp = kestrel_graph_value (graph, kestrel_node_input (node, 2));
  if (x->dtype == KESTREL_DTYPE_INT32 && zp != NULL && zp->constant != NULL)
    {
      const gint32 *z = kestrel_tensor_get_data (zp->constant);
      for (gsize i = 0; i < n_params; i++)
        if (z[i] != 0)
          {
            kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                    "x_zero_point ('%s') of an int32 input must be 0, element %zu is %d",
                                    zp->name, i, z[i]);
            return FALSE;
          }
    }
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_FLOAT32, x->n_dims, x->shape);
  return TRUE;
}

static void
dequantize_range (const KestrelStep *step, gsize begin, gsize end, float scale, gint32 z)
{
  const KestrelTensorView *x = &step->inputs[0];
  float *y = step->outputs[0].data;

  switch (x->dtype)
    {
    case KESTREL_DTYPE_UINT8:
      step->kernels->dequantize_u8_f32 ((const guint8 *) x->data + begin, y + begin, end - begin, scale, z);
      break;
    case KESTREL_DTYPE_INT8:
      step->kernels->dequantize_s8_f32 ((const gint8 *) x->data + begin, y + begin, end - begin, scale, z);
      break;
    default:
      for (gsize i = begin; i < end; i++)
        y[i] = ((float) ((const gint32 *) x->data)[i] - (float) z) * scale;
      break;
    }
}

static void
dequantize_run (const KestrelStep *step)
{
  convert_run (step, dequantize_range);
}

const KestrelOpDef kestrel_op_dequantize_linear = {
  .domain = "", .op_type = "DequantizeLinear", .min_opset = 10, .max_opset = 21,
  .infer = dequantize_infer, .prepare = convert_prepare, .run = dequantize_run,
};

/* ---- DynamicQuantizeLinear ----------------------------------------------- */

static gboolean
dynamic_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x;

  if (!kestrel_op_check_arity (node, 1, 1, 3, error) || !(x = kestrel_op_input (graph, node, 0, error))
      || !kestrel_op_check_float (node, 0, x, error))
    return FALSE;
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_UINT8, x->n_dims, x->shape);
  kestrel_op_set_output (graph, node, 1, KESTREL_DTYPE_FLOAT32, 0, NULL);
  kestrel_op_set_output (graph, node, 2, KESTREL_DTYPE_UINT8, 0, NULL);
  return TRUE;
}

typedef struct {
  const KestrelStep *step;
  float scale;
  gint32 zero_point;
} DynamicArgs;

static void
dynamic_chunk (gsize begin, gsize end, guint worker, gpointer data)
{
  const DynamicArgs *a = data;
  gsize n = a->step->outputs[0].n_elements, i0 = begin * CHUNK, i1 = MIN (n, end * CHUNK);

  a->step->kernels->quantize_f32_u8 ((const float *) a->step->inputs[0].data + i0,
                                     (guint8 *) a->step->outputs[0].data + i0, i1 - i0, a->scale,
                                     a->zero_point);
}

/* The range of x extended to hold 0 gives the scale (range / 255) and the
 * zero point (round_half_even (0 - min / scale), saturated), in float32
 * as the ONNX definition computes them. NaNs are left out of the range.
 * All zeros (scale 0) quantize to zero point 0 and zeros. */
static void
dynamic_run (const KestrelStep *step)
{
  const float *x = step->inputs[0].data;
  gsize n = step->inputs[0].n_elements;
  float lo = 0.0f, hi = 0.0f;
  DynamicArgs a = { step, 0.0f, 0 };

  for (gsize i = 0; i < n; i++)
    {
      lo = x[i] < lo ? x[i] : lo;
      hi = x[i] > hi ? x[i] : hi;
    }
  a.scale = (hi - lo) / 255.0f;
  if (a.scale > 0.0f && isfinite (a.scale))
    a.zero_point = kestrel_qlinear_round_saturate (0.0f - lo / a.scale, 0, 0, 255);
  if (step->outputs[1].data != NULL)
    *(float *) step->outputs[1].data = a.scale;
  if (step->outputs[2].data != NULL)
    *(guint8 *) step->outputs[2].data = (guint8) a.zero_point;
  if (!(a.scale > 0.0f && isfinite (a.scale)))
    {
      memset (step->outputs[0].data, 0, n);
      return;
    }
  kestrel_step_parallel_for (step, (n + CHUNK - 1) / CHUNK, dynamic_chunk, &a);
}

const KestrelOpDef kestrel_op_dynamic_quantize_linear = {
  .domain = "", .op_type = "DynamicQuantizeLinear", .min_opset = 11, .max_opset = 21,
  .infer = dynamic_infer, .run = dynamic_run,
};
