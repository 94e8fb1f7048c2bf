/* kestrel-quant-table-file.c — calibration tables as JSON files and the
 * calibration cache (kestrel-quant-table-file.h). */
#include "kestrel-quant-table-file.h"

#include <math.h>

#include <json-glib/json-glib.h>

#include "kestrel-error.h"

#define FORMAT_NAME "kestrel-calibration"

char *
kestrel_quant_table_to_json (const KestrelQuantTable *table)
{
  g_return_val_if_fail (table != NULL, NULL);
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, FORMAT_NAME);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, KESTREL_QUANT_TABLE_FILE_VERSION);
  json_builder_set_member_name (b, "model_hash");
  json_builder_add_string_value (b, kestrel_quant_table_get_model_hash (table));
  json_builder_set_member_name (b, "method");
  json_builder_add_string_value (b, kestrel_quant_table_get_method (table));
  json_builder_set_member_name (b, "frames");
  json_builder_add_int_value (b, kestrel_quant_table_get_n_frames (table));
  json_builder_set_member_name (b, "tensors");
  json_builder_begin_array (b);
  for (guint i = 0; i < kestrel_quant_table_get_n_entries (table); i++)
    {
      KestrelQuantParams p;
      const char *name = kestrel_quant_table_get_entry (table, i, &p);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, name);
      /* float -> double is exact, and json-glib prints doubles so that
       * they read back the same. */
      json_builder_set_member_name (b, "min");
      json_builder_add_double_value (b, p.min);
      json_builder_set_member_name (b, "max");
      json_builder_add_double_value (b, p.max);
      json_builder_set_member_name (b, "scale");
      json_builder_add_double_value (b, p.scale);
      json_builder_set_member_name (b, "zero_point");
      json_builder_add_int_value (b, p.zero_point);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);

  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_indent (gen, 2);
  char *text = json_generator_to_data (gen, NULL);
  /* end with a newline, as a text file does */
  char *out = g_strconcat (text, "\n", NULL);
  g_free (text);
  return out;
}

static gboolean G_GNUC_PRINTF (3, 4)
corrupt (GError **error, const char *origin, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT, "Calibration table %s: %s", origin,
               what);
  return FALSE;
}

/* A member that must be a number (int or double). */
static gboolean
get_number (JsonObject *o, const char *member, double *out)
{
  JsonNode *node = json_object_get_member (o, member);
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  GType t = json_node_get_value_type (node);
  if (t != G_TYPE_INT64 && t != G_TYPE_DOUBLE)
    return FALSE;
  *out = json_node_get_double (node);
  return TRUE;
}

static const char *
get_string (JsonObject *o, const char *member)
{
  JsonNode *node = json_object_get_member (o, member);
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* A member that must be a whole number in [lo, hi]. */
static gboolean
get_whole (JsonObject *o, const char *member, gint64 lo, gint64 hi, gint64 *out)
{
  JsonNode *node = json_object_get_member (o, member);
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (node);
  return *out >= lo && *out <= hi;
}

KestrelQuantTable *
kestrel_quant_table_from_json (const char *json, gssize length, const char *origin, GError **error)
{
  g_return_val_if_fail (json != NULL && origin != NULL, NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) parse_error = NULL;
  if (!json_parser_load_from_data (parser, json, length, &parse_error))
    {
      corrupt (error, origin, "not JSON (%s)", parse_error->message);
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      corrupt (error, origin, "not a JSON object");
      return NULL;
    }
  JsonObject *o = json_node_get_object (root);
  const char *format = get_string (o, "format");
  if (g_strcmp0 (format, FORMAT_NAME) != 0)
    {
      corrupt (error, origin, "\"format\" is not \"%s\"", FORMAT_NAME);
      return NULL;
    }
  gint64 version, frames;
  if (!get_whole (o, "version", 1, KESTREL_QUANT_TABLE_FILE_VERSION, &version))
    {
      corrupt (error, origin, "\"version\" is not a version this Kestrel reads (1 to %d)",
               KESTREL_QUANT_TABLE_FILE_VERSION);
      return NULL;
    }
  const char *hash = get_string (o, "model_hash"), *method = get_string (o, "method");
  if (hash == NULL || method == NULL)
    {
      corrupt (error, origin, "\"model_hash\" or \"method\" is missing or not a string");
      return NULL;
    }
  if (!get_whole (o, "frames", 0, G_MAXUINT, &frames))
    {
      corrupt (error, origin, "\"frames\" is not a count");
      return NULL;
    }
  JsonNode *tensors = json_object_get_member (o, "tensors");
  if (tensors == NULL || !JSON_NODE_HOLDS_ARRAY (tensors))
    {
      corrupt (error, origin, "\"tensors\" is missing or not an array");
      return NULL;
    }

  g_autoptr (KestrelQuantTable) table = kestrel_quant_table_new (hash, method, (guint) frames);
  JsonArray *array = json_node_get_array (tensors);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          corrupt (error, origin, "tensor %u is not an object", i);
          return NULL;
        }
      JsonObject *t = json_node_get_object (node);
      const char *name = get_string (t, "name");
      double min, max, scale;
      gint64 zero_point;
      if (name == NULL)
        {
          corrupt (error, origin, "tensor %u has no \"name\"", i);
          return NULL;
        }
      if (!get_number (t, "min", &min) || !get_number (t, "max", &max)
          || !get_number (t, "scale", &scale) || !isfinite (min) || !isfinite (max)
          || !isfinite (scale) || min > max || fabs (min) > (double) G_MAXFLOAT || fabs (max) > (double) G_MAXFLOAT)
        {
          corrupt (error, origin, "tensor \"%s\": \"min\", \"max\" and \"scale\" must be finite numbers, min <= max",
                   name);
          return NULL;
        }
      if (!get_whole (t, "zero_point", 0, 255, &zero_point))
        {
          corrupt (error, origin, "tensor \"%s\": \"zero_point\" must be a whole number in 0..255", name);
          return NULL;
        }
      if (kestrel_quant_table_lookup (table, name, NULL))
        {
          corrupt (error, origin, "tensor \"%s\" is listed twice", name);
          return NULL;
        }
      KestrelQuantParams p = { .min = (float) min, .max = (float) max, .scale = (float) scale,
                               .zero_point = (guint8) zero_point };
      if (!kestrel_quant_table_set_params (table, name, &p))
        {
          corrupt (error, origin, "tensor \"%s\": \"scale\" must be > 0", name);
          return NULL;
        }
    }
  return g_steal_pointer (&table);
}

gboolean
kestrel_quant_table_save (const KestrelQuantTable *table, const char *path, GError **error)
{
  g_return_val_if_fail (table != NULL && path != NULL, FALSE);
  g_autofree char *json = kestrel_quant_table_to_json (table);
  g_autofree char *dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "Cannot create folder %s for the calibration table: %s", dir, g_strerror (saved));
      return FALSE;
    }
  /* A temporary file renamed over the target: on a full disk the previous
   * file stays as it was. GLib's message names only the temporary file. */
  if (!g_file_set_contents (path, json, -1, error))
    {
      g_prefix_error (error, "%s not saved (a previous one is left as it was): ", path);
      return FALSE;
    }
  return TRUE;
}

KestrelQuantTable *
kestrel_quant_table_load (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_autofree char *contents = NULL;
  gsize length = 0;
  if (!g_file_get_contents (path, &contents, &length, error))
    return NULL;
  return kestrel_quant_table_from_json (contents, (gssize) length, path, error);
}

char *
kestrel_quant_table_cache_path (const char *model_hash, const char *method)
{
  g_return_val_if_fail (model_hash != NULL && method != NULL, NULL);
  g_autofree char *file = g_strdup_printf ("%s-%s.json", model_hash, method);
  return g_build_filename (g_get_user_cache_dir (), "kestrel", "calibration", file, NULL);
}

KestrelQuantTable *
kestrel_calibrate_cached (KestrelModel *model, const KestrelCalibrationMethod *method,
                          guint n_frames, KestrelCalibrationInputFunc fill_input, gpointer user_data,
                          GCancellable *cancellable, gboolean *from_cache, GError **error)
{
  g_return_val_if_fail (model != NULL && method != NULL, NULL);
  const char *hash = kestrel_model_get_content_hash (model);
  g_autofree char *path = kestrel_quant_table_cache_path (hash, method->name);

  if (from_cache != NULL)
    *from_cache = FALSE;
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_autoptr (GError) load_error = NULL;
      g_autoptr (KestrelQuantTable) cached = kestrel_quant_table_load (path, &load_error);
      if (cached != NULL && g_strcmp0 (kestrel_quant_table_get_model_hash (cached), hash) == 0
          && g_strcmp0 (kestrel_quant_table_get_method (cached), method->name) == 0)
        {
          if (from_cache != NULL)
            *from_cache = TRUE;
          return g_steal_pointer (&cached);
        }
      if (cached != NULL)
        g_warning ("Calibration cache %s is for another model or method: calibrating again", path);
      else
        g_warning ("Calibration cache is corrupt, calibrating again: %s", load_error->message);
    }

  g_autoptr (KestrelQuantTable) table = kestrel_calibrate (model, method, n_frames, fill_input,
                                                           user_data, cancellable, error);
  if (table == NULL)
    return NULL;
  g_autoptr (GError) save_error = NULL;
  if (!kestrel_quant_table_save (table, path, &save_error))
    g_warning ("Calibration table not cached: %s", save_error->message);
  return g_steal_pointer (&table);
}
