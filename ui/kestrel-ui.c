/* kestrel-ui.c — see kestrel-ui.h.
 *
 * The resource is registered by hand (--manual-register) because ui/ is a
 * static library: a constructor in an object file that nothing references
 * would be dropped by the linker, and the widgets would find no CSS.
 */
#include "config.h"

#include <adwaita.h>

#include "kestrel-ui.h"
#include "kestrel-ui-resources.h"

#define STYLE_DATA_KEY "kestrel-ui-style-provider"

static void
ensure_resources (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      kestrel_ui_register_resource ();
      g_once_init_leave (&done, 1);
    }
}

void
kestrel_ui_ensure_style (GdkDisplay *display)
{
  g_autoptr(GtkCssProvider) provider = NULL;

  g_return_if_fail (GDK_IS_DISPLAY (display));

  if (g_object_get_data (G_OBJECT (display), STYLE_DATA_KEY) != NULL)
    return;

  ensure_resources ();
  /* The stylesheet names libadwaita's colours (@accent_color, ...), which
   * exist only once libadwaita has added its own stylesheet. */
  adw_init ();

  provider = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (provider, KESTREL_UI_RESOURCE_PATH "/style.css");
  /* Above the theme, whose generic rules ours refine, and below the
   * application and the user, who may restyle the graphs. */
  gtk_style_context_add_provider_for_display (display,
                                              GTK_STYLE_PROVIDER (provider),
                                              GTK_STYLE_PROVIDER_PRIORITY_THEME + 1);
  g_object_set_data_full (G_OBJECT (display), STYLE_DATA_KEY,
                          g_steal_pointer (&provider), g_object_unref);
}

void
kestrel_ui_init (void)
{
  GdkDisplay *display;

  ensure_resources ();
  display = gdk_display_get_default ();
  if (display != NULL)
    kestrel_ui_ensure_style (display);
}

void
kestrel_ui_get_color (GtkWidget *widget,
                      GdkRGBA   *color)
{
  /* gtk_widget_get_color() replaces this in GTK 4.10; the version pins
   * keep us on 4.8's API. */
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), color);
}

gboolean
kestrel_ui_toplevel_is_hidden (GdkSurface *surface)
{
  GdkToplevelState hidden = GDK_TOPLEVEL_STATE_MINIMIZED;

#if GTK_CHECK_VERSION (4, 12, 0)
  hidden |= GDK_TOPLEVEL_STATE_SUSPENDED;
#endif
  return surface != NULL && (gdk_toplevel_get_state (GDK_TOPLEVEL (surface)) & hidden) != 0;
}

guint
kestrel_ui_timeout_add (guint       interval_ms,
                        GSourceFunc function,
                        gpointer    data,
                        const char *name)
{
  guint id;

  if (interval_ms % 1000 == 0)
    id = g_timeout_add_seconds (interval_ms / 1000, function, data);
  else
    id = g_timeout_add (interval_ms, function, data);
  g_source_set_name_by_id (id, name);
  return id;
}
