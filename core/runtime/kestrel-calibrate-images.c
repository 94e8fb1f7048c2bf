/* kestrel-calibrate-images.c — see kestrel-calibrate-images.h. */
#include "config.h"

#include "kestrel-calibrate-images.h"

#include <string.h>

#include "kestrel-error.h"
#include "kestrel-generic-decoder.h"
#include "kestrel-image.h"
#include "kestrel-mixed-precision.h"
#include "kestrel-quant-table-file.h"
#include "kestrel-samples.h"
#include "kestrel-agreement.h"
#include "kestrel-mixed-int4.h"
#include "kestrel-builtin-models.h"
#include "kestrel-plugin.h"

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

/* Progress in thousandths: the calibration's frames the first tenth, the
 * sensitivity search (many plans tried) the rest; for INT4, the INT8
 * search up to PROGRESS_INT8 and the INT4 search after it. */
#define PROGRESS_TOTAL 1000
#define PROGRESS_CALIBRATION 100
#define PROGRESS_INT8 700

typedef struct {
  GPtrArray *paths;
  guint image_input;
  const kk_model_input_params *params;
  KestrelCalibrationProgressFunc progress;
  gpointer user_data;
  guint done, total;        /* the calibration's frame runs */
  guint *widths, *heights;  /* each photo's size, for decoding */
  guint search_from, search_to; /* the thousandths the running search fills */
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

  /* The search fills the frames once more, at its start: its own progress
   * says so. */
  if (fill->progress != NULL && fill->done < fill->total)
    fill->progress (fill->done * PROGRESS_CALIBRATION / fill->total, PROGRESS_TOTAL, fill->user_data);
  fill->done++;
  image = kestrel_image_new_from_file (path, error);
  if (image == NULL)
    return FALSE;
  fill->widths[frame] = kestrel_image_get_width (image);
  fill->heights[frame] = kestrel_image_get_height (image);
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

static void
search_progress (guint done, guint total, gpointer data)
{
  Fill *fill = data;

  if (fill->progress != NULL && total > 0)
    fill->progress (fill->search_from + done * (fill->search_to - fill->search_from) / total, PROGRESS_TOTAL,
                    fill->user_data);
}

/* The accuracy goal on top of the SQNR, for a model a plugin decodes: on
 * every photo, the mix's detections meet kestrel_agreement_meets_goal()
 * against FP32's, at the threshold the engine uses for the model. */
typedef struct {
  KestrelTaskDecoder *decoder;
  const Fill *fill;
  float threshold;
  KestrelDetections *want, *got;
} Agree;

static gboolean
detections_agree (guint frame, const KestrelTensorView *const *fp32, const KestrelTensorView *const *outputs,
                  guint n_outputs, gpointer data)
{
  Agree *a = data;
  KestrelFrameInfo info = { a->fill->widths[frame], a->fill->heights[frame] };
  KestrelDecodeOptions options;

  kk_model_input_geometry_compute (info.width, info.height, a->fill->params, &info.geometry);
  kestrel_decode_options_init (&options);
  /* Below the threshold, so a detection just under it on one side is
   * there to be matched on the other. */
  options.score_threshold = a->threshold * KESTREL_AGREEMENT_GOAL_DECODE;
  if (!kestrel_task_decoder_decode (a->decoder, fp32, n_outputs, &info, &options, a->want, NULL)
      || !kestrel_task_decoder_decode (a->decoder, outputs, n_outputs, &info, &options, a->got, NULL))
    return FALSE;
  return kestrel_agreement_meets_goal (a->want, a->got, a->threshold);
}

/* The threshold the engine uses: a bundled model's own (by the file's
 * stem), else the decoder's default. */
static float
score_threshold (KestrelModel *model, const KestrelTaskDecoder *decoder)
{
  g_autofree char *base = g_path_get_basename (kestrel_model_get_origin (model));
  float threshold;

  if (g_str_has_suffix (base, ".onnx"))
    base[strlen (base) - strlen (".onnx")] = '\0';
  threshold = kestrel_builtin_model_get_score_threshold (base);
  return threshold >= 0 ? threshold : kestrel_task_decoder_get_vtable (decoder)->default_score_threshold;
}

KestrelQuantTable *
kestrel_calibrate_images (KestrelModel *model, guint image_input, const kk_model_input_params *params,
                          const char *dir, KestrelCalibrationProgressFunc progress, gpointer user_data,
                          GCancellable *cancellable, GError **error)
{
  return kestrel_calibrate_images_for (model, image_input, params, dir, KESTREL_PRECISION_INT8, progress,
                                       user_data, cancellable, error);
}

KestrelQuantTable *
kestrel_calibrate_images_for (KestrelModel *model, guint image_input, const kk_model_input_params *params,
                              const char *dir, KestrelPrecision precision, KestrelCalibrationProgressFunc progress,
                              gpointer user_data, GCancellable *cancellable, GError **error)
{
  const gboolean int4 = precision == KESTREL_PRECISION_INT4;
  g_autoptr(GPtrArray) paths = NULL;
  KestrelQuantTable *table;
  Fill fill = { NULL, image_input, params, progress, user_data, 0, 0, NULL, NULL, PROGRESS_CALIBRATION,
                int4 ? PROGRESS_INT8 : PROGRESS_TOTAL };
  const KestrelTaskDecoderVTable *vtable;
  g_autoptr(KestrelTaskDecoder) decoder = NULL;
  g_autofree guint *widths = NULL, *heights = NULL;
  Agree agree = { NULL };
  gboolean samples = dir == NULL || g_strcmp0 (dir, kestrel_samples_get_dir ()) == 0;
  gboolean from_cache = FALSE;

  /* A quantised (QDQ) file carries its own scales: nothing to measure. */
  if (kestrel_model_get_quant_table (model) != NULL)
    return kestrel_quant_table_ref (kestrel_model_get_quant_table (model));
  if (dir == NULL)
    dir = kestrel_samples_get_dir ();
  table = kestrel_calibrate_images_lookup (model, dir);
  if (table != NULL && (!int4 || kestrel_quant_table_get_int4_searched (table)))
    return table;
  /* (A table this process has, without the INT4 search yet: the search
   * below fills the frames again.) */
  gboolean known = table != NULL;

  paths = list_photos (dir, error);
  if (paths == NULL)
    return NULL;
  fill.paths = paths;
  fill.total = paths->len * kestrel_calibration_minmax.n_passes;
  fill.widths = widths = g_new0 (guint, paths->len);
  fill.heights = heights = g_new0 (guint, paths->len);
  /* A model a plugin decodes gets the detections' agreement as a goal
   * too; the generic decoder finds nothing, so there is nothing to agree
   * on. */
  vtable = kestrel_plugin_registry_find_task_decoder_for_model (kestrel_plugin_registry_get_default (), model, NULL);
  if (vtable != NULL)
    decoder = kestrel_task_decoder_new (vtable, model, NULL);
  if (decoder != NULL)
    {
      agree.decoder = decoder;
      agree.fill = &fill;
      agree.threshold = score_threshold (model, decoder);
      agree.want = kestrel_detections_new ();
      agree.got = kestrel_detections_new ();
    }
  /* The bundled photos' table is the one the user cache keeps (its key is
   * the model and the method, not the frames); another folder's is this
   * process's only. */
  if (known)
    ;
  else if (samples)
    table = kestrel_calibrate_mixed_cached (model, &kestrel_calibration_minmax, paths->len, fill_photo, &fill,
                                            KESTREL_MIXED_DEFAULT_GOAL_DB, decoder != NULL ? detections_agree : NULL,
                                            &agree, search_progress, &fill, cancellable, &from_cache, error);
  else
    table = kestrel_calibrate_mixed (model, &kestrel_calibration_minmax, paths->len, fill_photo, &fill,
                                     KESTREL_MIXED_DEFAULT_GOAL_DB, decoder != NULL ? detections_agree : NULL,
                                     &agree, search_progress, &fill, cancellable, error);
  /* INT4: which of the layers left INT8 stay INT8 (kestrel-mixed-int4.h),
   * on the same photos and goals. */
  if (table != NULL && int4 && !kestrel_quant_table_get_int4_searched (table))
    {
      /* Its own progress from where the INT8 part left off (all of it when
       * that came from a cache). */
      fill.search_from = known || from_cache ? 0 : PROGRESS_INT8;
      fill.done = fill.total;   /* (its frame fills are part of it) */
      fill.search_to = PROGRESS_TOTAL;
      if (!kestrel_mixed_int4_search (model, table, paths->len, fill_photo, &fill, KESTREL_MIXED_DEFAULT_GOAL_DB,
                                      decoder != NULL ? detections_agree : NULL, &agree, search_progress, &fill,
                                      cancellable, error))
        g_clear_pointer (&table, kestrel_quant_table_unref);
      else if (samples)
        {
          /* The user cache keeps the INT4 choice beside the INT8 one, so a
           * new process does not search again. */
          g_autoptr(GError) save_error = NULL;
          if (!kestrel_quant_table_save_to_cache (table, &save_error))
            g_warning ("INT4 calibration not cached: %s", save_error->message);
        }
    }
  g_clear_pointer (&agree.want, kestrel_detections_unref);
  g_clear_pointer (&agree.got, kestrel_detections_unref);
  if (table == NULL)
    return NULL;
  if (progress != NULL)
    progress (PROGRESS_TOTAL, PROGRESS_TOTAL, user_data);
  if (!known)
    cache_insert (model, dir, table);
  return table;
}

gboolean
kestrel_calibrate_images_model_input (KestrelModel *model, guint *input, kk_model_input_params *params,
                                      GError **error)
{
  const KestrelTaskDecoderVTable *vtable;
  g_autoptr(KestrelTaskDecoder) decoder = NULL;

  vtable = kestrel_plugin_registry_find_task_decoder_for_model (kestrel_plugin_registry_get_default (), model, NULL);
  decoder = kestrel_task_decoder_new (vtable != NULL ? vtable : &kestrel_generic_decoder_vtable, model, error);
  if (decoder == NULL)
    return FALSE;
  kestrel_task_decoder_get_input_params (decoder, TRUE, params);
  *input = kestrel_task_decoder_get_image_input (decoder);
  return TRUE;
}

KestrelQuantTable *
kestrel_calibrate_images_for_model (KestrelModel *model, KestrelPrecision precision, GCancellable *cancellable,
                                    GError **error)
{
  kk_model_input_params params;
  KestrelQuantTable *table;
  guint input;

  /* A QDQ file carries its own scales: no calibration. */
  if (kestrel_model_get_quant_table (model) != NULL)
    return kestrel_quant_table_ref (kestrel_model_get_quant_table (model));
  const char *name = precision == KESTREL_PRECISION_INT4 ? "INT4" : "INT8";

  if (!kestrel_calibrate_images_model_input (model, &input, &params, error))
    {
      g_prefix_error (error, "calibrating for %s needs photos the model can take: ", name);
      return NULL;
    }
  table = kestrel_calibrate_images_for (model, input, &params, NULL, precision, NULL, NULL, cancellable, error);
  if (table == NULL)
    g_prefix_error (error, "calibrating for %s: ", name);
  return table;
}
