/* test-graph-view-pointer.c — KestrelGraphView with a real pointer (XTEST
 * through the X server, see ui-test-keys.h): moving over the plot shows the
 * values under the pointer in a tooltip, and a click on a legend entry hides
 * its series and a second click shows it again (issue 10, defect 13). */
#include "config.h"

#include <string.h>
#include <gtk/gtk.h>

#include "kestrel-graph-view.h"
#include "kestrel-ui.h"
#include "ui-test-keys.h"

typedef struct
{
  GtkWidget  *window;
  const char *text;
} TooltipWait;

/* GTK's tooltip is a GtkTooltipWindow (a private type) parented to the
 * window; its label says what query-tooltip set. */
static gboolean
tooltip_shows (gpointer data)
{
  TooltipWait *wait = data;
  GType type = g_type_from_name ("GtkTooltipWindow");
  GtkWidget *tooltip, *label;

  if (type == 0)
    return FALSE;
  tooltip = ui_test_find_widget (wait->window, type);
  if (tooltip == NULL || !gtk_widget_get_visible (tooltip))
    return FALSE;
  for (label = ui_test_find_widget (tooltip, GTK_TYPE_LABEL);
       label != NULL;
       label = NULL)
    if (gtk_widget_get_visible (label) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (label)), wait->text) == 0)
      return TRUE;
  return FALSE;
}

static GtkWidget *
new_window (KestrelGraphView *view)
{
  GtkWidget *window = gtk_window_new ();

  gtk_window_set_decorated (GTK_WINDOW (window), FALSE);
  gtk_window_set_default_size (GTK_WINDOW (window), 400, 240);
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (view));
  gtk_window_present (GTK_WINDOW (window));
  while (!gtk_widget_get_mapped (GTK_WIDGET (view)) || gtk_widget_get_width (GTK_WIDGET (view)) <= 0)
    g_main_context_iteration (NULL, TRUE);
  ui_test_spin (200);
  return window;
}

static void
test_hover (void)
{
  KestrelGraphView *view = KESTREL_GRAPH_VIEW (kestrel_graph_view_new ());
  GtkWidget *window;
  g_autofree char *expected = NULL;
  TooltipWait wait;
  int width, height;

  g_object_set (view, "unit", "%", "auto-scale", TRUE, NULL);
  kestrel_graph_view_add_series (view, "Kestrel", "accent");
  kestrel_graph_view_add_series (view, "System", "neutral");
  for (int i = 0; i < 60; i++)
    {
      kestrel_graph_view_push (view, 0, i * G_USEC_PER_SEC, 10.0 + i);
      kestrel_graph_view_push (view, 1, i * G_USEC_PER_SEC, 100.0);
    }
  window = new_window (view);
  if (!ui_test_keys_available (window))
    {
      g_test_skip ("no XTEST on this display");
      gtk_window_destroy (GTK_WINDOW (window));
      return;
    }
  width = gtk_widget_get_width (GTK_WIDGET (view));
  height = gtk_widget_get_height (GTK_WIDGET (view));

  expected = kestrel_graph_view_describe_at (view, width / 2, height / 2);
  g_test_message ("middle: %s", expected);
  g_assert_nonnull (expected);
  g_assert_true (g_str_has_suffix (expected, "\nSystem: 100 %"));
  g_assert_nonnull (strstr (expected, " s ago\nKestrel: "));

  /* come in from outside, as a mouse does, and rest over the middle */
  ui_test_move_pointer (GTK_WIDGET (view), width / 2 - 20, height / 2);
  ui_test_move_pointer (GTK_WIDGET (view), width / 2, height / 2);
  wait.window = window;
  wait.text = expected;
  g_assert_true (ui_test_wait_until_for (tooltip_shows, &wait, 20000));

  /* and further right: the tooltip follows */
  g_free (expected);
  expected = kestrel_graph_view_describe_at (view, width - 2, height / 2);
  g_assert_cmpstr (expected, ==, "Now\nKestrel: 69.0 %\nSystem: 100 %");
  ui_test_move_pointer (GTK_WIDGET (view), width - 2, height / 2);
  wait.text = expected;
  g_assert_true (ui_test_wait_until_for (tooltip_shows, &wait, 20000));

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_legend_click (void)
{
  KestrelGraphView *view = KESTREL_GRAPH_VIEW (kestrel_graph_view_new ());
  GtkWidget *window, *toggle = NULL, *child;
  guint index = 0;

  kestrel_graph_view_add_series (view, "Kestrel", "accent");
  kestrel_graph_view_add_series (view, "System", "neutral");
  window = new_window (view);
  if (!ui_test_keys_available (window))
    {
      g_test_skip ("no XTEST on this display");
      gtk_window_destroy (GTK_WINDOW (window));
      return;
    }

  /* the second series' entry */
  child = ui_test_find_widget (GTK_WIDGET (view), GTK_TYPE_FLOW_BOX);
  for (child = gtk_widget_get_first_child (child); child != NULL; child = gtk_widget_get_next_sibling (child))
    if (index++ == 1)
      toggle = gtk_widget_get_first_child (child);
  g_assert_true (GTK_IS_TOGGLE_BUTTON (toggle));

  ui_test_click (toggle, gtk_widget_get_width (toggle) / 2, gtk_widget_get_height (toggle) / 2);
  g_assert_false (kestrel_graph_view_get_series_visible (view, 1));
  g_assert_true (kestrel_graph_view_get_series_visible (view, 0));
  ui_test_click (toggle, gtk_widget_get_width (toggle) / 2, gtk_widget_get_height (toggle) / 2);
  g_assert_true (kestrel_graph_view_get_series_visible (view, 1));

  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  kestrel_ui_init ();

  g_test_add_func ("/ui/graph-view/pointer/hover-tooltip", test_hover);
  g_test_add_func ("/ui/graph-view/pointer/legend-click", test_legend_click);

  return g_test_run ();
}
