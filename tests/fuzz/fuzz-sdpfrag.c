/* libFuzzer target: WHIP PATCH trickle-ICE fragments (launcher/sdpfrag.c).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The input is a PATCH body (application/trickle-ice-sdpfrag), unterminated
 * as libsoup hands it over. Invariants:
 *  - sx_ice_candidate_is_valid() is what it says: "candidate:" prefix, at
 *    most SX_ICE_CANDIDATE_MAX_LEN printable bytes, a " typ ";
 *  - a parse either fails with an error or succeeds without one;
 *  - every returned candidate passes sx_ice_candidate_is_valid(), is a line
 *    of the input (after "a="), and there are at most
 *    SX_SDP_FRAG_MAX_CANDIDATES of them;
 *  - each candidate's media index is -1 or names an m= line of the input,
 *    in order; mids, ufrag and pwd are 1..256 visible characters;
 *  - line endings do not matter: the input with every LF turned into CRLF
 *    parses to the same result (or fails the same way).
 */
#include "fuzz-common.h"
#include "sdpfrag.h"

#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_make_criticals_fatal ();
  return 0;
}

static void
check_candidate_is_valid (const gchar *s)
{
  gboolean printable = TRUE;
  for (const gchar *p = s; *p; p++)
    if (!g_ascii_isprint (*p))
      printable = FALSE;
  gboolean expected = g_str_has_prefix (s, "candidate:")
                      && strlen (s) <= SX_ICE_CANDIDATE_MAX_LEN && printable
                      && strstr (s, " typ ") != NULL;
  FUZZ_CHECK (sx_ice_candidate_is_valid (s) == expected);
}

static gboolean
token_ok (const gchar *s)
{
  if (s == NULL)
    return TRUE;
  gsize n = strlen (s);
  if (n == 0 || n > 256)
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isgraph (*s))
      return FALSE;
  return TRUE;
}

/* The lines of @text (with their "\r" stripped) starting with "m=". */
static gint
count_media_lines (const gchar *text, gsize len)
{
  gint n = 0;
  gsize start = 0;
  for (gsize i = 0; i <= len; i++) {
    if (i == len || text[i] == '\n') {
      if (i - start >= 2 && text[start] == 'm' && text[start + 1] == '=')
        n++;
      start = i + 1;
    }
  }
  return n;
}

/* Is "a=" @candidate a whole line of @text (LF or CRLF ended)? */
static gboolean
is_line_of (const gchar *text, gsize len, const gchar *candidate)
{
  g_autofree gchar *line = g_strconcat ("a=", candidate, NULL);
  gsize n = strlen (line);
  for (gsize start = 0; start + n <= len;) {
    const gchar *nl = memchr (text + start, '\n', len - start);
    gsize end = nl ? (gsize)(nl - text) : len;
    gsize l = end - start;
    if (l > 0 && text[end - 1] == '\r')
      l--;
    if (l == n && memcmp (text + start, line, n) == 0)
      return TRUE;
    if (!nl)
      break;
    start = end + 1;
  }
  return FALSE;
}

static void
check_frag (const SxSdpFrag *frag, const gchar *text, gsize len)
{
  FUZZ_CHECK (frag->candidates != NULL);
  FUZZ_CHECK (frag->candidates->len <= SX_SDP_FRAG_MAX_CANDIDATES);
  FUZZ_CHECK (token_ok (frag->ice_ufrag) && token_ok (frag->ice_pwd));
  gint media_lines = count_media_lines (text, len);
  gint last_media = -1;
  for (guint i = 0; i < frag->candidates->len; i++) {
    const SxFragCandidate *c = g_ptr_array_index (frag->candidates, i);
    FUZZ_CHECK (sx_ice_candidate_is_valid (c->candidate));
    FUZZ_CHECK (is_line_of (text, len, c->candidate));
    FUZZ_CHECK (c->media >= -1 && c->media < media_lines);
    FUZZ_CHECK (c->media >= last_media);
    last_media = c->media;
    FUZZ_CHECK (token_ok (c->mid));
  }
}

static gboolean
frags_equal (const SxSdpFrag *a, const SxSdpFrag *b)
{
  if (g_strcmp0 (a->ice_ufrag, b->ice_ufrag) != 0
      || g_strcmp0 (a->ice_pwd, b->ice_pwd) != 0
      || a->end_of_candidates != b->end_of_candidates
      || a->candidates->len != b->candidates->len)
    return FALSE;
  for (guint i = 0; i < a->candidates->len; i++) {
    const SxFragCandidate *x = g_ptr_array_index (a->candidates, i);
    const SxFragCandidate *y = g_ptr_array_index (b->candidates, i);
    if (x->media != y->media || g_strcmp0 (x->mid, y->mid) != 0
        || strcmp (x->candidate, y->candidate) != 0)
      return FALSE;
  }
  return TRUE;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  const gchar *text = (const gchar *)data;

  /* the input as one candidate string (FastRTC's JSON route) */
  {
    g_autofree gchar *s = g_strndup (text, size);
    check_candidate_is_valid (s);
  }

  /* exactly @size bytes, so ASan sees any read past the body */
  gchar *body = g_malloc (size ? size : 1);
  memcpy (body, data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (SxSdpFrag) frag = sx_sdp_frag_parse (body, size, &error);
  FUZZ_CHECK ((frag == NULL) == (error != NULL));
  if (frag)
    check_frag (frag, body, size);

  /* LF -> CRLF where a line does not already end in CR */
  GString *crlf = g_string_sized_new (size * 2);
  for (gsize i = 0; i < size; i++) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
      g_string_append_c (crlf, '\r');
    g_string_append_c (crlf, text[i]);
  }
  g_autoptr (GError) error2 = NULL;
  g_autoptr (SxSdpFrag) frag2
      = sx_sdp_frag_parse (crlf->str, crlf->len, &error2);
  FUZZ_CHECK ((frag == NULL) == (frag2 == NULL));
  if (frag) {
    check_frag (frag2, crlf->str, crlf->len);
    FUZZ_CHECK (frags_equal (frag, frag2));
  }
  g_string_free (crlf, TRUE);
  g_free (body);
  return 0;
}
