/* kestrel-application.c — see kestrel-application.h.
 *
 * One window per application. The window owns the engine; the application
 * owns what outlives a window: the settings, the command line, the crash
 * marker's place and the scripted run.
 *
 * Overrides. --source and --model change this run only: they go into a
 * delayed GSettings (g_settings_delay()) that is never applied, so the
 * window, the controls and the engine all see them, and nothing of this run
 * is saved. A run with overrides or a scripted run is a separate instance
 * (G_APPLICATION_NON_UNIQUE): handing such a command line to a Kestrel that
 * already runs would lose it.
 *
 * Crash detection. The engine writes its state file when the pipeline
 * starts and removes it when it stops cleanly; Kestrel keeps it in
 * $XDG_STATE_HOME/kestrel/running, and finding it there at start means the
 * last run crashed or was killed: the engine starts in safe mode.
 *
 * Scripted run (--run-for SECONDS --state-file FILE): the window opens as
 * usual, the pipeline runs SECONDS from the moment it started, then the
 * report (kestrel_window_build_report()) goes to FILE as JSON, optionally
 * screenshots are taken, and the application quits through the normal path,
 * which stops the engine cleanly.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <math.h>

#include "kestrel-application.h"
#include "kestrel-file.h"
#include "kestrel-samples.h"
#include "kestrel-window.h"

/* How long the window is given to restyle after the colour scheme changes,
 * before a screenshot. */
#define RESTYLE_DELAY_MS 700

struct _KestrelApplication
{
  AdwApplication parent_instance;

  GSettings     *settings;
  KestrelWindow *window;

  /* Command line */
  double         run_for;
  char          *state_file;
  char          *screenshot;
  char          *source;
  char          *model;
  gboolean       paused;
  gboolean       options_parsed;

  guint          run_timeout_id;
  guint          sigint_id;
  guint          sigterm_id;
  guint          screenshot_step;
  guint          screenshot_retries;
  int            exit_status;
};

G_DEFINE_FINAL_TYPE (KestrelApplication, kestrel_application, ADW_TYPE_APPLICATION)

static const GOptionEntry option_entries[] = {
  { "source", 's', 0, G_OPTION_ARG_FILENAME, NULL,
    N_("Take frames from a folder of images, a video file, “camera” or “camera:DEVICE”, "
       "or “samples” (the bundled photos), for this run only"), N_("SOURCE") },
  { "model", 'm', 0, G_OPTION_ARG_FILENAME, NULL,
    N_("Run “front”, “back” or an ONNX file, for this run only"), N_("MODEL") },
  { "paused", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Open with the pipeline paused"), NULL },
  { "run-for", 0, 0, G_OPTION_ARG_DOUBLE, NULL,
    N_("Scripted run: run the pipeline this long, write the state file and quit"), N_("SECONDS") },
  { "state-file", 0, 0, G_OPTION_ARG_FILENAME, NULL,
    N_("Where a scripted run writes its report (JSON)"), N_("FILE") },
  { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, NULL,
    N_("At the end of a scripted run, save the window as BASE-light.png and BASE-dark.png"),
    N_("BASE") },
  { "version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Print the version and exit"), NULL },
  /* Kestrel opens no files by name: a stray argument is a mistake to report. */
  { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, NULL, NULL, NULL },
  { NULL }
};

/* ---- the scripted run ---------------------------------------------------- */

static gboolean
write_report (KestrelApplication *self)
{
  g_autoptr(JsonNode) report = kestrel_window_build_report (self->window);
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(GError) error = NULL;

  json_generator_set_root (generator, report);
  json_generator_set_pretty (generator, TRUE);
  if (!json_generator_to_file (generator, self->state_file, &error))
    {
      g_printerr ("kestrel: cannot write the state file: %s\n", error->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
screenshot_step (gpointer data)
{
  static const struct { AdwColorScheme scheme; const char *name; } styles[] = {
    { ADW_COLOR_SCHEME_FORCE_LIGHT, "light" },
    { ADW_COLOR_SCHEME_FORCE_DARK, "dark" },
  };
  KestrelApplication *self = data;
  AdwStyleManager *style = adw_style_manager_get_default ();

  /* Each step saves the style set by the previous one, then sets the next. */
  if (self->screenshot_step > 0)
    {
      guint done = self->screenshot_step - 1;
      g_autofree char *path = g_strdup_printf ("%s-%s.png", self->screenshot, styles[done].name);
      g_autoptr(GError) error = NULL;

      if (!kestrel_window_save_png (self->window, path, &error))
        {
          /* A window caught between a restyle and its next frame draws
           * nothing yet: give it a few more frames. */
          if (++self->screenshot_retries <= 5)
            return G_SOURCE_CONTINUE;
          g_printerr ("kestrel: %s\n", error->message);
          self->exit_status = 1;
        }
      self->screenshot_retries = 0;
    }
  if (self->screenshot_step < G_N_ELEMENTS (styles))
    {
      adw_style_manager_set_color_scheme (style, styles[self->screenshot_step].scheme);
      /* A window with nothing moving (the failure page) has no frame
       * coming that would apply the new style: ask for one. */
      gtk_widget_queue_resize (GTK_WIDGET (self->window));
      self->screenshot_step++;
      return G_SOURCE_CONTINUE;
    }

  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_DEFAULT);
  self->run_timeout_id = 0;
  g_application_quit (G_APPLICATION (self));
  return G_SOURCE_REMOVE;
}

static gboolean
run_finished (gpointer data)
{
  KestrelApplication *self = data;

  self->run_timeout_id = 0;
  if (!write_report (self))
    self->exit_status = 1;
  if (self->screenshot != NULL)
    {
      /* The report is taken first, so the screenshots' restyling does not
       * count in the run. */
      self->run_timeout_id = g_timeout_add (RESTYLE_DELAY_MS, screenshot_step, self);
      return G_SOURCE_REMOVE;
    }
  g_application_quit (G_APPLICATION (self));
  return G_SOURCE_REMOVE;
}

static void
on_window_started (KestrelWindow      *window,
                   const char         *error_message,
                   KestrelApplication *self)
{
  if (self->run_for <= 0)
    return;
  if (error_message != NULL)
    {
      g_printerr ("kestrel: the pipeline did not start: %s\n", error_message);
      self->exit_status = 1;
      write_report (self);
      /* The screenshots show what a user would see: the failure page. */
      if (self->screenshot != NULL)
        {
          self->run_timeout_id = g_timeout_add (RESTYLE_DELAY_MS, screenshot_step, self);
          return;
        }
      g_application_quit (G_APPLICATION (self));
      return;
    }
  self->run_timeout_id = g_timeout_add ((guint) (self->run_for * 1000), run_finished, self);
}

/* Closed on the failure page: the pipeline never ran, which is exit status
 * 1, as for a scripted run that could not start. */
static gboolean
on_window_close_request (KestrelWindow      *window,
                         KestrelApplication *self)
{
  if (kestrel_window_get_start_error (window) != NULL && self->exit_status == 0)
    self->exit_status = 1;
  return FALSE;
}

/* ---- command line ---------------------------------------------------------- */

/* Folder, image or video file, "samples", "camera[:DEVICE]". */
static gboolean
apply_source (GSettings   *settings,
              const char  *source,
              GError     **error)
{
  if (g_str_equal (source, "samples"))
    {
      g_settings_set_string (settings, "source-kind", "samples");
      return TRUE;
    }
  if (g_str_equal (source, "camera") || g_str_has_prefix (source, "camera:"))
    {
      g_settings_set_string (settings, "source-kind", "camera");
      g_settings_set_string (settings, "source-path", source[6] == ':' ? source + 7 : "");
      return TRUE;
    }
  if (g_file_test (source, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *path = g_canonicalize_filename (source, NULL);
      g_settings_set_string (settings, "source-kind", "folder");
      g_settings_set_string (settings, "source-path", path);
      return TRUE;
    }
  if (g_file_test (source, G_FILE_TEST_IS_REGULAR))
    {
      g_autofree char *path = g_canonicalize_filename (source, NULL);
      g_autofree char *type = g_content_type_guess (source, NULL, 0, NULL);

      /* One image is a folder source of one picture ("images:" takes
       * files too); anything else is handed to the video decoder. */
      g_settings_set_string (settings, "source-kind",
                             g_content_type_is_mime_type (type, "image/*") ? "folder" : "video");
      g_settings_set_string (settings, "source-path", path);
      return TRUE;
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
               _("--source: “%s” is not a folder, a file, “samples” or “camera”"), source);
  return FALSE;
}

static gboolean
apply_model (GSettings   *settings,
             const char  *model,
             GError     **error)
{
  if (g_str_equal (model, "front") || g_str_equal (model, "back"))
    {
      g_settings_set_string (settings, "model", model);
      return TRUE;
    }
  if (g_file_test (model, G_FILE_TEST_IS_REGULAR))
    {
      g_autofree char *path = g_canonicalize_filename (model, NULL);
      g_settings_set_string (settings, "model", "file");
      g_settings_set_string (settings, "model-file", path);
      return TRUE;
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
               _("--model: “%s” is neither “front”, “back” nor an ONNX file"), model);
  return FALSE;
}

static int
kestrel_application_handle_local_options (GApplication *application,
                                          GVariantDict *options)
{
  KestrelApplication *self = KESTREL_APPLICATION (application);
  g_autoptr(GSettingsSchema) schema = NULL;
  g_auto(GStrv) remaining = NULL;

  self->options_parsed = TRUE;
  if (g_variant_dict_lookup (options, G_OPTION_REMAINING, "^aay", &remaining) && remaining[0] != NULL)
    {
      g_printerr (_("kestrel: unexpected argument “%s” (see --help)\n"), remaining[0]);
      return 2;
    }
  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("kestrel %s\n", PACKAGE_VERSION);
      return 0;
    }

  g_variant_dict_lookup (options, "run-for", "d", &self->run_for);
  g_variant_dict_lookup (options, "state-file", "^ay", &self->state_file);
  g_variant_dict_lookup (options, "screenshot", "^ay", &self->screenshot);
  g_variant_dict_lookup (options, "source", "^ay", &self->source);
  g_variant_dict_lookup (options, "model", "^ay", &self->model);
  self->paused = g_variant_dict_contains (options, "paused");

  if (g_variant_dict_contains (options, "run-for") && !(self->run_for > 0 && self->run_for <= 86400))
    {
      g_printerr (_("kestrel: --run-for must be more than 0 and at most 86400 seconds\n"));
      return 2;
    }
  if ((self->run_for > 0) != (self->state_file != NULL))
    {
      g_printerr (_("kestrel: --run-for and --state-file go together\n"));
      return 2;
    }
  if (self->screenshot != NULL && self->run_for <= 0)
    {
      g_printerr (_("kestrel: --screenshot needs --run-for\n"));
      return 2;
    }
  /* The report is written at the end of the run: a folder that is not
   * there must not cost the whole run. */
  if (self->state_file != NULL)
    {
      g_autoptr(GError) error = NULL;

      if (!kestrel_file_check_writable (self->state_file, &error))
        {
          g_printerr (_("kestrel: --state-file: %s\n"), error->message);
          return 2;
        }
    }

  /* Overrides are checked here, before any window, so a mistyped path is
   * an error message and an exit status, not an empty window. */
  /* g_settings_new() aborts on a missing schema: say what is wrong. */
  schema = g_settings_schema_source_lookup (g_settings_schema_source_get_default (),
                                            KESTREL_APPLICATION_ID, TRUE);
  if (schema == NULL)
    {
      g_printerr (_("kestrel: the settings schema %s is not installed (when running from the "
                    "build folder, set GSETTINGS_SCHEMA_DIR to its data/ folder, or use "
                    "“meson devenv”)\n"), KESTREL_APPLICATION_ID);
      return 1;
    }
  self->settings = g_settings_new (KESTREL_APPLICATION_ID);
  if (self->source != NULL || self->model != NULL)
    {
      g_autoptr(GError) error = NULL;

      g_settings_delay (self->settings);
      if ((self->source != NULL && !apply_source (self->settings, self->source, &error)) ||
          (self->model != NULL && !apply_model (self->settings, self->model, &error)))
        {
          g_printerr ("kestrel: %s\n", error->message);
          return 2;
        }
    }

  if (self->run_for > 0 || self->source != NULL || self->model != NULL || self->paused)
    g_application_set_flags (application,
                             g_application_get_flags (application) | G_APPLICATION_NON_UNIQUE);
  return -1;
}

/* ---- actions --------------------------------------------------------------- */

static void
quit_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  KestrelApplication *self = user_data;

  /* Through the window's close, which saves its size and stops the engine. */
  if (self->window != NULL)
    gtk_window_close (GTK_WINDOW (self->window));
  g_application_quit (G_APPLICATION (self));
}

static void
about_activated (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  KestrelApplication *self = user_data;
  static const char *developers[] = { "The Kestrel developers", NULL };
  GtkWidget *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", self->window,
                        "application-name", _("Kestrel"),
                        "application-icon", KESTREL_APPLICATION_ID,
                        "version", PACKAGE_VERSION,
                        "developer-name", _("The Kestrel developers"),
                        "developers", developers,
                        "comments", _("Run vision neural networks on the processor and see what they cost"),
                        "license-type", GTK_LICENSE_GPL_3_0,
                        /* Translators: replace with your names, one per line. */
                        "translator-credits", _("translator-credits"),
                        NULL);
  /* What ships inside Kestrel under other licences: the models (compiled
   * in) and the sample photos (data/models/README.md,
   * data/samples/README.md). */
  adw_about_window_add_legal_section (ADW_ABOUT_WINDOW (about),
                                      _("BlazeFace face detection models"),
                                      "© Google LLC (MediaPipe); ONNX conversion by Katsuya Hyodo "
                                      "(PINTO model zoo) and Keijiro Takahashi",
                                      GTK_LICENSE_APACHE_2_0, NULL);
  adw_about_window_add_legal_section (ADW_ABOUT_WINDOW (about),
                                      _("Sample photos"),
                                      NULL, GTK_LICENSE_CUSTOM,
                                      _("Eileen Collins (astronaut.png): NASA, public domain. "
                                        "Cameraman (camera.png): Lav Varshney, CC0. "
                                        "Coffee (coffee.png): Rachel Michetti, CC0. "
                                        "Falcon 9 launch (rocket.jpg): SpaceX, public domain. "
                                        "From scikit-image, BSD-3-Clause.\n"
                                        "Grace Hopper (grace_hopper.jpg): U.S. Navy, James S. Davis, "
                                        "public domain. From matplotlib, matplotlib licence.\n"
                                        "The notices are installed beside the photos."));
  /* The project has no web site or bug tracker yet (see the metainfo):
   * no link is better than an invented one. The photos' folder holds
   * their notices. */
  {
    g_autoptr(GFile) samples = g_file_new_for_path (kestrel_samples_get_dir ());
    g_autofree char *uri = g_file_get_uri (samples);

    adw_about_window_add_link (ADW_ABOUT_WINDOW (about), _("_Sample Photos and Their Notices"), uri);
  }
  gtk_window_present (GTK_WINDOW (about));
}

static const GActionEntry app_entries[] = {
  { .name = "quit", .activate = quit_activated },
  { .name = "about", .activate = about_activated },
};

/* ---- GApplication ---------------------------------------------------------- */

/* Ctrl+C in the terminal of `make run`, or the session's SIGTERM, is a
 * request to quit, not a crash: quit normally, so the engine stops and
 * removes its marker, and the next start is not in safe mode. */
/* Installed, the icon is in the icon theme; run from the build folder, it
 * is only in the source tree, whose data/icons is a hicolor theme folder.
 * Without this the window and About show a broken-image icon. */
static void
ensure_icon (void)
{
  GtkIconTheme *theme = gtk_icon_theme_get_for_display (gdk_display_get_default ());

  if (!gtk_icon_theme_has_icon (theme, KESTREL_APPLICATION_ID))
    gtk_icon_theme_add_search_path (theme, KESTREL_ICONS_SOURCE_DIR);
}

static gboolean
on_quit_signal (gpointer data)
{
  g_application_quit (G_APPLICATION (data));
  return G_SOURCE_CONTINUE;
}

static void
kestrel_application_startup (GApplication *application)
{
  KestrelApplication *self = KESTREL_APPLICATION (application);
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *pause_accels[] = { "<Control>p", NULL };
  static const char *rollback_accels[] = { "<Control>r", NULL };
  static const char *controls_accels[] = { "F9", NULL };
  static const char *shortcuts_accels[] = { "<Control>question", NULL };
  static const char *preferences_accels[] = { "<Control>comma", NULL };

  G_APPLICATION_CLASS (kestrel_application_parent_class)->startup (application);

  /* Dark when the system prefers it. */
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_DEFAULT);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_entries, G_N_ELEMENTS (app_entries), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "win.pause", pause_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "win.rollback", rollback_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "win.show-controls", controls_accels);
  /* Space is the window's own (kestrel-window.c); ui/kestrel-shortcuts.ui
   * lists all of them. */
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "win.show-help-overlay",
                                         shortcuts_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "win.preferences",
                                         preferences_accels);
  ensure_icon ();
  gtk_window_set_default_icon_name (KESTREL_APPLICATION_ID);

  self->sigint_id = g_unix_signal_add (SIGINT, on_quit_signal, self);
  self->sigterm_id = g_unix_signal_add (SIGTERM, on_quit_signal, self);
}

static void
kestrel_application_activate (GApplication *application)
{
  KestrelApplication *self = KESTREL_APPLICATION (application);
  g_autofree char *marker = NULL;

  if (self->window != NULL)
    {
      gtk_window_present (GTK_WINDOW (self->window));
      return;
    }

  /* Started as a remote instance's primary, without local options. */
  if (self->settings == NULL)
    self->settings = g_settings_new (KESTREL_APPLICATION_ID);

  self->window = kestrel_window_new (GTK_APPLICATION (self), self->settings);
  g_object_add_weak_pointer (G_OBJECT (self->window), (gpointer *) &self->window);
  g_signal_connect_object (self->window, "started", G_CALLBACK (on_window_started), self, 0);
  g_signal_connect_object (self->window, "close-request", G_CALLBACK (on_window_close_request), self, 0);
  gtk_window_present (GTK_WINDOW (self->window));

  marker = g_build_filename (g_get_user_state_dir (), "kestrel", "running", NULL);
  kestrel_window_start (self->window, marker, self->paused);
}

static void
kestrel_application_shutdown (GApplication *application)
{
  KestrelApplication *self = KESTREL_APPLICATION (application);

  g_clear_handle_id (&self->run_timeout_id, g_source_remove);
  g_clear_handle_id (&self->sigint_id, g_source_remove);
  g_clear_handle_id (&self->sigterm_id, g_source_remove);
  /* Quit can come from a signal or the session: the crash marker must go
   * whatever closed us, so stop the engine here too. */
  if (self->window != NULL)
    {
      /* Closed on the failure page: the pipeline never ran (exit 1, as a
       * scripted run that could not start). */
      if (kestrel_window_get_start_error (self->window) != NULL && self->exit_status == 0)
        self->exit_status = 1;
      kestrel_window_stop (self->window);
      gtk_window_destroy (GTK_WINDOW (self->window));
    }

  G_APPLICATION_CLASS (kestrel_application_parent_class)->shutdown (application);
}

static void
kestrel_application_finalize (GObject *object)
{
  KestrelApplication *self = KESTREL_APPLICATION (object);

  g_clear_object (&self->settings);
  g_clear_pointer (&self->state_file, g_free);
  g_clear_pointer (&self->screenshot, g_free);
  g_clear_pointer (&self->source, g_free);
  g_clear_pointer (&self->model, g_free);

  G_OBJECT_CLASS (kestrel_application_parent_class)->finalize (object);
}

/* GApplication exits with 1 when it cannot parse the command line (an
 * unknown option, a value that is not a number); kestrel(1) promises 2 for
 * every wrong option, as kestrel-cli does. Parsing failed when the options
 * never reached handle_local_options. */
static gboolean
kestrel_application_local_command_line (GApplication   *application,
                                        char         ***arguments,
                                        int            *exit_status)
{
  KestrelApplication *self = KESTREL_APPLICATION (application);
  gboolean handled;

  handled = G_APPLICATION_CLASS (kestrel_application_parent_class)->local_command_line (application,
                                                                                         arguments,
                                                                                         exit_status);
  if (handled && *exit_status == 1 && !self->options_parsed)
    *exit_status = 2;
  return handled;
}

static void
kestrel_application_class_init (KestrelApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = kestrel_application_finalize;
  app_class->local_command_line = kestrel_application_local_command_line;
  app_class->handle_local_options = kestrel_application_handle_local_options;
  app_class->startup = kestrel_application_startup;
  app_class->activate = kestrel_application_activate;
  app_class->shutdown = kestrel_application_shutdown;
}

static void
kestrel_application_init (KestrelApplication *self)
{
  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
  g_application_set_option_context_parameter_string (G_APPLICATION (self), NULL);
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("Run vision neural networks on the processor and see what they cost."));
}

KestrelApplication *
kestrel_application_new (void)
{
  return g_object_new (KESTREL_TYPE_APPLICATION,
                       "application-id", KESTREL_APPLICATION_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       "resource-base-path", "/org/kestrel/Kestrel",
                       NULL);
}

int
kestrel_application_get_exit_status (KestrelApplication *self)
{
  g_return_val_if_fail (KESTREL_IS_APPLICATION (self), 1);

  return self->exit_status;
}
