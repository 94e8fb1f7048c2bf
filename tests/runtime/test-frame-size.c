/* test-frame-size.c — models whose picture input leaves its size free,
 * planned by the engine at the frames' size (core/runtime/
 * kestrel-frame-size.h) without any input shape in the configuration:
 * BodyPix (tests/models, input 1 x H x W x 3) and the PaddleOCR v4 text
 * detector (tests/models/node_modules, input ? x 3 x H x W, installed by
 * scripts/install-deps.sh --test) run over a folder of the bundled photos
 * of different sizes, in an order that checks the rebuild rule:
 *
 *   A A A A B A B A B R R R G G
 *   A astronaut 512x512, B coffee 600x400, R rocket 640x427,
 *   G grace_hopper 512x600
 *
 * The plans made before the first frame (for 640x480) are replaced at
 * the first frame (A); B never comes three times in a row, so it runs on
 * A's plans, resized; R does, so plans are built at its size; G comes
 * twice only. Exactly two builds for the frames' size, every frame
 * processed, none dropped, the final input size the rule's for R, and the
 * frame pool back whole. No timing is asserted: the builds finish when
 * they do, frames meanwhile run on the plans in force.
 */
#include <glib/gstdio.h>

#include "kestrel-engine.h"
#include "kestrel-frame-size.h"

/* A hang guard, not a timing: the OCR detector on a loaded machine takes
 * seconds a frame. */
#define WAIT_LIMIT_US (900 * G_USEC_PER_SEC)
#include "engine-test-util.h"

/* The rule on its own: cap at 640 keeping the aspect, round up. */
static void
test_rule (void)
{
  KestrelFrameSizedInput free_hw = { (char *) "x", FALSE, -1, -1, 1 };
  KestrelFrameSizedInput text_line = { (char *) "x", FALSE, 48, -1, 1 };
  static const struct {
    gboolean text_line;
    guint frame_w, frame_h, multiple, w, h;
  } cases[] = {
    { FALSE, 600, 400, 1, 600, 400 },
    { FALSE, 600, 400, 32, 608, 416 },
    { FALSE, 640, 427, 32, 640, 448 },
    { FALSE, 1920, 1080, 1, 640, 360 },    /* a 1080p camera */
    { FALSE, 1080, 1920, 32, 384, 640 },
    { FALSE, 4000, 100, 128, 640, 128 },   /* 640 is a multiple of every multiple tried */
    { TRUE, 640, 427, 1, 72, 48 },         /* height fixed at 48: the width follows the aspect */
    { TRUE, 640, 427, 32, 96, 48 },
    { TRUE, 4000, 10, 1, 640, 48 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint w, h;
      kestrel_frame_size_fit (cases[i].text_line ? &text_line : &free_hw, cases[i].frame_w, cases[i].frame_h,
                              cases[i].multiple, &w, &h);
      g_test_message ("%ux%u at %u: %ux%u", cases[i].frame_w, cases[i].frame_h, cases[i].multiple, w, h);
      g_assert_cmpuint (w, ==, cases[i].w);
      g_assert_cmpuint (h, ==, cases[i].h);
    }

  /* As input shapes: a fixed side stays the model's. */
  g_autofree char *spec = kestrel_frame_sized_input_spec (&free_hw, 608, 416);
  g_assert_cmpstr (spec, ==, "x=1x3x416x608");
  g_autofree char *line = kestrel_frame_sized_input_spec (&text_line, 96, 640);
  g_assert_cmpstr (line, ==, "x=1x3x48x96");
}

static const char *const sequence[] = {
  "astronaut.png", "astronaut.png", "astronaut.png", "astronaut.png",
  "coffee.png", "astronaut.png", "coffee.png", "astronaut.png", "coffee.png",
  "rocket.jpg", "rocket.jpg", "rocket.jpg",
  "grace_hopper.jpg", "grace_hopper.jpg",
};

/* A folder whose name order is `sequence`: links to the bundled photos. */
static char *
sequence_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("kestrel-frame-size-XXXXXX", &error);
  const char *samples = g_getenv ("KESTREL_SAMPLES_DIR");

  g_assert_no_error (error);
  g_assert_nonnull (samples);
  for (guint i = 0; i < G_N_ELEMENTS (sequence); i++)
    {
      g_autofree char *target = g_build_filename (samples, sequence[i], NULL);
      g_autofree char *name = g_strdup_printf ("%02u-%s", i, sequence[i]);
      g_autofree char *link = g_build_filename (dir, name, NULL);
      g_assert_true (g_file_test (target, G_FILE_TEST_IS_REGULAR));
      g_assert_cmpint (symlink (target, link), ==, 0);
    }
  return dir;
}

static void
remove_dir (const char *dir)
{
  for (guint i = 0; i < G_N_ELEMENTS (sequence); i++)
    {
      g_autofree char *name = g_strdup_printf ("%02u-%s", i, sequence[i]);
      g_autofree char *link = g_build_filename (dir, name, NULL);
      g_unlink (link);
    }
  g_rmdir (dir);
}

typedef struct {
  KestrelEngine *engine;
  Events *events;
  guint width, height;
} Done;

/* The source has ended, every frame is accounted for and the plans in
 * force have the expected input size. */
static gboolean
all_done (gpointer data)
{
  Done *d = data;
  g_autoptr(KestrelMetricsSnapshot) snap = kestrel_engine_get_snapshot (d->engine);
  guint w, h;

  kestrel_engine_get_input_size (d->engine, &w, &h);
  return events_find_text (d->events, KESTREL_ENGINE_EVENT_INFO, "has no more frames") != NULL
         && snap->frames_processed + snap->frames_dropped >= G_N_ELEMENTS (sequence)
         && w == d->width && h == d->height;
}

/* An engine on `dir` (once through) with `model` at `input_shapes`. */
static KestrelEngine *
start_engine (const char *dir, const char *model, const char *input_shapes, Events *events)
{
  KestrelEngineConfig config;
  g_autoptr(GError) error = NULL;
  KestrelEngine *engine;

  kestrel_engine_config_init (&config);
  g_free (config.source);
  config.source = g_strdup_printf ("images:%s?loop=0", dir);
  g_free (config.model);
  config.model = g_strdup (model);
  config.threads = 2;
  if (input_shapes != NULL)
    config.input_shapes = g_strsplit (input_shapes, ",", -1);
  engine = kestrel_engine_new (&config);
  kestrel_engine_config_clear (&config);
  g_signal_connect (engine, "event", G_CALLBACK (on_event), events);
  g_assert_true (kestrel_engine_start (engine, NULL, &error));
  g_assert_no_error (error);
  return engine;
}

static void
run_sequence (const char *model, guint want_width, guint want_height, const char *planned)
{
  g_autofree char *dir = sequence_dir ();
  Events *events = events_new ();
  g_autoptr(KestrelEngine) engine = start_engine (dir, model, NULL, events);
  guint w, h;

  /* Planned before the first frame, for a 640x480 one. */
  g_assert_cmpint (kestrel_engine_get_input_size (engine, &w, &h), ==, KESTREL_ENGINE_INPUT_FRAME);
  g_assert_cmpuint (w, ==, 640);
  g_assert_cmpuint (h, ==, 480);

  Done done = { engine, events, want_width, want_height };
  g_assert_true (wait_until (all_done, &done));
  g_assert_cmpint (kestrel_engine_get_input_size (engine, &w, &h), ==, KESTREL_ENGINE_INPUT_FRAME);
  g_assert_cmpuint (w, ==, want_width);
  g_assert_cmpuint (h, ==, want_height);
  kestrel_engine_stop (engine);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  g_autoptr(KestrelMetricsSnapshot) snap = kestrel_engine_get_snapshot (engine);
  g_test_message ("%" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT " dropped, %u builds for the frames' size",
                  snap->frames_processed, snap->frames_dropped, kestrel_engine_get_n_frame_size_builds (engine));
  g_assert_cmpuint (snap->frames_processed, ==, G_N_ELEMENTS (sequence));
  g_assert_cmpuint (snap->frames_dropped, ==, 0);
  g_assert_cmpuint (kestrel_histogram_get_count (snap->stage_latency[KESTREL_STAGE_INFERENCE]), ==,
                    G_N_ELEMENTS (sequence));
  g_assert_cmpuint (kestrel_engine_get_n_frame_size_builds (engine), ==, 2);
  /* The first frame's plans, then R's; never B's or G's. */
  g_assert_nonnull (events_find_text (events, KESTREL_ENGINE_EVENT_INFO, "frames are 512x512, the plans are for 640x480"));
  g_assert_nonnull (events_find_text (events, KESTREL_ENGINE_EVENT_INFO, "frames are 640x427"));
  g_assert_null (events_find_text (events, KESTREL_ENGINE_EVENT_INFO, "frames are 600x400"));
  g_assert_null (events_find_text (events, KESTREL_ENGINE_EVENT_INFO, "frames are 512x600"));
  g_assert_nonnull (events_find_text (events, KESTREL_ENGINE_EVENT_INFO, planned));
  g_assert_null (events_find_text (events, KESTREL_ENGINE_EVENT_CONFIG_ERROR, NULL));
  g_assert_null (events_find_text (events, KESTREL_ENGINE_EVENT_SOURCE_ERROR, NULL));
  g_assert_cmpuint (kestrel_engine_get_pool_outstanding (engine), ==, 0);
  events_free (events);
  remove_dir (dir);
}

/* MobileNet with padded strides: every size plans as it is. */
static void
test_bodypix (void)
{
  g_autofree char *model = g_build_filename (TEST_SOURCE_ROOT, "tests", "models", "bodypix_mbv1_050_s16.onnx", NULL);

  run_sequence (model, 640, 427, "planned at 640x427 for frames of 640x427");
}

/* DBNet's pyramid adds upsampled maps to finer ones: 640x427 does not
 * plan, 640x448 (a multiple of 32) does. */
static void
test_ocr_detector (void)
{
  g_autofree char *model = g_build_filename (TEST_SOURCE_ROOT, "tests", "models", "node_modules", "@gutenye",
                                             "ocr-models", "assets", "ch_PP-OCRv4_det_infer.onnx", NULL);

  if (!g_file_test (model, G_FILE_TEST_IS_REGULAR))
    {
      g_test_skip ("the PaddleOCR models are not installed (scripts/install-deps.sh --test runs npm ci in tests/models)");
      return;
    }
  run_sequence (model, 640, 448, "planned at 640x448 for frames of 640x427");
}

/* A size given in the configuration is kept whatever the frames. */
static void
test_given_size (void)
{
  g_autofree char *model = g_build_filename (TEST_SOURCE_ROOT, "tests", "models", "bodypix_mbv1_050_s16.onnx", NULL);
  g_autofree char *dir = sequence_dir ();
  Events *events = events_new ();
  g_autoptr(KestrelEngine) engine = start_engine (dir, model, "input=1x224x288x3", events);
  guint w, h;

  Done done = { engine, events, 288, 224 };
  g_assert_true (wait_until (all_done, &done));
  g_assert_cmpint (kestrel_engine_get_input_size (engine, &w, &h), ==, KESTREL_ENGINE_INPUT_GIVEN);
  g_assert_cmpuint (w, ==, 288);
  g_assert_cmpuint (h, ==, 224);
  kestrel_engine_stop (engine);
  g_autoptr(KestrelMetricsSnapshot) snap = kestrel_engine_get_snapshot (engine);
  g_assert_cmpuint (snap->frames_processed, ==, G_N_ELEMENTS (sequence));
  g_assert_cmpuint (kestrel_engine_get_n_frame_size_builds (engine), ==, 0);
  g_assert_cmpuint (kestrel_engine_get_pool_outstanding (engine), ==, 0);
  events_free (events);
  remove_dir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  main_thread = g_thread_self ();
  g_test_add_func ("/frame-size/rule", test_rule);
  g_test_add_func ("/frame-size/bodypix", test_bodypix);
  g_test_add_func ("/frame-size/ocr-detector", test_ocr_detector);
  g_test_add_func ("/frame-size/given-size", test_given_size);
  return g_test_run ();
}
