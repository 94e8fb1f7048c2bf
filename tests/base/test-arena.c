/* test-arena.c — the lifetime planner and the arena block. */
#include <string.h>

#include "kestrel-arena.h"
#include "kestrel-buffer.h"
#include "kestrel-error.h"

#if defined(__SANITIZE_ADDRESS__)
/* kestrel_arena_new() must fail with a GError under AddressSanitizer too. */
const char *__asan_default_options (void);
const char *
__asan_default_options (void)
{
  return "allocator_may_return_null=1";
}
#endif

static gboolean
overlap_in_time (const KestrelArenaRequest *a,
                 const KestrelArenaRequest *b)
{
  return a->first_use_step <= b->last_use_step && b->first_use_step <= a->last_use_step;
}

static gsize
max_live_bytes (const KestrelArenaRequest *r,
                gsize                      n)
{
  guint last_step = 0;
  gsize best = 0;

  for (gsize i = 0; i < n; i++)
    last_step = MAX (last_step, r[i].last_use_step);
  for (guint step = 0; step <= last_step; step++)
    {
      gsize live = 0;

      for (gsize i = 0; i < n; i++)
        if (r[i].first_use_step <= step && step <= r[i].last_use_step)
          live += r[i].size;
      best = MAX (best, live);
    }
  return best;
}

static void
check_plan (const KestrelArenaRequest *r,
            gsize                      n,
            gsize                      alignment,
            gsize                      total)
{
  for (gsize i = 0; i < n; i++)
    {
      if (r[i].size == 0)
        continue;
      g_assert_cmpuint (r[i].offset % alignment, ==, 0);
      g_assert_cmpuint (r[i].offset + r[i].size, <=, total);
      for (gsize j = i + 1; j < n; j++)
        {
          if (r[j].size == 0 || !overlap_in_time (&r[i], &r[j]))
            continue;
          if (!(r[i].offset + r[i].size <= r[j].offset || r[j].offset + r[j].size <= r[i].offset))
            g_error ("tensors %" G_GSIZE_FORMAT " and %" G_GSIZE_FORMAT " are alive together "
                     "but share bytes: [%" G_GSIZE_FORMAT ", +%" G_GSIZE_FORMAT ") and [%"
                     G_GSIZE_FORMAT ", +%" G_GSIZE_FORMAT ")",
                     i, j, r[i].offset, r[i].size, r[j].offset, r[j].size);
        }
    }
  g_assert_cmpuint (total, >=, max_live_bytes (r, n));
}

/* Runs the plan as an executor would: each tensor is written at its first
 * step, and every live tensor must still hold what was written. */
static void
simulate (const KestrelArenaRequest *r,
          gsize                      n,
          gsize                      total)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelArena) arena = kestrel_arena_new (total, &error);
  guint last_step = 0;

  g_assert_no_error (error);
  g_assert_true (kestrel_is_aligned (kestrel_arena_get_data (arena), KESTREL_ALIGNMENT));
  for (gsize i = 0; i < n; i++)
    last_step = MAX (last_step, r[i].last_use_step);

  for (guint step = 0; step <= last_step; step++)
    {
      for (gsize i = 0; i < n; i++)
        if (r[i].first_use_step == step)
          memset (kestrel_arena_get_pointer (arena, r[i].offset, r[i].size), (int) (i & 0xff) + 1, r[i].size);
      for (gsize i = 0; i < n; i++)
        if (r[i].first_use_step <= step && step <= r[i].last_use_step)
          {
            const guint8 *p = kestrel_arena_get_pointer (arena, r[i].offset, r[i].size);

            for (gsize b = 0; b < r[i].size; b++)
              g_assert_cmpuint (p[b], ==, (i & 0xff) + 1);
          }
    }
}

static void
test_arena_plan_random (void)
{
  const gsize alignments[] = { 64, 16, 256 };
  guint n_trials = g_test_thorough () ? 3000 : 300;

  for (guint trial = 0; trial < n_trials; trial++)
    {
      gsize n = (gsize) g_test_rand_int_range (1, 80);
      gsize alignment = alignments[trial % G_N_ELEMENTS (alignments)];
      g_autofree KestrelArenaRequest *r = g_new0 (KestrelArenaRequest, n);
      g_autoptr(GError) error = NULL;
      gsize total = 0, sum = 0;

      for (gsize i = 0; i < n; i++)
        {
          r[i].first_use_step = (guint) g_test_rand_int_range (0, 40);
          r[i].last_use_step = r[i].first_use_step + (guint) g_test_rand_int_range (0, 10);
          r[i].size = g_test_rand_int_range (0, 10) == 0 ? 0 : (gsize) g_test_rand_int_range (1, 20000);
          r[i].offset = G_MAXSIZE;   /* must be overwritten */
          sum += r[i].size + alignment;
        }

      g_assert_true (kestrel_arena_plan (r, n, alignment, &total, &error));
      g_assert_no_error (error);
      check_plan (r, n, alignment, total);
      /* Never worse than giving everything its own space. */
      g_assert_cmpuint (total, <=, sum);
      if (trial % 10 == 0)
        simulate (r, n, total);
    }
}

static void
plan_ok (KestrelArenaRequest *r,
         gsize                n,
         gsize               *total)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (kestrel_arena_plan (r, n, 64, total, &error));
  g_assert_no_error (error);
  check_plan (r, n, 64, *total);
}

static void
test_arena_plan_simple (void)
{
  gsize total;

  /* A chain, as in a plain CNN: each output feeds the next op only. The
   * best possible is the largest pair alive together. */
  {
    KestrelArenaRequest r[] = {
      { 64 * 10, 0, 1 }, { 64 * 40, 1, 2 }, { 64 * 20, 2, 3 },
      { 64 * 30, 3, 4 }, { 64 * 5, 4, 5 }, { 64 * 50, 5, 6 }, { 64, 6, 7 },
    };

    plan_ok (r, G_N_ELEMENTS (r), &total);
    g_assert_cmpuint (total, ==, max_live_bytes (r, G_N_ELEMENTS (r)));
    g_assert_cmpuint (total, ==, 64 * 60);
  }

  /* Nothing alive together: everything at offset 0. */
  {
    KestrelArenaRequest r[] = { { 640, 0, 0 }, { 1280, 1, 1 }, { 64, 2, 2 }, { 128, 3, 3 } };

    plan_ok (r, G_N_ELEMENTS (r), &total);
    g_assert_cmpuint (total, ==, 1280);
    for (gsize i = 0; i < G_N_ELEMENTS (r); i++)
      g_assert_cmpuint (r[i].offset, ==, 0);
  }

  /* Everything alive together: the sum. */
  {
    KestrelArenaRequest r[] = { { 640, 0, 5 }, { 1280, 2, 3 }, { 64, 1, 4 }, { 128, 3, 3 } };

    plan_ok (r, G_N_ELEMENTS (r), &total);
    g_assert_cmpuint (total, ==, 640 + 1280 + 64 + 128);
  }

  /* A skip connection (a residual Add) keeps one tensor alive across a
   * chain, which then reuses the space around it. */
  {
    KestrelArenaRequest r[] = {
      { 64 * 8, 0, 4 },                                  /* skip */
      { 64 * 4, 1, 2 }, { 64 * 4, 2, 3 }, { 64 * 4, 3, 4 },
      { 64 * 8, 4, 5 },                                  /* the sum */
    };

    plan_ok (r, G_N_ELEMENTS (r), &total);
    g_assert_cmpuint (total, ==, max_live_bytes (r, G_N_ELEMENTS (r)));
  }

  /* Unaligned sizes take aligned room; zero sizes take none. */
  {
    KestrelArenaRequest r[] = { { 1, 0, 1 }, { 0, 0, 1 }, { 65, 0, 1 } };

    plan_ok (r, G_N_ELEMENTS (r), &total);
    g_assert_cmpuint (total, >=, 64 + 65);
    g_assert_cmpuint (total, <=, 64 + 128);
  }

  /* Nothing at all. */
  g_assert_true (kestrel_arena_plan (NULL, 0, 0, &total, NULL));
  g_assert_cmpuint (total, ==, 0);
}

static void
test_arena_plan_errors (void)
{
  g_autoptr(GError) error = NULL;
  gsize total = 0;

  {
    KestrelArenaRequest r[] = { { 64, 0, 1 }, { 64, 5, 2 } };

    g_assert_false (kestrel_arena_plan (r, G_N_ELEMENTS (r), 64, &total, &error));
    g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (error->message, "tensor 1"));
    g_clear_error (&error);
  }

  {
    KestrelArenaRequest r[] = { { G_MAXSIZE - 3, 0, 1 } };

    g_assert_false (kestrel_arena_plan (r, G_N_ELEMENTS (r), 64, &total, &error));
    g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
  }

  /* Each fits, together they do not. */
  {
    KestrelArenaRequest r[] = { { G_MAXSSIZE / 2 + 1, 0, 1 }, { G_MAXSSIZE / 2 + 1, 0, 1 } };

    g_assert_false (kestrel_arena_plan (r, G_N_ELEMENTS (r), 64, &total, &error));
    g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
  }

  g_assert_null (kestrel_arena_new (G_MAXSIZE / 2, &error));
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_NO_MEMORY);
}

static void
test_arena_bump (void)
{
  g_autoptr(KestrelArena) arena = kestrel_arena_new (1024, NULL);
  guint8 *base = kestrel_arena_get_data (arena);
  guint8 *a, *b, *c;
  gsize mark;

  g_assert_cmpuint (kestrel_arena_get_size (arena), ==, 1024);

  a = kestrel_arena_bump (arena, 10, 0);
  g_assert_true (a == base);
  b = kestrel_arena_bump (arena, 100, 0);
  g_assert_true (b == base + 64);
  c = kestrel_arena_bump (arena, 3, 4);
  g_assert_true (c == base + 164);
  g_assert_cmpuint (kestrel_arena_get_used (arena), ==, 167);
  memset (a, 1, 10);
  memset (b, 2, 100);
  memset (c, 3, 3);

  mark = kestrel_arena_get_used (arena);
  g_assert_nonnull (kestrel_arena_bump (arena, 500, 64));
  kestrel_arena_reset_to (arena, mark);
  g_assert_cmpuint (kestrel_arena_get_used (arena), ==, mark);

  /* Does not fit: NULL, and nothing changes. */
  g_assert_null (kestrel_arena_bump (arena, 1024, 64));
  g_assert_null (kestrel_arena_bump (arena, G_MAXSIZE, 64));
  g_assert_cmpuint (kestrel_arena_get_used (arena), ==, mark);
  g_assert_cmpuint (kestrel_arena_get_high_water (arena), ==, 192 + 500);

  kestrel_arena_reset (arena);
  g_assert_cmpuint (kestrel_arena_get_used (arena), ==, 0);
  g_assert_true (kestrel_arena_bump (arena, 1024, 64) == base);
  g_assert_cmpuint (kestrel_arena_get_high_water (arena), ==, 1024);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/arena/plan-random", test_arena_plan_random);
  g_test_add_func ("/arena/plan-simple", test_arena_plan_simple);
  g_test_add_func ("/arena/plan-errors", test_arena_plan_errors);
  g_test_add_func ("/arena/bump", test_arena_bump);
  return g_test_run ();
}
