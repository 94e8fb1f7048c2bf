/* ops-shape-copy.c — operators that rearrange data: Concat, Split, Slice,
 * Transpose, Gather, Expand and Tile.
 *
 * Slice, Transpose, Expand and Tile are all "read the input with other
 * strides" and share kestrel_strided_copy (ops-shape.c); Concat, Split and
 * Gather copy whole rows. Everything a model can get wrong is checked in
 * infer(); prepare() turns the checked parameters into a copy plan.
 *
 * Why one file of more than 800 lines: the rearranging half of one operator
 * group; its operators share the strided copy and the axis and index
 * checks, and each is short.
 */
#include "config.h"

#include "ops-shape.h"

#include <string.h>

#include "kestrel-error.h"

static void
strided_copy_run (const KestrelStep *step)
{
  kestrel_strided_copy_run (step, step->state, step->inputs[0].data, step->outputs[0].data);
}

static gboolean
read_axis (const KestrelNode *node, gint64 fallback, gboolean required, guint rank, guint *axis,
           GError **error)
{
  if (!kestrel_node_check_attr_type (node, "axis", KESTREL_ATTR_INT, error))
    return FALSE;
  if (required && kestrel_node_find_attr (node, "axis") == NULL)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "needs an int attribute 'axis'");
      return FALSE;
    }
  if (rank == 0)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "input 0 is a scalar; expected at least one dimension");
      return FALSE;
    }
  return kestrel_op_axis (node, kestrel_node_attr_int (node, "axis", fallback), rank, axis, error);
}

/* The axis, for run(): infer() already checked it. */
typedef struct {
  guint axis;
  gsize n_sizes;
  gint64 sizes[]; /* Split: each output's extent along the axis */
} AxisState;

/* ---- Concat ------------------------------------------------------------ */

/* Before opset 4 `axis` was optional, defaulting to 1. */
static gboolean
concat_infer (KestrelGraph *graph, KestrelNode *node, gboolean axis_required, GError **error)
{
  const KestrelValue *first;
  gint64 out[KESTREL_TENSOR_MAX_DIMS];
  guint axis;

  if (!kestrel_op_check_arity (node, 1, G_MAXUINT, 1, error))
    return FALSE;
  first = kestrel_op_input (graph, node, 0, error);
  if (first == NULL || !read_axis (node, 1, axis_required, first->n_dims, &axis, error))
    return FALSE;
  memcpy (out, first->shape, sizeof out);
  out[axis] = 0;
  for (guint i = 0; i < kestrel_node_n_inputs (node); i++)
    {
      const KestrelValue *value = kestrel_op_input (graph, node, i, error);
      gboolean same = value != NULL && value->n_dims == first->n_dims;

      if (value == NULL)
        return FALSE;
      for (guint d = 0; same && d < first->n_dims; d++)
        same = d == axis || value->shape[d] == first->shape[d];
      if (value->dtype != first->dtype || !same)
        {
          g_autofree char *a = kestrel_shape_to_string (first->n_dims, first->shape);
          g_autofree char *b = kestrel_shape_to_string (value->n_dims, value->shape);
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "input %u ('%s') is %s%s but input 0 is %s%s; expected the "
                                  "same type and the same sizes except along axis %u", i,
                                  value->name, kestrel_dtype_get_name (value->dtype), b,
                                  kestrel_dtype_get_name (first->dtype), a, axis);
          return FALSE;
        }
      out[axis] += value->shape[axis];
    }
  kestrel_op_set_output (graph, node, 0, first->dtype, first->n_dims, out);
  return TRUE;
}

static AxisState *
axis_state_new (const KestrelStep *step, gint64 fallback)
{
  AxisState *state = g_new0 (AxisState, 1);

  kestrel_op_axis (step->node, kestrel_node_attr_int (step->node, "axis", fallback),
                   step->inputs[0].n_dims, &state->axis, NULL);
  return state;
}

static gboolean
axis_prepare (KestrelStep *step, GError **error G_GNUC_UNUSED)
{
  step->state = axis_state_new (step, 0);
  step->free_state = g_free;
  return TRUE;
}

static gboolean
axis_1_prepare (KestrelStep *step, GError **error G_GNUC_UNUSED)
{
  step->state = axis_state_new (step, 1);
  step->free_state = g_free;
  return TRUE;
}

static void
concat_run (const KestrelStep *step)
{
  const AxisState *state = step->state;
  const KestrelTensorView *out = &step->outputs[0];
  gsize es = kestrel_dtype_get_size (out->dtype);
  gsize outer = kestrel_shape_product (out->shape, 0, state->axis);
  gsize inner = kestrel_shape_product (out->shape, state->axis + 1, out->n_dims) * es;
  gsize out_row = (gsize) out->shape[state->axis] * inner;
  gsize offset = 0;

  for (guint i = 0; i < step->n_inputs; i++)
    {
      const KestrelTensorView *in = &step->inputs[i];
      gsize row = (gsize) in->shape[state->axis] * inner;

      if (row == 0)
        continue;
      for (gsize o = 0; o < outer; o++)
        memcpy ((guint8 *) out->data + o * out_row + offset,
                (const guint8 *) in->data + o * row, row);
      offset += row;
    }
}

static gboolean
concat_1_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  return concat_infer (graph, node, FALSE, error);
}

static gboolean
concat_4_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  return concat_infer (graph, node, TRUE, error);
}

/* Opset 4 made `axis` required, 11 allowed it negative. */
const KestrelOpDef kestrel_op_concat_1 = {
  "", "Concat", 1, 3, concat_1_infer, axis_1_prepare, concat_run, NULL
};
const KestrelOpDef kestrel_op_concat = {
  "", "Concat", 4, 21, concat_4_infer, axis_prepare, concat_run, NULL
};

/* ---- Split ------------------------------------------------------------- */

/* Each output's extent: the given sizes, or equal parts (from opset 18,
 * with num_outputs, parts of ceil (dim / n) and a smaller last one). */
static gboolean
split_sizes (const KestrelNode *node, gint64 dim, guint n_out, const gint64 *given,
             guint n_given, gboolean have_given, gint64 *sizes, GError **error)
{
  gint64 sum = 0;

  if (!have_given && kestrel_node_find_attr (node, "num_outputs") != NULL)
    {
      gint64 n = kestrel_node_attr_int (node, "num_outputs", 0), chunk;

      if (n != (gint64) n_out || n < 1)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "num_outputs is %" G_GINT64_FORMAT " but the node has %u "
                                  "outputs", n, n_out);
          return FALSE;
        }
      chunk = (dim + n - 1) / n;
      for (guint o = 0; o < n_out; o++)
        sizes[o] = CLAMP (dim - (gint64) o * chunk, 0, chunk);
      return TRUE;
    }
  if (!have_given)
    {
      if (dim % n_out != 0)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "cannot split %" G_GINT64_FORMAT " into %u equal parts",
                                  dim, n_out);
          return FALSE;
        }
      for (guint o = 0; o < n_out; o++)
        sizes[o] = dim / n_out;
      return TRUE;
    }
  if (n_given != n_out)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "'split' has %u sizes for %u outputs", n_given, n_out);
      return FALSE;
    }
  for (guint o = 0; o < n_out; o++)
    {
      if (given[o] < 0)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "split size %u is %" G_GINT64_FORMAT ", expected >= 0",
                                  o, given[o]);
          return FALSE;
        }
      sizes[o] = given[o];
      sum += given[o];
    }
  if (sum != dim)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "split sizes add up to %" G_GINT64_FORMAT ", but the axis has %"
                              G_GINT64_FORMAT, sum, dim);
      return FALSE;
    }
  return TRUE;
}

/* The split sizes a node gives, as an attribute (before opset 13) or a
 * constant input (from 13). *given is NULL when there are none. */
static gboolean
split_given (const KestrelGraph *graph, const KestrelNode *node, gboolean from_input,
             gint64 **given, guint *n, GError **error)
{
  *given = NULL;
  *n = 0;
  if (from_input)
    return kestrel_node_input (node, 1) < 0
           || kestrel_op_constant_ints (graph, node, 1, given, n, error);
  if (!kestrel_node_check_attr_type (node, "split", KESTREL_ATTR_INTS, error))
    return FALSE;
  if (kestrel_node_find_attr (node, "split") != NULL)
    {
      const gint64 *attr = kestrel_node_attr_ints (node, "split", n);
      *given = g_memdup2 (attr, MAX (*n, 1) * sizeof (gint64));
    }
  return TRUE;
}

static gboolean
split_infer (KestrelGraph *graph, KestrelNode *node, gboolean from_input, GError **error)
{
  const KestrelValue *data;
  g_autofree gint64 *given = NULL;
  g_autofree gint64 *sizes = NULL;
  guint n_given, axis, n_out = kestrel_node_n_outputs (node);

  if (!kestrel_op_check_arity (node, 1, from_input ? 2 : 1, 1, error)
      || !kestrel_node_check_attr_type (node, "num_outputs", KESTREL_ATTR_INT, error))
    return FALSE;
  data = kestrel_op_input (graph, node, 0, error);
  if (data == NULL || !read_axis (node, 0, FALSE, data->n_dims, &axis, error)
      || !split_given (graph, node, from_input, &given, &n_given, error))
    return FALSE;
  sizes = g_new (gint64, n_out);
  if (!split_sizes (node, data->shape[axis], n_out, given, n_given, given != NULL, sizes, error))
    return FALSE;
  for (guint o = 0; o < n_out; o++)
    {
      gint64 shape[KESTREL_TENSOR_MAX_DIMS];

      memcpy (shape, data->shape, sizeof shape);
      shape[axis] = sizes[o];
      kestrel_op_set_output (graph, node, o, data->dtype, data->n_dims, shape);
    }
  return TRUE;
}

static gboolean
split_prepare (KestrelStep *step, GError **error)
{
  const KestrelTensorView *in = &step->inputs[0];
  AxisState *state = g_malloc0 (sizeof (AxisState) + step->n_outputs * sizeof (gint64));
  gboolean ok;

  state->n_sizes = step->n_outputs;
  kestrel_op_axis (step->node, kestrel_node_attr_int (step->node, "axis", 0), in->n_dims,
                   &state->axis, NULL);
  if (step->n_inputs > 1 && step->inputs[1].data != NULL)
    {
      g_autofree gint64 *given = g_new (gint64, MAX (step->inputs[1].n_elements, 1));
      guint n = kestrel_shape_view_ints (&step->inputs[1], given, step->inputs[1].n_elements);
      ok = split_sizes (step->node, in->shape[state->axis], step->n_outputs, given, n, TRUE,
                        state->sizes, error);
    }
  else
    {
      guint n;
      const gint64 *given = kestrel_node_attr_ints (step->node, "split", &n);
      ok = split_sizes (step->node, in->shape[state->axis], step->n_outputs, given, n,
                        given != NULL, state->sizes, error);
    }
  if (!ok)
    {
      g_free (state);
      return FALSE;
    }
  step->state = state;
  step->free_state = g_free;
  return TRUE;
}

static void
split_run (const KestrelStep *step)
{
  const AxisState *state = step->state;
  const KestrelTensorView *in = &step->inputs[0];
  gsize es = kestrel_dtype_get_size (in->dtype);
  gsize outer = kestrel_shape_product (in->shape, 0, state->axis);
  gsize inner = kestrel_shape_product (in->shape, state->axis + 1, in->n_dims) * es;
  gsize in_row = (gsize) in->shape[state->axis] * inner;
  gsize offset = 0;

  for (guint o = 0; o < step->n_outputs; o++)
    {
      gsize row = (gsize) state->sizes[o] * inner;

      if (row > 0 && step->outputs[o].data != NULL)
        for (gsize r = 0; r < outer; r++)
          memcpy ((guint8 *) step->outputs[o].data + r * row,
                  (const guint8 *) in->data + r * in_row + offset, row);
      offset += row;
    }
}

static gboolean
split_2_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  return split_infer (graph, node, FALSE, error);
}

static gboolean
split_13_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  return split_infer (graph, node, TRUE, error);
}

/* Opset 13 moved `split` from an attribute to an input; 18 added
 * num_outputs (uneven parts). */
const KestrelOpDef kestrel_op_split_2 = {
  "", "Split", 2, 12, split_2_infer, split_prepare, split_run, NULL
};
const KestrelOpDef kestrel_op_split_13 = {
  "", "Split", 13, 21, split_13_infer, split_prepare, split_run, NULL
};

/* ---- Slice ------------------------------------------------------------- */

/* Per dimension: first input index, step and output length, ONNX rules:
 * negative starts and ends count from the end, then clamp to the axis
 * ([0, dim] going forward, [-1, dim - 1] going backward). */
static gboolean
slice_compute (const KestrelNode *node, guint rank, const gint64 *shape,
               const gint64 *starts, guint n_starts, const gint64 *ends, guint n_ends,
               const gint64 *axes, guint n_axes, const gint64 *steps, guint n_steps,
               gint64 *start_out, gint64 *step_out, gint64 *len_out, GError **error)
{
  gboolean seen[KESTREL_TENSOR_MAX_DIMS] = { FALSE };

  if (n_ends != n_starts || (axes != NULL && n_axes != n_starts)
      || (steps != NULL && n_steps != n_starts))
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "starts, ends, axes and steps have %u, %u, %u and %u values; "
                              "expected as many ends, axes and steps as starts", n_starts,
                              n_ends, axes != NULL ? n_axes : n_starts,
                              steps != NULL ? n_steps : n_starts);
      return FALSE;
    }
  for (guint d = 0; d < rank; d++)
    {
      start_out[d] = 0;
      step_out[d] = 1;
      len_out[d] = shape[d];
    }
  for (guint i = 0; i < n_starts; i++)
    {
      guint axis;
      gint64 dim, s, e, step = steps != NULL ? steps[i] : 1;

      if (!kestrel_op_axis (node, axes != NULL ? axes[i] : (gint64) i, rank, &axis, error))
        return FALSE;
      if (seen[axis])
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "axis %u is sliced twice", axis);
          return FALSE;
        }
      seen[axis] = TRUE;
      if (step == 0)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "the step along axis %u is 0", axis);
          return FALSE;
        }
      step = MAX (step, -G_MAXINT64); /* so that -step exists */
      dim = shape[axis];
      s = starts[i] < 0 ? starts[i] + dim : starts[i];
      e = ends[i] < 0 ? ends[i] + dim : ends[i];
      step_out[axis] = step;
      if (dim == 0)
        {
          start_out[axis] = 0;
          len_out[axis] = 0;
        }
      else if (step > 0)
        {
          s = CLAMP (s, 0, dim);
          e = CLAMP (e, 0, dim);
          start_out[axis] = s;
          len_out[axis] = e > s ? (e - s - 1) / step + 1 : 0;
        }
      else
        {
          s = CLAMP (s, 0, dim - 1);
          e = CLAMP (e, -1, dim - 1);
          start_out[axis] = s;
          len_out[axis] = s > e ? (s - e - 1) / -step + 1 : 0;
        }
    }
  return TRUE;
}

/* Parameters as attributes (before opset 10) or constant inputs. */
typedef struct {
  gint64 *starts, *ends, *axes, *steps;
  guint n_starts, n_ends, n_axes, n_steps;
} SliceParams;

static void
slice_params_clear (SliceParams *p)
{
  g_free (p->starts);
  g_free (p->ends);
  g_free (p->axes);
  g_free (p->steps);
}

static gboolean
slice_params_from_attrs (const KestrelNode *node, SliceParams *p, GError **error)
{
  static const char *const names[] = { "starts", "ends", "axes" };
  gint64 **slots[] = { &p->starts, &p->ends, &p->axes };
  guint *counts[] = { &p->n_starts, &p->n_ends, &p->n_axes };

  for (guint k = 0; k < G_N_ELEMENTS (names); k++)
    {
      const gint64 *values;

      if (!kestrel_node_check_attr_type (node, names[k], KESTREL_ATTR_INTS, error))
        return FALSE;
      if (kestrel_node_find_attr (node, names[k]) == NULL)
        {
          if (k < 2)
            {
              kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                      "needs an ints attribute '%s'", names[k]);
              return FALSE;
            }
          continue;
        }
      values = kestrel_node_attr_ints (node, names[k], counts[k]);
      *slots[k] = g_memdup2 (values, MAX (*counts[k], 1) * sizeof (gint64));
    }
  return TRUE;
}

static gboolean
slice_infer (KestrelGraph *graph, KestrelNode *node, gboolean from_inputs, GError **error)
{
  const KestrelValue *data;
  SliceParams p = { 0 };
  gint64 start[KESTREL_TENSOR_MAX_DIMS], step[KESTREL_TENSOR_MAX_DIMS];
  gint64 len[KESTREL_TENSOR_MAX_DIMS];
  gboolean ok;

  if (!kestrel_op_check_arity (node, from_inputs ? 3 : 1, from_inputs ? 5 : 1, 1, error))
    return FALSE;
  data = kestrel_op_input (graph, node, 0, error);
  if (data == NULL)
    return FALSE;
  if (from_inputs)
    ok = kestrel_op_constant_ints (graph, node, 1, &p.starts, &p.n_starts, error)
         && kestrel_op_constant_ints (graph, node, 2, &p.ends, &p.n_ends, error)
         && (kestrel_node_input (node, 3) < 0
             || kestrel_op_constant_ints (graph, node, 3, &p.axes, &p.n_axes, error))
         && (kestrel_node_input (node, 4) < 0
             || kestrel_op_constant_ints (graph, node, 4, &p.steps, &p.n_steps, error));
  else
    ok = slice_params_from_attrs (node, &p, error);
  ok = ok && slice_compute (node, data->n_dims, data->shape, p.starts, p.n_starts, p.ends,
                            p.n_ends, p.axes, p.n_axes, p.steps, p.n_steps, start, step, len,
                            error);
  slice_params_clear (&p);
  if (!ok)
    return FALSE;
  kestrel_op_set_output (graph, node, 0, data->dtype, data->n_dims, len);
  return TRUE;
}

static gboolean
slice_prepare (KestrelStep *step, GError **error)
{
  const KestrelTensorView *in = &step->inputs[0];
  SliceParams p = { 0 };
  gint64 start[KESTREL_TENSOR_MAX_DIMS], stride[KESTREL_TENSOR_MAX_DIMS];
  gint64 steps[KESTREL_TENSOR_MAX_DIMS], len[KESTREL_TENSOR_MAX_DIMS];
  gint64 offset = 0;
  KestrelStridedCopy *copy;
  gboolean ok = TRUE;

  if (step->n_inputs >= 3)
    {
      gint64 **slots[] = { &p.starts, &p.ends, &p.axes, &p.steps };
      guint *counts[] = { &p.n_starts, &p.n_ends, &p.n_axes, &p.n_steps };

      for (guint k = 0; k < 4 && k + 1 < step->n_inputs; k++)
        {
          const KestrelTensorView *view = &step->inputs[k + 1];
          if (view->data == NULL)
            continue;
          *slots[k] = g_new (gint64, MAX (view->n_elements, 1));
          *counts[k] = kestrel_shape_view_ints (view, *slots[k], view->n_elements);
        }
    }
  else
    ok = slice_params_from_attrs (step->node, &p, error);
  ok = ok && slice_compute (step->node, in->n_dims, in->shape, p.starts, p.n_starts, p.ends,
                            p.n_ends, p.axes, p.n_axes, p.steps, p.n_steps, start, steps, len,
                            error);
  slice_params_clear (&p);
  if (!ok)
    return FALSE;

  kestrel_shape_strides (in->n_dims, in->shape, stride);
  for (guint d = 0; d < in->n_dims; d++)
    {
      offset += start[d] * stride[d];
      stride[d] *= steps[d];
    }
  copy = g_new0 (KestrelStridedCopy, 1);
  kestrel_strided_copy_init (copy, kestrel_dtype_get_size (in->dtype), in->n_dims, len, stride,
                             offset);
  step->state = copy;
  step->free_state = g_free;
  return TRUE;
}

static gboolean
slice_1_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  return slice_infer (graph, node, FALSE, error);
}

static gboolean
slice_10_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  return slice_infer (graph, node, TRUE, error);
}

/* Opset 10 moved the parameters to inputs and added steps. */
const KestrelOpDef kestrel_op_slice_1 = {
  "", "Slice", 1, 9, slice_1_infer, slice_prepare, strided_copy_run, NULL
};
const KestrelOpDef kestrel_op_slice_10 = {
  "", "Slice", 10, 21, slice_10_infer, slice_prepare, strided_copy_run, NULL
};

/* ---- Transpose --------------------------------------------------------- */

/* The permutation: the attribute, or the reversed axes. */
static gboolean
transpose_perm (const KestrelNode *node, guint rank, guint *perm, GError **error)
{
  gboolean seen[KESTREL_TENSOR_MAX_DIMS] = { FALSE };
  const gint64 *attr;
  guint n;

  if (!kestrel_node_check_attr_type (node, "perm", KESTREL_ATTR_INTS, error))
    return FALSE;
  attr = kestrel_node_attr_ints (node, "perm", &n);
  if (attr == NULL)
    {
      for (guint d = 0; d < rank; d++)
        perm[d] = rank - 1 - d;
      return TRUE;
    }
  if (n != rank)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "'perm' has %u values for an input of rank %u", n, rank);
      return FALSE;
    }
  for (guint d = 0; d < rank; d++)
    {
      if (attr[d] < 0 || attr[d] >= rank || seen[attr[d]])
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "'perm' is not a permutation of 0..%u (value %"
                                  G_GINT64_FORMAT " at %u)", rank - 1, attr[d], d);
          return FALSE;
        }
      seen[attr[d]] = TRUE;
      perm[d] = (guint) attr[d];
    }
  return TRUE;
}

static gboolean
transpose_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *data;
  guint perm[KESTREL_TENSOR_MAX_DIMS];
  gint64 out[KESTREL_TENSOR_MAX_DIMS];

  if (!kestrel_op_check_arity (node, 1, 1, 1, error))
    return FALSE;
  data = kestrel_op_input (graph, node, 0, error);
  if (data == NULL || !transpose_perm (node, data->n_dims, perm, error))
    return FALSE;
  for (guint d = 0; d < data->n_dims; d++)
    out[d] = data->shape[perm[d]];
  kestrel_op_set_output (graph, node, 0, data->dtype, data->n_dims, out);
  return TRUE;
}

static gboolean
transpose_prepare (KestrelStep *step, GError **error)
{
  const KestrelTensorView *in = &step->inputs[0];
  guint perm[KESTREL_TENSOR_MAX_DIMS];
  gint64 in_stride[KESTREL_TENSOR_MAX_DIMS], stride[KESTREL_TENSOR_MAX_DIMS];
  gint64 shape[KESTREL_TENSOR_MAX_DIMS];
  KestrelStridedCopy *copy;

  if (!transpose_perm (step->node, in->n_dims, perm, error))
    return FALSE;
  kestrel_shape_strides (in->n_dims, in->shape, in_stride);
  for (guint d = 0; d < in->n_dims; d++)
    {
      shape[d] = in->shape[perm[d]];
      stride[d] = in_stride[perm[d]];
    }
  copy = g_new0 (KestrelStridedCopy, 1);
  kestrel_strided_copy_init (copy, kestrel_dtype_get_size (in->dtype), in->n_dims, shape, stride, 0);
  step->state = copy;
  step->free_state = g_free;
  return TRUE;
}

const KestrelOpDef kestrel_op_transpose = {
  "", "Transpose", 1, 21, transpose_infer, transpose_prepare, strided_copy_run, NULL
};

/* ---- Gather ------------------------------------------------------------ */

static gboolean
gather_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  static const KestrelDType index_types[] = { KESTREL_DTYPE_INT32, KESTREL_DTYPE_INT64 };
  const KestrelValue *data, *indices;
  gint64 out[KESTREL_TENSOR_MAX_DIMS];
  guint axis, n = 0;

  if (!kestrel_op_check_arity (node, 2, 2, 1, error))
    return FALSE;
  data = kestrel_op_input (graph, node, 0, error);
  indices = data != NULL ? kestrel_op_input (graph, node, 1, error) : NULL;
  if (indices == NULL || !read_axis (node, 0, FALSE, data->n_dims, &axis, error)
      || !kestrel_op_check_dtype (node, 1, indices, index_types, G_N_ELEMENTS (index_types), error)
      || !kestrel_shape_check_rank (node, (gint64) data->n_dims - 1 + indices->n_dims, error))
    return FALSE;

  /* Constant indices are checked now; others are clamped at run time. */
  if (indices->constant != NULL)
    {
      g_autofree gint64 *values = NULL;
      guint n_values;
      gint64 dim = data->shape[axis];

      if (!kestrel_op_constant_ints (graph, node, 1, &values, &n_values, error))
        return FALSE;
      for (guint i = 0; i < n_values; i++)
        if (values[i] < -dim || values[i] >= dim)
          {
            kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                    "index %" G_GINT64_FORMAT " is out of range for axis %u "
                                    "of size %" G_GINT64_FORMAT, values[i], axis, dim);
            return FALSE;
          }
    }

  for (guint d = 0; d < axis; d++)
    out[n++] = data->shape[d];
  for (guint d = 0; d < indices->n_dims; d++)
    out[n++] = indices->shape[d];
  for (guint d = axis + 1; d < data->n_dims; d++)
    out[n++] = data->shape[d];
  kestrel_op_set_output (graph, node, 0, data->dtype, n, out);
  return TRUE;
}

/* An index outside the axis (only possible when the indices are computed
 * at run time) yields zeros: run() cannot fail, and reading outside the
 * tensor is not an option. */
static void
gather_run (const KestrelStep *step)
{
  const AxisState *state = step->state;
  const KestrelTensorView *data = &step->inputs[0];
  const KestrelTensorView *indices = &step->inputs[1];
  const KestrelTensorView *out = &step->outputs[0];
  gsize es = kestrel_dtype_get_size (data->dtype);
  gsize outer = kestrel_shape_product (data->shape, 0, state->axis);
  gsize inner = kestrel_shape_product (data->shape, state->axis + 1, data->n_dims) * es;
  gint64 dim = data->shape[state->axis];
  gsize n_idx = indices->n_elements;
  guint8 *y = out->data;

  for (gsize o = 0; o < outer; o++)
    for (gsize j = 0; j < n_idx; j++)
      {
        gint64 idx = indices->dtype == KESTREL_DTYPE_INT32 ? ((const gint32 *) indices->data)[j]
                                                           : ((const gint64 *) indices->data)[j];
        guint8 *dst = y + (o * n_idx + j) * inner;

        if (idx < 0)
          idx += dim;
        if (idx < 0 || idx >= dim)
          memset (dst, 0, inner);
        else
          memcpy (dst, (const guint8 *) data->data + (o * (gsize) dim + (gsize) idx) * inner, inner);
      }
}

/* Negative indices arrived in opset 11; accepting them earlier is
 * harmless. */
const KestrelOpDef kestrel_op_gather = {
  "", "Gather", 1, 21, gather_infer, axis_prepare, gather_run, NULL
};

/* ---- Expand ------------------------------------------------------------ */

static gboolean
expand_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *data;
  g_autofree gint64 *shape = NULL;
  gint64 out[KESTREL_TENSOR_MAX_DIMS];
  guint n, out_dims;

  if (!kestrel_op_check_arity (node, 2, 2, 1, error))
    return FALSE;
  data = kestrel_op_input (graph, node, 0, error);
  if (data == NULL || !kestrel_op_constant_ints (graph, node, 1, &shape, &n, error)
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
  if (!kestrel_op_broadcast_shapes (node, data->n_dims, data->shape, n, shape, &out_dims, out,
                                    error))
    return FALSE;
  kestrel_op_set_output (graph, node, 0, data->dtype, out_dims, out);
  return TRUE;
}

static gboolean
expand_prepare (KestrelStep *step, GError **error G_GNUC_UNUSED)
{
  const KestrelTensorView *in = &step->inputs[0];
  const KestrelTensorView *out = &step->outputs[0];
  gint64 own[KESTREL_TENSOR_MAX_DIMS], stride[KESTREL_TENSOR_MAX_DIMS];
  KestrelStridedCopy *copy;

  kestrel_shape_strides (in->n_dims, in->shape, own);
  for (guint d = 0; d < out->n_dims; d++)
    {
      gint id = (gint) d - (gint) (out->n_dims - in->n_dims);
      stride[d] = id < 0 || in->shape[id] == 1 ? 0 : own[id];
    }
  copy = g_new0 (KestrelStridedCopy, 1);
  kestrel_strided_copy_init (copy, kestrel_dtype_get_size (in->dtype), out->n_dims, out->shape,
                             stride, 0);
  step->state = copy;
  step->free_state = g_free;
  return TRUE;
}

const KestrelOpDef kestrel_op_expand = {
  "", "Expand", 8, 21, expand_infer, expand_prepare, strided_copy_run, NULL
};

/* ---- Tile -------------------------------------------------------------- */

static gboolean
tile_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *data;
  g_autofree gint64 *repeats = NULL;
  gint64 out[KESTREL_TENSOR_MAX_DIMS];
  guint n;

  if (!kestrel_op_check_arity (node, 2, 2, 1, error))
    return FALSE;
  data = kestrel_op_input (graph, node, 0, error);
  if (data == NULL || !kestrel_op_constant_ints (graph, node, 1, &repeats, &n, error))
    return FALSE;
  if (n != data->n_dims)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "'repeats' has %u values for an input of rank %u", n, data->n_dims);
      return FALSE;
    }
  for (guint d = 0; d < n; d++)
    {
      if (repeats[d] < 0 || (repeats[d] > 0 && data->shape[d] > G_MAXINT64 / repeats[d]))
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "repeat %" G_GINT64_FORMAT " of axis %u is negative or too "
                                  "large", repeats[d], d);
          return FALSE;
        }
      out[d] = data->shape[d] * repeats[d];
    }
  kestrel_op_set_output (graph, node, 0, data->dtype, data->n_dims, out);
  return TRUE;
}

/* Output [r0 * d0, r1 * d1, ...] is, row-major, the same bytes as
 * [r0, d0, r1, d1, ...] reading the input with stride 0 along each r. */
static gboolean
tile_prepare (KestrelStep *step, GError **error G_GNUC_UNUSED)
{
  const KestrelTensorView *in = &step->inputs[0];
  const KestrelTensorView *out = &step->outputs[0];
  gint64 own[KESTREL_TENSOR_MAX_DIMS];
  gint64 shape[KESTREL_STRIDED_COPY_MAX_DIMS], stride[KESTREL_STRIDED_COPY_MAX_DIMS];
  KestrelStridedCopy *copy;

  kestrel_shape_strides (in->n_dims, in->shape, own);
  for (guint d = 0; d < in->n_dims; d++)
    {
      shape[2 * d] = in->shape[d] > 0 ? out->shape[d] / in->shape[d] : 0;
      stride[2 * d] = 0;
      shape[2 * d + 1] = in->shape[d];
      stride[2 * d + 1] = own[d];
    }
  copy = g_new0 (KestrelStridedCopy, 1);
  kestrel_strided_copy_init (copy, kestrel_dtype_get_size (in->dtype), 2 * in->n_dims, shape,
                             stride, 0);
  step->state = copy;
  step->free_state = g_free;
  return TRUE;
}

const KestrelOpDef kestrel_op_tile = {
  "", "Tile", 6, 21, tile_infer, tile_prepare, strided_copy_run, NULL
};
