/* ops-conv-nchw.c — kestrel.ConvNchw: a convolution the layout pass left
 * in NCHW, run on the fast NHWC convolution between two transposes inside
 * the one step.
 *
 * The fast passes (core/graph/kestrel-passes-fast.c) move a model to NHWC
 * where that costs no extra steps. A Conv whose neighbours have no NHWC
 * form (Resize, ConvTranspose, pooling over the whole map...) stays NCHW,
 * and so do all of them when converting would leave Transposes behind: the
 * reference Conv then ran in plain loops, 20x slower than ONNX Runtime on
 * PaddleOCR's detector. Here the same Conv keeps its NCHW input and output
 * in the plan, and inside the step its input is transposed to NHWC, run
 * through kestrel.ConvNhwc (gemm, depthwise and grouped paths, threads),
 * and its output transposed back, in step scratch. The transposes cost a
 * small fraction of the convolution and no step is added.
 */
#include "config.h"

#include <string.h>

#include "kestrel-error.h"
#include "kestrel-ops-registry.h"

typedef struct {
  KestrelStep inner;              /* the ConvNhwc step, on views of the scratch */
  KestrelTensorView inputs[3];
  KestrelTensorView output;
  gsize x_floats, y_floats;       /* each rounded up to 16 floats (64 bytes) */
} ConvNchwState;

static const KestrelOpDef *
conv_nhwc (void)
{
  return kestrel_op_lookup ("kestrel", "ConvNhwc", 1);
}

static gboolean
conv_nchw_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  /* The attributes, inputs and output of an ONNX Conv. */
  return kestrel_op_lookup ("", "Conv", graph->opset)->infer (graph, node, error);
}

static void
conv_nchw_state_free (gpointer data)
{
  ConvNchwState *s = data;

  if (s->inner.free_state != NULL)
    s->inner.free_state (s->inner.state);
  g_free (s);
}

/* [N,C,H,W] -> [N,H,W,C], data left unset. */
static void
to_nhwc_view (KestrelTensorView *view)
{
  gint64 n = view->shape[0], c = view->shape[1], h = view->shape[2], w = view->shape[3];

  memcpy (view->shape, (gint64[]) { n, h, w, c }, 4 * sizeof (gint64));
  view->data = NULL;
}

static gsize
round_up_16 (gsize n)
{
  return (n + 15) & ~(gsize) 15;
}

static gboolean
conv_nchw_prepare (KestrelStep *step, GError **error)
{
  ConvNchwState *s = g_new0 (ConvNchwState, 1);

  step->state = s;
  step->free_state = conv_nchw_state_free;
  if (step->n_inputs > G_N_ELEMENTS (s->inputs) || step->inputs[0].n_dims != 4)
    {
      kestrel_node_set_error (error, step->node, KESTREL_ERROR_UNSUPPORTED, "kestrel.ConvNchw takes a 2-D Conv");
      return FALSE;
    }

  s->inner = *step;
  s->inner.op = conv_nhwc ();
  s->inner.state = NULL;
  s->inner.free_state = NULL;
  s->inner.scratch = NULL;
  s->inner.scratch_bytes = 0;
  memcpy (s->inputs, step->inputs, step->n_inputs * sizeof (KestrelTensorView));
  to_nhwc_view (&s->inputs[0]);
  s->output = step->outputs[0];
  to_nhwc_view (&s->output);
  s->inner.inputs = s->inputs;
  s->inner.outputs = &s->output;
  s->inner.n_outputs = 1;
  if (!s->inner.op->prepare (&s->inner, error))
    return FALSE;

  s->x_floats = round_up_16 (step->inputs[0].n_elements);
  s->y_floats = round_up_16 (step->outputs[0].n_elements);
  step->scratch_bytes = (s->x_floats + s->y_floats) * sizeof (float) + s->inner.scratch_bytes;
  return TRUE;
}

/* Each image's [rows][cols] to [cols][rows]. A work item is 16 rows of
 * one image, moved in 16x16 blocks so that both sides are read and written
 * a cache line at a time. */
#define BLOCK 16

typedef struct {
  const float *src;
  float *dst;
  gsize rows, cols, row_blocks;
} Transpose;

static void
transpose_blocks (gsize begin, gsize end, guint worker, gpointer data)
{
  const Transpose *t = data;
  gsize plane = t->rows * t->cols;

  for (gsize item = begin; item < end; item++)
    {
      gsize n = item / t->row_blocks, r0 = item % t->row_blocks * BLOCK, r1 = MIN (r0 + BLOCK, t->rows);
      const float *src = t->src + n * plane;
      float *dst = t->dst + n * plane;

      for (gsize c0 = 0; c0 < t->cols; c0 += BLOCK)
        {
          gsize c1 = MIN (c0 + BLOCK, t->cols);
          for (gsize r = r0; r < r1; r++)
            for (gsize c = c0; c < c1; c++)
              dst[c * t->rows + r] = src[r * t->cols + c];
        }
    }
}

static void
transpose (const KestrelStep *step, const float *src, float *dst, gsize images, gsize rows, gsize cols)
{
  Transpose t = { src, dst, rows, cols, (rows + BLOCK - 1) / BLOCK };

  kestrel_step_parallel_for (step, images * t.row_blocks, transpose_blocks, &t);
}

static void
conv_nchw_run (const KestrelStep *step)
{
  ConvNchwState *s = step->state;
  const KestrelTensorView *x = &step->inputs[0], *y = &step->outputs[0];
  float *x_nhwc = step->scratch, *y_nhwc = x_nhwc + s->x_floats;

  /* What the plan set after prepare, the same for the inner step. */
  s->inner.pool = step->pool;
  s->inner.kernels = step->kernels;
  s->inner.level = step->level;
  s->inputs[0].data = x_nhwc;
  s->output.data = y_nhwc;
  s->inner.scratch = s->inner.scratch_bytes > 0 ? y_nhwc + s->y_floats : NULL;

  transpose (step, x->data, x_nhwc, x->shape[0], x->shape[1], x->shape[2] * x->shape[3]);
  s->inner.op->run (&s->inner);
  transpose (step, y_nhwc, y->data, y->shape[0], y->shape[2] * y->shape[3], y->shape[1]);
}

static const KestrelOpDef op_conv_nchw = {
  .domain = "kestrel",
  .op_type = "ConvNchw",
  .min_opset = 1,
  .max_opset = G_MAXINT64,
  .infer = conv_nchw_infer,
  .prepare = conv_nchw_prepare,
  .run = conv_nchw_run,
};

const KestrelOpDef *const kestrel_ops_conv_nchw[] = {
  &op_conv_nchw,
  NULL,
};
