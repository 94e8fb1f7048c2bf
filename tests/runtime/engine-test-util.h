/* engine-test-util.h — what the tests of the whole engine share: the
 * events an engine emitted (checked to arrive on the thread that created
 * it), bounded waits that iterate the main context, frame counts, and
 * waiting for reconfigurations to be applied. Header-only: each test is
 * one program, which sets main_thread in main().
 */
#pragma once

#include <string.h>

#include "kestrel-engine.h"

#ifndef WAIT_LIMIT_US
#define WAIT_LIMIT_US (120 * G_USEC_PER_SEC)
#endif

typedef struct {
  GPtrArray *kinds;     /* GINT_TO_POINTER (kind) */
  GPtrArray *messages;
} Events;

/* The thread that created the engines: ::event must only ever run here,
 * even while this thread is not iterating its main context. */
static GThread *main_thread;

G_GNUC_UNUSED static void
on_event (KestrelEngine *engine, int kind, const char *message, gpointer data)
{
  Events *events = data;

  g_assert_true (g_thread_self () == main_thread);

  g_test_message ("event %s: %s", kestrel_engine_event_kind_name (kind), message);
  g_ptr_array_add (events->kinds, GINT_TO_POINTER (kind));
  g_ptr_array_add (events->messages, g_strdup (message));
}

G_GNUC_UNUSED static Events *
events_new (void)
{
  Events *events = g_new0 (Events, 1);
  events->kinds = g_ptr_array_new ();
  events->messages = g_ptr_array_new_with_free_func (g_free);
  return events;
}

G_GNUC_UNUSED static void
events_free (Events *events)
{
  g_ptr_array_unref (events->kinds);
  g_ptr_array_unref (events->messages);
  g_free (events);
}

/* The message of the first event of `kind`, or NULL. */
G_GNUC_UNUSED static const char *
events_find (Events *events, KestrelEngineEventKind kind)
{
  for (guint i = 0; i < events->kinds->len; i++)
    if (GPOINTER_TO_INT (g_ptr_array_index (events->kinds, i)) == (int) kind)
      return g_ptr_array_index (events->messages, i);
  return NULL;
}

G_GNUC_UNUSED static guint64
frames_processed (KestrelEngine *engine)
{
  g_autoptr(KestrelMetricsSnapshot) snap = kestrel_engine_get_snapshot (engine);
  return snap->frames_processed;
}

/* Iterates the main context (events arrive there) until `done` says so. */
G_GNUC_UNUSED static gboolean
wait_until (gboolean (*done) (gpointer), gpointer data)
{
  gint64 limit = g_get_monotonic_time () + WAIT_LIMIT_US;

  while (!done (data))
    {
      if (g_get_monotonic_time () > limit)
        return FALSE;
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (2000);
    }
  while (g_main_context_iteration (NULL, FALSE))
    ;
  return TRUE;
}

/* The message of the first event of `kind` that contains `fragment`
 * (NULL: any), or NULL. */
G_GNUC_UNUSED static const char *
events_find_text (Events *events, KestrelEngineEventKind kind, const char *fragment)
{
  for (guint i = 0; i < events->kinds->len; i++)
    if (GPOINTER_TO_INT (g_ptr_array_index (events->kinds, i)) == (int) kind
        && (fragment == NULL || strstr (g_ptr_array_index (events->messages, i), fragment) != NULL))
      return g_ptr_array_index (events->messages, i);
  return NULL;
}

typedef struct {
  KestrelEngine *engine;
  guint target;
} Applied;

G_GNUC_UNUSED static gboolean
reconfigurations_applied (gpointer data)
{
  Applied *a = data;
  return kestrel_engine_get_n_reconfigurations (a->engine) >= a->target;
}
