/* kestrel-cli benchmark — a benchmark suite (core/bench/) from the terminal.
 *
 * The suite runs on a thread of its own while the main thread waits in a
 * main loop for SIGINT / SIGTERM, which cancel it: the runner stops within
 * one inference, and nothing is written. On a terminal a progress line
 * (cell n of m, time left) is redrawn on stderr; the table goes to stdout
 * and the result file to -o FILE, or else to the results folder
 * (g_get_user_data_dir()/kestrel/benchmarks).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli-ort-peer.h"
#include "kestrel-bench-result.h"
#include "kestrel-bench.h"
#include "kestrel-cli.h"
#include "kestrel-engine.h"
#include "kestrel-error.h"

#define PEER_ROUND 8

typedef struct {
  KestrelModel *model;
  GBytes *bytes;
  const char *name;
  KestrelBenchOptions options;
  KestrelBenchPeer *peer;
  GCancellable *cancellable;
  gboolean progress;
  KestrelBenchResult *result;
  GError *error;
} Job;

static void
on_progress (guint done, guint total, double seconds_left, const KestrelBenchCell *cell, gpointer user_data)
{
  Job *job = user_data;
  g_autofree char *label = kestrel_bench_cell_dup_label (cell);

  if (!job->progress)
    return;
  fprintf (stderr, "\r\033[Kcell %u of %u (%s)   about %.0f s left", done, total, label, ceil (seconds_left));
  fflush (stderr);
}

static gpointer
run_job (gpointer user_data)
{
  Job *job = user_data;

  job->result = kestrel_bench_run (job->model, job->name, job->bytes, &job->options, job->peer, on_progress, job,
                                   job->cancellable, &job->error);
  return NULL;
}

static gboolean
ort_run (gpointer peer, guint n, GArray *times_ms, GError **error)
{
  return ort_peer_round (peer, n, times_ms, error);
}

/* --precision/--level/--threads/--batch: comma-separated lists. */
static gboolean
parse_list (const char *option, const char *text, guint *n, guint *values, GError **error)
{
  g_auto(GStrv) parts = NULL;

  *n = 0;
  if (text == NULL)
    return TRUE;
  parts = g_strsplit (text, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      const char *p = g_strstrip (parts[i]);
      guint v = 0;
      gboolean ok;

      if (*n == KESTREL_BENCH_MAX_AXIS)
        {
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT, "%s: at most %d values", option,
                       KESTREL_BENCH_MAX_AXIS);
          return FALSE;
        }
      if (strcmp (option, "--precision") == 0)
        {
          KestrelPrecision precision;
          ok = kestrel_precision_from_name (p, &precision);
          if (ok && !kestrel_precision_is_supported (precision))
            {
              g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                           "--precision: %s is not available in this build", p);
              return FALSE;
            }
          v = precision;
        }
      else if (strcmp (option, "--level") == 0)
        {
          kk_level level;
          ok = kk_level_from_name (p, &level);
          v = level;
        }
      else
        {
          guint64 number;
          guint max = strcmp (option, "--threads") == 0 ? KESTREL_THREAD_POOL_MAX_THREADS : KESTREL_ENGINE_MAX_BATCH;
          ok = g_ascii_string_to_unsigned (p, 10, 1, max, &number, NULL);
          v = (guint) number;
          if (!ok)
            {
              g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                           "%s: '%s' is not an integer from 1 to %u", option, p, max);
              return FALSE;
            }
        }
      if (!ok)
        {
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT, "%s: unknown value '%s' (expected %s)",
                       option, p,
                       strcmp (option, "--level") == 0 ? "scalar, simd, parallel or full" : "fp32, fp16, int8 or int4");
          return FALSE;
        }
      values[(*n)++] = v;
    }
  if (*n == 0)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT, "%s: give at least one value", option);
      return FALSE;
    }
  return TRUE;
}

static const char *
samples_dir (void)
{
  const char *env = g_getenv ("KESTREL_SAMPLES_DIR");

  if (env != NULL && env[0] != '\0')
    return env;
  if (g_file_test (KESTREL_SAMPLES_INSTALLED_DIR, G_FILE_TEST_IS_DIR))
    return KESTREL_SAMPLES_INSTALLED_DIR;
  return KESTREL_SOURCE_DIR "/data/samples";
}

static void
print_table (const KestrelBenchResult *r)
{
  printf ("%s on %s (%u cores), %.0f s\n", r->model_name, r->cpu_model, r->cores, r->wall_s);
  printf ("%-26s %9s %9s %9s %8s %9s %8s %7s  %s\n", "cell", "median ms", "p90 ms", "frames/s", "build ms",
          "cpu ms/fr", "SQNR dB", "faces", "notes");
  for (guint i = 0; i < r->cells->len; i++)
    {
      const KestrelBenchCell *c = r->cells->pdata[i];
      g_autofree char *label = kestrel_bench_cell_dup_label (c);
      g_autofree char *sqnr = isinf (c->sqnr_db) ? g_strdup ("exact")
                              : isnan (c->sqnr_db) ? g_strdup ("-") : g_strdup_printf ("%.1f", c->sqnr_db);
      g_autofree char *build = isnan (c->build_ms) ? g_strdup ("-") : g_strdup_printf ("%.1f", c->build_ms);
      /* faces agreeing: matched/FP32's, and +extra when the cell found more */
      g_autofree char *faces = c->faces_fp32 < 0 ? g_strdup ("-")
                               : c->faces_extra > 0 ? g_strdup_printf ("%u/%d+%u", c->faces_matched, c->faces_fp32,
                                                                       c->faces_extra)
                                                    : g_strdup_printf ("%u/%d", c->faces_matched, c->faces_fp32);
      g_autofree char *cpu = isnan (c->cpu_ms_per_frame) ? g_strdup ("-")
                             : g_strdup_printf ("%.3f", c->cpu_ms_per_frame);
      printf ("%-26s %9.3f %9.3f %9.1f %8s %9s %8s %7s  %s\n", label, c->median_ms, c->p90_ms, c->frames_per_s, build,
              cpu, sqnr, faces, c->notes->len ? (const char *) c->notes->pdata[0] : "");
      for (guint n = 1; n < c->notes->len; n++)
        printf ("%-26s %s\n", "", (const char *) c->notes->pdata[n]);
    }
  for (guint i = 0; i < r->notes->len; i++)
    printf ("Note: %s\n", (const char *) r->notes->pdata[i]);
  if (r->energy_note != NULL)
    printf ("Note: %s\n", r->energy_note);
}

/* ONNX Runtime on the model with a fixed input (its times do not depend
 * on the values). */
static gboolean
start_peer (OrtPeer *peer, GBytes *bytes, KestrelModel *model, guint threads, GError **error)
{
  const KestrelValue *value = kestrel_model_get_input (model, 0);
  KestrelTensorView input;
  g_autofree float *data = NULL;

  kestrel_tensor_view_init (&input, value);
  data = g_new (float, input.n_elements);
  kestrel_bench_fill_noise (data, input.n_elements);
  input.data = data;
  return ort_peer_start (peer, bytes, value->name, &input, threads, error);
}

int
kestrel_cli_benchmark (int argc, char **argv)
{
  g_autofree char *model_spec = NULL;
  g_autofree char *precisions = NULL;
  g_autofree char *levels = NULL;
  g_autofree char *threads = NULL;
  g_autofree char *batches = NULL;
  g_autofree char *peer_name = NULL;
  g_autofree char *output = NULL;
  g_autofree char *csv = NULL;
  g_autofree char *origin = NULL;
  double time_per_cell = 2.0;
  int rounds = 3, seed = 0;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_STRING, &model_spec, "front, back (built-in BlazeFace) or FILE.onnx (default front)", "MODEL" },
    { "precision", 'p', 0, G_OPTION_ARG_STRING, &precisions, "Precisions, comma-separated (default: every supported one)", "LIST" },
    { "level", 'l', 0, G_OPTION_ARG_STRING, &levels, "Levels, comma-separated (default scalar,simd,full)", "LIST" },
    { "threads", 't', 0, G_OPTION_ARG_STRING, &threads, "Thread counts for the parallel levels (default 1 to the cores)", "LIST" },
    { "batch", 'b', 0, G_OPTION_ARG_STRING, &batches, "Batch sizes (default 1,4)", "LIST" },
    { "time-per-cell", 0, 0, G_OPTION_ARG_DOUBLE, &time_per_cell, "Seconds each cell may run at most, over all rounds (default 2)", "S" },
    { "rounds", 0, 0, G_OPTION_ARG_INT, &rounds, "Visits per cell, in shuffled order (default 3)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "Seed of the shuffles (default: a new one, recorded)", "N" },
    { "peer", 0, 0, G_OPTION_ARG_STRING, &peer_name, "Also measure a peer engine: ort (ONNX Runtime, FP32)", "PEER" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write the result here (default: the results folder)", "FILE.json" },
    { "csv", 0, 0, G_OPTION_ARG_FILENAME, &csv, "Also write the table as CSV", "FILE" },
    { NULL }
  };
  const KestrelCliRange ranges[] = {
    { "time-per-cell", 0, 3600, TRUE },
    { "rounds", 1, 100 },
    { "seed", 0, G_MAXINT32, FALSE, "0: a new one" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- a benchmark suite: precision x level x threads x batch");
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  OrtPeer ort = { 0 };
  KestrelBenchPeer peer = { 0 };
  Job job = { 0 };
  guint values[KESTREL_BENCH_MAX_AXIS];
  int status = 0;

  if (!kestrel_cli_parse_options ("benchmark", context, entries, ranges, NULL, 0, 0, &argc, &argv))
    return 2;
  kestrel_bench_options_init (&job.options);
  job.options.time_per_cell_s = time_per_cell;
  job.options.rounds = rounds;
  job.options.seed = seed;
  job.options.samples_dir = samples_dir ();
  if (!parse_list ("--precision", precisions, &job.options.n_precisions, values, &error))
    return kestrel_cli_fail ("benchmark", error->message, 2);
  for (guint i = 0; i < job.options.n_precisions; i++)
    job.options.precisions[i] = values[i];
  if (!parse_list ("--level", levels, &job.options.n_levels, values, &error))
    return kestrel_cli_fail ("benchmark", error->message, 2);
  for (guint i = 0; i < job.options.n_levels; i++)
    job.options.levels[i] = values[i];
  if (!parse_list ("--threads", threads, &job.options.n_threads, job.options.threads, &error)
      || !parse_list ("--batch", batches, &job.options.n_batches, job.options.batches, &error))
    return kestrel_cli_fail ("benchmark", error->message, 2);
  if (peer_name != NULL && strcmp (peer_name, "ort") != 0)
    return kestrel_cli_fail ("benchmark", "--peer: the only peer is 'ort' (ONNX Runtime)", 2);
  if (!kestrel_cli_check_output_file ("--output", output, &error)
      || !kestrel_cli_check_output_file ("--csv", csv, &error))
    return kestrel_cli_fail ("benchmark", error->message, 2);

  if (model_spec == NULL)
    model_spec = g_strdup ("front");
  bytes = kestrel_model_spec_dup_bytes (model_spec, &origin, &error);
  if (bytes == NULL)
    return kestrel_cli_fail ("benchmark", error->message, 1);
  model = kestrel_model_new_from_bytes (bytes, origin, &error);
  if (model == NULL)
    return kestrel_cli_fail ("benchmark", error->message, 1);

  if (peer_name != NULL)
    {
      /* ONNX Runtime gets the most threads the suite gives Kestrel. */
      guint peer_threads = job.options.n_threads ? 1 : (guint) g_get_num_processors ();
      for (guint i = 0; i < job.options.n_threads; i++)
        peer_threads = MAX (peer_threads, job.options.threads[i]);
      if (!start_peer (&ort, bytes, model, peer_threads, &error))
        {
          status = kestrel_cli_fail ("benchmark", error->message, 1);
          goto out;
        }
      peer.name = "onnxruntime";
      peer.version = ort.version;
      peer.threads = peer_threads;
      peer.run = ort_run;
      peer.peer = &ort;
      job.peer = &peer;
    }

  job.model = model;
  job.bytes = bytes;
  job.name = model_spec;
  job.cancellable = cancellable;
  job.progress = isatty (STDERR_FILENO);
  kestrel_cli_run_cancellable ("benchmark", run_job, &job, cancellable);
  if (job.progress)
    fprintf (stderr, "\r\033[K");

  if (job.result == NULL)
    {
      if (g_error_matches (job.error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        status = kestrel_cli_fail ("benchmark", "cancelled; nothing was written", 1);
      else
        status = kestrel_cli_fail ("benchmark", job.error->message, 1);
      g_clear_error (&job.error);
      goto out;
    }

  print_table (job.result);
  if (output != NULL)
    {
      if (!kestrel_bench_result_save (job.result, output, &error))
        status = kestrel_cli_fail ("benchmark", error->message, 1);
    }
  else
    {
      g_autofree char *path = kestrel_bench_result_save_default (job.result, &error);
      if (path == NULL)
        status = kestrel_cli_fail ("benchmark", error->message, 1);
      else
        printf ("Saved %s\n", path);
    }
  if (status == 0 && csv != NULL)
    {
      g_autofree char *text = kestrel_bench_result_to_csv (job.result);
      g_clear_error (&error);
      if (!g_file_set_contents (csv, text, -1, &error))
        {
          g_prefix_error (&error, "%s not saved (a previous one is left as it was): ", csv);
          status = kestrel_cli_fail ("benchmark", error->message, 1);
        }
    }
  kestrel_bench_result_free (job.result);

out:
  ort_peer_clear (&ort);
  return status;
}
