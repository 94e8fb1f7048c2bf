/* kestrel-metrics.h — what the pipeline measures, and snapshots for readers.
 *
 * Writers (the engine's worker, and whoever receives the system sampler's
 * samples) record into a KestrelMetrics: stage latencies lock-free, frame
 * counts and everything else under a short internal lock. Every so often
 * the owner calls kestrel_metrics_publish(), which freezes the numbers into
 * a KestrelMetricsSnapshot and swaps it in atomically. Readers on any thread
 * (the GTK main thread on its tick, the Prometheus endpoint) take a
 * reference to the latest snapshot with kestrel_metrics_get_snapshot(),
 * which holds a lock only for a pointer copy and a reference count, and
 * then read the plain struct at leisure: nobody writes to a published
 * snapshot, so it needs no locking.
 *
 * Publishing allocates (a few kilobytes: histogram copies, strings, and new
 * history rings when a point was added), so it belongs at a display rate,
 * such as 10 Hz or after each system sample, not after every frame.
 */
#pragma once

#include <glib-object.h>

#include "kestrel-histogram.h"
#include "kestrel-pool.h"
#include "kestrel-ring.h"
#include "kestrel-sampler.h"

G_BEGIN_DECLS

typedef enum {
  KESTREL_STAGE_CAPTURE,     /* getting the frame from its source */
  KESTREL_STAGE_PREPROCESS,  /* resize, colour conversion, scaling */
  KESTREL_STAGE_INFERENCE,   /* running the plan */
  KESTREL_STAGE_DECODE,      /* the task decoder (anchors, NMS) */
} KestrelStage;

#define KESTREL_N_STAGES 4

#define KESTREL_TYPE_STAGE (kestrel_stage_get_type ())
GType       kestrel_stage_get_type (void) G_GNUC_CONST;
/* "capture", "preprocess", "inference", "decode" (the Prometheus label). */
const char *kestrel_stage_get_name (KestrelStage stage);

/* The graph histories, one point per kestrel_metrics_push_history(). */
typedef enum {
  KESTREL_SERIES_FPS,            /* frames per second */
  KESTREL_SERIES_PROCESS_CPU,    /* percent of one core */
  KESTREL_SERIES_SYSTEM_CPU,     /* percent of all cores */
  KESTREL_SERIES_RSS,            /* MB (10^6 bytes) */
  KESTREL_SERIES_MEMORY_GROWTH,  /* MB per hour; NAN while unknown */
  KESTREL_SERIES_LATENCY_P50,    /* end-to-end frame latency, ms, over the */
  KESTREL_SERIES_LATENCY_P95,    /* frames since the previous point; NAN if none */
  KESTREL_SERIES_FP32_AGREEMENT, /* percent (kestrel_agreement_get_percent()), mean of
                                  * the checks since the previous point; NAN if none */
} KestrelSeries;

#define KESTREL_N_SERIES 8

/* A short identifier ("fps", "process-cpu", ...). */
const char *kestrel_series_get_name (KestrelSeries series);

/* The configuration the pipeline runs with, as shown to people and in the
 * Prometheus kestrel_config_info labels. The strings are copied when set. */
typedef struct {
  const char *level;           /* "scalar", "simd", "parallel", "full" */
  guint       threads;
  const char *precision;       /* "fp32", "fp16", "int8", "int4" */
  double      budget_percent;  /* CPU budget, percent of one core; 0 = no throttle */
  guint       batch;
  const char *model;
  /* The running plan's memory: the bytes of its constants (weights,
   * biases, as kestrel_plan_get_weight_bytes() counts them, at its
   * precision) and of its arenas (summed over the plans the pipeline keeps
   * for its batch sizes); 0 when no plan runs. */
  guint64     weight_bytes;
  guint64     arena_bytes;
} KestrelMetricsConfig;

/* How the results at the running precision agree with FP32's on the same
 * frame: the engine runs one frame in every few on an FP32 plan as well
 * when it runs at a lower precision (kestrel_metrics_record_agreement()).
 * A face is matched when the other side has one of the same label with
 * IoU >= KESTREL_AGREEMENT_MIN_IOU (greedily, highest scores first). */
typedef struct {
  guint  fp32_faces;             /* what FP32 found */
  guint  matched_faces;          /* ... that the running precision found too */
  guint  extra_faces;            /* found only at the running precision */
  double mean_iou;               /* over the matched faces; NAN when none */
  double max_score_difference;   /* largest |score difference| of a match; 0 when none */
} KestrelAgreement;

#define KESTREL_AGREEMENT_MIN_IOU 0.5

/* One number for a graph: the IoU summed over the matched faces, over the
 * faces either side found (a face only one side found counts 0), percent;
 * 100 when neither found any. */
double kestrel_agreement_get_percent (const KestrelAgreement *agreement);

/* An immutable picture of the metrics. Everything it points to belongs to
 * it (the config strings, the histogram and ring copies) and must not be
 * modified: histories are shared between successive snapshots. */
typedef struct {
  gint64            time_us;          /* the now_us given to publish() */
  guint64           serial;           /* 1, 2, 3... per KestrelMetrics */

  /* Since the start or the last kestrel_metrics_reset(). */
  KestrelHistogram *stage_latency[KESTREL_N_STAGES];
  KestrelHistogram *frame_latency;    /* end to end, per processed frame */
  guint64           frames_processed;
  guint64           frames_dropped;
  guint64           faces_seen;
  guint64           rollbacks;        /* to the scalar reference path */

  gboolean          over_budget;      /* the throttle could not keep to the budget */

  double            fps;              /* over the fps window before time_us */

  gboolean          have_system;      /* FALSE until the first system sample */
  KestrelSystemSample system;

  gboolean          have_pool;        /* FALSE without kestrel_metrics_set_pool() */
  KestrelPoolStats  pool;

  KestrelMetricsConfig config;        /* strings never NULL ("" when unset) */

  /* Agreement with FP32: the checks since the start (not reset), and the
   * last check while the pipeline runs below FP32 (have_agreement). */
  guint64           agreement_checks;
  gboolean          have_agreement;
  KestrelAgreement  agreement;

  /* 0..1 while an INT8 or INT4 plan's calibration runs; < 0 when none
   * does. calibrating_int4: the calibration is for INT4 (its INT4 search
   * included), else for INT8. */
  double            calibration_progress;
  gboolean          calibrating_int4;

  KestrelRing      *history[KESTREL_N_SERIES];
} KestrelMetricsSnapshot;

#define KESTREL_TYPE_METRICS_SNAPSHOT (kestrel_metrics_snapshot_get_type ())
GType                   kestrel_metrics_snapshot_get_type (void) G_GNUC_CONST;
KestrelMetricsSnapshot *kestrel_metrics_snapshot_ref   (KestrelMetricsSnapshot *self);
void                    kestrel_metrics_snapshot_unref (KestrelMetricsSnapshot *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KestrelMetricsSnapshot, kestrel_metrics_snapshot_unref)

#define KESTREL_TYPE_METRICS (kestrel_metrics_get_type ())

G_DECLARE_FINAL_TYPE (KestrelMetrics, kestrel_metrics, KESTREL, METRICS, GObject)

/* An empty snapshot is published at once, so readers never see NULL. */
KestrelMetrics *kestrel_metrics_new (void);

/* Points kept per history; 1 to KESTREL_RING_MAX_CAPACITY, default 60.
 * Shrinking keeps the newest points. */
guint           kestrel_metrics_get_history_capacity (KestrelMetrics *self);
void            kestrel_metrics_set_history_capacity (KestrelMetrics *self,
                                                      guint           capacity);

/* The window the fps is counted over, in ms; default 2000. */
guint           kestrel_metrics_get_fps_window (KestrelMetrics *self);
void            kestrel_metrics_set_fps_window (KestrelMetrics *self,
                                                guint           window_ms);

/* Lock-free, from any thread. */
void            kestrel_metrics_record_stage (KestrelMetrics *self,
                                              KestrelStage    stage,
                                              guint64         nanoseconds);
void            kestrel_metrics_frame_dropped (KestrelMetrics *self);
/* The engine rolled back to the scalar reference path. */
void            kestrel_metrics_rollback (KestrelMetrics *self);
/* Whether, over the last sample interval, the process used more processor
 * time than its budget allows (kestrel_throttle_get_over_budget()). */
void            kestrel_metrics_set_over_budget (KestrelMetrics *self,
                                                 gboolean        over_budget);

/* A frame went through the whole pipeline at @now_us (monotonic µs) in
 * @latency_ns end to end, and the decoder found @n_faces. */
void            kestrel_metrics_frame_processed (KestrelMetrics *self,
                                                 gint64          now_us,
                                                 guint64         latency_ns,
                                                 guint           n_faces);

/* The result of one check against FP32 (counted, and kept for the next
 * snapshots); NULL: no longer compared (the pipeline runs at FP32 again). */
void            kestrel_metrics_record_agreement (KestrelMetrics         *self,
                                                  const KestrelAgreement *agreement);
/* 0..1 while a calibration runs, < 0 when it has ended. */
void            kestrel_metrics_set_calibration_progress (KestrelMetrics *self,
                                                          double          fraction);
/* Which precision the calibration in progress is for: INT4 (TRUE) or INT8. */
void            kestrel_metrics_set_calibrating_int4 (KestrelMetrics *self,
                                                      gboolean        int4);

/* Keeps @sample for the next snapshots and adds a history point at its
 * time (see kestrel_metrics_push_history()): connect it to
 * KestrelSampler::sampled. */
void            kestrel_metrics_set_system_sample (KestrelMetrics            *self,
                                                   const KestrelSystemSample *sample);
/* Adds one point to every history at @now_us from the current numbers; the
 * system series repeat the last system sample (NAN before the first). For
 * callers without a sampler. */
void            kestrel_metrics_push_history (KestrelMetrics *self,
                                              gint64          now_us);

/* Snapshots carry this pool's counters; NULL stops that. */
void            kestrel_metrics_set_pool   (KestrelMetrics             *self,
                                            KestrelPool                *pool);
void            kestrel_metrics_set_config (KestrelMetrics             *self,
                                            const KestrelMetricsConfig *config);

/* Zeroes the counters and latency histograms (a new benchmark run);
 * histories, the system sample and the configuration stay. */
void            kestrel_metrics_reset (KestrelMetrics *self);

/* Freezes the current numbers into a new snapshot and makes it the latest.
 * @now_us is the caller's monotonic clock, used for the fps window. */
void            kestrel_metrics_publish (KestrelMetrics *self,
                                         gint64          now_us);
/* A reference to the latest snapshot; safe from any thread, never NULL. */
KestrelMetricsSnapshot *kestrel_metrics_get_snapshot (KestrelMetrics *self);

G_END_DECLS
