/* test-batcher.c — the batching policy under a simulated clock. */
#include <math.h>

#include "kestrel-batcher.h"

static void
test_batcher_fixed (void)
{
  g_autoptr(KestrelBatcher) b = kestrel_batcher_new (4, 10000);

  g_assert_cmpint (kestrel_batcher_get_mode (b), ==, KESTREL_BATCHER_MODE_FIXED);
  g_assert_cmpuint (kestrel_batcher_get_batch_size (b), ==, 4);
  g_assert_cmpint (kestrel_batcher_get_deadline (b), ==, G_MAXINT64);
  g_assert_false (kestrel_batcher_is_ready (b, 0));
  g_assert_cmpuint (kestrel_batcher_pop (b, 0), ==, 0);

  /* A full batch is due as soon as it is full. */
  for (gint64 t = 100; t < 104; t++)
    g_assert_true (kestrel_batcher_push (b, t));
  g_assert_cmpint (kestrel_batcher_get_deadline (b), ==, 103);
  g_assert_true (kestrel_batcher_is_ready (b, 103));
  g_assert_cmpuint (kestrel_batcher_pop (b, 103), ==, 4);
  g_assert_cmpuint (kestrel_batcher_get_n_pending (b), ==, 0);

  /* Six waiting: one full batch now, the other two at their deadline. */
  for (gint64 t = 200; t < 206; t++)
    kestrel_batcher_push (b, t);
  g_assert_cmpuint (kestrel_batcher_pop (b, 206), ==, 4);
  g_assert_cmpint (kestrel_batcher_get_deadline (b), ==, 204 + 10000);
  g_assert_false (kestrel_batcher_is_ready (b, 204 + 9999));
  g_assert_cmpuint (kestrel_batcher_pop (b, 204 + 9999), ==, 0);
  g_assert_cmpuint (kestrel_batcher_pop (b, 204 + 10000), ==, 2);
}

static void
test_batcher_max_wait (void)
{
  const gint64 max_wait = 5000;
  g_autoptr(KestrelBatcher) b = kestrel_batcher_new (4, max_wait);
  gint64 now = 0, next_arrival = 0;
  guint batches = 0, items = 0;

  /* One item every 12 ms never fills a batch of 4: each must go out alone
   * when it has waited the maximum, never later. */
  while (items < 100)
    {
      gint64 deadline = kestrel_batcher_get_deadline (b);

      if (next_arrival <= deadline)
        {
          now = next_arrival;
          kestrel_batcher_push (b, now);
          next_arrival += 12000;
        }
      else
        {
          gint64 oldest = deadline - max_wait;
          guint n;

          now = deadline;
          g_assert_false (kestrel_batcher_is_ready (b, now - 1));
          n = kestrel_batcher_pop (b, now);
          g_assert_cmpuint (n, ==, 1);
          g_assert_cmpint (now - oldest, <=, max_wait);
          batches++;
          items += n;
        }
    }
  g_assert_cmpuint (batches, ==, 100);

  /* Zero wait: whatever is there goes at once. */
  kestrel_batcher_set_max_wait (b, 0);
  kestrel_batcher_push (b, now);
  g_assert_cmpuint (kestrel_batcher_pop (b, now), ==, 1);
}

typedef struct {
  double fixed_us;
  double per_item_us;
  double noise;        /* relative, uniform */
  gint64 arrival_us;   /* between arrivals */
} Workload;

/* Runs a sequential engine: wait for a batch, run it (items keep arriving
 * meanwhile), report its run time. Returns the sizes of the last @n_tail
 * batches in @tail. */
static void
simulate (KestrelBatcher *b,
          const Workload *w,
          guint           n_batches,
          guint          *tail,
          guint           n_tail)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (99);
  gint64 now = 1000000, next_arrival = now;

  for (guint i = 0; i < n_batches; i++)
    {
      guint n;
      gint64 latency;

      /* Idle until a batch is due, taking arrivals as they come. */
      while (!kestrel_batcher_is_ready (b, now))
        {
          gint64 deadline = kestrel_batcher_get_deadline (b);

          if (next_arrival <= deadline)
            {
              now = MAX (now, next_arrival);
              kestrel_batcher_push (b, next_arrival);
              next_arrival += w->arrival_us;
            }
          else
            now = MAX (now, deadline);
        }

      n = kestrel_batcher_pop (b, now);
      g_assert_cmpuint (n, >=, 1);
      g_assert_cmpuint (n, <=, kestrel_batcher_get_max_batch (b));
      latency = (gint64) ((w->fixed_us + w->per_item_us * n) *
                          (1 + w->noise * g_rand_double_range (rand, -1, 1)));

      /* Busy: arrivals queue up. */
      for (now += latency; next_arrival <= now; next_arrival += w->arrival_us)
        kestrel_batcher_push (b, next_arrival);
      kestrel_batcher_record_latency (b, n, latency);

      if (i >= n_batches - n_tail)
        tail[i - (n_batches - n_tail)] = n;
    }
}

static void
check_adaptive (const Workload *w,
                gint64          target_us,
                guint           max_batch,
                guint           expected)
{
  g_autoptr(KestrelBatcher) b = kestrel_batcher_new (max_batch, 100000);
  guint tail[50];
  double fixed, per_item;

  kestrel_batcher_set_mode (b, KESTREL_BATCHER_MODE_ADAPTIVE);
  kestrel_batcher_set_target_latency (b, target_us);
  g_assert_cmpuint (kestrel_batcher_get_batch_size (b), ==, 1);
  g_assert_false (kestrel_batcher_get_model (b, NULL, NULL));

  simulate (b, w, 400, tail, G_N_ELEMENTS (tail));

  g_assert_true (kestrel_batcher_get_model (b, &fixed, &per_item));
  g_test_message ("latency %.0f + %.0f n (noise %.0f%%), target %" G_GINT64_FORMAT
                  ": fitted %.0f + %.1f n, batch %u",
                  w->fixed_us, w->per_item_us, w->noise * 100, target_us,
                  fixed, per_item, kestrel_batcher_get_batch_size (b));
  g_assert_cmpuint (kestrel_batcher_get_batch_size (b), ==, expected);
  /* Converged and stayed: the last batches all ran at that size. */
  for (guint i = 0; i < G_N_ELEMENTS (tail); i++)
    g_assert_cmpuint (tail[i], ==, expected);
}

static void
test_batcher_adaptive (void)
{
  const Workload exact = { 5000, 2000, 0, 3000 };
  const Workload noisy = { 5000, 2000, 0.02, 3000 };
  const Workload no_fixed = { 0, 2500, 0, 3000 };

  /* 5 + 2n <= 20 ms: n = 7 (7.5 rounded down). */
  check_adaptive (&exact, 20000, 16, 7);
  /* On the boundary: 5 + 2 * 8 = 21 ms exactly is allowed. */
  check_adaptive (&exact, 21000, 16, 8);
  /* ±2% run-time noise does not move it. */
  check_adaptive (&noisy, 20000, 16, 7);
  /* The maximum batch caps it. */
  check_adaptive (&exact, 200000, 6, 6);
  /* Pure per-item cost: 2.5 ms each within 10 ms is 4. */
  check_adaptive (&no_fixed, 10000, 16, 4);
}

static void
test_batcher_adaptive_limits (void)
{
  g_autoptr(KestrelBatcher) b = kestrel_batcher_new (8, 1000);

  kestrel_batcher_set_mode (b, KESTREL_BATCHER_MODE_ADAPTIVE);
  kestrel_batcher_set_target_latency (b, 10000);

  /* One size measured, within target: try one larger. */
  kestrel_batcher_record_latency (b, 1, 4000);
  g_assert_cmpuint (kestrel_batcher_get_batch_size (b), ==, 2);

  /* Even a batch of one misses the target: stay at one. */
  kestrel_batcher_record_latency (b, 2, 30000);
  g_assert_cmpuint (kestrel_batcher_get_batch_size (b), ==, 1);

  /* Batching costs nothing per item: the maximum. */
  kestrel_batcher_reset_model (b);
  g_assert_cmpuint (kestrel_batcher_get_batch_size (b), ==, 1);
  kestrel_batcher_record_latency (b, 1, 6000);
  kestrel_batcher_record_latency (b, 2, 6000);
  g_assert_cmpuint (kestrel_batcher_get_batch_size (b), ==, 8);

  /* Fixed mode ignores the model. */
  kestrel_batcher_set_mode (b, KESTREL_BATCHER_MODE_FIXED);
  kestrel_batcher_set_max_batch (b, 3);
  g_assert_cmpuint (kestrel_batcher_get_batch_size (b), ==, 3);
}

static void
test_batcher_pending_limit (void)
{
  g_autoptr(KestrelBatcher) b = kestrel_batcher_new (1000, 0);

  g_assert_cmpuint (kestrel_batcher_get_max_batch (b), ==, KESTREL_BATCHER_MAX_BATCH);
  for (guint i = 0; i < KESTREL_BATCHER_MAX_PENDING; i++)
    g_assert_true (kestrel_batcher_push (b, i));
  g_assert_false (kestrel_batcher_push (b, 5000));
  g_assert_cmpuint (kestrel_batcher_get_n_pending (b), ==, KESTREL_BATCHER_MAX_PENDING);
  g_assert_cmpuint (kestrel_batcher_pop (b, 5000), ==, KESTREL_BATCHER_MAX_BATCH);
  g_assert_true (kestrel_batcher_push (b, 5001));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/batcher/fixed", test_batcher_fixed);
  g_test_add_func ("/batcher/max-wait", test_batcher_max_wait);
  g_test_add_func ("/batcher/adaptive", test_batcher_adaptive);
  g_test_add_func ("/batcher/adaptive-limits", test_batcher_adaptive_limits);
  g_test_add_func ("/batcher/pending-limit", test_batcher_pending_limit);

  return g_test_run ();
}
