/* kestrel-batcher.h — when to run a batch, and how big.
 *
 * Frames wait in a queue (the engine's) until the batcher says to run: when
 * as many are waiting as the batch size, or when the oldest has waited the
 * maximum wait. In adaptive mode the batch size is the largest that keeps a
 * batch's run time within a latency target, from a model of run time as
 * fixed cost + per-item cost * size fitted to the run times measured so far
 * (a batch amortises the fixed cost, operator dispatch and weight reads,
 * and each item adds its own compute).
 *
 * The batcher tracks only arrival times, never frames, and is driven by
 * explicit times, so it is testable under a simulated clock. Not
 * thread-safe: drive it from the engine thread.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  KESTREL_BATCHER_MODE_FIXED,     /* batch size = max batch */
  KESTREL_BATCHER_MODE_ADAPTIVE,  /* largest size within the latency target */
} KestrelBatcherMode;

#define KESTREL_BATCHER_MAX_BATCH   256
/* Arrival times kept; kestrel_batcher_push() refuses more. */
#define KESTREL_BATCHER_MAX_PENDING 1024

typedef struct _KestrelBatcher KestrelBatcher;

/* @max_batch is clamped to [1, KESTREL_BATCHER_MAX_BATCH]; @max_wait_us to
 * >= 0. Fixed mode; latency target 50 ms. */
KestrelBatcher     *kestrel_batcher_new  (guint   max_batch,
                                          gint64  max_wait_us);
void                kestrel_batcher_free (KestrelBatcher *self);

void                kestrel_batcher_set_mode (KestrelBatcher     *self,
                                              KestrelBatcherMode  mode);
KestrelBatcherMode  kestrel_batcher_get_mode (KestrelBatcher     *self);

void                kestrel_batcher_set_max_batch (KestrelBatcher *self,
                                                   guint           max_batch);
guint               kestrel_batcher_get_max_batch (KestrelBatcher *self);

void                kestrel_batcher_set_max_wait (KestrelBatcher *self,
                                                  gint64          max_wait_us);
gint64              kestrel_batcher_get_max_wait (KestrelBatcher *self);

/* The run time a batch may take in adaptive mode, µs (> 0). */
void                kestrel_batcher_set_target_latency (KestrelBatcher *self,
                                                        gint64          target_us);
gint64              kestrel_batcher_get_target_latency (KestrelBatcher *self);

/* An item arrived at @now_us. FALSE when KESTREL_BATCHER_MAX_PENDING are
 * already waiting: the engine should drop it. */
gboolean            kestrel_batcher_push (KestrelBatcher *self,
                                          gint64          now_us);
guint               kestrel_batcher_get_n_pending (KestrelBatcher *self);

/* When a batch is due: now if a full batch is waiting, else the oldest
 * arrival plus the maximum wait; G_MAXINT64 when nothing waits. The engine
 * sleeps until then or the next arrival. */
gint64              kestrel_batcher_get_deadline (KestrelBatcher *self);
gboolean            kestrel_batcher_is_ready     (KestrelBatcher *self,
                                                  gint64          now_us);

/* When ready at @now_us, removes the oldest items of a batch and returns
 * how many (at most the batch size); 0 when not ready. */
guint               kestrel_batcher_pop (KestrelBatcher *self,
                                         gint64          now_us);

/* Forgets every waiting item: the caller ran them anyway (a partial batch
 * flushed before a pause, a plan change or a stop). */
void                kestrel_batcher_clear (KestrelBatcher *self);

/* A batch of @batch_size items ran in @latency_us; feeds the adaptive
 * model. */
void                kestrel_batcher_record_latency (KestrelBatcher *self,
                                                    guint           batch_size,
                                                    gint64          latency_us);
/* Forgets the measured run times (after a plan change). */
void                kestrel_batcher_reset_model (KestrelBatcher *self);

/* The batch size in force: max batch in fixed mode, the adaptive choice
 * otherwise (1 before any measurement). */
guint               kestrel_batcher_get_batch_size (KestrelBatcher *self);

/* The fitted run time model, latency = fixed + per_item * size, in µs;
 * FALSE until two batch sizes have been measured. */
gboolean            kestrel_batcher_get_model (KestrelBatcher *self,
                                               double         *fixed_us,
                                               double         *per_item_us);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KestrelBatcher, kestrel_batcher_free)

G_END_DECLS
