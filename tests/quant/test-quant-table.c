/* test-quant-table.c — calibration tables and minmax calibration: the u8
 * parameters of known ranges, set / lookup / order, the model content
 * hash, and a calibration of the bundled BlazeFace models over the bundled
 * photos that gives every float tensor of the model a range. */
#include "config.h"

#include <math.h>

#include "kestrel-builtin-models.h"
#include "kestrel-error.h"
#include "quant-test-util.h"

/* q = round (x / scale) + zero_point, as the quantize kernels compute it
 * (up to the tie rule), clamped to u8. */
static int
quantize (const KestrelQuantParams *p, float x)
{
  return CLAMP ((int) lrintf (x / p->scale) + p->zero_point, 0, 255);
}

static void
test_params_known (void)
{
  static const struct {
    float min, max;
    float scale;
    int zero_point;
  } cases[] = {
    { 0.0f, 6.0f, 6.0f / 255, 0 },          /* Relu6: zero point 0 */
    { 0.0f, 255.0f, 1.0f, 0 },
    { -3.0f, 1.0f, 4.0f / 255, 191 },       /* 191.25 */
    { -255.0f, 0.0f, 1.0f, 255 },
    { 2.0f, 5.0f, 5.0f / 255, 0 },          /* widened down to 0 */
    { -3.0f, -1.0f, 3.0f / 255, 255 },      /* widened up to 0 */
    { -10.0f, 30.0f, 40.0f / 255, 64 },     /* 63.75 */
    { 0.0f, 0.0f, 1.0f, 0 },                /* always 0 */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      KestrelQuantParams p;

      kestrel_quant_params_from_range (cases[i].min, cases[i].max, &p);
      g_test_message ("[%g, %g]: scale %.9g zero point %u", (double) cases[i].min, (double) cases[i].max,
                      (double) p.scale, p.zero_point);
      g_assert_cmpfloat (p.min, ==, cases[i].min);
      g_assert_cmpfloat (p.max, ==, cases[i].max);
      g_assert_cmpfloat_with_epsilon (p.scale, cases[i].scale, cases[i].scale * 1e-6f);
      g_assert_cmpint (p.zero_point, ==, cases[i].zero_point);
      /* Real 0 is exactly the zero point, and the ends of the range land
       * within half a step of 0 and 255 (no clipping of what was seen). */
      g_assert_cmpint (quantize (&p, 0.0f), ==, p.zero_point);
      if (cases[i].max > cases[i].min)
        {
          float lo = MIN (cases[i].min, 0.0f), hi = MAX (cases[i].max, 0.0f);
          g_assert_cmpfloat (fabsf ((0 - p.zero_point) * p.scale - lo), <=, p.scale * 0.5f + 1e-6f);
          g_assert_cmpfloat (fabsf ((255 - p.zero_point) * p.scale - hi), <=, p.scale * 0.5f + 1e-6f);
        }
    }
}

static void
test_table_entries (void)
{
  g_autoptr(KestrelQuantTable) table = kestrel_quant_table_new ("abc", "minmax", 5);
  KestrelQuantParams p, q;

  g_assert_cmpstr (kestrel_quant_table_get_model_hash (table), ==, "abc");
  g_assert_cmpstr (kestrel_quant_table_get_method (table), ==, "minmax");
  g_assert_cmpuint (kestrel_quant_table_get_n_frames (table), ==, 5);
  g_assert_cmpuint (kestrel_quant_table_get_n_entries (table), ==, 0);
  g_assert_false (kestrel_quant_table_lookup (table, "x", &p));

  kestrel_quant_table_set_range (table, "conv1", 0.0f, 6.0f);
  kestrel_quant_table_set_range (table, "input", -1.0f, 1.0f);
  kestrel_quant_table_set_range (table, "add", -2.0f, 3.0f);
  g_assert_cmpuint (kestrel_quant_table_get_n_entries (table), ==, 3);
  g_assert_true (kestrel_quant_table_lookup (table, "input", &p));
  g_assert_cmpfloat_with_epsilon (p.scale, 2.0f / 255, 1e-9f);
  /* 127.5 with the exact scale: either side, as the float scale falls. */
  g_assert_cmpint (p.zero_point, >=, 127);
  g_assert_cmpint (p.zero_point, <=, 128);
  g_assert_true (kestrel_quant_table_lookup (table, "conv1", NULL));

  /* Setting again replaces the entry and keeps its place. */
  kestrel_quant_table_set_range (table, "conv1", -6.0f, 6.0f);
  g_assert_cmpuint (kestrel_quant_table_get_n_entries (table), ==, 3);
  g_assert_cmpstr (kestrel_quant_table_get_entry (table, 0, &q), ==, "conv1");
  g_assert_cmpfloat (q.min, ==, -6.0f);
  g_assert_cmpfloat_with_epsilon (q.scale, 12.0f / 255, 1e-8f);
  g_assert_cmpstr (kestrel_quant_table_get_entry (table, 1, NULL), ==, "input");
  g_assert_cmpstr (kestrel_quant_table_get_entry (table, 2, NULL), ==, "add");
  g_assert_null (kestrel_quant_table_get_entry (table, 3, &q));

  /* Parameters as read back from a file, and refused ones. */
  p = (KestrelQuantParams) { .min = -1, .max = 1, .scale = 0.25f, .zero_point = 7 };
  g_assert_true (kestrel_quant_table_set_params (table, "read", &p));
  g_assert_true (kestrel_quant_table_lookup (table, "read", &q));
  g_assert_cmpfloat (q.scale, ==, 0.25f);
  g_assert_cmpint (q.zero_point, ==, 7);
  p.scale = 0.0f;
  g_assert_false (kestrel_quant_table_set_params (table, "zero", &p));
  p.scale = NAN;
  g_assert_false (kestrel_quant_table_set_params (table, "nan", &p));
  g_assert_false (kestrel_quant_table_lookup (table, "zero", NULL));
  g_assert_cmpuint (kestrel_quant_table_get_n_entries (table), ==, 4);

  /* References. */
  KestrelQuantTable *again = kestrel_quant_table_ref (table);
  kestrel_quant_table_unref (again);
  g_assert_cmpuint (kestrel_quant_table_get_n_entries (table), ==, 4);
}

static void
test_collector (void)
{
  g_autoptr(KestrelCalibrationCollector) c = kestrel_calibration_collector_new (&kestrel_calibration_minmax);
  const float a[] = { 1.0f, -2.0f, NAN, 3.0f };
  const float b[] = { 5.0f, INFINITY, 0.5f };
  const float none[] = { NAN, -INFINITY };
  KestrelQuantParams p;

  kestrel_calibration_collector_begin_pass (c, 0);
  kestrel_calibration_collector_observe (c, "t", a, G_N_ELEMENTS (a));
  kestrel_calibration_collector_observe (c, "u", none, G_N_ELEMENTS (none));
  kestrel_calibration_collector_observe (c, "t", b, G_N_ELEMENTS (b));
  g_autoptr(KestrelQuantTable) table = kestrel_calibration_collector_finish (c, "h", 2);
  g_assert_cmpstr (kestrel_quant_table_get_method (table), ==, "minmax");
  g_assert_cmpuint (kestrel_quant_table_get_n_frames (table), ==, 2);
  /* Finite values of both frames only; a tensor with none gets no entry. */
  g_assert_cmpuint (kestrel_quant_table_get_n_entries (table), ==, 1);
  g_assert_true (kestrel_quant_table_lookup (table, "t", &p));
  g_assert_cmpfloat (p.min, ==, -2.0f);
  g_assert_cmpfloat (p.max, ==, 5.0f);
}

static void
test_content_hash (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) front = kestrel_builtin_model_new ("front", &error);
  g_assert_no_error (error);
  g_autoptr(KestrelModel) back = kestrel_builtin_model_new ("back", &error);
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (TEST_SOURCE_ROOT, "data", "models", "blazeface-front-128.onnx", NULL);
  g_autoptr(KestrelModel) file = kestrel_model_new_from_file (path, &error);
  g_assert_no_error (error);
  const char *hash = kestrel_model_get_content_hash (front);

  g_test_message ("front %s, back %s", hash, kestrel_model_get_content_hash (back));
  g_assert_cmpuint (strlen (hash), ==, 64);
  for (const char *c = hash; *c != '\0'; c++)
    g_assert_true (g_ascii_isxdigit (*c));
  g_assert_cmpstr (kestrel_model_get_content_hash (file), ==, hash);
  g_assert_cmpstr (kestrel_model_get_content_hash (back), !=, hash);
}

/* Every float tensor of the reference graph (what the INT8 pass may look
 * up) and every graph input has a range, from all the photos. */
static void
test_calibrate_model (gconstpointer data)
{
  const char *name = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = kestrel_builtin_model_new (name, &error);
  g_assert_no_error (error);
  gint64 start = g_get_monotonic_time ();
  g_autoptr(KestrelQuantTable) table = calibrate_on_samples (model);
  KestrelPlanOptions options;
  guint n_float = 0;

  g_test_message ("%s: %u ranges over %u photos in %.2f s", name, kestrel_quant_table_get_n_entries (table),
                  kestrel_quant_table_get_n_frames (table), (g_get_monotonic_time () - start) / 1e6);
  g_assert_cmpstr (kestrel_quant_table_get_model_hash (table), ==, kestrel_model_get_content_hash (model));
  g_assert_cmpstr (kestrel_quant_table_get_method (table), ==, "minmax");
  g_assert_cmpuint (kestrel_quant_table_get_n_frames (table), ==, G_N_ELEMENTS (sample_photos));

  kestrel_plan_options_init (&options);
  options.level = KK_LEVEL_SCALAR;
  g_autoptr(KestrelPlan) plan = kestrel_plan_new (model, &options, &error);
  g_assert_no_error (error);
  const KestrelGraph *graph = kestrel_plan_get_graph (plan);
  for (guint v = 0; v < graph->values->len; v++)
    {
      const KestrelValue *value = kestrel_graph_value (graph, v);
      KestrelQuantParams p;

      if (value->constant != NULL || value->dtype != KESTREL_DTYPE_FLOAT32
          || (value->producer < 0 && !value->is_input))
        continue;
      n_float++;
      if (!kestrel_quant_table_lookup (table, value->name, &p))
        g_error ("%s: no range for tensor '%s'", name, value->name);
      g_assert_cmpfloat (p.min, <=, p.max);
      g_assert_cmpfloat (p.scale, >, 0.0f);
      if (value->is_input)
        {
          /* The photos fill nearly all of [-1, 1]. */
          g_assert_cmpfloat (p.min, >=, -1.0001f);
          g_assert_cmpfloat (p.min, <, -0.9f);
          g_assert_cmpfloat (p.max, <=, 1.0001f);
          g_assert_cmpfloat (p.max, >, 0.9f);
        }
    }
  g_assert_cmpuint (n_float, >, 20);
  g_assert_cmpuint (kestrel_quant_table_get_n_entries (table), ==, n_float);
}

static gboolean
fill_fails_at_2 (KestrelPlan *plan, guint frame, gpointer user_data, GError **error)
{
  guint *calls = user_data;

  (*calls)++;
  if (frame == 2)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT, "frame 2 is broken");
      return FALSE;
    }
  return fill_sample_photo (plan, frame, error);
}

static gboolean
fill_and_cancel (KestrelPlan *plan, guint frame, gpointer user_data, GError **error)
{
  g_cancellable_cancel (user_data);
  return fill_sample_photo (plan, frame, error);
}

static void
test_calibrate_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = kestrel_builtin_model_new ("front", &error);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  guint calls = 0;

  g_assert_null (kestrel_calibrate_minmax (model, 0, fill_sample_frame, NULL, NULL, &error));
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_null (kestrel_calibrate_minmax (model, 5, fill_fails_at_2, &calls, NULL, &error));
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT);
  g_assert_cmpuint (calls, ==, 3);
  g_clear_error (&error);

  /* Cancelled while filling frame 0: stops before frame 1. */
  g_assert_null (kestrel_calibrate_minmax (model, 5, fill_and_cancel, cancellable, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/quant/params/known-ranges", test_params_known);
  g_test_add_func ("/quant/table/entries", test_table_entries);
  g_test_add_func ("/quant/collector/minmax", test_collector);
  g_test_add_func ("/quant/model/content-hash", test_content_hash);
  g_test_add_data_func ("/quant/calibrate/front", "front", test_calibrate_model);
  g_test_add_data_func ("/quant/calibrate/back", "back", test_calibrate_model);
  g_test_add_func ("/quant/calibrate/errors", test_calibrate_errors);
  return g_test_run ();
}
