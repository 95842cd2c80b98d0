/* The launcher's HTTP side: WebRTC offers in, one camera pipeline each.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Three ways in, one way to a pipeline (start_camera()):
 *  - POST /offer: the seed's JSON, as aiortc clients use it (non-trickle);
 *  - POST /webrtc/offer: FastRTC's JSON, with trickled candidates and
 *    FastRTC's failure shape;
 *  - POST /whip/{camera_id}: WHIP (RFC 9725), PATCH trickle, DELETE.
 */
#include "signaling.h"

#include "credentials.h"
#include "listener.h"
#include "offerjson.h"
#include "pipefile.h"
#include "sdpfrag.h"
#include "sxjson.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#define PUBLISHER_PAGE "/org/surveillx/launcher/publisher.html"

/* What one camera may send: a browser offers 1-3 sections (video, maybe
 * audio and a data channel) and trickles a few dozen candidates. */
#define MAX_OFFER_SECTIONS 8
#define MAX_DATA_SECTIONS 1
#define MAX_CANDIDATES_PER_CAMERA 128

typedef enum {
  STYLE_SEED,    /* {"sdp","type"} in and out; errors {"error"} */
  STYLE_FASTRTC, /* FastRTC: failures {"status":"failed","meta":{...}} */
  STYLE_WHIP,    /* application/sdp in and out, 201 + Location */
} OfferStyle;

/* A camera and what its signaling needs to know about it. */
typedef struct {
  SxCamera *camera;
  OfferStyle style;
  gchar *session;   /* FastRTC's webrtc_id, or the WHIP resource's id */
  gchar *identity;  /* who started it (sx_credentials_identify(), or
                       "address:IP" without credentials): only the same
                       may replace or feed it */
  gchar *ice_ufrag; /* the offer's, to tell trickle from an ICE restart */
  GStrv mids;       /* the offer's a=mid per m-line ("" where none) */
  guint candidates; /* trickled so far */
} Peer;

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

struct _SxSignaling {
  SoupServer *server;
  SxListener *listener;
  SxCredentials *creds;
  gchar *pipe_text;
  gchar *origin;
  GHashTable *vars;
  SxSignalingOptions options;

  GHashTable *peers;     /* camera id -> Peer */
  GHashTable *restarts;  /* id -> GUINT_TO_POINTER (count) */
  GHashTable *responses; /* status code -> GUINT_TO_POINTER (count) */
  guint64 cameras_started;
  guint stops_in_flight;   /* cameras going to NULL */
  guint flushes_in_flight; /* cameras flushing before they stop (DELETE) */

  gboolean shutting_down;
  guint eos_pending;
  GSource *eos_timer;
  SxSignalingShutdownFunc shutdown_done;
  gpointer shutdown_data;
};

/* ---- responses ---- */

static void
count_response (SxSignaling *sig, guint status)
{
  gpointer key = GUINT_TO_POINTER (status);
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (sig->responses, key));
  g_hash_table_insert (sig->responses, key, GUINT_TO_POINTER (n + 1));
}

static void
respond_json (SxSignaling *sig, SoupServerMessage *msg, guint status,
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
  count_response (sig, status);
}

static void
respond_empty (SxSignaling *sig, SoupServerMessage *msg, guint status)
{
  soup_server_message_set_status (msg, status, NULL);
  count_response (sig, status);
}

/* FastRTC codes that FastRTC reports with HTTP 200 and a JSON failure. */
#define FASTRTC_UNKNOWN_CONNECTION "unknown_connection"
#define FASTRTC_CONCURRENCY_LIMIT "concurrency_limit_reached"

/* Refuses a request with @status and a reason: {"error": reason}, or for
 * FastRTC's route {"status":"failed","meta":{"error":code,...}} (HTTP 200
 * for the failures FastRTC itself reports that way). */
static void reject (SxSignaling *sig, SoupServerMessage *msg, OfferStyle style,
                    guint status, const gchar *code, const gchar *format, ...)
    G_GNUC_PRINTF (6, 7);

static void
reject (SxSignaling *sig, SoupServerMessage *msg, OfferStyle style,
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
  respond_json (sig, msg, status, b);
  /* the path and the reason may hold what the client sent: escaped, so a
   * %0A cannot forge a log line */
  g_autofree gchar *path = g_strescape (
      g_uri_get_path (soup_server_message_get_uri (msg)), NULL);
  g_autofree gchar *escaped = g_strescape (reason, NULL);
  g_message ("%s %.200s -> %u: %.300s", soup_server_message_get_method (msg),
             path, status, escaped);
}

#define respond_error(sig, msg, status, ...)                                   \
  reject (sig, msg, STYLE_SEED, status, NULL, __VA_ARGS__)

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

/* Who sent @msg, as the early handler found it: an identity from
 * SxCredentials, or "address:<IP>" when the launcher needs none (then a
 * camera belongs to the address that started it). NULL: no valid
 * credential. */
static const gchar *
identity_of (SoupServerMessage *msg)
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
      ip = g_inet_address_to_string (g_inet_socket_address_get_address (
          G_INET_SOCKET_ADDRESS (remote)));
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
  gboolean allowed
      = route_is_public (msg, path)
        || (g_strcmp0 (path, "/metrics") == 0
                ? identity_may_read_metrics (sig, identity)
                : identity != NULL);
  if (!allowed) {
    soup_message_headers_replace (
        soup_server_message_get_response_headers (msg), "WWW-Authenticate",
        "Bearer");
    respond_error (sig, msg, SOUP_STATUS_UNAUTHORIZED,
                   "missing or wrong bearer token");
    sx_listener_answer_and_close (msg);
    return;
  }
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  switch (soup_message_headers_get_encoding (h)) {
    case SOUP_ENCODING_CONTENT_LENGTH:
      if ((guint64)soup_message_headers_get_content_length (h)
          > sig->options.max_body)
        respond_error (
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
      respond_error (
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

static Peer *
lookup_peer (SxSignaling *sig, const gchar *camera_id)
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

/* Removes @camera from the table (if still there) and stops it. */
static void
retire_camera (SxSignaling *sig, SxCamera *camera, const gchar *reason)
{
  const gchar *id = sx_camera_get_id (camera);
  if (sx_camera_stop (camera, on_camera_stopped_done, sig)) {
    g_message ("camera %s: stopping (%s)", id, reason);
    sig->stops_in_flight++;
  }
  Peer *peer = lookup_peer (sig, id);
  if (peer && peer->camera == camera)
    g_hash_table_remove (sig->peers, id);
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
  g_message ("camera %s: flushed", sx_camera_get_id (camera));
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

static void
close_camera (SxSignaling *sig, SxCamera *camera)
{
  sx_camera_ref (camera);
  Peer *peer = lookup_peer (sig, sx_camera_get_id (camera));
  if (peer && peer->camera == camera)
    g_hash_table_remove (sig->peers, sx_camera_get_id (camera));
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

static void add_ice_server_links (SxSignaling *sig, SoupServerMessage *msg);

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
    add_ice_server_links (sig, msg);
    soup_server_message_set_status (msg, SOUP_STATUS_CREATED, NULL);
    soup_server_message_set_response (msg, "application/sdp", SOUP_MEMORY_COPY,
                                      answer_sdp, strlen (answer_sdp));
    count_response (sig, SOUP_STATUS_CREATED);
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
  respond_json (sig, msg, SOUP_STATUS_OK, b);
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
    g_warning ("camera %s: no answer: %s", sx_camera_get_id (camera),
               error->message);
    retire_camera (sig, camera, "negotiation failed");
  }
  if (!pending->gone) {
    if (error) {
      reject (sig, msg, pending->style,
              g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA)
                  ? SOUP_STATUS_BAD_REQUEST
                  : SOUP_STATUS_INTERNAL_SERVER_ERROR,
              "negotiation_failed", "camera %s: %s", sx_camera_get_id (camera),
              error->message);
    } else {
      respond_answer (sig, pending, camera, answer_sdp);
      g_message ("camera %s: answered", sx_camera_get_id (camera));
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

/* The m-line index a trickled candidate belongs to: by mid when given,
 * else by index, else the first. -1 if the mid is unknown. */
static gint
peer_mline (Peer *peer, const gchar *mid, gint index)
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

/* Everything after the request's own shape: the camera id, the SDP, the
 * limits, then the pipeline and the answer (asynchronous: @msg is paused).
 * @session: FastRTC's webrtc_id (WHIP makes its own). */
static void
start_camera (SxSignaling *sig, SoupServerMessage *msg, OfferStyle style,
              const gchar *camera_id, const gchar *sdp_text,
              const gchar *session)
{
  g_autoptr (GError) error = NULL;
  if (sig->shutting_down) {
    reject (sig, msg, style, SOUP_STATUS_SERVICE_UNAVAILABLE, "shutting_down",
            "shutting down");
    return;
  }
  if (!sx_camera_id_is_valid (camera_id)) {
    reject (sig, msg, style, SOUP_STATUS_BAD_REQUEST, "bad_camera_id",
            "bad camera_id: 1 to %d characters of A-Z a-z 0-9 _ -",
            SX_CAMERA_ID_MAX_LEN);
    return;
  }
  const gchar *identity = identity_of (msg);
  const gchar *token_camera = sx_identity_camera (identity);
  if (token_camera && strcmp (token_camera, camera_id) != 0) {
    reject (sig, msg, style, SOUP_STATUS_FORBIDDEN, "wrong_camera",
            "this token is for camera %s, not %s", token_camera, camera_id);
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
    reject (sig, msg, style, SOUP_STATUS_BAD_REQUEST, "malformed_sdp",
            "malformed SDP: expected an offer starting with v=0 and with at "
            "least one m= section");
    return;
  }
  guint sections = gst_sdp_message_medias_len (offer), data_sections = 0;
  for (guint i = 0; i < sections; i++)
    if (g_strcmp0 (gst_sdp_media_get_media (gst_sdp_message_get_media (offer, i)),
                   "application")
        == 0)
      data_sections++;
  if (sections > MAX_OFFER_SECTIONS || data_sections > MAX_DATA_SECTIONS) {
    gst_sdp_message_free (offer);
    reject (sig, msg, style, SOUP_STATUS_BAD_REQUEST, "malformed_sdp",
            "the offer has %u sections (at most %d) and %u data sections (at "
            "most %d)",
            sections, MAX_OFFER_SECTIONS, data_sections, MAX_DATA_SECTIONS);
    return;
  }
  if (sx_sdp_find_vp8_payload (offer, NULL, NULL) < 0) {
    gst_sdp_message_free (offer);
    reject (sig, msg, style, SOUP_STATUS_BAD_REQUEST, "no_vp8",
            "the offer has no VP8 video section");
    return;
  }

  Peer *old = lookup_peer (sig, camera_id);
  if (old && g_strcmp0 (old->identity, identity) != 0) {
    /* only whoever started a camera may replace it: a stranger cannot
     * kick a streaming camera off or take its place */
    gst_sdp_message_free (offer);
    reject (sig, msg, style, SOUP_STATUS_CONFLICT, "camera_in_use",
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
    reject (sig, msg, style, SOUP_STATUS_SERVICE_UNAVAILABLE,
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
    reject (sig, msg, style, SOUP_STATUS_INTERNAL_SERVER_ERROR, "pipeline",
            "%s", error->message);
    return;
  }

  SxCamera *camera = sx_camera_new (camera_id, text, &sig->options.camera,
                                    on_camera_stopped_itself, sig, &error);
  if (camera == NULL) {
    gst_sdp_message_free (offer);
    reject (sig, msg, style, SOUP_STATUS_INTERNAL_SERVER_ERROR, "pipeline",
            "camera %s: %s", camera_id, error->message);
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
  sig->cameras_started++;
  g_message ("camera %s: offer received, starting its pipeline", camera_id);

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

static gboolean
require_method (SxSignaling *sig, SoupServerMessage *msg, const gchar *allow)
{
  const gchar *method = soup_server_message_get_method (msg);
  g_auto (GStrv) methods = g_strsplit (allow, ", ", -1);
  if (g_strv_contains ((const gchar *const *)methods, method))
    return TRUE;
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Allow", allow);
  respond_error (sig, msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use %s", allow);
  return FALSE;
}

/* The request's JSON object, or NULL after a 400 (or 413) reply. */
static JsonObject *
read_json_object (SxSignaling *sig, SoupServerMessage *msg, OfferStyle style,
                  JsonParser *parser)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  if ((gsize)body->length > sig->options.max_body) {
    reject (sig, msg, style, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large",
            "request body over the limit of %" G_GSIZE_FORMAT " bytes",
            sig->options.max_body);
    return NULL;
  }
  g_autoptr (GError) error = NULL;
  /* json-glib recurses per level and accepts comments: plain JSON with
   * bounded nesting only */
  if (!sx_json_check (body->data, body->length, SX_JSON_MAX_DEPTH, &error)) {
    reject (sig, msg, style, SOUP_STATUS_BAD_REQUEST, "malformed_json",
            "malformed JSON: %s", error->message);
    return NULL;
  }
  if (body->length == 0
      || !json_parser_load_from_data (parser, body->data, body->length,
                                      &error)) {
    reject (sig, msg, style, SOUP_STATUS_BAD_REQUEST, "malformed_json",
            "malformed JSON: %s", error ? error->message : "empty body");
    return NULL;
  }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    reject (sig, msg, style, SOUP_STATUS_BAD_REQUEST, "malformed_json",
            "malformed JSON: expected an object");
    return NULL;
  }
  return json_node_get_object (root);
}

/* The parts of an offer message both JSON routes share. */
static gboolean
read_json_offer (SxSignaling *sig, SoupServerMessage *msg, OfferStyle style,
                 JsonObject *obj, const gchar **sdp_text, gchar **camera_id)
{
  const gchar *type;
  if (!sx_offer_json_string (obj, "type", &type)
      || !sx_offer_json_string (obj, "sdp", sdp_text)) {
    reject (sig, msg, style, SOUP_STATUS_BAD_REQUEST, "malformed_json",
            "\"type\" and \"sdp\" must be strings");
    return FALSE;
  }
  if (!sx_offer_json_camera_id (obj, camera_id)) {
    reject (sig, msg, style, SOUP_STATUS_BAD_REQUEST, "bad_camera_id",
            "\"camera_id\" must be a string or an integer");
    return FALSE;
  }
  if (g_strcmp0 (type, "offer") != 0) {
    reject (sig, msg, style, SOUP_STATUS_BAD_REQUEST, "malformed_json",
            "\"type\" must be \"offer\"");
    return FALSE;
  }
  if (*sdp_text == NULL) {
    reject (sig, msg, style, SOUP_STATUS_BAD_REQUEST, "malformed_sdp",
            "missing \"sdp\"");
    return FALSE;
  }
  return TRUE;
}

/* POST /offer {"sdp","type":"offer","camera_id"?} -> {"sdp","type"} */
static gboolean
content_type_is (SoupServerMessage *msg, const gchar *expected)
{
  const gchar *type = soup_message_headers_get_content_type (
      soup_server_message_get_request_headers (msg), NULL);
  return g_strcmp0 (type, expected) == 0;
}

/* JSON routes take application/json only: a form or text/plain POST is
 * what any web page can send without asking (no CORS preflight). */
static gboolean
require_json (SxSignaling *sig, SoupServerMessage *msg, OfferStyle style)
{
  if (content_type_is (msg, "application/json"))
    return TRUE;
  reject (sig, msg, style, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
          "malformed_json", "send the body as application/json");
  return FALSE;
}

static void
handle_offer (SxSignaling *sig, SoupServerMessage *msg)
{
  if (!require_method (sig, msg, "POST") || !require_json (sig, msg, STYLE_SEED))
    return;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *obj = read_json_object (sig, msg, STYLE_SEED, parser);
  const gchar *sdp_text;
  g_autofree gchar *camera_id = NULL;
  if (obj == NULL
      || !read_json_offer (sig, msg, STYLE_SEED, obj, &sdp_text, &camera_id))
    return;
  if (camera_id == NULL) {
    /* a camera's own token names it; else a fresh id */
    const gchar *own = sx_identity_camera (identity_of (msg));
    g_autofree gchar *random = sx_random_id ();
    camera_id = own ? g_strdup (own) : g_strdup_printf ("cam-%.16s", random);
  }
  start_camera (sig, msg, STYLE_SEED, camera_id, sdp_text, NULL);
}

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
  if (peer == NULL || g_strcmp0 (peer->identity, identity_of (msg)) != 0) {
    reject (sig, msg, STYLE_FASTRTC, SOUP_STATUS_NOT_FOUND,
            FASTRTC_UNKNOWN_CONNECTION, "no connection %s", webrtc_id);
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
    reject (sig, msg, STYLE_FASTRTC, SOUP_STATUS_BAD_REQUEST,
            "malformed_candidate",
            "\"candidate\" must be {\"candidate\": string, \"sdpMid\": "
            "string, \"sdpMLineIndex\": integer}");
    return;
  }
  /* an empty candidate string is the browser's end-of-candidates */
  if (*candidate) {
    if (!sx_ice_candidate_is_valid (candidate)) {
      reject (sig, msg, STYLE_FASTRTC, SOUP_STATUS_BAD_REQUEST,
              "malformed_candidate", "malformed ICE candidate");
      return;
    }
    gint mline = peer_mline (peer, mid, index);
    if (mline < 0) {
      reject (sig, msg, STYLE_FASTRTC, SOUP_STATUS_BAD_REQUEST,
              "malformed_candidate",
              "the candidate's m-line is not in the offer");
      return;
    }
    if (peer->candidates >= MAX_CANDIDATES_PER_CAMERA) {
      reject (sig, msg, STYLE_FASTRTC, SOUP_STATUS_BAD_REQUEST,
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
  respond_json (sig, msg, SOUP_STATUS_OK, b);
}

/* POST /webrtc/offer: FastRTC's route, for offers and trickled
 * candidates. The camera id is the "camera_id" member or query parameter,
 * else the webrtc_id. */
static void
handle_fastrtc (SxSignaling *sig, SoupServerMessage *msg, GHashTable *query)
{
  if (!require_method (sig, msg, "POST")
      || !require_json (sig, msg, STYLE_FASTRTC))
    return;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *obj = read_json_object (sig, msg, STYLE_FASTRTC, parser);
  if (obj == NULL)
    return;
  const gchar *type, *webrtc_id;
  if (!sx_offer_json_string (obj, "type", &type)
      || !sx_offer_json_string (obj, "webrtc_id", &webrtc_id)
      || webrtc_id == NULL || *webrtc_id == '\0'
      || strlen (webrtc_id) > SX_CAMERA_ID_MAX_LEN) {
    reject (sig, msg, STYLE_FASTRTC, SOUP_STATUS_BAD_REQUEST, "malformed_json",
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
  if (!read_json_offer (sig, msg, STYLE_FASTRTC, obj, &sdp_text, &camera_id))
    return;
  const gchar *from_query
      = query ? g_hash_table_lookup (query, "camera_id") : NULL;
  if (camera_id == NULL)
    camera_id = g_strdup (from_query ? from_query : webrtc_id);
  Peer *same = find_fastrtc_peer (sig, webrtc_id);
  if (same && strcmp (sx_camera_get_id (same->camera), camera_id) != 0) {
    reject (sig, msg, STYLE_FASTRTC, SOUP_STATUS_CONFLICT,
            "duplicate_webrtc_id", "webrtc_id %s is in use by camera %s",
            webrtc_id, sx_camera_get_id (same->camera));
    return;
  }
  start_camera (sig, msg, STYLE_FASTRTC, camera_id, sdp_text, webrtc_id);
}

/* ---- WHIP (RFC 9725) ---- */

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

static void
add_ice_server_links (SxSignaling *sig, SoupServerMessage *msg)
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
    respond_error (sig, msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
                   "request body over the limit of %" G_GSIZE_FORMAT " bytes",
                   sig->options.max_body);
    return NULL;
  }
  if (body->length == 0 || memchr (body->data, '\0', body->length)) {
    respond_error (sig, msg, SOUP_STATUS_BAD_REQUEST,
                   body->length ? "NUL byte in the body" : "empty body");
    return NULL;
  }
  return g_strndup (body->data, body->length);
}

static void
whip_patch (SxSignaling *sig, SoupServerMessage *msg, Peer *peer)
{
  if (!content_type_is (msg, "application/trickle-ice-sdpfrag")) {
    respond_error (sig, msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
                   "PATCH takes application/trickle-ice-sdpfrag");
    return;
  }
  g_autofree gchar *text = read_text_body (sig, msg);
  if (text == NULL)
    return;
  g_autoptr (GError) error = NULL;
  g_autoptr (SxSdpFrag) frag = sx_sdp_frag_parse (text, strlen (text), &error);
  if (frag == NULL) {
    respond_error (sig, msg, SOUP_STATUS_BAD_REQUEST,
                   "malformed SDP fragment: %s", error->message);
    return;
  }
  if (frag->ice_ufrag && peer->ice_ufrag
      && strcmp (frag->ice_ufrag, peer->ice_ufrag) != 0) {
    /* a new ufrag is an ICE restart, which would need a new answer */
    respond_error (sig, msg, SOUP_STATUS_UNPROCESSABLE_ENTITY,
                   "ICE restart is not supported: POST a new offer");
    return;
  }
  guint added = 0;
  if (peer->candidates + frag->candidates->len > MAX_CANDIDATES_PER_CAMERA) {
    respond_error (sig, msg, SOUP_STATUS_BAD_REQUEST,
                   "camera %s: more than %d candidates",
                   sx_camera_get_id (peer->camera), MAX_CANDIDATES_PER_CAMERA);
    return;
  }
  for (guint i = 0; i < frag->candidates->len; i++) {
    SxFragCandidate *c = g_ptr_array_index (frag->candidates, i);
    gint mline = peer_mline (peer, c->mid, c->mid ? -1 : c->media);
    if (mline < 0) {
      respond_error (sig, msg, SOUP_STATUS_BAD_REQUEST,
                     "candidate %u: its m-line is not in the offer", i + 1);
      return;
    }
  }
  peer->candidates += frag->candidates->len;
  for (guint i = 0; i < frag->candidates->len; i++) {
    SxFragCandidate *c = g_ptr_array_index (frag->candidates, i);
    sx_camera_add_ice_candidate (
        peer->camera, peer_mline (peer, c->mid, c->mid ? -1 : c->media),
        c->candidate);
    added++;
  }
  g_message ("camera %s: %u trickled candidate(s)%s",
             sx_camera_get_id (peer->camera), added,
             frag->end_of_candidates ? ", end of candidates" : "");
  respond_empty (sig, msg, SOUP_STATUS_NO_CONTENT);
}

/* /whip/{camera_id}: POST an offer. /whip/{camera_id}/{session}: the
 * resource the 201's Location names, PATCH and DELETE. */
static void
handle_whip (SxSignaling *sig, SoupServerMessage *msg, const gchar *rest)
{
  g_auto (GStrv) parts = g_strsplit (rest, "/", 3);
  guint n = g_strv_length (parts);
  const gchar *method = soup_server_message_get_method (msg);
  if (n == 1) {
    if (!require_method (sig, msg, "POST"))
      return;
    if (!content_type_is (msg, "application/sdp")) {
      respond_error (sig, msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
                     "WHIP offers are application/sdp");
      return;
    }
    g_autofree gchar *sdp_text = read_text_body (sig, msg);
    if (sdp_text)
      start_camera (sig, msg, STYLE_WHIP, parts[0], sdp_text, NULL);
    return;
  }
  if (n != 2) {
    respond_error (sig, msg, SOUP_STATUS_NOT_FOUND, "no such WHIP resource");
    return;
  }
  if (!require_method (sig, msg, "PATCH, DELETE"))
    return;
  Peer *peer = lookup_peer (sig, parts[0]);
  if (peer == NULL || peer->style != STYLE_WHIP
      || !sx_secure_equal (peer->session, parts[1])
      || g_strcmp0 (peer->identity, identity_of (msg)) != 0) {
    respond_error (sig, msg, SOUP_STATUS_NOT_FOUND,
                   "no WHIP session %s for camera %s", parts[1], parts[0]);
    return;
  }
  if (strcmp (method, "DELETE") == 0) {
    close_camera (sig, peer->camera);
    respond_empty (sig, msg, SOUP_STATUS_OK);
  } else {
    whip_patch (sig, msg, peer);
  }
}

static void
handle_options (SxSignaling *sig, SoupServerMessage *msg, const gchar *path)
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
  if (g_str_has_prefix (path, "/whip/") && identity_of (msg) != NULL)
    add_ice_server_links (sig, msg);
  respond_empty (sig, msg, SOUP_STATUS_NO_CONTENT);
}

/* ---- the publisher page ---- */

static void
handle_page (SxSignaling *sig, SoupServerMessage *msg)
{
  if (!require_method (sig, msg, "GET, HEAD"))
    return;
  g_autoptr (GBytes) page = g_resources_lookup_data (
      PUBLISHER_PAGE, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  if (page == NULL) {
    respond_error (sig, msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
                   "the publisher page is missing from this build");
    return;
  }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Cache-Control", "no-store");
  gsize len;
  const gchar *data = g_bytes_get_data (page, &len);
  soup_server_message_set_response (msg, "text/html; charset=utf-8",
                                    SOUP_MEMORY_COPY, data, len);
  count_response (sig, SOUP_STATUS_OK);
}

/* ---- health and metrics ---- */

static void
handle_healthz (SxSignaling *sig, SoupServerMessage *msg)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, sig->shutting_down ? "stopping" : "ok");
  json_builder_set_member_name (b, "cameras");
  json_builder_add_int_value (b, g_hash_table_size (sig->peers));
  json_builder_end_object (b);
  respond_json (
      sig, msg,
      sig->shutting_down ? SOUP_STATUS_SERVICE_UNAVAILABLE : SOUP_STATUS_OK, b);
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar *const *)a, *(const gchar *const *)b);
}

static void
metric_header (GString *out, const gchar *name, const gchar *type,
               const gchar *help)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                          type);
}

static void
handle_metrics (SxSignaling *sig, SoupServerMessage *msg)
{
  GString *out = g_string_new (NULL);
  metric_header (out, "surveillx_cameras", "gauge", "Cameras with a pipeline.");
  g_string_append_printf (out, "surveillx_cameras %u\n",
                          g_hash_table_size (sig->peers));
  metric_header (out, "surveillx_pipelines", "gauge",
                 "Camera pipelines that exist, stopping ones included (what "
                 "--max-cameras bounds).");
  g_string_append_printf (out, "surveillx_pipelines %u\n",
                          g_hash_table_size (sig->peers) + sig->stops_in_flight
                              + sig->flushes_in_flight);
  metric_header (out, "surveillx_cameras_started_total", "counter",
                 "Camera pipelines started.");
  g_string_append_printf (
      out, "surveillx_cameras_started_total %" G_GUINT64_FORMAT "\n",
      sig->cameras_started);

  /* camera ids are validated ([A-Za-z0-9_-]), so safe as label values */
  g_autofree gpointer *ids = g_hash_table_get_keys_as_array (sig->peers, NULL);
  guint n_ids = g_hash_table_size (sig->peers);
  qsort (ids, n_ids, sizeof (gpointer), compare_strings);
  static const struct {
    const gchar *name, *type, *help;
  } per_camera[] = {
    { "surveillx_camera_frames_in_total", "counter",
      "VP8 frames received from the camera." },
    { "surveillx_camera_frames_emitted_total", "counter",
      "Frames socketiosink sent to the dashboard." },
    { "surveillx_camera_faces_total", "counter",
      "Faces in facerecog's analyses." },
    { "surveillx_camera_faces_carried_total", "counter",
      "Faces whose identity facerecog carried without a new descriptor." },
    { "surveillx_camera_analyses_total", "counter",
      "Frames facerecog analysed." },
    { "surveillx_camera_drops_total", "counter",
      "Frames socketiosink dropped." },
    { "surveillx_camera_connected", "gauge", "1 while ICE is connected." },
  };
  for (guint m = 0; m < G_N_ELEMENTS (per_camera); m++) {
    metric_header (out, per_camera[m].name, per_camera[m].type,
                   per_camera[m].help);
    for (guint i = 0; i < n_ids; i++) {
      SxCameraStats st;
      sx_camera_get_stats (lookup_peer (sig, ids[i])->camera, &st);
      guint64 values[]
          = { st.frames_in, st.frames_emitted, st.faces, st.faces_carried,
              st.analyses,  st.drops,          st.connected };
      g_string_append_printf (
          out, "%s{camera_id=\"%s\"} %" G_GUINT64_FORMAT "\n",
          per_camera[m].name, (const gchar *)ids[i], values[m]);
    }
  }
  metric_header (out, "surveillx_camera_ice_remote_candidate", "gauge",
                 "1 for the type of the peer's candidate in the selected ICE "
                 "pair (relay: through TURN).");
  for (guint i = 0; i < n_ids; i++) {
    SxCameraStats st;
    sx_camera_get_stats (lookup_peer (sig, ids[i])->camera, &st);
    if (st.remote_candidate_type[0]
        && g_regex_match_simple ("^[a-z]+$", st.remote_candidate_type, 0, 0))
      g_string_append_printf (
          out,
          "surveillx_camera_ice_remote_candidate{camera_id=\"%s\","
          "type=\"%s\"} 1\n",
          (const gchar *)ids[i], st.remote_candidate_type);
  }
  metric_header (out, "surveillx_camera_restarts_total", "counter",
                 "Pipelines replaced by a new offer for the same camera id.");
  g_autofree gpointer *rids
      = g_hash_table_get_keys_as_array (sig->restarts, NULL);
  guint n_rids = g_hash_table_size (sig->restarts);
  qsort (rids, n_rids, sizeof (gpointer), compare_strings);
  for (guint i = 0; i < n_rids; i++)
    g_string_append_printf (
        out, "surveillx_camera_restarts_total{camera_id=\"%s\"} %u\n",
        (const gchar *)rids[i],
        GPOINTER_TO_UINT (g_hash_table_lookup (sig->restarts, rids[i])));
  metric_header (out, "surveillx_http_responses_total", "counter",
                 "HTTP responses by status code.");
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, sig->responses);
  while (g_hash_table_iter_next (&it, &k, &v))
    g_string_append_printf (out,
                            "surveillx_http_responses_total{code=\"%u\"} %u\n",
                            GPOINTER_TO_UINT (k), GPOINTER_TO_UINT (v));

  SxListenerStats conns;
  sx_listener_get_stats (sig->listener, &conns);
  metric_header (out, "surveillx_http_connections", "gauge",
                 "HTTP connections open.");
  g_string_append_printf (out, "surveillx_http_connections %u\n", conns.open);
  static const struct {
    const gchar *name, *help;
  } conn_counters[] = {
    { "surveillx_http_connections_accepted_total", "HTTP connections accepted." },
    { "surveillx_http_connections_refused_total",
      "HTTP connections refused: over --max-connections or "
      "--max-connections-per-address." },
    { "surveillx_http_connections_timed_out_total",
      "HTTP connections closed for a request that did not arrive in time "
      "(--request-timeout) or idling too long (--idle-timeout)." },
    { "surveillx_http_accept_paused_total",
      "Times accepting paused because the process was out of file "
      "descriptors." },
  };
  guint64 conn_values[] = { conns.accepted, conns.refused, conns.timed_out,
                            conns.accept_paused };
  for (guint i = 0; i < G_N_ELEMENTS (conn_counters); i++) {
    metric_header (out, conn_counters[i].name, "counter",
                   conn_counters[i].help);
    g_string_append_printf (out, "%s %" G_GUINT64_FORMAT "\n",
                            conn_counters[i].name, conn_values[i]);
  }

#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 33)
  /* What the process has allocated, not what the allocator keeps resident:
   * RSS also holds freed memory in malloc's arenas, so a leak shows here
   * first (the soak test's bound; docs/performance.md). */
  struct mallinfo2 heap = mallinfo2 ();
  metric_header (out, "surveillx_heap_in_use_bytes", "gauge",
                 "Heap memory allocated and not freed (glibc's mallinfo2).");
  g_string_append_printf (out, "surveillx_heap_in_use_bytes %zu\n",
                          heap.uordblks + heap.hblkhd);
#endif

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  gsize len = out->len;
  soup_server_message_set_response (
      msg, "text/plain; version=0.0.4; charset=utf-8", SOUP_MEMORY_TAKE,
      g_string_free (out, FALSE), len);
  count_response (sig, SOUP_STATUS_OK);
}

static void
handler (SoupServer *server, SoupServerMessage *msg, const char *path,
         GHashTable *query, gpointer user_data)
{
  SxSignaling *sig = user_data;
  if (g_strcmp0 (soup_server_message_get_method (msg), "OPTIONS") == 0) {
    handle_options (sig, msg, path);
  } else if (g_strcmp0 (path, "/offer") == 0) {
    handle_offer (sig, msg);
  } else if (g_strcmp0 (path, "/webrtc/offer") == 0) {
    handle_fastrtc (sig, msg, query);
  } else if (g_str_has_prefix (path, "/whip/")) {
    handle_whip (sig, msg, path + 6);
  } else if (g_strcmp0 (path, "/") == 0) {
    handle_page (sig, msg);
  } else if (g_strcmp0 (path, "/healthz") == 0) {
    handle_healthz (sig, msg);
  } else if (g_strcmp0 (path, "/metrics") == 0) {
    handle_metrics (sig, msg);
  } else {
    respond_error (sig, msg, SOUP_STATUS_NOT_FOUND, "no route %s", path);
  }
}

/* ---- life cycle ---- */

SxSignaling *
sx_signaling_new (const gchar *pipe_text, const gchar *origin, GHashTable *vars,
                  const SxSignalingOptions *options)
{
  SxSignaling *sig = g_new0 (SxSignaling, 1);
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
  g_message ("camera %s: flushed", sx_camera_get_id (camera));
  if (sig->eos_pending > 0 && --sig->eos_pending == 0)
    stop_all (sig);
}

static gboolean
on_eos_timeout (gpointer user_data)
{
  SxSignaling *sig = user_data;
  g_warning ("%u camera(s) did not flush within %u ms: stopping anyway",
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
  g_message ("shutting down: EOS sent to %u camera(s)", sig->eos_pending);
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
  g_free (sig);
}
