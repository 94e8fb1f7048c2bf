/* kestrel-bench-plot-scaling.c — thread scaling (kestrel-bench-plot.h):
 * for each precision, level and batch that ran at more than one thread
 * count, the speed-up of each thread count over its fewest-thread cell
 * (median time per frame), against the ideal line of a speed-up equal to
 * the ratio of threads. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "kestrel-bench-plot-private.h"

#define GUTTER_GAP 6

typedef struct {
  char *label;                  /* "fp32 full b1" */
  GPtrArray *cells;             /* borrowed, by threads */
} Series;

static void
series_free (Series *s)
{
  g_free (s->label);
  g_ptr_array_unref (s->cells);
  g_free (s);
}

static int
by_threads (gconstpointer a, gconstpointer b)
{
  const KestrelBenchCell *x = *(KestrelBenchCell *const *) a, *y = *(KestrelBenchCell *const *) b;
  return (int) x->threads - (int) y->threads;
}

static gboolean
same_series (const KestrelBenchCell *x, const KestrelBenchCell *y)
{
  return g_strcmp0 (x->engine, y->engine) == 0 && x->precision == y->precision && x->level == y->level
         && x->batch == y->batch;
}

/* Series with two thread counts or more, in the result's order. */
static GPtrArray *
find_series (const KestrelBenchResult *r)
{
  GPtrArray *all = g_ptr_array_new_with_free_func ((GDestroyNotify) series_free);

  for (guint i = 0; i < r->cells->len; i++)
    {
      KestrelBenchCell *c = r->cells->pdata[i];
      Series *s = NULL;

      if (!isfinite (kestrel_bench_cell_get_frame_ms (c)) || c->threads < 1)
        continue;
      for (guint k = 0; k < all->len && s == NULL; k++)
        if (same_series (((Series *) all->pdata[k])->cells->pdata[0], c))
          s = all->pdata[k];
      if (s == NULL)
        {
          s = g_new0 (Series, 1);
          s->cells = g_ptr_array_new ();
          if (g_strcmp0 (c->engine, "kestrel") == 0)
            s->label = g_strdup_printf ("%s %s b%u", kestrel_precision_name (c->precision), kk_level_name (c->level),
                                        c->batch);
          else
            s->label = g_strdup_printf ("%s b%u", c->engine, c->batch);
          g_ptr_array_add (all, s);
        }
      g_ptr_array_add (s->cells, c);
    }
  for (guint k = all->len; k-- > 0;)
    {
      Series *s = all->pdata[k];
      if (s->cells->len < 2)
        g_ptr_array_remove_index (all, k);
      else
        g_ptr_array_sort (s->cells, by_threads);
    }
  return all;
}

static int
plot_area_height (int width)
{
  return width >= 480 ? 200 : 170;
}

static guint
legend_items (const KestrelBenchPalette *palette, GPtrArray *series, PlotLegendItem *items, guint max)
{
  guint n = 0;

  for (guint i = 0; i < series->len && n + 1 < max; i++)
    items[n++] = (PlotLegendItem) { LEGEND_LINE, &palette->series[i % KESTREL_BENCH_PALETTE_SERIES],
                                    ((Series *) series->pdata[i])->label };
  items[n++] = (PlotLegendItem) { LEGEND_DASH, &palette->fg, _("ideal") };
  return n;
}

#define MAX_LEGEND 32
#define MESSAGE_HEIGHT 60

int
plot_scaling_height (PangoLayout *layout, const KestrelBenchResult *a, int width)
{
  static const KestrelBenchPalette unused;
  g_autoptr(GPtrArray) series = find_series (a);
  PlotLegendItem items[MAX_LEGEND];
  guint n;

  if (series->len == 0)
    return MESSAGE_HEIGHT;
  n = legend_items (&unused, series, items, MAX_LEGEND);
  return plot_area_height (width) + PLOT_AXIS_HEIGHT + 4 + plot_legend_rows (layout, items, n, width) * PLOT_LEGEND_ROW;
}

static double
speedup (const Series *s, const KestrelBenchCell *c)
{
  return kestrel_bench_cell_get_frame_ms (s->cells->pdata[0]) / kestrel_bench_cell_get_frame_ms (c);
}

void
plot_scaling_draw (Plot *p, const KestrelBenchResult *a)
{
  g_autoptr(GPtrArray) series = find_series (a);
  int area = plot_area_height (p->width), gutter = 0, w, h;
  guint min_threads = G_MAXUINT, max_threads = 0, x_step;
  double top = 1, y_step, last_right = -G_MAXDOUBLE;
  PlotLegendItem items[MAX_LEGEND];
  guint n_items;
  double x0, x1, y0 = area, y1 = 4;

  if (series->len == 0)
    {
      plot_message (p, _("No configuration ran at more than one thread count: thread scaling needs the "
                         "parallel or full level with several threads."));
      return;
    }
  for (guint i = 0; i < series->len; i++)
    {
      Series *s = series->pdata[i];
      const KestrelBenchCell *first = s->cells->pdata[0], *last = s->cells->pdata[s->cells->len - 1];
      min_threads = MIN (min_threads, first->threads);
      max_threads = MAX (max_threads, last->threads);
      top = MAX (top, (double) last->threads / first->threads);
      for (guint k = 0; k < s->cells->len; k++)
        top = MAX (top, speedup (s, s->cells->pdata[k]));
    }
  /* Speed-up steps of 0.5 up to 4x, whole ones beyond. */
  y_step = top <= 2.5 ? 0.5 : top <= 6 ? 1 : ceil (top / 5);
  top = ceil (top * 1.05 / y_step) * y_step;
  for (double v = 0; v <= top + 1e-9; v += y_step)
    {
      g_autofree char *text = g_strdup_printf (_("%g×"), v);
      plot_text_size (p, text, &w, &h);
      gutter = MAX (gutter, w);
    }
  x0 = gutter + GUTTER_GAP + 8;
  x1 = p->width - 12;
#define X_OF(t) (max_threads > min_threads ? x0 + ((double) (t) - min_threads) / (max_threads - min_threads) * (x1 - x0) \
                                           : (x0 + x1) / 2)
#define Y_OF(v) (y0 - (v) / top * (y0 - y1))

  /* Grid: speed-ups across, thread counts up. */
  cairo_set_line_width (p->cr, 1);
  for (double v = 0; v <= top + 1e-9; v += y_step)
    {
      g_autofree char *text = g_strdup_printf (_("%g×"), v);
      double y = round (Y_OF (v)) + 0.5;
      plot_set_color (p->cr, &p->palette->fg, v == 1 ? 0.25 : 0.1);
      cairo_move_to (p->cr, x0 - 8, y);
      cairo_line_to (p->cr, p->width, y);
      cairo_stroke (p->cr);
      plot_text_size (p, text, &w, &h);
      plot_text (p, text, gutter - w, y - h / 2.0, &p->palette->fg, 0.7);
    }
  x_step = MAX (1, (max_threads - min_threads) / 8);
  for (guint t = min_threads; t <= max_threads; t += x_step)
    {
      /* The first tick says what the numbers count. */
      g_autofree char *text = t == min_threads
                              ? g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u thread", "%u threads", t), t)
                              : g_strdup_printf ("%u", t);
      double x = round (X_OF (t)) + 0.5, left;
      plot_set_color (p->cr, &p->palette->fg, 0.1);
      cairo_move_to (p->cr, x, y1);
      cairo_line_to (p->cr, x, y0);
      cairo_stroke (p->cr);
      plot_text_size (p, text, &w, &h);
      left = CLAMP (x - w / 2.0, 0, p->width - w);
      if (left < last_right + 6)
        continue;
      plot_text (p, text, left, y0 + 4, &p->palette->fg, 0.7);
      last_right = left + w;
    }

  /* The ideal: threads / fewest threads, dashed. */
  plot_set_color (p->cr, &p->palette->fg, 0.45);
  cairo_set_line_width (p->cr, 1.5);
  cairo_set_dash (p->cr, (double[]) { 4, 3 }, 2, 0);
  cairo_move_to (p->cr, X_OF (min_threads), Y_OF (1.0));
  cairo_line_to (p->cr, X_OF (max_threads), Y_OF ((double) max_threads / min_threads));
  cairo_stroke (p->cr);
  cairo_set_dash (p->cr, NULL, 0, 0);

  for (guint i = 0; i < series->len; i++)
    {
      Series *s = series->pdata[i];
      const GdkRGBA *color = &p->palette->series[i % KESTREL_BENCH_PALETTE_SERIES];

      plot_set_color (p->cr, color, 1.0);
      cairo_set_line_width (p->cr, 2);
      for (guint k = 0; k < s->cells->len; k++)
        {
          const KestrelBenchCell *c = s->cells->pdata[k];
          if (k == 0)
            cairo_move_to (p->cr, X_OF (c->threads), Y_OF (speedup (s, c)));
          else
            cairo_line_to (p->cr, X_OF (c->threads), Y_OF (speedup (s, c)));
        }
      cairo_stroke (p->cr);
      for (guint k = 0; k < s->cells->len; k++)
        {
          const KestrelBenchCell *c = s->cells->pdata[k];
          plot_marker (p->cr, X_OF (c->threads), Y_OF (speedup (s, c)), PLOT_MARKER, TRUE);
        }
    }
#undef X_OF
#undef Y_OF
  n_items = legend_items (p->palette, series, items, MAX_LEGEND);
  plot_legend_draw (p, items, n_items, area + PLOT_AXIS_HEIGHT + 4);
}
