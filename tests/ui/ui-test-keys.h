/* ui-test-keys.h — real key presses and pointer moves for the UI tests
 * (header only).
 *
 * GTK 4 has no public way to make an input event, so they go through the X
 * server itself with the XTEST extension (libxtst, installed by
 * scripts/install-deps.sh --test): the event then takes the same way as a
 * user's, through GDK, the window's focus and every event controller on the
 * way. The tests run under Xvfb (run-with-display.sh), which has XTEST. */
#pragma once

#include <gtk/gtk.h>
#include <gdk/x11/gdkx.h>
#include <X11/extensions/XTest.h>

#include "ui-test-util.h"

/* TRUE when keys can be sent to @widget's display (an X server with XTEST). */
static inline gboolean
ui_test_keys_available (GtkWidget *widget)
{
  GdkDisplay *display = gtk_widget_get_display (widget);
  int event_base, error_base, major, minor;

  return GDK_IS_X11_DISPLAY (display) &&
         XTestQueryExtension (gdk_x11_display_get_xdisplay (display),
                              &event_base, &error_base, &major, &minor);
}

/* Presses and releases @keysym in @window (holding Control and/or Shift when
 * asked), with the X input focus on it first, then lets GTK handle it. */
static inline void
ui_test_press_key (GtkWindow *window,
                   guint      keysym,
                   gboolean   control,
                   gboolean   shift)
{
  GdkDisplay *display = gtk_widget_get_display (GTK_WIDGET (window));
  Display *xdisplay = gdk_x11_display_get_xdisplay (display);
  GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (window));
  KeyCode key = XKeysymToKeycode (xdisplay, keysym);
  KeyCode control_key = XKeysymToKeycode (xdisplay, XK_Control_L);
  KeyCode shift_key = XKeysymToKeycode (xdisplay, XK_Shift_L);

  g_assert_true (key != 0);
  /* No window manager under Xvfb: give the focus by hand, as a click
   * would. */
  XSetInputFocus (xdisplay, gdk_x11_surface_get_xid (surface), RevertToParent, CurrentTime);
  if (control)
    XTestFakeKeyEvent (xdisplay, control_key, True, CurrentTime);
  if (shift)
    XTestFakeKeyEvent (xdisplay, shift_key, True, CurrentTime);
  XTestFakeKeyEvent (xdisplay, key, True, CurrentTime);
  XTestFakeKeyEvent (xdisplay, key, False, CurrentTime);
  if (shift)
    XTestFakeKeyEvent (xdisplay, shift_key, False, CurrentTime);
  if (control)
    XTestFakeKeyEvent (xdisplay, control_key, False, CurrentTime);
  XSync (xdisplay, False);
  ui_test_spin (200);
}

/* Moves the pointer over @widget's point @x, @y (widget coordinates), as a
 * mouse would, then lets GTK handle the motion. */
static inline void
ui_test_move_pointer (GtkWidget *widget,
                      double     x,
                      double     y)
{
  GtkNative *native = gtk_widget_get_native (widget);
  GdkDisplay *display = gtk_widget_get_display (widget);
  Display *xdisplay = gdk_x11_display_get_xdisplay (display);
  GdkSurface *surface = gtk_native_get_surface (native);
  graphene_point_t point;
  double dx, dy;
  int root_x, root_y;
  Window child;

  g_assert_true (gtk_widget_compute_point (widget, GTK_WIDGET (native),
                                           &GRAPHENE_POINT_INIT (x, y), &point));
  /* from the native widget to its surface (client-side decorations) */
  gtk_native_get_surface_transform (native, &dx, &dy);
  XTranslateCoordinates (xdisplay, gdk_x11_surface_get_xid (surface),
                         DefaultRootWindow (xdisplay),
                         (int) ((double) point.x + dx), (int) ((double) point.y + dy),
                         &root_x, &root_y, &child);
  XTestFakeMotionEvent (xdisplay, -1, root_x, root_y, CurrentTime);
  XSync (xdisplay, False);
  ui_test_spin (100);
}

/* Clicks the first button at @widget's point @x, @y. */
static inline void
ui_test_click (GtkWidget *widget,
               double     x,
               double     y)
{
  Display *xdisplay = gdk_x11_display_get_xdisplay (gtk_widget_get_display (widget));

  ui_test_move_pointer (widget, x, y);
  XTestFakeButtonEvent (xdisplay, 1, True, CurrentTime);
  XTestFakeButtonEvent (xdisplay, 1, False, CurrentTime);
  XSync (xdisplay, False);
  ui_test_spin (200);
}

/* The first widget of @type in @widget's tree (depth first), or NULL. */
static inline GtkWidget *
ui_test_find_widget (GtkWidget *widget,
                     GType      type)
{
  if (g_type_is_a (G_OBJECT_TYPE (widget), type))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = ui_test_find_widget (child, type);

      if (found != NULL)
        return found;
    }
  return NULL;
}
