/* ops-shape.c — the tensor-shape operator group, the strided copy, and the
 * operators that only relabel data: Reshape, Flatten, Squeeze, Unsqueeze,
 * Identity (views), Shape, Size, ConstantOfShape and Cast.
 *
 * The rearranging operators live in ops-shape-copy.c. The registry takes
 * the first definition whose opset range matches, so the ranges of one
 * op_type must not overlap.
 *
 * Why one file of more than 800 lines: one operator group of the registry
 * (kestrel-ops-registry.h) with the strided copy its rearranging half
 * (ops-shape-copy.c) shares; each operator is short, and the group is read
 * as a list.
 */
#include "config.h"

#include "ops-shape.h"

#include <math.h>
#include <string.h>

#include "kestrel-error.h"
#include "kestrel-ops-registry.h"

const KestrelOpDef *const kestrel_ops_shape[] = {
  &kestrel_op_reshape_1,
  &kestrel_op_reshape,
  &kestrel_op_flatten,
  &kestrel_op_squeeze_1,
  &kestrel_op_squeeze_13,
  &kestrel_op_unsqueeze_1,
  &kestrel_op_unsqueeze_13,
  &kestrel_op_identity,
  &kestrel_op_dropout,
  &kestrel_op_shape,
  &kestrel_op_size,
  &kestrel_op_constant_of_shape,
  &kestrel_op_cast_1,
  &kestrel_op_cast,
  &kestrel_op_cast_like,
  &kestrel_op_concat_1,
  &kestrel_op_concat,
  &kestrel_op_split_2,
  &kestrel_op_split_13,
  &kestrel_op_slice_1,
  &kestrel_op_slice_10,
  &kestrel_op_transpose,
  &kestrel_op_gather,
  &kestrel_op_expand,
  &kestrel_op_tile,
  &kestrel_op_depth_to_space,
  &kestrel_op_gather_elements,
  &kestrel_op_scatter,
  &kestrel_op_scatter_elements,
  &kestrel_op_gather_nd,
  &kestrel_op_scatter_nd,
  &kestrel_op_one_hot,
  &kestrel_op_non_zero,
  &kestrel_op_range,
  &kestrel_op_eye_like,
  &kestrel_op_trilu,
  &kestrel_op_space_to_depth,
  NULL,
};

/* ---- Shared helpers ---------------------------------------------------- */

gboolean
kestrel_shape_check_rank (const KestrelNode *node, gint64 rank, GError **error)
{
  if (rank > KESTREL_TENSOR_MAX_DIMS)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "the output would have %" G_GINT64_FORMAT " dimensions; Kestrel "
                              "supports at most %d", rank, KESTREL_TENSOR_MAX_DIMS);
      return FALSE;
    }
  return TRUE;
}

guint
kestrel_shape_view_ints (const KestrelTensorView *view, gint64 *values, guint max)
{
  guint n = (guint) MIN (view->n_elements, (gsize) max);

  if (view->data == NULL)
    return 0;
  for (guint i = 0; i < n; i++)
    values[i] = view->dtype == KESTREL_DTYPE_INT32 ? ((const gint32 *) view->data)[i]
                                                   : ((const gint64 *) view->data)[i];
  return n;
}

void
kestrel_strided_copy_init (KestrelStridedCopy *copy, gsize elem_size, guint n_dims,
                           const gint64 *shape, const gint64 *stride, gint64 offset)
{
  guint n = 0;

  g_return_if_fail (n_dims <= KESTREL_STRIDED_COPY_MAX_DIMS);

  copy->elem_size = elem_size;
  copy->offset = offset;
  copy->n_elements = 1;
  for (guint d = 0; d < n_dims; d++)
    {
      copy->n_elements *= (gsize) shape[d];
      if (shape[d] == 1)
        continue;
      if (n > 0 && copy->stride[n - 1] == stride[d] * shape[d])
        {
          copy->shape[n - 1] *= shape[d];
          copy->stride[n - 1] = stride[d];
          continue;
        }
      copy->shape[n] = shape[d];
      copy->stride[n] = stride[d];
      n++;
    }
  if (n == 0)
    {
      copy->shape[0] = 1;
      copy->stride[0] = 1;
      n = 1;
    }
  copy->n_dims = n;
}

typedef struct {
  const KestrelStridedCopy *copy;
  const guint8 *in;
  guint8 *out;
} CopyJob;

/* Copies n elements with input stride `stride` (elements). */
static void
copy_row (const guint8 *src, gint64 stride, guint8 *dst, gsize n, gsize es)
{
  if (stride == 1)
    {
      memcpy (dst, src, n * es);
      return;
    }
  /* Fixed sizes so that each memcpy becomes one load and one store. */
  switch (es)
    {
    case 1:
      for (gsize i = 0; i < n; i++)
        dst[i] = src[(gint64) i * stride];
      break;
    case 2:
      for (gsize i = 0; i < n; i++)
        memcpy (dst + 2 * i, src + 2 * (gint64) i * stride, 2);
      break;
    case 4:
      for (gsize i = 0; i < n; i++)
        memcpy (dst + 4 * i, src + 4 * (gint64) i * stride, 4);
      break;
    case 8:
      for (gsize i = 0; i < n; i++)
        memcpy (dst + 8 * i, src + 8 * (gint64) i * stride, 8);
      break;
    default:
      for (gsize i = 0; i < n; i++)
        memcpy (dst + es * i, src + (gint64) es * (gint64) i * stride, es);
      break;
    }
}

static void
copy_chunk (gsize begin, gsize end, guint worker_index G_GNUC_UNUSED, gpointer user_data)
{
  const CopyJob *job = user_data;
  const KestrelStridedCopy *copy = job->copy;
  guint last = copy->n_dims - 1;
  gsize inner = (gsize) copy->shape[last];
  gsize es = copy->elem_size;
  gint64 coord[KESTREL_STRIDED_COPY_MAX_DIMS] = { 0 };
  gint64 offset = copy->offset;
  gsize row, col;

  if (begin >= end || inner == 0)
    return;
  row = begin / inner;
  col = begin % inner;
  for (guint d = last; d-- > 0;)
    {
      coord[d] = (gint64) (row % (gsize) copy->shape[d]);
      row /= (gsize) copy->shape[d];
      offset += coord[d] * copy->stride[d];
    }
  while (begin < end)
    {
      gsize n = MIN (inner - col, end - begin);

      copy_row (job->in + (offset + (gint64) col * copy->stride[last]) * (gint64) es,
                copy->stride[last], job->out + begin * es, n, es);
      begin += n;
      col = 0;
      for (guint d = last; d-- > 0;)
        {
          coord[d]++;
          offset += copy->stride[d];
          if (coord[d] < copy->shape[d])
            break;
          offset -= coord[d] * copy->stride[d];
          coord[d] = 0;
        }
    }
}

/* ---- Transposes in tiles ----
 *
 * When the output's last dimension steps through the input with a stride
 * and the one before it is contiguous in the input (a Transpose between
 * NCHW and NHWC: [C, HW] -> [HW, C]), copy_chunk() would copy rows of C
 * elements, three for an image, each with its own bookkeeping and each
 * element from another cache line. Instead the last two dimensions go in
 * tiles of TILE x TILE, which read and write whole cache lines. The same
 * elements are copied, so the result is the same bits. */
#define TILE 16

/* Tiles per row of tiles, and rows of tiles per outer index. */
static inline gsize
n_tiles (gint64 extent)
{
  return (gsize) ((extent + TILE - 1) / TILE);
}

#define DEFINE_TILE(name, T)                                                           \
  static void                                                                          \
  name (const guint8 *in8, gint64 col_stride, guint8 *out8, gint64 out_cols,           \
        gint64 rows, gint64 cols)                                                      \
  {                                                                                    \
    const T *in = (const T *) (const void *) in8;                                      \
    T *out = (T *) (void *) out8;                                                      \
    for (gint64 c = 0; c < cols; c++)                                                  \
      for (gint64 r = 0; r < rows; r++)                                                \
        out[r * out_cols + c] = in[c * col_stride + r];                                \
  }

DEFINE_TILE (tile_1, guint8)
DEFINE_TILE (tile_2, guint16)
DEFINE_TILE (tile_4, guint32)
DEFINE_TILE (tile_8, guint64)

static void
tile_any (const guint8 *in, gint64 col_stride, guint8 *out, gint64 out_cols, gint64 rows,
          gint64 cols, gsize es)
{
  for (gint64 c = 0; c < cols; c++)
    for (gint64 r = 0; r < rows; r++)
      memcpy (out + (r * out_cols + c) * (gint64) es, in + (c * col_stride + r) * (gint64) es, es);
}

/* Work items: (outer index, row of tiles). */
static void
tile_chunk (gsize begin, gsize end, guint worker_index G_GNUC_UNUSED, gpointer user_data)
{
  const CopyJob *job = user_data;
  const KestrelStridedCopy *copy = job->copy;
  guint last = copy->n_dims - 1;
  gint64 rows = copy->shape[last - 1], cols = copy->shape[last];
  gint64 col_stride = copy->stride[last];
  gsize es = copy->elem_size, row_tiles = n_tiles (rows);

  for (gsize item = begin; item < end; item++)
    {
      gsize outer = item / row_tiles, rest = outer;
      gint64 r0 = (gint64) (item % row_tiles) * TILE, n_rows = MIN (TILE, rows - r0);
      gint64 offset = copy->offset + r0;
      const guint8 *in;
      guint8 *out;

      for (guint d = last - 1; d-- > 0;)
        {
          offset += (gint64) (rest % (gsize) copy->shape[d]) * copy->stride[d];
          rest /= (gsize) copy->shape[d];
        }
      in = job->in + offset * (gint64) es;
      out = job->out + ((gsize) outer * (gsize) (rows * cols) + (gsize) (r0 * cols)) * es;
      for (gint64 c0 = 0; c0 < cols; c0 += TILE)
        {
          gint64 n_cols = MIN (TILE, cols - c0);
          const guint8 *src = in + c0 * col_stride * (gint64) es;
          guint8 *dst = out + c0 * (gint64) es;

          switch (es)
            {
            case 1: tile_1 (src, col_stride, dst, cols, n_rows, n_cols); break;
            case 2: tile_2 (src, col_stride, dst, cols, n_rows, n_cols); break;
            case 4: tile_4 (src, col_stride, dst, cols, n_rows, n_cols); break;
            case 8: tile_8 (src, col_stride, dst, cols, n_rows, n_cols); break;
            default: tile_any (src, col_stride, dst, cols, n_rows, n_cols, es); break;
            }
        }
    }
}

void
kestrel_strided_copy_run (const KestrelStep *step, const KestrelStridedCopy *copy,
                          gconstpointer in, gpointer out)
{
  CopyJob job = { copy, in, out };
  guint last = copy->n_dims - 1;
  /* Copies are memory-bound: a second thread only pays off on big ones. */
  gboolean big = copy->n_elements * copy->elem_size >= ((gsize) 1 << 18);

  if (copy->n_dims >= 2 && copy->stride[last - 1] == 1 && copy->stride[last] != 1)
    {
      gsize items;

      if (copy->n_elements == 0)
        return;
      items = copy->n_elements / (gsize) (copy->shape[last - 1] * copy->shape[last])
              * n_tiles (copy->shape[last - 1]);
      if (big)
        kestrel_step_parallel_for (step, items, tile_chunk, &job);
      else
        tile_chunk (0, items, 0, &job);
      return;
    }
  if (big)
    kestrel_step_parallel_for (step, copy->n_elements, copy_chunk, &job);
  else
    copy_chunk (0, copy->n_elements, 0, &job);
}

/* ---- Views ------------------------------------------------------------- */

static void
view_run (const KestrelStep *step)
{
  const KestrelTensorView *in = &step->inputs[0];
  const KestrelTensorView *out = &step->outputs[0];

  /* Usually the planner made them the same memory. */
  if (out->data != in->data && out->n_elements > 0)
    memcpy (out->data, in->data, out->n_elements * kestrel_dtype_get_size (out->dtype));
}

static gint
view_aliases_input (const KestrelNode *node G_GNUC_UNUSED, guint output)
{
  return output == 0 ? 0 : -1;
}

/* ---- Reshape ----------------------------------------------------------- */

/* The target shape: a constant input from opset 5, an attribute before. */
static gboolean
reshape_target (const KestrelGraph *graph, const KestrelNode *node, gboolean from_input,
                gint64 **shape, guint *n, GError **error)
{
  const gint64 *attr;

  if (from_input)
    return kestrel_op_check_arity (node, 2, 2, 1, error)
           && kestrel_op_constant_ints (graph, node, 1, shape, n, error);
  if (!kestrel_op_check_arity (node, 1, 1, 1, error)
      || !kestrel_node_check_attr_type (node, "shape", KESTREL_ATTR_INTS, error))
    return FALSE;
  attr = kestrel_node_attr_ints (node, "shape", n);
  if (attr == NULL)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "needs an ints attribute 'shape' before opset 5");
      return FALSE;
    }
  *shape = g_memdup2 (attr, MAX (*n, 1) * sizeof (gint64));
  return TRUE;
}

static gboolean
reshape_infer (KestrelGraph *graph, KestrelNode *node, gboolean from_input, GError **error)
{
  const KestrelValue *data;
  g_autofree gint64 *shape = NULL;
  gint64 out[KESTREL_TENSOR_MAX_DIMS];
  guint n;
  gint infer_at = -1;
  guint64 known = 1, total;
  gboolean allowzero, has_zero = FALSE;

  if (!reshape_target (graph, node, from_input, &shape, &n, error)
      || !kestrel_node_check_attr_type (node, "allowzero", KESTREL_ATTR_INT, error))
    return FALSE;
  allowzero = kestrel_node_attr_int (node, "allowzero", 0) != 0;
  data = kestrel_op_input (graph, node, 0, error);
  if (data == NULL || !kestrel_shape_check_rank (node, n, error))
    return FALSE;

  total = kestrel_value_n_elements (data);
  for (guint i = 0; i < n; i++)
    {
      gint64 v = shape[i];

      if (v == -1)
        {
          if (infer_at >= 0)
            {
              kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                      "the target shape has more than one -1 (dimensions %d "
                                      "and %u)", infer_at, i);
              return FALSE;
            }
          infer_at = i;
          out[i] = 1;
          continue;
        }
      if (v == 0 && !allowzero)
        {
          if (i >= data->n_dims)
            {
              kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                      "dimension %u of the target shape is 0 (copy the input's) "
                                      "but the input has only %u dimensions", i, data->n_dims);
              return FALSE;
            }
          v = data->shape[i];
        }
      if (v < 0)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "dimension %u of the target shape is %" G_GINT64_FORMAT
                                  "; expected -1, 0 or a size", i, v);
          return FALSE;
        }
      has_zero |= v == 0;
      out[i] = v;
      if (!g_uint64_checked_mul (&known, known, (guint64) v))
        known = G_MAXUINT64;
    }

  if (infer_at >= 0)
    {
      if (known == 0 || total % known != 0)
        {
          g_autofree char *from = kestrel_shape_to_string (data->n_dims, data->shape);
          g_autofree char *to = kestrel_shape_to_string (n, shape);
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "cannot reshape %s (%" G_GUINT64_FORMAT " elements) to %s: "
                                  "no size for the -1 dimension fits%s", from, total, to,
                                  allowzero && has_zero ? " (allowzero with a 0 and a -1)" : "");
          return FALSE;
        }
      out[infer_at] = (gint64) (total / known);
      known = total;
    }
  if (known != total)
    {
      g_autofree char *from = kestrel_shape_to_string (data->n_dims, data->shape);
      g_autofree char *to = kestrel_shape_to_string (n, out);
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "cannot reshape %s (%" G_GUINT64_FORMAT " elements) to %s (%"
                              G_GUINT64_FORMAT " elements)", from, total, to, known);
      return FALSE;
    }
  kestrel_op_set_output (graph, node, 0, data->dtype, n, out);
  return TRUE;
}

static gboolean
reshape_1_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  return reshape_infer (graph, node, FALSE, error);
}

static gboolean
reshape_5_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  return reshape_infer (graph, node, TRUE, error);
}

/* Opset 5 made the shape an input; 14 added allowzero (absent before, so
 * reading it with its default is the older behaviour). */
const KestrelOpDef kestrel_op_reshape_1 = {
  "", "Reshape", 1, 4, reshape_1_infer, NULL, view_run, view_aliases_input
};
const KestrelOpDef kestrel_op_reshape = {
  "", "Reshape", 5, 21, reshape_5_infer, NULL, view_run, view_aliases_input
};

/* ---- Flatten ----------------------------------------------------------- */

static gboolean
flatten_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *data;
  gint64 axis, out[2] = { 1, 1 };

  if (!kestrel_op_check_arity (node, 1, 1, 1, error)
      || !kestrel_node_check_attr_type (node, "axis", KESTREL_ATTR_INT, error))
    return FALSE;
  data = kestrel_op_input (graph, node, 0, error);
  if (data == NULL)
    return FALSE;
  axis = kestrel_node_attr_int (node, "axis", 1);
  if (axis < 0)
    axis += data->n_dims;
  if (axis < 0 || axis > (gint64) data->n_dims)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "axis %" G_GINT64_FORMAT " is out of range for rank %u "
                              "(expected %d to %u)", kestrel_node_attr_int (node, "axis", 1),
                              data->n_dims, -(gint) data->n_dims, data->n_dims);
      return FALSE;
    }
  for (guint d = 0; d < data->n_dims; d++)
    out[(gint64) d < axis ? 0 : 1] *= data->shape[d];
  kestrel_op_set_output (graph, node, 0, data->dtype, 2, out);
  return TRUE;
}

/* Negative axes arrived in opset 11; accepting them earlier is harmless. */
const KestrelOpDef kestrel_op_flatten = {
  "", "Flatten", 1, 21, flatten_infer, NULL, view_run, view_aliases_input
};

/* ---- Squeeze and Unsqueeze --------------------------------------------- */

/* The axes of Squeeze / Unsqueeze: an attribute before opset 13, a constant
 * input from 13. *axes is NULL (n = 0) when absent. */
static gboolean
read_axes (const KestrelGraph *graph, const KestrelNode *node, gboolean from_input,
           gint64 **axes, guint *n, GError **error)
{
  *axes = NULL;
  *n = 0;
  if (from_input)
    {
      if (kestrel_node_input (node, 1) < 0)
        return TRUE;
      return kestrel_op_constant_ints (graph, node, 1, axes, n, error);
    }
  if (!kestrel_node_check_attr_type (node, "axes", KESTREL_ATTR_INTS, error))
    return FALSE;
  if (kestrel_node_find_attr (node, "axes") != NULL)
    {
      const gint64 *attr = kestrel_node_attr_ints (node, "axes", n);
      *axes = g_memdup2 (attr, MAX (*n, 1) * sizeof (gint64));
    }
  return TRUE;
}

/* Normalises axes against `rank` and marks them in `marked`; fails on an
 * axis out of range or given twice. */
static gboolean
mark_axes (const KestrelNode *node, const gint64 *axes, guint n, guint rank, gboolean *marked,
           GError **error)
{
  memset (marked, 0, rank * sizeof (gboolean));
  for (guint i = 0; i < n; i++)
    {
      guint axis;

      if (!kestrel_op_axis (node, axes[i], rank, &axis, error))
        return FALSE;
      if (marked[axis])
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "axis %" G_GINT64_FORMAT " is listed twice", axes[i]);
          return FALSE;
        }
      marked[axis] = TRUE;
    }
  return TRUE;
}

static gboolean
squeeze_infer (KestrelGraph *graph, KestrelNode *node, gboolean from_input, GError **error)
{
  const KestrelValue *data;
  g_autofree gint64 *axes = NULL;
  gboolean marked[KESTREL_TENSOR_MAX_DIMS];
  gint64 out[KESTREL_TENSOR_MAX_DIMS];
  guint n_axes, n = 0;

  if (!kestrel_op_check_arity (node, 1, from_input ? 2 : 1, 1, error))
    return FALSE;
  data = kestrel_op_input (graph, node, 0, error);
  if (data == NULL || !read_axes (graph, node, from_input, &axes, &n_axes, error))
    return FALSE;
  if (axes != NULL)
    {
      if (!mark_axes (node, axes, n_axes, data->n_dims, marked, error))
        return FALSE;
    }
  else
    for (guint d = 0; d < data->n_dims; d++)
      marked[d] = data->shape[d] == 1;

  for (guint d = 0; d < data->n_dims; d++)
    {
      if (!marked[d])
        {
          out[n++] = data->shape[d];
          continue;
        }
      if (data->shape[d] != 1)
        {
          g_autofree char *shape = kestrel_shape_to_string (data->n_dims, data->shape);
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "cannot squeeze axis %u of %s: its size is %" G_GINT64_FORMAT
                                  ", not 1", d, shape, data->shape[d]);
          return FALSE;
        }
    }
  kestrel_op_set_output (graph, node, 0, data->dtype, n, out);
  return TRUE;
}

static gboolean
unsqueeze_infer (KestrelGraph *graph, KestrelNode *node, gboolean from_input, GError **error)
{
  const KestrelValue *data;
  g_autofree gint64 *axes = NULL;
  gboolean marked[KESTREL_TENSOR_MAX_DIMS];
  gint64 out[KESTREL_TENSOR_MAX_DIMS];
  guint n_axes, rank, k = 0;

  if (!kestrel_op_check_arity (node, from_input ? 2 : 1, from_input ? 2 : 1, 1, error))
    return FALSE;
  data = kestrel_op_input (graph, node, 0, error);
  if (data == NULL || !read_axes (graph, node, from_input, &axes, &n_axes, error))
    return FALSE;
  if (axes == NULL)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "has no 'axes' attribute; Unsqueeze needs one before opset 13");
      return FALSE;
    }
  if (!kestrel_shape_check_rank (node, (gint64) data->n_dims + n_axes, error))
    return FALSE;
  rank = data->n_dims + n_axes;
  if (!mark_axes (node, axes, n_axes, rank, marked, error))
    return FALSE;
  for (guint d = 0; d < rank; d++)
    out[d] = marked[d] ? 1 : data->shape[k++];
  kestrel_op_set_output (graph, node, 0, data->dtype, rank, out);
  return TRUE;
}

static gboolean
squeeze_1_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  return squeeze_infer (graph, node, FALSE, error);
}

static gboolean
squeeze_13_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  return squeeze_infer (graph, node, TRUE, error);
}

static gboolean
unsqueeze_1_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  return unsqueeze_infer (graph, node, FALSE, error);
}

static gboolean
unsqueeze_13_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  return unsqueeze_infer (graph, node, TRUE, error);
}

/* Opset 13 moved `axes` from an attribute to an input. */
const KestrelOpDef kestrel_op_squeeze_1 = {
  "", "Squeeze", 1, 12, squeeze_1_infer, NULL, view_run, view_aliases_input
};
const KestrelOpDef kestrel_op_squeeze_13 = {
  "", "Squeeze", 13, 21, squeeze_13_infer, NULL, view_run, view_aliases_input
};
const KestrelOpDef kestrel_op_unsqueeze_1 = {
  "", "Unsqueeze", 1, 12, unsqueeze_1_infer, NULL, view_run, view_aliases_input
};
const KestrelOpDef kestrel_op_unsqueeze_13 = {
  "", "Unsqueeze", 13, 21, unsqueeze_13_infer, NULL, view_run, view_aliases_input
};

/* ---- Identity ---------------------------------------------------------- */

static gboolean
identity_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *data;

  if (!kestrel_op_check_arity (node, 1, 1, 1, error))
    return FALSE;
  data = kestrel_op_input (graph, node, 0, error);
  if (data == NULL)
    return FALSE;
  kestrel_op_set_output (graph, node, 0, data->dtype, data->n_dims, data->shape);
  return TRUE;
}

/* Opset 16 added optional and sequence types, which the loader rejects. */
const KestrelOpDef kestrel_op_identity = {
  "", "Identity", 1, 21, identity_infer, NULL, view_run, view_aliases_input
};

/* ---- Dropout ----------------------------------------------------------- */

/* Inference only: the output is the input and the optional mask is all
 * true (1). Opsets 1 to 6 drop in training when is_test = 0; from 12 the
 * optional training_mode input does, unless the ratio is 0. Both are
 * refused (random masks have no place in a reproducible plan). The mask is
 * bool from opset 10, the data's type before. */
static gboolean
dropout_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *data;
  gboolean training = FALSE;

  if (!kestrel_op_check_arity (node, 1, graph->opset >= 12 ? 3 : 1, 1, error)
      || !kestrel_node_check_attr_type (node, "is_test", KESTREL_ATTR_INT, error)
      || !kestrel_node_check_attr_type (node, "ratio", KESTREL_ATTR_FLOAT, error))
    return FALSE;
  data = kestrel_op_input (graph, node, 0, error);
  if (data == NULL)
    return FALSE;
  if (graph->opset <= 6)
    training = kestrel_node_attr_int (node, "is_test", 0) == 0;
  else if (kestrel_node_n_inputs (node) > 2 && kestrel_node_input (node, 2) >= 0)
    {
      const KestrelValue *mode = kestrel_graph_value (graph, kestrel_node_input (node, 2));
      float ratio = 0.5f;

      if (mode->constant == NULL || kestrel_tensor_get_dtype (mode->constant) != KESTREL_DTYPE_BOOL
          || kestrel_tensor_get_n_elements (mode->constant) != 1)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                                  "input 2 ('%s', training_mode) must be a constant (known when "
                                  "the model is loaded) single bool", mode->name);
          return FALSE;
        }
      training = *(const guint8 *) kestrel_tensor_get_data (mode->constant) != 0;
      if (training && kestrel_node_n_inputs (node) > 1 && kestrel_node_input (node, 1) >= 0
          && !kestrel_op_constant_float (graph, node, 1, &ratio, error))
        return FALSE;
      if (ratio == 0.0f)
        training = FALSE;
    }
  if (training)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "training mode with a non-zero ratio drops random elements; "
                              "Kestrel runs inference only");
      return FALSE;
    }
  kestrel_op_set_output (graph, node, 0, data->dtype, data->n_dims, data->shape);
  if (kestrel_node_n_outputs (node) > 1 && kestrel_node_output (node, 1) >= 0)
    kestrel_op_set_output (graph, node, 1, graph->opset >= 10 ? KESTREL_DTYPE_BOOL : data->dtype,
                           data->n_dims, data->shape);
  return TRUE;
}

static void
dropout_run (const KestrelStep *step)
{
  view_run (step);
  if (step->n_outputs > 1 && step->outputs[1].data != NULL)
    {
      const KestrelTensorView *mask = &step->outputs[1];

      for (gsize i = 0; i < mask->n_elements; i++)
        kestrel_op_store_int (mask->dtype, mask->data, i, 1);
    }
}

const KestrelOpDef kestrel_op_dropout = {
  "", "Dropout", 1, 21, dropout_infer, NULL, dropout_run, view_aliases_input
};

/* ---- Shape ------------------------------------------------------------- */

/* The slice [start, end) of the input's dimensions that Shape reports
 * (opset 15; the whole shape before). */
static void
shape_range (const KestrelNode *node, guint rank, gint64 *start, gint64 *end)
{
  *start = kestrel_node_attr_int (node, "start", 0);
  *end = kestrel_node_attr_int (node, "end", rank);
  if (*start < 0)
    *start += rank;
  if (*end < 0)
    *end += rank;
  *start = CLAMP (*start, 0, (gint64) rank);
  *end = CLAMP (*end, *start, (gint64) rank);
}

/* Every shape is static, so the output is known now: it becomes a constant
 * and constant folding drops the node. */
static gboolean
shape_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *data;
  KestrelValue *out;
  gint64 start, end, len;
  KestrelTensor *tensor;

  if (!kestrel_op_check_arity (node, 1, 1, 1, error)
      || !kestrel_node_check_attr_type (node, "start", KESTREL_ATTR_INT, error)
      || !kestrel_node_check_attr_type (node, "end", KESTREL_ATTR_INT, error))
    return FALSE;
  data = kestrel_op_input (graph, node, 0, error);
  if (data == NULL)
    return FALSE;
  shape_range (node, data->n_dims, &start, &end);
  len = end - start;
  tensor = kestrel_tensor_new (KESTREL_DTYPE_INT64, 1, &len, error);
  if (tensor == NULL)
    return FALSE;
  if (len > 0)
    memcpy (kestrel_tensor_get_data (tensor), data->shape + start, len * sizeof (gint64));
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_INT64, 1, &len);
  out = kestrel_graph_value (graph, kestrel_node_output (node, 0));
  g_clear_pointer (&out->constant, kestrel_tensor_unref);
  out->constant = tensor;
  return TRUE;
}

/* Only runs if a graph keeps the node (folding normally drops it). */
static void
shape_run (const KestrelStep *step)
{
  const KestrelTensorView *in = &step->inputs[0];
  const KestrelTensorView *out = &step->outputs[0];
  gint64 start, end;

  shape_range (step->node, in->n_dims, &start, &end);
  if (out->data != NULL && end > start)
    memcpy (out->data, in->shape + start, (end - start) * sizeof (gint64));
}

/* Opset 15 added start and end; absent, they mean the whole shape. */
const KestrelOpDef kestrel_op_shape = {
  "", "Shape", 1, 21, shape_infer, NULL, shape_run, NULL
};

/* ---- Size -------------------------------------------------------------- */

/* Like Shape, the element count is known now and becomes a constant. */
static gboolean
size_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *data;
  KestrelValue *out;
  KestrelTensor *tensor;

  if (!kestrel_op_check_arity (node, 1, 1, 1, error))
    return FALSE;
  data = kestrel_op_input (graph, node, 0, error);
  if (data == NULL)
    return FALSE;
  tensor = kestrel_tensor_new (KESTREL_DTYPE_INT64, 0, NULL, error);
  if (tensor == NULL)
    return FALSE;
  *(gint64 *) kestrel_tensor_get_data (tensor) = (gint64) kestrel_value_n_elements (data);
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_INT64, 0, NULL);
  out = kestrel_graph_value (graph, kestrel_node_output (node, 0));
  g_clear_pointer (&out->constant, kestrel_tensor_unref);
  out->constant = tensor;
  return TRUE;
}

static void
size_run (const KestrelStep *step)
{
  if (step->outputs[0].data != NULL)
    *(gint64 *) step->outputs[0].data = (gint64) step->inputs[0].n_elements;
}

const KestrelOpDef kestrel_op_size = {
  "", "Size", 1, 21, size_infer, NULL, size_run, NULL
};

/* ---- ConstantOfShape --------------------------------------------------- */

static gboolean
constant_of_shape_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  g_autofree gint64 *shape = NULL;
  KestrelTensor *value;
  KestrelDType dtype = KESTREL_DTYPE_FLOAT32;
  guint n;

  if (!kestrel_op_check_arity (node, 1, 1, 1, error)
      || !kestrel_node_check_attr_type (node, "value", KESTREL_ATTR_TENSOR, error))
    return FALSE;
  value = kestrel_node_attr_tensor (node, "value");
  if (value != NULL)
    {
      if (kestrel_tensor_get_n_elements (value) != 1)
        {
          g_autofree char *what = kestrel_tensor_describe (value);
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "attribute 'value' is %s, expected one element", what);
          return FALSE;
        }
      dtype = kestrel_tensor_get_dtype (value);
    }
  if (!kestrel_op_constant_ints (graph, node, 0, &shape, &n, error)
      || !kestrel_shape_check_rank (node, n, error))
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (shape[i] < 0)
      {
        kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                "dimension %u of the shape is %" G_GINT64_FORMAT ", expected "
                                "a size >= 0", i, shape[i]);
        return FALSE;
      }
  kestrel_op_set_output (graph, node, 0, dtype, n, shape);
  return TRUE;
}

static void
constant_of_shape_run (const KestrelStep *step)
{
  const KestrelTensorView *out = &step->outputs[0];
  KestrelTensor *value = kestrel_node_attr_tensor (step->node, "value");
  gsize es = kestrel_dtype_get_size (out->dtype);
  guint8 *y = out->data;

  if (value == NULL)
    memset (y, 0, out->n_elements * es); /* float32 zero */
  else
    for (gsize i = 0; i < out->n_elements; i++)
      memcpy (y + i * es, kestrel_tensor_get_data (value), es);
}

const KestrelOpDef kestrel_op_constant_of_shape = {
  "", "ConstantOfShape", 9, 21, constant_of_shape_infer, NULL, constant_of_shape_run, NULL
};

/* ---- Cast -------------------------------------------------------------- */

/* ONNX TensorProto.DataType values. */
static const struct {
  gint64 onnx;
  const char *name;
  gboolean supported;
  KestrelDType dtype;
} onnx_types[] = {
  { 1, "FLOAT", TRUE, KESTREL_DTYPE_FLOAT32 },
  { 2, "UINT8", TRUE, KESTREL_DTYPE_UINT8 },
  { 3, "INT8", TRUE, KESTREL_DTYPE_INT8 },
  { 4, "UINT16", FALSE, 0 },
  { 5, "INT16", FALSE, 0 },
  { 6, "INT32", TRUE, KESTREL_DTYPE_INT32 },
  { 7, "INT64", TRUE, KESTREL_DTYPE_INT64 },
  { 8, "STRING", FALSE, 0 },
  { 9, "BOOL", TRUE, KESTREL_DTYPE_BOOL },
  { 10, "FLOAT16", TRUE, KESTREL_DTYPE_FLOAT16 },
  { 11, "DOUBLE", TRUE, KESTREL_DTYPE_FLOAT64 },
  { 12, "UINT32", FALSE, 0 },
  { 13, "UINT64", FALSE, 0 },
  { 14, "COMPLEX64", FALSE, 0 },
  { 15, "COMPLEX128", FALSE, 0 },
  { 16, "BFLOAT16", FALSE, 0 },
};

/* `to` is a type number, or its name before opset 6. */
static gboolean
cast_target (const KestrelNode *node, KestrelDType *dtype, GError **error)
{
  const KestrelAttr *attr = kestrel_node_find_attr (node, "to");
  gboolean by_name = attr != NULL && attr->type == KESTREL_ATTR_STRING;

  if (attr == NULL || (attr->type != KESTREL_ATTR_INT && !by_name))
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "needs an attribute 'to' (the target type)");
      return FALSE;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (onnx_types); i++)
    if (by_name ? g_ascii_strcasecmp (onnx_types[i].name, attr->s) == 0
                : onnx_types[i].onnx == attr->i)
      {
        if (!onnx_types[i].supported)
          {
            kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                                    "cannot cast to %s: Kestrel has no such data type",
                                    onnx_types[i].name);
            return FALSE;
          }
        *dtype = onnx_types[i].dtype;
        return TRUE;
      }
  if (by_name)
    kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                            "'to' is '%s', which is no ONNX data type", attr->s);
  else
    kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                            "'to' is %" G_GINT64_FORMAT ", which is no ONNX data type", attr->i);
  return FALSE;
}

/* CastLike (15-21): Cast to the type of input 1, whose values are unused. */
static gboolean
cast_like_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *data, *like;

  if (!kestrel_op_check_arity (node, 2, 2, 1, error)
      || (data = kestrel_op_input (graph, node, 0, error)) == NULL
      || (like = kestrel_op_input (graph, node, 1, error)) == NULL)
    return FALSE;
  kestrel_op_set_output (graph, node, 0, like->dtype, data->n_dims, data->shape);
  return TRUE;
}

static gboolean
cast_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *data;
  KestrelDType to;

  if (!kestrel_op_check_arity (node, 1, 1, 1, error) || !cast_target (node, &to, error))
    return FALSE;
  data = kestrel_op_input (graph, node, 0, error);
  if (data == NULL)
    return FALSE;
  kestrel_op_set_output (graph, node, 0, to, data->n_dims, data->shape);
  return TRUE;
}

/* Float to integer truncates toward zero, as numpy's astype does; values
 * out of range saturate and NaN gives 0 (C leaves both undefined). */
static inline gint64
float_to_int (float v, gint64 lo, gint64 hi)
{
  if (isnan (v))
    return 0;
  if (v <= (float) lo)
    return lo;
  if (v >= (float) hi)
    return hi;
  return (gint64) v;
}

/* Casts go through one of two intermediate types, float for float sources
 * and int64 for the others, in blocks; integer to integer wraps, as numpy's
 * does. */
#define CAST_BLOCK 256

/* A double as the float nearest to it toward zero, with the last bit set
 * when that is inexact ("round to odd"): rounding this float to float16
 * then gives the float16 nearest to the double, as a direct conversion
 * would (float has 13 bits more than float16, rounding twice through the
 * nearest float would not). */
static float
double_to_float_odd (double v)
{
  float f = (float) v;
  guint32 bits;

  if (isnan (v) || isinf (f) || (double) f == v)
    return f;
  if (fabs ((double) f) > fabs (v))
    f = nextafterf (f, 0.0f);
  memcpy (&bits, &f, sizeof bits);
  bits |= 1;
  memcpy (&f, &bits, sizeof bits);
  return f;
}

/* A cast from or to float64, through double: exact from every other type
 * (float16 widened first), and to float16 rounded once. */
static void
cast_run_f64 (const KestrelStep *step)
{
  const KestrelTensorView *in = &step->inputs[0];
  const KestrelTensorView *out = &step->outputs[0];

  for (gsize base = 0; base < out->n_elements; base += CAST_BLOCK)
    {
      gsize n = MIN (CAST_BLOCK, out->n_elements - base);
      double g[CAST_BLOCK];
      float f[CAST_BLOCK];

      if (in->dtype == KESTREL_DTYPE_FLOAT16)
        {
          step->kernels->f16_to_f32 ((const guint16 *) in->data + base, f, n);
          for (gsize i = 0; i < n; i++)
            g[i] = f[i];
        }
      else
        for (gsize i = 0; i < n; i++)
          g[i] = kestrel_op_load_double (in->dtype, in->data, base + i);

      if (out->dtype == KESTREL_DTYPE_FLOAT16)
        {
          for (gsize i = 0; i < n; i++)
            f[i] = double_to_float_odd (g[i]);
          step->kernels->f32_to_f16 (f, (guint16 *) out->data + base, n);
        }
      else
        for (gsize i = 0; i < n; i++)
          kestrel_op_store_double (out->dtype, out->data, base + i, g[i]);
    }
}

static void
cast_run (const KestrelStep *step)
{
  const KestrelTensorView *in = &step->inputs[0];
  const KestrelTensorView *out = &step->outputs[0];
  const guint8 *src = in->data;
  guint8 *dst = out->data;
  gsize es_in = kestrel_dtype_get_size (in->dtype), es_out = kestrel_dtype_get_size (out->dtype);
  gboolean from_float = in->dtype == KESTREL_DTYPE_FLOAT32 || in->dtype == KESTREL_DTYPE_FLOAT16;

  if (in->dtype == out->dtype)
    {
      if (dst != src)
        memcpy (dst, src, out->n_elements * es_out);
      return;
    }
  if (in->dtype == KESTREL_DTYPE_FLOAT64 || out->dtype == KESTREL_DTYPE_FLOAT64)
    {
      cast_run_f64 (step);
      return;
    }

  for (gsize base = 0; base < out->n_elements; base += CAST_BLOCK)
    {
      gsize n = MIN (CAST_BLOCK, out->n_elements - base);
      const guint8 *s = src + base * es_in;
      guint8 *d = dst + base * es_out;
      float f[CAST_BLOCK];
      gint64 v[CAST_BLOCK];

      switch (in->dtype)
        {
        case KESTREL_DTYPE_FLOAT32:
          memcpy (f, s, n * sizeof (float));
          break;
        case KESTREL_DTYPE_FLOAT16:
          step->kernels->f16_to_f32 ((const guint16 *) s, f, n);
          break;
        case KESTREL_DTYPE_INT8:
          for (gsize i = 0; i < n; i++)
            v[i] = ((const gint8 *) s)[i];
          break;
        case KESTREL_DTYPE_UINT8:
        case KESTREL_DTYPE_BOOL:
          for (gsize i = 0; i < n; i++)
            v[i] = s[i];
          break;
        case KESTREL_DTYPE_INT32:
          for (gsize i = 0; i < n; i++)
            v[i] = ((const gint32 *) s)[i];
          break;
        case KESTREL_DTYPE_INT64:
          memcpy (v, s, n * sizeof (gint64));
          break;
        default:
          return;
        }
      if (!from_float
          && (out->dtype == KESTREL_DTYPE_FLOAT32 || out->dtype == KESTREL_DTYPE_FLOAT16))
        {
          for (gsize i = 0; i < n; i++)
            f[i] = (float) v[i];
          from_float = TRUE;
        }

      switch (out->dtype)
        {
        case KESTREL_DTYPE_FLOAT32:
          memcpy (d, f, n * sizeof (float));
          break;
        case KESTREL_DTYPE_FLOAT16:
          step->kernels->f32_to_f16 (f, (guint16 *) d, n);
          break;
        case KESTREL_DTYPE_INT8:
          for (gsize i = 0; i < n; i++)
            ((gint8 *) d)[i] = from_float ? (gint8) float_to_int (f[i], G_MININT8, G_MAXINT8)
                                          : (gint8) (guint8) v[i];
          break;
        case KESTREL_DTYPE_UINT8:
          for (gsize i = 0; i < n; i++)
            d[i] = from_float ? (guint8) float_to_int (f[i], 0, G_MAXUINT8) : (guint8) v[i];
          break;
        case KESTREL_DTYPE_INT32:
          for (gsize i = 0; i < n; i++)
            ((gint32 *) d)[i] = from_float ? (gint32) float_to_int (f[i], G_MININT32, G_MAXINT32)
                                           : (gint32) (guint32) v[i];
          break;
        case KESTREL_DTYPE_INT64:
          for (gsize i = 0; i < n; i++)
            ((gint64 *) d)[i] = from_float ? (gint64) float_to_int (f[i], G_MININT64, G_MAXINT64)
                                           : v[i];
          break;
        case KESTREL_DTYPE_BOOL:
          for (gsize i = 0; i < n; i++)
            d[i] = from_float ? f[i] != 0 : v[i] != 0;
          break;
        default:
          return;
        }
      from_float = in->dtype == KESTREL_DTYPE_FLOAT32 || in->dtype == KESTREL_DTYPE_FLOAT16;
    }
}

/* Opset 6 changed `to` from a name to a number; 9 and 13 added string and
 * bfloat16 casts, which Kestrel's types cannot express anyway. */
const KestrelOpDef kestrel_op_cast_1 = {
  "", "Cast", 1, 5, cast_infer, NULL, cast_run, NULL
};
const KestrelOpDef kestrel_op_cast = {
  "", "Cast", 6, 21, cast_infer, NULL, cast_run, NULL
};
const KestrelOpDef kestrel_op_cast_like = {
  "", "CastLike", 15, 21, cast_like_infer, NULL, cast_run, NULL
};

