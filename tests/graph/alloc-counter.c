/* alloc-counter.c — see alloc-counter.h. glibc exports its allocator under
 * __libc_* names, so forwarding needs no dlsym (which itself allocates). */
#include "alloc-counter.h"

#include <stddef.h>
#include <stdint.h>

extern void *__libc_malloc (size_t size);
extern void *__libc_calloc (size_t n, size_t size);
extern void *__libc_realloc (void *p, size_t size);
extern void *__libc_memalign (size_t alignment, size_t size);
extern void __libc_free (void *p);

void *malloc (size_t size);
void *calloc (size_t n, size_t size);
void *realloc (void *p, size_t size);
void free (void *p);
int posix_memalign (void **out, size_t alignment, size_t size);
void *aligned_alloc (size_t alignment, size_t size);
void *memalign (size_t alignment, size_t size);

static volatile gint counting;
static volatile guint64 count;

static inline void
note (void)
{
  if (g_atomic_int_get (&counting))
    __atomic_fetch_add (&count, 1, __ATOMIC_RELAXED);
}

void *
malloc (size_t size)
{
  note ();
  return __libc_malloc (size);
}

void *
calloc (size_t n, size_t size)
{
  note ();
  return __libc_calloc (n, size);
}

void *
realloc (void *p, size_t size)
{
  note ();
  return __libc_realloc (p, size);
}

void
free (void *p)
{
  __libc_free (p);
}

void *
memalign (size_t alignment, size_t size)
{
  note ();
  return __libc_memalign (alignment, size);
}

void *
aligned_alloc (size_t alignment, size_t size)
{
  note ();
  return __libc_memalign (alignment, size);
}

int
posix_memalign (void **out, size_t alignment, size_t size)
{
  void *p;

  note ();
  p = __libc_memalign (alignment, size);
  if (p == NULL)
    return 12; /* ENOMEM */
  *out = p;
  return 0;
}

void
alloc_counter_start (void)
{
  __atomic_store_n (&count, 0, __ATOMIC_SEQ_CST);
  g_atomic_int_set (&counting, 1);
}

guint64
alloc_counter_stop (void)
{
  g_atomic_int_set (&counting, 0);
  return __atomic_load_n (&count, __ATOMIC_SEQ_CST);
}
