/* POST /offer: the aiortc JSON offer, as the Windows client sends it
 * (non-trickle), and the reading of JSON offers FastRTC's route shares.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "signaling-private.h"

#include "offerjson.h"
#include "sxjson.h"

#include <string.h>

JsonObject *
signaling_read_json_object (SxSignaling *sig, SoupServerMessage *msg,
                            OfferStyle style, JsonParser *parser)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  if ((gsize)body->length > sig->options.max_body) {
    signaling_reject (
        sig, msg, style, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large",
        "request body over the limit of %" G_GSIZE_FORMAT " bytes",
        sig->options.max_body);
    return NULL;
  }
  g_autoptr (GError) error = NULL;
  /* json-glib recurses per level and accepts comments: plain JSON with
   * bounded nesting only */
  if (!sx_json_check (body->data, body->length, SX_JSON_MAX_DEPTH, &error)) {
    signaling_reject (sig, msg, style, SOUP_STATUS_BAD_REQUEST,
                      "malformed_json", "malformed JSON: %s", error->message);
    return NULL;
  }
  if (body->length == 0
      || !json_parser_load_from_data (parser, body->data, body->length,
                                      &error)) {
    signaling_reject (sig, msg, style, SOUP_STATUS_BAD_REQUEST,
                      "malformed_json", "malformed JSON: %s",
                      error ? error->message : "empty body");
    return NULL;
  }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    signaling_reject (sig, msg, style, SOUP_STATUS_BAD_REQUEST,
                      "malformed_json", "malformed JSON: expected an object");
    return NULL;
  }
  return json_node_get_object (root);
}

gboolean
signaling_read_json_offer (SxSignaling *sig, SoupServerMessage *msg,
                           OfferStyle style, JsonObject *obj,
                           const gchar **sdp_text, gchar **camera_id)
{
  const gchar *type;
  if (!sx_offer_json_string (obj, "type", &type)
      || !sx_offer_json_string (obj, "sdp", sdp_text)) {
    signaling_reject (sig, msg, style, SOUP_STATUS_BAD_REQUEST,
                      "malformed_json", "\"type\" and \"sdp\" must be strings");
    return FALSE;
  }
  if (!sx_offer_json_camera_id (obj, camera_id)) {
    signaling_reject (sig, msg, style, SOUP_STATUS_BAD_REQUEST, "bad_camera_id",
                      "\"camera_id\" must be a string or an integer");
    return FALSE;
  }
  if (g_strcmp0 (type, "offer") != 0) {
    signaling_reject (sig, msg, style, SOUP_STATUS_BAD_REQUEST,
                      "malformed_json", "\"type\" must be \"offer\"");
    return FALSE;
  }
  if (*sdp_text == NULL) {
    signaling_reject (sig, msg, style, SOUP_STATUS_BAD_REQUEST, "malformed_sdp",
                      "missing \"sdp\"");
    return FALSE;
  }
  return TRUE;
}

/* JSON routes take application/json only: a form or text/plain POST is
 * what any web page can send without asking (no CORS preflight). */
gboolean
signaling_require_json (SxSignaling *sig, SoupServerMessage *msg,
                        OfferStyle style)
{
  if (signaling_content_type_is (msg, "application/json"))
    return TRUE;
  signaling_reject (sig, msg, style, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
                    "malformed_json", "send the body as application/json");
  return FALSE;
}

/* POST /offer {"sdp","type":"offer","camera_id"?} -> {"sdp","type"} */
void
signaling_handle_offer (SxSignaling *sig, SoupServerMessage *msg)
{
  if (!signaling_require_method (sig, msg, "POST")
      || !signaling_require_json (sig, msg, STYLE_AIORTC))
    return;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *obj = signaling_read_json_object (sig, msg, STYLE_AIORTC, parser);
  const gchar *sdp_text;
  g_autofree gchar *camera_id = NULL;
  if (obj == NULL
      || !signaling_read_json_offer (sig, msg, STYLE_AIORTC, obj, &sdp_text,
                                     &camera_id))
    return;
  if (camera_id == NULL) {
    /* a camera's own token names it; else a fresh id */
    const gchar *own = sx_identity_camera (signaling_identity_of (msg));
    g_autofree gchar *random = sx_random_id ();
    camera_id = own ? g_strdup (own) : g_strdup_printf ("cam-%.16s", random);
  }
  signaling_start_camera (sig, msg, STYLE_AIORTC, camera_id, sdp_text, NULL);
}
