/* kestrel-ui.h — set-up shared by every widget in ui/.
 *
 * kestrel_ui_init() registers the ui GResource, initialises libadwaita and
 * adds ui/style.css for the default display. Widgets call it for their own
 * display, so an application only needs it for templates or CSS of its own
 * before the first Kestrel widget exists. Safe to call more than once.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define KESTREL_UI_RESOURCE_PATH "/org/kestrel/Kestrel/ui"

void     kestrel_ui_init                (void);
void     kestrel_ui_ensure_style        (GdkDisplay *display);

/* The colour CSS gives @widget (what gtk_widget_get_color() does in 4.10). */
void     kestrel_ui_get_color           (GtkWidget  *widget,
                                         GdkRGBA    *color);
/* Whether @surface (a GdkToplevel, or NULL) is minimised or suspended:
 * nothing in it can be seen, so nothing needs to be polled or drawn. */
gboolean kestrel_ui_toplevel_is_hidden  (GdkSurface *surface);
/* A timeout named @name; whole seconds use g_timeout_add_seconds(), which
 * GLib aligns across the process, so the window's and the graphs' ticks
 * wake up together. */
guint    kestrel_ui_timeout_add         (guint       interval_ms,
                                         GSourceFunc function,
                                         gpointer    data,
                                         const char *name);

G_END_DECLS
