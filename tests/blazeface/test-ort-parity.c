/* test-ort-parity.c — Kestrel against ONNX Runtime on BlazeFace.
 *
 * For each photo and both models, the preprocessed input tensor is written
 * as raw float32, ONNX Runtime runs it (tests/peers/ort-peer.js), and
 * Kestrel runs the very same tensor at every level (scalar, simd, parallel,
 * full) with 1 and 2 threads. Raw outputs must agree (within 1e-4, scaled
 * for large outputs: see RAW_TOLERANCE) and the decoded faces must be the
 * same (boxes matched at IoU >= 0.99, scores within 1e-3).
 *
 * Skips (exit 77) only when node is not installed; a missing
 * onnxruntime-node (tests/peers/node_modules) is a failure with the command
 * that fixes it, so a broken set-up cannot pass for a skip.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../ort-peer-test.h"
#include "blazeface-test-util.h"
#include "kestrel-image.h"

/* Raw outputs: 1e-4, or 1e-5 of the largest magnitude in that output when
 * that is more. BlazeFace's raw score logits reach -9000 (back model) and
 * its box outputs are sums of terms in the hundreds; there one float32 ULP
 * is already 1e-3, and two correct engines summing in different orders
 * (Kestrel's reference, its SIMD kernels, ONNX Runtime's MLAS) differ by
 * up to 3e-6 of the output's scale, about 4e-3 absolute. A flat 1e-4
 * would fail on rounding alone; this still catches any real error. */
#define RAW_TOLERANCE 1e-4f
#define RAW_SCALE_TOLERANCE 1e-5f
#define IOU_MIN 0.99f
#define N_THREAD_COUNTS 2

typedef struct {
  const char *name;        /* "front" */
  const char *file;        /* under data/models/ */
  char *path;
  KestrelModel *model;
  KestrelTaskDecoder *decoder;
  kk_model_input_params params;
  KestrelPlan *plans[KK_LEVEL_COUNT][N_THREAD_COUNTS];
} ModelCase;

typedef struct {
  ModelCase *model;
  const TestPhoto *photo;
} ParityCase;

static char *node_path;
static char *peer_script;
static char *work_dir;

static ModelCase models[] = {
  { "front", "blazeface-front-128.onnx" },
  { "back", "blazeface-back-256.onnx" },
};

static void
model_case_setup (ModelCase *m)
{
  g_autoptr(GError) error = NULL;

  if (m->model != NULL)
    return;
  m->path = g_build_filename (TEST_SOURCE_ROOT, "data", "models", m->file, NULL);
  m->model = kestrel_model_new_from_file (m->path, &error);
  g_assert_no_error (error);
  m->decoder = test_blazeface_decoder (m->model);
  kestrel_task_decoder_get_input_params (m->decoder, TRUE, &m->params);

  for (int level = 0; level < KK_LEVEL_COUNT; level++)
    for (guint t = 0; t < N_THREAD_COUNTS; t++)
      {
        KestrelPlanOptions options;
        kestrel_plan_options_init (&options);
        options.level = level;
        options.n_threads = t + 1;
        m->plans[level][t] = kestrel_plan_new (m->model, &options, &error);
        g_assert_no_error (error);
      }
}

static void
model_case_clear (ModelCase *m)
{
  for (int level = 0; level < KK_LEVEL_COUNT; level++)
    for (guint t = 0; t < N_THREAD_COUNTS; t++)
      g_clear_pointer (&m->plans[level][t], kestrel_plan_unref);
  g_clear_pointer (&m->decoder, kestrel_task_decoder_free);
  g_clear_pointer (&m->model, kestrel_model_unref);
  g_clear_pointer (&m->path, g_free);
}

/* Runs ONNX Runtime on `input` and returns its outputs (GBytes each) in the
 * model's output order. */
static GPtrArray *
run_ort (ModelCase *m, const char *input_path, const char *out_dir)
{
  g_autofree char *input_arg = g_strdup_printf ("input:0=%s:1x%zux%zux3", input_path, m->params.height,
                                                m->params.width);
  const char *argv[] = { node_path, peer_script, "run", "--model", m->path, "--threads", "1", "--input",
                         input_arg, "--output-dir", out_dir, NULL };
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                               &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, &error))
    g_error ("ort-peer.js failed (%s): %s", error->message, err);

  GPtrArray *outputs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (guint o = 0; o < kestrel_model_get_n_outputs (m->model); o++)
    {
      g_autofree char *name = g_strdup_printf ("output_%u.f32", o);
      g_autofree char *path = g_build_filename (out_dir, name, NULL);
      g_autofree char *contents = NULL;
      gsize size = 0;
      const KestrelValue *value = kestrel_model_get_output (m->model, o);

      g_assert_true (g_file_get_contents (path, &contents, &size, NULL));
      g_assert_cmpuint (size, ==, kestrel_value_n_elements (value) * sizeof (float));
      g_ptr_array_add (outputs, g_bytes_new_take (g_steal_pointer (&contents), size));
      g_unlink (path);
    }
  return outputs;
}

static void
check_same_detections (const KestrelDetections *want, const KestrelDetections *got, const char *what)
{
  guint n = kestrel_detections_get_n (want);
  g_autofree gboolean *used = g_new0 (gboolean, n + 1);

  if (kestrel_detections_get_n (got) != n)
    g_error ("%s: %u faces, ONNX Runtime's outputs give %u", what, kestrel_detections_get_n (got), n);
  for (guint i = 0; i < n; i++)
    {
      const KestrelDetection *g = kestrel_detections_get (got, i);
      float best = 0.0f;
      guint best_j = 0;

      for (guint j = 0; j < n; j++)
        {
          float iou = kestrel_detection_iou (g, kestrel_detections_get (want, j));
          if (!used[j] && iou > best)
            best = iou, best_j = j;
        }
      if (best < IOU_MIN)
        g_error ("%s: face %u (%.1f, %.1f, %.1fx%.1f) matches none of ONNX Runtime's (best IoU %.4f)", what, i,
                 (double) g->x, (double) g->y, (double) g->width, (double) g->height, (double) best);
      used[best_j] = TRUE;
      g_assert_cmpfloat_with_epsilon (g->score, kestrel_detections_get (want, best_j)->score, 1e-3);
    }
}

static void
test_parity (gconstpointer data)
{
  const ParityCase *c = data;
  ModelCase *m = c->model;
  g_autoptr(GError) error = NULL;

  if (!test_have_photo (c->photo))
    return;
  model_case_setup (m);

  g_autoptr(KestrelImage) image = kestrel_image_new_from_file (c->photo->path, &error);
  g_assert_no_error (error);
  gsize n_input = m->params.width * m->params.height * 3;
  g_autofree float *input = g_new (float, n_input);
  KestrelFrameInfo frame = { kestrel_image_get_width (image), kestrel_image_get_height (image) };
  kestrel_image_fill_tensor (kestrel_image_get_view (image), &m->params, kk_kernels_for_level (KK_LEVEL_SCALAR),
                             input, &frame.geometry);

  g_autofree char *stem = g_strdup_printf ("%s-%s", m->name, test_photo_name (c->photo));
  g_autofree char *input_path = g_build_filename (work_dir, stem, NULL);
  g_autofree char *out_dir = g_strconcat (input_path, ".out", NULL);
  g_assert_true (g_file_set_contents (input_path, (const char *) input, (gssize) (n_input * sizeof (float)), NULL));
  g_autoptr(GPtrArray) ort = run_ort (m, input_path, out_dir);
  g_unlink (input_path);
  g_rmdir (out_dir);

  /* ONNX Runtime's outputs, decoded by the same decoder. */
  guint n_out = kestrel_model_get_n_outputs (m->model);
  g_autofree KestrelTensorView *ort_views = g_new0 (KestrelTensorView, n_out);
  g_autofree const KestrelTensorView **ort_ptrs = g_new0 (const KestrelTensorView *, n_out);
  for (guint o = 0; o < n_out; o++)
    {
      const KestrelValue *value = kestrel_model_get_output (m->model, o);
      ort_views[o] = (KestrelTensorView) {
        .dtype = KESTREL_DTYPE_FLOAT32,
        .n_dims = value->n_dims,
        .n_elements = kestrel_value_n_elements (value),
        .data = (gpointer) g_bytes_get_data (g_ptr_array_index (ort, o), NULL),
      };
      memcpy (ort_views[o].shape, value->shape, sizeof value->shape);
      ort_ptrs[o] = &ort_views[o];
    }
  g_autoptr(KestrelDetections) want = kestrel_detections_new ();
  g_assert_true (kestrel_task_decoder_decode (m->decoder, ort_ptrs, n_out, &frame, NULL, want, &error));
  g_assert_no_error (error);

  g_autoptr(GString) summary = g_string_new (NULL);
  g_string_append_printf (summary, "%s %s: %u face(s)", m->name, test_photo_name (c->photo),
                          kestrel_detections_get_n (want));
  for (guint i = 0; i < kestrel_detections_get_n (want); i++)
    g_string_append_printf (summary, " %.3f", (double) kestrel_detections_get (want, i)->score);
  g_string_append (summary, "; max |Kestrel - ORT|:");

  g_autoptr(KestrelDetections) got = kestrel_detections_new ();
  for (int level = 0; level < KK_LEVEL_COUNT; level++)
    for (guint t = 0; t < N_THREAD_COUNTS; t++)
      {
        KestrelPlan *plan = m->plans[level][t];
        const KestrelTensorView *in = kestrel_plan_get_input (plan, kestrel_task_decoder_get_image_input (m->decoder));
        g_autofree char *what = g_strdup_printf ("%s %s %s/%u thread(s)", m->name, test_photo_name (c->photo),
                                                 kk_level_name (level), t + 1);
        float worst = 0.0f, worst_ratio = 0.0f;

        g_assert_true (kestrel_image_check_input (in, &m->params, &error));
        memcpy (in->data, input, n_input * sizeof (float));
        kestrel_plan_run (plan);

        for (guint o = 0; o < n_out; o++)
          {
            const KestrelTensorView *view = kestrel_plan_get_output (plan, o);
            const float *k = view->data, *r = ort_views[o].data;
            float scale = 0.0f;
            g_assert_cmpuint (view->n_elements, ==, ort_views[o].n_elements);
            for (gsize i = 0; i < view->n_elements; i++)
              scale = MAX (scale, fabsf (r[i]));
            float tolerance = MAX (RAW_TOLERANCE, RAW_SCALE_TOLERANCE * scale);
            float worst_here = 0.0f;
            for (gsize i = 0; i < view->n_elements; i++)
              {
                float d = fabsf (k[i] - r[i]);
                if (!(d <= tolerance))
                  g_error ("%s: output %u ('%s') element %zu is %.7g, ONNX Runtime has %.7g (tolerance %.2g)", what,
                           o, kestrel_plan_get_output_name (plan, o), i, (double) k[i], (double) r[i],
                           (double) tolerance);
                worst_here = MAX (worst_here, d);
              }
            worst = MAX (worst, worst_here);
            worst_ratio = MAX (worst_ratio, scale > 0.0f ? worst_here / scale : 0.0f);
          }
        g_string_append_printf (summary, " %s/%u %.1e (%.1e of scale)", kk_level_name (level), t + 1,
                                (double) worst, (double) worst_ratio);

        g_assert_true (kestrel_task_decoder_decode_plan (m->decoder, plan, &frame, NULL, got, &error));
        g_assert_no_error (error);
        check_same_detections (want, got, what);
      }
  g_test_message ("%s", summary->str);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  int missing = ort_peer_test_find (&node_path, &peer_script);
  if (missing != 0)
    return missing;
  work_dir = g_dir_make_tmp ("kestrel-parity-XXXXXX", NULL);

  g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func (g_free);
  for (gsize m = 0; m < G_N_ELEMENTS (models); m++)
    for (gsize p = 0; p < G_N_ELEMENTS (test_photos); p++)
      {
        ParityCase *c = g_new0 (ParityCase, 1);
        c->model = &models[m];
        c->photo = &test_photos[p];
        g_ptr_array_add (cases, c);
        g_autofree char *path = g_strdup_printf ("/blazeface/ort-parity/%s/%s", models[m].name,
                                                 test_photo_name (c->photo));
        g_test_add_data_func (path, c, test_parity);
      }

  int status = g_test_run ();

  for (gsize m = 0; m < G_N_ELEMENTS (models); m++)
    model_case_clear (&models[m]);
  g_rmdir (work_dir);
  g_free (work_dir);
  g_free (peer_script);
  g_free (node_path);
  return status;
}
