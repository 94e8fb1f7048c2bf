/* test-undecoded.c — models no task decoder plugin knows
 * (core/runtime/kestrel-generic-decoder.h) through the whole engine:
 * YOLOX-nano (tests/models, a 3-class detector head Kestrel has no decoder
 * for) runs, every frame is processed and none dropped, nothing is
 * detected, an INFO event says it runs undecoded, its output is
 * summarised (statistics), and the frame pool comes back whole; a model whose input is not a picture (the 1-channel
 * super-resolution network) fails to start with an error naming both
 * reasons.
 */
#include <string.h>

#include "kestrel-engine.h"
#include "kestrel-error.h"

#define WAIT_LIMIT_US (60 * G_USEC_PER_SEC)

static GPtrArray *infos;

static void
on_event (KestrelEngine *engine, int kind, const char *message, gpointer data)
{
  g_test_message ("event %s: %s", kestrel_engine_event_kind_name (kind), message);
  if (kind == KESTREL_ENGINE_EVENT_INFO)
    g_ptr_array_add (infos, g_strdup (message));
}

static char *
corpus_model (const char *name)
{
  return g_build_filename (TEST_SOURCE_ROOT, "tests", "models", name, NULL);
}

static void
test_runs_undecoded (void)
{
  g_autofree char *model = corpus_model ("yolox_nano.onnx");
  g_autoptr(KestrelEngine) engine = NULL;
  g_autoptr(GError) error = NULL;
  KestrelEngineConfig config;
  gint64 limit = g_get_monotonic_time () + WAIT_LIMIT_US;
  gboolean said = FALSE;

  infos = g_ptr_array_new_with_free_func (g_free);
  kestrel_engine_config_init (&config);
  g_free (config.model);
  config.model = g_strdup (model);
  config.threads = 2;
  engine = kestrel_engine_new (&config);
  kestrel_engine_config_clear (&config);
  g_signal_connect (engine, "event", G_CALLBACK (on_event), NULL);
  g_assert_true (kestrel_engine_start (engine, NULL, &error));
  g_assert_no_error (error);

  for (;;)
    {
      g_autoptr(KestrelMetricsSnapshot) snap = kestrel_engine_get_snapshot (engine);
      while (g_main_context_iteration (NULL, FALSE))
        ;
      for (guint i = 0; i < infos->len; i++)
        said |= strstr (g_ptr_array_index (infos, i), "running it undecoded") != NULL;
      if ((snap->frames_processed >= 5 && said) || g_get_monotonic_time () > limit)
        break;
      g_usleep (20000);
    }
  kestrel_engine_stop (engine);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  g_autoptr(KestrelMetricsSnapshot) snap = kestrel_engine_get_snapshot (engine);
  g_test_message ("%" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT " dropped", snap->frames_processed,
                  snap->frames_dropped);
  g_assert_true (said);
  g_assert_cmpuint (snap->frames_processed, >=, 5);
  g_assert_cmpuint (snap->frames_dropped, ==, 0);
  g_assert_cmpuint (snap->faces_seen, ==, 0);
  g_assert_cmpuint (kestrel_histogram_get_count (snap->stage_latency[KESTREL_STAGE_INFERENCE]), ==,
                    snap->frames_processed);
  g_assert_cmpuint (kestrel_engine_get_pool_outstanding (engine), ==, 0);

  /* What the outputs said, for the preview and kestrel-cli run: YOLOX's
   * one output of 3549 candidates is neither classes nor a map. */
  {
    g_autoptr(KestrelDetections) last = kestrel_engine_get_last_detections (engine);
    const KestrelOutputSummary *summary = kestrel_detections_get_summary (last);
    g_autofree char *text = NULL;

    g_assert_nonnull (summary);
    text = kestrel_output_summary_to_string (summary);
    g_test_message ("outputs: %s", text);
    g_assert_cmpint (summary->kind, ==, KESTREL_SUMMARY_STATISTICS);
    g_assert_cmpuint (summary->n_outputs, ==, 1);
    g_assert_cmpstr (summary->outputs[0].name, ==, "output");
    g_assert_cmpstr (summary->outputs[0].shape, ==, "1x3549x8");
    g_assert_cmpuint (summary->outputs[0].n_not_finite, ==, 0);
    g_assert_cmpfloat (summary->outputs[0].min, <=, summary->outputs[0].mean);
    g_assert_cmpfloat (summary->outputs[0].mean, <=, summary->outputs[0].max);
    g_assert_cmpfloat (summary->outputs[0].stddev, >, 0);
  }
  g_clear_pointer (&infos, g_ptr_array_unref);
}

static void
test_not_a_picture (void)
{
  g_autofree char *model = corpus_model ("superres_core.onnx");
  g_autoptr(KestrelEngine) engine = NULL;
  g_autoptr(GError) error = NULL;
  KestrelEngineConfig config;

  kestrel_engine_config_init (&config);
  g_free (config.model);
  config.model = g_strdup (model);
  engine = kestrel_engine_new (&config);
  kestrel_engine_config_clear (&config);
  g_assert_false (kestrel_engine_start (engine, NULL, &error));
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "no task decoder applies"));
  g_assert_nonnull (strstr (error->message, "3 channels"));
  g_assert_cmpint (kestrel_engine_get_state (engine), ==, KESTREL_ENGINE_STOPPED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/undecoded/runs", test_runs_undecoded);
  g_test_add_func ("/undecoded/not-a-picture", test_not_a_picture);
  return g_test_run ();
}
