/* kestrel-pool.c — see kestrel-pool.h.
 *
 * Each buffer is preceded by a 64-byte header (so the data stays 64-byte
 * aligned) holding its size class, tag and list links, and ending with a
 * magic value that says whether the block is live or cached. The magic sits
 * right before the data, so a write just before a buffer is caught when it
 * is freed.
 *
 * Before reading any header, kestrel_pool_free() checks that the pointer is
 * one of the blocks the pool holds (a set updated only when memory comes
 * from or goes back to the system, never on a cache hit): a foreign pointer,
 * or a second free after the memory went back, is reported without touching
 * memory that may not exist any more. (A second free after the block was
 * handed out again cannot be told from the new owner's free, as with
 * malloc.)
 *
 * One mutex guards everything. It is held only to pop or push a list node,
 * look a pointer up and bump counters; the system allocator and free() run
 * outside it.
 */
#include "config.h"

#include "kestrel-pool.h"

#include <string.h>

#include "kestrel-buffer.h"
#include "kestrel-error.h"

#if defined(__SANITIZE_ADDRESS__)
# define KESTREL_HAVE_ASAN 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define KESTREL_HAVE_ASAN 1
# endif
#endif

#ifdef KESTREL_HAVE_ASAN
# include <sanitizer/asan_interface.h>
/* Cached buffers are poisoned, so AddressSanitizer reports a use after
 * kestrel_pool_free() even though the memory was never given back. */
# define POISON(p, n)   ASAN_POISON_MEMORY_REGION ((p), (n))
# define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION ((p), (n))
#else
# define POISON(p, n)   ((void) 0)
# define UNPOISON(p, n) ((void) 0)
#endif

#define HEADER_SIZE  ((gsize) KESTREL_ALIGNMENT)
#define LARGE_CLASS  G_MAXUINT
#define MIN_SHIFT    6    /* 64 bytes */
#define MAX_SHIFT    30   /* largest maximum class: 1 GiB */

#define MAGIC_LIVE   G_GUINT64_CONSTANT (0x4b5354524c495645) /* "KSTRLIVE" */
#define MAGIC_CACHED G_GUINT64_CONSTANT (0x4b53545243414348) /* "KSTRCACH" */

typedef struct _Block Block;

struct _Block
{
  Block       *prev;        /* live list only */
  Block       *next;        /* live list or a class's free list */
  const char  *tag;
  gsize        size;        /* requested */
  gsize        capacity;
  guint        class_index; /* LARGE_CLASS: from the system, not cached */
};

/* The magic takes the header's last 8 bytes. */
G_STATIC_ASSERT (sizeof (Block) <= HEADER_SIZE - sizeof (guint64));

struct _KestrelPool
{
  gatomicrefcount ref_count;
  GMutex          mutex;
  gsize           max_class_size;
  guint           n_classes;

  GHashTable     *blocks;                /* every block held, live or cached */
  Block          *live;                  /* doubly linked, for the report */
  Block          *free_lists[MAX_SHIFT - MIN_SHIFT + 1];

  gsize           buffers_in_use;
  gsize           bytes_in_use;
  gsize           capacity_in_use;
  gsize           high_water_bytes;
  guint64         hits;
  guint64         misses;
  guint64         frees;
  gsize           cached_buffers;
  gsize           cached_bytes;
};

G_DEFINE_BOXED_TYPE (KestrelPool, kestrel_pool, kestrel_pool_ref, kestrel_pool_unref)

static inline guint8 *
block_data (Block *block)
{
  return (guint8 *) block + HEADER_SIZE;
}

static inline guint64 *
block_magic (Block *block)
{
  return (guint64 *) (gpointer) (block_data (block) - sizeof (guint64));
}

static inline Block *
data_block (gpointer data)
{
  return (Block *) (gpointer) ((guint8 *) data - HEADER_SIZE);
}

KestrelPool *
kestrel_pool_new (gsize max_class_size)
{
  KestrelPool *self;
  guint shift = MIN_SHIFT;

  if (max_class_size == 0)
    max_class_size = KESTREL_POOL_DEFAULT_MAX_CLASS_SIZE;
  g_return_val_if_fail (max_class_size <= ((gsize) 1 << MAX_SHIFT), NULL);

  while (((gsize) 1 << shift) < max_class_size)
    shift++;

  self = g_new0 (KestrelPool, 1);
  g_atomic_ref_count_init (&self->ref_count);
  g_mutex_init (&self->mutex);
  self->max_class_size = (gsize) 1 << shift;
  self->n_classes = shift - MIN_SHIFT + 1;
  self->blocks = g_hash_table_new (NULL, NULL);

  return self;
}

static void
free_block_list (Block *block)
{
  while (block != NULL)
    {
      Block *next = block->next;

      UNPOISON (block_data (block), block->capacity);
      kestrel_aligned_free (block);
      block = next;
    }
}

static void
kestrel_pool_finalize (KestrelPool *self)
{
  /* Live buffers hold a reference, so only cached ones can be left. */
  g_assert (self->live == NULL);

  for (guint i = 0; i < self->n_classes; i++)
    free_block_list (self->free_lists[i]);
  g_hash_table_unref (self->blocks);
  g_mutex_clear (&self->mutex);
  g_free (self);
}

KestrelPool *
kestrel_pool_ref (KestrelPool *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
kestrel_pool_unref (KestrelPool *self)
{
  g_return_if_fail (self != NULL);

  if (g_atomic_ref_count_dec (&self->ref_count))
    kestrel_pool_finalize (self);
}

gsize
kestrel_pool_get_max_class_size (KestrelPool *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->max_class_size;
}

static guint
class_for_size (KestrelPool *self,
                gsize        size)
{
  guint cls = 0;

  if (size > self->max_class_size)
    return LARGE_CLASS;
  while ((KESTREL_POOL_MIN_CLASS_SIZE << cls) < size)
    cls++;
  return cls;
}

/* Called with the mutex held. */
static void
mark_live (KestrelPool *self,
           Block       *block,
           gsize        size,
           const char  *tag)
{
  block->tag = tag;
  block->size = size;
  block->prev = NULL;
  block->next = self->live;
  if (self->live != NULL)
    self->live->prev = block;
  self->live = block;
  *block_magic (block) = MAGIC_LIVE;

  self->buffers_in_use++;
  self->bytes_in_use += size;
  self->capacity_in_use += block->capacity;
  if (self->bytes_in_use > self->high_water_bytes)
    self->high_water_bytes = self->bytes_in_use;
}

static gpointer
pool_alloc (KestrelPool  *self,
            gsize         size,
            const char   *tag,
            gboolean      may_fail,
            GError      **error)
{
  guint cls = class_for_size (self, size);
  gsize capacity, total;
  Block *block = NULL;

  if (cls != LARGE_CLASS)
    {
      g_mutex_lock (&self->mutex);
      block = self->free_lists[cls];
      if (block != NULL)
        {
          self->free_lists[cls] = block->next;
          self->cached_buffers--;
          self->cached_bytes -= block->capacity;
          self->hits++;
          mark_live (self, block, size, tag);
        }
      g_mutex_unlock (&self->mutex);

      if (block != NULL)
        {
          g_atomic_ref_count_inc (&self->ref_count);
          UNPOISON (block_data (block), block->capacity);
          return block_data (block);
        }
      capacity = KESTREL_POOL_MIN_CLASS_SIZE << cls;
    }
  else
    {
      /* Rounded up so that the memory after a large buffer's end still
       * belongs to it, as it does for pooled ones. */
      if (!kestrel_size_align_up (size, KESTREL_ALIGNMENT, &capacity))
        capacity = G_MAXSIZE;
    }

  /* A miss: the system allocator runs without the lock. */
  if (kestrel_size_add (capacity, HEADER_SIZE, &total) && total <= G_MAXSSIZE)
    block = kestrel_aligned_try_alloc (total, KESTREL_ALIGNMENT);

  if (block == NULL)
    {
      if (!may_fail)
        g_error ("Kestrel pool: out of memory allocating %" G_GSIZE_FORMAT " bytes for '%s'",
                 size, tag);
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_NO_MEMORY,
                   "Not enough memory for a %" G_GSIZE_FORMAT "-byte '%s' buffer", size, tag);
      return NULL;
    }

  block->capacity = capacity;
  block->class_index = cls;

  g_mutex_lock (&self->mutex);
  g_hash_table_add (self->blocks, block);
  self->misses++;
  mark_live (self, block, size, tag);
  g_mutex_unlock (&self->mutex);

  g_atomic_ref_count_inc (&self->ref_count);
  return block_data (block);
}

gpointer
kestrel_pool_alloc (KestrelPool *self,
                    gsize        size,
                    const char  *tag)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (tag != NULL, NULL);

  return pool_alloc (self, size, tag, FALSE, NULL);
}

gpointer
kestrel_pool_try_alloc (KestrelPool  *self,
                        gsize         size,
                        const char   *tag,
                        GError      **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (tag != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return pool_alloc (self, size, tag, TRUE, error);
}

void
kestrel_pool_free (KestrelPool *self,
                   gpointer     data)
{
  Block *block;
  guint64 magic;
  gboolean release = FALSE;

  g_return_if_fail (self != NULL);

  if (data == NULL)
    return;

  /* Programmer errors, but ones that would otherwise corrupt the heap far
   * from their cause, so they are caught here and the pointer left alone. */
  if (!kestrel_is_aligned (data, KESTREL_ALIGNMENT))
    {
      g_critical ("kestrel_pool_free: %p was not given out by a Kestrel pool "
                  "(pool buffers are %d-byte aligned)", data, KESTREL_ALIGNMENT);
      return;
    }

  block = data_block (data);

  g_mutex_lock (&self->mutex);

  if G_UNLIKELY (!g_hash_table_contains (self->blocks, block))
    {
      g_mutex_unlock (&self->mutex);
      g_critical ("kestrel_pool_free: %p was not given out by this pool (it is foreign "
                  "memory or another pool's), or was freed twice and its memory has "
                  "gone back to the system", data);
      return;
    }

  magic = *block_magic (block);
  if G_UNLIKELY (magic != MAGIC_LIVE)
    {
      const char *tag = block->tag;

      g_mutex_unlock (&self->mutex);
      if (magic == MAGIC_CACHED)
        g_critical ("kestrel_pool_free: buffer %p ('%s') was freed twice", data, tag);
      else
        g_critical ("kestrel_pool_free: the 8 bytes before buffer %p were overwritten "
                    "(a write before its start?); not freeing it", data);
      return;
    }

  if (block->prev != NULL)
    block->prev->next = block->next;
  else
    self->live = block->next;
  if (block->next != NULL)
    block->next->prev = block->prev;

  self->buffers_in_use--;
  self->bytes_in_use -= block->size;
  self->capacity_in_use -= block->capacity;
  self->frees++;

  if (block->class_index == LARGE_CLASS)
    {
      g_hash_table_remove (self->blocks, block);
      *block_magic (block) = 0;
      release = TRUE;
    }
  else
    {
      *block_magic (block) = MAGIC_CACHED;
      block->prev = NULL;
      block->next = self->free_lists[block->class_index];
      self->free_lists[block->class_index] = block;
      self->cached_buffers++;
      self->cached_bytes += block->capacity;
      POISON (data, block->capacity);
    }

  g_mutex_unlock (&self->mutex);

  if (release)
    kestrel_aligned_free (block);

  /* The buffer's reference: this may be the last one. */
  kestrel_pool_unref (self);
}

void
kestrel_pool_get_stats (KestrelPool      *self,
                        KestrelPoolStats *stats)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (stats != NULL);

  g_mutex_lock (&self->mutex);
  stats->buffers_in_use = self->buffers_in_use;
  stats->bytes_in_use = self->bytes_in_use;
  stats->high_water_bytes = self->high_water_bytes;
  stats->hits = self->hits;
  stats->misses = self->misses;
  stats->frees = self->frees;
  stats->cached_buffers = self->cached_buffers;
  stats->cached_bytes = self->cached_bytes;
  stats->held_bytes = self->capacity_in_use + self->cached_bytes;
  g_mutex_unlock (&self->mutex);
}

void
kestrel_pool_reset_high_water (KestrelPool *self)
{
  g_return_if_fail (self != NULL);

  g_mutex_lock (&self->mutex);
  self->high_water_bytes = self->bytes_in_use;
  g_mutex_unlock (&self->mutex);
}

static int
compare_usage (gconstpointer a,
               gconstpointer b)
{
  const KestrelPoolTagUsage *ua = *(KestrelPoolTagUsage * const *) a;
  const KestrelPoolTagUsage *ub = *(KestrelPoolTagUsage * const *) b;

  if (ua->n_bytes != ub->n_bytes)
    return ua->n_bytes > ub->n_bytes ? -1 : 1;
  return strcmp (ua->tag, ub->tag);
}

GPtrArray *
kestrel_pool_get_outstanding (KestrelPool *self)
{
  g_autoptr(GHashTable) by_tag = NULL;
  GPtrArray *result;

  g_return_val_if_fail (self != NULL, NULL);

  /* Keyed by the text, not the pointer: the same literal in two files may
   * have two addresses. */
  by_tag = g_hash_table_new (g_str_hash, g_str_equal);
  result = g_ptr_array_new_with_free_func (g_free);

  g_mutex_lock (&self->mutex);
  for (Block *block = self->live; block != NULL; block = block->next)
    {
      KestrelPoolTagUsage *usage = g_hash_table_lookup (by_tag, block->tag);

      if (usage == NULL)
        {
          usage = g_new0 (KestrelPoolTagUsage, 1);
          usage->tag = block->tag;
          g_hash_table_insert (by_tag, (gpointer) block->tag, usage);
          g_ptr_array_add (result, usage);
        }
      usage->n_buffers++;
      usage->n_bytes += block->size;
    }
  g_mutex_unlock (&self->mutex);

  g_ptr_array_sort (result, compare_usage);
  return result;
}

char *
kestrel_pool_format_outstanding (KestrelPool *self)
{
  g_autoptr(GPtrArray) usages = NULL;
  GString *str;

  g_return_val_if_fail (self != NULL, NULL);

  usages = kestrel_pool_get_outstanding (self);
  if (usages->len == 0)
    return NULL;

  str = g_string_new (NULL);
  for (guint i = 0; i < usages->len; i++)
    {
      const KestrelPoolTagUsage *usage = g_ptr_array_index (usages, i);

      g_string_append_printf (str, "%s%s: %" G_GSIZE_FORMAT " buffer%s, %" G_GSIZE_FORMAT " bytes",
                              i > 0 ? "\n" : "", usage->tag, usage->n_buffers,
                              usage->n_buffers == 1 ? "" : "s", usage->n_bytes);
    }
  return g_string_free (str, FALSE);
}

gsize
kestrel_pool_trim (KestrelPool *self)
{
  Block *lists[MAX_SHIFT - MIN_SHIFT + 1];
  gsize released;

  g_return_val_if_fail (self != NULL, 0);

  /* Detach under the lock, free outside it: trimming a large cache takes
   * a while and must not stall the frames in flight. */
  g_mutex_lock (&self->mutex);
  memcpy (lists, self->free_lists, sizeof lists);
  memset (self->free_lists, 0, sizeof self->free_lists);
  released = self->cached_bytes;
  self->cached_bytes = 0;
  self->cached_buffers = 0;
  for (guint i = 0; i < G_N_ELEMENTS (lists); i++)
    for (Block *block = lists[i]; block != NULL; block = block->next)
      g_hash_table_remove (self->blocks, block);
  g_mutex_unlock (&self->mutex);

  for (guint i = 0; i < G_N_ELEMENTS (lists); i++)
    free_block_list (lists[i]);

  return released;
}
