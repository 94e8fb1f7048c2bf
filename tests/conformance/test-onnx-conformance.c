/* test-onnx-conformance.c — Debian's ONNX backend test data, run through
 * Kestrel at every optimisation level.
 *
 * Each case directory holds model.onnx and test_data_set_0/{input,output}_N.pb.
 * A case whose model Kestrel cannot take (an operator it does not implement,
 * a data type it does not have) is skipped with the reason; any other error,
 * and any output outside rtol 1e-3 / atol 1e-5, fails.
 *
 * Environment:
 *   KESTREL_CONFORMANCE_DATA    the data folder (default /usr/share/libonnx-testdata/data)
 *   KESTREL_CONFORMANCE_FILTER  only cases whose name contains this text
 *   KESTREL_CONFORMANCE_TABLE   write a Markdown table of results per operator here
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "kestrel-error.h"
#include "kestrel-model.h"
#include "kestrel-onnx.h"
#include "kestrel-plan.h"
#include "../test-missing.h"
#include "conformance-case.h"
#include "conformance-classes.h"

#define RTOL 1e-3
#define ATOL 1e-5

static const char *const suites[] = { "node", "pytorch-converted", "pytorch-operator" };

static GPtrArray *all_cases;

static void
case_free (gpointer data)
{
  Case *c = data;
  g_free (c->suite);
  g_free (c->name);
  g_free (c->dir);
  g_ptr_array_unref (c->ops);
  g_free (c->skip_reason);
  g_free (c);
}

static gboolean
values_close (KestrelDType dtype, const void *got, const void *want, gsize i, double *diff)
{
  switch (dtype)
    {
    case KESTREL_DTYPE_FLOAT32:
      {
        double a = ((const float *) got)[i], b = ((const float *) want)[i];
        if (isnan (a) || isnan (b))
          return isnan (a) && isnan (b);
        if (isinf (a) || isinf (b))
          return a == b;
        *diff = fabs (a - b);
        return *diff <= ATOL + RTOL * fabs (b);
      }
    case KESTREL_DTYPE_FLOAT64:
      {
        double a = ((const double *) got)[i], b = ((const double *) want)[i];
        if (isnan (a) || isnan (b))
          return isnan (a) && isnan (b);
        if (isinf (a) || isinf (b))
          return a == b;
        *diff = fabs (a - b);
        return *diff <= ATOL + RTOL * fabs (b);
      }
    case KESTREL_DTYPE_INT64:
      return ((const gint64 *) got)[i] == ((const gint64 *) want)[i];
    case KESTREL_DTYPE_INT32:
      return ((const gint32 *) got)[i] == ((const gint32 *) want)[i];
    case KESTREL_DTYPE_FLOAT16:
      /* Compared bit for bit: Kestrel's float16 paths convert exactly. */
      return ((const guint16 *) got)[i] == ((const guint16 *) want)[i];
    case KESTREL_DTYPE_INT8:
    case KESTREL_DTYPE_UINT8:
    case KESTREL_DTYPE_BOOL:
      return ((const guint8 *) got)[i] == ((const guint8 *) want)[i];
    default:
      return FALSE;
    }
}

/* Runs the case at one level; returns FALSE with a message on mismatch.
 * Plan input i reads input_<fed[i]>.pb. */
static gboolean
run_level (Case *c, KestrelModel *model, const GArray *fed, kk_level level, GError **error)
{
  KestrelPlanOptions options;
  g_autoptr(KestrelPlan) plan = NULL;
  g_autofree char *data_dir = g_build_filename (c->dir, "test_data_set_0", NULL);

  kestrel_plan_options_init (&options);
  options.level = level;
  options.n_threads = 2;
  plan = kestrel_plan_new (model, &options, error);
  if (plan == NULL)
    return FALSE;

  for (guint i = 0; i < kestrel_plan_get_n_inputs (plan); i++)
    {
      g_autofree char *file = g_strdup_printf ("input_%d.pb", g_array_index (fed, gint, i));
      g_autofree char *path = g_build_filename (data_dir, file, NULL);
      g_autoptr(KestrelTensor) input = kestrel_onnx_tensor_from_file (path, error);
      const KestrelTensorView *view = kestrel_plan_get_input (plan, i);

      if (input == NULL)
        return FALSE;
      if (kestrel_tensor_get_n_bytes (input) != view->n_elements * kestrel_dtype_get_size (view->dtype)
          || kestrel_tensor_get_dtype (input) != view->dtype)
        {
          g_autofree char *want = kestrel_shape_to_string (view->n_dims, view->shape);
          g_autofree char *got = kestrel_tensor_describe (input);
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_FAILED,
                       "%s is %s but the plan expects %s%s", file, got,
                       kestrel_dtype_get_name (view->dtype), want);
          return FALSE;
        }
      memcpy (view->data, kestrel_tensor_get_data (input), kestrel_tensor_get_n_bytes (input));
    }

  kestrel_plan_run (plan);

  for (guint o = 0; o < kestrel_plan_get_n_outputs (plan); o++)
    {
      g_autofree char *file = g_strdup_printf ("output_%u.pb", o);
      g_autofree char *path = g_build_filename (data_dir, file, NULL);
      g_autoptr(KestrelTensor) want = kestrel_onnx_tensor_from_file (path, error);
      const KestrelTensorView *got = kestrel_plan_get_output (plan, o);
      gsize n;

      if (want == NULL)
        return FALSE;
      n = kestrel_tensor_get_n_elements (want);
      if (kestrel_tensor_get_dtype (want) != got->dtype || n != got->n_elements
          || kestrel_tensor_get_n_dims (want) != got->n_dims
          || memcmp (kestrel_tensor_get_shape (want), got->shape, got->n_dims * sizeof (gint64)) != 0)
        {
          g_autofree char *w = kestrel_tensor_describe (want);
          g_autofree char *g = kestrel_shape_to_string (got->n_dims, got->shape);
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_FAILED,
                       "output %u: expected %s, got %s%s", o, w, kestrel_dtype_get_name (got->dtype), g);
          return FALSE;
        }
      for (gsize i = 0; i < n; i++)
        {
          double diff = 0;
          if (!values_close (got->dtype, got->data, kestrel_tensor_get_data (want), i, &diff))
            {
              g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_FAILED,
                           "output %u element %zu differs (|diff| %.3g beyond rtol %g, atol %g)",
                           o, i, diff, RTOL, ATOL);
              return FALSE;
            }
        }
    }
  return TRUE;
}

/* Kestrel plans need shapes known up front, so an input that decides a
 * shape (Resize's sizes, Pad's pads, Reshape's shape) must be a constant.
 * The conformance data feeds such values as graph inputs; this loads the
 * model again with every input from `first_bound` on bound to its test
 * value, the way an application would freeze them. (When the first input
 * decides the shape too -- Range's start, NonMaxSuppression's boxes --
 * every input is bound, and the case tests the operator as constant
 * folding evaluates it.) */
static KestrelModel *
load_with_bound_inputs (Case *c, const char *model_path, guint first_bound, GArray *fed,
                        GError **error)
{
  g_autoptr(GMappedFile) file = g_mapped_file_new (model_path, FALSE, error);
  g_autoptr(GBytes) bytes = NULL;
  KestrelGraph *graph;

  if (file == NULL)
    return NULL;
  bytes = g_mapped_file_get_bytes (file);
  graph = kestrel_onnx_load_graph (bytes, model_path, error);
  if (graph == NULL)
    return NULL;
  g_array_set_size (fed, 0);
  for (guint i = 0; i < graph->inputs->len; i++)
    {
      KestrelValue *value = kestrel_graph_value (graph, g_array_index (graph->inputs, gint, i));
      g_autofree char *name = g_strdup_printf ("input_%u.pb", i);
      g_autofree char *path = g_build_filename (c->dir, "test_data_set_0", name, NULL);
      KestrelTensor *tensor;
      gint index = i;

      if (i < first_bound)
        {
          g_array_append_val (fed, index);
          continue;
        }
      tensor = kestrel_onnx_tensor_from_file (path, error);
      if (tensor == NULL)
        {
          kestrel_graph_free (graph);
          return NULL;
        }
      value->constant = tensor;
      value->is_input = FALSE;
      kestrel_value_set_shape (value, kestrel_tensor_get_dtype (tensor),
                               kestrel_tensor_get_n_dims (tensor), kestrel_tensor_get_shape (tensor));
    }
  g_array_set_size (graph->inputs, MIN (first_bound, graph->inputs->len));
  return kestrel_model_new_from_graph (graph, model_path, error);
}

static void
test_case (gconstpointer data)
{
  Case *c = (Case *) data;
  g_autofree char *model_path = g_build_filename (c->dir, "model.onnx", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = kestrel_model_new_from_file (model_path, &error);
  g_autoptr(GArray) fed = g_array_new (FALSE, FALSE, sizeof (gint));

  if (model == NULL && g_error_matches (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED)
      && strstr (error->message, "must be a constant") != NULL)
    {
      g_autoptr(GError) bound_error = NULL;
      guint first_bound = 1;

      model = load_with_bound_inputs (c, model_path, first_bound, fed, &bound_error);
      if (model == NULL && g_error_matches (bound_error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED)
          && strstr (bound_error->message, "must be a constant") != NULL)
        {
          g_clear_error (&bound_error);
          first_bound = 0;
          model = load_with_bound_inputs (c, model_path, first_bound, fed, &bound_error);
        }
      if (model != NULL)
        {
          g_test_message ("inputs from %u on bound as constants (%s)", first_bound,
                          error->message);
          c->bound_inputs = TRUE;
          g_clear_error (&error);
        }
      else if (g_error_matches (bound_error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED))
        {
          /* What stops the case once the shapes are known. */
          g_clear_error (&error);
          error = g_steal_pointer (&bound_error);
        }
    }
  else if (model != NULL)
    for (gint i = 0; i < (gint) kestrel_model_get_n_inputs (model); i++)
      g_array_append_val (fed, i);

  if (model == NULL)
    {
      if (g_error_matches (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED))
        {
          c->skip_reason = g_strdup (error->message);
          g_test_skip (error->message);
          return;
        }
      c->failed = TRUE;
      g_test_fail_printf ("%s: %s", c->name, error->message);
      return;
    }

  for (int level = 0; level < KK_LEVEL_COUNT; level++)
    if (!run_level (c, model, fed, level, &error))
      {
        if (g_error_matches (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED))
          {
            c->skip_reason = g_strdup_printf ("level %s: %s", kk_level_name (level), error->message);
            g_test_skip (c->skip_reason);
            return;
          }
        c->failed = TRUE;
        g_test_fail_printf ("%s at level %s: %s", c->name, kk_level_name (level), error->message);
        return;
      }
}

/* The op types of a model, read from the file without the loader's
 * checks: a model Kestrel refuses (an input of type double) still counts
 * for the operators it uses. */
static GPtrArray *
model_ops (const char *model_path)
{
  GPtrArray *ops = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GMappedFile) file = g_mapped_file_new (model_path, FALSE, NULL);
  g_auto(GStrv) types = NULL;

  if (file != NULL)
    {
      g_autoptr(GBytes) bytes = g_mapped_file_get_bytes (file);
      types = kestrel_onnx_list_op_types (bytes, model_path, NULL);
    }
  if (types == NULL)
    {
      g_ptr_array_add (ops, g_strdup ("(not loadable)"));
      return ops;
    }
  for (guint i = 0; types[i] != NULL; i++)
    g_ptr_array_add (ops, g_strdup (types[i]));
  if (ops->len == 0)
    g_ptr_array_add (ops, g_strdup ("Constant"));
  return ops;
}

/* A vision case: every operator of its model is one the table holds
 * Kestrel to (conformance-classes.c). */
static gboolean
ops_are_vision (GPtrArray *ops)
{
  for (guint o = 0; o < ops->len; o++)
    if (conformance_op_out_reason (g_ptr_array_index (ops, o)) != NULL)
      return FALSE;
  return TRUE;
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

int
main (int argc, char **argv)
{
  const char *root = g_getenv ("KESTREL_CONFORMANCE_DATA");
  const char *filter = g_getenv ("KESTREL_CONFORMANCE_FILTER");
  const char *table = g_getenv ("KESTREL_CONFORMANCE_TABLE");
  int status;

  g_test_init (&argc, &argv, NULL);
  if (root == NULL)
    root = "/usr/share/libonnx-testdata/data";

  all_cases = g_ptr_array_new_with_free_func (case_free);
  for (gsize s = 0; s < G_N_ELEMENTS (suites); s++)
    {
      g_autofree char *suite_dir = g_build_filename (root, suites[s], NULL);
      g_autoptr(GDir) dir = g_dir_open (suite_dir, 0, NULL);
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      const char *name;

      if (dir == NULL)
        continue;
      while ((name = g_dir_read_name (dir)) != NULL)
        if (filter == NULL || strstr (name, filter) != NULL)
          g_ptr_array_add (names, g_strdup (name));
      g_ptr_array_sort (names, compare_strings);
      for (guint i = 0; i < names->len; i++)
        {
          Case *c = g_new0 (Case, 1);
          g_autofree char *model_path = NULL;
          g_autofree char *test_path = NULL;

          c->suite = g_strdup (suites[s]);
          c->name = g_strdup (g_ptr_array_index (names, i));
          c->dir = g_build_filename (suite_dir, c->name, NULL);
          model_path = g_build_filename (c->dir, "model.onnx", NULL);
          if (!g_file_test (model_path, G_FILE_TEST_EXISTS))
            {
              case_free (c);
              continue;
            }
          c->ops = model_ops (model_path);
          c->vision = ops_are_vision (c->ops);
          g_ptr_array_add (all_cases, c);
          test_path = g_strdup_printf ("/conformance/%s/%s", c->suite, c->name);
          g_test_add_data_func (test_path, c, test_case);
        }
    }

  if (all_cases->len == 0)
    {
      /* TAP: a plan of no tests with a reason is a skip; a bail-out fails. */
      if (test_in_ci ())
        {
          printf ("Bail out! no conformance data under %s (Debian package libonnx-testdata), "
                  "and CI must have every test package: add it to scripts/install-deps.sh --test\n", root);
          return 1;
        }
      printf ("1..0 # SKIP no conformance data under %s (Debian package libonnx-testdata; "
              "scripts/install-deps.sh --test installs it)\n", root);
      return 0;
    }

  status = g_test_run ();
  if (table != NULL)
    conformance_write_table (all_cases, table);
  g_ptr_array_unref (all_cases);
  return status;
}
