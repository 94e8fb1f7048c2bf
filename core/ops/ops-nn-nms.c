/* ops-nn-nms.c — NonMaxSuppression (opsets 10 to 21), ONNX semantics.
 *
 * For each batch and class, the boxes whose score is above
 * score_threshold are taken in order of falling score (ties: the lower box
 * index first), and a box is kept when its IoU with every box kept before
 * is at most iou_threshold, until max_output_boxes_per_class are kept. The
 * output lists [batch, class, box] rows, batch by batch, class by class, in
 * the order they were kept. Boxes are corners [y1, x1, y2, x2] (either
 * diagonal) or, with center_point_box = 1, [x_center, y_center, width,
 * height]; a box of no area overlaps nothing.
 *
 * The number of rows depends on the scores, and Kestrel plans static
 * shapes: the operator runs when boxes, scores and thresholds are
 * constants (a folding pass evaluates it), and otherwise says why it
 * cannot. Detection models are decoded by task decoders, which do their own
 * (weighted) suppression on the raw outputs.
 */
#include "config.h"

#include "ops-nn.h"

#include <string.h>

#include "kestrel-error.h"

typedef struct {
  float y1, x1, y2, x2;
} Box;

static Box
read_box (const float *b, gboolean center)
{
  Box r;

  if (center)
    {
      r.x1 = b[0] - b[2] / 2;
      r.x2 = b[0] + b[2] / 2;
      r.y1 = b[1] - b[3] / 2;
      r.y2 = b[1] + b[3] / 2;
    }
  else
    {
      r.y1 = MIN (b[0], b[2]);
      r.y2 = MAX (b[0], b[2]);
      r.x1 = MIN (b[1], b[3]);
      r.x2 = MAX (b[1], b[3]);
    }
  return r;
}

static gboolean
iou_above (Box a, Box b, float threshold)
{
  float area_a = (a.y2 - a.y1) * (a.x2 - a.x1);
  float area_b = (b.y2 - b.y1) * (b.x2 - b.x1);
  float ih = MIN (a.y2, b.y2) - MAX (a.y1, b.y1);
  float iw = MIN (a.x2, b.x2) - MAX (a.x1, b.x1);
  float inter;

  if (area_a <= 0 || area_b <= 0 || ih <= 0 || iw <= 0)
    return FALSE;
  inter = ih * iw;
  return inter / (area_a + area_b - inter) > threshold;
}

typedef struct {
  const float *scores;
} ScoreOrder;

static gint
by_score (gconstpointer pa, gconstpointer pb, gpointer user_data)
{
  const ScoreOrder *o = user_data;
  gint64 a = *(const gint64 *) pa, b = *(const gint64 *) pb;
  float sa = o->scores[a], sb = o->scores[b];

  if (sa != sb)
    return sa > sb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

typedef struct {
  gint64 batches, classes, n_boxes;
  gint64 max_per_class;
  float iou_threshold, score_threshold;
  gboolean has_score_threshold, center;
} NmsParams;

/* Runs the suppression; writes up to `max_rows` rows into `rows` (may be
 * NULL) and returns how many there are. `work` holds 2 * n_boxes. */
static gsize
nms_select (const NmsParams *p, const float *boxes, const float *scores, gint64 *rows,
            gsize max_rows, gint64 *work)
{
  gint64 *order = work, *kept = work + p->n_boxes;
  gsize n_rows = 0;

  for (gint64 b = 0; b < p->batches; b++)
    for (gint64 c = 0; c < p->classes; c++)
      {
        const float *s = scores + (b * p->classes + c) * p->n_boxes;
        const float *bx = boxes + b * p->n_boxes * 4;
        ScoreOrder so = { s };
        gint64 n = 0, n_kept = 0;

        for (gint64 i = 0; i < p->n_boxes; i++)
          if (!p->has_score_threshold || s[i] > p->score_threshold)
            order[n++] = i;
        g_qsort_with_data (order, (gint) n, sizeof (gint64), by_score, &so);
        for (gint64 k = 0; k < n && n_kept < p->max_per_class; k++)
          {
            Box cand = read_box (bx + order[k] * 4, p->center);
            gboolean keep = TRUE;

            for (gint64 j = 0; j < n_kept && keep; j++)
              keep = !iou_above (cand, read_box (bx + kept[j] * 4, p->center), p->iou_threshold);
            if (!keep)
              continue;
            kept[n_kept++] = order[k];
            if (rows != NULL && n_rows < max_rows)
              {
                rows[n_rows * 3] = b;
                rows[n_rows * 3 + 1] = c;
                rows[n_rows * 3 + 2] = order[k];
              }
            n_rows++;
          }
      }
  return n_rows;
}

/* Reads the shapes and the optional scalar inputs (NULL data: absent). */
static void
nms_params (const KestrelNode *node, const KestrelTensorView *in, guint n_in, NmsParams *p)
{
  memset (p, 0, sizeof *p);
  p->batches = in[0].shape[0];
  p->n_boxes = in[0].shape[1];
  p->classes = in[1].shape[1];
  p->center = kestrel_node_attr_int (node, "center_point_box", 0) != 0;
  if (n_in > 2 && in[2].data != NULL)
    p->max_per_class = *(const gint64 *) in[2].data;
  if (n_in > 3 && in[3].data != NULL)
    p->iou_threshold = *(const float *) in[3].data;
  if (n_in > 4 && in[4].data != NULL)
    {
      p->score_threshold = *(const float *) in[4].data;
      p->has_score_threshold = TRUE;
    }
}

static gboolean
nms_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  static const char *const names[] = {
    "boxes", "scores", "max_output_boxes_per_class", "iou_threshold", "score_threshold",
  };
  static const KestrelDType i64[] = { KESTREL_DTYPE_INT64 };
  guint n_in = kestrel_node_n_inputs (node);
  KestrelTensorView views[5] = { 0 };
  const KestrelValue *boxes, *scores;
  NmsParams p;
  g_autoptr(KestrelTensor) result = NULL;
  g_autofree gint64 *work = NULL;
  gint64 shape[2];
  KestrelValue *out;

  if (!kestrel_op_check_arity (node, 2, 5, 1, error)
      || !kestrel_node_check_attr_type (node, "center_point_box", KESTREL_ATTR_INT, error)
      || (boxes = kestrel_op_input (graph, node, 0, error)) == NULL
      || !kestrel_op_check_float (node, 0, boxes, error)
      || (scores = kestrel_op_input (graph, node, 1, error)) == NULL
      || !kestrel_op_check_float (node, 1, scores, error))
    return FALSE;
  if (boxes->n_dims != 3 || boxes->shape[2] != 4 || scores->n_dims != 3
      || scores->shape[0] != boxes->shape[0] || scores->shape[2] != boxes->shape[1])
    {
      g_autofree char *bs = kestrel_shape_to_string (boxes->n_dims, boxes->shape);
      g_autofree char *ss = kestrel_shape_to_string (scores->n_dims, scores->shape);
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "boxes %s and scores %s do not match [batches, boxes, 4] and "
                              "[batches, classes, boxes]", bs, ss);
      return FALSE;
    }
  for (guint i = 0; i < MIN (n_in, 5); i++)
    {
      const KestrelValue *v;

      if (kestrel_node_input (node, i) < 0)
        continue;
      if ((v = kestrel_op_input (graph, node, i, error)) == NULL)
        return FALSE;
      if (i >= 2)
        {
          if ((i == 2 ? !kestrel_op_check_dtype (node, i, v, i64, 1, error)
                      : !kestrel_op_check_float (node, i, v, error)))
            return FALSE;
          if (kestrel_value_n_elements (v) != 1)
            {
              kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                      "%s '%s' must be a single value", names[i], v->name);
              return FALSE;
            }
        }
      if (v->constant == NULL)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                                  "input %u ('%s', %s) must be a constant (known when the "
                                  "model is loaded): the number of boxes kept decides the "
                                  "output's shape, and Kestrel plans static shapes", i, v->name,
                                  names[i]);
          return FALSE;
        }
      kestrel_tensor_view_init (&views[i], v);
    }

  /* Everything is known: the output is a constant. */
  nms_params (node, views, MIN (n_in, 5), &p);
  work = g_new (gint64, 2 * MAX (p.n_boxes, 1));
  shape[0] = (gint64) nms_select (&p, views[0].data, views[1].data, NULL, 0, work);
  shape[1] = 3;
  result = kestrel_tensor_new (KESTREL_DTYPE_INT64, 2, shape, error);
  if (result == NULL)
    return FALSE;
  nms_select (&p, views[0].data, views[1].data, kestrel_tensor_get_data (result),
              (gsize) shape[0], work);
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_INT64, 2, shape);
  out = kestrel_graph_value (graph, kestrel_node_output (node, 0));
  g_clear_pointer (&out->constant, kestrel_tensor_unref);
  out->constant = g_steal_pointer (&result);
  return TRUE;
}

/* Only runs if a graph keeps the node (folding normally drops it); the
 * inputs are the constants infer() saw, so this writes the same rows. */
static gboolean
nms_prepare (KestrelStep *step, GError **error G_GNUC_UNUSED)
{
  step->scratch_bytes = 2 * (gsize) MAX (step->inputs[0].shape[1], 1) * sizeof (gint64);
  return TRUE;
}

static void
nms_run (const KestrelStep *step)
{
  NmsParams p;

  nms_params (step->node, step->inputs, MIN (step->n_inputs, 5), &p);
  nms_select (&p, step->inputs[0].data, step->inputs[1].data, step->outputs[0].data,
              (gsize) step->outputs[0].shape[0], step->scratch);
}

const KestrelOpDef kestrel_op_non_max_suppression = {
  .domain = "",
  .op_type = "NonMaxSuppression",
  .min_opset = 10,
  .max_opset = 21,
  .infer = nms_infer,
  .prepare = nms_prepare,
  .run = nms_run,
};
