/* test-metrics.c — counters, fps, histories and snapshots. */
#include <math.h>
#include <string.h>

#include "kestrel-metrics.h"

#define T0 ((gint64) 1000000000)   /* a monotonic time, in µs */

static void
fill_sample (KestrelSystemSample *s,
             gint64               time_us,
             double               process_cpu)
{
  memset (s, 0, sizeof *s);
  s->time_us = time_us;
  s->interval_s = 1.0;
  s->system_cpu_percent = 40.0;
  s->n_cores = 2;
  s->core_cpu_percent[0] = 30.0;
  s->core_cpu_percent[1] = 50.0;
  s->process_cpu_percent = process_cpu;
  s->process_cpu_time_ns = 123456789;
  s->rss_bytes = 50000000;
  s->memory_growth_mb_per_hour = NAN;
}

static void
test_metrics_empty (void)
{
  g_autoptr(KestrelMetrics) metrics = kestrel_metrics_new ();
  g_autoptr(KestrelMetricsSnapshot) s = kestrel_metrics_get_snapshot (metrics);

  g_assert_nonnull (s);
  g_assert_cmpuint (s->serial, ==, 1);
  g_assert_cmpuint (s->frames_processed, ==, 0);
  g_assert_cmpfloat (s->fps, ==, 0.0);
  g_assert_false (s->have_system);
  g_assert_false (s->have_pool);
  g_assert_cmpstr (s->config.level, ==, "");
  g_assert_cmpstr (s->config.model, ==, "");
  for (guint i = 0; i < KESTREL_N_STAGES; i++)
    g_assert_cmpuint (kestrel_histogram_get_count (s->stage_latency[i]), ==, 0);
  for (guint i = 0; i < KESTREL_N_SERIES; i++)
    {
      g_assert_cmpuint (kestrel_ring_get_length (s->history[i]), ==, 0);
      g_assert_cmpuint (kestrel_ring_get_capacity (s->history[i]), ==, 60);
    }

  g_assert_cmpstr (kestrel_stage_get_name (KESTREL_STAGE_INFERENCE), ==, "inference");
  g_assert_cmpstr (kestrel_series_get_name (KESTREL_SERIES_FPS), ==, "fps");
  {
    g_autoptr(GEnumClass) klass = g_type_class_ref (KESTREL_TYPE_STAGE);
    g_assert_cmpstr (g_enum_get_value (klass, KESTREL_STAGE_DECODE)->value_nick, ==, "decode");
  }
}

static void
test_metrics_counters (void)
{
  g_autoptr(KestrelMetrics) metrics = kestrel_metrics_new ();
  g_autoptr(KestrelMetricsSnapshot) before = NULL;
  g_autoptr(KestrelMetricsSnapshot) after = NULL;
  g_autoptr(KestrelMetricsSnapshot) reset = NULL;
  const KestrelMetricsConfig config = {
    .level = "full", .threads = 2, .precision = "int8",
    .budget_percent = 25, .batch = 1, .model = "blazeface-front",
  };

  kestrel_metrics_set_config (metrics, &config);
  for (guint i = 0; i < 10; i++)
    {
      kestrel_metrics_record_stage (metrics, KESTREL_STAGE_CAPTURE, 100000);
      kestrel_metrics_record_stage (metrics, KESTREL_STAGE_INFERENCE, 2000000);
      kestrel_metrics_frame_processed (metrics, T0 + i * 100000, 2500000, i % 2);
    }
  kestrel_metrics_frame_dropped (metrics);
  kestrel_metrics_frame_dropped (metrics);
  kestrel_metrics_publish (metrics, T0 + 1000000);
  before = kestrel_metrics_get_snapshot (metrics);

  g_assert_cmpuint (before->serial, ==, 2);
  g_assert_cmpint (before->time_us, ==, T0 + 1000000);
  g_assert_cmpuint (before->frames_processed, ==, 10);
  g_assert_cmpuint (before->frames_dropped, ==, 2);
  g_assert_cmpuint (before->faces_seen, ==, 5);
  g_assert_cmpuint (kestrel_histogram_get_count (before->stage_latency[KESTREL_STAGE_CAPTURE]), ==, 10);
  g_assert_cmpuint (kestrel_histogram_get_count (before->stage_latency[KESTREL_STAGE_PREPROCESS]), ==, 0);
  g_assert_cmpfloat_with_epsilon (kestrel_histogram_get_quantile (before->stage_latency[KESTREL_STAGE_INFERENCE], 0.5),
                                  0.002, 1e-12);
  g_assert_cmpuint (kestrel_histogram_get_count (before->frame_latency), ==, 10);
  g_assert_cmpstr (before->config.level, ==, "full");
  g_assert_cmpstr (before->config.precision, ==, "int8");
  g_assert_cmpstr (before->config.model, ==, "blazeface-front");
  g_assert_cmpuint (before->config.threads, ==, 2);
  g_assert_cmpuint (before->config.batch, ==, 1);
  g_assert_cmpfloat (before->config.budget_percent, ==, 25.0);

  /* A published snapshot never changes. */
  kestrel_metrics_record_stage (metrics, KESTREL_STAGE_CAPTURE, 100000);
  kestrel_metrics_frame_processed (metrics, T0 + 1100000, 1000, 3);
  kestrel_metrics_publish (metrics, T0 + 1200000);
  after = kestrel_metrics_get_snapshot (metrics);
  g_assert_cmpuint (before->frames_processed, ==, 10);
  g_assert_cmpuint (kestrel_histogram_get_count (before->stage_latency[KESTREL_STAGE_CAPTURE]), ==, 10);
  g_assert_cmpuint (after->frames_processed, ==, 11);
  g_assert_cmpuint (after->faces_seen, ==, 8);
  g_assert_cmpuint (after->serial, ==, 3);

  kestrel_metrics_reset (metrics);
  kestrel_metrics_publish (metrics, T0 + 1300000);
  reset = kestrel_metrics_get_snapshot (metrics);
  g_assert_cmpuint (reset->frames_processed, ==, 0);
  g_assert_cmpuint (reset->frames_dropped, ==, 0);
  g_assert_cmpuint (kestrel_histogram_get_count (reset->stage_latency[KESTREL_STAGE_CAPTURE]), ==, 0);
  g_assert_cmpstr (reset->config.model, ==, "blazeface-front");
}

static double
fps_at (KestrelMetrics *metrics,
        gint64          now)
{
  g_autoptr(KestrelMetricsSnapshot) s = NULL;

  kestrel_metrics_publish (metrics, now);
  s = kestrel_metrics_get_snapshot (metrics);
  return s->fps;
}

static void
test_metrics_fps (void)
{
  g_autoptr(KestrelMetrics) metrics = kestrel_metrics_new ();

  g_assert_cmpuint (kestrel_metrics_get_fps_window (metrics), ==, 2000);

  /* From the second frame on, before a whole window has passed. */
  kestrel_metrics_frame_processed (metrics, T0, 0, 0);
  g_assert_cmpfloat (fps_at (metrics, T0), ==, 0.0);
  kestrel_metrics_frame_processed (metrics, T0 + 100000, 0, 0);
  kestrel_metrics_frame_processed (metrics, T0 + 200000, 0, 0);
  g_assert_cmpfloat_with_epsilon (fps_at (metrics, T0 + 200000), 10.0, 1e-9);

  /* Steady 10 fps for five seconds: 20 frames in the 2 s window. */
  for (gint64 t = T0 + 300000; t <= T0 + 5000000; t += 100000)
    kestrel_metrics_frame_processed (metrics, t, 0, 0);
  g_assert_cmpfloat_with_epsilon (fps_at (metrics, T0 + 5000000), 10.0, 1e-9);

  /* The stream stops: the rate decays and reaches 0 after one window. */
  g_assert_cmpfloat_with_epsilon (fps_at (metrics, T0 + 6000000), 5.0, 1e-9);
  g_assert_cmpfloat (fps_at (metrics, T0 + 7000001), ==, 0.0);

  /* A shorter window. */
  kestrel_metrics_set_fps_window (metrics, 500);
  for (gint64 t = T0 + 8000000; t <= T0 + 10000000; t += 50000)
    kestrel_metrics_frame_processed (metrics, t, 0, 0);
  g_assert_cmpfloat_with_epsilon (fps_at (metrics, T0 + 10000000), 20.0, 1e-9);
}

static void
test_metrics_history (void)
{
  g_autoptr(KestrelMetrics) metrics = kestrel_metrics_new ();
  g_autoptr(KestrelMetricsSnapshot) s1 = NULL;
  g_autoptr(KestrelMetricsSnapshot) s2 = NULL;
  g_autoptr(KestrelMetricsSnapshot) s3 = NULL;
  KestrelSystemSample sample;
  KestrelRingSample point;

  /* One second of frames at 20 fps, 10 ms each, then a system sample. */
  for (guint i = 0; i < 20; i++)
    kestrel_metrics_frame_processed (metrics, T0 + i * 50000, 10000000, 1);
  fill_sample (&sample, T0 + 1000000, 33.0);
  kestrel_metrics_set_system_sample (metrics, &sample);
  kestrel_metrics_publish (metrics, T0 + 1000000);
  s1 = kestrel_metrics_get_snapshot (metrics);

  g_assert_true (s1->have_system);
  g_assert_cmpfloat (s1->system.process_cpu_percent, ==, 33.0);
  g_assert_cmpuint (s1->system.n_cores, ==, 2);
  g_assert_true (kestrel_ring_get_newest (s1->history[KESTREL_SERIES_PROCESS_CPU], &point));
  g_assert_cmpint (point.time_us, ==, T0 + 1000000);
  g_assert_cmpfloat (point.value, ==, 33.0);
  g_assert_true (kestrel_ring_get_newest (s1->history[KESTREL_SERIES_RSS], &point));
  g_assert_cmpfloat (point.value, ==, 50.0);
  g_assert_true (kestrel_ring_get_newest (s1->history[KESTREL_SERIES_FPS], &point));
  g_assert_cmpfloat_with_epsilon (point.value, 20.0, 1e-9);
  g_assert_true (kestrel_ring_get_newest (s1->history[KESTREL_SERIES_LATENCY_P50], &point));
  g_assert_cmpfloat_with_epsilon (point.value, 10.0, 1e-9);
  g_assert_true (kestrel_ring_get_newest (s1->history[KESTREL_SERIES_MEMORY_GROWTH], &point));
  g_assert_true (isnan (point.value));

  /* No new point: the next snapshot shares the same history copies. */
  kestrel_metrics_publish (metrics, T0 + 1100000);
  s2 = kestrel_metrics_get_snapshot (metrics);
  for (guint i = 0; i < KESTREL_N_SERIES; i++)
    g_assert_true (s2->history[i] == s1->history[i]);

  /* A point without frames: latency unknown for that second. */
  kestrel_metrics_push_history (metrics, T0 + 2000000);
  kestrel_metrics_publish (metrics, T0 + 2000000);
  s3 = kestrel_metrics_get_snapshot (metrics);
  g_assert_true (s3->history[KESTREL_SERIES_FPS] != s1->history[KESTREL_SERIES_FPS]);
  g_assert_cmpuint (kestrel_ring_get_length (s3->history[KESTREL_SERIES_FPS]), ==, 2);
  g_assert_cmpuint (kestrel_ring_get_length (s1->history[KESTREL_SERIES_FPS]), ==, 1);
  g_assert_true (kestrel_ring_get_newest (s3->history[KESTREL_SERIES_LATENCY_P95], &point));
  g_assert_true (isnan (point.value));
  /* The system series repeat the last sample. */
  g_assert_true (kestrel_ring_get_newest (s3->history[KESTREL_SERIES_PROCESS_CPU], &point));
  g_assert_cmpfloat (point.value, ==, 33.0);
}

/* Checks against FP32: the last one in the snapshot, their mean percent a
 * history point, NAN for a point without checks; clearing hides it. */
static void
test_metrics_agreement (void)
{
  g_autoptr(KestrelMetrics) metrics = kestrel_metrics_new ();
  g_autoptr(KestrelMetricsSnapshot) s0 = kestrel_metrics_get_snapshot (metrics);
  g_autoptr(KestrelMetricsSnapshot) s1 = NULL;
  g_autoptr(KestrelMetricsSnapshot) s2 = NULL;
  KestrelAgreement none = { 0, 0, 0, NAN, 0 }, half = { 2, 1, 0, 0.5, 0.25 }, both = { 1, 1, 1, 1.0, 0 };
  KestrelRingSample point;

  g_assert_false (s0->have_agreement);
  g_assert_cmpuint (s0->agreement_checks, ==, 0);
  g_assert_cmpfloat (s0->calibration_progress, <, 0);
  g_assert_false (s0->calibrating_int4);

  /* Percent: IoU summed over matched faces, over the faces either side found. */
  g_assert_cmpfloat (kestrel_agreement_get_percent (&none), ==, 100.0);
  g_assert_cmpfloat (kestrel_agreement_get_percent (&half), ==, 25.0);
  g_assert_cmpfloat (kestrel_agreement_get_percent (&both), ==, 50.0);

  kestrel_metrics_record_agreement (metrics, &half);
  kestrel_metrics_record_agreement (metrics, &both);
  kestrel_metrics_set_calibrating_int4 (metrics, TRUE);
  kestrel_metrics_set_calibration_progress (metrics, 0.5);
  kestrel_metrics_push_history (metrics, T0 + 1000000);
  kestrel_metrics_push_history (metrics, T0 + 2000000);
  kestrel_metrics_publish (metrics, T0 + 2000000);
  s1 = kestrel_metrics_get_snapshot (metrics);
  g_assert_true (s1->have_agreement);
  g_assert_cmpuint (s1->agreement_checks, ==, 2);
  g_assert_cmpuint (s1->agreement.fp32_faces, ==, 1);
  g_assert_cmpuint (s1->agreement.extra_faces, ==, 1);
  g_assert_cmpfloat (s1->calibration_progress, ==, 0.5);
  /* The window's subtitle says which precision is being calibrated for. */
  g_assert_true (s1->calibrating_int4);
  g_assert_true (kestrel_ring_get (s1->history[KESTREL_SERIES_FP32_AGREEMENT], 0, &point));
  g_assert_cmpfloat (point.value, ==, 37.5);
  g_assert_true (kestrel_ring_get_newest (s1->history[KESTREL_SERIES_FP32_AGREEMENT], &point));
  g_assert_true (isnan (point.value));

  kestrel_metrics_record_agreement (metrics, NULL);
  kestrel_metrics_set_calibration_progress (metrics, -1);
  kestrel_metrics_publish (metrics, T0 + 2100000);
  s2 = kestrel_metrics_get_snapshot (metrics);
  g_assert_false (s2->have_agreement);
  g_assert_cmpuint (s2->agreement_checks, ==, 2);
  g_assert_cmpfloat (s2->calibration_progress, <, 0);
}

static void
test_metrics_history_capacity (void)
{
  g_autoptr(KestrelMetrics) metrics = kestrel_metrics_new ();
  g_autoptr(KestrelMetricsSnapshot) s = NULL;
  KestrelSystemSample sample;
  KestrelRingSample point;

  for (guint i = 0; i < 100; i++)
    {
      fill_sample (&sample, T0 + i * G_USEC_PER_SEC, i);
      kestrel_metrics_set_system_sample (metrics, &sample);
    }
  kestrel_metrics_publish (metrics, T0 + 100 * G_USEC_PER_SEC);
  s = kestrel_metrics_get_snapshot (metrics);
  g_assert_cmpuint (kestrel_ring_get_length (s->history[KESTREL_SERIES_PROCESS_CPU]), ==, 60);
  g_clear_pointer (&s, kestrel_metrics_snapshot_unref);

  /* Shrinking keeps the newest; the bounds are 1 and 600. */
  kestrel_metrics_set_history_capacity (metrics, 10);
  kestrel_metrics_publish (metrics, T0 + 100 * G_USEC_PER_SEC);
  s = kestrel_metrics_get_snapshot (metrics);
  g_assert_cmpuint (kestrel_ring_get_length (s->history[KESTREL_SERIES_PROCESS_CPU]), ==, 10);
  g_assert_true (kestrel_ring_get (s->history[KESTREL_SERIES_PROCESS_CPU], 0, &point));
  g_assert_cmpfloat (point.value, ==, 90.0);

  kestrel_metrics_set_history_capacity (metrics, 5000);
  g_assert_cmpuint (kestrel_metrics_get_history_capacity (metrics), ==, 600);
  g_object_set (metrics, "history-capacity", 120, NULL);
  g_assert_cmpuint (kestrel_metrics_get_history_capacity (metrics), ==, 120);
}

static void
test_metrics_pool (void)
{
  g_autoptr(KestrelMetrics) metrics = kestrel_metrics_new ();
  g_autoptr(KestrelPool) pool = kestrel_pool_new (0);
  g_autoptr(KestrelMetricsSnapshot) s = NULL;
  gpointer buffer = kestrel_pool_alloc (pool, 1000, "test");

  kestrel_metrics_set_pool (metrics, pool);
  kestrel_metrics_publish (metrics, T0);
  s = kestrel_metrics_get_snapshot (metrics);
  g_assert_true (s->have_pool);
  g_assert_cmpuint (s->pool.buffers_in_use, ==, 1);
  g_assert_cmpuint (s->pool.bytes_in_use, ==, 1000);
  g_assert_cmpuint (s->pool.misses, ==, 1);
  kestrel_pool_free (pool, buffer);

  kestrel_metrics_set_pool (metrics, NULL);
  g_clear_pointer (&s, kestrel_metrics_snapshot_unref);
  kestrel_metrics_publish (metrics, T0);
  s = kestrel_metrics_get_snapshot (metrics);
  g_assert_false (s->have_pool);
}

/* Readers on other threads take snapshots while the writer records and
 * publishes: each sees a consistent, ever newer snapshot. */
typedef struct {
  KestrelMetrics *metrics;
  gint            stop;
  guint           reads;
} ReaderData;

static gpointer
reader_thread (gpointer user_data)
{
  ReaderData *data = user_data;
  guint64 last_serial = 0;
  guint reads = 0;

  while (!g_atomic_int_get (&data->stop))
    {
      g_autoptr(KestrelMetricsSnapshot) s = kestrel_metrics_get_snapshot (data->metrics);

      g_assert_cmpuint (s->serial, >=, last_serial);
      last_serial = s->serial;
      /* Frames and the frame-latency histogram are published together. */
      g_assert_cmpuint (kestrel_histogram_get_count (s->frame_latency), ==, s->frames_processed);
      g_assert_cmpstr (s->config.model, !=, NULL);
      reads++;
    }
  g_atomic_int_add (&data->reads, reads);
  return NULL;
}

static void
test_metrics_concurrent_readers (void)
{
  g_autoptr(KestrelMetrics) metrics = kestrel_metrics_new ();
  ReaderData data = { metrics, 0, 0 };
  GThread *readers[3];
  KestrelSystemSample sample;

  for (guint i = 0; i < G_N_ELEMENTS (readers); i++)
    readers[i] = g_thread_new ("reader", reader_thread, &data);

  for (guint i = 0; i < 3000; i++)
    {
      gint64 now = T0 + i * 1000;
      KestrelMetricsConfig config = { "full", 2, "fp32", 0, 1, i % 2 ? "a" : "b" };

      kestrel_metrics_record_stage (metrics, KESTREL_STAGE_INFERENCE, 1000000);
      kestrel_metrics_frame_processed (metrics, now, 1000000, 1);
      if (i % 10 == 0)
        {
          fill_sample (&sample, now, 10);
          kestrel_metrics_set_system_sample (metrics, &sample);
          kestrel_metrics_set_config (metrics, &config);
        }
      kestrel_metrics_publish (metrics, now);
    }

  g_atomic_int_set (&data.stop, 1);
  for (guint i = 0; i < G_N_ELEMENTS (readers); i++)
    g_thread_join (readers[i]);
  g_test_message ("%u snapshot reads", data.reads);
  g_assert_cmpuint (data.reads, >, 0);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/metrics/empty", test_metrics_empty);
  g_test_add_func ("/metrics/counters", test_metrics_counters);
  g_test_add_func ("/metrics/fps", test_metrics_fps);
  g_test_add_func ("/metrics/history", test_metrics_history);
  g_test_add_func ("/metrics/agreement", test_metrics_agreement);
  g_test_add_func ("/metrics/history-capacity", test_metrics_history_capacity);
  g_test_add_func ("/metrics/pool", test_metrics_pool);
  g_test_add_func ("/metrics/concurrent-readers", test_metrics_concurrent_readers);

  return g_test_run ();
}
