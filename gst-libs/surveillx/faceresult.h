/* surveillx-gst — the contract between facerecog and whoever reads its
 * results: the project's sinks, the launcher, and any GStreamer application
 * (installed as <surveillx/faceresult.h>, pkg-config surveillx-1.0).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * facerecog describes each face it sees in two GStreamer-native ways:
 *
 *  1. On the buffer: one GstVideoRegionOfInterestMeta per face, roi type
 *     SX_FACE_ROI_TYPE, carrying a parameter structure SX_FACE_PARAMS_NAME
 *     with the fields below. Boxes are carried forward between analyses by
 *     the tracker, so every buffer describes the faces in view.
 *  2. On the bus: one element message SX_FACE_MESSAGE_NAME per analysed
 *     frame, with SX_FACE_MSG_* fields and a list of face structures
 *     (SX_FACE_PARAMS_NAME, same fields plus the box).
 *
 * Readers use these names only; they never include facerecog's headers.
 * docs/elements.md documents the same contract.
 */
#ifndef SURVEILLX_FACERESULT_H
#define SURVEILLX_FACERESULT_H

#define SX_FACE_ROI_TYPE "face"
#define SX_FACE_PARAMS_NAME "surveillx/face"

/* Fields of the face structure (in metas and in messages) */

/* string: decided name or "unknown" */
#define SX_FACE_FIELD_LABEL "label"
/* string: enrolled id, "" if unknown */
#define SX_FACE_FIELD_ID "id"
/* double: best distance of the decided id (or of the last match) */
#define SX_FACE_FIELD_DISTANCE "distance"
/* boolean: label decided by >= min-votes analyses */
#define SX_FACE_FIELD_CONFIRMED "confirmed"
/* uint: analyses that voted for id */
#define SX_FACE_FIELD_VOTES "votes"
/* uint: stable across frames while tracked */
#define SX_FACE_FIELD_TRACK_ID "track-id"
/* boolean: box measured on this frame, not carried forward */
#define SX_FACE_FIELD_FRESH "fresh"
/* boolean: fresh box whose identity was kept without a new descriptor */
#define SX_FACE_FIELD_CARRIED "carried"
/* Box, in the message only (the meta has its own x/y/w/h) */
#define SX_FACE_FIELD_X "x"
#define SX_FACE_FIELD_Y "y"
#define SX_FACE_FIELD_WIDTH "width"
#define SX_FACE_FIELD_HEIGHT "height"
/* Per-analysis match, in the message only: what this frame's descriptor
 * alone said ("" and -1 when the analysis carried the identity) */
#define SX_FACE_FIELD_MATCH_ID "match-id"
#define SX_FACE_FIELD_MATCH_DISTANCE "match-distance"

#define SX_FACE_LABEL_UNKNOWN "unknown"

#define SX_FACE_MESSAGE_NAME "facerecog"
/* guint64 ns, of the analysed frame */
#define SX_FACE_MSG_RUNNING_TIME "running-time"
/* guint64 ns */
#define SX_FACE_MSG_STREAM_TIME "stream-time"
/* guint64 ns, buffer PTS */
#define SX_FACE_MSG_TIMESTAMP "timestamp"
/* guint64: frame number */
#define SX_FACE_MSG_FRAME "frame"
/* GstValueList of face structures */
#define SX_FACE_MSG_FACES "faces"
/* double: detect+describe time */
#define SX_FACE_MSG_ANALYSIS_MS "analysis-ms"

#endif /* SURVEILLX_FACERESULT_H */
