/* kestrel-controls.c — see kestrel-controls.h.
 *
 * Most rows are g_settings_bind()ings. The model and source rows are not:
 * their "…" entries open a file chooser first, and the setting changes
 * only when the user accepts (cancelling puts the row back), so those two
 * follow the settings by hand.
 *
 * Reconfiguration: every change of an engine key (from a row or from
 * outside) lands in on_settings_changed(), which queues one idle. The idle
 * builds the whole configuration from the settings, so however many keys
 * changed in a turn (a file chooser writes a path and a kind) the engine
 * sees one consistent change. A dragged slider writes its key on every
 * motion event; the idle then waits until MIN_RECONFIGURE_INTERVAL_US after
 * the last reconfiguration, so the engine gets a few updates a second while
 * the drag goes on and the final value when it stops.
 *
 * Why one file of more than 800 lines: one panel of rows bound to settings;
 * the sections (rows followed by hand, file choosers, row handlers, binding
 * mappings) are the seams to split along if it grows further.
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <math.h>

#include "kestrel-builtin-models.h"
#include "kestrel-controls.h"
#include "kestrel-engine-settings.h"
#include "kestrel-input-size-row.h"
#include "kestrel-ui.h"

#define MIN_RECONFIGURE_INTERVAL_US (200 * G_TIME_SPAN_MILLISECOND)
/* The schema's limit for cpu-budget. */
#define MAX_BUDGET_PERCENT 400

struct _KestrelControls
{
  GtkWidget             parent_instance;

  GSettings            *settings;
  KestrelEngine        *engine;

  /* Template children. The page is bound only so that
   * gtk_widget_dispose_template() unparents it. */
  AdwPreferencesPage   *page;
  AdwComboRow          *model_row;
  AdwComboRow          *input_size_row;
  AdwComboRow          *precision_row;
  AdwActionRow         *threshold_row;
  GtkSpinButton        *threshold_spin;
  GtkButton            *threshold_reset;
  AdwComboRow          *source_row;
  AdwComboRow          *level_row;
  AdwActionRow         *threads_row;
  GtkAdjustment        *threads_adjustment;
  GtkSpinButton        *threads_spin;
  GtkSpinButton        *batch_spin;
  GtkButton            *rollback_button;
  GtkSwitch            *throttle_switch;
  AdwActionRow         *budget_row;
  GtkScale             *budget_scale;
  GtkAdjustment        *budget_adjustment;
  GtkSpinButton        *canary_spin;

  /* The precisions the precision row lists, in its order. */
  KestrelPrecision      offered[4];
  guint                 n_offered;
  /* Its subtitle when nothing is calibrating or being compared. */
  char                 *precision_subtitle;

  GtkFileChooserNative *chooser;
  guint                 reconfigure_source;
  gint64                last_reconfigure_us;
  guint                 n_reconfigurations;
  /* Set while a row is moved to follow the settings, so that its
   * notify handler does not write the value straight back. */
  gboolean              syncing;
  /* The engine runs the reference path whatever the level setting says. */
  gboolean              safe_mode;
};

G_DEFINE_FINAL_TYPE (KestrelControls, kestrel_controls, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_SETTINGS,
  PROP_ENGINE,
  PROP_RECONFIGURATIONS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The rows of model_row and source_row, in the .ui's order. */
enum { MODEL_FRONT, MODEL_BACK, MODEL_FILE };
static const char *const model_nicks[] = { "front", "back", "file" };
enum { SOURCE_SAMPLES, SOURCE_FOLDER, SOURCE_VIDEO, SOURCE_CAMERA };
static const char *const source_nicks[] = { "samples", "folder", "video", "camera" };

/* What their popups say: entries that open a file chooser end in "…"
 * there, while the row itself shows the plain name. NULL: as in the row. */
static const char *const model_popup_labels[] = { NULL, NULL, N_("Open ONNX file…") };
static const char *const source_popup_labels[] = {
  NULL, N_("Choose a folder…"), N_("Choose a video file…"), NULL,
};
/* The row shows the short name, which fits at 360 px; the list says what
 * the choice is for. */
static const char *const level_popup_labels[] = { NULL, NULL, NULL, N_("Reference (rollback)") };
G_STATIC_ASSERT (G_N_ELEMENTS (model_popup_labels) == G_N_ELEMENTS (model_nicks));
G_STATIC_ASSERT (G_N_ELEMENTS (source_popup_labels) == G_N_ELEMENTS (source_nicks));

/* level_row, in the .ui's order: the fastest first, the rollback last. */
static const kk_level level_order[] = {
  KK_LEVEL_FULL, KK_LEVEL_SIMD, KK_LEVEL_PARALLEL, KK_LEVEL_SCALAR,
};

typedef enum {
  CHOOSE_MODEL,
  CHOOSE_FOLDER,
  CHOOSE_VIDEO,
} ChooserPurpose;

static guint
index_of_nick (const char *const *nicks,
               guint              n_nicks,
               const char        *nick)
{
  for (guint i = 0; i < n_nicks; i++)
    if (g_str_equal (nicks[i], nick))
      return i;
  return GTK_INVALID_LIST_POSITION;
}

static const char *
precision_label (KestrelPrecision precision)
{
  switch (precision)
    {
    /* TRANSLATORS: the names of number formats; usually kept as they are. */
    case KESTREL_PRECISION_FP32: return C_("precision", "FP32");
    case KESTREL_PRECISION_FP16: return C_("precision", "FP16");
    case KESTREL_PRECISION_INT8: return C_("precision", "INT8");
    case KESTREL_PRECISION_INT4: return C_("precision", "INT4");
    default: return kestrel_precision_name (precision);
    }
}

/* "AVX-512" rather than kk_isa_name()'s "avx512". */
static char *
isa_display_name (void)
{
  const char *name = kk_isa_name (kk_isa_best ());

  if (g_str_equal (name, "avx512"))
    return g_strdup ("AVX-512");
  return g_ascii_strup (name, -1);
}

/* ---- reconfiguration --------------------------------------------------- */

static gboolean
reconfigure_cb (gpointer data)
{
  KestrelControls *self = data;
  KestrelEngineConfig config;

  self->reconfigure_source = 0;
  if (self->engine == NULL)
    return G_SOURCE_REMOVE;

  /* Start from what runs, so that fields the settings do not hold (the
   * batch wait and latency target) keep their values. */
  kestrel_engine_get_config (self->engine, &config);
  kestrel_engine_config_from_settings (self->settings, &config);
  kestrel_engine_reconfigure (self->engine, &config);
  kestrel_engine_config_clear (&config);

  self->last_reconfigure_us = g_get_monotonic_time ();
  self->n_reconfigurations++;
  return G_SOURCE_REMOVE;
}

static void
queue_reconfigure (KestrelControls *self)
{
  gint64 wait_us;

  if (self->engine == NULL || self->reconfigure_source != 0)
    return;

  wait_us = self->last_reconfigure_us + MIN_RECONFIGURE_INTERVAL_US - g_get_monotonic_time ();
  if (self->last_reconfigure_us == 0 || wait_us <= 0)
    {
      /* Default-idle priority runs after every pending event of this turn,
       * so the changes they make are all in. */
      self->reconfigure_source = g_idle_add (reconfigure_cb, self);
    }
  else
    {
      self->reconfigure_source =
        g_timeout_add ((guint) ((wait_us + G_TIME_SPAN_MILLISECOND - 1) / G_TIME_SPAN_MILLISECOND),
                       reconfigure_cb, self);
    }
  g_source_set_name_by_id (self->reconfigure_source, "[kestrel] controls reconfigure");
}

/* ---- rows that follow the settings by hand ----------------------------- */

static void
sync_model_row (KestrelControls *self)
{
  g_autofree char *model = g_settings_get_string (self->settings, "model");
  g_autofree char *path = g_settings_get_string (self->settings, "model-file");
  guint index = index_of_nick (model_nicks, G_N_ELEMENTS (model_nicks), model);

  self->syncing = TRUE;
  adw_combo_row_set_selected (self->model_row, index);
  self->syncing = FALSE;

  if (index != MODEL_FILE)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (self->model_row), "");
  else if (path[0] == '\0')
    adw_action_row_set_subtitle (ADW_ACTION_ROW (self->model_row),
                                 _("No file chosen: the front-camera model runs"));
  else
    {
      g_autofree char *name = g_filename_display_basename (path);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (self->model_row), name);
    }
}

static void
sync_source_row (KestrelControls *self)
{
  g_autofree char *kind = g_settings_get_string (self->settings, "source-kind");
  g_autofree char *path = g_settings_get_string (self->settings, "source-path");
  guint index = index_of_nick (source_nicks, G_N_ELEMENTS (source_nicks), kind);
  g_autofree char *subtitle = NULL;

  self->syncing = TRUE;
  adw_combo_row_set_selected (self->source_row, index);
  self->syncing = FALSE;

  switch (index)
    {
    case SOURCE_FOLDER:
      subtitle = path[0] != '\0' ? g_filename_display_name (path)
                                 : g_strdup (_("No folder chosen: the sample photos are shown"));
      break;
    case SOURCE_VIDEO:
      subtitle = path[0] != '\0' ? g_filename_display_basename (path)
                                 : g_strdup (_("No video chosen: the sample photos are shown"));
      break;
    case SOURCE_CAMERA:
      subtitle = path[0] != '\0' ? g_filename_display_name (path)
                                 : g_strdup (_("The first camera found"));
      break;
    case SOURCE_SAMPLES:
    default:
      subtitle = g_strdup (_("Photos that come with Kestrel"));
      break;
    }
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->source_row), subtitle);
}

/* The model's own threshold: a built-in model's, else what the engine
 * uses (the decoder's default), else BlazeFace's 0.5 until it runs. */
static double
model_threshold (KestrelControls *self)
{
  g_autofree char *model = g_settings_get_string (self->settings, "model");
  float own = kestrel_builtin_model_get_score_threshold (model);
  KestrelEngineConfig config;

  if (own < 0 && self->engine != NULL)
    {
      kestrel_engine_get_config (self->engine, &config);
      if (config.score_threshold < 0)
        own = kestrel_engine_get_score_threshold (self->engine);
      kestrel_engine_config_clear (&config);
    }
  return own >= 0 ? (double) own : 0.5;
}

/* In percent, as the preview shows scores. Unset (negative), the spin
 * button shows the model's own, and follows the model. */
static void
sync_threshold_row (KestrelControls *self)
{
  double chosen = g_settings_get_double (self->settings, "score-threshold");
  double own = model_threshold (self);
  g_autofree char *subtitle = NULL;

  self->syncing = TRUE;
  gtk_spin_button_set_value (self->threshold_spin, round ((chosen >= 0 ? chosen : own) * 100));
  self->syncing = FALSE;
  gtk_widget_set_sensitive (GTK_WIDGET (self->threshold_reset), chosen >= 0);
  if (chosen >= 0)
    /* TRANSLATORS: %.0f is a percentage, such as 72. */
    subtitle = g_strdup_printf (_("Chosen here; the model’s own is %.0f %%"), own * 100);
  else
    subtitle = g_strdup (_("The model’s own, chosen on the sample photos"));
  adw_action_row_set_subtitle (self->threshold_row, subtitle);
}

static void
on_threshold_changed (GtkSpinButton   *spin,
                      KestrelControls *self)
{
  if (self->syncing)
    return;
  g_settings_set_double (self->settings, "score-threshold",
                         gtk_spin_button_get_value (spin) / 100.0);
}

static void
on_threshold_reset_clicked (GtkButton       *button,
                            KestrelControls *self)
{
  g_settings_reset (self->settings, "score-threshold");
}

static void
sync_level_subtitle (KestrelControls *self)
{
  g_autofree char *level = g_settings_get_string (self->settings, "level");
  g_autofree char *isa = isa_display_name ();
  g_autofree char *subtitle = NULL;
  kk_level value = KK_LEVEL_FULL;

  kk_level_from_name (level, &value);
  if (self->safe_mode && value != KK_LEVEL_SCALAR)
    {
      /* The row shows the level that will run again after safe mode; the
       * subtitle says what runs now. */
      adw_action_row_set_subtitle (ADW_ACTION_ROW (self->level_row),
                                   _("Safe mode: reference code on one thread runs until you choose "
                                     "“Use Full Speed Again”"));
      return;
    }
  switch (value)
    {
    case KK_LEVEL_FULL:
      /* TRANSLATORS: %s is an instruction set, such as AVX2 or AVX-512. */
      subtitle = g_strdup_printf (_("%s instructions on several threads"), isa);
      break;
    case KK_LEVEL_SIMD:
      /* TRANSLATORS: %s is an instruction set, such as AVX2 or AVX-512. */
      subtitle = g_strdup_printf (_("%s instructions on one thread"), isa);
      break;
    case KK_LEVEL_PARALLEL:
      subtitle = g_strdup (_("Reference code on several threads"));
      break;
    case KK_LEVEL_SCALAR:
    case KK_LEVEL_COUNT:
    default:
      subtitle = g_strdup (_("Reference code on one thread: slow, but known to be right"));
      break;
    }
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->level_row), subtitle);
}

static void
on_settings_changed (GSettings       *settings,
                     const char      *key,
                     KestrelControls *self)
{
  if (g_str_equal (key, "model") || g_str_equal (key, "model-file"))
    {
      sync_model_row (self);
      sync_threshold_row (self);
      kestrel_input_size_row_sync (self->input_size_row, self->settings);
    }
  else if (g_str_equal (key, "input-size"))
    kestrel_input_size_row_sync (self->input_size_row, self->settings);
  else if (g_str_equal (key, "score-threshold"))
    sync_threshold_row (self);
  else if (g_str_equal (key, "source-kind") || g_str_equal (key, "source-path"))
    sync_source_row (self);
  else if (g_str_equal (key, "level"))
    sync_level_subtitle (self);

  if (kestrel_engine_settings_is_engine_key (key))
    queue_reconfigure (self);
}

/* ---- file choosers ----------------------------------------------------- */

static void
close_chooser (KestrelControls *self)
{
  if (self->chooser == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->chooser, self);
  gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
}

static void
on_chooser_response (GtkNativeDialog *dialog,
                     int              response,
                     KestrelControls *self)
{
  ChooserPurpose purpose = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "purpose"));
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  if (file != NULL)
    {
      path = g_file_get_path (file);
      if (path == NULL)
        {
          g_autofree char *uri = g_file_get_uri (file);
          g_warning ("%s is not a local file: Kestrel reads models, images and videos "
                     "from local files only", uri);
        }
    }

  /* Path first, then the kind: both land in one reconfiguration. */
  if (path != NULL)
    {
      switch (purpose)
        {
        case CHOOSE_MODEL:
          g_settings_set_string (self->settings, "model-file", path);
          g_settings_set_string (self->settings, "model", "file");
          break;
        case CHOOSE_FOLDER:
          g_settings_set_string (self->settings, "source-path", path);
          g_settings_set_string (self->settings, "source-kind", "folder");
          break;
        case CHOOSE_VIDEO:
          g_settings_set_string (self->settings, "source-path", path);
          g_settings_set_string (self->settings, "source-kind", "video");
          break;
        default:
          g_assert_not_reached ();
        }
    }

  close_chooser (self);
  /* On cancel, the row still shows the "…" entry the user picked: put it
   * back to what the settings hold. */
  sync_model_row (self);
  sync_source_row (self);
}

static void
open_chooser (KestrelControls *self,
              ChooserPurpose   purpose)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  g_autofree char *current = NULL;
  GtkFileChooserAction action = GTK_FILE_CHOOSER_ACTION_OPEN;
  const char *title = NULL;

  close_chooser (self);

  switch (purpose)
    {
    case CHOOSE_MODEL:
      title = _("Open ONNX Model");
      gtk_file_filter_set_name (filter, _("ONNX models"));
      gtk_file_filter_add_suffix (filter, "onnx");
      current = g_settings_get_string (self->settings, "model-file");
      break;
    case CHOOSE_FOLDER:
      title = _("Choose a Folder of Images");
      action = GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER;
      g_clear_object (&filter);
      current = g_settings_get_string (self->settings, "source-path");
      break;
    case CHOOSE_VIDEO:
      title = _("Open Video File");
      gtk_file_filter_set_name (filter, _("Videos"));
      gtk_file_filter_add_mime_type (filter, "video/*");
      current = g_settings_get_string (self->settings, "source-path");
      break;
    default:
      g_assert_not_reached ();
    }

  self->chooser = gtk_file_chooser_native_new (title,
                                               GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                               action,
                                               purpose == CHOOSE_FOLDER ? _("_Select") : _("_Open"),
                                               _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  if (filter != NULL)
    gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);

  /* Start where the last choice was, when it still exists. */
  if (current != NULL && g_path_is_absolute (current))
    {
      g_autofree char *dir = g_file_test (current, G_FILE_TEST_IS_DIR) && purpose == CHOOSE_FOLDER
                             ? g_strdup (current) : g_path_get_dirname (current);
      g_autoptr(GFile) folder = g_file_new_for_path (dir);

      if (g_file_test (dir, G_FILE_TEST_IS_DIR))
        gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (self->chooser), folder, NULL);
    }

  g_object_set_data (G_OBJECT (self->chooser), "purpose", GINT_TO_POINTER (purpose));
  g_signal_connect (self->chooser, "response", G_CALLBACK (on_chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

/* ---- row handlers ------------------------------------------------------ */

static void
on_model_selected (AdwComboRow     *row,
                   GParamSpec      *pspec,
                   KestrelControls *self)
{
  guint index = adw_combo_row_get_selected (row);

  if (self->syncing || index >= G_N_ELEMENTS (model_nicks))
    return;
  if (index == MODEL_FILE)
    open_chooser (self, CHOOSE_MODEL);
  else
    g_settings_set_string (self->settings, "model", model_nicks[index]);
}

static void
on_model_open_clicked (GtkButton       *button,
                       KestrelControls *self)
{
  open_chooser (self, CHOOSE_MODEL);
}

static void
on_source_selected (AdwComboRow     *row,
                    GParamSpec      *pspec,
                    KestrelControls *self)
{
  guint index = adw_combo_row_get_selected (row);
  g_autofree char *path = NULL;

  if (self->syncing || index >= G_N_ELEMENTS (source_nicks))
    return;

  switch (index)
    {
    case SOURCE_FOLDER:
      open_chooser (self, CHOOSE_FOLDER);
      break;
    case SOURCE_VIDEO:
      open_chooser (self, CHOOSE_VIDEO);
      break;
    case SOURCE_CAMERA:
      /* source-path is shared with the folder and video kinds; a folder
       * is no camera device, so fall back to the first camera. */
      path = g_settings_get_string (self->settings, "source-path");
      if (!g_str_has_prefix (path, "/dev/"))
        g_settings_set_string (self->settings, "source-path", "");
      g_settings_set_string (self->settings, "source-kind", "camera");
      break;
    case SOURCE_SAMPLES:
    default:
      g_settings_set_string (self->settings, "source-kind", "samples");
      break;
    }
}

/* Picking the entry that is already selected ("Choose a folder…" while a
 * folder is the source) changes nothing, so AdwComboRow says nothing: its
 * popup list's ::activate does say it, and opens the chooser again. When
 * the pick did change the selection, notify::selected has already opened
 * the chooser, and this does nothing. */
static void
on_popup_activate (GtkListView     *list,
                   guint            position,
                   KestrelControls *self)
{
  AdwComboRow *row = ADW_COMBO_ROW (gtk_widget_get_ancestor (GTK_WIDGET (list), ADW_TYPE_COMBO_ROW));

  if (self->chooser != NULL || row == NULL || adw_combo_row_get_selected (row) != position)
    return;
  if (row == self->model_row && position == MODEL_FILE)
    open_chooser (self, CHOOSE_MODEL);
  else if (row == self->source_row && position == SOURCE_FOLDER)
    open_chooser (self, CHOOSE_FOLDER);
  else if (row == self->source_row && position == SOURCE_VIDEO)
    open_chooser (self, CHOOSE_VIDEO);
}

static GtkWidget *
find_descendant (GtkWidget *widget,
                 GType      type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_descendant (child, type);
      if (found != NULL)
        return found;
    }
  return NULL;
}

/* The combo row's popup list: the GtkListView in the popover that is a
 * child of the row (the row shows its current item in another one). */
static void
watch_popup_activate (KestrelControls *self,
                      AdwComboRow     *row)
{
  GtkWidget *popover = find_descendant (GTK_WIDGET (row), GTK_TYPE_POPOVER);
  GtkWidget *list = popover != NULL ? find_descendant (popover, GTK_TYPE_LIST_VIEW) : NULL;

  if (list == NULL)
    {
      g_warning ("the combo row has no popup list: picking its current file entry again "
                 "will not open the chooser");
      return;
    }
  g_signal_connect_object (list, "activate", G_CALLBACK (on_popup_activate), self, G_CONNECT_AFTER);
}

static void
on_rollback_clicked (GtkButton       *button,
                     KestrelControls *self)
{
  g_settings_set_string (self->settings, "level", "scalar");
}

/* A check failed and the engine rolled back: it runs on the reference
 * path now. Saying so in the settings makes the level row tell the truth,
 * and keeps the next reconfiguration (say, a thread count) from putting
 * back the level that just failed. Safe mode is not handled here: the
 * window shows it and lets the user leave it, and the setting stays. */
/* The engine refused a change (a model or a source it cannot open) and
 * kept what it ran: the rows, and the saved settings, go back to that, so
 * that they show what runs and the next start does not fail on the refused
 * value. The window's toast and event log say what was refused. */
static void
revert_to_running (KestrelControls *self)
{
  KestrelEngineConfig config;

  if (self->engine == NULL)
    return;
  kestrel_engine_get_config (self->engine, &config);
  kestrel_engine_settings_apply_config (self->settings, &config);
  kestrel_engine_config_clear (&config);
}

static void
on_engine_event (KestrelEngine   *engine,
                 int              kind,
                 const char      *message,
                 KestrelControls *self)
{
  if (kind == KESTREL_ENGINE_EVENT_ROLLBACK)
    g_settings_set_string (self->settings, "level", "scalar");
  else if (kind == KESTREL_ENGINE_EVENT_CONFIG_ERROR)
    revert_to_running (self);
}

/* ---- binding mappings -------------------------------------------------- */

static gboolean
get_precision_mapping (GValue   *value,
                       GVariant *variant,
                       gpointer  data)
{
  KestrelControls *self = data;
  KestrelPrecision precision;
  guint index = GTK_INVALID_LIST_POSITION;

  /* A precision this build cannot run (set from outside) selects
   * nothing; the engine reports the error. */
  if (kestrel_precision_from_name (g_variant_get_string (variant, NULL), &precision))
    for (guint i = 0; i < self->n_offered; i++)
      if (self->offered[i] == precision)
        index = i;
  g_value_set_uint (value, index);
  return TRUE;
}

static GVariant *
set_precision_mapping (const GValue       *value,
                       const GVariantType *type,
                       gpointer            data)
{
  KestrelControls *self = data;
  guint index = g_value_get_uint (value);

  if (index >= self->n_offered)
    return NULL;
  return g_variant_new_string (kestrel_precision_name (self->offered[index]));
}

static gboolean
get_level_mapping (GValue   *value,
                   GVariant *variant,
                   gpointer  data)
{
  kk_level level;
  guint index = GTK_INVALID_LIST_POSITION;

  if (kk_level_from_name (g_variant_get_string (variant, NULL), &level))
    for (guint i = 0; i < G_N_ELEMENTS (level_order); i++)
      if (level_order[i] == level)
        index = i;
  g_value_set_uint (value, index);
  return TRUE;
}

static GVariant *
set_level_mapping (const GValue       *value,
                   const GVariantType *type,
                   gpointer            data)
{
  guint index = g_value_get_uint (value);

  if (index >= G_N_ELEMENTS (level_order))
    return NULL;
  return g_variant_new_string (kk_level_name (level_order[index]));
}

/* Threads matter only at the parallel levels. */
static gboolean
get_level_is_parallel (GValue   *value,
                       GVariant *variant,
                       gpointer  data)
{
  kk_level level;

  g_value_set_boolean (value, kk_level_from_name (g_variant_get_string (variant, NULL), &level)
                              && kk_level_is_parallel (level));
  return TRUE;
}

/* Rolling back is possible only from somewhere else. */
static gboolean
get_level_is_not_scalar (GValue   *value,
                         GVariant *variant,
                         gpointer  data)
{
  g_value_set_boolean (value, !g_str_equal (g_variant_get_string (variant, NULL), "scalar"));
  return TRUE;
}

static gboolean
get_throttle_mapping (GValue   *value,
                      GVariant *variant,
                      gpointer  data)
{
  g_value_set_boolean (value, g_str_equal (g_variant_get_string (variant, NULL), "budget"));
  return TRUE;
}

static GVariant *
set_throttle_mapping (const GValue       *value,
                      const GVariantType *type,
                      gpointer            data)
{
  return g_variant_new_string (g_value_get_boolean (value) ? "budget" : "off");
}

/* ---- set-up ------------------------------------------------------------ */

static void
setup_popup_item (GtkSignalListItemFactory *factory,
                  GtkListItem              *item,
                  gpointer                  data)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0.0f);
  gtk_list_item_set_child (item, label);
}

static void
bind_popup_item (GtkSignalListItemFactory *factory,
                 GtkListItem              *item,
                 gpointer                  data)
{
  const char *const *labels = data;
  guint position = gtk_list_item_get_position (item);
  const char *text = gtk_string_object_get_string (gtk_list_item_get_item (item));

  if (labels[position] != NULL)
    text = _(labels[position]);
  gtk_label_set_label (GTK_LABEL (gtk_list_item_get_child (item)), text);
}

/* @labels has an entry for every item of @row's list. */
static void
set_popup_labels (AdwComboRow       *row,
                  const char *const *labels)
{
  g_autoptr(GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();

  g_signal_connect (factory, "setup", G_CALLBACK (setup_popup_item), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_popup_item), (gpointer) labels);
  adw_combo_row_set_list_factory (row, factory);
}

/* A widget's tooltip is shown for its descendants too, and a combo row's
 * list is a popover inside the row: its explanation would cover the list
 * the user is choosing from. No tooltip while the list is open. */
static void
quiet_tooltip_while_open (AdwComboRow *row)
{
  GtkWidget *popover = NULL;
  GPtrArray *todo = g_ptr_array_new ();

  g_ptr_array_add (todo, row);
  while (todo->len > 0 && popover == NULL)
    {
      GtkWidget *widget = g_ptr_array_steal_index (todo, todo->len - 1);

      if (GTK_IS_POPOVER (widget))
        popover = widget;
      for (GtkWidget *child = gtk_widget_get_first_child (widget);
           child != NULL;
           child = gtk_widget_get_next_sibling (child))
        g_ptr_array_add (todo, child);
    }
  g_ptr_array_unref (todo);

  if (popover != NULL)
    g_object_bind_property (popover, "visible", row, "has-tooltip",
                            G_BINDING_SYNC_CREATE | G_BINDING_INVERT_BOOLEAN);
}

static char *
format_budget (GtkScale *scale,
               double    value,
               gpointer  data)
{
  /* TRANSLATORS: a processor budget in percent of one core, e.g. "150 %". */
  return g_strdup_printf (_("%.0f %%"), value);
}

static void
fill_precision_row (KestrelControls *self)
{
  g_autoptr(GtkStringList) list = gtk_string_list_new (NULL);
  g_autoptr(GString) unavailable = g_string_new (NULL);

  self->n_offered = 0;
  for (KestrelPrecision p = KESTREL_PRECISION_FP32; p <= KESTREL_PRECISION_INT4; p++)
    {
      if (kestrel_precision_is_supported (p))
        {
          self->offered[self->n_offered++] = p;
          gtk_string_list_append (list, precision_label (p));
        }
      else
        {
          if (unavailable->len > 0)
            g_string_append (unavailable, ", ");
          g_string_append (unavailable, precision_label (p));
        }
    }
  adw_combo_row_set_model (self->precision_row, G_LIST_MODEL (list));

  /* Shown rather than offered: picking them would only fail. */
  g_clear_pointer (&self->precision_subtitle, g_free);
  if (unavailable->len > 0)
    /* TRANSLATORS: %s is a list of precisions, such as "FP16, INT8, INT4". */
    self->precision_subtitle = g_strdup_printf (_("Not available in this version: %s"), unavailable->str);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->precision_row),
                               self->precision_subtitle != NULL ? self->precision_subtitle : "");
}

void
kestrel_controls_show_snapshot (KestrelControls              *self,
                                const KestrelMetricsSnapshot *snapshot)
{
  g_autofree char *subtitle = NULL;
  const char *text = self->precision_subtitle != NULL ? self->precision_subtitle : "";

  g_return_if_fail (KESTREL_IS_CONTROLS (self));
  g_return_if_fail (snapshot != NULL);

  kestrel_input_size_row_show_engine (self->input_size_row, self->engine);
  if (snapshot->calibration_progress >= 0 && snapshot->calibrating_int4)
    /* TRANSLATORS: the precision row while INT4 plans are calibrated (INT8
     * ranges, then which layers keep 8-bit weights); %.0f is percent done.
     * Frames keep running at the old precision. */
    text = subtitle = g_strdup_printf (_("Calibrating for INT4… %.0f %%"),
                                       100 * snapshot->calibration_progress);
  else if (snapshot->calibration_progress >= 0)
    /* TRANSLATORS: the precision row while INT8 ranges are measured;
     * %.0f is percent done. Frames keep running at the old precision. */
    text = subtitle = g_strdup_printf (_("Calibrating for INT8… %.0f %%"),
                                       100 * snapshot->calibration_progress);
  else if (snapshot->have_agreement)
    {
      const KestrelAgreement *a = &snapshot->agreement;

      if (a->matched_faces > 0)
        /* TRANSLATORS: the precision row below FP32: how the last frame
         * compared with FP32 agrees. "%.0f %%" is the agreement in percent,
         * then faces found at both precisions of those FP32 found, the
         * mean overlap (IoU, 0 to 1) and the largest score difference. */
        text = subtitle = g_strdup_printf (_("Agreement with FP32: %.0f %% (%u of %u faces, overlap %.2f, "
                                             "score ±%.3f)"),
                                           kestrel_agreement_get_percent (a), a->matched_faces,
                                           a->fp32_faces, a->mean_iou, a->max_score_difference);
      else
        /* TRANSLATORS: as above, when no face was found at both precisions. */
        text = subtitle = g_strdup_printf (_("Agreement with FP32: %.0f %% (%u of %u faces)"),
                                           kestrel_agreement_get_percent (a), a->matched_faces,
                                           a->fp32_faces);
    }
  if (g_strcmp0 (adw_action_row_get_subtitle (ADW_ACTION_ROW (self->precision_row)), text) != 0)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (self->precision_row), text);
}

static void
kestrel_controls_constructed (GObject *object)
{
  KestrelControls *self = KESTREL_CONTROLS (object);
  guint n_cpus = g_get_num_processors ();
  guint max_budget = MIN (100 * n_cpus, MAX_BUDGET_PERCENT);

  G_OBJECT_CLASS (kestrel_controls_parent_class)->constructed (object);

  /* Built from a .ui file, nobody passed settings. */
  if (self->settings == NULL)
    self->settings = g_settings_new ("org.kestrel.Kestrel");

  /* Ranges before the bindings, so that the first value is not clamped to
   * the .ui's placeholder range. */
  gtk_adjustment_set_upper (self->threads_adjustment, n_cpus);
  gtk_adjustment_set_upper (self->budget_adjustment, max_budget);
  gtk_scale_clear_marks (self->budget_scale);
  for (guint core = 1; core * 100 <= max_budget; core++)
    gtk_scale_add_mark (self->budget_scale, core * 100.0, GTK_POS_BOTTOM, NULL);
  gtk_scale_set_format_value_func (self->budget_scale, format_budget, NULL, NULL);
  fill_precision_row (self);
  set_popup_labels (self->model_row, model_popup_labels);
  set_popup_labels (self->source_row, source_popup_labels);
  set_popup_labels (self->level_row, level_popup_labels);
  quiet_tooltip_while_open (self->model_row);
  quiet_tooltip_while_open (self->input_size_row);
  quiet_tooltip_while_open (self->precision_row);
  quiet_tooltip_while_open (self->source_row);
  quiet_tooltip_while_open (self->level_row);

  g_settings_bind_with_mapping (self->settings, "precision", self->precision_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, get_precision_mapping,
                                set_precision_mapping, self, NULL);
  g_settings_bind_with_mapping (self->settings, "level", self->level_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, get_level_mapping, set_level_mapping,
                                NULL, NULL);
  g_settings_bind (self->settings, "threads", self->threads_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "batch", self->batch_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (self->settings, "throttle-mode", self->throttle_switch, "active",
                                G_SETTINGS_BIND_DEFAULT, get_throttle_mapping,
                                set_throttle_mapping, NULL, NULL);
  g_settings_bind (self->settings, "cpu-budget", self->budget_adjustment, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "canary-interval", self->canary_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);

  g_settings_bind_with_mapping (self->settings, "level", self->threads_row, "sensitive",
                                G_SETTINGS_BIND_GET, get_level_is_parallel, NULL, NULL, NULL);
  g_settings_bind_with_mapping (self->settings, "level", self->rollback_button, "sensitive",
                                G_SETTINGS_BIND_GET, get_level_is_not_scalar, NULL, NULL, NULL);
  g_settings_bind_with_mapping (self->settings, "throttle-mode", self->budget_row, "sensitive",
                                G_SETTINGS_BIND_GET, get_throttle_mapping, NULL, NULL, NULL);

  sync_model_row (self);
  kestrel_input_size_row_setup (self->input_size_row, self->settings);
  sync_source_row (self);
  sync_level_subtitle (self);
  sync_threshold_row (self);
  g_signal_connect_object (self->threshold_spin, "value-changed",
                           G_CALLBACK (on_threshold_changed), self, 0);
  g_signal_connect_object (self->model_row, "notify::selected",
                           G_CALLBACK (on_model_selected), self, 0);
  g_signal_connect_object (self->source_row, "notify::selected",
                           G_CALLBACK (on_source_selected), self, 0);
  watch_popup_activate (self, self->model_row);
  watch_popup_activate (self, self->source_row);
  /* GSettings signals "changed" only for keys that were read; all were. */
  g_signal_connect_object (self->settings, "changed",
                           G_CALLBACK (on_settings_changed), self, 0);
}

static void
kestrel_controls_dispose (GObject *object)
{
  KestrelControls *self = KESTREL_CONTROLS (object);

  close_chooser (self);
  g_clear_handle_id (&self->reconfigure_source, g_source_remove);
  /* The rows go with the template below; a late "changed" must not find
   * them gone. */
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  if (self->engine != NULL)
    g_signal_handlers_disconnect_by_data (self->engine, self);
  g_clear_object (&self->engine);
  /* Bindings live until their widget is finalized, and a row disposed
   * with the template may outlive it for a while (a popover, a pending
   * redraw): a settings change then ran a binding on a dying row, and its
   * last reference went inside the binding (GLib aborts on that). */
  if (self->precision_row != NULL)
    {
      g_settings_unbind (self->precision_row, "selected");
      g_settings_unbind (self->level_row, "selected");
      g_settings_unbind (self->threads_spin, "value");
      g_settings_unbind (self->batch_spin, "value");
      g_settings_unbind (self->throttle_switch, "active");
      g_settings_unbind (self->budget_adjustment, "value");
      g_settings_unbind (self->canary_spin, "value");
      g_settings_unbind (self->threads_row, "sensitive");
      g_settings_unbind (self->rollback_button, "sensitive");
      g_settings_unbind (self->budget_row, "sensitive");
    }
  gtk_widget_dispose_template (GTK_WIDGET (self), KESTREL_TYPE_CONTROLS);

  G_OBJECT_CLASS (kestrel_controls_parent_class)->dispose (object);
}

static void
kestrel_controls_finalize (GObject *object)
{
  KestrelControls *self = KESTREL_CONTROLS (object);

  g_clear_object (&self->settings);
  g_free (self->precision_subtitle);

  G_OBJECT_CLASS (kestrel_controls_parent_class)->finalize (object);
}

static void
kestrel_controls_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  KestrelControls *self = KESTREL_CONTROLS (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:         g_value_set_object (value, self->settings); break;
    case PROP_ENGINE:           g_value_set_object (value, self->engine); break;
    case PROP_RECONFIGURATIONS: g_value_set_uint (value, self->n_reconfigurations); break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kestrel_controls_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  KestrelControls *self = KESTREL_CONTROLS (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;
    case PROP_ENGINE:
      kestrel_controls_set_engine (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kestrel_controls_class_init (KestrelControlsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = kestrel_controls_constructed;
  object_class->dispose = kestrel_controls_dispose;
  object_class->finalize = kestrel_controls_finalize;
  object_class->get_property = kestrel_controls_get_property;
  object_class->set_property = kestrel_controls_set_property;

  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, "The org.kestrel.Kestrel settings the rows are bound to",
                         G_TYPE_SETTINGS,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ENGINE] =
    g_param_spec_object ("engine", NULL, "The engine reconfigured when an engine setting changes",
                         KESTREL_TYPE_ENGINE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* For tests and diagnostics; does not notify. */
  properties[PROP_RECONFIGURATIONS] =
    g_param_spec_uint ("reconfigurations", NULL, "How many reconfigurations the panel asked for",
                       0, G_MAXUINT, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* Templates come from the resource, which must be registered first
   * (usually already done: see kestrel_controls_new()). */
  kestrel_ui_init ();
  gtk_widget_class_set_template_from_resource (widget_class,
                                               KESTREL_UI_RESOURCE_PATH "/kestrel-controls.ui");
  gtk_widget_class_bind_template_child (widget_class, KestrelControls, page);
  gtk_widget_class_bind_template_child (widget_class, KestrelControls, model_row);
  gtk_widget_class_bind_template_child (widget_class, KestrelControls, input_size_row);
  gtk_widget_class_bind_template_child (widget_class, KestrelControls, precision_row);
  gtk_widget_class_bind_template_child (widget_class, KestrelControls, threshold_row);
  gtk_widget_class_bind_template_child (widget_class, KestrelControls, threshold_spin);
  gtk_widget_class_bind_template_child (widget_class, KestrelControls, threshold_reset);
  gtk_widget_class_bind_template_child (widget_class, KestrelControls, source_row);
  gtk_widget_class_bind_template_child (widget_class, KestrelControls, level_row);
  gtk_widget_class_bind_template_child (widget_class, KestrelControls, threads_row);
  gtk_widget_class_bind_template_child (widget_class, KestrelControls, threads_adjustment);
  gtk_widget_class_bind_template_child (widget_class, KestrelControls, threads_spin);
  gtk_widget_class_bind_template_child (widget_class, KestrelControls, batch_spin);
  gtk_widget_class_bind_template_child (widget_class, KestrelControls, rollback_button);
  gtk_widget_class_bind_template_child (widget_class, KestrelControls, throttle_switch);
  gtk_widget_class_bind_template_child (widget_class, KestrelControls, budget_row);
  gtk_widget_class_bind_template_child (widget_class, KestrelControls, budget_scale);
  gtk_widget_class_bind_template_child (widget_class, KestrelControls, budget_adjustment);
  gtk_widget_class_bind_template_child (widget_class, KestrelControls, canary_spin);
  gtk_widget_class_bind_template_callback (widget_class, on_model_open_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_rollback_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_threshold_reset_clicked);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "controls");
}

static void
kestrel_controls_init (KestrelControls *self)
{
  kestrel_ui_ensure_style (gtk_widget_get_display (GTK_WIDGET (self)));
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
kestrel_controls_new (GSettings *settings)
{
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  /* Here rather than only in class_init, which holds GType's class lock:
   * adw_init() loads GIO modules, and a thread that is loading one (the
   * engine's monitor asks for GPowerProfileMonitor as it starts) can be
   * waiting for that class lock while holding GIO's, which deadlocked the
   * tests. Once done here, the call in class_init costs nothing. */
  kestrel_ui_init ();
  return g_object_new (KESTREL_TYPE_CONTROLS, "settings", settings, NULL);
}

GSettings *
kestrel_controls_get_settings (KestrelControls *self)
{
  g_return_val_if_fail (KESTREL_IS_CONTROLS (self), NULL);

  return self->settings;
}

void
kestrel_controls_set_engine (KestrelControls *self,
                             KestrelEngine   *engine)
{
  g_return_if_fail (KESTREL_IS_CONTROLS (self));
  g_return_if_fail (engine == NULL || KESTREL_IS_ENGINE (engine));

  if (self->engine == engine)
    return;

  if (self->engine != NULL)
    g_signal_handlers_disconnect_by_data (self->engine, self);
  g_clear_handle_id (&self->reconfigure_source, g_source_remove);
  g_set_object (&self->engine, engine);
  if (engine != NULL)
    g_signal_connect (engine, "event", G_CALLBACK (on_engine_event), self);
  /* A model file's own threshold is the engine's to say. */
  sync_threshold_row (self);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ENGINE]);
}

void
kestrel_controls_set_safe_mode (KestrelControls *self,
                                gboolean         safe_mode)
{
  g_return_if_fail (KESTREL_IS_CONTROLS (self));

  safe_mode = !!safe_mode;
  if (self->safe_mode == safe_mode)
    return;
  self->safe_mode = safe_mode;
  sync_level_subtitle (self);
}

KestrelEngine *
kestrel_controls_get_engine (KestrelControls *self)
{
  g_return_val_if_fail (KESTREL_IS_CONTROLS (self), NULL);

  return self->engine;
}
