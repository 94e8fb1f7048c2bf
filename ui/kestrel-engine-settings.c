/* kestrel-engine-settings.c — see kestrel-engine-settings.h. */
#include "config.h"

#include <string.h>

#include "kestrel-builtin-models.h"
#include "kestrel-engine-settings.h"
#include "kestrel-frame-size.h"
#include "kestrel-input-shape.h"
#include "kestrel-onnx.h"
#include "kestrel-samples.h"

static const char *const engine_keys[] = {
  "model", "model-file", "input-size", "source-kind", "source-path", "precision", "level",
  "threads", "batch", "throttle-mode", "cpu-budget", "canary-interval", "score-threshold",
};

gboolean
kestrel_engine_settings_is_engine_key (const char *key)
{
  g_return_val_if_fail (key != NULL, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (engine_keys); i++)
    if (g_str_equal (key, engine_keys[i]))
      return TRUE;
  return FALSE;
}

static char *
model_spec (GSettings *settings)
{
  g_autofree char *model = g_settings_get_string (settings, "model");
  g_autofree char *path = NULL;

  if (!g_str_equal (model, "file"))
    return g_steal_pointer (&model);

  path = g_settings_get_string (settings, "model-file");
  if (path[0] == '\0')
    return g_strdup ("front");
  /* The engine reads a built-in model's name as that model, so a file
   * that happens to be called "front" needs a path that is not a name. */
  if (!g_path_is_absolute (path) && kestrel_builtin_model_file_stem (path) != NULL)
    return g_build_filename (".", path, NULL);
  return g_steal_pointer (&path);
}

/* The picture input of the model file `spec` when its size is free. The
 * file is read once per path and modification time: the settings are
 * turned into a configuration at every change of any key. The cache is
 * the main thread's, where settings are read. */
static gboolean
free_picture_input (const char *spec, KestrelFrameSizedInput *out)
{
  static char *cached_spec;
  static guint64 cached_mtime;
  static gboolean cached_free;
  static KestrelFrameSizedInput cached_input;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFileInfo) info = NULL;
  guint64 mtime;

  memset (out, 0, sizeof *out);
  if (kestrel_builtin_model_file_stem (spec) != NULL)
    return FALSE;
  file = g_file_new_for_path (spec);
  info = g_file_query_info (file, G_FILE_ATTRIBUTE_TIME_MODIFIED, G_FILE_QUERY_INFO_NONE, NULL, NULL);
  if (info == NULL)
    return FALSE;
  mtime = g_file_info_get_attribute_uint64 (info, G_FILE_ATTRIBUTE_TIME_MODIFIED);
  if (g_strcmp0 (cached_spec, spec) != 0 || cached_mtime != mtime)
    {
      g_autofree char *origin = NULL;
      g_autoptr(GBytes) bytes = kestrel_model_spec_dup_bytes (spec, &origin, NULL);
      KestrelGraph *graph = bytes != NULL ? kestrel_onnx_load_graph (bytes, origin, NULL) : NULL;

      kestrel_frame_sized_input_clear (&cached_input);
      cached_free = graph != NULL && kestrel_frame_sized_input_find (graph, NULL, &cached_input);
      g_clear_pointer (&graph, kestrel_graph_free);
      g_free (cached_spec);
      cached_spec = g_strdup (spec);
      cached_mtime = mtime;
    }
  if (!cached_free)
    return FALSE;
  *out = cached_input;
  out->name = g_strdup (cached_input.name);
  return TRUE;
}

gboolean
kestrel_engine_settings_parse_input_size (const char *text, guint *width, guint *height)
{
  guint64 w, h;
  char *end;

  if (text == NULL || !g_ascii_isdigit (text[0]))
    return FALSE;
  w = g_ascii_strtoull (text, &end, 10);
  if (*end != 'x' || !g_ascii_isdigit (end[1]))
    return FALSE;
  h = g_ascii_strtoull (end + 1, &end, 10);
  if (*end != '\0' || w < 1 || h < 1 || w > KESTREL_ENGINE_SETTINGS_MAX_INPUT_SIDE
      || h > KESTREL_ENGINE_SETTINGS_MAX_INPUT_SIDE)
    return FALSE;
  if (width != NULL)
    *width = (guint) w;
  if (height != NULL)
    *height = (guint) h;
  return TRUE;
}

gboolean
kestrel_engine_settings_model_takes_any_size (GSettings *settings)
{
  g_autofree char *spec = model_spec (settings);
  KestrelFrameSizedInput input;

  if (!free_picture_input (spec, &input))
    return FALSE;
  kestrel_frame_sized_input_clear (&input);
  return TRUE;
}

/* The sample photos are stills shown for a few seconds each. Throttled
 * (the default), each is run once: a photo that has not changed needs no
 * second look, and the run costs next to nothing. At full speed (throttling
 * off) the pipeline runs the photo shown again and again, which is what
 * someone measuring how fast it can go wants to see. */
static char *
source_spec (GSettings *settings)
{
  g_autofree char *kind = g_settings_get_string (settings, "source-kind");
  g_autofree char *path = g_settings_get_string (settings, "source-path");
  g_autofree char *throttle = g_settings_get_string (settings, "throttle-mode");

  if (g_str_equal (kind, "camera"))
    return g_strconcat ("camera:", path, NULL);
  if (g_str_equal (kind, "folder") && path[0] != '\0')
    return g_strconcat ("images:", path, NULL);
  if (g_str_equal (kind, "video") && path[0] != '\0')
    return g_strconcat ("file:", path, NULL);
  return kestrel_samples_dup_source_spec (g_str_equal (throttle, "off"));
}

void
kestrel_engine_config_from_settings (GSettings           *settings,
                                     KestrelEngineConfig *config)
{
  g_autofree char *precision = NULL;
  g_autofree char *level = NULL;
  g_autofree char *throttle = NULL;
  kk_level level_value;
  KestrelPrecision precision_value;

  g_return_if_fail (G_IS_SETTINGS (settings));
  g_return_if_fail (config != NULL);

  g_free (config->model);
  config->model = model_spec (settings);
  g_free (config->source);
  config->source = source_spec (settings);

  /* A size picked for a model that takes any: its picture input at that
   * size. Otherwise none, and the engine plans such a model at the
   * frames' size. */
  g_clear_pointer (&config->input_shapes, g_strfreev);
  {
    g_autofree char *size = g_settings_get_string (settings, "input-size");
    KestrelFrameSizedInput input;
    guint width, height;

    if (kestrel_engine_settings_parse_input_size (size, &width, &height)
        && free_picture_input (config->model, &input))
      {
        config->input_shapes = g_new0 (char *, 2);
        config->input_shapes[0] = kestrel_frame_sized_input_spec (&input, width, height);
        kestrel_frame_sized_input_clear (&input);
      }
  }

  /* The schema's enumerations only hold names these functions know, so a
   * failed lookup would be a schema out of step with the code: keep the
   * value @config already has rather than guessing. */
  precision = g_settings_get_string (settings, "precision");
  if (kestrel_precision_from_name (precision, &precision_value))
    config->precision = precision_value;
  level = g_settings_get_string (settings, "level");
  if (kk_level_from_name (level, &level_value))
    config->level = level_value;

  /* The schema allows 64 so that settings travel between machines; more
   * threads than processors would only make them take turns. */
  config->threads = (guint) CLAMP (g_settings_get_int (settings, "threads"), 1,
                                   (int) g_get_num_processors ());
  config->batch = (guint) MAX (g_settings_get_int (settings, "batch"), 1);

  throttle = g_settings_get_string (settings, "throttle-mode");
  config->throttle = g_str_equal (throttle, "budget") ? KESTREL_THROTTLE_MODE_BUDGET
                                                      : KESTREL_THROTTLE_MODE_OFF;
  config->budget = g_settings_get_int (settings, "cpu-budget");
  config->canary_interval = (guint) MAX (g_settings_get_int (settings, "canary-interval"), 0);
  /* Negative: the model's own (kestrel_builtin_model_get_score_threshold()). */
  config->score_threshold = (float) g_settings_get_double (settings, "score-threshold");
  if (config->score_threshold < 0)
    config->score_threshold = -1.0f;
}

static void
set_string_if_changed (GSettings  *settings,
                       const char *key,
                       const char *value)
{
  g_autofree char *now = g_settings_get_string (settings, key);

  if (!g_str_equal (now, value))
    g_settings_set_string (settings, key, value);
}

void
kestrel_engine_settings_apply_config (GSettings                 *settings,
                                      const KestrelEngineConfig *config)
{
  g_autofree char *samples = NULL;
  const char *source;

  g_return_if_fail (G_IS_SETTINGS (settings));
  g_return_if_fail (config != NULL);

  /* Paths first, then the kinds, as the file choosers write them. */
  if (config->model != NULL)
    {
      /* The schema's names for the built-in models. */
      if (g_str_equal (config->model, "front") || g_str_equal (config->model, "back"))
        set_string_if_changed (settings, "model", config->model);
      else
        {
          set_string_if_changed (settings, "model-file", config->model);
          set_string_if_changed (settings, "model", "file");
        }
    }

  source = config->source != NULL ? config->source : "";
  samples = g_strdup_printf ("images:%s?", kestrel_samples_get_dir ());
  if (g_str_has_prefix (source, samples))
    set_string_if_changed (settings, "source-kind", "samples");
  else if (g_str_has_prefix (source, "images:"))
    {
      set_string_if_changed (settings, "source-path", source + strlen ("images:"));
      set_string_if_changed (settings, "source-kind", "folder");
    }
  else if (g_str_has_prefix (source, "file:"))
    {
      set_string_if_changed (settings, "source-path", source + strlen ("file:"));
      set_string_if_changed (settings, "source-kind", "video");
    }
  else if (g_str_has_prefix (source, "camera:"))
    {
      set_string_if_changed (settings, "source-path", source + strlen ("camera:"));
      set_string_if_changed (settings, "source-kind", "camera");
    }

  set_string_if_changed (settings, "precision", kestrel_precision_name (config->precision));

  /* The size a model that takes any runs at: the one it was given, or
   * the frames'. Other models leave the setting alone. */
  {
    KestrelFrameSizedInput input;

    if (config->model != NULL && free_picture_input (config->model, &input))
      {
        g_autofree char *size = g_strdup ("");

        for (guint i = 0; config->input_shapes != NULL && config->input_shapes[i] != NULL; i++)
          {
            g_autofree char *name = NULL;
            gint64 shape[KESTREL_TENSOR_MAX_DIMS];
            guint n_dims;

            if (kestrel_input_shape_parse (config->input_shapes[i], &name, &n_dims, shape, NULL) && n_dims == 4
                && g_str_equal (name, input.name))
              {
                g_free (size);
                size = g_strdup_printf ("%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT, shape[input.nhwc ? 2 : 3],
                                        shape[input.nhwc ? 1 : 2]);
              }
          }
        set_string_if_changed (settings, "input-size", size);
        kestrel_frame_sized_input_clear (&input);
      }
  }
}
