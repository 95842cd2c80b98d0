/* surveillx-gst — a small Engine.IO v4 / Socket.IO v5 client on libsoup 3.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * See engineio.h for the split between the pure codec and the client.
 * Protocol facts this follows (checked against python-engineio 4.3 and
 * python-socketio 5.7, the versions behind Flask-SocketIO in Debian 12):
 *  - the server pings, the client answers at once; a client that misses
 *    pongs is dropped while its socket may stay open, hence the watchdog;
 *  - a message above max_http_buffer_size (one WebSocket message, or one
 *    whole polling POST body) drops the connection, hence the size cap;
 *  - a polling POST may carry at most 16 packets (max_decode_packets).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "engineio.h"

#include "sxjson.h"

#include <libsoup/soup.h>
#include <string.h>

GQuark
sx_eio_error_quark (void)
{
  return g_quark_from_static_string ("sx-eio-error-quark");
}

/* ================================================================= codec */

gboolean
sx_eio_packet_parse (const gchar *text, gsize len, SxEioPacketType *type,
                     const gchar **data, gsize *data_len, GError **error)
{
  if (len < 1 || text[0] < '0' || text[0] > '6') {
    g_set_error (error, SX_EIO_ERROR, SX_EIO_ERROR_MALFORMED,
                 "not an Engine.IO packet (type byte 0x%02x)",
                 len ? (guint8)text[0] : 0);
    return FALSE;
  }
  *type = (SxEioPacketType)(text[0] - '0');
  *data = text + 1;
  *data_len = len - 1;
  return TRUE;
}

static JsonNode *
parse_json (const gchar *text, gsize len, GError **error)
{
  JsonParser *parser;
  JsonNode *root = NULL;

  /* json-glib takes a gssize; refuse what would not fit rather than wrap */
  if (len > G_MAXSSIZE) {
    g_set_error (error, SX_EIO_ERROR, SX_EIO_ERROR_MALFORMED, "JSON too long");
    return NULL;
  }
  /* a hostile server's [[[[... would overflow json-glib's recursion, and
   * a comment could hide them from the count */
  GError *guard_error = NULL;
  if (!sx_json_check (text, len, SX_JSON_MAX_DEPTH, &guard_error)) {
    g_set_error (error, SX_EIO_ERROR, SX_EIO_ERROR_MALFORMED, "JSON %s",
                 guard_error->message);
    g_error_free (guard_error);
    return NULL;
  }
  parser = json_parser_new_immutable ();
  if (json_parser_load_from_data (parser, text, (gssize)len, error)) {
    root = json_parser_get_root (parser);
    if (root)
      root = json_node_ref (root);
    else
      g_set_error (error, SX_EIO_ERROR, SX_EIO_ERROR_MALFORMED, "empty JSON");
  } else if (error && *error) {
    /* Callers match on our domain only */
    GError *inner = *error;
    *error = g_error_new (SX_EIO_ERROR, SX_EIO_ERROR_MALFORMED,
                          "invalid JSON: %s", inner->message);
    g_error_free (inner);
  }
  g_object_unref (parser);
  return root;
}

/* json-glib complains loudly about type mismatches; servers may send any */
static const gchar *
get_string_member (JsonNode *node, const gchar *name)
{
  JsonNode *member;

  if (!node || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  member = json_object_get_member (json_node_get_object (node), name);
  if (!member || !JSON_NODE_HOLDS_VALUE (member)
      || json_node_get_value_type (member) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (member);
}

static gboolean
get_positive_int_member (JsonObject *obj, const gchar *name, gint64 *out)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (!node || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    *out = json_node_get_int (node);
  else if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    *out = (gint64)CLAMP (json_node_get_double (node), 0.0, 1e18);
  else
    return FALSE;
  return *out > 0;
}

gboolean
sx_eio_handshake_parse (const gchar *json, gsize len, SxEioHandshake *out,
                        GError **error)
{
  JsonNode *root;
  JsonObject *obj;
  JsonNode *sid, *upgrades;
  gboolean ok = FALSE;

  memset (out, 0, sizeof (*out));
  root = parse_json (json, len, error);
  if (!root)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, SX_EIO_ERROR, SX_EIO_ERROR_MALFORMED,
                 "Engine.IO open packet is not a JSON object");
    goto out;
  }
  obj = json_node_get_object (root);
  sid = json_object_get_member (obj, "sid");
  if (!sid || !JSON_NODE_HOLDS_VALUE (sid)
      || json_node_get_value_type (sid) != G_TYPE_STRING
      || !*json_node_get_string (sid)) {
    g_set_error (error, SX_EIO_ERROR, SX_EIO_ERROR_MALFORMED,
                 "Engine.IO open packet has no sid");
    goto out;
  }
  if (!get_positive_int_member (obj, "pingInterval", &out->ping_interval_ms)
      || !get_positive_int_member (obj, "pingTimeout", &out->ping_timeout_ms)) {
    g_set_error (
        error, SX_EIO_ERROR, SX_EIO_ERROR_MALFORMED,
        "Engine.IO open packet lacks a valid pingInterval/pingTimeout");
    goto out;
  }
  /* Keep the watchdog arithmetic far from overflow: a day is plenty */
  out->ping_interval_ms = MIN (out->ping_interval_ms, 86400000);
  out->ping_timeout_ms = MIN (out->ping_timeout_ms, 86400000);
  if (!get_positive_int_member (obj, "maxPayload", &out->max_payload))
    out->max_payload = 0;
  upgrades = json_object_get_member (obj, "upgrades");
  if (upgrades && JSON_NODE_HOLDS_ARRAY (upgrades)) {
    JsonArray *arr = json_node_get_array (upgrades);
    guint i;

    for (i = 0; i < json_array_get_length (arr); i++) {
      JsonNode *n = json_array_get_element (arr, i);
      if (JSON_NODE_HOLDS_VALUE (n)
          && json_node_get_value_type (n) == G_TYPE_STRING
          && g_strcmp0 (json_node_get_string (n), "websocket") == 0)
        out->websocket_upgrade = TRUE;
    }
  }
  out->sid = g_strdup (json_node_get_string (sid));
  ok = TRUE;
out:
  json_node_unref (root);
  return ok;
}

void
sx_eio_handshake_clear (SxEioHandshake *hs)
{
  g_clear_pointer (&hs->sid, g_free);
  memset (hs, 0, sizeof (*hs));
}

static gboolean
is_base64_char (gchar c)
{
  return g_ascii_isalnum (c) || c == '+' || c == '/' || c == '=';
}

GPtrArray *
sx_eio_payload_split (const gchar *payload, gsize len, GArray **is_binary,
                      GError **error)
{
  GPtrArray *packets
      = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  GArray *binary = g_array_new (FALSE, FALSE, sizeof (gboolean));
  gsize start = 0;

  if (len == 0)
    goto done;

  while (start <= len) {
    const gchar *seg = payload + start;
    const gchar *sep = memchr (seg, SX_EIO_RECORD_SEPARATOR, len - start);
    gsize seg_len = sep ? (gsize)(sep - seg) : len - start;
    gboolean is_bin = FALSE;
    GBytes *bytes;

    if (seg_len == 0) {
      g_set_error (error, SX_EIO_ERROR, SX_EIO_ERROR_MALFORMED,
                   "empty packet in polling payload");
      goto fail;
    }
    if (seg[0] == 'b') {
      gchar *b64;
      guchar *raw;
      gsize raw_len, i;

      for (i = 1; i < seg_len; i++) {
        if (!is_base64_char (seg[i])) {
          g_set_error (error, SX_EIO_ERROR, SX_EIO_ERROR_MALFORMED,
                       "invalid base64 in binary polling packet");
          goto fail;
        }
      }
      b64 = g_strndup (seg + 1, seg_len - 1);
      raw = g_base64_decode (b64, &raw_len);
      g_free (b64);
      bytes = g_bytes_new_take (raw, raw_len);
      is_bin = TRUE;
    } else {
      bytes = g_bytes_new (seg, seg_len);
    }
    g_ptr_array_add (packets, bytes);
    g_array_append_val (binary, is_bin);
    if (!sep)
      break;
    start += seg_len + 1;
    if (start == len) {
      g_set_error (error, SX_EIO_ERROR, SX_EIO_ERROR_MALFORMED,
                   "polling payload ends with a separator");
      goto fail;
    }
  }

done:
  if (is_binary)
    *is_binary = binary;
  else
    g_array_unref (binary);
  return packets;

fail:
  g_ptr_array_unref (packets);
  g_array_unref (binary);
  return NULL;
}

void
sx_eio_payload_append (GString *payload, const guint8 *packet, gsize len,
                       gboolean binary)
{
  if (payload->len > 0)
    g_string_append_c (payload, SX_EIO_RECORD_SEPARATOR);
  if (binary) {
    gsize old = payload->len;
    gint state = 0, save = 0;
    gsize written;

    g_string_append_c (payload, 'b');
    old = payload->len;
    /* Encode in place: the documented worst case of the step functions */
    g_string_set_size (payload, old + (len / 3 + 1) * 4 + 4);
    written = g_base64_encode_step (packet, len, FALSE, payload->str + old,
                                    &state, &save);
    written += g_base64_encode_close (FALSE, payload->str + old + written,
                                      &state, &save);
    g_string_set_size (payload, old + written);
  } else {
    g_string_append_len (payload, (const gchar *)packet, len);
  }
}

/* Reads up to 18 decimal digits: enough for any id, never an overflow */
static gboolean
read_number (const gchar **p, const gchar *end, gint64 *out)
{
  const gchar *s = *p;
  gint64 v = 0;
  gint digits = 0;

  while (s < end && g_ascii_isdigit (*s)) {
    if (++digits > 18)
      return FALSE;
    v = v * 10 + (*s - '0');
    s++;
  }
  if (digits == 0)
    return FALSE;
  *p = s;
  *out = v;
  return TRUE;
}

gboolean
sx_sio_packet_parse (const gchar *text, gsize len, SxSioPacket *out,
                     GError **error)
{
  const gchar *p = text, *end = text + len;
  gint64 n;

  memset (out, 0, sizeof (*out));
  out->ack_id = -1;

  if (len < 1 || text[0] < '0' || text[0] > '6') {
    g_set_error (error, SX_EIO_ERROR, SX_EIO_ERROR_MALFORMED,
                 "not a Socket.IO packet");
    return FALSE;
  }
  out->type = (SxSioPacketType)(*p++ - '0');

  if (out->type == SX_SIO_PACKET_BINARY_EVENT
      || out->type == SX_SIO_PACKET_BINARY_ACK) {
    if (!read_number (&p, end, &n) || p >= end || *p != '-' || n > 1000) {
      g_set_error (error, SX_EIO_ERROR, SX_EIO_ERROR_MALFORMED,
                   "binary Socket.IO packet without a valid attachment count");
      goto fail;
    }
    out->attachments = (guint)n;
    p++;
  }

  if (p < end && *p == '/') {
    const gchar *comma = memchr (p, ',', end - p);
    const gchar *nsp_end = comma ? comma : end;

    if (!g_utf8_validate (p, nsp_end - p, NULL)) {
      g_set_error (error, SX_EIO_ERROR, SX_EIO_ERROR_MALFORMED,
                   "namespace is not UTF-8");
      goto fail;
    }
    out->nsp = g_strndup (p, nsp_end - p);
    p = comma ? comma + 1 : end;
  } else {
    out->nsp = g_strdup ("/");
  }

  if (p < end && g_ascii_isdigit (*p)) {
    if (!read_number (&p, end, &out->ack_id)) {
      g_set_error (error, SX_EIO_ERROR, SX_EIO_ERROR_MALFORMED,
                   "ack id too long");
      goto fail;
    }
  }

  if (p < end) {
    out->data = parse_json (p, end - p, error);
    if (!out->data)
      goto fail;
  }

  switch (out->type) {
    case SX_SIO_PACKET_EVENT:
    case SX_SIO_PACKET_BINARY_EVENT:
      /* An event is ["name", args...] */
      if (!out->data || !JSON_NODE_HOLDS_ARRAY (out->data)
          || json_array_get_length (json_node_get_array (out->data)) < 1
          || json_node_get_value_type (
                 json_array_get_element (json_node_get_array (out->data), 0))
                 != G_TYPE_STRING) {
        g_set_error (error, SX_EIO_ERROR, SX_EIO_ERROR_MALFORMED,
                     "event packet without [name, ...] data");
        goto fail;
      }
      break;
    case SX_SIO_PACKET_ACK:
    case SX_SIO_PACKET_BINARY_ACK:
      if (out->ack_id < 0 || !out->data || !JSON_NODE_HOLDS_ARRAY (out->data)) {
        g_set_error (error, SX_EIO_ERROR, SX_EIO_ERROR_MALFORMED,
                     "ack packet without id or array data");
        goto fail;
      }
      break;
    default:
      break;
  }
  return TRUE;

fail:
  sx_sio_packet_clear (out);
  return FALSE;
}

void
sx_sio_packet_clear (SxSioPacket *packet)
{
  g_clear_pointer (&packet->nsp, g_free);
  g_clear_pointer (&packet->data, json_node_unref);
  packet->ack_id = -1;
  packet->attachments = 0;
}

void
sx_sio_packet_append_header (GString *out, SxSioPacketType type,
                             guint attachments, const gchar *nsp, gint64 ack_id)
{
  g_string_append_c (out, (gchar)('0' + type));
  if (type == SX_SIO_PACKET_BINARY_EVENT || type == SX_SIO_PACKET_BINARY_ACK)
    g_string_append_printf (out, "%u-", attachments);
  if (nsp && strcmp (nsp, "/") != 0) {
    g_string_append (out, nsp);
    g_string_append_c (out, ',');
  }
  if (ack_id >= 0)
    g_string_append_printf (out, "%" G_GINT64_FORMAT, ack_id);
}

gchar *
sx_sio_packet_encode (SxSioPacketType type, guint attachments, const gchar *nsp,
                      gint64 ack_id, const gchar *json_data)
{
  GString *s = g_string_new (NULL);

  sx_sio_packet_append_header (s, type, attachments, nsp, ack_id);
  if (json_data)
    g_string_append (s, json_data);
  return g_string_free (s, FALSE);
}

void
sx_json_append_string (GString *out, const gchar *s)
{
  g_string_append_c (out, '"');
  for (; *s; s++) {
    guchar c = (guchar)*s;
    switch (c) {
      case '"':
        g_string_append (out, "\\\"");
        break;
      case '\\':
        g_string_append (out, "\\\\");
        break;
      case '\n':
        g_string_append (out, "\\n");
        break;
      case '\r':
        g_string_append (out, "\\r");
        break;
      case '\t':
        g_string_append (out, "\\t");
        break;
      default:
        if (c < 0x20)
          g_string_append_printf (out, "\\u%04x", c);
        else
          g_string_append_c (out, (gchar)c);
    }
  }
  g_string_append_c (out, '"');
}

/* ================================================================ client */

/* Frames wait here until the ack window has room. One waiting frame is
 * enough to keep the window busy; older waiting frames are stale and get
 * replaced, which bounds latency to max-in-flight + 1 frames. Without a
 * window (max-in-flight 0) a few may queue while the thread wakes. */
#define PENDING_LIMIT_WINDOW 1
#define PENDING_LIMIT_NO_WINDOW 16
/* python-engineio refuses a polling POST of more packets than this */
#define POLLING_MAX_PACKETS 16
#define HANDSHAKE_TIMEOUT_MS 10000
#define STOP_GRACE_MS 1000
#define TICK_MS 100

typedef struct {
  GBytes *text;       /* the whole Engine.IO message: "42/nsp,id[...]" */
  GBytes *attachment; /* NULL or the binary attachment */
  gint64 ack_id;      /* -1 without acks */
} OutFrame;

typedef struct {
  GBytes *data;
  gboolean binary;
} PollItem;

/* One asynchronous libsoup operation: callbacks check `cancel` to know
 * whether the connection they belong to is still the current one. */
typedef struct {
  SxSioClient *client;
  GCancellable *cancel;
  SoupMessage *msg;
} Op;

struct _SxSioClient {
  SxSioConfig cfg;
  GTlsDatabase *tls_database; /* from cfg.tls_ca_file, or NULL */
  SxSioCallbacks cb;
  gpointer user_data;
  gchar *http_base; /* http(s)://host:port/path?[user query&] */
  gchar *ws_base;

  GMainContext *ctx;
  GMainLoop *loop;
  GThread *thread;

  GMutex lock;
  GCond cond;
  /* Under lock: shared with the emitting (streaming) thread */
  GQueue pending;
  gboolean wake_scheduled;
  gboolean connected;
  gboolean polling_now; /* transport of the current connection */
  gboolean gave_up;
  GError *fatal_error;
  gint64 next_ack_id;
  SxSioStats stats;

  /* Client thread only */
  SoupSession *session;
  GCancellable *cancel;
  guint generation; /* bumped by every transport reset */
  SoupWebsocketConnection *ws;
  GPtrArray *closing_ws;
  gboolean polling;
  gboolean opened;
  gboolean joined;
  gboolean ever_joined;
  gboolean stopping;
  SxEioHandshake hs;
  GHashTable *in_flight; /* ack id -> send time (gint64 us, boxed) */
  GQueue poll_out;       /* PollItem */
  gboolean post_busy;
  gboolean get_busy;
  guint attempts;
  gint ops;
  GSource *watchdog;
  GSource *retry_timer;
  GSource *tick_timer;
  gint64 last_stats_us;
};

static void connect_start (SxSioClient *c);
static void connection_lost (SxSioClient *c, const gchar *reason);
static void pump (SxSioClient *c);
static void post_flush (SxSioClient *c);
static void polling_get (SxSioClient *c);

static void
out_frame_free (OutFrame *f)
{
  g_bytes_unref (f->text);
  if (f->attachment)
    g_bytes_unref (f->attachment);
  g_free (f);
}

static void
poll_item_free (PollItem *item)
{
  g_bytes_unref (item->data);
  g_free (item);
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

/* Splits the user's URL into the two bases the transports need. The path
 * defaults to /socket.io/ as in every Socket.IO client; a user query is
 * kept so deployments can pass tokens in it. */
static gboolean
build_bases (SxSioClient *c, GError **error)
{
  GUri *uri;
  const gchar *scheme, *path, *query;
  const gchar *http_scheme, *ws_scheme;
  gchar *full_query, *http, *ws;

  uri = g_uri_parse (c->cfg.url, G_URI_FLAGS_ENCODED, NULL);
  if (!uri) {
    g_set_error (error, SX_EIO_ERROR, SX_EIO_ERROR_URL,
                 "'%s' is not a valid URL", c->cfg.url);
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
                 "URL '%s': scheme '%s' is not http, https, ws or wss",
                 c->cfg.url, scheme);
    g_uri_unref (uri);
    return FALSE;
  }
  if (!g_uri_get_host (uri) || !*g_uri_get_host (uri)) {
    g_set_error (error, SX_EIO_ERROR, SX_EIO_ERROR_URL, "URL '%s' has no host",
                 c->cfg.url);
    g_uri_unref (uri);
    return FALSE;
  }
  path = g_uri_get_path (uri);
  if (!path || !*path || !strcmp (path, "/"))
    path = "/socket.io/";
  query = g_uri_get_query (uri);
  full_query = g_strdup_printf ("%s%sEIO=4", query ? query : "",
                                query && *query ? "&" : "");
  http = g_uri_join (G_URI_FLAGS_ENCODED, http_scheme, NULL,
                     g_uri_get_host (uri), g_uri_get_port (uri), path,
                     full_query, NULL);
  ws = g_uri_join (G_URI_FLAGS_ENCODED, ws_scheme, NULL, g_uri_get_host (uri),
                   g_uri_get_port (uri), path, full_query, NULL);
  c->http_base = http;
  c->ws_base = ws;
  g_free (full_query);
  g_uri_unref (uri);
  return TRUE;
}

SxSioClient *
sx_sio_client_new (const SxSioConfig *config, const SxSioCallbacks *callbacks,
                   gpointer user_data, GError **error)
{
  SxSioClient *c;

  g_return_val_if_fail (config && config->url, NULL);

  if (!config->nsp || config->nsp[0] != '/' || strchr (config->nsp, ',')
      || !g_utf8_validate (config->nsp, -1, NULL)) {
    g_set_error (error, SX_EIO_ERROR, SX_EIO_ERROR_URL,
                 "namespace '%s' must start with '/' and contain no ','",
                 config->nsp ? config->nsp : "(null)");
    return NULL;
  }
  if (config->auth_json && *config->auth_json) {
    JsonNode *auth
        = parse_json (config->auth_json, strlen (config->auth_json), NULL);
    gboolean is_object = auth && JSON_NODE_HOLDS_OBJECT (auth);

    if (auth)
      json_node_unref (auth);
    if (!is_object) {
      g_set_error (error, SX_EIO_ERROR, SX_EIO_ERROR_URL,
                   "auth '%s' is not a JSON object", config->auth_json);
      return NULL;
    }
  }

  c = g_new0 (SxSioClient, 1);
  c->cfg = *config;
  c->cfg.url = g_strdup (config->url);
  if (c->cfg.max_incoming_payload == 0)
    c->cfg.max_incoming_payload = SX_SIO_DEFAULT_MAX_INCOMING_PAYLOAD;
  c->cfg.nsp = g_strdup (config->nsp);
  c->cfg.event = g_strdup (config->event ? config->event : "message");
  c->cfg.auth_json = config->auth_json && *config->auth_json
                         ? g_strdup (config->auth_json)
                         : NULL;
  c->cfg.tls_ca_file = config->tls_ca_file && *config->tls_ca_file
                           ? g_strdup (config->tls_ca_file)
                           : NULL;
  c->cfg.header_names = g_strdupv (config->header_names);
  c->cfg.header_values = g_strdupv (config->header_values);
  if (callbacks)
    c->cb = *callbacks;
  c->user_data = user_data;

  if (!build_bases (c, error)) {
    sx_sio_config_clear (&c->cfg);
    g_free (c);
    return NULL;
  }
  if (c->cfg.tls_ca_file) {
    GError *tls_error = NULL;
    /* GLib's file database wants an absolute path */
    gchar *ca_path = g_canonicalize_filename (c->cfg.tls_ca_file, NULL);
    c->tls_database = g_tls_file_database_new (ca_path, &tls_error);
    g_free (ca_path);
    if (c->tls_database == NULL) {
      g_set_error (error, SX_EIO_ERROR, SX_EIO_ERROR_URL,
                   "tls-ca-file '%s': %s", c->cfg.tls_ca_file,
                   tls_error->message);
      g_error_free (tls_error);
      sx_sio_config_clear (&c->cfg);
      g_free (c);
      return NULL;
    }
  }

  g_mutex_init (&c->lock);
  g_cond_init (&c->cond);
  g_queue_init (&c->pending);
  g_queue_init (&c->poll_out);
  c->stats.transport = "none";
  c->next_ack_id = 1;
  c->in_flight
      = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  c->closing_ws = g_ptr_array_new ();
  c->ctx = g_main_context_new ();
  c->loop = g_main_loop_new (c->ctx, FALSE);
  return c;
}

/* ------------------------------------------------------- small utilities */

static GSource *
add_timeout (SxSioClient *c, guint ms, GSourceFunc func)
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

static void
set_last_error (SxSioClient *c, const gchar *msg)
{
  g_mutex_lock (&c->lock);
  g_free (c->stats.last_error);
  c->stats.last_error = g_strdup (msg);
  g_mutex_unlock (&c->lock);
}

static Op *
op_new (SxSioClient *c, SoupMessage *msg)
{
  Op *op = g_new0 (Op, 1);

  op->client = c;
  op->cancel = g_object_ref (c->cancel);
  op->msg = msg ? g_object_ref (msg) : NULL;
  c->ops++;
  return op;
}

/* Returns TRUE when the operation still belongs to the live connection */
static gboolean
op_finish (Op *op)
{
  gboolean live = !g_cancellable_is_cancelled (op->cancel);

  op->client->ops--;
  return live;
}

static void
op_free (Op *op)
{
  g_object_unref (op->cancel);
  g_clear_object (&op->msg);
  g_free (op);
}

/* soup_session_send_and_read_async() keeps whatever the server sends, so a
 * hostile or broken server could fill memory with one long-polling
 * response. This reads at most cfg.max_incoming_payload bytes (the cap a
 * WebSocket message has) and fails past it; the connection is then lost
 * and retried like any other failure. */
typedef struct {
  GInputStream *stream;
  GByteArray *body;
  guint64 max;
} BoundedRead;

static void
bounded_read_free (gpointer data)
{
  BoundedRead *r = data;

  g_clear_object (&r->stream);
  if (r->body)
    g_byte_array_unref (r->body);
  g_free (r);
}

static void bounded_read_next (GTask *task);

static void
bounded_read_chunk_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  GTask *task = data;
  BoundedRead *r = g_task_get_task_data (task);
  GError *error = NULL;
  GBytes *chunk
      = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), res, &error);
  gsize n;

  if (!chunk) {
    g_task_return_error (task, error);
    g_object_unref (task);
    return;
  }
  n = g_bytes_get_size (chunk);
  if (n == 0) {
    g_bytes_unref (chunk);
    g_task_return_pointer (task, g_byte_array_free_to_bytes (r->body),
                           (GDestroyNotify)g_bytes_unref);
    r->body = NULL;
    g_object_unref (task);
    return;
  }
  if ((guint64)r->body->len + n > r->max) {
    g_bytes_unref (chunk);
    g_task_return_new_error (task, SX_EIO_ERROR, SX_EIO_ERROR_MALFORMED,
                             "response longer than %" G_GUINT64_FORMAT
                             " bytes (max-incoming-size)",
                             r->max);
    g_object_unref (task);
    return;
  }
  g_byte_array_append (r->body, g_bytes_get_data (chunk, NULL), n);
  g_bytes_unref (chunk);
  bounded_read_next (task);
}

static void
bounded_read_next (GTask *task)
{
  BoundedRead *r = g_task_get_task_data (task);

  g_input_stream_read_bytes_async (r->stream, 64 * 1024, G_PRIORITY_DEFAULT,
                                   g_task_get_cancellable (task),
                                   bounded_read_chunk_cb, task);
}

static void
bounded_read_sent_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  GTask *task = data;
  BoundedRead *r = g_task_get_task_data (task);
  GError *error = NULL;

  r->stream = soup_session_send_finish (SOUP_SESSION (source), res, &error);
  if (!r->stream) {
    g_task_return_error (task, error);
    g_object_unref (task);
    return;
  }
  bounded_read_next (task);
}

static void
send_and_read_bounded_async (SxSioClient *c, SoupMessage *msg,
                             GAsyncReadyCallback callback, gpointer data)
{
  GTask *task = g_task_new (c->session, c->cancel, callback, data);
  BoundedRead *r = g_new0 (BoundedRead, 1);

  r->body = g_byte_array_new ();
  r->max = c->cfg.max_incoming_payload;
  g_task_set_task_data (task, r, bounded_read_free);
  soup_session_send_async (c->session, msg, G_PRIORITY_DEFAULT, c->cancel,
                           bounded_read_sent_cb, task);
}

static GBytes *
send_and_read_bounded_finish (GAsyncResult *res, GError **error)
{
  return g_task_propagate_pointer (G_TASK (res), error);
}

static SoupMessage *
new_message (SxSioClient *c, const gchar *method, const gchar *url)
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

static gchar *
polling_url (SxSioClient *c)
{
  /* t= defeats caches between us and the server, as browsers' clients do */
  return g_strdup_printf ("%s&transport=polling&t=%" G_GINT64_FORMAT "%s%s",
                          c->http_base, g_get_real_time (),
                          c->hs.sid ? "&sid=" : "", c->hs.sid ? c->hs.sid : "");
}

/* --------------------------------------------------------------- sending */

static void
send_text (SxSioClient *c, const gchar *text)
{
  if (c->polling) {
    PollItem *item = g_new0 (PollItem, 1);

    item->data = g_bytes_new (text, strlen (text));
    g_queue_push_tail (&c->poll_out, item);
    post_flush (c);
  } else if (c->ws
             && soup_websocket_connection_get_state (c->ws)
                    == SOUP_WEBSOCKET_STATE_OPEN) {
    soup_websocket_connection_send_text (c->ws, text);
  }
}

static gboolean
send_frame (SxSioClient *c, OutFrame *f)
{
  gsize bytes = g_bytes_get_size (f->text)
                + (f->attachment ? g_bytes_get_size (f->attachment) : 0);

  if (c->polling) {
    PollItem *item = g_new0 (PollItem, 1);

    item->data = g_bytes_ref (f->text);
    g_queue_push_tail (&c->poll_out, item);
    if (f->attachment) {
      item = g_new0 (PollItem, 1);
      item->data = g_bytes_ref (f->attachment);
      item->binary = TRUE;
      g_queue_push_tail (&c->poll_out, item);
    }
    post_flush (c);
  } else {
    if (!c->ws
        || soup_websocket_connection_get_state (c->ws)
               != SOUP_WEBSOCKET_STATE_OPEN)
      return FALSE;
    soup_websocket_connection_send_message (c->ws, SOUP_WEBSOCKET_DATA_TEXT,
                                            f->text);
    if (f->attachment)
      soup_websocket_connection_send_message (c->ws, SOUP_WEBSOCKET_DATA_BINARY,
                                              f->attachment);
  }

  if (f->ack_id >= 0) {
    gint64 *key = g_new (gint64, 1), *when = g_new (gint64, 1);

    *key = f->ack_id;
    *when = g_get_monotonic_time ();
    g_hash_table_insert (c->in_flight, key, when);
  }
  g_mutex_lock (&c->lock);
  c->stats.sent++;
  c->stats.bytes_sent += bytes;
  c->stats.in_flight = g_hash_table_size (c->in_flight);
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
  return TRUE;
}

/* Moves waiting frames onto the wire while the ack window has room */
static void
pump (SxSioClient *c)
{
  while (c->joined) {
    OutFrame *f;

    if (c->cfg.max_in_flight > 0
        && g_hash_table_size (c->in_flight) >= c->cfg.max_in_flight)
      break;
    g_mutex_lock (&c->lock);
    f = g_queue_pop_head (&c->pending);
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
  SxSioClient *c = data;

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
sx_sio_client_emit (SxSioClient *c, const gchar *data_json, gsize data_len,
                    GBytes *attachment)
{
  GString *text;
  OutFrame *f;
  gsize wire;
  gboolean wake = FALSE;
  guint limit;

  g_mutex_lock (&c->lock);
  if (!c->connected || c->gave_up) {
    c->stats.dropped_disconnected++;
    g_mutex_unlock (&c->lock);
    return SX_SIO_EMIT_DROPPED_DISCONNECTED;
  }
  f = g_new0 (OutFrame, 1);
  f->ack_id = c->cfg.max_in_flight > 0 ? c->next_ack_id++ : -1;
  g_mutex_unlock (&c->lock);

  /* Encoding happens on the caller's thread: it is the only real work, and
   * the client thread must stay free to answer pings. */
  text = g_string_sized_new (data_len + strlen (c->cfg.event) + 64);
  g_string_append_c (text, '0' + SX_EIO_PACKET_MESSAGE);
  sx_sio_packet_append_header (
      text, attachment ? SX_SIO_PACKET_BINARY_EVENT : SX_SIO_PACKET_EVENT,
      attachment ? 1 : 0, c->cfg.nsp, f->ack_id);
  g_string_append_c (text, '[');
  sx_json_append_string (text, c->cfg.event);
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
    c->stats.dropped_oversize++;
    g_mutex_unlock (&c->lock);
    g_string_free (text, TRUE);
    g_free (f);
    return SX_SIO_EMIT_DROPPED_OVERSIZE;
  }
  f->text = g_string_free_to_bytes (text);
  f->attachment = attachment ? g_bytes_ref (attachment) : NULL;
  g_queue_push_tail (&c->pending, f);
  limit = c->cfg.max_in_flight > 0 ? PENDING_LIMIT_WINDOW
                                   : PENDING_LIMIT_NO_WINDOW;
  while (g_queue_get_length (&c->pending) > limit) {
    out_frame_free (g_queue_pop_head (&c->pending));
    c->stats.dropped_window++;
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
  SxSioClient *c = data;
  gchar *reason;

  if (c->opened)
    reason = g_strdup_printf ("no ping from the server within %" G_GINT64_FORMAT
                              " ms",
                              c->hs.ping_interval_ms + c->hs.ping_timeout_ms);
  else
    reason = g_strdup_printf ("no Engine.IO handshake within %d ms",
                              HANDSHAKE_TIMEOUT_MS);
  clear_source (&c->watchdog);
  connection_lost (c, reason);
  g_free (reason);
  return G_SOURCE_REMOVE;
}

static void
arm_watchdog (SxSioClient *c, gint64 ms)
{
  clear_source (&c->watchdog);
  c->watchdog = add_timeout (c, (guint)ms, watchdog_cb);
}

static void
give_up (SxSioClient *c, GError *error)
{
  g_mutex_lock (&c->lock);
  c->gave_up = TRUE;
  c->connected = FALSE;
  g_free (c->stats.last_error);
  c->stats.last_error = g_strdup (error->message);
  g_clear_error (&c->fatal_error);
  c->fatal_error = g_error_copy (error);
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
  if (c->cb.fatal)
    c->cb.fatal (c->user_data, error);
}

static void
ws_closed_after_close_cb (SoupWebsocketConnection *ws, gpointer data)
{
  SxSioClient *c = data;

  g_signal_handlers_disconnect_by_data (ws, c);
  g_ptr_array_remove_fast (c->closing_ws, ws);
  g_object_unref (ws);
  if (c->stopping && c->closing_ws->len == 0 && !c->post_busy)
    g_main_loop_quit (c->loop);
}

/* Forgets the current connection: cancels its operations, closes its
 * socket, clears the window. Waiting frames are the caller's business. */
static void
transport_reset (SxSioClient *c)
{
  g_cancellable_cancel (c->cancel);
  g_object_unref (c->cancel);
  c->cancel = g_cancellable_new ();
  c->generation++;

  if (c->ws) {
    SoupWebsocketConnection *ws = c->ws;

    c->ws = NULL;
    g_signal_handlers_disconnect_by_data (ws, c);
    if (soup_websocket_connection_get_state (ws)
        == SOUP_WEBSOCKET_STATE_CLOSED) {
      g_object_unref (ws);
    } else {
      /* Keep it until the close handshake ends (libsoup bounds that), so
       * the socket is shut down properly rather than dropped. */
      g_ptr_array_add (c->closing_ws, ws);
      g_signal_connect (ws, "closed", G_CALLBACK (ws_closed_after_close_cb), c);
      if (soup_websocket_connection_get_state (ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
                                         NULL);
    }
  }
  clear_source (&c->watchdog);
  sx_eio_handshake_clear (&c->hs);
  g_hash_table_remove_all (c->in_flight);
  g_queue_clear_full (&c->poll_out, (GDestroyNotify)poll_item_free);
  c->post_busy = FALSE;
  c->get_busy = FALSE;
  c->opened = FALSE;
  c->joined = FALSE;
  c->polling = FALSE;
}

static gboolean
retry_cb (gpointer data)
{
  SxSioClient *c = data;

  clear_source (&c->retry_timer);
  connect_start (c);
  return G_SOURCE_REMOVE;
}

/* Jittered exponential backoff: base * 2^(n-1), capped, then scaled by a
 * random factor in [0.5, 1] so cameras restarted together spread out. */
static void
schedule_retry (SxSioClient *c, const gchar *reason)
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
  c->retry_timer = add_timeout (c, (guint)MAX (delay, 1), retry_cb);
}

static void
drop_pending_locked (SxSioClient *c)
{
  OutFrame *f;

  while ((f = g_queue_pop_head (&c->pending))) {
    out_frame_free (f);
    c->stats.dropped_disconnected++;
  }
}

static void
connection_lost (SxSioClient *c, const gchar *reason)
{
  gboolean was_joined = c->joined;

  if (c->stopping)
    return;
  transport_reset (c);
  g_mutex_lock (&c->lock);
  c->connected = FALSE;
  c->stats.connected = FALSE;
  c->stats.transport = "none";
  c->stats.in_flight = 0;
  if (was_joined)
    c->stats.disconnects++;
  g_cond_broadcast (&c->cond);
  g_free (c->stats.last_error);
  c->stats.last_error = g_strdup (reason);
  drop_pending_locked (c);
  g_mutex_unlock (&c->lock);
  if (was_joined && c->cb.disconnected)
    c->cb.disconnected (c->user_data, reason);
  schedule_retry (c, reason);
}

static void
namespace_joined (SxSioClient *c, const SxSioPacket *pkt)
{
  const gchar *sid = NULL;

  sid = get_string_member (pkt->data, "sid");
  c->joined = TRUE;
  c->attempts = 0;
  g_mutex_lock (&c->lock);
  c->connected = TRUE;
  c->polling_now = c->polling;
  c->stats.connected = TRUE;
  c->stats.transport = c->polling ? "polling" : "websocket";
  c->stats.connects++;
  if (c->ever_joined)
    c->stats.reconnects++;
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
  c->ever_joined = TRUE;
  if (c->cb.connected)
    c->cb.connected (c->user_data, c->polling ? "polling" : "websocket", sid);
  pump (c);
}

static void
namespace_rejected (SxSioClient *c, const SxSioPacket *pkt)
{
  const gchar *msg = NULL;
  gchar *reason;

  if (pkt->data && JSON_NODE_HOLDS_OBJECT (pkt->data))
    msg = get_string_member (pkt->data, "message");
  else if (pkt->data && JSON_NODE_HOLDS_VALUE (pkt->data)
           && json_node_get_value_type (pkt->data) == G_TYPE_STRING)
    msg = json_node_get_string (pkt->data);
  reason = g_strdup_printf ("namespace %s rejected by the server: %s",
                            c->cfg.nsp, msg ? msg : "(no message)");

  if (c->cfg.retry_rejected) {
    connection_lost (c, reason);
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
handle_ack (SxSioClient *c, gint64 id)
{
  gint64 *sent_at = g_hash_table_lookup (c->in_flight, &id);
  gdouble rtt;

  if (!sent_at)
    return; /* timed out already, or not ours */
  rtt = (g_get_monotonic_time () - *sent_at) / 1000.0;
  g_hash_table_remove (c->in_flight, &id);
  g_mutex_lock (&c->lock);
  c->stats.acked++;
  c->stats.ack_rtt_ms = rtt;
  c->stats.in_flight = g_hash_table_size (c->in_flight);
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
  pump (c);
}

static void
handle_sio (SxSioClient *c, const gchar *text, gsize len)
{
  SxSioPacket pkt;
  GError *error = NULL;

  /* Events relayed to us (a dashboard that broadcasts every camera's frame
   * sends each connection all the others') are not ours to read: skip them
   * unparsed, a JSON parse of ~70 KB each. */
  if (len > 0
      && (text[0] == '0' + SX_SIO_PACKET_EVENT
          || text[0] == '0' + SX_SIO_PACKET_BINARY_EVENT))
    return;
  if (!sx_sio_packet_parse (text, len, &pkt, &error)) {
    /* A packet we cannot read is not a reason to drop the camera */
    g_warning ("socketio: ignoring malformed packet: %s", error->message);
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
      connection_lost (c, "the server closed the namespace");
      break;
    default:
      break;
  }
  sx_sio_packet_clear (&pkt);
}

static void
handle_open (SxSioClient *c, const gchar *json, gsize len)
{
  GError *error = NULL;
  GString *connect;

  sx_eio_handshake_clear (&c->hs);
  if (!sx_eio_handshake_parse (json, len, &c->hs, &error)) {
    connection_lost (c, error->message);
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

/* One Engine.IO text packet, from either transport. Returns FALSE when it
 * ended the connection, so callers stop reading the rest of a payload. */
static gboolean
handle_eio (SxSioClient *c, const gchar *text, gsize len)
{
  SxEioPacketType type;
  const gchar *data;
  gsize data_len;
  GError *error = NULL;
  guint generation = c->generation;

  if (!sx_eio_packet_parse (text, len, &type, &data, &data_len, &error)) {
    g_warning ("socketio: ignoring malformed Engine.IO packet: %s",
               error->message);
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
      connection_lost (c, "the server closed the Engine.IO session");
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

/* ------------------------------------------------------------- WebSocket */

static void
ws_message_cb (SoupWebsocketConnection *ws, gint type, GBytes *message,
               gpointer data)
{
  SxSioClient *c = data;
  gsize len;
  const gchar *text;

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    return; /* attachments of relayed events */
  text = g_bytes_get_data (message, &len);
  handle_eio (c, text, len);
}

static void
ws_error_cb (SoupWebsocketConnection *ws, GError *error, gpointer data)
{
  set_last_error (data, error->message);
}

static void
ws_closed_cb (SoupWebsocketConnection *ws, gpointer data)
{
  SxSioClient *c = data;
  gchar *reason = g_strdup_printf (
      "WebSocket closed (code %u%s%s)",
      soup_websocket_connection_get_close_code (ws),
      soup_websocket_connection_get_close_data (ws) ? ", " : "",
      soup_websocket_connection_get_close_data (ws)
          ? soup_websocket_connection_get_close_data (ws)
          : "");

  connection_lost (c, reason);
  g_free (reason);
}

static void polling_open (SxSioClient *c);

static void
ws_connected_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  Op *op = data;
  SxSioClient *c = op->client;
  GError *error = NULL;
  SoupWebsocketConnection *ws;
  gboolean live = op_finish (op);
  guint status = soup_message_get_status (op->msg);

  ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), res,
                                              &error);
  op_free (op);
  if (!live) {
    g_clear_error (&error);
    g_clear_object (&ws);
    return;
  }
  if (!ws) {
    gchar *reason;

    /* The server answered but would not upgrade: Flask-SocketIO in
     * threading mode without simple-websocket does this (HTTP 400). */
    if (c->cfg.transport == SX_SIO_TRANSPORT_AUTO && status >= 100
        && status != SOUP_STATUS_SWITCHING_PROTOCOLS) {
      g_debug ("socketio: WebSocket refused (HTTP %u), trying polling", status);
      g_error_free (error);
      polling_open (c);
      return;
    }
    reason = g_strdup_printf ("WebSocket connection to %s failed: %s",
                              c->cfg.url, error->message);
    g_error_free (error);
    connection_lost (c, reason);
    g_free (reason);
    return;
  }
  c->ws = ws;
  c->polling = FALSE;
  /* Other cameras' frames relayed to us must not exceed libsoup's 128 KiB
   * default, or libsoup closes the socket on them. */
  soup_websocket_connection_set_max_incoming_payload_size (
      ws, c->cfg.max_incoming_payload);
  /* The server pings; libsoup's own keepalive would only add traffic */
  soup_websocket_connection_set_keepalive_interval (ws, 0);
  g_signal_connect (ws, "message", G_CALLBACK (ws_message_cb), c);
  g_signal_connect (ws, "error", G_CALLBACK (ws_error_cb), c);
  g_signal_connect (ws, "closed", G_CALLBACK (ws_closed_cb), c);
}

static void
ws_open (SxSioClient *c)
{
  gchar *url = g_strdup_printf ("%s&transport=websocket", c->ws_base);
  SoupMessage *msg = new_message (c, "GET", url);

  g_free (url);
  if (!msg) {
    connection_lost (c, "cannot build the WebSocket request");
    return;
  }
  soup_session_websocket_connect_async (c->session, msg, NULL, NULL,
                                        G_PRIORITY_DEFAULT, c->cancel,
                                        ws_connected_cb, op_new (c, msg));
  g_object_unref (msg);
}

/* --------------------------------------------------------- long-polling */

static gboolean
handle_poll_payload (SxSioClient *c, GBytes *body)
{
  gsize len;
  const gchar *text = g_bytes_get_data (body, &len);
  GError *error = NULL;
  GArray *binary = NULL;
  GPtrArray *packets = sx_eio_payload_split (text, len, &binary, &error);
  gboolean alive = TRUE;
  guint i;

  if (!packets) {
    gchar *reason = g_strdup_printf ("bad polling payload: %s", error->message);

    g_error_free (error);
    connection_lost (c, reason);
    g_free (reason);
    return FALSE;
  }
  for (i = 0; i < packets->len && alive; i++) {
    GBytes *pkt = g_ptr_array_index (packets, i);
    gsize plen;
    const gchar *p = g_bytes_get_data (pkt, &plen);

    if (g_array_index (binary, gboolean, i))
      continue;
    alive = handle_eio (c, p, plen);
  }
  g_ptr_array_unref (packets);
  g_array_unref (binary);
  return alive;
}

static void
poll_get_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  Op *op = data;
  SxSioClient *c = op->client;
  GError *error = NULL;
  gboolean live = op_finish (op);
  GBytes *body
      = send_and_read_bounded_finish (res, &error);
  guint status = soup_message_get_status (op->msg);

  op_free (op);
  if (!live) {
    g_clear_error (&error);
    if (body)
      g_bytes_unref (body);
    return;
  }
  c->get_busy = FALSE;
  if (!body || status != SOUP_STATUS_OK) {
    gchar *reason = g_strdup_printf ("polling GET failed: %s",
                                     error ? error->message
                                           : soup_status_get_phrase (status));

    g_clear_error (&error);
    if (body)
      g_bytes_unref (body);
    connection_lost (c, reason);
    g_free (reason);
    return;
  }
  if (handle_poll_payload (c, body))
    polling_get (c);
  g_bytes_unref (body);
}

static void
polling_get (SxSioClient *c)
{
  gchar *url;
  SoupMessage *msg;

  if (c->get_busy || !c->polling)
    return;
  url = polling_url (c);
  msg = new_message (c, "GET", url);
  g_free (url);
  c->get_busy = TRUE;
  send_and_read_bounded_async (c, msg, poll_get_cb, op_new (c, msg));
  g_object_unref (msg);
}

static void
poll_post_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  Op *op = data;
  SxSioClient *c = op->client;
  GError *error = NULL;
  gboolean live = op_finish (op);
  GBytes *body
      = send_and_read_bounded_finish (res, &error);
  guint status = soup_message_get_status (op->msg);

  op_free (op);
  if (body)
    g_bytes_unref (body);
  if (!live) {
    g_clear_error (&error);
    return;
  }
  c->post_busy = FALSE;
  if (error || status != SOUP_STATUS_OK) {
    gchar *reason = g_strdup_printf ("polling POST failed: %s",
                                     error ? error->message
                                           : soup_status_get_phrase (status));

    g_clear_error (&error);
    if (c->stopping)
      g_main_loop_quit (c->loop);
    else
      connection_lost (c, reason);
    g_free (reason);
    return;
  }
  if (c->stopping && g_queue_is_empty (&c->poll_out)) {
    g_main_loop_quit (c->loop);
    return;
  }
  post_flush (c);
}

/* Sends what is queued in one POST: at most 16 packets and at most
 * max-message-size bytes, the two limits python-engineio enforces. */
static void
post_flush (SxSioClient *c)
{
  GString *body;
  guint n = 0;
  gchar *url;
  SoupMessage *msg;
  GBytes *bytes;

  if (c->post_busy || !c->polling || !c->hs.sid
      || g_queue_is_empty (&c->poll_out))
    return;
  body = g_string_new (NULL);
  while (n < POLLING_MAX_PACKETS) {
    PollItem *item = g_queue_peek_head (&c->poll_out);
    gsize size;

    if (!item)
      break;
    size = g_bytes_get_size (item->data);
    if (item->binary)
      size = base64_size (size) + 1;
    if (n > 0 && body->len + 1 + size > c->cfg.max_message_size)
      break;
    g_queue_pop_head (&c->poll_out);
    sx_eio_payload_append (body, g_bytes_get_data (item->data, NULL),
                           g_bytes_get_size (item->data), item->binary);
    poll_item_free (item);
    n++;
  }
  url = polling_url (c);
  msg = new_message (c, "POST", url);
  g_free (url);
  bytes = g_string_free_to_bytes (body);
  soup_message_set_request_body_from_bytes (msg, "text/plain;charset=UTF-8",
                                            bytes);
  g_bytes_unref (bytes);
  c->post_busy = TRUE;
  send_and_read_bounded_async (c, msg, poll_post_cb, op_new (c, msg));
  g_object_unref (msg);
}

static void
poll_open_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  Op *op = data;
  SxSioClient *c = op->client;
  GError *error = NULL;
  gboolean live = op_finish (op);
  GBytes *body
      = send_and_read_bounded_finish (res, &error);
  guint status = soup_message_get_status (op->msg);

  op_free (op);
  if (!live) {
    g_clear_error (&error);
    if (body)
      g_bytes_unref (body);
    return;
  }
  if (!body || status != SOUP_STATUS_OK) {
    gchar *reason = g_strdup_printf (
        "polling handshake with %s failed: %s", c->cfg.url,
        error ? error->message : soup_status_get_phrase (status));

    g_clear_error (&error);
    if (body)
      g_bytes_unref (body);
    connection_lost (c, reason);
    g_free (reason);
    return;
  }
  c->polling = TRUE;
  /* The first packet is OPEN: it sets the sid that every later request
   * carries, and queues the namespace connect for the first POST. */
  if (handle_poll_payload (c, body)) {
    if (!c->opened)
      connection_lost (c, "polling handshake without an open packet");
    else
      polling_get (c);
  }
  g_bytes_unref (body);
}

static void
polling_open (SxSioClient *c)
{
  gchar *url;
  SoupMessage *msg;

  sx_eio_handshake_clear (&c->hs);
  url = polling_url (c);
  msg = new_message (c, "GET", url);
  g_free (url);
  send_and_read_bounded_async (c, msg, poll_open_cb, op_new (c, msg));
  g_object_unref (msg);
}

/* ---------------------------------------------------------- the thread */

static void
connect_start (SxSioClient *c)
{
  if (c->stopping || c->gave_up)
    return;
  transport_reset (c);
  /* Bounds the whole handshake, whatever stalls in it */
  arm_watchdog (c, HANDSHAKE_TIMEOUT_MS);
  if (c->cfg.transport == SX_SIO_TRANSPORT_POLLING)
    polling_open (c);
  else
    ws_open (c);
}

static gboolean
tick_cb (gpointer data)
{
  SxSioClient *c = data;
  gint64 now = g_get_monotonic_time ();

  /* An ack that never comes (lost, or a server handler that does not
   * return) must not close the window for good. */
  if (c->joined && c->cfg.max_in_flight > 0 && c->cfg.ack_timeout_ms > 0) {
    GHashTableIter iter;
    gpointer key, value;
    guint expired = 0;

    g_hash_table_iter_init (&iter, c->in_flight);
    while (g_hash_table_iter_next (&iter, &key, &value)) {
      if (now - *(gint64 *)value > (gint64)c->cfg.ack_timeout_ms * 1000) {
        g_hash_table_iter_remove (&iter);
        expired++;
      }
    }
    if (expired) {
      g_mutex_lock (&c->lock);
      c->stats.ack_timeouts += expired;
      c->stats.in_flight = g_hash_table_size (c->in_flight);
      g_cond_broadcast (&c->cond);
      g_mutex_unlock (&c->lock);
      pump (c);
    }
  }
  if (c->cfg.stats_interval_ms > 0 && c->cb.stats
      && now - c->last_stats_us >= (gint64)c->cfg.stats_interval_ms * 1000) {
    SxSioStats stats;

    c->last_stats_us = now;
    sx_sio_client_get_stats (c, &stats);
    c->cb.stats (c->user_data, &stats);
    sx_sio_stats_clear (&stats);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
stop_timeout_cb (gpointer data)
{
  g_main_loop_quit (((SxSioClient *)data)->loop);
  return G_SOURCE_REMOVE;
}

/* Runs on the client thread: says goodbye, then lets the loop end once
 * the goodbye is on the wire (or after a grace period). */
static gboolean
stop_cb (gpointer data)
{
  SxSioClient *c = data;
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
  if (c->ws) {
    /* transport_reset would cancel our POST; close the socket only */
    SoupWebsocketConnection *ws = c->ws;

    c->ws = NULL;
    g_signal_handlers_disconnect_by_data (ws, c);
    if (soup_websocket_connection_get_state (ws)
        != SOUP_WEBSOCKET_STATE_CLOSED) {
      g_ptr_array_add (c->closing_ws, ws);
      g_signal_connect (ws, "closed", G_CALLBACK (ws_closed_after_close_cb), c);
      if (soup_websocket_connection_get_state (ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    } else {
      g_object_unref (ws);
    }
  }
  if (c->closing_ws->len > 0)
    wait = TRUE;
  if (!wait) {
    g_main_loop_quit (c->loop);
  } else {
    grace = add_timeout (c, STOP_GRACE_MS, stop_timeout_cb);
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
client_thread (gpointer data)
{
  SxSioClient *c = data;
  gint64 deadline;
  guint i;

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
  c->tick_timer = add_timeout (c, TICK_MS, tick_cb);
  c->last_stats_us = g_get_monotonic_time ();
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
  for (i = 0; i < c->closing_ws->len; i++) {
    SoupWebsocketConnection *ws = g_ptr_array_index (c->closing_ws, i);

    g_signal_handlers_disconnect_by_data (ws, c);
    g_object_unref (ws);
  }
  g_ptr_array_set_size (c->closing_ws, 0);
  deadline = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  while (c->ops > 0 && g_get_monotonic_time () < deadline) {
    if (!g_main_context_iteration (c->ctx, FALSE))
      g_usleep (1000);
  }
  if (c->ops > 0)
    g_warning ("socketio: %d operation(s) did not finish at shutdown", c->ops);
  g_clear_object (&c->session);
  /* Drain idle sources (wake_cb) so none refers to a freed client */
  while (g_main_context_iteration (c->ctx, FALSE))
    ;
  g_main_context_pop_thread_default (c->ctx);
  return NULL;
}

void
sx_sio_client_start (SxSioClient *c)
{
  g_return_if_fail (c->thread == NULL);
  c->thread = g_thread_new ("socketio", client_thread, c);
}

gboolean
sx_sio_client_wait_connected (SxSioClient *c, guint timeout_ms, GError **error)
{
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
sx_sio_client_drain (SxSioClient *c, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64)timeout_ms * 1000;
  gboolean drained;

  g_mutex_lock (&c->lock);
  while (c->connected && !c->gave_up
         && (!g_queue_is_empty (&c->pending) || c->stats.in_flight > 0
             || c->wake_scheduled))
    if (!g_cond_wait_until (&c->cond, &c->lock, end))
      break;
  drained = g_queue_is_empty (&c->pending) && c->stats.in_flight == 0;
  g_mutex_unlock (&c->lock);
  return drained;
}

void
sx_sio_client_get_stats (SxSioClient *c, SxSioStats *stats)
{
  g_mutex_lock (&c->lock);
  *stats = c->stats;
  stats->last_error = g_strdup (c->stats.last_error);
  g_mutex_unlock (&c->lock);
}

void
sx_sio_client_free (SxSioClient *c)
{
  if (!c)
    return;
  if (c->thread) {
    GSource *s = g_idle_source_new ();

    g_source_set_callback (s, stop_cb, c, NULL);
    g_source_attach (s, c->ctx);
    g_source_unref (s);
    g_thread_join (c->thread);
    c->thread = NULL;
  }
  g_mutex_lock (&c->lock);
  drop_pending_locked (c);
  g_mutex_unlock (&c->lock);
  g_queue_clear_full (&c->poll_out, (GDestroyNotify)poll_item_free);
  g_clear_object (&c->cancel);
  sx_eio_handshake_clear (&c->hs);
  g_hash_table_unref (c->in_flight);
  g_ptr_array_unref (c->closing_ws);
  g_main_loop_unref (c->loop);
  g_main_context_unref (c->ctx);
  g_clear_error (&c->fatal_error);
  sx_sio_stats_clear (&c->stats);
  g_clear_object (&c->tls_database);
  sx_sio_config_clear (&c->cfg);
  g_free (c->http_base);
  g_free (c->ws_base);
  g_mutex_clear (&c->lock);
  g_cond_clear (&c->cond);
  g_free (c);
}
