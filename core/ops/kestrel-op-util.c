/* kestrel-op-util.c — checks and shape arithmetic shared by the operators. */
#include "config.h"

#include "kestrel-op-util.h"

#include <math.h>
#include <string.h>

#include "kestrel-error.h"

gboolean
kestrel_op_check_arity (const KestrelNode *node, guint min_inputs, guint max_inputs,
                        guint min_outputs, GError **error)
{
  guint n_in = kestrel_node_n_inputs (node);

  if (n_in < min_inputs || n_in > max_inputs)
    {
      if (min_inputs == max_inputs)
        kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                "has %u inputs, expected %u", n_in, min_inputs);
      else
        kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                "has %u inputs, expected %u to %u", n_in, min_inputs, max_inputs);
      return FALSE;
    }
  for (guint i = 0; i < min_inputs; i++)
    if (kestrel_node_input (node, i) < 0)
      {
        kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                "input %u is required but omitted", i);
        return FALSE;
      }
  if (kestrel_node_n_outputs (node) < min_outputs || kestrel_node_output (node, 0) < 0)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "has %u outputs, expected at least %u",
                              kestrel_node_n_outputs (node), min_outputs);
      return FALSE;
    }
  return TRUE;
}

static const KestrelValue *
input_value (const KestrelGraph *graph, const KestrelNode *node, guint i, gboolean optional,
             GError **error)
{
  gint index = kestrel_node_input (node, i);
  const KestrelValue *value;

  if (index < 0)
    {
      if (!optional)
        kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT, "input %u is missing", i);
      return NULL;
    }
  value = kestrel_graph_value (graph, index);
  if (!value->has_type || !value->has_shape)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "input %u ('%s') has no static shape; Kestrel needs every shape "
                              "to be known when the plan is built", i, value->name);
      return NULL;
    }
  return value;
}

const KestrelValue *
kestrel_op_input (const KestrelGraph *graph, const KestrelNode *node, guint i, GError **error)
{
  return input_value (graph, node, i, FALSE, error);
}

const KestrelValue *
kestrel_op_optional_input (const KestrelGraph *graph, const KestrelNode *node, guint i,
                           GError **error)
{
  return input_value (graph, node, i, TRUE, error);
}

gboolean
kestrel_op_check_dtype (const KestrelNode *node, guint i, const KestrelValue *value,
                        const KestrelDType *dtypes, guint n_dtypes, GError **error)
{
  g_autoptr(GString) expected = g_string_new (NULL);

  for (guint d = 0; d < n_dtypes; d++)
    if (value->dtype == dtypes[d])
      return TRUE;
  for (guint d = 0; d < n_dtypes; d++)
    g_string_append_printf (expected, "%s%s", d == 0 ? "" : d + 1 == n_dtypes ? " or " : ", ",
                            kestrel_dtype_get_name (dtypes[d]));
  kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                          "input %u ('%s') is %s, expected %s", i, value->name,
                          kestrel_dtype_get_name (value->dtype), expected->str);
  return FALSE;
}

gboolean
kestrel_op_check_float (const KestrelNode *node, guint i, const KestrelValue *value, GError **error)
{
  const KestrelDType f32 = KESTREL_DTYPE_FLOAT32;
  return kestrel_op_check_dtype (node, i, value, &f32, 1, error);
}

gboolean
kestrel_op_constant_ints (const KestrelGraph *graph, const KestrelNode *node, guint i,
                          gint64 **values, guint *n, GError **error)
{
  gint index = kestrel_node_input (node, i);
  const KestrelValue *value = kestrel_graph_value (graph, index);
  KestrelTensor *t;
  gsize count;

  if (value == NULL || value->constant == NULL)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "input %u%s%s%s must be a constant (known when the model is "
                              "loaded)", i, value ? " ('" : "", value ? value->name : "",
                              value ? "')" : "");
      return FALSE;
    }
  t = value->constant;
  count = kestrel_tensor_get_n_elements (t);
  *values = g_new (gint64, MAX (count, 1));
  *n = count;
  switch (kestrel_tensor_get_dtype (t))
    {
    case KESTREL_DTYPE_INT64:
      memcpy (*values, kestrel_tensor_get_data (t), count * sizeof (gint64));
      return TRUE;
    case KESTREL_DTYPE_INT32:
      for (gsize k = 0; k < count; k++)
        (*values)[k] = ((const gint32 *) kestrel_tensor_get_data (t))[k];
      return TRUE;
    default:
      g_clear_pointer (values, g_free);
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "input %u ('%s') is %s, expected int64 or int32", i, value->name,
                              kestrel_dtype_get_name (kestrel_tensor_get_dtype (t)));
      return FALSE;
    }
}

gboolean
kestrel_op_constant_float (const KestrelGraph *graph, const KestrelNode *node, guint i,
                           float *out, GError **error)
{
  const KestrelValue *value = kestrel_graph_value (graph, kestrel_node_input (node, i));

  if (value == NULL || value->constant == NULL)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "input %u must be a constant", i);
      return FALSE;
    }
  if (kestrel_tensor_get_n_elements (value->constant) != 1
      || kestrel_tensor_get_dtype (value->constant) != KESTREL_DTYPE_FLOAT32)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "input %u ('%s') must be a single float32", i, value->name);
      return FALSE;
    }
  *out = *(const float *) kestrel_tensor_get_data (value->constant);
  return TRUE;
}

void
kestrel_op_set_output (KestrelGraph *graph, const KestrelNode *node, guint i, KestrelDType dtype,
                       guint n_dims, const gint64 *shape)
{
  gint index = kestrel_node_output (node, i);

  if (index >= 0)
    kestrel_value_set_shape (kestrel_graph_value (graph, index), dtype, n_dims, shape);
}

gboolean
kestrel_op_broadcast_shapes (const KestrelNode *node, guint a_dims, const gint64 *a,
                             guint b_dims, const gint64 *b, guint *out_dims, gint64 *out,
                             GError **error)
{
  guint n = MAX (a_dims, b_dims);

  for (guint k = 0; k < n; k++)
    {
      gint64 da = k < n - a_dims ? 1 : a[k - (n - a_dims)];
      gint64 db = k < n - b_dims ? 1 : b[k - (n - b_dims)];
      if (da != db && da != 1 && db != 1)
        {
          g_autofree char *sa = kestrel_shape_to_string (a_dims, a);
          g_autofree char *sb = kestrel_shape_to_string (b_dims, b);
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "shapes %s and %s cannot be broadcast together", sa, sb);
          return FALSE;
        }
      out[k] = da == 1 ? db : da;
    }
  *out_dims = n;
  return TRUE;
}

gboolean
kestrel_op_axis (const KestrelNode *node, gint64 axis, guint rank, guint *out, GError **error)
{
  gint64 normalised = axis < 0 ? axis + (gint64) rank : axis;

  if (normalised < 0 || normalised >= (gint64) MAX (rank, 1))
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "axis %" G_GINT64_FORMAT " is out of range for rank %u", axis, rank);
      return FALSE;
    }
  *out = (guint) normalised;
  return TRUE;
}

static gboolean
check_attr_len (const KestrelNode *node, const char *name, guint n, guint expected, GError **error)
{
  if (n != 0 && n != expected)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "attribute '%s' has %u values, expected %u", name, n, expected);
      return FALSE;
    }
  return TRUE;
}

gboolean
kestrel_op_conv_geometry (const KestrelNode *node, guint n_spatial, const gint64 *in_spatial,
                          const gint64 *kernel, gboolean ceil_mode, KestrelConvGeometry *geo,
                          GError **error)
{
  guint n_kernel, n_strides, n_dilations, n_pads;
  const gint64 *attr_kernel = kestrel_node_attr_ints (node, "kernel_shape", &n_kernel);
  const gint64 *strides = kestrel_node_attr_ints (node, "strides", &n_strides);
  const gint64 *dilations = kestrel_node_attr_ints (node, "dilations", &n_dilations);
  const gint64 *pads = kestrel_node_attr_ints (node, "pads", &n_pads);
  const char *auto_pad = kestrel_node_attr_string (node, "auto_pad", "NOTSET");

  if (n_spatial == 0 || n_spatial > 3)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "%u spatial dimensions; Kestrel supports 1 to 3", n_spatial);
      return FALSE;
    }
  if (!check_attr_len (node, "kernel_shape", n_kernel, n_spatial, error)
      || !check_attr_len (node, "strides", n_strides, n_spatial, error)
      || !check_attr_len (node, "dilations", n_dilations, n_spatial, error)
      || !check_attr_len (node, "pads", n_pads, 2 * n_spatial, error))
    return FALSE;

  memset (geo, 0, sizeof *geo);
  geo->n_spatial = n_spatial;
  for (guint d = 0; d < n_spatial; d++)
    {
      geo->in[d] = in_spatial[d];
      geo->kernel[d] = attr_kernel != NULL ? attr_kernel[d] : kernel != NULL ? kernel[d] : 0;
      geo->stride[d] = strides != NULL ? strides[d] : 1;
      geo->dilation[d] = dilations != NULL ? dilations[d] : 1;
      geo->pad_begin[d] = pads != NULL ? pads[d] : 0;
      geo->pad_end[d] = pads != NULL ? pads[d + n_spatial] : 0;
      if (geo->kernel[d] < 1 || geo->stride[d] < 1 || geo->dilation[d] < 1
          || geo->pad_begin[d] < 0 || geo->pad_end[d] < 0)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "kernel %" G_GINT64_FORMAT ", stride %" G_GINT64_FORMAT
                                  ", dilation %" G_GINT64_FORMAT " and pads %" G_GINT64_FORMAT
                                  "/%" G_GINT64_FORMAT " of spatial axis %u must be positive "
                                  "(pads non-negative)", geo->kernel[d], geo->stride[d],
                                  geo->dilation[d], geo->pad_begin[d], geo->pad_end[d], d);
          return FALSE;
        }

      gint64 extent = (geo->kernel[d] - 1) * geo->dilation[d] + 1;
      if (strcmp (auto_pad, "SAME_UPPER") == 0 || strcmp (auto_pad, "SAME_LOWER") == 0)
        {
          gint64 out = (in_spatial[d] + geo->stride[d] - 1) / geo->stride[d];
          gint64 total = MAX (0, (out - 1) * geo->stride[d] + extent - in_spatial[d]);
          gboolean upper = strcmp (auto_pad, "SAME_UPPER") == 0;
          geo->pad_begin[d] = upper ? total / 2 : total - total / 2;
          geo->pad_end[d] = total - geo->pad_begin[d];
        }
      else if (strcmp (auto_pad, "VALID") == 0)
        geo->pad_begin[d] = geo->pad_end[d] = 0;
      else if (strcmp (auto_pad, "NOTSET") != 0)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "auto_pad '%s' is not NOTSET, VALID, SAME_UPPER or SAME_LOWER",
                                  auto_pad);
          return FALSE;
        }

      gint64 span = in_spatial[d] + geo->pad_begin[d] + geo->pad_end[d] - extent;
      if (span < 0)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "kernel extent %" G_GINT64_FORMAT " is larger than the padded "
                                  "input (%" G_GINT64_FORMAT ") on spatial axis %u",
                                  extent, in_spatial[d] + geo->pad_begin[d] + geo->pad_end[d], d);
          return FALSE;
        }
      geo->out[d] = (ceil_mode ? (span + geo->stride[d] - 1) / geo->stride[d]
                               : span / geo->stride[d]) + 1;
      /* ONNX: with ceil_mode the last window must start inside the input or
       * its left padding. */
      if (ceil_mode && (geo->out[d] - 1) * geo->stride[d] >= in_spatial[d] + geo->pad_begin[d])
        geo->out[d]--;
    }
  return TRUE;
}

void
kestrel_shape_strides (guint n_dims, const gint64 *shape, gint64 *strides)
{
  gint64 stride = 1;

  for (guint k = n_dims; k-- > 0;)
    {
      strides[k] = stride;
      stride *= shape[k];
    }
}

gint64
kestrel_op_double_to_int (double v)
{
  if (isnan (v))
    return 0;
  if (v >= 9223372036854775807.0)
    return G_MAXINT64;
  if (v <= -9223372036854775808.0)
    return G_MININT64;
  return (gint64) v;
}

double
kestrel_op_load_double (KestrelDType dtype, gconstpointer data, gsize i)
{
  switch (dtype)
    {
    case KESTREL_DTYPE_FLOAT32:
      return ((const float *) data)[i];
    case KESTREL_DTYPE_INT8:
      return ((const gint8 *) data)[i];
    case KESTREL_DTYPE_UINT8:
    case KESTREL_DTYPE_BOOL:
      return ((const guint8 *) data)[i];
    case KESTREL_DTYPE_INT32:
      return ((const gint32 *) data)[i];
    case KESTREL_DTYPE_INT64:
      return (double) ((const gint64 *) data)[i];
    case KESTREL_DTYPE_FLOAT64:
      return ((const double *) data)[i];
    case KESTREL_DTYPE_FLOAT16:
    default:
      return 0;
    }
}

gint64
kestrel_op_load_int (KestrelDType dtype, gconstpointer data, gsize i)
{
  switch (dtype)
    {
    case KESTREL_DTYPE_INT64:
      return ((const gint64 *) data)[i];
    case KESTREL_DTYPE_FLOAT32:
      return kestrel_op_double_to_int (((const float *) data)[i]);
    default:
      return (gint64) kestrel_op_load_double (dtype, data, i);
    }
}

void
kestrel_op_store_int (KestrelDType dtype, gpointer data, gsize i, gint64 v)
{
  switch (dtype)
    {
    case KESTREL_DTYPE_FLOAT32:
      ((float *) data)[i] = (float) v;
      break;
    case KESTREL_DTYPE_INT8:
      ((gint8 *) data)[i] = (gint8) CLAMP (v, G_MININT8, G_MAXINT8);
      break;
    case KESTREL_DTYPE_UINT8:
      ((guint8 *) data)[i] = (guint8) CLAMP (v, 0, G_MAXUINT8);
      break;
    case KESTREL_DTYPE_BOOL:
      ((guint8 *) data)[i] = v != 0;
      break;
    case KESTREL_DTYPE_INT32:
      ((gint32 *) data)[i] = (gint32) CLAMP (v, G_MININT32, G_MAXINT32);
      break;
    case KESTREL_DTYPE_INT64:
      ((gint64 *) data)[i] = v;
      break;
    case KESTREL_DTYPE_FLOAT64:
      ((double *) data)[i] = (double) v;
      break;
    case KESTREL_DTYPE_FLOAT16:
    default:
      break;
    }
}

void
kestrel_op_store_double (KestrelDType dtype, gpointer data, gsize i, double v)
{
  if (dtype == KESTREL_DTYPE_FLOAT32)
    ((float *) data)[i] = (float) v;
  else if (dtype == KESTREL_DTYPE_FLOAT64)
    ((double *) data)[i] = v;
  else if (dtype == KESTREL_DTYPE_BOOL)
    ((guint8 *) data)[i] = v != 0;
  else
    kestrel_op_store_int (dtype, data, i, kestrel_op_double_to_int (v));
}

void
kestrel_op_broadcast_strides (guint out_dims, const gint64 *out, guint in_dims, const gint64 *in,
                              gint64 *strides)
{
  gint64 stride = 1;

  for (gint d = (gint) out_dims - 1; d >= 0; d--)
    {
      gint id = d - ((gint) out_dims - (gint) in_dims);

      if (id < 0 || in[id] == 1)
        strides[d] = 0;
      else
        strides[d] = stride;
      if (id >= 0)
        stride *= in[id];
    }
  (void) out;
}

void
kestrel_op_im2col_rows (const KestrelIm2col *im, const void *x, gsize m0, gsize rows, void *out)
{
  /* Everything in locals: the copies store through pointers that may alias
   * *im as far as the compiler knows, and would make it reload the
   * geometry after every one of them. */
  const KestrelConvGeometry *g = im->geo;
  const gint64 kh = g->kernel[0], kw = g->kernel[1], sh = g->stride[0], sw = g->stride[1];
  const gint64 dh = g->dilation[0], dw = g->dilation[1], pt = g->pad_begin[0], pl = g->pad_begin[1];
  const gint64 in_h = g->in[0], in_w = g->in[1], out_h = g->out[0], out_w = g->out[1];
  const gsize pixel = im->cin * im->elem, run = kw * pixel, row_bytes = kh * run;
  const guint8 pad = im->pad_byte;
  /* The pixel is tracked as (img, oy, ox), not divided out per row. */
  gint64 ox = m0 % out_w, oy = (m0 / out_w) % out_h, img = m0 / (out_w * out_h);

  for (gsize r = 0; r < rows; r++)
    {
      const gint64 ix0 = ox * sw - pl;
      /* Inside the image with no dilation, a kernel row's taps are one
       * contiguous run of kw pixels: copied in one go. With few channels
       * (an RGB input layer) per-tap copies would dominate. */
      const gboolean cols_inside = dw == 1 && ix0 >= 0 && ix0 + kw <= in_w;
      const guint8 *image = (const guint8 *) x + img * in_h * in_w * pixel;
      guint8 *dst = (guint8 *) out + r * row_bytes;

      for (gint64 ky = 0; ky < kh; ky++, dst += run)
        {
          const gint64 iy = oy * sh - pt + ky * dh;

          if (iy < 0 || iy >= in_h)
            {
              memset (dst, pad, run);
              continue;
            }
          const guint8 *src = image + iy * in_w * pixel;
          if (cols_inside)
            {
              kestrel_op_copy_bytes (dst, src + ix0 * pixel, run);
              continue;
            }
          for (gint64 kx = 0; kx < kw; kx++)
            {
              const gint64 ix = ix0 + kx * dw;
              if (ix < 0 || ix >= in_w)
                memset (dst + kx * pixel, pad, pixel);
              else
                memcpy (dst + kx * pixel, src + ix * pixel, pixel);
            }
        }
      if (++ox == out_w)
        {
          ox = 0;
          if (++oy == out_h)
            {
              oy = 0;
              img++;
            }
        }
    }
}

gpointer
kestrel_op_weights_to_khwc (gconstpointer w, gsize elem, gint64 cout, gint64 cin, gint64 kh, gint64 kw)
{
  guint8 *out = g_malloc (cout * cin * kh * kw * elem);
  const guint8 *src = w;

  for (gint64 o = 0; o < cout; o++)
    for (gint64 c = 0; c < cin; c++)
      for (gint64 y = 0; y < kh; y++)
        for (gint64 xx = 0; xx < kw; xx++)
          memcpy (out + (((o * kh + y) * kw + xx) * cin + c) * elem,
                  src + (((o * cin + c) * kh + y) * kw + xx) * elem, elem);
  return out;
}
