/* kestrel-bench-plot.h — the Benchmark view's charts as plain cairo
 * drawings, so the window (KestrelBenchChart) and the exported PNG and
 * SVG files are drawn by the same code:
 *
 *   LATENCY  a bar per cell to its median time per frame, a whisker to
 *            its p90, on a log axis; a second bar per cell for the run
 *            compared with.
 *   PARETO   speed against accuracy: time per frame (log axis) against
 *            output SQNR (dB, "exact" on a band at the top), a dot per
 *            cell, filled when it meets the accuracy goal (faces
 *            agreeing 100%), hollow when not; the Pareto front as a
 *            stepped line through the cells nothing faster matches, each
 *            labelled.
 *   SCALING  speed-up against threads, one line per precision, level and
 *            batch that ran at more than one thread count, over its
 *            fewest-thread cell, with the ideal (linear) line dashed.
 *
 * Colours come in a KestrelBenchPalette, filled from the theme's named
 * colours (kestrel_bench_palette_from_widget), so light, dark and high
 * contrast all apply, to the exports too.
 */
#pragma once

#include <gtk/gtk.h>

#include "kestrel-bench.h"

G_BEGIN_DECLS

typedef enum {
  KESTREL_BENCH_PLOT_LATENCY,
  KESTREL_BENCH_PLOT_PARETO,
  KESTREL_BENCH_PLOT_SCALING,
} KestrelBenchPlotKind;

#define KESTREL_BENCH_PALETTE_SERIES 5

typedef struct {
  GdkRGBA fg;          /* text, axes (faded for the grid) */
  GdkRGBA bg;          /* what exports are drawn on */
  GdkRGBA compared;    /* the run compared with */
  GdkRGBA series[KESTREL_BENCH_PALETTE_SERIES];  /* series[0] is the run shown */
} KestrelBenchPalette;

void kestrel_bench_palette_from_widget (GtkWidget *widget, KestrelBenchPalette *palette);

/* The height the plot wants at `width` (its legend rows included). */
int kestrel_bench_plot_get_height (KestrelBenchPlotKind kind, const PangoFontDescription *font,
                                   const KestrelBenchResult *a, const KestrelBenchResult *b, int width);

/* Draws at (0, 0) to (width, height) of `cr`, text in `font` (NULL: the
 * default). `b` (the run compared with) may be NULL; nothing is drawn
 * without `a`. */
void kestrel_bench_plot_draw (KestrelBenchPlotKind kind, cairo_t *cr, const PangoFontDescription *font,
                              const KestrelBenchPalette *palette, const KestrelBenchResult *a,
                              const KestrelBenchResult *b, int width, int height);

/* The plot alone at `width` px on the palette's background, under a
 * `title`, into a PNG or (is_svg) an SVG file. */
gboolean kestrel_bench_plot_export (KestrelBenchPlotKind kind, const char *title, const PangoFontDescription *font,
                                    const KestrelBenchPalette *palette, const KestrelBenchResult *a,
                                    const KestrelBenchResult *b, int width, gboolean is_svg, const char *path,
                                    GError **error);

G_END_DECLS
