/* surveillx-gst — the Engine.IO long-polling transport: a GET always
 * waiting for the server's packets, POSTs carrying ours in batches.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "sioconnection.h"

static void post_flush (SxSioConnection *c);

static gsize
base64_size (gsize n)
{
  return (n + 2) / 3 * 4;
}

void
sx_sio_poll_item_free (SxSioPollItem *item)
{
  g_bytes_unref (item->data);
  g_free (item);
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
send_and_read_bounded_async (SxSioConnection *c, SoupMessage *msg,
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

static gchar *
polling_url (SxSioConnection *c)
{
  /* t= defeats caches between us and the server, as browsers' clients do */
  return g_strdup_printf ("%s&transport=polling&t=%" G_GINT64_FORMAT "%s%s",
                          c->http_base, g_get_real_time (),
                          c->hs.sid ? "&sid=" : "", c->hs.sid ? c->hs.sid : "");
}

static gboolean
handle_poll_payload (SxSioConnection *c, GBytes *body)
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
    sx_sio_connection_lost (c, reason);
    g_free (reason);
    return FALSE;
  }
  for (i = 0; i < packets->len && alive; i++) {
    GBytes *pkt = g_ptr_array_index (packets, i);
    gsize plen;
    const gchar *p = g_bytes_get_data (pkt, &plen);

    if (g_array_index (binary, gboolean, i))
      continue;
    alive = sx_sio_connection_receive (c, p, plen);
  }
  g_ptr_array_unref (packets);
  g_array_unref (binary);
  return alive;
}

/* The end of one polling request, @op's. FALSE: the connection was torn
 * down meanwhile and nothing is left to do. TRUE: either @body holds a 200
 * response's body, or @failure says why there is none (free both). */
static gboolean
finish_request (GAsyncResult *res, SxSioOp *op, GBytes **body, gchar **failure)
{
  GError *error = NULL;
  gboolean live = sx_sio_op_finish (op);
  GBytes *received = send_and_read_bounded_finish (res, &error);
  guint status = soup_message_get_status (op->msg);

  sx_sio_op_free (op);
  *body = NULL;
  *failure = NULL;
  if (live && received && status == SOUP_STATUS_OK)
    *body = g_steal_pointer (&received);
  else if (live)
    *failure
        = g_strdup (error ? error->message : soup_status_get_phrase (status));
  g_clear_error (&error);
  if (received)
    g_bytes_unref (received);
  return live;
}

static void
poll_get_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  SxSioConnection *c = ((SxSioOp *)data)->conn;
  GBytes *body;
  gchar *failure;

  if (!finish_request (res, data, &body, &failure))
    return;
  c->get_busy = FALSE;
  if (failure) {
    gchar *reason = g_strdup_printf ("polling GET failed: %s", failure);

    sx_sio_connection_lost (c, reason);
    g_free (reason);
    g_free (failure);
    return;
  }
  if (handle_poll_payload (c, body))
    sx_sio_polling_get (c);
  g_bytes_unref (body);
}

void
sx_sio_polling_get (SxSioConnection *c)
{
  gchar *url;
  SoupMessage *msg;

  if (c->get_busy || !c->polling)
    return;
  url = polling_url (c);
  msg = sx_sio_connection_new_message (c, "GET", url);
  g_free (url);
  c->get_busy = TRUE;
  send_and_read_bounded_async (c, msg, poll_get_cb, sx_sio_op_new (c, msg));
  g_object_unref (msg);
}

static void
poll_post_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  SxSioConnection *c = ((SxSioOp *)data)->conn;
  GBytes *body;
  gchar *failure;

  if (!finish_request (res, data, &body, &failure))
    return;
  if (body) /* "ok" */
    g_bytes_unref (body);
  c->post_busy = FALSE;
  if (failure) {
    gchar *reason = g_strdup_printf ("polling POST failed: %s", failure);

    g_free (failure);
    if (c->stopping)
      g_main_loop_quit (c->loop);
    else
      sx_sio_connection_lost (c, reason);
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
post_flush (SxSioConnection *c)
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
  while (n < SX_SIO_POLLING_MAX_PACKETS) {
    SxSioPollItem *item = g_queue_peek_head (&c->poll_out);
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
    sx_sio_poll_item_free (item);
    n++;
  }
  url = polling_url (c);
  msg = sx_sio_connection_new_message (c, "POST", url);
  g_free (url);
  bytes = g_string_free_to_bytes (body);
  soup_message_set_request_body_from_bytes (msg, "text/plain;charset=UTF-8",
                                            bytes);
  g_bytes_unref (bytes);
  c->post_busy = TRUE;
  send_and_read_bounded_async (c, msg, poll_post_cb, sx_sio_op_new (c, msg));
  g_object_unref (msg);
}

static void
poll_open_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  SxSioConnection *c = ((SxSioOp *)data)->conn;
  GBytes *body;
  gchar *failure;

  if (!finish_request (res, data, &body, &failure))
    return;
  if (failure) {
    gchar *reason = g_strdup_printf ("polling handshake with %s failed: %s",
                                     c->cfg.url, failure);

    sx_sio_connection_lost (c, reason);
    g_free (reason);
    g_free (failure);
    return;
  }
  c->polling = TRUE;
  /* The first packet is OPEN: it sets the sid that every later request
   * carries, and queues the namespace connect for the first POST. */
  if (handle_poll_payload (c, body)) {
    if (!c->opened)
      sx_sio_connection_lost (c, "polling handshake without an open packet");
    else
      sx_sio_polling_get (c);
  }
  g_bytes_unref (body);
}

void
sx_sio_polling_open (SxSioConnection *c)
{
  gchar *url;
  SoupMessage *msg;

  sx_eio_handshake_clear (&c->hs);
  url = polling_url (c);
  msg = sx_sio_connection_new_message (c, "GET", url);
  g_free (url);
  send_and_read_bounded_async (c, msg, poll_open_cb, sx_sio_op_new (c, msg));
  g_object_unref (msg);
}

void
sx_sio_polling_queue (SxSioConnection *c, GBytes *data, gboolean binary)
{
  SxSioPollItem *item = g_new0 (SxSioPollItem, 1);

  item->data = g_bytes_ref (data);
  item->binary = binary;
  g_queue_push_tail (&c->poll_out, item);
  post_flush (c);
}
