/* test-qdq.c — INT8 models as QDQ ONNX files, out and back in (issue 14,
 * items 3 and 4).
 *
 * Both BlazeFace models, with the table the engine uses (minmax on the
 * bundled photos, the layers the sensitivity search keeps FP32) and with
 * every layer INT8 (front): the file kestrel_qdq_export() writes has s8
 * per-channel weights behind DequantizeLinear for exactly the INT8 plan's
 * convolutions, Q -> DQ pairs at u8 scales, the kept layers in float; the
 * file loaded again (kestrel-passes-qdq.c) carries the table and plans at
 * INT8 with no table given, and its outputs on the bundled photos are
 * memcmp-equal to the internal INT8 plan's at every level on 1 and 2
 * threads, step for step of the same precision. Writing fails clearly:
 * a table of another model, a folder that is not there; a file already
 * at the path is left as it was.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "../blazeface/blazeface-test-util.h"
#include "kestrel-builtin-models.h"
#include "kestrel-calibrate-images.h"
#include "kestrel-error.h"
#include "kestrel-onnx.h"
#include "kestrel-qdq-export.h"
#include "quant-test-util.h"

static guint
count_ops (const KestrelGraph *graph, const char *op_type)
{
  guint n = 0;

  for (guint i = 0; i < graph->nodes->len; i++)
    n += strcmp (kestrel_graph_node (graph, i)->op_type, op_type) == 0;
  return n;
}

static guint
count_steps (const KestrelPlan *plan, const char *op_type)
{
  guint n = 0;

  for (guint s = 0; s < kestrel_plan_get_n_steps (plan); s++)
    n += strcmp (kestrel_plan_get_step (plan, s)->node->op_type, op_type) == 0;
  return n;
}

/* The file says what the internal plan does: a weight DQ per INT8
 * convolution (s8, one scale per output channel), a Conv reading float
 * weights per layer kept FP32. */
static void
check_file (GBytes *bytes, KestrelPlan *internal, const KestrelQuantTable *table)
{
  g_autoptr(GError) error = NULL;
  KestrelGraph *graph = kestrel_onnx_load_graph (bytes, "qdq.onnx", &error);
  guint int8_convs = 0, float_convs = 0;

  g_assert_no_error (error);
  g_assert_cmpint (graph->opset, >=, 13);
  for (guint n = 0; n < graph->nodes->len; n++)
    {
      const KestrelNode *node = kestrel_graph_node (graph, n);
      const KestrelValue *w = kestrel_graph_value (graph, kestrel_node_input (node, 1));
      if (strcmp (node->op_type, "Conv") != 0)
        continue;
      if (w->producer >= 0)
        {
          const KestrelNode *dq = kestrel_graph_node (graph, w->producer);
          const KestrelValue *q = kestrel_graph_value (graph, kestrel_node_input (dq, 0));
          const KestrelValue *s = kestrel_graph_value (graph, kestrel_node_input (dq, 1));
          g_assert_cmpstr (dq->op_type, ==, "DequantizeLinear");
          g_assert_cmpint (q->dtype, ==, KESTREL_DTYPE_INT8);
          g_assert_nonnull (q->constant);
          g_assert_cmpint (kestrel_tensor_get_n_elements (s->constant), ==, q->shape[0]);
          int8_convs++;
        }
      else
        {
          g_assert_nonnull (w->constant);
          g_assert_cmpint (w->dtype, ==, KESTREL_DTYPE_FLOAT32);
          float_convs++;
        }
    }
  g_assert_cmpuint (int8_convs, ==, count_steps (internal, "QConvNhwc"));
  g_assert_cmpuint (float_convs, >=, g_strv_length ((char **) kestrel_quant_table_get_fp32_layers (table)));
  g_assert_cmpuint (count_ops (graph, "QuantizeLinear"), >, 0);
  g_assert_cmpuint (count_ops (graph, "DequantizeLinear"), >, int8_convs);
  g_test_message ("file: %zu bytes, %u convolutions INT8, %u float, %u QuantizeLinear, %u DequantizeLinear",
                  g_bytes_get_size (bytes), int8_convs, float_convs, count_ops (graph, "QuantizeLinear"),
                  count_ops (graph, "DequantizeLinear"));
  kestrel_graph_free (graph);
}

static void
check_round_trip (KestrelModel *model, KestrelQuantTable *table)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = kestrel_qdq_export (model, table, &error);
  g_assert_no_error (error);
  g_autoptr(KestrelModel) loaded = kestrel_model_new_from_bytes (bytes, "qdq.onnx", &error);
  g_assert_no_error (error);
  KestrelQuantTable *carried = kestrel_model_get_quant_table (loaded);
  g_assert_nonnull (carried);
  /* The table's layers kept FP32, and any the pass cannot make INT8. */
  g_assert_cmpuint (g_strv_length ((char **) kestrel_quant_table_get_fp32_layers (carried)), >=,
                    g_strv_length ((char **) kestrel_quant_table_get_fp32_layers (table)));
  for (const char *const *l = kestrel_quant_table_get_fp32_layers (table); *l != NULL; l++)
    g_assert_true (g_strv_contains (kestrel_quant_table_get_fp32_layers (carried), *l));
  {
    g_autoptr(KestrelPlan) internal = int8_plan (model, table, KK_LEVEL_SCALAR, 1, NULL);
    check_file (bytes, internal, table);
  }

  guint n_plans = 0;
  for (int level = 0; level < KK_LEVEL_COUNT; level++)
    for (guint threads = 1; threads <= 2; threads++)
      {
        if (!kk_level_is_parallel (level) && threads > 1)
          continue;
        g_autoptr(KestrelPlan) internal = int8_plan (model, table, level, threads, NULL);
        g_autoptr(KestrelPlan) imported = int8_plan (loaded, NULL, level, threads, NULL);

        g_assert_cmpuint (kestrel_plan_get_n_steps (imported), ==, kestrel_plan_get_n_steps (internal));
        /* The same steps (name and operator, each used once) at the same
         * precisions; independent branches (a float Add and a detector
         * head) may come in another order. */
        g_autofree gboolean *used = g_new0 (gboolean, kestrel_plan_get_n_steps (imported));
        for (guint s = 0; s < kestrel_plan_get_n_steps (internal); s++)
          {
            const KestrelNode *a = kestrel_plan_get_step (internal, s)->node;
            guint t = 0;
            while (t < kestrel_plan_get_n_steps (imported)
                   && (used[t] || g_strcmp0 (kestrel_plan_get_step (imported, t)->node->name, a->name) != 0
                       || strcmp (kestrel_plan_get_step (imported, t)->node->op_type, a->op_type) != 0
                       || kestrel_plan_get_step_precision (imported, t) != kestrel_plan_get_step_precision (internal, s)))
              t++;
            if (t == kestrel_plan_get_n_steps (imported))
              g_error ("step %u (%s %s) has no counterpart in the imported plan", s, a->op_type, a->name);
            used[t] = TRUE;
          }
        for (guint frame = 0; frame < G_N_ELEMENTS (sample_photos); frame++)
          {
            g_assert_true (fill_sample_photo (internal, frame, &error));
            g_assert_true (fill_sample_photo (imported, frame, &error));
            kestrel_plan_run (internal);
            kestrel_plan_run (imported);
            for (guint o = 0; o < kestrel_plan_get_n_outputs (internal); o++)
              {
                const KestrelTensorView *a = kestrel_plan_get_output (internal, o);
                const KestrelTensorView *b = kestrel_plan_get_output (imported, o);
                g_assert_cmpuint (a->n_elements, ==, b->n_elements);
                if (memcmp (a->data, b->data, a->n_elements * kestrel_dtype_get_size (a->dtype)) != 0)
                  g_error ("%s, level %s, %u threads: output %s differs from the internal INT8 plan's",
                           sample_photos[frame], kk_level_name (level), threads,
                           kestrel_plan_get_output_name (internal, o));
              }
          }
        n_plans++;
      }
  g_test_message ("%u plans (every level, 1 and 2 threads) x %zu photos bit-identical to the internal INT8 plan",
                  n_plans, G_N_ELEMENTS (sample_photos));
}

static void
test_round_trip (gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = kestrel_builtin_model_new (data, &error);
  g_assert_no_error (error);
  g_autoptr(KestrelQuantTable) table = test_blazeface_engine_table (model);

  g_test_message ("%s: %u layers kept FP32", (const char *) data,
                  g_strv_length ((char **) kestrel_quant_table_get_fp32_layers (table)));
  check_round_trip (model, table);
}

/* Every layer INT8 that can be: the most Q/DQ pairs, residual adds fused. */
static void
test_round_trip_all_int8 (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = kestrel_builtin_model_new ("front", &error);
  g_assert_no_error (error);
  g_autoptr(KestrelQuantTable) table = calibrate_on_samples (model);

  check_round_trip (model, table);
}

static void
test_write_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) front = kestrel_builtin_model_new ("front", &error);
  g_autoptr(KestrelModel) back = kestrel_builtin_model_new ("back", &error);
  g_assert_no_error (error);
  g_autoptr(KestrelQuantTable) table = calibrate_on_samples (front);
  g_autofree char *dir = g_dir_make_tmp ("kestrel-qdq-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "out.onnx", NULL);
  g_autofree char *missing = g_build_filename (dir, "no-such-folder", "out.onnx", NULL);
  g_autofree char *contents = NULL;

  g_assert_true (g_file_set_contents (path, "previous", -1, NULL));
  /* A table of another model: nothing written. */
  g_assert_false (kestrel_qdq_export_to_file (back, table, path, &error));
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "previous");

  g_assert_false (kestrel_qdq_export_to_file (front, table, missing, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);

  g_assert_true (kestrel_qdq_export_to_file (front, table, path, &error));
  g_assert_no_error (error);
  g_autoptr(KestrelModel) loaded = kestrel_model_new_from_file (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (kestrel_model_get_quant_table (loaded));
  /* Its FP32 plan runs too (the dequantised weights, no activation rounding). */
  KestrelPlanOptions options;
  kestrel_plan_options_init (&options);
  g_autoptr(KestrelPlan) fp32 = kestrel_plan_new (loaded, &options, &error);
  g_assert_no_error (error);
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/qdq/round-trip/front", "front", test_round_trip);
  g_test_add_data_func ("/qdq/round-trip/back", "back", test_round_trip);
  g_test_add_func ("/qdq/round-trip/all-int8", test_round_trip_all_int8);
  g_test_add_func ("/qdq/write-errors", test_write_errors);
  return g_test_run ();
}
