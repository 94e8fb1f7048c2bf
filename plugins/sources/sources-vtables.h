/* sources-vtables.h — the frame sources the two modules of plugins/sources
 * register (sources-plugin.c, sources-gst-plugin.c). */
#pragma once

#include "kestrel-plugin.h"

G_BEGIN_DECLS

/* sources.so: no GStreamer. */
extern const KestrelFrameSourceVTable source_images_vtable;
extern const KestrelFrameSourceVTable source_synthetic_vtable;

/* sources-gst.so: through GStreamer's appsink. */
extern const KestrelFrameSourceVTable source_file_vtable;
extern const KestrelFrameSourceVTable source_videotest_vtable;
extern const KestrelFrameSourceVTable source_camera_vtable;

G_END_DECLS
