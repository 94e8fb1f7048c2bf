/* kestrel-quant-table.c — calibration tables (see kestrel-quant-table.h). */
#include "config.h"

#include "kestrel-quant-table.h"

#include <math.h>

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
};

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
