/* ops-nn-sample.c — operators that read a feature map at computed places:
 * GridSample, RoiAlign and MaxUnpool. float32, NCHW.
 *
 *   GridSample (16-21): X [N, C, H, W] sampled at grid [N, Ho, Wo, 2] of
 *     (x, y) in [-1, 1]; modes bilinear / nearest / bicubic (opset 20's
 *     names linear / cubic too), padding zeros / border / reflection, as
 *     PyTorch's grid_sample defines them (the reference the ONNX operator
 *     was written from). 4-D only.
 *   RoiAlign (10-21): average (or max) of bilinear samples in each bin of
 *     each region, as ONNX Runtime computes it; opset 16's
 *     coordinate_transformation_mode half_pixel shifts by half a pixel
 *     (opset 10 had output_half_pixel only). Region batch indices are data:
 *     one outside [0, N) gives a zero region rather than a read outside X.
 *   MaxUnpool (9-21): scatters X into zeros at MaxPool's flat indices,
 *     which count positions of the shape the pooling attributes give; a
 *     constant output_shape input may ask for a larger output, where each
 *     lands at the same coordinates. An index outside is dropped.
 */
#include "config.h"

#include "ops-nn.h"

#include <math.h>
#include <string.h>

#include "kestrel-error.h"

/* ---- GridSample -------------------------------------------------------------- */

typedef enum { GS_BILINEAR, GS_NEAREST, GS_BICUBIC } GsMode;
typedef enum { GS_ZEROS, GS_BORDER, GS_REFLECTION } GsPadding;

typedef struct {
  GsMode mode;
  GsPadding padding;
  gboolean align_corners;
  gint64 n, c, h, w, ho, wo;
} GsState;

static gboolean
grid_sample_params (const KestrelNode *node, GsState *st, GError **error)
{
  const char *mode, *padding;

  if (!kestrel_node_check_attr_type (node, "mode", KESTREL_ATTR_STRING, error)
      || !kestrel_node_check_attr_type (node, "padding_mode", KESTREL_ATTR_STRING, error)
      || !kestrel_node_check_attr_type (node, "align_corners", KESTREL_ATTR_INT, error))
    return FALSE;
  mode = kestrel_node_attr_string (node, "mode", "bilinear");
  padding = kestrel_node_attr_string (node, "padding_mode", "zeros");
  if (strcmp (mode, "bilinear") == 0 || strcmp (mode, "linear") == 0)
    st->mode = GS_BILINEAR;
  else if (strcmp (mode, "nearest") == 0)
    st->mode = GS_NEAREST;
  else if (strcmp (mode, "bicubic") == 0 || strcmp (mode, "cubic") == 0)
    st->mode = GS_BICUBIC;
  else
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "mode '%s' is not bilinear, nearest or bicubic", mode);
      return FALSE;
    }
  if (strcmp (padding, "zeros") == 0)
    st->padding = GS_ZEROS;
  else if (strcmp (padding, "border") == 0)
    st->padding = GS_BORDER;
  else if (strcmp (padding, "reflection") == 0)
    st->padding = GS_REFLECTION;
  else
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "padding_mode '%s' is not zeros, border or reflection", padding);
      return FALSE;
    }
  st->align_corners = kestrel_node_attr_int (node, "align_corners", 0) != 0;
  return TRUE;
}

static gboolean
grid_sample_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x, *grid;
  GsState st;
  gint64 out[4];

  if (!kestrel_op_check_arity (node, 2, 2, 1, error)
      || !grid_sample_params (node, &st, error)
      || (x = kestrel_op_input (graph, node, 0, error)) == NULL
      || !kestrel_op_check_float (node, 0, x, error)
      || (grid = kestrel_op_input (graph, node, 1, error)) == NULL
      || !kestrel_op_check_float (node, 1, grid, error))
    return FALSE;
  if (x->n_dims != 4 || grid->n_dims != 4 || grid->shape[0] != x->shape[0] || grid->shape[3] != 2)
    {
      g_autofree char *xs = kestrel_shape_to_string (x->n_dims, x->shape);
      g_autofree char *gs = kestrel_shape_to_string (grid->n_dims, grid->shape);
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "X %s and grid %s are not [N, C, H, W] and [N, Ho, Wo, 2] (Kestrel "
                              "samples 2-D maps only)", xs, gs);
      return FALSE;
    }
  out[0] = x->shape[0];
  out[1] = x->shape[1];
  out[2] = grid->shape[1];
  out[3] = grid->shape[2];
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_FLOAT32, 4, out);
  return TRUE;
}

static gboolean
grid_sample_prepare (KestrelStep *step, GError **error)
{
  GsState *st = g_new0 (GsState, 1);

  if (!grid_sample_params (step->node, st, error))
    {
      g_free (st);
      return FALSE;
    }
  st->n = step->inputs[0].shape[0];
  st->c = step->inputs[0].shape[1];
  st->h = step->inputs[0].shape[2];
  st->w = step->inputs[0].shape[3];
  st->ho = step->inputs[1].shape[1];
  st->wo = step->inputs[1].shape[2];
  step->state = st;
  step->free_state = g_free;
  return TRUE;
}

static double
gs_unnormalize (const GsState *st, double coord, gint64 size)
{
  return st->align_corners ? (coord + 1.0) / 2.0 * (double) (size - 1)
                           : ((coord + 1.0) * (double) size - 1.0) / 2.0;
}

/* Reflects into [twice_low / 2, twice_high / 2]. */
static double
gs_reflect (double x, double twice_low, double twice_high)
{
  double min, span, extra, flips;

  if (twice_low == twice_high)
    return 0.0;
  min = twice_low / 2.0;
  span = (twice_high - twice_low) / 2.0;
  x = fabs (x - min);
  extra = fmod (x, span);
  flips = floor (x / span);
  return fmod (flips, 2.0) == 0.0 ? extra + min : span - extra + min;
}

/* The padding mode applied to a source coordinate. */
static double
gs_compute (const GsState *st, double x, gint64 size)
{
  if (st->padding == GS_BORDER)
    return CLAMP (x, 0.0, (double) (size - 1));
  if (st->padding == GS_REFLECTION)
    {
      x = st->align_corners ? gs_reflect (x, 0.0, 2.0 * (double) (size - 1))
                            : gs_reflect (x, -1.0, 2.0 * (double) size - 1.0);
      return CLAMP (x, 0.0, (double) (size - 1));
    }
  return x;
}

static inline double
gs_pixel (const GsState *st, const float *plane, gint64 y, gint64 x)
{
  return y >= 0 && y < st->h && x >= 0 && x < st->w ? (double) plane[y * st->w + x] : 0.0;
}

/* Bicubic taps read the padding mode at whole positions. */
static inline double
gs_pixel_bounded (const GsState *st, const float *plane, gint64 y, gint64 x)
{
  double yy = gs_compute (st, (double) y, st->h), xx = gs_compute (st, (double) x, st->w);

  return gs_pixel (st, plane, (gint64) yy, (gint64) xx);
}

static void
gs_cubic (double t, double *c)
{
  const double a = -0.75;
  double x;

  x = t + 1.0;
  c[0] = ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a;
  x = t;
  c[1] = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  x = 1.0 - t;
  c[2] = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  x = 2.0 - t;
  c[3] = ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a;
}

static void
grid_sample_planes (gsize begin, gsize end, guint worker G_GNUC_UNUSED, gpointer user_data)
{
  const KestrelStep *step = user_data;
  const GsState *st = step->state;
  const float *x = step->inputs[0].data, *grid = step->inputs[1].data;
  float *y = step->outputs[0].data;

  for (gsize p = begin; p < end; p++)
    {
      gint64 n = (gint64) p / st->c;
      const float *plane = x + p * st->h * st->w;
      const float *g = grid + n * st->ho * st->wo * 2;
      float *out = y + p * st->ho * st->wo;

      for (gint64 i = 0; i < st->ho * st->wo; i++)
        {
          double gx = gs_unnormalize (st, (double) g[2 * i], st->w);
          double gy = gs_unnormalize (st, (double) g[2 * i + 1], st->h);
          double v = 0.0;

          if (st->mode == GS_BICUBIC)
            {
              double fx = floor (gx), fy = floor (gy), cx[4], cy[4];
              gs_cubic (gx - fx, cx);
              gs_cubic (gy - fy, cy);
              for (gint r = 0; r < 4; r++)
                for (gint k = 0; k < 4; k++)
                  v += cy[r] * cx[k]
                       * gs_pixel_bounded (st, plane, (gint64) fy - 1 + r, (gint64) fx - 1 + k);
            }
          else
            {
              gx = gs_compute (st, gx, st->w);
              gy = gs_compute (st, gy, st->h);
              if (st->mode == GS_NEAREST)
                v = gs_pixel (st, plane, (gint64) nearbyint (gy), (gint64) nearbyint (gx));
              else
                {
                  double fx = floor (gx), fy = floor (gy), lx = gx - fx, ly = gy - fy;
                  gint64 x0 = (gint64) fx, y0 = (gint64) fy;
                  v = (1 - ly) * ((1 - lx) * gs_pixel (st, plane, y0, x0)
                                  + lx * gs_pixel (st, plane, y0, x0 + 1))
                      + ly * ((1 - lx) * gs_pixel (st, plane, y0 + 1, x0)
                              + lx * gs_pixel (st, plane, y0 + 1, x0 + 1));
                }
            }
          out[i] = (float) v;
        }
    }
}

static void
grid_sample_run (const KestrelStep *step)
{
  const GsState *st = step->state;

  kestrel_step_parallel_for (step, st->n * st->c, grid_sample_planes, (gpointer) step);
}

const KestrelOpDef kestrel_op_grid_sample = {
  .domain = "",
  .op_type = "GridSample",
  .min_opset = 16,
  .max_opset = 21,
  .infer = grid_sample_infer,
  .prepare = grid_sample_prepare,
  .run = grid_sample_run,
};

/* ---- RoiAlign ------------------------------------------------------------------ */

/* Bounds on the samples a bin takes, so one step's work stays bounded
 * whatever the model or its inputs say (see roi_grid). Real models use a
 * sampling_ratio of 0 (adaptive) or a few. */
#define ROI_MAX_SAMPLING_RATIO 1024
#define ROI_MAX_EXTENT_PLANES 4.0

typedef struct {
  gboolean max_mode, half_pixel;
  gint64 out_h, out_w, sampling;
  float scale;
  gint64 n, c, h, w, rois;
} RoiState;

static gboolean
roi_params (const KestrelNode *node, gint64 opset, RoiState *st, GError **error)
{
  const char *mode, *coord;

  if (!kestrel_node_check_attr_type (node, "mode", KESTREL_ATTR_STRING, error)
      || !kestrel_node_check_attr_type (node, "coordinate_transformation_mode",
                                        KESTREL_ATTR_STRING, error)
      || !kestrel_node_check_attr_type (node, "output_height", KESTREL_ATTR_INT, error)
      || !kestrel_node_check_attr_type (node, "output_width", KESTREL_ATTR_INT, error)
      || !kestrel_node_check_attr_type (node, "sampling_ratio", KESTREL_ATTR_INT, error)
      || !kestrel_node_check_attr_type (node, "spatial_scale", KESTREL_ATTR_FLOAT, error))
    return FALSE;
  mode = kestrel_node_attr_string (node, "mode", "avg");
  coord = kestrel_node_attr_string (node, "coordinate_transformation_mode",
                                    opset >= 16 ? "half_pixel" : "output_half_pixel");
  if ((strcmp (mode, "avg") != 0 && strcmp (mode, "max") != 0)
      || (strcmp (coord, "half_pixel") != 0 && strcmp (coord, "output_half_pixel") != 0))
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "mode '%s' or coordinate_transformation_mode '%s' is not one "
                              "RoiAlign has", mode, coord);
      return FALSE;
    }
  st->max_mode = strcmp (mode, "max") == 0;
  st->half_pixel = strcmp (coord, "half_pixel") == 0;
  st->out_h = kestrel_node_attr_int (node, "output_height", 1);
  st->out_w = kestrel_node_attr_int (node, "output_width", 1);
  st->sampling = kestrel_node_attr_int (node, "sampling_ratio", 0);
  st->scale = kestrel_node_attr_float (node, "spatial_scale", 1.0f);
  if (st->out_h < 1 || st->out_w < 1 || st->sampling < 0 || st->sampling > ROI_MAX_SAMPLING_RATIO
      || st->out_h > G_MAXINT32 || st->out_w > G_MAXINT32)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "output %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT " or "
                              "sampling_ratio %" G_GINT64_FORMAT " is out of range", st->out_h,
                              st->out_w, st->sampling);
      return FALSE;
    }
  return TRUE;
}

static gboolean
roi_align_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  static const KestrelDType index_types[] = { KESTREL_DTYPE_INT64, KESTREL_DTYPE_INT32 };
  const KestrelValue *x, *rois, *idx;
  RoiState st;
  gint64 out[4];

  if (!kestrel_op_check_arity (node, 3, 3, 1, error)
      || !roi_params (node, graph->opset, &st, error)
      || (x = kestrel_op_input (graph, node, 0, error)) == NULL
      || !kestrel_op_check_float (node, 0, x, error)
      || (rois = kestrel_op_input (graph, node, 1, error)) == NULL
      || !kestrel_op_check_float (node, 1, rois, error)
      || (idx = kestrel_op_input (graph, node, 2, error)) == NULL
      || !kestrel_op_check_dtype (node, 2, idx, index_types, 2, error))
    return FALSE;
  if (x->n_dims != 4 || rois->n_dims != 2 || rois->shape[1] != 4 || idx->n_dims != 1
      || idx->shape[0] != rois->shape[0])
    {
      g_autofree char *xs = kestrel_shape_to_string (x->n_dims, x->shape);
      g_autofree char *rs = kestrel_shape_to_string (rois->n_dims, rois->shape);
      g_autofree char *is = kestrel_shape_to_string (idx->n_dims, idx->shape);
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "X %s, rois %s and batch_indices %s are not [N, C, H, W], "
                              "[R, 4] and [R]", xs, rs, is);
      return FALSE;
    }
  out[0] = rois->shape[0];
  out[1] = x->shape[1];
  out[2] = st.out_h;
  out[3] = st.out_w;
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_FLOAT32, 4, out);
  return TRUE;
}

static gboolean
roi_align_prepare (KestrelStep *step, GError **error)
{
  RoiState *st = g_new0 (RoiState, 1);

  /* The node's attributes say which behaviour: the default mode differs
   * by opset, and opset 16 is where the definition would tell. */
  if (!roi_params (step->node, kestrel_node_find_attr (step->node,
                                                       "coordinate_transformation_mode") != NULL
                                 ? 16 : step->op->min_opset, st, error))
    {
      g_free (st);
      return FALSE;
    }
  st->n = step->inputs[0].shape[0];
  st->c = step->inputs[0].shape[1];
  st->h = step->inputs[0].shape[2];
  st->w = step->inputs[0].shape[3];
  st->rois = step->inputs[1].shape[0];
  step->state = st;
  step->free_state = g_free;
  return TRUE;
}

/* Bilinear sample of a plane as ONNX Runtime's RoiAlign takes it: 0 well
 * outside, edges clamped, and (for max mode) the four weighted corners. */
static double
roi_sample (const RoiState *st, const float *plane, double y, double x, gboolean max_corner)
{
  gint64 y0, x0, y1, x1;
  double ly, lx, hy, hx, v[4];

  if (y < -1.0 || y > (double) st->h || x < -1.0 || x > (double) st->w)
    return 0.0;
  y = MAX (y, 0.0);
  x = MAX (x, 0.0);
  y0 = (gint64) y;
  x0 = (gint64) x;
  if (y0 >= st->h - 1)
    {
      y0 = y1 = st->h - 1;
      y = (double) y0;
    }
  else
    y1 = y0 + 1;
  if (x0 >= st->w - 1)
    {
      x0 = x1 = st->w - 1;
      x = (double) x0;
    }
  else
    x1 = x0 + 1;
  ly = y - (double) y0;
  lx = x - (double) x0;
  hy = 1.0 - ly;
  hx = 1.0 - lx;
  v[0] = hy * hx * (double) plane[y0 * st->w + x0];
  v[1] = hy * lx * (double) plane[y0 * st->w + x1];
  v[2] = ly * hx * (double) plane[y1 * st->w + x0];
  v[3] = ly * lx * (double) plane[y1 * st->w + x1];
  if (max_corner)
    return MAX (MAX (v[0], v[1]), MAX (v[2], v[3]));
  return v[0] + v[1] + v[2] + v[3];
}

/* Samples per bin along one axis: the sampling_ratio attribute, or as many
 * as the region's extent per bin. A region given as NaN or infinity has no
 * meaningful extent (and converting it to an integer is undefined): one
 * sample then. The adaptive count is that of a region at most
 * ROI_MAX_EXTENT_PLANES times the plane's size (`size` pixels along the
 * axis): a huge spatial_scale or absurd coordinates would otherwise ask for
 * up to 2^31 samples per bin, a hang (found by fuzzing: a spatial_scale of
 * 1.8e19). Regions within that size are sampled exactly as ONNX defines. */
static gint64
roi_grid (gint64 sampling, double extent, gint64 bins, gint64 size)
{
  double per_bin, cap;

  if (sampling > 0)
    return sampling;
  per_bin = ceil (extent / (double) bins);
  if (!isfinite (per_bin))
    return 1;
  if (per_bin <= 0.0)
    return 0;
  cap = ceil (ROI_MAX_EXTENT_PLANES * (double) (size + 1) / (double) bins);
  return (gint64) MIN (per_bin, cap);
}

static void
roi_align_items (gsize begin, gsize end, guint worker G_GNUC_UNUSED, gpointer user_data)
{
  const KestrelStep *step = user_data;
  const RoiState *st = step->state;
  const float *x = step->inputs[0].data, *rois = step->inputs[1].data;
  const KestrelTensorView *idx = &step->inputs[2];
  float *y = step->outputs[0].data;
  const double offset = st->half_pixel ? 0.5 : 0.0;

  /* One item is one (region, channel) plane of the output. */
  for (gsize item = begin; item < end; item++)
    {
      gint64 r = (gint64) item / st->c, ch = (gint64) item % st->c;
      gint64 b = kestrel_op_load_int (idx->dtype, idx->data, r);
      const float *roi = rois + r * 4;
      float *out = y + item * st->out_h * st->out_w;
      const double scale = (double) st->scale;
      double x0 = (double) roi[0] * scale - offset, y0 = (double) roi[1] * scale - offset;
      double rw = (double) roi[2] * scale - offset - x0;
      double rh = (double) roi[3] * scale - offset - y0;
      double bin_h, bin_w;
      gint64 grid_h, grid_w, count;
      const float *plane;

      /* An out-of-range batch index, or an input plane with no pixels
       * (a height or width of 0 is a valid shape), has nothing to sample. */
      if (b < 0 || b >= st->n || st->h == 0 || st->w == 0)
        {
          memset (out, 0, st->out_h * st->out_w * sizeof (float));
          continue;
        }
      plane = x + (b * st->c + ch) * st->h * st->w;
      if (!st->half_pixel)
        {
          rw = MAX (rw, 1.0);
          rh = MAX (rh, 1.0);
        }
      bin_h = rh / (double) st->out_h;
      bin_w = rw / (double) st->out_w;
      grid_h = roi_grid (st->sampling, rh, st->out_h, st->h);
      grid_w = roi_grid (st->sampling, rw, st->out_w, st->w);
      count = MAX (grid_h * grid_w, 1);

      for (gint64 ph = 0; ph < st->out_h; ph++)
        for (gint64 pw = 0; pw < st->out_w; pw++)
          {
            double acc = 0.0;
            gboolean first = TRUE;

            for (gint64 iy = 0; iy < grid_h; iy++)
              for (gint64 ix = 0; ix < grid_w; ix++)
                {
                  double sy = y0 + (double) ph * bin_h + ((double) iy + 0.5) * bin_h
                                                        / (double) grid_h;
                  double sx = x0 + (double) pw * bin_w + ((double) ix + 0.5) * bin_w
                                                        / (double) grid_w;
                  double v = roi_sample (st, plane, sy, sx, st->max_mode);

                  if (!st->max_mode)
                    acc += v;
                  else if (first || v > acc)
                    acc = v;
                  first = FALSE;
                }
            out[ph * st->out_w + pw] = (float) (st->max_mode ? acc : acc / (double) count);
          }
    }
}

static void
roi_align_run (const KestrelStep *step)
{
  const RoiState *st = step->state;

  kestrel_step_parallel_for (step, st->rois * st->c, roi_align_items, (gpointer) step);
}

/* Two definitions: the default coordinate mode changed at opset 16. */
const KestrelOpDef kestrel_op_roi_align_10 = {
  .domain = "",
  .op_type = "RoiAlign",
  .min_opset = 10,
  .max_opset = 15,
  .infer = roi_align_infer,
  .prepare = roi_align_prepare,
  .run = roi_align_run,
};
const KestrelOpDef kestrel_op_roi_align_16 = {
  .domain = "",
  .op_type = "RoiAlign",
  .min_opset = 16,
  .max_opset = 21,
  .infer = roi_align_infer,
  .prepare = roi_align_prepare,
  .run = roi_align_run,
};

/* ---- MaxUnpool ----------------------------------------------------------------- */

/* The output shape the pooling attributes give: MaxPool's indices count
 * positions in it. */
static gboolean
max_unpool_pooled_shape (const KestrelNode *node, guint n_dims, const gint64 *x, gint64 *out,
                         GError **error)
{
  guint n_spatial = n_dims - 2, nk, ns, np;
  const gint64 *kernel = kestrel_node_attr_ints (node, "kernel_shape", &nk);
  const gint64 *strides = kestrel_node_attr_ints (node, "strides", &ns);
  const gint64 *pads = kestrel_node_attr_ints (node, "pads", &np);

  if (kernel == NULL || nk != n_spatial || (strides != NULL && ns != n_spatial)
      || (pads != NULL && np != 2 * n_spatial))
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "kernel_shape, strides and pads do not match %u spatial axes",
                              n_spatial);
      return FALSE;
    }
  out[0] = x[0];
  out[1] = x[1];
  for (guint d = 0; d < n_spatial; d++)
    out[2 + d] = (x[2 + d] - 1) * (strides != NULL ? strides[d] : 1) + kernel[d]
                 - (pads != NULL ? pads[d] + pads[n_spatial + d] : 0);
  return TRUE;
}

static gboolean
max_unpool_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  static const KestrelDType i64[] = { KESTREL_DTYPE_INT64 };
  const KestrelValue *x, *idx;
  gint64 out[KESTREL_TENSOR_MAX_DIMS], pooled[KESTREL_TENSOR_MAX_DIMS];

  if (!kestrel_op_check_arity (node, 2, 3, 1, error)
      || !kestrel_node_check_attr_type (node, "kernel_shape", KESTREL_ATTR_INTS, error)
      || !kestrel_node_check_attr_type (node, "strides", KESTREL_ATTR_INTS, error)
      || !kestrel_node_check_attr_type (node, "pads", KESTREL_ATTR_INTS, error)
      || (x = kestrel_op_input (graph, node, 0, error)) == NULL
      || !kestrel_op_check_float (node, 0, x, error)
      || (idx = kestrel_op_input (graph, node, 1, error)) == NULL
      || !kestrel_op_check_dtype (node, 1, idx, i64, 1, error))
    return FALSE;
  if (x->n_dims < 3 || idx->n_dims != x->n_dims
      || memcmp (idx->shape, x->shape, x->n_dims * sizeof (gint64)) != 0)
    {
      g_autofree char *xs = kestrel_shape_to_string (x->n_dims, x->shape);
      g_autofree char *is = kestrel_shape_to_string (idx->n_dims, idx->shape);
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "X %s and I %s must have one shape [N, C, ...]", xs, is);
      return FALSE;
    }
  if (!max_unpool_pooled_shape (node, x->n_dims, x->shape, pooled, error))
    return FALSE;
  memcpy (out, pooled, x->n_dims * sizeof (gint64));
  if (kestrel_node_n_inputs (node) > 2 && kestrel_node_input (node, 2) >= 0)
    {
      g_autofree gint64 *shape = NULL;
      guint n;

      if (!kestrel_op_constant_ints (graph, node, 2, &shape, &n, error))
        return FALSE;
      if (n != x->n_dims)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "output_shape has %u values; expected %u", n, x->n_dims);
          return FALSE;
        }
      memcpy (out, shape, n * sizeof (gint64));
    }
  for (guint d = 0; d < x->n_dims; d++)
    if (pooled[d] < 0 || out[d] < 0 || (d < 2 && out[d] != x->shape[d]))
      {
        g_autofree char *os = kestrel_shape_to_string (x->n_dims, out);
        kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                "output shape %s does not fit X", os);
        return FALSE;
      }
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_FLOAT32, x->n_dims, out);
  return TRUE;
}

typedef struct {
  guint n_dims;
  gint64 pooled[KESTREL_TENSOR_MAX_DIMS];
} UnpoolState;

static gboolean
max_unpool_prepare (KestrelStep *step, GError **error)
{
  UnpoolState *st = g_new0 (UnpoolState, 1);

  st->n_dims = step->inputs[0].n_dims;
  if (!max_unpool_pooled_shape (step->node, st->n_dims, step->inputs[0].shape, st->pooled, error))
    {
      g_free (st);
      return FALSE;
    }
  step->state = st;
  step->free_state = g_free;
  return TRUE;
}

/* An index counts positions in the pooled shape; with a larger
 * output_shape each lands at the same coordinates there. */
static void
max_unpool_run (const KestrelStep *step)
{
  const UnpoolState *st = step->state;
  const KestrelTensorView *out = &step->outputs[0];
  const float *x = step->inputs[0].data;
  const gint64 *idx = step->inputs[1].data;
  float *y = out->data;
  gsize n_pooled = kestrel_shape_product (st->pooled, 0, st->n_dims);

  memset (y, 0, out->n_elements * sizeof (float));
  for (gsize i = 0; i < step->inputs[0].n_elements; i++)
    {
      gint64 rest = idx[i], target = 0, stride = 1;
      gboolean inside = idx[i] >= 0 && (guint64) idx[i] < n_pooled;

      for (gint d = (gint) st->n_dims - 1; d >= 0 && inside; d--)
        {
          gint64 coord = rest % st->pooled[d];
          rest /= st->pooled[d];
          inside = coord < out->shape[d];
          target += coord * stride;
          stride *= out->shape[d];
        }
      if (inside)
        y[target] = x[i];
    }
}

/* MaxUnpool-11 only added types. */
const KestrelOpDef kestrel_op_max_unpool = {
  .domain = "",
  .op_type = "MaxUnpool",
  .min_opset = 9,
  .max_opset = 21,
  .infer = max_unpool_infer,
  .prepare = max_unpool_prepare,
  .run = max_unpool_run,
};
