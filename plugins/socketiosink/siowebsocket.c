/* surveillx-gst — the Engine.IO WebSocket transport: one text message per
 * Engine.IO packet, binary attachments as binary messages.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "sioconnection.h"

static void
message_cb (SoupWebsocketConnection *ws, gint type, GBytes *message,
            gpointer data)
{
  SxSioConnection *c = data;
  gsize len;
  const gchar *text;

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    return; /* attachments of relayed events */
  text = g_bytes_get_data (message, &len);
  sx_sio_connection_receive (c, text, len);
}

static void
error_cb (SoupWebsocketConnection *ws, GError *error, gpointer data)
{
  sx_sio_connection_set_last_error (data, error->message);
}

static void
closed_cb (SoupWebsocketConnection *ws, gpointer data)
{
  SxSioConnection *c = data;
  gchar *reason = g_strdup_printf (
      "WebSocket closed (code %u%s%s)",
      soup_websocket_connection_get_close_code (ws),
      soup_websocket_connection_get_close_data (ws) ? ", " : "",
      soup_websocket_connection_get_close_data (ws)
          ? soup_websocket_connection_get_close_data (ws)
          : "");

  sx_sio_connection_lost (c, reason);
  g_free (reason);
}

static void
connected_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  SxSioOp *op = data;
  SxSioConnection *c = op->conn;
  GError *error = NULL;
  SoupWebsocketConnection *ws;
  gboolean live = sx_sio_op_finish (op);
  guint status = soup_message_get_status (op->msg);

  ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), res,
                                              &error);
  sx_sio_op_free (op);
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
      sx_sio_polling_open (c);
      return;
    }
    reason = g_strdup_printf ("WebSocket connection to %s failed: %s",
                              c->cfg.url, error->message);
    g_error_free (error);
    sx_sio_connection_lost (c, reason);
    g_free (reason);
    return;
  }
  c->ws = ws;
  c->polling = FALSE;
  /* Frames relayed to us must not exceed libsoup's 128 KiB default, or
   * libsoup closes the socket on them. */
  soup_websocket_connection_set_max_incoming_payload_size (
      ws, c->cfg.max_incoming_payload);
  /* The server pings; libsoup's own keepalive would only add traffic */
  soup_websocket_connection_set_keepalive_interval (ws, 0);
  g_signal_connect (ws, "message", G_CALLBACK (message_cb), c);
  g_signal_connect (ws, "error", G_CALLBACK (error_cb), c);
  g_signal_connect (ws, "closed", G_CALLBACK (closed_cb), c);
}

void
sx_sio_websocket_open (SxSioConnection *c)
{
  gchar *url = g_strdup_printf ("%s&transport=websocket", c->ws_base);
  SoupMessage *msg = sx_sio_connection_new_message (c, "GET", url);

  g_free (url);
  if (!msg) {
    sx_sio_connection_lost (c, "cannot build the WebSocket request");
    return;
  }
  soup_session_websocket_connect_async (c->session, msg, NULL, NULL,
                                        G_PRIORITY_DEFAULT, c->cancel,
                                        connected_cb, sx_sio_op_new (c, msg));
  g_object_unref (msg);
}

gboolean
sx_sio_websocket_send (SxSioConnection *c, SoupWebsocketDataType type,
                       GBytes *data)
{
  if (!c->ws
      || soup_websocket_connection_get_state (c->ws)
             != SOUP_WEBSOCKET_STATE_OPEN)
    return FALSE;
  soup_websocket_connection_send_message (c->ws, type, data);
  return TRUE;
}

static void
closed_after_close_cb (SoupWebsocketConnection *ws, gpointer data)
{
  SxSioConnection *c = data;

  g_signal_handlers_disconnect_by_data (ws, c);
  g_ptr_array_remove_fast (c->closing_ws, ws);
  g_object_unref (ws);
  if (c->stopping && c->closing_ws->len == 0 && !c->post_busy)
    g_main_loop_quit (c->loop);
}

void
sx_sio_websocket_close (SxSioConnection *c, gushort code)
{
  SoupWebsocketConnection *ws = c->ws;

  if (!ws)
    return;
  c->ws = NULL;
  g_signal_handlers_disconnect_by_data (ws, c);
  if (soup_websocket_connection_get_state (ws) == SOUP_WEBSOCKET_STATE_CLOSED) {
    g_object_unref (ws);
    return;
  }
  /* libsoup bounds the close handshake */
  g_ptr_array_add (c->closing_ws, ws);
  g_signal_connect (ws, "closed", G_CALLBACK (closed_after_close_cb), c);
  if (soup_websocket_connection_get_state (ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (ws, code, NULL);
}

void
sx_sio_websocket_forget_closing (SxSioConnection *c)
{
  guint i;

  for (i = 0; i < c->closing_ws->len; i++) {
    SoupWebsocketConnection *ws = g_ptr_array_index (c->closing_ws, i);

    g_signal_handlers_disconnect_by_data (ws, c);
    g_object_unref (ws);
  }
  g_ptr_array_set_size (c->closing_ws, 0);
}
