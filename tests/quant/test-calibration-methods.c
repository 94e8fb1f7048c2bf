/* test-calibration-methods.c — the percentile and mse methods on a real
 * model, calibration tables as JSON files, and the calibration cache
 * (core/quant/kestrel-calibrate-methods.h, kestrel-quant-table-file.h). */
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>

#include <glib/gstdio.h>

#include "kestrel-builtin-models.h"
#include "kestrel-calibrate-methods.h"
#include "kestrel-error.h"
#include "kestrel-quant-table-file.h"
#include "quant-test-util.h"

static KestrelModel *
load_front (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *origin = NULL;
  g_autoptr (GBytes) bytes = kestrel_model_spec_dup_bytes ("front", &origin, &error);
  g_assert_no_error (error);
  KestrelModel *model = kestrel_model_new_from_bytes (bytes, origin, &error);
  g_assert_no_error (error);
  return model;
}

static KestrelQuantTable *
calibrate_front (KestrelModel *model, const KestrelCalibrationMethod *method)
{
  g_autoptr (GError) error = NULL;
  KestrelQuantTable *table = kestrel_calibrate (model, method, G_N_ELEMENTS (sample_photos),
                                                fill_sample_frame, NULL, NULL, &error);
  g_assert_no_error (error);
  return table;
}

static void
test_names (void)
{
  g_assert_true (kestrel_calibration_method_from_name ("minmax") == &kestrel_calibration_minmax);
  g_assert_true (kestrel_calibration_method_from_name ("percentile") == &kestrel_calibration_percentile);
  g_assert_true (kestrel_calibration_method_from_name ("mse") == &kestrel_calibration_mse);
  g_assert_null (kestrel_calibration_method_from_name ("kl"));
  g_assert_null (kestrel_calibration_method_from_name (NULL));
}

/* On BlazeFace front over the bundled photos: both methods give every
 * tensor minmax gives, inside its range, with 0 inside; some tensors are
 * clipped (their outliers are what the methods are for), and the
 * percentile table is not the minmax one under another name. */
static void
test_methods_on_model (void)
{
  g_autoptr (KestrelModel) model = load_front ();
  g_autoptr (KestrelQuantTable) minmax = calibrate_front (model, &kestrel_calibration_minmax);
  const KestrelCalibrationMethod *methods[] = { &kestrel_calibration_percentile,
                                                &kestrel_calibration_mse };

  for (gsize m = 0; m < G_N_ELEMENTS (methods); m++)
    {
      g_autoptr (KestrelQuantTable) table = calibrate_front (model, methods[m]);
      guint narrower = 0;
      g_assert_cmpstr (kestrel_quant_table_get_method (table), ==, methods[m]->name);
      g_assert_cmpuint (kestrel_quant_table_get_n_frames (table), ==, G_N_ELEMENTS (sample_photos));
      g_assert_cmpuint (kestrel_quant_table_get_n_entries (table), ==,
                        kestrel_quant_table_get_n_entries (minmax));
      for (guint i = 0; i < kestrel_quant_table_get_n_entries (minmax); i++)
        {
          KestrelQuantParams whole, chosen;
          const char *name = kestrel_quant_table_get_entry (minmax, i, &whole);
          g_assert_true (kestrel_quant_table_lookup (table, name, &chosen));
          const float lo = MIN (whole.min, 0.0f), hi = MAX (whole.max, 0.0f);
          const float slack = 1e-6f * MAX (hi - lo, 1.0f);
          g_assert_cmpfloat (chosen.min, >=, lo - slack);
          g_assert_cmpfloat (chosen.max, <=, hi + slack);
          g_assert_cmpfloat (chosen.min, <=, 0.0f);
          g_assert_cmpfloat (chosen.max, >=, 0.0f);
          g_assert_cmpfloat (chosen.scale, >, 0.0f);
          if (chosen.scale < whole.scale * 0.99f)
            narrower++;
        }
      g_test_message ("%s: %u of %u tensors on a narrower range than minmax", methods[m]->name,
                      narrower, kestrel_quant_table_get_n_entries (minmax));
      g_assert_cmpuint (narrower, >, 0);
    }
}

static void
assert_tables_equal (const KestrelQuantTable *a, const KestrelQuantTable *b)
{
  g_assert_cmpstr (kestrel_quant_table_get_model_hash (a), ==, kestrel_quant_table_get_model_hash (b));
  g_assert_cmpstr (kestrel_quant_table_get_method (a), ==, kestrel_quant_table_get_method (b));
  g_assert_cmpuint (kestrel_quant_table_get_n_frames (a), ==, kestrel_quant_table_get_n_frames (b));
  g_assert_cmpuint (kestrel_quant_table_get_n_entries (a), ==, kestrel_quant_table_get_n_entries (b));
  for (guint i = 0; i < kestrel_quant_table_get_n_entries (a); i++)
    {
      KestrelQuantParams pa, pb;
      g_assert_cmpstr (kestrel_quant_table_get_entry (a, i, &pa), ==, kestrel_quant_table_get_entry (b, i, &pb));
      /* the same bits, not just close */
      g_assert_cmpint (memcmp (&pa.min, &pb.min, sizeof (float)), ==, 0);
      g_assert_cmpint (memcmp (&pa.max, &pb.max, sizeof (float)), ==, 0);
      g_assert_cmpint (memcmp (&pa.scale, &pb.scale, sizeof (float)), ==, 0);
      g_assert_cmpuint (pa.zero_point, ==, pb.zero_point);
    }
}

/* A real table, and one with awkward floats, through JSON text and a file
 * and back: the same table, bit for bit. */
static void
test_round_trip (void)
{
  g_autoptr (KestrelModel) model = load_front ();
  g_autoptr (KestrelQuantTable) table = calibrate_front (model, &kestrel_calibration_mse);
  g_autoptr (GError) error = NULL;

  g_autofree char *json = kestrel_quant_table_to_json (table);
  g_assert_nonnull (strstr (json, "\"method\" : \"mse\""));
  g_autoptr (KestrelQuantTable) back = kestrel_quant_table_from_json (json, -1, "test", &error);
  g_assert_no_error (error);
  assert_tables_equal (table, back);

  g_autoptr (KestrelQuantTable) odd = kestrel_quant_table_new ("abc", "percentile", 3);
  kestrel_quant_table_set_range (odd, "tiny \"quoted\" name/é", 1e-30f, 3.4e38f);
  kestrel_quant_table_set_range (odd, "third", -1.0f / 3.0f, 0.1f);
  kestrel_quant_table_set_range (odd, "zero", 0.0f, 0.0f);
  g_autofree char *dir = g_dir_make_tmp ("kestrel-quant-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (dir, "sub", "table.json", NULL);
  g_assert_true (kestrel_quant_table_save (odd, path, &error));
  g_assert_no_error (error);
  g_autoptr (KestrelQuantTable) loaded = kestrel_quant_table_load (path, &error);
  g_assert_no_error (error);
  assert_tables_equal (odd, loaded);
  g_unlink (path);
  g_autofree char *sub = g_path_get_dirname (path);
  g_rmdir (sub);
  g_rmdir (dir);
}

/* Files that are not a calibration table, each refused with
 * KESTREL_ERROR_CORRUPT and a message that names the file and the fault. */
static void
test_corrupt_files (void)
{
  static const struct {
    const char *json, *says;
  } cases[] = {
    { "", "not a JSON object" },
    { "{\"format\": \"kestrel-calibration\", \"version\": 1,", "not JSON" },
    { "[1, 2]", "not a JSON object" },
    { "{\"format\": \"other\"}", "\"format\"" },
    { "{\"format\": \"kestrel-calibration\", \"version\": 3, \"model_hash\": \"h\", \"method\": \"m\", \"frames\": 1, \"tensors\": []}", "\"version\"" },
    { "{\"format\": \"kestrel-calibration\", \"version\": 1, \"method\": \"m\", \"frames\": 1, \"tensors\": []}", "\"model_hash\"" },
    { "{\"format\": \"kestrel-calibration\", \"version\": 1, \"model_hash\": \"h\", \"method\": \"m\", \"frames\": -1, \"tensors\": []}", "\"frames\"" },
    { "{\"format\": \"kestrel-calibration\", \"version\": 1, \"model_hash\": \"h\", \"method\": \"m\", \"frames\": 1, \"tensors\": {}}", "\"tensors\"" },
    { "{\"format\": \"kestrel-calibration\", \"version\": 1, \"model_hash\": \"h\", \"method\": \"m\", \"frames\": 1, \"tensors\": [{\"name\": \"a\", \"min\": 0, \"max\": 1, \"scale\": 0.1, \"zero_point\": 300}]}", "zero_point" },
    { "{\"format\": \"kestrel-calibration\", \"version\": 1, \"model_hash\": \"h\", \"method\": \"m\", \"frames\": 1, \"tensors\": [{\"name\": \"a\", \"min\": 0, \"max\": 1, \"scale\": 0, \"zero_point\": 0}]}", "scale" },
    { "{\"format\": \"kestrel-calibration\", \"version\": 1, \"model_hash\": \"h\", \"method\": \"m\", \"frames\": 1, \"tensors\": [{\"name\": \"a\", \"min\": 2, \"max\": 1, \"scale\": 0.1, \"zero_point\": 0}]}", "min <= max" },
    { "{\"format\": \"kestrel-calibration\", \"version\": 1, \"model_hash\": \"h\", \"method\": \"m\", \"frames\": 1, \"tensors\": [{\"name\": \"a\", \"min\": \"x\", \"max\": 1, \"scale\": 0.1, \"zero_point\": 0}]}", "finite numbers" },
    { "{\"format\": \"kestrel-calibration\", \"version\": 1, \"model_hash\": \"h\", \"method\": \"m\", \"frames\": 1, \"tensors\": [{\"name\": \"a\", \"min\": 0, \"max\": 1, \"scale\": 0.1, \"zero_point\": 0}, {\"name\": \"a\", \"min\": 0, \"max\": 1, \"scale\": 0.1, \"zero_point\": 0}]}", "twice" },
    { "{\"format\": \"kestrel-calibration\", \"version\": 1, \"model_hash\": \"h\", \"method\": \"m\", \"frames\": 1, \"tensors\": [7]}", "not an object" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (KestrelQuantTable) t = kestrel_quant_table_from_json (cases[i].json, -1, "case.json", &error);
      g_assert_null (t);
      g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT);
      g_assert_nonnull (strstr (error->message, "case.json"));
      if (strstr (error->message, cases[i].says) == NULL)
        g_error ("case %zu: '%s' does not say '%s'", i, error->message, cases[i].says);
    }
}

/* The cache: measured and written the first time, read the second; a
 * corrupt file is reported with a warning, measured again and replaced. */
static void
test_cache (void)
{
  g_autoptr (KestrelModel) model = load_front ();
  g_autoptr (GError) error = NULL;
  gboolean from_cache = TRUE;
  const char *hash = kestrel_model_get_content_hash (model);
  g_autofree char *path = kestrel_quant_table_cache_path (hash, "percentile");

  g_assert_true (g_str_has_prefix (path, g_get_user_cache_dir ()));
  g_unlink (path);
  g_autoptr (KestrelQuantTable) first = kestrel_calibrate_cached (
      model, &kestrel_calibration_percentile, G_N_ELEMENTS (sample_photos), fill_sample_frame, NULL,
      NULL, &from_cache, &error);
  g_assert_no_error (error);
  g_assert_false (from_cache);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));

  g_autoptr (KestrelQuantTable) second = kestrel_calibrate_cached (
      model, &kestrel_calibration_percentile, G_N_ELEMENTS (sample_photos), fill_sample_frame, NULL,
      NULL, &from_cache, &error);
  g_assert_no_error (error);
  g_assert_true (from_cache);
  assert_tables_equal (first, second);

  g_assert_true (g_file_set_contents (path, "{\"format\": \"kestrel-calib", -1, NULL));
  g_test_expect_message ("Kestrel", G_LOG_LEVEL_WARNING, "*cache is corrupt*not JSON*");
  g_autoptr (KestrelQuantTable) third = kestrel_calibrate_cached (
      model, &kestrel_calibration_percentile, G_N_ELEMENTS (sample_photos), fill_sample_frame, NULL,
      NULL, &from_cache, &error);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_false (from_cache);
  assert_tables_equal (first, third);
  g_autoptr (KestrelQuantTable) rewritten = kestrel_quant_table_load (path, &error);
  g_assert_no_error (error);
  assert_tables_equal (first, rewritten);
  g_unlink (path);
}

/* Fault (issue 16, item 4): the cache cannot be written (the disk is full).
 * A write past RLIMIT_FSIZE fails as a write to a full disk does, for root
 * too and without mounting anything; tests/cli/check-full-disk.py fills a
 * real tmpfs for the files the CLI saves. The table is still returned, a
 * warning names the cause, the previous cache file is left as it was (the
 * write goes to a temporary file renamed only once complete) and no
 * temporary file stays behind. */
static void
test_cache_full_disk (void)
{
  g_autoptr (KestrelModel) model = load_front ();
  g_autoptr (GError) error = NULL;
  g_autoptr (KestrelQuantTable) expected = calibrate_front (model, &kestrel_calibration_minmax);
  const char *hash = kestrel_model_get_content_hash (model);
  g_autofree char *path = kestrel_quant_table_cache_path (hash, "minmax");
  g_autofree char *dir = g_path_get_dirname (path);
  const char *previous = "{\"format\": \"kestrel-calib";
  g_autofree char *after = NULL;
  struct rlimit saved, small;
  gboolean from_cache = TRUE;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, previous, -1, NULL));
  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  small = saved;
  small.rlim_cur = 64;
  signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &small), ==, 0);
  g_test_expect_message ("Kestrel", G_LOG_LEVEL_WARNING, "*cache is corrupt*");
  g_test_expect_message ("Kestrel", G_LOG_LEVEL_WARNING, "*not cached*File too large*");
  g_autoptr (KestrelQuantTable) table = kestrel_calibrate_cached (
      model, &kestrel_calibration_minmax, G_N_ELEMENTS (sample_photos), fill_sample_frame, NULL,
      NULL, &from_cache, &error);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  signal (SIGXFSZ, SIG_DFL);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_false (from_cache);
  assert_tables_equal (expected, table);

  g_assert_true (g_file_get_contents (path, &after, NULL, NULL));
  g_assert_cmpstr (after, ==, previous);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    if (strcmp (name, strrchr (path, G_DIR_SEPARATOR) + 1) != 0)
      g_error ("left in the cache folder: %s", name);
  g_unlink (path);
}

int
main (int argc, char **argv)
{
  /* The cache goes to a folder of the test's own, set before GLib reads
   * XDG_CACHE_HOME. */
  g_autofree char *cache = g_dir_make_tmp ("kestrel-cache-XXXXXX", NULL);
  g_setenv ("XDG_CACHE_HOME", cache, TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/quant/methods/names", test_names);
  g_test_add_func ("/quant/methods/front", test_methods_on_model);
  g_test_add_func ("/quant/file/round-trip", test_round_trip);
  g_test_add_func ("/quant/file/corrupt", test_corrupt_files);
  g_test_add_func ("/quant/cache", test_cache);
  g_test_add_func ("/quant/cache/full-disk", test_cache_full_disk);
  int status = g_test_run ();
  g_autofree char *dir = g_build_filename (cache, "kestrel", "calibration", NULL);
  g_rmdir (dir);
  g_autofree char *parent = g_build_filename (cache, "kestrel", NULL);
  g_rmdir (parent);
  g_rmdir (cache);
  return status;
}
