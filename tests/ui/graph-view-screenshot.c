/* graph-view-screenshot.c — three graphs with synthetic data, as the
 * application will show them, rendered to PNG in the light and the dark
 * style, for people to look at.
 *
 *   graph-view-screenshot OUTPUT-DIR
 *
 * writes OUTPUT-DIR/graph-view-light.png and graph-view-dark.png. */
#include "config.h"

#include <math.h>
#include <adwaita.h>

#include "kestrel-graph-view.h"
#include "kestrel-ui.h"
#include "ui-test-util.h"

#define N_SAMPLES 60

static GtkWidget *
add_graph (GtkBox     *box,
           const char *title)
{
  GtkWidget *heading = gtk_label_new (title);
  GtkWidget *view = kestrel_graph_view_new ();

  gtk_label_set_xalign (GTK_LABEL (heading), 0.0f);
  gtk_widget_add_css_class (heading, "heading");
  gtk_box_append (box, heading);
  gtk_box_append (box, view);
  gtk_widget_set_vexpand (view, TRUE);
  return view;
}

static void
fill (KestrelGraphView *view)
{
  GRand *rand = g_rand_new_with_seed (42);
  const char *title = g_object_get_data (G_OBJECT (view), "kind");
  gint64 t0 = 1000 * G_USEC_PER_SEC;

  for (int i = 0; i < N_SAMPLES; i++)
    {
      gint64 t = t0 + (gint64) i * G_USEC_PER_SEC;
      double noise = g_rand_double_range (rand, -1.0, 1.0);

      if (g_str_equal (title, "cpu"))
        {
          /* the budget holds, with a spike when the thread count changed */
          double kestrel = 38.0 + 6.0 * sin (i / 5.0) + 2.0 * noise + (i >= 40 && i < 44 ? 18.0 : 0.0);
          kestrel_graph_view_push (view, 0, t, kestrel);
          kestrel_graph_view_push (view, 1, t, kestrel + 9.0 + 3.0 * fabs (noise));
        }
      else if (g_str_equal (title, "memory"))
        {
          /* RSS slope settling towards zero */
          kestrel_graph_view_push (view, 0, t, 14.0 * exp (-i / 12.0) + 0.8 * noise);
        }
      else
        {
          kestrel_graph_view_push (view, 0, t, 0.22 + 0.03 * noise);
          kestrel_graph_view_push (view, 1, t, 0.15 + 0.1 * fabs (sin (i / 3.0)));
          kestrel_graph_view_push (view, 2, t, (i < 30 ? 1.9 : 1.1) + 0.15 * noise);
          kestrel_graph_view_push (view, 3, t, 0.12 + 0.02 * noise);
        }
    }
  g_rand_free (rand);
}

static GtkWidget *
build_window (void)
{
  GtkWidget *window = gtk_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *view;

  gtk_window_set_decorated (GTK_WINDOW (window), FALSE);
  gtk_window_set_default_size (GTK_WINDOW (window), 640, 720);
  gtk_widget_set_margin_top (box, 18);
  gtk_widget_set_margin_bottom (box, 18);
  gtk_widget_set_margin_start (box, 18);
  gtk_widget_set_margin_end (box, 18);
  gtk_window_set_child (GTK_WINDOW (window), box);

  view = add_graph (GTK_BOX (box), "CPU");
  g_object_set_data (G_OBJECT (view), "kind", (gpointer) "cpu");
  g_object_set (view,
                "unit", "%",
                "show-reference", TRUE,
                "reference-value", 50.0,
                "reference-label", "Budget",
                NULL);
  kestrel_graph_view_add_series (KESTREL_GRAPH_VIEW (view), "Kestrel", "accent");
  kestrel_graph_view_add_series (KESTREL_GRAPH_VIEW (view), "System", "neutral");
  fill (KESTREL_GRAPH_VIEW (view));

  view = add_graph (GTK_BOX (box), "Memory growth");
  g_object_set_data (G_OBJECT (view), "kind", (gpointer) "memory");
  g_object_set (view, "unit", "MB/h", "auto-scale", TRUE, NULL);
  kestrel_graph_view_add_series (KESTREL_GRAPH_VIEW (view), "RSS slope", "success");
  fill (KESTREL_GRAPH_VIEW (view));

  view = add_graph (GTK_BOX (box), "Latency");
  g_object_set_data (G_OBJECT (view), "kind", (gpointer) "latency");
  g_object_set (view, "unit", "ms", "auto-scale", TRUE, "stacked", TRUE, NULL);
  kestrel_graph_view_add_series (KESTREL_GRAPH_VIEW (view), "Preprocess", "purple");
  kestrel_graph_view_add_series (KESTREL_GRAPH_VIEW (view), "Batch wait", "warning");
  kestrel_graph_view_add_series (KESTREL_GRAPH_VIEW (view), "Inference", "accent");
  kestrel_graph_view_add_series (KESTREL_GRAPH_VIEW (view), "Decode", "success");
  fill (KESTREL_GRAPH_VIEW (view));

  return window;
}

static gboolean
render (GtkWidget  *window,
        const char *path)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (window);
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  int width = gtk_widget_get_width (window);
  int height = gtk_widget_get_height (window);

  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  if (node == NULL)
    {
      g_printerr ("nothing rendered for %s\n", path);
      return FALSE;
    }
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (window)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_printerr ("could not write %s\n", path);
      return FALSE;
    }
  g_print ("%s (%dx%d)\n", path, width, height);
  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  static const struct { AdwColorScheme scheme; const char *name; } styles[] = {
    { ADW_COLOR_SCHEME_FORCE_LIGHT, "light" },
    { ADW_COLOR_SCHEME_FORCE_DARK, "dark" },
  };
  GtkWidget *window;
  gboolean ok = TRUE;

  if (argc != 2)
    {
      g_printerr ("usage: %s OUTPUT-DIR\n", argv[0]);
      return 2;
    }

  gtk_init ();
  adw_init ();
  kestrel_ui_init ();

  window = build_window ();
  gtk_window_present (GTK_WINDOW (window));

  for (guint i = 0; i < G_N_ELEMENTS (styles); i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/graph-view-%s.png", argv[1], styles[i].name);

      adw_style_manager_set_color_scheme (adw_style_manager_get_default (), styles[i].scheme);
      ui_test_spin (500);
      ok &= render (window, path);
    }

  gtk_window_destroy (GTK_WINDOW (window));
  return ok ? 0 : 1;
}
