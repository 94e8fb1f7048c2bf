/* ops-qlinear-gemm.c — ONNX MatMulInteger (opset 10) and QLinearMatMul
 * (opsets 10 and 21), the reference loops.
 *
 *   MatMulInteger  A, B (u8 or s8), a_zero_point (scalar or one per row of
 *                  A), b_zero_point (scalar or one per column of B) -> Y
 *                  int32: sum_k (A - a_zp[m]) * (B - b_zp[n]), exact
 *   QLinearMatMul  a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp -> y
 *                  of y_zp's type: a's parameters per tensor or per row,
 *                  b's per tensor or per column, y's per tensor or per row;
 *                  y = saturate (round_half_even (acc * multiplier) + y_zp),
 *                  multiplier = a_scale * b_scale / y_scale in float32, the
 *                  product in double (ONNX's reference definition)
 *
 * Shapes broadcast as MatMul's (numpy matmul). Each item is one output row,
 * in tiles of TILE columns summed on the stack in k order: the same bits at
 * every level and thread split. At simd/full the planning pass
 * (graph/kestrel-passes-qlinear.c) moves the QLinearMatMuls whose
 * parameters fit Kestrel's integer kernels to kestrel.QLinearMatMulPacked.
 */
#include "config.h"

#include "ops-nn.h"
#include "ops-qlinear.h"

#include "kestrel-error.h"

#define TILE 256

typedef struct {
  KestrelNnMatMulParams p;
  gboolean qlinear;
  guint a, a_zp, b, b_zp;   /* input indices */
} IntMatMulState;

static gboolean
check_int8 (const KestrelNode *node, guint i, const KestrelValue *v, GError **error)
{
  return kestrel_op_check_dtype (node, i, v, kestrel_qlinear_int8_types, 2, error);
}

static gboolean
matmul_integer_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *a, *b;
  KestrelNnMatMulParams p;
  guint out_dims;
  gint64 out_shape[KESTREL_TENSOR_MAX_DIMS];

  if (!kestrel_op_check_arity (node, 2, 4, 1, error)
      || !(a = kestrel_op_input (graph, node, 0, error)) || !check_int8 (node, 0, a, error)
      || !(b = kestrel_op_input (graph, node, 1, error)) || !check_int8 (node, 1, b, error)
      || !kestrel_nn_matmul_params (node, a->n_dims, a->shape, b->n_dims, b->shape, &p, &out_dims,
                                    out_shape, error)
      || !kestrel_qlinear_check_zero_point (graph, node, 2, "a", a->dtype, p.m, error)
      || !kestrel_qlinear_check_zero_point (graph, node, 3, "b", b->dtype, p.n, error))
    return FALSE;
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_INT32, out_dims, out_shape);
  return TRUE;
}

static gboolean
qlinear_matmul_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelQParamInputs aq = { 1, 2, "a" }, bq = { 4, 5, "b" }, yq = { 6, 7, "y" };
  const KestrelValue *a, *b;
  KestrelNnMatMulParams p;
  KestrelDType a_zp, b_zp, y_zp;
  guint out_dims;
  gint64 out_shape[KESTREL_TENSOR_MAX_DIMS];
  gsize n;

  if (!kestrel_op_check_arity (node, 8, 8, 1, error)
      || !(a = kestrel_op_input (graph, node, 0, error)) || !check_int8 (node, 0, a, error)
      || !(b = kestrel_op_input (graph, node, 3, error)) || !check_int8 (node, 3, b, error)
      || !kestrel_nn_matmul_params (node, a->n_dims, a->shape, b->n_dims, b->shape, &p, &out_dims,
                                    out_shape, error)
      || !kestrel_qlinear_check_params (graph, node, &aq, p.m, &a->dtype, 1, a->dtype, &a_zp, &n, error)
      || !kestrel_qlinear_check_params (graph, node, &bq, p.n, &b->dtype, 1, b->dtype, &b_zp, &n, error)
      || !kestrel_qlinear_check_params (graph, node, &yq, p.m, kestrel_qlinear_int8_types, 2,
                                        KESTREL_DTYPE_UINT8, &y_zp, &n, error))
    return FALSE;
  kestrel_op_set_output (graph, node, 0, y_zp, out_dims, out_shape);
  return TRUE;
}

static gboolean
int_matmul_prepare (KestrelStep *step, gboolean qlinear, GError **error)
{
  IntMatMulState *s = g_new0 (IntMatMulState, 1);
  guint out_dims;
  gint64 out_shape[KESTREL_TENSOR_MAX_DIMS];

  step->state = s;
  step->free_state = g_free;
  s->qlinear = qlinear;
  s->a = 0;
  s->a_zp = 2;
  s->b = qlinear ? 3 : 1;
  s->b_zp = qlinear ? 5 : 3;
  return kestrel_nn_matmul_params (step->node, step->inputs[s->a].n_dims, step->inputs[s->a].shape,
                                   step->inputs[s->b].n_dims, step->inputs[s->b].shape, &s->p,
                                   &out_dims, out_shape, error);
}

static gboolean
matmul_integer_prepare (KestrelStep *step, GError **error)
{
  return int_matmul_prepare (step, FALSE, error);
}

static gboolean
qlinear_matmul_prepare (KestrelStep *step, GError **error)
{
  return int_matmul_prepare (step, TRUE, error);
}

static const KestrelTensorView *
optional_view (const KestrelStep *step, guint i)
{
  return i < step->n_inputs ? &step->inputs[i] : NULL;
}

/* Items are output rows (batch, m). */
static void
int_matmul_rows (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const IntMatMulState *s = step->state;
  const KestrelNnMatMulParams *p = &s->p;
  const KestrelTensorView *av = &step->inputs[s->a], *bv = &step->inputs[s->b];
  gboolean y_s8 = step->outputs[0].dtype == KESTREL_DTYPE_INT8;
  gint32 acc[TILE];

  for (gsize item = begin; item < end; item++)
    {
      gint64 m = (gint64) item % p->m, batch = (gint64) item / p->m, rest = batch;
      gint64 a_mat = 0, b_mat = 0;
      gint32 az = kestrel_qlinear_zero_point (optional_view (step, s->a_zp), m);
      gsize a_row, b0;

      for (guint d = p->batch_dims; d-- > 0;)
        {
          gint64 i = rest % p->batch_shape[d];
          rest /= p->batch_shape[d];
          a_mat += i * p->a_stride[d];
          b_mat += i * p->b_stride[d];
        }
      a_row = (a_mat * p->m + m) * p->k;
      b0 = b_mat * p->k * p->n;
      for (gint64 j0 = 0; j0 < p->n; j0 += TILE)
        {
          gint64 jn = MIN (TILE, p->n - j0);

          memset (acc, 0, jn * sizeof (gint32));
          for (gint64 k = 0; k < p->k; k++)
            {
              gint32 av_k = kestrel_qlinear_load (av->dtype, av->data, a_row + k) - az;
              gsize brow = b0 + k * p->n + j0;
              /* unsigned: sums past the s32 range wrap rather than being undefined */
              for (gint64 j = 0; j < jn; j++)
                acc[j] = (gint32) ((guint32) acc[j]
                                   + (guint32) (av_k * (kestrel_qlinear_load (bv->dtype, bv->data, brow + j)
                                                        - kestrel_qlinear_zero_point (optional_view (step, s->b_zp),
                                                                                      j0 + j))));
            }
          for (gint64 j = 0; j < jn; j++)
            {
              gsize o = item * p->n + j0 + j;
              if (!s->qlinear)
                ((gint32 *) step->outputs[0].data)[o] = acc[j];
              else
                {
                  float mult = kestrel_qlinear_scale (&step->inputs[1], m)
                               * kestrel_qlinear_scale (&step->inputs[4], j0 + j);
                  gint32 q;
                  mult = mult / kestrel_qlinear_scale (&step->inputs[6], m);
                  q = kestrel_qlinear_requantize (acc[j], mult, kestrel_qlinear_zero_point (&step->inputs[7], m),
                                                  y_s8 ? -128 : 0, y_s8 ? 127 : 255);
                  if (y_s8)
                    ((gint8 *) step->outputs[0].data)[o] = (gint8) q;
                  else
                    ((guint8 *) step->outputs[0].data)[o] = (guint8) q;
                }
            }
        }
    }
}

static void
int_matmul_run (const KestrelStep *step)
{
  const KestrelNnMatMulParams *p = &((const IntMatMulState *) step->state)->p;

  kestrel_step_parallel_for (step, p->n_batch * p->m, int_matmul_rows, (gpointer) step);
}

const KestrelOpDef kestrel_op_matmul_integer = {
  .domain = "", .op_type = "MatMulInteger", .min_opset = 10, .max_opset = 21,
  .infer = matmul_integer_infer, .prepare = matmul_integer_prepare, .run = int_matmul_run,
};

const KestrelOpDef kestrel_op_qlinear_matmul = {
  .domain = "", .op_type = "QLinearMatMul", .min_opset = 10, .max_opset = 21,
  .infer = qlinear_matmul_infer, .prepare = qlinear_matmul_prepare, .run = int_matmul_run,
};
