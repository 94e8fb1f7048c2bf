/* kestrel-passes-fp16.c — the FP16 rewrite (kestrel-passes.h).
 *
 * FP16 plans keep weights as IEEE half: on a graph from
 * kestrel_graph_new_fast() the weights of every kestrel.ConvNhwc with one
 * group (pointwise, and dense through im2col: the gemm kernels' gemm_f16)
 * or one weight per channel (depthwise: dwconv_f16_nhwc), and both weights
 * of every kestrel.DwPwNhwc, become float16 constants, each rounded to the
 * nearest half. Activations, biases and accumulation stay FP32; the kernels
 * widen the halves as they load them. Depthwise weights are few (kh * kw
 * per channel), but with the gemm layers halved they were a quarter of
 * what BlazeFace's FP16 plan kept (0.685x FP32 front), so they go too.
 *
 * What stays FP32, and why:
 *  - grouped convolutions other than depthwise and the reference operators
 *    (Gemm, MatMul...): no FP16 kernel,
 *  - a layer with a weight beyond the half range (|w| > 65504 would
 *    become Inf) or named in fp32_layers.
 * kestrel_plan_get_step_precision() reports FP16 for the steps this pass
 * changed, FP32 for the rest.
 */
#include "config.h"

#include <math.h>

#include "kestrel-kernels.h"
#include "kestrel-passes.h"

static gboolean
in_list (const char *const *list, const char *name)
{
  for (guint i = 0; list != NULL && list[i] != NULL; i++)
    if (g_strcmp0 (list[i], name) == 0)
      return TRUE;
  return FALSE;
}

/* One weight per channel (the operator's CONV_DEPTHWISE path): group equal
 * to the input channels and to the output channels. */
static gboolean
is_depthwise (const KestrelGraph *graph, const KestrelNode *node)
{
  const KestrelValue *x = kestrel_graph_value (graph, kestrel_node_input (node, 0));
  const KestrelValue *w = kestrel_graph_value (graph, kestrel_node_input (node, 1));
  gint64 group = kestrel_node_attr_int (node, "group", 1);

  return x != NULL && w != NULL && x->has_shape && x->n_dims == 4 && w->has_shape && w->n_dims == 4
         && group == x->shape[3] && w->shape[0] == group && w->shape[1] == 1;
}

/* Replaces input `slot` of node (a float32 constant) by its half-rounded
 * float16 copy. FALSE, leaving the node alone, when a finite weight is
 * beyond the half range. */
static gboolean
weights_to_half (KestrelGraph *graph, KestrelNode *node, guint slot)
{
  const KestrelValue *w = kestrel_graph_value (graph, kestrel_node_input (node, slot));
  const kk_kernels *k = kk_kernels_get (KK_ISA_SCALAR);

  if (w == NULL || w->constant == NULL || w->dtype != KESTREL_DTYPE_FLOAT32)
    return FALSE;

  gsize n = kestrel_tensor_get_n_elements (w->constant);
  const float *data = kestrel_tensor_get_data (w->constant);
  g_autoptr (KestrelTensor) half = kestrel_tensor_new (KESTREL_DTYPE_FLOAT16, w->n_dims, w->shape, NULL);
  guint16 *h = kestrel_tensor_get_data (half);

  k->f32_to_f16 (data, h, n);
  for (gsize i = 0; i < n; i++)
    if ((h[i] & 0x7c00u) == 0x7c00u && isfinite (data[i]))
      return FALSE;

  g_autofree char *hint = g_strconcat (w->name, "_fp16", NULL);
  gint value = kestrel_graph_new_constant (graph, hint, half);
  g_array_index (node->inputs, gint, slot) = value;
  return TRUE;
}

void
kestrel_graph_to_fp16 (KestrelGraph *graph, const char *const *fp32_layers)
{
  for (guint i = 0; i < graph->nodes->len; i++)
    {
      KestrelNode *node = kestrel_graph_node (graph, i);

      if (node->removed || g_strcmp0 (node->domain, "kestrel") != 0 || in_list (fp32_layers, node->name))
        continue;
      if (g_strcmp0 (node->op_type, "ConvNhwc") == 0
          && (kestrel_node_attr_int (node, "group", 1) == 1 || is_depthwise (graph, node)))
        weights_to_half (graph, node, 1);
      else if (g_strcmp0 (node->op_type, "DwPwNhwc") == 0)
        {
          /* Each half on its own: a weight out of the half range keeps
           * only its own layer FP32. */
          weights_to_half (graph, node, 1);
          weights_to_half (graph, node, 3);
        }
    }
  /* The float32 weights no step reads any more go. */
  kestrel_graph_compact (graph);
}
