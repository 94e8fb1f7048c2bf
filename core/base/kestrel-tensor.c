/* kestrel-tensor.c — see kestrel-tensor.h. */
#include "config.h"

#include "kestrel-tensor.h"

#include <string.h>

#include "kestrel-buffer.h"
#include "kestrel-error.h"

struct _KestrelTensor
{
  gatomicrefcount ref_count;
  KestrelDType    dtype;
  guint           n_dims;
  gint64          shape[KESTREL_TENSOR_MAX_DIMS];
  gsize           n_elements;
  gsize           n_bytes;
  gpointer        data;
  /* NULL notify with owns_data: the memory is ours (kestrel_aligned_free). */
  gboolean        owns_data;
  GDestroyNotify  notify;
  gpointer        notify_data;
};

G_DEFINE_BOXED_TYPE (KestrelTensor, kestrel_tensor, kestrel_tensor_ref, kestrel_tensor_unref)

static const struct {
  const char *name;
  gsize size;
} dtype_info[KESTREL_DTYPE_N_TYPES] = {
  [KESTREL_DTYPE_FLOAT32] = { "float32", 4 },
  [KESTREL_DTYPE_FLOAT16] = { "float16", 2 },
  [KESTREL_DTYPE_INT8]    = { "int8",    1 },
  [KESTREL_DTYPE_UINT8]   = { "uint8",   1 },
  [KESTREL_DTYPE_INT32]   = { "int32",   4 },
  [KESTREL_DTYPE_INT64]   = { "int64",   8 },
  [KESTREL_DTYPE_BOOL]    = { "bool",    1 },
  [KESTREL_DTYPE_FLOAT64] = { "float64", 8 },
};

static gboolean
dtype_is_valid (KestrelDType dtype)
{
  return (guint) dtype < KESTREL_DTYPE_N_TYPES;
}

gsize
kestrel_dtype_get_size (KestrelDType dtype)
{
  g_return_val_if_fail (dtype_is_valid (dtype), 0);

  return dtype_info[dtype].size;
}

const char *
kestrel_dtype_get_name (KestrelDType dtype)
{
  g_return_val_if_fail (dtype_is_valid (dtype), NULL);

  return dtype_info[dtype].name;
}

char *
kestrel_shape_to_string (guint         n_dims,
                         const gint64 *shape)
{
  GString *str;

  g_return_val_if_fail (n_dims == 0 || shape != NULL, NULL);

  str = g_string_new ("[");

  for (guint i = 0; i < n_dims; i++)
    g_string_append_printf (str, "%s%" G_GINT64_FORMAT, i > 0 ? "," : "", shape[i]);
  g_string_append_c (str, ']');

  return g_string_free (str, FALSE);
}

/* 0 until set: the default. Read on every shape check, from any thread. */
static gsize max_bytes_set;

gsize
kestrel_tensor_get_max_bytes (void)
{
  gsize set = (gsize) g_atomic_pointer_get (&max_bytes_set);

  if (set != 0)
    return set;
  return (gsize) MIN (KESTREL_TENSOR_DEFAULT_MAX_BYTES, (guint64) G_MAXSSIZE);
}

void
kestrel_tensor_set_max_bytes (gsize max_bytes)
{
  g_return_if_fail (max_bytes > 0);
  g_atomic_pointer_set (&max_bytes_set, MIN (max_bytes, (gsize) G_MAXSSIZE));
}

gboolean
kestrel_shape_get_size (KestrelDType  dtype,
                        guint         n_dims,
                        const gint64 *shape,
                        gsize        *n_elements,
                        gsize        *n_bytes,
                        GError      **error)
{
  gsize nonzero = 1;
  gboolean has_zero = FALSE;
  gsize bytes;

  g_return_val_if_fail (dtype_is_valid (dtype), FALSE);
  g_return_val_if_fail (n_dims == 0 || shape != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* Everything below can come straight from a model file, hence GError
   * rather than g_return_if_fail. The element count is checked in full
   * even after a zero dimension, so a shape that is absurd stays an error
   * whatever order its dimensions come in. */
  if (n_dims > KESTREL_TENSOR_MAX_DIMS)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                   "Tensor shape has %u dimensions; at most %d are supported",
                   n_dims, KESTREL_TENSOR_MAX_DIMS);
      return FALSE;
    }

  for (guint i = 0; i < n_dims; i++)
    {
      if (shape[i] < 0)
        {
          g_autofree char *str = kestrel_shape_to_string (n_dims, shape);

          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                       "Tensor shape %s has a negative dimension %" G_GINT64_FORMAT " at axis %u",
                       str, shape[i], i);
          return FALSE;
        }
    }

  for (guint i = 0; i < n_dims; i++)
    {
      if (shape[i] == 0)
        {
          has_zero = TRUE;
          continue;
        }
#if GLIB_SIZEOF_SIZE_T < 8
      if ((guint64) shape[i] > G_MAXSIZE)
        goto too_big;
#endif
      if (!kestrel_size_mul (nonzero, (gsize) shape[i], &nonzero))
        goto too_big;
    }
  /* Capped at G_MAXSSIZE so that any byte offset into the tensor fits in a
   * ptrdiff_t as well. */
  if (!kestrel_size_mul (nonzero, dtype_info[dtype].size, &bytes) || bytes > G_MAXSSIZE)
    goto too_big;
  if (has_zero)
    bytes = 0;
  if (bytes > kestrel_tensor_get_max_bytes ())
    {
      g_autofree char *str = kestrel_shape_to_string (n_dims, shape);
      g_autofree char *need = g_format_size_full (bytes, G_FORMAT_SIZE_IEC_UNITS);
      g_autofree char *limit = g_format_size_full (kestrel_tensor_get_max_bytes (),
                                                   G_FORMAT_SIZE_IEC_UNITS);

      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_NO_MEMORY,
                   "Tensor shape %s of %s needs %s, more than the %s Kestrel allows for one tensor",
                   str, dtype_info[dtype].name, need, limit);
      return FALSE;
    }

  if (n_elements != NULL)
    *n_elements = has_zero ? 0 : nonzero;
  if (n_bytes != NULL)
    *n_bytes = bytes;
  return TRUE;

too_big:
  {
    g_autofree char *str = kestrel_shape_to_string (n_dims, shape);

    g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                 "Tensor shape %s of %s is too large: its size in bytes overflows",
                 str, dtype_info[dtype].name);
    return FALSE;
  }
}

static KestrelTensor *
tensor_new_common (KestrelDType  dtype,
                   guint         n_dims,
                   const gint64 *shape,
                   GError      **error)
{
  KestrelTensor *self;
  gsize n_elements, n_bytes;

  if (!kestrel_shape_get_size (dtype, n_dims, shape, &n_elements, &n_bytes, error))
    return NULL;

  self = g_new0 (KestrelTensor, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->dtype = dtype;
  self->n_dims = n_dims;
  if (n_dims > 0)
    memcpy (self->shape, shape, n_dims * sizeof (gint64));
  self->n_elements = n_elements;
  self->n_bytes = n_bytes;

  return self;
}

KestrelTensor *
kestrel_tensor_new (KestrelDType   dtype,
                    guint          n_dims,
                    const gint64  *shape,
                    GError       **error)
{
  KestrelTensor *self;

  g_return_val_if_fail (dtype_is_valid (dtype), NULL);
  g_return_val_if_fail (n_dims == 0 || shape != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = tensor_new_common (dtype, n_dims, shape, error);
  if (self == NULL)
    return NULL;

  /* A shape can be valid and still too big for this machine: that is bad
   * input too, not a reason to abort. */
  self->data = kestrel_aligned_try_alloc (self->n_bytes, KESTREL_ALIGNMENT);
  if (self->data == NULL)
    {
      g_autofree char *str = kestrel_shape_to_string (n_dims, shape);

      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_NO_MEMORY,
                   "Not enough memory for tensor %s%s (%" G_GSIZE_FORMAT " bytes)",
                   dtype_info[dtype].name, str, self->n_bytes);
      g_free (self);
      return NULL;
    }
  memset (self->data, 0, self->n_bytes);
  self->owns_data = TRUE;

  return self;
}

KestrelTensor *
kestrel_tensor_new_for_data (KestrelDType     dtype,
                             guint            n_dims,
                             const gint64    *shape,
                             gpointer         data,
                             gsize            data_size,
                             GDestroyNotify   notify,
                             gpointer         notify_data,
                             GError         **error)
{
  KestrelTensor *self;

  g_return_val_if_fail (dtype_is_valid (dtype), NULL);
  g_return_val_if_fail (n_dims == 0 || shape != NULL, NULL);
  g_return_val_if_fail (data != NULL || data_size == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = tensor_new_common (dtype, n_dims, shape, error);
  if (self == NULL)
    return NULL;

  /* The size usually comes from a file (a weight blob, an image) that may
   * be shorter than its header claims. */
  if (data_size < self->n_bytes)
    {
      g_autofree char *str = kestrel_shape_to_string (n_dims, shape);

      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "Tensor %s%s needs %" G_GSIZE_FORMAT " bytes but its data has only %" G_GSIZE_FORMAT,
                   dtype_info[dtype].name, str, self->n_bytes, data_size);
      g_free (self);
      return NULL;
    }

  self->data = data;
  self->notify = notify;
  self->notify_data = notify_data;

  return self;
}

KestrelTensor *
kestrel_tensor_ref (KestrelTensor *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
kestrel_tensor_unref (KestrelTensor *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  if (self->owns_data)
    kestrel_aligned_free (self->data);
  else if (self->notify != NULL)
    self->notify (self->notify_data);
  g_free (self);
}

KestrelDType
kestrel_tensor_get_dtype (const KestrelTensor *self)
{
  g_return_val_if_fail (self != NULL, KESTREL_DTYPE_FLOAT32);

  return self->dtype;
}

guint
kestrel_tensor_get_n_dims (const KestrelTensor *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->n_dims;
}

const gint64 *
kestrel_tensor_get_shape (const KestrelTensor *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->shape;
}

gint64
kestrel_tensor_get_dim (const KestrelTensor *self,
                        guint                axis)
{
  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (axis < self->n_dims, 0);

  return self->shape[axis];
}

gsize
kestrel_tensor_get_n_elements (const KestrelTensor *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->n_elements;
}

gsize
kestrel_tensor_get_n_bytes (const KestrelTensor *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->n_bytes;
}

gpointer
kestrel_tensor_get_data (const KestrelTensor *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->data;
}

char *
kestrel_tensor_describe (const KestrelTensor *self)
{
  g_autofree char *str = NULL;

  g_return_val_if_fail (self != NULL, NULL);

  str = kestrel_shape_to_string (self->n_dims, self->shape);
  return g_strconcat (dtype_info[self->dtype].name, str, NULL);
}
