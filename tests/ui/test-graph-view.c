/* test-graph-view.c — KestrelGraphView: data in, history bound, auto-scale,
 * stacking, and no redraw while hidden. Runs under a display (Xvfb in
 * meson test, see run-with-display.sh). */
#include "config.h"

#include <math.h>
#include <gtk/gtk.h>

#include "kestrel-graph-view.h"

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

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ui/graph-view/data-in", test_data_in);
  g_test_add_func ("/ui/graph-view/history-bound", test_history_bound);
  g_test_add_func ("/ui/graph-view/auto-scale", test_auto_scale);
  g_test_add_func ("/ui/graph-view/stacked", test_stacked);
  g_test_add_func ("/ui/graph-view/properties", test_properties);
  g_test_add_func ("/ui/graph-view/no-redraw-while-hidden", test_hidden);

  return g_test_run ();
}
