/* surveillx-gst — one Engine.IO connection and its transports (private to
 * the Socket.IO client: sioclient.c is the state machine, siowebsocket.c
 * and siopolling.c the two ways packets travel).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SX_SIOCONNECTION_H
#define SX_SIOCONNECTION_H

#include "sioclient.h"

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* python-engineio refuses a polling POST of more packets than this */
#define SX_SIO_POLLING_MAX_PACKETS 16

typedef struct _SxSioConnection SxSioConnection;

/* One asynchronous libsoup operation: callbacks check `cancel` to know
 * whether the connection attempt they belong to is still the current one. */
typedef struct {
  SxSioConnection *conn;
  GCancellable *cancel;
  SoupMessage *msg;
} SxSioOp;

struct _SxSioConnection {
  gchar *key;      /* in the process's registry; NULL: exclusive */
  gint users;      /* clients holding it, under the registry lock */
  SxSioConfig cfg; /* the connection's fields; the clients' own are unused */
  GTlsDatabase *tls_database; /* from cfg.tls_ca_file, or NULL */
  gchar *http_base;           /* http(s)://host:port/path?[user query&]EIO=4 */
  gchar *ws_base;

  GMainContext *ctx;
  GMainLoop *loop;
  GThread *thread;

  GMutex lock;
  GCond cond;
  /* Under lock: shared with the emitting (streaming) threads */
  GPtrArray *clients; /* started, not yet freed */
  guint next_turn;    /* the client whose frame goes first */
  gboolean wake_scheduled;
  gboolean connected;
  gboolean polling_now; /* transport of the current connection */
  gboolean gave_up;
  GError *fatal_error;
  gint64 next_ack_id;
  GHashTable *in_flight; /* ack id -> InFlight */
  gchar *sid;            /* of the current namespace join */
  const gchar *transport_name;
  gchar *last_error;

  /* The connection's thread only */
  SoupSession *session;
  GCancellable *cancel;
  guint generation; /* bumped by every transport reset */
  SoupWebsocketConnection *ws;
  GPtrArray *closing_ws;
  gboolean polling;
  gboolean opened;
  gboolean joined;
  gboolean stopping;
  SxEioHandshake hs;
  GQueue poll_out; /* SxSioPollItem */
  gboolean post_busy;
  gboolean get_busy;
  guint attempts;
  gint ops;
  GSource *watchdog;
  GSource *retry_timer;
  GSource *tick_timer;
};

typedef struct {
  GBytes *data;
  gboolean binary;
} SxSioPollItem;

/* The state machine (sioclient.c), for the transports */
void sx_sio_connection_lost (SxSioConnection *c, const gchar *reason);
/* One Engine.IO text packet from either transport. Returns FALSE when it
 * ended the connection, so callers stop reading the rest of a payload. */
gboolean sx_sio_connection_receive (SxSioConnection *c, const gchar *text,
                                    gsize len);
void sx_sio_connection_set_last_error (SxSioConnection *c, const gchar *msg);
GSource *sx_sio_connection_add_timeout (SxSioConnection *c, guint ms,
                                        GSourceFunc func);
SoupMessage *sx_sio_connection_new_message (SxSioConnection *c,
                                            const gchar *method,
                                            const gchar *url);
SxSioOp *sx_sio_op_new (SxSioConnection *c, SoupMessage *msg);
/* Returns TRUE when the operation still belongs to the live connection */
gboolean sx_sio_op_finish (SxSioOp *op);
void sx_sio_op_free (SxSioOp *op);

/* WebSocket (siowebsocket.c) */
void sx_sio_websocket_open (SxSioConnection *c);
gboolean sx_sio_websocket_send (SxSioConnection *c, SoupWebsocketDataType type,
                                GBytes *data);
/* Closes the socket with @code, keeping it until libsoup's close
 * handshake ends, so it is shut down properly rather than dropped. */
void sx_sio_websocket_close (SxSioConnection *c, gushort code);
/* Drops the sockets still closing (the thread's end) */
void sx_sio_websocket_forget_closing (SxSioConnection *c);

/* Long-polling (siopolling.c) */
void sx_sio_polling_open (SxSioConnection *c);
void sx_sio_polling_get (SxSioConnection *c);
/* Queues one packet for the next POST and sends if none is running */
void sx_sio_polling_queue (SxSioConnection *c, GBytes *data, gboolean binary);
void sx_sio_poll_item_free (SxSioPollItem *item);

G_END_DECLS

#endif /* SX_SIOCONNECTION_H */
