/* The tracker: boxes follow faces by overlap; labels come from votes.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tracker.h"

static SxTrackObservation
face_at (gint x, gint y, const gchar * id, gdouble distance)
{
  SxTrackObservation o = { {x, y, 100, 100}, id, id, distance };
  return o;
}

static SxTrack *
only_track (SxTracker * tracker)
{
  GPtrArray *tracks = sx_tracker_tracks (tracker);
  g_assert_cmpuint (tracks->len, ==, 1);
  return g_ptr_array_index (tracks, 0);
}

static void
test_iou (void)
{
  SxBox a = { 0, 0, 100, 100 }, b = { 50, 0, 100, 100 }, c = { 200, 0, 10,
    10
  };
  g_assert_cmpfloat_with_epsilon (sx_box_iou (&a, &a), 1.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (sx_box_iou (&a, &b), 5000.0 / 15000.0,
      1e-9);
  g_assert_cmpfloat (sx_box_iou (&a, &c), ==, 0.0);
}

static void
test_votes_decide (void)
{
  SxTracker *tracker = sx_tracker_new (3, 0.3, 2);
  SxTrackObservation o = face_at (10, 10, "ada", 0.4);

  sx_tracker_update (tracker, &o, 1);
  SxTrack *t = only_track (tracker);
  guint id = t->track_id;
  g_assert_false (t->confirmed);
  g_assert_true (t->fresh);
  sx_tracker_update (tracker, &o, 1);
  g_assert_false (only_track (tracker)->confirmed);
  o.distance = 0.35;
  o.box.x += 8;                 /* moved a little: same track */
  sx_tracker_update (tracker, &o, 1);
  t = only_track (tracker);
  g_assert_cmpuint (t->track_id, ==, id);
  g_assert_true (t->confirmed);
  g_assert_cmpstr (t->id, ==, "ada");
  g_assert_cmpstr (t->name, ==, "ada");
  g_assert_cmpuint (t->votes, ==, 3);
  g_assert_cmpfloat_with_epsilon (t->distance, 0.35, 1e-9);
  g_assert_cmpint (t->box.x, ==, 18);

  /* One stray analysis neither renames nor un-names the track. */
  SxTrackObservation stray = face_at (18, 10, "bob", 0.55);
  sx_tracker_update (tracker, &stray, 1);
  t = only_track (tracker);
  g_assert_cmpstr (t->id, ==, "ada");
  g_assert_true (t->confirmed);
  g_assert_cmpstr (t->match_id, ==, "bob");
  SxTrackObservation unknown = face_at (18, 10, NULL, 0.8);
  sx_tracker_update (tracker, &unknown, 1);
  g_assert_cmpstr (only_track (tracker)->id, ==, "ada");

  /* Carried forward between analyses: no longer fresh, same box. */
  sx_tracker_age (tracker);
  g_assert_false (only_track (tracker)->fresh);
  sx_tracker_free (tracker);
}

static void
test_unknown_majority (void)
{
  SxTracker *tracker = sx_tracker_new (1, 0.3, 2);
  SxTrackObservation u = face_at (0, 0, NULL, 0.9);
  sx_tracker_update (tracker, &u, 1);
  SxTrack *t = only_track (tracker);
  g_assert_null (t->id);
  g_assert_false (t->confirmed);
  SxTrackObservation k = face_at (0, 0, "ada", 0.5);
  sx_tracker_update (tracker, &k, 1);
  /* one vote each: not a majority for ada */
  g_assert_null (only_track (tracker)->id);
  sx_tracker_update (tracker, &k, 1);
  g_assert_cmpstr (only_track (tracker)->id, ==, "ada");
  g_assert_true (only_track (tracker)->confirmed);
  sx_tracker_free (tracker);
}

static void
test_tracks_split_and_expire (void)
{
  SxTracker *tracker = sx_tracker_new (1, 0.3, 1);
  SxTrackObservation two[2] = { face_at (0, 0, "ada", 0.3),
    face_at (300, 0, "bob", 0.3)
  };
  sx_tracker_update (tracker, two, 2);
  GPtrArray *tracks = sx_tracker_tracks (tracker);
  g_assert_cmpuint (tracks->len, ==, 2);
  SxTrack *a = g_ptr_array_index (tracks, 0), *b = g_ptr_array_index (tracks,
      1);
  g_assert_cmpuint (a->track_id, !=, b->track_id);
  g_assert_cmpstr (a->id, ==, "ada");
  g_assert_cmpstr (b->id, ==, "bob");

  /* Only bob stays: ada survives one miss, then goes. */
  sx_tracker_update (tracker, &two[1], 1);
  g_assert_cmpuint (tracks->len, ==, 2);
  sx_tracker_update (tracker, &two[1], 1);
  g_assert_cmpuint (tracks->len, ==, 1);
  g_assert_cmpstr (only_track (tracker)->id, ==, "bob");

  /* A face far away starts a new track rather than moving bob's. */
  SxTrackObservation far = face_at (600, 300, "bob", 0.3);
  sx_tracker_update (tracker, &far, 1);
  g_assert_cmpuint (tracks->len, ==, 2);
  sx_tracker_clear (tracker);
  g_assert_cmpuint (tracks->len, ==, 0);
  sx_tracker_free (tracker);
}

/* A carried observation moves a confirmed track and counts how long it
 * went undescribed, without voting; a described one resets the count. */
static void
test_carried (void)
{
  SxTracker *tracker = sx_tracker_new (2, 0.3, 2);
  SxTrackObservation o = face_at (10, 10, "ada", 0.4);
  sx_tracker_update (tracker, &o, 1);
  sx_tracker_update (tracker, &o, 1);
  SxTrack *t = only_track (tracker);
  g_assert_true (t->confirmed);
  guint votes = t->votes;

  SxTrackObservation carried = face_at (14, 12, NULL, 9.0);
  carried.carried = TRUE;
  for (guint i = 1; i <= 4; i++) {
    sx_tracker_update (tracker, &carried, 1);
    t = only_track (tracker);
    g_assert_cmpuint (t->since_described, ==, i);
  }
  g_assert_true (t->confirmed);
  g_assert_cmpstr (t->id, ==, "ada");
  g_assert_cmpuint (t->votes, ==, votes);       /* no "unknown" votes cast */
  g_assert_cmpfloat_with_epsilon (t->distance, 0.4, 1e-9);
  g_assert_cmpstr (t->match_id, ==, "ada");
  g_assert_cmpint (t->box.x, ==, 14);
  g_assert_true (t->fresh);

  o.box.x = 14;
  o.box.y = 12;
  sx_tracker_update (tracker, &o, 1);
  g_assert_cmpuint (only_track (tracker)->since_described, ==, 0);

  /* A carry onto a face that has no confirmed track votes like any
   * observation (the snapshot it came from was out of date). */
  SxTrackObservation elsewhere = face_at (400, 10, "bob", 0.3);
  elsewhere.carried = TRUE;
  sx_tracker_update (tracker, &elsewhere, 1);
  GPtrArray *tracks = sx_tracker_tracks (tracker);
  g_assert_cmpuint (tracks->len, ==, 2);
  SxTrack *bob = g_ptr_array_index (tracks, 1);
  g_assert_cmpstr (bob->match_id, ==, "bob");
  g_assert_false (bob->confirmed);
  g_assert_cmpuint (bob->since_described, ==, 0);
  sx_tracker_free (tracker);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tracker/iou", test_iou);
  g_test_add_func ("/tracker/votes-decide", test_votes_decide);
  g_test_add_func ("/tracker/unknown-majority", test_unknown_majority);
  g_test_add_func ("/tracker/split-and-expire", test_tracks_split_and_expire);
  g_test_add_func ("/tracker/carried", test_carried);
  return g_test_run ();
}
