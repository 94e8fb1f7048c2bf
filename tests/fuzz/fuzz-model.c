/* fuzz-model.c — ONNX model bytes -> load (parse, shape inference, constant
 * folding) -> a plan at the scalar level -> one inference on inputs made of
 * the model's own bytes.
 *
 * Every failure must be a GError with a message; the sanitizers catch the
 * rest. Limits keep one execution to milliseconds and the fuzzer under its
 * 2 GB: files over FUZZ_MODEL_MAX_BYTES are skipped (scripts/fuzz.sh passes
 * the same -max_len), every tensor and plan arena a model asks for is capped
 * at FUZZ_TENSOR_MAX_BYTES through kestrel_tensor_set_max_bytes() (a larger
 * one is an error, which is itself what is being tested), and models of more
 * than FUZZ_MAX_MACS multiply-adds (2 M) are loaded and planned but not run.
 */
#include "config.h"

#include <string.h>

#include "fuzz-target.h"
#include "kestrel-model.h"
#include "kestrel-plan.h"

#define FUZZ_MODEL_MAX_BYTES (1024 * 1024)
#define FUZZ_TENSOR_MAX_BYTES ((gsize) 16 * 1024 * 1024)
#define FUZZ_MAX_MACS ((guint64) 2 * 1000 * 1000)

/* Input element k: a byte of the model, so inputs vary with the file and
 * reach index and shape operators with negative and large values. */
static void
fill_input (const KestrelTensorView *view, const uint8_t *data, size_t size)
{
  for (gsize k = 0; k < view->n_elements; k++)
    {
      gint8 b = (gint8) data[k % size];
      switch (view->dtype)
        {
        case KESTREL_DTYPE_FLOAT32:
          ((float *) view->data)[k] = b / 16.0f;
          break;
        case KESTREL_DTYPE_FLOAT16:
          ((guint16 *) view->data)[k] = (guint16) (0x3c00 + b); /* around 1.0 */
          break;
        case KESTREL_DTYPE_FLOAT64:
          ((double *) view->data)[k] = b / 16.0;
          break;
        case KESTREL_DTYPE_INT64:
          ((gint64 *) view->data)[k] = b;
          break;
        case KESTREL_DTYPE_INT32:
          ((gint32 *) view->data)[k] = b;
          break;
        case KESTREL_DTYPE_INT8:
        case KESTREL_DTYPE_UINT8:
          ((gint8 *) view->data)[k] = b;
          break;
        case KESTREL_DTYPE_BOOL:
          ((guint8 *) view->data)[k] = b & 1;
          break;
        default:
          abort ();
        }
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(KestrelModel) model = NULL;
  g_autoptr(KestrelPlan) plan = NULL;
  g_autoptr(GError) error = NULL;
  KestrelPlanOptions options;

  fuzz_init_logging ();
  kestrel_tensor_set_max_bytes (FUZZ_TENSOR_MAX_BYTES);
  if (size > FUZZ_MODEL_MAX_BYTES)
    return 0;

  bytes = g_bytes_new_static (data, size);
  model = kestrel_model_new_from_bytes (bytes, "fuzz.onnx", &error);
  fuzz_check_error (model != NULL, error);
  if (model == NULL)
    return 0;

  kestrel_plan_options_init (&options);
  options.level = KK_LEVEL_SCALAR;
  options.n_threads = 1;
  plan = kestrel_plan_new (model, &options, &error);
  fuzz_check_error (plan != NULL, error);
  if (plan == NULL || kestrel_model_get_macs (model) > FUZZ_MAX_MACS)
    return 0;

  for (guint i = 0; i < kestrel_plan_get_n_inputs (plan); i++)
    fill_input (kestrel_plan_get_input (plan, i), data, size);
  kestrel_plan_run (plan);
  return 0;
}
