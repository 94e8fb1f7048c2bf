/* kestrel-bench-plot-scaling.c — thread scaling (kestrel-bench-plot.h):
 * for each precision, level and batch that ran at more than one thread
 * count, the speed-up of each thread count over its fewest-thread cell
 * (median time per frame), against the ideal line of a speed-up equal to
 * the ratio of threads. A compared run (b) is drawn in the same axes: its
 * series dotted with hollow markers, each in the colour of the shown run's
 * series of the same configuration, so the two runs' scaling of one
 * configuration sit side by side. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "kestrel-bench-plot-private.h"

#define GUTTER_GAP 6

typedef struct {
  char *label;                  /* "fp32 full b1" */
  GPtrArray *cells;             /* borrowed, by threads */
  guint color;                  /* index into the palette's series */
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

/* Colours: the shown run's series in order; a compared series takes the
 * colour of the shown one of the same configuration, or the next free one. */
static void
assign_colors (GPtrArray *a, GPtrArray *b)
{
  guint next = a->len;

  for (guint i = 0; i < a->len; i++)
    ((Series *) a->pdata[i])->color = i;
  for (guint k = 0; k < b->len; k++)
    {
      Series *s = b->pdata[k];
      s->color = G_MAXUINT;
      for (guint i = 0; i < a->len && s->color == G_MAXUINT; i++)
        if (same_series (((Series *) a->pdata[i])->cells->pdata[0], s->cells->pdata[0]))
          s->color = i;
      if (s->color == G_MAXUINT)
        s->color = next++;
    }
}

/* Both runs' series; b's may be empty (no compared run). */
static void
find_both (const KestrelBenchResult *a, const KestrelBenchResult *b, GPtrArray **sa, GPtrArray **sb)
{
  *sa = find_series (a);
  *sb = b != NULL && b->cells != NULL ? find_series (b) : g_ptr_array_new_with_free_func ((GDestroyNotify) series_free);
  assign_colors (*sa, *sb);
}

static int
plot_area_height (int width)
{
  return width >= 480 ? 200 : 170;
}

/* One entry per configuration (the shown run's, then those only the
 * compared run has), the ideal, and with a compared run which marker is
 * which run. */
static guint
legend_items (const KestrelBenchPalette *palette, GPtrArray *sa, GPtrArray *sb, PlotLegendItem *items, guint max)
{
  guint n = 0;

  for (guint i = 0; i < sa->len && n + 3 < max; i++)
    items[n++] = (PlotLegendItem) { LEGEND_LINE, &palette->series[i % KESTREL_BENCH_PALETTE_SERIES],
                                    ((Series *) sa->pdata[i])->label };
  for (guint k = 0; k < sb->len && n + 3 < max; k++)
    {
      const Series *s = sb->pdata[k];
      if (s->color >= sa->len)
        items[n++] = (PlotLegendItem) { LEGEND_LINE, &palette->series[s->color % KESTREL_BENCH_PALETTE_SERIES],
                                        s->label };
    }
  items[n++] = (PlotLegendItem) { LEGEND_DASH, &palette->fg, _("ideal") };
  if (sb->len > 0)
    {
      /* TRANSLATORS: thread-scaling chart legend: the solid lines with
       * filled markers are the run shown... */
      items[n++] = (PlotLegendItem) { LEGEND_DOT, &palette->fg, _("run shown") };
      /* TRANSLATORS: ...the dotted lines with hollow markers the run it is
       * compared with. */
      items[n++] = (PlotLegendItem) { LEGEND_RING, &palette->fg, _("compared run, dotted") };
    }
  return n;
}

#define MAX_LEGEND 32
#define MESSAGE_HEIGHT 60

int
plot_scaling_height (PangoLayout *layout, const KestrelBenchResult *a, const KestrelBenchResult *b, int width)
{
  static const KestrelBenchPalette unused;
  g_autoptr(GPtrArray) sa = NULL;
  g_autoptr(GPtrArray) sb = NULL;
  PlotLegendItem items[MAX_LEGEND];
  guint n;

  find_both (a, b, &sa, &sb);
  if (sa->len == 0 && sb->len == 0)
    return MESSAGE_HEIGHT;
  n = legend_items (&unused, sa, sb, items, MAX_LEGEND);
  return plot_area_height (width) + PLOT_AXIS_HEIGHT + 4 + plot_legend_rows (layout, items, n, width) * PLOT_LEGEND_ROW;
}

static double
speedup (const Series *s, const KestrelBenchCell *c)
{
  return kestrel_bench_cell_get_frame_ms (s->cells->pdata[0]) / kestrel_bench_cell_get_frame_ms (c);
}

/* One run's series: solid with filled markers (the run shown), or dotted
 * with hollow ones (the compared run). */
#define X_OF(t) (max_threads > min_threads ? x0 + ((double) (t) - min_threads) / (max_threads - min_threads) * (x1 - x0) \
                                           : (x0 + x1) / 2)
#define Y_OF(v) (y0 - (v) / top * (y0 - y1))
static void
draw_series (Plot *p, GPtrArray *series, gboolean compared, guint min_threads, guint max_threads, double top,
             double x0, double x1, double y0, double y1)
{
  for (guint i = 0; i < series->len; i++)
    {
      Series *s = series->pdata[i];
      const GdkRGBA *color = &p->palette->series[s->color % KESTREL_BENCH_PALETTE_SERIES];

      plot_set_color (p->cr, color, 1.0);
      cairo_set_line_width (p->cr, compared ? 1.5 : 2);
      if (compared)
        cairo_set_dash (p->cr, (double[]) { 1.5, 3 }, 2, 0);
      for (guint k = 0; k < s->cells->len; k++)
        {
          const KestrelBenchCell *c = s->cells->pdata[k];
          if (k == 0)
            cairo_move_to (p->cr, X_OF (c->threads), Y_OF (speedup (s, c)));
          else
            cairo_line_to (p->cr, X_OF (c->threads), Y_OF (speedup (s, c)));
        }
      cairo_stroke (p->cr);
      cairo_set_dash (p->cr, NULL, 0, 0);
      for (guint k = 0; k < s->cells->len; k++)
        {
          const KestrelBenchCell *c = s->cells->pdata[k];
          plot_marker (p->cr, X_OF (c->threads), Y_OF (speedup (s, c)), PLOT_MARKER, !compared);
        }
    }
}

void
plot_scaling_draw (Plot *p, const KestrelBenchResult *a, const KestrelBenchResult *b)
{
  g_autoptr(GPtrArray) series = NULL;
  g_autoptr(GPtrArray) compared = NULL;
  int area = plot_area_height (p->width), gutter = 0, w, h;
  guint min_threads = G_MAXUINT, max_threads = 0, x_step;
  double top = 1, y_step, last_right = -G_MAXDOUBLE;
  PlotLegendItem items[MAX_LEGEND];
  guint n_items;
  double x0, x1, y0 = area, y1 = 4;

  find_both (a, b, &series, &compared);
  if (series->len == 0 && compared->len == 0)
    {
      plot_message (p, _("No configuration ran at more than one thread count: thread scaling needs the "
                         "parallel or full level with several threads."));
      return;
    }
  for (guint i = 0; i < series->len + compared->len; i++)
    {
      Series *s = i < series->len ? series->pdata[i] : compared->pdata[i - series->len];
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
      /* The top line's label is centred on it: keep its upper half in. */
      y1 = MAX (y1, ceil (h / 2.0) + 1);
    }
  x0 = gutter + GUTTER_GAP + 8;
  x1 = p->width - 12;

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

  /* The compared run first, so the run shown is drawn over it. */
  draw_series (p, compared, TRUE, min_threads, max_threads, top, x0, x1, y0, y1);
  draw_series (p, series, FALSE, min_threads, max_threads, top, x0, x1, y0, y1);
#undef X_OF
#undef Y_OF
  n_items = legend_items (p->palette, series, compared, items, MAX_LEGEND);
  plot_legend_draw (p, items, n_items, area + PLOT_AXIS_HEIGHT + 4);
}
