/* kestrel-detection.c — detection result lists. */
#include "config.h"

#include "kestrel-detection.h"

struct _KestrelDetections {
  gatomicrefcount ref_count;
  GArray *items;              /* KestrelDetection */
  guint frame_width, frame_height;
  KestrelOutputSummary *summary;  /* NULL until a decoder summarises outputs */
};

G_DEFINE_BOXED_TYPE (KestrelDetections, kestrel_detections,
                     kestrel_detections_ref, kestrel_detections_unref)

float
kestrel_detection_iou (const KestrelDetection *a, const KestrelDetection *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, 0.0f);

  if (!(a->width > 0.0f && a->height > 0.0f && b->width > 0.0f && b->height > 0.0f))
    return 0.0f;

  float x0 = MAX (a->x, b->x), y0 = MAX (a->y, b->y);
  float x1 = MIN (a->x + a->width, b->x + b->width);
  float y1 = MIN (a->y + a->height, b->y + b->height);
  if (x1 <= x0 || y1 <= y0)
    return 0.0f;

  float inter = (x1 - x0) * (y1 - y0);
  float uni = a->width * a->height + b->width * b->height - inter;
  return uni > 0.0f ? inter / uni : 0.0f;
}

KestrelDetections *
kestrel_detections_new (void)
{
  KestrelDetections *self = g_new0 (KestrelDetections, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->items = g_array_new (FALSE, TRUE, sizeof (KestrelDetection));
  return self;
}

KestrelDetections *
kestrel_detections_ref (KestrelDetections *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
kestrel_detections_unref (KestrelDetections *self)
{
  g_return_if_fail (self != NULL);
  if (g_atomic_ref_count_dec (&self->ref_count))
    {
      g_array_unref (self->items);
      g_free (self->summary);
      g_free (self);
    }
}

void
kestrel_detections_clear (KestrelDetections *self)
{
  g_return_if_fail (self != NULL);
  g_array_set_size (self->items, 0);
  if (self->summary != NULL)
    self->summary->kind = KESTREL_SUMMARY_NONE;
}

const KestrelOutputSummary *
kestrel_detections_get_summary (const KestrelDetections *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->summary != NULL && self->summary->kind != KESTREL_SUMMARY_NONE ? self->summary : NULL;
}

KestrelOutputSummary *
kestrel_detections_ensure_summary (KestrelDetections *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  if (self->summary == NULL)
    self->summary = g_new0 (KestrelOutputSummary, 1);
  return self->summary;
}

KestrelDetection *
kestrel_detections_append (KestrelDetections *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  /* g_array_set_size zero-fills (the array was made with clear_ = TRUE)
   * and keeps the capacity it already has. */
  g_array_set_size (self->items, self->items->len + 1);
  return &g_array_index (self->items, KestrelDetection, self->items->len - 1);
}

guint
kestrel_detections_get_n (const KestrelDetections *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->items->len;
}

const KestrelDetection *
kestrel_detections_get (const KestrelDetections *self, guint i)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (i < self->items->len, NULL);
  return &g_array_index (self->items, KestrelDetection, i);
}

static gint
compare_score_desc (gconstpointer a, gconstpointer b)
{
  float sa = ((const KestrelDetection *) a)->score, sb = ((const KestrelDetection *) b)->score;
  return (sa < sb) - (sa > sb);
}

void
kestrel_detections_sort (KestrelDetections *self)
{
  g_return_if_fail (self != NULL);
  /* g_array_sort is a stable merge sort, so ties keep decoder order. */
  g_array_sort (self->items, compare_score_desc);
}

void
kestrel_detections_truncate (KestrelDetections *self, guint n)
{
  g_return_if_fail (self != NULL);
  if (n < self->items->len)
    g_array_set_size (self->items, n);
}

void
kestrel_detections_set_frame_size (KestrelDetections *self, guint width, guint height)
{
  g_return_if_fail (self != NULL);
  self->frame_width = width;
  self->frame_height = height;
}

guint
kestrel_detections_get_frame_width (const KestrelDetections *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->frame_width;
}

guint
kestrel_detections_get_frame_height (const KestrelDetections *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->frame_height;
}
