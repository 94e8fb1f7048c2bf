/* kestrel-passes-qdq.c — models quantised in the QDQ form run as INT8
 * plans on Kestrel's own integer kernels (issue 14, item 3).
 *
 * A QDQ file is a float graph with QuantizeLinear -> DequantizeLinear
 * around the tensors that are INT8 and DequantizeLinear on the integer
 * weights (ONNX Runtime's quantizer writes them so, and so does
 * `kestrel-cli quantize`). Rather than run those conversions as float
 * operators, this pass, before the graph is prepared, takes them out and
 * keeps what they say:
 *   - an activation x -> Q(scale, u8 zero point) -> DQ -> readers: the
 *     readers read x again, and x's u8 parameters are recorded;
 *   - a Conv's weights DQ(s8, per-channel scales, zero points 0) and bias
 *     DQ(s32): the Conv reads float constants chosen so that the INT8 pass
 *     (kestrel-passes-quant.c) quantises them back to exactly the file's
 *     integers at exactly the file's scales (see dequantise_weights), and
 *     the Conv is an INT8 layer; a Conv with float weights is kept FP32.
 * The model then carries a calibration table of those parameters
 * (kestrel_qdq_taken_to_table) with the FP32 layers, and its INT8 plans
 * are built as for any model: the same kestrel.Q* steps, the same kernels,
 * scales and zero points from the file. So a file `kestrel-cli quantize`
 * wrote gives bit for bit the internal INT8 plan it was written from.
 *
 * What is not recognised (s8 activations, a DQ whose output is a graph
 * output, a zero point on weights, a DQ feeding anything but a Conv's
 * weights or bias) is left as it is for the reference operators.
 */
#include "config.h"

#include "kestrel-passes.h"

#include <math.h>
#include <string.h>

#include "kestrel-error.h"

struct _KestrelQdqTaken {
  GHashTable *params;        /* tensor name -> KestrelQuantParams * */
  GPtrArray *params_order;   /* names, in the order found */
  GHashTable *int8_convs;    /* Conv name -> largest weight scale (float *) */
  GPtrArray *fp32_convs;     /* Conv names with float weights */
};

void
kestrel_qdq_taken_free (KestrelQdqTaken *taken)
{
  if (taken == NULL)
    return;
  g_hash_table_unref (taken->params);
  g_ptr_array_unref (taken->params_order);
  g_hash_table_unref (taken->int8_convs);
  g_ptr_array_unref (taken->fp32_convs);
  g_free (taken);
}

KestrelQdqTaken *
kestrel_qdq_taken_copy (const KestrelQdqTaken *taken)
{
  KestrelQdqTaken *copy = g_new0 (KestrelQdqTaken, 1);
  GHashTableIter iter;
  gpointer key, value;

  copy->params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  copy->params_order = g_ptr_array_new_with_free_func (g_free);
  copy->int8_convs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  copy->fp32_convs = g_ptr_array_new_with_free_func (g_free);
  g_hash_table_iter_init (&iter, taken->params);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (copy->params, g_strdup (key), g_memdup2 (value, sizeof (KestrelQuantParams)));
  g_hash_table_iter_init (&iter, taken->int8_convs);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (copy->int8_convs, g_strdup (key), g_memdup2 (value, sizeof (float)));
  for (guint i = 0; i < taken->params_order->len; i++)
    g_ptr_array_add (copy->params_order, g_strdup (taken->params_order->pdata[i]));
  for (guint i = 0; i < taken->fp32_convs->len; i++)
    g_ptr_array_add (copy->fp32_convs, g_strdup (taken->fp32_convs->pdata[i]));
  return copy;
}

static gboolean
is_op (const KestrelNode *node, const char *op_type)
{
  return node != NULL && !node->removed && node->domain[0] == '\0' && strcmp (node->op_type, op_type) == 0;
}

static KestrelNode *
producer_of (const KestrelGraph *graph, gint v)
{
  const KestrelValue *value = kestrel_graph_value (graph, v);

  return value != NULL && value->producer >= 0 ? kestrel_graph_node (graph, value->producer) : NULL;
}

static const KestrelTensor *
constant_of (const KestrelGraph *graph, gint v)
{
  const KestrelValue *value = kestrel_graph_value (graph, v);

  return value != NULL ? value->constant : NULL;
}

/* A Q or DQ node's scalar scale and u8 zero point. */
static gboolean
scalar_params (const KestrelGraph *graph, const KestrelNode *node, float *scale, guint8 *zero_point)
{
  const KestrelTensor *s = constant_of (graph, kestrel_node_input (node, 1));
  const KestrelTensor *z = constant_of (graph, kestrel_node_input (node, 2));

  if (s == NULL || kestrel_tensor_get_n_elements (s) != 1 || kestrel_tensor_get_dtype (s) != KESTREL_DTYPE_FLOAT32
      || z == NULL || kestrel_tensor_get_n_elements (z) != 1 || kestrel_tensor_get_dtype (z) != KESTREL_DTYPE_UINT8)
    return FALSE;
  *scale = *(const float *) kestrel_tensor_get_data ((KestrelTensor *) s);
  *zero_point = *(const guint8 *) kestrel_tensor_get_data ((KestrelTensor *) z);
  return isfinite (*scale) && *scale > 0.0f;
}

/* x -> Q -> DQ -> readers becomes x -> readers, x's parameters kept. */
static void
take_activations (KestrelGraph *graph, KestrelQdqTaken *taken)
{
  for (guint n = 0; n < graph->nodes->len; n++)
    {
      KestrelNode *dq = kestrel_graph_node (graph, n);
      KestrelNode *q = is_op (dq, "DequantizeLinear") ? producer_of (graph, kestrel_node_input (dq, 0)) : NULL;
      KestrelQuantParams p = { 0 }, d;
      gint x, y;

      if (!is_op (q, "QuantizeLinear") || kestrel_node_attr_int (q, "saturate", 1) != 1)
        continue;
      x = kestrel_node_input (q, 0);
      y = kestrel_node_output (dq, 0);
      if (x < 0 || y < 0 || constant_of (graph, x) != NULL || kestrel_graph_value (graph, y)->is_output
          || !scalar_params (graph, q, &p.scale, &p.zero_point)
          || !scalar_params (graph, dq, &d.scale, &d.zero_point) || d.scale != p.scale
          || d.zero_point != p.zero_point)
        continue;
      const char *name = kestrel_graph_value (graph, x)->name;
      if (!g_hash_table_contains (taken->params, name))
        {
          p.min = (0.0f - p.zero_point) * p.scale;
          p.max = (255.0f - p.zero_point) * p.scale;
          g_hash_table_insert (taken->params, g_strdup (name), g_memdup2 (&p, sizeof p));
          g_ptr_array_add (taken->params_order, g_strdup (name));
        }
      dq->removed = TRUE;
      kestrel_graph_replace_uses (graph, y, x);
    }
  /* A Q whose DQs all went goes too. */
  for (guint n = 0; n < graph->nodes->len; n++)
    {
      KestrelNode *q = kestrel_graph_node (graph, n);
      if (is_op (q, "QuantizeLinear") && kestrel_node_output (q, 0) >= 0
          && kestrel_graph_n_consumers (graph, kestrel_node_output (q, 0)) == 0
          && !kestrel_graph_value (graph, kestrel_node_output (q, 0))->is_output)
        q->removed = TRUE;
    }
}

/* The float weights the INT8 pass turns back into the file's: that pass
 * takes scale = max |w| / 127 per channel and q = round (w / scale). So
 * the element of a channel at +-127 becomes +-A with A / 127 == scale in
 * float (127 * scale is not always such an A: 0.7 % of floats are not
 * given back by the division; the neighbours are searched), the others q
 * * scale, which divides back to q exactly for |q| < 127. FALSE when no
 * such A is near (the channel's largest weight is not +-127, as in files
 * from other tools: the scale is then the pass's own). */
static gboolean
channel_amax (float scale, float *amax)
{
  float a = 127.0f * scale;

  for (int step = 0; step < 64; step++)
    {
      float up = a, down = a;
      for (int k = 0; k < step; k++)
        {
          up = nextafterf (up, INFINITY);
          down = nextafterf (down, 0.0f);
        }
      if (up / 127.0f == scale)
        {
          *amax = up;
          return TRUE;
        }
      if (down / 127.0f == scale)
        {
          *amax = down;
          return TRUE;
        }
    }
  return FALSE;
}

/* DQ(s8 weights [Cout, ...], scales [Cout] or scalar, zero points 0),
 * axis 0: float weights as above; the largest scale in *largest. */
static KestrelTensor *
dequantise_weights (const KestrelGraph *graph, const KestrelNode *dq, float *largest)
{
  const KestrelTensor *q = constant_of (graph, kestrel_node_input (dq, 0));
  const KestrelTensor *s = constant_of (graph, kestrel_node_input (dq, 1));
  const KestrelTensor *z = constant_of (graph, kestrel_node_input (dq, 2));
  gsize n_scales, cout, per;

  if (q == NULL || s == NULL || kestrel_tensor_get_dtype (q) != KESTREL_DTYPE_INT8
      || kestrel_tensor_get_dtype (s) != KESTREL_DTYPE_FLOAT32 || kestrel_tensor_get_n_dims (q) < 2
      || (kestrel_node_input (dq, 2) >= 0 && z == NULL))
    return NULL;
  n_scales = kestrel_tensor_get_n_elements (s);
  cout = kestrel_tensor_get_dim (q, 0);
  if (cout == 0)
    return NULL;
  if (n_scales != 1 && (n_scales != cout || kestrel_node_attr_int (dq, "axis", 1) != 0))
    return NULL;
  if (z != NULL)
    {
      const gint8 *zd = kestrel_tensor_get_data ((KestrelTensor *) z);
      if (kestrel_tensor_get_dtype (z) != KESTREL_DTYPE_INT8 || kestrel_tensor_get_n_elements (z) != n_scales)
        return NULL;
      for (gsize i = 0; i < n_scales; i++)
        if (zd[i] != 0)
          return NULL;
    }
  per = kestrel_tensor_get_n_elements (q) / cout;

  const gint8 *qd = kestrel_tensor_get_data ((KestrelTensor *) q);
  const float *sd = kestrel_tensor_get_data ((KestrelTensor *) s);
  KestrelTensor *w = kestrel_tensor_new (KESTREL_DTYPE_FLOAT32, kestrel_tensor_get_n_dims (q),
                                         kestrel_tensor_get_shape (q), NULL);
  float *wd = kestrel_tensor_get_data (w);

  *largest = 0.0f;
  for (gsize c = 0; c < cout; c++)
    {
      float scale = sd[n_scales == 1 ? 0 : c], amax = 127.0f * scale;
      if (!(isfinite (scale) && scale > 0.0f))
        {
          kestrel_tensor_unref (w);
          return NULL;
        }
      *largest = MAX (*largest, scale);
      channel_amax (scale, &amax);
      for (gsize i = 0; i < per; i++)
        {
          gint8 v = qd[c * per + i];
          wd[c * per + i] = v == 127 ? amax : v == -127 ? -amax : (float) v * scale;
        }
    }
  return w;
}

/* DQ(s32 bias [Cout], scales): float bias the INT8 pass rounds back to the
 * file's integers, b / (x_scale * w_scale) (x_scale: the Conv's input's
 * parameters, 0 when unknown: then b = q * the file's bias scale). */
static KestrelTensor *
dequantise_bias (const KestrelGraph *graph, const KestrelNode *dq, float x_scale, const KestrelTensor *w_scales)
{
  const KestrelTensor *q = constant_of (graph, kestrel_node_input (dq, 0));
  const KestrelTensor *s = constant_of (graph, kestrel_node_input (dq, 1));
  gsize n, n_scales;

  if (q == NULL || s == NULL || kestrel_tensor_get_dtype (q) != KESTREL_DTYPE_INT32
      || kestrel_tensor_get_dtype (s) != KESTREL_DTYPE_FLOAT32 || kestrel_tensor_get_n_dims (q) != 1)
    return NULL;
  n = kestrel_tensor_get_n_elements (q);
  n_scales = kestrel_tensor_get_n_elements (s);
  if (n_scales != 1 && n_scales != n)
    return NULL;

  const gint32 *qd = kestrel_tensor_get_data ((KestrelTensor *) q);
  const float *sd = kestrel_tensor_get_data ((KestrelTensor *) s);
  const float *wsd = w_scales != NULL ? kestrel_tensor_get_data ((KestrelTensor *) w_scales) : NULL;
  gsize n_w = w_scales != NULL ? kestrel_tensor_get_n_elements (w_scales) : 0;
  KestrelTensor *b = kestrel_tensor_new (KESTREL_DTYPE_FLOAT32, 1, kestrel_tensor_get_shape (q), NULL);
  float *bd = kestrel_tensor_get_data (b);

  for (gsize c = 0; c < n; c++)
    {
      double unit = (double) sd[n_scales == 1 ? 0 : c];
      if (x_scale > 0.0f && (n_w == 1 || n_w == n))
        unit = (double) x_scale * (double) wsd[n_w == 1 ? 0 : c];
      float v = (float) ((double) qd[c] * unit);
      /* Large integers: the float nearest may round back to a neighbour. */
      for (int k = 0; k < 8 && rint ((double) v / unit) != (double) qd[c]; k++)
        v = nextafterf (v, rint ((double) v / unit) < (double) qd[c] ? INFINITY : -INFINITY);
      bd[c] = v;
    }
  return b;
}

/* Conv input i (1 weights, 2 bias) from a DQ: a float constant instead. */
static void
replace_input (KestrelGraph *graph, guint n, guint i, KestrelTensor *t)
{
  gint v = kestrel_node_input (kestrel_graph_node (graph, n), i);
  const char *hint = kestrel_graph_value (graph, v)->name;
  g_autofree char *name = g_strdup (hint);
  gint c = kestrel_graph_new_constant (graph, name, t);

  g_array_index (kestrel_graph_node (graph, n)->inputs, gint, i) = c;
}

static void
take_conv_weights (KestrelGraph *graph, KestrelQdqTaken *taken)
{
  for (guint n = 0; n < graph->nodes->len; n++)
    {
      KestrelNode *conv = kestrel_graph_node (graph, n);
      KestrelNode *wdq, *bdq;
      KestrelQuantParams xp;
      float largest;
      g_autoptr(KestrelTensor) w = NULL;
      g_autoptr(KestrelTensor) b = NULL;

      if (!is_op (conv, "Conv") || kestrel_node_input (conv, 0) < 0)
        continue;
      wdq = producer_of (graph, kestrel_node_input (conv, 1));
      bdq = producer_of (graph, kestrel_node_input (conv, 2));
      if (is_op (wdq, "DequantizeLinear"))
        w = dequantise_weights (graph, wdq, &largest);
      if (w == NULL)
        {
          g_ptr_array_add (taken->fp32_convs, g_strdup (conv->name));
          continue;
        }
      if (bdq != NULL)
        {
          const KestrelQuantParams *x = g_hash_table_lookup (taken->params,
                                                              kestrel_graph_value (graph, kestrel_node_input (conv, 0))->name);
          xp.scale = x != NULL ? x->scale : 0.0f;
          if (is_op (bdq, "DequantizeLinear"))
            b = dequantise_bias (graph, bdq, xp.scale, constant_of (graph, kestrel_node_input (wdq, 1)));
          if (b == NULL)
            {
              /* A bias the pass cannot take: the layer stays as written. */
              g_ptr_array_add (taken->fp32_convs, g_strdup (conv->name));
              continue;
            }
          replace_input (graph, n, 2, b);
        }
      replace_input (graph, n, 1, w);
      g_hash_table_insert (taken->int8_convs, g_strdup (kestrel_graph_node (graph, n)->name),
                           g_memdup2 (&largest, sizeof largest));
    }
  /* DQs nothing reads any more go. */
  for (guint n = 0; n < graph->nodes->len; n++)
    {
      KestrelNode *dq = kestrel_graph_node (graph, n);
      if (is_op (dq, "DequantizeLinear") && kestrel_node_output (dq, 0) >= 0
          && kestrel_graph_n_consumers (graph, kestrel_node_output (dq, 0)) == 0
          && !kestrel_graph_value (graph, kestrel_node_output (dq, 0))->is_output)
        dq->removed = TRUE;
    }
}

gboolean
kestrel_graph_take_qdq (KestrelGraph *graph, KestrelQdqTaken **taken_out, GError **error)
{
  KestrelQdqTaken *taken;
  gboolean any = FALSE;

  *taken_out = NULL;
  for (guint n = 0; n < graph->nodes->len && !any; n++)
    any = is_op (kestrel_graph_node (graph, n), "DequantizeLinear");
  if (!any)
    return TRUE;

  taken = g_new0 (KestrelQdqTaken, 1);
  taken->params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  taken->params_order = g_ptr_array_new_with_free_func (g_free);
  taken->int8_convs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  taken->fp32_convs = g_ptr_array_new_with_free_func (g_free);
  take_activations (graph, taken);
  take_conv_weights (graph, taken);
  kestrel_graph_compact (graph);
  if (!kestrel_graph_sort (graph, error))
    {
      kestrel_qdq_taken_free (taken);
      return FALSE;
    }
  if (g_hash_table_size (taken->int8_convs) == 0 && g_hash_table_size (taken->params) == 0)
    {
      kestrel_qdq_taken_free (taken);
      return TRUE;
    }
  *taken_out = taken;
  return TRUE;
}

/* A tensor the INT8 pass looks up that the file gives no Q for: the
 * output of a convolution that writes float (its readers are all float).
 * Its scale only has to let the pass represent the requantisation (scales
 * x_scale * w_scale / y_scale below 2^-2), which it then does not use. */
static void
add_float_output_params (KestrelQuantTable *table, const KestrelGraph *graph, const KestrelQdqTaken *taken)
{
  for (guint n = 0; n < graph->nodes->len; n++)
    {
      const KestrelNode *conv = kestrel_graph_node (graph, n);
      const float *largest = g_hash_table_lookup (taken->int8_convs, conv->name);
      KestrelQuantParams xp, yp = { 0 };
      gint y;

      if (largest == NULL || !is_op (conv, "Conv")
          || !kestrel_quant_table_lookup (table, kestrel_graph_value (graph, kestrel_node_input (conv, 0))->name, &xp))
        continue;
      yp.scale = 16.0f * xp.scale * *largest;
      yp.max = 255.0f * yp.scale;
      for (y = kestrel_node_output (conv, 0); y >= 0;)
        {
          const char *name = kestrel_graph_value (graph, y)->name;
          KestrelNode *next = kestrel_graph_single_reader (graph, y);
          float lo, hi;

          if (!kestrel_quant_table_lookup (table, name, NULL))
            kestrel_quant_table_set_params (table, name, &yp);
          y = next != NULL && kestrel_graph_activation_bounds (graph, next, &lo, &hi) ? kestrel_node_output (next, 0) : -1;
        }
    }
}

KestrelQuantTable *
kestrel_qdq_taken_to_table (const KestrelQdqTaken *taken, const KestrelGraph *prepared, const char *model_hash)
{
  KestrelQuantTable *table = kestrel_quant_table_new (model_hash, "qdq", 0);
  g_autoptr(GPtrArray) fp32 = g_ptr_array_new ();

  for (guint i = 0; i < taken->params_order->len; i++)
    {
      const char *name = taken->params_order->pdata[i];
      kestrel_quant_table_set_params (table, name, g_hash_table_lookup (taken->params, name));
    }
  add_float_output_params (table, prepared, taken);
  for (guint i = 0; i < taken->fp32_convs->len; i++)
    g_ptr_array_add (fp32, taken->fp32_convs->pdata[i]);
  g_ptr_array_add (fp32, NULL);
  kestrel_quant_table_set_fp32_layers (table, (const char *const *) fp32->pdata);
  return table;
}
