/* fuzz-bench-result.c — benchmark result files (core/bench/, schema
 * data/kestrel-benchmark.schema.json), the JSON `kestrel-cli compare`
 * reads: bytes -> JSON -> result; a result that loads is written again as
 * JSON and CSV, reloaded, and compared with itself.

 */
#include "config.h"

#include "fuzz-target.h"
#include "kestrel-bench-compare.h"
#include "kestrel-bench-result.h"

#define FUZZ_JSON_MAX_BYTES (256 * 1024)

static KestrelBenchResult *
load (const char *data, gsize size, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();

  if (!json_parser_load_from_data (parser, data, (gssize) size, error))
    return NULL;
  return kestrel_bench_result_from_json (json_parser_get_root (parser), "fuzz.json", error);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(KestrelBenchResult) result = NULL;
  g_autoptr(KestrelBenchResult) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *csv = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  gsize length;

  fuzz_init_logging ();
  if (size > FUZZ_JSON_MAX_BYTES)
    return 0;

  result = load ((const char *) data, size, &error);
  fuzz_check_error (result != NULL, error);
  if (result == NULL)
    return 0;

  text = kestrel_bench_result_to_data (result, &length);
  csv = kestrel_bench_result_to_csv (result);
  again = load (text, length, &error);
  if (again == NULL)
    {
      g_printerr ("a result that loaded does not load again once written: %s\n", error->message);
      abort ();
    }
  rows = kestrel_bench_compare (result, again);
  g_free (kestrel_bench_comparison_format (result, again, rows, "text"));
  return 0;
}
