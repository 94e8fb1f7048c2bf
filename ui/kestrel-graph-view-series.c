/* kestrel-graph-view-series.c — KestrelGraphView's data model: which
 * sample of which series is drawn where, stacked or not, and whether a
 * refresh tick has anything new to draw. */
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

/* The value of @series @offset samples before its newest (0 = newest) within
 * the visible history; FALSE when it has no such sample. */
gboolean
_kestrel_graph_view_sample_at_offset (KestrelGraphView  *self,
                                      Series            *s,
                                      guint              offset,
                                      KestrelRingSample *out)
{
  guint length = kestrel_ring_get_length (s->ring);

  if (offset >= MIN (length, self->history_length))
    return FALSE;
  return kestrel_ring_get (s->ring, length - 1 - offset, out);
}

guint
_kestrel_graph_view_visible_length (KestrelGraphView *self,
                                    Series           *s)
{
  return MIN (kestrel_ring_get_length (s->ring), self->history_length);
}

/* Stacked series are aligned by position from the newest sample: they are
 * sampled together, and a series that started late simply adds nothing
 * where it has no sample. */
double
_kestrel_graph_view_stacked_value (KestrelGraphView *self,
                                   guint             series,
                                   guint             offset)
{
  double sum = 0.0;

  for (guint i = 0; i <= series; i++)
    {
      KestrelRingSample sample;

      if (_kestrel_graph_view_sample_at_offset (self, get_series (self, i), offset, &sample) &&
          isfinite (sample.value))
        sum += sample.value;
    }
  return sum;
}

guint
kestrel_graph_view_get_points (KestrelGraphView  *self,
                               guint              series,
                               KestrelRingSample *out,
                               guint              n_max)
{
  Series *s;
  guint n;

  g_return_val_if_fail (KESTREL_IS_GRAPH_VIEW (self), 0);
  g_return_val_if_fail (out != NULL || n_max == 0, 0);

  s = get_series (self, series);
  g_return_val_if_fail (s != NULL, 0);

  n = MIN (_kestrel_graph_view_visible_length (self, s), n_max);
  for (guint k = 0; k < n; k++)
    {
      guint offset = n - 1 - k;

      _kestrel_graph_view_sample_at_offset (self, s, offset, &out[k]);
      if (self->stacked)
        out[k].value = _kestrel_graph_view_stacked_value (self, series, offset);
    }
  return n;
}

/* What is drawn for @series @offset samples before the newest: its value
 * (stacked: the top of its band), a missing or non-finite sample as zero. */
double
_kestrel_graph_view_value_at (KestrelGraphView *self,
                              guint             series,
                              guint             offset)
{
  KestrelRingSample sample;

  if (self->stacked)
    return _kestrel_graph_view_stacked_value (self, series, offset);
  if (_kestrel_graph_view_sample_at_offset (self, get_series (self, series), offset, &sample) &&
      isfinite (sample.value))
    return sample.value;
  return 0.0;
}

/* Time per sample from the data (the sampler's rate is not ours to know),
 * one second when there is too little to tell. */
double
_kestrel_graph_view_estimate_interval (KestrelGraphView *self)
{
  guint best = 0;
  double interval = 1.0;

  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = get_series (self, i);
      guint n = _kestrel_graph_view_visible_length (self, s);
      KestrelRingSample newest, oldest;

      if (n < 2 || n <= best)
        continue;
      _kestrel_graph_view_sample_at_offset (self, s, 0, &newest);
      _kestrel_graph_view_sample_at_offset (self, s, n - 1, &oldest);
      if (newest.time_us > oldest.time_us)
        {
          interval = (newest.time_us - oldest.time_us) / 1e6 / (n - 1);
          best = n;
        }
    }
  return interval;
}

/* TRUE when some series has a sample (or a ring) the last tick did not. */
gboolean
_kestrel_graph_view_take_changes (KestrelGraphView *self)
{
  gboolean changed = FALSE;

  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = get_series (self, i);
      KestrelRingSample newest = { 0, 0.0 };
      guint length = kestrel_ring_get_length (s->ring);

      kestrel_ring_get_newest (s->ring, &newest);
      if (s->seen_ring != s->ring || s->seen_length != length || s->seen_newest != newest.time_us)
        {
          s->seen_ring = s->ring;
          s->seen_length = length;
          s->seen_newest = newest.time_us;
          changed = TRUE;
        }
    }
  return changed;
}
