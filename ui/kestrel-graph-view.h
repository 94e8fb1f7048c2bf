/* kestrel-graph-view.h — a live graph of one or more sample histories.
 *
 * Each series is a KestrelRing of (time, value) samples with a label and a
 * CSS class that picks its colour ("accent", "success", "warning", "error",
 * "purple", "neutral"; see ui/style.css). The newest sample sits at the
 * right edge and the graph spans the last #KestrelGraphView:history-length
 * samples.
 *
 * Time runs along x: the right edge is now (kestrel_graph_view_set_time(),
 * or the newest sample) and the left edge #KestrelGraphView:history-length
 * times #KestrelGraphView:sample-interval before it, each sample at its own
 * age. Graphs given the same now, interval and history share one axis.
 *
 * Clicking a legend entry hides or shows its series; the pointer over the
 * plot shows the values under it in a tooltip and a marker.
 *
 * The view redraws itself on its own refresh tick (1 s by default), and only
 * while it is mapped and its window is not minimised; pushing samples never
 * queues a draw by itself. The application pushes at its own pace (or hands
 * over the rings of a metrics snapshot) and the view picks them up.
 */
#pragma once

#include <gtk/gtk.h>

#include "kestrel-ring.h"

G_BEGIN_DECLS

#define KESTREL_GRAPH_VIEW_MIN_HISTORY 2

#define KESTREL_TYPE_GRAPH_VIEW (kestrel_graph_view_get_type ())

G_DECLARE_FINAL_TYPE (KestrelGraphView, kestrel_graph_view, KESTREL, GRAPH_VIEW, GtkWidget)

GtkWidget   *kestrel_graph_view_new                (void);

/* Series. @css_class may be NULL for the next colour in the default cycle.
 * The series gets its own ring, sized to the history length. Returns the
 * series index. */
guint        kestrel_graph_view_add_series         (KestrelGraphView *self,
                                                    const char       *label,
                                                    const char       *css_class);
void         kestrel_graph_view_remove_all_series  (KestrelGraphView *self);
guint        kestrel_graph_view_get_n_series       (KestrelGraphView *self);
const char  *kestrel_graph_view_get_series_label   (KestrelGraphView *self,
                                                    guint             series);
void         kestrel_graph_view_set_series_label   (KestrelGraphView *self,
                                                    guint             series,
                                                    const char       *label);
/* Transfer none. */
KestrelRing *kestrel_graph_view_get_series_ring    (KestrelGraphView *self,
                                                    guint             series);
/* Draws from @ring (a reference is taken) instead of the series' own ring,
 * e.g. a ring of the latest metrics snapshot. The view never writes to or
 * resizes a ring it was given; it draws the newest history-length samples. */
void         kestrel_graph_view_set_series_ring    (KestrelGraphView *self,
                                                    guint             series,
                                                    KestrelRing      *ring);
/* Pushes onto the series' ring. Does not redraw: the next tick does. */
void         kestrel_graph_view_push               (KestrelGraphView *self,
                                                    guint             series,
                                                    gint64            time_us,
                                                    double            value);

/* What the view draws for @series, oldest first: at most history-length
 * samples, the value being the stacked top in stacked mode. Returns how many
 * were copied into @out (at most @n_max). */
guint        kestrel_graph_view_get_points         (KestrelGraphView  *self,
                                                    guint              series,
                                                    KestrelRingSample *out,
                                                    guint              n_max);
/* Whether @series is drawn (and counted in a stack and the scale); the
 * legend entry's toggle. */
gboolean     kestrel_graph_view_get_series_visible (KestrelGraphView *self,
                                                    guint             series);
void         kestrel_graph_view_set_series_visible (KestrelGraphView *self,
                                                    guint             series,
                                                    gboolean          visible);
/* The colour @series is drawn in (its legend swatch's CSS colour). */
void         kestrel_graph_view_get_series_color   (KestrelGraphView *self,
                                                    guint             series,
                                                    GdkRGBA          *color);

/* The time at the right edge, in g_get_monotonic_time() microseconds like
 * the samples; 0 (the default) for the newest sample's time. Does not
 * redraw: the next tick does. */
gint64       kestrel_graph_view_get_time           (KestrelGraphView *self);
void         kestrel_graph_view_set_time           (KestrelGraphView *self,
                                                    gint64            now_us);
guint        kestrel_graph_view_get_sample_interval (KestrelGraphView *self);
void         kestrel_graph_view_set_sample_interval (KestrelGraphView *self,
                                                     guint             interval_ms);

/* What the pointer shows. */
typedef struct
{
  guint  series;
  double value;  /* the series' own value, not its stacked top */
} KestrelGraphViewValue;

/* The visible series' samples nearest @time_us (within half a sample
 * interval). @values (free with g_free) gets one per series that has one,
 * in series order; @sample_time_us the time of the nearest of them.
 * FALSE when no series has a sample there. */
gboolean     kestrel_graph_view_query              (KestrelGraphView       *self,
                                                    gint64                  time_us,
                                                    KestrelGraphViewValue **values,
                                                    guint                  *n_values,
                                                    gint64                 *sample_time_us);
/* The text the tooltip shows at widget coordinates @x, @y: the age and
 * each visible series' value there (and the total when stacked); NULL
 * outside the plot or where there is no sample. */
char        *kestrel_graph_view_describe_at        (KestrelGraphView *self,
                                                    double            x,
                                                    double            y);

/* The y axis it draws: bottom, top and gridline step (any may be NULL). */
void         kestrel_graph_view_get_y_range        (KestrelGraphView *self,
                                                    double           *min,
                                                    double           *max,
                                                    double           *step);

guint        kestrel_graph_view_get_history_length (KestrelGraphView *self);
void         kestrel_graph_view_set_history_length (KestrelGraphView *self,
                                                    guint             length);
gboolean     kestrel_graph_view_get_stacked        (KestrelGraphView *self);
void         kestrel_graph_view_set_stacked        (KestrelGraphView *self,
                                                    gboolean          stacked);
gboolean     kestrel_graph_view_get_auto_scale     (KestrelGraphView *self);
void         kestrel_graph_view_set_auto_scale     (KestrelGraphView *self,
                                                    gboolean          auto_scale);
double       kestrel_graph_view_get_y_min          (KestrelGraphView *self);
void         kestrel_graph_view_set_y_min          (KestrelGraphView *self,
                                                    double            y_min);
double       kestrel_graph_view_get_y_max          (KestrelGraphView *self);
void         kestrel_graph_view_set_y_max          (KestrelGraphView *self,
                                                    double            y_max);
const char  *kestrel_graph_view_get_unit           (KestrelGraphView *self);
void         kestrel_graph_view_set_unit           (KestrelGraphView *self,
                                                    const char       *unit);
gboolean     kestrel_graph_view_get_show_reference (KestrelGraphView *self);
void         kestrel_graph_view_set_show_reference (KestrelGraphView *self,
                                                    gboolean          show);
double       kestrel_graph_view_get_reference_value (KestrelGraphView *self);
void         kestrel_graph_view_set_reference_value (KestrelGraphView *self,
                                                     double            value);
const char  *kestrel_graph_view_get_reference_label (KestrelGraphView *self);
void         kestrel_graph_view_set_reference_label (KestrelGraphView *self,
                                                     const char       *label);
gboolean     kestrel_graph_view_get_show_legend    (KestrelGraphView *self);
void         kestrel_graph_view_set_show_legend    (KestrelGraphView *self,
                                                    gboolean          show);
guint        kestrel_graph_view_get_refresh_interval (KestrelGraphView *self);
void         kestrel_graph_view_set_refresh_interval (KestrelGraphView *self,
                                                      guint             interval_ms);

/* Counters for tests and diagnostics: ticks that queued a draw, and
 * snapshots taken. Neither notifies. */
guint64      kestrel_graph_view_get_redraws_requested (KestrelGraphView *self);
guint64      kestrel_graph_view_get_redraws           (KestrelGraphView *self);

G_END_DECLS
