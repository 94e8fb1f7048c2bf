/* ops-nn-norm.c — BatchNormalization (inference), LRN, Softmax and
 * LogSoftmax: ONNX semantics, float32, NCHW.
 */
#include "config.h"

#include "ops-nn.h"

#include <math.h>
#include <string.h>

#include "kestrel-error.h"

/* ---- BatchNormalization ---------------------------------------------------- */

typedef struct {
  float epsilon;
  gint64 batch, channels, size;   /* size: elements per (n, c) plane */
  gboolean per_activation;        /* opset 7-8 spatial = 0: statistics per element */
} BatchNormParams;

static const KestrelNnAttr batch_norm_attrs[] = {
  { "epsilon", KESTREL_ATTR_FLOAT },
  { "momentum", KESTREL_ATTR_FLOAT },
  { "spatial", KESTREL_ATTR_INT },
  { "training_mode", KESTREL_ATTR_INT },
};

static gboolean
batch_norm_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  static const char *const names[] = { "X", "scale", "B", "input_mean", "input_var" };
  const KestrelValue *x, *param;
  gboolean per_activation = kestrel_node_attr_int (node, "spatial", 1) == 0;

  if (!kestrel_op_check_arity (node, 5, 5, 1, error)
      || !kestrel_nn_check_attrs (node, batch_norm_attrs, G_N_ELEMENTS (batch_norm_attrs), error))
    return FALSE;
  if (kestrel_node_attr_int (node, "training_mode", 0) != 0)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "training_mode = 1 is not supported: Kestrel runs inference only "
                              "and normalises with the given mean and variance");
      return FALSE;
    }
  if (!kestrel_nn_check_no_outputs_after (node, 1, "the running and saved mean and variance are "
                                          "training outputs, and Kestrel runs inference only",
                                          error)
      || (x = kestrel_op_input (graph, node, 0, error)) == NULL
      || !kestrel_op_check_float (node, 0, x, error))
    return FALSE;
  if (x->n_dims < 2)
    {
      g_autofree char *xs = kestrel_shape_to_string (x->n_dims, x->shape);
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "input X has shape %s; expected [N, C, ...]", xs);
      return FALSE;
    }
  for (guint i = 1; i < 5; i++)
    {
      if ((param = kestrel_op_input (graph, node, i, error)) == NULL
          || !kestrel_op_check_float (node, i, param, error))
        return FALSE;
      /* Per channel: [C]. Per activation (spatial = 0): X without N. */
      if (per_activation ? (param->n_dims != x->n_dims - 1
                            || memcmp (param->shape, x->shape + 1,
                                       param->n_dims * sizeof (gint64)) != 0)
                         : (param->n_dims != 1 || param->shape[0] != x->shape[1]))
        {
          g_autofree char *ps = kestrel_shape_to_string (param->n_dims, param->shape);
          g_autofree char *xs = kestrel_shape_to_string (x->n_dims, x->shape);
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "input %s has shape %s; with X %s expected %s", names[i], ps, xs,
                                  per_activation ? "X's shape without N (spatial = 0)"
                                                 : "one value per channel");
          return FALSE;
        }
    }
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_FLOAT32, x->n_dims, x->shape);
  return TRUE;
}

static gboolean
batch_norm_prepare (KestrelStep *step, GError **error)
{
  const KestrelTensorView *x = &step->inputs[0];
  BatchNormParams *p = g_new0 (BatchNormParams, 1);

  p->epsilon = kestrel_node_attr_float (step->node, "epsilon", 1e-5f);
  p->batch = x->shape[0];
  p->channels = x->shape[1];
  p->size = kestrel_shape_product (x->shape, 2, x->n_dims);
  p->per_activation = kestrel_node_attr_int (step->node, "spatial", 1) == 0;
  step->state = p;
  step->free_state = g_free;
  return TRUE;
}

static void
batch_norm_planes (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const BatchNormParams *p = step->state;
  const float *x = step->inputs[0].data;
  const float *scale = step->inputs[1].data, *bias = step->inputs[2].data;
  const float *mean = step->inputs[3].data, *var = step->inputs[4].data;
  float *y = step->outputs[0].data;

  for (gsize plane = begin; plane < end; plane++)
    {
      gint64 c = (gint64) plane % p->channels;
      const float *xp = x + (gint64) plane * p->size;
      float *yp = y + (gint64) plane * p->size;

      /* (x - mean) first, as ONNX writes it: x * a + (B - mean * a) would
       * lose digits when x is close to a large mean. */
      if (!p->per_activation)
        {
          float a = scale[c] / sqrtf (var[c] + p->epsilon);
          for (gint64 i = 0; i < p->size; i++)
            yp[i] = (xp[i] - mean[c]) * a + bias[c];
        }
      else
        {
          gint64 o = c * p->size;
          for (gint64 i = 0; i < p->size; i++)
            yp[i] = (xp[i] - mean[o + i]) * (scale[o + i] / sqrtf (var[o + i] + p->epsilon))
                    + bias[o + i];
        }
    }
}

static void
batch_norm_run (const KestrelStep *step)
{
  const BatchNormParams *p = step->state;

  kestrel_step_parallel_for (step, p->batch * p->channels, batch_norm_planes, (gpointer) step);
}

/* Inference semantics are the same from opset 6 to 21: -7 dropped is_test
 * (an inference graph has only the Y output either way), -9 dropped spatial
 * (honoured here when a 6-8 model sets it to 0), -14 added training_mode
 * and -15 separate parameter types, neither of which inference uses. */
const KestrelOpDef kestrel_op_batch_normalization = {
  .domain = "",
  .op_type = "BatchNormalization",
  .min_opset = 6,
  .max_opset = 21,
  .infer = batch_norm_infer,
  .prepare = batch_norm_prepare,
  .run = batch_norm_run,
};

/* ---- LRN --------------------------------------------------------------------- */

typedef struct {
  float alpha_over_size, beta, bias;
  gint64 size, before, after;   /* the window is [c - before, c + after] */
  gint64 batch, channels, plane;
} LrnParams;

static const KestrelNnAttr lrn_attrs[] = {
  { "alpha", KESTREL_ATTR_FLOAT },
  { "beta", KESTREL_ATTR_FLOAT },
  { "bias", KESTREL_ATTR_FLOAT },
  { "size", KESTREL_ATTR_INT },
};

static gboolean
lrn_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x;

  if (!kestrel_op_check_arity (node, 1, 1, 1, error)
      || !kestrel_nn_check_attrs (node, lrn_attrs, G_N_ELEMENTS (lrn_attrs), error)
      || (x = kestrel_op_input (graph, node, 0, error)) == NULL
      || !kestrel_op_check_float (node, 0, x, error))
    return FALSE;
  if (kestrel_node_attr_int (node, "size", 0) < 1)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "the attribute size is required and must be positive");
      return FALSE;
    }
  if (x->n_dims < 2)
    {
      g_autofree char *xs = kestrel_shape_to_string (x->n_dims, x->shape);
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "input X has shape %s; expected [N, C, ...]", xs);
      return FALSE;
    }
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_FLOAT32, x->n_dims, x->shape);
  return TRUE;
}

static gboolean
lrn_prepare (KestrelStep *step, GError **error)
{
  const KestrelTensorView *x = &step->inputs[0];
  LrnParams *p = g_new0 (LrnParams, 1);

  p->size = kestrel_node_attr_int (step->node, "size", 1);
  p->alpha_over_size = kestrel_node_attr_float (step->node, "alpha", 1e-4f) / (float) p->size;
  p->beta = kestrel_node_attr_float (step->node, "beta", 0.75f);
  p->bias = kestrel_node_attr_float (step->node, "bias", 1.0f);
  p->before = (p->size - 1) / 2;               /* floor ((size - 1) / 2) */
  p->after = p->size - 1 - p->before;          /* ceil ((size - 1) / 2) */
  p->batch = x->shape[0];
  p->channels = x->shape[1];
  p->plane = kestrel_shape_product (x->shape, 2, x->n_dims);
  step->state = p;
  step->free_state = g_free;
  return TRUE;
}

static void
lrn_planes (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const LrnParams *p = step->state;
  const float *x = step->inputs[0].data;
  float *y = step->outputs[0].data;

  for (gsize plane = begin; plane < end; plane++)
    {
      gint64 c = (gint64) plane % p->channels, n = (gint64) plane / p->channels;
      gint64 lo = MAX (0, c - p->before), hi = MIN (p->channels - 1, c + p->after);
      const float *xn = x + n * p->channels * p->plane;

      for (gint64 i = 0; i < p->plane; i++)
        {
          float sum = 0.0f, v = xn[c * p->plane + i];
          for (gint64 k = lo; k <= hi; k++)
            sum += xn[k * p->plane + i] * xn[k * p->plane + i];
          y[(gint64) plane * p->plane + i] = v / powf (p->bias + p->alpha_over_size * sum, p->beta);
        }
    }
}

static void
lrn_run (const KestrelStep *step)
{
  const LrnParams *p = step->state;

  kestrel_step_parallel_for (step, p->batch * p->channels, lrn_planes, (gpointer) step);
}

const KestrelOpDef kestrel_op_lrn = {
  .domain = "",
  .op_type = "LRN",
  .min_opset = 1, /* unchanged in meaning since its first version */
  .max_opset = 21,
  .infer = lrn_infer,
  .prepare = lrn_prepare,
  .run = lrn_run,
};

/* ---- Softmax, LogSoftmax ---------------------------------------------------------
 *
 * Before opset 13 the input is coerced to 2-D at `axis` (default 1) and
 * normalised over everything from `axis` on; from 13 on, over the one axis
 * (default -1). Both are lanes of `len` elements `stride` apart, one lane
 * per work item. */

typedef struct {
  gint64 outer, len, stride;
} SoftmaxParams;

static gboolean
softmax_params (const KestrelNode *node, guint n_dims, const gint64 *shape, gboolean coerce,
                SoftmaxParams *p, GError **error)
{
  guint axis;

  if (!kestrel_node_check_attr_type (node, "axis", KESTREL_ATTR_INT, error))
    return FALSE;
  if (n_dims < 1)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "input is a scalar; expected rank 1 or more");
      return FALSE;
    }
  if (!kestrel_op_axis (node, kestrel_node_attr_int (node, "axis", coerce ? 1 : -1), n_dims,
                        &axis, error))
    return FALSE;
  p->outer = kestrel_shape_product (shape, 0, axis);
  if (coerce)
    {
      p->len = kestrel_shape_product (shape, axis, n_dims);
      p->stride = 1;
    }
  else
    {
      p->len = shape[axis];
      p->stride = kestrel_shape_product (shape, axis + 1, n_dims);
    }
  return TRUE;
}

static gboolean
softmax_infer_common (KestrelGraph *graph, KestrelNode *node, gboolean coerce, GError **error)
{
  const KestrelValue *x;
  SoftmaxParams p;

  if (!kestrel_op_check_arity (node, 1, 1, 1, error)
      || (x = kestrel_op_input (graph, node, 0, error)) == NULL
      || !kestrel_op_check_float (node, 0, x, error)
      || !softmax_params (node, x->n_dims, x->shape, coerce, &p, error))
    return FALSE;
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_FLOAT32, x->n_dims, x->shape);
  return TRUE;
}

static gboolean
softmax_infer_1 (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  return softmax_infer_common (graph, node, TRUE, error);
}

static gboolean
softmax_infer_13 (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  return softmax_infer_common (graph, node, FALSE, error);
}

static gboolean
softmax_prepare_common (KestrelStep *step, gboolean coerce, GError **error)
{
  SoftmaxParams *p = g_new0 (SoftmaxParams, 1);

  step->state = p;
  step->free_state = g_free;
  return softmax_params (step->node, step->inputs[0].n_dims, step->inputs[0].shape, coerce, p,
                         error);
}

static gboolean
softmax_prepare_1 (KestrelStep *step, GError **error)
{
  return softmax_prepare_common (step, TRUE, error);
}

static gboolean
softmax_prepare_13 (KestrelStep *step, GError **error)
{
  return softmax_prepare_common (step, FALSE, error);
}

static inline void
softmax_lanes (gsize begin, gsize end, const KestrelStep *step, gboolean log_domain)
{
  const SoftmaxParams *p = step->state;
  const float *x = step->inputs[0].data;
  float *y = step->outputs[0].data;

  for (gsize lane = begin; lane < end; lane++)
    {
      gint64 o = (gint64) lane / p->stride, i = (gint64) lane % p->stride;
      gint64 base = o * p->len * p->stride + i, s = p->stride;
      float max = -INFINITY, sum = 0.0f;

      /* A row along the last axis goes to the level's kernel (the scalar
       * one is this loop; the SIMD ones use a polynomial exp: 21 % of the
       * PaddleOCR recogniser's time was expf over its 6625 classes). */
      if (!log_domain && s == 1)
        {
          step->kernels->softmax_f32 (x + base, y + base, p->len);
          continue;
        }
      /* Subtracting the maximum keeps expf() finite for large inputs. */
      for (gint64 k = 0; k < p->len; k++)
        max = MAX (max, x[base + k * s]);
      if (log_domain)
        {
          float log_sum;
          for (gint64 k = 0; k < p->len; k++)
            sum += expf (x[base + k * s] - max);
          log_sum = logf (sum);
          for (gint64 k = 0; k < p->len; k++)
            y[base + k * s] = x[base + k * s] - max - log_sum;
        }
      else
        {
          for (gint64 k = 0; k < p->len; k++)
            {
              y[base + k * s] = expf (x[base + k * s] - max);
              sum += y[base + k * s];
            }
          for (gint64 k = 0; k < p->len; k++)
            y[base + k * s] /= sum;
        }
    }
}

static void
softmax_lanes_exp (gsize begin, gsize end, guint worker, gpointer data)
{
  softmax_lanes (begin, end, data, FALSE);
}

static void
softmax_lanes_log (gsize begin, gsize end, guint worker, gpointer data)
{
  softmax_lanes (begin, end, data, TRUE);
}

static void
softmax_run (const KestrelStep *step)
{
  const SoftmaxParams *p = step->state;

  kestrel_step_parallel_for (step, p->outer * p->stride, softmax_lanes_exp, (gpointer) step);
}

static void
log_softmax_run (const KestrelStep *step)
{
  const SoftmaxParams *p = step->state;

  kestrel_step_parallel_for (step, p->outer * p->stride, softmax_lanes_log, (gpointer) step);
}

const KestrelOpDef kestrel_op_softmax_1 = {
  .domain = "",
  .op_type = "Softmax",
  .min_opset = 1, /* unchanged in meaning since its first version */
  .max_opset = 12,
  .infer = softmax_infer_1,
  .prepare = softmax_prepare_1,
  .run = softmax_run,
};

const KestrelOpDef kestrel_op_softmax_13 = {
  .domain = "",
  .op_type = "Softmax",
  .min_opset = 13,
  .max_opset = 21,
  .infer = softmax_infer_13,
  .prepare = softmax_prepare_13,
  .run = softmax_run,
};

const KestrelOpDef kestrel_op_log_softmax_1 = {
  .domain = "",
  .op_type = "LogSoftmax",
  .min_opset = 1, /* unchanged in meaning since its first version */
  .max_opset = 12,
  .infer = softmax_infer_1,
  .prepare = softmax_prepare_1,
  .run = log_softmax_run,
};

const KestrelOpDef kestrel_op_log_softmax_13 = {
  .domain = "",
  .op_type = "LogSoftmax",
  .min_opset = 13,
  .max_opset = 21,
  .infer = softmax_infer_13,
  .prepare = softmax_prepare_13,
  .run = log_softmax_run,
};
