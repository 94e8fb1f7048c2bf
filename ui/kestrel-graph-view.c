/* kestrel-graph-view.c — see kestrel-graph-view.h.
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
 *
 * Redraws. Samples arrive at their own pace and the view only looks at them
 * on its refresh tick: a timeout, not a frame-clock tick callback, because a
 * tick callback keeps the frame clock running at the display rate and an
 * idle Kestrel must cost nothing. Whole-second intervals use
 * g_timeout_add_seconds(), which GLib aligns across the process, so several
 * graphs wake up together and share one frame. The timeout exists only
 * while the view is mapped and its toplevel is not minimised; a tick that
 * finds no new sample queues nothing.
 */
#include "config.h"

#include <math.h>
#include <glib/gi18n-lib.h>

#include "kestrel-graph-view.h"
#include "kestrel-ui.h"

#define LINE_WIDTH        2.0
#define REFERENCE_WIDTH   1.5
#define FILL_ALPHA        0.10f
#define STACKED_ALPHA     0.30f
#define GRID_ALPHA        0.10f
#define AXIS_ALPHA        0.25f
#define LABEL_ALPHA       0.65f
#define LEGEND_SPACING    6
#define LABEL_GAP         2
#define MIN_PLOT_HEIGHT   48
#define NAT_PLOT_HEIGHT   120
#define MIN_WIDTH         120
#define NAT_WIDTH         320
#define GRID_PIXELS       30   /* at least ~30 px between horizontal gridlines */
#define GUTTER_GAP        6    /* between the y labels and the plot */

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

enum {
  PROP_0,
  PROP_HISTORY_LENGTH,
  PROP_STACKED,
  PROP_AUTO_SCALE,
  PROP_Y_MIN,
  PROP_Y_MAX,
  PROP_UNIT,
  PROP_SHOW_REFERENCE,
  PROP_REFERENCE_VALUE,
  PROP_REFERENCE_LABEL,
  PROP_SHOW_LEGEND,
  PROP_REFRESH_INTERVAL,
  PROP_N_SERIES,
  PROP_REDRAWS_REQUESTED,
  PROP_REDRAWS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Used in this order for series added without a class. */
static const char * const default_classes[] = {
  "accent", "success", "warning", "error", "purple", "neutral",
};

G_DEFINE_FINAL_TYPE (KestrelGraphView, kestrel_graph_view, GTK_TYPE_WIDGET)

static void update_refresh (KestrelGraphView *self);

/* g_set_str() is GLib 2.76. */
static gboolean
set_str (char       **field,
         const char  *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

/* ---------------------------------------------------------------- series */

static void
series_free (gpointer data)
{
  Series *s = data;

  g_clear_pointer (&s->ring, kestrel_ring_unref);
  g_clear_pointer (&s->label, g_free);
  /* The legend entry is unparented by the caller, which knows the box. */
  g_free (s);
}

static Series *
get_series (KestrelGraphView *self,
            guint             index)
{
  if (index >= self->series->len)
    return NULL;
  return g_ptr_array_index (self->series, index);
}

static GtkWidget *
new_swatch (const char *css_class)
{
  GtkWidget *swatch;

  /* A plain box styled by CSS (background-color: currentColor): its colour
   * is what the plot reads back, so the two cannot disagree. */
  swatch = g_object_new (GTK_TYPE_BOX,
                         "accessible-role", GTK_ACCESSIBLE_ROLE_PRESENTATION,
                         "valign", GTK_ALIGN_CENTER,
                         NULL);
  gtk_widget_add_css_class (swatch, "swatch");
  if (css_class != NULL)
    gtk_widget_add_css_class (swatch, css_class);
  return swatch;
}

/* A legend entry, in the GtkFlowBoxChild the legend wraps it in. */
static void
legend_insert (KestrelGraphView *self,
               GtkWidget        *item,
               int               position)
{
  GtkWidget *child;

  gtk_flow_box_insert (GTK_FLOW_BOX (self->legend), item, position);
  child = gtk_widget_get_parent (item);
  gtk_widget_set_focusable (child, FALSE);
}

static void
update_legend_visibility (KestrelGraphView *self)
{
  /* The flow box child, so a hidden entry leaves no gap. */
  gtk_widget_set_visible (gtk_widget_get_parent (self->reference_item), self->show_reference);
  gtk_widget_set_visible (self->legend,
                          self->show_legend &&
                          (self->series->len > 0 || self->show_reference));
}

/* ----------------------------------------------------------------- data */

/* The value of @series @offset samples before its newest (0 = newest) within
 * the visible history; FALSE when it has no such sample. */
static gboolean
sample_at_offset (KestrelGraphView  *self,
                  Series            *s,
                  guint              offset,
                  KestrelRingSample *out)
{
  guint length = kestrel_ring_get_length (s->ring);

  if (offset >= MIN (length, self->history_length))
    return FALSE;
  return kestrel_ring_get (s->ring, length - 1 - offset, out);
}

static guint
visible_length (KestrelGraphView *self,
                Series           *s)
{
  return MIN (kestrel_ring_get_length (s->ring), self->history_length);
}

/* Stacked series are aligned by position from the newest sample: they are
 * sampled together, and a series that started late simply adds nothing
 * where it has no sample. */
static double
stacked_value (KestrelGraphView *self,
               guint             series,
               guint             offset)
{
  double sum = 0.0;

  for (guint i = 0; i <= series; i++)
    {
      KestrelRingSample sample;

      if (sample_at_offset (self, get_series (self, i), offset, &sample) &&
          isfinite (sample.value))
        sum += sample.value;
    }
  return sum;
}

guint
kestrel_graph_view_get_points (KestrelGraphView  *self,
                               guint              series,
                               KestrelRingSample *out,
                               guint              n_max)
{
  Series *s;
  guint n;

  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), 0);
  g_return_val_if_fail (out != NULL || n_max == 0, 0);

  s = get_series (self, series);
  g_return_val_if_fail (s != NULL, 0);

  n = MIN (visible_length (self, s), n_max);
  for (guint k = 0; k < n; k++)
    {
      guint offset = n - 1 - k;

      sample_at_offset (self, s, offset, &out[k]);
      if (self->stacked)
        out[k].value = stacked_value (self, series, offset);
    }
  return n;
}

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
      gboolean any = FALSE;

      /* Zero is always in view: these are costs, and a graph whose bottom
       * is not zero exaggerates every wobble. */
      lo = hi = 0.0;
      for (guint i = 0; i < self->series->len; i++)
        {
          Series *s = get_series (self, i);
          guint n = visible_length (self, s);

          for (guint offset = 0; offset < n; offset++)
            {
              KestrelRingSample sample;
              double v;

              if (self->stacked)
                v = stacked_value (self, i, offset);
              else if (sample_at_offset (self, s, offset, &sample))
                v = sample.value;
              else
                continue;
              if (!isfinite (v))
                continue;
              lo = MIN (lo, v);
              hi = MAX (hi, v);
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
static char *
format_latest (KestrelGraphView *self,
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

/* Top to bottom: the legend; half a label, as the top y label is centred on
 * the top gridline; the plot; the time labels. Left to right: the y labels,
 * in a gutter of their own (inside the plot, the data ran through them), and
 * the plot. The gutter's width depends on the labels, hence on the scale,
 * which depends on the plot's height: the height comes first. */
static void
compute_geometry (KestrelGraphView *self,
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

static void
kestrel_graph_view_measure (GtkWidget      *widget,
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

static void
kestrel_graph_view_size_allocate (GtkWidget *widget,
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

static inline double
offset_to_x (KestrelGraphView      *self,
             const graphene_rect_t *plot,
             guint                  offset)
{
  double right = (double) plot->origin.x + (double) plot->size.width - LINE_WIDTH / 2.0;
  double left = (double) plot->origin.x;

  /* history-length intervals across, not history-length - 1: the left edge
   * is then exactly "60 s" old and the oldest sample one step inside. */
  return right - (right - left) * offset / self->history_length;
}

/* Time per sample from the data (the sampler's rate is not ours to know),
 * one second when there is too little to tell. */
static double
estimate_interval (KestrelGraphView *self)
{
  guint best = 0;
  double interval = 1.0;

  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = get_series (self, i);
      guint n = visible_length (self, s);
      KestrelRingSample newest, oldest;

      if (n < 2 || n <= best)
        continue;
      sample_at_offset (self, s, 0, &newest);
      sample_at_offset (self, s, n - 1, &oldest);
      if (newest.time_us > oldest.time_us)
        {
          interval = (newest.time_us - oldest.time_us) / 1e6 / (n - 1);
          best = n;
        }
    }
  return interval;
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
  guint vstep, middle;
  double interval;

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

  /* Vertical lines every "nice" number of samples from the newest. */
  vstep = MAX ((guint) nice_number (self->history_length / 6.0, TRUE), 1);
  for (guint offset = vstep; offset < self->history_length; offset += vstep)
    {
      double x = floor (offset_to_x (self, plot, offset));

      gtk_snapshot_append_color (snapshot, &grid,
                                 &GRAPHENE_RECT_INIT (x, plot->origin.y, 1, plot->size.height));
    }

  /* Time labels under the plot: the age of the left edge, of the vertical
   * line nearest the middle, and "now". */
  interval = estimate_interval (self);
  middle = (guint) round (self->history_length / 2.0 / vstep) * vstep;
  {
    double y = (double) plot->origin.y + (double) plot->size.height + LABEL_GAP;
    g_autofree char *left = format_span (interval * self->history_length);
    g_autofree char *mid = format_span (interval * middle);

    append_label (snapshot, layout, left, plot->origin.x, y, 0.0f, &text);
    if (middle > 0 && middle < self->history_length)
      append_label (snapshot, layout, mid, offset_to_x (self, plot, middle), y, 0.5f, &text);
    /* Translators: the right edge of a live graph */
    append_label (snapshot, layout, _("now"), (double) plot->origin.x + (double) plot->size.width, y, 1.0f, &text);
  }
}

/* What is drawn for @series @offset samples before the newest: its value
 * (stacked: the top of its band), a missing or non-finite sample as zero. */
static double
value_at (KestrelGraphView *self,
          guint             series,
          guint             offset)
{
  KestrelRingSample sample;

  if (self->stacked)
    return stacked_value (self, series, offset);
  if (sample_at_offset (self, get_series (self, series), offset, &sample) &&
      isfinite (sample.value))
    return sample.value;
  return 0.0;
}

static void
trace_series (KestrelGraphView      *self,
              cairo_t               *cr,
              const graphene_rect_t *plot,
              double                 lo,
              double                 hi,
              guint                  series,
              guint                  n)
{
  for (guint k = 0; k < n; k++)
    {
      guint offset = n - 1 - k;

      cairo_line_to (cr, offset_to_x (self, plot, offset),
                     value_to_y (plot, lo, hi, value_at (self, series, offset)));
    }
}

static void
draw_series (KestrelGraphView      *self,
             GtkSnapshot           *snapshot,
             const graphene_rect_t *plot,
             double                 lo,
             double                 hi)
{
  graphene_rect_t bounds;
  cairo_t *cr;
  double zero_y = value_to_y (plot, lo, hi, CLAMP (0.0, lo, hi));
  gboolean any = self->show_reference;

  for (guint i = 0; i < self->series->len && !any; i++)
    any = visible_length (self, get_series (self, i)) > 0;
  if (!any)
    return;

  /* Room above and below the plot for half a line at the extremes. */
  graphene_rect_inset_r (plot, 0, -LINE_WIDTH, &bounds);
  cr = gtk_snapshot_append_cairo (snapshot, &bounds);
  cairo_rectangle (cr, bounds.origin.x, bounds.origin.y, bounds.size.width, bounds.size.height);
  cairo_clip (cr);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);

  /* Fills first, so no fill covers another series' line. A stacked band
   * lies between its top and the top of the band below (which counts every
   * series below that has a sample there); an unstacked fill reaches down to
   * zero. */
  for (guint i = 0; i < self->series->len; i++)
    {
      guint n = visible_length (self, get_series (self, i));
      GdkRGBA color;

      /* Unstacked, only the first series (the subject: Kestrel's own cost)
       * is filled; overlapping fills of the others turned the plot muddy. */
      if (n < 2 || (!self->stacked && i > 0))
        continue;
      kestrel_ui_get_color (get_series (self, i)->swatch, &color);
      color.alpha *= self->stacked ? STACKED_ALPHA : FILL_ALPHA;

      cairo_new_path (cr);
      trace_series (self, cr, plot, lo, hi, i, n);
      if (self->stacked && i > 0)
        {
          for (guint offset = 0; offset < n; offset++)
            cairo_line_to (cr, offset_to_x (self, plot, offset),
                           value_to_y (plot, lo, hi, value_at (self, i - 1, offset)));
        }
      else
        {
          cairo_line_to (cr, offset_to_x (self, plot, 0), zero_y);
          cairo_line_to (cr, offset_to_x (self, plot, n - 1), zero_y);
        }
      cairo_close_path (cr);
      gdk_cairo_set_source_rgba (cr, &color);
      cairo_fill (cr);
    }

  cairo_set_line_width (cr, LINE_WIDTH);
  for (guint i = 0; i < self->series->len; i++)
    {
      guint n = visible_length (self, get_series (self, i));
      GdkRGBA color;

      if (n == 0)
        continue;
      kestrel_ui_get_color (get_series (self, i)->swatch, &color);
      gdk_cairo_set_source_rgba (cr, &color);
      cairo_new_path (cr);
      if (n == 1)
        {
          /* a lone first sample is a dot, not nothing */
          cairo_arc (cr, offset_to_x (self, plot, 0),
                     value_to_y (plot, lo, hi, value_at (self, i, 0)),
                     LINE_WIDTH, 0, 2 * G_PI);
          cairo_fill (cr);
          continue;
        }
      trace_series (self, cr, plot, lo, hi, i, n);
      cairo_stroke (cr);
    }

  if (self->show_reference && isfinite (self->reference_value))
    {
      static const double dashes[] = { 6.0, 4.0 };
      double y = value_to_y (plot, lo, hi, self->reference_value);
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
    }

  cairo_destroy (cr);
}

static void
kestrel_graph_view_snapshot (GtkWidget   *widget,
                             GtkSnapshot *snapshot)
{
  KestrelGraphView *self = KESTREL_GRAPH_VIEW (widget);
  Geometry g;
  GdkRGBA fg;

  self->redraws++;

  if (gtk_widget_get_visible (self->legend))
    gtk_widget_snapshot_child (widget, self->legend, snapshot);

  compute_geometry (self, gtk_widget_get_width (widget), gtk_widget_get_height (widget), &g);
  kestrel_ui_get_color (widget, &fg);

  draw_grid (self, snapshot, &g, &fg);
  draw_series (self, snapshot, &g.plot, g.lo, g.hi);
}

/* -------------------------------------------------------------- refresh */

static void
update_legend_values (KestrelGraphView *self)
{
  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = get_series (self, i);
      KestrelRingSample newest;
      g_autofree char *text = NULL;

      if (kestrel_ring_get_newest (s->ring, &newest) && isfinite (newest.value))
        text = format_latest (self, newest.value);
      gtk_label_set_text (GTK_LABEL (s->value), text ? text : "");
    }
}

/* TRUE when some series has a sample (or a ring) the last tick did not. */
static gboolean
take_changes (KestrelGraphView *self)
{
  gboolean changed = FALSE;

  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = get_series (self, i);
      KestrelRingSample newest = { 0, 0.0 };
      guint length = kestrel_ring_get_length (s->ring);

      kestrel_ring_get_newest (s->ring, &newest);
      if (s->seen_ring != s->ring || s->seen_length != length || s->seen_newest != newest.time_us)
        {
          s->seen_ring = s->ring;
          s->seen_length = length;
          s->seen_newest = newest.time_us;
          changed = TRUE;
        }
    }
  return changed;
}

static gboolean
refresh_cb (gpointer data)
{
  KestrelGraphView *self = data;

  if (take_changes (self))
    {
      update_legend_values (self);
      gtk_widget_queue_draw (GTK_WIDGET (self));
      self->redraws_requested++;
    }
  return G_SOURCE_CONTINUE;
}

static void
update_refresh (KestrelGraphView *self)
{
  gboolean run = gtk_widget_get_mapped (GTK_WIDGET (self)) && !self->minimized;

  if (!run)
    {
      g_clear_handle_id (&self->refresh_source, g_source_remove);
      return;
    }
  if (self->refresh_source != 0)
    return;

  /* Catch up at once: the view may have been hidden for a while. */
  take_changes (self);
  update_legend_values (self);

  self->refresh_source = kestrel_ui_timeout_add (self->refresh_interval, refresh_cb, self,
                                                 "[kestrel] graph refresh");
}

static void
toplevel_state_cb (KestrelGraphView *self)
{
  gboolean minimized = kestrel_ui_toplevel_is_hidden (self->toplevel);

  if (minimized == self->minimized)
    return;
  self->minimized = minimized;
  update_refresh (self);
  if (!minimized)
    gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
kestrel_graph_view_map (GtkWidget *widget)
{
  KestrelGraphView *self = KESTREL_GRAPH_VIEW (widget);
  GtkRoot *root;

  GTK_WIDGET_CLASS (kestrel_graph_view_parent_class)->map (widget);

  /* The root, not our native: inside a popover, the window that gets
   * minimised is the toplevel above it. */
  root = gtk_widget_get_root (widget);
  if (root != NULL && GTK_IS_NATIVE (root))
    {
      GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (root));

      if (surface != NULL && GDK_IS_TOPLEVEL (surface))
        {
          self->toplevel = g_object_ref (surface);
          self->toplevel_state_handler =
            g_signal_connect_swapped (surface, "notify::state",
                                      G_CALLBACK (toplevel_state_cb), self);
        }
    }
  self->minimized = kestrel_ui_toplevel_is_hidden (self->toplevel);
  update_refresh (self);
}

static void
kestrel_graph_view_unmap (GtkWidget *widget)
{
  KestrelGraphView *self = KESTREL_GRAPH_VIEW (widget);

  if (self->toplevel != NULL)
    {
      g_clear_signal_handler (&self->toplevel_state_handler, self->toplevel);
      g_clear_object (&self->toplevel);
    }
  self->minimized = FALSE;

  GTK_WIDGET_CLASS (kestrel_graph_view_parent_class)->unmap (widget);

  update_refresh (self);
}

/* ---------------------------------------------------------- properties */

guint
kestrel_graph_view_add_series (KestrelGraphView *self,
                               const char       *label,
                               const char       *css_class)
{
  Series *s;

  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), 0);

  if (css_class == NULL)
    css_class = default_classes[self->series->len % G_N_ELEMENTS (default_classes)];

  s = g_new0 (Series, 1);
  s->ring = kestrel_ring_new (self->history_length);
  s->owns_ring = TRUE;
  s->label = g_strdup (label ? label : "");

  s->item = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_add_css_class (s->item, "series");
  s->swatch = new_swatch (css_class);
  s->name = gtk_label_new (s->label);
  gtk_label_set_ellipsize (GTK_LABEL (s->name), PANGO_ELLIPSIZE_END);
  gtk_label_set_xalign (GTK_LABEL (s->name), 0.0f);
  s->value = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (s->value), 0.0f);
  gtk_label_set_width_chars (GTK_LABEL (s->value), 7);
  gtk_widget_add_css_class (s->value, "numeric");
  gtk_widget_add_css_class (s->value, "dim-label");
  gtk_box_append (GTK_BOX (s->item), s->swatch);
  gtk_box_append (GTK_BOX (s->item), s->name);
  gtk_box_append (GTK_BOX (s->item), s->value);
  /* Series before the reference entry. */
  legend_insert (self, s->item, (int) self->series->len);

  g_ptr_array_add (self->series, s);
  update_legend_visibility (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_SERIES]);

  return self->series->len - 1;
}

void
kestrel_graph_view_remove_all_series (KestrelGraphView *self)
{
  g_return_if_fail (KESTREL_IS_GRAPH_VIEW (self));

  if (self->series->len == 0)
    return;
  for (guint i = 0; i < self->series->len; i++)
    gtk_flow_box_remove (GTK_FLOW_BOX (self->legend), gtk_widget_get_parent (get_series (self, i)->item));
  g_ptr_array_set_size (self->series, 0);
  update_legend_visibility (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_SERIES]);
}

guint
kestrel_graph_view_get_n_series (KestrelGraphView *self)
{
  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), 0);

  return self->series->len;
}

const char *
kestrel_graph_view_get_series_label (KestrelGraphView *self,
                                     guint             series)
{
  Series *s;

  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), NULL);
  s = get_series (self, series);
  g_return_val_if_fail (s != NULL, NULL);

  return s->label;
}

void
kestrel_graph_view_set_series_label (KestrelGraphView *self,
                                     guint             series,
                                     const char       *label)
{
  Series *s;

  g_return_if_fail (KESTREL_IS_GRAPH_VIEW (self));
  s = get_series (self, series);
  g_return_if_fail (s != NULL);

  g_free (s->label);
  s->label = g_strdup (label ? label : "");
  gtk_label_set_text (GTK_LABEL (s->name), s->label);
}

KestrelRing *
kestrel_graph_view_get_series_ring (KestrelGraphView *self,
                                    guint             series)
{
  Series *s;

  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), NULL);
  s = get_series (self, series);
  g_return_val_if_fail (s != NULL, NULL);

  return s->ring;
}

void
kestrel_graph_view_set_series_ring (KestrelGraphView *self,
                                    guint             series,
                                    KestrelRing      *ring)
{
  Series *s;

  g_return_if_fail (KESTREL_IS_GRAPH_VIEW (self));
  g_return_if_fail (ring != NULL);
  s = get_series (self, series);
  g_return_if_fail (s != NULL);

  if (s->ring == ring)
    return;
  kestrel_ring_ref (ring);
  kestrel_ring_unref (s->ring);
  s->ring = ring;
  s->owns_ring = FALSE;
}

void
kestrel_graph_view_push (KestrelGraphView *self,
                         guint             series,
                         gint64            time_us,
                         double            value)
{
  Series *s;

  g_return_if_fail (KESTREL_IS_GRAPH_VIEW (self));
  s = get_series (self, series);
  g_return_if_fail (s != NULL);

  kestrel_ring_push (s->ring, time_us, value);
}

void
kestrel_graph_view_get_y_range (KestrelGraphView *self,
                                double           *min,
                                double           *max,
                                double           *step)
{
  Geometry g;
  int width, height;

  g_return_if_fail (KESTREL_IS_GRAPH_VIEW (self));

  /* The gridline spacing depends on the plot's height; unallocated, the
   * view assumes its natural size. */
  width = gtk_widget_get_width (GTK_WIDGET (self));
  height = gtk_widget_get_height (GTK_WIDGET (self));
  if (width <= 0 || height <= 0)
    {
      gtk_widget_measure (GTK_WIDGET (self), GTK_ORIENTATION_HORIZONTAL, -1, NULL, &width, NULL, NULL);
      gtk_widget_measure (GTK_WIDGET (self), GTK_ORIENTATION_VERTICAL, width, NULL, &height, NULL, NULL);
    }
  compute_geometry (self, width, height, &g);
  if (min)
    *min = g.lo;
  if (max)
    *max = g.hi;
  if (step)
    *step = g.step;
}

guint
kestrel_graph_view_get_history_length (KestrelGraphView *self)
{
  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), 0);

  return self->history_length;
}

void
kestrel_graph_view_set_history_length (KestrelGraphView *self,
                                       guint             length)
{
  g_return_if_fail (KESTREL_IS_GRAPH_VIEW (self));

  length = CLAMP (length, KESTREL_GRAPH_VIEW_MIN_HISTORY, KESTREL_RING_MAX_CAPACITY);
  if (length == self->history_length)
    return;
  self->history_length = length;
  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = get_series (self, i);

      if (s->owns_ring)
        kestrel_ring_set_capacity (s->ring, length);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HISTORY_LENGTH]);
}

#define DEFINE_BOOL_PROPERTY(name, PROP)                                  \
gboolean                                                                 \
kestrel_graph_view_get_##name (KestrelGraphView *self)                    \
{                                                                        \
  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), FALSE);             \
  return self->name;                                                     \
}                                                                        \
void                                                                     \
kestrel_graph_view_set_##name (KestrelGraphView *self,                    \
                               gboolean          value)                  \
{                                                                        \
  g_return_if_fail (KESTREL_IS_GRAPH_VIEW (self));                        \
  value = !!value;                                                       \
  if (self->name == (guint) value)                                       \
    return;                                                              \
  self->name = value;                                                    \
  update_legend_visibility (self);                                       \
  gtk_widget_queue_draw (GTK_WIDGET (self));                             \
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP]);          \
}

DEFINE_BOOL_PROPERTY (stacked, PROP_STACKED)
DEFINE_BOOL_PROPERTY (auto_scale, PROP_AUTO_SCALE)
DEFINE_BOOL_PROPERTY (show_reference, PROP_SHOW_REFERENCE)
DEFINE_BOOL_PROPERTY (show_legend, PROP_SHOW_LEGEND)

#define DEFINE_DOUBLE_PROPERTY(name, PROP)                                \
double                                                                   \
kestrel_graph_view_get_##name (KestrelGraphView *self)                    \
{                                                                        \
  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), 0.0);               \
  return self->name;                                                     \
}                                                                        \
void                                                                     \
kestrel_graph_view_set_##name (KestrelGraphView *self,                    \
                               double            value)                  \
{                                                                        \
  g_return_if_fail (KESTREL_IS_GRAPH_VIEW (self));                        \
  g_return_if_fail (isfinite (value));                                   \
  if (self->name == value)                                               \
    return;                                                              \
  self->name = value;                                                    \
  gtk_widget_queue_draw (GTK_WIDGET (self));                             \
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP]);          \
}

DEFINE_DOUBLE_PROPERTY (y_min, PROP_Y_MIN)
DEFINE_DOUBLE_PROPERTY (y_max, PROP_Y_MAX)
DEFINE_DOUBLE_PROPERTY (reference_value, PROP_REFERENCE_VALUE)

const char *
kestrel_graph_view_get_unit (KestrelGraphView *self)
{
  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), NULL);

  return self->unit;
}

void
kestrel_graph_view_set_unit (KestrelGraphView *self,
                             const char       *unit)
{
  g_return_if_fail (KESTREL_IS_GRAPH_VIEW (self));

  if (set_str (&self->unit, unit))
    {
      update_legend_values (self);
      gtk_widget_queue_draw (GTK_WIDGET (self));
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UNIT]);
    }
}

const char *
kestrel_graph_view_get_reference_label (KestrelGraphView *self)
{
  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), NULL);

  return self->reference_label;
}

void
kestrel_graph_view_set_reference_label (KestrelGraphView *self,
                                        const char       *label)
{
  g_return_if_fail (KESTREL_IS_GRAPH_VIEW (self));

  if (set_str (&self->reference_label, label))
    {
      gtk_label_set_text (GTK_LABEL (self->reference_name), label ? label : "");
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REFERENCE_LABEL]);
    }
}

guint
kestrel_graph_view_get_refresh_interval (KestrelGraphView *self)
{
  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), 0);

  return self->refresh_interval;
}

void
kestrel_graph_view_set_refresh_interval (KestrelGraphView *self,
                                         guint             interval_ms)
{
  g_return_if_fail (KESTREL_IS_GRAPH_VIEW (self));

  interval_ms = CLAMP (interval_ms, 16, 60000);
  if (interval_ms == self->refresh_interval)
    return;
  self->refresh_interval = interval_ms;
  /* restart with the new interval if running */
  if (self->refresh_source != 0)
    {
      g_clear_handle_id (&self->refresh_source, g_source_remove);
      update_refresh (self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REFRESH_INTERVAL]);
}

guint64
kestrel_graph_view_get_redraws_requested (KestrelGraphView *self)
{
  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), 0);

  return self->redraws_requested;
}

guint64
kestrel_graph_view_get_redraws (KestrelGraphView *self)
{
  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), 0);

  return self->redraws;
}

GtkWidget *
kestrel_graph_view_new (void)
{
  return g_object_new (KESTREL_TYPE_GRAPH_VIEW, NULL);
}

/* ------------------------------------------------------------- GObject */

static void
kestrel_graph_view_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  KestrelGraphView *self = KESTREL_GRAPH_VIEW (object);

  switch (prop_id)
    {
    case PROP_HISTORY_LENGTH:   g_value_set_uint (value, self->history_length); break;
    case PROP_STACKED:          g_value_set_boolean (value, self->stacked); break;
    case PROP_AUTO_SCALE:       g_value_set_boolean (value, self->auto_scale); break;
    case PROP_Y_MIN:            g_value_set_double (value, self->y_min); break;
    case PROP_Y_MAX:            g_value_set_double (value, self->y_max); break;
    case PROP_UNIT:             g_value_set_string (value, self->unit); break;
    case PROP_SHOW_REFERENCE:   g_value_set_boolean (value, self->show_reference); break;
    case PROP_REFERENCE_VALUE:  g_value_set_double (value, self->reference_value); break;
    case PROP_REFERENCE_LABEL:  g_value_set_string (value, self->reference_label); break;
    case PROP_SHOW_LEGEND:      g_value_set_boolean (value, self->show_legend); break;
    case PROP_REFRESH_INTERVAL: g_value_set_uint (value, self->refresh_interval); break;
    case PROP_N_SERIES:         g_value_set_uint (value, self->series->len); break;
    case PROP_REDRAWS_REQUESTED: g_value_set_uint64 (value, self->redraws_requested); break;
    case PROP_REDRAWS:          g_value_set_uint64 (value, self->redraws); break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kestrel_graph_view_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  KestrelGraphView *self = KESTREL_GRAPH_VIEW (object);

  switch (prop_id)
    {
    case PROP_HISTORY_LENGTH:   kestrel_graph_view_set_history_length (self, g_value_get_uint (value)); break;
    case PROP_STACKED:          kestrel_graph_view_set_stacked (self, g_value_get_boolean (value)); break;
    case PROP_AUTO_SCALE:       kestrel_graph_view_set_auto_scale (self, g_value_get_boolean (value)); break;
    case PROP_Y_MIN:            kestrel_graph_view_set_y_min (self, g_value_get_double (value)); break;
    case PROP_Y_MAX:            kestrel_graph_view_set_y_max (self, g_value_get_double (value)); break;
    case PROP_UNIT:             kestrel_graph_view_set_unit (self, g_value_get_string (value)); break;
    case PROP_SHOW_REFERENCE:   kestrel_graph_view_set_show_reference (self, g_value_get_boolean (value)); break;
    case PROP_REFERENCE_VALUE:  kestrel_graph_view_set_reference_value (self, g_value_get_double (value)); break;
    case PROP_REFERENCE_LABEL:  kestrel_graph_view_set_reference_label (self, g_value_get_string (value)); break;
    case PROP_SHOW_LEGEND:      kestrel_graph_view_set_show_legend (self, g_value_get_boolean (value)); break;
    case PROP_REFRESH_INTERVAL: kestrel_graph_view_set_refresh_interval (self, g_value_get_uint (value)); break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kestrel_graph_view_dispose (GObject *object)
{
  KestrelGraphView *self = KESTREL_GRAPH_VIEW (object);

  g_clear_handle_id (&self->refresh_source, g_source_remove);
  if (self->toplevel != NULL)
    {
      g_clear_signal_handler (&self->toplevel_state_handler, self->toplevel);
      g_clear_object (&self->toplevel);
    }
  g_clear_pointer (&self->legend, gtk_widget_unparent);
  if (self->series != NULL)
    g_ptr_array_set_size (self->series, 0);

  G_OBJECT_CLASS (kestrel_graph_view_parent_class)->dispose (object);
}

static void
kestrel_graph_view_finalize (GObject *object)
{
  KestrelGraphView *self = KESTREL_GRAPH_VIEW (object);

  g_clear_pointer (&self->series, g_ptr_array_unref);
  g_clear_pointer (&self->unit, g_free);
  g_clear_pointer (&self->reference_label, g_free);

  G_OBJECT_CLASS (kestrel_graph_view_parent_class)->finalize (object);
}

static void
kestrel_graph_view_class_init (KestrelGraphViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->get_property = kestrel_graph_view_get_property;
  object_class->set_property = kestrel_graph_view_set_property;
  object_class->dispose = kestrel_graph_view_dispose;
  object_class->finalize = kestrel_graph_view_finalize;

  widget_class->measure = kestrel_graph_view_measure;
  widget_class->size_allocate = kestrel_graph_view_size_allocate;
  widget_class->snapshot = kestrel_graph_view_snapshot;
  widget_class->map = kestrel_graph_view_map;
  widget_class->unmap = kestrel_graph_view_unmap;

  properties[PROP_HISTORY_LENGTH] =
    g_param_spec_uint ("history-length", NULL, "Samples across the graph",
                       KESTREL_GRAPH_VIEW_MIN_HISTORY, KESTREL_RING_MAX_CAPACITY,
                       KESTREL_RING_DEFAULT_CAPACITY, rw);
  properties[PROP_STACKED] =
    g_param_spec_boolean ("stacked", NULL, "Draw each series on top of the ones before it",
                          FALSE, rw);
  properties[PROP_AUTO_SCALE] =
    g_param_spec_boolean ("auto-scale", NULL,
                          "Fit the y axis to the data (and the reference line) with a rounded top, "
                          "instead of y-min..y-max",
                          FALSE, rw);
  properties[PROP_Y_MIN] =
    g_param_spec_double ("y-min", NULL, "Bottom of the y axis when not auto-scaled",
                         -G_MAXDOUBLE, G_MAXDOUBLE, 0.0, rw);
  properties[PROP_Y_MAX] =
    g_param_spec_double ("y-max", NULL, "Top of the y axis when not auto-scaled",
                         -G_MAXDOUBLE, G_MAXDOUBLE, 100.0, rw);
  properties[PROP_UNIT] =
    g_param_spec_string ("unit", NULL, "Unit shown after values, e.g. \"%\" or \"ms\"",
                         NULL, rw);
  properties[PROP_SHOW_REFERENCE] =
    g_param_spec_boolean ("show-reference", NULL, "Draw a horizontal reference line (a budget)",
                          FALSE, rw);
  properties[PROP_REFERENCE_VALUE] =
    g_param_spec_double ("reference-value", NULL, "Where the reference line is",
                         -G_MAXDOUBLE, G_MAXDOUBLE, 0.0, rw);
  properties[PROP_REFERENCE_LABEL] =
    g_param_spec_string ("reference-label", NULL, "The reference line's name in the legend",
                         NULL, rw);
  properties[PROP_SHOW_LEGEND] =
    g_param_spec_boolean ("show-legend", NULL, "Show series names and latest values",
                          TRUE, rw);
  properties[PROP_REFRESH_INTERVAL] =
    g_param_spec_uint ("refresh-interval", NULL, "Milliseconds between looks at the data",
                       16, 60000, 1000, rw);
  properties[PROP_N_SERIES] =
    g_param_spec_uint ("n-series", NULL, NULL, 0, G_MAXUINT, 0, ro | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_REDRAWS_REQUESTED] =
    g_param_spec_uint64 ("redraws-requested", NULL,
                         "Refresh ticks that queued a draw (does not notify)",
                         0, G_MAXUINT64, 0, ro);
  properties[PROP_REDRAWS] =
    g_param_spec_uint64 ("redraws", NULL, "Snapshots taken (does not notify)",
                         0, G_MAXUINT64, 0, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "graphview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
kestrel_graph_view_init (KestrelGraphView *self)
{
  kestrel_ui_ensure_style (gtk_widget_get_display (GTK_WIDGET (self)));

  self->series = g_ptr_array_new_with_free_func (series_free);
  self->history_length = KESTREL_RING_DEFAULT_CAPACITY;
  self->refresh_interval = 1000;
  self->y_min = 0.0;
  self->y_max = 100.0;
  self->show_legend = TRUE;

  /* Entries wrap onto more lines when the graph is narrow, so the legend
   * never holds the window wider than a phone's 360 px. */
  self->legend = gtk_flow_box_new ();
  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (self->legend), GTK_SELECTION_NONE);
  gtk_flow_box_set_column_spacing (GTK_FLOW_BOX (self->legend), 18);
  gtk_flow_box_set_row_spacing (GTK_FLOW_BOX (self->legend), 2);
  gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (self->legend), 16);
  gtk_widget_set_focusable (self->legend, FALSE);
  gtk_widget_add_css_class (self->legend, "legend");
  gtk_widget_set_parent (self->legend, GTK_WIDGET (self));

  self->reference_item = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_add_css_class (self->reference_item, "reference");
  self->reference_swatch = new_swatch ("reference");
  self->reference_name = gtk_label_new (NULL);
  gtk_label_set_ellipsize (GTK_LABEL (self->reference_name), PANGO_ELLIPSIZE_END);
  gtk_box_append (GTK_BOX (self->reference_item), self->reference_swatch);
  gtk_box_append (GTK_BOX (self->reference_item), self->reference_name);
  legend_insert (self, self->reference_item, -1);

  update_legend_visibility (self);
}
