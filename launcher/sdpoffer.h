/* What the launcher reads in (and mends of) a camera's SDP offer.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SX_SDPOFFER_H
#define SX_SDPOFFER_H

#include <gst/sdp/sdp.h>

G_BEGIN_DECLS

/* The payload type of @encoding_name ("VP8", "H264", "VP9") in the first
 * video section of @offer that offers it (its index in @media_index, its
 * transport-wide-cc extmap id or 0 in @twcc_extmap_id), or -1. Of several
 * payloads of the codec, the one whose format every decoder takes: H.264
 * packetization-mode=1 and a baseline profile, VP9 profile 0. */
gint sx_sdp_find_video_payload (const GstSDPMessage *offer,
                                const gchar *encoding_name, guint *media_index,
                                guint *twcc_extmap_id);

/* aiortc (1.4) offers a BUNDLE group whose sections keep their own ICE
 * credentials, leaving the choice to the answerer; webrtcbin refuses such
 * a group outright. Removes the group in that case (each section then
 * gets its own transport, which such a client accepts); TRUE if it did. */
gboolean sx_sdp_unbundle_if_inconsistent (GstSDPMessage *offer);

/* Whether @offer has a BUNDLE group */
gboolean sx_sdp_has_bundle (const GstSDPMessage *offer);

G_END_DECLS

#endif /* SX_SDPOFFER_H */
