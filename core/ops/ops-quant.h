/* ops-quant.h — what the INT8 operators (ops-quant*.c) share.
 *
 * The quantised operators live in the "kestrel" domain and are put in by
 * the INT8 pass (graph/kestrel-passes-quant.c), never by models. Their u8
 * tensors carry no parameters of their own: each operator has the scale
 * and zero point of its inputs and output as attributes, which the pass
 * copies from the calibration table:
 *
 *   x_scale, x_zero_point   the (first) input
 *   y_scale, y_zero_point   the output
 *
 * A real clamp (a fused Relu or Clip: act_lo, act_hi) becomes the u8 clamp
 * [zero_point + round (act_lo / scale), zero_point + round (act_hi / scale)]
 * within [0, 255]: Relu's floor is exactly the zero point.
 */
#pragma once

#include "kestrel-op-util.h"

G_BEGIN_DECLS

extern const KestrelOpDef kestrel_op_qconv_nhwc;   /* ops-quant-conv.c */

/* Shared with ops-fast.c's MaxPoolNhwc, which QMaxPoolNhwc is on u8: the
 * output shape of a 4-D NHWC input, and prepare() (kk_pool_params). */
gboolean kestrel_op_maxpool_nhwc_shape (const KestrelNode *node, const KestrelValue *x, gint64 *out,
                                        GError **error);
gboolean kestrel_op_maxpool_nhwc_prepare (KestrelStep *step, GError **error);

/* The u8 bounds of real [lo, hi] (either may be infinite: no bound). */
void kestrel_quant_clamp_u8 (float lo, float hi, float scale, gint32 zero_point, guint8 *q_lo, guint8 *q_hi);

/* Reads scale and zero point attributes `prefix`_scale and
 * `prefix`_zero_point; fails naming the node when the scale is missing,
 * not finite or not positive, or the zero point is outside 0 .. 255. */
gboolean kestrel_quant_attr_params (const KestrelNode *node, const char *prefix, float *scale,
                                    gint32 *zero_point, GError **error);

/* The requantising add (kk_qadd_params) of inputs with parameters
 * `a`_scale / `a`_zero_point and `b`_..., to y_scale / y_zero_point,
 * clamped to the real `clamp`_lo / `clamp`_hi (absent: no bound); fails
 * naming the node when the scales are too far apart for the kernels. */
gboolean kestrel_quant_add_params (const KestrelNode *node, const char *a, const char *b, const char *clamp,
                                   kk_qadd_params *p, GError **error);

/* Input i exists and is u8. */
const KestrelValue *kestrel_quant_u8_input (const KestrelGraph *graph, const KestrelNode *node, guint i,
                                            GError **error);

/* INT4 weights (ops-quant-int4.c): splits widened weights w [n][k] (s8,
 * the gemm's k order) back into nibbles q [n][k] and per block of 32 along
 * k a multiplier and zero point m, z [n][ceil (k / 32)] (the kernels'
 * "INT4 weights"), with the largest multiplier that divides the block.
 * FALSE when a block is not of that form (names nothing: the caller says
 * which layer). */
gboolean kestrel_quant_int4_split (const gint8 *w, gsize k, gsize n, guint8 *q, guint8 *m, guint8 *z);

G_END_DECLS
