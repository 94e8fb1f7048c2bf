/* test-window-events.c — KestrelWindow when things go wrong (issue 10):
 *
 *   - a start that fails shows the failure page at once, naming the file,
 *     and "Use the Defaults" brings a running pipeline back;
 *   - repeated events are one toast with a count; once the user closes it
 *     (its ✕, as a click does), more of the same go to the event log only,
 *     which keeps every event's details; a new source makes them news again;
 *   - a folder with a truncated JPEG names it once, however many passes.
 *
 * A real engine and real photos, under a display (Xvfb in meson test),
 * GSETTINGS_BACKEND=memory. What is checked is read from the window's
 * report (kestrel_window_build_report()), which says what is on screen.
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <string.h>

#include "kestrel-window.h"
#include "ui-test-util.h"

static GtkApplication *app;

static JsonObject *
report (KestrelWindow *window)
{
  static JsonNode *last;

  g_clear_pointer (&last, json_node_unref);
  last = kestrel_window_build_report (window);
  return json_node_get_object (last);
}

static guint
n_toasts (KestrelWindow *window)
{
  return json_array_get_length (json_object_get_array_member (report (window), "toasts"));
}

static const char *
toast_title (KestrelWindow *window, guint i)
{
  return json_array_get_string_element (json_object_get_array_member (report (window), "toasts"), i);
}

/* The event log's entries of @kind; the count of the last in *count. */
static guint
log_entries (KestrelWindow *window,
             const char    *kind,
             gint64        *count,
             const char   **message)
{
  JsonArray *events = json_object_get_array_member (report (window), "events");
  guint n = 0;

  for (guint i = 0; i < json_array_get_length (events); i++)
    {
      JsonObject *event = json_array_get_object_element (events, i);

      if (!g_str_equal (json_object_get_string_member (event, "kind"), kind))
        continue;
      n++;
      if (count != NULL)
        *count = json_object_get_int_member (event, "count");
      if (message != NULL)
        *message = json_object_get_string_member (event, "message");
    }
  return n;
}

static void
on_started (KestrelWindow *window,
            const char    *error,
            gboolean      *done)
{
  *done = TRUE;
}

static gboolean
is_true (gpointer data)
{
  return *(gboolean *) data;
}

static gboolean
engine_running (gpointer data)
{
  return kestrel_window_get_engine (data) != NULL;
}

static char *marker_dir;

/* Starts @window and waits until the start has finished, well or not. */
static KestrelWindow *
open_window (GSettings *settings)
{
  KestrelWindow *window = kestrel_window_new (app, settings);
  g_autofree char *marker = g_build_filename (marker_dir, "running", NULL);
  gboolean started = FALSE;
  gulong id = g_signal_connect (window, "started", G_CALLBACK (on_started), &started);

  gtk_window_present (GTK_WINDOW (window));
  kestrel_window_start (window, marker, FALSE);
  g_assert_true (ui_test_wait_until (is_true, &started));
  g_signal_handler_disconnect (window, id);
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
reset_all (GSettings *settings)
{
  g_autoptr(GSettingsSchema) schema = NULL;
  g_auto(GStrv) keys = NULL;

  g_object_get (settings, "settings-schema", &schema, NULL);
  keys = g_settings_schema_list_keys (schema);
  for (guint i = 0; keys[i] != NULL; i++)
    g_settings_reset (settings, keys[i]);
}

/* ---- a start that fails --------------------------------------------------- */

static gboolean
failure_page_gone (gpointer data)
{
  return !json_object_has_member (report (data), "failure_page");
}

static void
test_start_failure (void)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.kestrel.Kestrel");
  g_autofree char *broken = g_build_filename (marker_dir, "not-a-model.onnx", NULL);
  KestrelWindow *window;
  JsonObject *page;
  const char *message = NULL;

  reset_all (settings);
  g_assert_true (g_file_set_contents (broken, "this is not an ONNX protobuf\n", -1, NULL));
  g_settings_set_string (settings, "model-file", broken);
  g_settings_set_string (settings, "model", "file");
  window = open_window (settings);

  /* On screen at once (no toast that goes away), naming the file. */
  g_assert_null (kestrel_window_get_engine (window));
  g_assert_nonnull (kestrel_window_get_start_error (window));
  g_assert_true (json_object_has_member (report (window), "failure_page"));
  page = json_object_get_object_member (report (window), "failure_page");
  g_test_message ("failure page: %s", json_object_get_string_member (page, "description"));
  g_assert_nonnull (strstr (json_object_get_string_member (page, "description"), "not-a-model.onnx"));
  g_assert_cmpuint (log_entries (window, "config-error", NULL, &message), ==, 1);
  g_assert_nonnull (strstr (message, "not-a-model.onnx"));

  /* The way back. */
  g_action_group_activate_action (G_ACTION_GROUP (window), "use-defaults", NULL);
  g_assert_true (ui_test_wait_until (engine_running, window));
  g_assert_true (ui_test_wait_until (failure_page_gone, window));
  g_assert_null (kestrel_window_get_start_error (window));
  {
    g_autofree char *model = g_settings_get_string (settings, "model");
    g_assert_cmpstr (model, ==, "front");
  }
  close_window (window);
  g_unlink (broken);
}

/* ---- toasts and the event log -------------------------------------------- */

static GtkWidget *
find_close_button (GtkWidget *widget,
                   GType      toast_type)
{
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found;

      if (GTK_IS_BUTTON (c) && gtk_widget_get_ancestor (c, toast_type) != NULL &&
          g_strcmp0 (gtk_button_get_icon_name (GTK_BUTTON (c)), "window-close-symbolic") == 0)
        return c;
      found = find_close_button (c, toast_type);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
no_toast (gpointer data)
{
  return n_toasts (data) == 0;
}

static void
emit_events (KestrelWindow *window,
             int            kind,
             const char    *message,
             guint          n)
{
  for (guint i = 0; i < n; i++)
    g_signal_emit_by_name (kestrel_window_get_engine (window), "event", kind, message);
  ui_test_spin (20);
}

static void
test_coalesce (void)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.kestrel.Kestrel");
  KestrelWindow *window;
  GtkWidget *close;
  gint64 count = 0;

  reset_all (settings);
  window = open_window (settings);
  g_assert_nonnull (kestrel_window_get_engine (window));

  /* Five in a row: one toast that counts them, one log entry. */
  emit_events (window, KESTREL_ENGINE_EVENT_SOURCE_ERROR, "/photos/bad.jpg: truncated jpeg file", 5);
  g_assert_cmpuint (n_toasts (window), ==, 1);
  g_test_message ("toast: %s", toast_title (window, 0));
  g_assert_nonnull (strstr (toast_title (window, 0), "(5 times)"));
  g_assert_cmpuint (log_entries (window, "source-error", &count, NULL), ==, 1);
  g_assert_cmpint (count, ==, 5);

  /* The user closes it, as with a click on its ✕: it stays closed while
   * the same goes on, and the log keeps counting. */
  close = find_close_button (GTK_WIDGET (window), g_type_from_name ("AdwToastWidget"));
  g_assert_nonnull (close);
  g_signal_emit_by_name (close, "clicked");
  g_assert_true (ui_test_wait_until (no_toast, window));
  emit_events (window, KESTREL_ENGINE_EVENT_SOURCE_ERROR, "/photos/bad.jpg: truncated jpeg file", 3);
  g_assert_cmpuint (n_toasts (window), ==, 0);
  g_assert_cmpuint (log_entries (window, "source-error", &count, NULL), ==, 1);
  g_assert_cmpint (count, ==, 8);

  /* Another message is another entry, still without a toast. */
  emit_events (window, KESTREL_ENGINE_EVENT_SOURCE_ERROR, "/photos/other.jpg: not an image", 1);
  g_assert_cmpuint (n_toasts (window), ==, 0);
  g_assert_cmpuint (log_entries (window, "source-error", &count, NULL), ==, 2);
  g_assert_cmpint (count, ==, 1);

  /* A change of source makes its errors news. (Any change of the source
   * settings counts; a path the samples ignore keeps the engine as it is.) */
  g_settings_set_string (settings, "source-path", "/elsewhere");
  ui_test_spin (50);
  emit_events (window, KESTREL_ENGINE_EVENT_SOURCE_ERROR, "/photos/bad.jpg: truncated jpeg file", 1);
  g_assert_cmpuint (n_toasts (window), ==, 1);
  g_assert_cmpstr (toast_title (window, 0), ==, "A frame could not be read from the source");

  close_window (window);
}

/* ---- a truncated JPEG among good photos ------------------------------------ */

static void
copy_file (const char *from,
           const char *to,
           gssize      length)
{
  g_autofree char *contents = NULL;
  gsize size = 0;

  g_assert_true (g_file_get_contents (from, &contents, &size, NULL));
  g_assert_true (g_file_set_contents (to, contents, length >= 0 ? length : (gssize) size, NULL));
}

static gboolean
three_passes (gpointer data)
{
  return json_object_get_int_member (report (data), "frames_processed") >= 6;
}

static void
test_bad_file_named_once (void)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.kestrel.Kestrel");
  g_autofree char *folder = g_build_filename (marker_dir, "photos", NULL);
  const char *samples = g_getenv ("KESTREL_SAMPLES_DIR");
  g_autofree char *astronaut = g_build_filename (samples, "astronaut.png", NULL);
  g_autofree char *hopper = g_build_filename (samples, "grace_hopper.jpg", NULL);
  g_autofree char *a = g_build_filename (folder, "a.png", NULL);
  g_autofree char *b = g_build_filename (folder, "b-truncated.jpg", NULL);
  g_autofree char *c = g_build_filename (folder, "c.jpg", NULL);
  KestrelWindow *window;
  const char *message = NULL;
  gint64 count = 0;

  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  copy_file (astronaut, a, -1);
  copy_file (hopper, b, 5000);
  copy_file (hopper, c, -1);

  reset_all (settings);
  g_settings_set_string (settings, "source-path", folder);
  g_settings_set_string (settings, "source-kind", "folder");
  window = open_window (settings);
  g_assert_nonnull (kestrel_window_get_engine (window));

  /* Three passes over the folder: the broken file is named once. */
  g_assert_true (ui_test_wait_until (three_passes, window));
  g_assert_cmpuint (log_entries (window, "source-error", &count, &message), ==, 1);
  g_test_message ("%s", message);
  g_assert_cmpint (count, ==, 1);
  g_assert_nonnull (strstr (message, "b-truncated.jpg"));
  g_assert_cmpuint (n_toasts (window), <=, 1);

  close_window (window);
  g_unlink (a);
  g_unlink (b);
  g_unlink (c);
  g_rmdir (folder);
}

int
main (int argc, char *argv[])
{
  int status;

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  app = gtk_application_new (NULL, G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, NULL));
  marker_dir = g_dir_make_tmp ("kestrel-test-window-events-XXXXXX", NULL);
  g_assert_nonnull (marker_dir);

  g_test_add_func ("/window-events/start-failure", test_start_failure);
  g_test_add_func ("/window-events/coalesce", test_coalesce);
  g_test_add_func ("/window-events/bad-file-named-once", test_bad_file_named_once);
  status = g_test_run ();

  g_rmdir (marker_dir);
  g_free (marker_dir);
  g_object_unref (app);
  return status;
}
