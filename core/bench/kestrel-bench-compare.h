/* kestrel-bench-compare.h — two benchmark results, cell by cell.
 *
 * Cells match on engine, precision, level, threads and batch. For each
 * pair: the ratio of medians B / A (below 1: B is faster), a 95%
 * confidence interval of that ratio (percentile bootstrap: the ratio of
 * the medians of resamples of each side, so the interval is about the same
 * number as the estimate, which a Hodges-Lehmann shift of skewed times is
 * not), and a two-sided
 * Mann-Whitney U test (normal approximation with the tie correction and a
 * continuity correction). A pair is faster or slower when p < 0.05 and the
 * interval leaves out 1; otherwise no significant difference.
 */
#pragma once

#include "kestrel-bench.h"

G_BEGIN_DECLS

typedef enum {
  KESTREL_BENCH_SAME,       /* no significant difference */
  KESTREL_BENCH_FASTER,     /* B is faster than A */
  KESTREL_BENCH_SLOWER,
  KESTREL_BENCH_ONLY_A,     /* the cell is in A only */
  KESTREL_BENCH_ONLY_B,
} KestrelBenchVerdict;

const char *kestrel_bench_verdict_name (KestrelBenchVerdict verdict);  /* "faster", ... */

typedef struct {
  char *label;                      /* kestrel_bench_cell_dup_label */
  const KestrelBenchCell *a, *b;    /* borrowed from the results; one may be NULL */
  double ratio;                     /* median B / median A */
  double ratio_low, ratio_high;     /* 95% CI */
  double u, z, p_value;             /* Mann-Whitney, U of B */
  KestrelBenchVerdict verdict;
} KestrelBenchComparison;

/* Rows in A's cell order, then B's cells that A lacks. The results must
 * outlive the rows. */
GPtrArray *kestrel_bench_compare (const KestrelBenchResult *a, const KestrelBenchResult *b);

/* The statistics on their own, for tests and other callers. */
void kestrel_bench_mann_whitney (const double *x, gsize nx, const double *y, gsize ny,
                                 double *u_y, double *z, double *p_value);
/* The 95% percentile-bootstrap interval of median(y) / median(x), with a
 * fixed seed (the same inputs give the same interval). */
void kestrel_bench_ratio_interval (const double *x, gsize nx, const double *y, gsize ny,
                                   double *low, double *high);

/* The machines' speeds differ when their reference loops
 * (kestrel_bench_result_get_reference) differ by more than this. */
#define KESTREL_BENCH_MACHINE_SPEED_FRACTION 0.03

/* A sentence saying how much faster or slower the machine itself was in B
 * than in A, by the reference loop, when that is more than
 * KESTREL_BENCH_MACHINE_SPEED_FRACTION; NULL when not, or when the results
 * come from different CPU models or builds (whose loops are not the same
 * work), or either has no reference loop. */
char *kestrel_bench_compare_machine_speed (const KestrelBenchResult *a, const KestrelBenchResult *b);

/* The rows as "text" (aligned columns), "markdown" (a table) or "csv";
 * NULL for another format name. */
char *kestrel_bench_comparison_format (const KestrelBenchResult *a, const KestrelBenchResult *b,
                                       GPtrArray *rows, const char *format);

G_END_DECLS
