/* kestrel-cli quantize — an INT8 model as a standard QDQ ONNX file
 * (core/quant/kestrel-qdq-export.h).
 *
 *   kestrel-cli quantize MODEL --precision int8 [--frames DIR] [--method M] -o OUT.onnx
 *
 * MODEL is front, back or FILE.onnx. The calibration is the one the
 * engine's INT8 plans use: minmax ranges and the layers the sensitivity
 * search keeps FP32 (with the detections' agreement goal for a model a
 * plugin decodes), on the bundled photos (the user cache's table when it
 * is there) or on the images of --frames DIR. --method percentile or mse
 * chooses the ranges another way, as `kestrel-cli calibrate` does. The
 * file is written atomically: on any error a file already at OUT.onnx
 * stays as it was. Exit status 2: a bad option (no -o, a precision other
 * than int8, an unknown method, a folder that cannot be read); 1: the work
 * failed (the model does not load, calibration fails, the file cannot be
 * written).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "kestrel-calibrate-methods.h"
#include "kestrel-cli.h"
#include "kestrel-error.h"
#include "kestrel-mixed-precision.h"
#include "kestrel-qdq-export.h"
#include "kestrel-samples.h"

int
kestrel_cli_quantize (int argc, char **argv)
{
  g_autofree char *precision_name = NULL;
  g_autofree char *frames = NULL;
  g_autofree char *method_name = NULL;
  g_autofree char *output = NULL;
  g_autofree char *origin = NULL;
  g_autofree char *method_help = g_strdup_printf ("How ranges are chosen: %s (default minmax, as the engine)",
                                                  kestrel_calibration_method_names ());
  GOptionEntry entries[] = {
    { "precision", 'p', 0, G_OPTION_ARG_STRING, &precision_name, "Precision of the file: int8 (the only one)", "int8" },
    { "frames", 'f', 0, G_OPTION_ARG_FILENAME, &frames, "Calibrate on the images of this folder (default: the bundled photos)", "DIR" },
    { "method", 0, 0, G_OPTION_ARG_STRING, &method_name, method_help, "METHOD" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write the QDQ ONNX model here", "OUT.onnx" },
    { NULL }
  };
  const KestrelCliRange ranges[] = { { NULL } };
  g_autoptr (GOptionContext) context = g_option_context_new ("MODEL - an INT8 model as a QDQ ONNX file");
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (KestrelModel) model = NULL;
  g_autoptr (KestrelQuantTable) table = NULL;
  const KestrelCalibrationMethod *method = NULL;
  KestrelPrecision precision;
  int status = 1;

  if (!kestrel_cli_parse_options ("quantize", context, entries, ranges, "MODEL", 1, 1, &argc, &argv))
    return 2;
  if (precision_name == NULL)
    return kestrel_cli_fail ("quantize", "--precision: give int8", 2);
  if (!kestrel_cli_parse_precision (precision_name, &precision, &error))
    return kestrel_cli_fail ("quantize", error->message, 2);
  if (precision != KESTREL_PRECISION_INT8)
    {
      g_autofree char *msg = g_strdup_printf ("--precision %s: only int8 models can be written as QDQ files",
                                              precision_name);
      return kestrel_cli_fail ("quantize", msg, 2);
    }
  if (method_name != NULL && (method = kestrel_calibration_method_from_name (method_name)) == NULL)
    {
      g_autofree char *msg = g_strdup_printf ("--method: unknown method '%s' (expected %s)", method_name,
                                              kestrel_calibration_method_names ());
      return kestrel_cli_fail ("quantize", msg, 2);
    }
  if (output == NULL)
    return kestrel_cli_fail ("quantize", "--output: give the file to write (-o OUT.onnx)", 2);
  if (!kestrel_cli_check_output_file ("--output", output, &error))
    return kestrel_cli_fail ("quantize", error->message, 2);
  if (frames != NULL && !g_file_test (frames, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *msg = g_strdup_printf ("--frames: %s is not a folder", frames);
      return kestrel_cli_fail ("quantize", msg, 2);
    }

  bytes = kestrel_model_spec_dup_bytes (argv[1], &origin, &error);
  if (bytes == NULL)
    return kestrel_cli_fail ("quantize", error->message, 1);
  model = kestrel_model_new_from_bytes (bytes, origin, &error);
  if (model == NULL)
    return kestrel_cli_fail ("quantize", error->message, 1);

  if (method != NULL && strcmp (method->name, "minmax") != 0)
    {
      /* Another range method: calibrate's way, on the folder given (the
       * bundled photos by default). */
      g_autofree char *dir = frames != NULL ? g_strdup (frames) : g_strdup (kestrel_samples_get_dir ());
      table = kestrel_cli_calibrate_frames ("quantize", model, dir, method, KESTREL_MIXED_DEFAULT_GOAL_DB,
                                            &status, &error);
    }
  else
    {
      kk_model_input_params params;
      guint input;

      /* The engine's table: the cache's for the bundled photos. */
      if (kestrel_cli_model_input (model, &input, &params, &error))
        table = kestrel_calibrate_images (model, input, &params, frames, NULL, NULL, NULL, &error);
    }
  if (table == NULL)
    {
      g_prefix_error (&error, "calibrating for INT8: ");
      return kestrel_cli_fail ("quantize", error->message, status);
    }
  if (!kestrel_qdq_export_to_file (model, table, output, &error))
    return kestrel_cli_fail ("quantize", error->message, 1);
  fprintf (stderr, "%s: INT8, %u layers kept FP32, written to %s\n", origin,
           g_strv_length ((char **) kestrel_quant_table_get_fp32_layers (table)), output);
  return 0;
}
