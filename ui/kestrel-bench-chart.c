/* kestrel-bench-chart.c — see kestrel-bench-chart.h.
 *
 * A GtkBox of a legend (swatches whose CSS colour the bars reuse, so light,
 * dark and high contrast follow the theme) and a GtkDrawingArea. Times
 * are per frame (median of the run / batch), so batch-4 cells compare with
 * batch-1 ones.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "kestrel-bench-chart.h"
#include "kestrel-ui.h"

#define ROW_GAP 8
#define BAR_HEIGHT 10
#define AXIS_HEIGHT 22
#define LABEL_GAP 8

struct _KestrelBenchChart
{
  GtkBox parent_instance;

  GtkWidget *swatch_a, *swatch_b;
  GtkWidget *label_a, *label_b;
  GtkWidget *area;
  const KestrelBenchResult *a, *b;
};

G_DEFINE_FINAL_TYPE (KestrelBenchChart, kestrel_bench_chart, GTK_TYPE_BOX)

static const KestrelBenchCell *
matching (const KestrelBenchResult *r, const KestrelBenchCell *c)
{
  for (guint i = 0; r != NULL && i < r->cells->len; i++)
    {
      const KestrelBenchCell *o = r->cells->pdata[i];
      if (g_strcmp0 (o->engine, c->engine) == 0 && o->precision == c->precision && o->level == c->level
          && o->threads == c->threads && o->batch == c->batch)
        return o;
    }
  return NULL;
}

static int
bars_per_row (KestrelBenchChart *self)
{
  return self->b != NULL ? 2 : 1;
}

static int
row_height (KestrelBenchChart *self)
{
  return bars_per_row (self) * BAR_HEIGHT + ROW_GAP;
}

static void
set_color (cairo_t *cr, const GdkRGBA *c, double alpha)
{
  cairo_set_source_rgba (cr, c->red, c->green, c->blue, (double) c->alpha * alpha);
}

static void
draw_bar (cairo_t *cr, double (*x_of) (double, gpointer), gpointer data, double x0, double y,
          const KestrelBenchCell *c, const GdkRGBA *color)
{
  double median = c->median_ms / c->batch, p90 = c->p90_ms / c->batch;
  double xm = x_of (median, data), xp = x_of (p90, data);

  set_color (cr, color, 1.0);
  cairo_rectangle (cr, x0, y, MAX (xm - x0, 1.0), BAR_HEIGHT);
  cairo_fill (cr);
  /* The whisker: from the median to p90, with a cap. */
  cairo_set_line_width (cr, 1.5);
  cairo_move_to (cr, xm, y + BAR_HEIGHT / 2.0);
  cairo_line_to (cr, xp, y + BAR_HEIGHT / 2.0);
  cairo_move_to (cr, xp, y + 1);
  cairo_line_to (cr, xp, y + BAR_HEIGHT - 1);
  cairo_stroke (cr);
}

typedef struct {
  double lo, hi;   /* log10 of the axis ends */
  double x0, width;
} Scale;

static double
x_of (double ms, gpointer data)
{
  const Scale *s = data;
  double v = log10 (MAX (ms, 1e-6));
  return s->x0 + (v - s->lo) / (s->hi - s->lo) * s->width;
}

static void
draw (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
  KestrelBenchChart *self = user_data;
  GtkWidget *widget = GTK_WIDGET (area);
  GdkRGBA fg, color_a, color_b;
  PangoLayout *layout;
  double lo = G_MAXDOUBLE, hi = 0, label_width = 0;
  Scale scale;

  if (self->a == NULL || self->a->cells->len == 0)
    return;
  kestrel_ui_get_color (widget, &fg);
  kestrel_ui_get_color (self->swatch_a, &color_a);
  kestrel_ui_get_color (self->swatch_b, &color_b);
  layout = gtk_widget_create_pango_layout (widget, NULL);

  for (guint i = 0; i < self->a->cells->len; i++)
    {
      const KestrelBenchCell *c = self->a->cells->pdata[i], *o = matching (self->b, c);
      g_autofree char *label = kestrel_bench_cell_dup_label (c);
      int w, h;

      pango_layout_set_text (layout, label, -1);
      pango_layout_get_pixel_size (layout, &w, &h);
      label_width = MAX (label_width, w);
      for (int k = 0; k < 2; k++)
        {
          const KestrelBenchCell *x = k == 0 ? c : o;
          if (x == NULL || !isfinite (x->median_ms))
            continue;
          lo = MIN (lo, x->median_ms / x->batch);
          hi = MAX (hi, MAX (x->p90_ms, x->median_ms) / x->batch);
        }
    }
  if (!(hi > 0))
    {
      g_object_unref (layout);
      return;
    }
  /* Whole decades around the data, so the ticks land on 0.1, 1, 10 ms. */
  scale.lo = floor (log10 (lo * 0.9));
  scale.hi = ceil (log10 (hi * 1.1));
  if (scale.hi <= scale.lo)
    scale.hi = scale.lo + 1;
  scale.x0 = label_width + LABEL_GAP;
  scale.width = MAX (width - scale.x0 - 4, 10);

  /* Grid and tick labels at 1, 2 and 5 of each decade. */
  cairo_set_line_width (cr, 1);
  for (double d = scale.lo; d < scale.hi + 0.5; d++)
    for (int m = 1; m <= 5; m += (m == 1 ? 1 : 3))
      {
        double ms = m * pow (10, d);
        double x = round (x_of (ms, &scale)) + 0.5;
        if (log10 (ms) > scale.hi + 1e-9)
          continue;
        set_color (cr, &fg, m == 1 ? 0.25 : 0.1);
        cairo_move_to (cr, x, 0);
        cairo_line_to (cr, x, height - AXIS_HEIGHT);
        cairo_stroke (cr);
        if (m == 1 || scale.hi - scale.lo <= 2)
          {
            g_autofree char *text = g_strdup_printf (_("%g ms"), ms);
            int w, h;
            pango_layout_set_text (layout, text, -1);
            pango_layout_get_pixel_size (layout, &w, &h);
            set_color (cr, &fg, 0.7);
            cairo_move_to (cr, CLAMP (x - w / 2.0, scale.x0, width - w), height - AXIS_HEIGHT + 4);
            pango_cairo_show_layout (cr, layout);
          }
      }

  for (guint i = 0; i < self->a->cells->len; i++)
    {
      const KestrelBenchCell *c = self->a->cells->pdata[i], *o = matching (self->b, c);
      g_autofree char *label = kestrel_bench_cell_dup_label (c);
      double y = i * row_height (self) + ROW_GAP / 2.0;
      int w, h;

      pango_layout_set_text (layout, label, -1);
      pango_layout_get_pixel_size (layout, &w, &h);
      set_color (cr, &fg, 1.0);
      cairo_move_to (cr, label_width - w, y + bars_per_row (self) * BAR_HEIGHT / 2.0 - h / 2.0);
      pango_cairo_show_layout (cr, layout);
      if (isfinite (c->median_ms))
        draw_bar (cr, x_of, &scale, scale.x0, y, c, &color_a);
      if (o != NULL && isfinite (o->median_ms))
        draw_bar (cr, x_of, &scale, scale.x0, y + BAR_HEIGHT, o, &color_b);
    }
  g_object_unref (layout);
}

static void
update_size (KestrelBenchChart *self)
{
  guint n = self->a != NULL ? self->a->cells->len : 0;

  gtk_widget_set_size_request (self->area, -1, n * row_height (self) + AXIS_HEIGHT);
  gtk_widget_set_visible (self->label_b, self->b != NULL);
  gtk_widget_set_visible (self->swatch_b, self->b != NULL);
  gtk_widget_queue_draw (self->area);
}

void
kestrel_bench_chart_set_results (KestrelBenchChart *self, const KestrelBenchResult *a, const char *a_name,
                                 const KestrelBenchResult *b, const char *b_name)
{
  g_return_if_fail (KESTREL_IS_BENCH_CHART (self));
  self->a = a;
  self->b = a != NULL ? b : NULL;
  gtk_label_set_label (GTK_LABEL (self->label_a), a_name != NULL ? a_name : "");
  gtk_label_set_label (GTK_LABEL (self->label_b), b_name != NULL ? b_name : "");
  update_size (self);
}

guint
kestrel_bench_chart_get_n_bars (KestrelBenchChart *self)
{
  return self->a != NULL ? self->a->cells->len : 0;
}

static GtkWidget *
legend_swatch (const char *css_class)
{
  GtkWidget *swatch = gtk_drawing_area_new ();

  gtk_widget_add_css_class (swatch, "swatch");
  gtk_widget_add_css_class (swatch, css_class);
  gtk_widget_set_valign (swatch, GTK_ALIGN_CENTER);
  return swatch;
}

static void
kestrel_bench_chart_init (KestrelBenchChart *self)
{
  GtkWidget *legend = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *caption = gtk_label_new (_("Time per frame: bars to the median, whiskers to the 90th percentile"));

  kestrel_ui_init ();
  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing (GTK_BOX (self), 6);
  gtk_widget_add_css_class (GTK_WIDGET (self), "benchchart");

  self->swatch_a = legend_swatch ("accent");
  self->swatch_b = legend_swatch ("neutral");
  self->label_a = gtk_label_new (NULL);
  self->label_b = gtk_label_new (NULL);
  gtk_label_set_ellipsize (GTK_LABEL (self->label_a), PANGO_ELLIPSIZE_END);
  gtk_label_set_ellipsize (GTK_LABEL (self->label_b), PANGO_ELLIPSIZE_END);
  gtk_box_append (GTK_BOX (legend), self->swatch_a);
  gtk_box_append (GTK_BOX (legend), self->label_a);
  gtk_box_append (GTK_BOX (legend), self->swatch_b);
  gtk_box_append (GTK_BOX (legend), self->label_b);
  gtk_widget_add_css_class (legend, "legend");
  gtk_label_set_xalign (GTK_LABEL (caption), 0);
  gtk_label_set_wrap (GTK_LABEL (caption), TRUE);
  gtk_widget_add_css_class (caption, "dim-label");
  gtk_widget_add_css_class (caption, "caption");

  self->area = gtk_drawing_area_new ();
  gtk_widget_set_hexpand (self->area, TRUE);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->area), draw, self, NULL);

  gtk_box_append (GTK_BOX (self), legend);
  gtk_box_append (GTK_BOX (self), self->area);
  gtk_box_append (GTK_BOX (self), caption);
  update_size (self);
}

static void
kestrel_bench_chart_class_init (KestrelBenchChartClass *klass)
{
  gtk_widget_class_set_css_name (GTK_WIDGET_CLASS (klass), "benchchart");
}

GtkWidget *
kestrel_bench_chart_new (void)
{
  return g_object_new (KESTREL_TYPE_BENCH_CHART, NULL);
}
