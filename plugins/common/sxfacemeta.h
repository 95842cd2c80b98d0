/* surveillx-gst — facerecog's per-face parameters, kept through scaling.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each face is a GstVideoRegionOfInterestMeta with a SX_FACE_PARAMS_NAME
 * parameter structure (surveillx/faceresult.h). GStreamer 1.22's ROI meta keeps
 * its box through videoscale/videoconvert (scaled) but drops the
 * parameter structures. So facerecog also attaches one custom meta without
 * tags (copied unchanged by every transform) holding the same structures;
 * the ROI's id (the track id) ties a scaled box to its parameters again.
 */
#ifndef SX_FACE_META_H
#define SX_FACE_META_H

#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define SX_FACE_PARAMS_META_NAME "SxFaceParamsMeta"

/* Adds a copy of @params (an SX_FACE_PARAMS_NAME structure with a
 * track-id) to @buffer's carrier meta, creating it on first use. */
void sx_face_params_carry (GstBuffer *buffer, const GstStructure *params);

/* The parameters of face @roi: its own structure, or (after a scaling
 * element dropped it) the carried one of the same track id; NULL if
 * neither exists. Owned by the buffer. */
const GstStructure *sx_face_params_of (GstBuffer *buffer,
                                       GstVideoRegionOfInterestMeta *roi);

G_END_DECLS

#endif /* SX_FACE_META_H */
