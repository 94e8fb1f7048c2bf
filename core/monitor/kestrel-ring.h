/* kestrel-ring.h — a fixed-capacity history of (time, value) samples.
 *
 * The graphs show the last minute by default and up to ten minutes: a ring
 * of 60 to 600 points, where pushing onto a full ring drops the oldest
 * point. Capacity changes keep the newest points, so shortening the graph
 * and widening it again loses only what no longer fitted.
 *
 * A ring is not thread-safe. Its owner writes it; other threads get a
 * kestrel_ring_copy() (the metrics snapshot shares such copies, which
 * nobody writes to, by reference).
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define KESTREL_RING_DEFAULT_CAPACITY 60
#define KESTREL_RING_MAX_CAPACITY     600

typedef struct {
  gint64 time_us;  /* the caller's clock, usually g_get_monotonic_time() */
  double value;
} KestrelRingSample;

#define KESTREL_TYPE_RING (kestrel_ring_get_type ())

typedef struct _KestrelRing KestrelRing;

GType        kestrel_ring_get_type (void) G_GNUC_CONST;

/* @capacity is clamped to [1, KESTREL_RING_MAX_CAPACITY]; 0 means the
 * default. */
KestrelRing *kestrel_ring_new   (guint        capacity);
KestrelRing *kestrel_ring_ref   (KestrelRing *self);
void         kestrel_ring_unref (KestrelRing *self);
KestrelRing *kestrel_ring_copy  (KestrelRing *self);

guint        kestrel_ring_get_capacity (KestrelRing *self);
/* Keeps the newest min(length, capacity) samples. Same clamping as
 * kestrel_ring_new(). */
void         kestrel_ring_set_capacity (KestrelRing *self,
                                        guint        capacity);
guint        kestrel_ring_get_length   (KestrelRing *self);

/* Drops the oldest sample when the ring is full. */
void         kestrel_ring_push  (KestrelRing *self,
                                 gint64       time_us,
                                 double       value);
void         kestrel_ring_clear (KestrelRing *self);

/* Sample @index, 0 being the oldest; FALSE when @index >= length. */
gboolean     kestrel_ring_get        (KestrelRing       *self,
                                      guint              index,
                                      KestrelRingSample *out);
/* FALSE when empty. */
gboolean     kestrel_ring_get_newest (KestrelRing       *self,
                                      KestrelRingSample *out);
/* Copies up to @n_max samples, oldest first, and returns how many; when
 * there are more, the newest @n_max are copied. */
guint        kestrel_ring_copy_samples (KestrelRing       *self,
                                        KestrelRingSample *out,
                                        guint              n_max);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KestrelRing, kestrel_ring_unref)

G_END_DECLS
