/* kestrel-op-util.h — checks and shape arithmetic shared by the operators.
 *
 * Every helper that can fail names the node in its GError, so an operator's
 * infer() reads as a list of expectations.
 */
#pragma once

#include <string.h>

#include "kestrel-op.h"

G_BEGIN_DECLS

/* The node has between min and max inputs (counting omitted optional ones
 * at the end), and at least `min_outputs` outputs. */
gboolean kestrel_op_check_arity (const KestrelNode *node, guint min_inputs, guint max_inputs,
                                 guint min_outputs, GError **error);

/* Input i exists (not omitted), has a known dtype and a static shape. */
const KestrelValue *kestrel_op_input (const KestrelGraph *graph, const KestrelNode *node,
                                      guint i, GError **error);
/* Same, or NULL without error when input i is omitted or absent. */
const KestrelValue *kestrel_op_optional_input (const KestrelGraph *graph, const KestrelNode *node,
                                               guint i, GError **error);

/* Input i has this dtype / one of a list of dtypes (n_dtypes entries). */
gboolean kestrel_op_check_dtype (const KestrelNode *node, guint i, const KestrelValue *value,
                                 const KestrelDType *dtypes, guint n_dtypes, GError **error);
gboolean kestrel_op_check_float (const KestrelNode *node, guint i, const KestrelValue *value,
                                 GError **error); /* float32 only */

/* Input i is a constant; its contents as int64 (from int32 or int64 data).
 * *values is owned by the caller (g_free). */
gboolean kestrel_op_constant_ints (const KestrelGraph *graph, const KestrelNode *node, guint i,
                                   gint64 **values, guint *n, GError **error);
/* Constant scalar float input (e.g. Clip min/max, ConstantOfShape value). */
gboolean kestrel_op_constant_float (const KestrelGraph *graph, const KestrelNode *node, guint i,
                                    float *value, GError **error);

/* Sets output i's dtype and shape. */
void kestrel_op_set_output (KestrelGraph *graph, const KestrelNode *node, guint i,
                            KestrelDType dtype, guint n_dims, const gint64 *shape);

/* Multidirectional (numpy) broadcasting of two shapes; fails naming both. */
gboolean kestrel_op_broadcast_shapes (const KestrelNode *node,
                                      guint a_dims, const gint64 *a,
                                      guint b_dims, const gint64 *b,
                                      guint *out_dims, gint64 *out, GError **error);

/* Normalises a possibly negative axis against a rank; fails out of range. */
gboolean kestrel_op_axis (const KestrelNode *node, gint64 axis, guint rank, guint *out,
                          GError **error);

/* Spatial geometry of Conv / ConvTranspose / pooling for `n_spatial` dims,
 * from the attributes kernel_shape (or the given kernel), strides,
 * dilations, pads and auto_pad (NOTSET, VALID, SAME_UPPER, SAME_LOWER).
 * pads[] gets begin pads then end pads, ONNX order. */
typedef struct {
  guint n_spatial;
  gint64 kernel[3], stride[3], dilation[3];
  gint64 pad_begin[3], pad_end[3];
  gint64 in[3], out[3];
} KestrelConvGeometry;

gboolean kestrel_op_conv_geometry (const KestrelNode *node, guint n_spatial,
                                   const gint64 *in_spatial, const gint64 *kernel,
                                   gboolean ceil_mode, KestrelConvGeometry *geo,
                                   GError **error);

/* Copies n bytes in 16-byte pieces (the last overlapping), 8 or 4 at a
 * time below 16: the runs of an im2col or a concat are short, and a call
 * to memcpy per run would cost more than the copy. */
static inline void
kestrel_op_copy_bytes (void *dst, const void *src, gsize n)
{
  guint8 *d = dst;
  const guint8 *s = src;

  if (n >= 16)
    {
      for (gsize i = 0; i + 16 < n; i += 16)
        memcpy (d + i, s + i, 16);
      memcpy (d + n - 16, s + n - 16, 16);
    }
  else if (n >= 8)
    {
      memcpy (d, s, 8);
      memcpy (d + n - 8, s + n - 8, 8);
    }
  else if (n >= 4)
    {
      memcpy (d, s, 4);
      memcpy (d + n - 4, s + n - 4, 4);
    }
  else
    for (gsize i = 0; i < n; i++)
      d[i] = s[i];
}

/* im2col of a 2-D NHWC convolution (geo from kestrel_op_conv_geometry,
 * cin channels, elements of elem bytes): row r of out is output pixel
 * m0 + r's patch in (ky, kx, c) order, geo->kernel[0] * geo->kernel[1] *
 * cin elements, every byte of an element in the padding pad_byte (0 for a
 * float 0, the zero point for u8). The float and INT8 convolutions share
 * it. */
typedef struct {
  const KestrelConvGeometry *geo;
  gint64 cin;
  gsize elem;
  guint8 pad_byte;
} KestrelIm2col;

void kestrel_op_im2col_rows (const KestrelIm2col *im, const void *x, gsize m0, gsize rows, void *out);

/* Conv weights [Cout][Cin][kh][kw] reordered to the im2col row order
 * [Cout][kh][kw][Cin], elements of elem bytes (g_malloc'd). */
gpointer kestrel_op_weights_to_khwc (gconstpointer w, gsize elem, gint64 cout, gint64 cin, gint64 kh,
                                     gint64 kw);

/* Element strides of a row-major shape. */
void kestrel_shape_strides (guint n_dims, const gint64 *shape, gint64 *strides);

/* The product of shape[from..to): elements of the dimensions in between. */
static inline gint64
kestrel_shape_product (const gint64 *shape, guint from, guint to)
{
  gint64 p = 1;

  for (guint d = from; d < to; d++)
    p *= shape[d];
  return p;
}

/* One element of a tensor of any numeric dtype as a double, or as an
 * int64 (float values truncated toward zero, NaN as 0, out-of-range values
 * saturated). For operators whose reference semantics need not be fast on
 * every type; bool reads as 0 or 1, float16 is not handled (0). */
double kestrel_op_load_double (KestrelDType dtype, gconstpointer data, gsize i);
gint64 kestrel_op_load_int (KestrelDType dtype, gconstpointer data, gsize i);
/* Stores with numpy's astype conversions: truncation toward zero for the
 * integer types (saturating instead of undefined behaviour), v != 0 for
 * bool. */
void kestrel_op_store_double (KestrelDType dtype, gpointer data, gsize i, double v);
void kestrel_op_store_int (KestrelDType dtype, gpointer data, gsize i, gint64 v);
gint64 kestrel_op_double_to_int (double v);

/* Strides in elements of an input of shape `in` read as the broadcast
 * output shape `out`: 0 along broadcast dimensions. */
void kestrel_op_broadcast_strides (guint out_dims, const gint64 *out, guint in_dims,
                                   const gint64 *in, gint64 *strides);

G_END_DECLS
