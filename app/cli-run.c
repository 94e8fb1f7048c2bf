/* kestrel-cli run — the engine, headless: a JSON (or text) status line per
 * second, events as they happen, and a summary at the end (after
 * --duration, or Ctrl-C). */
#include "config.h"

#include <glib-unix.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kestrel-cli.h"
#include "kestrel-engine.h"
#include "kestrel-sampler.h"

typedef struct {
  KestrelEngine *engine;
  GMainLoop *loop;
  gboolean json;
  gint64 start_us;
  guint64 cpu_start_ns;
  guint64 rss_start;
} Run;

static void
on_event (KestrelEngine *engine, int kind, const char *message, gpointer data)
{
  Run *run = data;

  if (run->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "event");
      json_builder_add_string_value (b, kestrel_engine_event_kind_name (kind));
      json_builder_set_member_name (b, "message");
      json_builder_add_string_value (b, message);
      json_builder_end_object (b);
      g_autoptr(JsonNode) root = json_builder_get_root (b);
      kestrel_cli_print_json (root, FALSE);
    }
  else
    fprintf (stderr, "kestrel-cli run: %s: %s\n", kestrel_engine_event_kind_name (kind), message);
}

static void
add_latency (JsonBuilder *b, const char *name, KestrelHistogram *h)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_object (b);
  kestrel_cli_json_add_double (b, "p50_ms", kestrel_histogram_get_quantile (h, 0.50) * 1e3);
  kestrel_cli_json_add_double (b, "p95_ms", kestrel_histogram_get_quantile (h, 0.95) * 1e3);
  kestrel_cli_json_add_double (b, "p99_ms", kestrel_histogram_get_quantile (h, 0.99) * 1e3);
  json_builder_set_member_name (b, "count");
  json_builder_add_int_value (b, kestrel_histogram_get_count (h));
  json_builder_end_object (b);
}

static gboolean
print_status (gpointer data)
{
  Run *run = data;
  g_autoptr(KestrelMetricsSnapshot) snap = kestrel_engine_get_snapshot (run->engine);
  double elapsed = (g_get_monotonic_time () - run->start_us) / 1e6;
  double cpu = snap->have_system ? snap->system.process_cpu_percent : (double) NAN;
  double rss_mb = snap->have_system ? snap->system.rss_bytes / 1e6 : (double) NAN;

  if (run->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      kestrel_cli_json_add_double (b, "time_s", elapsed);
      json_builder_set_member_name (b, "frames");
      json_builder_add_int_value (b, snap->frames_processed);
      json_builder_set_member_name (b, "dropped");
      json_builder_add_int_value (b, snap->frames_dropped);
      json_builder_set_member_name (b, "faces_seen");
      json_builder_add_int_value (b, snap->faces_seen);
      kestrel_cli_json_add_double (b, "fps", snap->fps);
      kestrel_cli_json_add_double (b, "inference_p50_ms",
                                   kestrel_histogram_get_quantile (snap->stage_latency[KESTREL_STAGE_INFERENCE], 0.5) * 1e3);
      kestrel_cli_json_add_double (b, "frame_latency_p50_ms", kestrel_histogram_get_quantile (snap->frame_latency, 0.5) * 1e3);
      kestrel_cli_json_add_double (b, "process_cpu_percent", cpu);
      kestrel_cli_json_add_double (b, "rss_mb", rss_mb);
      json_builder_set_member_name (b, "batch");
      json_builder_add_int_value (b, kestrel_engine_get_batch_size (run->engine));
      json_builder_set_member_name (b, "level");
      json_builder_add_string_value (b, snap->config.level);
      json_builder_end_object (b);
      g_autoptr(JsonNode) root = json_builder_get_root (b);
      kestrel_cli_print_json (root, FALSE);
    }
  else
    printf ("%6.1f s  %8" G_GUINT64_FORMAT " frames  %6.1f fps  inference p50 %.2f ms  cpu %5.1f%%  rss %.1f MB  batch %u  [%s]\n",
            elapsed, snap->frames_processed, snap->fps,
            kestrel_histogram_get_quantile (snap->stage_latency[KESTREL_STAGE_INFERENCE], 0.5) * 1e3,
            cpu, rss_mb, kestrel_engine_get_batch_size (run->engine), snap->config.level);
  fflush (stdout);
  return G_SOURCE_CONTINUE;
}

static gboolean
quit_loop (gpointer data)
{
  Run *run = data;

  g_main_loop_quit (run->loop);
  return G_SOURCE_REMOVE;
}

static void
print_summary (Run *run)
{
  g_autoptr(KestrelMetricsSnapshot) snap = kestrel_engine_get_snapshot (run->engine);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  guint64 cpu_end = 0, rss_end = 0;
  double wall = (g_get_monotonic_time () - run->start_us) / 1e6;

  kestrel_process_usage_read (&cpu_end, &rss_end, NULL);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "summary");
  json_builder_begin_object (b);
  kestrel_cli_json_add_double (b, "duration_s", wall);
  json_builder_set_member_name (b, "frames");
  json_builder_add_int_value (b, snap->frames_processed);
  json_builder_set_member_name (b, "dropped");
  json_builder_add_int_value (b, snap->frames_dropped);
  json_builder_set_member_name (b, "faces_seen");
  json_builder_add_int_value (b, snap->faces_seen);
  json_builder_set_member_name (b, "latency");
  json_builder_begin_object (b);
  for (int stage = 0; stage < KESTREL_N_STAGES; stage++)
    add_latency (b, kestrel_stage_get_name (stage), snap->stage_latency[stage]);
  add_latency (b, "frame", snap->frame_latency);
  json_builder_end_object (b);
  kestrel_cli_json_add_double (b, "average_process_cpu_percent", (cpu_end - run->cpu_start_ns) / 1e9 / wall * 100.0);
  kestrel_cli_json_add_double (b, "rss_start_mb", run->rss_start / 1e6);
  kestrel_cli_json_add_double (b, "rss_end_mb", rss_end / 1e6);
  kestrel_cli_json_add_double (b, "rss_slope_mb_per_hour", snap->have_system ? snap->system.memory_growth_mb_per_hour : (double) NAN);
  json_builder_set_member_name (b, "pool_outstanding_buffers");
  json_builder_add_int_value (b, kestrel_engine_get_pool_outstanding (run->engine));
  json_builder_set_member_name (b, "level");
  json_builder_add_string_value (b, snap->config.level);
  json_builder_end_object (b);
  json_builder_end_object (b);

  g_autoptr(JsonNode) root = json_builder_get_root (b);
  kestrel_cli_print_json (root, !run->json);
}

int
kestrel_cli_run (int argc, char **argv)
{
  g_autofree char *source = NULL, *model = NULL, *level_name = NULL, *metrics_addr = NULL;
  g_autofree char *state_file = NULL, *precision_name = NULL;
  int threads = 0, batch = 0, canary = 0, batch_wait = -1, batch_latency = 0;
  double budget = -1, duration = 0;
  gboolean json = FALSE, start_paused = FALSE;
  GOptionEntry entries[] = {
    { "source", 's', 0, G_OPTION_ARG_STRING, &source, "Frame source (images:DIR, file:VIDEO, camera:, videotest:, synthetic:)", "SPEC" },
    { "model", 'm', 0, G_OPTION_ARG_STRING, &model, "front, back or FILE.onnx (default front)", "MODEL" },
    { "level", 'l', 0, G_OPTION_ARG_STRING, &level_name, "scalar, simd, parallel or full (default full)", "LEVEL" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Compute threads (default: all cores)", "N" },
    { "precision", 'p', 0, G_OPTION_ARG_STRING, &precision_name, "fp32 (default), fp16, int8, int4", "P" },
    { "budget", 'b', 0, G_OPTION_ARG_DOUBLE, &budget, "CPU budget in percent of one core (default: no throttling)", "PCT" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Frames per inference, at most 16 (default 1; with --batch-latency the largest batch, default 8)", "N" },
    { "batch-wait", 0, 0, G_OPTION_ARG_INT, &batch_wait, "Run a partial batch once its first frame has waited this long (default 20)", "MS" },
    { "batch-latency", 0, 0, G_OPTION_ARG_INT, &batch_latency, "Adaptive batching: the largest batch whose frames stay within this latency", "MS" },
    { "canary", 0, 0, G_OPTION_ARG_INT, &canary, "Check against the scalar reference every N frames (0: off)", "N" },
    { "duration", 'd', 0, G_OPTION_ARG_DOUBLE, &duration, "Stop after this many seconds (default: until Ctrl-C)", "SECONDS" },
    { "metrics-addr", 0, 0, G_OPTION_ARG_STRING, &metrics_addr, "Serve Prometheus /metrics here (e.g. 127.0.0.1:9464)", "HOST:PORT" },
    { "state-file", 0, 0, G_OPTION_ARG_FILENAME, &state_file, "Marks a run in progress, for safe mode after a crash", "FILE" },
    { "start-paused", 0, 0, G_OPTION_ARG_NONE, &start_paused, "Pause right after start (measures what an idle Kestrel costs)", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "JSON lines instead of text", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- run the pipeline headless");
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelEngine) engine = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  KestrelEngineConfig config;
  Run run = { 0 };

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return kestrel_cli_fail ("run", error->message, 2);
  if (threads < 0 || batch < 0 || canary < 0 || duration < 0 || batch_latency < 0)
    return kestrel_cli_fail ("run", "--threads, --batch, --batch-latency, --canary and --duration "
                                    "must not be negative", 2);
  if (batch == 0)
    batch = batch_latency > 0 ? 8 : 1;
  if (batch > KESTREL_ENGINE_MAX_BATCH)
    return kestrel_cli_fail ("run", "--batch must be at most " G_STRINGIFY (KESTREL_ENGINE_MAX_BATCH), 2);

  kestrel_engine_config_init (&config);
  if (source != NULL)
    {
      g_free (config.source);
      config.source = g_strdup (source);
    }
  if (model != NULL)
    {
      g_free (config.model);
      config.model = g_strdup (model);
    }
  if (!kestrel_cli_parse_level (level_name, &config.level, &error))
    return kestrel_cli_fail ("run", error->message, 2);
  if (precision_name != NULL && !kestrel_precision_from_name (precision_name, &config.precision))
    return kestrel_cli_fail ("run", "unknown precision (expected fp32, fp16, int8 or int4)", 2);
  config.threads = threads;
  config.batch = batch;
  if (batch_wait >= 0)
    config.batch_wait_ms = batch_wait;
  config.batch_latency_ms = batch_latency;
  config.canary_interval = canary;
  if (budget >= 0)
    {
      if (budget <= 0 || budget > 100.0 * g_get_num_processors ())
        return kestrel_cli_fail ("run", "--budget must be above 0 and at most 100 per core", 2);
      config.throttle = KESTREL_THROTTLE_MODE_BUDGET;
      config.budget = budget;
    }

  loop = g_main_loop_new (NULL, FALSE);
  engine = kestrel_engine_new (&config);
  kestrel_engine_config_clear (&config);
  run.json = json;
  run.loop = loop;
  run.engine = engine;
  g_signal_connect (run.engine, "event", G_CALLBACK (on_event), &run);

  kestrel_process_usage_read (&run.cpu_start_ns, &run.rss_start, NULL);
  run.start_us = g_get_monotonic_time ();
  if (!kestrel_engine_start (run.engine, state_file, &error))
    return kestrel_cli_fail ("run", error->message, 1);
  if (start_paused)
    kestrel_engine_pause (run.engine);
  if (metrics_addr != NULL)
    {
      g_autofree char *url = NULL;
      if (!kestrel_engine_serve_metrics (run.engine, metrics_addr, &url, &error))
        {
          kestrel_engine_stop (run.engine);
          return kestrel_cli_fail ("run", error->message, 1);
        }
      fprintf (stderr, "kestrel-cli run: serving metrics at %s\n", url);
    }

  guint status_id = g_timeout_add_seconds (1, print_status, &run);
  guint int_id = g_unix_signal_add (SIGINT, quit_loop, &run);
  guint term_id = g_unix_signal_add (SIGTERM, quit_loop, &run);
  guint duration_id = duration > 0 ? g_timeout_add ((guint) (duration * 1000), quit_loop, &run) : 0;

  g_main_loop_run (run.loop);

  g_source_remove (status_id);
  g_source_remove (int_id);
  g_source_remove (term_id);
  if (duration_id != 0 && g_main_context_find_source_by_id (NULL, duration_id) != NULL)
    g_source_remove (duration_id);

  kestrel_engine_stop (run.engine);
  /* Deliver the events the threads posted before they stopped. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  print_summary (&run);
  return 0;
}
