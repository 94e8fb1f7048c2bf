/* ops-qlinear-add.c — com.microsoft QLinearAdd (ONNX Runtime's contrib
 * operator, which its quantizer writes), the reference loop.
 *
 *   A, A_scale, A_zero_point, B, B_scale, B_zero_point, C_scale,
 *   C_zero_point (optional) -> C, all u8 or all s8, per-tensor parameters,
 *   A and B broadcast (numpy):
 *   C = saturate (round_half_even ((float (A - A_zp) * A_scale
 *                                   + float (B - B_zp) * B_scale) / C_scale) + C_zp)
 *
 * every step in float32: exactly what DequantizeLinear, Add and
 * QuantizeLinear give one after the other, so a QLinearAdd and the QDQ
 * chain it stands for agree to the bit (ONNX Runtime's own kernel folds the
 * scales differently and may differ from both by one in rare ties).
 */
#include "config.h"

#include "ops-qlinear.h"

#include "kestrel-error.h"

#define CHUNK 4096

typedef struct {
  guint n_dims;
  gint64 shape[KESTREL_TENSOR_MAX_DIMS];
  gint64 a_strides[KESTREL_TENSOR_MAX_DIMS], b_strides[KESTREL_TENSOR_MAX_DIMS];
} AddState;

static gboolean
qlinear_add_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelQParamInputs aq = { 1, 2, "A" }, bq = { 4, 5, "B" }, cq = { 6, 7, "C" };
  const KestrelValue *a, *b;
  KestrelDType zp;
  guint out_dims;
  gint64 out_shape[KESTREL_TENSOR_MAX_DIMS];
  gsize n;

  if (!kestrel_op_check_arity (node, 7, 8, 1, error)
      || !(a = kestrel_op_input (graph, node, 0, error))
      || !kestrel_op_check_dtype (node, 0, a, kestrel_qlinear_int8_types, 2, error)
      || !(b = kestrel_op_input (graph, node, 3, error))
      || !kestrel_op_check_dtype (node, 3, b, &a->dtype, 1, error)
      || !kestrel_op_broadcast_shapes (node, a->n_dims, a->shape, b->n_dims, b->shape, &out_dims,
                                       out_shape, error)
      || !kestrel_qlinear_check_params (graph, node, &aq, -1, &a->dtype, 1, a->dtype, &zp, &n, error)
      || !kestrel_qlinear_check_params (graph, node, &bq, -1, &a->dtype, 1, a->dtype, &zp, &n, error)
      || !kestrel_qlinear_check_params (graph, node, &cq, -1, &a->dtype, 1, a->dtype, &zp, &n, error))
    return FALSE;
  kestrel_op_set_output (graph, node, 0, a->dtype, out_dims, out_shape);
  return TRUE;
}

static gboolean
qlinear_add_prepare (KestrelStep *step, GError **error)
{
  AddState *s = g_new0 (AddState, 1);
  const KestrelTensorView *a = &step->inputs[0], *b = &step->inputs[3], *y = &step->outputs[0];

  step->state = s;
  step->free_state = g_free;
  s->n_dims = y->n_dims;
  memcpy (s->shape, y->shape, sizeof s->shape);
  kestrel_op_broadcast_strides (y->n_dims, y->shape, a->n_dims, a->shape, s->a_strides);
  kestrel_op_broadcast_strides (y->n_dims, y->shape, b->n_dims, b->shape, s->b_strides);
  return TRUE;
}

static void
qlinear_add_chunk (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const AddState *s = step->state;
  const KestrelTensorView *av = &step->inputs[0], *bv = &step->inputs[3], *y = &step->outputs[0];
  gboolean s8 = y->dtype == KESTREL_DTYPE_INT8;
  float a_scale = kestrel_qlinear_scale (&step->inputs[1], 0);
  float b_scale = kestrel_qlinear_scale (&step->inputs[4], 0);
  float c_scale = kestrel_qlinear_scale (&step->inputs[6], 0);
  gint32 az = kestrel_qlinear_zero_point (&step->inputs[2], 0);
  gint32 bz = kestrel_qlinear_zero_point (&step->inputs[5], 0);
  gint32 cz = kestrel_qlinear_zero_point (step->n_inputs > 7 ? &step->inputs[7] : NULL, 0);
  gsize i0 = begin * CHUNK, i1 = MIN (y->n_elements, end * CHUNK);

  for (gsize i = i0; i < i1; i++)
    {
      gsize rest = i, ai = 0, bi = 0;
      float fa, fb;
      gint32 q;

      for (guint d = s->n_dims; d-- > 0;)
        {
          gsize c = rest % s->shape[d];
          rest /= s->shape[d];
          ai += c * s->a_strides[d];
          bi += c * s->b_strides[d];
        }
      fa = ((float) kestrel_qlinear_load (av->dtype, av->data, ai) - (float) az) * a_scale;
      fb = ((float) kestrel_qlinear_load (bv->dtype, bv->data, bi) - (float) bz) * b_scale;
      q = kestrel_qlinear_round_saturate ((fa + fb) / c_scale, cz, s8 ? -128 : 0, s8 ? 127 : 255);
      if (s8)
        ((gint8 *) y->data)[i] = (gint8) q;
      else
        ((guint8 *) y->data)[i] = (guint8) q;
    }
}

static void
qlinear_add_run (const KestrelStep *step)
{
  kestrel_step_parallel_for (step, (step->outputs[0].n_elements + CHUNK - 1) / CHUNK, qlinear_add_chunk,
                             (gpointer) step);
}

const KestrelOpDef kestrel_op_qlinear_add = {
  .domain = "com.microsoft", .op_type = "QLinearAdd", .min_opset = 1, .max_opset = G_MAXINT64,
  .infer = qlinear_add_infer, .prepare = qlinear_add_prepare, .run = qlinear_add_run,
};
