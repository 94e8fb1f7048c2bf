/* kestrel-bench-plot.c — see kestrel-bench-plot.h: the palette, the helpers
 * the three drawings share (kestrel-bench-plot-private.h), and the exports.
 *
 * The exports draw straight onto cairo's PNG (image) and SVG surfaces with
 * the very calls the window's GtkDrawingArea makes, so the SVG is vector
 * paths and text, not a picture of the screen.
 */
#include "config.h"

#include <cairo-svg.h>
#include <glib/gi18n.h>
#include <math.h>

#include "kestrel-bench-plot-private.h"

/* ---- colours --------------------------------------------------------------- */

static void
lookup (GtkStyleContext *style, const char *name, const GdkRGBA *fallback, GdkRGBA *out)
{
  if (!gtk_style_context_lookup_color (style, name, out))
    *out = *fallback;
}

void
kestrel_bench_palette_from_widget (GtkWidget *widget, KestrelBenchPalette *palette)
{
  /* libadwaita's named colours: the foreground variants (@accent_color,
   * not @accent_bg_color) are tuned for contrast against the window's
   * background, which thin lines and small dots need. */
  static const char *const series[KESTREL_BENCH_PALETTE_SERIES] = {
    "accent_color", "success_color", "warning_color", "error_color", "purple_3",
  };
  static const GdkRGBA fallbacks[KESTREL_BENCH_PALETTE_SERIES] = {
    { 0.11f, 0.44f, 0.85f, 1 }, { 0.15f, 0.64f, 0.41f, 1 }, { 0.80f, 0.55f, 0.0f, 1 },
    { 0.88f, 0.11f, 0.14f, 1 }, { 0.57f, 0.25f, 0.67f, 1 },
  };
  GtkStyleContext *style = gtk_widget_get_style_context (widget);
  GdkRGBA fg, bg;

  gtk_style_context_get_color (style, &fg);
  lookup (style, "window_bg_color", &(GdkRGBA) { 1, 1, 1, 1 }, &bg);
  palette->fg = fg;
  palette->bg = bg;
  for (guint i = 0; i < KESTREL_BENCH_PALETTE_SERIES; i++)
    lookup (style, series[i], &fallbacks[i], &palette->series[i]);
  /* No adaptive purple in libadwaita 1.2 (as in style.css): mixed with
   * the foreground it darkens on light backgrounds and lightens on dark. */
  {
    GdkRGBA *p = &palette->series[4];
    p->red = 0.8f * p->red + 0.2f * fg.red;
    p->green = 0.8f * p->green + 0.2f * fg.green;
    p->blue = 0.8f * p->blue + 0.2f * fg.blue;
  }
  palette->compared = fg;
  palette->compared.alpha *= 0.55f;
}

/* ---- text and marks ------------------------------------------------------- */

void
plot_set_color (cairo_t *cr, const GdkRGBA *c, double alpha)
{
  cairo_set_source_rgba (cr, c->red, c->green, c->blue, (double) c->alpha * alpha);
}

void
plot_text_size (Plot *p, const char *text, int *width, int *height)
{
  pango_layout_set_width (p->layout, -1);
  pango_layout_set_text (p->layout, text, -1);
  pango_layout_get_pixel_size (p->layout, width, height);
}

void
plot_text (Plot *p, const char *text, double x, double y, const GdkRGBA *color, double alpha)
{
  pango_layout_set_width (p->layout, -1);
  pango_layout_set_text (p->layout, text, -1);
  plot_set_color (p->cr, color, alpha);
  cairo_move_to (p->cr, x, y);
  pango_cairo_show_layout (p->cr, p->layout);
}

void
plot_marker (cairo_t *cr, double x, double y, double radius, gboolean filled)
{
  cairo_new_sub_path (cr);
  if (filled)
    {
      cairo_arc (cr, x, y, radius, 0, 2 * G_PI);
      cairo_fill (cr);
    }
  else
    {
      cairo_set_line_width (cr, 1.5);
      cairo_arc (cr, x, y, radius - 0.75, 0, 2 * G_PI);
      cairo_stroke (cr);
    }
}

void
plot_message (Plot *p, const char *text)
{
  int w, h;

  pango_layout_set_text (p->layout, text, -1);
  pango_layout_set_width (p->layout, MAX (p->width - 16, 40) * PANGO_SCALE);
  pango_layout_set_wrap (p->layout, PANGO_WRAP_WORD_CHAR);
  pango_layout_set_alignment (p->layout, PANGO_ALIGN_CENTER);
  pango_layout_get_pixel_size (p->layout, &w, &h);
  plot_set_color (p->cr, &p->palette->fg, 0.7);
  cairo_move_to (p->cr, 8, MAX ((p->height - h) / 2.0, 0));
  pango_cairo_show_layout (p->cr, p->layout);
  pango_layout_set_width (p->layout, -1);
  pango_layout_set_alignment (p->layout, PANGO_ALIGN_LEFT);
}

PangoLayout *
plot_measure_layout (const PangoFontDescription *font)
{
  PangoFontMap *map = pango_cairo_font_map_get_default ();
  PangoContext *context = pango_font_map_create_context (map);
  PangoLayout *layout = pango_layout_new (context);

  g_object_unref (context);   /* the layout keeps it */

  if (font != NULL)
    pango_layout_set_font_description (layout, font);
  return layout;
}

/* ---- the log time axis ---------------------------------------------------- */

/* The nearest 1, 2 or 5 times a power of ten below (up = FALSE) or above
 * `v`. */
static double
nice_125 (double v, gboolean up)
{
  double decade = floor (log10 (v)), best = up ? G_MAXDOUBLE : 0;

  for (double d = decade - 1; d <= decade + 1; d++)
    for (int m = 1; m <= 5; m += (m == 1 ? 1 : 3))
      {
        double c = m * pow (10, d);
        if (up ? (c >= v && c < best) : (c <= v && c > best))
          best = c;
      }
  return best;
}

void
plot_log_axis_fit (PlotLogAxis *axis, double min_ms, double max_ms, double x0, double length)
{
  /* Ends at 1, 2 or 5 times a power of ten around the data (a little room
   * each side), so ticks land on round times and no decade is empty. */
  axis->lo = log10 (nice_125 (MAX (min_ms, 1e-6) * 0.9, FALSE));
  axis->hi = log10 (nice_125 (MAX (max_ms, 1e-6) * 1.1, TRUE));
  if (axis->hi <= axis->lo + 0.2)
    axis->hi = axis->lo + log10 (2.5);
  axis->x0 = x0;
  axis->length = MAX (length, 10);
}

double
plot_log_axis_x (const PlotLogAxis *axis, double ms)
{
  double v = log10 (MAX (ms, 1e-6));
  return axis->x0 + (v - axis->lo) / (axis->hi - axis->lo) * axis->length;
}

#define MAX_TICKS 64

void
plot_log_axis_draw (Plot *p, const PlotLogAxis *axis, double top, double bottom)
{
  double taken[MAX_TICKS][2];   /* the labels drawn, left and right */
  guint n_taken = 0;

  cairo_set_line_width (p->cr, 1);
  /* Grid lines at 1, 2 and 5 of each decade; labels first at the decades,
   * then at 2 and 5 where they fit between (a span of two decades or less). */
  for (int pass = 0; pass < 3; pass++)
    for (double d = floor (axis->lo + 1e-9); d < axis->hi + 0.5; d++)
      for (int m = 1; m <= 5; m += (m == 1 ? 1 : 3))
        {
          double ms = m * pow (10, d);
          double x = round (plot_log_axis_x (axis, ms)) + 0.5, left;
          g_autofree char *text = NULL;
          gboolean free_space = TRUE;
          int w, h;

          if (log10 (ms) > axis->hi + 1e-9 || log10 (ms) < axis->lo - 1e-9)
            continue;
          if (pass == 0)
            {
              plot_set_color (p->cr, &p->palette->fg, m == 1 ? 0.25 : 0.1);
              cairo_move_to (p->cr, x, top);
              cairo_line_to (p->cr, x, bottom);
              cairo_stroke (p->cr);
              continue;
            }
          if ((pass == 1) != (m == 1) || (m != 1 && axis->hi - axis->lo > 2) || n_taken == MAX_TICKS)
            continue;
          text = g_strdup_printf (_("%g ms"), ms);
          plot_text_size (p, text, &w, &h);
          left = CLAMP (x - w / 2.0, axis->x0 - 4, p->width - w);
          for (guint i = 0; i < n_taken; i++)
            if (left < taken[i][1] + 6 && left + w + 6 > taken[i][0])
              free_space = FALSE;
          if (!free_space)
            continue;
          plot_text (p, text, left, bottom + 4, &p->palette->fg, 0.7);
          taken[n_taken][0] = left;
          taken[n_taken][1] = left + w;
          n_taken++;
        }
}

/* ---- the legend ----------------------------------------------------------- */

#define LEGEND_MARK_WIDTH 18
#define LEGEND_GAP 14

static int
legend_item_width (PangoLayout *layout, const PlotLegendItem *item)
{
  int w, h;

  pango_layout_set_width (layout, -1);
  pango_layout_set_text (layout, item->text, -1);
  pango_layout_get_pixel_size (layout, &w, &h);
  return LEGEND_MARK_WIDTH + w;
}

int
plot_legend_rows (PangoLayout *layout, const PlotLegendItem *items, guint n, int width)
{
  int rows = n > 0 ? 1 : 0, x = 0;

  for (guint i = 0; i < n; i++)
    {
      int w = legend_item_width (layout, &items[i]);
      if (x > 0 && x + w > width)
        {
          rows++;
          x = 0;
        }
      x += w + LEGEND_GAP;
    }
  return rows;
}

int
plot_legend_draw (Plot *p, const PlotLegendItem *items, guint n, double y)
{
  int rows = n > 0 ? 1 : 0;
  double x = 0;

  for (guint i = 0; i < n; i++)
    {
      int w = legend_item_width (p->layout, &items[i]), tw, th;
      double cy;

      if (x > 0 && x + w > p->width)
        {
          rows++;
          x = 0;
          y += PLOT_LEGEND_ROW;
        }
      plot_text_size (p, items[i].text, &tw, &th);
      cy = y + th / 2.0;
      plot_set_color (p->cr, items[i].color, 1.0);
      switch (items[i].mark)
        {
        case LEGEND_DOT:
        case LEGEND_RING:
          plot_marker (p->cr, x + 6, cy, PLOT_MARKER, items[i].mark == LEGEND_DOT);
          break;
        case LEGEND_FRONT:
          plot_marker (p->cr, x + 6, cy, PLOT_MARKER - 1, TRUE);
          plot_set_color (p->cr, items[i].color, 0.6);
          plot_marker (p->cr, x + 6, cy, PLOT_MARKER + 2, FALSE);
          G_GNUC_FALLTHROUGH;
        case LEGEND_LINE:
        case LEGEND_DASH:
          cairo_set_line_width (p->cr, 2);
          if (items[i].mark == LEGEND_DASH)
            cairo_set_dash (p->cr, (double[]) { 4, 3 }, 2, 0);
          cairo_move_to (p->cr, x, cy);
          cairo_line_to (p->cr, x + 13, cy);
          cairo_stroke (p->cr);
          cairo_set_dash (p->cr, NULL, 0, 0);
          break;
        }
      plot_text (p, items[i].text, x + LEGEND_MARK_WIDTH, y, &p->palette->fg, 0.85);
      x += w + LEGEND_GAP;
    }
  return rows;
}

const KestrelBenchCell *
plot_matching_cell (const KestrelBenchResult *r, const KestrelBenchCell *c)
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

/* ---- the API -------------------------------------------------------------- */

int
kestrel_bench_plot_get_height (KestrelBenchPlotKind kind, const PangoFontDescription *font,
                               const KestrelBenchResult *a, const KestrelBenchResult *b, int width)
{
  g_autoptr(PangoLayout) layout = NULL;

  if (a == NULL)
    return 0;
  switch (kind)
    {
    case KESTREL_BENCH_PLOT_LATENCY:
      return plot_bars_height (a, b);
    case KESTREL_BENCH_PLOT_PARETO:
      layout = plot_measure_layout (font);
      return plot_pareto_height (layout, a, b, width);
    case KESTREL_BENCH_PLOT_SCALING:
      layout = plot_measure_layout (font);
      return plot_scaling_height (layout, a, b, width);
    }
  return 0;
}

void
kestrel_bench_plot_draw (KestrelBenchPlotKind kind, cairo_t *cr, const PangoFontDescription *font,
                         const KestrelBenchPalette *palette, const KestrelBenchResult *a,
                         const KestrelBenchResult *b, int width, int height)
{
  Plot p = { cr, NULL, palette, width, height };

  if (a == NULL || a->cells->len == 0)
    return;
  p.layout = pango_cairo_create_layout (cr);
  if (font != NULL)
    pango_layout_set_font_description (p.layout, font);
  cairo_save (cr);
  switch (kind)
    {
    case KESTREL_BENCH_PLOT_LATENCY:
      plot_bars_draw (&p, a, b);
      break;
    case KESTREL_BENCH_PLOT_PARETO:
      plot_pareto_draw (&p, a, b);
      break;
    case KESTREL_BENCH_PLOT_SCALING:
      plot_scaling_draw (&p, a, b);
      break;
    }
  cairo_restore (cr);
  g_object_unref (p.layout);
}

#define EXPORT_MARGIN 16

gboolean
kestrel_bench_plot_export (KestrelBenchPlotKind kind, const char *title, const PangoFontDescription *font,
                           const KestrelBenchPalette *palette, const KestrelBenchResult *a,
                           const KestrelBenchResult *b, int width, gboolean is_svg, const char *path,
                           GError **error)
{
  g_autoptr(PangoLayout) measure = plot_measure_layout (font);
  int plot_height = kestrel_bench_plot_get_height (kind, font, a, b, width), title_w, title_h;
  int full_width = width + 2 * EXPORT_MARGIN, full_height;
  cairo_surface_t *surface;
  cairo_status_t status;
  cairo_t *cr;
  PangoLayout *layout;

  if (a == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("There is no benchmark run to export"));
      return FALSE;
    }
  pango_layout_set_text (measure, title, -1);
  pango_layout_get_pixel_size (measure, &title_w, &title_h);
  full_height = EXPORT_MARGIN + title_h + 8 + plot_height + EXPORT_MARGIN;
  surface = is_svg ? cairo_svg_surface_create (path, full_width, full_height)
                   : cairo_image_surface_create (CAIRO_FORMAT_ARGB32, full_width, full_height);
  /* The SVG surface opens its file at once: a folder that cannot be
   * written to shows here. */
  if ((status = cairo_surface_status (surface)) != CAIRO_STATUS_SUCCESS)
    {
      cairo_surface_destroy (surface);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Could not write “%s”: %s"), path,
                   cairo_status_to_string (status));
      return FALSE;
    }
  /* Pixels, as on screen (cairo 1.16 writes points by default). */
  if (is_svg)
    cairo_svg_surface_set_document_unit (surface, CAIRO_SVG_UNIT_PX);
  cr = cairo_create (surface);
  plot_set_color (cr, &palette->bg, 1.0);
  cairo_paint (cr);
  layout = pango_cairo_create_layout (cr);
  if (font != NULL)
    pango_layout_set_font_description (layout, font);
  pango_layout_set_markup (layout, "", -1);
  {
    g_autofree char *escaped = g_markup_escape_text (title, -1);
    g_autofree char *markup = g_strdup_printf ("<b>%s</b>", escaped);
    pango_layout_set_markup (layout, markup, -1);
  }
  plot_set_color (cr, &palette->fg, 1.0);
  cairo_move_to (cr, EXPORT_MARGIN, EXPORT_MARGIN);
  pango_cairo_show_layout (cr, layout);
  g_object_unref (layout);
  cairo_translate (cr, EXPORT_MARGIN, EXPORT_MARGIN + title_h + 8);
  kestrel_bench_plot_draw (kind, cr, font, palette, a, b, width, plot_height);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  if (is_svg)
    cairo_surface_finish (surface);
  else
    {
      status = cairo_surface_write_to_png (surface, path);
      if (status == CAIRO_STATUS_SUCCESS)
        status = cairo_surface_status (surface);
    }
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Could not write “%s”: %s"), path,
                   cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}
