/* quant-test-util.h — what the INT8 tests share: the bundled sample photos
 * (data/samples) as BlazeFace inputs, and calibration over them.
 * Header-only: each test is one program. */
#pragma once

#include <string.h>

#include <glib.h>

#include "kestrel-calibrate.h"
#include "kestrel-image.h"
#include "kestrel-plan.h"

/* The photos bundled with Kestrel: faces in the first three. */
static const char *const sample_photos[] = {
  "astronaut.png", "camera.png", "grace_hopper.jpg", "coffee.png", "rocket.jpg",
};

static inline char *
sample_photo_path (guint i)
{
  return g_build_filename (TEST_SOURCE_ROOT, "data", "samples", sample_photos[i], NULL);
}

/* BlazeFace's input: NHWC in [-1, 1], letterboxed with black (-1), as the
 * BlazeFace plugin prepares frames: calibrated on anything else (a
 * border of 0, mid-grey), the ranges miss what the letterboxed photos give
 * the model, and the back model's outputs on them fall to 1 dB SQNR. */
static inline kk_model_input_params
blazeface_input_params (const KestrelTensorView *input)
{
  kk_model_input_params params = {
    .width = input->shape[2], .height = input->shape[1], .layout = KK_LAYOUT_NHWC,
    .scale = { 2 / 255.f, 2 / 255.f, 2 / 255.f }, .offset = { -1, -1, -1 }, .letterbox = TRUE,
    .pad = { -1, -1, -1 },
  };
  return params;
}

/* Photo `i` into the plan's input 0 with the scalar kernels, so that every
 * plan sees the same bits whatever its level. */
static inline gboolean
fill_sample_photo (KestrelPlan *plan, guint i, GError **error)
{
  const KestrelTensorView *input = kestrel_plan_get_input (plan, 0);
  kk_model_input_params params = blazeface_input_params (input);
  kk_model_input_geometry geometry;
  g_autofree char *path = sample_photo_path (i % G_N_ELEMENTS (sample_photos));
  g_autoptr(KestrelImage) image = kestrel_image_new_from_file (path, error);

  if (image == NULL)
    return FALSE;
  kestrel_image_fill_tensor (kestrel_image_get_view (image), &params, kk_kernels_for_level (KK_LEVEL_SCALAR),
                             input->data, &geometry);
  return TRUE;
}

static inline gboolean
fill_sample_frame (KestrelPlan *plan, guint frame, gpointer user_data, GError **error)
{
  return fill_sample_photo (plan, frame, error);
}

/* A plan of `model` at `precision`, `level` and `threads` (0: as many as
 * the plan chooses), with `table` for the integer precisions (NULL: the
 * one a QDQ model carries) and the layers named in `fp32_layers` kept
 * FP32. */
static inline KestrelPlan *
quant_test_plan (KestrelModel *model, KestrelPrecision precision, KestrelQuantTable *table,
                 kk_level level, guint threads, const char *const *fp32_layers)
{
  KestrelPlanOptions options;
  g_autoptr(GError) error = NULL;
  KestrelPlan *plan;

  kestrel_plan_options_init (&options);
  options.level = level;
  options.n_threads = threads;
  options.precision = precision;
  options.quant_table = table;
  options.fp32_layers = fp32_layers;
  plan = kestrel_plan_new (model, &options, &error);
  g_assert_no_error (error);
  return plan;
}

/* An INT8 plan of `model` with `table` (NULL: the one a QDQ model
 * carries) and the layers named in `fp32_layers` kept FP32. */
static inline KestrelPlan *
int8_plan (KestrelModel *model, KestrelQuantTable *table, kk_level level, guint threads,
           const char *const *fp32_layers)
{
  return quant_test_plan (model, KESTREL_PRECISION_INT8, table, level, threads, fp32_layers);
}

/* A minmax table over the bundled photos. */
static inline KestrelQuantTable *
calibrate_on_samples (KestrelModel *model)
{
  g_autoptr(GError) error = NULL;
  KestrelQuantTable *table = kestrel_calibrate_minmax (model, G_N_ELEMENTS (sample_photos), fill_sample_frame,
                                                       NULL, NULL, &error);
  g_assert_no_error (error);
  return table;
}
