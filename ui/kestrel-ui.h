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

void kestrel_ui_init          (void);
void kestrel_ui_ensure_style  (GdkDisplay *display);

G_END_DECLS
