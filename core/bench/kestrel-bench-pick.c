/* kestrel-bench-pick.c — choosing among a result's cells: the Pareto front
 * of speed and accuracy, and the fastest configuration within a CPU budget
 * that meets the accuracy goal (see kestrel-bench.h). */
#include "config.h"

#include <math.h>

#include "kestrel-bench.h"

double
kestrel_bench_cell_get_frame_ms (const KestrelBenchCell *cell)
{
  return cell->batch > 0 ? cell->median_ms / cell->batch : (double) NAN;
}

static int
by_frame_time (gconstpointer a, gconstpointer b)
{
  double x = kestrel_bench_cell_get_frame_ms (*(KestrelBenchCell *const *) a);
  double y = kestrel_bench_cell_get_frame_ms (*(KestrelBenchCell *const *) b);
  return x < y ? -1 : x > y ? 1 : 0;
}

GPtrArray *
kestrel_bench_pareto_front (const KestrelBenchResult *result)
{
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
  GPtrArray *front = g_ptr_array_new ();
  double best = -G_MAXDOUBLE;

  for (guint i = 0; i < result->cells->len; i++)
    {
      KestrelBenchCell *c = result->cells->pdata[i];
      if (isfinite (kestrel_bench_cell_get_frame_ms (c)) && !isnan (c->sqnr_db))
        g_ptr_array_add (sorted, c);
    }
  /* Fastest first: a cell is on the front when nothing faster is at least
   * as accurate. */
  g_ptr_array_sort (sorted, by_frame_time);
  for (guint i = 0; i < sorted->len; i++)
    {
      KestrelBenchCell *c = sorted->pdata[i];
      if (c->sqnr_db > best)
        {
          g_ptr_array_add (front, c);
          best = c->sqnr_db;
        }
    }
  return front;
}

gboolean
kestrel_bench_cell_meets_goal (const KestrelBenchCell *cell)
{
  double agreeing = kestrel_bench_cell_get_faces_agreeing (cell);

  /* Unmeasured faces (a model no plugin decodes): only the reference's own
   * precision is known to agree with it. */
  if (isnan (agreeing))
    return cell->precision == KESTREL_PRECISION_FP32;
  return agreeing >= 1.0;
}

double
kestrel_bench_cell_get_rate_within (const KestrelBenchCell *cell, double budget_percent)
{
  double rate = cell->frames_per_s;

  if (!(rate > 0))
    return NAN;
  if (budget_percent > 0)
    {
      /* budget_percent of one core is budget_percent * 10 ms of CPU time
       * a second. */
      if (!(cell->cpu_ms_per_frame > 0))
        return NAN;
      rate = MIN (rate, budget_percent * 10.0 / cell->cpu_ms_per_frame);
    }
  return rate;
}

const KestrelBenchCell *
kestrel_bench_best_under_budget (const KestrelBenchResult *result, double budget_percent, double *frames_per_s)
{
  const KestrelBenchCell *best = NULL;
  double best_rate = 0;

  for (guint i = 0; i < result->cells->len; i++)
    {
      const KestrelBenchCell *c = result->cells->pdata[i];
      double rate;

      if (g_strcmp0 (c->engine, "kestrel") != 0 || !kestrel_bench_cell_meets_goal (c))
        continue;
      rate = kestrel_bench_cell_get_rate_within (c, budget_percent);
      if (!(rate > 0))
        continue;
      /* Equal rates: the one that costs less CPU per frame. */
      if (best == NULL || rate > best_rate * (1 + 1e-9)
          || (rate >= best_rate * (1 - 1e-9) && c->cpu_ms_per_frame < best->cpu_ms_per_frame))
        {
          best = c;
          best_rate = rate;
        }
    }
  if (frames_per_s != NULL)
    *frames_per_s = best != NULL ? best_rate : (double) NAN;
  return best;
}
