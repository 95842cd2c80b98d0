/* surveillx-gst — one face analysis: detect, align, describe.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "analyzer.h"
#include "imageload.h"

#include <string.h>

G_DEFINE_QUARK (sx - analyzer - error - quark, sx_analyzer_error)

struct _SxAnalyzer {
  SxFaceDetector *detector;
  SxLandmarkModel *landmarks;
  SxDescriptorModel *descriptors;
  guint upsample;
  gdouble adjust_threshold;
};

SxAnalyzer *
sx_analyzer_new (const gchar *landmark_model, const gchar *recognition_model,
                 GError **error)
{
  SxAnalyzer *a = g_new0 (SxAnalyzer, 1);
  if (!(a->landmarks = sx_landmark_model_get (landmark_model, error))
      || !(a->descriptors = sx_descriptor_model_get (recognition_model, error))
      || !(a->detector = sx_face_detector_new (error))) {
    sx_analyzer_free (a);
    return NULL;
  }
  return a;
}

void
sx_analyzer_free (SxAnalyzer *analyzer)
{
  if (!analyzer)
    return;
  g_clear_pointer (&analyzer->detector, sx_face_detector_free);
  g_clear_pointer (&analyzer->landmarks, sx_landmark_model_unref);
  g_clear_pointer (&analyzer->descriptors, sx_descriptor_model_unref);
  g_free (analyzer);
}

void
sx_analyzer_set_detection (SxAnalyzer *analyzer, guint upsample,
                           gdouble adjust_threshold)
{
  analyzer->upsample = upsample;
  analyzer->adjust_threshold = adjust_threshold;
}

static gdouble
ms_since (gint64 start_us)
{
  return (g_get_monotonic_time () - start_us) / 1000.0;
}

gint
sx_analyzer_detect (SxAnalyzer *analyzer, const SxImage *image,
                    SxFaceBox **boxes, GError **error)
{
  return sx_face_detect (analyzer->detector, image, analyzer->upsample,
                         analyzer->adjust_threshold, boxes, error);
}

/* Boxes of one face found twice: overlapping much, or one inside the
 * other (the same face seen by two scales). */
static gboolean
same_face (const SxFaceBox *a, const SxFaceBox *b)
{
  gint x0 = MAX (a->x, b->x), y0 = MAX (a->y, b->y);
  gint x1 = MIN (a->x + (gint)a->width, b->x + (gint)b->width);
  gint y1 = MIN (a->y + (gint)a->height, b->y + (gint)b->height);
  if (x1 <= x0 || y1 <= y0)
    return FALSE;
  gdouble inter = (gdouble)(x1 - x0) * (y1 - y0);
  gdouble area_a = (gdouble)a->width * a->height;
  gdouble area_b = (gdouble)b->width * b->height;
  return inter / (area_a + area_b - inter) >= 0.4
         || inter / MIN (area_a, area_b) >= 0.7;
}

static gint
by_score_descending (gconstpointer a, gconstpointer b)
{
  gdouble sa = ((const SxFaceBox *)a)->score;
  gdouble sb = ((const SxFaceBox *)b)->score;
  return sa < sb ? 1 : sa > sb ? -1 : 0;
}

gint
sx_analyzer_detect_regions (SxAnalyzer *analyzer, const SxImage *image,
                            const SxDetectRegion *regions, guint n_regions,
                            SxFaceBox **boxes, GError **error)
{
  g_autoptr (GArray) found = g_array_new (FALSE, FALSE, sizeof (SxFaceBox));
  for (guint i = 0; i < n_regions; i++) {
    g_autofree SxFaceBox *in_region = NULL;
    gint n
        = sx_face_detect_region (analyzer->detector, image, &regions[i],
                                 analyzer->adjust_threshold, &in_region, error);
    if (n < 0)
      return -1;
    g_array_append_vals (found, in_region, (guint)n);
  }
  g_array_sort (found, by_score_descending);
  guint kept = 0;
  for (guint i = 0; i < found->len; i++) {
    const SxFaceBox *candidate = &g_array_index (found, SxFaceBox, i);
    gboolean duplicate = FALSE;
    for (guint j = 0; j < kept && !duplicate; j++)
      duplicate = same_face (candidate, &g_array_index (found, SxFaceBox, j));
    if (!duplicate)
      g_array_index (found, SxFaceBox, kept++) = *candidate;
  }
  *boxes = g_new (SxFaceBox, MAX (kept, 1));
  if (kept)
    memcpy (*boxes, found->data, kept * sizeof (SxFaceBox));
  return (gint)kept;
}

gboolean
sx_analyzer_align (SxAnalyzer *analyzer, const SxImage *image,
                   const SxFaceBox *boxes, guint n_boxes, guint8 *chips,
                   SxAnalysisTimings *timings, GError **error)
{
  gint64 start = g_get_monotonic_time ();
  for (guint i = 0; i < n_boxes; i++)
    if (!sx_face_extract_chip (analyzer->landmarks, image, &boxes[i],
                               chips + (gsize)i * SX_FACE_CHIP_BYTES, error))
      return FALSE;
  if (timings)
    timings->align_ms = ms_since (start);
  return TRUE;
}

gboolean
sx_analyzer_describe_chips (SxAnalyzer *analyzer, const guint8 *chips,
                            guint n_chips, gfloat *descriptors,
                            SxAnalysisTimings *timings, GError **error)
{
  if (n_chips == 0)
    return TRUE;
  gint64 start = g_get_monotonic_time ();
  if (!sx_face_describe (analyzer->descriptors, chips, n_chips, descriptors,
                         error))
    return FALSE;
  if (timings)
    timings->describe_ms = ms_since (start);
  return TRUE;
}

gboolean
sx_analyzer_describe (SxAnalyzer *analyzer, const SxImage *image,
                      const SxFaceBox *boxes, guint n_boxes,
                      gfloat *descriptors, SxAnalysisTimings *timings,
                      GError **error)
{
  if (n_boxes == 0)
    return TRUE;
  g_autofree guint8 *chips = g_malloc ((gsize)n_boxes * SX_FACE_CHIP_BYTES);
  return sx_analyzer_align (analyzer, image, boxes, n_boxes, chips, timings,
                            error)
         && sx_analyzer_describe_chips (analyzer, chips, n_boxes, descriptors,
                                        timings, error);
}

GArray *
sx_analyzer_run (SxAnalyzer *analyzer, const SxImage *image,
                 SxAnalysisTimings *timings, GError **error)
{
  SxAnalysisTimings t = { 0 };
  g_autofree SxFaceBox *boxes = NULL;

  gint64 start = g_get_monotonic_time ();
  gint n = sx_analyzer_detect (analyzer, image, &boxes, error);
  t.detect_ms = ms_since (start);
  if (n < 0)
    return NULL;

  g_autofree gfloat *descriptors
      = g_new (gfloat, (gsize)MAX (n, 1) * SX_FACE_DESCRIPTOR_LEN);
  if (!sx_analyzer_describe (analyzer, image, boxes, (guint)n, descriptors, &t,
                             error))
    return NULL;

  GArray *faces
      = g_array_sized_new (FALSE, TRUE, sizeof (SxFaceObservation), n);
  g_array_set_size (faces, n);
  for (gint i = 0; i < n; i++) {
    SxFaceObservation *o = &g_array_index (faces, SxFaceObservation, i);
    o->box = boxes[i];
    memcpy (o->descriptor, descriptors + (gsize)i * SX_FACE_DESCRIPTOR_LEN,
            sizeof o->descriptor);
  }
  if (timings)
    *timings = t;
  return faces;
}

static GArray *
run_on_rgb (SxAnalyzer *analyzer, const SxRgbImage *rgb, GError **error)
{
  SxImage image = { rgb->data, rgb->width, rgb->height, rgb->stride, 3 };
  return sx_analyzer_run (analyzer, &image, NULL, error);
}

gboolean
sx_analyzer_describe_photo (SxAnalyzer *analyzer, const gchar *path,
                            gfloat *descriptor, GError **error)
{
  SxRgbImage photo;
  if (!sx_rgb_image_load (path, &photo, error))
    return FALSE;

  g_autoptr (GArray) faces = run_on_rgb (analyzer, &photo, error);
  if (faces && faces->len == 0) {
    /* Tight crops hide the chin and forehead HOG needs: add context. */
    SxRgbImage padded;
    sx_rgb_image_pad (&photo, MAX (photo.width, photo.height) / 2, &padded);
    g_array_unref (faces);
    faces = run_on_rgb (analyzer, &padded, error);
    sx_rgb_image_clear (&padded);
  }
  sx_rgb_image_clear (&photo);
  if (!faces)
    return FALSE;
  if (faces->len != 1) {
    g_set_error (
        error, SX_ANALYZER_ERROR,
        faces->len == 0 ? SX_ANALYZER_ERROR_NO_FACE
                        : SX_ANALYZER_ERROR_SEVERAL_FACES,
        "'%s' holds %u faces; an enrolment photo must hold exactly one", path,
        faces->len);
    return FALSE;
  }
  memcpy (descriptor, g_array_index (faces, SxFaceObservation, 0).descriptor,
          sizeof (gfloat) * SX_FACE_DESCRIPTOR_LEN);
  return TRUE;
}
