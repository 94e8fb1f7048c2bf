/* kestrel-detection.h — what a detection task decoder produces.
 *
 * A KestrelDetection is a plain value: a score, a label, a box and up to
 * KESTREL_DETECTION_MAX_KEYPOINTS keypoints, all in the pixels of the frame
 * that was fed to the model (not the model's input tensor). A face from
 * BlazeFace is a detection with label 0 ("face") and 6 keypoints; the
 * decoder that made it names its labels and keypoints.
 *
 * KestrelDetections is the result list of one frame. It is reusable: clearing
 * keeps its memory, so a pipeline decoding frame after frame into the same
 * list stops allocating once it has seen its largest frame. It is
 * ref-counted (and a boxed type) so a result can be handed to the UI thread
 * as it is; it is not locked, so only one thread may change it.
 */
#pragma once

#include <glib-object.h>

#include "kestrel-output-summary.h"

G_BEGIN_DECLS

/* BlazeFace has 6; pose or hand models that need more will raise this (it
 * changes the size of KestrelDetection, and so KESTREL_PLUGIN_API_VERSION). */
#define KESTREL_DETECTION_MAX_KEYPOINTS 8

typedef struct {
  float x, y;
} KestrelPoint;

typedef struct {
  float score;               /* 0..1 */
  guint label;               /* index into the decoder's labels */
  /* Top-left corner and size, in frame pixels. Not clipped to the frame:
   * a face half out of the picture keeps its true extent. */
  float x, y, width, height;
  guint n_keypoints;
  KestrelPoint keypoints[KESTREL_DETECTION_MAX_KEYPOINTS];
} KestrelDetection;

/* Intersection over union of two boxes; 0 when either is empty. */
float kestrel_detection_iou (const KestrelDetection *a, const KestrelDetection *b);

#define KESTREL_TYPE_DETECTIONS (kestrel_detections_get_type ())

typedef struct _KestrelDetections KestrelDetections;

GType               kestrel_detections_get_type   (void) G_GNUC_CONST;
KestrelDetections  *kestrel_detections_new        (void);
KestrelDetections  *kestrel_detections_ref        (KestrelDetections       *self);
void                kestrel_detections_unref      (KestrelDetections       *self);

/* Empties the list, keeping its memory and the frame size. */
void                kestrel_detections_clear      (KestrelDetections       *self);
/* Appends a zero-filled detection and returns it to be filled in; the
 * pointer is valid until the next append or clear. */
KestrelDetection   *kestrel_detections_append     (KestrelDetections       *self);
guint               kestrel_detections_get_n      (const KestrelDetections *self);
const KestrelDetection *kestrel_detections_get    (const KestrelDetections *self,
                                                   guint                    i);
/* Highest score first; equal scores keep their order. */
void                kestrel_detections_sort       (KestrelDetections       *self);
/* Keeps the first n. */
void                kestrel_detections_truncate   (KestrelDetections       *self,
                                                   guint                    n);

/* The frame the detections are in (set by the decoder). */
void                kestrel_detections_set_frame_size (KestrelDetections *self,
                                                       guint              width,
                                                       guint              height);
guint               kestrel_detections_get_frame_width  (const KestrelDetections *self);
guint               kestrel_detections_get_frame_height (const KestrelDetections *self);

/* For models no task decoder understands: what their outputs say (see
 * kestrel-output-summary.h), or NULL. Cleared with the detections; the
 * storage is made on first use and kept. */
const KestrelOutputSummary *kestrel_detections_get_summary    (const KestrelDetections *self);
KestrelOutputSummary       *kestrel_detections_ensure_summary (KestrelDetections       *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KestrelDetections, kestrel_detections_unref)

G_END_DECLS
