/* blazeface-test-util.h — the photos the BlazeFace tests use, and helpers
 * they share. Header-only: each test is one program. */
#pragma once

#include <glib.h>

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
