/* ops-math.c — the elementwise operator group and its broadcasting
 * iterator.
 *
 * The operators live in ops-math-binary.c (Add, Sub, Mul, Div, Pow, PRelu
 * and the variadic Max, Min, Sum, Mean), ops-math-unary.c (activations,
 * unary math, Clip), ops-math-reduce.c (Reduce*, ArgMax, ArgMin) and
 * ops-math-logic.c (comparisons, logic, Where). The registry takes the
 * first definition whose opset range matches, so the ranges of one op_type
 * must not overlap.
 */
#include "config.h"

#include "ops-math.h"

#include "kestrel-ops-registry.h"

const KestrelOpDef *const kestrel_ops_math[] = {
  &kestrel_op_add_1,
  &kestrel_op_sub_1,
  &kestrel_op_mul_1,
  &kestrel_op_div_1,
  &kestrel_op_pow_1,
  &kestrel_op_prelu_6,
  &kestrel_op_add,
  &kestrel_op_sub,
  &kestrel_op_mul,
  &kestrel_op_div,
  &kestrel_op_pow,
  &kestrel_op_prelu,
  &kestrel_op_mod,
  &kestrel_op_bit_shift,
  &kestrel_op_max,
  &kestrel_op_min,
  &kestrel_op_sum,
  &kestrel_op_mean,
  &kestrel_op_relu,
  &kestrel_op_leaky_relu,
  &kestrel_op_sigmoid,
  &kestrel_op_hard_sigmoid,
  &kestrel_op_hard_swish,
  &kestrel_op_tanh,
  &kestrel_op_exp,
  &kestrel_op_log,
  &kestrel_op_sqrt,
  &kestrel_op_neg,
  &kestrel_op_abs,
  &kestrel_op_reciprocal,
  &kestrel_op_erf,
  &kestrel_op_elu,
  &kestrel_op_selu,
  &kestrel_op_softplus,
  &kestrel_op_softsign,
  &kestrel_op_thresholded_relu,
  &kestrel_op_celu,
  &kestrel_op_floor,
  &kestrel_op_ceil,
  &kestrel_op_round,
  &kestrel_op_sign,
  &kestrel_op_mish,
  &kestrel_op_gelu,
  &kestrel_op_shrink,
  &kestrel_op_sin,
  &kestrel_op_cos,
  &kestrel_op_tan,
  &kestrel_op_asin,
  &kestrel_op_acos,
  &kestrel_op_atan,
  &kestrel_op_sinh,
  &kestrel_op_cosh,
  &kestrel_op_asinh,
  &kestrel_op_acosh,
  &kestrel_op_atanh,
  &kestrel_op_clip_1,
  &kestrel_op_clip_11,
  &kestrel_op_reduce_sum_1,
  &kestrel_op_reduce_sum_13,
  &kestrel_op_reduce_mean_1,
  &kestrel_op_reduce_mean_18,
  &kestrel_op_reduce_max_1,
  &kestrel_op_reduce_max_18,
  &kestrel_op_reduce_min_1,
  &kestrel_op_reduce_min_18,
  &kestrel_op_reduce_prod_1,
  &kestrel_op_reduce_prod_18,
  &kestrel_op_reduce_l1_1,
  &kestrel_op_reduce_l1_18,
  &kestrel_op_reduce_l2_1,
  &kestrel_op_reduce_l2_18,
  &kestrel_op_reduce_log_sum_1,
  &kestrel_op_reduce_log_sum_18,
  &kestrel_op_reduce_log_sum_exp_1,
  &kestrel_op_reduce_log_sum_exp_18,
  &kestrel_op_reduce_sum_square_1,
  &kestrel_op_reduce_sum_square_18,
  &kestrel_op_arg_max,
  &kestrel_op_arg_min,
  &kestrel_op_equal,
  &kestrel_op_less,
  &kestrel_op_less_or_equal,
  &kestrel_op_greater,
  &kestrel_op_greater_or_equal,
  &kestrel_op_and,
  &kestrel_op_or,
  &kestrel_op_xor,
  &kestrel_op_not,
  &kestrel_op_is_nan,
  &kestrel_op_is_inf,
  &kestrel_op_where,
  &kestrel_op_cum_sum,
  &kestrel_op_top_k,
  &kestrel_op_hardmax_1,
  &kestrel_op_hardmax_13,
  NULL,
};

void
kestrel_math_broadcast_init (KestrelMathBroadcast *bc, guint out_dims, const gint64 *out,
                             guint a_dims, const gint64 *a, guint b_dims, const gint64 *b)
{
  const guint operand_dims[2] = { a_dims, b_dims };
  const gint64 *operand_shape[2] = { a, b };
  gint64 full[2][KESTREL_TENSOR_MAX_DIMS];
  guint n = 0;

  g_return_if_fail (out_dims <= KESTREL_TENSOR_MAX_DIMS);

  /* Each operand's strides against the output's dimensions, numpy style:
   * shapes align on the right and a dimension of 1 repeats. */
  for (guint k = 0; k < 2; k++)
    {
      gint64 own[KESTREL_TENSOR_MAX_DIMS];

      g_return_if_fail (operand_dims[k] <= out_dims);
      kestrel_shape_strides (operand_dims[k], operand_shape[k], own);
      for (guint d = 0; d < out_dims; d++)
        {
          gint od = (gint) d - (gint) (out_dims - operand_dims[k]);
          full[k][d] = od < 0 || operand_shape[k][od] == 1 ? 0 : own[od];
        }
    }

  bc->n_elements = 1;
  for (guint d = 0; d < out_dims; d++)
    {
      bc->n_elements *= (gsize) out[d];
      if (out[d] == 1)
        continue;
      if (n > 0
          && bc->stride[0][n - 1] == full[0][d] * out[d]
          && bc->stride[1][n - 1] == full[1][d] * out[d])
        {
          bc->shape[n - 1] *= out[d];
          bc->stride[0][n - 1] = full[0][d];
          bc->stride[1][n - 1] = full[1][d];
          continue;
        }
      bc->shape[n] = out[d];
      bc->stride[0][n] = full[0][d];
      bc->stride[1][n] = full[1][d];
      n++;
    }
  if (n == 0)
    {
      bc->shape[0] = 1;
      bc->stride[0][0] = bc->stride[1][0] = 0;
      n = 1;
    }
  bc->n_dims = n;
}

void
kestrel_math_broadcast_range (const KestrelMathBroadcast *bc, gsize begin, gsize end,
                              KestrelMathSegmentFunc func, gpointer user_data)
{
  guint last = bc->n_dims - 1;
  gsize inner = (gsize) bc->shape[last];
  gint64 coord[KESTREL_TENSOR_MAX_DIMS] = { 0 };
  gint64 offset[2] = { 0, 0 };
  gsize row, col;

  if (begin >= end || inner == 0)
    return;
  row = begin / inner;
  col = begin % inner;
  for (guint d = last; d-- > 0;)
    {
      coord[d] = (gint64) (row % (gsize) bc->shape[d]);
      row /= (gsize) bc->shape[d];
      offset[0] += coord[d] * bc->stride[0][d];
      offset[1] += coord[d] * bc->stride[1][d];
    }

  while (begin < end)
    {
      gsize n = MIN (inner - col, end - begin);

      func (user_data,
            (gsize) (offset[0] + (gint64) col * bc->stride[0][last]), (gssize) bc->stride[0][last],
            (gsize) (offset[1] + (gint64) col * bc->stride[1][last]), (gssize) bc->stride[1][last],
            begin, n);
      begin += n;
      col = 0;
      /* Next row: an odometer over the outer dimensions. */
      for (guint d = last; d-- > 0;)
        {
          coord[d]++;
          offset[0] += bc->stride[0][d];
          offset[1] += bc->stride[1][d];
          if (coord[d] < bc->shape[d])
            break;
          offset[0] -= coord[d] * bc->stride[0][d];
          offset[1] -= coord[d] * bc->stride[1][d];
          coord[d] = 0;
        }
    }
}
