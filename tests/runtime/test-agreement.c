/* test-agreement.c — kestrel_agreement_compare (core/runtime/kestrel-agreement.h):
 * how one frame's detections at a lower precision agree with FP32's, on
 * hand-made boxes whose IoUs are worked out here.
 */
#include <math.h>

#include "kestrel-agreement.h"

static void
add (KestrelDetections *d, guint label, float score, float x, float y, float w, float h)
{
  KestrelDetection *det = kestrel_detections_append (d);

  det->label = label;
  det->score = score;
  det->x = x;
  det->y = y;
  det->width = w;
  det->height = h;
}

static void
test_identical (void)
{
  g_autoptr(KestrelDetections) a = kestrel_detections_new ();
  g_autoptr(KestrelDetections) b = kestrel_detections_new ();
  KestrelAgreement r;

  add (a, 0, 0.9f, 10, 10, 20, 20);
  add (a, 0, 0.8f, 100, 10, 30, 30);
  add (b, 0, 0.8f, 100, 10, 30, 30);
  add (b, 0, 0.9f, 10, 10, 20, 20);
  kestrel_agreement_compare (a, b, &r);
  g_assert_cmpuint (r.fp32_faces, ==, 2);
  g_assert_cmpuint (r.matched_faces, ==, 2);
  g_assert_cmpuint (r.extra_faces, ==, 0);
  g_assert_cmpfloat (r.mean_iou, ==, 1.0);
  g_assert_cmpfloat (r.max_score_difference, ==, 0.0);
  g_assert_cmpfloat (kestrel_agreement_get_percent (&r), ==, 100.0);
}

static void
test_empty (void)
{
  g_autoptr(KestrelDetections) a = kestrel_detections_new ();
  g_autoptr(KestrelDetections) b = kestrel_detections_new ();
  KestrelAgreement r;

  kestrel_agreement_compare (a, b, &r);
  g_assert_cmpuint (r.fp32_faces + r.matched_faces + r.extra_faces, ==, 0);
  g_assert_true (isnan (r.mean_iou));
  g_assert_cmpfloat (kestrel_agreement_get_percent (&r), ==, 100.0);

  /* Only one side found something. */
  add (b, 0, 0.7f, 0, 0, 10, 10);
  kestrel_agreement_compare (a, b, &r);
  g_assert_cmpuint (r.extra_faces, ==, 1);
  g_assert_cmpfloat (kestrel_agreement_get_percent (&r), ==, 0.0);
  kestrel_agreement_compare (b, a, &r);
  g_assert_cmpuint (r.fp32_faces, ==, 1);
  g_assert_cmpuint (r.matched_faces, ==, 0);
  g_assert_cmpuint (r.extra_faces, ==, 0);
}

static void
test_shifted (void)
{
  g_autoptr(KestrelDetections) a = kestrel_detections_new ();
  g_autoptr(KestrelDetections) b = kestrel_detections_new ();
  KestrelAgreement r;

  /* 10x10 boxes shifted by 2 on x: intersection 80, union 120, IoU 2/3. */
  add (a, 0, 0.75f, 0, 0, 10, 10);
  add (b, 0, 0.5f, 2, 0, 10, 10);
  /* Shifted by 6: IoU 40/160 = 0.25, below 0.5: not a match. */
  add (a, 0, 0.6f, 50, 0, 10, 10);
  add (b, 0, 0.6f, 56, 0, 10, 10);
  /* Same box, other label: not a match either. */
  add (a, 0, 0.9f, 200, 0, 10, 10);
  add (b, 1, 0.9f, 200, 0, 10, 10);
  kestrel_agreement_compare (a, b, &r);
  g_assert_cmpuint (r.fp32_faces, ==, 3);
  g_assert_cmpuint (r.matched_faces, ==, 1);
  g_assert_cmpuint (r.extra_faces, ==, 2);
  g_assert_cmpfloat_with_epsilon (r.mean_iou, 2.0 / 3.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (r.max_score_difference, 0.25, 1e-7);
  g_assert_cmpfloat_with_epsilon (kestrel_agreement_get_percent (&r), 100.0 * (2.0 / 3.0) / 5.0, 1e-4);
}

/* One box on the other side serves one FP32 box only: the better overlap
 * takes it, and the FP32 boxes are taken in their order. */
static void
test_one_to_one (void)
{
  g_autoptr(KestrelDetections) a = kestrel_detections_new ();
  g_autoptr(KestrelDetections) b = kestrel_detections_new ();
  KestrelAgreement r;

  add (a, 0, 0.9f, 0, 0, 10, 10);
  add (a, 0, 0.8f, 1, 0, 10, 10);
  add (b, 0, 0.9f, 1, 0, 10, 10);    /* IoU 90/110 with the first, 1 with the second */
  add (b, 0, 0.85f, 0, 0, 10, 10);   /* 1 with the first */
  kestrel_agreement_compare (a, b, &r);
  g_assert_cmpuint (r.matched_faces, ==, 2);
  g_assert_cmpuint (r.extra_faces, ==, 0);
  g_assert_cmpfloat_with_epsilon (r.mean_iou, 1.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (r.max_score_difference, 0.1, 1e-6);

  /* With only the shifted box, it goes to the first FP32 box (its turn
   * comes first) and the second finds nothing. */
  kestrel_detections_truncate (b, 1);
  kestrel_agreement_compare (a, b, &r);
  g_assert_cmpuint (r.matched_faces, ==, 1);
  g_assert_cmpfloat_with_epsilon (r.mean_iou, 90.0 / 110.0, 1e-6);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/agreement/identical", test_identical);
  g_test_add_func ("/agreement/empty", test_empty);
  g_test_add_func ("/agreement/shifted", test_shifted);
  g_test_add_func ("/agreement/one-to-one", test_one_to_one);
  return g_test_run ();
}
