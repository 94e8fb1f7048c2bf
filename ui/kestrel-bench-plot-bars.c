/* kestrel-bench-plot-bars.c — latency per configuration: a bar per cell to
 * its median time per frame, a whisker to its p90 (kestrel-bench-plot.h).
 * Times are per frame (median / batch), so batch-4 cells compare with
 * batch-1 ones; the axis is logarithmic because the scalar level takes a
 * hundred times the simd one. */
#include "config.h"

#include <math.h>

#include "kestrel-bench-plot-private.h"

#define ROW_GAP 8
#define BAR_HEIGHT 10
#define LABEL_GAP 8

static int
bars_per_row (const KestrelBenchResult *b)
{
  return b != NULL ? 2 : 1;
}

static int
row_height (const KestrelBenchResult *b)
{
  return bars_per_row (b) * BAR_HEIGHT + ROW_GAP;
}

int
plot_bars_height (const KestrelBenchResult *a, const KestrelBenchResult *b)
{
  return a->cells->len * row_height (b) + PLOT_AXIS_HEIGHT;
}

static void
draw_bar (Plot *p, const PlotLogAxis *axis, double y, const KestrelBenchCell *c, const GdkRGBA *color)
{
  double xm = plot_log_axis_x (axis, c->median_ms / c->batch), xp = plot_log_axis_x (axis, c->p90_ms / c->batch);

  plot_set_color (p->cr, color, 1.0);
  cairo_rectangle (p->cr, axis->x0, y, MAX (xm - axis->x0, 1.0), BAR_HEIGHT);
  cairo_fill (p->cr);
  /* The whisker: from the median to p90, with a cap. */
  if (isfinite (xp))
    {
      cairo_set_line_width (p->cr, 1.5);
      cairo_move_to (p->cr, xm, y + BAR_HEIGHT / 2.0);
      cairo_line_to (p->cr, xp, y + BAR_HEIGHT / 2.0);
      cairo_move_to (p->cr, xp, y + 1);
      cairo_line_to (p->cr, xp, y + BAR_HEIGHT - 1);
      cairo_stroke (p->cr);
    }
}

void
plot_bars_draw (Plot *p, const KestrelBenchResult *a, const KestrelBenchResult *b)
{
  double lo = G_MAXDOUBLE, hi = 0;
  int label_width = 0;
  PlotLogAxis axis;

  for (guint i = 0; i < a->cells->len; i++)
    {
      const KestrelBenchCell *c = a->cells->pdata[i], *o = plot_matching_cell (b, c);
      g_autofree char *label = kestrel_bench_cell_dup_label (c);
      int w, h;

      plot_text_size (p, label, &w, &h);
      label_width = MAX (label_width, w);
      for (int k = 0; k < 2; k++)
        {
          const KestrelBenchCell *x = k == 0 ? c : o;
          if (x == NULL || !isfinite (x->median_ms))
            continue;
          lo = MIN (lo, x->median_ms / x->batch);
          hi = MAX (hi, (isfinite (x->p90_ms) ? MAX (x->p90_ms, x->median_ms) : x->median_ms) / x->batch);
        }
    }
  if (!(hi > 0))
    return;
  plot_log_axis_fit (&axis, lo, hi, label_width + LABEL_GAP, p->width - label_width - LABEL_GAP - 4);
  plot_log_axis_draw (p, &axis, 0, p->height - PLOT_AXIS_HEIGHT);

  for (guint i = 0; i < a->cells->len; i++)
    {
      const KestrelBenchCell *c = a->cells->pdata[i], *o = plot_matching_cell (b, c);
      g_autofree char *label = kestrel_bench_cell_dup_label (c);
      double y = i * row_height (b) + ROW_GAP / 2.0;
      int w, h;

      plot_text_size (p, label, &w, &h);
      plot_text (p, label, label_width - w, y + bars_per_row (b) * BAR_HEIGHT / 2.0 - h / 2.0, &p->palette->fg, 1.0);
      if (isfinite (c->median_ms))
        draw_bar (p, &axis, y, c, &p->palette->series[0]);
      if (o != NULL && isfinite (o->median_ms))
        draw_bar (p, &axis, y + BAR_HEIGHT, o, &p->palette->compared);
    }
}
