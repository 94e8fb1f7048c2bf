/* test-thread-pool.c — parallel_for covers every item exactly once, for any
 * thread count, while the count changes under it, from two callers at once,
 * nested; and an idle pool costs no CPU. */
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "kestrel-thread-pool.h"

#define MAX_TEST_THREADS 8

typedef struct {
  gsize           n_items;
  guint           max_threads;          /* worker indices must stay below */
  gint           *visits;               /* atomic per item */
  guint32        *fill;                 /* plain writes, read after return */
  gint            busy[KESTREL_THREAD_POOL_MAX_THREADS];
  _Atomic guint64 sum;
  gint            n_calls;
  gint            indices_seen;         /* bit per worker index */
} Job;

static void
visit (gsize    begin,
       gsize    end,
       guint    worker_index,
       gpointer user_data)
{
  Job *job = user_data;
  guint64 sum = 0;

  g_assert_cmpuint (begin, <, end);
  g_assert_cmpuint (end, <=, job->n_items);
  g_assert_cmpuint (worker_index, <, job->max_threads);
  /* Two threads never run with the same index at once. */
  if (!g_atomic_int_compare_and_exchange (&job->busy[worker_index], 0, 1))
    g_error ("worker index %u used by two threads at once", worker_index);

  for (gsize i = begin; i < end; i++)
    {
      g_atomic_int_inc (&job->visits[i]);
      job->fill[i] = (guint32) (i * 2654435761u);
      sum += i;
    }
  atomic_fetch_add (&job->sum, sum);
  g_atomic_int_inc (&job->n_calls);
  if (worker_index < 32)
    g_atomic_int_or ((guint *) &job->indices_seen, 1u << worker_index);

  g_atomic_int_set (&job->busy[worker_index], 0);
}

/* Returns the bit set of worker indices that took part. */
static guint
run_and_check (KestrelThreadPool *pool,
               gsize              n_items,
               guint              max_threads)
{
  Job job = { .n_items = n_items, .max_threads = max_threads };

  job.visits = g_new0 (gint, n_items + 1);
  job.fill = g_new0 (guint32, n_items + 1);

  kestrel_thread_pool_parallel_for (pool, n_items, visit, &job);

  for (gsize i = 0; i < n_items; i++)
    {
      if (job.visits[i] != 1)
        g_error ("item %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " visited %d times",
                 i, n_items, job.visits[i]);
      g_assert_cmpuint (job.fill[i], ==, (guint32) (i * 2654435761u));
    }
  g_assert_cmpuint (job.sum, ==, n_items == 0 ? 0 : (guint64) n_items * (n_items - 1) / 2);
  if (n_items == 0)
    g_assert_cmpint (job.n_calls, ==, 0);

  g_free (job.visits);
  g_free (job.fill);
  return (guint) job.indices_seen;
}

static void
test_thread_pool_all_sizes (void)
{
  for (guint t = 1; t <= MAX_TEST_THREADS; t++)
    {
      g_autoptr(KestrelThreadPool) pool = kestrel_thread_pool_new (t);
      guint seen = 0;

      g_assert_cmpuint (kestrel_thread_pool_get_n_threads (pool), ==, t);
      for (gsize n = 0; n <= 1000; n++)
        seen |= run_and_check (pool, n, t);
      g_test_message ("%u threads: worker indices seen 0x%x", t, seen);
      if (t == 1)
        g_assert_cmpuint (seen, ==, 1);
    }
}

static void
test_thread_pool_default_and_set (void)
{
  g_autoptr(KestrelThreadPool) pool = kestrel_thread_pool_new (0);
  guint n_cpus = (guint) g_get_num_processors ();

  g_assert_cmpuint (kestrel_thread_pool_get_n_threads (pool), ==, MIN (n_cpus, KESTREL_THREAD_POOL_MAX_THREADS));
  kestrel_thread_pool_set_n_threads (pool, 3);
  g_assert_cmpuint (kestrel_thread_pool_get_n_threads (pool), ==, 3);
  run_and_check (pool, 500, 3);
  kestrel_thread_pool_set_n_threads (pool, 0);
  g_assert_cmpuint (kestrel_thread_pool_get_n_threads (pool), ==, MIN (n_cpus, KESTREL_THREAD_POOL_MAX_THREADS));
  run_and_check (pool, 500, MIN (MAX (n_cpus, 1), KESTREL_THREAD_POOL_MAX_THREADS));
}

typedef struct {
  KestrelThreadPool *pool;
  gint               stop;
  gint               n_resizes;
} Resizer;

static gpointer
resize_loop (gpointer data)
{
  Resizer *resizer = data;
  g_autoptr(GRand) rand = g_rand_new_with_seed (g_test_rand_int ());

  while (!g_atomic_int_get (&resizer->stop))
    {
      kestrel_thread_pool_set_n_threads (resizer->pool, (guint) g_rand_int_range (rand, 1, MAX_TEST_THREADS + 1));
      g_atomic_int_inc (&resizer->n_resizes);
      g_usleep (g_rand_int_range (rand, 0, 300));
    }
  return NULL;
}

static void
test_thread_pool_resize_while_running (void)
{
  g_autoptr(KestrelThreadPool) pool = kestrel_thread_pool_new (2);
  Resizer resizer = { pool, 0, 0 };
  GThread *thread = g_thread_new ("resizer", resize_loop, &resizer);
  guint n_calls = 0;

  /* At least 2000 calls, and on until the resizer has had its turn many
   * times: a fast machine could otherwise finish before it starts. */
  while (n_calls < 2000 || g_atomic_int_get (&resizer.n_resizes) < 200)
    {
      run_and_check (pool, (gsize) g_test_rand_int_range (0, 1001), MAX_TEST_THREADS);
      n_calls++;
    }

  g_atomic_int_set (&resizer.stop, 1);
  g_thread_join (thread);
  g_test_message ("%d resizes during %u calls", resizer.n_resizes, n_calls);
}

/* Records which job is running; funcs of two jobs must never overlap. */
static GMutex owner_lock;
static gpointer owner;
static guint owner_depth;

typedef struct {
  Job   job;
  guint overlaps;
} OwnedJob;

static void
owned_visit (gsize    begin,
             gsize    end,
             guint    worker_index,
             gpointer user_data)
{
  g_mutex_lock (&owner_lock);
  if (owner != NULL && owner != user_data)
    g_error ("two parallel_for calls ran at the same time");
  owner = user_data;
  owner_depth++;
  g_mutex_unlock (&owner_lock);

  visit (begin, end, worker_index, user_data);

  g_mutex_lock (&owner_lock);
  if (--owner_depth == 0)
    owner = NULL;
  g_mutex_unlock (&owner_lock);
}

static gpointer
caller_loop (gpointer data)
{
  KestrelThreadPool *pool = data;
  g_autoptr(GRand) rand = g_rand_new_with_seed (g_test_rand_int ());

  for (guint i = 0; i < 500; i++)
    {
      gsize n = (gsize) g_rand_int_range (rand, 1, 2000);
      Job job = { .n_items = n, .max_threads = 4 };

      job.visits = g_new0 (gint, n);
      job.fill = g_new0 (guint32, n);
      kestrel_thread_pool_parallel_for (pool, n, owned_visit, &job);
      for (gsize k = 0; k < n; k++)
        g_assert_cmpint (job.visits[k], ==, 1);
      g_assert_cmpuint (job.sum, ==, (guint64) n * (n - 1) / 2);
      g_free (job.visits);
      g_free (job.fill);
    }
  return NULL;
}

static void
test_thread_pool_concurrent_callers (void)
{
  g_autoptr(KestrelThreadPool) pool = kestrel_thread_pool_new (4);
  GThread *a = g_thread_new ("caller-a", caller_loop, pool);
  GThread *b = g_thread_new ("caller-b", caller_loop, pool);

  g_thread_join (a);
  g_thread_join (b);
}

typedef struct {
  KestrelThreadPool *pool;
  guint64            sums[16];
  guint              outer_index[16];
} Nested;

typedef struct {
  Nested  *nested;
  gsize    outer_item;
  guint    outer_worker;
} InnerCall;

static void
inner_func (gsize    begin,
            gsize    end,
            guint    worker_index,
            gpointer user_data)
{
  InnerCall *call = user_data;

  /* Serial, on the thread that made the call, under its own index. */
  g_assert_cmpuint (begin, ==, 0);
  g_assert_cmpuint (end, ==, 100);
  g_assert_cmpuint (worker_index, ==, call->outer_worker);
  for (gsize i = begin; i < end; i++)
    call->nested->sums[call->outer_item] += i;
}

static void
outer_func (gsize    begin,
            gsize    end,
            guint    worker_index,
            gpointer user_data)
{
  Nested *nested = user_data;

  for (gsize i = begin; i < end; i++)
    {
      InnerCall call = { nested, i, worker_index };

      kestrel_thread_pool_parallel_for (nested->pool, 100, inner_func, &call);
      nested->outer_index[i] = worker_index;
    }
}

static void
test_thread_pool_nested (void)
{
  g_autoptr(KestrelThreadPool) pool = kestrel_thread_pool_new (4);
  Nested nested = { pool };

  for (guint round = 0; round < 50; round++)
    {
      memset (nested.sums, 0, sizeof nested.sums);
      kestrel_thread_pool_parallel_for (pool, G_N_ELEMENTS (nested.sums), outer_func, &nested);
      for (gsize i = 0; i < G_N_ELEMENTS (nested.sums); i++)
        g_assert_cmpuint (nested.sums[i], ==, 4950);
    }
}

static void
resize_from_inside (gsize    begin,
                    gsize    end,
                    guint    worker_index,
                    gpointer user_data)
{
  KestrelThreadPool *pool = user_data;

  /* From the caller and from workers alike: must not deadlock. */
  kestrel_thread_pool_set_n_threads (pool, 1 + (guint) (begin % 4));
}

static void
test_thread_pool_resize_from_inside (void)
{
  g_autoptr(KestrelThreadPool) pool = kestrel_thread_pool_new (4);

  for (guint i = 0; i < 200; i++)
    {
      kestrel_thread_pool_parallel_for (pool, 64, resize_from_inside, pool);
      run_and_check (pool, 300, 4);
    }
}

static int
count_threads (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  int n = 0;

  if (dir == NULL)
    return -1;
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* A joined thread can linger in /proc for a moment after pthread_join()
 * returns; give the count a little while to settle. */
static int
settled_thread_count (int expected)
{
  int n = count_threads ();

  for (int i = 0; i < 2000 && n != expected; i++)
    {
      g_usleep (1000);
      n = count_threads ();
    }
  return n;
}

static void
test_thread_pool_workers_come_and_go (void)
{
  int base = count_threads ();
  KestrelThreadPool *pool;

  if (base < 0)
    {
      g_test_skip ("/proc/self/task is not readable");
      return;
    }

  /* The calling thread is one of the n. */
  pool = kestrel_thread_pool_new (4);
  g_assert_cmpint (settled_thread_count (base + 3), ==, base + 3);

  /* An idle pool resizes at once. */
  kestrel_thread_pool_set_n_threads (pool, 1);
  g_assert_cmpint (settled_thread_count (base), ==, base);
  kestrel_thread_pool_set_n_threads (pool, 6);
  g_assert_cmpint (settled_thread_count (base + 5), ==, base + 5);
  run_and_check (pool, 1000, 6);
  kestrel_thread_pool_set_n_threads (pool, 2);
  g_assert_cmpint (settled_thread_count (base + 1), ==, base + 1);

  /* Unref joins them. */
  kestrel_thread_pool_unref (pool);
  g_assert_cmpint (settled_thread_count (base), ==, base);

  for (guint i = 0; i < 20; i++)
    {
      pool = kestrel_thread_pool_new (3);
      run_and_check (pool, 100, 3);
      kestrel_thread_pool_unref (pool);
    }
  g_assert_cmpint (settled_thread_count (base), ==, base);
}

static void
busy_work (gsize    begin,
           gsize    end,
           guint    worker_index,
           gpointer user_data)
{
  float *out = user_data;

  for (gsize i = begin; i < end; i++)
    {
      float x = (float) i;

      for (int k = 0; k < 200; k++)
        x = x * 0.999f + 1.0f;
      out[i] = x;
    }
}

static double
process_cpu_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static void
test_thread_pool_idle_costs_nothing (void)
{
  g_autoptr(KestrelThreadPool) pool = kestrel_thread_pool_new (2);
  g_autofree float *out = g_new0 (float, 10000);
  double before, after;

  for (guint i = 0; i < 200; i++)
    kestrel_thread_pool_parallel_for (pool, 10000, busy_work, out);

  /* A resource check, not a timing one: whatever the machine's speed, one
   * second of an idle pool must cost next to no CPU (all threads of the
   * process are counted). */
  before = process_cpu_ms ();
  g_usleep (G_USEC_PER_SEC);
  after = process_cpu_ms ();

  g_test_message ("idle pool of 2 threads: %.3f ms of CPU in 1 s", after - before);
  g_assert_cmpfloat (after - before, <=, 10.0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/thread-pool/all-sizes", test_thread_pool_all_sizes);
  g_test_add_func ("/thread-pool/default-and-set", test_thread_pool_default_and_set);
  g_test_add_func ("/thread-pool/resize-while-running", test_thread_pool_resize_while_running);
  g_test_add_func ("/thread-pool/concurrent-callers", test_thread_pool_concurrent_callers);
  g_test_add_func ("/thread-pool/nested", test_thread_pool_nested);
  g_test_add_func ("/thread-pool/resize-from-inside", test_thread_pool_resize_from_inside);
  g_test_add_func ("/thread-pool/workers-come-and-go", test_thread_pool_workers_come_and_go);
  g_test_add_func ("/thread-pool/idle-costs-nothing", test_thread_pool_idle_costs_nothing);
  return g_test_run ();
}
