/* ops-math-binary.c — Add, Sub, Mul, Div, Pow, PRelu, Mod, BitShift and the
 * variadic Max, Min, Sum, Mean, with numpy (multidirectional) broadcasting.
 *
 * Data types: float32 everywhere; float16 where ONNX has it, computed in
 * float32 and rounded back once per operation (what numpy does for half);
 * int8, uint8, int32, int64 and float64 for the arithmetic, Max and Min,
 * int32 and int64 for Pow and PRelu, uint8 (Kestrel's one unsigned type)
 * for BitShift. Integer arithmetic wraps as numpy's does, and an integer
 * division by zero gives 0 (numpy warns and gives 0 too) instead of
 * trapping, since run() must not fail.
 *
 * A variadic op folds its inputs pairwise into the output: out = in0 op in1,
 * then out = out op in_k, each pair with its own broadcast strides.
 */
#include "config.h"

#include "ops-math.h"

#include <math.h>
#include <string.h>

#include "kestrel-error.h"

/* One run along the innermost dimension; a_step and b_step are 0 or 1. */
typedef void (*MathLoop) (const void *a, gssize a_step, const void *b, gssize b_step,
                          void *y, gsize n);

typedef struct {
  /* Per dtype; NULL when ONNX (or Kestrel) does not have the op for it. A
   * float16 entry is only a marker: float16 runs the float32 loop on
   * converted blocks. */
  MathLoop loops[KESTREL_DTYPE_N_TYPES];
  gboolean variadic;
  /* float32 runs use kernels->binary_f32 with this op (exact: the same bits
   * at every level) */
  gboolean has_kernel;
  kk_binary_op kernel_op;
  gboolean is_mean;        /* divide by the input count at the end */
  /* Mod: `loops` are fmod = 1's (C's remainder, the dividend's sign);
   * fmod = 0 (integers only) takes the divisor's sign from these. */
  const MathLoop *floor_mod_loops;
  /* BitShift: `loops` shift left; direction = "RIGHT" takes these. */
  const MathLoop *right_shift_loops;
  gboolean unidirectional; /* PRelu: the slope broadcasts to x, never the reverse */
  gboolean mixed_exponent; /* Pow: the exponent may have another numeric dtype */
  /* Opsets 1 to 6: B broadcasts to A only, and only with the `broadcast`
   * attribute, its dimensions placed at `axis` (default: the trailing
   * ones). PRelu 6 instead takes a slope per channel (axis 1). */
  gboolean legacy;
  gboolean legacy_channel;
} MathBinaryDesc;

typedef struct {
  const MathBinaryDesc *desc;
  KestrelDType dtype;      /* of the output and the first input */
  KestrelDType b_dtype;    /* of the other inputs (differs only for Pow) */
  MathLoop loop;
  guint n_pairs;
  KestrelMathBroadcast *bc; /* n_pairs */
} BinaryState;

/* ---- Loops ------------------------------------------------------------- */

/* The four stride cases get their own loops so that the common ones
 * (same shape, and a broadcast scalar) vectorise. `x` and `z` are the two
 * operands in EXPR. */
#define DEFINE_LOOP(name, T, EXPR)                                                   \
  static void                                                                        \
  name (const void *pa, gssize sa, const void *pb, gssize sb, void *py, gsize n)     \
  {                                                                                  \
    const T *a = pa;                                                                 \
    const T *b = pb;                                                                 \
    T *y = py;                                                                       \
    if (sa == 1 && sb == 1)                                                          \
      for (gsize i = 0; i < n; i++)                                                  \
        {                                                                            \
          T x = a[i], z = b[i];                                                      \
          y[i] = (EXPR);                                                             \
        }                                                                            \
    else if (sa == 1)                                                                \
      {                                                                              \
        const T z = b[0];                                                            \
        for (gsize i = 0; i < n; i++)                                                \
          {                                                                          \
            T x = a[i];                                                              \
            y[i] = (EXPR);                                                           \
          }                                                                          \
      }                                                                              \
    else if (sb == 1)                                                                \
      {                                                                              \
        const T x = a[0];                                                            \
        for (gsize i = 0; i < n; i++)                                                \
          {                                                                          \
            T z = b[i];                                                              \
            y[i] = (EXPR);                                                           \
          }                                                                          \
      }                                                                              \
    else                                                                             \
      {                                                                              \
        const T x = a[0], z = b[0];                                                  \
        const T v = (EXPR);                                                          \
        for (gsize i = 0; i < n; i++)                                                \
          y[i] = v;                                                                  \
      }                                                                              \
  }

/* Integer + - * wrap: computed in the unsigned type of the same width
 * (signed overflow would be undefined behaviour in C). */
#define DEFINE_WRAPPING_LOOPS(op, OP)                                                \
  DEFINE_LOOP (op##_f32, float, x OP z)                                              \
  DEFINE_LOOP (op##_f64, double, x OP z)                                             \
  DEFINE_LOOP (op##_i8, gint8, (gint8) (guint8) ((guint8) x OP (guint8) z))          \
  DEFINE_LOOP (op##_u8, guint8, (guint8) (x OP z))                                   \
  DEFINE_LOOP (op##_i32, gint32, (gint32) ((guint32) x OP (guint32) z))              \
  DEFINE_LOOP (op##_i64, gint64, (gint64) ((guint64) x OP (guint64) z))

DEFINE_WRAPPING_LOOPS (add, +)
DEFINE_WRAPPING_LOOPS (sub, -)
DEFINE_WRAPPING_LOOPS (mul, *)

DEFINE_LOOP (div_f32, float, x / z)
DEFINE_LOOP (div_f64, double, x / z)
/* Integer division truncates (C and numpy's astype agree); by zero gives 0,
 * and MIN / -1 wraps instead of trapping. */
DEFINE_LOOP (div_i8, gint8, z == 0 ? 0 : (gint8) (guint8) ((gint) x / (gint) z))
DEFINE_LOOP (div_u8, guint8, z == 0 ? 0 : x / z)
DEFINE_LOOP (div_i32, gint32, z == 0 ? 0 : z == -1 ? (gint32) (0u - (guint32) x) : x / z)
DEFINE_LOOP (div_i64, gint64, z == 0 ? 0 : z == -1 ? (gint64) ((guint64) 0 - (guint64) x) : x / z)

/* numpy.maximum / minimum: a NaN operand wins. */
DEFINE_LOOP (max_f32, float, x != x || x > z ? x : z)
DEFINE_LOOP (min_f32, float, x != x || x < z ? x : z)
DEFINE_LOOP (max_f64, double, x != x || x > z ? x : z)
DEFINE_LOOP (min_f64, double, x != x || x < z ? x : z)
DEFINE_LOOP (max_i8, gint8, x > z ? x : z)
DEFINE_LOOP (min_i8, gint8, x < z ? x : z)
DEFINE_LOOP (max_u8, guint8, x > z ? x : z)
DEFINE_LOOP (min_u8, guint8, x < z ? x : z)
DEFINE_LOOP (max_i32, gint32, x > z ? x : z)
DEFINE_LOOP (min_i32, gint32, x < z ? x : z)
DEFINE_LOOP (max_i64, gint64, x > z ? x : z)
DEFINE_LOOP (min_i64, gint64, x < z ? x : z)

/* Integer power as numpy computes it: exact, wrapping on overflow; a
 * negative exponent gives the integer part of the true result. */
static gint64
ipow (gint64 base, gint64 exponent)
{
  guint64 result = 1, b = (guint64) base;

  if (exponent < 0)
    return base == 1 ? 1 : base == -1 ? ((exponent & 1) ? -1 : 1) : 0;
  while (exponent > 0)
    {
      if (exponent & 1)
        result *= b;
      b *= b;
      exponent >>= 1;
    }
  return (gint64) result;
}

/* x^2 is x * x, as ONNX Runtime computes it: the correctly rounded square,
 * which libm's powf need not return, and a tenth of its time (LayerNorm
 * written out squares with Pow). */
DEFINE_LOOP (pow_f32, float, z == 2.0f ? x * x : powf (x, z))
DEFINE_LOOP (pow_i32, gint32, (gint32) (guint32) ipow (x, z))
DEFINE_LOOP (pow_i64, gint64, ipow (x, z))

DEFINE_LOOP (prelu_f32, float, x < 0 ? x * z : x)
DEFINE_LOOP (prelu_i32, gint32, x < 0 ? (gint32) ((guint32) x * (guint32) z) : x)
DEFINE_LOOP (prelu_i64, gint64, x < 0 ? (gint64) ((guint64) x * (guint64) z) : x)

/* Mod. C's remainder (fmod = 1) and the floored one (fmod = 0, Python's
 * %), whose sign is the divisor's. A zero divisor gives 0 for integers
 * (run() cannot trap) and NaN for floats, as fmodf does. */
#define FLOOR_MOD(T, x, z) \
  ((T) ((x) % (z) != 0 && (((x) % (z) < 0) != ((z) < 0)) ? (x) % (z) + (z) : (x) % (z)))

DEFINE_LOOP (fmod_f32, float, fmodf (x, z))
DEFINE_LOOP (fmod_f64, double, fmod (x, z))
DEFINE_LOOP (fmod_i8, gint8, z == 0 || z == -1 ? 0 : x % z)
DEFINE_LOOP (fmod_u8, guint8, z == 0 ? 0 : x % z)
DEFINE_LOOP (fmod_i32, gint32, z == 0 || z == -1 ? 0 : x % z)
DEFINE_LOOP (fmod_i64, gint64, z == 0 || z == -1 ? 0 : x % z)
DEFINE_LOOP (mod_i8, gint8, z == 0 || z == -1 ? 0 : FLOOR_MOD (gint8, x, z))
DEFINE_LOOP (mod_u8, guint8, z == 0 ? 0 : x % z)
DEFINE_LOOP (mod_i32, gint32, z == 0 || z == -1 ? 0 : FLOOR_MOD (gint32, x, z))
DEFINE_LOOP (mod_i64, gint64, z == 0 || z == -1 ? 0 : FLOOR_MOD (gint64, x, z))

/* BitShift. A shift by the type's width or more gives 0 (numpy's result;
 * in C it would be undefined). */
DEFINE_LOOP (shift_left_u8, guint8, z >= 8 ? 0 : (guint8) (x << z))
DEFINE_LOOP (shift_right_u8, guint8, z >= 8 ? 0 : (guint8) (x >> z))

static const MathLoop right_shift_loops[KESTREL_DTYPE_N_TYPES] = {
  [KESTREL_DTYPE_UINT8] = shift_right_u8,
};

static const MathLoop floor_mod_loops[KESTREL_DTYPE_N_TYPES] = {
  [KESTREL_DTYPE_INT8] = mod_i8, [KESTREL_DTYPE_UINT8] = mod_u8,
  [KESTREL_DTYPE_INT32] = mod_i32, [KESTREL_DTYPE_INT64] = mod_i64,
};

/* ---- Mixed-type Pow ----------------------------------------------------- */

/* Elements convert with kestrel_op_load_double / kestrel_op_store_double. */

/* ---- Legacy broadcasting (opsets 1 to 6) -------------------------------- */

/* B's shape padded to A's rank with its dimensions where the old rules put
 * them, so that numpy broadcasting of A and the padded shape is the old
 * semantics. Fails when B does not fit A. */
static gboolean
legacy_b_shape (const MathBinaryDesc *desc, const KestrelNode *node, guint a_dims,
                const gint64 *a, guint b_dims, const gint64 *b, gint64 *padded, GError **error)
{
  gsize b_elements = 1;
  gint64 axis;

  for (guint d = 0; d < b_dims; d++)
    b_elements *= (gsize) b[d];
  for (guint d = 0; d < a_dims; d++)
    padded[d] = 1;

  if (desc->legacy_channel)
    {
      /* A single slope, or one per channel; otherwise the slope's shape
       * must already line up with x's. */
      if (b_elements == 1)
        return TRUE;
      axis = b_dims == 1 && a_dims >= 2 && b[0] == a[1] ? 1 : (gint64) a_dims - (gint64) b_dims;
    }
  else if (kestrel_node_attr_int (node, "broadcast", 0) == 0)
    {
      if (b_dims == a_dims && memcmp (a, b, a_dims * sizeof (gint64)) == 0)
        {
          memcpy (padded, b, b_dims * sizeof (gint64));
          return TRUE;
        }
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "the inputs' shapes differ and the 'broadcast' attribute is not "
                              "set (opset 6 and earlier broadcast only when asked to)");
      return FALSE;
    }
  else if (b_elements == 1 && b_dims > a_dims)
    return TRUE;
  else
    {
      axis = kestrel_node_attr_int (node, "axis", (gint64) a_dims - (gint64) b_dims);
      if (axis < 0)
        axis += a_dims;
    }

  if (axis < 0 || axis + (gint64) b_dims > (gint64) a_dims)
    goto mismatch;
  for (guint d = 0; d < b_dims; d++)
    {
      if (b[d] != 1 && b[d] != a[axis + d])
        goto mismatch;
      padded[axis + d] = b[d];
    }
  return TRUE;

mismatch:
  {
    g_autofree char *sa = kestrel_shape_to_string (a_dims, a);
    g_autofree char *sb = kestrel_shape_to_string (b_dims, b);
    kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                            "%s %s does not broadcast to %s", desc->legacy_channel ? "slope"
                                                                                   : "input 1",
                            sb, sa);
    return FALSE;
  }
}

/* ---- Running ----------------------------------------------------------- */

typedef struct {
  const BinaryState *state;
  const kk_kernels *kernels;
  const KestrelMathBroadcast *bc;
  const guint8 *a, *b;
  guint8 *y;
  gsize a_size, b_size, y_size;
} PairJob;

#define F16_BLOCK 256

static void
f16_segment (const PairJob *job, const guint16 *a, gssize sa, const guint16 *b, gssize sb,
             guint16 *y, gsize n)
{
  float fa[F16_BLOCK], fb[F16_BLOCK], fy[F16_BLOCK];

  for (gsize i = 0; i < n; i += F16_BLOCK)
    {
      gsize len = MIN (F16_BLOCK, n - i);

      job->kernels->f16_to_f32 (a + i * sa, fa, sa ? len : 1);
      job->kernels->f16_to_f32 (b + i * sb, fb, sb ? len : 1);
      job->state->loop (fa, sa, fb, sb, fy, len);
      job->kernels->f32_to_f16 (fy, y + i, len);
    }
}

static void
binary_segment (gpointer user_data, gsize a_offset, gssize a_step, gsize b_offset, gssize b_step,
                gsize y_offset, gsize n)
{
  const PairJob *job = user_data;
  const BinaryState *state = job->state;
  const guint8 *a = job->a + a_offset * job->a_size;
  const guint8 *b = job->b + b_offset * job->b_size;
  guint8 *y = job->y + y_offset * job->y_size;

  if (state->dtype != state->b_dtype)
    {
      for (gsize i = 0; i < n; i++)
        kestrel_op_store_double (state->dtype, y, i,
                      pow (kestrel_op_load_double (state->dtype, a, a_step * i),
                           kestrel_op_load_double (state->b_dtype, b, b_step * i)));
    }
  else if (state->dtype == KESTREL_DTYPE_FLOAT16)
    f16_segment (job, (const guint16 *) a, a_step, (const guint16 *) b, b_step, (guint16 *) y, n);
  else if (state->desc->has_kernel && state->dtype == KESTREL_DTYPE_FLOAT32)
    job->kernels->binary_f32 (state->desc->kernel_op, (const float *) a, (gsize) a_step,
                              (const float *) b, (gsize) b_step, (float *) y, n);
  else
    state->loop (a, a_step, b, b_step, y, n);
}

static void
pair_chunk (gsize begin, gsize end, guint worker_index G_GNUC_UNUSED, gpointer user_data)
{
  const PairJob *job = user_data;

  kestrel_math_broadcast_range (job->bc, begin, end, binary_segment, (gpointer) job);
}

static void
mean_scale (const KestrelStep *step, gsize begin, gsize end, float count)
{
  const KestrelTensorView *out = &step->outputs[0];

  if (out->dtype == KESTREL_DTYPE_FLOAT32)
    {
      float *y = out->data;
      for (gsize i = begin; i < end; i++)
        y[i] /= count;
    }
  else
    {
      guint16 *y = out->data;
      float block[F16_BLOCK];
      for (gsize i = begin; i < end; i += F16_BLOCK)
        {
          gsize len = MIN (F16_BLOCK, end - i);
          step->kernels->f16_to_f32 (y + i, block, len);
          for (gsize k = 0; k < len; k++)
            block[k] /= count;
          step->kernels->f32_to_f16 (block, y + i, len);
        }
    }
}

static void
binary_run (const KestrelStep *step)
{
  const BinaryState *state = step->state;
  const KestrelTensorView *out = &step->outputs[0];
  gsize n = out->n_elements;

  if (n == 0)
    return;
  if (state->n_pairs == 0)
    {
      /* A variadic op of one input is a copy. */
      if (out->data != step->inputs[0].data)
        memcpy (out->data, step->inputs[0].data, n * kestrel_dtype_get_size (out->dtype));
    }
  for (guint p = 0; p < state->n_pairs; p++)
    {
      PairJob job = {
        .state = state,
        .kernels = step->kernels,
        .bc = &state->bc[p],
        .a = p == 0 ? step->inputs[0].data : out->data,
        .b = step->inputs[p + 1].data,
        .y = out->data,
        .a_size = kestrel_dtype_get_size (state->dtype),
        .b_size = kestrel_dtype_get_size (state->b_dtype),
        .y_size = kestrel_dtype_get_size (state->dtype),
      };

      if (n >= KESTREL_MATH_PARALLEL_MIN_ELEMENTS)
        kestrel_step_parallel_for (step, n, pair_chunk, &job);
      else
        pair_chunk (0, n, 0, &job);
    }
  if (state->desc->is_mean)
    mean_scale (step, 0, n, (float) step->n_inputs);
}

static void
binary_state_free (gpointer data)
{
  BinaryState *state = data;

  g_free (state->bc);
  g_free (state);
}

static gboolean
shift_is_right (const KestrelNode *node)
{
  const char *direction = kestrel_node_attr_string (node, "direction", "");
  return strcmp (direction, "RIGHT") == 0;
}

static gboolean
binary_prepare (const MathBinaryDesc *desc, KestrelStep *step)
{
  const KestrelTensorView *out = &step->outputs[0];
  BinaryState *state = g_new0 (BinaryState, 1);

  state->desc = desc;
  state->dtype = step->inputs[0].dtype;
  state->b_dtype = step->n_inputs > 1 ? step->inputs[1].dtype : state->dtype;
  state->loop = desc->loops[state->dtype == KESTREL_DTYPE_FLOAT16 ? KESTREL_DTYPE_FLOAT32
                                                                  : state->dtype];
  if (desc->floor_mod_loops != NULL && kestrel_node_attr_int (step->node, "fmod", 0) == 0)
    state->loop = desc->floor_mod_loops[state->dtype];
  if (desc->right_shift_loops != NULL && shift_is_right (step->node))
    state->loop = desc->right_shift_loops[state->dtype];
  state->n_pairs = step->n_inputs - 1;
  state->bc = g_new0 (KestrelMathBroadcast, MAX (state->n_pairs, 1));
  for (guint p = 0; p < state->n_pairs; p++)
    {
      const KestrelTensorView *a = p == 0 ? &step->inputs[0] : out;
      const KestrelTensorView *b = &step->inputs[p + 1];
      gint64 padded[KESTREL_TENSOR_MAX_DIMS];

      if (desc->legacy
          && legacy_b_shape (desc, step->node, a->n_dims, a->shape, b->n_dims, b->shape, padded,
                             NULL))
        kestrel_math_broadcast_init (&state->bc[p], out->n_dims, out->shape,
                                     a->n_dims, a->shape, a->n_dims, padded);
      else
        kestrel_math_broadcast_init (&state->bc[p], out->n_dims, out->shape,
                                     a->n_dims, a->shape, b->n_dims, b->shape);
    }
  step->state = state;
  step->free_state = binary_state_free;
  return TRUE;
}

/* ---- Inference --------------------------------------------------------- */

static gboolean
check_loop_dtype (const MathBinaryDesc *desc, const KestrelNode *node, guint i,
                  const KestrelValue *value, GError **error)
{
  KestrelDType allowed[KESTREL_DTYPE_N_TYPES];
  guint n = 0;

  for (guint d = 0; d < KESTREL_DTYPE_N_TYPES; d++)
    if (desc->loops[d] != NULL)
      allowed[n++] = (KestrelDType) d;
  return kestrel_op_check_dtype (node, i, value, allowed, n, error);
}

static gboolean
binary_infer (const MathBinaryDesc *desc, KestrelGraph *graph, KestrelNode *node, GError **error)
{
  guint n_inputs = kestrel_node_n_inputs (node);
  const KestrelValue *first;
  guint out_dims;
  gint64 out[KESTREL_TENSOR_MAX_DIMS];

  if (!kestrel_op_check_arity (node, desc->variadic ? 1 : 2, desc->variadic ? G_MAXUINT : 2, 1,
                               error))
    return FALSE;
  if (desc->legacy
      && (!kestrel_node_check_attr_type (node, "broadcast", KESTREL_ATTR_INT, error)
          || !kestrel_node_check_attr_type (node, "axis", KESTREL_ATTR_INT, error)))
    return FALSE;
  first = kestrel_op_input (graph, node, 0, error);
  if (first == NULL || !check_loop_dtype (desc, node, 0, first, error))
    return FALSE;
  if (desc->floor_mod_loops != NULL
      && (!kestrel_node_check_attr_type (node, "fmod", KESTREL_ATTR_INT, error)
          || (kestrel_node_attr_int (node, "fmod", 0) == 0
              && desc->floor_mod_loops[first->dtype] == NULL)))
    {
      if (error != NULL && *error == NULL)
        kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                "fmod = 0 (the divisor's sign) is for integers; %s input '%s' "
                                "needs fmod = 1", kestrel_dtype_get_name (first->dtype),
                                first->name);
      return FALSE;
    }
  if (desc->right_shift_loops != NULL)
    {
      const char *direction;

      if (!kestrel_node_check_attr_type (node, "direction", KESTREL_ATTR_STRING, error))
        return FALSE;
      direction = kestrel_node_attr_string (node, "direction", NULL);
      if (direction == NULL || (strcmp (direction, "LEFT") != 0 && strcmp (direction, "RIGHT") != 0))
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "attribute 'direction' must be \"LEFT\" or \"RIGHT\", not %s%s%s",
                                  direction ? "\"" : "", direction ? direction : "missing",
                                  direction ? "\"" : "");
          return FALSE;
        }
    }
  out_dims = first->n_dims;
  memcpy (out, first->shape, sizeof out);

  for (guint i = 1; i < n_inputs; i++)
    {
      const KestrelValue *value = kestrel_op_input (graph, node, i, error);
      guint dims;
      gint64 shape[KESTREL_TENSOR_MAX_DIMS];

      if (value == NULL)
        return FALSE;
      if (desc->mixed_exponent)
        {
          static const KestrelDType exponents[] = {
            KESTREL_DTYPE_FLOAT32, KESTREL_DTYPE_INT8, KESTREL_DTYPE_UINT8,
            KESTREL_DTYPE_INT32, KESTREL_DTYPE_INT64,
          };
          if (value->dtype != first->dtype && first->dtype == KESTREL_DTYPE_FLOAT16)
            {
              kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                                      "a float16 base needs a float16 exponent, input %u "
                                      "('%s') is %s", i, value->name,
                                      kestrel_dtype_get_name (value->dtype));
              return FALSE;
            }
          if (value->dtype != first->dtype
              && !kestrel_op_check_dtype (node, i, value, exponents, G_N_ELEMENTS (exponents),
                                          error))
            return FALSE;
        }
      else if (value->dtype != first->dtype)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "input %u ('%s') is %s but input 0 ('%s') is %s; they must "
                                  "have the same type", i, value->name,
                                  kestrel_dtype_get_name (value->dtype), first->name,
                                  kestrel_dtype_get_name (first->dtype));
          return FALSE;
        }
      if (desc->legacy)
        {
          gint64 padded[KESTREL_TENSOR_MAX_DIMS];

          /* The output is A's shape. */
          if (!legacy_b_shape (desc, node, first->n_dims, first->shape, value->n_dims,
                               value->shape, padded, error))
            return FALSE;
          continue;
        }
      if (!kestrel_op_broadcast_shapes (node, out_dims, out, value->n_dims, value->shape,
                                        &dims, shape, error))
        return FALSE;
      if (desc->unidirectional
          && (dims != first->n_dims || memcmp (shape, first->shape, dims * sizeof (gint64)) != 0))
        {
          g_autofree char *x = kestrel_shape_to_string (first->n_dims, first->shape);
          g_autofree char *s = kestrel_shape_to_string (value->n_dims, value->shape);
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "slope %s does not broadcast to the input's shape %s", s, x);
          return FALSE;
        }
      out_dims = dims;
      memcpy (out, shape, sizeof out);
    }
  kestrel_op_set_output (graph, node, 0, first->dtype, out_dims, out);
  return TRUE;
}

/* ---- Definitions ------------------------------------------------------- */

#define F16_MARKER ((MathLoop) add_f32) /* any non-NULL entry: see MathBinaryDesc */

#define ARITH_LOOPS(op)                                                              \
  .loops = {                                                                         \
    [KESTREL_DTYPE_FLOAT32] = op##_f32, [KESTREL_DTYPE_FLOAT16] = F16_MARKER,        \
    [KESTREL_DTYPE_INT8] = op##_i8, [KESTREL_DTYPE_UINT8] = op##_u8,                 \
    [KESTREL_DTYPE_INT32] = op##_i32, [KESTREL_DTYPE_INT64] = op##_i64,              \
    [KESTREL_DTYPE_FLOAT64] = op##_f64,                                              \
  }

/* An operator: its description and the two hooks that need it; run() finds
 * it in the state. */
#define BINARY_OP(name, op_type, min, max, ...)                                      \
  static const MathBinaryDesc name##_desc = { __VA_ARGS__ };                         \
  static gboolean                                                                    \
  name##_infer (KestrelGraph *graph, KestrelNode *node, GError **error)              \
  {                                                                                  \
    return binary_infer (&name##_desc, graph, node, error);                          \
  }                                                                                  \
  static gboolean                                                                    \
  name##_prepare (KestrelStep *step, GError **error G_GNUC_UNUSED)                   \
  {                                                                                  \
    return binary_prepare (&name##_desc, step);                                      \
  }                                                                                  \
  const KestrelOpDef kestrel_op_##name = {                                           \
    "", op_type, min, max, name##_infer, name##_prepare, binary_run, NULL            \
  };

/* Opset 7 replaced the `broadcast` attribute with numpy broadcasting; later
 * versions only added data types. (Opset 1's consumed_inputs attribute was
 * an optimisation hint without meaning.) */
#define KERNEL(op) .has_kernel = TRUE, .kernel_op = KK_BINARY_##op

BINARY_OP (add_1, "Add", 1, 6, ARITH_LOOPS (add), .legacy = TRUE, KERNEL (ADD))
BINARY_OP (sub_1, "Sub", 1, 6, ARITH_LOOPS (sub), .legacy = TRUE, KERNEL (SUB))
BINARY_OP (mul_1, "Mul", 1, 6, ARITH_LOOPS (mul), .legacy = TRUE, KERNEL (MUL))
BINARY_OP (div_1, "Div", 1, 6, ARITH_LOOPS (div), .legacy = TRUE, KERNEL (DIV))
BINARY_OP (add, "Add", 7, 21, ARITH_LOOPS (add), KERNEL (ADD))
BINARY_OP (sub, "Sub", 7, 21, ARITH_LOOPS (sub), KERNEL (SUB))
BINARY_OP (mul, "Mul", 7, 21, ARITH_LOOPS (mul), KERNEL (MUL))
BINARY_OP (div, "Div", 7, 21, ARITH_LOOPS (div), KERNEL (DIV))

BINARY_OP (pow_1, "Pow", 1, 6,
           .loops = { [KESTREL_DTYPE_FLOAT32] = pow_f32, [KESTREL_DTYPE_FLOAT16] = F16_MARKER },
           .legacy = TRUE)

BINARY_OP (pow, "Pow", 7, 21,
           .loops = {
             [KESTREL_DTYPE_FLOAT32] = pow_f32, [KESTREL_DTYPE_FLOAT16] = F16_MARKER,
             [KESTREL_DTYPE_INT32] = pow_i32, [KESTREL_DTYPE_INT64] = pow_i64,
           },
           .mixed_exponent = TRUE)

/* Opset 7 made the slope broadcast unidirectionally; before, it was one
 * value or one per channel. */
BINARY_OP (prelu_6, "PRelu", 6, 6,
           .loops = { [KESTREL_DTYPE_FLOAT32] = prelu_f32, [KESTREL_DTYPE_FLOAT16] = F16_MARKER },
           .legacy = TRUE, .legacy_channel = TRUE)
BINARY_OP (prelu, "PRelu", 7, 21,
           .loops = {
             [KESTREL_DTYPE_FLOAT32] = prelu_f32, [KESTREL_DTYPE_FLOAT16] = F16_MARKER,
             [KESTREL_DTYPE_INT32] = prelu_i32, [KESTREL_DTYPE_INT64] = prelu_i64,
           },
           .unidirectional = TRUE)

/* Mod-13 only added bfloat16. */
BINARY_OP (mod, "Mod", 10, 21, ARITH_LOOPS (fmod), .floor_mod_loops = floor_mod_loops)

/* BitShift-11 is the only version. ONNX also has uint16, uint32 and uint64
 * for it, types Kestrel does not have. */
BINARY_OP (bit_shift, "BitShift", 11, 21,
           .loops = { [KESTREL_DTYPE_UINT8] = shift_left_u8 },
           .right_shift_loops = right_shift_loops)

/* Before opset 8 the inputs had equal shapes, a special case of the
 * broadcasting that opset 8 introduced, so one definition serves all. */
BINARY_OP (max, "Max", 1, 21, ARITH_LOOPS (max), .variadic = TRUE)
BINARY_OP (min, "Min", 1, 21, ARITH_LOOPS (min), .variadic = TRUE)
BINARY_OP (sum, "Sum", 1, 21,
           .loops = { [KESTREL_DTYPE_FLOAT32] = add_f32, [KESTREL_DTYPE_FLOAT16] = F16_MARKER },
           .variadic = TRUE, KERNEL (ADD))
BINARY_OP (mean, "Mean", 1, 21,
           .loops = { [KESTREL_DTYPE_FLOAT32] = add_f32, [KESTREL_DTYPE_FLOAT16] = F16_MARKER },
           .variadic = TRUE, .is_mean = TRUE, KERNEL (ADD))
