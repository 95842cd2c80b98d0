/* POST /webrtc/offer: FastRTC's route, for offers and trickled ICE
 * candidates, with FastRTC's failure shape.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "signaling-private.h"

#include "offerjson.h"
#include "pipefile.h"
#include "sdpfrag.h"

#include <string.h>

static Peer *
find_fastrtc_peer (SxSignaling *sig, const gchar *webrtc_id)
{
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init (&it, sig->peers);
  while (g_hash_table_iter_next (&it, NULL, &v)) {
    Peer *peer = v;
    if (peer->style == STYLE_FASTRTC
        && g_strcmp0 (peer->session, webrtc_id) == 0)
      return peer;
  }
  return NULL;
}

/* {"type":"ice-candidate","webrtc_id","candidate":{"candidate","sdpMid",
 * "sdpMLineIndex"}} -> {"status":"success"} */
static void
handle_fastrtc_candidate (SxSignaling *sig, SoupServerMessage *msg,
                          JsonObject *obj, const gchar *webrtc_id)
{
  Peer *peer = find_fastrtc_peer (sig, webrtc_id);
  /* a webrtc_id alone does not let a stranger feed candidates to a camera
   * (told apart from an unknown id by nothing) */
  if (peer == NULL
      || g_strcmp0 (peer->identity, signaling_identity_of (msg)) != 0) {
    signaling_reject (sig, msg, STYLE_FASTRTC, SOUP_STATUS_NOT_FOUND,
                      FASTRTC_UNKNOWN_CONNECTION, "no connection %s",
                      webrtc_id);
    return;
  }
  JsonNode *node = json_object_get_member (obj, "candidate");
  const gchar *candidate = NULL, *mid = NULL;
  gint index = -1;
  if (node && JSON_NODE_HOLDS_OBJECT (node)) {
    JsonObject *c = json_node_get_object (node);
    JsonNode *i = json_object_get_member (c, "sdpMLineIndex");
    if (!sx_offer_json_string (c, "candidate", &candidate)
        || !sx_offer_json_string (c, "sdpMid", &mid)
        || (i && !JSON_NODE_HOLDS_NULL (i)
            && (!JSON_NODE_HOLDS_VALUE (i)
                || json_node_get_value_type (i) != G_TYPE_INT64))) {
      candidate = NULL;
    } else if (i && JSON_NODE_HOLDS_VALUE (i)) {
      gint64 v = json_node_get_int (i);
      index = v >= 0 && v < 1024 ? (gint)v : G_MAXINT;
    }
  } else if (node == NULL || JSON_NODE_HOLDS_NULL (node)) {
    /* the end of the peer's candidates: nothing to add */
    candidate = "";
  }
  if (candidate == NULL) {
    signaling_reject (
        sig, msg, STYLE_FASTRTC, SOUP_STATUS_BAD_REQUEST, "malformed_candidate",
        "\"candidate\" must be {\"candidate\": string, \"sdpMid\": "
        "string, \"sdpMLineIndex\": integer}");
    return;
  }
  /* an empty candidate string is the browser's end-of-candidates */
  if (*candidate) {
    if (!sx_ice_candidate_is_valid (candidate)) {
      signaling_reject (sig, msg, STYLE_FASTRTC, SOUP_STATUS_BAD_REQUEST,
                        "malformed_candidate", "malformed ICE candidate");
      return;
    }
    gint mline = signaling_peer_mline (peer, mid, index);
    if (mline < 0) {
      signaling_reject (sig, msg, STYLE_FASTRTC, SOUP_STATUS_BAD_REQUEST,
                        "malformed_candidate",
                        "the candidate's m-line is not in the offer");
      return;
    }
    if (peer->candidates >= MAX_CANDIDATES_PER_CAMERA) {
      signaling_reject (
          sig, msg, STYLE_FASTRTC, SOUP_STATUS_BAD_REQUEST,
          "too_many_candidates", "camera %s has sent %d candidates",
          sx_camera_get_id (peer->camera), MAX_CANDIDATES_PER_CAMERA);
      return;
    }
    peer->candidates++;
    sx_camera_add_ice_candidate (peer->camera, mline, candidate);
  }
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, "success");
  json_builder_end_object (b);
  signaling_respond_json (sig, msg, SOUP_STATUS_OK, b);
}

/* POST /webrtc/offer: FastRTC's route, for offers and trickled
 * candidates. The camera id is the "camera_id" member or query parameter,
 * else the webrtc_id. */
void
signaling_handle_fastrtc (SxSignaling *sig, SoupServerMessage *msg,
                          GHashTable *query)
{
  if (!signaling_require_method (sig, msg, "POST")
      || !signaling_require_json (sig, msg, STYLE_FASTRTC))
    return;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *obj
      = signaling_read_json_object (sig, msg, STYLE_FASTRTC, parser);
  if (obj == NULL)
    return;
  const gchar *type, *webrtc_id;
  if (!sx_offer_json_string (obj, "type", &type)
      || !sx_offer_json_string (obj, "webrtc_id", &webrtc_id)
      || webrtc_id == NULL || *webrtc_id == '\0'
      || strlen (webrtc_id) > SX_CAMERA_ID_MAX_LEN) {
    signaling_reject (
        sig, msg, STYLE_FASTRTC, SOUP_STATUS_BAD_REQUEST, "malformed_json",
        "\"type\" and \"webrtc_id\" (1 to %d characters) are required "
        "strings",
        SX_CAMERA_ID_MAX_LEN);
    return;
  }
  if (g_strcmp0 (type, "ice-candidate") == 0) {
    handle_fastrtc_candidate (sig, msg, obj, webrtc_id);
    return;
  }
  const gchar *sdp_text;
  g_autofree gchar *camera_id = NULL;
  if (!signaling_read_json_offer (sig, msg, STYLE_FASTRTC, obj, &sdp_text,
                                  &camera_id))
    return;
  const gchar *from_query
      = query ? g_hash_table_lookup (query, "camera_id") : NULL;
  if (camera_id == NULL)
    camera_id = g_strdup (from_query ? from_query : webrtc_id);
  Peer *same = find_fastrtc_peer (sig, webrtc_id);
  if (same && strcmp (sx_camera_get_id (same->camera), camera_id) != 0) {
    signaling_reject (sig, msg, STYLE_FASTRTC, SOUP_STATUS_CONFLICT,
                      "duplicate_webrtc_id",
                      "webrtc_id %s is in use by camera %s", webrtc_id,
                      sx_camera_get_id (same->camera));
    return;
  }
  signaling_start_camera (sig, msg, STYLE_FASTRTC, camera_id, sdp_text,
                          webrtc_id);
}
