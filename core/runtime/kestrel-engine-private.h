/* kestrel-engine-private.h — what the files of KestrelEngine share: the
 * instance, a configuration's plans (Active), the frames of a batch
 * (Slot), and the internal functions across the seams:
 *
 *   kestrel-engine.c          the GObject, configuration, events, public API,
 *                             the command queue;
 *   kestrel-engine-plans.c    the batch ladder, the builder thread, the batcher;
 *   kestrel-engine-worker.c   the frame loop;
 *   kestrel-engine-canary.c   canary checks and rollback;
 *   kestrel-engine-metrics.c  the monitor thread, snapshots, Prometheus.
 *
 * Not installed; nothing outside these files includes it.
 */
#pragma once

#include "kestrel-engine.h"

#include "kestrel-batcher.h"
#include "kestrel-frame-size.h"
#include "kestrel-plugin.h"
#include "kestrel-sampler.h"
#include "kestrel-thread-pool.h"

G_BEGIN_DECLS

/* Plans per configuration: batch 1, 2, 4... and the configured batch. */
#define MAX_PLANS 6

/* What one configuration needs to run: built off the worker thread.
 *
 * A batch of k frames runs as chunks, each on the largest plan that fits
 * what is left (k = 7 with batch 8: 4 + 2 + 1), so a partial batch (the
 * maximum wait ran out, the adaptive size is smaller) costs no work for
 * empty slots, and plans exist for a handful of sizes, not for all.
 * Frames are preprocessed as they arrive into the input of the largest
 * plan (the staging area), so a full batch runs where it was staged and
 * only smaller chunks copy their inputs. */
typedef struct {
  KestrelEngineConfig config;
  KestrelModel *model;
  KestrelPlan *plans[MAX_PLANS];  /* ascending batch; the last one stages */
  guint n_plans;
  KestrelPlan *reference;     /* scalar plan at batch 1 for the canary, or NULL */
  /* Below FP32, with an agreement interval: an FP32 plan at batch 1 and the
   * detections decoded from it, to compare a frame now and then. */
  KestrelPlan *fp32;
  KestrelDetections *fp32_detections;
  KestrelTaskDecoder *decoder;
  kk_model_input_params params;
  /* A model whose picture input takes the frames' size (no size given in
   * the configuration): planned for frames of frame_width x frame_height
   * by kestrel-frame-size.h's rule, with sides rounded to `multiple`. */
  gboolean frame_sized;
  gboolean free_size;          /* the file leaves the picture's size free */
  KestrelFrameSizedInput sized_input;
  guint frame_width, frame_height;
  guint multiple;
} Active;

static inline KestrelPlan *
_kestrel_engine_active_staging (const Active *active)
{
  return active->plans[active->n_plans - 1];
}

static inline guint
_kestrel_engine_active_max_batch (const Active *active)
{
  return kestrel_plan_get_batch (_kestrel_engine_active_staging (active));
}


/* A frame preprocessed into its slice of the staging input, waiting for
 * its batch to run. */
typedef struct {
  guint64 t0;                       /* ns: when the worker asked for it */
  guint64 busy_ns;                  /* capture + preprocess */
  guint64 index;
  guint width, height;
  kk_model_input_geometry geometry;
  KestrelDetections *detections;    /* decoded into after the run */
  KestrelPreviewFrame *preview;     /* a copy for the UI, when one was due */
} Slot;

struct _KestrelEngine
{
  GObject parent_instance;

  GMainContext *owner_context;      /* where ::event is emitted */

  GMutex lock;
  GCond cond;                       /* the worker waits here */
  KestrelEngineState state;
  gboolean quit;
  KestrelEngineConfig config;       /* in effect */
  KestrelEngineConfig pending;      /* requested, not yet applied */
  gboolean has_pending;
  KestrelEngineConfig last_good;    /* passed a canary (or never checked) */
  gboolean has_last_good;
  KestrelEngineConfig build_target; /* what the newest build is for, with the */
  gboolean has_build_target;        /* newest request's other fields */
  Active *built;                    /* a builder's result, waiting for the worker */
  GError *build_error;
  guint n_building;                 /* builder threads still running */
  guint build_generation;           /* atomic writes; only the newest build's result counts */
  GCancellable *build_cancellable;  /* the newest build's */
  gint calibration_done;            /* atomic: the newest build's calibration, */
  gint calibration_total;           /* atomic: 0 when none runs */
  guint n_reconfigurations;
  /* The frame size the newest plans are for (0 x 0 before the first frame)
   * and how many builds a change of frame size asked for. */
  guint frame_width, frame_height;
  guint n_frame_size_builds;
  KestrelThrottle *throttle;
  KestrelDetections *last_detections;
  KestrelPreviewFrame *preview;
  char *fault_node;
  gint preview_interval_ms;         /* atomic */

  /* Worker-owned. */
  GThread *worker;
  Active *active;
  KestrelFrameSource *source;
  char *source_spec;
  gboolean source_ended;
  GCancellable *cancellable;
  guint64 frames;
  gint64 last_preview_us;
  KestrelBatcher *batcher;
  Slot slots[KESTREL_ENGINE_MAX_BATCH];
  guint n_collected;                /* slots filled, staged in active's largest plan */
  guint other_width, other_height;  /* frames of another size than the plans', */
  guint n_other;                    /* this many in a row */
  gint batch_size;                  /* atomic: the batcher's size, for readers */

  /* Monitor thread. */
  GThread *monitor;
  GMainContext *monitor_context;
  gboolean power_saver;              /* monitor thread only */
  GPowerProfileMonitor *power_monitor;  /* got by start, taken by the monitor thread */
  GMemoryMonitor *memory_monitor;
  gint sample_interval_ms;          /* atomic; the sampler's, in its thread */
  gint monitor_quit;                /* atomic; a GMainLoop could miss a quit
                                     * sent before it starts running */
  KestrelSampler *sampler;
  KestrelPrometheusServer *prometheus;

  KestrelMetrics *metrics;
  KestrelThreadPool *pool;
  KestrelPool *buffers;             /* the frame pool the sources fill */
  char *state_file;
};

/* kestrel-engine.c */
G_GNUC_INTERNAL void _kestrel_engine_post_event (KestrelEngine *self, KestrelEngineEventKind kind,
                                                 const char *format, ...) G_GNUC_PRINTF (3, 4);
G_GNUC_INTERNAL void _kestrel_engine_apply_pending (KestrelEngine *self);

/* kestrel-engine-plans.c */
G_GNUC_INTERNAL void _kestrel_engine_active_free (Active *active);
G_GNUC_INTERNAL gboolean _kestrel_engine_needs_new_plan (const KestrelEngineConfig *a,
                                                         const KestrelEngineConfig *b);
/* frame_width x frame_height: the frames' size, for a model whose picture
 * input takes it; 0 x 0 before the first frame. `new_model`: the model is
 * not the one running (events about the model itself are posted). */
G_GNUC_INTERNAL Active *_kestrel_engine_build_active (KestrelEngine *self, const KestrelEngineConfig *config,
                                                      KestrelModel *reuse, gboolean new_model, guint frame_width,
                                                      guint frame_height, const char *fault_node,
                                                      guint generation, GCancellable *cancellable,
                                                      GError **error);
G_GNUC_INTERNAL void _kestrel_engine_start_build (KestrelEngine *self, const KestrelEngineConfig *config);
G_GNUC_INTERNAL void _kestrel_engine_abandon_build (KestrelEngine *self);
/* Worker thread, lock not held: a frame of this size is about to be staged
 * in `active`; builds plans at a new frame size when it lasts. */
G_GNUC_INTERNAL void _kestrel_engine_follow_frame_size (KestrelEngine *self, const Active *active,
                                                        guint width, guint height);
G_GNUC_INTERNAL void _kestrel_engine_copy_item (KestrelPlan *from, guint from_item, KestrelPlan *to,
                                                guint to_item);
G_GNUC_INTERNAL void _kestrel_engine_configure_batcher (KestrelEngine *self, const KestrelEngineConfig *c,
                                                        gboolean plans_changed);

/* kestrel-engine-worker.c */
G_GNUC_INTERNAL gpointer _kestrel_engine_worker_main (gpointer data);

/* kestrel-engine-canary.c */
G_GNUC_INTERNAL gboolean _kestrel_engine_canary_check (KestrelEngine *self, Active *active, KestrelPlan *plan,
                                                       guint item, char **message);
G_GNUC_INTERNAL void _kestrel_engine_rollback (KestrelEngine *self, const char *message);
/* "model front, level full, 2 threads, int8": for events. */
G_GNUC_INTERNAL char *_kestrel_engine_describe_config (const KestrelEngineConfig *c);

/* kestrel-engine-metrics.c */
G_GNUC_INTERNAL void _kestrel_engine_publish_config (KestrelEngine *self, const KestrelEngineConfig *c);
G_GNUC_INTERNAL gpointer _kestrel_engine_monitor_main (gpointer data);

G_END_DECLS
