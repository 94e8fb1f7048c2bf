/* kestrel-dashboard.c — see kestrel-dashboard.h.
 *
 * Children are added from a template (<child>, GtkWidget's own buildable
 * code parents them here) and unparented at dispose. The side column gets
 * 40 % of a wide dashboard but never less than SIDE_MIN_WIDTH, which keeps
 * the graphs' legends on one line; the preview takes the rest. Spare
 * height in the stacked form is shared equally, so the preview does not
 * take it all from the graphs.
 */
#include "config.h"

#include "kestrel-dashboard.h"

#define SPACING         12
#define SIDE_MIN_WIDTH  320
#define SIDE_SHARE      0.40

struct _KestrelDashboard
{
  GtkWidget parent_instance;

  gboolean  wide;
};

G_DEFINE_FINAL_TYPE (KestrelDashboard, kestrel_dashboard, GTK_TYPE_WIDGET)

/* The visible children, at most three, in order. */
static guint
get_children (KestrelDashboard *self,
              GtkWidget        *children[3])
{
  guint n = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self));
       child != NULL && n < 3;
       child = gtk_widget_get_next_sibling (child))
    if (gtk_widget_should_layout (child))
      children[n++] = child;
  return n;
}

static gboolean
is_wide (int width)
{
  return width < 0 || width >= KESTREL_DASHBOARD_WIDE;
}

static int
side_width (int width)
{
  int side = MAX (SIDE_MIN_WIDTH, (int) (width * SIDE_SHARE));

  return MIN (side, width - SPACING);
}

static void
measure_height (GtkWidget *child,
                int        width,
                int       *minimum,
                int       *natural)
{
  gtk_widget_measure (child, GTK_ORIENTATION_VERTICAL, width, minimum, natural, NULL, NULL);
}

static void
kestrel_dashboard_measure (GtkWidget      *widget,
                           GtkOrientation  orientation,
                           int             for_size,
                           int            *minimum,
                           int            *natural,
                           int            *minimum_baseline,
                           int            *natural_baseline)
{
  KestrelDashboard *self = KESTREL_DASHBOARD (widget);
  GtkWidget *children[3];
  guint n = get_children (self, children);
  int min[3] = { 0 }, nat[3] = { 0 };

  *minimum = *natural = 0;
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      /* Stacked, the widest child's minimum is enough. */
      for (guint i = 0; i < n; i++)
        {
          gtk_widget_measure (children[i], orientation, -1, &min[i], &nat[i], NULL, NULL);
          *minimum = MAX (*minimum, min[i]);
        }
      *natural = MAX (nat[0] + SPACING + nat[1], nat[2]);
      *natural = MAX (*natural, *minimum);
      return;
    }

  if (n == 3 && is_wide (for_size))
    {
      int width = for_size >= 0 ? for_size : KESTREL_DASHBOARD_WIDE;
      int side = side_width (width);

      measure_height (children[0], MAX (width - side - SPACING, 0), &min[0], &nat[0]);
      measure_height (children[1], side, &min[1], &nat[1]);
      measure_height (children[2], width, &min[2], &nat[2]);
      *minimum = MAX (min[0], min[1]) + SPACING + min[2];
      *natural = MAX (nat[0], nat[1]) + SPACING + nat[2];
      return;
    }
  for (guint i = 0; i < n; i++)
    {
      measure_height (children[i], for_size, &min[i], &nat[i]);
      *minimum += min[i] + (i > 0 ? SPACING : 0);
      *natural += nat[i] + (i > 0 ? SPACING : 0);
    }
}

static void
kestrel_dashboard_size_allocate (GtkWidget *widget,
                                 int        width,
                                 int        height,
                                 int        baseline)
{
  KestrelDashboard *self = KESTREL_DASHBOARD (widget);
  GtkWidget *children[3];
  guint n = get_children (self, children);
  int min[3] = { 0 }, nat[3] = { 0 };
  int y = 0, spare;

  self->wide = n == 3 && is_wide (width);
  if (self->wide)
    {
      int side = side_width (width);
      int main_width = width - side - SPACING;
      int top_min, bottom, top;

      measure_height (children[0], main_width, &min[0], NULL);
      measure_height (children[1], side, &min[1], NULL);
      measure_height (children[2], width, &min[2], &nat[2]);
      top_min = MAX (min[0], min[1]);
      /* The bottom child at its natural height, unless the top row would
       * get less than its minimum. */
      bottom = MAX (min[2], MIN (nat[2], height - SPACING - top_min));
      top = MAX (height - SPACING - bottom, top_min);
      gtk_widget_size_allocate (children[0], &(GtkAllocation) { 0, 0, main_width, top }, -1);
      gtk_widget_size_allocate (children[1], &(GtkAllocation) { main_width + SPACING, 0, side, top }, -1);
      gtk_widget_size_allocate (children[2], &(GtkAllocation) { 0, top + SPACING, width, bottom }, -1);
      return;
    }

  spare = height;
  for (guint i = 0; i < n; i++)
    {
      measure_height (children[i], width, &min[i], &nat[i]);
      spare -= min[i] + (i > 0 ? SPACING : 0);
    }
  spare = MAX (spare, 0);
  for (guint i = 0; i < n; i++)
    {
      int h = min[i] + spare / (int) n + (i == 0 ? spare % (int) n : 0);

      gtk_widget_size_allocate (children[i], &(GtkAllocation) { 0, y, width, h }, -1);
      y += h + SPACING;
    }
}

static GtkSizeRequestMode
kestrel_dashboard_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;
}

static void
kestrel_dashboard_dispose (GObject *object)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (object))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (kestrel_dashboard_parent_class)->dispose (object);
}

static void
kestrel_dashboard_class_init (KestrelDashboardClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kestrel_dashboard_dispose;
  widget_class->measure = kestrel_dashboard_measure;
  widget_class->size_allocate = kestrel_dashboard_size_allocate;
  widget_class->get_request_mode = kestrel_dashboard_get_request_mode;
}

static void
kestrel_dashboard_init (KestrelDashboard *self)
{
}

GtkWidget *
kestrel_dashboard_new (void)
{
  return g_object_new (KESTREL_TYPE_DASHBOARD, NULL);
}

gboolean
kestrel_dashboard_get_wide (KestrelDashboard *self)
{
  g_return_val_if_fail (KESTREL_IS_DASHBOARD (self), FALSE);

  return self->wide;
}
