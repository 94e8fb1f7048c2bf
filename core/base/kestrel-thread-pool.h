/* kestrel-thread-pool.h — parallel_for for one operator at a time.
 *
 * A pool of n threads is the calling thread plus n - 1 workers. Work is
 * split into contiguous chunks that the participating threads claim one
 * at a time, so a worker that the scheduler is slow to wake costs little:
 * the others take its share.
 *
 * Idle workers spin for a few tens of microseconds (operators come back
 * to back while a frame runs) and then sleep on a condition variable, so
 * an idle pool costs no CPU.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define KESTREL_THREAD_POOL_MAX_THREADS 256

/* Runs items [@begin, @end). @worker_index is in [0, n_threads) and is
 * unique among the threads running one parallel_for at a time (the caller
 * is 0), so it can index per-thread scratch. */
typedef void (*KestrelParallelFunc) (gsize    begin,
                                     gsize    end,
                                     guint    worker_index,
                                     gpointer user_data);

#define KESTREL_TYPE_THREAD_POOL (kestrel_thread_pool_get_type ())

typedef struct _KestrelThreadPool KestrelThreadPool;

GType              kestrel_thread_pool_get_type (void) G_GNUC_CONST;

/* @n_threads counts the calling thread; 0 means g_get_num_processors(). */
KestrelThreadPool *kestrel_thread_pool_new   (guint              n_threads);
KestrelThreadPool *kestrel_thread_pool_ref   (KestrelThreadPool *self);
/* Dropping the last reference joins the workers; it must not happen inside
 * a parallel_for. */
void               kestrel_thread_pool_unref (KestrelThreadPool *self);

/* The count last asked for, which a parallel_for in progress may not use
 * yet. */
guint              kestrel_thread_pool_get_n_threads (KestrelThreadPool *self);
/* Safe from any thread at any time, including from inside a parallel_for;
 * never waits for one. Takes effect for the next parallel_for; workers are
 * started or stopped as needed. 0 means g_get_num_processors(). */
void               kestrel_thread_pool_set_n_threads (KestrelThreadPool *self,
                                                      guint              n_threads);

/* Splits [0, @n_items) into contiguous chunks, runs them on the workers and
 * the calling thread, and returns when every item is done. Calls from two
 * threads at once run one after the other; a call from inside @func runs
 * serially on the thread that makes it. */
void               kestrel_thread_pool_parallel_for (KestrelThreadPool   *self,
                                                     gsize                n_items,
                                                     KestrelParallelFunc  func,
                                                     gpointer             user_data);

/* Between hold() and release() idle workers keep polling for work instead
 * of going to sleep after their short spin: a plan holds the pool for one
 * inference, whose operators follow each other with gaps longer than the
 * spin but far shorter than a sleep and wake-up. Holds nest; each hold
 * needs one release. With more threads than cores workers never spin. */
void               kestrel_thread_pool_hold    (KestrelThreadPool *self);
void               kestrel_thread_pool_release (KestrelThreadPool *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KestrelThreadPool, kestrel_thread_pool_unref)

G_END_DECLS
