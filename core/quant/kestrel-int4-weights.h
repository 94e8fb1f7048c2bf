/* kestrel-int4-weights.h — float convolution weights to INT4 blocks (the
 * kernels' format: kestrel-kernels.h, "INT4 weights"). GLib only, below
 * graph/ like the quantisation table: the INT8 pass calls it for the layers
 * an INT4 plan makes INT4.
 *
 * A channel's weights, in the gemm's k order (kh, kw, Cin), are cut into
 * blocks of 32; the channel gets one float unit and each block an integer
 * multiplier m and zero point z, each weight a nibble q, so that
 * w ~= unit * m * (q - z). The values written are the widened weights
 * m * (q - z) (s8 in [-127, 127]), which the convolution operator splits
 * back into nibbles and blocks when it packs them.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  /* z = 8 in every block, q - z in [-7, 7], m in 1 .. 18: one scale per
   * block, symmetric about 0 */
  KESTREL_INT4_SYMMETRIC,
  /* any z in 0 .. 15 and m in 1 .. 127 (|m * (q - z)| <= 127): a block's
   * 16 levels cover its own [min, max] */
  KESTREL_INT4_ZERO_POINT,
} KestrelInt4Scheme;

/* The scheme INT4 plans use (kestrel-int4-weights.c says why). */
#define KESTREL_INT4_SCHEME KESTREL_INT4_ZERO_POINT

/* Quantises n_channels x k weights, channel c at w[c * k ..] (k order as
 * the gemm reads it), into w_int[c * k ..] (the widened s8 values) and
 * unit[c]. A channel of zeros gets the largest unit of the others (or 1).
 * FALSE when a weight is not finite. */
gboolean kestrel_int4_quantize (const float *w, gsize n_channels, gsize k, KestrelInt4Scheme scheme,
                                gint8 *w_int, float *unit);

/* A convolution's ONNX weights [Cout][Cin][kh][kw] (one group): blocks
 * along the gemm's k order (kh, kw, Cin), with `scheme`; the
 * widened values written back in the ONNX layout into w_int, the units
 * into unit[Cout]. FALSE when a weight is not finite. */
gboolean kestrel_int4_quantize_conv (const float *w, const gint64 shape[4], KestrelInt4Scheme scheme,
                                     gint8 *w_int, float *unit);

/* Sum of squared error and of squared weights over those channels, for
 * comparing the schemes: (unit[c] * w_int - w)^2 and w^2. */
void kestrel_int4_error (const float *w, gsize n_channels, gsize k, const gint8 *w_int,
                         const float *unit, double *err2, double *sig2);

G_END_DECLS
