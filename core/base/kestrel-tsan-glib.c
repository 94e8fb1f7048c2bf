/* kestrel-tsan-glib.c — tells ThreadSanitizer about GLib's locks. Built
 * only into a -Db_sanitize=thread tree (scripts/tsan.sh).
 *
 * Debian's GLib is not instrumented, and on Linux its GMutex and GCond are
 * futexes and atomics of its own, not pthread mutexes that TSan intercepts:
 * every field Kestrel guards with a GMutex would be reported as a race
 * (a two-thread counter under g_mutex_lock() is). The top meson.build links
 * every target of such a tree with -Wl,--wrap for the functions below, so
 * Kestrel's calls come here: each lock is an acquire on the mutex's
 * address and each unlock a release, a condition wait releases and
 * re-acquires its mutex, and g_once_init_leave() releases what
 * g_once_init_enter() (its inlined atomic load, or the slow path here)
 * acquires; a reference-counted box's releases are releases, and the
 * last one acquires before the box is cleared. Calls made inside GLib
 * itself are not wrapped (and main-loop sources are not: wrapping their
 * callbacks changes what g_main_context_find_source_by_user_data() finds
 * and breaks sources whose callbacks are not GSourceFunc); the few places
 * that hand data to another thread's main loop say so with
 * KESTREL_TSAN_RELEASE/ACQUIRE (kestrel-tsan.h); what crosses
 * threads through GLib's own queues (main-loop sources) is not seen, and
 * tests/tsan.supp says so where it matters.
 */
#include "config.h"

#include <glib.h>
#include <sanitizer/tsan_interface.h>

/* Only here, for the linker's --wrap: no header declares them. */
void     __real_g_mutex_lock       (GMutex        *mutex);
void     __real_g_mutex_unlock     (GMutex        *mutex);
gboolean __real_g_mutex_trylock    (GMutex        *mutex);
void     __real_g_cond_wait        (GCond         *cond,
                                    GMutex        *mutex);
gboolean __real_g_cond_wait_until  (GCond         *cond,
                                    GMutex        *mutex,
                                    gint64         end_time);
gboolean __real_g_once_init_enter  (volatile void *location);
void     __real_g_once_init_leave  (volatile void *location,
                                    gsize          result);
void     __real_g_atomic_rc_box_release      (gpointer       mem_block);
void     __real_g_atomic_rc_box_release_full (gpointer       mem_block,
                                              GDestroyNotify clear_func);

void     __wrap_g_mutex_lock       (GMutex        *mutex);
void     __wrap_g_mutex_unlock     (GMutex        *mutex);
gboolean __wrap_g_mutex_trylock    (GMutex        *mutex);
void     __wrap_g_cond_wait        (GCond         *cond,
                                    GMutex        *mutex);
gboolean __wrap_g_cond_wait_until  (GCond         *cond,
                                    GMutex        *mutex,
                                    gint64         end_time);
gboolean __wrap_g_once_init_enter  (volatile void *location);
void     __wrap_g_once_init_leave  (volatile void *location,
                                    gsize          result);
void     __wrap_g_atomic_rc_box_release      (gpointer       mem_block);
void     __wrap_g_atomic_rc_box_release_full (gpointer       mem_block,
                                              GDestroyNotify clear_func);

void
__wrap_g_mutex_lock (GMutex *mutex)
{
  __real_g_mutex_lock (mutex);
  __tsan_acquire (mutex);
}

void
__wrap_g_mutex_unlock (GMutex *mutex)
{
  __tsan_release (mutex);
  __real_g_mutex_unlock (mutex);
}

gboolean
__wrap_g_mutex_trylock (GMutex *mutex)
{
  gboolean locked = __real_g_mutex_trylock (mutex);

  if (locked)
    __tsan_acquire (mutex);
  return locked;
}

void
__wrap_g_cond_wait (GCond  *cond,
                    GMutex *mutex)
{
  __tsan_release (mutex);
  __real_g_cond_wait (cond, mutex);
  __tsan_acquire (mutex);
}

gboolean
__wrap_g_cond_wait_until (GCond  *cond,
                          GMutex *mutex,
                          gint64  end_time)
{
  gboolean signalled;

  __tsan_release (mutex);
  signalled = __real_g_cond_wait_until (cond, mutex, end_time);
  __tsan_acquire (mutex);
  return signalled;
}

gboolean
__wrap_g_once_init_enter (volatile void *location)
{
  gboolean first = __real_g_once_init_enter (location);

  /* FALSE: another thread initialised it while this one waited. */
  if (!first)
    __tsan_acquire ((void *) location);
  return first;
}

void
__wrap_g_once_init_leave (volatile void *location,
                          gsize          result)
{
  __tsan_release ((void *) location);
  __real_g_once_init_leave (location, result);
}

/* Reference-counted boxes (the metrics snapshots): every release is a
 * release on the box, and the last one acquires them all before the box
 * is cleared and freed. GLib runs the clear function and the free inside
 * the real release, on this thread, so a thread-local hands the clear
 * function to a trampoline that acquires first. */
static __thread GDestroyNotify pending_clear;

static void
acquire_then_clear (gpointer mem_block)
{
  GDestroyNotify clear = pending_clear;

  __tsan_acquire (mem_block);
  if (clear != NULL)
    clear (mem_block);
}

void
__wrap_g_atomic_rc_box_release_full (gpointer       mem_block,
                                     GDestroyNotify clear_func)
{
  GDestroyNotify outer = pending_clear;

  __tsan_release (mem_block);
  pending_clear = clear_func;
  __real_g_atomic_rc_box_release_full (mem_block, acquire_then_clear);
  pending_clear = outer;
}

void
__wrap_g_atomic_rc_box_release (gpointer mem_block)
{
  __wrap_g_atomic_rc_box_release_full (mem_block, NULL);
}

