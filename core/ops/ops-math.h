/* ops-math.h — private to the ops-math-*.c files: the elementwise and
 * activation reference operators (ONNX semantics) and the broadcasting
 * iterator they share.
 *
 * Every operator follows the contract of kestrel-op.h: infer() checks what
 * a model can get wrong, prepare() computes broadcast strides and parses
 * attributes into step->state once, run() is loops that cannot fail.
 * Float32 work goes through step->kernels where the shapes allow (the
 * scalar table at the scalar levels, which is the reference), plain loops
 * elsewhere. At the parallel levels large tensors are split into
 * contiguous element ranges; every element is computed the same way
 * whichever thread does it, so parallel results equal serial ones.
 */
#pragma once

#include "kestrel-op-util.h"

G_BEGIN_DECLS

/* ops-math-binary.c: multidirectional broadcasting (from opset 7; the
 * `_1` / `_6` definitions have the older `broadcast` attribute), and
 * variadic ops. */
extern const KestrelOpDef kestrel_op_add_1;
extern const KestrelOpDef kestrel_op_sub_1;
extern const KestrelOpDef kestrel_op_mul_1;
extern const KestrelOpDef kestrel_op_div_1;
extern const KestrelOpDef kestrel_op_pow_1;
extern const KestrelOpDef kestrel_op_prelu_6;
extern const KestrelOpDef kestrel_op_add;
extern const KestrelOpDef kestrel_op_sub;
extern const KestrelOpDef kestrel_op_mul;
extern const KestrelOpDef kestrel_op_div;
extern const KestrelOpDef kestrel_op_pow;
extern const KestrelOpDef kestrel_op_prelu;
extern const KestrelOpDef kestrel_op_mod;
extern const KestrelOpDef kestrel_op_bit_shift;
extern const KestrelOpDef kestrel_op_max;
extern const KestrelOpDef kestrel_op_min;
extern const KestrelOpDef kestrel_op_sum;
extern const KestrelOpDef kestrel_op_mean;

/* ops-math-unary.c: activations and unary math, and Clip. */
extern const KestrelOpDef kestrel_op_relu;
extern const KestrelOpDef kestrel_op_leaky_relu;
extern const KestrelOpDef kestrel_op_sigmoid;
extern const KestrelOpDef kestrel_op_hard_sigmoid;
extern const KestrelOpDef kestrel_op_hard_swish;
extern const KestrelOpDef kestrel_op_tanh;
extern const KestrelOpDef kestrel_op_exp;
extern const KestrelOpDef kestrel_op_log;
extern const KestrelOpDef kestrel_op_sqrt;
extern const KestrelOpDef kestrel_op_neg;
extern const KestrelOpDef kestrel_op_abs;
extern const KestrelOpDef kestrel_op_reciprocal;
extern const KestrelOpDef kestrel_op_erf;
extern const KestrelOpDef kestrel_op_elu;
extern const KestrelOpDef kestrel_op_selu;
extern const KestrelOpDef kestrel_op_softplus;
extern const KestrelOpDef kestrel_op_softsign;
extern const KestrelOpDef kestrel_op_thresholded_relu;
extern const KestrelOpDef kestrel_op_celu;
extern const KestrelOpDef kestrel_op_floor;
extern const KestrelOpDef kestrel_op_ceil;
extern const KestrelOpDef kestrel_op_round;
extern const KestrelOpDef kestrel_op_sign;
extern const KestrelOpDef kestrel_op_mish;
extern const KestrelOpDef kestrel_op_gelu;
extern const KestrelOpDef kestrel_op_shrink;
extern const KestrelOpDef kestrel_op_sin;
extern const KestrelOpDef kestrel_op_cos;
extern const KestrelOpDef kestrel_op_tan;
extern const KestrelOpDef kestrel_op_asin;
extern const KestrelOpDef kestrel_op_acos;
extern const KestrelOpDef kestrel_op_atan;
extern const KestrelOpDef kestrel_op_sinh;
extern const KestrelOpDef kestrel_op_cosh;
extern const KestrelOpDef kestrel_op_asinh;
extern const KestrelOpDef kestrel_op_acosh;
extern const KestrelOpDef kestrel_op_atanh;
extern const KestrelOpDef kestrel_op_clip_1;
extern const KestrelOpDef kestrel_op_clip_11;

/* ops-math-reduce.c: the Reduce* family (axes an attribute, then from
 * opset 18 -- ReduceSum 13 -- a constant input) and ArgMax / ArgMin. */
extern const KestrelOpDef kestrel_op_reduce_sum_1;
extern const KestrelOpDef kestrel_op_reduce_sum_13;
extern const KestrelOpDef kestrel_op_reduce_mean_1;
extern const KestrelOpDef kestrel_op_reduce_mean_18;
extern const KestrelOpDef kestrel_op_reduce_max_1;
extern const KestrelOpDef kestrel_op_reduce_max_18;
extern const KestrelOpDef kestrel_op_reduce_min_1;
extern const KestrelOpDef kestrel_op_reduce_min_18;
extern const KestrelOpDef kestrel_op_reduce_prod_1;
extern const KestrelOpDef kestrel_op_reduce_prod_18;
extern const KestrelOpDef kestrel_op_reduce_l1_1;
extern const KestrelOpDef kestrel_op_reduce_l1_18;
extern const KestrelOpDef kestrel_op_reduce_l2_1;
extern const KestrelOpDef kestrel_op_reduce_l2_18;
extern const KestrelOpDef kestrel_op_reduce_log_sum_1;
extern const KestrelOpDef kestrel_op_reduce_log_sum_18;
extern const KestrelOpDef kestrel_op_reduce_log_sum_exp_1;
extern const KestrelOpDef kestrel_op_reduce_log_sum_exp_18;
extern const KestrelOpDef kestrel_op_reduce_sum_square_1;
extern const KestrelOpDef kestrel_op_reduce_sum_square_18;
extern const KestrelOpDef kestrel_op_arg_max;
extern const KestrelOpDef kestrel_op_arg_min;

/* ops-math-logic.c: comparisons, logic, Where, IsNaN, IsInf. */
extern const KestrelOpDef kestrel_op_equal;
extern const KestrelOpDef kestrel_op_less;
extern const KestrelOpDef kestrel_op_less_or_equal;
extern const KestrelOpDef kestrel_op_greater;
extern const KestrelOpDef kestrel_op_greater_or_equal;
extern const KestrelOpDef kestrel_op_and;
extern const KestrelOpDef kestrel_op_or;
extern const KestrelOpDef kestrel_op_xor;
extern const KestrelOpDef kestrel_op_not;
extern const KestrelOpDef kestrel_op_is_nan;
extern const KestrelOpDef kestrel_op_is_inf;
extern const KestrelOpDef kestrel_op_where;

/* ops-math-axis.c: along one axis. */
extern const KestrelOpDef kestrel_op_cum_sum;
extern const KestrelOpDef kestrel_op_top_k;
extern const KestrelOpDef kestrel_op_hardmax_1;
extern const KestrelOpDef kestrel_op_hardmax_13;

/* Below this many elements an operator runs on the calling thread: waking
 * the pool costs more than the loop. */
#define KESTREL_MATH_PARALLEL_MIN_ELEMENTS ((gsize) 1 << 15)

/* How two operands map onto a broadcast output, with the output's
 * dimensions of size 1 dropped and runs of dimensions that are contiguous
 * in both operands merged, so that a same-shape operation is one dimension
 * of n elements and [3,4,5] + [5] is 12 rows of 5. Strides are in
 * elements; a broadcast dimension has stride 0. The innermost stride of an
 * operand is therefore always 0 or 1. */
typedef struct {
  guint n_dims;                               /* >= 1 */
  gint64 shape[KESTREL_TENSOR_MAX_DIMS];
  gint64 stride[2][KESTREL_TENSOR_MAX_DIMS];
  gsize n_elements;
} KestrelMathBroadcast;

/* Both operand shapes must broadcast to `out` (infer() checked it). */
void kestrel_math_broadcast_init (KestrelMathBroadcast *bc,
                                  guint out_dims, const gint64 *out,
                                  guint a_dims, const gint64 *a,
                                  guint b_dims, const gint64 *b);

/* Called for each run of output elements [y_offset, y_offset + n) along the
 * innermost dimension; a_offset / b_offset are the operands' element
 * offsets of the first one, a_step / b_step (0 or 1) their strides. */
typedef void (*KestrelMathSegmentFunc) (gpointer user_data,
                                        gsize a_offset, gssize a_step,
                                        gsize b_offset, gssize b_step,
                                        gsize y_offset, gsize n);

/* Visits output elements [begin, end) in order, as segments. */
void kestrel_math_broadcast_range (const KestrelMathBroadcast *bc, gsize begin, gsize end,
                                   KestrelMathSegmentFunc func, gpointer user_data);

G_END_DECLS
