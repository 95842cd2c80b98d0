/* Trickle ICE SDP fragments (WHIP PATCH bodies): what is kept, what is
 * refused.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sdpfrag.h"

#include <string.h>

static SxSdpFrag *
parse (const gchar *text, GError **error)
{
  return sx_sdp_frag_parse (text, strlen (text), error);
}

static void
test_browser_fragment (void)
{
  /* as Chrome's WHIP clients send it: CRLF, two sections */
  const gchar *text
      = "a=ice-ufrag:EsAw\r\n"
        "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 0\r\n"
        "a=mid:0\r\n"
        "a=candidate:1387637174 1 udp 2122260223 192.0.2.2 61764 typ host "
        "generation 0 ufrag EsAw network-id 1\r\n"
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
        "a=mid:1\r\n"
        "a=candidate:3471623853 1 udp 2122194687 192.0.2.3 61765 typ host\r\n"
        "a=end-of-candidates\r\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (SxSdpFrag) frag = parse (text, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (frag->ice_ufrag, ==, "EsAw");
  g_assert_cmpstr (frag->ice_pwd, ==, "P2uYro0UCOQ4zxjKXaWCBui1");
  g_assert_true (frag->end_of_candidates);
  g_assert_cmpuint (frag->candidates->len, ==, 2);
  SxFragCandidate *c = g_ptr_array_index (frag->candidates, 0);
  g_assert_cmpint (c->media, ==, 0);
  g_assert_cmpstr (c->mid, ==, "0");
  g_assert_true (g_str_has_prefix (c->candidate, "candidate:1387637174 1 "));
  g_assert_true (g_str_has_suffix (c->candidate, "network-id 1"));
  c = g_ptr_array_index (frag->candidates, 1);
  g_assert_cmpint (c->media, ==, 1);
  g_assert_cmpstr (c->mid, ==, "1");
}

static void
test_bare_candidates (void)
{
  /* no m= line, LF only, unknown attributes ignored */
  g_autoptr (GError) error = NULL;
  g_autoptr (SxSdpFrag) frag
      = parse ("a=ice-options:trickle\n"
               "a=candidate:1 1 udp 1 192.0.2.2 9 typ host\n",
               &error);
  g_assert_no_error (error);
  g_assert_null (frag->ice_ufrag);
  g_assert_false (frag->end_of_candidates);
  g_assert_cmpuint (frag->candidates->len, ==, 1);
  SxFragCandidate *c = g_ptr_array_index (frag->candidates, 0);
  g_assert_cmpint (c->media, ==, -1);
  g_assert_null (c->mid);
}

static void
test_refused (void)
{
  static const gchar *bad[] = {
    "a=candidate:1 1 udp 1 192.0.2.2 9 host\r\n", /* no "typ" */
    "a=candidate:\r\n",
    "a=mid:\r\n",
    "a=ice-ufrag:a b\r\n",
    "a=candidate:1 1 udp 1 192.0.2.2 9 typ host\x01\r\n",
    "a=candidate:1 1 udp 1 192.0.2.2 9 typ host\t\r\n",
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (SxSdpFrag) frag = parse (bad[i], &error);
    g_assert_null (frag);
    g_assert_error (error, SX_SDP_FRAG_ERROR, 0);
    g_assert_true (strstr (error->message, "line 1") != NULL);
  }
  /* an embedded NUL is refused, not silently cut */
  g_autoptr (GError) error = NULL;
  const gchar nul[] = "a=ice-ufrag:x\n\0a=candidate:1 1 udp 1 1.2.3.4 9 typ h";
  g_assert_null (sx_sdp_frag_parse (nul, sizeof nul - 1, &error));
  g_assert_nonnull (error);
}

static void
test_limits (void)
{
  GString *many = g_string_new ("m=video 9 UDP/TLS/RTP/SAVPF 0\na=mid:0\n");
  for (guint i = 0; i <= SX_SDP_FRAG_MAX_CANDIDATES; i++)
    g_string_append_printf (many,
                            "a=candidate:%u 1 udp 1 192.0.2.2 %u typ "
                            "host\n",
                            i, 1000 + i);
  g_autoptr (GError) error = NULL;
  g_assert_null (parse (many->str, &error));
  g_assert_true (strstr (error->message, "more than") != NULL);
  g_string_free (many, TRUE);

  gchar *long_candidate = g_strnfill (SX_ICE_CANDIDATE_MAX_LEN + 10, 'x');
  memcpy (long_candidate, "candidate:1 typ host ", 21);
  g_assert_false (sx_ice_candidate_is_valid (long_candidate));
  long_candidate[SX_ICE_CANDIDATE_MAX_LEN - 1] = '\0';
  g_assert_true (sx_ice_candidate_is_valid (long_candidate));
  g_free (long_candidate);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sdpfrag/browser-fragment", test_browser_fragment);
  g_test_add_func ("/sdpfrag/bare-candidates", test_bare_candidates);
  g_test_add_func ("/sdpfrag/refused", test_refused);
  g_test_add_func ("/sdpfrag/limits", test_limits);
  return g_test_run ();
}
