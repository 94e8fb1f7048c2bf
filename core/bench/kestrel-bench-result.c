/* kestrel-bench-result.c — see kestrel-bench-result.h. */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "kestrel-bench-result.h"
#include "kestrel-error.h"
#include "kestrel-file.h"
#include "kestrel-json.h"

static const char *const note_names[] = { "governor", "load", "frequency", "throttle", "unstable", "noisy",
                                           "machine_speed" };

/* ---- writing --------------------------------------------------------------- */

static void
add_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
add_double (JsonBuilder *b, const char *name, double value)
{
  json_builder_set_member_name (b, name);
  if (isfinite (value))
    kestrel_json_add_double (b, value);
  else
    json_builder_add_null_value (b);
}

static void
add_int (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

static void
add_doubles (JsonBuilder *b, const char *name, GArray *values)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; i < values->len; i++)
    kestrel_json_add_double (b, g_array_index (values, double, i));
  json_builder_end_array (b);
}

static void
add_strings (JsonBuilder *b, const char *name, GPtrArray *values)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; i < values->len; i++)
    json_builder_add_string_value (b, values->pdata[i]);
  json_builder_end_array (b);
}

static void
add_cell (JsonBuilder *b, const KestrelBenchCell *c)
{
  json_builder_begin_object (b);
  add_string (b, "engine", c->engine);
  add_string (b, "precision", kestrel_precision_name (c->precision));
  add_string (b, "level", kk_level_name (c->level));
  add_int (b, "threads", c->threads);
  add_int (b, "batch", c->batch);
  add_double (b, "build_ms", c->build_ms);
  add_double (b, "first_run_ms", c->first_run_ms);
  add_int (b, "runs", c->samples_ms->len);
  add_double (b, "median_ms", c->median_ms);
  add_double (b, "p90_ms", c->p90_ms);
  add_double (b, "p99_ms", c->p99_ms);
  add_double (b, "mad_ms", c->mad_ms);
  add_double (b, "ci_low_ms", c->ci_low_ms);
  add_double (b, "ci_high_ms", c->ci_high_ms);
  add_double (b, "frames_per_s", c->frames_per_s);
  add_double (b, "cpu_ms_per_frame", c->cpu_ms_per_frame);
  add_int (b, "arena_bytes", (gint64) c->arena_bytes);
  add_int (b, "weight_bytes", (gint64) c->weight_bytes);
  add_double (b, "energy_mj_per_frame", c->energy_mj_per_frame);
  add_double (b, "sqnr_db", c->sqnr_db);
  json_builder_set_member_name (b, "output_identical");
  json_builder_add_boolean_value (b, isinf (c->sqnr_db) && c->sqnr_db > 0);
  json_builder_set_member_name (b, "faces");
  if (c->faces_fp32 < 0)
    json_builder_add_null_value (b);
  else
    {
      json_builder_begin_object (b);
      add_int (b, "fp32", c->faces_fp32);
      add_int (b, "matched", c->faces_matched);
      add_int (b, "extra", c->faces_extra);
      json_builder_end_object (b);
    }
  add_double (b, "other_cpu_percent", c->other_cpu_percent);
  add_double (b, "freq_drift_percent", c->freq_drift_percent);
  add_int (b, "throttle_events", c->throttle_events);
  json_builder_set_member_name (b, "note_kinds");
  json_builder_begin_array (b);
  for (guint i = 0; i < G_N_ELEMENTS (note_names); i++)
    if (c->note_flags & (1u << i))
      json_builder_add_string_value (b, note_names[i]);
  json_builder_end_array (b);
  add_strings (b, "notes", c->notes);
  add_doubles (b, "round_medians_ms", c->round_medians_ms);
  add_doubles (b, "reference_ms", c->reference_ms);
  add_doubles (b, "samples_ms", c->samples_ms);
  json_builder_end_object (b);
}

JsonNode *
kestrel_bench_result_to_json (const KestrelBenchResult *r)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_auto(GStrv) features = g_strsplit (r->cpu_features != NULL ? r->cpu_features : "", " ", -1);

  json_builder_begin_object (b);
  add_string (b, "format", KESTREL_BENCH_FORMAT);
  add_int (b, "version", KESTREL_BENCH_FORMAT_VERSION);
  add_string (b, "created", r->created);

  json_builder_set_member_name (b, "machine");
  json_builder_begin_object (b);
  add_string (b, "cpu_model", r->cpu_model);
  json_builder_set_member_name (b, "cpu_features");
  json_builder_begin_array (b);
  for (guint i = 0; features[i] != NULL; i++)
    if (features[i][0] != '\0')
      json_builder_add_string_value (b, features[i]);
  json_builder_end_array (b);
  add_string (b, "isa", r->isa);
  add_int (b, "cores", r->cores);
  add_int (b, "memory_bytes", (gint64) r->memory_bytes);
  add_string (b, "kernel", r->kernel);
  add_string (b, "governor", r->governor);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "software");
  json_builder_begin_object (b);
  add_string (b, "kestrel_version", r->kestrel_version);
  add_string (b, "git_commit", r->git_commit);
  add_string (b, "openblas_core", r->openblas_core);
  add_string (b, "onnxruntime_version", r->ort_version);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "model");
  json_builder_begin_object (b);
  add_string (b, "name", r->model_name);
  add_string (b, "sha256", r->model_sha256);
  add_int (b, "multiply_adds", (gint64) r->multiply_adds);
  add_int (b, "weight_bytes", (gint64) r->weight_bytes);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "settings");
  json_builder_begin_object (b);
  add_double (b, "time_per_cell_s", r->time_per_cell_s);
  add_int (b, "rounds", r->rounds);
  add_double (b, "target_ci", r->target_ci);
  add_int (b, "seed", r->seed);
  add_int (b, "photos", r->n_photos);
  json_builder_end_object (b);

  add_double (b, "wall_s", r->wall_s);
  add_string (b, "energy_note", r->energy_note);
  add_strings (b, "notes", r->notes);
  json_builder_set_member_name (b, "cells");
  json_builder_begin_array (b);
  for (guint i = 0; i < r->cells->len; i++)
    add_cell (b, r->cells->pdata[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

char *
kestrel_bench_result_to_data (const KestrelBenchResult *r, gsize *length)
{
  g_autoptr(JsonNode) root = kestrel_bench_result_to_json (r);
  g_autoptr(JsonGenerator) gen = json_generator_new ();

  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  return json_generator_to_data (gen, length);
}

/* ---- reading ----------------------------------------------------------------- */

typedef struct {
  const char *origin;
  GError **error;
  gboolean failed;
  int version;              /* the file's format version */
} Reader;

static JsonNode *
member (Reader *rd, JsonObject *o, const char *name, JsonNodeType type, gboolean nullable)
{
  JsonNode *n;

  if (rd->failed)
    return NULL;
  n = o != NULL ? json_object_get_member (o, name) : NULL;
  if (n != NULL && JSON_NODE_HOLDS_NULL (n) && nullable)
    return NULL;
  if (n == NULL || JSON_NODE_TYPE (n) != type)
    {
      g_set_error (rd->error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT,
                   "%s: member \"%s\" is missing or not %s", rd->origin, name,
                   type == JSON_NODE_ARRAY ? "an array" : type == JSON_NODE_OBJECT ? "an object" : "a value of its type");
      rd->failed = TRUE;
      return NULL;
    }
  return n;
}

static char *
get_string (Reader *rd, JsonObject *o, const char *name, gboolean nullable)
{
  JsonNode *n = member (rd, o, name, JSON_NODE_VALUE, nullable);

  if (n == NULL)
    return NULL;
  if (json_node_get_value_type (n) != G_TYPE_STRING)
    {
      g_set_error (rd->error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT, "%s: member \"%s\" is not a string",
                   rd->origin, name);
      rd->failed = TRUE;
      return NULL;
    }
  return g_strdup (json_node_get_string (n));
}

static double
get_double (Reader *rd, JsonObject *o, const char *name)
{
  JsonNode *n = member (rd, o, name, JSON_NODE_VALUE, TRUE);
  GType t;

  if (n == NULL)
    return NAN;
  t = json_node_get_value_type (n);
  if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64)
    {
      g_set_error (rd->error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT, "%s: member \"%s\" is not a number",
                   rd->origin, name);
      rd->failed = TRUE;
      return NAN;
    }
  return json_node_get_double (n);
}

static guint64
get_uint (Reader *rd, JsonObject *o, const char *name)
{
  JsonNode *n = member (rd, o, name, JSON_NODE_VALUE, FALSE);

  if (n == NULL)
    return 0;
  if (json_node_get_value_type (n) != G_TYPE_INT64 || json_node_get_int (n) < 0)
    {
      g_set_error (rd->error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT,
                   "%s: member \"%s\" is not a whole number of 0 or more", rd->origin, name);
      rd->failed = TRUE;
      return 0;
    }
  return (guint64) json_node_get_int (n);
}

static JsonObject *
get_object (Reader *rd, JsonObject *o, const char *name)
{
  JsonNode *n = member (rd, o, name, JSON_NODE_OBJECT, FALSE);
  return n != NULL ? json_node_get_object (n) : NULL;
}

static JsonArray *
get_array (Reader *rd, JsonObject *o, const char *name)
{
  JsonNode *n = member (rd, o, name, JSON_NODE_ARRAY, FALSE);
  return n != NULL ? json_node_get_array (n) : NULL;
}

static void
read_doubles (Reader *rd, JsonObject *o, const char *name, GArray *out)
{
  JsonArray *a = get_array (rd, o, name);

  for (guint i = 0; a != NULL && i < json_array_get_length (a); i++)
    {
      JsonNode *n = json_array_get_element (a, i);
      double v;
      if (!JSON_NODE_HOLDS_VALUE (n)
          || (json_node_get_value_type (n) != G_TYPE_DOUBLE && json_node_get_value_type (n) != G_TYPE_INT64))
        {
          g_set_error (rd->error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT, "%s: \"%s\" holds something not a number",
                       rd->origin, name);
          rd->failed = TRUE;
          return;
        }
      v = json_node_get_double (n);
      /* json-glib reads a number too large for a double as infinity,
       * which could not be written back as JSON */
      if (!isfinite (v))
        {
          g_set_error (rd->error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT,
                       "%s: \"%s\" holds a number out of range", rd->origin, name);
          rd->failed = TRUE;
          return;
        }
      g_array_append_val (out, v);
    }
}

static void
read_strings (Reader *rd, JsonObject *o, const char *name, GPtrArray *out)
{
  JsonArray *a = get_array (rd, o, name);

  for (guint i = 0; a != NULL && i < json_array_get_length (a); i++)
    {
      const char *s = json_node_get_string (json_array_get_element (a, i));
      if (s == NULL)
        {
          g_set_error (rd->error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT, "%s: \"%s\" holds something not a string",
                       rd->origin, name);
          rd->failed = TRUE;
          return;
        }
      g_ptr_array_add (out, g_strdup (s));
    }
}

static KestrelBenchCell *
read_cell (Reader *rd, JsonNode *node)
{
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  g_autofree char *engine = get_string (rd, o, "engine", FALSE);
  g_autofree char *precision = get_string (rd, o, "precision", FALSE);
  g_autofree char *level = get_string (rd, o, "level", FALSE);
  g_autoptr(GPtrArray) kinds = g_ptr_array_new_with_free_func (g_free);
  KestrelPrecision p;
  kk_level l;
  KestrelBenchCell *c;

  if (rd->failed)
    return NULL;
  if (!kestrel_precision_from_name (precision, &p) || !kk_level_from_name (level, &l))
    {
      g_set_error (rd->error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT, "%s: a cell has precision \"%s\" "
                   "and level \"%s\", not both known", rd->origin, precision, level);
      rd->failed = TRUE;
      return NULL;
    }
  c = kestrel_bench_cell_new (engine, p, l, get_uint (rd, o, "threads"), get_uint (rd, o, "batch"));
  c->build_ms = get_double (rd, o, "build_ms");
  c->first_run_ms = get_double (rd, o, "first_run_ms");
  c->median_ms = get_double (rd, o, "median_ms");
  c->p90_ms = get_double (rd, o, "p90_ms");
  c->p99_ms = get_double (rd, o, "p99_ms");
  c->mad_ms = get_double (rd, o, "mad_ms");
  c->ci_low_ms = get_double (rd, o, "ci_low_ms");
  c->ci_high_ms = get_double (rd, o, "ci_high_ms");
  c->frames_per_s = get_double (rd, o, "frames_per_s");
  c->cpu_ms_per_frame = get_double (rd, o, "cpu_ms_per_frame");
  c->arena_bytes = get_uint (rd, o, "arena_bytes");
  c->weight_bytes = get_uint (rd, o, "weight_bytes");
  c->energy_mj_per_frame = get_double (rd, o, "energy_mj_per_frame");
  c->sqnr_db = get_double (rd, o, "sqnr_db");
  if (o != NULL && json_object_get_boolean_member_with_default (o, "output_identical", FALSE))
    c->sqnr_db = INFINITY;
  /* Version 1 files have no faces; null means not measured. */
  if (o != NULL && json_object_has_member (o, "faces") && !json_object_get_null_member (o, "faces"))
    {
      JsonObject *faces = get_object (rd, o, "faces");
      guint64 fp32 = get_uint (rd, faces, "fp32");
      c->faces_matched = get_uint (rd, faces, "matched");
      c->faces_extra = get_uint (rd, faces, "extra");
      if (!rd->failed && (fp32 > G_MAXINT || c->faces_matched > fp32 || c->faces_extra > G_MAXINT))
        {
          g_set_error (rd->error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT,
                       "%s: a cell's \"faces\" has more matched than FP32 faces, or counts out of range",
                       rd->origin);
          rd->failed = TRUE;
        }
      else if (!rd->failed)
        c->faces_fp32 = (int) fp32;
    }
  c->other_cpu_percent = get_double (rd, o, "other_cpu_percent");
  c->freq_drift_percent = get_double (rd, o, "freq_drift_percent");
  c->throttle_events = get_uint (rd, o, "throttle_events");
  read_strings (rd, o, "note_kinds", kinds);
  for (guint i = 0; i < kinds->len; i++)
    for (guint k = 0; k < G_N_ELEMENTS (note_names); k++)
      if (strcmp (kinds->pdata[i], note_names[k]) == 0)
        c->note_flags |= 1u << k;
  read_strings (rd, o, "notes", c->notes);
  read_doubles (rd, o, "round_medians_ms", c->round_medians_ms);
  /* Version 3 added the reference loop before each visit. */
  if (rd->version >= 3)
    read_doubles (rd, o, "reference_ms", c->reference_ms);
  read_doubles (rd, o, "samples_ms", c->samples_ms);
  if (!rd->failed && c->samples_ms->len != get_uint (rd, o, "runs"))
    {
      g_set_error (rd->error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT,
                   "%s: a cell's \"runs\" is not the number of its samples", rd->origin);
      rd->failed = TRUE;
    }
  return c;
}

KestrelBenchResult *
kestrel_bench_result_from_json (JsonNode *root, const char *origin, GError **error)
{
  Reader rd = { origin, error, FALSE, 0 };
  /* A file of white space parses to no root at all (found by fuzzing). */
  JsonObject *o = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  g_autoptr(KestrelBenchResult) r = kestrel_bench_result_new ();
  g_autofree char *format = NULL;
  JsonObject *m, *s, *model, *settings;
  JsonArray *features, *cells;

  format = get_string (&rd, o, "format", FALSE);
  if (rd.failed || strcmp (format, KESTREL_BENCH_FORMAT) != 0)
    {
      g_clear_error (error);
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT, "%s is not a Kestrel benchmark result", origin);
      return NULL;
    }
  r->format_version = get_uint (&rd, o, "version");
  if (!rd.failed && (r->format_version < 1 || r->format_version > KESTREL_BENCH_FORMAT_VERSION))
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                   "%s is a benchmark result of format version %d; this Kestrel reads versions 1 to %d",
                   origin, r->format_version, KESTREL_BENCH_FORMAT_VERSION);
      return NULL;
    }
  rd.version = r->format_version;
  r->created = get_string (&rd, o, "created", FALSE);

  m = get_object (&rd, o, "machine");
  r->cpu_model = get_string (&rd, m, "cpu_model", FALSE);
  features = get_array (&rd, m, "cpu_features");
  if (features != NULL)
    {
      g_autoptr(GString) f = g_string_new (NULL);
      for (guint i = 0; i < json_array_get_length (features); i++)
        {
          const char *name = json_node_get_string (json_array_get_element (features, i));
          if (name != NULL)
            g_string_append_printf (f, "%s%s", f->len ? " " : "", name);
        }
      r->cpu_features = g_strdup (f->str);
    }
  r->isa = get_string (&rd, m, "isa", FALSE);
  r->cores = get_uint (&rd, m, "cores");
  r->memory_bytes = get_uint (&rd, m, "memory_bytes");
  r->kernel = get_string (&rd, m, "kernel", FALSE);
  r->governor = get_string (&rd, m, "governor", TRUE);

  s = get_object (&rd, o, "software");
  r->kestrel_version = get_string (&rd, s, "kestrel_version", FALSE);
  r->git_commit = get_string (&rd, s, "git_commit", FALSE);
  r->openblas_core = get_string (&rd, s, "openblas_core", TRUE);
  r->ort_version = get_string (&rd, s, "onnxruntime_version", TRUE);

  model = get_object (&rd, o, "model");
  r->model_name = get_string (&rd, model, "name", FALSE);
  r->model_sha256 = get_string (&rd, model, "sha256", TRUE);
  r->multiply_adds = get_uint (&rd, model, "multiply_adds");
  r->weight_bytes = get_uint (&rd, model, "weight_bytes");

  settings = get_object (&rd, o, "settings");
  r->time_per_cell_s = get_double (&rd, settings, "time_per_cell_s");
  r->rounds = get_uint (&rd, settings, "rounds");
  r->target_ci = get_double (&rd, settings, "target_ci");
  r->seed = get_uint (&rd, settings, "seed");
  r->n_photos = get_uint (&rd, settings, "photos");

  r->wall_s = get_double (&rd, o, "wall_s");
  r->energy_note = get_string (&rd, o, "energy_note", TRUE);
  read_strings (&rd, o, "notes", r->notes);
  cells = get_array (&rd, o, "cells");
  for (guint i = 0; cells != NULL && i < json_array_get_length (cells) && !rd.failed; i++)
    {
      KestrelBenchCell *c = read_cell (&rd, json_array_get_element (cells, i));
      if (c != NULL)
        g_ptr_array_add (r->cells, c);
    }
  return rd.failed ? NULL : g_steal_pointer (&r);
}

KestrelBenchResult *
kestrel_bench_result_load (const char *path, GError **error)
{
  g_autoptr(GBytes) bytes = kestrel_file_read (path, KESTREL_FILE_JSON, error);
  g_autoptr(JsonParser) parser = json_parser_new ();
  gsize size;
  const char *data;

  if (bytes == NULL)
    return NULL;
  data = g_bytes_get_data (bytes, &size);
  if (!json_parser_load_from_data (parser, data, size, error))
    {
      g_prefix_error (error, "%s: ", path);
      return NULL;
    }
  return kestrel_bench_result_from_json (json_parser_get_root (parser), path, error);
}

gboolean
kestrel_bench_result_save (const KestrelBenchResult *r, const char *path, GError **error)
{
  gsize length;
  g_autofree char *data = kestrel_bench_result_to_data (r, &length);

  /* g_file_set_contents writes a temporary file and renames it: on a full
   * disk the previous file stays as it was. Its message names only the
   * temporary file. */
  if (!g_file_set_contents (path, data, length, error))
    {
      g_prefix_error (error, "%s not saved (a previous one is left as it was): ", path);
      return FALSE;
    }
  return TRUE;
}

char *
kestrel_bench_dup_results_dir (GError **error)
{
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "kestrel", "benchmarks", NULL);

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "could not create %s: %s", dir,
                   g_strerror (saved));
      return NULL;
    }
  return g_steal_pointer (&dir);
}

char *
kestrel_bench_result_save_default (const KestrelBenchResult *r, GError **error)
{
  g_autofree char *dir = kestrel_bench_dup_results_dir (error);
  g_autofree char *stem = NULL;
  g_autofree char *base = NULL;
  g_autofree char *path = NULL;

  if (dir == NULL)
    return NULL;
  /* The model's last path part, and only characters every file system
   * takes. */
  base = g_path_get_basename (r->model_name != NULL ? r->model_name : "model");
  stem = g_strdup_printf ("%s-%s", r->created != NULL ? r->created : "run", base);
  g_strcanon (stem, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", '-');
  path = g_strdup_printf ("%s/%s.json", dir, stem);
  if (!kestrel_bench_result_save (r, path, error))
    return NULL;
  return g_steal_pointer (&path);
}

static int
compare_newest_first (gconstpointer a, gconstpointer b)
{
  return -strcmp (*(char *const *) a, *(char *const *) b);
}

GPtrArray *
kestrel_bench_list_saved (void)
{
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "kestrel", "benchmarks", NULL);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".json"))
      g_ptr_array_add (paths, g_build_filename (dir, name, NULL));
  /* Names start with the ISO 8601 time, so by name is by age. */
  g_ptr_array_sort (paths, compare_newest_first);
  return paths;
}

/* ---- CSV ---------------------------------------------------------------------- */

static void
csv_field (GString *out, const char *text)
{
  if (strpbrk (text, ",\"\n") == NULL)
    {
      g_string_append (out, text);
      return;
    }
  g_string_append_c (out, '"');
  for (const char *p = text; *p; p++)
    {
      if (*p == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

static void
csv_number (GString *out, double value)
{
  if (isfinite (value))
    g_string_append_printf (out, "%.6g", value);
}

static char *
join_notes (const KestrelBenchCell *c)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < c->notes->len; i++)
    g_string_append_printf (s, "%s%s", i ? " " : "", (const char *) c->notes->pdata[i]);
  return g_string_free (s, FALSE);
}

char *
kestrel_bench_result_to_csv (const KestrelBenchResult *r)
{
  GString *out = g_string_new ("engine,precision,level,threads,batch,runs,median_ms,p90_ms,p99_ms,mad_ms,"
                               "ci_low_ms,ci_high_ms,frames_per_s,cpu_ms_per_frame,build_ms,first_run_ms,"
                               "arena_bytes,weight_bytes,energy_mj_per_frame,sqnr_db,faces_fp32,faces_matched,"
                               "faces_extra,faces_agreeing,other_cpu_percent,notes\r\n");

  for (guint i = 0; i < r->cells->len; i++)
    {
      const KestrelBenchCell *c = r->cells->pdata[i];
      const double numbers[] = { c->median_ms, c->p90_ms, c->p99_ms, c->mad_ms, c->ci_low_ms, c->ci_high_ms,
                                 c->frames_per_s, c->cpu_ms_per_frame, c->build_ms, c->first_run_ms };
      g_autofree char *notes = NULL;

      csv_field (out, c->engine);
      g_string_append_printf (out, ",%s,%s,%u,%u,%u", kestrel_precision_name (c->precision),
                              kk_level_name (c->level), c->threads, c->batch, c->samples_ms->len);
      for (guint k = 0; k < G_N_ELEMENTS (numbers); k++)
        {
          g_string_append_c (out, ',');
          csv_number (out, numbers[k]);
        }
      g_string_append_printf (out, ",%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",", c->arena_bytes, c->weight_bytes);
      csv_number (out, c->energy_mj_per_frame);
      g_string_append_c (out, ',');
      if (isinf (c->sqnr_db))
        g_string_append (out, "inf");
      else
        csv_number (out, c->sqnr_db);
      if (c->faces_fp32 >= 0)
        g_string_append_printf (out, ",%d,%u,%u,", c->faces_fp32, c->faces_matched, c->faces_extra);
      else
        g_string_append (out, ",,,,");
      csv_number (out, kestrel_bench_cell_get_faces_agreeing (c));
      g_string_append_c (out, ',');
      csv_number (out, c->other_cpu_percent);
      g_string_append_c (out, ',');
      csv_field (out, notes = join_notes (c));
      g_string_append (out, "\r\n");
    }
  return g_string_free (out, FALSE);
}
