/* test-graph-view.c — KestrelGraphView: data in, history bound, auto-scale,
 * stacking, no redraw while hidden, and what it draws (issue 10, defect 13):
 * the stacked graph's top edge in the colour of the band that has the
 * height, one time axis for graphs with different data, the values under
 * the pointer, and series hidden from the legend. Runs under a display
 * (Xvfb in meson test, see run-with-display.sh); real pointer events are in
 * test-graph-view-pointer.c. */
#include "config.h"

#include <math.h>
#include <string.h>
#include <gtk/gtk.h>

#include "kestrel-graph-view.h"
#include "kestrel-ui.h"
#include "ui-test-util.h"

#define N_MAX 1024

static KestrelGraphView *
new_view (void)
{
  return KESTREL_GRAPH_VIEW (g_object_ref_sink (kestrel_graph_view_new ()));
}

static gboolean
set_flag_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop for @ms, pushing a new sample onto series 0 every
 * 10 ms so that every refresh tick has something new to draw. */
typedef struct
{
  KestrelGraphView *view;
  gint64            t;
} Feeder;

static gboolean
feed_cb (gpointer data)
{
  Feeder *f = data;

  f->t += G_USEC_PER_SEC;
  kestrel_graph_view_push (f->view, 0, f->t, (double) (f->t / G_USEC_PER_SEC % 100));
  return G_SOURCE_CONTINUE;
}

static void
run_loop_feeding (KestrelGraphView *view,
                  guint             ms)
{
  static gint64 t = 0;
  Feeder f = { view, t };
  gboolean done = FALSE;
  guint feeder = g_timeout_add (10, feed_cb, &f);

  g_timeout_add (ms, set_flag_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (feeder);
  t = f.t;
}

static void
wait_until_mapped (GtkWidget *widget,
                   gboolean   mapped)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (gtk_widget_get_mapped (widget) != mapped)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

/* ------------------------------------------------------------------ */

static void
test_data_in (void)
{
  g_autoptr(KestrelGraphView) view = new_view ();
  KestrelRingSample points[N_MAX];
  g_autoptr(KestrelRing) shared = kestrel_ring_new (10);
  guint a, b, n, n_series = 0;

  a = kestrel_graph_view_add_series (view, "Kestrel", NULL);
  b = kestrel_graph_view_add_series (view, "System", "warning");
  g_assert_cmpuint (a, ==, 0);
  g_assert_cmpuint (b, ==, 1);
  g_object_get (view, "n-series", &n_series, NULL);
  g_assert_cmpuint (n_series, ==, 2);
  g_assert_cmpstr (kestrel_graph_view_get_series_label (view, b), ==, "System");

  g_assert_cmpuint (kestrel_graph_view_get_points (view, a, points, N_MAX), ==, 0);

  for (int i = 0; i < 10; i++)
    {
      kestrel_graph_view_push (view, a, i * G_USEC_PER_SEC, i);
      kestrel_graph_view_push (view, b, i * G_USEC_PER_SEC, 2.0 * i);
    }

  n = kestrel_graph_view_get_points (view, a, points, N_MAX);
  g_assert_cmpuint (n, ==, 10);
  for (guint k = 0; k < n; k++)
    {
      g_assert_cmpint (points[k].time_us, ==, (gint64) k * G_USEC_PER_SEC);
      g_assert_cmpfloat (points[k].value, ==, k);
    }

  /* a short buffer gets the newest points, oldest first */
  n = kestrel_graph_view_get_points (view, b, points, 4);
  g_assert_cmpuint (n, ==, 4);
  for (guint k = 0; k < n; k++)
    g_assert_cmpfloat (points[k].value, ==, 2.0 * (6 + k));

  /* a ring handed over (a metrics snapshot's) is drawn as it is */
  kestrel_ring_push (shared, 100, 7.0);
  kestrel_ring_push (shared, 200, 8.0);
  kestrel_graph_view_set_series_ring (view, b, shared);
  g_assert_true (kestrel_graph_view_get_series_ring (view, b) == shared);
  n = kestrel_graph_view_get_points (view, b, points, N_MAX);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpint (points[1].time_us, ==, 200);
  g_assert_cmpfloat (points[1].value, ==, 8.0);
  /* ... and never resized by the view */
  kestrel_graph_view_set_history_length (view, 300);
  g_assert_cmpuint (kestrel_ring_get_capacity (shared), ==, 10);

  kestrel_graph_view_remove_all_series (view);
  g_assert_cmpuint (kestrel_graph_view_get_n_series (view), ==, 0);
}

static void
test_history_bound (void)
{
  g_autoptr(KestrelGraphView) view = new_view ();
  g_autoptr(KestrelRing) big = kestrel_ring_new (KESTREL_RING_MAX_CAPACITY);
  KestrelRingSample points[N_MAX];
  guint s, n;

  g_assert_cmpuint (kestrel_graph_view_get_history_length (view), ==, 60);
  s = kestrel_graph_view_add_series (view, "CPU", "accent");

  for (int i = 0; i < 1000; i++)
    kestrel_graph_view_push (view, s, i, i);
  n = kestrel_graph_view_get_points (view, s, points, N_MAX);
  g_assert_cmpuint (n, ==, 60);
  g_assert_cmpuint (kestrel_ring_get_length (kestrel_graph_view_get_series_ring (view, s)), <=, 60);
  g_assert_cmpfloat (points[0].value, ==, 940);
  g_assert_cmpfloat (points[59].value, ==, 999);

  /* up to 600 */
  kestrel_graph_view_set_history_length (view, 600);
  for (int i = 1000; i < 2000; i++)
    kestrel_graph_view_push (view, s, i, i);
  n = kestrel_graph_view_get_points (view, s, points, N_MAX);
  g_assert_cmpuint (n, ==, 600);
  g_assert_cmpfloat (points[599].value, ==, 1999);

  /* not more */
  kestrel_graph_view_set_history_length (view, 100000);
  g_assert_cmpuint (kestrel_graph_view_get_history_length (view), ==, 600);

  /* shortening keeps the newest */
  kestrel_graph_view_set_history_length (view, 100);
  n = kestrel_graph_view_get_points (view, s, points, N_MAX);
  g_assert_cmpuint (n, ==, 100);
  g_assert_cmpfloat (points[0].value, ==, 1900);
  g_assert_cmpfloat (points[99].value, ==, 1999);

  /* a longer ring of someone else's is cut to the history when drawn */
  for (int i = 0; i < 1000; i++)
    kestrel_ring_push (big, i, i);
  kestrel_graph_view_set_series_ring (view, s, big);
  kestrel_graph_view_set_history_length (view, 60);
  g_assert_cmpuint (kestrel_graph_view_get_points (view, s, points, N_MAX), ==, 60);
  g_assert_cmpuint (kestrel_ring_get_length (big), ==, 600);
}

/* 1, 2, 2.5 or 5 times a power of ten */
static gboolean
is_nice (double step)
{
  double mantissa = step / pow (10.0, floor (log10 (step)));

  return fabs (mantissa - 1.0) < 1e-9 || fabs (mantissa - 2.0) < 1e-9 ||
         fabs (mantissa - 2.5) < 1e-9 || fabs (mantissa - 5.0) < 1e-9;
}

static void
check_auto_scale (double data_min,
                  double data_max)
{
  g_autoptr(KestrelGraphView) view = new_view ();
  double lo, hi, step;
  guint s;

  kestrel_graph_view_set_auto_scale (view, TRUE);
  s = kestrel_graph_view_add_series (view, "Latency", NULL);
  for (int i = 0; i < 30; i++)
    kestrel_graph_view_push (view, s, i, data_min + (data_max - data_min) * (i % 7) / 6.0);

  kestrel_graph_view_get_y_range (view, &lo, &hi, &step);
  g_test_message ("data %g..%g: axis %g..%g step %g", data_min, data_max, lo, hi, step);

  g_assert_cmpfloat (hi, >=, data_max);
  g_assert_cmpfloat (lo, <=, MIN (data_min, 0.0));
  g_assert_true (is_nice (step));
  /* the top is a whole number of steps, and no more than a few */
  g_assert_cmpfloat (fabs (hi / step - round (hi / step)), <, 1e-6);
  g_assert_cmpfloat (fabs (lo / step - round (lo / step)), <, 1e-6);
  g_assert_cmpfloat ((hi - lo) / step, <=, 10.0);
  /* and not far above the data: at most two steps of headroom */
  g_assert_cmpfloat (hi - MAX (data_max, 0.0), <, 2 * step);
}

static void
test_auto_scale (void)
{
  g_autoptr(KestrelGraphView) view = new_view ();
  double lo, hi, step;
  guint s;

  check_auto_scale (0.0, 37.3);
  check_auto_scale (0.0, 101.0);
  check_auto_scale (0.0, 0.0123);
  check_auto_scale (1.5, 2.25);
  check_auto_scale (-3.0, 7.0);
  check_auto_scale (0.0, 950000.0);

  /* fixed range: what it was told */
  s = kestrel_graph_view_add_series (view, "CPU", NULL);
  for (int i = 0; i < 10; i++)
    kestrel_graph_view_push (view, s, i, 12.0);
  kestrel_graph_view_get_y_range (view, &lo, &hi, &step);
  g_assert_cmpfloat (lo, ==, 0.0);
  g_assert_cmpfloat (hi, ==, 100.0);
  g_assert_true (is_nice (step));

  /* auto-scale keeps the reference line (the budget) in view */
  g_object_set (view,
                "auto-scale", TRUE,
                "show-reference", TRUE,
                "reference-value", 50.0,
                NULL);
  kestrel_graph_view_get_y_range (view, &lo, &hi, &step);
  g_assert_cmpfloat (hi, >=, 50.0);
  g_assert_cmpfloat (hi, <, 100.0);

  /* nothing to show: the fixed range */
  kestrel_graph_view_remove_all_series (view);
  kestrel_graph_view_set_show_reference (view, FALSE);
  kestrel_graph_view_get_y_range (view, &lo, &hi, &step);
  g_assert_cmpfloat (hi, >, lo);
}

static void
test_stacked (void)
{
  g_autoptr(KestrelGraphView) view = new_view ();
  KestrelRingSample points[N_MAX];
  double lo, hi;
  guint pre, infer, post, n;

  pre = kestrel_graph_view_add_series (view, "Preprocess", NULL);
  infer = kestrel_graph_view_add_series (view, "Inference", NULL);
  post = kestrel_graph_view_add_series (view, "Decode", NULL);

  for (int i = 0; i < 5; i++)
    {
      kestrel_graph_view_push (view, pre, i, 1.0);
      kestrel_graph_view_push (view, infer, i, 2.0 + i);
    }
  /* the decoder started late: three samples, the newest three */
  for (int i = 2; i < 5; i++)
    kestrel_graph_view_push (view, post, i, 0.5);

  /* not stacked: raw values */
  n = kestrel_graph_view_get_points (view, infer, points, N_MAX);
  g_assert_cmpuint (n, ==, 5);
  g_assert_cmpfloat (points[4].value, ==, 6.0);

  kestrel_graph_view_set_stacked (view, TRUE);
  g_assert_true (kestrel_graph_view_get_stacked (view));

  n = kestrel_graph_view_get_points (view, pre, points, N_MAX);
  g_assert_cmpuint (n, ==, 5);
  for (guint k = 0; k < n; k++)
    g_assert_cmpfloat (points[k].value, ==, 1.0);

  n = kestrel_graph_view_get_points (view, infer, points, N_MAX);
  g_assert_cmpuint (n, ==, 5);
  for (guint k = 0; k < n; k++)
    g_assert_cmpfloat (points[k].value, ==, 1.0 + 2.0 + k);

  n = kestrel_graph_view_get_points (view, post, points, N_MAX);
  g_assert_cmpuint (n, ==, 3);
  for (guint k = 0; k < n; k++)
    {
      g_assert_cmpint (points[k].time_us, ==, 2 + k);
      g_assert_cmpfloat (points[k].value, ==, 1.0 + (2.0 + 2 + k) + 0.5);
    }

  /* the axis fits the sum, not the largest series */
  kestrel_graph_view_set_auto_scale (view, TRUE);
  kestrel_graph_view_get_y_range (view, &lo, &hi, NULL);
  g_assert_cmpfloat (lo, ==, 0.0);
  g_assert_cmpfloat (hi, >=, 7.5);
}

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              gpointer    data)
{
  (*(guint *) data)++;
}

static void
test_properties (void)
{
  g_autoptr(KestrelGraphView) view = new_view ();
  guint notified = 0;
  g_autofree char *unit = NULL;

  g_signal_connect (view, "notify", G_CALLBACK (count_notify), &notified);
  kestrel_graph_view_set_stacked (view, TRUE);
  kestrel_graph_view_set_stacked (view, TRUE);
  kestrel_graph_view_set_unit (view, "ms");
  kestrel_graph_view_set_unit (view, "ms");
  kestrel_graph_view_set_y_max (view, 100.0);  /* the default: no change */
  g_assert_cmpuint (notified, ==, 2);

  g_object_get (view, "unit", &unit, NULL);
  g_assert_cmpstr (unit, ==, "ms");
  g_assert_cmpuint (kestrel_graph_view_get_refresh_interval (view), ==, 1000);
  g_assert_true (kestrel_graph_view_get_show_legend (view));
}

static void
get_counters (KestrelGraphView *view,
              guint64          *requested,
              guint64          *done)
{
  g_object_get (view, "redraws-requested", requested, "redraws", done, NULL);
}

static void
test_hidden (void)
{
  g_autoptr(KestrelGraphView) lone = new_view ();
  KestrelGraphView *view;
  GtkWidget *window;
  guint64 requested, done, requested2, done2;

  /* never in a window */
  kestrel_graph_view_add_series (lone, "CPU", NULL);
  kestrel_graph_view_set_refresh_interval (lone, 20);
  run_loop_feeding (lone, 200);
  get_counters (lone, &requested, &done);
  g_assert_cmpuint (requested, ==, 0);
  g_assert_cmpuint (done, ==, 0);

  /* in a window not shown yet */
  window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), 400, 200);
  view = KESTREL_GRAPH_VIEW (kestrel_graph_view_new ());
  kestrel_graph_view_add_series (view, "CPU", NULL);
  kestrel_graph_view_set_refresh_interval (view, 20);
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (view));
  run_loop_feeding (view, 200);
  get_counters (view, &requested, &done);
  g_assert_false (gtk_widget_get_mapped (GTK_WIDGET (view)));
  g_assert_cmpuint (requested, ==, 0);
  g_assert_cmpuint (done, ==, 0);

  /* shown: it ticks and draws */
  gtk_window_present (GTK_WINDOW (window));
  wait_until_mapped (GTK_WIDGET (view), TRUE);
  run_loop_feeding (view, 400);
  get_counters (view, &requested, &done);
  g_test_message ("shown: %" G_GUINT64_FORMAT " requested, %" G_GUINT64_FORMAT " drawn", requested, done);
  g_assert_cmpuint (requested, >, 0);
  g_assert_cmpuint (done, >, 0);

  /* the view hidden inside a shown window: nothing moves */
  gtk_widget_set_visible (GTK_WIDGET (view), FALSE);
  wait_until_mapped (GTK_WIDGET (view), FALSE);
  get_counters (view, &requested, &done);
  run_loop_feeding (view, 300);
  get_counters (view, &requested2, &done2);
  g_assert_cmpuint (requested2, ==, requested);
  g_assert_cmpuint (done2, ==, done);

  /* shown again: it catches up */
  gtk_widget_set_visible (GTK_WIDGET (view), TRUE);
  wait_until_mapped (GTK_WIDGET (view), TRUE);
  run_loop_feeding (view, 300);
  get_counters (view, &requested2, &done2);
  g_assert_cmpuint (requested2, >, requested);
  g_assert_cmpuint (done2, >, done);

  /* the window hidden: nothing moves */
  gtk_widget_set_visible (window, FALSE);
  wait_until_mapped (GTK_WIDGET (view), FALSE);
  get_counters (view, &requested, &done);
  run_loop_feeding (view, 300);
  get_counters (view, &requested2, &done2);
  g_assert_cmpuint (requested2, ==, requested);
  g_assert_cmpuint (done2, ==, done);

  /* shown, but no new samples: ticks queue nothing */
  gtk_window_present (GTK_WINDOW (window));
  wait_until_mapped (GTK_WIDGET (view), TRUE);
  {
    gboolean flag = FALSE;

    run_loop_feeding (view, 100);
    /* let one tick take the last sample */
    g_timeout_add (100, set_flag_cb, &flag);
    while (!flag)
      g_main_context_iteration (NULL, TRUE);
    get_counters (view, &requested, &done);
    flag = FALSE;
    g_timeout_add (200, set_flag_cb, &flag);
    while (!flag)
      g_main_context_iteration (NULL, TRUE);
    get_counters (view, &requested2, &done2);
    g_assert_cmpuint (requested2, ==, requested);
  }

  gtk_window_destroy (GTK_WINDOW (window));
}

/* ------------------------------------------------------- what is drawn */

/* A window holding @child at @width x @height, shown and allocated. */
static GtkWidget *
show_in_window (GtkWidget *child,
                int        width,
                int        height)
{
  GtkWidget *window = gtk_window_new ();
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  gtk_window_set_decorated (GTK_WINDOW (window), FALSE);
  gtk_window_set_default_size (GTK_WINDOW (window), width, height);
  gtk_window_set_child (GTK_WINDOW (window), child);
  gtk_window_present (GTK_WINDOW (window));
  while (!gtk_widget_get_mapped (child) || gtk_widget_get_width (child) <= 0)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  ui_test_spin (100);
  return window;
}

/* What @widget draws, through GSK onto a cairo image surface. */
static cairo_surface_t *
render_widget (GtkWidget *widget)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cairo_t *cr = cairo_create (surface);

  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  gsk_render_node_draw (node, cr);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  return surface;
}

/* The pixel at @x, @y, not premultiplied, in 0..1. */
static GdkRGBA
pixel_at (cairo_surface_t *surface,
          int              x,
          int              y)
{
  const guint8 *row = cairo_image_surface_get_data (surface) + y * cairo_image_surface_get_stride (surface);
  guint32 p = ((const guint32 *) row)[x];
  double a = (p >> 24) / 255.0;
  GdkRGBA c = { 0, 0, 0, (float) a };

  if (a > 0)
    {
      c.red = (float) (((p >> 16) & 0xff) / 255.0 / a);
      c.green = (float) (((p >> 8) & 0xff) / 255.0 / a);
      c.blue = (float) ((p & 0xff) / 255.0 / a);
    }
  return c;
}

static double
color_distance (const GdkRGBA *a,
                const GdkRGBA *b)
{
  return sqrt ((a->red - b->red) * (a->red - b->red) +
               (a->green - b->green) * (a->green - b->green) +
               (a->blue - b->blue) * (a->blue - b->blue));
}

/* The colour of the topmost solid line in column @x: the first opaque
 * pixel from the top and the one under it (a 2 px line), averaged. */
static GdkRGBA
top_edge_color (cairo_surface_t *surface,
                int              x)
{
  int height = cairo_image_surface_get_height (surface);

  for (int y = 0; y + 1 < height; y++)
    {
      GdkRGBA a = pixel_at (surface, x, y);

      if (a.alpha > 0.9f)
        {
          GdkRGBA b = pixel_at (surface, x, y + 1);

          return (GdkRGBA) { (a.red + b.red) / 2, (a.green + b.green) / 2, (a.blue + b.blue) / 2, 1 };
        }
    }
  g_assert_not_reached ();
}

/* Stacked, with a thick band and a thin one (0.01 of 10): the top edge is
 * drawn in the thick band's colour, whichever of the two is on top. Before
 * the fix the last series' line was drawn last, so a 0.01 ms decode on a
 * 5 ms inference painted the whole top edge in the decode's colour. */
static void
check_top_edge (double inference,
                double decode,
                guint  expect_series)
{
  KestrelGraphView *view = KESTREL_GRAPH_VIEW (kestrel_graph_view_new ());
  GtkWidget *window;
  cairo_surface_t *surface;
  GdkRGBA colors[2], edge;
  guint other = 1 - expect_series;

  g_object_set (view, "stacked", TRUE, "show-legend", FALSE, "y-min", 0.0, "y-max", 10.0, NULL);
  kestrel_graph_view_add_series (view, "Inference", "accent");
  kestrel_graph_view_add_series (view, "Decode", "success");
  for (int i = 0; i < 60; i++)
    {
      kestrel_graph_view_push (view, 0, i * G_USEC_PER_SEC, inference);
      kestrel_graph_view_push (view, 1, i * G_USEC_PER_SEC, decode);
    }
  window = show_in_window (GTK_WIDGET (view), 400, 200);
  kestrel_graph_view_get_series_color (view, 0, &colors[0]);
  kestrel_graph_view_get_series_color (view, 1, &colors[1]);
  g_assert_cmpfloat (color_distance (&colors[0], &colors[1]), >, 0.2);

  surface = render_widget (GTK_WIDGET (view));
  for (int x = 150; x < 390; x += 40)
    {
      edge = top_edge_color (surface, x);
      g_test_message ("inference %g, decode %g, x %d: edge %.2f,%.2f,%.2f", inference, decode, x,
                      (double) edge.red, (double) edge.green, (double) edge.blue);
      g_assert_cmpfloat (color_distance (&edge, &colors[expect_series]), <,
                         color_distance (&edge, &colors[other]));
    }
  cairo_surface_destroy (surface);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_stacked_top_edge (void)
{
  check_top_edge (5.0, 0.01, 0);  /* a thin band on top: the inference's colour */
  check_top_edge (0.01, 5.0, 1);  /* the thick band on top: its own colour */
}

/* The bottom @rows rows of @surface (the time labels) as bytes. */
static GBytes *
bottom_rows (cairo_surface_t *surface,
             int              rows)
{
  int stride = cairo_image_surface_get_stride (surface);
  int height = cairo_image_surface_get_height (surface);

  return g_bytes_new (cairo_image_surface_get_data (surface) + (height - rows) * stride,
                      (gsize) rows * stride);
}

/* Two graphs with one now, interval and history but different data (one
 * sampled every second up to now, one every two seconds until ten seconds
 * ago) draw the same time labels, pixel for pixel, and a sample of the same
 * time at the same x. Before, each graph estimated its span from its own
 * samples: 60 s for one, 2 min for the other. */
static void
test_shared_time_axis (void)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  KestrelGraphView *views[2];
  GtkWidget *window;
  cairo_surface_t *surfaces[2];
  g_autoptr(GBytes) labels0 = NULL;
  g_autoptr(GBytes) labels1 = NULL;
  gint64 now = 1000 * G_USEC_PER_SEC;
  guint both = 0;
  int width, height;

  for (guint v = 0; v < 2; v++)
    {
      views[v] = KESTREL_GRAPH_VIEW (kestrel_graph_view_new ());
      g_object_set (views[v], "show-legend", FALSE, "sample-interval", 1000, NULL);
      gtk_widget_set_size_request (GTK_WIDGET (views[v]), 400, 160);
      kestrel_graph_view_add_series (views[v], "Series", "accent");
      kestrel_graph_view_set_time (views[v], now);
      gtk_box_append (GTK_BOX (box), GTK_WIDGET (views[v]));
    }
  for (int age = 59; age >= 0; age--)
    kestrel_graph_view_push (views[0], 0, now - age * G_USEC_PER_SEC, 10.0);
  for (int age = 118; age >= 10; age -= 2)
    kestrel_graph_view_push (views[1], 0, now - age * G_USEC_PER_SEC, 30.0);
  g_assert_cmpuint (kestrel_graph_view_get_sample_interval (views[1]), ==, 1000);

  window = show_in_window (box, 400, 320);
  width = gtk_widget_get_width (GTK_WIDGET (views[0]));
  height = gtk_widget_get_height (GTK_WIDGET (views[0]));
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (views[1])), ==, width);
  g_assert_cmpint (gtk_widget_get_height (GTK_WIDGET (views[1])), ==, height);

  for (guint v = 0; v < 2; v++)
    surfaces[v] = render_widget (GTK_WIDGET (views[v]));
  /* the label line, well below the data (values 10 and 30 of 100) */
  labels0 = bottom_rows (surfaces[0], 12);
  labels1 = bottom_rows (surfaces[1], 12);
  g_assert_true (g_bytes_equal (labels0, labels1));
  /* and it is not empty */
  {
    gsize size;
    const guint8 *data = g_bytes_get_data (labels0, &size);
    gsize drawn = 0;

    for (gsize i = 3; i < size; i += 4)
      drawn += data[i] != 0;
    g_assert_cmpuint (drawn, >, 20);
  }

  /* The same x is the same time in both: wherever both have a sample
   * under the pointer, it is of the same age. */
  for (int x = 0; x < width; x++)
    {
      g_autofree char *a = kestrel_graph_view_describe_at (views[0], x, height / 2);
      g_autofree char *b = kestrel_graph_view_describe_at (views[1], x, height / 2);

      if (a == NULL || b == NULL)
        continue;
      both++;
      /* the first line is the age */
      g_assert_cmpint (strcspn (a, "\n"), ==, strcspn (b, "\n"));
      g_assert_cmpint (strncmp (a, b, strcspn (a, "\n")), ==, 0);
    }
  g_test_message ("%u columns with a sample in both graphs", both);
  g_assert_cmpuint (both, >, 20);

  /* The second graph's newest sample is ten seconds old: the last ten
   * seconds of it are empty, not stretched to the right edge. */
  {
    g_autofree char *a = kestrel_graph_view_describe_at (views[0], width - 2, height / 2);
    g_autofree char *b = kestrel_graph_view_describe_at (views[1], width - 2, height / 2);

    g_assert_nonnull (a);
    g_assert_true (g_str_has_prefix (a, "Now\n"));
    g_assert_null (b);
  }

  for (guint v = 0; v < 2; v++)
    cairo_surface_destroy (surfaces[v]);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* The values under the pointer, as the tooltip shows them. */
static void
test_values_under_pointer (void)
{
  KestrelGraphView *view = KESTREL_GRAPH_VIEW (kestrel_graph_view_new ());
  g_autofree KestrelGraphViewValue *values = NULL;
  GtkWidget *window;
  guint n_values = 0;
  gint64 sample_time = 0;
  int width, height;

  g_object_set (view, "unit", "ms", "stacked", TRUE, "auto-scale", TRUE, NULL);
  kestrel_graph_view_add_series (view, "Inference", "accent");
  kestrel_graph_view_add_series (view, "Decode", "success");
  for (int i = 0; i < 60; i++)
    {
      kestrel_graph_view_push (view, 0, i * G_USEC_PER_SEC, 4.0 + i / 10.0);
      /* the decoder's samples only on even seconds */
      if (i % 2 == 0)
        kestrel_graph_view_push (view, 1, i * G_USEC_PER_SEC, 0.3);
    }

  /* by time: the nearest sample of each series within half an interval */
  g_assert_true (kestrel_graph_view_query (view, 30 * G_USEC_PER_SEC + 200000, &values, &n_values, &sample_time));
  g_assert_cmpint (sample_time, ==, 30 * G_USEC_PER_SEC);
  g_assert_cmpuint (n_values, ==, 2);
  g_assert_cmpuint (values[0].series, ==, 0);
  g_assert_cmpfloat (values[0].value, ==, 7.0);
  g_assert_cmpuint (values[1].series, ==, 1);
  g_assert_cmpfloat (values[1].value, ==, 0.3);
  g_clear_pointer (&values, g_free);
  /* an odd second: no decode sample there */
  g_assert_true (kestrel_graph_view_query (view, 31 * G_USEC_PER_SEC, &values, &n_values, NULL));
  g_assert_cmpuint (n_values, ==, 1);
  g_clear_pointer (&values, g_free);
  /* before the first sample: nothing */
  g_assert_false (kestrel_graph_view_query (view, -5 * G_USEC_PER_SEC, &values, &n_values, NULL));
  g_assert_null (values);

  window = show_in_window (GTK_WIDGET (view), 400, 240);
  width = gtk_widget_get_width (GTK_WIDGET (view));
  height = gtk_widget_get_height (GTK_WIDGET (view));

  /* at the right edge: the newest samples (59 s: no decode) */
  {
    g_autofree char *text = kestrel_graph_view_describe_at (view, width - 2, height - 40);

    g_test_message ("right edge: %s", text);
    g_assert_cmpstr (text, ==, "Now\nInference: 9.90 ms");
  }
  /* one second back, both and their total */
  {
    gboolean seen = FALSE;

    for (int x = width - 2; x > width / 2 && !seen; x--)
      {
        g_autofree char *text = kestrel_graph_view_describe_at (view, x, height - 40);

        if (text != NULL && g_str_has_prefix (text, "1 s ago"))
          {
            g_assert_cmpstr (text, ==, "1 s ago\nInference: 9.80 ms\nDecode: 0.30 ms\nTotal: 10.1 ms");
            seen = TRUE;
          }
      }
    g_assert_true (seen);
  }
  /* over the legend or the labels: nothing (the widget's own tooltip) */
  g_assert_null (kestrel_graph_view_describe_at (view, 2, 2));
  g_assert_null (kestrel_graph_view_describe_at (view, width - 2, height - 1));

  gtk_window_destroy (GTK_WINDOW (window));
}

/* The @nth (from 0) descendant of @widget of @type, depth first, or NULL. */
static GtkWidget *
find_nth (GtkWidget *widget,
          GType      type,
          guint     *nth)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found;

      if (g_type_is_a (G_OBJECT_TYPE (child), type) && (*nth)-- == 0)
        return child;
      found = find_nth (child, type, nth);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static GtkWidget *
find_child (GtkWidget *widget,
            GType      type,
            guint      nth)
{
  return find_nth (widget, type, &nth);
}

/* A legend entry toggles its series: off, it is not drawn, not in the
 * stack or the scale, not under the pointer; its data stays. */
static void
test_legend_hides (void)
{
  KestrelGraphView *view = KESTREL_GRAPH_VIEW (kestrel_graph_view_new ());
  KestrelRingSample points[N_MAX];
  GtkWidget *window, *toggle;
  double hi;
  int width, height;

  g_object_set (view, "auto-scale", TRUE, NULL);
  kestrel_graph_view_add_series (view, "Kestrel", "accent");
  kestrel_graph_view_add_series (view, "System", "warning");
  for (int i = 0; i < 60; i++)
    {
      kestrel_graph_view_push (view, 0, i * G_USEC_PER_SEC, 20.0);
      kestrel_graph_view_push (view, 1, i * G_USEC_PER_SEC, 170.0);
    }
  window = show_in_window (GTK_WIDGET (view), 400, 240);
  width = gtk_widget_get_width (GTK_WIDGET (view));
  height = gtk_widget_get_height (GTK_WIDGET (view));

  kestrel_graph_view_get_y_range (view, NULL, &hi, NULL);
  g_assert_cmpfloat (hi, >=, 170.0);
  g_assert_true (kestrel_graph_view_get_series_visible (view, 1));

  /* the second entry's toggle, activated as a click or a key would */
  toggle = find_child (GTK_WIDGET (view), GTK_TYPE_TOGGLE_BUTTON, 1);
  g_assert_nonnull (toggle);
  g_assert_true (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (toggle)));
  gtk_widget_activate (toggle);
  /* a button activated from the keyboard clicks after 250 ms */
  ui_test_spin (500);
  g_assert_false (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (toggle)));
  g_assert_false (kestrel_graph_view_get_series_visible (view, 1));
  g_assert_true (kestrel_graph_view_get_series_visible (view, 0));

  /* out of the scale, and out of the tooltip */
  kestrel_graph_view_get_y_range (view, NULL, &hi, NULL);
  g_assert_cmpfloat (hi, <, 170.0);
  {
    g_autofree char *text = kestrel_graph_view_describe_at (view, width - 2, height - 30);

    g_assert_cmpstr (text, ==, "Now\nKestrel: 20.0");
  }
  /* and not drawn: no pixel near its colour */
  {
    cairo_surface_t *surface = render_widget (GTK_WIDGET (view));
    GtkWidget *legend = find_child (GTK_WIDGET (view), GTK_TYPE_FLOW_BOX, 0);
    int below_legend = gtk_widget_get_height (legend) + 2;
    GdkRGBA color;
    guint near = 0;

    kestrel_graph_view_get_series_color (view, 1, &color);
    for (int y = below_legend; y < height; y++)
      for (int x = 0; x < width; x++)
        {
          GdkRGBA p = pixel_at (surface, x, y);

          near += p.alpha > 0.9f && color_distance (&p, &color) < 0.1;
        }
    g_assert_cmpuint (near, ==, 0);
    cairo_surface_destroy (surface);
  }
  /* its data is still there */
  g_assert_cmpuint (kestrel_graph_view_get_points (view, 1, points, N_MAX), ==, 60);

  /* on again, from code: the toggle follows */
  kestrel_graph_view_set_series_visible (view, 1, TRUE);
  g_assert_true (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (toggle)));
  kestrel_graph_view_get_y_range (view, NULL, &hi, NULL);
  g_assert_cmpfloat (hi, >=, 170.0);

  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  kestrel_ui_init ();

  g_test_add_func ("/ui/graph-view/data-in", test_data_in);
  g_test_add_func ("/ui/graph-view/history-bound", test_history_bound);
  g_test_add_func ("/ui/graph-view/auto-scale", test_auto_scale);
  g_test_add_func ("/ui/graph-view/stacked", test_stacked);
  g_test_add_func ("/ui/graph-view/properties", test_properties);
  g_test_add_func ("/ui/graph-view/no-redraw-while-hidden", test_hidden);
  g_test_add_func ("/ui/graph-view/stacked-top-edge", test_stacked_top_edge);
  g_test_add_func ("/ui/graph-view/shared-time-axis", test_shared_time_axis);
  g_test_add_func ("/ui/graph-view/values-under-pointer", test_values_under_pointer);
  g_test_add_func ("/ui/graph-view/legend-hides", test_legend_hides);

  return g_test_run ();
}
