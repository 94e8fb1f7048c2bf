/* kestrel-cli detect — faces in still images.
 *
 * The model (a built-in one or an .onnx file) is matched with a task
 * decoder plugin, a plan is built once, and each image is decoded, turned
 * into the model's input, run and decoded. The reported latency covers
 * exactly that per-image work after the file is decoded: preprocessing,
 * inference and decoding.
 *
 * An image that cannot be read is reported on its own line and the others
 * are still processed; the exit status is then 1.
 *
 * The JSON lines are written by hand rather than with json-glib, whose
 * generator prints every double with 17 significant digits; here scores
 * have 4 decimals, pixels 2, milliseconds 3.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kestrel-cli.h"
#include "kestrel-error.h"
#include "kestrel-generic-decoder.h"
#include "kestrel-image.h"
#include "kestrel-plugin.h"
#include "kestrel-stats.h"

typedef struct {
  gboolean json;
  KestrelDecodeOptions decode;
  KestrelPlan *plan;
  KestrelTaskDecoder *decoder;
  kk_model_input_params input_params;
  KestrelDetections *results;
  gboolean faces_key;   /* the decoder finds faces only: say "faces" */
} Detect;

static void
append_json_string (GString *out, const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);

  g_string_append_c (out, '"');
  for (const char *p = valid; *p != '\0'; p++)
    {
      unsigned char c = (unsigned char) *p;
      switch (c)
        {
        case '"': g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        default:
          if (c < 0x20)
            g_string_append_printf (out, "\\u%04x", c);
          else
            g_string_append_c (out, (char) c);
        }
    }
  g_string_append_c (out, '"');
}

static void
append_json_number (GString *out, double value, int decimals)
{
  if (isfinite (value))
    g_string_append_printf (out, "%.*f", decimals, value);
  else
    g_string_append (out, "null");
}

static void
print_error (const Detect *d, const char *path, const char *message)
{
  if (d->json)
    {
      g_autoptr(GString) line = g_string_new ("{\"image\": ");
      append_json_string (line, path);
      g_string_append (line, ", \"error\": ");
      append_json_string (line, message);
      g_string_append (line, "}");
      printf ("%s\n", line->str);
      fflush (stdout);
    }
  else
    {
      /* Messages from the image loader start with the file's name already. */
      g_autofree char *display = g_filename_display_name (path);
      g_autofree char *prefix = g_strconcat (display, ": ", NULL);
      if (g_str_has_prefix (message, prefix))
        message += strlen (prefix);
      fflush (stdout);
      fprintf (stderr, "%s: error: %s\n", display, message);
    }
}

static void
print_json (const Detect *d, const char *path, guint width, guint height, double latency_ms)
{
  const KestrelTaskDecoderVTable *vt = kestrel_task_decoder_get_vtable (d->decoder);
  g_autoptr(GString) line = g_string_new ("{\"image\": ");

  append_json_string (line, path);
  g_string_append_printf (line, ", \"width\": %u, \"height\": %u, \"%s\": [", width, height,
                          d->faces_key ? "faces" : "detections");
  for (guint i = 0; i < kestrel_detections_get_n (d->results); i++)
    {
      const KestrelDetection *det = kestrel_detections_get (d->results, i);

      g_string_append (line, i > 0 ? ", {" : "{");
      if (!d->faces_key)
        {
          g_string_append (line, "\"label\": ");
          append_json_string (line, vt->labels[det->label]);
          g_string_append (line, ", ");
        }
      g_string_append (line, "\"score\": ");
      append_json_number (line, det->score, 4);
      g_string_append (line, ", \"box\": [");
      append_json_number (line, det->x, 2);
      g_string_append (line, ", ");
      append_json_number (line, det->y, 2);
      g_string_append (line, ", ");
      append_json_number (line, det->width, 2);
      g_string_append (line, ", ");
      append_json_number (line, det->height, 2);
      g_string_append (line, "], \"keypoints\": [");
      for (guint k = 0; k < det->n_keypoints; k++)
        {
          g_string_append (line, k > 0 ? ", [" : "[");
          append_json_number (line, det->keypoints[k].x, 2);
          g_string_append (line, ", ");
          append_json_number (line, det->keypoints[k].y, 2);
          g_string_append (line, "]");
        }
      g_string_append (line, "]}");
    }
  g_string_append (line, "], \"latency_ms\": ");
  append_json_number (line, latency_ms, 3);
  g_string_append (line, "}");
  printf ("%s\n", line->str);
  fflush (stdout);
}

static void
print_text (const Detect *d, const char *path, guint width, guint height, double latency_ms)
{
  const KestrelTaskDecoderVTable *vt = kestrel_task_decoder_get_vtable (d->decoder);
  guint n = kestrel_detections_get_n (d->results);
  const char *noun = d->faces_key ? "face" : "detection";

  printf ("%s: %ux%u, %.2f ms, %u %s%s", path, width, height, latency_ms, n, noun, n == 1 ? "" : "s");
  for (guint i = 0; i < n; i++)
    {
      const KestrelDetection *det = kestrel_detections_get (d->results, i);
      printf ("%s%s%s%.2f at (%.0f, %.0f) %.0fx%.0f", i == 0 ? ": " : "; ",
              d->faces_key ? "" : vt->labels[det->label], d->faces_key ? "" : " ", (double) det->score, (double) det->x, (double) det->y,
              (double) det->width, (double) det->height);
    }
  printf ("\n");
  fflush (stdout);
}

/* One image; FALSE if it failed (already reported). */
static gboolean
detect_one (Detect *d, const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelImage) image = kestrel_image_new_from_file (path, &error);
  KestrelFrameInfo frame = { 0 };

  if (image == NULL)
    {
      print_error (d, path, error->message);
      return FALSE;
    }
  frame.width = kestrel_image_get_width (image);
  frame.height = kestrel_image_get_height (image);

  guint64 start = kestrel_stats_now_ns ();
  if (!kestrel_image_fill_plan_input (d->plan, kestrel_task_decoder_get_image_input (d->decoder),
                                      kestrel_image_get_view (image), &d->input_params, &frame.geometry, &error))
    {
      print_error (d, path, error->message);
      return FALSE;
    }
  kestrel_plan_run (d->plan);
  if (!kestrel_task_decoder_decode_plan (d->decoder, d->plan, &frame, &d->decode, d->results, &error))
    {
      print_error (d, path, error->message);
      return FALSE;
    }
  double latency = (kestrel_stats_now_ns () - start) / 1e6;

  if (d->json)
    print_json (d, path, frame.width, frame.height, latency);
  else
    print_text (d, path, frame.width, frame.height, latency);
  return TRUE;
}

int
kestrel_cli_detect (int argc, char **argv)
{
  g_autofree char *model_name = NULL;
  g_autofree char *level_name = NULL, *precision_name = NULL;
  KestrelPrecision precision = KESTREL_PRECISION_FP32;
  g_auto(GStrv) images = NULL;
  g_auto(GStrv) input_shapes = NULL;
  gint threads = 0;
  gdouble score_threshold = -1.0;
  gboolean json = FALSE, no_letterbox = FALSE;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_STRING, &model_name, "front (default), back, or an .onnx file", "MODEL" },
    { "input-shape", 0, 0, G_OPTION_ARG_STRING_ARRAY, &input_shapes, KESTREL_CLI_INPUT_SHAPE_HELP, "NAME=SHAPE" },
    { "level", 'l', 0, G_OPTION_ARG_STRING, &level_name, "scalar, simd, parallel or full (default)", "LEVEL" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Threads at the parallel levels (default: all cores)", "N" },
    { "precision", 'p', 0, G_OPTION_ARG_STRING, &precision_name,
      "fp32 (default), fp16 (half weights), int8 or int4 (4-bit weights; both calibrated on the bundled photos)", "P" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "One JSON object per image and line", NULL },
    { "score-threshold", 's', 0, G_OPTION_ARG_DOUBLE, &score_threshold,
      "Lowest score reported, 0..1 (default: the model's own, 0.5 front, 0.72 back; else the decoder's)", "S" },
    { "no-letterbox", 0, 0, G_OPTION_ARG_NONE, &no_letterbox,
      "Stretch images to the model's input instead of keeping their aspect ratio", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &images, NULL, "IMAGE..." },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- find faces in images");
  g_autoptr(GError) error = NULL;
  kk_level level = KK_LEVEL_FULL;

  const KestrelCliRange ranges[] = {
    KESTREL_CLI_THREADS_RANGE,
    { "score-threshold", 0, 1 },
    { NULL }
  };

  g_option_context_set_description (context,
    "Prints one line per image: its size, the latency of preprocessing, inference and decoding,\n"
    "and each face's score and box (x, y, width, height in image pixels). With --json, one\n"
    "object per line: {\"image\", \"width\", \"height\", \"faces\": [{\"score\", \"box\", \"keypoints\"}],\n"
    "\"latency_ms\"}, or {\"image\", \"error\"} for an image that cannot be read.\n"
    "A picture model no decoder plugin knows runs undecoded: its latency, nothing detected.\n"
    "Exit status: 0, 1 if any image failed, 2 for bad arguments.\n"
    "Plugins are searched in $KESTREL_PLUGIN_PATH first.");
  if (!kestrel_cli_parse_options ("detect", context, entries, ranges, NULL, 0, 0, &argc, &argv))
    return 2;
  if (images == NULL || images[0] == NULL)
    return kestrel_cli_fail ("detect", "no image given (see --help)", 2);
  if (!kestrel_cli_parse_level (level_name, &level, &error))
    return kestrel_cli_fail ("detect", error->message, 2);
  if (!kestrel_cli_parse_precision (precision_name, &precision, &error))
    return kestrel_cli_fail ("detect", error->message, 2);
  if (!kestrel_cli_check_input_shapes (input_shapes, &error))
    return kestrel_cli_fail ("detect", error->message, 2);

  g_autoptr(KestrelModel) model = kestrel_model_new_for_spec_at (model_name != NULL ? model_name : "front",
                                                                 (const char *const *) input_shapes, &error);
  if (model == NULL)
    return kestrel_cli_fail ("detect", error->message, 1);

  KestrelPluginRegistry *registry = kestrel_plugin_registry_get_default ();
  const KestrelTaskDecoderVTable *vtable = kestrel_plugin_registry_find_task_decoder_for_model (registry, model,
                                                                                               &error);
  /* As the engine does: a picture model no plugin decodes still runs, on
   * the generic decoder (latency measured, nothing found), so detect
   * works with any model `run` takes, at the size --input-shape gives. */
  g_autoptr(KestrelTaskDecoder) decoder = NULL;
  if (vtable == NULL && g_error_matches (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED))
    {
      g_autoptr(GError) generic_error = NULL;
      decoder = kestrel_task_decoder_new (&kestrel_generic_decoder_vtable, model, &generic_error);
      if (decoder == NULL)
        {
          g_autofree char *message = g_strdup_printf ("%s; and it cannot run undecoded: %s", error->message,
                                                      generic_error->message);
          return kestrel_cli_fail ("detect", message, 1);
        }
      g_clear_error (&error);
      vtable = &kestrel_generic_decoder_vtable;
    }
  else if (vtable != NULL)
    decoder = kestrel_task_decoder_new (vtable, model, &error);
  if (decoder == NULL)
    return kestrel_cli_fail ("detect", error->message, 1);

  KestrelPlanOptions plan_options;
  g_autoptr(KestrelQuantTable) table = NULL;
  kestrel_plan_options_init (&plan_options);
  plan_options.level = level;
  plan_options.n_threads = (guint) threads;
  if (!kestrel_cli_set_precision (&plan_options, precision, model, &table, &error))
    return kestrel_cli_fail ("detect", error->message, 1);
  g_autoptr(KestrelPlan) plan = kestrel_plan_new (model, &plan_options, &error);
  if (plan == NULL)
    return kestrel_cli_fail ("detect", error->message, 1);

  g_autoptr(KestrelDetections) results = kestrel_detections_new ();
  Detect d = {
    .json = json,
    .plan = plan,
    .decoder = decoder,
    .results = results,
    .faces_key = vtable->labels[0] != NULL && strcmp (vtable->labels[0], "face") == 0 && vtable->labels[1] == NULL,
  };
  kestrel_decode_options_init (&d.decode);
  d.decode.score_threshold = (float) score_threshold;
  /* As the engine does: a built-in model's own threshold, else the
   * decoder's default. */
  if (d.decode.score_threshold < 0)
    d.decode.score_threshold = kestrel_builtin_model_get_score_threshold (model_name != NULL ? model_name
                                                                                            : "front");
  kestrel_task_decoder_get_input_params (decoder, !no_letterbox, &d.input_params);

  /* One run before the first image: it faults in the arena and wakes the
   * workers, costs the first image's latency would otherwise carry. */
  const KestrelTensorView *input = kestrel_plan_get_input (plan, kestrel_task_decoder_get_image_input (decoder));
  if (!kestrel_image_check_input (input, &d.input_params, &error))
    return kestrel_cli_fail ("detect", error->message, 1);
  memset (input->data, 0, input->n_elements * sizeof (float));
  kestrel_plan_run (plan);

  int status = 0;
  for (guint i = 0; images[i] != NULL; i++)
    if (!detect_one (&d, images[i]))
      status = 1;
  return status;
}
