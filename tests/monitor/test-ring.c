/* test-ring.c — wraparound, resizing and capacity bounds of graph histories. */
#include "kestrel-ring.h"

static void
assert_contents (KestrelRing *ring,
                 gint64       first_time,
                 guint        n)
{
  KestrelRingSample s;

  g_assert_cmpuint (kestrel_ring_get_length (ring), ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_assert_true (kestrel_ring_get (ring, i, &s));
      g_assert_cmpint (s.time_us, ==, first_time + i);
      g_assert_cmpfloat (s.value, ==, (double) (first_time + i) * 0.5);
    }
  g_assert_false (kestrel_ring_get (ring, n, &s));
}

static void
push_range (KestrelRing *ring,
            gint64       from,
            gint64       to)
{
  for (gint64 t = from; t < to; t++)
    kestrel_ring_push (ring, t, (double) t * 0.5);
}

static void
test_ring_wraparound (void)
{
  g_autoptr(KestrelRing) ring = kestrel_ring_new (5);
  KestrelRingSample s;

  g_assert_cmpuint (kestrel_ring_get_capacity (ring), ==, 5);
  g_assert_cmpuint (kestrel_ring_get_length (ring), ==, 0);
  g_assert_false (kestrel_ring_get_newest (ring, &s));

  push_range (ring, 0, 3);
  assert_contents (ring, 0, 3);

  /* 12 pushes into 5 slots: the ring has gone round twice. */
  push_range (ring, 3, 12);
  assert_contents (ring, 7, 5);
  g_assert_true (kestrel_ring_get_newest (ring, &s));
  g_assert_cmpint (s.time_us, ==, 11);

  kestrel_ring_clear (ring);
  g_assert_cmpuint (kestrel_ring_get_length (ring), ==, 0);
  push_range (ring, 100, 102);
  assert_contents (ring, 100, 2);
}

static void
test_ring_copy_samples (void)
{
  g_autoptr(KestrelRing) ring = kestrel_ring_new (4);
  g_autoptr(KestrelRing) copy = NULL;
  KestrelRingSample out[8];
  guint n;

  push_range (ring, 0, 6);   /* holds 2..5 */
  n = kestrel_ring_copy_samples (ring, out, G_N_ELEMENTS (out));
  g_assert_cmpuint (n, ==, 4);
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (out[i].time_us, ==, 2 + i);

  /* Fewer than held: the newest ones, oldest first. */
  n = kestrel_ring_copy_samples (ring, out, 2);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpint (out[0].time_us, ==, 4);
  g_assert_cmpint (out[1].time_us, ==, 5);

  /* A copy does not follow its source. */
  copy = kestrel_ring_copy (ring);
  push_range (ring, 6, 8);
  assert_contents (copy, 2, 4);
  assert_contents (ring, 4, 4);
}

static void
test_ring_resize (void)
{
  g_autoptr(KestrelRing) ring = kestrel_ring_new (10);

  push_range (ring, 0, 25);            /* holds 15..24, wrapped */
  kestrel_ring_set_capacity (ring, 4);
  g_assert_cmpuint (kestrel_ring_get_capacity (ring), ==, 4);
  assert_contents (ring, 21, 4);       /* the newest four */

  kestrel_ring_set_capacity (ring, 8);
  assert_contents (ring, 21, 4);       /* growing loses nothing */
  push_range (ring, 25, 31);
  assert_contents (ring, 23, 8);

  /* Growing a partly filled ring keeps order too. */
  {
    g_autoptr(KestrelRing) small = kestrel_ring_new (3);
    push_range (small, 0, 5);          /* holds 2..4, head in the middle */
    kestrel_ring_set_capacity (small, 6);
    assert_contents (small, 2, 3);
    push_range (small, 5, 8);
    assert_contents (small, 2, 6);
  }
}

static void
test_ring_capacity_bounds (void)
{
  g_autoptr(KestrelRing) def = kestrel_ring_new (0);
  g_autoptr(KestrelRing) big = kestrel_ring_new (100000);
  g_autoptr(KestrelRing) one = kestrel_ring_new (1);

  g_assert_cmpuint (kestrel_ring_get_capacity (def), ==, KESTREL_RING_DEFAULT_CAPACITY);
  g_assert_cmpuint (KESTREL_RING_DEFAULT_CAPACITY, ==, 60);
  g_assert_cmpuint (kestrel_ring_get_capacity (big), ==, KESTREL_RING_MAX_CAPACITY);
  g_assert_cmpuint (KESTREL_RING_MAX_CAPACITY, ==, 600);

  push_range (big, 0, 1000);
  assert_contents (big, 400, 600);

  push_range (one, 0, 3);
  assert_contents (one, 2, 1);

  kestrel_ring_set_capacity (one, 601);
  g_assert_cmpuint (kestrel_ring_get_capacity (one), ==, 600);
  kestrel_ring_set_capacity (one, 0);
  g_assert_cmpuint (kestrel_ring_get_capacity (one), ==, 60);
  assert_contents (one, 2, 1);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ring/wraparound", test_ring_wraparound);
  g_test_add_func ("/ring/copy-samples", test_ring_copy_samples);
  g_test_add_func ("/ring/resize", test_ring_resize);
  g_test_add_func ("/ring/capacity-bounds", test_ring_capacity_bounds);

  return g_test_run ();
}
