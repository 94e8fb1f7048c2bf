/* ops-math-axis.c — operators that work along one axis: CumSum, TopK and
 * Hardmax.
 *
 * Each views its input as [outer, n, inner] around the axis and treats the
 * outer x inner lines independently.
 *
 *   CumSum (11-21): running sums along the axis (a constant input), with
 *     `exclusive` (start from 0) and `reverse`. float32, float64, int32,
 *     int64; float sums are accumulated in the input's type as the
 *     definition's loop does.
 *   TopK (1-21): the k largest (or, from opset 11, smallest) values and
 *     their int64 indices. k is an attribute up to opset 9, then a constant
 *     input. Ties keep the lower index first, which is what ONNX Runtime
 *     and the conformance data do; the output is always sorted (opset 11's
 *     sorted = 0 leaves the order free). float32, int8, uint8, int32, int64.
 *   Hardmax (1-21): 1 at the first largest element of each line, 0
 *     elsewhere; up to opset 12 the input is coerced to 2-D at `axis`
 *     (default 1), from 13 the line is the axis (default -1). float32.
 */
#include "config.h"

#include "ops-math.h"

#include <string.h>

#include "kestrel-error.h"

typedef struct {
  gsize outer, n, inner;
} AxisLines;

static void
axis_lines (guint n_dims, const gint64 *shape, guint axis, AxisLines *lines)
{
  lines->outer = kestrel_shape_product (shape, 0, axis);
  lines->n = axis < n_dims ? (gsize) shape[axis] : 1;
  lines->inner = kestrel_shape_product (shape, axis + 1, n_dims);
}

/* ---- CumSum ----------------------------------------------------------------- */

typedef struct {
  AxisLines lines;
  gboolean exclusive, reverse;
} CumSumState;

static gboolean
cum_sum_axis (const KestrelGraph *graph, const KestrelNode *node, guint rank, guint *axis,
              GError **error)
{
  g_autofree gint64 *values = NULL;
  guint n = 0;

  if (!kestrel_op_constant_ints (graph, node, 1, &values, &n, error))
    return FALSE;
  if (n != 1)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "axis must be a single value, it has %u", n);
      return FALSE;
    }
  return kestrel_op_axis (node, values[0], rank, axis, error);
}

static gboolean
cum_sum_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  static const KestrelDType dtypes[] = {
    KESTREL_DTYPE_FLOAT32, KESTREL_DTYPE_FLOAT64, KESTREL_DTYPE_INT32, KESTREL_DTYPE_INT64,
  };
  const KestrelValue *x;
  guint axis;

  if (!kestrel_op_check_arity (node, 2, 2, 1, error)
      || !kestrel_node_check_attr_type (node, "exclusive", KESTREL_ATTR_INT, error)
      || !kestrel_node_check_attr_type (node, "reverse", KESTREL_ATTR_INT, error)
      || (x = kestrel_op_input (graph, node, 0, error)) == NULL
      || !kestrel_op_check_dtype (node, 0, x, dtypes, G_N_ELEMENTS (dtypes), error)
      || !cum_sum_axis (graph, node, x->n_dims, &axis, error))
    return FALSE;
  kestrel_op_set_output (graph, node, 0, x->dtype, x->n_dims, x->shape);
  return TRUE;
}

static gboolean
cum_sum_prepare (KestrelStep *step, GError **error G_GNUC_UNUSED)
{
  const KestrelTensorView *x = &step->inputs[0];
  CumSumState *st = g_new0 (CumSumState, 1);
  gint64 axis = kestrel_op_load_int (step->inputs[1].dtype, step->inputs[1].data, 0);

  if (axis < 0)
    axis += x->n_dims;
  axis_lines (x->n_dims, x->shape, (guint) axis, &st->lines);
  st->exclusive = kestrel_node_attr_int (step->node, "exclusive", 0) != 0;
  st->reverse = kestrel_node_attr_int (step->node, "reverse", 0) != 0;
  step->state = st;
  step->free_state = g_free;
  return TRUE;
}

#define DEFINE_CUM_SUM(suffix, T, ACC, ADD)                                          \
  static void                                                                        \
  cum_sum_##suffix (const CumSumState *st, const T *x, T *y)                         \
  {                                                                                  \
    const AxisLines *l = &st->lines;                                                 \
    for (gsize o = 0; o < l->outer; o++)                                             \
      for (gsize i = 0; i < l->inner; i++)                                           \
        {                                                                            \
          ACC acc = 0;                                                               \
          for (gsize s = 0; s < l->n; s++)                                           \
            {                                                                        \
              gsize k = st->reverse ? l->n - 1 - s : s;                              \
              gsize e = (o * l->n + k) * l->inner + i;                               \
              T v = x[e];                                                            \
              if (st->exclusive)                                                     \
                {                                                                    \
                  y[e] = (T) acc;                                                    \
                  acc = ADD (acc, v);                                                \
                }                                                                    \
              else                                                                   \
                {                                                                    \
                  acc = ADD (acc, v);                                                \
                  y[e] = (T) acc;                                                    \
                }                                                                    \
            }                                                                        \
        }                                                                            \
  }

#define ADD_PLAIN(a, b) ((a) + (b))
#define ADD_WRAP(a, b) ((a) + (guint64) (b))

DEFINE_CUM_SUM (f32, float, float, ADD_PLAIN)
DEFINE_CUM_SUM (f64, double, double, ADD_PLAIN)
DEFINE_CUM_SUM (i32, gint32, guint64, ADD_WRAP)
DEFINE_CUM_SUM (i64, gint64, guint64, ADD_WRAP)

static void
cum_sum_run (const KestrelStep *step)
{
  const CumSumState *st = step->state;
  const void *x = step->inputs[0].data;
  void *y = step->outputs[0].data;

  switch (step->inputs[0].dtype)
    {
    case KESTREL_DTYPE_FLOAT32:
      cum_sum_f32 (st, x, y);
      break;
    case KESTREL_DTYPE_FLOAT64:
      cum_sum_f64 (st, x, y);
      break;
    case KESTREL_DTYPE_INT32:
      cum_sum_i32 (st, x, y);
      break;
    case KESTREL_DTYPE_INT64:
      cum_sum_i64 (st, x, y);
      break;
    default:
      break; /* infer() admits no other type */
    }
}

/* CumSum-14 only added types. */
const KestrelOpDef kestrel_op_cum_sum = {
  "", "CumSum", 11, 21, cum_sum_infer, cum_sum_prepare, cum_sum_run, NULL
};

/* ---- TopK ------------------------------------------------------------------- */

typedef struct {
  AxisLines lines;
  gsize k;
  gboolean largest;
} TopKState;

static gboolean
top_k_read (const KestrelGraph *graph, const KestrelNode *node, gint64 *k, GError **error)
{
  g_autofree gint64 *values = NULL;
  guint n = 0;

  if (graph->opset < 10)
    {
      if (kestrel_node_find_attr (node, "k") == NULL)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "has no 'k' attribute (TopK before opset 10 needs one)");
          return FALSE;
        }
      *k = kestrel_node_attr_int (node, "k", 0);
      return TRUE;
    }
  if (!kestrel_op_check_arity (node, 2, 2, 2, error)
      || !kestrel_op_constant_ints (graph, node, 1, &values, &n, error))
    return FALSE;
  if (n != 1)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "K must be a single value, it has %u", n);
      return FALSE;
    }
  *k = values[0];
  return TRUE;
}

static gboolean
top_k_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  static const KestrelDType dtypes[] = {
    KESTREL_DTYPE_FLOAT32, KESTREL_DTYPE_INT8, KESTREL_DTYPE_UINT8,
    KESTREL_DTYPE_INT32, KESTREL_DTYPE_INT64,
  };
  const KestrelValue *x;
  gint64 k, out[KESTREL_TENSOR_MAX_DIMS];
  guint axis;

  if (!kestrel_op_check_arity (node, graph->opset < 10 ? 1 : 2, graph->opset < 10 ? 1 : 2, 2,
                               error)
      || !kestrel_node_check_attr_type (node, "k", KESTREL_ATTR_INT, error)
      || !kestrel_node_check_attr_type (node, "axis", KESTREL_ATTR_INT, error)
      || !kestrel_node_check_attr_type (node, "largest", KESTREL_ATTR_INT, error)
      || !kestrel_node_check_attr_type (node, "sorted", KESTREL_ATTR_INT, error)
      || (x = kestrel_op_input (graph, node, 0, error)) == NULL
      || !kestrel_op_check_dtype (node, 0, x, dtypes, G_N_ELEMENTS (dtypes), error)
      || !kestrel_op_axis (node, kestrel_node_attr_int (node, "axis", -1), x->n_dims, &axis, error)
      || !top_k_read (graph, node, &k, error))
    return FALSE;
  if (k < 0 || k > x->shape[axis])
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "k = %" G_GINT64_FORMAT " is outside [0, %" G_GINT64_FORMAT "], "
                              "the size of axis %u", k, x->shape[axis], axis);
      return FALSE;
    }
  memcpy (out, x->shape, sizeof out);
  out[axis] = k;
  kestrel_op_set_output (graph, node, 0, x->dtype, x->n_dims, out);
  if (kestrel_node_output (node, 1) >= 0)
    kestrel_op_set_output (graph, node, 1, KESTREL_DTYPE_INT64, x->n_dims, out);
  return TRUE;
}

static gboolean
top_k_prepare (KestrelStep *step, GError **error)
{
  const KestrelTensorView *x = &step->inputs[0];
  TopKState *st;
  guint axis;

  if (!kestrel_op_axis (step->node, kestrel_node_attr_int (step->node, "axis", -1), x->n_dims,
                        &axis, error))
    return FALSE;
  st = g_new0 (TopKState, 1);
  axis_lines (x->n_dims, x->shape, axis, &st->lines);
  st->k = (gsize) step->outputs[0].shape[axis];
  st->largest = kestrel_node_attr_int (step->node, "largest", 1) != 0;
  step->state = st;
  step->free_state = g_free;
  step->scratch_bytes = MAX (st->lines.n, 1) * sizeof (gsize);
  return TRUE;
}

typedef struct {
  KestrelDType dtype;
  const void *data;
  gsize base, stride;
  gboolean largest;
} TopKLine;

static gint
top_k_compare (gconstpointer pa, gconstpointer pb, gpointer user_data)
{
  const TopKLine *line = user_data;
  gsize a = *(const gsize *) pa, b = *(const gsize *) pb;
  gsize ea = line->base + a * line->stride, eb = line->base + b * line->stride;
  gint order;

  if (line->dtype == KESTREL_DTYPE_FLOAT32)
    {
      float va = ((const float *) line->data)[ea], vb = ((const float *) line->data)[eb];
      order = va < vb ? -1 : va > vb ? 1 : 0;
    }
  else
    {
      gint64 va = kestrel_op_load_int (line->dtype, line->data, ea);
      gint64 vb = kestrel_op_load_int (line->dtype, line->data, eb);
      order = va < vb ? -1 : va > vb ? 1 : 0;
    }
  if (line->largest)
    order = -order;
  /* Equal values: the lower index first. */
  return order != 0 ? order : a < b ? -1 : a > b ? 1 : 0;
}

static void
top_k_run (const KestrelStep *step)
{
  const TopKState *st = step->state;
  const KestrelTensorView *x = &step->inputs[0];
  const KestrelTensorView *values = &step->outputs[0];
  gint64 *indices = step->n_outputs > 1 ? step->outputs[1].data : NULL;
  gsize size = kestrel_dtype_get_size (x->dtype);
  gsize *order = step->scratch;

  for (gsize o = 0; o < st->lines.outer; o++)
    for (gsize i = 0; i < st->lines.inner; i++)
      {
        TopKLine line = {
          .dtype = x->dtype,
          .data = x->data,
          .base = o * st->lines.n * st->lines.inner + i,
          .stride = st->lines.inner,
          .largest = st->largest,
        };

        for (gsize s = 0; s < st->lines.n; s++)
          order[s] = s;
        g_qsort_with_data (order, (gint) st->lines.n, sizeof (gsize), top_k_compare, &line);
        for (gsize s = 0; s < st->k; s++)
          {
            gsize out = (o * st->k + s) * st->lines.inner + i;
            memcpy ((guint8 *) values->data + out * size,
                    (const guint8 *) x->data + (line.base + order[s] * line.stride) * size, size);
            if (indices != NULL)
              indices[out] = (gint64) order[s];
          }
      }
}

/* TopK-10 made k an input, -11 added largest and sorted. */
const KestrelOpDef kestrel_op_top_k = {
  "", "TopK", 1, 21, top_k_infer, top_k_prepare, top_k_run, NULL
};

/* ---- Hardmax ------------------------------------------------------------------ */

static gboolean
hardmax_lines (const KestrelNode *node, gint64 opset, guint n_dims, const gint64 *shape,
               AxisLines *lines, GError **error)
{
  guint axis;

  if (!kestrel_op_axis (node, kestrel_node_attr_int (node, "axis", opset >= 13 ? -1 : 1), n_dims,
                        &axis, error))
    return FALSE;
  if (opset >= 13)
    axis_lines (n_dims, shape, axis, lines);
  else
    {
      /* Coerced to [prod (shape[:axis]), prod (shape[axis:])]. */
      lines->outer = kestrel_shape_product (shape, 0, axis);
      lines->n = kestrel_shape_product (shape, axis, n_dims);
      lines->inner = 1;
    }
  return TRUE;
}

typedef struct {
  AxisLines lines;
} HardmaxState;

static gboolean
hardmax_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x;
  AxisLines lines;

  if (!kestrel_op_check_arity (node, 1, 1, 1, error)
      || !kestrel_node_check_attr_type (node, "axis", KESTREL_ATTR_INT, error)
      || (x = kestrel_op_input (graph, node, 0, error)) == NULL
      || !kestrel_op_check_float (node, 0, x, error)
      || !hardmax_lines (node, graph->opset, x->n_dims, x->shape, &lines, error))
    return FALSE;
  kestrel_op_set_output (graph, node, 0, x->dtype, x->n_dims, x->shape);
  return TRUE;
}

static gboolean
hardmax_prepare (KestrelStep *step, GError **error)
{
  const KestrelTensorView *x = &step->inputs[0];
  HardmaxState *st = g_new0 (HardmaxState, 1);
  /* The two definitions share this; their first opset tells them apart. */
  gint64 opset = step->op->min_opset;

  if (!hardmax_lines (step->node, opset, x->n_dims, x->shape, &st->lines, error))
    {
      g_free (st);
      return FALSE;
    }
  step->state = st;
  step->free_state = g_free;
  return TRUE;
}

static void
hardmax_run (const KestrelStep *step)
{
  const HardmaxState *st = step->state;
  const float *x = step->inputs[0].data;
  float *y = step->outputs[0].data;
  const AxisLines *l = &st->lines;

  for (gsize o = 0; o < l->outer; o++)
    for (gsize i = 0; i < l->inner; i++)
      {
        gsize base = o * l->n * l->inner + i, best = 0;

        for (gsize s = 1; s < l->n; s++)
          if (x[base + s * l->inner] > x[base + best * l->inner])
            best = s;
        for (gsize s = 0; s < l->n; s++)
          y[base + s * l->inner] = s == best ? 1.0f : 0.0f;
      }
}

/* Two definitions because opset 13 changed what the axis means. */
const KestrelOpDef kestrel_op_hardmax_1 = {
  "", "Hardmax", 1, 12, hardmax_infer, hardmax_prepare, hardmax_run, NULL
};
const KestrelOpDef kestrel_op_hardmax_13 = {
  "", "Hardmax", 13, 21, hardmax_infer, hardmax_prepare, hardmax_run, NULL
};
