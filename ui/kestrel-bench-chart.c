/* kestrel-bench-chart.c — see kestrel-bench-chart.h.
 *
 * A GtkBox of a legend (swatches whose CSS colours are the ones the plot's
 * palette looks up, so they always match), the plot and a caption. The
 * plot is a small widget of its own (PlotArea) that asks for its height
 * for the width it is given (legend rows wrap in a narrow window), and
 * draws with cairo through its GtkSnapshot.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "kestrel-bench-chart.h"
#include "kestrel-ui.h"

#define EXPORT_MIN_WIDTH 640

struct _KestrelBenchChart
{
  GtkBox parent_instance;

  KestrelBenchPlotKind kind;
  GtkWidget *legend;
  GtkWidget *swatch_b, *label_a, *label_b;
  GtkWidget *area;
  const KestrelBenchResult *a, *b;
  guint n_draws;
};

G_DEFINE_FINAL_TYPE (KestrelBenchChart, kestrel_bench_chart, GTK_TYPE_BOX)

static const PangoFontDescription *
font_of (GtkWidget *widget)
{
  return pango_context_get_font_description (gtk_widget_get_pango_context (widget));
}

/* ---- the plot's widget ------------------------------------------------------ */

#define PLOT_TYPE_AREA (plot_area_get_type ())
G_DECLARE_FINAL_TYPE (PlotArea, plot_area, PLOT, AREA, GtkWidget)

struct _PlotArea
{
  GtkWidget parent_instance;
  KestrelBenchChart *chart;   /* its parent */
};

G_DEFINE_FINAL_TYPE (PlotArea, plot_area, GTK_TYPE_WIDGET)

static void
plot_area_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  KestrelBenchChart *chart = PLOT_AREA (widget)->chart;
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  KestrelBenchPalette palette;
  cairo_t *cr;

  if (chart == NULL || chart->a == NULL || width <= 0 || height <= 0)
    return;
  kestrel_bench_palette_from_widget (widget, &palette);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  kestrel_bench_plot_draw (chart->kind, cr, font_of (widget), &palette, chart->a, chart->b, width, height);
  cairo_destroy (cr);
  chart->n_draws++;
}

static GtkSizeRequestMode
plot_area_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;
}

/* Any width (the chart fits itself into it); the height the plot needs at
 * that width. */
#define PLOT_NATURAL_WIDTH 480

static void
plot_area_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum, int *natural,
                   int *minimum_baseline, int *natural_baseline)
{
  KestrelBenchChart *chart = PLOT_AREA (widget)->chart;

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = 0;
      *natural = PLOT_NATURAL_WIDTH;
      return;
    }
  *minimum = *natural = chart != NULL && chart->a != NULL
                        ? kestrel_bench_plot_get_height (chart->kind, font_of (widget), chart->a, chart->b,
                                                         for_size > 0 ? for_size : PLOT_NATURAL_WIDTH)
                        : 0;
}

static void
plot_area_init (PlotArea *self)
{
}

static void
plot_area_class_init (PlotAreaClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  widget_class->snapshot = plot_area_snapshot;
  widget_class->get_request_mode = plot_area_get_request_mode;
  widget_class->measure = plot_area_measure;
  gtk_widget_class_set_css_name (widget_class, "plot");
}

/* ---- the chart ---------------------------------------------------------------- */

void
kestrel_bench_chart_set_results (KestrelBenchChart *self, const KestrelBenchResult *a, const char *a_name,
                                 const KestrelBenchResult *b, const char *b_name)
{
  g_return_if_fail (KESTREL_IS_BENCH_CHART (self));
  self->a = a;
  self->b = a != NULL ? b : NULL;
  gtk_label_set_label (GTK_LABEL (self->label_a), a_name != NULL ? a_name : "");
  gtk_label_set_label (GTK_LABEL (self->label_b), b_name != NULL ? b_name : "");
  gtk_widget_set_visible (self->label_b, self->b != NULL);
  gtk_widget_set_visible (self->swatch_b, self->b != NULL);
  /* The scaling chart tells the runs apart by line and marker (its own
   * legend), not by the runs' colours: no legend of runs. */
  gtk_widget_set_visible (self->legend, self->a != NULL && self->kind != KESTREL_BENCH_PLOT_SCALING);
  gtk_widget_queue_resize (self->area);
  gtk_widget_queue_draw (self->area);
}

guint
kestrel_bench_chart_get_n_bars (KestrelBenchChart *self)
{
  guint n = 0;

  g_return_val_if_fail (KESTREL_IS_BENCH_CHART (self), 0);
  for (guint i = 0; self->a != NULL && i < self->a->cells->len; i++)
    if (isfinite (((KestrelBenchCell *) self->a->cells->pdata[i])->median_ms))
      n++;
  return n;
}

guint
kestrel_bench_chart_get_n_draws (KestrelBenchChart *self)
{
  g_return_val_if_fail (KESTREL_IS_BENCH_CHART (self), 0);
  return self->n_draws;
}

KestrelBenchPlotKind
kestrel_bench_chart_get_kind (KestrelBenchChart *self)
{
  g_return_val_if_fail (KESTREL_IS_BENCH_CHART (self), KESTREL_BENCH_PLOT_LATENCY);
  return self->kind;
}

gboolean
kestrel_bench_chart_export (KestrelBenchChart *self, const char *title, gboolean is_svg, const char *path,
                            GError **error)
{
  KestrelBenchPalette palette;

  g_return_val_if_fail (KESTREL_IS_BENCH_CHART (self), FALSE);
  kestrel_bench_palette_from_widget (self->area, &palette);
  return kestrel_bench_plot_export (self->kind, title, font_of (self->area), &palette, self->a, self->b,
                                    MAX (gtk_widget_get_width (self->area), EXPORT_MIN_WIDTH), is_svg, path, error);
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
  kestrel_ui_init ();
  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing (GTK_BOX (self), 6);
}

static void
kestrel_bench_chart_class_init (KestrelBenchChartClass *klass)
{
  gtk_widget_class_set_css_name (GTK_WIDGET_CLASS (klass), "benchchart");
}

static const char *
caption_for (KestrelBenchPlotKind kind)
{
  switch (kind)
    {
    case KESTREL_BENCH_PLOT_LATENCY:
      return _("Time per frame: bars to the median, whiskers to the 90th percentile.");
    case KESTREL_BENCH_PLOT_PARETO:
      return _("Time per frame against accuracy: the SQNR of each configuration’s outputs against the FP32 "
               "reference’s on the sample photos (higher is closer). Filled dots meet the accuracy goal: "
               "every face FP32 finds is found again (overlap of at least 90 %, score within 0.05) and no "
               "other. The front links the configurations that nothing faster matches in accuracy.");
    case KESTREL_BENCH_PLOT_SCALING:
      return _("How many times faster each configuration runs with more threads than with its fewest, against "
               "the ideal (dashed), for the run shown and, dotted, the run it is compared with.");
    }
  return "";
}

GtkWidget *
kestrel_bench_chart_new (KestrelBenchPlotKind kind)
{
  KestrelBenchChart *self = g_object_new (KESTREL_TYPE_BENCH_CHART, NULL);
  GtkWidget *caption = gtk_label_new (caption_for (kind));
  GtkWidget *swatch_a;

  self->kind = kind;
  self->legend = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  swatch_a = legend_swatch ("accent");
  self->swatch_b = legend_swatch ("neutral");
  self->label_a = gtk_label_new (NULL);
  self->label_b = gtk_label_new (NULL);
  gtk_label_set_ellipsize (GTK_LABEL (self->label_a), PANGO_ELLIPSIZE_END);
  gtk_label_set_ellipsize (GTK_LABEL (self->label_b), PANGO_ELLIPSIZE_END);
  gtk_box_append (GTK_BOX (self->legend), swatch_a);
  gtk_box_append (GTK_BOX (self->legend), self->label_a);
  gtk_box_append (GTK_BOX (self->legend), self->swatch_b);
  gtk_box_append (GTK_BOX (self->legend), self->label_b);
  gtk_widget_add_css_class (self->legend, "legend");
  gtk_label_set_xalign (GTK_LABEL (caption), 0);
  gtk_label_set_wrap (GTK_LABEL (caption), TRUE);
  gtk_widget_add_css_class (caption, "dim-label");
  gtk_widget_add_css_class (caption, "caption");

  self->area = g_object_new (PLOT_TYPE_AREA, NULL);
  PLOT_AREA (self->area)->chart = self;
  gtk_widget_set_hexpand (self->area, TRUE);

  gtk_box_append (GTK_BOX (self), self->legend);
  gtk_box_append (GTK_BOX (self), self->area);
  gtk_box_append (GTK_BOX (self), caption);
  kestrel_bench_chart_set_results (self, NULL, NULL, NULL, NULL);
  return GTK_WIDGET (self);
}
