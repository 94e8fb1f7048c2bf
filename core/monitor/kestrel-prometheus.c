/* kestrel-prometheus.c — see kestrel-prometheus.h.
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

#include <libsoup/soup.h>

#include "kestrel-error.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Formatting */

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

/* The server */

struct _KestrelPrometheusServer
{
  GObject                        parent_instance;

  GMainContext                  *context;
  KestrelPrometheusSnapshotFunc  func;
  gpointer                       user_data;
  GDestroyNotify                 destroy;

  SoupServer                    *server;
  guint16                        port;
  char                          *address;
};

enum {
  PROP_0,
  PROP_CONTEXT,
  PROP_PORT,
  PROP_ADDRESS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (KestrelPrometheusServer, kestrel_prometheus_server, G_TYPE_OBJECT)

static void
respond_text (SoupServerMessage *msg,
              guint              status,
              const char        *text)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/plain; charset=utf-8",
                                    SOUP_MEMORY_COPY, text, strlen (text));
}

static void
handle_request (SoupServer        *server,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  KestrelPrometheusServer *self = user_data;
  const char *method = soup_server_message_get_method (msg);
  g_autoptr(KestrelMetricsSnapshot) snapshot = NULL;
  char *text;

  if (g_strcmp0 (path, "/metrics") != 0)
    {
      respond_text (msg, SOUP_STATUS_NOT_FOUND, "Not found: the metrics are at /metrics\n");
      return;
    }
  if (g_strcmp0 (method, SOUP_METHOD_GET) != 0 && g_strcmp0 (method, SOUP_METHOD_HEAD) != 0)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Allow", "GET, HEAD");
      respond_text (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Only GET and HEAD are allowed\n");
      return;
    }

  snapshot = self->func (self->user_data);
  if (snapshot == NULL)
    {
      respond_text (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "No metrics yet\n");
      return;
    }

  text = kestrel_prometheus_format (snapshot);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  /* libsoup leaves the body out of the answer to HEAD itself. */
  soup_server_message_set_response (msg, CONTENT_TYPE, SOUP_MEMORY_TAKE, text, strlen (text));
}

static GSocketAddress *
parse_address (const char  *address,
               GError     **error)
{
  g_autofree char *host = NULL;
  g_autoptr(GInetAddress) inet = NULL;
  const char *port_str = NULL;
  guint64 port = 0;

  if (address == NULL || *address == '\0')
    return g_inet_socket_address_new_from_string ("127.0.0.1", 0);

  if (address[0] == '[')
    {
      const char *end = strchr (address, ']');

      if (end == NULL || end[1] != ':')
        goto bad;
      host = g_strndup (address + 1, end - address - 1);
      port_str = end + 2;
    }
  else
    {
      const char *colon = strchr (address, ':');

      if (colon == NULL)
        port_str = address;              /* "PORT" */
      else if (strchr (colon + 1, ':') != NULL)
        goto bad;                        /* IPv6 needs brackets */
      else
        {
          host = g_strndup (address, colon - address);
          port_str = colon + 1;
        }
    }

  if (!g_ascii_string_to_unsigned (port_str, 10, 0, G_MAXUINT16, &port, NULL))
    goto bad;

  if (host == NULL || *host == '\0' || g_ascii_strcasecmp (host, "localhost") == 0)
    inet = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  else
    inet = g_inet_address_new_from_string (host);
  if (inet == NULL)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "Metrics address “%s”: “%s” is not a numeric IP address or “localhost”",
                   address, host);
      return NULL;
    }
  return g_inet_socket_address_new (inet, (guint16) port);

bad:
  g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
               "Metrics address “%s”: expected HOST:PORT, [IPV6]:PORT or PORT, "
               "with a port from 0 to 65535",
               address);
  return NULL;
}

static char *
format_bound_address (GSocketAddress *bound)
{
  GInetAddress *inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (bound));
  guint16 port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_autofree char *host = g_inet_address_to_string (inet);

  if (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6)
    return g_strdup_printf ("[%s]:%u", host, port);
  return g_strdup_printf ("%s:%u", host, port);
}

gboolean
kestrel_prometheus_server_start (KestrelPrometheusServer  *self,
                                 const char               *address,
                                 GError                  **error)
{
  g_autoptr(GSocketAddress) requested = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(SoupServer) server = NULL;
  GSList *listeners;
  gboolean ok;

  g_return_val_if_fail (KESTREL_IS_PROMETHEUS_SERVER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  kestrel_prometheus_server_stop (self);

  requested = parse_address (address, error);
  if (requested == NULL)
    return FALSE;

  server = soup_server_new ("server-header", "kestrel/" PACKAGE_VERSION " ", NULL);
  soup_server_add_handler (server, NULL, handle_request, self, NULL);

  /* libsoup attaches the listening socket to the thread-default context. */
  g_main_context_push_thread_default (self->context);
  ok = soup_server_listen (server, requested, 0, error);
  g_main_context_pop_thread_default (self->context);
  if (!ok)
    {
      g_prefix_error (error, "Metrics server on %s: ", address != NULL ? address : "127.0.0.1:0");
      return FALSE;
    }

  listeners = soup_server_get_listeners (server);
  if (listeners != NULL)
    bound = g_socket_get_local_address (listeners->data, NULL);
  g_slist_free (listeners);
  if (bound == NULL || !G_IS_INET_SOCKET_ADDRESS (bound))
    {
      soup_server_disconnect (server);
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_FAILED,
                   "Metrics server on %s: cannot read back the bound address",
                   address != NULL ? address : "127.0.0.1:0");
      return FALSE;
    }

  self->server = g_steal_pointer (&server);
  self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  self->address = format_bound_address (bound);
  g_debug ("Serving metrics on http://%s/metrics", self->address);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ADDRESS]);
  return TRUE;
}

void
kestrel_prometheus_server_stop (KestrelPrometheusServer *self)
{
  g_return_if_fail (KESTREL_IS_PROMETHEUS_SERVER (self));

  if (self->server == NULL)
    return;

  soup_server_disconnect (self->server);
  g_clear_object (&self->server);
  g_clear_pointer (&self->address, g_free);
  self->port = 0;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ADDRESS]);
}

gboolean
kestrel_prometheus_server_is_running (KestrelPrometheusServer *self)
{
  g_return_val_if_fail (KESTREL_IS_PROMETHEUS_SERVER (self), FALSE);

  return self->server != NULL;
}

guint16
kestrel_prometheus_server_get_port (KestrelPrometheusServer *self)
{
  g_return_val_if_fail (KESTREL_IS_PROMETHEUS_SERVER (self), 0);

  return self->port;
}

const char *
kestrel_prometheus_server_get_address (KestrelPrometheusServer *self)
{
  g_return_val_if_fail (KESTREL_IS_PROMETHEUS_SERVER (self), NULL);

  return self->address;
}

char *
kestrel_prometheus_server_dup_url (KestrelPrometheusServer *self)
{
  g_return_val_if_fail (KESTREL_IS_PROMETHEUS_SERVER (self), NULL);

  if (self->address == NULL)
    return NULL;
  return g_strdup_printf ("http://%s/metrics", self->address);
}

static void
kestrel_prometheus_server_dispose (GObject *object)
{
  KestrelPrometheusServer *self = KESTREL_PROMETHEUS_SERVER (object);

  if (self->server != NULL)
    {
      soup_server_disconnect (self->server);
      g_clear_object (&self->server);
    }

  G_OBJECT_CLASS (kestrel_prometheus_server_parent_class)->dispose (object);
}

static void
kestrel_prometheus_server_finalize (GObject *object)
{
  KestrelPrometheusServer *self = KESTREL_PROMETHEUS_SERVER (object);

  if (self->destroy != NULL)
    self->destroy (self->user_data);
  g_clear_pointer (&self->address, g_free);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (kestrel_prometheus_server_parent_class)->finalize (object);
}

static void
kestrel_prometheus_server_constructed (GObject *object)
{
  KestrelPrometheusServer *self = KESTREL_PROMETHEUS_SERVER (object);

  G_OBJECT_CLASS (kestrel_prometheus_server_parent_class)->constructed (object);

  if (self->context == NULL)
    self->context = g_main_context_ref_thread_default ();
}

static void
kestrel_prometheus_server_get_property (GObject    *object,
                                        guint       prop_id,
                                        GValue     *value,
                                        GParamSpec *pspec)
{
  KestrelPrometheusServer *self = KESTREL_PROMETHEUS_SERVER (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      g_value_set_boxed (value, self->context);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    case PROP_ADDRESS:
      g_value_set_string (value, self->address);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kestrel_prometheus_server_set_property (GObject      *object,
                                        guint         prop_id,
                                        const GValue *value,
                                        GParamSpec   *pspec)
{
  KestrelPrometheusServer *self = KESTREL_PROMETHEUS_SERVER (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      self->context = g_value_dup_boxed (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kestrel_prometheus_server_class_init (KestrelPrometheusServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = kestrel_prometheus_server_constructed;
  object_class->dispose = kestrel_prometheus_server_dispose;
  object_class->finalize = kestrel_prometheus_server_finalize;
  object_class->get_property = kestrel_prometheus_server_get_property;
  object_class->set_property = kestrel_prometheus_server_set_property;

  properties[PROP_CONTEXT] =
    g_param_spec_boxed ("context", NULL, NULL,
                        G_TYPE_MAIN_CONTEXT,
                        (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  properties[PROP_PORT] =
    g_param_spec_uint ("port", NULL, NULL,
                       0, G_MAXUINT16, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_ADDRESS] =
    g_param_spec_string ("address", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kestrel_prometheus_server_init (KestrelPrometheusServer *self)
{
}

KestrelPrometheusServer *
kestrel_prometheus_server_new (GMainContext                  *context,
                               KestrelPrometheusSnapshotFunc  func,
                               gpointer                       user_data,
                               GDestroyNotify                 destroy)
{
  KestrelPrometheusServer *self;

  g_return_val_if_fail (func != NULL, NULL);

  self = g_object_new (KESTREL_TYPE_PROMETHEUS_SERVER, "context", context, NULL);
  self->func = func;
  self->user_data = user_data;
  self->destroy = destroy;
  return self;
}
