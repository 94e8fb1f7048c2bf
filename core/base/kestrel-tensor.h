/* kestrel-tensor.h — a ref-counted, dense, row-major tensor.
 *
 * A tensor either owns 64-byte aligned memory or wraps memory someone else
 * owns (model weights inside a mapped file, a pooled frame, an arena slot),
 * in which case a GDestroyNotify tells the owner when the last reference is
 * gone. Shapes come from model files, so every size is overflow-checked and
 * reported through GError with the shape in the message.
 *
 * References may be taken and dropped from any thread; the data itself is
 * not synchronised.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum {
  KESTREL_DTYPE_FLOAT32,
  KESTREL_DTYPE_FLOAT16,
  KESTREL_DTYPE_INT8,
  KESTREL_DTYPE_UINT8,
  KESTREL_DTYPE_INT32,
  KESTREL_DTYPE_INT64,
  KESTREL_DTYPE_BOOL,
  /* No vision model computes in double; it is here for the operators whose
   * ONNX cases use it (Cast, the arithmetic, CumSum, ReduceLogSumExp) and
   * for models that carry double constants. Added last: the values above
   * keep their numbers. */
  KESTREL_DTYPE_FLOAT64,
} KestrelDType;

#define KESTREL_DTYPE_N_TYPES (KESTREL_DTYPE_FLOAT64 + 1)

/* ONNX allows more, but no vision model Kestrel runs needs more than 6. */
#define KESTREL_TENSOR_MAX_DIMS 8

gsize        kestrel_dtype_get_size (KestrelDType dtype);  /* bytes per element; bool is 1 */
const char  *kestrel_dtype_get_name (KestrelDType dtype);  /* "float32", "float16", ... */

/* Number of elements and bytes of a shape, or FALSE with a GError naming the
 * shape when a dimension is negative, there are too many dimensions, or the
 * size overflows or is over kestrel_tensor_get_max_bytes(). @n_elements and @n_bytes may be NULL. */
gboolean     kestrel_shape_get_size  (KestrelDType  dtype,
                                      guint         n_dims,
                                      const gint64 *shape,
                                      gsize        *n_elements,
                                      gsize        *n_bytes,
                                      GError      **error);
/* The most bytes one tensor may take, checked by kestrel_shape_get_size()
 * and so before anything is allocated: every tensor of a model (graph
 * inputs, initializers, each value shape inference gives, folded
 * constants) and a plan's activation arena. A model that claims more is an
 * error naming the shape, not an abort in malloc or a machine brought to
 * swapping. KESTREL_TENSOR_DEFAULT_MAX_BYTES (4 GiB; the bundled models'
 * largest value is under 4 MB) unless changed for the whole process, as
 * the fuzz targets do to stay within libFuzzer's memory limit. */
#define KESTREL_TENSOR_DEFAULT_MAX_BYTES ((guint64) 4 << 30)
gsize        kestrel_tensor_get_max_bytes (void);
void         kestrel_tensor_set_max_bytes (gsize max_bytes);

/* "[1,128,128,3]"; "[]" for a scalar. */
char        *kestrel_shape_to_string (guint         n_dims,
                                      const gint64 *shape) G_GNUC_WARN_UNUSED_RESULT;

#define KESTREL_TYPE_TENSOR (kestrel_tensor_get_type ())

typedef struct _KestrelTensor KestrelTensor;

GType          kestrel_tensor_get_type (void) G_GNUC_CONST;

/* Owns zero-filled memory aligned to KESTREL_ALIGNMENT. */
KestrelTensor *kestrel_tensor_new          (KestrelDType    dtype,
                                            guint           n_dims,
                                            const gint64   *shape,
                                            GError        **error);
/* Wraps @data, which must hold at least the tensor's bytes (@data_size says
 * how many it does). @notify (if not NULL) is called with @notify_data
 * exactly once, when the last reference is dropped. On error nothing is
 * taken: the caller still owns @data and @notify is not called. */
KestrelTensor *kestrel_tensor_new_for_data (KestrelDType    dtype,
                                            guint           n_dims,
                                            const gint64   *shape,
                                            gpointer        data,
                                            gsize           data_size,
                                            GDestroyNotify  notify,
                                            gpointer        notify_data,
                                            GError        **error);
KestrelTensor *kestrel_tensor_ref          (KestrelTensor  *self);
void           kestrel_tensor_unref        (KestrelTensor  *self);

KestrelDType   kestrel_tensor_get_dtype      (const KestrelTensor *self);
guint          kestrel_tensor_get_n_dims     (const KestrelTensor *self);
const gint64  *kestrel_tensor_get_shape      (const KestrelTensor *self);
gint64         kestrel_tensor_get_dim        (const KestrelTensor *self,
                                              guint                axis);
gsize          kestrel_tensor_get_n_elements (const KestrelTensor *self);
gsize          kestrel_tensor_get_n_bytes    (const KestrelTensor *self);
gpointer       kestrel_tensor_get_data       (const KestrelTensor *self);
/* "float32[1,128,128,3]", for error messages and logs. */
char          *kestrel_tensor_describe       (const KestrelTensor *self) G_GNUC_WARN_UNUSED_RESULT;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KestrelTensor, kestrel_tensor_unref)

G_END_DECLS
