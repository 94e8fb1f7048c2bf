/* kestrel-calibrate-images.c — see kestrel-calibrate-images.h. */
#include "config.h"

#include "kestrel-calibrate-images.h"

#include <string.h>

#include "kestrel-error.h"
#include "kestrel-image.h"
#include "kestrel-samples.h"

/* content hash + "\n" + folder -> KestrelQuantTable. */
static GMutex cache_lock;
static GHashTable *cache;

static char *
cache_key (KestrelModel *model, const char *dir)
{
  return g_strconcat (kestrel_model_get_content_hash (model), "\n", dir, NULL);
}

KestrelQuantTable *
kestrel_calibrate_images_lookup (KestrelModel *model, const char *dir)
{
  g_autofree char *key = cache_key (model, dir != NULL ? dir : kestrel_samples_get_dir ());
  KestrelQuantTable *table = NULL;

  g_mutex_lock (&cache_lock);
  if (cache != NULL && (table = g_hash_table_lookup (cache, key)) != NULL)
    kestrel_quant_table_ref (table);
  g_mutex_unlock (&cache_lock);
  return table;
}

static void
cache_insert (KestrelModel *model, const char *dir, KestrelQuantTable *table)
{
  g_mutex_lock (&cache_lock);
  if (cache == NULL)
    cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) kestrel_quant_table_unref);
  g_hash_table_replace (cache, cache_key (model, dir), kestrel_quant_table_ref (table));
  g_mutex_unlock (&cache_lock);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The photos of `dir` by name (what their names say is an image: the
 * samples folder also holds a README and licences). */
static GPtrArray *
list_photos (const char *dir, GError **error)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, error);
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);

  if (d == NULL)
    {
      g_prefix_error (error, "calibration photos: ");
      return NULL;
    }
  for (const char *name; (name = g_dir_read_name (d)) != NULL;)
    {
      g_autofree char *type = g_content_type_guess (name, NULL, 0, NULL);
      g_autofree char *mime = g_content_type_get_mime_type (type);
      if (mime != NULL && g_str_has_prefix (mime, "image/"))
        g_ptr_array_add (paths, g_build_filename (dir, name, NULL));
    }
  g_ptr_array_sort (paths, compare_names);
  if (paths->len == 0)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "calibration photos: %s holds no image file", dir);
      return NULL;
    }
  if (paths->len > KESTREL_CALIBRATION_MAX_PHOTOS)
    g_ptr_array_set_size (paths, KESTREL_CALIBRATION_MAX_PHOTOS);
  return g_steal_pointer (&paths);
}

typedef struct {
  GPtrArray *paths;
  guint image_input;
  const kk_model_input_params *params;
  KestrelCalibrationProgressFunc progress;
  gpointer user_data;
  guint done, total;
} Fill;

/* One photo into the plan's image input, with the scalar kernels: the
 * ranges then do not depend on the machine's instruction set. */
static gboolean
fill_photo (KestrelPlan *plan, guint frame, gpointer data, GError **error)
{
  Fill *fill = data;
  const char *path = g_ptr_array_index (fill->paths, frame);
  g_autoptr(KestrelImage) image = NULL;
  KestrelTensorView input;
  kk_model_input_geometry geometry;

  if (fill->progress != NULL)
    fill->progress (fill->done, fill->total, fill->user_data);
  fill->done++;
  image = kestrel_image_new_from_file (path, error);
  if (image == NULL)
    return FALSE;
  if (!kestrel_plan_get_input_slice (plan, fill->image_input, 0, &input)
      || !kestrel_image_check_input (&input, fill->params, error))
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_FAILED, "the model has no input %u", fill->image_input);
      return FALSE;
    }
  kestrel_image_fill_tensor (kestrel_image_get_view (image), fill->params, kk_kernels_for_level (KK_LEVEL_SCALAR),
                             input.data, &geometry);
  return TRUE;
}

KestrelQuantTable *
kestrel_calibrate_images (KestrelModel *model, guint image_input, const kk_model_input_params *params,
                          const char *dir, KestrelCalibrationProgressFunc progress, gpointer user_data,
                          GCancellable *cancellable, GError **error)
{
  g_autoptr(GPtrArray) paths = NULL;
  KestrelQuantTable *table;
  Fill fill = { NULL, image_input, params, progress, user_data, 0, 0 };

  if (dir == NULL)
    dir = kestrel_samples_get_dir ();
  table = kestrel_calibrate_images_lookup (model, dir);
  if (table != NULL)
    return table;

  paths = list_photos (dir, error);
  if (paths == NULL)
    return NULL;
  fill.paths = paths;
  fill.total = paths->len * kestrel_calibration_minmax.n_passes;
  table = kestrel_calibrate_minmax (model, paths->len, fill_photo, &fill, cancellable, error);
  if (table == NULL)
    return NULL;
  if (progress != NULL)
    progress (fill.total, fill.total, user_data);
  cache_insert (model, dir, table);
  return table;
}
