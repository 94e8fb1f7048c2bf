/* kestrel-graph-view-legend.c — KestrelGraphView's legend: real widgets
 * in a GtkFlowBox (they wrap when the graph is narrow, are read by screen
 * readers and follow the font settings). Each series' entry is a flat
 * toggle button with its swatch, name and latest value: clicking it (or
 * Space on it) hides or shows the series. The swatch carries the series'
 * CSS class and the plot reads its colour back, so the two always match.
 */
#include "config.h"

#include <math.h>
#include <glib/gi18n-lib.h>

#include "kestrel-graph-view-private.h"

static GtkWidget *
new_swatch (const char *css_class)
{
  GtkWidget *swatch;

  /* A plain box styled by CSS (background-color: currentColor): its colour
   * is what the plot reads back, so the two cannot disagree. */
  swatch = g_object_new (GTK_TYPE_BOX,
                         "accessible-role", GTK_ACCESSIBLE_ROLE_PRESENTATION,
                         "valign", GTK_ALIGN_CENTER,
                         NULL);
  gtk_widget_add_css_class (swatch, "swatch");
  if (css_class != NULL)
    gtk_widget_add_css_class (swatch, css_class);
  return swatch;
}

/* A legend entry, in the GtkFlowBoxChild the legend wraps it in. */
static void
legend_insert (KestrelGraphView *self,
               GtkWidget        *item,
               int               position)
{
  GtkWidget *child;

  gtk_flow_box_insert (GTK_FLOW_BOX (self->legend), item, position);
  child = gtk_widget_get_parent (item);
  gtk_widget_set_focusable (child, FALSE);
}

/* A legend entry switches its series off and on. The toggle is the entry
 * itself, so it works with a click, the keyboard and a screen reader. */
static void
series_toggled (GtkToggleButton  *button,
                KestrelGraphView *self)
{
  for (guint i = 0; i < self->series->len; i++)
    if (get_series (self, i)->item == GTK_WIDGET (button))
      {
        kestrel_graph_view_set_series_visible (self, i, gtk_toggle_button_get_active (button));
        return;
      }
}

void
_kestrel_graph_view_update_legend_visibility (KestrelGraphView *self)
{
  /* The flow box child, so a hidden entry leaves no gap. */
  gtk_widget_set_visible (gtk_widget_get_parent (self->reference_item), self->show_reference);
  gtk_widget_set_visible (self->legend,
                          self->show_legend &&
                          (self->series->len > 0 || self->show_reference));
}

void
_kestrel_graph_view_update_legend_values (KestrelGraphView *self)
{
  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = get_series (self, i);
      KestrelRingSample newest;
      g_autofree char *text = NULL;

      if (kestrel_ring_get_newest (s->ring, &newest) && isfinite (newest.value))
        text = _kestrel_graph_view_format_latest (self, newest.value);
      gtk_label_set_text (GTK_LABEL (s->value), text ? text : "");
    }
}

void
_kestrel_graph_view_legend_add (KestrelGraphView *self,
                                Series           *s,
                                const char       *css_class)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  s->swatch = new_swatch (css_class);
  s->name = gtk_label_new (s->label);
  gtk_label_set_ellipsize (GTK_LABEL (s->name), PANGO_ELLIPSIZE_END);
  gtk_label_set_xalign (GTK_LABEL (s->name), 0.0f);
  s->value = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (s->value), 0.0f);
  gtk_label_set_width_chars (GTK_LABEL (s->value), 7);
  gtk_widget_add_css_class (s->value, "numeric");
  gtk_widget_add_css_class (s->value, "dim-label");
  gtk_box_append (GTK_BOX (box), s->swatch);
  gtk_box_append (GTK_BOX (box), s->name);
  gtk_box_append (GTK_BOX (box), s->value);
  s->item = g_object_new (GTK_TYPE_TOGGLE_BUTTON,
                          "child", box,
                          "active", TRUE,
                          /* Translators: a graph legend entry's tooltip */
                          "tooltip-text", _("Show or hide this line"),
                          NULL);
  gtk_widget_add_css_class (s->item, "series");
  gtk_widget_add_css_class (s->item, "flat");
  g_signal_connect (s->item, "toggled", G_CALLBACK (series_toggled), self);
  /* Series before the reference entry. */
  legend_insert (self, s->item, (int) self->series->len);

}

void
_kestrel_graph_view_legend_init (KestrelGraphView *self)
{
  /* Entries wrap onto more lines when the graph is narrow, so the legend
   * never holds the window wider than a phone's 360 px. */
  self->legend = gtk_flow_box_new ();
  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (self->legend), GTK_SELECTION_NONE);
  gtk_flow_box_set_column_spacing (GTK_FLOW_BOX (self->legend), 18);
  gtk_flow_box_set_row_spacing (GTK_FLOW_BOX (self->legend), 2);
  gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (self->legend), 16);
  gtk_widget_set_focusable (self->legend, FALSE);
  gtk_widget_add_css_class (self->legend, "legend");
  gtk_widget_set_parent (self->legend, GTK_WIDGET (self));

  self->reference_item = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_add_css_class (self->reference_item, "reference");
  self->reference_swatch = new_swatch ("reference");
  self->reference_name = gtk_label_new (NULL);
  gtk_label_set_ellipsize (GTK_LABEL (self->reference_name), PANGO_ELLIPSIZE_END);
  gtk_box_append (GTK_BOX (self->reference_item), self->reference_swatch);
  gtk_box_append (GTK_BOX (self->reference_item), self->reference_name);
  legend_insert (self, self->reference_item, -1);

}
