/* test-preview.c — KestrelPreview on real frames: a bundled sample photo
 * run through the real pipeline (KestrelEngine, the built-in BlazeFace
 * front model, the images: source), shown in a real window and rendered
 * to pixels with the window's renderer. Checks that the box is drawn where
 * the face is, in the theme's accent colour, with the photo untouched
 * inside it; that the aspect is kept in wide and tall allocations; the
 * placeholder; that showing the same frame again draws nothing; and the
 * sample folder itself. Saves preview-light.png and preview-dark.png in
 * the build folder for people to look at.
 *
 * Runs under a display (Xvfb in meson test, see run-with-display.sh). No
 * timing is asserted: waits are bounded only to fail instead of hanging.
 *
 * Why one file of more than 800 lines: one program per widget, whose tests
 * share the real pipeline run and the pixel checks; each test is one thing
 * the preview must draw.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <adwaita.h>

#include "kestrel-engine.h"
#include "kestrel-image.h"
#include "kestrel-preview.h"
#include "kestrel-samples.h"
#include "kestrel-ui.h"
#include "ui-test-util.h"

/* A tolerance for "this is the accent colour": the border is an opaque
 * colour node on whole pixels, so only rounding separates the two. */
#define COLOR_TOLERANCE 3
/* And for "these are the photo's pixels": scaled pictures are filtered. */
#define PHOTO_TOLERANCE 16

static KestrelPreviewFrame *astronaut_frame;

/* ----------------------------------------------------------- helpers */

static char *
sample_path (const char *name)
{
  return g_build_filename (kestrel_samples_get_dir (), name, NULL);
}

static void
on_event (KestrelEngine *engine, int kind, const char *message, gpointer data)
{
  g_test_message ("engine event %s: %s", kestrel_engine_event_kind_name (kind), message);
}

static gboolean
preview_ready (gpointer data)
{
  g_autoptr(KestrelPreviewFrame) frame = kestrel_engine_get_preview (data);
  return frame != NULL;
}

static gboolean
rate_known (gpointer data)
{
  g_autoptr(KestrelMetricsSnapshot) snapshot = kestrel_engine_get_snapshot (data);
  return snapshot != NULL && snapshot->fps > 0 &&
         kestrel_histogram_get_count (snapshot->frame_latency) > 0;
}

/* The photo at @path as the pipeline shows it: the engine's own preview
 * copy, with the detections the front model found in it. *fps and
 * *latency_ms get the engine's own numbers at that moment. */
static KestrelPreviewFrame *
detect (const char *path,
        double     *fps,
        double     *latency_ms)
{
  KestrelEngineConfig config;
  g_autoptr(KestrelEngine) engine = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelMetricsSnapshot) snapshot = NULL;
  KestrelPreviewFrame *frame;

  kestrel_engine_config_init (&config);
  g_free (config.source);
  config.source = g_strconcat ("images:", path, NULL);
  g_free (config.model);
  config.model = g_strdup ("front");
  engine = kestrel_engine_new (&config);
  kestrel_engine_config_clear (&config);
  g_signal_connect (engine, "event", G_CALLBACK (on_event), NULL);

  g_assert_true (kestrel_engine_start (engine, NULL, &error));
  g_assert_no_error (error);
  kestrel_engine_set_preview_interval (engine, 1);
  g_assert_true (ui_test_wait_until (preview_ready, engine));
  if (fps != NULL || latency_ms != NULL)
    g_assert_true (ui_test_wait_until (rate_known, engine));
  frame = kestrel_engine_get_preview (engine);
  snapshot = kestrel_engine_get_snapshot (engine);
  if (fps != NULL)
    *fps = snapshot->fps;
  if (latency_ms != NULL)
    *latency_ms = 1000.0 * kestrel_histogram_get_quantile (snapshot->frame_latency, 0.5);
  kestrel_engine_stop (engine);
  return frame;
}

static KestrelPreviewFrame *
get_astronaut (void)
{
  if (astronaut_frame == NULL)
    {
      g_autofree char *path = sample_path ("astronaut.png");
      astronaut_frame = detect (path, NULL, NULL);
    }
  return astronaut_frame;
}

/* A window whose only content is @preview at exactly @width x @height, and
 * beside it an empty 0x0 probe styled with the theme's accent colour, so
 * the test learns that colour from the theme rather than hard-coding it. */
typedef struct
{
  GtkWidget *window;
  GtkWidget *preview;
  GtkWidget *probe;
  int        width, height;
} Scene;

static gboolean
scene_ready (gpointer data)
{
  Scene *scene = data;

  return gtk_widget_get_mapped (scene->preview) &&
         gtk_widget_get_width (scene->preview) == scene->width &&
         gtk_widget_get_height (scene->preview) == scene->height;
}

static void
scene_open (Scene *scene,
            int    width,
            int    height)
{
  static GtkCssProvider *probe_css;
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);

  if (probe_css == NULL)
    {
      probe_css = gtk_css_provider_new ();
      gtk_css_provider_load_from_data (probe_css, ".accent-probe { color: @accent_bg_color; }", -1);
      gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                                  GTK_STYLE_PROVIDER (probe_css),
                                                  GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
    }

  scene->width = width;
  scene->height = height;
  scene->window = gtk_window_new ();
  gtk_window_set_decorated (GTK_WINDOW (scene->window), FALSE);
  gtk_window_set_default_size (GTK_WINDOW (scene->window), width, height);
  scene->preview = kestrel_preview_new ();
  gtk_widget_set_vexpand (scene->preview, TRUE);
  gtk_box_append (GTK_BOX (box), scene->preview);
  scene->probe = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_add_css_class (scene->probe, "accent-probe");
  gtk_box_append (GTK_BOX (box), scene->probe);
  gtk_window_set_child (GTK_WINDOW (scene->window), box);
  gtk_window_present (GTK_WINDOW (scene->window));
  g_assert_true (ui_test_wait_until (scene_ready, scene));
}

static void
scene_close (Scene *scene)
{
  gtk_window_destroy (GTK_WINDOW (scene->window));
  ui_test_spin (20);
}

static guint64
get_uint64 (GtkWidget  *widget,
            const char *property)
{
  guint64 value = 0;

  g_object_get (widget, property, &value, NULL);
  return value;
}

/* Pixels of a rendered widget, as gdk_texture_download() gives them:
 * 4 bytes B, G, R, A (premultiplied) on little-endian machines; the
 * photo's pixels are opaque, so premultiplication does not matter there. */
typedef struct
{
  int     width, height;
  gsize   stride;
  guint8 *data;
} Pixels;

static void
pixels_free (Pixels *p)
{
  g_free (p->data);
  g_free (p);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pixels, pixels_free)

/* Renders @widget as its window's renderer would, once a layout that is
 * pending (a child shown or hidden) has happened: until then GTK draws
 * nothing for it. */
static GdkTexture *
render_widget (GtkWidget *widget)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr(GskRenderNode) node = NULL;
  gint64 limit = g_get_monotonic_time () + UI_TEST_WAIT_MS * G_TIME_SPAN_MILLISECOND;
  int width, height;

  for (;;)
    {
      g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();

      width = gtk_widget_get_width (widget);
      height = gtk_widget_get_height (widget);
      gdk_paintable_snapshot (paintable, snapshot, width, height);
      node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
      if (node != NULL)
        break;
      g_assert_cmpint (g_get_monotonic_time (), <, limit);
      ui_test_spin (10);
    }
  return gsk_renderer_render_texture (gtk_native_get_renderer (gtk_widget_get_native (widget)), node,
                                      &GRAPHENE_RECT_INIT (0, 0, width, height));
}

static Pixels *
render (GtkWidget *widget)
{
  g_autoptr(GdkTexture) texture = render_widget (widget);
  Pixels *p = g_new0 (Pixels, 1);

  p->width = gdk_texture_get_width (texture);
  p->height = gdk_texture_get_height (texture);
  p->stride = 4 * (gsize) p->width;
  p->data = g_malloc (p->stride * p->height);
  gdk_texture_download (texture, p->data, p->stride);
  return p;
}

/* R, G, B, A of a rendered pixel. */
static void
pixel_at (const Pixels *p,
          int           x,
          int           y,
          int           rgba[4])
{
  const guint8 *px;

  g_assert_cmpint (x, >=, 0);
  g_assert_cmpint (y, >=, 0);
  g_assert_cmpint (x, <, p->width);
  g_assert_cmpint (y, <, p->height);
  px = p->data + (gsize) y * p->stride + 4 * (gsize) x;
  if (G_BYTE_ORDER == G_LITTLE_ENDIAN)
    {
      rgba[0] = px[2]; rgba[1] = px[1]; rgba[2] = px[0]; rgba[3] = px[3];
    }
  else
    {
      rgba[0] = px[1]; rgba[1] = px[2]; rgba[2] = px[3]; rgba[3] = px[0];
    }
}

static gboolean
pixel_is (const Pixels *p,
          int           x,
          int           y,
          const int     rgb[3],
          int           tolerance)
{
  int px[4];

  pixel_at (p, x, y, px);
  return px[3] == 255 &&
         ABS (px[0] - rgb[0]) <= tolerance &&
         ABS (px[1] - rgb[1]) <= tolerance &&
         ABS (px[2] - rgb[2]) <= tolerance;
}

static gboolean
pixels_equal (const Pixels *p,
              int           x0,
              int           y0,
              int           x1,
              int           y1)
{
  int a[4], b[4];

  pixel_at (p, x0, y0, a);
  pixel_at (p, x1, y1, b);
  return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

static void
accent_color (Scene *scene,
              int    rgb[3])
{
  GdkRGBA color;

  gtk_style_context_get_color (gtk_widget_get_style_context (scene->probe), &color);
  g_assert_cmpfloat (color.alpha, ==, 1.0);
  rgb[0] = (int) lroundf (color.red * 255.0f);
  rgb[1] = (int) lroundf (color.green * 255.0f);
  rgb[2] = (int) lroundf (color.blue * 255.0f);
}

/* Whether the rendered pixel (x, y) shows the frame's own pixels, given
 * that the frame was drawn into @picture: the rendered colour lies within
 * the range of the frame's 3x3 neighbourhood around the mapped point,
 * give or take filtering. */
static gboolean
shows_photo (const Pixels          *p,
             int                    x,
             int                    y,
             KestrelPreviewFrame   *frame,
             const graphene_rect_t *picture)
{
  const guint8 *data = g_bytes_get_data (frame->pixels, NULL);
  gsize bpp = frame->format == KK_PIXEL_RGB8 ? 3 : 4;
  double scale = (double) picture->size.width / frame->width;
  int u = (int) floor ((x + 0.5 - (double) picture->origin.x) / scale);
  int v = (int) floor ((y + 0.5 - (double) picture->origin.y) / scale);
  int px[4];

  g_assert_true (frame->format == KK_PIXEL_RGB8 || frame->format == KK_PIXEL_RGBA8);
  pixel_at (p, x, y, px);
  if (px[3] != 255)
    return FALSE;
  for (int c = 0; c < 3; c++)
    {
      int lo = 255, hi = 0;

      for (int dv = -1; dv <= 1; dv++)
        for (int du = -1; du <= 1; du++)
          {
            int uu = CLAMP (u + du, 0, (int) frame->width - 1);
            int vv = CLAMP (v + dv, 0, (int) frame->height - 1);
            int value = data[(gsize) vv * frame->stride + (gsize) uu * bpp + c];

            lo = MIN (lo, value);
            hi = MAX (hi, value);
          }
      if (px[c] < lo - PHOTO_TOLERANCE || px[c] > hi + PHOTO_TOLERANCE)
        return FALSE;
    }
  return TRUE;
}

/* Whether (x, y) is under a keypoint's dot (with its outline). */
static gboolean
near_keypoint (const KestrelDetection *d,
               int                     x,
               int                     y)
{
  for (guint k = 0; k < d->n_keypoints; k++)
    if (fabsf ((float) x + 0.5f - d->keypoints[k].x) < 6.0f &&
        fabsf ((float) y + 0.5f - d->keypoints[k].y) < 6.0f)
      return TRUE;
  return FALSE;
}

/* ----------------------------------------------------------- tests */

/* The bundled photos are where kestrel_samples_get_dir() says, they decode,
 * and their notices are beside them. */
static void
test_samples_dir (void)
{
  static const char *const photos[] = {
    "astronaut.png", "camera.png", "grace_hopper.jpg", "coffee.png", "rocket.jpg",
  };
  static const char *const notices[] = {
    "README.md", "LICENSE.scikit-image", "LICENSE.matplotlib",
  };
  g_autofree char *saved = g_strdup (g_getenv ("KESTREL_SAMPLES_DIR"));
  const char *fallback;

  g_assert_nonnull (saved);
  g_assert_cmpstr (kestrel_samples_get_dir (), ==, saved);

  for (gsize i = 0; i < G_N_ELEMENTS (photos); i++)
    {
      g_autofree char *path = sample_path (photos[i]);
      g_autoptr(GError) error = NULL;
      g_autoptr(KestrelImage) image = kestrel_image_new_from_file (path, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (kestrel_image_get_width (image), >=, 256);
      g_assert_cmpuint (kestrel_image_get_height (image), >=, 256);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (notices); i++)
    {
      g_autofree char *path = sample_path (notices[i]);
      g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
    }

  /* Without the variable: the installed folder or the source tree's, and
   * either has the photos. An empty value counts as unset. */
  g_setenv ("KESTREL_SAMPLES_DIR", "", TRUE);
  fallback = kestrel_samples_get_dir ();
  g_unsetenv ("KESTREL_SAMPLES_DIR");
  g_assert_cmpstr (kestrel_samples_get_dir (), ==, fallback);
  g_test_message ("without KESTREL_SAMPLES_DIR: %s", fallback);
  g_assert_true (g_path_is_absolute (fallback));
  {
    g_autofree char *path = g_build_filename (fallback, "astronaut.png", NULL);
    g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  }
  g_setenv ("KESTREL_SAMPLES_DIR", saved, TRUE);
}

/* A model no decoder understands, whose output is one map: the map washes
 * the frame in the accent colour (60 % where the map is highest, none
 * where it is lowest), and a caption tab sits in the bottom-left corner.
 * The map here is high on the left half, low on the right. */
static void
test_summary_heat_map (void)
{
  g_autofree char *path = sample_path ("astronaut.png");
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelImage) image = kestrel_image_new_from_file (path, &error);
  g_autoptr(KestrelDetections) detections = kestrel_detections_new ();
  KestrelOutputSummary *summary = kestrel_detections_ensure_summary (detections);
  g_autoptr(KestrelPreviewFrame) frame = NULL;
  g_autoptr(Pixels) pixels = NULL;
  const guint8 *data;
  Scene scene;
  int accent[3], px[4];

  g_assert_no_error (error);
  summary->kind = KESTREL_SUMMARY_HEAT_MAP;
  g_strlcpy (summary->output, "segments", sizeof summary->output);
  summary->map_width = summary->map_height = 8;
  summary->map_full_width = summary->map_full_height = 32;
  summary->map_min = 0;
  summary->map_max = 1;
  for (guint i = 0; i < 64; i++)
    summary->map[i] = i % 8 < 4 ? 1.0f : 0.0f;
  frame = kestrel_preview_frame_new_copy (kestrel_image_get_view (image), 1, detections);
  g_assert_cmpuint (frame->width, ==, 512);
  data = g_bytes_get_data (frame->pixels, NULL);

  scene_open (&scene, 512, 512);
  kestrel_preview_set_frame (KESTREL_PREVIEW (scene.preview), frame);
  accent_color (&scene, accent);
  pixels = render (scene.preview);

  /* Left: 40 % photo, 60 % accent. */
  pixel_at (pixels, 100, 100, px);
  for (int c = 0; c < 3; c++)
    {
      int photo = data[100 * frame->stride + 100 * (frame->format == KK_PIXEL_RGB8 ? 3 : 4) + (gsize) c];
      g_assert_cmpint (ABS (px[c] - (int) lround (0.4 * photo + 0.6 * accent[c])), <=, 6);
    }
  /* Right: the photo itself. */
  g_assert_true (shows_photo (pixels, 400, 100, frame, &GRAPHENE_RECT_INIT (0, 0, 512, 512)));
  /* The caption's tab, in the accent colour (above the widget's rounded
   * bottom corner). */
  g_assert_true (pixel_is (pixels, 2, 502, accent, COLOR_TOLERANCE));
  g_assert_false (pixel_is (pixels, 2, 2, accent, COLOR_TOLERANCE));
  scene_close (&scene);
}

/* At 512 x 512 the photo is drawn 1:1, so every detection's box is at its
 * own frame pixels: its border is the accent colour, the face inside it is
 * the photo's pixels, and the accent appears nowhere far from a box. */
static void
test_box_on_face (void)
{
  KestrelPreviewFrame *frame = get_astronaut ();
  const KestrelDetections *detections = frame->detections;
  graphene_rect_t picture = GRAPHENE_RECT_INIT (0, 0, 512, 512);
  g_autoptr(Pixels) pixels = NULL;
  Scene scene;
  int accent[3];
  guint n = kestrel_detections_get_n (detections);

  g_assert_cmpuint (frame->width, ==, 512);
  g_assert_cmpuint (frame->height, ==, 512);
  /* Eileen Collins' face, where kestrel-cli detect finds it. */
  g_assert_cmpuint (n, ==, 1);

  scene_open (&scene, 512, 512);
  kestrel_preview_set_frame (KESTREL_PREVIEW (scene.preview), frame);
  g_assert_true (kestrel_preview_get_frame (KESTREL_PREVIEW (scene.preview)) == frame);
  accent_color (&scene, accent);
  g_test_message ("accent colour %d,%d,%d", accent[0], accent[1], accent[2]);
  pixels = render (scene.preview);

  for (guint i = 0; i < n; i++)
    {
      const KestrelDetection *d = kestrel_detections_get (detections, i);
      int x0 = (int) roundf (d->x), y0 = (int) roundf (d->y);
      int x1 = (int) roundf (d->x + d->width), y1 = (int) roundf (d->y + d->height);
      int cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
      guint on_top = 0, on_left = 0, on_bottom = 0, top = 0, left = 0, bottom = 0;

      g_test_message ("face %.2f at %d,%d .. %d,%d", (double) d->score, x0, y0, x1, y1);
      g_assert_cmpfloat (d->width, >, 40);
      g_assert_cmpint (x0, >, 0);
      g_assert_cmpint (y1, <, 511);

      /* the border, 2 px wide on the box's edge, along its middle third,
       * except where a keypoint (an ear) sits on it */
      for (int x = x0 + (x1 - x0) / 3; x < x1 - (x1 - x0) / 3; x++)
        {
          if (!near_keypoint (d, x, y0))
            {
              on_top += pixel_is (pixels, x, y0, accent, COLOR_TOLERANCE) &&
                        pixel_is (pixels, x, y0 + 1, accent, COLOR_TOLERANCE);
              top++;
            }
          if (!near_keypoint (d, x, y1 - 1))
            {
              on_bottom += pixel_is (pixels, x, y1 - 1, accent, COLOR_TOLERANCE) &&
                           pixel_is (pixels, x, y1 - 2, accent, COLOR_TOLERANCE);
              bottom++;
            }
        }
      for (int y = y0 + (y1 - y0) / 3; y < y1 - (y1 - y0) / 3; y++)
        if (!near_keypoint (d, x0, y))
          {
            on_left += pixel_is (pixels, x0, y, accent, COLOR_TOLERANCE) &&
                       pixel_is (pixels, x0 + 1, y, accent, COLOR_TOLERANCE);
            left++;
          }
      g_test_message ("border pixels in the accent colour: top %u/%u, bottom %u/%u, left %u/%u",
                      on_top, top, on_bottom, bottom, on_left, left);
      g_assert_cmpuint (top, >, (guint) (x1 - x0) / 4);
      g_assert_cmpuint (left, >, (guint) (y1 - y0) / 4);
      g_assert_cmpuint (on_top, ==, top);
      g_assert_cmpuint (on_bottom, ==, bottom);
      g_assert_cmpuint (on_left, ==, left);

      /* inside: the face, as photographed (not tinted, not covered), away
       * from the keypoints (eyes, nose, mouth, ears) */
      for (int dy = -4; dy <= 4; dy += 4)
        for (int dx = -4; dx <= 4; dx += 4)
          g_assert_true (shows_photo (pixels, cx + dx + (x1 - x0) / 4, cy + dy + (y1 - y0) / 4,
                                      frame, &picture));
      /* outside, just beyond the halo: the photo again */
      g_assert_true (shows_photo (pixels, x0 - 5, cy, frame, &picture));
    }

  /* Nowhere far from a box (the score tab sits on its top edge). */
  for (int y = 0; y < pixels->height; y++)
    for (int x = 0; x < pixels->width; x++)
      {
        gboolean near_box = FALSE;

        for (guint i = 0; i < n && !near_box; i++)
          {
            const KestrelDetection *d = kestrel_detections_get (detections, i);

            near_box = x > d->x - 4 && x < d->x + d->width + 40 &&
                       y > d->y - 30 && y < d->y + d->height + 4;
          }
        if (!near_box && pixel_is (pixels, x, y, accent, COLOR_TOLERANCE))
          g_error ("accent colour at %d,%d, far from any box", x, y);
      }

  scene_close (&scene);
}

/* The square photo in a wide and a tall allocation: scaled to fit, centred,
 * with uniform bands on both sides (or above and below). */
static void
check_letterbox (int width,
                 int height)
{
  KestrelPreviewFrame *frame = get_astronaut ();
  g_autoptr(Pixels) pixels = NULL;
  gboolean wide = width > height;
  int side = MIN (width, height);
  int band = (MAX (width, height) - side) / 2;
  graphene_rect_t picture = wide ? GRAPHENE_RECT_INIT (band, 0, side, side)
                                 : GRAPHENE_RECT_INIT (0, band, side, side);
  guint photo = 0, checked = 0;
  Scene scene;

  g_test_message ("%d x %d: picture at %g,%g size %g", width, height,
                  (double) picture.origin.x, (double) picture.origin.y, (double) picture.size.width);
  scene_open (&scene, width, height);
  kestrel_preview_set_frame (KESTREL_PREVIEW (scene.preview), frame);
  pixels = render (scene.preview);

  /* The bands: one colour, from the widget's edge to the picture's,
   * away from the rounded corners. */
  for (int across = side / 8; across < side - side / 8; across += 7)
    for (int along = 0; along < band; along += 3)
      {
        if (wide)
          {
            g_assert_true (pixels_equal (pixels, along, across, 1, side / 2));
            g_assert_true (pixels_equal (pixels, width - 1 - along, across, 1, side / 2));
          }
        else
          {
            g_assert_true (pixels_equal (pixels, across, along, side / 2, 1));
            g_assert_true (pixels_equal (pixels, across, height - 1 - along, side / 2, 1));
          }
      }

  /* The picture: the photo's own pixels right up to both edges, along the
   * lower half (the face and its score are in the upper half). */
  for (int across = side / 2; across < side - side / 8; across += 5)
    {
      int first = band, last = band + side - 1;

      if (wide)
        {
          photo += shows_photo (pixels, first, across, frame, &picture);
          photo += shows_photo (pixels, last, across, frame, &picture);
          photo += shows_photo (pixels, width / 2, across, frame, &picture);
          /* ...and the band starts right beyond them */
          g_assert_true (pixels_equal (pixels, first - 1, across, 1, side / 2));
          g_assert_true (pixels_equal (pixels, last + 1, across, 1, side / 2));
        }
      else
        {
          photo += shows_photo (pixels, across, first, frame, &picture);
          photo += shows_photo (pixels, across, last, frame, &picture);
          photo += shows_photo (pixels, across, height / 2, frame, &picture);
          g_assert_true (pixels_equal (pixels, across, first - 1, side / 2, 1));
          g_assert_true (pixels_equal (pixels, across, last + 1, side / 2, 1));
        }
      checked += 3;
    }
  g_test_message ("%u of %u picture pixels match the photo", photo, checked);
  g_assert_cmpuint (photo, ==, checked);

  scene_close (&scene);
}

static void
test_aspect_wide (void)
{
  check_letterbox (600, 300);
}

static void
test_aspect_tall (void)
{
  check_letterbox (240, 520);
}

static GtkWidget *
find_label (GtkWidget  *widget,
            const char *text)
{
  if (GTK_IS_LABEL (widget) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (widget)), text) == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_label (child, text);
      if (found != NULL)
        return found;
    }
  return NULL;
}

/* No frame, the placeholder; a frame, the picture; NULL again, the same
 * placeholder as before, pixel for pixel. A frame that cannot be shown
 * (no pixels) is the placeholder too, not a crash. */
static void
test_placeholder (void)
{
  KestrelPreviewFrame *frame = get_astronaut ();
  g_autoptr(Pixels) before = NULL;
  g_autoptr(Pixels) with_frame = NULL;
  g_autoptr(Pixels) after = NULL;
  g_autoptr(KestrelPreviewFrame) empty = NULL;
  g_autoptr(KestrelDetections) none = kestrel_detections_new ();
  kk_image_view nothing = { NULL, 0, 0, 0, KK_PIXEL_RGB8 };
  static const guint8 byte = 0;
  GtkWidget *label;
  Scene scene;
  int centre[4];

  scene_open (&scene, 400, 300);
  g_assert_null (kestrel_preview_get_frame (KESTREL_PREVIEW (scene.preview)));
  label = find_label (scene.preview, "Waiting for the first frame…");
  g_assert_nonnull (label);
  g_assert_true (gtk_widget_get_mapped (label));
  before = render (scene.preview);

  kestrel_preview_set_frame (KESTREL_PREVIEW (scene.preview), frame);
  ui_test_spin (50);
  g_assert_false (gtk_widget_get_mapped (label));
  with_frame = render (scene.preview);
  pixel_at (with_frame, 200, 150, centre);
  g_assert_cmpint (centre[3], ==, 255);  /* the photo covers the centre */

  kestrel_preview_set_frame (KESTREL_PREVIEW (scene.preview), NULL);
  g_assert_null (kestrel_preview_get_frame (KESTREL_PREVIEW (scene.preview)));
  ui_test_spin (50);
  g_assert_true (gtk_widget_get_mapped (label));
  after = render (scene.preview);
  g_assert_cmpmem (before->data, before->stride * before->height,
                   after->data, after->stride * after->height);
  g_assert_true (memcmp (before->data, with_frame->data, before->stride * before->height) != 0);

  nothing.data = &byte;
  empty = kestrel_preview_frame_new_copy (&nothing, 7, none);
  kestrel_preview_set_frame (KESTREL_PREVIEW (scene.preview), empty);
  g_assert_true (kestrel_preview_get_frame (KESTREL_PREVIEW (scene.preview)) == empty);
  ui_test_spin (50);
  g_assert_true (gtk_widget_get_mapped (label));

  scene_close (&scene);
}

typedef struct
{
  GtkWidget  *widget;
  const char *property;
  guint64     above;
} Above;

static gboolean
counter_above (gpointer data)
{
  Above *a = data;
  return get_uint64 (a->widget, a->property) > a->above;
}

/* Waits until @widget has drawn at least once after now and then stays
 * quiet for a while; returns its redraw count. */
static guint64
settle (GtkWidget *widget,
        guint64    redraws_before)
{
  Above drawn = { widget, "redraws", redraws_before };
  guint64 redraws;

  g_assert_true (ui_test_wait_until (counter_above, &drawn));
  do
    {
      redraws = get_uint64 (widget, "redraws");
      ui_test_spin (200);
    }
  while (get_uint64 (widget, "redraws") != redraws);
  return redraws;
}

/* The same frame again draws nothing; the same rate line again draws
 * nothing; a new rate line redraws without building the picture again; a
 * new frame builds it again. */
static void
test_same_frame_no_redraw (void)
{
  KestrelPreviewFrame *frame = get_astronaut ();
  g_autoptr(KestrelPreviewFrame) copy = NULL;
  KestrelPreview *preview;
  Scene scene;
  guint64 redraws, builds;
  Above built;
  kk_image_view view;

  scene_open (&scene, 320, 240);
  preview = KESTREL_PREVIEW (scene.preview);
  kestrel_preview_set_frame (preview, frame);
  redraws = settle (scene.preview, 0);
  builds = get_uint64 (scene.preview, "picture-builds");
  g_assert_cmpuint (builds, ==, 1);

  kestrel_preview_set_frame (preview, frame);
  kestrel_preview_set_frame (preview, frame);
  ui_test_spin (300);
  g_assert_cmpuint (get_uint64 (scene.preview, "redraws"), ==, redraws);
  g_assert_cmpuint (get_uint64 (scene.preview, "picture-builds"), ==, builds);

  kestrel_preview_set_rate (preview, 29.97, 5.24);
  redraws = settle (scene.preview, redraws);
  g_assert_nonnull (find_label (scene.preview, "30.0 fps · 5.2 ms"));
  g_assert_cmpuint (get_uint64 (scene.preview, "picture-builds"), ==, builds);
  kestrel_preview_set_rate (preview, 29.97, 5.24);
  ui_test_spin (300);
  g_assert_cmpuint (get_uint64 (scene.preview, "redraws"), ==, redraws);

  /* One number alone, and none (the line goes away). */
  kestrel_preview_set_rate (preview, NAN, 0.456);
  g_assert_nonnull (find_label (scene.preview, "0.46 ms"));
  kestrel_preview_set_rate (preview, NAN, NAN);
  g_assert_false (gtk_widget_get_visible (find_label (scene.preview, "0.46 ms")));
  redraws = settle (scene.preview, redraws);

  /* The same pixels in a new frame are a new frame. */
  view = (kk_image_view) { g_bytes_get_data (frame->pixels, NULL), frame->width, frame->height,
                           frame->stride, frame->format };
  copy = kestrel_preview_frame_new_copy (&view, frame->index + 1, frame->detections);
  kestrel_preview_set_frame (preview, copy);
  built = (Above) { scene.preview, "picture-builds", builds };
  g_assert_true (ui_test_wait_until (counter_above, &built));
  g_assert_cmpuint (get_uint64 (scene.preview, "picture-builds"), ==, builds + 1);

  scene_close (&scene);
}

/* preview-light.png and preview-dark.png: astronaut.png as the window
 * shows it, with the engine's own rate line; preview-waiting.png: the
 * placeholder. */
static void
test_screenshots (void)
{
  static const struct { AdwColorScheme scheme; const char *name; } styles[] = {
    { ADW_COLOR_SCHEME_FORCE_LIGHT, "light" },
    { ADW_COLOR_SCHEME_FORCE_DARK, "dark" },
  };
  g_autofree char *path = sample_path ("astronaut.png");
  g_autoptr(KestrelPreviewFrame) frame = NULL;
  const char *dir = g_getenv ("G_TEST_BUILDDIR");
  double fps = NAN, latency = NAN;
  GtkWidget *window, *preview;

  if (dir == NULL)
    {
      g_test_skip ("G_TEST_BUILDDIR is not set: nowhere to save the screenshots");
      return;
    }

  frame = detect (path, &fps, &latency);
  window = gtk_window_new ();
  gtk_window_set_decorated (GTK_WINDOW (window), FALSE);
  gtk_window_set_default_size (GTK_WINDOW (window), 720, 480);
  preview = kestrel_preview_new ();
  gtk_widget_set_margin_top (preview, 12);
  gtk_widget_set_margin_bottom (preview, 12);
  gtk_widget_set_margin_start (preview, 12);
  gtk_widget_set_margin_end (preview, 12);
  gtk_window_set_child (GTK_WINDOW (window), preview);
  kestrel_preview_set_frame (KESTREL_PREVIEW (preview), frame);
  kestrel_preview_set_rate (KESTREL_PREVIEW (preview), fps, latency);
  gtk_window_present (GTK_WINDOW (window));

  for (guint i = 0; i < G_N_ELEMENTS (styles); i++)
    {
      g_autofree char *file = g_strdup_printf ("%s/preview-%s.png", dir, styles[i].name);
      g_autoptr(GdkTexture) texture = NULL;

      adw_style_manager_set_color_scheme (adw_style_manager_get_default (), styles[i].scheme);
      ui_test_spin (300);
      texture = render_widget (window);
      g_assert_true (gdk_texture_save_to_png (texture, file));
      g_test_message ("saved %s", file);
    }
  /* and the window before the first frame */
  {
    g_autofree char *file = g_strdup_printf ("%s/preview-waiting.png", dir);
    g_autoptr(GdkTexture) texture = NULL;

    adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_FORCE_LIGHT);
    kestrel_preview_set_frame (KESTREL_PREVIEW (preview), NULL);
    kestrel_preview_set_rate (KESTREL_PREVIEW (preview), NAN, NAN);
    ui_test_spin (300);
    texture = render_widget (window);
    g_assert_true (gdk_texture_save_to_png (texture, file));
    g_test_message ("saved %s", file);
  }
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_DEFAULT);
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int   argc,
      char *argv[])
{
  int status;

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  kestrel_ui_init ();

  /* The source tree's photos, whatever may be installed. */
  if (g_getenv ("KESTREL_SAMPLES_DIR") == NULL)
    {
      g_printerr ("KESTREL_SAMPLES_DIR must name data/samples (meson test sets it)\n");
      return 1;
    }

  g_test_add_func ("/preview/samples-dir", test_samples_dir);
  g_test_add_func ("/preview/box-on-face", test_box_on_face);
  g_test_add_func ("/preview/summary-heat-map", test_summary_heat_map);
  g_test_add_func ("/preview/aspect-wide", test_aspect_wide);
  g_test_add_func ("/preview/aspect-tall", test_aspect_tall);
  g_test_add_func ("/preview/placeholder", test_placeholder);
  g_test_add_func ("/preview/same-frame-no-redraw", test_same_frame_no_redraw);
  g_test_add_func ("/preview/screenshots", test_screenshots);

  status = g_test_run ();
  g_clear_pointer (&astronaut_frame, kestrel_preview_frame_unref);
  return status;
}
