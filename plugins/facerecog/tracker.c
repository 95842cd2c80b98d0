/* surveillx-gst — carries face boxes between analyses and votes on labels.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tracker.h"

#include <string.h>

struct _SxTracker {
  GPtrArray *tracks; /* SxTrack* */
  guint next_track_id;
  guint min_votes;
  gdouble iou_threshold;
  guint max_misses;
  GHashTable *names; /* interned id -> interned display name */
};

/* The vote window: long enough that min_votes can be reached and that a
 * decided label survives a few noisy analyses, short enough to follow a
 * change of person in the same place. */
static guint
window_for (guint min_votes)
{
  return MAX (2 * min_votes + 1, 5);
}

static void
track_free (SxTrack *t)
{
  g_free (t->window_ids);
  g_free (t->window_distances);
  g_free (t);
}

SxTracker *
sx_tracker_new (guint min_votes, gdouble iou_threshold, guint max_misses)
{
  SxTracker *tracker = g_new0 (SxTracker, 1);
  tracker->tracks = g_ptr_array_new_with_free_func ((GDestroyNotify)track_free);
  tracker->next_track_id = 1;
  tracker->names = g_hash_table_new (NULL, NULL);
  sx_tracker_set_params (tracker, min_votes, iou_threshold, max_misses);
  return tracker;
}

void
sx_tracker_set_params (SxTracker *tracker, guint min_votes,
                       gdouble iou_threshold, guint max_misses)
{
  tracker->min_votes = MAX (min_votes, 1);
  tracker->iou_threshold = iou_threshold;
  tracker->max_misses = max_misses;
}

void
sx_tracker_free (SxTracker *tracker)
{
  if (!tracker)
    return;
  g_ptr_array_unref (tracker->tracks);
  g_hash_table_unref (tracker->names);
  g_free (tracker);
}

void
sx_tracker_clear (SxTracker *tracker)
{
  g_ptr_array_set_size (tracker->tracks, 0);
}

GPtrArray *
sx_tracker_tracks (SxTracker *tracker)
{
  return tracker->tracks;
}

gdouble
sx_box_iou (const SxBox *a, const SxBox *b)
{
  gint x0 = MAX (a->x, b->x), y0 = MAX (a->y, b->y);
  gint x1 = MIN (a->x + (gint)a->width, b->x + (gint)b->width);
  gint y1 = MIN (a->y + (gint)a->height, b->y + (gint)b->height);
  if (x1 <= x0 || y1 <= y0)
    return 0.0;
  gdouble inter = (gdouble)(x1 - x0) * (y1 - y0);
  gdouble uni
      = (gdouble)a->width * a->height + (gdouble)b->width * b->height - inter;
  return uni > 0 ? inter / uni : 0.0;
}

static SxTrack *
track_new (SxTracker *tracker)
{
  SxTrack *t = g_new0 (SxTrack, 1);
  t->track_id = tracker->next_track_id++;
  t->window_len = window_for (tracker->min_votes);
  t->window_ids = g_new0 (const gchar *, t->window_len);
  t->window_distances = g_new0 (gdouble, t->window_len);
  /* Empty slots must not count as "unknown" votes: mark them unused. */
  for (guint i = 0; i < t->window_len; i++)
    t->window_distances[i] = -1.0;
  return t;
}

/* Recount the window and decide: the id with most votes wins if it has at
 * least min_votes and beats the "unknown" votes. */
static void
track_decide (SxTrack *t, guint min_votes)
{
  const gchar *best = NULL;
  guint best_votes = 0, unknown_votes = 0;
  for (guint i = 0; i < t->window_len; i++) {
    if (t->window_distances[i] < 0)
      continue;
    const gchar *id = t->window_ids[i];
    if (!id) {
      unknown_votes++;
      continue;
    }
    guint votes = 0;
    for (guint j = 0; j < t->window_len; j++)
      if (t->window_distances[j] >= 0 && t->window_ids[j] == id)
        votes++;
    if (votes > best_votes) {
      best_votes = votes;
      best = id;
    }
  }
  if (best && best_votes > unknown_votes) {
    gdouble best_distance = G_MAXDOUBLE;
    for (guint i = 0; i < t->window_len; i++)
      if (t->window_distances[i] >= 0 && t->window_ids[i] == best)
        best_distance = MIN (best_distance, t->window_distances[i]);
    t->id = best;
    t->votes = best_votes;
    t->distance = best_distance;
    t->confirmed = best_votes >= min_votes;
  } else {
    t->id = NULL;
    t->name = NULL;
    t->votes = unknown_votes;
    t->distance = t->match_distance;
    t->confirmed = FALSE;
  }
}

/* Forgets every vote: the face in the box is not the one voted on. */
static void
track_restart_votes (SxTrack *t)
{
  for (guint i = 0; i < t->window_len; i++) {
    t->window_ids[i] = NULL;
    t->window_distances[i] = -1.0;
  }
  t->window_pos = 0;
}

static void
track_observe (SxTracker *tracker, SxTrack *t, const SxTrackObservation *o)
{
  t->box = o->box;
  t->fresh = TRUE;
  t->misses = 0;
  t->carried = o->carried_track != 0;
  if (t->carried) {
    t->since_described++;
    t->match_id = NULL;
    t->match_distance = G_MAXDOUBLE;
    return;
  }
  t->since_described = 0;
  t->has_reference = o->signature != NULL;
  if (o->signature)
    t->reference = *o->signature;
  /* Interned strings: compared by pointer, never freed, so a track's
   * decision outlives the gallery it came from (reloads swap galleries). */
  t->match_id = o->match_id ? g_intern_string (o->match_id) : NULL;
  t->match_distance = o->distance;
  /* A descriptor that disagrees with the name the track shows ends it at
   * once. Before a name is confirmed the window's majority decides, so a
   * face whose distances straddle the threshold still gets named. */
  if (t->confirmed && t->match_id != t->id)
    track_restart_votes (t);
  t->window_ids[t->window_pos] = t->match_id;
  t->window_distances[t->window_pos] = o->distance;
  t->window_pos = (t->window_pos + 1) % t->window_len;
  if (t->match_id)
    g_hash_table_insert (tracker->names, (gpointer)t->match_id,
                         (gpointer)g_intern_string (
                             o->match_name ? o->match_name : o->match_id));
  track_decide (t, tracker->min_votes);
  t->name = t->id ? g_hash_table_lookup (tracker->names, t->id) : NULL;
}

typedef struct {
  guint track, face;
  gdouble iou;
} Pair;

static gint
by_iou_desc (gconstpointer a, gconstpointer b)
{
  gdouble d = ((const Pair *)b)->iou - ((const Pair *)a)->iou;
  return d > 0 ? 1 : d < 0 ? -1 : 0;
}

void
sx_tracker_update (SxTracker *tracker, const SxTrackObservation *faces,
                   guint n_faces)
{
  GPtrArray *tracks = tracker->tracks;
  guint n_tracks = tracks->len;

  /* Greedy assignment by overlap: faces in a classroom rarely overlap, so
   * the best pairs first is as good as an optimal matching here. */
  g_autoptr (GArray) pairs = g_array_new (FALSE, FALSE, sizeof (Pair));
  for (guint t = 0; t < n_tracks; t++) {
    SxTrack *track = g_ptr_array_index (tracks, t);
    for (guint f = 0; f < n_faces; f++) {
      if (faces[f].carried_track)
        continue;
      Pair p = { t, f, sx_box_iou (&track->box, &faces[f].box) };
      if (p.iou >= tracker->iou_threshold)
        g_array_append_val (pairs, p);
    }
  }
  g_array_sort (pairs, by_iou_desc);

  g_autofree gboolean *track_used = g_new0 (gboolean, n_tracks + 1);
  g_autofree gboolean *face_used = g_new0 (gboolean, n_faces + 1);

  /* A carried face belongs to the track it was carried from, whatever
   * else overlaps it: the analysis checked it against that track. */
  for (guint f = 0; f < n_faces; f++) {
    if (!faces[f].carried_track)
      continue;
    for (guint t = 0; t < n_tracks; t++) {
      SxTrack *track = g_ptr_array_index (tracks, t);
      if (track->track_id == faces[f].carried_track && !track_used[t]) {
        track_used[t] = face_used[f] = TRUE;
        track_observe (tracker, track, &faces[f]);
        break;
      }
    }
  }

  for (guint i = 0; i < pairs->len; i++) {
    Pair *p = &g_array_index (pairs, Pair, i);
    if (track_used[p->track] || face_used[p->face])
      continue;
    track_used[p->track] = face_used[p->face] = TRUE;
    track_observe (tracker, g_ptr_array_index (tracks, p->track),
                   &faces[p->face]);
  }

  /* Unseen tracks age out; index from the end so removal is safe. */
  for (guint t = n_tracks; t-- > 0;) {
    if (track_used[t])
      continue;
    SxTrack *track = g_ptr_array_index (tracks, t);
    track->fresh = FALSE;
    if (++track->misses > tracker->max_misses)
      g_ptr_array_remove_index (tracks, t);
  }

  /* New faces start tracks. A carried face whose track is gone (cleared
   * by a flush meanwhile) starts one too, unknown: its identity was the
   * old track's, not a measurement. */
  for (guint f = 0; f < n_faces; f++) {
    if (face_used[f])
      continue;
    SxTrack *track = track_new (tracker);
    track_observe (tracker, track, &faces[f]);
    g_ptr_array_add (tracks, track);
  }
}

void
sx_tracker_forget (SxTracker *tracker, SxTrackerKnownFunc known,
                   gpointer user_data)
{
  for (guint i = 0; i < tracker->tracks->len; i++) {
    SxTrack *t = g_ptr_array_index (tracker->tracks, i);
    gboolean forgot = FALSE;

    for (guint v = 0; v < t->window_len; v++)
      if (t->window_ids[v] && !known (t->window_ids[v], user_data)) {
        /* not a vote for anybody: the face was not named by it */
        t->window_ids[v] = NULL;
        t->window_distances[v] = -1.0;
        forgot = TRUE;
      }
    if (t->match_id && !known (t->match_id, user_data)) {
      t->match_id = NULL;
      t->match_distance = G_MAXDOUBLE;
    }
    if (t->id && !known (t->id, user_data))
      forgot = TRUE;
    if (!forgot)
      continue;
    t->has_reference = FALSE;
    track_decide (t, tracker->min_votes);
    t->name = t->id ? g_hash_table_lookup (tracker->names, t->id) : NULL;
  }
}

void
sx_tracker_age (SxTracker *tracker)
{
  for (guint i = 0; i < tracker->tracks->len; i++)
    ((SxTrack *)g_ptr_array_index (tracker->tracks, i))->fresh = FALSE;
}
