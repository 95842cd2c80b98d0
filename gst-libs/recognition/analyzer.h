/* surveillx-gst — one face analysis: detect, align, describe.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An analyzer owns a HOG detector (private to its thread) and references to
 * the shared landmark and descriptor models. The element's worker, gallery
 * enrolment, the enrolment tool and the benchmark all go through it, so
 * they compute descriptors identically.
 */
#ifndef SX_ANALYZER_H
#define SX_ANALYZER_H

#include "face.h"

G_BEGIN_DECLS

typedef struct {
  SxFaceBox box;
  gfloat descriptor[SX_FACE_DESCRIPTOR_LEN];
} SxFaceObservation;

typedef struct {
  gdouble detect_ms;
  gdouble align_ms;    /* landmarks + chip, all faces */
  gdouble describe_ms; /* one batch, all faces */
} SxAnalysisTimings;

typedef struct _SxAnalyzer SxAnalyzer;

SxAnalyzer *sx_analyzer_new (const gchar *landmark_model,
                             const gchar *recognition_model, GError **error);
void sx_analyzer_free (SxAnalyzer *analyzer);

void sx_analyzer_set_detection (SxAnalyzer *analyzer, guint upsample,
                                gdouble adjust_threshold);

/* The face boxes in the RGB (or grey) image: the number written to *boxes
 * (g_free it), or -1 with `error` set. */
gint sx_analyzer_detect (SxAnalyzer *analyzer, const SxImage *image,
                         SxFaceBox **boxes, GError **error);

/* The faces in the given regions of the RGB (or grey) image, each found
 * once: a face found in several regions (overlapping tiles, a tracked
 * face's own region) keeps its best-scoring box. The number written to
 * *boxes (g_free it), or -1 with `error` set. */
gint sx_analyzer_detect_regions (SxAnalyzer *analyzer, const SxImage *image,
                                 const SxDetectRegion *regions, guint n_regions,
                                 SxFaceBox **boxes, GError **error);

/* Landmarks and aligned chip of each of `n_boxes` boxes of the RGB image:
 * n_boxes * SX_FACE_CHIP_BYTES bytes. `timings` (align_ms) may be NULL. */
gboolean sx_analyzer_align (SxAnalyzer *analyzer, const SxImage *image,
                            const SxFaceBox *boxes, guint n_boxes,
                            guint8 *chips, SxAnalysisTimings *timings,
                            GError **error);

/* The descriptors of `n_chips` aligned chips, in one batch:
 * n_chips * SX_FACE_DESCRIPTOR_LEN floats. `timings` (describe_ms) may be
 * NULL. */
gboolean sx_analyzer_describe_chips (SxAnalyzer *analyzer, const guint8 *chips,
                                     guint n_chips, gfloat *descriptors,
                                     SxAnalysisTimings *timings,
                                     GError **error);

/* Both: landmarks, chip and descriptor for each of `n_boxes` boxes of the
 * RGB image, in one batch: n_boxes * SX_FACE_DESCRIPTOR_LEN floats.
 * `timings` (align_ms, describe_ms) may be NULL. */
gboolean sx_analyzer_describe (SxAnalyzer *analyzer, const SxImage *image,
                               const SxFaceBox *boxes, guint n_boxes,
                               gfloat *descriptors, SxAnalysisTimings *timings,
                               GError **error);

/* Every face in the RGB (or grey) image: detect, then describe. Returns an
 * array of SxFaceObservation, or NULL with `error` set. `timings` may be
 * NULL. */
GArray *sx_analyzer_run (SxAnalyzer *analyzer, const SxImage *image,
                         SxAnalysisTimings *timings, GError **error);

/* The descriptor of the one face in a photo (enrolment). A photo with no
 * face is tried once more with a replicated border (tight crops); zero or
 * several faces are an error saying how many were found. */
gboolean sx_analyzer_describe_photo (SxAnalyzer *analyzer, const gchar *path,
                                     gfloat *descriptor, GError **error);

#define SX_ANALYZER_ERROR (sx_analyzer_error_quark ())
GQuark sx_analyzer_error_quark (void);
typedef enum {
  SX_ANALYZER_ERROR_NO_FACE,
  SX_ANALYZER_ERROR_SEVERAL_FACES,
} SxAnalyzerError;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SxAnalyzer, sx_analyzer_free)

G_END_DECLS

#endif /* SX_ANALYZER_H */
