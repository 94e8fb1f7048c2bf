/* kestrel-passes.c — the passes every model gets (see kestrel-passes.h). */
#include "config.h"

#include "kestrel-passes.h"

#include "kestrel-error.h"
#include "kestrel-input-shape.h"
#include "kestrel-op.h"

gboolean
kestrel_graph_resolve_ops (KestrelGraph *graph, GError **error)
{
  for (guint n = 0; n < graph->nodes->len; n++)
    {
      KestrelNode *node = kestrel_graph_node (graph, n);

      if (node->removed)
        continue;
      node->op = kestrel_op_lookup (node->domain, node->op_type, graph->opset);
      if (node->op == NULL)
        {
          if (kestrel_op_lookup (node->domain, node->op_type, 17) != NULL
              || kestrel_op_lookup (node->domain, node->op_type, 7) != NULL)
            kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                                    "Kestrel does not implement %s at opset %" G_GINT64_FORMAT,
                                    node->op_type, graph->opset);
          else
            kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                                    "operator %s%s%s is not supported by Kestrel",
                                    node->domain, node->domain[0] ? "." : "", node->op_type);
          return FALSE;
        }
    }
  return TRUE;
}

/* Runs one node on constant inputs with the reference kernels, at load
 * time, and makes its outputs constants. */
static gboolean
fold_node (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  guint n_in = kestrel_node_n_inputs (node), n_out = kestrel_node_n_outputs (node);
  g_autofree KestrelTensorView *inputs = g_new0 (KestrelTensorView, MAX (n_in, 1));
  g_autofree KestrelTensorView *outputs = g_new0 (KestrelTensorView, MAX (n_out, 1));
  g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func ((GDestroyNotify) kestrel_tensor_unref);
  KestrelStep step = { 0 };
  gboolean ok = TRUE;

  for (guint i = 0; i < n_in; i++)
    {
      const KestrelValue *value = kestrel_graph_value (graph, kestrel_node_input (node, i));
      if (value != NULL)
        kestrel_tensor_view_init (&inputs[i], value);
    }
  for (guint o = 0; o < n_out; o++)
    {
      const KestrelValue *value = kestrel_graph_value (graph, kestrel_node_output (node, o));
      KestrelTensor *t;

      if (value == NULL)
        {
          g_ptr_array_add (results, NULL);
          continue;
        }
      t = kestrel_tensor_new (value->dtype, value->n_dims, value->shape, error);
      if (t == NULL)
        return FALSE;
      g_ptr_array_add (results, t);
      kestrel_tensor_view_init (&outputs[o], value);
      outputs[o].data = kestrel_tensor_get_data (t);
    }

  step.op = node->op;
  step.node = node;
  step.n_inputs = n_in;
  step.n_outputs = n_out;
  step.inputs = inputs;
  step.outputs = outputs;
  step.level = KK_LEVEL_SCALAR;
  step.kernels = kk_kernels_get (KK_ISA_SCALAR);
  if (node->op->prepare != NULL)
    ok = node->op->prepare (&step, error);
  if (ok && step.scratch_bytes > 0)
    step.scratch = g_malloc0 (step.scratch_bytes);
  if (ok)
    node->op->run (&step);
  g_free (step.scratch);
  if (step.free_state != NULL)
    step.free_state (step.state);
  if (!ok)
    return FALSE;

  for (guint o = 0; o < n_out; o++)
    {
      KestrelValue *value = kestrel_graph_value (graph, kestrel_node_output (node, o));
      if (value != NULL)
        value->constant = kestrel_tensor_ref (g_ptr_array_index (results, o));
    }
  return TRUE;
}

static gboolean
all_inputs_constant (const KestrelGraph *graph, const KestrelNode *node)
{
  for (guint i = 0; i < kestrel_node_n_inputs (node); i++)
    {
      const KestrelValue *value = kestrel_graph_value (graph, kestrel_node_input (node, i));
      if (value != NULL && value->constant == NULL)
        return FALSE;
    }
  return TRUE;
}

static gboolean
all_outputs_constant (const KestrelGraph *graph, const KestrelNode *node)
{
  for (guint o = 0; o < kestrel_node_n_outputs (node); o++)
    {
      const KestrelValue *value = kestrel_graph_value (graph, kestrel_node_output (node, o));
      if (value != NULL && value->constant == NULL)
        return FALSE;
    }
  return TRUE;
}

/* Inference and folding go together, node by node: a value computed only
 * from shapes and constants (Shape -> Gather -> Concat -> Reshape's
 * target, Resize's sizes, Slice's bounds, Pad's pads) is a constant by the
 * time the node that reads it is inferred, whatever operators computed it.
 * Folding evaluates the reference operator itself, so there is no list of
 * patterns to keep up. */
static gboolean
check_value_size (const KestrelValue *value, const KestrelNode *node, GError **error)
{
  g_autoptr(GError) size_error = NULL;

  if (kestrel_shape_get_size (value->dtype, value->n_dims, value->shape, NULL, NULL, &size_error))
    return TRUE;
  if (node != NULL)
    kestrel_node_set_error (error, node, size_error->code, "output '%s': %s", value->name,
                            size_error->message);
  else
    g_set_error (error, KESTREL_ERROR, size_error->code, "graph input '%s': %s", value->name,
                 size_error->message);
  return FALSE;
}

gboolean
kestrel_graph_infer_shapes (KestrelGraph *graph, GError **error)
{
  if (!kestrel_graph_check_inputs_pinned (graph, error))
    return FALSE;
  for (guint i = 0; i < graph->inputs->len; i++)
    if (!check_value_size (kestrel_graph_value (graph, g_array_index (graph->inputs, gint, i)),
                           NULL, error))
      return FALSE;
  for (guint n = 0; n < graph->nodes->len; n++)
    {
      KestrelNode *node = kestrel_graph_node (graph, n);

      if (node->removed)
        continue;
      g_assert (node->op != NULL);
      if (!node->op->infer (graph, node, error))
        return FALSE;
      for (guint o = 0; o < kestrel_node_n_outputs (node); o++)
        {
          KestrelValue *value = kestrel_graph_value (graph, kestrel_node_output (node, o));
          if (value != NULL && !value->has_shape)
            {
              kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                                      "the shape of output '%s' could not be inferred",
                                      value->name);
              return FALSE;
            }
          /* Sizes the model controls, checked before folding or a plan
           * allocates them (kestrel_tensor_get_max_bytes). */
          if (value != NULL && !check_value_size (value, node, error))
            return FALSE;
        }
      if (!all_outputs_constant (graph, node) && all_inputs_constant (graph, node)
          && !fold_node (graph, node, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
kestrel_graph_fold_constants (KestrelGraph *graph, GError **error)
{
  for (guint n = 0; n < graph->nodes->len; n++)
    {
      KestrelNode *node = kestrel_graph_node (graph, n);

      if (node->removed)
        continue;
      /* Some ops (Shape) make their output constant during inference. */
      if (!all_outputs_constant (graph, node))
        {
          if (!all_inputs_constant (graph, node))
            continue;
          if (!fold_node (graph, node, error))
            return FALSE;
        }
      node->removed = TRUE;
      for (guint o = 0; o < kestrel_node_n_outputs (node); o++)
        {
          KestrelValue *value = kestrel_graph_value (graph, kestrel_node_output (node, o));
          if (value != NULL)
            value->producer = -1;
        }
    }
  return TRUE;
}

void
kestrel_graph_remove_dead (KestrelGraph *graph)
{
  gboolean changed = TRUE;

  while (changed)
    {
      changed = FALSE;
      for (guint n = graph->nodes->len; n-- > 0;)
        {
          KestrelNode *node = kestrel_graph_node (graph, n);
          gboolean used = FALSE;

          if (node->removed)
            continue;
          for (guint o = 0; o < kestrel_node_n_outputs (node) && !used; o++)
            {
              gint v = kestrel_node_output (node, o);
              used = v >= 0 && kestrel_graph_n_consumers (graph, v) > 0;
            }
          if (!used)
            {
              node->removed = TRUE;
              changed = TRUE;
            }
        }
    }
}

gboolean
kestrel_graph_prepare (KestrelGraph *graph, GError **error)
{
  if (!kestrel_graph_resolve_ops (graph, error)
      || !kestrel_graph_infer_shapes (graph, error)
      || !kestrel_graph_fold_constants (graph, error))
    return FALSE;
  kestrel_graph_fold_conv_affine (graph);
  kestrel_graph_remove_dead (graph);
  kestrel_graph_compact (graph);
  return TRUE;
}
