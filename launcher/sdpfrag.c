/* Trickle ICE SDP fragments (RFC 8840).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sdpfrag.h"

#include <string.h>

GQuark
sx_sdp_frag_error_quark (void)
{
  return g_quark_from_static_string ("sx-sdp-frag-error-quark");
}

gboolean
sx_ice_candidate_is_valid (const gchar *candidate)
{
  if (candidate == NULL || !g_str_has_prefix (candidate, "candidate:"))
    return FALSE;
  gsize n = 0;
  for (const gchar *p = candidate; *p; p++, n++)
    if (!g_ascii_isprint (*p) || n >= SX_ICE_CANDIDATE_MAX_LEN)
      return FALSE;
  return strstr (candidate, " typ ") != NULL;
}

static void
frag_candidate_free (gpointer data)
{
  SxFragCandidate *c = data;
  g_free (c->mid);
  g_free (c->candidate);
  g_free (c);
}

void
sx_sdp_frag_free (SxSdpFrag *frag)
{
  if (frag == NULL)
    return;
  g_free (frag->ice_ufrag);
  g_free (frag->ice_pwd);
  g_ptr_array_unref (frag->candidates);
  g_free (frag);
}

/* ICE ufrag/pwd and mids are short tokens: printable, no spaces. */
static gboolean
token_is_valid (const gchar *s)
{
  if (*s == '\0' || strlen (s) > 256)
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isgraph (*s))
      return FALSE;
  return TRUE;
}

SxSdpFrag *
sx_sdp_frag_parse (const gchar *text, gsize len, GError **error)
{
  if (memchr (text, '\0', len) != NULL) {
    g_set_error (error, SX_SDP_FRAG_ERROR, 0, "NUL byte in the fragment");
    return NULL;
  }
  g_autofree gchar *copy = g_strndup (text, len);
  g_auto (GStrv) lines = g_strsplit (copy, "\n", -1);
  g_autoptr (SxSdpFrag) frag = g_new0 (SxSdpFrag, 1);
  frag->candidates = g_ptr_array_new_with_free_func (frag_candidate_free);
  gint media = -1;
  const gchar *mid = NULL;

  for (guint i = 0; lines[i]; i++) {
    gchar *line = lines[i];
    gsize n = strlen (line);
    if (n > 0 && line[n - 1] == '\r')
      line[--n] = '\0';
    if (n == 0)
      continue;
    for (gsize k = 0; k < n; k++) {
      if (!g_ascii_isprint (line[k])) {
        g_set_error (error, SX_SDP_FRAG_ERROR, 0,
                     "line %u: non-printable character", i + 1);
        return NULL;
      }
    }
    if (g_str_has_prefix (line, "m=")) {
      media++;
      mid = NULL;
    } else if (g_str_has_prefix (line, "a=mid:")) {
      if (!token_is_valid (line + 6)) {
        g_set_error (error, SX_SDP_FRAG_ERROR, 0, "line %u: bad a=mid", i + 1);
        return NULL;
      }
      mid = line + 6;
    } else if (g_str_has_prefix (line, "a=ice-ufrag:")
               || g_str_has_prefix (line, "a=ice-pwd:")) {
      gboolean ufrag = line[6] == 'u';
      const gchar *value = line + (ufrag ? 12 : 10);
      if (!token_is_valid (value)) {
        g_set_error (error, SX_SDP_FRAG_ERROR, 0, "line %u: bad %s", i + 1,
                     ufrag ? "a=ice-ufrag" : "a=ice-pwd");
        return NULL;
      }
      gchar **slot = ufrag ? &frag->ice_ufrag : &frag->ice_pwd;
      g_free (*slot);
      *slot = g_strdup (value);
    } else if (g_str_has_prefix (line, "a=candidate:")) {
      if (!sx_ice_candidate_is_valid (line + 2)) {
        g_set_error (error, SX_SDP_FRAG_ERROR, 0,
                     "line %u: malformed candidate", i + 1);
        return NULL;
      }
      if (frag->candidates->len >= SX_SDP_FRAG_MAX_CANDIDATES) {
        g_set_error (error, SX_SDP_FRAG_ERROR, 0,
                     "more than %d candidates in one fragment",
                     SX_SDP_FRAG_MAX_CANDIDATES);
        return NULL;
      }
      SxFragCandidate *c = g_new0 (SxFragCandidate, 1);
      c->media = media;
      c->mid = g_strdup (mid);
      c->candidate = g_strdup (line + 2);
      g_ptr_array_add (frag->candidates, c);
    } else if (strcmp (line, "a=end-of-candidates") == 0) {
      frag->end_of_candidates = TRUE;
    }
  }
  return g_steal_pointer (&frag);
}
