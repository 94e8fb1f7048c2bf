/* ops-qlinear.h — private to the ops-qlinear*.c files: ONNX's own quantized
 * operators, as models quantized by other tools carry them.
 *
 * Unlike the engine's kestrel.Q* operators (ops-quant.h), whose scales and
 * zero points are attributes the INT8 pass sets, these read them from
 * inputs: a float32 scale and an optional zero point (absent: 0) of the
 * quantized type, one value for the whole tensor or one per slice along
 * an axis (a 1-D input as long as that dimension). The inputs may be
 * constants (checked when the model loads: a scale must be finite and
 * above 0, a zero point of the right type and length) or values fed at run
 * time (used as they come: a run cannot fail, so a zero or non-finite
 * scale fed at run time gives what IEEE arithmetic gives, saturated).
 *
 * Rounding is ONNX's: q = saturate (round_half_even (x / scale) + zero
 * point), the division and the rounding in float32; dequantization is
 * (float (q) - float (zero point)) * scale.
 */
#pragma once

#include <math.h>

#include "kestrel-op-util.h"

G_BEGIN_DECLS

/* ops-qlinear-convert.c */
extern const KestrelOpDef kestrel_op_quantize_linear;
extern const KestrelOpDef kestrel_op_dequantize_linear;
extern const KestrelOpDef kestrel_op_dynamic_quantize_linear;

/* ops-qlinear-conv.c */
extern const KestrelOpDef kestrel_op_conv_integer;
extern const KestrelOpDef kestrel_op_qlinear_conv;

/* ops-qlinear-gemm.c */
extern const KestrelOpDef kestrel_op_matmul_integer;
extern const KestrelOpDef kestrel_op_qlinear_matmul;

/* ops-qlinear-packed.c: the two above on the integer kernels */
extern const KestrelOpDef kestrel_op_qlinear_conv_packed;
extern const KestrelOpDef kestrel_op_qlinear_matmul_packed;

/* ops-qlinear-add.c */
extern const KestrelOpDef kestrel_op_qlinear_add;

/* Where the scale and zero point of one quantized tensor are. */
typedef struct {
  guint scale_input;    /* index of the scale input */
  guint zp_input;       /* index of the zero point input (may be omitted) */
  const char *what;     /* "x", "w", "y": for the errors */
} KestrelQParamInputs;

/* The parameters of a tensor `x` quantized as `q` describes: the scale is a
 * float32 scalar (or one element), or, when `per_axis_dim` >= 0, may be 1-D
 * with that many elements (x's dimension along the axis); the zero point,
 * when given, has the scale's shape and one of the `n_zp_dtypes` dtypes
 * (*zp_dtype gets its dtype, or `zp_default` when omitted). Constant
 * scales must be finite and > 0. *n_params gets 1 or the axis length.
 * Errors name the node and the input. */
gboolean kestrel_qlinear_check_params (const KestrelGraph *graph, const KestrelNode *node,
                                       const KestrelQParamInputs *q, gint64 per_axis_dim,
                                       const KestrelDType *zp_dtypes, guint n_zp_dtypes,
                                       KestrelDType zp_default, KestrelDType *zp_dtype,
                                       gsize *n_params, GError **error);

/* The scale of slice c (0 for per-tensor) of a scale input as a step sees
 * it, and the zero point (0 when the input is omitted: data NULL). */
static inline float
kestrel_qlinear_scale (const KestrelTensorView *scale, gsize c)
{
  return ((const float *) scale->data)[scale->n_elements == 1 ? 0 : c];
}

static inline gint32
kestrel_qlinear_zero_point (const KestrelTensorView *zp, gsize c)
{
  gsize i;

  if (zp == NULL || zp->data == NULL)
    return 0;
  i = zp->n_elements == 1 ? 0 : c;
  switch (zp->dtype)
    {
    case KESTREL_DTYPE_UINT8:
      return ((const guint8 *) zp->data)[i];
    case KESTREL_DTYPE_INT8:
      return ((const gint8 *) zp->data)[i];
    case KESTREL_DTYPE_INT32:
      return ((const gint32 *) zp->data)[i];
    default:
      return 0;
    }
}

/* u8 and s8: the quantized types of activations and weights. */
extern const KestrelDType kestrel_qlinear_int8_types[2];

/* Element i of u8 or s8 data. */
static inline gint32
kestrel_qlinear_load (KestrelDType dtype, gconstpointer data, gsize i)
{
  return dtype == KESTREL_DTYPE_INT8 ? ((const gint8 *) data)[i] : ((const guint8 *) data)[i];
}

/* A zero point without a scale (ConvInteger, MatMulInteger), input i,
 * optional: of `dtype` (its tensor's), a scalar or, when per_axis > 0, 1-D
 * with per_axis elements. */
gboolean kestrel_qlinear_check_zero_point (const KestrelGraph *graph, const KestrelNode *node, guint i,
                                           const char *what, KestrelDType dtype, gint64 per_axis,
                                           GError **error);

/* ONNX's float to integer conversion: saturate (round_half_even (v) + zp)
 * into [qmin, qmax], NaN to qmin (as the kernels do). */
gint32 kestrel_qlinear_round_saturate (float v, gint32 zp, gint32 qmin, gint32 qmax);

/* The requantisation of QLinearConv and QLinearMatMul (ONNX's reference
 * definition): saturate (round_half_even (acc * multiplier) + zp), the
 * product in double; multiplier is the float32 a_scale * b_scale / y_scale. */
static inline gint32
kestrel_qlinear_requantize (gint32 acc, float multiplier, gint32 zp, gint32 qmin, gint32 qmax)
{
  double t = rint ((double) acc * (double) multiplier) + (double) zp;

  t = t >= (double) qmin ? t : (double) qmin;
  t = t <= (double) qmax ? t : (double) qmax;
  return (gint32) t;
}

G_END_DECLS
