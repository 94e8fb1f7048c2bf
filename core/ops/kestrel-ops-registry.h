/* kestrel-ops-registry.h — the operator groups the registry knows.
 *
 * Each group is a NULL-terminated array defined in its own file, so the
 * operator families can be written and reviewed apart. */
#pragma once

#include "kestrel-op.h"

G_BEGIN_DECLS

extern const KestrelOpDef *const kestrel_ops_nn[];     /* ops-nn-*.c: Conv, pooling, Gemm... */
extern const KestrelOpDef *const kestrel_ops_math[];   /* ops-math-*.c: elementwise, activations */
extern const KestrelOpDef *const kestrel_ops_shape[];  /* ops-shape*.c: Reshape, Concat, Slice... */
extern const KestrelOpDef *const kestrel_ops_fast[];   /* ops-fast.c: the engine's NHWC ops */
extern const KestrelOpDef *const kestrel_ops_global_pool_nhwc[];  /* ops-global-pool-nhwc.c: GlobalAveragePool in NHWC */
extern const KestrelOpDef *const kestrel_ops_pad_axis[];  /* ops-pad-axis.c: padding along one axis */
extern const KestrelOpDef *const kestrel_ops_conv_nchw[];  /* ops-conv-nchw.c: NCHW Conv on the NHWC one */
extern const KestrelOpDef *const kestrel_ops_matmul_packed[];  /* ops-matmul-packed.c: MatMul on the gemm */
extern const KestrelOpDef *const kestrel_ops_conv_transpose_packed[];  /* ops-conv-transpose-packed.c */
extern const KestrelOpDef *const kestrel_ops_quant[];  /* ops-quant*.c: the INT8 ops */
extern const KestrelOpDef *const kestrel_ops_qlinear[];  /* ops-qlinear*.c: ONNX's quantized ops */

G_END_DECLS
