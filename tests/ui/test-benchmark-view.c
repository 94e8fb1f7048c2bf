/* test-benchmark-view.c — KestrelBenchmarkView in a real window: Run on a
 * narrowed suite (fp32 and int8 when supported; simd, and full at 1 and 2
 * threads; batch 1; 0.3 s a cell) finishes, saves a result whose cells
 * have faces agreeing, and draws its three charts (latency, speed against
 * accuracy, thread scaling); the Best Under Budget line names the cell
 * core picks; the table sorts; a row's Use button and Best Under Budget's
 * write the live settings; the exports open (CSV parses with its columns,
 * PNG loads with gdk-pixbuf, SVG is well-formed XML with an <svg> root),
 * and the export menu's own path opens the file chooser with the file's
 * name and, cancelled, writes nothing (accepting it cannot be driven from
 * a test with GTK 4.8: see export_through_chooser); a
 * second run compared with the first draws two bars a cell, and its thread
 * scaling beside the first's (the plot area changes when it is compared,
 * against the first run drawn alone); Cancel stops a
 * long run and saves nothing; a corrupt saved run is refused naming it and
 * the next run saves as usual. Leaves benchmark-view-{light,dark}.png (the
 * whole view at 1000 px, near the 960 px the window clamps it to) and
 * benchmark-view-narrow-{light,dark}.png (at 360 px) in the folder given,
 * for a person to look at. Results go to a
 * temporary XDG_DATA_HOME; settings to the memory backend.
 *
 *   test-benchmark-view OUTPUT-DIR
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "kestrel-bench-chart.h"
#include "kestrel-bench-result.h"
#include "kestrel-bench-table.h"
#include "kestrel-benchmark-view.h"
#include "kestrel-ui.h"
#include "ui-test-chooser.h"
#include "ui-test-util.h"

/* The thread-scaling plot of `a` drawn alone and with `b` compared, at the
 * height of the second (which has more legend): the plot area above the
 * legend must differ, i.e. b's series are drawn. */
static gboolean
scaling_draws_compared (GtkWidget *widget, const KestrelBenchResult *a, const KestrelBenchResult *b)
{
  const int width = 600;
  const int height = kestrel_bench_plot_get_height (KESTREL_BENCH_PLOT_SCALING, NULL, a, b, width);
  const int area = 170;   /* the plot area's top rows, above its legend at any width */
  KestrelBenchPalette palette;
  cairo_surface_t *surface[2];
  gboolean differ = FALSE;

  kestrel_bench_palette_from_widget (widget, &palette);
  for (guint i = 0; i < 2; i++)
    {
      cairo_t *cr;
      surface[i] = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
      cr = cairo_create (surface[i]);
      kestrel_bench_plot_draw (KESTREL_BENCH_PLOT_SCALING, cr, NULL, &palette, a, i == 0 ? NULL : b, width, height);
      cairo_destroy (cr);
      cairo_surface_flush (surface[i]);
    }
  for (int y = 0; y < area && y < height && !differ; y++)
    differ = memcmp (cairo_image_surface_get_data (surface[0]) + y * cairo_image_surface_get_stride (surface[0]),
                     cairo_image_surface_get_data (surface[1]) + y * cairo_image_surface_get_stride (surface[1]),
                     width * 4) != 0;
  cairo_surface_destroy (surface[0]);
  cairo_surface_destroy (surface[1]);
  return differ;
}

static gboolean
chooser_closed (gpointer data)
{
  return ui_test_find_chooser () == NULL;
}

/* The export menu's path for `target` ("scaling-svg", "csv"...) up to the
 * file chooser: the action opens it, suggesting `suggested`; `name` in
 * `dir` is typed there, and it is cancelled.
 *
 * Why not accepted: GTK 4.8 has no GtkFileDialog, and the
 * GtkFileChooserNative the view opens is, without a portal (the tests'
 * Xvfb), a GtkFileChooserDialog in the process. Answering it "accept" from
 * the test (gtk_dialog_response, as its Export button does) leaves it open:
 * in save mode the dialog stops that response and first checks the name
 * asynchronously, and under Xvfb the check never answered within 60 s, so
 * the native dialog's response, which the view's export_response() waits
 * for, never came. What export_response() then does (export_to with the
 * chosen path) is what kestrel_benchmark_view_export_chart() and
 * _export_csv() do, which the test calls directly. */
static gboolean
export_through_chooser (GtkWidget *view, const char *target, const char *suggested, const char *dir,
                        const char *name)
{
  g_autoptr(GFile) folder = g_file_new_for_path (dir);
  g_autoptr(GError) error = NULL;
  g_autofree char *current = NULL;
  GtkWidget *dialog;

  if (!gtk_widget_activate_action (view, "bench.export", "s", target))
    {
      g_print ("export %s: no action bench.export\n", target);
      return FALSE;
    }
  if (!ui_test_wait_until (ui_test_chooser_shown, NULL))
    {
      g_print ("export %s: no file chooser opened\n", target);
      return FALSE;
    }
  dialog = ui_test_find_chooser ();
  current = gtk_file_chooser_get_current_name (GTK_FILE_CHOOSER (dialog));
  if (g_strcmp0 (current, suggested) != 0)
    {
      g_print ("export %s: the chooser suggests %s, not %s\n", target, current, suggested);
      return FALSE;
    }
  if (!gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (dialog), folder, &error))
    {
      g_print ("export %s: the chooser refused the folder %s: %s\n", target, dir, error->message);
      return FALSE;
    }
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), name);
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_CANCEL);
  if (!ui_test_wait_until (chooser_closed, NULL))
    {
      g_print ("export %s: the chooser stayed open\n", target);
      return FALSE;
    }
  return TRUE;
}

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

/* The whole of `widget` (a view taller than its window, too) on the
 * window's background, as a PNG. */
static gboolean
render (GtkWidget *widget, const char *path)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  GdkRGBA bg;

  if (!gtk_style_context_lookup_color (gtk_widget_get_style_context (widget), "window_bg_color", &bg))
    return FALSE;
  gtk_snapshot_append_color (snapshot, &bg, &GRAPHENE_RECT_INIT (0, 0, width, height));
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  if (node == NULL)
    return FALSE;
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (gtk_widget_get_native (widget)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_print ("%s (%dx%d)\n", path, width, height);
  return gdk_texture_save_to_png (texture, path);
}

/* Every widget of `type` under `root`, in order. */
static void
collect (GtkWidget *root, GType type, GPtrArray *out)
{
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      if (G_TYPE_CHECK_INSTANCE_TYPE (c, type))
        g_ptr_array_add (out, c);
      collect (c, type, out);
    }
}

static GPtrArray *
find_all (GtkWidget *root, GType type)
{
  GPtrArray *out = g_ptr_array_new ();
  collect (root, type, out);
  return out;
}

/* The first mapped label under `root` whose text starts with `prefix`. */
static GtkWidget *
find_label (GtkWidget *root, const char *prefix)
{
  g_autoptr(GPtrArray) labels = find_all (root, GTK_TYPE_LABEL);

  for (guint i = 0; i < labels->len; i++)
    if (g_str_has_prefix (gtk_label_get_label (labels->pdata[i]), prefix) && gtk_widget_get_mapped (labels->pdata[i]))
      return labels->pdata[i];
  return NULL;
}

/* The Use buttons of the table, and the button whose label is `label`. */
static GtkWidget *
find_button (GtkWidget *root, const char *label, const char *css_class, guint nth)
{
  g_autoptr(GPtrArray) buttons = find_all (root, GTK_TYPE_BUTTON);

  for (guint i = 0; i < buttons->len; i++)
    {
      GtkWidget *b = buttons->pdata[i];
      if ((label == NULL || g_strcmp0 (gtk_button_get_label (GTK_BUTTON (b)), label) == 0)
          && (css_class == NULL || gtk_widget_has_css_class (b, css_class)) && nth-- == 0)
        return b;
    }
  return NULL;
}

static gboolean
same_config (GSettings *settings, const KestrelBenchCell *c)
{
  g_autofree char *precision = g_settings_get_string (settings, "precision");
  g_autofree char *level = g_settings_get_string (settings, "level");

  return g_str_equal (precision, kestrel_precision_name (c->precision)) && g_str_equal (level, kk_level_name (c->level))
         && g_settings_get_int (settings, "threads") == (int) c->threads
         && g_settings_get_int (settings, "batch") == (int) c->batch;
}

/* The CSV export: a header with the table's columns, one row per cell,
 * every row as many fields as the header (RFC 4180 quotes honoured). */
static guint
csv_fields (const char *line)
{
  guint n = 1;
  gboolean quoted = FALSE;

  for (const char *p = line; *p; p++)
    if (*p == '"')
      quoted = !quoted;
    else if (*p == ',' && !quoted)
      n++;
  return n;
}

static gboolean
csv_ok (const char *path, guint n_cells)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  guint n_lines = 0, header;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  lines = g_strsplit (text, "\r\n", -1);
  while (lines[n_lines] != NULL && lines[n_lines][0] != '\0')
    n_lines++;
  if (n_lines != n_cells + 1 || strstr (lines[0], "faces_agreeing") == NULL
      || strstr (lines[0], "median_ms") == NULL)
    return FALSE;
  header = csv_fields (lines[0]);
  for (guint i = 1; i < n_lines; i++)
    if (csv_fields (lines[i]) != header)
      return FALSE;
  return TRUE;
}

static void
svg_start (GMarkupParseContext *context, const char *element, const char **names, const char **values,
           gpointer user_data, GError **error)
{
  const char **root = user_data;

  if (*root == NULL)
    *root = g_intern_string (element);
}

/* Well-formed XML (GMarkup is strict about it) whose root is <svg>. */
static gboolean
svg_ok (const char *path)
{
  static const GMarkupParser parser = { svg_start, NULL, NULL, NULL, NULL };
  g_autofree char *text = NULL;
  gsize length;
  const char *root = NULL;
  GMarkupParseContext *context;
  gboolean ok;

  if (!g_file_get_contents (path, &text, &length, NULL))
    return FALSE;
  context = g_markup_parse_context_new (&parser, 0, &root, NULL);
  ok = g_markup_parse_context_parse (context, text, length, NULL) && g_markup_parse_context_end_parse (context, NULL);
  g_markup_parse_context_free (context);
  return ok && g_strcmp0 (root, "svg") == 0;
}

static gboolean
png_ok (const char *path)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new_from_file (path, NULL);
  return pixbuf != NULL && gdk_pixbuf_get_width (pixbuf) >= 640 && gdk_pixbuf_get_height (pixbuf) > 100;
}

static gboolean
screenshots (GtkWidget *widget, const char *dir, const char *name)
{
  static const struct { AdwColorScheme scheme; const char *name; } styles[] = {
    { ADW_COLOR_SCHEME_FORCE_LIGHT, "light" },
    { ADW_COLOR_SCHEME_FORCE_DARK, "dark" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (styles); i++)
    {
      g_autofree char *file = g_strdup_printf ("%s-%s.png", name, styles[i].name);
      g_autofree char *path = g_build_filename (dir, file, NULL);
      adw_style_manager_set_color_scheme (adw_style_manager_get_default (), styles[i].scheme);
      ui_test_spin (300);
      if (!render (widget, path))
        return FALSE;
    }
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_DEFAULT);
  return TRUE;
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
  g_autoptr(GPtrArray) charts = NULL;
  g_autoptr(GSettings) settings = NULL;
  KestrelBenchOptions options;
  GtkWidget *window, *view, *scroller, *table, *button, *narrow_window, *narrow_view, *narrow_scroller;
  const KestrelBenchResult *r;
  const KestrelBenchCell *best, *cell;
  g_autofree char *first = NULL;
  guint n_cells;
  double rate;

  if (argc != 2)
    {
      g_printerr ("usage: %s OUTPUT-DIR\n", argv[0]);
      return 2;
    }
  g_setenv ("XDG_DATA_HOME", home, TRUE);
  gtk_init ();
  kestrel_ui_init ();
  settings = g_settings_new ("org.kestrel.Kestrel");

  window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 720);
  view = kestrel_benchmark_view_new ();
  kestrel_benchmark_view_set_settings (KESTREL_BENCHMARK_VIEW (view), settings);
  scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), view);
  gtk_window_set_child (GTK_WINDOW (window), scroller);
  gtk_window_present (GTK_WINDOW (window));
  CHECK (kestrel_benchmark_view_get_result (KESTREL_BENCHMARK_VIEW (view)) == NULL);

  /* simd, and full at 1 and 2 threads (a thread-scaling line), at FP32
   * and, where it is supported, INT8 (points apart on the accuracy axis). */
  kestrel_bench_options_init (&options);
  options.precisions[options.n_precisions++] = KESTREL_PRECISION_FP32;
  if (kestrel_precision_is_supported (KESTREL_PRECISION_INT8))
    options.precisions[options.n_precisions++] = KESTREL_PRECISION_INT8;
  options.n_levels = 2;
  options.levels[0] = KK_LEVEL_SIMD;
  options.levels[1] = KK_LEVEL_FULL;
  options.n_threads = 2;
  options.threads[0] = 1;
  options.threads[1] = 2;
  options.n_batches = 1;
  options.batches[0] = 1;
  options.time_per_cell_s = 0.3;
  options.rounds = 2;
  kestrel_benchmark_view_set_options (KESTREL_BENCHMARK_VIEW (view), &options);
  n_cells = options.n_precisions * 3;

  /* Run: saved, with faces agreeing measured on every cell. */
  kestrel_benchmark_view_run (KESTREL_BENCHMARK_VIEW (view));
  CHECK (kestrel_benchmark_view_get_running (KESTREL_BENCHMARK_VIEW (view)));
  CHECK (ui_test_wait_until (not_running, view));
  r = kestrel_benchmark_view_get_result (KESTREL_BENCHMARK_VIEW (view));
  CHECK (r != NULL && r->cells->len == n_cells);
  CHECK (n_saved () == 1);
  for (guint i = 0; i < r->cells->len; i++)
    {
      g_autofree char *label = NULL;
      cell = r->cells->pdata[i];
      label = kestrel_bench_cell_dup_label (cell);
      g_print ("%s: faces %d, matched %u, extra %u, sqnr %.1f\n", label,
               cell->faces_fp32, cell->faces_matched, cell->faces_extra, cell->sqnr_db);
      CHECK (cell->faces_fp32 > 0);   /* the sample photos have faces */
      /* FP32 at another level differs from the reference by rounding only */
      if (cell->precision == KESTREL_PRECISION_FP32)
        CHECK (kestrel_bench_cell_get_faces_agreeing (cell) == 1.0);
    }
  saved = kestrel_bench_list_saved ();
  first = g_strdup (saved->pdata[0]);
  ui_test_spin (300);

  /* Three charts, each drawn, none left with only its "nothing to show"
   * message (that is 60 px; the plots are taller). */
  charts = find_all (view, KESTREL_TYPE_BENCH_CHART);
  CHECK (charts->len == 3);
  for (guint i = 0; i < charts->len; i++)
    {
      g_print ("chart %u: %d px tall, drawn %u times\n", i, gtk_widget_get_height (charts->pdata[i]),
               kestrel_bench_chart_get_n_draws (charts->pdata[i]));
      CHECK (kestrel_bench_chart_get_n_draws (charts->pdata[i]) > 0);
      CHECK (gtk_widget_get_height (charts->pdata[i]) > 150);
    }
  CHECK (kestrel_bench_chart_get_n_bars (charts->pdata[0]) == n_cells);

  /* Best Under Budget: with throttling on, the budget in the settings. */
  g_settings_set_string (settings, "throttle-mode", "budget");
  g_settings_set_int (settings, "cpu-budget", 50);
  ui_test_spin (100);
  best = kestrel_bench_best_under_budget (r, 50, &rate);
  CHECK (best != NULL && kestrel_bench_cell_meets_goal (best) && rate > 0);
  {
    GtkWidget *line = find_label (view, "Best Under Budget:");
    g_autofree char *label = kestrel_bench_cell_dup_label (best);
    CHECK (line != NULL);
    g_print ("%s\n", gtk_label_get_label (GTK_LABEL (line)));
    CHECK (strstr (gtk_label_get_label (GTK_LABEL (line)), label) != NULL);
    CHECK (strstr (gtk_label_get_label (GTK_LABEL (line)), "50 % of one core") != NULL);
  }

  /* The table sorts: by median, then by frames/s (its heading clicked:
   * best first, so descending). */
  {
    g_autoptr(GPtrArray) tables = find_all (view, KESTREL_TYPE_BENCH_TABLE);
    CHECK (tables->len == 1);
    table = tables->pdata[0];
  }
  kestrel_bench_table_sort (KESTREL_BENCH_TABLE (table), KESTREL_BENCH_COLUMN_MEDIAN, FALSE);
  for (guint i = 1; i < n_cells; i++)
    CHECK (kestrel_bench_table_get_row_cell (KESTREL_BENCH_TABLE (table), i - 1)->median_ms
           <= kestrel_bench_table_get_row_cell (KESTREL_BENCH_TABLE (table), i)->median_ms);
  {
    g_autoptr(GPtrArray) headings = find_all (table, GTK_TYPE_BUTTON);
    GtkWidget *frames = NULL;
    for (guint i = 0; i < headings->len && frames == NULL; i++)
      if (gtk_widget_has_css_class (headings->pdata[i], "sort-heading")
          && GPOINTER_TO_UINT (g_object_get_data (headings->pdata[i], "column")) == KESTREL_BENCH_COLUMN_FRAMES)
        frames = headings->pdata[i];
    CHECK (frames != NULL);
    g_signal_emit_by_name (frames, "clicked");
  }
  for (guint i = 1; i < n_cells; i++)
    CHECK (kestrel_bench_table_get_row_cell (KESTREL_BENCH_TABLE (table), i - 1)->frames_per_s
           >= kestrel_bench_table_get_row_cell (KESTREL_BENCH_TABLE (table), i)->frames_per_s);

  /* Use on a row: the slowest (last) row's configuration goes into the
   * settings, as the controls would write it. */
  cell = kestrel_bench_table_get_row_cell (KESTREL_BENCH_TABLE (table), n_cells - 1);
  button = find_button (table, "Use", "use-configuration", n_cells - 1);
  CHECK (button != NULL);
  g_signal_emit_by_name (button, "clicked");
  CHECK (same_config (settings, cell));
  /* and Best Under Budget's own button */
  button = find_button (view, "_Use This Configuration", NULL, 0);
  CHECK (button != NULL && gtk_widget_get_visible (button));
  g_signal_emit_by_name (button, "clicked");
  CHECK (same_config (settings, best));

  /* Exports: CSV, and each chart as PNG and SVG. */
  {
    static const KestrelBenchPlotKind kinds[] = {
      KESTREL_BENCH_PLOT_LATENCY, KESTREL_BENCH_PLOT_PARETO, KESTREL_BENCH_PLOT_SCALING,
    };
    static const char *const names[] = { "latency", "pareto", "scaling" };
    g_autofree char *csv = g_build_filename (argv[1], "benchmark-view-table.csv", NULL);
    g_autoptr(GError) error = NULL;

    CHECK (kestrel_benchmark_view_export_csv (KESTREL_BENCHMARK_VIEW (view), csv, &error));
    CHECK (csv_ok (csv, n_cells));
    for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
      {
        g_autofree char *png_name = g_strdup_printf ("benchmark-view-%s.png", names[k]);
        g_autofree char *svg_name = g_strdup_printf ("benchmark-view-%s.svg", names[k]);
        g_autofree char *png = g_build_filename (argv[1], png_name, NULL);
        g_autofree char *svg = g_build_filename (argv[1], svg_name, NULL);
        CHECK (kestrel_benchmark_view_export_chart (KESTREL_BENCHMARK_VIEW (view), kinds[k], FALSE, png, &error));
        CHECK (png_ok (png));
        CHECK (kestrel_benchmark_view_export_chart (KESTREL_BENCHMARK_VIEW (view), kinds[k], TRUE, svg, &error));
        CHECK (svg_ok (svg));
      }
    /* The export menu's own path as far as a test can drive it (see
     * export_through_chooser): the chooser opens with the right name, and
     * cancelled, writes nothing. */
    {
      g_autofree char *dir = g_canonicalize_filename (argv[1], NULL);
      g_autofree char *svg = g_build_filename (dir, "benchmark-view-chooser-scaling.svg", NULL);
      g_autofree char *csv2 = g_build_filename (dir, "benchmark-view-chooser.csv", NULL);
      g_unlink (svg);
      g_unlink (csv2);
      CHECK (export_through_chooser (view, "scaling-svg", "kestrel-benchmark-scaling.svg", dir,
                                     "benchmark-view-chooser-scaling.svg"));
      CHECK (export_through_chooser (view, "csv", "kestrel-benchmark.csv", dir, "benchmark-view-chooser.csv"));
      ui_test_spin (300);
      CHECK (!g_file_test (svg, G_FILE_TEST_EXISTS));
      CHECK (!g_file_test (csv2, G_FILE_TEST_EXISTS));
    }
    /* A folder that does not exist is an error naming the file, not a crash. */
    CHECK (!kestrel_benchmark_view_export_chart (KESTREL_BENCHMARK_VIEW (view), KESTREL_BENCH_PLOT_PARETO, TRUE,
                                                 "/nonexistent/folder/x.svg", &error));
    CHECK (error != NULL && strstr (error->message, "/nonexistent/folder/x.svg") != NULL);
  }

  /* A second run, compared with the first: two bars a cell. */
  g_usleep (1100 * 1000);   /* saved names are by the second */
  kestrel_benchmark_view_run (KESTREL_BENCHMARK_VIEW (view));
  CHECK (ui_test_wait_until (not_running, view));
  CHECK (n_saved () == 2);
  CHECK (kestrel_benchmark_view_compare_file (KESTREL_BENCHMARK_VIEW (view), first, NULL));
  ui_test_spin (300);
  {
    /* Thread scaling of both runs: the second shown, the first compared. */
    g_autoptr(GError) error = NULL;
    g_autoptr(KestrelBenchResult) compared = kestrel_bench_result_load (first, &error);
    g_autofree char *png = g_build_filename (argv[1], "benchmark-view-scaling-compared.png", NULL);
    CHECK (compared != NULL);
    CHECK (scaling_draws_compared (view, kestrel_benchmark_view_get_result (KESTREL_BENCHMARK_VIEW (view)), compared));
    CHECK (kestrel_benchmark_view_export_chart (KESTREL_BENCHMARK_VIEW (view), KESTREL_BENCH_PLOT_SCALING, FALSE, png,
                                                &error));
    CHECK (png_ok (png));
  }
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
  CHECK (screenshots (view, argv[1], "benchmark-view"));

  /* The same run at 360 px, as a phone-sized window shows it. */
  narrow_window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (narrow_window), 360, 720);
  narrow_view = kestrel_benchmark_view_new ();
  kestrel_benchmark_view_set_settings (KESTREL_BENCHMARK_VIEW (narrow_view), settings);
  narrow_scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (narrow_scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (narrow_scroller), narrow_view);
  gtk_window_set_child (GTK_WINDOW (narrow_window), narrow_scroller);
  gtk_window_present (GTK_WINDOW (narrow_window));
  CHECK (kestrel_benchmark_view_show_file (KESTREL_BENCHMARK_VIEW (narrow_view), first, NULL));
  ui_test_spin (300);
  CHECK (gtk_widget_get_width (narrow_view) <= 360);
  CHECK (screenshots (narrow_view, argv[1], "benchmark-view-narrow"));
  gtk_window_destroy (GTK_WINDOW (narrow_window));

  /* Cancel: a scalar cell capped at a minute stops, and nothing is saved. */
  options.n_precisions = 1;
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

  /* Fault (issue 16, item 4): a saved run that is corrupt (cut short, as
   * by a crash of some other writer) is refused with an error naming it,
   * the result shown stays, and the next run is saved and shown as usual. */
  {
    g_autofree char *dir = kestrel_bench_dup_results_dir (NULL);
    g_autofree char *corrupt = g_build_filename (dir, "9999-corrupt.json", NULL);
    g_autoptr(GError) error = NULL;
    const KestrelBenchResult *shown = kestrel_benchmark_view_get_result (KESTREL_BENCHMARK_VIEW (view));
    g_autofree char *shown_created = g_strdup (shown->created);

    CHECK (g_file_set_contents (corrupt, "{\"format\": \"kestrel-benchmark\", \"vers", -1, NULL));
    CHECK (!kestrel_benchmark_view_show_file (KESTREL_BENCHMARK_VIEW (view), corrupt, &error));
    g_print ("corrupt saved run: %s\n", error->message);
    CHECK (strstr (error->message, "9999-corrupt.json") != NULL);
    CHECK (kestrel_benchmark_view_get_result (KESTREL_BENCHMARK_VIEW (view)) == shown);
    g_clear_error (&error);
    CHECK (!kestrel_benchmark_view_compare_file (KESTREL_BENCHMARK_VIEW (view), corrupt, &error));
    CHECK (strstr (error->message, "9999-corrupt.json") != NULL);

    options.levels[0] = KK_LEVEL_SIMD;
    options.time_per_cell_s = 0.3;
    kestrel_benchmark_view_set_options (KESTREL_BENCHMARK_VIEW (view), &options);
    g_usleep (1100 * 1000);   /* saved names are by the second */
    kestrel_benchmark_view_run (KESTREL_BENCHMARK_VIEW (view));
    CHECK (ui_test_wait_until (not_running, view));
    CHECK (n_saved () == 4);
    r = kestrel_benchmark_view_get_result (KESTREL_BENCHMARK_VIEW (view));
    CHECK (r != NULL && g_strcmp0 (r->created, shown_created) != 0 && r->cells->len == 1);
  }

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
