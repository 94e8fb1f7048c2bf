/* kestrel-quant-table-file.c — calibration tables as JSON files and the
 * calibration cache (kestrel-quant-table-file.h). */
#include "kestrel-quant-table-file.h"

#include <math.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "kestrel-error.h"
#include "kestrel-json.h"
#include "kestrel-mixed-precision.h"

#define FORMAT_NAME "kestrel-calibration"

/* A dB figure: +inf (an exact result) has no JSON number; it is null. */
static void
add_db (JsonBuilder *b, const char *member, double value)
{
  json_builder_set_member_name (b, member);
  if (isfinite (value))
    kestrel_json_add_double (b, value);
  else
    json_builder_add_null_value (b);
}

/* Version 2's "mixed" member, when the table went through the search. */
static void
write_mixed (JsonBuilder *b, const KestrelQuantTable *table)
{
  KestrelMixedSummary summary;
  const char *const *layers = kestrel_quant_table_get_fp32_layers (table);

  if (!kestrel_quant_table_get_mixed (table, &summary))
    return;
  json_builder_set_member_name (b, "mixed");
  json_builder_begin_object (b);
  add_db (b, "goal_output_sqnr_db", summary.goal_db);
  add_db (b, "output_sqnr_db", summary.output_sqnr_db);
  add_db (b, "all_int8_output_sqnr_db", summary.all_int8_sqnr_db);
  json_builder_set_member_name (b, "candidates");
  json_builder_add_int_value (b, summary.n_candidates);
  json_builder_set_member_name (b, "task_agreement");
  json_builder_add_boolean_value (b, summary.task_agreement);
  json_builder_set_member_name (b, "fp32_layers");
  json_builder_begin_array (b);
  for (guint i = 0; layers[i] != NULL; i++)
    json_builder_add_string_value (b, layers[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "sensitivity");
  json_builder_begin_array (b);
  for (guint i = 0; i < kestrel_quant_table_get_n_sensitivities (table); i++)
    {
      double db;
      const char *layer = kestrel_quant_table_get_sensitivity (table, i, &db);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "layer");
      json_builder_add_string_value (b, layer);
      add_db (b, "output_sqnr_db", db);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "tensor_errors");
  json_builder_begin_array (b);
  for (guint i = 0; i < kestrel_quant_table_get_n_tensor_errors (table); i++)
    {
      double mse, db;
      const char *name = kestrel_quant_table_get_tensor_error (table, i, &mse, &db);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, name);
      json_builder_set_member_name (b, "mse");
      kestrel_json_add_double (b, mse);
      add_db (b, "sqnr_db", db);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
}

/* The INT4 search's choice (kestrel-mixed-int4.h), once it ran: the
 * layers INT4 plans keep INT8. A member older readers skip. */
static void
write_int4 (JsonBuilder *b, const KestrelQuantTable *table)
{
  const char *const *layers = kestrel_quant_table_get_int8_layers (table);

  if (!kestrel_quant_table_get_int4_searched (table))
    return;
  json_builder_set_member_name (b, "int4");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "int8_layers");
  json_builder_begin_array (b);
  for (guint i = 0; layers[i] != NULL; i++)
    json_builder_add_string_value (b, layers[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
}

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
      kestrel_json_add_double (b, p.min);
      json_builder_set_member_name (b, "max");
      kestrel_json_add_double (b, p.max);
      json_builder_set_member_name (b, "scale");
      kestrel_json_add_double (b, p.scale);
      json_builder_set_member_name (b, "zero_point");
      json_builder_add_int_value (b, p.zero_point);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  write_mixed (b, table);
  write_int4 (b, table);
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

/* A dB figure: a number, or null for +inf (exact). */
static gboolean
get_db (JsonObject *o, const char *member, double *out)
{
  JsonNode *node = json_object_get_member (o, member);

  if (node != NULL && JSON_NODE_HOLDS_NULL (node))
    {
      *out = INFINITY;
      return TRUE;
    }
  return get_number (o, member, out) && isfinite (*out);
}

/* The array `member` of `o`, every element an object (or, with strings, a
 * string); NULL when it is not. */
static JsonArray *
get_array (JsonObject *o, const char *member, gboolean strings)
{
  JsonNode *node = json_object_get_member (o, member);
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *e = json_array_get_element (array, i);
      if (strings ? !JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING
                  : !JSON_NODE_HOLDS_OBJECT (e))
        return NULL;
    }
  return array;
}

static gboolean
read_mixed (KestrelQuantTable *table, JsonNode *node, const char *origin, GError **error)
{
  KestrelMixedSummary summary = { 0 };
  JsonObject *m;
  JsonArray *layers, *sensitivity, *errors;
  gint64 candidates;
  g_autoptr (GPtrArray) names = g_ptr_array_new ();

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return corrupt (error, origin, "\"mixed\" is not an object");
  m = json_node_get_object (node);
  if (!get_db (m, "goal_output_sqnr_db", &summary.goal_db) || !get_db (m, "output_sqnr_db", &summary.output_sqnr_db)
      || !get_db (m, "all_int8_output_sqnr_db", &summary.all_int8_sqnr_db))
    return corrupt (error, origin, "\"mixed\": the SQNR figures must be numbers (or null for exact)");
  if (!get_whole (m, "candidates", 0, G_MAXUINT, &candidates))
    return corrupt (error, origin, "\"mixed\": \"candidates\" is not a count");
  summary.n_candidates = (guint) candidates;
  JsonNode *agreement = json_object_get_member (m, "task_agreement");
  if (agreement != NULL
      && !(JSON_NODE_HOLDS_VALUE (agreement) && json_node_get_value_type (agreement) == G_TYPE_BOOLEAN))
    return corrupt (error, origin, "\"mixed\": \"task_agreement\" is not true or false");
  summary.task_agreement = agreement != NULL && json_node_get_boolean (agreement);
  layers = get_array (m, "fp32_layers", TRUE);
  sensitivity = get_array (m, "sensitivity", FALSE);
  errors = get_array (m, "tensor_errors", FALSE);
  if (layers == NULL || sensitivity == NULL || errors == NULL)
    return corrupt (error, origin, "\"mixed\": \"fp32_layers\" (names), \"sensitivity\" and \"tensor_errors\" "
                    "(objects) must be arrays");
  for (guint i = 0; i < json_array_get_length (layers); i++)
    g_ptr_array_add (names, (gpointer) json_array_get_string_element (layers, i));
  g_ptr_array_add (names, NULL);
  for (guint i = 0; i < json_array_get_length (sensitivity); i++)
    {
      JsonObject *s = json_array_get_object_element (sensitivity, i);
      const char *layer = get_string (s, "layer");
      double db;
      if (layer == NULL || !get_db (s, "output_sqnr_db", &db))
        return corrupt (error, origin, "\"mixed\": sensitivity %u needs \"layer\" and \"output_sqnr_db\"", i);
      kestrel_quant_table_set_sensitivity (table, layer, db);
    }
  for (guint i = 0; i < json_array_get_length (errors); i++)
    {
      JsonObject *e = json_array_get_object_element (errors, i);
      const char *name = get_string (e, "name");
      double mse, db;
      if (name == NULL || !get_number (e, "mse", &mse) || !isfinite (mse) || mse < 0 || !get_db (e, "sqnr_db", &db))
        return corrupt (error, origin, "\"mixed\": tensor error %u needs \"name\", \"mse\" >= 0 and \"sqnr_db\"",
                        i);
      kestrel_quant_table_set_tensor_error (table, name, mse, db);
    }
  kestrel_quant_table_set_fp32_layers (table, (const char *const *) names->pdata);
  kestrel_quant_table_set_mixed (table, &summary);
  return TRUE;
}

static gboolean
read_int4 (KestrelQuantTable *table, JsonNode *node, const char *origin, GError **error)
{
  JsonArray *layers;
  g_autoptr (GPtrArray) names = g_ptr_array_new ();

  if (!JSON_NODE_HOLDS_OBJECT (node)
      || (layers = get_array (json_node_get_object (node), "int8_layers", TRUE)) == NULL)
    return corrupt (error, origin, "\"int4\" must be an object whose \"int8_layers\" is an array of names");
  for (guint i = 0; i < json_array_get_length (layers); i++)
    g_ptr_array_add (names, (gpointer) json_array_get_string_element (layers, i));
  g_ptr_array_add (names, NULL);
  kestrel_quant_table_set_int8_layers (table, (const char *const *) names->pdata);
  return TRUE;
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
  if (json_object_has_member (o, "mixed") && !read_mixed (table, json_object_get_member (o, "mixed"), origin, error))
    return NULL;
  if (json_object_has_member (o, "int4") && !read_int4 (table, json_object_get_member (o, "int4"), origin, error))
    return NULL;
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

gboolean
kestrel_quant_table_save_to_cache (const KestrelQuantTable *table, GError **error)
{
  g_return_val_if_fail (table != NULL, FALSE);
  g_autofree char *path = kestrel_quant_table_cache_path (kestrel_quant_table_get_model_hash (table),
                                                          kestrel_quant_table_get_method (table));
  return kestrel_quant_table_save (table, path, error);
}

/* A cached table of `model` and `method` (and, when goal_db is a number,
 * of a search with that goal, with or without the task's agreement as
 * `agreement` says), or NULL: not there, or reported with a
 * g_warning (corrupt, another model or method) or a g_message (from
 * before the search) and to be replaced. */
static KestrelQuantTable *
cache_read (const char *path, const char *hash, const char *method, double goal_db, gboolean agreement)
{
  g_autoptr (GError) load_error = NULL;
  g_autoptr (KestrelQuantTable) cached = NULL;
  KestrelMixedSummary mixed;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return NULL;
  cached = kestrel_quant_table_load (path, &load_error);
  if (cached == NULL)
    {
      g_warning ("Calibration cache is corrupt, calibrating again: %s", load_error->message);
      return NULL;
    }
  if (g_strcmp0 (kestrel_quant_table_get_model_hash (cached), hash) != 0
      || g_strcmp0 (kestrel_quant_table_get_method (cached), method) != 0)
    {
      g_warning ("Calibration cache %s is for another model or method: calibrating again", path);
      return NULL;
    }
  if (!isnan (goal_db) && !(kestrel_quant_table_get_mixed (cached, &mixed) && mixed.goal_db == goal_db
                            && mixed.task_agreement == agreement))
    {
      g_message ("Calibration cache %s has no sensitivity search for a %.1f dB goal: calibrating again", path,
                 goal_db);
      return NULL;
    }
  return g_steal_pointer (&cached);
}

static KestrelQuantTable *
calibrate_cached (KestrelModel *model, const KestrelCalibrationMethod *method, guint n_frames,
                  KestrelCalibrationInputFunc fill_input, gpointer user_data, double goal_db,
                  KestrelMixedAgreeFunc agree, gpointer agree_data, KestrelCalibrationProgressFunc search_progress, gpointer progress_data,
                  GCancellable *cancellable, gboolean *from_cache, GError **error)
{
  g_return_val_if_fail (model != NULL && method != NULL, NULL);
  const char *hash = kestrel_model_get_content_hash (model);
  g_autofree char *path = kestrel_quant_table_cache_path (hash, method->name);
  g_autoptr (KestrelQuantTable) table = cache_read (path, hash, method->name, goal_db, agree != NULL);

  if (from_cache != NULL)
    *from_cache = table != NULL;
  if (table != NULL)
    return g_steal_pointer (&table);

  if (isnan (goal_db))
    table = kestrel_calibrate (model, method, n_frames, fill_input, user_data, cancellable, error);
  else
    table = kestrel_calibrate_mixed (model, method, n_frames, fill_input, user_data, goal_db, agree, agree_data,
                                     search_progress, progress_data, cancellable, error);
  if (table == NULL)
    return NULL;
  g_autoptr (GError) save_error = NULL;
  if (!kestrel_quant_table_save (table, path, &save_error))
    g_warning ("Calibration table not cached: %s", save_error->message);
  return g_steal_pointer (&table);
}

KestrelQuantTable *
kestrel_calibrate_cached (KestrelModel *model, const KestrelCalibrationMethod *method,
                          guint n_frames, KestrelCalibrationInputFunc fill_input, gpointer user_data,
                          GCancellable *cancellable, gboolean *from_cache, GError **error)
{
  return calibrate_cached (model, method, n_frames, fill_input, user_data, NAN, NULL, NULL, NULL, NULL,
                           cancellable, from_cache, error);
}

KestrelQuantTable *
kestrel_calibrate_mixed_cached (KestrelModel *model, const KestrelCalibrationMethod *method, guint n_frames,
                                KestrelCalibrationInputFunc fill_input, gpointer user_data, double goal_db,
                                KestrelMixedAgreeFunc agree, gpointer agree_data,
                                KestrelCalibrationProgressFunc search_progress, gpointer progress_data,
                                GCancellable *cancellable, gboolean *from_cache, GError **error)
{
  g_return_val_if_fail (!isnan (goal_db), NULL);
  return calibrate_cached (model, method, n_frames, fill_input, user_data, goal_db, agree, agree_data,
                           search_progress, progress_data, cancellable, from_cache, error);
}
