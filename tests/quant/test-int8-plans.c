/* test-int8-plans.c — INT8 and INT4 plans of whole models: the BlazeFace models
 * calibrated (minmax) on the bundled photos give bit-identical outputs at
 * every level and on 1 and 2 threads; both, with the layers the
 * sensitivity search keeps FP32 (which are printed), find the faces FP32
 * finds (IoU >= 0.9, score within 0.05) and no other, on the bundled
 * photos and the Debian ones the BlazeFace tests use, and stay
 * bit-identical across levels; output SQNR is reported per photo and
 * output;
 * UltraFace (tests/models), a model Kestrel was not written for, plans and
 * runs bit-identically too; layers named in fp32_layers stay FP32; a
 * missing or foreign table is a clear error.
 *
 * INT4 (/int4/...): the same accuracy rule for the mixed INT4 plan (the
 * table's FP32 layers, depthwise and sensitive layers INT8, the rest
 * INT4), the layers that stayed wider printed, bit-identical across levels
 * and threads; and the INT4 weight scheme the plans use is the one with
 * the smaller error on the BlazeFace weights. */
#include "config.h"

#include <math.h>

#include "../blazeface/blazeface-test-util.h"
#include "../private-cache.h"
#include "kestrel-builtin-models.h"
#include "kestrel-agreement.h"
#include "kestrel-calibrate-images.h"
#include "kestrel-error.h"
#include "kestrel-int4-weights.h"
#include "kestrel-mixed-precision.h"
#include "kestrel-quant-table-file.h"
#include "quant-test-util.h"

/* An INT8 or INT4 plan (INT4: INT8 with INT4 gemm weights, from the same
 * table). */
static KestrelPlan *
quant_plan (KestrelModel *model, KestrelQuantTable *table, KestrelPrecision precision, kk_level level,
            guint threads, const char *const *fp32_layers)
{
  return quant_test_plan (model, precision, table, level, threads, fp32_layers);
}

static KestrelPlan *
fp32_plan (KestrelModel *model)
{
  return quant_test_plan (model, KESTREL_PRECISION_FP32, NULL, KK_LEVEL_FULL, 0, NULL);
}

/* Steps at INT8 or INT4. */
static guint
count_int8_steps (const KestrelPlan *plan)
{
  guint n = 0;

  for (guint s = 0; s < kestrel_plan_get_n_steps (plan); s++)
    n += kestrel_precision_is_integer (kestrel_plan_get_step_precision (plan, s));
  return n;
}

static guint
count_steps_at (const KestrelPlan *plan, KestrelPrecision precision)
{
  guint n = 0;

  for (guint s = 0; s < kestrel_plan_get_n_steps (plan); s++)
    n += kestrel_plan_get_step_precision (plan, s) == precision;
  return n;
}

static void
describe_plan (const KestrelPlan *plan)
{
  for (guint s = 0; s < kestrel_plan_get_n_steps (plan); s++)
    {
      const KestrelStep *step = kestrel_plan_get_step (plan, s);
      g_autofree char *shape = kestrel_shape_to_string (step->outputs[0].n_dims, step->outputs[0].shape);
      g_test_message ("  %2u %-13s %-5s %-8s %s %6zu B  %s", s, step->node->op_type,
                      kestrel_precision_name (kestrel_plan_get_step_precision (plan, s)),
                      kestrel_dtype_get_name (step->outputs[0].dtype), shape,
                      kestrel_plan_get_step_weight_bytes (plan, s), step->node->name);
    }
}

typedef void (*FillFunc) (KestrelPlan *plan, guint frame);

static void
fill_blazeface (KestrelPlan *plan, guint frame)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (fill_sample_photo (plan, frame, &error));
  g_assert_no_error (error);
}

/* Every output of every level x threads, on every frame, is memcmp-equal
 * to the scalar plan's. */
static void
check_levels_bit_identical (KestrelModel *model, KestrelQuantTable *table, KestrelPrecision precision,
                            FillFunc fill, guint n_frames)
{
  g_autoptr(KestrelPlan) ref = quant_plan (model, table, precision, KK_LEVEL_SCALAR, 1, NULL);
  KestrelPlan *plans[KK_LEVEL_COUNT * 2] = { NULL };
  guint n_plans = 0;

  g_assert_cmpuint (count_int8_steps (ref), >, 0);
  for (int level = KK_LEVEL_SIMD; level < KK_LEVEL_COUNT; level++)
    for (guint threads = 1; threads <= 2; threads++)
      {
        if (!kk_level_is_parallel (level) && threads > 1)
          continue;
        plans[n_plans++] = quant_plan (model, table, precision, level, threads, NULL);
      }

  for (guint frame = 0; frame < n_frames; frame++)
    {
      fill (ref, frame);
      kestrel_plan_run (ref);
      for (guint p = 0; p < n_plans; p++)
        {
          const KestrelPlanOptions *o = kestrel_plan_get_options (plans[p]);
          fill (plans[p], frame);
          kestrel_plan_run (plans[p]);
          g_assert_cmpuint (kestrel_plan_get_n_steps (plans[p]), ==, kestrel_plan_get_n_steps (ref));
          for (guint i = 0; i < kestrel_plan_get_n_outputs (ref); i++)
            {
              const KestrelTensorView *a = kestrel_plan_get_output (ref, i), *b = kestrel_plan_get_output (plans[p], i);
              g_assert_cmpuint (a->n_elements, ==, b->n_elements);
              if (memcmp (a->data, b->data, a->n_elements * kestrel_dtype_get_size (a->dtype)) != 0)
                g_error ("frame %u: output %s at level %s, %u threads differs from scalar", frame,
                         kestrel_plan_get_output_name (ref, i), kk_level_name (o->level), o->n_threads);
            }
        }
    }
  g_test_message ("%s, %u frames: %u plans (simd, parallel and full on 1 and 2 threads) bit-identical to "
                  "scalar", kestrel_precision_name (precision), n_frames, n_plans);
  for (guint p = 0; p < n_plans; p++)
    kestrel_plan_unref (plans[p]);
}

static void
test_blazeface_levels (gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = kestrel_builtin_model_new (data, &error);
  g_assert_no_error (error);
  g_autoptr(KestrelQuantTable) table = calibrate_on_samples (model);
  g_autoptr(KestrelPlan) fp32 = fp32_plan (model);
  g_autoptr(KestrelPlan) int8 = int8_plan (model, table, KK_LEVEL_FULL, 2, NULL);
  double ratio = (double) kestrel_plan_get_weight_bytes (int8) / (double) kestrel_plan_get_weight_bytes (fp32);

  if (g_test_verbose ())
    describe_plan (int8);
  g_test_message ("%s: %u steps, %u INT8; weight bytes INT8 %zu, FP32 %zu (%.3fx)", (const char *) data,
                  kestrel_plan_get_n_steps (int8), count_int8_steps (int8), kestrel_plan_get_weight_bytes (int8),
                  kestrel_plan_get_weight_bytes (fp32), ratio);
  g_assert_cmpfloat (ratio, <, 0.5);
  check_levels_bit_identical (model, table, KESTREL_PRECISION_INT8, fill_blazeface, G_N_ELEMENTS (sample_photos));
}

/* ---- accuracy ------------------------------------------------------------ */

typedef struct {
  double signal, noise;
} Sqnr;

static KestrelDetections *
detect (KestrelPlan *plan, KestrelTaskDecoder *decoder, const char *path, float threshold)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelImage) image = kestrel_image_new_from_file (path, &error);
  g_assert_no_error (error);

  /* Below the model's threshold, so a face near it shows on both sides
   * (as the calibration's agreement goal decodes). */
  return test_detect_on_plan_from (plan, decoder, image, threshold * KESTREL_AGREEMENT_GOAL_DECODE);
}

static void
add_sqnr (Sqnr *q, const KestrelTensorView *ref, const KestrelTensorView *got)
{
  const float *a = ref->data, *b = got->data;

  for (gsize i = 0; i < ref->n_elements; i++)
    {
      q->signal += (double) a[i] * (double) a[i];
      q->noise += ((double) a[i] - (double) b[i]) * ((double) a[i] - (double) b[i]);
    }
}

typedef struct {
  const char *model;
  KestrelPrecision precision;
  /* INT4: the fewest convolutions the mix must leave INT4. Front: 2
   * since its INT8 mix keeps 12 layers FP32 rather than 20 (an Add with a
   * float input stays float, core/quant/README.md): more INT8 layers take
   * more of the error the goal allows. The back model: none is asked for
   * (its INT8 search keeps 34 of its 68 convolutions FP32). */
  guint min_int4;
} AccuracyCase;

/* The layers an INT4 plan left wider than INT4: the convolutions at INT8
 * (depthwise, and those kept INT8) and at FP32. */
static void
print_wider_layers (const char *name, const KestrelPlan *plan, guint min_int4)
{
  guint n_int4 = count_steps_at (plan, KESTREL_PRECISION_INT4), n_int8 = 0, n_fp32 = 0;

  for (guint s = 0; s < kestrel_plan_get_n_steps (plan); s++)
    {
      const KestrelStep *step = kestrel_plan_get_step (plan, s);
      KestrelPrecision p = kestrel_plan_get_step_precision (plan, s);
      gboolean conv = strcmp (step->node->op_type, "QConvNhwc") == 0 || strcmp (step->node->op_type, "ConvNhwc") == 0;
      if (!conv || p == KESTREL_PRECISION_INT4)
        continue;
      n_int8 += p == KESTREL_PRECISION_INT8;
      n_fp32 += p == KESTREL_PRECISION_FP32;
      g_test_message ("%s: stayed %s: %s (%s, %zu weight bytes)", name, kestrel_precision_name (p), step->node->name,
                      kestrel_node_attr_int (step->node, "group", 1) != 1 ? "depthwise" : "one group",
                      kestrel_plan_get_step_weight_bytes (plan, s));
    }
  g_test_message ("%s: convolutions INT4 %u, stayed INT8 %u, stayed FP32 %u", name, n_int4, n_int8, n_fp32);
  g_assert_cmpuint (n_int4, >=, min_int4);
}

static void
test_blazeface_accuracy (gconstpointer data)
{
  const AccuracyCase *ac = data;
  const char *name = ac->model;
  const char *prec = ac->precision == KESTREL_PRECISION_INT4 ? "INT4" : "INT8";
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = kestrel_builtin_model_new (name, &error);
  g_assert_no_error (error);
  KestrelTaskDecoder *decoder = test_blazeface_decoder (model);
  kk_model_input_params params;
  KestrelMixedSummary mixed;
  gint64 start = g_get_monotonic_time ();

  /* The table the engine and kestrel-cli use: minmax over the bundled
   * photos, then the layers the sensitivity search keeps FP32 for the
   * default goal (every output of every photo at 20 dB SQNR or more, and
   * the detections of every photo agreeing with FP32's). Only the bundled
   * photos are calibration frames: the others here are not. */
  kestrel_task_decoder_get_input_params (decoder, TRUE, &params);
  g_autoptr(KestrelQuantTable) table = kestrel_calibrate_images_for (model, kestrel_task_decoder_get_image_input (decoder),
                                                                     &params, NULL, ac->precision, NULL, NULL, NULL,
                                                                     &error);
  g_assert_no_error (error);
  g_assert_true (kestrel_quant_table_get_mixed (table, &mixed));
  g_assert_true (mixed.task_agreement);
  if (ac->precision == KESTREL_PRECISION_INT4)
    {
      /* The user cache holds the INT4 choice too: a new process finds it. */
      g_autofree char *path = kestrel_quant_table_cache_path (kestrel_model_get_content_hash (model), "minmax");
      g_autoptr(KestrelQuantTable) cached = kestrel_quant_table_load (path, &error);
      g_assert_no_error (error);
      g_assert_true (kestrel_quant_table_get_int4_searched (cached));
      g_assert_true (g_strv_equal (kestrel_quant_table_get_int8_layers (cached),
                                   kestrel_quant_table_get_int8_layers (table)));
    }
  const char *const *kept = kestrel_quant_table_get_fp32_layers (table);
  g_test_message ("%s: calibration with the sensitivity search %.1f s; %u of %u convolutions kept FP32 (worst frame output SQNR %.1f dB, "
                  "all INT8 %.1f dB, goal %.1f dB)", name, (g_get_monotonic_time () - start) / 1e6,
                  g_strv_length ((char **) kept), mixed.n_candidates, mixed.output_sqnr_db, mixed.all_int8_sqnr_db,
                  mixed.goal_db);
  for (guint i = 0; kept[i] != NULL; i++)
    {
      double db = NAN;
      kestrel_quant_table_lookup_sensitivity (table, kept[i], &db);
      g_test_message ("%s: kept FP32 %s (only it INT8: %.1f dB)", name, kept[i], db);
    }
  g_autoptr(KestrelPlan) fp32 = fp32_plan (model);
  g_autoptr(KestrelPlan) int8 = quant_plan (model, table, ac->precision, KK_LEVEL_FULL, 2, NULL);
  double ratio = (double) kestrel_plan_get_weight_bytes (int8) / (double) kestrel_plan_get_weight_bytes (fp32);
  g_test_message ("%s: weight bytes %s (mixed) %zu, FP32 %zu (%.3fx)", name, prec,
                  kestrel_plan_get_weight_bytes (int8), kestrel_plan_get_weight_bytes (fp32), ratio);
  if (ac->precision == KESTREL_PRECISION_INT4)
    print_wider_layers (name, int8, ac->min_int4);
  float threshold = kestrel_builtin_model_get_score_threshold (name);
  g_autofree Sqnr *sqnr = g_new0 (Sqnr, kestrel_plan_get_n_outputs (fp32));
  guint n_photos = 0, n_faces = 0;
  float worst_iou = 1.0f, worst_score = 0.0f;

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

      g_autoptr(KestrelDetections) want = detect (fp32, decoder, path, threshold);
      g_autoptr(KestrelDetections) got = detect (int8, decoder, path, threshold);
      double worst_db = INFINITY;
      for (guint o = 0; o < kestrel_plan_get_n_outputs (fp32); o++)
        {
          Sqnr one = { 0, 0 };
          add_sqnr (&one, kestrel_plan_get_output (fp32, o), kestrel_plan_get_output (int8, o));
          worst_db = MIN (worst_db, 10.0 * log10 (one.signal / MAX (one.noise, 1e-30)));
          add_sqnr (&sqnr[o], kestrel_plan_get_output (fp32, o), kestrel_plan_get_output (int8, o));
        }
      g_test_message ("%s %s: worst output SQNR %.1f dB", name, path, worst_db);

      /* Every FP32 face above the threshold, at INT8. */
      for (guint i = 0; i < kestrel_detections_get_n (want); i++)
        {
          const KestrelDetection *f = kestrel_detections_get (want, i);
          float iou;
          if (f->score < threshold)
            continue;
          const KestrelDetection *g = test_best_match (got, f, &iou);
          n_faces++;
          g_test_message ("%s %s: FP32 %.3f at (%.0f, %.0f) %.0fx%.0f; %s %.3f, IoU %.3f", name, path,
                          (double) f->score, (double) f->x, (double) f->y, (double) f->width, (double) f->height,
                          prec, g != NULL ? (double) g->score : 0.0, (double) iou);
          if (g == NULL || iou < 0.9f || fabsf (g->score - f->score) > 0.05f)
            g_error ("%s %s: the FP32 face at %.3f is not found at %s (IoU %.3f, score %.3f)", name, path,
                     (double) f->score, prec, (double) iou, g != NULL ? (double) g->score : 0.0);
          worst_iou = MIN (worst_iou, iou);
          worst_score = MAX (worst_score, fabsf (g->score - f->score));
        }
      /* And no INT8 face above it that FP32 did not find (at any score the
       * decoder keeps). */
      for (guint i = 0; i < kestrel_detections_get_n (got); i++)
        {
          const KestrelDetection *g = kestrel_detections_get (got, i);
          float iou;
          if (g->score >= threshold && (test_best_match (want, g, &iou) == NULL || iou < 0.5f))
            g_error ("%s %s: %s finds a face at %.3f (%.0f, %.0f) that FP32 does not", name, path, prec,
                     (double) g->score, (double) g->x, (double) g->y);
        }
    }
  for (guint o = 0; o < kestrel_plan_get_n_outputs (fp32); o++)
    g_test_message ("%s: output %s SQNR %.1f dB over %u photos", name, kestrel_plan_get_output_name (fp32, o),
                    10.0 * log10 (sqnr[o].signal / MAX (sqnr[o].noise, 1e-30)), n_photos);
  g_test_message ("%s: %u faces above %.2f on %u photos; worst IoU %.3f, worst score difference %.3f", name,
                  n_faces, (double) threshold, n_photos, (double) worst_iou, (double) worst_score);
  g_assert_cmpuint (n_faces, >=, 3);
  kestrel_task_decoder_free (decoder);
  /* Mixed, the plan still gives the same bits at every level and thread
   * count (the layers kept FP32 run the reference kernels): the canary
   * can compare it exactly. */
  check_levels_bit_identical (model, table, ac->precision, fill_blazeface, 2);
}

/* ---- INT4 weights: the scheme ------------------------------------------- */

/* The error of both INT4 schemes on the model's one-group convolutions
 * (the layers INT4 plans can make INT4): the one the plans use
 * (KESTREL_INT4_SCHEME) must be the smaller. */
static void
test_int4_weights (gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = kestrel_builtin_model_new (data, &error);
  const KestrelGraph *graph;
  double err[2] = { 0, 0 }, sig[2] = { 0, 0 };
  guint n_layers = 0;

  g_assert_no_error (error);
  graph = kestrel_model_get_graph (model);
  for (guint n = 0; n < graph->nodes->len; n++)
    {
      const KestrelNode *node = kestrel_graph_node ((KestrelGraph *) graph, n);
      const KestrelValue *w;
      if (strcmp (node->op_type, "Conv") != 0 || kestrel_node_attr_int (node, "group", 1) != 1)
        continue;
      w = kestrel_graph_value ((KestrelGraph *) graph, kestrel_node_input (node, 1));
      if (w == NULL || w->constant == NULL || w->n_dims != 4 || w->dtype != KESTREL_DTYPE_FLOAT32)
        continue;
      const float *wd = kestrel_tensor_get_data (w->constant);
      gsize k = (gsize) (w->shape[1] * w->shape[2] * w->shape[3]), cout = (gsize) w->shape[0];
      g_autofree gint8 *wq = g_new (gint8, cout * k);
      g_autofree float *unit = g_new (float, cout);
      for (int scheme = 0; scheme < 2; scheme++)
        {
          g_assert_true (kestrel_int4_quantize_conv (wd, w->shape, scheme, wq, unit));
          kestrel_int4_error (wd, cout, k, wq, unit, &err[scheme], &sig[scheme]);
        }
      n_layers++;
    }
  g_assert_cmpuint (n_layers, >, 5);
  double rel_sym = err[KESTREL_INT4_SYMMETRIC] / sig[KESTREL_INT4_SYMMETRIC];
  double rel_zp = err[KESTREL_INT4_ZERO_POINT] / sig[KESTREL_INT4_ZERO_POINT];
  g_test_message ("%s: %u one-group convolutions; relative squared error of INT4 weights: symmetric %.5f "
                  "(%.1f dB), with a zero point %.5f (%.1f dB)", (const char *) data, n_layers, rel_sym,
                  -10.0 * log10 (rel_sym), rel_zp, -10.0 * log10 (rel_zp));
  g_assert_cmpfloat (err[KESTREL_INT4_SCHEME], <=, err[!KESTREL_INT4_SCHEME]);
}

/* ---- a model Kestrel was not written for ----------------------------------- */

/* UltraFace: NCHW [1,3,240,320], (pixel - 127) / 128. */
static gboolean
fill_ultraface (KestrelPlan *plan, guint frame, gpointer user_data, GError **error)
{
  const KestrelTensorView *input = kestrel_plan_get_input (plan, 0);
  kk_model_input_params params = {
    .width = input->shape[3], .height = input->shape[2], .layout = KK_LAYOUT_NCHW,
    .scale = { 1 / 128.f, 1 / 128.f, 1 / 128.f }, .offset = { -127 / 128.f, -127 / 128.f, -127 / 128.f },
  };
  kk_model_input_geometry geometry;
  g_autofree char *path = sample_photo_path (frame % G_N_ELEMENTS (sample_photos));
  g_autoptr(KestrelImage) image = kestrel_image_new_from_file (path, error);

  if (image == NULL)
    return FALSE;
  kestrel_image_fill_tensor (kestrel_image_get_view (image), &params, kk_kernels_for_level (KK_LEVEL_SCALAR),
                             input->data, &geometry);
  return TRUE;
}

static void
fill_ultraface_frame (KestrelPlan *plan, guint frame)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (fill_ultraface (plan, frame, NULL, &error));
  g_assert_no_error (error);
}

static void
test_ultraface (void)
{
  g_autofree char *path = g_build_filename (TEST_SOURCE_ROOT, "tests", "models", "ultraface_rfb320.onnx", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = kestrel_model_new_from_file (path, &error);
  g_assert_no_error (error);
  g_autoptr(KestrelQuantTable) table = kestrel_calibrate_minmax (model, 3, fill_ultraface, NULL, NULL, &error);
  g_assert_no_error (error);
  g_autoptr(KestrelPlan) fp32 = fp32_plan (model);
  g_autoptr(KestrelPlan) int8 = int8_plan (model, table, KK_LEVEL_FULL, 2, NULL);
  Sqnr sqnr[8] = { { 0 } };

  if (g_test_verbose ())
    describe_plan (int8);
  g_test_message ("UltraFace: %u steps, %u INT8; weight bytes INT8 %zu, FP32 %zu", kestrel_plan_get_n_steps (int8),
                  count_int8_steps (int8), kestrel_plan_get_weight_bytes (int8), kestrel_plan_get_weight_bytes (fp32));
  check_levels_bit_identical (model, table, KESTREL_PRECISION_INT8, fill_ultraface_frame, 3);

  for (guint frame = 0; frame < 3; frame++)
    {
      fill_ultraface_frame (fp32, frame);
      fill_ultraface_frame (int8, frame);
      kestrel_plan_run (fp32);
      kestrel_plan_run (int8);
      for (guint o = 0; o < MIN (kestrel_plan_get_n_outputs (fp32), G_N_ELEMENTS (sqnr)); o++)
        add_sqnr (&sqnr[o], kestrel_plan_get_output (fp32, o), kestrel_plan_get_output (int8, o));
    }
  for (guint o = 0; o < MIN (kestrel_plan_get_n_outputs (fp32), G_N_ELEMENTS (sqnr)); o++)
    {
      double db = 10.0 * log10 (sqnr[o].signal / MAX (sqnr[o].noise, 1e-30));
      g_test_message ("UltraFace: output %s SQNR %.1f dB over 3 photos", kestrel_plan_get_output_name (fp32, o), db);
      /* Not an accuracy goal for this model, a sanity floor: INT8 computes
       * the same function, not noise. */
      g_assert_cmpfloat (db, >, 10.0);
    }
}

/* ---- mixed precision and errors ------------------------------------------ */

static void
test_fp32_layers (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = kestrel_builtin_model_new ("front", &error);
  g_autoptr(KestrelQuantTable) table = calibrate_on_samples (model);
  g_autoptr(KestrelPlan) all = int8_plan (model, table, KK_LEVEL_SCALAR, 1, NULL);
  const char *first = NULL;

  /* The first INT8 convolution, kept FP32 by name. */
  for (guint s = 0; s < kestrel_plan_get_n_steps (all) && first == NULL; s++)
    if (strcmp (kestrel_plan_get_step (all, s)->node->op_type, "QConvNhwc") == 0)
      first = kestrel_plan_get_step (all, s)->node->name;
  g_assert_nonnull (first);
  const char *const keep[] = { first, NULL };
  g_autoptr(KestrelPlan) mixed = int8_plan (model, table, KK_LEVEL_SCALAR, 1, keep);
  gboolean found = FALSE;
  for (guint s = 0; s < kestrel_plan_get_n_steps (mixed); s++)
    {
      const KestrelStep *step = kestrel_plan_get_step (mixed, s);
      if (strcmp (step->node->name, first) != 0)
        continue;
      found = TRUE;
      g_assert_cmpstr (step->node->op_type, ==, "ConvNhwc");
      g_assert_cmpint (kestrel_plan_get_step_precision (mixed, s), ==, KESTREL_PRECISION_FP32);
    }
  g_assert_true (found);
  g_assert_cmpuint (count_int8_steps (mixed), >, 0);
  g_assert_cmpuint (kestrel_plan_get_weight_bytes (mixed), >, kestrel_plan_get_weight_bytes (all));
}

static void
test_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) front = kestrel_builtin_model_new ("front", &error);
  g_autoptr(KestrelModel) back = kestrel_builtin_model_new ("back", &error);
  g_autoptr(KestrelQuantTable) front_table = calibrate_on_samples (front);
  g_autoptr(KestrelQuantTable) partial = kestrel_quant_table_new (kestrel_model_get_content_hash (front), "minmax", 1);
  KestrelPlanOptions options;

  kestrel_plan_options_init (&options);
  options.precision = KESTREL_PRECISION_INT8;
  g_assert_true (kestrel_precision_is_supported (KESTREL_PRECISION_INT8));

  g_assert_null (kestrel_plan_new (front, &options, &error));
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT);
  g_test_message ("no table: %s", error->message);
  g_assert_nonnull (strstr (error->message, "calibration table"));
  g_clear_error (&error);

  options.quant_table = front_table;
  g_assert_null (kestrel_plan_new (back, &options, &error));
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT);
  g_test_message ("another model's table: %s", error->message);
  g_assert_nonnull (strstr (error->message, "another model"));
  g_clear_error (&error);

  /* A table with every entry of the front model's but one. */
  const char *dropped = NULL;
  for (guint i = 0; i < kestrel_quant_table_get_n_entries (front_table); i++)
    {
      KestrelQuantParams p;
      const char *name = kestrel_quant_table_get_entry (front_table, i, &p);
      if (i == kestrel_quant_table_get_n_entries (front_table) / 2)
        dropped = name;
      else
        kestrel_quant_table_set_params (partial, name, &p);
    }
  options.quant_table = partial;
  g_assert_null (kestrel_plan_new (front, &options, &error));
  g_test_message ("a table without '%s': %s", dropped, error->message);
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, dropped));
}

int
main (int argc, char **argv)
{
  /* A user cache of this program's own: the accuracy tests calibrate as
   * the engine does, and must not read a table an older build left. */
  char *cache = private_cache_begin ();
  int status;

  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/int8/levels/front", "front", test_blazeface_levels);
  g_test_add_data_func ("/int8/levels/back", "back", test_blazeface_levels);
  static const AccuracyCase accuracy[] = {
    { "front", KESTREL_PRECISION_INT8, 0 }, { "back", KESTREL_PRECISION_INT8, 0 },
    { "front", KESTREL_PRECISION_INT4, 2 }, { "back", KESTREL_PRECISION_INT4, 0 },
  };
  g_test_add_data_func ("/int8/accuracy/front", &accuracy[0], test_blazeface_accuracy);
  g_test_add_data_func ("/int8/accuracy/back", &accuracy[1], test_blazeface_accuracy);
  g_test_add_data_func ("/int4/accuracy/front", &accuracy[2], test_blazeface_accuracy);
  g_test_add_data_func ("/int4/accuracy/back", &accuracy[3], test_blazeface_accuracy);
  g_test_add_data_func ("/int4/weights/front", "front", test_int4_weights);
  g_test_add_data_func ("/int4/weights/back", "back", test_int4_weights);
  g_test_add_func ("/int8/ultraface", test_ultraface);
  g_test_add_func ("/int8/fp32-layers", test_fp32_layers);
  g_test_add_func ("/int8/errors", test_errors);
  status = g_test_run ();
  private_cache_end (cache);
  return status;
}
