/* test-sources-still.c — the "sources" plugin: images (folders, globs,
 * single files, corrupt files, looping) and the synthetic pattern, plus the
 * option syntax they share. Frames must all go back to the pool.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "kestrel-error.h"
#include "sources-test-util.h"

static KestrelPluginRegistry *registry;
static KestrelPool *pool;

/* ---- A folder of photos ------------------------------------------------- */

typedef struct {
  const char *name;      /* in the folder */
  const char *source;    /* file in skimage's data, or NULL for a broken copy */
  guint width, height;
  kk_pixel_format format;
} TestImage;

/* In name order. b-broken.png is the first half of astronaut.png. */
static const TestImage folder_images[] = {
  { "a-astronaut.png", "astronaut.png", 512, 512, KK_PIXEL_RGB8 },
  { "b-broken.png", NULL, 0, 0, 0 },
  { "c-camera.png", "camera.png", 512, 512, KK_PIXEL_RGB8 },     /* gray: decoded as RGB */
  { "d-horse.png", "horse.png", 400, 328, KK_PIXEL_RGBA8 },
  { "e-rocket.jpg", "rocket.jpg", 640, 427, KK_PIXEL_RGB8 },
};

static void
copy_file (const char *from, const char *to, gssize length)
{
  g_autofree char *contents = NULL;
  gsize size = 0;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_get_contents (from, &contents, &size, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (to, contents, length >= 0 ? length : (gssize) size, &error));
  g_assert_no_error (error);
}

static void
skimage_copy (const char *file, const char *folder, const char *name, gssize length)
{
  g_autofree char *from = g_build_filename (SKIMAGE_DATA, file, NULL);
  g_autofree char *to = g_build_filename (folder, name, NULL);
  copy_file (from, to, length);
}

static gboolean
have_skimage (void)
{
  g_autofree char *path = g_build_filename (SKIMAGE_DATA, "astronaut.png", NULL);
  return test_have_path (path);
}

/* The folder above, plus things that must be left out: a text file, a
 * hidden image, a subfolder with an image. */
static char *
make_photo_folder (void)
{
  g_autofree char *folder = g_dir_make_tmp ("kestrel-images-XXXXXX", NULL);
  g_autofree char *sub = g_build_filename (folder, "sub", NULL);
  g_autofree char *notes = g_build_filename (folder, "notes.txt", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (folder_images); i++)
    if (folder_images[i].source != NULL)
      skimage_copy (folder_images[i].source, folder, folder_images[i].name, -1);
  skimage_copy ("astronaut.png", folder, "b-broken.png", 791555 / 2);
  skimage_copy ("camera.png", folder, ".hidden.png", -1);
  g_assert_cmpint (g_mkdir (sub, 0700), ==, 0);
  skimage_copy ("camera.png", sub, "f-inside.png", -1);
  g_assert_true (g_file_set_contents (notes, "not an image", -1, NULL));
  return g_steal_pointer (&folder);
}

static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          remove_tree (child);
        }
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

static KestrelFrameSource *
open_ok (const char *spec)
{
  g_autoptr(GError) error = NULL;
  KestrelFrameSource *source = kestrel_frame_source_open (registry, spec, &error);

  g_assert_no_error (error);
  g_assert_nonnull (source);
  return source;
}

/* Opening fails, with a message holding each of `parts`. */
static void
open_fails (const char *spec, const char *const *parts)
{
  g_autoptr(GError) error = NULL;
  KestrelFrameSource *source = kestrel_frame_source_open (registry, spec, &error);

  g_assert_null (source);
  g_assert_nonnull (error);
  /* The spec may hold a file name that is not UTF-8; meson's TAP reader
   * rejects such bytes, so show it made valid. */
  g_autofree char *shown = g_utf8_make_valid (spec, -1);
  g_test_message ("%s -> %s", shown, error->message);
  for (guint i = 0; parts[i] != NULL; i++)
    g_assert_nonnull (strstr (error->message, parts[i]));
}

static void
expect_image (KestrelFrameSource *source, const TestImage *image)
{
  g_autoptr(GError) error = NULL;
  KestrelFrame frame;
  KestrelFrameStatus status = kestrel_frame_source_next_frame (source, &frame, NULL, &error);

  if (image->source == NULL)
    {
      g_assert_cmpint (status, ==, KESTREL_FRAME_ERROR);
      g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, image->name));
      return;
    }
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, KESTREL_FRAME_OK);
  g_assert_cmpstr (frame.name, ==, image->name);
  g_assert_cmpuint (frame.image.width, ==, image->width);
  g_assert_cmpuint (frame.image.height, ==, image->height);
  g_assert_cmpint (frame.image.format, ==, image->format);
  g_assert_cmpuint (frame.image.stride, >=, image->width * kk_pixel_format_channels (image->format));
  g_assert_cmpint (frame.pts_us, ==, -1);
  /* Lent from the pool: the one frame is all that is out. */
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
test_images_folder (void)
{
  if (!have_skimage ())
    return;

  g_autofree char *folder = make_photo_folder ();
  g_autofree char *spec = g_strconcat ("images:", folder, NULL);
  KestrelFrameSource *source = open_ok (spec);

  g_assert_cmpstr (kestrel_frame_source_get_vtable (source)->name, ==, "images");
  /* Three passes: the rest come, in name order, and the folder is read
   * again at the end of each pass; the broken file fails in the first pass
   * only (it is named once), and is skipped after that. */
  for (guint pass = 0; pass < 3; pass++)
    for (guint i = 0; i < G_N_ELEMENTS (folder_images); i++)
      if (pass == 0 || folder_images[i].source != NULL)
        expect_image (source, &folder_images[i]);
  /* Once it changes (repaired, or copied in at last) it is tried again. */
  skimage_copy ("astronaut.png", folder, "b-broken.png", -1);
  expect_image (source, &folder_images[0]);
  {
    const TestImage repaired = { "b-broken.png", "astronaut.png", 512, 512, KK_PIXEL_RGB8 };
    expect_image (source, &repaired);
  }
  kestrel_frame_source_close (source);
  test_assert_no_outstanding (pool);
  skimage_copy ("astronaut.png", folder, "b-broken.png", 791555 / 2);

  /* loop=0: one pass, then END for good. */
  g_autofree char *once = g_strconcat ("images:", folder, "?loop=0", NULL);
  source = open_ok (once);
  for (guint i = 0; i < G_N_ELEMENTS (folder_images); i++)
    expect_image (source, &folder_images[i]);
  expect_end (source);
  expect_end (source);
  kestrel_frame_source_close (source);
  test_assert_no_outstanding (pool);

  /* Closing with a frame still lent gives it back. */
  source = open_ok (spec);
  expect_image (source, &folder_images[0]);
  kestrel_frame_source_close (source);
  test_assert_no_outstanding (pool);

  /* A folder without a "images:" prefix is for this source too. */
  source = open_ok (folder);
  g_assert_cmpstr (kestrel_frame_source_get_vtable (source)->name, ==, "images");
  kestrel_frame_source_close (source);

  remove_tree (folder);
}

/* hold=SECONDS: the same decoded image again and again until its time is
 * up, then the next. Only the order is asserted, never how many repeats a
 * slow machine fits in. */
static void
test_images_hold (void)
{
  if (!have_skimage ())
    return;

  g_autofree char *folder = make_photo_folder ();
  g_autofree char *spec = g_strconcat ("images:", folder, "?hold=0.2&loop=0", NULL);
  KestrelFrameSource *source = open_ok (spec);
  const TestImage *wanted = &folder_images[0];
  guint repeats = 0;
  KestrelFrame frame;
  g_autoptr(GError) error = NULL;

  /* The first image comes back at least twice within its hold (two calls
   * in a row take far less than 0.2 s), as the very same pixels. */
  g_assert_cmpint (kestrel_frame_source_next_frame (source, &frame, NULL, &error), ==, KESTREL_FRAME_OK);
  const guint8 *first = frame.image.data;
  g_assert_cmpuint (frame.image.width, ==, wanted->width);
  gint64 start = g_get_monotonic_time ();
  for (;;)
    {
      KestrelFrameStatus status = kestrel_frame_source_next_frame (source, &frame, NULL, &error);
      if (status == KESTREL_FRAME_ERROR)
        break;  /* b-broken.png: the hold is over */
      g_assert_cmpint (status, ==, KESTREL_FRAME_OK);
      g_assert_true (frame.image.data == first);
      g_assert_cmpstr (frame.name, ==, wanted->name);
      repeats++;
    }
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 150000);  /* the hold, not a timing of Kestrel */
  g_assert_cmpuint (repeats, >=, 1);
  g_clear_error (&error);
  /* Then the next good image, held in its turn. */
  g_assert_cmpint (kestrel_frame_source_next_frame (source, &frame, NULL, &error), ==, KESTREL_FRAME_OK);
  g_assert_cmpstr (frame.name, ==, folder_images[2].name);
  kestrel_frame_source_close (source);
  test_assert_no_outstanding (pool);

  /* repeat=0: each image once. While its hold lasts the source has nothing
   * new (AGAIN, with the time to ask again: the caller waits, not the
   * source); then the next one comes (the broken file in between is an
   * error, named). */
  g_autofree char *once = g_strconcat ("images:", folder, "?hold=0.2&repeat=0&loop=0", NULL);
  source = open_ok (once);
  g_assert_cmpint (kestrel_frame_source_next_frame (source, &frame, NULL, &error), ==, KESTREL_FRAME_OK);
  g_assert_cmpstr (frame.name, ==, folder_images[0].name);
  start = g_get_monotonic_time ();
  g_assert_cmpint (kestrel_frame_source_next_frame (source, &frame, NULL, &error), ==, KESTREL_FRAME_AGAIN);
  g_assert_no_error (error);
  g_assert_cmpint (frame.pts_us, >, start);
  g_assert_cmpint (frame.pts_us, <=, start + 200000);
  g_usleep (frame.pts_us - g_get_monotonic_time () + 1000);
  g_assert_cmpint (kestrel_frame_source_next_frame (source, &frame, NULL, &error), ==, KESTREL_FRAME_ERROR);
  g_assert_nonnull (strstr (error->message, folder_images[1].name));
  g_clear_error (&error);
  g_assert_cmpint (kestrel_frame_source_next_frame (source, &frame, NULL, &error), ==, KESTREL_FRAME_OK);
  g_assert_cmpstr (frame.name, ==, folder_images[2].name);
  g_assert_cmpint (kestrel_frame_source_next_frame (source, &frame, NULL, &error), ==, KESTREL_FRAME_AGAIN);
  kestrel_frame_source_close (source);
  test_assert_no_outstanding (pool);

  g_autofree char *bad = g_strconcat ("images:", folder, "?hold=soon", NULL);
  g_assert_null (kestrel_frame_source_open (registry, bad, &error));
  g_assert_nonnull (strstr (error->message, "hold=soon"));
  remove_tree (folder);
}

/* Images added while the source runs come in at the next pass; a folder
 * emptied while it runs ends it after an error. */
static void
test_images_rescan (void)
{
  if (!have_skimage ())
    return;

  g_autofree char *folder = g_dir_make_tmp ("kestrel-images-XXXXXX", NULL);
  g_autofree char *spec = g_strconcat ("images:", folder, NULL);
  g_autofree char *first = g_build_filename (folder, "a-astronaut.png", NULL);
  g_autofree char *second = g_build_filename (folder, "c-camera.png", NULL);
  g_autoptr(GError) error = NULL;
  KestrelFrame frame;

  skimage_copy ("astronaut.png", folder, "a-astronaut.png", -1);
  KestrelFrameSource *source = open_ok (spec);
  expect_image (source, &folder_images[0]);
  skimage_copy ("camera.png", folder, "c-camera.png", -1);
  expect_image (source, &folder_images[0]);
  expect_image (source, &folder_images[2]);

  g_unlink (first);
  g_unlink (second);
  g_assert_cmpint (kestrel_frame_source_next_frame (source, &frame, NULL, &error), ==, KESTREL_FRAME_ERROR);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "no longer has image files"));
  g_clear_error (&error);
  expect_end (source);
  kestrel_frame_source_close (source);
  test_assert_no_outstanding (pool);
  remove_tree (folder);
}

/* A file that vanishes between the listing and its turn is an error
 * naming it; the rest still come. */
static void
test_images_vanished (void)
{
  if (!have_skimage ())
    return;

  g_autofree char *folder = make_photo_folder ();
  g_autofree char *spec = g_strconcat ("images:", folder, "?loop=0", NULL);
  g_autofree char *camera = g_build_filename (folder, "c-camera.png", NULL);
  g_autoptr(GError) error = NULL;
  KestrelFrame frame;

  KestrelFrameSource *source = open_ok (spec);
  g_unlink (camera);
  expect_image (source, &folder_images[0]);
  expect_image (source, &folder_images[1]);
  g_assert_cmpint (kestrel_frame_source_next_frame (source, &frame, NULL, &error), ==, KESTREL_FRAME_ERROR);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "c-camera.png"));
  expect_image (source, &folder_images[3]);
  expect_image (source, &folder_images[4]);
  expect_end (source);
  kestrel_frame_source_close (source);
  test_assert_no_outstanding (pool);
  remove_tree (folder);
}

static void
test_images_glob (void)
{
  if (!have_skimage ())
    return;

  g_autofree char *folder = make_photo_folder ();
  g_autofree char *star = g_strconcat ("images:", folder, "/*.png?loop=0", NULL);
  /* '?' as a wildcard and as the start of the options. */
  g_autofree char *question = g_strconcat ("images:", folder, "/?-*.jpg?loop=0", NULL);
  g_autofree char *unprefixed = g_strconcat (folder, "/*.jpg?loop=0", NULL);
  g_autofree char *brackets = g_strconcat ("images:", folder, "/[a-c]*.png", NULL);
  g_autofree char *none = g_strconcat ("images:", folder, "/*.gif", NULL);
  g_autofree char *no_folder = g_strconcat ("images:", folder, "/nowhere/*.png", NULL);

  KestrelFrameSource *source = open_ok (star);
  for (guint i = 0; i < 4; i++)
    expect_image (source, &folder_images[i]);
  expect_end (source);
  kestrel_frame_source_close (source);

  source = open_ok (question);
  expect_image (source, &folder_images[4]);
  expect_end (source);
  kestrel_frame_source_close (source);

  /* Without "images:" a glob is for this source too. */
  source = open_ok (unprefixed);
  g_assert_cmpstr (kestrel_frame_source_get_vtable (source)->name, ==, "images");
  expect_image (source, &folder_images[4]);
  expect_end (source);
  kestrel_frame_source_close (source);
  test_assert_no_outstanding (pool);

  /* GPatternSpec has no brackets: '[' is taken literally. */
  open_fails (brackets, (const char *const[]) { "no image files match", NULL });
  open_fails (none, (const char *const[]) { "no image files match", "*.gif", NULL });
  open_fails (no_folder, (const char *const[]) { "no such folder", "nowhere", NULL });

  /* GLib's globs are UTF-8: a pattern that is not is an error (it aborted
   * in g_pattern_spec_new; tests/fuzz found it), and a file name that is
   * not (Latin-1 "caf\xe9") is matched as shown, not an abort in
   * g_utf8_strreverse. */
  g_autofree char *latin1 = g_strconcat ("images:", folder, "/\xe9*.png", NULL);
  open_fails (latin1, (const char *const[]) { "a file name pattern must be valid UTF-8", NULL });
  skimage_copy ("camera.png", folder, "z-caf\xe9.png", -1);
  g_autofree char *tail = g_strconcat ("images:", folder, "/z-*.png?loop=0", NULL);
  source = open_ok (tail);
  KestrelFrame frame;
  g_autoptr(GError) error = NULL;
  g_assert_cmpint (kestrel_frame_source_next_frame (source, &frame, NULL, &error), ==, KESTREL_FRAME_OK);
  g_assert_no_error (error);
  g_assert_cmpuint (frame.image.width, ==, 512);
  expect_end (source);
  kestrel_frame_source_close (source);
  test_assert_no_outstanding (pool);

  remove_tree (folder);
}

/* Files sort as a file manager shows them: frame2 before frame10. */
static void
test_images_natural_order (void)
{
  if (!have_skimage ())
    return;

  g_autofree char *folder = g_dir_make_tmp ("kestrel-images-XXXXXX", NULL);
  g_autofree char *spec = g_strconcat ("images:", folder, "?loop=0", NULL);
  static const TestImage order[] = {
    { "frame1.png", "camera.png", 512, 512, KK_PIXEL_RGB8 },
    { "frame2.PNG", "chelsea.png", 451, 300, KK_PIXEL_RGB8 },
    { "frame10.png", "coffee.png", 600, 400, KK_PIXEL_RGB8 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    skimage_copy (order[i].source, folder, order[i].name, -1);
  KestrelFrameSource *source = open_ok (spec);
  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    expect_image (source, &order[i]);
  expect_end (source);
  kestrel_frame_source_close (source);
  test_assert_no_outstanding (pool);
  remove_tree (folder);
}

static void
test_images_single_file (void)
{
  if (!have_skimage ())
    return;

  g_autofree char *folder = make_photo_folder ();
  g_autofree char *path = g_build_filename (folder, "a-astronaut.png", NULL);
  g_autofree char *spec = g_strconcat ("images:", path, NULL);
  g_autofree char *once = g_strconcat (path, "?loop=0", NULL);
  g_autofree char *broken = g_strconcat ("images:", folder, "/b-broken.png", NULL);
  KestrelFrame frame;
  const guint8 *first = NULL;

  /* Decoded once and lent again each time. */
  KestrelFrameSource *source = open_ok (spec);
  for (guint i = 0; i < 4; i++)
    {
      g_autoptr(GError) error = NULL;
      g_assert_cmpint (kestrel_frame_source_next_frame (source, &frame, NULL, &error), ==, KESTREL_FRAME_OK);
      g_assert_no_error (error);
      g_assert_cmpuint (frame.index, ==, i);
      g_assert_cmpstr (frame.name, ==, "a-astronaut.png");
      if (first == NULL)
        first = frame.image.data;
      g_assert_true (frame.image.data == first);
    }
  kestrel_frame_source_close (source);
  test_assert_no_outstanding (pool);

  /* Unprefixed, an image file is for this source; loop=0: one frame. */
  source = open_ok (once);
  g_assert_cmpstr (kestrel_frame_source_get_vtable (source)->name, ==, "images");
  expect_image (source, &folder_images[0]);
  expect_end (source);
  kestrel_frame_source_close (source);
  test_assert_no_outstanding (pool);

  /* A broken single file fails at open, naming it. */
  open_fails (broken, (const char *const[]) { "b-broken.png", "truncated", NULL });
  test_assert_no_outstanding (pool);
  remove_tree (folder);
}

static void
test_images_open_errors (void)
{
  g_autofree char *empty = g_dir_make_tmp ("kestrel-images-XXXXXX", NULL);
  g_autofree char *notes = g_build_filename (empty, "notes.txt", NULL);
  g_autofree char *empty_spec = g_strconcat ("images:", empty, NULL);
  g_autofree char *unknown = g_strconcat ("images:", empty, "?lop=0", NULL);
  g_autofree char *bad_value = g_strconcat ("images:", empty, "?loop=maybe", NULL);
  g_autofree char *twice = g_strconcat ("images:", empty, "?loop=0&loop=1", NULL);

  open_fails ("images:/nonexistent/kestrel/photos",
              (const char *const[]) { "no such file or folder", "/nonexistent/kestrel/photos", NULL });
  open_fails ("images:", (const char *const[]) { "no file, folder or glob given", NULL });
  open_fails (empty_spec, (const char *const[]) { "has no image files", empty, NULL });
  g_assert_true (g_file_set_contents (notes, "not an image", -1, NULL));
  open_fails (empty_spec, (const char *const[]) { "has no image files", NULL });
  open_fails (unknown, (const char *const[]) { "unknown option 'lop'", "loop", NULL });
  open_fails (bad_value, (const char *const[]) { "loop=maybe", "expected 1 or 0", NULL });
  open_fails (twice, (const char *const[]) { "'loop' given twice", NULL });
  /* No source takes a path that does not exist. */
  open_fails ("/nonexistent/kestrel/photos", (const char *const[]) { "/nonexistent/kestrel/photos: no such file or folder", NULL });
  test_assert_no_outstanding (pool);
  remove_tree (empty);
}

static void
test_images_cancelled (void)
{
  if (!have_skimage ())
    return;

  g_autofree char *folder = make_photo_folder ();
  g_autofree char *spec = g_strconcat ("images:", folder, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  KestrelFrame frame;

  KestrelFrameSource *source = open_ok (spec);
  g_cancellable_cancel (cancellable);
  g_assert_cmpint (kestrel_frame_source_next_frame (source, &frame, cancellable, &error), ==,
                   KESTREL_FRAME_ERROR);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* Cancelling one call does not end the source. */
  expect_image (source, &folder_images[0]);
  kestrel_frame_source_close (source);
  test_assert_no_outstanding (pool);
  remove_tree (folder);
}

/* ---- The synthetic pattern ------------------------------------------------ */

/* The pattern as synthetic.c documents it, computed independently. */
static void
expected_rgb (guint w, guint h, guint64 p, guint x, guint y, guint8 rgb[3])
{
  guint side = MAX (2, MIN (w, h) / 6);
  guint rx = w - side, ry = h - side;
  guint64 ux = rx > 0 ? (7 * p) % (2 * rx) : 0, uy = ry > 0 ? (5 * p) % (2 * ry) : 0;
  guint left = (guint) (ux <= rx ? ux : 2 * rx - ux);
  guint top = (guint) (uy <= ry ? uy : 2 * ry - uy);

  if (x >= left && x < left + side && y >= top && y < top + side)
    {
      rgb[0] = rgb[1] = rgb[2] = 255;
      return;
    }
  rgb[0] = (guint8) (w > 1 ? x * 255 / (w - 1) : 0);
  rgb[1] = (guint8) (h > 1 ? y * 255 / (h - 1) : 0);
  rgb[2] = 96;
}

static void
check_synthetic (const KestrelFrame *frame, guint w, guint h, guint64 p)
{
  const kk_image_view *v = &frame->image;
  gsize bpp = kk_pixel_format_channels (v->format);

  g_assert_cmpuint (v->width, ==, w);
  g_assert_cmpuint (v->height, ==, h);
  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++)
      {
        const guint8 *px = v->data + y * v->stride + x * bpp;
        guint8 rgb[3];

        expected_rgb (w, h, p, x, y, rgb);
        switch (v->format)
          {
          case KK_PIXEL_RGB8:
            g_assert_true (px[0] == rgb[0] && px[1] == rgb[1] && px[2] == rgb[2]);
            break;
          case KK_PIXEL_BGRX8:
            g_assert_true (px[0] == rgb[2] && px[1] == rgb[1] && px[2] == rgb[0] && px[3] == 255);
            break;
          case KK_PIXEL_GRAY8:
            g_assert_cmpuint (px[0], ==, (77u * rgb[0] + 150u * rgb[1] + 29u * rgb[2] + 128u) >> 8);
            break;
          default:
            g_assert_not_reached ();
          }
      }
}

static void
test_synthetic (void)
{
  static const struct {
    const char *spec;
    kk_pixel_format format;
  } cases[] = {
    { "synthetic:?width=64&height=48&frames=10&loop=0", KK_PIXEL_RGB8 },
    { "synthetic:?width=64&height=48&frames=10&loop=0&format=bgrx", KK_PIXEL_BGRX8 },
    { "synthetic:?width=64&height=48&frames=10&loop=0&format=gray", KK_PIXEL_GRAY8 },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      KestrelFrameSource *source = open_ok (cases[c].spec);
      KestrelFrame frame;

      for (guint i = 0; i < 10; i++)
        {
          g_autoptr(GError) error = NULL;
          g_assert_cmpint (kestrel_frame_source_next_frame (source, &frame, NULL, &error), ==, KESTREL_FRAME_OK);
          g_assert_cmpint (frame.image.format, ==, cases[c].format);
          g_assert_cmpint (frame.pts_us, ==, (gint64) i * G_USEC_PER_SEC / 30);
          g_assert_null (frame.name);
          check_synthetic (&frame, 64, 48, i);
        }
      expect_end (source);
      kestrel_frame_source_close (source);
      test_assert_no_outstanding (pool);
    }
}

/* Two sources agree frame for frame; a looping one repeats its N frames;
 * after the first frame nothing new is taken from the pool. */
static void
test_synthetic_deterministic (void)
{
  KestrelFrameSource *a = open_ok ("synthetic:?frames=7&fps=25");
  KestrelFrameSource *b = open_ok ("synthetic:?frames=7&fps=25");
  g_autoptr(GPtrArray) copies = g_ptr_array_new_with_free_func (g_free);
  kk_image_view views[7];
  guint64 misses = 0;

  for (guint i = 0; i < 20; i++)
    {
      g_autoptr(GError) error = NULL;
      KestrelFrame fa, fb;

      g_assert_cmpint (kestrel_frame_source_next_frame (a, &fa, NULL, &error), ==, KESTREL_FRAME_OK);
      g_assert_cmpuint (fa.image.width, ==, 640);
      g_assert_cmpuint (fa.image.height, ==, 480);
      g_assert_cmpint (fa.pts_us, ==, (gint64) i * 40000);
      if (i < 7)
        g_ptr_array_add (copies, test_copy_frame (&fa.image, &views[i]));
      else
        g_assert_true (test_views_equal (&fa.image, &views[i % 7]));
      if (i == 1)
        check_synthetic (&fa, 640, 480, 1);

      g_assert_cmpint (kestrel_frame_source_next_frame (b, &fb, NULL, &error), ==, KESTREL_FRAME_OK);
      g_assert_true (test_views_equal (&fa.image, &fb.image));
      g_assert_cmpuint (test_buffers_in_use (pool), ==, 2);

      if (i == 1)
        misses = test_pool_misses (pool);
      else if (i > 1)
        g_assert_cmpuint (test_pool_misses (pool), ==, misses);
    }
  /* Consecutive frames differ (the square moves). */
  g_assert_false (test_views_equal (&views[0], &views[1]));

  kestrel_frame_source_close (a);
  kestrel_frame_source_close (b);
  test_assert_no_outstanding (pool);
}

static void
test_synthetic_errors (void)
{
  open_fails ("synthetic:?width=0", (const char *const[]) { "width=0", "1 to 8192", NULL });
  open_fails ("synthetic:?format=yuv", (const char *const[]) { "format=yuv", "rgb, rgba", NULL });
  open_fails ("synthetic:?colour=red", (const char *const[]) { "unknown option 'colour'", "width", NULL });
  open_fails ("synthetic:width=64", (const char *const[]) { "options only", NULL });
  open_fails ("nosuchsource:x", (const char *const[]) { "unknown source 'nosuchsource:x'", "images:", "synthetic:", NULL });
}

static void
test_plugin_info (void)
{
  const KestrelPluginInfo *info = kestrel_plugin_registry_get_plugin (registry, 0);

  g_assert_cmpstr (info->name, ==, "sources");
  g_assert_cmpuint (info->n_task_decoders, ==, 0);
  g_assert_cmpuint (info->n_frame_sources, ==, 2);
  g_assert_cmpstr (info->frame_sources[0]->name, ==, "images");
  g_assert_cmpstr (info->frame_sources[1]->name, ==, "synthetic");
  g_assert_true (kestrel_plugin_registry_find_frame_source (registry, "synthetic") == info->frame_sources[1]);
}

/* A scan of the build tree's plugins/ finds both modules, as an
 * uninstalled program's default registry does. */
static void
test_plugin_scan (void)
{
  g_autoptr(KestrelPluginRegistry) scanned = kestrel_plugin_registry_new ();

  kestrel_plugin_registry_load_dir (scanned, TEST_PLUGIN_BUILDDIR, TRUE);
  g_assert_nonnull (kestrel_plugin_registry_find_frame_source (scanned, "images"));
  g_assert_nonnull (kestrel_plugin_registry_find_frame_source (scanned, "synthetic"));
#ifdef TEST_HAVE_GSTREAMER
  g_assert_nonnull (kestrel_plugin_registry_find_frame_source (scanned, "file"));
  g_assert_nonnull (kestrel_plugin_registry_find_frame_source (scanned, "videotest"));
  g_assert_nonnull (kestrel_plugin_registry_find_frame_source (scanned, "camera"));
#endif
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  registry = test_sources_registry ("sources." G_MODULE_SUFFIX);
  pool = test_sources_pool (registry, "sources");

  g_test_add_func ("/sources/plugin-info", test_plugin_info);
  g_test_add_func ("/sources/images/hold", test_images_hold);
  g_test_add_func ("/sources/plugin-scan", test_plugin_scan);
  g_test_add_func ("/sources/images/folder", test_images_folder);
  g_test_add_func ("/sources/images/rescan", test_images_rescan);
  g_test_add_func ("/sources/images/vanished", test_images_vanished);
  g_test_add_func ("/sources/images/glob", test_images_glob);
  g_test_add_func ("/sources/images/natural-order", test_images_natural_order);
  g_test_add_func ("/sources/images/single-file", test_images_single_file);
  g_test_add_func ("/sources/images/open-errors", test_images_open_errors);
  g_test_add_func ("/sources/images/cancelled", test_images_cancelled);
  g_test_add_func ("/sources/synthetic/pattern", test_synthetic);
  g_test_add_func ("/sources/synthetic/deterministic", test_synthetic_deterministic);
  g_test_add_func ("/sources/synthetic/errors", test_synthetic_errors);

  int status = g_test_run ();
  g_object_unref (registry);
  return status;
}
