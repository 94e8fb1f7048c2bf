/* ops-global-pool-nhwc.c — kestrel.GlobalAveragePoolNhwc: GlobalAveragePool
 * on an NHWC tensor, [N,H,W,C] -> [N,1,1,C].
 *
 * Squeeze-and-excitation blocks (MobileNetV3, PP-LCNet, the PaddleOCR
 * models) average each channel over the whole map, scale the channels by
 * what two 1x1 Convs make of that, and multiply the map by it. Without an
 * NHWC form of the average, the layout pass could not carry the map through
 * such a block, and a whole network stayed NCHW. [N,1,1,C] and [N,C,1,1]
 * are the same bytes, so the Transpose the pass puts after this step is a
 * copy of C floats, and cancels against the next 1x1 Conv's.
 *
 * Each channel's sum runs over the pixels in order, as the reference
 * operator's does, so the results are the same bits: the level's
 * kernels->avgpool_global_f32_nhwc (kernels/pool), whose vectors run along
 * channels.
 */
#include "config.h"

#include <string.h>

#include "kestrel-error.h"
#include "kestrel-op-util.h"
#include "kestrel-ops-registry.h"

static gboolean
global_average_pool_nhwc_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x;

  if (!kestrel_op_check_arity (node, 1, 1, 1, error)
      || (x = kestrel_op_input (graph, node, 0, error)) == NULL
      || !kestrel_op_check_float (node, 0, x, error))
    return FALSE;
  if (x->n_dims != 4)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED, "expects a 4-D NHWC input");
      return FALSE;
    }
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_FLOAT32, 4,
                         (gint64[]) { x->shape[0], 1, 1, x->shape[3] });
  return TRUE;
}

/* Work items are (image, block of channels): the kernel keeps a block's
 * sums in registers while the pixels stream past once. With threads the
 * blocks are 64 channels, so a map of 96 channels still splits in two. */
#define CHANNEL_BLOCK 64

static gint64
channel_block (const KestrelStep *step)
{
  return step->pool != NULL ? CHANNEL_BLOCK : MAX (step->inputs[0].shape[3], 1);
}

static void
global_average_pool_nhwc_blocks (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const KestrelTensorView *in = &step->inputs[0];
  gint64 pixels = in->shape[1] * in->shape[2], channels = in->shape[3];
  gint64 block = channel_block (step), blocks = (channels + block - 1) / block;
  const float *x = in->data;
  float *y = step->outputs[0].data;

  for (gsize item = begin; item < end; item++)
    {
      gint64 n = (gint64) item / blocks, c0 = (gint64) item % blocks * block;

      step->kernels->avgpool_global_f32_nhwc (x + n * pixels * channels + c0, (size_t) pixels,
                                              (size_t) MIN (block, channels - c0),
                                              (size_t) channels, y + n * channels + c0);
    }
}

static void
global_average_pool_nhwc_run (const KestrelStep *step)
{
  const KestrelTensorView *in = &step->inputs[0];
  gint64 block = channel_block (step), blocks = (in->shape[3] + block - 1) / block;

  kestrel_step_parallel_for (step, in->shape[0] * blocks, global_average_pool_nhwc_blocks, (gpointer) step);
}

static const KestrelOpDef op_global_average_pool_nhwc = {
  .domain = "kestrel",
  .op_type = "GlobalAveragePoolNhwc",
  .min_opset = 1,
  .max_opset = G_MAXINT64,
  .infer = global_average_pool_nhwc_infer,
  .run = global_average_pool_nhwc_run,
};

const KestrelOpDef *const kestrel_ops_global_pool_nhwc[] = {
  &op_global_average_pool_nhwc,
  NULL,
};
