/* kestrel-cli run-model — any supported model on inputs given as ONNX
 * TensorProto files (the format of the ONNX conformance data); writes
 * output_0.pb, output_1.pb, ... in graph output order. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "kestrel-cli.h"
#include "kestrel-onnx.h"
#include "kestrel-plan.h"

int
kestrel_cli_run_model (int argc, char **argv)
{
  g_auto(GStrv) inputs = NULL;
  g_autofree char *output_dir = NULL;
  g_autofree char *level_name = NULL;
  int threads = 0;
  GOptionEntry entries[] = {
    { "input", 'i', 0, G_OPTION_ARG_FILENAME_ARRAY, &inputs, "Input tensor (TensorProto .pb), once per graph input in order", "FILE" },
    { "output-dir", 'o', 0, G_OPTION_ARG_FILENAME, &output_dir, "Where to write output_N.pb", "DIR" },
    { "level", 'l', 0, G_OPTION_ARG_STRING, &level_name, "Optimisation level: scalar, simd, parallel, full (default full)", "LEVEL" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Threads at the parallel levels (default: all cores)", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("MODEL.onnx - run a model on TensorProto inputs");
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = NULL;
  g_autoptr(KestrelPlan) plan = NULL;
  KestrelPlanOptions options;
  guint n_given;

  const KestrelCliRange ranges[] = { KESTREL_CLI_THREADS_RANGE, { NULL } };

  if (!kestrel_cli_parse_options ("run-model", context, entries, ranges, "one MODEL.onnx", 1, 1, &argc, &argv))
    return 2;
  if (output_dir == NULL)
    return kestrel_cli_fail ("run-model", "--output-dir is required", 2);

  kestrel_plan_options_init (&options);
  if (!kestrel_cli_parse_level (level_name, &options.level, &error))
    return kestrel_cli_fail ("run-model", error->message, 2);
  options.n_threads = threads;

  model = kestrel_model_new_from_file (argv[1], &error);
  if (model == NULL)
    return kestrel_cli_fail ("run-model", error->message, 1);
  plan = kestrel_plan_new (model, &options, &error);
  if (plan == NULL)
    return kestrel_cli_fail ("run-model", error->message, 1);

  n_given = inputs != NULL ? g_strv_length (inputs) : 0;
  if (n_given != kestrel_plan_get_n_inputs (plan))
    {
      g_autofree char *message = g_strdup_printf ("the model has %u inputs, %u --input given",
                                                  kestrel_plan_get_n_inputs (plan), n_given);
      return kestrel_cli_fail ("run-model", message, 2);
    }
  for (guint i = 0; i < n_given; i++)
    {
      g_autoptr(KestrelTensor) tensor = kestrel_onnx_tensor_from_file (inputs[i], &error);
      const KestrelTensorView *view = kestrel_plan_get_input (plan, i);

      if (tensor == NULL)
        return kestrel_cli_fail ("run-model", error->message, 1);
      if (kestrel_tensor_get_dtype (tensor) != view->dtype
          || kestrel_tensor_get_n_elements (tensor) != view->n_elements)
        {
          g_autofree char *got = kestrel_tensor_describe (tensor);
          g_autofree char *want = kestrel_shape_to_string (view->n_dims, view->shape);
          g_autofree char *message = g_strdup_printf ("%s is %s, but input '%s' is %s%s", inputs[i],
                                                      got, kestrel_plan_get_input_name (plan, i),
                                                      kestrel_dtype_get_name (view->dtype), want);
          return kestrel_cli_fail ("run-model", message, 1);
        }
      memcpy (view->data, kestrel_tensor_get_data (tensor), kestrel_tensor_get_n_bytes (tensor));
    }

  kestrel_plan_run (plan);

  if (g_mkdir_with_parents (output_dir, 0755) != 0)
    {
      g_autofree char *message = g_strdup_printf ("cannot create %s", output_dir);
      return kestrel_cli_fail ("run-model", message, 1);
    }
  for (guint o = 0; o < kestrel_plan_get_n_outputs (plan); o++)
    {
      const KestrelTensorView *view = kestrel_plan_get_output (plan, o);
      g_autofree char *file = g_strdup_printf ("output_%u.pb", o);
      g_autofree char *path = g_build_filename (output_dir, file, NULL);
      gsize bytes = view->n_elements * kestrel_dtype_get_size (view->dtype);
      g_autoptr(KestrelTensor) tensor = kestrel_tensor_new_for_data (view->dtype, view->n_dims,
                                                                     view->shape, view->data, bytes,
                                                                     NULL, NULL, &error);
      if (tensor == NULL
          || !kestrel_onnx_tensor_to_file (tensor, kestrel_plan_get_output_name (plan, o), path, &error))
        return kestrel_cli_fail ("run-model", error->message, 1);
    }
  return 0;
}
