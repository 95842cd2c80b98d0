/* surveillx-gst — where each analysis looks for faces.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sweepplan.h"

#include <math.h>

/* Scanned pixels one analysis may spend on the sweep: two of the largest
 * tiles (~0.1 s of HOG here), so a 640x480 camera looking for 40 px faces
 * is still swept whole each time; and never less than the frame itself,
 * so a frame not scaled up is swept whole each time, whatever its size (a
 * still photo is analysed once). Fewer, larger analyses per sweep pay the
 * per-analysis costs (re-finding every tracked face, re-describing those
 * due) fewer times: in bench/run-classroom.py at 8 cameras, 90 % of the
 * 40 px seats were named at 26 s with this budget, 39 s with half of it;
 * three tiles gave no more and cost memory. */
#define ANALYSIS_SCAN_PIXELS (2 * 1280 * 1024)

/* Largest tile of a band, in scanned pixels. */
#define TILE_MAX_WIDTH 1280
#define TILE_MAX_HEIGHT 1024

/* Pyramid levels of a band: 5 levels of 5/6 each cover faces up to
 * (6/5)^4 = 2.07 times the smallest, one octave. */
#define BAND_LEVELS 5
#define BAND_RANGE 2.0

/* Tiles of a band overlap by this much more than its largest face, so the
 * detector sees a margin around every face in at least one tile. */
#define TILE_OVERLAP_MARGIN 1.25

/* A tracked face is re-found scanned at this size (in scanned pixels),
 * in a region this many times its side, at the few pyramid levels that
 * find it from a little smaller to a third larger: a seated student moves
 * and turns, the sweep finds whoever changed more. Re-finding is most of
 * an analysis's detection time in a full room (27 faces), so it is kept
 * small: ~1.3 ms a face here against ~3.3 ms for a 2x region at every
 * level. */
#define REFIND_FACE_PIXELS (SX_FACE_DETECT_MIN_SIZE * 9 / 8)
#define REFIND_REGION_FACTOR 1.6
#define REFIND_LEVELS 3

struct _SxSweepPlan {
  guint frame_width, frame_height;
  gdouble scale;
  GArray *regions; /* SxDetectRegion, coarsest band first */
  guint next;      /* rotation: the next region to scan */
  gdouble budget;  /* scanned pixels per analysis */
  guint analyses_per_sweep;
};

static gdouble
scanned_pixels (const SxDetectRegion *r)
{
  return (r->width * r->scale) * (r->height * r->scale);
}

/* `n` spans of `span` pixels covering 0..`length`, evenly spaced so
 * neighbours share `overlap` pixels; writes the n starts. */
static guint
cover (guint length, guint max_span, guint overlap, guint *span, guint starts[],
       guint max_n)
{
  guint n = 1;
  if (length > max_span && max_span > overlap)
    n = (guint)ceil ((gdouble)(length - overlap) / (max_span - overlap));
  n = CLAMP (n, 1, max_n);
  *span = MIN (length, (guint)ceil ((length + (gdouble)(n - 1) * overlap) / n));
  for (guint i = 0; i < n; i++)
    starts[i]
        = n == 1 ? 0 : (guint)llround ((gdouble)i * (length - *span) / (n - 1));
  return n;
}

static void
add_band (SxSweepPlan *plan, gdouble scale)
{
  const guint max_tiles = 64;
  guint overlap = (guint)ceil (SX_FACE_DETECT_MIN_SIZE * BAND_RANGE
                               * TILE_OVERLAP_MARGIN / scale);
  guint xs[64], ys[64], tile_w, tile_h;
  guint cols = cover (plan->frame_width, (guint)(TILE_MAX_WIDTH / scale),
                      overlap, &tile_w, xs, max_tiles);
  guint rows = cover (plan->frame_height, (guint)(TILE_MAX_HEIGHT / scale),
                      overlap, &tile_h, ys, max_tiles);
  for (guint r = 0; r < rows; r++)
    for (guint c = 0; c < cols; c++) {
      SxDetectRegion region
          = { (gint)xs[c], (gint)ys[r], tile_w, tile_h, scale, BAND_LEVELS };
      g_array_append_val (plan->regions, region);
    }
}

SxSweepPlan *
sx_sweep_plan_new (guint frame_width, guint frame_height, guint min_face_size)
{
  g_return_val_if_fail (frame_width > 0 && frame_height > 0, NULL);
  g_return_val_if_fail (min_face_size > 0, NULL);
  SxSweepPlan *plan = g_new0 (SxSweepPlan, 1);
  plan->frame_width = frame_width;
  plan->frame_height = frame_height;
  plan->regions = g_array_new (FALSE, FALSE, sizeof (SxDetectRegion));
  /* region scales are bounded by the detector (8x) */
  plan->scale = MIN ((gdouble)SX_FACE_DETECT_MIN_SIZE / min_face_size, 8.0);

  gdouble frame_pixels = (gdouble)frame_width * frame_height;
  plan->budget = MAX (ANALYSIS_SCAN_PIXELS, frame_pixels);
  for (gdouble scale = plan->scale;; scale /= BAND_RANGE) {
    if (frame_pixels * scale * scale <= plan->budget) {
      SxDetectRegion whole = { 0, 0, frame_width, frame_height, scale, 0 };
      g_array_append_val (plan->regions, whole);
      break;
    }
    add_band (plan, scale);
  }
  /* Coarsest first: the whole frame at a small scale is the cheapest
   * region and finds the front rows' large faces at the first analysis;
   * the fine tiles for the back rows follow. */
  for (guint i = 0, j = plan->regions->len - 1; i < j; i++, j--) {
    SxDetectRegion tmp = g_array_index (plan->regions, SxDetectRegion, i);
    g_array_index (plan->regions, SxDetectRegion, i)
        = g_array_index (plan->regions, SxDetectRegion, j);
    g_array_index (plan->regions, SxDetectRegion, j) = tmp;
  }

  /* how many analyses one rotation takes */
  GArray *scratch = g_array_new (FALSE, FALSE, sizeof (SxDetectRegion));
  do {
    plan->analyses_per_sweep++;
    g_array_set_size (scratch, 0);
  } while (!sx_sweep_plan_next (plan, scratch));
  g_array_unref (scratch);
  plan->next = 0;
  return plan;
}

void
sx_sweep_plan_free (SxSweepPlan *plan)
{
  if (!plan)
    return;
  g_array_unref (plan->regions);
  g_free (plan);
}

guint
sx_sweep_plan_n_regions (const SxSweepPlan *plan)
{
  return plan->regions->len;
}

const SxDetectRegion *
sx_sweep_plan_region (const SxSweepPlan *plan, guint index)
{
  g_return_val_if_fail (index < plan->regions->len, NULL);
  return &g_array_index (plan->regions, SxDetectRegion, index);
}

gdouble
sx_sweep_plan_scale (const SxSweepPlan *plan)
{
  return plan->scale;
}

guint
sx_sweep_plan_analyses_per_sweep (const SxSweepPlan *plan)
{
  return plan->analyses_per_sweep;
}

gboolean
sx_sweep_plan_next (SxSweepPlan *plan, GArray *regions)
{
  gdouble budget = plan->budget;
  gboolean first = TRUE;
  while (first || (plan->next > 0 && budget > 0)) {
    const SxDetectRegion *r
        = &g_array_index (plan->regions, SxDetectRegion, plan->next);
    /* a region that does not fit what is left waits for the next analysis */
    if (!first && scanned_pixels (r) > budget)
      break;
    g_array_append_val (regions, *r);
    budget -= scanned_pixels (r);
    plan->next = (plan->next + 1) % plan->regions->len;
    first = FALSE;
  }
  return plan->next == 0;
}

gboolean
sx_sweep_plan_region_around (const SxSweepPlan *plan, gint x, gint y,
                             guint width, guint height, SxDetectRegion *region)
{
  guint side = MAX (width, height);
  if (side == 0)
    return FALSE;
  gdouble grown = side * REFIND_REGION_FACTOR;
  gdouble cx = x + width / 2.0, cy = y + height / 2.0;
  gint x0 = MAX (0, (gint)floor (cx - grown / 2));
  gint y0 = MAX (0, (gint)floor (cy - grown / 2));
  gint x1 = MIN ((gint)plan->frame_width, (gint)ceil (cx + grown / 2));
  gint y1 = MIN ((gint)plan->frame_height, (gint)ceil (cy + grown / 2));
  if (x1 <= x0 || y1 <= y0)
    return FALSE;
  *region
      = (SxDetectRegion){ x0,
                          y0,
                          (guint)(x1 - x0),
                          (guint)(y1 - y0),
                          CLAMP ((gdouble)REFIND_FACE_PIXELS / side, 0.05, 8.0),
                          REFIND_LEVELS };
  return TRUE;
}
