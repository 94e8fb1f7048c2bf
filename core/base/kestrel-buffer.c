/* kestrel-buffer.c — see kestrel-buffer.h. */
#include "config.h"

#include "kestrel-buffer.h"

#include <stdlib.h>
#include <string.h>

static gboolean
alignment_is_valid (gsize alignment)
{
  /* posix_memalign() also wants a multiple of sizeof (void *). */
  return alignment >= sizeof (gpointer) && (alignment & (alignment - 1)) == 0;
}

gpointer
kestrel_aligned_try_alloc (gsize size,
                           gsize alignment)
{
  gpointer mem = NULL;

  if (alignment == 0)
    alignment = KESTREL_ALIGNMENT;
  g_return_val_if_fail (alignment_is_valid (alignment), NULL);

  /* Empty tensors exist (ONNX allows a 0 dimension); giving them a real
   * pointer keeps "NULL means out of memory" true for callers. */
  if (size == 0)
    size = alignment;

  if (posix_memalign (&mem, alignment, size) != 0)
    return NULL;
  return mem;
}

gpointer
kestrel_aligned_alloc (gsize size,
                       gsize alignment)
{
  gpointer mem = kestrel_aligned_try_alloc (size, alignment);

  if G_UNLIKELY (mem == NULL)
    g_error ("%s: failed to allocate %" G_GSIZE_FORMAT " bytes aligned to %" G_GSIZE_FORMAT,
             G_STRLOC, size, alignment == 0 ? (gsize) KESTREL_ALIGNMENT : alignment);
  return mem;
}

gpointer
kestrel_aligned_alloc0 (gsize size,
                        gsize alignment)
{
  gpointer mem = kestrel_aligned_alloc (size, alignment);

  memset (mem, 0, size);
  return mem;
}

void
kestrel_aligned_free (gpointer mem)
{
  /* posix_memalign() memory goes back through free(); keeping the call
   * behind our own name lets a later port (Windows' _aligned_free) change
   * one place. */
  free (mem);
}

gboolean
kestrel_size_add (gsize  a,
                  gsize  b,
                  gsize *out)
{
  gsize r;

  if (__builtin_add_overflow (a, b, &r))
    return FALSE;
  *out = r;
  return TRUE;
}

gboolean
kestrel_size_mul (gsize  a,
                  gsize  b,
                  gsize *out)
{
  gsize r;

  if (__builtin_mul_overflow (a, b, &r))
    return FALSE;
  *out = r;
  return TRUE;
}

gboolean
kestrel_size_align_up (gsize  size,
                       gsize  alignment,
                       gsize *out)
{
  gsize r;

  g_return_val_if_fail (alignment != 0 && (alignment & (alignment - 1)) == 0, FALSE);

  if (__builtin_add_overflow (size, alignment - 1, &r))
    return FALSE;
  *out = r & ~(alignment - 1);
  return TRUE;
}
