/* fuzz-quant-table.c — calibration tables (core/quant, the JSON of the
 * calibration cache): bytes -> table; a table that loads is written again
 * and must read back entry for entry, bit for bit.
 */
#include "config.h"

#include <string.h>

#include "fuzz-target.h"
#include "kestrel-quant-table-file.h"

#define FUZZ_JSON_MAX_BYTES (256 * 1024)

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(KestrelQuantTable) table = NULL;
  g_autoptr(KestrelQuantTable) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  fuzz_init_logging ();
  if (size > FUZZ_JSON_MAX_BYTES)
    return 0;

  table = kestrel_quant_table_from_json ((const char *) data, (gssize) size, "fuzz.json", &error);
  fuzz_check_error (table != NULL, error);
  if (table == NULL)
    return 0;

  text = kestrel_quant_table_to_json (table);
  again = kestrel_quant_table_from_json (text, -1, "written", &error);
  if (again == NULL)
    {
      g_printerr ("a table that loaded does not load again once written: %s\n", error->message);
      abort ();
    }
  if (kestrel_quant_table_get_n_entries (again) != kestrel_quant_table_get_n_entries (table))
    abort ();
  for (guint i = 0; i < kestrel_quant_table_get_n_entries (table); i++)
    {
      KestrelQuantParams a, b;
      const char *name_a = kestrel_quant_table_get_entry (table, i, &a);
      const char *name_b = kestrel_quant_table_get_entry (again, i, &b);

      if (strcmp (name_a, name_b) != 0 || memcmp (&a.min, &b.min, sizeof a.min) != 0
          || memcmp (&a.max, &b.max, sizeof a.max) != 0 || memcmp (&a.scale, &b.scale, sizeof a.scale) != 0
          || a.zero_point != b.zero_point)
        {
          g_printerr ("entry %u ('%s') differs once written and read back\n", i, name_a);
          abort ();
        }
    }
  return 0;
}
