/* kestrel-cli calibrate — an INT8 calibration table for a model from a
 * folder of frames (core/quant/).
 *
 *   kestrel-cli calibrate MODEL --frames DIR [--method M] [-o FILE]
 *
 * MODEL is front, back or FILE.onnx. Every .png/.jpg/.jpeg in DIR (sorted
 * by name) is decoded and resized into the model's image input the way the
 * bundled BlazeFace models take it ([-1, 1] per channel, letterboxed:
 * kestrel-image),
 * then the FP32 reference plan runs over them once per pass of the method.
 * The table is printed (JSON) and written to FILE; the user's calibration
 * cache is left alone (the engine's INT8 plans use it).
 *
 * The work runs on a thread of its own (kestrel_cli_run_cancellable) while
 * the main thread waits for SIGINT / SIGTERM, which cancel it between frames; on a
 * terminal a progress line (frame n of m) is redrawn on stderr. Exit
 * status 2: a bad option (unknown method, no --frames, a missing folder);
 * 1: the work failed (no images in the folder, an image that does not
 * decode, a model that does not load, cancelled).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kestrel-calibrate-methods.h"
#include "kestrel-cli.h"
#include "kestrel-error.h"
#include "kestrel-image.h"
#include "kestrel-quant-table-file.h"

typedef struct {
  KestrelModel *model;
  const KestrelCalibrationMethod *method;
  GPtrArray *paths;             /* the frames, full paths */
  kk_model_input_params params;
  guint input;                  /* the plan input the frames go to */
  guint calls, total_calls;     /* fill_input calls: frames x passes */
  gboolean progress;
  GCancellable *cancellable;
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

/* The model's image input: the first float32 [1,3,H,W] or [1,H,W,3]. */
static gboolean
find_image_input (KestrelModel *model, guint *input, kk_model_input_params *params, GError **error)
{
  for (guint i = 0; i < kestrel_model_get_n_inputs (model); i++)
    {
      KestrelTensorView view;
      kestrel_tensor_view_init (&view, kestrel_model_get_input (model, i));
      if (view.dtype != KESTREL_DTYPE_FLOAT32 || view.n_dims != 4 || view.shape[0] != 1)
        continue;
      memset (params, 0, sizeof *params);
      if (view.shape[1] == 3)
        {
          params->layout = KK_LAYOUT_NCHW;
          params->height = view.shape[2];
          params->width = view.shape[3];
        }
      else if (view.shape[3] == 3)
        {
          params->layout = KK_LAYOUT_NHWC;
          params->height = view.shape[1];
          params->width = view.shape[2];
        }
      else
        continue;
      for (int c = 0; c < 3; c++)
        {
          params->scale[c] = 2.0f / 255.0f;
          params->offset[c] = -1.0f;
        }
      params->letterbox = TRUE;
      *input = i;
      return TRUE;
    }
  g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
               "the model has no image input (float32, batch 1, 3 channels) to calibrate with frames");
  return FALSE;
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

static gpointer
run_job (gpointer user_data)
{
  Job *job = user_data;
  job->table = kestrel_calibrate (job->model, job->method, job->paths->len, fill_input, job,
                                  job->cancellable, &job->error);
  return NULL;
}

int
kestrel_cli_calibrate (int argc, char **argv)
{
  g_autofree char *frames = NULL;
  g_autofree char *method_name = NULL;
  g_autofree char *output = NULL;
  g_autofree char *origin = NULL;
  g_autofree char *method_help = g_strdup_printf ("How ranges are chosen: %s (default minmax)",
                                                  kestrel_calibration_method_names ());
  GOptionEntry entries[] = {
    { "frames", 'f', 0, G_OPTION_ARG_FILENAME, &frames, "Folder of calibration images (.png, .jpg)", "DIR" },
    { "method", 0, 0, G_OPTION_ARG_STRING, &method_name, method_help, "METHOD" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Also write the table to this file", "FILE.json" },
    { NULL }
  };
  const KestrelCliRange ranges[] = { { NULL } };
  g_autoptr (GOptionContext) context = g_option_context_new ("MODEL - an INT8 calibration table from a folder of frames");
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (KestrelModel) model = NULL;
  g_autoptr (GPtrArray) paths = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Job job = { 0 };
  int status = 0;

  if (!kestrel_cli_parse_options ("calibrate", context, entries, ranges, "MODEL", 1, 1, &argc, &argv))
    return 2;
  job.method = kestrel_calibration_method_from_name (method_name != NULL ? method_name : "minmax");
  if (job.method == NULL)
    {
      g_autofree char *msg = g_strdup_printf ("--method: unknown method '%s' (expected %s)", method_name,
                                              kestrel_calibration_method_names ());
      return kestrel_cli_fail ("calibrate", msg, 2);
    }
  if (frames == NULL)
    return kestrel_cli_fail ("calibrate", "--frames: give the folder of calibration images", 2);
  if (!kestrel_cli_check_output_file ("--output", output, &error))
    return kestrel_cli_fail ("calibrate", error->message, 2);
  paths = list_frames (frames, &status, &error);
  if (paths == NULL)
    return kestrel_cli_fail ("calibrate", error->message, status);

  bytes = kestrel_model_spec_dup_bytes (argv[1], &origin, &error);
  if (bytes == NULL)
    return kestrel_cli_fail ("calibrate", error->message, 1);
  model = kestrel_model_new_from_bytes (bytes, origin, &error);
  if (model == NULL)
    return kestrel_cli_fail ("calibrate", error->message, 1);
  if (!find_image_input (model, &job.input, &job.params, &error))
    return kestrel_cli_fail ("calibrate", error->message, 1);

  job.model = model;
  job.paths = paths;
  job.total_calls = paths->len * job.method->n_passes;
  job.progress = isatty (STDERR_FILENO);
  job.cancellable = cancellable;
  kestrel_cli_run_cancellable ("calibrate", run_job, &job, cancellable);
  if (job.progress)
    fprintf (stderr, "\r\033[K");

  if (job.table == NULL)
    {
      if (g_error_matches (job.error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        status = kestrel_cli_fail ("calibrate", "cancelled; nothing was written", 1);
      else
        status = kestrel_cli_fail ("calibrate", job.error->message, 1);
      g_clear_error (&job.error);
      return status;
    }

  g_autofree char *json = kestrel_quant_table_to_json (job.table);
  fputs (json, stdout);
  if (output != NULL && !kestrel_quant_table_save (job.table, output, &error))
    status = kestrel_cli_fail ("calibrate", error->message, 1);
  kestrel_quant_table_unref (job.table);
  return status;
}
