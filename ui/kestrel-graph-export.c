/* kestrel-graph-export.c — see kestrel-graph-export.h.
 *
 * Pictures reuse the widgets' drawing rather than a second renderer: a
 * GtkWidgetPaintable gives each graph's render nodes (legend, grid, labels,
 * lines), and gsk_render_node_draw() draws those with cairo onto an image
 * surface: the PNG. The SVG (a cairo SVG surface) holds that same drawing
 * as an image at twice the size, not as vector paths: the graphs draw
 * their lines in GskCairoNodes (recording surfaces), and cairo 1.16's SVG
 * surface drops a recording surface painted onto it, so a vector SVG came
 * out with every legend and label and no line. The background is
 * libadwaita 1.2's window colour for the current style, which the graphs'
 * colours were chosen against.
 */
#include "config.h"

#include <adwaita.h>
#include <cairo-svg.h>
#include <glib/gi18n.h>

#include "kestrel-graph-export.h"
#include "kestrel-ui.h"

#define MARGIN       12
#define TITLE_GAP    6
#define GRAPH_GAP    18
#define SVG_SCALE    2   /* the SVG's image, in pixels per SVG pixel */

gboolean
kestrel_graph_export_format_for_path (const char                *path,
                                      KestrelGraphExportFormat  *format,
                                      GError                   **error)
{
  g_autofree char *lower = g_ascii_strdown (path, -1);

  if (g_str_has_suffix (lower, ".csv"))
    *format = KESTREL_GRAPH_EXPORT_CSV;
  else if (g_str_has_suffix (lower, ".png"))
    *format = KESTREL_GRAPH_EXPORT_PNG;
  else if (g_str_has_suffix (lower, ".svg"))
    *format = KESTREL_GRAPH_EXPORT_SVG;
  else
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("Cannot export to “%s”: the name must end in .csv, .png or .svg"), path);
      return FALSE;
    }
  return TRUE;
}

/* ---- CSV ------------------------------------------------------------------ */

static void
append_field (GString    *out,
              const char *text)
{
  if (strpbrk (text, ",\"\r\n") == NULL)
    {
      g_string_append (out, text);
      return;
    }
  g_string_append_c (out, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

static void
append_number (GString *out,
               double   value,
               int      decimals)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];
  char format[8];

  g_snprintf (format, sizeof format, "%%.%df", decimals);
  g_string_append (out, g_ascii_formatd (buffer, sizeof buffer, format, value));
}

gboolean
kestrel_graph_export_csv (const KestrelGraphExportItem *items,
                          guint                         n_items,
                          const char                   *path,
                          GError                      **error)
{
  g_autoptr(GString) out = g_string_new ("time,seconds,graph,series,value\r\n");
  g_autoptr(GDateTime) now_wall = g_date_time_new_now_utc ();
  gint64 now = g_get_monotonic_time ();

  g_return_val_if_fail (items != NULL || n_items == 0, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  for (guint i = 0; i < n_items; i++)
    {
      KestrelGraphView *graph = items[i].graph;
      guint history = kestrel_graph_view_get_history_length (graph);
      g_autofree KestrelRingSample *samples = g_new (KestrelRingSample, MAX (history, 1));

      for (guint s = 0; s < kestrel_graph_view_get_n_series (graph); s++)
        {
          KestrelRing *ring = kestrel_graph_view_get_series_ring (graph, s);
          guint n = kestrel_ring_copy_samples (ring, samples, history);

          for (guint k = 0; k < n; k++)
            {
              gint64 age_us = samples[k].time_us - now;
              g_autoptr(GDateTime) when = g_date_time_add (now_wall, age_us);
              g_autofree char *stamp = g_date_time_format (when, "%Y-%m-%dT%H:%M:%S");

              /* Milliseconds: finer than the samples' clock means. */
              g_string_append_printf (out, "%s.%03dZ,", stamp, g_date_time_get_microsecond (when) / 1000);
              append_number (out, age_us / 1e6, 3);
              g_string_append_c (out, ',');
              append_field (out, items[i].id);
              g_string_append_c (out, ',');
              append_field (out, kestrel_graph_view_get_series_label (graph, s));
              g_string_append_c (out, ',');
              append_number (out, samples[k].value, 6);
              g_string_append (out, "\r\n");
            }
        }
    }

  if (!g_file_set_contents (path, out->str, (gssize) out->len, error))
    {
      g_prefix_error (error, _("Cannot export the history: "));
      return FALSE;
    }
  return TRUE;
}

/* ---- pictures ------------------------------------------------------------- */

static PangoLayout *
create_title_layout (GtkWidget  *widget,
                     const char *title)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (widget, title);
  g_autoptr(PangoAttrList) attrs = pango_attr_list_new ();

  pango_attr_list_insert (attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
  pango_layout_set_attributes (layout, attrs);
  return layout;
}

static void
draw_graphs (cairo_t                      *cr,
             const KestrelGraphExportItem *items,
             guint                         n_items)
{
  gboolean dark = adw_style_manager_get_dark (adw_style_manager_get_default ());
  int y = MARGIN;

  /* libadwaita 1.2's @window_bg_color. */
  if (dark)
    cairo_set_source_rgb (cr, 0x24 / 255.0, 0x24 / 255.0, 0x24 / 255.0);
  else
    cairo_set_source_rgb (cr, 0xfa / 255.0, 0xfa / 255.0, 0xfa / 255.0);
  cairo_paint (cr);

  for (guint i = 0; i < n_items; i++)
    {
      GtkWidget *widget = GTK_WIDGET (items[i].graph);
      g_autoptr(PangoLayout) layout = create_title_layout (widget, items[i].title);
      g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
      g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
      g_autoptr(GskRenderNode) node = NULL;
      int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
      int title_height;
      GdkRGBA fg;

      kestrel_ui_get_color (widget, &fg);
      gdk_cairo_set_source_rgba (cr, &fg);
      cairo_move_to (cr, MARGIN, y);
      pango_cairo_show_layout (cr, layout);
      pango_layout_get_pixel_size (layout, NULL, &title_height);
      y += title_height + TITLE_GAP;

      gdk_paintable_snapshot (paintable, snapshot, w, h);
      node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
      if (node != NULL)
        {
          cairo_save (cr);
          cairo_translate (cr, MARGIN, y);
          gsk_render_node_draw (node, cr);
          cairo_restore (cr);
        }
      y += h + GRAPH_GAP;
    }
}

gboolean
kestrel_graph_export_image (const KestrelGraphExportItem *items,
                            guint                         n_items,
                            KestrelGraphExportFormat      format,
                            const char                   *path,
                            GError                      **error)
{
  cairo_surface_t *surface;
  cairo_t *cr;
  cairo_status_t status;
  int width = 0, height = MARGIN;

  g_return_val_if_fail (n_items > 0, FALSE);
  g_return_val_if_fail (format == KESTREL_GRAPH_EXPORT_PNG || format == KESTREL_GRAPH_EXPORT_SVG, FALSE);

  for (guint i = 0; i < n_items; i++)
    {
      GtkWidget *widget = GTK_WIDGET (items[i].graph);
      g_autoptr(PangoLayout) layout = create_title_layout (widget, items[i].title);
      int title_height;

      if (!gtk_widget_get_realized (widget) || gtk_widget_get_width (widget) <= 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       _("Cannot export “%s”: the graphs are not shown"), path);
          return FALSE;
        }
      pango_layout_get_pixel_size (layout, NULL, &title_height);
      width = MAX (width, gtk_widget_get_width (widget));
      height += title_height + TITLE_GAP + gtk_widget_get_height (widget) + GRAPH_GAP;
    }
  width += 2 * MARGIN;
  height += MARGIN - GRAPH_GAP;

  if (format == KESTREL_GRAPH_EXPORT_PNG)
    {
      surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
      cr = cairo_create (surface);
      draw_graphs (cr, items, n_items);
      cairo_destroy (cr);
      status = cairo_surface_write_to_png (surface, path);
      cairo_surface_destroy (surface);
    }
  else
    {
      cairo_surface_t *image = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width * SVG_SCALE,
                                                           height * SVG_SCALE);

      cairo_surface_set_device_scale (image, SVG_SCALE, SVG_SCALE);
      cr = cairo_create (image);
      draw_graphs (cr, items, n_items);
      cairo_destroy (cr);

      surface = cairo_svg_surface_create (path, width, height);
      /* Pixels, as on screen: the default unit, pt, makes viewers draw
       * it a third larger. */
      cairo_svg_surface_set_document_unit (surface, CAIRO_SVG_UNIT_PX);
      /* The SVG surface opens its file at once: a folder that is not
       * there fails here. */
      status = cairo_surface_status (surface);
      if (status == CAIRO_STATUS_SUCCESS)
        {
          cr = cairo_create (surface);
          cairo_scale (cr, 1.0 / SVG_SCALE, 1.0 / SVG_SCALE);
          cairo_surface_set_device_scale (image, 1, 1);
          cairo_set_source_surface (cr, image, 0, 0);
          cairo_paint (cr);
          cairo_destroy (cr);
          cairo_surface_finish (surface);
          status = cairo_surface_status (surface);
        }
      cairo_surface_destroy (surface);
      cairo_surface_destroy (image);
    }
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot write “%s”: %s"), path,
                   cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}
