/* ui-test-chooser.h — the file chooser as the UI tests drive it (header
 * only: each test is a program of its own). GTK 4.8 has no GtkFileDialog;
 * the windows open a GtkFileChooserNative, which without a portal (as
 * under the tests' Xvfb) is a GtkFileChooserDialog in this process, so a
 * test can find it, name a file in it and answer it as a person would. */
#pragma once

#include <gtk/gtk.h>

/* The file chooser open now, or NULL. */
static inline GtkWidget *
ui_test_find_chooser (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();  /* transfer none */

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);
      if (GTK_IS_FILE_CHOOSER (window) && gtk_widget_get_visible (GTK_WIDGET (window)))
        return GTK_WIDGET (window);
    }
  return NULL;
}

/* For ui_test_wait_until(). */
static inline gboolean
ui_test_chooser_shown (gpointer data)
{
  return ui_test_find_chooser () != NULL;
}

/* GTK 4.8's file chooser dialog now and then snapshots one of its own
 * buttons before allocating it when it is answered under load ("Trying to
 * snapshot GtkButton ... without a current allocation"): under gdb, every
 * frame of the backtrace at the warning is in libgtk-4 (a dozen nested
 * gtk_widget_snapshot_child), none in Kestrel, and it happened with the
 * test answering a chooser on a source that opens fine. The tests make
 * warnings fatal; this writer lets that one message of GTK's through as an
 * ordinary line and hands everything else to GLib's own writer. Call it
 * first in main(), before anything logs. */
static inline GLogWriterOutput
ui_test_chooser_log_writer (GLogLevelFlags   level,
                            const GLogField *fields,
                            gsize            n_fields,
                            gpointer         data)
{
  const char *domain = NULL, *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0 && fields[i].length < 0)
      domain = fields[i].value;
    else if (g_strcmp0 (fields[i].key, "MESSAGE") == 0 && fields[i].length < 0)
      message = fields[i].value;
  if ((level & G_LOG_LEVEL_WARNING) && g_strcmp0 (domain, "Gtk") == 0 && message != NULL
      && g_str_has_prefix (message, "Trying to snapshot GtkButton ")
      && g_str_has_suffix (message, " without a current allocation"))
    {
      g_printerr ("(GTK's file chooser, let through: %s)\n", message);
      return G_LOG_WRITER_HANDLED;
    }
  return g_log_writer_default (level, fields, n_fields, data);
}

static inline void
ui_test_tolerate_chooser_snapshot_warning (void)
{
  g_log_set_writer_func (ui_test_chooser_log_writer, NULL, NULL);
}
