/* kestrel-engine-settings.c — see kestrel-engine-settings.h. */
#include "config.h"

#include <string.h>

#include "kestrel-builtin-models.h"
#include "kestrel-engine-settings.h"
#include "kestrel-samples.h"

static const char *const engine_keys[] = {
  "model", "model-file", "source-kind", "source-path", "precision", "level",
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
}
