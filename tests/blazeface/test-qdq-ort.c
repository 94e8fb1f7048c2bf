/* test-qdq-ort.c — ONNX Runtime as the INT8 peer (issue 14, items 4 and 5).
 *
 * Both BlazeFace models are written as QDQ files with the engine's table
 * (kestrel_qdq_export: minmax on the bundled photos, the layers the
 * sensitivity search keeps FP32); ONNX Runtime (tests/peers/ort-peer.js)
 * runs the file on each bundled photo, prepared as the plugin prepares
 * frames, and its outputs, decoded by the same decoder, must give the
 * faces Kestrel's INT8 plan finds on the same input tensor: as many, each
 * matched at IoU >= 0.9, scores within 0.05. ONNX Runtime fuses the QDQ
 * chains into its own integer kernels, whose rounding differs from
 * Kestrel's (requantisation, the float outputs of the heads), so the raw
 * outputs are compared by SQNR, reported, not bit for bit.
 *
 * Skips (exit 77) only when node is not installed; a missing
 * onnxruntime-node is a failure with the command that fixes it.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../ort-peer-test.h"
#include "blazeface-test-util.h"
#include "kestrel-builtin-models.h"
#include "kestrel-calibrate-images.h"
#include "kestrel-qdq-export.h"

#define IOU_MIN 0.9f
#define SCORE_TOLERANCE 0.05f

static const char *const photos[] = {
  "astronaut.png", "camera.png", "grace_hopper.jpg", "coffee.png", "rocket.jpg",
};

static char *node_path;
static char *peer_script;
static char *work_dir;

/* ONNX Runtime's outputs of `model_path` on `input` (raw float32 in the
 * model's output order), as views shaped like `model`'s outputs. */
static GPtrArray *
run_ort (KestrelModel *model, const char *model_path, const float *input, const kk_model_input_params *params)
{
  g_autofree char *input_path = g_build_filename (work_dir, "input.f32", NULL);
  g_autofree char *out_dir = g_build_filename (work_dir, "out", NULL);
  gsize n_input = params->width * params->height * 3;
  g_autofree char *input_arg = g_strdup_printf ("%s=%s:1x%zux%zux3", kestrel_model_get_input (model, 0)->name,
                                                input_path, params->height, params->width);
  const char *argv[] = { node_path, peer_script, "run", "--model", model_path, "--threads", "1", "--input",
                         input_arg, "--output-dir", out_dir, NULL };
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_assert_true (g_file_set_contents (input_path, (const char *) input, (gssize) (n_input * sizeof (float)), NULL));
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                               &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, &error))
    g_error ("ort-peer.js failed on %s (%s): %s", model_path, error->message, err);

  GPtrArray *outputs = g_ptr_array_new_with_free_func (g_free);
  for (guint o = 0; o < kestrel_model_get_n_outputs (model); o++)
    {
      g_autofree char *name = g_strdup_printf ("output_%u.f32", o);
      g_autofree char *path = g_build_filename (out_dir, name, NULL);
      g_autofree char *contents = NULL;
      gsize size = 0;

      g_assert_true (g_file_get_contents (path, &contents, &size, NULL));
      g_assert_cmpuint (size, ==, kestrel_value_n_elements (kestrel_model_get_output (model, o)) * sizeof (float));
      g_ptr_array_add (outputs, g_steal_pointer (&contents));
      g_unlink (path);
    }
  g_unlink (input_path);
  g_rmdir (out_dir);
  return outputs;
}

static void
test_peer (gconstpointer data)
{
  const char *name = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = kestrel_builtin_model_new (name, &error);
  g_assert_no_error (error);
  KestrelTaskDecoder *decoder = test_blazeface_decoder (model);
  kk_model_input_params params;
  KestrelPlanOptions options;
  guint n_out = kestrel_model_get_n_outputs (model), n_faces = 0;
  float worst_iou = 1.0f, worst_score = 0.0f;

  kestrel_task_decoder_get_input_params (decoder, TRUE, &params);
  g_autoptr(KestrelQuantTable) table = test_blazeface_engine_table (model);
  g_autofree char *file = g_strdup_printf ("%s-int8.onnx", name);
  g_autofree char *model_path = g_build_filename (work_dir, file, NULL);
  g_assert_true (kestrel_qdq_export_to_file (model, table, model_path, &error));
  g_assert_no_error (error);

  kestrel_plan_options_init (&options);
  options.precision = KESTREL_PRECISION_INT8;
  options.quant_table = table;
  options.n_threads = 1;
  g_autoptr(KestrelPlan) plan = kestrel_plan_new (model, &options, &error);
  g_assert_no_error (error);

  for (gsize p = 0; p < G_N_ELEMENTS (photos); p++)
    {
      g_autofree char *path = g_build_filename (TEST_SOURCE_ROOT, "data", "samples", photos[p], NULL);
      g_autoptr(KestrelImage) image = kestrel_image_new_from_file (path, &error);
      g_assert_no_error (error);
      const KestrelTensorView *in = kestrel_plan_get_input (plan, kestrel_task_decoder_get_image_input (decoder));
      KestrelFrameInfo frame = { kestrel_image_get_width (image), kestrel_image_get_height (image) };
      g_autoptr(KestrelDetections) ours = kestrel_detections_new ();
      g_autoptr(KestrelDetections) theirs = kestrel_detections_new ();
      g_autofree KestrelTensorView *views = g_new0 (KestrelTensorView, n_out);
      g_autofree const KestrelTensorView **ptrs = g_new0 (const KestrelTensorView *, n_out);
      g_autoptr(GString) sqnr = g_string_new (NULL);

      kestrel_image_fill_tensor (kestrel_image_get_view (image), &params, kk_kernels_for_level (KK_LEVEL_SCALAR),
                                 in->data, &frame.geometry);
      kestrel_plan_run (plan);
      g_assert_true (kestrel_task_decoder_decode_plan (decoder, plan, &frame, NULL, ours, &error));
      g_assert_no_error (error);

      g_autoptr(GPtrArray) ort = run_ort (model, model_path, in->data, &params);
      for (guint o = 0; o < n_out; o++)
        {
          const KestrelValue *value = kestrel_model_get_output (model, o);
          const KestrelTensorView *k = kestrel_plan_get_output (plan, o);
          const float *a = k->data, *b = ort->pdata[o];
          double signal = 0.0, noise = 0.0;

          views[o] = (KestrelTensorView) { .dtype = KESTREL_DTYPE_FLOAT32, .n_dims = value->n_dims,
                                           .n_elements = kestrel_value_n_elements (value), .data = ort->pdata[o] };
          memcpy (views[o].shape, value->shape, sizeof value->shape);
          ptrs[o] = &views[o];
          for (gsize i = 0; i < k->n_elements; i++)
            {
              double x = a[i], d = x - (double) b[i];
              signal += x * x;
              noise += d * d;
            }
          g_string_append_printf (sqnr, " %.1f", noise > 0.0 ? 10.0 * log10 (signal / noise) : (double) INFINITY);
        }
      g_assert_true (kestrel_task_decoder_decode (decoder, ptrs, n_out, &frame, NULL, theirs, &error));
      g_assert_no_error (error);

      if (kestrel_detections_get_n (ours) != kestrel_detections_get_n (theirs))
        g_error ("%s %s: Kestrel INT8 finds %u faces, ONNX Runtime on the QDQ file %u", name, photos[p],
                 kestrel_detections_get_n (ours), kestrel_detections_get_n (theirs));
      for (guint i = 0; i < kestrel_detections_get_n (ours); i++)
        {
          const KestrelDetection *f = kestrel_detections_get (ours, i);
          float iou;
          const KestrelDetection *g = test_best_match (theirs, f, &iou);
          if (g == NULL || iou < IOU_MIN || fabsf (f->score - g->score) > SCORE_TOLERANCE)
            g_error ("%s %s: face %u (score %.3f) has no match in ONNX Runtime's (IoU %.3f, score %.3f)", name,
                     photos[p], i, (double) f->score, (double) iou, g != NULL ? (double) g->score : 0.0);
          worst_iou = MIN (worst_iou, iou);
          worst_score = MAX (worst_score, fabsf (f->score - g->score));
          n_faces++;
        }
      g_test_message ("%s %s: %u face(s); outputs against ONNX Runtime's, SQNR dB:%s", name, photos[p],
                      kestrel_detections_get_n (ours), sqnr->str);
    }
  g_test_message ("%s: %u faces matched, worst IoU %.3f, worst score difference %.3f", name, n_faces,
                  (double) worst_iou, (double) worst_score);
  g_assert_cmpuint (n_faces, >, 0);
  g_unlink (model_path);
  kestrel_task_decoder_free (decoder);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  int missing = ort_peer_test_find (&node_path, &peer_script);
  if (missing != 0)
    return missing;
  work_dir = g_dir_make_tmp ("kestrel-qdq-ort-XXXXXX", NULL);
  g_test_add_data_func ("/blazeface/qdq-ort/front", "front", test_peer);
  g_test_add_data_func ("/blazeface/qdq-ort/back", "back", test_peer);
  int status = g_test_run ();
  g_rmdir (work_dir);
  return status;
}
