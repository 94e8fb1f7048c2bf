/* kestrel-bench-table.h — the Benchmark view's table of every number: a row
 * per cell (configuration, median, p90, frames/s, CPU per frame, SQNR,
 * faces agreeing) with its validity notes as sentences under it, sorted by
 * any column (click its heading; again for the other direction), and on
 * each of Kestrel's rows a "Use" button that emits ::use-cell.
 */
#pragma once

#include <gtk/gtk.h>

#include "kestrel-bench.h"

G_BEGIN_DECLS

#define KESTREL_TYPE_BENCH_TABLE (kestrel_bench_table_get_type ())
G_DECLARE_FINAL_TYPE (KestrelBenchTable, kestrel_bench_table, KESTREL, BENCH_TABLE, GtkWidget)

typedef enum {
  KESTREL_BENCH_COLUMN_CONFIGURATION,
  KESTREL_BENCH_COLUMN_MEDIAN,
  KESTREL_BENCH_COLUMN_P90,
  KESTREL_BENCH_COLUMN_FRAMES,
  KESTREL_BENCH_COLUMN_CPU,
  KESTREL_BENCH_COLUMN_SQNR,
  KESTREL_BENCH_COLUMN_FACES,
  KESTREL_BENCH_N_COLUMNS
} KestrelBenchColumn;

GtkWidget *kestrel_bench_table_new (void);
/* Borrowed: keep it alive until the next call (NULL clears). */
void kestrel_bench_table_set_result (KestrelBenchTable *self, const KestrelBenchResult *result);
/* Rows in the order of `column`; the heading buttons do this too. */
void kestrel_bench_table_sort (KestrelBenchTable *self, KestrelBenchColumn column, gboolean descending);
/* The cell shown in row `row` (0 = the first under the headings), or NULL. */
const KestrelBenchCell *kestrel_bench_table_get_row_cell (KestrelBenchTable *self, guint row);
/* Whether the Use buttons show (there are live settings to apply to). */
void kestrel_bench_table_set_can_use (KestrelBenchTable *self, gboolean can_use);
/* "Faces agreeing" as the table and the Best Under Budget line write it:
 * "100 % (4 of 4)", "75 % (3 of 4, 1 extra)", or "–". */
char *kestrel_bench_faces_text (const KestrelBenchCell *cell);

G_END_DECLS
