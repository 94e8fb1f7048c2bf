/* kestrel-graph-view-draw.c — KestrelGraphView's axes, labels and lines:
 * the y scale, the size request and the layout of plot and labels for a
 * size, and the snapshot.
 *
 * Drawing. Gridlines are colour nodes (crisp, pixel-aligned, no path code)
 * and text is PangoLayout nodes. The series themselves are drawn in one
 * cairo node per frame: GTK 4.8 has no GskPath, and a polyline of up to 600
 * points per series as rotated thin rectangles would be thousands of
 * transform nodes with visible gaps and overlaps at every joint, and stacked
 * mode needs filled polygons between curves, which colour nodes cannot
 * express at all. One antialiased cairo path per series, with round joins,
 * costs a small image surface (the plot area) once a second.
 *
 * Colours come from CSS, never from code: each legend entry has a swatch
 * node that carries the series' style class ("accent", "warning", ...), and
 * the line is drawn in that swatch's colour, so light and dark styles, high
 * contrast and the application's CSS all apply to the plot and the legend
 * alike. The legend is made of real widgets (labels are read by screen
 * readers and follow the font settings); it stays in the widget tree when
 * hidden, only invisible, so the swatches keep their style.
 */
#include "config.h"

#include <math.h>
#include <glib/gi18n-lib.h>

#include "kestrel-graph-view-private.h"
#include "kestrel-ui.h"

#define LINE_WIDTH        2.0
#define REFERENCE_WIDTH   1.5
#define FILL_ALPHA        0.10f
#define STACKED_ALPHA     0.30f
#define GRID_ALPHA        0.10f
#define AXIS_ALPHA        0.25f
#define LABEL_ALPHA       0.65f
#define GRID_PIXELS       30   /* at least ~30 px between horizontal gridlines */
#define GUTTER_GAP        6    /* between the y labels and the plot */
#define LEGEND_SPACING    6
#define LABEL_GAP         2
#define MIN_PLOT_HEIGHT   48
#define NAT_PLOT_HEIGHT   120
#define MIN_WIDTH         120
#define NAT_WIDTH         320

/* ---------------------------------------------------------------- scale */

/* Heckbert's "nice numbers", for the spacing of the vertical gridlines:
 * 1, 2 or 5 times a power of ten, rounded to the nearest (@round) or up. */
static double
nice_number (double   x,
             gboolean round)
{
  double exponent = floor (log10 (x));
  double power = pow (10.0, exponent);
  double f = x / power;
  double nf;

  if (round)
    nf = f < 1.5 ? 1.0 : f < 3.0 ? 2.0 : f < 7.0 ? 5.0 : 10.0;
  else
    nf = f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0;
  return nf * power;
}

static guint
max_intervals (double plot_height)
{
  return CLAMP ((guint) (plot_height / GRID_PIXELS), 2, 5);
}

/* The smallest step of 1, 2, 2.5 or 5 times a power of ten that splits
 * lo..hi into at most @max intervals; with @snap, lo and hi are first
 * widened to multiples of the step. Smallest, so the gridlines fill the
 * height: Heckbert's rounding alone often leaves only two. The 2.5 gives
 * CPU graphs their quarters. */
static double
choose_step (double   lo,
             double   hi,
             guint    max,
             gboolean snap)
{
  static const double mantissas[] = { 1.0, 2.0, 2.5, 5.0 };
  double raw = (hi - lo) / max;
  double power = pow (10.0, floor (log10 (raw)));

  for (guint e = 0; e < 3; e++, power *= 10.0)
    for (guint i = 0; i < G_N_ELEMENTS (mantissas); i++)
      {
        double step = mantissas[i] * power;
        double n;

        if (step < raw * (1.0 - 1e-9))
          continue;
        /* The epsilons keep 0.3 / 0.1 = 2.9999... from counting as 3 and
         * 3.0000...4 as 4. */
        if (snap)
          n = ceil (hi / step - 1e-9) - floor (lo / step + 1e-9);
        else
          n = ceil ((hi - lo) / step - 1e-9);
        if (n <= max)
          return step;
      }
  return power;
}

static void
compute_scale (KestrelGraphView *self,
               guint             intervals,
               double           *out_min,
               double           *out_max,
               double           *out_step)
{
  double lo, hi, step;

  if (self->auto_scale)
    {
      g_autofree DrawnPoint *points = NULL;
      gboolean any = FALSE;

      /* Zero is always in view: these are costs, and a graph whose bottom
       * is not zero exaggerates every wobble. */
      lo = hi = 0.0;
      points = g_new (DrawnPoint, self->history_length);
      for (guint i = 0; i < self->series->len; i++)
        {
          guint n;

          /* A series switched off in the legend leaves the scale too. */
          if (get_series (self, i)->hidden)
            continue;
          n = _kestrel_graph_view_get_drawn (self, i, points, self->history_length);
          for (guint k = 0; k < n; k++)
            {
              lo = MIN (lo, MIN (points[k].base, points[k].top));
              hi = MAX (hi, MAX (points[k].base, points[k].top));
              any = TRUE;
            }
        }
      if (self->show_reference && isfinite (self->reference_value))
        {
          lo = MIN (lo, self->reference_value);
          hi = MAX (hi, self->reference_value);
        }
      /* Nothing yet: the fixed range, rather than a magnified zero. */
      if (!any && hi - lo <= 0.0)
        {
          lo = MIN (self->y_min, 0.0);
          hi = self->y_max;
        }
      if (hi - lo <= 0.0)
        hi = lo + 1.0;

      step = choose_step (lo, hi, intervals, TRUE);
      lo = floor (lo / step + 1e-9) * step;
      hi = ceil (hi / step - 1e-9) * step;
    }
  else
    {
      lo = self->y_min;
      hi = self->y_max;
      if (hi - lo <= 0.0)
        hi = lo + 1.0;
      step = choose_step (lo, hi, intervals, FALSE);
    }

  if (out_min)
    *out_min = lo;
  if (out_max)
    *out_max = hi;
  if (out_step)
    *out_step = step;
}

/* ---------------------------------------------------------------- text */

/* Enough decimals to tell the gridlines apart: 1 for 0.5, 2 for 0.25. */
static guint
decimals_for (double step)
{
  for (guint d = 0; d < 6; d++)
    {
      double scaled = step * pow (10.0, d);

      if (fabs (scaled - round (scaled)) < 1e-6 * scaled)
        return d;
    }
  return 6;
}

static char *
format_value (KestrelGraphView *self,
              double            value,
              guint             decimals)
{
  /* "-0" for a value that rounds to zero reads as a bug. */
  if (fabs (value) < 0.5 * pow (10.0, -(double) decimals))
    value = 0.0;
  if (self->unit != NULL && self->unit[0] != '\0')
    /* Translators: a value and its unit on a graph axis, e.g. "50 %" */
    return g_strdup_printf (C_("graph value", "%.*f %s"), decimals, value, self->unit);
  return g_strdup_printf ("%.*f", decimals, value);
}

/* Enough digits to see a change without flicker of noise: three
 * significant figures, whole numbers from 100 up. */
char *
_kestrel_graph_view_format_latest (KestrelGraphView *self,
                                   double            value)
{
  double a = fabs (value);
  guint decimals = a >= 100.0 ? 0 : a >= 10.0 ? 1 : 2;

  return format_value (self, value, decimals);
}

static char *
format_span (double seconds)
{
  if (seconds < 119.5)
    /* Translators: the age of the oldest point on a graph, in seconds */
    return g_strdup_printf (_("%.0f s"), seconds);
  if (fmod (seconds, 60.0) < 0.5)
    /* Translators: the age of the oldest point on a graph, in minutes */
    return g_strdup_printf (_("%.0f min"), seconds / 60.0);
  return g_strdup_printf (_("%.1f min"), seconds / 60.0);
}

static PangoLayout *
create_axis_layout (KestrelGraphView *self)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);
  PangoAttrList *attrs = pango_attr_list_new ();

  pango_attr_list_insert (attrs, pango_attr_scale_new (PANGO_SCALE_SMALL));
  /* Tabular figures, so "10" and "11" are as wide and labels do not shift. */
  pango_attr_list_insert (attrs, pango_attr_font_features_new ("tnum=1"));
  pango_layout_set_attributes (layout, attrs);
  pango_attr_list_unref (attrs);
  return layout;
}

static int
axis_label_height (KestrelGraphView *self)
{
  g_autoptr(PangoLayout) layout = create_axis_layout (self);
  int height;

  pango_layout_set_text (layout, "0", -1);
  pango_layout_get_pixel_size (layout, NULL, &height);
  return height;
}

/* --------------------------------------------------------------- layout */

/* Top to bottom: the legend; half a label, as the top y label is centred on
 * the top gridline; the plot; the time labels. Left to right: the y labels,
 * in a gutter of their own (inside the plot, the data ran through them), and
 * the plot. The gutter's width depends on the labels, hence on the scale,
 * which depends on the plot's height: the height comes first. */
void
_kestrel_graph_view_compute_geometry (KestrelGraphView *self,
                                      int               width,
                                      int               height,
                                      Geometry         *g)
{
  g_autoptr(PangoLayout) layout = NULL;
  int legend_height = 0, top, bottom, gutter = 0;

  g->label_height = axis_label_height (self);
  if (gtk_widget_get_visible (self->legend))
    gtk_widget_measure (self->legend, GTK_ORIENTATION_VERTICAL, width,
                        NULL, &legend_height, NULL, NULL);

  top = legend_height + (legend_height > 0 ? LEGEND_SPACING : 0) + (g->label_height + 1) / 2;
  bottom = height - g->label_height - LABEL_GAP;
  compute_scale (self, max_intervals (bottom - top), &g->lo, &g->hi, &g->step);
  g->decimals = decimals_for (g->step);
  g->n_lines = (guint) floor ((g->hi - g->lo) / g->step + 1e-9);

  layout = create_axis_layout (self);
  for (guint i = 0; i <= g->n_lines; i++)
    {
      g_autofree char *label = format_value (self, g->lo + i * g->step, g->decimals);
      int label_width;

      pango_layout_set_text (layout, label, -1);
      pango_layout_get_pixel_size (layout, &label_width, NULL);
      gutter = MAX (gutter, label_width + GUTTER_GAP);
    }
  gutter = MIN (gutter, width / 3);

  graphene_rect_init (&g->plot, gutter, top, MAX (width - gutter, 1), MAX (bottom - top, 1));
}

void
_kestrel_graph_view_measure (GtkWidget      *widget,
                             GtkOrientation  orientation,
                             int             for_size,
                             int            *minimum,
                             int            *natural,
                             int            *minimum_baseline,
                             int            *natural_baseline)
{
  KestrelGraphView *self = KESTREL_GRAPH_VIEW (widget);
  int legend_min = 0, legend_nat = 0;

  if (gtk_widget_get_visible (self->legend))
    gtk_widget_measure (self->legend, orientation, for_size,
                        &legend_min, &legend_nat, NULL, NULL);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = MAX (legend_min, MIN_WIDTH);
      *natural = MAX (legend_nat, NAT_WIDTH);
    }
  else
    {
      int extra = axis_label_height (self) * 3 / 2 + LABEL_GAP + 1;

      if (legend_nat > 0)
        extra += LEGEND_SPACING;
      *minimum = legend_min + extra + MIN_PLOT_HEIGHT;
      *natural = legend_nat + extra + NAT_PLOT_HEIGHT;
    }
}

void
_kestrel_graph_view_size_allocate (GtkWidget *widget,
                                   int        width,
                                   int        height,
                                   int        baseline)
{
  KestrelGraphView *self = KESTREL_GRAPH_VIEW (widget);
  int legend_height = 0;

  if (gtk_widget_get_visible (self->legend))
    {
      gtk_widget_measure (self->legend, GTK_ORIENTATION_VERTICAL, width,
                          NULL, &legend_height, NULL, NULL);
      gtk_widget_allocate (self->legend, width, legend_height, -1, NULL);
    }
}

/* -------------------------------------------------------------- drawing */

static inline double
value_to_y (const graphene_rect_t *plot,
            double                 lo,
            double                 hi,
            double                 value)
{
  return (double) plot->origin.y + (double) plot->size.height * (1.0 - (value - lo) / (hi - lo));
}

double
_kestrel_graph_view_time_to_x (KestrelGraphView      *self,
                               const graphene_rect_t *plot,
                               gint64                 right_time,
                               gint64                 time_us)
{
  double right = (double) plot->origin.x + (double) plot->size.width - LINE_WIDTH / 2.0;
  double left = (double) plot->origin.x;

  /* The left edge is exactly history-length sample intervals old. */
  return right - (right - left) * (double) (right_time - time_us) /
                 (double) _kestrel_graph_view_span_us (self);
}

/* The inverse of _kestrel_graph_view_time_to_x(). */
gint64
_kestrel_graph_view_x_to_time (KestrelGraphView      *self,
                               const graphene_rect_t *plot,
                               double                 x)
{
  double right = (double) plot->origin.x + (double) plot->size.width - LINE_WIDTH / 2.0;
  double left = (double) plot->origin.x;
  double fraction = (right - x) / MAX (right - left, 1.0);

  return _kestrel_graph_view_right_time (self) -
         (gint64) llround (fraction * (double) _kestrel_graph_view_span_us (self));
}

static void
append_label (GtkSnapshot *snapshot,
              PangoLayout *layout,
              const char  *text,
              double       x,
              double       y,
              float        xalign,
              const GdkRGBA *color)
{
  int width;

  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, &width, NULL);
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (round (x - (double) xalign * width), round (y)));
  gtk_snapshot_append_layout (snapshot, layout, color);
  gtk_snapshot_restore (snapshot);
}

static void
draw_grid (KestrelGraphView      *self,
           GtkSnapshot           *snapshot,
           const Geometry        *g,
           const GdkRGBA         *fg)
{
  const graphene_rect_t *plot = &g->plot;
  g_autoptr(PangoLayout) layout = create_axis_layout (self);
  GdkRGBA grid = *fg, axis = *fg, text = *fg;
  double span, vstep, middle;
  gint64 right_time;

  grid.alpha *= GRID_ALPHA;
  axis.alpha *= AXIS_ALPHA;
  text.alpha *= LABEL_ALPHA;

  /* Horizontal lines, their values right-aligned in the gutter and centred
   * on the line. Zero is the axis and a little stronger. */
  for (guint i = 0; i <= g->n_lines; i++)
    {
      double v = g->lo + i * g->step;
      double y = floor (value_to_y (plot, g->lo, g->hi, v));
      g_autofree char *label = format_value (self, v, g->decimals);

      gtk_snapshot_append_color (snapshot, fabs (v) < g->step * 1e-6 ? &axis : &grid,
                                 &GRAPHENE_RECT_INIT (plot->origin.x, y, plot->size.width, 1));
      append_label (snapshot, layout, label, (double) plot->origin.x - GUTTER_GAP,
                    y + 0.5 - g->label_height / 2.0, 1.0f, &text);
    }

  /* Vertical lines every "nice" number of seconds back from now. The span
   * is history-length sample intervals, the same for every graph given the
   * same settings: never estimated from a graph's own data. */
  span = _kestrel_graph_view_span_us (self) / 1e6;
  right_time = _kestrel_graph_view_right_time (self);
  vstep = nice_number (span / 6.0, TRUE);
  for (guint k = 1; k * vstep < span - 1e-9; k++)
    {
      double x = floor (_kestrel_graph_view_time_to_x (self, plot, right_time,
                                                       right_time - (gint64) llround (k * vstep * 1e6)));

      gtk_snapshot_append_color (snapshot, &grid,
                                 &GRAPHENE_RECT_INIT (x, plot->origin.y, 1, plot->size.height));
    }

  /* Time labels under the plot: the age of the left edge, of the vertical
   * line nearest the middle, and "now". */
  middle = round (span / 2.0 / vstep) * vstep;
  {
    double y = (double) plot->origin.y + (double) plot->size.height + LABEL_GAP;
    g_autofree char *left = format_span (span);
    g_autofree char *mid = format_span (middle);

    append_label (snapshot, layout, left, plot->origin.x, y, 0.0f, &text);
    if (middle > 0 && middle < span - 1e-9)
      append_label (snapshot, layout, mid,
                    _kestrel_graph_view_time_to_x (self, plot, right_time,
                                                   right_time - (gint64) llround (middle * 1e6)),
                    y, 0.5f, &text);
    /* Translators: the right edge of a live graph */
    append_label (snapshot, layout, _("now"), (double) plot->origin.x + (double) plot->size.width, y, 1.0f, &text);
  }
}

static void
trace_tops (KestrelGraphView      *self,
            cairo_t               *cr,
            const graphene_rect_t *plot,
            const Geometry        *g,
            gint64                 right_time,
            const DrawnPoint      *points,
            guint                  n)
{
  for (guint k = 0; k < n; k++)
    cairo_line_to (cr, _kestrel_graph_view_time_to_x (self, plot, right_time, points[k].time_us),
                   value_to_y (plot, g->lo, g->hi, points[k].top));
}

/* The marker under the pointer: a vertical line at the nearest sample and
 * a dot on each visible series there (on its band's top when stacked). */
static void
draw_hover (KestrelGraphView      *self,
            cairo_t               *cr,
            const Geometry        *g,
            gint64                 right_time,
            const GdkRGBA         *fg)
{
  const graphene_rect_t *plot = &g->plot;
  g_autofree KestrelGraphViewValue *values = NULL;
  guint n_values = 0;
  gint64 sample_time;
  double x, base = 0.0;
  GdkRGBA line = *fg;

  if (!self->hovering ||
      !graphene_rect_contains_point (plot, &GRAPHENE_POINT_INIT (self->hover_x, self->hover_y)) ||
      !kestrel_graph_view_query (self, _kestrel_graph_view_x_to_time (self, plot, self->hover_x),
                                 &values, &n_values, &sample_time))
    return;

  x = _kestrel_graph_view_time_to_x (self, plot, right_time, sample_time);
  line.alpha *= AXIS_ALPHA;
  gdk_cairo_set_source_rgba (cr, &line);
  cairo_set_line_width (cr, 1.0);
  cairo_new_path (cr);
  cairo_move_to (cr, floor (x) + 0.5, plot->origin.y);
  cairo_line_to (cr, floor (x) + 0.5, plot->origin.y + plot->size.height);
  cairo_stroke (cr);

  for (guint k = 0; k < n_values; k++)
    {
      GdkRGBA color;
      double top = values[k].value + (self->stacked ? base : 0.0);

      base = top;
      kestrel_graph_view_get_series_color (self, values[k].series, &color);
      gdk_cairo_set_source_rgba (cr, &color);
      cairo_new_path (cr);
      cairo_arc (cr, x, value_to_y (plot, g->lo, g->hi, top), LINE_WIDTH * 1.75, 0, 2 * G_PI);
      cairo_fill (cr);
    }
}

static void
draw_series (KestrelGraphView      *self,
             GtkSnapshot           *snapshot,
             const Geometry        *g,
             const GdkRGBA         *fg)
{
  const graphene_rect_t *plot = &g->plot;
  guint n_series = self->series->len;
  g_autofree DrawnPoint **points = g_new0 (DrawnPoint *, n_series + 1);
  g_autofree guint *n = g_new0 (guint, n_series + 1);
  graphene_rect_t bounds;
  cairo_t *cr;
  double zero_y = value_to_y (plot, g->lo, g->hi, CLAMP (0.0, g->lo, g->hi));
  gint64 right_time = _kestrel_graph_view_right_time (self);
  gboolean any = self->show_reference;
  gboolean filled = FALSE;

  for (guint i = 0; i < n_series; i++)
    {
      if (get_series (self, i)->hidden)
        continue;
      points[i] = g_new (DrawnPoint, self->history_length);
      n[i] = _kestrel_graph_view_get_drawn (self, i, points[i], self->history_length);
      any |= n[i] > 0;
    }
  if (!any)
    goto out;

  /* Room above and below the plot for half a line at the extremes. */
  graphene_rect_inset_r (plot, 0, -LINE_WIDTH, &bounds);
  cr = gtk_snapshot_append_cairo (snapshot, &bounds);
  cairo_rectangle (cr, bounds.origin.x, bounds.origin.y, bounds.size.width, bounds.size.height);
  cairo_clip (cr);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);

  /* Fills first, so no fill covers another series' line. A stacked band
   * lies between its top and its base at each of its samples; an
   * unstacked fill reaches down to zero. */
  for (guint i = 0; i < n_series; i++)
    {
      GdkRGBA color;

      if (n[i] < 2)
        continue;
      /* Unstacked, only the first series shown (the subject: Kestrel's own
       * cost) is filled; overlapping fills of the others turned the plot
       * muddy. */
      if (!self->stacked && filled)
        continue;
      filled = TRUE;
      kestrel_graph_view_get_series_color (self, i, &color);
      color.alpha *= self->stacked ? STACKED_ALPHA : FILL_ALPHA;

      cairo_new_path (cr);
      trace_tops (self, cr, plot, g, right_time, points[i], n[i]);
      for (guint k = n[i]; k-- > 0;)
        cairo_line_to (cr, _kestrel_graph_view_time_to_x (self, plot, right_time, points[i][k].time_us),
                       self->stacked ? value_to_y (plot, g->lo, g->hi, points[i][k].base) : zero_y);
      cairo_close_path (cr);
      gdk_cairo_set_source_rgba (cr, &color);
      cairo_fill (cr);
    }

  /* Lines. Stacked, the top series goes first and each one below is drawn
   * over it: where a band is thinner than the line (a 0.01 ms decode on a
   * 5 ms inference) its line lies on the one below, and the edge shows the
   * colour of the band that has the height, not of the thin one on top. */
  cairo_set_line_width (cr, LINE_WIDTH);
  for (guint j = 0; j < n_series; j++)
    {
      guint i = self->stacked ? n_series - 1 - j : j;
      GdkRGBA color;

      if (n[i] == 0)
        continue;
      kestrel_graph_view_get_series_color (self, i, &color);
      gdk_cairo_set_source_rgba (cr, &color);
      cairo_new_path (cr);
      if (n[i] == 1)
        {
          /* a lone sample is a dot, not nothing */
          cairo_arc (cr, _kestrel_graph_view_time_to_x (self, plot, right_time, points[i][0].time_us),
                     value_to_y (plot, g->lo, g->hi, points[i][0].top),
                     LINE_WIDTH, 0, 2 * G_PI);
          cairo_fill (cr);
          continue;
        }
      trace_tops (self, cr, plot, g, right_time, points[i], n[i]);
      cairo_stroke (cr);
    }

  if (self->show_reference && isfinite (self->reference_value))
    {
      static const double dashes[] = { 6.0, 4.0 };
      double y = value_to_y (plot, g->lo, g->hi, self->reference_value);
      GdkRGBA color;

      kestrel_ui_get_color (self->reference_swatch, &color);
      gdk_cairo_set_source_rgba (cr, &color);
      cairo_set_line_width (cr, REFERENCE_WIDTH);
      cairo_set_line_cap (cr, CAIRO_LINE_CAP_BUTT);
      cairo_set_dash (cr, dashes, G_N_ELEMENTS (dashes), 0);
      cairo_new_path (cr);
      cairo_move_to (cr, plot->origin.x, y);
      cairo_line_to (cr, plot->origin.x + plot->size.width, y);
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);
    }

  draw_hover (self, cr, g, right_time, fg);
  cairo_destroy (cr);

out:
  for (guint i = 0; i < n_series; i++)
    g_free (points[i]);
}

void
_kestrel_graph_view_snapshot (GtkWidget   *widget,
                              GtkSnapshot *snapshot)
{
  KestrelGraphView *self = KESTREL_GRAPH_VIEW (widget);
  Geometry g;
  GdkRGBA fg;

  self->redraws++;

  if (gtk_widget_get_visible (self->legend))
    gtk_widget_snapshot_child (widget, self->legend, snapshot);

  _kestrel_graph_view_compute_geometry (self, gtk_widget_get_width (widget), gtk_widget_get_height (widget), &g);
  kestrel_ui_get_color (widget, &fg);

  draw_grid (self, snapshot, &g, &fg);
  draw_series (self, snapshot, &g, &fg);
}
