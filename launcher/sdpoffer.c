/* What the launcher reads in (and mends of) a camera's SDP offer before
 * webrtcbin sees it: plain GstSDP, no pipeline, so the offer fuzzer calls
 * it as it is.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sdpoffer.h"

#include <string.h>

#define TWCC_URI_PART "transport-wide-cc-extensions"

/* The decimal number at the start of @text, within [@min, @max] and
 * followed by @next (a space, or '/' for extmap directions); -1 otherwise.
 * Not sscanf: "%d" on an out-of-range number is undefined behaviour. */
static gint
leading_number (const gchar *text, gint min, gint max, const gchar *next)
{
  gint value = 0;
  const gchar *p = text;
  for (; g_ascii_isdigit (*p); p++) {
    value = value * 10 + (*p - '0');
    if (value > max)
      return -1;
  }
  if (p == text || value < min || *p == '\0' || strchr (next, *p) == NULL)
    return -1;
  return value;
}

/* The value of @key in an fmtp parameter list ("a=1;key=v;..."), or NULL */
static gchar *
fmtp_value (const gchar *params, const gchar *key)
{
  g_auto (GStrv) parts = g_strsplit (params, ";", 16);
  for (gchar **p = parts; *p; p++) {
    gchar *item = g_strstrip (*p);
    gsize n = strlen (key);
    if (g_ascii_strncasecmp (item, key, n) == 0 && item[n] == '=')
      return g_strdup (item + n + 1);
  }
  return NULL;
}

/* How much the launcher wants payload @pt of @encoding_name given its
 * fmtp line (NULL if none): higher is better, ties go to the first
 * offered. H.264: packetization-mode=1 (frames of any size) over 0, then
 * the baseline profiles, which every H.264 decoder takes. VP9: profile 0
 * (8-bit 4:2:0) over the others. */
static gint
payload_score (const gchar *encoding_name, const gchar *fmtp)
{
  gint score = 0;
  if (fmtp == NULL)
    return g_ascii_strcasecmp (encoding_name, "H264") == 0 ? 1 : 2;
  if (g_ascii_strcasecmp (encoding_name, "H264") == 0) {
    g_autofree gchar *mode = fmtp_value (fmtp, "packetization-mode");
    g_autofree gchar *profile = fmtp_value (fmtp, "profile-level-id");
    if (g_strcmp0 (mode, "1") == 0)
      score += 2;
    if (profile && g_ascii_strncasecmp (profile, "42", 2) == 0)
      score += 1;
  } else if (g_ascii_strcasecmp (encoding_name, "VP9") == 0) {
    g_autofree gchar *profile = fmtp_value (fmtp, "profile-id");
    if (profile == NULL || strcmp (profile, "0") == 0)
      score += 2;
  } else {
    score += 2;
  }
  return score;
}

gint
sx_sdp_find_video_payload (const GstSDPMessage *offer,
                           const gchar *encoding_name, guint *media_index,
                           guint *twcc_extmap_id)
{
  gsize name_len = strlen (encoding_name);
  for (guint i = 0; i < gst_sdp_message_medias_len (offer); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (offer, i);
    if (g_strcmp0 (gst_sdp_media_get_media (m), "video") != 0
        || gst_sdp_media_get_port (m) == 0)
      continue;
    gint best = -1, best_score = -1;
    guint twcc = 0;
    for (guint j = 0; j < gst_sdp_media_attributes_len (m); j++) {
      const GstSDPAttribute *a = gst_sdp_media_get_attribute (m, j);
      if (a->value == NULL)
        continue;
      if (g_strcmp0 (a->key, "rtpmap") == 0) {
        /* "96 VP8/90000" */
        gint n = leading_number (a->value, 0, 127, " ");
        const gchar *name = n >= 0 ? strchr (a->value, ' ') + 1 : NULL;
        if (name == NULL || g_ascii_strncasecmp (name, encoding_name, name_len)
            || name[name_len] != '/')
          continue;
        /* its format parameters: "a=fmtp:96 profile-id=0" */
        const gchar *fmtp = NULL;
        for (guint k = 0; k < gst_sdp_media_attributes_len (m); k++) {
          const GstSDPAttribute *f = gst_sdp_media_get_attribute (m, k);
          if (g_strcmp0 (f->key, "fmtp") == 0 && f->value
              && leading_number (f->value, 0, 127, " ") == n) {
            fmtp = strchr (f->value, ' ') + 1;
            break;
          }
        }
        gint score = payload_score (encoding_name, fmtp);
        if (score > best_score) {
          best = n;
          best_score = score;
        }
      } else if (g_strcmp0 (a->key, "extmap") == 0
                 && strstr (a->value, TWCC_URI_PART)) {
        /* "3 http://...transport-wide-cc-extensions-01" or "3/sendrecv ..." */
        gint n = leading_number (a->value, 1, 255, " /");
        if (n > 0)
          twcc = n;
      }
    }
    if (best >= 0) {
      if (media_index)
        *media_index = i;
      if (twcc_extmap_id)
        *twcc_extmap_id = twcc;
      return best;
    }
  }
  return -1;
}

/* webrtcbin refuses a BUNDLE group whose ICE credentials differ (sdpoffer.h) */
gboolean
sx_sdp_unbundle_if_inconsistent (GstSDPMessage *offer)
{
  const gchar *first = NULL;
  gboolean differ = FALSE;
  for (guint i = 0; i < gst_sdp_message_medias_len (offer); i++) {
    const gchar *ufrag = gst_sdp_media_get_attribute_val (
        gst_sdp_message_get_media (offer, i), "ice-ufrag");
    if (ufrag == NULL)
      continue;
    if (first == NULL)
      first = ufrag;
    else if (strcmp (first, ufrag) != 0)
      differ = TRUE;
  }
  if (!differ)
    return FALSE;
  for (guint i = gst_sdp_message_attributes_len (offer); i-- > 0;) {
    const GstSDPAttribute *a = gst_sdp_message_get_attribute (offer, i);
    if (g_strcmp0 (a->key, "group") == 0 && a->value
        && g_str_has_prefix (a->value, "BUNDLE")) {
      gst_sdp_message_remove_attribute (offer, i);
    }
  }
  return TRUE;
}

gboolean
sx_sdp_has_bundle (const GstSDPMessage *offer)
{
  for (guint i = 0; i < gst_sdp_message_attributes_len (offer); i++) {
    const GstSDPAttribute *a = gst_sdp_message_get_attribute (offer, i);
    if (g_strcmp0 (a->key, "group") == 0 && a->value
        && g_str_has_prefix (a->value, "BUNDLE"))
      return TRUE;
  }
  return FALSE;
}
