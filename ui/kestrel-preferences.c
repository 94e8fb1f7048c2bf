/* kestrel-preferences.c — see kestrel-preferences.h.
 *
 * The interval is shown in seconds (what a person thinks in) and stored in
 * milliseconds; the spin buttons' ranges are the schema's, so a value from
 * the settings is never clamped by the widget. The history row's subtitle
 * says how long the history lasts at the current interval, the number a
 * user actually wants.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "kestrel-preferences.h"
#include "kestrel-ui.h"

struct _KestrelPreferences
{
  AdwPreferencesWindow parent_instance;

  AdwActionRow   *history_row;
  GtkSpinButton  *history_spin;
  GtkSpinButton  *interval_spin;

  GSettings      *settings;
};

G_DEFINE_FINAL_TYPE (KestrelPreferences, kestrel_preferences, ADW_TYPE_PREFERENCES_WINDOW)

static gboolean
get_seconds (GValue   *value,
             GVariant *variant,
             gpointer  data)
{
  g_value_set_double (value, g_variant_get_int32 (variant) / 1000.0);
  return TRUE;
}

static GVariant *
set_seconds (const GValue       *value,
             const GVariantType *type,
             gpointer            data)
{
  return g_variant_new_int32 ((gint32) (g_value_get_double (value) * 1000.0 + 0.5));
}

static void
update_history_subtitle (KestrelPreferences *self)
{
  int points = g_settings_get_int (self->settings, "history-points");
  double seconds = points * g_settings_get_int (self->settings, "sample-interval-ms") / 1000.0;
  g_autofree char *span = NULL;
  g_autofree char *subtitle = NULL;

  if (seconds < 120)
    /* Translators: how long the graphs' history lasts. */
    span = g_strdup_printf (_("%.0f seconds"), seconds);
  else
    span = g_strdup_printf (_("%.1f minutes"), seconds / 60.0);
  /* Translators: %s is a duration, such as "60 seconds". */
  subtitle = g_strdup_printf (_("Samples each graph keeps: %s at this interval"), span);
  adw_action_row_set_subtitle (self->history_row, subtitle);
}

static void
on_settings_changed (GSettings          *settings,
                     const char         *key,
                     KestrelPreferences *self)
{
  if (g_str_equal (key, "history-points") || g_str_equal (key, "sample-interval-ms"))
    update_history_subtitle (self);
}

static void
kestrel_preferences_dispose (GObject *object)
{
  KestrelPreferences *self = KESTREL_PREFERENCES (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), KESTREL_TYPE_PREFERENCES);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (kestrel_preferences_parent_class)->dispose (object);
}

static void
kestrel_preferences_class_init (KestrelPreferencesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kestrel_preferences_dispose;

  kestrel_ui_init ();
  gtk_widget_class_set_template_from_resource (widget_class,
                                               KESTREL_UI_RESOURCE_PATH "/kestrel-preferences.ui");
  gtk_widget_class_bind_template_child (widget_class, KestrelPreferences, history_row);
  gtk_widget_class_bind_template_child (widget_class, KestrelPreferences, history_spin);
  gtk_widget_class_bind_template_child (widget_class, KestrelPreferences, interval_spin);
}

static void
kestrel_preferences_init (KestrelPreferences *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
kestrel_preferences_new (GtkWindow *parent,
                         GSettings *settings)
{
  KestrelPreferences *self;

  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (KESTREL_TYPE_PREFERENCES,
                       "transient-for", parent,
                       "modal", parent != NULL,
                       NULL);
  self->settings = g_object_ref (settings);
  g_settings_bind (settings, "history-points", self->history_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (settings, "sample-interval-ms", self->interval_spin, "value",
                                G_SETTINGS_BIND_DEFAULT, get_seconds, set_seconds, NULL, NULL);
  g_signal_connect_object (settings, "changed", G_CALLBACK (on_settings_changed), self, 0);
  update_history_subtitle (self);
  return GTK_WIDGET (self);
}
