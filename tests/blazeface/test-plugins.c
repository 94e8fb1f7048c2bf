/* test-plugins.c — loading plugins, refusing broken ones with a message,
 * matching task decoders to models, and the frame source interface.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "kestrel-builtin-models.h"
#include "kestrel-error.h"
#include "kestrel-plugin.h"

static char *
test_module (const char *kind)
{
  g_autofree char *file = g_strconcat ("test-plugin-", kind, "." G_MODULE_SUFFIX, NULL);
  return g_build_filename (TEST_MODULE_DIR, file, NULL);
}

static char *
blazeface_module (void)
{
  return g_build_filename (TEST_PLUGIN_BUILDDIR, "blazeface", "blazeface." G_MODULE_SUFFIX, NULL);
}

static void
test_load_blazeface (void)
{
  g_autoptr(KestrelPluginRegistry) registry = kestrel_plugin_registry_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *path = blazeface_module ();

  g_assert_true (kestrel_plugin_registry_load_file (registry, path, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (kestrel_plugin_registry_get_n_plugins (registry), ==, 1);

  const KestrelPluginInfo *info = kestrel_plugin_registry_get_plugin (registry, 0);
  g_assert_cmpstr (info->name, ==, "blazeface");
  g_assert_cmpstr (info->version, ==, PACKAGE_VERSION);
  g_assert_cmpstr (info->path, ==, path);
  g_assert_cmpuint (info->n_task_decoders, ==, 1);
  g_assert_cmpuint (info->n_frame_sources, ==, 0);

  const KestrelTaskDecoderVTable *d = kestrel_plugin_registry_find_task_decoder (registry, "blazeface");
  g_assert_nonnull (d);
  g_assert_true (d == info->task_decoders[0]);
  g_assert_cmpstr (d->labels[0], ==, "face");
  g_assert_cmpstr (d->keypoint_names[0], ==, "right_eye");
  g_assert_cmpstr (d->keypoint_names[5], ==, "left_ear_tragion");
  g_assert_null (d->keypoint_names[6]);
  g_assert_cmpfloat (d->default_score_threshold, ==, 0.5f);
  g_assert_cmpfloat (d->default_overlap_threshold, ==, 0.3f);
  g_assert_null (kestrel_plugin_registry_find_task_decoder (registry, "nope"));

  /* The same plugin twice: refused as a duplicate, the first one stays. */
  g_assert_false (kestrel_plugin_registry_load_file (registry, path, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_assert_cmpuint (kestrel_plugin_registry_get_n_plugins (registry), ==, 1);
}

/* Each broken module gives an error naming the file and the reason. */
static void
check_refused (const char *path, GQuark domain, gint code, const char *reason)
{
  g_autoptr(KestrelPluginRegistry) registry = kestrel_plugin_registry_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *display = g_filename_display_name (path);

  g_assert_false (kestrel_plugin_registry_load_file (registry, path, &error));
  g_assert_error (error, domain, code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, display));
  g_assert_nonnull (strstr (error->message, reason));
  g_assert_cmpuint (kestrel_plugin_registry_get_n_plugins (registry), ==, 0);
}

static void
test_refuse_broken (void)
{
  g_autofree char *bad_version = test_module ("1-bad-version");
  g_autofree char *no_entry = test_module ("2-no-entry");
  g_autofree char *init_fails = test_module ("3-init-fails");
  g_autofree char *nothing = test_module ("4-provides-nothing");
  g_autofree char *bad_vtable = test_module ("5-bad-vtable");

  check_refused (bad_version, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED, "API version 999");
  check_refused (no_entry, KESTREL_ERROR, KESTREL_ERROR_CORRUPT, "not a Kestrel plugin");
  check_refused (init_fails, KESTREL_ERROR, KESTREL_ERROR_FAILED, "the frobnicator is missing");
  check_refused (nothing, KESTREL_ERROR, KESTREL_ERROR_FAILED, "provides nothing");
  check_refused (bad_vtable, KESTREL_ERROR, KESTREL_ERROR_FAILED, "lacks create, destroy or decode");
}

static void
test_refuse_not_modules (void)
{
  g_autofree char *dir = g_dir_make_tmp ("kestrel-plugins-XXXXXX", NULL);
  g_autofree char *garbage = g_build_filename (dir, "garbage." G_MODULE_SUFFIX, NULL);
  g_autofree char *empty = g_build_filename (dir, "empty." G_MODULE_SUFFIX, NULL);
  g_autofree char *missing = g_build_filename (dir, "missing." G_MODULE_SUFFIX, NULL);

  g_assert_true (g_file_set_contents (garbage, "\177ELF but not really, just text", -1, NULL));
  g_assert_true (g_file_set_contents (empty, "", 0, NULL));

  check_refused (garbage, KESTREL_ERROR, KESTREL_ERROR_CORRUPT, "cannot load");
  check_refused (empty, KESTREL_ERROR, KESTREL_ERROR_CORRUPT, "cannot load");
  check_refused (missing, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no such plugin file");
  check_refused (dir, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no such plugin file");

  g_unlink (garbage);
  g_unlink (empty);
  g_rmdir (dir);
}

/* A folder scan warns about each bad module, remembers it, and still loads
 * the good ones. */
static void
test_load_dir (void)
{
  g_autoptr(KestrelPluginRegistry) registry = kestrel_plugin_registry_new ();
  g_autofree char *dir = g_dir_make_tmp ("kestrel-plugins-XXXXXX", NULL);
  g_autofree char *link_bad = g_build_filename (dir, "a-bad." G_MODULE_SUFFIX, NULL);
  g_autofree char *link_good = g_build_filename (dir, "b-good." G_MODULE_SUFFIX, NULL);
  g_autofree char *not_module = g_build_filename (dir, "README.txt", NULL);
  g_autofree char *bad = test_module ("1-bad-version");
  g_autofree char *good = blazeface_module ();
  g_auto(GStrv) errors = NULL;

  g_assert_cmpint (symlink (bad, link_bad), ==, 0);
  g_assert_cmpint (symlink (good, link_good), ==, 0);
  g_assert_true (g_file_set_contents (not_module, "ignored", -1, NULL));

  g_test_expect_message ("Kestrel", G_LOG_LEVEL_WARNING, "*a-bad.so*API version 999*");
  g_assert_cmpuint (kestrel_plugin_registry_load_dir (registry, dir, FALSE), ==, 1);
  g_test_assert_expected_messages ();

  errors = kestrel_plugin_registry_dup_load_errors (registry);
  g_assert_cmpuint (g_strv_length (errors), ==, 1);
  g_assert_nonnull (strstr (errors[0], "a-bad"));
  g_assert_nonnull (kestrel_plugin_registry_find_task_decoder (registry, "blazeface"));

  /* Scanning again finds blazeface already there: quiet, not an error. */
  g_test_expect_message ("Kestrel", G_LOG_LEVEL_WARNING, "*a-bad.so*");
  g_assert_cmpuint (kestrel_plugin_registry_load_dir (registry, dir, FALSE), ==, 0);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (kestrel_plugin_registry_get_n_plugins (registry), ==, 1);

  /* A folder that does not exist is normal on a search path. */
  g_assert_cmpuint (kestrel_plugin_registry_load_dir (registry, "/nonexistent/kestrel", TRUE), ==, 0);

  g_unlink (link_bad);
  g_unlink (link_good);
  g_unlink (not_module);
  g_rmdir (dir);
}

static void
test_search_path (void)
{
  g_auto(GStrv) path = NULL;

  g_setenv ("KESTREL_PLUGIN_PATH", "/first/dir::/second/dir", TRUE);
  path = kestrel_plugin_get_search_path ();
  g_assert_cmpuint (g_strv_length (path), ==, 3);
  g_assert_cmpstr (path[0], ==, "/first/dir");
  g_assert_cmpstr (path[1], ==, "/second/dir");
  /* The tests run from the build tree: its plugins, not the installed ones. */
  g_assert_cmpstr (path[2], ==, TEST_PLUGIN_BUILDDIR);
  g_unsetenv ("KESTREL_PLUGIN_PATH");

  /* The default registry finds the build tree's BlazeFace on its own. */
  KestrelPluginRegistry *registry = kestrel_plugin_registry_get_default ();
  g_assert_true (registry == kestrel_plugin_registry_get_default ());
  g_assert_nonnull (kestrel_plugin_registry_find_task_decoder (registry, "blazeface"));
}

static gpointer
fake_create (const KestrelValue *const *inputs, const KestrelValue *const *outputs,
             kk_model_input_params *input, GError **error)
{
  g_assert_not_reached ();
}

static void
fake_destroy (gpointer state)
{
  g_assert_not_reached ();
}

static gboolean
fake_decode (gpointer state, const KestrelTensorView *const *outputs, const KestrelFrameInfo *frame,
             const KestrelDecodeOptions *options, KestrelDetections *results, GError **error)
{
  g_assert_not_reached ();
}

static gboolean
fake_init (KestrelPluginRegistrar *registrar, GError **error)
{
  static const KestrelTensorPattern in = { "x", KESTREL_DTYPE_INT8, 1, { 3 } };
  static const char *const labels[] = { "cat", NULL };
  static const KestrelTaskDecoderVTable fake = {
    .name = "fake",
    .labels = labels,
    .inputs = &in,
    .n_inputs = 1,
    .create = fake_create,
    .destroy = fake_destroy,
    .decode = fake_decode,
  };

  kestrel_plugin_registrar_set_info (registrar, "fake", "0", "matches nothing real");
  kestrel_plugin_registrar_add_task_decoder (registrar, &fake);
  return TRUE;
}

static KestrelTaskDecoder *
front_decoder (KestrelPluginRegistry *registry, KestrelModel **model_out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = kestrel_builtin_model_new ("front", &error);
  g_assert_no_error (error);

  const KestrelTaskDecoderVTable *vt = kestrel_plugin_registry_find_task_decoder_for_model (registry, model,
                                                                                           &error);
  g_assert_no_error (error);
  g_assert_cmpstr (vt->name, ==, "blazeface");
  KestrelTaskDecoder *decoder = kestrel_task_decoder_new (vt, model, &error);
  g_assert_no_error (error);
  *model_out = g_steal_pointer (&model);
  return decoder;
}

static void
test_match_models (void)
{
  g_autoptr(KestrelPluginRegistry) registry = kestrel_plugin_registry_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *path = blazeface_module ();

  g_assert_true (kestrel_plugin_registry_add_static (registry, fake_init, &error));
  g_assert_no_error (error);
  g_assert_true (kestrel_plugin_registry_load_file (registry, path, &error));
  g_assert_no_error (error);
  g_assert_null (kestrel_plugin_registry_get_plugin (registry, 0)->path);

  for (guint m = 0; m < 2; m++)
    {
      g_autoptr(KestrelModel) model = kestrel_builtin_model_new (m == 0 ? "front" : "back", &error);
      g_assert_no_error (error);
      const KestrelTaskDecoderVTable *vt = kestrel_plugin_registry_find_task_decoder_for_model (registry, model,
                                                                                               &error);
      g_assert_no_error (error);
      g_assert_cmpstr (vt->name, ==, "blazeface");

      g_autoptr(KestrelTaskDecoder) decoder = kestrel_task_decoder_new (vt, model, &error);
      g_assert_no_error (error);
      kk_model_input_params p;
      kestrel_task_decoder_get_input_params (decoder, TRUE, &p);
      g_assert_cmpuint (p.width, ==, m == 0 ? 128 : 256);
      g_assert_cmpuint (p.height, ==, p.width);
      g_assert_cmpint (p.layout, ==, KK_LAYOUT_NHWC);
      g_assert_cmpfloat_with_epsilon (p.scale[1], 1.0 / 127.5, 1e-9);
      g_assert_cmpfloat (p.offset[2], ==, -1.0f);
      g_assert_true (p.letterbox);
      g_assert_cmpfloat (p.pad[0], ==, -1.0f);
      g_assert_cmpuint (kestrel_task_decoder_get_image_input (decoder), ==, 0);

      /* The fake decoder does not apply, and says why. */
      const KestrelTaskDecoderVTable *fake = kestrel_plugin_registry_find_task_decoder (registry, "fake");
      g_assert_null (kestrel_task_decoder_new (fake, model, &error));
      g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, "'fake'"));
      g_assert_nonnull (strstr (error->message, "'x' int8[3]"));
      g_clear_error (&error);
    }

  /* A model no decoder applies to: the error lists every decoder's reason. */
  const char *relu = "/usr/share/libonnx-testdata/data/node/test_relu/model.onnx";
  if (g_file_test (relu, G_FILE_TEST_EXISTS))
    {
      g_autoptr(KestrelModel) model = kestrel_model_new_from_file (relu, &error);
      g_assert_no_error (error);
      g_assert_null (kestrel_plugin_registry_find_task_decoder_for_model (registry, model, &error));
      g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, "'fake'"));
      g_assert_nonnull (strstr (error->message, "'blazeface'"));
    }
}

static void
fill (float *data, gsize n, float value)
{
  for (gsize i = 0; i < n; i++)
    data[i] = value;
}

/* Decoding through the core wrapper with outputs not from a plan: a peer's,
 * in the model's output order. */
static void
test_decode_views (void)
{
  g_autoptr(KestrelPluginRegistry) registry = kestrel_plugin_registry_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = NULL;
  g_autofree char *path = blazeface_module ();
  static float scores0[512], scores1[384], boxes0[512 * 16], boxes1[384 * 16];

  g_assert_true (kestrel_plugin_registry_load_file (registry, path, &error));
  g_autoptr(KestrelTaskDecoder) decoder = front_decoder (registry, &model);

  /* Outputs: Identity:0 [1,512,1], Identity_1:0 [1,384,1], Identity_2:0
   * [1,512,16], Identity_3:0 [1,384,16]. */
  fill (scores0, 512, -20.0f);
  fill (scores1, 384, -20.0f);
  scores0[300] = 3.0f;                 /* cell 150: x 6, y 9 */
  boxes0[300 * 16 + 2] = 32.0f;        /* a 32 x 16 box */
  boxes0[300 * 16 + 3] = 16.0f;
  scores1[10] = 1.0f;
  boxes1[10 * 16 + 2] = boxes1[10 * 16 + 3] = 8.0f;

  KestrelTensorView views[4] = {
    { KESTREL_DTYPE_FLOAT32, 3, { 1, 512, 1 }, 512, scores0 },
    { KESTREL_DTYPE_FLOAT32, 3, { 1, 384, 1 }, 384, scores1 },
    { KESTREL_DTYPE_FLOAT32, 3, { 1, 512, 16 }, 512 * 16, boxes0 },
    { KESTREL_DTYPE_FLOAT32, 3, { 1, 384, 16 }, 384 * 16, boxes1 },
  };
  const KestrelTensorView *outputs[4] = { &views[0], &views[1], &views[2], &views[3] };
  kk_model_input_params params;
  KestrelFrameInfo frame = { 640, 480 };
  g_autoptr(KestrelDetections) results = kestrel_detections_new ();
  KestrelDecodeOptions options;

  kestrel_task_decoder_get_input_params (decoder, TRUE, &params);
  kk_model_input_geometry_compute (640, 480, &params, &frame.geometry);
  g_assert_true (kestrel_task_decoder_decode (decoder, outputs, 4, &frame, NULL, results, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (kestrel_detections_get_n (results), ==, 2);
  g_assert_cmpuint (kestrel_detections_get_frame_width (results), ==, 640);

  /* 640x480 letterboxed into 128x128: scale 0.2, bars of 16 rows. */
  const KestrelDetection *d = kestrel_detections_get (results, 0);
  g_assert_cmpfloat_with_epsilon (d->score, 1.0 / (1.0 + exp (-3.0)), 1e-6);
  g_assert_cmpfloat_with_epsilon (d->x + d->width / 2, (6.5 / 16 * 128) / 0.2, 1e-2);
  g_assert_cmpfloat_with_epsilon (d->y + d->height / 2, (9.5 / 16 * 128 - 16) / 0.2, 1e-2);
  g_assert_cmpfloat_with_epsilon (d->width, 32 / 0.2, 1e-2);
  g_assert_cmpfloat_with_epsilon (d->height, 16 / 0.2, 1e-2);
  g_assert_cmpuint (d->n_keypoints, ==, 6);
  g_assert_cmpfloat_with_epsilon (d->keypoints[0].x, d->x + d->width / 2, 1e-2);
  g_assert_cmpfloat_with_epsilon (kestrel_detections_get (results, 1)->score, 1.0 / (1.0 + exp (-1.0)), 1e-6);

  /* Thresholds and limits from the options. */
  kestrel_decode_options_init (&options);
  options.score_threshold = 0.9f;
  g_assert_true (kestrel_task_decoder_decode (decoder, outputs, 4, &frame, &options, results, &error));
  g_assert_cmpuint (kestrel_detections_get_n (results), ==, 1);
  options.score_threshold = 0.0f;
  options.max_detections = 5;
  g_assert_true (kestrel_task_decoder_decode (decoder, outputs, 4, &frame, &options, results, &error));
  g_assert_cmpuint (kestrel_detections_get_n (results), ==, 5);
  g_assert_cmpfloat (kestrel_detections_get (results, 0)->score, >=, kestrel_detections_get (results, 4)->score);

  /* Outputs of the wrong shape or missing are refused, not read. */
  KestrelTensorView wrong = views[2];
  wrong.shape[1] = 511;
  outputs[2] = &wrong;
  g_assert_false (kestrel_task_decoder_decode (decoder, outputs, 4, &frame, NULL, results, &error));
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "Identity_2:0"));
  g_clear_error (&error);
  outputs[2] = &views[2];
  g_assert_false (kestrel_task_decoder_decode (decoder, outputs, 3, &frame, NULL, results, &error));
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT);
}

static void
test_frame_source (void)
{
  g_autoptr(KestrelPluginRegistry) registry = kestrel_plugin_registry_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *path = test_module ("6-synthetic");
  KestrelFrame frame;

  g_assert_true (kestrel_plugin_registry_load_file (registry, path, &error));
  g_assert_no_error (error);
  g_assert_nonnull (kestrel_plugin_registry_find_frame_source (registry, "synthetic"));

  {
    g_autoptr(KestrelFrameSource) source = kestrel_frame_source_open (registry, "synthetic:4x3x2", &error);
    g_assert_no_error (error);
    g_assert_cmpstr (kestrel_frame_source_get_vtable (source)->name, ==, "synthetic");
    for (guint i = 0; i < 2; i++)
      {
        g_assert_cmpint (kestrel_frame_source_next_frame (source, &frame, NULL, &error), ==, KESTREL_FRAME_OK);
        g_assert_no_error (error);
        g_assert_cmpuint (frame.index, ==, i);
        g_assert_cmpint (frame.pts_us, ==, (gint64) i * 40000);
        g_assert_cmpuint (frame.image.width, ==, 4);
        g_assert_cmpuint (frame.image.height, ==, 3);
        g_assert_cmpuint (frame.image.data[11], ==, i);
      }
    g_assert_cmpint (kestrel_frame_source_next_frame (source, &frame, NULL, &error), ==, KESTREL_FRAME_END);
    g_assert_cmpint (kestrel_frame_source_next_frame (source, &frame, NULL, &error), ==, KESTREL_FRAME_END);
    g_assert_no_error (error);
  }

  /* Without a prefix, accepts() chooses. */
  {
    g_autoptr(KestrelFrameSource) source = kestrel_frame_source_open (registry, "synth://2x2x1", &error);
    g_assert_no_error (error);
    g_assert_cmpint (kestrel_frame_source_next_frame (source, &frame, NULL, &error), ==, KESTREL_FRAME_OK);
  }

  /* A failing frame is an error for that frame only. */
  {
    g_autoptr(KestrelFrameSource) source = kestrel_frame_source_open (registry, "synthetic:fail", &error);
    guint ok = 0, failed = 0;
    KestrelFrameStatus status;
    g_assert_no_error (error);
    while ((status = kestrel_frame_source_next_frame (source, &frame, NULL, &error)) != KESTREL_FRAME_END)
      {
        if (status == KESTREL_FRAME_ERROR)
          {
            g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT);
            g_clear_error (&error);
            failed++;
          }
        else
          ok++;
      }
    g_assert_cmpuint (ok, ==, 2);
    g_assert_cmpuint (failed, ==, 2);
  }

  /* Cancelled. */
  {
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();
    g_autoptr(KestrelFrameSource) source = kestrel_frame_source_open (registry, "synthetic:2x2x5", &error);
    g_cancellable_cancel (cancellable);
    g_assert_cmpint (kestrel_frame_source_next_frame (source, &frame, cancellable, &error), ==,
                     KESTREL_FRAME_ERROR);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&error);
  }

  g_assert_null (kestrel_frame_source_open (registry, "synthetic:banana", &error));
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "bad size 'banana'"));
  g_clear_error (&error);
  g_assert_null (kestrel_frame_source_open (registry, "/dev/video0", &error));
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/plugins/load/blazeface", test_load_blazeface);
  g_test_add_func ("/plugins/load/refuse-broken", test_refuse_broken);
  g_test_add_func ("/plugins/load/refuse-not-modules", test_refuse_not_modules);
  g_test_add_func ("/plugins/load/dir", test_load_dir);
  g_test_add_func ("/plugins/load/search-path", test_search_path);
  g_test_add_func ("/plugins/task-decoder/match-models", test_match_models);
  g_test_add_func ("/plugins/task-decoder/decode-views", test_decode_views);
  g_test_add_func ("/plugins/frame-source", test_frame_source);
  return g_test_run ();
}
