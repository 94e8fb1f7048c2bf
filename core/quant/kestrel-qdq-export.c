/* kestrel-qdq-export.c — see kestrel-qdq-export.h.
 *
 * Which tensors and layers are INT8 is not decided again here: the internal
 * INT8 graph is built (kestrel_graph_quantize, as kestrel_plan_new does)
 * and read back, so the file says what the plan does.
 *   - every kestrel.QConvNhwc is a Conv whose weights and bias go
 *     quantised, with the plan's per-channel weight scales and s32 bias;
 *   - every u8 result (the model_value of a Q* step that writes u8; the
 *     convolution's own output before a residual add fused into it) gets
 *     Q -> DQ, and every reader reads the DQ, as every reader of the
 *     plan's value reads the rounded one;
 *   - a float tensor a QuantizeU8 converts for INT8 readers gets Q -> DQ
 *     for those readers only (its float readers read it unrounded).
 * A convolution that writes float from its accumulators (a detector's
 * head) has no Q after it: ONNX Runtime then runs it in float on the
 * dequantised input and weights, which is what Kestrel's step computes.
 */
#include "config.h"

#include "kestrel-qdq-export.h"

#include <math.h>
#include <string.h>

#include "kestrel-error.h"
#include "kestrel-onnx.h"
#include "kestrel-passes.h"

/* What the INT8 graph says about the model's tensors and nodes. */
typedef struct {
  GHashTable *convs;        /* model Conv name -> const KestrelNode * (its QConvNhwc) */
  GHashTable *int8_nodes;   /* model node names the plan runs in INT8 */
  GHashTable *u8_results;   /* model tensor names held in u8 by their producer */
  GHashTable *u8_inputs;    /* model tensor names converted to u8 for INT8 readers */
} Int8Facts;

/* The model's name of int8-graph value v: a Transpose the NHWC pass put in
 * moves values without changing them, so its input's name is the one. */
static const char *
model_name (const KestrelGraph *int8, const KestrelGraph *model, gint v)
{
  for (;;)
    {
      const char *name = kestrel_graph_get_model_value_name (int8, v);
      const KestrelValue *value = kestrel_graph_value (int8, v);
      const KestrelNode *producer;

      if (kestrel_graph_find_value (model, name) >= 0 || value->producer < 0)
        return name;
      producer = kestrel_graph_node (int8, value->producer);
      if (strcmp (producer->op_type, "Transpose") != 0)
        return name;
      v = kestrel_node_input (producer, 0);
    }
}

static const KestrelNode *
model_producer (const KestrelGraph *model, const char *tensor)
{
  gint v = kestrel_graph_find_value (model, tensor);
  const KestrelValue *value = kestrel_graph_value (model, v);

  return value != NULL && value->producer >= 0 ? kestrel_graph_node (model, value->producer) : NULL;
}

static gboolean
is_activation_op (const KestrelNode *node)
{
  return node != NULL && node->domain[0] == '\0'
         && (strcmp (node->op_type, "Relu") == 0 || strcmp (node->op_type, "Clip") == 0);
}

/* The model node that wrote `tensor` before an activation absorbed it: a
 * QAdd's (or a fused residual add's) result is the Relu/Clip after the
 * model's Add when it took one in. Both go in `nodes`; returns the Add. */
static const KestrelNode *
mark_add_nodes (const KestrelGraph *model, const char *tensor, GHashTable *nodes)
{
  const KestrelNode *node = model_producer (model, tensor);

  if (is_activation_op (node))
    {
      g_hash_table_add (nodes, node->name);
      node = kestrel_graph_node (model, kestrel_graph_value (model, kestrel_node_input (node, 0))->producer);
    }
  if (node != NULL)
    g_hash_table_add (nodes, node->name);
  return node;
}

static void
facts_clear (Int8Facts *facts)
{
  g_clear_pointer (&facts->convs, g_hash_table_unref);
  g_clear_pointer (&facts->int8_nodes, g_hash_table_unref);
  g_clear_pointer (&facts->u8_results, g_hash_table_unref);
  g_clear_pointer (&facts->u8_inputs, g_hash_table_unref);
}

/* Reads the INT8 graph. Names point into `int8` and `model`, which
 * outlive the facts. */
static void
facts_read (Int8Facts *facts, const KestrelGraph *int8, const KestrelGraph *model)
{
  facts->convs = g_hash_table_new (g_str_hash, g_str_equal);
  facts->int8_nodes = g_hash_table_new (g_str_hash, g_str_equal);
  facts->u8_results = g_hash_table_new (g_str_hash, g_str_equal);
  facts->u8_inputs = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint n = 0; n < int8->nodes->len; n++)
    {
      const KestrelNode *node = kestrel_graph_node (int8, n);
      const char *result = kestrel_node_attr_string (node, "model_value", NULL);
      gboolean conv = strcmp (node->op_type, "QConvNhwc") == 0;

      if (node->removed || strcmp (node->domain, "kestrel") != 0)
        continue;
      if (strcmp (node->op_type, "QuantizeU8") == 0)
        {
          g_hash_table_add (facts->u8_inputs, (char *) model_name (int8, model, kestrel_node_input (node, 0)));
          continue;
        }
      if (!conv && strcmp (node->op_type, "QMaxPoolNhwc") != 0 && strcmp (node->op_type, "QAdd") != 0
          && strcmp (node->op_type, "QConcat") != 0)
        continue;
      g_hash_table_add (facts->int8_nodes, node->name);
      if (conv)
        g_hash_table_insert (facts->convs, node->name, (gpointer) node);
      if (result == NULL || (conv && kestrel_node_attr_int (node, "y_float", 0) != 0))
        continue;
      g_hash_table_add (facts->u8_results, (char *) result);
      if (strcmp (node->op_type, "QAdd") == 0)
        mark_add_nodes (model, result, facts->int8_nodes);
      else if (conv && kestrel_node_find_attr (node, "t_scale") != NULL)
        {
          /* A residual add fused in: the convolution's own output (the
           * Add's input it produces) is rounded to u8 first. */
          const KestrelNode *add = mark_add_nodes (model, result, facts->int8_nodes);
          for (guint i = 0; add != NULL && i < kestrel_node_n_inputs (add); i++)
            {
              const KestrelNode *p = model_producer (model, kestrel_graph_value (model, kestrel_node_input (add, i))->name);
              if (p != NULL && strcmp (p->name, node->name) == 0)
                g_hash_table_add (facts->u8_results, kestrel_graph_value (model, kestrel_node_input (add, i))->name);
            }
        }
    }
}

static gint
scalar_constant (KestrelGraph *graph, const char *hint, KestrelDType dtype, gconstpointer data)
{
  g_autoptr(KestrelTensor) t = kestrel_tensor_new (dtype, 0, NULL, NULL);

  memcpy (kestrel_tensor_get_data (t), data, kestrel_tensor_get_n_bytes (t));

  return kestrel_graph_new_constant (graph, hint, t);
}

/* node (domain ai.onnx) reading x, scale, zero point, writing a new value
 * shaped like `like` with dtype `dtype`. */
static gint
add_qdq_node (KestrelGraph *graph, const char *op_type, const char *name, gint x, gint scale, gint zero_point,
              gint like, KestrelDType dtype, gint64 axis)
{
  g_autofree char *hint = g_strconcat (name, op_type[0] == 'Q' ? "_quantized" : "_dequantized", NULL);
  gint out = kestrel_graph_new_value (graph, hint);
  const KestrelValue *l = kestrel_graph_value (graph, like);
  gint index;

  kestrel_value_set_shape (kestrel_graph_value (graph, out), dtype, l->n_dims, l->shape);
  index = kestrel_graph_add_node (graph, "", op_type, hint);
  kestrel_node_add_input (kestrel_graph_node (graph, index), x);
  kestrel_node_add_input (kestrel_graph_node (graph, index), scale);
  kestrel_node_add_input (kestrel_graph_node (graph, index), zero_point);
  if (axis >= 0)
    kestrel_node_set_attr_int (kestrel_graph_node (graph, index), "axis", axis);
  kestrel_node_add_output (graph, index, out);
  return out;
}

/* Conv `node` of `graph` reads s8 weights and s32 bias through
 * DequantizeLinear: the plan's per-channel weight scales and bias, read
 * from its QConvNhwc `qconv` in `int8` (inputs: x, weights, bias, scales). */
static gboolean
quantise_conv (KestrelGraph *graph, gint n, const KestrelGraph *int8, const KestrelNode *qconv,
               GError **error)
{
  KestrelNode *node = kestrel_graph_node (graph, n);
  gint wv = kestrel_node_input (node, 1), bv = kestrel_node_input (node, 2);
  const KestrelValue *w = kestrel_graph_value (graph, wv);
  const KestrelValue *scales = kestrel_graph_value (int8, kestrel_node_input (qconv, 3));
  const KestrelValue *bias = kestrel_graph_value (int8, kestrel_node_input (qconv, 2));
  float x_scale = kestrel_node_attr_float (qconv, "x_scale", 0.0f);
  gint64 cout, per = 1, axis_shape[1];

  if (w == NULL || w->constant == NULL || w->dtype != KESTREL_DTYPE_FLOAT32 || scales == NULL
      || scales->constant == NULL || (bv >= 0) != (bias != NULL && bias->constant != NULL))
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_FAILED,
                              "the INT8 plan's weights of this layer do not match the model's");
      return FALSE;
    }
  cout = w->shape[0];
  for (guint d = 1; d < w->n_dims; d++)
    per *= w->shape[d];
  if ((gint64) kestrel_tensor_get_n_elements (scales->constant) != cout)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_FAILED,
                              "the INT8 plan has %zu weight scales for %" G_GINT64_FORMAT " output channels",
                              kestrel_tensor_get_n_elements (scales->constant), cout);
      return FALSE;
    }
  axis_shape[0] = cout;

  /* s8 weights at the plan's scales, rounded as the INT8 pass rounds. */
  const float *wf = kestrel_tensor_get_data (w->constant);
  const float *sf = kestrel_tensor_get_data (scales->constant);
  g_autoptr(KestrelTensor) wq = kestrel_tensor_new (KESTREL_DTYPE_INT8, w->n_dims, w->shape, NULL);
  g_autoptr(KestrelTensor) ws = kestrel_tensor_new (KESTREL_DTYPE_FLOAT32, 1, axis_shape, NULL);
  g_autoptr(KestrelTensor) wz = kestrel_tensor_new (KESTREL_DTYPE_INT8, 1, axis_shape, NULL);
  gint8 *wd = kestrel_tensor_get_data (wq);
  memcpy (kestrel_tensor_get_data (ws), sf, cout * sizeof (float));
  for (gint64 c = 0; c < cout; c++)
    for (gint64 i = 0; i < per; i++)
      wd[c * per + i] = (gint8) CLAMP (lrintf (wf[c * per + i] / sf[c]), -127, 127);

  g_autofree char *wname = g_strconcat (node->name, "_weight", NULL);
  gint q = kestrel_graph_new_constant (graph, wname, wq);
  gint s = kestrel_graph_new_constant (graph, wname, ws);
  gint z = kestrel_graph_new_constant (graph, wname, wz);
  gint dq = add_qdq_node (graph, "DequantizeLinear", wname, q, s, z, wv, KESTREL_DTYPE_FLOAT32, 0);
  node = kestrel_graph_node (graph, n);
  g_array_index (node->inputs, gint, 1) = dq;

  if (bv >= 0)
    {
      /* The plan's s32 bias, in units of input scale x weight scale. */
      g_autoptr(KestrelTensor) bs = kestrel_tensor_new (KESTREL_DTYPE_FLOAT32, 1, axis_shape, NULL);
      g_autoptr(KestrelTensor) bz = kestrel_tensor_new (KESTREL_DTYPE_INT32, 1, axis_shape, NULL);
      float *bsd = kestrel_tensor_get_data (bs);
      g_autofree char *bname = g_strconcat (node->name, "_bias", NULL);

      for (gint64 c = 0; c < cout; c++)
        bsd[c] = x_scale * sf[c];
      gint bq = kestrel_graph_new_constant (graph, bname, bias->constant);
      gint bsv = kestrel_graph_new_constant (graph, bname, bs);
      gint bzv = kestrel_graph_new_constant (graph, bname, bz);
      gint bdq = add_qdq_node (graph, "DequantizeLinear", bname, bq, bsv, bzv, bv, KESTREL_DTYPE_FLOAT32, 0);
      node = kestrel_graph_node (graph, n);
      g_array_index (node->inputs, gint, 2) = bdq;
    }
  return TRUE;
}

/* Q -> DQ on activation `v` at the table's parameters; the nodes in
 * `readers` (all, when NULL) read the DQ. */
static gboolean
quantise_activation (KestrelGraph *graph, const KestrelQuantTable *table, const char *name, GHashTable *readers,
                     GError **error)
{
  gint v = kestrel_graph_find_value (graph, name);
  KestrelQuantParams p;
  g_autoptr(GArray) consumers = NULL;

  if (v < 0)
    return TRUE;  /* not a tensor of the model (cannot happen: named from it) */
  if (!kestrel_quant_table_lookup (table, name, &p))
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "the calibration table has no range for tensor '%s'", name);
      return FALSE;
    }
  consumers = kestrel_graph_consumers (graph, v);
  /* None of them INT8: the INT8 reader is behind a Transpose the NHWC pass
   * took away (a graph input in NHWC); rounding commutes with it. */
  if (readers != NULL)
    {
      gboolean any = FALSE;
      for (guint c = 0; c < consumers->len; c++)
        any |= g_hash_table_contains (readers, kestrel_graph_node (graph, g_array_index (consumers, gint, c))->name);
      if (!any)
        readers = NULL;
    }
  gint s = scalar_constant (graph, name, KESTREL_DTYPE_FLOAT32, &p.scale);
  gint z = scalar_constant (graph, name, KESTREL_DTYPE_UINT8, &p.zero_point);
  gint q = add_qdq_node (graph, "QuantizeLinear", name, v, s, z, v, KESTREL_DTYPE_UINT8, -1);
  gint dq = add_qdq_node (graph, "DequantizeLinear", name, q, s, z, v, KESTREL_DTYPE_FLOAT32, -1);

  for (guint c = 0; c < consumers->len; c++)
    {
      KestrelNode *node = kestrel_graph_node (graph, g_array_index (consumers, gint, c));
      if (readers != NULL && !g_hash_table_contains (readers, node->name))
        continue;
      for (guint i = 0; i < kestrel_node_n_inputs (node); i++)
        if (kestrel_node_input (node, i) == v)
          g_array_index (node->inputs, gint, i) = dq;
    }
  return TRUE;
}

KestrelGraph *
kestrel_qdq_export_graph (KestrelModel *model, const KestrelQuantTable *table, GError **error)
{
  const KestrelGraph *prepared = kestrel_model_get_graph (model);
  Int8Facts facts = { 0 };
  KestrelGraph *out = NULL, *int8;

  if (strcmp (kestrel_quant_table_get_model_hash (table), kestrel_model_get_content_hash (model)) != 0)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "%s: the calibration table was made for another model", kestrel_model_get_origin (model));
      return NULL;
    }
  int8 = kestrel_graph_new_fast (prepared, KESTREL_FAST_NO_RESIDUAL | KESTREL_FAST_NO_DW_PW
                                               | KESTREL_FAST_KEEP_REFERENCE_GEMMS, error);
  if (int8 == NULL)
    return NULL;
  if (!kestrel_graph_quantize (int8, prepared, table, kestrel_quant_table_get_fp32_layers (table), error))
    goto out;
  facts_read (&facts, int8, prepared);

  out = kestrel_graph_copy (prepared);
  for (guint n = 0, len = out->nodes->len; n < len; n++)
    {
      const KestrelNode *node = kestrel_graph_node (out, n);
      const KestrelNode *qconv = g_hash_table_lookup (facts.convs, node->name);

      if (qconv != NULL && strcmp (node->op_type, "Conv") == 0 && !quantise_conv (out, n, int8, qconv, error))
        goto fail;
    }
  /* In the model's order, so the file reads like the model. */
  for (guint v = 0; v < prepared->values->len; v++)
    {
      const char *name = kestrel_graph_value (prepared, v)->name;
      if (g_hash_table_contains (facts.u8_results, name))
        {
          if (!quantise_activation (out, table, name, NULL, error))
            goto fail;
        }
      else if (g_hash_table_contains (facts.u8_inputs, name)
               && !quantise_activation (out, table, name, facts.int8_nodes, error))
        goto fail;
    }
  if (!kestrel_graph_sort (out, error))
    goto fail;
  goto out;

fail:
  g_clear_pointer (&out, kestrel_graph_free);
out:
  facts_clear (&facts);
  kestrel_graph_free (int8);
  return out;
}

GBytes *
kestrel_qdq_export (KestrelModel *model, const KestrelQuantTable *table, GError **error)
{
  KestrelGraph *graph = kestrel_qdq_export_graph (model, table, error);
  GBytes *bytes;

  if (graph == NULL)
    return NULL;
  /* Per-channel DequantizeLinear (axis) needs opset 13. */
  bytes = kestrel_onnx_graph_to_bytes (graph, MAX (graph->opset, 13), "kestrel-cli quantize", error);
  kestrel_graph_free (graph);
  return bytes;
}

gboolean
kestrel_qdq_export_to_file (KestrelModel *model, const KestrelQuantTable *table, const char *path,
                            GError **error)
{
  g_autoptr(GBytes) bytes = kestrel_qdq_export (model, table, error);
  g_autoptr(GError) local = NULL;
  gsize size;
  gconstpointer data;

  if (bytes == NULL)
    return FALSE;
  data = g_bytes_get_data (bytes, &size);
  /* g_file_set_contents writes a temporary file and renames it over the
   * path: a failure leaves the file there as it was. */
  if (!g_file_set_contents (path, data, size, &local))
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_FAILED, "cannot write %s: %s", path, local->message);
      return FALSE;
    }
  return TRUE;
}
