/* kestrel-arena.c — see kestrel-arena.h. */
#include "config.h"

#include "kestrel-arena.h"

#include "kestrel-buffer.h"
#include "kestrel-error.h"

struct _KestrelArena
{
  guint8 *data;
  gsize   size;
  gsize   used;
  gsize   high_water;
};

typedef struct {
  gsize begin;
  gsize end;   /* begin + aligned size */
} Range;

static int
compare_by_size (gconstpointer a,
                 gconstpointer b,
                 gpointer      user_data)
{
  const KestrelArenaRequest *requests = user_data;
  guint ia = *(const guint *) a;
  guint ib = *(const guint *) b;
  const KestrelArenaRequest *ra = &requests[ia];
  const KestrelArenaRequest *rb = &requests[ib];

  /* Largest first; ties by first use, then by index, so that the plan is
   * the same on every run and every machine. */
  if (ra->size != rb->size)
    return ra->size > rb->size ? -1 : 1;
  if (ra->first_use_step != rb->first_use_step)
    return ra->first_use_step < rb->first_use_step ? -1 : 1;
  return ia < ib ? -1 : ia > ib;
}

static int
compare_ranges (gconstpointer a,
                gconstpointer b)
{
  const Range *ra = a;
  const Range *rb = b;

  if (ra->begin != rb->begin)
    return ra->begin < rb->begin ? -1 : 1;
  return 0;
}

static gboolean
lifetimes_overlap (const KestrelArenaRequest *a,
                   const KestrelArenaRequest *b)
{
  return a->first_use_step <= b->last_use_step && b->first_use_step <= a->last_use_step;
}

gboolean
kestrel_arena_plan (KestrelArenaRequest  *requests,
                    gsize                 n_requests,
                    gsize                 alignment,
                    gsize                *total_size,
                    GError              **error)
{
  g_autofree guint *order = NULL;
  g_autofree gsize *aligned = NULL;
  g_autofree gboolean *placed = NULL;
  g_autoptr(GArray) ranges = NULL;
  gsize total = 0;

  if (alignment == 0)
    alignment = KESTREL_ALIGNMENT;
  g_return_val_if_fail ((alignment & (alignment - 1)) == 0, FALSE);
  g_return_val_if_fail (requests != NULL || n_requests == 0, FALSE);
  g_return_val_if_fail (n_requests <= G_MAXUINT, FALSE);
  g_return_val_if_fail (total_size != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  aligned = g_new (gsize, n_requests);
  order = g_new (guint, n_requests);
  placed = g_new0 (gboolean, n_requests);

  /* Sizes come from model shapes: validate everything before planning. */
  for (gsize i = 0; i < n_requests; i++)
    {
      const KestrelArenaRequest *r = &requests[i];

      if (r->first_use_step > r->last_use_step)
        {
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                       "Arena tensor %" G_GSIZE_FORMAT ": first use at step %u comes after "
                       "its last use at step %u", i, r->first_use_step, r->last_use_step);
          return FALSE;
        }
      if (!kestrel_size_align_up (r->size, alignment, &aligned[i]) || aligned[i] > G_MAXSSIZE)
        {
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                       "Arena tensor %" G_GSIZE_FORMAT ": size %" G_GSIZE_FORMAT " is too large",
                       i, r->size);
          return FALSE;
        }
      order[i] = (guint) i;
    }

  g_qsort_with_data (order, (gint) n_requests, sizeof (guint), compare_by_size, requests);

  /* O(n^2 log n) in the number of tensors, which is a few hundred for the
   * models Kestrel runs, and this happens once per plan. */
  ranges = g_array_new (FALSE, FALSE, sizeof (Range));

  for (gsize k = 0; k < n_requests; k++)
    {
      guint idx = order[k];
      KestrelArenaRequest *r = &requests[idx];
      gsize need = aligned[idx];
      gsize best_offset = 0, best_gap = G_MAXSIZE, cursor = 0;
      gboolean found = FALSE;

      if (need == 0)
        {
          r->offset = 0;
          placed[idx] = TRUE;
          continue;
        }

      /* The placed tensors alive at the same time, by address. */
      g_array_set_size (ranges, 0);
      for (gsize j = 0; j < n_requests; j++)
        {
          if (!placed[j] || aligned[j] == 0 || !lifetimes_overlap (r, &requests[j]))
            continue;
          g_array_append_val (ranges, ((Range) { requests[j].offset, requests[j].offset + aligned[j] }));
        }
      g_array_sort (ranges, compare_ranges);

      /* Best fit among the gaps between them; the space above the highest
       * one is the fallback. Ranges may overlap each other (they need not
       * be alive at the same time as one another), hence the running end. */
      for (guint j = 0; j < ranges->len; j++)
        {
          const Range *range = &g_array_index (ranges, Range, j);

          if (range->begin > cursor)
            {
              gsize gap = range->begin - cursor;

              if (gap >= need && gap < best_gap)
                {
                  best_gap = gap;
                  best_offset = cursor;
                  found = TRUE;
                }
            }
          cursor = MAX (cursor, range->end);
        }
      if (!found)
        best_offset = cursor;

      if (!kestrel_size_add (best_offset, need, &cursor) || cursor > G_MAXSSIZE)
        {
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                       "Arena tensor %u: the arena would exceed the address space", idx);
          return FALSE;
        }

      r->offset = best_offset;
      placed[idx] = TRUE;
      total = MAX (total, cursor);
    }

  *total_size = total;
  return TRUE;
}

KestrelArena *
kestrel_arena_new (gsize    size,
                   GError **error)
{
  KestrelArena *self;
  guint8 *data;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  data = kestrel_aligned_try_alloc (size, KESTREL_ALIGNMENT);
  if (data == NULL)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_NO_MEMORY,
                   "Not enough memory for an arena of %" G_GSIZE_FORMAT " bytes", size);
      return NULL;
    }

  self = g_new0 (KestrelArena, 1);
  self->data = data;
  self->size = size;

  return self;
}

void
kestrel_arena_free (KestrelArena *self)
{
  if (self == NULL)
    return;

  kestrel_aligned_free (self->data);
  g_free (self);
}

gpointer
kestrel_arena_get_data (KestrelArena *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->data;
}

gsize
kestrel_arena_get_size (KestrelArena *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->size;
}

gpointer
kestrel_arena_get_pointer (KestrelArena *self,
                           gsize         offset,
                           gsize         size)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (offset <= self->size && size <= self->size - offset, NULL);

  return self->data + offset;
}

gpointer
kestrel_arena_bump (KestrelArena *self,
                    gsize         size,
                    gsize         alignment)
{
  gsize begin, end;

  g_return_val_if_fail (self != NULL, NULL);

  if (alignment == 0)
    alignment = KESTREL_ALIGNMENT;
  g_return_val_if_fail ((alignment & (alignment - 1)) == 0 && alignment <= KESTREL_ALIGNMENT, NULL);

  /* The block is KESTREL_ALIGNMENT-aligned, so aligning the offset aligns
   * the pointer. */
  if (!kestrel_size_align_up (self->used, alignment, &begin) ||
      !kestrel_size_add (begin, size, &end) ||
      end > self->size)
    return NULL;

  self->used = end;
  self->high_water = MAX (self->high_water, end);
  return self->data + begin;
}

gsize
kestrel_arena_get_used (KestrelArena *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->used;
}

gsize
kestrel_arena_get_high_water (KestrelArena *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->high_water;
}

void
kestrel_arena_reset (KestrelArena *self)
{
  g_return_if_fail (self != NULL);

  self->used = 0;
}

void
kestrel_arena_reset_to (KestrelArena *self,
                        gsize         mark)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (mark <= self->used);

  self->used = mark;
}
