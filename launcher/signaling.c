/* The launcher's HTTP side: WebRTC offers in, one camera pipeline each.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Three ways in, one way to a pipeline (signaling_start_camera()):
 *  - POST /offer: the aiortc JSON, as the Windows client sends it
 * (non-trickle), signaling-offer.c;
 *  - POST /webrtc/offer: FastRTC's JSON, with trickled candidates and
 *    FastRTC's failure shape, signaling-fastrtc.c;
 *  - POST /whip/{camera_id}: WHIP (RFC 9725), PATCH trickle, DELETE,
 *    signaling-whip.c;
 * and GET /, /healthz, /metrics in signaling-status.c. This file: who a
 * request is and what it may do before its body is read, the camera table
 * and its limits, the responses, the routes, the life cycle.
 */
#include "signaling-private.h"

#include "credentials.h"
#include "listener.h"
#include "pipefile.h"
#include "sdpoffer.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

/* What one offer may hold: a browser's has 1-3 sections (video, maybe
 * audio and a data channel) */
#define MAX_OFFER_SECTIONS 8
#define MAX_DATA_SECTIONS 1

GST_DEBUG_CATEGORY (sx_signaling_debug);

static void
peer_free (Peer *peer)
{
  sx_camera_unref (peer->camera);
  g_free (peer->session);
  g_free (peer->identity);
  g_free (peer->ice_ufrag);
  g_strfreev (peer->mids);
  g_free (peer);
}

/* ---- responses ---- */

void
signaling_count_response (SxSignaling *sig, guint status)
{
  gpointer key = GUINT_TO_POINTER (status);
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (sig->responses, key));
  g_hash_table_insert (sig->responses, key, GUINT_TO_POINTER (n + 1));
}

void
signaling_respond_json (SxSignaling *sig, SoupServerMessage *msg, guint status,
                        JsonBuilder *builder)
{
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_root (gen, root);
  gsize len;
  gchar *text = json_generator_to_data (gen, &len);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
                                    text, len);
  signaling_count_response (sig, status);
}

void
signaling_respond_empty (SxSignaling *sig, SoupServerMessage *msg, guint status)
{
  soup_server_message_set_status (msg, status, NULL);
  signaling_count_response (sig, status);
}

void
signaling_reject (SxSignaling *sig, SoupServerMessage *msg, OfferStyle style,
                  guint status, const gchar *code, const gchar *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree gchar *reason = g_strdup_vprintf (format, args);
  va_end (args);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  if (style == STYLE_FASTRTC) {
    if (g_strcmp0 (code, FASTRTC_UNKNOWN_CONNECTION) == 0
        || g_strcmp0 (code, FASTRTC_CONCURRENCY_LIMIT) == 0)
      status = SOUP_STATUS_OK;
    json_builder_set_member_name (b, "status");
    json_builder_add_string_value (b, "failed");
    json_builder_set_member_name (b, "meta");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "error");
    json_builder_add_string_value (b, code ? code : "bad_request");
    if (g_strcmp0 (code, FASTRTC_CONCURRENCY_LIMIT) == 0) {
      json_builder_set_member_name (b, "limit");
      json_builder_add_int_value (b, sig->options.max_cameras);
    }
    json_builder_set_member_name (b, "reason");
    json_builder_add_string_value (b, reason);
    json_builder_end_object (b);
  } else {
    json_builder_set_member_name (b, "error");
    json_builder_add_string_value (b, reason);
  }
  json_builder_end_object (b);
  signaling_respond_json (sig, msg, status, b);
  /* the path and the reason may hold what the client sent: escaped, so a
   * %0A cannot forge a log line */
  g_autofree gchar *path
      = g_strescape (g_uri_get_path (soup_server_message_get_uri (msg)), NULL);
  g_autofree gchar *escaped = g_strescape (reason, NULL);
  GST_INFO ("%s %.200s -> %u: %.300s", soup_server_message_get_method (msg),
            path, status, escaped);
}

/* Pages of other origins (a dashboard embedding the publisher) may read
 * the responses only when the operator lists their origins (--cors-origin;
 * "*" for any): by default only the launcher's own page, so a page on the
 * web cannot drive a launcher that needs no token. */
static void
add_cors_headers (SxSignaling *sig, SoupServerMessage *msg)
{
  const GStrv origins = sig->options.cors_origins;
  if (origins == NULL || origins[0] == NULL)
    return;
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  const gchar *origin = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Origin");
  if (g_strv_contains ((const gchar *const *)origins, "*")) {
    soup_message_headers_replace (h, "Access-Control-Allow-Origin", "*");
  } else if (origin
             && g_strv_contains ((const gchar *const *)origins, origin)) {
    soup_message_headers_replace (h, "Access-Control-Allow-Origin", origin);
    soup_message_headers_append (h, "Vary", "Origin");
  } else {
    return;
  }
  soup_message_headers_replace (h, "Access-Control-Expose-Headers",
                                "Location, Link, ETag");
}

/* ---- authentication and limits, before the body is read ---- */

#define IDENTITY_KEY "sx-identity"

const gchar *
signaling_identity_of (SoupServerMessage *msg)
{
  return g_object_get_data (G_OBJECT (msg), IDENTITY_KEY);
}

static gchar *
find_identity (SxSignaling *sig, SoupServerMessage *msg)
{
  if (!sx_credentials_required (sig->creds)) {
    GSocketAddress *remote = soup_server_message_get_remote_address (msg);
    g_autofree gchar *ip = NULL;
    if (remote && G_IS_INET_SOCKET_ADDRESS (remote))
      ip = g_inet_address_to_string (
          g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
    return g_strconcat ("address:", ip ? ip : "unknown", NULL);
  }
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  return sx_credentials_identify (
      sig->creds, soup_message_headers_get_one (h, "Authorization"));
}

/* /metrics describes every camera: the operator's token when there is one */
static gboolean
identity_may_read_metrics (SxSignaling *sig, const gchar *identity)
{
  if (!sx_credentials_has_operator (sig->creds))
    return identity != NULL;
  return g_strcmp0 (identity, SX_IDENTITY_OPERATOR) == 0;
}

/* Routes anyone may use: health, CORS preflight, and the publisher page
 * (it asks for the token itself). Everything that builds, feeds or
 * describes a pipeline needs the token. */
static gboolean
route_is_public (SoupServerMessage *msg, const gchar *path)
{
  const gchar *method = soup_server_message_get_method (msg);
  return g_strcmp0 (path, "/healthz") == 0 || g_strcmp0 (method, "OPTIONS") == 0
         || (g_strcmp0 (path, "/") == 0
             && (g_strcmp0 (method, "GET") == 0
                 || g_strcmp0 (method, "HEAD") == 0));
}

/* Refusals from the headers: answered at once, and the connection closed
 * without reading (or keeping) the body. */
static void
early_handler (SoupServer *server, SoupServerMessage *msg, const char *path,
               GHashTable *query, gpointer user_data)
{
  SxSignaling *sig = user_data;
  add_cors_headers (sig, msg);
  gchar *identity = find_identity (sig, msg);
  g_object_set_data_full (G_OBJECT (msg), IDENTITY_KEY, identity, g_free);
  gboolean allowed = route_is_public (msg, path)
                     || (g_strcmp0 (path, "/metrics") == 0
                             ? identity_may_read_metrics (sig, identity)
                             : identity != NULL);
  if (!allowed) {
    soup_message_headers_replace (
        soup_server_message_get_response_headers (msg), "WWW-Authenticate",
        "Bearer");
    signaling_respond_error (sig, msg, SOUP_STATUS_UNAUTHORIZED,
                             "missing or wrong bearer token");
    sx_listener_answer_and_close (msg);
    return;
  }
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  switch (soup_message_headers_get_encoding (h)) {
    case SOUP_ENCODING_CONTENT_LENGTH:
      if ((guint64)soup_message_headers_get_content_length (h)
          > sig->options.max_body)
        signaling_respond_error (
            sig, msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
            "request body of %" G_GINT64_FORMAT " bytes is over the limit "
            "of %" G_GSIZE_FORMAT,
            soup_message_headers_get_content_length (h), sig->options.max_body);
      else
        return;
      break;
    case SOUP_ENCODING_CHUNKED:
      /* its size is unknown until read: ask for a Content-Length rather
       * than buffer an unbounded body */
      signaling_respond_error (
          sig, msg, SOUP_STATUS_LENGTH_REQUIRED,
          "chunked request bodies are not accepted: send Content-Length");
      break;
    default:
      return;
  }
  sx_listener_answer_and_close (msg);
}

/* ---- cameras ---- */

static void maybe_finish_shutdown (SxSignaling *sig);

Peer *
signaling_lookup_peer (SxSignaling *sig, const gchar *camera_id)
{
  return g_hash_table_lookup (sig->peers, camera_id);
}

static void
on_camera_stopped_done (SxCamera *camera, gpointer user_data)
{
  SxSignaling *sig = user_data;
  sig->stops_in_flight--;
  maybe_finish_shutdown (sig);
}

static void
update_load (SxSignaling *sig)
{
  if (sig->registry)
    sx_registry_set_load (sig->registry, g_hash_table_size (sig->peers));
}

/* Takes @camera out of the table if it is still there, ending its lease. */
static void
forget_peer (SxSignaling *sig, SxCamera *camera, const gchar *reason)
{
  const gchar *id = sx_camera_get_id (camera);
  Peer *peer = signaling_lookup_peer (sig, id);
  if (peer == NULL || peer->camera != camera)
    return;
  if (sig->registry && peer->lease_epoch)
    sx_registry_release (sig->registry, id, peer->lease_epoch, reason);
  g_hash_table_remove (sig->peers, id);
  update_load (sig);
}

/* Removes @camera from the table (if still there) and stops it. */
static void
retire_camera (SxSignaling *sig, SxCamera *camera, const gchar *reason)
{
  if (sx_camera_stop (camera, on_camera_stopped_done, sig)) {
    GST_INFO_OBJECT (sx_camera_get_pipeline (camera), "stopping (%s)", reason);
    sig->stops_in_flight++;
  }
  forget_peer (sig, camera, reason);
}

static void
on_camera_stopped_itself (SxCamera *camera, const gchar *reason,
                          gpointer user_data)
{
  retire_camera (user_data, camera, reason);
}

/* A camera leaving on request (WHIP DELETE): out of the table at once, its
 * sinks flushed (EOS, bounded by the EOS timeout), then stopped. */
typedef struct {
  SxSignaling *sig;
  SxCamera *camera;
  GSource *timer;
} Flush;

static void
flush_finish (Flush *flush, const gchar *reason)
{
  SxSignaling *sig = flush->sig;
  if (flush->timer) {
    g_source_destroy (flush->timer);
    g_clear_pointer (&flush->timer, g_source_unref);
  }
  retire_camera (sig, flush->camera, reason);
  sx_camera_unref (flush->camera);
  g_free (flush);
  sig->flushes_in_flight--;
  maybe_finish_shutdown (sig);
}

static void
on_flush_done (SxCamera *camera, gpointer user_data)
{
  GST_INFO_OBJECT (sx_camera_get_pipeline (camera), "flushed");
  flush_finish (user_data, "closed by the peer, sinks flushed");
}

static gboolean
on_flush_timeout (gpointer user_data)
{
  Flush *flush = user_data;
  g_clear_pointer (&flush->timer, g_source_unref);
  flush_finish (flush, "closed by the peer, flush timed out");
  return G_SOURCE_REMOVE;
}

void
signaling_close_camera (SxSignaling *sig, SxCamera *camera)
{
  sx_camera_ref (camera);
  forget_peer (sig, camera, "closed by the peer");
  Flush *flush = g_new0 (Flush, 1);
  flush->sig = sig;
  flush->camera = camera;
  sig->flushes_in_flight++;
  if (!sx_camera_send_eos (camera, on_flush_done, flush)) {
    flush_finish (flush, "closed by the peer");
    return;
  }
  flush->timer = g_timeout_source_new (sig->options.eos_timeout_ms);
  g_source_set_callback (flush->timer, on_flush_timeout, flush, NULL);
  g_source_attach (flush->timer, NULL);
}

/* ---- the registry (several launchers) ---- */

/* The camera a take was asked for: the answer may come after it left. */
typedef struct {
  SxSignaling *sig;
  SxCamera *camera;
} LeaseRequest;

static LeaseRequest *
lease_request_new (SxSignaling *sig, SxCamera *camera)
{
  LeaseRequest *req = g_new (LeaseRequest, 1);
  req->sig = sig;
  req->camera = sx_camera_ref (camera);
  return req;
}

static void
lease_request_free (LeaseRequest *req)
{
  sx_camera_unref (req->camera);
  g_free (req);
}

static void
on_lease_taken (const gchar *camera_id, guint64 epoch, gpointer data)
{
  LeaseRequest *req = data;
  SxSignaling *sig = req->sig;
  Peer *peer = signaling_lookup_peer (sig, camera_id);
  if (peer == NULL || peer->camera != req->camera) {
    sx_registry_release (sig->registry, camera_id, epoch,
                         "the camera left before its lease was taken");
    return;
  }
  peer->lease_epoch = epoch;
  sx_camera_set_lease_epoch (peer->camera, epoch);
  GST_INFO_OBJECT (sx_camera_get_pipeline (peer->camera),
                   "lease %" G_GUINT64_FORMAT, epoch);
}

static void
on_lease_lost (const gchar *camera_id, guint64 epoch, gpointer user_data)
{
  SxSignaling *sig = user_data;
  Peer *peer = signaling_lookup_peer (sig, camera_id);
  if (peer == NULL || peer->lease_epoch != epoch)
    return;
  /* its lease is ended already: nothing to release */
  peer->lease_epoch = 0;
  retire_camera (sig, peer->camera,
                 "another launcher took the camera (it reconnected there)");
}

gboolean
sx_signaling_use_registry (SxSignaling *sig, const SxRegistryOptions *options,
                           GError **error)
{
  g_return_val_if_fail (sig->registry == NULL, FALSE);
  sig->registry = sx_registry_new (options, on_lease_lost, sig, error);
  return sig->registry != NULL;
}

/* A full (or stopping) launcher names another with room: WHIP gets a 307
 * to the same resource there (RFC 9725 section 4.5), the JSON routes a 503
 * with "launcher". FALSE: no registry, or nobody has room. */
static gboolean
redirect_elsewhere (SxSignaling *sig, SoupServerMessage *msg, OfferStyle style,
                    const gchar *camera_id)
{
  if (sig->registry == NULL)
    return FALSE;
  g_autofree gchar *url = sx_registry_dup_redirect (sig->registry);
  if (url == NULL)
    return FALSE;
  const gchar *slash = g_str_has_suffix (url, "/") ? "" : "/";
  if (style == STYLE_WHIP) {
    g_autofree gchar *location
        = g_strdup_printf ("%s%swhip/%s", url, slash, camera_id);
    soup_message_headers_replace (
        soup_server_message_get_response_headers (msg), "Location", location);
    signaling_respond_empty (sig, msg, SOUP_STATUS_TEMPORARY_REDIRECT);
    GST_INFO ("camera %s: full, sent to %s", camera_id, location);
    return TRUE;
  }
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  if (style == STYLE_FASTRTC) {
    json_builder_set_member_name (b, "status");
    json_builder_add_string_value (b, "failed");
    json_builder_set_member_name (b, "meta");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "error");
    json_builder_add_string_value (b, FASTRTC_CONCURRENCY_LIMIT);
    json_builder_set_member_name (b, "launcher");
    json_builder_add_string_value (b, url);
    json_builder_end_object (b);
  } else {
    json_builder_set_member_name (b, "error");
    json_builder_add_string_value (b, "this launcher is full: use another");
    json_builder_set_member_name (b, "launcher");
    json_builder_add_string_value (b, url);
  }
  json_builder_end_object (b);
  signaling_respond_json (sig, msg, SOUP_STATUS_SERVICE_UNAVAILABLE, b);
  GST_INFO ("camera %s: full, sent to %s", camera_id, url);
  return TRUE;
}

/* ---- the offer, whichever way it came ---- */

typedef struct {
  SxSignaling *sig;
  SoupServerMessage *msg;
  OfferStyle style;
  gchar *session;
  gboolean gone; /* the client went away meanwhile */
} PendingOffer;

static void
on_msg_gone (SoupServerMessage *msg, PendingOffer *pending)
{
  pending->gone = TRUE;
}

static void
respond_answer (SxSignaling *sig, PendingOffer *pending, SxCamera *camera,
                const gchar *answer_sdp)
{
  SoupServerMessage *msg = pending->msg;
  const gchar *id = sx_camera_get_id (camera);
  if (pending->style == STYLE_WHIP) {
    SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
    g_autofree gchar *location
        = g_strdup_printf ("/whip/%s/%s", id, pending->session);
    g_autofree gchar *etag = g_strdup_printf ("\"%s\"", pending->session);
    soup_message_headers_replace (h, "Location", location);
    soup_message_headers_replace (h, "ETag", etag);
    signaling_add_ice_server_links (sig, msg);
    soup_server_message_set_status (msg, SOUP_STATUS_CREATED, NULL);
    soup_server_message_set_response (msg, "application/sdp", SOUP_MEMORY_COPY,
                                      answer_sdp, strlen (answer_sdp));
    signaling_count_response (sig, SOUP_STATUS_CREATED);
    return;
  }
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "sdp");
  json_builder_add_string_value (b, answer_sdp);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "answer");
  json_builder_set_member_name (b, "camera_id");
  json_builder_add_string_value (b, id);
  json_builder_end_object (b);
  signaling_respond_json (sig, msg, SOUP_STATUS_OK, b);
}

static void
on_answer (SxCamera *camera, const gchar *answer_sdp, const GError *error,
           gpointer user_data)
{
  PendingOffer *pending = user_data;
  SxSignaling *sig = pending->sig;
  SoupServerMessage *msg = pending->msg;
  g_signal_handlers_disconnect_by_data (msg, pending);

  if (error) {
    GST_WARNING_OBJECT (sx_camera_get_pipeline (camera), "no answer: %s",
                        error->message);
    retire_camera (sig, camera, "negotiation failed");
  }
  if (!pending->gone) {
    if (error) {
      signaling_reject (
          sig, msg, pending->style,
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA)
              ? SOUP_STATUS_BAD_REQUEST
              : SOUP_STATUS_INTERNAL_SERVER_ERROR,
          "negotiation_failed", "camera %s: %s", sx_camera_get_id (camera),
          error->message);
    } else {
      respond_answer (sig, pending, camera, answer_sdp);
      GST_INFO_OBJECT (sx_camera_get_pipeline (camera), "answered");
    }
    soup_server_message_unpause (msg);
  }
  g_object_unref (msg);
  g_free (pending->session);
  g_free (pending);
}

/* What trickle needs from the offer: its ICE ufrag and its mids. */
static void
peer_take_offer_details (Peer *peer, const GstSDPMessage *offer)
{
  guint n = gst_sdp_message_medias_len (offer);
  peer->mids = g_new0 (gchar *, n + 1);
  const gchar *ufrag = gst_sdp_message_get_attribute_val (offer, "ice-ufrag");
  for (guint i = 0; i < n; i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (offer, i);
    const gchar *mid = gst_sdp_media_get_attribute_val (m, "mid");
    peer->mids[i] = g_strdup (mid ? mid : "");
    if (ufrag == NULL)
      ufrag = gst_sdp_media_get_attribute_val (m, "ice-ufrag");
  }
  peer->ice_ufrag = g_strdup (ufrag);
}

gint
signaling_peer_mline (Peer *peer, const gchar *mid, gint index)
{
  guint n = g_strv_length (peer->mids);
  if (mid && *mid) {
    for (guint i = 0; i < n; i++)
      if (strcmp (peer->mids[i], mid) == 0)
        return i;
    return -1;
  }
  if (index >= 0)
    return (guint)index < n ? index : -1;
  return 0;
}

void
signaling_start_camera (SxSignaling *sig, SoupServerMessage *msg,
                        OfferStyle style, const gchar *camera_id,
                        const gchar *sdp_text, const gchar *session)
{
  g_autoptr (GError) error = NULL;
  if (sig->shutting_down) {
    if (sx_camera_id_is_valid (camera_id)
        && redirect_elsewhere (sig, msg, style, camera_id))
      return;
    signaling_reject (sig, msg, style, SOUP_STATUS_SERVICE_UNAVAILABLE,
                      "shutting_down", "shutting down");
    return;
  }
  if (!sx_camera_id_is_valid (camera_id)) {
    signaling_reject (sig, msg, style, SOUP_STATUS_BAD_REQUEST, "bad_camera_id",
                      "bad camera_id: 1 to %d characters of A-Z a-z 0-9 _ -",
                      SX_CAMERA_ID_MAX_LEN);
    return;
  }
  const gchar *identity = signaling_identity_of (msg);
  const gchar *token_camera = sx_identity_camera (identity);
  if (token_camera && strcmp (token_camera, camera_id) != 0) {
    signaling_reject (sig, msg, style, SOUP_STATUS_FORBIDDEN, "wrong_camera",
                      "this token is for camera %s, not %s", token_camera,
                      camera_id);
    return;
  }

  /* GstSDP accepts nearly any text; an offer we can use starts with v=0
   * and has a VP8 video section */
  GstSDPMessage *offer = NULL;
  gst_sdp_message_new (&offer);
  if (sdp_text == NULL || !g_str_has_prefix (sdp_text, "v=0")
      || gst_sdp_message_parse_buffer ((const guint8 *)sdp_text,
                                       strlen (sdp_text), offer)
             != GST_SDP_OK
      || gst_sdp_message_medias_len (offer) == 0) {
    gst_sdp_message_free (offer);
    signaling_reject (
        sig, msg, style, SOUP_STATUS_BAD_REQUEST, "malformed_sdp",
        "malformed SDP: expected an offer starting with v=0 and with at "
        "least one m= section");
    return;
  }
  guint sections = gst_sdp_message_medias_len (offer), data_sections = 0;
  for (guint i = 0; i < sections; i++)
    if (g_strcmp0 (
            gst_sdp_media_get_media (gst_sdp_message_get_media (offer, i)),
            "application")
        == 0)
      data_sections++;
  if (sections > MAX_OFFER_SECTIONS || data_sections > MAX_DATA_SECTIONS) {
    gst_sdp_message_free (offer);
    signaling_reject (
        sig, msg, style, SOUP_STATUS_BAD_REQUEST, "malformed_sdp",
        "the offer has %u sections (at most %d) and %u data sections (at "
        "most %d)",
        sections, MAX_OFFER_SECTIONS, data_sections, MAX_DATA_SECTIONS);
    return;
  }
  gboolean decodable = FALSE;
  for (gchar **c = sig->options.camera.codecs; c && *c && !decodable; c++)
    decodable = sx_sdp_find_video_payload (offer, *c, NULL, NULL) >= 0;
  if (!decodable) {
    g_autofree gchar *list = g_strjoinv (", ", sig->options.camera.codecs);
    gst_sdp_message_free (offer);
    signaling_reject (sig, msg, style, SOUP_STATUS_BAD_REQUEST,
                      "unsupported_codec",
                      "the offer has no video section in a codec the pipe "
                      "file decodes (%s)",
                      list);
    return;
  }

  Peer *old = signaling_lookup_peer (sig, camera_id);
  if (old && g_strcmp0 (old->identity, identity) != 0) {
    /* only whoever started a camera may replace it: a stranger cannot
     * kick a streaming camera off or take its place */
    gst_sdp_message_free (offer);
    signaling_reject (
        sig, msg, style, SOUP_STATUS_CONFLICT, "camera_in_use",
        "camera %s is streaming; only its own credential may replace it",
        camera_id);
    return;
  }
  /* every pipeline that exists counts, stopping ones too, so a loop of
   * replacements cannot pile up pipelines; a replaced camera's slot
   * passes to its successor */
  guint pipelines = g_hash_table_size (sig->peers) + sig->stops_in_flight
                    + sig->flushes_in_flight;
  if (pipelines - (old ? 1 : 0) >= sig->options.max_cameras) {
    gst_sdp_message_free (offer);
    if (redirect_elsewhere (sig, msg, style, camera_id))
      return;
    signaling_reject (
        sig, msg, style, SOUP_STATUS_SERVICE_UNAVAILABLE,
        FASTRTC_CONCURRENCY_LIMIT,
        "already %u pipelines, stopping ones included (--max-cameras)",
        pipelines);
    return;
  }

  g_autoptr (GHashTable) vars = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, sig->vars);
  while (g_hash_table_iter_next (&it, &k, &v))
    g_hash_table_insert (vars, k, v);
  g_hash_table_insert (vars, (gpointer) "CAMERA_ID", (gpointer)camera_id);
  g_autofree gchar *text
      = sx_pipe_expand (sig->pipe_text, sig->origin, vars, &error);
  if (text == NULL) {
    gst_sdp_message_free (offer);
    signaling_reject (sig, msg, style, SOUP_STATUS_INTERNAL_SERVER_ERROR,
                      "pipeline", "%s", error->message);
    return;
  }

  SxCamera *camera = sx_camera_new (camera_id, text, &sig->options.camera,
                                    on_camera_stopped_itself, sig, &error);
  if (camera == NULL) {
    gst_sdp_message_free (offer);
    signaling_reject (sig, msg, style, SOUP_STATUS_INTERNAL_SERVER_ERROR,
                      "pipeline", "camera %s: %s", camera_id, error->message);
    return;
  }
  if (old) {
    /* the camera reconnects (new offer, same id, same credential): its new
     * pipeline exists, so the old one goes; its peer connection is dead or
     * about to be */
    guint n = GPOINTER_TO_UINT (g_hash_table_lookup (sig->restarts, camera_id));
    g_hash_table_insert (sig->restarts, g_strdup (camera_id),
                         GUINT_TO_POINTER (n + 1));
    retire_camera (sig, old->camera, "replaced by a new offer");
  }
  Peer *peer = g_new0 (Peer, 1);
  peer->camera = camera;
  peer->style = style;
  peer->session = style == STYLE_WHIP ? sx_random_id () : g_strdup (session);
  peer->identity = g_strdup (identity);
  peer_take_offer_details (peer, offer);
  g_hash_table_insert (sig->peers, g_strdup (camera_id), peer);
  update_load (sig);
  sig->cameras_started++;
  /* after the camera is in the table and without waiting for it: the
   * answer does not depend on the database */
  if (sig->registry)
    sx_registry_take (sig->registry, camera_id, on_lease_taken,
                      lease_request_new (sig, camera),
                      (GDestroyNotify)lease_request_free);
  GST_INFO_OBJECT (sx_camera_get_pipeline (camera),
                   "offer received, starting its pipeline");

  PendingOffer *pending = g_new0 (PendingOffer, 1);
  pending->sig = sig;
  pending->msg = g_object_ref (msg);
  pending->style = style;
  pending->session = g_strdup (peer->session);
  g_signal_connect (msg, "finished", G_CALLBACK (on_msg_gone), pending);
  g_signal_connect (msg, "disconnected", G_CALLBACK (on_msg_gone), pending);
  soup_server_message_pause (msg);
  sx_camera_answer (camera, offer, on_answer, pending);
}

/* ---- request shapes ---- */

gboolean
signaling_require_method (SxSignaling *sig, SoupServerMessage *msg,
                          const gchar *allow)
{
  const gchar *method = soup_server_message_get_method (msg);
  g_auto (GStrv) methods = g_strsplit (allow, ", ", -1);
  if (g_strv_contains ((const gchar *const *)methods, method))
    return TRUE;
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Allow", allow);
  signaling_respond_error (sig, msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use %s",
                           allow);
  return FALSE;
}

gboolean
signaling_content_type_is (SoupServerMessage *msg, const gchar *expected)
{
  const gchar *type = soup_message_headers_get_content_type (
      soup_server_message_get_request_headers (msg), NULL);
  return g_strcmp0 (type, expected) == 0;
}

static void
handler (SoupServer *server, SoupServerMessage *msg, const char *path,
         GHashTable *query, gpointer user_data)
{
  SxSignaling *sig = user_data;
  if (g_strcmp0 (soup_server_message_get_method (msg), "OPTIONS") == 0) {
    signaling_handle_options (sig, msg, path);
  } else if (g_strcmp0 (path, "/offer") == 0) {
    signaling_handle_offer (sig, msg);
  } else if (g_strcmp0 (path, "/webrtc/offer") == 0) {
    signaling_handle_fastrtc (sig, msg, query);
  } else if (g_str_has_prefix (path, "/whip/")) {
    signaling_handle_whip (sig, msg, path + 6);
  } else if (g_strcmp0 (path, "/") == 0) {
    signaling_handle_page (sig, msg);
  } else if (g_strcmp0 (path, "/healthz") == 0) {
    signaling_handle_healthz (sig, msg);
  } else if (g_strcmp0 (path, "/metrics") == 0) {
    signaling_handle_metrics (sig, msg);
  } else {
    signaling_respond_error (sig, msg, SOUP_STATUS_NOT_FOUND, "no route %s",
                             path);
  }
}

/* ---- life cycle ---- */

SxSignaling *
sx_signaling_new (const gchar *pipe_text, const gchar *origin, GHashTable *vars,
                  const SxSignalingOptions *options)
{
  SxSignaling *sig = g_new0 (SxSignaling, 1);
  if (!sx_signaling_debug)
    GST_DEBUG_CATEGORY_INIT (sx_signaling_debug, "sxsignaling", 0,
                             "surveillx-launcher signaling");
  sig->pipe_text = g_strdup (pipe_text);
  sig->origin = g_strdup (origin);
  sig->vars = sx_pipe_vars_new ();
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, vars);
  while (g_hash_table_iter_next (&it, &k, &v))
    g_hash_table_insert (sig->vars, g_strdup (k), g_strdup (v));
  sig->options = *options;
  sig->options.token = NULL; /* kept in sig->creds only */
  sig->options.camera_secret = NULL;
  sig->options.cors_origins = g_strdupv (options->cors_origins);
  sig->creds = sx_credentials_new (options->token, options->camera_secret);
  sig->options.camera.stun_server = g_strdup (options->camera.stun_server);
  sig->options.camera.turn_servers = g_strdupv (options->camera.turn_servers);
  sig->options.camera.ice_address = g_strdup (options->camera.ice_address);
  sig->options.camera.codecs = g_strdupv (options->camera.codecs);
  sig->peers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify)peer_free);
  sig->restarts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  sig->responses = g_hash_table_new (g_direct_hash, g_direct_equal);
  sig->server = soup_server_new ("server-header", "surveillx-launcher ", NULL);
  soup_server_add_early_handler (sig->server, NULL, early_handler, sig, NULL);
  soup_server_add_handler (sig->server, NULL, handler, sig, NULL);
  sig->listener = sx_listener_new (sig->server, &options->connections);
  return sig;
}

gboolean
sx_signaling_listen (SxSignaling *sig, const gchar *address, guint port,
                     GError **error)
{
  return sx_listener_listen (sig->listener, address, port, error);
}

gchar *
sx_signaling_get_uri (SxSignaling *sig)
{
  return sx_listener_get_uri (sig->listener);
}

static void
maybe_finish_shutdown (SxSignaling *sig)
{
  if (!sig->shutting_down || sig->eos_pending > 0
      || g_hash_table_size (sig->peers) > 0 || sig->stops_in_flight > 0
      || sig->flushes_in_flight > 0 || sig->shutdown_done == NULL)
    return;
  SxSignalingShutdownFunc done = sig->shutdown_done;
  sig->shutdown_done = NULL;
  done (sig->shutdown_data);
}

static void
stop_all (SxSignaling *sig)
{
  if (sig->eos_timer) {
    g_source_destroy (sig->eos_timer);
    g_clear_pointer (&sig->eos_timer, g_source_unref);
  }
  sig->eos_pending = 0;
  GList *cams = NULL;
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init (&it, sig->peers);
  while (g_hash_table_iter_next (&it, NULL, &v))
    cams = g_list_prepend (cams, sx_camera_ref (((Peer *)v)->camera));
  for (GList *l = cams; l; l = l->next) {
    retire_camera (sig, l->data, "shutdown");
    sx_camera_unref (l->data);
  }
  g_list_free (cams);
  maybe_finish_shutdown (sig);
}

static void
on_eos_done (SxCamera *camera, gpointer user_data)
{
  SxSignaling *sig = user_data;
  GST_INFO_OBJECT (sx_camera_get_pipeline (camera), "flushed");
  if (sig->eos_pending > 0 && --sig->eos_pending == 0)
    stop_all (sig);
}

static gboolean
on_eos_timeout (gpointer user_data)
{
  SxSignaling *sig = user_data;
  GST_WARNING ("%u camera(s) did not flush within %u ms: stopping anyway",
               sig->eos_pending, sig->options.eos_timeout_ms);
  g_clear_pointer (&sig->eos_timer, g_source_unref);
  stop_all (sig);
  return G_SOURCE_REMOVE;
}

void
sx_signaling_shutdown (SxSignaling *sig, SxSignalingShutdownFunc done,
                       gpointer user_data)
{
  if (sig->shutting_down)
    return;
  sig->shutting_down = TRUE;
  sig->shutdown_done = done;
  sig->shutdown_data = user_data;
  sx_listener_stop (sig->listener);
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init (&it, sig->peers);
  while (g_hash_table_iter_next (&it, NULL, &v)) {
    if (sx_camera_send_eos (((Peer *)v)->camera, on_eos_done, sig))
      sig->eos_pending++;
  }
  GST_INFO ("shutting down: EOS sent to %u camera(s)", sig->eos_pending);
  if (sig->eos_pending == 0) {
    stop_all (sig);
    return;
  }
  sig->eos_timer = g_timeout_source_new (sig->options.eos_timeout_ms);
  g_source_set_callback (sig->eos_timer, on_eos_timeout, sig, NULL);
  g_source_attach (sig->eos_timer, NULL);
}

void
sx_signaling_free (SxSignaling *sig)
{
  /* first: its last words release the leases the cameras' stops queued */
  g_clear_pointer (&sig->registry, sx_registry_free);
  if (sig->eos_timer) {
    g_source_destroy (sig->eos_timer);
    g_source_unref (sig->eos_timer);
  }
  sx_listener_free (sig->listener);
  g_clear_object (&sig->server);
  g_hash_table_unref (sig->peers);
  g_hash_table_unref (sig->restarts);
  g_hash_table_unref (sig->responses);
  g_hash_table_unref (sig->vars);
  g_free (sig->pipe_text);
  g_free (sig->origin);
  sx_credentials_free (sig->creds);
  g_strfreev (sig->options.cors_origins);
  g_free (sig->options.camera.stun_server);
  g_strfreev (sig->options.camera.turn_servers);
  g_free (sig->options.camera.ice_address);
  g_strfreev (sig->options.camera.codecs);
  g_free (sig);
}
