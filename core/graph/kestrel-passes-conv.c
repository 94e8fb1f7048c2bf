/* kestrel-passes-conv.c — folding affine layers into the Conv (or
 * ConvTranspose) before them.
 *
 * Exporters leave what training needed: a BatchNormalization after each
 * Conv, or its inference form as a per-channel Mul and Add. Both are an
 * affine map per output channel c, y = a[c] * conv + b[c], which folds into
 * the Conv's constants: W'[c] = a[c] * W[c] and B'[c] = a[c] * B[c] + b[c].
 * A ConvTranspose is linear in its weights per output channel the same way
 * (the PaddleOCR detector's head: ConvTranspose, a bias Add, then
 * BatchNormalization). The rule is general (any Conv or ConvTranspose with
 * constant float weights, any chain of
 * such layers whose constants are one value or one per channel) and runs
 * for every level, like ONNX Runtime's own fusion, so each level plans the
 * same layers.
 *
 * A layer folds only when it is the Conv output's single reader and that
 * output is not a graph output, so no one else sees the unscaled values.
 * Multiplications by one go first (drop_multiplications_by_one()).
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "kestrel-passes.h"

static gboolean
is_op (const KestrelNode *node, const char *op_type)
{
  return !node->removed && node->domain[0] == '\0' && strcmp (node->op_type, op_type) == 0;
}

static const float *
float_constant (const KestrelGraph *graph, gint v, gsize *n)
{
  const KestrelValue *value = kestrel_graph_value (graph, v);

  if (value == NULL || value->constant == NULL
      || kestrel_tensor_get_dtype (value->constant) != KESTREL_DTYPE_FLOAT32)
    return NULL;
  *n = kestrel_tensor_get_n_elements (value->constant);
  return kestrel_tensor_get_data (value->constant);
}

/* A constant that broadcasts against a [N,C,...] Conv output as one value
 * per channel: a scalar, [C], or [C,1,...] / [1,C,1,...] with trailing 1s
 * up to the output's rank. Returns its values (n = 1 or C). */
static const float *
per_channel_constant (const KestrelGraph *graph, gint v, const KestrelValue *out, gsize *n)
{
  const KestrelValue *value = kestrel_graph_value (graph, v);
  const float *data = float_constant (graph, v, n);
  gint64 c = out->shape[1];
  guint rank, channel_axis;

  if (data == NULL || *n == 1)
    return data;
  if ((gint64) *n != c || value->n_dims > out->n_dims)
    return NULL;
  /* Align the constant's dimensions to the output's last ones. */
  rank = value->n_dims;
  channel_axis = out->n_dims - rank;
  for (guint d = 0; d < rank; d++)
    {
      gint64 want = channel_axis + d == 1 ? c : 1;
      if (value->shape[d] != want)
        return NULL;
    }
  return channel_axis <= 1 ? data : NULL;
}

/* The per-channel scale a and shift b of `layer` applied to the Conv's
 * output `x`, or FALSE if it is not such a layer. */
static gboolean
affine_of (const KestrelGraph *graph, const KestrelNode *layer, gint x, gint64 c, float *a, float *b)
{
  const KestrelValue *out = kestrel_graph_value (graph, x);
  gsize n;
  const float *k;

  for (gint64 i = 0; i < c; i++)
    a[i] = 1.0f, b[i] = 0.0f;

  if (is_op (layer, "BatchNormalization"))
    {
      const float *scale, *bias, *mean, *var;
      gsize n1, n2, n3, n4;

      if (kestrel_node_input (layer, 0) != x || kestrel_node_n_outputs (layer) != 1
          || kestrel_node_attr_int (layer, "training_mode", 0) != 0
          || kestrel_node_attr_int (layer, "spatial", 1) == 0
          || !(scale = float_constant (graph, kestrel_node_input (layer, 1), &n1))
          || !(bias = float_constant (graph, kestrel_node_input (layer, 2), &n2))
          || !(mean = float_constant (graph, kestrel_node_input (layer, 3), &n3))
          || !(var = float_constant (graph, kestrel_node_input (layer, 4), &n4))
          || (gint64) n1 != c || (gint64) n2 != c || (gint64) n3 != c || (gint64) n4 != c)
        return FALSE;
      float eps = kestrel_node_attr_float (layer, "epsilon", 1e-5f);
      for (gint64 i = 0; i < c; i++)
        {
          /* In double, as the reference BatchNormalization computes it. */
          double s = (double) scale[i] / sqrt ((double) var[i] + (double) eps);
          a[i] = (float) s;
          b[i] = (float) ((double) bias[i] - (double) mean[i] * s);
        }
      return TRUE;
    }

  gboolean mul = is_op (layer, "Mul"), add = is_op (layer, "Add");
  gboolean sub = is_op (layer, "Sub"), div = is_op (layer, "Div");
  if (!(mul || add || sub || div) || kestrel_node_n_inputs (layer) != 2)
    return FALSE;
  gint other = kestrel_node_input (layer, 0) == x ? kestrel_node_input (layer, 1) : kestrel_node_input (layer, 0);
  /* x - k and x / k fold; k - x and k / x do not. */
  if (other == x || ((sub || div) && kestrel_node_input (layer, 0) != x))
    return FALSE;
  if (!(k = per_channel_constant (graph, other, out, &n)))
    return FALSE;
  /* The layer must not broadcast the output to a larger shape. */
  const KestrelValue *y = kestrel_graph_value (graph, kestrel_node_output (layer, 0));
  if (y == NULL || !y->has_shape || y->n_dims != out->n_dims
      || memcmp (y->shape, out->shape, out->n_dims * sizeof (gint64)) != 0)
    return FALSE;
  for (gint64 i = 0; i < c; i++)
    {
      float v = k[n == 1 ? 0 : i];
      if (mul)
        a[i] = v;
      else if (div)
        a[i] = 1.0f / v;
      else
        b[i] = add ? v : -v;
    }
  return TRUE;
}

static KestrelNode *
single_reader (const KestrelGraph *graph, gint value)
{
  g_autoptr(GArray) readers = NULL;

  if (kestrel_graph_value (graph, value)->is_output)
    return NULL;
  readers = kestrel_graph_consumers (graph, value);
  return readers->len == 1 ? kestrel_graph_node (graph, g_array_index (readers, gint, 0)) : NULL;
}

static gboolean
fold_into_conv (KestrelGraph *graph, gint conv_index)
{
  KestrelNode *conv = kestrel_graph_node (graph, conv_index);
  gint out = kestrel_node_output (conv, 0);
  const KestrelValue *w, *outv = kestrel_graph_value (graph, out);
  KestrelNode *layer;
  gsize n_w, n_b = 0;
  const float *wd, *bd = NULL;
  gint64 c;

  gboolean transposed = is_op (conv, "ConvTranspose");
  gint64 group = 1;

  if (!(is_op (conv, "Conv") || transposed) || kestrel_node_n_outputs (conv) != 1 || outv == NULL
      || !outv->has_shape || outv->n_dims < 3 || outv->dtype != KESTREL_DTYPE_FLOAT32
      || !(wd = float_constant (graph, kestrel_node_input (conv, 1), &n_w))
      || (kestrel_node_input (conv, 2) >= 0 && !(bd = float_constant (graph, kestrel_node_input (conv, 2), &n_b))))
    return FALSE;
  w = kestrel_graph_value (graph, kestrel_node_input (conv, 1));
  if (w->n_dims < 3)
    return FALSE;
  /* Conv weights are [C_out, C_in / group, k...]; ConvTranspose's
   * [C_in, C_out / group, k...], so its output channels are the second
   * axis of each group's rows. */
  if (transposed)
    {
      group = kestrel_node_attr_int (conv, "group", 1);
      if (group < 1 || w->shape[0] % group != 0)
        return FALSE;
      c = w->shape[1] * group;
    }
  else
    c = w->shape[0];
  if (c != outv->shape[1] || (bd != NULL && (gint64) n_b != c)
      || (layer = single_reader (graph, out)) == NULL)
    return FALSE;

  g_autofree float *a = g_new (float, c);
  g_autofree float *b = g_new (float, c);
  if (!affine_of (graph, layer, out, c, a, b))
    return FALSE;

  gint64 b_shape[1] = { c };
  g_autoptr(KestrelTensor) new_w = kestrel_tensor_new (KESTREL_DTYPE_FLOAT32, w->n_dims, w->shape, NULL);
  g_autoptr(KestrelTensor) new_b = kestrel_tensor_new (KESTREL_DTYPE_FLOAT32, 1, b_shape, NULL);
  float *nw = kestrel_tensor_get_data (new_w), *nb = kestrel_tensor_get_data (new_b);
  gsize per = n_w / (gsize) c;

  if (transposed)
    {
      /* Row ci of the weights belongs to group ci / (C_in / group); its
       * column j is output channel group * (C_out / group) + j. */
      gint64 cin = w->shape[0], cpg = w->shape[1], rows_per_group = cin / group;
      gsize spatial = n_w / (gsize) (cin * cpg);

      for (gint64 ci = 0; ci < cin; ci++)
        for (gint64 j = 0; j < cpg; j++)
          {
            gint64 o = ci / rows_per_group * cpg + j;
            gsize at = ((gsize) ci * (gsize) cpg + (gsize) j) * spatial;
            for (gsize i = 0; i < spatial; i++)
              nw[at + i] = wd[at + i] * a[o];
          }
    }
  else
    for (gint64 o = 0; o < c; o++)
      for (gsize i = 0; i < per; i++)
        nw[o * per + i] = wd[o * per + i] * a[o];
  for (gint64 o = 0; o < c; o++)
    nb[o] = (bd != NULL ? bd[o] : 0.0f) * a[o] + b[o];
  g_array_index (conv->inputs, gint, 1) = kestrel_graph_new_constant (graph, "folded_w", new_w);
  while (kestrel_node_n_inputs (conv) < 3)
    kestrel_node_add_input (conv, -1);
  g_array_index (conv->inputs, gint, 2) = kestrel_graph_new_constant (graph, "folded_b", new_b);

  /* The Conv now computes the layer's output. */
  gint y = kestrel_node_output (layer, 0);
  layer->removed = TRUE;
  g_array_index (conv->outputs, gint, 0) = y;
  kestrel_graph_value (graph, y)->producer = conv_index;
  return TRUE;
}

/* Mul (x, 1) and Div (x, 1) of the same shape as x: exporters write them
 * (PaddlePaddle's swish is x * Sigmoid (1 * x)), and they hide patterns
 * such as SiLU from the fusions. Dropping them changes no bit. */
static void
drop_multiplications_by_one (KestrelGraph *graph)
{
  for (guint n = 0; n < graph->nodes->len; n++)
    {
      KestrelNode *node = kestrel_graph_node (graph, n);
      gboolean div = is_op (node, "Div");
      gint a, b, x = -1;
      const float *k;
      gsize n_k;

      if (!(is_op (node, "Mul") || div) || kestrel_node_n_inputs (node) != 2 || kestrel_node_n_outputs (node) != 1)
        continue;
      a = kestrel_node_input (node, 0);
      b = kestrel_node_input (node, 1);
      if ((k = float_constant (graph, b, &n_k)) != NULL && n_k == 1 && k[0] == 1.0f)
        x = a;
      else if (!div && (k = float_constant (graph, a, &n_k)) != NULL && n_k == 1 && k[0] == 1.0f)
        x = b;
      if (x < 0)
        continue;
      const KestrelValue *xv = kestrel_graph_value (graph, x);
      const KestrelValue *y = kestrel_graph_value (graph, kestrel_node_output (node, 0));
      if (y->is_output || !xv->has_shape || !y->has_shape || xv->dtype != y->dtype || xv->n_dims != y->n_dims
          || memcmp (xv->shape, y->shape, xv->n_dims * sizeof (gint64)) != 0)
        continue;
      node->removed = TRUE;
      kestrel_graph_replace_uses (graph, kestrel_node_output (node, 0), x);
    }
}

void
kestrel_graph_fold_conv_affine (KestrelGraph *graph)
{
  drop_multiplications_by_one (graph);
  for (guint n = 0; n < graph->nodes->len; n++)
    while (fold_into_conv (graph, n))
      ;
}
