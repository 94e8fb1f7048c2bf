/* ops-test-util.h — shared by the tests/ops/test-ops-*.c programs.
 *
 * Two ways to run an operator:
 *
 *  - OpCase: a one-node graph built by hand; infer() runs through the
 *    engine's passes and the node then runs as a plan step would (prepare
 *    sees constant data only, run() writes into a buffer poisoned with
 *    0xff bytes, NaN in float), at any level and with or without a pool.
 *
 *  - TestModel: a small ONNX file encoded here (just the protobuf fields the
 *    loader reads), for what needs a real model and plan: memory planning
 *    and aliasing, constant folding, errors from loading.
 */
#pragma once

#include <math.h>
#include <string.h>

#include <glib.h>

#include "kestrel-error.h"
#include "kestrel-graph.h"
#include "kestrel-model.h"
#include "kestrel-op.h"
#include "kestrel-passes.h"
#include "kestrel-plan.h"
#include "kestrel-thread-pool.h"

static KestrelThreadPool *test_pool;

/* ---- One-node cases -------------------------------------------------------- */

typedef struct {
  KestrelGraph *graph;
  gint node;
  GHashTable *data;  /* activation value -> its bytes */
} OpCase;

/* A case of operator op_type of `domain` ("" for ONNX's, "kestrel" for the
 * engine's own). */
static inline OpCase *
op_case_new_in (gint64 opset, const char *domain, const char *op_type)
{
  OpCase *c = g_new0 (OpCase, 1);

  c->graph = kestrel_graph_new ();
  c->graph->opset = opset;
  c->node = kestrel_graph_add_node (c->graph, domain, op_type, "the_node");
  c->data = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  return c;
}

static inline OpCase *
op_case_new (gint64 opset, const char *op_type)
{
  return op_case_new_in (opset, "", op_type);
}

static inline void
op_case_free (OpCase *c)
{
  kestrel_graph_free (c->graph);
  g_hash_table_unref (c->data);
  g_free (c);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OpCase, op_case_free)

static inline KestrelNode *
op_case_node (OpCase *c)
{
  return kestrel_graph_node (c->graph, c->node);
}

/* An activation input; its data is copied. */
static inline void
op_case_input (OpCase *c, KestrelDType dtype, guint n_dims, const gint64 *shape,
               gconstpointer data)
{
  g_autofree char *name = g_strdup_printf ("in%u", kestrel_node_n_inputs (op_case_node (c)));
  gint v = kestrel_graph_intern_value (c->graph, name);
  KestrelValue *value = kestrel_graph_value (c->graph, v);
  gsize bytes = 0;

  kestrel_value_set_shape (value, dtype, n_dims, shape);
  value->is_input = TRUE;
  g_array_append_val (c->graph->inputs, v);
  g_assert_true (kestrel_shape_get_size (dtype, n_dims, shape, NULL, &bytes, NULL));
  g_hash_table_insert (c->data, GINT_TO_POINTER (v), g_memdup2 (data, MAX (bytes, 1)));
  kestrel_node_add_input (op_case_node (c), v);
}

static inline void
op_case_constant (OpCase *c, KestrelDType dtype, guint n_dims, const gint64 *shape,
                  gconstpointer data)
{
  g_autoptr(KestrelTensor) t = kestrel_tensor_new (dtype, n_dims, shape, NULL);

  g_assert_nonnull (t);
  /* data may be NULL for an empty tensor. */
  g_assert_true (data != NULL || kestrel_tensor_get_n_bytes (t) == 0);
  if (data != NULL && kestrel_tensor_get_n_bytes (t) > 0)
    memcpy (kestrel_tensor_get_data (t), data, kestrel_tensor_get_n_bytes (t));
  kestrel_node_add_input (op_case_node (c), kestrel_graph_new_constant (c->graph, "const", t));
}

static inline void
op_case_constant_ints (OpCase *c, guint n, const gint64 *values)
{
  gint64 shape = n;
  op_case_constant (c, KESTREL_DTYPE_INT64, 1, &shape, values);
}

static inline void
op_case_omit (OpCase *c)
{
  kestrel_node_add_input (op_case_node (c), -1);
}

static inline void
op_case_outputs (OpCase *c, guint n)
{
  for (guint o = 0; o < n; o++)
    {
      gint v = kestrel_graph_new_value (c->graph, "out");
      kestrel_graph_value (c->graph, v)->is_output = TRUE;
      g_array_append_val (c->graph->outputs, v);
      kestrel_node_add_output (c->graph, c->node, v);
    }
}

static inline gboolean
op_case_infer (OpCase *c, GError **error)
{
  if (kestrel_node_n_outputs (op_case_node (c)) == 0)
    op_case_outputs (c, 1);
  return kestrel_graph_resolve_ops (c->graph, error)
         && kestrel_graph_infer_shapes (c->graph, error);
}

static inline void
op_case_infer_ok (OpCase *c)
{
  g_autoptr(GError) error = NULL;

  op_case_infer (c, &error);
  g_assert_no_error (error);
}

static inline const KestrelValue *
op_case_output (OpCase *c, guint o)
{
  return kestrel_graph_value (c->graph, kestrel_node_output (op_case_node (c), o));
}

/* Runs the node at `level` (over test_pool at the parallel levels) and
 * returns one g_malloc'd buffer per output. */
static inline GPtrArray *
op_case_run_all (OpCase *c, kk_level level)
{
  KestrelNode *node = op_case_node (c);
  guint n_in = kestrel_node_n_inputs (node), n_out = kestrel_node_n_outputs (node);
  g_autofree KestrelTensorView *inputs = g_new0 (KestrelTensorView, MAX (n_in, 1));
  g_autofree KestrelTensorView *outputs = g_new0 (KestrelTensorView, MAX (n_out, 1));
  GPtrArray *results = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  KestrelStep step = { 0 };

  for (guint i = 0; i < n_in; i++)
    if (kestrel_node_input (node, i) >= 0)
      kestrel_tensor_view_init (&inputs[i], kestrel_graph_value (c->graph, kestrel_node_input (node, i)));
  for (guint o = 0; o < n_out; o++)
    if (kestrel_node_output (node, o) >= 0)
      kestrel_tensor_view_init (&outputs[o], kestrel_graph_value (c->graph, kestrel_node_output (node, o)));
  step.op = node->op;
  step.node = node;
  step.n_inputs = n_in;
  step.n_outputs = n_out;
  step.inputs = inputs;
  step.outputs = outputs;
  step.level = level;
  step.kernels = kk_kernels_for_level (level);
  step.pool = kk_level_is_parallel (level) ? test_pool : NULL;

  if (node->op->prepare != NULL)
    {
      gboolean ok = node->op->prepare (&step, &error);
      g_assert_no_error (error);
      g_assert_true (ok);
    }
  if (step.scratch_bytes > 0)
    step.scratch = g_malloc0 (step.scratch_bytes);
  for (guint i = 0; i < n_in; i++)
    {
      gint v = kestrel_node_input (node, i);
      if (v >= 0 && inputs[i].data == NULL)
        inputs[i].data = g_hash_table_lookup (c->data, GINT_TO_POINTER (v));
    }
  for (guint o = 0; o < n_out; o++)
    {
      gsize bytes = 0;
      gpointer buffer;

      if (kestrel_node_output (node, o) >= 0)
        kestrel_shape_get_size (outputs[o].dtype, outputs[o].n_dims, outputs[o].shape, NULL,
                                &bytes, NULL);
      buffer = g_malloc (MAX (bytes, 1));
      memset (buffer, 0xff, MAX (bytes, 1));
      if (kestrel_node_output (node, o) >= 0)
        outputs[o].data = buffer;
      g_ptr_array_add (results, buffer);
    }

  node->op->run (&step);

  g_free (step.scratch);
  if (step.free_state != NULL)
    step.free_state (step.state);
  return results;
}

/* Output 0 only. */
static inline gpointer
op_case_run (OpCase *c, kk_level level)
{
  g_autoptr(GPtrArray) all = op_case_run_all (c, level);

  return g_ptr_array_steal_index (all, 0);
}

/* Every level, for the tests that run each case at all of them. */
static const kk_level all_levels[] = {
  KK_LEVEL_SCALAR, KK_LEVEL_SIMD, KK_LEVEL_PARALLEL, KK_LEVEL_FULL,
};

/* Runs at every level and checks output 0 against `want` (bytes). */
static inline void
op_case_expect_output (OpCase *c, gconstpointer want, gsize bytes)
{
  for (guint l = 0; l < G_N_ELEMENTS (all_levels); l++)
    {
      g_autofree gpointer got = op_case_run (c, all_levels[l]);
      g_assert_cmpmem (got, bytes, want, bytes);
    }
}

/* Infer fails with this code and a message naming the node. */
static inline void
op_case_expect_error (OpCase *c, gint code, const char *fragment)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (op_case_infer (c, &error));
  g_assert_error (error, KESTREL_ERROR, code);
  g_assert_nonnull (strstr (error->message, "the_node"));
  if (fragment != NULL && strstr (error->message, fragment) == NULL)
    g_error ("error '%s' does not mention '%s'", error->message, fragment);
}

/* ---- Values ---------------------------------------------------------------- */

static inline gsize
shape_elements (guint n_dims, const gint64 *shape)
{
  gsize n = 1;

  for (guint d = 0; d < n_dims; d++)
    n *= (gsize) shape[d];
  return n;
}

static inline float *
random_floats (GRand *rand, gsize n, double lo, double hi)
{
  float *x = g_new (float, MAX (n, 1));

  for (gsize i = 0; i < n; i++)
    x[i] = (float) g_rand_double_range (rand, lo, hi);
  return x;
}

static inline float
f16_to_f32 (guint16 h)
{
  float f;
  kk_kernels_get (KK_ISA_SCALAR)->f16_to_f32 (&h, &f, 1);
  return f;
}

static inline guint16
f32_to_f16 (float f)
{
  guint16 h;
  kk_kernels_get (KK_ISA_SCALAR)->f32_to_f16 (&f, &h, 1);
  return h;
}

static inline gboolean
floats_close (float got, double want, double rtol, double atol)
{
  if (isnan (want))
    return isnan (got);
  if (isinf (want))
    return (double) got == want;
  return fabs ((double) got - want) <= atol + rtol * fabs (want);
}

/* ---- A tiny ONNX encoder ------------------------------------------------------ */

/* Protobuf wire format: a key is (field << 3 | wire type); 0 = varint,
 * 2 = length-delimited, 5 = 32-bit. */

static inline void
pb_varint (GByteArray *b, guint64 v)
{
  do
    {
      guint8 byte = (v & 0x7f) | (v > 0x7f ? 0x80 : 0);
      g_byte_array_append (b, &byte, 1);
      v >>= 7;
    }
  while (v != 0);
}

static inline void
pb_int (GByteArray *b, guint field, gint64 v)
{
  pb_varint (b, field << 3 | 0);
  pb_varint (b, (guint64) v);
}

static inline void
pb_bytes (GByteArray *b, guint field, gconstpointer data, gsize len)
{
  pb_varint (b, field << 3 | 2);
  pb_varint (b, len);
  g_byte_array_append (b, data, len);
}

static inline void
pb_string (GByteArray *b, guint field, const char *s)
{
  pb_bytes (b, field, s, strlen (s));
}

/* Appends `sub` as a nested message and frees it. */
static inline void
pb_message (GByteArray *b, guint field, GByteArray *sub)
{
  pb_bytes (b, field, sub->data, sub->len);
  g_byte_array_unref (sub);
}

/* TensorProto.DataType */
static inline int
onnx_elem_type (KestrelDType dtype)
{
  static const int types[] = {
    [KESTREL_DTYPE_FLOAT32] = 1, [KESTREL_DTYPE_FLOAT16] = 10, [KESTREL_DTYPE_INT8] = 3,
    [KESTREL_DTYPE_UINT8] = 2, [KESTREL_DTYPE_INT32] = 6, [KESTREL_DTYPE_INT64] = 7,
    [KESTREL_DTYPE_BOOL] = 9,
  };
  return types[dtype];
}

typedef struct {
  GByteArray *graph;
  gint64 opset;
} TestModel;

static inline TestModel *
test_model_new (gint64 opset)
{
  TestModel *m = g_new0 (TestModel, 1);

  m->graph = g_byte_array_new ();
  m->opset = opset;
  pb_string (m->graph, 2, "test");
  return m;
}

static inline GByteArray *
value_info (const char *name, KestrelDType dtype, guint n_dims, const gint64 *shape)
{
  GByteArray *info = g_byte_array_new ();
  GByteArray *type = g_byte_array_new ();
  GByteArray *tensor = g_byte_array_new ();
  GByteArray *shape_msg = g_byte_array_new ();

  for (guint d = 0; d < n_dims; d++)
    {
      GByteArray *dim = g_byte_array_new ();
      pb_int (dim, 1, shape[d]);
      pb_message (shape_msg, 1, dim);
    }
  pb_int (tensor, 1, onnx_elem_type (dtype));
  pb_message (tensor, 2, shape_msg);
  pb_message (type, 1, tensor);
  pb_string (info, 1, name);
  pb_message (info, 2, type);
  return info;
}

static inline void
test_model_input (TestModel *m, const char *name, KestrelDType dtype, guint n_dims,
                  const gint64 *shape)
{
  pb_message (m->graph, 11, value_info (name, dtype, n_dims, shape));
}

static inline void
test_model_output (TestModel *m, const char *name, KestrelDType dtype, guint n_dims,
                   const gint64 *shape)
{
  pb_message (m->graph, 12, value_info (name, dtype, n_dims, shape));
}

static inline void
test_model_initializer (TestModel *m, const char *name, KestrelDType dtype, guint n_dims,
                        const gint64 *shape, gconstpointer data)
{
  GByteArray *t = g_byte_array_new ();
  gsize bytes = 0;

  kestrel_shape_get_size (dtype, n_dims, shape, NULL, &bytes, NULL);
  for (guint d = 0; d < n_dims; d++)
    pb_int (t, 1, shape[d]);
  pb_int (t, 2, onnx_elem_type (dtype));
  pb_string (t, 8, name);
  pb_bytes (t, 9, data, bytes);
  pb_message (m->graph, 5, t);
}

static inline void
test_model_ints (TestModel *m, const char *name, guint n, const gint64 *values)
{
  gint64 shape = n;
  test_model_initializer (m, name, KESTREL_DTYPE_INT64, 1, &shape, values);
}

/* A node; inputs and outputs are NULL-terminated, "" for an omitted one.
 * `attrs` (may be NULL) is a list of AttributeProto messages it takes. */
static inline void
test_model_node (TestModel *m, const char *op_type, const char *name, const char *const *inputs,
                 const char *const *outputs, GPtrArray *attrs)
{
  GByteArray *node = g_byte_array_new ();

  for (guint i = 0; inputs[i] != NULL; i++)
    pb_string (node, 1, inputs[i]);
  for (guint o = 0; outputs[o] != NULL; o++)
    pb_string (node, 2, outputs[o]);
  pb_string (node, 3, name);
  pb_string (node, 4, op_type);
  for (guint a = 0; attrs != NULL && a < attrs->len; a++)
    pb_message (node, 5, g_ptr_array_index (attrs, a));
  if (attrs != NULL)
    g_ptr_array_unref (attrs);
  pb_message (m->graph, 1, node);
}

static inline GByteArray *
attr_int (const char *name, gint64 v)
{
  GByteArray *a = g_byte_array_new ();
  pb_string (a, 1, name);
  pb_int (a, 3, v);
  pb_int (a, 20, 2);
  return a;
}

static inline GByteArray *
attr_ints (const char *name, guint n, const gint64 *v)
{
  GByteArray *a = g_byte_array_new ();
  pb_string (a, 1, name);
  for (guint i = 0; i < n; i++)
    pb_int (a, 8, v[i]);
  pb_int (a, 20, 7);
  return a;
}

/* The model's bytes; frees m. */
static inline GBytes *
test_model_finish (TestModel *m)
{
  GByteArray *model = g_byte_array_new ();
  GByteArray *opset = g_byte_array_new ();

  pb_int (model, 1, 7);                 /* ir_version */
  pb_string (opset, 1, "");
  pb_int (opset, 2, m->opset);
  pb_message (model, 8, opset);
  pb_message (model, 7, m->graph);
  g_free (m);
  return g_byte_array_free_to_bytes (model);
}

static inline KestrelModel *
test_model_load (TestModel *m, GError **error)
{
  g_autoptr(GBytes) bytes = test_model_finish (m);

  return kestrel_model_new_from_bytes (bytes, "test-model", error);
}

static inline KestrelPlan *
test_plan_new (KestrelModel *model, kk_level level)
{
  KestrelPlanOptions options;
  g_autoptr(GError) error = NULL;
  KestrelPlan *plan;

  kestrel_plan_options_init (&options);
  options.level = level;
  options.pool = kk_level_is_parallel (level) ? test_pool : NULL;
  plan = kestrel_plan_new (model, &options, &error);
  g_assert_no_error (error);
  return plan;
}
