/* kestrel-graph-view-series.c — KestrelGraphView's data model: which
 * samples of which series are drawn, where in time, stacked or not, what is
 * under the pointer, and whether a refresh tick has anything new to draw.
 *
 * Time axis. A sample is drawn at its age: the right edge is "now" (the time
 * the application gives with kestrel_graph_view_set_time(), else the newest
 * sample of any series) and the left edge is history-length times the
 * sample interval before it. Every graph of a window is given the same now
 * and interval, so their axes agree; a series with gaps (no latency point
 * while nothing was processed) shows the gaps where they were instead of
 * squeezing its last history-length points across the width.
 *
 * Stacking. Series sampled together share their timestamps, so a band's
 * base at a sample is the sum of the visible series below it that have a
 * sample of exactly that time; a series that started late, or had no
 * sample that tick, adds nothing there.
 */
#include "config.h"

#include <math.h>

#include "kestrel-graph-view-private.h"

void
_kestrel_graph_view_series_free (gpointer data)
{
  Series *s = data;

  g_clear_pointer (&s->ring, kestrel_ring_unref);
  g_clear_pointer (&s->label, g_free);
  /* The legend entry is unparented by the caller, which knows the box. */
  g_free (s);
}

guint
_kestrel_graph_view_visible_length (KestrelGraphView *self,
                                    Series           *s)
{
  return MIN (kestrel_ring_get_length (s->ring), self->history_length);
}

gint64
_kestrel_graph_view_span_us (KestrelGraphView *self)
{
  return (gint64) self->history_length * self->sample_interval * 1000;
}

/* The time at the right edge: the one set, else the newest sample's. */
gint64
_kestrel_graph_view_right_time (KestrelGraphView *self)
{
  gint64 newest = G_MININT64;

  if (self->now_us != 0)
    return self->now_us;
  for (guint i = 0; i < self->series->len; i++)
    {
      KestrelRingSample sample;

      if (kestrel_ring_get_newest (get_series (self, i)->ring, &sample))
        newest = MAX (newest, sample.time_us);
    }
  return newest == G_MININT64 ? 0 : newest;
}

/* Ring index of the first sample with a time >= @time_us among the visible
 * ones (@first..@length-1, both set here), @length when there is none.
 * Rings are pushed in time order. */
static guint
lower_bound (KestrelGraphView *self,
             Series           *s,
             gint64            time_us,
             guint            *first,
             guint            *length)
{
  KestrelRing *ring = s->ring;
  guint lo, hi;

  *length = kestrel_ring_get_length (ring);
  *first = *length - _kestrel_graph_view_visible_length (self, s);
  lo = *first;
  hi = *length;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      KestrelRingSample sample;

      kestrel_ring_get (ring, mid, &sample);
      if (sample.time_us < time_us)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

/* @s's finite value at exactly @time_us among its visible samples. */
static gboolean
value_at_time (KestrelGraphView *self,
               Series           *s,
               gint64            time_us,
               double           *value)
{
  guint first, length;
  guint index = lower_bound (self, s, time_us, &first, &length);
  KestrelRingSample sample;

  if (index >= length || !kestrel_ring_get (s->ring, index, &sample) ||
      sample.time_us != time_us || !isfinite (sample.value))
    return FALSE;
  *value = sample.value;
  return TRUE;
}

/* Stacked: the sum at @time_us of the visible series below @series. */
static double
stacked_base (KestrelGraphView *self,
              guint             series,
              gint64            time_us)
{
  double sum = 0.0;

  for (guint j = 0; j < series; j++)
    {
      Series *below = get_series (self, j);
      double v;

      if (!below->hidden && value_at_time (self, below, time_us, &v))
        sum += v;
    }
  return sum;
}

guint
_kestrel_graph_view_get_drawn (KestrelGraphView *self,
                               guint             series,
                               DrawnPoint       *out,
                               guint             n_max)
{
  Series *s = get_series (self, series);
  guint length = kestrel_ring_get_length (s->ring);
  guint first = length - MIN (_kestrel_graph_view_visible_length (self, s), n_max);
  guint n = 0;

  for (guint index = first; index < length; index++)
    {
      KestrelRingSample sample;

      /* A sample that is not a number is left out, not drawn as zero. */
      if (!kestrel_ring_get (s->ring, index, &sample) || !isfinite (sample.value))
        continue;
      out[n].time_us = sample.time_us;
      out[n].value = sample.value;
      out[n].base = self->stacked ? stacked_base (self, series, sample.time_us) : 0.0;
      out[n].top = out[n].base + sample.value;
      n++;
    }
  return n;
}

guint
kestrel_graph_view_get_points (KestrelGraphView  *self,
                               guint              series,
                               KestrelRingSample *out,
                               guint              n_max)
{
  Series *s;
  guint length, n;

  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), 0);
  g_return_val_if_fail (out != NULL || n_max == 0, 0);

  s = get_series (self, series);
  g_return_val_if_fail (s != NULL, 0);

  length = kestrel_ring_get_length (s->ring);
  n = MIN (_kestrel_graph_view_visible_length (self, s), n_max);
  for (guint k = 0; k < n; k++)
    {
      kestrel_ring_get (s->ring, length - n + k, &out[k]);
      if (self->stacked && isfinite (out[k].value))
        out[k].value += stacked_base (self, series, out[k].time_us);
    }
  return n;
}

/* ------------------------------------------------------------ pointer */

/* The sample of @s nearest @time_us, if one lies within half a sample
 * interval of it (a series with a gap there has nothing to say). */
static gboolean
nearest_sample (KestrelGraphView  *self,
                Series            *s,
                gint64             time_us,
                KestrelRingSample *out)
{
  guint first, length;
  guint index = lower_bound (self, s, time_us, &first, &length);
  gint64 tolerance = (gint64) self->sample_interval * 1000 / 2;
  gboolean found = FALSE;
  KestrelRingSample sample;

  /* the one at or after, and the one before */
  for (guint k = 0; k < 2; k++)
    {
      guint candidate = index - k;

      if (candidate < first || candidate >= length || (k == 1 && index == 0))
        continue;
      kestrel_ring_get (s->ring, candidate, &sample);
      if (!isfinite (sample.value) || ABS (sample.time_us - time_us) > tolerance)
        continue;
      if (!found || ABS (sample.time_us - time_us) < ABS (out->time_us - time_us))
        *out = sample;
      found = TRUE;
    }
  return found;
}

gboolean
kestrel_graph_view_query (KestrelGraphView       *self,
                          gint64                  time_us,
                          KestrelGraphViewValue **values,
                          guint                  *n_values,
                          gint64                 *sample_time_us)
{
  g_autoptr(GArray) found = NULL;
  gint64 nearest_time = 0;
  gint64 nearest_distance = G_MAXINT64;
  guint n;

  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), FALSE);

  found = g_array_new (FALSE, FALSE, sizeof (KestrelGraphViewValue));
  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = get_series (self, i);
      KestrelRingSample sample;
      KestrelGraphViewValue value;

      if (s->hidden || !nearest_sample (self, s, time_us, &sample))
        continue;
      value.series = i;
      value.value = sample.value;
      g_array_append_val (found, value);
      if (ABS (sample.time_us - time_us) < nearest_distance)
        {
          nearest_distance = ABS (sample.time_us - time_us);
          nearest_time = sample.time_us;
        }
    }

  n = found->len;
  if (sample_time_us != NULL)
    *sample_time_us = nearest_time;
  if (n_values != NULL)
    *n_values = n;
  if (values != NULL)
    *values = n > 0 ? (KestrelGraphViewValue *) g_array_steal (found, NULL) : NULL;
  return n > 0;
}

/* ------------------------------------------------------------ refresh */

/* TRUE when some series has a sample (or a ring) the last tick did not, or
 * when now moved while something is still in view (it scrolls). */
gboolean
_kestrel_graph_view_take_changes (KestrelGraphView *self)
{
  gboolean changed = FALSE;
  gboolean in_view = FALSE;
  gint64 left = self->now_us - _kestrel_graph_view_span_us (self);

  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = get_series (self, i);
      KestrelRingSample newest = { 0, 0.0 };
      guint length = kestrel_ring_get_length (s->ring);

      if (kestrel_ring_get_newest (s->ring, &newest) && newest.time_us >= left)
        in_view = TRUE;
      if (s->seen_ring != s->ring || s->seen_length != length || s->seen_newest != newest.time_us)
        {
          s->seen_ring = s->ring;
          s->seen_length = length;
          s->seen_newest = newest.time_us;
          changed = TRUE;
        }
    }
  if (self->seen_now != self->now_us)
    {
      /* Once everything has scrolled out (and that was drawn), a new now
       * changes nothing: a paused pipeline's latency graph stops costing
       * redraws. */
      changed |= in_view || self->seen_in_view;
      self->seen_now = self->now_us;
    }
  self->seen_in_view = in_view;
  return changed;
}
