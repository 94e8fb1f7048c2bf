/* kestrel-agreement.h — how one frame's detections at a lower precision
 * agree with FP32's (KestrelAgreement, kestrel-metrics.h).
 *
 * The engine runs one frame in every agreement_interval on an FP32 plan as
 * well when it runs at INT8, decodes both and compares them here; the
 * result goes into the metrics (snapshot, Prometheus gauges, the window's
 * graph line).
 */
#pragma once

#include "kestrel-detection.h"
#include "kestrel-metrics.h"

G_BEGIN_DECLS

/* The most detections per side compared; more count as unmatched. Bounds
 * the work and keeps it free of allocations (a frame has a few faces). */
#define KESTREL_AGREEMENT_MAX_DETECTIONS 256

/* Matches each FP32 detection, in order (decoders give them highest score
 * first), to the unmatched detection of `other` with the same label and
 * the largest IoU, when that IoU is at least KESTREL_AGREEMENT_MIN_IOU. */
void kestrel_agreement_compare (const KestrelDetections *fp32, const KestrelDetections *other,
                                KestrelAgreement *out);

/* The same with a stricter match: IoU at least `min_iou` and scores within
 * `max_score_difference` of each other (INFINITY: any). The benchmark's
 * "faces agreeing" uses 0.9 and 0.05. */
void kestrel_agreement_compare_within (const KestrelDetections *fp32, const KestrelDetections *other,
                                       double min_iou, double max_score_difference, KestrelAgreement *out);

/* INT8's accuracy goal (issue 12), for one frame: every `fp32` detection
 * scoring at least `threshold` has a detection in `other` overlapping it
 * with IoU >= KESTREL_AGREEMENT_GOAL_IOU and a score within
 * KESTREL_AGREEMENT_GOAL_SCORE of it, and every `other` detection scoring
 * at least `threshold` overlaps an `fp32` one (IoU >= 0.5): nothing found
 * that FP32 does not find. Decode both below the threshold (at
 * KESTREL_AGREEMENT_GOAL_DECODE x threshold), so that a detection just
 * under it on one side is there to be matched. */
#define KESTREL_AGREEMENT_GOAL_IOU 0.9f
#define KESTREL_AGREEMENT_GOAL_SCORE 0.05f
#define KESTREL_AGREEMENT_GOAL_DECODE 0.6f
gboolean kestrel_agreement_meets_goal (const KestrelDetections *fp32, const KestrelDetections *other,
                                       float threshold);

G_END_DECLS
