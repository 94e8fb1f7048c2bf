/* kestrel-graph-view-private.h — what the files of KestrelGraphView share.
 *
 * kestrel-graph-view.c is the widget (properties, refresh tick),
 * kestrel-graph-view-legend.c the legend and its toggles,
 * kestrel-graph-view-pointer.c the tooltip under the pointer,
 * kestrel-graph-view-series.c the data model (which sample is drawn where)
 * and kestrel-graph-view-draw.c the size, axes, labels and lines.
 */
#pragma once

#include "kestrel-graph-view.h"

G_BEGIN_DECLS

typedef struct
{
  KestrelRing *ring;
  gboolean     owns_ring;  /* created here, so resized with the history */
  char        *label;
  gboolean     hidden;     /* switched off in the legend */
  GtkWidget   *item;       /* legend entry, a toggle: swatch, name, latest value */
  GtkWidget   *swatch;
  GtkWidget   *name;
  GtkWidget   *value;
  /* what the last tick saw, to skip ticks with nothing new */
  KestrelRing *seen_ring;
  guint        seen_length;
  gint64       seen_newest;
} Series;

struct _KestrelGraphView
{
  GtkWidget    parent_instance;

  GPtrArray   *series;            /* of Series* */
  GtkWidget   *legend;
  GtkWidget   *reference_item;
  GtkWidget   *reference_swatch;
  GtkWidget   *reference_name;

  char        *unit;
  char        *reference_label;
  double       y_min;
  double       y_max;
  double       reference_value;
  guint        history_length;
  guint        refresh_interval;  /* ms */
  guint        sample_interval;   /* ms between samples: the time axis */
  gint64       now_us;            /* the right edge; 0: the newest sample */
  gint64       seen_now;          /* what the last tick drew for it */
  gboolean     seen_in_view;

  /* the pointer over the plot, for the marker and the tooltip */
  gboolean     hovering;
  double       hover_x;
  double       hover_y;

  guint        stacked : 1;
  guint        auto_scale : 1;
  guint        show_reference : 1;
  guint        show_legend : 1;
  guint        minimized : 1;

  guint        refresh_source;
  GdkSurface  *toplevel;          /* watched while mapped */
  gulong       toplevel_state_handler;

  guint64      redraws_requested;
  guint64      redraws;
};

/* A sample as drawn: its band from base to top (base 0 unstacked). */
typedef struct
{
  gint64 time_us;
  double value;
  double base;
  double top;
} DrawnPoint;

/* Where the plot and its labels go, and the y scale, for one size. */
typedef struct
{
  graphene_rect_t plot;
  int             label_height;
  double          lo;
  double          hi;
  double          step;
  guint           decimals;
  guint           n_lines;  /* horizontal gridlines above the bottom one */
} Geometry;

static inline Series *
get_series (KestrelGraphView *self,
            guint             index)
{
  if (index >= self->series->len)
    return NULL;
  return g_ptr_array_index (self->series, index);
}

/* kestrel-graph-view-series.c */
void     _kestrel_graph_view_series_free       (gpointer           data);
guint    _kestrel_graph_view_visible_length    (KestrelGraphView  *self,
                                                Series            *s);
gint64   _kestrel_graph_view_span_us           (KestrelGraphView  *self);
gint64   _kestrel_graph_view_right_time        (KestrelGraphView  *self);
/* The finite samples of @series among its newest history-length, oldest
 * first (at most @n_max, the newest ones). */
guint    _kestrel_graph_view_get_drawn         (KestrelGraphView  *self,
                                                guint              series,
                                                DrawnPoint        *out,
                                                guint              n_max);
gint64   _kestrel_graph_view_x_to_time         (KestrelGraphView  *self,
                                                const graphene_rect_t *plot,
                                                double             x);
gboolean _kestrel_graph_view_take_changes      (KestrelGraphView  *self);

/* kestrel-graph-view-legend.c */
void     _kestrel_graph_view_legend_init       (KestrelGraphView  *self);
void     _kestrel_graph_view_legend_add        (KestrelGraphView  *self,
                                                Series            *s,
                                                const char        *css_class);
void     _kestrel_graph_view_update_legend_visibility (KestrelGraphView *self);
void     _kestrel_graph_view_update_legend_values     (KestrelGraphView *self);

/* kestrel-graph-view-pointer.c */
void     _kestrel_graph_view_pointer_init      (KestrelGraphView  *self);
gboolean _kestrel_graph_view_query_tooltip     (GtkWidget         *widget,
                                                int                x,
                                                int                y,
                                                gboolean           keyboard,
                                                GtkTooltip        *tooltip);

/* kestrel-graph-view-draw.c */
char    *_kestrel_graph_view_format_latest     (KestrelGraphView  *self,
                                                double             value);
void     _kestrel_graph_view_compute_geometry  (KestrelGraphView  *self,
                                                int                width,
                                                int                height,
                                                Geometry          *g);
void     _kestrel_graph_view_measure           (GtkWidget         *widget,
                                                GtkOrientation     orientation,
                                                int                for_size,
                                                int               *minimum,
                                                int               *natural,
                                                int               *minimum_baseline,
                                                int               *natural_baseline);
void     _kestrel_graph_view_size_allocate     (GtkWidget         *widget,
                                                int                width,
                                                int                height,
                                                int                baseline);
double   _kestrel_graph_view_time_to_x         (KestrelGraphView  *self,
                                                const graphene_rect_t *plot,
                                                gint64             right_time,
                                                gint64             time_us);
void     _kestrel_graph_view_snapshot          (GtkWidget         *widget,
                                                GtkSnapshot       *snapshot);

G_END_DECLS
