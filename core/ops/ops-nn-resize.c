/* ops-nn-resize.c — Resize (opsets 10 and 11-17) and Upsample (7-9):
 * ONNX semantics, float32, any rank.
 *
 * Resizing is separable: each output coordinate on each axis reads a few
 * input positions (taps) with weights — 1 for nearest, 2 for linear, 4 for
 * cubic. prepare() computes those taps once per axis, in double precision
 * as the ONNX reference does; run() then sums, for each output element, the
 * products of the taps of every axis. Axes that are not resized collapse to
 * one tap of weight 1, so a 4-D NCHW bilinear resize costs 4 taps.
 *
 * Coordinates follow the ONNX reference implementation, including two
 * places where it is more specific than the operator text: the resized
 * length used by align_corners and friends is scale * input length (which
 * need not be whole when scales are given), and with tf_crop_and_resize an
 * output whose coordinate falls outside the input on any axis is
 * extrapolation_value.
 *
 * Resize-10 and Upsample have no coordinate_transformation_mode: they are
 * "asymmetric" (x_in = x_out / scale), and nearest takes floor(x_in), or
 * ceil(x_in) on an axis that is shrunk, as ONNX Runtime does for them.
 *
 * Why one file of more than 800 lines: one operator in four variants. The
 * attribute and input parsing (a third of it) decides the Config that the
 * tap computation and the row loop read and nothing else does; apart they
 * would share that struct through a header for no reader's benefit.
 */
#include "config.h"

#include "ops-nn.h"

#include <math.h>
#include <string.h>

#include "kestrel-error.h"

/* Taps of the axes other than the last are combined per output row on the
 * stack; 256 is 4 cubic taps on each of 4 axes. */
#define MAX_OUTER_TAPS 256

typedef enum {
  VARIANT_UPSAMPLE_7,   /* scales attribute */
  VARIANT_UPSAMPLE_9,   /* scales input 1 */
  VARIANT_RESIZE_10,    /* scales input 1 */
  VARIANT_RESIZE_11,    /* roi, scales, sizes inputs 1-3 */
} Variant;

typedef enum {
  MODE_NEAREST,
  MODE_LINEAR,
  MODE_CUBIC,
} Mode;

typedef enum {
  COORD_HALF_PIXEL,
  COORD_PYTORCH_HALF_PIXEL,
  COORD_ALIGN_CORNERS,
  COORD_ASYMMETRIC,
  COORD_TF_HALF_PIXEL_FOR_NN,
  COORD_TF_CROP_AND_RESIZE,
  COORD_HALF_PIXEL_SYMMETRIC,
} Coord;

typedef enum {
  NEAREST_ROUND_PREFER_FLOOR,
  NEAREST_ROUND_PREFER_CEIL,
  NEAREST_FLOOR,
  NEAREST_CEIL,
  NEAREST_OPSET_10,     /* floor, or ceil when shrinking */
} Nearest;

static const char *const mode_names[] = { "nearest", "linear", "cubic" };
static const char *const coord_names[] = {
  "half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn",
  "tf_crop_and_resize", "half_pixel_symmetric",
};
static const char *const nearest_names[] = {
  "round_prefer_floor", "round_prefer_ceil", "floor", "ceil",
};

/* A constant input as prepare() or infer() sees it; data NULL if absent. */
typedef struct {
  KestrelDType dtype;
  gsize n;
  gconstpointer data;
} ConstInput;

typedef struct {
  Mode mode;
  Coord coord;
  Nearest nearest;
  double cubic_a;
  gboolean exclude_outside;
  float extrapolation;
  guint n_dims;
  gint64 in[KESTREL_TENSOR_MAX_DIMS], out[KESTREL_TENSOR_MAX_DIMS];
  double scale[KESTREL_TENSOR_MAX_DIMS];
  /* The resized length the coordinate formulas divide by: scale * in,
   * rounded as the ONNX reference rounds it. */
  double length[KESTREL_TENSOR_MAX_DIMS];
  float roi_start[KESTREL_TENSOR_MAX_DIMS], roi_end[KESTREL_TENSOR_MAX_DIMS];
} Config;

static gboolean
parse_name (const KestrelNode *node, const char *attr, const char *fallback,
            const char *const *names, guint n_names, guint *out, GError **error)
{
  const char *value;
  g_autoptr(GString) expected = NULL;

  if (!kestrel_node_check_attr_type (node, attr, KESTREL_ATTR_STRING, error))
    return FALSE;
  value = kestrel_node_attr_string (node, attr, fallback);
  for (guint i = 0; i < n_names; i++)
    if (strcmp (value, names[i]) == 0)
      {
        *out = i;
        return TRUE;
      }
  expected = g_string_new (NULL);
  for (guint i = 0; i < n_names; i++)
    g_string_append_printf (expected, "%s%s", i == 0 ? "" : ", ", names[i]);
  kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                          "%s '%s' is not supported; expected one of %s", attr, value,
                          expected->str);
  return FALSE;
}

static gboolean
parse_scales (const KestrelNode *node, Config *c, const float *scales, gsize n, GError **error)
{
  if (n != c->n_dims)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "scales has %" G_GSIZE_FORMAT " values; expected %u, one per axis "
                              "of X", n, c->n_dims);
      return FALSE;
    }
  for (guint d = 0; d < c->n_dims; d++)
    {
      /* As the reference computes them: the size in double, the length
       * as float32 scale times the length. */
      double size = floor ((double) scales[d] * (double) c->in[d]);

      c->scale[d] = scales[d];
      c->length[d] = (double) (scales[d] * (float) c->in[d]);
      /* Checked as a double first: an infinite scale has no gint64 size. */
      c->out[d] = size >= 1.0 && size < (double) G_MAXINT32 ? (gint64) size : 0;
      if (!(scales[d] > 0.0f) || c->out[d] < 1)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "scale %g of axis %u must be positive and give between 1 and "
                                  "2^31 elements", (double) scales[d], d);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
parse_sizes (const KestrelNode *node, Config *c, const ConstInput *sizes, GError **error)
{
  if (sizes->n != c->n_dims
      || (sizes->dtype != KESTREL_DTYPE_INT64 && sizes->dtype != KESTREL_DTYPE_INT32))
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "sizes has %" G_GSIZE_FORMAT " %s values; expected %u int64, one "
                              "per axis of X", sizes->n, kestrel_dtype_get_name (sizes->dtype),
                              c->n_dims);
      return FALSE;
    }
  for (guint d = 0; d < c->n_dims; d++)
    {
      gint64 size = sizes->dtype == KESTREL_DTYPE_INT64 ? ((const gint64 *) sizes->data)[d]
                                                        : ((const gint32 *) sizes->data)[d];
      if (size < 1 || c->in[d] < 1)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "size %" G_GINT64_FORMAT " of axis %u (input %" G_GINT64_FORMAT
                                  ") must be positive", size, d, c->in[d]);
          return FALSE;
        }
      c->out[d] = size;
      c->scale[d] = (double) size / (double) c->in[d];
      c->length[d] = c->scale[d] * (double) c->in[d];
    }
  return TRUE;
}

/* Resize-18's axes attribute: scales or sizes (or roi pairs) for the listed
 * axes only. Spreads them over every axis into `full` (n_dims values, or
 * 2 * n_dims for roi), the others at `fill` (roi: 0 and 1). */
static gboolean
spread_axes (const KestrelNode *node, guint n_dims, const ConstInput *given, gboolean roi,
             const gint64 *fill, ConstInput *full, gpointer storage, GError **error)
{
  guint n_axes;
  const gint64 *axes = kestrel_node_attr_ints (node, "axes", &n_axes);
  gsize size = kestrel_dtype_get_size (given->dtype);
  guint per = roi ? 2 : 1;

  *full = *given;
  if (axes == NULL || given->data == NULL || given->n == 0)
    return TRUE;
  if (given->n != per * n_axes)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "%s has %" G_GSIZE_FORMAT " values for %u axes", roi ? "roi"
                              : "scales or sizes", given->n, n_axes);
      return FALSE;
    }
  for (guint d = 0; d < n_dims; d++)
    for (guint h = 0; h < per; h++)
      {
        if (given->dtype == KESTREL_DTYPE_FLOAT32)
          ((float *) storage)[h * n_dims + d] = roi ? (float) h : 1.0f;
        else
          kestrel_op_store_int (given->dtype, storage, d, fill[d]);
      }
  for (guint k = 0; k < n_axes; k++)
    {
      guint axis;
      if (!kestrel_op_axis (node, axes[k], n_dims, &axis, error))
        return FALSE;
      for (guint h = 0; h < per; h++)
        memcpy ((guint8 *) storage + (h * n_dims + axis) * size,
                (const guint8 *) given->data + (h * n_axes + k) * size, size);
    }
  full->data = storage;
  full->n = per * n_dims;
  return TRUE;
}

/* Resize-18's keep_aspect_ratio_policy with sizes: one scale for every
 * listed axis (the smallest for not_larger, the largest for not_smaller),
 * each size rounded from it. */
static gboolean
keep_aspect_ratio (const KestrelNode *node, Config *c, GError **error)
{
  const char *policy;
  guint n_axes, mask[KESTREL_TENSOR_MAX_DIMS] = { 0 };
  const gint64 *axes = kestrel_node_attr_ints (node, "axes", &n_axes);
  double scale;
  gboolean larger;

  if (!kestrel_node_check_attr_type (node, "keep_aspect_ratio_policy", KESTREL_ATTR_STRING,
                                     error))
    return FALSE;
  policy = kestrel_node_attr_string (node, "keep_aspect_ratio_policy", "stretch");
  if (strcmp (policy, "stretch") == 0)
    return TRUE;
  if (strcmp (policy, "not_larger") != 0 && strcmp (policy, "not_smaller") != 0)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "keep_aspect_ratio_policy '%s' is not stretch, not_larger or "
                              "not_smaller", policy);
      return FALSE;
    }
  larger = strcmp (policy, "not_smaller") == 0;
  for (guint d = 0; d < c->n_dims; d++)
    mask[d] = axes == NULL;
  for (guint k = 0; axes != NULL && k < n_axes; k++)
    mask[axes[k] < 0 ? axes[k] + c->n_dims : axes[k]] = TRUE;
  scale = larger ? 0.0 : G_MAXDOUBLE;
  for (guint d = 0; d < c->n_dims; d++)
    if (mask[d])
      scale = larger ? MAX (scale, c->scale[d]) : MIN (scale, c->scale[d]);
  for (guint d = 0; d < c->n_dims; d++)
    if (mask[d])
      {
        /* round_int in the operator text: halves round up. */
        c->out[d] = MAX ((gint64) floor (scale * (double) c->in[d] + 0.5), 1);
        c->scale[d] = scale;
        c->length[d] = scale * (double) c->in[d];
      }
  return TRUE;
}

/* inputs[i] is node input i (scales, roi, sizes as the variant has them). */
static gboolean
parse_config (const KestrelNode *node, Variant variant, guint n_dims, const gint64 *shape,
              const ConstInput *inputs, guint n_inputs, Config *c, GError **error)
{
  static const KestrelNnAttr attrs[] = {
    { "cubic_coeff_a", KESTREL_ATTR_FLOAT },
    { "exclude_outside", KESTREL_ATTR_INT },
    { "extrapolation_value", KESTREL_ATTR_FLOAT },
    { "scales", KESTREL_ATTR_FLOATS },
    { "antialias", KESTREL_ATTR_INT },
    { "axes", KESTREL_ATTR_INTS },
  };
  guint value;

  memset (c, 0, sizeof *c);
  c->n_dims = n_dims;
  memcpy (c->in, shape, n_dims * sizeof (gint64));
  if (n_dims < 1)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "input X is a scalar; expected rank 1 or more");
      return FALSE;
    }
  if (!kestrel_nn_check_attrs (node, attrs, G_N_ELEMENTS (attrs), error))
    return FALSE;

  if (variant != VARIANT_RESIZE_11)
    {
      const char *mode = kestrel_node_attr_string (node, "mode", "nearest");
      if (!kestrel_node_check_attr_type (node, "mode", KESTREL_ATTR_STRING, error))
        return FALSE;
      /* Upsample-7 still knew linear as "bilinear" in some exporters. */
      if (strcmp (mode, "nearest") == 0)
        c->mode = MODE_NEAREST;
      else if (strcmp (mode, "linear") == 0 || strcmp (mode, "bilinear") == 0)
        c->mode = MODE_LINEAR;
      else
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                                  "mode '%s' is not supported; expected nearest or linear", mode);
          return FALSE;
        }
      c->coord = COORD_ASYMMETRIC;
      c->nearest = NEAREST_OPSET_10;

      if (variant == VARIANT_UPSAMPLE_7)
        {
          guint n;
          const float *scales = kestrel_node_attr_floats (node, "scales", &n);
          if (scales == NULL)
            {
              kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                      "the attribute scales is required");
              return FALSE;
            }
          return parse_scales (node, c, scales, n, error);
        }
      if (n_inputs < 2 || inputs[1].data == NULL || inputs[1].dtype != KESTREL_DTYPE_FLOAT32)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "input 1 (scales) must be a float32 constant");
          return FALSE;
        }
      return parse_scales (node, c, inputs[1].data, inputs[1].n, error);
    }

  if (!parse_name (node, "mode", "nearest", mode_names, G_N_ELEMENTS (mode_names), &value, error))
    return FALSE;
  c->mode = value;
  if (!parse_name (node, "coordinate_transformation_mode", "half_pixel", coord_names,
                   G_N_ELEMENTS (coord_names), &value, error))
    return FALSE;
  c->coord = value;
  if (!parse_name (node, "nearest_mode", "round_prefer_floor", nearest_names,
                   G_N_ELEMENTS (nearest_names), &value, error))
    return FALSE;
  c->nearest = value;
  c->cubic_a = kestrel_node_attr_float (node, "cubic_coeff_a", -0.75f);
  c->exclude_outside = kestrel_node_attr_int (node, "exclude_outside", 0) != 0;
  c->extrapolation = kestrel_node_attr_float (node, "extrapolation_value", 0.0f);

  {
    static const ConstInput none = { 0 };
    ConstInput full[4];
    float roi_storage[2 * KESTREL_TENSOR_MAX_DIMS], scale_storage[KESTREL_TENSOR_MAX_DIMS];
    gint64 size_storage[KESTREL_TENSOR_MAX_DIMS];
    const ConstInput *roi, *scales, *sizes;
    gboolean have_scales, have_sizes;

    /* Resize-18's axes: spread the given values over every axis. */
    if (!spread_axes (node, n_dims, n_inputs > 1 ? &inputs[1] : &none, TRUE, NULL, &full[1],
                      roi_storage, error)
        || !spread_axes (node, n_dims, n_inputs > 2 ? &inputs[2] : &none, FALSE, NULL, &full[2],
                         scale_storage, error)
        || !spread_axes (node, n_dims, n_inputs > 3 ? &inputs[3] : &none, FALSE, shape,
                         &full[3], size_storage, error))
      return FALSE;
    roi = &full[1];
    scales = &full[2];
    sizes = &full[3];
    have_scales = scales != NULL && scales->data != NULL && scales->n > 0;
    have_sizes = sizes != NULL && sizes->data != NULL && sizes->n > 0;

    if (have_scales == have_sizes)
      {
        kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                "exactly one of scales (input 2) and sizes (input 3) must be "
                                "given, as a constant");
        return FALSE;
      }
    if (have_scales)
      {
        if (scales->dtype != KESTREL_DTYPE_FLOAT32)
          {
            kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                    "scales is %s; expected float32",
                                    kestrel_dtype_get_name (scales->dtype));
            return FALSE;
          }
        if (!parse_scales (node, c, scales->data, scales->n, error))
          return FALSE;
      }
    else if (!parse_sizes (node, c, sizes, error) || !keep_aspect_ratio (node, c, error))
      return FALSE;

    /* Antialiasing widens the filter when shrinking; Kestrel does not
     * have that filter, and without shrinking it changes nothing. */
    if (kestrel_node_attr_int (node, "antialias", 0) != 0 && c->mode != MODE_NEAREST)
      for (guint d = 0; d < n_dims; d++)
        if (c->scale[d] < 1.0)
          {
            kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                                    "antialias = 1 when shrinking (axis %u, scale %g) is not "
                                    "supported", d, c->scale[d]);
            return FALSE;
          }

    if (c->coord == COORD_TF_CROP_AND_RESIZE)
      {
        if (roi == NULL || roi->data == NULL || roi->n != 2 * n_dims
            || roi->dtype != KESTREL_DTYPE_FLOAT32)
          {
            kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                    "tf_crop_and_resize needs roi (input 1) as a float32 "
                                    "constant of %u values", 2 * n_dims);
            return FALSE;
          }
        for (guint d = 0; d < n_dims; d++)
          {
            c->roi_start[d] = ((const float *) roi->data)[d];
            c->roi_end[d] = ((const float *) roi->data)[n_dims + d];
          }
      }
  }
  return TRUE;
}

/* ---- taps ------------------------------------------------------------------ */

/* Where output position o of axis d samples the input, in input
 * coordinates; *outside when tf_crop_and_resize falls off the input. */
static double
source_coordinate (const Config *c, guint d, gint64 o, gboolean *outside)
{
  double in = (double) c->in[d], scale = c->scale[d], length = c->length[d];
  double x = (double) o;

  *outside = FALSE;
  switch (c->coord)
    {
    case COORD_HALF_PIXEL:
      return (x + 0.5) / scale - 0.5;
    case COORD_PYTORCH_HALF_PIXEL:
      return length > 1.0 ? (x + 0.5) / scale - 0.5 : 0.0;
    case COORD_ALIGN_CORNERS:
      return length == 1.0 ? 0.0 : x * (in - 1.0) / (length - 1.0);
    case COORD_ASYMMETRIC:
      return x / scale;
    case COORD_TF_HALF_PIXEL_FOR_NN:
      return (x + 0.5) / scale;
    case COORD_HALF_PIXEL_SYMMETRIC:
      {
        /* Opset 19: half_pixel, shifted so that the whole output stays
         * centred on the input when its length was rounded. */
        double adjustment = (double) c->out[d] / length;
        return in / 2.0 * (1.0 - adjustment) + (x + 0.5) / scale - 0.5;
      }
    case COORD_TF_CROP_AND_RESIZE:
    default:
      {
        /* The reference subtracts the roi bounds and scales the start in
         * float32; the rest is double. */
        float span = c->roi_end[d] - c->roi_start[d];
        float start = c->roi_start[d] * (float) (c->in[d] - 1);
        double v = length == 1.0 ? (double) span * (in - 1.0) / 2.0
                                 : x * (double) span * (in - 1.0) / (length - 1.0);
        v += (double) start;
        *outside = v < 0.0 || v > in - 1.0;
        return v;
      }
    }
}

static void
cubic_coefficients (double r, double a, double *coeffs)
{
  double s = 1.0 - r;

  coeffs[0] = ((a * (r + 1.0) - 5.0 * a) * (r + 1.0) + 8.0 * a) * (r + 1.0) - 4.0 * a;
  coeffs[1] = ((a + 2.0) * r - (a + 3.0)) * r * r + 1.0;
  coeffs[2] = ((a + 2.0) * s - (a + 3.0)) * s * s + 1.0;
  coeffs[3] = ((a * (s + 1.0) - 5.0 * a) * (s + 1.0) + 8.0 * a) * (s + 1.0) - 4.0 * a;
}

/* Fills n_taps (1, 2 or 4) taps of output position o on axis d: input
 * indices (clamped to the axis, as edge padding does) and weights. */
static guint
axis_taps (const Config *c, guint d, gint64 o, gint64 *index, double *weight, gboolean *outside)
{
  gint64 n = c->in[d];
  double x = source_coordinate (c, d, o, outside);
  double fl = floor (x), r = x - fl;
  gint64 i0 = (gint64) fl;

  if (c->mode == MODE_NEAREST)
    {
      gint64 i;
      if (c->nearest == NEAREST_OPSET_10)
        i = c->scale[d] < 1.0 ? (gint64) ceil (x) : i0;
      else if (r == 0.0)
        i = i0;
      else
        switch (c->nearest)
          {
          case NEAREST_ROUND_PREFER_FLOOR:
            i = r <= 0.5 ? i0 : i0 + 1;
            break;
          case NEAREST_ROUND_PREFER_CEIL:
            i = r < 0.5 ? i0 : i0 + 1;
            break;
          case NEAREST_FLOOR:
            i = i0;
            break;
          case NEAREST_CEIL:
          default:
            i = i0 + 1;
            break;
          }
      index[0] = CLAMP (i, 0, n - 1);
      weight[0] = 1.0;
      return 1;
    }

  /* The left neighbour of a whole coordinate is the one before it, with
   * ratio 1 (the reference prefers the lower index on ties). */
  if (r == 0.0)
    {
      i0--;
      r = 1.0;
    }
  if (c->mode == MODE_LINEAR)
    {
      index[0] = CLAMP (i0, 0, n - 1);
      index[1] = CLAMP (i0 + 1, 0, n - 1);
      weight[0] = 1.0 - r;
      weight[1] = r;
      return 2;
    }

  cubic_coefficients (r, c->cubic_a, weight);
  if (c->exclude_outside)
    {
      double sum = 0.0;
      for (guint t = 0; t < 4; t++)
        {
          gint64 i = i0 - 1 + t;
          if (i < 0 || i >= n)
            weight[t] = 0.0;
          sum += weight[t];
        }
      for (guint t = 0; t < 4; t++)
        weight[t] /= sum;
    }
  for (guint t = 0; t < 4; t++)
    index[t] = CLAMP (i0 - 1 + (gint64) t, 0, n - 1);
  return 4;
}

typedef struct {
  guint n_dims;
  gint64 out[KESTREL_TENSOR_MAX_DIMS];
  guint n_taps[KESTREL_TENSOR_MAX_DIMS];
  /* Per axis, out[d] * n_taps[d] element offsets (index * stride of the
   * axis) and weights; outside[d] (out[d] flags) only for tf_crop_and_resize. */
  gint64 *offset[KESTREL_TENSOR_MAX_DIMS];
  float *weight[KESTREL_TENSOR_MAX_DIMS];
  guint8 *outside[KESTREL_TENSOR_MAX_DIMS];
  float extrapolation;
  gint64 n_rows;
  /* The last axis is not resized (each output copies the input at its own
   * index: an NHWC map resized in H and W), so a row is a weighted sum of
   * whole input rows: see sum_rows(). Used by the SIMD levels. */
  gboolean last_copies;
  /* Every axis takes one input at weight 1 (nearest, or no resize), and
   * none is outside: each output is a copy of one input, at every level,
   * so a -0 stays -0 as ONNX's nearest copy keeps it. */
  gboolean copies;
} ResizeState;

static void
resize_state_free (gpointer data)
{
  ResizeState *s = data;

  for (guint d = 0; d < KESTREL_TENSOR_MAX_DIMS; d++)
    {
      g_free (s->offset[d]);
      g_free (s->weight[d]);
      g_free (s->outside[d]);
    }
  g_free (s);
}

static ResizeState *
resize_state_new (const Config *c)
{
  ResizeState *s = g_new0 (ResizeState, 1);
  gint64 stride[KESTREL_TENSOR_MAX_DIMS];

  s->n_dims = c->n_dims;
  s->extrapolation = c->extrapolation;
  memcpy (s->out, c->out, sizeof s->out);
  kestrel_shape_strides (c->n_dims, c->in, stride);
  s->n_rows = kestrel_shape_product (c->out, 0, c->n_dims - 1);

  for (guint d = 0; d < c->n_dims; d++)
    {
      guint max_taps = c->mode == MODE_NEAREST ? 1 : c->mode == MODE_LINEAR ? 2 : 4;
      gboolean single = TRUE;
      g_autofree gint64 *index = g_new (gint64, c->out[d] * max_taps);
      g_autofree double *weight = g_new (double, c->out[d] * max_taps);

      if (c->coord == COORD_TF_CROP_AND_RESIZE)
        s->outside[d] = g_new0 (guint8, c->out[d]);
      for (gint64 o = 0; o < c->out[d]; o++)
        {
          gboolean outside;
          guint n = axis_taps (c, d, o, index + o * max_taps, weight + o * max_taps, &outside);
          guint ones = 0, zeros = 0;

          if (s->outside[d] != NULL)
            s->outside[d][o] = outside;
          for (guint t = 0; t < n; t++)
            {
              ones += weight[o * max_taps + t] == 1.0;
              zeros += weight[o * max_taps + t] == 0.0;
            }
          single = single && ones == 1 && zeros == n - 1;
        }

      /* An axis where every output copies one input (not resized, or
       * sampled exactly on input positions) needs one tap, not four. */
      s->n_taps[d] = single ? 1 : max_taps;
      s->offset[d] = g_new (gint64, c->out[d] * s->n_taps[d]);
      s->weight[d] = g_new (float, c->out[d] * s->n_taps[d]);
      for (gint64 o = 0; o < c->out[d]; o++)
        {
          guint k = 0;
          for (guint t = 0; t < max_taps; t++)
            if (!single || weight[o * max_taps + t] == 1.0)
              {
                s->offset[d][o * s->n_taps[d] + k] = index[o * max_taps + t] * stride[d];
                s->weight[d][o * s->n_taps[d] + k] = (float) weight[o * max_taps + t];
                k++;
              }
        }
    }

  s->copies = TRUE;
  for (guint d = 0; d < c->n_dims; d++)
    {
      s->copies = s->copies && s->n_taps[d] == 1 && s->outside[d] == NULL;
      for (gint64 o = 0; s->copies && o < c->out[d]; o++)
        s->copies = s->weight[d][o] == 1.0f;
    }

  guint last = c->n_dims - 1;
  s->last_copies = s->n_taps[last] == 1 && s->outside[last] == NULL && c->out[last] == c->in[last];
  for (gint64 o = 0; s->last_copies && o < c->out[last]; o++)
    s->last_copies = s->offset[last][o] == o && s->weight[last][o] == 1.0f;
  return s;
}

/* out = 0 + w[0] * rows[0] + w[1] * rows[1] + ..., element by element, in
 * that order: the same sums as the general loop of resize_rows() (its
 * inner sum over the last axis's one tap is the input value itself, and
 * with a +0 start the sign of a zero product cannot differ), so the same
 * bits, eight lanes at a time with GCC/Clang vector types. */
typedef float Lanes8 __attribute__ ((vector_size (32)));

static void
sum_rows (float *restrict out, const float *restrict x, const gint64 *offset, const float *weight,
          guint n_rows, gint64 n)
{
  gint64 i = 0;

  for (; i + 8 <= n; i += 8)
    {
      Lanes8 acc = { 0 };
      for (guint k = 0; k < n_rows; k++)
        {
          Lanes8 v;
          memcpy (&v, x + offset[k] + i, sizeof v);
          acc += weight[k] * v;
        }
      memcpy (out + i, &acc, sizeof acc);
    }
  for (; i < n; i++)
    {
      float acc = 0.0f;
      for (guint k = 0; k < n_rows; k++)
        acc += weight[k] * x[offset[k] + i];
      out[i] = acc;
    }
}

static void
resize_rows (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const ResizeState *s = step->state;
  const float *x = step->inputs[0].data;
  float *y = step->outputs[0].data;
  guint last = s->n_dims - 1;
  gint64 w_out = s->out[last];
  guint last_taps = s->n_taps[last];
  gint64 combo_offset[MAX_OUTER_TAPS];
  float combo_weight[MAX_OUTER_TAPS];

  for (gsize row = begin; row < end; row++)
    {
      float *out = y + (gint64) row * w_out;
      gint64 index[KESTREL_TENSOR_MAX_DIMS], rest = (gint64) row;
      gboolean outside = FALSE;
      guint n_combos = 1;

      for (guint d = last; d-- > 0;)
        {
          index[d] = rest % s->out[d];
          rest /= s->out[d];
          outside = outside || (s->outside[d] != NULL && s->outside[d][index[d]]);
        }
      if (outside)
        {
          for (gint64 ow = 0; ow < w_out; ow++)
            out[ow] = s->extrapolation;
          continue;
        }

      /* Every combination of the outer axes' taps, axis 0 slowest. */
      combo_offset[0] = 0;
      combo_weight[0] = 1.0f;
      for (guint d = 0; d < last; d++)
        {
          guint n = s->n_taps[d];
          const gint64 *offs = s->offset[d] + index[d] * n;
          const float *wts = s->weight[d] + index[d] * n;
          for (guint k = n_combos; k-- > 0;)
            for (guint t = n; t-- > 0;)
              {
                combo_offset[k * n + t] = combo_offset[k] + offs[t];
                combo_weight[k * n + t] = combo_weight[k] * wts[t];
              }
          n_combos *= n;
        }

      if (s->copies)
        {
          const float *xr = x + combo_offset[0];
          const gint64 *offs = s->offset[last];

          if (s->last_copies)
            memcpy (out, xr, (gsize) w_out * sizeof (float));
          else
            for (gint64 ow = 0; ow < w_out; ow++)
              out[ow] = xr[offs[ow]];
          continue;
        }
      if (s->last_copies && step->kernels->isa != KK_ISA_SCALAR)
        {
          sum_rows (out, x, combo_offset, combo_weight, n_combos, w_out);
          continue;
        }
      for (gint64 ow = 0; ow < w_out; ow++)
        {
          const gint64 *offs = s->offset[last] + ow * last_taps;
          const float *wts = s->weight[last] + ow * last_taps;
          float acc = 0.0f;

          if (s->outside[last] != NULL && s->outside[last][ow])
            {
              out[ow] = s->extrapolation;
              continue;
            }
          for (guint k = 0; k < n_combos; k++)
            {
              const float *xc = x + combo_offset[k];
              float inner = 0.0f;
              for (guint t = 0; t < last_taps; t++)
                inner += wts[t] * xc[offs[t]];
              acc += combo_weight[k] * inner;
            }
          out[ow] = acc;
        }
    }
}

static void
resize_run (const KestrelStep *step)
{
  const ResizeState *s = step->state;

  kestrel_step_parallel_for (step, s->n_rows, resize_rows, (gpointer) step);
}

/* ---- infer / prepare ---------------------------------------------------------- */

static guint
variant_max_inputs (Variant variant)
{
  switch (variant)
    {
    case VARIANT_UPSAMPLE_7:
      return 1;
    case VARIANT_UPSAMPLE_9:
    case VARIANT_RESIZE_10:
      return 2;
    case VARIANT_RESIZE_11:
    default:
      return 4;
    }
}

static gboolean
check_outer_taps (const KestrelNode *node, const Config *c, GError **error)
{
  guint taps = c->mode == MODE_NEAREST ? 1 : c->mode == MODE_LINEAR ? 2 : 4;
  guint64 combos = 1;

  /* Axes that keep their size are counted as one tap (they usually
   * collapse to one), so this only refuses resizing many axes at once. */
  for (guint d = 0; d + 1 < c->n_dims; d++)
    if (c->out[d] != c->in[d] || c->scale[d] != 1.0)
      combos *= taps;
  if (combos <= MAX_OUTER_TAPS)
    return TRUE;
  kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                          "resizing this many axes at once (%" G_GUINT64_FORMAT " tap "
                          "combinations) is not supported; at most %d", combos, MAX_OUTER_TAPS);
  return FALSE;
}

static gboolean
resize_infer_common (KestrelGraph *graph, KestrelNode *node, Variant variant, GError **error)
{
  guint max_inputs = variant_max_inputs (variant);
  guint min_inputs = variant == VARIANT_RESIZE_11 ? 1 : max_inputs;
  ConstInput inputs[4] = { { 0 } };
  const KestrelValue *x;
  Config c;

  if (!kestrel_op_check_arity (node, min_inputs, max_inputs, 1, error)
      || (x = kestrel_op_input (graph, node, 0, error)) == NULL
      || !kestrel_op_check_float (node, 0, x, error))
    return FALSE;
  for (guint i = 1; i < kestrel_node_n_inputs (node); i++)
    {
      const KestrelValue *value = kestrel_graph_value (graph, kestrel_node_input (node, i));
      if (value == NULL)
        continue;
      /* roi only matters to tf_crop_and_resize, and parse_config() says
       * so if that mode lacks it. */
      if (value->constant == NULL && variant == VARIANT_RESIZE_11 && i == 1)
        continue;
      if (value->constant == NULL)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                                  "input %u ('%s') must be a constant: Kestrel needs the output "
                                  "size when the plan is built", i, value->name);
          return FALSE;
        }
      inputs[i].dtype = kestrel_tensor_get_dtype (value->constant);
      inputs[i].n = kestrel_tensor_get_n_elements (value->constant);
      inputs[i].data = kestrel_tensor_get_data (value->constant);
    }
  if (!parse_config (node, variant, x->n_dims, x->shape, inputs, kestrel_node_n_inputs (node), &c,
                     error)
      || !check_outer_taps (node, &c, error))
    return FALSE;
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_FLOAT32, x->n_dims, c.out);
  return TRUE;
}

static gboolean
resize_prepare_common (KestrelStep *step, Variant variant, GError **error)
{
  ConstInput inputs[4] = { { 0 } };
  ResizeState *s;
  guint64 combos = 1;
  Config c;

  for (guint i = 1; i < step->n_inputs && i < 4; i++)
    {
      inputs[i].dtype = step->inputs[i].dtype;
      inputs[i].n = step->inputs[i].n_elements;
      inputs[i].data = step->inputs[i].data;
    }
  if (!parse_config (step->node, variant, step->inputs[0].n_dims, step->inputs[0].shape, inputs,
                     step->n_inputs, &c, error))
    return FALSE;
  step->state = s = resize_state_new (&c);
  step->free_state = resize_state_free;
  /* infer() estimated this; the real count decides the stack arrays. */
  for (guint d = 0; d + 1 < s->n_dims; d++)
    combos *= s->n_taps[d];
  if (combos > MAX_OUTER_TAPS)
    {
      kestrel_node_set_error (error, step->node, KESTREL_ERROR_UNSUPPORTED,
                              "resizing this many axes at once (%" G_GUINT64_FORMAT " tap "
                              "combinations) is not supported; at most %d", combos,
                              MAX_OUTER_TAPS);
      return FALSE;
    }
  return TRUE;
}

#define DEFINE_VARIANT(name, variant)                                              \
  static gboolean                                                                  \
  name##_infer (KestrelGraph *graph, KestrelNode *node, GError **error)             \
  {                                                                                \
    return resize_infer_common (graph, node, variant, error);                      \
  }                                                                                \
  static gboolean                                                                  \
  name##_prepare (KestrelStep *step, GError **error)                               \
  {                                                                                \
    return resize_prepare_common (step, variant, error);                           \
  }

DEFINE_VARIANT (upsample_7, VARIANT_UPSAMPLE_7)
DEFINE_VARIANT (upsample_9, VARIANT_UPSAMPLE_9)
DEFINE_VARIANT (resize_10, VARIANT_RESIZE_10)
DEFINE_VARIANT (resize_11, VARIANT_RESIZE_11)

const KestrelOpDef kestrel_op_upsample_7 = {
  .domain = "",
  .op_type = "Upsample",
  .min_opset = 7,
  .max_opset = 8,
  .infer = upsample_7_infer,
  .prepare = upsample_7_prepare,
  .run = resize_run,
};

/* Upsample-10 is the same operator, deprecated in favour of Resize. */
const KestrelOpDef kestrel_op_upsample_9 = {
  .domain = "",
  .op_type = "Upsample",
  .min_opset = 9,
  .max_opset = 10,
  .infer = upsample_9_infer,
  .prepare = upsample_9_prepare,
  .run = resize_run,
};

const KestrelOpDef kestrel_op_resize_10 = {
  .domain = "",
  .op_type = "Resize",
  .min_opset = 10,
  .max_opset = 10,
  .infer = resize_10_infer,
  .prepare = resize_10_prepare,
  .run = resize_run,
};

/* Resize-13 made roi and scales optional (both accepted here from 11 on);
 * -18 added antialias (refused when it would filter), axes and
 * keep_aspect_ratio_policy, -19 half_pixel_symmetric. */
const KestrelOpDef kestrel_op_resize_11 = {
  .domain = "",
  .op_type = "Resize",
  .min_opset = 11,
  .max_opset = 21,
  .infer = resize_11_infer,
  .prepare = resize_11_prepare,
  .run = resize_run,
};
