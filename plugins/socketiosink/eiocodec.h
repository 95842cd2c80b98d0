/* surveillx-gst — the Engine.IO v4 / Socket.IO v5 codec: pure functions
 * that parse and encode Engine.IO packets, long-polling payloads and
 * Socket.IO packets. They touch no socket and no global state, so they can
 * be unit-tested and fuzzed on their own. The client is sioclient.h.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SX_EIOCODEC_H
#define SX_EIOCODEC_H

#include <glib.h>

#include "sxjson.h" /* sx_json_append_string(), for the payloads */
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

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

/* Parses JSON a server sent: sx_json_check() first (JSON tokens only,
 * bounded nesting: json-glib recurses and accepts comments), then
 * json-glib. Errors are in SX_EIO_ERROR. */
JsonNode *sx_eio_json_parse (const gchar *text, gsize len, GError **error);

/* The string member @name of an object node, or NULL (for any other
 * shape: json-glib complains loudly about type mismatches, and servers may
 * send anything). */
const gchar *sx_eio_json_get_string (JsonNode *node, const gchar *name);

G_END_DECLS

#endif /* SX_EIOCODEC_H */
