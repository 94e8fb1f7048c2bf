/* kestrel-passes-qlinear.c — the SIMD levels' planning pass for models
 * quantized by other tools: each ONNX QLinearConv and QLinearMatMul whose
 * parameters fit Kestrel's integer kernels bit for bit becomes
 * kestrel.QLinearConvPacked / kestrel.QLinearMatMulPacked
 * (core/ops/ops-qlinear-packed.c: u8 activations, constant s8 weights with
 * zero points 0, constant per-tensor or per-channel scales whose
 * requantisation the kernels reproduce exactly). The others stay on the
 * reference loops, which define the result; kestrel_qlinear_packable()
 * says why, and the pass leaves that on the node as the attribute
 * "kestrel_reference_why" (the tests read it).
 */
#include "config.h"

#include <string.h>

#include "kestrel-passes.h"
#include "kestrel-qlinear-packed.h"

#define WHY_ATTR "kestrel_reference_why"

void
kestrel_graph_map_qlinear (KestrelGraph *graph)
{
  for (guint n = 0; n < graph->nodes->len; n++)
    {
      KestrelNode *node = kestrel_graph_node (graph, n);
      gboolean conv = strcmp (node->op_type, "QLinearConv") == 0;
      const char *why = NULL;

      if (node->removed || node->domain[0] != '\0' || (!conv && strcmp (node->op_type, "QLinearMatMul") != 0))
        continue;
      if (!kestrel_qlinear_packable (graph, node, &why))
        {
          kestrel_node_set_attr_string (node, WHY_ATTR, why);
          continue;
        }
      g_free (node->op_type);
      node->op_type = g_strdup (conv ? "QLinearConvPacked" : "QLinearMatMulPacked");
      g_free (node->domain);
      node->domain = g_strdup ("kestrel");
      node->op = NULL;
      kestrel_node_set_attr_string (node, "model_value",
                                    kestrel_graph_value (graph, kestrel_node_output (node, 0))->name);
    }
}
