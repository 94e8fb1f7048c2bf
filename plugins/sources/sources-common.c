/* sources-common.c — see sources-common.h. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kestrel-error.h"
#include "sources-common.h"
#include "kestrel-plugin.h"

static gboolean
key_valid (const char *key, gsize length)
{
  if (length == 0)
    return FALSE;
  for (gsize i = 0; i < length; i++)
    if (!g_ascii_isalnum (key[i]) && key[i] != '-' && key[i] != '_')
      return FALSE;
  return TRUE;
}

/* Whether `query` reads as key=value&key=value. */
static gboolean
query_is_options (const char *query)
{
  g_auto(GStrv) items = NULL;

  if (*query == '\0')
    return FALSE;
  items = g_strsplit (query, "&", -1);
  for (guint i = 0; items[i] != NULL; i++)
    {
      const char *eq = strchr (items[i], '=');
      if (eq == NULL || !key_valid (items[i], eq - items[i]))
        return FALSE;
    }
  return TRUE;
}

void
source_spec_free (SourceSpec *spec)
{
  if (spec == NULL)
    return;
  g_free (spec->location);
  g_clear_pointer (&spec->options, g_hash_table_unref);
  g_free (spec);
}

SourceSpec *
source_spec_parse (const char *source, const char *spec, const char *const *known, GError **error)
{
  g_autoptr(SourceSpec) self = g_new0 (SourceSpec, 1);
  const char *question = strrchr (spec, '?');

  self->source = source;
  self->options = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  if (question == NULL || !query_is_options (question + 1))
    {
      self->location = g_strdup (spec);
      return g_steal_pointer (&self);
    }

  self->location = g_strndup (spec, question - spec);
  g_auto(GStrv) items = g_strsplit (question + 1, "&", -1);
  for (guint i = 0; items[i] != NULL; i++)
    {
      char *eq = strchr (items[i], '=');
      g_autofree char *key = g_strndup (items[i], eq - items[i]);

      if (known == NULL || !g_strv_contains (known, key))
        {
          g_autofree char *list = known != NULL && known[0] != NULL
                                  ? g_strjoinv (", ", (char **) known) : g_strdup ("none");
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                       "unknown option '%s' for source '%s' (it knows: %s)", key, source, list);
          return NULL;
        }
      if (g_hash_table_contains (self->options, key))
        {
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                       "option '%s' given twice", key);
          return NULL;
        }
      g_hash_table_insert (self->options, g_steal_pointer (&key), g_strdup (eq + 1));
    }
  return g_steal_pointer (&self);
}

char *
source_spec_dup_location (const char *spec)
{
  const char *question = strrchr (spec, '?');

  if (question == NULL || !query_is_options (question + 1))
    return g_strdup (spec);
  return g_strndup (spec, question - spec);
}

char *
source_expand_home (const char *location)
{
  if (location[0] == '~' && (location[1] == '\0' || location[1] == G_DIR_SEPARATOR))
    return g_build_filename (g_get_home_dir (), location + 1, NULL);
  return g_strdup (location);
}

static gboolean
bad_value (const SourceSpec *spec, const char *key, const char *value, const char *expected,
           GError **error)
{
  g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
               "option '%s=%s' of source '%s': expected %s", key, value, spec->source, expected);
  return FALSE;
}

gboolean
source_spec_get_boolean (const SourceSpec *spec, const char *key, gboolean default_value,
                         gboolean *out, GError **error)
{
  static const char *const yes[] = { "1", "true", "yes", "on", NULL };
  static const char *const no[] = { "0", "false", "no", "off", NULL };
  const char *value = g_hash_table_lookup (spec->options, key);

  if (value == NULL)
    *out = default_value;
  else if (g_strv_contains (yes, value))
    *out = TRUE;
  else if (g_strv_contains (no, value))
    *out = FALSE;
  else
    return bad_value (spec, key, value, "1 or 0", error);
  return TRUE;
}

gboolean
source_spec_get_uint (const SourceSpec *spec, const char *key, guint min, guint max,
                      guint default_value, guint *out, GError **error)
{
  const char *value = g_hash_table_lookup (spec->options, key);
  guint64 number = 0;

  if (value == NULL)
    {
      *out = default_value;
      return TRUE;
    }
  if (!g_ascii_string_to_unsigned (value, 10, min, max, &number, NULL))
    {
      g_autofree char *expected = g_strdup_printf ("a whole number from %u to %u", min, max);
      return bad_value (spec, key, value, expected, error);
    }
  *out = (guint) number;
  return TRUE;
}

gboolean
source_spec_get_seconds (const SourceSpec *spec, const char *key, double default_value,
                         double *out, GError **error)
{
  const char *value = g_hash_table_lookup (spec->options, key);
  char *end = NULL;

  if (value == NULL)
    {
      *out = default_value;
      return TRUE;
    }
  errno = 0;
  double seconds = g_ascii_strtod (value, &end);
  if (*value == '\0' || *end != '\0' || errno != 0 || !(seconds >= 0.0 && seconds <= 1e6))
    return bad_value (spec, key, value, "seconds from 0 to 1000000", error);
  *out = seconds;
  return TRUE;
}

const char *
source_spec_get_string (const SourceSpec *spec, const char *key, const char *default_value)
{
  const char *value = g_hash_table_lookup (spec->options, key);
  return value != NULL ? value : default_value;
}

gboolean
source_spec_get_format (const SourceSpec *spec, kk_pixel_format default_value, kk_pixel_format *out,
                        GError **error)
{
  static const struct {
    const char *name;
    kk_pixel_format format;
  } formats[] = {
    { "rgb", KK_PIXEL_RGB8 },
    { "rgba", KK_PIXEL_RGBA8 },
    { "bgra", KK_PIXEL_BGRA8 },
    { "bgrx", KK_PIXEL_BGRX8 },
    { "gray", KK_PIXEL_GRAY8 },
  };
  const char *value = g_hash_table_lookup (spec->options, "format");

  if (value == NULL)
    {
      *out = default_value;
      return TRUE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    if (g_ascii_strcasecmp (value, formats[i].name) == 0)
      {
        *out = formats[i].format;
        return TRUE;
      }
  return bad_value (spec, "format", value, "rgb, rgba, bgra, bgrx or gray", error);
}

KestrelPool *
sources_frame_pool (void)
{
  return kestrel_frame_pool_get_default ();
}

guint8 *
source_frame_buffer_take (SourceFrameBuffer *buffer, gsize size, GError **error)
{
  source_frame_buffer_release (buffer);
  buffer->data = kestrel_pool_try_alloc (sources_frame_pool (), size, SOURCES_FRAME_TAG, error);
  if (buffer->data != NULL)
    buffer->size = size;
  return buffer->data;
}

void
source_frame_buffer_release (SourceFrameBuffer *buffer)
{
  if (buffer->data != NULL)
    kestrel_pool_free (sources_frame_pool (), g_steal_pointer (&buffer->data));
  buffer->size = 0;
}

gboolean
source_frame_buffer_copy (SourceFrameBuffer *buffer, const guint8 *data, gsize width, gsize height,
                          gsize stride, kk_pixel_format format, kk_image_view *view, GError **error)
{
  gsize row = width * kk_pixel_format_channels (format);

  if (width == 0 || height == 0 || row == 0 || row / width != kk_pixel_format_channels (format)
      || height > G_MAXSIZE / row)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED, "a %" G_GSIZE_FORMAT "x%" G_GSIZE_FORMAT
                   " frame cannot be held", width, height);
      return FALSE;
    }
  guint8 *pixels = source_frame_buffer_take (buffer, row * height, error);
  if (pixels == NULL)
    return FALSE;
  if (stride == row)
    memcpy (pixels, data, row * height);
  else
    for (gsize y = 0; y < height; y++)
      memcpy (pixels + y * row, data + y * stride, row);

  *view = (kk_image_view) {
    .data = pixels,
    .width = width,
    .height = height,
    .stride = row,
    .format = format,
  };
  return TRUE;
}
