/* libFuzzer target: the Engine.IO v4 / Socket.IO v5 codec
 * (plugins/socketiosink/eiocodec.c).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The input is what a server sends: one WebSocket text message
 * ("0{...}", "40/stream,{...}", "430[...]") or one long-polling body
 * (packets joined by 0x1e). Every parser sees it:
 *  - sx_eio_packet_parse(): type digit and the rest, exactly;
 *  - sx_eio_handshake_parse() on an OPEN packet's JSON: a sid, timeouts in
 *    1..86400000 ms, no negative maxPayload;
 *  - sx_sio_packet_parse() on a MESSAGE packet's data (and on the input as
 *    it is): a namespace that starts with '/', has no ',' and is UTF-8,
 *    attachments only on binary packets; then the round trip: encoding
 *    the parsed packet (sx_sio_packet_encode, data through JsonGenerator)
 *    and parsing it again gives the same packet;
 *  - sx_eio_payload_split(): re-joining its packets with
 *    sx_eio_payload_append() and splitting again gives the same packets;
 *  - sx_json_append_string() and sx_sio_packet_encode() as the client
 *    builds a frame event: for any valid UTF-8 string and any namespace
 *    the client accepts, the parsed packet gives both back.
 */
#include "eiocodec.h"
#include "fuzz-common.h"

#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_make_criticals_fatal ();
  return 0;
}

/* @len bytes in a block of their own, so ASan sees a read past them */
static gchar *
exact_copy (const gchar *text, gsize len)
{
  gchar *copy = g_malloc (len ? len : 1);
  memcpy (copy, text, len);
  return copy;
}

/* json-glib 1.6 writes a double as g_ascii_dtostr() does, plus ".0" when
 * there is no '.': 2e38 becomes "2e+38.0", infinity "inf.0", neither of
 * which it reads back. TRUE if @node holds such a double. */
static gboolean
has_unwritable_double (JsonNode *node)
{
  if (node == NULL)
    return FALSE;
  if (JSON_NODE_HOLDS_VALUE (node)) {
    if (json_node_get_value_type (node) != G_TYPE_DOUBLE)
      return FALSE;
    gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_dtostr (buf, sizeof (buf), json_node_get_double (node));
    return strpbrk (buf, "eEnN") != NULL;
  }
  if (JSON_NODE_HOLDS_ARRAY (node)) {
    JsonArray *a = json_node_get_array (node);
    for (guint i = 0; i < json_array_get_length (a); i++)
      if (has_unwritable_double (json_array_get_element (a, i)))
        return TRUE;
  } else if (JSON_NODE_HOLDS_OBJECT (node)) {
    g_autoptr (GList) members
        = json_object_get_values (json_node_get_object (node));
    for (GList *l = members; l; l = l->next)
      if (has_unwritable_double (l->data))
        return TRUE;
  }
  return FALSE;
}

static gchar *
to_json (JsonNode *node)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_root (gen, node);
  return json_generator_to_data (gen, NULL);
}

static void
check_sio_packet (const SxSioPacket *pkt)
{
  FUZZ_CHECK ((guint)pkt->type <= SX_SIO_PACKET_BINARY_ACK);
  FUZZ_CHECK (pkt->nsp != NULL && pkt->nsp[0] == '/');
  FUZZ_CHECK (strchr (pkt->nsp, ',') == NULL);
  FUZZ_CHECK (g_utf8_validate (pkt->nsp, -1, NULL));
  FUZZ_CHECK (pkt->ack_id >= -1);
  FUZZ_CHECK (pkt->attachments <= 1000);
  if (pkt->type != SX_SIO_PACKET_BINARY_EVENT
      && pkt->type != SX_SIO_PACKET_BINARY_ACK)
    FUZZ_CHECK (pkt->attachments == 0);
  if (pkt->type == SX_SIO_PACKET_EVENT
      || pkt->type == SX_SIO_PACKET_BINARY_EVENT) {
    FUZZ_CHECK (pkt->data && JSON_NODE_HOLDS_ARRAY (pkt->data));
    JsonArray *a = json_node_get_array (pkt->data);
    FUZZ_CHECK (json_array_get_length (a) >= 1);
    FUZZ_CHECK (json_node_get_value_type (json_array_get_element (a, 0))
                == G_TYPE_STRING);
  }
  if (pkt->type == SX_SIO_PACKET_ACK || pkt->type == SX_SIO_PACKET_BINARY_ACK)
    FUZZ_CHECK (pkt->ack_id >= 0 && pkt->data
                && JSON_NODE_HOLDS_ARRAY (pkt->data));
}

static void
check_sio (const gchar *text, gsize len)
{
  gchar *copy = exact_copy (text, len);
  SxSioPacket pkt;
  g_autoptr (GError) error = NULL;
  gboolean ok = sx_sio_packet_parse (copy, len, &pkt, &error);
  g_free (copy);
  FUZZ_CHECK (ok == (error == NULL));
  if (!ok) {
    FUZZ_CHECK (pkt.nsp == NULL && pkt.data == NULL);
    FUZZ_CHECK (error->domain == SX_EIO_ERROR);
    return;
  }
  check_sio_packet (&pkt);

  g_autofree gchar *json = pkt.data ? to_json (pkt.data) : NULL;
  /* No round trip where it cannot hold: a bare non-negative number after
   * the header is ambiguous in the protocol itself ("05": ack 5, or data
   * 5?); json-glib 1.6 writes some doubles it cannot read back (above),
   * and decodes a lone surrogate escape ("\udc00") into bytes that are
   * not UTF-8, which it then refuses to read back. */
  gboolean comparable = !(json && g_ascii_isdigit (json[0]))
                        && !has_unwritable_double (pkt.data)
                        && !(json && !g_utf8_validate (json, -1, NULL));
  if (comparable) {
    g_autofree gchar *enc = sx_sio_packet_encode (pkt.type, pkt.attachments,
                                                  pkt.nsp, pkt.ack_id, json);
    SxSioPacket again;
    g_autoptr (GError) error2 = NULL;
    if (!sx_sio_packet_parse (enc, strlen (enc), &again, &error2)) {
      fprintf (stderr, "re-encoded packet does not parse: %s\n  %s\n", enc,
               error2->message);
      FUZZ_CHECK (!"round trip parses");
    }
    FUZZ_CHECK (again.type == pkt.type);
    FUZZ_CHECK (again.attachments == pkt.attachments);
    FUZZ_CHECK (strcmp (again.nsp, pkt.nsp) == 0);
    FUZZ_CHECK (again.ack_id == pkt.ack_id);
    FUZZ_CHECK ((again.data == NULL) == (pkt.data == NULL));
    if (pkt.data)
      FUZZ_CHECK (json_node_equal (again.data, pkt.data));
    sx_sio_packet_clear (&again);
  }
  sx_sio_packet_clear (&pkt);
  FUZZ_CHECK (pkt.nsp == NULL && pkt.data == NULL && pkt.ack_id == -1);
}

static void
check_handshake (const gchar *json, gsize len)
{
  gchar *copy = exact_copy (json, len);
  SxEioHandshake hs;
  g_autoptr (GError) error = NULL;
  gboolean ok = sx_eio_handshake_parse (copy, len, &hs, &error);
  g_free (copy);
  FUZZ_CHECK (ok == (error == NULL));
  if (ok) {
    FUZZ_CHECK (hs.sid != NULL && hs.sid[0] != '\0');
    FUZZ_CHECK (hs.ping_interval_ms >= 1 && hs.ping_interval_ms <= 86400000);
    FUZZ_CHECK (hs.ping_timeout_ms >= 1 && hs.ping_timeout_ms <= 86400000);
    FUZZ_CHECK (hs.max_payload >= 0);
  } else {
    FUZZ_CHECK (hs.sid == NULL);
    FUZZ_CHECK (error->domain == SX_EIO_ERROR);
  }
  sx_eio_handshake_clear (&hs);
}

static void
check_payload (const gchar *payload, gsize len)
{
  gchar *copy = exact_copy (payload, len);
  GArray *binary = NULL;
  g_autoptr (GError) error = NULL;
  GPtrArray *packets = sx_eio_payload_split (copy, len, &binary, &error);
  g_free (copy);
  FUZZ_CHECK ((packets == NULL) == (error != NULL));
  if (!packets) {
    FUZZ_CHECK (binary == NULL);
    return;
  }
  FUZZ_CHECK (binary->len == packets->len);
  FUZZ_CHECK (len == 0 || packets->len >= 1);

  GString *joined = g_string_new (NULL);
  for (guint i = 0; i < packets->len; i++) {
    gsize n;
    const guint8 *p = g_bytes_get_data (g_ptr_array_index (packets, i), &n);
    gboolean is_bin = g_array_index (binary, gboolean, i);
    if (!is_bin) {
      /* a text packet is a whole non-empty segment */
      FUZZ_CHECK (n > 0 && p[0] != 'b');
      FUZZ_CHECK (memchr (p, SX_EIO_RECORD_SEPARATOR, n) == NULL);
    }
    sx_eio_payload_append (joined, p, n, is_bin);
  }
  GArray *binary2 = NULL;
  g_autoptr (GError) error2 = NULL;
  GPtrArray *packets2
      = sx_eio_payload_split (joined->str, joined->len, &binary2, &error2);
  FUZZ_CHECK (packets2 != NULL);
  FUZZ_CHECK (packets2->len == packets->len);
  for (guint i = 0; i < packets->len; i++) {
    FUZZ_CHECK (g_bytes_equal (g_ptr_array_index (packets, i),
                               g_ptr_array_index (packets2, i)));
    FUZZ_CHECK (g_array_index (binary, gboolean, i)
                == g_array_index (binary2, gboolean, i));
  }
  g_string_free (joined, TRUE);
  g_ptr_array_unref (packets2);
  g_array_unref (binary2);
  g_ptr_array_unref (packets);
  g_array_unref (binary);
}

/* The client's frame event, "42/nsp,7[\"frame\",{\"camera_id\":<s>}]" or its
 * binary form, built from the input as the element builds it. */
static void
check_encode (const guint8 *data, size_t size)
{
  if (size < 2)
    return;
  guint8 flags = data[0];
  g_autofree gchar *raw = g_strndup ((const gchar *)data + 1, size - 1);
  g_autofree gchar *s = g_utf8_make_valid (raw, -1);

  /* a namespace the client accepts: '/', no ',', UTF-8 */
  GString *nsp = g_string_new ("/");
  if (flags & 1) {
    for (const gchar *p = s; *p && nsp->len < 40; p++)
      if (*p != ',')
        g_string_append_c (nsp, *p);
    /* do not cut a character in two */
    while (!g_utf8_validate (nsp->str, nsp->len, NULL))
      g_string_truncate (nsp, nsp->len - 1);
  }
  gboolean bin = (flags & 2) != 0;
  gint64 ack_id = (flags & 4) ? (gint64)(flags >> 3) * 1000003 : -1;

  GString *json = g_string_new ("[");
  sx_json_append_string (json, "frame");
  g_string_append (json, ",{\"camera_id\":");
  sx_json_append_string (json, s);
  if (bin)
    g_string_append (json, "},{\"_placeholder\":true,\"num\":0}]");
  else
    g_string_append (json, "}]");

  g_autofree gchar *enc = sx_sio_packet_encode (
      bin ? SX_SIO_PACKET_BINARY_EVENT : SX_SIO_PACKET_EVENT, bin ? 1 : 0,
      nsp->str, ack_id, json->str);
  SxSioPacket pkt;
  g_autoptr (GError) error = NULL;
  if (!sx_sio_packet_parse (enc, strlen (enc), &pkt, &error)) {
    fprintf (stderr, "encoded event does not parse: %s\n  %s\n", enc,
             error->message);
    FUZZ_CHECK (!"encoded event parses");
  }
  check_sio_packet (&pkt);
  FUZZ_CHECK (pkt.type
              == (bin ? SX_SIO_PACKET_BINARY_EVENT : SX_SIO_PACKET_EVENT));
  FUZZ_CHECK (pkt.attachments == (bin ? 1u : 0u));
  FUZZ_CHECK (strcmp (pkt.nsp, nsp->str) == 0);
  FUZZ_CHECK (pkt.ack_id == ack_id);
  JsonArray *a = json_node_get_array (pkt.data);
  FUZZ_CHECK (json_array_get_length (a) == (bin ? 3u : 2u));
  FUZZ_CHECK (strcmp (json_array_get_string_element (a, 0), "frame") == 0);
  JsonObject *o = json_array_get_object_element (a, 1);
  FUZZ_CHECK (o != NULL);
  const gchar *back = json_object_get_string_member (o, "camera_id");
  FUZZ_CHECK (back != NULL && strcmp (back, s) == 0);
  sx_sio_packet_clear (&pkt);
  g_string_free (json, TRUE);
  g_string_free (nsp, TRUE);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  const gchar *text = (const gchar *)data;
  SxEioPacketType type;
  const gchar *pdata = NULL;
  gsize pdata_len = 0;
  g_autoptr (GError) error = NULL;

  gboolean ok
      = sx_eio_packet_parse (text, size, &type, &pdata, &pdata_len, &error);
  FUZZ_CHECK (ok == (size >= 1 && text[0] >= '0' && text[0] <= '6'));
  FUZZ_CHECK (ok == (error == NULL));
  if (ok) {
    FUZZ_CHECK ((gint)type == text[0] - '0');
    FUZZ_CHECK (pdata == text + 1 && pdata_len == size - 1);
    if (type == SX_EIO_PACKET_OPEN)
      check_handshake (pdata, pdata_len);
    else if (type == SX_EIO_PACKET_MESSAGE)
      check_sio (pdata, pdata_len);
  }
  /* the same bytes as a bare handshake and a bare Socket.IO packet */
  if (size > 0 && text[0] == '{')
    check_handshake (text, size);
  check_sio (text, size);
  check_payload (text, size);
  check_encode (data, size);
  return 0;
}
