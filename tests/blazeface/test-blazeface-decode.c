/* test-blazeface-decode.c — BlazeFace anchors, decoding and weighted NMS on
 * synthetic numbers (no inference needed).
 *
 * Expected values are worked out here from the definitions in
 * plugins/blazeface/blazeface-anchors.h and blazeface-decode.h, not taken
 * from the code under test.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "blazeface-anchors.h"
#include "blazeface-decode.h"
#include "kestrel-error.h"
#include "kestrel-kernels.h"

#define EPS 1e-6

static void
assert_anchor (const BfAnchor *a, double x, double y)
{
  g_assert_cmpfloat_with_epsilon (a->x, x, EPS);
  g_assert_cmpfloat_with_epsilon (a->y, y, EPS);
}

static void
check_blazeface_anchors (const BfAnchorOptions *o)
{
  BfAnchor anchors[896];

  g_assert_cmpuint (bf_anchors_count (o), ==, 896);
  g_assert_cmpuint (bf_anchors_generate (o, anchors, G_N_ELEMENTS (anchors)), ==, 896);

  /* Fine grid 16x16, 2 per cell, row by row. */
  assert_anchor (&anchors[0], 0.5 / 16, 0.5 / 16);
  assert_anchor (&anchors[1], 0.5 / 16, 0.5 / 16);
  assert_anchor (&anchors[2], 1.5 / 16, 0.5 / 16);
  assert_anchor (&anchors[32], 0.5 / 16, 1.5 / 16);
  assert_anchor (&anchors[511], 15.5 / 16, 15.5 / 16);
  /* Coarse grid 8x8, 6 per cell. */
  for (guint i = 512; i < 518; i++)
    assert_anchor (&anchors[i], 0.5 / 8, 0.5 / 8);
  assert_anchor (&anchors[518], 1.5 / 8, 0.5 / 8);
  assert_anchor (&anchors[512 + 6 * 8], 0.5 / 8, 1.5 / 8);
  assert_anchor (&anchors[895], 7.5 / 8, 7.5 / 8);
}

static void
test_anchors_front (void)
{
  BfAnchorOptions o;

  bf_anchor_options_front (&o);
  g_assert_cmpuint (o.input_width, ==, 128);
  check_blazeface_anchors (&o);
}

static void
test_anchors_back (void)
{
  BfAnchorOptions o;

  bf_anchor_options_back (&o);
  g_assert_cmpuint (o.input_width, ==, 256);
  check_blazeface_anchors (&o);
}

/* Deriving the grids from the output sizes gives MediaPipe's options. */
static void
test_anchors_derive (void)
{
  const guint counts[] = { 512, 384 }, layers[] = { 1, 3 };
  BfAnchorOptions derived, expected;
  g_autoptr(GError) error = NULL;

  for (guint m = 0; m < 2; m++)
    {
      if (m == 0)
        bf_anchor_options_front (&expected);
      else
        bf_anchor_options_back (&expected);
      g_assert_true (bf_anchor_options_derive (expected.input_width, expected.input_height, counts, layers, 2,
                                               &derived, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (derived.n_layers, ==, expected.n_layers);
      for (guint l = 0; l < expected.n_layers; l++)
        g_assert_cmpuint (derived.strides[l], ==, expected.strides[l]);
      g_assert_cmpuint (derived.anchors_per_layer, ==, expected.anchors_per_layer);
      g_assert_cmpfloat (derived.offset_x, ==, expected.offset_x);
    }
  g_assert_cmpuint (expected.strides[0], ==, 16);
  g_assert_cmpuint (expected.strides[3], ==, 32);

  /* 500 anchors do not make a grid of 2 per cell. */
  const guint bad[] = { 500, 384 };
  g_assert_false (bf_anchor_options_derive (128, 128, bad, layers, 2, &derived, &error));
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "500"));
}

static void
test_sigmoid (void)
{
  g_assert_cmpfloat_with_epsilon (bf_sigmoid_clipped (0.0f), 0.5, EPS);
  g_assert_cmpfloat_with_epsilon (bf_sigmoid_clipped (2.0f), 1.0 / (1.0 + exp (-2.0)), EPS);
  /* Clipped at +-100, so never exactly 0 or NaN. */
  g_assert_cmpfloat (bf_sigmoid_clipped (-1e30f), ==, bf_sigmoid_clipped (-100.0f));
  g_assert_cmpfloat (bf_sigmoid_clipped (1e30f), ==, 1.0f);
  g_assert_cmpfloat (bf_sigmoid_clipped (-INFINITY), >=, 0.0f);
}

static BfCandidate
box (float score, guint anchor, float x0, float y0, float x1, float y1)
{
  BfCandidate c = { .score = score, .anchor = anchor, .xmin = x0, .ymin = y0, .xmax = x1, .ymax = y1 };
  for (guint k = 0; k < BF_N_KEYPOINTS; k++)
    {
      c.keypoints[k][0] = x0 + 0.01f * (float) k;
      c.keypoints[k][1] = y0 + 0.02f * (float) k;
    }
  return c;
}

static void
test_iou (void)
{
  BfCandidate a = box (1, 0, 0, 0, 2, 2), b = box (1, 1, 1, 1, 3, 3), e = box (1, 2, 1, 1, 1, 2);

  g_assert_cmpfloat_with_epsilon (bf_candidate_iou (&a, &a), 1.0, EPS);
  g_assert_cmpfloat_with_epsilon (bf_candidate_iou (&a, &b), 1.0 / 7.0, EPS);
  g_assert_cmpfloat (bf_candidate_iou (&a, &e), ==, 0.0f);   /* empty box */
  BfCandidate far = box (1, 3, 5, 5, 6, 6);
  g_assert_cmpfloat (bf_candidate_iou (&a, &far), ==, 0.0f);
}

static void
test_nms_identical (void)
{
  BfCandidate cands[] = { box (0.6f, 7, 0.1f, 0.1f, 0.3f, 0.3f), box (0.9f, 3, 0.1f, 0.1f, 0.3f, 0.3f) };
  BfCandidate out[2];
  guint order[2];

  g_assert_cmpuint (bf_weighted_nms (cands, 2, 0.3f, order, out), ==, 1);
  g_assert_cmpfloat (out[0].score, ==, 0.9f);
  g_assert_cmpuint (out[0].anchor, ==, 3);
  g_assert_cmpfloat_with_epsilon (out[0].xmin, 0.1, EPS);
  g_assert_cmpfloat_with_epsilon (out[0].ymax, 0.3, EPS);
}

static void
test_nms_weighted (void)
{
  /* a and b overlap with IoU 0.6 / 1.4 (> 0.3) and merge; c is far. */
  BfCandidate cands[] = {
    box (0.8f, 1, 0.2f, 0.1f, 0.4f, 0.3f),
    box (0.9f, 0, 0.1f, 0.1f, 0.3f, 0.3f),
    box (0.7f, 2, 0.6f, 0.6f, 0.8f, 0.8f),
  };
  BfCandidate out[3];
  guint order[3];

  g_assert_cmpfloat (bf_candidate_iou (&cands[0], &cands[1]), >, 0.3f);
  g_assert_cmpuint (bf_weighted_nms (cands, 3, 0.3f, order, out), ==, 2);

  /* The best one's score, the score-weighted mean of the group's boxes
   * and keypoints. */
  double w0 = 0.9, w1 = 0.8, sum = w0 + w1;
  g_assert_cmpfloat (out[0].score, ==, 0.9f);
  g_assert_cmpfloat_with_epsilon (out[0].xmin, (w0 * 0.1 + w1 * 0.2) / sum, EPS);
  g_assert_cmpfloat_with_epsilon (out[0].xmax, (w0 * 0.3 + w1 * 0.4) / sum, EPS);
  g_assert_cmpfloat_with_epsilon (out[0].ymin, 0.1, EPS);
  g_assert_cmpfloat_with_epsilon (out[0].keypoints[5][0], (w0 * 0.15 + w1 * 0.25) / sum, EPS);
  g_assert_cmpfloat_with_epsilon (out[0].keypoints[5][1], 0.2, EPS);
  /* The far one is left alone. */
  g_assert_cmpfloat (out[1].score, ==, 0.7f);
  g_assert_cmpfloat_with_epsilon (out[1].xmin, 0.6, EPS);
}

static void
test_nms_threshold (void)
{
  /* IoU of a and b is exactly 1/3: merged at 0.3, kept apart at 0.34 (the
   * comparison is "more than"). */
  BfCandidate cands[] = { box (0.9f, 0, 0, 0, 2, 1), box (0.8f, 1, 1, 0, 3, 1) };
  BfCandidate out[2];
  guint order[2];

  g_assert_cmpfloat_with_epsilon (bf_candidate_iou (&cands[0], &cands[1]), 1.0 / 3.0, EPS);
  g_assert_cmpuint (bf_weighted_nms (cands, 2, 0.3f, order, out), ==, 1);
  g_assert_cmpuint (bf_weighted_nms (cands, 2, 0.34f, order, out), ==, 2);
  g_assert_cmpfloat (out[0].score, ==, 0.9f);
  g_assert_cmpfloat (out[1].score, ==, 0.8f);
}

static void
test_nms_chain (void)
{
  /* b overlaps a, c overlaps b but not a: only overlap with the best one
   * counts, so c survives as its own face. */
  BfCandidate cands[] = {
    box (0.9f, 0, 0.0f, 0.0f, 1.0f, 1.0f),
    box (0.8f, 1, 0.4f, 0.0f, 1.4f, 1.0f),
    box (0.7f, 2, 0.8f, 0.0f, 1.8f, 1.0f),
  };
  BfCandidate out[3];
  guint order[3];

  g_assert_cmpfloat (bf_candidate_iou (&cands[0], &cands[2]), <, 0.3f);
  g_assert_cmpuint (bf_weighted_nms (cands, 3, 0.3f, order, out), ==, 2);
  g_assert_cmpfloat (out[1].score, ==, 0.7f);
  g_assert_cmpfloat_with_epsilon (out[1].xmin, 0.8, EPS);
}

static void
test_nms_ties_and_edges (void)
{
  BfCandidate out[896];
  guint order[896];
  static BfCandidate many[896];

  g_assert_cmpuint (bf_weighted_nms (NULL, 0, 0.3f, order, out), ==, 0);

  /* Equal scores: the lower anchor is the group's head. */
  BfCandidate tie[] = { box (0.8f, 9, 0.5f, 0.5f, 0.7f, 0.7f), box (0.8f, 4, 0.5f, 0.5f, 0.7f, 0.7f) };
  g_assert_cmpuint (bf_weighted_nms (tie, 2, 0.3f, order, out), ==, 1);
  g_assert_cmpuint (out[0].anchor, ==, 4);

  /* Empty boxes overlap nothing, not even themselves, and still end. */
  BfCandidate empty[] = { box (0.9f, 0, 0.5f, 0.5f, 0.5f, 0.5f), box (0.8f, 1, 0.5f, 0.5f, 0.5f, 0.5f) };
  g_assert_cmpuint (bf_weighted_nms (empty, 2, 0.3f, order, out), ==, 2);

  /* All 896 anchors in a 32x28 grid of disjoint boxes: nothing merges,
   * and the output comes best first. */
  for (guint i = 0; i < 896; i++)
    {
      float x = (float) (i % 32) / 32.0f, y = (float) (i / 32) / 28.0f;
      many[i] = box ((float) ((i * 37) % 896) / 896.0f, i, x, y, x + 0.02f, y + 0.02f);
    }
  g_assert_cmpuint (bf_weighted_nms (many, 896, 0.3f, order, out), ==, 896);
  for (guint i = 1; i < 896; i++)
    g_assert_cmpfloat (out[i - 1].score, >=, out[i].score);
}

/* Raw outputs of a front model with every score far below the threshold;
 * the tests then plant faces in them. */
typedef struct {
  float scores0[512], scores1[384];
  float boxes0[512 * 16], boxes1[384 * 16];
} RawFront;

static void
raw_front_init (RawFront *raw)
{
  memset (raw, 0, sizeof *raw);
  for (guint i = 0; i < 512; i++)
    raw->scores0[i] = -50.0f;
  for (guint i = 0; i < 384; i++)
    raw->scores1[i] = -50.0f;
}

static float
logit (double p)
{
  return (float) log (p / (1.0 - p));
}

static void
plant (float *scores, float *boxes, guint i, float score, float dx, float dy, float w, float h)
{
  scores[i] = logit (score);
  boxes[i * 16 + 0] = dx;
  boxes[i * 16 + 1] = dy;
  boxes[i * 16 + 2] = w;
  boxes[i * 16 + 3] = h;
  for (guint k = 0; k < 6; k++)
    {
      boxes[i * 16 + 4 + 2 * k] = dx + (float) k;
      boxes[i * 16 + 5 + 2 * k] = dy - (float) k;
    }
}

static void
test_decode_synthetic (void)
{
  static RawFront raw;
  BfAnchorOptions o;
  BfAnchor anchors[896];
  BfCandidate cands[896], out[896];
  guint order[896];

  bf_anchor_options_front (&o);
  bf_anchors_generate (&o, anchors, 896);
  raw_front_init (&raw);

  /* Anchor 100: cell (x 2, y 3) of the 16x16 grid. */
  plant (raw.scores0, raw.boxes0, 100, 0.88f, 1.28f, -2.56f, 25.6f, 38.4f);
  /* Anchor 101, same cell, a little lower score, shifted: merges. */
  plant (raw.scores0, raw.boxes0, 101, 0.73f, 0.0f, 0.0f, 25.6f, 38.4f);
  /* Coarse anchor 512 + 6 * (8 * 5 + 6) = cell (6, 5) of the 8x8 grid. */
  plant (raw.scores1, raw.boxes1, 6 * (8 * 5 + 6), 0.6f, 0.0f, 0.0f, 12.8f, 12.8f);
  /* Below the threshold: dropped. */
  plant (raw.scores1, raw.boxes1, 0, 0.4f, 0.0f, 0.0f, 12.8f, 12.8f);

  guint n = bf_decode_head (anchors, 512, 0, raw.scores0, raw.boxes0, 128, 128, 0.5f, cands);
  n += bf_decode_head (anchors + 512, 384, 512, raw.scores1, raw.boxes1, 128, 128, 0.5f, cands + n);
  g_assert_cmpuint (n, ==, 3);

  /* Anchor 100 by the formulas: centre = raw / 128 + anchor. */
  const BfCandidate *c = &cands[0];
  double ax = 2.5 / 16, ay = 3.5 / 16;
  g_assert_cmpuint (c->anchor, ==, 100);
  g_assert_cmpfloat_with_epsilon (c->score, 0.88, 1e-5);
  g_assert_cmpfloat_with_epsilon (c->xmin, ax + 0.01 - 0.1, EPS);
  g_assert_cmpfloat_with_epsilon (c->xmax, ax + 0.01 + 0.1, EPS);
  g_assert_cmpfloat_with_epsilon (c->ymin, ay - 0.02 - 0.15, EPS);
  g_assert_cmpfloat_with_epsilon (c->ymax, ay - 0.02 + 0.15, EPS);
  g_assert_cmpfloat_with_epsilon (c->keypoints[3][0], ax + (1.28 + 3) / 128, EPS);
  g_assert_cmpfloat_with_epsilon (c->keypoints[3][1], ay + (-2.56 - 3) / 128, EPS);
  g_assert_cmpuint (cands[2].anchor, ==, 512 + 6 * 46);
  g_assert_cmpfloat_with_epsilon (cands[2].xmin, 6.5 / 8 - 0.05, EPS);
  g_assert_cmpfloat_with_epsilon (cands[2].ymax, 5.5 / 8 + 0.05, EPS);

  guint faces = bf_weighted_nms (cands, n, 0.3f, order, out);
  g_assert_cmpuint (faces, ==, 2);
  double w0 = 0.88, w1 = 0.73;
  g_assert_cmpfloat_with_epsilon (out[0].score, 0.88, 1e-5);
  g_assert_cmpfloat_with_epsilon (out[0].xmin, (w0 * (ax + 0.01) + w1 * ax) / (w0 + w1) - 0.1, 1e-5);

  /* Into a 256x128 frame letterboxed into 128x128: scale 0.5, bars of 32
   * above and below. */
  kk_model_input_params params = { .width = 128, .height = 128, .letterbox = true };
  kk_model_input_geometry g;
  KestrelDetection d;
  kk_model_input_geometry_compute (256, 128, &params, &g);
  g_assert_cmpfloat (g.scale_x, ==, 0.5f);
  g_assert_cmpfloat (g.pad_y, ==, 32.0f);

  bf_candidate_to_detection (&out[1], 128, 128, &g, &d);
  g_assert_cmpuint (d.n_keypoints, ==, 6);
  g_assert_cmpfloat_with_epsilon (d.x, (6.5 / 8 - 0.05) * 128 / 0.5, 1e-3);
  g_assert_cmpfloat_with_epsilon (d.y, ((5.5 / 8 - 0.05) * 128 - 32) / 0.5, 1e-3);
  g_assert_cmpfloat_with_epsilon (d.width, 0.1 * 128 / 0.5, 1e-3);
  g_assert_cmpfloat_with_epsilon (d.height, 0.1 * 128 / 0.5, 1e-3);
  g_assert_cmpfloat_with_epsilon (d.keypoints[2].x, (6.5 / 8 + 2.0 / 128) * 128 / 0.5, 1e-3);
  g_assert_cmpfloat_with_epsilon (d.keypoints[2].y, ((5.5 / 8 - 2.0 / 128) * 128 - 32) / 0.5, 1e-3);
}

static void
test_decode_nonfinite (void)
{
  static RawFront raw;
  BfAnchorOptions o;
  BfAnchor anchors[896];
  BfCandidate cands[896];

  bf_anchor_options_front (&o);
  bf_anchors_generate (&o, anchors, 896);
  raw_front_init (&raw);
  raw.scores0[0] = NAN;
  plant (raw.scores0, raw.boxes0, 1, 0.9f, 0, 0, 10, 10);
  raw.boxes0[1 * 16 + 7] = INFINITY;
  plant (raw.scores0, raw.boxes0, 2, 0.9f, 0, 0, 10, 10);
  raw.scores0[3] = INFINITY;   /* a certainty, clipped */

  guint n = bf_decode_head (anchors, 512, 0, raw.scores0, raw.boxes0, 128, 128, 0.5f, cands);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpuint (cands[0].anchor, ==, 2);
  g_assert_cmpuint (cands[1].anchor, ==, 3);
  g_assert_cmpfloat (cands[1].score, <=, 1.0f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/blazeface/anchors/front", test_anchors_front);
  g_test_add_func ("/blazeface/anchors/back", test_anchors_back);
  g_test_add_func ("/blazeface/anchors/derive", test_anchors_derive);
  g_test_add_func ("/blazeface/decode/sigmoid", test_sigmoid);
  g_test_add_func ("/blazeface/decode/synthetic", test_decode_synthetic);
  g_test_add_func ("/blazeface/decode/nonfinite", test_decode_nonfinite);
  g_test_add_func ("/blazeface/nms/iou", test_iou);
  g_test_add_func ("/blazeface/nms/identical", test_nms_identical);
  g_test_add_func ("/blazeface/nms/weighted", test_nms_weighted);
  g_test_add_func ("/blazeface/nms/threshold", test_nms_threshold);
  g_test_add_func ("/blazeface/nms/chain", test_nms_chain);
  g_test_add_func ("/blazeface/nms/ties-and-edges", test_nms_ties_and_edges);
  return g_test_run ();
}
