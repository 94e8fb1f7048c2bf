/* kestrel-engine.c — see kestrel-engine.h for the threads and their jobs. */
#include "config.h"

#include "kestrel-engine.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "kestrel-batcher.h"
#include "kestrel-builtin-models.h"
#include "kestrel-error.h"
#include "kestrel-image.h"
#include "kestrel-plugin.h"
#include "kestrel-pool.h"
#include "kestrel-prometheus.h"
#include "kestrel-sampler.h"
#include "kestrel-stats.h"

/* A canary output may differ from the scalar reference by this much,
 * relative to the output's largest magnitude: SIMD kernels reassociate
 * sums (about 1e-6 here), a broken kernel is off by far more. */
#define CANARY_TOLERANCE 1e-3
/* Snapshots for the UI and the HTTP endpoint, per second. */
#define PUBLISH_INTERVAL_MS 250

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
  KestrelTaskDecoder *decoder;
  kk_model_input_params params;
} Active;

static inline KestrelPlan *
active_staging (const Active *active)
{
  return active->plans[active->n_plans - 1];
}

static inline guint
active_max_batch (const Active *active)
{
  return kestrel_plan_get_batch (active_staging (active));
}

static void
active_free (Active *active)
{
  if (active == NULL)
    return;
  g_clear_pointer (&active->decoder, kestrel_task_decoder_free);
  g_clear_pointer (&active->reference, kestrel_plan_unref);
  for (guint i = 0; i < active->n_plans; i++)
    g_clear_pointer (&active->plans[i], kestrel_plan_unref);
  g_clear_pointer (&active->model, kestrel_model_unref);
  kestrel_engine_config_clear (&active->config);
  g_free (active);
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
  Active *built;                    /* a builder's result, waiting for the worker */
  GError *build_error;
  guint n_building;                 /* builder threads still running */
  guint build_generation;           /* only the newest build's result counts */
  guint n_reconfigurations;
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

G_DEFINE_FINAL_TYPE (KestrelEngine, kestrel_engine, G_TYPE_OBJECT)

enum { EVENT, N_SIGNALS };
static guint signals[N_SIGNALS];

/* ---- configuration ------------------------------------------------------- */

void
kestrel_engine_config_init (KestrelEngineConfig *config)
{
  memset (config, 0, sizeof *config);
  config->source = g_strdup ("synthetic:");
  config->model = g_strdup ("front");
  config->level = KK_LEVEL_FULL;
  config->precision = KESTREL_PRECISION_FP32;
  config->throttle = KESTREL_THROTTLE_MODE_OFF;
  config->budget = 25;
  config->batch = 1;
  config->canary_interval = 0;
  config->score_threshold = -1;
  config->batch_wait_ms = 20;
  config->batch_latency_ms = 0;
}

void
kestrel_engine_config_copy (KestrelEngineConfig *dest, const KestrelEngineConfig *src)
{
  char *source = g_strdup (src->source), *model = g_strdup (src->model);
  char **input_shapes = g_strdupv (src->input_shapes);

  kestrel_engine_config_clear (dest);
  *dest = *src;
  dest->source = source;
  dest->model = model;
  dest->input_shapes = input_shapes;
}

void
kestrel_engine_config_clear (KestrelEngineConfig *config)
{
  g_clear_pointer (&config->source, g_free);
  g_clear_pointer (&config->model, g_free);
  g_clear_pointer (&config->input_shapes, g_strfreev);
}

static gboolean
same_model (const KestrelEngineConfig *a, const KestrelEngineConfig *b)
{
  return g_strcmp0 (a->model, b->model) == 0
         && g_strv_equal ((const char *const *) (a->input_shapes != NULL ? a->input_shapes : (char *[]) { NULL }),
                          (const char *const *) (b->input_shapes != NULL ? b->input_shapes : (char *[]) { NULL }));
}

/* Whether going from `a` to `b` needs a new plan. */
static gboolean
needs_new_plan (const KestrelEngineConfig *a, const KestrelEngineConfig *b)
{
  return !same_model (a, b) || a->level != b->level
         || a->precision != b->precision || a->batch != b->batch
         || (a->canary_interval == 0) != (b->canary_interval == 0);
}

static char *
describe_config (const KestrelEngineConfig *c)
{
  if (c->batch > 1)
    return g_strdup_printf ("model %s, level %s, %u threads, %s, batch %u", c->model,
                            kk_level_name (c->level), c->threads, kestrel_precision_name (c->precision),
                            c->batch);
  return g_strdup_printf ("model %s, level %s, %u threads, %s", c->model, kk_level_name (c->level),
                          c->threads, kestrel_precision_name (c->precision));
}

const char *
kestrel_engine_event_kind_name (KestrelEngineEventKind kind)
{
  static const char *const names[] = { "info", "source-error", "config-error", "rollback", "safe-mode" };
  return (guint) kind < G_N_ELEMENTS (names) ? names[kind] : "unknown";
}

/* ---- events -------------------------------------------------------------- */

typedef struct {
  KestrelEngine *engine;
  KestrelEngineEventKind kind;
  char *message;
} Event;

static gboolean
emit_event (gpointer data)
{
  Event *event = data;

  g_signal_emit (event->engine, signals[EVENT], 0, event->kind, event->message);
  return G_SOURCE_REMOVE;
}

static void
event_free (gpointer data)
{
  Event *event = data;

  g_object_unref (event->engine);
  g_free (event->message);
  g_free (event);
}

static void
post_event (KestrelEngine *self, KestrelEngineEventKind kind, const char *format, ...) G_GNUC_PRINTF (3, 4);

static void
post_event (KestrelEngine *self, KestrelEngineEventKind kind, const char *format, ...)
{
  Event *event = g_new0 (Event, 1);
  va_list args;

  event->engine = g_object_ref (self);
  event->kind = kind;
  va_start (args, format);
  event->message = g_strdup_vprintf (format, args);
  va_end (args);
  g_debug ("engine event %s: %s", kestrel_engine_event_kind_name (kind), event->message);
  /* Always through a source, never g_main_context_invoke(): when the
   * owner's context is the global default and no thread is iterating it
   * at that moment, invoke acquires it and runs the handler right here, on
   * the worker thread, and a UI handler then touched GSettings bindings
   * from two threads at once. */
  GSource *source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, emit_event, event, event_free);
  g_source_set_static_name (source, "[kestrel] engine event");
  g_source_attach (source, self->owner_context);
  g_source_unref (source);
}

/* ---- building a configuration (builder thread) ------------------------- */

static Active *
build_active (KestrelEngine *self, const KestrelEngineConfig *config, KestrelModel *reuse,
              const char *fault_node, GError **error)
{
  Active *active = g_new0 (Active, 1);
  KestrelPlanOptions options;
  const KestrelTaskDecoderVTable *vtable;

  kestrel_engine_config_copy (&active->config, config);
  if (config->batch < 1 || config->batch > KESTREL_ENGINE_MAX_BATCH)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "batch %u is out of range: the engine runs 1 to %d frames at once",
                   config->batch, KESTREL_ENGINE_MAX_BATCH);
      goto fail;
    }
  active->model = reuse != NULL ? kestrel_model_ref (reuse) : kestrel_model_new_for_spec_at (config->model, (const char *const *) config->input_shapes, error);
  if (active->model == NULL)
    goto fail;

  vtable = kestrel_plugin_registry_find_task_decoder_for_model (kestrel_plugin_registry_get_default (),
                                                              active->model, error);
  if (vtable == NULL)
    goto fail;
  active->decoder = kestrel_task_decoder_new (vtable, active->model, error);
  if (active->decoder == NULL)
    goto fail;
  kestrel_task_decoder_get_input_params (active->decoder, TRUE, &active->params);

  kestrel_plan_options_init (&options);
  options.level = config->level;
  options.precision = config->precision;
  options.pool = self->pool;
  for (guint batch = 1; active->n_plans < MAX_PLANS; batch = MIN (batch * 2, config->batch))
    {
      options.batch = batch;
      active->plans[active->n_plans] = kestrel_plan_new (active->model, &options, error);
      if (active->plans[active->n_plans] == NULL)
        goto fail;
      if (fault_node != NULL)
        kestrel_plan_inject_fault_for_testing (active->plans[active->n_plans], fault_node, 0.5f);
      active->n_plans++;
      if (batch == config->batch)
        break;
    }

  if (config->canary_interval > 0 && config->level != KK_LEVEL_SCALAR)
    {
      options.level = KK_LEVEL_SCALAR;
      options.pool = NULL;
      options.batch = 1;
      active->reference = kestrel_plan_new (active->model, &options, error);
      if (active->reference == NULL)
        goto fail;
    }
  return active;

fail:
  active_free (active);
  return NULL;
}

typedef struct {
  KestrelEngine *engine;
  KestrelEngineConfig config;
  KestrelModel *reuse;
  char *fault_node;
  guint generation;
} BuildJob;

static gpointer
builder_main (gpointer data)
{
  BuildJob *job = data;
  KestrelEngine *self = job->engine;
  GError *error = NULL;
  Active *active = build_active (self, &job->config, job->reuse, job->fault_node, &error);

  g_mutex_lock (&self->lock);
  if (job->generation == self->build_generation)
    {
      active_free (self->built);
      g_clear_error (&self->build_error);
      self->built = g_steal_pointer (&active);
      self->build_error = g_steal_pointer (&error);
    }
  self->n_building--;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  /* A result overtaken by a newer request. */
  active_free (active);
  g_clear_error (&error);

  kestrel_engine_config_clear (&job->config);
  g_clear_pointer (&job->reuse, kestrel_model_unref);
  g_free (job->fault_node);
  g_object_unref (job->engine);
  g_free (job);
  return NULL;
}

/* Called with the lock held. */
static void
start_build (KestrelEngine *self, const KestrelEngineConfig *config)
{
  BuildJob *job = g_new0 (BuildJob, 1);

  job->engine = g_object_ref (self);
  kestrel_engine_config_copy (&job->config, config);
  if (self->active != NULL && same_model (&self->active->config, config))
    job->reuse = kestrel_model_ref (self->active->model);
  job->fault_node = g_strdup (self->fault_node);
  job->generation = ++self->build_generation;
  self->n_building++;
  g_thread_unref (g_thread_new ("kestrel-builder", builder_main, job));
}

/* ---- the canary ---------------------------------------------------------- */

typedef struct {
  GHashTable *values;            /* model value name -> GArray of float (reference) */
  const char *first_layer;
  double first_error;
} Localize;

static void
capture_reference (const KestrelPlan *plan, guint step, gpointer data)
{
  Localize *loc = data;
  const KestrelTensorView *out = &kestrel_plan_get_step (plan, step)->outputs[0];
  const char *name = kestrel_plan_get_step_model_value (plan, step);
  GArray *copy;

  if (name == NULL || out->dtype != KESTREL_DTYPE_FLOAT32 || out->data == NULL)
    return;
  copy = g_array_sized_new (FALSE, FALSE, sizeof (float), out->n_elements);
  g_array_append_vals (copy, out->data, out->n_elements);
  g_hash_table_replace (loc->values, g_strdup (name), copy);
}

/* First fast-path step whose output differs from the reference's value of
 * the same model name (NHWC outputs compared through the layout). */
static void
compare_step (const KestrelPlan *plan, guint step, gpointer data)
{
  Localize *loc = data;
  const KestrelStep *s = kestrel_plan_get_step (plan, step);
  const KestrelTensorView *out = &s->outputs[0];
  const char *name = kestrel_plan_get_step_model_value (plan, step);
  GArray *want;
  double worst = 0, scale = 1e-6;
  gboolean nhwc;

  if (loc->first_layer != NULL || name == NULL || out->dtype != KESTREL_DTYPE_FLOAT32)
    return;
  want = g_hash_table_lookup (loc->values, name);
  if (want == NULL || want->len != out->n_elements)
    return;
  nhwc = kestrel_plan_step_is_nhwc (plan, step) && out->n_dims == 4;
  for (gsize i = 0; i < out->n_elements; i++)
    {
      gsize j = i;
      if (nhwc)
        {
          /* out is [N,H,W,C]; the reference is [N,C,H,W]. */
          gsize c = i % out->shape[3], w = (i / out->shape[3]) % out->shape[2];
          gsize h = (i / (out->shape[3] * out->shape[2])) % out->shape[1];
          gsize n = i / (out->shape[3] * out->shape[2] * out->shape[1]);
          j = ((n * out->shape[3] + c) * out->shape[1] + h) * out->shape[2] + w;
        }
      double ref = g_array_index (want, float, j);
      worst = MAX (worst, fabs ((double) ((const float *) out->data)[i] - ref));
      scale = MAX (scale, fabs (ref));
    }
  if (worst > CANARY_TOLERANCE * scale)
    {
      loc->first_layer = s->node->name;
      loc->first_error = worst / scale;
    }
}

static void
copy_item (KestrelPlan *from, guint from_item, KestrelPlan *to, guint to_item)
{
  for (guint i = 0; i < kestrel_plan_get_n_inputs (from); i++)
    {
      KestrelTensorView a, b;
      if (kestrel_plan_get_input_slice (from, i, from_item, &a)
          && kestrel_plan_get_input_slice (to, i, to_item, &b) && a.data != b.data)
        memcpy (b.data, a.data, a.n_elements * kestrel_dtype_get_size (a.dtype));
    }
}

/* Runs the scalar reference plan (batch 1) on item `item` of the plan that
 * just ran and compares that item's outputs; FALSE with a message naming
 * the output and, when it can be found, the layer that went wrong first. */
static gboolean
canary_check (KestrelEngine *self, Active *active, KestrelPlan *plan, guint item, char **message)
{
  KestrelPlan *ref = active->reference, *single = active->plans[0];
  double worst = 0;
  guint worst_output = 0;

  copy_item (plan, item, ref, 0);
  kestrel_plan_run (ref);
  for (guint o = 0; o < kestrel_plan_get_n_outputs (plan); o++)
    {
      const KestrelTensorView *b = kestrel_plan_get_output (ref, o);
      KestrelTensorView a;
      double diff = 0, scale = 1e-6;
      if (b->dtype != KESTREL_DTYPE_FLOAT32 || !kestrel_plan_get_output_slice (plan, o, item, &a)
          || a.n_elements != b->n_elements)
        continue;
      for (gsize i = 0; i < a.n_elements; i++)
        {
          diff = MAX (diff, fabs (((const float *) a.data)[i] - ((const float *) b->data)[i]));
          scale = MAX (scale, fabs (((const float *) b->data)[i]));
        }
      if (diff / scale > worst)
        {
          worst = diff / scale;
          worst_output = o;
        }
    }
  if (worst <= CANARY_TOLERANCE)
    return TRUE;

  /* Failed: find the layer, layer by layer at batch 1 (the reference's
   * batch). Slow, but this happens once. */
  Localize loc = { g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_array_unref),
                   NULL, 0 };
  copy_item (plan, item, single, 0);
  kestrel_plan_run_observed (ref, capture_reference, &loc);
  kestrel_plan_run_observed (single, compare_step, &loc);
  if (loc.first_layer != NULL)
    *message = g_strdup_printf ("canary: output '%s' is off by %.3g (relative) from the scalar "
                                "reference; layer '%s' is the first to differ (by %.3g)",
                                kestrel_plan_get_output_name (plan, worst_output), worst,
                                loc.first_layer, loc.first_error);
  else
    *message = g_strdup_printf ("canary: output '%s' is off by %.3g (relative) from the scalar "
                                "reference", kestrel_plan_get_output_name (plan, worst_output), worst);
  g_hash_table_unref (loc.values);
  return FALSE;
}

/* ---- the worker ---------------------------------------------------------- */

static void
publish_config (KestrelEngine *self, const KestrelEngineConfig *c)
{
  KestrelMetricsConfig mc = {
    .level = kk_level_name (c->level),
    .threads = kestrel_thread_pool_get_n_threads (self->pool),
    .precision = kestrel_precision_name (c->precision),
    .budget_percent = c->throttle == KESTREL_THROTTLE_MODE_BUDGET ? c->budget : 0,
    .batch = c->batch,
    .model = c->model,
  };
  kestrel_metrics_set_config (self->metrics, &mc);
}

static gboolean
open_source (KestrelEngine *self, const char *spec, GError **error)
{
  KestrelFrameSource *source = kestrel_frame_source_open (kestrel_plugin_registry_get_default (),
                                                          spec, error);
  if (source == NULL)
    return FALSE;
  g_clear_pointer (&self->source, kestrel_frame_source_close);
  self->source = source;
  g_free (self->source_spec);
  self->source_spec = g_strdup (spec);
  self->source_ended = FALSE;
  return TRUE;
}

/* The batcher follows the configuration and the plans in force: batches
 * up to the largest plan's size. Worker thread. */
static void
configure_batcher (KestrelEngine *self, const KestrelEngineConfig *c, gboolean plans_changed)
{
  guint max_batch = self->active != NULL ? active_max_batch (self->active) : 1;

  kestrel_batcher_set_max_batch (self->batcher, MIN (max_batch, MAX (c->batch, 1)));
  kestrel_batcher_set_max_wait (self->batcher, (gint64) c->batch_wait_ms * 1000);
  if (c->batch_latency_ms > 0)
    {
      kestrel_batcher_set_mode (self->batcher, KESTREL_BATCHER_MODE_ADAPTIVE);
      kestrel_batcher_set_target_latency (self->batcher, (gint64) c->batch_latency_ms * 1000);
    }
  else
    kestrel_batcher_set_mode (self->batcher, KESTREL_BATCHER_MODE_FIXED);
  /* Run times measured on other plans say nothing about these. */
  if (plans_changed)
    kestrel_batcher_reset_model (self->batcher);
  g_atomic_int_set (&self->batch_size, (gint) kestrel_batcher_get_batch_size (self->batcher));
}

/* Applies what changed, between frames. Called with the lock held; may
 * drop it around slow work. A new plan is swapped in only between batches
 * (the worker runs a partial batch first: frames staged in the old plan
 * stay there). */
static void
apply_pending (KestrelEngine *self)
{
  KestrelEngineConfig next = { 0 };

  if (self->has_pending)
    {
      kestrel_engine_config_copy (&next, &self->pending);
      self->has_pending = FALSE;
      self->n_reconfigurations++;

      kestrel_thread_pool_set_n_threads (self->pool, next.threads);
      kestrel_throttle_set_mode (self->throttle, next.throttle);
      kestrel_throttle_set_budget (self->throttle, next.budget);

      if (g_strcmp0 (next.source, self->source_spec) != 0)
        {
          g_autoptr(GError) error = NULL;
          g_mutex_unlock (&self->lock);
          gboolean ok = open_source (self, next.source, &error);
          g_mutex_lock (&self->lock);
          if (!ok)
            {
              post_event (self, KESTREL_ENGINE_EVENT_CONFIG_ERROR, "%s; keeping source %s",
                          error->message, self->source_spec);
              g_free (next.source);
              next.source = g_strdup (self->source_spec);
            }
        }

      if (needs_new_plan (&self->config, &next))
        start_build (self, &next);
      else
        {
          /* Threads, budget, canary interval, thresholds: no new plan. */
          char *model = self->config.model;
          self->config.model = NULL;
          kestrel_engine_config_copy (&self->config, &next);
          g_free (model);
          if (self->active != NULL)
            kestrel_engine_config_copy (&self->active->config, &next);
          configure_batcher (self, &self->config, FALSE);
          publish_config (self, &self->config);
        }
      kestrel_engine_config_clear (&next);
    }

  if ((self->built != NULL && self->n_collected == 0) || self->build_error != NULL)
    {
      if (self->built != NULL)
        {
          Active *old = self->active;
          self->active = self->built;
          self->built = NULL;
          kestrel_engine_config_copy (&self->config, &self->active->config);
          configure_batcher (self, &self->config, TRUE);
          publish_config (self, &self->config);
          if (self->config.canary_interval == 0)
            {
              kestrel_engine_config_copy (&self->last_good, &self->config);
              self->has_last_good = TRUE;
            }
          g_mutex_unlock (&self->lock);
          active_free (old);
          g_mutex_lock (&self->lock);
        }
      else
        {
          post_event (self, KESTREL_ENGINE_EVENT_CONFIG_ERROR, "%s", self->build_error->message);
          g_clear_error (&self->build_error);
        }
    }
}

static void
rollback (KestrelEngine *self, const char *message)
{
  KestrelEngineConfig target = { 0 };
  g_autofree char *what = NULL;

  g_mutex_lock (&self->lock);
  if (self->has_last_good && needs_new_plan (&self->last_good, &self->config))
    kestrel_engine_config_copy (&target, &self->last_good);
  else
    {
      kestrel_engine_config_copy (&target, &self->config);
      target.level = KK_LEVEL_SCALAR;
    }
  what = describe_config (&target);

  /* The scalar reference plan is correct by definition: run on it, one
   * frame at a time, until the rolled-back plans are built. Called
   * between batches, so no frame is staged in the plans that go. */
  if (self->active->reference != NULL)
    {
      for (guint i = 0; i < self->active->n_plans; i++)
        g_clear_pointer (&self->active->plans[i], kestrel_plan_unref);
      self->active->plans[0] = g_steal_pointer (&self->active->reference);
      self->active->n_plans = 1;
      self->active->config.level = KK_LEVEL_SCALAR;
      self->config.level = KK_LEVEL_SCALAR;
      configure_batcher (self, &self->config, TRUE);
    }
  g_clear_pointer (&self->fault_node, g_free);
  if (needs_new_plan (&self->config, &target))
    start_build (self, &target);
  publish_config (self, &self->config);
  g_mutex_unlock (&self->lock);

  kestrel_metrics_rollback (self->metrics);
  post_event (self, KESTREL_ENGINE_EVENT_ROLLBACK, "%s; rolled back to %s", message, what);
  kestrel_engine_config_clear (&target);
}

/* Preprocesses a frame into the next slice of the staging input. The
 * frame itself is the source's only until the next one, so everything
 * needed later (its size, a preview copy) is taken now. */
static void
stage_frame (KestrelEngine *self, Active *active, const KestrelFrame *frame, guint64 t0)
{
  g_autoptr(GError) error = NULL;
  KestrelPlan *staging = active_staging (active);
  Slot *slot = &self->slots[self->n_collected];
  KestrelTensorView slice;
  guint64 t1, t2;
  guint input = kestrel_task_decoder_get_image_input (active->decoder);

  t1 = kestrel_stats_now_ns ();
  kestrel_metrics_record_stage (self->metrics, KESTREL_STAGE_CAPTURE, t1 - t0);

  if (!kestrel_plan_get_input_slice (staging, input, self->n_collected, &slice))
    g_set_error (&error, KESTREL_ERROR, KESTREL_ERROR_FAILED, "the plan has no slot %u for it",
                 self->n_collected);
  else if (kestrel_image_check_input (&slice, &active->params, &error))
    kestrel_image_fill_tensor (&frame->image, &active->params,
                               kk_kernels_for_level (kestrel_plan_get_options (staging)->level),
                               slice.data, &slot->geometry);
  if (error != NULL)
    {
      kestrel_metrics_frame_dropped (self->metrics);
      post_event (self, KESTREL_ENGINE_EVENT_SOURCE_ERROR, "frame %" G_GUINT64_FORMAT ": %s",
                  frame->index, error->message);
      return;
    }
  t2 = kestrel_stats_now_ns ();
  kestrel_metrics_record_stage (self->metrics, KESTREL_STAGE_PREPROCESS, t2 - t1);

  slot->t0 = t0;
  slot->busy_ns = t2 - t0;
  slot->index = frame->index;
  slot->width = frame->image.width;
  slot->height = frame->image.height;
  slot->detections = kestrel_detections_new ();

  /* The copy is made outside the lock: the UI only ever swaps pointers. */
  gint preview_interval_ms = g_atomic_int_get (&self->preview_interval_ms);
  gint64 now_us = g_get_monotonic_time ();
  if (preview_interval_ms > 0 && now_us - self->last_preview_us >= preview_interval_ms * G_GINT64_CONSTANT (1000))
    {
      slot->preview = kestrel_preview_frame_new_copy (&frame->image, frame->index, slot->detections);
      self->last_preview_us = now_us;
    }

  self->n_collected++;
  kestrel_batcher_push (self->batcher, now_us);
}

/* Decodes item `item` of `plan` into its frame's slot and accounts for the
 * frame. `share_ns` is the frame's share of the run. FALSE when the frame
 * could not be decoded (it is counted as dropped). */
static gboolean
finish_frame (KestrelEngine *self, Active *active, KestrelPlan *plan, guint item, Slot *slot,
              guint64 run_ns, guint64 share_ns)
{
  g_autoptr(GError) error = NULL;
  KestrelDecodeOptions options;
  KestrelFrameInfo info;
  guint64 t3 = kestrel_stats_now_ns (), t4;

  kestrel_metrics_record_stage (self->metrics, KESTREL_STAGE_INFERENCE, run_ns);
  kestrel_decode_options_init (&options);
  options.score_threshold = active->config.score_threshold;
  /* Unset: the built-in model's own threshold (-1 for other models, which
   * leaves the decoder's default). Two string compares, no allocation. */
  if (options.score_threshold < 0)
    options.score_threshold = kestrel_builtin_model_get_score_threshold (active->config.model);
  info.width = slot->width;
  info.height = slot->height;
  info.geometry = slot->geometry;
  if (!kestrel_task_decoder_decode_plan_item (active->decoder, plan, item, &info, &options,
                                              slot->detections, &error))
    {
      kestrel_metrics_frame_dropped (self->metrics);
      post_event (self, KESTREL_ENGINE_EVENT_SOURCE_ERROR, "decoding frame %" G_GUINT64_FORMAT ": %s",
                  slot->index, error->message);
      return FALSE;
    }
  t4 = kestrel_stats_now_ns ();
  kestrel_metrics_record_stage (self->metrics, KESTREL_STAGE_DECODE, t4 - t3);
  /* Latency from capture to decode, the wait for the batch included. */
  kestrel_metrics_frame_processed (self->metrics, g_get_monotonic_time (), t4 - slot->t0,
                                   kestrel_detections_get_n (slot->detections));
  self->frames++;

  g_mutex_lock (&self->lock);
  /* The throttle paces frames by what each costs: its share of the run. */
  kestrel_throttle_frame_done (self->throttle, (gint64) ((slot->busy_ns + share_ns + (t4 - t3)) / 1000));
  g_clear_pointer (&self->last_detections, kestrel_detections_unref);
  self->last_detections = kestrel_detections_ref (slot->detections);
  if (slot->preview != NULL)
    {
      g_clear_pointer (&self->preview, kestrel_preview_frame_unref);
      self->preview = g_steal_pointer (&slot->preview);
    }
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/* Runs the frames collected so far, in chunks on the largest plans that
 * fit, decodes each frame from its slice, checks the canary, and feeds the
 * batcher the batch's latency. Worker thread, lock not held. */
static void
run_batch (KestrelEngine *self, Active *active)
{
  KestrelPlan *staging = active_staging (active);
  guint n = self->n_collected, done = 0;
  g_autofree char *canary_message = NULL;
  gboolean canary_passed = FALSE;
  guint64 last_end = 0;

  while (done < n)
    {
      KestrelPlan *plan = active->plans[0];
      guint k;
      guint64 t2, t3;

      for (guint i = active->n_plans; i-- > 0;)
        if (kestrel_plan_get_batch (active->plans[i]) <= n - done)
          {
            plan = active->plans[i];
            break;
          }
      k = kestrel_plan_get_batch (plan);
      if (plan != staging)
        for (guint i = 0; i < k; i++)
          copy_item (staging, done + i, plan, i);

      t2 = kestrel_stats_now_ns ();
      kestrel_plan_run (plan);
      t3 = kestrel_stats_now_ns ();

      for (guint i = 0; i < k; i++)
        {
          if (finish_frame (self, active, plan, i, &self->slots[done + i], t3 - t2, (t3 - t2) / k)
              && active->reference != NULL && active->config.canary_interval > 0
              && canary_message == NULL && self->frames % active->config.canary_interval == 0)
            {
              if (canary_check (self, active, plan, i, &canary_message))
                canary_passed = TRUE;
            }
        }
      done += k;
      last_end = kestrel_stats_now_ns ();
    }

  if (n > 0)
    kestrel_batcher_record_latency (self->batcher, n, (gint64) ((last_end - self->slots[0].t0) / 1000));
  kestrel_batcher_clear (self->batcher);
  g_atomic_int_set (&self->batch_size, (gint) kestrel_batcher_get_batch_size (self->batcher));
  for (guint i = 0; i < n; i++)
    {
      g_clear_pointer (&self->slots[i].detections, kestrel_detections_unref);
      g_clear_pointer (&self->slots[i].preview, kestrel_preview_frame_unref);
    }
  self->n_collected = 0;

  /* After the whole batch: the rollback frees the plans it ran on. */
  if (canary_message != NULL)
    rollback (self, canary_message);
  else if (canary_passed)
    {
      g_mutex_lock (&self->lock);
      if (!self->has_last_good || needs_new_plan (&self->last_good, &active->config))
        {
          kestrel_engine_config_copy (&self->last_good, &active->config);
          self->has_last_good = TRUE;
        }
      g_mutex_unlock (&self->lock);
    }
}

static gpointer
worker_main (gpointer data)
{
  KestrelEngine *self = data;
  gint64 next_frame_us = 0;

  g_mutex_lock (&self->lock);
  while (!self->quit)
    {
      apply_pending (self);

      /* A batch is due when full or when its oldest frame has waited long
       * enough; collected frames also run before anything that would hold
       * them (a pause, the source's end, a new plan waiting to go in). */
      if (self->n_collected > 0
          && (kestrel_batcher_is_ready (self->batcher, g_get_monotonic_time ())
              || self->n_collected >= active_max_batch (self->active)
              || self->state == KESTREL_ENGINE_PAUSED || self->source_ended || self->built != NULL))
        {
          Active *active = self->active;
          g_mutex_unlock (&self->lock);
          run_batch (self, active);
          g_mutex_lock (&self->lock);
          continue;
        }

      if (self->state == KESTREL_ENGINE_PAUSED || self->source_ended || self->active == NULL)
        {
          g_cond_wait (&self->cond, &self->lock);
          continue;
        }
      gint64 interval = kestrel_throttle_get_frame_interval (self->throttle);
      gint64 now = g_get_monotonic_time ();
      if (interval > 0 && now < next_frame_us)
        {
          /* Wakes early for commands and for a batch falling due; the loop
           * then looks again. */
          gint64 wake = MIN (next_frame_us, kestrel_batcher_get_deadline (self->batcher));
          g_cond_wait_until (&self->cond, &self->lock, wake);
          continue;
        }
      next_frame_us = now + interval;
      Active *active = self->active;
      g_mutex_unlock (&self->lock);

      g_autoptr(GError) error = NULL;
      KestrelFrame frame;
      gint64 again_us = 0;
      guint64 t0 = kestrel_stats_now_ns ();
      KestrelFrameStatus status = kestrel_frame_source_next_frame (self->source, &frame,
                                                                   self->cancellable, &error);
      switch (status)
        {
        case KESTREL_FRAME_OK:
          stage_frame (self, active, &frame, t0);
          break;
        case KESTREL_FRAME_ERROR:
          if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              kestrel_metrics_frame_dropped (self->metrics);
              post_event (self, KESTREL_ENGINE_EVENT_SOURCE_ERROR, "%s", error->message);
            }
          break;
        case KESTREL_FRAME_AGAIN:
          /* A still that has not changed: no frame, no cost. */
          again_us = frame.pts_us;
          break;
        case KESTREL_FRAME_END:
        default:
          post_event (self, KESTREL_ENGINE_EVENT_INFO, "source %s has no more frames",
                      self->source_spec);
          self->source_ended = TRUE;
          break;
        }
      g_mutex_lock (&self->lock);
      /* Until the source has something new; commands and a batch falling
       * due wake it early, and the loop looks again. */
      if (again_us > 0 && !self->quit && !self->has_pending)
        g_cond_wait_until (&self->cond, &self->lock,
                           MIN (again_us, kestrel_batcher_get_deadline (self->batcher)));
    }
  g_mutex_unlock (&self->lock);

  /* Frames already taken from the source are run, so every frame is
   * counted as processed or dropped. */
  if (self->n_collected > 0)
    run_batch (self, self->active);
  return NULL;
}

/* ---- the monitor --------------------------------------------------------- */

static void
on_sampled (KestrelSampler *sampler, gpointer sample_ptr, gpointer data)
{
  KestrelEngine *self = data;
  const KestrelSystemSample *sample = sample_ptr;

  kestrel_metrics_set_system_sample (self->metrics, sample);
  g_mutex_lock (&self->lock);
  kestrel_throttle_update (self->throttle, g_get_monotonic_time (), sample->process_cpu_percent);
  kestrel_metrics_set_over_budget (self->metrics, kestrel_throttle_get_over_budget (self->throttle));
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static gboolean
publish_tick (gpointer data)
{
  KestrelEngine *self = data;

  kestrel_metrics_publish (self->metrics, g_get_monotonic_time ());
  return G_SOURCE_CONTINUE;
}

/* Power saver: half the frame rate (GLib's power-profile monitor, backed by
 * power-profiles-daemon when it runs). */
static void
on_power_saver (GPowerProfileMonitor *monitor, GParamSpec *pspec, gpointer data)
{
  KestrelEngine *self = data;
  gboolean saver = g_power_profile_monitor_get_power_saver_enabled (monitor);

  /* The monitor also notifies when it first learns the (unchanged) state. */
  if (saver == self->power_saver)
    return;
  self->power_saver = saver;
  g_mutex_lock (&self->lock);
  kestrel_throttle_set_rate_multiplier (self->throttle, saver ? 0.5 : 1.0);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  post_event (self, KESTREL_ENGINE_EVENT_INFO, saver ? "power saver on: half the frame rate"
                                                     : "power saver off: full frame rate");
}

/* Low memory: give cached pool memory back. */
static void
on_low_memory (GMemoryMonitor *monitor, GMemoryMonitorWarningLevel level, gpointer data)
{
  KestrelEngine *self = data;
  gsize released = kestrel_pool_trim (self->buffers);

  post_event (self, KESTREL_ENGINE_EVENT_INFO, "low-memory warning (level %d): released %zu cached bytes",
              (int) level, released);
}

static gpointer
monitor_main (gpointer data)
{
  KestrelEngine *self = data;
  GSource *tick;
  g_autoptr(GPowerProfileMonitor) power = g_steal_pointer (&self->power_monitor);
  g_autoptr(GMemoryMonitor) memory = g_steal_pointer (&self->memory_monitor);

  g_main_context_push_thread_default (self->monitor_context);
  self->sampler = kestrel_sampler_new (self->monitor_context);
  kestrel_sampler_set_interval (self->sampler, (guint) g_atomic_int_get (&self->sample_interval_ms));
  g_signal_connect (self->sampler, "sampled", G_CALLBACK (on_sampled), self);
  tick = g_timeout_source_new (PUBLISH_INTERVAL_MS);
  g_source_set_callback (tick, publish_tick, self, NULL);
  g_source_attach (tick, self->monitor_context);

  if (power != NULL)
    {
      g_signal_connect (power, "notify::power-saver-enabled", G_CALLBACK (on_power_saver), self);
      if (g_power_profile_monitor_get_power_saver_enabled (power))
        on_power_saver (power, NULL, self);
    }
  if (memory != NULL)
    g_signal_connect (memory, "low-memory-warning", G_CALLBACK (on_low_memory), self);

  while (!g_atomic_int_get (&self->monitor_quit))
    g_main_context_iteration (self->monitor_context, TRUE);

  g_source_destroy (tick);
  g_source_unref (tick);
  if (power != NULL)
    g_signal_handlers_disconnect_by_data (power, self);
  if (memory != NULL)
    g_signal_handlers_disconnect_by_data (memory, self);
  if (self->prometheus != NULL)
    kestrel_prometheus_server_stop (self->prometheus);
  g_clear_object (&self->prometheus);
  g_clear_object (&self->sampler);
  g_main_context_pop_thread_default (self->monitor_context);
  return NULL;
}

/* ---- public API ---------------------------------------------------------- */

KestrelEngine *
kestrel_engine_new (const KestrelEngineConfig *config)
{
  KestrelEngine *self = g_object_new (KESTREL_TYPE_ENGINE, NULL);

  if (config != NULL)
    kestrel_engine_config_copy (&self->config, config);
  return self;
}

static gboolean
write_state_file (const char *path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *text = g_strdup_printf ("pid %d\n", (int) getpid ());

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "cannot create the folder of the state file %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  if (!g_file_set_contents (path, text, -1, error))
    {
      g_prefix_error (error, "cannot write the state file: ");
      return FALSE;
    }
  return TRUE;
}

gboolean
kestrel_engine_start (KestrelEngine *self, const char *state_file, GError **error)
{
  Active *active;

  g_return_val_if_fail (KESTREL_IS_ENGINE (self), FALSE);
  g_return_val_if_fail (self->state == KESTREL_ENGINE_STOPPED && self->worker == NULL, FALSE);

  if (state_file != NULL)
    {
      self->state_file = g_strdup (state_file);
      if (g_file_test (state_file, G_FILE_TEST_EXISTS))
        {
          self->config.level = KK_LEVEL_SCALAR;
          post_event (self, KESTREL_ENGINE_EVENT_SAFE_MODE,
                      "the last run did not end cleanly (%s is still there): starting in safe "
                      "mode on the scalar reference path", state_file);
        }
    }

  kestrel_thread_pool_set_n_threads (self->pool, self->config.threads);
  kestrel_throttle_set_mode (self->throttle, self->config.throttle);
  kestrel_throttle_set_budget (self->throttle, self->config.budget);

  active = build_active (self, &self->config, NULL, self->fault_node, error);
  if (active == NULL)
    return FALSE;
  if (!open_source (self, self->config.source, error))
    {
      active_free (active);
      return FALSE;
    }
  /* Written once the pipeline can start, so a failed start leaves no
   * marker behind; a marker that cannot be written fails the start: safe
   * mode after a crash depends on it. */
  if (self->state_file != NULL && !write_state_file (self->state_file, error))
    {
      active_free (active);
      g_clear_pointer (&self->source, kestrel_frame_source_close);
      return FALSE;
    }
  self->active = active;
  configure_batcher (self, &self->config, TRUE);
  if (self->config.canary_interval == 0)
    {
      kestrel_engine_config_copy (&self->last_good, &self->config);
      self->has_last_good = TRUE;
    }
  publish_config (self, &self->config);

  self->quit = FALSE;
  self->state = KESTREL_ENGINE_RUNNING;
  self->monitor_context = g_main_context_new ();
  /* The system monitors are got here, on the caller's thread, not on the
   * monitor thread: the first call loads GIO's modules under GIO's module
   * lock and then needs GType's class lock, and a GTK main thread in a
   * class_init holds the class lock while it waits for GIO (adw_init), so
   * getting them concurrently deadlocked. With the monitor context as the
   * thread-default one, they still signal on the monitor thread. */
  g_main_context_push_thread_default (self->monitor_context);
  self->power_monitor = g_power_profile_monitor_dup_default ();
  self->memory_monitor = g_memory_monitor_dup_default ();
  g_main_context_pop_thread_default (self->monitor_context);
  g_atomic_int_set (&self->monitor_quit, FALSE);
  self->monitor = g_thread_new ("kestrel-monitor", monitor_main, self);
  self->worker = g_thread_new ("kestrel-worker", worker_main, self);
  return TRUE;
}

/* On the monitor thread, which owns the sampler. */
static gboolean
apply_sample_interval (gpointer data)
{
  KestrelEngine *self = data;

  if (self->sampler != NULL)
    kestrel_sampler_set_interval (self->sampler, (guint) g_atomic_int_get (&self->sample_interval_ms));
  return G_SOURCE_REMOVE;
}

void
kestrel_engine_set_sample_interval (KestrelEngine *self, guint interval_ms)
{
  g_return_if_fail (KESTREL_IS_ENGINE (self));

  g_atomic_int_set (&self->sample_interval_ms, (gint) CLAMP (interval_ms, 100, 60000));
  if (self->monitor_context != NULL)
    {
      /* A source, so it runs on the monitor thread whoever calls; the
       * engine outlives it (stop joins the monitor thread first). */
      GSource *source = g_idle_source_new ();
      g_source_set_callback (source, apply_sample_interval, g_object_ref (self), g_object_unref);
      g_source_attach (source, self->monitor_context);
      g_source_unref (source);
    }
}

guint
kestrel_engine_get_sample_interval (KestrelEngine *self)
{
  g_return_val_if_fail (KESTREL_IS_ENGINE (self), 0);
  return (guint) g_atomic_int_get (&self->sample_interval_ms);
}

void
kestrel_engine_pause (KestrelEngine *self)
{
  g_mutex_lock (&self->lock);
  if (self->state == KESTREL_ENGINE_RUNNING)
    self->state = KESTREL_ENGINE_PAUSED;
  g_mutex_unlock (&self->lock);
  if (self->sampler != NULL)
    kestrel_metrics_publish (self->metrics, g_get_monotonic_time ());
}

void
kestrel_engine_resume (KestrelEngine *self)
{
  g_mutex_lock (&self->lock);
  if (self->state == KESTREL_ENGINE_PAUSED)
    self->state = KESTREL_ENGINE_RUNNING;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

void
kestrel_engine_stop (KestrelEngine *self)
{
  g_return_if_fail (KESTREL_IS_ENGINE (self));

  if (self->worker == NULL)
    return;
  g_mutex_lock (&self->lock);
  self->quit = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  g_cancellable_cancel (self->cancellable);
  g_thread_join (self->worker);
  self->worker = NULL;

  /* A plan being built finishes on its own; wait so nothing outlives us. */
  g_mutex_lock (&self->lock);
  while (self->n_building > 0)
    g_cond_wait (&self->cond, &self->lock);
  g_clear_pointer (&self->built, active_free);
  g_clear_error (&self->build_error);
  g_mutex_unlock (&self->lock);

  kestrel_metrics_publish (self->metrics, g_get_monotonic_time ());
  g_atomic_int_set (&self->monitor_quit, TRUE);
  g_main_context_wakeup (self->monitor_context);
  g_thread_join (self->monitor);
  self->monitor = NULL;
  g_clear_pointer (&self->monitor_context, g_main_context_unref);

  g_clear_pointer (&self->source, kestrel_frame_source_close);
  g_clear_pointer (&self->active, active_free);
  self->state = KESTREL_ENGINE_STOPPED;
  if (self->state_file != NULL)
    g_unlink (self->state_file);
}

KestrelEngineState
kestrel_engine_get_state (KestrelEngine *self)
{
  KestrelEngineState state;

  g_mutex_lock (&self->lock);
  state = self->state;
  g_mutex_unlock (&self->lock);
  return state;
}

void
kestrel_engine_reconfigure (KestrelEngine *self, const KestrelEngineConfig *config)
{
  g_mutex_lock (&self->lock);
  kestrel_engine_config_copy (&self->pending, config);
  self->has_pending = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

void
kestrel_engine_get_config (KestrelEngine *self, KestrelEngineConfig *out)
{
  memset (out, 0, sizeof *out);
  g_mutex_lock (&self->lock);
  kestrel_engine_config_copy (out, &self->config);
  g_mutex_unlock (&self->lock);
}

guint
kestrel_engine_get_batch_size (KestrelEngine *self)
{
  g_return_val_if_fail (KESTREL_IS_ENGINE (self), 1);
  return (guint) MAX (g_atomic_int_get (&self->batch_size), 1);
}

float
kestrel_engine_get_score_threshold (KestrelEngine *self)
{
  float threshold;

  g_return_val_if_fail (KESTREL_IS_ENGINE (self), -1.0f);

  g_mutex_lock (&self->lock);
  threshold = self->config.score_threshold;
  if (threshold < 0 && self->config.model != NULL)
    threshold = kestrel_builtin_model_get_score_threshold (self->config.model);
  if (threshold < 0 && self->active != NULL)
    threshold = kestrel_task_decoder_get_vtable (self->active->decoder)->default_score_threshold;
  g_mutex_unlock (&self->lock);
  return threshold;
}

guint
kestrel_engine_get_n_reconfigurations (KestrelEngine *self)
{
  guint n;

  g_mutex_lock (&self->lock);
  n = self->n_reconfigurations;
  g_mutex_unlock (&self->lock);
  return n;
}

KestrelMetricsSnapshot *
kestrel_engine_get_snapshot (KestrelEngine *self)
{
  return kestrel_metrics_get_snapshot (self->metrics);
}

KestrelDetections *
kestrel_engine_get_last_detections (KestrelEngine *self)
{
  KestrelDetections *d;

  g_mutex_lock (&self->lock);
  d = self->last_detections != NULL ? kestrel_detections_ref (self->last_detections) : NULL;
  g_mutex_unlock (&self->lock);
  return d;
}

void
kestrel_engine_set_preview_interval (KestrelEngine *self, guint interval_ms)
{
  g_return_if_fail (KESTREL_IS_ENGINE (self));
  g_atomic_int_set (&self->preview_interval_ms, (gint) MIN (interval_ms, G_MAXINT / 1000));
}

KestrelPreviewFrame *
kestrel_engine_get_preview (KestrelEngine *self)
{
  KestrelPreviewFrame *preview;

  g_return_val_if_fail (KESTREL_IS_ENGINE (self), NULL);
  g_mutex_lock (&self->lock);
  preview = self->preview != NULL ? kestrel_preview_frame_ref (self->preview) : NULL;
  g_mutex_unlock (&self->lock);
  return preview;
}

guint
kestrel_engine_get_pool_outstanding (KestrelEngine *self)
{
  KestrelPoolStats stats;

  kestrel_pool_get_stats (self->buffers, &stats);
  return stats.buffers_in_use;
}

typedef struct {
  KestrelEngine *engine;
  const char *address;
  KestrelPrometheusFlags flags;
  GMutex lock;
  GCond cond;
  gboolean done, ok;
  GError *error;
  char *url;
} ServeJob;

static KestrelMetricsSnapshot *
snapshot_for_prometheus (gpointer data)
{
  return kestrel_metrics_get_snapshot (KESTREL_ENGINE (data)->metrics);
}

static gboolean
serve_on_monitor (gpointer data)
{
  ServeJob *job = data;
  KestrelEngine *self = job->engine;

  if (self->prometheus == NULL)
    self->prometheus = kestrel_prometheus_server_new (self->monitor_context, snapshot_for_prometheus,
                                                      self, NULL);
  job->ok = kestrel_prometheus_server_start (self->prometheus, job->address, job->flags, &job->error);
  if (job->ok)
    job->url = kestrel_prometheus_server_dup_url (self->prometheus);
  g_mutex_lock (&job->lock);
  job->done = TRUE;
  g_cond_signal (&job->cond);
  g_mutex_unlock (&job->lock);
  return G_SOURCE_REMOVE;
}

gboolean
kestrel_engine_serve_metrics (KestrelEngine *self, const char *address, KestrelPrometheusFlags flags,
                              char **url, GError **error)
{
  ServeJob job = { self, address != NULL ? address : "127.0.0.1:9464", flags };

  g_return_val_if_fail (self->monitor_context != NULL, FALSE);
  g_mutex_init (&job.lock);
  g_cond_init (&job.cond);
  g_main_context_invoke (self->monitor_context, serve_on_monitor, &job);
  g_mutex_lock (&job.lock);
  while (!job.done)
    g_cond_wait (&job.cond, &job.lock);
  g_mutex_unlock (&job.lock);
  g_mutex_clear (&job.lock);
  g_cond_clear (&job.cond);
  if (!job.ok)
    {
      g_propagate_error (error, job.error);
      return FALSE;
    }
  if (url != NULL)
    *url = job.url;
  else
    g_free (job.url);
  return TRUE;
}

void
kestrel_engine_inject_fault_for_testing (KestrelEngine *self, const char *node_name)
{
  g_mutex_lock (&self->lock);
  g_free (self->fault_node);
  self->fault_node = g_strdup (node_name);
  g_mutex_unlock (&self->lock);
}

static void
kestrel_engine_finalize (GObject *object)
{
  KestrelEngine *self = KESTREL_ENGINE (object);

  kestrel_engine_stop (self);
  kestrel_engine_config_clear (&self->config);
  kestrel_engine_config_clear (&self->pending);
  kestrel_engine_config_clear (&self->last_good);
  g_clear_pointer (&self->throttle, kestrel_throttle_free);
  g_clear_pointer (&self->batcher, kestrel_batcher_free);
  g_clear_pointer (&self->last_detections, kestrel_detections_unref);
  g_clear_pointer (&self->preview, kestrel_preview_frame_unref);
  g_clear_pointer (&self->pool, kestrel_thread_pool_unref);
  g_clear_pointer (&self->buffers, kestrel_pool_unref);
  g_clear_object (&self->metrics);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->owner_context, g_main_context_unref);
  g_free (self->source_spec);
  g_free (self->state_file);
  g_free (self->fault_node);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (kestrel_engine_parent_class)->finalize (object);
}

static void
kestrel_engine_class_init (KestrelEngineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = kestrel_engine_finalize;

  /**
   * KestrelEngine::event:
   * @kind: a #KestrelEngineEventKind
   * @message: what happened, for people
   *
   * Emitted in the thread-default main context of the thread that created
   * the engine.
   */
  signals[EVENT] = g_signal_new ("event", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                 NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_STRING);
}

static void
kestrel_engine_init (KestrelEngine *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->owner_context = g_main_context_ref_thread_default ();
  self->sample_interval_ms = 1000;
  kestrel_engine_config_init (&self->config);
  self->throttle = kestrel_throttle_new ();
  self->batcher = kestrel_batcher_new (1, 0);
  self->metrics = kestrel_metrics_new ();
  self->pool = kestrel_thread_pool_new (0);
  self->buffers = kestrel_pool_ref (kestrel_frame_pool_get_default ());
  kestrel_metrics_set_pool (self->metrics, self->buffers);
  self->cancellable = g_cancellable_new ();
  self->state = KESTREL_ENGINE_STOPPED;
}
