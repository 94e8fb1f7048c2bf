/* kestrel-graph-view-pointer.c — KestrelGraphView under the pointer: the
 * tooltip with the age and the value of each visible series at the sample
 * nearest the pointer (as GNOME Resources and Mission Center show them),
 * and the marker the drawing puts there. Over the legend or the labels the
 * widget's own tooltip (the application's explanation of the graph) shows.
 */
#include "config.h"

#include <math.h>
#include <glib/gi18n-lib.h>

#include "kestrel-graph-view-private.h"

static void
motion_cb (GtkEventControllerMotion *controller,
           double                    x,
           double                    y,
           KestrelGraphView         *self)
{
  self->hovering = TRUE;
  self->hover_x = x;
  self->hover_y = y;
  /* Only a few hundred pixels a second, and only while the pointer moves
   * over the graph: redraw for the marker, and ask for the tooltip again
   * so that it follows. */
  gtk_widget_queue_draw (GTK_WIDGET (self));
  gtk_widget_trigger_tooltip_query (GTK_WIDGET (self));
}

static void
leave_cb (GtkEventControllerMotion *controller,
          KestrelGraphView         *self)
{
  self->hovering = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* Over the plot, the values under the pointer; elsewhere (the legend, the
 * labels) the tooltip the application set, if any. */
gboolean
_kestrel_graph_view_query_tooltip (GtkWidget  *widget,
                                  int         x,
                                  int         y,
                                  gboolean    keyboard,
                                  GtkTooltip *tooltip)
{
  g_autofree char *text = NULL;

  if (!keyboard)
    text = kestrel_graph_view_describe_at (KESTREL_GRAPH_VIEW (widget), x, y);
  if (text != NULL)
    {
      gtk_tooltip_set_text (tooltip, text);
      return TRUE;
    }
  /* KestrelGraphView derives from GtkWidget directly. */
  return GTK_WIDGET_CLASS (g_type_class_peek (GTK_TYPE_WIDGET))->query_tooltip (widget, x, y, keyboard, tooltip);
}

static char *
format_age (double seconds)
{
  if (seconds < 0.5)
    /* Translators: the time of the point under the pointer on a live graph */
    return g_strdup (_("Now"));
  if (seconds < 119.5)
    /* Translators: the age of the point under the pointer, in seconds */
    return g_strdup_printf (_("%.0f s ago"), seconds);
  /* Translators: the age of the point under the pointer, in minutes */
  return g_strdup_printf (_("%.1f min ago"), seconds / 60.0);
}

char *
kestrel_graph_view_describe_at (KestrelGraphView *self,
                                double            x,
                                double            y)
{
  g_autofree KestrelGraphViewValue *values = NULL;
  g_autofree char *age = NULL;
  GString *text;
  Geometry g;
  guint n_values = 0;
  gint64 sample_time;
  double total = 0.0;

  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), NULL);

  _kestrel_graph_view_compute_geometry (self, gtk_widget_get_width (GTK_WIDGET (self)),
                                        gtk_widget_get_height (GTK_WIDGET (self)), &g);
  if (!graphene_rect_contains_point (&g.plot, &GRAPHENE_POINT_INIT (x, y)) ||
      !kestrel_graph_view_query (self, _kestrel_graph_view_x_to_time (self, &g.plot, x),
                                 &values, &n_values, &sample_time))
    return NULL;

  age = format_age ((_kestrel_graph_view_right_time (self) - sample_time) / 1e6);
  text = g_string_new (age);
  for (guint k = 0; k < n_values; k++)
    {
      g_autofree char *value = _kestrel_graph_view_format_latest (self, values[k].value);

      total += values[k].value;
      /* Translators: a series and its value under the pointer, e.g.
       * "Kestrel: 23.4 %" */
      g_string_append_printf (text, _("\n%s: %s"),
                              kestrel_graph_view_get_series_label (self, values[k].series), value);
    }
  if (self->stacked && n_values > 1)
    {
      g_autofree char *value = _kestrel_graph_view_format_latest (self, total);

      /* Translators: the sum of a stacked graph's values under the pointer */
      g_string_append_printf (text, _("\nTotal: %s"), value);
    }
  return g_string_free (text, FALSE);
}

void
_kestrel_graph_view_pointer_init (KestrelGraphView *self)
{
  GtkEventController *motion = gtk_event_controller_motion_new ();

  g_signal_connect (motion, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (motion, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
}
