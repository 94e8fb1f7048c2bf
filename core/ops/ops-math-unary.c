/* ops-math-unary.c — activations and unary math, and Clip.
 *
 * Float32 throughout (what vision models use); Relu, Abs and Neg also take
 * int8, int32 and int64, Clip every integer type Kestrel has. Relu and Clip
 * run through kernels->clamp_f32, Sigmoid through kernels->sigmoid_f32 (the
 * scalar table's is this file's loop), the others are plain loops over libm.
 * Formulas follow the ONNX definitions, rearranged only where the literal
 * one overflows (Softplus of a large input).
 */
#include "config.h"

#include "ops-math.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "kestrel-error.h"

typedef struct {
  float alpha, beta;
} UnaryParams;

typedef void (*UnaryLoop) (const float *x, float *y, gsize n, const UnaryParams *p);

typedef enum {
  UNARY_INT_NONE,
  UNARY_INT_RELU,
  UNARY_INT_ABS,
  UNARY_INT_NEG,
  UNARY_INT_SIGN,
} UnaryIntKind;

typedef struct {
  UnaryLoop f32;            /* NULL: Relu, which is kernels->clamp_f32 (0, +inf) */
  gboolean sigmoid;         /* kernels->sigmoid_f32: at scalar the same loop as f32, at the SIMD
                             * levels a polynomial exp (within 1e-6 relative, kernels/eltwise) */
  const char *alpha_name;   /* float attributes and their defaults, or NULL */
  float alpha;
  const char *beta_name;
  float beta;
  UnaryIntKind ints;        /* also runs on int8, int32, int64 */
  /* Gelu: another loop when the string attribute alt_name is alt_value. */
  UnaryLoop f32_alt;
  const char *alt_name, *alt_value;
} MathUnaryDesc;

typedef struct {
  const MathUnaryDesc *desc;
  UnaryLoop f32;
  UnaryParams params;
} UnaryState;

/* ---- Float loops ------------------------------------------------------- */

#define DEFINE_UNARY(name, EXPR)                                                     \
  static void                                                                        \
  name (const float *xs, float *y, gsize n, const UnaryParams *p)                    \
  {                                                                                  \
    const float alpha = p->alpha, beta = p->beta;                                    \
    (void) alpha;                                                                    \
    (void) beta;                                                                     \
    for (gsize i = 0; i < n; i++)                                                    \
      {                                                                              \
        const float x = xs[i];                                                       \
        y[i] = (EXPR);                                                               \
      }                                                                              \
  }

static inline float
softplus (float x)
{
  /* log (exp (x) + 1) without overflowing exp for large x. */
  return x > 0 ? x + log1pf (expf (-x)) : log1pf (expf (x));
}

static inline float
hard_sigmoid (float x, float alpha, float beta)
{
  float v = alpha * x + beta;
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

DEFINE_UNARY (leaky_relu_f32, x < 0 ? alpha * x : x)
DEFINE_UNARY (sigmoid_f32, 1.0f / (1.0f + expf (-x)))
DEFINE_UNARY (hard_sigmoid_f32, hard_sigmoid (x, alpha, beta))
DEFINE_UNARY (hard_swish_f32, x * hard_sigmoid (x, 1.0f / 6.0f, 0.5f))
DEFINE_UNARY (tanh_f32, tanhf (x))
DEFINE_UNARY (exp_f32, expf (x))
DEFINE_UNARY (log_f32, logf (x))
DEFINE_UNARY (sqrt_f32, sqrtf (x))
DEFINE_UNARY (neg_f32, -x)
DEFINE_UNARY (abs_f32, fabsf (x))
DEFINE_UNARY (reciprocal_f32, 1.0f / x)
DEFINE_UNARY (erf_f32, erff (x))
DEFINE_UNARY (elu_f32, x < 0 ? alpha * expm1f (x) : x)
/* Selu's alpha and gamma: gamma travels as beta. */
DEFINE_UNARY (selu_f32, x > 0 ? beta * x : beta * alpha * expm1f (x))
DEFINE_UNARY (softplus_f32, softplus (x))
DEFINE_UNARY (softsign_f32, x / (1.0f + fabsf (x)))
DEFINE_UNARY (thresholded_relu_f32, x > alpha ? x : 0.0f)
DEFINE_UNARY (celu_f32, x > 0 ? x : alpha * expm1f (x / alpha))
DEFINE_UNARY (floor_f32, floorf (x))
/* Round: halves to even, the default rounding mode, as numpy.round. */
DEFINE_UNARY (round_f32, nearbyintf (x))
DEFINE_UNARY (sign_f32, x > 0 ? 1.0f : x < 0 ? -1.0f : x)
/* Mish: x * tanh (softplus (x)). */
DEFINE_UNARY (mish_f32, x * tanhf (softplus (x)))
/* Gelu (opset 20): exact with erf, or the tanh approximation. */
DEFINE_UNARY (gelu_f32, 0.5f * x * (1.0f + erff (x * (float) M_SQRT1_2)))
DEFINE_UNARY (gelu_tanh_f32,
              0.5f * x * (1.0f + tanhf (0.7978845608028654f * (x + 0.044715f * x * x * x))))
/* Shrink: lambd travels as alpha, bias as beta. */
DEFINE_UNARY (shrink_f32, x < -alpha ? x + beta : x > alpha ? x - beta : 0.0f)
DEFINE_UNARY (sin_f32, sinf (x))
DEFINE_UNARY (cos_f32, cosf (x))
DEFINE_UNARY (tan_f32, tanf (x))
DEFINE_UNARY (asin_f32, asinf (x))
DEFINE_UNARY (acos_f32, acosf (x))
DEFINE_UNARY (atan_f32, atanf (x))
DEFINE_UNARY (sinh_f32, sinhf (x))
DEFINE_UNARY (cosh_f32, coshf (x))
DEFINE_UNARY (asinh_f32, asinhf (x))
DEFINE_UNARY (acosh_f32, acoshf (x))
DEFINE_UNARY (atanh_f32, atanhf (x))
DEFINE_UNARY (ceil_f32, ceilf (x))

/* ---- Integer loops ----------------------------------------------------- */

/* Negation and Abs wrap at the most negative value, as numpy's do. */
#define DEFINE_INT_UNARY(suffix, T, U)                                               \
  static void                                                                        \
  int_unary_##suffix (UnaryIntKind kind, const T *x, T *y, gsize n)                  \
  {                                                                                  \
    switch (kind)                                                                    \
      {                                                                              \
      case UNARY_INT_RELU:                                                           \
        for (gsize i = 0; i < n; i++)                                                \
          y[i] = x[i] < 0 ? 0 : x[i];                                                \
        break;                                                                       \
      case UNARY_INT_ABS:                                                            \
        for (gsize i = 0; i < n; i++)                                                \
          y[i] = x[i] < 0 ? (T) ((U) 0 - (U) x[i]) : x[i];                           \
        break;                                                                       \
      case UNARY_INT_NEG:                                                            \
        for (gsize i = 0; i < n; i++)                                                \
          y[i] = (T) ((U) 0 - (U) x[i]);                                             \
        break;                                                                       \
      case UNARY_INT_SIGN:                                                           \
        for (gsize i = 0; i < n; i++)                                                \
          y[i] = (T) (x[i] > 0 ? 1 : x[i] < 0 ? -1 : 0);                             \
        break;                                                                       \
      case UNARY_INT_NONE:                                                           \
      default:                                                                       \
        break;                                                                       \
      }                                                                              \
  }

DEFINE_INT_UNARY (i8, gint8, guint8)
DEFINE_INT_UNARY (i32, gint32, guint32)
DEFINE_INT_UNARY (i64, gint64, guint64)

/* ---- Running ----------------------------------------------------------- */

static void
unary_chunk (gsize begin, gsize end, guint worker_index G_GNUC_UNUSED, gpointer user_data)
{
  const KestrelStep *step = user_data;
  const UnaryState *state = step->state;
  const KestrelTensorView *in = &step->inputs[0];
  const KestrelTensorView *out = &step->outputs[0];
  gsize n = end - begin;

  switch (in->dtype)
    {
    case KESTREL_DTYPE_FLOAT32:
      if (state->desc->sigmoid)
        step->kernels->sigmoid_f32 ((const float *) in->data + begin, (float *) out->data + begin, n);
      else if (state->desc->f32 == NULL)
        step->kernels->clamp_f32 ((const float *) in->data + begin, (float *) out->data + begin, n,
                                  0.0f, INFINITY);
      else
        state->f32 ((const float *) in->data + begin, (float *) out->data + begin, n,
                    &state->params);
      break;
    case KESTREL_DTYPE_INT8:
      int_unary_i8 (state->desc->ints, (const gint8 *) in->data + begin,
                    (gint8 *) out->data + begin, n);
      break;
    case KESTREL_DTYPE_INT32:
      int_unary_i32 (state->desc->ints, (const gint32 *) in->data + begin,
                     (gint32 *) out->data + begin, n);
      break;
    case KESTREL_DTYPE_INT64:
      int_unary_i64 (state->desc->ints, (const gint64 *) in->data + begin,
                     (gint64 *) out->data + begin, n);
      break;
    default:
      break; /* infer() admits no other type */
    }
}

static void
unary_run (const KestrelStep *step)
{
  gsize n = step->outputs[0].n_elements;

  if (n >= KESTREL_MATH_PARALLEL_MIN_ELEMENTS)
    kestrel_step_parallel_for (step, n, unary_chunk, (gpointer) step);
  else if (n > 0)
    unary_chunk (0, n, 0, (gpointer) step);
}

static gboolean
unary_prepare (const MathUnaryDesc *desc, KestrelStep *step)
{
  UnaryState *state = g_new0 (UnaryState, 1);

  state->desc = desc;
  state->f32 = desc->f32;
  if (desc->alt_name != NULL
      && g_strcmp0 (kestrel_node_attr_string (step->node, desc->alt_name, ""), desc->alt_value) == 0)
    state->f32 = desc->f32_alt;
  state->params.alpha = desc->alpha_name != NULL
                        ? kestrel_node_attr_float (step->node, desc->alpha_name, desc->alpha)
                        : desc->alpha;
  state->params.beta = desc->beta_name != NULL
                       ? kestrel_node_attr_float (step->node, desc->beta_name, desc->beta)
                       : desc->beta;
  step->state = state;
  step->free_state = g_free;
  return TRUE;
}

static gboolean
unary_infer (const MathUnaryDesc *desc, KestrelGraph *graph, KestrelNode *node, GError **error)
{
  static const KestrelDType with_ints[] = {
    KESTREL_DTYPE_FLOAT32, KESTREL_DTYPE_INT8, KESTREL_DTYPE_INT32, KESTREL_DTYPE_INT64,
  };
  const KestrelValue *x;

  if (!kestrel_op_check_arity (node, 1, 1, 1, error))
    return FALSE;
  if ((desc->alpha_name != NULL
       && !kestrel_node_check_attr_type (node, desc->alpha_name, KESTREL_ATTR_FLOAT, error))
      || (desc->beta_name != NULL
          && !kestrel_node_check_attr_type (node, desc->beta_name, KESTREL_ATTR_FLOAT, error)))
    return FALSE;
  if (desc->alt_name != NULL)
    {
      const char *v;

      if (!kestrel_node_check_attr_type (node, desc->alt_name, KESTREL_ATTR_STRING, error))
        return FALSE;
      v = kestrel_node_attr_string (node, desc->alt_name, "none");
      if (g_strcmp0 (v, "none") != 0 && g_strcmp0 (v, desc->alt_value) != 0)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "attribute '%s' is '%s', expected 'none' or '%s'",
                                  desc->alt_name, v, desc->alt_value);
          return FALSE;
        }
    }
  x = kestrel_op_input (graph, node, 0, error);
  if (x == NULL
      || !kestrel_op_check_dtype (node, 0, x, with_ints,
                                  desc->ints != UNARY_INT_NONE ? G_N_ELEMENTS (with_ints) : 1,
                                  error))
    return FALSE;
  kestrel_op_set_output (graph, node, 0, x->dtype, x->n_dims, x->shape);
  return TRUE;
}

#define UNARY_OP(name, op_type, min, max, ...)                                       \
  static const MathUnaryDesc name##_desc = { __VA_ARGS__ };                          \
  static gboolean                                                                    \
  name##_infer (KestrelGraph *graph, KestrelNode *node, GError **error)              \
  {                                                                                  \
    return unary_infer (&name##_desc, graph, node, error);                           \
  }                                                                                  \
  static gboolean                                                                    \
  name##_prepare (KestrelStep *step, GError **error G_GNUC_UNUSED)                   \
  {                                                                                  \
    return unary_prepare (&name##_desc, step);                                       \
  }                                                                                  \
  const KestrelOpDef kestrel_op_##name = {                                           \
    "", op_type, min, max, name##_infer, name##_prepare, unary_run, NULL             \
  };

/* Opset 6 only dropped the `consumed_inputs` attribute, an optimisation
 * hint without meaning, and later versions only added data types, so one
 * definition covers each operator from its first version. */
UNARY_OP (relu, "Relu", 1, 21, .f32 = NULL, .ints = UNARY_INT_RELU)
UNARY_OP (leaky_relu, "LeakyRelu", 1, 21, .f32 = leaky_relu_f32, .alpha_name = "alpha",
          .alpha = 0.01f)
UNARY_OP (sigmoid, "Sigmoid", 1, 21, .f32 = sigmoid_f32, .sigmoid = TRUE)
UNARY_OP (hard_sigmoid, "HardSigmoid", 1, 21, .f32 = hard_sigmoid_f32, .alpha_name = "alpha",
          .alpha = 0.2f, .beta_name = "beta", .beta = 0.5f)
UNARY_OP (hard_swish, "HardSwish", 14, 21, .f32 = hard_swish_f32)
UNARY_OP (tanh, "Tanh", 1, 21, .f32 = tanh_f32)
UNARY_OP (exp, "Exp", 1, 21, .f32 = exp_f32)
UNARY_OP (log, "Log", 1, 21, .f32 = log_f32)
UNARY_OP (sqrt, "Sqrt", 1, 21, .f32 = sqrt_f32)
UNARY_OP (neg, "Neg", 1, 21, .f32 = neg_f32, .ints = UNARY_INT_NEG)
UNARY_OP (abs, "Abs", 1, 21, .f32 = abs_f32, .ints = UNARY_INT_ABS)
UNARY_OP (reciprocal, "Reciprocal", 1, 21, .f32 = reciprocal_f32)
UNARY_OP (erf, "Erf", 9, 21, .f32 = erf_f32)
UNARY_OP (elu, "Elu", 1, 21, .f32 = elu_f32, .alpha_name = "alpha", .alpha = 1.0f)
UNARY_OP (selu, "Selu", 1, 21, .f32 = selu_f32, .alpha_name = "alpha",
          .alpha = 1.67326319217681884765625f, .beta_name = "gamma",
          .beta = 1.05070102214813232421875f)
UNARY_OP (softplus, "Softplus", 1, 21, .f32 = softplus_f32)
UNARY_OP (softsign, "Softsign", 1, 21, .f32 = softsign_f32)
UNARY_OP (thresholded_relu, "ThresholdedRelu", 10, 21, .f32 = thresholded_relu_f32,
          .alpha_name = "alpha", .alpha = 1.0f)
UNARY_OP (celu, "Celu", 12, 21, .f32 = celu_f32, .alpha_name = "alpha", .alpha = 1.0f)
UNARY_OP (floor, "Floor", 1, 21, .f32 = floor_f32)
UNARY_OP (round, "Round", 11, 21, .f32 = round_f32)
UNARY_OP (sign, "Sign", 9, 21, .f32 = sign_f32, .ints = UNARY_INT_SIGN)
UNARY_OP (mish, "Mish", 18, 21, .f32 = mish_f32)
UNARY_OP (gelu, "Gelu", 20, 21, .f32 = gelu_f32, .f32_alt = gelu_tanh_f32,
          .alt_name = "approximate", .alt_value = "tanh")
UNARY_OP (shrink, "Shrink", 9, 21, .f32 = shrink_f32, .alpha_name = "lambd", .alpha = 0.5f,
          .beta_name = "bias", .beta = 0.0f)
UNARY_OP (sin, "Sin", 7, 21, .f32 = sin_f32)
UNARY_OP (cos, "Cos", 7, 21, .f32 = cos_f32)
UNARY_OP (tan, "Tan", 7, 21, .f32 = tan_f32)
UNARY_OP (asin, "Asin", 7, 21, .f32 = asin_f32)
UNARY_OP (acos, "Acos", 7, 21, .f32 = acos_f32)
UNARY_OP (atan, "Atan", 7, 21, .f32 = atan_f32)
UNARY_OP (sinh, "Sinh", 9, 21, .f32 = sinh_f32)
UNARY_OP (cosh, "Cosh", 9, 21, .f32 = cosh_f32)
UNARY_OP (asinh, "Asinh", 9, 21, .f32 = asinh_f32)
UNARY_OP (acosh, "Acosh", 9, 21, .f32 = acosh_f32)
UNARY_OP (atanh, "Atanh", 9, 21, .f32 = atanh_f32)
UNARY_OP (ceil, "Ceil", 1, 21, .f32 = ceil_f32)

/* ---- Clip -------------------------------------------------------------- */

/* Up to opset 10 the bounds are float attributes; from 11 they are optional
 * scalar inputs of the data's type, read at run time so that they need not
 * be constants. Bounds apply as in numpy.clip: values are raised to min,
 * then lowered to max, so min > max gives max everywhere. */

typedef struct {
  float lo, hi;              /* the attributes, up to opset 10 */
} ClipState;

#define DEFINE_CLIP(suffix, T)                                                       \
  static void                                                                        \
  clip_##suffix (const T *x, T *y, gsize n, T lo, T hi)                              \
  {                                                                                  \
    for (gsize i = 0; i < n; i++)                                                    \
      {                                                                              \
        T v = x[i] < lo ? lo : x[i];                                                 \
        y[i] = v > hi ? hi : v;                                                      \
      }                                                                              \
  }

DEFINE_CLIP (f32, float)
DEFINE_CLIP (i8, gint8)
DEFINE_CLIP (u8, guint8)
DEFINE_CLIP (i32, gint32)
DEFINE_CLIP (i64, gint64)

/* The bound input i as T, or `fallback` when it is omitted. */
#define CLIP_BOUND(step, i, T, fallback)                                             \
  ((step)->n_inputs > (i) && (step)->inputs[i].data != NULL                          \
   ? *(const T *) (step)->inputs[i].data : (fallback))

static void
clip_chunk (gsize begin, gsize end, guint worker_index G_GNUC_UNUSED, gpointer user_data)
{
  const KestrelStep *step = user_data;
  const KestrelTensorView *in = &step->inputs[0];
  const KestrelTensorView *out = &step->outputs[0];
  gsize n = end - begin;

  switch (in->dtype)
    {
    case KESTREL_DTYPE_FLOAT32:
      {
        const ClipState *state = step->state;
        float lo = state != NULL ? state->lo : CLIP_BOUND (step, 1, float, -INFINITY);
        float hi = state != NULL ? state->hi : CLIP_BOUND (step, 2, float, INFINITY);
        const float *x = (const float *) in->data + begin;
        float *y = (float *) out->data + begin;

        /* The kernel lowers to max, then raises to min: the same unless
         * min > max. */
        if (lo <= hi)
          step->kernels->clamp_f32 (x, y, n, lo, hi);
        else
          clip_f32 (x, y, n, lo, hi);
      }
      break;
    case KESTREL_DTYPE_INT8:
      clip_i8 ((const gint8 *) in->data + begin, (gint8 *) out->data + begin, n,
               CLIP_BOUND (step, 1, gint8, G_MININT8), CLIP_BOUND (step, 2, gint8, G_MAXINT8));
      break;
    case KESTREL_DTYPE_UINT8:
      clip_u8 ((const guint8 *) in->data + begin, (guint8 *) out->data + begin, n,
               CLIP_BOUND (step, 1, guint8, 0), CLIP_BOUND (step, 2, guint8, G_MAXUINT8));
      break;
    case KESTREL_DTYPE_INT32:
      clip_i32 ((const gint32 *) in->data + begin, (gint32 *) out->data + begin, n,
                CLIP_BOUND (step, 1, gint32, G_MININT32), CLIP_BOUND (step, 2, gint32, G_MAXINT32));
      break;
    case KESTREL_DTYPE_INT64:
      clip_i64 ((const gint64 *) in->data + begin, (gint64 *) out->data + begin, n,
                CLIP_BOUND (step, 1, gint64, G_MININT64), CLIP_BOUND (step, 2, gint64, G_MAXINT64));
      break;
    default:
      break; /* infer() admits no other type */
    }
}

static void
clip_run (const KestrelStep *step)
{
  gsize n = step->outputs[0].n_elements;

  if (n >= KESTREL_MATH_PARALLEL_MIN_ELEMENTS)
    kestrel_step_parallel_for (step, n, clip_chunk, (gpointer) step);
  else if (n > 0)
    clip_chunk (0, n, 0, (gpointer) step);
}

static gboolean
clip_1_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x;

  if (!kestrel_op_check_arity (node, 1, 1, 1, error)
      || !kestrel_node_check_attr_type (node, "min", KESTREL_ATTR_FLOAT, error)
      || !kestrel_node_check_attr_type (node, "max", KESTREL_ATTR_FLOAT, error))
    return FALSE;
  x = kestrel_op_input (graph, node, 0, error);
  if (x == NULL || !kestrel_op_check_float (node, 0, x, error))
    return FALSE;
  kestrel_op_set_output (graph, node, 0, x->dtype, x->n_dims, x->shape);
  return TRUE;
}

static gboolean
clip_1_prepare (KestrelStep *step, GError **error G_GNUC_UNUSED)
{
  ClipState *state = g_new0 (ClipState, 1);

  state->lo = kestrel_node_attr_float (step->node, "min", -FLT_MAX);
  state->hi = kestrel_node_attr_float (step->node, "max", FLT_MAX);
  step->state = state;
  step->free_state = g_free;
  return TRUE;
}

static gboolean
clip_11_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  static const KestrelDType dtypes[] = {
    KESTREL_DTYPE_FLOAT32, KESTREL_DTYPE_INT8, KESTREL_DTYPE_UINT8,
    KESTREL_DTYPE_INT32, KESTREL_DTYPE_INT64,
  };
  const KestrelValue *x;

  if (!kestrel_op_check_arity (node, 1, 3, 1, error))
    return FALSE;
  x = kestrel_op_input (graph, node, 0, error);
  if (x == NULL || !kestrel_op_check_dtype (node, 0, x, dtypes, G_N_ELEMENTS (dtypes), error))
    return FALSE;
  for (guint i = 1; i < kestrel_node_n_inputs (node); i++)
    {
      const KestrelValue *bound;

      if (kestrel_node_input (node, i) < 0)
        continue; /* omitted: no bound on that side */
      bound = kestrel_op_input (graph, node, i, error);
      if (bound == NULL)
        return FALSE;
      if (bound->dtype != x->dtype || kestrel_value_n_elements (bound) != 1)
        {
          g_autofree char *shape = kestrel_shape_to_string (bound->n_dims, bound->shape);
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "%s bound '%s' is %s%s, expected a single %s",
                                  i == 1 ? "min" : "max", bound->name,
                                  kestrel_dtype_get_name (bound->dtype), shape,
                                  kestrel_dtype_get_name (x->dtype));
          return FALSE;
        }
    }
  kestrel_op_set_output (graph, node, 0, x->dtype, x->n_dims, x->shape);
  return TRUE;
}

const KestrelOpDef kestrel_op_clip_1 = {
  "", "Clip", 1, 10, clip_1_infer, clip_1_prepare, clip_run, NULL
};

const KestrelOpDef kestrel_op_clip_11 = {
  "", "Clip", 11, 21, clip_11_infer, NULL, clip_run, NULL
};
