/* surveillx-gst — the contract between facerecog and the sinks.
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
 * Sinks read these names only; they never include facerecog's headers.
 * docs/elements.md documents the same contract for other applications.
 */
#ifndef SX_FACE_RESULT_H
#define SX_FACE_RESULT_H

#define SX_FACE_ROI_TYPE "face"
#define SX_FACE_PARAMS_NAME "surveillx/face"

/* Fields of the face structure (in metas and in messages) */
#define SX_FACE_FIELD_LABEL "label"         /* string: decided name or "unknown" */
#define SX_FACE_FIELD_ID "id"               /* string: enrolled id, "" if unknown */
#define SX_FACE_FIELD_DISTANCE "distance"   /* double: best distance of the decided id (or of the last match) */
#define SX_FACE_FIELD_CONFIRMED "confirmed" /* boolean: label decided by >= min-votes analyses */
#define SX_FACE_FIELD_VOTES "votes"         /* uint: analyses that voted for id */
#define SX_FACE_FIELD_TRACK_ID "track-id"   /* uint: stable across frames while tracked */
#define SX_FACE_FIELD_FRESH "fresh"         /* boolean: box measured on this frame, not carried forward */
#define SX_FACE_FIELD_CARRIED "carried"     /* boolean: fresh box whose identity was kept without a new descriptor */
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
#define SX_FACE_MSG_RUNNING_TIME "running-time" /* guint64 ns, of the analysed frame */
#define SX_FACE_MSG_STREAM_TIME "stream-time"   /* guint64 ns */
#define SX_FACE_MSG_TIMESTAMP "timestamp"       /* guint64 ns, buffer PTS */
#define SX_FACE_MSG_FRAME "frame"               /* guint64: frame number */
#define SX_FACE_MSG_FACES "faces"               /* GstValueList of face structures */
#define SX_FACE_MSG_ANALYSIS_MS "analysis-ms"   /* double: detect+describe time */

#endif /* SX_FACE_RESULT_H */
