/* surveillx-gst — a small Engine.IO v4 / Socket.IO v5 client on libsoup 3.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Two layers, no GStreamer in either:
 *
 *  - The codec: pure functions that parse and encode Engine.IO packets,
 *    long-polling payloads and Socket.IO packets. They touch no socket and
 *    no global state, so they can be unit-tested and fuzzed on their own.
 *
 *  - The client: one Socket.IO namespace over WebSocket (or HTTP
 *    long-polling when the server refuses the upgrade), running on its own
 *    thread and GMainContext. sx_sio_client_emit() never blocks: it queues
 *    the event and returns; flow control (an ack window with drop-oldest),
 *    the ping watchdog and reconnection all happen on the client thread.
 */
#ifndef SX_ENGINEIO_H
#define SX_ENGINEIO_H

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* ------------------------------------------------------------------ codec */

#define SX_EIO_ERROR (sx_eio_error_quark ())
GQuark sx_eio_error_quark (void);

typedef enum {
  SX_EIO_ERROR_MALFORMED, /* a packet or payload that does not parse */
  SX_EIO_ERROR_URL,       /* a URL the client cannot use */
  SX_EIO_ERROR_REJECTED,  /* the server refused the namespace */
  SX_EIO_ERROR_GAVE_UP,   /* reconnection attempts exhausted */
} SxEioError;

typedef enum {
  SX_EIO_PACKET_OPEN = 0,
  SX_EIO_PACKET_CLOSE = 1,
  SX_EIO_PACKET_PING = 2,
  SX_EIO_PACKET_PONG = 3,
  SX_EIO_PACKET_MESSAGE = 4,
  SX_EIO_PACKET_UPGRADE = 5,
  SX_EIO_PACKET_NOOP = 6,
} SxEioPacketType;

/* The Engine.IO record separator joining packets in a polling payload */
#define SX_EIO_RECORD_SEPARATOR '\x1e'

/* The server's answer to a new session (the OPEN packet's JSON) */
typedef struct {
  gchar *sid;
  gint64 ping_interval_ms;
  gint64 ping_timeout_ms;
  gint64 max_payload;         /* 0: the server did not announce one */
  gboolean websocket_upgrade; /* "websocket" is among "upgrades" */
} SxEioHandshake;

/* Parses an Engine.IO text packet: its type and the data after the type
 * digit (pointing into @text, @data_len bytes). */
gboolean sx_eio_packet_parse (const gchar *text, gsize len,
                              SxEioPacketType *type, const gchar **data,
                              gsize *data_len, GError **error);

/* Parses the JSON of an OPEN packet (without the leading '0'). */
gboolean sx_eio_handshake_parse (const gchar *json, gsize len,
                                 SxEioHandshake *out, GError **error);
void sx_eio_handshake_clear (SxEioHandshake *hs);

/* Splits a long-polling payload at record separators. Returns the packets
 * as GBytes (text packets as they are; "b<base64>" binary packets decoded
 * and flagged in @is_binary, which has one gboolean per packet). */
GPtrArray *sx_eio_payload_split (const gchar *payload, gsize len,
                                 GArray **is_binary, GError **error);

/* Appends one packet to a polling payload, adding the separator when the
 * payload is not empty; binary packets are base64-encoded with a 'b'. */
void sx_eio_payload_append (GString *payload, const guint8 *packet, gsize len,
                            gboolean binary);

typedef enum {
  SX_SIO_PACKET_CONNECT = 0,
  SX_SIO_PACKET_DISCONNECT = 1,
  SX_SIO_PACKET_EVENT = 2,
  SX_SIO_PACKET_ACK = 3,
  SX_SIO_PACKET_CONNECT_ERROR = 4,
  SX_SIO_PACKET_BINARY_EVENT = 5,
  SX_SIO_PACKET_BINARY_ACK = 6,
} SxSioPacketType;

typedef struct {
  SxSioPacketType type;
  guint attachments; /* binary packets only */
  gchar *nsp;        /* "/" when the packet names none */
  gint64 ack_id;     /* -1 when absent */
  JsonNode *data;    /* NULL when absent */
} SxSioPacket;

/* Parses a Socket.IO packet (the data of an Engine.IO MESSAGE packet). */
gboolean sx_sio_packet_parse (const gchar *text, gsize len, SxSioPacket *out,
                              GError **error);
void sx_sio_packet_clear (SxSioPacket *packet);

/* Appends a Socket.IO packet header: type, "<attachments>-" for binary
 * types, "<nsp>," unless the namespace is "/", and the ack id if >= 0.
 * The JSON data, if any, follows directly. */
void sx_sio_packet_append_header (GString *out, SxSioPacketType type,
                                  guint attachments, const gchar *nsp,
                                  gint64 ack_id);

/* A whole Socket.IO packet with optional JSON data (may be NULL). */
gchar *sx_sio_packet_encode (SxSioPacketType type, guint attachments,
                             const gchar *nsp, gint64 ack_id,
                             const gchar *json_data);

/* Appends @s as a JSON string literal (quoted, escaped). */
void sx_json_append_string (GString *out, const gchar *s);

/* ----------------------------------------------------------------- client */

typedef enum {
  SX_SIO_TRANSPORT_AUTO, /* WebSocket, polling if the server refuses it */
  SX_SIO_TRANSPORT_WEBSOCKET,
  SX_SIO_TRANSPORT_POLLING,
} SxSioTransport;

typedef struct {
  gchar *url; /* http, https, ws or wss */
  gchar *nsp;
  gchar *event;
  gchar *auth_json;     /* a JSON object, or NULL */
  gchar *tls_ca_file;   /* PEM certificates the server's must chain to
                           (https/wss); NULL: the system's */
  gchar **header_names; /* extra HTTP headers, parallel arrays */
  gchar **header_values;
  SxSioTransport transport;
  guint reconnect_delay_ms;
  guint reconnect_max_delay_ms;
  gint reconnect_attempts; /* -1: forever */
  gboolean retry_rejected; /* reconnect after a namespace rejection */
  guint max_in_flight;     /* 0: no acks, no window */
  gsize max_message_size;
  guint ack_timeout_ms;
  guint stats_interval_ms;      /* 0: no stats callback */
  /* largest WebSocket message or long-polling response read from the
   * server (relayed traffic we never use may be large); 0: the default */
  guint64 max_incoming_payload;
} SxSioConfig;

#define SX_SIO_DEFAULT_MAX_INCOMING_PAYLOAD (16 * 1024 * 1024)

typedef struct {
  guint64 sent;
  guint64 acked;
  guint64 dropped_window; /* replaced by a newer frame while waiting */
  guint64 dropped_disconnected;
  guint64 dropped_oversize;
  guint64 ack_timeouts;
  guint64 bytes_sent;
  guint64 connects;   /* namespace joins, the first included */
  guint64 reconnects; /* joins after a lost connection */
  guint64 disconnects;
  guint in_flight;
  gboolean connected;
  const gchar *transport; /* "websocket", "polling" or "none" */
  gdouble ack_rtt_ms;     /* of the last ack */
  gchar *last_error;      /* NULL if none */
} SxSioStats;

typedef enum {
  SX_SIO_EMIT_QUEUED,
  SX_SIO_EMIT_DROPPED_OVERSIZE,
  SX_SIO_EMIT_DROPPED_DISCONNECTED,
} SxSioEmitResult;

/* Called on the client thread; must not call back into the client. */
typedef struct {
  void (*connected) (gpointer user_data, const gchar *transport,
                     const gchar *sid);
  void (*disconnected) (gpointer user_data, const gchar *reason);
  /* The client stopped trying (rejection, attempts exhausted) */
  void (*fatal) (gpointer user_data, const GError *error);
  void (*stats) (gpointer user_data, const SxSioStats *stats);
} SxSioCallbacks;

typedef struct _SxSioClient SxSioClient;

void sx_sio_config_clear (SxSioConfig *config);

/* Checks the URL and namespace; no I/O happens before _start(). */
SxSioClient *sx_sio_client_new (const SxSioConfig *config,
                                const SxSioCallbacks *callbacks,
                                gpointer user_data, GError **error);

/* Starts the client thread and the first connection attempt. */
void sx_sio_client_start (SxSioClient *client);

/* Waits up to @timeout_ms for the first namespace join. Returns TRUE when
 * joined; FALSE on timeout (the client keeps trying) or when the client
 * gave up, in which case @error says why. */
gboolean sx_sio_client_wait_connected (SxSioClient *client, guint timeout_ms,
                                       GError **error);

/* Queues one event whose single argument is the JSON object @data_json,
 * with an optional binary attachment (referenced by a placeholder in
 * @data_json). Never blocks. Thread-safe. */
SxSioEmitResult sx_sio_client_emit (SxSioClient *client, const gchar *data_json,
                                    gsize data_len, GBytes *attachment);

/* Waits up to @timeout_ms until every queued frame is sent and every sent
 * frame acknowledged (or the connection is gone). For end-of-stream: the
 * last frames should reach the server before the client is freed. */
gboolean sx_sio_client_drain (SxSioClient *client, guint timeout_ms);

/* A snapshot; free last_error with sx_sio_stats_clear(). Thread-safe. */
void sx_sio_client_get_stats (SxSioClient *client, SxSioStats *stats);
void sx_sio_stats_clear (SxSioStats *stats);

/* Leaves the namespace, closes the transport, joins the thread. Nothing
 * of the client (thread, socket, source) survives this call. */
void sx_sio_client_free (SxSioClient *client);

G_END_DECLS

#endif /* SX_ENGINEIO_H */
