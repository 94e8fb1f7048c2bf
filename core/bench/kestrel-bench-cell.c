/* kestrel-bench-cell.c — cells and results: construction, labels and the
 * statistics of one cell's samples. */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "kestrel-bench.h"
#include "kestrel-stats.h"

void
kestrel_bench_options_init (KestrelBenchOptions *options)
{
  memset (options, 0, sizeof *options);
  options->time_per_cell_s = 2.0;
  options->rounds = 3;
  options->target_ci = 0.02;
  options->warmup_runs = 3;
}

KestrelBenchCell *
kestrel_bench_cell_new (const char *engine, KestrelPrecision precision, kk_level level,
                        guint threads, guint batch)
{
  KestrelBenchCell *cell = g_new0 (KestrelBenchCell, 1);

  cell->engine = g_strdup (engine);
  cell->precision = precision;
  cell->level = level;
  cell->threads = threads;
  cell->batch = batch;
  cell->samples_ms = g_array_new (FALSE, FALSE, sizeof (double));
  cell->round_medians_ms = g_array_new (FALSE, FALSE, sizeof (double));
  cell->reference_ms = g_array_new (FALSE, FALSE, sizeof (double));
  cell->notes = g_ptr_array_new_with_free_func (g_free);
  cell->build_ms = cell->first_run_ms = NAN;
  cell->median_ms = cell->p90_ms = cell->p99_ms = cell->mad_ms = NAN;
  cell->ci_low_ms = cell->ci_high_ms = cell->frames_per_s = NAN;
  cell->cpu_ms_per_frame = cell->energy_mj_per_frame = cell->sqnr_db = NAN;
  cell->other_cpu_percent = cell->freq_drift_percent = NAN;
  cell->faces_fp32 = -1;
  return cell;
}

double
kestrel_bench_cell_get_faces_agreeing (const KestrelBenchCell *cell)
{
  guint all;

  if (cell->faces_fp32 < 0)
    return NAN;
  all = (guint) cell->faces_fp32 + cell->faces_extra;
  return all == 0 ? 1.0 : (double) cell->faces_matched / all;
}

void
kestrel_bench_cell_free (KestrelBenchCell *cell)
{
  if (cell == NULL)
    return;
  g_free (cell->engine);
  g_array_unref (cell->samples_ms);
  g_array_unref (cell->round_medians_ms);
  g_array_unref (cell->reference_ms);
  g_ptr_array_unref (cell->notes);
  g_free (cell);
}

char *
kestrel_bench_cell_dup_label (const KestrelBenchCell *cell)
{
  g_autofree char *base = g_strdup_printf ("%s %s t%u b%u", kestrel_precision_name (cell->precision),
                                           kk_level_name (cell->level), cell->threads, cell->batch);

  if (g_strcmp0 (cell->engine, "kestrel") == 0)
    return g_steal_pointer (&base);
  return g_strdup_printf ("%s %s", cell->engine, base);
}

void
kestrel_bench_cell_add_note (KestrelBenchCell *cell, KestrelBenchNoteFlags flag, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_ptr_array_add (cell->notes, g_strdup_vprintf (format, args));
  va_end (args);
  cell->note_flags |= flag;
}

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

void
kestrel_bench_cell_update_stats (KestrelBenchCell *cell)
{
  gsize n = cell->samples_ms->len;
  g_autofree double *sorted = NULL;
  g_autofree double *dev = NULL;
  double half;
  gssize lo, hi;

  if (n == 0)
    return;
  sorted = g_memdup2 (cell->samples_ms->data, n * sizeof (double));
  qsort (sorted, n, sizeof (double), compare_double);
  cell->median_ms = kestrel_stats_percentile_sorted (sorted, n, 50);
  cell->p90_ms = kestrel_stats_percentile_sorted (sorted, n, 90);
  cell->p99_ms = kestrel_stats_percentile_sorted (sorted, n, 99);
  dev = g_new (double, n);
  for (gsize i = 0; i < n; i++)
    dev[i] = fabs (sorted[i] - cell->median_ms);
  cell->mad_ms = kestrel_stats_median (dev, n);
  /* Distribution-free 95% interval of the median: the order statistics
   * whose ranks are n/2 -+ 1.96 sqrt(n)/2 (the binomial(n, 1/2) normal
   * approximation), clamped to the sample. */
  half = 1.959964 * sqrt ((double) n) / 2.0;
  lo = (gssize) floor ((double) n / 2.0 - half);
  hi = (gssize) ceil ((double) n / 2.0 + half);
  lo = CLAMP (lo, 0, (gssize) n - 1);
  hi = CLAMP (hi, 0, (gssize) n - 1);
  cell->ci_low_ms = sorted[lo];
  cell->ci_high_ms = sorted[hi];
  cell->frames_per_s = cell->median_ms > 0 ? cell->batch * 1000.0 / cell->median_ms : (double) NAN;
}

KestrelBenchResult *
kestrel_bench_result_new (void)
{
  KestrelBenchResult *r = g_new0 (KestrelBenchResult, 1);

  r->cells = g_ptr_array_new_with_free_func ((GDestroyNotify) kestrel_bench_cell_free);
  r->notes = g_ptr_array_new_with_free_func (g_free);
  r->time_per_cell_s = r->target_ci = r->wall_s = NAN;
  return r;
}

void
kestrel_bench_result_free (KestrelBenchResult *r)
{
  if (r == NULL)
    return;
  g_free (r->created);
  g_free (r->cpu_model);
  g_free (r->cpu_features);
  g_free (r->isa);
  g_free (r->kernel);
  g_free (r->governor);
  g_free (r->kestrel_version);
  g_free (r->git_commit);
  g_free (r->openblas_core);
  g_free (r->ort_version);
  g_free (r->model_name);
  g_free (r->model_sha256);
  g_free (r->energy_note);
  g_ptr_array_unref (r->cells);
  g_ptr_array_unref (r->notes);
  g_free (r);
}

gboolean
kestrel_bench_result_get_reference (const KestrelBenchResult *r, double *median_ms, double *low_ms,
                                    double *high_ms)
{
  g_autoptr(GArray) all = g_array_new (FALSE, FALSE, sizeof (double));

  for (guint i = 0; i < r->cells->len; i++)
    {
      const KestrelBenchCell *c = r->cells->pdata[i];
      g_array_append_vals (all, c->reference_ms->data, c->reference_ms->len);
    }
  if (all->len == 0)
    return FALSE;
  g_array_sort (all, compare_double);
  *median_ms = kestrel_stats_median ((double *) (void *) all->data, all->len);
  *low_ms = g_array_index (all, double, 0);
  *high_ms = g_array_index (all, double, all->len - 1);
  return TRUE;
}
