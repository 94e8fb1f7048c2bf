/* ops-shape-index.c — operators that move elements by index tensors:
 * GatherElements, ScatterElements (and its older name Scatter), GatherND,
 * ScatterND, OneHot and NonZero.
 *
 * Indices are int32 or int64 and may be negative (counted from the end).
 * They are data, known only at run time, and run() cannot fail, so an
 * index outside its dimension is not an error there: a gather reads 0 (or
 * OneHot's "off" value) and a scatter drops the update. ONNX calls such
 * models invalid; this keeps a bad model from reading or writing outside
 * its tensors.
 *
 * Gathers take every data type (they copy bytes); the scatter reductions
 * (add, mul, max, min; opsets 16 and 18) take float32, int32 and int64.
 */
#include "config.h"

#include "ops-shape.h"

#include <string.h>

#include "kestrel-error.h"

static const KestrelDType index_dtypes[] = { KESTREL_DTYPE_INT64, KESTREL_DTYPE_INT32 };

/* Index i of an int32/int64 view, made non-negative against `dim`, or -1
 * when it is outside [-dim, dim). */
static inline gint64
read_index (const KestrelTensorView *view, gsize i, gint64 dim)
{
  gint64 v = view->dtype == KESTREL_DTYPE_INT32 ? ((const gint32 *) view->data)[i]
                                                 : ((const gint64 *) view->data)[i];

  if (v < 0)
    v += dim;
  return v >= 0 && v < dim ? v : -1;
}

/* ---- Scatter reductions --------------------------------------------------- */

typedef enum {
  REDUCE_NONE,
  REDUCE_ADD,
  REDUCE_MUL,
  REDUCE_MAX,
  REDUCE_MIN,
} ScatterReduction;

static gboolean
scatter_reduction (const KestrelGraph *graph, const KestrelNode *node, KestrelDType dtype,
                   ScatterReduction *out, GError **error)
{
  static const char *const names[] = { "none", "add", "mul", "max", "min" };
  const char *name;

  if (!kestrel_node_check_attr_type (node, "reduction", KESTREL_ATTR_STRING, error))
    return FALSE;
  name = kestrel_node_attr_string (node, "reduction", "none");
  for (guint r = 0; r < G_N_ELEMENTS (names); r++)
    if (strcmp (name, names[r]) == 0 && (r < 3 || graph == NULL || graph->opset >= 18))
      {
        *out = (ScatterReduction) r;
        if (r != REDUCE_NONE && dtype != KESTREL_DTYPE_FLOAT32 && dtype != KESTREL_DTYPE_INT32
            && dtype != KESTREL_DTYPE_INT64)
          {
            kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                                    "reduction '%s' on %s is not supported (float32, int32 "
                                    "and int64 are)", name, kestrel_dtype_get_name (dtype));
            return FALSE;
          }
        return TRUE;
      }
  kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                          "reduction '%s' is not one of none, add, mul%s", name,
                          graph != NULL && graph->opset >= 18 ? ", max, min" : "");
  return FALSE;
}

/* y[dst] = y[dst] (reduction) u[src], elements of `size` bytes. */
static inline void
scatter_one (ScatterReduction r, KestrelDType dtype, gsize size, guint8 *y, gsize dst,
             const guint8 *u, gsize src)
{
  if (r == REDUCE_NONE)
    {
      memcpy (y + dst * size, u + src * size, size);
      return;
    }
  if (dtype == KESTREL_DTYPE_FLOAT32)
    {
      float *a = (float *) y + dst, b = ((const float *) u)[src];
      *a = r == REDUCE_ADD ? *a + b : r == REDUCE_MUL ? *a * b
           : r == REDUCE_MAX ? MAX (*a, b) : MIN (*a, b);
    }
  else
    {
      gint64 a = kestrel_op_load_int (dtype, y, dst), b = kestrel_op_load_int (dtype, u, src);
      guint64 ua = (guint64) a, ub = (guint64) b;
      gint64 v = r == REDUCE_ADD ? (gint64) (ua + ub) : r == REDUCE_MUL ? (gint64) (ua * ub)
                 : r == REDUCE_MAX ? MAX (a, b) : MIN (a, b);
      kestrel_op_store_int (dtype, y, dst, v);
    }
}

/* ---- GatherElements / ScatterElements -------------------------------------- */

typedef struct {
  guint axis;
  ScatterReduction reduction;
} ElementsState;

static gboolean
elements_infer (KestrelGraph *graph, KestrelNode *node, gboolean scatter, GError **error)
{
  const KestrelValue *data, *indices, *updates = NULL;
  guint axis;
  ScatterReduction r;

  if (!kestrel_op_check_arity (node, scatter ? 3 : 2, scatter ? 3 : 2, 1, error)
      || !kestrel_node_check_attr_type (node, "axis", KESTREL_ATTR_INT, error)
      || (data = kestrel_op_input (graph, node, 0, error)) == NULL
      || (indices = kestrel_op_input (graph, node, 1, error)) == NULL
      || !kestrel_op_check_dtype (node, 1, indices, index_dtypes, 2, error)
      || (scatter && (updates = kestrel_op_input (graph, node, 2, error)) == NULL)
      || !kestrel_op_axis (node, kestrel_node_attr_int (node, "axis", 0), data->n_dims, &axis,
                           error))
    return FALSE;
  if (indices->n_dims != data->n_dims)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "indices '%s' have %u dimensions but data '%s' has %u; they must "
                              "have the same rank", indices->name, indices->n_dims, data->name,
                              data->n_dims);
      return FALSE;
    }
  for (guint d = 0; d < data->n_dims; d++)
    if (d != axis && indices->shape[d] > data->shape[d])
      {
        g_autofree char *is = kestrel_shape_to_string (indices->n_dims, indices->shape);
        g_autofree char *ds = kestrel_shape_to_string (data->n_dims, data->shape);
        kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                "indices %s exceed data %s along axis %u", is, ds, d);
        return FALSE;
      }
  if (scatter)
    {
      if (updates->dtype != data->dtype || updates->n_dims != indices->n_dims
          || memcmp (updates->shape, indices->shape, indices->n_dims * sizeof (gint64)) != 0)
        {
          g_autofree char *us = kestrel_shape_to_string (updates->n_dims, updates->shape);
          g_autofree char *is = kestrel_shape_to_string (indices->n_dims, indices->shape);
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "updates '%s' are %s%s; expected %s%s like the indices and "
                                  "the data", updates->name, kestrel_dtype_get_name (updates->dtype),
                                  us, kestrel_dtype_get_name (data->dtype), is);
          return FALSE;
        }
      if (!scatter_reduction (graph, node, data->dtype, &r, error))
        return FALSE;
      kestrel_op_set_output (graph, node, 0, data->dtype, data->n_dims, data->shape);
    }
  else
    kestrel_op_set_output (graph, node, 0, data->dtype, indices->n_dims, indices->shape);
  return TRUE;
}

static gboolean
elements_prepare (KestrelStep *step, GError **error)
{
  ElementsState *st = g_new0 (ElementsState, 1);

  kestrel_op_axis (step->node, kestrel_node_attr_int (step->node, "axis", 0),
                   step->inputs[0].n_dims, &st->axis, NULL);
  if (step->n_inputs == 3
      && !scatter_reduction (NULL, step->node, step->inputs[0].dtype, &st->reduction, error))
    {
      g_free (st);
      return FALSE;
    }
  step->state = st;
  step->free_state = g_free;
  return TRUE;
}

/* Visits every index element: `i` is its flat position, `target` the flat
 * position in data it addresses (or -1 when out of range). */
#define FOR_EACH_ELEMENT_INDEX(step, st, i, target, BODY)                           \
  do                                                                                 \
    {                                                                                \
      const KestrelTensorView *data_ = &(step)->inputs[0];                           \
      const KestrelTensorView *idx_ = &(step)->inputs[1];                            \
      gint64 dstride_[KESTREL_TENSOR_MAX_DIMS];                                      \
      gint64 pos_[KESTREL_TENSOR_MAX_DIMS] = { 0 };                                  \
      kestrel_shape_strides (data_->n_dims, data_->shape, dstride_);                 \
      for (gsize i = 0; i < idx_->n_elements; i++)                                   \
        {                                                                            \
          gint64 k_ = read_index (idx_, i, data_->shape[(st)->axis]);                \
          gint64 target = -1;                                                        \
          if (k_ >= 0)                                                               \
            {                                                                        \
              target = 0;                                                            \
              for (guint d_ = 0; d_ < data_->n_dims; d_++)                           \
                target += (d_ == (st)->axis ? k_ : pos_[d_]) * dstride_[d_];         \
            }                                                                        \
          BODY;                                                                      \
          for (gint d_ = (gint) idx_->n_dims - 1; d_ >= 0; d_--)                     \
            {                                                                        \
              if (++pos_[d_] < idx_->shape[d_])                                      \
                break;                                                               \
              pos_[d_] = 0;                                                          \
            }                                                                        \
        }                                                                            \
    }                                                                                \
  while (0)

static void
gather_elements_run (const KestrelStep *step)
{
  const ElementsState *st = step->state;
  gsize size = kestrel_dtype_get_size (step->inputs[0].dtype);
  const guint8 *x = step->inputs[0].data;
  guint8 *y = step->outputs[0].data;

  FOR_EACH_ELEMENT_INDEX (step, st, i, target, {
    if (target >= 0)
      memcpy (y + i * size, x + target * size, size);
    else
      memset (y + i * size, 0, size);
  });
}

static void
scatter_elements_run (const KestrelStep *step)
{
  const ElementsState *st = step->state;
  const KestrelTensorView *out = &step->outputs[0];
  gsize size = kestrel_dtype_get_size (out->dtype);
  const guint8 *u = step->inputs[2].data;
  guint8 *y = out->data;

  if (y != step->inputs[0].data && out->n_elements > 0)
    memcpy (y, step->inputs[0].data, out->n_elements * size);
  FOR_EACH_ELEMENT_INDEX (step, st, i, target, {
    if (target >= 0)
      scatter_one (st->reduction, out->dtype, size, y, target, u, i);
  });
}

static gboolean
gather_elements_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  return elements_infer (graph, node, FALSE, error);
}

static gboolean
scatter_elements_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  return elements_infer (graph, node, TRUE, error);
}

const KestrelOpDef kestrel_op_gather_elements = {
  "", "GatherElements", 11, 21, gather_elements_infer, elements_prepare, gather_elements_run, NULL
};

/* Scatter (9-10) is ScatterElements under its first name; ScatterElements-16
 * added reduction add/mul, -18 max/min. */
const KestrelOpDef kestrel_op_scatter = {
  "", "Scatter", 9, 10, scatter_elements_infer, elements_prepare, scatter_elements_run, NULL
};
const KestrelOpDef kestrel_op_scatter_elements = {
  "", "ScatterElements", 11, 21, scatter_elements_infer, elements_prepare, scatter_elements_run,
  NULL
};

/* ---- GatherND / ScatterND -------------------------------------------------- */

/* indices [b..., q..., k] address data [b..., k dims, slice...]: `batch`
 * leading dimensions shared (GatherND-12's batch_dims; 0 for ScatterND),
 * then each index row of k values picks a slice of `slice` elements. */
typedef struct {
  guint batch, k;
  gsize n_batch, rows_per_batch, slice;
  gint64 dim_stride[KESTREL_TENSOR_MAX_DIMS];   /* of the k indexed dimensions */
  gint64 dim_size[KESTREL_TENSOR_MAX_DIMS];
  gsize batch_stride;                          /* data elements per batch */
  ScatterReduction reduction;
} NdState;

static gboolean
nd_infer (KestrelGraph *graph, KestrelNode *node, gboolean scatter, GError **error)
{
  const KestrelValue *data, *indices, *updates = NULL;
  gint64 batch = 0, k, out[KESTREL_TENSOR_MAX_DIMS];
  guint out_dims = 0;
  ScatterReduction r;

  if (!kestrel_op_check_arity (node, scatter ? 3 : 2, scatter ? 3 : 2, 1, error)
      || !kestrel_node_check_attr_type (node, "batch_dims", KESTREL_ATTR_INT, error)
      || (data = kestrel_op_input (graph, node, 0, error)) == NULL
      || (indices = kestrel_op_input (graph, node, 1, error)) == NULL
      || !kestrel_op_check_dtype (node, 1, indices, index_dtypes, 2, error)
      || (scatter && (updates = kestrel_op_input (graph, node, 2, error)) == NULL))
    return FALSE;
  if (!scatter)
    batch = kestrel_node_attr_int (node, "batch_dims", 0);
  if (indices->n_dims < 1 || batch < 0 || batch >= (gint64) MIN (indices->n_dims, data->n_dims))
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "indices '%s' need at least %" G_GINT64_FORMAT " dimensions",
                              indices->name, batch + 1);
      return FALSE;
    }
  k = indices->shape[indices->n_dims - 1];
  if (k < 1 || batch + k > data->n_dims)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "index rows of %" G_GINT64_FORMAT " values cannot address data "
                              "'%s' of rank %u after %" G_GINT64_FORMAT " batch dimensions", k,
                              data->name, data->n_dims, batch);
      return FALSE;
    }
  for (gint64 d = 0; d < batch; d++)
    if (indices->shape[d] != data->shape[d])
      {
        kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                "batch dimension %" G_GINT64_FORMAT " differs between data and "
                                "indices", d);
        return FALSE;
      }
  /* Gather's output (and the updates' shape): indices[:-1] + data[batch + k:]. */
  for (guint d = 0; d + 1 < indices->n_dims; d++)
    out[out_dims++] = indices->shape[d];
  for (guint d = batch + k; d < data->n_dims; d++)
    {
      if (out_dims >= KESTREL_TENSOR_MAX_DIMS)
        return kestrel_shape_check_rank (node, out_dims + 1, error);
      out[out_dims++] = data->shape[d];
    }
  if (scatter)
    {
      if (updates->dtype != data->dtype || updates->n_dims != out_dims
          || memcmp (updates->shape, out, out_dims * sizeof (gint64)) != 0)
        {
          g_autofree char *us = kestrel_shape_to_string (updates->n_dims, updates->shape);
          g_autofree char *want = kestrel_shape_to_string (out_dims, out);
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "updates '%s' are %s%s; expected %s%s", updates->name,
                                  kestrel_dtype_get_name (updates->dtype), us,
                                  kestrel_dtype_get_name (data->dtype), want);
          return FALSE;
        }
      if (!scatter_reduction (graph, node, data->dtype, &r, error))
        return FALSE;
      kestrel_op_set_output (graph, node, 0, data->dtype, data->n_dims, data->shape);
    }
  else
    kestrel_op_set_output (graph, node, 0, data->dtype, out_dims, out);
  return TRUE;
}

static gboolean
nd_prepare (KestrelStep *step, GError **error)
{
  const KestrelTensorView *data = &step->inputs[0], *indices = &step->inputs[1];
  gint64 strides[KESTREL_TENSOR_MAX_DIMS];
  NdState *st = g_new0 (NdState, 1);

  if (step->n_inputs == 3
      && !scatter_reduction (NULL, step->node, data->dtype, &st->reduction, error))
    {
      g_free (st);
      return FALSE;
    }
  st->batch = step->n_inputs == 3 ? 0 : kestrel_node_attr_int (step->node, "batch_dims", 0);
  st->k = (guint) indices->shape[indices->n_dims - 1];
  st->n_batch = kestrel_shape_product (data->shape, 0, st->batch);
  st->rows_per_batch = kestrel_shape_product (indices->shape, st->batch, indices->n_dims - 1);
  st->slice = kestrel_shape_product (data->shape, st->batch + st->k, data->n_dims);
  st->batch_stride = kestrel_shape_product (data->shape, st->batch, data->n_dims);
  kestrel_shape_strides (data->n_dims, data->shape, strides);
  for (guint j = 0; j < st->k; j++)
    {
      st->dim_stride[j] = strides[st->batch + j];
      st->dim_size[j] = data->shape[st->batch + j];
    }
  step->state = st;
  step->free_state = g_free;
  return TRUE;
}

/* Data offset of index row `row` (flat over batch and rows), or -1. */
static gint64
nd_row_offset (const NdState *st, const KestrelTensorView *indices, gsize row)
{
  gint64 off = (gint64) ((row / MAX (st->rows_per_batch, 1)) * st->batch_stride);

  for (guint j = 0; j < st->k; j++)
    {
      gint64 v = read_index (indices, row * st->k + j, st->dim_size[j]);
      if (v < 0)
        return -1;
      off += v * st->dim_stride[j];
    }
  return off;
}

static void
gather_nd_run (const KestrelStep *step)
{
  const NdState *st = step->state;
  gsize size = kestrel_dtype_get_size (step->inputs[0].dtype);
  const guint8 *x = step->inputs[0].data;
  guint8 *y = step->outputs[0].data;
  gsize rows = st->n_batch * st->rows_per_batch;

  for (gsize r = 0; r < rows; r++)
    {
      gint64 off = nd_row_offset (st, &step->inputs[1], r);
      if (off >= 0)
        memcpy (y + r * st->slice * size, x + off * size, st->slice * size);
      else
        memset (y + r * st->slice * size, 0, st->slice * size);
    }
}

static void
scatter_nd_run (const KestrelStep *step)
{
  const NdState *st = step->state;
  const KestrelTensorView *out = &step->outputs[0];
  gsize size = kestrel_dtype_get_size (out->dtype);
  const guint8 *u = step->inputs[2].data;
  guint8 *y = out->data;
  gsize rows = st->n_batch * st->rows_per_batch;

  if (y != step->inputs[0].data && out->n_elements > 0)
    memcpy (y, step->inputs[0].data, out->n_elements * size);
  for (gsize r = 0; r < rows; r++)
    {
      gint64 off = nd_row_offset (st, &step->inputs[1], r);
      if (off < 0)
        continue;
      for (gsize e = 0; e < st->slice; e++)
        scatter_one (st->reduction, out->dtype, size, y, off + e, u, r * st->slice + e);
    }
}

static gboolean
gather_nd_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  return nd_infer (graph, node, FALSE, error);
}

static gboolean
scatter_nd_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  return nd_infer (graph, node, TRUE, error);
}

/* GatherND-12 added batch_dims (0, the older behaviour, by default). */
const KestrelOpDef kestrel_op_gather_nd = {
  "", "GatherND", 11, 21, gather_nd_infer, nd_prepare, gather_nd_run, NULL
};
/* ScatterND-16 added reduction add/mul, -18 max/min. */
const KestrelOpDef kestrel_op_scatter_nd = {
  "", "ScatterND", 11, 21, scatter_nd_infer, nd_prepare, scatter_nd_run, NULL
};

/* ---- OneHot ---------------------------------------------------------------- */

/* OneHot (9-21; 11 allowed negative indices and axis): output is indices'
 * shape with a dimension of `depth` inserted at `axis`, "on" where the
 * index equals the position and "off" elsewhere. depth decides the shape,
 * so it must be a constant; indices may be any numeric type (floats are
 * truncated, as numpy's astype). */
typedef struct {
  gint64 depth;
  gsize outer, inner;   /* indices elements before / after the axis */
} OneHotState;

static gboolean
one_hot_depth (const KestrelGraph *graph, const KestrelNode *node, gint64 *depth, GError **error)
{
  const KestrelValue *v = kestrel_graph_value (graph, kestrel_node_input (node, 1));

  if (v == NULL || v->constant == NULL || kestrel_tensor_get_n_elements (v->constant) != 1)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "input 1 (depth) must be a constant (known when the model is "
                              "loaded) single value");
      return FALSE;
    }
  *depth = kestrel_op_load_int (kestrel_tensor_get_dtype (v->constant),
                                kestrel_tensor_get_data (v->constant), 0);
  if (*depth < 1)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "depth %" G_GINT64_FORMAT " is not a positive size", *depth);
      return FALSE;
    }
  return TRUE;
}

static gboolean
one_hot_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  static const KestrelDType numeric[] = {
    KESTREL_DTYPE_FLOAT32, KESTREL_DTYPE_INT8, KESTREL_DTYPE_UINT8,
    KESTREL_DTYPE_INT32, KESTREL_DTYPE_INT64,
  };
  const KestrelValue *indices, *values;
  gint64 depth, out[KESTREL_TENSOR_MAX_DIMS];
  guint axis;

  if (!kestrel_op_check_arity (node, 3, 3, 1, error)
      || !kestrel_node_check_attr_type (node, "axis", KESTREL_ATTR_INT, error)
      || (indices = kestrel_op_input (graph, node, 0, error)) == NULL
      || !kestrel_op_check_dtype (node, 0, indices, numeric, G_N_ELEMENTS (numeric), error)
      || !kestrel_op_input (graph, node, 1, error)
      || (values = kestrel_op_input (graph, node, 2, error)) == NULL
      || !one_hot_depth (graph, node, &depth, error)
      || !kestrel_shape_check_rank (node, indices->n_dims + 1, error)
      || !kestrel_op_axis (node, kestrel_node_attr_int (node, "axis", -1), indices->n_dims + 1,
                           &axis, error))
    return FALSE;
  if (kestrel_value_n_elements (values) != 2)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "values '%s' must hold two elements, off and on", values->name);
      return FALSE;
    }
  for (guint d = 0, s = 0; d <= indices->n_dims; d++)
    out[d] = d == axis ? depth : indices->shape[s++];
  kestrel_op_set_output (graph, node, 0, values->dtype, indices->n_dims + 1, out);
  return TRUE;
}

static gboolean
one_hot_prepare (KestrelStep *step, GError **error)
{
  const KestrelTensorView *indices = &step->inputs[0];
  OneHotState *st = g_new0 (OneHotState, 1);
  guint axis;

  if (!kestrel_op_axis (step->node, kestrel_node_attr_int (step->node, "axis", -1),
                        indices->n_dims + 1, &axis, error))
    {
      g_free (st);
      return FALSE;
    }
  st->depth = step->outputs[0].shape[axis];
  st->outer = kestrel_shape_product (indices->shape, 0, axis);
  st->inner = kestrel_shape_product (indices->shape, axis, indices->n_dims);
  step->state = st;
  step->free_state = g_free;
  return TRUE;
}

static void
one_hot_run (const KestrelStep *step)
{
  const OneHotState *st = step->state;
  const KestrelTensorView *indices = &step->inputs[0];
  gsize size = kestrel_dtype_get_size (step->outputs[0].dtype);
  const guint8 *values = step->inputs[2].data;
  guint8 *y = step->outputs[0].data;

  for (gsize o = 0; o < st->outer; o++)
    for (gint64 d = 0; d < st->depth; d++)
      for (gsize i = 0; i < st->inner; i++)
        {
          gint64 v = kestrel_op_load_int (indices->dtype, indices->data, o * st->inner + i);
          gboolean on;

          if (v < 0)
            v += st->depth;
          on = v == d;
          memcpy (y + ((o * st->depth + d) * st->inner + i) * size, values + (on ? size : 0),
                  size);
        }
}

const KestrelOpDef kestrel_op_one_hot = {
  "", "OneHot", 9, 21, one_hot_infer, one_hot_prepare, one_hot_run, NULL
};

/* ---- NonZero ----------------------------------------------------------- */

/* Whether element i is non-zero (NaN is; -0.0 is not). */
static gboolean
element_non_zero (const KestrelTensorView *x, gsize i)
{
  switch (x->dtype)
    {
    case KESTREL_DTYPE_FLOAT32:
      return ((const float *) x->data)[i] != 0.0f;
    case KESTREL_DTYPE_FLOAT16:
      return (((const guint16 *) x->data)[i] & 0x7fff) != 0;
    case KESTREL_DTYPE_INT32:
      return ((const gint32 *) x->data)[i] != 0;
    case KESTREL_DTYPE_INT64:
      return ((const gint64 *) x->data)[i] != 0;
    default: /* int8, uint8, bool: one byte */
      return ((const guint8 *) x->data)[i] != 0;
    }
}

/* Writes the [rank, count] coordinates of the non-zero elements of x, in
 * row-major order, to `out` (when not NULL); returns the count. */
static gsize
non_zero_select (const KestrelTensorView *x, gint64 *out, gsize count)
{
  gsize found = 0;

  for (gsize i = 0; i < x->n_elements; i++)
    {
      gsize rest = i;

      if (!element_non_zero (x, i))
        continue;
      if (out != NULL)
        for (guint d = x->n_dims; d-- > 0;)
          {
            out[d * count + found] = (gint64) (rest % (gsize) x->shape[d]);
            rest /= (gsize) x->shape[d];
          }
      found++;
    }
  return found;
}

/* The count of non-zero elements decides the output's shape, so the input
 * must be a constant: the output is computed here, as NonMaxSuppression's
 * is, and folding drops the node. */
static gboolean
non_zero_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x;
  KestrelTensorView view;
  KestrelTensor *result;
  KestrelValue *out;
  gint64 shape[2];

  if (!kestrel_op_check_arity (node, 1, 1, 1, error)
      || (x = kestrel_op_input (graph, node, 0, error)) == NULL)
    return FALSE;
  if (x->constant == NULL)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "input 0 ('%s') must be a constant (known when the model is "
                              "loaded): the count of non-zero elements decides the output's "
                              "shape, and Kestrel plans static shapes", x->name);
      return FALSE;
    }
  kestrel_tensor_view_init (&view, x);
  shape[0] = x->n_dims;
  shape[1] = (gint64) non_zero_select (&view, NULL, 0);
  result = kestrel_tensor_new (KESTREL_DTYPE_INT64, 2, shape, error);
  if (result == NULL)
    return FALSE;
  non_zero_select (&view, kestrel_tensor_get_data (result), (gsize) shape[1]);
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_INT64, 2, shape);
  out = kestrel_graph_value (graph, kestrel_node_output (node, 0));
  g_clear_pointer (&out->constant, kestrel_tensor_unref);
  out->constant = result;
  return TRUE;
}

/* Only runs if a graph keeps the node (folding normally drops it); the
 * input is the constant infer() saw, so this writes the same coordinates. */
static void
non_zero_run (const KestrelStep *step)
{
  non_zero_select (&step->inputs[0], step->outputs[0].data, (gsize) step->outputs[0].shape[1]);
}

/* NonZero-9; 13 only added bfloat16. Every Kestrel data type. */
const KestrelOpDef kestrel_op_non_zero = {
  "", "NonZero", 9, 21, non_zero_infer, NULL, non_zero_run, NULL
};
