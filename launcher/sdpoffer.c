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

gint
sx_sdp_find_vp8_payload (const GstSDPMessage *offer, guint *media_index,
                         guint *twcc_extmap_id)
{
  for (guint i = 0; i < gst_sdp_message_medias_len (offer); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (offer, i);
    if (g_strcmp0 (gst_sdp_media_get_media (m), "video") != 0
        || gst_sdp_media_get_port (m) == 0)
      continue;
    gint pt = -1;
    guint twcc = 0;
    for (guint j = 0; j < gst_sdp_media_attributes_len (m); j++) {
      const GstSDPAttribute *a = gst_sdp_media_get_attribute (m, j);
      if (a->value == NULL)
        continue;
      if (pt < 0 && g_strcmp0 (a->key, "rtpmap") == 0) {
        /* "96 VP8/90000" */
        gint n = leading_number (a->value, 0, 127, " ");
        const gchar *name = n >= 0 ? strchr (a->value, ' ') + 1 : NULL;
        if (name && g_ascii_strncasecmp (name, "VP8/", 4) == 0)
          pt = n;
      } else if (g_strcmp0 (a->key, "extmap") == 0
                 && strstr (a->value, TWCC_URI_PART)) {
        /* "3 http://...transport-wide-cc-extensions-01" or "3/sendrecv ..." */
        gint n = leading_number (a->value, 1, 255, " /");
        if (n > 0)
          twcc = n;
      }
    }
    if (pt >= 0) {
      if (media_index)
        *media_index = i;
      if (twcc_extmap_id)
        *twcc_extmap_id = twcc;
      return pt;
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
