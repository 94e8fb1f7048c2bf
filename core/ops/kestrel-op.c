/* kestrel-op.c — the operator registry. */
#include "config.h"

#include "kestrel-op.h"

#include <string.h>

#include "kestrel-ops-registry.h"

static const KestrelOpDef *const *const groups[] = {
  kestrel_ops_nn,
  kestrel_ops_math,
  kestrel_ops_shape,
  kestrel_ops_fast,
  kestrel_ops_global_pool_nhwc,
  kestrel_ops_pad_axis,
  kestrel_ops_conv_nchw,
  kestrel_ops_matmul_packed,
  kestrel_ops_conv_transpose_packed,
  kestrel_ops_quant,
  kestrel_ops_qlinear,
};

static GPtrArray *
all_ops (void)
{
  static GPtrArray *ops;

  if (g_once_init_enter (&ops))
    {
      GPtrArray *list = g_ptr_array_new ();
      for (gsize g = 0; g < G_N_ELEMENTS (groups); g++)
        for (const KestrelOpDef *const *op = groups[g]; *op != NULL; op++)
          g_ptr_array_add (list, (gpointer) *op);
      g_once_init_leave (&ops, list);
    }
  return ops;
}

const KestrelOpDef *
kestrel_op_lookup (const char *domain, const char *op_type, gint64 opset)
{
  GPtrArray *ops = all_ops ();
  const char *wanted_domain = domain != NULL && strcmp (domain, "ai.onnx") != 0 ? domain : "";

  for (guint i = 0; i < ops->len; i++)
    {
      const KestrelOpDef *op = g_ptr_array_index (ops, i);
      if (strcmp (op->domain, wanted_domain) == 0 && strcmp (op->op_type, op_type) == 0
          && opset >= op->min_opset && opset <= op->max_opset)
        return op;
    }
  return NULL;
}

const KestrelOpDef *const *
kestrel_op_list (guint *n)
{
  GPtrArray *ops = all_ops ();

  *n = ops->len;
  return (const KestrelOpDef *const *) ops->pdata;
}

void
kestrel_tensor_view_init (KestrelTensorView *view, const KestrelValue *value)
{
  view->dtype = value->dtype;
  view->n_dims = value->n_dims;
  memcpy (view->shape, value->shape, sizeof view->shape);
  view->n_elements = kestrel_value_n_elements (value);
  view->data = value->constant != NULL ? kestrel_tensor_get_data (value->constant) : NULL;
}

void
kestrel_step_parallel_for (const KestrelStep *step, gsize n, KestrelParallelFunc func, gpointer data)
{
  if (step->pool != NULL && n > 1)
    kestrel_thread_pool_parallel_for (step->pool, n, func, data);
  else if (n > 0)
    func (0, n, 0, data);
}
