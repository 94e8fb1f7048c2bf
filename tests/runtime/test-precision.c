/* test-precision.c — the engine at INT8 (issue 12) and FP16 (issue 14): precision changes live
 * like threads or level, the calibration on the builder thread while
 * frames keep flowing (progress, cancel), the canary comparing the INT8
 * fast path with the INT8 scalar reference exactly, and the agreement
 * with FP32 in the snapshots. The photos are the bundled samples
 * ($KESTREL_SAMPLES_DIR).
 *
 * Calibration tables are kept for the process, per model: the cancel test
 * uses the back model, which nothing else here calibrates, so it is the
 * first to measure it; the others use the front model.
 */
#include "../private-cache.h"
#include "kestrel-builtin-models.h"
#include "kestrel-calibrate-images.h"
#include "kestrel-engine.h"
#include "kestrel-error.h"

#include "engine-test-util.h"

typedef struct {
  KestrelEngine *engine;
  KestrelPrecision precision;
  guint64 frames;
} Running;

/* The precision is in effect and frames ran on it. */
static gboolean
running_at (gpointer data)
{
  Running *r = data;
  KestrelEngineConfig config;
  gboolean at;

  kestrel_engine_get_config (r->engine, &config);
  at = config.precision == r->precision;
  kestrel_engine_config_clear (&config);
  if (!at)
    {
      r->frames = frames_processed (r->engine);
      return FALSE;
    }
  return frames_processed (r->engine) > r->frames + 3;
}

static KestrelEngine *
start_engine (const char *model, Events *events)
{
  KestrelEngineConfig config;
  g_autoptr(GError) error = NULL;
  KestrelEngine *engine;

  kestrel_engine_config_init (&config);
  g_free (config.source);
  config.source = g_strconcat ("images:", g_getenv ("KESTREL_SAMPLES_DIR"), NULL);
  g_free (config.model);
  config.model = g_strdup (model);
  config.threads = 2;
  config.canary_interval = 4;
  config.agreement_interval = 3;
  engine = kestrel_engine_new (&config);
  kestrel_engine_config_clear (&config);
  g_signal_connect (engine, "event", G_CALLBACK (on_event), events);
  g_assert_true (kestrel_engine_start (engine, NULL, &error));
  g_assert_no_error (error);
  return engine;
}

static void
set_precision (KestrelEngine *engine, KestrelPrecision precision)
{
  KestrelEngineConfig config;

  kestrel_engine_get_config (engine, &config);
  config.precision = precision;
  kestrel_engine_reconfigure (engine, &config);
  kestrel_engine_config_clear (&config);
}

typedef struct {
  KestrelEngine *engine;
  guint64 frames_at_start;
  gboolean saw_progress;
  gboolean frames_flowed;
  double last_fraction;
} Calibrating;

/* Until the calibration has been seen running and frames have run
 * meanwhile (at FP32, the precision still in effect). */
static gboolean
calibrating_with_frames (gpointer data)
{
  Calibrating *c = data;
  double fraction = -1;

  if (!kestrel_engine_get_calibration_progress (c->engine, &fraction))
    return FALSE;
  g_assert_cmpfloat (fraction, >=, 0);
  g_assert_cmpfloat (fraction, <=, 1);
  if (!c->saw_progress)
    {
      c->saw_progress = TRUE;
      c->frames_at_start = frames_processed (c->engine);
    }
  c->last_fraction = fraction;
  c->frames_flowed = frames_processed (c->engine) > c->frames_at_start + 2;
  return c->frames_flowed;
}

static gboolean
calibration_over (gpointer data)
{
  g_autoptr(KestrelMetricsSnapshot) snap = kestrel_engine_get_snapshot (data);
  return !kestrel_engine_get_calibration_progress (data, NULL) && snap->calibration_progress < 0;
}

typedef struct {
  Events *events;
  const char *fragment;
} EventWait;

static gboolean
info_seen (gpointer data)
{
  EventWait *w = data;
  return events_find_text (w->events, KESTREL_ENGINE_EVENT_INFO, w->fragment) != NULL;
}

/* The back model's calibration (1.7 s on a loaded machine) is seen with
 * its progress while FP32 frames keep running, then cancelled: FP32 stays. */
static void
test_calibration_cancel (void)
{
  Events *events = events_new ();
  g_autoptr(KestrelEngine) engine = start_engine ("back", events);
  Calibrating c = { engine, 0, FALSE, FALSE, 0 };
  EventWait cancelled = { events, "cancel" };
  Running fp32 = { engine, KESTREL_PRECISION_FP32, 0 };
  KestrelEngineConfig config;

  set_precision (engine, KESTREL_PRECISION_INT8);
  g_assert_true (wait_until (calibrating_with_frames, &c));
  g_test_message ("calibrating at %.0f %%, frames kept running", 100 * c.last_fraction);
  kestrel_engine_cancel_build (engine);
  g_assert_true (wait_until (info_seen, &cancelled));
  g_assert_true (wait_until (calibration_over, engine));
  fp32.frames = frames_processed (engine);
  g_assert_true (wait_until (running_at, &fp32));
  kestrel_engine_get_config (engine, &config);
  g_assert_cmpint (config.precision, ==, KESTREL_PRECISION_FP32);
  kestrel_engine_config_clear (&config);
  g_assert_null (events_find_text (events, KESTREL_ENGINE_EVENT_CONFIG_ERROR, NULL));
  kestrel_engine_stop (engine);
  g_assert_cmpuint (kestrel_engine_get_pool_outstanding (engine), ==, 0);
  events_free (events);
}

typedef struct {
  KestrelEngine *engine;
  guint64 checks;
} Checks;

static gboolean
agreement_checked (gpointer data)
{
  Checks *c = data;
  g_autoptr(KestrelMetricsSnapshot) snap = kestrel_engine_get_snapshot (c->engine);
  return snap->have_agreement && snap->agreement_checks > c->checks;
}

/* At INT8, INT4 and FP16: the canary (every 4 frames; exact at INT8 and
 * INT4 (the INT4 fast path against the INT4 scalar plan), within its
 * tolerance of the FP16 scalar plan at FP16) passes and the agreement with
 * FP32 (every 3 frames) is published; back at FP32 it is not any more. */
static void
test_agreement (gconstpointer data)
{
  const KestrelPrecision precision = GPOINTER_TO_INT (data);
  Events *events = events_new ();
  g_autoptr(KestrelEngine) engine = start_engine ("front", events);
  Running int8 = { engine, precision, 0 }, fp32 = { engine, KESTREL_PRECISION_FP32, 0 };
  Checks checks = { engine, 3 };

  set_precision (engine, precision);
  g_assert_true (wait_until (running_at, &int8));
  g_assert_true (wait_until (agreement_checked, &checks));
  {
    g_autoptr(KestrelMetricsSnapshot) snap = kestrel_engine_get_snapshot (engine);
    g_test_message ("agreement: %u FP32 faces, %u matched, %u extra, IoU %.3f, score +-%.4f (%.1f %%)",
                    snap->agreement.fp32_faces, snap->agreement.matched_faces, snap->agreement.extra_faces,
                    snap->agreement.mean_iou, snap->agreement.max_score_difference,
                    kestrel_agreement_get_percent (&snap->agreement));
    g_assert_cmpstr (snap->config.precision, ==, kestrel_precision_name (precision));
    g_assert_cmpuint (snap->rollbacks, ==, 0);
    g_assert_cmpuint (snap->agreement.matched_faces, <=, snap->agreement.fp32_faces);
  }

  set_precision (engine, KESTREL_PRECISION_FP32);
  g_assert_true (wait_until (running_at, &fp32));
  {
    g_autoptr(KestrelMetricsSnapshot) snap = NULL;
    kestrel_engine_stop (engine);
    snap = kestrel_engine_get_snapshot (engine);
    g_assert_false (snap->have_agreement);
    g_assert_cmpuint (snap->rollbacks, ==, 0);
    g_assert_cmpuint (snap->frames_dropped, ==, 0);
  }
  g_assert_null (events_find_text (events, KESTREL_ENGINE_EVENT_CONFIG_ERROR, NULL));
  g_assert_null (events_find_text (events, KESTREL_ENGINE_EVENT_ROLLBACK, NULL));
  g_assert_cmpuint (kestrel_engine_get_pool_outstanding (engine), ==, 0);
  events_free (events);
}

typedef struct {
  KestrelEngine *engine;
  guint64 until_frames;
  gboolean saw_int8;
} StayingAtFp32;

static gboolean
fp32_for_frames (gpointer data)
{
  StayingAtFp32 *s = data;
  g_autoptr(KestrelMetricsSnapshot) snap = kestrel_engine_get_snapshot (s->engine);

  if (g_strcmp0 (snap->config.precision, "int8") == 0)
    s->saw_int8 = TRUE;
  return s->saw_int8 || snap->frames_processed >= s->until_frames;
}

/* INT8 asked for, then FP32 again before the INT8 plans are ready: FP32
 * (what runs) stays, and the INT8 build, when it ends, does not replace it.
 * The front model's calibration is this process's by now, so that build
 * ends within a few frames. */
static void
test_back_before_built (void)
{
  Events *events = events_new ();
  g_autoptr(KestrelEngine) engine = start_engine ("front", events);
  Applied int8 = { engine, 1 }, fp32 = { engine, 2 };
  Running running = { engine, KESTREL_PRECISION_FP32, 0 };
  StayingAtFp32 staying = { engine, 0, FALSE };

  g_assert_true (wait_until (running_at, &running));
  set_precision (engine, KESTREL_PRECISION_INT8);
  g_assert_true (wait_until (reconfigurations_applied, &int8));
  set_precision (engine, KESTREL_PRECISION_FP32);
  g_assert_true (wait_until (reconfigurations_applied, &fp32));
  staying.until_frames = frames_processed (engine) + 100;
  g_assert_true (wait_until (fp32_for_frames, &staying));
  g_assert_false (staying.saw_int8);
  kestrel_engine_stop (engine);
  g_assert_null (events_find_text (events, KESTREL_ENGINE_EVENT_CONFIG_ERROR, NULL));
  events_free (events);
}

/* 200 changes fp32 <-> int8 with the canary on: no frame lost, every
 * processed frame counted once in each stage, no rollback, nothing left
 * out of the frame pool. */
static void
test_live_switch (void)
{
  Events *events = events_new ();
  g_autoptr(KestrelEngine) engine = start_engine ("front", events);
  guint64 last_frames = 0;

  for (guint i = 1; i <= 200; i++)
    {
      Applied a = { engine, i };

      set_precision (engine, i % 2 == 1 ? KESTREL_PRECISION_INT8 : KESTREL_PRECISION_FP32);
      g_assert_true (wait_until (reconfigurations_applied, &a));
      /* Now and then, let the plans asked for come in and run: INT8 at
       * 25, 75..., FP32 at 50, 100... */
      if (i % 25 == 0)
        {
          Running r = { engine, i % 2 == 1 ? KESTREL_PRECISION_INT8 : KESTREL_PRECISION_FP32, 0 };
          g_assert_true (wait_until (running_at, &r));
          g_assert_cmpuint (frames_processed (engine), >, last_frames);
          last_frames = frames_processed (engine);
        }
    }
  kestrel_engine_stop (engine);

  g_autoptr(KestrelMetricsSnapshot) snap = kestrel_engine_get_snapshot (engine);
  g_test_message ("%" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT " dropped, %" G_GUINT64_FORMAT
                  " agreement checks over 200 precision changes", snap->frames_processed, snap->frames_dropped,
                  snap->agreement_checks);
  g_assert_cmpuint (snap->frames_dropped, ==, 0);
  g_assert_cmpuint (snap->rollbacks, ==, 0);
  for (guint stage = 0; stage < KESTREL_N_STAGES; stage++)
    g_assert_cmpuint (kestrel_histogram_get_count (snap->stage_latency[stage]), ==, snap->frames_processed);
  g_assert_cmpuint (kestrel_histogram_get_count (snap->frame_latency), ==, snap->frames_processed);
  g_assert_cmpuint (snap->faces_seen, >, 0);
  g_assert_cmpuint (kestrel_engine_get_pool_outstanding (engine), ==, 0);
  g_assert_null (events_find_text (events, KESTREL_ENGINE_EVENT_CONFIG_ERROR, NULL));
  g_assert_null (events_find_text (events, KESTREL_ENGINE_EVENT_ROLLBACK, NULL));
  events_free (events);
}

/* A step of the front model's INT8 plan at level full whose output is
 * float (where the fault injection works: the conversions at the plan's
 * float edges), the last one before the outputs. */
static char *
int8_float_step (void)
{
  static const kk_model_input_params front_params = {
    .width = 128, .height = 128, .layout = KK_LAYOUT_NHWC,
    .scale = { 2 / 255.f, 2 / 255.f, 2 / 255.f }, .offset = { -1, -1, -1 }, .letterbox = TRUE, .pad = { -1, -1, -1 },
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = kestrel_model_new_for_spec_at ("front", NULL, &error);
  g_autoptr(KestrelQuantTable) table = NULL;
  g_autoptr(KestrelPlan) plan = NULL;
  KestrelPlanOptions options;
  char *name = NULL;

  g_assert_no_error (error);
  table = kestrel_calibrate_images (model, 0, &front_params, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  kestrel_plan_options_init (&options);
  options.precision = KESTREL_PRECISION_INT8;
  options.quant_table = table;
  options.n_threads = 1;
  plan = kestrel_plan_new (model, &options, &error);
  g_assert_no_error (error);
  for (guint s = 0; s < kestrel_plan_get_n_steps (plan); s++)
    {
      const KestrelStep *step = kestrel_plan_get_step (plan, s);
      if (step->outputs[0].dtype == KESTREL_DTYPE_FLOAT32 && step->node->name != NULL)
        {
          g_free (name);
          name = g_strdup (step->node->name);
        }
    }
  g_assert_nonnull (name);
  return name;
}

typedef struct {
  Events *events;
  KestrelEngineEventKind kind;
} Seen;

static gboolean
event_seen (gpointer data)
{
  Seen *seen = data;
  return events_find_text (seen->events, seen->kind, NULL) != NULL;
}

/* The FP16 step of the front model's FP16 plan at level full with the
 * fewest output channels: a classifier head, just before an output whose
 * logits are small enough (tens) that the injected 0.5 is well beyond the
 * canary's 1e-3 of their scale (the box regressors' hundreds are not). */
static char *
fp16_step (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = kestrel_model_new_for_spec_at ("front", NULL, &error);
  g_autoptr(KestrelPlan) plan = NULL;
  KestrelPlanOptions options;
  char *name = NULL;

  g_assert_no_error (error);
  kestrel_plan_options_init (&options);
  options.precision = KESTREL_PRECISION_FP16;
  options.n_threads = 1;
  plan = kestrel_plan_new (model, &options, &error);
  g_assert_no_error (error);
  gint64 fewest = G_MAXINT64;
  for (guint s = 0; s < kestrel_plan_get_n_steps (plan); s++)
    {
      const KestrelStep *step = kestrel_plan_get_step (plan, s);
      if (kestrel_plan_get_step_precision (plan, s) == KESTREL_PRECISION_FP16
          && step->outputs[0].n_dims == 4 && step->outputs[0].shape[3] < fewest)
        {
          fewest = step->outputs[0].shape[3];
          g_free (name);
          name = g_strdup (step->node->name);
        }
    }
  g_assert_nonnull (name);
  return name;
}

/* A fault injected into a step of the fast path (the precision's own
 * victim) is a difference from the scalar plan at that precision: the
 * canary catches it, names the step in its message (which says `says`),
 * and rolls back. */
typedef struct {
  KestrelPrecision precision;
  char *(*victim) (void);
  const char *says;
} CanaryCase;

static const CanaryCase canary_cases[] = {
  { KESTREL_PRECISION_FP16, fp16_step, "scalar reference" },
  { KESTREL_PRECISION_INT8, int8_float_step, "INT8 scalar reference" },
};

static void
test_canary_rolls_back (gconstpointer data)
{
  const CanaryCase *cc = data;
  g_autofree char *victim = cc->victim ();
  Events *events = events_new ();
  g_autoptr(KestrelEngine) engine = start_engine ("front", events);
  Seen rollback = { events, KESTREL_ENGINE_EVENT_ROLLBACK };
  const char *message;

  g_test_message ("fault in step %s", victim);
  kestrel_engine_inject_fault_for_testing (engine, victim);
  set_precision (engine, cc->precision);
  g_assert_true (wait_until (event_seen, &rollback));
  message = events_find_text (events, KESTREL_ENGINE_EVENT_ROLLBACK, NULL);
  g_test_message ("%s", message);
  g_assert_nonnull (strstr (message, cc->says));
  g_assert_nonnull (strstr (message, victim));
  kestrel_engine_stop (engine);
  g_assert_cmpuint (kestrel_engine_get_pool_outstanding (engine), ==, 0);
  events_free (events);
}

int
main (int argc, char **argv)
{
  /* A user cache of this program's own: calibrations are measured here,
   * not read from another test's (tests/private-cache.h). */
  char *cache = private_cache_begin ();
  int status;

  g_test_init (&argc, &argv, NULL);
  main_thread = g_thread_self ();
  g_test_add_func ("/precision/calibration-cancel", test_calibration_cancel);
  g_test_add_data_func ("/precision/int8-agreement", GINT_TO_POINTER (KESTREL_PRECISION_INT8), test_agreement);
  g_test_add_data_func ("/precision/fp16-agreement", GINT_TO_POINTER (KESTREL_PRECISION_FP16), test_agreement);
  g_test_add_data_func ("/precision/int4-agreement", GINT_TO_POINTER (KESTREL_PRECISION_INT4), test_agreement);
  g_test_add_data_func ("/precision/fp16-canary-rolls-back", &canary_cases[0], test_canary_rolls_back);
  g_test_add_data_func ("/precision/int8-canary-rolls-back", &canary_cases[1], test_canary_rolls_back);
  g_test_add_func ("/precision/back-before-built", test_back_before_built);
  g_test_add_func ("/precision/live-switch", test_live_switch);
  status = g_test_run ();
  private_cache_end (cache);
  return status;
}
