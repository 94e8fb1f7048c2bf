/* ops-math-logic.c — comparisons, boolean logic, Where, IsNaN and IsInf.
 *
 * Equal, Less, LessOrEqual, Greater and GreaterOrEqual compare two numeric
 * tensors of one type (float32, int8, uint8, int32, int64; Equal also
 * bool) with numpy broadcasting and give bool. And, Or, Xor and Not work
 * on bool. Where picks from X or Y by a bool condition, all three
 * broadcast together, for every data type. Opsets 7 to 21: before 7 the
 * binary ones had the legacy `broadcast` attribute, which no exporter of
 * vision models still writes.
 *
 * bool tensors hold one byte per element, 0 or 1; inputs are read as
 * "non-zero is true", outputs are always 0 or 1.
 */
#include "config.h"

#include "ops-math.h"

#include <math.h>
#include <string.h>

#include "kestrel-error.h"

typedef enum {
  CMP_EQUAL,
  CMP_LESS,
  CMP_LESS_EQUAL,
  CMP_GREATER,
  CMP_GREATER_EQUAL,
  LOGIC_AND,
  LOGIC_OR,
  LOGIC_XOR,
} CompareKind;

typedef struct {
  CompareKind kind;
  gboolean takes_bool;     /* Equal: bool too */
  gboolean only_bool;      /* And, Or, Xor */
} CompareDesc;

typedef struct {
  CompareKind kind;
  KestrelDType dtype;
  KestrelMathBroadcast bc;
} CompareState;

typedef struct {
  const CompareState *state;
  const guint8 *a, *b;
  guint8 *y;
  gsize size;
} CompareJob;

/* One loop per element type; the comparison is chosen outside it. */
#define DEFINE_COMPARE(suffix, T)                                                    \
  static void                                                                        \
  compare_##suffix (CompareKind kind, const T *a, gssize sa, const T *b, gssize sb,  \
                    guint8 *y, gsize n)                                              \
  {                                                                                  \
    switch (kind)                                                                    \
      {                                                                              \
      case CMP_EQUAL:                                                                \
        for (gsize i = 0; i < n; i++)                                                \
          y[i] = a[i * sa] == b[i * sb];                                             \
        break;                                                                       \
      case CMP_LESS:                                                                 \
        for (gsize i = 0; i < n; i++)                                                \
          y[i] = a[i * sa] < b[i * sb];                                              \
        break;                                                                       \
      case CMP_LESS_EQUAL:                                                           \
        for (gsize i = 0; i < n; i++)                                                \
          y[i] = a[i * sa] <= b[i * sb];                                             \
        break;                                                                       \
      case CMP_GREATER:                                                              \
        for (gsize i = 0; i < n; i++)                                                \
          y[i] = a[i * sa] > b[i * sb];                                              \
        break;                                                                       \
      case CMP_GREATER_EQUAL:                                                        \
        for (gsize i = 0; i < n; i++)                                                \
          y[i] = a[i * sa] >= b[i * sb];                                             \
        break;                                                                       \
      case LOGIC_AND:                                                                \
        for (gsize i = 0; i < n; i++)                                                \
          y[i] = a[i * sa] != 0 && b[i * sb] != 0;                                   \
        break;                                                                       \
      case LOGIC_OR:                                                                 \
        for (gsize i = 0; i < n; i++)                                                \
          y[i] = a[i * sa] != 0 || b[i * sb] != 0;                                   \
        break;                                                                       \
      case LOGIC_XOR:                                                                \
        for (gsize i = 0; i < n; i++)                                                \
          y[i] = (a[i * sa] != 0) != (b[i * sb] != 0);                               \
        break;                                                                       \
      default:                                                                       \
        break;                                                                       \
      }                                                                              \
  }

DEFINE_COMPARE (f32, float)
DEFINE_COMPARE (i8, gint8)
DEFINE_COMPARE (u8, guint8)
DEFINE_COMPARE (i32, gint32)
DEFINE_COMPARE (i64, gint64)

static void
compare_segment (gpointer user_data, gsize a_offset, gssize a_step, gsize b_offset,
                 gssize b_step, gsize y_offset, gsize n)
{
  const CompareJob *job = user_data;
  const guint8 *a = job->a + a_offset * job->size;
  const guint8 *b = job->b + b_offset * job->size;
  guint8 *y = job->y + y_offset;
  CompareKind kind = job->state->kind;

  switch (job->state->dtype)
    {
    case KESTREL_DTYPE_FLOAT32:
      compare_f32 (kind, (const float *) a, a_step, (const float *) b, b_step, y, n);
      break;
    case KESTREL_DTYPE_INT8:
      compare_i8 (kind, (const gint8 *) a, a_step, (const gint8 *) b, b_step, y, n);
      break;
    case KESTREL_DTYPE_UINT8:
      compare_u8 (kind, a, a_step, b, b_step, y, n);
      break;
    case KESTREL_DTYPE_BOOL:
      /* Equal on bool compares truth values, not bytes. */
      if (kind == CMP_EQUAL)
        kind = LOGIC_XOR;
      compare_u8 (kind, a, a_step, b, b_step, y, n);
      if (job->state->kind == CMP_EQUAL)
        for (gsize i = 0; i < n; i++)
          y[i] = !y[i];
      break;
    case KESTREL_DTYPE_INT32:
      compare_i32 (kind, (const gint32 *) a, a_step, (const gint32 *) b, b_step, y, n);
      break;
    case KESTREL_DTYPE_INT64:
      compare_i64 (kind, (const gint64 *) a, a_step, (const gint64 *) b, b_step, y, n);
      break;
    default:
      break; /* infer() admits no other type */
    }
}

static void
compare_chunk (gsize begin, gsize end, guint worker G_GNUC_UNUSED, gpointer user_data)
{
  const CompareJob *job = user_data;

  kestrel_math_broadcast_range (&job->state->bc, begin, end, compare_segment, (gpointer) job);
}

static void
compare_run (const KestrelStep *step)
{
  const CompareState *state = step->state;
  gsize n = step->outputs[0].n_elements;
  CompareJob job = {
    .state = state,
    .a = step->inputs[0].data,
    .b = step->inputs[1].data,
    .y = step->outputs[0].data,
    .size = kestrel_dtype_get_size (state->dtype),
  };

  if (n >= KESTREL_MATH_PARALLEL_MIN_ELEMENTS)
    kestrel_step_parallel_for (step, n, compare_chunk, &job);
  else if (n > 0)
    compare_chunk (0, n, 0, &job);
}

static gboolean
compare_prepare (const CompareDesc *desc, KestrelStep *step)
{
  const KestrelTensorView *a = &step->inputs[0], *b = &step->inputs[1];
  const KestrelTensorView *y = &step->outputs[0];
  CompareState *state = g_new0 (CompareState, 1);

  state->kind = desc->kind;
  state->dtype = a->dtype;
  kestrel_math_broadcast_init (&state->bc, y->n_dims, y->shape, a->n_dims, a->shape,
                               b->n_dims, b->shape);
  step->state = state;
  step->free_state = g_free;
  return TRUE;
}

static gboolean
compare_infer (const CompareDesc *desc, KestrelGraph *graph, KestrelNode *node, GError **error)
{
  static const KestrelDType numeric[] = {
    KESTREL_DTYPE_FLOAT32, KESTREL_DTYPE_INT8, KESTREL_DTYPE_UINT8,
    KESTREL_DTYPE_INT32, KESTREL_DTYPE_INT64, KESTREL_DTYPE_BOOL,
  };
  static const KestrelDType boolean[] = { KESTREL_DTYPE_BOOL };
  const KestrelValue *a, *b;
  guint out_dims;
  gint64 out[KESTREL_TENSOR_MAX_DIMS];

  if (!kestrel_op_check_arity (node, 2, 2, 1, error))
    return FALSE;
  a = kestrel_op_input (graph, node, 0, error);
  b = a != NULL ? kestrel_op_input (graph, node, 1, error) : NULL;
  if (b == NULL)
    return FALSE;
  if (desc->only_bool)
    {
      if (!kestrel_op_check_dtype (node, 0, a, boolean, 1, error)
          || !kestrel_op_check_dtype (node, 1, b, boolean, 1, error))
        return FALSE;
    }
  else if (!kestrel_op_check_dtype (node, 0, a, numeric,
                                    G_N_ELEMENTS (numeric) - (desc->takes_bool ? 0 : 1), error))
    return FALSE;
  if (a->dtype != b->dtype)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "input 0 ('%s') is %s but input 1 ('%s') is %s; they must have "
                              "the same type", a->name, kestrel_dtype_get_name (a->dtype),
                              b->name, kestrel_dtype_get_name (b->dtype));
      return FALSE;
    }
  if (!kestrel_op_broadcast_shapes (node, a->n_dims, a->shape, b->n_dims, b->shape, &out_dims,
                                    out, error))
    return FALSE;
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_BOOL, out_dims, out);
  return TRUE;
}

#define COMPARE_OP(name, op_type, min, max, ...)                                     \
  static const CompareDesc name##_desc = { __VA_ARGS__ };                            \
  static gboolean                                                                    \
  name##_infer (KestrelGraph *graph, KestrelNode *node, GError **error)              \
  {                                                                                  \
    return compare_infer (&name##_desc, graph, node, error);                         \
  }                                                                                  \
  static gboolean                                                                    \
  name##_prepare (KestrelStep *step, GError **error G_GNUC_UNUSED)                   \
  {                                                                                  \
    return compare_prepare (&name##_desc, step);                                     \
  }                                                                                  \
  const KestrelOpDef kestrel_op_##name = {                                           \
    "", op_type, min, max, name##_infer, name##_prepare, compare_run, NULL           \
  };

COMPARE_OP (equal, "Equal", 7, 21, .kind = CMP_EQUAL, .takes_bool = TRUE)
COMPARE_OP (less, "Less", 7, 21, .kind = CMP_LESS)
COMPARE_OP (less_or_equal, "LessOrEqual", 12, 21, .kind = CMP_LESS_EQUAL)
COMPARE_OP (greater, "Greater", 7, 21, .kind = CMP_GREATER)
COMPARE_OP (greater_or_equal, "GreaterOrEqual", 12, 21, .kind = CMP_GREATER_EQUAL)
COMPARE_OP (and, "And", 7, 21, .kind = LOGIC_AND, .only_bool = TRUE)
COMPARE_OP (or, "Or", 7, 21, .kind = LOGIC_OR, .only_bool = TRUE)
COMPARE_OP (xor, "Xor", 7, 21, .kind = LOGIC_XOR, .only_bool = TRUE)

/* ---- Not, IsNaN, IsInf --------------------------------------------------- */

static gboolean
not_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  static const KestrelDType boolean[] = { KESTREL_DTYPE_BOOL };
  const KestrelValue *x;

  if (!kestrel_op_check_arity (node, 1, 1, 1, error))
    return FALSE;
  x = kestrel_op_input (graph, node, 0, error);
  if (x == NULL || !kestrel_op_check_dtype (node, 0, x, boolean, 1, error))
    return FALSE;
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_BOOL, x->n_dims, x->shape);
  return TRUE;
}

static void
not_run (const KestrelStep *step)
{
  const guint8 *x = step->inputs[0].data;
  guint8 *y = step->outputs[0].data;

  for (gsize i = 0; i < step->outputs[0].n_elements; i++)
    y[i] = x[i] == 0;
}

const KestrelOpDef kestrel_op_not = { "", "Not", 1, 21, not_infer, NULL, not_run, NULL };

static gboolean
float_test_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x;

  if (!kestrel_op_check_arity (node, 1, 1, 1, error)
      || !kestrel_node_check_attr_type (node, "detect_negative", KESTREL_ATTR_INT, error)
      || !kestrel_node_check_attr_type (node, "detect_positive", KESTREL_ATTR_INT, error))
    return FALSE;
  x = kestrel_op_input (graph, node, 0, error);
  if (x == NULL || !kestrel_op_check_float (node, 0, x, error))
    return FALSE;
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_BOOL, x->n_dims, x->shape);
  return TRUE;
}

static void
is_nan_run (const KestrelStep *step)
{
  const float *x = step->inputs[0].data;
  guint8 *y = step->outputs[0].data;

  for (gsize i = 0; i < step->outputs[0].n_elements; i++)
    y[i] = isnan (x[i]) != 0;
}

static void
is_inf_run (const KestrelStep *step)
{
  const float *x = step->inputs[0].data;
  guint8 *y = step->outputs[0].data;
  gboolean neg = kestrel_node_attr_int (step->node, "detect_negative", 1) != 0;
  gboolean pos = kestrel_node_attr_int (step->node, "detect_positive", 1) != 0;

  for (gsize i = 0; i < step->outputs[0].n_elements; i++)
    y[i] = isinf (x[i]) && (x[i] > 0 ? pos : neg);
}

const KestrelOpDef kestrel_op_is_nan = { "", "IsNaN", 9, 21, float_test_infer, NULL, is_nan_run, NULL };
const KestrelOpDef kestrel_op_is_inf = { "", "IsInf", 10, 21, float_test_infer, NULL, is_inf_run, NULL };

/* ---- Where --------------------------------------------------------------- */

typedef struct {
  guint n_dims;
  gint64 shape[KESTREL_TENSOR_MAX_DIMS];
  gint64 stride[3][KESTREL_TENSOR_MAX_DIMS];  /* condition, X, Y */
  gsize elem_size;
} WhereState;

static gboolean
where_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  static const KestrelDType boolean[] = { KESTREL_DTYPE_BOOL };
  const KestrelValue *in[3];
  guint out_dims;
  gint64 out[KESTREL_TENSOR_MAX_DIMS];

  if (!kestrel_op_check_arity (node, 3, 3, 1, error))
    return FALSE;
  for (guint i = 0; i < 3; i++)
    if ((in[i] = kestrel_op_input (graph, node, i, error)) == NULL)
      return FALSE;
  if (!kestrel_op_check_dtype (node, 0, in[0], boolean, 1, error))
    return FALSE;
  if (in[1]->dtype != in[2]->dtype)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "X ('%s') is %s but Y ('%s') is %s; they must have the same type",
                              in[1]->name, kestrel_dtype_get_name (in[1]->dtype), in[2]->name,
                              kestrel_dtype_get_name (in[2]->dtype));
      return FALSE;
    }
  out_dims = in[0]->n_dims;
  memcpy (out, in[0]->shape, sizeof out);
  for (guint i = 1; i < 3; i++)
    if (!kestrel_op_broadcast_shapes (node, out_dims, out, in[i]->n_dims, in[i]->shape,
                                      &out_dims, out, error))
      return FALSE;
  kestrel_op_set_output (graph, node, 0, in[1]->dtype, out_dims, out);
  return TRUE;
}

static gboolean
where_prepare (KestrelStep *step, GError **error G_GNUC_UNUSED)
{
  const KestrelTensorView *y = &step->outputs[0];
  WhereState *state = g_new0 (WhereState, 1);

  state->n_dims = y->n_dims;
  memcpy (state->shape, y->shape, sizeof state->shape);
  for (guint i = 0; i < 3; i++)
    kestrel_op_broadcast_strides (y->n_dims, y->shape, step->inputs[i].n_dims,
                                  step->inputs[i].shape, state->stride[i]);
  state->elem_size = kestrel_dtype_get_size (y->dtype);
  step->state = state;
  step->free_state = g_free;
  return TRUE;
}

static void
where_run (const KestrelStep *step)
{
  const WhereState *st = step->state;
  const guint8 *cond = step->inputs[0].data;
  const guint8 *x = step->inputs[1].data, *yv = step->inputs[2].data;
  guint8 *out = step->outputs[0].data;
  gsize n = step->outputs[0].n_elements;
  gint64 idx[KESTREL_TENSOR_MAX_DIMS] = { 0 };
  gint64 off[3] = { 0, 0, 0 };

  for (gsize o = 0; o < n; o++)
    {
      const guint8 *src = cond[off[0]] ? x + off[1] * st->elem_size : yv + off[2] * st->elem_size;

      memcpy (out + o * st->elem_size, src, st->elem_size);
      /* Advance the output index, moving each input's offset along. */
      for (gint d = (gint) st->n_dims - 1; d >= 0; d--)
        {
          idx[d]++;
          for (guint i = 0; i < 3; i++)
            off[i] += st->stride[i][d];
          if (idx[d] < st->shape[d])
            break;
          for (guint i = 0; i < 3; i++)
            off[i] -= idx[d] * st->stride[i][d];
          idx[d] = 0;
        }
    }
}

const KestrelOpDef kestrel_op_where = { "", "Where", 9, 21, where_infer, where_prepare, where_run, NULL };
