/* ops-nn-pool.c — MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool:
 * ONNX semantics, NCHW, 1 to 3 spatial dimensions.
 *
 * Windowed pooling works on one output row per work item, like Conv, with
 * 1-D and 2-D pooling run as 3-D. Padding never wins a max and, unless
 * count_include_pad, never counts in an average; with ceil_mode a window
 * may hang over the end pad, and that part never counts.
 *
 * MaxPool also takes uint8 and int8 (opset 12): their values are exact in
 * float, so one comparison loop serves the three types.
 */
#include "config.h"

#include "ops-nn.h"

#include <float.h>
#include <string.h>

#include "kestrel-error.h"

typedef struct {
  gint64 batch, channels;
  gint64 in[3], out[3], kernel[3], stride[3], dilation[3];
  gint64 pad[3], pad_end[3];
  gboolean count_include_pad;   /* AveragePool */
  gboolean column_major;        /* MaxPool Indices with storage_order 1 */
  KestrelDType dtype;
  guint n_spatial;
} PoolParams;

static const KestrelNnAttr max_pool_attrs[] = {
  { "auto_pad", KESTREL_ATTR_STRING },
  { "ceil_mode", KESTREL_ATTR_INT },
  { "dilations", KESTREL_ATTR_INTS },
  { "kernel_shape", KESTREL_ATTR_INTS },
  { "pads", KESTREL_ATTR_INTS },
  { "storage_order", KESTREL_ATTR_INT },
  { "strides", KESTREL_ATTR_INTS },
};

static const KestrelNnAttr average_pool_attrs[] = {
  { "auto_pad", KESTREL_ATTR_STRING },
  { "ceil_mode", KESTREL_ATTR_INT },
  { "count_include_pad", KESTREL_ATTR_INT },
  { "dilations", KESTREL_ATTR_INTS },
  { "kernel_shape", KESTREL_ATTR_INTS },
  { "pads", KESTREL_ATTR_INTS },
  { "strides", KESTREL_ATTR_INTS },
};

static gboolean
check_pool_input (const KestrelNode *node, guint n_dims, const gint64 *shape, guint max_spatial,
                  GError **error)
{
  if (n_dims >= 3 && n_dims <= 2 + max_spatial)
    return TRUE;
  {
    g_autofree char *s = kestrel_shape_to_string (n_dims, shape);
    kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                            "input X has shape %s; expected [N, C, D1...] with 1 to %u spatial "
                            "dimensions", s, max_spatial);
  }
  return FALSE;
}

static gboolean
pool_params (const KestrelNode *node, guint n_dims, const gint64 *shape, KestrelDType dtype,
             PoolParams *p, GError **error)
{
  guint n_spatial, first, n_kernel;
  gint64 ceil_mode = kestrel_node_attr_int (node, "ceil_mode", 0);
  KestrelConvGeometry geo;

  if (!check_pool_input (node, n_dims, shape, 3, error))
    return FALSE;
  n_spatial = n_dims - 2;
  first = 3 - n_spatial;
  if (kestrel_node_attr_ints (node, "kernel_shape", &n_kernel) == NULL)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "the attribute kernel_shape is required");
      return FALSE;
    }
  if (!kestrel_op_conv_geometry (node, n_spatial, shape + 2, NULL, ceil_mode != 0, &geo, error))
    return FALSE;

  memset (p, 0, sizeof *p);
  for (guint d = 0; d < 3; d++)
    p->in[d] = p->out[d] = p->kernel[d] = p->stride[d] = p->dilation[d] = 1;
  p->batch = shape[0];
  p->channels = shape[1];
  p->dtype = dtype;
  p->n_spatial = n_spatial;
  for (guint d = 0; d < n_spatial; d++)
    {
      p->in[first + d] = geo.in[d];
      p->out[first + d] = geo.out[d];
      p->kernel[first + d] = geo.kernel[d];
      p->stride[first + d] = geo.stride[d];
      p->dilation[first + d] = geo.dilation[d];
      p->pad[first + d] = geo.pad_begin[d];
      p->pad_end[first + d] = geo.pad_end[d];
    }
  p->count_include_pad = kestrel_node_attr_int (node, "count_include_pad", 0) != 0;
  p->column_major = kestrel_node_attr_int (node, "storage_order", 0) != 0;
  return TRUE;
}

static void
pool_output_shape (const PoolParams *p, gint64 *out_shape)
{
  out_shape[0] = p->batch;
  out_shape[1] = p->channels;
  for (guint d = 0; d < p->n_spatial; d++)
    out_shape[2 + d] = p->out[3 - p->n_spatial + d];
}

static gboolean
pool_prepare (KestrelStep *step, GError **error)
{
  PoolParams *p = g_new (PoolParams, 1);

  step->state = p;
  step->free_state = g_free;
  return pool_params (step->node, step->inputs[0].n_dims, step->inputs[0].shape,
                      step->inputs[0].dtype, p, error);
}

static gsize
pool_n_rows (const KestrelStep *step)
{
  const PoolParams *p = step->state;

  return p->batch * p->channels * p->out[0] * p->out[1];
}

/* ---- MaxPool -------------------------------------------------------------- */

static gboolean
max_pool_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  static const KestrelDType dtypes[] = {
    KESTREL_DTYPE_FLOAT32, KESTREL_DTYPE_UINT8, KESTREL_DTYPE_INT8,
  };
  const KestrelValue *x;
  gint64 out_shape[KESTREL_TENSOR_MAX_DIMS];
  PoolParams p;

  if (!kestrel_op_check_arity (node, 1, 1, 1, error)
      || !kestrel_nn_check_attrs (node, max_pool_attrs, G_N_ELEMENTS (max_pool_attrs), error)
      || !kestrel_nn_check_no_outputs_after (node, 2, "MaxPool has at most Y and Indices", error)
      || (x = kestrel_op_input (graph, node, 0, error)) == NULL
      || !kestrel_op_check_dtype (node, 0, x, dtypes, G_N_ELEMENTS (dtypes), error)
      || !pool_params (node, x->n_dims, x->shape, x->dtype, &p, error))
    return FALSE;
  pool_output_shape (&p, out_shape);
  kestrel_op_set_output (graph, node, 0, x->dtype, x->n_dims, out_shape);
  kestrel_op_set_output (graph, node, 1, KESTREL_DTYPE_INT64, x->n_dims, out_shape);
  return TRUE;
}

static inline float
load_as_float (gconstpointer x, gint64 i, KestrelDType dtype)
{
  switch (dtype)
    {
    case KESTREL_DTYPE_UINT8:
      return ((const guint8 *) x)[i];
    case KESTREL_DTYPE_INT8:
      return ((const gint8 *) x)[i];
    default:
      return ((const float *) x)[i];
    }
}

static inline void
store_from_float (gpointer y, gint64 i, float v, KestrelDType dtype)
{
  switch (dtype)
    {
    case KESTREL_DTYPE_UINT8:
      ((guint8 *) y)[i] = (guint8) v;
      break;
    case KESTREL_DTYPE_INT8:
      ((gint8 *) y)[i] = (gint8) v;
      break;
    default:
      ((float *) y)[i] = v;
      break;
    }
}

/* The flat index MaxPool's Indices output reports: (n, c) planes in order,
 * the spatial position row-major, or column-major with storage_order 1. */
static inline gint64
max_pool_index (const PoolParams *p, gint64 plane, gint64 id, gint64 ih, gint64 iw)
{
  gint64 spatial = p->column_major ? (iw * p->in[1] + ih) * p->in[0] + id
                                   : (id * p->in[1] + ih) * p->in[2] + iw;
  return plane * p->in[0] * p->in[1] * p->in[2] + spatial;
}

/* `dtype` is a constant in each caller below, so the compiler drops the
 * switches of load_as_float() from the inner loop. */
static inline void
max_pool_rows (gsize begin, gsize end, const KestrelStep *step, KestrelDType dtype)
{
  const PoolParams *p = step->state;
  gconstpointer x = step->inputs[0].data;
  gpointer y = step->outputs[0].data;
  gint64 *indices = step->n_outputs > 1 ? step->outputs[1].data : NULL;
  gint64 n_rows = p->out[0] * p->out[1];
  gint64 in_plane = p->in[0] * p->in[1] * p->in[2];

  for (gsize item = begin; item < end; item++)
    {
      gint64 plane = (gint64) item / n_rows, row = (gint64) item % n_rows;
      gint64 od = row / p->out[1], oh = row % p->out[1];
      gint64 base = plane * in_plane;

      for (gint64 ow = 0; ow < p->out[2]; ow++)
        {
          gint64 o = (gint64) item * p->out[2] + ow, best_index = -1;
          float best = dtype == KESTREL_DTYPE_UINT8 ? 0.0f
                     : dtype == KESTREL_DTYPE_INT8 ? -128.0f : -FLT_MAX;
          gboolean found = FALSE;

          for (gint64 kd = 0; kd < p->kernel[0]; kd++)
            {
              gint64 id = od * p->stride[0] - p->pad[0] + kd * p->dilation[0];
              if (id < 0 || id >= p->in[0])
                continue;
              for (gint64 kh = 0; kh < p->kernel[1]; kh++)
                {
                  gint64 ih = oh * p->stride[1] - p->pad[1] + kh * p->dilation[1];
                  if (ih < 0 || ih >= p->in[1])
                    continue;
                  for (gint64 kw = 0; kw < p->kernel[2]; kw++)
                    {
                      gint64 iw = ow * p->stride[2] - p->pad[2] + kw * p->dilation[2];
                      float v;
                      if (iw < 0 || iw >= p->in[2])
                        continue;
                      v = load_as_float (x, base + (id * p->in[1] + ih) * p->in[2] + iw, dtype);
                      /* Strictly greater: the first maximum in scan order wins. */
                      if (!found || v > best)
                        {
                          best = v;
                          found = TRUE;
                          if (indices != NULL)
                            best_index = max_pool_index (p, plane, id, ih, iw);
                        }
                    }
                }
            }
          store_from_float (y, o, best, dtype);
          if (indices != NULL)
            indices[o] = best_index;
        }
    }
}

static void
max_pool_rows_f32 (gsize begin, gsize end, guint worker, gpointer data)
{
  max_pool_rows (begin, end, data, KESTREL_DTYPE_FLOAT32);
}

static void
max_pool_rows_u8 (gsize begin, gsize end, guint worker, gpointer data)
{
  max_pool_rows (begin, end, data, KESTREL_DTYPE_UINT8);
}

static void
max_pool_rows_s8 (gsize begin, gsize end, guint worker, gpointer data)
{
  max_pool_rows (begin, end, data, KESTREL_DTYPE_INT8);
}

static void
max_pool_run (const KestrelStep *step)
{
  const PoolParams *p = step->state;
  KestrelParallelFunc func = p->dtype == KESTREL_DTYPE_UINT8 ? max_pool_rows_u8
                           : p->dtype == KESTREL_DTYPE_INT8 ? max_pool_rows_s8
                           : max_pool_rows_f32;

  kestrel_step_parallel_for (step, pool_n_rows (step), func, (gpointer) step);
}

/* MaxPool-8 added Indices, -10 ceil_mode and dilations, -12 the 8-bit
 * types; each only adds what older models cannot use, so one definition
 * serves them all. */
const KestrelOpDef kestrel_op_max_pool = {
  .domain = "",
  .op_type = "MaxPool",
  .min_opset = 1, /* unchanged in meaning since its first version */
  .max_opset = 21,
  .infer = max_pool_infer,
  .prepare = pool_prepare,
  .run = max_pool_run,
};

/* ---- AveragePool ---------------------------------------------------------- */

static gboolean
average_pool_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x;
  gint64 out_shape[KESTREL_TENSOR_MAX_DIMS];
  PoolParams p;

  if (!kestrel_op_check_arity (node, 1, 1, 1, error)
      || !kestrel_nn_check_attrs (node, average_pool_attrs, G_N_ELEMENTS (average_pool_attrs),
                                  error)
      || (x = kestrel_op_input (graph, node, 0, error)) == NULL
      || !kestrel_op_check_float (node, 0, x, error)
      || !pool_params (node, x->n_dims, x->shape, x->dtype, &p, error))
    return FALSE;
  pool_output_shape (&p, out_shape);
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_FLOAT32, x->n_dims, out_shape);
  return TRUE;
}

/* How many taps of the window starting at `start` lie in [lo, hi). */
static inline gint64
taps_within (gint64 start, gint64 kernel, gint64 dilation, gint64 lo, gint64 hi)
{
  gint64 count = 0;

  for (gint64 k = 0; k < kernel; k++)
    {
      gint64 i = start + k * dilation;
      count += i >= lo && i < hi;
    }
  return count;
}

static void
average_pool_rows (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const PoolParams *p = step->state;
  const float *x = step->inputs[0].data;
  float *y = step->outputs[0].data;
  gint64 n_rows = p->out[0] * p->out[1];
  gint64 in_plane = p->in[0] * p->in[1] * p->in[2];

  for (gsize item = begin; item < end; item++)
    {
      gint64 plane = (gint64) item / n_rows, row = (gint64) item % n_rows;
      gint64 od = row / p->out[1], oh = row % p->out[1];
      gint64 d0 = od * p->stride[0] - p->pad[0], h0 = oh * p->stride[1] - p->pad[1];
      const float *xp = x + plane * in_plane;
      gint64 count_dh;

      /* The window is a product of per-axis tap sets, so is its count. */
      if (p->count_include_pad)
        count_dh = taps_within (d0, p->kernel[0], p->dilation[0], -p->pad[0], p->in[0] + p->pad_end[0])
                 * taps_within (h0, p->kernel[1], p->dilation[1], -p->pad[1], p->in[1] + p->pad_end[1]);
      else
        count_dh = taps_within (d0, p->kernel[0], p->dilation[0], 0, p->in[0])
                 * taps_within (h0, p->kernel[1], p->dilation[1], 0, p->in[1]);

      for (gint64 ow = 0; ow < p->out[2]; ow++)
        {
          gint64 w0 = ow * p->stride[2] - p->pad[2], count;
          float sum = 0.0f;

          for (gint64 kd = 0; kd < p->kernel[0]; kd++)
            {
              gint64 id = d0 + kd * p->dilation[0];
              if (id < 0 || id >= p->in[0])
                continue;
              for (gint64 kh = 0; kh < p->kernel[1]; kh++)
                {
                  gint64 ih = h0 + kh * p->dilation[1];
                  const float *xrow;
                  if (ih < 0 || ih >= p->in[1])
                    continue;
                  xrow = xp + (id * p->in[1] + ih) * p->in[2];
                  for (gint64 kw = 0; kw < p->kernel[2]; kw++)
                    {
                      gint64 iw = w0 + kw * p->dilation[2];
                      if (iw >= 0 && iw < p->in[2])
                        sum += xrow[iw];
                    }
                }
            }
          if (p->count_include_pad)
            count = count_dh * taps_within (w0, p->kernel[2], p->dilation[2], -p->pad[2],
                                            p->in[2] + p->pad_end[2]);
          else
            count = count_dh * taps_within (w0, p->kernel[2], p->dilation[2], 0, p->in[2]);
          /* A window wholly in padding averages nothing; 0 rather than NaN. */
          y[(gint64) item * p->out[2] + ow] = count > 0 ? sum / (float) count : 0.0f;
        }
    }
}

static void
average_pool_run (const KestrelStep *step)
{
  kestrel_step_parallel_for (step, pool_n_rows (step), average_pool_rows, (gpointer) step);
}



const KestrelOpDef kestrel_op_average_pool = {
  .domain = "",
  .op_type = "AveragePool",
  .min_opset = 1, /* unchanged in meaning since its first version */
  .max_opset = 21,
  .infer = average_pool_infer,
  .prepare = pool_prepare,
  .run = average_pool_run,
};

/* ---- GlobalAveragePool, GlobalMaxPool -------------------------------------- */

static gboolean
global_pool_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x;
  gint64 out_shape[KESTREL_TENSOR_MAX_DIMS];

  if (!kestrel_op_check_arity (node, 1, 1, 1, error)
      || (x = kestrel_op_input (graph, node, 0, error)) == NULL
      || !kestrel_op_check_float (node, 0, x, error)
      || !check_pool_input (node, x->n_dims, x->shape, KESTREL_TENSOR_MAX_DIMS - 2, error))
    return FALSE;
  out_shape[0] = x->shape[0];
  out_shape[1] = x->shape[1];
  for (guint d = 2; d < x->n_dims; d++)
    out_shape[d] = 1;
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_FLOAT32, x->n_dims, out_shape);
  return TRUE;
}

static void
global_average_pool_planes (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const KestrelTensorView *in = &step->inputs[0];
  gint64 size = kestrel_shape_product (in->shape, 2, in->n_dims);
  const float *x = in->data;
  float *y = step->outputs[0].data;

  for (gsize plane = begin; plane < end; plane++)
    {
      const float *xp = x + (gint64) plane * size;
      float sum = 0.0f;

      for (gint64 i = 0; i < size; i++)
        sum += xp[i];
      y[plane] = size > 0 ? sum / (float) size : 0.0f;
    }
}

static void
global_max_pool_planes (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const KestrelTensorView *in = &step->inputs[0];
  gint64 size = kestrel_shape_product (in->shape, 2, in->n_dims);
  const float *x = in->data;
  float *y = step->outputs[0].data;

  for (gsize plane = begin; plane < end; plane++)
    {
      const float *xp = x + (gint64) plane * size;
      float best = -FLT_MAX;

      for (gint64 i = 0; i < size; i++)
        if (i == 0 || xp[i] > best)
          best = xp[i];
      y[plane] = best;
    }
}

static void
global_average_pool_run (const KestrelStep *step)
{
  const KestrelTensorView *in = &step->inputs[0];

  kestrel_step_parallel_for (step, in->shape[0] * in->shape[1], global_average_pool_planes,
                             (gpointer) step);
}

static void
global_max_pool_run (const KestrelStep *step)
{
  const KestrelTensorView *in = &step->inputs[0];

  kestrel_step_parallel_for (step, in->shape[0] * in->shape[1], global_max_pool_planes,
                             (gpointer) step);
}

const KestrelOpDef kestrel_op_global_average_pool = {
  .domain = "",
  .op_type = "GlobalAveragePool",
  .min_opset = 1, /* unchanged in meaning since its first version */
  .max_opset = 21,
  .infer = global_pool_infer,
  .run = global_average_pool_run,
};

const KestrelOpDef kestrel_op_global_max_pool = {
  .domain = "",
  .op_type = "GlobalMaxPool",
  .min_opset = 1, /* unchanged in meaning since its first version */
  .max_opset = 21,
  .infer = global_pool_infer,
  .run = global_max_pool_run,
};
