/* test-pipeline.c — KestrelEngine with real sources, models and threads:
 * frames flow, reconfigurations while they flow, a faulty kernel caught by
 * the canary, bad sources, safe mode, and the Prometheus endpoint. No
 * timing is asserted: waits are bounded only to fail instead of hanging. */
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>

#include "kestrel-engine.h"
#include "kestrel-error.h"
#include "kestrel-model.h"
#include "../test-missing.h"
#include "engine-test-util.h"

typedef struct {
  KestrelEngine *engine;
  guint64 frames;
} FramesAbove;

static gboolean
frames_above (gpointer data)
{
  FramesAbove *f = data;
  return frames_processed (f->engine) > f->frames;
}

/* The metrics count the rollback (kestrel_rollbacks_total). */
static gboolean
rollback_counted (gpointer data)
{
  g_autoptr(KestrelMetricsSnapshot) snap = kestrel_engine_get_snapshot (data);
  return snap->rollbacks == 1;
}

static char *
photo_dir (void)
{
  static const char *const photos[] = { "astronaut.png", "camera.png", "coffee.png" };
  g_autofree char *dir = g_dir_make_tmp ("kestrel-photos-XXXXXX", NULL);

  g_assert_nonnull (dir);
  for (gsize i = 0; i < G_N_ELEMENTS (photos); i++)
    {
      g_autofree char *src = g_build_filename ("/usr/lib/python3/dist-packages/skimage/data", photos[i], NULL);
      g_autofree char *dst = g_build_filename (dir, photos[i], NULL);
      g_autofree char *data = NULL;
      gsize len;
      if (!g_file_get_contents (src, &data, &len, NULL))
        return NULL;
      g_assert_true (g_file_set_contents (dst, data, len, NULL));
    }
  return g_steal_pointer (&dir);
}

static void
remove_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

static KestrelEngine *
start_engine (const char *source, const char *model, kk_level level, guint canary, Events *events)
{
  KestrelEngineConfig config;
  g_autoptr(GError) error = NULL;
  KestrelEngine *engine;

  kestrel_engine_config_init (&config);
  g_free (config.source);
  config.source = g_strdup (source);
  g_free (config.model);
  config.model = g_strdup (model);
  config.level = level;
  config.canary_interval = canary;
  engine = kestrel_engine_new (&config);
  kestrel_engine_config_clear (&config);
  g_signal_connect (engine, "event", G_CALLBACK (on_event), events);
  g_assert_true (kestrel_engine_start (engine, NULL, &error));
  g_assert_no_error (error);
  return engine;
}

static void
test_frames_flow (void)
{
  Events *events = events_new ();
  g_autoptr(KestrelEngine) engine = start_engine ("synthetic:", "front", KK_LEVEL_FULL, 0, events);
  FramesAbove f = { engine, 20 };

  g_assert_true (wait_until (frames_above, &f));
  kestrel_engine_pause (engine);
  g_assert_cmpint (kestrel_engine_get_state (engine), ==, KESTREL_ENGINE_PAUSED);
  kestrel_engine_resume (engine);
  f.frames = frames_processed (engine) + 5;
  g_assert_true (wait_until (frames_above, &f));
  kestrel_engine_stop (engine);
  g_assert_cmpuint (kestrel_engine_get_pool_outstanding (engine), ==, 0);
  g_assert_null (events_find_text (events, KESTREL_ENGINE_EVENT_SOURCE_ERROR, NULL));
  events_free (events);
}

static gboolean
preview_ready (gpointer data)
{
  g_autoptr(KestrelPreviewFrame) preview = kestrel_engine_get_preview (data);
  return preview != NULL;
}

/* A preview copy is made only when asked for, and it is the photograph the
 * detections were found in: astronaut.png, pixel for pixel. */
static void
test_preview (void)
{
  g_autofree char *dir = photo_dir ();
  g_autofree char *source = NULL, *path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(KestrelPreviewFrame) preview = NULL;
  Events *events;
  KestrelEngine *engine;
  FramesAbove f;

  if (dir == NULL)
    {
      test_missing ("python3-skimage", "scikit-image's sample photos");
      return;
    }
  path = g_build_filename (dir, "astronaut.png", NULL);
  source = g_strconcat ("images:", path, NULL);
  events = events_new ();
  engine = start_engine (source, "front", KK_LEVEL_FULL, 0, events);
  f = (FramesAbove) { engine, 5 };
  g_assert_true (wait_until (frames_above, &f));
  g_assert_null (kestrel_engine_get_preview (engine));

  kestrel_engine_set_preview_interval (engine, 1);
  g_assert_true (wait_until (preview_ready, engine));
  preview = kestrel_engine_get_preview (engine);
  kestrel_engine_stop (engine);

  pixbuf = gdk_pixbuf_new_from_file (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (preview->width, ==, (guint) gdk_pixbuf_get_width (pixbuf));
  g_assert_cmpuint (preview->height, ==, (guint) gdk_pixbuf_get_height (pixbuf));
  g_assert_cmpuint (preview->format, ==, gdk_pixbuf_get_has_alpha (pixbuf) ? KK_PIXEL_RGBA8 : KK_PIXEL_RGB8);
  g_assert_cmpuint (kestrel_detections_get_n (preview->detections), >=, 1);
  for (guint y = 0; y < preview->height; y++)
    {
      const guint8 *a = (const guint8 *) g_bytes_get_data (preview->pixels, NULL) + y * preview->stride;
      const guint8 *b = gdk_pixbuf_read_pixels (pixbuf) + y * (gsize) gdk_pixbuf_get_rowstride (pixbuf);
      g_assert_cmpmem (a, preview->stride, b, preview->stride);
    }
  g_assert_cmpuint (kestrel_engine_get_pool_outstanding (engine), ==, 0);
  g_object_unref (engine);
  events_free (events);
  remove_dir (dir);
}

/* 1000 reconfigurations while frames flow: threads 1<->2, levels
 * full<->scalar, model front<->back. */
static void
test_reconfigure_while_running (void)
{
  g_autofree char *dir = photo_dir ();
  g_autofree char *source = NULL;
  Events *events;
  g_autoptr(KestrelEngine) engine = NULL;
  guint64 last_frames = 0;

  if (dir == NULL)
    {
      test_missing ("python3-skimage", "scikit-image's sample photos");
      return;
    }
  events = events_new ();
  source = g_strconcat ("images:", dir, NULL);
  engine = start_engine (source, "front", KK_LEVEL_FULL, 0, events);

  for (guint i = 1; i <= 1000; i++)
    {
      KestrelEngineConfig config;
      Applied a = { engine, i };

      kestrel_engine_get_config (engine, &config);
      config.threads = 1 + i % 2;
      config.level = i % 3 == 0 ? KK_LEVEL_SCALAR : KK_LEVEL_FULL;
      if (i % 50 == 0)
        {
          g_free (config.model);
          config.model = g_strdup (i % 100 == 0 ? "front" : "back");
        }
      kestrel_engine_reconfigure (engine, &config);
      kestrel_engine_config_clear (&config);
      g_assert_true (wait_until (reconfigurations_applied, &a));
      if (i % 100 == 0)
        {
          FramesAbove f = { engine, frames_processed (engine) };
          g_assert_true (wait_until (frames_above, &f));
          g_assert_cmpuint (frames_processed (engine), >, last_frames);
          last_frames = frames_processed (engine);
        }
    }
  kestrel_engine_stop (engine);

  g_autoptr(KestrelMetricsSnapshot) snap = kestrel_engine_get_snapshot (engine);
  g_test_message ("%" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT " dropped over 1000 reconfigurations",
                  snap->frames_processed, snap->frames_dropped);
  g_assert_cmpuint (snap->frames_dropped, ==, 0);
  g_assert_cmpuint (snap->faces_seen, >, 0);
  g_assert_cmpuint (kestrel_engine_get_pool_outstanding (engine), ==, 0);
  g_assert_null (events_find_text (events, KESTREL_ENGINE_EVENT_CONFIG_ERROR, NULL));
  events_free (events);
  remove_dir (dir);
}

typedef struct {
  Events *events;
  KestrelEngineEventKind kind;
} EventSeen;

static gboolean
event_seen (gpointer data);

/* Runs a folder of photos once (loop=0) at `batch` and returns the totals
 * and the last frame's detections. */
static void
run_folder_once (const char *dir, guint batch, guint64 *frames, guint64 *faces, KestrelDetections **last)
{
  g_autofree char *source = g_strdup_printf ("images:%s?loop=0", dir);
  Events *events = events_new ();
  EventSeen seen = { events, KESTREL_ENGINE_EVENT_INFO };
  KestrelEngineConfig config;
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelEngine) engine = NULL;

  kestrel_engine_config_init (&config);
  g_free (config.source);
  config.source = g_strdup (source);
  config.batch = batch;
  config.batch_wait_ms = 1000; /* the last, partial batch runs at the source's end */
  engine = kestrel_engine_new (&config);
  kestrel_engine_config_clear (&config);
  g_signal_connect (engine, "event", G_CALLBACK (on_event), events);
  g_assert_true (kestrel_engine_start (engine, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (kestrel_engine_get_batch_size (engine), ==, batch);
  g_assert_true (wait_until (event_seen, &seen)); /* "no more frames" */
  kestrel_engine_stop (engine);

  g_autoptr(KestrelMetricsSnapshot) snap = kestrel_engine_get_snapshot (engine);
  *frames = snap->frames_processed;
  *faces = snap->faces_seen;
  *last = kestrel_engine_get_last_detections (engine);
  g_assert_cmpuint (snap->frames_dropped, ==, 0);
  g_assert_cmpuint (kestrel_engine_get_pool_outstanding (engine), ==, 0);
  g_assert_null (events_find_text (events, KESTREL_ENGINE_EVENT_CONFIG_ERROR, NULL));
  events_free (events);
}

/* The engine at batch 4 finds the faces batch 1 finds, on six photos (a
 * full batch and a partial one of 2, run as a chunk of 2). */
static void
test_batch_same_faces (void)
{
  static const char *const extra[] = {
    "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg",
    "/usr/lib/python3/dist-packages/skimage/data/chelsea.png",
    "/usr/lib/python3/dist-packages/skimage/data/rocket.jpg",
  };
  g_autofree char *dir = photo_dir ();
  guint64 frames1, faces1, frames4, faces4;
  g_autoptr(KestrelDetections) last1 = NULL;
  g_autoptr(KestrelDetections) last4 = NULL;

  if (dir == NULL)
    {
      test_missing ("python3-skimage", "scikit-image's sample photos");
      return;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (extra); i++)
    {
      g_autofree char *data = NULL;
      g_autofree char *base = g_path_get_basename (extra[i]);
      g_autofree char *dst = g_build_filename (dir, base, NULL);
      gsize len;
      if (!g_file_get_contents (extra[i], &data, &len, NULL))
        {
          test_missing (test_package_for_path (extra[i]), extra[i]);
          remove_dir (dir);
          return;
        }
      g_assert_true (g_file_set_contents (dst, data, len, NULL));
    }

  run_folder_once (dir, 1, &frames1, &faces1, &last1);
  run_folder_once (dir, 4, &frames4, &faces4, &last4);
  g_test_message ("batch 1: %" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT " faces; batch 4: %"
                  G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT " faces", frames1, faces1, frames4, faces4);
  g_assert_cmpuint (frames1, ==, 6);
  g_assert_cmpuint (frames4, ==, 6);
  g_assert_cmpuint (faces1, >=, 2);
  g_assert_cmpuint (faces4, ==, faces1);
  g_assert_nonnull (last1);
  g_assert_nonnull (last4);
  g_assert_cmpuint (kestrel_detections_get_n (last4), ==, kestrel_detections_get_n (last1));
  for (guint i = 0; i < kestrel_detections_get_n (last1); i++)
    {
      const KestrelDetection *a = kestrel_detections_get (last1, i), *b = kestrel_detections_get (last4, i);
      g_assert_cmpfloat (kestrel_detection_iou (a, b), >, 0.999);
    }
  remove_dir (dir);
}

/* Batch 1 <-> 4 (and threads 1 <-> 2) while frames flow: every frame taken
 * from the source is processed (none is lost in a batch when the plans
 * change), nothing leaks, and an impossible batch is refused. */
static void
test_batch_reconfigure (void)
{
  g_autofree char *dir = photo_dir ();
  g_autofree char *source = NULL;
  Events *events;
  g_autoptr(KestrelEngine) engine = NULL;

  if (dir == NULL)
    {
      test_missing ("python3-skimage", "scikit-image's sample photos");
      return;
    }
  events = events_new ();
  source = g_strconcat ("images:", dir, NULL);
  engine = start_engine (source, "front", KK_LEVEL_FULL, 7, events);

  for (guint i = 1; i <= 60; i++)
    {
      KestrelEngineConfig config;
      Applied a = { engine, i };

      kestrel_engine_get_config (engine, &config);
      config.batch = i % 2 ? 4 : 1;
      config.threads = 1 + (i / 2) % 2;
      config.batch_latency_ms = i % 10 == 5 ? 200 : 0;
      kestrel_engine_reconfigure (engine, &config);
      kestrel_engine_config_clear (&config);
      g_assert_true (wait_until (reconfigurations_applied, &a));
      if (i % 10 == 0)
        {
          FramesAbove f = { engine, frames_processed (engine) + 4 };
          g_assert_true (wait_until (frames_above, &f));
        }
    }

  /* Out of range: refused, the running configuration stays. */
  {
    KestrelEngineConfig config;
    EventSeen seen = { events, KESTREL_ENGINE_EVENT_CONFIG_ERROR };
    kestrel_engine_get_config (engine, &config);
    config.batch = KESTREL_ENGINE_MAX_BATCH + 1;
    kestrel_engine_reconfigure (engine, &config);
    kestrel_engine_config_clear (&config);
    g_assert_true (wait_until (event_seen, &seen));
    g_assert_nonnull (strstr (events_find_text (events, KESTREL_ENGINE_EVENT_CONFIG_ERROR, NULL), "batch 17"));
    FramesAbove f = { engine, frames_processed (engine) + 4 };
    g_assert_true (wait_until (frames_above, &f));
  }
  kestrel_engine_stop (engine);

  g_autoptr(KestrelMetricsSnapshot) snap = kestrel_engine_get_snapshot (engine);
  guint64 captured = kestrel_histogram_get_count (snap->stage_latency[KESTREL_STAGE_CAPTURE]);
  guint64 inferred = kestrel_histogram_get_count (snap->stage_latency[KESTREL_STAGE_INFERENCE]);
  g_test_message ("%" G_GUINT64_FORMAT " frames captured, %" G_GUINT64_FORMAT " inferred, %"
                  G_GUINT64_FORMAT " processed, %" G_GUINT64_FORMAT " dropped", captured, inferred,
                  snap->frames_processed, snap->frames_dropped);
  g_assert_cmpuint (snap->frames_dropped, ==, 0);
  g_assert_cmpuint (captured, ==, snap->frames_processed);
  g_assert_cmpuint (inferred, ==, snap->frames_processed);
  g_assert_cmpuint (kestrel_histogram_get_count (snap->frame_latency), ==, snap->frames_processed);
  g_assert_cmpuint (snap->faces_seen, >, 0);
  g_assert_cmpuint (kestrel_engine_get_pool_outstanding (engine), ==, 0);
  g_assert_null (events_find_text (events, KESTREL_ENGINE_EVENT_ROLLBACK, NULL));
  events_free (events);
  remove_dir (dir);
}

static gboolean
event_seen (gpointer data)
{
  EventSeen *e = data;
  return events_find_text (e->events, e->kind, NULL) != NULL;
}

static void
test_canary_rolls_back (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = kestrel_model_new_from_file (g_getenv ("KESTREL_FRONT_MODEL"), &error);
  const KestrelGraph *graph;
  const char *victim = NULL;
  Events *events = events_new ();
  KestrelEngineConfig config;
  g_autoptr(KestrelEngine) engine = NULL;
  EventSeen seen = { events, KESTREL_ENGINE_EVENT_ROLLBACK };

  g_assert_no_error (error);
  graph = kestrel_model_get_graph (model);
  /* A depthwise convolution in the middle of the network. */
  for (guint n = graph->nodes->len / 2; n < graph->nodes->len && victim == NULL; n++)
    if (strcmp (kestrel_graph_node (graph, n)->op_type, "Conv") == 0)
      victim = kestrel_graph_node (graph, n)->name;
  g_assert_nonnull (victim);

  kestrel_engine_config_init (&config);
  config.canary_interval = 5;
  engine = kestrel_engine_new (&config);
  kestrel_engine_config_clear (&config);
  g_signal_connect (engine, "event", G_CALLBACK (on_event), events);
  kestrel_engine_inject_fault_for_testing (engine, victim);
  g_assert_true (kestrel_engine_start (engine, NULL, &error));

  g_assert_true (wait_until (event_seen, &seen));
  g_assert_nonnull (strstr (events_find_text (events, KESTREL_ENGINE_EVENT_ROLLBACK, NULL), victim));
  g_assert_true (wait_until (rollback_counted, engine));
  kestrel_engine_get_config (engine, &config);
  g_assert_cmpint (config.level, ==, KK_LEVEL_SCALAR);
  kestrel_engine_config_clear (&config);

  FramesAbove f = { engine, frames_processed (engine) + 10 };
  g_assert_true (wait_until (frames_above, &f));
  kestrel_engine_stop (engine);
  events_free (events);
}

static void
test_bad_sources (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = photo_dir ();
  g_autofree char *source = NULL;
  g_autofree char *corrupt = NULL;
  KestrelEngineConfig config;
  Events *events = events_new ();
  EventSeen seen = { events, KESTREL_ENGINE_EVENT_SOURCE_ERROR };

  /* A missing folder: start fails and says why. */
  kestrel_engine_config_init (&config);
  g_free (config.source);
  config.source = g_strdup ("images:/nonexistent/kestrel/photos");
  {
    g_autoptr(KestrelEngine) engine = kestrel_engine_new (&config);
    g_assert_false (kestrel_engine_start (engine, NULL, &error));
    g_assert_nonnull (error);
    g_test_message ("missing folder: %s", error->message);
    g_clear_error (&error);
  }
  kestrel_engine_config_clear (&config);

  if (dir == NULL)
    {
      test_missing ("python3-skimage", "scikit-image's sample photos");
      events_free (events);
      return;
    }
  /* A corrupt image among good ones: an event, and frames go on. */
  corrupt = g_build_filename (dir, "broken.png", NULL);
  g_assert_true (g_file_set_contents (corrupt, "\x89PNG\r\n\x1a\n garbage", 17, NULL));
  source = g_strconcat ("images:", dir, NULL);
  g_autoptr(KestrelEngine) engine = start_engine (source, "front", KK_LEVEL_FULL, 0, events);
  g_assert_true (wait_until (event_seen, &seen));
  g_assert_nonnull (strstr (events_find_text (events, KESTREL_ENGINE_EVENT_SOURCE_ERROR, NULL), "broken.png"));
  FramesAbove f = { engine, frames_processed (engine) + 5 };
  g_assert_true (wait_until (frames_above, &f));

  /* Switching to a source that does not exist keeps the old one. */
  kestrel_engine_get_config (engine, &config);
  g_free (config.source);
  config.source = g_strdup ("file:/nonexistent/video.avi");
  kestrel_engine_reconfigure (engine, &config);
  kestrel_engine_config_clear (&config);
  seen.kind = KESTREL_ENGINE_EVENT_CONFIG_ERROR;
  g_assert_true (wait_until (event_seen, &seen));
  f.frames = frames_processed (engine) + 5;
  g_assert_true (wait_until (frames_above, &f));
  kestrel_engine_stop (engine);
  events_free (events);
  remove_dir (dir);
}

static void
test_safe_mode (void)
{
  g_autofree char *dir = g_dir_make_tmp ("kestrel-state-XXXXXX", NULL);
  g_autofree char *state = g_build_filename (dir, "running", NULL);
  Events *events = events_new ();
  EventSeen seen = { events, KESTREL_ENGINE_EVENT_SAFE_MODE };
  g_autoptr(GError) error = NULL;
  KestrelEngineConfig config;

  /* As if the last run had crashed. */
  g_assert_true (g_file_set_contents (state, "pid 1\n", -1, NULL));
  g_autoptr(KestrelEngine) engine = kestrel_engine_new (NULL);
  g_signal_connect (engine, "event", G_CALLBACK (on_event), events);
  g_assert_true (kestrel_engine_start (engine, state, &error));
  g_assert_true (wait_until (event_seen, &seen));
  kestrel_engine_get_config (engine, &config);
  g_assert_cmpint (config.level, ==, KK_LEVEL_SCALAR);
  kestrel_engine_config_clear (&config);
  kestrel_engine_stop (engine);
  g_assert_false (g_file_test (state, G_FILE_TEST_EXISTS));
  g_rmdir (dir);
  events_free (events);
}

/* A state file that cannot be written fails the start (it was silently
 * not written, so a crash could not be noticed at the next start). */
static void
test_state_file_unwritable (void)
{
  g_autofree char *dir = g_dir_make_tmp ("kestrel-state-XXXXXX", NULL);
  g_autofree char *file = g_build_filename (dir, "a-file", NULL);
  g_autofree char *state = g_build_filename (file, "running", NULL);
  g_autoptr(GError) error = NULL;

  /* Under a regular file: no folder can be made there, not even by root. */
  g_assert_true (g_file_set_contents (file, "", -1, NULL));
  g_autoptr(KestrelEngine) engine = kestrel_engine_new (NULL);
  g_assert_false (kestrel_engine_start (engine, state, &error));
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, state));
  g_unlink (file);
  g_rmdir (dir);
}

static void
test_metrics_endpoint (void)
{
  Events *events = events_new ();
  g_autoptr(KestrelEngine) engine = start_engine ("synthetic:", "front", KK_LEVEL_SIMD, 0, events);
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  FramesAbove f = { engine, 10 };

  g_assert_true (kestrel_engine_serve_metrics (engine, "127.0.0.1:0", KESTREL_PROMETHEUS_NONE, &url, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (url, "http://127.0.0.1:"));
  g_assert_true (wait_until (frames_above, &f));
  g_usleep (300 * 1000); /* one publish interval, so the snapshot has frames */

  g_autoptr(SoupSession) session = soup_session_new_with_options ("proxy-resolver", NULL,
                                                                  "timeout", 20, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GBytes) body = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
  g_autofree char *text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  g_assert_nonnull (strstr (text, "kestrel_frames_processed_total"));
  g_assert_nonnull (strstr (text, "kestrel_stage_latency_seconds_bucket{stage=\"inference\""));
  g_assert_nonnull (strstr (text, "level=\"simd\""));
  kestrel_engine_stop (engine);
  events_free (events);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  main_thread = g_thread_self ();
  g_test_add_func ("/pipeline/frames-flow", test_frames_flow);
  g_test_add_func ("/pipeline/bad-sources", test_bad_sources);
  g_test_add_func ("/pipeline/preview", test_preview);
  g_test_add_func ("/pipeline/canary-rolls-back", test_canary_rolls_back);
  g_test_add_func ("/pipeline/safe-mode", test_safe_mode);
  g_test_add_func ("/pipeline/state-file-unwritable", test_state_file_unwritable);
  g_test_add_func ("/pipeline/metrics-endpoint", test_metrics_endpoint);
  g_test_add_func ("/pipeline/reconfigure-while-running", test_reconfigure_while_running);
  g_test_add_func ("/pipeline/batch/same-faces", test_batch_same_faces);
  g_test_add_func ("/pipeline/batch/reconfigure", test_batch_reconfigure);
  return g_test_run ();
}
