/* kestrel-graph-view.c — see kestrel-graph-view.h. The widget: its
 * properties and the refresh tick; the legend is in
 * kestrel-graph-view-legend.c, the pointer in kestrel-graph-view-pointer.c,
 * the data model in kestrel-graph-view-series.c, the size and the drawing
 * in kestrel-graph-view-draw.c.
 *
 * Redraws. Samples arrive at their own pace and the view only looks at them
 * on its refresh tick: a timeout, not a frame-clock tick callback, because a
 * tick callback keeps the frame clock running at the display rate and an
 * idle Kestrel must cost nothing. Whole-second intervals use
 * g_timeout_add_seconds(), which GLib aligns across the process, so several
 * graphs wake up together and share one frame. The timeout exists only
 * while the view is mapped and its toplevel is not minimised; a tick that
 * finds no new sample queues nothing.
 */
#include "config.h"

#include <math.h>

#include "kestrel-graph-view-private.h"
#include "kestrel-ui.h"

enum {
  PROP_0,
  PROP_HISTORY_LENGTH,
  PROP_STACKED,
  PROP_AUTO_SCALE,
  PROP_Y_MIN,
  PROP_Y_MAX,
  PROP_UNIT,
  PROP_SHOW_REFERENCE,
  PROP_REFERENCE_VALUE,
  PROP_REFERENCE_LABEL,
  PROP_SHOW_LEGEND,
  PROP_REFRESH_INTERVAL,
  PROP_SAMPLE_INTERVAL,
  PROP_N_SERIES,
  PROP_REDRAWS_REQUESTED,
  PROP_REDRAWS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Used in this order for series added without a class. */
static const char * const default_classes[] = {
  "accent", "success", "warning", "error", "purple", "neutral",
};

G_DEFINE_FINAL_TYPE (KestrelGraphView, kestrel_graph_view, GTK_TYPE_WIDGET)

static void update_refresh (KestrelGraphView *self);

/* g_set_str() is GLib 2.76. */
static gboolean
set_str (char       **field,
         const char  *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

/* -------------------------------------------------------------- refresh */

static gboolean
refresh_cb (gpointer data)
{
  KestrelGraphView *self = data;

  if (_kestrel_graph_view_take_changes (self))
    {
      _kestrel_graph_view_update_legend_values (self);
      gtk_widget_queue_draw (GTK_WIDGET (self));
      self->redraws_requested++;
    }
  return G_SOURCE_CONTINUE;
}

static void
update_refresh (KestrelGraphView *self)
{
  gboolean run = gtk_widget_get_mapped (GTK_WIDGET (self)) && !self->minimized;

  if (!run)
    {
      g_clear_handle_id (&self->refresh_source, g_source_remove);
      return;
    }
  if (self->refresh_source != 0)
    return;

  /* Catch up at once: the view may have been hidden for a while. */
  _kestrel_graph_view_take_changes (self);
  _kestrel_graph_view_update_legend_values (self);

  self->refresh_source = kestrel_ui_timeout_add (self->refresh_interval, refresh_cb, self,
                                                 "[kestrel] graph refresh");
}

static void
toplevel_state_cb (KestrelGraphView *self)
{
  gboolean minimized = kestrel_ui_toplevel_is_hidden (self->toplevel);

  if (minimized == self->minimized)
    return;
  self->minimized = minimized;
  update_refresh (self);
  if (!minimized)
    gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
kestrel_graph_view_map (GtkWidget *widget)
{
  KestrelGraphView *self = KESTREL_GRAPH_VIEW (widget);
  GtkRoot *root;

  GTK_WIDGET_CLASS (kestrel_graph_view_parent_class)->map (widget);

  /* The root, not our native: inside a popover, the window that gets
   * minimised is the toplevel above it. */
  root = gtk_widget_get_root (widget);
  if (root != NULL && GTK_IS_NATIVE (root))
    {
      GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (root));

      if (surface != NULL && GDK_IS_TOPLEVEL (surface))
        {
          self->toplevel = g_object_ref (surface);
          self->toplevel_state_handler =
            g_signal_connect_swapped (surface, "notify::state",
                                      G_CALLBACK (toplevel_state_cb), self);
        }
    }
  self->minimized = kestrel_ui_toplevel_is_hidden (self->toplevel);
  update_refresh (self);
}

static void
kestrel_graph_view_unmap (GtkWidget *widget)
{
  KestrelGraphView *self = KESTREL_GRAPH_VIEW (widget);

  if (self->toplevel != NULL)
    {
      g_clear_signal_handler (&self->toplevel_state_handler, self->toplevel);
      g_clear_object (&self->toplevel);
    }
  self->minimized = FALSE;

  GTK_WIDGET_CLASS (kestrel_graph_view_parent_class)->unmap (widget);

  update_refresh (self);
}

/* ---------------------------------------------------------- properties */

guint
kestrel_graph_view_add_series (KestrelGraphView *self,
                               const char       *label,
                               const char       *css_class)
{
  Series *s;

  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), 0);

  if (css_class == NULL)
    css_class = default_classes[self->series->len % G_N_ELEMENTS (default_classes)];

  s = g_new0 (Series, 1);
  s->ring = kestrel_ring_new (self->history_length);
  s->owns_ring = TRUE;
  s->label = g_strdup (label ? label : "");

  _kestrel_graph_view_legend_add (self, s, css_class);

  g_ptr_array_add (self->series, s);
  _kestrel_graph_view_update_legend_visibility (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_SERIES]);

  return self->series->len - 1;
}

void
kestrel_graph_view_remove_all_series (KestrelGraphView *self)
{
  g_return_if_fail (KESTREL_IS_GRAPH_VIEW (self));

  if (self->series->len == 0)
    return;
  for (guint i = 0; i < self->series->len; i++)
    gtk_flow_box_remove (GTK_FLOW_BOX (self->legend), gtk_widget_get_parent (get_series (self, i)->item));
  g_ptr_array_set_size (self->series, 0);
  _kestrel_graph_view_update_legend_visibility (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_SERIES]);
}

guint
kestrel_graph_view_get_n_series (KestrelGraphView *self)
{
  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), 0);

  return self->series->len;
}

const char *
kestrel_graph_view_get_series_label (KestrelGraphView *self,
                                     guint             series)
{
  Series *s;

  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), NULL);
  s = get_series (self, series);
  g_return_val_if_fail (s != NULL, NULL);

  return s->label;
}

void
kestrel_graph_view_set_series_label (KestrelGraphView *self,
                                     guint             series,
                                     const char       *label)
{
  Series *s;

  g_return_if_fail (KESTREL_IS_GRAPH_VIEW (self));
  s = get_series (self, series);
  g_return_if_fail (s != NULL);

  g_free (s->label);
  s->label = g_strdup (label ? label : "");
  gtk_label_set_text (GTK_LABEL (s->name), s->label);
}

KestrelRing *
kestrel_graph_view_get_series_ring (KestrelGraphView *self,
                                    guint             series)
{
  Series *s;

  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), NULL);
  s = get_series (self, series);
  g_return_val_if_fail (s != NULL, NULL);

  return s->ring;
}

void
kestrel_graph_view_set_series_ring (KestrelGraphView *self,
                                    guint             series,
                                    KestrelRing      *ring)
{
  Series *s;

  g_return_if_fail (KESTREL_IS_GRAPH_VIEW (self));
  g_return_if_fail (ring != NULL);
  s = get_series (self, series);
  g_return_if_fail (s != NULL);

  if (s->ring == ring)
    return;
  kestrel_ring_ref (ring);
  kestrel_ring_unref (s->ring);
  s->ring = ring;
  s->owns_ring = FALSE;
}

void
kestrel_graph_view_push (KestrelGraphView *self,
                         guint             series,
                         gint64            time_us,
                         double            value)
{
  Series *s;

  g_return_if_fail (KESTREL_IS_GRAPH_VIEW (self));
  s = get_series (self, series);
  g_return_if_fail (s != NULL);

  kestrel_ring_push (s->ring, time_us, value);
}

gboolean
kestrel_graph_view_get_series_visible (KestrelGraphView *self,
                                       guint             series)
{
  Series *s;

  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), FALSE);
  s = get_series (self, series);
  g_return_val_if_fail (s != NULL, FALSE);

  return !s->hidden;
}

void
kestrel_graph_view_set_series_visible (KestrelGraphView *self,
                                       guint             series,
                                       gboolean          visible)
{
  Series *s;

  g_return_if_fail (KESTREL_IS_GRAPH_VIEW (self));
  s = get_series (self, series);
  g_return_if_fail (s != NULL);

  if (s->hidden == !visible)
    return;
  s->hidden = !visible;
  /* The toggle follows when this was called from code; from the toggle
   * itself this is a no-op. */
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (s->item), visible);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
kestrel_graph_view_get_series_color (KestrelGraphView *self,
                                     guint             series,
                                     GdkRGBA          *color)
{
  Series *s;

  g_return_if_fail (KESTREL_IS_GRAPH_VIEW (self));
  g_return_if_fail (color != NULL);
  s = get_series (self, series);
  g_return_if_fail (s != NULL);

  kestrel_ui_get_color (s->swatch, color);
}

gint64
kestrel_graph_view_get_time (KestrelGraphView *self)
{
  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), 0);

  return self->now_us;
}

void
kestrel_graph_view_set_time (KestrelGraphView *self,
                             gint64            now_us)
{
  g_return_if_fail (KESTREL_IS_GRAPH_VIEW (self));

  self->now_us = now_us;
}

guint
kestrel_graph_view_get_sample_interval (KestrelGraphView *self)
{
  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), 0);

  return self->sample_interval;
}

void
kestrel_graph_view_set_sample_interval (KestrelGraphView *self,
                                        guint             interval_ms)
{
  g_return_if_fail (KESTREL_IS_GRAPH_VIEW (self));

  interval_ms = CLAMP (interval_ms, 1, 3600000);
  if (interval_ms == self->sample_interval)
    return;
  self->sample_interval = interval_ms;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SAMPLE_INTERVAL]);
}

void
kestrel_graph_view_get_y_range (KestrelGraphView *self,
                                double           *min,
                                double           *max,
                                double           *step)
{
  Geometry g;
  int width, height;

  g_return_if_fail (KESTREL_IS_GRAPH_VIEW (self));

  /* The gridline spacing depends on the plot's height; unallocated, the
   * view assumes its natural size. */
  width = gtk_widget_get_width (GTK_WIDGET (self));
  height = gtk_widget_get_height (GTK_WIDGET (self));
  if (width <= 0 || height <= 0)
    {
      gtk_widget_measure (GTK_WIDGET (self), GTK_ORIENTATION_HORIZONTAL, -1, NULL, &width, NULL, NULL);
      gtk_widget_measure (GTK_WIDGET (self), GTK_ORIENTATION_VERTICAL, width, NULL, &height, NULL, NULL);
    }
  _kestrel_graph_view_compute_geometry (self, width, height, &g);
  if (min)
    *min = g.lo;
  if (max)
    *max = g.hi;
  if (step)
    *step = g.step;
}

guint
kestrel_graph_view_get_history_length (KestrelGraphView *self)
{
  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), 0);

  return self->history_length;
}

void
kestrel_graph_view_set_history_length (KestrelGraphView *self,
                                       guint             length)
{
  g_return_if_fail (KESTREL_IS_GRAPH_VIEW (self));

  length = CLAMP (length, KESTREL_GRAPH_VIEW_MIN_HISTORY, KESTREL_RING_MAX_CAPACITY);
  if (length == self->history_length)
    return;
  self->history_length = length;
  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = get_series (self, i);

      if (s->owns_ring)
        kestrel_ring_set_capacity (s->ring, length);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HISTORY_LENGTH]);
}

#define DEFINE_BOOL_PROPERTY(name, PROP)                                  \
gboolean                                                                 \
kestrel_graph_view_get_##name (KestrelGraphView *self)                    \
{                                                                        \
  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), FALSE);             \
  return self->name;                                                     \
}                                                                        \
void                                                                     \
kestrel_graph_view_set_##name (KestrelGraphView *self,                    \
                               gboolean          value)                  \
{                                                                        \
  g_return_if_fail (KESTREL_IS_GRAPH_VIEW (self));                        \
  value = !!value;                                                       \
  if (self->name == (guint) value)                                       \
    return;                                                              \
  self->name = value;                                                    \
  _kestrel_graph_view_update_legend_visibility (self);                                       \
  gtk_widget_queue_draw (GTK_WIDGET (self));                             \
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP]);          \
}

DEFINE_BOOL_PROPERTY (stacked, PROP_STACKED)
DEFINE_BOOL_PROPERTY (auto_scale, PROP_AUTO_SCALE)
DEFINE_BOOL_PROPERTY (show_reference, PROP_SHOW_REFERENCE)
DEFINE_BOOL_PROPERTY (show_legend, PROP_SHOW_LEGEND)

#define DEFINE_DOUBLE_PROPERTY(name, PROP)                                \
double                                                                   \
kestrel_graph_view_get_##name (KestrelGraphView *self)                    \
{                                                                        \
  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), 0.0);               \
  return self->name;                                                     \
}                                                                        \
void                                                                     \
kestrel_graph_view_set_##name (KestrelGraphView *self,                    \
                               double            value)                  \
{                                                                        \
  g_return_if_fail (KESTREL_IS_GRAPH_VIEW (self));                        \
  g_return_if_fail (isfinite (value));                                   \
  if (self->name == value)                                               \
    return;                                                              \
  self->name = value;                                                    \
  gtk_widget_queue_draw (GTK_WIDGET (self));                             \
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP]);          \
}

DEFINE_DOUBLE_PROPERTY (y_min, PROP_Y_MIN)
DEFINE_DOUBLE_PROPERTY (y_max, PROP_Y_MAX)
DEFINE_DOUBLE_PROPERTY (reference_value, PROP_REFERENCE_VALUE)

const char *
kestrel_graph_view_get_unit (KestrelGraphView *self)
{
  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), NULL);

  return self->unit;
}

void
kestrel_graph_view_set_unit (KestrelGraphView *self,
                             const char       *unit)
{
  g_return_if_fail (KESTREL_IS_GRAPH_VIEW (self));

  if (set_str (&self->unit, unit))
    {
      _kestrel_graph_view_update_legend_values (self);
      gtk_widget_queue_draw (GTK_WIDGET (self));
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UNIT]);
    }
}

const char *
kestrel_graph_view_get_reference_label (KestrelGraphView *self)
{
  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), NULL);

  return self->reference_label;
}

void
kestrel_graph_view_set_reference_label (KestrelGraphView *self,
                                        const char       *label)
{
  g_return_if_fail (KESTREL_IS_GRAPH_VIEW (self));

  if (set_str (&self->reference_label, label))
    {
      gtk_label_set_text (GTK_LABEL (self->reference_name), label ? label : "");
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REFERENCE_LABEL]);
    }
}

guint
kestrel_graph_view_get_refresh_interval (KestrelGraphView *self)
{
  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), 0);

  return self->refresh_interval;
}

void
kestrel_graph_view_set_refresh_interval (KestrelGraphView *self,
                                         guint             interval_ms)
{
  g_return_if_fail (KESTREL_IS_GRAPH_VIEW (self));

  interval_ms = CLAMP (interval_ms, 16, 60000);
  if (interval_ms == self->refresh_interval)
    return;
  self->refresh_interval = interval_ms;
  /* restart with the new interval if running */
  if (self->refresh_source != 0)
    {
      g_clear_handle_id (&self->refresh_source, g_source_remove);
      update_refresh (self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REFRESH_INTERVAL]);
}

guint64
kestrel_graph_view_get_redraws_requested (KestrelGraphView *self)
{
  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), 0);

  return self->redraws_requested;
}

guint64
kestrel_graph_view_get_redraws (KestrelGraphView *self)
{
  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), 0);

  return self->redraws;
}

GtkWidget *
kestrel_graph_view_new (void)
{
  return g_object_new (KESTREL_TYPE_GRAPH_VIEW, NULL);
}

/* ------------------------------------------------------------- GObject */

static void
kestrel_graph_view_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  KestrelGraphView *self = KESTREL_GRAPH_VIEW (object);

  switch (prop_id)
    {
    case PROP_HISTORY_LENGTH:   g_value_set_uint (value, self->history_length); break;
    case PROP_STACKED:          g_value_set_boolean (value, self->stacked); break;
    case PROP_AUTO_SCALE:       g_value_set_boolean (value, self->auto_scale); break;
    case PROP_Y_MIN:            g_value_set_double (value, self->y_min); break;
    case PROP_Y_MAX:            g_value_set_double (value, self->y_max); break;
    case PROP_UNIT:             g_value_set_string (value, self->unit); break;
    case PROP_SHOW_REFERENCE:   g_value_set_boolean (value, self->show_reference); break;
    case PROP_REFERENCE_VALUE:  g_value_set_double (value, self->reference_value); break;
    case PROP_REFERENCE_LABEL:  g_value_set_string (value, self->reference_label); break;
    case PROP_SHOW_LEGEND:      g_value_set_boolean (value, self->show_legend); break;
    case PROP_REFRESH_INTERVAL: g_value_set_uint (value, self->refresh_interval); break;
    case PROP_SAMPLE_INTERVAL:  g_value_set_uint (value, self->sample_interval); break;
    case PROP_N_SERIES:         g_value_set_uint (value, self->series->len); break;
    case PROP_REDRAWS_REQUESTED: g_value_set_uint64 (value, self->redraws_requested); break;
    case PROP_REDRAWS:          g_value_set_uint64 (value, self->redraws); break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kestrel_graph_view_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  KestrelGraphView *self = KESTREL_GRAPH_VIEW (object);

  switch (prop_id)
    {
    case PROP_HISTORY_LENGTH:   kestrel_graph_view_set_history_length (self, g_value_get_uint (value)); break;
    case PROP_STACKED:          kestrel_graph_view_set_stacked (self, g_value_get_boolean (value)); break;
    case PROP_AUTO_SCALE:       kestrel_graph_view_set_auto_scale (self, g_value_get_boolean (value)); break;
    case PROP_Y_MIN:            kestrel_graph_view_set_y_min (self, g_value_get_double (value)); break;
    case PROP_Y_MAX:            kestrel_graph_view_set_y_max (self, g_value_get_double (value)); break;
    case PROP_UNIT:             kestrel_graph_view_set_unit (self, g_value_get_string (value)); break;
    case PROP_SHOW_REFERENCE:   kestrel_graph_view_set_show_reference (self, g_value_get_boolean (value)); break;
    case PROP_REFERENCE_VALUE:  kestrel_graph_view_set_reference_value (self, g_value_get_double (value)); break;
    case PROP_REFERENCE_LABEL:  kestrel_graph_view_set_reference_label (self, g_value_get_string (value)); break;
    case PROP_SHOW_LEGEND:      kestrel_graph_view_set_show_legend (self, g_value_get_boolean (value)); break;
    case PROP_REFRESH_INTERVAL: kestrel_graph_view_set_refresh_interval (self, g_value_get_uint (value)); break;
    case PROP_SAMPLE_INTERVAL:  kestrel_graph_view_set_sample_interval (self, g_value_get_uint (value)); break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kestrel_graph_view_dispose (GObject *object)
{
  KestrelGraphView *self = KESTREL_GRAPH_VIEW (object);

  g_clear_handle_id (&self->refresh_source, g_source_remove);
  if (self->toplevel != NULL)
    {
      g_clear_signal_handler (&self->toplevel_state_handler, self->toplevel);
      g_clear_object (&self->toplevel);
    }
  g_clear_pointer (&self->legend, gtk_widget_unparent);
  if (self->series != NULL)
    g_ptr_array_set_size (self->series, 0);

  G_OBJECT_CLASS (kestrel_graph_view_parent_class)->dispose (object);
}

static void
kestrel_graph_view_finalize (GObject *object)
{
  KestrelGraphView *self = KESTREL_GRAPH_VIEW (object);

  g_clear_pointer (&self->series, g_ptr_array_unref);
  g_clear_pointer (&self->unit, g_free);
  g_clear_pointer (&self->reference_label, g_free);

  G_OBJECT_CLASS (kestrel_graph_view_parent_class)->finalize (object);
}

static void
kestrel_graph_view_class_init (KestrelGraphViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->get_property = kestrel_graph_view_get_property;
  object_class->set_property = kestrel_graph_view_set_property;
  object_class->dispose = kestrel_graph_view_dispose;
  object_class->finalize = kestrel_graph_view_finalize;

  widget_class->measure = _kestrel_graph_view_measure;
  widget_class->size_allocate = _kestrel_graph_view_size_allocate;
  widget_class->snapshot = _kestrel_graph_view_snapshot;
  widget_class->map = kestrel_graph_view_map;
  widget_class->unmap = kestrel_graph_view_unmap;
  widget_class->query_tooltip = _kestrel_graph_view_query_tooltip;

  properties[PROP_HISTORY_LENGTH] =
    g_param_spec_uint ("history-length", NULL, "Samples across the graph",
                       KESTREL_GRAPH_VIEW_MIN_HISTORY, KESTREL_RING_MAX_CAPACITY,
                       KESTREL_RING_DEFAULT_CAPACITY, rw);
  properties[PROP_STACKED] =
    g_param_spec_boolean ("stacked", NULL, "Draw each series on top of the ones before it",
                          FALSE, rw);
  properties[PROP_AUTO_SCALE] =
    g_param_spec_boolean ("auto-scale", NULL,
                          "Fit the y axis to the data (and the reference line) with a rounded top, "
                          "instead of y-min..y-max",
                          FALSE, rw);
  properties[PROP_Y_MIN] =
    g_param_spec_double ("y-min", NULL, "Bottom of the y axis when not auto-scaled",
                         -G_MAXDOUBLE, G_MAXDOUBLE, 0.0, rw);
  properties[PROP_Y_MAX] =
    g_param_spec_double ("y-max", NULL, "Top of the y axis when not auto-scaled",
                         -G_MAXDOUBLE, G_MAXDOUBLE, 100.0, rw);
  properties[PROP_UNIT] =
    g_param_spec_string ("unit", NULL, "Unit shown after values, e.g. \"%\" or \"ms\"",
                         NULL, rw);
  properties[PROP_SHOW_REFERENCE] =
    g_param_spec_boolean ("show-reference", NULL, "Draw a horizontal reference line (a budget)",
                          FALSE, rw);
  properties[PROP_REFERENCE_VALUE] =
    g_param_spec_double ("reference-value", NULL, "Where the reference line is",
                         -G_MAXDOUBLE, G_MAXDOUBLE, 0.0, rw);
  properties[PROP_REFERENCE_LABEL] =
    g_param_spec_string ("reference-label", NULL, "The reference line's name in the legend",
                         NULL, rw);
  properties[PROP_SHOW_LEGEND] =
    g_param_spec_boolean ("show-legend", NULL, "Show series names and latest values",
                          TRUE, rw);
  properties[PROP_REFRESH_INTERVAL] =
    g_param_spec_uint ("refresh-interval", NULL, "Milliseconds between looks at the data",
                       16, 60000, 1000, rw);
  properties[PROP_SAMPLE_INTERVAL] =
    g_param_spec_uint ("sample-interval", NULL,
                       "Milliseconds between samples: the graph spans history-length of them",
                       1, 3600000, 1000, rw);
  properties[PROP_N_SERIES] =
    g_param_spec_uint ("n-series", NULL, NULL, 0, G_MAXUINT, 0, ro | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_REDRAWS_REQUESTED] =
    g_param_spec_uint64 ("redraws-requested", NULL,
                         "Refresh ticks that queued a draw (does not notify)",
                         0, G_MAXUINT64, 0, ro);
  properties[PROP_REDRAWS] =
    g_param_spec_uint64 ("redraws", NULL, "Snapshots taken (does not notify)",
                         0, G_MAXUINT64, 0, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "graphview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
kestrel_graph_view_init (KestrelGraphView *self)
{
  kestrel_ui_ensure_style (gtk_widget_get_display (GTK_WIDGET (self)));

  self->series = g_ptr_array_new_with_free_func (_kestrel_graph_view_series_free);
  self->history_length = KESTREL_RING_DEFAULT_CAPACITY;
  self->refresh_interval = 1000;
  self->sample_interval = 1000;
  self->y_min = 0.0;
  self->y_max = 100.0;
  self->show_legend = TRUE;

  _kestrel_graph_view_legend_init (self);
  _kestrel_graph_view_update_legend_visibility (self);
  _kestrel_graph_view_pointer_init (self);
}
