/* kestrel-prometheus-server.c — see kestrel-prometheus.h: the HTTP
 * endpoint that serves kestrel_prometheus_format()'s text
 * (kestrel-prometheus.c) on a GMainContext of the caller's choosing.
 */
#include "config.h"

#include "kestrel-prometheus.h"

#include <string.h>

#include "kestrel-error.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The server
 *
 * A small HTTP/1.1 responder on GSocketService rather than libsoup's
 * SoupServer: libsoup 3.2 (Debian 12) never closes a kept-alive connection
 * that the client closes while it is idle, so every scrape by curl or a
 * restarted Prometheus left a socket in CLOSE-WAIT until the process ran
 * out of descriptors; and SoupServer is not meant for untrusted clients.
 * Two paths, two methods and no request bodies need little of HTTP, and
 * owning the connections lets every one of them be bounded:
 *
 * - one response per connection, then "Connection: close": nothing idles;
 * - the request line and headers must fit in MAX_REQUEST_BYTES (431
 *   otherwise) and arrive within REQUEST_TIMEOUT_S;
 * - at most MAX_CONNECTIONS at once; more are closed as they arrive;
 * - after the response the write side is shut and what the client still
 *   sends (a body nobody asked for) is read and dropped, up to DRAIN_BYTES
 *   for at most DRAIN_TIMEOUT_S, so closing with unread data does not
 *   reset the connection before the client has read the answer.
 *
 * Every connection lives on the server's GMainContext, driven by socket
 * sources it owns, so stopping the server closes and frees every one at
 * once: no callback can come after it.
 */

#define MAX_REQUEST_BYTES 8192
#define MAX_CONNECTIONS   128
#define REQUEST_TIMEOUT_S 10
#define DRAIN_BYTES       (64 * 1024)
#define DRAIN_TIMEOUT_S   2

typedef struct _Connection Connection;

struct _KestrelPrometheusServer
{
  GObject                        parent_instance;

  GMainContext                  *context;
  KestrelPrometheusSnapshotFunc  func;
  gpointer                       user_data;
  GDestroyNotify                 destroy;

  GSocketService                *service;
  GList                         *connections;   /* Connection *, owned */
  guint                          n_connections;
  guint16                        port;
  char                          *address;
  gboolean                       remote;
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

/* One client connection, driven by one socket source at a time: reading
 * the request, writing the answer, then draining. Everything happens on
 * the server's context and the connection owns its sources, so closing it
 * is immediate and final: no callback can come after it. */
typedef enum {
  STATE_READING,
  STATE_WRITING,
  STATE_DRAINING,
} ConnectionState;

struct _Connection
{
  KestrelPrometheusServer *server;
  GSocketConnection       *stream;
  GSocket                 *socket;
  ConnectionState          state;
  GSource                 *io;
  GSource                 *deadline;
  char                     request[MAX_REQUEST_BYTES + 1];
  gsize                    filled;
  char                    *response;
  gsize                    response_len;
  gsize                    sent;
  gsize                    drained;
};

static void
clear_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

static void
connection_close (Connection *conn)
{
  KestrelPrometheusServer *self = conn->server;

  clear_source (&conn->io);
  clear_source (&conn->deadline);
  /* Synchronous on a socket: it only closes the descriptor. */
  g_io_stream_close (G_IO_STREAM (conn->stream), NULL, NULL);
  self->connections = g_list_remove (self->connections, conn);
  self->n_connections--;
  g_object_unref (conn->stream);
  g_free (conn->response);
  g_free (conn);
}

static gboolean
on_deadline (gpointer data)
{
  connection_close (data);
  return G_SOURCE_REMOVE;
}

static void
connection_set_deadline (Connection *conn,
                         guint       seconds)
{
  clear_source (&conn->deadline);
  conn->deadline = g_timeout_source_new_seconds (seconds);
  g_source_set_callback (conn->deadline, on_deadline, conn, NULL);
  g_source_set_name (conn->deadline, "[kestrel] metrics connection deadline");
  g_source_attach (conn->deadline, conn->server->context);
}

static gboolean on_socket (GSocket *socket, GIOCondition condition, gpointer data);

/* Waits for the socket to be readable or writable, as @state needs. */
static void
connection_wait (Connection      *conn,
                 ConnectionState  state)
{
  GIOCondition condition = state == STATE_WRITING ? G_IO_OUT : G_IO_IN;

  conn->state = state;
  clear_source (&conn->io);
  conn->io = g_socket_create_source (conn->socket, condition | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (conn->io, G_SOURCE_FUNC (on_socket), conn, NULL);
  g_source_set_name (conn->io, "[kestrel] metrics connection");
  g_source_attach (conn->io, conn->server->context);
}

static void
respond (Connection *conn,
         gboolean    head,
         guint       status,
         const char *reason,
         const char *content_type,
         const char *extra_headers,
         char       *body)        /* taken */
{
  GString *response = g_string_sized_new (256 + strlen (body));

  g_string_append_printf (response,
                          "HTTP/1.1 %u %s\r\n"
                          "Content-Type: %s\r\n"
                          "Content-Length: %zu\r\n"
                          "Connection: close\r\n"
                          "Server: kestrel/" PACKAGE_VERSION "\r\n"
                          "%s"
                          "\r\n",
                          status, reason, content_type, strlen (body),
                          extra_headers != NULL ? extra_headers : "");
  /* HEAD: the headers GET would have, without the body. */
  if (!head)
    g_string_append (response, body);
  g_free (body);

  conn->response_len = response->len;
  conn->response = g_string_free (response, FALSE);
  conn->sent = 0;
  connection_wait (conn, STATE_WRITING);
}

#define TEXT_PLAIN "text/plain; charset=utf-8"

static const char index_page[] =
  "<!DOCTYPE html>\n"
  "<html><head><meta charset=\"utf-8\"><title>Kestrel</title></head>\n"
  "<body><h1>Kestrel</h1>\n"
  "<p><a href=\"/metrics\">/metrics</a>: this process's metrics in the Prometheus text format.</p>\n"
  "</body></html>\n";

/* A whole request head is in conn->request: answer it. */
static void
handle_request (Connection *conn)
{
  KestrelPrometheusServer *self = conn->server;
  g_autoptr(KestrelMetricsSnapshot) snapshot = NULL;
  char *line_end = strpbrk (conn->request, "\r\n");
  g_auto(GStrv) parts = NULL;
  const char *method, *target;
  g_autofree char *path = NULL;
  gboolean get, head;

  *line_end = '\0';
  parts = g_strsplit (conn->request, " ", 4);
  if (g_strv_length (parts) != 3 || !g_str_has_prefix (parts[2], "HTTP/1."))
    {
      respond (conn, FALSE, 400, "Bad Request", TEXT_PLAIN, NULL,
               g_strdup ("Bad request: expected “GET /metrics HTTP/1.1”\n"));
      return;
    }
  method = parts[0];
  target = parts[1];
  /* The absolute form (a proxy's "GET http://host:port/metrics"). */
  if (g_ascii_strncasecmp (target, "http://", 7) == 0)
    {
      target = strchr (target + 7, '/');
      if (target == NULL)
        target = "/";
    }
  path = g_strndup (target, strcspn (target, "?#"));
  get = strcmp (method, "GET") == 0;
  head = strcmp (method, "HEAD") == 0;

  if (strcmp (path, "/metrics") != 0 && strcmp (path, "/") != 0)
    {
      respond (conn, head, 404, "Not Found", TEXT_PLAIN, NULL,
               g_strdup ("Not found: the metrics are at /metrics\n"));
      return;
    }
  if (!get && !head)
    {
      respond (conn, FALSE, 405, "Method Not Allowed", TEXT_PLAIN, "Allow: GET, HEAD\r\n",
               g_strdup ("Only GET and HEAD are allowed\n"));
      return;
    }
  if (strcmp (path, "/") == 0)
    {
      respond (conn, head, 200, "OK", "text/html; charset=utf-8", NULL, g_strdup (index_page));
      return;
    }

  snapshot = self->func (self->user_data);
  if (snapshot == NULL)
    {
      respond (conn, head, 503, "Service Unavailable", TEXT_PLAIN, NULL, g_strdup ("No metrics yet\n"));
      return;
    }
  respond (conn, head, 200, "OK", CONTENT_TYPE, NULL, kestrel_prometheus_format (snapshot));
}

/* A receive or send that would block returns an error, but only means
 * the readiness the source reported did not last: wait again. */
static gboolean
would_block (GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
}

/* Reading the request: FALSE once the connection should close. */
static gboolean
read_request (Connection *conn)
{
  g_autoptr(GError) error = NULL;
  gssize n = g_socket_receive (conn->socket, conn->request + conn->filled,
                               MAX_REQUEST_BYTES - conn->filled, NULL, &error);

  if (n < 0 && would_block (error))
    return TRUE;
  /* An error, or the client gave up before a whole request. */
  if (n <= 0)
    return FALSE;
  conn->filled += (gsize) n;
  conn->request[conn->filled] = '\0';
  if (memchr (conn->request, '\0', conn->filled) != NULL)
    respond (conn, FALSE, 400, "Bad Request", TEXT_PLAIN, NULL,
             g_strdup ("Bad request: a NUL byte in the request\n"));
  else if (strstr (conn->request, "\r\n\r\n") != NULL || strstr (conn->request, "\n\n") != NULL)
    handle_request (conn);
  else if (conn->filled == MAX_REQUEST_BYTES)
    respond (conn, FALSE, 431, "Request Header Fields Too Large", TEXT_PLAIN, NULL,
             g_strdup_printf ("The request is larger than %d bytes\n", MAX_REQUEST_BYTES));
  return TRUE;
}

/* Writing the answer: FALSE once the connection should close. */
static gboolean
write_response (Connection *conn)
{
  g_autoptr(GError) error = NULL;
  gssize n = g_socket_send (conn->socket, conn->response + conn->sent,
                            conn->response_len - conn->sent, NULL, &error);

  if (n < 0)
    return would_block (error);
  conn->sent += (gsize) n;
  if (conn->sent < conn->response_len)
    return TRUE;
  /* The answer is out: say so with a FIN, and read what the client may
   * still send until it closes too. */
  g_socket_shutdown (conn->socket, FALSE, TRUE, NULL);
  connection_set_deadline (conn, DRAIN_TIMEOUT_S);
  connection_wait (conn, STATE_DRAINING);
  return TRUE;
}

/* Draining: FALSE once the connection should close. */
static gboolean
drain (Connection *conn)
{
  g_autoptr(GError) error = NULL;
  gssize n = g_socket_receive (conn->socket, conn->request, sizeof conn->request, NULL, &error);

  if (n < 0)
    return would_block (error);
  return n > 0 && (conn->drained += (gsize) n) < DRAIN_BYTES;
}

static gboolean
on_socket (GSocket      *socket,
           GIOCondition  condition,
           gpointer      data)
{
  Connection *conn = data;
  gboolean open = FALSE;

  switch (conn->state)
    {
    case STATE_READING:  open = read_request (conn); break;
    case STATE_WRITING:  open = write_response (conn); break;
    case STATE_DRAINING: open = drain (conn); break;
    }
  if (!open)
    {
      /* Destroys this very source too, which GLib allows in its callback. */
      connection_close (conn);
      return G_SOURCE_REMOVE;
    }
  /* connection_wait() replaced this source with another. */
  return g_main_current_source () == conn->io ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean
on_incoming (GSocketService    *service,
             GSocketConnection *stream,
             GObject           *source_object,
             gpointer           data)
{
  KestrelPrometheusServer *self = data;
  Connection *conn;

  if (self->n_connections >= MAX_CONNECTIONS)
    {
      g_io_stream_close (G_IO_STREAM (stream), NULL, NULL);
      return TRUE;
    }

  conn = g_new0 (Connection, 1);
  conn->server = self;
  conn->stream = g_object_ref (stream);
  conn->socket = g_socket_connection_get_socket (stream);
  g_socket_set_blocking (conn->socket, FALSE);
  self->connections = g_list_prepend (self->connections, conn);
  self->n_connections++;
  connection_set_deadline (conn, REQUEST_TIMEOUT_S);
  connection_wait (conn, STATE_READING);
  return TRUE;
}

static GInetAddress *
parse_host (const char *host)
{
  if (host == NULL || *host == '\0' || g_ascii_strcasecmp (host, "localhost") == 0)
    return g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  return g_inet_address_new_from_string (host);
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

  inet = parse_host (host);
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
                                 KestrelPrometheusFlags    flags,
                                 GError                  **error)
{
  g_autoptr(GSocketAddress) requested = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GSocketService) service = NULL;
  const char *shown = address != NULL ? address : "127.0.0.1:0";
  gboolean remote, ok;

  g_return_val_if_fail (KESTREL_IS_PROMETHEUS_SERVER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  kestrel_prometheus_server_stop (self);

  requested = parse_address (address, error);
  if (requested == NULL)
    return FALSE;
  remote = !g_inet_address_get_is_loopback (
    g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (requested)));
  if (remote && !(flags & KESTREL_PROMETHEUS_ALLOW_REMOTE))
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "Metrics address “%s” is not a loopback address: other machines could read "
                   "the metrics there, which needs to be allowed explicitly", shown);
      return FALSE;
    }

  service = g_socket_service_new ();
  g_socket_service_stop (service);
  g_signal_connect (service, "incoming", G_CALLBACK (on_incoming), self);
  /* GSocketListener's default listen backlog is 10: when more scrapers
   * connect at once than that, the kernel drops their handshakes and they
   * retry with growing delays (a 64-scraper burst stalled for over 20 s
   * under ASan). Room for every connection we would serve anyway. */
  g_socket_listener_set_backlog (G_SOCKET_LISTENER (service), MAX_CONNECTIONS);
  ok = g_socket_listener_add_address (G_SOCKET_LISTENER (service), requested, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, &bound, error);
  if (!ok)
    {
      g_prefix_error (error, "Metrics server on %s: ", shown);
      return FALSE;
    }
  /* The service accepts on the thread-default context of whoever starts
   * it, and each connection's operations run where it was accepted. */
  g_main_context_push_thread_default (self->context);
  g_socket_service_start (service);
  g_main_context_pop_thread_default (self->context);

  self->service = g_steal_pointer (&service);
  self->remote = remote;
  self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  self->address = format_bound_address (bound);
  g_debug ("Serving metrics on http://%s/metrics", self->address);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ADDRESS]);
  return TRUE;
}

static void
close_everything (KestrelPrometheusServer *self)
{
  if (self->service != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->service, self);
      g_socket_service_stop (self->service);
      g_socket_listener_close (G_SOCKET_LISTENER (self->service));
      g_clear_object (&self->service);
    }
  while (self->connections != NULL)
    connection_close (self->connections->data);
}

void
kestrel_prometheus_server_stop (KestrelPrometheusServer *self)
{
  g_return_if_fail (KESTREL_IS_PROMETHEUS_SERVER (self));

  if (self->service == NULL)
    return;

  close_everything (self);
  g_clear_pointer (&self->address, g_free);
  self->port = 0;
  self->remote = FALSE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ADDRESS]);
}

gboolean
kestrel_prometheus_server_is_running (KestrelPrometheusServer *self)
{
  g_return_val_if_fail (KESTREL_IS_PROMETHEUS_SERVER (self), FALSE);

  return self->service != NULL;
}

gboolean
kestrel_prometheus_server_is_remote (KestrelPrometheusServer *self)
{
  g_return_val_if_fail (KESTREL_IS_PROMETHEUS_SERVER (self), FALSE);

  return self->remote;
}

guint
kestrel_prometheus_server_get_n_connections (KestrelPrometheusServer *self)
{
  g_return_val_if_fail (KESTREL_IS_PROMETHEUS_SERVER (self), 0);

  return self->n_connections;
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

  close_everything (self);

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
