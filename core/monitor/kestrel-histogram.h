/* kestrel-histogram.h — a latency histogram cheap enough for the hot path.
 *
 * Buckets are fixed and shared by every histogram, so histograms merge by
 * adding counts and the Prometheus output has the same `le` labels from one
 * scrape to the next. The finite upper bounds are spaced ten per decade from
 * 10 µs to 10 s (the R10 series 1, 1.26, 1.58, 2, 2.51, 3.16, 3.98, 5.01,
 * 6.31, 7.94, times a power of ten), so a quantile read back is within about
 * 26% of the true value, which is what a latency graph needs. The first
 * bucket holds everything up to 10 µs; the last one everything above 10 s.
 *
 * Recording is lock-free (a handful of relaxed atomic adds), so worker
 * threads record into a shared histogram without contention. Readers see
 * every count eventually but not as one consistent picture: take a
 * kestrel_histogram_copy() and read that when the numbers must agree with
 * each other (the metrics snapshot does).
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* 61 finite upper bounds (1e-5 s to 10 s) plus the +Inf bucket. */
#define KESTREL_HISTOGRAM_N_BUCKETS 62

#define KESTREL_TYPE_HISTOGRAM (kestrel_histogram_get_type ())

typedef struct _KestrelHistogram KestrelHistogram;

GType             kestrel_histogram_get_type (void) G_GNUC_CONST;

KestrelHistogram *kestrel_histogram_new   (void);
KestrelHistogram *kestrel_histogram_ref   (KestrelHistogram *self);
void              kestrel_histogram_unref (KestrelHistogram *self);
/* A new histogram with the counts @self has now. */
KestrelHistogram *kestrel_histogram_copy  (KestrelHistogram *self);

/* Safe from any thread, lock-free. */
void              kestrel_histogram_record_ns (KestrelHistogram *self,
                                               guint64           nanoseconds);
/* Negative and NAN values are ignored. */
void              kestrel_histogram_record    (KestrelHistogram *self,
                                               double            seconds);

/* Adds the counts of @other into @self. */
void              kestrel_histogram_merge (KestrelHistogram *self,
                                           KestrelHistogram *other);
/* Values recorded while a reset runs may be kept or lost. */
void              kestrel_histogram_reset (KestrelHistogram *self);

guint64           kestrel_histogram_get_count (KestrelHistogram *self);
/* The sum of the recorded values, in seconds. */
double            kestrel_histogram_get_sum   (KestrelHistogram *self);
/* The smallest and largest values recorded, in seconds; NAN when empty. */
double            kestrel_histogram_get_min   (KestrelHistogram *self);
double            kestrel_histogram_get_max   (KestrelHistogram *self);

/* The @q quantile (0.5 for p50, 0.99 for p99) in seconds, interpolated
 * within its bucket and clamped to the recorded minimum and maximum. NAN
 * when the histogram is empty or @q is outside [0, 1]. */
double            kestrel_histogram_get_quantile (KestrelHistogram *self,
                                                  double            q);

/* The inclusive upper bound of bucket @index in seconds (the `le` label);
 * INFINITY for the last bucket. */
double            kestrel_histogram_get_bucket_bound (guint index);
/* Fills @counts (KESTREL_HISTOGRAM_N_BUCKETS elements) with cumulative
 * counts: counts[i] is the number of values <= bound i, so the last element
 * is the total count. Read from a copy when the histogram is live. */
void              kestrel_histogram_get_cumulative_counts (KestrelHistogram *self,
                                                           guint64          *counts);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KestrelHistogram, kestrel_histogram_unref)

G_END_DECLS
