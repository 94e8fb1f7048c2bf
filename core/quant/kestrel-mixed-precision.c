/* kestrel-mixed-precision.c — the sensitivity search (see
 * kestrel-mixed-precision.h). */
#include "config.h"

#include "kestrel-mixed-precision.h"

#include <math.h>
#include <string.h>

#include "kestrel-error.h"

typedef struct {
  double signal, noise;
  guint64 n;
} Power;

static double
power_db (const Power *p)
{
  if (p->noise <= 0.0)
    return INFINITY;
  return 10.0 * log10 (MAX (p->signal, 1e-300) / p->noise);
}

static void
power_add (Power *p, double ref, double got)
{
  p->signal += ref * ref;
  p->noise += (ref - got) * (ref - got);
  p->n++;
}

typedef struct {
  KestrelModel *model;
  KestrelQuantTable *table;
  guint n_frames;
  KestrelThreadPool *pool;
  guint n_inputs, n_outputs;
  GPtrArray *inputs;          /* frame * n_inputs + i -> GBytes of the input's data */
  GPtrArray *ref_outputs;     /* frame * n_outputs + o -> GBytes of FP32 floats, or NULL (not float) */
  KestrelTensorView *ref_views; /* frame * n_outputs + o: the FP32 outputs (data in ref_outputs) */
  KestrelMixedAgreeFunc agree;
  gpointer agree_data;
  double goal_db;
  GPtrArray *candidates;      /* char *, node names, in plan order */
  double *sensitivity;        /* per candidate */
  guint *frame_order;         /* the frames, the one that failed last first */
  KestrelCalibrationProgressFunc progress;
  gpointer progress_data;
  guint done, total;
  GCancellable *cancellable;
  /* The plan with every candidate FP32 (the sensitivities' common prefix):
   * its steps, and per frame every step output it computed. */
  KestrelPlan *prefix;
  guint *prefix_first_out;    /* step -> index of its first output in a frame's list */
  guint prefix_n_outs;        /* outputs per frame */
  GPtrArray *prefix_outputs;  /* frame * prefix_n_outs + k -> GBytes, or NULL */
} Search;

static void
search_clear (Search *s)
{
  g_clear_pointer (&s->prefix, kestrel_plan_unref);
  g_clear_pointer (&s->prefix_outputs, g_ptr_array_unref);
  g_clear_pointer (&s->prefix_first_out, g_free);
  g_clear_pointer (&s->inputs, g_ptr_array_unref);
  g_clear_pointer (&s->ref_outputs, g_ptr_array_unref);
  g_clear_pointer (&s->candidates, g_ptr_array_unref);
  g_clear_pointer (&s->pool, kestrel_thread_pool_unref);
  g_free (s->sensitivity);
  g_free (s->frame_order);
  g_free (s->ref_views);
}

static gsize
view_bytes (const KestrelTensorView *view)
{
  return view->n_elements * kestrel_dtype_get_size (view->dtype);
}

/* Frame `frame`'s inputs, as the fill callback made them, into `plan`. */
static void
feed (Search *s, KestrelPlan *plan, guint frame)
{
  for (guint i = 0; i < s->n_inputs; i++)
    {
      GBytes *bytes = g_ptr_array_index (s->inputs, frame * s->n_inputs + i);
      const KestrelTensorView *view = kestrel_plan_get_input (plan, i);
      memcpy (view->data, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
    }
}

/* `exact`: the INT8 plan as kestrel_plan_new() builds it for the engine
 * (float layers on the reference kernels); else the float layers run as
 * fast as they can, a rounding away. */
static KestrelPlan *
new_plan_as (Search *s, KestrelPrecision precision, kk_level level, const char *const *fp32, gboolean exact,
             GError **error)
{
  KestrelPlanOptions options;

  kestrel_plan_options_init (&options);
  options.level = level;
  options.pool = s->pool;
  options.precision = precision;
  if (precision == KESTREL_PRECISION_INT8)
    {
      options.quant_table = s->table;
      options.fp32_layers = fp32;
      /* Error against FP32 is what counts while searching, not the same
       * bits at every level. */
      options.float_steps_at_level = !exact;
    }
  return kestrel_plan_new (s->model, &options, error);
}

static KestrelPlan *
new_plan (Search *s, KestrelPrecision precision, kk_level level, const char *const *fp32, GError **error)
{
  return new_plan_as (s, precision, level, fp32, FALSE, error);
}

/* One more plan tried. */
static gboolean
step_progress (Search *s, GError **error)
{
  if (g_cancellable_set_error_if_cancelled (s->cancellable, error))
    return FALSE;
  if (s->progress != NULL)
    s->progress (MIN (s->done, s->total), s->total, s->progress_data);
  s->done++;
  return TRUE;
}

/* The FP32 plan over every frame: the inputs kept, the outputs kept. */
static gboolean
run_reference (Search *s, KestrelCalibrationInputFunc fill_input, gpointer user_data, GError **error)
{
  g_autoptr(KestrelPlan) plan = new_plan (s, KESTREL_PRECISION_FP32, KK_LEVEL_FULL, NULL, error);

  if (plan == NULL)
    return FALSE;
  s->n_inputs = kestrel_plan_get_n_inputs (plan);
  s->n_outputs = kestrel_plan_get_n_outputs (plan);
  s->inputs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  s->ref_outputs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  s->ref_views = g_new0 (KestrelTensorView, s->n_frames * s->n_outputs);
  for (guint frame = 0; frame < s->n_frames; frame++)
    {
      if (g_cancellable_set_error_if_cancelled (s->cancellable, error) || !fill_input (plan, frame, user_data, error))
        return FALSE;
      for (guint i = 0; i < s->n_inputs; i++)
        {
          const KestrelTensorView *view = kestrel_plan_get_input (plan, i);
          g_ptr_array_add (s->inputs, g_bytes_new (view->data, view_bytes (view)));
        }
      kestrel_plan_run (plan);
      for (guint o = 0; o < s->n_outputs; o++)
        {
          const KestrelTensorView *view = kestrel_plan_get_output (plan, o);
          KestrelTensorView *kept = &s->ref_views[frame * s->n_outputs + o];
          GBytes *bytes = g_bytes_new (view->data, view_bytes (view));
          *kept = *view;
          kept->data = (gpointer) g_bytes_get_data (bytes, NULL);
          g_ptr_array_add (s->ref_outputs, bytes);
        }
    }
  return TRUE;
}

/* Sensitivities share their start: with only candidate L INT8, every step
 * before the first one the INT8 pass changed for L computes what the plan
 * with every candidate FP32 computes, from the same inputs, on the same
 * kernels. So that plan runs once per frame, keeping every step's outputs,
 * and each sensitivity plan starts where it differs, its earlier values
 * copied in (kestrel_plan_run_from). For the back BlazeFace model this
 * skips about half of the work of the sensitivities. */
typedef struct {
  Search *s;
  guint frame;
  const gboolean *keep;       /* per output of a frame: kept */
} PrefixKeep;

/* Which step outputs of the prefix plan a sensitivity plan can need: those
 * read across the place of some candidate (a value produced before it and
 * read at or after it, or a graph output). Keeping every output would be
 * tens of MB per frame for the back BlazeFace model. */
static gboolean *
prefix_keep (Search *s)
{
  const KestrelGraph *graph = kestrel_plan_get_graph (s->prefix);
  guint n_steps = kestrel_plan_get_n_steps (s->prefix);
  g_autofree gint *producer = g_new0 (gint, graph->values->len);   /* value -> output index + 1 */
  g_autofree guint *last = g_new0 (guint, s->prefix_n_outs + 1);   /* output -> last step reading it */
  g_autofree guint *next_cut = g_new (guint, n_steps + 1);         /* step -> first candidate at or after it */
  g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);
  gboolean *keep = g_new0 (gboolean, s->prefix_n_outs + 1);

  for (guint i = 0; i < s->candidates->len; i++)
    g_hash_table_add (names, g_ptr_array_index (s->candidates, i));
  next_cut[n_steps] = G_MAXUINT;
  for (guint st = n_steps; st-- > 0;)
    next_cut[st] = g_hash_table_contains (names, kestrel_plan_get_step (s->prefix, st)->node->name)
                   ? st : next_cut[st + 1];
  for (guint st = 0; st < n_steps; st++)
    {
      const KestrelNode *node = kestrel_plan_get_step (s->prefix, st)->node;
      for (guint i = 0; i < kestrel_node_n_inputs (node); i++)
        {
          gint v = kestrel_node_input (node, i);
          if (v >= 0 && producer[v] > 0)
            last[producer[v] - 1] = st;
        }
      for (guint o = 0; o < kestrel_node_n_outputs (node); o++)
        if (kestrel_node_output (node, o) >= 0)
          producer[kestrel_node_output (node, o)] = (gint) (s->prefix_first_out[st] + o) + 1;
    }
  for (guint i = 0; i < graph->outputs->len; i++)
    {
      gint v = g_array_index (graph->outputs, gint, i);
      if (v >= 0 && producer[v] > 0)
        last[producer[v] - 1] = n_steps;
    }
  for (guint st = 0; st < n_steps; st++)
    for (guint o = 0; o < kestrel_plan_get_step (s->prefix, st)->n_outputs; o++)
      {
        guint k = s->prefix_first_out[st] + o;
        keep[k] = next_cut[st + 1] <= last[k];
      }
  return keep;
}

static void
keep_prefix_step (const KestrelPlan *plan, guint st, gpointer data)
{
  PrefixKeep *k = data;
  const KestrelStep *step = kestrel_plan_get_step (plan, st);

  for (guint o = 0; o < step->n_outputs; o++)
    if (step->outputs[o].data != NULL && k->keep[k->s->prefix_first_out[st] + o])
      g_ptr_array_index (k->s->prefix_outputs, k->frame * k->s->prefix_n_outs + k->s->prefix_first_out[st] + o)
        = g_bytes_new (step->outputs[o].data, view_bytes (&step->outputs[o]));
}

static gboolean
build_prefix (Search *s, const char *const *every, GError **error)
{
  guint n_steps;

  s->prefix = new_plan (s, KESTREL_PRECISION_INT8, KK_LEVEL_FULL, every, error);
  if (s->prefix == NULL)
    return FALSE;

  n_steps = kestrel_plan_get_n_steps (s->prefix);
  s->prefix_first_out = g_new (guint, n_steps + 1);
  s->prefix_n_outs = 0;
  for (guint st = 0; st < n_steps; st++)
    {
      s->prefix_first_out[st] = s->prefix_n_outs;
      s->prefix_n_outs += kestrel_plan_get_step (s->prefix, st)->n_outputs;
    }
  s->prefix_first_out[n_steps] = s->prefix_n_outs;
  s->prefix_outputs = g_ptr_array_new_full (s->n_frames * s->prefix_n_outs, (GDestroyNotify) g_bytes_unref);
  g_ptr_array_set_size (s->prefix_outputs, s->n_frames * s->prefix_n_outs);
  g_autofree gboolean *keep = prefix_keep (s);
  for (guint frame = 0; frame < s->n_frames; frame++)
    {
      PrefixKeep k = { s, frame, keep };
      feed (s, s->prefix, frame);
      kestrel_plan_run_observed (s->prefix, keep_prefix_step, &k);
    }
  return TRUE;
}

/* Where `plan` starts to differ from the prefix plan (its first step
 * whose node is not the prefix plan's at the same place), and which
 * outputs of the steps before it the rest reads (need[k] for output k of
 * the frame's list; graph outputs count as read). 0 when nothing can be
 * skipped. */
static guint
prefix_cut (Search *s, const KestrelPlan *plan, gboolean *need)
{
  const KestrelGraph *graph = kestrel_plan_get_graph (plan);
  guint n_steps = kestrel_plan_get_n_steps (plan), n_ref = kestrel_plan_get_n_steps (s->prefix), cut = 0;
  g_autofree gint *producer = NULL;

  if (s->prefix == NULL)
    return 0;
  while (cut < n_steps && cut < n_ref)
    {
      const KestrelStep *a = kestrel_plan_get_step (plan, cut), *b = kestrel_plan_get_step (s->prefix, cut);
      if (strcmp (a->node->name, b->node->name) != 0 || strcmp (a->node->op_type, b->node->op_type) != 0
          || a->n_outputs != b->n_outputs)
        break;
      for (guint o = 0; o < a->n_outputs; o++)
        if (a->outputs[o].n_elements != b->outputs[o].n_elements || a->outputs[o].dtype != b->outputs[o].dtype
            || (a->outputs[o].data == NULL) != (b->outputs[o].data == NULL))
          return 0;
      cut++;
    }
  if (cut == 0 || cut == n_steps)
    return 0;
  /* value -> (step << 8 | output) + 1 of the steps before the cut */
  producer = g_new0 (gint, graph->values->len);
  for (guint st = 0; st < cut; st++)
    {
      const KestrelNode *node = kestrel_plan_get_step (plan, st)->node;
      for (guint o = 0; o < kestrel_node_n_outputs (node) && o < 256; o++)
        if (kestrel_node_output (node, o) >= 0)
          producer[kestrel_node_output (node, o)] = (gint) (st << 8 | o) + 1;
    }
  memset (need, 0, s->prefix_n_outs * sizeof *need);
  for (guint st = cut; st < n_steps; st++)
    {
      const KestrelNode *node = kestrel_plan_get_step (plan, st)->node;
      for (guint i = 0; i < kestrel_node_n_inputs (node); i++)
        {
          gint v = kestrel_node_input (node, i);
          if (v >= 0 && producer[v] > 0)
            need[s->prefix_first_out[(producer[v] - 1) >> 8] + ((producer[v] - 1) & 0xff)] = TRUE;
        }
    }
  for (guint i = 0; i < graph->outputs->len; i++)
    {
      gint v = g_array_index (graph->outputs, gint, i);
      if (v >= 0 && producer[v] > 0)
        need[s->prefix_first_out[(producer[v] - 1) >> 8] + ((producer[v] - 1) & 0xff)] = TRUE;
    }
  for (guint st = 0; st < cut; st++)
    for (guint o = 0; o < kestrel_plan_get_step (plan, st)->n_outputs; o++)
      if (need[s->prefix_first_out[st] + o]
          && (kestrel_plan_get_step (plan, st)->outputs[o].data == NULL
              || g_ptr_array_index (s->prefix_outputs, s->prefix_first_out[st] + o) == NULL))
        return 0;   /* (not kept: the whole plan runs) */
  return cut;
}

/* Frame `frame`'s values before the cut, from the prefix plan's run. */
static void
feed_prefix (Search *s, KestrelPlan *plan, guint frame, guint cut, const gboolean *need)
{
  for (guint st = 0; st < cut; st++)
    {
      const KestrelStep *step = kestrel_plan_get_step (plan, st);
      for (guint o = 0; o < step->n_outputs; o++)
        if (need[s->prefix_first_out[st] + o])
          {
            GBytes *bytes = g_ptr_array_index (s->prefix_outputs, frame * s->prefix_n_outs + s->prefix_first_out[st] + o);
            memcpy (step->outputs[o].data, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
          }
    }
}

/* The worst SQNR of `plan`'s outputs, frame by frame: a frame the plan
 * gets wrong is not hidden by others it gets right. *agrees: whether the
 * caller's goal held on every frame (TRUE without one). `stop_early`:
 * only whether the goal holds matters, so the first frame that misses it
 * ends the run (the value is then that of the frames run so far), and
 * goes first next time: the mixes tried one after another differ by a
 * layer or a few, and tend to fail on the same frame. */
static double
plan_output_db (Search *s, KestrelPlan *plan, gboolean stop_early, gboolean use_prefix, gboolean *agrees)
{
  double worst = INFINITY;
  g_autofree gboolean *need = use_prefix && s->prefix_outputs != NULL ? g_new0 (gboolean, s->prefix_n_outs + 1) : NULL;
  guint cut = need != NULL ? prefix_cut (s, plan, need) : 0;
  g_autofree const KestrelTensorView **fp32 = g_new0 (const KestrelTensorView *, s->n_outputs + 1);
  g_autofree const KestrelTensorView **got = g_new0 (const KestrelTensorView *, s->n_outputs + 1);

  *agrees = TRUE;
  for (guint k = 0; k < s->n_frames; k++)
    {
      guint frame = s->frame_order[k];
      feed (s, plan, frame);
      if (cut > 0)
        {
          feed_prefix (s, plan, frame, cut, need);
          kestrel_plan_run_from (plan, cut);
        }
      else
        kestrel_plan_run (plan);
      if (s->agree != NULL && *agrees)
        {
          for (guint o = 0; o < s->n_outputs; o++)
            {
              fp32[o] = &s->ref_views[frame * s->n_outputs + o];
              got[o] = kestrel_plan_get_output (plan, o);
            }
          *agrees = s->agree (frame, fp32, got, s->n_outputs, s->agree_data);
        }
      for (guint o = 0; o < s->n_outputs; o++)
        {
          const KestrelTensorView *ref = &s->ref_views[frame * s->n_outputs + o];
          const KestrelTensorView *out = kestrel_plan_get_output (plan, o);
          Power power = { 0 };
          const float *a, *b;
          if (ref->dtype != KESTREL_DTYPE_FLOAT32 || out->dtype != KESTREL_DTYPE_FLOAT32)
            continue;
          a = ref->data;
          b = out->data;
          for (gsize i = 0; i < out->n_elements; i++)
            power_add (&power, a[i], b[i]);
          worst = MIN (worst, power_db (&power));
        }
      if (stop_early && (!*agrees || worst < s->goal_db))
        {
          memmove (&s->frame_order[1], &s->frame_order[0], k * sizeof (guint));
          s->frame_order[0] = frame;
          break;
        }
    }
  return worst;
}

/* The worst output SQNR of the INT8 plan keeping `fp32` (NULL-terminated),
 * and whether that plan meets the goal (the SQNR and the caller's); with
 * `stop_early` (plan_output_db), *db is exact only when it does. */
static gboolean
evaluate_as (Search *s, const char *const *fp32, gboolean exact, gboolean stop_early, gboolean use_prefix, double *db,
             gboolean *meets, GError **error)
{
  g_autoptr(KestrelPlan) plan = NULL;
  gboolean agrees;

  if (!step_progress (s, error))
    return FALSE;
  plan = new_plan_as (s, KESTREL_PRECISION_INT8, KK_LEVEL_FULL, fp32, exact, error);
  if (plan == NULL)
    return FALSE;
  *db = plan_output_db (s, plan, stop_early && meets != NULL, use_prefix && !exact, &agrees);
  if (meets != NULL)
    *meets = *db >= s->goal_db && agrees;
  return TRUE;
}

static gboolean
evaluate (Search *s, const char *const *fp32, gboolean stop_early, double *db, gboolean *meets, GError **error)
{
  return evaluate_as (s, fp32, FALSE, stop_early, FALSE, db, meets, error);
}

/* Candidates order[0 .. k-1] (indices into s->candidates), as names;
 * `skip` (or -1) left out. Free with g_free (the names are the search's). */
static const char **
names_of (Search *s, const guint *order, guint k, gint skip)
{
  const char **names = g_new0 (const char *, k + 1);
  guint n = 0;

  for (guint i = 0; i < k; i++)
    if ((gint) i != skip)
      names[n++] = g_ptr_array_index (s->candidates, order[i]);
  return names;
}

static int
by_sensitivity (gconstpointer a, gconstpointer b, gpointer data)
{
  const Search *s = data;
  guint i = *(const guint *) a, j = *(const guint *) b;
  double x = s->sensitivity[i], y = s->sensitivity[j];

  /* Lowest SQNR (most sensitive) first; plan order between equals. */
  if (x != y)
    return x < y ? -1 : 1;
  return (int) i - (int) j;
}

/* Step 4: each tensor's error in the chosen mix against FP32: the same
 * INT8 graph with every candidate FP32 (so nothing is INT8 and every
 * tensor is the FP32 one, laid out as in the mix), step by step. */
typedef struct {
  GHashTable *ref;            /* model value name -> Kept */
  Power *per_step;
  float *scratch[2];          /* a step's output as floats, then in the model's layout */
  gsize scratch_n;
} Layers;

/* The reference plan's value: floats in its step's layout. */
typedef struct {
  float *data;
  gsize n;
  gboolean nhwc;
  gint64 shape[4];
} Kept;

static void
kept_free (gpointer p)
{
  Kept *k = p;

  g_free (k->data);
  g_free (k);
}

/* Whether step s's first output is NHWC where the model's value is NCHW,
 * and its shape. */
static gboolean
step_layout (const KestrelPlan *plan, guint s, gint64 shape[4])
{
  const KestrelTensorView *out = &kestrel_plan_get_step (plan, s)->outputs[0];

  for (guint d = 0; d < 4; d++)
    shape[d] = d < out->n_dims ? out->shape[d] : 1;
  return kestrel_plan_step_is_nhwc (plan, s) && out->n_dims == 4;
}

/* Step s's first output as floats (u8 dequantised) in its own layout, into
 * `dst`. The parameters are read once per step, not per element: this
 * runs over every tensor of every frame. FALSE when the output is neither
 * float nor u8 with parameters. */
static gboolean
step_floats (const KestrelPlan *plan, guint s, float *dst)
{
  const KestrelStep *step = kestrel_plan_get_step (plan, s);
  const KestrelTensorView *out = &step->outputs[0];
  float scale, zero;

  if (out->dtype == KESTREL_DTYPE_FLOAT32)
    {
      memcpy (dst, out->data, out->n_elements * sizeof (float));
      return TRUE;
    }
  if (out->dtype != KESTREL_DTYPE_UINT8)
    return FALSE;
  scale = kestrel_node_attr_float (step->node, "y_scale", 0.0f);
  zero = (float) kestrel_node_attr_int (step->node, "y_zero_point", 0);
  if (!(scale > 0.0f))
    return FALSE;
  for (gsize i = 0; i < out->n_elements; i++)
    dst[i] = ((float) ((const guint8 *) out->data)[i] - zero) * scale;
  return TRUE;
}

/* NHWC floats of `shape` (N, H, W, C) to NCHW. */
static void
nhwc_to_nchw (const float *src, const gint64 shape[4], float *dst)
{
  gsize c = shape[3], hw = shape[1] * shape[2], i = 0;

  for (gsize b = 0; b < (gsize) shape[0]; b++)
    for (gsize p = 0; p < hw; p++)
      for (gsize ch = 0; ch < c; ch++)
        dst[(b * c + ch) * hw + p] = src[i++];
}

static gboolean
step_has_output (const KestrelPlan *plan, guint s)
{
  const KestrelStep *step = kestrel_plan_get_step (plan, s);

  return step->n_outputs > 0 && step->outputs[0].data != NULL && kestrel_plan_get_step_model_value (plan, s) != NULL;
}

static void
keep_reference (const KestrelPlan *plan, guint s, gpointer data)
{
  Layers *l = data;
  const char *name;
  gsize n;
  Kept *k;

  if (!step_has_output (plan, s))
    return;
  name = kestrel_plan_get_step_model_value (plan, s);
  n = kestrel_plan_get_step (plan, s)->outputs[0].n_elements;
  /* The same tensors come back every frame: their buffers are reused. */
  k = g_hash_table_lookup (l->ref, name);
  if (k == NULL || k->n != n)
    {
      k = g_new0 (Kept, 1);
      k->data = g_new (float, n);
      k->n = n;
      g_hash_table_replace (l->ref, g_strdup (name), k);
    }
  k->nhwc = step_layout (plan, s, k->shape);
  if (!step_floats (plan, s, k->data))
    g_hash_table_remove (l->ref, name);
}

static float *
scratch (Layers *l, guint i, gsize n)
{
  if (l->scratch_n < n)
    {
      l->scratch[0] = g_renew (float, l->scratch[0], n);
      l->scratch[1] = g_renew (float, l->scratch[1], n);
      l->scratch_n = n;
    }
  return l->scratch[i];
}

static void
compare_step (const KestrelPlan *plan, guint s, gpointer data)
{
  Layers *l = data;
  const Kept *k;
  const float *ref, *got;
  gint64 shape[4];
  gboolean nhwc;
  gsize n;
  Power *p = NULL;
  double signal = 0.0, noise = 0.0;

  if (!step_has_output (plan, s))
    return;
  k = g_hash_table_lookup (l->ref, kestrel_plan_get_step_model_value (plan, s));
  n = kestrel_plan_get_step (plan, s)->outputs[0].n_elements;
  if (k == NULL || k->n != n || !step_floats (plan, s, scratch (l, 0, n)))
    return;
  nhwc = step_layout (plan, s, shape);
  ref = k->data;
  got = l->scratch[0];
  /* Both plans are the INT8 graph, so a value is laid out the same in
   * both, nearly always; else both go to the model's layout. */
  if (nhwc != k->nhwc || (nhwc && memcmp (shape, k->shape, sizeof shape) != 0))
    {
      if (nhwc)
        nhwc_to_nchw (l->scratch[0], shape, scratch (l, 1, n));
      else
        memcpy (scratch (l, 1, n), l->scratch[0], n * sizeof (float));
      if (k->nhwc)
        nhwc_to_nchw (k->data, k->shape, l->scratch[0]);
      else
        memcpy (l->scratch[0], k->data, n * sizeof (float));
      ref = l->scratch[0];
      got = l->scratch[1];
    }
  for (gsize i = 0; i < n; i++)
    {
      double r = ref[i], d = r - (double) got[i];
      signal += r * r;
      noise += d * d;
    }
  p = &l->per_step[s];
  p->signal += signal;
  p->noise += noise;
  p->n += n;
}

static gboolean
measure_layers (Search *s, GError **error)
{
  g_autofree const char **every = g_new0 (const char *, s->candidates->len + 1);
  g_autoptr(KestrelPlan) ref = NULL;
  g_autoptr(KestrelPlan) mixed = NULL;
  Layers l = { NULL };

  if (!step_progress (s, error))
    return FALSE;
  for (guint i = 0; i < s->candidates->len; i++)
    every[i] = g_ptr_array_index (s->candidates, i);
  ref = s->prefix != NULL ? kestrel_plan_ref (s->prefix)
                          : new_plan (s, KESTREL_PRECISION_INT8, KK_LEVEL_FULL, every, error);
  if (ref == NULL)
    return FALSE;
  mixed = new_plan (s, KESTREL_PRECISION_INT8, KK_LEVEL_FULL, NULL, error);
  if (mixed == NULL)
    return FALSE;
  l.ref = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, kept_free);
  l.per_step = g_new0 (Power, kestrel_plan_get_n_steps (mixed));
  for (guint frame = 0; frame < s->n_frames; frame++)
    {
      feed (s, ref, frame);
      kestrel_plan_run_observed (ref, keep_reference, &l);
      feed (s, mixed, frame);
      kestrel_plan_run_observed (mixed, compare_step, &l);
    }
  for (guint st = 0; st < kestrel_plan_get_n_steps (mixed); st++)
    if (l.per_step[st].n > 0)
      kestrel_quant_table_set_tensor_error (s->table, kestrel_plan_get_step_model_value (mixed, st),
                                            l.per_step[st].noise / (double) l.per_step[st].n,
                                            power_db (&l.per_step[st]));
  g_hash_table_unref (l.ref);
  g_free (l.per_step);
  g_free (l.scratch[0]);
  g_free (l.scratch[1]);
  return TRUE;
}

gboolean
kestrel_mixed_precision_search (KestrelModel *model, KestrelQuantTable *table, guint n_frames,
                                KestrelCalibrationInputFunc fill_input, gpointer user_data, double goal_db,
                                KestrelMixedAgreeFunc agree, gpointer agree_data,
                                KestrelCalibrationProgressFunc progress, gpointer progress_data,
                                GCancellable *cancellable, GError **error)
{
  Search s = { model, table, n_frames };
  g_autoptr(KestrelPlan) all = NULL;
  g_autofree guint *order = NULL;
  g_autofree const char **kept_names = NULL;
  KestrelMixedSummary summary = { goal_db, 0, 0, 0, agree != NULL };
  gboolean ok = FALSE, meets, *kept = NULL;
  guint n, lo, hi;
  double db;

  g_return_val_if_fail (model != NULL && table != NULL && fill_input != NULL, FALSE);
  if (n_frames == 0)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "the sensitivity search needs at least one frame");
      return FALSE;
    }
  s.goal_db = goal_db;
  s.agree = agree;
  s.agree_data = agree_data;
  s.progress = progress;
  s.progress_data = progress_data;
  s.cancellable = cancellable;
  s.pool = kestrel_thread_pool_new (0);
  kestrel_quant_table_set_fp32_layers (table, NULL);

  if (!run_reference (&s, fill_input, user_data, error))
    goto out;

  /* 1. The candidates: the convolutions the all-INT8 plan quantised. */
  all = new_plan (&s, KESTREL_PRECISION_INT8, KK_LEVEL_FULL, NULL, error);
  if (all == NULL)
    goto out;
  s.candidates = g_ptr_array_new_with_free_func (g_free);
  for (guint st = 0; st < kestrel_plan_get_n_steps (all); st++)
    {
      const KestrelNode *node = kestrel_plan_get_step (all, st)->node;
      if (strcmp (node->op_type, "QConvNhwc") == 0)
        g_ptr_array_add (s.candidates, g_strdup (node->name));
    }
  n = summary.n_candidates = s.candidates->len;
  /* Plans tried (at most, unless the exact plan needs more layers): all
   * INT8, n sensitivities, the prefix bisection (all FP32 and log2 n
   * more), n prunes, the exact plan, the layers' errors. */
  s.total = 2 * n + g_bit_storage (n) + 4;
  if (!step_progress (&s, error))
    goto out;
  s.frame_order = g_new (guint, n_frames);
  for (guint f = 0; f < n_frames; f++)
    s.frame_order[f] = f;
  db = summary.all_int8_sqnr_db = plan_output_db (&s, all, FALSE, FALSE, &meets);
  meets = meets && db >= goal_db;
  g_clear_pointer (&all, kestrel_plan_unref);

  /* 2. Sensitivity: only candidate i INT8 (the SQNR alone). */
  s.sensitivity = g_new0 (double, n);
  order = g_new (guint, n);
  for (guint i = 0; i < n; i++)
    order[i] = i;
  {
    g_autofree const char **every = names_of (&s, order, n, -1);
    if (!build_prefix (&s, every, error))
      goto out;
  }
  for (guint i = 0; i < n; i++)
    {
      g_autofree const char **others = names_of (&s, order, n, (gint) i);
      if (!evaluate_as (&s, others, FALSE, FALSE, TRUE, &s.sensitivity[i], NULL, error))
        goto out;
      kestrel_quant_table_set_sensitivity (table, g_ptr_array_index (s.candidates, i), s.sensitivity[i]);
    }
  g_qsort_with_data (order, n, sizeof (guint), by_sensitivity, &s);

  /* (The prefix plan itself is the reference of step 5.) */
  g_clear_pointer (&s.prefix_outputs, g_ptr_array_unref);
  /* 3. The shortest prefix of the most sensitive that meets the goal. */
  kept = g_new0 (gboolean, n);
  lo = 0;
  hi = 0;
  if (!meets && n > 0)
    {
      g_autofree const char **every = names_of (&s, order, n, -1);
      hi = n;
      if (!evaluate (&s, every, FALSE, &db, &meets, error))
        goto out;
      if (meets)
        while (hi - lo > 1)
          {
            guint mid = lo + (hi - lo) / 2;
            g_autofree const char **prefix = names_of (&s, order, mid, -1);
            double mid_db;
            gboolean mid_meets;
            if (!evaluate (&s, prefix, TRUE, &mid_db, &mid_meets, error))
              goto out;
            if (mid_meets)
              {
                hi = mid;
                db = mid_db;
              }
            else
              lo = mid;
          }
      else
        g_message ("INT8: no mix reaches the goal (%.1f dB on this model's outputs%s; every candidate FP32: "
                   "%.1f dB); keeping every candidate FP32", goal_db, agree != NULL ? ", and the task's agreement" : "",
                   db);
      for (guint i = 0; i < hi; i++)
        kept[i] = TRUE;
      /* Then none kept that the goal does without, least sensitive first. */
      if (meets)
        for (guint i = hi; i-- > 0;)
          {
            g_autofree const char **without = NULL;
            guint k = 0;
            double without_db;
            gboolean without_meets;
            kept[i] = FALSE;
            without = g_new0 (const char *, hi + 1);
            for (guint j = 0; j < hi; j++)
              if (kept[j])
                without[k++] = g_ptr_array_index (s.candidates, order[j]);
            if (!evaluate (&s, without, TRUE, &without_db, &without_meets, error))
              goto out;
            if (without_meets)
              db = without_db;
            else
              kept[i] = TRUE;
          }
    }
  /* 4. The mix as the engine will run it: a rounding may tip the goal (a
   * detection's box blends the anchors above a threshold), so while it
   * fails, the most sensitive candidate left INT8 goes FP32 too. */
  kept_names = g_new0 (const char *, n + 1);
  for (guint next = 0;;)
    {
      guint k = 0;
      memset (kept_names, 0, (n + 1) * sizeof *kept_names);
      for (guint i = 0; i < n; i++)
        if (kept[i])
          kept_names[k++] = g_ptr_array_index (s.candidates, order[i]);
      /* A mix that fails stops at its first failing frame (which goes
       * first for the next): on the back BlazeFace model this check
       * failed 4 times in a row, each a run of every frame on the
       * reference kernels. One that meets the goal ran every frame. */
      while (next < n && kept[next])
        next++;
      if (!evaluate_as (&s, kept_names, TRUE, next < n, FALSE, &db, &meets, error))
        goto out;
      if (meets || next == n)
        break;
      kept[next] = TRUE;
    }
  summary.output_sqnr_db = db;
  kestrel_quant_table_set_fp32_layers (table, kept_names);

  /* 5. Each tensor's error in the chosen mix. */
  if (!measure_layers (&s, error))
    goto out;
  kestrel_quant_table_set_mixed (table, &summary);
  if (progress != NULL)
    progress (s.total, s.total, progress_data);
  ok = TRUE;

out:
  if (!ok)
    kestrel_quant_table_set_fp32_layers (table, NULL);
  g_free (kept);
  search_clear (&s);
  return ok;
}

KestrelQuantTable *
kestrel_calibrate_mixed (KestrelModel *model, const KestrelCalibrationMethod *method, guint n_frames,
                         KestrelCalibrationInputFunc fill_input, gpointer user_data, double goal_db,
                         KestrelMixedAgreeFunc agree, gpointer agree_data, KestrelCalibrationProgressFunc search_progress, gpointer progress_data,
                         GCancellable *cancellable, GError **error)
{
  g_autoptr(KestrelQuantTable) table = kestrel_calibrate (model, method, n_frames, fill_input, user_data,
                                                          cancellable, error);

  if (table == NULL
      || !kestrel_mixed_precision_search (model, table, n_frames, fill_input, user_data, goal_db, agree, agree_data,
                                          search_progress,
                                          progress_data, cancellable, error))
    return NULL;
  return g_steal_pointer (&table);
}
