/* kestrel-pool.h — a thread-safe size-class pool for frames and scratch.
 *
 * The hot path must not allocate, yet frames and scratch buffers come and go
 * every frame. The pool keeps freed buffers in power-of-two size classes
 * (64 bytes up to a maximum class size) and hands them out again; requests
 * above the maximum are served by the system directly but still counted.
 * Every buffer is 64-byte aligned and carries a tag, a static string naming
 * its owner ("frame", "scratch:resize"), so that the outstanding-buffer
 * report says who leaked.
 *
 * Buffers keep their pool alive: a frame the UI still shows may outlive the
 * engine that allocated it. Freeing a pointer the pool did not give out, or
 * freeing one twice, is reported with g_critical() and otherwise ignored.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define KESTREL_POOL_MIN_CLASS_SIZE     ((gsize) 64)
/* A 1920x1080 RGBA frame is 7.9 MiB. */
#define KESTREL_POOL_DEFAULT_MAX_CLASS_SIZE ((gsize) 16 * 1024 * 1024)

typedef struct {
  gsize   buffers_in_use;
  gsize   bytes_in_use;      /* sum of the requested sizes of those buffers */
  gsize   high_water_bytes;  /* the largest bytes_in_use has been */
  guint64 hits;              /* requests served from the cache */
  guint64 misses;            /* requests that took new memory, large ones included */
  guint64 frees;
  gsize   cached_buffers;
  gsize   cached_bytes;      /* what kestrel_pool_trim() would give back */
  gsize   held_bytes;        /* capacity of buffers in use plus cached bytes
                              * (each buffer also has a 64-byte header) */
} KestrelPoolStats;

typedef struct {
  const char *tag;           /* the static string given to the allocation */
  gsize       n_buffers;
  gsize       n_bytes;       /* requested sizes */
} KestrelPoolTagUsage;

#define KESTREL_TYPE_POOL (kestrel_pool_get_type ())

typedef struct _KestrelPool KestrelPool;

GType        kestrel_pool_get_type (void) G_GNUC_CONST;

/* @max_class_size is rounded up to a power of two; 0 means the default. */
KestrelPool *kestrel_pool_new   (gsize        max_class_size);
KestrelPool *kestrel_pool_ref   (KestrelPool *self);
void         kestrel_pool_unref (KestrelPool *self);

gsize        kestrel_pool_get_max_class_size (KestrelPool *self);

/* @tag must outlive the pool (a string literal). kestrel_pool_alloc()
 * aborts when memory runs out, like g_malloc(); use kestrel_pool_try_alloc()
 * for sizes that come from input. The memory is not cleared. */
gpointer     kestrel_pool_alloc     (KestrelPool  *self,
                                     gsize         size,
                                     const char   *tag) G_GNUC_MALLOC;
gpointer     kestrel_pool_try_alloc (KestrelPool  *self,
                                     gsize         size,
                                     const char   *tag,
                                     GError      **error) G_GNUC_MALLOC;
/* NULL is ignored. */
void         kestrel_pool_free      (KestrelPool  *self,
                                     gpointer      data);

void         kestrel_pool_get_stats          (KestrelPool      *self,
                                              KestrelPoolStats *stats);
void         kestrel_pool_reset_high_water   (KestrelPool      *self);
/* KestrelPoolTagUsage elements, largest byte count first; empty when nothing
 * is outstanding. */
GPtrArray   *kestrel_pool_get_outstanding    (KestrelPool      *self);
/* One line per tag ("frame: 2 buffers, 1843200 bytes"), or NULL when nothing
 * is outstanding. */
char        *kestrel_pool_format_outstanding (KestrelPool      *self) G_GNUC_WARN_UNUSED_RESULT;
/* Releases every cached buffer to the system; returns the bytes released.
 * The engine calls it on a low-memory warning. */
gsize        kestrel_pool_trim               (KestrelPool      *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KestrelPool, kestrel_pool_unref)

G_END_DECLS
