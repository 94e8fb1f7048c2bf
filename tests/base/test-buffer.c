/* test-buffer.c — aligned allocation and overflow-checked sizes. */
#include <string.h>

#include "kestrel-buffer.h"

#if defined(__SANITIZE_ADDRESS__)
/* kestrel_aligned_try_alloc() must return NULL under AddressSanitizer too. */
const char *__asan_default_options (void);
const char *
__asan_default_options (void)
{
  return "allocator_may_return_null=1";
}
#endif

static void
test_buffer_alignment (void)
{
  const gsize alignments[] = { 0, 8, 16, 32, 64, 128, 4096 };
  const gsize sizes[] = { 0, 1, 3, 63, 64, 65, 1000, 4096, 1 << 20 };

  for (gsize a = 0; a < G_N_ELEMENTS (alignments); a++)
    for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++)
      {
        gsize alignment = alignments[a] == 0 ? KESTREL_ALIGNMENT : alignments[a];
        guint8 *p = kestrel_aligned_alloc (sizes[s], alignments[a]);

        g_assert_nonnull (p);
        g_assert_true (kestrel_is_aligned (p, alignment));
        /* Every byte is writable (the sanitizer build checks the bounds). */
        memset (p, 0xa5, sizes[s]);
        kestrel_aligned_free (p);
      }
}

static void
test_buffer_zero_size_is_unique (void)
{
  gpointer a = kestrel_aligned_try_alloc (0, 0);
  gpointer b = kestrel_aligned_try_alloc (0, 0);

  /* NULL from the try variant means "out of memory", never "empty". */
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_true (a != b);
  kestrel_aligned_free (a);
  kestrel_aligned_free (b);
  kestrel_aligned_free (NULL);
}

static void
test_buffer_alloc0 (void)
{
  guint8 *p = kestrel_aligned_alloc0 (1000, 64);

  for (gsize i = 0; i < 1000; i++)
    g_assert_cmpuint (p[i], ==, 0);
  kestrel_aligned_free (p);
}

static void
test_buffer_try_alloc_huge (void)
{
  /* More than any address space: must fail politely, not abort. */
  g_assert_null (kestrel_aligned_try_alloc (G_MAXSIZE - 16, 64));
}

static void
test_buffer_size_arithmetic (void)
{
  gsize out = 12345;

  g_assert_true (kestrel_size_add (1, 2, &out));
  g_assert_cmpuint (out, ==, 3);
  g_assert_true (kestrel_size_add (G_MAXSIZE - 1, 1, &out));
  g_assert_cmpuint (out, ==, G_MAXSIZE);
  out = 7;
  g_assert_false (kestrel_size_add (G_MAXSIZE, 1, &out));
  g_assert_cmpuint (out, ==, 7);

  g_assert_true (kestrel_size_mul (0, G_MAXSIZE, &out));
  g_assert_cmpuint (out, ==, 0);
  g_assert_true (kestrel_size_mul (G_MAXSIZE / 3, 3, &out));
  g_assert_false (kestrel_size_mul (G_MAXSIZE / 2 + 1, 2, &out));
  g_assert_false (kestrel_size_mul ((gsize) 1 << (GLIB_SIZEOF_SIZE_T * 4),
                                    (gsize) 1 << (GLIB_SIZEOF_SIZE_T * 4), &out));

  g_assert_true (kestrel_size_align_up (0, 64, &out));
  g_assert_cmpuint (out, ==, 0);
  g_assert_true (kestrel_size_align_up (1, 64, &out));
  g_assert_cmpuint (out, ==, 64);
  g_assert_true (kestrel_size_align_up (64, 64, &out));
  g_assert_cmpuint (out, ==, 64);
  g_assert_true (kestrel_size_align_up (65, 64, &out));
  g_assert_cmpuint (out, ==, 128);
  g_assert_true (kestrel_size_align_up (G_MAXSIZE - 63, 64, &out));
  g_assert_cmpuint (out, ==, G_MAXSIZE - 63);
  g_assert_false (kestrel_size_align_up (G_MAXSIZE - 62, 64, &out));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/buffer/alignment", test_buffer_alignment);
  g_test_add_func ("/buffer/zero-size-is-unique", test_buffer_zero_size_is_unique);
  g_test_add_func ("/buffer/alloc0", test_buffer_alloc0);
  g_test_add_func ("/buffer/try-alloc-huge", test_buffer_try_alloc_huge);
  g_test_add_func ("/buffer/size-arithmetic", test_buffer_size_arithmetic);
  return g_test_run ();
}
