/* kestrel-engine-worker.c — the frame loop on the worker thread: take a
 * frame from the source, preprocess it into its slice of the staging
 * plan, run the batch when it is due (in chunks on the ladder's plans),
 * decode each frame, account for it, and check the canary; commands are
 * applied between frames (_kestrel_engine_apply_pending).
 */
#include "config.h"

#include "kestrel-engine-private.h"

#include "kestrel-agreement.h"
#include "kestrel-builtin-models.h"
#include "kestrel-error.h"
#include "kestrel-image.h"
#include "kestrel-stats.h"

/* Preprocesses a frame into the next slice of the staging input. The
 * frame itself is the source's only until the next one, so everything
 * needed later (its size, a preview copy) is taken now. */
static void
stage_frame (KestrelEngine *self, Active *active, const KestrelFrame *frame, guint64 t0)
{
  g_autoptr(GError) error = NULL;
  KestrelPlan *staging = _kestrel_engine_active_staging (active);
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
      _kestrel_engine_post_event (self, KESTREL_ENGINE_EVENT_SOURCE_ERROR, "frame %" G_GUINT64_FORMAT ": %s",
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

/* How a frame is decoded: the configured threshold, or the built-in
 * model's own (-1 for other models, which leaves the decoder's default);
 * two string compares, no allocation. */
static void
decode_setup (const Active *active, const Slot *slot, KestrelDecodeOptions *options, KestrelFrameInfo *info)
{
  kestrel_decode_options_init (options);
  options->score_threshold = active->config.score_threshold;
  if (options->score_threshold < 0)
    options->score_threshold = kestrel_builtin_model_get_score_threshold (active->config.model);
  info->width = slot->width;
  info->height = slot->height;
  info->geometry = slot->geometry;
}

/* Below FP32: runs item `item` of `plan` again on the FP32 plan, decodes it
 * the same way and publishes how the two frames' detections agree. The
 * FP32 run is not counted in the frame's inference time: it is the price
 * of watching the quantisation, paid once every agreement_interval frames. */
static void
check_agreement (KestrelEngine *self, Active *active, KestrelPlan *plan, guint item, const Slot *slot)
{
  g_autoptr(GError) error = NULL;
  KestrelDecodeOptions options;
  KestrelFrameInfo info;
  KestrelAgreement agreement;

  _kestrel_engine_copy_item (plan, item, active->fp32, 0);
  kestrel_plan_run (active->fp32);
  decode_setup (active, slot, &options, &info);
  kestrel_detections_clear (active->fp32_detections);
  if (!kestrel_task_decoder_decode_plan_item (active->decoder, active->fp32, 0, &info, &options,
                                              active->fp32_detections, &error))
    {
      _kestrel_engine_post_event (self, KESTREL_ENGINE_EVENT_SOURCE_ERROR,
                                  "decoding frame %" G_GUINT64_FORMAT " at FP32: %s", slot->index, error->message);
      return;
    }
  kestrel_agreement_compare (active->fp32_detections, slot->detections, &agreement);
  kestrel_metrics_record_agreement (self->metrics, &agreement);
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
  decode_setup (active, slot, &options, &info);
  if (!kestrel_task_decoder_decode_plan_item (active->decoder, plan, item, &info, &options,
                                              slot->detections, &error))
    {
      kestrel_metrics_frame_dropped (self->metrics);
      _kestrel_engine_post_event (self, KESTREL_ENGINE_EVENT_SOURCE_ERROR, "decoding frame %" G_GUINT64_FORMAT ": %s",
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
  KestrelPlan *staging = _kestrel_engine_active_staging (active);
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
          _kestrel_engine_copy_item (staging, done + i, plan, i);

      t2 = kestrel_stats_now_ns ();
      kestrel_plan_run (plan);
      t3 = kestrel_stats_now_ns ();

      for (guint i = 0; i < k; i++)
        {
          if (!finish_frame (self, active, plan, i, &self->slots[done + i], t3 - t2, (t3 - t2) / k))
            continue;
          if (active->fp32 != NULL && active->config.agreement_interval > 0
              && self->frames % active->config.agreement_interval == 0)
            check_agreement (self, active, plan, i, &self->slots[done + i]);
          if (active->reference != NULL && active->config.canary_interval > 0
              && canary_message == NULL && self->frames % active->config.canary_interval == 0)
            {
              if (_kestrel_engine_canary_check (self, active, plan, i, &canary_message))
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
    _kestrel_engine_rollback (self, canary_message);
  else if (canary_passed)
    {
      g_mutex_lock (&self->lock);
      if (!self->has_last_good || _kestrel_engine_needs_new_plan (&self->last_good, &active->config))
        {
          kestrel_engine_config_copy (&self->last_good, &active->config);
          self->has_last_good = TRUE;
        }
      g_mutex_unlock (&self->lock);
    }
}

gpointer
_kestrel_engine_worker_main (gpointer data)
{
  KestrelEngine *self = data;
  gint64 next_frame_us = 0;

  g_mutex_lock (&self->lock);
  while (!self->quit)
    {
      _kestrel_engine_apply_pending (self);

      /* A batch is due when full or when its oldest frame has waited long
       * enough; collected frames also run before anything that would hold
       * them (a pause, the source's end, a new plan waiting to go in). */
      if (self->n_collected > 0
          && (kestrel_batcher_is_ready (self->batcher, g_get_monotonic_time ())
              || self->n_collected >= _kestrel_engine_active_max_batch (self->active)
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
          _kestrel_engine_follow_frame_size (self, active, frame.image.width, frame.image.height);
          stage_frame (self, active, &frame, t0);
          break;
        case KESTREL_FRAME_ERROR:
          if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              kestrel_metrics_frame_dropped (self->metrics);
              _kestrel_engine_post_event (self, KESTREL_ENGINE_EVENT_SOURCE_ERROR, "%s", error->message);
            }
          break;
        case KESTREL_FRAME_AGAIN:
          /* A still that has not changed: no frame, no cost. */
          again_us = frame.pts_us;
          break;
        case KESTREL_FRAME_END:
        default:
          _kestrel_engine_post_event (self, KESTREL_ENGINE_EVENT_INFO, "source %s has no more frames",
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
