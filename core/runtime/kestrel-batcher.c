/* kestrel-batcher.c — see kestrel-batcher.h.
 *
 * Run times are kept as a moving average per batch size, and the line is
 * fitted through those averages (weighted by how often each size ran, up to
 * a cap so one common size does not drown the others). Per-size averages
 * rather than a fit over raw samples: the sizes that ran most are also the
 * ones least informative about the slope.
 *
 * Exploration: with a single size measured there is no slope yet. If that
 * size met the target the next batch may be one larger (its run time then
 * gives the slope); if it missed, one smaller.
 */
#include "config.h"

#include "kestrel-batcher.h"

#include <math.h>
#include <string.h>

#define DEFAULT_TARGET_US 50000
#define SMOOTHING         0.25  /* weight of a new run time in its size's average */
#define MAX_WEIGHT        8.0

struct _KestrelBatcher
{
  KestrelBatcherMode mode;
  guint    max_batch;
  gint64   max_wait_us;
  gint64   target_us;

  gint64   arrivals[KESTREL_BATCHER_MAX_PENDING];
  guint    head;   /* oldest */
  guint    len;

  double   latency_avg[KESTREL_BATCHER_MAX_BATCH];  /* index: size - 1 */
  guint    latency_n[KESTREL_BATCHER_MAX_BATCH];
  guint    adaptive_size;
  gboolean have_model;
  double   fixed_us;
  double   per_item_us;
};

static void choose_size (KestrelBatcher *self);

KestrelBatcher *
kestrel_batcher_new (guint  max_batch,
                     gint64 max_wait_us)
{
  KestrelBatcher *self = g_new0 (KestrelBatcher, 1);

  self->mode = KESTREL_BATCHER_MODE_FIXED;
  self->max_batch = CLAMP (max_batch, 1, KESTREL_BATCHER_MAX_BATCH);
  self->max_wait_us = MAX (max_wait_us, 0);
  self->target_us = DEFAULT_TARGET_US;
  self->adaptive_size = 1;
  return self;
}

void
kestrel_batcher_free (KestrelBatcher *self)
{
  g_free (self);
}

void
kestrel_batcher_set_mode (KestrelBatcher     *self,
                          KestrelBatcherMode  mode)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (mode == KESTREL_BATCHER_MODE_FIXED || mode == KESTREL_BATCHER_MODE_ADAPTIVE);

  self->mode = mode;
}

KestrelBatcherMode
kestrel_batcher_get_mode (KestrelBatcher *self)
{
  g_return_val_if_fail (self != NULL, KESTREL_BATCHER_MODE_FIXED);

  return self->mode;
}

void
kestrel_batcher_set_max_batch (KestrelBatcher *self,
                               guint           max_batch)
{
  g_return_if_fail (self != NULL);

  self->max_batch = CLAMP (max_batch, 1, KESTREL_BATCHER_MAX_BATCH);
  choose_size (self);
}

guint
kestrel_batcher_get_max_batch (KestrelBatcher *self)
{
  g_return_val_if_fail (self != NULL, 1);

  return self->max_batch;
}

void
kestrel_batcher_set_max_wait (KestrelBatcher *self,
                              gint64          max_wait_us)
{
  g_return_if_fail (self != NULL);

  self->max_wait_us = MAX (max_wait_us, 0);
}

gint64
kestrel_batcher_get_max_wait (KestrelBatcher *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->max_wait_us;
}

void
kestrel_batcher_set_target_latency (KestrelBatcher *self,
                                    gint64          target_us)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (target_us > 0);

  self->target_us = target_us;
  choose_size (self);
}

gint64
kestrel_batcher_get_target_latency (KestrelBatcher *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->target_us;
}

guint
kestrel_batcher_get_batch_size (KestrelBatcher *self)
{
  g_return_val_if_fail (self != NULL, 1);

  if (self->mode == KESTREL_BATCHER_MODE_FIXED)
    return self->max_batch;
  return MIN (self->adaptive_size, self->max_batch);
}

gboolean
kestrel_batcher_push (KestrelBatcher *self,
                      gint64          now_us)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (self->len == KESTREL_BATCHER_MAX_PENDING)
    return FALSE;
  self->arrivals[(self->head + self->len) % KESTREL_BATCHER_MAX_PENDING] = now_us;
  self->len++;
  return TRUE;
}

guint
kestrel_batcher_get_n_pending (KestrelBatcher *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->len;
}

gint64
kestrel_batcher_get_deadline (KestrelBatcher *self)
{
  guint size;

  g_return_val_if_fail (self != NULL, G_MAXINT64);

  if (self->len == 0)
    return G_MAXINT64;
  size = kestrel_batcher_get_batch_size (self);
  /* Full: due since the item that filled the batch arrived. */
  if (self->len >= size)
    return self->arrivals[(self->head + size - 1) % KESTREL_BATCHER_MAX_PENDING];
  if (self->arrivals[self->head] > G_MAXINT64 - self->max_wait_us)
    return G_MAXINT64;
  return self->arrivals[self->head] + self->max_wait_us;
}

gboolean
kestrel_batcher_is_ready (KestrelBatcher *self,
                          gint64          now_us)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->len > 0 && now_us >= kestrel_batcher_get_deadline (self);
}

guint
kestrel_batcher_pop (KestrelBatcher *self,
                     gint64          now_us)
{
  guint n;

  g_return_val_if_fail (self != NULL, 0);

  if (!kestrel_batcher_is_ready (self, now_us))
    return 0;
  n = MIN (self->len, kestrel_batcher_get_batch_size (self));
  self->head = (self->head + n) % KESTREL_BATCHER_MAX_PENDING;
  self->len -= n;
  return n;
}

void
kestrel_batcher_clear (KestrelBatcher *self)
{
  g_return_if_fail (self != NULL);

  self->head = 0;
  self->len = 0;
}

/* Weighted least squares through the per-size averages. */
static gboolean
fit_model (KestrelBatcher *self,
           guint          *n_sizes,
           guint          *only_size)
{
  double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0, det;

  *n_sizes = 0;
  for (guint i = 0; i < KESTREL_BATCHER_MAX_BATCH; i++)
    {
      double w, x, y;

      if (self->latency_n[i] == 0)
        continue;
      w = MIN ((double) self->latency_n[i], MAX_WEIGHT);
      x = (double) (i + 1);
      y = self->latency_avg[i];
      sw += w;
      sx += w * x;
      sy += w * y;
      sxx += w * x * x;
      sxy += w * x * y;
      (*n_sizes)++;
      *only_size = i + 1;
    }
  if (*n_sizes < 2)
    return FALSE;
  det = sw * sxx - sx * sx;
  if (det <= 0)
    return FALSE;
  self->per_item_us = (sw * sxy - sx * sy) / det;
  self->fixed_us = (sy - self->per_item_us * sx) / sw;
  return TRUE;
}

static void
choose_size (KestrelBatcher *self)
{
  double target = (double) self->target_us;
  guint n_sizes = 0, only_size = 1, size;

  self->have_model = fit_model (self, &n_sizes, &only_size);
  if (self->have_model)
    {
      if (self->per_item_us <= 0)
        size = self->fixed_us <= target ? self->max_batch : 1;
      else
        {
          /* The epsilon keeps an exact fit (target on a whole size) from
           * rounding down a size. */
          double fit = floor ((target - self->fixed_us) / self->per_item_us + 1e-9);

          size = fit < 1 ? 1 : fit > self->max_batch ? self->max_batch : (guint) fit;
        }
      /* Trust what was measured over what the line says. */
      while (size > 1 && self->latency_n[size - 1] > 0 && self->latency_avg[size - 1] > target)
        size--;
    }
  else if (n_sizes == 1)
    {
      if (self->latency_avg[only_size - 1] <= target)
        size = MIN (only_size + 1, self->max_batch);
      else
        size = MAX (only_size, 2) - 1;
    }
  else
    size = 1;

  self->adaptive_size = size;
}

void
kestrel_batcher_record_latency (KestrelBatcher *self,
                                guint           batch_size,
                                gint64          latency_us)
{
  guint i;

  g_return_if_fail (self != NULL);
  g_return_if_fail (batch_size >= 1 && batch_size <= KESTREL_BATCHER_MAX_BATCH);

  i = batch_size - 1;
  latency_us = MAX (latency_us, 0);
  if (self->latency_n[i] == 0)
    self->latency_avg[i] = (double) latency_us;
  else
    self->latency_avg[i] += SMOOTHING * ((double) latency_us - self->latency_avg[i]);
  if (self->latency_n[i] < G_MAXUINT)
    self->latency_n[i]++;
  choose_size (self);
}

void
kestrel_batcher_reset_model (KestrelBatcher *self)
{
  g_return_if_fail (self != NULL);

  memset (self->latency_avg, 0, sizeof self->latency_avg);
  memset (self->latency_n, 0, sizeof self->latency_n);
  self->have_model = FALSE;
  self->adaptive_size = 1;
}

gboolean
kestrel_batcher_get_model (KestrelBatcher *self,
                           double         *fixed_us,
                           double         *per_item_us)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (!self->have_model)
    return FALSE;
  if (fixed_us != NULL)
    *fixed_us = self->fixed_us;
  if (per_item_us != NULL)
    *per_item_us = self->per_item_us;
  return TRUE;
}
