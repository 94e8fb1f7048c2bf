/* kestrel-cli bench — latency of one model, with ONNX Runtime beside it.
 *
 * Kestrel and (with --peer ort) ONNX Runtime run the same model on the same
 * input with the same thread count. They take turns in rounds of
 * ROUND_RUNS inferences (N with --batch N above that), so load from the
 * rest of the machine falls on both alike; medians and the 95th percentile come from all rounds. ONNX Runtime
 * runs in its own process (tests/peers/ort-peer.js, through Node); its
 * times are measured around its session.run() the same way Kestrel's are
 * around kestrel_plan_run().
 *
 * At --precision int8 ONNX Runtime runs the model as the QDQ file `kestrel-cli
 * quantize` writes (the same table, the same layers kept FP32), its own
 * INT8 kernels against Kestrel's.
 *
 * With --batch N a second plan runs N inputs at once, and the report gives
 * the time per frame of both and their ratio (the throughput batching
 * buys). The two are compared on equal work: N batch-1 runs in a row, timed
 * together, then one batch-N run, pair after pair. Comparing single batch-1
 * runs with batch-N runs would not be fair on a loaded machine: a run
 * shorter than the scheduler's time slice mostly finishes before another
 * process takes the core, so the median of short runs leaves the waits out,
 * while every run N times as long has one in it. On a loaded machine that
 * made batching look much slower per frame than it was.
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli-ort-peer.h"
#include "kestrel-bench.h"
#include "kestrel-qdq-export.h"
#include "kestrel-cli.h"
#include "kestrel-engine.h"
#include "kestrel-plan.h"
#include "kestrel-stats.h"

#define ROUND_RUNS 10
#define WARMUP_RUNS 10

static void
add_series (JsonBuilder *b, const char *name, GArray *times_ms)
{
  double *t = (double *) (void *) times_ms->data;

  json_builder_set_member_name (b, name);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "runs");
  json_builder_add_int_value (b, times_ms->len);
  json_builder_set_member_name (b, "median_ms");
  json_builder_add_double_value (b, kestrel_stats_median (t, times_ms->len));
  json_builder_set_member_name (b, "p95_ms");
  json_builder_add_double_value (b, kestrel_stats_percentile (t, times_ms->len, 95));
  json_builder_end_object (b);
}

int
kestrel_cli_bench (int argc, char **argv)
{
  g_autofree char *model_spec = NULL;
  g_autofree char *level_name = NULL;
  g_autofree char *peer_name = NULL, *precision_name = NULL;
  KestrelPrecision precision = KESTREL_PRECISION_FP32;
  g_autoptr(KestrelQuantTable) table = NULL;
  int threads = 1, runs = 200, batch = 1;
  gboolean profile = FALSE;
  gboolean json = FALSE;
  g_auto(GStrv) input_shapes = NULL;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_STRING, &model_spec, "front, back (built-in BlazeFace) or FILE.onnx (default front)", "MODEL" },
    { "level", 'l', 0, G_OPTION_ARG_STRING, &level_name, "scalar, simd, parallel or full (default full)", "LEVEL" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Threads (default 1)", "N" },
    { "precision", 'p', 0, G_OPTION_ARG_STRING, &precision_name,
      "fp32 (default), fp16 (half weights), int8 or int4 (4-bit weights; both calibrated on the bundled photos)", "P" },
    { "runs", 'r', 0, G_OPTION_ARG_INT, &runs, "Timed inferences per engine (default 200)", "N" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Also run batches of N frames and compare time per frame with batch 1", "N" },
    { "peer", 0, 0, G_OPTION_ARG_STRING, &peer_name, "Also measure a peer engine: ort (ONNX Runtime)", "PEER" },
    { "profile", 0, 0, G_OPTION_ARG_NONE, &profile,
      "Then time each step on its own (up to 50 runs): time by operator and the slowest steps", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object", NULL },
    { "input-shape", 0, 0, G_OPTION_ARG_STRING_ARRAY, &input_shapes, KESTREL_CLI_INPUT_SHAPE_HELP, "NAME=SHAPE" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- latency of a model, optionally beside ONNX Runtime");
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = NULL;
  g_autoptr(KestrelPlan) plan = NULL;
  g_autoptr(KestrelPlan) batched = NULL;
  g_autoptr(GArray) ours_batched = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) ours_grouped = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) pair_ratios = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) ours = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) theirs = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree char *origin = NULL;
  OrtPeer peer = { 0 };
  KestrelPlanOptions options;
  const KestrelTensorView *input;
  int status = 0;

  const KestrelCliRange ranges[] = {
    { "threads", 1, KESTREL_THREAD_POOL_MAX_THREADS },
    { "runs", 1, 1000000 },
    { "batch", 1, KESTREL_ENGINE_MAX_BATCH },
    { NULL }
  };

  if (!kestrel_cli_parse_options ("bench", context, entries, ranges, NULL, 0, 0, &argc, &argv))
    return 2;
  /* Each batch-N run is paired with N batch-1 runs, which count as runs. */
  if (batch > runs)
    return kestrel_cli_fail ("bench", "--runs must be at least --batch (each batch is compared with "
                                      "as many single runs)", 2);
  if (peer_name != NULL && strcmp (peer_name, "ort") != 0)
    return kestrel_cli_fail ("bench", "--peer: the only peer is 'ort' (ONNX Runtime)", 2);
  if (model_spec == NULL)
    model_spec = g_strdup ("front");
  if (!kestrel_cli_check_input_shapes (input_shapes, &error))
    return kestrel_cli_fail ("bench", error->message, 2);

  kestrel_plan_options_init (&options);
  if (!kestrel_cli_parse_level (level_name, &options.level, &error))
    return kestrel_cli_fail ("bench", error->message, 2);
  if (!kestrel_cli_parse_precision (precision_name, &precision, &error))
    return kestrel_cli_fail ("bench", error->message, 2);
  options.n_threads = threads;

  g_autoptr(GBytes) bytes = kestrel_model_spec_dup_bytes (model_spec, &origin, &error);
  if (bytes == NULL)
    return kestrel_cli_fail ("bench", error->message, 1);
  model = kestrel_model_new_from_bytes_at (bytes, origin, (const char *const *) input_shapes, &error);
  if (model == NULL)
    return kestrel_cli_fail ("bench", error->message, 1);
  if (!kestrel_cli_set_precision (&options, precision, model, &table, &error))
    return kestrel_cli_fail ("bench", error->message, 1);
  plan = kestrel_plan_new (model, &options, &error);
  if (plan == NULL)
    return kestrel_cli_fail ("bench", error->message, 1);
  if (kestrel_plan_get_n_inputs (plan) != 1 || kestrel_plan_get_input (plan, 0)->dtype != KESTREL_DTYPE_FLOAT32)
    return kestrel_cli_fail ("bench", "bench runs models with one float32 input", 1);
  input = kestrel_plan_get_input (plan, 0);
  kestrel_bench_fill_noise (input->data, input->n_elements);
  if (batch > 1)
    {
      options.batch = batch;
      batched = kestrel_plan_new (model, &options, &error);
      options.batch = 0;
      if (batched == NULL)
        return kestrel_cli_fail ("bench", error->message, 1);
      for (int i = 0; i < batch; i++)
        {
          KestrelTensorView slice;
          kestrel_plan_get_input_slice (batched, 0, i, &slice);
          memcpy (slice.data, input->data, input->n_elements * sizeof (float));
        }
    }

  /* At INT8 ONNX Runtime runs the same INT8 model: the QDQ file `kestrel-cli
   * quantize` would write (the plan's table and FP32 layers), exported to
   * the peer's temporary folder; a QDQ file given as MODEL goes as it is. */
  if (peer_name != NULL && options.precision == KESTREL_PRECISION_INT8 && kestrel_model_get_quant_table (model) == NULL)
    {
      g_autoptr(GBytes) qdq = kestrel_qdq_export (model, options.quant_table, &error);
      if (qdq == NULL)
        {
          status = kestrel_cli_fail ("bench", error->message, 1);
          goto out;
        }
      g_bytes_unref (bytes);
      bytes = g_steal_pointer (&qdq);
    }
  if (peer_name != NULL
      && !ort_peer_start (&peer, bytes, kestrel_plan_get_input_name (plan, 0), input, threads, &error))
    {
      status = kestrel_cli_fail ("bench", error->message, 1);
      goto out;
    }

  for (int i = 0; i < WARMUP_RUNS; i++)
    {
      kestrel_plan_run (plan);
      if (batched != NULL)
        kestrel_plan_run (batched);
    }

  /* CPU time beside wall time: on a shared machine the medians measure the
   * scheduler's share as much as the work, the CPU each side used per
   * inference does not (the peer's includes Node's own per-run work). */
  guint64 our_cpu_ns = 0, their_cpu_ns = 0;
  for (int done = 0, n; done < runs; done += n)
    {
      guint64 cpu_start = kestrel_cli_process_cpu_ns ();
      /* With --batch, the round is pairs of (N batch-1 runs, one batch-N
       * run), what is left of n runs at batch 1 alone; a round holds at
       * least one pair (--runs >= --batch is checked), and the batch-1 runs
       * add up to --runs exactly. */
      n = MIN (MAX (ROUND_RUNS, batch), runs - done);
      int pairs = batched != NULL ? n / batch : 0;
      for (int p = 0; p < pairs; p++)
        {
          guint64 group_start = kestrel_stats_now_ns ();
          for (int i = 0; i < batch; i++)
            {
              guint64 start = kestrel_stats_now_ns ();
              kestrel_plan_run (plan);
              double ms = (kestrel_stats_now_ns () - start) / 1e6;
              g_array_append_val (ours, ms);
            }
          guint64 start = kestrel_stats_now_ns ();
          kestrel_plan_run (batched);
          guint64 end = kestrel_stats_now_ns ();
          double group_ms = (start - group_start) / 1e6, batch_ms = (end - start) / 1e6;
          double ratio = group_ms / batch_ms;
          g_array_append_val (ours_grouped, group_ms);
          g_array_append_val (ours_batched, batch_ms);
          g_array_append_val (pair_ratios, ratio);
        }
      for (int i = pairs * batch; i < n; i++)
        {
          guint64 start = kestrel_stats_now_ns ();
          kestrel_plan_run (plan);
          double ms = (kestrel_stats_now_ns () - start) / 1e6;
          g_array_append_val (ours, ms);
        }
      our_cpu_ns += kestrel_cli_process_cpu_ns () - cpu_start;
      guint64 peer_start = peer.process != NULL ? ort_peer_cpu_ns (&peer) : 0;
      if (peer.process != NULL && !ort_peer_round (&peer, n, theirs, &error))
        {
          status = kestrel_cli_fail ("bench", error->message, 1);
          goto out;
        }
      if (peer.process != NULL)
        their_cpu_ns += ort_peer_cpu_ns (&peer) - peer_start;
    }

  {
    g_autoptr(JsonBuilder) b = json_builder_new ();
    double our_median = kestrel_stats_median ((double *) (void *) ours->data, ours->len);
    double macs = (double) kestrel_model_get_macs (model);

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "model");
    json_builder_add_string_value (b, origin);
    json_builder_set_member_name (b, "level");
    json_builder_add_string_value (b, kk_level_name (options.level));
    json_builder_set_member_name (b, "isa");
    json_builder_add_string_value (b, kk_isa_name (kk_level_isa (options.level)));
    json_builder_set_member_name (b, "precision");
    json_builder_add_string_value (b, kestrel_precision_name (options.precision));
    json_builder_set_member_name (b, "threads");
    json_builder_add_int_value (b, threads);
    json_builder_set_member_name (b, "multiply_adds");
    json_builder_add_int_value (b, (gint64) macs);
    add_series (b, "kestrel", ours);
    json_builder_set_member_name (b, "kestrel_gflops");
    json_builder_add_double_value (b, 2 * macs / (our_median * 1e6));
    if (batched != NULL)
      {
        double batched_median = kestrel_stats_median ((double *) (void *) ours_batched->data, ours_batched->len);
        double grouped_median = kestrel_stats_median ((double *) (void *) ours_grouped->data, ours_grouped->len);
        json_builder_set_member_name (b, "batch");
        json_builder_add_int_value (b, batch);
        add_series (b, "kestrel_batch", ours_batched);
        /* Per frame, both from the paired samples of N frames each. */
        json_builder_set_member_name (b, "frame_ms_batch_1");
        json_builder_add_double_value (b, grouped_median / batch);
        json_builder_set_member_name (b, "frame_ms_batch_n");
        json_builder_add_double_value (b, batched_median / batch);
        /* Frames per second at batch N over frames per second at batch 1:
         * the median of the pairs' ratios, each pair having run under the
         * same load. */
        json_builder_set_member_name (b, "throughput_ratio_batch_n_to_1");
        json_builder_add_double_value (b, kestrel_stats_median ((double *) (void *) pair_ratios->data,
                                                                pair_ratios->len));
      }
    if (peer.process != NULL)
      {
        double their_median = kestrel_stats_median ((double *) (void *) theirs->data, theirs->len);
        add_series (b, "ort", theirs);
        json_builder_set_member_name (b, "ort_version");
        json_builder_add_string_value (b, peer.version);
        json_builder_set_member_name (b, "ratio_kestrel_to_ort");
        json_builder_add_double_value (b, our_median / their_median);
        /* Only without --batch: then every run of ours is a batch-1 run
         * the peer ran too. */
        if (batched == NULL && their_cpu_ns > 0)
          {
            json_builder_set_member_name (b, "kestrel_cpu_ms_per_run");
            json_builder_add_double_value (b, our_cpu_ns / 1e6 / ours->len);
            json_builder_set_member_name (b, "ort_cpu_ms_per_run");
            json_builder_add_double_value (b, their_cpu_ns / 1e6 / theirs->len);
            json_builder_set_member_name (b, "cpu_ratio_kestrel_to_ort");
            json_builder_add_double_value (b, ((double) our_cpu_ns / ours->len) / ((double) their_cpu_ns / theirs->len));
          }
      }
    if (profile)
      kestrel_cli_bench_profile (plan, (guint) MIN (runs, 50), b);
    json_builder_end_object (b);

    g_autoptr(JsonNode) root = json_builder_get_root (b);
    if (json)
      kestrel_cli_print_json (root, FALSE);
    else
      {
        JsonObject *o = json_node_get_object (root);
        JsonObject *k = json_object_get_object_member (o, "kestrel");
        printf ("%s, %s, level %s (%s), %d thread%s, %u runs\n", origin, kestrel_precision_name (options.precision),
                kk_level_name (options.level), kk_isa_name (kk_level_isa (options.level)), threads,
                threads == 1 ? "" : "s", ours->len);
        printf ("  kestrel       median %.3f ms   p95 %.3f ms   %.1f GFLOP/s\n",
                json_object_get_double_member (k, "median_ms"), json_object_get_double_member (k, "p95_ms"),
                json_object_get_double_member (o, "kestrel_gflops"));
        if (batched != NULL)
          {
            JsonObject *kb = json_object_get_object_member (o, "kestrel_batch");
            printf ("  batch %-3d     median %.3f ms   p95 %.3f ms   per frame %.3f ms (batch 1: %.3f ms)\n",
                    batch, json_object_get_double_member (kb, "median_ms"),
                    json_object_get_double_member (kb, "p95_ms"),
                    json_object_get_double_member (o, "frame_ms_batch_n"),
                    json_object_get_double_member (o, "frame_ms_batch_1"));
            printf ("  throughput batch %d / batch 1 = %.2f\n", batch,
                    json_object_get_double_member (o, "throughput_ratio_batch_n_to_1"));
          }
        if (peer.process != NULL)
          {
            JsonObject *t = json_object_get_object_member (o, "ort");
            printf ("  onnxruntime   median %.3f ms   p95 %.3f ms   (%s)\n",
                    json_object_get_double_member (t, "median_ms"), json_object_get_double_member (t, "p95_ms"),
                    peer.version);
            printf ("  kestrel / onnxruntime = %.2f\n", json_object_get_double_member (o, "ratio_kestrel_to_ort"));
            if (json_object_has_member (o, "cpu_ratio_kestrel_to_ort"))
              printf ("  CPU time per run: kestrel %.3f ms, onnxruntime %.3f ms (with Node's own); "
                      "kestrel / onnxruntime = %.2f\n",
                      json_object_get_double_member (o, "kestrel_cpu_ms_per_run"),
                      json_object_get_double_member (o, "ort_cpu_ms_per_run"),
                      json_object_get_double_member (o, "cpu_ratio_kestrel_to_ort"));
          }
        if (profile)
          kestrel_cli_bench_profile_print (json_object_get_object_member (o, "profile"));
      }
  }

out:
  ort_peer_clear (&peer);
  return status;
}
