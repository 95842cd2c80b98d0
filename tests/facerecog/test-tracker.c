/* The tracker: boxes follow faces by overlap; labels come from votes.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tracker.h"

static SxTrackObservation
face_at (gint x, gint y, const gchar *id, gdouble distance)
{
  SxTrackObservation o = { { x, y, 100, 100 }, id, id, distance };
  return o;
}

static SxTrack *
only_track (SxTracker *tracker)
{
  GPtrArray *tracks = sx_tracker_tracks (tracker);
  g_assert_cmpuint (tracks->len, ==, 1);
  return g_ptr_array_index (tracks, 0);
}

static void
test_iou (void)
{
  SxBox a = { 0, 0, 100, 100 }, b = { 50, 0, 100, 100 }, c = { 200, 0, 10, 10 };
  g_assert_cmpfloat_with_epsilon (sx_box_iou (&a, &a), 1.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (sx_box_iou (&a, &b), 5000.0 / 15000.0, 1e-9);
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
  o.box.x += 8; /* moved a little: same track */
  sx_tracker_update (tracker, &o, 1);
  t = only_track (tracker);
  g_assert_cmpuint (t->track_id, ==, id);
  g_assert_true (t->confirmed);
  g_assert_cmpstr (t->id, ==, "ada");
  g_assert_cmpstr (t->name, ==, "ada");
  g_assert_cmpuint (t->votes, ==, 3);
  g_assert_cmpfloat_with_epsilon (t->distance, 0.35, 1e-9);
  g_assert_cmpint (t->box.x, ==, 18);

  /* A descriptor that disagrees ends the name at once: the track never
   * takes the other name from one analysis, and is unknown until the new
   * person has min-votes of their own. */
  SxTrackObservation stray = face_at (18, 10, "bob", 0.55);
  sx_tracker_update (tracker, &stray, 1);
  t = only_track (tracker);
  g_assert_cmpuint (t->track_id, ==, id);
  g_assert_false (t->confirmed);
  g_assert_cmpstr (t->match_id, ==, "bob");
  g_assert_cmpuint (t->votes, ==, 1);
  /* ada again: her old votes are gone, she needs min-votes anew */
  sx_tracker_update (tracker, &o, 1);
  g_assert_false (only_track (tracker)->confirmed);
  sx_tracker_update (tracker, &o, 1);
  g_assert_false (only_track (tracker)->confirmed);
  g_assert_cmpstr (only_track (tracker)->id, ==, "ada");
  g_assert_cmpuint (only_track (tracker)->votes, ==, 2);
  sx_tracker_update (tracker, &o, 1);
  g_assert_true (only_track (tracker)->confirmed);
  /* Nobody within the threshold ends it too. */
  SxTrackObservation unknown = face_at (18, 10, NULL, 0.8);
  sx_tracker_update (tracker, &unknown, 1);
  g_assert_null (only_track (tracker)->id);
  g_assert_false (only_track (tracker)->confirmed);

  /* Carried forward between analyses: no longer fresh, same box. */
  sx_tracker_age (tracker);
  g_assert_false (only_track (tracker)->fresh);
  sx_tracker_free (tracker);
}

/* Before a name is confirmed the majority of the window decides: one
 * unknown among a face's analyses does not start its count again. */
static void
test_pending_majority (void)
{
  SxTracker *tracker = sx_tracker_new (3, 0.3, 2);
  SxTrackObservation ada = face_at (0, 0, "ada", 0.55);
  SxTrackObservation unknown = face_at (0, 0, NULL, 0.62);
  sx_tracker_update (tracker, &ada, 1);
  sx_tracker_update (tracker, &unknown, 1);
  sx_tracker_update (tracker, &ada, 1);
  g_assert_false (only_track (tracker)->confirmed);
  sx_tracker_update (tracker, &ada, 1);
  g_assert_true (only_track (tracker)->confirmed);
  g_assert_cmpstr (only_track (tracker)->id, ==, "ada");
  g_assert_cmpuint (only_track (tracker)->votes, ==, 3);
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
  SxTrackObservation two[2]
      = { face_at (0, 0, "ada", 0.3), face_at (300, 0, "bob", 0.3) };
  sx_tracker_update (tracker, two, 2);
  GPtrArray *tracks = sx_tracker_tracks (tracker);
  g_assert_cmpuint (tracks->len, ==, 2);
  SxTrack *a = g_ptr_array_index (tracks, 0),
          *b = g_ptr_array_index (tracks, 1);
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

/* A carried observation moves the track it was carried from and counts
 * how long it went undescribed, without voting or reporting a match; a
 * described one resets the count. */
static void
test_carried (void)
{
  SxTracker *tracker = sx_tracker_new (2, 0.3, 2);
  SxTrackObservation o = face_at (10, 10, "ada", 0.4);
  SxFaceSignature sig = { { 0 } };
  sig.v[0] = 1.0f;
  o.signature = &sig;
  sx_tracker_update (tracker, &o, 1);
  sx_tracker_update (tracker, &o, 1);
  SxTrack *t = only_track (tracker);
  g_assert_true (t->confirmed);
  g_assert_true (t->has_reference);
  g_assert_cmpfloat (t->reference.v[0], ==, 1.0f);
  guint votes = t->votes;

  SxTrackObservation carried = face_at (14, 12, NULL, 9.0);
  carried.carried_track = t->track_id;
  for (guint i = 1; i <= 4; i++) {
    sx_tracker_update (tracker, &carried, 1);
    t = only_track (tracker);
    g_assert_cmpuint (t->since_described, ==, i);
    g_assert_true (t->carried);
  }
  g_assert_true (t->confirmed);
  g_assert_cmpstr (t->id, ==, "ada");
  g_assert_cmpuint (t->votes, ==, votes); /* no "unknown" votes cast */
  g_assert_cmpfloat_with_epsilon (t->distance, 0.4, 1e-9);
  g_assert_null (t->match_id); /* nothing measured */
  g_assert_cmpint (t->box.x, ==, 14);
  g_assert_true (t->fresh);

  o.box.x = 14;
  o.box.y = 12;
  sx_tracker_update (tracker, &o, 1);
  g_assert_cmpuint (only_track (tracker)->since_described, ==, 0);
  g_assert_false (only_track (tracker)->carried);
  g_assert_cmpstr (only_track (tracker)->match_id, ==, "ada");

  /* A carry whose track is gone (a flush cleared it) starts an unknown
   * track: the identity was the old track's, not a measurement. */
  SxTrackObservation orphan = face_at (400, 10, "bob", 0.3);
  orphan.carried_track = 999;
  sx_tracker_update (tracker, &orphan, 1);
  GPtrArray *tracks = sx_tracker_tracks (tracker);
  g_assert_cmpuint (tracks->len, ==, 2);
  SxTrack *other = g_ptr_array_index (tracks, 1);
  g_assert_null (other->id);
  g_assert_null (other->match_id);
  g_assert_false (other->confirmed);
  sx_tracker_free (tracker);
}

/* Two faces that cross: a carried face goes to its own track even where
 * the other track's box overlaps it more (greedy overlap alone would swap
 * the two names here). */
static void
test_carried_to_its_track (void)
{
  SxTracker *tracker = sx_tracker_new (1, 0.3, 2);
  SxTrackObservation two[2]
      = { face_at (0, 0, "ada", 0.3), face_at (30, 0, "bob", 0.3) };
  sx_tracker_update (tracker, two, 2);
  GPtrArray *tracks = sx_tracker_tracks (tracker);
  SxTrack *ada = g_ptr_array_index (tracks, 0);
  SxTrack *bob = g_ptr_array_index (tracks, 1);
  g_assert_cmpstr (ada->id, ==, "ada");
  g_assert_cmpstr (bob->id, ==, "bob");
  /* ada moved right and was carried, bob moved left and was described. */
  SxTrackObservation crossed[2]
      = { face_at (20, 0, NULL, 0.0), face_at (10, 0, "bob", 0.3) };
  crossed[0].carried_track = ada->track_id;
  g_assert_cmpfloat (sx_box_iou (&crossed[0].box, &bob->box), >,
                     sx_box_iou (&crossed[0].box, &ada->box));
  sx_tracker_update (tracker, crossed, 2);
  g_assert_cmpuint (tracks->len, ==, 2);
  g_assert_cmpint (ada->box.x, ==, 20);
  g_assert_cmpstr (ada->id, ==, "ada");
  g_assert_true (ada->confirmed);
  g_assert_cmpint (bob->box.x, ==, 10);
  g_assert_cmpstr (bob->id, ==, "bob");
  g_assert_true (bob->confirmed);
  sx_tracker_free (tracker);
}

static gboolean
not_ada (const gchar *id, gpointer user_data)
{
  return !g_str_equal (id, "ada");
}

/* Ada leaves the gallery (removed, consent withdrawn) while her track is
 * confirmed: the track stops naming her at once, her votes are gone (one
 * more analysis cannot confirm her from the old ones) and her appearance
 * is forgotten, so the name is not carried either; bob keeps his. */
static void
test_forget (void)
{
  SxTracker *tracker = sx_tracker_new (2, 0.3, 2);
  SxTrackObservation two[2]
      = { face_at (0, 0, "ada", 0.3), face_at (300, 0, "bob", 0.3) };
  sx_tracker_update (tracker, two, 2);
  sx_tracker_update (tracker, two, 2);
  GPtrArray *tracks = sx_tracker_tracks (tracker);
  SxTrack *ada = g_ptr_array_index (tracks, 0);
  SxTrack *bob = g_ptr_array_index (tracks, 1);
  ada->has_reference = TRUE;
  g_assert_true (ada->confirmed && bob->confirmed);

  sx_tracker_forget (tracker, not_ada, NULL);
  g_assert_null (ada->id);
  g_assert_null (ada->name);
  g_assert_null (ada->match_id);
  g_assert_false (ada->confirmed);
  g_assert_false (ada->has_reference);
  g_assert_cmpstr (bob->id, ==, "bob");
  g_assert_true (bob->confirmed);
  /* an analysis still matched against the old gallery votes once: not
   * enough with min-votes 2, and forgotten again right after */
  sx_tracker_update (tracker, two, 2);
  g_assert_false (ada->confirmed);
  sx_tracker_forget (tracker, not_ada, NULL);
  g_assert_null (ada->id);
  sx_tracker_free (tracker);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tracker/forget", test_forget);
  g_test_add_func ("/tracker/iou", test_iou);
  g_test_add_func ("/tracker/votes-decide", test_votes_decide);
  g_test_add_func ("/tracker/unknown-majority", test_unknown_majority);
  g_test_add_func ("/tracker/pending-majority", test_pending_majority);
  g_test_add_func ("/tracker/split-and-expire", test_tracks_split_and_expire);
  g_test_add_func ("/tracker/carried", test_carried);
  g_test_add_func ("/tracker/carried-to-its-track", test_carried_to_its_track);
  return g_test_run ();
}
