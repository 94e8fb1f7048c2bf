/* kestrel-cli run-model — any supported model on inputs given as ONNX
 * TensorProto files (the format of the ONNX conformance data); writes
 * output_0.pb, output_1.pb, ... in graph output order. An input with free
 * dimensions is planned at the shape of its file unless --input-shape
 * names it. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "kestrel-cli.h"
#include "kestrel-error.h"
#include "kestrel-onnx.h"
#include "kestrel-plan.h"

/* INT8 calibration on the given inputs themselves: one frame. */
static gboolean
fill_given_inputs (KestrelPlan *plan, guint frame, gpointer data, GError **error)
{
  GPtrArray *tensors = data;

  for (guint i = 0; i < tensors->len && i < kestrel_plan_get_n_inputs (plan); i++)
    {
      KestrelTensor *tensor = g_ptr_array_index (tensors, i);
      const KestrelTensorView *view = kestrel_plan_get_input (plan, i);
      if (kestrel_tensor_get_dtype (tensor) != view->dtype
          || kestrel_tensor_get_n_elements (tensor) != view->n_elements)
        {
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                       "calibrating for INT8: input %u does not fit input '%s'", i,
                       kestrel_plan_get_input_name (plan, i));
          return FALSE;
        }
      memcpy (view->data, kestrel_tensor_get_data (tensor), kestrel_tensor_get_n_bytes (tensor));
    }
  return TRUE;
}

int
kestrel_cli_run_model (int argc, char **argv)
{
  g_auto(GStrv) inputs = NULL;
  g_auto(GStrv) input_shapes = NULL;
  g_autofree char *output_dir = NULL;
  g_autofree char *level_name = NULL, *precision_name = NULL;
  KestrelPrecision precision = KESTREL_PRECISION_FP32;
  g_autoptr(KestrelQuantTable) table = NULL;
  int threads = 0;
  GOptionEntry entries[] = {
    { "input", 'i', 0, G_OPTION_ARG_FILENAME_ARRAY, &inputs, "Input tensor (TensorProto .pb), once per graph input in order", "FILE" },
    { "output-dir", 'o', 0, G_OPTION_ARG_FILENAME, &output_dir, "Where to write output_N.pb", "DIR" },
    { "level", 'l', 0, G_OPTION_ARG_STRING, &level_name, "Optimisation level: scalar, simd, parallel, full (default full)", "LEVEL" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Threads at the parallel levels (default: all cores)", "N" },
    { "precision", 'p', 0, G_OPTION_ARG_STRING, &precision_name,
      "fp32 (default), fp16 (half weights), int8 or int4 (4-bit weights; both calibrated on the given inputs)", "P" },
    { "input-shape", 0, 0, G_OPTION_ARG_STRING_ARRAY, &input_shapes, KESTREL_CLI_INPUT_SHAPE_HELP " (default: the shape of its --input file)", "NAME=SHAPE" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("MODEL.onnx - run a model on TensorProto inputs");
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = NULL;
  g_autoptr(KestrelPlan) plan = NULL;
  g_autoptr(GPtrArray) tensors = NULL;
  g_autoptr(GPtrArray) shapes = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *origin = NULL;
  KestrelGraph *graph;
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
  if (!kestrel_cli_parse_precision (precision_name, &precision, &error))
    return kestrel_cli_fail ("run-model", error->message, 2);
  options.n_threads = threads;

  if (!kestrel_cli_check_input_shapes (input_shapes, &error))
    return kestrel_cli_fail ("run-model", error->message, 2);

  n_given = inputs != NULL ? g_strv_length (inputs) : 0;
  tensors = g_ptr_array_new_with_free_func ((GDestroyNotify) kestrel_tensor_unref);
  for (guint i = 0; i < n_given; i++)
    {
      KestrelTensor *tensor = kestrel_onnx_tensor_from_file (inputs[i], &error);
      if (tensor == NULL)
        return kestrel_cli_fail ("run-model", error->message, 1);
      g_ptr_array_add (tensors, tensor);
    }

  bytes = kestrel_model_spec_dup_bytes (argv[1], &origin, &error);
  graph = bytes != NULL ? kestrel_onnx_load_graph (bytes, origin, &error) : NULL;
  if (graph == NULL)
    return kestrel_cli_fail ("run-model", error->message, 1);
  if (n_given != graph->inputs->len)
    {
      g_autofree char *message = g_strdup_printf ("the model has %u inputs, %u --input given",
                                                  graph->inputs->len, n_given);
      kestrel_graph_free (graph);
      return kestrel_cli_fail ("run-model", message, 2);
    }
  shapes = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; input_shapes != NULL && input_shapes[i] != NULL; i++)
    g_ptr_array_add (shapes, g_strdup (input_shapes[i]));
  for (guint i = 0; i < n_given; i++)
    {
      const KestrelValue *value = kestrel_graph_value (graph, g_array_index (graph->inputs, gint, i));
      KestrelTensor *tensor = g_ptr_array_index (tensors, i);
      g_autofree char *prefix = g_strconcat (value->name, "=", NULL);
      gboolean named = FALSE;

      for (guint s = 0; input_shapes != NULL && input_shapes[s] != NULL; s++)
        named = named || g_str_has_prefix (input_shapes[s], prefix);
      if (value->free_dims == 0 || named || kestrel_tensor_get_n_dims (tensor) == 0)
        continue;
      GString *spec = g_string_new (prefix);
      for (guint d = 0; d < kestrel_tensor_get_n_dims (tensor); d++)
        g_string_append_printf (spec, "%s%" G_GINT64_FORMAT, d > 0 ? "x" : "",
                                kestrel_tensor_get_shape (tensor)[d]);
      g_ptr_array_add (shapes, g_string_free (spec, FALSE));
    }
  g_ptr_array_add (shapes, NULL);

  model = kestrel_model_new_from_graph_at (graph, origin, (const char *const *) shapes->pdata, &error);
  if (model == NULL)
    return kestrel_cli_fail ("run-model", error->message, 1);
  options.precision = precision;
  if (kestrel_precision_is_integer (precision) && kestrel_precision_is_supported (precision))
    {
      table = kestrel_calibrate_minmax (model, 1, fill_given_inputs, tensors, NULL, &error);
      if (table == NULL)
        return kestrel_cli_fail ("run-model", error->message, 1);
      options.quant_table = table;
    }
  plan = kestrel_plan_new (model, &options, &error);
  if (plan == NULL)
    return kestrel_cli_fail ("run-model", error->message, 1);

  for (guint i = 0; i < n_given; i++)
    {
      KestrelTensor *tensor = g_ptr_array_index (tensors, i);
      const KestrelTensorView *view = kestrel_plan_get_input (plan, i);

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
      gsize n_bytes = view->n_elements * kestrel_dtype_get_size (view->dtype);
      g_autoptr(KestrelTensor) tensor = kestrel_tensor_new_for_data (view->dtype, view->n_dims,
                                                                     view->shape, view->data, n_bytes,
                                                                     NULL, NULL, &error);
      if (tensor == NULL
          || !kestrel_onnx_tensor_to_file (tensor, kestrel_plan_get_output_name (plan, o), path, &error))
        return kestrel_cli_fail ("run-model", error->message, 1);
    }
  return 0;
}
