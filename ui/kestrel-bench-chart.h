/* kestrel-bench-chart.h — latency per configuration of a benchmark result:
 * one horizontal bar per cell (median time per frame) with a whisker to
 * its p90, on a logarithmic axis (the scalar level is a hundred times the
 * simd one), drawn with cairo in the theme's colours. Given a second
 * result, each cell gets a second bar under the first, for comparison.
 */
#pragma once

#include <gtk/gtk.h>

#include "kestrel-bench.h"

G_BEGIN_DECLS

#define KESTREL_TYPE_BENCH_CHART (kestrel_bench_chart_get_type ())
G_DECLARE_FINAL_TYPE (KestrelBenchChart, kestrel_bench_chart, KESTREL, BENCH_CHART, GtkBox)

GtkWidget *kestrel_bench_chart_new (void);
/* The results are borrowed: keep them alive until the next call (NULL, NULL
 * clears). `b` may be NULL; `a_name` and `b_name` label the legend. */
void kestrel_bench_chart_set_results (KestrelBenchChart *self,
                                      const KestrelBenchResult *a, const char *a_name,
                                      const KestrelBenchResult *b, const char *b_name);
/* Cells drawn (those of A). */
guint kestrel_bench_chart_get_n_bars (KestrelBenchChart *self);

G_END_DECLS
