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
