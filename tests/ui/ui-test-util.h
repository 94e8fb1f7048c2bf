/* ui-test-util.h — main-loop helpers shared by the UI tests (header only:
 * each test is a program of its own). Waits are bounded only to fail
 * instead of hanging; no test asserts a time with them. */
#pragma once

#include <glib.h>

/* The bound of ui_test_wait_until(), against hangs. */
#define UI_TEST_WAIT_MS 60000

/* Runs the main loop for @ms: whatever is pending, then a short sleep. */
static inline void
ui_test_spin (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (2000);
    }
}

/* Runs the main loop until @done says so; FALSE if @timeout_ms passed
 * first. */
static inline gboolean
ui_test_wait_until_for (gboolean (*done) (gpointer),
                        gpointer   data,
                        guint      timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (!done (data))
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (2000);
    }
  return TRUE;
}

static inline gboolean
ui_test_wait_until (gboolean (*done) (gpointer),
                    gpointer   data)
{
  return ui_test_wait_until_for (done, data, UI_TEST_WAIT_MS);
}
