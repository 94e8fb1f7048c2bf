/* kestrel-bench-plot-pareto.c — speed against accuracy (kestrel-bench-plot.h):
 * time per frame on a log axis, output SQNR up the side, a dot per cell
 * (filled when it meets the accuracy goal, faces agreeing 100%), and the
 * Pareto front as a staircase through the cells nothing faster matches.
 * An output identical to the reference has an infinite SQNR: those cells
 * sit on an "exact" band above the scale. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "kestrel-bench-plot-private.h"

#define EXACT_BAND 24     /* above the dB scale, when some output is exact */
#define GUTTER_GAP 6

static int
plot_area_height (int width)
{
  return width >= 480 ? 220 : 180;
}

static guint
legend_items (const KestrelBenchPalette *palette, const KestrelBenchResult *b, PlotLegendItem *items)
{
  guint n = 0;

  items[n++] = (PlotLegendItem) { LEGEND_DOT, &palette->series[0], _("meets the accuracy goal") };
  items[n++] = (PlotLegendItem) { LEGEND_RING, &palette->series[0], _("misses it") };
  items[n++] = (PlotLegendItem) { LEGEND_FRONT, &palette->series[0], _("Pareto front") };
  if (b != NULL)
    items[n++] = (PlotLegendItem) { LEGEND_DOT, &palette->compared, _("run compared with") };
  return n;
}

int
plot_pareto_height (PangoLayout *layout, const KestrelBenchResult *a, const KestrelBenchResult *b, int width)
{
  static const KestrelBenchPalette unused;
  PlotLegendItem items[4];
  guint n = legend_items (&unused, b, items);

  return plot_area_height (width) + PLOT_AXIS_HEIGHT + 4 + plot_legend_rows (layout, items, n, width) * PLOT_LEGEND_ROW;
}

typedef struct {
  double lo, hi, step;   /* dB */
  double top, bottom;    /* pixels of the dB scale; the exact band is above top */
  gboolean exact;        /* some cell is exact: the band is drawn */
} DbAxis;

static double
db_y (const DbAxis *axis, double db)
{
  if (isinf (db))
    return EXACT_BAND / 2.0;
  return axis->bottom - (db - axis->lo) / (axis->hi - axis->lo) * (axis->bottom - axis->top);
}

static void
fit_db (DbAxis *axis, double min, double max)
{
  double raw, magnitude, step = 1;

  if (!(max >= min))
    min = max = 0;
  if (max - min < 1)
    {
      min -= 5;
      max += 5;
    }
  raw = (max - min) / 4;
  magnitude = pow (10, floor (log10 (raw)));
  for (int i = 0; i < 4; i++)
    {
      static const double nice[] = { 1, 2, 5, 10 };
      step = nice[i] * magnitude;
      if (step >= raw)
        break;
    }
  axis->step = step;
  axis->lo = floor (min / step) * step;
  axis->hi = ceil (max / step) * step;
  if (axis->hi <= axis->lo)
    axis->hi = axis->lo + step;
}

static void
draw_cells (Plot *p, const PlotLogAxis *x_axis, const DbAxis *y_axis, const KestrelBenchResult *r,
            const GdkRGBA *color, double radius)
{
  for (guint i = 0; i < r->cells->len; i++)
    {
      const KestrelBenchCell *c = r->cells->pdata[i];
      double ms = kestrel_bench_cell_get_frame_ms (c);
      if (!isfinite (ms) || isnan (c->sqnr_db))
        continue;
      plot_set_color (p->cr, color, 1.0);
      plot_marker (p->cr, plot_log_axis_x (x_axis, ms), db_y (y_axis, c->sqnr_db), radius,
                   kestrel_bench_cell_meets_goal (c));
    }
}

/* The front's dots get a halo (a front of one cell has no line to show
 * it) and a label: right and above, or left where the right edge is near,
 * or below at the top. */
static void
label_front (Plot *p, const PlotLogAxis *x_axis, const DbAxis *y_axis, GPtrArray *front)
{
  for (guint i = 0; i < front->len; i++)
    {
      const KestrelBenchCell *c = front->pdata[i];
      g_autofree char *label = kestrel_bench_cell_dup_label (c);
      double x = plot_log_axis_x (x_axis, kestrel_bench_cell_get_frame_ms (c)), y = db_y (y_axis, c->sqnr_db);
      double tx, ty;
      int w, h;

      plot_set_color (p->cr, &p->palette->series[0], 0.6);
      plot_marker (p->cr, x, y, PLOT_MARKER + 3, FALSE);

      plot_text_size (p, label, &w, &h);
      tx = x + 7 + w <= p->width ? x + 7 : x - 7 - w;
      ty = y - h - 1 >= 0 ? y - h - 1 : y + 3;
      plot_text (p, label, MAX (tx, 0), ty, &p->palette->fg, 0.85);
    }
}

void
plot_pareto_draw (Plot *p, const KestrelBenchResult *a, const KestrelBenchResult *b)
{
  g_autoptr(GPtrArray) front = kestrel_bench_pareto_front (a);
  double lo_ms = G_MAXDOUBLE, hi_ms = 0, lo_db = G_MAXDOUBLE, hi_db = -G_MAXDOUBLE;
  int area = plot_area_height (p->width), gutter = 0, w, h;
  PlotLegendItem items[4];
  guint n_items;
  PlotLogAxis x_axis;
  DbAxis y_axis = { 0 };
  gboolean any = FALSE;

  for (int k = 0; k < 2; k++)
    for (guint i = 0; (k == 0 ? a : b) != NULL && i < (k == 0 ? a : b)->cells->len; i++)
      {
        const KestrelBenchCell *c = (k == 0 ? a : b)->cells->pdata[i];
        double ms = kestrel_bench_cell_get_frame_ms (c);
        if (!isfinite (ms) || isnan (c->sqnr_db))
          continue;
        any = TRUE;
        lo_ms = MIN (lo_ms, ms);
        hi_ms = MAX (hi_ms, ms);
        if (isfinite (c->sqnr_db))
          {
            lo_db = MIN (lo_db, c->sqnr_db);
            hi_db = MAX (hi_db, c->sqnr_db);
          }
        else
          y_axis.exact = TRUE;
      }
  if (!any)
    {
      plot_message (p, _("No cell has an accuracy figure: the suite ran without the sample photos."));
      return;
    }
  fit_db (&y_axis, lo_db, hi_db);
  y_axis.top = y_axis.exact ? EXACT_BAND + 10 : 8;
  y_axis.bottom = area;

  /* The gutter is as wide as the widest y label. */
  plot_text_size (p, _("exact"), &w, &h);
  gutter = y_axis.exact ? w : 0;
  for (double v = y_axis.lo; v <= y_axis.hi + 1e-9; v += y_axis.step)
    {
      g_autofree char *text = g_strdup_printf (_("%g dB"), v);
      plot_text_size (p, text, &w, &h);
      gutter = MAX (gutter, w);
    }
  plot_log_axis_fit (&x_axis, lo_ms, hi_ms, gutter + GUTTER_GAP, p->width - gutter - GUTTER_GAP - 8);
  plot_log_axis_draw (p, &x_axis, 0, area);

  /* dB grid and labels; the exact band's line dashed. */
  cairo_set_line_width (p->cr, 1);
  for (double v = y_axis.lo; v <= y_axis.hi + 1e-9; v += y_axis.step)
    {
      g_autofree char *text = g_strdup_printf (_("%g dB"), v);
      double y = round (db_y (&y_axis, v)) + 0.5;
      plot_set_color (p->cr, &p->palette->fg, 0.1);
      cairo_move_to (p->cr, x_axis.x0, y);
      cairo_line_to (p->cr, p->width, y);
      cairo_stroke (p->cr);
      plot_text_size (p, text, &w, &h);
      plot_text (p, text, gutter - w, y - h / 2.0, &p->palette->fg, 0.7);
    }
  if (y_axis.exact)
    {
      plot_set_color (p->cr, &p->palette->fg, 0.25);
      cairo_set_dash (p->cr, (double[]) { 3, 3 }, 2, 0);
      cairo_move_to (p->cr, x_axis.x0, EXACT_BAND + 2.5);
      cairo_line_to (p->cr, p->width, EXACT_BAND + 2.5);
      cairo_stroke (p->cr);
      cairo_set_dash (p->cr, NULL, 0, 0);
      plot_text_size (p, _("exact"), &w, &h);
      plot_text (p, _("exact"), gutter - w, db_y (&y_axis, INFINITY) - h / 2.0, &p->palette->fg, 0.7);
    }

  /* The front: from each cell right to the next one's time, then up. */
  if (front->len > 0)
    {
      plot_set_color (p->cr, &p->palette->series[0], 0.6);
      cairo_set_line_width (p->cr, 1.5);
      for (guint i = 0; i < front->len; i++)
        {
          const KestrelBenchCell *c = front->pdata[i];
          double x = plot_log_axis_x (&x_axis, kestrel_bench_cell_get_frame_ms (c)), y = db_y (&y_axis, c->sqnr_db);
          if (i == 0)
            cairo_move_to (p->cr, x, y);
          else
            {
              double x_prev, y_prev;
              cairo_get_current_point (p->cr, &x_prev, &y_prev);
              cairo_line_to (p->cr, x, y_prev);
              cairo_line_to (p->cr, x, y);
            }
        }
      cairo_stroke (p->cr);
    }
  if (b != NULL)
    draw_cells (p, &x_axis, &y_axis, b, &p->palette->compared, PLOT_MARKER - 1);
  draw_cells (p, &x_axis, &y_axis, a, &p->palette->series[0], PLOT_MARKER);
  label_front (p, &x_axis, &y_axis, front);

  n_items = legend_items (p->palette, b, items);
  plot_legend_draw (p, items, n_items, area + PLOT_AXIS_HEIGHT + 4);
}
