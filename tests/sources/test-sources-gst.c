/* test-sources-gst.c — the "sources-gst" plugin: video files (opencv-doc's
 * vtest.avi), GStreamer's test pattern (as a file-like and as a live
 * source), and cameras (there are none here: only the failures are
 * tested). Frames must all go back to the pool.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "kestrel-error.h"
#include "sources-test-util.h"

#define VTEST OPENCV_DATA "/vtest.avi"

static KestrelPluginRegistry *registry;
static KestrelPool *pool;

static KestrelFrameSource *
open_ok (const char *spec)
{
  g_autoptr(GError) error = NULL;
  KestrelFrameSource *source = kestrel_frame_source_open (registry, spec, &error);

  g_assert_no_error (error);
  g_assert_nonnull (source);
  return source;
}

static void
open_fails (const char *spec, const char *const *parts)
{
  g_autoptr(GError) error = NULL;
  KestrelFrameSource *source = kestrel_frame_source_open (registry, spec, &error);

  g_assert_null (source);
  g_assert_nonnull (error);
  g_test_message ("%s -> %s", spec, error->message);
  for (guint i = 0; parts[i] != NULL; i++)
    g_assert_nonnull (strstr (error->message, parts[i]));
}

static void
next_ok (KestrelFrameSource *source, KestrelFrame *frame)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (kestrel_frame_source_next_frame (source, frame, NULL, &error), ==, KESTREL_FRAME_OK);
  g_assert_no_error (error);
  /* The frame is the one buffer out of the pool. */
  g_assert_cmpuint (test_buffers_in_use (pool), ==, 1);
}

static void
expect_end (KestrelFrameSource *source)
{
  g_autoptr(GError) error = NULL;
  KestrelFrame frame;

  g_assert_cmpint (kestrel_frame_source_next_frame (source, &frame, NULL, &error), ==, KESTREL_FRAME_END);
  g_assert_no_error (error);
}

static void
test_plugin_info (void)
{
  const KestrelPluginInfo *info = kestrel_plugin_registry_get_plugin (registry, 0);

  g_assert_cmpstr (info->name, ==, "sources-gst");
  g_assert_cmpuint (info->n_frame_sources, ==, 3);
  g_assert_cmpstr (info->frame_sources[0]->name, ==, "file");
  g_assert_cmpstr (info->frame_sources[1]->name, ==, "videotest");
  g_assert_cmpstr (info->frame_sources[2]->name, ==, "camera");
}

/* ---- videotest ------------------------------------------------------------ */

static void
test_videotest (void)
{
  KestrelFrameSource *source = open_ok ("videotest:ball?width=160&height=120&frames=5&loop=0&format=bgrx");
  KestrelFrame frame;

  g_assert_cmpstr (kestrel_frame_source_get_vtable (source)->name, ==, "videotest");
  for (guint i = 0; i < 5; i++)
    {
      next_ok (source, &frame);
      g_assert_cmpuint (frame.index, ==, i);
      g_assert_cmpuint (frame.image.width, ==, 160);
      g_assert_cmpuint (frame.image.height, ==, 120);
      g_assert_cmpint (frame.image.format, ==, KK_PIXEL_BGRX8);
      g_assert_cmpuint (frame.image.stride, >=, 160 * 4);
      /* GStreamer's timestamps: i seconds / 30, in nanoseconds, then µs. */
      g_assert_cmpint (frame.pts_us, ==, (gint64) (i * G_GUINT64_CONSTANT (1000000000) / 30 / 1000));
    }
  expect_end (source);
  expect_end (source);
  kestrel_frame_source_close (source);
  test_assert_no_outstanding (pool);

  /* Closing with a frame lent and decoded frames queued. */
  source = open_ok ("videotest:smpte?width=32&height=32&format=gray");
  next_ok (source, &frame);
  g_assert_cmpint (frame.image.format, ==, KK_PIXEL_GRAY8);
  kestrel_frame_source_close (source);
  test_assert_no_outstanding (pool);
}

/* frames=3 loops by seeking back: the pattern repeats, pts go on rising,
 * and after warming up no frame takes new memory from the pool. */
static void
test_videotest_loop (void)
{
  KestrelFrameSource *source = open_ok ("videotest:?width=64&height=48&frames=3&format=rgb");
  g_autoptr(GPtrArray) copies = g_ptr_array_new_with_free_func (g_free);
  kk_image_view first[3];
  gint64 last_pts = -1;
  guint64 misses = 0;
  KestrelFrame frame;

  for (guint i = 0; i < 12; i++)
    {
      next_ok (source, &frame);
      g_assert_cmpint (frame.image.format, ==, KK_PIXEL_RGB8);
      g_assert_cmpint (frame.pts_us, >, last_pts);
      last_pts = frame.pts_us;
      if (i < 3)
        g_ptr_array_add (copies, test_copy_frame (&frame.image, &first[i]));
      else
        g_assert_true (test_views_equal (&frame.image, &first[i % 3]));
      if (i == 3)
        {
          /* The second pass starts where the first one ended. */
          g_assert_cmpint (frame.pts_us, ==, 100000);
          misses = test_pool_misses (pool);
        }
      else if (i > 3)
        g_assert_cmpuint (test_pool_misses (pool), ==, misses);
    }
  /* The ball moves. */
  g_assert_false (test_views_equal (&first[0], &first[1]));
  kestrel_frame_source_close (source);
  test_assert_no_outstanding (pool);
}

static gpointer
cancel_thread (gpointer data)
{
  g_cancellable_cancel (data);
  return NULL;
}

/* live=1 takes the camera's path: frames at the source's pace, the
 * caller blocks; a cancellation from another thread gets it out. */
static void
test_videotest_live (void)
{
  KestrelFrameSource *source = open_ok ("videotest:?live=1&fps=1&width=32&height=24");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  KestrelFrameStatus status;
  KestrelFrame frame;

  next_ok (source, &frame);
  g_assert_cmpint (frame.pts_us, ==, 0);

  /* Whether the cancellation lands before or during the wait for the
   * next frame (a second away), the call must end CANCELLED; a frame that
   * beat it (a very slow machine) is fine too. */
  GThread *thread = g_thread_new ("cancel", cancel_thread, cancellable);
  while ((status = kestrel_frame_source_next_frame (source, &frame, cancellable, &error)) == KESTREL_FRAME_OK)
    ;
  g_thread_join (thread);
  g_assert_cmpint (status, ==, KESTREL_FRAME_ERROR);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  kestrel_frame_source_close (source);
  test_assert_no_outstanding (pool);

  /* A live source with frames=N ends after N (it cannot loop). */
  source = open_ok ("videotest:?live=1&fps=100&frames=3&width=16&height=16");
  for (guint i = 0; i < 3; i++)
    next_ok (source, &frame);
  expect_end (source);
  kestrel_frame_source_close (source);
  test_assert_no_outstanding (pool);
}

static void
test_videotest_cancelled (void)
{
  KestrelFrameSource *source = open_ok ("videotest:?width=32&height=32");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  KestrelFrame frame;

  next_ok (source, &frame);
  g_cancellable_cancel (cancellable);
  /* A frame may be queued already; a cancelled call still gives none. */
  g_assert_cmpint (kestrel_frame_source_next_frame (source, &frame, cancellable, &error), ==, KESTREL_FRAME_ERROR);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* The next call, not cancelled, goes on. */
  next_ok (source, &frame);
  kestrel_frame_source_close (source);
  test_assert_no_outstanding (pool);
}

static void
test_videotest_errors (void)
{
  open_fails ("videotest:nosuch", (const char *const[]) { "no test pattern 'nosuch'", "ball", "smpte", NULL });
  open_fails ("videotest:ball?pattern=snow", (const char *const[]) { "pattern is given twice", NULL });
  open_fails ("videotest:?fps=0", (const char *const[]) { "fps=0", NULL });
  open_fails ("videotest:?speed=2", (const char *const[]) { "unknown option 'speed'", "frames", NULL });
  test_assert_no_outstanding (pool);
}

/* ---- file ----------------------------------------------------------------- */

static void
test_file (void)
{
  if (!test_have_path (VTEST))
    return;

  /* end=2: a pass is the first 20 frames (10 per second), then it loops.
   * 45 frames: two loops. */
  KestrelFrameSource *source = open_ok ("file:" VTEST "?end=2");
  g_autofree guint8 *copy = NULL;
  kk_image_view first = { 0 };
  gint64 last_pts = -1;
  guint64 misses = 0;
  KestrelFrame frame;

  g_assert_cmpstr (kestrel_frame_source_get_vtable (source)->name, ==, "file");
  for (guint i = 0; i < 45; i++)
    {
      next_ok (source, &frame);
      g_assert_cmpuint (frame.index, ==, i);
      g_assert_cmpuint (frame.image.width, ==, 768);
      g_assert_cmpuint (frame.image.height, ==, 576);
      g_assert_cmpint (frame.image.format, ==, KK_PIXEL_RGB8);
      g_assert_cmpstr (frame.name, ==, "vtest.avi");
      g_assert_cmpint (frame.pts_us, >, last_pts);
      g_assert_cmpint (frame.pts_us, ==, (gint64) i * 100000);
      last_pts = frame.pts_us;

      if (i == 0)
        copy = test_copy_frame (&frame.image, &first);
      else if (i % 20 == 0)
        g_assert_true (test_views_equal (&frame.image, &first));
      else if (i == 1)
        g_assert_false (test_views_equal (&frame.image, &first));

      if (i == 2)
        misses = test_pool_misses (pool);
      else if (i > 2)
        g_assert_cmpuint (test_pool_misses (pool), ==, misses);
    }
  kestrel_frame_source_close (source);
  test_assert_no_outstanding (pool);
}

static void
test_file_once (void)
{
  if (!test_have_path (VTEST))
    return;

  /* A part in the middle, once: pts from 0. Unprefixed, a video file is
   * for this source; width= scales, keeping the aspect ratio. */
  KestrelFrameSource *source = open_ok (VTEST "?start=3&end=4&loop=0&width=384&format=rgba");
  KestrelFrame frame;

  g_assert_cmpstr (kestrel_frame_source_get_vtable (source)->name, ==, "file");
  for (guint i = 0; i < 10; i++)
    {
      next_ok (source, &frame);
      g_assert_cmpuint (frame.image.width, ==, 384);
      g_assert_cmpuint (frame.image.height, ==, 288);
      g_assert_cmpint (frame.image.format, ==, KK_PIXEL_RGBA8);
      g_assert_cmpint (frame.pts_us, ==, (gint64) i * 100000);
    }
  expect_end (source);
  kestrel_frame_source_close (source);
  test_assert_no_outstanding (pool);

  /* The real end of the video (795 frames), once. */
  source = open_ok ("file:" VTEST "?start=78&loop=0");
  guint n = 0;
  g_autoptr(GError) error = NULL;
  KestrelFrameStatus status;
  while ((status = kestrel_frame_source_next_frame (source, &frame, NULL, &error)) == KESTREL_FRAME_OK)
    g_assert_cmpuint (++n, <=, 20);
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, KESTREL_FRAME_END);
  g_assert_cmpuint (n, ==, 15);
  kestrel_frame_source_close (source);
  test_assert_no_outstanding (pool);
}

static void
test_file_errors (void)
{
  g_autofree char *folder = g_dir_make_tmp ("kestrel-video-XXXXXX", NULL);
  g_autofree char *garbage = g_build_filename (folder, "garbage.avi", NULL);
  g_autofree char *garbage_spec = g_strconcat ("file:", garbage, NULL);
  g_autofree char *folder_spec = g_strconcat ("file:", folder, NULL);

  open_fails ("file:/nonexistent/kestrel/video.avi",
              (const char *const[]) { "no such file", "/nonexistent/kestrel/video.avi", NULL });
  open_fails ("file:", (const char *const[]) { "no video file given", NULL });
  open_fails (folder_spec, (const char *const[]) { "is a folder", NULL });
  /* A device would be read forever (issue 10, defect 6). */
  open_fails ("file:/dev/zero", (const char *const[]) { "/dev/zero is a device, not a video file", NULL });

  /* Not a video: GStreamer's message, naming the file. */
  g_assert_true (g_file_set_contents (garbage, "RIFF but not really an AVI, just some text", -1, NULL));
  open_fails (garbage_spec, (const char *const[]) { "garbage.avi", NULL });

  if (test_have_path (VTEST))
    {
      open_fails ("file:" VTEST "?start=2&end=1", (const char *const[]) { "end=1 is not after start=2", NULL });
      open_fails ("file:" VTEST "?end=soon", (const char *const[]) { "end=soon", "seconds", NULL });
    }
  test_assert_no_outstanding (pool);

  g_unlink (garbage);
  g_rmdir (folder);
}

/* ---- camera --------------------------------------------------------------- */

static gboolean
have_video_device (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/dev", 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "video"))
      return TRUE;
  return FALSE;
}

static void
test_camera_missing (void)
{
  open_fails ("camera:/dev/video99", (const char *const[]) { "no camera found at /dev/video99", NULL });
  open_fails ("camera:?fps=30", (const char *const[]) { "unknown option 'fps'", NULL });
  /* Unprefixed, a V4L2 device path is for the camera source. */
  open_fails ("/dev/video99", (const char *const[]) { "cannot open the camera source", NULL });

  if (have_video_device ())
    {
      g_test_skip ("this machine has a /dev/video* device: cannot check the no-camera case");
      return;
    }
  /* In the user's words: no internal spec, no "cannot open ''". */
  open_fails ("camera:", (const char *const[]) { "cannot open the camera source: no camera found", NULL });
  test_assert_no_outstanding (pool);
}

static void
test_camera_frames (void)
{
  /* The camera's own path (live pipeline, newest frame kept, blocking
   * next_frame, cancellation) is the one videotest:?live=1 takes above. */
  g_test_skip ("no camera on the test machines; the live path is tested with videotest:?live=1");
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  registry = test_sources_registry ("sources-gst." G_MODULE_SUFFIX);
  pool = test_sources_pool (registry, "sources-gst");

  g_test_add_func ("/sources-gst/plugin-info", test_plugin_info);
  g_test_add_func ("/sources-gst/videotest/frames", test_videotest);
  g_test_add_func ("/sources-gst/videotest/loop", test_videotest_loop);
  g_test_add_func ("/sources-gst/videotest/live", test_videotest_live);
  g_test_add_func ("/sources-gst/videotest/cancelled", test_videotest_cancelled);
  g_test_add_func ("/sources-gst/videotest/errors", test_videotest_errors);
  g_test_add_func ("/sources-gst/file/loop", test_file);
  g_test_add_func ("/sources-gst/file/once", test_file_once);
  g_test_add_func ("/sources-gst/file/errors", test_file_errors);
  g_test_add_func ("/sources-gst/camera/missing", test_camera_missing);
  g_test_add_func ("/sources-gst/camera/frames", test_camera_frames);

  int status = g_test_run ();
  g_object_unref (registry);
  return status;
}
