/* blazeface-test-util.h — the photos the BlazeFace tests use, and helpers
 * they share. Header-only: each test is one program. */
#pragma once

#include <glib.h>

#include "kestrel-calibrate-images.h"
#include "kestrel-image.h"
#include "kestrel-plan.h"
#include "kestrel-plugin.h"
#include "../test-missing.h"

typedef struct {
  const char *path;
  const char *package;   /* the Debian package it comes from */
  gboolean has_face;
} TestPhoto;

/* Photos with faces (a portrait, a photographer, Grace Hopper, footballers,
 * basketball players) and without (coffee, a rocket, fruit, a building). */
static const TestPhoto test_photos[] = {
  { "/usr/lib/python3/dist-packages/skimage/data/astronaut.png", "python3-skimage", TRUE },
  { "/usr/lib/python3/dist-packages/skimage/data/camera.png", "python3-skimage", TRUE },
  { "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg", "python-matplotlib-data", TRUE },
  { "/usr/share/doc/opencv-doc/examples/data/messi5.jpg", "opencv-doc", TRUE },
  { "/usr/share/doc/opencv-doc/examples/data/basketball1.png", "opencv-doc", TRUE },
  { "/usr/lib/python3/dist-packages/skimage/data/coffee.png", "python3-skimage", FALSE },
  { "/usr/lib/python3/dist-packages/skimage/data/rocket.jpg", "python3-skimage", FALSE },
  { "/usr/share/doc/opencv-doc/examples/data/fruits.jpg", "opencv-doc", FALSE },
  { "/usr/share/doc/opencv-doc/examples/data/building.jpg", "opencv-doc", FALSE },
};

static inline const char *
test_photo_name (const TestPhoto *photo)
{
  const char *slash = strrchr (photo->path, '/');
  return slash != NULL ? slash + 1 : photo->path;
}

/* Whether `photo` is installed; skips the test (fails it in CI), naming
 * its package, when it is not. */
static inline gboolean
test_have_photo (const TestPhoto *photo)
{
  if (g_file_test (photo->path, G_FILE_TEST_EXISTS))
    return TRUE;
  test_missing (photo->package, photo->path);
  return FALSE;
}

/* The BlazeFace decoder for `model`, from the plugins of this build tree. */
static inline KestrelTaskDecoder *
test_blazeface_decoder (KestrelModel *model)
{
  g_autoptr(GError) error = NULL;
  KestrelPluginRegistry *registry = kestrel_plugin_registry_get_default ();
  const KestrelTaskDecoderVTable *vt = kestrel_plugin_registry_find_task_decoder_for_model (registry, model,
                                                                                           &error);
  g_assert_no_error (error);
  g_assert_cmpstr (vt->name, ==, "blazeface");
  KestrelTaskDecoder *decoder = kestrel_task_decoder_new (vt, model, &error);
  g_assert_no_error (error);
  return decoder;
}

/* The table the engine's INT8 plans of a BlazeFace model use: minmax on
 * the bundled photos as the plugin prepares them, then the layers the
 * sensitivity search keeps FP32 (the cache's, in the build folder's
 * XDG_CACHE_HOME, once a test has measured it). */
static inline KestrelQuantTable *
test_blazeface_engine_table (KestrelModel *model)
{
  g_autoptr(GError) error = NULL;
  KestrelTaskDecoder *decoder = test_blazeface_decoder (model);
  kk_model_input_params params;
  KestrelQuantTable *table;

  kestrel_task_decoder_get_input_params (decoder, TRUE, &params);
  table = kestrel_calibrate_images (model, kestrel_task_decoder_get_image_input (decoder), &params, NULL, NULL,
                                    NULL, NULL, &error);
  g_assert_no_error (error);
  kestrel_task_decoder_free (decoder);
  return table;
}

/* Runs `plan` on `image` as the decoder prepares frames and decodes it,
 * keeping faces from `threshold` up. */
static inline KestrelDetections *
test_detect_on_plan_from (KestrelPlan *plan, KestrelTaskDecoder *decoder, KestrelImage *image,
                          float threshold)
{
  g_autoptr(GError) error = NULL;
  kk_model_input_params params;
  KestrelFrameInfo frame = { kestrel_image_get_width (image), kestrel_image_get_height (image) };
  KestrelDetections *faces = kestrel_detections_new ();
  KestrelDecodeOptions options;

  kestrel_task_decoder_get_input_params (decoder, TRUE, &params);
  g_assert_true (kestrel_image_fill_plan_input (plan, kestrel_task_decoder_get_image_input (decoder),
                                                kestrel_image_get_view (image), &params, &frame.geometry, &error));
  g_assert_no_error (error);
  kestrel_plan_run (plan);
  kestrel_decode_options_init (&options);
  options.score_threshold = threshold;
  g_assert_true (kestrel_task_decoder_decode_plan (decoder, plan, &frame, &options, faces, &error));
  g_assert_no_error (error);
  return faces;
}

/* The same from 0.3 up (below any model's threshold, so a face near it
 * shows on both sides of a comparison of two plans). */
static inline KestrelDetections *
test_detect_on_plan (KestrelPlan *plan, KestrelTaskDecoder *decoder, KestrelImage *image)
{
  return test_detect_on_plan_from (plan, decoder, image, 0.3f);
}

/* The face of `faces` that overlaps f most (NULL if none does), and the IoU. */
static inline const KestrelDetection *
test_best_match (const KestrelDetections *faces, const KestrelDetection *f, float *iou)
{
  const KestrelDetection *best = NULL;

  *iou = 0.0f;
  for (guint i = 0; i < kestrel_detections_get_n (faces); i++)
    {
      const KestrelDetection *g = kestrel_detections_get (faces, i);
      float o = kestrel_detection_iou (f, g);
      if (o > *iou)
        {
          *iou = o;
          best = g;
        }
    }
  return best;
}
