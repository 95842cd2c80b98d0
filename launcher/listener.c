/* The launcher's own TCP listener in front of libsoup's HTTP server.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "listener.h"

#include <errno.h>
#include <gst/gst.h>
#include <netinet/in.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (sx_listener_debug);
#define GST_CAT_DEFAULT sx_listener_debug

/* Accepting pauses this long when the process is out of file descriptors:
 * the pending connection stays in the kernel's backlog, so polling again at
 * once would spin. */
#define ACCEPT_PAUSE_MS 250
/* Accepts per wake-up, so a flood cannot hold the main loop. */
#define ACCEPT_BATCH 64
/* After an early answer: how long and how much of the unread request to
 * drain before closing, so the client can read the answer instead of
 * getting a reset. */
#define DRAIN_TIMEOUT_MS 2000
#define DRAIN_MAX_BYTES (16 * 1024 * 1024)
#define LISTEN_BACKLOG 1024
/* "Too many connections" warnings at most this often. */
#define WARN_INTERVAL_US (10 * G_USEC_PER_SEC)

#define REFUSAL_BODY "{\"error\": \"too many connections\"}"
#define REFUSAL_HEAD                                                           \
  "HTTP/1.1 503 Service Unavailable\r\n"                                       \
  "Connection: close\r\n"                                                      \
  "Retry-After: 1\r\n"                                                         \
  "Content-Type: application/json\r\n"

typedef struct {
  SxListener *listener;
  GSocket *socket;
  GSource *source;
} ListenSocket;

struct _SxListener {
  SoupServer *server;
  SxListenerOptions options;
  GPtrArray *sockets;      /* ListenSocket* */
  GSource *resume_timer;   /* accepting paused (EMFILE) */
  GHashTable *per_address; /* IP text -> GUINT_TO_POINTER (open) */
  GHashTable *conns;       /* Conn* set */
  guint port;
  gboolean stopped;
  gint64 last_warning_us;
  SxListenerStats stats;
  gulong handler_ids[3];
};

/* One accepted connection, alive as long as its GSocketConnection. */
typedef struct {
  SxListener *listener;   /* NULL once the listener is gone */
  GSocket *socket;        /* not referenced: the connection owns it */
  GSocketAddress *remote; /* the object libsoup hands back per request */
  gchar *address;         /* remote IP, text */
  GSource *deadline;
} Conn;

static GQuark
conn_quark (void)
{
  static GQuark q;
  if (q == 0)
    q = g_quark_from_static_string ("sx-listener-conn");
  return q;
}

static void
conn_disarm (Conn *conn)
{
  if (conn->deadline) {
    g_source_destroy (conn->deadline);
    g_clear_pointer (&conn->deadline, g_source_unref);
  }
}

static gboolean
on_deadline (gpointer data)
{
  Conn *conn = data;
  g_clear_pointer (&conn->deadline, g_source_unref);
  if (conn->listener)
    conn->listener->stats.timed_out++;
  GST_INFO ("closing the connection from %s: no complete request in time",
            conn->address);
  /* libsoup's pending read sees the end and drops the connection; the
   * file descriptor is closed when the connection is freed */
  g_socket_shutdown (conn->socket, TRUE, TRUE, NULL);
  return G_SOURCE_REMOVE;
}

static void
conn_arm (Conn *conn, guint timeout_ms)
{
  conn_disarm (conn);
  if (timeout_ms == 0)
    return;
  conn->deadline = g_timeout_source_new (timeout_ms);
  g_source_set_callback (conn->deadline, on_deadline, conn, NULL);
  g_source_attach (conn->deadline, NULL);
}

static void
on_connection_freed (gpointer data, GObject *where_the_object_was)
{
  Conn *conn = data;
  conn_disarm (conn);
  SxListener *l = conn->listener;
  if (l) {
    l->stats.open--;
    guint n = GPOINTER_TO_UINT (
        g_hash_table_lookup (l->per_address, conn->address));
    if (n <= 1)
      g_hash_table_remove (l->per_address, conn->address);
    else
      g_hash_table_insert (l->per_address, g_strdup (conn->address),
                           GUINT_TO_POINTER (n - 1));
    g_hash_table_remove (l->conns, conn);
  }
  g_object_set_qdata (G_OBJECT (conn->remote), conn_quark (), NULL);
  g_object_unref (conn->remote);
  g_free (conn->address);
  g_free (conn);
}

static Conn *
conn_of (SoupServerMessage *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);
  return remote ? g_object_get_qdata (G_OBJECT (remote), conn_quark ()) : NULL;
}

/* libsoup's request life cycle sets each connection's deadline: a request
 * must arrive whole within request_timeout_ms of its first byte; between
 * requests a connection may idle for idle_timeout_ms; while the handler
 * works on a request (an offer waits for ICE gathering) none applies. */
static void
on_request_started (SoupServer *server, SoupServerMessage *msg, gpointer data)
{
  SxListener *l = data;
  Conn *conn = conn_of (msg);
  if (conn)
    conn_arm (conn, l->options.request_timeout_ms);
}

static void
on_request_read (SoupServer *server, SoupServerMessage *msg, gpointer data)
{
  Conn *conn = conn_of (msg);
  if (conn)
    conn_disarm (conn);
}

static void
on_request_finished (SoupServer *server, SoupServerMessage *msg, gpointer data)
{
  SxListener *l = data;
  Conn *conn = conn_of (msg);
  if (conn)
    conn_arm (conn, l->options.idle_timeout_ms);
}

static void
warn_rate_limited (SxListener *l, const gchar *what, const gchar *address)
{
  gint64 now = g_get_monotonic_time ();
  if (l->last_warning_us && now - l->last_warning_us < WARN_INTERVAL_US)
    return;
  l->last_warning_us = now;
  GST_WARNING (
      "refusing connections (%s; latest from %s): %u open, %" G_GUINT64_FORMAT
      " refused so far",
      what, address, l->stats.open, l->stats.refused);
}

static void
accept_client (SxListener *l, GSocket *client)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketAddress) remote
      = g_socket_get_remote_address (client, &error);
  g_autoptr (GSocketAddress) local = g_socket_get_local_address (client, NULL);
  if (remote == NULL || local == NULL || !G_IS_INET_SOCKET_ADDRESS (remote)) {
    /* reset before we got to it */
    g_socket_close (client, NULL);
    return;
  }
  g_autofree gchar *address = g_inet_address_to_string (
      g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
  guint from_address
      = GPOINTER_TO_UINT (g_hash_table_lookup (l->per_address, address));
  if (l->stats.open >= l->options.max_connections
      || from_address >= l->options.max_per_address) {
    l->stats.refused++;
    warn_rate_limited (l,
                       l->stats.open >= l->options.max_connections
                           ? "max-connections reached"
                           : "max-connections-per-address reached",
                       address);
    /* a best-effort answer (it fits any socket buffer), then close */
    g_autofree gchar *refusal = g_strdup_printf (
        REFUSAL_HEAD "Content-Length: %zu\r\n\r\n" REFUSAL_BODY,
        sizeof REFUSAL_BODY - 1);
    g_socket_set_blocking (client, FALSE);
    g_socket_send (client, refusal, strlen (refusal), NULL, NULL);
    g_socket_close (client, NULL);
    return;
  }

  g_autoptr (GSocketConnection) connection
      = g_socket_connection_factory_create_connection (client);
  GIOStream *stream = G_IO_STREAM (connection);
  g_autoptr (GIOStream) tls = NULL;
  if (l->options.tls_certificate) {
    tls = g_tls_server_connection_new (stream, l->options.tls_certificate,
                                       &error);
    if (tls == NULL) {
      GST_WARNING ("TLS for the connection from %s: %s", address,
                   error->message);
      g_socket_close (client, NULL);
      return;
    }
    stream = tls;
  }

  Conn *conn = g_new0 (Conn, 1);
  conn->listener = l;
  conn->socket = client;
  conn->remote = g_object_ref (remote);
  conn->address = g_strdup (address);
  g_object_set_qdata (G_OBJECT (remote), conn_quark (), conn);
  g_object_weak_ref (G_OBJECT (connection), on_connection_freed, conn);
  g_hash_table_add (l->conns, conn);
  g_hash_table_insert (l->per_address, g_strdup (address),
                       GUINT_TO_POINTER (from_address + 1));
  l->stats.open++;
  l->stats.accepted++;
  /* the first request's clock starts now: a connection that never sends
   * one is closed like one that sends it too slowly */
  conn_arm (conn, l->options.request_timeout_ms);
  GST_DEBUG ("connection from %s (%u open)", address, l->stats.open);
  if (!soup_server_accept_iostream (l->server, stream, local, remote, &error)) {
    GST_WARNING ("libsoup refused the connection from %s: %s", address,
                 error->message);
    g_io_stream_close (stream, NULL, NULL);
  }
}

static gboolean on_incoming (GSocket *socket, GIOCondition condition,
                             gpointer data);

static void
watch_socket (ListenSocket *ls)
{
  ls->source = g_socket_create_source (ls->socket, G_IO_IN, NULL);
  g_source_set_callback (ls->source, (GSourceFunc)(GCallback)on_incoming, ls,
                         NULL);
  g_source_attach (ls->source, NULL);
}

static gboolean
on_resume (gpointer data)
{
  SxListener *l = data;
  g_clear_pointer (&l->resume_timer, g_source_unref);
  if (l->stopped)
    return G_SOURCE_REMOVE;
  for (guint i = 0; i < l->sockets->len; i++) {
    ListenSocket *ls = g_ptr_array_index (l->sockets, i);
    if (ls->source == NULL)
      watch_socket (ls);
  }
  return G_SOURCE_REMOVE;
}

/* Out of file descriptors: stop watching every listening socket for a
 * moment instead of giving up (libsoup's own listener gives up for good). */
static void
pause_accepting (SxListener *l, const GError *error)
{
  l->stats.accept_paused++;
  gint64 now = g_get_monotonic_time ();
  if (!l->last_warning_us || now - l->last_warning_us >= WARN_INTERVAL_US) {
    l->last_warning_us = now;
    GST_WARNING ("cannot accept: %s; pausing %u ms (%u connections open)",
                 error->message, ACCEPT_PAUSE_MS, l->stats.open);
  }
  for (guint i = 0; i < l->sockets->len; i++) {
    ListenSocket *ls = g_ptr_array_index (l->sockets, i);
    if (ls->source) {
      g_source_destroy (ls->source);
      g_clear_pointer (&ls->source, g_source_unref);
    }
  }
  if (l->resume_timer == NULL) {
    l->resume_timer = g_timeout_source_new (ACCEPT_PAUSE_MS);
    g_source_set_callback (l->resume_timer, on_resume, l, NULL);
    g_source_attach (l->resume_timer, NULL);
  }
}

static gboolean
on_incoming (GSocket *socket, GIOCondition condition, gpointer data)
{
  ListenSocket *ls = data;
  SxListener *l = ls->listener;
  for (guint i = 0; i < ACCEPT_BATCH; i++) {
    g_autoptr (GError) error = NULL;
    GSocket *client = g_socket_accept (ls->socket, NULL, &error);
    if (client) {
      accept_client (l, client);
      g_object_unref (client);
      continue;
    }
    if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
      break;
    if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES)
        || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE)) {
      /* the source is destroyed there: do not touch it again */
      pause_accepting (l, error);
      return G_SOURCE_REMOVE;
    }
    /* ECONNABORTED and the like: that client only */
    GST_DEBUG ("accept: %s", error->message);
  }
  return G_SOURCE_CONTINUE;
}

SxListener *
sx_listener_new (SoupServer *server, const SxListenerOptions *options)
{
  if (sx_listener_debug == NULL)
    GST_DEBUG_CATEGORY_INIT (sx_listener_debug, "sxlistener", 0,
                             "surveillx-launcher HTTP connections");
  SxListener *l = g_new0 (SxListener, 1);
  l->server = g_object_ref (server);
  l->options = *options;
  if (options->tls_certificate)
    g_object_ref (options->tls_certificate);
  l->sockets = g_ptr_array_new ();
  l->per_address
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  l->conns = g_hash_table_new (g_direct_hash, g_direct_equal);
  l->handler_ids[0] = g_signal_connect (server, "request-started",
                                        G_CALLBACK (on_request_started), l);
  l->handler_ids[1] = g_signal_connect (server, "request-read",
                                        G_CALLBACK (on_request_read), l);
  l->handler_ids[2] = g_signal_connect (server, "request-finished",
                                        G_CALLBACK (on_request_finished), l);
  return l;
}

static gboolean
add_socket (SxListener *l, GSocketFamily family, GInetAddress *inet, guint port,
            gboolean v6_only, GError **error)
{
  g_autoptr (GSocket) socket = g_socket_new (family, G_SOCKET_TYPE_STREAM,
                                             G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return FALSE;
  if (family == G_SOCKET_FAMILY_IPV6
      && !g_socket_set_option (socket, IPPROTO_IPV6, IPV6_V6ONLY, v6_only,
                               error))
    return FALSE;
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (inet, port);
  /* GLib's default backlog of 10 drops connections in a burst of cameras */
  g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
  if (!g_socket_bind (socket, sa, TRUE, error)
      || !g_socket_listen (socket, error))
    return FALSE;
  g_socket_set_blocking (socket, FALSE);
  g_autoptr (GSocketAddress) bound = g_socket_get_local_address (socket, error);
  if (bound == NULL)
    return FALSE;
  l->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  ListenSocket *ls = g_new0 (ListenSocket, 1);
  ls->listener = l;
  ls->socket = g_steal_pointer (&socket);
  g_ptr_array_add (l->sockets, ls);
  watch_socket (ls);
  return TRUE;
}

gboolean
sx_listener_listen (SxListener *l, const gchar *address, guint port,
                    GError **error)
{
  if (address == NULL || g_strcmp0 (address, "0.0.0.0") == 0) {
    /* every interface: one dual-stack socket, or IPv4 alone where the
     * host has no IPv6 */
    g_autoptr (GInetAddress) any6
        = g_inet_address_new_any (G_SOCKET_FAMILY_IPV6);
    g_autoptr (GError) v6_error = NULL;
    if (add_socket (l, G_SOCKET_FAMILY_IPV6, any6, port, FALSE, &v6_error))
      return TRUE;
    GST_INFO ("no IPv6 socket (%s): listening on IPv4 only", v6_error->message);
    g_autoptr (GInetAddress) any4
        = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
    return add_socket (l, G_SOCKET_FAMILY_IPV4, any4, port, FALSE, error);
  }
  g_autoptr (GInetAddress) inet = g_inet_address_new_from_string (address);
  if (inet == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "--address %s: not an IP address", address);
    return FALSE;
  }
  return add_socket (l, g_inet_address_get_family (inet), inet, port, TRUE,
                     error);
}

gchar *
sx_listener_get_uri (SxListener *l)
{
  if (l->sockets->len == 0)
    return NULL;
  ListenSocket *ls = g_ptr_array_index (l->sockets, 0);
  g_autoptr (GSocketAddress) sa = g_socket_get_local_address (ls->socket, NULL);
  if (sa == NULL)
    return NULL;
  GInetAddress *inet
      = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (sa));
  const gchar *scheme = l->options.tls_certificate ? "https" : "http";
  /* the any-address as the operator wrote it: 0.0.0.0 */
  if (g_inet_address_get_is_any (inet))
    return g_strdup_printf ("%s://0.0.0.0:%u/", scheme, l->port);
  g_autofree gchar *text = g_inet_address_to_string (inet);
  if (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6)
    return g_strdup_printf ("%s://[%s]:%u/", scheme, text, l->port);
  return g_strdup_printf ("%s://%s:%u/", scheme, text, l->port);
}

void
sx_listener_stop (SxListener *l)
{
  l->stopped = TRUE;
  if (l->resume_timer) {
    g_source_destroy (l->resume_timer);
    g_clear_pointer (&l->resume_timer, g_source_unref);
  }
  for (guint i = 0; i < l->sockets->len; i++) {
    ListenSocket *ls = g_ptr_array_index (l->sockets, i);
    if (ls->source) {
      g_source_destroy (ls->source);
      g_clear_pointer (&ls->source, g_source_unref);
    }
    g_socket_close (ls->socket, NULL);
    g_object_unref (ls->socket);
    g_free (ls);
  }
  g_ptr_array_set_size (l->sockets, 0);
}

void
sx_listener_free (SxListener *l)
{
  sx_listener_stop (l);
  for (guint i = 0; i < G_N_ELEMENTS (l->handler_ids); i++)
    g_signal_handler_disconnect (l->server, l->handler_ids[i]);
  /* connections libsoup still holds outlive us: detach them */
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init (&it, l->conns);
  while (g_hash_table_iter_next (&it, &key, NULL)) {
    Conn *conn = key;
    conn_disarm (conn);
    conn->listener = NULL;
  }
  g_hash_table_unref (l->conns);
  g_hash_table_unref (l->per_address);
  g_ptr_array_unref (l->sockets);
  g_clear_object (&l->options.tls_certificate);
  g_object_unref (l->server);
  g_free (l);
}

void
sx_listener_get_stats (SxListener *l, SxListenerStats *stats)
{
  *stats = l->stats;
}

/* ---- early answers ---- */

typedef struct {
  GIOStream *stream;
  GBytes *answer;
  GCancellable *cancel;
  GSource *timer;
  gsize drained;
  gchar buf[16 * 1024];
} Closing;

static void
closing_finish (Closing *c)
{
  if (c->timer) {
    g_source_destroy (c->timer);
    g_clear_pointer (&c->timer, g_source_unref);
  }
  g_cancellable_cancel (c->cancel);
  /* a socket connection closes at once; TLS would try to send its
   * close_notify, which a peer that does not read could stall */
  g_io_stream_close_async (c->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  g_object_unref (c->stream);
  g_object_unref (c->cancel);
  g_bytes_unref (c->answer);
  g_free (c);
}

static gboolean
on_closing_timeout (gpointer data)
{
  Closing *c = data;
  /* the pending read returns CANCELLED and finishes */
  g_clear_pointer (&c->timer, g_source_unref);
  g_cancellable_cancel (c->cancel);
  return G_SOURCE_REMOVE;
}

static void
on_drained (GObject *source, GAsyncResult *res, gpointer data)
{
  Closing *c = data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), res, NULL);
  if (n <= 0 || (c->drained += (gsize)n) >= DRAIN_MAX_BYTES) {
    closing_finish (c);
    return;
  }
  g_input_stream_read_async (g_io_stream_get_input_stream (c->stream), c->buf,
                             sizeof c->buf, G_PRIORITY_LOW, c->cancel,
                             on_drained, c);
}

static void
on_answer_written (GObject *source, GAsyncResult *res, gpointer data)
{
  Closing *c = data;
  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), res, NULL,
                                         NULL)) {
    closing_finish (c);
    return;
  }
  /* "no more from us", then read and drop what the client still sends
   * for a moment: closing with unread data would reset the connection
   * before the client read the answer */
  if (G_IS_SOCKET_CONNECTION (c->stream))
    g_socket_shutdown (
        g_socket_connection_get_socket (G_SOCKET_CONNECTION (c->stream)), FALSE,
        TRUE, NULL);
  g_input_stream_read_async (g_io_stream_get_input_stream (c->stream), c->buf,
                             sizeof c->buf, G_PRIORITY_LOW, c->cancel,
                             on_drained, c);
}

static GBytes *
serialize_answer (SoupServerMessage *msg)
{
  guint status = soup_server_message_get_status (msg);
  const gchar *reason = soup_server_message_get_reason_phrase (msg);
  GString *out = g_string_new (NULL);
  g_string_append_printf (out, "HTTP/1.1 %u %s\r\n", status,
                          reason ? reason : soup_status_get_phrase (status));
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  SoupMessageHeadersIter it;
  const char *name, *value;
  soup_message_headers_iter_init (&it, headers);
  while (soup_message_headers_iter_next (&it, &name, &value)) {
    if (g_ascii_strcasecmp (name, "Connection") == 0
        || g_ascii_strcasecmp (name, "Content-Length") == 0
        || g_ascii_strcasecmp (name, "Transfer-Encoding") == 0)
      continue;
    g_string_append_printf (out, "%s: %s\r\n", name, value);
  }
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  g_autoptr (GBytes) content = soup_message_body_flatten (body);
  g_string_append_printf (out,
                          "Content-Length: %" G_GSIZE_FORMAT "\r\n"
                          "Connection: close\r\n\r\n",
                          g_bytes_get_size (content));
  g_string_append_len (out, g_bytes_get_data (content, NULL),
                       g_bytes_get_size (content));
  return g_string_free_to_bytes (out);
}

static gboolean
steal_and_answer (gpointer data)
{
  SoupServerMessage *msg = data;
  g_autoptr (GBytes) answer = serialize_answer (msg);
  GIOStream *stream = soup_server_message_steal_connection (msg);
  if (stream == NULL)
    return G_SOURCE_REMOVE;
  Closing *c = g_new0 (Closing, 1);
  c->stream = stream;
  c->answer = g_bytes_ref (answer);
  c->cancel = g_cancellable_new ();
  c->timer = g_timeout_source_new (DRAIN_TIMEOUT_MS);
  g_source_set_callback (c->timer, on_closing_timeout, c, NULL);
  g_source_attach (c->timer, NULL);
  gsize len;
  const guint8 *bytes = g_bytes_get_data (c->answer, &len);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (stream),
                                   bytes, len, G_PRIORITY_DEFAULT, c->cancel,
                                   on_answer_written, c);
  return G_SOURCE_REMOVE;
}

void
sx_listener_answer_and_close (SoupServerMessage *msg)
{
  /* Stealing the connection inside libsoup's read callback would free
   * what it still uses: pause reading now, take the connection over from
   * the main loop's next turn. */
  soup_server_message_pause (msg);
  g_idle_add_full (G_PRIORITY_HIGH, steal_and_answer, g_object_ref (msg),
                   g_object_unref);
}
