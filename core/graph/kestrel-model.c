/* kestrel-model.c — loading a model once for any number of plans. */
#include "config.h"

#include "kestrel-model.h"

#include <string.h>

#include "kestrel-file.h"
#include "kestrel-input-shape.h"
#include "kestrel-onnx.h"
#include "kestrel-passes.h"

struct _KestrelModel {
  gatomicrefcount ref_count;
  char *origin;
  KestrelGraph *graph;
  /* As loaded, before shape inference and folding: plans at another batch
   * start again from here (kestrel_graph_set_batch). */
  KestrelGraph *source;
  gint64 batch;
  guint64 macs;
  gsize weight_bytes;
  char *content_hash;
  /* A QDQ file's parameters (kestrel-passes-qdq.c) and the table made of
   * them for this graph; NULL for a float model. */
  KestrelQdqTaken *qdq;
  KestrelQuantTable *qdq_table;
};

static void
checksum_string (GChecksum *sum, const char *s)
{
  /* With its terminating NUL, so "ab" + "c" and "a" + "bc" differ. */
  s = s != NULL ? s : "";
  g_checksum_update (sum, (const guchar *) s, strlen (s) + 1);
}

static void
checksum_int (GChecksum *sum, gint64 i)
{
  g_checksum_update (sum, (const guchar *) &i, sizeof i);
}

/* SHA-256 of what the prepared graph computes: its values (names, types,
 * shapes, constant bytes), nodes (operators, names, attributes, wiring),
 * inputs and outputs. The same file at the same input sizes gives the same
 * hash whichever way it was loaded (file, bytes, graph), and a calibration
 * table cached under it (core/quant/) is found again; other sizes or other
 * weights give another. Metadata that computes nothing (doc strings, the
 * producer's name) is not in it. */
static char *
graph_content_hash (const KestrelGraph *graph)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);

  checksum_int (sum, graph->opset);
  for (guint v = 0; v < graph->values->len; v++)
    {
      const KestrelValue *value = kestrel_graph_value (graph, v);
      checksum_string (sum, value->name);
      checksum_int (sum, value->dtype);
      checksum_int (sum, value->n_dims);
      for (guint d = 0; d < value->n_dims; d++)
        checksum_int (sum, value->shape[d]);
      if (value->constant != NULL)
        g_checksum_update (sum, kestrel_tensor_get_data (value->constant),
                           kestrel_tensor_get_n_bytes (value->constant));
    }
  for (guint n = 0; n < graph->nodes->len; n++)
    {
      const KestrelNode *node = kestrel_graph_node (graph, n);
      checksum_string (sum, node->domain);
      checksum_string (sum, node->op_type);
      checksum_string (sum, node->name);
      for (guint i = 0; i < node->inputs->len; i++)
        checksum_int (sum, kestrel_node_input (node, i));
      checksum_int (sum, -2);
      for (guint i = 0; i < node->outputs->len; i++)
        checksum_int (sum, kestrel_node_output (node, i));
      for (guint a = 0; a < node->attrs->len; a++)
        {
          const KestrelAttr *attr = g_ptr_array_index (node->attrs, a);
          checksum_string (sum, attr->name);
          checksum_int (sum, attr->type);
          g_checksum_update (sum, (const guchar *) &attr->f, sizeof attr->f);
          checksum_int (sum, attr->i);
          checksum_string (sum, attr->s);
          checksum_int (sum, attr->n);
          if (attr->ints != NULL)
            g_checksum_update (sum, (const guchar *) attr->ints, attr->n * sizeof (gint64));
          if (attr->floats != NULL)
            g_checksum_update (sum, (const guchar *) attr->floats, attr->n * sizeof (float));
          for (guint i = 0; attr->strings != NULL && i < attr->n; i++)
            checksum_string (sum, attr->strings[i]);
          if (attr->t != NULL)
            g_checksum_update (sum, kestrel_tensor_get_data (attr->t), kestrel_tensor_get_n_bytes (attr->t));
        }
    }
  for (guint i = 0; i < graph->inputs->len; i++)
    checksum_int (sum, g_array_index (graph->inputs, gint, i));
  checksum_int (sum, -3);
  for (guint i = 0; i < graph->outputs->len; i++)
    checksum_int (sum, g_array_index (graph->outputs, gint, i));
  return g_strdup (g_checksum_get_string (sum));
}

static guint64
node_macs (const KestrelGraph *graph, const KestrelNode *node)
{
  const KestrelValue *out = kestrel_graph_value (graph, kestrel_node_output (node, 0));
  const KestrelValue *w = kestrel_graph_value (graph, kestrel_node_input (node, 1));
  const KestrelValue *a = kestrel_graph_value (graph, kestrel_node_input (node, 0));

  if (out == NULL || w == NULL || !out->has_shape || !w->has_shape)
    return 0;
  if (strcmp (node->op_type, "Conv") == 0 && w->n_dims >= 3)
    {
      /* Each output element reads Cin/group x kernel taps: W is
       * [Cout][Cin/group][k...]. */
      guint64 taps = 1;
      for (guint d = 1; d < w->n_dims; d++)
        taps *= (guint64) w->shape[d];
      return kestrel_value_n_elements (out) * taps;
    }
  if ((strcmp (node->op_type, "Gemm") == 0 || strcmp (node->op_type, "MatMul") == 0)
      && a != NULL && a->has_shape && a->n_dims >= 1)
    {
      gint64 k = a->shape[a->n_dims - 1];
      if (strcmp (node->op_type, "Gemm") == 0 && kestrel_node_attr_int (node, "transA", 0) != 0)
        k = a->shape[0];
      return kestrel_value_n_elements (out) * (guint64) k;
    }
  return 0;
}

KestrelModel *
kestrel_model_new_from_graph (KestrelGraph *graph, const char *origin, GError **error)
{
  return kestrel_model_new_from_graph_at (graph, origin, NULL, error);
}

static KestrelModel *new_from_graph (KestrelGraph *graph, const char *origin, const char *const *input_shapes,
                                     KestrelQdqTaken *qdq, GError **error);

KestrelModel *
kestrel_model_new_from_graph_at (KestrelGraph *graph, const char *origin,
                                 const char *const *input_shapes, GError **error)
{
  KestrelQdqTaken *qdq = NULL;

  /* Before anything else: the source graph (plans at another batch or
   * size) is then the float graph too. */
  if (!kestrel_graph_take_qdq (graph, &qdq, error))
    {
      g_prefix_error (error, "%s: ", origin);
      kestrel_graph_free (graph);
      return NULL;
    }
  return new_from_graph (graph, origin, input_shapes, qdq, error);
}

/* Takes `qdq` (may be NULL). */
static KestrelModel *
new_from_graph (KestrelGraph *graph, const char *origin, const char *const *input_shapes, KestrelQdqTaken *qdq,
                GError **error)
{
  KestrelModel *model;
  KestrelGraph *source;

  if (!kestrel_graph_set_input_shapes (graph, input_shapes, error))
    {
      kestrel_qdq_taken_free (qdq);
      kestrel_graph_free (graph);
      return NULL;
    }
  /* The source keeps the sizes just given (plans at another batch keep
   * them) and which dimensions were free (so they can be given again). */
  source = kestrel_graph_copy (graph);
  if (!kestrel_graph_prepare (graph, error))
    {
      kestrel_qdq_taken_free (qdq);
      kestrel_graph_free (graph);
      kestrel_graph_free (source);
      return NULL;
    }
  model = g_new0 (KestrelModel, 1);
  g_atomic_ref_count_init (&model->ref_count);
  model->origin = g_strdup (origin);
  model->graph = graph;
  model->source = source;
  if (!kestrel_graph_get_batch (graph, &model->batch, NULL))
    model->batch = 0;
  for (guint n = 0; n < graph->nodes->len; n++)
    model->macs += node_macs (graph, kestrel_graph_node (graph, n));
  for (guint v = 0; v < graph->values->len; v++)
    {
      const KestrelValue *value = kestrel_graph_value (graph, v);
      if (value->constant != NULL)
        model->weight_bytes += kestrel_tensor_get_n_bytes (value->constant);
    }
  model->content_hash = graph_content_hash (graph);
  model->qdq = qdq;
  if (qdq != NULL)
    model->qdq_table = kestrel_qdq_taken_to_table (qdq, graph, model->content_hash);
  return model;
}

KestrelModel *
kestrel_model_new_from_bytes (GBytes *bytes, const char *origin, GError **error)
{
  return kestrel_model_new_from_bytes_at (bytes, origin, NULL, error);
}

KestrelModel *
kestrel_model_new_from_bytes_at (GBytes *bytes, const char *origin,
                                 const char *const *input_shapes, GError **error)
{
  KestrelGraph *graph = kestrel_onnx_load_graph (bytes, origin, error);

  if (graph == NULL)
    return NULL;
  return kestrel_model_new_from_graph_at (graph, origin, input_shapes, error);
}

KestrelModel *
kestrel_model_new_at_input_shapes (KestrelModel *model, const char *const *input_shapes,
                                   GError **error)
{
  return new_from_graph (kestrel_graph_copy (model->source), model->origin, input_shapes,
                         model->qdq != NULL ? kestrel_qdq_taken_copy (model->qdq) : NULL, error);
}

gboolean
kestrel_model_has_free_inputs (const KestrelModel *model)
{
  for (guint i = 0; i < model->source->inputs->len; i++)
    if ((kestrel_graph_value (model->source, g_array_index (model->source->inputs, gint, i))->free_dims
         & ~1u) != 0)
      return TRUE;
  return FALSE;
}

KestrelModel *
kestrel_model_new_from_file (const char *path, GError **error)
{
  g_autoptr(GBytes) bytes = kestrel_file_read (path, KESTREL_FILE_MODEL, error);

  if (bytes == NULL)
    return NULL;
  return kestrel_model_new_from_bytes (bytes, path, error);
}

KestrelModel *
kestrel_model_ref (KestrelModel *model)
{
  g_atomic_ref_count_inc (&model->ref_count);
  return model;
}

void
kestrel_model_unref (KestrelModel *model)
{
  if (model == NULL || !g_atomic_ref_count_dec (&model->ref_count))
    return;
  kestrel_graph_free (model->graph);
  kestrel_graph_free (model->source);
  g_free (model->origin);
  g_free (model->content_hash);
  kestrel_qdq_taken_free (model->qdq);
  g_clear_pointer (&model->qdq_table, kestrel_quant_table_unref);
  g_free (model);
}

const char *
kestrel_model_get_origin (const KestrelModel *model)
{
  return model->origin;
}

const KestrelGraph *
kestrel_model_get_graph (const KestrelModel *model)
{
  return model->graph;
}

const KestrelGraph *
kestrel_model_get_source_graph (const KestrelModel *model)
{
  return model->source;
}

guint
kestrel_model_get_batch (const KestrelModel *model)
{
  return (guint) MIN (model->batch, G_MAXUINT);
}

guint
kestrel_model_get_n_inputs (const KestrelModel *model)
{
  return model->graph->inputs->len;
}

guint
kestrel_model_get_n_outputs (const KestrelModel *model)
{
  return model->graph->outputs->len;
}

const KestrelValue *
kestrel_model_get_input (const KestrelModel *model, guint i)
{
  g_return_val_if_fail (i < model->graph->inputs->len, NULL);
  return kestrel_graph_value (model->graph, g_array_index (model->graph->inputs, gint, i));
}

const KestrelValue *
kestrel_model_get_output (const KestrelModel *model, guint i)
{
  g_return_val_if_fail (i < model->graph->outputs->len, NULL);
  return kestrel_graph_value (model->graph, g_array_index (model->graph->outputs, gint, i));
}

guint64
kestrel_model_get_macs (const KestrelModel *model)
{
  return model->macs;
}

gsize
kestrel_model_get_weight_bytes (const KestrelModel *model)
{
  return model->weight_bytes;
}

const char *
kestrel_model_get_content_hash (const KestrelModel *model)
{
  return model->content_hash;
}

KestrelQuantTable *
kestrel_model_get_quant_table (const KestrelModel *model)
{
  return model->qdq_table;
}
