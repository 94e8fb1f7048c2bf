/* cli-common.c — what several kestrel-cli commands share. */
#include "config.h"

#include <stdio.h>

#include "kestrel-cli.h"
#include "kestrel-error.h"

int
kestrel_cli_fail (const char *command, const char *message, int status)
{
  fprintf (stderr, "kestrel-cli %s: %s\n", command, message);
  return status;
}

gboolean
kestrel_cli_parse_level (const char *name, kk_level *level, GError **error)
{
  if (name == NULL)
    {
      *level = KK_LEVEL_FULL;
      return TRUE;
    }
  if (kk_level_from_name (name, level))
    return TRUE;
  g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
               "unknown level '%s' (expected scalar, simd, parallel or full)", name);
  return FALSE;
}

/* The built-in models live in libkestrel's GResource (data/). */
static const struct {
  const char *name;
  const char *file;
} builtin_models[] = {
  { "front", "blazeface-front-128.onnx" },
  { "back", "blazeface-back-256.onnx" },
};

GBytes *
kestrel_cli_model_bytes (const char *spec, char **origin, GError **error)
{
  for (gsize i = 0; i < G_N_ELEMENTS (builtin_models); i++)
    if (g_strcmp0 (spec, builtin_models[i].name) == 0)
      {
        g_autofree char *path = g_strconcat (KESTREL_MODEL_RESOURCE_PREFIX, builtin_models[i].file, NULL);
        GBytes *bytes = g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE, error);
        if (bytes != NULL)
          *origin = g_strconcat ("resource://", path, NULL);
        return bytes;
      }
  {
    g_autoptr(GMappedFile) file = g_mapped_file_new (spec, FALSE, error);
    if (file == NULL)
      return NULL;
    *origin = g_strdup (spec);
    return g_mapped_file_get_bytes (file);
  }
}

KestrelModel *
kestrel_cli_load_model (const char *spec, GError **error)
{
  g_autofree char *origin = NULL;
  g_autoptr(GBytes) bytes = kestrel_cli_model_bytes (spec, &origin, error);

  if (bytes == NULL)
    return NULL;
  return kestrel_model_new_from_bytes (bytes, origin, error);
}
