/* test-controls.c — KestrelControls and kestrel_engine_config_from_settings.
 *
 * The panel runs against a real KestrelEngine (the built-in front model on
 * a folder with one small photo, throttled so the test stays cheap): each
 * control, set as a user would, must change the engine's configuration;
 * several changes in one main-loop turn must make one reconfiguration; a
 * settings change from outside must move the control. Waits are bounded
 * main-loop waits on the engine's state; nothing asserts a time.
 *
 * Needs GSETTINGS_BACKEND=memory and GSETTINGS_SCHEMA_DIR pointing at the
 * build's compiled schema (tests/ui/meson.build sets both), and a display
 * (run-with-display.sh).
 *
 * Why one file of more than 800 lines: one program per widget, whose tests
 * share its fixture (a real engine and settings) and helpers; each test is
 * one control or one rule of the settings mapping.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <adwaita.h>
#include <glib/gstdio.h>

#include "kestrel-builtin-models.h"
#include "kestrel-controls.h"
#include "kestrel-engine-settings.h"
#include "kestrel-samples.h"
#include "ui-test-chooser.h"
#include "ui-test-util.h"

#define SCHEMA_ID "org.kestrel.Kestrel"

static char *photo_dir;

static void
reset_settings (GSettings *settings)
{
  g_autoptr(GSettingsSchema) schema = NULL;
  g_auto(GStrv) keys = NULL;

  g_object_get (settings, "settings-schema", &schema, NULL);
  keys = g_settings_schema_list_keys (schema);
  for (guint i = 0; keys[i] != NULL; i++)
    g_settings_reset (settings, keys[i]);
}

/* Runs what the main loop has to do now (idles included); bounded, in
 * case something keeps re-arming itself. */
static void
drain_main_loop (void)
{
  for (guint i = 0; i < 10000 && g_main_context_iteration (NULL, FALSE); i++)
    ;
}

/* ---- kestrel_engine_config_from_settings ------------------------------- */

static char *
config_source (GSettings  *settings,
               const char *kind,
               const char *path)
{
  KestrelEngineConfig config;
  char *source;

  g_settings_set_string (settings, "source-kind", kind);
  g_settings_set_string (settings, "source-path", path);
  kestrel_engine_config_init (&config);
  kestrel_engine_config_from_settings (settings, &config);
  source = g_strdup (config.source);
  kestrel_engine_config_clear (&config);
  return source;
}

static char *
config_model (GSettings  *settings,
              const char *model,
              const char *file)
{
  KestrelEngineConfig config;
  char *spec;

  g_settings_set_string (settings, "model", model);
  g_settings_set_string (settings, "model-file", file);
  kestrel_engine_config_init (&config);
  kestrel_engine_config_from_settings (settings, &config);
  spec = g_strdup (config.model);
  kestrel_engine_config_clear (&config);
  return spec;
}

#define assert_source(settings, kind, path, expected) G_STMT_START {  \
    g_autofree char *s_ = config_source (settings, kind, path);       \
    g_assert_cmpstr (s_, ==, expected);                               \
  } G_STMT_END

#define assert_setting(settings, key, expected) G_STMT_START {      \
    g_autofree char *v_ = g_settings_get_string (settings, key);      \
    g_assert_cmpstr (v_, ==, expected);                               \
  } G_STMT_END

#define assert_model(settings, model, file, expected) G_STMT_START {  \
    g_autofree char *m_ = config_model (settings, model, file);       \
    g_assert_cmpstr (m_, ==, expected);                               \
  } G_STMT_END

static void
test_config_from_settings (void)
{
  g_autoptr(GSettings) settings = g_settings_new (SCHEMA_ID);
  g_autofree char *samples = kestrel_samples_dup_source_spec (FALSE);
  KestrelEngineConfig config;

  reset_settings (settings);

  /* Every source kind, and the kinds that need a path without one. */
  assert_source (settings, "samples", "", samples);
  assert_source (settings, "samples", "/ignored", samples);
  assert_source (settings, "folder", "/srv/photos", "images:/srv/photos");
  assert_source (settings, "folder", "", samples);
  assert_source (settings, "video", "/srv/clip.avi", "file:/srv/clip.avi");
  assert_source (settings, "video", "", samples);
  assert_source (settings, "camera", "", "camera:");
  assert_source (settings, "camera", "/dev/video2", "camera:/dev/video2");

  /* Every model; a file called like a built-in model stays a file. */
  assert_model (settings, "front", "/srv/m.onnx", "front");
  assert_model (settings, "back", "", "back");
  assert_model (settings, "file", "/srv/m.onnx", "/srv/m.onnx");
  assert_model (settings, "file", "", "front");
  assert_model (settings, "file", "back", "./back");
  assert_model (settings, "file", "models/m.onnx", "models/m.onnx");

  /* The defaults. */
  reset_settings (settings);
  kestrel_engine_config_init (&config);
  kestrel_engine_config_from_settings (settings, &config);
  g_assert_cmpint (config.precision, ==, KESTREL_PRECISION_FP32);
  g_assert_cmpint (config.level, ==, KK_LEVEL_FULL);
  g_assert_cmpuint (config.threads, ==, MIN (2, g_get_num_processors ()));
  g_assert_cmpuint (config.batch, ==, 1);
  /* Frugal by default (issue 10): a budget of a quarter of one core, and
   * each sample photo run once rather than for as long as it is shown. */
  g_assert_cmpint (config.throttle, ==, KESTREL_THROTTLE_MODE_BUDGET);
  g_assert_cmpfloat (config.budget, ==, 25.0);
  g_assert_nonnull (strstr (config.source, "repeat=0"));
  g_assert_cmpuint (config.canary_interval, ==, 300);
  kestrel_engine_config_clear (&config);
  /* Full speed is the one switch away: the photo shown runs again and
   * again. */
  g_settings_set_string (settings, "throttle-mode", "off");
  {
    g_autofree char *repeating = kestrel_samples_dup_source_spec (TRUE);
    assert_source (settings, "samples", "", repeating);
    g_assert_null (strstr (repeating, "repeat=0"));
  }
  g_settings_reset (settings, "throttle-mode");

  /* Every enumeration value, by its nick; numbers as they are, threads
   * capped at the processors. */
  static const struct { const char *nick; kk_level level; } levels[] = {
    { "scalar", KK_LEVEL_SCALAR }, { "simd", KK_LEVEL_SIMD },
    { "parallel", KK_LEVEL_PARALLEL }, { "full", KK_LEVEL_FULL },
  };
  static const struct { const char *nick; KestrelPrecision precision; } precisions[] = {
    { "fp32", KESTREL_PRECISION_FP32 }, { "fp16", KESTREL_PRECISION_FP16 },
    { "int8", KESTREL_PRECISION_INT8 }, { "int4", KESTREL_PRECISION_INT4 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (levels); i++)
    {
      g_settings_set_string (settings, "level", levels[i].nick);
      g_settings_set_string (settings, "precision", precisions[i].nick);
      kestrel_engine_config_init (&config);
      kestrel_engine_config_from_settings (settings, &config);
      g_assert_cmpint (config.level, ==, levels[i].level);
      g_assert_cmpint (config.precision, ==, precisions[i].precision);
      kestrel_engine_config_clear (&config);
    }

  g_settings_set_int (settings, "threads", 64);
  g_settings_set_int (settings, "batch", 8);
  g_settings_set_string (settings, "throttle-mode", "budget");
  g_settings_set_int (settings, "cpu-budget", 150);
  g_settings_set_int (settings, "canary-interval", 0);
  kestrel_engine_config_init (&config);
  kestrel_engine_config_from_settings (settings, &config);
  g_assert_cmpuint (config.threads, ==, g_get_num_processors ());
  g_assert_cmpuint (config.batch, ==, 8);
  g_assert_cmpint (config.throttle, ==, KESTREL_THROTTLE_MODE_BUDGET);
  g_assert_cmpfloat (config.budget, ==, 150.0);
  g_assert_cmpuint (config.canary_interval, ==, 0);
  /* What the settings do not hold is left alone. */
  g_assert_cmpfloat (config.score_threshold, <, 0.0f);
  kestrel_engine_config_clear (&config);

  g_settings_set_int (settings, "threads", 1);
  kestrel_engine_config_init (&config);
  kestrel_engine_config_from_settings (settings, &config);
  g_assert_cmpuint (config.threads, ==, 1);
  kestrel_engine_config_clear (&config);

  /* An input size applies to a model file whose picture input takes any. */
  {
    g_autofree char *bodypix = g_test_build_filename (G_TEST_DIST, "..", "models", "bodypix_mbv1_050_s16.onnx",
                                                      NULL);
    g_settings_set_string (settings, "input-size", "320x240");
    kestrel_engine_config_init (&config);
    kestrel_engine_config_from_settings (settings, &config);
    g_assert_null (config.input_shapes);
    kestrel_engine_config_clear (&config);
    g_settings_set_string (settings, "model", "file");
    g_settings_set_string (settings, "model-file", bodypix);
    kestrel_engine_config_init (&config);
    kestrel_engine_config_from_settings (settings, &config);
    g_assert_nonnull (config.input_shapes);
    g_assert_cmpstr (config.input_shapes[0], ==, "input=1x240x320x3");
    g_assert_null (config.input_shapes[1]);
    g_settings_set_string (settings, "input-size", "320x");
    kestrel_engine_config_from_settings (settings, &config);
    g_assert_null (config.input_shapes);
    kestrel_engine_config_clear (&config);
    g_assert_false (kestrel_engine_settings_parse_input_size ("", NULL, NULL));
    g_assert_false (kestrel_engine_settings_parse_input_size ("0x10", NULL, NULL));
    g_assert_false (kestrel_engine_settings_parse_input_size ("10x99999", NULL, NULL));
    g_assert_false (kestrel_engine_settings_parse_input_size ("-3x10", NULL, NULL));

    /* What runs, written back (after a refused change): the size given,
     * or the frames' when none is. */
    kestrel_engine_config_init (&config);
    g_free (config.model);
    config.model = g_strdup (bodypix);
    config.input_shapes = g_strsplit ("input=1x96x200x3", ",", -1);
    kestrel_engine_settings_apply_config (settings, &config);
    assert_setting (settings, "input-size", "200x96");
    g_clear_pointer (&config.input_shapes, g_strfreev);
    kestrel_engine_settings_apply_config (settings, &config);
    assert_setting (settings, "input-size", "");
    kestrel_engine_config_clear (&config);

    g_settings_reset (settings, "input-size");
    g_settings_reset (settings, "model");
    g_settings_reset (settings, "model-file");
  }

  g_assert_true (kestrel_engine_settings_is_engine_key ("threads"));
  g_assert_true (kestrel_engine_settings_is_engine_key ("input-size"));
  g_assert_true (kestrel_engine_settings_is_engine_key ("source-path"));
  g_assert_true (kestrel_engine_settings_is_engine_key ("canary-interval"));
  g_assert_false (kestrel_engine_settings_is_engine_key ("window-width"));
  g_assert_false (kestrel_engine_settings_is_engine_key ("history-points"));
}

/* ---- the panel with an engine ------------------------------------------ */

typedef struct
{
  GSettings       *settings;
  GtkWidget       *window;
  KestrelControls *controls;
  KestrelEngine   *engine;
  GPtrArray       *events;     /* "kind: message" */
  char            *state_file;
} Fixture;

static void
on_event (KestrelEngine *engine,
          int            kind,
          const char    *message,
          Fixture       *f)
{
  g_ptr_array_add (f->events, g_strdup_printf ("%s: %s",
                                               kestrel_engine_event_kind_name (kind), message));
}

static gpointer
child (Fixture    *f,
       const char *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (f->controls),
                                                   KESTREL_TYPE_CONTROLS, name);
  g_assert_nonnull (object);
  return object;
}

static guint
panel_reconfigurations (Fixture *f)
{
  guint n = 0;
  g_object_get (f->controls, "reconfigurations", &n, NULL);
  return n;
}

/* Settings for a cheap engine: one small photo, a processor budget. */
static void
base_settings (GSettings *settings)
{
  reset_settings (settings);
  g_settings_set_string (settings, "source-kind", "folder");
  g_settings_set_string (settings, "source-path", photo_dir);
  g_settings_set_string (settings, "throttle-mode", "budget");
  g_settings_set_int (settings, "cpu-budget", 40);
  g_settings_set_int (settings, "canary-interval", 0);
}

static void
start_engine (Fixture    *f,
              const char *fault_node)
{
  g_autoptr(GError) error = NULL;
  KestrelEngineConfig config;

  kestrel_engine_config_init (&config);
  kestrel_engine_config_from_settings (f->settings, &config);
  f->engine = kestrel_engine_new (&config);
  kestrel_engine_config_clear (&config);
  g_signal_connect (f->engine, "event", G_CALLBACK (on_event), f);
  if (fault_node != NULL)
    kestrel_engine_inject_fault_for_testing (f->engine, fault_node);
  g_assert_true (kestrel_engine_start (f->engine, f->state_file, &error));
  g_assert_no_error (error);
}

static void
show_panel (Fixture *f)
{
  f->controls = KESTREL_CONTROLS (kestrel_controls_new (f->settings));
  f->window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (f->window), 420, 900);
  gtk_window_set_child (GTK_WINDOW (f->window), GTK_WIDGET (f->controls));
  gtk_window_present (GTK_WINDOW (f->window));
  kestrel_controls_set_engine (f->controls, f->engine);
  g_assert_true (kestrel_controls_get_engine (f->controls) == f->engine);
  drain_main_loop ();
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->settings = g_settings_new (SCHEMA_ID);
  f->events = g_ptr_array_new_with_free_func (g_free);
  base_settings (f->settings);
  start_engine (f, NULL);
  show_panel (f);
}

/* The panel before the engine: the tests that start it themselves. */
static void
fixture_setup_no_engine (Fixture       *f,
                         gconstpointer  data)
{
  f->settings = g_settings_new (SCHEMA_ID);
  f->events = g_ptr_array_new_with_free_func (g_free);
  base_settings (f->settings);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (f->controls != NULL)
    kestrel_controls_set_engine (f->controls, NULL);
  if (f->window != NULL)
    gtk_window_destroy (GTK_WINDOW (f->window));
  if (f->engine != NULL)
    {
      kestrel_engine_stop (f->engine);
      g_assert_cmpuint (kestrel_engine_get_pool_outstanding (f->engine), ==, 0);
      g_object_unref (f->engine);
    }
  drain_main_loop ();
  for (guint i = 0; i < f->events->len; i++)
    g_test_message ("event %s", (char *) g_ptr_array_index (f->events, i));
  g_ptr_array_unref (f->events);
  g_clear_object (&f->settings);
  if (f->state_file != NULL)
    g_unlink (f->state_file);
  g_free (f->state_file);
}

/* Waiting for the engine. */
typedef struct
{
  Fixture    *f;
  gboolean  (*check) (const KestrelEngineConfig *config, gconstpointer expected);
  gconstpointer expected;
} ConfigWait;

static gboolean
config_matches (gpointer data)
{
  ConfigWait *w = data;
  KestrelEngineConfig config;
  gboolean ok;

  kestrel_engine_get_config (w->f->engine, &config);
  ok = w->check (&config, w->expected);
  kestrel_engine_config_clear (&config);
  return ok;
}

#define DEFINE_CHECK(name, expr)                                              \
  static gboolean                                                             \
  name (const KestrelEngineConfig *c, gconstpointer expected)                 \
  {                                                                           \
    return (expr);                                                            \
  }

DEFINE_CHECK (threads_is, c->threads == GPOINTER_TO_UINT (expected))
DEFINE_CHECK (batch_is, c->batch == GPOINTER_TO_UINT (expected))
DEFINE_CHECK (level_is, c->level == (kk_level) GPOINTER_TO_UINT (expected))
DEFINE_CHECK (throttle_is, c->throttle == (KestrelThrottleMode) GPOINTER_TO_UINT (expected))
DEFINE_CHECK (budget_is, c->budget == (double) GPOINTER_TO_UINT (expected))
DEFINE_CHECK (canary_is, c->canary_interval == GPOINTER_TO_UINT (expected))
DEFINE_CHECK (model_is, g_strcmp0 (c->model, expected) == 0)
DEFINE_CHECK (source_is, g_strcmp0 (c->source, expected) == 0)
DEFINE_CHECK (input_shape_is, expected == NULL ? c->input_shapes == NULL
                                               : (c->input_shapes != NULL
                                                  && g_strcmp0 (c->input_shapes[0], expected) == 0
                                                  && c->input_shapes[1] == NULL))

typedef struct
{
  guint threads, batch;
  kk_level level;
} Triple;

DEFINE_CHECK (triple_is, c->threads == ((const Triple *) expected)->threads
                         && c->batch == ((const Triple *) expected)->batch
                         && c->level == ((const Triple *) expected)->level)

#define assert_engine(f, check, expected) G_STMT_START {                      \
    ConfigWait w_ = { (f), check, (gconstpointer) (expected) };               \
    if (!ui_test_wait_until (config_matches, &w_))                            \
      g_error ("the engine's configuration never satisfied %s (%s)",          \
               #check, #expected);                                            \
  } G_STMT_END

static void
test_threads (Fixture       *f,
              gconstpointer  data)
{
  GtkSpinButton *spin = child (f, "threads_spin");

  if (g_get_num_processors () < 2)
    {
      g_test_skip ("one processor: the thread count cannot change");
      return;
    }
  /* The range is the machine's processors, not the schema's 64. */
  {
    double lower, upper;
    gtk_spin_button_get_range (spin, &lower, &upper);
    g_assert_cmpfloat (lower, ==, 1.0);
    g_assert_cmpfloat (upper, ==, (double) g_get_num_processors ());
  }

  gtk_spin_button_set_value (spin, 1);
  assert_engine (f, threads_is, GUINT_TO_POINTER (1));
  g_assert_cmpint (g_settings_get_int (f->settings, "threads"), ==, 1);

  gtk_spin_button_set_value (spin, 2);
  assert_engine (f, threads_is, GUINT_TO_POINTER (2));
}

static void
test_batch (Fixture       *f,
            gconstpointer  data)
{
  GtkAdjustment *adjustment = gtk_spin_button_get_adjustment (child (f, "batch_spin"));
  g_autoptr(GSettingsSchema) schema = NULL;
  g_autoptr(GSettingsSchemaKey) key = NULL;
  g_autoptr(GVariant) range = NULL;
  g_autoptr(GVariant) limits = NULL;
  gint32 lowest, highest;

  gtk_spin_button_set_value (child (f, "batch_spin"), 3);
  assert_engine (f, batch_is, GUINT_TO_POINTER (3));

  /* The panel and the schema offer exactly the batch sizes the engine
   * runs, so no choice comes back as a configuration error. */
  g_object_get (f->settings, "settings-schema", &schema, NULL);
  key = g_settings_schema_get_key (schema, "batch");
  range = g_settings_schema_key_get_range (key);
  g_variant_get (range, "(sv)", NULL, &limits);
  g_variant_get (limits, "(ii)", &lowest, &highest);
  g_assert_cmpint (highest, ==, KESTREL_ENGINE_MAX_BATCH);
  g_assert_cmpfloat (gtk_adjustment_get_upper (adjustment), ==, KESTREL_ENGINE_MAX_BATCH);
  gtk_spin_button_set_value (child (f, "batch_spin"), KESTREL_ENGINE_MAX_BATCH);
  assert_engine (f, batch_is, GUINT_TO_POINTER (KESTREL_ENGINE_MAX_BATCH));
}

static void
test_level_and_rollback (Fixture       *f,
                         gconstpointer  data)
{
  AdwComboRow *row = child (f, "level_row");
  GtkWidget *button = child (f, "rollback_button");
  GtkWidget *threads_row = child (f, "threads_row");

  /* The rows are full, simd, parallel, reference. */
  g_assert_cmpuint (adw_combo_row_get_selected (row), ==, 0);
  g_assert_true (gtk_widget_get_sensitive (threads_row));

  adw_combo_row_set_selected (row, 1);
  assert_engine (f, level_is, GUINT_TO_POINTER (KK_LEVEL_SIMD));
  /* One thread at simd: the thread count does not apply. */
  g_assert_false (gtk_widget_get_sensitive (threads_row));

  adw_combo_row_set_selected (row, 2);
  assert_engine (f, level_is, GUINT_TO_POINTER (KK_LEVEL_PARALLEL));
  g_assert_true (gtk_widget_get_sensitive (button));

  g_signal_emit_by_name (button, "clicked");
  assert_engine (f, level_is, GUINT_TO_POINTER (KK_LEVEL_SCALAR));
  assert_setting (f->settings, "level", "scalar");
  g_assert_cmpuint (adw_combo_row_get_selected (row), ==, 3);
  /* Already there: nothing to roll back from. */
  g_assert_false (gtk_widget_get_sensitive (button));
}

static void
test_model (Fixture       *f,
            gconstpointer  data)
{
  AdwComboRow *row = child (f, "model_row");

  g_assert_cmpuint (adw_combo_row_get_selected (row), ==, 0);
  adw_combo_row_set_selected (row, 1);
  assert_engine (f, model_is, "back");
  assert_setting (f->settings, "model", "back");
  adw_combo_row_set_selected (row, 0);
  assert_engine (f, model_is, "front");
}

static void
test_model_file (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "..", "data", "models",
                                                 "blazeface-front-128.onnx", NULL);
  AdwComboRow *row = child (f, "model_row");

  /* A file is chosen in a file chooser, which a test cannot click
   * through: it writes these two keys, as here. */
  g_settings_set_string (f->settings, "model-file", path);
  g_settings_set_string (f->settings, "model", "file");
  assert_engine (f, model_is, path);
  g_assert_cmpuint (adw_combo_row_get_selected (row), ==, 2);
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==,
                   "blazeface-front-128.onnx");
}

/* A model file whose picture input takes any size (tests/models' BodyPix,
 * 1 x H x W x 3): the Input Size row shows up; at "Frame size" the engine
 * plans it at the photo's size, a size picked in the row reaches the engine
 * as input shapes, a thread change keeps it, and "Frame size" again gives
 * the frames' size back. */
typedef struct
{
  KestrelEngine          *engine;
  KestrelEngineInputSize  from;
  guint                   width, height;
} InputSizeWait;

static gboolean
input_size_is (gpointer data)
{
  InputSizeWait *w = data;
  guint width, height;

  return kestrel_engine_get_input_size (w->engine, &width, &height) == w->from && width == w->width
         && height == w->height;
}

static void
test_input_size (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "models", "bodypix_mbv1_050_s16.onnx", NULL);
  g_autofree char *photo = g_build_filename (photo_dir, "photo.png", NULL);
  AdwComboRow *row = child (f, "input_size_row");
  int photo_w = 0, photo_h = 0;

  g_assert_nonnull (gdk_pixbuf_get_file_info (photo, &photo_w, &photo_h));
  /* The built-in model's size is fixed: nothing to pick. */
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (row)));

  g_settings_set_string (f->settings, "model-file", path);
  g_settings_set_string (f->settings, "model", "file");
  assert_engine (f, model_is, path);
  assert_engine (f, input_shape_is, NULL);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (row)));
  g_assert_cmpuint (adw_combo_row_get_selected (row), ==, 0);
  {
    /* The photo is smaller than 640 and BodyPix takes any size as it is. */
    InputSizeWait w = { f->engine, KESTREL_ENGINE_INPUT_FRAME, (guint) photo_w, (guint) photo_h };
    g_assert_true (ui_test_wait_until (input_size_is, &w));
  }

  /* 320 x 320, the second entry after "Frame size". */
  adw_combo_row_set_selected (row, 2);
  assert_setting (f->settings, "input-size", "320x320");
  assert_engine (f, input_shape_is, "input=1x320x320x3");
  {
    InputSizeWait w = { f->engine, KESTREL_ENGINE_INPUT_GIVEN, 320, 320 };
    g_assert_true (ui_test_wait_until (input_size_is, &w));
    g_autoptr(KestrelMetricsSnapshot) snap = kestrel_engine_get_snapshot (f->engine);
    kestrel_controls_show_snapshot (f->controls, snap);
    g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==, "Now 320 × 320");
  }

  /* Other changes keep the size. */
  g_settings_set_int (f->settings, "threads", 1);
  assert_engine (f, threads_is, GUINT_TO_POINTER (1));
  assert_engine (f, input_shape_is, "input=1x320x320x3");
  {
    InputSizeWait w = { f->engine, KESTREL_ENGINE_INPUT_GIVEN, 320, 320 };
    g_assert_true (ui_test_wait_until (input_size_is, &w));
  }

  /* A size set elsewhere is shown as an entry of its own. */
  g_settings_set_string (f->settings, "input-size", "200x96");
  drain_main_loop ();
  g_assert_cmpuint (adw_combo_row_get_selected (row), ==, 7);
  assert_engine (f, input_shape_is, "input=1x96x200x3");

  adw_combo_row_set_selected (row, 0);
  assert_setting (f->settings, "input-size", "");
  assert_engine (f, input_shape_is, NULL);
  {
    InputSizeWait w = { f->engine, KESTREL_ENGINE_INPUT_FRAME, (guint) photo_w, (guint) photo_h };
    g_assert_true (ui_test_wait_until (input_size_is, &w));
  }

  /* Back to a built-in model: the row goes. */
  g_settings_set_string (f->settings, "model", "front");
  assert_engine (f, model_is, "front");
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (row)));
}

static gboolean
threshold_is (const KestrelEngineConfig *config,
              gconstpointer              expected)
{
  return fabsf (config->score_threshold - *(const float *) expected) < 1e-6f;
}

/* The score threshold (issue 10, 15): unset, the row shows the model's own
 * and follows the model; a value set in the row reaches the engine; the
 * reset button gives the model's own back. */
static void
test_threshold (Fixture       *f,
                gconstpointer  data)
{
  GtkSpinButton *spin = child (f, "threshold_spin");
  GtkWidget *reset = child (f, "threshold_reset");
  const float chosen = 0.6f, unset = -1.0f;

  g_assert_cmpfloat (gtk_spin_button_get_value (spin), ==, 50);
  g_assert_false (gtk_widget_get_sensitive (reset));
  g_settings_set_string (f->settings, "model", "back");
  drain_main_loop ();
  g_assert_cmpfloat (gtk_spin_button_get_value (spin), ==, 72);
  assert_engine (f, model_is, "back");
  assert_engine (f, threshold_is, &unset);
  g_assert_cmpfloat (kestrel_engine_get_score_threshold (f->engine), ==, 0.72f);

  gtk_spin_button_set_value (spin, 60);
  g_assert_cmpfloat (g_settings_get_double (f->settings, "score-threshold"), ==, 0.6);
  assert_engine (f, threshold_is, &chosen);
  g_assert_true (gtk_widget_get_sensitive (reset));

  g_signal_emit_by_name (reset, "clicked");
  g_assert_cmpfloat (g_settings_get_double (f->settings, "score-threshold"), <, 0);
  assert_engine (f, threshold_is, &unset);
  g_assert_cmpfloat (gtk_spin_button_get_value (spin), ==, 72);
  g_assert_false (gtk_widget_get_sensitive (reset));
}

static void
test_throttle (Fixture       *f,
               gconstpointer  data)
{
  GtkSwitch *toggle = child (f, "throttle_switch");
  GtkRange *scale = child (f, "budget_scale");
  GtkWidget *budget_row = child (f, "budget_row");
  double lower, upper;

  g_assert_true (gtk_switch_get_active (toggle));
  g_assert_true (gtk_widget_get_sensitive (budget_row));
  /* Up to every core, within the schema's 400. */
  lower = gtk_adjustment_get_lower (gtk_range_get_adjustment (scale));
  upper = gtk_adjustment_get_upper (gtk_range_get_adjustment (scale));
  g_assert_cmpfloat (lower, ==, 1.0);
  g_assert_cmpfloat (upper, ==, (double) MIN (100 * g_get_num_processors (), 400));

  gtk_range_set_value (scale, 30);
  assert_engine (f, budget_is, GUINT_TO_POINTER (30));
  g_assert_cmpint (g_settings_get_int (f->settings, "cpu-budget"), ==, 30);

  gtk_switch_set_active (toggle, FALSE);
  assert_engine (f, throttle_is, GUINT_TO_POINTER (KESTREL_THROTTLE_MODE_OFF));
  g_assert_false (gtk_widget_get_sensitive (budget_row));
  gtk_switch_set_active (toggle, TRUE);
  assert_engine (f, throttle_is, GUINT_TO_POINTER (KESTREL_THROTTLE_MODE_BUDGET));
}

static void
test_canary (Fixture       *f,
             gconstpointer  data)
{
  gtk_spin_button_set_value (child (f, "canary_spin"), 250);
  assert_engine (f, canary_is, GUINT_TO_POINTER (250));
  gtk_spin_button_set_value (child (f, "canary_spin"), 0);
  assert_engine (f, canary_is, GUINT_TO_POINTER (0));
}

typedef struct
{
  Fixture *f;
  guint    n;
} Count;

static gboolean
reconfigurations_reach (gpointer data)
{
  Count *c = data;
  return kestrel_engine_get_n_reconfigurations (c->f->engine) >= c->n;
}

static gboolean
has_config_error (gpointer data)
{
  Fixture *f = data;

  for (guint i = 0; i < f->events->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (f->events, i), "config-error"))
      return TRUE;
  return FALSE;
}

static gboolean
source_kind_is_samples (gpointer data)
{
  Fixture *f = data;
  g_autofree char *kind = g_settings_get_string (f->settings, "source-kind");

  return g_str_equal (kind, "samples");
}

static gboolean
model_is_front (gpointer data)
{
  Fixture *f = data;
  g_autofree char *model = g_settings_get_string (f->settings, "model");

  return g_str_equal (model, "front");
}

/* A model or a folder the engine cannot open: it keeps what it runs, and
 * so do the rows and the settings, which would otherwise make the next
 * start fail (issue 10, 4). */
static void
test_refused (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *broken = g_build_filename (g_get_tmp_dir (), "kestrel-controls-broken.onnx", NULL);
  g_autofree char *gone = g_build_filename (g_get_tmp_dir (), "kestrel-controls-gone", NULL);
  g_autofree char *folder = g_strconcat ("images:", photo_dir, NULL);

  g_assert_true (g_file_set_contents (broken, "not an ONNX protobuf", -1, NULL));
  g_settings_set_string (f->settings, "model-file", broken);
  g_settings_set_string (f->settings, "model", "file");
  g_assert_true (ui_test_wait_until (has_config_error, f));
  g_assert_true (ui_test_wait_until (model_is_front, f));
  g_assert_cmpuint (adw_combo_row_get_selected (child (f, "model_row")), ==, 0);
  assert_engine (f, model_is, "front");

  g_ptr_array_set_size (f->events, 0);
  g_settings_set_string (f->settings, "source-path", gone);
  g_settings_set_string (f->settings, "source-kind", "video");
  g_assert_true (ui_test_wait_until (has_config_error, f));
  assert_engine (f, source_is, folder);
  drain_main_loop ();
  assert_setting (f->settings, "source-kind", "folder");
  assert_setting (f->settings, "source-path", photo_dir);
  g_assert_cmpuint (adw_combo_row_get_selected (child (f, "source_row")), ==, 1);
  g_unlink (broken);
}

static GtkWidget *
find_descendant (GtkWidget *widget,
                 GType      type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_descendant (c, type);
      if (found != NULL)
        return found;
    }
  return NULL;
}

/* Picks @position in @row's popup list, as a click there does: the item
 * is selected, then activated. */
static void
pick_in_popup (AdwComboRow *row,
               guint        position)
{
  GtkWidget *list;

  gtk_widget_activate (GTK_WIDGET (row));   /* opens the popup */
  drain_main_loop ();
  /* The list in the popup (the row shows its current item in another). */
  list = find_descendant (find_descendant (GTK_WIDGET (row), GTK_TYPE_POPOVER), GTK_TYPE_LIST_VIEW);
  g_assert_nonnull (list);
  gtk_selection_model_select_item (gtk_list_view_get_model (GTK_LIST_VIEW (list)), position, TRUE);
  g_signal_emit_by_name (list, "activate", position);
  drain_main_loop ();
}

static void
cancel_chooser (void)
{
  GtkWidget *dialog;

  g_assert_true (ui_test_wait_until (ui_test_chooser_shown, NULL));
  dialog = ui_test_find_chooser ();
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_CANCEL);
  drain_main_loop ();
  g_assert_null (ui_test_find_chooser ());
}

/* "Choose a folder…" while a folder is already the source opens the
 * chooser again (it did nothing: the selection did not change); the same
 * for the video file and the model file (issue 10, 10). */
static void
test_choose_again (Fixture       *f,
                   gconstpointer  data)
{
  AdwComboRow *source = child (f, "source_row");
  AdwComboRow *model = child (f, "model_row");
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "..", "data", "models",
                                                 "blazeface-front-128.onnx", NULL);
  const char *video = g_getenv ("KESTREL_TEST_VIDEO");   /* tests/ui/meson.build */

  if (video == NULL || !g_file_test (video, G_FILE_TEST_IS_REGULAR))
    g_error ("no video at KESTREL_TEST_VIDEO (%s): scripts/install-deps.sh --test installs opencv-doc's",
             video != NULL ? video : "unset");
  g_assert_cmpuint (adw_combo_row_get_selected (source), ==, 1);
  g_assert_null (ui_test_find_chooser ());
  pick_in_popup (source, 1);
  cancel_chooser ();
  /* Cancelling keeps the folder. */
  assert_setting (f->settings, "source-kind", "folder");
  assert_setting (f->settings, "source-path", photo_dir);
  g_assert_cmpuint (adw_combo_row_get_selected (source), ==, 1);

  /* Another entry opens it once (through the selection), not twice. */
  pick_in_popup (source, 2);
  cancel_chooser ();
  g_assert_cmpuint (adw_combo_row_get_selected (source), ==, 1);

  /* A video that opens: a path that does not would be refused by the
   * engine, and its revert to the folder (on_engine_event) would come at
   * any time, under load even while the chooser is open, and leave
   * nothing to choose again. */
  g_settings_set_string (f->settings, "source-path", video);
  g_settings_set_string (f->settings, "source-kind", "video");
  drain_main_loop ();
  g_assert_cmpuint (adw_combo_row_get_selected (source), ==, 2);
  pick_in_popup (source, 2);
  cancel_chooser ();
  assert_setting (f->settings, "source-kind", "video");
  assert_setting (f->settings, "source-path", video);
  g_assert_cmpuint (adw_combo_row_get_selected (source), ==, 2);

  g_settings_set_string (f->settings, "model-file", path);
  g_settings_set_string (f->settings, "model", "file");
  drain_main_loop ();
  g_assert_cmpuint (adw_combo_row_get_selected (model), ==, 2);
  pick_in_popup (model, 2);
  cancel_chooser ();
  assert_setting (f->settings, "model", "file");
}

static void
test_source (Fixture       *f,
             gconstpointer  data)
{
  AdwComboRow *row = child (f, "source_row");
  g_autofree char *samples = kestrel_samples_dup_source_spec (FALSE);
  g_autofree char *folder = g_strconcat ("images:", photo_dir, NULL);
  Count count = { f, 0 };

  g_assert_cmpuint (adw_combo_row_get_selected (row), ==, 1);
  adw_combo_row_set_selected (row, 0);
  assert_engine (f, source_is, samples);
  assert_setting (f->settings, "source-kind", "samples");

  /* A camera: the folder path is no camera device, so the first camera is
   * asked for. Without one the engine says so and keeps its source. */
  count.n = kestrel_engine_get_n_reconfigurations (f->engine) + 1;
  adw_combo_row_set_selected (row, 3);
  assert_setting (f->settings, "source-kind", "camera");
  assert_setting (f->settings, "source-path", "");
  g_assert_true (ui_test_wait_until (reconfigurations_reach, &count));
  if (g_file_test ("/dev/video0", G_FILE_TEST_EXISTS))
    g_test_message ("a camera is present; not checking the error path");
  else
    {
      g_assert_true (ui_test_wait_until (has_config_error, f));
      assert_engine (f, source_is, samples);
      /* The refused camera is neither shown nor kept (issue 10, 4): the
       * row and the setting are back on what runs. */
      g_assert_true (ui_test_wait_until (source_kind_is_samples, f));
      g_assert_cmpuint (adw_combo_row_get_selected (row), ==, 0);
    }

  /* A folder chosen elsewhere (the chooser writes these keys). */
  g_settings_set_string (f->settings, "source-path", photo_dir);
  g_settings_set_string (f->settings, "source-kind", "folder");
  assert_engine (f, source_is, folder);
  g_assert_cmpuint (adw_combo_row_get_selected (row), ==, 1);
}

static void
test_coalesce (Fixture       *f,
               gconstpointer  data)
{
  Triple expected = { 1, 2, KK_LEVEL_SIMD };
  guint engine_before, panel_before;

  drain_main_loop ();
  engine_before = kestrel_engine_get_n_reconfigurations (f->engine);
  panel_before = panel_reconfigurations (f);

  /* Three controls in one turn of the main loop. */
  gtk_spin_button_set_value (child (f, "threads_spin"), 1);
  gtk_spin_button_set_value (child (f, "batch_spin"), 2);
  adw_combo_row_set_selected (child (f, "level_row"), 1);

  assert_engine (f, triple_is, &expected);
  drain_main_loop ();
  g_assert_cmpuint (panel_reconfigurations (f), ==, panel_before + 1);
  g_assert_cmpuint (kestrel_engine_get_n_reconfigurations (f->engine), ==, engine_before + 1);
}

/* A dragged slider changes its value on every motion event, one per turn
 * of the main loop: the engine must get a bounded rate of them, and the
 * last value. */
static void
test_drag (Fixture       *f,
           gconstpointer  data)
{
  GtkRange *scale = child (f, "budget_scale");
  guint panel_before, requests;
  gint64 start, elapsed_us;
  const guint n_steps = 60;

  drain_main_loop ();
  panel_before = panel_reconfigurations (f);
  start = g_get_monotonic_time ();
  for (guint i = 1; i <= n_steps; i++)
    {
      gtk_range_set_value (scale, 10 + i);
      g_main_context_iteration (NULL, FALSE);
    }
  elapsed_us = g_get_monotonic_time () - start;
  requests = panel_reconfigurations (f) - panel_before;

  /* At most one per 200 ms of the drag, plus the first. Derived from the
   * time the drag really took, so a slow machine does not fail it. */
  g_test_message ("%u steps in %" G_GINT64_FORMAT " µs: %u reconfigurations",
                  n_steps, elapsed_us, requests);
  g_assert_cmpuint (requests, <=, 1 + (guint) (elapsed_us / (200 * G_TIME_SPAN_MILLISECOND)) + 1);

  assert_engine (f, budget_is, GUINT_TO_POINTER (10 + n_steps));
}

typedef struct
{
  GObject    *object;
  const char *property;
  double      value;
} PropertyWait;

static gboolean
property_is (gpointer data)
{
  PropertyWait *w = data;
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (w->object), w->property);
  g_auto(GValue) value = G_VALUE_INIT;
  g_auto(GValue) as_double = G_VALUE_INIT;

  g_value_init (&value, pspec->value_type);
  g_object_get_property (w->object, w->property, &value);
  g_value_init (&as_double, G_TYPE_DOUBLE);
  if (G_VALUE_HOLDS_BOOLEAN (&value))
    g_value_set_double (&as_double, g_value_get_boolean (&value) ? 1.0 : 0.0);
  else
    g_assert_true (g_value_transform (&value, &as_double));
  return g_value_get_double (&as_double) == w->value;
}

#define assert_follows(obj, prop, v) G_STMT_START {                         \
    PropertyWait w_ = { G_OBJECT (obj), prop, v };                          \
    if (!ui_test_wait_until (property_is, &w_))                             \
      g_error ("%s::%s never became %g", #obj, prop, (double) (v));        \
  } G_STMT_END

static void
test_outside_change (Fixture       *f,
                     gconstpointer  data)
{
  /* Another GSettings on the same backend, as gsettings(1) would be. */
  g_autoptr(GSettings) outside = g_settings_new (SCHEMA_ID);
  GtkRange *scale = child (f, "budget_scale");

  g_settings_set_int (outside, "threads", 1);
  assert_follows (child (f, "threads_spin"), "value", 1);
  assert_engine (f, threads_is, GUINT_TO_POINTER (1));

  g_settings_set_int (outside, "batch", 5);
  assert_follows (child (f, "batch_spin"), "value", 5);

  g_settings_set_string (outside, "level", "parallel");
  assert_follows (child (f, "level_row"), "selected", 2);
  g_settings_set_string (outside, "level", "scalar");
  assert_follows (child (f, "level_row"), "selected", 3);
  assert_follows (child (f, "rollback_button"), "sensitive", 0);
  g_settings_set_string (outside, "level", "full");
  assert_follows (child (f, "level_row"), "selected", 0);
  assert_follows (child (f, "rollback_button"), "sensitive", 1);

  g_settings_set_string (outside, "model", "back");
  assert_follows (child (f, "model_row"), "selected", 1);

  g_settings_set_string (outside, "source-kind", "samples");
  assert_follows (child (f, "source_row"), "selected", 0);

  g_settings_set_int (outside, "cpu-budget", 70);
  assert_follows (gtk_range_get_adjustment (scale), "value", 70);
  g_settings_set_string (outside, "throttle-mode", "off");
  assert_follows (child (f, "throttle_switch"), "active", 0);
  g_settings_set_string (outside, "throttle-mode", "budget");
  assert_follows (child (f, "throttle_switch"), "active", 1);

  g_settings_set_int (outside, "canary-interval", 50);
  assert_follows (child (f, "canary_spin"), "value", 50);

  /* And the engine followed all of it. */
  {
    g_autofree char *samples = kestrel_samples_dup_source_spec (FALSE);
    assert_engine (f, source_is, samples);
    assert_engine (f, model_is, "back");
    assert_engine (f, level_is, GUINT_TO_POINTER (KK_LEVEL_FULL));
    assert_engine (f, threads_is, GUINT_TO_POINTER (1));
    assert_engine (f, budget_is, GUINT_TO_POINTER (70));
    assert_engine (f, canary_is, GUINT_TO_POINTER (50));
    assert_engine (f, batch_is, GUINT_TO_POINTER (5));
  }
}

static void
test_precision_list (Fixture       *f,
                     gconstpointer  data)
{
  AdwComboRow *row = child (f, "precision_row");
  GListModel *list = adw_combo_row_get_model (row);
  const char *subtitle = adw_action_row_get_subtitle (ADW_ACTION_ROW (row));
  guint n_supported = 0;

  /* Selecting the i-th entry writes the i-th supported precision: the
   * list is exactly those, in order. */
  for (KestrelPrecision p = KESTREL_PRECISION_FP32; p <= KESTREL_PRECISION_INT4; p++)
    {
      g_autofree char *upper = g_ascii_strup (kestrel_precision_name (p), -1);

      if (!kestrel_precision_is_supported (p))
        {
          /* Named as unavailable rather than offered. */
          g_assert_nonnull (subtitle);
          g_assert_nonnull (strstr (subtitle, upper));
          continue;
        }
      g_assert_cmpuint (n_supported, <, g_list_model_get_n_items (list));
      adw_combo_row_set_selected (row, n_supported);
      assert_setting (f->settings, "precision", kestrel_precision_name (p));
      n_supported++;
    }
  g_assert_cmpuint (g_list_model_get_n_items (list), ==, n_supported);
  g_assert_cmpuint (n_supported, >=, 1);
}

/* A check that fails makes the engine roll back; the level row must then
 * say so, and a later change must not put the failed level back. */
static void
test_rollback_event (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = kestrel_builtin_model_new ("front", &error);
  const KestrelGraph *graph;
  const char *victim = NULL;

  g_assert_no_error (error);
  graph = kestrel_model_get_graph (model);
  for (guint n = graph->nodes->len / 2; n < graph->nodes->len && victim == NULL; n++)
    if (strcmp (kestrel_graph_node (graph, n)->op_type, "Conv") == 0)
      victim = kestrel_graph_node (graph, n)->name;
  g_assert_nonnull (victim);

  g_settings_set_int (f->settings, "canary-interval", 3);
  g_settings_set_string (f->settings, "throttle-mode", "off");
  start_engine (f, victim);
  show_panel (f);

  assert_follows (child (f, "level_row"), "selected", 3);
  assert_setting (f->settings, "level", "scalar");
  assert_engine (f, level_is, GUINT_TO_POINTER (KK_LEVEL_SCALAR));
}

/* An unclean last run: the engine starts on the reference path. That is
 * the window's to show; the panel leaves the level setting alone, and the
 * next change it applies brings the settings' level back. */
static void
test_safe_mode (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  int fd = g_file_open_tmp ("kestrel-controls-XXXXXX.state", &f->state_file, &error);

  g_assert_no_error (error);
  g_close (fd, NULL);
  start_engine (f, NULL);
  show_panel (f);

  g_assert_true (f->events->len > 0);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (f->events, 0), "safe-mode"));
  assert_engine (f, level_is, GUINT_TO_POINTER (KK_LEVEL_SCALAR));
  assert_setting (f->settings, "level", "full");
  g_assert_cmpuint (adw_combo_row_get_selected (child (f, "level_row")), ==, 0);
  /* The row keeps the user's level; its subtitle says what runs (issue 10,
   * 4): the window sets safe mode on the panel. */
  kestrel_controls_set_safe_mode (f->controls, TRUE);
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (child (f, "level_row")), "Safe mode"));
  kestrel_controls_set_safe_mode (f->controls, FALSE);
  g_assert_null (strstr (adw_action_row_get_subtitle (child (f, "level_row")), "Safe mode"));

  gtk_spin_button_set_value (child (f, "batch_spin"), 2);
  assert_engine (f, level_is, GUINT_TO_POINTER (KK_LEVEL_FULL));
}

/* Detached, the panel still edits the settings but asks nothing. */
static void
test_detached (Fixture       *f,
               gconstpointer  data)
{
  guint before;

  kestrel_controls_set_engine (f->controls, NULL);
  before = panel_reconfigurations (f);
  gtk_spin_button_set_value (child (f, "batch_spin"), 7);
  drain_main_loop ();
  g_assert_cmpint (g_settings_get_int (f->settings, "batch"), ==, 7);
  g_assert_cmpuint (panel_reconfigurations (f), ==, before);
}

/* One small photo, so that the engine's frames are cheap. */
static char *
make_photo_dir (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *src = g_build_filename (kestrel_samples_get_dir (), "grace_hopper.jpg", NULL);
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new_from_file_at_scale (src, 160, 160, TRUE, &error);
  char *dir = g_dir_make_tmp ("kestrel-controls-XXXXXX", &error);
  g_autofree char *dest = NULL;

  g_assert_no_error (error);
  dest = g_build_filename (dir, "photo.png", NULL);
  gdk_pixbuf_save (pixbuf, dest, "png", &error, NULL);
  g_assert_no_error (error);
  return dir;
}

static void
remove_photo_dir (char *dir)
{
  g_autofree char *photo = g_build_filename (dir, "photo.png", NULL);

  g_unlink (photo);
  g_rmdir (dir);
  g_free (dir);
}

int
main (int   argc,
      char *argv[])
{
  GSettingsSchemaSource *schemas;
  g_autoptr(GSettingsSchema) schema = NULL;
  int status;

  ui_test_tolerate_chooser_snapshot_warning ();
  gtk_test_init (&argc, &argv, NULL);

  schemas = g_settings_schema_source_get_default ();
  if (schemas != NULL)
    schema = g_settings_schema_source_lookup (schemas, SCHEMA_ID, TRUE);
  if (schema == NULL)
    {
      g_printerr ("SKIP: the %s schema is not installed (set GSETTINGS_SCHEMA_DIR)\n", SCHEMA_ID);
      return 77;
    }
  photo_dir = make_photo_dir ();

  g_test_add_func ("/ui/engine-settings/config-from-settings", test_config_from_settings);
#define ADD(path, func) \
  g_test_add ("/ui/controls/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("threads", test_threads);
  ADD ("batch", test_batch);
  ADD ("level-and-rollback", test_level_and_rollback);
  ADD ("model", test_model);
  ADD ("model-file", test_model_file);
  ADD ("input-size", test_input_size);
  ADD ("throttle", test_throttle);
  ADD ("threshold", test_threshold);
  ADD ("canary", test_canary);
  ADD ("source", test_source);
  ADD ("coalesce", test_coalesce);
  ADD ("refused", test_refused);
  ADD ("choose-again", test_choose_again);
  ADD ("drag", test_drag);
  ADD ("outside-change", test_outside_change);
  ADD ("precision-list", test_precision_list);
  ADD ("detached", test_detached);
#undef ADD
  g_test_add ("/ui/controls/rollback-event", Fixture, NULL, fixture_setup_no_engine,
              test_rollback_event, fixture_teardown);
  g_test_add ("/ui/controls/safe-mode", Fixture, NULL, fixture_setup_no_engine,
              test_safe_mode, fixture_teardown);

  status = g_test_run ();
  remove_photo_dir (photo_dir);
  return status;
}
