/* ops-nn-pad.c — Pad: modes constant, reflect, edge and (opset 19) wrap,
 * any rank and any Kestrel dtype (the operator only moves elements, so it
 * copies bytes).
 *
 * Pad-2 to -10 take pads and value as attributes; from -11 they are inputs,
 * and pads must then be a constant since Kestrel needs static shapes; from
 * -18 an optional constant axes input says which axes the pads are for.
 * Negative pads crop, as ONNX allows.
 */
#include "config.h"

#include "ops-nn.h"

#include <string.h>

#include "kestrel-error.h"

typedef enum {
  PAD_CONSTANT,
  PAD_REFLECT,
  PAD_EDGE,
  PAD_WRAP,
} PadMode;

typedef struct {
  PadMode mode;
  guint n_dims;
  gsize elem_size;
  gint64 in[KESTREL_TENSOR_MAX_DIMS], out[KESTREL_TENSOR_MAX_DIMS];
  gint64 in_stride[KESTREL_TENSOR_MAX_DIMS];
  gint64 pad[KESTREL_TENSOR_MAX_DIMS];     /* begin pads */
  gint64 n_rows;                            /* output rows (all axes but the last) */
  guint8 value[8];                          /* the constant, as one element of the dtype */
  gboolean value_from_input;                /* Pad-11 constant_value, read at run time */
} PadParams;

static gboolean
parse_mode (const KestrelNode *node, PadMode *mode, GError **error)
{
  const char *name;

  if (!kestrel_node_check_attr_type (node, "mode", KESTREL_ATTR_STRING, error))
    return FALSE;
  name = kestrel_node_attr_string (node, "mode", "constant");
  if (strcmp (name, "constant") == 0)
    *mode = PAD_CONSTANT;
  else if (strcmp (name, "reflect") == 0)
    *mode = PAD_REFLECT;
  else if (strcmp (name, "edge") == 0)
    *mode = PAD_EDGE;
  else if (strcmp (name, "wrap") == 0)
    *mode = PAD_WRAP;
  else
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "mode '%s' is not constant, reflect, edge or wrap", name);
      return FALSE;
    }
  return TRUE;
}

/* The float attribute `value` of Pad-2, as one element of `dtype`. */
static void
value_from_float (float value, KestrelDType dtype, guint8 *out)
{
  memset (out, 0, 8);
  switch (dtype)
    {
    case KESTREL_DTYPE_FLOAT32:
      memcpy (out, &value, sizeof value);
      break;
    case KESTREL_DTYPE_FLOAT16:
      {
        guint16 half;
        kk_kernels_get (KK_ISA_SCALAR)->f32_to_f16 (&value, &half, 1);
        memcpy (out, &half, sizeof half);
      }
      break;
    case KESTREL_DTYPE_INT8:
      out[0] = (guint8) (gint8) value;
      break;
    case KESTREL_DTYPE_UINT8:
      out[0] = (guint8) value;
      break;
    case KESTREL_DTYPE_BOOL:
      out[0] = value != 0.0f;
      break;
    case KESTREL_DTYPE_INT32:
      {
        gint32 v = (gint32) value;
        memcpy (out, &v, sizeof v);
      }
      break;
    case KESTREL_DTYPE_INT64:
      {
        gint64 v = (gint64) value;
        memcpy (out, &v, sizeof v);
      }
      break;
    case KESTREL_DTYPE_FLOAT64:
      {
        double v = value;
        memcpy (out, &v, sizeof v);
      }
      break;
    }
}

/* Fills p from the data shape and the 2 * rank pads (begins, then ends). */
static gboolean
pad_params (const KestrelNode *node, PadMode mode, guint n_dims, const gint64 *shape,
            KestrelDType dtype, const gint64 *pads, guint n_pads, PadParams *p, GError **error)
{
  memset (p, 0, sizeof *p);
  p->mode = mode;
  p->n_dims = n_dims;
  p->elem_size = kestrel_dtype_get_size (dtype);
  if (n_dims < 1)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "input data is a scalar; expected rank 1 or more");
      return FALSE;
    }
  if (n_pads != 2 * n_dims)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "pads has %u values; expected %u (begin and end of each of the "
                              "%u axes)", n_pads, 2 * n_dims, n_dims);
      return FALSE;
    }
  for (guint d = 0; d < n_dims; d++)
    {
      p->in[d] = shape[d];
      p->pad[d] = pads[d];
      p->out[d] = shape[d] + pads[d] + pads[n_dims + d];
      if (p->out[d] < 0)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "pads %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT " crop more "
                                  "than the %" G_GINT64_FORMAT " elements of axis %u",
                                  pads[d], pads[n_dims + d], shape[d], d);
          return FALSE;
        }
      if (mode != PAD_CONSTANT && shape[d] == 0 && p->out[d] > 0)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "axis %u is empty, so there is nothing to repeat in %s mode",
                                  d, mode == PAD_EDGE ? "edge" : mode == PAD_WRAP ? "wrap"
                                                                                : "reflect");
          return FALSE;
        }
    }
  kestrel_shape_strides (n_dims, shape, p->in_stride);
  p->n_rows = kestrel_shape_product (p->out, 0, n_dims - 1);
  return TRUE;
}


/* ---- Pad-2 (attributes) ----------------------------------------------------- */

static const KestrelNnAttr pad_2_attrs[] = {
  { "mode", KESTREL_ATTR_STRING },
  { "pads", KESTREL_ATTR_INTS },
  { "value", KESTREL_ATTR_FLOAT },
};

static gboolean
pad_2_params (const KestrelNode *node, guint n_dims, const gint64 *shape, KestrelDType dtype,
              PadParams *p, GError **error)
{
  PadMode mode;
  guint n_pads;
  const gint64 *pads;

  if (!kestrel_nn_check_attrs (node, pad_2_attrs, G_N_ELEMENTS (pad_2_attrs), error)
      || !parse_mode (node, &mode, error))
    return FALSE;
  pads = kestrel_node_attr_ints (node, "pads", &n_pads);
  if (pads == NULL)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "the attribute pads is required before opset 11");
      return FALSE;
    }
  if (!pad_params (node, mode, n_dims, shape, dtype, pads, n_pads, p, error))
    return FALSE;
  value_from_float (kestrel_node_attr_float (node, "value", 0.0f), dtype, p->value);
  return TRUE;
}

static gboolean
pad_2_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x;
  PadParams p;

  if (!kestrel_op_check_arity (node, 1, 1, 1, error)
      || (x = kestrel_op_input (graph, node, 0, error)) == NULL
      || !pad_2_params (node, x->n_dims, x->shape, x->dtype, &p, error))
    return FALSE;
  kestrel_op_set_output (graph, node, 0, x->dtype, x->n_dims, p.out);
  return TRUE;
}

static gboolean
pad_2_prepare (KestrelStep *step, GError **error)
{
  PadParams *p = g_new (PadParams, 1);

  step->state = p;
  step->free_state = g_free;
  return pad_2_params (step->node, step->inputs[0].n_dims, step->inputs[0].shape,
                       step->inputs[0].dtype, p, error);
}

/* ---- Pad-11 (inputs) -------------------------------------------------------- */

/* Pad-18's axes: the given pads (begins, then ends, for the listed axes)
 * spread over all 2 * rank, zero elsewhere. Without axes, pads as given. */
static gboolean
pad_spread_axes (const KestrelNode *node, guint n_dims, const gint64 *pads, guint n_pads,
                 const gint64 *axes, guint n_axes, gboolean have_axes, gint64 **full,
                 guint *n_full, GError **error)
{
  if (!have_axes)
    {
      *full = g_memdup2 (pads, MAX (n_pads, 1) * sizeof (gint64));
      *n_full = n_pads;
      return TRUE;
    }
  if (n_pads != 2 * n_axes)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "pads has %u values for %u axes; expected %u", n_pads, n_axes,
                              2 * n_axes);
      return FALSE;
    }
  *full = g_new0 (gint64, 2 * MAX (n_dims, 1));
  *n_full = 2 * n_dims;
  for (guint k = 0; k < n_axes; k++)
    {
      guint axis;

      if (!kestrel_op_axis (node, axes[k], n_dims, &axis, error))
        {
          g_clear_pointer (full, g_free);
          return FALSE;
        }
      (*full)[axis] = pads[k];
      (*full)[n_dims + axis] = pads[n_axes + k];
    }
  return TRUE;
}

static gboolean
pad_11_params (const KestrelNode *node, guint n_dims,
               const gint64 *shape, KestrelDType dtype, const gint64 *pads, guint n_pads,
               PadParams *p, GError **error)
{
  PadMode mode;

  if (!parse_mode (node, &mode, error)
      || !pad_params (node, mode, n_dims, shape, dtype, pads, n_pads, p, error))
    return FALSE;
  p->value_from_input = kestrel_node_input (node, 2) >= 0;
  return TRUE;
}

static gboolean
pad_11_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x, *value;
  g_autofree gint64 *pads = NULL, *axes = NULL, *full = NULL;
  guint n_pads, n_axes = 0, n_full;
  gboolean have_axes = kestrel_node_n_inputs (node) > 3 && kestrel_node_input (node, 3) >= 0;
  PadParams p;

  if (!kestrel_op_check_arity (node, 2, graph->opset >= 18 ? 4 : 3, 1, error)
      || (x = kestrel_op_input (graph, node, 0, error)) == NULL)
    return FALSE;
  if (!kestrel_op_constant_ints (graph, node, 1, &pads, &n_pads, error)
      || (have_axes && !kestrel_op_constant_ints (graph, node, 3, &axes, &n_axes, error))
      || !pad_spread_axes (node, x->n_dims, pads, n_pads, axes, n_axes, have_axes, &full, &n_full,
                           error)
      || !pad_11_params (node, x->n_dims, x->shape, x->dtype, full, n_full, &p, error))
    return FALSE;
  if (kestrel_node_input (node, 2) >= 0)
    {
      if ((value = kestrel_op_input (graph, node, 2, error)) == NULL
          || !kestrel_op_check_dtype (node, 2, value, &x->dtype, 1, error))
        return FALSE;
      if (kestrel_value_n_elements (value) != 1)
        {
          g_autofree char *vs = kestrel_shape_to_string (value->n_dims, value->shape);
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "constant_value has shape %s; expected a single value", vs);
          return FALSE;
        }
    }
  kestrel_op_set_output (graph, node, 0, x->dtype, x->n_dims, p.out);
  return TRUE;
}

static gboolean
pad_11_prepare (KestrelStep *step, GError **error)
{
  PadParams *p = g_new (PadParams, 1);
  const KestrelTensorView *pads_view = &step->inputs[1];
  const KestrelTensorView *axes_view = step->n_inputs > 3 ? &step->inputs[3] : NULL;
  g_autofree gint64 *pads = g_new (gint64, MAX (pads_view->n_elements, 1));
  g_autofree gint64 *axes = NULL, *full = NULL;
  gboolean have_axes = axes_view != NULL && axes_view->data != NULL;
  guint n_full;

  step->state = p;
  step->free_state = g_free;
  /* pads and axes are constants (infer checked), so their data is there. */
  for (gsize i = 0; i < pads_view->n_elements; i++)
    pads[i] = kestrel_op_load_int (pads_view->dtype, pads_view->data, i);
  if (have_axes)
    {
      axes = g_new (gint64, MAX (axes_view->n_elements, 1));
      for (gsize i = 0; i < axes_view->n_elements; i++)
        axes[i] = kestrel_op_load_int (axes_view->dtype, axes_view->data, i);
    }
  return pad_spread_axes (step->node, step->inputs[0].n_dims, pads, pads_view->n_elements, axes,
                          have_axes ? axes_view->n_elements : 0, have_axes, &full, &n_full, error)
         && pad_11_params (step->node, step->inputs[0].n_dims, step->inputs[0].shape,
                           step->inputs[0].dtype, full, n_full, p, error);
}

/* ---- run ------------------------------------------------------------------- */

static inline gint64
reflect_index (gint64 i, gint64 n)
{
  gint64 period = 2 * (n - 1);

  if (n == 1)
    return 0;
  i %= period;
  if (i < 0)
    i += period;
  return i < n ? i : period - i;
}

/* The source index of output position `o` on an axis, or -1 for the
 * constant. */
static inline gint64
source_index (PadMode mode, gint64 o, gint64 pad, gint64 n)
{
  gint64 i = o - pad;

  if (i >= 0 && i < n)
    return i;
  switch (mode)
    {
    case PAD_EDGE:
      return i < 0 ? 0 : n - 1;
    case PAD_REFLECT:
      return reflect_index (i, n);
    case PAD_WRAP:
      return ((i % n) + n) % n;
    case PAD_CONSTANT:
    default:
      return -1;
    }
}

static void
pad_rows (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const PadParams *p = step->state;
  const guint8 *x = step->inputs[0].data;
  guint8 *y = step->outputs[0].data;
  const guint8 *value = p->value_from_input ? step->inputs[2].data : p->value;
  gsize es = p->elem_size;
  guint last = p->n_dims - 1;
  gint64 w_out = p->out[last], w_in = p->in[last], pad = p->pad[last];
  /* Output positions [mid_begin, mid_end) read the input row contiguously. */
  gint64 mid_begin = CLAMP (pad, 0, w_out), mid_end = CLAMP (pad + w_in, mid_begin, w_out);

  for (gsize row = begin; row < end; row++)
    {
      guint8 *out = y + row * w_out * es;
      gint64 rest = (gint64) row, src = 0;
      gboolean constant_row = FALSE;

      for (guint d = last; d-- > 0;)
        {
          gint64 o = rest % p->out[d], i = source_index (p->mode, o, p->pad[d], p->in[d]);
          rest /= p->out[d];
          if (i < 0)
            constant_row = TRUE;
          else
            src += i * p->in_stride[d];
        }

      if (constant_row)
        {
          for (gint64 ow = 0; ow < w_out; ow++)
            memcpy (out + ow * es, value, es);
          continue;
        }

      const guint8 *in = x + src * es;
      for (gint64 ow = 0; ow < mid_begin; ow++)
        {
          gint64 i = source_index (p->mode, ow, pad, w_in);
          memcpy (out + ow * es, i < 0 ? value : in + i * es, es);
        }
      if (mid_end > mid_begin)
        memcpy (out + mid_begin * es, in + (mid_begin - pad) * es, (mid_end - mid_begin) * es);
      for (gint64 ow = mid_end; ow < w_out; ow++)
        {
          gint64 i = source_index (p->mode, ow, pad, w_in);
          memcpy (out + ow * es, i < 0 ? value : in + i * es, es);
        }
    }
}

static void
pad_run (const KestrelStep *step)
{
  const PadParams *p = step->state;

  kestrel_step_parallel_for (step, p->n_rows, pad_rows, (gpointer) step);
}

const KestrelOpDef kestrel_op_pad_2 = {
  .domain = "",
  .op_type = "Pad",
  .min_opset = 2, /* unchanged in meaning since its first version */
  .max_opset = 10,
  .infer = pad_2_infer,
  .prepare = pad_2_prepare,
  .run = pad_run,
};

/* Pad-13 only added bfloat16, which Kestrel does not have; -18 added axes,
 * -19 the wrap mode, -21 more types. */
const KestrelOpDef kestrel_op_pad_11 = {
  .domain = "",
  .op_type = "Pad",
  .min_opset = 11,
  .max_opset = 21,
  .infer = pad_11_infer,
  .prepare = pad_11_prepare,
  .run = pad_run,
};
