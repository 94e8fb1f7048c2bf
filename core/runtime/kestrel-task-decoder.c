/* kestrel-task-decoder.c — a task decoder vtable bound to one model: which
 * model inputs and outputs it reads, its state, and the checks that make
 * sure a decoder only ever sees tensors of the shapes it was created for.
 */
#include "config.h"

#include <string.h>

#include "kestrel-error.h"
#include "kestrel-plugin-private.h"

struct _KestrelTaskDecoder {
  const KestrelTaskDecoderVTable *vtable;
  KestrelModel *model;
  gpointer state;
  guint image_input;              /* model input index of inputs[0] */
  guint *output_index;            /* per output pattern: model output index */
  const KestrelTensorView **views; /* per output pattern, reused by decode() */
  kk_model_input_params input_params;
};

void
kestrel_decode_options_init (KestrelDecodeOptions *options)
{
  g_return_if_fail (options != NULL);
  *options = (KestrelDecodeOptions) { .score_threshold = -1.0f, .overlap_threshold = -1.0f };
}

/* ---- Patterns ------------------------------------------------------------ */

char *
kestrel_tensor_pattern_describe (const KestrelTensorPattern *pattern)
{
  g_autofree char *shape = kestrel_shape_to_string (pattern->n_dims, pattern->shape);
  if (pattern->name != NULL)
    return g_strdup_printf ("'%s' %s%s", pattern->name, kestrel_dtype_get_name (pattern->dtype), shape);
  return g_strdup_printf ("%s%s", kestrel_dtype_get_name (pattern->dtype), shape);
}

gboolean
kestrel_tensor_pattern_match_value (const KestrelTensorPattern *pattern, const KestrelValue *value,
                                    char **why)
{
  if (pattern->name != NULL && g_strcmp0 (pattern->name, value->name) != 0)
    {
      *why = g_strdup_printf ("'%s' is not named '%s'", value->name, pattern->name);
      return FALSE;
    }

  gboolean ok = value->has_type && value->has_shape && value->dtype == pattern->dtype
                && value->n_dims == pattern->n_dims;
  for (guint d = 0; ok && d < pattern->n_dims; d++)
    ok = pattern->shape[d] < 0 || pattern->shape[d] == value->shape[d];
  if (!ok)
    {
      g_autofree char *want = kestrel_tensor_pattern_describe (pattern);
      g_autofree char *have = value->has_shape ? kestrel_shape_to_string (value->n_dims, value->shape)
                                               : g_strdup ("[?]");
      *why = g_strdup_printf ("'%s' is %s%s, expected %s", value->name,
                              value->has_type ? kestrel_dtype_get_name (value->dtype) : "?", have, want);
    }
  return ok;
}

/* Backtracking: a greedy pass could give an early pattern the only value a
 * later one fits. Decoders have a handful of patterns, so this is cheap. */
static gboolean
assign_from (const KestrelTensorPattern *patterns, guint n_patterns, guint p,
             const KestrelValue *const *values, guint n_values, gboolean *used, guint *assigned)
{
  if (p == n_patterns)
    return TRUE;
  for (guint v = 0; v < n_values; v++)
    {
      g_autofree char *why = NULL;

      if (used[v] || !kestrel_tensor_pattern_match_value (&patterns[p], values[v], &why))
        continue;
      used[v] = TRUE;
      assigned[p] = v;
      if (assign_from (patterns, n_patterns, p + 1, values, n_values, used, assigned))
        return TRUE;
      used[v] = FALSE;
    }
  return FALSE;
}

gboolean
kestrel_tensor_patterns_assign (const KestrelTensorPattern *patterns, guint n_patterns,
                                const KestrelValue *const *values, guint n_values, guint *assigned,
                                char **why)
{
  g_autofree gboolean *used = g_new0 (gboolean, n_values + 1);

  if (assign_from (patterns, n_patterns, 0, values, n_values, used, assigned))
    return TRUE;

  /* Say which pattern fits nothing, or else that they cannot all fit. */
  for (guint p = 0; p < n_patterns; p++)
    {
      g_autoptr(GString) reasons = g_string_new (NULL);
      gboolean any = FALSE;

      for (guint v = 0; v < n_values && !any; v++)
        {
          g_autofree char *one = NULL;
          any = kestrel_tensor_pattern_match_value (&patterns[p], values[v], &one);
          if (!any)
            g_string_append_printf (reasons, "%s%s", reasons->len > 0 ? ", " : "", one);
        }
      if (!any)
        {
          g_autofree char *want = kestrel_tensor_pattern_describe (&patterns[p]);
          *why = g_strdup_printf ("nothing is %s (%s)", want, n_values > 0 ? reasons->str : "there are none");
          return FALSE;
        }
    }
  *why = g_strdup_printf ("%u expected, but they do not all fit the %u there are", n_patterns, n_values);
  return FALSE;
}

/* ---- Binding a decoder to a model ------------------------------------------ */

KestrelTaskDecoder *
kestrel_task_decoder_new (const KestrelTaskDecoderVTable *vtable, KestrelModel *model, GError **error)
{
  g_return_val_if_fail (vtable != NULL, NULL);
  g_return_val_if_fail (model != NULL, NULL);

  guint n_in = kestrel_model_get_n_inputs (model), n_out = kestrel_model_get_n_outputs (model);
  g_autofree const KestrelValue **ins = g_new0 (const KestrelValue *, n_in + 1);
  g_autofree const KestrelValue **outs = g_new0 (const KestrelValue *, n_out + 1);
  g_autofree const KestrelValue **matched_in = g_new0 (const KestrelValue *, vtable->n_inputs + 1);
  g_autofree const KestrelValue **matched_out = g_new0 (const KestrelValue *, vtable->n_outputs + 1);
  g_autofree guint *in_index = g_new0 (guint, vtable->n_inputs + 1);
  g_autofree guint *out_index = g_new0 (guint, vtable->n_outputs + 1);
  g_autofree char *why = NULL;
  g_autoptr(GError) local_error = NULL;

  for (guint i = 0; i < n_in; i++)
    ins[i] = kestrel_model_get_input (model, i);
  for (guint i = 0; i < n_out; i++)
    outs[i] = kestrel_model_get_output (model, i);

  if (!kestrel_tensor_patterns_assign (vtable->inputs, vtable->n_inputs, ins, n_in, in_index, &why)
      || !kestrel_tensor_patterns_assign (vtable->outputs, vtable->n_outputs, outs, n_out, out_index, &why))
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                   "%s: task decoder '%s' does not apply: %s", kestrel_model_get_origin (model),
                   vtable->name, why);
      return NULL;
    }
  for (guint i = 0; i < vtable->n_inputs; i++)
    matched_in[i] = ins[in_index[i]];
  for (guint i = 0; i < vtable->n_outputs; i++)
    matched_out[i] = outs[out_index[i]];

  kk_model_input_params params = { 0 };
  gpointer state = vtable->create (matched_in, matched_out, &params, &local_error);
  if (state == NULL)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED, "%s: task decoder '%s': %s",
                   kestrel_model_get_origin (model), vtable->name,
                   local_error != NULL ? local_error->message : "cannot decode this model");
      return NULL;
    }

  KestrelTaskDecoder *self = g_new0 (KestrelTaskDecoder, 1);
  self->vtable = vtable;
  self->model = kestrel_model_ref (model);
  self->state = state;
  self->image_input = in_index[0];
  self->output_index = g_steal_pointer (&out_index);
  self->views = g_new0 (const KestrelTensorView *, vtable->n_outputs + 1);
  self->input_params = params;
  return self;
}

void
kestrel_task_decoder_free (KestrelTaskDecoder *self)
{
  if (self == NULL)
    return;
  self->vtable->destroy (self->state);
  kestrel_model_unref (self->model);
  g_free (self->output_index);
  g_free (self->views);
  g_free (self);
}

const KestrelTaskDecoderVTable *
kestrel_task_decoder_get_vtable (const KestrelTaskDecoder *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->vtable;
}

guint
kestrel_task_decoder_get_image_input (const KestrelTaskDecoder *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->image_input;
}

void
kestrel_task_decoder_get_input_params (const KestrelTaskDecoder *self, gboolean letterbox,
                                       kk_model_input_params *params)
{
  g_return_if_fail (self != NULL && params != NULL);
  *params = self->input_params;
  params->letterbox = letterbox;
}

/* A view must have exactly the shape of the model output it stands for. */
static gboolean
view_matches (const KestrelTensorView *view, const KestrelValue *value)
{
  if (view == NULL || view->data == NULL || view->dtype != value->dtype || view->n_dims != value->n_dims)
    return FALSE;
  for (guint d = 0; d < value->n_dims; d++)
    if (view->shape[d] != value->shape[d])
      return FALSE;
  return TRUE;
}

/* A decoder that reads none of the outputs leaves them to the summary
 * (kestrel-output-summary.h): what the preview and `kestrel-cli run` show
 * of a model no decoder understands. Float outputs only. */
static void
summarise_outputs (KestrelTaskDecoder *self, const KestrelTensorView *const *model_outputs, guint n_model_outputs,
                   KestrelDetections *results)
{
  KestrelSummaryInput inputs[KESTREL_SUMMARY_MAX_OUTPUTS];
  guint n = 0;

  for (guint o = 0; o < n_model_outputs && n < KESTREL_SUMMARY_MAX_OUTPUTS; o++)
    {
      const KestrelTensorView *view = model_outputs[o];
      if (view == NULL || view->dtype != KESTREL_DTYPE_FLOAT32 || view->data == NULL)
        continue;
      inputs[n++] = (KestrelSummaryInput) {
        .name = o < kestrel_model_get_n_outputs (self->model) ? kestrel_model_get_output (self->model, o)->name : NULL,
        .n_dims = view->n_dims,
        .shape = view->shape,
        .data = view->data,
        .n_elements = view->n_elements,
      };
    }
  if (n > 0)
    kestrel_output_summary_compute (kestrel_detections_ensure_summary (results), inputs, n);
}

gboolean
kestrel_task_decoder_decode (KestrelTaskDecoder *self, const KestrelTensorView *const *model_outputs,
                             guint n_model_outputs, const KestrelFrameInfo *frame,
                             const KestrelDecodeOptions *options, KestrelDetections *results,
                             GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (model_outputs != NULL || n_model_outputs == 0, FALSE);
  g_return_val_if_fail (frame != NULL, FALSE);
  g_return_val_if_fail (results != NULL, FALSE);

  const KestrelTaskDecoderVTable *vt = self->vtable;
  KestrelDecodeOptions resolved;

  if (options != NULL)
    resolved = *options;
  else
    kestrel_decode_options_init (&resolved);
  if (resolved.score_threshold < 0.0f)
    resolved.score_threshold = vt->default_score_threshold;
  if (resolved.overlap_threshold < 0.0f)
    resolved.overlap_threshold = vt->default_overlap_threshold;

  kestrel_detections_clear (results);
  kestrel_detections_set_frame_size (results, frame->width, frame->height);

  for (guint p = 0; p < vt->n_outputs; p++)
    {
      guint o = self->output_index[p];
      const KestrelValue *value = kestrel_model_get_output (self->model, o);

      if (o >= n_model_outputs || !view_matches (model_outputs[o], value))
        {
          g_autofree char *want = kestrel_shape_to_string (value->n_dims, value->shape);
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                       "task decoder '%s': output %u ('%s') is missing or not %s%s", vt->name, o,
                       value->name, kestrel_dtype_get_name (value->dtype), want);
          return FALSE;
        }
      self->views[p] = model_outputs[o];
    }

  if (!vt->decode (self->state, self->views, frame, &resolved, results, error))
    return FALSE;
  if (vt->n_outputs == 0)
    summarise_outputs (self, model_outputs, n_model_outputs, results);

  kestrel_detections_sort (results);
  if (resolved.max_detections > 0)
    kestrel_detections_truncate (results, resolved.max_detections);
  return TRUE;
}

/* Plans keep the model's output order; at most a few outputs, so the
 * callers' small arrays on the stack keep the hot path allocation-free. */
#define MAX_PLAN_OUTPUTS 16

static gboolean
check_plan_outputs (KestrelTaskDecoder *self, guint n, GError **error)
{
  if (n <= MAX_PLAN_OUTPUTS)
    return TRUE;
  g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
               "task decoder '%s': the plan has %u outputs, at most %u are supported",
               self->vtable->name, n, (guint) MAX_PLAN_OUTPUTS);
  return FALSE;
}

gboolean
kestrel_task_decoder_decode_plan (KestrelTaskDecoder *self, KestrelPlan *plan,
                                  const KestrelFrameInfo *frame, const KestrelDecodeOptions *options,
                                  KestrelDetections *results, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (plan != NULL, FALSE);

  const KestrelTensorView *views[MAX_PLAN_OUTPUTS];
  guint n = kestrel_plan_get_n_outputs (plan);

  if (!check_plan_outputs (self, n, error))
    return FALSE;
  for (guint i = 0; i < n; i++)
    views[i] = kestrel_plan_get_output (plan, i);
  return kestrel_task_decoder_decode (self, views, n, frame, options, results, error);
}

gboolean
kestrel_task_decoder_decode_plan_item (KestrelTaskDecoder *self, KestrelPlan *plan, guint item,
                                       const KestrelFrameInfo *frame, const KestrelDecodeOptions *options,
                                       KestrelDetections *results, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (plan != NULL, FALSE);

  KestrelTensorView slices[MAX_PLAN_OUTPUTS];
  const KestrelTensorView *views[MAX_PLAN_OUTPUTS];
  guint n = kestrel_plan_get_n_outputs (plan);

  if (!check_plan_outputs (self, n, error))
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      if (!kestrel_plan_get_output_slice (plan, i, item, &slices[i]))
        {
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                       "task decoder '%s': output %u ('%s') has no item %u in a batch of %u",
                       self->vtable->name, i, kestrel_plan_get_output_name (plan, i), item,
                       kestrel_plan_get_batch (plan));
          return FALSE;
        }
      views[i] = &slices[i];
    }
  return kestrel_task_decoder_decode (self, views, n, frame, options, results, error);
}
