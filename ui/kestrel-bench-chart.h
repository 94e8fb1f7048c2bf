/* kestrel-bench-chart.h — one of the Benchmark view's charts as a widget:
 * the drawing of kestrel-bench-plot.h (latency per configuration, speed
 * against accuracy, thread scaling) in a GtkDrawingArea, in the theme's
 * colours, as tall as it needs at its width, with a legend naming the
 * runs (the run shown in the accent colour, the one compared with in
 * grey) and a caption saying how to read it.
 */
#pragma once

#include <gtk/gtk.h>

#include "kestrel-bench-plot.h"

G_BEGIN_DECLS

#define KESTREL_TYPE_BENCH_CHART (kestrel_bench_chart_get_type ())
G_DECLARE_FINAL_TYPE (KestrelBenchChart, kestrel_bench_chart, KESTREL, BENCH_CHART, GtkBox)

GtkWidget *kestrel_bench_chart_new (KestrelBenchPlotKind kind);
KestrelBenchPlotKind kestrel_bench_chart_get_kind (KestrelBenchChart *self);
/* The results are borrowed: keep them alive until the next call (NULL, NULL
 * clears). `b` may be NULL; `a_name` and `b_name` label the legend. */
void kestrel_bench_chart_set_results (KestrelBenchChart *self,
                                      const KestrelBenchResult *a, const char *a_name,
                                      const KestrelBenchResult *b, const char *b_name);
/* Cells of A that have a latency (the bars drawn). */
guint kestrel_bench_chart_get_n_bars (KestrelBenchChart *self);
/* Times the drawing function has drawn something (for tests). */
guint kestrel_bench_chart_get_n_draws (KestrelBenchChart *self);

/* The chart as it is drawn, at least 640 px wide, in the widget's colours
 * and font, under `title`: a PNG, or an SVG when `is_svg`. */
gboolean kestrel_bench_chart_export (KestrelBenchChart *self, const char *title, gboolean is_svg,
                                     const char *path, GError **error);

G_END_DECLS
