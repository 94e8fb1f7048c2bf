/* kestrel-output-summary.c — see kestrel-output-summary.h. */
#include "config.h"

#include "kestrel-output-summary.h"

#include <math.h>
#include <string.h>

const char *
kestrel_summary_kind_name (KestrelSummaryKind kind)
{
  switch (kind)
    {
    case KESTREL_SUMMARY_CLASSES:
      return "classes";
    case KESTREL_SUMMARY_HEAT_MAP:
      return "heat-map";
    case KESTREL_SUMMARY_STATISTICS:
      return "statistics";
    case KESTREL_SUMMARY_NONE:
    default:
      return "none";
    }
}

/* The number of values along the output's only axis longer than 1, or 0
 * when more than one axis is. */
static gint64
single_axis_length (const KestrelSummaryInput *o)
{
  gint64 length = 0;

  for (guint d = 0; d < o->n_dims; d++)
    if (o->shape[d] > 1)
      {
        if (length != 0)
          return 0;
        length = o->shape[d];
      }
  return length;
}

/* Height and width when the output is one map: [1,1,H,W], [1,H,W,1] or
 * [1,H,W]. */
static gboolean
single_map (const KestrelSummaryInput *o, gint64 *height, gint64 *width)
{
  const gint64 *s = o->shape;

  if (o->n_dims == 4 && s[0] == 1 && s[1] == 1 && s[2] >= 4 && s[3] >= 4)
    *height = s[2], *width = s[3];
  else if (o->n_dims == 4 && s[0] == 1 && s[3] == 1 && s[1] >= 4 && s[2] >= 4)
    *height = s[1], *width = s[2];
  /* [1,H,W] is as often N candidates of C values ([1,3549,85]): a map
   * only when roughly square. */
  else if (o->n_dims == 3 && s[0] == 1 && s[1] >= 8 && s[2] >= 8 && s[1] <= 4 * s[2] && s[2] <= 4 * s[1])
    *height = s[1], *width = s[2];
  else
    return FALSE;
  return TRUE;
}

static void
copy_name (char *to, const char *from)
{
  g_strlcpy (to, from != NULL ? from : "", KESTREL_SUMMARY_NAME_SIZE);
}

static void
summarise_classes (KestrelOutputSummary *s, const KestrelSummaryInput *o)
{
  const float *v = o->data;
  gsize n = o->n_elements;
  gboolean probabilities = TRUE;
  double sum = 0, max = -INFINITY, exp_sum = 0;

  for (gsize i = 0; i < n; i++)
    {
      if (!isfinite (v[i]) || v[i] < 0 || v[i] > 1)
        probabilities = FALSE;
      if (isfinite (v[i]))
        {
          sum += (double) v[i];
          max = MAX (max, (double) v[i]);
        }
    }
  /* A softmax already applied: values in 0..1 that add up to 1. */
  probabilities = probabilities && fabs (sum - 1) < 1e-3;
  if (!probabilities)
    for (gsize i = 0; i < n; i++)
      if (isfinite (v[i]))
        exp_sum += exp ((double) v[i] - max);

  s->kind = KESTREL_SUMMARY_CLASSES;
  copy_name (s->output, o->name);
  s->n_classes = (guint) n;
  s->n_top = 0;
  /* Insertion into a best-first list of five. */
  for (gsize i = 0; i < n; i++)
    {
      guint at;
      if (!isfinite (v[i]))
        continue;
      for (at = s->n_top; at > 0 && s->top_value[at - 1] < v[i]; at--)
        ;
      if (at >= KESTREL_SUMMARY_TOP_K)
        continue;
      guint last = MIN (s->n_top, KESTREL_SUMMARY_TOP_K - 1);
      memmove (&s->top_class[at + 1], &s->top_class[at], (last - at) * sizeof s->top_class[0]);
      memmove (&s->top_value[at + 1], &s->top_value[at], (last - at) * sizeof s->top_value[0]);
      s->top_class[at] = (guint) i;
      s->top_value[at] = v[i];
      s->n_top = MIN (s->n_top + 1, KESTREL_SUMMARY_TOP_K);
    }
  for (guint t = 0; t < s->n_top; t++)
    s->top_probability[t] = probabilities ? s->top_value[t] : (float) (exp ((double) s->top_value[t] - max) / exp_sum);
}

static void
summarise_map (KestrelOutputSummary *s, const KestrelSummaryInput *o, gint64 height, gint64 width)
{
  gint64 side = MAX (width, height);
  float lo = INFINITY, hi = -INFINITY;
  guint mw = (guint) width, mh = (guint) height;

  /* At most KESTREL_SUMMARY_MAP_SIDE cells along the longer side, the
   * aspect kept. */
  if (side > KESTREL_SUMMARY_MAP_SIDE)
    {
      mw = (guint) MAX (1, (width * KESTREL_SUMMARY_MAP_SIDE + side / 2) / side);
      mh = (guint) MAX (1, (height * KESTREL_SUMMARY_MAP_SIDE + side / 2) / side);
    }

  s->kind = KESTREL_SUMMARY_HEAT_MAP;
  copy_name (s->output, o->name);
  s->map_width = mw;
  s->map_height = mh;
  s->map_full_width = (guint) width;
  s->map_full_height = (guint) height;

  /* Each cell the mean of the model's values it covers. */
  for (guint cy = 0; cy < mh; cy++)
    for (guint cx = 0; cx < mw; cx++)
      {
        gint64 y0 = cy * height / mh, y1 = (cy + 1) * height / mh;
        gint64 x0 = cx * width / mw, x1 = (cx + 1) * width / mw;
        double sum = 0;
        gint64 count = 0;
        for (gint64 y = y0; y < y1; y++)
          for (gint64 x = x0; x < x1; x++)
            {
              float v = o->data[y * width + x];
              if (isfinite (v))
                sum += (double) v, count++;
            }
        float mean = count > 0 ? (float) (sum / count) : 0;
        s->map[cy * mw + cx] = mean;
        lo = MIN (lo, mean);
        hi = MAX (hi, mean);
      }
  s->map_min = lo;
  s->map_max = hi;
  for (guint i = 0; i < mw * mh; i++)
    s->map[i] = hi > lo ? (s->map[i] - lo) / (hi - lo) : 0;
}

static void
summarise_statistics (KestrelOutputStatistics *st, const KestrelSummaryInput *o)
{
  double sum = 0, sum_sq = 0, lo = INFINITY, hi = -INFINITY;
  gsize finite = 0, used = 0;

  copy_name (st->name, o->name);
  st->shape[0] = '\0';
  for (guint d = 0; d < o->n_dims && used < sizeof st->shape; d++)
    used += (gsize) g_snprintf (st->shape + used, sizeof st->shape - used, "%s%" G_GINT64_FORMAT, d > 0 ? "x" : "",
                                o->shape[d]);

  for (gsize i = 0; i < o->n_elements; i++)
    {
      double v = o->data[i];
      if (!isfinite (v))
        continue;
      finite++;
      sum += v;
      sum_sq += v * v;
      lo = MIN (lo, v);
      hi = MAX (hi, v);
    }
  st->n_not_finite = o->n_elements - finite;
  st->mean = finite > 0 ? sum / (double) finite : (double) NAN;
  st->stddev = finite > 0 ? sqrt (MAX (sum_sq / (double) finite - st->mean * st->mean, 0)) : (double) NAN;
  st->min = finite > 0 ? lo : (double) NAN;
  st->max = finite > 0 ? hi : (double) NAN;
}

void
kestrel_output_summary_compute (KestrelOutputSummary *summary, const KestrelSummaryInput *outputs, guint n_outputs)
{
  gint64 height, width;

  g_return_if_fail (summary != NULL);

  summary->kind = KESTREL_SUMMARY_STATISTICS;
  summary->n_outputs = MIN (n_outputs, KESTREL_SUMMARY_MAX_OUTPUTS);
  for (guint i = 0; i < summary->n_outputs; i++)
    summarise_statistics (&summary->outputs[i], &outputs[i]);

  if (n_outputs == 1 && single_axis_length (&outputs[0]) >= 2)
    summarise_classes (summary, &outputs[0]);
  else
    for (guint i = 0; i < n_outputs; i++)
      if (single_map (&outputs[i], &height, &width))
        {
          summarise_map (summary, &outputs[i], height, width);
          break;
        }
}

char *
kestrel_output_summary_to_string (const KestrelOutputSummary *s)
{
  GString *text = g_string_new (NULL);

  switch (s->kind)
    {
    case KESTREL_SUMMARY_CLASSES:
      g_string_append_printf (text, "top classes of %u:", s->n_classes);
      for (guint t = 0; t < s->n_top; t++)
        g_string_append_printf (text, "%s %u (%.1f %%)", t > 0 ? "," : "", s->top_class[t],
                                100.0 * (double) s->top_probability[t]);
      break;
    case KESTREL_SUMMARY_HEAT_MAP:
      g_string_append_printf (text, "heat map '%s' %ux%u: %.3g to %.3g", s->output, s->map_full_width,
                              s->map_full_height, (double) s->map_min, (double) s->map_max);
      break;
    case KESTREL_SUMMARY_STATISTICS:
      for (guint i = 0; i < s->n_outputs; i++)
        {
          const KestrelOutputStatistics *st = &s->outputs[i];
          g_string_append_printf (text, "%s'%s' %s: %.3g to %.3g, mean %.3g, sd %.3g", i > 0 ? "; " : "", st->name,
                                  st->shape, st->min, st->max, st->mean, st->stddev);
          if (st->n_not_finite > 0)
            g_string_append_printf (text, ", %" G_GUINT64_FORMAT " not finite", st->n_not_finite);
        }
      break;
    case KESTREL_SUMMARY_NONE:
    default:
      g_string_append (text, "no outputs");
      break;
    }
  return g_string_free (text, FALSE);
}
