/* kestrel-mixed-int4.c — the layers INT4 plans keep INT8 (see the header).
 *
 * Built on plans alone (kestrel_plan_new / run): the frames are filled
 * once into an FP32 plan and their input tensors kept, and every mix tried
 * is an INT4 plan at level full whose inputs are copied from them. */
#include "config.h"

#include "kestrel-mixed-int4.h"

#include <math.h>
#include <string.h>

typedef struct {
  KestrelModel *model;
  KestrelQuantTable *table;
  guint n_frames, n_inputs, n_outputs;
  GPtrArray *inputs;        /* per frame x input: a copy of the tensor's bytes */
  GPtrArray *outputs;       /* per frame x output: the FP32 plan's (float) */
  GPtrArray *views;         /* per frame x output: views of those copies */
  double goal_db;
  KestrelMixedAgreeFunc agree;
  gpointer agree_data;
  GCancellable *cancellable;
  KestrelCalibrationProgressFunc progress;
  gpointer progress_data;
  guint done, total;        /* plans tried, and at most how many */
} Int4Search;

static gsize
view_bytes (const KestrelTensorView *v)
{
  return v->n_elements * kestrel_dtype_get_size (v->dtype);
}

static KestrelPlan *
int4_plan (Int4Search *s, const char *const *int8_layers, gboolean exact, GError **error)
{
  KestrelPlanOptions options;

  kestrel_plan_options_init (&options);
  options.precision = KESTREL_PRECISION_INT4;
  options.level = KK_LEVEL_FULL;
  options.quant_table = s->table;
  options.int8_layers = int8_layers;
  options.float_steps_at_level = !exact;
  return kestrel_plan_new (s->model, &options, error);
}

static gboolean
run_reference (Int4Search *s, KestrelCalibrationInputFunc fill_input, gpointer user_data, GError **error)
{
  KestrelPlanOptions options;
  g_autoptr(KestrelPlan) plan = NULL;

  kestrel_plan_options_init (&options);
  plan = kestrel_plan_new (s->model, &options, error);
  if (plan == NULL)
    return FALSE;
  s->n_inputs = kestrel_plan_get_n_inputs (plan);
  s->n_outputs = kestrel_plan_get_n_outputs (plan);
  for (guint f = 0; f < s->n_frames; f++)
    {
      if (!fill_input (plan, f, user_data, error))
        return FALSE;
      for (guint i = 0; i < s->n_inputs; i++)
        {
          const KestrelTensorView *in = kestrel_plan_get_input (plan, i);
          g_ptr_array_add (s->inputs, g_memdup2 (in->data, view_bytes (in)));
        }
      kestrel_plan_run (plan);
      for (guint o = 0; o < s->n_outputs; o++)
        {
          const KestrelTensorView *out = kestrel_plan_get_output (plan, o);
          KestrelTensorView *view = g_new (KestrelTensorView, 1);
          *view = *out;
          view->data = g_memdup2 (out->data, view_bytes (out));
          g_ptr_array_add (s->outputs, view->data);
          g_ptr_array_add (s->views, view);
        }
    }
  return TRUE;
}

/* Runs the mix over the frames: the worst output SQNR, and whether the
 * goal (and the caller's check) holds on every frame. */
static gboolean
evaluate (Int4Search *s, const char *const *int8_layers, gboolean exact, double *worst_db, gboolean *meets,
          GError **error)
{
  g_autoptr(KestrelPlan) plan = NULL;
  g_autofree const KestrelTensorView **got = g_new (const KestrelTensorView *, MAX (s->n_outputs, 1));

  if (g_cancellable_set_error_if_cancelled (s->cancellable, error))
    return FALSE;
  if (s->progress != NULL)
    s->progress (MIN (s->done, s->total), s->total, s->progress_data);
  s->done++;
  plan = int4_plan (s, int8_layers, exact, error);
  if (plan == NULL)
    return FALSE;
  *worst_db = INFINITY;
  *meets = TRUE;
  for (guint f = 0; f < s->n_frames; f++)
    {
      for (guint i = 0; i < s->n_inputs; i++)
        {
          const KestrelTensorView *in = kestrel_plan_get_input (plan, i);
          memcpy (in->data, g_ptr_array_index (s->inputs, f * s->n_inputs + i), view_bytes (in));
        }
      kestrel_plan_run (plan);
      for (guint o = 0; o < s->n_outputs; o++)
        {
          const KestrelTensorView *ref = g_ptr_array_index (s->views, f * s->n_outputs + o);
          const KestrelTensorView *out = kestrel_plan_get_output (plan, o);
          double signal = 0, noise = 0;
          got[o] = out;
          if (ref->dtype != KESTREL_DTYPE_FLOAT32 || out->dtype != KESTREL_DTYPE_FLOAT32)
            continue;
          for (gsize e = 0; e < ref->n_elements; e++)
            {
              double a = ((const float *) ref->data)[e], d = a - (double) ((const float *) out->data)[e];
              signal += a * a;
              noise += d * d;
            }
          *worst_db = MIN (*worst_db, 10.0 * log10 (MAX (signal, 1e-30) / MAX (noise, 1e-30)));
        }
      if (s->agree != NULL
          && !s->agree (f, (const KestrelTensorView *const *) s->views->pdata + f * s->n_outputs, got,
                        s->n_outputs, s->agree_data))
        *meets = FALSE;
    }
  *meets = *meets && *worst_db >= s->goal_db;
  return TRUE;
}

typedef struct {
  const char *name;
  double db;                /* worst output SQNR with only this one INT4 */
} Candidate;

static int
by_db (gconstpointer a, gconstpointer b)
{
  double x = ((const Candidate *) a)->db, y = ((const Candidate *) b)->db;
  return x < y ? -1 : x > y;
}

/* The names of candidates whose keep[] is set (NULL-terminated; the names
 * are the candidates'). */
static const char **
kept_names (const Candidate *c, const gboolean *keep, guint n)
{
  const char **names = g_new0 (const char *, n + 1);
  guint k = 0;

  for (guint i = 0; i < n; i++)
    if (keep[i])
      names[k++] = c[i].name;
  return names;
}

gboolean
kestrel_mixed_int4_search (KestrelModel *model, KestrelQuantTable *table, guint n_frames,
                           KestrelCalibrationInputFunc fill_input, gpointer user_data, double goal_db,
                           KestrelMixedAgreeFunc agree, gpointer agree_data,
                           KestrelCalibrationProgressFunc progress, gpointer progress_data,
                           GCancellable *cancellable, GError **error)
{
  Int4Search s = { model, table, n_frames, 0, 0, g_ptr_array_new_with_free_func (g_free),
                   g_ptr_array_new_with_free_func (g_free), g_ptr_array_new_with_free_func (g_free),
                   goal_db, agree, agree_data, cancellable, progress, progress_data, 0, 0 };
  g_autoptr(GArray) candidates = g_array_new (FALSE, FALSE, sizeof (Candidate));
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree gboolean *keep = NULL;
  g_autofree const char **kept = NULL;
  gboolean ok = FALSE, meets;
  double db;
  guint n;

  /* The candidates: what the INT4 plan without INT8 layers makes INT4. */
  kestrel_quant_table_set_int8_layers (table, NULL);
  {
    g_autoptr(KestrelPlan) all = int4_plan (&s, NULL, TRUE, error);
    if (all == NULL)
      goto out;
    for (guint st = 0; st < kestrel_plan_get_n_steps (all); st++)
      if (kestrel_plan_get_step_precision (all, st) == KESTREL_PRECISION_INT4)
        g_ptr_array_add (names, g_strdup (kestrel_plan_get_step (all, st)->node->name));
  }
  n = names->len;
  for (guint i = 0; i < n; i++)
    {
      Candidate c = { g_ptr_array_index (names, i), 0 };
      g_array_append_val (candidates, c);
    }
  keep = g_new0 (gboolean, MAX (n, 1));
  /* All INT4, n sensitivities, up to n prefixes, n prunes, the exact plan. */
  s.total = 3 * n + 2;
  if (!run_reference (&s, fill_input, user_data, error) || !evaluate (&s, NULL, FALSE, &db, &meets, error))
    goto out;
  g_debug ("INT4 search: %u candidates, all INT4 %.1f dB (%s)", n, db, meets ? "meets the goal" : "misses");

  if (!meets && n > 0)
    {
      Candidate *c = (Candidate *) (void *) candidates->data;
      /* 2. Sensitivities: only candidate i INT4. */
      for (guint i = 0; i < n; i++)
        {
          for (guint j = 0; j < n; j++)
            keep[j] = j != i;
          g_free (kept);
          kept = kept_names (c, keep, n);
          if (!evaluate (&s, kept, FALSE, &c[i].db, &meets, error))
            goto out;
        }
      g_array_sort (candidates, by_db);
      /* The shortest prefix, most sensitive first, kept INT8. */
      guint p;
      for (p = 1; p <= n; p++)
        {
          for (guint j = 0; j < n; j++)
            keep[j] = j < p;
          g_free (kept);
          kept = kept_names (c, keep, n);
          if (!evaluate (&s, kept, FALSE, &db, &meets, error))
            goto out;
          if (meets)
            break;
        }
      /* Back to INT4, least sensitive first, while the goal holds. */
      for (guint i = MIN (p, n); i-- > 0;)
        {
          if (p > n)
            break;
          keep[i] = FALSE;
          g_free (kept);
          kept = kept_names (c, keep, n);
          if (!evaluate (&s, kept, FALSE, &db, &meets, error))
            goto out;
          if (!meets)
            keep[i] = TRUE;
        }
    }

  /* 3. As the engine builds it. */
  for (;;)
    {
      Candidate *c = (Candidate *) (void *) candidates->data;
      guint next = n;
      g_free (kept);
      kept = kept_names (c, keep, n);
      if (!evaluate (&s, kept, TRUE, &db, &meets, error))
        goto out;
      for (guint i = 0; i < n && next == n; i++)
        if (!keep[i])
          next = i;
      if (meets || next == n)
        break;
      keep[next] = TRUE;
    }
  g_debug ("INT4 search: %u of %u kept INT8, %.1f dB", g_strv_length ((char **) kept), n, db);
  kestrel_quant_table_set_int8_layers (table, kept);
  if (progress != NULL)
    progress (s.total, s.total, progress_data);
  ok = TRUE;

out:
  g_ptr_array_unref (s.inputs);
  g_ptr_array_unref (s.outputs);
  g_ptr_array_unref (s.views);
  return ok;
}
