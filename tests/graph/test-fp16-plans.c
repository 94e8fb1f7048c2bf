/* test-fp16-plans.c — FP16 plans of the BlazeFace models.
 *
 * - Weights: the gemm layers' weights are half (the plan's graph holds
 *   float16 constants, those steps report FP16), and so are the depthwise
 *   layers' (the whole fused block is FP16);
 *   the weight bytes and the split are printed (the target, <= 0.51x FP32,
 *   is measured here and in kestrel-cli inspect, not asserted).
 * - Accuracy on the bundled photos (data/samples) and the Debian photos the
 *   BlazeFace tests use: every output of the FP16 plan at every level and
 *   on 1 and 2 threads is within 1e-3 of the FP32 plan's, relative to the
 *   FP32 output's scale (its largest magnitude); and the faces found above
 *   the model's threshold are the same (IoU >= 0.9, score within 0.01,
 *   none added).
 * - The scalar FP16 plan (the canary's oracle) and the simd plan agree on
 *   every output within the FP32 canary's tolerance: their gemms are
 *   bit-identical (tests/kernels gemm-f16), the FP32 steps differ by rounding.
 * - fp32_layers keeps a named gemm layer FP32.
 */
#include "config.h"

#include <math.h>

#include "../blazeface/blazeface-test-util.h"
#include "../quant/quant-test-util.h"
#include "kestrel-builtin-models.h"

#define FP16_TOLERANCE 1e-3

static KestrelPlan *
plan_at (KestrelModel *model, KestrelPrecision precision, kk_level level, guint threads,
         const char *const *fp32_layers)
{
  return quant_test_plan (model, precision, NULL, level, threads, fp32_layers);
}

/* Steps at FP16 and their weight bytes, and the same for FP32 steps. */
static void
count_steps (const KestrelPlan *plan, guint *n_fp16, gsize *fp16_bytes, guint *n_fp32, gsize *fp32_bytes)
{
  *n_fp16 = *n_fp32 = 0;
  *fp16_bytes = *fp32_bytes = 0;
  for (guint s = 0; s < kestrel_plan_get_n_steps (plan); s++)
    {
      gsize bytes = kestrel_plan_get_step_weight_bytes (plan, s);
      if (kestrel_plan_get_step_precision (plan, s) == KESTREL_PRECISION_FP16)
        {
          (*n_fp16)++;
          *fp16_bytes += bytes;
        }
      else if (bytes > 0)
        {
          (*n_fp32)++;
          *fp32_bytes += bytes;
        }
    }
}

/* The constant bytes of the convolution steps (weights and biases). */
static gsize
conv_weight_bytes (const KestrelPlan *plan)
{
  gsize bytes = 0;

  for (guint s = 0; s < kestrel_plan_get_n_steps (plan); s++)
    {
      const char *op = kestrel_plan_get_step (plan, s)->node->op_type;
      if (g_str_equal (op, "ConvNhwc") || g_str_equal (op, "DwPwNhwc"))
        bytes += kestrel_plan_get_step_weight_bytes (plan, s);
    }
  return bytes;
}

static void
test_weights (gconstpointer data)
{
  const char *name = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = kestrel_builtin_model_new (name, &error);
  g_assert_no_error (error);
  g_autoptr(KestrelPlan) fp32 = plan_at (model, KESTREL_PRECISION_FP32, KK_LEVEL_FULL, 1, NULL);
  g_autoptr(KestrelPlan) fp16 = plan_at (model, KESTREL_PRECISION_FP16, KK_LEVEL_FULL, 1, NULL);
  guint n16, n32;
  gsize b16, b32;

  count_steps (fp16, &n16, &b16, &n32, &b32);
  for (guint s = 0; s < kestrel_plan_get_n_steps (fp16); s++)
    {
      const KestrelStep *step = kestrel_plan_get_step (fp16, s);
      KestrelPrecision p = kestrel_plan_get_step_precision (fp16, s);
      if (g_test_verbose () && kestrel_plan_get_step_weight_bytes (fp16, s) > 0)
        g_test_message ("  %2u %-10s %-4s %7zu B  %s", s, step->node->op_type, kestrel_precision_name (p),
                        kestrel_plan_get_step_weight_bytes (fp16, s), step->node->name);
      /* What the pass converts: the convolutions (one-group and
       * depthwise) and the fused blocks; nothing else. */
      if (p == KESTREL_PRECISION_FP16)
        g_assert_true (g_str_equal (step->node->op_type, "DwPwNhwc")
                       || g_str_equal (step->node->op_type, "ConvNhwc"));
      else
        g_assert_false (g_str_equal (step->node->op_type, "DwPwNhwc"));
    }
  double ratio = (double) kestrel_plan_get_weight_bytes (fp16) / (double) kestrel_plan_get_weight_bytes (fp32);
  gsize conv16 = conv_weight_bytes (fp16), conv32 = conv_weight_bytes (fp32);
  g_test_message ("%s: weight bytes FP16 %zu, FP32 %zu (%.3fx); of the convolutions' alone FP16 %zu, FP32 %zu "
                  "(%.3fx); %u FP16 steps (%zu B), %u FP32 steps with constants (%zu B: the channel-padding "
                  "zeros of the Concats, shapes)",
                  name, kestrel_plan_get_weight_bytes (fp16), kestrel_plan_get_weight_bytes (fp32), ratio,
                  conv16, conv32, (double) conv16 / (double) conv32, n16, b16, n32, b32);
  g_assert_cmpuint (n16, >, 0);
  /* Halving the convolution weights must show; the 0.51x target itself is
   * a measurement, not asserted (biases stay FP32; so do the constants
   * of non-convolution steps, counted in the plan's total). */
  g_assert_cmpfloat ((double) conv16 / (double) conv32, <, 0.6);
  g_assert_cmpfloat ((double) conv16 / (double) conv32, >, 0.45);
  g_assert_cmpfloat (ratio, <, 1.0);
}

/* max |got - want| / max |want| over one output. */
static double
relative_error (const KestrelTensorView *want, const KestrelTensorView *got)
{
  const float *a = want->data, *b = got->data;
  double diff = 0.0, scale = 1e-30;

  g_assert_cmpuint (want->n_elements, ==, got->n_elements);
  for (gsize i = 0; i < want->n_elements; i++)
    {
      diff = MAX (diff, fabs ((double) a[i] - (double) b[i]));
      scale = MAX (scale, fabs ((double) a[i]));
    }
  return diff / scale;
}

/* The faces FP32 finds above the threshold, and only those, at FP16. */
static guint
check_same_faces (const char *who, const KestrelDetections *want, const KestrelDetections *got,
                  float threshold, float *worst_iou, float *worst_score)
{
  guint n = 0;

  for (guint i = 0; i < kestrel_detections_get_n (want); i++)
    {
      const KestrelDetection *f = kestrel_detections_get (want, i);
      float iou;
      if (f->score < threshold)
        continue;
      const KestrelDetection *g = test_best_match (got, f, &iou);
      if (g == NULL || iou < 0.9f || fabsf (g->score - f->score) > 0.01f)
        g_error ("%s: the FP32 face at %.3f is not found at FP16 (IoU %.3f, score %.3f)", who,
                 (double) f->score, (double) iou, g != NULL ? (double) g->score : 0.0);
      *worst_iou = MIN (*worst_iou, iou);
      *worst_score = MAX (*worst_score, fabsf (g->score - f->score));
      n++;
    }
  for (guint i = 0; i < kestrel_detections_get_n (got); i++)
    {
      const KestrelDetection *g = kestrel_detections_get (got, i);
      float iou;
      if (g->score >= threshold && (test_best_match (want, g, &iou) == NULL || iou < 0.5f))
        g_error ("%s: FP16 finds a face at %.3f (%.0f, %.0f) that FP32 does not", who, (double) g->score,
                 (double) g->x, (double) g->y);
    }
  return n;
}

static void
test_accuracy (gconstpointer data)
{
  const char *name = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = kestrel_builtin_model_new (name, &error);
  g_assert_no_error (error);
  g_autoptr(KestrelPlan) fp32 = plan_at (model, KESTREL_PRECISION_FP32, KK_LEVEL_FULL, 2, NULL);
  KestrelTaskDecoder *decoder = test_blazeface_decoder (model);
  float threshold = kestrel_builtin_model_get_score_threshold (name);
  KestrelPlan *plans[KK_LEVEL_COUNT * 2];
  guint n_plans = 0, n_photos = 0, n_faces = 0;
  double worst = 0.0;
  float worst_iou = 1.0f, worst_score = 0.0f;

  for (int level = KK_LEVEL_SCALAR; level < KK_LEVEL_COUNT; level++)
    for (guint threads = 1; threads <= 2; threads++)
      if (kk_level_is_parallel (level) || threads == 1)
        plans[n_plans++] = plan_at (model, KESTREL_PRECISION_FP16, level, threads, NULL);

  for (guint p = 0; p < G_N_ELEMENTS (sample_photos) + G_N_ELEMENTS (test_photos); p++)
    {
      g_autofree char *path = NULL;
      if (p < G_N_ELEMENTS (sample_photos))
        path = sample_photo_path (p);
      else if (test_have_photo (&test_photos[p - G_N_ELEMENTS (sample_photos)]))
        path = g_strdup (test_photos[p - G_N_ELEMENTS (sample_photos)].path);
      else
        continue;
      n_photos++;
      g_autoptr(KestrelImage) image = kestrel_image_new_from_file (path, &error);
      g_assert_no_error (error);
      g_autoptr(KestrelDetections) want = test_detect_on_plan (fp32, decoder, image);

      for (guint i = 0; i < n_plans; i++)
        {
          const KestrelPlanOptions *o = kestrel_plan_get_options (plans[i]);
          g_autofree char *who = g_strdup_printf ("%s %s, FP16 at %s on %u threads", name, path,
                                                  kk_level_name (o->level), MAX (o->n_threads, 1));
          g_autoptr(KestrelDetections) got = test_detect_on_plan (plans[i], decoder, image);
          for (guint out = 0; out < kestrel_plan_get_n_outputs (fp32); out++)
            {
              double e = relative_error (kestrel_plan_get_output (fp32, out), kestrel_plan_get_output (plans[i], out));
              if (!(e <= FP16_TOLERANCE))
                g_error ("%s: output %s is off by %.3g of its scale (limit %g)", who,
                         kestrel_plan_get_output_name (fp32, out), e, FP16_TOLERANCE);
              worst = MAX (worst, e);
            }
          guint faces = check_same_faces (who, want, got, threshold, &worst_iou, &worst_score);
          if (i == 0)
            n_faces += faces;
        }
    }
  g_test_message ("%s: %u photos, %u plans (every level, 1 and 2 threads): outputs within %.3g of FP32 "
                  "(relative to each output's scale); %u faces above %.2f, the same at FP16: worst IoU %.4f, "
                  "worst score difference %.5f", name, n_photos, n_plans, worst, n_faces, (double) threshold,
                  (double) worst_iou, (double) worst_score);
  g_assert_cmpuint (n_faces, >=, 1);
  for (guint i = 0; i < n_plans; i++)
    kestrel_plan_unref (plans[i]);
  kestrel_task_decoder_free (decoder);
}

/* A gemm layer named in fp32_layers keeps float32 weights. */
static void
test_fp32_layers (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = kestrel_builtin_model_new ("front", &error);
  g_assert_no_error (error);
  g_autoptr(KestrelPlan) all = plan_at (model, KESTREL_PRECISION_FP16, KK_LEVEL_FULL, 1, NULL);
  const char *kept = NULL;
  guint n16_all, n32_all, n16, n32;
  gsize b16_all, b32_all, b16, b32;

  for (guint s = 0; s < kestrel_plan_get_n_steps (all) && kept == NULL; s++)
    if (kestrel_plan_get_step_precision (all, s) == KESTREL_PRECISION_FP16)
      kept = kestrel_plan_get_step (all, s)->node->name;
  g_assert_nonnull (kept);
  const char *const layers[] = { kept, NULL };
  g_autoptr(KestrelPlan) mixed = plan_at (model, KESTREL_PRECISION_FP16, KK_LEVEL_FULL, 1, layers);

  count_steps (all, &n16_all, &b16_all, &n32_all, &b32_all);
  count_steps (mixed, &n16, &b16, &n32, &b32);
  g_assert_cmpuint (n16, ==, n16_all - 1);
  g_assert_cmpuint (kestrel_plan_get_weight_bytes (mixed), >, kestrel_plan_get_weight_bytes (all));
  for (guint s = 0; s < kestrel_plan_get_n_steps (mixed); s++)
    if (g_str_equal (kestrel_plan_get_step (mixed, s)->node->name, kept))
      g_assert_cmpint (kestrel_plan_get_step_precision (mixed, s), ==, KESTREL_PRECISION_FP32);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/fp16-plans/weights/front", "front", test_weights);
  g_test_add_data_func ("/fp16-plans/weights/back", "back", test_weights);
  g_test_add_data_func ("/fp16-plans/accuracy/front", "front", test_accuracy);
  g_test_add_data_func ("/fp16-plans/accuracy/back", "back", test_accuracy);
  g_test_add_func ("/fp16-plans/fp32-layers", test_fp32_layers);
  return g_test_run ();
}
