/* perf-probe — one inference of a built-in model at one precision, for
 * scripts/perf-guard.sh to count under callgrind.
 *
 *   perf-probe --list            the built-in models and supported precisions
 *   perf-probe MODEL PRECISION   plan at level simd (one thread: no thread
 *                                pool whose spinning would vary the count),
 *                                fixed input, one kestrel_plan_run()
 *
 * The guard counts only inside kestrel_plan_run (callgrind
 * --toggle-collect), so loading and planning, which are not the hot path,
 * do not blur the count; and the guard starts valgrind with instrumentation
 * off (--instr-atstart=no), turned on here just before the inference, so
 * loading and planning run several times faster than instrumented (the
 * count is the same either way: only kestrel_plan_run is collected).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#ifdef HAVE_CALLGRIND_H
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION
#endif

#include "kestrel-bench.h"
#include "kestrel-builtin-models.h"
#include "kestrel-calibrate.h"
#include "kestrel-plan.h"

/* INT8's calibration frame: the same noise the probe runs on. */
static gboolean
fill_noise (KestrelPlan *plan, guint frame, gpointer user_data, GError **error)
{
  const KestrelTensorView *input = kestrel_plan_get_input (plan, 0);

  if (input->dtype == KESTREL_DTYPE_FLOAT32)
    kestrel_bench_fill_noise (input->data, input->n_elements);
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr(KestrelQuantTable) table = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelModel) model = NULL;
  g_autoptr(KestrelPlan) plan = NULL;
  KestrelPlanOptions options;
  const KestrelTensorView *input;

  if (argc == 2 && strcmp (argv[1], "--list") == 0)
    {
      for (const char *const *name = kestrel_builtin_model_names (); *name != NULL; name++)
        for (int p = KESTREL_PRECISION_FP32; p <= KESTREL_PRECISION_INT4; p++)
          if (kestrel_precision_is_supported (p))
            printf ("%s %s\n", *name, kestrel_precision_name (p));
      return 0;
    }
  if (argc != 3)
    {
      fprintf (stderr, "usage: perf-probe --list | perf-probe MODEL PRECISION\n");
      return 2;
    }
  kestrel_plan_options_init (&options);
  options.level = KK_LEVEL_SIMD;
  options.n_threads = 1;
  if (!kestrel_precision_from_name (argv[2], &options.precision))
    {
      fprintf (stderr, "perf-probe: unknown precision '%s'\n", argv[2]);
      return 2;
    }
  model = kestrel_builtin_model_new (argv[1], &error);
  /* One frame is enough for ranges: what is counted is the instructions. */
  if (model != NULL && kestrel_precision_is_integer (options.precision))
    options.quant_table = table = kestrel_calibrate_minmax (model, 1, fill_noise, NULL, NULL, &error);
  if (model != NULL && (!kestrel_precision_is_integer (options.precision) || table != NULL))
    plan = kestrel_plan_new (model, &options, &error);
  if (plan == NULL)
    {
      fprintf (stderr, "perf-probe: %s\n", error->message);
      return 1;
    }
  input = kestrel_plan_get_input (plan, 0);
  if (input->dtype == KESTREL_DTYPE_FLOAT32)
    kestrel_bench_fill_noise (input->data, input->n_elements);
  CALLGRIND_START_INSTRUMENTATION;
  kestrel_plan_run (plan);
  return 0;
}
