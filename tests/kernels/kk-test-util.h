/* kk-test-util.h — shared helpers for the kernel cross-check tests.
 *
 * Every test compares each ISA's table with the scalar reference table.
 * kk_test_each_isa() calls back with the tables this CPU can run; an ISA the CPU
 * lacks is reported with g_test_message (and the test says so in its TAP
 * output) rather than passing silently.
 */
#pragma once

#include <glib.h>
#include <string.h>

#include "kestrel-kernels.h"

/* Sizes every 1-D kernel is swept over: all of 0..300 (every tail of every
 * vector width) plus a few large ones. */
static inline GArray *
kk_test_sizes (void)
{
  GArray *sizes = g_array_new (FALSE, FALSE, sizeof (size_t));
  for (size_t n = 0; n <= 300; n++)
    g_array_append_val (sizes, n);
  const size_t large[] = { 511, 1024, 4097, 65536 + 7, 1920 * 1080 + 3 };
  for (size_t i = 0; i < G_N_ELEMENTS (large); i++)
    g_array_append_val (sizes, large[i]);
  return sizes;
}

/* The non-scalar ISAs, and whether this CPU runs them. Call once per test
 * with a callback per runnable ISA. */
typedef void (*KkTestIsaFunc) (const kk_kernels *ref, const kk_kernels *isa, gpointer data);

static inline void
kk_test_each_isa (KkTestIsaFunc func, gpointer data)
{
  const kk_kernels *ref = kk_kernels_get (KK_ISA_SCALAR);
  g_assert_nonnull (ref);
  for (int i = KK_ISA_SCALAR + 1; i < KK_ISA_COUNT; i++)
    {
      const kk_kernels *t = kk_kernels_get ((kk_isa) i);
      if (t == NULL)
        {
          g_test_message ("skipping %s: this CPU does not support it", kk_isa_name ((kk_isa) i));
          continue;
        }
      /* The int8 gemm version too: within one ISA the CPU's dot-product
       * extension picks it, and the log should say which one ran. */
      g_test_message ("checking %s (int8 gemm %s) against scalar", kk_isa_name ((kk_isa) i),
                      t->qgemm_version);
      func (ref, t, data);
    }
}

/* A buffer with KK_TEST_GUARD bytes of guard on each side of `size` bytes,
 * whose start (kk_test_buf_at) can be offset by 0..63 bytes to get
 * misaligned pointers and detect overruns. The allocation holds the guards
 * whatever alignment g_malloc gives, so callers need no extra slack. */
typedef struct {
  guint8 *base;
  size_t size;
} KkTestBuf;

#define KK_TEST_GUARD 64
#define KK_TEST_GUARD_BYTE 0xA5

/* Bytes allocated for a buffer of b->size bytes. */
static inline size_t
kk_test_buf_alloc_size (const KkTestBuf *b)
{
  return b->size + 3 * KK_TEST_GUARD + 128;
}

static inline KkTestBuf
kk_test_buf_new (size_t bytes)
{
  KkTestBuf b;
  b.size = bytes;
  /* Room for: the leading guard, rounding the start up to 64 bytes, a
   * misalignment of up to 63 bytes, the data, and the trailing guard. */
  b.base = g_malloc (kk_test_buf_alloc_size (&b));
  memset (b.base, KK_TEST_GUARD_BYTE, kk_test_buf_alloc_size (&b));
  return b;
}

/* Fills the whole buffer, guards included, with KK_TEST_GUARD_BYTE again. */
static inline void
kk_test_buf_reset (KkTestBuf *b)
{
  memset (b->base, KK_TEST_GUARD_BYTE, kk_test_buf_alloc_size (b));
}

/* Pointer into the buffer at 64-byte-aligned-ish start + misalign. */
static inline void *
kk_test_buf_at (KkTestBuf *b, size_t misalign)
{
  guintptr p = (guintptr) b->base + KK_TEST_GUARD;
  p = (p + 63) & ~(guintptr) 63;
  return (void *) (p + misalign);
}

static inline void
kk_test_buf_free (KkTestBuf *b)
{
  g_free (b->base);
  b->base = NULL;
}

static inline void
kk_test_fill_random (GRand *rand, void *p, size_t bytes)
{
  guint8 *q = p;
  for (size_t i = 0; i < bytes; i++)
    q[i] = (guint8) g_rand_int_range (rand, 0, 256);
}

/* Checks that the `guard` bytes after an output of `bytes` bytes were not
 * written (the buffer must have been filled with KK_TEST_GUARD_BYTE). */
static inline void
kk_test_assert_untouched_after (const void *end, size_t guard)
{
  const guint8 *q = end;
  for (size_t i = 0; i < guard; i++)
    if (q[i] != KK_TEST_GUARD_BYTE)
      g_error ("kernel wrote %zu bytes past the end of its output", i + 1);
}

/* The same for the `guard` bytes before the start of an output. */
static inline void
kk_test_assert_untouched_before (const void *start, size_t guard)
{
  const guint8 *q = (const guint8 *) start - guard;
  for (size_t i = 0; i < guard; i++)
    if (q[i] != KK_TEST_GUARD_BYTE)
      g_error ("kernel wrote %zu bytes before the start of its output", guard - i);
}

/* ---- What the INT8 kernels' tests share ----------------------------------- */

/* floor (x / 2^s) for any sign: the naive oracles' requantisation, written
 * with a division so it is checked by different arithmetic than the
 * kernels' shifts. */
static inline int64_t
kk_test_floor_div_pow2 (int64_t x, uint32_t s)
{
  int64_t d = (int64_t) 1 << s, q = x / d;
  if (x % d != 0 && x < 0)
    q--;
  return q;
}

/* Channel counts across every vector tail of every version (1..70, then 96
 * and 130): into out (room for KK_TEST_MAX_CHANNEL_COUNTS), returns how
 * many. */
#define KK_TEST_MAX_CHANNEL_COUNTS 80
static inline size_t
kk_test_channel_counts (size_t *out)
{
  size_t n = 0;
  for (size_t c = 1; c <= 70; c++)
    out[n++] = c;
  out[n++] = 96;
  out[n++] = 130;
  return n;
}

/* n u8 inputs: all 0 (mode 1), all 255 (mode 2) or random (any other). */
static inline void
kk_test_fill_u8_mode (GRand *rand, uint8_t *p, size_t n, int mode)
{
  for (size_t i = 0; i < n; i++)
    p[i] = mode == 1 ? 0 : mode == 2 ? 255 : (uint8_t) g_rand_int_range (rand, 0, 256);
}

/* A random range [*begin, *end) of rows 0..rows (possibly empty). */
static inline void
kk_test_random_rows (GRand *rand, size_t rows, size_t *begin, size_t *end)
{
  *begin = (size_t) g_rand_int_range (rand, 0, (int) rows);
  *end = (size_t) g_rand_int_range (rand, (int) *begin, (int) rows + 1);
}
