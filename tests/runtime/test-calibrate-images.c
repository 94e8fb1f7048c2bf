/* test-calibrate-images.c — INT8 calibration tables measured on folders of
 * photos (core/runtime/kestrel-calibrate-images.h): the bundled samples
 * ($KESTREL_SAMPLES_DIR) through the front BlazeFace model with the
 * sensitivity search, progress, the user cache file and the process
 * cache, cancelling, and the errors for a folder without photos or
 * with a file that is not one.
 */
#include <glib/gstdio.h>
#include <string.h>

#include "../private-cache.h"
#include "kestrel-builtin-models.h"
#include "kestrel-calibrate-images.h"
#include "kestrel-error.h"
#include "kestrel-quant-table-file.h"
#include "kestrel-samples.h"

/* BlazeFace's input: NHWC 128x128 in [-1, 1], letterboxed. */
static const kk_model_input_params front_params = {
  .width = 128, .height = 128, .layout = KK_LAYOUT_NHWC,
  .scale = { 2 / 255.f, 2 / 255.f, 2 / 255.f }, .offset = { -1, -1, -1 }, .letterbox = TRUE, .pad = { -1, -1, -1 },
};

typedef struct {
  guint calls, last_done, last_total;
  gboolean in_order;
  GCancellable *cancel_at_second;
} Progress;

static void
on_progress (guint done, guint total, gpointer data)
{
  Progress *p = data;

  if (p->calls > 0 && done < p->last_done)
    p->in_order = FALSE;
  p->calls++;
  p->last_done = done;
  p->last_total = total;
  if (p->cancel_at_second != NULL && p->calls == 2)
    g_cancellable_cancel (p->cancel_at_second);
}

static KestrelModel *
front_model (void)
{
  g_autoptr(GError) error = NULL;
  KestrelModel *model = kestrel_model_new_for_spec_at ("front", NULL, &error);

  g_assert_no_error (error);
  return model;
}

static char *
copy_samples (guint n)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("kestrel-calibrate-XXXXXX", &error);
  static const char *const photos[] = { "astronaut.png", "grace_hopper.jpg", "camera.png" };

  g_assert_no_error (error);
  for (guint i = 0; i < n && i < G_N_ELEMENTS (photos); i++)
    {
      g_autofree char *from = g_build_filename (kestrel_samples_get_dir (), photos[i], NULL);
      g_autofree char *to = g_build_filename (dir, photos[i], NULL);
      g_autofree char *data = NULL;
      gsize len;
      g_assert_true (g_file_get_contents (from, &data, &len, &error));
      g_assert_true (g_file_set_contents (to, data, len, &error));
    }
  return dir;
}

static void
remove_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);

  for (const char *name; d != NULL && (name = g_dir_read_name (d)) != NULL;)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

static void
test_samples (void)
{
  g_autoptr(KestrelModel) model = front_model ();
  g_autoptr(KestrelQuantTable) table = NULL;
  g_autoptr(KestrelQuantTable) again = NULL;
  g_autoptr(KestrelQuantTable) looked_up = NULL;
  g_autoptr(GError) error = NULL;
  Progress p = { 0, 0, 0, TRUE, NULL };
  g_autoptr(KestrelQuantTable) cached = NULL;
  g_autofree char *cache_path = NULL;
  KestrelQuantParams params;
  const char *name;

  g_assert_null (kestrel_calibrate_images_lookup (model, NULL));
  table = kestrel_calibrate_images (model, 0, &front_params, NULL, on_progress, &p, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (table);
  /* The five bundled photos (not the README and licences beside them),
   * one pass each, then the end. */
  g_assert_cmpuint (kestrel_quant_table_get_n_frames (table), ==, 5);
  g_assert_cmpstr (kestrel_quant_table_get_method (table), ==, "minmax");
  g_assert_cmpstr (kestrel_quant_table_get_model_hash (table), ==, kestrel_model_get_content_hash (model));
  /* Thousandths: the five photos, then the sensitivity search, in order,
   * to the end. */
  g_assert_cmpuint (p.calls, >, 6);
  g_assert_true (p.in_order);
  g_assert_cmpuint (p.last_done, ==, 1000);
  g_assert_cmpuint (p.last_total, ==, 1000);
  g_assert_true (kestrel_quant_table_has_mixed (table));
  /* The bundled photos' table is in the user cache (this program's own,
   * tests/private-cache.h), the search's choice with it. */
  cache_path = kestrel_quant_table_cache_path (kestrel_model_get_content_hash (model), "minmax");
  g_assert_true (g_str_has_prefix (cache_path, g_get_user_cache_dir ()));
  cached = kestrel_quant_table_load (cache_path, &error);
  g_assert_no_error (error);
  g_assert_true (kestrel_quant_table_has_mixed (cached));
  g_assert_true (g_strv_equal ((const char *const *) kestrel_quant_table_get_fp32_layers (cached),
                               (const char *const *) kestrel_quant_table_get_fp32_layers (table)));
  g_assert_cmpuint (kestrel_quant_table_get_n_entries (table), >, 50);
  name = kestrel_quant_table_get_entry (table, 0, &params);
  g_assert_nonnull (name);
  g_assert_cmpfloat (params.scale, >, 0);

  /* Measured once per process: the same table, no frames run. */
  p.calls = 0;
  again = kestrel_calibrate_images (model, 0, &front_params, NULL, on_progress, &p, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (again == table);
  g_assert_cmpuint (p.calls, ==, 0);
  looked_up = kestrel_calibrate_images_lookup (model, kestrel_samples_get_dir ());
  g_assert_true (looked_up == table);
}

static void
test_cancel (void)
{
  g_autoptr(KestrelModel) model = front_model ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = copy_samples (3);
  Progress p = { 0, 0, 0, TRUE, cancellable };
  KestrelQuantTable *table;

  table = kestrel_calibrate_images (model, 0, &front_params, dir, on_progress, &p, cancellable, &error);
  g_assert_null (table);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (p.calls, ==, 2);
  /* Nothing kept: the next call measures. */
  g_assert_null (kestrel_calibrate_images_lookup (model, dir));
  remove_dir (dir);
}

static void
test_bad_folders (void)
{
  g_autoptr(KestrelModel) model = front_model ();
  g_autofree char *empty = copy_samples (0);
  g_autofree char *broken = copy_samples (1);
  g_autofree char *readme = g_build_filename (empty, "README.md", NULL);
  g_autofree char *fake = g_build_filename (broken, "b-not-a-photo.png", NULL);
  g_autofree char *missing = g_build_filename (empty, "nowhere", NULL);
  GError *error = NULL;

  /* A folder with no image in it (a README is not one). */
  g_assert_true (g_file_set_contents (readme, "photos go here\n", -1, NULL));
  g_assert_null (kestrel_calibrate_images (model, 0, &front_params, empty, NULL, NULL, NULL, &error));
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "no image file"));
  g_assert_nonnull (strstr (error->message, empty));
  g_clear_error (&error);

  /* A folder that is not there. */
  g_assert_null (kestrel_calibrate_images (model, 0, &front_params, missing, NULL, NULL, NULL, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "nowhere"));
  g_clear_error (&error);

  /* A file named like a photo that is not one: the error names it. */
  g_assert_true (g_file_set_contents (fake, "not a png", -1, NULL));
  g_assert_null (kestrel_calibrate_images (model, 0, &front_params, broken, NULL, NULL, NULL, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "b-not-a-photo.png"));
  g_clear_error (&error);

  remove_dir (empty);
  remove_dir (broken);
}

int
main (int argc, char **argv)
{
  /* A user cache of this program's own: calibrations are measured here,
   * not read from another test's (tests/private-cache.h). */
  char *cache = private_cache_begin ();
  int status;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/calibrate-images/samples", test_samples);
  g_test_add_func ("/calibrate-images/cancel", test_cancel);
  g_test_add_func ("/calibrate-images/bad-folders", test_bad_folders);
  status = g_test_run ();
  private_cache_end (cache);
  return status;
}
