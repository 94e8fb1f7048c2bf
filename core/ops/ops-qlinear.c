/* ops-qlinear.c — the group of ONNX's quantized operators and the checks
 * of their scale and zero point inputs (see ops-qlinear.h).
 */
#include "config.h"

#include "ops-qlinear.h"

#include <math.h>

#include "kestrel-error.h"
#include "kestrel-ops-registry.h"

const KestrelOpDef *const kestrel_ops_qlinear[] = {
  &kestrel_op_quantize_linear,
  &kestrel_op_dequantize_linear,
  &kestrel_op_dynamic_quantize_linear,
  &kestrel_op_conv_integer,
  &kestrel_op_qlinear_conv,
  &kestrel_op_matmul_integer,
  &kestrel_op_qlinear_matmul,
  &kestrel_op_qlinear_add,
  &kestrel_op_qlinear_conv_packed,
  &kestrel_op_qlinear_matmul_packed,
  NULL,
};

gint32
kestrel_qlinear_round_saturate (float v, gint32 zp, gint32 qmin, gint32 qmax)
{
  /* rintf rounds half to even in the default rounding mode; a double
   * holds the sum exactly wherever the clamp does not decide. */
  double t = (double) rintf (v) + (double) zp;

  t = t >= (double) qmin ? t : (double) qmin;
  t = t <= (double) qmax ? t : (double) qmax;
  return (gint32) t;
}

static gboolean
is_scalar_like (const KestrelValue *v)
{
  return kestrel_value_n_elements (v) == 1 && v->n_dims <= 1;
}

gboolean
kestrel_qlinear_check_params (const KestrelGraph *graph, const KestrelNode *node,
                              const KestrelQParamInputs *q, gint64 per_axis_dim,
                              const KestrelDType *zp_dtypes, guint n_zp_dtypes,
                              KestrelDType zp_default, KestrelDType *zp_dtype, gsize *n_params,
                              GError **error)
{
  const KestrelValue *scale = kestrel_op_input (graph, node, q->scale_input, error);
  const KestrelValue *zp;
  gsize n;

  if (scale == NULL)
    return FALSE;
  if (scale->dtype != KESTREL_DTYPE_FLOAT32)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "%s_scale (input %u, '%s') is %s; Kestrel takes float32 scales",
                              q->what, q->scale_input, scale->name, kestrel_dtype_get_name (scale->dtype));
      return FALSE;
    }
  n = kestrel_value_n_elements (scale);
  if (!is_scalar_like (scale) && (per_axis_dim < 0 || scale->n_dims != 1 || (gint64) n != per_axis_dim))
    {
      g_autofree char *shape = kestrel_shape_to_string (scale->n_dims, scale->shape);
      if (per_axis_dim < 0)
        kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                "%s_scale (input %u, '%s') is %s but must be a scalar here",
                                q->what, q->scale_input, scale->name, shape);
      else
        kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                "%s_scale (input %u, '%s') is %s but must be a scalar or 1-D with "
                                "%" G_GINT64_FORMAT " elements (the length of the quantization axis)",
                                q->what, q->scale_input, scale->name, shape, per_axis_dim);
      return FALSE;
    }
  if (scale->constant != NULL)
    {
      const float *s = kestrel_tensor_get_data (scale->constant);
      for (gsize i = 0; i < n; i++)
        if (!isfinite (s[i]) || !(s[i] > 0.0f))
          {
            kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                    "%s_scale (input %u, '%s') element %zu is %g; a scale must be "
                                    "finite and above 0", q->what, q->scale_input, scale->name, i,
                                    (double) s[i]);
            return FALSE;
          }
    }

  zp = kestrel_op_optional_input (graph, node, q->zp_input, error);
  if (zp == NULL)
    {
      if (error != NULL && *error != NULL)
        return FALSE;
      *zp_dtype = zp_default;
    }
  else
    {
      guint d = 0;

      while (d < n_zp_dtypes && zp->dtype != zp_dtypes[d])
        d++;
      if (d == n_zp_dtypes)
        {
          g_autoptr(GString) expected = g_string_new (NULL);
          for (guint e = 0; e < n_zp_dtypes; e++)
            g_string_append_printf (expected, "%s%s", e == 0 ? "" : e + 1 == n_zp_dtypes ? " or " : ", ",
                                    kestrel_dtype_get_name (zp_dtypes[e]));
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "%s_zero_point (input %u, '%s') is %s, expected %s", q->what,
                                  q->zp_input, zp->name, kestrel_dtype_get_name (zp->dtype), expected->str);
          return FALSE;
        }
      if (kestrel_value_n_elements (zp) != n || (!is_scalar_like (zp) && zp->n_dims != scale->n_dims))
        {
          g_autofree char *zs = kestrel_shape_to_string (zp->n_dims, zp->shape);
          g_autofree char *ss = kestrel_shape_to_string (scale->n_dims, scale->shape);
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "%s_zero_point (input %u, '%s') is %s but its scale is %s: "
                                  "they must have the same shape", q->what, q->zp_input, zp->name,
                                  zs, ss);
          return FALSE;
        }
      *zp_dtype = zp->dtype;
    }
  *n_params = n;
  return TRUE;
}

const KestrelDType kestrel_qlinear_int8_types[2] = { KESTREL_DTYPE_UINT8, KESTREL_DTYPE_INT8 };

gboolean
kestrel_qlinear_check_zero_point (const KestrelGraph *graph, const KestrelNode *node, guint i,
                                  const char *what, KestrelDType dtype, gint64 per_axis, GError **error)
{
  const KestrelValue *zp = kestrel_op_optional_input (graph, node, i, error);
  gsize n;

  if (zp == NULL)
    return error == NULL || *error == NULL;
  n = kestrel_value_n_elements (zp);
  if (zp->dtype != dtype)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "%s_zero_point (input %u, '%s') is %s but %s is %s", what, i, zp->name,
                              kestrel_dtype_get_name (zp->dtype), what, kestrel_dtype_get_name (dtype));
      return FALSE;
    }
  if (!(n == 1 && zp->n_dims <= 1) && !(per_axis > 0 && zp->n_dims == 1 && (gint64) n == per_axis))
    {
      g_autofree char *s = kestrel_shape_to_string (zp->n_dims, zp->shape);
      if (per_axis > 0)
        kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                "%s_zero_point (input %u, '%s') is %s; expected a scalar or 1-D with %"
                                G_GINT64_FORMAT " elements", what, i, zp->name, s, per_axis);
      else
        kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                "%s_zero_point (input %u, '%s') is %s; expected a scalar", what, i,
                                zp->name, s);
      return FALSE;
    }
  return TRUE;
}
