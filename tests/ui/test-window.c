/* test-window.c — KestrelWindow with a real engine on the sample photos:
 * the graphs fill while the window is shown and get nothing while it is
 * hidden (its polling timeouts are gone), the pause action pauses the
 * engine, and the rollback action sets the level setting to scalar and is
 * disabled while the level is scalar.
 * Runs under a display (Xvfb in meson test, see run-with-display.sh), with
 * GSETTINGS_BACKEND=memory.
 *
 * Why one file of more than 800 lines: one program per widget, whose tests
 * share the window set-up with a real engine and the waits; each test is
 * one behaviour of the window.
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <math.h>

#include "kestrel-application.h"
#include "kestrel-graph-view.h"
#include "kestrel-preview.h"
#include "kestrel-benchmark-view.h"
#include "kestrel-window.h"
#include "ui-test-keys.h"

static GtkApplication *app;

static gint64
report_int (KestrelWindow *window, const char *graph, const char *series)
{
  g_autoptr(JsonNode) report = kestrel_window_build_report (window);
  JsonObject *root = json_node_get_object (report);

  if (graph == NULL)
    return json_object_get_int_member (root, series);
  return json_object_get_int_member (json_object_get_object_member (json_object_get_object_member (root, "graphs"),
                                                                    graph),
                                     series);
}

static gboolean
engine_running (gpointer data)
{
  return kestrel_window_get_engine (data) != NULL;
}

static gboolean
has_cpu_points (gpointer data)
{
  return report_int (data, "cpu", "kestrel") >= 2;
}

static KestrelWindow *
open_window (GSettings *settings)
{
  KestrelWindow *window = kestrel_window_new (app, settings);
  g_autofree char *marker = g_build_filename (g_get_tmp_dir (), "kestrel-test-window-XXXXXX", NULL);
  g_autofree char *dir = g_mkdtemp (g_strdup (marker));
  g_autofree char *file = g_build_filename (dir, "running", NULL);

  gtk_window_present (GTK_WINDOW (window));
  kestrel_window_start (window, file, FALSE);
  g_assert_true (ui_test_wait_until_for (engine_running, window, 30000));
  g_assert_true (ui_test_wait_until_for (has_cpu_points, window, 30000));
  return window;
}

static void
close_window (KestrelWindow *window)
{
  kestrel_window_stop (window);
  gtk_window_destroy (GTK_WINDOW (window));
  ui_test_spin (50);
}

static void
test_hidden_window_does_not_poll (void)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.kestrel.Kestrel");
  KestrelWindow *window = open_window (settings);
  gint64 before, latency_before, frames_before, shown, end;

  gtk_widget_set_visible (GTK_WIDGET (window), FALSE);
  ui_test_spin (100);
  before = report_int (window, "cpu", "kestrel");
  latency_before = report_int (window, "latency", "inference");
  frames_before = report_int (window, NULL, "frames_processed");
  /* Three sample intervals: a polling window would have taken two or more. */
  ui_test_spin (3200);
  g_assert_cmpint (report_int (window, "cpu", "kestrel"), ==, before);
  g_assert_cmpint (report_int (window, "latency", "inference"), ==, latency_before);
  /* The engine itself runs on: only the window stopped looking. */
  g_assert_cmpint (report_int (window, NULL, "frames_processed"), >, frames_before);

  /* Shown again, it samples again. */
  gtk_window_present (GTK_WINDOW (window));
  shown = report_int (window, "cpu", "kestrel");
  end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (report_int (window, "cpu", "kestrel") <= shown && g_get_monotonic_time () < end)
    ui_test_spin (50);
  g_assert_cmpint (report_int (window, "cpu", "kestrel"), >, shown);
  close_window (window);
}

/* The header's view switcher: Run in the Benchmark view pauses the live
 * pipeline and resumes it when the suite is done. */
static GtkWidget *
find_toggle (GtkWidget *root, const char *label)
{
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found;
      if (GTK_IS_TOGGLE_BUTTON (c) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (c)), label) == 0
          && gtk_widget_get_mapped (c))
        return c;
      if ((found = find_toggle (c, label)) != NULL)
        return found;
    }
  return NULL;
}

static gboolean
benchmark_done (gpointer data)
{
  return !kestrel_benchmark_view_get_running (data);
}

static GtkWidget *
find_css (GtkWidget *root, const char *css_class)
{
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found;
      if (gtk_widget_has_css_class (c, css_class))
        return c;
      if ((found = find_css (c, css_class)) != NULL)
        return found;
    }
  return NULL;
}

static gboolean
engine_runs_simd (gpointer data)
{
  KestrelEngineConfig config;
  gboolean simd;

  kestrel_engine_config_init (&config);
  kestrel_engine_get_config (data, &config);
  simd = config.level == KK_LEVEL_SIMD;
  kestrel_engine_config_clear (&config);
  return simd;
}

static void
test_benchmark_view (void)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.kestrel.Kestrel");
  KestrelWindow *window = open_window (settings);
  KestrelEngine *engine = kestrel_window_get_engine (window);
  GtkWidget *view = ui_test_find_widget (GTK_WIDGET (window), KESTREL_TYPE_BENCHMARK_VIEW);
  GtkWidget *stack = gtk_widget_get_ancestor (view, GTK_TYPE_STACK);
  GtkWidget *benchmark = find_toggle (GTK_WIDGET (window), "Benchmark");
  KestrelBenchOptions options;

  g_assert_nonnull (benchmark);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (stack)), ==, "live");
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (benchmark), TRUE);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (stack)), ==, "benchmark");

  /* one cell: FP32 only (the default takes every supported precision) */
  kestrel_bench_options_init (&options);
  options.n_precisions = 1;
  options.precisions[0] = KESTREL_PRECISION_FP32;
  options.n_levels = 1;
  options.levels[0] = KK_LEVEL_SIMD;
  options.n_batches = 1;
  options.batches[0] = 1;
  options.time_per_cell_s = 0.3;
  options.rounds = 2;
  kestrel_benchmark_view_set_options (KESTREL_BENCHMARK_VIEW (view), &options);
  g_assert_cmpint (kestrel_engine_get_state (engine), ==, KESTREL_ENGINE_RUNNING);
  kestrel_benchmark_view_run (KESTREL_BENCHMARK_VIEW (view));
  g_assert_cmpint (kestrel_engine_get_state (engine), ==, KESTREL_ENGINE_PAUSED);
  g_assert_true (ui_test_wait_until (benchmark_done, view));
  g_assert_cmpint (kestrel_engine_get_state (engine), ==, KESTREL_ENGINE_RUNNING);
  g_assert_cmpuint (kestrel_benchmark_view_get_result (KESTREL_BENCHMARK_VIEW (view))->cells->len, ==, 1);

  /* Use This Configuration on the cell (simd; the live view runs full):
   * the settings change as the controls would change them, and the
   * engine follows. */
  g_assert_cmpint (g_settings_get_enum (settings, "level"), !=, KK_LEVEL_SIMD);
  g_assert_false (engine_runs_simd (engine));
  {
    GtkWidget *use = find_css (view, "use-configuration");
    g_assert_nonnull (use);
    g_signal_emit_by_name (use, "clicked");
  }
  g_assert_cmpint (g_settings_get_enum (settings, "level"), ==, KK_LEVEL_SIMD);
  g_assert_true (ui_test_wait_until (engine_runs_simd, engine));

  /* Cancel: a long scalar cell stops, the run shown stays, and the live
   * pipeline resumes. */
  {
    const KestrelBenchResult *shown = kestrel_benchmark_view_get_result (KESTREL_BENCHMARK_VIEW (view));
    options.levels[0] = KK_LEVEL_SCALAR;
    options.time_per_cell_s = 60;
    kestrel_benchmark_view_set_options (KESTREL_BENCHMARK_VIEW (view), &options);
    kestrel_benchmark_view_run (KESTREL_BENCHMARK_VIEW (view));
    g_assert_cmpint (kestrel_engine_get_state (engine), ==, KESTREL_ENGINE_PAUSED);
    ui_test_spin (300);
    kestrel_benchmark_view_cancel (KESTREL_BENCHMARK_VIEW (view));
    g_assert_true (ui_test_wait_until (benchmark_done, view));
    g_assert_cmpint (kestrel_engine_get_state (engine), ==, KESTREL_ENGINE_RUNNING);
    g_assert_true (kestrel_benchmark_view_get_result (KESTREL_BENCHMARK_VIEW (view)) == shown);
  }

  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (find_toggle (GTK_WIDGET (window), "Live")), TRUE);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (stack)), ==, "live");
  close_window (window);
}

static void
test_pause_action (void)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.kestrel.Kestrel");
  KestrelWindow *window = open_window (settings);
  KestrelEngine *engine = kestrel_window_get_engine (window);
  g_autoptr(GVariant) state = NULL;

  g_assert_cmpint (kestrel_engine_get_state (engine), ==, KESTREL_ENGINE_RUNNING);
  g_action_group_activate_action (G_ACTION_GROUP (window), "pause", NULL);
  g_assert_cmpint (kestrel_engine_get_state (engine), ==, KESTREL_ENGINE_PAUSED);
  state = g_action_group_get_action_state (G_ACTION_GROUP (window), "pause");
  g_assert_true (g_variant_get_boolean (state));

  g_action_group_activate_action (G_ACTION_GROUP (window), "pause", NULL);
  g_assert_cmpint (kestrel_engine_get_state (engine), ==, KESTREL_ENGINE_RUNNING);
  close_window (window);
}

static void
test_rollback_action (void)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.kestrel.Kestrel");
  KestrelWindow *window;

  g_settings_set_string (settings, "level", "full");
  window = open_window (settings);
  g_action_group_activate_action (G_ACTION_GROUP (window), "rollback", NULL);
  g_assert_cmpint (g_settings_get_enum (settings, "level"), ==, KK_LEVEL_SCALAR);
  /* Already on the reference path: nothing to roll back to. */
  ui_test_spin (50);
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "rollback"));
  g_settings_set_string (settings, "level", "simd");
  ui_test_spin (50);
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "rollback"));
  close_window (window);
}

/* The sampling interval setting reaches the engine's sampler, at start and
 * while it runs, and points keep coming at the new interval. */
static void
test_sample_interval (void)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.kestrel.Kestrel");
  KestrelWindow *window;
  KestrelEngine *engine;
  gint64 points, end;

  g_settings_set_int (settings, "sample-interval-ms", 2000);
  window = open_window (settings);
  engine = kestrel_window_get_engine (window);
  g_assert_cmpuint (kestrel_engine_get_sample_interval (engine), ==, 2000);

  g_settings_set_int (settings, "sample-interval-ms", 250);
  g_assert_cmpuint (kestrel_engine_get_sample_interval (engine), ==, 250);
  points = report_int (window, "cpu", "kestrel");
  end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (report_int (window, "cpu", "kestrel") < points + 4 && g_get_monotonic_time () < end)
    ui_test_spin (50);
  g_assert_cmpint (report_int (window, "cpu", "kestrel"), >=, points + 4);
  g_settings_reset (settings, "sample-interval-ms");
  close_window (window);
}

static gboolean
is_paused (KestrelWindow *window)
{
  return kestrel_engine_get_state (kestrel_window_get_engine (window)) == KESTREL_ENGINE_PAUSED;
}

/* The combo row's list, if it is open. */
static gboolean
popover_open (GtkWidget *row)
{
  GtkWidget *popover = ui_test_find_widget (row, GTK_TYPE_POPOVER);

  return popover != NULL && gtk_widget_get_visible (popover);
}

/* Space pauses and resumes wherever the focus is: on a fresh window (where
 * the first button has the focus), on a dropdown row after its list was
 * opened and closed; but a text field keeps its Space. Real key presses
 * through the X server. */
static void
test_space_pauses (void)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.kestrel.Kestrel");
  KestrelWindow *window;
  GtkWidget *row, *spin;

  /* Threads (the first spin button) can be set at every level but the
   * reference one, which an earlier test chose. */
  g_settings_reset (settings, "level");
  window = open_window (settings);
  row = ui_test_find_widget (GTK_WIDGET (window), ADW_TYPE_COMBO_ROW);
  spin = ui_test_find_widget (GTK_WIDGET (window), GTK_TYPE_SPIN_BUTTON);

  g_assert_true (ui_test_keys_available (GTK_WIDGET (window)));
  g_assert_nonnull (row);
  g_assert_nonnull (spin);

  g_assert_false (is_paused (window));
  ui_test_press_key (GTK_WINDOW (window), XK_space, FALSE, FALSE);
  g_assert_true (is_paused (window));
  ui_test_press_key (GTK_WINDOW (window), XK_space, FALSE, FALSE);
  g_assert_false (is_paused (window));

  /* A dropdown used from the keyboard: opened, closed, Space. The
   * controls are where the dropdowns and text fields are. */
  g_action_group_change_action_state (G_ACTION_GROUP (window), "show-controls",
                                      g_variant_new_boolean (TRUE));
  ui_test_spin (300);
  g_assert_true (gtk_widget_grab_focus (row));
  ui_test_press_key (GTK_WINDOW (window), XK_Return, FALSE, FALSE);
  g_assert_true (popover_open (row));
  ui_test_press_key (GTK_WINDOW (window), XK_Escape, FALSE, FALSE);
  g_assert_false (popover_open (row));
  ui_test_press_key (GTK_WINDOW (window), XK_space, FALSE, FALSE);
  g_assert_true (is_paused (window));
  g_assert_false (popover_open (row));
  ui_test_press_key (GTK_WINDOW (window), XK_space, FALSE, FALSE);
  g_assert_false (is_paused (window));

  /* A text field (the spin button's) types its Space. */
  g_assert_true (gtk_widget_grab_focus (spin));
  g_assert_true (GTK_IS_EDITABLE (gtk_root_get_focus (GTK_ROOT (window))));
  ui_test_press_key (GTK_WINDOW (window), XK_space, FALSE, FALSE);
  g_assert_false (is_paused (window));
  close_window (window);
}

static void
collect_type (GtkWidget *widget,
              GType      type,
              GPtrArray *found)
{
  if (g_type_is_a (G_OBJECT_TYPE (widget), type))
    g_ptr_array_add (found, widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_type (child, type, found);
}

/* @accel in the normal form of gtk_accelerator_name(). */
static char *
normal_accel (const char *accel)
{
  guint key;
  GdkModifierType mods;

  g_assert_true (gtk_accelerator_parse (accel, &key, &mods));
  return gtk_accelerator_name (key, mods);
}

/* Every accelerator the shortcuts listed in @shortcuts show. */
static GHashTable *
listed_accels (GPtrArray *shortcuts)
{
  GHashTable *listed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < shortcuts->len; i++)
    {
      g_autofree char *accelerator = NULL;
      g_auto(GStrv) accels = NULL;

      g_object_get (g_ptr_array_index (shortcuts, i), "accelerator", &accelerator, NULL);
      accels = g_strsplit (accelerator != NULL ? accelerator : "", " ", -1);
      for (guint j = 0; accels[j] != NULL; j++)
        if (*accels[j] != '\0')
          g_hash_table_add (listed, normal_accel (accels[j]));
    }
  return listed;
}

static gboolean
menu_has_action (GMenuModel *menu,
                 const char *action)
{
  for (int i = 0; i < g_menu_model_get_n_items (menu); i++)
    {
      g_autofree char *name = NULL;
      g_autoptr(GMenuModel) section = g_menu_model_get_item_link (menu, i, G_MENU_LINK_SECTION);

      if (g_menu_model_get_item_attribute (menu, i, G_MENU_ATTRIBUTE_ACTION, "s", &name) &&
          g_str_equal (name, action))
        return TRUE;
      if (section != NULL && menu_has_action (section, action))
        return TRUE;
    }
  return FALSE;
}

/* The shortcuts window: Ctrl+? opens it, the primary menu has it, and it
 * lists every action that has a keyboard shortcut, and Space. */
static void
test_shortcuts_window (void)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.kestrel.Kestrel");
  KestrelWindow *window = open_window (settings);
  g_auto(GStrv) actions = gtk_application_list_action_descriptions (app);
  g_autoptr(GPtrArray) shortcuts = g_ptr_array_new ();
  GtkShortcutsWindow *overlay = gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window));
  GtkWidget *menu_button = NULL;

  g_autoptr(GHashTable) listed = NULL;
  g_autoptr(GHashTable) real = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTableIter iter;
  const char *accel;

  g_assert_nonnull (overlay);
  collect_type (GTK_WIDGET (overlay), GTK_TYPE_SHORTCUTS_SHORTCUT, shortcuts);
  listed = listed_accels (shortcuts);
  g_assert_cmpuint (g_strv_length (actions), >, 0);
  /* Each accelerator of the application is listed... */
  for (guint i = 0; actions[i] != NULL; i++)
    {
      g_auto(GStrv) accels = gtk_application_get_accels_for_action (app, actions[i]);

      for (guint j = 0; accels[j] != NULL; j++)
        {
          char *name = normal_accel (accels[j]);

          g_test_message ("%s: %s", actions[i], name);
          if (!g_hash_table_contains (listed, name))
            g_error ("the shortcuts window does not list %s (%s)", actions[i], name);
          g_hash_table_add (real, name);
        }
    }
  /* ...and Space, the window's own... */
  g_assert_true (g_hash_table_contains (listed, "space"));
  g_hash_table_add (real, g_strdup ("space"));
  /* ...and nothing that does not exist. */
  g_hash_table_iter_init (&iter, listed);
  while (g_hash_table_iter_next (&iter, (gpointer *) &accel, NULL))
    if (!g_hash_table_contains (real, accel))
      g_error ("the shortcuts window lists %s, which no action has", accel);

  for (GtkWidget *w = ui_test_find_widget (GTK_WIDGET (window), GTK_TYPE_MENU_BUTTON);
       w != NULL && menu_button == NULL;
       w = gtk_widget_get_next_sibling (w))
    if (GTK_IS_MENU_BUTTON (w) && gtk_menu_button_get_primary (GTK_MENU_BUTTON (w)))
      menu_button = w;
  g_assert_nonnull (menu_button);
  g_assert_true (menu_has_action (gtk_menu_button_get_menu_model (GTK_MENU_BUTTON (menu_button)),
                                  "win.show-help-overlay"));

  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (overlay)));
  ui_test_press_key (GTK_WINDOW (window), XK_question, TRUE, TRUE);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (overlay)));
  gtk_window_close (GTK_WINDOW (overlay));
  close_window (window);
}

typedef struct {
  GtkWidget *window;
  int width;
} SizeWait;

static gboolean
has_width (gpointer data)
{
  SizeWait *wait = data;

  return gtk_widget_get_width (wait->window) == wait->width;
}

/* Resizes @window to @width x @height and checks what a user needs at that
 * size: the window takes the width (it is not held wider), the preview and
 * every graph get a usable size inside the window, and no label of the
 * controls' dropdown rows is cut off. */
static void
check_layout_at (KestrelWindow *window,
                 int            width,
                 int            height)
{
  g_autoptr(GPtrArray) graphs = g_ptr_array_new ();
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();
  SizeWait wait = { GTK_WIDGET (window), width };
  int min_width;
  graphene_rect_t bounds;
  GtkWidget *preview;
  int default_width, default_height, frame_x, frame_y;

  /* The default size counts the client-side decorations' invisible
   * border (resize handles, shadow) too; the width a user sees is the
   * widget's. */
  gtk_window_get_default_size (GTK_WINDOW (window), &default_width, &default_height);
  frame_x = MAX (default_width - gtk_widget_get_width (GTK_WIDGET (window)), 0);
  frame_y = MAX (default_height - gtk_widget_get_height (GTK_WIDGET (window)), 0);
  gtk_window_set_default_size (GTK_WINDOW (window), width + frame_x, height + frame_y);
  ui_test_wait_until_for (has_width, &wait, 5000);
  ui_test_spin (300);
  gtk_widget_measure (GTK_WIDGET (window), GTK_ORIENTATION_HORIZONTAL, -1, &min_width, NULL, NULL, NULL);
  g_test_message ("window at %d x %d (minimum width %d)", gtk_widget_get_width (GTK_WIDGET (window)),
                  gtk_widget_get_height (GTK_WIDGET (window)), min_width);
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (window)), ==, width);

  collect_type (GTK_WIDGET (window), KESTREL_TYPE_GRAPH_VIEW, graphs);
  preview = ui_test_find_widget (GTK_WIDGET (window), KESTREL_TYPE_PREVIEW);
  g_ptr_array_add (graphs, preview);
  g_assert_cmpuint (graphs->len, >=, 5);
  for (guint i = 0; i < graphs->len; i++)
    {
      GtkWidget *graph = g_ptr_array_index (graphs, i);

      /* The agreement with FP32 shows only below FP32. */
      if (!gtk_widget_is_visible (graph))
        continue;
      g_assert_true (gtk_widget_compute_bounds (graph, GTK_WIDGET (window), &bounds));
      g_test_message ("%s: %.0f x %.0f at %.0f, %.0f", G_OBJECT_TYPE_NAME (graph),
                      (double) bounds.size.width, (double) bounds.size.height, (double) bounds.origin.x, (double) bounds.origin.y);
      /* A plot that shows a trend, under a legend that fits (the small
       * growth graph has 110 px, the others more). */
      g_assert_cmpfloat (bounds.size.height, >=, 110);
      g_assert_cmpfloat (bounds.size.width, >=, 300);
      g_assert_cmpfloat (bounds.origin.x, >=, 0);
      g_assert_cmpfloat (bounds.origin.x + bounds.size.width, <=, width);
    }

  /* The header's title: the squeezer shows a title that fits whole (the
   * whole subtitle was cut to "Front c..." at 360 px), and the whole
   * subtitle, with the level, when there is room. */
  {
    GtkWidget *squeezer = ui_test_find_widget (GTK_WIDGET (window), ADW_TYPE_SQUEEZER);
    GtkWidget *title;
    g_autoptr(GPtrArray) labels = g_ptr_array_new ();

    g_assert_nonnull (squeezer);
    title = adw_squeezer_get_visible_child (ADW_SQUEEZER (squeezer));
    g_assert_true (ADW_IS_WINDOW_TITLE (title));
    g_test_message ("header at %d px: “%s”, “%s”", width, adw_window_title_get_title (ADW_WINDOW_TITLE (title)),
                    adw_window_title_get_subtitle (ADW_WINDOW_TITLE (title)));
    collect_type (title, GTK_TYPE_LABEL, labels);
    for (guint l = 0; l < labels->len; l++)
      {
        GtkLabel *label = g_ptr_array_index (labels, l);

        if (gtk_widget_is_drawable (GTK_WIDGET (label)) &&
            pango_layout_is_ellipsized (gtk_label_get_layout (label)))
          g_error ("at %d px, the title “%s” is cut off", width, gtk_label_get_text (label));
      }
    g_assert_cmpstr (adw_window_title_get_title (ADW_WINDOW_TITLE (title)), ==, "Kestrel");
    if (width >= 1000)
      g_assert_nonnull (strstr (adw_window_title_get_subtitle (ADW_WINDOW_TITLE (title)), " · scalar · "));
  }

  /* The controls, shown: every dropdown shows its whole choice (the
   * level is the longest one, the reference level, see the caller). */
  g_action_group_change_action_state (G_ACTION_GROUP (window), "show-controls",
                                      g_variant_new_boolean (TRUE));
  ui_test_spin (500);
  collect_type (GTK_WIDGET (window), ADW_TYPE_COMBO_ROW, rows);
  g_assert_cmpuint (rows->len, >=, 3);
  for (guint i = 0; i < rows->len; i++)
    {
      g_autoptr(GPtrArray) labels = g_ptr_array_new ();

      collect_type (g_ptr_array_index (rows, i), GTK_TYPE_LABEL, labels);
      for (guint l = 0; l < labels->len; l++)
        {
          GtkLabel *label = g_ptr_array_index (labels, l);

          if (!gtk_widget_is_drawable (GTK_WIDGET (label)) ||
              gtk_widget_get_ancestor (GTK_WIDGET (label), GTK_TYPE_POPOVER) != NULL)
            continue;
          g_test_message ("row label “%s”", gtk_label_get_text (label));
          if (pango_layout_is_ellipsized (gtk_label_get_layout (label)))
            g_error ("at %d px, “%s” is cut off", width, gtk_label_get_text (label));
        }
    }
  g_action_group_change_action_state (G_ACTION_GROUP (window), "show-controls",
                                      g_variant_new_boolean (FALSE));
}

/* BASE-light.png and BASE-dark.png in the build folder, for people to
 * look at. */
static void
save_screenshots (KestrelWindow *window,
                  const char    *base)
{
  static const struct { AdwColorScheme scheme; const char *name; } styles[] = {
    { ADW_COLOR_SCHEME_FORCE_LIGHT, "light" },
    { ADW_COLOR_SCHEME_FORCE_DARK, "dark" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (styles); i++)
    {
      g_autofree char *name = g_strdup_printf ("%s-%s.png", base, styles[i].name);
      g_autofree char *path = g_test_build_filename (G_TEST_BUILT, name, NULL);
      g_autoptr(GError) error = NULL;

      adw_style_manager_set_color_scheme (adw_style_manager_get_default (), styles[i].scheme);
      ui_test_spin (1200);
      g_assert_true (kestrel_window_save_png (window, path, &error));
      g_assert_no_error (error);
    }
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_DEFAULT);
}

/* libadwaita's adaptive layout down to 360 px wide: at 360 px, at a
 * middling width and wide. */
static void
test_narrow_layout (void)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.kestrel.Kestrel");
  KestrelWindow *window;

  /* The longest choice of the longest dropdown. */
  g_settings_set_string (settings, "level", "scalar");
  window = open_window (settings);
  check_layout_at (window, 360, 720);
  save_screenshots (window, "window-360");
  check_layout_at (window, 600, 600);
  check_layout_at (window, 1200, 760);
  check_layout_at (window, 360, 500);
  g_settings_reset (settings, "level");
  close_window (window);
}

/* A dropdown row's explanation (its tooltip) does not cover its open
 * list. GTK shows a widget's tooltip over its descendants, and the list is
 * a popover inside the row: while the list is open (opened from the
 * keyboard, as a user would) the row must have no tooltip to show, and
 * once it is closed, the tooltip is back. (Xvfb without a window manager
 * shows no tooltips at all, so the test cannot wait for one to appear.) */
static void
test_tooltip_not_over_list (void)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.kestrel.Kestrel");
  KestrelWindow *window = open_window (settings);
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();

  g_action_group_change_action_state (G_ACTION_GROUP (window), "show-controls",
                                      g_variant_new_boolean (TRUE));
  ui_test_spin (500);
  collect_type (GTK_WIDGET (window), ADW_TYPE_COMBO_ROW, rows);
  g_assert_cmpuint (rows->len, >=, 4);
  for (guint i = 0; i < rows->len; i++)
    {
      GtkWidget *row = g_ptr_array_index (rows, i);

      /* A hidden row (the input size, for a model that fixes it) and a
       * row with one choice have no list to open. */
      if (!gtk_widget_get_visible (row) || !gtk_widget_is_sensitive (row) ||
          g_list_model_get_n_items (adw_combo_row_get_model (ADW_COMBO_ROW (row))) < 2)
        continue;
      g_test_message ("row %s", adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)));
      g_assert_nonnull (gtk_widget_get_tooltip_text (row));
      g_assert_true (gtk_widget_get_has_tooltip (row));
      g_assert_true (gtk_widget_grab_focus (row));
      ui_test_press_key (GTK_WINDOW (window), XK_Return, FALSE, FALSE);
      g_assert_true (popover_open (row));
      g_assert_false (gtk_widget_get_has_tooltip (row));
      ui_test_press_key (GTK_WINDOW (window), XK_Escape, FALSE, FALSE);
      g_assert_false (popover_open (row));
      g_assert_true (gtk_widget_get_has_tooltip (row));
    }
  close_window (window);
}

/* A model file whose picture input takes any size (tests/models' BodyPix)
 * opened in the window: it runs on the sample photos at their size, the
 * Input Size row is there, and a size picked in it reaches the engine. */
typedef struct
{
  KestrelWindow          *window;
  KestrelEngineInputSize  from;
  guint                   width;
} InputSize;

static gboolean
input_size_is (gpointer data)
{
  InputSize *want = data;
  KestrelEngine *engine = kestrel_window_get_engine (want->window);
  guint w = 0, h = 0;

  return engine != NULL && kestrel_engine_get_input_size (engine, &w, &h) == want->from
         && (want->width == 0 || w == want->width) && report_int (want->window, NULL, "frames_processed") >= 2;
}

static void
test_any_size_model (void)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.kestrel.Kestrel");
  g_autofree char *model = g_test_build_filename (G_TEST_DIST, "..", "models", "bodypix_mbv1_050_s16.onnx", NULL);
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();
  AdwComboRow *size_row = NULL;
  KestrelWindow *window;

  g_settings_set_string (settings, "model-file", model);
  g_settings_set_string (settings, "model", "file");
  window = open_window (settings);
  {
    InputSize want = { window, KESTREL_ENGINE_INPUT_FRAME, 0 };
    g_assert_true (ui_test_wait_until_for (input_size_is, &want, 120000));
  }

  g_action_group_change_action_state (G_ACTION_GROUP (window), "show-controls",
                                      g_variant_new_boolean (TRUE));
  ui_test_spin (200);
  collect_type (GTK_WIDGET (window), ADW_TYPE_COMBO_ROW, rows);
  for (guint i = 0; i < rows->len; i++)
    if (g_strcmp0 (adw_preferences_row_get_title (g_ptr_array_index (rows, i)), "Input Size") == 0)
      size_row = g_ptr_array_index (rows, i);
  g_assert_nonnull (size_row);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (size_row)));
  g_assert_cmpuint (adw_combo_row_get_selected (size_row), ==, 0);

  /* 320 x 320, the second entry after "Frame size". */
  adw_combo_row_set_selected (size_row, 2);
  {
    g_autofree char *size = g_settings_get_string (settings, "input-size");
    g_assert_cmpstr (size, ==, "320x320");
    InputSize want = { window, KESTREL_ENGINE_INPUT_GIVEN, 320 };
    g_assert_true (ui_test_wait_until_for (input_size_is, &want, 120000));
  }
  g_assert_cmpint (report_int (window, NULL, "frames_dropped"), ==, 0);

  close_window (window);
  g_settings_reset (settings, "input-size");
  g_settings_reset (settings, "model");
  g_settings_reset (settings, "model-file");
}

static GtkWidget *
find_preferences (KestrelWindow *window)
{
  GListModel *toplevels = gtk_window_get_toplevels ();  /* (transfer none) */

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWindow) toplevel = g_list_model_get_item (toplevels, i);

      if (ADW_IS_PREFERENCES_WINDOW (toplevel) && gtk_widget_get_visible (GTK_WIDGET (toplevel)) &&
          gtk_window_get_transient_for (toplevel) == GTK_WINDOW (window))
        return GTK_WIDGET (toplevel);
    }
  return NULL;
}

/* The Preferences window (Ctrl+,) sets the graphs' history and the
 * sampling interval, which reach the graphs and the engine; a change made
 * elsewhere shows in it. */
static void
test_preferences (void)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.kestrel.Kestrel");
  KestrelWindow *window = open_window (settings);
  g_autoptr(GPtrArray) graphs = g_ptr_array_new ();
  g_autoptr(GPtrArray) spins = g_ptr_array_new ();
  GtkWidget *preferences;
  GtkSpinButton *history, *interval;

  g_assert_null (find_preferences (window));
  ui_test_press_key (GTK_WINDOW (window), XK_comma, TRUE, FALSE);
  preferences = find_preferences (window);
  g_assert_nonnull (preferences);
  collect_type (preferences, GTK_TYPE_SPIN_BUTTON, spins);
  g_assert_cmpuint (spins->len, ==, 2);
  history = g_ptr_array_index (spins, 0);
  interval = g_ptr_array_index (spins, 1);
  g_assert_cmpfloat (gtk_spin_button_get_value (history), ==, 60);
  g_assert_cmpfloat (gtk_spin_button_get_value (interval), ==, 1.0);

  gtk_spin_button_set_value (history, 120);
  g_assert_cmpint (g_settings_get_int (settings, "history-points"), ==, 120);
  collect_type (GTK_WIDGET (window), KESTREL_TYPE_GRAPH_VIEW, graphs);
  g_assert_cmpuint (graphs->len, >=, 3);
  for (guint i = 0; i < graphs->len; i++)
    g_assert_cmpuint (kestrel_graph_view_get_history_length (g_ptr_array_index (graphs, i)), ==, 120);

  gtk_spin_button_set_value (interval, 0.5);
  g_assert_cmpint (g_settings_get_int (settings, "sample-interval-ms"), ==, 500);
  g_assert_cmpuint (kestrel_engine_get_sample_interval (kestrel_window_get_engine (window)), ==, 500);

  g_settings_set_int (settings, "history-points", 300);
  g_assert_cmpfloat (gtk_spin_button_get_value (history), ==, 300);

  gtk_window_destroy (GTK_WINDOW (preferences));
  g_settings_reset (settings, "history-points");
  g_settings_reset (settings, "sample-interval-ms");
  close_window (window);
}

/* About, run from the build folder as the tests are: the application icon
 * is found (in the source tree's data/icons, since nothing is installed),
 * so the window and About show it rather than a broken image. */
static void
test_about_icon (void)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.kestrel.Kestrel");
  KestrelWindow *window = open_window (settings);
  GtkIconTheme *theme = gtk_icon_theme_get_for_display (gtk_widget_get_display (GTK_WIDGET (window)));
  GListModel *toplevels = gtk_window_get_toplevels ();  /* (transfer none) */
  g_autoptr(GtkIconPaintable) icon = NULL;
  g_autoptr(GFile) file = NULL;
  AdwAboutWindow *about = NULL;

  g_assert_true (gtk_icon_theme_has_icon (theme, "org.kestrel.Kestrel"));
  icon = gtk_icon_theme_lookup_icon (theme, "org.kestrel.Kestrel", NULL, 128, 1,
                                     GTK_TEXT_DIR_NONE, 0);
  file = gtk_icon_paintable_get_file (icon);
  g_assert_nonnull (file);
  g_test_message ("icon: %s", g_file_peek_path (file));
  g_assert_true (g_str_has_suffix (g_file_peek_path (file), "org.kestrel.Kestrel.svg"));

  g_action_group_activate_action (G_ACTION_GROUP (app), "about", NULL);
  ui_test_spin (300);
  for (guint i = 0; i < g_list_model_get_n_items (toplevels) && about == NULL; i++)
    {
      g_autoptr(GtkWindow) toplevel = g_list_model_get_item (toplevels, i);

      if (ADW_IS_ABOUT_WINDOW (toplevel))
        about = ADW_ABOUT_WINDOW (toplevel);
    }
  g_assert_nonnull (about);
  g_assert_cmpstr (adw_about_window_get_application_icon (about), ==, "org.kestrel.Kestrel");
  gtk_window_destroy (GTK_WINDOW (about));
  close_window (window);
}

static KestrelGraphView *
graph_with_series (KestrelWindow *window,
                   const char    *label)
{
  g_autoptr(GPtrArray) graphs = g_ptr_array_new ();

  collect_type (GTK_WIDGET (window), KESTREL_TYPE_GRAPH_VIEW, graphs);
  for (guint i = 0; i < graphs->len; i++)
    {
      KestrelGraphView *graph = g_ptr_array_index (graphs, i);

      for (guint s = 0; s < kestrel_graph_view_get_n_series (graph); s++)
        if (g_str_equal (kestrel_graph_view_get_series_label (graph, s), label))
          return graph;
    }
  return NULL;
}

typedef struct {
  KestrelWindow *window;
  const char *precision;   /* "FP32" */
  char *shown;
} PlanMemoryWait;

/* The window shows the plan at w->precision with the engine's numbers. */
static gboolean
plan_memory_shown (gpointer data)
{
  PlanMemoryWait *w = data;
  g_autoptr(KestrelMetricsSnapshot) snap = kestrel_engine_get_snapshot (kestrel_window_get_engine (w->window));
  g_autoptr(JsonNode) report = kestrel_window_build_report (w->window);
  g_autofree char *weights = g_format_size (snap->config.weight_bytes);
  g_autofree char *arena = g_format_size (snap->config.arena_bytes);
  g_autofree char *want = g_strdup_printf ("%s plan: weights %s, working memory %s", w->precision, weights, arena);

  g_free (w->shown);
  w->shown = g_strdup (json_object_get_string_member (json_node_get_object (report), "plan_memory"));
  return snap->config.weight_bytes > 0 && g_str_equal (w->shown, want);
}

/* Under the Memory heading, the running plan's weight and arena bytes as
 * the engine publishes them, following a change of precision. */
static void
test_plan_memory (void)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.kestrel.Kestrel");
  KestrelWindow *window;
  PlanMemoryWait fp32 = { NULL, "FP32", NULL }, fp16 = { NULL, "FP16", NULL };

  g_settings_set_string (settings, "precision", "fp32");
  window = open_window (settings);
  fp32.window = fp16.window = window;
  g_assert_true (ui_test_wait_until (plan_memory_shown, &fp32));
  g_test_message ("%s", fp32.shown);
  g_settings_set_string (settings, "precision", "fp16");
  g_assert_true (ui_test_wait_until (plan_memory_shown, &fp16));
  g_test_message ("%s", fp16.shown);
  g_assert_cmpstr (fp16.shown, !=, fp32.shown);
  g_settings_set_string (settings, "precision", "fp32");
  g_free (fp32.shown);
  g_free (fp16.shown);
  close_window (window);
}

/* Memory growth has a scale of its own: a fast growth (thousands of MB an
 * hour, as in the first minute) must not squash the resident memory's
 * line against the bottom of its graph. */
static void
test_growth_own_scale (void)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.kestrel.Kestrel");
  KestrelWindow *window = open_window (settings);
  KestrelGraphView *memory = graph_with_series (window, "Resident (MB)");
  KestrelGraphView *growth = graph_with_series (window, "Growth (MB/h)");
  gint64 now = g_get_monotonic_time ();
  double top;

  g_assert_nonnull (memory);
  g_assert_nonnull (growth);
  /* Stop the window feeding them, then give both graphs one clear case. */
  kestrel_window_stop (window);
  for (guint s = 0; s < kestrel_graph_view_get_n_series (memory); s++)
    {
      gboolean resident = g_str_equal (kestrel_graph_view_get_series_label (memory, s), "Resident (MB)");

      for (int i = 0; i < 10; i++)
        kestrel_graph_view_push (memory, s, now + i * G_USEC_PER_SEC, resident ? 120 : 5000);
    }
  for (int i = 0; i < 10; i++)
    kestrel_graph_view_push (growth, 0, now + i * G_USEC_PER_SEC, 5000);
  ui_test_spin (1500);
  kestrel_graph_view_get_y_range (memory, NULL, &top, NULL);
  g_test_message ("resident memory axis up to %g", top);
  g_assert_cmpfloat (top, <, 240);
  kestrel_graph_view_get_y_range (growth, NULL, &top, NULL);
  g_assert_cmpfloat (top, >=, 5000);
  close_window (window);
}

/* How many different colours @texture has: a drawn graph has many, an
 * empty background one. */
static guint
count_colours (GdkTexture *texture)
{
  int width = gdk_texture_get_width (texture), height = gdk_texture_get_height (texture);
  g_autofree guint32 *pixels = g_new (guint32, (gsize) width * height);
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);

  gdk_texture_download (texture, (guchar *) pixels, (gsize) width * 4);
  for (gsize i = 0; i < (gsize) width * height; i++)
    g_hash_table_add (seen, GUINT_TO_POINTER (pixels[i]));
  return g_hash_table_size (seen);
}

/* Export: the history as CSV has every sample each graph shows, with its
 * own (unstacked) value; PNG and SVG are the same picture of the graphs,
 * loadable by a normal image loader, and drawn on; a bad name or folder is
 * a clear error. Leaves graphs-export.png and graphs-export.SVG in the
 * build folder. */
static void
test_export (void)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.kestrel.Kestrel");
  KestrelWindow *window = open_window (settings);
  g_autofree char *dir = g_dir_make_tmp ("kestrel-export-XXXXXX", NULL);
  g_autofree char *csv = g_build_filename (dir, "history.csv", NULL);
  /* Left in the build folder for people to look at. */
  g_autofree char *png = g_test_build_filename (G_TEST_BUILT, "graphs-export.png", NULL);
  g_autofree char *svg = g_test_build_filename (G_TEST_BUILT, "graphs-export.SVG", NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) from_png = NULL;
  g_autoptr(GdkTexture) from_svg = NULL;
  KestrelGraphView *cpu = graph_with_series (window, "Kestrel");
  KestrelGraphView *latency = graph_with_series (window, "Inference");
  KestrelRingSample points[600];
  guint n_cpu, n_inference, rows_cpu = 0, rows_inference = 0, matched = 0;

  /* Still, so the graphs do not move between the export and the check. */
  g_assert_true (ui_test_wait_until_for (has_cpu_points, window, 30000));
  g_action_group_activate_action (G_ACTION_GROUP (window), "pause", NULL);
  ui_test_spin (1500);

  g_assert_true (kestrel_window_export_graphs (window, csv, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  lines = g_strsplit (text, "\r\n", -1);
  g_assert_cmpstr (lines[0], ==, "time,seconds,graph,series,value");
  n_cpu = kestrel_graph_view_get_points (cpu, 0, points, G_N_ELEMENTS (points));
  n_inference = kestrel_ring_get_length (kestrel_graph_view_get_series_ring (latency, 2));
  for (guint i = 1; lines[i] != NULL && *lines[i] != '\0'; i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], ",", -1);

      g_assert_cmpuint (g_strv_length (fields), ==, 5);
      g_assert_true (g_str_has_suffix (fields[0], "Z"));
      g_assert_cmpfloat (g_ascii_strtod (fields[1], NULL), <=, 0);
      if (g_str_equal (fields[2], "cpu") && g_str_equal (fields[3], "Kestrel"))
        {
          /* The same values, oldest first, as the graph draws. */
          g_assert_cmpfloat_with_epsilon (g_ascii_strtod (fields[4], NULL), points[rows_cpu].value, 1e-5);
          rows_cpu++;
        }
      if (g_str_equal (fields[2], "latency") && g_str_equal (fields[3], "Inference"))
        {
          KestrelRingSample sample;

          /* The stage's own time, not the stacked top the graph draws. */
          g_assert_true (kestrel_ring_get (kestrel_graph_view_get_series_ring (latency, 2), rows_inference,
                                           &sample));
          if (fabs (g_ascii_strtod (fields[4], NULL) - sample.value) < 1e-5)
            matched++;
          rows_inference++;
        }
    }
  g_test_message ("CSV: %u lines, %u processor and %u inference samples", g_strv_length (lines),
                  rows_cpu, rows_inference);
  g_assert_cmpuint (rows_cpu, ==, n_cpu);
  g_assert_cmpuint (rows_cpu, >=, 2);
  g_assert_cmpuint (rows_inference, ==, MIN (n_inference, kestrel_graph_view_get_history_length (latency)));
  g_assert_cmpuint (matched, ==, rows_inference);

  g_assert_true (kestrel_window_export_graphs (window, png, &error));
  g_assert_no_error (error);
  g_assert_true (kestrel_window_export_graphs (window, svg, &error));
  g_assert_no_error (error);
  from_png = gdk_texture_new_from_filename (png, &error);
  g_assert_no_error (error);
  /* Through gdk-pixbuf's SVG loader (librsvg), as an image viewer would. */
  from_svg = gdk_texture_new_from_filename (svg, &error);
  g_assert_no_error (error);
  g_test_message ("PNG %d x %d, %u colours; SVG %d x %d, %u colours",
                  gdk_texture_get_width (from_png), gdk_texture_get_height (from_png),
                  count_colours (from_png), gdk_texture_get_width (from_svg),
                  gdk_texture_get_height (from_svg), count_colours (from_svg));
  g_assert_cmpint (gdk_texture_get_width (from_png), >=, gtk_widget_get_width (GTK_WIDGET (latency)));
  g_assert_cmpint (gdk_texture_get_height (from_png), >,
                   gtk_widget_get_height (GTK_WIDGET (latency)) + gtk_widget_get_height (GTK_WIDGET (cpu)));
  g_assert_cmpint (gdk_texture_get_width (from_svg), ==, gdk_texture_get_width (from_png));
  g_assert_cmpint (gdk_texture_get_height (from_svg), ==, gdk_texture_get_height (from_png));
  g_assert_cmpuint (count_colours (from_png), >, 20);
  g_assert_cmpuint (count_colours (from_svg), >, 20);

  g_assert_false (kestrel_window_export_graphs (window, "/nonexistent-kestrel-dir/h.csv", &error));
  g_assert_nonnull (strstr (error->message, "/nonexistent-kestrel-dir/h.csv"));
  g_clear_error (&error);
  g_assert_false (kestrel_window_export_graphs (window, "/nonexistent-kestrel-dir/g.svg", &error));
  g_assert_nonnull (strstr (error->message, "/nonexistent-kestrel-dir/g.svg"));
  g_clear_error (&error);
  g_assert_false (kestrel_window_export_graphs (window, "graphs.txt", &error));
  g_assert_nonnull (strstr (error->message, ".csv"));
  g_clear_error (&error);
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "export-history"));
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "export-image"));

  g_unlink (csv);
  g_rmdir (dir);
  close_window (window);
}

int
main (int argc, char *argv[])
{
  int status;

  /* Benchmark results go to a folder of this run (GLib reads the variable
   * once, at the first g_get_user_data_dir()). */
  g_setenv ("XDG_DATA_HOME", g_dir_make_tmp ("test-window-data-XXXXXX", NULL), TRUE);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  /* Kestrel's own application: its start-up sets the keyboard shortcuts
   * that the shortcuts window must list. */
  app = GTK_APPLICATION (kestrel_application_new ());
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, NULL));

  g_test_add_func ("/window/hidden-does-not-poll", test_hidden_window_does_not_poll);
  g_test_add_func ("/window/pause-action", test_pause_action);
  g_test_add_func ("/window/benchmark-view", test_benchmark_view);
  g_test_add_func ("/window/rollback-action", test_rollback_action);
  g_test_add_func ("/window/sample-interval", test_sample_interval);
  g_test_add_func ("/window/space-pauses", test_space_pauses);
  g_test_add_func ("/window/shortcuts-window", test_shortcuts_window);
  g_test_add_func ("/window/narrow-layout", test_narrow_layout);
  g_test_add_func ("/window/tooltip-not-over-list", test_tooltip_not_over_list);
  g_test_add_func ("/window/any-size-model", test_any_size_model);
  g_test_add_func ("/window/preferences", test_preferences);
  g_test_add_func ("/window/about-icon", test_about_icon);
  g_test_add_func ("/window/growth-own-scale", test_growth_own_scale);
  g_test_add_func ("/window/plan-memory", test_plan_memory);
  g_test_add_func ("/window/export", test_export);
  status = g_test_run ();

  g_object_unref (app);
  return status;
}
