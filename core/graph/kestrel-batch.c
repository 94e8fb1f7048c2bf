/* kestrel-batch.c — giving a graph another batch size than the one it was
 * exported with (see kestrel_graph_set_batch() in kestrel-passes.h).
 *
 * Exporters write the batch they traced with into the graph: BlazeFace's
 * Reshape targets are [1,512,16], and its channel padding is a
 * ConstantOfShape [1,4,64,64] concatenated with the activations. Setting
 * the input to [N,...] alone then fails in shape inference. So before
 * anything is folded, the pass finds the values that carry the batch (the
 * graph inputs and whatever is computed from them) and rewrites the shape
 * constants that must follow it:
 *
 *   Reshape          data carries the batch, target[0] is the old batch
 *   ConstantOfShape  its output meets a batch-carrying value of the same
 *   Expand           rank in a consumer, and shape[0] is the old batch
 *
 * Shapes computed from Shape nodes need nothing: inference recomputes them.
 * Then the graph is checked at the new batch: every value that carried the
 * batch must have it as its first dimension. A graph where it does not (a
 * Transpose that moves the batch, a Flatten that folds it into the
 * features, a Softmax across images) is refused with an error naming the
 * node, rather than run on images mixed together.
 */
#include "config.h"

#include <string.h>

#include "kestrel-error.h"
#include "kestrel-passes.h"
#include "kestrel-op.h"

static gboolean
is_op (const KestrelNode *node, const char *op_type)
{
  return node->domain[0] == '\0' && strcmp (node->op_type, op_type) == 0;
}

gboolean
kestrel_graph_get_batch (const KestrelGraph *graph, gint64 *batch, GError **error)
{
  *batch = 0;
  if (graph->inputs->len == 0)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                   "the graph has no inputs, so no batch dimension");
      return FALSE;
    }
  for (guint i = 0; i < graph->inputs->len; i++)
    {
      const KestrelValue *value = kestrel_graph_value (graph, g_array_index (graph->inputs, gint, i));

      if (!value->has_shape || value->n_dims == 0)
        {
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                       "input '%s' has no batch dimension (it is %s)", value->name,
                       value->has_shape ? "a scalar" : "of unknown shape");
          return FALSE;
        }
      if (i > 0 && value->shape[0] != *batch)
        {
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                       "inputs disagree on the batch: '%s' starts with %" G_GINT64_FORMAT
                       ", the first input with %" G_GINT64_FORMAT, value->name, value->shape[0],
                       *batch);
          return FALSE;
        }
      *batch = value->shape[0];
    }
  return TRUE;
}

/* A copy of the int constant `v` with its first element set to `batch`, as
 * a new value of `graph`. -1 when `v` is not a 1-D int constant whose first
 * element is `from`. */
static gint
rebatched_constant (KestrelGraph *graph, gint v, gint64 from, gint64 batch)
{
  const KestrelValue *value = kestrel_graph_value (graph, v);
  KestrelTensor *src;
  KestrelDType dtype;
  g_autoptr(KestrelTensor) copy = NULL;
  gint64 n;

  if (value == NULL || value->constant == NULL)
    return -1;
  src = value->constant;
  dtype = kestrel_tensor_get_dtype (src);
  if (kestrel_tensor_get_n_dims (src) != 1 || kestrel_tensor_get_n_elements (src) == 0
      || (dtype != KESTREL_DTYPE_INT64 && dtype != KESTREL_DTYPE_INT32))
    return -1;
  if ((dtype == KESTREL_DTYPE_INT64 ? ((const gint64 *) kestrel_tensor_get_data (src))[0]
                                    : ((const gint32 *) kestrel_tensor_get_data (src))[0]) != from)
    return -1;

  n = (gint64) kestrel_tensor_get_n_elements (src);
  copy = kestrel_tensor_new (dtype, 1, &n, NULL);
  if (copy == NULL)
    return -1;
  memcpy (kestrel_tensor_get_data (copy), kestrel_tensor_get_data (src), kestrel_tensor_get_n_bytes (src));
  if (dtype == KESTREL_DTYPE_INT64)
    ((gint64 *) kestrel_tensor_get_data (copy))[0] = batch;
  else
    ((gint32 *) kestrel_tensor_get_data (copy))[0] = (gint32) batch;
  return kestrel_graph_new_constant (graph, value->name, copy);
}

/* Whether a consumer of `v` also reads a batch-carrying value of the same
 * rank as `v` (a Concat with the activations, an Add...). */
static gboolean
meets_batch (const KestrelGraph *graph, gint v, const gboolean *carries)
{
  g_autoptr(GArray) consumers = kestrel_graph_consumers (graph, v);
  const KestrelValue *value = kestrel_graph_value (graph, v);

  for (guint c = 0; c < consumers->len; c++)
    {
      const KestrelNode *node = kestrel_graph_node (graph, g_array_index (consumers, gint, c));
      for (guint i = 0; i < kestrel_node_n_inputs (node); i++)
        {
          gint in = kestrel_node_input (node, i);
          if (in >= 0 && in != v && carries[in]
              && kestrel_graph_value (graph, in)->n_dims == value->n_dims)
            return TRUE;
        }
    }
  return FALSE;
}

/* An operator whose axis is the batch mixes the images of a batch. */
static gboolean
check_axis (const KestrelGraph *graph, const KestrelNode *node, const gboolean *carries, GError **error)
{
  gint in = kestrel_node_input (node, 0);
  const KestrelValue *data = kestrel_graph_value (graph, in);
  const KestrelAttr *attr = kestrel_node_find_attr (node, "axis");
  gint64 axis;

  if (data == NULL || !carries[in] || is_op (node, "Concat"))
    return TRUE; /* a Concat across the batch shows in its output's shape */
  if (attr != NULL && attr->type == KESTREL_ATTR_INT)
    axis = attr->i;
  else if (attr == NULL && is_op (node, "Gather"))
    axis = 0;
  else
    return TRUE;
  if (axis < 0)
    axis += data->n_dims;
  if (axis != 0)
    return TRUE;
  kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                          "works along axis 0 of '%s', which is the batch: the model cannot "
                          "run batches larger than its own", data->name);
  return FALSE;
}

gboolean
kestrel_graph_set_batch (KestrelGraph *graph, gint64 batch, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  KestrelGraph *analysis = NULL, *check = NULL;
  g_autofree gboolean *carries = NULL;
  guint n_values;
  gint64 from;
  gboolean ok = FALSE;

  g_return_val_if_fail (batch > 0, FALSE);

  if (!kestrel_graph_get_batch (graph, &from, error))
    return FALSE;
  if (batch == from)
    return TRUE;

  /* Shapes at the exported batch tell which values carry it. */
  analysis = kestrel_graph_copy (graph);
  if (!kestrel_graph_resolve_ops (analysis, error) || !kestrel_graph_infer_shapes (analysis, error))
    goto out;
  n_values = analysis->values->len;
  carries = g_new0 (gboolean, n_values);
  for (guint i = 0; i < analysis->inputs->len; i++)
    carries[g_array_index (analysis->inputs, gint, i)] = TRUE;
  for (guint n = 0; n < analysis->nodes->len; n++)
    {
      const KestrelNode *node = kestrel_graph_node (analysis, n);
      gboolean any = FALSE;

      if (node->removed)
        continue;
      for (guint i = 0; i < kestrel_node_n_inputs (node) && !any; i++)
        {
          gint in = kestrel_node_input (node, i);
          any = in >= 0 && carries[in] && kestrel_graph_value (analysis, in)->constant == NULL;
        }
      if (!any)
        continue;
      if (!check_axis (analysis, node, carries, error))
        goto out;
      /* Shape and Size make constants, which inference recomputes. */
      for (guint o = 0; o < kestrel_node_n_outputs (node); o++)
        {
          gint out = kestrel_node_output (node, o);
          if (out >= 0 && kestrel_graph_value (analysis, out)->constant == NULL)
            carries[out] = TRUE;
        }
    }

  /* The rewrites. New constants go to the end of graph->values, so the
   * indices `carries` speaks of stay valid. */
  for (guint n = 0; n < analysis->nodes->len; n++)
    {
      const KestrelNode *seen = kestrel_graph_node (analysis, n);
      KestrelNode *node = kestrel_graph_node (graph, n);
      gint data = kestrel_node_input (seen, 0), out = kestrel_node_output (seen, 0);
      gint replacement;

      if (seen->removed || out < 0)
        continue;
      if (is_op (seen, "Reshape") && data >= 0 && carries[data])
        {
          guint n_ints;
          const gint64 *ints = kestrel_node_attr_ints (node, "shape", &n_ints);

          if (kestrel_node_n_inputs (seen) < 2 && ints != NULL && n_ints > 0 && ints[0] == from)
            {
              g_autofree gint64 *copy = g_memdup2 (ints, n_ints * sizeof (gint64));
              copy[0] = batch;
              kestrel_node_set_attr_ints (node, "shape", copy, n_ints);
            }
          else if ((replacement = rebatched_constant (graph, kestrel_node_input (seen, 1), from, batch)) >= 0)
            g_array_index (node->inputs, gint, 1) = replacement;
        }
      else if ((is_op (seen, "ConstantOfShape") || (is_op (seen, "Expand") && (data < 0 || !carries[data])))
               && !carries[out] && meets_batch (analysis, out, carries))
        {
          gint shape_input = is_op (seen, "Expand") ? 1 : 0;
          const KestrelValue *shape = kestrel_graph_value (analysis, kestrel_node_input (seen, shape_input));

          if (shape != NULL && shape->n_dims == 1 && shape->shape[0] == kestrel_graph_value (analysis, out)->n_dims
              && (replacement = rebatched_constant (graph, kestrel_node_input (seen, shape_input), from, batch)) >= 0)
            {
              g_array_index (node->inputs, gint, shape_input) = replacement;
              carries[out] = TRUE;
            }
        }
    }

  for (guint i = 0; i < graph->inputs->len; i++)
    kestrel_graph_value (graph, g_array_index (graph->inputs, gint, i))->shape[0] = batch;

  /* Check on a copy: kestrel_graph_prepare() infers the graph itself. */
  check = kestrel_graph_copy (graph);
  if (!kestrel_graph_resolve_ops (check, &local_error) || !kestrel_graph_infer_shapes (check, &local_error))
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                   "the model cannot run batches of %" G_GINT64_FORMAT ": %s", batch,
                   local_error->message);
      goto out;
    }
  for (guint v = 0; v < n_values; v++)
    {
      const KestrelValue *value = kestrel_graph_value (check, v);

      if (!carries[v] || value->constant != NULL)
        continue;
      if (value->n_dims == 0 || value->shape[0] != batch)
        {
          g_autofree char *shape = kestrel_shape_to_string (value->n_dims, value->shape);
          const KestrelNode *producer = NULL;

          for (guint n = 0; n < check->nodes->len && producer == NULL; n++)
            for (guint o = 0; o < kestrel_node_n_outputs (kestrel_graph_node (check, n)); o++)
              if (kestrel_node_output (kestrel_graph_node (check, n), o) == (gint) v)
                producer = kestrel_graph_node (check, n);
          if (producer != NULL)
            kestrel_node_set_error (error, producer, KESTREL_ERROR_UNSUPPORTED,
                                    "at batch %" G_GINT64_FORMAT " its output '%s' is %s: the batch "
                                    "is not its first dimension, so the model cannot run batches "
                                    "larger than its own", batch, value->name, shape);
          else
            g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                         "at batch %" G_GINT64_FORMAT " '%s' is %s: the batch is not its first "
                         "dimension", batch, value->name, shape);
          goto out;
        }
    }
  for (guint i = 0; i < check->outputs->len; i++)
    {
      gint v = g_array_index (check->outputs, gint, i);
      if (!carries[v])
        {
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                       "output '%s' does not depend on the batch of the inputs; the model "
                       "cannot run batches larger than its own", kestrel_graph_value (check, v)->name);
          goto out;
        }
    }
  ok = TRUE;

out:
  g_clear_pointer (&analysis, kestrel_graph_free);
  g_clear_pointer (&check, kestrel_graph_free);
  return ok;
}
