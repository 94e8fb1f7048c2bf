/* blazeface-decode.h — raw BlazeFace outputs to faces.
 *
 * Per anchor the model gives one raw score and 16 numbers: the box centre
 * offset and size (x, y, w, h), then 6 keypoints (x, y), all in input
 * pixels relative to the anchor (MediaPipe's "reverse output order": x
 * before y). Decoding, as MediaPipe's tensors-to-detections step does it
 * for this model:
 *
 *   score   = sigmoid (clamp (raw, -100, 100))
 *   centre  = raw[0..1] / input size + anchor centre
 *   size    = raw[2..3] / input size          (anchors are 1 x 1)
 *   point k = raw[4+2k .. 5+2k] / input size + anchor centre
 *
 * in fractions of the input tensor. Candidates scoring below the threshold
 * are dropped, then weighted non-maximum suppression merges the rest: the
 * best remaining candidate and every remaining one overlapping it by more
 * than the threshold (IoU) become one face, whose box and keypoints are the
 * score-weighted mean of the group and whose score is the best one's.
 *
 * Keypoints, from the subject's point of view: right eye, left eye, nose
 * tip, mouth centre, right ear tragion, left ear tragion.
 */
#pragma once

#include <glib.h>

#include "blazeface-anchors.h"
#include "kestrel-detection.h"
#include "kestrel-kernels.h"

G_BEGIN_DECLS

#define BF_N_KEYPOINTS 6
#define BF_N_COORDS (4 + 2 * BF_N_KEYPOINTS)
#define BF_SCORE_CLIP 100.0f

typedef struct {
  float score;
  guint anchor;                         /* ties in score go to the lower index */
  float xmin, ymin, xmax, ymax;         /* fractions of the input */
  float keypoints[BF_N_KEYPOINTS][2];
} BfCandidate;

float bf_sigmoid_clipped (float raw);

/* One head: anchors[i] goes with raw_scores[i] and raw_boxes[i * 16]. Appends
 * the candidates scoring at least min_score to out (room for n) and returns
 * how many it appended. `first_anchor` numbers them. */
guint bf_decode_head (const BfAnchor *anchors, guint n, guint first_anchor, const float *raw_scores,
                      const float *raw_boxes, float input_width, float input_height, float min_score,
                      BfCandidate *out);

/* IoU of two candidates' boxes; 0 when either is empty. */
float bf_candidate_iou (const BfCandidate *a, const BfCandidate *b);

/* Merges cands as described above into out (room for n; must not alias
 * cands), taking them best first. `order` is scratch for n indices; cands
 * is not changed. Returns how many faces, best first. */
guint bf_weighted_nms (const BfCandidate *cands, guint n, float overlap_threshold, guint *order,
                       BfCandidate *out);

/* A candidate (fractions of a width x height input) as a detection in frame
 * pixels, through the geometry of the model input. */
void bf_candidate_to_detection (const BfCandidate *c, float input_width, float input_height,
                                const kk_model_input_geometry *geometry, KestrelDetection *d);

G_END_DECLS
