/* The sweep plan: every face from the smallest up lies wholly inside a
 * region that scans it at a size HOG finds, and one rotation scans every
 * region once.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sweepplan.h"

#include <math.h>
#include <string.h>

#define MIN_SCANNED SX_FACE_DETECT_MIN_SIZE

/* The largest face (scanned pixels) a region's pyramid levels reach. */
static gdouble
largest_scanned (const SxDetectRegion *r)
{
  return r->max_levels ? MIN_SCANNED * pow (6.0 / 5.0, r->max_levels - 1)
                       : G_MAXDOUBLE;
}

static gboolean
region_finds (const SxDetectRegion *r, gint x, gint y, guint side)
{
  gdouble scanned = side * r->scale;
  return x >= r->x && y >= r->y && x + (gint)side <= r->x + (gint)r->width
         && y + (gint)side <= r->y + (gint)r->height
         && scanned >= MIN_SCANNED - 0.5 && scanned <= largest_scanned (r);
}

/* Faces of every size from `min_face` to the frame's height, at positions
 * a few pixels apart: each is found by some region. */
static void
assert_covers (guint width, guint height, guint min_face)
{
  g_autoptr (SxSweepPlan) plan = sx_sweep_plan_new (width, height, min_face);
  guint n = sx_sweep_plan_n_regions (plan);
  for (guint side = min_face; side <= height; side = side * 9 / 8 + 1) {
    guint step = MAX (side / 5, 3);
    for (guint y = 0; y + side <= height; y += step)
      for (guint x = 0; x + side <= width; x += step) {
        gboolean found = FALSE;
        for (guint i = 0; i < n && !found; i++)
          found = region_finds (sx_sweep_plan_region (plan, i), (gint)x,
                                (gint)y, side);
        if (!found)
          g_error ("%ux%u, faces from %u px: a %u px face at %u,%u lies in "
                   "no region that finds it",
                   width, height, min_face, side, x, y);
      }
  }
}

static void
test_whole_frame_when_affordable (void)
{
  /* today's default: the frame as it is, every analysis */
  g_autoptr (SxSweepPlan) plain = sx_sweep_plan_new (640, 480, 80);
  g_assert_cmpuint (sx_sweep_plan_n_regions (plain), ==, 1);
  g_assert_cmpuint (sx_sweep_plan_analyses_per_sweep (plain), ==, 1);
  const SxDetectRegion *r = sx_sweep_plan_region (plain, 0);
  g_assert_cmpint (r->x, ==, 0);
  g_assert_cmpuint (r->width, ==, 640);
  g_assert_cmpuint (r->height, ==, 480);
  g_assert_cmpfloat (r->scale, ==, 1.0);
  g_assert_cmpuint (r->max_levels, ==, 0);

  /* 40 px faces at 640x480: twice the size, still whole */
  g_autoptr (SxSweepPlan) twice = sx_sweep_plan_new (640, 480, 40);
  g_assert_cmpuint (sx_sweep_plan_n_regions (twice), ==, 1);
  g_assert_cmpfloat (sx_sweep_plan_region (twice, 0)->scale, ==, 2.0);

  /* a frame not scaled up is swept whole, however big (a still photo
   * is analysed once) */
  g_autoptr (SxSweepPlan) photo = sx_sweep_plan_new (1920, 1280, 80);
  g_assert_cmpuint (sx_sweep_plan_n_regions (photo), ==, 1);
  g_assert_cmpuint (sx_sweep_plan_region (photo, 0)->max_levels, ==, 0);

  /* only big faces wanted: scanned smaller, cheaper */
  g_autoptr (SxSweepPlan) big = sx_sweep_plan_new (1280, 720, 160);
  g_assert_cmpuint (sx_sweep_plan_n_regions (big), ==, 1);
  g_assert_cmpfloat (sx_sweep_plan_region (big, 0)->scale, ==, 0.5);
}

static void
test_tiles_cover_every_face (void)
{
  assert_covers (1280, 720, 32);
  assert_covers (1280, 720, 40);
  assert_covers (1280, 720, 56);
  assert_covers (1920, 1080, 32);
  assert_covers (640, 480, 24);
  assert_covers (640, 480, 80);
}

/* One rotation hands out every region once, within an analysis's budget,
 * and says when the sweep is complete. */
static void
test_rotation (void)
{
  g_autoptr (SxSweepPlan) plan = sx_sweep_plan_new (1280, 720, 32);
  guint n = sx_sweep_plan_n_regions (plan);
  guint per_sweep = sx_sweep_plan_analyses_per_sweep (plan);
  g_test_message ("1280x720 from 32 px: %u regions, %u analyses a sweep, "
                  "finest x%.2f",
                  n, per_sweep, sx_sweep_plan_scale (plan));
  g_assert_cmpuint (n, >, 1);
  g_assert_cmpuint (per_sweep, >, 1);
  g_assert_cmpuint (per_sweep, <=, n);
  g_assert_cmpfloat_with_epsilon (sx_sweep_plan_scale (plan), 2.5, 1e-9);

  for (guint sweep = 0; sweep < 2; sweep++) {
    g_autofree guint *seen = g_new0 (guint, n);
    g_autoptr (GArray) regions
        = g_array_new (FALSE, FALSE, sizeof (SxDetectRegion));
    for (guint a = 0; a < per_sweep; a++) {
      g_array_set_size (regions, 0);
      gboolean done = sx_sweep_plan_next (plan, regions);
      g_assert_cmpint (done, ==, a == per_sweep - 1);
      g_assert_cmpuint (regions->len, >=, 1);
      gdouble scanned = 0;
      for (guint j = 0; j < regions->len; j++) {
        const SxDetectRegion *r = &g_array_index (regions, SxDetectRegion, j);
        scanned += r->width * r->scale * r->height * r->scale;
        for (guint i = 0; i < n; i++)
          if (!memcmp (r, sx_sweep_plan_region (plan, i), sizeof *r))
            seen[i]++;
      }
      /* one analysis's worth: two 1280x1024 tiles (sweepplan.c) */
      g_assert_cmpfloat (scanned, <=, 2 * 1280.0 * 1024);
    }
    for (guint i = 0; i < n; i++)
      g_assert_cmpuint (seen[i], ==, 1);
  }
}

static void
test_region_around (void)
{
  g_autoptr (SxSweepPlan) plan = sx_sweep_plan_new (1280, 720, 32);
  SxDetectRegion r;
  g_assert_true (sx_sweep_plan_region_around (plan, 600, 300, 40, 40, &r));
  /* the face, with room around it, scanned above HOG's smallest */
  g_assert_true (region_finds (&r, 600, 300, 40));
  g_assert_true (region_finds (&r, 590, 290, 40));
  g_assert_cmpuint (r.width, <=, 100);
  /* at the frame's corner it is clipped to the frame */
  g_assert_true (sx_sweep_plan_region_around (plan, 0, 0, 40, 40, &r));
  g_assert_cmpint (r.x, ==, 0);
  g_assert_cmpint (r.y, ==, 0);
  g_assert_true (region_finds (&r, 0, 0, 40));
  /* a big face is scanned smaller */
  g_assert_true (sx_sweep_plan_region_around (plan, 400, 100, 400, 400, &r));
  g_assert_cmpfloat (r.scale, <, 1.0);
  g_assert_true (region_finds (&r, 400, 100, 400));
  /* off the frame: nothing to scan */
  g_assert_false (sx_sweep_plan_region_around (plan, 2000, 100, 40, 40, &r));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sweepplan/whole-frame", test_whole_frame_when_affordable);
  g_test_add_func ("/sweepplan/tiles-cover", test_tiles_cover_every_face);
  g_test_add_func ("/sweepplan/rotation", test_rotation);
  g_test_add_func ("/sweepplan/region-around", test_region_around);
  return g_test_run ();
}
