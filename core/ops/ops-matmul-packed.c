/* ops-matmul-packed.c — kestrel.MatMulPacked: MatMul by a constant 2-D B
 * (the weights of a linear layer: [K, N]) on the gemm kernels.
 *
 * The reference MatMul multiplies in plain loops. When B is a constant
 * matrix, every row of A (all of A's leading dimensions flattened: A is
 * [..., K], the result [..., N]) meets the same B, so B is packed once at
 * plan time into the gemm's panel layout and the rows go through
 * gemm_f32 in chunks, over the step's threads. The fast passes
 * (core/graph/kestrel-passes-fast.c) choose it at simd and full.
 */
#include "config.h"

#include <math.h>

#include "kestrel-error.h"
#include "kestrel-ops-registry.h"

/* Rows of A handed to the gemm per work item. */
#define ROWS_PER_CHUNK 48

typedef struct {
  gsize rows, k, n;
  float *packed;
} MatMulPacked;

static gboolean
matmul_packed_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  /* The inputs and output of an ONNX MatMul. */
  return kestrel_op_lookup ("", "MatMul", graph->opset)->infer (graph, node, error);
}

static void
matmul_packed_free (gpointer data)
{
  MatMulPacked *s = data;

  g_free (s->packed);
  g_free (s);
}

static gboolean
matmul_packed_prepare (KestrelStep *step, GError **error)
{
  const KestrelTensorView *a = &step->inputs[0], *b = &step->inputs[1];
  MatMulPacked *s = g_new0 (MatMulPacked, 1);
  const kk_kernels *k = step->kernels;

  step->state = s;
  step->free_state = matmul_packed_free;
  if (a->n_dims < 2 || b->n_dims != 2 || a->shape[a->n_dims - 1] != b->shape[0] || b->data == NULL)
    {
      kestrel_node_set_error (error, step->node, KESTREL_ERROR_UNSUPPORTED,
                              "kestrel.MatMulPacked takes A [..., K] and a constant B [K, N]");
      return FALSE;
    }
  s->k = (gsize) b->shape[0];
  s->n = (gsize) b->shape[1];
  s->rows = a->n_elements / MAX (s->k, 1);
  s->packed = g_new (float, k->gemm_f32_packed_size (s->k, s->n));
  k->gemm_f32_pack_b (b->data, s->k, s->n, false, s->packed);
  return TRUE;
}

static void
matmul_packed_chunks (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const MatMulPacked *s = step->state;
  const float *a = step->inputs[0].data;
  float *y = step->outputs[0].data;
  const kk_gemm_epilogue none = { .lo = -INFINITY, .hi = INFINITY };

  for (gsize chunk = begin; chunk < end; chunk++)
    {
      gsize r0 = chunk * ROWS_PER_CHUNK, rows = MIN (ROWS_PER_CHUNK, s->rows - r0);
      step->kernels->gemm_f32 (rows, s->n, s->k, a + r0 * s->k, s->k, s->packed, y + r0 * s->n, s->n, &none);
    }
}

static void
matmul_packed_run (const KestrelStep *step)
{
  const MatMulPacked *s = step->state;

  kestrel_step_parallel_for (step, (s->rows + ROWS_PER_CHUNK - 1) / ROWS_PER_CHUNK, matmul_packed_chunks,
                             (gpointer) step);
}

static const KestrelOpDef op_matmul_packed = {
  .domain = "kestrel",
  .op_type = "MatMulPacked",
  .min_opset = 1,
  .max_opset = G_MAXINT64,
  .infer = matmul_packed_infer,
  .prepare = matmul_packed_prepare,
  .run = matmul_packed_run,
};

const KestrelOpDef *const kestrel_ops_matmul_packed[] = {
  &op_matmul_packed,
  NULL,
};
