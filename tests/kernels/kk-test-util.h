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
      g_test_message ("checking %s against scalar", kk_isa_name ((kk_isa) i));
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
