/* kestrel-window.h — Kestrel's main window: the preview with detections,
 * the CPU, memory and latency graphs, the controls in a side pane, toasts
 * for the engine's events, and the safe-mode bar.
 *
 * The window owns the engine that it shows: kestrel_window_start() builds
 * it from the settings and starts it off the main thread; closing the window
 * stops it cleanly, which removes the crash marker.
 */
#pragma once

#include <adwaita.h>
#include <json-glib/json-glib.h>

#include "kestrel-engine.h"

G_BEGIN_DECLS

#define KESTREL_TYPE_WINDOW (kestrel_window_get_type ())

G_DECLARE_FINAL_TYPE (KestrelWindow, kestrel_window, KESTREL, WINDOW, AdwApplicationWindow)

/* @settings configures the engine and the graphs (it may be a delayed
 * GSettings holding this run's command-line overrides); the window's size
 * is kept in its own, never delayed, org.kestrel.Kestrel settings. */
KestrelWindow *kestrel_window_new            (GtkApplication *application,
                                              GSettings      *settings);
/* Starts the pipeline in a worker thread. @crash_marker is the engine's
 * state file (see kestrel_engine_start()); @paused pauses it at once.
 * ::started is emitted when it runs, or failed (with the reason). */
void           kestrel_window_start          (KestrelWindow  *self,
                                              const char     *crash_marker,
                                              gboolean        paused);
/* Why the last start failed (the engine's message), or NULL when it did
 * not (or none has finished yet). Transfer none. */
const char    *kestrel_window_get_start_error (KestrelWindow *self);
/* NULL until the pipeline has started. Transfer none. */
KestrelEngine *kestrel_window_get_engine     (KestrelWindow  *self);
/* Stops the pipeline and waits for it (the crash marker goes). */
void           kestrel_window_stop           (KestrelWindow  *self);

/* The scripted run's report: frames, faces, graph points, settings, CPU. */
JsonNode      *kestrel_window_build_report   (KestrelWindow  *self);
/* Renders the window as it looks now to a PNG file. */
gboolean       kestrel_window_save_png       (KestrelWindow  *self,
                                              const char     *path,
                                              GError        **error);
/* Exports the graphs by @path's extension: their history as CSV (.csv), or
 * what they show as a picture (.png, .svg); see kestrel-graph-export.h.
 * The window's Export menu items ask for the file and call this. */
gboolean       kestrel_window_export_graphs  (KestrelWindow  *self,
                                              const char     *path,
                                              GError        **error);

G_END_DECLS
