/* The launcher's HTTP side: WebRTC offers in, one camera pipeline each.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "signaling.h"

#include "pipefile.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

struct _SxSignaling {
  SoupServer *server;
  gchar *pipe_text;
  gchar *origin;
  GHashTable *vars;
  SxSignalingOptions options;

  GHashTable *cameras;   /* id -> SxCamera (ref) */
  GHashTable *restarts;  /* id -> GUINT_TO_POINTER (count) */
  GHashTable *responses; /* status code -> GUINT_TO_POINTER (count) */
  guint64 cameras_started;
  guint stops_in_flight;

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

static void respond_error (SxSignaling *sig, SoupServerMessage *msg,
                           guint status, const gchar *format, ...)
    G_GNUC_PRINTF (4, 5);

static void
respond_error (SxSignaling *sig, SoupServerMessage *msg, guint status,
               const gchar *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree gchar *reason = g_strdup_vprintf (format, args);
  va_end (args);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_add_string_value (b, reason);
  json_builder_end_object (b);
  respond_json (sig, msg, status, b);
  g_message ("%s %s -> %u: %s", soup_server_message_get_method (msg),
             g_uri_get_path (soup_server_message_get_uri (msg)), status,
             reason);
}

/* ---- authentication and limits, before the body is read ---- */

static gboolean
token_matches (const gchar *expected, const gchar *header)
{
  if (header == NULL || g_ascii_strncasecmp (header, "Bearer ", 7) != 0)
    return FALSE;
  const gchar *given = header + 7;
  gsize a = strlen (expected), b = strlen (given);
  /* compare every byte whatever the first difference: the time taken says
   * nothing about how much of the token was right */
  guint diff = a ^ b;
  for (gsize i = 0; i < b; i++)
    diff |= (guchar)given[i] ^ (guchar)expected[a ? i % a : 0];
  return diff == 0;
}

static void
early_handler (SoupServer *server, SoupServerMessage *msg, const char *path,
               GHashTable *query, gpointer user_data)
{
  SxSignaling *sig = user_data;
  if (sig->options.token && g_strcmp0 (path, "/healthz") != 0) {
    SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
    if (!token_matches (sig->options.token,
                        soup_message_headers_get_one (h, "Authorization"))) {
      soup_message_headers_replace (
          soup_server_message_get_response_headers (msg), "WWW-Authenticate",
          "Bearer");
      respond_error (sig, msg, SOUP_STATUS_UNAUTHORIZED,
                     "missing or wrong bearer token");
      return;
    }
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
      break;
    case SOUP_ENCODING_CHUNKED:
      /* its size is unknown until read: ask for a Content-Length rather
       * than buffer an unbounded body */
      respond_error (
          sig, msg, SOUP_STATUS_LENGTH_REQUIRED,
          "chunked request bodies are not accepted: send Content-Length");
      break;
    default:
      break;
  }
}

/* ---- cameras ---- */

static void maybe_finish_shutdown (SxSignaling *sig);

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
  if (g_hash_table_lookup (sig->cameras, id) == camera)
    g_hash_table_remove (sig->cameras, id);
}

static void
on_camera_stopped_itself (SxCamera *camera, const gchar *reason,
                          gpointer user_data)
{
  retire_camera (user_data, camera, reason);
}

typedef struct {
  SxSignaling *sig;
  SoupServerMessage *msg;
  gboolean gone; /* the client went away meanwhile */
} PendingOffer;

static void
on_msg_gone (SoupServerMessage *msg, PendingOffer *pending)
{
  pending->gone = TRUE;
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
      respond_error (
          sig, msg,
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA)
              ? SOUP_STATUS_BAD_REQUEST
              : SOUP_STATUS_INTERNAL_SERVER_ERROR,
          "camera %s: %s", sx_camera_get_id (camera), error->message);
    } else {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "sdp");
      json_builder_add_string_value (b, answer_sdp);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, "answer");
      json_builder_set_member_name (b, "camera_id");
      json_builder_add_string_value (b, sx_camera_get_id (camera));
      json_builder_end_object (b);
      respond_json (sig, msg, SOUP_STATUS_OK, b);
      g_message ("camera %s: answered", sx_camera_get_id (camera));
    }
    soup_server_message_unpause (msg);
  }
  g_object_unref (msg);
  g_free (pending);
}

/* Reads a JSON member that must be a string (or absent). */
static gboolean
get_string_member (JsonObject *obj, const gchar *name, const gchar **out,
                   gchar **reason)
{
  JsonNode *node = json_object_get_member (obj, name);
  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING) {
    *reason = g_strdup_printf ("\"%s\" must be a string", name);
    return FALSE;
  }
  *out = json_node_get_string (node);
  return TRUE;
}

static gchar *
new_camera_id (void)
{
  return g_strdup_printf ("cam-%08x", g_random_int ());
}

static void
handle_offer (SxSignaling *sig, SoupServerMessage *msg)
{
  if (g_strcmp0 (soup_server_message_get_method (msg), "POST") != 0) {
    soup_message_headers_replace (
        soup_server_message_get_response_headers (msg), "Allow", "POST");
    respond_error (sig, msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use POST");
    return;
  }
  if (sig->shutting_down) {
    respond_error (sig, msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "shutting down");
    return;
  }
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  if ((gsize)body->length > sig->options.max_body) {
    respond_error (sig, msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
                   "request body over the limit of %" G_GSIZE_FORMAT " bytes",
                   sig->options.max_body);
    return;
  }

  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  if (body->length == 0
      || !json_parser_load_from_data (parser, body->data, body->length,
                                      &error)) {
    respond_error (sig, msg, SOUP_STATUS_BAD_REQUEST, "malformed JSON: %s",
                   error ? error->message : "empty body");
    return;
  }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    respond_error (sig, msg, SOUP_STATUS_BAD_REQUEST,
                   "malformed JSON: expected an object {\"sdp\", \"type\"}");
    return;
  }
  JsonObject *obj = json_node_get_object (root);
  const gchar *type, *sdp_text, *camera_id = NULL;
  g_autofree gchar *reason = NULL;
  g_autofree gchar *own_id = NULL;
  if (!get_string_member (obj, "type", &type, &reason)
      || !get_string_member (obj, "sdp", &sdp_text, &reason)) {
    respond_error (sig, msg, SOUP_STATUS_BAD_REQUEST, "%s", reason);
    return;
  }
  /* camera_id: a string, or a number as the dashboard's ids often are */
  JsonNode *idnode = json_object_get_member (obj, "camera_id");
  if (idnode && JSON_NODE_HOLDS_VALUE (idnode)
      && json_node_get_value_type (idnode) == G_TYPE_INT64) {
    camera_id = own_id
        = g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (idnode));
  } else if (!get_string_member (obj, "camera_id", &camera_id, &reason)) {
    respond_error (sig, msg, SOUP_STATUS_BAD_REQUEST,
                   "\"camera_id\" must be a string or an integer");
    return;
  }
  if (g_strcmp0 (type, "offer") != 0) {
    respond_error (sig, msg, SOUP_STATUS_BAD_REQUEST,
                   "\"type\" must be \"offer\"");
    return;
  }
  if (sdp_text == NULL) {
    respond_error (sig, msg, SOUP_STATUS_BAD_REQUEST, "missing \"sdp\"");
    return;
  }
  if (camera_id == NULL)
    camera_id = own_id = new_camera_id ();
  if (!sx_camera_id_is_valid (camera_id)) {
    respond_error (sig, msg, SOUP_STATUS_BAD_REQUEST,
                   "bad camera_id: 1 to %d characters of A-Z a-z 0-9 _ -",
                   SX_CAMERA_ID_MAX_LEN);
    return;
  }

  /* GstSDP accepts nearly any text; an offer we can use starts with v=0
   * and has a VP8 video section */
  GstSDPMessage *offer = NULL;
  gst_sdp_message_new (&offer);
  if (!g_str_has_prefix (sdp_text, "v=0")
      || gst_sdp_message_parse_buffer ((const guint8 *)sdp_text,
                                       strlen (sdp_text), offer)
             != GST_SDP_OK
      || gst_sdp_message_medias_len (offer) == 0) {
    gst_sdp_message_free (offer);
    respond_error (
        sig, msg, SOUP_STATUS_BAD_REQUEST,
        "malformed SDP: expected an offer starting with v=0 and with at "
        "least one m= section");
    return;
  }
  if (sx_sdp_find_vp8_payload (offer, NULL, NULL) < 0) {
    gst_sdp_message_free (offer);
    respond_error (sig, msg, SOUP_STATUS_BAD_REQUEST,
                   "the offer has no VP8 video section");
    return;
  }

  SxCamera *old = g_hash_table_lookup (sig->cameras, camera_id);
  if (old == NULL
      && g_hash_table_size (sig->cameras) >= sig->options.max_cameras) {
    gst_sdp_message_free (offer);
    respond_error (sig, msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
                   "already %u cameras (--max-cameras)",
                   sig->options.max_cameras);
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
    respond_error (sig, msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "%s",
                   error->message);
    return;
  }

  if (old) {
    /* a camera that reconnects (new offer, same id) replaces its pipeline:
     * the old peer connection is dead or about to be */
    guint n = GPOINTER_TO_UINT (g_hash_table_lookup (sig->restarts, camera_id));
    g_hash_table_insert (sig->restarts, g_strdup (camera_id),
                         GUINT_TO_POINTER (n + 1));
    retire_camera (sig, old, "replaced by a new offer");
  }

  SxCamera *camera = sx_camera_new (camera_id, text, &sig->options.camera,
                                    on_camera_stopped_itself, sig, &error);
  if (camera == NULL) {
    gst_sdp_message_free (offer);
    respond_error (sig, msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "camera %s: %s",
                   camera_id, error->message);
    return;
  }
  g_hash_table_insert (sig->cameras, g_strdup (camera_id), camera);
  sig->cameras_started++;
  g_message ("camera %s: offer received, starting its pipeline", camera_id);

  PendingOffer *pending = g_new0 (PendingOffer, 1);
  pending->sig = sig;
  pending->msg = g_object_ref (msg);
  g_signal_connect (msg, "finished", G_CALLBACK (on_msg_gone), pending);
  g_signal_connect (msg, "disconnected", G_CALLBACK (on_msg_gone), pending);
  soup_server_message_pause (msg);
  sx_camera_answer (camera, offer, on_answer, pending);
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
  json_builder_add_int_value (b, g_hash_table_size (sig->cameras));
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
                          g_hash_table_size (sig->cameras));
  metric_header (out, "surveillx_cameras_started_total", "counter",
                 "Camera pipelines started.");
  g_string_append_printf (
      out, "surveillx_cameras_started_total %" G_GUINT64_FORMAT "\n",
      sig->cameras_started);

  /* camera ids are validated ([A-Za-z0-9_-]), so safe as label values */
  g_autofree gpointer *ids
      = g_hash_table_get_keys_as_array (sig->cameras, NULL);
  guint n_ids = g_hash_table_size (sig->cameras);
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
    { "surveillx_camera_drops_total", "counter",
      "Frames socketiosink dropped." },
    { "surveillx_camera_connected", "gauge", "1 while ICE is connected." },
  };
  for (guint m = 0; m < G_N_ELEMENTS (per_camera); m++) {
    metric_header (out, per_camera[m].name, per_camera[m].type,
                   per_camera[m].help);
    for (guint i = 0; i < n_ids; i++) {
      SxCameraStats st;
      sx_camera_get_stats (g_hash_table_lookup (sig->cameras, ids[i]), &st);
      guint64 values[] = { st.frames_in, st.frames_emitted, st.faces, st.drops,
                           st.connected };
      g_string_append_printf (
          out, "%s{camera_id=\"%s\"} %" G_GUINT64_FORMAT "\n",
          per_camera[m].name, (const gchar *)ids[i], values[m]);
    }
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
  if (g_strcmp0 (path, "/offer") == 0) {
    handle_offer (sig, msg);
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
  sig->options.token = g_strdup (options->token);
  sig->options.camera.stun_server = g_strdup (options->camera.stun_server);
  sig->options.camera.turn_servers = g_strdupv (options->camera.turn_servers);
  sig->options.camera.ice_address = g_strdup (options->camera.ice_address);
  sig->cameras = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify)sx_camera_unref);
  sig->restarts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  sig->responses = g_hash_table_new (g_direct_hash, g_direct_equal);
  sig->server = soup_server_new ("server-header", "surveillx-launcher ", NULL);
  soup_server_add_early_handler (sig->server, NULL, early_handler, sig, NULL);
  soup_server_add_handler (sig->server, NULL, handler, sig, NULL);
  return sig;
}

gboolean
sx_signaling_listen (SxSignaling *sig, const gchar *address, guint port,
                     GError **error)
{
  if (address == NULL || g_strcmp0 (address, "0.0.0.0") == 0)
    return soup_server_listen_all (sig->server, port, 0, error);
  g_autoptr (GInetAddress) inet = g_inet_address_new_from_string (address);
  if (inet == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "--address %s: not an IP address", address);
    return FALSE;
  }
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (inet, port);
  return soup_server_listen (sig->server, sa, 0, error);
}

gchar *
sx_signaling_get_uri (SxSignaling *sig)
{
  GSList *uris = soup_server_get_uris (sig->server);
  gchar *s = uris ? g_uri_to_string (uris->data) : NULL;
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);
  return s;
}

static void
maybe_finish_shutdown (SxSignaling *sig)
{
  if (!sig->shutting_down || sig->eos_pending > 0
      || g_hash_table_size (sig->cameras) > 0 || sig->stops_in_flight > 0
      || sig->shutdown_done == NULL)
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
  GList *cams = g_hash_table_get_values (sig->cameras);
  for (GList *l = cams; l; l = l->next)
    sx_camera_ref (l->data);
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
  soup_server_disconnect (sig->server);
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init (&it, sig->cameras);
  while (g_hash_table_iter_next (&it, NULL, &v)) {
    if (sx_camera_send_eos (v, on_eos_done, sig))
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
  g_clear_object (&sig->server);
  g_hash_table_unref (sig->cameras);
  g_hash_table_unref (sig->restarts);
  g_hash_table_unref (sig->responses);
  g_hash_table_unref (sig->vars);
  g_free (sig->pipe_text);
  g_free (sig->origin);
  g_free (sig->options.token);
  g_free (sig->options.camera.stun_server);
  g_strfreev (sig->options.camera.turn_servers);
  g_free (sig->options.camera.ice_address);
  g_free (sig);
}
