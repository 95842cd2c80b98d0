/* surveillx-gst — a Socket.IO v5 client over Engine.IO v4 on libsoup 3.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An SxSioClient is one emitter (one socketiosink) on one Socket.IO
 * namespace. Clients in a process whose settings name the same connection
 * (URL, namespace, auth, TLS CA, headers, transport, retry and size
 * limits) share it, as the Python sidecar's one client did: one socket,
 * one Engine.IO session, one thread and GMainContext, so a dashboard that
 * relays every frame to the namespace sends each frame to the process
 * once, not once per camera. Each client keeps its own waiting slot, ack
 * window, statistics and callbacks; the connection takes frames from its
 * clients in turn. sx_sio_client_emit() never blocks: flow control (an
 * ack window per client with drop-oldest), the ping watchdog and
 * reconnection happen on the connection's thread.
 *
 * The wire format is eiocodec.h.
 */
#ifndef SX_SIOCLIENT_H
#define SX_SIOCLIENT_H

#include "eiocodec.h"

G_BEGIN_DECLS

typedef enum {
  SX_SIO_TRANSPORT_AUTO, /* WebSocket, polling if the server refuses it */
  SX_SIO_TRANSPORT_WEBSOCKET,
  SX_SIO_TRANSPORT_POLLING,
} SxSioTransport;

typedef struct {
  /* The connection: clients whose fields below are equal share one */
  gchar *url; /* http, https, ws or wss */
  gchar *nsp;
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
  gsize max_message_size;  /* the server's limit on one message */
  /* largest WebSocket message or long-polling response read from the
   * server (relayed traffic we never use may be large); 0: the default */
  guint64 max_incoming_payload;
  gboolean exclusive; /* a connection of this client's own, never shared */

  /* This client's own */
  gchar *event;
  guint max_in_flight; /* 0: no acks, no window */
  guint ack_timeout_ms;
  guint stats_interval_ms; /* 0: no stats callback */
} SxSioConfig;

#define SX_SIO_DEFAULT_MAX_INCOMING_PAYLOAD (16 * 1024 * 1024)

/* Counters are the client's own; the connection's state is shared */
typedef struct {
  guint64 sent;
  guint64 acked;
  guint64 dropped_window; /* replaced by a newer frame while waiting */
  guint64 dropped_disconnected;
  guint64 dropped_oversize;
  guint64 ack_timeouts;
  guint64 bytes_sent;
  guint64 connects;   /* namespace joins it saw, the first included */
  guint64 reconnects; /* joins after a lost connection */
  guint64 disconnects;
  guint in_flight;
  gboolean connected;
  const gchar *transport; /* "websocket", "polling" or "none" */
  gdouble ack_rtt_ms;     /* of the last ack */
  gchar *last_error;      /* the connection's, NULL if none */
  guint shared_by;        /* clients on the connection, this one included */
} SxSioStats;

typedef enum {
  SX_SIO_EMIT_QUEUED,
  SX_SIO_EMIT_DROPPED_OVERSIZE,
  SX_SIO_EMIT_DROPPED_DISCONNECTED,
} SxSioEmitResult;

/* Called on the connection's thread; must not call back into the client.
 * Every client on a connection hears of its joins, losses and end. */
typedef struct {
  void (*connected) (gpointer user_data, const gchar *transport,
                     const gchar *sid);
  void (*disconnected) (gpointer user_data, const gchar *reason);
  /* The connection stopped trying (rejection, attempts exhausted) */
  void (*fatal) (gpointer user_data, const GError *error);
  void (*stats) (gpointer user_data, const SxSioStats *stats);
  /* Something the server did that is worth a line in a log (a packet
   * that does not parse); the connection carries on */
  void (*warning) (gpointer user_data, const gchar *message);
} SxSioCallbacks;

typedef struct _SxSioClient SxSioClient;

void sx_sio_config_clear (SxSioConfig *config);

/* Checks the URL, namespace, auth and CA file, and finds the connection
 * to share (or makes one); no I/O happens before _start(). */
SxSioClient *sx_sio_client_new (const SxSioConfig *config,
                                const SxSioCallbacks *callbacks,
                                gpointer user_data, GError **error);

/* Joins the client to its connection, starting the connection's thread
 * and first attempt if it is the first. */
void sx_sio_client_start (SxSioClient *client);

/* Waits up to @timeout_ms for the namespace to be joined. Returns TRUE
 * when joined; FALSE on timeout (the connection keeps trying) or when it
 * gave up, in which case @error says why. */
gboolean sx_sio_client_wait_connected (SxSioClient *client, guint timeout_ms,
                                       GError **error);

/* Queues one event whose single argument is the JSON object @data_json,
 * with an optional binary attachment (referenced by a placeholder in
 * @data_json). Never blocks. Thread-safe. */
SxSioEmitResult sx_sio_client_emit (SxSioClient *client, const gchar *data_json,
                                    gsize data_len, GBytes *attachment);

/* Waits up to @timeout_ms until every frame this client queued is sent
 * and acknowledged (or the connection is gone). For end-of-stream: the
 * last frames should reach the server before the client is freed. */
gboolean sx_sio_client_drain (SxSioClient *client, guint timeout_ms);

/* A snapshot; free last_error with sx_sio_stats_clear(). Thread-safe. */
void sx_sio_client_get_stats (SxSioClient *client, SxSioStats *stats);
void sx_sio_stats_clear (SxSioStats *stats);

/* Leaves the connection: no callback for this client runs after it
 * returns. The last client to leave closes the namespace, the transport
 * and the thread: nothing of the connection survives that call. */
void sx_sio_client_free (SxSioClient *client);

G_END_DECLS

#endif /* SX_SIOCLIENT_H */
