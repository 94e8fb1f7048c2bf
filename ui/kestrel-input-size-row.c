/* kestrel-input-size-row.c — see kestrel-input-size-row.h. */
#include "config.h"

#include "kestrel-input-size-row.h"

#include <glib/gi18n.h>

#include "kestrel-engine-settings.h"

/* The row's entries after "Frame size", as the setting writes them; a
 * size set elsewhere (gsettings) that is none of these is added after
 * them while it is the setting. */
static const char *const presets[] = {
  "224x224", "320x320", "416x416", "512x512", "640x480", "640x640",
};

#define SYNCING "kestrel-input-size-syncing"
#define CUSTOM "kestrel-input-size-custom"

static char *
size_label (const char *setting)
{
  guint w, h;

  if (!kestrel_engine_settings_parse_input_size (setting, &w, &h))
    /* TRANSLATORS: the input size row's default: the model is planned at
     * the size of the frames it is given. */
    return g_strdup (_("Frame size"));
  return g_strdup_printf ("%u × %u", w, h);
}

void
kestrel_input_size_row_sync (AdwComboRow *row, GSettings *settings)
{
  g_autofree char *setting = g_settings_get_string (settings, "input-size");
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  GtkStringList *list = GTK_STRING_LIST (adw_combo_row_get_model (row));
  guint selected = 0, w, h;
  char *custom = NULL;

  g_ptr_array_add (labels, size_label (""));
  for (guint i = 0; i < G_N_ELEMENTS (presets); i++)
    {
      g_ptr_array_add (labels, size_label (presets[i]));
      if (g_str_equal (setting, presets[i]))
        selected = i + 1;
    }
  if (selected == 0 && kestrel_engine_settings_parse_input_size (setting, &w, &h))
    {
      g_ptr_array_add (labels, size_label (setting));
      selected = G_N_ELEMENTS (presets) + 1;
      custom = g_strdup (setting);
    }
  g_object_set_data_full (G_OBJECT (row), CUSTOM, custom, g_free);
  g_ptr_array_add (labels, NULL);

  /* The list is changed in place: one list model for the row's life. */
  g_object_set_data (G_OBJECT (row), SYNCING, GINT_TO_POINTER (TRUE));
  gtk_string_list_splice (list, 0, g_list_model_get_n_items (G_LIST_MODEL (list)),
                          (const char *const *) labels->pdata);
  adw_combo_row_set_selected (row, selected);
  g_object_set_data (G_OBJECT (row), SYNCING, NULL);
  /* Only a model file whose picture input takes any size has a choice. */
  gtk_widget_set_visible (GTK_WIDGET (row), kestrel_engine_settings_model_takes_any_size (settings));
}

static void
on_selected (AdwComboRow *row, GParamSpec *pspec, GSettings *settings)
{
  guint index = adw_combo_row_get_selected (row);
  const char *custom = g_object_get_data (G_OBJECT (row), CUSTOM);
  const char *value;

  if (g_object_get_data (G_OBJECT (row), SYNCING) != NULL || index == GTK_INVALID_LIST_POSITION)
    return;
  if (index == 0)
    value = "";
  else if (index <= G_N_ELEMENTS (presets))
    value = presets[index - 1];
  else if (custom != NULL)
    value = custom;
  else
    return;
  {
    g_autofree char *now = g_settings_get_string (settings, "input-size");
    if (!g_str_equal (now, value))
      g_settings_set_string (settings, "input-size", value);
  }
}

void
kestrel_input_size_row_setup (AdwComboRow *row, GSettings *settings)
{
  g_autoptr(GtkStringList) list = gtk_string_list_new (NULL);

  adw_combo_row_set_model (row, G_LIST_MODEL (list));
  kestrel_input_size_row_sync (row, settings);
  g_signal_connect_object (row, "notify::selected", G_CALLBACK (on_selected), settings, 0);
}

void
kestrel_input_size_row_show_engine (AdwComboRow *row, KestrelEngine *engine)
{
  g_autofree char *subtitle = NULL;
  guint w = 0, h = 0;

  if (engine == NULL || !gtk_widget_get_visible (GTK_WIDGET (row)))
    return;
  /* Short, so that the row's value ("Frame size") is not cut off: the
   * value already says whether the size follows the frames. */
  if (kestrel_engine_get_input_size (engine, &w, &h) != KESTREL_ENGINE_INPUT_FIXED)
    /* TRANSLATORS: the input size row's subtitle: the size the model runs
     * at now, in pixels. */
    subtitle = g_strdup_printf (_("Now %u × %u"), w, h);
  if (w == 0)
    g_clear_pointer (&subtitle, g_free);
  if (g_strcmp0 (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), subtitle != NULL ? subtitle : "") != 0)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle != NULL ? subtitle : "");
}
