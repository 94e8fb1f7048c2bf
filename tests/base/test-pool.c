/* test-pool.c — the size-class pool: many threads, counters, leak report,
 * trim, and programmer errors caught without corrupting memory. */
#include <stdatomic.h>
#include <string.h>

#include "kestrel-buffer.h"
#include "kestrel-error.h"
#include "kestrel-pool.h"

#if defined(__SANITIZE_ADDRESS__)
/* kestrel_pool_try_alloc() must return NULL under AddressSanitizer too. */
const char *__asan_default_options (void);
const char *
__asan_default_options (void)
{
  return "allocator_may_return_null=1";
}
#endif

#define N_THREADS     8
#define N_SLOTS       12
#define MAX_CLASS     ((gsize) 64 * 1024)

static const char * const tags[] = { "frame", "scratch:resize", "scratch:nms", "decoder:blazeface" };

typedef struct {
  KestrelPool     *pool;
  guint32          seed;
  guint            n_iterations;
  guint64          allocations;     /* written by the thread, read after join */
  _Atomic gsize   *live_bytes;
  _Atomic gsize   *max_live_bytes;
} StressThread;

static gsize
random_size (GRand *rand)
{
  switch (g_rand_int_range (rand, 0, 20))
    {
    case 0:
      return 0;
    case 1:
      /* Exactly on a class boundary, or one past it. */
      return (KESTREL_POOL_MIN_CLASS_SIZE << g_rand_int_range (rand, 0, 11)) + g_rand_int_range (rand, 0, 2);
    case 2:
      /* Above the largest class: served by the system, still counted. */
      return MAX_CLASS + 1 + g_rand_int_range (rand, 0, 3 * MAX_CLASS);
    default:
      /* Log-uniform, mostly small, like scratch buffers. */
      return (gsize) g_rand_int_range (rand, 1, 1 << g_rand_int_range (rand, 1, 17));
    }
}

/* Whether the size bytes at p all hold fill: a block at a time with
 * memcmp, which the sanitizers check as one range per call, where a loop
 * over the bytes is checked byte by byte (core-pool took 146 s under
 * ThreadSanitizer with such a loop, the slowest test of scripts/tsan.sh
 * but the pipeline's). */
static gboolean
all_bytes_are (const guint8 *p, gsize size, guint8 fill)
{
  guint8 block[4096];

  memset (block, fill, sizeof block);
  for (gsize off = 0; off < size; off += sizeof block)
    if (memcmp (p + off, block, MIN (sizeof block, size - off)) != 0)
      return FALSE;
  return TRUE;
}

static gpointer
stress_thread (gpointer data)
{
  StressThread *st = data;
  g_autoptr(GRand) rand = g_rand_new_with_seed (st->seed);
  struct { guint8 *p; gsize size; guint8 fill; } slots[N_SLOTS] = { { 0 } };

  for (guint i = 0; i < st->n_iterations; i++)
    {
      guint k = (guint) g_rand_int_range (rand, 0, N_SLOTS);

      if (slots[k].p != NULL)
        {
          /* Another thread's buffer overlapping this one would show here. */
          if G_UNLIKELY (!all_bytes_are (slots[k].p, slots[k].size, slots[k].fill))
            g_error ("a %" G_GSIZE_FORMAT "-byte buffer changed while its thread held it",
                     slots[k].size);
          atomic_fetch_sub (st->live_bytes, slots[k].size);
          kestrel_pool_free (st->pool, slots[k].p);
          slots[k].p = NULL;
        }
      else
        {
          gsize size = random_size (rand);
          const char *tag = tags[g_rand_int_range (rand, 0, G_N_ELEMENTS (tags))];
          gsize now, max;

          slots[k].p = kestrel_pool_alloc (st->pool, size, tag);
          g_assert_true (kestrel_is_aligned (slots[k].p, 64));
          slots[k].size = size;
          slots[k].fill = (guint8) g_rand_int (rand);
          memset (slots[k].p, slots[k].fill, size);
          st->allocations++;

          /* Counted after the pool handed it out and uncounted before it
           * goes back, so this is never more than the pool's own count. */
          now = atomic_fetch_add (st->live_bytes, size) + size;
          max = atomic_load (st->max_live_bytes);
          while (now > max && !atomic_compare_exchange_weak (st->max_live_bytes, &max, now))
            ;
        }
    }

  for (guint k = 0; k < N_SLOTS; k++)
    if (slots[k].p != NULL)
      {
        atomic_fetch_sub (st->live_bytes, slots[k].size);
        kestrel_pool_free (st->pool, slots[k].p);
      }

  return NULL;
}

static void
test_pool_threads (void)
{
  g_autoptr(KestrelPool) pool = kestrel_pool_new (MAX_CLASS);
  StressThread st[N_THREADS];
  GThread *threads[N_THREADS];
  _Atomic gsize live_bytes = 0, max_live_bytes = 0;
  guint64 allocations = 0;
  KestrelPoolStats stats;
  gsize released;

  for (guint t = 0; t < N_THREADS; t++)
    {
      st[t] = (StressThread) {
        .pool = pool,
        .seed = g_test_rand_int () + t,
        .n_iterations = g_test_thorough () ? 200000 : 20000,
        .live_bytes = &live_bytes,
        .max_live_bytes = &max_live_bytes,
      };
      threads[t] = g_thread_new ("stress", stress_thread, &st[t]);
    }
  for (guint t = 0; t < N_THREADS; t++)
    {
      g_thread_join (threads[t]);
      allocations += st[t].allocations;
    }

  kestrel_pool_get_stats (pool, &stats);
  g_test_message ("%" G_GUINT64_FORMAT " allocations: %" G_GUINT64_FORMAT " hits, %"
                  G_GUINT64_FORMAT " misses; high water %" G_GSIZE_FORMAT " bytes (seen %"
                  G_GSIZE_FORMAT "); cached %" G_GSIZE_FORMAT " bytes",
                  allocations, stats.hits, stats.misses, stats.high_water_bytes,
                  (gsize) max_live_bytes, stats.cached_bytes);

  g_assert_cmpuint (stats.buffers_in_use, ==, 0);
  g_assert_cmpuint (stats.bytes_in_use, ==, 0);
  g_assert_cmpuint (stats.hits + stats.misses, ==, allocations);
  g_assert_cmpuint (stats.frees, ==, allocations);
  g_assert_cmpuint (stats.hits, >, 0);
  g_assert_cmpuint (stats.misses, >, 0);
  g_assert_cmpuint (stats.high_water_bytes, >=, max_live_bytes);
  g_assert_cmpuint (stats.cached_bytes, >, 0);
  g_assert_cmpuint (stats.held_bytes, ==, stats.cached_bytes);

  released = kestrel_pool_trim (pool);
  g_assert_cmpuint (released, ==, stats.cached_bytes);
  kestrel_pool_get_stats (pool, &stats);
  g_assert_cmpuint (stats.cached_bytes, ==, 0);
  g_assert_cmpuint (stats.cached_buffers, ==, 0);
  g_assert_cmpuint (stats.held_bytes, ==, 0);
}

static void
test_pool_reuse_and_classes (void)
{
  g_autoptr(KestrelPool) pool = kestrel_pool_new (MAX_CLASS);
  KestrelPoolStats stats;
  gpointer a, b, c;

  g_assert_cmpuint (kestrel_pool_get_max_class_size (pool), ==, MAX_CLASS);

  a = kestrel_pool_alloc (pool, 1000, "frame");
  kestrel_pool_get_stats (pool, &stats);
  g_assert_cmpuint (stats.bytes_in_use, ==, 1000);
  g_assert_cmpuint (stats.held_bytes, ==, 1024);   /* the 1 KiB class */
  kestrel_pool_free (pool, a);

  /* Same class: the same block comes back. */
  b = kestrel_pool_alloc (pool, 900, "frame");
  g_assert_true (a == b);
  kestrel_pool_get_stats (pool, &stats);
  g_assert_cmpuint (stats.hits, ==, 1);
  g_assert_cmpuint (stats.misses, ==, 1);

  /* Larger than the largest class: from the system, not cached after. */
  c = kestrel_pool_alloc (pool, MAX_CLASS + 1, "frame");
  g_assert_true (kestrel_is_aligned (c, 64));
  kestrel_pool_get_stats (pool, &stats);
  g_assert_cmpuint (stats.misses, ==, 2);
  g_assert_cmpuint (stats.bytes_in_use, ==, 900 + MAX_CLASS + 1);
  g_assert_cmpuint (stats.high_water_bytes, ==, 900 + MAX_CLASS + 1);
  kestrel_pool_free (pool, c);
  kestrel_pool_free (pool, b);
  kestrel_pool_free (pool, NULL);

  kestrel_pool_get_stats (pool, &stats);
  g_assert_cmpuint (stats.cached_buffers, ==, 1);
  g_assert_cmpuint (stats.cached_bytes, ==, 1024);
  g_assert_cmpuint (stats.high_water_bytes, ==, 900 + MAX_CLASS + 1);
  kestrel_pool_reset_high_water (pool);
  kestrel_pool_get_stats (pool, &stats);
  g_assert_cmpuint (stats.high_water_bytes, ==, 0);
}

static void
test_pool_leak_report (void)
{
  /* Same text at another address: the report goes by the text. */
  static const char frame_elsewhere[] = "frame";
  g_autoptr(KestrelPool) pool = kestrel_pool_new (0);
  g_autoptr(GPtrArray) usages = NULL;
  g_autofree char *report = NULL;
  const KestrelPoolTagUsage *u;
  gpointer frames[3], scratch, decoder;

  g_assert_null (kestrel_pool_format_outstanding (pool));

  frames[0] = kestrel_pool_alloc (pool, 640 * 480 * 3, "frame");
  frames[1] = kestrel_pool_alloc (pool, 640 * 480 * 3, frame_elsewhere);
  frames[2] = kestrel_pool_alloc (pool, 100, "frame");
  scratch = kestrel_pool_alloc (pool, 5000, "scratch:resize");
  decoder = kestrel_pool_alloc (pool, 64, "decoder:blazeface");
  kestrel_pool_free (pool, frames[2]);
  kestrel_pool_free (pool, decoder);

  usages = kestrel_pool_get_outstanding (pool);
  g_assert_cmpuint (usages->len, ==, 2);
  u = g_ptr_array_index (usages, 0);
  g_assert_cmpstr (u->tag, ==, "frame");
  g_assert_cmpuint (u->n_buffers, ==, 2);
  g_assert_cmpuint (u->n_bytes, ==, 2 * 640 * 480 * 3);
  u = g_ptr_array_index (usages, 1);
  g_assert_cmpstr (u->tag, ==, "scratch:resize");
  g_assert_cmpuint (u->n_buffers, ==, 1);
  g_assert_cmpuint (u->n_bytes, ==, 5000);

  report = kestrel_pool_format_outstanding (pool);
  g_test_message ("outstanding:\n%s", report);
  g_assert_cmpstr (report, ==,
                   "frame: 2 buffers, 1843200 bytes\n"
                   "scratch:resize: 1 buffer, 5000 bytes");

  kestrel_pool_free (pool, frames[0]);
  kestrel_pool_free (pool, frames[1]);
  kestrel_pool_free (pool, scratch);
  g_clear_pointer (&usages, g_ptr_array_unref);
  usages = kestrel_pool_get_outstanding (pool);
  g_assert_cmpuint (usages->len, ==, 0);
}

static void
test_pool_buffers_outlive_pool (void)
{
  KestrelPool *pool = kestrel_pool_new (0);
  guint8 *frame = kestrel_pool_alloc (pool, 4096, "frame");

  /* The engine goes away while the UI still shows its last frame. */
  kestrel_pool_unref (pool);
  memset (frame, 0x5a, 4096);
  kestrel_pool_free (pool, frame);   /* the last reference: the pool goes now */
}

static void
test_pool_try_alloc_too_big (void)
{
  g_autoptr(KestrelPool) pool = kestrel_pool_new (0);
  g_autoptr(GError) error = NULL;
  KestrelPoolStats stats;

  g_assert_null (kestrel_pool_try_alloc (pool, G_MAXSIZE - 10, "frame", &error));
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_NO_MEMORY);
  g_assert_nonnull (strstr (error->message, "'frame'"));
  g_clear_error (&error);

  if (GLIB_SIZEOF_SIZE_T == 8)
    {
      /* Below the address-space limit, above any machine's memory. */
      g_assert_null (kestrel_pool_try_alloc (pool, (gsize) 1 << 62, "frame", &error));
      g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_NO_MEMORY);
    }

  kestrel_pool_get_stats (pool, &stats);
  g_assert_cmpuint (stats.buffers_in_use, ==, 0);
  g_assert_cmpuint (stats.misses, ==, 0);
}

static void
test_pool_bad_frees (void)
{
  g_autoptr(KestrelPool) pool = kestrel_pool_new (MAX_CLASS);
  g_autoptr(KestrelPool) other = kestrel_pool_new (MAX_CLASS);
  KestrelPoolStats stats;
  guint8 *buf, *large, *theirs, *foreign;
  guint8 saved;

  /* Freed twice while cached: the tag of the last owner is named. */
  buf = kestrel_pool_alloc (pool, 100, "scratch:nms");
  kestrel_pool_free (pool, buf);
  g_test_expect_message ("Kestrel", G_LOG_LEVEL_CRITICAL, "*('scratch:nms') was freed twice*");
  kestrel_pool_free (pool, buf);
  g_test_assert_expected_messages ();

  /* Freed twice after trim gave the memory back: nothing is read. */
  kestrel_pool_trim (pool);
  g_test_expect_message ("Kestrel", G_LOG_LEVEL_CRITICAL, "*not given out by this pool*freed twice*");
  kestrel_pool_free (pool, buf);
  g_test_assert_expected_messages ();

  /* A large buffer goes straight back to the system. */
  large = kestrel_pool_alloc (pool, 4 * MAX_CLASS, "frame");
  kestrel_pool_free (pool, large);
  g_test_expect_message ("Kestrel", G_LOG_LEVEL_CRITICAL, "*not given out by this pool*");
  kestrel_pool_free (pool, large);
  g_test_assert_expected_messages ();

  /* Another pool's buffer. */
  theirs = kestrel_pool_alloc (other, 100, "frame");
  g_test_expect_message ("Kestrel", G_LOG_LEVEL_CRITICAL, "*not given out by this pool*");
  kestrel_pool_free (pool, theirs);
  g_test_assert_expected_messages ();
  kestrel_pool_free (other, theirs);

  /* Memory the pool never saw, aligned or not. */
  foreign = kestrel_aligned_alloc (256, 64);
  g_test_expect_message ("Kestrel", G_LOG_LEVEL_CRITICAL, "*not given out by this pool*");
  kestrel_pool_free (pool, foreign + 64);
  g_test_assert_expected_messages ();
  g_test_expect_message ("Kestrel", G_LOG_LEVEL_CRITICAL, "*not given out by a Kestrel pool*");
  kestrel_pool_free (pool, foreign + 1);
  g_test_assert_expected_messages ();
  kestrel_aligned_free (foreign);

  /* A write just before the buffer (an underrun) is noticed. */
  buf = kestrel_pool_alloc (pool, 100, "frame");
  saved = buf[-1];
  buf[-1] ^= 0xff;
  g_test_expect_message ("Kestrel", G_LOG_LEVEL_CRITICAL, "*before buffer*overwritten*");
  kestrel_pool_free (pool, buf);
  g_test_assert_expected_messages ();
  buf[-1] = saved;
  kestrel_pool_free (pool, buf);

  /* None of it disturbed the books. */
  kestrel_pool_get_stats (pool, &stats);
  g_assert_cmpuint (stats.buffers_in_use, ==, 0);
  g_assert_cmpuint (stats.frees, ==, 3);
  g_assert_cmpuint (stats.hits + stats.misses, ==, 3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pool/threads", test_pool_threads);
  g_test_add_func ("/pool/reuse-and-classes", test_pool_reuse_and_classes);
  g_test_add_func ("/pool/leak-report", test_pool_leak_report);
  g_test_add_func ("/pool/buffers-outlive-pool", test_pool_buffers_outlive_pool);
  g_test_add_func ("/pool/try-alloc-too-big", test_pool_try_alloc_too_big);
  g_test_add_func ("/pool/bad-frees", test_pool_bad_frees);
  return g_test_run ();
}
