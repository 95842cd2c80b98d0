/* Trickle ICE SDP fragments (RFC 8840), as WHIP's PATCH carries them.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Plain GLib, no GStreamer, so it can be unit-tested and fuzzed alone.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Longest remote ICE candidate line accepted (real ones are ~100 bytes). */
#define SX_ICE_CANDIDATE_MAX_LEN 512
/* More candidates than this in one fragment is not a camera. */
#define SX_SDP_FRAG_MAX_CANDIDATES 64

#define SX_SDP_FRAG_ERROR (sx_sdp_frag_error_quark ())
GQuark sx_sdp_frag_error_quark (void);

typedef struct {
  gint media;       /* 0-based index of the m= line above it in the fragment,
                       -1 if none came before */
  gchar *mid;       /* the a=mid of that section, or NULL */
  gchar *candidate; /* "candidate:..." (the attribute without "a=") */
} SxFragCandidate;

typedef struct {
  gchar *ice_ufrag; /* NULL if the fragment has none */
  gchar *ice_pwd;
  GPtrArray *candidates; /* of SxFragCandidate */
  gboolean end_of_candidates;
} SxSdpFrag;

/* TRUE if @candidate looks like an SDP candidate attribute value
 * ("candidate:1 1 udp 2122260223 192.0.2.2 40000 typ host ..."): printable,
 * at most SX_ICE_CANDIDATE_MAX_LEN bytes. */
gboolean sx_ice_candidate_is_valid (const gchar *candidate);

/* Parses @len bytes of @text (need not be NUL-terminated). Lines other than
 * ice-ufrag, ice-pwd, m=, mid, candidate and end-of-candidates are
 * ignored; a NUL byte, a non-printable character, an invalid candidate or
 * too many candidates is an error naming the line. */
SxSdpFrag *sx_sdp_frag_parse (const gchar *text, gsize len, GError **error);

void sx_sdp_frag_free (SxSdpFrag *frag);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SxSdpFrag, sx_sdp_frag_free);

G_END_DECLS
