/* ops-pad-axis.c — kestrel.PadAxis: zeros before and after X along one
 * axis.
 *
 *   kestrel.PadAxis   X float32; attributes axis, before, after (>= 0).
 *                     Y = Concat (zeros, X, zeros) along axis, the zeros
 *                     `before` and `after` wide.
 *
 * What kestrel-passes-pad.c turns channel-padding Concats into: the same
 * output, without a constant of zeros among the plan's weights. In NHWC the
 * padded axis is the last, so each pixel is one copy and one short fill; in
 * general each index of the axes before `axis` is a run of zeros, X's run
 * and zeros again. Exact (copies and +0.0), so the same bits at every
 * level.
 */
#include "config.h"

#include <string.h>

#include "kestrel-error.h"
#include "kestrel-op-util.h"
#include "kestrel-ops-registry.h"

/* Output floats per work item. */
#define CHUNK 16384

static gboolean
pad_axis_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x;
  gint64 before = kestrel_node_attr_int (node, "before", 0), after = kestrel_node_attr_int (node, "after", 0);
  gint64 shape[KESTREL_TENSOR_MAX_DIMS];
  guint axis;

  if (!kestrel_op_check_arity (node, 1, 1, 1, error) || (x = kestrel_op_input (graph, node, 0, error)) == NULL
      || !kestrel_op_check_float (node, 0, x, error)
      || !kestrel_op_axis (node, kestrel_node_attr_int (node, "axis", 0), x->n_dims, &axis, error))
    return FALSE;
  if (before < 0 || after < 0 || before > G_MAXINT32 || after > G_MAXINT32)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "before (%" G_GINT64_FORMAT ") and after (%" G_GINT64_FORMAT ") must be "
                              "between 0 and 2^31 - 1", before, after);
      return FALSE;
    }
  memcpy (shape, x->shape, x->n_dims * sizeof (gint64));
  shape[axis] += before + after;
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_FLOAT32, x->n_dims, shape);
  return TRUE;
}

typedef struct {
  gsize outer;      /* product of the dimensions before the axis */
  gsize x_run;      /* X's floats per outer index */
  gsize before;     /* zeros per outer index, before and after X's run */
  gsize after;
  gsize per_chunk;  /* outer indices per work item */
} PadAxisState;

static gboolean
pad_axis_prepare (KestrelStep *step, GError **error)
{
  const KestrelTensorView *x = &step->inputs[0], *y = &step->outputs[0];
  PadAxisState *s = g_new0 (PadAxisState, 1);
  guint axis;

  step->state = s;
  step->free_state = g_free;
  if (!kestrel_op_axis (step->node, kestrel_node_attr_int (step->node, "axis", 0), x->n_dims, &axis, error))
    return FALSE;
  gsize unit = kestrel_shape_product (x->shape, axis + 1, x->n_dims);
  s->outer = kestrel_shape_product (x->shape, 0, axis);
  s->x_run = unit * (gsize) x->shape[axis];
  s->before = unit * (gsize) kestrel_node_attr_int (step->node, "before", 0);
  s->after = unit * (gsize) kestrel_node_attr_int (step->node, "after", 0);
  s->per_chunk = MAX (1, CHUNK / MAX (kestrel_shape_product (y->shape, axis, y->n_dims), 1));
  return TRUE;
}

/* n zero floats. Channel padding adds a few floats per pixel, where a call
 * to memset per run costs more than the store: short runs copy from a
 * block of zeros with the inline copy instead. */
static inline void
zero_floats (float *y, gsize n)
{
  static const float zeros[64];

  if (n <= G_N_ELEMENTS (zeros))
    kestrel_op_copy_bytes (y, zeros, n * sizeof (float));
  else
    memset (y, 0, n * sizeof (float));
}

static void
pad_axis_chunk (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const PadAxisState *s = step->state;
  gsize o0 = begin * s->per_chunk, o1 = MIN (s->outer, end * s->per_chunk);
  const float *x = (const float *) step->inputs[0].data + o0 * s->x_run;
  float *y = (float *) step->outputs[0].data + o0 * (s->before + s->x_run + s->after);

  for (gsize o = o0; o < o1; o++, x += s->x_run)
    {
      zero_floats (y, s->before);
      y += s->before;
      kestrel_op_copy_bytes (y, x, s->x_run * sizeof (float));
      y += s->x_run;
      zero_floats (y, s->after);
      y += s->after;
    }
}

static void
pad_axis_run (const KestrelStep *step)
{
  const PadAxisState *s = step->state;

  kestrel_step_parallel_for (step, (s->outer + s->per_chunk - 1) / s->per_chunk, pad_axis_chunk, (gpointer) step);
}

static const KestrelOpDef op_pad_axis = {
  .domain = "kestrel",
  .op_type = "PadAxis",
  .min_opset = 1,
  .max_opset = G_MAXINT64,
  .infer = pad_axis_infer,
  .prepare = pad_axis_prepare,
  .run = pad_axis_run,
};

const KestrelOpDef *const kestrel_ops_pad_axis[] = {
  &op_pad_axis,
  NULL,
};
