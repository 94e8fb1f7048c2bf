/* kestrel-arena.h — one aligned block for a plan's activations.
 *
 * A plan knows, for every intermediate tensor, its size and the first and
 * last step (operator index) that use it. kestrel_arena_plan() assigns each
 * one an offset so that tensors alive at the same step never share bytes,
 * and returns how big the block must be; the executor then allocates one
 * KestrelArena of that size and never allocates again.
 *
 * The same block type doubles as a bump allocator for per-operator scratch:
 * kestrel_arena_bump() hands out aligned slices, kestrel_arena_reset()
 * takes them all back at once.
 *
 * An arena is not thread-safe: the executor owns it, and workers inside a
 * parallel_for use slices they were given, not the bump allocator.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  gsize size;            /* bytes; 0 is allowed and takes no space */
  guint first_use_step;  /* the step that writes it */
  guint last_use_step;   /* the last step that reads it (inclusive) */
  gsize offset;          /* set by kestrel_arena_plan() */
} KestrelArenaRequest;

/* Greedy: largest first, each placed in the smallest gap left by the
 * tensors whose lifetimes overlap its own. Offsets are multiples of
 * @alignment (a power of two; 0 means KESTREL_ALIGNMENT). Fails with a
 * GError naming the tensor index when a lifetime is reversed or the sizes
 * overflow. */
gboolean kestrel_arena_plan (KestrelArenaRequest *requests,
                             gsize                n_requests,
                             gsize                alignment,
                             gsize               *total_size,
                             GError             **error);

typedef struct _KestrelArena KestrelArena;

/* Aligned to KESTREL_ALIGNMENT; fails with a GError when the size cannot be
 * allocated (it comes from a model). */
KestrelArena *kestrel_arena_new            (gsize          size,
                                            GError       **error);
void          kestrel_arena_free           (KestrelArena  *self);

gpointer      kestrel_arena_get_data       (KestrelArena  *self);
gsize         kestrel_arena_get_size       (KestrelArena  *self);
/* The planned tensor at @offset; a request outside the block is a
 * programmer error and returns NULL. */
gpointer      kestrel_arena_get_pointer    (KestrelArena  *self,
                                            gsize          offset,
                                            gsize          size);

/* Bump allocation: NULL when the slice does not fit (the block is sized by
 * the planner, so the caller decides whether that is a bug or an error). */
gpointer      kestrel_arena_bump           (KestrelArena  *self,
                                            gsize          size,
                                            gsize          alignment);
/* Bytes handed out since the last reset, usable as a mark. */
gsize         kestrel_arena_get_used       (KestrelArena  *self);
/* The most that was ever in use: lets a dry run size the scratch. */
gsize         kestrel_arena_get_high_water (KestrelArena  *self);
void          kestrel_arena_reset          (KestrelArena  *self);
/* Back to a mark from kestrel_arena_get_used(), freeing what came after. */
void          kestrel_arena_reset_to       (KestrelArena  *self,
                                            gsize          mark);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KestrelArena, kestrel_arena_free)

G_END_DECLS
