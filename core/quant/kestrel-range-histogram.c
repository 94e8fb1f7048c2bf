/* kestrel-range-histogram.c — per-side histograms and the percentile and MSE
 * ranges (kestrel-range-histogram.h). */
#include "kestrel-range-histogram.h"

#include <math.h>

enum { SIDE_NEGATIVE, SIDE_POSITIVE };

typedef struct {
  double range;         /* the side's extent: -min or max (>= 0) */
  double width;         /* range / n_bins; 0 when the range is 0 */
  guint64 total;
  guint64 *counts;      /* counts[i]: |value| in [i * width, (i + 1) * width) */
} Side;

struct _KestrelRangeHistogram {
  guint n_bins;
  Side side[2];
};

KestrelRangeHistogram *
kestrel_range_histogram_new (float min, float max, guint n_bins)
{
  g_return_val_if_fail (isfinite (min) && isfinite (max) && min <= max, NULL);
  g_return_val_if_fail (n_bins >= 1, NULL);

  KestrelRangeHistogram *h = g_new0 (KestrelRangeHistogram, 1);
  h->n_bins = n_bins;
  h->side[SIDE_NEGATIVE].range = min < 0.0f ? -(double) min : 0.0;
  h->side[SIDE_POSITIVE].range = max > 0.0f ? (double) max : 0.0;
  for (int s = 0; s < 2; s++)
    {
      h->side[s].width = h->side[s].range / n_bins;
      h->side[s].counts = g_new0 (guint64, n_bins);
    }
  return h;
}

void
kestrel_range_histogram_free (KestrelRangeHistogram *h)
{
  if (h == NULL)
    return;
  for (int s = 0; s < 2; s++)
    g_free (h->side[s].counts);
  g_free (h);
}

void
kestrel_range_histogram_add (KestrelRangeHistogram *h, const float *values, gsize n)
{
  g_return_if_fail (h != NULL);
  const double inv[2] = {
    h->side[0].width > 0.0 ? 1.0 / h->side[0].width : 0.0,
    h->side[1].width > 0.0 ? 1.0 / h->side[1].width : 0.0,
  };
  const guint last = h->n_bins - 1;

  for (gsize i = 0; i < n; i++)
    {
      const float v = values[i];
      if (!isfinite (v))
        continue;
      const int s = v < 0.0f ? SIDE_NEGATIVE : SIDE_POSITIVE;
      /* A value beyond the range (the pass that binned saw more than the
       * pass that measured) is counted at the edge, as it would be clipped. */
      const double bin = fabs ((double) v) * inv[s];
      const guint b = bin >= last ? last : (guint) bin;
      h->side[s].counts[b]++;
      h->side[s].total++;
    }
}

guint64
kestrel_range_histogram_get_count (const KestrelRangeHistogram *h)
{
  g_return_val_if_fail (h != NULL, 0);
  return h->side[0].total + h->side[1].total;
}

guint64
kestrel_range_histogram_get_count_negative (const KestrelRangeHistogram *h)
{
  g_return_val_if_fail (h != NULL, 0);
  return h->side[SIDE_NEGATIVE].total;
}

/* The smallest bin edge with at least `fraction` of the side below it. */
static double
side_percentile (const Side *side, guint n_bins, double fraction)
{
  if (side->total == 0 || side->width == 0.0)
    return 0.0;
  const double target = fraction * (double) side->total;
  guint64 below = 0;
  for (guint i = 0; i < n_bins; i++)
    {
      below += side->counts[i];
      if ((double) below >= target)
        return MIN ((i + 1) * side->width, side->range);
    }
  return side->range;
}

void
kestrel_range_histogram_range_percentile (const KestrelRangeHistogram *h, double percentile, float *lo,
                                    float *hi)
{
  g_return_if_fail (h != NULL && lo != NULL && hi != NULL);
  g_return_if_fail (percentile > 0.0 && percentile <= 100.0);
  *lo = (float) -side_percentile (&h->side[SIDE_NEGATIVE], h->n_bins, percentile / 100.0);
  *hi = (float) side_percentile (&h->side[SIDE_POSITIVE], h->n_bins, percentile / 100.0);
}

/* Suffix sums of one side over bin centres x_i = (i + 0.5) * width:
 * c[k] = sum_{i >= k} count_i, x1[k] = sum count_i x_i, x2[k] = sum
 * count_i x_i^2, k = 0 .. n_bins (c[n_bins] = 0). Clipping the side at
 * t = k * width costs x2[k] - 2 t x1[k] + t^2 c[k]. */
typedef struct {
  double *c, *x1, *x2;
  double width;
} Tails;

static void
tails_init (Tails *t, const Side *side, guint n_bins)
{
  t->c = g_new (double, 3 * (n_bins + 1));
  t->x1 = t->c + n_bins + 1;
  t->x2 = t->x1 + n_bins + 1;
  t->width = side->width;
  t->c[n_bins] = t->x1[n_bins] = t->x2[n_bins] = 0.0;
  for (guint i = n_bins; i-- > 0;)
    {
      const double count = (double) side->counts[i], x = (i + 0.5) * side->width;
      t->c[i] = t->c[i + 1] + count;
      t->x1[i] = t->x1[i + 1] + count * x;
      t->x2[i] = t->x2[i + 1] + count * x * x;
    }
}

static inline double
tails_clip_error (const Tails *t, guint k)
{
  const double bound = k * t->width;
  return t->x2[k] - 2.0 * bound * t->x1[k] + bound * bound * t->c[k];
}

/* Total expected squared error with the negative side clipped at bin edge
 * kn and the positive one at kp. */
static double
error_at (const Tails tails[2], double total, double steps, guint kn, guint kp)
{
  const double inside = total - tails[0].c[kn] - tails[1].c[kp];
  const double step = (kn * tails[0].width + kp * tails[1].width) / steps;
  return inside * step * step / 12.0 + tails_clip_error (&tails[0], kn)
         + tails_clip_error (&tails[1], kp);
}

void
kestrel_range_histogram_range_mse (const KestrelRangeHistogram *h, guint levels, float *lo, float *hi)
{
  g_return_if_fail (h != NULL && lo != NULL && hi != NULL && levels >= 2);
  const guint n = h->n_bins;
  const double total = (double) kestrel_range_histogram_get_count (h), steps = levels - 1;
  Tails tails[2];
  for (int s = 0; s < 2; s++)
    tails_init (&tails[s], &h->side[s], n);

  /* Every pair of bin edges on a coarse grid, then every pair around the
   * best one: n_bins^2 pairs (4 million at 2048) would cost more than the
   * frames did. */
  const guint stride = MAX (1u, n / 256);
  guint best_kn = n, best_kp = n;
  double best = error_at (tails, total, steps, n, n);
  for (guint kn = 0; kn <= n; kn = kn == n ? n + 1 : MIN (kn + stride, n))
    for (guint kp = 0; kp <= n; kp = kp == n ? n + 1 : MIN (kp + stride, n))
      {
        double e = error_at (tails, total, steps, kn, kp);
        if (e < best)
          best = e, best_kn = kn, best_kp = kp;
      }
  const guint kn0 = best_kn > stride ? best_kn - stride : 0, kn1 = MIN (best_kn + stride, n);
  const guint kp0 = best_kp > stride ? best_kp - stride : 0, kp1 = MIN (best_kp + stride, n);
  for (guint kn = kn0; kn <= kn1; kn++)
    for (guint kp = kp0; kp <= kp1; kp++)
      {
        double e = error_at (tails, total, steps, kn, kp);
        if (e < best)
          best = e, best_kn = kn, best_kp = kp;
      }

  /* Then each bound over all its edges with the other fixed, until neither
   * moves: the grid's best can sit in the wrong valley of a flat error. */
  for (gboolean moved = TRUE; moved;)
    {
      moved = FALSE;
      for (guint kn = 0; kn <= n; kn++)
        {
          double e = error_at (tails, total, steps, kn, best_kp);
          if (e < best)
            best = e, best_kn = kn, moved = TRUE;
        }
      for (guint kp = 0; kp <= n; kp++)
        {
          double e = error_at (tails, total, steps, best_kn, kp);
          if (e < best)
            best = e, best_kp = kp, moved = TRUE;
        }
    }

  /* The top edge of a side is its range exactly (n * width may round). */
  *lo = best_kn == n ? (float) -h->side[SIDE_NEGATIVE].range : (float) -(best_kn * tails[0].width);
  *hi = best_kp == n ? (float) h->side[SIDE_POSITIVE].range : (float) (best_kp * tails[1].width);
  for (int s = 0; s < 2; s++)
    g_free (tails[s].c);
}

double
kestrel_range_histogram_quantisation_mse (const KestrelRangeHistogram *h, guint levels, float lo, float hi)
{
  g_return_val_if_fail (h != NULL && levels >= 2, 0.0);
  g_return_val_if_fail (lo <= 0.0f && hi >= 0.0f, 0.0);
  const double total = (double) kestrel_range_histogram_get_count (h);
  if (total == 0.0)
    return 0.0;

  const double bound[2] = { -(double) lo, (double) hi };
  const double step = (bound[0] + bound[1]) / (levels - 1);
  double clipped = 0.0, inside = 0.0;
  for (int s = 0; s < 2; s++)
    for (guint i = 0; i < h->n_bins; i++)
      {
        const double count = (double) h->side[s].counts[i], x = (i + 0.5) * h->side[s].width;
        if (x > bound[s])
          clipped += count * (x - bound[s]) * (x - bound[s]);
        else
          inside += count;
      }
  return (inside * step * step / 12.0 + clipped) / total;
}
