/* surveillx-gst — the Socket.IO client: shared connections, its clients'
 * frames and ack windows, and the connection's state machine.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Protocol facts this follows (checked against python-engineio 4.3 and
 * python-socketio 5.7, the versions behind Flask-SocketIO in Debian 12):
 *  - the server pings, the client answers at once; a client that misses
 *    pongs is dropped while its socket may stay open, hence the watchdog;
 *  - a message above max_http_buffer_size (one WebSocket message, or one
 *    whole polling POST body) drops the connection, hence the size cap;
 *  - a polling POST may carry at most 16 packets (max_decode_packets);
 *  - event handlers run concurrently (async_handlers), so acks of clients
 *    sharing a connection come back independently.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "sioconnection.h"

#include <string.h>

/* Frames wait here until their client's ack window has room. One waiting
 * frame is enough to keep the window busy; older waiting frames are stale
 * and get replaced, which bounds latency to max-in-flight + 1 frames.
 * Without a window (max-in-flight 0) a few may queue while the thread
 * wakes. */
#define PENDING_LIMIT_WINDOW 1
#define PENDING_LIMIT_NO_WINDOW 16
#define HANDSHAKE_TIMEOUT_MS 10000
#define STOP_GRACE_MS 1000
#define TICK_MS 100

struct _SxSioClient {
  gint refcount; /* atomic: frames and acks in flight hold one */
  SxSioConnection *conn;
  gchar *event;
  guint max_in_flight;
  guint ack_timeout_ms;
  guint stats_interval_ms;
  SxSioCallbacks cb;
  gpointer user_data;

  /* Under conn->lock */
  gboolean started;
  gboolean removed;
  gboolean saw_join; /* told of the connection's current join */
  gboolean ever_joined;
  gboolean told_fatal;
  gint callbacks_running;
  GQueue pending; /* OutFrame */
  guint sending;  /* taken from pending, not yet on the wire */
  guint in_flight;
  SxSioStats stats; /* its own counters */
  gint64 last_stats_us;
};

typedef struct {
  SxSioClient *client; /* a reference */
  GBytes *text;        /* the whole Engine.IO message: "42/nsp,id[...]" */
  GBytes *attachment;  /* NULL or the binary attachment */
  gint64 ack_id;       /* -1 without acks */
} OutFrame;

typedef struct {
  SxSioClient *client; /* a reference */
  gint64 sent_us;
} InFlight;

static void connect_start (SxSioConnection *c);
static void pump (SxSioConnection *c);

/* ------------------------------------------------------------ the client */

static SxSioClient *
client_ref (SxSioClient *client)
{
  g_atomic_int_inc (&client->refcount);
  return client;
}

static void
client_unref (SxSioClient *client)
{
  if (!g_atomic_int_dec_and_test (&client->refcount))
    return;
  g_free (client->event);
  sx_sio_stats_clear (&client->stats);
  g_free (client);
}

static void
out_frame_free (OutFrame *f)
{
  g_bytes_unref (f->text);
  if (f->attachment)
    g_bytes_unref (f->attachment);
  client_unref (f->client);
  g_free (f);
}

static void
in_flight_free (InFlight *entry)
{
  client_unref (entry->client);
  g_free (entry);
}

void
sx_sio_config_clear (SxSioConfig *config)
{
  g_clear_pointer (&config->url, g_free);
  g_clear_pointer (&config->nsp, g_free);
  g_clear_pointer (&config->event, g_free);
  g_clear_pointer (&config->auth_json, g_free);
  g_clear_pointer (&config->tls_ca_file, g_free);
  g_clear_pointer (&config->header_names, g_strfreev);
  g_clear_pointer (&config->header_values, g_strfreev);
}

void
sx_sio_stats_clear (SxSioStats *stats)
{
  g_clear_pointer (&stats->last_error, g_free);
}

/* Drops what @client has waiting; under lock */
static void
drop_pending_locked (SxSioClient *client)
{
  OutFrame *f;

  while ((f = g_queue_pop_head (&client->pending))) {
    out_frame_free (f);
    client->stats.dropped_disconnected++;
  }
}

/* Clients to call back, each held (refcount, callbacks_running) so that
 * sx_sio_client_free() waits for its calls to end; under lock. */
static GPtrArray *
callbacks_enter_locked (GPtrArray *clients)
{
  guint i;

  for (i = 0; i < clients->len; i++) {
    SxSioClient *client = g_ptr_array_index (clients, i);

    client_ref (client);
    client->callbacks_running++;
  }
  return clients;
}

static void
callbacks_leave (SxSioConnection *c, GPtrArray *clients)
{
  guint i;

  g_mutex_lock (&c->lock);
  for (i = 0; i < clients->len; i++)
    ((SxSioClient *)g_ptr_array_index (clients, i))->callbacks_running--;
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
  for (i = 0; i < clients->len; i++)
    client_unref (g_ptr_array_index (clients, i));
  g_ptr_array_unref (clients);
}

/* -------------------------------------------------------- the connection */

/* Splits the user's URL into the two bases the transports need. The path
 * defaults to /socket.io/ as in every Socket.IO client; a user query is
 * kept so deployments can pass tokens in it. */
static gboolean
build_bases (const gchar *url, gchar **http_base, gchar **ws_base,
             GError **error)
{
  GUri *uri;
  const gchar *scheme, *path, *query;
  const gchar *http_scheme, *ws_scheme;
  gchar *full_query;

  uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, NULL);
  if (!uri) {
    g_set_error (error, SX_EIO_ERROR, SX_EIO_ERROR_URL,
                 "'%s' is not a valid URL", url);
    return FALSE;
  }
  scheme = g_uri_get_scheme (uri);
  if (!g_ascii_strcasecmp (scheme, "http")
      || !g_ascii_strcasecmp (scheme, "ws")) {
    http_scheme = "http";
    ws_scheme = "ws";
  } else if (!g_ascii_strcasecmp (scheme, "https")
             || !g_ascii_strcasecmp (scheme, "wss")) {
    http_scheme = "https";
    ws_scheme = "wss";
  } else {
    g_set_error (error, SX_EIO_ERROR, SX_EIO_ERROR_URL,
                 "URL '%s': scheme '%s' is not http, https, ws or wss", url,
                 scheme);
    g_uri_unref (uri);
    return FALSE;
  }
  if (!g_uri_get_host (uri) || !*g_uri_get_host (uri)) {
    g_set_error (error, SX_EIO_ERROR, SX_EIO_ERROR_URL, "URL '%s' has no host",
                 url);
    g_uri_unref (uri);
    return FALSE;
  }
  path = g_uri_get_path (uri);
  if (!path || !*path || !strcmp (path, "/"))
    path = "/socket.io/";
  query = g_uri_get_query (uri);
  full_query = g_strdup_printf ("%s%sEIO=4", query ? query : "",
                                query && *query ? "&" : "");
  *http_base = g_uri_join (G_URI_FLAGS_ENCODED, http_scheme, NULL,
                           g_uri_get_host (uri), g_uri_get_port (uri), path,
                           full_query, NULL);
  *ws_base
      = g_uri_join (G_URI_FLAGS_ENCODED, ws_scheme, NULL, g_uri_get_host (uri),
                    g_uri_get_port (uri), path, full_query, NULL);
  g_free (full_query);
  g_uri_unref (uri);
  return TRUE;
}

/* Everything that makes two connections different, as one string */
static gchar *
connection_key (const SxSioConfig *cfg)
{
  GString *key = g_string_new (NULL);
  guint i;

  /* \x1f cannot occur in a URL, a header or (escaped) JSON */
  g_string_append_printf (
      key,
      "%s\x1f%s\x1f%s\x1f%s\x1f%d\x1f%u\x1f%u\x1f%d\x1f%d\x1f%" G_GSIZE_FORMAT
      "\x1f%" G_GUINT64_FORMAT,
      cfg->url, cfg->nsp, cfg->auth_json ? cfg->auth_json : "",
      cfg->tls_ca_file ? cfg->tls_ca_file : "", cfg->transport,
      cfg->reconnect_delay_ms, cfg->reconnect_max_delay_ms,
      cfg->reconnect_attempts, cfg->retry_rejected, cfg->max_message_size,
      cfg->max_incoming_payload);
  for (i = 0; cfg->header_names && cfg->header_names[i] && cfg->header_values
              && cfg->header_values[i];
       i++)
    g_string_append_printf (key, "\x1f%s\x1e%s", cfg->header_names[i],
                            cfg->header_values[i]);
  return g_string_free (key, FALSE);
}

/* @cfg is checked and normalised (defaults filled in) */
static SxSioConnection *
connection_new (const SxSioConfig *cfg, GError **error)
{
  SxSioConnection *c = g_new0 (SxSioConnection, 1);

  c->cfg.url = g_strdup (cfg->url);
  c->cfg.nsp = g_strdup (cfg->nsp);
  c->cfg.auth_json = g_strdup (cfg->auth_json);
  c->cfg.tls_ca_file = g_strdup (cfg->tls_ca_file);
  c->cfg.header_names = g_strdupv (cfg->header_names);
  c->cfg.header_values = g_strdupv (cfg->header_values);
  c->cfg.transport = cfg->transport;
  c->cfg.reconnect_delay_ms = cfg->reconnect_delay_ms;
  c->cfg.reconnect_max_delay_ms = cfg->reconnect_max_delay_ms;
  c->cfg.reconnect_attempts = cfg->reconnect_attempts;
  c->cfg.retry_rejected = cfg->retry_rejected;
  c->cfg.max_message_size = cfg->max_message_size;
  c->cfg.max_incoming_payload = cfg->max_incoming_payload;
  c->cfg.exclusive = cfg->exclusive;

  if (!build_bases (c->cfg.url, &c->http_base, &c->ws_base, error))
    goto fail;
  if (c->cfg.tls_ca_file && *c->cfg.tls_ca_file) { /* "": the system's */
    GError *tls_error = NULL;

    c->tls_database = g_tls_file_database_new (c->cfg.tls_ca_file, &tls_error);
    if (c->tls_database == NULL) {
      g_set_error (error, SX_EIO_ERROR, SX_EIO_ERROR_URL,
                   "tls-ca-file '%s': %s", c->cfg.tls_ca_file,
                   tls_error->message);
      g_error_free (tls_error);
      goto fail;
    }
  }

  g_mutex_init (&c->lock);
  g_cond_init (&c->cond);
  c->clients = g_ptr_array_new ();
  g_queue_init (&c->poll_out);
  c->transport_name = "none";
  c->next_ack_id = 1;
  c->in_flight = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                        (GDestroyNotify)in_flight_free);
  c->closing_ws = g_ptr_array_new ();
  c->ctx = g_main_context_new ();
  c->loop = g_main_loop_new (c->ctx, FALSE);
  return c;

fail:
  sx_sio_config_clear (&c->cfg);
  g_free (c->http_base);
  g_free (c->ws_base);
  g_free (c);
  return NULL;
}

static gboolean stop_cb (gpointer data);

/* The last client left: says goodbye, joins the thread, frees all */
static void
connection_free (SxSioConnection *c)
{
  if (c->thread) {
    GSource *s = g_idle_source_new ();

    g_source_set_callback (s, stop_cb, c, NULL);
    g_source_attach (s, c->ctx);
    g_source_unref (s);
    g_thread_join (c->thread);
    c->thread = NULL;
  }
  g_queue_clear_full (&c->poll_out, (GDestroyNotify)sx_sio_poll_item_free);
  g_clear_object (&c->cancel);
  sx_eio_handshake_clear (&c->hs);
  g_hash_table_unref (c->in_flight);
  g_ptr_array_unref (c->closing_ws);
  g_ptr_array_unref (c->clients);
  g_main_loop_unref (c->loop);
  g_main_context_unref (c->ctx);
  g_clear_error (&c->fatal_error);
  g_free (c->last_error);
  g_free (c->sid);
  g_clear_object (&c->tls_database);
  sx_sio_config_clear (&c->cfg);
  g_free (c->key);
  g_free (c->http_base);
  g_free (c->ws_base);
  g_mutex_clear (&c->lock);
  g_cond_clear (&c->cond);
  g_free (c);
}

/* The process's shared connections by key; given-up ones leave it so the
 * next client starts afresh. */
static GMutex registry_lock;
static GHashTable *registry;

static SxSioConnection *
registry_acquire (const SxSioConfig *cfg, GError **error)
{
  SxSioConnection *c = NULL;
  gchar *key = cfg->exclusive ? NULL : connection_key (cfg);

  g_mutex_lock (&registry_lock);
  if (key) {
    if (!registry)
      registry = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, NULL);
    c = g_hash_table_lookup (registry, key);
    if (c) {
      gboolean dead;

      g_mutex_lock (&c->lock);
      dead = c->gave_up;
      g_mutex_unlock (&c->lock);
      if (dead) {
        g_hash_table_remove (registry, key);
        c = NULL;
      }
    }
  }
  if (!c) {
    c = connection_new (cfg, error);
    if (c && key) {
      c->key = key;
      key = NULL;
      g_hash_table_insert (registry, c->key, c);
    }
  }
  if (c)
    c->users++;
  g_mutex_unlock (&registry_lock);
  g_free (key);
  return c;
}

static void
registry_release (SxSioConnection *c)
{
  gboolean last;

  g_mutex_lock (&registry_lock);
  last = --c->users == 0;
  if (last && c->key && registry && g_hash_table_lookup (registry, c->key) == c)
    g_hash_table_remove (registry, c->key);
  g_mutex_unlock (&registry_lock);
  if (last)
    connection_free (c);
}

/* ------------------------------------------------------- small utilities */

GSource *
sx_sio_connection_add_timeout (SxSioConnection *c, guint ms, GSourceFunc func)
{
  GSource *s = g_timeout_source_new (ms);

  g_source_set_callback (s, func, c, NULL);
  g_source_attach (s, c->ctx);
  return s;
}

static void
clear_source (GSource **s)
{
  if (*s) {
    g_source_destroy (*s);
    g_source_unref (*s);
    *s = NULL;
  }
}

void
sx_sio_connection_set_last_error (SxSioConnection *c, const gchar *msg)
{
  g_mutex_lock (&c->lock);
  g_free (c->last_error);
  c->last_error = g_strdup (msg);
  g_mutex_unlock (&c->lock);
}

SxSioOp *
sx_sio_op_new (SxSioConnection *c, SoupMessage *msg)
{
  SxSioOp *op = g_new0 (SxSioOp, 1);

  op->conn = c;
  op->cancel = g_object_ref (c->cancel);
  op->msg = msg ? g_object_ref (msg) : NULL;
  c->ops++;
  return op;
}

gboolean
sx_sio_op_finish (SxSioOp *op)
{
  gboolean live = !g_cancellable_is_cancelled (op->cancel);

  op->conn->ops--;
  return live;
}

void
sx_sio_op_free (SxSioOp *op)
{
  g_object_unref (op->cancel);
  g_clear_object (&op->msg);
  g_free (op);
}

SoupMessage *
sx_sio_connection_new_message (SxSioConnection *c, const gchar *method,
                               const gchar *url)
{
  SoupMessage *msg = soup_message_new (method, url);
  SoupMessageHeaders *headers;
  guint i;

  if (!msg)
    return NULL;
  headers = soup_message_get_request_headers (msg);
  for (i = 0; c->cfg.header_names && c->cfg.header_names[i]
              && c->cfg.header_values && c->cfg.header_values[i];
       i++)
    soup_message_headers_append (headers, c->cfg.header_names[i],
                                 c->cfg.header_values[i]);
  return msg;
}

/* Logs a peer's doing on every client's behalf (through its callback, so
 * an element reports it in its own debug category) */
static void
warn_clients (SxSioConnection *c, const gchar *message)
{
  GPtrArray *clients;
  guint i;

  g_mutex_lock (&c->lock);
  clients = callbacks_enter_locked (g_ptr_array_copy (c->clients, NULL, NULL));
  g_mutex_unlock (&c->lock);
  for (i = 0; i < clients->len; i++) {
    SxSioClient *client = g_ptr_array_index (clients, i);

    if (client->cb.warning)
      client->cb.warning (client->user_data, message);
  }
  callbacks_leave (c, clients);
}

/* --------------------------------------------------------------- sending */

static void
send_text (SxSioConnection *c, const gchar *text)
{
  GBytes *bytes = g_bytes_new (text, strlen (text));

  if (c->polling)
    sx_sio_polling_queue (c, bytes, FALSE);
  else
    sx_sio_websocket_send (c, SOUP_WEBSOCKET_DATA_TEXT, bytes);
  g_bytes_unref (bytes);
}

static void
send_frame (SxSioConnection *c, OutFrame *f)
{
  SxSioClient *client = f->client;
  gsize bytes = g_bytes_get_size (f->text)
                + (f->attachment ? g_bytes_get_size (f->attachment) : 0);
  gboolean sent = TRUE;

  if (c->polling) {
    sx_sio_polling_queue (c, f->text, FALSE);
    if (f->attachment)
      sx_sio_polling_queue (c, f->attachment, TRUE);
  } else {
    sent = sx_sio_websocket_send (c, SOUP_WEBSOCKET_DATA_TEXT, f->text);
    if (sent && f->attachment)
      sx_sio_websocket_send (c, SOUP_WEBSOCKET_DATA_BINARY, f->attachment);
  }

  g_mutex_lock (&c->lock);
  client->sending--;
  if (!sent) {
    client->stats.dropped_disconnected++;
  } else if (!client->removed) {
    if (f->ack_id >= 0) {
      gint64 *key = g_new (gint64, 1);
      InFlight *entry = g_new0 (InFlight, 1);

      *key = f->ack_id;
      entry->client = client_ref (client);
      entry->sent_us = g_get_monotonic_time ();
      g_hash_table_insert (c->in_flight, key, entry);
      client->in_flight++;
    }
    client->stats.sent++;
    client->stats.bytes_sent += bytes;
  }
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
}

/* Moves waiting frames onto the wire while their clients' windows have
 * room, one frame per client in turn: a busy camera cannot starve the
 * others of the shared socket. */
static void
pump (SxSioConnection *c)
{
  while (c->joined) {
    OutFrame *f = NULL;
    guint i, n;

    g_mutex_lock (&c->lock);
    n = c->clients->len;
    for (i = 0; i < n && !f; i++) {
      guint turn = (c->next_turn + i) % n;
      SxSioClient *client = g_ptr_array_index (c->clients, turn);

      if (client->max_in_flight > 0
          && client->in_flight + client->sending >= client->max_in_flight)
        continue;
      f = g_queue_pop_head (&client->pending);
      if (f) {
        client->sending++;
        c->next_turn = (turn + 1) % n;
      }
    }
    g_mutex_unlock (&c->lock);
    if (!f)
      break;
    send_frame (c, f);
    out_frame_free (f);
  }
}

static gboolean
wake_cb (gpointer data)
{
  SxSioConnection *c = data;

  g_mutex_lock (&c->lock);
  c->wake_scheduled = FALSE;
  g_mutex_unlock (&c->lock);
  pump (c);
  return G_SOURCE_REMOVE;
}

static gsize
base64_size (gsize n)
{
  return (n + 2) / 3 * 4;
}

SxSioEmitResult
sx_sio_client_emit (SxSioClient *client, const gchar *data_json, gsize data_len,
                    GBytes *attachment)
{
  SxSioConnection *c = client->conn;
  GString *text;
  OutFrame *f;
  gsize wire;
  gboolean wake = FALSE;
  guint limit;

  g_mutex_lock (&c->lock);
  if (!c->connected || c->gave_up) {
    client->stats.dropped_disconnected++;
    g_mutex_unlock (&c->lock);
    return SX_SIO_EMIT_DROPPED_DISCONNECTED;
  }
  f = g_new0 (OutFrame, 1);
  f->ack_id = client->max_in_flight > 0 ? c->next_ack_id++ : -1;
  g_mutex_unlock (&c->lock);

  /* Encoding happens on the caller's thread: it is the only real work, and
   * the connection's thread must stay free to answer pings. */
  text = g_string_sized_new (data_len + strlen (client->event) + 64);
  g_string_append_c (text, '0' + SX_EIO_PACKET_MESSAGE);
  sx_sio_packet_append_header (
      text, attachment ? SX_SIO_PACKET_BINARY_EVENT : SX_SIO_PACKET_EVENT,
      attachment ? 1 : 0, c->cfg.nsp, f->ack_id);
  g_string_append_c (text, '[');
  sx_json_append_string (text, client->event);
  g_string_append_c (text, ',');
  g_string_append_len (text, data_json, data_len);
  g_string_append_c (text, ']');

  g_mutex_lock (&c->lock);
  /* What the server measures: each WebSocket message on its own, or the
   * whole POST body (attachments base64-encoded) when polling. */
  if (c->polling_now)
    wire = text->len
           + (attachment ? 2 + base64_size (g_bytes_get_size (attachment)) : 0);
  else
    wire = MAX (text->len, attachment ? g_bytes_get_size (attachment) : 0);
  if (wire > c->cfg.max_message_size) {
    client->stats.dropped_oversize++;
    g_mutex_unlock (&c->lock);
    g_string_free (text, TRUE);
    g_free (f);
    return SX_SIO_EMIT_DROPPED_OVERSIZE;
  }
  f->client = client_ref (client);
  f->text = g_string_free_to_bytes (text);
  f->attachment = attachment ? g_bytes_ref (attachment) : NULL;
  g_queue_push_tail (&client->pending, f);
  limit = client->max_in_flight > 0 ? PENDING_LIMIT_WINDOW
                                    : PENDING_LIMIT_NO_WINDOW;
  while (g_queue_get_length (&client->pending) > limit) {
    out_frame_free (g_queue_pop_head (&client->pending));
    client->stats.dropped_window++;
  }
  if (!c->wake_scheduled) {
    c->wake_scheduled = TRUE;
    wake = TRUE;
  }
  g_mutex_unlock (&c->lock);

  if (wake) {
    GSource *s = g_idle_source_new ();

    g_source_set_priority (s, G_PRIORITY_DEFAULT);
    g_source_set_callback (s, wake_cb, c, NULL);
    g_source_attach (s, c->ctx);
    g_source_unref (s);
  }
  return SX_SIO_EMIT_QUEUED;
}

/* ----------------------------------------------------- receiving, state */

static gboolean
watchdog_cb (gpointer data)
{
  SxSioConnection *c = data;
  gchar *reason;

  if (c->opened)
    reason = g_strdup_printf ("no ping from the server within %" G_GINT64_FORMAT
                              " ms",
                              c->hs.ping_interval_ms + c->hs.ping_timeout_ms);
  else
    reason = g_strdup_printf ("no Engine.IO handshake within %d ms",
                              HANDSHAKE_TIMEOUT_MS);
  clear_source (&c->watchdog);
  sx_sio_connection_lost (c, reason);
  g_free (reason);
  return G_SOURCE_REMOVE;
}

static void
arm_watchdog (SxSioConnection *c, gint64 ms)
{
  clear_source (&c->watchdog);
  c->watchdog = sx_sio_connection_add_timeout (c, (guint)ms, watchdog_cb);
}

/* Tells the clients not yet told that the connection ended for good
 * (all of them, or just @only); under no lock. */
static void
tell_fatal (SxSioConnection *c, SxSioClient *only)
{
  GPtrArray *clients = g_ptr_array_new ();
  GError *error;
  guint i;

  g_mutex_lock (&c->lock);
  for (i = 0; i < c->clients->len; i++) {
    SxSioClient *client = g_ptr_array_index (c->clients, i);

    if ((only && client != only) || client->told_fatal)
      continue;
    client->told_fatal = TRUE;
    g_ptr_array_add (clients, client);
  }
  callbacks_enter_locked (clients);
  error = g_error_copy (c->fatal_error);
  g_mutex_unlock (&c->lock);
  for (i = 0; i < clients->len; i++) {
    SxSioClient *client = g_ptr_array_index (clients, i);

    if (client->cb.fatal)
      client->cb.fatal (client->user_data, error);
  }
  g_error_free (error);
  callbacks_leave (c, clients);
}

static void
give_up (SxSioConnection *c, GError *error)
{
  g_mutex_lock (&c->lock);
  c->gave_up = TRUE;
  c->connected = FALSE;
  g_free (c->last_error);
  c->last_error = g_strdup (error->message);
  g_clear_error (&c->fatal_error);
  c->fatal_error = g_error_copy (error);
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
  tell_fatal (c, NULL);
}

/* Forgets the current connection: cancels its operations, closes its
 * socket, clears the windows. Waiting frames are the caller's business. */
static void
transport_reset (SxSioConnection *c)
{
  guint i;

  g_cancellable_cancel (c->cancel);
  g_object_unref (c->cancel);
  c->cancel = g_cancellable_new ();
  c->generation++;

  sx_sio_websocket_close (c, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
  clear_source (&c->watchdog);
  sx_eio_handshake_clear (&c->hs);
  g_mutex_lock (&c->lock);
  g_hash_table_remove_all (c->in_flight);
  for (i = 0; i < c->clients->len; i++)
    ((SxSioClient *)g_ptr_array_index (c->clients, i))->in_flight = 0;
  g_mutex_unlock (&c->lock);
  g_queue_clear_full (&c->poll_out, (GDestroyNotify)sx_sio_poll_item_free);
  c->post_busy = FALSE;
  c->get_busy = FALSE;
  c->opened = FALSE;
  c->joined = FALSE;
  c->polling = FALSE;
}

static gboolean
retry_cb (gpointer data)
{
  SxSioConnection *c = data;

  clear_source (&c->retry_timer);
  connect_start (c);
  return G_SOURCE_REMOVE;
}

/* Jittered exponential backoff: base * 2^(n-1), capped, then scaled by a
 * random factor in [0.5, 1] so processes restarted together spread out. */
static void
schedule_retry (SxSioConnection *c, const gchar *reason)
{
  guint64 delay;
  guint shift;

  if (c->stopping || c->gave_up)
    return;
  c->attempts++;
  if (c->cfg.reconnect_attempts >= 0
      && c->attempts > (guint)c->cfg.reconnect_attempts) {
    GError *error
        = g_error_new (SX_EIO_ERROR, SX_EIO_ERROR_GAVE_UP,
                       "gave up connecting to %s after %u attempt(s): %s",
                       c->cfg.url, c->attempts, reason);

    give_up (c, error);
    g_error_free (error);
    return;
  }
  shift = MIN (c->attempts - 1, 20);
  delay = (guint64)MAX (c->cfg.reconnect_delay_ms, 1) << shift;
  delay = MIN (delay, MAX (c->cfg.reconnect_max_delay_ms, 1));
  delay = (guint64)(delay * g_random_double_range (0.5, 1.0));
  clear_source (&c->retry_timer);
  c->retry_timer
      = sx_sio_connection_add_timeout (c, (guint)MAX (delay, 1), retry_cb);
}

void
sx_sio_connection_lost (SxSioConnection *c, const gchar *reason)
{
  GPtrArray *told = g_ptr_array_new ();
  guint i;

  if (c->stopping) {
    g_ptr_array_unref (told);
    return;
  }
  transport_reset (c);
  g_mutex_lock (&c->lock);
  c->connected = FALSE;
  c->transport_name = "none";
  g_clear_pointer (&c->sid, g_free);
  g_free (c->last_error);
  c->last_error = g_strdup (reason);
  for (i = 0; i < c->clients->len; i++) {
    SxSioClient *client = g_ptr_array_index (c->clients, i);

    drop_pending_locked (client);
    if (client->saw_join) {
      client->saw_join = FALSE;
      client->stats.disconnects++;
      g_ptr_array_add (told, client);
    }
  }
  callbacks_enter_locked (told);
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
  for (i = 0; i < told->len; i++) {
    SxSioClient *client = g_ptr_array_index (told, i);

    if (client->cb.disconnected)
      client->cb.disconnected (client->user_data, reason);
  }
  callbacks_leave (c, told);
  schedule_retry (c, reason);
}

/* Tells the clients not yet told (all, or just @only) that the namespace
 * is joined */
static void
tell_joined (SxSioConnection *c, SxSioClient *only)
{
  GPtrArray *told = g_ptr_array_new ();
  gchar *sid;
  const gchar *transport;
  guint i;

  g_mutex_lock (&c->lock);
  if (!c->connected) {
    g_mutex_unlock (&c->lock);
    g_ptr_array_unref (told);
    return;
  }
  for (i = 0; i < c->clients->len; i++) {
    SxSioClient *client = g_ptr_array_index (c->clients, i);

    if ((only && client != only) || client->saw_join)
      continue;
    client->saw_join = TRUE;
    client->stats.connects++;
    if (client->ever_joined)
      client->stats.reconnects++;
    client->ever_joined = TRUE;
    g_ptr_array_add (told, client);
  }
  callbacks_enter_locked (told);
  sid = g_strdup (c->sid);
  transport = c->transport_name;
  g_mutex_unlock (&c->lock);
  for (i = 0; i < told->len; i++) {
    SxSioClient *client = g_ptr_array_index (told, i);

    if (client->cb.connected)
      client->cb.connected (client->user_data, transport, sid);
  }
  g_free (sid);
  callbacks_leave (c, told);
}

static void
namespace_joined (SxSioConnection *c, const SxSioPacket *pkt)
{
  c->joined = TRUE;
  c->attempts = 0;
  g_mutex_lock (&c->lock);
  c->connected = TRUE;
  c->polling_now = c->polling;
  c->transport_name = c->polling ? "polling" : "websocket";
  g_free (c->sid);
  c->sid = g_strdup (sx_eio_json_get_string (pkt->data, "sid"));
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
  tell_joined (c, NULL);
  pump (c);
}

static void
namespace_rejected (SxSioConnection *c, const SxSioPacket *pkt)
{
  const gchar *msg = NULL;
  gchar *reason;

  if (pkt->data && JSON_NODE_HOLDS_OBJECT (pkt->data))
    msg = sx_eio_json_get_string (pkt->data, "message");
  else if (pkt->data && JSON_NODE_HOLDS_VALUE (pkt->data)
           && json_node_get_value_type (pkt->data) == G_TYPE_STRING)
    msg = json_node_get_string (pkt->data);
  reason = g_strdup_printf ("namespace %s rejected by the server: %s",
                            c->cfg.nsp, msg ? msg : "(no message)");

  if (c->cfg.retry_rejected) {
    sx_sio_connection_lost (c, reason);
  } else {
    GError *error
        = g_error_new_literal (SX_EIO_ERROR, SX_EIO_ERROR_REJECTED, reason);

    transport_reset (c);
    give_up (c, error);
    g_error_free (error);
  }
  g_free (reason);
}

static void
handle_ack (SxSioConnection *c, gint64 id)
{
  InFlight *entry;

  g_mutex_lock (&c->lock);
  entry = g_hash_table_lookup (c->in_flight, &id);
  if (!entry) {
    /* timed out already, its client gone, or not ours */
    g_mutex_unlock (&c->lock);
    return;
  }
  entry->client->stats.acked++;
  entry->client->stats.ack_rtt_ms
      = (g_get_monotonic_time () - entry->sent_us) / 1000.0;
  entry->client->in_flight--;
  g_hash_table_remove (c->in_flight, &id);
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
  pump (c);
}

static void
handle_sio (SxSioConnection *c, const gchar *text, gsize len)
{
  SxSioPacket pkt;
  GError *error = NULL;

  /* Events relayed to us (a dashboard that broadcasts every camera's frame
   * to the namespace) are not ours to read: skip them unparsed, a JSON
   * parse of ~70 KB each. */
  if (len > 0
      && (text[0] == '0' + SX_SIO_PACKET_EVENT
          || text[0] == '0' + SX_SIO_PACKET_BINARY_EVENT))
    return;
  if (!sx_sio_packet_parse (text, len, &pkt, &error)) {
    /* A packet we cannot read is not a reason to drop the cameras */
    gchar *msg = g_strdup_printf ("ignoring a malformed Socket.IO packet: %s",
                                  error->message);

    warn_clients (c, msg);
    g_free (msg);
    g_error_free (error);
    return;
  }
  if (strcmp (pkt.nsp, c->cfg.nsp) != 0) {
    sx_sio_packet_clear (&pkt);
    return;
  }
  switch (pkt.type) {
    case SX_SIO_PACKET_CONNECT:
      namespace_joined (c, &pkt);
      break;
    case SX_SIO_PACKET_CONNECT_ERROR:
      namespace_rejected (c, &pkt);
      break;
    case SX_SIO_PACKET_ACK:
      handle_ack (c, pkt.ack_id);
      break;
    case SX_SIO_PACKET_DISCONNECT:
      sx_sio_connection_lost (c, "the server closed the namespace");
      break;
    default:
      break;
  }
  sx_sio_packet_clear (&pkt);
}

static void
handle_open (SxSioConnection *c, const gchar *json, gsize len)
{
  GError *error = NULL;
  GString *connect;

  sx_eio_handshake_clear (&c->hs);
  if (!sx_eio_handshake_parse (json, len, &c->hs, &error)) {
    sx_sio_connection_lost (c, error->message);
    g_error_free (error);
    return;
  }
  c->opened = TRUE;
  arm_watchdog (c, c->hs.ping_interval_ms + c->hs.ping_timeout_ms);

  connect = g_string_new (NULL);
  g_string_append_c (connect, '0' + SX_EIO_PACKET_MESSAGE);
  sx_sio_packet_append_header (connect, SX_SIO_PACKET_CONNECT, 0, c->cfg.nsp,
                               -1);
  if (c->cfg.auth_json)
    g_string_append (connect, c->cfg.auth_json);
  send_text (c, connect->str);
  g_string_free (connect, TRUE);
}

gboolean
sx_sio_connection_receive (SxSioConnection *c, const gchar *text, gsize len)
{
  SxEioPacketType type;
  const gchar *data;
  gsize data_len;
  GError *error = NULL;
  guint generation = c->generation;

  if (!sx_eio_packet_parse (text, len, &type, &data, &data_len, &error)) {
    gchar *msg = g_strdup_printf ("ignoring a malformed Engine.IO packet: %s",
                                  error->message);

    warn_clients (c, msg);
    g_free (msg);
    g_error_free (error);
    return TRUE;
  }
  switch (type) {
    case SX_EIO_PACKET_OPEN:
      handle_open (c, data, data_len);
      break;
    case SX_EIO_PACKET_PING:
      /* Answer at once: the server drops clients that miss a pong */
      send_text (c, "3");
      if (c->opened)
        arm_watchdog (c, c->hs.ping_interval_ms + c->hs.ping_timeout_ms);
      break;
    case SX_EIO_PACKET_CLOSE:
      sx_sio_connection_lost (c, "the server closed the Engine.IO session");
      break;
    case SX_EIO_PACKET_MESSAGE:
      if (c->opened)
        handle_sio (c, data, data_len);
      break;
    default:
      break;
  }
  return generation == c->generation && !c->stopping;
}

/* ---------------------------------------------------------- the thread */

static void
connect_start (SxSioConnection *c)
{
  if (c->stopping || c->gave_up)
    return;
  transport_reset (c);
  /* Bounds the whole handshake, whatever stalls in it */
  arm_watchdog (c, HANDSHAKE_TIMEOUT_MS);
  if (c->cfg.transport == SX_SIO_TRANSPORT_POLLING)
    sx_sio_polling_open (c);
  else
    sx_sio_websocket_open (c);
}

static void
snapshot_locked (SxSioConnection *c, SxSioClient *client, SxSioStats *stats)
{
  *stats = client->stats;
  stats->in_flight = client->in_flight;
  stats->connected = c->connected && !c->gave_up;
  stats->transport = c->connected ? c->transport_name : "none";
  stats->last_error = g_strdup (c->last_error);
  stats->shared_by = c->clients->len;
}

static gboolean
tick_cb (gpointer data)
{
  SxSioConnection *c = data;
  gint64 now = g_get_monotonic_time ();
  GPtrArray *due = g_ptr_array_new ();
  GArray *snapshots = g_array_new (FALSE, TRUE, sizeof (SxSioStats));
  GHashTableIter iter;
  gpointer value;
  guint expired = 0, i;

  g_mutex_lock (&c->lock);
  /* An ack that never comes (lost, or a server handler that does not
   * return) must not close a window for good. */
  if (c->joined) {
    g_hash_table_iter_init (&iter, c->in_flight);
    while (g_hash_table_iter_next (&iter, NULL, &value)) {
      InFlight *entry = value;
      guint timeout_ms = entry->client->ack_timeout_ms;

      if (timeout_ms > 0 && now - entry->sent_us > (gint64)timeout_ms * 1000) {
        entry->client->stats.ack_timeouts++;
        entry->client->in_flight--;
        g_hash_table_iter_remove (&iter);
        expired++;
      }
    }
    if (expired)
      g_cond_broadcast (&c->cond);
  }
  for (i = 0; i < c->clients->len; i++) {
    SxSioClient *client = g_ptr_array_index (c->clients, i);
    SxSioStats stats;

    if (client->stats_interval_ms == 0 || !client->cb.stats
        || now - client->last_stats_us
               < (gint64)client->stats_interval_ms * 1000)
      continue;
    client->last_stats_us = now;
    snapshot_locked (c, client, &stats);
    g_array_append_val (snapshots, stats);
    g_ptr_array_add (due, client);
  }
  callbacks_enter_locked (due);
  g_mutex_unlock (&c->lock);

  for (i = 0; i < due->len; i++) {
    SxSioClient *client = g_ptr_array_index (due, i);
    SxSioStats *stats = &g_array_index (snapshots, SxSioStats, i);

    client->cb.stats (client->user_data, stats);
    sx_sio_stats_clear (stats);
  }
  callbacks_leave (c, due);
  g_array_unref (snapshots);
  if (expired)
    pump (c);
  return G_SOURCE_CONTINUE;
}

static gboolean
stop_timeout_cb (gpointer data)
{
  g_main_loop_quit (((SxSioConnection *)data)->loop);
  return G_SOURCE_REMOVE;
}

/* Runs on the connection's thread: says goodbye, then lets the loop end
 * once the goodbye is on the wire (or after a grace period). */
static gboolean
stop_cb (gpointer data)
{
  SxSioConnection *c = data;
  gboolean wait = FALSE;
  GSource *grace;

  clear_source (&c->retry_timer);
  clear_source (&c->watchdog);
  clear_source (&c->tick_timer);
  if (c->joined) {
    gchar *bye = sx_sio_packet_encode (SX_SIO_PACKET_DISCONNECT, 0, c->cfg.nsp,
                                       -1, NULL);
    gchar *msg = g_strconcat ("4", bye, NULL);

    send_text (c, msg);
    if (c->polling) {
      send_text (c, "1");
      wait = c->post_busy;
    }
    g_free (msg);
    g_free (bye);
  }
  c->stopping = TRUE;
  /* transport_reset would cancel our POST: close the socket only */
  sx_sio_websocket_close (c, SOUP_WEBSOCKET_CLOSE_NORMAL);
  if (c->closing_ws->len > 0)
    wait = TRUE;
  if (!wait) {
    g_main_loop_quit (c->loop);
  } else {
    grace = sx_sio_connection_add_timeout (c, STOP_GRACE_MS, stop_timeout_cb);
    g_source_unref (grace);
  }
  return G_SOURCE_REMOVE;
}

/* GIO's default proxy resolver (libproxy) answers each request on a thread
 * pool and throws C++ exceptions inside while doing so: measurable with a
 * polling client, which makes ~10 requests a second per camera. Without
 * proxy variables in the environment the answer is "direct" anyway. */
static gboolean
proxy_in_environment (void)
{
  static const gchar *const vars[]
      = { "http_proxy",  "HTTP_PROXY", "https_proxy",
          "HTTPS_PROXY", "all_proxy",  "ALL_PROXY" };

  for (guint i = 0; i < G_N_ELEMENTS (vars); i++) {
    const gchar *v = g_getenv (vars[i]);
    if (v && *v)
      return TRUE;
  }
  return FALSE;
}

static gpointer
connection_thread (gpointer data)
{
  SxSioConnection *c = data;
  gint64 deadline;

  g_main_context_push_thread_default (c->ctx);
  c->session = soup_session_new_with_options ("max-conns-per-host", 4,
                                              "timeout", 60, NULL);
  if (!proxy_in_environment ())
    soup_session_set_proxy_resolver (c->session, NULL);
  /* certificates are always checked (libsoup's default); tls-ca-file
   * replaces the system's CAs, e.g. by a school's own */
  if (c->tls_database)
    soup_session_set_tls_database (c->session, c->tls_database);
  c->cancel = g_cancellable_new ();
  c->tick_timer = sx_sio_connection_add_timeout (c, TICK_MS, tick_cb);
  connect_start (c);

  g_main_loop_run (c->loop);

  /* Cancel whatever is left and let the callbacks run, so no operation
   * outlives the session and no source outlives the context. */
  c->stopping = TRUE;
  clear_source (&c->retry_timer);
  clear_source (&c->watchdog);
  clear_source (&c->tick_timer);
  g_cancellable_cancel (c->cancel);
  soup_session_abort (c->session);
  sx_sio_websocket_forget_closing (c);
  deadline = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  while (c->ops > 0 && g_get_monotonic_time () < deadline) {
    if (!g_main_context_iteration (c->ctx, FALSE))
      g_usleep (1000);
  }
  if (c->ops > 0)
    g_warning ("socketio: %d operation(s) did not finish at shutdown", c->ops);
  g_clear_object (&c->session);
  /* Drain idle sources (wake_cb, announce_cb) so none refers to a freed
   * connection */
  while (g_main_context_iteration (c->ctx, FALSE))
    ;
  g_main_context_pop_thread_default (c->ctx);
  return NULL;
}

/* ------------------------------------------------------------ public API */

SxSioClient *
sx_sio_client_new (const SxSioConfig *config, const SxSioCallbacks *callbacks,
                   gpointer user_data, GError **error)
{
  SxSioConfig cfg;
  SxSioClient *client;
  SxSioConnection *c;
  gchar *ca_path = NULL;

  g_return_val_if_fail (config && config->url, NULL);

  if (!config->nsp || config->nsp[0] != '/' || strchr (config->nsp, ',')
      || !g_utf8_validate (config->nsp, -1, NULL)) {
    g_set_error (error, SX_EIO_ERROR, SX_EIO_ERROR_URL,
                 "namespace '%s' must start with '/' and contain no ','",
                 config->nsp ? config->nsp : "(null)");
    return NULL;
  }
  if (config->auth_json && *config->auth_json) {
    JsonNode *auth = sx_eio_json_parse (config->auth_json,
                                        strlen (config->auth_json), NULL);
    gboolean is_object = auth && JSON_NODE_HOLDS_OBJECT (auth);

    if (auth)
      json_node_unref (auth);
    if (!is_object) {
      g_set_error (error, SX_EIO_ERROR, SX_EIO_ERROR_URL,
                   "auth '%s' is not a JSON object", config->auth_json);
      return NULL;
    }
  }

  /* The connection's settings as they key the registry: defaults filled
   * in, the CA file by its absolute path (GLib's file database wants one) */
  cfg = *config;
  if (cfg.max_incoming_payload == 0)
    cfg.max_incoming_payload = SX_SIO_DEFAULT_MAX_INCOMING_PAYLOAD;
  if (cfg.auth_json && !*cfg.auth_json)
    cfg.auth_json = NULL;
  if (cfg.tls_ca_file && *cfg.tls_ca_file)
    cfg.tls_ca_file = ca_path = g_canonicalize_filename (cfg.tls_ca_file, NULL);
  else
    cfg.tls_ca_file = NULL;
  c = registry_acquire (&cfg, error);
  g_free (ca_path);
  if (!c)
    return NULL;

  client = g_new0 (SxSioClient, 1);
  client->refcount = 1;
  client->conn = c;
  client->event = g_strdup (config->event ? config->event : "message");
  client->max_in_flight = config->max_in_flight;
  client->ack_timeout_ms = config->ack_timeout_ms;
  client->stats_interval_ms = config->stats_interval_ms;
  if (callbacks)
    client->cb = *callbacks;
  client->user_data = user_data;
  g_queue_init (&client->pending);
  client->stats.transport = "none";
  return client;
}

/* A client joining a connection that already joined the namespace (or
 * already gave up) hears of it like the others did */
static gboolean
announce_cb (gpointer data)
{
  SxSioClient *client = data;
  SxSioConnection *c = client->conn;
  gboolean gave_up;

  g_mutex_lock (&c->lock);
  gave_up = c->gave_up;
  g_mutex_unlock (&c->lock);
  if (gave_up)
    tell_fatal (c, client);
  else
    tell_joined (c, client);
  return G_SOURCE_REMOVE;
}

void
sx_sio_client_start (SxSioClient *client)
{
  SxSioConnection *c = client->conn;
  gboolean announce;

  g_return_if_fail (!client->started);
  g_mutex_lock (&c->lock);
  client->started = TRUE;
  client->last_stats_us = g_get_monotonic_time ();
  g_ptr_array_add (c->clients, client);
  announce = c->connected || c->gave_up;
  if (!c->thread)
    c->thread = g_thread_new ("socketio", connection_thread, c);
  g_mutex_unlock (&c->lock);

  if (announce) {
    GSource *s = g_idle_source_new ();

    g_source_set_callback (s, announce_cb, client_ref (client),
                           (GDestroyNotify)client_unref);
    g_source_attach (s, c->ctx);
    g_source_unref (s);
  }
}

gboolean
sx_sio_client_wait_connected (SxSioClient *client, guint timeout_ms,
                              GError **error)
{
  SxSioConnection *c = client->conn;
  gint64 end = g_get_monotonic_time () + (gint64)timeout_ms * 1000;
  gboolean joined;

  g_mutex_lock (&c->lock);
  while (!c->connected && !c->gave_up)
    if (!g_cond_wait_until (&c->cond, &c->lock, end))
      break;
  joined = c->connected;
  if (c->gave_up && c->fatal_error)
    g_propagate_error (error, g_error_copy (c->fatal_error));
  g_mutex_unlock (&c->lock);
  return joined;
}

gboolean
sx_sio_client_drain (SxSioClient *client, guint timeout_ms)
{
  SxSioConnection *c = client->conn;
  gint64 end = g_get_monotonic_time () + (gint64)timeout_ms * 1000;
  gboolean drained;

  g_mutex_lock (&c->lock);
  while (c->connected && !c->gave_up
         && (!g_queue_is_empty (&client->pending) || client->sending > 0
             || client->in_flight > 0))
    if (!g_cond_wait_until (&c->cond, &c->lock, end))
      break;
  drained = g_queue_is_empty (&client->pending) && client->sending == 0
            && client->in_flight == 0;
  g_mutex_unlock (&c->lock);
  return drained;
}

void
sx_sio_client_get_stats (SxSioClient *client, SxSioStats *stats)
{
  SxSioConnection *c = client->conn;

  g_mutex_lock (&c->lock);
  snapshot_locked (c, client, stats);
  g_mutex_unlock (&c->lock);
}

void
sx_sio_client_free (SxSioClient *client)
{
  SxSioConnection *c;
  GHashTableIter iter;
  gpointer value;

  if (!client)
    return;
  c = client->conn;
  g_mutex_lock (&c->lock);
  client->removed = TRUE;
  if (client->started)
    g_ptr_array_remove (c->clients, client);
  drop_pending_locked (client);
  /* Its acks will find nothing to update */
  g_hash_table_iter_init (&iter, c->in_flight);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((InFlight *)value)->client == client)
      g_hash_table_iter_remove (&iter);
  client->in_flight = 0;
  while (client->callbacks_running > 0)
    g_cond_wait (&c->cond, &c->lock);
  g_mutex_unlock (&c->lock);

  registry_release (c);
  client_unref (client);
}
