/* kestrel-cli run — the engine, headless: a JSON (or text) status line per
 * second, events as they happen, and a summary at the end (after
 * --duration, or Ctrl-C). */
#include "config.h"

#include <glib-unix.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli-run-storm.h"
#include "kestrel-cli.h"
#include "kestrel-engine.h"
#include "kestrel-error.h"
#include "kestrel-sampler.h"

typedef struct {
  KestrelEngine *engine;
  GMainLoop *loop;
  gboolean json;
  gint64 start_us;
  guint64 cpu_start_ns;
  guint64 rss_start;
  guint status_id;
  guint sigint_id;
  guint sigterm_id;
  guint duration_id;
  KestrelCliStorm *storm;     /* --reconfigure-every, or NULL */
  gint n_requested;           /* the storm's requests once it stopped; -1: no storm */
  guint n_events[KESTREL_ENGINE_EVENT_SAFE_MODE + 1];
} Run;

static void
on_event (KestrelEngine *engine, int kind, const char *message, gpointer data)
{
  Run *run = data;

  if ((guint) kind < G_N_ELEMENTS (run->n_events))
    run->n_events[kind]++;
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
  double cpu, rss_mb;
  /* A model no decoder understands: what its outputs said last. */
  g_autoptr(KestrelDetections) last = kestrel_engine_get_last_detections (run->engine);
  const KestrelOutputSummary *summary = last != NULL ? kestrel_detections_get_summary (last) : NULL;
  g_autofree char *outputs = summary != NULL ? kestrel_output_summary_to_string (summary) : NULL;

  if (snap->have_system)
    {
      cpu = snap->system.process_cpu_percent;
      rss_mb = snap->system.rss_bytes / 1e6;
    }
  else
    {
      /* Before the sampler's first interval: the average since the start,
       * read here, rather than a status line of NaNs. */
      guint64 cpu_ns = 0, rss = 0;

      kestrel_process_usage_read (&cpu_ns, &rss, NULL);
      cpu = elapsed > 0 ? (cpu_ns - run->cpu_start_ns) / 1e9 / elapsed * 100.0 : 0.0;
      rss_mb = rss / 1e6;
    }

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
      if (summary != NULL)
        {
          json_builder_set_member_name (b, "outputs_kind");
          json_builder_add_string_value (b, kestrel_summary_kind_name (summary->kind));
          json_builder_set_member_name (b, "outputs");
          json_builder_add_string_value (b, outputs);
        }
      json_builder_end_object (b);
      g_autoptr(JsonNode) root = json_builder_get_root (b);
      kestrel_cli_print_json (root, FALSE);
    }
  else
    printf ("%6.1f s  %8" G_GUINT64_FORMAT " frames  %6.1f fps  inference p50 %.2f ms  cpu %5.1f%%  rss %.1f MB  batch %u  [%s]\n",
            elapsed, snap->frames_processed, snap->fps,
            kestrel_histogram_get_quantile (snap->stage_latency[KESTREL_STAGE_INFERENCE], 0.5) * 1e3,
            cpu, rss_mb, kestrel_engine_get_batch_size (run->engine), snap->config.level);
  if (outputs != NULL)
    printf ("         outputs: %s\n", outputs);
  fflush (stdout);
  return G_SOURCE_CONTINUE;
}

/* The sources stay until the loop has ended, and each says whether it is
 * still there: removing one that had removed itself was the
 * "Source ID N was not found" critical on Ctrl-C. */
static gboolean
on_signal (gpointer data)
{
  Run *run = data;

  g_main_loop_quit (run->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_duration (gpointer data)
{
  Run *run = data;

  run->duration_id = 0;
  g_main_loop_quit (run->loop);
  return G_SOURCE_REMOVE;
}

/* A JSON number member, or NaN when it is null (not known). */
static double
member_double (JsonObject *o, const char *name)
{
  JsonNode *node = json_object_get_member (o, name);

  return node != NULL && !JSON_NODE_HOLDS_NULL (node) ? json_node_get_double (node) : (double) NAN;
}

static void
print_summary_text (JsonObject *s)
{
  JsonObject *latency = json_object_get_object_member (s, "latency");
  double growth = member_double (s, "rss_slope_mb_per_hour");
  g_autoptr(GList) stages = json_object_get_members (latency);

  printf ("\nSummary: %.1f s, %" G_GINT64_FORMAT " frames processed, %" G_GINT64_FORMAT
          " dropped, %" G_GINT64_FORMAT " faces seen, level %s\n",
          member_double (s, "duration_s"), json_object_get_int_member (s, "frames"),
          json_object_get_int_member (s, "dropped"), json_object_get_int_member (s, "faces_seen"),
          json_object_get_string_member (s, "level"));
  printf ("Latency (ms)       p50       p95       p99    count\n");
  for (GList *l = stages; l != NULL; l = l->next)
    {
      JsonObject *stage = json_object_get_object_member (latency, l->data);

      printf ("  %-12s %9.3f %9.3f %9.3f %8" G_GINT64_FORMAT "\n", (const char *) l->data,
              member_double (stage, "p50_ms"), member_double (stage, "p95_ms"),
              member_double (stage, "p99_ms"), json_object_get_int_member (stage, "count"));
    }
  printf ("CPU: %.1f%% of one core on average\n", member_double (s, "average_process_cpu_percent"));
  printf ("Memory: resident %.1f MB at the start, %.1f MB at the end", member_double (s, "rss_start_mb"),
          member_double (s, "rss_end_mb"));
  if (isfinite (growth))
    printf (", growing %.2f MB per hour\n", growth);
  else
    printf (" (growth not known yet: the run was too short)\n");
  printf ("Buffers still out of the pool: %" G_GINT64_FORMAT "\n",
          json_object_get_int_member (s, "pool_outstanding_buffers"));
  printf ("Reconfigurations: %" G_GINT64_FORMAT " applied", json_object_get_int_member (s, "reconfigurations"));
  if (json_object_has_member (s, "reconfigurations_requested"))
    printf (" of %" G_GINT64_FORMAT " asked for", json_object_get_int_member (s, "reconfigurations_requested"));
  printf (", %" G_GINT64_FORMAT " rollbacks\n", json_object_get_int_member (s, "rollbacks"));
  {
    JsonObject *events = json_object_get_object_member (s, "events");
    g_autoptr(GList) kinds = json_object_get_members (events);

    printf ("Events:");
    for (GList *l = kinds; l != NULL; l = l->next)
      printf (" %s %" G_GINT64_FORMAT, (const char *) l->data, json_object_get_int_member (events, l->data));
    printf ("\n");
  }
  fflush (stdout);
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
  /* Applied or refused by the engine; asked for by --reconfigure-every
   * (more than applied only when a request replaced one still queued). */
  json_builder_set_member_name (b, "reconfigurations");
  json_builder_add_int_value (b, kestrel_engine_get_n_reconfigurations (run->engine));
  if (run->n_requested >= 0)
    {
      json_builder_set_member_name (b, "reconfigurations_requested");
      json_builder_add_int_value (b, run->n_requested);
    }
  json_builder_set_member_name (b, "rollbacks");
  json_builder_add_int_value (b, snap->rollbacks);
  json_builder_set_member_name (b, "events");
  json_builder_begin_object (b);
  for (guint kind = 0; kind < G_N_ELEMENTS (run->n_events); kind++)
    {
      json_builder_set_member_name (b, kestrel_engine_event_kind_name (kind));
      json_builder_add_int_value (b, run->n_events[kind]);
    }
  json_builder_end_object (b);
  json_builder_end_object (b);
  json_builder_end_object (b);

  g_autoptr(JsonNode) root = json_builder_get_root (b);
  if (run->json)
    kestrel_cli_print_json (root, FALSE);
  else
    print_summary_text (json_object_get_object_member (json_node_get_object (root), "summary"));
}

int
kestrel_cli_run (int argc, char **argv)
{
  g_autofree char *source = NULL, *model = NULL, *level_name = NULL, *metrics_addr = NULL;
  g_autofree char *state_file = NULL, *precision_name = NULL;
  g_auto(GStrv) input_shapes = NULL, storm_sources = NULL;
  double reconfigure_every = 0, checkpoint_every = 0;
  int seed = 1;
  int threads = 0, batch = 0, canary = 0, batch_wait = -1, batch_latency = 0;
  double budget = 0, duration = 0;
  gboolean json = FALSE, start_paused = FALSE, metrics_remote = FALSE;
  GOptionEntry entries[] = {
    { "source", 's', 0, G_OPTION_ARG_STRING, &source, "Frame source (images:DIR, file:VIDEO, camera:, videotest:, synthetic:)", "SPEC" },
    { "model", 'm', 0, G_OPTION_ARG_STRING, &model, "front, back or FILE.onnx (default front)", "MODEL" },
    { "input-shape", 0, 0, G_OPTION_ARG_STRING_ARRAY, &input_shapes, KESTREL_CLI_INPUT_SHAPE_HELP, "NAME=SHAPE" },
    { "level", 'l', 0, G_OPTION_ARG_STRING, &level_name, "scalar, simd, parallel or full (default full)", "LEVEL" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Compute threads (default: all cores)", "N" },
    { "precision", 'p', 0, G_OPTION_ARG_STRING, &precision_name, "fp32 (default), fp16, int8, int4", "P" },
    { "budget", 'b', 0, G_OPTION_ARG_DOUBLE, &budget, "CPU budget in percent of one core (default: no throttling)", "PCT" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Frames per inference, at most 16 (default 1; with --batch-latency the largest batch, default 8)", "N" },
    { "batch-wait", 0, 0, G_OPTION_ARG_INT, &batch_wait, "Run a partial batch once its first frame has waited this long (default 20)", "MS" },
    { "batch-latency", 0, 0, G_OPTION_ARG_INT, &batch_latency, "Adaptive batching: the largest batch whose frames stay within this latency", "MS" },
    { "canary", 0, 0, G_OPTION_ARG_INT, &canary, "Check against the scalar reference every N frames (0: off)", "N" },
    { "duration", 'd', 0, G_OPTION_ARG_DOUBLE, &duration, "Stop after this many seconds (default: until Ctrl-C or SIGTERM)", "SECONDS" },
    { "metrics-addr", 0, 0, G_OPTION_ARG_STRING, &metrics_addr, "Serve Prometheus /metrics here (e.g. 127.0.0.1:9464)", "HOST:PORT" },
    { "metrics-remote", 0, 0, G_OPTION_ARG_NONE, &metrics_remote, "Allow --metrics-addr to be an address other machines can reach", NULL },
    { "state-file", 0, 0, G_OPTION_ARG_FILENAME, &state_file, "Marks a run in progress, for safe mode after a crash", "FILE" },
    { "start-paused", 0, 0, G_OPTION_ARG_NONE, &start_paused, "Pause right after start (measures what an idle Kestrel costs)", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "JSON lines instead of text", NULL },
    { "reconfigure-every", 0, 0, G_OPTION_ARG_DOUBLE, &reconfigure_every,
      "Soak: change one setting drawn at random this often, live (0: never)", "SECONDS" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "Soak: seed of --reconfigure-every's draws (default 1)", "N" },
    { "reconfigure-source", 0, 0, G_OPTION_ARG_STRING_ARRAY, &storm_sources,
      "Soak: another source --reconfigure-every may switch to; repeatable", "SPEC" },
    { "checkpoint-every", 0, 0, G_OPTION_ARG_DOUBLE, &checkpoint_every,
      "Soak: return to the starting settings this often and print the resident size there", "SECONDS" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- run the pipeline headless");
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelEngine) engine = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  KestrelEngineConfig config;
  Run run = { .n_requested = -1 };
  const KestrelCliRange ranges[] = {
    KESTREL_CLI_THREADS_RANGE,
    { "budget", 0, 100.0 * g_get_num_processors (), TRUE, "percent of one core; 100 per core" },
    { "batch", 1, KESTREL_ENGINE_MAX_BATCH },
    { "batch-wait", 0, 10000, FALSE, "milliseconds" },
    { "batch-latency", 1, 60000, FALSE, "milliseconds" },
    { "canary", 0, 1000000, FALSE, "0: off" },
    /* g_timeout_add() counts milliseconds in a guint. */
    { "duration", 0, 1000000, TRUE, "seconds" },
    { "reconfigure-every", 0, 86400, FALSE, "seconds; 0: never" },
    { "checkpoint-every", 0, 86400, FALSE, "seconds; 0: never" },
    { "seed", 0, G_MAXINT },
    { NULL }
  };

  if (!kestrel_cli_parse_options ("run", context, entries, ranges, NULL, 0, 0, &argc, &argv))
    return 2;
  if (!kestrel_cli_check_output_file ("state-file", state_file, &error))
    return kestrel_cli_fail ("run", error->message, 2);
  if (!kestrel_cli_check_input_shapes (input_shapes, &error))
    return kestrel_cli_fail ("run", error->message, 2);
  if (batch == 0)
    batch = batch_latency > 0 ? 8 : 1;
  /* Below 10 ms the timer would only queue requests the worker coalesces. */
  if (reconfigure_every > 0 && reconfigure_every < 0.01)
    return kestrel_cli_fail ("run", "--reconfigure-every: at least 0.01 seconds (0: never)", 2);
  if (storm_sources != NULL && reconfigure_every == 0)
    return kestrel_cli_fail ("run", "--reconfigure-source needs --reconfigure-every", 2);
  /* A checkpoint holds the starting settings for 5 s once they run. */
  if (checkpoint_every > 0 && reconfigure_every == 0)
    return kestrel_cli_fail ("run", "--checkpoint-every needs --reconfigure-every", 2);
  if (checkpoint_every > 0 && checkpoint_every < 10)
    return kestrel_cli_fail ("run", "--checkpoint-every: at least 10 seconds (0: never)", 2);

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
  config.input_shapes = g_steal_pointer (&input_shapes);
  if (!kestrel_cli_parse_level (level_name, &config.level, &error))
    return kestrel_cli_fail ("run", error->message, 2);
  if (precision_name != NULL && !kestrel_cli_parse_precision (precision_name, &config.precision, &error))
    return kestrel_cli_fail ("run", error->message, 2);
  config.threads = threads;
  config.batch = batch;
  if (batch_wait >= 0)
    config.batch_wait_ms = batch_wait;
  config.batch_latency_ms = batch_latency;
  config.canary_interval = canary;
  if (budget > 0)
    {
      config.throttle = KESTREL_THROTTLE_MODE_BUDGET;
      config.budget = budget;
    }

  loop = g_main_loop_new (NULL, FALSE);
  engine = kestrel_engine_new (&config);
  run.json = json;
  run.loop = loop;
  run.engine = engine;
  g_signal_connect (run.engine, "event", G_CALLBACK (on_event), &run);

  kestrel_process_usage_read (&run.cpu_start_ns, &run.rss_start, NULL);
  run.start_us = g_get_monotonic_time ();
  if (!kestrel_engine_start (run.engine, state_file, &error))
    {
      kestrel_engine_config_clear (&config);
      return kestrel_cli_fail ("run", error->message, 1);
    }

  if (start_paused)
    kestrel_engine_pause (run.engine);
  if (metrics_addr != NULL)
    {
      g_autofree char *url = NULL;
      KestrelPrometheusFlags flags = metrics_remote ? KESTREL_PROMETHEUS_ALLOW_REMOTE : KESTREL_PROMETHEUS_NONE;

      if (!kestrel_engine_serve_metrics (run.engine, metrics_addr, flags, &url, &error))
        {
          /* An address that is not one (or not allowed) is a wrong option;
           * a port that is taken is a failure to run. */
          gboolean usage = g_error_matches (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT);
          g_autofree char *message = g_strdup_printf ("--metrics-addr: %s%s", error->message,
                                                      usage && !metrics_remote
                                                        && strstr (error->message, "loopback") != NULL
                                                        ? " (--metrics-remote allows it)" : "");

          kestrel_engine_stop (run.engine);
          kestrel_engine_config_clear (&config);
          return kestrel_cli_fail ("run", message, usage ? 2 : 1);
        }
      fprintf (stderr, "kestrel-cli run: serving metrics at %s\n", url);
      if (metrics_remote && !g_str_has_prefix (url, "http://127.") && !g_str_has_prefix (url, "http://[::1]"))
        fprintf (stderr, "kestrel-cli run: warning: other machines can read these metrics "
                         "(what runs, how fast, the model's name); serve on 127.0.0.1 to keep them here\n");
    }

  /* From the configuration asked for, not the one in effect: after a
   * crash, safe mode runs at scalar while the user's level stays theirs,
   * as in the window. */
  if (reconfigure_every > 0)
    run.storm = kestrel_cli_storm_new (run.engine, &config, (const char *const *) storm_sources,
                                       (guint32) seed, reconfigure_every, checkpoint_every, json);
  kestrel_engine_config_clear (&config);
  run.status_id = g_timeout_add_seconds (1, print_status, &run);
  run.sigint_id = g_unix_signal_add (SIGINT, on_signal, &run);
  run.sigterm_id = g_unix_signal_add (SIGTERM, on_signal, &run);
  if (duration > 0)
    run.duration_id = g_timeout_add ((guint) (duration * 1000), on_duration, &run);

  g_main_loop_run (run.loop);
  /* No request after the loop: the events drained below must not start
   * one on an engine being stopped. */
  if (run.storm != NULL)
    run.n_requested = (gint) kestrel_cli_storm_get_n_requested (run.storm);
  g_clear_pointer (&run.storm, kestrel_cli_storm_free);

  g_clear_handle_id (&run.status_id, g_source_remove);
  g_clear_handle_id (&run.sigint_id, g_source_remove);
  g_clear_handle_id (&run.sigterm_id, g_source_remove);
  g_clear_handle_id (&run.duration_id, g_source_remove);

  kestrel_engine_stop (run.engine);
  /* Deliver the events the threads posted before they stopped. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  print_summary (&run);
  return 0;
}
