/* test-model-limits.c — sizes a model controls are checked and capped
 * before anything is allocated: models crafted byte by byte (a protobuf
 * writer of a few lines, so the test needs no ONNX tooling) that claim
 * 100 GB in each place a model can — a graph input, a shape computed in
 * the graph, an initializer's dims — are a GError naming what is too
 * large, never an abort in malloc; and the limit itself
 * (kestrel_tensor_set_max_bytes) holds for single tensors and for a
 * plan's arena.
 */
#include "config.h"

#include <string.h>

#include "kestrel-error.h"
#include "kestrel-model.h"
#include "kestrel-plan.h"

/* ---- a protobuf writer: varints and length-delimited fields ------------- */

static void
put_varint (GByteArray *b, guint64 v)
{
  do
    {
      guint8 byte = (v & 0x7f) | (v > 0x7f ? 0x80 : 0);
      g_byte_array_append (b, &byte, 1);
      v >>= 7;
    }
  while (v != 0);
}

static void
put_int (GByteArray *b, guint field, gint64 v)
{
  put_varint (b, (guint64) field << 3);
  put_varint (b, (guint64) v);
}

static void
put_bytes (GByteArray *b, guint field, const void *data, gsize n)
{
  put_varint (b, (guint64) field << 3 | 2);
  put_varint (b, n);
  g_byte_array_append (b, data, n);
}

static void
put_string (GByteArray *b, guint field, const char *s)
{
  put_bytes (b, field, s, strlen (s));
}

/* Appends `m` as field `field` and frees it. */
static void
put_message (GByteArray *b, guint field, GByteArray *m)
{
  put_bytes (b, field, m->data, m->len);
  g_byte_array_unref (m);
}

/* ValueInfoProto of a float tensor of `shape` (n_dims 0: no type). */
static GByteArray *
value_info (const char *name, guint n_dims, const gint64 *shape)
{
  GByteArray *info = g_byte_array_new ();
  GByteArray *type = g_byte_array_new ();
  GByteArray *tensor = g_byte_array_new ();
  GByteArray *dims = g_byte_array_new ();

  put_string (info, 1, name);
  if (n_dims == 0)
    {
      g_byte_array_unref (type);
      g_byte_array_unref (tensor);
      g_byte_array_unref (dims);
      return info;
    }
  for (guint d = 0; d < n_dims; d++)
    {
      GByteArray *dim = g_byte_array_new ();
      put_int (dim, 1, shape[d]);
      put_message (dims, 1, dim);
    }
  put_int (tensor, 1, 1); /* float */
  put_message (tensor, 2, dims);
  put_message (type, 1, tensor);
  put_message (info, 2, type);
  return info;
}

static GByteArray *
node (const char *op_type, const char *const *inputs, const char *output)
{
  GByteArray *n = g_byte_array_new ();

  for (guint i = 0; inputs[i] != NULL; i++)
    put_string (n, 1, inputs[i]);
  put_string (n, 2, output);
  put_string (n, 4, op_type);
  return n;
}

/* ModelProto, IR 8, opset 13, around `graph`. */
static GBytes *
model (GByteArray *graph)
{
  GByteArray *m = g_byte_array_new ();
  GByteArray *opset = g_byte_array_new ();

  put_int (m, 1, 8);
  put_int (opset, 2, 13);
  put_message (m, 8, opset);
  put_message (m, 7, graph);
  return g_byte_array_free_to_bytes (m);
}

static const gint64 huge_shape[] = { 1, 3, 100000, 100000 }; /* 120 GB of float */

static void
assert_too_large (GBytes *bytes, const char *what)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) m = kestrel_model_new_from_bytes (bytes, "crafted.onnx", &error);

  g_assert_null (m);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, what));
}

/* x [1,3,100000,100000] -> Relu -> y: the input alone is 120 GB. */
static void
test_huge_input (void)
{
  GByteArray *graph = g_byte_array_new ();
  const char *const in[] = { "x", NULL };
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;

  put_message (graph, 1, node ("Relu", in, "y"));
  put_message (graph, 11, value_info ("x", 4, huge_shape));
  put_message (graph, 12, value_info ("y", 0, NULL));
  bytes = model (graph);
  assert_too_large (bytes, "graph input 'x'");
  assert_too_large (bytes, "more than the 4.0"); /* GiB, after a no-break space */
}

/* ConstantOfShape of a constant [100000,100000,3]: nothing in the file is
 * large, the shape computed in the graph is, and constant folding would
 * allocate it. */
static void
test_huge_computed_shape (void)
{
  GByteArray *graph = g_byte_array_new ();
  GByteArray *init = g_byte_array_new ();
  const char *const in[] = { "shape", NULL };
  const gint64 target[] = { 100000, 100000, 3 };
  g_autoptr(GBytes) bytes = NULL;

  put_message (graph, 1, node ("ConstantOfShape", in, "y"));
  put_int (init, 1, 3);        /* dims [3] */
  put_int (init, 2, 7);        /* int64 */
  put_string (init, 8, "shape");
  put_bytes (init, 9, target, sizeof target);
  put_message (graph, 5, init);
  put_message (graph, 12, value_info ("y", 0, NULL));
  bytes = model (graph);
  assert_too_large (bytes, "(ConstantOfShape)");
  assert_too_large (bytes, "output 'y'");
}

/* An initializer whose dims claim 100 GB and which holds 4 bytes: refused
 * for the missing data, before the claimed size is allocated. */
static void
test_huge_initializer (void)
{
  GByteArray *graph = g_byte_array_new ();
  GByteArray *init = g_byte_array_new ();
  GByteArray *dims = g_byte_array_new ();
  const char *const in[] = { "w", NULL };
  const float one = 1.0f;
  g_autoptr(GBytes) bytes = NULL;

  put_message (graph, 1, node ("Relu", in, "y"));
  for (guint d = 0; d < G_N_ELEMENTS (huge_shape); d++)
    put_varint (dims, (guint64) huge_shape[d]);
  put_bytes (init, 1, dims->data, dims->len); /* packed dims */
  g_byte_array_unref (dims);
  put_int (init, 2, 1);
  put_string (init, 8, "w");
  put_bytes (init, 9, &one, sizeof one);
  put_message (graph, 5, init);
  put_message (graph, 12, value_info ("y", 0, NULL));
  bytes = model (graph);
  assert_too_large (bytes, "initializer 'w'");
}

/* x [1,1,512,512] (1 MiB) -> Relu, Sigmoid -> Add: every value fits a
 * 2 MiB limit, the plan's arena (x, both branches live at the Add) does
 * not; with a 512 KiB limit the input itself does not. */
static void
test_limit (void)
{
  GByteArray *graph = g_byte_array_new ();
  const char *const x[] = { "x", NULL };
  const char *const ab[] = { "a", "b", NULL };
  const gint64 shape[] = { 1, 1, 512, 512 };
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(KestrelModel) m = NULL;
  g_autoptr(KestrelPlan) plan = NULL;
  g_autoptr(GError) error = NULL;
  KestrelPlanOptions options;

  put_message (graph, 1, node ("Relu", x, "a"));
  put_message (graph, 1, node ("Sigmoid", x, "b"));
  put_message (graph, 1, node ("Add", ab, "y"));
  put_message (graph, 11, value_info ("x", 4, shape));
  put_message (graph, 12, value_info ("y", 0, NULL));
  bytes = model (graph);

  kestrel_plan_options_init (&options);
  options.level = KK_LEVEL_SCALAR;

  kestrel_tensor_set_max_bytes (512 * 1024);
  assert_too_large (bytes, "more than the 512.0");

  kestrel_tensor_set_max_bytes (2 * 1024 * 1024);
  m = kestrel_model_new_from_bytes (bytes, "crafted.onnx", &error);
  g_assert_no_error (error);
  plan = kestrel_plan_new (m, &options, &error);
  g_assert_null (plan);
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_NO_MEMORY);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "activations need"));
  g_clear_error (&error);

  kestrel_tensor_set_max_bytes (KESTREL_TENSOR_DEFAULT_MAX_BYTES);
  plan = kestrel_plan_new (m, &options, &error);
  g_assert_no_error (error);
  g_assert_nonnull (plan);
  g_assert_cmpuint (kestrel_plan_get_arena_bytes (plan), >, 2 * 1024 * 1024);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/model-limits/huge-input", test_huge_input);
  g_test_add_func ("/model-limits/huge-computed-shape", test_huge_computed_shape);
  g_test_add_func ("/model-limits/huge-initializer", test_huge_initializer);
  g_test_add_func ("/model-limits/limit", test_limit);
  return g_test_run ();
}
