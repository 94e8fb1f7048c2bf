/* kestrel-dashboard.h — the window's preview and graphs, laid out for the
 * width they get.
 *
 * Three children, in order: the preview, a column of graphs beside it, and
 * a wide graph under both. Wide (at least KESTREL_DASHBOARD_WIDE px of its
 * own): preview and column side by side, the third child across the bottom
 * at its natural height. Narrower: the three stacked, each at least its
 * minimum height, so every graph keeps a usable size down to a phone's
 * 360 px; the dashboard is then taller than most windows and belongs in a
 * GtkScrolledWindow. libadwaita 1.2 has no AdwBreakpoint: this is the
 * reflow it would give.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Below this width the children are stacked. */
#define KESTREL_DASHBOARD_WIDE 640

#define KESTREL_TYPE_DASHBOARD (kestrel_dashboard_get_type ())

G_DECLARE_FINAL_TYPE (KestrelDashboard, kestrel_dashboard, KESTREL, DASHBOARD, GtkWidget)

GtkWidget *kestrel_dashboard_new         (void);
/* Whether the last allocation put the children side by side. */
gboolean   kestrel_dashboard_get_wide    (KestrelDashboard *self);

G_END_DECLS
