/* ops-nn-layer-norm.c — normalisations by statistics of the data itself:
 * InstanceNormalization, LayerNormalization, MeanVarianceNormalization.
 *
 * Each normalises groups of elements by their own mean and variance
 * (biased, as ONNX defines them), computed in double over the group in two
 * passes so that a large mean does not cancel the variance. float32.
 *
 *   InstanceNormalization (1-21): a group is one (n, c) plane; then
 *     y = scale[c] * (x - mean) / sqrt(var + epsilon) + B[c].
 *   LayerNormalization (17-21): a group is the trailing dimensions from
 *     `axis`; Scale and the optional B broadcast to them one way; optional
 *     outputs Mean and InvStdDev with the leading shape and 1s after.
 *   MeanVarianceNormalization (9-21): a group is all elements that share
 *     the indices of the axes not in `axes` (default [0, 2, 3]); then
 *     y = (x - mean) / (sqrt(var) + 1e-9), the function ONNX defines.
 *
 * Groups are independent, so the parallel levels split them and give the
 * serial results exactly.
 */
#include "config.h"

#include "ops-nn.h"

#include <math.h>
#include <string.h>

#include "kestrel-error.h"

typedef enum {
  NORM_INSTANCE,
  NORM_LAYER,
  NORM_MVN,
} NormKind;

typedef struct {
  NormKind kind;
  float epsilon;
  /* The data seen as [outer, group, inner] groups are (o, i) pairs of
   * `group` elements with stride `inner`: a plane for Instance (inner 1),
   * the trailing block for Layer (inner 1), the reduced axes moved
   * together for MVN (general: see mvn_*). */
  gsize n_groups, group;
  gint64 channels, plane;            /* Instance: group index -> channel */
  gint64 param_stride[KESTREL_TENSOR_MAX_DIMS][2];  /* Layer: Scale, B strides */
  guint norm_dims;                   /* Layer: dimensions from axis */
  gint64 norm_shape[KESTREL_TENSOR_MAX_DIMS];
  /* MVN: dimensions of the input split into kept and reduced. */
  guint n_kept, n_red;
  gint64 kept_shape[KESTREL_TENSOR_MAX_DIMS], kept_stride[KESTREL_TENSOR_MAX_DIMS];
  gint64 red_shape[KESTREL_TENSOR_MAX_DIMS], red_stride[KESTREL_TENSOR_MAX_DIMS];
} NormState;

/* ---- Group statistics --------------------------------------------------- */

/* Offsets of a group's elements, in order, from its first: for Instance and
 * Layer they are 0..group-1; MVN's follow the reduced dimensions. */
static inline gint64
group_offset (const NormState *st, gsize k)
{
  gint64 off = 0;

  if (st->kind != NORM_MVN)
    return (gint64) k;
  for (gint d = (gint) st->n_red - 1; d >= 0; d--)
    {
      off += (gint64) (k % (gsize) st->red_shape[d]) * st->red_stride[d];
      k /= (gsize) st->red_shape[d];
    }
  return off;
}

static gint64
group_base (const NormState *st, gsize g)
{
  gint64 base = 0;

  if (st->kind != NORM_MVN)
    return (gint64) (g * st->group);
  for (gint d = (gint) st->n_kept - 1; d >= 0; d--)
    {
      base += (gint64) (g % (gsize) st->kept_shape[d]) * st->kept_stride[d];
      g /= (gsize) st->kept_shape[d];
    }
  return base;
}

static void
norm_groups (gsize begin, gsize end, guint worker G_GNUC_UNUSED, gpointer user_data)
{
  const KestrelStep *step = user_data;
  const NormState *st = step->state;
  const float *x = step->inputs[0].data;
  float *y = step->outputs[0].data;
  const float *scale = step->n_inputs > 1 ? step->inputs[1].data : NULL;
  const float *bias = step->n_inputs > 2 ? step->inputs[2].data : NULL;
  float *mean_out = step->n_outputs > 1 ? step->outputs[1].data : NULL;
  float *inv_out = step->n_outputs > 2 ? step->outputs[2].data : NULL;

  for (gsize g = begin; g < end; g++)
    {
      gint64 base = group_base (st, g);
      double sum = 0, sq = 0, mean, var, inv;

      for (gsize k = 0; k < st->group; k++)
        sum += (double) x[base + group_offset (st, k)];
      mean = st->group > 0 ? sum / (double) st->group : 0;
      for (gsize k = 0; k < st->group; k++)
        {
          double d = (double) x[base + group_offset (st, k)] - mean;
          sq += d * d;
        }
      var = st->group > 0 ? sq / (double) st->group : 0;

      switch (st->kind)
        {
        case NORM_INSTANCE:
          {
            gint64 c = (gint64) (g % (gsize) st->channels);
            double a = (double) scale[c] / sqrt (var + (double) st->epsilon);
            for (gsize k = 0; k < st->group; k++)
              y[base + k] = (float) (((double) x[base + k] - mean) * a + (double) bias[c]);
          }
          break;
        case NORM_LAYER:
          inv = 1.0 / sqrt (var + (double) st->epsilon);
          for (gsize k = 0; k < st->group; k++)
            {
              /* Scale and B index by the position inside the group. */
              gint64 ps = 0, pb = 0;
              gsize rest = k;
              for (gint d = (gint) st->norm_dims - 1; d >= 0; d--)
                {
                  gint64 i = (gint64) (rest % (gsize) st->norm_shape[d]);
                  rest /= (gsize) st->norm_shape[d];
                  ps += i * st->param_stride[d][0];
                  pb += i * st->param_stride[d][1];
                }
              y[base + k] = (float) (((double) x[base + k] - mean) * inv * (double) scale[ps]
                                     + (bias != NULL ? (double) bias[pb] : 0.0));
            }
          if (mean_out != NULL)
            mean_out[g] = (float) mean;
          if (inv_out != NULL)
            inv_out[g] = (float) inv;
          break;
        case NORM_MVN:
        default:
          {
            double d = sqrt (var) + 1e-9;
            for (gsize k = 0; k < st->group; k++)
              {
                gint64 off = base + group_offset (st, k);
                y[off] = (float) (((double) x[off] - mean) / d);
              }
          }
          break;
        }
    }
}

static void
norm_run (const KestrelStep *step)
{
  const NormState *st = step->state;

  kestrel_step_parallel_for (step, st->n_groups, norm_groups, (gpointer) step);
}

/* ---- InstanceNormalization --------------------------------------------- */

static gboolean
instance_norm_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x, *p;

  if (!kestrel_op_check_arity (node, 3, 3, 1, error)
      || !kestrel_node_check_attr_type (node, "epsilon", KESTREL_ATTR_FLOAT, error)
      || (x = kestrel_op_input (graph, node, 0, error)) == NULL
      || !kestrel_op_check_float (node, 0, x, error))
    return FALSE;
  if (x->n_dims < 2)
    {
      g_autofree char *s = kestrel_shape_to_string (x->n_dims, x->shape);
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "input '%s' has shape %s; expected [N, C, ...]", x->name, s);
      return FALSE;
    }
  for (guint i = 1; i < 3; i++)
    {
      if ((p = kestrel_op_input (graph, node, i, error)) == NULL
          || !kestrel_op_check_float (node, i, p, error))
        return FALSE;
      if (p->n_dims != 1 || p->shape[0] != x->shape[1])
        {
          g_autofree char *s = kestrel_shape_to_string (p->n_dims, p->shape);
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "%s '%s' has shape %s; expected [%" G_GINT64_FORMAT "], one "
                                  "per channel", i == 1 ? "scale" : "B", p->name, s,
                                  x->shape[1]);
          return FALSE;
        }
    }
  kestrel_op_set_output (graph, node, 0, x->dtype, x->n_dims, x->shape);
  return TRUE;
}

static gboolean
instance_norm_prepare (KestrelStep *step, GError **error G_GNUC_UNUSED)
{
  const KestrelTensorView *x = &step->inputs[0];
  NormState *st = g_new0 (NormState, 1);

  st->kind = NORM_INSTANCE;
  st->epsilon = kestrel_node_attr_float (step->node, "epsilon", 1e-5f);
  st->channels = x->shape[1];
  st->n_groups = (gsize) (x->shape[0] * x->shape[1]);
  st->group = (gsize) kestrel_shape_product (x->shape, 2, x->n_dims);
  step->state = st;
  step->free_state = g_free;
  return TRUE;
}

/* Opset 6 dropped consumed_inputs, a hint without meaning. */
const KestrelOpDef kestrel_op_instance_normalization = {
  .domain = "",
  .op_type = "InstanceNormalization",
  .min_opset = 1,
  .max_opset = 21,
  .infer = instance_norm_infer,
  .prepare = instance_norm_prepare,
  .run = norm_run,
};

/* ---- LayerNormalization ------------------------------------------------- */

static gboolean
layer_norm_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x, *p;
  guint axis;
  gint64 stats[KESTREL_TENSOR_MAX_DIMS];

  if (!kestrel_op_check_arity (node, 2, 3, 1, error)
      || !kestrel_node_check_attr_type (node, "axis", KESTREL_ATTR_INT, error)
      || !kestrel_node_check_attr_type (node, "epsilon", KESTREL_ATTR_FLOAT, error)
      || !kestrel_node_check_attr_type (node, "stash_type", KESTREL_ATTR_INT, error)
      || (x = kestrel_op_input (graph, node, 0, error)) == NULL
      || !kestrel_op_check_float (node, 0, x, error)
      || !kestrel_op_axis (node, kestrel_node_attr_int (node, "axis", -1), x->n_dims, &axis, error))
    return FALSE;
  for (guint i = 1; i < kestrel_node_n_inputs (node); i++)
    {
      guint dims;
      gint64 shape[KESTREL_TENSOR_MAX_DIMS];

      if (i == 2 && kestrel_node_input (node, 2) < 0)
        continue;
      if ((p = kestrel_op_input (graph, node, i, error)) == NULL
          || !kestrel_op_check_float (node, i, p, error))
        return FALSE;
      /* Scale and B broadcast to the normalised shape, never the reverse. */
      if (!kestrel_op_broadcast_shapes (node, x->n_dims - axis, x->shape + axis, p->n_dims,
                                        p->shape, &dims, shape, error))
        return FALSE;
      if (dims != x->n_dims - axis
          || memcmp (shape, x->shape + axis, dims * sizeof (gint64)) != 0)
        {
          g_autofree char *s = kestrel_shape_to_string (p->n_dims, p->shape);
          g_autofree char *n = kestrel_shape_to_string (x->n_dims - axis, x->shape + axis);
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "%s '%s' %s does not broadcast to the normalised shape %s",
                                  i == 1 ? "Scale" : "B", p->name, s, n);
          return FALSE;
        }
    }
  kestrel_op_set_output (graph, node, 0, x->dtype, x->n_dims, x->shape);
  for (guint d = 0; d < x->n_dims; d++)
    stats[d] = d < axis ? x->shape[d] : 1;
  for (guint o = 1; o < MIN (kestrel_node_n_outputs (node), 3); o++)
    if (kestrel_node_output (node, o) >= 0)
      kestrel_op_set_output (graph, node, o, KESTREL_DTYPE_FLOAT32, x->n_dims, stats);
  return kestrel_nn_check_no_outputs_after (node, 3, "LayerNormalization has three outputs",
                                            error);
}

static gboolean
layer_norm_prepare (KestrelStep *step, GError **error)
{
  const KestrelTensorView *x = &step->inputs[0];
  NormState *st;
  guint axis;

  if (!kestrel_op_axis (step->node, kestrel_node_attr_int (step->node, "axis", -1), x->n_dims,
                        &axis, error))
    return FALSE;
  st = g_new0 (NormState, 1);
  st->kind = NORM_LAYER;
  st->epsilon = kestrel_node_attr_float (step->node, "epsilon", 1e-5f);
  st->n_groups = (gsize) kestrel_shape_product (x->shape, 0, axis);
  st->group = (gsize) kestrel_shape_product (x->shape, axis, x->n_dims);
  st->norm_dims = x->n_dims - axis;
  memcpy (st->norm_shape, x->shape + axis, st->norm_dims * sizeof (gint64));
  for (guint i = 1; i < MIN (step->n_inputs, 3); i++)
    {
      gint64 strides[KESTREL_TENSOR_MAX_DIMS] = { 0 };
      const KestrelTensorView *p = &step->inputs[i];

      kestrel_op_broadcast_strides (st->norm_dims, st->norm_shape, p->n_dims, p->shape,
                                    strides);
      for (guint d = 0; d < st->norm_dims; d++)
        st->param_stride[d][i - 1] = strides[d];
    }
  step->state = st;
  step->free_state = g_free;
  return TRUE;
}

/* stash_type asks for the statistics in float32 or wider; they are always
 * computed in double here, which is at least as precise. */
const KestrelOpDef kestrel_op_layer_normalization = {
  .domain = "",
  .op_type = "LayerNormalization",
  .min_opset = 17,
  .max_opset = 21,
  .infer = layer_norm_infer,
  .prepare = layer_norm_prepare,
  .run = norm_run,
};

/* ---- MeanVarianceNormalization ------------------------------------------ */

static const gint64 mvn_default_axes[] = { 0, 2, 3 };

static gboolean
mvn_mask (const KestrelNode *node, guint rank, gboolean *mask, GError **error)
{
  guint n = 0;
  const gint64 *axes = kestrel_node_attr_ints (node, "axes", &n);

  if (axes == NULL)
    {
      axes = mvn_default_axes;
      n = G_N_ELEMENTS (mvn_default_axes);
    }
  memset (mask, 0, rank * sizeof (gboolean));
  for (guint k = 0; k < n; k++)
    {
      guint axis;
      if (!kestrel_op_axis (node, axes[k], rank, &axis, error))
        return FALSE;
      mask[axis] = TRUE;
    }
  return TRUE;
}

static gboolean
mvn_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x;
  gboolean mask[KESTREL_TENSOR_MAX_DIMS];

  if (!kestrel_op_check_arity (node, 1, 1, 1, error)
      || !kestrel_node_check_attr_type (node, "axes", KESTREL_ATTR_INTS, error)
      || (x = kestrel_op_input (graph, node, 0, error)) == NULL
      || !kestrel_op_check_float (node, 0, x, error)
      || !mvn_mask (node, x->n_dims, mask, error))
    return FALSE;
  kestrel_op_set_output (graph, node, 0, x->dtype, x->n_dims, x->shape);
  return TRUE;
}

static gboolean
mvn_prepare (KestrelStep *step, GError **error)
{
  const KestrelTensorView *x = &step->inputs[0];
  gboolean mask[KESTREL_TENSOR_MAX_DIMS];
  gint64 strides[KESTREL_TENSOR_MAX_DIMS];
  NormState *st;

  if (!mvn_mask (step->node, x->n_dims, mask, error))
    return FALSE;
  st = g_new0 (NormState, 1);
  st->kind = NORM_MVN;
  st->n_groups = 1;
  st->group = 1;
  kestrel_shape_strides (x->n_dims, x->shape, strides);
  for (guint d = 0; d < x->n_dims; d++)
    if (mask[d])
      {
        st->red_shape[st->n_red] = x->shape[d];
        st->red_stride[st->n_red++] = strides[d];
        st->group *= (gsize) x->shape[d];
      }
    else
      {
        st->kept_shape[st->n_kept] = x->shape[d];
        st->kept_stride[st->n_kept++] = strides[d];
        st->n_groups *= (gsize) x->shape[d];
      }
  step->state = st;
  step->free_state = g_free;
  return TRUE;
}

const KestrelOpDef kestrel_op_mean_variance_normalization = {
  .domain = "",
  .op_type = "MeanVarianceNormalization",
  .min_opset = 9,
  .max_opset = 21,
  .infer = mvn_infer,
  .prepare = mvn_prepare,
  .run = norm_run,
};
