/* kestrel-passes-quant.c — the INT8 rewrite (kestrel_graph_quantize, see
 * kestrel-passes.h).
 *
 * It runs on the graph the fast passes made with KESTREL_FAST_NO_RESIDUAL
 * and KESTREL_FAST_NO_DW_PW, at every level: an INT8 plan is the same graph
 * whatever its level, which only picks the kernels (scalar or the best
 * ISA) and the threads, so that every level gives the same bits.
 *
 * What becomes INT8 (ops-quant.h):
 *   kestrel.ConvNhwc   pointwise, dense (one group) or depthwise, with a
 *                      Relu/Clip clamp or none, no residual, not named in
 *                      fp32_layers -> kestrel.QConvNhwc; always, reading a
 *                      QuantizeU8 of its input when that is float
 *   kestrel.MaxPoolNhwc -> QMaxPoolNhwc   } when at least one activation
 *   Concat -> QConcat                     } input comes from an INT8 operator
 *   kestrel.PadAxis -> QConcat            } (with before / after: the
 *                                           padding at the zero point)
 *   Add (same shapes) [+ Relu/Clip] -> QAdd  when every activation input does
 * A QAdd whose input is a QConvNhwc's u8 output read by nothing else is
 * then fused into that convolution (fuse_residual_adds: the same bits).
 * Everything else stays float. Where a float operator reads an INT8
 * result a DequantizeU8 goes between; a convolution whose readers are all
 * float (a detector's heads, the graph outputs) writes float itself from
 * its s32 accumulators rather than rounding to u8 first. A convolution
 * stays float when its requantisation or bias cannot be represented (the
 * kernels' limits); that is rare, and logged with g_debug.
 *
 * Parameters: each tensor's come from the table under its model name
 * (kestrel_graph_get_model_value_name()); a MaxPool's output keeps its
 * input's; a Concat's constant inputs are quantised at its output's. A
 * tensor the model has but the table lacks is an error naming it; one the
 * passes made (no model counterpart) keeps its operator float.
 *
 * Weights: symmetric per output channel, scale = max |w| / 127, s8 in
 * [-127, 127]; a channel of zeros takes the largest scale of the layer;
 * bias s32 = round (b / (x_scale * w_scale[c])).
 *
 * INT4 plans (kestrel_graph_quantize_int4): the same rewrite, and the
 * one-group convolutions not in int8_layers (with k within the INT4 gemm's
 * depth) get INT4 weights (kestrel-int4-weights.h): w_scale is the
 * channel's unit, the s8 weights are the widened m * (q - z), and the
 * QConvNhwc has w_int4 = 1, which makes it pack and run them as nibbles.
 * Depthwise convolutions stay INT8.
 */
#include "config.h"

#include "kestrel-passes.h"

#include <math.h>
#include <string.h>

#include "kestrel-error.h"
#include "kestrel-int4-weights.h"
#include "kestrel-kernels.h"

typedef enum {
  Q_NONE,
  Q_CONV,
  Q_POOL,
  Q_ADD,
  Q_CONCAT,
} QKind;

typedef struct {
  QKind kind;
  gboolean absorbed;        /* a Relu/Clip an INT8 Add took in */
  KestrelNode *act;         /* Q_ADD: the Relu/Clip it absorbs, or NULL */
  float act_lo, act_hi;
  /* Q_CONV: the quantised weights, bias and scales (constants to add) */
  KestrelTensor *w, *b, *w_scale;
  gboolean int4;            /* Q_CONV: the weights are INT4 blocks */
} QNode;

typedef struct {
  gint u8;                  /* the u8 version of this float value, or -1 */
  float scale;
  gint32 zero_point;
} QValue;

typedef struct {
  KestrelGraph *graph;
  const KestrelGraph *reference;
  const KestrelQuantTable *table;
  guint n_nodes;            /* nodes before the rewrite */
  QNode *nodes;
  QValue *values;           /* per value index (grown as values are added) */
  guint n_values;
  gboolean int4;            /* an INT4 plan: eligible convolutions get INT4 weights */
  const char *const *int8_layers;  /* INT4 plans: layers kept INT8 */
} QPass;

static gboolean
is_op (const KestrelNode *node, const char *domain, const char *op_type)
{
  return !node->removed && strcmp (node->domain, domain) == 0 && strcmp (node->op_type, op_type) == 0;
}

static QValue *
qvalue (QPass *q, gint v)
{
  if ((guint) v >= q->n_values)
    {
      guint n = MAX ((guint) v + 1, q->n_values * 2);
      q->values = g_renew (QValue, q->values, n);
      for (guint i = q->n_values; i < n; i++)
        q->values[i] = (QValue) { .u8 = -1 };
      q->n_values = n;
    }
  return &q->values[v];
}

/* The table's parameters of float value v. FALSE without error when the
 * model has no such tensor (the passes made it); FALSE with one when the
 * table lacks a tensor the model has. */
static gboolean
lookup (QPass *q, gint v, KestrelQuantParams *out, GError **error)
{
  const char *name = kestrel_graph_get_model_value_name (q->graph, v);
  const KestrelValue *value = kestrel_graph_value (q->graph, v);

  if (kestrel_quant_table_lookup (q->table, name, out))
    return TRUE;
  /* A Transpose the NHWC pass put in (at a graph input, say) moves values
   * without changing them: its input's parameters are its own. */
  if (value->producer >= 0 && kestrel_graph_find_value (q->reference, name) < 0)
    {
      const KestrelNode *producer = kestrel_graph_node (q->graph, value->producer);
      if (is_op (producer, "", "Transpose") && kestrel_node_output (producer, 0) == v)
        return lookup (q, kestrel_node_input (producer, 0), out, error);
    }
  if (kestrel_graph_find_value (q->reference, name) >= 0)
    g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                 "the calibration table has no range for tensor '%s' of the model "
                 "(a table made for another model or version?)", name);
  return FALSE;
}

static gboolean
is_activation (const KestrelGraph *graph, gint v)
{
  const KestrelValue *value = kestrel_graph_value (graph, v);

  return value != NULL && value->constant == NULL && value->has_shape && value->dtype == KESTREL_DTYPE_FLOAT32;
}

/* Whether value v comes from an operator this pass makes INT8. */
static gboolean
from_int8 (const QPass *q, gint v)
{
  const KestrelValue *value = kestrel_graph_value (q->graph, v);

  return value != NULL && value->producer >= 0 && (guint) value->producer < q->n_nodes
         && (q->nodes[value->producer].kind != Q_NONE || q->nodes[value->producer].absorbed);
}

static gboolean
in_list (const char *const *list, const char *name)
{
  for (guint i = 0; list != NULL && list[i] != NULL; i++)
    if (strcmp (list[i], name) == 0)
      return TRUE;
  return FALSE;
}

/* Per output channel symmetric s8 weights and s32 bias for a conv whose
 * input scale is x_scale and output scale y_scale (0 for a float output).
 * FALSE when the kernels cannot represent the layer. */
static gboolean
quantise_conv_weights (QPass *q, const KestrelNode *node, QNode *qn, float x_scale, float y_scale,
                       gboolean int4)
{
  const KestrelValue *wv = kestrel_graph_value (q->graph, kestrel_node_input (node, 1));
  const KestrelValue *bv = kestrel_graph_value (q->graph, kestrel_node_input (node, 2));
  const float *w = kestrel_tensor_get_data (wv->constant);
  const float *b = bv != NULL ? kestrel_tensor_get_data (bv->constant) : NULL;
  gint64 cout = wv->shape[0], per = wv->shape[1] * wv->shape[2] * wv->shape[3];
  g_autofree double *multipliers = g_new (double, cout);
  g_autofree gint32 *mult = g_new (gint32, cout);
  guint32 shift;
  float largest = 0.0f;

  g_autoptr(KestrelTensor) wq = kestrel_tensor_new (KESTREL_DTYPE_INT8, 4, wv->shape, NULL);
  g_autoptr(KestrelTensor) bq = b != NULL ? kestrel_tensor_new (KESTREL_DTYPE_INT32, 1, wv->shape, NULL) : NULL;
  g_autoptr(KestrelTensor) sq = kestrel_tensor_new (KESTREL_DTYPE_FLOAT32, 1, wv->shape, NULL);
  gint8 *wd = kestrel_tensor_get_data (wq);
  gint32 *bd = bq != NULL ? kestrel_tensor_get_data (bq) : NULL;
  float *sd = kestrel_tensor_get_data (sq);

  if (int4 && !kestrel_int4_quantize_conv (w, wv->shape, KESTREL_INT4_SCHEME, wd, sd))
    return FALSE;
  for (gint64 c = 0; c < cout && !int4; c++)
    {
      float amax = 0.0f;
      for (gint64 i = 0; i < per; i++)
        amax = MAX (amax, fabsf (w[c * per + i]));
      if (!isfinite (amax))
        return FALSE;
      sd[c] = amax / 127.0f;
      largest = MAX (largest, sd[c]);
    }
  for (gint64 c = 0; c < cout; c++)
    {
      if (!int4 && !(sd[c] > 0.0f))
        sd[c] = largest > 0.0f ? largest : 1.0f;
      for (gint64 i = 0; i < per && !int4; i++)
        wd[c * per + i] = (gint8) CLAMP (lrintf (w[c * per + i] / sd[c]), -127, 127);
      if (bd != NULL)
        {
          double bias = rint ((double) b[c] / ((double) x_scale * (double) sd[c]));
          if (!(fabs (bias) <= KK_QGEMM_MAX_ABS_BIAS))
            return FALSE;
          bd[c] = (gint32) bias;
        }
      multipliers[c] = y_scale > 0.0f ? (double) x_scale * (double) sd[c] / (double) y_scale : 0.0;
    }
  if (y_scale > 0.0f && !kk_requant_from_scales (multipliers, cout, mult, &shift))
    return FALSE;
  qn->w = g_steal_pointer (&wq);
  qn->b = g_steal_pointer (&bq);
  qn->w_scale = g_steal_pointer (&sq);
  return TRUE;
}

/* A ConvNhwc the INT8 operator can run. */
static gboolean
classify_conv (QPass *q, KestrelNode *node, const char *const *fp32_layers, QNode *qn, GError **error)
{
  const KestrelValue *x = kestrel_graph_value (q->graph, kestrel_node_input (node, 0));
  const KestrelValue *w = kestrel_graph_value (q->graph, kestrel_node_input (node, 1));
  const KestrelValue *b = kestrel_graph_value (q->graph, kestrel_node_input (node, 2));
  gint64 group = kestrel_node_attr_int (node, "group", 1);
  KestrelQuantParams xp, yp;
  guint n;
  const gint64 *dilations = kestrel_node_attr_ints (node, "dilations", &n);

  if (in_list (fp32_layers, node->name) || kestrel_node_find_attr (node, "act") != NULL
      || kestrel_node_input (node, 3) >= 0 || kestrel_node_n_outputs (node) != 1
      || !is_activation (q->graph, kestrel_node_input (node, 0)) || w == NULL || w->constant == NULL
      || w->n_dims != 4 || (b != NULL && b->constant == NULL) || x->n_dims != 4)
    return TRUE;
  if (group != 1)
    {
      gboolean depthwise = group == x->shape[3] && w->shape[0] == group && w->shape[1] == 1;
      for (guint i = 0; i < n; i++)
        depthwise &= dilations[i] == 1;
      if (!depthwise)
        return TRUE;
    }
  if (w->shape[1] * w->shape[2] * w->shape[3] > KK_QGEMM_MAX_K)
    return TRUE;
  if (!lookup (q, kestrel_node_input (node, 0), &xp, error)
      || !lookup (q, kestrel_node_output (node, 0), &yp, error))
    return error == NULL || *error == NULL;
  /* INT4 plans: one-group convolutions within the INT4 gemm's depth, but
   * for the layers kept INT8 (depthwise ones always stay INT8). */
  qn->int4 = q->int4 && group == 1 && w->shape[1] * w->shape[2] * w->shape[3] <= KK_QGEMM_S4_MAX_K
             && !in_list (q->int8_layers, node->name);
  /* The output scale is checked here whether or not the layer ends up
   * writing float: which it does depends on its readers. */
  if (!quantise_conv_weights (q, node, qn, xp.scale, yp.scale, qn->int4))
    {
      g_debug ("INT8: %s stays float (its requantisation or bias is out of the kernels' range)", node->name);
      return TRUE;
    }
  qn->kind = Q_CONV;
  return TRUE;
}

/* MaxPool and Concat go INT8 when one of their activation inputs comes
 * from an INT8 operator, an Add when both do, and every activation input
 * and the output
 * have parameters the kernels can rescale between. */
static gboolean
classify_other (QPass *q, KestrelNode *node, QNode *qn, GError **error)
{
  gboolean pool = is_op (node, "kestrel", "MaxPoolNhwc");
  gboolean add = is_op (node, "", "Add") && kestrel_node_n_inputs (node) == 2;
  /* PadAxis is a Concat with zeros (kestrel-passes-pad.c) and goes INT8
   * as one: a QConcat of its input that fills the rest with the output's
   * zero point, the bits the Concat's quantised zeros gave. */
  gboolean concat = is_op (node, "", "Concat") || is_op (node, "kestrel", "PadAxis");
  gboolean any_int8 = FALSE, all_int8 = TRUE;
  KestrelQuantParams p[2], yp;
  gint out = kestrel_node_output (node, 0);

  if ((!pool && !add && !concat) || kestrel_node_n_outputs (node) != 1 || !is_activation (q->graph, out))
    return TRUE;
  for (guint i = 0; i < kestrel_node_n_inputs (node); i++)
    {
      gint v = kestrel_node_input (node, i);
      const KestrelValue *value = kestrel_graph_value (q->graph, v);
      if (value == NULL)
        return TRUE;
      if (value->constant != NULL)
        {
          if (!concat || value->dtype != KESTREL_DTYPE_FLOAT32)
            return TRUE;
          continue;
        }
      if (!is_activation (q->graph, v))
        return TRUE;
      any_int8 |= from_int8 (q, v);
      all_int8 &= from_int8 (q, v);
    }
  /* An Add with a float input stays float: made INT8, it would round that
   * input (a residual stream, when the layer before it is kept FP32) and
   * its own sum to u8 at per-tensor ranges, which is what breaks the
   * stream (core/quant/README.md, "The residual stream"). */
  if (!any_int8 || (add && !all_int8))
    return TRUE;
  if (pool)
    {
      qn->kind = Q_POOL;
      return TRUE;
    }

  gint y = out;
  if (add)
    {
      const KestrelValue *a = kestrel_graph_value (q->graph, kestrel_node_input (node, 0));
      const KestrelValue *b = kestrel_graph_value (q->graph, kestrel_node_input (node, 1));
      KestrelNode *next = kestrel_graph_single_reader (q->graph, out);

      if (a->n_dims != b->n_dims || memcmp (a->shape, b->shape, a->n_dims * sizeof (gint64)) != 0)
        return TRUE;
      qn->act_lo = -INFINITY;
      qn->act_hi = INFINITY;
      if (next != NULL && kestrel_node_n_outputs (next) == 1
          && kestrel_graph_activation_bounds (q->graph, next, &qn->act_lo, &qn->act_hi))
        {
          qn->act = next;
          y = kestrel_node_output (next, 0);
        }
    }
  if (!lookup (q, y, &yp, error))
    return error == NULL || *error == NULL;
  for (guint i = 0; i < kestrel_node_n_inputs (node); i++)
    {
      gint v = kestrel_node_input (node, i);
      kk_qadd_params check;
      KestrelQuantParams *ip = &p[MIN (i, 1)];

      if (kestrel_graph_value (q->graph, v)->constant != NULL)
        continue;
      /* An INT8 input's parameters are known once its producer is
       * rewritten; the table's are what they will be, except after a
       * MaxPool (its input's), which the rescale check below tolerates. */
      if (!lookup (q, v, ip, error))
        return error == NULL || *error == NULL;
      if (!add && !kk_qadd_params_from_scales ((double) ip->scale, 0, (double) yp.scale, &check))
        return TRUE;
    }
  if (add)
    {
      kk_qadd_params check;
      if (!kk_qadd_params_from_scales ((double) p[0].scale, (double) p[1].scale, (double) yp.scale, &check))
        return TRUE;
    }
  qn->kind = add ? Q_ADD : Q_CONCAT;
  if (qn->act != NULL)
    q->nodes[kestrel_graph_value (q->graph, kestrel_node_output (qn->act, 0))->producer].absorbed = TRUE;
  return TRUE;
}

static void
set_params_attrs (KestrelNode *node, const char *prefix, float scale, gint32 zero_point)
{
  g_autofree char *s = g_strconcat (prefix, "_scale", NULL);
  g_autofree char *z = g_strconcat (prefix, "_zero_point", NULL);

  kestrel_node_set_attr_float (node, s, scale);
  kestrel_node_set_attr_int (node, z, zero_point);
}

/* A new u8 value shaped like float value v, with parameters. */
static gint
new_u8_value (QPass *q, gint v, float scale, gint32 zero_point)
{
  const KestrelValue *f = kestrel_graph_value (q->graph, v);
  g_autofree char *hint = g_strconcat (f->name, "_u8", NULL);
  gint u = kestrel_graph_new_value (q->graph, hint);

  f = kestrel_graph_value (q->graph, v);
  kestrel_value_set_shape (kestrel_graph_value (q->graph, u), KESTREL_DTYPE_UINT8, f->n_dims, f->shape);
  qvalue (q, v)->u8 = u;
  qvalue (q, v)->scale = scale;
  qvalue (q, v)->zero_point = zero_point;
  return u;
}

/* The u8 version of float activation v: an INT8 operator's result, or a
 * QuantizeU8 of it at the table's parameters (made once). */
static gint
u8_of (QPass *q, gint v, GError **error)
{
  KestrelQuantParams p;
  gint node_index, u;

  if (qvalue (q, v)->u8 >= 0)
    return qvalue (q, v)->u8;
  if (!lookup (q, v, &p, error))
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_FAILED, "INT8: tensor '%s' has no parameters",
                     kestrel_graph_value (q->graph, v)->name);
      return -1;
    }
  u = new_u8_value (q, v, p.scale, p.zero_point);
  node_index = kestrel_graph_add_node (q->graph, "kestrel", "QuantizeU8", NULL);
  KestrelNode *node = kestrel_graph_node (q->graph, node_index);
  kestrel_node_add_input (node, v);
  kestrel_node_add_output (q->graph, node_index, u);
  set_params_attrs (node, "y", p.scale, p.zero_point);
  return u;
}

/* Whether float value v is read by anything but the INT8 operators (and
 * the activations they absorb), or is a graph output. */
static gboolean
needs_float (QPass *q, gint v)
{
  g_autoptr(GArray) readers = kestrel_graph_consumers (q->graph, v);

  if (kestrel_graph_value (q->graph, v)->is_output)
    return TRUE;
  for (guint i = 0; i < readers->len; i++)
    {
      gint r = g_array_index (readers, gint, i);

      if ((guint) r >= q->n_nodes || (q->nodes[r].kind == Q_NONE && !q->nodes[r].absorbed))
        return TRUE;
    }
  return FALSE;
}

static gboolean
has_int8_reader (QPass *q, gint v)
{
  g_autoptr(GArray) readers = kestrel_graph_consumers (q->graph, v);

  for (guint i = 0; i < readers->len; i++)
    {
      gint r = g_array_index (readers, gint, i);
      if ((guint) r < q->n_nodes && q->nodes[r].kind != Q_NONE)
        return TRUE;
    }
  return FALSE;
}

/* Removes `old`; its outputs are now another node's. */
static void
retire (KestrelNode *old)
{
  old->removed = TRUE;
  for (guint o = 0; o < kestrel_node_n_outputs (old); o++)
    g_array_index (old->outputs, gint, o) = -1;
}

/* New INT8 node `op_type` replacing `old`, its attributes copied. */
static KestrelNode *
replace_node (QPass *q, KestrelNode *old, const char *op_type, gint *index)
{
  *index = kestrel_graph_add_node (q->graph, "kestrel", op_type, old->name);
  KestrelNode *node = kestrel_graph_node (q->graph, *index);

  kestrel_node_copy_attrs (node, old, NULL);
  if (kestrel_node_find_attr (node, "model_value") == NULL)
    kestrel_node_set_attr_string (node, "model_value", kestrel_graph_get_model_value_name (q->graph,
                                                                                           kestrel_node_output (old, 0)));
  return node;
}

/* Makes node `index` write u8 for float value y (parameters given), and
 * puts a DequantizeU8 back to y when float readers need it. */
static void
output_u8 (QPass *q, gint index, gint y, float scale, gint32 zero_point)
{
  gint u = new_u8_value (q, y, scale, zero_point);

  kestrel_node_add_output (q->graph, index, u);
  if (needs_float (q, y))
    {
      gint d = kestrel_graph_add_node (q->graph, "kestrel", "DequantizeU8", NULL);
      KestrelNode *node = kestrel_graph_node (q->graph, d);
      kestrel_node_add_input (node, u);
      kestrel_node_add_output (q->graph, d, y);
      set_params_attrs (node, "x", scale, zero_point);
    }
}

static gboolean
rewrite_node (QPass *q, guint n, GError **error)
{
  KestrelNode *old = kestrel_graph_node (q->graph, n);
  QNode *qn = &q->nodes[n];
  gint y = kestrel_node_output (qn->act != NULL ? qn->act : old, 0), index;
  KestrelQuantParams yp = { 0 };
  KestrelNode *node;

  if (qn->kind == Q_NONE)
    return TRUE;
  /* Before the old node goes: the output's model name is on it. */
  if (qn->kind != Q_POOL && !lookup (q, y, &yp, error))
    {
      if (*error == NULL)
        g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_FAILED, "INT8: tensor '%s' has no parameters",
                     kestrel_graph_value (q->graph, y)->name);
      return FALSE;
    }

  switch (qn->kind)
    {
    case Q_NONE:
      return TRUE;

    case Q_CONV:
      {
        gint x = kestrel_node_input (old, 0), xq = u8_of (q, x, error);
        gboolean float_out = kestrel_node_attr_int (old, "group", 1) == 1 && !has_int8_reader (q, y);
        if (xq < 0)
          return FALSE;
        QValue xv = *qvalue (q, x);
        node = replace_node (q, old, "QConvNhwc", &index);
        kestrel_node_add_input (node, xq);
        kestrel_node_add_input (node, kestrel_graph_new_constant (q->graph, "int8_weights", qn->w));
        kestrel_node_add_input (node, qn->b != NULL ? kestrel_graph_new_constant (q->graph, "int8_bias", qn->b) : -1);
        kestrel_node_add_input (node, kestrel_graph_new_constant (q->graph, "int8_weight_scales", qn->w_scale));
        set_params_attrs (node, "x", xv.scale, xv.zero_point);
        if (qn->int4)
          kestrel_node_set_attr_int (node, "w_int4", 1);
        retire (old);
        if (float_out)
          {
            kestrel_node_set_attr_int (node, "y_float", 1);
            kestrel_node_add_output (q->graph, index, y);
            return TRUE;
          }
        set_params_attrs (node, "y", yp.scale, yp.zero_point);
        output_u8 (q, index, y, yp.scale, yp.zero_point);
        return TRUE;
      }

    case Q_POOL:
      {
        gint x = kestrel_node_input (old, 0), xq = u8_of (q, x, error);
        if (xq < 0)
          return FALSE;
        QValue xv = *qvalue (q, x);
        node = replace_node (q, old, "QMaxPoolNhwc", &index);
        kestrel_node_add_input (node, xq);
        retire (old);
        output_u8 (q, index, y, xv.scale, xv.zero_point);
        return TRUE;
      }

    case Q_ADD:
      {
        gint a = kestrel_node_input (old, 0), b = kestrel_node_input (old, 1);
        gint aq = u8_of (q, a, error), bq = aq >= 0 ? u8_of (q, b, error) : -1;
        if (bq < 0)
          return FALSE;
        node = replace_node (q, qn->act != NULL ? qn->act : old, "QAdd", &index);
        kestrel_node_add_input (node, aq);
        kestrel_node_add_input (node, bq);
        set_params_attrs (node, "a", qvalue (q, a)->scale, qvalue (q, a)->zero_point);
        set_params_attrs (node, "b", qvalue (q, b)->scale, qvalue (q, b)->zero_point);
        set_params_attrs (node, "y", yp.scale, yp.zero_point);
        kestrel_node_set_attr_float (node, "act_lo", qn->act_lo);
        kestrel_node_set_attr_float (node, "act_hi", qn->act_hi);
        retire (old);
        if (qn->act != NULL)
          retire (qn->act);
        output_u8 (q, index, y, yp.scale, yp.zero_point);
        return TRUE;
      }

    case Q_CONCAT:
      {
        guint n_in = kestrel_node_n_inputs (old);
        g_autofree gint *inputs = g_new (gint, n_in);
        for (guint i = 0; i < n_in; i++)
          {
            gint v = kestrel_node_input (old, i);
            const KestrelValue *value = kestrel_graph_value (q->graph, v);
            if (value->constant != NULL)
              {
                /* Quantised once, here, at the output's parameters. */
                g_autoptr(KestrelTensor) t = kestrel_tensor_new (KESTREL_DTYPE_UINT8, value->n_dims, value->shape, NULL);
                const float *src = kestrel_tensor_get_data (value->constant);
                guint8 *dst = kestrel_tensor_get_data (t);
                for (gsize e = 0; e < kestrel_tensor_get_n_elements (t); e++)
                  dst[e] = (guint8) CLAMP (lrintf (src[e] / yp.scale) + yp.zero_point, 0, 255);
                inputs[i] = kestrel_graph_new_constant (q->graph, "int8_constant", t);
                continue;
              }
            if ((inputs[i] = u8_of (q, v, error)) < 0)
              return FALSE;
          }
        node = replace_node (q, old, "QConcat", &index);
        KestrelAttr *scales = kestrel_node_add_attr (node, "in_scales", KESTREL_ATTR_FLOATS);
        KestrelAttr *zps = kestrel_node_add_attr (node, "in_zero_points", KESTREL_ATTR_INTS);
        scales->n = zps->n = n_in;
        scales->floats = g_new (float, n_in);
        zps->ints = g_new (gint64, n_in);
        for (guint i = 0; i < n_in; i++)
          {
            gint v = kestrel_node_input (old, i);
            gboolean constant = kestrel_graph_value (q->graph, v)->constant != NULL;
            kestrel_node_add_input (node, inputs[i]);
            scales->floats[i] = constant ? yp.scale : qvalue (q, v)->scale;
            zps->ints[i] = constant ? yp.zero_point : qvalue (q, v)->zero_point;
          }
        set_params_attrs (node, "y", yp.scale, yp.zero_point);
        retire (old);
        output_u8 (q, index, y, yp.scale, yp.zero_point);
        return TRUE;
      }
    }
  g_assert_not_reached ();
}

/* Copies attribute `from` of src to `to` on dst (a float or an int). */
static void
copy_attr_as (KestrelNode *dst, const char *to, const KestrelNode *src, const char *from)
{
  const KestrelAttr *attr = kestrel_node_find_attr (src, from);

  if (attr->type == KESTREL_ATTR_FLOAT)
    kestrel_node_set_attr_float (dst, to, attr->f);
  else
    kestrel_node_set_attr_int (dst, to, attr->i);
}

/* A QAdd one of whose inputs is the u8 output of a QConvNhwc (one group)
 * read by nothing else joins that convolution as its residual input
 * (ops-quant-conv.c): the convolution still rounds its own result to u8 at
 * its own parameters (now t_scale / t_zero_point) and adds the other input
 * exactly as the QAdd did, so the bits are the same, without the pass over
 * memory of a step of its own. */
static void
fuse_residual_adds (KestrelGraph *graph)
{
  for (guint n = 0; n < graph->nodes->len; n++)
    {
      KestrelNode *add = kestrel_graph_node (graph, n);

      if (add->removed || !is_op (add, "kestrel", "QAdd"))
        continue;
      for (guint i = 0; i < 2; i++)
        {
          gint t = kestrel_node_input (add, i), r = kestrel_node_input (add, 1 - i);
          const KestrelValue *tv = kestrel_graph_value (graph, t);
          KestrelNode *conv = tv->producer >= 0 ? kestrel_graph_node (graph, tv->producer) : NULL;
          const char *ti = i == 0 ? "a" : "b", *ri = i == 0 ? "b" : "a";
          g_autofree char *ts = g_strconcat (ti, "_scale", NULL), *tz = g_strconcat (ti, "_zero_point", NULL);
          g_autofree char *rs = g_strconcat (ri, "_scale", NULL), *rz = g_strconcat (ri, "_zero_point", NULL);

          if (conv == NULL || conv->removed || !is_op (conv, "kestrel", "QConvNhwc") || t == r
              || kestrel_node_attr_int (conv, "group", 1) != 1 || kestrel_node_attr_int (conv, "y_float", 0) != 0
              || kestrel_node_n_inputs (conv) > 4 || tv->is_output || kestrel_graph_n_consumers (graph, t) != 1)
            continue;
          while (kestrel_node_n_inputs (conv) < 4)
            kestrel_node_add_input (conv, -1);
          kestrel_node_add_input (conv, r);
          copy_attr_as (conv, "t_scale", conv, "y_scale");
          copy_attr_as (conv, "t_zero_point", conv, "y_zero_point");
          copy_attr_as (conv, "r_scale", add, rs);
          copy_attr_as (conv, "r_zero_point", add, rz);
          copy_attr_as (conv, "y_scale", add, "y_scale");
          copy_attr_as (conv, "y_zero_point", add, "y_zero_point");
          copy_attr_as (conv, "add_lo", add, "act_lo");
          copy_attr_as (conv, "add_hi", add, "act_hi");
          kestrel_node_set_attr_string (conv, "model_value", kestrel_node_attr_string (add, "model_value", NULL));
          g_array_index (conv->outputs, gint, 0) = kestrel_node_output (add, 0);
          kestrel_graph_value (graph, kestrel_node_output (add, 0))->producer = tv->producer;
          retire (add);
          break;
        }
    }
}

gboolean
kestrel_graph_quantize (KestrelGraph *graph, const KestrelGraph *reference, const KestrelQuantTable *table,
                        const char *const *fp32_layers, GError **error)
{
  return kestrel_graph_quantize_int4 (graph, reference, table, fp32_layers, FALSE, NULL, error);
}

gboolean
kestrel_graph_quantize_int4 (KestrelGraph *graph, const KestrelGraph *reference,
                             const KestrelQuantTable *table, const char *const *fp32_layers,
                             gboolean int4, const char *const *int8_layers, GError **error)
{
  QPass q = { graph, reference, table, graph->nodes->len, NULL, NULL, 0, int4, int8_layers };
  gboolean ok = FALSE;

  q.nodes = g_new0 (QNode, q.n_nodes);
  qvalue (&q, graph->values->len);

  /* Decide in graph order, so an operator sees whether its inputs' producers
   * went INT8; then rewrite in the same order. */
  for (guint n = 0; n < q.n_nodes; n++)
    {
      KestrelNode *node = kestrel_graph_node (graph, n);
      gboolean fine;

      /* A Relu/Clip an INT8 Add took in is no operator of its own. */
      if (q.nodes[n].absorbed)
        continue;
      fine = is_op (node, "kestrel", "ConvNhwc") ? classify_conv (&q, node, fp32_layers, &q.nodes[n], error)
                                                          : classify_other (&q, node, &q.nodes[n], error);
      if (!fine)
        goto out;
    }
  for (guint n = 0; n < q.n_nodes; n++)
    if (!rewrite_node (&q, n, error))
      goto out;
  fuse_residual_adds (graph);
  kestrel_graph_compact (graph);
  ok = kestrel_graph_sort (graph, error) && kestrel_graph_prepare (graph, error);

out:
  for (guint n = 0; n < q.n_nodes; n++)
    {
      g_clear_pointer (&q.nodes[n].w, kestrel_tensor_unref);
      g_clear_pointer (&q.nodes[n].b, kestrel_tensor_unref);
      g_clear_pointer (&q.nodes[n].w_scale, kestrel_tensor_unref);
    }
  g_free (q.nodes);
  g_free (q.values);
  return ok;
}
