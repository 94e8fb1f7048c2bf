/* kestrel-benchmark-view.h — the window's Benchmark view: one button runs
 * the suite (core/bench/) on the current model with progress (cell n of m,
 * time left) and Cancel; the "Best Under Budget" line (the fastest
 * configuration within the live CPU budget that meets the accuracy goal,
 * with a button to use it); the charts (latency per configuration, speed
 * against accuracy with its Pareto front, thread scaling), each exported
 * as PNG or SVG; a sortable table of every number with the validity notes
 * as sentences and "Use" on each row, exported as CSV; the saved runs, and
 * a comparison with any of them.
 *
 * The suite runs on a thread of its own; the "running" property is TRUE
 * meanwhile, so the window can pause the live pipeline (it would compete
 * for the cores) and resume it after. Finished runs are saved under
 * g_get_user_data_dir()/kestrel/benchmarks/.
 */
#pragma once

#include <gtk/gtk.h>

#include "kestrel-bench.h"
#include "kestrel-bench-plot.h"

G_BEGIN_DECLS

#define KESTREL_TYPE_BENCHMARK_VIEW (kestrel_benchmark_view_get_type ())
G_DECLARE_FINAL_TYPE (KestrelBenchmarkView, kestrel_benchmark_view, KESTREL, BENCHMARK_VIEW, GtkBox)

GtkWidget *kestrel_benchmark_view_new (void);

/* The model the suite runs: a built-in name or an .onnx path ("front" by
 * default). */
void kestrel_benchmark_view_set_model (KestrelBenchmarkView *self, const char *model_spec);
/* The suite's axes and time per cell (the defaults of
 * kestrel_bench_options_init otherwise); samples_dir is ignored (the
 * bundled photos are used). For tests and a narrowed run. */
void kestrel_benchmark_view_set_options (KestrelBenchmarkView *self, const KestrelBenchOptions *options);

/* What the Run and Cancel buttons do. */
void kestrel_benchmark_view_run (KestrelBenchmarkView *self);
void kestrel_benchmark_view_cancel (KestrelBenchmarkView *self);
gboolean kestrel_benchmark_view_get_running (KestrelBenchmarkView *self);

/* The run shown (the last finished, or one picked from the saved runs);
 * NULL before any. */
const KestrelBenchResult *kestrel_benchmark_view_get_result (KestrelBenchmarkView *self);
/* Shows the saved run at `path` and compares it with nothing (FALSE with
 * the error when it does not load). */
gboolean kestrel_benchmark_view_show_file (KestrelBenchmarkView *self, const char *path, GError **error);
/* Compares the run shown with the saved run at `path` (NULL: none). */
gboolean kestrel_benchmark_view_compare_file (KestrelBenchmarkView *self, const char *path, GError **error);

/* The live view's settings (org.kestrel.Kestrel): "Use This Configuration"
 * writes precision, level, threads and batch there, as the Live controls
 * do, and the budget (throttle-mode, cpu-budget) is read from there for
 * "Best Under Budget". Without settings there is nothing to use a cell on
 * and no budget. */
void kestrel_benchmark_view_set_settings (KestrelBenchmarkView *self, GSettings *settings);
/* What a Use button does: FALSE with the error (no settings, a peer's
 * cell, threads or batch beyond the settings' range). */
gboolean kestrel_benchmark_view_use_cell (KestrelBenchmarkView *self, const KestrelBenchCell *cell, GError **error);

/* What the export buttons do, without the file dialog: the table as CSV
 * (kestrel_bench_result_to_csv), a chart as PNG or SVG. */
gboolean kestrel_benchmark_view_export_csv (KestrelBenchmarkView *self, const char *path, GError **error);
gboolean kestrel_benchmark_view_export_chart (KestrelBenchmarkView *self, KestrelBenchPlotKind kind,
                                              gboolean is_svg, const char *path, GError **error);

G_END_DECLS
