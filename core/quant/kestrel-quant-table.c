/* kestrel-quant-table.c — calibration tables (see kestrel-quant-table.h). */
#include "config.h"

#include "kestrel-quant-table.h"

#include <math.h>
#include <string.h>

typedef struct {
  char *name;
  KestrelQuantParams params;
} Entry;

struct _KestrelQuantTable {
  gatomicrefcount ref_count;
  char *model_hash;
  char *method;
  guint n_frames;
  GArray *entries;          /* Entry, in the order first set */
  GHashTable *index;        /* name (the entry's) -> GUINT_TO_POINTER (i + 1) */
  /* Mixed precision (see the header). */
  GPtrArray *fp32_layers;   /* char *, NULL-terminated */
  GPtrArray *int8_layers;   /* INT4 plans' layers kept INT8, the same way */
  gboolean int4_searched;   /* int8_layers was set (by the INT4 search) */
  gboolean has_mixed;
  KestrelMixedSummary mixed;
  GArray *sensitivities;    /* Measure: a = sqnr_db */
  GArray *tensor_errors;    /* Measure: a = mse, b = sqnr_db */
};

/* A named measurement (sensitivity or error), kept in the order set. */
typedef struct {
  char *name;
  double a, b;
} Measure;

void
kestrel_quant_params_from_range (float min, float max, KestrelQuantParams *out)
{
  float lo, hi, zp;

  g_return_if_fail (out != NULL);
  g_return_if_fail (isfinite (min) && isfinite (max) && min <= max);

  out->min = min;
  out->max = max;
  lo = MIN (min, 0.0f);
  hi = MAX (max, 0.0f);
  if (!(hi - lo > 0.0f))
    {
      /* Always 0: any scale represents it; 1 keeps every multiplier that
       * reads this tensor ordinary. */
      out->scale = 1.0f;
      out->zero_point = 0;
      return;
    }
  out->scale = (hi - lo) / 255.0f;
  /* -lo / scale is in [0, 255] up to rounding; the clamp only guards that. */
  zp = floorf (-lo / out->scale + 0.5f);
  out->zero_point = (guint8) CLAMP (zp, 0.0f, 255.0f);
}

KestrelQuantTable *
kestrel_quant_table_new (const char *model_hash, const char *method, guint n_frames)
{
  KestrelQuantTable *table = g_new0 (KestrelQuantTable, 1);

  g_atomic_ref_count_init (&table->ref_count);
  table->model_hash = g_strdup (model_hash != NULL ? model_hash : "");
  table->method = g_strdup (method != NULL ? method : "");
  table->n_frames = n_frames;
  table->entries = g_array_new (FALSE, TRUE, sizeof (Entry));
  table->index = g_hash_table_new (g_str_hash, g_str_equal);
  table->fp32_layers = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (table->fp32_layers, NULL);
  table->int8_layers = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (table->int8_layers, NULL);
  table->sensitivities = g_array_new (FALSE, TRUE, sizeof (Measure));
  table->tensor_errors = g_array_new (FALSE, TRUE, sizeof (Measure));
  return table;
}

KestrelQuantTable *
kestrel_quant_table_ref (KestrelQuantTable *table)
{
  g_return_val_if_fail (table != NULL, NULL);
  g_atomic_ref_count_inc (&table->ref_count);
  return table;
}

void
kestrel_quant_table_unref (KestrelQuantTable *table)
{
  if (table == NULL || !g_atomic_ref_count_dec (&table->ref_count))
    return;
  for (guint i = 0; i < table->entries->len; i++)
    g_free (g_array_index (table->entries, Entry, i).name);
  g_array_unref (table->entries);
  g_hash_table_unref (table->index);
  g_ptr_array_unref (table->fp32_layers);
  g_ptr_array_unref (table->int8_layers);
  for (guint i = 0; i < table->sensitivities->len; i++)
    g_free (g_array_index (table->sensitivities, Measure, i).name);
  for (guint i = 0; i < table->tensor_errors->len; i++)
    g_free (g_array_index (table->tensor_errors, Measure, i).name);
  g_array_unref (table->sensitivities);
  g_array_unref (table->tensor_errors);
  g_free (table->model_hash);
  g_free (table->method);
  g_free (table);
}

const char *
kestrel_quant_table_get_model_hash (const KestrelQuantTable *table)
{
  return table->model_hash;
}

const char *
kestrel_quant_table_get_method (const KestrelQuantTable *table)
{
  return table->method;
}

guint
kestrel_quant_table_get_n_frames (const KestrelQuantTable *table)
{
  return table->n_frames;
}

static Entry *
entry_for (KestrelQuantTable *table, const char *name)
{
  guint i = GPOINTER_TO_UINT (g_hash_table_lookup (table->index, name));
  Entry entry = { 0 };

  if (i > 0)
    return &g_array_index (table->entries, Entry, i - 1);
  entry.name = g_strdup (name);
  g_array_append_val (table->entries, entry);
  /* The array may have moved, but the names it points to have not. */
  g_hash_table_insert (table->index, entry.name, GUINT_TO_POINTER (table->entries->len));
  return &g_array_index (table->entries, Entry, table->entries->len - 1);
}

void
kestrel_quant_table_set_range (KestrelQuantTable *table, const char *name, float min, float max)
{
  KestrelQuantParams params;

  g_return_if_fail (table != NULL && name != NULL);
  g_return_if_fail (isfinite (min) && isfinite (max) && min <= max);
  kestrel_quant_params_from_range (min, max, &params);
  entry_for (table, name)->params = params;
}

gboolean
kestrel_quant_table_set_params (KestrelQuantTable *table, const char *name, const KestrelQuantParams *params)
{
  g_return_val_if_fail (table != NULL && name != NULL && params != NULL, FALSE);
  if (!isfinite (params->scale) || !(params->scale > 0.0f))
    return FALSE;
  entry_for (table, name)->params = *params;
  return TRUE;
}

gboolean
kestrel_quant_table_lookup (const KestrelQuantTable *table, const char *name, KestrelQuantParams *out)
{
  guint i;

  g_return_val_if_fail (table != NULL && name != NULL, FALSE);
  i = GPOINTER_TO_UINT (g_hash_table_lookup (table->index, name));
  if (i == 0)
    return FALSE;
  if (out != NULL)
    *out = g_array_index (table->entries, Entry, i - 1).params;
  return TRUE;
}

guint
kestrel_quant_table_get_n_entries (const KestrelQuantTable *table)
{
  return table->entries->len;
}

const char *
kestrel_quant_table_get_entry (const KestrelQuantTable *table, guint i, KestrelQuantParams *out)
{
  const Entry *entry;

  if (i >= table->entries->len)
    return NULL;
  entry = &g_array_index (table->entries, Entry, i);
  if (out != NULL)
    *out = entry->params;
  return entry->name;
}

/* ---- mixed precision ------------------------------------------------------ */

void
kestrel_quant_table_set_fp32_layers (KestrelQuantTable *table, const char *const *layers)
{
  g_return_if_fail (table != NULL);
  g_ptr_array_set_size (table->fp32_layers, 0);
  for (guint i = 0; layers != NULL && layers[i] != NULL; i++)
    g_ptr_array_add (table->fp32_layers, g_strdup (layers[i]));
  g_ptr_array_add (table->fp32_layers, NULL);
}

const char *const *
kestrel_quant_table_get_fp32_layers (const KestrelQuantTable *table)
{
  return (const char *const *) table->fp32_layers->pdata;
}

void
kestrel_quant_table_set_mixed (KestrelQuantTable *table, const KestrelMixedSummary *summary)
{
  g_return_if_fail (table != NULL && summary != NULL);
  table->mixed = *summary;
  table->has_mixed = TRUE;
}

gboolean
kestrel_quant_table_has_mixed (const KestrelQuantTable *table)
{
  return table->has_mixed;
}

gboolean
kestrel_quant_table_get_mixed (const KestrelQuantTable *table, KestrelMixedSummary *out)
{
  if (!table->has_mixed)
    return FALSE;
  if (out != NULL)
    *out = table->mixed;
  return TRUE;
}

/* The measure named `name` (linear: a model has at most a few hundred). */
static Measure *
measure_find (GArray *measures, const char *name)
{
  for (guint i = 0; i < measures->len; i++)
    if (strcmp (g_array_index (measures, Measure, i).name, name) == 0)
      return &g_array_index (measures, Measure, i);
  return NULL;
}

static void
measure_set (GArray *measures, const char *name, double a, double b)
{
  Measure *m = measure_find (measures, name);
  Measure fresh = { 0 };

  if (m == NULL)
    {
      fresh.name = g_strdup (name);
      g_array_append_val (measures, fresh);
      m = &g_array_index (measures, Measure, measures->len - 1);
    }
  m->a = a;
  m->b = b;
}

void
kestrel_quant_table_set_sensitivity (KestrelQuantTable *table, const char *layer, double sqnr_db)
{
  g_return_if_fail (table != NULL && layer != NULL);
  measure_set (table->sensitivities, layer, sqnr_db, 0.0);
}

gboolean
kestrel_quant_table_lookup_sensitivity (const KestrelQuantTable *table, const char *layer, double *sqnr_db)
{
  const Measure *m = measure_find (table->sensitivities, layer);

  if (m != NULL && sqnr_db != NULL)
    *sqnr_db = m->a;
  return m != NULL;
}

guint
kestrel_quant_table_get_n_sensitivities (const KestrelQuantTable *table)
{
  return table->sensitivities->len;
}

const char *
kestrel_quant_table_get_sensitivity (const KestrelQuantTable *table, guint i, double *sqnr_db)
{
  const Measure *m;

  if (i >= table->sensitivities->len)
    return NULL;
  m = &g_array_index (table->sensitivities, Measure, i);
  if (sqnr_db != NULL)
    *sqnr_db = m->a;
  return m->name;
}

void
kestrel_quant_table_set_tensor_error (KestrelQuantTable *table, const char *name, double mse, double sqnr_db)
{
  g_return_if_fail (table != NULL && name != NULL);
  measure_set (table->tensor_errors, name, mse, sqnr_db);
}

gboolean
kestrel_quant_table_lookup_tensor_error (const KestrelQuantTable *table, const char *name, double *mse,
                                         double *sqnr_db)
{
  const Measure *m = measure_find (table->tensor_errors, name);

  if (m == NULL)
    return FALSE;
  if (mse != NULL)
    *mse = m->a;
  if (sqnr_db != NULL)
    *sqnr_db = m->b;
  return TRUE;
}

guint
kestrel_quant_table_get_n_tensor_errors (const KestrelQuantTable *table)
{
  return table->tensor_errors->len;
}

const char *
kestrel_quant_table_get_tensor_error (const KestrelQuantTable *table, guint i, double *mse, double *sqnr_db)
{
  const Measure *m;

  if (i >= table->tensor_errors->len)
    return NULL;
  m = &g_array_index (table->tensor_errors, Measure, i);
  if (mse != NULL)
    *mse = m->a;
  if (sqnr_db != NULL)
    *sqnr_db = m->b;
  return m->name;
}

void
kestrel_quant_table_set_int8_layers (KestrelQuantTable *table, const char *const *layers)
{
  g_return_if_fail (table != NULL);
  g_ptr_array_set_size (table->int8_layers, 0);
  for (guint i = 0; layers != NULL && layers[i] != NULL; i++)
    g_ptr_array_add (table->int8_layers, g_strdup (layers[i]));
  g_ptr_array_add (table->int8_layers, NULL);
  table->int4_searched = TRUE;
}

gboolean
kestrel_quant_table_get_int4_searched (const KestrelQuantTable *table)
{
  g_return_val_if_fail (table != NULL, FALSE);
  return table->int4_searched;
}

const char *const *
kestrel_quant_table_get_int8_layers (const KestrelQuantTable *table)
{
  g_return_val_if_fail (table != NULL, NULL);
  return (const char *const *) table->int8_layers->pdata;
}
