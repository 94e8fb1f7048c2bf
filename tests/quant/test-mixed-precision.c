/* test-mixed-precision.c — the sensitivity search
 * (core/quant/kestrel-mixed-precision.h) on BlazeFace front over the
 * bundled photos: every candidate's sensitivity recorded, the kept layers
 * FP32 in the plan and the goal reached (recomputed here from the plan's
 * outputs, frame by frame, against FP32), each tensor's error recorded and
 * read back through the plan; the table with all of it through JSON and
 * back; the cache reuses a searched table, replaces one that was not
 * searched, rebuilds a corrupt one; cancelling; no frames. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>

#include "../private-cache.h"
#include "kestrel-builtin-models.h"
#include "kestrel-error.h"
#include "kestrel-mixed-precision.h"
#include "kestrel-quant-table-file.h"
#include "quant-test-util.h"

#define N_FRAMES G_N_ELEMENTS (sample_photos)

static KestrelModel *
front_model (void)
{
  g_autoptr(GError) error = NULL;
  KestrelModel *model = kestrel_builtin_model_new ("front", &error);

  g_assert_no_error (error);
  return model;
}

static KestrelPlan *
new_plan (KestrelModel *model, KestrelPrecision precision, KestrelQuantTable *table, kk_level level)
{
  g_autoptr(GError) error = NULL;
  KestrelPlanOptions options;
  KestrelPlan *plan;

  kestrel_plan_options_init (&options);
  options.precision = precision;
  options.level = level;
  options.quant_table = precision == KESTREL_PRECISION_INT8 ? table : NULL;
  plan = kestrel_plan_new (model, &options, &error);
  g_assert_no_error (error);
  return plan;
}

/* The worst output SQNR of `plan` against FP32 on any sample frame,
 * computed here, independently of the search. */
static double
worst_frame_db (KestrelModel *model, KestrelPlan *plan)
{
  g_autoptr(KestrelPlan) fp32 = new_plan (model, KESTREL_PRECISION_FP32, NULL, KK_LEVEL_FULL);
  double worst = INFINITY;

  for (guint f = 0; f < N_FRAMES; f++)
    {
      g_assert_true (fill_sample_photo (fp32, f, NULL));
      g_assert_true (fill_sample_photo (plan, f, NULL));
      kestrel_plan_run (fp32);
      kestrel_plan_run (plan);
      for (guint o = 0; o < kestrel_plan_get_n_outputs (fp32); o++)
        {
          const KestrelTensorView *a = kestrel_plan_get_output (fp32, o), *b = kestrel_plan_get_output (plan, o);
          const float *x = a->data, *y = b->data;
          double signal = 0, noise = 0;
          for (gsize i = 0; i < a->n_elements; i++)
            {
              double d = (double) x[i] - (double) y[i];
              signal += (double) x[i] * (double) x[i];
              noise += d * d;
            }
          worst = MIN (worst, noise > 0 ? 10 * log10 (signal / noise) : (double) INFINITY);
        }
    }
  return worst;
}

static guint
count_steps_of (const KestrelPlan *plan, const char *op_type)
{
  guint n = 0;

  for (guint s = 0; s < kestrel_plan_get_n_steps (plan); s++)
    n += strcmp (kestrel_plan_get_step (plan, s)->node->op_type, op_type) == 0;
  return n;
}

static KestrelQuantTable *searched;   /* the front model's, shared by the tests below */

static void
test_search (void)
{
  g_autoptr(KestrelModel) model = front_model ();
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelQuantTable) table = calibrate_on_samples (model);
  g_autoptr(KestrelPlan) all = new_plan (model, KESTREL_PRECISION_INT8, table, KK_LEVEL_FULL);
  guint n_candidates = count_steps_of (all, "QConvNhwc");
  double all_db = worst_frame_db (model, all), db;
  KestrelMixedSummary summary;
  const char *const *kept;
  guint n_kept, n_errors = 0, n_int8 = 0;
  gint64 start = g_get_monotonic_time ();

  g_clear_pointer (&all, kestrel_plan_unref);
  g_assert_true (kestrel_mixed_precision_search (model, table, N_FRAMES, fill_sample_frame, NULL,
                                                 KESTREL_MIXED_DEFAULT_GOAL_DB, NULL, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_test_message ("search over %u photos: %.2f s", (guint) N_FRAMES, (g_get_monotonic_time () - start) / 1e6);

  g_assert_true (kestrel_quant_table_get_mixed (table, &summary));
  kept = kestrel_quant_table_get_fp32_layers (table);
  n_kept = g_strv_length ((char **) kept);
  g_test_message ("%u of %u candidates kept FP32; worst frame output SQNR %.2f dB (all INT8 %.2f dB, here %.2f)",
                  n_kept, summary.n_candidates, summary.output_sqnr_db, summary.all_int8_sqnr_db, all_db);
  for (guint i = 0; i < kestrel_quant_table_get_n_sensitivities (table); i++)
    {
      const char *layer = kestrel_quant_table_get_sensitivity (table, i, &db);
      g_test_message ("  sensitivity %-66s %6.2f dB%s", layer, db,
                      g_strv_contains (kept, layer) ? "  kept FP32" : "");
    }
  g_assert_cmpuint (summary.n_candidates, ==, n_candidates);
  g_assert_cmpuint (kestrel_quant_table_get_n_sensitivities (table), ==, n_candidates);
  g_assert_cmpfloat (summary.goal_db, ==, KESTREL_MIXED_DEFAULT_GOAL_DB);
  /* The search's own figure for all INT8 is what this test measures. */
  g_assert_cmpfloat (fabs (summary.all_int8_sqnr_db - all_db), <, 0.01);
  g_assert_cmpuint (n_kept, <, n_candidates);
  if (all_db >= summary.goal_db)
    g_assert_cmpuint (n_kept, ==, 0);
  else
    g_assert_cmpuint (n_kept, >, 0);

  /* The plan keeps exactly those FP32 and reaches the goal (the search
   * runs FP32 layers with the level's kernels, the plan with the
   * reference ones: a rounding apart). */
  g_autoptr(KestrelPlan) mixed = new_plan (model, KESTREL_PRECISION_INT8, table, KK_LEVEL_FULL);
  for (guint s = 0; s < kestrel_plan_get_n_steps (mixed); s++)
    {
      const KestrelStep *step = kestrel_plan_get_step (mixed, s);
      double mse, sqnr;
      if (g_strv_contains (kept, step->node->name))
        {
          g_assert_cmpstr (step->node->op_type, ==, "ConvNhwc");
          g_assert_cmpint (kestrel_plan_get_step_precision (mixed, s), ==, KESTREL_PRECISION_FP32);
        }
      n_int8 += kestrel_plan_get_step_precision (mixed, s) == KESTREL_PRECISION_INT8;
      if (kestrel_plan_get_step_error (mixed, s, &mse, &sqnr))
        {
          n_errors++;
          g_assert_cmpfloat (mse, >=, 0);
          g_assert_false (isnan (sqnr));
        }
    }
  g_assert_cmpuint (count_steps_of (mixed, "QConvNhwc"), ==, n_candidates - n_kept);
  g_assert_cmpuint (n_int8, >, 0);
  g_assert_cmpuint (n_errors, >, n_int8 / 2);
  db = worst_frame_db (model, mixed);
  g_test_message ("the plan: worst frame output SQNR %.2f dB; %u steps with their error", db, n_errors);
  g_assert_cmpfloat (db, >=, summary.goal_db - 0.5);
  g_assert_cmpfloat (fabs (db - summary.output_sqnr_db), <, 0.5);

  searched = g_steal_pointer (&table);
}

static void
test_json (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  g_autoptr(KestrelQuantTable) back = NULL;
  KestrelMixedSummary a, b;

  if (searched == NULL)
    {
      g_test_skip ("the search failed");
      return;
    }
  /* An exact tensor (+inf dB) goes through JSON as null. */
  kestrel_quant_table_set_tensor_error (searched, "exact-for-test", 0.0, INFINITY);
  json = kestrel_quant_table_to_json (searched);
  back = kestrel_quant_table_from_json (json, -1, "test", &error);
  g_assert_no_error (error);
  g_assert_true (kestrel_quant_table_get_mixed (searched, &a));
  g_assert_true (kestrel_quant_table_get_mixed (back, &b));
  g_assert_cmpfloat (a.goal_db, ==, b.goal_db);
  g_assert_cmpfloat (a.output_sqnr_db, ==, b.output_sqnr_db);
  g_assert_cmpfloat (a.all_int8_sqnr_db, ==, b.all_int8_sqnr_db);
  g_assert_cmpuint (a.n_candidates, ==, b.n_candidates);
  g_assert_true (g_strv_equal (kestrel_quant_table_get_fp32_layers (searched),
                               kestrel_quant_table_get_fp32_layers (back)));
  g_assert_cmpuint (kestrel_quant_table_get_n_sensitivities (back), ==,
                    kestrel_quant_table_get_n_sensitivities (searched));
  for (guint i = 0; i < kestrel_quant_table_get_n_sensitivities (searched); i++)
    {
      double x, y;
      const char *name = kestrel_quant_table_get_sensitivity (searched, i, &x);
      g_assert_true (kestrel_quant_table_lookup_sensitivity (back, name, &y));
      g_assert_cmpfloat (x, ==, y);
    }
  g_assert_cmpuint (kestrel_quant_table_get_n_tensor_errors (back), ==,
                    kestrel_quant_table_get_n_tensor_errors (searched));
  for (guint i = 0; i < kestrel_quant_table_get_n_tensor_errors (searched); i++)
    {
      double m1, d1, m2, d2;
      const char *name = kestrel_quant_table_get_tensor_error (searched, i, &m1, &d1);
      g_assert_true (kestrel_quant_table_lookup_tensor_error (back, name, &m2, &d2));
      g_assert_cmpfloat (m1, ==, m2);
      g_assert_cmpfloat (d1, ==, d2);
    }
  g_assert_true (kestrel_quant_table_lookup_tensor_error (back, "exact-for-test", NULL, &b.goal_db));
  g_assert_true (isinf (b.goal_db));
  /* Before the INT4 search the file says nothing of it; after, its choice
   * reads back (the user cache keeps it). */
  g_assert_false (kestrel_quant_table_get_int4_searched (back));
  {
    static const char *const int8_layers[] = { "layer-a", "layer-b", NULL };
    g_autoptr(KestrelQuantTable) none = NULL, two = NULL;
    g_autofree char *json_none = NULL, *json_two = NULL;

    kestrel_quant_table_set_int8_layers (back, NULL);
    json_none = kestrel_quant_table_to_json (back);
    none = kestrel_quant_table_from_json (json_none, -1, "test", &error);
    g_assert_no_error (error);
    g_assert_true (kestrel_quant_table_get_int4_searched (none));
    g_assert_null (kestrel_quant_table_get_int8_layers (none)[0]);
    kestrel_quant_table_set_int8_layers (back, int8_layers);
    json_two = kestrel_quant_table_to_json (back);
    two = kestrel_quant_table_from_json (json_two, -1, "test", &error);
    g_assert_no_error (error);
    g_assert_true (kestrel_quant_table_get_int4_searched (two));
    g_assert_true (g_strv_equal (kestrel_quant_table_get_int8_layers (two), int8_layers));
    g_assert_true (g_strv_equal (kestrel_quant_table_get_fp32_layers (two),
                                 kestrel_quant_table_get_fp32_layers (searched)));
  }

  /* A damaged "mixed" member is a corrupt table, named. */
  static const char *const damaged[] = {
    "\"mixed\": 3",
    "\"mixed\": {\"goal_output_sqnr_db\": \"loud\", \"output_sqnr_db\": 1, \"all_int8_output_sqnr_db\": 1, "
      "\"candidates\": 1, \"fp32_layers\": [], \"sensitivity\": [], \"tensor_errors\": []}",
    "\"mixed\": {\"goal_output_sqnr_db\": 20, \"output_sqnr_db\": 1, \"all_int8_output_sqnr_db\": 1, "
      "\"candidates\": 1, \"fp32_layers\": [4], \"sensitivity\": [], \"tensor_errors\": []}",
    "\"mixed\": {\"goal_output_sqnr_db\": 20, \"output_sqnr_db\": 1, \"all_int8_output_sqnr_db\": 1, "
      "\"candidates\": 1, \"fp32_layers\": [], \"sensitivity\": [], \"tensor_errors\": [{\"name\": \"x\", \"mse\": -1, "
      "\"sqnr_db\": 3}]}",
  };
  for (guint i = 0; i < G_N_ELEMENTS (damaged); i++)
    {
      g_autofree char *text = g_strdup_printf ("{\"format\": \"kestrel-calibration\", \"version\": 2, "
                                               "\"model_hash\": \"h\", \"method\": \"minmax\", \"frames\": 1, "
                                               "\"tensors\": [], %s}", damaged[i]);
      g_autoptr(GError) corrupt = NULL;
      g_assert_null (kestrel_quant_table_from_json (text, -1, "damaged.json", &corrupt));
      g_assert_error (corrupt, KESTREL_ERROR, KESTREL_ERROR_CORRUPT);
      g_assert_nonnull (strstr (corrupt->message, "damaged.json"));
      g_assert_nonnull (strstr (corrupt->message, "mixed"));
    }
  /* And so is a damaged "int4" member. */
  static const char *const damaged_int4[] = { "\"int4\": []", "\"int4\": {}", "\"int4\": {\"int8_layers\": [1]}" };
  for (guint i = 0; i < G_N_ELEMENTS (damaged_int4); i++)
    {
      g_autofree char *text = g_strdup_printf ("{\"format\": \"kestrel-calibration\", \"version\": 2, "
                                               "\"model_hash\": \"h\", \"method\": \"minmax\", \"frames\": 1, "
                                               "\"tensors\": [], %s}", damaged_int4[i]);
      g_autoptr(GError) corrupt = NULL;
      g_assert_null (kestrel_quant_table_from_json (text, -1, "damaged.json", &corrupt));
      g_assert_error (corrupt, KESTREL_ERROR, KESTREL_ERROR_CORRUPT);
      g_assert_nonnull (strstr (corrupt->message, "damaged.json"));
      g_assert_nonnull (strstr (corrupt->message, "int4"));
    }
}

static gboolean
count_fill (KestrelPlan *plan, guint frame, gpointer user_data, GError **error)
{
  (*(guint *) user_data)++;
  return fill_sample_photo (plan, frame, error);
}

static void
test_cache (void)
{
  g_autoptr(KestrelModel) model = front_model ();
  g_autoptr(GError) error = NULL;
  const char *hash = kestrel_model_get_content_hash (model);
  g_autofree char *path = kestrel_quant_table_cache_path (hash, "minmax");
  g_autoptr(KestrelQuantTable) plain = NULL;
  g_autoptr(KestrelQuantTable) first = NULL;
  g_autoptr(KestrelQuantTable) again = NULL;
  g_autoptr(KestrelQuantTable) rebuilt = NULL;
  gboolean from_cache = TRUE;
  guint fills = 0;

  /* This program's own cache (tests/private-cache.h). A table without
   * the search there (as an older Kestrel wrote) is measured again. */
  g_assert_true (g_str_has_prefix (path, g_get_user_cache_dir ()));
  plain = kestrel_calibrate_cached (model, &kestrel_calibration_minmax, N_FRAMES, fill_sample_frame, NULL, NULL,
                                    &from_cache, &error);
  g_assert_no_error (error);
  g_assert_false (from_cache);
  g_assert_false (kestrel_quant_table_has_mixed (plain));
  g_test_expect_message ("Kestrel", G_LOG_LEVEL_MESSAGE, "*no sensitivity search*");
  first = kestrel_calibrate_mixed_cached (model, &kestrel_calibration_minmax, N_FRAMES, count_fill, &fills,
                                          KESTREL_MIXED_DEFAULT_GOAL_DB, NULL, NULL, NULL, NULL, NULL, &from_cache, &error);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_false (from_cache);
  g_assert_true (kestrel_quant_table_has_mixed (first));
  g_assert_cmpuint (fills, >, 0);

  /* Present and searched with that goal: read, nothing run. */
  fills = 0;
  again = kestrel_calibrate_mixed_cached (model, &kestrel_calibration_minmax, N_FRAMES, count_fill, &fills,
                                          KESTREL_MIXED_DEFAULT_GOAL_DB, NULL, NULL, NULL, NULL, NULL, &from_cache, &error);
  g_assert_no_error (error);
  g_assert_true (from_cache);
  g_assert_cmpuint (fills, ==, 0);
  g_assert_true (g_strv_equal (kestrel_quant_table_get_fp32_layers (first),
                               kestrel_quant_table_get_fp32_layers (again)));

  /* Corrupt: a warning naming the file, measured again, replaced. */
  g_assert_true (g_file_set_contents (path, "{\"format\": \"kestrel-calibration\", \"mixed\": [", -1, NULL));
  g_test_expect_message ("Kestrel", G_LOG_LEVEL_WARNING, "*corrupt*");
  rebuilt = kestrel_calibrate_mixed_cached (model, &kestrel_calibration_minmax, N_FRAMES, count_fill, &fills,
                                            KESTREL_MIXED_DEFAULT_GOAL_DB, NULL, NULL, NULL, NULL, NULL, &from_cache, &error);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_false (from_cache);
  g_assert_true (g_strv_equal (kestrel_quant_table_get_fp32_layers (first),
                               kestrel_quant_table_get_fp32_layers (rebuilt)));
  g_clear_pointer (&again, kestrel_quant_table_unref);
  again = kestrel_quant_table_load (path, &error);
  g_assert_no_error (error);
  g_assert_true (kestrel_quant_table_has_mixed (again));
}

typedef struct {
  GCancellable *cancellable;
  guint calls;
} CancelAt;

static void
cancel_at_third (guint done, guint total, gpointer data)
{
  CancelAt *c = data;

  g_assert_cmpuint (done, <=, total);
  if (++c->calls == 3)
    g_cancellable_cancel (c->cancellable);
}

static void
test_cancel_and_errors (void)
{
  g_autoptr(KestrelModel) model = front_model ();
  g_autoptr(KestrelQuantTable) table = calibrate_on_samples (model);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  CancelAt at = { cancellable, 0 };
  const char *const stale[] = { "stale-layer", NULL };

  kestrel_quant_table_set_fp32_layers (table, stale);
  g_assert_false (kestrel_mixed_precision_search (model, table, N_FRAMES, fill_sample_frame, NULL,
                                                  KESTREL_MIXED_DEFAULT_GOAL_DB, NULL, NULL, cancel_at_third, &at, cancellable,
                                                  &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (at.calls, ==, 3);
  /* Nothing half-decided is left in the table. */
  g_assert_null (kestrel_quant_table_get_fp32_layers (table)[0]);
  g_assert_false (kestrel_quant_table_has_mixed (table));
  g_clear_error (&error);

  g_assert_false (kestrel_mixed_precision_search (model, table, 0, fill_sample_frame, NULL,
                                                  KESTREL_MIXED_DEFAULT_GOAL_DB, NULL, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "frame"));
}

int
main (int argc, char **argv)
{
  int status;

  /* A user cache of this program's own: calibrations are measured here,
   * not read from another test's (tests/private-cache.h). */
  char *cache = private_cache_begin ();

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mixed/search", test_search);
  g_test_add_func ("/mixed/json", test_json);
  g_test_add_func ("/mixed/cache", test_cache);
  g_test_add_func ("/mixed/cancel-and-errors", test_cancel_and_errors);
  status = g_test_run ();
  private_cache_end (cache);
  g_clear_pointer (&searched, kestrel_quant_table_unref);
  return status;
}
