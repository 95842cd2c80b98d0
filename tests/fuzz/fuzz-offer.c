/* libFuzzer target: what the launcher does with an offer request body
 * before any pipeline exists (launcher/signaling.c, launcher/camera.c).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * signaling.c is a libsoup server and cannot be driven without one, so this
 * parses the body as its read_json_object() does, reads the members with
 * the same functions (launcher/offerjson.c) and then calls the real code on
 * the result:
 * sx_camera_id_is_valid(), gst_sdp_message_parse_buffer() and the offer
 * helpers of launcher/sdpoffer.c.
 *
 * The input is a JSON body (POST /offer, POST /webrtc/offer), checked by
 * sx_json_check() as the routes do (what passes has no comment, quote or
 * other token beyond JSON outside strings), or, when it
 * starts with "v=0", an SDP offer as WHIP posts it. Invariants:
 *  - sx_sdp_find_video_payload() returns, for each codec, -1 or a payload
 *    type 0..127 that an rtpmap of a video section with a non-zero port maps
 *    to that codec, the section's index, and a
 *    transport-cc extension id 0..255; the same with NULL out-parameters;
 *  - sx_sdp_unbundle_if_inconsistent() changes neither, and leaves no BUNDLE
 *    group when the sections' ICE ufrags differ;
 *  - a camera id accepted by sx_camera_id_is_valid() is 1..64 characters
 *    of [A-Za-z0-9_-];
 *  - no GLib critical or warning (GstSDP, json-glib preconditions).
 */
#include "fuzz-common.h"

#include "offerjson.h"
#include "pipefile.h"
#include "sdpfrag.h"
#include "sdpoffer.h"
#include "sxjson.h"

#include <gst/gst.h>
#include <string.h>

#include <json-glib/json-glib.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  /* no plugins needed, so no registry scan (and no plugin loaded into the
   * sanitized process) */
  g_setenv ("GST_PLUGIN_SYSTEM_PATH_1_0", "", TRUE);
  g_setenv ("GST_PLUGIN_PATH_1_0", "", TRUE);
  g_setenv ("GST_PLUGIN_PATH", "", TRUE);
  g_autofree gchar *registry = g_build_filename (
      g_get_tmp_dir (), "surveillx-fuzz-offer-registry.bin", NULL);
  g_setenv ("GST_REGISTRY", registry, TRUE);
  gst_init (NULL, NULL);
  fuzz_make_criticals_fatal ();
  return 0;
}

static void
check_camera_id (const gchar *id)
{
  if (id == NULL || !sx_camera_id_is_valid (id))
    return;
  gsize n = strlen (id);
  FUZZ_CHECK (n >= 1 && n <= SX_CAMERA_ID_MAX_LEN);
  FUZZ_CHECK (strspn (id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                          "0123456789_-")
              == n);
}

static gboolean
ufrags_differ (const GstSDPMessage *offer)
{
  const gchar *first = NULL;
  for (guint i = 0; i < gst_sdp_message_medias_len (offer); i++) {
    const gchar *u = gst_sdp_media_get_attribute_val (
        gst_sdp_message_get_media (offer, i), "ice-ufrag");
    if (u == NULL)
      continue;
    if (first == NULL)
      first = u;
    else if (strcmp (first, u) != 0)
      return TRUE;
  }
  return FALSE;
}

/* start_camera()'s SDP checks, then what negotiate() asks of the offer */
static void
check_sdp (const gchar *sdp_text)
{
  if (sdp_text == NULL || !g_str_has_prefix (sdp_text, "v=0"))
    return;
  GstSDPMessage *offer = NULL;
  gst_sdp_message_new (&offer);
  if (gst_sdp_message_parse_buffer ((const guint8 *)sdp_text, strlen (sdp_text),
                                    offer)
          != GST_SDP_OK
      || gst_sdp_message_medias_len (offer) == 0) {
    gst_sdp_message_free (offer);
    return;
  }

  static const gchar *const codecs[] = { "VP8", "H264", "VP9" };
  guint index[3], twcc[3];
  gint pt[3];
  for (guint c = 0; c < G_N_ELEMENTS (codecs); c++) {
    index[c] = twcc[c] = G_MAXUINT;
    pt[c] = sx_sdp_find_video_payload (offer, codecs[c], &index[c], &twcc[c]);
    FUZZ_CHECK (pt[c] >= -1 && pt[c] <= 127);
    FUZZ_CHECK (sx_sdp_find_video_payload (offer, codecs[c], NULL, NULL)
                == pt[c]);
    if (pt[c] >= 0) {
      FUZZ_CHECK (index[c] < gst_sdp_message_medias_len (offer));
      const GstSDPMedia *m = gst_sdp_message_get_media (offer, index[c]);
      FUZZ_CHECK (g_strcmp0 (gst_sdp_media_get_media (m), "video") == 0);
      FUZZ_CHECK (gst_sdp_media_get_port (m) != 0);
      FUZZ_CHECK (twcc[c] <= 255);
      /* the payload is one the section maps to that codec */
      gboolean mapped = FALSE;
      for (guint j = 0; j < gst_sdp_media_attributes_len (m) && !mapped; j++) {
        const GstSDPAttribute *a = gst_sdp_media_get_attribute (m, j);
        if (g_strcmp0 (a->key, "rtpmap") != 0 || a->value == NULL)
          continue;
        gchar *end = NULL;
        glong n = strtol (a->value, &end, 10);
        gsize len = strlen (codecs[c]);
        mapped = n == pt[c] && *end == ' '
                 && g_ascii_strncasecmp (end + 1, codecs[c], len) == 0
                 && end[1 + len] == '/';
      }
      FUZZ_CHECK (mapped);
    }
  }

  gboolean differ = ufrags_differ (offer);
  sx_sdp_unbundle_if_inconsistent (offer);
  for (guint c = 0; c < G_N_ELEMENTS (codecs); c++) {
    guint index2 = G_MAXUINT, twcc2 = G_MAXUINT;
    FUZZ_CHECK (sx_sdp_find_video_payload (offer, codecs[c], &index2, &twcc2)
                == pt[c]);
    FUZZ_CHECK (index2 == index[c] && twcc2 == twcc[c]);
  }
  if (differ)
    FUZZ_CHECK (!sx_sdp_has_bundle (offer));
  gst_sdp_message_free (offer);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  if (size >= 3 && memcmp (data, "v=0", 3) == 0) {
    /* WHIP: read_text_body() refuses NUL bytes, then a C string */
    if (memchr (data, '\0', size) == NULL) {
      g_autofree gchar *sdp = g_strndup ((const gchar *)data, size);
      check_sdp (sdp);
    }
    return 0;
  }

  /* read_json_object(): the body exactly as long as libsoup gives it,
   * through the guard first */
  if (size == 0)
    return 0;
  g_autoptr (GError) error = NULL;
  if (!sx_json_check ((const gchar *)data, size, SX_JSON_MAX_DEPTH, &error)) {
    FUZZ_CHECK (error != NULL);
    return 0;
  }
  /* what passes is free of what json-glib takes beyond JSON */
  FUZZ_CHECK (error == NULL);
  gboolean quoted = FALSE;
  for (size_t i = 0; i < size; i++) {
    if (quoted && data[i] == '\\')
      i++;
    else if (data[i] == '"')
      quoted = !quoted;
    else if (!quoted)
      FUZZ_CHECK (data[i] != '/' && data[i] != '\'' && data[i] != '#');
  }
  gchar *body = g_memdup2 (data, size);
  g_autoptr (JsonParser) parser = json_parser_new ();
  gboolean parsed
      = json_parser_load_from_data (parser, body, (gssize)size, &error);
  g_free (body);
  FUZZ_CHECK (parsed == (error == NULL));
  if (!parsed)
    return 0;
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return 0;
  JsonObject *obj = json_node_get_object (root);

  /* FastRTC: {"type":"ice-candidate","webrtc_id","candidate":{...}} */
  const gchar *type = NULL, *webrtc_id = NULL;
  if (sx_offer_json_string (obj, "type", &type)
      && sx_offer_json_string (obj, "webrtc_id", &webrtc_id)
      && g_strcmp0 (type, "ice-candidate") == 0) {
    JsonNode *node = json_object_get_member (obj, "candidate");
    if (node && JSON_NODE_HOLDS_OBJECT (node)) {
      const gchar *candidate = NULL, *mid = NULL;
      JsonObject *c = json_node_get_object (node);
      if (sx_offer_json_string (c, "candidate", &candidate)
          && sx_offer_json_string (c, "sdpMid", &mid) && candidate && *candidate
          && sx_ice_candidate_is_valid (candidate))
        FUZZ_CHECK (g_str_has_prefix (candidate, "candidate:")
                    && strlen (candidate) <= SX_ICE_CANDIDATE_MAX_LEN);
    }
    return 0;
  }

  /* read_json_offer() */
  const gchar *sdp_text = NULL;
  g_autofree gchar *camera_id = NULL;
  if (!sx_offer_json_string (obj, "type", &type)
      || !sx_offer_json_string (obj, "sdp", &sdp_text)
      || !sx_offer_json_camera_id (obj, &camera_id))
    return 0;
  check_camera_id (camera_id);
  check_camera_id (webrtc_id);
  if (g_strcmp0 (type, "offer") != 0 || sdp_text == NULL)
    return 0;
  check_sdp (sdp_text);
  return 0;
}
