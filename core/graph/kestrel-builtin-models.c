/* kestrel-builtin-models.c — models from libkestrel's GResource.
 *
 * The resource is stored uncompressed, so g_resources_lookup_data() hands
 * out the bytes inside the library's mapping: loading a bundled model copies
 * nothing more than loading a file would.
 */
#include "config.h"

#include <string.h>

#include "kestrel-builtin-models.h"
#include "kestrel-error.h"
#include "kestrel-file.h"

typedef struct {
  const char *name;
  const char *stem;
  float score_threshold;
} Builtin;

/* Score thresholds chosen on the bundled photos (data/samples), from
 * `kestrel-cli detect --model M --score-threshold 0.05 data/samples/ *`:
 *   front: faces 0.92 (astronaut), 0.73 (camera), 0.92 (grace_hopper); the
 *          best of the rest 0.36, so the decoder's 0.5 stays.
 *   back:  faces 0.88, 0.77, 0.90; but a coffee cup at 0.67 and the rocket
 *          at 0.51: 0.72, between the cup and the weakest face.
 * tests/runtime/test-thresholds.c checks each on those photos. */
static const Builtin builtins[] = {
  { "front", "blazeface-front-128", 0.50f },
  { "back", "blazeface-back-256", 0.72f },
};

const char *const *
kestrel_builtin_model_names (void)
{
  static const char *const names[] = { "front", "back", NULL };
  G_STATIC_ASSERT (G_N_ELEMENTS (names) == G_N_ELEMENTS (builtins) + 1);
  return names;
}

const char *
kestrel_builtin_model_file_stem (const char *name)
{
  g_return_val_if_fail (name != NULL, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (builtins); i++)
    if (strcmp (name, builtins[i].name) == 0 || strcmp (name, builtins[i].stem) == 0)
      return builtins[i].stem;
  return NULL;
}

float
kestrel_builtin_model_get_score_threshold (const char *name)
{
  g_return_val_if_fail (name != NULL, -1.0f);

  for (gsize i = 0; i < G_N_ELEMENTS (builtins); i++)
    if (strcmp (name, builtins[i].name) == 0 || strcmp (name, builtins[i].stem) == 0)
      return builtins[i].score_threshold;
  return -1.0f;
}

/* The bundled file of a known stem; *origin gets its resource URI. */
static GBytes *
builtin_bytes (const char *stem, char **origin, GError **error)
{
  g_autofree char *path = g_strconcat (KESTREL_BUILTIN_MODELS_PATH, stem, ".onnx", NULL);
  g_autofree char *uri = g_strconcat ("resource://", path, NULL);
  g_autoptr(GError) local_error = NULL;
  GBytes *bytes = g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE, &local_error);

  if (bytes == NULL)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_DEPENDENCY, "%s: missing from this build: %s", uri,
                   local_error->message);
      return NULL;
    }
  *origin = g_steal_pointer (&uri);
  return bytes;
}

KestrelModel *
kestrel_builtin_model_new (const char *name, GError **error)
{
  g_return_val_if_fail (name != NULL, NULL);

  const char *stem = kestrel_builtin_model_file_stem (name);
  if (stem == NULL)
    {
      g_autofree char *known = g_strjoinv (", ", (char **) kestrel_builtin_model_names ());
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "no built-in model '%s' (there are: %s)", name, known);
      return NULL;
    }

  g_autofree char *origin = NULL;
  g_autoptr(GBytes) bytes = builtin_bytes (stem, &origin, error);
  if (bytes == NULL)
    return NULL;
  return kestrel_model_new_from_bytes (bytes, origin, error);
}

GBytes *
kestrel_model_spec_dup_bytes (const char *spec, char **origin, GError **error)
{
  const char *stem;
  GBytes *bytes;

  g_return_val_if_fail (spec != NULL, NULL);

  stem = kestrel_builtin_model_file_stem (spec);
  if (stem != NULL)
    return builtin_bytes (stem, origin, error);
  /* A word that is neither a built-in name nor a file was most likely
   * meant as a built-in name: say which there are. */
  if (!g_file_test (spec, G_FILE_TEST_EXISTS))
    {
      g_autofree char *known = g_strjoinv (", ", (char **) kestrel_builtin_model_names ());
      g_autofree char *name = g_filename_display_name (spec);

      if (strchr (spec, G_DIR_SEPARATOR) != NULL || g_str_has_suffix (spec, ".onnx"))
        g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                     "%s does not exist (a model is a built-in one, %s, or an ONNX file)",
                     name, known);
      else
        g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                     "there is no built-in model '%s' (the built-in models are %s) and no file "
                     "of that name", name, known);
      return NULL;
    }
  bytes = kestrel_file_read (spec, KESTREL_FILE_MODEL, error);
  if (bytes == NULL)
    return NULL;
  *origin = g_strdup (spec);
  return bytes;
}

KestrelModel *
kestrel_model_new_for_spec (const char *spec, GError **error)
{
  return kestrel_model_new_for_spec_at (spec, NULL, error);
}

KestrelModel *
kestrel_model_new_for_spec_at (const char *spec, const char *const *input_shapes, GError **error)
{
  g_autofree char *origin = NULL;
  g_autoptr(GBytes) bytes = kestrel_model_spec_dup_bytes (spec, &origin, error);

  if (bytes == NULL)
    return NULL;
  return kestrel_model_new_from_bytes_at (bytes, origin, input_shapes, error);
}
