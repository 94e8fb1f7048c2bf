/* kestrel-passes-pad.c — channel padding by a Concat of zeros becomes
 * kestrel.PadAxis (kestrel-passes.h).
 *
 * Converted models pad channels for a residual whose branch widens (each
 * BlazeFace block that goes from 24 to 28 channels, and so on) by
 * concatenating the input with a constant tensor of zeros, which the
 * folding pass leaves as a constant of the full spatial size: 170 KB of
 * the front model's 574 KB of FP32 weights, and 147 KB of the back's. That
 * constant is no weight: kestrel.PadAxis (core/ops/ops-pad-axis.c) writes
 * the same zeros without storing them, at every precision (FP16 has no
 * reason to keep it, INT8 and INT4 plans turn it into a QConcat that fills
 * the output's zero point, kestrel-passes-quant.c).
 *
 * The rule: a Concat with one input that is not a constant and every other
 * input a float32 constant whose bytes are all zero (+0.0: a -0.0 would
 * not be the same bits) becomes PadAxis with `before` and `after`, the
 * sizes along the axis of the zeros on either side. It keeps the Concat's
 * name, attributes (its model_value too) and output value, so the
 * calibration table, the canary's layer names and the QDQ exporter (which
 * reads the model's own Concat back) see the same tensor.
 *
 * Run on the fast graphs, after they are prepared (the NHWC pass leaves the
 * moved constants as Transposes that folding turns back into constants).
 */
#include "config.h"

#include "kestrel-passes.h"

#include <string.h>

static gboolean
all_zero_floats (const KestrelValue *value)
{
  const guint32 *bits;
  gsize n;

  if (value->constant == NULL || value->dtype != KESTREL_DTYPE_FLOAT32 || !value->has_shape)
    return FALSE;
  bits = kestrel_tensor_get_data (value->constant);
  n = kestrel_tensor_get_n_elements (value->constant);
  for (gsize i = 0; i < n; i++)
    if (bits[i] != 0)
      return FALSE;
  return TRUE;
}

/* Whether node is such a Concat: the activation input in *x, the zeros'
 * extent along the axis before and after it. */
static gboolean
zero_padding_concat (const KestrelGraph *graph, const KestrelNode *node, gint *x, guint *axis,
                     gint64 *before, gint64 *after)
{
  const KestrelValue *out;
  gint64 a;

  if (node->removed || node->domain[0] != '\0' || strcmp (node->op_type, "Concat") != 0
      || kestrel_node_n_outputs (node) != 1 || kestrel_node_n_inputs (node) < 2)
    return FALSE;
  out = kestrel_graph_value (graph, kestrel_node_output (node, 0));
  if (out == NULL || !out->has_shape || out->dtype != KESTREL_DTYPE_FLOAT32 || out->n_dims == 0)
    return FALSE;
  a = kestrel_node_attr_int (node, "axis", 0);
  if (a < 0)
    a += out->n_dims;
  if (a < 0 || a >= out->n_dims)
    return FALSE;

  *x = -1;
  *before = *after = 0;
  for (guint i = 0; i < kestrel_node_n_inputs (node); i++)
    {
      gint v = kestrel_node_input (node, i);
      const KestrelValue *value = kestrel_graph_value (graph, v);

      if (value == NULL || !value->has_shape || value->n_dims != out->n_dims)
        return FALSE;
      if (value->constant == NULL)
        {
          if (*x >= 0 || value->dtype != KESTREL_DTYPE_FLOAT32)
            return FALSE;
          *x = v;
        }
      else if (!all_zero_floats (value))
        return FALSE;
      else if (*x < 0)
        *before += value->shape[a];
      else
        *after += value->shape[a];
    }
  *axis = (guint) a;
  return *x >= 0 && *before + *after > 0;
}

gboolean
kestrel_graph_zero_concat_to_pad (KestrelGraph *graph, GError **error)
{
  static const char *const skip[] = { "axis", NULL };
  guint n_nodes = graph->nodes->len;
  gboolean changed = FALSE;

  for (guint n = 0; n < n_nodes; n++)
    {
      KestrelNode *node = kestrel_graph_node (graph, n);
      gint x, index;
      guint axis;
      gint64 before, after;

      if (!zero_padding_concat (graph, node, &x, &axis, &before, &after))
        continue;
      index = kestrel_graph_add_node (graph, "kestrel", "PadAxis", node->name);
      KestrelNode *pad = kestrel_graph_node (graph, index);
      node = kestrel_graph_node (graph, n);
      kestrel_node_copy_attrs (pad, node, skip);
      kestrel_node_set_attr_int (pad, "axis", axis);
      kestrel_node_set_attr_int (pad, "before", before);
      kestrel_node_set_attr_int (pad, "after", after);
      kestrel_node_add_input (pad, x);
      node->removed = TRUE;
      kestrel_node_add_output (graph, index, kestrel_node_output (node, 0));
      changed = TRUE;
    }
  if (!changed)
    return TRUE;
  /* The zeros have no reader left; the new steps go where the Concats were. */
  kestrel_graph_compact (graph);
  return kestrel_graph_sort (graph, error) && kestrel_graph_prepare (graph, error);
}
