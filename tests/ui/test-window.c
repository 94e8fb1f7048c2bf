/* test-window.c — KestrelWindow with a real engine on the sample photos:
 * the graphs fill while the window is shown and get nothing while it is
 * hidden (its polling timeouts are gone), the pause action pauses the
 * engine, and the rollback action sets the level setting to scalar and is
 * disabled while the level is scalar.
 * Runs under a display (Xvfb in meson test, see run-with-display.sh), with
 * GSETTINGS_BACKEND=memory. */
#include "config.h"

#include <adwaita.h>

#include "kestrel-window.h"
#include "ui-test-util.h"

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

int
main (int argc, char *argv[])
{
  int status;

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  app = gtk_application_new (NULL, G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, NULL));

  g_test_add_func ("/window/hidden-does-not-poll", test_hidden_window_does_not_poll);
  g_test_add_func ("/window/pause-action", test_pause_action);
  g_test_add_func ("/window/rollback-action", test_rollback_action);
  g_test_add_func ("/window/sample-interval", test_sample_interval);
  status = g_test_run ();

  g_object_unref (app);
  return status;
}
