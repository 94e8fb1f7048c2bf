/* kestrel-bench-plot-private.h — what the chart drawings share: text, a
 * logarithmic time axis, a wrapped legend. Everything in pixels of the
 * cairo context the plot draws on. */
#pragma once

#include <pango/pangocairo.h>

#include "kestrel-bench-plot.h"

G_BEGIN_DECLS

#define PLOT_AXIS_HEIGHT 22     /* tick labels under a plot */
#define PLOT_LEGEND_ROW 18
#define PLOT_MARKER 4.0         /* dot radius */

typedef struct {
  cairo_t *cr;
  PangoLayout *layout;
  const KestrelBenchPalette *palette;
  int width, height;
} Plot;

void plot_set_color (cairo_t *cr, const GdkRGBA *color, double alpha);
/* Text size in pixels. */
void plot_text_size (Plot *p, const char *text, int *width, int *height);
/* Text with its top-left corner at (x, y). */
void plot_text (Plot *p, const char *text, double x, double y, const GdkRGBA *color, double alpha);
/* A dot, filled or a ring. */
void plot_marker (cairo_t *cr, double x, double y, double radius, gboolean filled);
/* Centred, wrapped at the plot's width: for a plot with nothing to show. */
void plot_message (Plot *p, const char *text);

/* A log10 axis across [x0, x0 + length]: whole decades around the data. */
typedef struct {
  double lo, hi;     /* log10 of the ends */
  double x0, length;
} PlotLogAxis;

void plot_log_axis_fit (PlotLogAxis *axis, double min_ms, double max_ms, double x0, double length);
double plot_log_axis_x (const PlotLogAxis *axis, double ms);
/* Vertical grid lines from top to bottom at 1, 2 and 5 of each decade,
 * labels ("0.5 ms") under bottom; labels that would overlap are left out. */
void plot_log_axis_draw (Plot *p, const PlotLogAxis *axis, double top, double bottom);

/* A legend entry: a swatch of `color` (a dot, a ring, a line, a dashed
 * line, or a line through a haloed dot: the Pareto front) and its text. */
typedef enum { LEGEND_DOT, LEGEND_RING, LEGEND_LINE, LEGEND_DASH, LEGEND_FRONT } PlotLegendMark;
typedef struct {
  PlotLegendMark mark;
  const GdkRGBA *color;
  const char *text;
} PlotLegendItem;

/* Rows the legend takes at `width` (entries flow left to right, wrapping). */
int plot_legend_rows (PangoLayout *layout, const PlotLegendItem *items, guint n, int width);
/* Draws it with its top at y; the rows it took. */
int plot_legend_draw (Plot *p, const PlotLegendItem *items, guint n, double y);
/* A layout for measuring text before there is a cairo context. */
PangoLayout *plot_measure_layout (const PangoFontDescription *font);

/* The cell of `r` with the same engine, precision, level, threads and
 * batch as `c`, or NULL. */
const KestrelBenchCell *plot_matching_cell (const KestrelBenchResult *r, const KestrelBenchCell *c);

int  plot_bars_height (const KestrelBenchResult *a, const KestrelBenchResult *b);
void plot_bars_draw (Plot *p, const KestrelBenchResult *a, const KestrelBenchResult *b);
int  plot_pareto_height (PangoLayout *layout, const KestrelBenchResult *a, const KestrelBenchResult *b, int width);
void plot_pareto_draw (Plot *p, const KestrelBenchResult *a, const KestrelBenchResult *b);
int  plot_scaling_height (PangoLayout *layout, const KestrelBenchResult *a, const KestrelBenchResult *b,
                          int width);
void plot_scaling_draw (Plot *p, const KestrelBenchResult *a, const KestrelBenchResult *b);

G_END_DECLS
