/* kestrel-histogram.c — see kestrel-histogram.h.
 *
 * Values are kept as integer nanoseconds: counts, sum, minimum and maximum
 * are then plain 64-bit atomics (a float sum would need a compare-and-swap
 * loop on every record, and would lose precision after billions of frames).
 * The bounds are integers in nanoseconds too, so the bucket a value lands in
 * never depends on rounding, and the `le` labels printed from them are the
 * short decimal numbers of the R10 series.
 */
#include "config.h"

#include "kestrel-histogram.h"

#include <math.h>

#define N_FINITE (KESTREL_HISTOGRAM_N_BUCKETS - 1)

struct _KestrelHistogram
{
  gatomicrefcount ref_count;
  guint64         counts[KESTREL_HISTOGRAM_N_BUCKETS];  /* per bucket */
  guint64         sum_ns;
  guint64         min_ns;  /* G_MAXUINT64 while empty */
  guint64         max_ns;
};

G_DEFINE_BOXED_TYPE (KestrelHistogram, kestrel_histogram,
                     kestrel_histogram_ref, kestrel_histogram_unref)

/* The R10 preferred numbers (IEC 60063), in hundredths: ten steps of about
 * 10^(1/10) per decade with short decimal spellings. */
static const guint r10_hundredths[10] = { 100, 126, 158, 200, 251, 316, 398, 501, 631, 794 };

static guint64 bounds_ns[N_FINITE];

static void
init_bounds (void)
{
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      guint64 decade = 10000;  /* 10 µs in ns */

      for (guint i = 0; i < N_FINITE; i++)
        {
          if (i > 0 && i % 10 == 0)
            decade *= 10;
          bounds_ns[i] = decade / 100 * r10_hundredths[i % 10];
        }
      g_once_init_leave (&initialized, 1);
    }
}

static inline guint64
load (const guint64 *p)
{
  return __atomic_load_n (p, __ATOMIC_RELAXED);
}

static inline void
store (guint64 *p, guint64 v)
{
  __atomic_store_n (p, v, __ATOMIC_RELAXED);
}

static inline void
add (guint64 *p, guint64 v)
{
  __atomic_fetch_add (p, v, __ATOMIC_RELAXED);
}

static void
update_min (guint64 *p, guint64 v)
{
  guint64 cur = load (p);

  while (v < cur &&
         !__atomic_compare_exchange_n (p, &cur, v, TRUE, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
    ;
}

static void
update_max (guint64 *p, guint64 v)
{
  guint64 cur = load (p);

  while (v > cur &&
         !__atomic_compare_exchange_n (p, &cur, v, TRUE, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
    ;
}

KestrelHistogram *
kestrel_histogram_new (void)
{
  KestrelHistogram *self = g_new0 (KestrelHistogram, 1);

  init_bounds ();
  g_atomic_ref_count_init (&self->ref_count);
  self->min_ns = G_MAXUINT64;
  return self;
}

KestrelHistogram *
kestrel_histogram_ref (KestrelHistogram *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
kestrel_histogram_unref (KestrelHistogram *self)
{
  g_return_if_fail (self != NULL);

  if (g_atomic_ref_count_dec (&self->ref_count))
    g_free (self);
}

KestrelHistogram *
kestrel_histogram_copy (KestrelHistogram *self)
{
  KestrelHistogram *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = kestrel_histogram_new ();
  kestrel_histogram_merge (copy, self);
  return copy;
}

static guint
bucket_index (guint64 ns)
{
  guint lo = 0, hi = N_FINITE;

  /* The first bound that is >= ns; N_FINITE (the +Inf bucket) if none. */
  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;

      if (bounds_ns[mid] < ns)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

void
kestrel_histogram_record_ns (KestrelHistogram *self,
                             guint64           nanoseconds)
{
  g_return_if_fail (self != NULL);

  add (&self->counts[bucket_index (nanoseconds)], 1);
  add (&self->sum_ns, nanoseconds);
  update_min (&self->min_ns, nanoseconds);
  update_max (&self->max_ns, nanoseconds);
}

void
kestrel_histogram_record (KestrelHistogram *self,
                          double            seconds)
{
  g_return_if_fail (self != NULL);

  if (!(seconds >= 0))
    return;
  /* Anything past a century is a broken clock; keep the sum from wrapping. */
  if (seconds > 3.2e9)
    seconds = 3.2e9;
  kestrel_histogram_record_ns (self, (guint64) llround (seconds * 1e9));
}

void
kestrel_histogram_merge (KestrelHistogram *self,
                         KestrelHistogram *other)
{
  guint64 other_min;

  g_return_if_fail (self != NULL);
  g_return_if_fail (other != NULL);

  for (guint i = 0; i < KESTREL_HISTOGRAM_N_BUCKETS; i++)
    {
      guint64 c = load (&other->counts[i]);

      if (c != 0)
        add (&self->counts[i], c);
    }
  add (&self->sum_ns, load (&other->sum_ns));
  other_min = load (&other->min_ns);
  if (other_min != G_MAXUINT64)
    {
      update_min (&self->min_ns, other_min);
      update_max (&self->max_ns, load (&other->max_ns));
    }
}

void
kestrel_histogram_reset (KestrelHistogram *self)
{
  g_return_if_fail (self != NULL);

  for (guint i = 0; i < KESTREL_HISTOGRAM_N_BUCKETS; i++)
    store (&self->counts[i], 0);
  store (&self->sum_ns, 0);
  store (&self->min_ns, G_MAXUINT64);
  store (&self->max_ns, 0);
}

guint64
kestrel_histogram_get_count (KestrelHistogram *self)
{
  guint64 total = 0;

  g_return_val_if_fail (self != NULL, 0);

  for (guint i = 0; i < KESTREL_HISTOGRAM_N_BUCKETS; i++)
    total += load (&self->counts[i]);
  return total;
}

double
kestrel_histogram_get_sum (KestrelHistogram *self)
{
  g_return_val_if_fail (self != NULL, NAN);

  return (double) load (&self->sum_ns) / 1e9;
}

double
kestrel_histogram_get_min (KestrelHistogram *self)
{
  guint64 v;

  g_return_val_if_fail (self != NULL, NAN);

  v = load (&self->min_ns);
  return v == G_MAXUINT64 ? (double) NAN : (double) v / 1e9;
}

double
kestrel_histogram_get_max (KestrelHistogram *self)
{
  g_return_val_if_fail (self != NULL, NAN);

  if (load (&self->min_ns) == G_MAXUINT64)
    return NAN;
  return (double) load (&self->max_ns) / 1e9;
}

double
kestrel_histogram_get_bucket_bound (guint index)
{
  g_return_val_if_fail (index < KESTREL_HISTOGRAM_N_BUCKETS, NAN);

  init_bounds ();
  if (index == N_FINITE)
    return INFINITY;
  return (double) bounds_ns[index] / 1e9;
}

void
kestrel_histogram_get_cumulative_counts (KestrelHistogram *self,
                                         guint64          *counts)
{
  guint64 total = 0;

  g_return_if_fail (self != NULL);
  g_return_if_fail (counts != NULL);

  for (guint i = 0; i < KESTREL_HISTOGRAM_N_BUCKETS; i++)
    {
      total += load (&self->counts[i]);
      counts[i] = total;
    }
}

double
kestrel_histogram_get_quantile (KestrelHistogram *self,
                                double            q)
{
  guint64 counts[KESTREL_HISTOGRAM_N_BUCKETS];
  guint64 total = 0, before = 0;
  double min_s, max_s, rank, lower, upper, frac;
  guint i;

  g_return_val_if_fail (self != NULL, NAN);

  if (!(q >= 0 && q <= 1))
    return NAN;

  for (i = 0; i < KESTREL_HISTOGRAM_N_BUCKETS; i++)
    {
      counts[i] = load (&self->counts[i]);
      total += counts[i];
    }
  if (total == 0)
    return NAN;

  min_s = kestrel_histogram_get_min (self);
  max_s = kestrel_histogram_get_max (self);
  if (isnan (min_s))
    return NAN;  /* reset under our feet */

  /* The bucket holding the value of rank q * total (1-based, as Prometheus'
   * histogram_quantile() does), and how far into that bucket it lies. */
  rank = q * (double) total;
  for (i = 0; i < KESTREL_HISTOGRAM_N_BUCKETS - 1; i++)
    {
      if (counts[i] > 0 && (double) (before + counts[i]) >= rank)
        break;
      before += counts[i];
    }
  if (counts[i] == 0)
    return max_s;
  frac = (rank - (double) before) / (double) counts[i];
  frac = CLAMP (frac, 0.0, 1.0);

  lower = i == 0 ? 0.0 : (double) bounds_ns[i - 1] / 1e9;
  upper = i == N_FINITE ? max_s : (double) bounds_ns[i] / 1e9;
  /* The recorded extremes are tighter than the bucket edges when the data
   * covers only part of a bucket (and they bound the +Inf bucket). */
  lower = MAX (lower, min_s);
  upper = MIN (upper, max_s);
  if (upper <= lower)
    return lower;

  /* Log-spaced buckets: interpolate in log space, where latencies are
   * spread about evenly; linearly only when the bucket starts at zero. */
  if (lower > 0)
    return lower * pow (upper / lower, frac);
  return lower + (upper - lower) * frac;
}
