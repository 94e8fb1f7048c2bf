/* ops-nn.h — private to the ops-nn-*.c files: the neural-network reference
 * operators (ONNX semantics, float32, NCHW) and the few helpers they share.
 *
 * Every operator here follows the contract of kestrel-op.h: infer() checks
 * everything a model can get wrong, prepare() turns attributes into a small
 * state once, run() is plain loops that cannot fail. At the parallel levels
 * the outer loop is split with kestrel_step_parallel_for(); each output
 * element is always computed by one thread in the same order, so parallel
 * results are bit-identical to serial ones.
 */
#pragma once

#include "kestrel-op-util.h"

G_BEGIN_DECLS

/* ops-nn-conv.c */
extern const KestrelOpDef kestrel_op_conv;
extern const KestrelOpDef kestrel_op_conv_transpose;

/* ops-nn-gemm.c */
extern const KestrelOpDef kestrel_op_gemm;
extern const KestrelOpDef kestrel_op_matmul;

/* ops-nn-pool.c */
extern const KestrelOpDef kestrel_op_max_pool;
extern const KestrelOpDef kestrel_op_average_pool;
extern const KestrelOpDef kestrel_op_global_average_pool;
extern const KestrelOpDef kestrel_op_global_max_pool;

/* ops-nn-norm.c */
extern const KestrelOpDef kestrel_op_batch_normalization;
extern const KestrelOpDef kestrel_op_lrn;
extern const KestrelOpDef kestrel_op_softmax_1;
extern const KestrelOpDef kestrel_op_softmax_13;
extern const KestrelOpDef kestrel_op_log_softmax_1;
extern const KestrelOpDef kestrel_op_log_softmax_13;

/* ops-nn-layer-norm.c */
extern const KestrelOpDef kestrel_op_instance_normalization;
extern const KestrelOpDef kestrel_op_layer_normalization;
extern const KestrelOpDef kestrel_op_mean_variance_normalization;

/* ops-nn-nms.c */
extern const KestrelOpDef kestrel_op_non_max_suppression;

/* ops-nn-einsum.c */
extern const KestrelOpDef kestrel_op_einsum;

/* Einsum's letters: a-z and A-Z are codes 0..51; an ellipsis's dimensions
 * are the codes from 52 on. */
#define KESTREL_EINSUM_LETTERS 52
#define KESTREL_EINSUM_MAX_INPUTS 8

/* Parses one term of an equation into letter codes; `rank` is its input's
 * rank (G_MAXUINT for the output, whose ellipsis then has the inputs'
 * *ellipsis_dims, which the first input with an ellipsis sets). */
gboolean kestrel_einsum_parse_term (const char *term, gsize len, guint rank,
                                    guint *ellipsis_dims, gint *letters, guint *n);

/* ops-nn-einsum-any.c: the equations that are not one matrix product, by
 * the definition (a loop over every combination of letters). */
typedef struct _KestrelEinsumAny KestrelEinsumAny;
KestrelEinsumAny *kestrel_einsum_any_new (const KestrelNode *node, guint n_inputs,
                                          const guint *ranks, const gint64 *const *shapes,
                                          guint *out_dims, gint64 *out_shape, GError **error);
void kestrel_einsum_any_run (const KestrelEinsumAny *any, const KestrelStep *step);
void kestrel_einsum_any_free (KestrelEinsumAny *any);

/* ops-nn-sample.c */
extern const KestrelOpDef kestrel_op_grid_sample;
extern const KestrelOpDef kestrel_op_roi_align_10;
extern const KestrelOpDef kestrel_op_roi_align_16;
extern const KestrelOpDef kestrel_op_max_unpool;

/* ops-nn-pad.c */
extern const KestrelOpDef kestrel_op_pad_2;
extern const KestrelOpDef kestrel_op_pad_11;

/* ops-nn-resize.c */
extern const KestrelOpDef kestrel_op_resize_10;
extern const KestrelOpDef kestrel_op_resize_11;
extern const KestrelOpDef kestrel_op_upsample_7;
extern const KestrelOpDef kestrel_op_upsample_9;

/* An attribute an operator reads, and the type it must have. */
typedef struct {
  const char *name;
  KestrelAttrType type;
} KestrelNnAttr;

/* Every listed attribute that is present has the listed type. */
gboolean kestrel_nn_check_attrs (const KestrelNode *node, const KestrelNnAttr *attrs, guint n_attrs,
                                 GError **error);

/* Outputs from index `n_supported` on are absent or omitted: for optional
 * outputs Kestrel does not produce, with `why` in the error. */
gboolean kestrel_nn_check_no_outputs_after (const KestrelNode *node, guint n_supported,
                                            const char *why, GError **error);

/* The geometry of a Conv (shared with the integer convolutions of
 * ops-qlinear-conv.c): 1-D and 2-D as 3-D with unit leading spatial
 * dimensions. */
typedef struct {
  gint64 batch, in_c, out_c, group;
  gint64 in[3], out[3], kernel[3], stride[3], dilation[3];
  gint64 pad[3];                /* begin pads; the end pads follow from out[] */
} KestrelNnConvParams;

/* Conv's attributes and their types (kestrel_nn_check_attrs). */
extern const KestrelNnAttr kestrel_nn_conv_attrs[];
extern const guint kestrel_nn_n_conv_attrs;

/* Checks X [N, C, D...] and W [M, C/group, k...] and the attributes; fills
 * the geometry. */
gboolean kestrel_nn_conv_params (const KestrelNode *node, guint x_dims, const gint64 *x_shape,
                                 guint w_dims, const gint64 *w_shape, KestrelNnConvParams *p,
                                 GError **error);
/* B is [out_c]. */
gboolean kestrel_nn_check_bias (const KestrelNode *node, const KestrelValue *b, gint64 out_c,
                                GError **error);

/* The shapes of a MatMul (shared with the integer ones of
 * ops-qlinear-gemm.c). */
typedef struct {
  gint64 m, n, k;
  guint batch_dims;
  gint64 n_batch;
  gint64 batch_shape[KESTREL_TENSOR_MAX_DIMS];
  /* Strides in whole matrices; 0 along a dimension that is broadcast. */
  gint64 a_stride[KESTREL_TENSOR_MAX_DIMS], b_stride[KESTREL_TENSOR_MAX_DIMS];
} KestrelNnMatMulParams;

/* numpy matmul: a 1-D A is a row [1, K] and a 1-D B a column [K, 1], whose
 * added dimension is dropped from the result; the other leading dimensions
 * broadcast. Fills p and the output shape. */
gboolean kestrel_nn_matmul_params (const KestrelNode *node, guint a_dims, const gint64 *a_shape,
                                   guint b_dims, const gint64 *b_shape, KestrelNnMatMulParams *p,
                                   guint *out_dims, gint64 *out_shape, GError **error);

/* The range [*begin, *end) of o in [0, n_out) for which o * stride + offset
 * lies in [0, n_in): the positions where a tap reads real input rather than
 * padding, so the inner loops need no bounds test. */
static inline void
kestrel_nn_valid_range (gint64 n_out, gint64 n_in, gint64 stride, gint64 offset,
                        gint64 *begin, gint64 *end)
{
  gint64 b = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  gint64 e = n_in - offset <= 0 ? 0 : (n_in - offset - 1) / stride + 1;

  *begin = MIN (b, n_out);
  *end = CLAMP (e, *begin, n_out);
}

G_END_DECLS
