/* kestrel-engine.h — the pipeline that runs while Kestrel is left alone:
 * frame source -> preprocess -> plan -> task decoder -> metrics, in worker
 * threads, under a CPU budget, checked by a canary.
 *
 * Threads (docs/architecture.md, Threads):
 *   - the worker thread takes frames, runs the plan (on the engine's
 *     compute pool) and decodes; it applies commands between frames;
 *   - the monitor thread runs its own GMainContext: the libgtop sampler,
 *     the throttle controller, snapshot publishing and the Prometheus
 *     endpoint;
 *   - plans are built on a short-lived builder thread and swapped in
 *     between frames, so a reconfiguration never stalls frames.
 * The thread that created the engine (the GTK main thread, or the CLI's)
 * only reads snapshots (kestrel_engine_get_snapshot, lock-free) and
 * receives ::event in its thread-default main context.
 */
#pragma once

#include <gio/gio.h>

#include "kestrel-detection.h"
#include "kestrel-metrics.h"
#include "kestrel-plan.h"
#include "kestrel-preview-frame.h"
#include "kestrel-prometheus.h"
#include "kestrel-throttle.h"

G_BEGIN_DECLS

typedef enum {
  KESTREL_ENGINE_STOPPED,
  KESTREL_ENGINE_RUNNING,
  KESTREL_ENGINE_PAUSED,
} KestrelEngineState;

typedef enum {
  KESTREL_ENGINE_EVENT_INFO,
  KESTREL_ENGINE_EVENT_SOURCE_ERROR,  /* a frame or the source failed; the engine goes on */
  KESTREL_ENGINE_EVENT_CONFIG_ERROR,  /* a reconfiguration failed; the old one stays */
  KESTREL_ENGINE_EVENT_ROLLBACK,      /* the canary failed; back to the last good config */
  KESTREL_ENGINE_EVENT_SAFE_MODE,     /* the last run ended uncleanly; starting at scalar */
} KestrelEngineEventKind;

const char *kestrel_engine_event_kind_name (KestrelEngineEventKind kind);

/* Everything a user can change while the engine runs. */
typedef struct {
  char *source;               /* frame source spec ("images:DIR", "file:x.avi", "synthetic:") */
  char *model;                /* "front", "back" or a path to an .onnx file */
  /* Sizes for the model's free input dimensions, "NAME=D0xD1x..." (NULL-
   * terminated, or NULL): see kestrel_model_new_from_bytes_at(). A picture
   * input whose height or width is free and not given here is planned at
   * the frames' size (kestrel-frame-size.h has the rule), and planned again
   * on the builder thread when frames of another size keep coming. */
  char **input_shapes;
  kk_level level;
  guint threads;              /* compute threads at the parallel levels; 0 = all cores */
  KestrelPrecision precision;
  KestrelThrottleMode throttle;
  double budget;              /* percent of one core, with throttle = BUDGET */
  guint batch;                /* frames per inference (1: no batching) */
  guint canary_interval;      /* frames between canary checks; 0 = off */
  float score_threshold;      /* < 0: the model's own (built-in models), else the decoder's */
  /* Batching (with batch > 1): a partial batch runs once its oldest frame
   * has waited batch_wait_ms. With batch_latency_ms > 0 the batch size is
   * adaptive: the largest, up to `batch`, whose frames stay within that
   * latency (capture of a batch's first frame to the decode of its last). */
  guint batch_wait_ms;
  guint batch_latency_ms;
  /* Below FP32: every this many frames one frame also runs on an FP32
   * plan, and how the two agree goes into the metrics (KestrelAgreement);
   * 0 = never. Default 30. */
  guint agreement_interval;
} KestrelEngineConfig;

/* The largest batch the engine runs. */
#define KESTREL_ENGINE_MAX_BATCH 16

void kestrel_engine_config_init (KestrelEngineConfig *config);   /* defaults */
/* `dest` must hold a config (or zeroes): its strings are freed first. */
void kestrel_engine_config_copy (KestrelEngineConfig *dest, const KestrelEngineConfig *src);
void kestrel_engine_config_clear (KestrelEngineConfig *config);

#define KESTREL_TYPE_ENGINE (kestrel_engine_get_type ())
G_DECLARE_FINAL_TYPE (KestrelEngine, kestrel_engine, KESTREL, ENGINE, GObject)

KestrelEngine *kestrel_engine_new (const KestrelEngineConfig *config);

/* Loads the model, opens the source, starts the threads. Fails (nothing
 * started) when the model or source cannot be had. `state_file`, if not
 * NULL, marks a run in progress: when it exists at start the previous run
 * ended uncleanly and the engine starts at level scalar (::event SAFE_MODE);
 * a clean stop removes it. */
gboolean kestrel_engine_start (KestrelEngine *self, const char *state_file, GError **error);
void kestrel_engine_pause (KestrelEngine *self);
void kestrel_engine_resume (KestrelEngine *self);
/* Stops the threads and waits for them; safe to call twice. */
void kestrel_engine_stop (KestrelEngine *self);
KestrelEngineState kestrel_engine_get_state (KestrelEngine *self);

/* Applies a new configuration between frames (a new plan is built off the
 * worker thread first). Failures come back as ::event CONFIG_ERROR and the
 * running configuration stays. */
void kestrel_engine_reconfigure (KestrelEngine *self, const KestrelEngineConfig *config);
/* The configuration in effect now (after rollbacks and safe mode); `out`
 * is overwritten, clear it with kestrel_engine_config_clear(). */
void kestrel_engine_get_config (KestrelEngine *self, KestrelEngineConfig *out);
/* Frames per inference now: the configured batch, or in adaptive mode the
 * batcher's current choice. Any thread. */
guint kestrel_engine_get_batch_size (KestrelEngine *self);
/* The lowest score reported now: the configured one, or the built-in
 * model's own, or the decoder's default; -1 before the first plan. */
float kestrel_engine_get_score_threshold (KestrelEngine *self);
/* How many reconfigurations have been applied (or refused) so far. */
guint kestrel_engine_get_n_reconfigurations (KestrelEngine *self);

typedef enum {
  KESTREL_ENGINE_INPUT_FIXED,   /* the model fixes its picture's size */
  KESTREL_ENGINE_INPUT_GIVEN,   /* it takes any; input_shapes gives it */
  KESTREL_ENGINE_INPUT_FRAME,   /* it takes any; planned at the frames' */
} KestrelEngineInputSize;

/* The size (pixels) of the picture input of the plans in force (0 x 0
 * before start) and where it comes from. Any thread. */
KestrelEngineInputSize kestrel_engine_get_input_size (KestrelEngine *self, guint *width, guint *height);
/* How many times since start frames of another size had plans built at
 * their size (the first frame's, when it differs from the plans made before
 * it, counts). Any thread. */
guint kestrel_engine_get_n_frame_size_builds (KestrelEngine *self);

/* INT8 needs a calibration table. When this process has none for the
 * model, the builder thread measures one on the bundled sample photos
 * (kestrel-calibrate-images.h) while frames keep running on the old plans.
 * TRUE while it does, with the share done in *fraction (may be NULL); the
 * snapshots carry it too (calibration_progress). Any thread. */
gboolean kestrel_engine_get_calibration_progress (KestrelEngine *self, double *fraction);
/* Stops a calibration (or any plan being built): the configuration that
 * runs stays, ::event INFO says so. */
void kestrel_engine_cancel_build (KestrelEngine *self);

/* The latest metrics; never NULL once started. Any thread. */
KestrelMetricsSnapshot *kestrel_engine_get_snapshot (KestrelEngine *self);
/* Detections of the last processed frame (a new reference), and its size. */
KestrelDetections *kestrel_engine_get_last_detections (KestrelEngine *self);
/* Preview for a window: every @interval_ms at most, the worker keeps a
 * copy of the frame it has just processed with its detections (one pass
 * over the frame). 0, the default, keeps none:
 * a UI sets an interval while its preview is visible and 0 when hidden. */
void kestrel_engine_set_preview_interval (KestrelEngine *self, guint interval_ms);
/* The newest preview copy (a new reference), or NULL before the first. */
KestrelPreviewFrame *kestrel_engine_get_preview (KestrelEngine *self);

/* Milliseconds between two system samples (CPU, RSS: one history point
 * each), 100 to 60000; default 1000. Any time, from the thread that
 * created the engine. */
void  kestrel_engine_set_sample_interval (KestrelEngine *self, guint interval_ms);
guint kestrel_engine_get_sample_interval (KestrelEngine *self);

/* Frame buffers still out of the frame pool (kestrel_frame_pool_get_default,
 * the one the metrics report and low memory trims): 0 after stop when
 * nothing leaked and no other source is open in the process. */
guint kestrel_engine_get_pool_outstanding (KestrelEngine *self);

/* Serves /metrics on the monitor thread ("HOST:PORT"; NULL = 127.0.0.1:9464;
 * see kestrel-prometheus.h, whose flags @flags are: an address other
 * machines can reach needs KESTREL_PROMETHEUS_ALLOW_REMOTE). Call after
 * start. *url receives the address actually bound. */
gboolean kestrel_engine_serve_metrics (KestrelEngine *self, const char *address,
                                       KestrelPrometheusFlags flags, char **url, GError **error);

/* Test-only: the next plans built make node `node_name` produce a wrong
 * first output element, so the canary must catch it. NULL clears it. */
void kestrel_engine_inject_fault_for_testing (KestrelEngine *self, const char *node_name);

G_END_DECLS
