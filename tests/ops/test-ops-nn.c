/* test-ops-nn.c — the neural-network operator group as a whole
 * (core/ops/ops-nn*.c): which operators the registry holds at which
 * opsets, and, when Debian's libonnx-testdata is installed, the ONNX node
 * test cases of these operators, run through the same one-node path as
 * the family programs (ops-nn-test-util.h), feeding every input but the
 * first as a constant (Kestrel needs pads, scales and sizes at plan time).
 *
 * Each operator family has its own program beside this one, against
 * double-precision oracles: test-ops-nn-conv.c, -gemm.c (and Einsum),
 * -pool.c, -norm.c, -pad.c, -resize.c, -sample.c (and NonMaxSuppression).
 */
#include <math.h>
#include <string.h>

#include "kestrel-error.h"
#include "kestrel-graph.h"
#include "kestrel-onnx.h"
#include "kestrel-op.h"
#include "kestrel-passes.h"
#include "kestrel-thread-pool.h"

#include "ops-nn-test-util.h"
#include "../test-missing.h"

/* ---- registry ------------------------------------------------------------------ */

static void
test_registry (void)
{
  static const char *const ops[] = {
    "Conv", "ConvTranspose", "Gemm", "MatMul", "MaxPool", "AveragePool", "GlobalAveragePool",
    "GlobalMaxPool", "BatchNormalization", "LRN", "Softmax", "LogSoftmax", "Pad", "Resize",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (ops); i++)
    {
      gint64 from = strcmp (ops[i], "Resize") == 0 ? 10 : 7;
      /* Up to opset 21, the newest Kestrel knows. */
      gint64 to = 21;
      for (gint64 opset = from; opset <= to; opset++)
        if (kestrel_op_lookup ("", ops[i], opset) == NULL)
          g_error ("%s is missing at opset %" G_GINT64_FORMAT, ops[i], opset);
      g_assert_null (kestrel_op_lookup ("", ops[i], to + 1));
    }
  /* Where the semantics changed there are two definitions. */
  g_assert_true (kestrel_op_lookup ("", "Softmax", 12) != kestrel_op_lookup ("", "Softmax", 13));
  g_assert_true (kestrel_op_lookup ("", "LogSoftmax", 12)
                 != kestrel_op_lookup ("", "LogSoftmax", 13));
  g_assert_true (kestrel_op_lookup ("", "Pad", 10) != kestrel_op_lookup ("", "Pad", 11));
  g_assert_true (kestrel_op_lookup ("", "Resize", 10) != kestrel_op_lookup ("", "Resize", 11));
  g_assert_true (kestrel_op_lookup ("", "Upsample", 8) != kestrel_op_lookup ("", "Upsample", 9));
  g_assert_null (kestrel_op_lookup ("", "Upsample", 11));
  g_assert_null (kestrel_op_lookup ("", "Resize", 9));
}

/* ---- the ONNX node test cases ----------------------------------------------------------- */

#define ONNX_NODE_DATA "/usr/share/libonnx-testdata/data/node"

/* Cases Kestrel refuses on purpose, and why. */
static const struct {
  const char *name;
  const char *reason;
} refused_cases[] = {
  { "test_batchnorm_epsilon_training_mode", "training outputs" },
  { "test_batchnorm_example_training_mode", "training outputs" },
};

static gboolean
case_is_mine (const char *name)
{
  static const char *const prefixes[] = {
    "test_averagepool_", "test_basic_conv_", "test_batchnorm_", "test_constant_pad",
    "test_conv_with_", "test_convtranspose", "test_edge_pad", "test_gemm_",
    "test_globalaveragepool", "test_globalmaxpool", "test_logsoftmax_", "test_lrn",
    "test_matmul_", "test_maxpool_", "test_reflect_pad", "test_resize_", "test_softmax_",
    "test_upsample_",
  };

  if (g_str_has_suffix (name, "_expanded"))
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (prefixes); i++)
    if (g_str_has_prefix (name, prefixes[i]))
      return TRUE;
  return FALSE;
}

/* Loads one case and runs it; returns FALSE with `error` set when Kestrel
 * refuses it (*loaded says whether the loader took the file), and fails
 * the test when it runs but gets a wrong answer. */
static gboolean
run_onnx_case (const char *dir, gboolean *loaded, GError **error)
{
  g_autofree char *model_path = g_build_filename (dir, "model.onnx", NULL);
  g_autoptr(GMappedFile) file = g_mapped_file_new (model_path, FALSE, error);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(OpCase) c = g_new0 (OpCase, 1);
  g_autoptr(GPtrArray) tensors = g_ptr_array_new_with_free_func ((GDestroyNotify) kestrel_tensor_unref);
  gint node_index = -1;
  g_autoptr(GPtrArray) got = NULL;

  if (file == NULL)
    return FALSE;
  bytes = g_mapped_file_get_bytes (file);
  c->graph = kestrel_onnx_load_graph (bytes, model_path, error);
  c->data = g_hash_table_new (NULL, NULL);
  *loaded = c->graph != NULL;
  if (c->graph == NULL)
    return FALSE;

  for (guint n = 0; n < c->graph->nodes->len; n++)
    if (!kestrel_graph_node (c->graph, n)->removed)
      {
        g_assert_cmpint (node_index, <, 0);
        node_index = n;
      }
  g_assert_cmpint (node_index, >=, 0);
  c->node = node_index;

  /* Graph input 0 is fed at run time; the others become constants. */
  for (guint i = 0; i < c->graph->inputs->len; i++)
    {
      g_autofree char *name = g_strdup_printf ("test_data_set_0/input_%u.pb", i);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      gint v = g_array_index (c->graph->inputs, gint, i);
      KestrelValue *value = kestrel_graph_value (c->graph, v);
      KestrelTensor *t = kestrel_onnx_tensor_from_file (path, error);

      if (t == NULL)
        return FALSE;
      if (i == 0)
        {
          kestrel_value_set_shape (value, kestrel_tensor_get_dtype (t),
                                   kestrel_tensor_get_n_dims (t), kestrel_tensor_get_shape (t));
          g_hash_table_insert (c->data, GINT_TO_POINTER (v), kestrel_tensor_get_data (t));
          g_ptr_array_add (tensors, t);
        }
      else
        {
          value->constant = t;
          kestrel_value_set_shape (value, kestrel_tensor_get_dtype (t),
                                   kestrel_tensor_get_n_dims (t), kestrel_tensor_get_shape (t));
        }
    }
  if (!op_case_infer (c, error))
    return FALSE;

  got = case_run (c);

  for (guint o = 0; o < c->graph->outputs->len; o++)
    {
      g_autofree char *name = g_strdup_printf ("test_data_set_0/output_%u.pb", o);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr(KestrelTensor) want = kestrel_onnx_tensor_from_file (path, error);
      const KestrelValue *value = op_case_output (c, o);
      gsize n;

      g_assert_nonnull (want);
      g_assert_cmpint (kestrel_tensor_get_dtype (want), ==, value->dtype);
      assert_shape (value, kestrel_tensor_get_n_dims (want), kestrel_tensor_get_shape (want));
      n = kestrel_tensor_get_n_elements (want);
      if (value->dtype == KESTREL_DTYPE_FLOAT32)
        {
          const float *g = g_ptr_array_index (got, o), *w = kestrel_tensor_get_data (want);
          for (gsize i = 0; i < n; i++)
            if (!(fabsf (g[i] - w[i]) <= 1e-5f + 1e-3f * fabsf (w[i])))
              g_error ("%s: output %u element %" G_GSIZE_FORMAT " is %.9g, expected %.9g", dir,
                       o, i, (double) g[i], (double) w[i]);
        }
      else
        g_assert_cmpmem (g_ptr_array_index (got, o), kestrel_tensor_get_n_bytes (want),
                         kestrel_tensor_get_data (want), kestrel_tensor_get_n_bytes (want));
    }
  return TRUE;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void
test_onnx_node_cases (void)
{
  g_autoptr(GDir) dir = g_dir_open (ONNX_NODE_DATA, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  guint passed = 0, refused = 0, not_loaded = 0;

  if (dir == NULL)
    {
      test_missing ("libonnx-testdata", ONNX_NODE_DATA);
      return;
    }
  for (const char *name; (name = g_dir_read_name (dir)) != NULL;)
    if (case_is_mine (name))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      g_autofree char *path = g_build_filename (ONNX_NODE_DATA, name, NULL);
      g_autoptr(GError) error = NULL;
      const char *expected_refusal = NULL;
      gboolean loaded = FALSE;

      for (gsize r = 0; r < G_N_ELEMENTS (refused_cases); r++)
        if (strcmp (refused_cases[r].name, name) == 0)
          expected_refusal = refused_cases[r].reason;

      if (run_onnx_case (path, &loaded, &error))
        {
          if (expected_refusal != NULL)
            g_error ("%s ran, but was expected to be refused (%s)", name, expected_refusal);
          passed++;
        }
      else if (!loaded)
        {
          /* Not the operators' business (the ONNX opset 1 cases). */
          g_test_message ("%s not loaded: %s", name, error->message);
          not_loaded++;
        }
      else if (expected_refusal != NULL)
        {
          g_test_message ("%s refused as expected: %s", name, error->message);
          refused++;
        }
      else
        g_error ("%s: %s", name, error->message);
    }
  g_test_message ("%u ONNX node cases passed, %u refused as expected, %u not loadable", passed,
                  refused, not_loaded);
  g_assert_cmpuint (passed, >, 100);
}

static void
add_tests (void)
{
  g_test_add_func ("/ops-nn/registry", test_registry);
  g_test_add_func ("/ops-nn/onnx-node-cases", test_onnx_node_cases);
}

int
main (int argc, char **argv)
{
  return ops_nn_test_main (argc, argv, add_tests);
}
