/* surveillx-gst — the Engine.IO v4 / Socket.IO v5 codec.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Pure functions: no socket, no thread, no global state, so they are
 * unit-tested and fuzzed on their own. Protocol facts this follows (checked
 * against python-engineio 4.3 and python-socketio 5.7, the versions behind
 * Flask-SocketIO in Debian 12) are in sioclient.c.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "eiocodec.h"

#include "sxjson.h"

#include <string.h>

GQuark
sx_eio_error_quark (void)
{
  return g_quark_from_static_string ("sx-eio-error-quark");
}

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

JsonNode *
sx_eio_json_parse (const gchar *text, gsize len, GError **error)
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
const gchar *
sx_eio_json_get_string (JsonNode *node, const gchar *name)
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
  root = sx_eio_json_parse (json, len, error);
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
    out->data = sx_eio_json_parse (p, end - p, error);
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
