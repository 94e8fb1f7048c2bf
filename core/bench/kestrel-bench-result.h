/* kestrel-bench-result.h — benchmark results as files: one versioned JSON
 * file per run (schema: data/kestrel-benchmark.schema.json), the CSV of its
 * table, and where runs are kept.
 *
 * Numbers that are not known (no energy, no accuracy) are null in JSON and
 * NAN in memory; an output identical to the FP32 reference (infinite SQNR)
 * is sqnr_db null with output_identical true. Doubles are written with 17
 * significant digits, so a result reloads bit for bit.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "kestrel-bench.h"

G_BEGIN_DECLS

#define KESTREL_BENCH_FORMAT "kestrel-benchmark"
/* 2 added each cell's "faces" (faces agreeing); version 1 files still
 * load, with the faces unmeasured. 3 added each cell's "reference_ms"
 * (the machine's reference loop before each visit); older files load
 * with none. */
#define KESTREL_BENCH_FORMAT_VERSION 3

JsonNode *kestrel_bench_result_to_json (const KestrelBenchResult *result);
/* Pretty-printed JSON. */
char *kestrel_bench_result_to_data (const KestrelBenchResult *result, gsize *length);
/* `origin` names the data in errors (a path). Errors name the member that
 * is missing or of the wrong type, or the version that is not known. */
KestrelBenchResult *kestrel_bench_result_from_json (JsonNode *root, const char *origin, GError **error);
KestrelBenchResult *kestrel_bench_result_load (const char *path, GError **error);
/* Written to a temporary file beside `path` and renamed: never a partial
 * file. */
gboolean kestrel_bench_result_save (const KestrelBenchResult *result, const char *path, GError **error);

/* g_get_user_data_dir()/kestrel/benchmarks, created on demand. */
char *kestrel_bench_dup_results_dir (GError **error);
/* Saves under the results folder as CREATED-MODEL.json; the path. */
char *kestrel_bench_result_save_default (const KestrelBenchResult *result, GError **error);
/* The saved runs, newest first (paths). */
GPtrArray *kestrel_bench_list_saved (void);

/* One row per cell, a header line first (RFC 4180: fields with commas or
 * quotes are quoted). No raw samples: the JSON has those. */
char *kestrel_bench_result_to_csv (const KestrelBenchResult *result);

G_END_DECLS
