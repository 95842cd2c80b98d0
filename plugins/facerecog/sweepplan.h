/* surveillx-gst — where each analysis looks for faces.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * HOG finds faces of at least SX_FACE_DETECT_MIN_SIZE pixels in the image
 * it scans, so finding faces of `min_face_size` pixels means scanning the
 * frame scaled up by about SX_FACE_DETECT_MIN_SIZE / min_face_size: for
 * 32 px faces in a 1280x720 frame, six times its pixels, over a second of
 * CPU. A sweep plan cuts that scan into regions one analysis can afford and
 * hands them out in rotation, so a whole sweep takes a few analyses; a face
 * already tracked is re-found at every analysis in a small region around it
 * (sx_sweep_plan_region_around), and a new face is found when the sweep
 * reaches it.
 *
 * The regions come in bands: the finest scans at the full scale but only
 * the pyramid levels of one octave (faces of min..2 min pixels), the next at
 * half that scale for 2 min..4 min, and so on until the whole frame at a
 * band's scale fits one region, which scans every level (every larger face).
 * The tiles of a band overlap by more than the largest face the band finds,
 * so each face lies wholly inside one of them. A frame that fits one region
 * at the finest scale is swept whole by every analysis, as before. The
 * rotation starts with the coarsest (cheapest) region: large faces first.
 */
#ifndef SX_SWEEP_PLAN_H
#define SX_SWEEP_PLAN_H

#include "face.h"

G_BEGIN_DECLS

typedef struct _SxSweepPlan SxSweepPlan;

SxSweepPlan *sx_sweep_plan_new (guint frame_width, guint frame_height,
                                guint min_face_size);
void sx_sweep_plan_free (SxSweepPlan *plan);

/* Every region of one sweep. */
guint sx_sweep_plan_n_regions (const SxSweepPlan *plan);
const SxDetectRegion *sx_sweep_plan_region (const SxSweepPlan *plan,
                                            guint index);

/* The scale of the finest band (frame pixels to scanned pixels). */
gdouble sx_sweep_plan_scale (const SxSweepPlan *plan);

/* Analyses one whole sweep takes (1: every analysis sweeps it all). */
guint sx_sweep_plan_analyses_per_sweep (const SxSweepPlan *plan);

/* Appends to `regions` (SxDetectRegion) the regions the next analysis
 * scans: the next ones in rotation, about one analysis's worth. TRUE when
 * they complete a sweep. */
gboolean sx_sweep_plan_next (SxSweepPlan *plan, GArray *regions);

/* The region that re-finds a face tracked at the box: the box with half
 * its size around it (room for the face to have moved), scaled so the face
 * is scanned a little above the detector's smallest size. FALSE if the
 * box lies outside the frame. */
gboolean sx_sweep_plan_region_around (const SxSweepPlan *plan, gint x, gint y,
                                      guint width, guint height,
                                      SxDetectRegion *region);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SxSweepPlan, sx_sweep_plan_free)

G_END_DECLS

#endif /* SX_SWEEP_PLAN_H */
