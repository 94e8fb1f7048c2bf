/* sources-gst-plugin.c — the "sources-gst" plugin: frame sources through
 * GStreamer (file, videotest, camera). A module of its own so that only
 * programs opening one of them load GStreamer, and so that a build without
 * GStreamer still has the other sources. GStreamer itself is initialised
 * on the first open(), not when the plugin loads.
 */
#include "config.h"

#include "kestrel-plugin.h"
#include "sources-common.h"
#include "sources-vtables.h"

/* See sources-plugin.c: this module's frame pool, for tests and
 * diagnostics. */
G_MODULE_EXPORT KestrelPool *kestrel_sources_get_frame_pool (void);

G_MODULE_EXPORT KestrelPool *
kestrel_sources_get_frame_pool (void)
{
  return sources_frame_pool ();
}

static gboolean
sources_gst_plugin_init (KestrelPluginRegistrar *registrar, GError **error)
{
  kestrel_plugin_registrar_set_info (registrar, "sources-gst", PACKAGE_VERSION,
                                     "Frame sources through GStreamer: video files, cameras, a test pattern");
  kestrel_plugin_registrar_add_frame_source (registrar, &source_file_vtable);
  kestrel_plugin_registrar_add_frame_source (registrar, &source_videotest_vtable);
  kestrel_plugin_registrar_add_frame_source (registrar, &source_camera_vtable);
  return TRUE;
}

KESTREL_PLUGIN_DEFINE (sources_gst_plugin_init)
