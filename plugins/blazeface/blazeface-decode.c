/* blazeface-decode.c — scores, boxes, keypoints and weighted NMS. */
#include "config.h"

#include <math.h>

#include "blazeface-decode.h"

float
bf_sigmoid_clipped (float raw)
{
  /* MediaPipe clips the logit before the sigmoid so that exp() stays
   * finite whatever the model emits. */
  float x = raw < -BF_SCORE_CLIP ? -BF_SCORE_CLIP : raw > BF_SCORE_CLIP ? BF_SCORE_CLIP : raw;
  return 1.0f / (1.0f + expf (-x));
}

guint
bf_decode_head (const BfAnchor *anchors, guint n, guint first_anchor, const float *raw_scores,
                const float *raw_boxes, float input_width, float input_height, float min_score,
                BfCandidate *out)
{
  guint kept = 0;

  for (guint i = 0; i < n; i++)
    {
      const float *r = raw_boxes + (gsize) i * BF_N_COORDS;
      const BfAnchor *a = &anchors[i];
      gboolean finite = TRUE;

      /* A NaN score would clip to a certainty; treat it as no face. */
      if (isnan (raw_scores[i]))
        continue;
      float score = bf_sigmoid_clipped (raw_scores[i]);
      if (score < min_score)
        continue;
      for (guint k = 0; k < BF_N_COORDS; k++)
        finite = finite && isfinite (r[k]);
      if (!finite)
        continue;

      float cx = r[0] / input_width + a->x, cy = r[1] / input_height + a->y;
      float w = r[2] / input_width, h = r[3] / input_height;
      BfCandidate *c = &out[kept++];

      c->score = score;
      c->anchor = first_anchor + i;
      c->xmin = cx - 0.5f * w;
      c->ymin = cy - 0.5f * h;
      c->xmax = cx + 0.5f * w;
      c->ymax = cy + 0.5f * h;
      for (guint k = 0; k < BF_N_KEYPOINTS; k++)
        {
          c->keypoints[k][0] = r[4 + 2 * k] / input_width + a->x;
          c->keypoints[k][1] = r[5 + 2 * k] / input_height + a->y;
        }
    }
  return kept;
}

float
bf_candidate_iou (const BfCandidate *a, const BfCandidate *b)
{
  if (!(a->xmax > a->xmin && a->ymax > a->ymin && b->xmax > b->xmin && b->ymax > b->ymin))
    return 0.0f;

  float x0 = MAX (a->xmin, b->xmin), y0 = MAX (a->ymin, b->ymin);
  float x1 = MIN (a->xmax, b->xmax), y1 = MIN (a->ymax, b->ymax);
  if (x1 <= x0 || y1 <= y0)
    return 0.0f;

  float inter = (x1 - x0) * (y1 - y0);
  float area_a = (a->xmax - a->xmin) * (a->ymax - a->ymin);
  float area_b = (b->xmax - b->xmin) * (b->ymax - b->ymin);
  return inter / (area_a + area_b - inter);
}

/* Whether candidate i goes before j: higher score, then lower anchor, so
 * the order never depends on the sort. */
static inline gboolean
before (const BfCandidate *cands, guint i, guint j)
{
  if (cands[i].score != cands[j].score)
    return cands[i].score > cands[j].score;
  return cands[i].anchor < cands[j].anchor;
}

static void
sift_down (const BfCandidate *cands, guint *order, guint root, guint n)
{
  for (;;)
    {
      guint child = 2 * root + 1;
      if (child >= n)
        return;
      /* A heap with the last element to come at the top. */
      if (child + 1 < n && before (cands, order[child], order[child + 1]))
        child++;
      if (!before (cands, order[root], order[child]))
        return;
      guint t = order[root];
      order[root] = order[child];
      order[child] = t;
      root = child;
    }
}

/* Heap sort: no allocation and O(n log n) even when a threshold of 0 lets
 * all 896 anchors through. */
static void
sort_order (const BfCandidate *cands, guint *order, guint n)
{
  for (guint i = 0; i < n; i++)
    order[i] = i;
  for (guint i = n / 2; i-- > 0;)
    sift_down (cands, order, i, n);
  for (guint end = n; end-- > 1;)
    {
      guint t = order[0];
      order[0] = order[end];
      order[end] = t;
      sift_down (cands, order, 0, end);
    }
}

guint
bf_weighted_nms (const BfCandidate *cands, guint n, float overlap_threshold, guint *order, BfCandidate *out)
{
  guint n_out = 0;
  guint remaining = n;

  sort_order (cands, order, n);

  while (remaining > 0)
    {
      const BfCandidate *top = &cands[order[0]];
      double sum_w = 0.0, xmin = 0.0, ymin = 0.0, xmax = 0.0, ymax = 0.0;
      double kp[BF_N_KEYPOINTS][2] = { { 0.0 } };
      guint kept = 0;

      /* The group is the top one and whatever overlaps it; the rest stay
       * in order for the next round. The top always joins its own group
       * (even an empty box, whose IoU with itself is 0), so every round
       * removes at least one. */
      for (guint i = 0; i < remaining; i++)
        {
          const BfCandidate *c = &cands[order[i]];

          if (i > 0 && !(bf_candidate_iou (c, top) > overlap_threshold))
            {
              order[kept++] = order[i];
              continue;
            }
          double w = c->score;
          sum_w += w;
          xmin += w * (double) c->xmin;
          ymin += w * (double) c->ymin;
          xmax += w * (double) c->xmax;
          ymax += w * (double) c->ymax;
          for (guint k = 0; k < BF_N_KEYPOINTS; k++)
            {
              kp[k][0] += w * (double) c->keypoints[k][0];
              kp[k][1] += w * (double) c->keypoints[k][1];
            }
        }

      BfCandidate *m = &out[n_out++];
      *m = *top;
      if (sum_w > 0.0)
        {
          m->xmin = (float) (xmin / sum_w);
          m->ymin = (float) (ymin / sum_w);
          m->xmax = (float) (xmax / sum_w);
          m->ymax = (float) (ymax / sum_w);
          for (guint k = 0; k < BF_N_KEYPOINTS; k++)
            {
              m->keypoints[k][0] = (float) (kp[k][0] / sum_w);
              m->keypoints[k][1] = (float) (kp[k][1] / sum_w);
            }
        }
      remaining = kept;
    }
  return n_out;
}

void
bf_candidate_to_detection (const BfCandidate *c, float input_width, float input_height,
                           const kk_model_input_geometry *g, KestrelDetection *d)
{
  /* tensor = frame * scale + pad, in tensor pixels (see kestrel-kernels.h). */
#define FRAME_X(fx) (((fx) * input_width - g->pad_x) / g->scale_x)
#define FRAME_Y(fy) (((fy) * input_height - g->pad_y) / g->scale_y)
  float x0 = FRAME_X (c->xmin), y0 = FRAME_Y (c->ymin);
  float x1 = FRAME_X (c->xmax), y1 = FRAME_Y (c->ymax);

  d->score = c->score;
  d->label = 0;
  d->x = x0;
  d->y = y0;
  d->width = x1 - x0;
  d->height = y1 - y0;
  d->n_keypoints = BF_N_KEYPOINTS;
  for (guint k = 0; k < BF_N_KEYPOINTS; k++)
    {
      d->keypoints[k].x = FRAME_X (c->keypoints[k][0]);
      d->keypoints[k].y = FRAME_Y (c->keypoints[k][1]);
    }
#undef FRAME_X
#undef FRAME_Y
}
