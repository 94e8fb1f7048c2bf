/* test-tensor.c — dtypes, shapes, ownership and overflow of KestrelTensor. */
#include <string.h>

#include "kestrel-buffer.h"
#include "kestrel-error.h"
#include "kestrel-tensor.h"

#if defined(__SANITIZE_ADDRESS__)
/* A failed allocation must come back as NULL (and then a GError) under
 * AddressSanitizer too, as it does with glibc. */
const char *__asan_default_options (void);
const char *
__asan_default_options (void)
{
  return "allocator_may_return_null=1";
}
#endif

static void
test_tensor_dtypes (void)
{
  static const struct { KestrelDType dtype; gsize size; const char *name; } expected[] = {
    { KESTREL_DTYPE_FLOAT32, 4, "float32" },
    { KESTREL_DTYPE_FLOAT16, 2, "float16" },
    { KESTREL_DTYPE_INT8,    1, "int8" },
    { KESTREL_DTYPE_UINT8,   1, "uint8" },
    { KESTREL_DTYPE_INT32,   4, "int32" },
    { KESTREL_DTYPE_INT64,   8, "int64" },
    { KESTREL_DTYPE_BOOL,    1, "bool" },
    { KESTREL_DTYPE_FLOAT64, 8, "float64" },
  };

  G_STATIC_ASSERT (G_N_ELEMENTS (expected) == KESTREL_DTYPE_N_TYPES);
  for (gsize i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_assert_cmpuint (kestrel_dtype_get_size (expected[i].dtype), ==, expected[i].size);
      g_assert_cmpstr (kestrel_dtype_get_name (expected[i].dtype), ==, expected[i].name);
    }
}

static void
test_tensor_new (void)
{
  const gint64 shape[] = { 1, 128, 128, 3 };
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelTensor) t = kestrel_tensor_new (KESTREL_DTYPE_FLOAT32, 4, shape, &error);
  g_autofree char *desc = NULL;
  const guint8 *bytes;

  g_assert_no_error (error);
  g_assert_nonnull (t);
  g_assert_cmpint (kestrel_tensor_get_dtype (t), ==, KESTREL_DTYPE_FLOAT32);
  g_assert_cmpuint (kestrel_tensor_get_n_dims (t), ==, 4);
  g_assert_cmpmem (kestrel_tensor_get_shape (t), sizeof shape, shape, sizeof shape);
  g_assert_cmpint (kestrel_tensor_get_dim (t, 1), ==, 128);
  g_assert_cmpuint (kestrel_tensor_get_n_elements (t), ==, 128 * 128 * 3);
  g_assert_cmpuint (kestrel_tensor_get_n_bytes (t), ==, 128 * 128 * 3 * 4);
  g_assert_true (kestrel_is_aligned (kestrel_tensor_get_data (t), KESTREL_ALIGNMENT));

  bytes = kestrel_tensor_get_data (t);
  for (gsize i = 0; i < kestrel_tensor_get_n_bytes (t); i++)
    g_assert_cmpuint (bytes[i], ==, 0);

  desc = kestrel_tensor_describe (t);
  g_assert_cmpstr (desc, ==, "float32[1,128,128,3]");
}

static void
test_tensor_scalar_and_empty (void)
{
  const gint64 empty_shape[] = { 4, 0, 7 };
  g_autoptr(KestrelTensor) scalar = kestrel_tensor_new (KESTREL_DTYPE_INT64, 0, NULL, NULL);
  g_autoptr(KestrelTensor) empty = kestrel_tensor_new (KESTREL_DTYPE_UINT8, 3, empty_shape, NULL);
  g_autofree char *s1 = kestrel_shape_to_string (0, NULL);
  g_autofree char *s2 = kestrel_shape_to_string (3, empty_shape);

  g_assert_cmpuint (kestrel_tensor_get_n_elements (scalar), ==, 1);
  g_assert_cmpuint (kestrel_tensor_get_n_bytes (scalar), ==, 8);
  g_assert_cmpuint (kestrel_tensor_get_n_elements (empty), ==, 0);
  g_assert_cmpuint (kestrel_tensor_get_n_bytes (empty), ==, 0);
  g_assert_nonnull (kestrel_tensor_get_data (empty));
  g_assert_cmpstr (s1, ==, "[]");
  g_assert_cmpstr (s2, ==, "[4,0,7]");
}

static void
test_tensor_bad_shapes (void)
{
  const gint64 absurd[] = { 1 << 30, 1 << 30, 1 << 30 };
  const gint64 absurd_with_zero[] = { G_MAXINT64, 0, G_MAXINT64 };
  const gint64 just_over[] = { G_MAXINT64 / 2 + 1 };
  const gint64 negative[] = { 1, -3, 4 };
  const gint64 nine[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
  g_autoptr(GError) error = NULL;
  KestrelTensor *t;

  t = kestrel_tensor_new (KESTREL_DTYPE_FLOAT32, 3, absurd, &error);
  g_assert_null (t);
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "[1073741824,1073741824,1073741824]"));
  g_test_message ("%s", error->message);
  g_clear_error (&error);

  /* A zero dimension does not excuse the others. */
  t = kestrel_tensor_new (KESTREL_DTYPE_FLOAT32, 3, absurd_with_zero, &error);
  g_assert_null (t);
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* Fits in gsize as elements, not as float32 bytes. */
  t = kestrel_tensor_new (KESTREL_DTYPE_FLOAT32, 1, just_over, &error);
  g_assert_null (t);
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* 2^63 bytes: no gsize overflow, but beyond what a pointer difference
   * can hold. */
  g_assert_false (kestrel_shape_get_size (KESTREL_DTYPE_FLOAT16, 1, just_over, NULL, NULL, &error));
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  t = kestrel_tensor_new (KESTREL_DTYPE_INT8, 3, negative, &error);
  g_assert_null (t);
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "[1,-3,4]"));
  g_clear_error (&error);

  t = kestrel_tensor_new (KESTREL_DTYPE_INT8, 9, nine, &error);
  g_assert_null (t);
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED);
  g_clear_error (&error);
}

static void
test_tensor_too_big_for_memory (void)
{
  /* A valid size that no machine running these tests has: an error, not an
   * abort. 2^62 bytes is below G_MAXSSIZE on 64-bit. */
  const gint64 shape[] = { (gint64) 1 << 31, (gint64) 1 << 29 };
  g_autoptr(GError) error = NULL;
  KestrelTensor *t;

  if (GLIB_SIZEOF_SIZE_T < 8)
    {
      g_test_skip ("needs a 64-bit size_t");
      return;
    }
  /* Over the tensor limit (4 GiB): refused before any allocation. */
  t = kestrel_tensor_new (KESTREL_DTYPE_FLOAT32, 2, shape, &error);
  g_assert_null (t);
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_NO_MEMORY);
  g_assert_nonnull (strstr (error->message, "[2147483648,536870912] of float32"));
  g_assert_nonnull (strstr (error->message, "Kestrel allows for one tensor"));
  g_clear_error (&error);

  /* With the limit as high as it goes, the allocation itself fails. */
  kestrel_tensor_set_max_bytes (G_MAXSIZE);
  g_assert_cmpuint (kestrel_tensor_get_max_bytes (), ==, G_MAXSSIZE);
  t = kestrel_tensor_new (KESTREL_DTYPE_FLOAT32, 2, shape, &error);
  kestrel_tensor_set_max_bytes (KESTREL_TENSOR_DEFAULT_MAX_BYTES);
  g_assert_null (t);
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_NO_MEMORY);
  g_assert_nonnull (strstr (error->message, "float32[2147483648,536870912]"));
}

typedef struct {
  int n_calls;
  gpointer data;
} NotifyData;

static void
count_notify (gpointer user_data)
{
  NotifyData *nd = user_data;

  nd->n_calls++;
  g_free (nd->data);
}

static void
test_tensor_wrap (void)
{
  const gint64 shape[] = { 2, 3 };
  NotifyData nd = { 0, g_new0 (gint32, 6) };
  g_autoptr(GError) error = NULL;
  KestrelTensor *t, *t2;

  t = kestrel_tensor_new_for_data (KESTREL_DTYPE_INT32, 2, shape, nd.data, 6 * sizeof (gint32),
                                   count_notify, &nd, &error);
  g_assert_no_error (error);
  g_assert_true (kestrel_tensor_get_data (t) == nd.data);
  g_assert_cmpuint (kestrel_tensor_get_n_bytes (t), ==, 24);

  t2 = kestrel_tensor_ref (t);
  kestrel_tensor_unref (t);
  g_assert_cmpint (nd.n_calls, ==, 0);
  kestrel_tensor_unref (t2);
  g_assert_cmpint (nd.n_calls, ==, 1);
}

static void
test_tensor_wrap_too_small (void)
{
  const gint64 shape[] = { 2, 3 };
  NotifyData nd = { 0, NULL };
  gint32 data[5];
  g_autoptr(GError) error = NULL;
  KestrelTensor *t;

  t = kestrel_tensor_new_for_data (KESTREL_DTYPE_INT32, 2, shape, data, sizeof data,
                                   count_notify, &nd, &error);
  g_assert_null (t);
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "int32[2,3]"));
  /* Nothing was taken, so nothing is released. */
  g_assert_cmpint (nd.n_calls, ==, 0);
}

static void
test_tensor_boxed (void)
{
  const gint64 shape[] = { 5 };
  g_autoptr(KestrelTensor) t = kestrel_tensor_new (KESTREL_DTYPE_FLOAT16, 1, shape, NULL);
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, KESTREL_TYPE_TENSOR);
  g_value_set_boxed (&value, t);
  /* The copy function is a ref, not a deep copy. */
  g_assert_true (g_value_get_boxed (&value) == t);
}

typedef struct {
  KestrelTensor *tensor;
  guint          n_refs;
} Releaser;

static gpointer
release_refs (gpointer data)
{
  Releaser *r = data;

  for (guint i = 0; i < r->n_refs; i++)
    kestrel_tensor_unref (r->tensor);
  return NULL;
}

static void
test_tensor_refs_across_threads (void)
{
  const gint64 shape[] = { 16 };
  NotifyData nd = { 0, g_new0 (float, 16) };
  KestrelTensor *t = kestrel_tensor_new_for_data (KESTREL_DTYPE_FLOAT32, 1, shape, nd.data,
                                                  16 * sizeof (float), count_notify, &nd, NULL);
  GThread *threads[4];
  Releaser releaser = { t, 1000 };

  for (guint i = 0; i < G_N_ELEMENTS (threads) * releaser.n_refs; i++)
    kestrel_tensor_ref (t);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("unref", release_refs, &releaser);
  /* The creator's reference goes while the others are being dropped. */
  kestrel_tensor_unref (t);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  g_assert_cmpint (nd.n_calls, ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tensor/dtypes", test_tensor_dtypes);
  g_test_add_func ("/tensor/new", test_tensor_new);
  g_test_add_func ("/tensor/scalar-and-empty", test_tensor_scalar_and_empty);
  g_test_add_func ("/tensor/bad-shapes", test_tensor_bad_shapes);
  g_test_add_func ("/tensor/too-big-for-memory", test_tensor_too_big_for_memory);
  g_test_add_func ("/tensor/wrap", test_tensor_wrap);
  g_test_add_func ("/tensor/wrap-too-small", test_tensor_wrap_too_small);
  g_test_add_func ("/tensor/boxed", test_tensor_boxed);
  g_test_add_func ("/tensor/refs-across-threads", test_tensor_refs_across_threads);
  return g_test_run ();
}
