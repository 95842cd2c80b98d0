/* A pipe file's per-codec branches: which video codecs a camera's pipeline
 * decodes, and removing the branches of the codecs a camera does not send.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A branch head is an element whose sink pad is still unlinked and takes
 * RTP video of a given encoding: a depayloader the pipe file links from
 * `webrtc.`, linked when webrtcbin's pad appears. Branches meet again at an
 * element with several sink pads (a funnel); a branch is everything from
 * its head down to that element.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* The encodings the launcher negotiates, in its default preference:
 * VP8 first (what every client sends and the cheapest to decode), then
 * H.264 (hardware encoders), then VP9. */
#define SX_CODECS_DEFAULT "VP8,H264,VP9"

/* Splits and checks a --codecs list ("vp8,h264"): upper-cased RTP encoding
 * names, each one of SX_CODECS_DEFAULT and listed once. */
gchar **sx_codecs_parse (const gchar *list, GError **error);

/* Whether a branch of @pipeline (searched recursively) takes RTP video
 * encoded as @encoding_name. */
gboolean sx_codec_branch_decodes (GstBin *pipeline, const gchar *encoding_name);

/* Those of @preference (NULL-terminated) that @pipeline decodes, in
 * @preference's order; an empty vector when none. */
gchar **sx_codec_branch_decodable (GstBin *pipeline,
                                   const gchar *const *preference);

/* Removes from @pipeline every branch that cannot take @encoding_name
 * (set to NULL, out of its bin, its request pad on the meeting element
 * released), so the one left carries EOS alone. The removed elements'
 * heads are appended to @removed (refs): gst_parse's delayed links still
 * point at them and must find them alive (they fail to link, nothing
 * else). Returns how many branches went. */
guint sx_codec_branch_prune (GstBin *pipeline, const gchar *encoding_name,
                             GPtrArray *removed);

G_END_DECLS
