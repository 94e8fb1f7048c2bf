/* fuzz-tensor.c — TensorProto files (the inputs of `kestrel-cli run-model`
 * and the ONNX conformance data): bytes -> tensor, and a tensor read back
 * after writing it must be the same tensor.
 */
#include "config.h"

#include <string.h>

#include "fuzz-target.h"
#include "kestrel-onnx.h"

/* scripts/fuzz.sh passes the same -max_len. */
#define FUZZ_TENSOR_FILE_MAX_BYTES (1024 * 1024)

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GBytes) written = NULL;
  g_autoptr(KestrelTensor) tensor = NULL;
  g_autoptr(KestrelTensor) again = NULL;
  g_autoptr(GError) error = NULL;

  fuzz_init_logging ();
  if (size > FUZZ_TENSOR_FILE_MAX_BYTES)
    return 0;

  bytes = g_bytes_new_static (data, size);
  tensor = kestrel_onnx_tensor_from_bytes (bytes, "fuzz.pb", &error);
  fuzz_check_error (tensor != NULL, error);
  if (tensor == NULL)
    return 0;

  written = kestrel_onnx_tensor_to_bytes (tensor, "again");
  again = kestrel_onnx_tensor_from_bytes (written, "written", &error);
  fuzz_check_error (again != NULL, error);
  if (again == NULL
      || kestrel_tensor_get_dtype (again) != kestrel_tensor_get_dtype (tensor)
      || kestrel_tensor_get_n_dims (again) != kestrel_tensor_get_n_dims (tensor)
      || memcmp (kestrel_tensor_get_shape (again), kestrel_tensor_get_shape (tensor),
                 kestrel_tensor_get_n_dims (tensor) * sizeof (gint64)) != 0
      || kestrel_tensor_get_n_bytes (again) != kestrel_tensor_get_n_bytes (tensor)
      || memcmp (kestrel_tensor_get_data (again), kestrel_tensor_get_data (tensor),
                 kestrel_tensor_get_n_bytes (tensor)) != 0)
    {
      g_printerr ("a tensor written and read back differs\n");
      abort ();
    }
  return 0;
}
