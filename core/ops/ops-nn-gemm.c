/* ops-nn-gemm.c — Gemm and MatMul, ONNX semantics, float32.
 *
 * Both compute one block of up to ROW_BLOCK output columns of one output row
 * per work item, summing over k in ascending order into a small stack
 * accumulator: the k-outer loop reads rows of B contiguously, and each output
 * element's sum has the same order however the items are split between
 * threads. Blocks of columns (not whole rows) are the unit so that a
 * single-row product, the usual classifier head at batch 1, still spreads
 * over the pool.
 */
#include "config.h"

#include "ops-nn.h"

#include <string.h>

#include "kestrel-error.h"

#define ROW_BLOCK 64

/* acc[j] = sum_k a[k * a_step] * B(k, j0 + j) for j < jn, k ascending.
 * B is [K][N] row-major, or [N][K] when b_trans. */
static void
row_block (const float *a, gint64 a_step, const float *b, gint64 k_count, gint64 n,
           gboolean b_trans, gint64 j0, gint64 jn, float *acc)
{
  if (!b_trans)
    {
      for (gint64 j = 0; j < jn; j++)
        acc[j] = 0.0f;
      for (gint64 k = 0; k < k_count; k++)
        {
          float av = a[k * a_step];
          const float *brow = b + k * n + j0;
          for (gint64 j = 0; j < jn; j++)
            acc[j] += av * brow[j];
        }
    }
  else
    {
      for (gint64 j = 0; j < jn; j++)
        {
          const float *bcol = b + (j0 + j) * k_count;
          float sum = 0.0f;
          for (gint64 k = 0; k < k_count; k++)
            sum += a[k * a_step] * bcol[k];
          acc[j] = sum;
        }
    }
}

/* ---- Gemm ---------------------------------------------------------------- */

typedef struct {
  gint64 m, n, k;
  gboolean trans_a, trans_b;
  float alpha, beta;
  gint64 c_row_stride, c_col_stride;  /* 0 along a broadcast dimension */
} GemmParams;

static const KestrelNnAttr gemm_attrs[] = {
  { "alpha", KESTREL_ATTR_FLOAT },
  { "beta", KESTREL_ATTR_FLOAT },
  { "transA", KESTREL_ATTR_INT },
  { "transB", KESTREL_ATTR_INT },
};

/* c_dims/c_shape describe C, or c_dims == G_MAXUINT when C is absent. */
static gboolean
gemm_params (const KestrelNode *node, guint a_dims, const gint64 *a_shape, guint b_dims,
             const gint64 *b_shape, guint c_dims, const gint64 *c_shape, GemmParams *p,
             GError **error)
{
  gint64 k_b;

  memset (p, 0, sizeof *p);
  p->trans_a = kestrel_node_attr_int (node, "transA", 0) != 0;
  p->trans_b = kestrel_node_attr_int (node, "transB", 0) != 0;
  p->alpha = kestrel_node_attr_float (node, "alpha", 1.0f);
  p->beta = kestrel_node_attr_float (node, "beta", 1.0f);

  if (a_dims != 2 || b_dims != 2)
    {
      g_autofree char *as = kestrel_shape_to_string (a_dims, a_shape);
      g_autofree char *bs = kestrel_shape_to_string (b_dims, b_shape);
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "inputs A %s and B %s must both be matrices (rank 2)", as, bs);
      return FALSE;
    }
  p->m = p->trans_a ? a_shape[1] : a_shape[0];
  p->k = p->trans_a ? a_shape[0] : a_shape[1];
  k_b = p->trans_b ? b_shape[1] : b_shape[0];
  p->n = p->trans_b ? b_shape[0] : b_shape[1];
  if (k_b != p->k)
    {
      g_autofree char *as = kestrel_shape_to_string (a_dims, a_shape);
      g_autofree char *bs = kestrel_shape_to_string (b_dims, b_shape);
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "A %s%s and B %s%s do not agree on K (%" G_GINT64_FORMAT " vs %"
                              G_GINT64_FORMAT ")", as, p->trans_a ? " transposed" : "", bs,
                              p->trans_b ? " transposed" : "", p->k, k_b);
      return FALSE;
    }

  if (c_dims != G_MAXUINT)
    {
      /* C broadcasts one way to [M, N]: aligned to the right, each
       * dimension 1 or equal. */
      gint64 rows = c_dims >= 2 ? c_shape[c_dims - 2] : 1;
      gint64 cols = c_dims >= 1 ? c_shape[c_dims - 1] : 1;
      if (c_dims > 2 || (rows != 1 && rows != p->m) || (cols != 1 && cols != p->n))
        {
          g_autofree char *cs = kestrel_shape_to_string (c_dims, c_shape);
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "C %s cannot be broadcast to [%" G_GINT64_FORMAT ",%"
                                  G_GINT64_FORMAT "]", cs, p->m, p->n);
          return FALSE;
        }
      p->c_col_stride = cols == 1 ? 0 : 1;
      p->c_row_stride = rows == 1 ? 0 : cols;
    }
  return TRUE;
}

static gboolean
gemm_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *a, *b, *c = NULL;
  GemmParams p;
  gint64 out_shape[2];

  if (!kestrel_op_check_arity (node, 2, 3, 1, error)
      || !kestrel_nn_check_attrs (node, gemm_attrs, G_N_ELEMENTS (gemm_attrs), error)
      || (a = kestrel_op_input (graph, node, 0, error)) == NULL
      || !kestrel_op_check_float (node, 0, a, error)
      || (b = kestrel_op_input (graph, node, 1, error)) == NULL
      || !kestrel_op_check_float (node, 1, b, error))
    return FALSE;
  if (kestrel_node_input (node, 2) >= 0
      && ((c = kestrel_op_input (graph, node, 2, error)) == NULL
          || !kestrel_op_check_float (node, 2, c, error)))
    return FALSE;
  if (!gemm_params (node, a->n_dims, a->shape, b->n_dims, b->shape,
                    c != NULL ? c->n_dims : G_MAXUINT, c != NULL ? c->shape : NULL, &p, error))
    return FALSE;
  out_shape[0] = p.m;
  out_shape[1] = p.n;
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_FLOAT32, 2, out_shape);
  return TRUE;
}

static gboolean
gemm_prepare (KestrelStep *step, GError **error)
{
  gboolean has_c = step->n_inputs > 2 && kestrel_node_input (step->node, 2) >= 0;
  GemmParams *p = g_new (GemmParams, 1);

  step->state = p;
  step->free_state = g_free;
  return gemm_params (step->node, step->inputs[0].n_dims, step->inputs[0].shape,
                      step->inputs[1].n_dims, step->inputs[1].shape,
                      has_c ? step->inputs[2].n_dims : G_MAXUINT,
                      has_c ? step->inputs[2].shape : NULL, p, error);
}

static void
gemm_items (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const GemmParams *p = step->state;
  const float *a = step->inputs[0].data;
  const float *b = step->inputs[1].data;
  const float *c = step->n_inputs > 2 ? step->inputs[2].data : NULL;
  float *y = step->outputs[0].data;
  gint64 n_blocks = (p->n + ROW_BLOCK - 1) / ROW_BLOCK;
  float acc[ROW_BLOCK];

  for (gsize item = begin; item < end; item++)
    {
      gint64 m = (gint64) item / n_blocks, j0 = (gint64) item % n_blocks * ROW_BLOCK;
      gint64 jn = MIN (ROW_BLOCK, p->n - j0);
      const float *a_row = p->trans_a ? a + m : a + m * p->k;

      row_block (a_row, p->trans_a ? p->m : 1, b, p->k, p->n, p->trans_b, j0, jn, acc);
      for (gint64 j = 0; j < jn; j++)
        {
          float v = p->alpha * acc[j];
          if (c != NULL && p->beta != 0.0f)
            v += p->beta * c[m * p->c_row_stride + (j0 + j) * p->c_col_stride];
          y[m * p->n + j0 + j] = v;
        }
    }
}

static void
gemm_run (const KestrelStep *step)
{
  const GemmParams *p = step->state;

  kestrel_step_parallel_for (step, p->m * ((p->n + ROW_BLOCK - 1) / ROW_BLOCK), gemm_items,
                             (gpointer) step);
}

/* Gemm-7 made C broadcast one way, where -6 broadcast it the same way only
 * with broadcast = 1 and otherwise required C's full shape (a case of the
 * same rule); -11 made C optional, which earlier opsets are allowed here
 * too since it changes nothing for valid models. */
const KestrelOpDef kestrel_op_gemm = {
  .domain = "",
  .op_type = "Gemm",
  .min_opset = 6,
  .max_opset = 21,
  .infer = gemm_infer,
  .prepare = gemm_prepare,
  .run = gemm_run,
};

/* ---- MatMul --------------------------------------------------------------- */

typedef KestrelNnMatMulParams MatMulParams;

gboolean
kestrel_nn_matmul_params (const KestrelNode *node, guint a_dims, const gint64 *a_shape, guint b_dims,
               const gint64 *b_shape, MatMulParams *p, guint *out_dims, gint64 *out_shape,
               GError **error)
{
  guint a_batch = a_dims > 2 ? a_dims - 2 : 0, b_batch = b_dims > 2 ? b_dims - 2 : 0;
  gint64 k_b, a_mat_stride, b_mat_stride;

  memset (p, 0, sizeof *p);
  if (a_dims < 1 || b_dims < 1)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "inputs must have rank 1 or more, not scalars");
      return FALSE;
    }
  p->m = a_dims >= 2 ? a_shape[a_dims - 2] : 1;
  p->k = a_shape[a_dims - 1];
  k_b = b_dims >= 2 ? b_shape[b_dims - 2] : b_shape[0];
  p->n = b_dims >= 2 ? b_shape[b_dims - 1] : 1;
  if (k_b != p->k)
    {
      g_autofree char *as = kestrel_shape_to_string (a_dims, a_shape);
      g_autofree char *bs = kestrel_shape_to_string (b_dims, b_shape);
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "A %s and B %s do not agree on K (%" G_GINT64_FORMAT " vs %"
                              G_GINT64_FORMAT ")", as, bs, p->k, k_b);
      return FALSE;
    }
  if (!kestrel_op_broadcast_shapes (node, a_batch, a_shape, b_batch, b_shape, &p->batch_dims,
                                    p->batch_shape, error))
    return FALSE;
  if (p->batch_dims + 2 > KESTREL_TENSOR_MAX_DIMS)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "the result would have more than %d dimensions",
                              KESTREL_TENSOR_MAX_DIMS);
      return FALSE;
    }

  a_mat_stride = 1;
  b_mat_stride = 1;
  for (guint d = p->batch_dims; d-- > 0;)
    {
      /* Right-aligned: batch dim d of the result is dim d - offset of A. */
      guint a_off = p->batch_dims - a_batch, b_off = p->batch_dims - b_batch;
      gint64 ad = d >= a_off ? a_shape[d - a_off] : 1;
      gint64 bd = d >= b_off ? b_shape[d - b_off] : 1;
      p->a_stride[d] = ad == 1 ? 0 : a_mat_stride;
      p->b_stride[d] = bd == 1 ? 0 : b_mat_stride;
      a_mat_stride *= ad;
      b_mat_stride *= bd;
    }
  p->n_batch = kestrel_shape_product (p->batch_shape, 0, p->batch_dims);

  *out_dims = 0;
  for (guint d = 0; d < p->batch_dims; d++)
    out_shape[(*out_dims)++] = p->batch_shape[d];
  if (a_dims >= 2)
    out_shape[(*out_dims)++] = p->m;
  if (b_dims >= 2)
    out_shape[(*out_dims)++] = p->n;
  return TRUE;
}

static gboolean
matmul_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *a, *b;
  MatMulParams p;
  guint out_dims;
  gint64 out_shape[KESTREL_TENSOR_MAX_DIMS];

  if (!kestrel_op_check_arity (node, 2, 2, 1, error)
      || (a = kestrel_op_input (graph, node, 0, error)) == NULL
      || !kestrel_op_check_float (node, 0, a, error)
      || (b = kestrel_op_input (graph, node, 1, error)) == NULL
      || !kestrel_op_check_float (node, 1, b, error)
      || !kestrel_nn_matmul_params (node, a->n_dims, a->shape, b->n_dims, b->shape, &p, &out_dims, out_shape,
                         error))
    return FALSE;
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_FLOAT32, out_dims, out_shape);
  return TRUE;
}

static gboolean
matmul_prepare (KestrelStep *step, GError **error)
{
  MatMulParams *p = g_new (MatMulParams, 1);
  guint out_dims;
  gint64 out_shape[KESTREL_TENSOR_MAX_DIMS];

  step->state = p;
  step->free_state = g_free;
  return kestrel_nn_matmul_params (step->node, step->inputs[0].n_dims, step->inputs[0].shape,
                        step->inputs[1].n_dims, step->inputs[1].shape, p, &out_dims, out_shape,
                        error);
}

/* Items are (batch, row, column block), column block fastest. */
static void
matmul_items (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const MatMulParams *p = step->state;
  const float *a = step->inputs[0].data;
  const float *b = step->inputs[1].data;
  float *y = step->outputs[0].data;
  gint64 n_blocks = (p->n + ROW_BLOCK - 1) / ROW_BLOCK;

  for (gsize item = begin; item < end; item++)
    {
      gint64 j0 = (gint64) item % n_blocks * ROW_BLOCK, jn = MIN (ROW_BLOCK, p->n - j0);
      gint64 row = (gint64) item / n_blocks;
      gint64 m = row % p->m, batch = row / p->m, rest = batch;
      gint64 a_mat = 0, b_mat = 0;
      float acc[ROW_BLOCK];

      for (guint d = p->batch_dims; d-- > 0;)
        {
          gint64 i = rest % p->batch_shape[d];
          rest /= p->batch_shape[d];
          a_mat += i * p->a_stride[d];
          b_mat += i * p->b_stride[d];
        }
      row_block (a + (a_mat * p->m + m) * p->k, 1, b + b_mat * p->k * p->n, p->k, p->n, FALSE,
                 j0, jn, acc);
      memcpy (y + row * p->n + j0, acc, jn * sizeof (float));
    }
}

static void
matmul_run (const KestrelStep *step)
{
  const MatMulParams *p = step->state;

  kestrel_step_parallel_for (step, p->n_batch * p->m * ((p->n + ROW_BLOCK - 1) / ROW_BLOCK),
                             matmul_items, (gpointer) step);
}

const KestrelOpDef kestrel_op_matmul = {
  .domain = "",
  .op_type = "MatMul",
  .min_opset = 1, /* unchanged in meaning since its first version */
  .max_opset = 21,
  .infer = matmul_infer,
  .prepare = matmul_prepare,
  .run = matmul_run,
};
