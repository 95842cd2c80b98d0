/* WHIP (RFC 9725): POST /whip/{camera_id} an SDP offer, PATCH trickle
 * (application/trickle-ice-sdpfrag), DELETE; OPTIONS for every route.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "signaling-private.h"

#include "sdpfrag.h"

#include <string.h>

/* A --stun/--turn URI as webrtcbin takes it (stun://host:port,
 * turn://user:pass@host:port) as a Link header's ice-server. */
static gchar *
ice_server_link (const gchar *uri_text)
{
  g_autoptr (GUri) uri = g_uri_parse (uri_text, G_URI_FLAGS_HAS_PASSWORD, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL)
    return NULL;
  const gchar *scheme = g_uri_get_scheme (uri);
  gint port = g_uri_get_port (uri);
  g_autofree gchar *target
      = port > 0
            ? g_strdup_printf ("%s:%s:%d", scheme, g_uri_get_host (uri), port)
            : g_strdup_printf ("%s:%s", scheme, g_uri_get_host (uri));
  const gchar *user = g_uri_get_user (uri);
  const gchar *password = g_uri_get_password (uri);
  if (user == NULL)
    return g_strdup_printf ("<%s>; rel=\"ice-server\"", target);
  /* quoted-string values: refuse what would need escaping */
  if (strpbrk (user, "\"\\\r\n")
      || (password && strpbrk (password, "\"\\\r\n")))
    return NULL;
  return g_strdup_printf ("<%s>; rel=\"ice-server\"; username=\"%s\"; "
                          "credential=\"%s\"; credential-type=\"password\"",
                          target, user, password ? password : "");
}

void
signaling_add_ice_server_links (SxSignaling *sig, SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  const SxCameraOptions *o = &sig->options.camera;
  if (o->stun_server) {
    g_autofree gchar *link = ice_server_link (o->stun_server);
    if (link)
      soup_message_headers_append (h, "Link", link);
  }
  for (gchar **t = o->turn_servers; t && *t; t++) {
    g_autofree gchar *link = ice_server_link (*t);
    if (link)
      soup_message_headers_append (h, "Link", link);
  }
}

/* The request body as a NUL-terminated string, or NULL after a reply. */
static gchar *
read_text_body (SxSignaling *sig, SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  if ((gsize)body->length > sig->options.max_body) {
    signaling_respond_error (sig, msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
                             "request body over the limit of %" G_GSIZE_FORMAT
                             " bytes",
                             sig->options.max_body);
    return NULL;
  }
  if (body->length == 0 || memchr (body->data, '\0', body->length)) {
    signaling_respond_error (sig, msg, SOUP_STATUS_BAD_REQUEST,
                             body->length ? "NUL byte in the body"
                                          : "empty body");
    return NULL;
  }
  return g_strndup (body->data, body->length);
}

static void
whip_patch (SxSignaling *sig, SoupServerMessage *msg, Peer *peer)
{
  if (!signaling_content_type_is (msg, "application/trickle-ice-sdpfrag")) {
    signaling_respond_error (sig, msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
                             "PATCH takes application/trickle-ice-sdpfrag");
    return;
  }
  g_autofree gchar *text = read_text_body (sig, msg);
  if (text == NULL)
    return;
  g_autoptr (GError) error = NULL;
  g_autoptr (SxSdpFrag) frag = sx_sdp_frag_parse (text, strlen (text), &error);
  if (frag == NULL) {
    signaling_respond_error (sig, msg, SOUP_STATUS_BAD_REQUEST,
                             "malformed SDP fragment: %s", error->message);
    return;
  }
  if (frag->ice_ufrag && peer->ice_ufrag
      && strcmp (frag->ice_ufrag, peer->ice_ufrag) != 0) {
    /* a new ufrag is an ICE restart, which would need a new answer */
    signaling_respond_error (sig, msg, SOUP_STATUS_UNPROCESSABLE_ENTITY,
                             "ICE restart is not supported: POST a new offer");
    return;
  }
  guint added = 0;
  if (peer->candidates + frag->candidates->len > MAX_CANDIDATES_PER_CAMERA) {
    signaling_respond_error (
        sig, msg, SOUP_STATUS_BAD_REQUEST, "camera %s: more than %d candidates",
        sx_camera_get_id (peer->camera), MAX_CANDIDATES_PER_CAMERA);
    return;
  }
  for (guint i = 0; i < frag->candidates->len; i++) {
    SxFragCandidate *c = g_ptr_array_index (frag->candidates, i);
    gint mline = signaling_peer_mline (peer, c->mid, c->mid ? -1 : c->media);
    if (mline < 0) {
      signaling_respond_error (sig, msg, SOUP_STATUS_BAD_REQUEST,
                               "candidate %u: its m-line is not in the offer",
                               i + 1);
      return;
    }
  }
  peer->candidates += frag->candidates->len;
  for (guint i = 0; i < frag->candidates->len; i++) {
    SxFragCandidate *c = g_ptr_array_index (frag->candidates, i);
    sx_camera_add_ice_candidate (
        peer->camera,
        signaling_peer_mline (peer, c->mid, c->mid ? -1 : c->media),
        c->candidate);
    added++;
  }
  GST_INFO_OBJECT (sx_camera_get_pipeline (peer->camera),
                   "%u trickled candidate(s)%s", added,
                   frag->end_of_candidates ? ", end of candidates" : "");
  signaling_respond_empty (sig, msg, SOUP_STATUS_NO_CONTENT);
}

/* /whip/{camera_id}: POST an offer. /whip/{camera_id}/{session}: the
 * resource the 201's Location names, PATCH and DELETE. */
void
signaling_handle_whip (SxSignaling *sig, SoupServerMessage *msg,
                       const gchar *rest)
{
  g_auto (GStrv) parts = g_strsplit (rest, "/", 3);
  guint n = g_strv_length (parts);
  const gchar *method = soup_server_message_get_method (msg);
  if (n == 1) {
    if (!signaling_require_method (sig, msg, "POST"))
      return;
    if (!signaling_content_type_is (msg, "application/sdp")) {
      signaling_respond_error (sig, msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
                               "WHIP offers are application/sdp");
      return;
    }
    g_autofree gchar *sdp_text = read_text_body (sig, msg);
    if (sdp_text)
      signaling_start_camera (sig, msg, STYLE_WHIP, parts[0], sdp_text, NULL);
    return;
  }
  if (n != 2) {
    signaling_respond_error (sig, msg, SOUP_STATUS_NOT_FOUND,
                             "no such WHIP resource");
    return;
  }
  if (!signaling_require_method (sig, msg, "PATCH, DELETE"))
    return;
  Peer *peer = signaling_lookup_peer (sig, parts[0]);
  if (peer == NULL || peer->style != STYLE_WHIP
      || !sx_secure_equal (peer->session, parts[1])
      || g_strcmp0 (peer->identity, signaling_identity_of (msg)) != 0) {
    signaling_respond_error (sig, msg, SOUP_STATUS_NOT_FOUND,
                             "no WHIP session %s for camera %s", parts[1],
                             parts[0]);
    return;
  }
  if (strcmp (method, "DELETE") == 0) {
    signaling_close_camera (sig, peer->camera);
    signaling_respond_empty (sig, msg, SOUP_STATUS_OK);
  } else {
    whip_patch (sig, msg, peer);
  }
}

void
signaling_handle_options (SxSignaling *sig, SoupServerMessage *msg,
                          const gchar *path)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  const gchar *allow = g_str_has_prefix (path, "/whip/")
                           ? (strchr (path + 6, '/') ? "PATCH, DELETE, OPTIONS"
                                                     : "POST, OPTIONS")
                           : "GET, POST, OPTIONS";
  soup_message_headers_replace (h, "Allow", allow);
  soup_message_headers_replace (h, "Access-Control-Allow-Methods", allow);
  soup_message_headers_replace (h, "Access-Control-Allow-Headers",
                                "Authorization, Content-Type, If-Match");
  /* ICE servers may carry TURN credentials: only for the token holder */
  if (g_str_has_prefix (path, "/whip/") && signaling_identity_of (msg) != NULL)
    signaling_add_ice_server_links (sig, msg);
  signaling_respond_empty (sig, msg, SOUP_STATUS_NO_CONTENT);
}
