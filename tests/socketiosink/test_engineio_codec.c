/* surveillx-gst — unit tests of the Engine.IO / Socket.IO packet codec.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The wire samples are the ones python-engineio 4.3 / python-socketio 5.7
 * produce (see issue 3); the malformed ones are what a fuzzer finds first.
 */
#include "sioclient.h"

#include <string.h>

static void
test_eio_packet (void)
{
  SxEioPacketType type;
  const gchar *data;
  gsize len;
  GError *error = NULL;

  g_assert_true (sx_eio_packet_parse ("2", 1, &type, &data, &len, &error));
  g_assert_no_error (error);
  g_assert_cmpint (type, ==, SX_EIO_PACKET_PING);
  g_assert_cmpuint (len, ==, 0);

  g_assert_true (
      sx_eio_packet_parse ("42/stream,[\"x\"]", 15, &type, &data, &len, NULL));
  g_assert_cmpint (type, ==, SX_EIO_PACKET_MESSAGE);
  g_assert_cmpmem (data, len, "2/stream,[\"x\"]", 14);

  g_assert_false (sx_eio_packet_parse ("", 0, &type, &data, &len, &error));
  g_assert_error (error, SX_EIO_ERROR, SX_EIO_ERROR_MALFORMED);
  g_clear_error (&error);
  g_assert_false (sx_eio_packet_parse ("7", 1, &type, &data, &len, NULL));
  g_assert_false (sx_eio_packet_parse ("x", 1, &type, &data, &len, NULL));
}

static void
test_handshake (void)
{
  const gchar *open
      = "{\"sid\":\"h-ekbWlWGV5SSOwHAAAA\",\"upgrades\":"
        "[\"websocket\"],\"pingTimeout\":20000,\"pingInterval\":25000}";
  SxEioHandshake hs;
  GError *error = NULL;

  g_assert_true (sx_eio_handshake_parse (open, strlen (open), &hs, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (hs.sid, ==, "h-ekbWlWGV5SSOwHAAAA");
  g_assert_cmpint (hs.ping_interval_ms, ==, 25000);
  g_assert_cmpint (hs.ping_timeout_ms, ==, 20000);
  g_assert_cmpint (hs.max_payload, ==, 0); /* engineio 4.3 sends none */
  g_assert_true (hs.websocket_upgrade);
  sx_eio_handshake_clear (&hs);

  /* Threading mode without simple-websocket: no upgrades */
  open = "{\"sid\":\"a\",\"upgrades\":[],\"pingTimeout\":5,"
         "\"pingInterval\":7,\"maxPayload\":1000000}";
  g_assert_true (sx_eio_handshake_parse (open, strlen (open), &hs, NULL));
  g_assert_false (hs.websocket_upgrade);
  g_assert_cmpint (hs.max_payload, ==, 1000000);
  sx_eio_handshake_clear (&hs);

  {
    const gchar *bad[] = {
      "",
      "[]",
      "{}",
      "{\"sid\":\"\"}",
      "{\"sid\":1,\"pingTimeout\":1,"
      "\"pingInterval\":1}",
      "{\"sid\":\"a\",\"pingTimeout\":-1,\"pingInterval\":1}",
      "{\"sid\":\"a\",\"pingTimeout\":\"1\",\"pingInterval\":1}",
      "{\"sid\":\"a\",\"pingTimeout\":1",
      "null",
    };
    guint i;

    for (i = 0; i < G_N_ELEMENTS (bad); i++) {
      g_assert_false (
          sx_eio_handshake_parse (bad[i], strlen (bad[i]), &hs, &error));
      g_assert_error (error, SX_EIO_ERROR, SX_EIO_ERROR_MALFORMED);
      g_clear_error (&error);
      g_assert_null (hs.sid);
    }
  }
}

static void
test_sio_parse (void)
{
  SxSioPacket p;
  GError *error = NULL;
  const gchar *s;

  s = "0/stream,{\"sid\":\"abc\"}";
  g_assert_true (sx_sio_packet_parse (s, strlen (s), &p, &error));
  g_assert_no_error (error);
  g_assert_cmpint (p.type, ==, SX_SIO_PACKET_CONNECT);
  g_assert_cmpstr (p.nsp, ==, "/stream");
  g_assert_cmpint (p.ack_id, ==, -1);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (p.data));
  g_assert_cmpstr (
      json_object_get_string_member (json_node_get_object (p.data), "sid"), ==,
      "abc");
  sx_sio_packet_clear (&p);

  s = "4/stream,{\"message\":\"bad token\"}";
  g_assert_true (sx_sio_packet_parse (s, strlen (s), &p, NULL));
  g_assert_cmpint (p.type, ==, SX_SIO_PACKET_CONNECT_ERROR);
  sx_sio_packet_clear (&p);

  s = "3/stream,17[\"ok\"]";
  g_assert_true (sx_sio_packet_parse (s, strlen (s), &p, NULL));
  g_assert_cmpint (p.type, ==, SX_SIO_PACKET_ACK);
  g_assert_cmpint (p.ack_id, ==, 17);
  sx_sio_packet_clear (&p);

  /* Root namespace: no nsp, ack id straight after the type */
  s = "312[]";
  g_assert_true (sx_sio_packet_parse (s, strlen (s), &p, NULL));
  g_assert_cmpstr (p.nsp, ==, "/");
  g_assert_cmpint (p.ack_id, ==, 12);
  sx_sio_packet_clear (&p);

  s = "2[\"frame\",{\"a\":1}]";
  g_assert_true (sx_sio_packet_parse (s, strlen (s), &p, NULL));
  g_assert_cmpint (p.type, ==, SX_SIO_PACKET_EVENT);
  g_assert_cmpint (p.ack_id, ==, -1);
  sx_sio_packet_clear (&p);

  s = "51-/stream,[\"frame\",{\"frame\":{\"_placeholder\":true,\"num\":0}}]";
  g_assert_true (sx_sio_packet_parse (s, strlen (s), &p, NULL));
  g_assert_cmpint (p.type, ==, SX_SIO_PACKET_BINARY_EVENT);
  g_assert_cmpuint (p.attachments, ==, 1);
  g_assert_cmpstr (p.nsp, ==, "/stream");
  sx_sio_packet_clear (&p);

  s = "1/stream,";
  g_assert_true (sx_sio_packet_parse (s, strlen (s), &p, NULL));
  g_assert_cmpint (p.type, ==, SX_SIO_PACKET_DISCONNECT);
  g_assert_null (p.data);
  sx_sio_packet_clear (&p);

  {
    const gchar *bad[] = {
      "",
      "9",
      "2",
      "2{}",
      "2[]",
      "2[1]",
      "3/stream,[]",
      "3/stream,1{}",
      "5[\"x\"]",
      "5x-[\"x\"]",
      "599999-[\"x\"]",
      "2/stream,[\"x\"",
      "31234567890123456789[]",
      "2/stream,[\"x\"]garbage",
    };
    guint i;

    for (i = 0; i < G_N_ELEMENTS (bad); i++) {
      g_assert_false (
          sx_sio_packet_parse (bad[i], strlen (bad[i]), &p, &error));
      g_assert_error (error, SX_EIO_ERROR, SX_EIO_ERROR_MALFORMED);
      g_clear_error (&error);
      g_assert_null (p.nsp);
      g_assert_null (p.data);
    }
  }
}

static void
test_sio_encode (void)
{
  gchar *s;
  GString *g;

  s = sx_sio_packet_encode (SX_SIO_PACKET_CONNECT, 0, "/stream", -1,
                            "{\"token\":\"x\"}");
  g_assert_cmpstr (s, ==, "0/stream,{\"token\":\"x\"}");
  g_free (s);
  s = sx_sio_packet_encode (SX_SIO_PACKET_CONNECT, 0, "/", -1, NULL);
  g_assert_cmpstr (s, ==, "0");
  g_free (s);
  s = sx_sio_packet_encode (SX_SIO_PACKET_EVENT, 0, "/stream", 17,
                            "[\"frame\",{}]");
  g_assert_cmpstr (s, ==, "2/stream,17[\"frame\",{}]");
  g_free (s);
  s = sx_sio_packet_encode (SX_SIO_PACKET_BINARY_EVENT, 1, "/stream", 3,
                            "[\"f\"]");
  g_assert_cmpstr (s, ==, "51-/stream,3[\"f\"]");
  g_free (s);
  s = sx_sio_packet_encode (SX_SIO_PACKET_DISCONNECT, 0, "/stream", -1, NULL);
  g_assert_cmpstr (s, ==, "1/stream,");
  g_free (s);

  g = g_string_new (NULL);
  sx_json_append_string (g, "a\"b\\c\n\x01é");
  g_assert_cmpstr (g->str, ==, "\"a\\\"b\\\\c\\n\\u0001é\"");
  g_string_free (g, TRUE);
}

/* Whatever we encode, we parse back identically */
static void
test_sio_roundtrip (void)
{
  const gchar *nsps[] = { "/", "/stream", "/a/b" };
  const gint64 ids[] = { -1, 0, 1, 999999999999LL };
  guint i, j, t;

  for (i = 0; i < G_N_ELEMENTS (nsps); i++)
    for (j = 0; j < G_N_ELEMENTS (ids); j++)
      for (t = SX_SIO_PACKET_EVENT; t <= SX_SIO_PACKET_BINARY_EVENT;
           t += SX_SIO_PACKET_BINARY_EVENT - SX_SIO_PACKET_EVENT) {
        guint att = t == SX_SIO_PACKET_BINARY_EVENT ? 2 : 0;
        gchar *s = sx_sio_packet_encode (t, att, nsps[i], ids[j],
                                         "[\"frame\",{\"n\":1}]");
        SxSioPacket p;

        g_assert_true (sx_sio_packet_parse (s, strlen (s), &p, NULL));
        g_assert_cmpint (p.type, ==, t);
        g_assert_cmpstr (p.nsp, ==, nsps[i]);
        g_assert_cmpint (p.ack_id, ==, ids[j]);
        g_assert_cmpuint (p.attachments, ==, att);
        sx_sio_packet_clear (&p);
        g_free (s);
      }
}

static void
test_payload (void)
{
  const guint8 bin[] = { 0xff, 0xd8, 0x00, 0x1e, 0xff, 0xd9 };
  GString *payload = g_string_new (NULL);
  GArray *is_binary = NULL;
  GPtrArray *packets;
  GError *error = NULL;
  gsize len;
  const guint8 *data;

  sx_eio_payload_append (payload, (const guint8 *)"40/stream,", 10, FALSE);
  sx_eio_payload_append (payload, bin, sizeof (bin), TRUE);
  sx_eio_payload_append (payload, (const guint8 *)"3", 1, FALSE);
  g_assert_cmpmem (payload->str, payload->len,
                   "40/stream,\x1e"
                   "b/9gAHv/Z\x1e"
                   "3",
                   22);

  packets
      = sx_eio_payload_split (payload->str, payload->len, &is_binary, &error);
  g_assert_no_error (error);
  g_assert_nonnull (packets);
  g_assert_cmpuint (packets->len, ==, 3);
  g_assert_false (g_array_index (is_binary, gboolean, 0));
  g_assert_true (g_array_index (is_binary, gboolean, 1));
  data = g_bytes_get_data (g_ptr_array_index (packets, 1), &len);
  g_assert_cmpmem (data, len, bin, sizeof (bin));
  data = g_bytes_get_data (g_ptr_array_index (packets, 2), &len);
  g_assert_cmpmem (data, len, "3", 1);
  g_ptr_array_unref (packets);
  g_array_unref (is_binary);
  g_string_free (payload, TRUE);

  packets = sx_eio_payload_split ("", 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (packets->len, ==, 0);
  g_ptr_array_unref (packets);

  {
    const gchar *bad[] = { "\x1e",
                           "2\x1e",
                           "\x1e"
                           "2",
                           "2\x1e\x1e"
                           "3",
                           "b!!",
                           "2\x1e"
                           "b=*" };
    guint i;

    for (i = 0; i < G_N_ELEMENTS (bad); i++) {
      packets = sx_eio_payload_split (bad[i], strlen (bad[i]), NULL, &error);
      g_assert_null (packets);
      g_assert_error (error, SX_EIO_ERROR, SX_EIO_ERROR_MALFORMED);
      g_clear_error (&error);
    }
  }
}

/* A URL the client cannot use is refused before any I/O, naming it */
static void
test_client_bad_config (void)
{
  const gchar *urls[]
      = { "ftp://127.0.0.1/", "not a url", "http://", "http:///socket.io/" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (urls); i++) {
    SxSioConfig cfg = { 0 };
    GError *error = NULL;
    SxSioClient *client;

    cfg.url = (gchar *)urls[i];
    cfg.nsp = (gchar *)"/stream";
    client = sx_sio_client_new (&cfg, NULL, NULL, &error);
    g_assert_null (client);
    g_assert_error (error, SX_EIO_ERROR, SX_EIO_ERROR_URL);
    g_assert_nonnull (strstr (error->message, urls[i]));
    g_clear_error (&error);
  }

  {
    SxSioConfig cfg = { 0 };
    GError *error = NULL;

    cfg.url = (gchar *)"http://127.0.0.1:1";
    cfg.nsp = (gchar *)"stream";
    g_assert_null (sx_sio_client_new (&cfg, NULL, NULL, &error));
    g_assert_error (error, SX_EIO_ERROR, SX_EIO_ERROR_URL);
    g_clear_error (&error);
    cfg.nsp = (gchar *)"/stream";
    cfg.auth_json = (gchar *)"[1]";
    g_assert_null (sx_sio_client_new (&cfg, NULL, NULL, &error));
    g_assert_error (error, SX_EIO_ERROR, SX_EIO_ERROR_URL);
    g_clear_error (&error);
  }
}

/* A client that never reaches a server (nothing listens on 127.0.0.1:1)
 * gives up after its attempts, drops what is emitted, and frees cleanly. */
static void
test_client_gives_up (void)
{
  SxSioConfig cfg = { 0 };
  GError *error = NULL;
  SxSioClient *client;
  SxSioStats stats;

  cfg.url = (gchar *)"ws://127.0.0.1:1";
  cfg.nsp = (gchar *)"/stream";
  cfg.event = (gchar *)"frame";
  cfg.reconnect_delay_ms = 10;
  cfg.reconnect_max_delay_ms = 20;
  cfg.reconnect_attempts = 2;
  cfg.max_in_flight = 4;
  cfg.max_message_size = 1000;
  client = sx_sio_client_new (&cfg, NULL, NULL, &error);
  g_assert_no_error (error);
  sx_sio_client_start (client);
  g_assert_false (sx_sio_client_wait_connected (client, 10000, &error));
  g_assert_error (error, SX_EIO_ERROR, SX_EIO_ERROR_GAVE_UP);
  g_assert_nonnull (strstr (error->message, "ws://127.0.0.1:1"));
  g_clear_error (&error);
  g_assert_cmpint (sx_sio_client_emit (client, "{}", 2, NULL), ==,
                   SX_SIO_EMIT_DROPPED_DISCONNECTED);
  sx_sio_client_get_stats (client, &stats);
  g_assert_cmpuint (stats.dropped_disconnected, ==, 1);
  g_assert_false (stats.connected);
  g_assert_nonnull (stats.last_error);
  sx_sio_stats_clear (&stats);
  sx_sio_client_free (client);
}

static SxSioClient *
sharing_client (const gchar *auth, gboolean exclusive, const gchar *event)
{
  SxSioConfig cfg = { 0 };
  GError *error = NULL;
  SxSioClient *client;

  /* nothing listens on 127.0.0.1:1: the connection keeps retrying */
  cfg.url = (gchar *)"ws://127.0.0.1:1";
  cfg.nsp = (gchar *)"/stream";
  cfg.event = (gchar *)event;
  cfg.auth_json = (gchar *)auth;
  cfg.exclusive = exclusive;
  cfg.reconnect_delay_ms = 50;
  cfg.reconnect_max_delay_ms = 100;
  cfg.reconnect_attempts = -1;
  cfg.max_message_size = 1000;
  client = sx_sio_client_new (&cfg, NULL, NULL, &error);
  g_assert_no_error (error);
  sx_sio_client_start (client);
  return client;
}

static guint
shared_by (SxSioClient *client)
{
  SxSioStats stats;
  guint n;

  sx_sio_client_get_stats (client, &stats);
  n = stats.shared_by;
  sx_sio_stats_clear (&stats);
  return n;
}

/* Clients with the same connection settings share one connection, whatever
 * their own (event, window); other auth or `exclusive` get their own; one
 * leaving keeps the connection for the rest. */
static void
test_client_sharing (void)
{
  SxSioClient *a = sharing_client ("{\"token\":\"t\"}", FALSE, "frame");
  SxSioClient *b = sharing_client ("{\"token\":\"t\"}", FALSE, "other");
  SxSioClient *other_auth
      = sharing_client ("{\"token\":\"u\"}", FALSE, "frame");
  SxSioClient *own = sharing_client ("{\"token\":\"t\"}", TRUE, "frame");
  SxSioClient *c;

  g_assert_cmpuint (shared_by (a), ==, 2);
  g_assert_cmpuint (shared_by (b), ==, 2);
  g_assert_cmpuint (shared_by (other_auth), ==, 1);
  g_assert_cmpuint (shared_by (own), ==, 1);
  c = sharing_client ("{\"token\":\"t\"}", FALSE, "frame");
  g_assert_cmpuint (shared_by (a), ==, 3);
  sx_sio_client_free (b);
  g_assert_cmpuint (shared_by (a), ==, 2);
  g_assert_cmpuint (shared_by (c), ==, 2);
  sx_sio_client_free (a);
  sx_sio_client_free (c);
  /* the connection went with its last client: a new one starts alone */
  a = sharing_client ("{\"token\":\"t\"}", FALSE, "frame");
  g_assert_cmpuint (shared_by (a), ==, 1);
  sx_sio_client_free (a);
  sx_sio_client_free (other_auth);
  sx_sio_client_free (own);
}

/* A connection that gave up is not handed to newcomers */
static void
test_client_after_give_up (void)
{
  SxSioConfig cfg = { 0 };
  GError *error = NULL;
  SxSioClient *first, *second;

  cfg.url = (gchar *)"ws://127.0.0.1:1";
  cfg.nsp = (gchar *)"/stream";
  cfg.reconnect_delay_ms = 10;
  cfg.reconnect_max_delay_ms = 20;
  cfg.reconnect_attempts = 1;
  cfg.max_message_size = 1000;
  first = sx_sio_client_new (&cfg, NULL, NULL, &error);
  sx_sio_client_start (first);
  g_assert_false (sx_sio_client_wait_connected (first, 10000, &error));
  g_assert_error (error, SX_EIO_ERROR, SX_EIO_ERROR_GAVE_UP);
  g_clear_error (&error);
  second = sx_sio_client_new (&cfg, NULL, NULL, &error);
  sx_sio_client_start (second);
  g_assert_cmpuint (shared_by (first), ==, 1);
  g_assert_cmpuint (shared_by (second), ==, 1);
  /* and it tries (and here fails) on its own */
  g_assert_false (sx_sio_client_wait_connected (second, 10000, &error));
  g_assert_error (error, SX_EIO_ERROR, SX_EIO_ERROR_GAVE_UP);
  g_clear_error (&error);
  sx_sio_client_free (first);
  sx_sio_client_free (second);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engineio/packet", test_eio_packet);
  g_test_add_func ("/engineio/handshake", test_handshake);
  g_test_add_func ("/engineio/payload", test_payload);
  g_test_add_func ("/socketio/parse", test_sio_parse);
  g_test_add_func ("/socketio/encode", test_sio_encode);
  g_test_add_func ("/socketio/roundtrip", test_sio_roundtrip);
  g_test_add_func ("/client/bad-config", test_client_bad_config);
  g_test_add_func ("/client/gives-up", test_client_gives_up);
  g_test_add_func ("/client/sharing", test_client_sharing);
  g_test_add_func ("/client/after-give-up", test_client_after_give_up);
  return g_test_run ();
}
