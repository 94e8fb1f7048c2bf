/* kestrel-bench-compare.c — see kestrel-bench-compare.h. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kestrel-bench-compare.h"
#include "kestrel-stats.h"

/* Bootstrap: resamples of each side, each side thinned to at most
 * MAX_SIDE samples first, which keeps a comparison of two 2000-run cells
 * to about a tenth of a second. */
#define RESAMPLES 2000
#define MAX_SIDE 1000
#define ALPHA 0.05

const char *
kestrel_bench_verdict_name (KestrelBenchVerdict verdict)
{
  switch (verdict)
    {
    case KESTREL_BENCH_FASTER: return "faster";
    case KESTREL_BENCH_SLOWER: return "slower";
    case KESTREL_BENCH_ONLY_A: return "only in A";
    case KESTREL_BENCH_ONLY_B: return "only in B";
    case KESTREL_BENCH_SAME:
    default: return "no significant difference";
    }
}

typedef struct {
  double value;
  int group;
} Ranked;

static int
compare_ranked (const void *a, const void *b)
{
  double x = ((const Ranked *) a)->value, y = ((const Ranked *) b)->value;
  return (x > y) - (x < y);
}

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

void
kestrel_bench_mann_whitney (const double *x, gsize nx, const double *y, gsize ny,
                            double *u_y, double *z, double *p_value)
{
  gsize n = nx + ny;
  g_autofree Ranked *all = NULL;
  double rank_sum_y = 0, ties = 0, mu, sigma, u, d;

  *u_y = *z = *p_value = NAN;
  if (nx == 0 || ny == 0)
    return;
  all = g_new (Ranked, n);
  for (gsize i = 0; i < nx; i++)
    all[i] = (Ranked) { x[i], 0 };
  for (gsize i = 0; i < ny; i++)
    all[nx + i] = (Ranked) { y[i], 1 };
  qsort (all, n, sizeof *all, compare_ranked);
  /* Average ranks (1-based) over runs of equal values; t^3 - t per run
   * for the tie correction of the variance. */
  for (gsize i = 0; i < n;)
    {
      gsize j = i;
      while (j + 1 < n && all[j + 1].value == all[i].value)
        j++;
      double rank = (double) (i + j + 2) / 2.0, t = (double) (j - i + 1);
      for (gsize k = i; k <= j; k++)
        if (all[k].group == 1)
          rank_sum_y += rank;
      ties += t * t * t - t;
      i = j + 1;
    }
  u = rank_sum_y - (double) ny * (ny + 1) / 2.0;
  mu = (double) nx * ny / 2.0;
  sigma = sqrt ((double) nx * ny / 12.0 * ((n + 1) - ties / ((double) n * (n - 1))));
  *u_y = u;
  if (!(sigma > 0))
    {
      /* Every value equal: no evidence either way. */
      *z = 0;
      *p_value = 1;
      return;
    }
  d = u - mu;
  d = d > 0.5 ? d - 0.5 : d < -0.5 ? d + 0.5 : 0.0;   /* continuity correction */
  *z = d / sigma;
  *p_value = erfc (fabs (*z) / G_SQRT2);
}

/* Up to MAX_SIDE of the samples, evenly spaced through the sample order
 * (which is time order, so thinning keeps every part of the run). */
static double *
thinned (const double *v, gsize n, gsize *out_n)
{
  gsize m = MIN (n, MAX_SIDE);
  double *out = g_new (double, MAX (m, 1));

  for (gsize i = 0; i < m; i++)
    out[i] = v[(gsize) ((double) i * n / m)];
  *out_n = m;
  return out;
}

static double
resampled_median (GRand *rand, const double *v, gsize n, double *scratch)
{
  for (gsize i = 0; i < n; i++)
    scratch[i] = v[g_rand_int_range (rand, 0, (gint32) n)];
  qsort (scratch, n, sizeof *scratch, compare_double);
  return n % 2 ? scratch[n / 2] : (scratch[n / 2 - 1] + scratch[n / 2]) / 2.0;
}

void
kestrel_bench_ratio_interval (const double *x, gsize nx, const double *y, gsize ny, double *low, double *high)
{
  g_autofree double *tx = NULL;
  g_autofree double *ty = NULL;
  g_autofree double *scratch = NULL;
  g_autofree double *ratios = NULL;
  /* A fixed seed: the same two files always give the same interval. */
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261206);
  gsize mx, my;

  *low = *high = NAN;
  if (nx == 0 || ny == 0)
    return;
  tx = thinned (x, nx, &mx);
  ty = thinned (y, ny, &my);
  scratch = g_new (double, MAX (mx, my));
  ratios = g_new (double, RESAMPLES);
  for (guint r = 0; r < RESAMPLES; r++)
    ratios[r] = resampled_median (rand, ty, my, scratch) / resampled_median (rand, tx, mx, scratch);
  qsort (ratios, RESAMPLES, sizeof *ratios, compare_double);
  *low = kestrel_stats_percentile_sorted (ratios, RESAMPLES, 2.5);
  *high = kestrel_stats_percentile_sorted (ratios, RESAMPLES, 97.5);
}

static gboolean
same_cell (const KestrelBenchCell *a, const KestrelBenchCell *b)
{
  return g_strcmp0 (a->engine, b->engine) == 0 && a->precision == b->precision && a->level == b->level
         && a->threads == b->threads && a->batch == b->batch;
}

static KestrelBenchComparison *
row_new (const KestrelBenchCell *a, const KestrelBenchCell *b)
{
  KestrelBenchComparison *row = g_new0 (KestrelBenchComparison, 1);

  row->a = a;
  row->b = b;
  row->label = kestrel_bench_cell_dup_label (a != NULL ? a : b);
  row->ratio = row->ratio_low = row->ratio_high = NAN;
  row->u = row->z = row->p_value = NAN;
  row->verdict = a == NULL ? KESTREL_BENCH_ONLY_B : b == NULL ? KESTREL_BENCH_ONLY_A : KESTREL_BENCH_SAME;
  return row;
}

static void
row_free (KestrelBenchComparison *row)
{
  g_free (row->label);
  g_free (row);
}

static void
compare_pair (KestrelBenchComparison *row)
{
  const double *x = (const double *) (void *) row->a->samples_ms->data;
  const double *y = (const double *) (void *) row->b->samples_ms->data;
  gsize nx = row->a->samples_ms->len, ny = row->b->samples_ms->len;
  double ma = kestrel_stats_median (x, nx), mb = kestrel_stats_median (y, ny);

  row->ratio = mb / ma;
  kestrel_bench_ratio_interval (x, nx, y, ny, &row->ratio_low, &row->ratio_high);
  kestrel_bench_mann_whitney (x, nx, y, ny, &row->u, &row->z, &row->p_value);
  if (row->p_value < ALPHA && row->ratio_high < 1.0)
    row->verdict = KESTREL_BENCH_FASTER;
  else if (row->p_value < ALPHA && row->ratio_low > 1.0)
    row->verdict = KESTREL_BENCH_SLOWER;
  else
    row->verdict = KESTREL_BENCH_SAME;
}

GPtrArray *
kestrel_bench_compare (const KestrelBenchResult *a, const KestrelBenchResult *b)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) row_free);

  for (guint i = 0; i < a->cells->len; i++)
    {
      const KestrelBenchCell *ca = a->cells->pdata[i], *cb = NULL;
      for (guint j = 0; j < b->cells->len && cb == NULL; j++)
        if (same_cell (ca, b->cells->pdata[j]))
          cb = b->cells->pdata[j];
      KestrelBenchComparison *row = row_new (ca, cb);
      if (cb != NULL)
        compare_pair (row);
      g_ptr_array_add (rows, row);
    }
  for (guint j = 0; j < b->cells->len; j++)
    {
      gboolean found = FALSE;
      for (guint i = 0; i < a->cells->len && !found; i++)
        found = same_cell (a->cells->pdata[i], b->cells->pdata[j]);
      if (!found)
        g_ptr_array_add (rows, row_new (NULL, b->cells->pdata[j]));
    }
  return rows;
}

/* ---- formatting ---------------------------------------------------------------- */

static char *
fmt_ms (const KestrelBenchCell *c)
{
  return c != NULL && isfinite (c->median_ms) ? g_strdup_printf ("%.3f", c->median_ms) : g_strdup ("");
}

/* Three decimals, or `digits` significant ones when `digits` > 0. */
static char *
fmt_num (double v, int digits)
{
  if (!isfinite (v))
    return g_strdup ("");
  return digits > 0 ? g_strdup_printf ("%.*g", digits, v) : g_strdup_printf ("%.3f", v);
}

static char *
fmt_p (double p)
{
  if (!isfinite (p))
    return g_strdup ("");
  return p < 0.001 ? g_strdup ("<0.001") : g_strdup_printf ("%.3f", p);
}

static void
describe (GString *out, const char *name, const KestrelBenchResult *r, const char *prefix)
{
  double median, low, high;

  g_string_append_printf (out, "%s%s: %s, %s, %s (%u cores), Kestrel %s (%.12s)", prefix, name,
                          r->model_name, r->created, r->cpu_model, r->cores, r->kestrel_version,
                          r->git_commit);
  if (kestrel_bench_result_get_reference (r, &median, &low, &high))
    g_string_append_printf (out, ", reference loop %.4f ms", median);
  g_string_append (out, "\n");
}

/* A sentence when the two machines (or one machine at two times) ran the
 * reference loop at different speeds, or NULL. Compared only on the same
 * CPU model and build: another binary may compile the loop otherwise. */
char *
kestrel_bench_compare_machine_speed (const KestrelBenchResult *a, const KestrelBenchResult *b)
{
  double ma, mb, lo, hi;

  if (!kestrel_bench_result_get_reference (a, &ma, &lo, &hi) || !kestrel_bench_result_get_reference (b, &mb, &lo, &hi)
      || g_strcmp0 (a->cpu_model, b->cpu_model) != 0 || g_strcmp0 (a->git_commit, b->git_commit) != 0)
    return NULL;
  if (fabs (mb / ma - 1.0) <= KESTREL_BENCH_MACHINE_SPEED_FRACTION)
    return NULL;
  return g_strdup_printf ("The machine itself was %.0f%% %s in B than in A (the reference loop took %.4f ms in A, "
                          "%.4f ms in B): ratios near %.2f are the machine's, not the software's.",
                          100.0 * fabs (mb / ma - 1.0), mb > ma ? "slower" : "faster", ma, mb, mb / ma);
}

char *
kestrel_bench_comparison_format (const KestrelBenchResult *a, const KestrelBenchResult *b, GPtrArray *rows,
                                 const char *format)
{
  GString *out = g_string_new (NULL);
  gboolean text = g_strcmp0 (format, "text") == 0, md = g_strcmp0 (format, "markdown") == 0;
  gboolean csv = g_strcmp0 (format, "csv") == 0;
  g_autofree char *speed = kestrel_bench_compare_machine_speed (a, b);

  if (!text && !md && !csv)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  if (text || md)
    {
      describe (out, "A", a, md ? "- " : "");
      describe (out, "B", b, md ? "- " : "");
      if (speed != NULL)
        g_string_append_printf (out, "%s%s\n", md ? "\n" : "", speed);
      g_string_append (out, "\n");
    }
  if (text)
    g_string_append_printf (out, "%-28s %10s %10s %7s %15s %8s  %s\n", "cell", "A ms", "B ms", "B/A", "95% CI",
                            "p", "verdict");
  else if (md)
    g_string_append (out, "| cell | A median (ms) | B median (ms) | B/A | 95% CI | p | verdict |\n"
                          "|---|---:|---:|---:|---|---:|---|\n");
  else
    g_string_append (out, "cell,a_median_ms,b_median_ms,ratio,ratio_low,ratio_high,p_value,verdict\r\n");

  for (guint i = 0; i < rows->len; i++)
    {
      const KestrelBenchComparison *row = rows->pdata[i];
      g_autofree char *ma = fmt_ms (row->a);
      g_autofree char *mb = fmt_ms (row->b);
      g_autofree char *ratio = fmt_num (row->ratio, 0);
      g_autofree char *lo = fmt_num (row->ratio_low, 0);
      g_autofree char *hi = fmt_num (row->ratio_high, 0);
      g_autofree char *p = fmt_p (row->p_value);
      g_autofree char *ci = isfinite (row->ratio_low) ? g_strdup_printf ("%s-%s", lo, hi) : g_strdup ("");
      g_autofree char *p_exact = fmt_num (row->p_value, 6);
      const char *verdict = kestrel_bench_verdict_name (row->verdict);

      if (text)
        g_string_append_printf (out, "%-28s %10s %10s %7s %15s %8s  %s\n", row->label, ma, mb, ratio, ci, p,
                                verdict);
      else if (md)
        g_string_append_printf (out, "| %s | %s | %s | %s | %s | %s | %s |\n", row->label, ma, mb, ratio, ci, p,
                                verdict);
      else
        g_string_append_printf (out, "%s,%s,%s,%s,%s,%s,%s,%s\r\n", row->label, ma, mb, ratio, lo, hi,
                                p_exact, verdict);
    }
  return g_string_free (out, FALSE);
}
