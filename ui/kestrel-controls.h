/* kestrel-controls.h — the tuning panel: model, precision, source,
 * optimisation level, threads, batch, processor budget and the rollback to
 * the reference path, as rows bound to the org.kestrel.Kestrel settings.
 *
 * The rows follow the settings both ways, so a change made elsewhere
 * (`gsettings set`, another window) moves them. With an engine attached,
 * changes of the keys the engine uses become one
 * kestrel_engine_reconfigure() per main-loop turn, and at most about five
 * a second while a slider is dragged; reconfiguring only queues, so the
 * panel never waits on the engine.
 */
#pragma once

#include <gtk/gtk.h>

#include "kestrel-engine.h"

G_BEGIN_DECLS

#define KESTREL_TYPE_CONTROLS (kestrel_controls_get_type ())

G_DECLARE_FINAL_TYPE (KestrelControls, kestrel_controls, KESTREL, CONTROLS, GtkWidget)

/* @settings: org.kestrel.Kestrel (or a compatible schema). */
GtkWidget     *kestrel_controls_new        (GSettings       *settings);
GSettings     *kestrel_controls_get_settings (KestrelControls *self);
/* NULL detaches. The panel keeps a reference. When the engine rolls back
 * after a failed check (::event ROLLBACK), the panel sets "level" to
 * scalar, so the level row shows what runs and the next reconfiguration
 * does not undo it. Safe mode leaves the settings alone (the window shows
 * it); the next reconfiguration applies the settings' level again. */
void           kestrel_controls_set_engine (KestrelControls *self,
                                            KestrelEngine   *engine);
KestrelEngine *kestrel_controls_get_engine (KestrelControls *self);
/* Safe mode (set by the window): the engine runs the reference path while
 * the level setting keeps the user's choice; the optimisation row's
 * subtitle says what runs. */
void           kestrel_controls_set_safe_mode (KestrelControls *self,
                                               gboolean         safe_mode);
/* The window's sample tick hands each snapshot over: while an INT8
 * calibration runs the precision row's subtitle shows its progress, and
 * below FP32 the agreement of the last check against FP32. */
void           kestrel_controls_show_snapshot (KestrelControls              *self,
                                               const KestrelMetricsSnapshot *snapshot);

G_END_DECLS
