/* kestrel-prometheus.c — see kestrel-prometheus.h: the text exposition
 * format of a metrics snapshot. The HTTP endpoint that serves it is
 * kestrel-prometheus-server.c.
 *
 * Numbers are printed with g_ascii_formatd(): printf's %g follows the
 * locale and would write "0,5" under a German one, which Prometheus
 * rejects. And they are printed in the shortest form that reads back to the
 * same double, which keeps the `le` labels as short as their R10 bounds
 * ("0.00126", where %.17g would say "0.0012600000000000001").
 */
#include "config.h"

#include "kestrel-prometheus.h"

#include <math.h>
#include <string.h>

static void
append_double (GString *out,
               double   v)
{
  static const char * const formats[] = {
    "%.1g", "%.2g", "%.3g", "%.4g", "%.5g", "%.6g", "%.7g", "%.8g", "%.9g",
    "%.10g", "%.11g", "%.12g", "%.13g", "%.14g", "%.15g", "%.16g", "%.17g",
  };
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  guint i;

  if (isnan (v))
    {
      g_string_append (out, "NaN");
      return;
    }
  if (isinf (v))
    {
      g_string_append (out, v > 0 ? "+Inf" : "-Inf");
      return;
    }
  /* %.17g always reads back exactly, so the loop ends there at the latest. */
  for (i = 0; i < G_N_ELEMENTS (formats) - 1; i++)
    {
      g_ascii_formatd (buf, sizeof buf, formats[i], v);
      if (g_ascii_strtod (buf, NULL) == v)
        break;
    }
  /* %g switches to an exponent once the exponent reaches the precision, so
   * 10 would come out as "1e+01": give numbers up to 10^17 the digits to be
   * written out ("10", "73400320"), as Go's shortest formatting does. */
  if (v != 0)
    {
      int exponent = (int) floor (log10 (fabs (v)));

      if (exponent >= 0 && exponent < 17 && (guint) exponent >= i + 1)
        i = (guint) exponent;
    }
  g_ascii_formatd (buf, sizeof buf, formats[i], v);
  g_string_append (out, buf);
}

/* Label values may hold anything; the format escapes \, " and newline. */
static void
append_label_value (GString    *out,
                    const char *value)
{
  for (const char *p = value; *p != '\0'; p++)
    {
      switch (*p)
        {
        case '\\': g_string_append (out, "\\\\"); break;
        case '"':  g_string_append (out, "\\\""); break;
        case '\n': g_string_append (out, "\\n"); break;
        default:   g_string_append_c (out, *p); break;
        }
    }
}

static void
append_family (GString    *out,
               const char *name,
               const char *type,
               const char *help)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
append_sample_double (GString    *out,
                      const char *name,
                      double      value)
{
  g_string_append_printf (out, "%s ", name);
  append_double (out, value);
  g_string_append_c (out, '\n');
}

static void
append_sample_uint (GString    *out,
                    const char *name,
                    guint64     value)
{
  g_string_append_printf (out, "%s %" G_GUINT64_FORMAT "\n", name, value);
}

/* One histogram's series: @labels is either "" or `name="value",` pairs,
 * each followed by a comma, to which `le` is appended. */
static void
append_histogram (GString          *out,
                  const char       *name,
                  const char       *labels,
                  KestrelHistogram *histogram)
{
  guint64 counts[KESTREL_HISTOGRAM_N_BUCKETS];
  g_autofree char *plain_labels = NULL;
  gsize len = strlen (labels);

  kestrel_histogram_get_cumulative_counts (histogram, counts);
  for (guint i = 0; i < KESTREL_HISTOGRAM_N_BUCKETS; i++)
    {
      g_string_append_printf (out, "%s_bucket{%sle=\"", name, labels);
      append_double (out, kestrel_histogram_get_bucket_bound (i));
      g_string_append_printf (out, "\"} %" G_GUINT64_FORMAT "\n", counts[i]);
    }

  /* The same labels without the trailing comma, and the sum and count from
   * the same copy as the buckets, so _count equals the +Inf bucket. */
  plain_labels = len > 0 ? g_strdup_printf ("{%.*s}", (int) len - 1, labels) : g_strdup ("");
  g_string_append_printf (out, "%s_sum%s ", name, plain_labels);
  append_double (out, kestrel_histogram_get_sum (histogram));
  g_string_append_printf (out, "\n%s_count%s %" G_GUINT64_FORMAT "\n",
                          name, plain_labels, counts[KESTREL_HISTOGRAM_N_BUCKETS - 1]);
}

char *
kestrel_prometheus_format (KestrelMetricsSnapshot *s)
{
  GString *out;

  g_return_val_if_fail (s != NULL, NULL);

  out = g_string_sized_new (16384);

  append_family (out, "kestrel_stage_latency_seconds", "histogram",
                 "Time each pipeline stage took per frame.");
  for (guint i = 0; i < KESTREL_N_STAGES; i++)
    {
      g_autofree char *labels = g_strdup_printf ("stage=\"%s\",", kestrel_stage_get_name (i));
      append_histogram (out, "kestrel_stage_latency_seconds", labels, s->stage_latency[i]);
    }

  append_family (out, "kestrel_frame_latency_seconds", "histogram",
                 "End-to-end time per processed frame, capture to decoded result.");
  append_histogram (out, "kestrel_frame_latency_seconds", "", s->frame_latency);

  append_family (out, "kestrel_frames_processed_total", "counter",
                 "Frames that went through the whole pipeline.");
  append_sample_uint (out, "kestrel_frames_processed_total", s->frames_processed);
  append_family (out, "kestrel_frames_dropped_total", "counter",
                 "Frames dropped before processing (queue full, throttled or stale).");
  append_sample_uint (out, "kestrel_frames_dropped_total", s->frames_dropped);
  append_family (out, "kestrel_faces_total", "counter",
                 "Faces found, summed over processed frames.");
  append_sample_uint (out, "kestrel_faces_total", s->faces_seen);
  append_family (out, "kestrel_frames_per_second", "gauge",
                 "Processed frames per second over the recent window.");
  append_sample_double (out, "kestrel_frames_per_second", s->fps);
  append_family (out, "kestrel_rollbacks_total", "counter",
                 "Rollbacks to the scalar reference path after a check found the fast path wrong.");
  append_sample_uint (out, "kestrel_rollbacks_total", s->rollbacks);
  append_family (out, "kestrel_budget_percent", "gauge",
                 "The processor budget, percent of one core; 0 when not throttled.");
  append_sample_double (out, "kestrel_budget_percent", s->config.budget_percent);
  append_family (out, "kestrel_over_budget", "gauge",
                 "1 when the process used more processor time than its budget over the last sample interval.");
  append_sample_uint (out, "kestrel_over_budget", s->over_budget ? 1 : 0);

  append_family (out, "kestrel_fp32_agreement_checks_total", "counter",
                 "Frames also run at FP32 to compare with the running precision's results.");
  append_sample_uint (out, "kestrel_fp32_agreement_checks_total", s->agreement_checks);
  if (s->have_agreement)
    {
      const KestrelAgreement *a = &s->agreement;

      append_family (out, "kestrel_fp32_agreement_ratio", "gauge",
                     "Last check against FP32: IoU summed over matched faces, over the faces either side found (1 when neither found any).");
      append_sample_double (out, "kestrel_fp32_agreement_ratio", kestrel_agreement_get_percent (a) / 100.0);
      append_family (out, "kestrel_fp32_agreement_fp32_faces", "gauge",
                     "Last check against FP32: faces FP32 found.");
      append_sample_uint (out, "kestrel_fp32_agreement_fp32_faces", a->fp32_faces);
      append_family (out, "kestrel_fp32_agreement_matched_faces", "gauge",
                     "Last check against FP32: faces found at both precisions.");
      append_sample_uint (out, "kestrel_fp32_agreement_matched_faces", a->matched_faces);
      append_family (out, "kestrel_fp32_agreement_extra_faces", "gauge",
                     "Last check against FP32: faces found only at the running precision.");
      append_sample_uint (out, "kestrel_fp32_agreement_extra_faces", a->extra_faces);
      append_family (out, "kestrel_fp32_agreement_mean_iou", "gauge",
                     "Last check against FP32: mean IoU of the matched faces; NaN when none.");
      append_sample_double (out, "kestrel_fp32_agreement_mean_iou", a->mean_iou);
      append_family (out, "kestrel_fp32_agreement_max_score_difference", "gauge",
                     "Last check against FP32: largest score difference of a matched face.");
      append_sample_double (out, "kestrel_fp32_agreement_max_score_difference", a->max_score_difference);
    }
  if (s->calibration_progress >= 0)
    {
      append_family (out, "kestrel_calibration_progress_ratio", "gauge",
                     "Share of the INT8 calibration done; only while one runs.");
      append_sample_double (out, "kestrel_calibration_progress_ratio", s->calibration_progress);
    }

  if (s->have_system)
    {
      const KestrelSystemSample *sys = &s->system;

      append_family (out, "kestrel_process_cpu_percent", "gauge",
                     "CPU used by this process over the last sample interval, percent of one core.");
      append_sample_double (out, "kestrel_process_cpu_percent", sys->process_cpu_percent);
      append_family (out, "kestrel_process_cpu_seconds_total", "counter",
                     "User and system CPU time used by this process.");
      append_sample_double (out, "kestrel_process_cpu_seconds_total",
                            (double) sys->process_cpu_time_ns / 1e9);
      append_family (out, "kestrel_resident_memory_bytes", "gauge",
                     "Resident set size of this process.");
      append_sample_uint (out, "kestrel_resident_memory_bytes", sys->rss_bytes);
      append_family (out, "kestrel_memory_growth_bytes_per_hour", "gauge",
                     "Least-squares slope of the resident set size over the growth window, after the warm-up; NaN until known.");
      append_sample_double (out, "kestrel_memory_growth_bytes_per_hour",
                            sys->memory_growth_mb_per_hour * 1e6);
      append_family (out, "kestrel_system_cpu_percent", "gauge",
                     "Busy share of all cores over the last sample interval, percent.");
      append_sample_double (out, "kestrel_system_cpu_percent", sys->system_cpu_percent);
      append_family (out, "kestrel_core_cpu_percent", "gauge",
                     "Busy share of each core over the last sample interval, percent.");
      for (guint i = 0; i < sys->n_cores; i++)
        {
          g_string_append_printf (out, "kestrel_core_cpu_percent{core=\"%u\"} ", i);
          append_double (out, sys->core_cpu_percent[i]);
          g_string_append_c (out, '\n');
        }
    }

  if (s->have_pool)
    {
      const KestrelPoolStats *p = &s->pool;

      append_family (out, "kestrel_pool_buffers_in_use", "gauge",
                     "Buffers handed out by the buffer pool and not yet returned.");
      append_sample_uint (out, "kestrel_pool_buffers_in_use", p->buffers_in_use);
      append_family (out, "kestrel_pool_in_use_bytes", "gauge",
                     "Requested bytes of the buffers in use.");
      append_sample_uint (out, "kestrel_pool_in_use_bytes", p->bytes_in_use);
      append_family (out, "kestrel_pool_high_water_bytes", "gauge",
                     "The most bytes the pool has had in use at once.");
      append_sample_uint (out, "kestrel_pool_high_water_bytes", p->high_water_bytes);
      append_family (out, "kestrel_pool_cached_bytes", "gauge",
                     "Bytes the pool keeps for reuse.");
      append_sample_uint (out, "kestrel_pool_cached_bytes", p->cached_bytes);
      append_family (out, "kestrel_pool_held_bytes", "gauge",
                     "Bytes the pool holds: buffers in use plus cached ones.");
      append_sample_uint (out, "kestrel_pool_held_bytes", p->held_bytes);
      append_family (out, "kestrel_pool_hits_total", "counter",
                     "Pool requests served from the cache.");
      append_sample_uint (out, "kestrel_pool_hits_total", p->hits);
      append_family (out, "kestrel_pool_misses_total", "counter",
                     "Pool requests that took new memory.");
      append_sample_uint (out, "kestrel_pool_misses_total", p->misses);
      append_family (out, "kestrel_pool_frees_total", "counter",
                     "Buffers returned to the pool.");
      append_sample_uint (out, "kestrel_pool_frees_total", p->frees);
    }

  if (s->config.weight_bytes > 0 || s->config.arena_bytes > 0)
    {
      append_family (out, "kestrel_plan_weight_bytes", "gauge",
                     "Bytes of the running plan's constants (weights and biases) at its precision.");
      g_string_append (out, "kestrel_plan_weight_bytes{precision=\"");
      append_label_value (out, s->config.precision);
      g_string_append_printf (out, "\"} %" G_GUINT64_FORMAT "\n", s->config.weight_bytes);
      append_family (out, "kestrel_plan_arena_bytes", "gauge",
                     "Bytes of the running plans' arenas (their intermediate tensors) at their precision.");
      g_string_append (out, "kestrel_plan_arena_bytes{precision=\"");
      append_label_value (out, s->config.precision);
      g_string_append_printf (out, "\"} %" G_GUINT64_FORMAT "\n", s->config.arena_bytes);
    }

  append_family (out, "kestrel_config_info", "gauge",
                 "The configuration the pipeline runs with, as labels; the value is always 1.");
  g_string_append (out, "kestrel_config_info{level=\"");
  append_label_value (out, s->config.level);
  g_string_append_printf (out, "\",threads=\"%u\",precision=\"", s->config.threads);
  append_label_value (out, s->config.precision);
  g_string_append (out, "\",budget_percent=\"");
  append_double (out, s->config.budget_percent);
  g_string_append_printf (out, "\",batch=\"%u\",model=\"", s->config.batch);
  append_label_value (out, s->config.model);
  g_string_append (out, "\"} 1\n");

  return g_string_free (out, FALSE);
}
