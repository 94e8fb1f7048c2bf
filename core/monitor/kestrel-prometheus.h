/* kestrel-prometheus.h — the metrics as a Prometheus scrape target.
 *
 * GET /metrics answers in the Prometheus text exposition format, version
 * 0.0.4: per-stage and end-to-end latency histograms, frame and face
 * counters, fps, process and system CPU, RSS and its growth, the buffer
 * pool's counters, and the configuration as the labels of
 * kestrel_config_info (whose value is always 1). Names follow Prometheus'
 * conventions, which `promtool check metrics` enforces: base units, so the
 * memory growth is kestrel_memory_growth_bytes_per_hour (the UI shows the
 * same number in MB per hour), and counters end in _total.
 *
 * The server never touches the engine: each request asks a callback for
 * the latest KestrelMetricsSnapshot (kestrel_metrics_get_snapshot() holds a
 * lock only for a reference count) and formats that. It runs on the
 * GMainContext given at construction: it accepts there, and each
 * connection's reads and writes run there. Whichever thread iterates that
 * context should have it pushed as its thread-default context
 * (g_main_context_push_thread_default()).
 *
 * HTTP/1.x, one request per connection (every answer says "Connection:
 * close", so no connection idles). GET and HEAD of /metrics, and of / (a
 * page with a link to /metrics); 405 for other methods there, 404 for
 * other paths. The request head is bounded (8 KiB, 431 beyond) and must
 * arrive within 10 s; at most 128 connections are open at once. See the
 * .c for why this is not libsoup's SoupServer.
 *
 * It listens on 127.0.0.1 unless told otherwise, and on an address that is
 * not a loopback one only with KESTREL_PROMETHEUS_ALLOW_REMOTE: metrics say
 * what a machine is doing, which is nobody else's business by default.
 */
#pragma once

#include <gio/gio.h>

#include "kestrel-metrics.h"

G_BEGIN_DECLS

/* Returns a new reference to the latest snapshot, or NULL when there is
 * none (the request then gets 503). Called on the server's context. */
typedef KestrelMetricsSnapshot *(*KestrelPrometheusSnapshotFunc) (gpointer user_data);

/* The exposition text for @snapshot. */
char *kestrel_prometheus_format (KestrelMetricsSnapshot *snapshot) G_GNUC_WARN_UNUSED_RESULT;

#define KESTREL_TYPE_PROMETHEUS_SERVER (kestrel_prometheus_server_get_type ())

G_DECLARE_FINAL_TYPE (KestrelPrometheusServer, kestrel_prometheus_server,
                      KESTREL, PROMETHEUS_SERVER, GObject)

/* @context NULL means the thread-default context of the calling thread.
 * @destroy is called on @user_data when the server is finalized. */
KestrelPrometheusServer *kestrel_prometheus_server_new (GMainContext                  *context,
                                                        KestrelPrometheusSnapshotFunc  func,
                                                        gpointer                       user_data,
                                                        GDestroyNotify                 destroy);

typedef enum {
  KESTREL_PROMETHEUS_NONE         = 0,
  /* Serve on an address other machines can reach (0.0.0.0, a LAN
   * address): the caller asked for it explicitly and warns the user. */
  KESTREL_PROMETHEUS_ALLOW_REMOTE = 1 << 0,
} KestrelPrometheusFlags;

/* Listens on @address: "HOST:PORT", "[IPV6]:PORT", ":PORT" or "PORT" (host
 * 127.0.0.1), or NULL for 127.0.0.1 on a free port. HOST is a numeric
 * address or "localhost". Port 0 picks a free port; read it back with
 * kestrel_prometheus_server_get_port(). Fails with KESTREL_ERROR_INVALID_ARGUMENT
 * for an address it cannot parse or a non-loopback one without
 * KESTREL_PROMETHEUS_ALLOW_REMOTE, or with the GIO error when the port is
 * taken. A running server is stopped first. */
gboolean     kestrel_prometheus_server_start (KestrelPrometheusServer  *self,
                                              const char               *address,
                                              KestrelPrometheusFlags    flags,
                                              GError                  **error);
/* Closes the listening socket and every connection. */
void         kestrel_prometheus_server_stop  (KestrelPrometheusServer  *self);

gboolean     kestrel_prometheus_server_is_running (KestrelPrometheusServer *self);
/* TRUE when listening on an address that is not a loopback one. */
gboolean     kestrel_prometheus_server_is_remote  (KestrelPrometheusServer *self);
/* Client connections open now (tests check that none is left behind). */
guint        kestrel_prometheus_server_get_n_connections (KestrelPrometheusServer *self);
/* The port listened on; 0 when stopped. */
guint16      kestrel_prometheus_server_get_port   (KestrelPrometheusServer *self);
/* "HOST:PORT" as bound ("127.0.0.1:9464", "[::1]:9464"); NULL when stopped. */
const char  *kestrel_prometheus_server_get_address (KestrelPrometheusServer *self);
/* "http://HOST:PORT/metrics"; NULL when stopped. */
char        *kestrel_prometheus_server_dup_url    (KestrelPrometheusServer *self) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
