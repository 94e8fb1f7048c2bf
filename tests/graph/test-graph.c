/* test-graph.c — models, passes and plans on the real BlazeFace models:
 * levels agree with the scalar reference, the NHWC passes leave no
 * Transpose behind, steady-state inference allocates nothing (FP32, INT8
 * and INT4), and damaged files give errors. */
#include <math.h>
#include <string.h>

#include <glib.h>

#include "kestrel-calibrate.h"
#include "kestrel-error.h"
#include "kestrel-image.h"
#include "kestrel-model.h"
#include "kestrel-onnx.h"
#include "kestrel-passes.h"
#include "kestrel-plan.h"

#include "alloc-counter.h"
#include "../test-missing.h"

static char *
model_path (const char *file)
{
  return g_build_filename (g_getenv ("KESTREL_MODEL_DIR"), file, NULL);
}

static KestrelModel *
load (const char *file)
{
  g_autofree char *path = model_path (file);
  g_autoptr(GError) error = NULL;
  KestrelModel *model = kestrel_model_new_from_file (path, &error);

  g_assert_no_error (error);
  return model;
}

/* batch 0 keeps the model's. */
static KestrelPlan *
plan_at_batch (KestrelModel *model, kk_level level, guint threads, guint batch)
{
  KestrelPlanOptions options;
  g_autoptr(GError) error = NULL;
  KestrelPlan *plan;

  kestrel_plan_options_init (&options);
  options.level = level;
  options.n_threads = threads;
  options.batch = batch;
  plan = kestrel_plan_new (model, &options, &error);
  g_assert_no_error (error);
  if (batch > 0)
    g_assert_cmpuint (kestrel_plan_get_batch (plan), ==, batch);
  return plan;
}

static void
fill_input (KestrelPlan *plan, guint32 seed)
{
  const KestrelTensorView *in = kestrel_plan_get_input (plan, 0);
  float *data = in->data;
  GRand *rand = g_rand_new_with_seed (seed);

  for (gsize i = 0; i < in->n_elements; i++)
    data[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  g_rand_free (rand);
}

static void
test_levels_agree (gconstpointer data)
{
  const char *file = data;
  g_autoptr(KestrelModel) model = load (file);
  g_autoptr(KestrelPlan) ref = plan_at_batch (model, KK_LEVEL_SCALAR, 1, 0);

  fill_input (ref, 7);
  kestrel_plan_run (ref);
  for (int level = KK_LEVEL_SIMD; level < KK_LEVEL_COUNT; level++)
    for (guint threads = 1; threads <= 2; threads++)
      {
        g_autoptr(KestrelPlan) plan = plan_at_batch (model, level, threads, 0);
        double worst = 0;

        fill_input (plan, 7);
        kestrel_plan_run (plan);
        g_assert_cmpuint (kestrel_plan_get_n_outputs (plan), ==, kestrel_plan_get_n_outputs (ref));
        for (guint o = 0; o < kestrel_plan_get_n_outputs (plan); o++)
          {
            const KestrelTensorView *a = kestrel_plan_get_output (ref, o);
            const KestrelTensorView *b = kestrel_plan_get_output (plan, o);
            g_assert_cmpuint (a->n_elements, ==, b->n_elements);
            g_assert_cmpstr (kestrel_plan_get_output_name (ref, o), ==, kestrel_plan_get_output_name (plan, o));
            for (gsize i = 0; i < a->n_elements; i++)
              worst = MAX (worst, fabs (((float *) a->data)[i] - ((float *) b->data)[i]));
          }
        g_test_message ("%s level %s, %u threads: max |diff| vs scalar %.3g", file,
                        kk_level_name (level), threads, worst);
        g_assert_cmpfloat (worst, <=, 1e-4);
      }
}

/* The model's own NHWC<->NCHW Transposes and the ones the pass adds around
 * each convolution must all cancel, at batch 1 and at batch 4 alike: the
 * batch must not cost the fast path any of its rewrites. The channel
 * padding Concats with their zeros (11 in the front model, 2 in the back)
 * are PadAxis steps, which hold no constant. */
static void
test_no_transposes_left (gconstpointer data)
{
  g_autoptr(KestrelModel) model = load (data);
  guint steps_at_1 = 0;

  for (guint batch = 1; batch <= 4; batch *= 4)
    {
      g_autoptr(KestrelPlan) plan = plan_at_batch (model, KK_LEVEL_FULL, 2, batch);
      guint transposes = 0, fast = 0, pads = 0, constant_concats = 0;

      for (guint s = 0; s < kestrel_plan_get_n_steps (plan); s++)
        {
          const KestrelStep *step = kestrel_plan_get_step (plan, s);
          transposes += strcmp (step->node->op_type, "Transpose") == 0;
          fast += strcmp (step->node->domain, "kestrel") == 0;
          pads += strcmp (step->node->op_type, "PadAxis") == 0;
          constant_concats += strcmp (step->node->op_type, "Concat") == 0 && kestrel_plan_get_step_weight_bytes (plan, s) > 0;
          if (batch > 1 && g_test_verbose ())
            g_test_message ("  %s %s", step->node->op_type, step->node->name);
        }
      g_test_message ("batch %u: %u steps, %u NHWC, %u Transpose", batch,
                      kestrel_plan_get_n_steps (plan), fast, transposes);
      g_assert_cmpuint (transposes, ==, 0);
      g_assert_cmpuint (fast, >, 0);
      g_assert_cmpuint (pads, ==, strstr (data, "front") != NULL ? 11 : 2);
      g_assert_cmpuint (constant_concats, ==, 0);
      if (batch == 1)
        steps_at_1 = kestrel_plan_get_n_steps (plan);
      else
        g_assert_cmpuint (kestrel_plan_get_n_steps (plan), ==, steps_at_1);
    }
}

static void
test_no_allocation (gconstpointer data)
{
  g_autoptr(KestrelModel) model = load (data);

  for (int level = 0; level < KK_LEVEL_COUNT; level++)
    {
      g_autoptr(KestrelPlan) plan = plan_at_batch (model, level, 2, 0);
      guint64 allocations;

      fill_input (plan, 3);
      kestrel_plan_run (plan); /* the first run may fault pages in; nothing more */
      alloc_counter_start ();
      for (int i = 0; i < 5; i++)
        kestrel_plan_run (plan);
      allocations = alloc_counter_stop ();
      g_test_message ("level %s: %" G_GUINT64_FORMAT " heap allocations in 5 inferences",
                      kk_level_name (level), allocations);
      g_assert_cmpuint (allocations, ==, 0);
    }
}

static gboolean
fill_random_frame (KestrelPlan *plan, guint frame, gpointer user_data, GError **error)
{
  fill_input (plan, 100 + frame);
  return TRUE;
}

/* INT8 and INT4 plans at every level: ranges from random inputs are
 * enough to count allocations. */
static void
quant_no_allocation (const char *model_name, KestrelPrecision precision)
{
  g_autoptr(KestrelModel) model = load (model_name);
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelQuantTable) table = kestrel_calibrate_minmax (model, 2, fill_random_frame, NULL, NULL, &error);

  g_assert_no_error (error);
  for (int level = 0; level < KK_LEVEL_COUNT; level++)
    {
      KestrelPlanOptions options;
      guint64 allocations;

      kestrel_plan_options_init (&options);
      options.level = level;
      options.n_threads = 2;
      options.precision = precision;
      options.quant_table = table;
      g_autoptr(KestrelPlan) plan = kestrel_plan_new (model, &options, &error);
      g_assert_no_error (error);
      fill_input (plan, 3);
      kestrel_plan_run (plan);
      alloc_counter_start ();
      for (int i = 0; i < 5; i++)
        kestrel_plan_run (plan);
      allocations = alloc_counter_stop ();
      g_test_message ("%s level %s: %" G_GUINT64_FORMAT " heap allocations in 5 inferences",
                      kestrel_precision_name (precision), kk_level_name (level), allocations);
      g_assert_cmpuint (allocations, ==, 0);
    }
}

static void
test_int8_no_allocation (gconstpointer data)
{
  quant_no_allocation (data, KESTREL_PRECISION_INT8);
}

static void
test_int4_no_allocation (gconstpointer data)
{
  quant_no_allocation (data, KESTREL_PRECISION_INT4);
}

/* Four different photographs with faces and without (Debian's sample
 * data). */
static const char *const batch_photos[] = {
  "/usr/lib/python3/dist-packages/skimage/data/astronaut.png",
  "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg",
  "/usr/lib/python3/dist-packages/skimage/data/camera.png",
  "/usr/lib/python3/dist-packages/skimage/data/coffee.png",
};

/* BlazeFace's input: NHWC in [-1, 1]. */
static void
fill_photo (const KestrelTensorView *slice, KestrelImage *image)
{
  kk_model_input_params params = {
    .width = slice->shape[2], .height = slice->shape[1], .layout = KK_LAYOUT_NHWC,
    .scale = { 2 / 255.f, 2 / 255.f, 2 / 255.f }, .offset = { -1, -1, -1 }, .letterbox = TRUE,
  };
  kk_model_input_geometry geometry;

  kestrel_image_fill_tensor (kestrel_image_get_view (image), &params, kk_kernels_for_level (KK_LEVEL_SCALAR),
                             slice->data, &geometry);
}

/* A plan at batch 4 gives, slice by slice, what 4 runs at batch 1 give on
 * 4 different photos: at every level, on 1 and 2 threads. */
static void
test_batch_matches_singles (gconstpointer data)
{
  g_autoptr(KestrelModel) model = load (data);
  KestrelImage *images[G_N_ELEMENTS (batch_photos)];
  const guint batch = G_N_ELEMENTS (batch_photos);

  for (guint i = 0; i < batch; i++)
    if (!test_have_path (batch_photos[i]))
      return;
  for (guint i = 0; i < batch; i++)
    {
      g_autoptr(GError) error = NULL;
      images[i] = kestrel_image_new_from_file (batch_photos[i], &error);
      g_assert_no_error (error);
    }
  g_assert_cmpuint (kestrel_model_get_batch (model), ==, 1);

  for (int level = 0; level < KK_LEVEL_COUNT; level++)
    for (guint threads = 1; threads <= (kk_level_is_parallel (level) ? 2u : 1u); threads++)
      {
        g_autoptr(KestrelPlan) single = plan_at_batch (model, level, threads, 1);
        g_autoptr(KestrelPlan) batched = plan_at_batch (model, level, threads, batch);
        double worst = 0;

        g_assert_cmpuint (kestrel_plan_get_n_outputs (batched), ==, kestrel_plan_get_n_outputs (single));
        for (guint i = 0; i < batch; i++)
          {
            KestrelTensorView slice;
            g_assert_true (kestrel_plan_get_input_slice (batched, 0, i, &slice));
            fill_photo (&slice, images[i]);
          }
        g_assert_false (kestrel_plan_get_input_slice (batched, 0, batch, &(KestrelTensorView) { 0 }));
        kestrel_plan_run (batched);

        for (guint i = 0; i < batch; i++)
          {
            KestrelTensorView slice;
            g_assert_true (kestrel_plan_get_input_slice (single, 0, 0, &slice));
            fill_photo (&slice, images[i]);
            kestrel_plan_run (single);
            for (guint o = 0; o < kestrel_plan_get_n_outputs (single); o++)
              {
                const KestrelTensorView *want = kestrel_plan_get_output (single, o);
                KestrelTensorView got;

                g_assert_true (kestrel_plan_get_output_slice (batched, o, i, &got));
                g_assert_cmpint (kestrel_plan_get_output (batched, o)->shape[0], ==, batch);
                g_assert_cmpuint (got.n_elements, ==, want->n_elements);
                g_assert_cmpuint (got.n_dims, ==, want->n_dims);
                for (guint d = 0; d < got.n_dims; d++)
                  g_assert_cmpint (got.shape[d], ==, want->shape[d]);
                for (gsize e = 0; e < want->n_elements; e++)
                  worst = MAX (worst, fabs (((float *) want->data)[e] - ((float *) got.data)[e]));
              }
          }
        g_test_message ("%s level %s, %u threads: batch %u vs %u single runs, max |diff| %.3g",
                        (const char *) data, kk_level_name (level), threads, batch, batch, worst);
        g_assert_cmpfloat (worst, <=, 1e-4);
      }
  for (guint i = 0; i < batch; i++)
    kestrel_image_unref (images[i]);
}

/* Zero heap allocations per run holds at batch 4 too. */
static void
test_batch_no_allocation (gconstpointer data)
{
  g_autoptr(KestrelModel) model = load (data);

  for (int level = 0; level < KK_LEVEL_COUNT; level++)
    {
      g_autoptr(KestrelPlan) plan = plan_at_batch (model, level, 2, 4);
      guint64 allocations;

      fill_input (plan, 5);
      kestrel_plan_run (plan);
      alloc_counter_start ();
      for (int i = 0; i < 3; i++)
        kestrel_plan_run (plan);
      allocations = alloc_counter_stop ();
      g_test_message ("batch 4, level %s: %" G_GUINT64_FORMAT " heap allocations in 3 inferences",
                      kk_level_name (level), allocations);
      g_assert_cmpuint (allocations, ==, 0);
    }
}

static void
count_filled_steps (const KestrelPlan *plan, guint step, gpointer data)
{
  guint *filled = data;
  const KestrelTensorView *out = &kestrel_plan_get_step (plan, step)->outputs[0];

  g_assert_cmpuint (kestrel_plan_get_batch (plan), ==, 4);
  if (out->data != NULL && out->n_dims > 0 && out->shape[0] == 4)
    (*filled)++;
}

/* Compares the outputs of two plans at batch 4, item by item: the items in
 * `differ` must differ somewhere, the others must be identical. */
static void
assert_items (KestrelPlan *a, KestrelPlan *b, guint differ)
{
  for (guint i = 0; i < 4; i++)
    {
      gboolean same = TRUE;
      for (guint o = 0; o < kestrel_plan_get_n_outputs (a); o++)
        {
          KestrelTensorView x, y;
          g_assert_true (kestrel_plan_get_output_slice (a, o, i, &x));
          g_assert_true (kestrel_plan_get_output_slice (b, o, i, &y));
          same = same && memcmp (x.data, y.data, x.n_elements * sizeof (float)) == 0;
        }
      g_assert_true (same == !(differ & (1u << i)));
    }
}

/* At batch 4 the first, large steps run image by image (kestrel-plan.c):
 * that takes less memory than 4 images at once, and running step by step
 * (observed, profiled) or with a fault in one of those steps still gives
 * what a plain run gives, fault included, in image 0 only. */
static void
test_batch_item_steps (gconstpointer data)
{
  g_autoptr(KestrelModel) model = load (data);
  g_autoptr(KestrelPlan) single = plan_at_batch (model, KK_LEVEL_FULL, 2, 1);
  g_autoptr(KestrelPlan) plan = plan_at_batch (model, KK_LEVEL_FULL, 2, 4);
  g_autoptr(KestrelPlan) observed = plan_at_batch (model, KK_LEVEL_FULL, 2, 4);
  g_autoptr(KestrelPlan) profiled = plan_at_batch (model, KK_LEVEL_FULL, 2, 4);
  g_autoptr(KestrelPlan) faulty = plan_at_batch (model, KK_LEVEL_FULL, 2, 4);
  g_autofree guint64 *step_ns = g_new0 (guint64, kestrel_plan_get_n_steps (profiled));
  guint filled = 0;

  g_test_message ("arena: %zu bytes at batch 1, %zu at batch 4", kestrel_plan_get_arena_bytes (single),
                  kestrel_plan_get_arena_bytes (plan));
  g_assert_cmpuint (kestrel_plan_get_arena_bytes (plan), <, 4 * kestrel_plan_get_arena_bytes (single));

  fill_input (plan, 11);
  fill_input (observed, 11);
  fill_input (profiled, 11);
  fill_input (faulty, 11);
  g_assert_true (kestrel_plan_inject_fault_for_testing (faulty, kestrel_plan_get_step (faulty, 0)->node->name, 1.0f));
  kestrel_plan_run (plan);
  kestrel_plan_run_observed (observed, count_filled_steps, &filled);
  kestrel_plan_run_profiled (profiled, step_ns);
  kestrel_plan_run (faulty);

  /* Every step's output is there, for all 4 images, when it is observed. */
  g_assert_cmpuint (filled, ==, kestrel_plan_get_n_steps (observed));
  assert_items (plan, observed, 0);
  assert_items (plan, profiled, 0);
  assert_items (plan, faulty, 1u << 0);

  /* And again with the fault, observed. */
  g_assert_true (kestrel_plan_inject_fault_for_testing (observed, kestrel_plan_get_step (observed, 0)->node->name, 1.0f));
  filled = 0;
  kestrel_plan_run_observed (observed, count_filled_steps, &filled);
  assert_items (faulty, observed, 0);
}

/* A small graph: X [1,4] -> op -> Y, built by hand. */
static KestrelModel *
tiny_model (const char *op_type, gint64 axis, const gint64 *perm, GError **error)
{
  KestrelGraph *graph = kestrel_graph_new ();
  gint64 shape[2] = { 1, 4 };
  gint x = kestrel_graph_intern_value (graph, "X");
  gint y = kestrel_graph_intern_value (graph, "Y");
  gint n = kestrel_graph_add_node (graph, "", op_type, "the_op");
  KestrelNode *node = kestrel_graph_node (graph, n);

  graph->opset = 13;
  kestrel_value_set_shape (kestrel_graph_value (graph, x), KESTREL_DTYPE_FLOAT32, 2, shape);
  kestrel_graph_value (graph, x)->is_input = TRUE;
  g_array_append_val (graph->inputs, x);
  kestrel_node_add_input (node, x);
  kestrel_node_add_output (graph, n, y);
  if (axis != G_MININT64)
    kestrel_node_set_attr_int (node, "axis", axis);
  if (perm != NULL)
    kestrel_node_set_attr_ints (node, "perm", perm, 2);
  kestrel_graph_value (graph, y)->is_output = TRUE;
  g_array_append_val (graph->outputs, y);
  if (!kestrel_graph_sort (graph, error))
    {
      kestrel_graph_free (graph);
      return NULL;
    }
  return kestrel_model_new_from_graph (graph, "tiny", error);
}

/* Graphs that cannot run batches say so and name the node; the model
 * still plans at its own batch. */
static void
test_batch_refused (void)
{
  static const gint64 swap[2] = { 1, 0 };
  struct {
    const char *op_type;
    gint64 axis;
    const gint64 *perm;
  } cases[] = {
    { "Softmax", 0, NULL },     /* across the images of a batch */
    { "Transpose", G_MININT64, swap }, /* moves the batch away from the front */
    { "Flatten", 0, NULL },     /* folds the batch into the features */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(KestrelModel) model = tiny_model (cases[i].op_type, cases[i].axis, cases[i].perm, &error);
      KestrelPlanOptions options;

      g_assert_no_error (error);
      kestrel_plan_options_init (&options);
      options.level = KK_LEVEL_SCALAR;
      g_autoptr(KestrelPlan) ok = kestrel_plan_new (model, &options, &error);
      g_assert_no_error (error);
      g_assert_nonnull (ok);

      options.batch = 3;
      g_autoptr(KestrelPlan) plan = kestrel_plan_new (model, &options, &error);
      g_assert_null (plan);
      g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED);
      g_test_message ("%s: %s", cases[i].op_type, error->message);
      g_assert_nonnull (strstr (error->message, "the_op"));
      g_assert_nonnull (strstr (error->message, "batch"));
    }
}

static void
test_damaged_files (void)
{
  g_autofree char *path = model_path ("blazeface-front-128.onnx");
  g_autofree char *contents = NULL;
  gsize length;
  GRand *rand = g_rand_new_with_seed (2026);
  guint errors = 0, loaded = 0;

  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));

  /* Truncations: every prefix must fail cleanly. */
  for (guint i = 0; i < 300; i++)
    {
      gsize cut = i < 100 ? i : (gsize) g_rand_int_range (rand, 0, (gint32) length);
      g_autoptr(GBytes) bytes = g_bytes_new (contents, cut);
      g_autoptr(GError) error = NULL;
      g_autoptr(KestrelModel) model = kestrel_model_new_from_bytes (bytes, "truncated", &error);
      g_assert_null (model);
      g_assert_nonnull (error);
      errors++;
    }

  /* Bit flips: the file may still be a valid model (a flipped weight), but
   * whatever loads must plan and run, and whatever does not must say why. */
  for (guint i = 0; i < 300; i++)
    {
      g_autofree char *copy = g_memdup2 (contents, length);
      gsize at = g_rand_int_range (rand, 0, (gint32) length);
      copy[at] ^= (char) (1u << g_rand_int_range (rand, 0, 8));
      g_autoptr(GBytes) bytes = g_bytes_new (copy, length);
      g_autoptr(GError) error = NULL;
      g_autoptr(KestrelModel) model = kestrel_model_new_from_bytes (bytes, "flipped", &error);

      if (model == NULL)
        {
          g_assert_nonnull (error);
          g_assert_cmpstr (error->message, !=, "");
          errors++;
          continue;
        }
      KestrelPlanOptions options;
      kestrel_plan_options_init (&options);
      options.level = i % 2 ? KK_LEVEL_SCALAR : KK_LEVEL_FULL;
      g_autoptr(KestrelPlan) plan = kestrel_plan_new (model, &options, &error);
      if (plan != NULL)
        {
          memset (kestrel_plan_get_input (plan, 0)->data, 0,
                  kestrel_plan_get_input (plan, 0)->n_elements * sizeof (float));
          kestrel_plan_run (plan);
          loaded++;
        }
      else
        errors++;
    }
  g_test_message ("damaged files: %u errors, %u still valid models", errors, loaded);
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  static const char *const models[] = { "blazeface-front-128.onnx", "blazeface-back-256.onnx" };

  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (models); i++)
    {
      g_autofree char *a = g_strdup_printf ("/graph/levels-agree/%s", models[i]);
      g_autofree char *b = g_strdup_printf ("/graph/no-transposes-left/%s", models[i]);
      g_autofree char *c = g_strdup_printf ("/graph/no-allocation/%s", models[i]);
      g_test_add_data_func (a, models[i], test_levels_agree);
      g_test_add_data_func (b, models[i], test_no_transposes_left);
      g_test_add_data_func (c, models[i], test_no_allocation);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (models); i++)
    {
      g_autofree char *a = g_strdup_printf ("/graph/int8/no-allocation/%s", models[i]);
      g_autofree char *b = g_strdup_printf ("/graph/int4/no-allocation/%s", models[i]);
      g_test_add_data_func (a, models[i], test_int8_no_allocation);
      g_test_add_data_func (b, models[i], test_int4_no_allocation);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (models); i++)
    {
      g_autofree char *a = g_strdup_printf ("/graph/batch/matches-singles/%s", models[i]);
      g_autofree char *b = g_strdup_printf ("/graph/batch/no-allocation/%s", models[i]);
      g_autofree char *c = g_strdup_printf ("/graph/batch/item-steps/%s", models[i]);
      g_test_add_data_func (a, models[i], test_batch_matches_singles);
      g_test_add_data_func (b, models[i], test_batch_no_allocation);
      g_test_add_data_func (c, models[i], test_batch_item_steps);
    }
  g_test_add_func ("/graph/batch/refused", test_batch_refused);
  g_test_add_func ("/graph/damaged-files", test_damaged_files);
  return g_test_run ();
}
