/* kestrel-graph-view-private.h — what the files of KestrelGraphView share.
 *
 * kestrel-graph-view.c is the widget (properties, legend, refresh tick),
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
  GtkWidget   *item;       /* legend entry: swatch, name, latest value */
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
gboolean _kestrel_graph_view_sample_at_offset  (KestrelGraphView  *self,
                                                Series            *s,
                                                guint              offset,
                                                KestrelRingSample *out);
guint    _kestrel_graph_view_visible_length    (KestrelGraphView  *self,
                                                Series            *s);
double   _kestrel_graph_view_stacked_value     (KestrelGraphView  *self,
                                                guint              series,
                                                guint              offset);
double   _kestrel_graph_view_value_at          (KestrelGraphView  *self,
                                                guint              series,
                                                guint              offset);
double   _kestrel_graph_view_estimate_interval (KestrelGraphView  *self);
gboolean _kestrel_graph_view_take_changes      (KestrelGraphView  *self);

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
void     _kestrel_graph_view_snapshot          (GtkWidget         *widget,
                                                GtkSnapshot       *snapshot);

G_END_DECLS
