/* kestrel-cli calibrate — an INT8 calibration table for a model from a
 * folder of frames (core/quant/).
 *
 *   kestrel-cli calibrate MODEL --frames DIR [--method M] [--goal DB | --all-int8] [-o FILE]
 *
 * MODEL is front, back or FILE.onnx. Every .png/.jpg/.jpeg in DIR (sorted
 * by name) is decoded and resized into the model's image input the way the
 * engine feeds that model (its task decoder's input parameters: BlazeFace
 * [-1, 1] letterboxed, a model no plugin decodes 0..1, ...), then the FP32
 * reference plan runs over them once per pass of the method, and the
 * sensitivity search (kestrel-mixed-precision.h) chooses the layers INT8
 * plans keep FP32 for a worst output SQNR of --goal dB (default 20;
 * --all-int8 skips it). The table is printed (JSON), the layers kept FP32
 * on stderr, and the table written to FILE; the user's calibration cache
 * is left alone (the engine's INT8 plans use it).
 *
 * The work runs on a thread of its own (kestrel_cli_run_cancellable) while
 * the main thread waits for SIGINT / SIGTERM, which cancel it between frames; on a
 * terminal a progress line (frame n of m) is redrawn on stderr. Exit
 * status 2: a bad option (unknown method, no --frames, a missing folder, a goal out of range);
 * 1: the work failed (no images in the folder, an image that does not
 * decode, a model that does not load, cancelled).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kestrel-calibrate-methods.h"
#include "kestrel-cli.h"
#include "kestrel-error.h"
#include "kestrel-image.h"
#include "kestrel-mixed-precision.h"
#include "kestrel-quant-table-file.h"

typedef struct {
  KestrelModel *model;
  const KestrelCalibrationMethod *method;
  GPtrArray *paths;             /* the frames, full paths */
  kk_model_input_params params;
  guint input;                  /* the plan input the frames go to */
  guint calls, total_calls;     /* fill_input calls: frames x passes */
  gboolean progress;
  gboolean progress_search;
  GCancellable *cancellable;
  double goal_db;               /* NAN: no search */
  KestrelQuantTable *table;
  GError *error;
} Job;

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The images of `dir`, sorted; an error naming the folder when it cannot
 * be read (status 2) or holds none (status 1). */
static GPtrArray *
list_frames (const char *dir, int *status, GError **error)
{
  g_autoptr (GError) dir_error = NULL;
  g_autoptr (GDir) d = g_dir_open (dir, 0, &dir_error);
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (d == NULL)
    {
      *status = 2;
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "--frames: cannot read the folder %s: %s", dir, dir_error->message);
      return NULL;
    }
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *lower = g_ascii_strdown (name, -1);
      if (g_str_has_suffix (lower, ".png") || g_str_has_suffix (lower, ".jpg")
          || g_str_has_suffix (lower, ".jpeg"))
        g_ptr_array_add (paths, g_build_filename (dir, name, NULL));
    }
  if (paths->len == 0)
    {
      *status = 1;
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "the frames folder %s has no images (.png, .jpg or .jpeg) to calibrate on", dir);
      return NULL;
    }
  g_ptr_array_sort (paths, compare_names);
  return g_steal_pointer (&paths);
}

static gboolean
fill_input (KestrelPlan *plan, guint frame, gpointer user_data, GError **error)
{
  Job *job = user_data;
  const char *path = job->paths->pdata[frame];
  g_autoptr (KestrelImage) image = kestrel_image_new_from_file (path, error);

  if (job->progress)
    {
      fprintf (stderr, "\r\033[Kcalibrating (%s): frame %u of %u", job->method->name,
               job->calls + 1, job->total_calls);
      fflush (stderr);
    }
  job->calls++;
  if (image == NULL)
    return FALSE;
  return kestrel_image_fill_plan_input (plan, job->input, kestrel_image_get_view (image),
                                        &job->params, NULL, error);
}

static void
search_progress (guint done, guint total, gpointer user_data)
{
  Job *job = user_data;

  if (!job->progress_search)
    return;
  fprintf (stderr, "\r\033[Kchoosing the layers kept FP32: plan %u of at most %u", done, total);
  fflush (stderr);
}

/* What the search decided, for people (stdout is the table). */
static void
print_mixed (const KestrelQuantTable *table)
{
  KestrelMixedSummary m;
  const char *const *layers = kestrel_quant_table_get_fp32_layers (table);

  if (!kestrel_quant_table_get_mixed (table, &m))
    return;
  fprintf (stderr, "%u of %u convolutions kept FP32 for a worst output SQNR of %.1f dB (goal %.1f dB; all INT8: "
           "%.1f dB)\n", g_strv_length ((char **) layers), m.n_candidates, m.output_sqnr_db, m.goal_db,
           m.all_int8_sqnr_db);
  for (guint i = 0; layers[i] != NULL; i++)
    fprintf (stderr, "  FP32: %s\n", layers[i]);
}

static gpointer
run_job (gpointer user_data)
{
  Job *job = user_data;
  job->table = kestrel_calibrate (job->model, job->method, job->paths->len, fill_input, job,
                                  job->cancellable, &job->error);
  if (job->table != NULL && !isnan (job->goal_db))
    {
      /* The search fills the frames once more, then tries plans. */
      job->progress_search = job->progress;
      job->progress = FALSE;
      if (!kestrel_mixed_precision_search (job->model, job->table, job->paths->len, fill_input, job, job->goal_db,
                                           NULL, NULL, search_progress, job, job->cancellable, &job->error))
        g_clear_pointer (&job->table, kestrel_quant_table_unref);
    }
  return NULL;
}

KestrelQuantTable *
kestrel_cli_calibrate_frames (const char *command, KestrelModel *model, const char *frames,
                              const KestrelCalibrationMethod *method, double goal_db, int *status, GError **error)
{
  g_autoptr (GPtrArray) paths = list_frames (frames, status, error);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Job job = { 0 };

  if (paths == NULL)
    return NULL;
  *status = 1;
  if (!kestrel_cli_model_input (model, &job.input, &job.params, error))
    return NULL;
  job.goal_db = goal_db;
  job.method = method;
  job.model = model;
  job.paths = paths;
  job.total_calls = paths->len * job.method->n_passes;
  job.progress = isatty (STDERR_FILENO);
  job.cancellable = cancellable;
  kestrel_cli_run_cancellable (command, run_job, &job, cancellable);
  if (job.progress || job.progress_search)
    fprintf (stderr, "\r\033[K");
  if (job.table == NULL)
    {
      if (g_error_matches (job.error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled; nothing was written");
      else
        g_propagate_error (error, g_steal_pointer (&job.error));
      g_clear_error (&job.error);
    }
  else
    *status = 0;
  return job.table;
}

int
kestrel_cli_calibrate (int argc, char **argv)
{
  g_autofree char *frames = NULL;
  g_autofree char *method_name = NULL;
  g_autofree char *output = NULL;
  g_autofree char *origin = NULL;
  double goal_db = KESTREL_MIXED_DEFAULT_GOAL_DB;
  gboolean all_int8 = FALSE;
  g_autofree char *method_help = g_strdup_printf ("How ranges are chosen: %s (default minmax)",
                                                  kestrel_calibration_method_names ());
  GOptionEntry entries[] = {
    { "frames", 'f', 0, G_OPTION_ARG_FILENAME, &frames, "Folder of calibration images (.png, .jpg)", "DIR" },
    { "method", 0, 0, G_OPTION_ARG_STRING, &method_name, method_help, "METHOD" },
    { "goal", 0, 0, G_OPTION_ARG_DOUBLE, &goal_db, "Worst output SQNR the layers kept FP32 must reach (default 20)", "DB" },
    { "all-int8", 0, 0, G_OPTION_ARG_NONE, &all_int8, "No sensitivity search: every layer that can be INT8 is", NULL },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Also write the table to this file", "FILE.json" },
    { NULL }
  };
  const KestrelCliRange ranges[] = { { "goal", -100, 200 }, { NULL } };
  g_autoptr (GOptionContext) context = g_option_context_new ("MODEL - an INT8 calibration table from a folder of frames");
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (KestrelModel) model = NULL;
  g_autoptr (KestrelQuantTable) table = NULL;
  const KestrelCalibrationMethod *method;
  g_autoptr (GDir) dir = NULL;
  int status = 0;

  if (!kestrel_cli_parse_options ("calibrate", context, entries, ranges, "MODEL", 1, 1, &argc, &argv))
    return 2;
  method = kestrel_calibration_method_from_name (method_name != NULL ? method_name : "minmax");
  if (method == NULL)
    {
      g_autofree char *msg = g_strdup_printf ("--method: unknown method '%s' (expected %s)", method_name,
                                              kestrel_calibration_method_names ());
      return kestrel_cli_fail ("calibrate", msg, 2);
    }
  if (frames == NULL)
    return kestrel_cli_fail ("calibrate", "--frames: give the folder of calibration images", 2);
  if (!kestrel_cli_check_output_file ("--output", output, &error))
    return kestrel_cli_fail ("calibrate", error->message, 2);
  /* A folder that cannot be read is a bad option, before the model loads. */
  dir = g_dir_open (frames, 0, &error);
  if (dir == NULL)
    {
      g_autofree char *msg = g_strdup_printf ("--frames: cannot read the folder %s: %s", frames, error->message);
      return kestrel_cli_fail ("calibrate", msg, 2);
    }

  bytes = kestrel_model_spec_dup_bytes (argv[1], &origin, &error);
  if (bytes == NULL)
    return kestrel_cli_fail ("calibrate", error->message, 1);
  model = kestrel_model_new_from_bytes (bytes, origin, &error);
  if (model == NULL)
    return kestrel_cli_fail ("calibrate", error->message, 1);
  table = kestrel_cli_calibrate_frames ("calibrate", model, frames, method, all_int8 ? (double) NAN : goal_db,
                                        &status, &error);
  if (table == NULL)
    return kestrel_cli_fail ("calibrate", error->message, status);

  g_autofree char *json = kestrel_quant_table_to_json (table);
  fputs (json, stdout);
  print_mixed (table);
  if (output != NULL && !kestrel_quant_table_save (table, output, &error))
    status = kestrel_cli_fail ("calibrate", error->message, 1);
  return status;
}
