/* cli-bench-profile.c — `kestrel-cli bench --profile`: where one inference
 * spends its time, by operator and by step, from runs of
 * kestrel_plan_run_profiled() (each step timed on its own; the clock reads
 * add a little to each step, so the shares matter more than the sums).
 * A step's time is its median over the runs, so one run disturbed by
 * another process does not decide where the time goes.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "kestrel-cli.h"
#include "kestrel-stats.h"

#define TOP_STEPS 10

/* "1x80x80x96 1x3x3x96 -> 1x80x80x24": a step's first two inputs (data and
 * weights, for the operators that take any) and first output, so a slow
 * step says which layer shape it is. */
static void
append_shape (GString *text, const KestrelTensorView *view)
{
  if (view->data == NULL)
    return;
  if (text->len > 0)
    g_string_append_c (text, ' ');
  for (guint d = 0; d < view->n_dims; d++)
    g_string_append_printf (text, "%s%" G_GINT64_FORMAT, d > 0 ? "x" : "", view->shape[d]);
  if (view->n_dims == 0)
    g_string_append (text, "scalar");
}

static char *
step_shapes (const KestrelStep *step)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < MIN (step->n_inputs, 2); i++)
    append_shape (text, &step->inputs[i]);
  if (step->n_outputs > 0)
    {
      g_string_append (text, text->len > 0 ? " ->" : "->");
      append_shape (text, &step->outputs[0]);
    }
  return g_string_free (text, FALSE);
}

typedef struct {
  const char *op_type;
  double ms;
  guint steps;
} OpTime;

static gint
by_time_desc (gconstpointer a, gconstpointer b)
{
  double x = ((const OpTime *) a)->ms, y = ((const OpTime *) b)->ms;
  return (x < y) - (x > y);
}

typedef struct {
  guint step;
  double ms;
} StepTime;

static gint
step_by_time_desc (gconstpointer a, gconstpointer b)
{
  double x = ((const StepTime *) a)->ms, y = ((const StepTime *) b)->ms;
  return (x < y) - (x > y);
}

static void
add_op (JsonBuilder *b, const char *name, double ms, double total_ms, guint steps)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "op");
  json_builder_add_string_value (b, name);
  json_builder_set_member_name (b, "median_ms");
  json_builder_add_double_value (b, ms);
  json_builder_set_member_name (b, "percent");
  json_builder_add_double_value (b, total_ms > 0 ? 100 * ms / total_ms : 0);
  json_builder_set_member_name (b, "steps");
  json_builder_add_int_value (b, steps);
  json_builder_end_object (b);
}

void
kestrel_cli_bench_profile (KestrelPlan *plan, guint runs, JsonBuilder *b)
{
  guint n = kestrel_plan_get_n_steps (plan);
  g_autofree guint64 *step_ns = g_new0 (guint64, n);
  g_autofree double *samples = g_new0 (double, (gsize) n * runs);
  g_autofree double *median_ms = g_new0 (double, n);
  g_autoptr(GArray) ops = g_array_new (FALSE, FALSE, sizeof (OpTime));
  g_autoptr(GArray) steps = g_array_new (FALSE, FALSE, sizeof (StepTime));
  double total_ms = 0;

  for (guint r = 0; r < runs; r++)
    {
      kestrel_plan_run_profiled (plan, step_ns);
      for (guint s = 0; s < n; s++)
        samples[(gsize) s * runs + r] = step_ns[s] / 1e6;
    }
  for (guint s = 0; s < n; s++)
    {
      const KestrelStep *step = kestrel_plan_get_step (plan, s);
      guint o;

      median_ms[s] = kestrel_stats_median (&samples[(gsize) s * runs], runs);
      total_ms += median_ms[s];
      for (o = 0; o < ops->len; o++)
        if (strcmp (g_array_index (ops, OpTime, o).op_type, step->op->op_type) == 0)
          break;
      if (o == ops->len)
        g_array_append_val (ops, ((OpTime) { step->op->op_type, 0, 0 }));
      g_array_index (ops, OpTime, o).ms += median_ms[s];
      g_array_index (ops, OpTime, o).steps++;
      g_array_append_val (steps, ((StepTime) { s, median_ms[s] }));
    }
  g_array_sort (ops, by_time_desc);
  g_array_sort (steps, step_by_time_desc);

  json_builder_set_member_name (b, "profile");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "runs");
  json_builder_add_int_value (b, runs);
  json_builder_set_member_name (b, "total_ms");
  json_builder_add_double_value (b, total_ms);
  json_builder_set_member_name (b, "by_op");
  json_builder_begin_array (b);
  for (guint o = 0; o < ops->len; o++)
    {
      const OpTime *t = &g_array_index (ops, OpTime, o);
      add_op (b, t->op_type, t->ms, total_ms, t->steps);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "top_steps");
  json_builder_begin_array (b);
  for (guint i = 0; i < MIN (steps->len, TOP_STEPS); i++)
    {
      const StepTime *t = &g_array_index (steps, StepTime, i);
      const KestrelStep *step = kestrel_plan_get_step (plan, t->step);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "step");
      json_builder_add_int_value (b, t->step);
      json_builder_set_member_name (b, "op");
      json_builder_add_string_value (b, step->op->op_type);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, step->node != NULL && step->node->name != NULL ? step->node->name : "");
      json_builder_set_member_name (b, "median_ms");
      json_builder_add_double_value (b, t->ms);
      json_builder_set_member_name (b, "percent");
      json_builder_add_double_value (b, total_ms > 0 ? 100 * t->ms / total_ms : 0);
      g_autofree char *shapes = step_shapes (step);
      json_builder_set_member_name (b, "shapes");
      json_builder_add_string_value (b, shapes);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
}

void
kestrel_cli_bench_profile_print (JsonObject *profile)
{
  JsonArray *by_op = json_object_get_array_member (profile, "by_op");
  JsonArray *top = json_object_get_array_member (profile, "top_steps");

  printf ("  profile (median of %" G_GINT64_FORMAT " timed runs, each step on its own: %.3f ms in all)\n",
          json_object_get_int_member (profile, "runs"), json_object_get_double_member (profile, "total_ms"));
  printf ("    %-28s %10s %7s %6s\n", "operator", "ms", "share", "steps");
  for (guint i = 0; i < json_array_get_length (by_op); i++)
    {
      JsonObject *o = json_array_get_object_element (by_op, i);
      printf ("    %-28s %10.3f %6.1f%% %6" G_GINT64_FORMAT "\n", json_object_get_string_member (o, "op"),
              json_object_get_double_member (o, "median_ms"), json_object_get_double_member (o, "percent"),
              json_object_get_int_member (o, "steps"));
    }
  printf ("    slowest steps:\n");
  for (guint i = 0; i < json_array_get_length (top); i++)
    {
      JsonObject *o = json_array_get_object_element (top, i);
      printf ("    %4" G_GINT64_FORMAT " %-18s %10.3f %6.1f%%  %s  %s\n", json_object_get_int_member (o, "step"),
              json_object_get_string_member (o, "op"), json_object_get_double_member (o, "median_ms"),
              json_object_get_double_member (o, "percent"), json_object_get_string_member (o, "name"),
              json_object_get_string_member_with_default (o, "shapes", ""));
    }
}
