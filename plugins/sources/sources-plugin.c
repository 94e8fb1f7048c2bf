/* sources-plugin.c — the "sources" plugin: frame sources that need no
 * GStreamer (images, synthetic). The GStreamer ones (file, videotest,
 * camera) are a module of their own, sources-gst-plugin.c, so a program
 * that reads a folder of photos never loads GStreamer, and a build without
 * GStreamer still has these.
 */
#include "config.h"

#include "kestrel-plugin.h"
#include "sources-common.h"
#include "sources-vtables.h"

/* The pool this module's frames come from, for tests and diagnostics that
 * look it up with g_module_symbol(): the plugin API has no way yet to hand
 * a source the engine's pool. */
G_MODULE_EXPORT KestrelPool *kestrel_sources_get_frame_pool (void);

G_MODULE_EXPORT KestrelPool *
kestrel_sources_get_frame_pool (void)
{
  return sources_frame_pool ();
}

static gboolean
sources_plugin_init (KestrelPluginRegistrar *registrar, GError **error)
{
  kestrel_plugin_registrar_set_info (registrar, "sources", PACKAGE_VERSION,
                                     "Frame sources: still images (gdk-pixbuf) and a synthetic test pattern");
  kestrel_plugin_registrar_add_frame_source (registrar, &source_images_vtable);
  kestrel_plugin_registrar_add_frame_source (registrar, &source_synthetic_vtable);
  return TRUE;
}

KESTREL_PLUGIN_DEFINE (sources_plugin_init)
