/* kestrel-buffer.h — aligned memory and overflow-checked sizes.
 *
 * Kernels load whole cache lines and AVX-512 registers, so everything
 * Kestrel allocates for tensors, frames and scratch starts on a 64-byte
 * boundary. Sizes come from model files and images, which may lie: every
 * product or sum that can reach an allocation goes through the checked
 * helpers below instead of plain arithmetic.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One cache line, and one AVX-512 register. */
#define KESTREL_ALIGNMENT 64

/* Like g_malloc(): aborts when memory runs out, for sizes the program
 * controls. A size of 0 still returns a unique pointer, so NULL never means
 * success. @alignment must be a power of two (0 means KESTREL_ALIGNMENT). */
gpointer kestrel_aligned_alloc     (gsize    size,
                                    gsize    alignment) G_GNUC_MALLOC;
gpointer kestrel_aligned_alloc0    (gsize    size,
                                    gsize    alignment) G_GNUC_MALLOC;
/* Like g_try_malloc(): NULL when memory runs out, for sizes from input. */
gpointer kestrel_aligned_try_alloc (gsize    size,
                                    gsize    alignment) G_GNUC_MALLOC;
void     kestrel_aligned_free      (gpointer mem);

/* TRUE and *out set, or FALSE (and *out untouched) on overflow. */
gboolean kestrel_size_add      (gsize  a,
                                gsize  b,
                                gsize *out) G_GNUC_WARN_UNUSED_RESULT;
gboolean kestrel_size_mul      (gsize  a,
                                gsize  b,
                                gsize *out) G_GNUC_WARN_UNUSED_RESULT;
/* Rounds @size up to a multiple of @alignment (a power of two). */
gboolean kestrel_size_align_up (gsize  size,
                                gsize  alignment,
                                gsize *out) G_GNUC_WARN_UNUSED_RESULT;

static inline gboolean
kestrel_is_aligned (gconstpointer mem,
                    gsize         alignment)
{
  return ((guintptr) mem & (alignment - 1)) == 0;
}

G_END_DECLS
