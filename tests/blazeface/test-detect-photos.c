/* test-detect-photos.c — BlazeFace end to end on real photos: file ->
 * gdk-pixbuf -> model input -> plan (level full) -> plugin decoder.
 *
 * What the two models can see differs: the front (short-range) model is
 * meant for faces filling a good part of a selfie and misses the small
 * faces in messi5.jpg and basketball1.png, which the back (full-range) one
 * finds. The back model also scores two non-faces above 0.5 (the handle of
 * the cup in coffee.png at 0.665, the top of the rocket in rocket.jpg at
 * 0.507); ONNX Runtime gives the same scores on the same input (see
 * test-ort-parity), so that is the model, not Kestrel. They are checked
 * to stay where they are: the back model's own threshold (0.72,
 * kestrel-builtin-models.c; tests/runtime/test-thresholds.c) leaves them
 * out, at the decoder's 0.5 used here they show.
 */
#include "config.h"

#include <string.h>

#include "blazeface-test-util.h"
#include "kestrel-builtin-models.h"
#include "kestrel-image.h"

typedef struct {
  const char *photo;
  float x, y;          /* a point on the face, in image pixels */
  gboolean front_sees_it;
} FaceSpot;

static const FaceSpot face_spots[] = {
  { "astronaut.png", 225, 127, TRUE },
  { "camera.png", 220, 163, TRUE },
  { "grace_hopper.jpg", 268, 240, TRUE },
  { "messi5.jpg", 239, 114, FALSE },
  { "basketball1.png", 87, 116, FALSE },
};

/* Non-faces the back model scores above 0.5, and a ceiling for each. */
static const struct {
  const char *photo;
  float ceiling;
} back_false_positives[] = {
  { "coffee.png", 0.70f },
  { "rocket.jpg", 0.55f },
};

typedef struct {
  const char *name;
  KestrelModel *model;
  KestrelTaskDecoder *decoder;
  KestrelPlan *plan;
  kk_model_input_params params;
} Detector;

static Detector detectors[2] = { { "front" }, { "back" } };

static Detector *
detector_get (guint i)
{
  Detector *d = &detectors[i];
  g_autoptr(GError) error = NULL;
  KestrelPlanOptions options;

  if (d->plan != NULL)
    return d;
  d->model = kestrel_builtin_model_new (d->name, &error);
  g_assert_no_error (error);
  d->decoder = test_blazeface_decoder (d->model);
  kestrel_task_decoder_get_input_params (d->decoder, TRUE, &d->params);
  kestrel_plan_options_init (&options);
  d->plan = kestrel_plan_new (d->model, &options, &error);
  g_assert_no_error (error);
  return d;
}

static KestrelDetections *
detect (Detector *d, const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelImage) image = kestrel_image_new_from_file (path, &error);
  g_assert_no_error (error);
  KestrelFrameInfo frame = { kestrel_image_get_width (image), kestrel_image_get_height (image) };
  KestrelDetections *results = kestrel_detections_new ();

  g_assert_true (kestrel_image_fill_plan_input (d->plan, kestrel_task_decoder_get_image_input (d->decoder),
                                                kestrel_image_get_view (image), &d->params, &frame.geometry,
                                                &error));
  g_assert_no_error (error);
  kestrel_plan_run (d->plan);
  g_assert_true (kestrel_task_decoder_decode_plan (d->decoder, d->plan, &frame, NULL, results, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < kestrel_detections_get_n (results); i++)
    {
      const KestrelDetection *f = kestrel_detections_get (results, i);
      g_test_message ("%s %s: %.3f at (%.1f, %.1f) %.1fx%.1f", d->name, path, (double) f->score, (double) f->x,
                      (double) f->y, (double) f->width, (double) f->height);
    }
  return results;
}

static const FaceSpot *
face_spot (const TestPhoto *photo)
{
  for (gsize i = 0; i < G_N_ELEMENTS (face_spots); i++)
    if (strcmp (face_spots[i].photo, test_photo_name (photo)) == 0)
      return &face_spots[i];
  return NULL;
}

static void
test_photo (gconstpointer data)
{
  const TestPhoto *photo = data;

  if (!test_have_photo (photo))
    return;

  for (guint m = 0; m < G_N_ELEMENTS (detectors); m++)
    {
      Detector *d = detector_get (m);
      g_autoptr(KestrelDetections) faces = detect (d, photo->path);
      guint n = kestrel_detections_get_n (faces);
      const FaceSpot *spot = face_spot (photo);
      gboolean is_front = m == 0;

      g_assert_cmpuint (kestrel_detections_get_frame_width (faces), >, 0);
      for (guint i = 0; i < n; i++)
        g_assert_cmpfloat (kestrel_detections_get (faces, i)->score, >=, 0.5f);

      if (photo->has_face && (!is_front || spot->front_sees_it))
        {
          g_assert_cmpuint (n, >=, 1);
          const KestrelDetection *f = kestrel_detections_get (faces, 0);
          /* On the face, upright: eyes above the nose, nose above the mouth,
           * all inside the box. */
          g_assert_cmpfloat (f->x, <=, spot->x);
          g_assert_cmpfloat (f->x + f->width, >=, spot->x);
          g_assert_cmpfloat (f->y, <=, spot->y);
          g_assert_cmpfloat (f->y + f->height, >=, spot->y);
          g_assert_cmpuint (f->n_keypoints, ==, 6);
          g_assert_cmpfloat (f->keypoints[0].y, <, f->keypoints[2].y);
          g_assert_cmpfloat (f->keypoints[1].y, <, f->keypoints[2].y);
          g_assert_cmpfloat (f->keypoints[2].y, <, f->keypoints[3].y);
          for (guint k = 0; k < 4; k++)
            {
              g_assert_cmpfloat (f->keypoints[k].x, >=, f->x);
              g_assert_cmpfloat (f->keypoints[k].x, <=, f->x + f->width);
              g_assert_cmpfloat (f->keypoints[k].y, >=, f->y);
              g_assert_cmpfloat (f->keypoints[k].y, <=, f->y + f->height);
            }
        }
      else if (!photo->has_face)
        {
          float ceiling = 0.5f;
          for (gsize i = 0; !is_front && i < G_N_ELEMENTS (back_false_positives); i++)
            if (strcmp (back_false_positives[i].photo, test_photo_name (photo)) == 0)
              ceiling = back_false_positives[i].ceiling;
          if (n > 0)
            {
              float best = kestrel_detections_get (faces, 0)->score;
              if (ceiling == 0.5f)
                g_error ("%s model: a face at %.3f in %s, which has none", d->name, (double) best, photo->path);
              g_test_message ("%s model: known false positive at %.3f in %s", d->name, (double) best,
                              photo->path);
              g_assert_cmpfloat (best, <=, ceiling);
            }
        }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (gsize p = 0; p < G_N_ELEMENTS (test_photos); p++)
    {
      g_autofree char *path = g_strdup_printf ("/blazeface/photos/%s/%s",
                                               test_photos[p].has_face ? "faces" : "no-faces",
                                               test_photo_name (&test_photos[p]));
      g_test_add_data_func (path, &test_photos[p], test_photo);
    }

  int status = g_test_run ();

  for (guint m = 0; m < G_N_ELEMENTS (detectors); m++)
    {
      g_clear_pointer (&detectors[m].plan, kestrel_plan_unref);
      g_clear_pointer (&detectors[m].decoder, kestrel_task_decoder_free);
      g_clear_pointer (&detectors[m].model, kestrel_model_unref);
    }
  return status;
}
