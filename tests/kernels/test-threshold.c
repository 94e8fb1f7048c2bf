/* test-threshold.c — threshold_u8 of every ISA table this CPU runs against
 * the scalar reference: every size 0..300 and some large ones, misaligned
 * source and destination, a sweep of (thresh, maxval) pairs including 0 and
 * 255, data that sits right at the threshold, exact comparison, guard bytes
 * on both sides of the output, and in-place use. */
#include "kk-test-util.h"

#include <sys/mman.h>
#include <unistd.h>

typedef enum {
  DATA_RANDOM,
  DATA_ZERO,
  DATA_FULL,
  DATA_NEAR,   /* thresh - 1, thresh, thresh + 1: where a wrong compare shows */
  DATA_COUNT
} DataKind;

static const char *const data_names[DATA_COUNT] = { "random", "zero", "255", "near-thresh" };

/* Large sizes use the first four pairs only. */
static const guint8 pairs[][2] = {
  { 127, 255 }, { 0, 255 }, { 255, 255 }, { 128, 1 },
  { 0, 0 }, { 255, 0 }, { 254, 7 }, { 1, 254 }, { 200, 77 }, { 63, 128 },
};

/* (source, destination) misalignments; large sizes use the first three. */
static const size_t misaligns[][2] = {
  { 0, 0 }, { 1, 3 }, { 63, 33 }, { 3, 1 }, { 7, 13 }, { 33, 63 }, { 15, 0 }, { 0, 31 },
};

static void
fill_data (GRand *rand, guint8 *p, size_t bytes, DataKind kind, guint8 thresh)
{
  switch (kind)
    {
    case DATA_RANDOM:
      kk_test_fill_random (rand, p, bytes);
      break;
    case DATA_ZERO:
      memset (p, 0, bytes);
      break;
    case DATA_FULL:
      memset (p, 255, bytes);
      break;
    case DATA_NEAR:
    case DATA_COUNT:
    default:
      for (size_t i = 0; i < bytes; i++)
        p[i] = (guint8) CLAMP ((int) thresh + g_rand_int_range (rand, -1, 2), 0, 255);
      break;
    }
}

static void
compare (const char *what, const kk_kernels *isa, DataKind kind, size_t n, size_t src_off,
         size_t dst_off, guint8 thresh, guint8 maxval, const guint8 *src, const guint8 *want,
         const guint8 *got)
{
  if (memcmp (want, got, n) == 0)
    return;
  for (size_t i = 0; i < n; i++)
    if (want[i] != got[i])
      g_error ("%s: %s (%s data), n=%zu, src+%zu dst+%zu, thresh=%u maxval=%u: "
               "byte %zu (source %u) is %u, scalar says %u",
               what, kk_isa_name (isa->isa), data_names[kind], n, src_off, dst_off, thresh,
               maxval, i, src[i], got[i], want[i]);
}

static void
check_threshold (const kk_kernels *ref, const kk_kernels *isa, gpointer data)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (0x7E5 + isa->isa);
  g_autoptr (GArray) sizes = kk_test_sizes ();
  size_t max_n = 0;

  for (guint s = 0; s < sizes->len; s++)
    max_n = MAX (max_n, g_array_index (sizes, size_t, s));

  KkTestBuf src_buf = kk_test_buf_new (max_n + 2 * KK_TEST_GUARD);
  KkTestBuf want_buf = kk_test_buf_new (max_n + 2 * KK_TEST_GUARD);
  KkTestBuf got_buf = kk_test_buf_new (max_n + 2 * KK_TEST_GUARD);

  g_assert_true (ref->threshold_u8 != isa->threshold_u8);

  for (gsize p = 0; p < G_N_ELEMENTS (pairs); p++)
    {
      const guint8 thresh = pairs[p][0];
      const guint8 maxval = pairs[p][1];

      for (int kind = 0; kind < DATA_COUNT; kind++)
        {
          fill_data (rand, kk_test_buf_at (&src_buf, 0), max_n + KK_TEST_GUARD, kind, thresh);
          for (guint s = 0; s < sizes->len; s++)
            {
              size_t n = g_array_index (sizes, size_t, s);
              size_t n_mis = n <= 300 ? G_N_ELEMENTS (misaligns) : 3;

              if (n > 300 && p >= 4)
                continue;
              for (size_t m = 0; m < n_mis; m++)
                {
                  const size_t src_off = misaligns[m][0];
                  const size_t dst_off = misaligns[m][1];
                  const guint8 *src = kk_test_buf_at (&src_buf, src_off);
                  guint8 *want = kk_test_buf_at (&want_buf, dst_off);
                  guint8 *got = kk_test_buf_at (&got_buf, dst_off);

                  memset (want - dst_off, KK_TEST_GUARD_BYTE, dst_off + n + KK_TEST_GUARD);
                  memset (got - dst_off, KK_TEST_GUARD_BYTE, dst_off + n + KK_TEST_GUARD);
                  ref->threshold_u8 (src, want, n, thresh, maxval);
                  isa->threshold_u8 (src, got, n, thresh, maxval);
                  kk_test_assert_untouched_after (got + n, KK_TEST_GUARD);
                  for (size_t i = 1; i <= dst_off; i++)
                    if (got[-(ptrdiff_t) i] != KK_TEST_GUARD_BYTE)
                      g_error ("%s: n=%zu wrote %zu bytes before its output",
                               kk_isa_name (isa->isa), n, i);
                  compare ("mismatch", isa, kind, n, src_off, dst_off, thresh, maxval, src, want, got);

                  /* in place: got starts as a copy of the source */
                  if (m < 3)
                    {
                      memcpy (got, src, n);
                      isa->threshold_u8 (got, got, n, thresh, maxval);
                      kk_test_assert_untouched_after (got + n, KK_TEST_GUARD);
                      compare ("in-place mismatch", isa, kind, n, src_off, dst_off, thresh, maxval,
                               src, want, got);
                    }
                }
            }
        }
    }

  kk_test_buf_free (&src_buf);
  kk_test_buf_free (&want_buf);
  kk_test_buf_free (&got_buf);
}

static void
test_threshold (void)
{
  kk_test_each_isa (check_threshold, NULL);
}

/* Source and destination that end exactly where an inaccessible page
 * begins: a kernel that reads or writes past its last byte dies here, which
 * the guard bytes alone cannot show for reads. */
typedef struct {
  guint8 *map;
  size_t len;
  guint8 *end;   /* first byte of the PROT_NONE page */
} EdgeBuf;

static void
edge_buf_init (EdgeBuf *e, size_t bytes)
{
  const size_t page = (size_t) sysconf (_SC_PAGESIZE);
  const size_t data_pages = (bytes + page - 1) / page + 1;

  e->len = (data_pages + 1) * page;
  e->map = mmap (NULL, e->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  g_assert_true (e->map != MAP_FAILED);
  e->end = e->map + data_pages * page;
  g_assert_cmpint (mprotect (e->end, page, PROT_NONE), ==, 0);
}

static void
edge_buf_clear (EdgeBuf *e)
{
  munmap (e->map, e->len);
}

static void
check_page_end (const kk_kernels *ref, const kk_kernels *isa, gpointer data)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (0xED6E);
  const size_t max_n = 4097;
  EdgeBuf src_edge, dst_edge;
  g_autofree guint8 *want = g_malloc (max_n);

  edge_buf_init (&src_edge, max_n);
  edge_buf_init (&dst_edge, max_n);
  for (size_t n = 0; n <= max_n; n = n < 300 ? n + 1 : n * 2 + 1)
    {
      const guint8 *src = src_edge.end - n;
      guint8 *got = dst_edge.end - n;

      kk_test_fill_random (rand, src_edge.end - n, n);
      ref->threshold_u8 (src, want, n, 100, 200);
      isa->threshold_u8 (src, got, n, 100, 200);
      if (memcmp (want, got, n) != 0)
        g_error ("%s: n=%zu at a page end differs from scalar", kk_isa_name (isa->isa), n);
    }
  edge_buf_clear (&src_edge);
  edge_buf_clear (&dst_edge);
}

static void
test_page_end (void)
{
  kk_test_each_isa (check_page_end, NULL);
}

/* The oracle itself: strictly greater, maxval or exactly 0. */
static void
test_reference (void)
{
  const kk_kernels *ref = kk_kernels_get (KK_ISA_SCALAR);
  guint8 src[256], dst[256];

  for (int i = 0; i < 256; i++)
    src[i] = (guint8) i;
  for (gsize p = 0; p < G_N_ELEMENTS (pairs); p++)
    {
      ref->threshold_u8 (src, dst, 256, pairs[p][0], pairs[p][1]);
      for (int i = 0; i < 256; i++)
        g_assert_cmpuint (dst[i], ==, i > pairs[p][0] ? pairs[p][1] : 0);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/threshold/reference", test_reference);
  g_test_add_func ("/threshold/vs-scalar", test_threshold);
  g_test_add_func ("/threshold/page-end", test_page_end);

  return g_test_run ();
}
