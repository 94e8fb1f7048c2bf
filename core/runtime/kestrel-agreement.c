/* kestrel-agreement.c — see kestrel-agreement.h. */
#include "config.h"

#include "kestrel-agreement.h"

#include <math.h>
#include <string.h>

void
kestrel_agreement_compare (const KestrelDetections *fp32, const KestrelDetections *other,
                           KestrelAgreement *out)
{
  kestrel_agreement_compare_within (fp32, other, KESTREL_AGREEMENT_MIN_IOU, (double) INFINITY, out);
}

void
kestrel_agreement_compare_within (const KestrelDetections *fp32, const KestrelDetections *other,
                                  double min_iou, double max_score_difference, KestrelAgreement *out)
{
  gboolean used[KESTREL_AGREEMENT_MAX_DETECTIONS] = { FALSE };
  guint n_ref = MIN (kestrel_detections_get_n (fp32), KESTREL_AGREEMENT_MAX_DETECTIONS);
  guint n_other = MIN (kestrel_detections_get_n (other), KESTREL_AGREEMENT_MAX_DETECTIONS);
  double iou_sum = 0;

  memset (out, 0, sizeof *out);
  out->fp32_faces = kestrel_detections_get_n (fp32);
  for (guint i = 0; i < n_ref; i++)
    {
      const KestrelDetection *a = kestrel_detections_get (fp32, i);
      double best = 0;
      guint best_j = G_MAXUINT;

      for (guint j = 0; j < n_other; j++)
        {
          const KestrelDetection *b = kestrel_detections_get (other, j);
          double iou;
          if (used[j] || b->label != a->label
              || fabs ((double) a->score - (double) b->score) > max_score_difference)
            continue;
          iou = (double) kestrel_detection_iou (a, b);
          if (iou >= min_iou && iou > best)
            {
              best = iou;
              best_j = j;
            }
        }
      if (best_j == G_MAXUINT)
        continue;
      used[best_j] = TRUE;
      out->matched_faces++;
      iou_sum += best;
      out->max_score_difference = MAX (out->max_score_difference,
                                       fabs ((double) a->score - (double) kestrel_detections_get (other, best_j)->score));
    }
  out->extra_faces = kestrel_detections_get_n (other) - out->matched_faces;
  out->mean_iou = out->matched_faces > 0 ? iou_sum / out->matched_faces : (double) NAN;
}

/* The detection of `among` overlapping `d` most, or NULL; *iou its IoU. */
static const KestrelDetection *
best_overlap (const KestrelDetections *among, const KestrelDetection *d, float *iou)
{
  const KestrelDetection *best = NULL;

  *iou = 0.0f;
  for (guint i = 0; i < kestrel_detections_get_n (among); i++)
    {
      const KestrelDetection *e = kestrel_detections_get (among, i);
      float o = kestrel_detection_iou (d, e);
      if (o > *iou)
        {
          *iou = o;
          best = e;
        }
    }
  return best;
}

gboolean
kestrel_agreement_meets_goal (const KestrelDetections *fp32, const KestrelDetections *other, float threshold)
{
  float iou;

  for (guint i = 0; i < kestrel_detections_get_n (fp32); i++)
    {
      const KestrelDetection *f = kestrel_detections_get (fp32, i);
      const KestrelDetection *g;
      if (f->score < threshold)
        continue;
      g = best_overlap (other, f, &iou);
      if (g == NULL || iou < KESTREL_AGREEMENT_GOAL_IOU || fabsf (g->score - f->score) > KESTREL_AGREEMENT_GOAL_SCORE)
        return FALSE;
    }
  for (guint i = 0; i < kestrel_detections_get_n (other); i++)
    {
      const KestrelDetection *g = kestrel_detections_get (other, i);
      if (g->score >= threshold && (best_overlap (fp32, g, &iou) == NULL || iou < 0.5f))
        return FALSE;
    }
  return TRUE;
}
