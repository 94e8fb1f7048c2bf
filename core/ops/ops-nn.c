/* ops-nn.c — the neural-network operator group and its shared helpers.
 *
 * The operators themselves live in ops-nn-conv.c, ops-nn-gemm.c,
 * ops-nn-pool.c, ops-nn-norm.c, ops-nn-pad.c and ops-nn-resize.c. The
 * registry takes the first definition whose opset range matches, so the
 * ranges of one op_type must not overlap.
 */
#include "config.h"

#include "ops-nn.h"

#include "kestrel-error.h"
#include "kestrel-ops-registry.h"

const KestrelOpDef *const kestrel_ops_nn[] = {
  &kestrel_op_conv,
  &kestrel_op_conv_transpose,
  &kestrel_op_gemm,
  &kestrel_op_matmul,
  &kestrel_op_max_pool,
  &kestrel_op_average_pool,
  &kestrel_op_global_average_pool,
  &kestrel_op_global_max_pool,
  &kestrel_op_batch_normalization,
  &kestrel_op_lrn,
  &kestrel_op_softmax_1,
  &kestrel_op_softmax_13,
  &kestrel_op_log_softmax_1,
  &kestrel_op_log_softmax_13,
  &kestrel_op_instance_normalization,
  &kestrel_op_layer_normalization,
  &kestrel_op_mean_variance_normalization,
  &kestrel_op_non_max_suppression,
  &kestrel_op_einsum,
  &kestrel_op_grid_sample,
  &kestrel_op_roi_align_10,
  &kestrel_op_roi_align_16,
  &kestrel_op_max_unpool,
  &kestrel_op_pad_2,
  &kestrel_op_pad_11,
  &kestrel_op_resize_10,
  &kestrel_op_resize_11,
  &kestrel_op_upsample_7,
  &kestrel_op_upsample_9,
  NULL,
};

gboolean
kestrel_nn_check_attrs (const KestrelNode *node, const KestrelNnAttr *attrs, guint n_attrs,
                        GError **error)
{
  for (guint i = 0; i < n_attrs; i++)
    if (!kestrel_node_check_attr_type (node, attrs[i].name, attrs[i].type, error))
      return FALSE;
  return TRUE;
}

gboolean
kestrel_nn_check_no_outputs_after (const KestrelNode *node, guint n_supported, const char *why,
                                   GError **error)
{
  for (guint o = n_supported; o < kestrel_node_n_outputs (node); o++)
    if (kestrel_node_output (node, o) >= 0)
      {
        kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                                "output %u is not supported: %s", o, why);
        return FALSE;
      }
  return TRUE;
}
