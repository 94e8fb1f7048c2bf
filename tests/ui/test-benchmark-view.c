/* test-benchmark-view.c — KestrelBenchmarkView in a real window: Run on a
 * narrowed suite (fp32, simd, one thread, batch 1, 0.3 s) finishes, saves
 * a result and draws its bar; a second run compared with the first draws
 * two; Cancel stops a long run and saves nothing. Leaves
 * benchmark-view-light.png and benchmark-view-dark.png in the folder given,
 * for a person to look at. Results go to a temporary XDG_DATA_HOME.
 *
 *   test-benchmark-view OUTPUT-DIR
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>

#include "kestrel-bench-chart.h"
#include "kestrel-bench-result.h"
#include "kestrel-benchmark-view.h"
#include "kestrel-ui.h"
#include "ui-test-util.h"

static gboolean
not_running (gpointer data)
{
  return !kestrel_benchmark_view_get_running (data);
}

static guint
n_saved (void)
{
  g_autoptr(GPtrArray) saved = kestrel_bench_list_saved ();
  return saved->len;
}

static gboolean
render (GtkWidget *window, const char *path)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (window);
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  int width = gtk_widget_get_width (window), height = gtk_widget_get_height (window);

  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  if (node == NULL)
    return FALSE;
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (window)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_print ("%s (%dx%d)\n", path, width, height);
  return gdk_texture_save_to_png (texture, path);
}

#define CHECK(cond)                                                  \
  do {                                                               \
    if (!(cond))                                                     \
      {                                                              \
        g_printerr ("FAIL line %d: %s\n", __LINE__, #cond);          \
        return 1;                                                    \
      }                                                              \
  } while (0)

int
main (int argc, char **argv)
{
  g_autofree char *home = g_dir_make_tmp ("test-benchmark-view-XXXXXX", NULL);
  g_autoptr(GPtrArray) saved = NULL;
  KestrelBenchOptions options;
  GtkWidget *window, *view, *scroller;
  const KestrelBenchResult *r;
  g_autofree char *first = NULL;

  if (argc != 2)
    {
      g_printerr ("usage: %s OUTPUT-DIR\n", argv[0]);
      return 2;
    }
  g_setenv ("XDG_DATA_HOME", home, TRUE);
  gtk_init ();
  kestrel_ui_init ();

  window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), 760, 720);
  view = kestrel_benchmark_view_new ();
  scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), view);
  gtk_window_set_child (GTK_WINDOW (window), scroller);
  gtk_window_present (GTK_WINDOW (window));
  CHECK (kestrel_benchmark_view_get_result (KESTREL_BENCHMARK_VIEW (view)) == NULL);

  kestrel_bench_options_init (&options);
  options.n_precisions = 1;
  options.precisions[0] = KESTREL_PRECISION_FP32;
  options.n_levels = 2;
  options.levels[0] = KK_LEVEL_SIMD;
  options.levels[1] = KK_LEVEL_FULL;
  options.n_threads = 1;
  options.threads[0] = 1;
  options.n_batches = 1;
  options.batches[0] = 1;
  options.time_per_cell_s = 0.3;
  options.rounds = 2;
  kestrel_benchmark_view_set_options (KESTREL_BENCHMARK_VIEW (view), &options);

  /* Run: two cells, saved, drawn. */
  kestrel_benchmark_view_run (KESTREL_BENCHMARK_VIEW (view));
  CHECK (kestrel_benchmark_view_get_running (KESTREL_BENCHMARK_VIEW (view)));
  CHECK (ui_test_wait_until (not_running, view));
  r = kestrel_benchmark_view_get_result (KESTREL_BENCHMARK_VIEW (view));
  CHECK (r != NULL && r->cells->len == 2);
  CHECK (n_saved () == 1);
  saved = kestrel_bench_list_saved ();
  first = g_strdup (saved->pdata[0]);

  /* A second run, compared with the first: two bars a cell. */
  g_usleep (1100 * 1000);   /* saved names are by the second */
  kestrel_benchmark_view_run (KESTREL_BENCHMARK_VIEW (view));
  CHECK (ui_test_wait_until (not_running, view));
  CHECK (n_saved () == 2);
  CHECK (kestrel_benchmark_view_compare_file (KESTREL_BENCHMARK_VIEW (view), first, NULL));
  ui_test_spin (300);
  {
    /* The view must not hold the window wider than the 360 px it supports. */
    int min_width;
    gtk_widget_measure (view, GTK_ORIENTATION_HORIZONTAL, -1, &min_width, NULL, NULL, NULL);
    g_print ("benchmark view: minimum width %d\n", min_width);
    for (GtkWidget *c = gtk_widget_get_first_child (view); c != NULL; c = gtk_widget_get_next_sibling (c))
      {
        int w;
        gtk_widget_measure (c, GTK_ORIENTATION_HORIZONTAL, -1, &w, NULL, NULL, NULL);
        g_print ("  %s: %d\n", G_OBJECT_TYPE_NAME (c), w);
      }
    CHECK (min_width <= 336);
  }

  {
    static const struct { AdwColorScheme scheme; const char *name; } styles[] = {
      { ADW_COLOR_SCHEME_FORCE_LIGHT, "light" },
      { ADW_COLOR_SCHEME_FORCE_DARK, "dark" },
    };
    for (guint i = 0; i < G_N_ELEMENTS (styles); i++)
      {
        g_autofree char *name = g_strdup_printf ("benchmark-view-%s.png", styles[i].name);
        g_autofree char *path = g_build_filename (argv[1], name, NULL);
        adw_style_manager_set_color_scheme (adw_style_manager_get_default (), styles[i].scheme);
        ui_test_spin (300);
        CHECK (render (window, path));
      }
  }

  /* Cancel: a scalar cell capped at a minute stops, and nothing is saved. */
  options.n_levels = 1;
  options.levels[0] = KK_LEVEL_SCALAR;
  options.time_per_cell_s = 60;
  kestrel_benchmark_view_set_options (KESTREL_BENCHMARK_VIEW (view), &options);
  kestrel_benchmark_view_run (KESTREL_BENCHMARK_VIEW (view));
  ui_test_spin (500);
  CHECK (kestrel_benchmark_view_get_running (KESTREL_BENCHMARK_VIEW (view)));
  kestrel_benchmark_view_cancel (KESTREL_BENCHMARK_VIEW (view));
  CHECK (ui_test_wait_until (not_running, view));
  CHECK (n_saved () == 2);

  gtk_window_destroy (GTK_WINDOW (window));
  saved = kestrel_bench_list_saved ();
  for (guint i = 0; i < saved->len; i++)
    g_unlink (saved->pdata[i]);
  {
    g_autofree char *bench = g_build_filename (home, "kestrel", "benchmarks", NULL);
    g_autofree char *kestrel = g_build_filename (home, "kestrel", NULL);
    g_rmdir (bench);
    g_rmdir (kestrel);
    g_rmdir (home);
  }
  g_print ("all checks passed\n");
  return 0;
}
