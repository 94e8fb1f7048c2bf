/* kestrel-thread-pool.c — see kestrel-thread-pool.h.
 *
 * How a parallel_for runs. The caller (holding call_lock, so calls from
 * two threads take turns) writes the job (func, user_data, n_items) into the
 * pool, then publishes it by storing one atomic word, `state`:
 *
 *     state = n_chunks << 16 | next_chunk
 *
 * Every participant claims chunks with an atomic add on that word, so a
 * claim and the chunk count it refers to are read in one step. A thread
 * reads the job fields only after it has claimed a chunk, and the caller
 * does not return (nor write the next job) until every claimed chunk has
 * been counted in `done`. So no thread ever reads job fields that are being
 * rewritten, whatever the scheduler does: a worker that wakes up late either
 * claims a chunk of whatever job is current, whose fields are then stable,
 * or finds nothing left and goes back to waiting. Adds that find nothing
 * left push next_chunk past n_chunks, harmlessly; the next job's store
 * resets the word.
 *
 * All g_atomic operations are sequentially consistent, which the sleep and
 * wake handshakes below rely on.
 */
#include "config.h"

#include "kestrel-thread-pool.h"

/* Enough chunks per thread that a thread the scheduler delays (the machine
 * is shared with the UI and everything else) costs a quarter of its share,
 * not all of it; few enough that claiming stays negligible. */
#define CHUNKS_PER_THREAD 4
/* How long an idle thread keeps polling before it sleeps. Operators of one
 * frame follow each other within microseconds; between frames the workers
 * should not burn CPU. */
#define SPIN_USEC 20

#define STATE_NEXT(s)   ((guint) (s) & 0xffffu)
#define STATE_CHUNKS(s) ((guint) (s) >> 16)

G_STATIC_ASSERT (KESTREL_THREAD_POOL_MAX_THREADS * CHUNKS_PER_THREAD * 2 < 0x7fff);

typedef struct {
  KestrelThreadPool *pool;
  GThread           *thread;
  guint              index;
  gint               quit;    /* atomic */
} Worker;

/* Which pool's parallel_for the current thread is running, and as which
 * participant: set for the whole life of a worker thread, and around the
 * call on the calling thread. Nested calls are detected with it. */
typedef struct {
  KestrelThreadPool *pool;
  guint              index;
} Participant;

struct _KestrelThreadPool
{
  gatomicrefcount      ref_count;
  gint                 requested;      /* atomic: total thread count wanted */

  /* One parallel_for or one resize at a time. */
  GMutex               call_lock;
  GPtrArray           *workers;        /* Worker *, index - 1; under call_lock */
  guint                applied;        /* the request they match; under call_lock */
  gboolean             warned;         /* under call_lock */

  /* Sleeping and waking. */
  GMutex               lock;
  GCond                wake_cond;      /* workers wait here for work */
  GCond                done_cond;      /* the caller waits here for the last chunk */
  gint                 caller_sleeping; /* atomic, changed with lock held */
  gint                 n_sleeping;     /* atomic, changed with lock held */
  gint                 spin;           /* atomic: FALSE with more threads than cores */
  gint                 held;           /* atomic: kestrel_thread_pool_hold() count */

  /* The job: written by the caller before `state` publishes it. */
  KestrelParallelFunc  func;
  gpointer             user_data;
  gsize                n_items;

  gint                 state;          /* atomic */
  gint                 done;           /* atomic: chunks finished */
};

G_DEFINE_BOXED_TYPE (KestrelThreadPool, kestrel_thread_pool,
                     kestrel_thread_pool_ref, kestrel_thread_pool_unref)

static GPrivate current_participant = G_PRIVATE_INIT (NULL);

static inline void
cpu_relax (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#elif defined(__aarch64__)
  __asm__ __volatile__ ("yield" ::: "memory");
#endif
}

static guint
resolve_n_threads (guint n_threads)
{
  if (n_threads == 0)
    n_threads = (guint) MAX (g_get_num_processors (), 1);
  return MIN (n_threads, KESTREL_THREAD_POOL_MAX_THREADS);
}

static inline gboolean
has_work (KestrelThreadPool *self)
{
  gint s = g_atomic_int_get (&self->state);

  return STATE_NEXT (s) < STATE_CHUNKS (s);
}

static void
run_chunks (KestrelThreadPool *self,
            guint              worker_index)
{
  while (has_work (self))
    {
      gint s = g_atomic_int_add (&self->state, 1);
      guint chunk = STATE_NEXT (s);
      guint n_chunks = STATE_CHUNKS (s);
      gsize n_items, base, rem, begin, end;

      if (chunk >= n_chunks)
        return;

      /* Claimed: the job cannot end before this chunk is counted, so its
       * fields are stable until then. */
      n_items = self->n_items;
      base = n_items / n_chunks;
      rem = n_items % n_chunks;
      begin = chunk * base + MIN (chunk, rem);
      end = begin + base + (chunk < rem ? 1 : 0);

      self->func (begin, end, worker_index, self->user_data);

      /* Nothing of the job may be read after this add. The caller is
       * usually still spinning in wait_until_done() and needs no wake-up,
       * which would cost a system call per operator: the add comes before
       * the look at caller_sleeping, and the caller sets that before its
       * last look at `done`, so one of the two sees the other. */
      if ((guint) g_atomic_int_add (&self->done, 1) + 1 == n_chunks
          && g_atomic_int_get (&self->caller_sleeping))
        {
          g_mutex_lock (&self->lock);
          g_cond_signal (&self->done_cond);
          g_mutex_unlock (&self->lock);
        }
    }
}

/* FALSE when the worker must quit. */
static gboolean
wait_for_work (KestrelThreadPool *self,
               Worker            *worker)
{
  gint64 deadline = g_get_monotonic_time () + SPIN_USEC;
  gboolean spin = g_atomic_int_get (&self->spin);
  gboolean quit;

  for (guint spins = 1; ; spins++)
    {
      if (g_atomic_int_get (&worker->quit))
        return FALSE;
      if (has_work (self))
        return TRUE;
      /* With more threads than cores, a spinning thread only takes time
       * from the ones doing the work. */
      if (!spin)
        break;
      cpu_relax ();
      if (spins % 64 == 0 && g_get_monotonic_time () >= deadline)
        {
          /* A holder (a plan in the middle of an inference) is about to
           * hand out more work within microseconds: keep polling until it
           * lets go. */
          if (!g_atomic_int_get (&self->held))
            break;
          /* But not at the expense of a thread that has work: when another
           * process takes one of the cores, the caller may be waiting to
           * run on this one, and would wait for a whole time slice. A
           * yield costs a system call when nothing else wants the core. */
          g_thread_yield ();
        }
    }

  /* The increment comes before the last look at `state`, and the caller
   * stores `state` before it reads n_sleeping: one of the two sees the
   * other, so either this thread finds the work or the caller wakes it. */
  g_mutex_lock (&self->lock);
  g_atomic_int_inc (&self->n_sleeping);
  while (!has_work (self) && !g_atomic_int_get (&worker->quit))
    g_cond_wait (&self->wake_cond, &self->lock);
  g_atomic_int_add (&self->n_sleeping, -1);
  quit = g_atomic_int_get (&worker->quit);
  g_mutex_unlock (&self->lock);

  return !quit;
}

void
kestrel_thread_pool_hold (KestrelThreadPool *self)
{
  g_return_if_fail (self != NULL);
  g_atomic_int_inc (&self->held);
}

void
kestrel_thread_pool_release (KestrelThreadPool *self)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (g_atomic_int_get (&self->held) > 0);
  g_atomic_int_add (&self->held, -1);
}

static gpointer
worker_main (gpointer data)
{
  Worker *worker = data;
  KestrelThreadPool *self = worker->pool;
  Participant me = { self, worker->index };

  g_private_set (&current_participant, &me);

  while (wait_for_work (self, worker))
    run_chunks (self, worker->index);

  g_private_set (&current_participant, NULL);
  return NULL;
}

static void
wake_workers (KestrelThreadPool *self)
{
  g_mutex_lock (&self->lock);
  g_cond_broadcast (&self->wake_cond);
  g_mutex_unlock (&self->lock);
}

static void
stop_workers (KestrelThreadPool *self,
              guint              n_keep)
{
  if (self->workers->len <= n_keep)
    return;

  /* All told first, then joined, so they wind down in parallel. */
  for (guint i = n_keep; i < self->workers->len; i++)
    {
      Worker *worker = g_ptr_array_index (self->workers, i);

      g_atomic_int_set (&worker->quit, 1);
    }
  wake_workers (self);

  while (self->workers->len > n_keep)
    {
      Worker *worker = g_ptr_array_steal_index (self->workers, self->workers->len - 1);

      g_thread_join (worker->thread);
      g_free (worker);
    }
}

/* Called with call_lock held, never while a job runs. */
static void
apply_n_threads (KestrelThreadPool *self)
{
  guint wanted = (guint) g_atomic_int_get (&self->requested);
  guint n_workers = wanted - 1;

  self->applied = wanted;
  g_atomic_int_set (&self->spin, wanted <= (guint) g_get_num_processors ());
  stop_workers (self, n_workers);

  while (self->workers->len < n_workers)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *name = NULL;
      Worker *worker = g_new0 (Worker, 1);

      worker->pool = self;
      worker->index = self->workers->len + 1;
      name = g_strdup_printf ("kestrel-w%u", worker->index);
      worker->thread = g_thread_try_new (name, worker_main, worker, &error);
      if (worker->thread == NULL)
        {
          /* Running with fewer threads is better than failing the frame;
           * the next resize tries again. */
          if (!self->warned)
            g_warning ("Could not start compute thread %u of %u, running with %u: %s",
                       worker->index + 1, wanted, self->workers->len + 1, error->message);
          self->warned = TRUE;
          g_free (worker);
          break;
        }
      g_ptr_array_add (self->workers, worker);
    }
}

KestrelThreadPool *
kestrel_thread_pool_new (guint n_threads)
{
  KestrelThreadPool *self;

  g_return_val_if_fail (n_threads <= KESTREL_THREAD_POOL_MAX_THREADS, NULL);

  self = g_new0 (KestrelThreadPool, 1);
  g_atomic_ref_count_init (&self->ref_count);
  g_mutex_init (&self->call_lock);
  g_mutex_init (&self->lock);
  g_cond_init (&self->wake_cond);
  g_cond_init (&self->done_cond);
  self->workers = g_ptr_array_new ();
  self->requested = (gint) resolve_n_threads (n_threads);

  g_mutex_lock (&self->call_lock);
  apply_n_threads (self);
  g_mutex_unlock (&self->call_lock);

  return self;
}

KestrelThreadPool *
kestrel_thread_pool_ref (KestrelThreadPool *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
kestrel_thread_pool_unref (KestrelThreadPool *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  g_mutex_lock (&self->call_lock);
  stop_workers (self, 0);
  g_mutex_unlock (&self->call_lock);

  g_ptr_array_unref (self->workers);
  g_cond_clear (&self->done_cond);
  g_cond_clear (&self->wake_cond);
  g_mutex_clear (&self->lock);
  g_mutex_clear (&self->call_lock);
  g_free (self);
}

guint
kestrel_thread_pool_get_n_threads (KestrelThreadPool *self)
{
  g_return_val_if_fail (self != NULL, 1);

  return (guint) g_atomic_int_get (&self->requested);
}

void
kestrel_thread_pool_set_n_threads (KestrelThreadPool *self,
                                   guint              n_threads)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (n_threads <= KESTREL_THREAD_POOL_MAX_THREADS);

  g_atomic_int_set (&self->requested, (gint) resolve_n_threads (n_threads));

  /* When no parallel_for runs, resize now: an idle pool should give its
   * threads back without waiting for work. Otherwise the running call or
   * the next one applies it; this never waits (the UI may be calling). */
  if (g_private_get (&current_participant) == NULL && g_mutex_trylock (&self->call_lock))
    {
      apply_n_threads (self);
      g_mutex_unlock (&self->call_lock);
    }
}

static void
wait_until_done (KestrelThreadPool *self,
                 guint              n_chunks)
{
  gint64 deadline = g_get_monotonic_time () + SPIN_USEC;
  gboolean spin = g_atomic_int_get (&self->spin);

  /* Usually the last chunks finish within microseconds of the caller's. */
  for (guint spins = 1; (guint) g_atomic_int_get (&self->done) != n_chunks; spins++)
    {
      cpu_relax ();
      if (!spin || (spins % 64 == 0 && g_get_monotonic_time () >= deadline))
        {
          /* The last worker signals with the lock held after its add (if
           * it sees caller_sleeping, see run_chunks()), so checking under
           * the lock cannot miss it. */
          g_mutex_lock (&self->lock);
          g_atomic_int_set (&self->caller_sleeping, TRUE);
          while ((guint) g_atomic_int_get (&self->done) != n_chunks)
            g_cond_wait (&self->done_cond, &self->lock);
          g_atomic_int_set (&self->caller_sleeping, FALSE);
          g_mutex_unlock (&self->lock);
          return;
        }
    }
}

void
kestrel_thread_pool_parallel_for (KestrelThreadPool   *self,
                                  gsize                n_items,
                                  KestrelParallelFunc  func,
                                  gpointer             user_data)
{
  Participant *outer;
  Participant me = { self, 0 };
  gsize n_chunks;

  g_return_if_fail (self != NULL);
  g_return_if_fail (func != NULL);

  if (n_items == 0)
    return;

  /* From inside a parallel_for every thread is already busy, and waiting
   * for ourselves on call_lock would deadlock: run it here, in one piece. */
  outer = g_private_get (&current_participant);
  if (outer != NULL)
    {
      func (0, n_items, outer->pool == self ? outer->index : 0, user_data);
      return;
    }

  g_mutex_lock (&self->call_lock);

  if ((guint) g_atomic_int_get (&self->requested) != self->applied)
    apply_n_threads (self);

  n_chunks = MIN (n_items, (gsize) (self->workers->len + 1) * CHUNKS_PER_THREAD);

  g_private_set (&current_participant, &me);

  if (n_chunks <= 1)
    func (0, n_items, 0, user_data);
  else
    {
      self->func = func;
      self->user_data = user_data;
      self->n_items = n_items;
      g_atomic_int_set (&self->done, 0);
      g_atomic_int_set (&self->state, (gint) (n_chunks << 16));

      /* See wait_for_work() for why reading n_sleeping after the store is
       * enough; spinning workers see the store by themselves. */
      if (g_atomic_int_get (&self->n_sleeping) > 0)
        wake_workers (self);

      run_chunks (self, 0);
      wait_until_done (self, (guint) n_chunks);
    }

  g_private_set (&current_participant, NULL);

  /* A resize asked for during the call: apply it now rather than leave
   * threads the user no longer wants until the next call. */
  if ((guint) g_atomic_int_get (&self->requested) != self->applied)
    apply_n_threads (self);

  g_mutex_unlock (&self->call_lock);
}
