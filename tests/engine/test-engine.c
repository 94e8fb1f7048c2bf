/* test-engine.c — the ONNX engine on the real BlazeFace models: levels agree
 * with the scalar reference, the NHWC passes leave no Transpose behind,
 * steady-state inference allocates nothing, and damaged files give errors. */
#include <math.h>
#include <string.h>

#include <glib.h>

#include "kestrel-error.h"
#include "kestrel-model.h"
#include "kestrel-onnx.h"
#include "kestrel-plan.h"

#include "alloc-counter.h"

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

static KestrelPlan *
plan_for (KestrelModel *model, kk_level level, guint threads)
{
  KestrelPlanOptions options;
  g_autoptr(GError) error = NULL;
  KestrelPlan *plan;

  kestrel_plan_options_init (&options);
  options.level = level;
  options.n_threads = threads;
  plan = kestrel_plan_new (model, &options, &error);
  g_assert_no_error (error);
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
  g_autoptr(KestrelPlan) ref = plan_for (model, KK_LEVEL_SCALAR, 1);

  fill_input (ref, 7);
  kestrel_plan_run (ref);
  for (int level = KK_LEVEL_SIMD; level < KK_LEVEL_COUNT; level++)
    for (guint threads = 1; threads <= 2; threads++)
      {
        g_autoptr(KestrelPlan) plan = plan_for (model, level, threads);
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
 * each convolution must all cancel. */
static void
test_no_transposes_left (gconstpointer data)
{
  g_autoptr(KestrelModel) model = load (data);
  g_autoptr(KestrelPlan) plan = plan_for (model, KK_LEVEL_FULL, 2);
  guint transposes = 0, fast = 0;

  for (guint s = 0; s < kestrel_plan_get_n_steps (plan); s++)
    {
      const KestrelStep *step = kestrel_plan_get_step (plan, s);
      transposes += strcmp (step->node->op_type, "Transpose") == 0;
      fast += strcmp (step->node->domain, "kestrel") == 0;
    }
  g_test_message ("%u steps, %u NHWC, %u Transpose", kestrel_plan_get_n_steps (plan), fast, transposes);
  g_assert_cmpuint (transposes, ==, 0);
  g_assert_cmpuint (fast, >, 0);
}

static void
test_no_allocation (gconstpointer data)
{
  g_autoptr(KestrelModel) model = load (data);

  for (int level = 0; level < KK_LEVEL_COUNT; level++)
    {
      g_autoptr(KestrelPlan) plan = plan_for (model, level, 2);
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
      g_autofree char *a = g_strdup_printf ("/engine/levels-agree/%s", models[i]);
      g_autofree char *b = g_strdup_printf ("/engine/no-transposes-left/%s", models[i]);
      g_autofree char *c = g_strdup_printf ("/engine/no-allocation/%s", models[i]);
      g_test_add_data_func (a, models[i], test_levels_agree);
      g_test_add_data_func (b, models[i], test_no_transposes_left);
      g_test_add_data_func (c, models[i], test_no_allocation);
    }
  g_test_add_func ("/engine/damaged-files", test_damaged_files);
  return g_test_run ();
}
