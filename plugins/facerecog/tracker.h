/* surveillx-gst — carries face boxes between analyses and votes on labels.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Analyses come at a few Hz; video at 30. Each analysis's faces are matched
 * to existing tracks by box overlap (IoU); between analyses the tracks keep
 * their last box. A track's identity is decided by a vote over its recent
 * analyses, so one bad frame neither names nor renames anybody.
 */
#ifndef SX_TRACKER_H
#define SX_TRACKER_H

#include "facesignature.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  gint x, y;
  guint width, height;
} SxBox;

/* One face as one analysis saw it, either described or carried.
 *
 * Described (`carried_track` 0): `match_id` is the nearest enrolled face
 * within the threshold, NULL = nobody; `signature` (may be NULL) is the
 * face's appearance, kept by the track as the reference later carries are
 * checked against.
 *
 * Carried (`carried_track` = a track id): the analysis found the face where
 * that confirmed track was, looking as it did when last described, and did
 * not describe it again. The box moves, the track keeps its identity, no
 * vote is cast and match_* are ignored. */
typedef struct {
  SxBox box;
  const gchar *match_id;
  const gchar *match_name;
  gdouble distance; /* to the nearest enrolled face, even if over threshold */
  const SxFaceSignature *signature;
  guint carried_track;
} SxTrackObservation;

typedef struct {
  guint track_id;
  SxBox box;
  gboolean fresh;        /* box measured by the latest analysis */
  guint misses;          /* analyses in a row without this face */
  guint since_described; /* analyses that carried the identity since the
                          * face was last described */
  gboolean carried;      /* the latest analysis carried the identity:
                          * match_* measured nothing */
  gboolean has_reference;
  SxFaceSignature reference; /* appearance when last described */
  /* Decision */
  const gchar *id;    /* interned; NULL while unknown */
  const gchar *name;  /* interned */
  gboolean confirmed; /* id holds >= min_votes of the window */
  guint votes;        /* votes for id (or for "unknown") in the window */
  gdouble distance;   /* best distance among id's votes; else last one */
  /* The latest described analysis alone (NULL / G_MAXDOUBLE when carried) */
  const gchar *match_id;
  gdouble match_distance;
  /* private */
  const gchar **window_ids; /* ring of the last votes, NULL = unknown */
  gdouble *window_distances;
  guint window_len, window_pos;
} SxTrack;

typedef struct _SxTracker SxTracker;

SxTracker *sx_tracker_new (guint min_votes, gdouble iou_threshold,
                           guint max_misses);
void sx_tracker_free (SxTracker *tracker);
void sx_tracker_set_params (SxTracker *tracker, guint min_votes,
                            gdouble iou_threshold, guint max_misses);

/* Feeds one analysis's faces. Carried faces go to the track they were
 * carried from, the others to tracks by box overlap. Afterwards the tracks
 * that saw a face are `fresh`; those missed more than max_misses analyses
 * in a row are gone.
 *
 * A described face that disagrees with its track's confirmed name (nobody
 * within the threshold, or somebody else nearest) ends that name at once:
 * the track's votes restart from this one, so a face that replaces another
 * in the same place never inherits its name. Before a name is confirmed
 * the window's majority decides. */
void sx_tracker_update (SxTracker *tracker, const SxTrackObservation *faces,
                        guint n_faces);

/* Whether @id is still someone the recogniser may name. */
typedef gboolean (*SxTrackerKnownFunc) (const gchar *id, gpointer user_data);

/* Drops every vote for, and every name of, an id @known denies (a student
 * removed, or whose consent was withdrawn, since the votes were cast), so
 * no track keeps naming them: the track is unknown until analyses name it
 * again. Its appearance is forgotten too, so the name is not carried. */
void sx_tracker_forget (SxTracker *tracker, SxTrackerKnownFunc known,
                        gpointer user_data);

/* Marks every track as carried forward (no longer fresh). */
void sx_tracker_age (SxTracker *tracker);

/* Current tracks, SxTrack*; owned by the tracker. */
GPtrArray *sx_tracker_tracks (SxTracker *tracker);

void sx_tracker_clear (SxTracker *tracker);

gdouble sx_box_iou (const SxBox *a, const SxBox *b);

G_END_DECLS

#endif /* SX_TRACKER_H */
