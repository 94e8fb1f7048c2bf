/* kestrel-ring.c — see kestrel-ring.h.
 *
 * The storage is allocated at the capacity and never grows on push, so
 * recording a graph point never allocates.
 */
#include "config.h"

#include "kestrel-ring.h"

struct _KestrelRing
{
  gatomicrefcount    ref_count;
  guint              capacity;
  guint              length;
  guint              head;     /* index of the oldest sample */
  KestrelRingSample *samples;
};

G_DEFINE_BOXED_TYPE (KestrelRing, kestrel_ring, kestrel_ring_ref, kestrel_ring_unref)

static guint
clamp_capacity (guint capacity)
{
  if (capacity == 0)
    return KESTREL_RING_DEFAULT_CAPACITY;
  return MIN (capacity, KESTREL_RING_MAX_CAPACITY);
}

KestrelRing *
kestrel_ring_new (guint capacity)
{
  KestrelRing *self = g_new0 (KestrelRing, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->capacity = clamp_capacity (capacity);
  self->samples = g_new0 (KestrelRingSample, self->capacity);
  return self;
}

KestrelRing *
kestrel_ring_ref (KestrelRing *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
kestrel_ring_unref (KestrelRing *self)
{
  g_return_if_fail (self != NULL);

  if (g_atomic_ref_count_dec (&self->ref_count))
    {
      g_free (self->samples);
      g_free (self);
    }
}

KestrelRing *
kestrel_ring_copy (KestrelRing *self)
{
  KestrelRing *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = kestrel_ring_new (self->capacity);
  copy->length = kestrel_ring_copy_samples (self, copy->samples, copy->capacity);
  return copy;
}

guint
kestrel_ring_get_capacity (KestrelRing *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->capacity;
}

guint
kestrel_ring_get_length (KestrelRing *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->length;
}

void
kestrel_ring_set_capacity (KestrelRing *self,
                           guint        capacity)
{
  KestrelRingSample *samples;

  g_return_if_fail (self != NULL);

  capacity = clamp_capacity (capacity);
  if (capacity == self->capacity)
    return;

  /* Unrolled into the new storage, oldest first, so head starts at 0. */
  samples = g_new0 (KestrelRingSample, capacity);
  self->length = kestrel_ring_copy_samples (self, samples, capacity);
  g_free (self->samples);
  self->samples = samples;
  self->capacity = capacity;
  self->head = 0;
}

void
kestrel_ring_push (KestrelRing *self,
                   gint64       time_us,
                   double       value)
{
  guint slot;

  g_return_if_fail (self != NULL);

  if (self->length < self->capacity)
    {
      slot = (self->head + self->length) % self->capacity;
      self->length++;
    }
  else
    {
      slot = self->head;
      self->head = (self->head + 1) % self->capacity;
    }
  self->samples[slot].time_us = time_us;
  self->samples[slot].value = value;
}

void
kestrel_ring_clear (KestrelRing *self)
{
  g_return_if_fail (self != NULL);

  self->length = 0;
  self->head = 0;
}

gboolean
kestrel_ring_get (KestrelRing       *self,
                  guint              index,
                  KestrelRingSample *out)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (index >= self->length)
    return FALSE;
  *out = self->samples[(self->head + index) % self->capacity];
  return TRUE;
}

gboolean
kestrel_ring_get_newest (KestrelRing       *self,
                         KestrelRingSample *out)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (self->length == 0)
    return FALSE;
  return kestrel_ring_get (self, self->length - 1, out);
}

guint
kestrel_ring_copy_samples (KestrelRing       *self,
                           KestrelRingSample *out,
                           guint              n_max)
{
  guint n, skip;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (out != NULL || n_max == 0, 0);

  n = MIN (self->length, n_max);
  skip = self->length - n;
  for (guint i = 0; i < n; i++)
    out[i] = self->samples[(self->head + skip + i) % self->capacity];
  return n;
}
