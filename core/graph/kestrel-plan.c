/* kestrel-plan.c — building and running plans (see kestrel-plan.h).
 *
 * At batch N > 1 the first steps, the ones with large activations, run item
 * by item: all of them for image 0, then all of them for image 1, and so
 * on; the rest runs on the N images at once. A batch gains nothing in those
 * first layers (their gemms already have thousands of rows per image) but
 * their activations grow N times, and an activation the next layer found
 * in L2 at batch 1 has to come from L3 at batch N: BlazeFace front's
 * 64x64x24 maps are 384 KiB per image, 1.5 MiB for four. Item by item,
 * each image goes through them as at batch 1. The later layers are small
 * (16x16, 8x8): there the batch gives the gemms N times the rows and costs
 * one fork/join per step for N images instead of N.
 *
 * Why one file of more than 800 lines: building a plan and running it read
 * the same step tables (the arena placement, the item-by-item steps of a
 * batch); one file lets a reader follow a step from where it is placed to
 * where it runs.
 */
#include "config.h"

#include "kestrel-plan.h"

#include <string.h>

#include "kestrel-arena.h"
#include "kestrel-error.h"
#include "kestrel-passes.h"
#include "kestrel-stats.h"

/* A step of a batch > 1 plan runs item by item while its output is at
 * least this large (at batch N): half of a typical L2. */
#define ITEM_MAJOR_MIN_BYTES (256 * 1024)

struct _KestrelPlan {
  gatomicrefcount ref_count;
  KestrelModel *model;
  KestrelPlanOptions options;
  KestrelGraph *graph;          /* the model's graph after this level's passes */
  KestrelThreadPool *pool;      /* NULL at the single-thread levels */
  guint n_steps;
  KestrelStep *steps;
  KestrelTensorView *views;     /* one per graph value */
  KestrelArena *arena;
  gsize arena_bytes;
  GPtrArray *input_names;
  GPtrArray *output_names;
  guint batch;                  /* items per run */
  /* Steps [0, n_item_steps) run item by item: item_steps[s * batch + i] is
   * step s on slice i of its batch-carrying inputs and output, all sharing
   * the state of item 0's (see the top of the file). */
  guint n_item_steps;
  KestrelStep *item_steps;
  guint8 **item_data;           /* per value: the one image's room of a value that
                                 * lives only within those steps, or NULL */
  KestrelPlan *observable;      /* the same plan all at once, for run_observed() */
  gint fault_step;              /* kestrel_plan_inject_fault_for_testing, or -1 */
  float fault_error;
};

static const char *const precision_names[] = { "fp32", "fp16", "int8", "int4" };

const char *
kestrel_precision_name (KestrelPrecision precision)
{
  return (guint) precision < G_N_ELEMENTS (precision_names) ? precision_names[precision] : "unknown";
}

gboolean
kestrel_precision_from_name (const char *name, KestrelPrecision *out)
{
  for (guint i = 0; i < G_N_ELEMENTS (precision_names); i++)
    if (g_ascii_strcasecmp (name, precision_names[i]) == 0)
      {
        *out = (KestrelPrecision) i;
        return TRUE;
      }
  return FALSE;
}

gboolean
kestrel_precision_is_integer (KestrelPrecision precision)
{
  return precision == KESTREL_PRECISION_INT8 || precision == KESTREL_PRECISION_INT4;
}

gboolean
kestrel_precision_is_supported (KestrelPrecision precision)
{
  /* Every caller asks here rather than keeping its own list. FP16 plans
   * run on any CPU: the gemm kernels widen the half weights at every
   * instruction set (F16C, NEON, or bit manipulation at SSE4.2 and in the
   * reference). INT4 plans are INT8 plans with INT4 gemm weights, whose
   * kernels every instruction set has too. */
  return precision == KESTREL_PRECISION_FP32 || precision == KESTREL_PRECISION_FP16
         || precision == KESTREL_PRECISION_INT8 || precision == KESTREL_PRECISION_INT4;
}

void
kestrel_plan_options_init (KestrelPlanOptions *options)
{
  memset (options, 0, sizeof *options);
  options->level = KK_LEVEL_FULL;
  options->precision = KESTREL_PRECISION_FP32;
}

static gint
find_root (gint *parent, gint v)
{
  while (parent[v] != v)
    {
      parent[v] = parent[parent[v]];
      v = parent[v];
    }
  return v;
}

/* Gives every activation a place in one arena. Values that a view operator
 * (Reshape, Squeeze...) merely renames share their input's storage, so they
 * are grouped first; each group lives from its first write to its last
 * read; graph inputs are live from the start, outputs until the end. */
static gboolean
plan_memory (KestrelPlan *plan, GError **error)
{
  KestrelGraph *graph = plan->graph;
  guint n_values = graph->values->len;
  g_autofree gint *parent = g_new (gint, n_values);
  g_autofree gint *first = g_new (gint, n_values);
  g_autofree gint *last = g_new (gint, n_values);
  g_autofree gint *request_of = g_new (gint, n_values);
  g_autoptr(GArray) requests = g_array_new (FALSE, TRUE, sizeof (KestrelArenaRequest));
  gsize total = 0;

  for (guint v = 0; v < n_values; v++)
    {
      parent[v] = v;
      first[v] = G_MAXINT;
      last[v] = -1;
      request_of[v] = -1;
    }

  for (guint s = 0; s < plan->n_steps; s++)
    {
      const KestrelNode *node = plan->steps[s].node;
      if (node->op->output_aliases_input == NULL)
        continue;
      for (guint o = 0; o < kestrel_node_n_outputs (node); o++)
        {
          gint j = node->op->output_aliases_input (node, o);
          gint out = kestrel_node_output (node, o);
          gint in = j >= 0 ? kestrel_node_input (node, j) : -1;
          if (out < 0 || in < 0 || kestrel_graph_value (graph, in)->constant != NULL)
            continue;
          parent[find_root (parent, out)] = find_root (parent, in);
        }
    }

  /* Lifetimes, per group root. Inputs live through the whole run so the
   * caller's data is still there afterwards (the canary runs the same input
   * through a second plan, and a plan may be run again on it). */
  for (guint i = 0; i < graph->inputs->len; i++)
    {
      gint r = find_root (parent, g_array_index (graph->inputs, gint, i));
      first[r] = 0;
      last[r] = plan->n_steps;
    }
  for (guint s = 0; s < plan->n_steps; s++)
    {
      const KestrelNode *node = plan->steps[s].node;
      for (guint o = 0; o < kestrel_node_n_outputs (node); o++)
        if (kestrel_node_output (node, o) >= 0)
          {
            gint r = find_root (parent, kestrel_node_output (node, o));
            first[r] = MIN (first[r], (gint) s);
            last[r] = MAX (last[r], (gint) s);
          }
      for (guint i = 0; i < kestrel_node_n_inputs (node); i++)
        if (kestrel_node_input (node, i) >= 0)
          {
            gint r = find_root (parent, kestrel_node_input (node, i));
            last[r] = MAX (last[r], (gint) s);
          }
    }
  for (guint i = 0; i < graph->outputs->len; i++)
    last[find_root (parent, g_array_index (graph->outputs, gint, i))] = plan->n_steps;

  /* Item by item (see the top of the file), each image runs steps [0, k)
   * in order, one image after the other, so a value that lives only
   * within them needs room for one image, reused by the next: the
   * lifetimes stay as they are. A value that outlives them (read later, or
   * a graph input or output) holds every image: image 1 writes its slice
   * after image 0 has gone through all of them, so it lives from step 0. */
  g_autofree gboolean *per_item = g_new0 (gboolean, n_values);
  for (guint v = 0; v < n_values && plan->n_item_steps > 0; v++)
    if (first[v] < (gint) plan->n_item_steps)
      {
        if (last[v] < (gint) plan->n_item_steps)
          per_item[v] = TRUE;
        else
          first[v] = 0;
      }

  for (guint v = 0; v < n_values; v++)
    {
      const KestrelValue *value = kestrel_graph_value (graph, v);
      gint r = find_root (parent, v);
      gsize bytes;

      if (value->constant != NULL || first[r] == G_MAXINT)
        continue;
      if (!kestrel_shape_get_size (value->dtype, value->n_dims, value->shape, NULL, &bytes, error))
        return FALSE;
      if (per_item[r])
        bytes /= plan->batch;
      if (request_of[r] < 0)
        {
          KestrelArenaRequest request = { 0 };
          request.first_use_step = first[r];
          request.last_use_step = MAX (last[r], first[r]);
          request_of[r] = requests->len;
          g_array_append_val (requests, request);
        }
      KestrelArenaRequest *request = &g_array_index (requests, KestrelArenaRequest, request_of[r]);
      request->size = MAX (request->size, bytes);
    }

  guint first_scratch = requests->len;
  for (guint s = 0; s < plan->n_steps; s++)
    {
      KestrelArenaRequest request = { 0 };
      request.size = plan->steps[s].scratch_bytes;
      request.first_use_step = request.last_use_step = s;
      g_array_append_val (requests, request);
    }

  if (!kestrel_arena_plan ((KestrelArenaRequest *) (void *) requests->data, requests->len, 0,
                           &total, error))
    return FALSE;
  /* Each value was checked against the limit; their sum is the model's
   * claim too, and is checked before it is allocated. */
  if (total > kestrel_tensor_get_max_bytes ())
    {
      g_autofree char *need = g_format_size_full (total, G_FORMAT_SIZE_IEC_UNITS);
      g_autofree char *limit = g_format_size_full (kestrel_tensor_get_max_bytes (),
                                                   G_FORMAT_SIZE_IEC_UNITS);
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_NO_MEMORY,
                   "the plan's activations need %s, more than the %s Kestrel allows", need, limit);
      return FALSE;
    }
  plan->arena = kestrel_arena_new (MAX (total, 64), error);
  if (plan->arena == NULL)
    return FALSE;
  plan->arena_bytes = total;

  guint8 *base = kestrel_arena_get_data (plan->arena);
  for (guint v = 0; v < n_values; v++)
    {
      gint r = find_root (parent, v);
      guint8 *data = request_of[r] >= 0
                     ? base + g_array_index (requests, KestrelArenaRequest, request_of[r]).offset : NULL;

      /* The batch does not exist in one piece for a per-image value. */
      if (per_item[r])
        plan->item_data[v] = data;
      else if (plan->views[v].data == NULL)
        plan->views[v].data = data;
    }
  for (guint s = 0; s < plan->n_steps; s++)
    {
      const KestrelArenaRequest *request =
        &g_array_index (requests, KestrelArenaRequest, first_scratch + s);
      plan->steps[s].scratch = request->size > 0 ? base + request->offset : NULL;
    }
  return TRUE;
}

static void
fill_step_views (KestrelPlan *plan)
{
  for (guint s = 0; s < plan->n_steps; s++)
    {
      KestrelStep *step = &plan->steps[s];
      for (guint i = 0; i < step->n_inputs; i++)
        {
          gint v = kestrel_node_input (step->node, i);
          if (v >= 0)
            step->inputs[i] = plan->views[v];
        }
      for (guint o = 0; o < step->n_outputs; o++)
        {
          gint v = kestrel_node_output (step->node, o);
          if (v >= 0)
            step->outputs[o] = plan->views[v];
        }
    }
}

/* Which inputs of `step` hold one slice per item, as a mask, when it can
 * run item by item; FALSE when it cannot. The NHWC operators and Concat
 * work on each image alone, as does PadAxis along an axis after the batch;
 * their batch-carrying inputs are the activations (and a rebatched
 * constant such as a channel padding Concat's), the others are weights. */
static gboolean
item_sliced_inputs (const KestrelStep *step, guint batch, guint32 *mask)
{
  const KestrelNode *node = step->node;
  const KestrelTensorView *y = &step->outputs[0];

  *mask = 0;
  if (step->n_outputs != 1 || step->n_inputs > 32 || step->op->output_aliases_input != NULL
      || y->n_dims == 0 || y->shape[0] != (gint64) batch)
    return FALSE;
  if (strcmp (node->domain, "kestrel") == 0)
    {
      if (strcmp (node->op_type, "ConvNhwc") == 0)
        *mask = 1u << 0 | 1u << 3;
      else if (strcmp (node->op_type, "DwPwNhwc") == 0)
        *mask = 1u << 0 | 1u << 5;
      else if (strcmp (node->op_type, "MaxPoolNhwc") == 0)
        *mask = 1u << 0;
      else if (strcmp (node->op_type, "PadAxis") == 0 && kestrel_node_attr_int (node, "axis", 0) > 0)
        *mask = 1u << 0;  /* the channel padding (kestrel-passes-pad.c), per image */
      else
        return FALSE;
    }
  else if (node->domain[0] == '\0' && strcmp (node->op_type, "Concat") == 0)
    {
      gint64 axis = kestrel_node_attr_int (node, "axis", 0);
      if (axis < 0)
        axis += y->n_dims;
      if (axis <= 0)
        return FALSE;
      *mask = (guint32) ((1ull << step->n_inputs) - 1);
    }
  else
    return FALSE;

  for (guint i = 0; i < step->n_inputs; i++)
    {
      const KestrelTensorView *x = &step->inputs[i];

      if (kestrel_node_input (node, i) < 0)
        continue;
      if (*mask & (1u << i))
        {
          if (x->n_dims == 0 || x->shape[0] != (gint64) batch)
            return FALSE;
        }
      else if (x->data == NULL)
        return FALSE; /* an activation that is not per image */
    }
  return TRUE;
}

static gsize
item_bytes (const KestrelTensorView *view, guint batch)
{
  return view->n_elements / batch * kestrel_dtype_get_size (view->dtype);
}

/* Slice `item` of the batched view, or the view itself when not sliced. */
static void
slice_view (KestrelTensorView *slice, const KestrelTensorView *view, guint batch, guint item,
            gboolean sliced)
{
  *slice = *view;
  if (!sliced)
    return;
  slice->shape[0] = 1;
  slice->n_elements = view->n_elements / batch;
  if (view->data != NULL)
    slice->data = (guint8 *) view->data + item * item_bytes (view, batch);
}

/* The item steps from the batched ones; again once the arena is placed. */
static void
fill_item_step_views (KestrelPlan *plan)
{
  for (guint s = 0; s < plan->n_item_steps; s++)
    {
      const KestrelStep *step = &plan->steps[s];
      guint32 mask;

      item_sliced_inputs (step, plan->batch, &mask);
      for (guint i = 0; i < plan->batch; i++)
        {
          KestrelStep *item = &plan->item_steps[s * plan->batch + i];
          for (guint j = 0; j < step->n_inputs; j++)
            {
              gint v = kestrel_node_input (step->node, j);
              slice_view (&item->inputs[j], &step->inputs[j], plan->batch, i, (mask & (1u << j)) && v >= 0);
              if (v >= 0 && plan->item_data[v] != NULL)
                item->inputs[j].data = plan->item_data[v];
            }
          slice_view (&item->outputs[0], &step->outputs[0], plan->batch, i, TRUE);
          if (plan->item_data[kestrel_node_output (step->node, 0)] != NULL)
            item->outputs[0].data = plan->item_data[kestrel_node_output (step->node, 0)];
          item->scratch = step->scratch;
        }
    }
}

/* Chooses the steps that run item by item and makes their item steps
 * (unprepared). */
static void
plan_item_steps (KestrelPlan *plan, gboolean item_major)
{
  guint k = 0;

  if (!item_major || plan->batch < 2 || plan->options.level == KK_LEVEL_SCALAR
      || plan->options.level == KK_LEVEL_PARALLEL)
    return;
  for (; k < plan->n_steps; k++)
    {
      const KestrelStep *step = &plan->steps[k];
      guint32 mask;
      gsize bytes = step->outputs[0].n_elements * kestrel_dtype_get_size (step->outputs[0].dtype);

      if (!item_sliced_inputs (step, plan->batch, &mask) || bytes < ITEM_MAJOR_MIN_BYTES)
        break;
    }
  if (k == 0)
    return;

  plan->n_item_steps = k;
  plan->item_steps = g_new0 (KestrelStep, k * plan->batch);
  plan->item_data = g_new0 (guint8 *, plan->graph->values->len);
  for (guint s = 0; s < k; s++)
    for (guint i = 0; i < plan->batch; i++)
      {
        KestrelStep *item = &plan->item_steps[s * plan->batch + i];
        *item = plan->steps[s];
        item->inputs = g_new0 (KestrelTensorView, MAX (item->n_inputs, 1));
        item->outputs = g_new0 (KestrelTensorView, MAX (item->n_outputs, 1));
      }
  fill_item_step_views (plan);
}

/* prepare() of every step; of the item steps, item 0's, whose state the
 * others share (the batched step of an item-by-item one never runs). */
static gboolean
prepare_steps (KestrelPlan *plan, GError **error)
{
  for (guint s = 0; s < plan->n_steps; s++)
    {
      KestrelStep *step = &plan->steps[s];

      if (s < plan->n_item_steps)
        {
          KestrelStep *first = &plan->item_steps[s * plan->batch];

          if (first->op->prepare != NULL && !first->op->prepare (first, error))
            return FALSE;
          for (guint i = 1; i < plan->batch; i++)
            {
              KestrelStep *item = &plan->item_steps[s * plan->batch + i];
              item->state = first->state;
              item->free_state = NULL;
              item->scratch_bytes = first->scratch_bytes;
            }
          step->scratch_bytes = first->scratch_bytes;
        }
      else if (step->op->prepare != NULL && !step->op->prepare (step, error))
        return FALSE;
    }
  return TRUE;
}

static void
steps_clear (KestrelStep *steps, guint n)
{
  for (guint s = 0; s < n; s++)
    {
      KestrelStep *step = &steps[s];
      if (step->free_state != NULL && step->state != NULL)
        step->free_state (step->state);
      g_free (step->inputs);
      g_free (step->outputs);
    }
}

static void
plan_free (KestrelPlan *plan)
{
  steps_clear (plan->steps, plan->n_steps);
  steps_clear (plan->item_steps, plan->n_item_steps * plan->batch);
  g_free (plan->item_steps);
  g_free (plan->item_data);
  g_clear_pointer (&plan->observable, kestrel_plan_unref);
  g_free (plan->steps);
  g_free (plan->views);
  g_clear_pointer (&plan->arena, kestrel_arena_free);
  g_clear_pointer (&plan->pool, kestrel_thread_pool_unref);
  g_clear_pointer (&plan->graph, kestrel_graph_free);
  g_clear_pointer (&plan->model, kestrel_model_unref);
  g_clear_pointer (&plan->input_names, g_ptr_array_unref);
  g_clear_pointer (&plan->output_names, g_ptr_array_unref);
  g_clear_pointer (&plan->options.quant_table, kestrel_quant_table_unref);
  g_strfreev ((char **) plan->options.fp32_layers);
  g_strfreev ((char **) plan->options.int8_layers);
  g_free (plan);
}

/* Whether `node` reads or writes a u8 activation (an INT8 operator or a
 * conversion to or from one). */
static gboolean
node_is_int8 (const KestrelGraph *graph, const KestrelNode *node)
{
  for (guint i = 0; i < kestrel_node_n_inputs (node); i++)
    {
      const KestrelValue *v = kestrel_graph_value (graph, kestrel_node_input (node, i));
      if (v != NULL && v->constant == NULL && v->dtype == KESTREL_DTYPE_UINT8)
        return TRUE;
    }
  for (guint o = 0; o < kestrel_node_n_outputs (node); o++)
    {
      const KestrelValue *v = kestrel_graph_value (graph, kestrel_node_output (node, o));
      if (v != NULL && v->dtype == KESTREL_DTYPE_UINT8)
        return TRUE;
    }
  return FALSE;
}

/* The layers kept FP32: the caller's and the ones the table's sensitivity
 * search chose, each once (a NULL-terminated copy). */
static const char *const *
fp32_layers_union (const char *const *a, const char *const *b)
{
  GPtrArray *names = g_ptr_array_new ();

  for (guint i = 0; a != NULL && a[i] != NULL; i++)
    g_ptr_array_add (names, g_strdup (a[i]));
  for (guint i = 0; b != NULL && b[i] != NULL; i++)
    if (a == NULL || !g_strv_contains ((const char *const *) a, b[i]))
      g_ptr_array_add (names, g_strdup (b[i]));
  g_ptr_array_add (names, NULL);
  return (const char *const *) g_ptr_array_free (names, FALSE);
}

/* A step of an FP16 plan whose weights kestrel_graph_to_fp16() made half. */
static gboolean
node_has_half_weights (const KestrelGraph *graph, const KestrelNode *node)
{
  for (guint i = 0; i < kestrel_node_n_inputs (node); i++)
    {
      const KestrelValue *v = kestrel_graph_value (graph, kestrel_node_input (node, i));
      if (v != NULL && v->constant != NULL && v->dtype == KESTREL_DTYPE_FLOAT16)
        return TRUE;
    }
  return FALSE;
}

static KestrelPlan *
plan_new (KestrelModel *model, const KestrelPlanOptions *options, gboolean item_major, GError **error)
{
  KestrelPlan *plan;
  KestrelGraph *graph;
  const KestrelGraph *model_graph = kestrel_model_get_graph (model);

  g_return_val_if_fail (model != NULL, NULL);
  g_return_val_if_fail (options != NULL, NULL);

  if ((guint) options->level >= KK_LEVEL_COUNT)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "optimisation level %d does not exist", options->level);
      return NULL;
    }
  if (!kestrel_precision_is_supported (options->precision))
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                   "precision %s is not available yet; use fp32",
                   kestrel_precision_name (options->precision));
      return NULL;
    }

  plan = g_new0 (KestrelPlan, 1);
  g_atomic_ref_count_init (&plan->ref_count);
  plan->model = kestrel_model_ref (model);
  plan->fault_step = -1;
  plan->options = *options;
  plan->options.pool = NULL;
  plan->options.quant_table = NULL;
  plan->options.fp32_layers = NULL;
  plan->options.int8_layers = NULL;
  if (kestrel_precision_is_integer (options->precision))
    {
      /* A quantised (QDQ) file carries its own table. */
      KestrelQuantTable *table = options->quant_table != NULL ? options->quant_table
                                                              : kestrel_model_get_quant_table (model);
      if (table == NULL)
        {
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                       "an %s plan needs a calibration table (kestrel_calibrate)",
                       options->precision == KESTREL_PRECISION_INT4 ? "INT4" : "INT8");
          goto fail;
        }
      const char *hash = kestrel_quant_table_get_model_hash (table);
      if (hash[0] != '\0' && strcmp (hash, kestrel_model_get_content_hash (model)) != 0)
        {
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                       "the calibration table was made for another model (content hash %.12s..., "
                       "this model's is %.12s...)", hash, kestrel_model_get_content_hash (model));
          goto fail;
        }
      plan->options.quant_table = kestrel_quant_table_ref (table);
      plan->options.fp32_layers = fp32_layers_union (options->fp32_layers,
                                                     kestrel_quant_table_get_fp32_layers (table));
      if (options->precision == KESTREL_PRECISION_INT4)
        plan->options.int8_layers = fp32_layers_union (options->int8_layers,
                                                       kestrel_quant_table_get_int8_layers (table));
    }
  if (options->precision == KESTREL_PRECISION_FP16)
    plan->options.fp32_layers = (const char *const *) g_strdupv ((char **) options->fp32_layers);
  /* At the model's own batch the prepared graph serves as it is; another
   * batch starts again from the graph as loaded, because folding baked the
   * exported batch into constants. */
  if (options->batch > 0 && options->batch != kestrel_model_get_batch (model))
    {
      plan->graph = graph = kestrel_graph_copy (kestrel_model_get_source_graph (model));
      if (!kestrel_graph_set_batch (graph, options->batch, error)
          || !kestrel_graph_prepare (graph, error))
        {
          g_prefix_error (error, "%s: ", kestrel_model_get_origin (model));
          goto fail;
        }
    }
  else
    plan->graph = graph = kestrel_graph_copy (model_graph);
  plan->batch = kestrel_model_get_batch (model);
  if (options->batch > 0)
    plan->batch = options->batch;

  /* Names as the model has them, before any pass renames a value. */
  plan->input_names = g_ptr_array_new_with_free_func (g_free);
  plan->output_names = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < graph->inputs->len; i++)
    g_ptr_array_add (plan->input_names,
                     g_strdup (kestrel_graph_value (graph, g_array_index (graph->inputs, gint, i))->name));
  for (guint i = 0; i < graph->outputs->len; i++)
    g_ptr_array_add (plan->output_names,
                     g_strdup (kestrel_graph_value (graph, g_array_index (graph->outputs, gint, i))->name));

  if (kestrel_precision_is_integer (options->precision))
    {
      /* The same graph at every level (see kestrel-plan.h). */
      KestrelGraph *fast = kestrel_graph_new_fast (graph, KESTREL_FAST_NO_RESIDUAL | KESTREL_FAST_NO_DW_PW
                                                                | KESTREL_FAST_KEEP_REFERENCE_GEMMS, error);
      if (fast == NULL)
        goto fail;
      if (!kestrel_graph_quantize_int4 (fast, graph, plan->options.quant_table, plan->options.fp32_layers,
                                        options->precision == KESTREL_PRECISION_INT4,
                                        plan->options.int8_layers, error))
        {
          kestrel_graph_free (fast);
          g_prefix_error (error, "%s: %s: ", kestrel_model_get_origin (model),
                          options->precision == KESTREL_PRECISION_INT4 ? "INT4" : "INT8");
          goto fail;
        }
      kestrel_graph_free (plan->graph);
      plan->graph = graph = fast;
    }
  else if (options->precision == KESTREL_PRECISION_FP16)
    {
      /* The fast graph at every level, so that the scalar level runs the
       * same FP16 weights through the reference kernels: the FP16 oracle
       * of the canary, as the scalar FP32 plan is FP32's. */
      KestrelGraph *fast = kestrel_graph_new_fast (graph, KESTREL_FAST_DEFAULT, error);
      if (fast == NULL)
        goto fail;
      kestrel_graph_to_fp16 (fast, plan->options.fp32_layers);
      kestrel_graph_free (plan->graph);
      plan->graph = graph = fast;
    }
  else if (options->level == KK_LEVEL_SIMD || options->level == KK_LEVEL_FULL)
    {
      KestrelGraph *fast = kestrel_graph_new_fast (graph, KESTREL_FAST_DEFAULT, error);
      if (fast == NULL)
        goto fail;
      kestrel_graph_free (plan->graph);
      plan->graph = graph = fast;
    }

  if (kk_level_is_parallel (options->level))
    {
      if (options->pool != NULL)
        plan->pool = kestrel_thread_pool_ref (options->pool);
      else
        plan->pool = kestrel_thread_pool_new (options->n_threads > 0 ? options->n_threads
                                                                     : g_get_num_processors ());
    }

  plan->views = g_new0 (KestrelTensorView, graph->values->len);
  for (guint v = 0; v < graph->values->len; v++)
    kestrel_tensor_view_init (&plan->views[v], kestrel_graph_value (graph, v));

  plan->n_steps = graph->nodes->len;
  plan->steps = g_new0 (KestrelStep, MAX (plan->n_steps, 1));
  for (guint s = 0; s < plan->n_steps; s++)
    {
      KestrelStep *step = &plan->steps[s];
      const KestrelNode *node = kestrel_graph_node (graph, s);

      step->op = node->op;
      step->node = node;
      step->n_inputs = kestrel_node_n_inputs (node);
      step->n_outputs = kestrel_node_n_outputs (node);
      step->inputs = g_new0 (KestrelTensorView, MAX (step->n_inputs, 1));
      step->outputs = g_new0 (KestrelTensorView, MAX (step->n_outputs, 1));
      step->level = options->level;
      step->kernels = kk_kernels_for_level (step->level);
      /* An INT8 plan's float steps (what the INT8 pass left float, layers
       * kept FP32) run the reference kernels at every level, so the plan
       * gives the same bits at every level (see kestrel-plan.h); at the
       * simd levels their gemms are the reference's arithmetic built for
       * the best ISA (kk_kernels_get_exact). */
      if (kestrel_precision_is_integer (options->precision) && !node_is_int8 (graph, node)
          && !options->float_steps_at_level)
        {
          step->level = kk_level_is_parallel (options->level) ? KK_LEVEL_PARALLEL : KK_LEVEL_SCALAR;
          step->kernels = kk_kernels_get_exact (kk_level_isa (options->level));
        }
      step->pool = plan->pool;
    }
  /* prepare() sees shapes and constant data (activations have no address
   * yet); it may ask for scratch, which plan_memory() then places. */
  fill_step_views (plan);
  plan_item_steps (plan, item_major);
  if (!prepare_steps (plan, error))
    goto fail;
  if (!plan_memory (plan, error))
    goto fail;
  fill_step_views (plan);
  fill_item_step_views (plan);
  return plan;

fail:
  plan_free (plan);
  return NULL;
}

KestrelPlan *
kestrel_plan_new (KestrelModel *model, const KestrelPlanOptions *options, GError **error)
{
  return plan_new (model, options, TRUE, error);
}

KestrelPlan *
kestrel_plan_ref (KestrelPlan *plan)
{
  g_atomic_ref_count_inc (&plan->ref_count);
  return plan;
}

void
kestrel_plan_unref (KestrelPlan *plan)
{
  if (plan != NULL && g_atomic_ref_count_dec (&plan->ref_count))
    plan_free (plan);
}

const KestrelPlanOptions *
kestrel_plan_get_options (const KestrelPlan *plan)
{
  return &plan->options;
}

guint
kestrel_plan_get_batch (const KestrelPlan *plan)
{
  return plan->batch;
}

KestrelModel *
kestrel_plan_get_model (const KestrelPlan *plan)
{
  return plan->model;
}

const KestrelGraph *
kestrel_plan_get_graph (const KestrelPlan *plan)
{
  return plan->graph;
}

guint
kestrel_plan_get_n_inputs (const KestrelPlan *plan)
{
  return plan->graph->inputs->len;
}

guint
kestrel_plan_get_n_outputs (const KestrelPlan *plan)
{
  return plan->graph->outputs->len;
}

const KestrelTensorView *
kestrel_plan_get_input (const KestrelPlan *plan, guint i)
{
  g_return_val_if_fail (i < plan->graph->inputs->len, NULL);
  return &plan->views[g_array_index (plan->graph->inputs, gint, i)];
}

const KestrelTensorView *
kestrel_plan_get_output (const KestrelPlan *plan, guint i)
{
  g_return_val_if_fail (i < plan->graph->outputs->len, NULL);
  return &plan->views[g_array_index (plan->graph->outputs, gint, i)];
}

static gboolean
slice_of (const KestrelPlan *plan, const KestrelTensorView *view, guint item, KestrelTensorView *slice)
{
  if (view->n_dims == 0 || (gint64) plan->batch != view->shape[0] || item >= plan->batch)
    return FALSE;
  slice_view (slice, view, plan->batch, item, TRUE);
  return TRUE;
}

gboolean
kestrel_plan_get_input_slice (const KestrelPlan *plan, guint i, guint item, KestrelTensorView *slice)
{
  g_return_val_if_fail (slice != NULL, FALSE);
  if (i >= plan->graph->inputs->len)
    return FALSE;
  return slice_of (plan, kestrel_plan_get_input (plan, i), item, slice);
}

gboolean
kestrel_plan_get_output_slice (const KestrelPlan *plan, guint i, guint item, KestrelTensorView *slice)
{
  g_return_val_if_fail (slice != NULL, FALSE);
  if (i >= plan->graph->outputs->len)
    return FALSE;
  return slice_of (plan, kestrel_plan_get_output (plan, i), item, slice);
}

const char *
kestrel_plan_get_input_name (const KestrelPlan *plan, guint i)
{
  g_return_val_if_fail (i < plan->input_names->len, NULL);
  return g_ptr_array_index (plan->input_names, i);
}

const char *
kestrel_plan_get_output_name (const KestrelPlan *plan, guint i)
{
  g_return_val_if_fail (i < plan->output_names->len, NULL);
  return g_ptr_array_index (plan->output_names, i);
}

static inline void
run_step (KestrelPlan *plan, guint s)
{
  plan->steps[s].op->run (&plan->steps[s]);
  if (G_UNLIKELY ((gint) s == plan->fault_step))
    ((float *) plan->steps[s].outputs[0].data)[0] += plan->fault_error;
}

/* Steps [0, n_item_steps) image by image; step_ns (when not NULL) gets
 * each step's time summed over the images. The fault goes into image 0's
 * output, as a faulty kernel's would. */
static void
run_items (KestrelPlan *plan, guint64 *step_ns)
{
  for (guint i = 0; i < plan->batch && plan->n_item_steps > 0; i++)
    for (guint s = 0; s < plan->n_item_steps; s++)
      {
        const KestrelStep *item = &plan->item_steps[s * plan->batch + i];
        guint64 start = step_ns != NULL ? kestrel_stats_now_ns () : 0;

        item->op->run (item);
        if (G_UNLIKELY ((gint) s == plan->fault_step && i == 0))
          ((float *) item->outputs[0].data)[0] += plan->fault_error;
        if (step_ns != NULL)
          step_ns[s] = (i == 0 ? 0 : step_ns[s]) + kestrel_stats_now_ns () - start;
      }
}

void
kestrel_plan_run (KestrelPlan *plan)
{
  if (plan->pool != NULL)
    kestrel_thread_pool_hold (plan->pool);
  run_items (plan, NULL);
  for (guint s = plan->n_item_steps; s < plan->n_steps; s++)
    run_step (plan, s);
  if (plan->pool != NULL)
    kestrel_thread_pool_release (plan->pool);
}

void
kestrel_plan_run_from (KestrelPlan *plan, guint first)
{
  if (first == 0 || plan->n_item_steps > 0)
    {
      kestrel_plan_run (plan);
      return;
    }
  if (plan->pool != NULL)
    kestrel_thread_pool_hold (plan->pool);
  for (guint s = first; s < plan->n_steps; s++)
    run_step (plan, s);
  if (plan->pool != NULL)
    kestrel_thread_pool_release (plan->pool);
}

static void
copy_views (const KestrelTensorView *from, const KestrelTensorView *to)
{
  memcpy (to->data, from->data, from->n_elements * kestrel_dtype_get_size (from->dtype));
}

void
kestrel_plan_run_observed (KestrelPlan *plan, KestrelPlanObserver observe, gpointer user_data)
{
  /* Item by item, the first steps' outputs never exist for the whole
   * batch at once: the observer watches the same plan built to run every
   * step on all images (made the first time, sharing the thread pool), and
   * this plan's outputs are copied from it. */
  if (plan->n_item_steps > 0)
    {
      g_autoptr(GError) error = NULL;

      if (plan->observable == NULL)
        {
          KestrelPlanOptions options = plan->options;
          options.pool = plan->pool;
          plan->observable = plan_new (plan->model, &options, FALSE, &error);
          if (plan->observable == NULL)
            {
              g_critical ("kestrel_plan_run_observed: could not rebuild the plan: %s", error->message);
              return;
            }
        }
      plan->observable->fault_step = plan->fault_step;
      plan->observable->fault_error = plan->fault_error;
      for (guint i = 0; i < kestrel_plan_get_n_inputs (plan); i++)
        copy_views (kestrel_plan_get_input (plan, i), kestrel_plan_get_input (plan->observable, i));
      kestrel_plan_run_observed (plan->observable, observe, user_data);
      for (guint i = 0; i < kestrel_plan_get_n_outputs (plan); i++)
        copy_views (kestrel_plan_get_output (plan->observable, i), kestrel_plan_get_output (plan, i));
      return;
    }

  if (plan->pool != NULL)
    kestrel_thread_pool_hold (plan->pool);
  for (guint s = 0; s < plan->n_steps; s++)
    {
      run_step (plan, s);
      observe (plan, s, user_data);
    }
  if (plan->pool != NULL)
    kestrel_thread_pool_release (plan->pool);
}

const char *
kestrel_plan_get_step_model_value (const KestrelPlan *plan, guint step)
{
  const KestrelNode *node;

  g_return_val_if_fail (step < plan->n_steps, NULL);
  node = plan->steps[step].node;
  if (strcmp (node->domain, "kestrel") == 0)
    return kestrel_node_attr_string (node, "model_value", NULL);
  return kestrel_graph_value (plan->graph, kestrel_node_output (node, 0))->name;
}

gboolean
kestrel_plan_step_is_nhwc (const KestrelPlan *plan, guint step)
{
  g_return_val_if_fail (step < plan->n_steps, FALSE);
  return strcmp (plan->steps[step].node->domain, "kestrel") == 0;
}

gboolean
kestrel_plan_inject_fault_for_testing (KestrelPlan *plan, const char *node_name, float error)
{
  for (guint s = 0; s < plan->n_steps; s++)
    if (strcmp (plan->steps[s].node->name, node_name) == 0
        && plan->steps[s].outputs[0].dtype == KESTREL_DTYPE_FLOAT32)
      {
        plan->fault_step = s;
        plan->fault_error = error;
        return TRUE;
      }
  return FALSE;
}

void
kestrel_plan_run_profiled (KestrelPlan *plan, guint64 *step_ns)
{
  if (plan->pool != NULL)
    kestrel_thread_pool_hold (plan->pool);
  run_items (plan, step_ns);
  for (guint s = plan->n_item_steps; s < plan->n_steps; s++)
    {
      guint64 start = kestrel_stats_now_ns ();
      run_step (plan, s);
      step_ns[s] = kestrel_stats_now_ns () - start;
    }
  if (plan->pool != NULL)
    kestrel_thread_pool_release (plan->pool);
}

gsize
kestrel_plan_get_arena_bytes (const KestrelPlan *plan)
{
  return plan->arena_bytes;
}

guint
kestrel_plan_get_n_steps (const KestrelPlan *plan)
{
  return plan->n_steps;
}

const KestrelStep *
kestrel_plan_get_step (const KestrelPlan *plan, guint i)
{
  g_return_val_if_fail (i < plan->n_steps, NULL);
  return &plan->steps[i];
}

KestrelPrecision
kestrel_plan_get_step_precision (const KestrelPlan *plan, guint step)
{
  g_return_val_if_fail (step < plan->n_steps, KESTREL_PRECISION_FP32);
  if (node_is_int8 (plan->graph, plan->steps[step].node))
    return kestrel_node_attr_int (plan->steps[step].node, "w_int4", 0) ? KESTREL_PRECISION_INT4
                                                                      : KESTREL_PRECISION_INT8;
  if (node_has_half_weights (plan->graph, plan->steps[step].node))
    return KESTREL_PRECISION_FP16;
  return KESTREL_PRECISION_FP32;
}

gboolean
kestrel_plan_get_step_error (const KestrelPlan *plan, guint step, double *mse, double *sqnr_db)
{
  const char *value;

  g_return_val_if_fail (step < plan->n_steps, FALSE);
  value = kestrel_plan_get_step_model_value (plan, step);
  return plan->options.quant_table != NULL && value != NULL
         && kestrel_quant_table_lookup_tensor_error (plan->options.quant_table, value, mse, sqnr_db);
}

/* Bytes of constant input i of node as the plan keeps it: an INT4
 * convolution's weights (input 1, held widened to s8 in the graph) as its
 * kernels keep them, two nibbles a byte and a multiplier and a zero point
 * per block of 32 along k. */
static gsize
constant_bytes (const KestrelNode *node, guint i, const KestrelValue *v)
{
  if (i == 1 && kestrel_node_attr_int (node, "w_int4", 0) && v->n_dims == 4 && v->shape[0] > 0)
    {
      gsize cout = (gsize) v->shape[0], k = kestrel_tensor_get_n_bytes (v->constant) / cout;
      return cout * ((k + 1) / 2 + 2 * ((k + KK_QGEMM_S4_BLOCK - 1) / KK_QGEMM_S4_BLOCK));
    }
  return kestrel_tensor_get_n_bytes (v->constant);
}

gsize
kestrel_plan_get_step_weight_bytes (const KestrelPlan *plan, guint step)
{
  const KestrelNode *node;
  gsize bytes = 0;

  g_return_val_if_fail (step < plan->n_steps, 0);
  node = plan->steps[step].node;
  for (guint i = 0; i < kestrel_node_n_inputs (node); i++)
    {
      const KestrelValue *v = kestrel_graph_value (plan->graph, kestrel_node_input (node, i));
      if (v != NULL && v->constant != NULL)
        bytes += constant_bytes (node, i, v);
    }
  return bytes;
}

gsize
kestrel_plan_get_weight_bytes (const KestrelPlan *plan)
{
  g_autofree gboolean *counted = g_new0 (gboolean, MAX (plan->graph->values->len, 1));
  gsize bytes = 0;

  for (guint s = 0; s < plan->n_steps; s++)
    {
      const KestrelNode *node = plan->steps[s].node;
      for (guint i = 0; i < kestrel_node_n_inputs (node); i++)
        {
          gint v = kestrel_node_input (node, i);
          const KestrelValue *value = kestrel_graph_value (plan->graph, v);
          if (value != NULL && value->constant != NULL && !counted[v])
            {
              counted[v] = TRUE;
              bytes += constant_bytes (node, i, value);
            }
        }
    }
  return bytes;
}
