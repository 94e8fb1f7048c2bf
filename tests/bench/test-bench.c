/* test-bench.c — core/bench/: a one-cell suite on the front model and the
 * bundled photos, its result file reloaded, cancelling, and the comparison
 * statistics on synthetic results. No timing is asserted: the tests check
 * what was recorded and how it was judged, never how fast anything ran. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "kestrel-bench-compare.h"
#include "kestrel-bench-result.h"
#include "kestrel-bench.h"
#include "kestrel-builtin-models.h"
#include "kestrel-error.h"

static char *samples_dir;

static KestrelBenchResult *
one_cell_suite (kk_level level, double seconds, GCancellable *cancellable, GError **error)
{
  g_autoptr(KestrelModel) model = kestrel_builtin_model_new ("front", error);
  KestrelBenchOptions options;

  g_assert_nonnull (model);
  kestrel_bench_options_init (&options);
  options.n_precisions = 1;
  options.precisions[0] = KESTREL_PRECISION_FP32;
  options.n_levels = 1;
  options.levels[0] = level;
  options.n_batches = 1;
  options.batches[0] = 1;
  options.time_per_cell_s = seconds;
  options.rounds = 2;
  options.seed = 7;
  options.samples_dir = samples_dir;
  return kestrel_bench_run (model, "front", NULL, &options, NULL, NULL, NULL, cancellable, error);
}

static void
test_one_cell (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelBenchResult) r = one_cell_suite (KK_LEVEL_SIMD, 0.2, NULL, &error);
  g_autoptr(KestrelBenchResult) back = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-bench-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "one.json", NULL);
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *csv = NULL;
  const KestrelBenchCell *c;

  g_assert_no_error (error);
  g_assert_cmpuint (r->cells->len, ==, 1);
  c = r->cells->pdata[0];
  g_assert_cmpstr (c->engine, ==, "kestrel");
  g_assert_cmpint (c->level, ==, KK_LEVEL_SIMD);
  g_assert_cmpuint (c->threads, ==, 1);
  g_assert_cmpuint (c->round_medians_ms->len, ==, 2);
  /* The machine's reference loop before each visit. */
  g_assert_cmpuint (c->reference_ms->len, ==, 2);
  g_assert_cmpfloat (g_array_index (c->reference_ms, double, 0), >, 0);
  g_assert_cmpuint (c->samples_ms->len, >=, 10);
  g_assert_cmpfloat (c->ci_low_ms, <=, c->median_ms);
  g_assert_cmpfloat (c->median_ms, <=, c->ci_high_ms);
  g_assert_cmpfloat (c->median_ms, <=, c->p90_ms);
  g_assert_cmpfloat (c->p90_ms, <=, c->p99_ms);
  g_assert_cmpfloat (c->mad_ms, >=, 0);
  g_assert_true (c->build_ms > 0 && c->first_run_ms > 0 && c->cpu_ms_per_frame > 0);
  g_assert_cmpuint (c->arena_bytes, >, 0);
  g_assert_cmpuint (c->weight_bytes, ==, r->weight_bytes);
  /* The five photos, and SIMD FP32 close to the scalar reference but not
   * necessarily bit-identical (fused multiply-adds, other summation order). */
  g_assert_cmpuint (r->n_photos, ==, 5);
  g_assert_true (isinf (c->sqnr_db) || c->sqnr_db > 60);
  /* Faces agreeing (the blazeface plugin decodes the front model): the
   * photos have faces, and FP32 at simd finds every one the reference
   * does, at IoU >= 0.9 and a score within 0.05, and no other. */
  g_assert_cmpint (c->faces_fp32, >, 0);
  g_assert_cmpuint (c->faces_matched, ==, (guint) c->faces_fp32);
  g_assert_cmpuint (c->faces_extra, ==, 0);
  g_assert_cmpfloat (kestrel_bench_cell_get_faces_agreeing (c), ==, 1.0);
  g_assert_nonnull (r->cpu_model);
  g_assert_cmpuint (r->cores, ==, g_get_num_processors ());
  g_assert_cmpuint (r->multiply_adds, >, 0);
  /* Either energy per frame or a note saying why there is none. */
  g_assert_true (isfinite (c->energy_mj_per_frame) != (r->energy_note != NULL));

  g_assert_true (kestrel_bench_result_save (r, path, &error));
  g_assert_no_error (error);
  back = kestrel_bench_result_load (path, &error);
  g_assert_no_error (error);
  first = kestrel_bench_result_to_data (r, NULL);
  second = kestrel_bench_result_to_data (back, NULL);
  g_assert_cmpstr (first, ==, second);
  g_assert_cmpmem (c->samples_ms->data, c->samples_ms->len * sizeof (double),
                   ((KestrelBenchCell *) back->cells->pdata[0])->samples_ms->data,
                   ((KestrelBenchCell *) back->cells->pdata[0])->samples_ms->len * sizeof (double));

  csv = kestrel_bench_result_to_csv (r);
  g_assert_true (g_str_has_prefix (csv, "engine,precision,level,"));
  g_assert_nonnull (strstr (csv, ",faces_fp32,faces_matched,faces_extra,faces_agreeing,"));
  g_assert_nonnull (strstr (csv, "\r\nkestrel,fp32,simd,1,1,"));

  g_unlink (path);
  g_rmdir (dir);
}

static gboolean
cancel_later (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static gpointer
cancel_thread (gpointer user_data)
{
  g_usleep (300 * 1000);
  cancel_later (user_data);
  return NULL;
}

static void
test_cancel (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelBenchResult) r = NULL;
  GThread *thread = g_thread_new ("cancel", cancel_thread, cancellable);
  gint64 start = g_get_monotonic_time ();

  /* The scalar cell alone would run for a minute. */
  r = one_cell_suite (KK_LEVEL_SCALAR, 60, cancellable, &error);
  g_thread_join (thread);
  g_assert_null (r);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_test_message ("returned %.3f s after the start, cancelled at 0.3 s",
                  (g_get_monotonic_time () - start) / 1e6);
}

static void
test_bad_axis (void)
{
  g_autoptr(KestrelModel) model = kestrel_builtin_model_new ("front", NULL);
  g_autoptr(GError) error = NULL;
  KestrelBenchOptions options;

  kestrel_bench_options_init (&options);
  options.n_batches = 1;
  options.batches[0] = 0;
  g_assert_null (kestrel_bench_run (model, "front", NULL, &options, NULL, NULL, NULL, NULL, &error));
  g_assert_nonnull (strstr (error->message, "batch 0"));
}

/* ---- comparison ---------------------------------------------------------------- */

/* n times around `median` with 5% log-normal spread, from `seed`. */
static KestrelBenchResult *
synthetic (double median, guint seed, guint n)
{
  KestrelBenchResult *r = kestrel_bench_result_new ();
  KestrelBenchCell *c = kestrel_bench_cell_new ("kestrel", KESTREL_PRECISION_FP32, KK_LEVEL_FULL, 2, 1);
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  double reference_ms = 0.1;

  for (guint i = 0; i < n; i++)
    {
      /* Box-Muller. */
      double u1 = g_rand_double_range (rand, 1e-12, 1), u2 = g_rand_double (rand);
      double z = sqrt (-2 * log (u1)) * cos (2 * G_PI * u2);
      double t = median * exp (0.05 * z);
      g_array_append_val (c->samples_ms, t);
    }
  kestrel_bench_cell_update_stats (c);
  g_array_append_val (c->round_medians_ms, c->median_ms);
  g_array_append_val (c->reference_ms, reference_ms);
  g_ptr_array_add (r->cells, c);
  r->created = g_strdup ("2026-01-01T00:00:00Z");
  r->cpu_model = g_strdup ("synthetic");
  r->cpu_features = g_strdup ("");
  r->isa = g_strdup ("scalar");
  r->cores = 2;
  r->kernel = g_strdup ("none");
  r->kestrel_version = g_strdup ("0");
  r->git_commit = g_strdup ("none");
  r->model_name = g_strdup ("synthetic");
  r->time_per_cell_s = 2;
  r->rounds = 1;
  r->target_ci = 0.02;
  r->wall_s = 1;
  return r;
}

/* Through files, as kestrel-cli compare sees them. */
static KestrelBenchResult *
through_file (KestrelBenchResult *r, const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;
  KestrelBenchResult *back;

  g_assert_true (kestrel_bench_result_save (r, path, &error));
  back = kestrel_bench_result_load (path, &error);
  g_assert_no_error (error);
  g_unlink (path);
  kestrel_bench_result_free (r);
  return back;
}

static void
test_compare_files (void)
{
  g_autofree char *dir = g_dir_make_tmp ("test-bench-XXXXXX", NULL);
  g_autoptr(KestrelBenchResult) a = through_file (synthetic (10.0, 1, 200), dir, "a.json");
  g_autoptr(KestrelBenchResult) slower = through_file (synthetic (11.0, 2, 200), dir, "b.json");
  g_autoptr(KestrelBenchResult) same = through_file (synthetic (10.0, 3, 200), dir, "c.json");
  g_autoptr(GPtrArray) rows = kestrel_bench_compare (a, slower);
  g_autoptr(GPtrArray) rows_same = kestrel_bench_compare (a, same);
  g_autoptr(GPtrArray) rows_back = kestrel_bench_compare (slower, a);
  const KestrelBenchComparison *row;
  g_autofree char *md = NULL;

  g_assert_cmpuint (rows->len, ==, 1);
  row = rows->pdata[0];
  g_assert_cmpint (row->verdict, ==, KESTREL_BENCH_SLOWER);
  g_assert_cmpfloat (row->p_value, <, 0.001);
  g_assert_cmpfloat (row->ratio_low, >, 1.0);
  g_assert_cmpfloat (row->ratio_low, <=, row->ratio);
  g_assert_cmpfloat (row->ratio, <=, row->ratio_high);
  g_assert_cmpfloat (fabs (row->ratio - 1.1), <, 0.02);
  g_assert_cmpint (((KestrelBenchComparison *) rows_back->pdata[0])->verdict, ==, KESTREL_BENCH_FASTER);

  row = rows_same->pdata[0];
  g_assert_cmpint (row->verdict, ==, KESTREL_BENCH_SAME);
  g_assert_cmpfloat (row->p_value, >, 0.05);
  g_assert_cmpfloat (row->ratio_low, <=, 1.0);
  g_assert_cmpfloat (row->ratio_high, >=, 1.0);

  md = kestrel_bench_comparison_format (a, slower, rows, "markdown");
  g_assert_nonnull (strstr (md, "| fp32 full t2 b1 |"));
  g_assert_nonnull (strstr (md, "| slower |"));
  g_assert_null (kestrel_bench_comparison_format (a, slower, rows, "yaml"));
  g_rmdir (dir);
}

/* Files that are JSON, or nearly, but no result: an error each. White
 * space alone parses to no value at all, which crashed the loader (found
 * by tests/fuzz, target bench-result). */
/* A cell made by hand for the choosing tests. */
static KestrelBenchCell *
made_cell (const char *engine, KestrelPrecision p, kk_level l, guint threads, double median_ms, double cpu_ms,
           double sqnr_db, int fp32, guint matched, guint extra)
{
  KestrelBenchCell *c = kestrel_bench_cell_new (engine, p, l, threads, 1);

  c->median_ms = median_ms;
  c->frames_per_s = 1000.0 / median_ms;
  c->cpu_ms_per_frame = cpu_ms;
  c->sqnr_db = sqnr_db;
  c->faces_fp32 = fp32;
  c->faces_matched = matched;
  c->faces_extra = extra;
  return c;
}

/* The Pareto front and Best Under Budget: the accuracy goal (faces
 * agreeing 100 %), the budget holding each cell to budget / CPU per frame,
 * peers never chosen. */
static void
test_pick (void)
{
  g_autoptr(KestrelBenchResult) r = synthetic (10.0, 1, 10);
  KestrelBenchCell *simd = made_cell ("kestrel", KESTREL_PRECISION_FP32, KK_LEVEL_SIMD, 1, 4.0, 4.0, 120, 3, 3, 0);
  KestrelBenchCell *full = made_cell ("kestrel", KESTREL_PRECISION_FP32, KK_LEVEL_FULL, 2, 2.5, 4.8, 120, 3, 3, 0);
  KestrelBenchCell *int8 = made_cell ("kestrel", KESTREL_PRECISION_INT8, KK_LEVEL_FULL, 2, 1.5, 2.8, 17, 3, 2, 1);
  KestrelBenchCell *peer = made_cell ("onnxruntime", KESTREL_PRECISION_FP32, KK_LEVEL_FULL, 2, 1.0, 1.0, NAN, -1, 0, 0);
  g_autoptr(GPtrArray) front = NULL;
  g_autofree char *csv = NULL;
  double rate;

  g_ptr_array_set_size (r->cells, 0);
  g_ptr_array_add (r->cells, simd);
  g_ptr_array_add (r->cells, full);
  g_ptr_array_add (r->cells, int8);
  g_ptr_array_add (r->cells, peer);

  g_assert_cmpfloat (kestrel_bench_cell_get_faces_agreeing (int8), ==, 0.5);   /* 2 of 3 + 1 extra */
  g_assert_true (isnan (kestrel_bench_cell_get_faces_agreeing (peer)));
  g_assert_true (kestrel_bench_cell_meets_goal (full));
  g_assert_false (kestrel_bench_cell_meets_goal (int8));
  g_assert_true (kestrel_bench_cell_meets_goal (peer));   /* FP32, unmeasured: the reference's precision */

  /* No budget: the fastest that meets the goal, the peer left out. */
  g_assert_true (kestrel_bench_best_under_budget (r, 0, &rate) == full);
  g_assert_cmpfloat (fabs (rate - 400), <, 1e-9);
  /* 100 % of a core: full is held to 1000 / 4.8 = 208 frames/s, simd
   * gives its 250. */
  g_assert_true (kestrel_bench_best_under_budget (r, 100, &rate) == simd);
  g_assert_cmpfloat (fabs (rate - 250), <, 1e-9);
  g_assert_true (kestrel_bench_best_under_budget (r, 300, NULL) == full);
  /* Nothing meets the goal: no pick. */
  full->faces_extra = simd->faces_extra = 1;
  g_assert_null (kestrel_bench_best_under_budget (r, 0, &rate));
  g_assert_true (isnan (rate));

  /* Fastest first; simd is slower than full at the same SQNR, the peer
   * has no SQNR. */
  front = kestrel_bench_pareto_front (r);
  g_assert_cmpuint (front->len, ==, 2);
  g_assert_true (front->pdata[0] == int8 && front->pdata[1] == full);

  csv = kestrel_bench_result_to_csv (r);
  g_assert_nonnull (strstr (csv, ",3,2,1,0.5,"));
  g_assert_nonnull (strstr (csv, ",,,,,"));   /* the peer: no SQNR, no faces */
}

/* A version 1 file (before faces agreeing) still loads, its faces
 * unmeasured; faces written by version 2 come back; a version 2 file has
 * no reference loop; a version from the future does not load. */
static void
test_versions (void)
{
  g_autoptr(KestrelBenchResult) r = synthetic (10.0, 1, 10);
  g_autoptr(KestrelBenchResult) back = NULL;
  g_autoptr(KestrelBenchResult) old = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  KestrelBenchCell *c = r->cells->pdata[0];
  JsonObject *o, *cell;

  c->faces_fp32 = 4;
  c->faces_matched = 3;
  c->faces_extra = 2;
  root = kestrel_bench_result_to_json (r);
  back = kestrel_bench_result_from_json (root, "v2", &error);
  g_assert_no_error (error);
  c = back->cells->pdata[0];
  g_assert_cmpint (c->faces_fp32, ==, 4);
  g_assert_cmpuint (c->faces_matched, ==, 3);
  g_assert_cmpuint (c->faces_extra, ==, 2);

  o = json_node_get_object (root);
  g_assert_cmpint (json_object_get_int_member (o, "version"), ==, 3);
  cell = json_array_get_object_element (json_object_get_array_member (o, "cells"), 0);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (cell, "reference_ms")), ==, 1);
  json_object_set_int_member (o, "version", 2);
  json_object_remove_member (cell, "reference_ms");
  {
    g_autoptr(KestrelBenchResult) v2 = kestrel_bench_result_from_json (root, "v2", &error);
    double median, low, high;
    g_assert_no_error (error);
    g_assert_cmpuint (((KestrelBenchCell *) v2->cells->pdata[0])->reference_ms->len, ==, 0);
    g_assert_false (kestrel_bench_result_get_reference (v2, &median, &low, &high));
  }
  json_object_set_int_member (o, "version", 1);
  cell = json_array_get_object_element (json_object_get_array_member (o, "cells"), 0);
  json_object_remove_member (cell, "faces");
  old = kestrel_bench_result_from_json (root, "v1", &error);
  g_assert_no_error (error);
  g_assert_cmpint (((KestrelBenchCell *) old->cells->pdata[0])->faces_fp32, ==, -1);
  g_assert_true (isnan (kestrel_bench_cell_get_faces_agreeing (old->cells->pdata[0])));

  /* More matched than FP32 found is not a result. */
  json_object_set_int_member (o, "version", 2);
  {
    JsonObject *faces = json_object_new ();
    json_object_set_int_member (faces, "fp32", 1);
    json_object_set_int_member (faces, "matched", 2);
    json_object_set_int_member (faces, "extra", 0);
    json_object_set_object_member (cell, "faces", faces);
  }
  g_assert_null (kestrel_bench_result_from_json (root, "bad", &error));
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "faces"));
  g_clear_error (&error);

  json_object_set_int_member (o, "version", 4);
  g_assert_null (kestrel_bench_result_from_json (root, "v4", &error));
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED);
}

/* The reference loop says when the machine itself changed speed between
 * two results of the same build on the same CPU model, and by how much. */
static void
test_machine_speed (void)
{
  g_autoptr(KestrelBenchResult) a = synthetic (10.0, 1, 50);
  g_autoptr(KestrelBenchResult) b = synthetic (11.0, 2, 50);
  GArray *ref_b = ((KestrelBenchCell *) b->cells->pdata[0])->reference_ms;
  g_autofree char *same = kestrel_bench_compare_machine_speed (a, b);
  g_autofree char *slower = NULL;
  g_autofree char *other_build = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  double median, low, high;

  /* Equal reference loops: the 10% is the software's. */
  g_assert_null (same);

  g_array_index (ref_b, double, 0) = 0.11;
  g_array_append_val (ref_b, g_array_index (ref_b, double, 0));
  g_assert_true (kestrel_bench_result_get_reference (b, &median, &low, &high));
  g_assert_cmpfloat (median, ==, 0.11);
  slower = kestrel_bench_compare_machine_speed (a, b);
  g_assert_nonnull (slower);
  g_assert_nonnull (strstr (slower, "10% slower in B"));
  rows = kestrel_bench_compare (a, b);
  text = kestrel_bench_comparison_format (a, b, rows, "text");
  g_assert_nonnull (strstr (text, slower));
  g_assert_nonnull (strstr (text, "reference loop 0.1100 ms"));

  /* Another build's loop is other work: no sentence. */
  g_free (b->git_commit);
  b->git_commit = g_strdup ("other");
  other_build = kestrel_bench_compare_machine_speed (a, b);
  g_assert_null (other_build);
}

static void
test_not_results (void)
{
  const char *const texts[] = { " \n", "null", "[]", "{}", "{\"format\": 1}", "\"kestrel-benchmark\"" };
  g_autofree char *dir = g_dir_make_tmp ("test-bench-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "r.json", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(KestrelBenchResult) r = NULL;

      g_assert_true (g_file_set_contents (path, texts[i], -1, NULL));
      r = kestrel_bench_result_load (path, &error);
      g_assert_null (r);
      g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT);
      g_assert_nonnull (strstr (error->message, "is not a Kestrel benchmark result"));
    }
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_mann_whitney (void)
{
  const double x[] = { 1, 2, 3 }, y[] = { 4, 5, 6 };
  const double tx[] = { 1, 2, 2, 3 }, ty[] = { 2, 3, 4, 5 };
  double u, z, p;

  /* Every y above every x: U of y is nx * ny. */
  kestrel_bench_mann_whitney (x, 3, y, 3, &u, &z, &p);
  g_assert_cmpfloat (u, ==, 9);
  /* mu 4.5, sigma sqrt(9 * 7 / 12) = 2.2913, continuity: z = 4 / 2.2913. */
  g_assert_cmpfloat (fabs (z - 4.0 / sqrt (63.0 / 12.0)), <, 1e-9);
  g_assert_cmpfloat (fabs (p - erfc (z / G_SQRT2)), <, 1e-12);

  /* Ties: ranks 1, 3, 3, 3 (three 2s), 5.5, 5.5 (two 3s), 7, 8.
   * y = {2, 3, 4, 5}: 3 + 5.5 + 7 + 8 = 23.5, U = 23.5 - 10 = 13.5.
   * Tie term: (27 - 3) + (8 - 2) = 30; sigma^2 = 16 / 12 * (9 - 30 / 56). */
  kestrel_bench_mann_whitney (tx, 4, ty, 4, &u, &z, &p);
  g_assert_cmpfloat (u, ==, 13.5);
  g_assert_cmpfloat (fabs (z - (13.5 - 8 - 0.5) / sqrt (16.0 / 12.0 * (9 - 30.0 / 56.0))), <, 1e-9);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  samples_dir = g_strdup (g_getenv ("KESTREL_SAMPLES_DIR"));
  g_test_add_func ("/bench/one-cell", test_one_cell);
  g_test_add_func ("/bench/cancel", test_cancel);
  g_test_add_func ("/bench/bad-axis", test_bad_axis);
  g_test_add_func ("/bench/compare-files", test_compare_files);
  g_test_add_func ("/bench/not-results", test_not_results);
  g_test_add_func ("/bench/mann-whitney", test_mann_whitney);
  g_test_add_func ("/bench/pick", test_pick);
  g_test_add_func ("/bench/versions", test_versions);
  g_test_add_func ("/bench/machine-speed", test_machine_speed);
  return g_test_run ();
}
