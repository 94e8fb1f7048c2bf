/* kestrel-passes-fast.c — the SIMD levels' graph rewrites (kestrel-passes.h).
 *
 * fuse: a Conv whose only reader is an Add of a same-shaped tensor (a
 * residual connection), and/or whose result's only reader is a Relu or a
 * Clip with constant bounds, absorbs them: the Conv gets the residual as a
 * fourth input and the bounds as act_lo / act_hi. Other activations
 * (Sigmoid, SiLU as x * Sigmoid (x), HardSigmoid, HardSwish, LeakyRelu)
 * are absorbed the same way as the attribute act (see ops-fast.c). Only Convs that to_nhwc
 * will turn into kestrel.ConvNhwc are fused, so no reference operator ever
 * sees the extra input.
 *
 * to_nhwc: each such Conv (and each 2-D MaxPool) becomes
 *   Transpose(NCHW->NHWC) -> kestrel.ConvNhwc -> Transpose(NHWC->NCHW)
 * and then Transposes are moved forward through elementwise operators and
 * Concat, and adjacent Transposes are composed, until pairs cancel. In a
 * convolutional network like BlazeFace every inner Transpose cancels, as do
 * the model's own NHWC<->NCHW Transposes at its input and outputs. Last,
 * a depthwise ConvNhwc whose only reader is a pointwise ConvNhwc merges
 * with it into one kestrel.DwPwNhwc (see fuse_depthwise_pointwise()).
 */
#include "config.h"

#include "kestrel-passes.h"

#include <math.h>
#include <string.h>

#include "kestrel-error.h"

static const gint64 to_nhwc_perm[4] = { 0, 2, 3, 1 };
static const gint64 to_nchw_perm[4] = { 0, 3, 1, 2 };

static gboolean
is_op (const KestrelNode *node, const char *op_type)
{
  return !node->removed && node->domain[0] == '\0' && strcmp (node->op_type, op_type) == 0;
}

static const KestrelValue *
input_value (const KestrelGraph *graph, const KestrelNode *node, guint i)
{
  return kestrel_graph_value (graph, kestrel_node_input (node, i));
}

static gboolean
is_float_4d (const KestrelValue *value)
{
  return value != NULL && value->has_shape && value->dtype == KESTREL_DTYPE_FLOAT32
         && value->n_dims == 4;
}

/* kestrel_graph_new_fast() marks the nodes that gain nothing in NHWC. */
#define KEEP_NCHW_ATTR "kestrel_keep_nchw"

static gboolean
kept_nchw (const KestrelNode *node)
{
  return kestrel_node_attr_int (node, KEEP_NCHW_ATTR, 0) != 0;
}

/* The Convs kestrel.ConvNhwc can run: 2-D, float, constant weights/bias. */
static gboolean
conv_convertible (const KestrelGraph *graph, const KestrelNode *node)
{
  const KestrelValue *w, *b;

  if (!is_op (node, "Conv") || kept_nchw (node) || kestrel_node_n_inputs (node) < 2 || kestrel_node_n_inputs (node) > 4)
    return FALSE;
  w = input_value (graph, node, 1);
  b = input_value (graph, node, 2);
  return is_float_4d (input_value (graph, node, 0)) && is_float_4d (w) && w->constant != NULL
         && (b == NULL || b->constant != NULL)
         && is_float_4d (kestrel_graph_value (graph, kestrel_node_output (node, 0)));
}

static gboolean
maxpool_convertible (const KestrelGraph *graph, const KestrelNode *node)
{
  guint n_kernel;

  if (!is_op (node, "MaxPool") || kestrel_node_n_outputs (node) != 1 || kept_nchw (node))
    return FALSE;
  kestrel_node_attr_ints (node, "kernel_shape", &n_kernel);
  return n_kernel == 2 && kestrel_node_attr_int (node, "storage_order", 0) == 0
         && is_float_4d (input_value (graph, node, 0))
         && is_float_4d (kestrel_graph_value (graph, kestrel_node_output (node, 0)));
}

/* The only node reading `value`, or NULL if there are several, none, or the
 * value is a graph output (whose contents must stay as they are). */
KestrelNode *
kestrel_graph_single_reader (const KestrelGraph *graph, gint value)
{
  g_autoptr(GArray) readers = NULL;

  if (kestrel_graph_value (graph, value)->is_output)
    return NULL;
  readers = kestrel_graph_consumers (graph, value);
  return readers->len == 1 ? kestrel_graph_node (graph, g_array_index (readers, gint, 0)) : NULL;
}

static gboolean
constant_scalar (const KestrelGraph *graph, gint value, float *out)
{
  const KestrelValue *v = kestrel_graph_value (graph, value);

  if (v == NULL || v->constant == NULL || kestrel_tensor_get_n_elements (v->constant) != 1
      || kestrel_tensor_get_dtype (v->constant) != KESTREL_DTYPE_FLOAT32)
    return FALSE;
  *out = *(const float *) kestrel_tensor_get_data (v->constant);
  return TRUE;
}

/* Relu and Clip with known bounds, as a clamp. */
gboolean
kestrel_graph_activation_bounds (const KestrelGraph *graph, const KestrelNode *node, float *lo, float *hi)
{
  if (is_op (node, "Relu"))
    {
      *lo = 0.0f;
      *hi = INFINITY;
      return TRUE;
    }
  if (!is_op (node, "Clip"))
    return FALSE;
  if (graph->opset < 11)
    {
      *lo = kestrel_node_attr_float (node, "min", -INFINITY);
      *hi = kestrel_node_attr_float (node, "max", INFINITY);
      return TRUE;
    }
  *lo = -INFINITY;
  *hi = INFINITY;
  if (kestrel_node_input (node, 1) >= 0 && !constant_scalar (graph, kestrel_node_input (node, 1), lo))
    return FALSE;
  if (kestrel_node_input (node, 2) >= 0 && !constant_scalar (graph, kestrel_node_input (node, 2), hi))
    return FALSE;
  return TRUE;
}

/* The nodes an activation found by activation_kind() takes the place of. */
typedef struct {
  KestrelNode *nodes[4];
  guint n;
} Absorbed;

/* The float scalar constant among `node`'s two inputs, the other being
 * `x`, when the result has x's shape (a [1,1,1,1,1] "scalar" would add a
 * dimension); FALSE otherwise. */
static gboolean
scalar_operand (const KestrelGraph *graph, const KestrelNode *node, gint x, float *k)
{
  gint a = kestrel_node_input (node, 0), b = kestrel_node_input (node, 1);
  const KestrelValue *xv = kestrel_graph_value (graph, x), *y;

  if (kestrel_node_n_inputs (node) != 2 || kestrel_node_n_outputs (node) != 1)
    return FALSE;
  y = kestrel_graph_value (graph, kestrel_node_output (node, 0));
  if (!xv->has_shape || !y->has_shape || xv->n_dims != y->n_dims || xv->dtype != y->dtype
      || memcmp (xv->shape, y->shape, xv->n_dims * sizeof (gint64)) != 0)
    return FALSE;
  return (a == x && constant_scalar (graph, b, k)) || (b == x && constant_scalar (graph, a, k));
}

/* Hard-swish as exporters spell it out (PaddlePaddle, older PyTorch):
 * x * Clip (x + a, 0, d) / d, the Div possibly a Mul by 1 / d. That is
 * x * clamp (x / d + a / d, 0, 1): the fused hardswish with alpha = 1 / d,
 * beta = a / d (3 and 6 for the usual one). `add` is x + a, one of x's two
 * readers; `mul` the other. */
static gboolean
decomposed_hard_swish (const KestrelGraph *graph, gint x, KestrelNode *add, KestrelNode *mul, gint *end,
                       Absorbed *absorbed, float *alpha, float *beta)
{
  KestrelNode *clip, *scale;
  float a, lo, hi, d;
  gint c, m;

  if (!is_op (add, "Add") || !is_op (mul, "Mul") || !scalar_operand (graph, add, x, &a)
      || (clip = kestrel_graph_single_reader (graph, kestrel_node_output (add, 0))) == NULL
      || kestrel_node_input (clip, 0) != kestrel_node_output (add, 0)
      || !kestrel_graph_activation_bounds (graph, clip, &lo, &hi) || lo != 0.0f || !(hi > 0.0f)
      || !isfinite (hi))
    return FALSE;
  c = kestrel_node_output (clip, 0);
  if (kestrel_graph_single_reader (graph, c) != mul || kestrel_node_n_inputs (mul) != 2
      || !((kestrel_node_input (mul, 0) == x && kestrel_node_input (mul, 1) == c)
           || (kestrel_node_input (mul, 1) == x && kestrel_node_input (mul, 0) == c)))
    return FALSE;
  m = kestrel_node_output (mul, 0);
  if ((scale = kestrel_graph_single_reader (graph, m)) == NULL)
    return FALSE;
  if (is_op (scale, "Div") && kestrel_node_input (scale, 0) == m && scalar_operand (graph, scale, m, &d))
    ;
  else if (is_op (scale, "Mul") && scalar_operand (graph, scale, m, &d) && d != 0.0f)
    d = 1.0f / d;
  else
    return FALSE;
  /* The clamp's top must be the divisor for the product to stay x at the top. */
  if (fabsf (hi - d) > 1e-6f * fabsf (d))
    return FALSE;
  *alpha = 1.0f / d;
  *beta = a / d;
  *end = kestrel_node_output (scale, 0);
  *absorbed = (Absorbed) { { add, clip, mul, scale }, 4 };
  return TRUE;
}

/* The activation `node` applies to `x` (its only reader; or, when x has
 * two readers, SiLU's Sigmoid and Mul or a spelled-out hard-swish), as the
 * fused ConvNhwc's act attribute; *end is the value it produces and
 * `absorbed` the nodes it replaces. */
static const char *
activation_kind (const KestrelGraph *graph, gint x, KestrelNode *node, gint *end, Absorbed *absorbed,
                 float *alpha, float *beta)
{
  g_autoptr(GArray) readers = NULL;

  absorbed->n = 0;
  *alpha = 0.0f;
  *beta = 0.0f;
  if (node != NULL && kestrel_node_n_outputs (node) == 1 && kestrel_node_input (node, 0) == x)
    {
      *end = kestrel_node_output (node, 0);
      *absorbed = (Absorbed) { { node }, 1 };
      if (is_op (node, "Sigmoid"))
        return "sigmoid";
      if (is_op (node, "HardSwish"))
        {
          *alpha = 1.0f / 6.0f;
          *beta = 0.5f;
          return "hardswish";
        }
      if (is_op (node, "HardSigmoid"))
        {
          *alpha = kestrel_node_attr_float (node, "alpha", 0.2f);
          *beta = kestrel_node_attr_float (node, "beta", 0.5f);
          return "hardsigmoid";
        }
      if (is_op (node, "LeakyRelu"))
        {
          *alpha = kestrel_node_attr_float (node, "alpha", 0.01f);
          return "leakyrelu";
        }
      absorbed->n = 0;
      return NULL;
    }
  /* x read by exactly two nodes: SiLU (a Sigmoid and the Mul of x by its
   * result) or a hard-swish spelled out. */
  if (node != NULL || kestrel_graph_value (graph, x)->is_output)
    return NULL;
  readers = kestrel_graph_consumers (graph, x);
  if (readers->len != 2)
    return NULL;
  for (guint i = 0; i < 2; i++)
    {
      KestrelNode *sig = kestrel_graph_node (graph, g_array_index (readers, gint, i));
      KestrelNode *mul = kestrel_graph_node (graph, g_array_index (readers, gint, 1 - i));
      gint s;

      if (decomposed_hard_swish (graph, x, sig, mul, end, absorbed, alpha, beta))
        return "hardswish";
      if (!is_op (sig, "Sigmoid") || !is_op (mul, "Mul") || kestrel_node_n_inputs (mul) != 2)
        continue;
      s = kestrel_node_output (sig, 0);
      if (kestrel_graph_single_reader (graph, s) != mul
          || !((kestrel_node_input (mul, 0) == x && kestrel_node_input (mul, 1) == s)
               || (kestrel_node_input (mul, 1) == x && kestrel_node_input (mul, 0) == s)))
        continue;
      *end = kestrel_node_output (mul, 0);
      *absorbed = (Absorbed) { { sig, mul }, 2 };
      return "silu";
    }
  return NULL;
}

/* A Mul by a scalar constant, an Add (or Sub) of one, or the Mul then the
 * Add, reading `x` alone: absorbed as *scale and *shift, those nodes
 * removed. Returns the value they produce (`x` when there are none). */
static gint
scalar_affine_after (KestrelGraph *graph, gint x, float *scale, float *shift)
{
  KestrelNode *next = kestrel_graph_single_reader (graph, x);
  float k;

  if (next != NULL && is_op (next, "Mul") && scalar_operand (graph, next, x, &k))
    {
      *scale = k;
      next->removed = TRUE;
      x = kestrel_node_output (next, 0);
      next = kestrel_graph_single_reader (graph, x);
    }
  if (next != NULL && (is_op (next, "Add") || (is_op (next, "Sub") && kestrel_node_input (next, 0) == x))
      && scalar_operand (graph, next, x, &k))
    {
      *shift = is_op (next, "Add") ? k : -k;
      next->removed = TRUE;
      x = kestrel_node_output (next, 0);
    }
  return x;
}

static gboolean
same_shape (const KestrelValue *a, const KestrelValue *b)
{
  return a->has_shape && b->has_shape && a->n_dims == b->n_dims && a->dtype == b->dtype
         && memcmp (a->shape, b->shape, a->n_dims * sizeof (gint64)) == 0;
}

/* Makes `node` produce `value` as its first output. */
static void
set_first_output (KestrelGraph *graph, KestrelNode *node, gint node_index, gint value)
{
  g_array_index (node->outputs, gint, 0) = value;
  kestrel_graph_value (graph, value)->producer = node_index;
}

gboolean
kestrel_graph_fuse (KestrelGraph *graph, KestrelFastFlags flags, GError **error)
{
  guint n_nodes = graph->nodes->len;

  for (guint n = 0; n < n_nodes; n++)
    {
      KestrelNode *conv = kestrel_graph_node (graph, n);
      gint end = kestrel_node_output (conv, 0);
      gint residual = -1;
      float lo = -INFINITY, hi = INFINITY;
      KestrelNode *next;
      gboolean fused = FALSE;

      if (!conv_convertible (graph, conv) || kestrel_node_n_inputs (conv) > 3)
        continue;

      next = kestrel_graph_single_reader (graph, end);
      if (next != NULL && is_op (next, "Add") && kestrel_node_n_inputs (next) == 2
          && !(flags & KESTREL_FAST_NO_RESIDUAL))
        {
          gint other = kestrel_node_input (next, 0) == end ? kestrel_node_input (next, 1)
                                                           : kestrel_node_input (next, 0);
          const KestrelValue *o = kestrel_graph_value (graph, other);
          const KestrelValue *sum = kestrel_graph_value (graph, kestrel_node_output (next, 0));
          if (other != end && o->constant == NULL && same_shape (o, kestrel_graph_value (graph, end))
              && same_shape (sum, o))
            {
              residual = other;
              end = kestrel_node_output (next, 0);
              next->removed = TRUE;
              fused = TRUE;
              next = kestrel_graph_single_reader (graph, end);
            }
        }
      const char *act = NULL;
      float alpha = 0.0f, beta = 0.0f;
      Absorbed absorbed;
      gint act_end = -1;
      if (next != NULL && kestrel_graph_activation_bounds (graph, next, &lo, &hi))
        {
          end = kestrel_node_output (next, 0);
          next->removed = TRUE;
          fused = TRUE;
        }
      else if ((act = activation_kind (graph, end, next, &act_end, &absorbed, &alpha, &beta)) != NULL)
        {
          for (guint i = 0; i < absorbed.n; i++)
            absorbed.nodes[i]->removed = TRUE;
          end = act_end;
          fused = TRUE;
        }
      if (!fused)
        continue;
      if (act != NULL)
        {
          float scale = 1.0f, shift = 0.0f;
          kestrel_node_set_attr_string (conv, "act", act);
          kestrel_node_set_attr_float (conv, "act_alpha", alpha);
          kestrel_node_set_attr_float (conv, "act_beta", beta);
          end = scalar_affine_after (graph, end, &scale, &shift);
          kestrel_node_set_attr_float (conv, "act_scale", scale);
          kestrel_node_set_attr_float (conv, "act_shift", shift);
        }

      while (kestrel_node_n_inputs (conv) < 3)
        kestrel_node_add_input (conv, -1);
      if (residual >= 0)
        kestrel_node_add_input (conv, residual);
      kestrel_node_set_attr_float (conv, "act_lo", lo);
      kestrel_node_set_attr_float (conv, "act_hi", hi);
      set_first_output (graph, conv, n, end);
    }
  return TRUE;
}

static void
permute_shape (const KestrelValue *src, const gint64 *perm, guint n_dims, gint64 *out)
{
  for (guint i = 0; i < n_dims; i++)
    out[i] = src->shape[perm[i]];
}

/* Adds `out = Transpose(in, perm)`, creating `out` when it is -1. */
static gint
add_transpose (KestrelGraph *graph, gint in, const gint64 *perm, guint n_dims, gint out,
               const char *hint)
{
  const KestrelValue *src = kestrel_graph_value (graph, in);
  gint node_index = kestrel_graph_add_node (graph, "", "Transpose", NULL);
  KestrelNode *node = kestrel_graph_node (graph, node_index);
  gint64 shape[KESTREL_TENSOR_MAX_DIMS];

  if (out < 0)
    {
      out = kestrel_graph_new_value (graph, hint);
      if (src->has_shape)
        {
          permute_shape (src, perm, n_dims, shape);
          kestrel_value_set_shape (kestrel_graph_value (graph, out), src->dtype, n_dims, shape);
        }
    }
  kestrel_node_add_input (node, in);
  kestrel_node_add_output (graph, node_index, out);
  kestrel_node_set_attr_ints (node, "perm", perm, n_dims);
  return out;
}

/* Replaces an NCHW node by Transpose -> `nhwc_op` -> Transpose. Inputs in
 * `activation_inputs` are transposed; the others (weights) pass as they are. */
static void
wrap_in_nhwc (KestrelGraph *graph, KestrelNode *node, const char *nhwc_op,
              const guint *activation_inputs, guint n_activation_inputs)
{
  gint y = kestrel_node_output (node, 0);
  const KestrelValue *yv = kestrel_graph_value (graph, y);
  gint64 shape[4];
  gint index = kestrel_graph_add_node (graph, "kestrel", nhwc_op, node->name);
  KestrelNode *fast = kestrel_graph_node (graph, index);
  gint yt;

  for (guint i = 0; i < kestrel_node_n_inputs (node); i++)
    {
      gint v = kestrel_node_input (node, i);
      for (guint a = 0; a < n_activation_inputs && v >= 0; a++)
        if (activation_inputs[a] == i)
          v = add_transpose (graph, v, to_nhwc_perm, 4, -1, "nhwc");
      kestrel_node_add_input (fast, v);
    }
  kestrel_node_copy_attrs (fast, node, NULL);

  /* Remember which model value this computes (in NHWC), so diagnostics
   * can compare it with the reference plan's. */
  kestrel_node_set_attr_string (fast, "model_value", yv->name);

  yt = kestrel_graph_new_value (graph, "nhwc");
  permute_shape (yv, to_nhwc_perm, 4, shape);
  kestrel_value_set_shape (kestrel_graph_value (graph, yt), yv->dtype, 4, shape);
  kestrel_node_add_output (graph, index, yt);
  node->removed = TRUE;
  add_transpose (graph, yt, to_nchw_perm, 4, y, "nchw");
}

static const gint64 *
transpose_perm (const KestrelNode *node, guint *n)
{
  return kestrel_node_attr_ints (node, "perm", n);
}

/* The Transpose producing `value`, or NULL. */
static KestrelNode *
transpose_producer (const KestrelGraph *graph, gint value)
{
  const KestrelValue *v = kestrel_graph_value (graph, value);
  KestrelNode *node;
  guint n;

  if (v == NULL || v->producer < 0)
    return NULL;
  node = kestrel_graph_node (graph, v->producer);
  if (!is_op (node, "Transpose") || transpose_perm (node, &n) == NULL)
    return NULL;
  return node;
}

static gboolean
is_identity (const gint64 *perm, guint n)
{
  for (guint i = 0; i < n; i++)
    if (perm[i] != (gint64) i)
      return FALSE;
  return TRUE;
}

/* Transpose(Transpose(x, p0), p1) = Transpose(x, p0[p1[i]]). */
static gboolean
compose_transposes (KestrelGraph *graph)
{
  gboolean changed = FALSE;

  for (guint n = 0; n < graph->nodes->len; n++)
    {
      KestrelNode *t1 = kestrel_graph_node (graph, n);
      KestrelNode *t0;
      guint n0, n1;
      const gint64 *p0, *p1;
      gint64 q[KESTREL_TENSOR_MAX_DIMS];

      if (!is_op (t1, "Transpose") || (p1 = transpose_perm (t1, &n1)) == NULL)
        continue;
      t0 = transpose_producer (graph, kestrel_node_input (t1, 0));
      if (t0 == NULL || (p0 = transpose_perm (t0, &n0)) == NULL || n0 != n1)
        continue;
      for (guint i = 0; i < n1; i++)
        q[i] = p0[p1[i]];
      if (is_identity (q, n1))
        {
          gint out = kestrel_node_output (t1, 0), in = kestrel_node_input (t0, 0);
          const KestrelValue *inv = kestrel_graph_value (graph, in);
          /* A graph input cannot stand in for a graph output: keep one copy. */
          if (kestrel_graph_value (graph, out)->is_output && (inv->is_input || inv->is_output))
            continue;
          t1->removed = TRUE;
          kestrel_graph_replace_uses (graph, out, in);
        }
      else
        {
          g_array_index (t1->inputs, gint, 0) = kestrel_node_input (t0, 0);
          kestrel_node_set_attr_ints (t1, "perm", q, n1);
        }
      changed = TRUE;
    }
  return changed;
}

/* A node about to compute its output in NHWC keeps the name of the model
 * value it stands for (the Transpose after it takes that name, and goes
 * when it cancels): kestrel_graph_get_model_value_name() and the INT8 pass
 * find it there. */
static void
remember_model_value (KestrelNode *node, const KestrelValue *out)
{
  if (kestrel_node_find_attr (node, "model_value") == NULL)
    kestrel_node_set_attr_string (node, "model_value", out->name);
}

const char *
kestrel_graph_get_model_value_name (const KestrelGraph *graph, gint value)
{
  const KestrelValue *v = kestrel_graph_value (graph, value);
  const KestrelNode *producer;

  g_return_val_if_fail (v != NULL, NULL);
  if (v->producer < 0)
    return v->name;
  producer = kestrel_graph_node (graph, v->producer);
  if (kestrel_node_output (producer, 0) != value)
    return v->name;
  return kestrel_node_attr_string (producer, "model_value", v->name);
}

static const char *const elementwise_ops[] = {
  "Relu", "Clip", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish",
  "Add", "Sub", "Mul", "Div",
};

/* A float constant of at most `n_dims` dimensions and more than one
 * element, as one of exactly `n_dims` (1s in front, as broadcasting
 * aligns shapes on their last dimensions) so that a Transpose can reorder
 * it: -1 when `v` is not such a constant. */
static gint
constant_at_rank (KestrelGraph *graph, gint v, guint n_dims)
{
  const KestrelValue *value = kestrel_graph_value (graph, v);
  gint64 shape[KESTREL_TENSOR_MAX_DIMS];
  guint lead;

  if (value == NULL || value->constant == NULL || !value->has_shape || value->n_dims > n_dims)
    return -1;
  if (value->n_dims == n_dims)
    return v;
  lead = n_dims - value->n_dims;
  for (guint i = 0; i < n_dims; i++)
    shape[i] = i < lead ? 1 : value->shape[i - lead];
  g_autoptr(KestrelTensor) t = kestrel_tensor_new (kestrel_tensor_get_dtype (value->constant), n_dims, shape, NULL);
  memcpy (kestrel_tensor_get_data (t), kestrel_tensor_get_data (value->constant),
          kestrel_tensor_get_n_elements (value->constant) * kestrel_dtype_get_size (kestrel_tensor_get_dtype (t)));
  return kestrel_graph_new_constant (graph, "nhwc_const", t);
}

/* op(Transpose(a, p), Transpose(b, p)) = Transpose(op(a, b), p) for
 * elementwise ops on tensors of one rank, also when one broadcasts against
 * the other (a squeeze-and-excitation block's [N,C,1,1] scale times its
 * [N,C,H,W] map): broadcasting pairs dimensions one by one, so it commutes
 * with a permutation of them. Scalar constants broadcast in any layout;
 * other constants (per-channel scales) are transposed at load time, as are
 * Concat's. Concat likewise with its axis moved. */
static gboolean
push_through (KestrelGraph *graph)
{
  gboolean changed = FALSE;
  guint n_nodes = graph->nodes->len;

  for (guint n = 0; n < n_nodes; n++)
    {
      KestrelNode *node = kestrel_graph_node (graph, n);
      gboolean concat = is_op (node, "Concat");
      gboolean elementwise = FALSE;
      const gint64 *perm = NULL;
      guint n_perm = 0;
      const KestrelValue *pre_shape = NULL;
      gboolean ok = TRUE;

      for (gsize e = 0; e < G_N_ELEMENTS (elementwise_ops); e++)
        elementwise |= is_op (node, elementwise_ops[e]);
      if ((!elementwise && !concat) || kestrel_node_n_outputs (node) != 1)
        continue;
      const KestrelValue *out_shape = kestrel_graph_value (graph, kestrel_node_output (node, 0));
      guint out_rank = out_shape->has_shape ? out_shape->n_dims : 0;

      for (guint i = 0; i < kestrel_node_n_inputs (node) && ok; i++)
        {
          gint v = kestrel_node_input (node, i);
          const KestrelValue *value = kestrel_graph_value (graph, v);
          KestrelNode *t;
          guint np;
          const gint64 *p;

          if (value == NULL)
            continue;
          if (value->constant != NULL)
            {
              /* Scalars broadcast the same in any layout; other constants
               * are transposed at load time. */
              ok = kestrel_tensor_get_n_elements (value->constant) == 1
                   || (concat && value->has_shape)
                   || (!concat && value->has_shape && value->n_dims <= out_rank);
              continue;
            }
          t = transpose_producer (graph, v);
          if (t == NULL)
            {
              ok = FALSE;
              break;
            }
          p = transpose_perm (t, &np);
          const KestrelValue *src = kestrel_graph_value (graph, kestrel_node_input (t, 0));
          if (perm == NULL)
            {
              perm = p;
              n_perm = np;
              pre_shape = src;
            }
          else if (np != n_perm || memcmp (p, perm, np * sizeof (gint64)) != 0
                   || !src->has_shape || src->n_dims != pre_shape->n_dims)
            ok = FALSE;
        }
      if (!ok || perm == NULL || !pre_shape->has_shape || n_perm != out_rank)
        continue;

      gint64 inverse[KESTREL_TENSOR_MAX_DIMS];
      gint64 p_copy[KESTREL_TENSOR_MAX_DIMS];
      for (guint i = 0; i < n_perm; i++)
        {
          p_copy[i] = perm[i];
          inverse[perm[i]] = i;
        }

      /* Rewire to the untransposed inputs. */
      for (guint i = 0; i < kestrel_node_n_inputs (node); i++)
        {
          gint v = kestrel_node_input (node, i);
          const KestrelValue *value = kestrel_graph_value (graph, v);
          if (value == NULL)
            continue;
          if (value->constant != NULL)
            {
              if (kestrel_tensor_get_n_elements (value->constant) != 1)
                g_array_index (node->inputs, gint, i) =
                  add_transpose (graph, constant_at_rank (graph, v, n_perm), inverse, n_perm, -1, "nhwc_const");
              continue;
            }
          g_array_index (node->inputs, gint, i) = kestrel_node_input (transpose_producer (graph, v), 0);
        }

      gint out = kestrel_node_output (node, 0);
      const KestrelValue *outv = kestrel_graph_value (graph, out);
      gint inner = kestrel_graph_new_value (graph, "nhwc");
      gint64 shape[KESTREL_TENSOR_MAX_DIMS];
      outv = kestrel_graph_value (graph, out);
      remember_model_value (node, outv);
      for (guint i = 0; i < n_perm; i++)
        shape[p_copy[i]] = outv->shape[i];
      kestrel_value_set_shape (kestrel_graph_value (graph, inner), outv->dtype, n_perm, shape);
      if (concat)
        {
          gint64 axis = kestrel_node_attr_int (node, "axis", 0);
          if (axis < 0)
            axis += n_perm;
          kestrel_node_set_attr_int (node, "axis", p_copy[axis]);
        }
      set_first_output (graph, node, n, inner);
      add_transpose (graph, inner, p_copy, n_perm, out, "nchw");
      changed = TRUE;
    }
  return changed;
}

/* ---- Slice and Resize ---------------------------------------------------- */

/* A copy of constant `v` (a list of one entry per axis of the transposed
 * tensor, `groups` such lists end to end: Resize's roi has two) reordered
 * for the untransposed one: new[perm[i]] = old[i]. -1 when `v` is not such
 * a constant. */
static gint
permuted_axis_constant (KestrelGraph *graph, gint v, const gint64 *perm, guint n_perm, guint groups)
{
  const KestrelValue *value = kestrel_graph_value (graph, v);
  KestrelTensor *t;
  gsize size;
  const guint8 *src;
  guint8 *dst;

  if (value == NULL || value->constant == NULL
      || kestrel_tensor_get_n_elements (value->constant) != (gsize) n_perm * groups)
    return -1;
  size = kestrel_dtype_get_size (kestrel_tensor_get_dtype (value->constant));
  g_autoptr(KestrelTensor) copy = kestrel_tensor_new (kestrel_tensor_get_dtype (value->constant),
                                                      kestrel_tensor_get_n_dims (value->constant),
                                                      kestrel_tensor_get_shape (value->constant), NULL);
  t = copy;
  src = kestrel_tensor_get_data (value->constant);
  dst = kestrel_tensor_get_data (t);
  for (guint g = 0; g < groups; g++)
    for (guint i = 0; i < n_perm; i++)
      memcpy (dst + (g * n_perm + perm[i]) * size, src + (g * n_perm + i) * size, size);
  return kestrel_graph_new_constant (graph, "nhwc_axes", t);
}

/* Slice's axes (opset 10 and up) as the untransposed tensor's: a new
 * constant input 3. FALSE when they are not constant. */
static gboolean
permute_slice_axes (KestrelGraph *graph, KestrelNode *node, const gint64 *perm, guint n_perm)
{
  const KestrelValue *starts = input_value (graph, node, 1), *axes = input_value (graph, node, 3);
  gint64 n = starts != NULL && starts->has_shape && starts->n_dims == 1 ? starts->shape[0] : -1;
  gint64 shape[1] = { n };

  if (n < 0 || n > n_perm || (axes != NULL && (axes->constant == NULL
                                               || kestrel_tensor_get_n_elements (axes->constant) != (gsize) n
                                               || kestrel_tensor_get_dtype (axes->constant) == KESTREL_DTYPE_FLOAT32)))
    return FALSE;
  g_autoptr(KestrelTensor) t = kestrel_tensor_new (KESTREL_DTYPE_INT64, 1, shape, NULL);
  gint64 *out = kestrel_tensor_get_data (t);
  for (gint64 j = 0; j < n; j++)
    {
      gint64 a = j;
      if (axes != NULL)
        a = kestrel_tensor_get_dtype (axes->constant) == KESTREL_DTYPE_INT32
            ? ((const gint32 *) kestrel_tensor_get_data (axes->constant))[j]
            : ((const gint64 *) kestrel_tensor_get_data (axes->constant))[j];
      if (a < 0)
        a += n_perm;
      if (a < 0 || a >= n_perm)
        return FALSE;
      out[j] = perm[a];
    }
  while (kestrel_node_n_inputs (node) < 4)
    kestrel_node_add_input (node, -1);
  g_array_index (node->inputs, gint, 3) = kestrel_graph_new_constant (graph, "nhwc_axes", t);
  return TRUE;
}

/* Resize's roi, scales and sizes as the untransposed tensor's. */
static gboolean
permute_resize_inputs (KestrelGraph *graph, KestrelNode *node, const gint64 *perm, guint n_perm)
{
  /* Resize-10 and Upsample-9: scales is input 1; Resize-11+: roi, scales,
   * sizes are inputs 1 to 3, each absent or empty when unused. */
  gboolean v11 = graph->opset >= 11 && is_op (node, "Resize");
  gint replaced[4] = { -1, -1, -1, -1 };

  for (guint i = 1; i < kestrel_node_n_inputs (node) && i < 4; i++)
    {
      gint v = kestrel_node_input (node, i);
      const KestrelValue *value = kestrel_graph_value (graph, v);
      guint groups = v11 && i == 1 ? 2 : 1;

      if (value == NULL || (value->constant != NULL && kestrel_tensor_get_n_elements (value->constant) == 0))
        continue;
      if ((replaced[i] = permuted_axis_constant (graph, v, perm, n_perm, groups)) < 0)
        return FALSE;
    }
  for (guint i = 1; i < 4; i++)
    if (replaced[i] >= 0)
      g_array_index (node->inputs, gint, i) = replaced[i];
  return TRUE;
}

/* Slice(Transpose(a, p)) = Transpose(Slice'(a), p) and likewise Resize and
 * Upsample, with the axis lists permuted: they read one activation and
 * constants that name axes. */
static gboolean
push_through_axis_ops (KestrelGraph *graph)
{
  gboolean changed = FALSE;
  guint n_nodes = graph->nodes->len;

  for (guint n = 0; n < n_nodes; n++)
    {
      KestrelNode *node = kestrel_graph_node (graph, n);
      gboolean slice = is_op (node, "Slice") && graph->opset >= 10;
      gboolean resize = (is_op (node, "Resize") || (is_op (node, "Upsample") && graph->opset >= 9));
      KestrelNode *t;
      guint n_perm;
      const gint64 *perm;
      gint64 p_copy[KESTREL_TENSOR_MAX_DIMS];

      if ((!slice && !resize) || kestrel_node_n_outputs (node) != 1
          || (t = transpose_producer (graph, kestrel_node_input (node, 0))) == NULL)
        continue;
      perm = transpose_perm (t, &n_perm);
      memcpy (p_copy, perm, n_perm * sizeof (gint64));
      gint out = kestrel_node_output (node, 0);
      const KestrelValue *outv = kestrel_graph_value (graph, out);
      if (!outv->has_shape || outv->n_dims != n_perm)
        continue;
      if (slice ? !permute_slice_axes (graph, node, p_copy, n_perm)
                : !permute_resize_inputs (graph, node, p_copy, n_perm))
        continue;

      g_array_index (node->inputs, gint, 0) = kestrel_node_input (t, 0);
      gint inner = kestrel_graph_new_value (graph, "nhwc");
      gint64 shape[KESTREL_TENSOR_MAX_DIMS];
      outv = kestrel_graph_value (graph, out);
      remember_model_value (node, outv);
      for (guint i = 0; i < n_perm; i++)
        shape[p_copy[i]] = outv->shape[i];
      kestrel_value_set_shape (kestrel_graph_value (graph, inner), outv->dtype, n_perm, shape);
      set_first_output (graph, node, n, inner);
      add_transpose (graph, inner, p_copy, n_perm, out, "nchw");
      changed = TRUE;
    }
  return changed;
}

/* GlobalAveragePool(Transpose(x, NHWC->NCHW)) =
 * Transpose(kestrel.GlobalAveragePoolNhwc(x), NHWC->NCHW): the average of a
 * squeeze-and-excitation block, so that the map it scales stays NHWC (see
 * core/ops/ops-global-pool-nhwc.c). */
static gboolean
push_through_global_pool (KestrelGraph *graph)
{
  gboolean changed = FALSE;
  guint n_nodes = graph->nodes->len;

  for (guint n = 0; n < n_nodes; n++)
    {
      KestrelNode *node = kestrel_graph_node (graph, n);
      KestrelNode *t;
      const gint64 *perm;
      guint n_perm;

      if (!is_op (node, "GlobalAveragePool") || kestrel_node_n_outputs (node) != 1
          || (t = transpose_producer (graph, kestrel_node_input (node, 0))) == NULL
          || (perm = transpose_perm (t, &n_perm)) == NULL || n_perm != 4
          || memcmp (perm, to_nchw_perm, sizeof to_nchw_perm) != 0)
        continue;
      gint out = kestrel_node_output (node, 0);
      const KestrelValue *outv = kestrel_graph_value (graph, out);
      if (!is_float_4d (outv))
        continue;

      gint index = kestrel_graph_add_node (graph, "kestrel", "GlobalAveragePoolNhwc", node->name);
      KestrelNode *fast = kestrel_graph_node (graph, index);
      gint inner = kestrel_graph_new_value (graph, "nhwc");
      outv = kestrel_graph_value (graph, out);
      kestrel_value_set_shape (kestrel_graph_value (graph, inner), outv->dtype, 4,
                               (gint64[]) { outv->shape[0], 1, 1, outv->shape[1] });
      kestrel_node_add_input (fast, kestrel_node_input (t, 0));
      kestrel_node_set_attr_string (fast, "model_value", outv->name);
      kestrel_node_add_output (graph, index, inner);
      node->removed = TRUE;
      add_transpose (graph, inner, to_nchw_perm, 4, out, "nchw");
      changed = TRUE;
    }
  return changed;
}

/* ---- depthwise + pointwise -------------------------------------------------- */

/* Must match ops-fast.c: the widest depthwise output row (out_w * C floats)
 * that kestrel.DwPwNhwc keeps in its band buffer. */
#define DW_PW_BAND_FLOATS 8192

static gboolean
is_conv_nhwc (const KestrelNode *node)
{
  return !node->removed && strcmp (node->domain, "kestrel") == 0
         && strcmp (node->op_type, "ConvNhwc") == 0;
}

/* Every entry of an ints attribute equals `value` (true when it is absent). */
static gboolean
attr_ints_all (const KestrelNode *node, const char *name, gint64 value)
{
  guint n;
  const gint64 *v = kestrel_node_attr_ints (node, name, &n);

  for (guint i = 0; v != NULL && i < n; i++)
    if (v[i] != value)
      return FALSE;
  return TRUE;
}

/* A ConvNhwc with one weight per channel, no residual, and an output row
 * that fits DwPwNhwc's band buffer. */
static gboolean
is_depthwise_nhwc (const KestrelGraph *graph, const KestrelNode *node)
{
  const KestrelValue *x = input_value (graph, node, 0), *w = input_value (graph, node, 1);
  const KestrelValue *y = kestrel_graph_value (graph, kestrel_node_output (node, 0));

  return is_conv_nhwc (node) && kestrel_node_n_outputs (node) == 1
         && kestrel_node_find_attr (node, "act") == NULL
         && (kestrel_node_n_inputs (node) < 4 || kestrel_node_input (node, 3) < 0)
         && is_float_4d (x) && is_float_4d (w) && is_float_4d (y)
         && kestrel_node_attr_int (node, "group", 1) == x->shape[3]
         && w->shape[0] == x->shape[3] && w->shape[1] == 1 && y->shape[3] == x->shape[3]
         && y->shape[2] * y->shape[3] <= DW_PW_BAND_FLOATS;
}

/* A ConvNhwc that is a plain gemm over pixels: 1x1, stride 1, no padding,
 * one group. */
static gboolean
is_pointwise_nhwc (const KestrelGraph *graph, const KestrelNode *node)
{
  const KestrelValue *w = input_value (graph, node, 1);

  return is_conv_nhwc (node) && kestrel_node_n_outputs (node) == 1 && is_float_4d (w)
         && kestrel_node_find_attr (node, "act") == NULL
         && w->shape[2] == 1 && w->shape[3] == 1
         && kestrel_node_attr_int (node, "group", 1) == 1
         && attr_ints_all (node, "strides", 1) && attr_ints_all (node, "pads", 0);
}

/* A depthwise ConvNhwc whose only reader is a pointwise ConvNhwc (as its
 * input, not its residual) becomes one kestrel.DwPwNhwc, so that the
 * depthwise result never goes through memory (see ops-fast.c). */
static void
fuse_depthwise_pointwise (KestrelGraph *graph)
{
  static const char *const dw_skip[] = { "act_lo", "act_hi", "model_value", NULL };
  guint n_nodes = graph->nodes->len;

  for (guint n = 0; n < n_nodes; n++)
    {
      KestrelNode *dw = kestrel_graph_node (graph, n);
      KestrelNode *pw;
      gint t, index;

      if (!is_depthwise_nhwc (graph, dw))
        continue;
      t = kestrel_node_output (dw, 0);
      pw = kestrel_graph_single_reader (graph, t);
      if (pw == NULL || !is_pointwise_nhwc (graph, pw) || kestrel_node_input (pw, 0) != t
          || (kestrel_node_n_inputs (pw) > 2 && kestrel_node_input (pw, 2) == t)
          || (kestrel_node_n_inputs (pw) > 3 && kestrel_node_input (pw, 3) == t))
        continue;

      index = kestrel_graph_add_node (graph, "kestrel", "DwPwNhwc", pw->name);
      KestrelNode *fused = kestrel_graph_node (graph, index);

      kestrel_node_add_input (fused, kestrel_node_input (dw, 0));
      kestrel_node_add_input (fused, kestrel_node_input (dw, 1));
      kestrel_node_add_input (fused, kestrel_node_n_inputs (dw) > 2 ? kestrel_node_input (dw, 2) : -1);
      kestrel_node_add_input (fused, kestrel_node_input (pw, 1));
      kestrel_node_add_input (fused, kestrel_node_n_inputs (pw) > 2 ? kestrel_node_input (pw, 2) : -1);
      if (kestrel_node_n_inputs (pw) > 3 && kestrel_node_input (pw, 3) >= 0)
        kestrel_node_add_input (fused, kestrel_node_input (pw, 3));

      kestrel_node_copy_attrs (fused, dw, dw_skip);
      kestrel_node_set_attr_float (fused, "dw_act_lo", kestrel_node_attr_float (dw, "act_lo", -INFINITY));
      kestrel_node_set_attr_float (fused, "dw_act_hi", kestrel_node_attr_float (dw, "act_hi", INFINITY));
      kestrel_node_set_attr_float (fused, "act_lo", kestrel_node_attr_float (pw, "act_lo", -INFINITY));
      kestrel_node_set_attr_float (fused, "act_hi", kestrel_node_attr_float (pw, "act_hi", INFINITY));
      /* The step computes the pointwise layer's model value. */
      if (kestrel_node_attr_string (pw, "model_value", NULL) != NULL)
        kestrel_node_set_attr_string (fused, "model_value", kestrel_node_attr_string (pw, "model_value", NULL));

      dw->removed = TRUE;
      pw->removed = TRUE;
      kestrel_node_add_output (graph, index, kestrel_node_output (pw, 0));
    }
}

gboolean
kestrel_graph_to_nhwc (KestrelGraph *graph, KestrelFastFlags flags, GError **error)
{
  static const guint conv_activations[] = { 0, 3 };
  static const guint pool_activations[] = { 0 };
  guint n_nodes = graph->nodes->len;
  gboolean converted = FALSE;

  for (guint n = 0; n < n_nodes; n++)
    {
      KestrelNode *node = kestrel_graph_node (graph, n);

      if (conv_convertible (graph, node))
        {
          wrap_in_nhwc (graph, node, "ConvNhwc", conv_activations, G_N_ELEMENTS (conv_activations));
          converted = TRUE;
        }
      else if (maxpool_convertible (graph, node))
        {
          wrap_in_nhwc (graph, node, "MaxPoolNhwc", pool_activations, G_N_ELEMENTS (pool_activations));
          converted = TRUE;
        }
    }
  if (!converted)
    return TRUE;

  /* Each round moves Transposes later or removes them, so this ends; the
   * bound is a guard against a rewrite bug, not a tuning knob. */
  for (guint round = 0; round < 4 * graph->nodes->len + 16; round++)
    {
      gboolean changed = compose_transposes (graph);
      changed |= push_through (graph);
      changed |= push_through_axis_ops (graph);
      changed |= push_through_global_pool (graph);
      if (!changed)
        break;
    }
  /* The Transposes that cancelled are still there, reading the ConvNhwc
   * outputs: drop them first so that single readers are seen as such. */
  kestrel_graph_remove_dead (graph);
  if (!(flags & KESTREL_FAST_NO_DW_PW))
    fuse_depthwise_pointwise (graph);
  kestrel_graph_compact (graph);
  return kestrel_graph_sort (graph, error);
}

/* A fast NHWC node that still reads a Transpose and whose output only
 * Transposes read: converting it cost two steps and saved none. */
static gboolean
isolated_nhwc (const KestrelGraph *graph, const KestrelNode *node)
{
  const KestrelValue *in = input_value (graph, node, 0);
  gint out = kestrel_node_output (node, 0);
  g_autoptr(GArray) readers = NULL;

  if (node->removed || strcmp (node->domain, "kestrel") != 0 || in == NULL || in->producer < 0
      || !is_op (kestrel_graph_node (graph, in->producer), "Transpose") || out < 0
      || kestrel_graph_value (graph, out)->is_output)
    return FALSE;
  readers = kestrel_graph_consumers (graph, out);
  for (guint i = 0; i < readers->len; i++)
    if (!is_op (kestrel_graph_node (graph, g_array_index (readers, gint, i)), "Transpose"))
      return FALSE;
  return readers->len > 0;
}

/* Turns `node` into the engine's op `op_type` (same inputs, attributes and
 * output), which computes the same model value. */
static void
rename_to_fast (KestrelGraph *graph, KestrelNode *node, const char *op_type)
{
  g_free (node->op_type);
  node->op_type = g_strdup (op_type);
  g_free (node->domain);
  node->domain = g_strdup ("kestrel");
  node->op = NULL;
  kestrel_node_set_attr_string (node, "model_value", kestrel_graph_value (graph, kestrel_node_output (node, 0))->name);
}

static gboolean
is_constant_float (const KestrelValue *value, guint n_dims)
{
  return value != NULL && value->constant != NULL && value->has_shape && value->dtype == KESTREL_DTYPE_FLOAT32
         && value->n_dims == n_dims;
}

/* What kestrel.ConvTransposePacked takes (core/ops/ops-conv-transpose-packed.c):
 * 2-D, constant weights, one group, pads given (or VALID), no output_shape;
 * and a gemm result (every input pixel's Cout x kh x kw patch) of at most
 * 32 M floats in scratch. */
static gboolean
conv_transpose_packable (const KestrelNode *node, const KestrelValue *x, const KestrelValue *w,
                         const KestrelValue *b, const KestrelValue *y)
{
  const char *auto_pad = kestrel_node_attr_string (node, "auto_pad", "NOTSET");
  guint n_out_shape = 0;

  kestrel_node_attr_ints (node, "output_shape", &n_out_shape);
  if (!is_float_4d (x) || !is_constant_float (w, 4) || (b != NULL && b->constant == NULL) || !is_float_4d (y)
      || kestrel_node_attr_int (node, "group", 1) != 1 || n_out_shape != 0
      || (strcmp (auto_pad, "NOTSET") != 0 && strcmp (auto_pad, "VALID") != 0))
    return FALSE;
  return (double) x->shape[0] * (double) x->shape[2] * (double) x->shape[3] * (double) y->shape[1]
         * (double) w->shape[2] * (double) w->shape[3] <= 32.0 * 1024 * 1024;
}

/* The reference operators left after the layout pass whose work is a
 * gemm with constant weights, moved onto the gemm kernels without a step
 * more:
 *  - Convs left in NCHW, by choice (their neighbours gain nothing in NHWC)
 *    or because converting would add steps: kestrel.ConvNchw runs each on
 *    the fast NHWC convolution with the transposes inside its step
 *    (core/ops/ops-conv-nchw.c);
 *  - MatMul by a constant [K, N]: kestrel.MatMulPacked
 *    (core/ops/ops-matmul-packed.c);
 *  - ConvTranspose as a gemm and a scatter: kestrel.ConvTransposePacked
 *    (core/ops/ops-conv-transpose-packed.c). */
static void
run_reference_gemms_fast (KestrelGraph *graph)
{
  for (guint n = 0; n < graph->nodes->len; n++)
    {
      KestrelNode *node = kestrel_graph_node (graph, n);
      const KestrelValue *a, *w, *b, *y;

      if (node->removed || node->domain[0] != '\0' || kestrel_node_n_inputs (node) < 2
          || kestrel_node_n_inputs (node) > 3 || kestrel_node_n_outputs (node) != 1)
        continue;
      a = input_value (graph, node, 0);
      w = input_value (graph, node, 1);
      b = input_value (graph, node, 2);
      y = kestrel_graph_value (graph, kestrel_node_output (node, 0));
      if (is_op (node, "Conv") && kestrel_node_n_inputs (node) <= 3 && is_float_4d (a) && is_constant_float (w, 4)
          && (b == NULL || b->constant != NULL) && is_float_4d (y))
        rename_to_fast (graph, node, "ConvNchw");
      else if (is_op (node, "MatMul") && kestrel_node_n_inputs (node) == 2 && a != NULL && a->has_shape
               && a->dtype == KESTREL_DTYPE_FLOAT32 && a->n_dims >= 2 && is_constant_float (w, 2))
        rename_to_fast (graph, node, "MatMulPacked");
      else if (is_op (node, "ConvTranspose") && conv_transpose_packable (node, a, w, b, y))
        rename_to_fast (graph, node, "ConvTransposePacked");
    }
}

KestrelGraph *
kestrel_graph_new_fast (const KestrelGraph *prepared, KestrelFastFlags flags, GError **error)
{
  g_autoptr(GHashTable) keep = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gboolean keep_all = FALSE;

  /* Each round keeps at least one more node in NCHW, and the last keeps
   * them all (the reference graph itself), so this ends. */
  for (;;)
    {
      KestrelGraph *graph = kestrel_graph_copy (prepared);
      guint added = 0;

      for (guint n = 0; n < graph->nodes->len; n++)
        {
          KestrelNode *node = kestrel_graph_node (graph, n);
          if ((keep_all && (is_op (node, "Conv") || is_op (node, "MaxPool")))
              || g_hash_table_contains (keep, node->name))
            kestrel_node_set_attr_int (node, KEEP_NCHW_ATTR, 1);
        }
      gboolean ok = kestrel_graph_fuse (graph, flags, error) && kestrel_graph_to_nhwc (graph, flags, error);
      if (ok && !(flags & KESTREL_FAST_KEEP_REFERENCE_GEMMS))
        {
          run_reference_gemms_fast (graph);
          kestrel_graph_map_qlinear (graph);
        }
      if (!ok || !kestrel_graph_prepare (graph, error) || !kestrel_graph_zero_concat_to_pad (graph, error))
        {
          kestrel_graph_free (graph);
          return NULL;
        }
      if (graph->nodes->len <= prepared->nodes->len || keep_all)
        return graph;
      for (guint n = 0; n < graph->nodes->len; n++)
        {
          const KestrelNode *node = kestrel_graph_node (graph, n);
          if (isolated_nhwc (graph, node) && !g_hash_table_contains (keep, node->name))
            {
              g_hash_table_add (keep, g_strdup (node->name));
              added++;
            }
        }
      keep_all = added == 0;
      kestrel_graph_free (graph);
    }
}
