/* ops-math-reduce.c — the Reduce* family and ArgMax / ArgMin.
 *
 * Reductions: ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd,
 * ReduceL1, ReduceL2, ReduceLogSum, ReduceLogSumExp, ReduceSumSquare. Up to
 * opset 17 (ReduceSum: 12) the axes are an attribute; from opset 18
 * (ReduceSum: 13) they are an optional second input, which must be a
 * constant because it decides the output's shape, and
 * `noop_with_empty_axes` makes "no axes" a copy instead of a reduction over
 * every axis.
 *
 * Data types: float32, float64, int8, uint8, int32 and int64. Float sums
 * accumulate in double, so the float32 result is the correctly rounded
 * value numpy's pairwise float32 sum approximates; integer sums wrap as numpy's do; the integer
 * Mean, L2, LogSum and LogSumExp are computed in double and truncated.
 * A reduction over no elements gives the operation's identity (0 for sums,
 * 1 for Prod, -inf / +inf or the integer limits for Max / Min).
 *
 * Each output element is one independent loop over the reduced axes, so the
 * parallel levels split the output and give bit-identical results.
 */
#include "config.h"

#include "ops-math.h"

#include <math.h>
#include <string.h>

#include "kestrel-error.h"

typedef enum {
  REDUCE_SUM,
  REDUCE_MEAN,
  REDUCE_MAX,
  REDUCE_MIN,
  REDUCE_PROD,
  REDUCE_L1,
  REDUCE_L2,
  REDUCE_LOG_SUM,
  REDUCE_LOG_SUM_EXP,
  REDUCE_SUM_SQUARE,
} ReduceKind;

typedef struct {
  ReduceKind kind;
  gboolean axes_input;   /* axes are input 1, with noop_with_empty_axes */
} ReduceDesc;

typedef struct {
  ReduceKind kind;
  gboolean copy;         /* noop_with_empty_axes and no axes */
  KestrelDType dtype;
  guint n_kept, n_red;   /* n_red >= 1: a dimension of size 1 stands in for none */
  gint64 kept_shape[KESTREL_TENSOR_MAX_DIMS], kept_stride[KESTREL_TENSOR_MAX_DIMS];
  gint64 red_shape[KESTREL_TENSOR_MAX_DIMS], red_stride[KESTREL_TENSOR_MAX_DIMS];
  gsize n_reduce;        /* input elements per output element */
} ReduceState;

static const KestrelDType reduce_dtypes[] = {
  KESTREL_DTYPE_FLOAT32, KESTREL_DTYPE_FLOAT64, KESTREL_DTYPE_INT8, KESTREL_DTYPE_UINT8,
  KESTREL_DTYPE_INT32, KESTREL_DTYPE_INT64,
};

/* ArgMax and ArgMin: the reductions' types but float64 (no case needs it). */
static const KestrelDType arg_dtypes[] = {
  KESTREL_DTYPE_FLOAT32, KESTREL_DTYPE_INT8, KESTREL_DTYPE_UINT8,
  KESTREL_DTYPE_INT32, KESTREL_DTYPE_INT64,
};

/* ---- Axes -------------------------------------------------------------- */

/* Marks the reduced axes in mask[]; *copy is set when nothing is reduced
 * because noop_with_empty_axes asks for it. */
static gboolean
reduce_axes_mask (const KestrelNode *node, guint rank, const gint64 *axes, guint n_axes,
                  gboolean *mask, gboolean *copy, GError **error)
{
  *copy = FALSE;
  if (n_axes == 0)
    {
      if (kestrel_node_attr_int (node, "noop_with_empty_axes", 0) != 0)
        *copy = TRUE;
      for (guint d = 0; d < rank; d++)
        mask[d] = !*copy;
      return TRUE;
    }
  for (guint d = 0; d < rank; d++)
    mask[d] = FALSE;
  for (guint k = 0; k < n_axes; k++)
    {
      guint axis;

      if (!kestrel_op_axis (node, axes[k], rank, &axis, error))
        return FALSE;
      if (mask[axis])
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "axis %" G_GINT64_FORMAT " is listed twice", axes[k]);
          return FALSE;
        }
      mask[axis] = TRUE;
    }
  return TRUE;
}

/* The axes from the attribute, or from the constant input 1. */
static gboolean
reduce_read_axes (const ReduceDesc *desc, const KestrelGraph *graph, const KestrelNode *node,
                  gint64 **axes, guint *n_axes, GError **error)
{
  if (desc->axes_input)
    {
      if (kestrel_node_n_inputs (node) < 2 || kestrel_node_input (node, 1) < 0)
        {
          *axes = NULL;
          *n_axes = 0;
          return TRUE;
        }
      return kestrel_op_constant_ints (graph, node, 1, axes, n_axes, error);
    }
  else
    {
      guint n = 0;
      const gint64 *values = kestrel_node_attr_ints (node, "axes", &n);

      *axes = g_memdup2 (values, MAX (n, 1) * sizeof (gint64));
      *n_axes = values != NULL ? n : 0;
      return TRUE;
    }
}

static gboolean
reduce_infer (const ReduceDesc *desc, KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x;
  g_autofree gint64 *axes = NULL;
  guint n_axes = 0, out_dims = 0;
  gboolean mask[KESTREL_TENSOR_MAX_DIMS], copy;
  gint64 out[KESTREL_TENSOR_MAX_DIMS];
  gboolean keepdims;

  if (!kestrel_op_check_arity (node, 1, desc->axes_input ? 2 : 1, 1, error)
      || !kestrel_node_check_attr_type (node, "keepdims", KESTREL_ATTR_INT, error)
      || !kestrel_node_check_attr_type (node, "noop_with_empty_axes", KESTREL_ATTR_INT, error)
      || (!desc->axes_input
          && !kestrel_node_check_attr_type (node, "axes", KESTREL_ATTR_INTS, error)))
    return FALSE;
  x = kestrel_op_input (graph, node, 0, error);
  if (x == NULL
      || !kestrel_op_check_dtype (node, 0, x, reduce_dtypes, G_N_ELEMENTS (reduce_dtypes), error)
      || !reduce_read_axes (desc, graph, node, &axes, &n_axes, error)
      || !reduce_axes_mask (node, x->n_dims, axes, n_axes, mask, &copy, error))
    return FALSE;

  keepdims = kestrel_node_attr_int (node, "keepdims", 1) != 0;
  for (guint d = 0; d < x->n_dims; d++)
    {
      if (!mask[d])
        out[out_dims++] = x->shape[d];
      else if (keepdims)
        out[out_dims++] = 1;
    }
  kestrel_op_set_output (graph, node, 0, x->dtype, out_dims, out);
  return TRUE;
}

static gboolean
reduce_prepare (const ReduceDesc *desc, KestrelStep *step, GError **error)
{
  const KestrelTensorView *x = &step->inputs[0];
  g_autofree gint64 *axes = NULL;
  guint n_axes = 0;
  gboolean mask[KESTREL_TENSOR_MAX_DIMS];
  gint64 strides[KESTREL_TENSOR_MAX_DIMS];
  g_autofree ReduceState *state = g_new0 (ReduceState, 1);

  if (desc->axes_input)
    {
      if (step->n_inputs > 1 && step->inputs[1].data != NULL)
        {
          const KestrelTensorView *a = &step->inputs[1];
          n_axes = a->n_elements;
          axes = g_new (gint64, MAX (n_axes, 1));
          for (guint k = 0; k < n_axes; k++)
            axes[k] = kestrel_op_load_int (a->dtype, a->data, k);
        }
    }
  else
    {
      const gint64 *values = kestrel_node_attr_ints (step->node, "axes", &n_axes);
      axes = g_memdup2 (values, MAX (n_axes, 1) * sizeof (gint64));
      if (values == NULL)
        n_axes = 0;
    }
  if (!reduce_axes_mask (step->node, x->n_dims, axes, n_axes, mask, &state->copy, error))
    return FALSE;

  state->kind = desc->kind;
  state->dtype = x->dtype;
  state->n_reduce = 1;
  kestrel_shape_strides (x->n_dims, x->shape, strides);
  for (guint d = 0; d < x->n_dims; d++)
    {
      if (mask[d])
        {
          state->red_shape[state->n_red] = x->shape[d];
          state->red_stride[state->n_red++] = strides[d];
          state->n_reduce *= (gsize) x->shape[d];
        }
      else
        {
          state->kept_shape[state->n_kept] = x->shape[d];
          state->kept_stride[state->n_kept++] = strides[d];
        }
    }
  if (state->n_red == 0)
    {
      state->red_shape[0] = 1;
      state->red_stride[0] = 0;
      state->n_red = 1;
    }
  step->state = g_steal_pointer (&state);
  step->free_state = g_free;
  return TRUE;
}

/* ---- Running ----------------------------------------------------------- */

/* Runs BODY with `off` set to the input offset of every reduced element of
 * the output element whose first input element is at `base`, innermost
 * reduced axis fastest. The caller handles n_reduce == 0. */
#define FOR_EACH_REDUCED(st, base, off, BODY)                                        \
  do                                                                                 \
    {                                                                                \
      gint64 idx_[KESTREL_TENSOR_MAX_DIMS] = { 0 };                                  \
      gint64 outer_ = (base);                                                        \
      const guint last_ = (st)->n_red - 1;                                           \
      const gint64 n_inner_ = (st)->red_shape[last_];                                \
      const gint64 s_inner_ = (st)->red_stride[last_];                               \
      for (;;)                                                                       \
        {                                                                            \
          gint d_;                                                                   \
          for (gint64 j_ = 0; j_ < n_inner_; j_++)                                   \
            {                                                                        \
              const gint64 off = outer_ + j_ * s_inner_;                             \
              BODY;                                                                  \
            }                                                                        \
          for (d_ = (gint) last_ - 1; d_ >= 0; d_--)                                 \
            {                                                                        \
              idx_[d_]++;                                                            \
              outer_ += (st)->red_stride[d_];                                        \
              if (idx_[d_] < (st)->red_shape[d_])                                    \
                break;                                                               \
              outer_ -= idx_[d_] * (st)->red_stride[d_];                             \
              idx_[d_] = 0;                                                          \
            }                                                                        \
          if (d_ < 0)                                                                \
            break;                                                                   \
        }                                                                            \
    }                                                                                \
  while (0)

/* One output element of a float type T: sums accumulate in double and are
 * rounded to T once; returned as a double holding a T value. */
#define DEFINE_REDUCE_ONE(suffix, T)                                                 \
static double                                                                        \
reduce_one_##suffix (const ReduceState *st, const T *x, gint64 base)                 \
{                                                                                    \
  double acc = 0;                                                                    \
                                                                                     \
  switch (st->kind)                                                                  \
    {                                                                                \
    case REDUCE_MAX:                                                                 \
    case REDUCE_MIN:                                                                 \
      {                                                                              \
        const gboolean is_max = st->kind == REDUCE_MAX;                              \
        T m = is_max ? -INFINITY : INFINITY;                                         \
        if (st->n_reduce == 0)                                                       \
          return m;                                                                  \
        /* numpy's maximum.reduce: a NaN anywhere gives NaN. */                      \
        FOR_EACH_REDUCED (st, base, off, {                                           \
          T v = x[off];                                                              \
          if (v != v || (is_max ? v > m : v < m))                                    \
            m = v;                                                                   \
          if (m != m)                                                                \
            return m;                                                                \
        });                                                                          \
        return m;                                                                    \
      }                                                                              \
    case REDUCE_PROD:                                                                \
      acc = 1;                                                                       \
      if (st->n_reduce > 0)                                                          \
        FOR_EACH_REDUCED (st, base, off, acc *= (double) x[off]);                    \
      return (T) acc;                                                                \
    case REDUCE_LOG_SUM_EXP:                                                         \
      {                                                                              \
        /* Shifted by the largest value so that exp cannot overflow. */              \
        double m = -INFINITY;                                                        \
        if (st->n_reduce == 0)                                                       \
          return -INFINITY;                                                          \
        FOR_EACH_REDUCED (st, base, off, m = MAX (m, (double) x[off]));              \
        if (isinf (m))                                                               \
          return (T) m;                                                              \
        FOR_EACH_REDUCED (st, base, off, acc += exp ((double) x[off] - m));          \
        return (T) (m + log (acc));                                                  \
      }                                                                              \
    case REDUCE_SUM:                                                                 \
    case REDUCE_MEAN:                                                                \
    case REDUCE_LOG_SUM:                                                             \
      if (st->n_reduce > 0)                                                          \
        FOR_EACH_REDUCED (st, base, off, acc += (double) x[off]);                    \
      break;                                                                         \
    case REDUCE_L1:                                                                  \
      if (st->n_reduce > 0)                                                          \
        FOR_EACH_REDUCED (st, base, off, acc += fabs ((double) x[off]));             \
      break;                                                                         \
    case REDUCE_L2:                                                                  \
    case REDUCE_SUM_SQUARE:                                                          \
      if (st->n_reduce > 0)                                                          \
        FOR_EACH_REDUCED (st, base, off, acc += (double) x[off] * (double) x[off]);  \
      break;                                                                         \
    default:                                                                         \
      break;                                                                         \
    }                                                                                \
  switch (st->kind)                                                                  \
    {                                                                                \
    case REDUCE_MEAN:                                                                \
      return (T) (acc / (double) st->n_reduce);                                      \
    case REDUCE_LOG_SUM:                                                             \
      return (T) log (acc);                                                          \
    case REDUCE_L2:                                                                  \
      return (T) sqrt (acc);                                                         \
    default:                                                                         \
      return (T) acc;                                                                \
    }                                                                                \
}

DEFINE_REDUCE_ONE (f32, float)
DEFINE_REDUCE_ONE (f64, double)

/* Integer types: exact wrapping arithmetic in 64 bits (stored back with
 * the narrower type's saturation, as the results of in-range data are in
 * range), double for the results that are not integers. */
static gint64
reduce_one_int (const ReduceState *st, const void *x, gint64 base, double *real, gboolean *is_real)
{
  const KestrelDType t = st->dtype;
  guint64 acc = 0;
  double dacc = 0;

  *is_real = FALSE;
  switch (st->kind)
    {
    case REDUCE_MAX:
    case REDUCE_MIN:
      {
        const gboolean is_max = st->kind == REDUCE_MAX;
        gint64 m = is_max ? G_MININT64 : G_MAXINT64;
        if (t == KESTREL_DTYPE_INT8)
          m = is_max ? G_MININT8 : G_MAXINT8;
        else if (t == KESTREL_DTYPE_UINT8)
          m = is_max ? 0 : G_MAXUINT8;
        else if (t == KESTREL_DTYPE_INT32)
          m = is_max ? G_MININT32 : G_MAXINT32;
        if (st->n_reduce > 0)
          FOR_EACH_REDUCED (st, base, off, {
            gint64 v = kestrel_op_load_int (t, x, off);
            if (is_max ? v > m : v < m)
              m = v;
          });
        return m;
      }
    case REDUCE_PROD:
      acc = 1;
      if (st->n_reduce > 0)
        FOR_EACH_REDUCED (st, base, off, acc *= (guint64) kestrel_op_load_int (t, x, off));
      return (gint64) acc;
    case REDUCE_SUM:
      if (st->n_reduce > 0)
        FOR_EACH_REDUCED (st, base, off, acc += (guint64) kestrel_op_load_int (t, x, off));
      return (gint64) acc;
    case REDUCE_L1:
      if (st->n_reduce > 0)
        FOR_EACH_REDUCED (st, base, off, {
          gint64 v = kestrel_op_load_int (t, x, off);
          acc += v < 0 ? 0 - (guint64) v : (guint64) v;
        });
      return (gint64) acc;
    case REDUCE_SUM_SQUARE:
      if (st->n_reduce > 0)
        FOR_EACH_REDUCED (st, base, off, {
          guint64 v = (guint64) kestrel_op_load_int (t, x, off);
          acc += v * v;
        });
      return (gint64) acc;
    case REDUCE_MEAN:
    case REDUCE_LOG_SUM:
      if (st->n_reduce > 0)
        FOR_EACH_REDUCED (st, base, off, dacc += kestrel_op_load_double (t, x, off));
      *real = st->kind == REDUCE_MEAN ? dacc / (double) st->n_reduce : log (dacc);
      break;
    case REDUCE_L2:
      if (st->n_reduce > 0)
        FOR_EACH_REDUCED (st, base, off, {
          double v = kestrel_op_load_double (t, x, off);
          dacc += v * v;
        });
      *real = sqrt (dacc);
      break;
    case REDUCE_LOG_SUM_EXP:
      {
        double m = -INFINITY;
        if (st->n_reduce > 0)
          {
            FOR_EACH_REDUCED (st, base, off, m = MAX (m, kestrel_op_load_double (t, x, off)));
            FOR_EACH_REDUCED (st, base, off, dacc += exp (kestrel_op_load_double (t, x, off) - m));
          }
        *real = st->n_reduce > 0 ? m + log (dacc) : (double) -INFINITY;
      }
      break;
    default:
      break;
    }
  *is_real = TRUE;
  return 0;
}

static void
reduce_chunk (gsize begin, gsize end, guint worker G_GNUC_UNUSED, gpointer user_data)
{
  const KestrelStep *step = user_data;
  const ReduceState *st = step->state;
  const void *x = step->inputs[0].data;
  void *y = step->outputs[0].data;

  for (gsize o = begin; o < end; o++)
    {
      gint64 base = 0;
      gsize rest = o;

      for (gint d = (gint) st->n_kept - 1; d >= 0; d--)
        {
          base += (gint64) (rest % (gsize) st->kept_shape[d]) * st->kept_stride[d];
          rest /= (gsize) st->kept_shape[d];
        }
      if (st->dtype == KESTREL_DTYPE_FLOAT32)
        ((float *) y)[o] = (float) reduce_one_f32 (st, x, base);
      else if (st->dtype == KESTREL_DTYPE_FLOAT64)
        ((double *) y)[o] = reduce_one_f64 (st, x, base);
      else
        {
          double real = 0;
          gboolean is_real;
          gint64 v = reduce_one_int (st, x, base, &real, &is_real);

          if (is_real)
            kestrel_op_store_double (st->dtype, y, o, real);
          else
            kestrel_op_store_int (st->dtype, y, o, v);
        }
    }
}

static void
reduce_run (const KestrelStep *step)
{
  const ReduceState *st = step->state;
  gsize n = step->outputs[0].n_elements;

  if (st->copy)
    {
      if (step->outputs[0].data != step->inputs[0].data)
        memcpy (step->outputs[0].data, step->inputs[0].data,
                n * kestrel_dtype_get_size (st->dtype));
      return;
    }
  /* Split the output when there is enough work in total. */
  if (n > 1 && n * MAX (st->n_reduce, 1) >= KESTREL_MATH_PARALLEL_MIN_ELEMENTS)
    kestrel_step_parallel_for (step, n, reduce_chunk, (gpointer) step);
  else if (n > 0)
    reduce_chunk (0, n, 0, (gpointer) step);
}

#define REDUCE_OP(name, op_type, min, max, kind_, axes_input_)                       \
  static const ReduceDesc name##_desc = { kind_, axes_input_ };                      \
  static gboolean                                                                    \
  name##_infer (KestrelGraph *graph, KestrelNode *node, GError **error)              \
  {                                                                                  \
    return reduce_infer (&name##_desc, graph, node, error);                          \
  }                                                                                  \
  static gboolean                                                                    \
  name##_prepare (KestrelStep *step, GError **error)                                 \
  {                                                                                  \
    return reduce_prepare (&name##_desc, step, error);                               \
  }                                                                                  \
  const KestrelOpDef kestrel_op_##name = {                                           \
    "", op_type, min, max, name##_infer, name##_prepare, reduce_run, NULL            \
  };

/* Versions before the axes input differ only in types (and in whether a
 * negative axis is allowed, which Kestrel accepts throughout). */
#define REDUCE_PAIR(name, op_type, kind, first_input_opset)                          \
  REDUCE_OP (name##_1, op_type, 1, first_input_opset - 1, kind, FALSE)               \
  REDUCE_OP (name##_##first_input_opset, op_type, first_input_opset, 21, kind, TRUE)

REDUCE_PAIR (reduce_sum, "ReduceSum", REDUCE_SUM, 13)
REDUCE_PAIR (reduce_mean, "ReduceMean", REDUCE_MEAN, 18)
REDUCE_PAIR (reduce_max, "ReduceMax", REDUCE_MAX, 18)
REDUCE_PAIR (reduce_min, "ReduceMin", REDUCE_MIN, 18)
REDUCE_PAIR (reduce_prod, "ReduceProd", REDUCE_PROD, 18)
REDUCE_PAIR (reduce_l1, "ReduceL1", REDUCE_L1, 18)
REDUCE_PAIR (reduce_l2, "ReduceL2", REDUCE_L2, 18)
REDUCE_PAIR (reduce_log_sum, "ReduceLogSum", REDUCE_LOG_SUM, 18)
REDUCE_PAIR (reduce_log_sum_exp, "ReduceLogSumExp", REDUCE_LOG_SUM_EXP, 18)
REDUCE_PAIR (reduce_sum_square, "ReduceSumSquare", REDUCE_SUM_SQUARE, 18)

/* ---- ArgMax / ArgMin ---------------------------------------------------- */

/* One definition for opsets 1 to 21: 11 allowed negative axes, 12 added
 * select_last_index (default 0, the first index, as before). Ties go to
 * the first (or last) index; a NaN wins as in numpy. */

typedef struct {
  gboolean is_max;
} ArgDesc;

typedef struct {
  gboolean is_max, last;
  gsize outer, n, inner;
} ArgState;

static gboolean
arg_infer (const ArgDesc *desc G_GNUC_UNUSED, KestrelGraph *graph, KestrelNode *node,
           GError **error)
{
  const KestrelValue *x;
  guint axis, out_dims = 0;
  gint64 out[KESTREL_TENSOR_MAX_DIMS];
  gboolean keepdims;

  if (!kestrel_op_check_arity (node, 1, 1, 1, error)
      || !kestrel_node_check_attr_type (node, "axis", KESTREL_ATTR_INT, error)
      || !kestrel_node_check_attr_type (node, "keepdims", KESTREL_ATTR_INT, error)
      || !kestrel_node_check_attr_type (node, "select_last_index", KESTREL_ATTR_INT, error))
    return FALSE;
  x = kestrel_op_input (graph, node, 0, error);
  if (x == NULL
      || !kestrel_op_check_dtype (node, 0, x, arg_dtypes, G_N_ELEMENTS (arg_dtypes), error)
      || !kestrel_op_axis (node, kestrel_node_attr_int (node, "axis", 0), x->n_dims, &axis, error))
    return FALSE;
  if (x->shape[axis] == 0)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "axis %u of input '%s' is empty: there is no index to return",
                              axis, x->name);
      return FALSE;
    }
  keepdims = kestrel_node_attr_int (node, "keepdims", 1) != 0;
  for (guint d = 0; d < x->n_dims; d++)
    {
      if (d != axis)
        out[out_dims++] = x->shape[d];
      else if (keepdims)
        out[out_dims++] = 1;
    }
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_INT64, out_dims, out);
  return TRUE;
}

static gboolean
arg_prepare (const ArgDesc *desc, KestrelStep *step, GError **error)
{
  const KestrelTensorView *x = &step->inputs[0];
  ArgState *state;
  guint axis;

  if (!kestrel_op_axis (step->node, kestrel_node_attr_int (step->node, "axis", 0), x->n_dims,
                        &axis, error))
    return FALSE;
  state = g_new0 (ArgState, 1);
  state->is_max = desc->is_max;
  state->last = kestrel_node_attr_int (step->node, "select_last_index", 0) != 0;
  state->outer = kestrel_shape_product (x->shape, 0, axis);
  state->n = x->shape[axis];
  state->inner = kestrel_shape_product (x->shape, axis + 1, x->n_dims);
  step->state = state;
  step->free_state = g_free;
  return TRUE;
}

static void
arg_run (const KestrelStep *step)
{
  const ArgState *st = step->state;
  const KestrelTensorView *x = &step->inputs[0];
  gint64 *y = step->outputs[0].data;

  for (gsize o = 0; o < st->outer; o++)
    for (gsize i = 0; i < st->inner; i++)
      {
        gsize base = o * st->n * st->inner + i, best = 0;

        if (x->dtype == KESTREL_DTYPE_FLOAT32)
          {
            const float *v = (const float *) x->data + base;
            float m = v[0];
            for (gsize k = 1; k < st->n && m == m; k++)
              {
                float c = v[k * st->inner];
                gboolean better = c != c || (st->is_max ? c > m : c < m)
                                  || (st->last && c == m);
                if (better)
                  {
                    m = c;
                    best = k;
                  }
              }
          }
        else
          {
            gint64 m = kestrel_op_load_int (x->dtype, x->data, base);
            for (gsize k = 1; k < st->n; k++)
              {
                gint64 c = kestrel_op_load_int (x->dtype, x->data, base + k * st->inner);
                if ((st->is_max ? c > m : c < m) || (st->last && c == m))
                  {
                    m = c;
                    best = k;
                  }
              }
          }
        y[o * st->inner + i] = (gint64) best;
      }
}

#define ARG_OP(name, op_type, is_max_)                                               \
  static const ArgDesc name##_desc = { is_max_ };                                    \
  static gboolean                                                                    \
  name##_infer (KestrelGraph *graph, KestrelNode *node, GError **error)              \
  {                                                                                  \
    return arg_infer (&name##_desc, graph, node, error);                             \
  }                                                                                  \
  static gboolean                                                                    \
  name##_prepare (KestrelStep *step, GError **error)                                 \
  {                                                                                  \
    return arg_prepare (&name##_desc, step, error);                                  \
  }                                                                                  \
  const KestrelOpDef kestrel_op_##name = {                                           \
    "", op_type, 1, 21, name##_infer, name##_prepare, arg_run, NULL                  \
  };

ARG_OP (arg_max, "ArgMax", TRUE)
ARG_OP (arg_min, "ArgMin", FALSE)
