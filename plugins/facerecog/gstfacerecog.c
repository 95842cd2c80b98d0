/* surveillx-gst — facerecog: recognises enrolled faces in raw video.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-facerecog
 * @title: facerecog
 *
 * Finds faces with dlib's HOG detector, describes them with dlib's 128-D
 * ResNet and names them after the nearest enrolled face (Euclidean
 * distance under #GstFaceRecog:threshold). Video passes through untouched
 * (unless #GstFaceRecog:draw is set) and is never held up by recognition:
 * analysis runs on the process's analysis threads (one per core but one,
 * shared by every facerecog in the process, cameras served in turn) on a recent
 * frame, and a tracker carries each face's box to the frames in between.
 * A face that stays where a confirmed track is, looking as it did when last
 * described, keeps its name without being described again every time
 * (#GstFaceRecog:redescribe-after); a descriptor that disagrees with a
 * track's name ends the name at once, so no face inherits another's.
 *
 * #GstFaceRecog:min-face-size sets the smallest face looked for. HOG finds
 * faces from 80 px in what it scans, so smaller ones need the frame scanned
 * scaled up; when one analysis cannot afford that whole, each analysis
 * scans the next part of the frame in rotation and re-finds the faces
 * already tracked around where they were (sweepplan.h).
 *
 * From a live source, frames pass while an analysis runs; from a file (a
 * source that is not live), each analysed frame waits for the analysis
 * before it, so a recording is analysed as fully as the CPU allows, at
 * every #GstFaceRecog:interval th frame.
 *
 * Each buffer carries one #GstVideoRegionOfInterestMeta (roi type "face")
 * per tracked face with a "surveillx/face" parameter structure; each
 * analysed frame posts a "facerecog" element message. See
 * docs/elements.md for the fields.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m filesrc location=class.mp4 ! decodebin ! videoconvert !
 *     facerecog gallery=students/ ! fakesink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfacerecog.h"

#include "analysispool.h"
#include "analyzer.h"
#include "facesignature.h"
#include "font5x7.h"
#include "sxfacemeta.h"
#include "gallery.h"
#include "gallerydb.h"
#include "galleryshare.h"
#include "models.h"
#include "sweepplan.h"
#include <surveillx/faceresult.h>
#include "tracker.h"

#include <gst/video/gstvideometa.h>
#include <gst/video/video.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_face_recog_debug);
#define GST_CAT_DEFAULT gst_face_recog_debug

#define DEFAULT_GALLERY NULL
#define DEFAULT_THRESHOLD 0.6
#define DEFAULT_INTERVAL 1
#define DEFAULT_WORKER_NICE 19
#define DEFAULT_SYNCHRONOUS FALSE
#define DEFAULT_MIN_VOTES 3
#define DEFAULT_UPSAMPLE 0
#define DEFAULT_MIN_FACE_SIZE SX_FACE_DETECT_MIN_SIZE
#define DEFAULT_DETECT_THRESHOLD 0.0
#define DEFAULT_IOU_THRESHOLD 0.3
#define DEFAULT_MAX_MISSES 2
#define DEFAULT_REDESCRIBE_AFTER 5
#define DEFAULT_DRAW FALSE
#define DEFAULT_BLUR GST_FACE_RECOG_BLUR_NONE
/* A pixelated face is this many blocks across, its box grown by a quarter
 * on each side (hair, ears, a box that lags a moving head): too coarse for
 * a face detector to find again, let alone a person to recognise. */
#define BLUR_BLOCKS_ACROSS 5
#define BLUR_MARGIN 0.25
#define DEFAULT_CONNINFO NULL
#define DEFAULT_SCHEMA SX_DB_DEFAULT_SCHEMA

/* A frame waiting in the pool's queue is replaced by a newer one once it is
 * this old, so a busy box analyses recent frames without copying all 30. */
#define QUEUED_FRAME_REFRESH_US (100 * G_TIME_SPAN_MILLISECOND)

/* Least overlap between a detected face and a confirmed track for the
 * track's identity to be carried without describing the face: stricter
 * than continuing a track, since a wrong carry names the wrong person. */
#define CARRY_MIN_IOU 0.5

/* Least similarity of the face's appearance to the track's when it was
 * last described for the carry (facesignature.h). Measured on the shared
 * identities (16x16 signatures of aligned chips): two different people
 * reach at most 0.83, the same picture re-detected after shifts of 3-4 px
 * and +-5 % scale at least 0.87. Below it the face is described: a carry
 * refused costs a descriptor, a carry wrongly granted a name. */
#define CARRY_MIN_SIMILARITY 0.9

/* How long EOS waits for the analysis in flight, so its result is posted. */
#define EOS_DRAIN_TIMEOUT_US (5 * G_TIME_SPAN_SECOND)

enum {
  PROP_0,
  PROP_GALLERY,
  PROP_CONNINFO,
  PROP_SCHEMA,
  PROP_GALLERY_SCHEMA,
  PROP_LANDMARK_MODEL,
  PROP_RECOGNITION_MODEL,
  PROP_THRESHOLD,
  PROP_INTERVAL,
  PROP_SYNCHRONOUS,
  PROP_WORKER_NICE,
  PROP_MIN_VOTES,
  PROP_UPSAMPLE,
  PROP_MIN_FACE_SIZE,
  PROP_DETECT_THRESHOLD,
  PROP_IOU_THRESHOLD,
  PROP_MAX_MISSES,
  PROP_REDESCRIBE_AFTER,
  PROP_DRAW,
  PROP_BLUR,
  PROP_STATS,
};

/* One face of one analysis: described and matched against the gallery,
 * or carried from a track. */
typedef struct {
  SxBox box;
  gchar *id; /* NULL: over the threshold (or carried) */
  gchar *name;
  gdouble distance;          /* to the nearest enrolled face */
  SxFaceSignature signature; /* appearance, described faces only */
  guint carried_track;       /* identity carried from this track, not
                              * described this time; 0: described */
} FaceMatch;

/* A confirmed track as the streaming thread saw it when it handed out a
 * frame: a face detected in the same place, looking as it did when last
 * described, keeps this identity without being described again. */
typedef struct {
  SxBox box;
  guint track_id;
  SxFaceSignature reference;
} KnownFace;

typedef struct {
  guint64 frame;
  GstClockTime pts, running_time, stream_time;
  GArray *faces; /* FaceMatch */
  gdouble analysis_ms;
} AnalysisResult;

/* A frame handed to the analysis pool, with the times it must be reported at.
 */
typedef struct {
  GstBuffer *buffer; /* owned copy, reused between jobs */
  GstVideoInfo info;
  guint64 frame;
  GstClockTime pts, running_time, stream_time;
  gint64 copied_at; /* monotonic µs */
  GArray *known;    /* KnownFace */
  GArray *tracked;  /* SxBox: every track, to re-find */
} AnalysisJob;

struct _GstFaceRecog {
  GstVideoFilter parent;

  /* Properties, under the object lock */
  gchar *gallery_location;
  gchar *conninfo;
  gchar *schema;
  gchar *landmark_model;
  gchar *recognition_model;
  gdouble threshold;
  guint interval;
  gint worker_nice;
  gboolean synchronous;
  guint min_votes;
  guint upsample;
  guint min_face_size;
  gdouble detect_threshold;
  gdouble iou_threshold;
  guint max_misses;
  guint redescribe_after;
  gboolean draw;
  GstFaceRecogBlur blur;

  /* Between start and stop */
  SxAnalyzer *analyzer;          /* used by one thread at a time: a pool
                                  * thread, or the streaming thread in
                                  * synchronous mode */
  SxGallery *gallery;            /* under `lock`; swapped whole on reload */
  SxGalleryShare *gallery_share; /* the process's copy, shared */
  SxTracker *tracker;            /* streaming thread only */
  guint64 frame_count;

  /* Hand-off to the process's analysis pool, under `lock` */
  GMutex lock;
  GCond cond;
  SxPoolClient *pool_client;
  gboolean job_ready; /* queued in the pool */
  gboolean busy;      /* a pool thread analyses the job */
  AnalysisJob job;
  AnalysisResult *pending; /* newest finished analysis not yet applied */

  /* Worker-only: where analyses look for faces */
  SxSweepPlan *sweep_plan;
  guint sweep_plan_min_face, sweep_plan_width, sweep_plan_height;
  GArray *scan_regions; /* SxDetectRegion, one analysis's */

  /* Worker-only conversion to packed RGB */
  GstVideoConverter *to_rgb;
  GstVideoInfo converted_info; /* what to_rgb converts from */
  GstVideoInfo rgb_info;
  guint8 *rgb_pixels;

  /* Counters, under `lock` */
  guint64 analysed, skipped_busy, faces_seen, errors;
  guint64 described, carried, carry_refused;
  guint64 sweeps, refinds;
  guint sweep_regions, analyses_per_sweep;
  gdouble sweep_scale;
  gdouble analysis_ms_total, detect_ms_total;

  /* Streaming thread: is upstream live? Frames of a file wait for the
   * analysis in flight instead of passing unanalysed. */
  gboolean live_known, live;
  gboolean flushing; /* under `lock`: stop waiting */
};

#define gst_face_recog_parent_class parent_class
G_DEFINE_TYPE (GstFaceRecog, gst_face_recog, GST_TYPE_VIDEO_FILTER);

GType
gst_face_recog_blur_get_type (void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    { GST_FACE_RECOG_BLUR_NONE, "No face is blurred", "none" },
    { GST_FACE_RECOG_BLUR_UNKNOWN,
      "Faces not confirmed as an enrolled person are blurred", "unknown" },
    { GST_FACE_RECOG_BLUR_ALL, "Every face is blurred", "all" },
    { 0, NULL, NULL },
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type,
                       g_enum_register_static ("GstFaceRecogBlur", values));
  return type;
}
GST_ELEMENT_REGISTER_DEFINE (facerecog, "facerecog", GST_RANK_NONE,
                             GST_TYPE_FACE_RECOG);

#define VIDEO_FORMATS                                                          \
  "{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, "                           \
  "ARGB, ABGR, I420, YV12, NV12, NV21 }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE (
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (VIDEO_FORMATS)));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE (
    "src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (VIDEO_FORMATS)));

/* ---- Results ------------------------------------------------------------- */

static void
face_match_clear (FaceMatch *m)
{
  g_free (m->id);
  g_free (m->name);
}

static void
analysis_result_free (AnalysisResult *r)
{
  if (!r)
    return;
  g_array_unref (r->faces);
  g_free (r);
}

static AnalysisResult *
analysis_result_new (void)
{
  AnalysisResult *r = g_new0 (AnalysisResult, 1);
  r->faces = g_array_new (FALSE, TRUE, sizeof (FaceMatch));
  g_array_set_clear_func (r->faces, (GDestroyNotify)face_match_clear);
  return r;
}

/* The confirmed track whose identity a detected face may carry, if any:
 * the known face it overlaps most, if the face still looks as that one did
 * when last described. Each known face is carried by one box at most.
 * `refused`: a known face was there, but the appearance had changed. */
static const KnownFace *
carried_identity (const GArray *known, gboolean *taken, const SxFaceBox *face,
                  const SxFaceSignature *signature, gboolean *refused)
{
  SxBox box = { face->x, face->y, face->width, face->height };
  gint best = -1;
  gdouble best_iou = CARRY_MIN_IOU;
  for (guint i = 0; known && i < known->len; i++) {
    if (taken[i])
      continue;
    gdouble iou = sx_box_iou (&box, &g_array_index (known, KnownFace, i).box);
    if (iou >= best_iou) {
      best_iou = iou;
      best = (gint)i;
    }
  }
  *refused = FALSE;
  if (best < 0)
    return NULL;
  const KnownFace *k = &g_array_index (known, KnownFace, best);
  if (sx_face_signature_similarity (signature, &k->reference)
      < CARRY_MIN_SIMILARITY) {
    *refused = TRUE;
    return NULL;
  }
  taken[best] = TRUE;
  return k;
}

/* The regions this analysis scans: the next part of the sweep and, when a
 * sweep takes several analyses, a small region around each tracked face,
 * so a face once found is seen at every analysis, not once per sweep.
 * Worker-only. */
static const GArray *
regions_to_scan (GstFaceRecog *self, const SxImage *image,
                 const GArray *tracked, guint min_face_size,
                 gboolean *sweep_done, guint *n_refind)
{
  if (!self->sweep_plan || self->sweep_plan_min_face != min_face_size
      || self->sweep_plan_width != image->width
      || self->sweep_plan_height != image->height) {
    g_clear_pointer (&self->sweep_plan, sx_sweep_plan_free);
    self->sweep_plan
        = sx_sweep_plan_new (image->width, image->height, min_face_size);
    self->sweep_plan_min_face = min_face_size;
    self->sweep_plan_width = image->width;
    self->sweep_plan_height = image->height;
    GST_INFO_OBJECT (self,
                     "faces from %u px in %ux%u: %u regions scanned "
                     "at x%.2f (finest), a sweep every %u analyses",
                     min_face_size, image->width, image->height,
                     sx_sweep_plan_n_regions (self->sweep_plan),
                     sx_sweep_plan_scale (self->sweep_plan),
                     sx_sweep_plan_analyses_per_sweep (self->sweep_plan));
    g_mutex_lock (&self->lock);
    self->sweep_regions = sx_sweep_plan_n_regions (self->sweep_plan);
    self->analyses_per_sweep
        = sx_sweep_plan_analyses_per_sweep (self->sweep_plan);
    self->sweep_scale = sx_sweep_plan_scale (self->sweep_plan);
    g_mutex_unlock (&self->lock);
  }
  g_array_set_size (self->scan_regions, 0);
  *sweep_done = sx_sweep_plan_next (self->sweep_plan, self->scan_regions);
  *n_refind = 0;
  if (sx_sweep_plan_analyses_per_sweep (self->sweep_plan) > 1) {
    for (guint i = 0; tracked && i < tracked->len; i++) {
      const SxBox *b = &g_array_index (tracked, SxBox, i);
      SxDetectRegion around;
      if (sx_sweep_plan_region_around (self->sweep_plan, b->x, b->y, b->width,
                                       b->height, &around)) {
        g_array_append_val (self->scan_regions, around);
        (*n_refind)++;
      }
    }
  }
  return self->scan_regions;
}

/* Detect, align, describe and match one RGB frame. A face where a
 * confirmed track is (`known`) and that looks as it did when last
 * described keeps that identity undescribed: the descriptor is most of an
 * analysis's cost (~24 ms a face against ~2 ms for the chip), and
 * redescribe-after bounds how long a face may go undescribed. Runs on a
 * pool thread, or on the streaming thread in synchronous mode. */
static AnalysisResult *
analyse (GstFaceRecog *self, const SxImage *image, const GArray *known,
         const GArray *tracked, gdouble threshold, guint min_face_size)
{
  g_autoptr (GError) error = NULL;
  SxAnalysisTimings t = { 0 };
  gint64 start = g_get_monotonic_time ();
  g_autofree SxFaceBox *boxes = NULL;
  gboolean sweep_done;
  guint n_refind;
  const GArray *regions = regions_to_scan (self, image, tracked, min_face_size,
                                           &sweep_done, &n_refind);
  gint n = sx_analyzer_detect_regions (self->analyzer, image,
                                       (const SxDetectRegion *)regions->data,
                                       regions->len, &boxes, &error);
  t.detect_ms = (g_get_monotonic_time () - start) / 1000.0;

  AnalysisResult *result = NULL;
  g_autofree gboolean *taken = g_new0 (gboolean, known ? known->len + 1 : 1);
  g_autofree guint8 *chips = NULL;
  g_autofree guint *described_face = g_new (guint, MAX (n, 1));
  g_autofree gfloat *descriptors = NULL;
  guint n_describe = 0, n_refused = 0;
  if (n >= 0) {
    chips = g_malloc ((gsize)MAX (n, 1) * SX_FACE_CHIP_BYTES);
    if (sx_analyzer_align (self->analyzer, image, boxes, (guint)n, chips, &t,
                           &error))
      result = analysis_result_new ();
  }
  if (result) {
    g_array_set_size (result->faces, (guint)n);
    for (gint i = 0; i < n; i++) {
      FaceMatch *m = &g_array_index (result->faces, FaceMatch, i);
      const guint8 *chip = chips + (gsize)i * SX_FACE_CHIP_BYTES;
      m->box
          = (SxBox){ boxes[i].x, boxes[i].y, boxes[i].width, boxes[i].height };
      m->distance = G_MAXDOUBLE;
      sx_face_signature_from_chip (chip, &m->signature);
      gboolean refused;
      const KnownFace *k
          = carried_identity (known, taken, &boxes[i], &m->signature, &refused);
      n_refused += refused;
      if (k) {
        m->carried_track = k->track_id;
      } else {
        /* The chips to describe go to the front, in order. */
        memmove (chips + (gsize)n_describe * SX_FACE_CHIP_BYTES, chip,
                 SX_FACE_CHIP_BYTES);
        described_face[n_describe++] = (guint)i;
      }
    }
    descriptors
        = g_new (gfloat, (gsize)MAX (n_describe, 1) * SX_FACE_DESCRIPTOR_LEN);
    if (!sx_analyzer_describe_chips (self->analyzer, chips, n_describe,
                                     descriptors, &t, &error))
      g_clear_pointer (&result, analysis_result_free);
  }
  if (!result) {
    GST_ELEMENT_WARNING (self, STREAM, FAILED,
                         ("Face analysis failed: %s", error->message), (NULL));
    g_mutex_lock (&self->lock);
    self->errors++;
    g_mutex_unlock (&self->lock);
    return NULL;
  }

  g_mutex_lock (&self->lock);
  SxGallery *gallery = self->gallery ? sx_gallery_ref (self->gallery) : NULL;
  g_mutex_unlock (&self->lock);

  for (guint j = 0; j < n_describe; j++) {
    FaceMatch *m = &g_array_index (result->faces, FaceMatch, described_face[j]);
    SxGalleryMatch best;
    if (gallery
        && sx_gallery_match (
            gallery, descriptors + (gsize)j * SX_FACE_DESCRIPTOR_LEN, &best)) {
      m->distance = best.distance;
      if (best.distance <= threshold) {
        m->id = g_strdup (best.id);
        m->name = g_strdup (best.name);
      }
    }
  }
  sx_gallery_unref (gallery);
  result->analysis_ms = (g_get_monotonic_time () - start) / 1000.0;

  GST_LOG_OBJECT (
      self,
      "%d faces, %u described (%u carries refused): "
      "detect %.1f ms (%u regions, %u around tracked faces), align %.1f ms, "
      "describe %.1f ms",
      n, n_describe, n_refused, t.detect_ms, regions->len, n_refind, t.align_ms,
      t.describe_ms);
  g_mutex_lock (&self->lock);
  self->analysed++;
  self->faces_seen += (guint)n;
  self->described += n_describe;
  self->carried += (guint)n - n_describe;
  self->carry_refused += n_refused;
  self->sweeps += sweep_done;
  self->refinds += n_refind;
  self->analysis_ms_total += result->analysis_ms;
  self->detect_ms_total += t.detect_ms;
  g_mutex_unlock (&self->lock);
  return result;
}

/* -1 stands for "no enrolled face to compare with" (empty gallery): JSON
 * and most consumers cannot carry DBL_MAX. */
static gdouble
reported_distance (gdouble d)
{
  return d >= G_MAXDOUBLE / 2 ? -1.0 : d;
}

static GstStructure *
track_structure (const SxTrack *track, gboolean with_box)
{
  GstStructure *s = gst_structure_new (
      SX_FACE_PARAMS_NAME, SX_FACE_FIELD_LABEL, G_TYPE_STRING,
      track->confirmed && track->name ? track->name : SX_FACE_LABEL_UNKNOWN,
      SX_FACE_FIELD_ID, G_TYPE_STRING,
      track->confirmed && track->id ? track->id : "", SX_FACE_FIELD_DISTANCE,
      G_TYPE_DOUBLE, reported_distance (track->distance),
      SX_FACE_FIELD_CONFIRMED, G_TYPE_BOOLEAN, track->confirmed,
      SX_FACE_FIELD_VOTES, G_TYPE_UINT, track->votes, SX_FACE_FIELD_TRACK_ID,
      G_TYPE_UINT, track->track_id, SX_FACE_FIELD_FRESH, G_TYPE_BOOLEAN,
      track->fresh, SX_FACE_FIELD_CARRIED, G_TYPE_BOOLEAN,
      track->fresh && track->carried, NULL);
  if (with_box)
    gst_structure_set (
        s, SX_FACE_FIELD_X, G_TYPE_INT, track->box.x, SX_FACE_FIELD_Y,
        G_TYPE_INT, track->box.y, SX_FACE_FIELD_WIDTH, G_TYPE_UINT,
        track->box.width, SX_FACE_FIELD_HEIGHT, G_TYPE_UINT, track->box.height,
        SX_FACE_FIELD_MATCH_ID, G_TYPE_STRING,
        track->match_id ? track->match_id : "", SX_FACE_FIELD_MATCH_DISTANCE,
        G_TYPE_DOUBLE, reported_distance (track->match_distance), NULL);
  return s;
}

static gboolean
still_enrolled (const gchar *id, gpointer gallery)
{
  return sx_gallery_has_id (gallery, id);
}

/* Feeds an analysis to the tracker and reports it on the bus. */
static void
apply_result (GstFaceRecog *self, AnalysisResult *result)
{
  guint n = result->faces->len;
  g_autofree SxTrackObservation *obs = g_new0 (SxTrackObservation, n + 1);
  for (guint i = 0; i < n; i++) {
    FaceMatch *m = &g_array_index (result->faces, FaceMatch, i);
    obs[i].box = m->box;
    obs[i].match_id = m->id;
    obs[i].match_name = m->name;
    obs[i].distance = m->distance;
    obs[i].signature = m->carried_track ? NULL : &m->signature;
    obs[i].carried_track = m->carried_track;
  }
  sx_tracker_update (self->tracker, obs, n);
  /* The analysis may have matched against a gallery since reloaded without
   * somebody (removed, consent withdrawn): nobody is named who is not in
   * the gallery now, whatever the votes said. */
  g_mutex_lock (&self->lock);
  SxGallery *gallery = self->gallery ? sx_gallery_ref (self->gallery) : NULL;
  g_mutex_unlock (&self->lock);
  if (gallery) {
    sx_tracker_forget (self->tracker, still_enrolled, gallery);
    sx_gallery_unref (gallery);
  }

  GValue faces = G_VALUE_INIT;
  gst_value_list_init (&faces, n);
  GPtrArray *tracks = sx_tracker_tracks (self->tracker);
  for (guint i = 0; i < tracks->len; i++) {
    SxTrack *track = g_ptr_array_index (tracks, i);
    if (!track->fresh)
      continue;
    GValue v = G_VALUE_INIT;
    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, track_structure (track, TRUE));
    gst_value_list_append_and_take_value (&faces, &v);
  }
  GstStructure *s = gst_structure_new (
      SX_FACE_MESSAGE_NAME, SX_FACE_MSG_FRAME, G_TYPE_UINT64, result->frame,
      SX_FACE_MSG_TIMESTAMP, G_TYPE_UINT64, result->pts,
      SX_FACE_MSG_RUNNING_TIME, G_TYPE_UINT64, result->running_time,
      SX_FACE_MSG_STREAM_TIME, G_TYPE_UINT64, result->stream_time,
      SX_FACE_MSG_ANALYSIS_MS, G_TYPE_DOUBLE, result->analysis_ms, NULL);
  gst_structure_take_value (s, SX_FACE_MSG_FACES, &faces);
  gst_element_post_message (GST_ELEMENT (self),
                            gst_message_new_element (GST_OBJECT (self), s));
}

/* ---- Worker ---------------------------------------------------------------
 */

static gboolean
job_to_rgb (GstFaceRecog *self, SxImage *image)
{
  AnalysisJob *job = &self->job;
  GstVideoFrame in;
  if (!gst_video_frame_map (&in, &job->info, job->buffer, GST_MAP_READ))
    return FALSE;

  GstVideoFormat format = GST_VIDEO_INFO_FORMAT (&job->info);
  guint width = GST_VIDEO_INFO_WIDTH (&job->info);
  guint height = GST_VIDEO_INFO_HEIGHT (&job->info);

  if (!self->rgb_pixels
      || !gst_video_info_is_equal (&self->converted_info, &job->info)) {
    self->converted_info = job->info;
    g_clear_pointer (&self->to_rgb, gst_video_converter_free);
    g_clear_pointer (&self->rgb_pixels, g_free);
    gst_video_info_set_format (&self->rgb_info, GST_VIDEO_FORMAT_RGB, width,
                               height);
    /* the converter refuses to change rate or aspect: keep the input's */
    GST_VIDEO_INFO_FPS_N (&self->rgb_info) = GST_VIDEO_INFO_FPS_N (&job->info);
    GST_VIDEO_INFO_FPS_D (&self->rgb_info) = GST_VIDEO_INFO_FPS_D (&job->info);
    GST_VIDEO_INFO_PAR_N (&self->rgb_info) = GST_VIDEO_INFO_PAR_N (&job->info);
    GST_VIDEO_INFO_PAR_D (&self->rgb_info) = GST_VIDEO_INFO_PAR_D (&job->info);
    GST_VIDEO_INFO_INTERLACE_MODE (&self->rgb_info)
        = GST_VIDEO_INFO_INTERLACE_MODE (&job->info);
    if (format != GST_VIDEO_FORMAT_RGB)
      self->to_rgb
          = gst_video_converter_new (&job->info, &self->rgb_info, NULL);
    self->rgb_pixels = g_malloc (GST_VIDEO_INFO_SIZE (&self->rgb_info));
  }

  GstVideoFrame out;
  GstBuffer *wrapped = gst_buffer_new_wrapped_full (
      0, self->rgb_pixels, GST_VIDEO_INFO_SIZE (&self->rgb_info), 0,
      GST_VIDEO_INFO_SIZE (&self->rgb_info), NULL, NULL);
  gst_video_frame_map (&out, &self->rgb_info, wrapped, GST_MAP_WRITE);
  if (self->to_rgb)
    gst_video_converter_frame (self->to_rgb, &in, &out);
  else
    gst_video_frame_copy (&out, &in);
  gst_video_frame_unmap (&out);
  gst_buffer_unref (wrapped);
  gst_video_frame_unmap (&in);

  image->data = self->rgb_pixels;
  image->width = width;
  image->height = height;
  image->stride = GST_VIDEO_INFO_PLANE_STRIDE (&self->rgb_info, 0);
  image->channels = 3;
  return TRUE;
}

/* Copies what a new analysis needs of the tracks: where each is (to
 * re-find it), and the confirmed ones it may carry identities from. */
static void
snapshot_tracks (GstFaceRecog *self, AnalysisJob *job, guint redescribe_after)
{
  GArray *known = job->known;
  g_array_set_size (known, 0);
  g_array_set_size (job->tracked, 0);
  GPtrArray *tracks = sx_tracker_tracks (self->tracker);
  for (guint i = 0; i < tracks->len; i++) {
    SxTrack *t = g_ptr_array_index (tracks, i);
    g_array_append_val (job->tracked, t->box);
    if (t->confirmed && t->id && t->has_reference
        && t->since_described + 1 < redescribe_after) {
      KnownFace k = { t->box, t->track_id, t->reference };
      g_array_append_val (known, k);
    }
  }
}

/* Copies the frame into the job, with the times it must be reported at. */
static gboolean
copy_to_job (GstFaceRecog *self, GstVideoFrame *frame)
{
  AnalysisJob *job = &self->job;
  if (!job->buffer || !gst_video_info_is_equal (&job->info, &frame->info)) {
    gst_clear_buffer (&job->buffer);
    job->info = frame->info;
    job->buffer = gst_buffer_new_allocate (NULL, frame->info.size, NULL);
  }
  GstVideoFrame copy;
  if (!gst_video_frame_map (&copy, &job->info, job->buffer, GST_MAP_WRITE))
    return FALSE;
  gst_video_frame_copy (&copy, frame);
  gst_video_frame_unmap (&copy);
  GstSegment *segment = &GST_BASE_TRANSFORM (self)->segment;
  job->frame = self->frame_count;
  job->pts = GST_BUFFER_PTS (frame->buffer);
  job->running_time
      = gst_segment_to_running_time (segment, GST_FORMAT_TIME, job->pts);
  job->stream_time
      = gst_segment_to_stream_time (segment, GST_FORMAT_TIME, job->pts);
  return TRUE;
}

static void
stamp_result (AnalysisResult *result, const AnalysisJob *job)
{
  result->frame = job->frame;
  result->pts = job->pts;
  result->running_time = job->running_time;
  result->stream_time = job->stream_time;
}

/* One analysis, on a pool thread. */
static void
analysis_job (gpointer data)
{
  GstFaceRecog *self = data;

  g_mutex_lock (&self->lock);
  if (!self->job_ready) {
    g_mutex_unlock (&self->lock);
    return;
  }
  self->job_ready = FALSE;
  self->busy = TRUE;
  g_mutex_unlock (&self->lock);

  GST_OBJECT_LOCK (self);
  gdouble threshold = self->threshold;
  guint min_face_size = self->min_face_size;
  GST_OBJECT_UNLOCK (self);

  SxImage image;
  AnalysisResult *result = NULL;
  if (job_to_rgb (self, &image))
    result = analyse (self, &image, self->job.known, self->job.tracked,
                      threshold, min_face_size);
  if (result)
    stamp_result (result, &self->job);

  g_mutex_lock (&self->lock);
  if (result) {
    /* Latest wins: an older unapplied result is stale by now. */
    analysis_result_free (self->pending);
    self->pending = result;
  }
  self->busy = FALSE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

/* Queues the frame for analysis; never waits. While the job waits its turn
 * in the pool, a newer frame replaces it now and then, so the analysis is
 * of a recent picture; while it runs, frames pass unanalysed. */
static void
offer_to_pool (GstFaceRecog *self, GstVideoFrame *frame, guint redescribe_after)
{
  gint64 now = g_get_monotonic_time ();
  g_mutex_lock (&self->lock);
  gboolean queued = self->job_ready;
  if (self->busy
      || (queued && now - self->job.copied_at < QUEUED_FRAME_REFRESH_US)) {
    self->skipped_busy++;
    g_mutex_unlock (&self->lock);
    return;
  }
  if (copy_to_job (self, frame)) {
    self->job.copied_at = now;
    snapshot_tracks (self, &self->job, redescribe_after);
    self->job_ready = TRUE;
  }
  gboolean submit = self->job_ready && !queued;
  g_mutex_unlock (&self->lock);
  if (submit)
    sx_pool_client_submit (self->pool_client);
}

/* A recorded video waits for the analysis in flight before its next frame
 * is offered, so every offered frame is analysed, as fast as the pool
 * allows, and its result lands on the next frame. */
static void
wait_for_analysis (GstFaceRecog *self)
{
  g_mutex_lock (&self->lock);
  while ((self->busy || self->job_ready) && !self->flushing)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);
}

/* Whether upstream is live (a camera) or not (a file): a source that
 * does not say is taken as live, so video is never held up. */
static gboolean
upstream_is_live (GstFaceRecog *self)
{
  GstQuery *query = gst_query_new_latency ();
  gboolean live = TRUE;
  if (gst_pad_peer_query (GST_BASE_TRANSFORM_SINK_PAD (self), query))
    gst_query_parse_latency (query, &live, NULL, NULL);
  gst_query_unref (query);
  return live;
}

static void
set_flushing (GstFaceRecog *self, gboolean flushing)
{
  g_mutex_lock (&self->lock);
  self->flushing = flushing;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static AnalysisResult *
take_pending (GstFaceRecog *self)
{
  g_mutex_lock (&self->lock);
  AnalysisResult *r = self->pending;
  self->pending = NULL;
  g_mutex_unlock (&self->lock);
  return r;
}

/* ---- Synchronous analysis -------------------------------------------------
 */

static void
analyse_inline (GstFaceRecog *self, GstVideoFrame *frame, gdouble threshold,
                guint redescribe_after, guint min_face_size)
{
  /* Same path as the pool (copy, convert), so both modes see identical
   * pixels; the copy is cheap next to detection. */
  if (!copy_to_job (self, frame))
    return;
  snapshot_tracks (self, &self->job, redescribe_after);
  SxImage image;
  if (!job_to_rgb (self, &image))
    return;
  AnalysisResult *result
      = analyse (self, &image, self->job.known, self->job.tracked, threshold,
                 min_face_size);
  if (!result)
    return;
  stamp_result (result, &self->job);
  apply_result (self, result);
  analysis_result_free (result);
}

/* ---- Drawing ----------------------------------------------------------------
 */

/* Fills a rectangle in every component of any 8-bit RGB or YUV format,
 * honouring chroma subsampling. */
static void
fill_rect (GstVideoFrame *frame, gint x0, gint y0, gint x1, gint y1,
           const guint8 rgb[3])
{
  const GstVideoFormatInfo *finfo = frame->info.finfo;
  guint8 value[GST_VIDEO_MAX_COMPONENTS];
  if (GST_VIDEO_FORMAT_INFO_IS_YUV (finfo)) {
    /* BT.601 limited range: what vp8dec and jpegdec hand out */
    value[0] = (guint8)(16 + (66 * rgb[0] + 129 * rgb[1] + 25 * rgb[2]) / 256);
    value[1]
        = (guint8)(128 + (-38 * rgb[0] - 74 * rgb[1] + 112 * rgb[2]) / 256);
    value[2] = (guint8)(128 + (112 * rgb[0] - 94 * rgb[1] - 18 * rgb[2]) / 256);
  } else {
    value[0] = rgb[0];
    value[1] = rgb[1];
    value[2] = rgb[2];
  }
  value[3] = 255;

  gint width = GST_VIDEO_FRAME_WIDTH (frame);
  gint height = GST_VIDEO_FRAME_HEIGHT (frame);
  x0 = CLAMP (x0, 0, width);
  x1 = CLAMP (x1, 0, width);
  y0 = CLAMP (y0, 0, height);
  y1 = CLAMP (y1, 0, height);

  for (guint c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS (frame); c++) {
    guint8 *data = GST_VIDEO_FRAME_COMP_DATA (frame, c);
    gint stride = GST_VIDEO_FRAME_COMP_STRIDE (frame, c);
    gint pstride = GST_VIDEO_FRAME_COMP_PSTRIDE (frame, c);
    gint cx0 = GST_VIDEO_FORMAT_INFO_SCALE_WIDTH (finfo, c, x0);
    gint cx1 = GST_VIDEO_FORMAT_INFO_SCALE_WIDTH (finfo, c, x1);
    gint cy0 = GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT (finfo, c, y0);
    gint cy1 = GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT (finfo, c, y1);
    for (gint y = cy0; y < cy1; y++)
      for (gint x = cx0; x < cx1; x++)
        data[y * stride + x * pstride] = value[c];
  }
}

/* Line width and glyph size grow with the frame (one unit per 360 lines),
 * so labels stay readable when the frame is scaled down for the
 * dashboard: a 1280x720 frame drawn at 2 units shows at 640x360 as a
 * 640x480 frame drawn at 1. */
#define LINE_UNITS 3
#define LABEL_SCALE 2
#define LABEL_PAD 2

static gint
draw_unit (GstVideoFrame *frame)
{
  return MAX (1, GST_VIDEO_FRAME_HEIGHT (frame) / 360);
}

/* The label on a filled tab above the box (inside it at the top edge). */
static void
draw_label (GstVideoFrame *frame, gint x, gint y, const gchar *text,
            const guint8 background[3])
{
  static const guint8 ink[3] = { 0, 0, 0 };
  const gint unit = draw_unit (frame);
  const gint scale = LABEL_SCALE * unit, pad = LABEL_PAD * unit;
  const gint advance = (SX_FONT_WIDTH + 1) * scale;
  const gint tab_h = SX_FONT_HEIGHT * scale + 2 * pad;
  glong n = g_utf8_strlen (text, -1);
  n = MIN (n, 24);
  if (y - tab_h >= 0)
    y -= tab_h;
  fill_rect (frame, x, y, x + n * advance + 2 * pad, y + tab_h, background);
  const gchar *p = text;
  for (glong i = 0; i < n; i++, p = g_utf8_next_char (p)) {
    const guint8 *rows = sx_font5x7_glyph (g_utf8_get_char (p));
    gint gx = x + pad + i * advance, gy = y + pad;
    for (gint row = 0; row < SX_FONT_HEIGHT; row++)
      for (gint col = 0; col < SX_FONT_WIDTH; col++)
        if (rows[row] & (1 << (SX_FONT_WIDTH - 1 - col)))
          fill_rect (frame, gx + col * scale, gy + row * scale,
                     gx + (col + 1) * scale, gy + (row + 1) * scale, ink);
  }
}

/* Whether @blur hides @t: anything short of a confirmed name is unknown. */
static gboolean
is_blurred (const SxTrack *t, GstFaceRecogBlur blur)
{
  return blur == GST_FACE_RECOG_BLUR_ALL
         || (blur == GST_FACE_RECOG_BLUR_UNKNOWN && !(t->confirmed && t->id));
}

/* A hidden face is drawn as unknown: a candidate name ("amy?") next to a
 * blurred face would say what the blur hides. */
static void
draw_tracks (GstFaceRecog *self, GstVideoFrame *frame, GstFaceRecogBlur blur)
{
  static const guint8 known[3] = { 0, 220, 0 };
  static const guint8 unknown[3] = { 230, 30, 30 };
  static const guint8 pending[3] = { 240, 200, 0 };
  GPtrArray *tracks = sx_tracker_tracks (self->tracker);
  for (guint i = 0; i < tracks->len; i++) {
    SxTrack *t = g_ptr_array_index (tracks, i);
    /* blur=all hides named faces too, not their names */
    gboolean named = t->confirmed && t->id;
    gboolean candidate = !named && t->id && !is_blurred (t, blur);
    const guint8 *colour = named ? known : candidate ? pending : unknown;
    gint x0 = t->box.x, y0 = t->box.y;
    gint x1 = x0 + (gint)t->box.width, y1 = y0 + (gint)t->box.height;
    const gint w = LINE_UNITS * draw_unit (frame);
    fill_rect (frame, x0, y0, x1, y0 + w, colour);
    fill_rect (frame, x0, y1 - w, x1, y1, colour);
    fill_rect (frame, x0, y0, x0 + w, y1, colour);
    fill_rect (frame, x1 - w, y0, x1, y1, colour);
    g_autofree gchar *label = named       ? g_strdup (t->name)
                              : candidate ? g_strdup_printf ("%s?", t->name)
                                          : g_strdup (SX_FACE_LABEL_UNKNOWN);
    draw_label (frame, x0, y0, label, colour);
  }
}

/* ---- Blurring ---------------------------------------------------------------
 */

/* Replaces each block of the rectangle by its average, in every component
 * of any 8-bit RGB or YUV format (blocks scaled with chroma subsampling):
 * the detail is gone from the frame, not covered. */
static void
pixelate_rect (GstVideoFrame *frame, gint x0, gint y0, gint x1, gint y1,
               gint block)
{
  const GstVideoFormatInfo *finfo = frame->info.finfo;
  x0 = CLAMP (x0, 0, GST_VIDEO_FRAME_WIDTH (frame));
  x1 = CLAMP (x1, 0, GST_VIDEO_FRAME_WIDTH (frame));
  y0 = CLAMP (y0, 0, GST_VIDEO_FRAME_HEIGHT (frame));
  y1 = CLAMP (y1, 0, GST_VIDEO_FRAME_HEIGHT (frame));

  for (gint by = y0; by < y1; by += block)
    for (gint bx = x0; bx < x1; bx += block)
      for (guint c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS (frame); c++) {
        guint8 *data = GST_VIDEO_FRAME_COMP_DATA (frame, c);
        gint stride = GST_VIDEO_FRAME_COMP_STRIDE (frame, c);
        gint pstride = GST_VIDEO_FRAME_COMP_PSTRIDE (frame, c);
        gint cx0 = GST_VIDEO_FORMAT_INFO_SCALE_WIDTH (finfo, c, bx);
        gint cx1 = GST_VIDEO_FORMAT_INFO_SCALE_WIDTH (finfo, c,
                                                      MIN (bx + block, x1));
        gint cy0 = GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT (finfo, c, by);
        gint cy1 = GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT (finfo, c,
                                                       MIN (by + block, y1));
        guint64 sum = 0;
        for (gint y = cy0; y < cy1; y++)
          for (gint x = cx0; x < cx1; x++)
            sum += data[y * stride + x * pstride];
        gint n = (cx1 - cx0) * (cy1 - cy0);
        if (n <= 0)
          continue;
        guint8 mean = (guint8)((sum + n / 2) / n);
        for (gint y = cy0; y < cy1; y++)
          for (gint x = cx0; x < cx1; x++)
            data[y * stride + x * pstride] = mean;
      }
}

static void
blur_tracks (GstFaceRecog *self, GstVideoFrame *frame, GstFaceRecogBlur blur)
{
  GPtrArray *tracks = sx_tracker_tracks (self->tracker);
  for (guint i = 0; i < tracks->len; i++) {
    SxTrack *t = g_ptr_array_index (tracks, i);
    if (!is_blurred (t, blur))
      continue;
    gint mx = (gint)(t->box.width * BLUR_MARGIN);
    gint my = (gint)(t->box.height * BLUR_MARGIN);
    gint width = (gint)t->box.width + 2 * mx;
    gint block = MAX (2, (width + BLUR_BLOCKS_ACROSS - 1) / BLUR_BLOCKS_ACROSS);
    pixelate_rect (frame, t->box.x - mx, t->box.y - my,
                   t->box.x + (gint)t->box.width + mx,
                   t->box.y + (gint)t->box.height + my, block);
  }
}

/* ---- Streaming -------------------------------------------------------------
 */

static void
attach_metas (GstFaceRecog *self, GstBuffer *buffer, const GstVideoInfo *info)
{
  GPtrArray *tracks = sx_tracker_tracks (self->tracker);
  gint width = GST_VIDEO_INFO_WIDTH (info),
       height = GST_VIDEO_INFO_HEIGHT (info);
  for (guint i = 0; i < tracks->len; i++) {
    SxTrack *t = g_ptr_array_index (tracks, i);
    /* Detections may reach past the frame edge; the meta takes unsigned
     * coordinates inside it. */
    gint x0 = CLAMP (t->box.x, 0, width), y0 = CLAMP (t->box.y, 0, height);
    gint x1 = CLAMP (t->box.x + (gint)t->box.width, 0, width);
    gint y1 = CLAMP (t->box.y + (gint)t->box.height, 0, height);
    if (x1 <= x0 || y1 <= y0)
      continue;
    GstVideoRegionOfInterestMeta *meta
        = gst_buffer_add_video_region_of_interest_meta (
            buffer, SX_FACE_ROI_TYPE, x0, y0, x1 - x0, y1 - y0);
    meta->id = (gint)t->track_id;
    GstStructure *params = track_structure (t, FALSE);
    sx_face_params_carry (buffer, params);
    gst_video_region_of_interest_meta_add_param (meta, params);
  }
}

static GstFlowReturn
gst_face_recog_transform_ip (GstBaseTransform *trans, GstBuffer *buffer)
{
  GstFaceRecog *self = GST_FACE_RECOG (trans);
  GstVideoFilter *filter = GST_VIDEO_FILTER (trans);

  if (!filter->negotiated) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL), ("not negotiated"));
    return GST_FLOW_NOT_NEGOTIATED;
  }

  GST_OBJECT_LOCK (self);
  guint interval = self->interval;
  gboolean synchronous = self->synchronous;
  gboolean draw = self->draw;
  GstFaceRecogBlur blur = self->blur;
  gdouble threshold = self->threshold;
  guint redescribe_after = self->redescribe_after;
  guint min_face_size = self->min_face_size;
  GST_OBJECT_UNLOCK (self);

  if (!self->live_known) {
    self->live = upstream_is_live (self);
    self->live_known = TRUE;
    GST_INFO_OBJECT (
        self, "upstream is %s: %s", self->live ? "live" : "not live",
        self->live ? "frames pass while an analysis runs"
                   : "each analysed frame waits for the analysis before it");
  }
  gboolean offered = self->frame_count % interval == 0;

  GstVideoFrame frame;
  /* NO_REF: a mapped frame's extra reference would make the buffer
   * read-only, and the metas must be added to it. */
  if (!gst_video_frame_map (&frame, &filter->in_info, buffer,
                            (draw || blur != GST_FACE_RECOG_BLUR_NONE
                                 ? GST_MAP_READWRITE
                                 : GST_MAP_READ)
                                | GST_VIDEO_FRAME_MAP_FLAG_NO_REF)) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, (NULL),
                       ("could not map the video frame"));
    return GST_FLOW_ERROR;
  }

  sx_tracker_age (self->tracker);
  if (offered && !synchronous && !self->live)
    wait_for_analysis (self);
  AnalysisResult *result = take_pending (self);
  if (result) {
    apply_result (self, result);
    analysis_result_free (result);
  }

  if (offered) {
    if (synchronous)
      analyse_inline (self, &frame, threshold, redescribe_after, min_face_size);
    else
      offer_to_pool (self, &frame, redescribe_after);
  }
  self->frame_count++;

  attach_metas (self, buffer, &filter->in_info);
  /* after the frame was copied for analysis: recognition sees the faces */
  if (blur != GST_FACE_RECOG_BLUR_NONE)
    blur_tracks (self, &frame, blur);
  if (draw)
    draw_tracks (self, &frame, blur);
  gst_video_frame_unmap (&frame);
  return GST_FLOW_OK;
}

/* At EOS the analysis in flight is awaited (bounded) and reported, so an
 * offline run loses no result. */
static gboolean
gst_face_recog_sink_event (GstBaseTransform *trans, GstEvent *event)
{
  GstFaceRecog *self = GST_FACE_RECOG (trans);
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS && self->pool_client) {
    gint64 deadline = g_get_monotonic_time () + EOS_DRAIN_TIMEOUT_US;
    g_mutex_lock (&self->lock);
    while ((self->busy || self->job_ready)
           && g_cond_wait_until (&self->cond, &self->lock, deadline))
      ;
    g_mutex_unlock (&self->lock);
    AnalysisResult *result = take_pending (self);
    if (result) {
      apply_result (self, result);
      analysis_result_free (result);
    }
  } else if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_START) {
    set_flushing (self, TRUE);
  } else if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP) {
    sx_tracker_clear (self->tracker);
    analysis_result_free (take_pending (self));
    set_flushing (self, FALSE);
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

/* ---- Start / stop ---------------------------------------------------------
 */

static void
warn_skipped_photo (const gchar *path, const GError *error, gpointer data)
{
  GstFaceRecog *self = data;
  GST_ELEMENT_WARNING (self, RESOURCE, READ,
                       ("Gallery photo '%s' skipped: %s", path, error->message),
                       (NULL));
}

static void
post_gallery_message (GstFaceRecog *self, SxGallery *gallery, gboolean reload)
{
  gst_element_post_message (
      GST_ELEMENT (self),
      gst_message_new_element (
          GST_OBJECT (self),
          gst_structure_new ("facerecog-gallery", "people", G_TYPE_UINT,
                             sx_gallery_n_people (gallery), "descriptors",
                             G_TYPE_UINT, sx_gallery_n_descriptors (gallery),
                             "reload", G_TYPE_BOOLEAN, reload, NULL)));
}

/* From the watch thread: a student was enrolled or removed. */
static void
on_gallery_reloaded (SxGallery *gallery, gpointer data)
{
  GstFaceRecog *self = data;
  g_mutex_lock (&self->lock);
  SxGallery *old = self->gallery;
  self->gallery = sx_gallery_ref (gallery);
  g_mutex_unlock (&self->lock);
  sx_gallery_unref (old);
  GST_INFO_OBJECT (self, "gallery reloaded: %u people",
                   sx_gallery_n_people (gallery));
  post_gallery_message (self, gallery, TRUE);
}

static void
on_gallery_trouble (const GError *error, gpointer data)
{
  GstFaceRecog *self = data;
  /* Recognition goes on with the gallery it has; the watch retries. */
  GST_ELEMENT_WARNING (
      self, RESOURCE, READ,
      ("Gallery database unavailable, retrying: %s", error->message), (NULL));
}

static gboolean
gst_face_recog_start (GstBaseTransform *trans)
{
  GstFaceRecog *self = GST_FACE_RECOG (trans);
  g_autoptr (GError) error = NULL;

  GST_OBJECT_LOCK (self);
  g_autofree gchar *landmarks = g_strdup (self->landmark_model);
  g_autofree gchar *recognition = g_strdup (self->recognition_model);
  g_autofree gchar *gallery_location = g_strdup (self->gallery_location);
  g_autofree gchar *conninfo = g_strdup (self->conninfo);
  g_autofree gchar *gallery_schema = g_strdup (self->schema);
  gdouble detect_threshold = self->detect_threshold;
  guint min_votes = self->min_votes, max_misses = self->max_misses;
  gdouble iou = self->iou_threshold;
  gboolean synchronous = self->synchronous;
  gint nice = self->worker_nice;
  GST_OBJECT_UNLOCK (self);

  /* One gallery: photos or a file in `gallery`, or the database named by
   * `conninfo` (as attendancesink's); a conninfo in `gallery` is still
   * accepted, as before `conninfo` existed. */
  if (conninfo && *conninfo) {
    if (gallery_location && *gallery_location) {
      GST_ELEMENT_ERROR (
          self, RESOURCE, SETTINGS,
          ("Both gallery and conninfo are set: a recogniser reads one "
           "gallery, photos or a file (gallery) or the database (conninfo)"),
          (NULL));
      return FALSE;
    }
    if (!sx_gallery_location_is_db (conninfo)) {
      GST_ELEMENT_ERROR (
          self, RESOURCE, SETTINGS,
          ("conninfo is neither a postgresql:// URI nor key=value pairs"),
          (NULL));
      return FALSE;
    }
    g_free (gallery_location);
    gallery_location = g_steal_pointer (&conninfo);
  }

  self->analyzer = sx_analyzer_new (landmarks, recognition, &error);
  if (!self->analyzer) {
    GST_ELEMENT_ERROR (
        self, RESOURCE, OPEN_READ,
        ("Could not load a face model: %s", error->message),
        ("landmark-model=%s recognition-model=%s", landmarks, recognition));
    return FALSE;
  }
  GST_INFO_OBJECT (self, "models: landmarks %s, recognition %s", landmarks,
                   recognition);
  /* the element scans regions (min-face-size), never the analyzer's
   * whole-frame upsampling */
  sx_analyzer_set_detection (self->analyzer, 0, detect_threshold);

  SxGallery *gallery = NULL;
  gboolean from_db = sx_gallery_location_is_db (gallery_location);
  if (gallery_location && *gallery_location) {
    /* one copy per process: other cameras with this gallery share it */
    static const SxGalleryShareCallbacks callbacks
        = { on_gallery_reloaded, on_gallery_trouble };
    self->gallery_share = sx_gallery_share_open (
        gallery_location, gallery_schema, recognition, self->analyzer,
        warn_skipped_photo, &callbacks, self, &gallery, &error);
    if (!self->gallery_share) {
      if (from_db)
        GST_ELEMENT_ERROR (
            self, RESOURCE, OPEN_READ,
            ("Could not load the gallery from PostgreSQL: %s", error->message),
            (NULL));
      else
        GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
                           ("Could not load the gallery: %s", error->message),
                           (NULL));
      g_clear_pointer (&self->analyzer, sx_analyzer_free);
      return FALSE;
    }
  } else {
    GST_ELEMENT_WARNING (
        self, RESOURCE, SETTINGS,
        ("No gallery set: every face will be reported as unknown"), (NULL));
  }
  if (gallery) {
    GST_INFO_OBJECT (self, "gallery: %u people, %u descriptors",
                     sx_gallery_n_people (gallery),
                     sx_gallery_n_descriptors (gallery));
    post_gallery_message (self, gallery, FALSE);
  }
  /* A database gallery may start empty: students get enrolled later. */
  if (gallery && sx_gallery_n_people (gallery) == 0 && !from_db)
    GST_ELEMENT_WARNING (
        self, RESOURCE, SETTINGS,
        ("Gallery '%s' holds nobody: every face will be reported as unknown",
         gallery_location),
        (NULL));

  g_mutex_lock (&self->lock);
  self->gallery = gallery;
  self->job_ready = self->busy = FALSE;
  self->analysed = self->skipped_busy = self->faces_seen = self->errors = 0;
  self->described = self->carried = self->carry_refused = 0;
  self->sweeps = self->refinds = 0;
  self->analysis_ms_total = self->detect_ms_total = 0;
  self->flushing = FALSE;
  g_mutex_unlock (&self->lock);
  self->live_known = FALSE;

  self->tracker = sx_tracker_new (min_votes, iou, max_misses);
  self->frame_count = 0;
  if (!synchronous)
    self->pool_client = sx_pool_client_new (analysis_job, self, nice);
  return TRUE;
}

static gboolean
gst_face_recog_stop (GstBaseTransform *trans)
{
  GstFaceRecog *self = GST_FACE_RECOG (trans);

  /* waits for an analysis in flight */
  g_clear_pointer (&self->pool_client, sx_pool_client_free);
  g_clear_pointer (&self->gallery_share, sx_gallery_share_close);
  analysis_result_free (take_pending (self));
  gst_clear_buffer (&self->job.buffer);
  g_clear_pointer (&self->to_rgb, gst_video_converter_free);
  g_clear_pointer (&self->rgb_pixels, g_free);
  g_clear_pointer (&self->sweep_plan, sx_sweep_plan_free);
  g_clear_pointer (&self->tracker, sx_tracker_free);
  g_clear_pointer (&self->analyzer, sx_analyzer_free);
  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->gallery, sx_gallery_unref);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static GstStateChangeReturn
gst_face_recog_change_state (GstElement *element, GstStateChange transition)
{
  GstFaceRecog *self = GST_FACE_RECOG (element);
  /* A file's frame may wait for an analysis: release it before the pads
   * deactivate (they wait for the streaming thread). */
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    set_flushing (self, TRUE);
  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
}

/* ---- GObject ----------------------------------------------------------------
 */

static GstStructure *
stats_structure (GstFaceRecog *self)
{
  g_mutex_lock (&self->lock);
  GstStructure *s = gst_structure_new (
      "facerecog-stats", "frames", G_TYPE_UINT64, self->frame_count, "analysed",
      G_TYPE_UINT64, self->analysed, "skipped-busy", G_TYPE_UINT64,
      self->skipped_busy, "faces", G_TYPE_UINT64, self->faces_seen, "errors",
      G_TYPE_UINT64, self->errors, "described", G_TYPE_UINT64, self->described,
      "carried", G_TYPE_UINT64, self->carried, "carry-refused", G_TYPE_UINT64,
      self->carry_refused, "analysis-ms-mean", G_TYPE_DOUBLE,
      self->analysed ? self->analysis_ms_total / self->analysed : 0.0,
      "detect-ms-mean", G_TYPE_DOUBLE,
      self->analysed ? self->detect_ms_total / self->analysed : 0.0,
      "sweep-scale", G_TYPE_DOUBLE, self->sweep_scale, "sweep-regions",
      G_TYPE_UINT, self->sweep_regions, "analyses-per-sweep", G_TYPE_UINT,
      self->analyses_per_sweep, "sweeps", G_TYPE_UINT64, self->sweeps,
      "refinds", G_TYPE_UINT64, self->refinds, "gallery-people", G_TYPE_UINT,
      self->gallery ? sx_gallery_n_people (self->gallery) : 0,
      "gallery-shared-by", G_TYPE_UINT,
      self->gallery_share ? sx_gallery_share_get_users (self->gallery_share)
                          : 0,
      NULL);
  g_mutex_unlock (&self->lock);
  return s;
}

static void
gst_face_recog_set_property (GObject *object, guint prop_id,
                             const GValue *value, GParamSpec *pspec)
{
  GstFaceRecog *self = GST_FACE_RECOG (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_GALLERY:
      g_free (self->gallery_location);
      self->gallery_location = g_value_dup_string (value);
      break;
    case PROP_CONNINFO:
      g_free (self->conninfo);
      self->conninfo = g_value_dup_string (value);
      break;
    case PROP_SCHEMA:
    case PROP_GALLERY_SCHEMA: /* deprecated name of schema */
      g_free (self->schema);
      self->schema = g_value_dup_string (value);
      if (self->schema == NULL)
        self->schema = g_strdup (DEFAULT_SCHEMA);
      break;
    case PROP_LANDMARK_MODEL:
      g_free (self->landmark_model);
      self->landmark_model = g_value_dup_string (value);
      break;
    case PROP_RECOGNITION_MODEL:
      g_free (self->recognition_model);
      self->recognition_model = g_value_dup_string (value);
      break;
    case PROP_THRESHOLD:
      self->threshold = g_value_get_double (value);
      break;
    case PROP_INTERVAL:
      self->interval = g_value_get_uint (value);
      break;
    case PROP_SYNCHRONOUS:
      self->synchronous = g_value_get_boolean (value);
      break;
    case PROP_WORKER_NICE:
      self->worker_nice = g_value_get_int (value);
      break;
    case PROP_MIN_VOTES:
      self->min_votes = g_value_get_uint (value);
      break;
    case PROP_UPSAMPLE:
      /* deprecated: each doubling halves the smallest face */
      self->upsample = g_value_get_uint (value);
      self->min_face_size = SX_FACE_DETECT_MIN_SIZE >> self->upsample;
      break;
    case PROP_MIN_FACE_SIZE:
      self->min_face_size = g_value_get_uint (value);
      break;
    case PROP_DETECT_THRESHOLD:
      self->detect_threshold = g_value_get_double (value);
      break;
    case PROP_IOU_THRESHOLD:
      self->iou_threshold = g_value_get_double (value);
      break;
    case PROP_MAX_MISSES:
      self->max_misses = g_value_get_uint (value);
      break;
    case PROP_REDESCRIBE_AFTER:
      self->redescribe_after = g_value_get_uint (value);
      break;
    case PROP_BLUR:
      self->blur = g_value_get_enum (value);
      break;
    case PROP_DRAW:
      self->draw = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_face_recog_get_property (GObject *object, guint prop_id, GValue *value,
                             GParamSpec *pspec)
{
  GstFaceRecog *self = GST_FACE_RECOG (object);

  if (prop_id == PROP_STATS) {
    g_value_take_boxed (value, stats_structure (self));
    return;
  }
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    /* Readable, but a password is redacted: property dumps end up in
     * logs. */
    case PROP_GALLERY:
      g_value_take_string (value,
                           sx_gallery_location_is_db (self->gallery_location)
                               ? sx_db_redact_conninfo (self->gallery_location)
                               : g_strdup (self->gallery_location));
      break;
    case PROP_CONNINFO:
      g_value_take_string (value, self->conninfo
                                      ? sx_db_redact_conninfo (self->conninfo)
                                      : NULL);
      break;
    case PROP_SCHEMA:
    case PROP_GALLERY_SCHEMA:
      g_value_set_string (value, self->schema);
      break;
    case PROP_LANDMARK_MODEL:
      g_value_set_string (value, self->landmark_model);
      break;
    case PROP_RECOGNITION_MODEL:
      g_value_set_string (value, self->recognition_model);
      break;
    case PROP_THRESHOLD:
      g_value_set_double (value, self->threshold);
      break;
    case PROP_INTERVAL:
      g_value_set_uint (value, self->interval);
      break;
    case PROP_SYNCHRONOUS:
      g_value_set_boolean (value, self->synchronous);
      break;
    case PROP_WORKER_NICE:
      g_value_set_int (value, self->worker_nice);
      break;
    case PROP_MIN_VOTES:
      g_value_set_uint (value, self->min_votes);
      break;
    case PROP_UPSAMPLE:
      g_value_set_uint (value, self->upsample);
      break;
    case PROP_MIN_FACE_SIZE:
      g_value_set_uint (value, self->min_face_size);
      break;
    case PROP_DETECT_THRESHOLD:
      g_value_set_double (value, self->detect_threshold);
      break;
    case PROP_IOU_THRESHOLD:
      g_value_set_double (value, self->iou_threshold);
      break;
    case PROP_MAX_MISSES:
      g_value_set_uint (value, self->max_misses);
      break;
    case PROP_REDESCRIBE_AFTER:
      g_value_set_uint (value, self->redescribe_after);
      break;
    case PROP_BLUR:
      g_value_set_enum (value, self->blur);
      break;
    case PROP_DRAW:
      g_value_set_boolean (value, self->draw);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_face_recog_finalize (GObject *object)
{
  GstFaceRecog *self = GST_FACE_RECOG (object);

  g_free (self->gallery_location);
  g_free (self->conninfo);
  g_free (self->schema);
  g_free (self->landmark_model);
  g_free (self->recognition_model);
  g_array_unref (self->job.known);
  g_array_unref (self->job.tracked);
  g_array_unref (self->scan_regions);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_face_recog_class_init (GstFaceRecogClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  const GParamFlags rw
      = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY;
  const GParamFlags rw_playing
      = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING;

  GST_DEBUG_CATEGORY_INIT (gst_face_recog_debug, "facerecog", 0,
                           "dlib face recognition");

  gobject_class->set_property = gst_face_recog_set_property;
  gobject_class->get_property = gst_face_recog_get_property;
  gobject_class->finalize = gst_face_recog_finalize;

  g_object_class_install_property (
      gobject_class, PROP_GALLERY,
      g_param_spec_string (
          "gallery", "Gallery",
          "Enrolled people without a database: a folder of photos (one "
          "sub-folder per person, or <id>_<name>.jpg files) or a descriptor "
          "file written by surveillx-enroll (a PostgreSQL conninfo is still "
          "accepted here; use conninfo)",
          DEFAULT_GALLERY, rw));
  g_object_class_install_property (
      gobject_class, PROP_CONNINFO,
      g_param_spec_string (
          "conninfo", "Connection info",
          "Enrolled people from PostgreSQL, reloaded live on NOTIFY: a libpq "
          "URI (postgresql://...) or key=value string, as attendancesink's "
          "conninfo (NULL: no database gallery); read back with the "
          "password redacted",
          DEFAULT_CONNINFO, rw));
  g_object_class_install_property (
      gobject_class, PROP_SCHEMA,
      g_param_spec_string ("schema", "Schema",
                           "PostgreSQL schema holding the surveillx tables "
                           "(for a database gallery)",
                           DEFAULT_SCHEMA, rw));
  g_object_class_install_property (
      gobject_class, PROP_GALLERY_SCHEMA,
      g_param_spec_string ("gallery-schema", "Gallery schema",
                           "Deprecated: use schema (the same setting)",
                           DEFAULT_SCHEMA, rw | G_PARAM_DEPRECATED));
  g_autofree gchar *recognition_default = sx_models_default_recognition ();
  g_object_class_install_property (
      gobject_class, PROP_LANDMARK_MODEL,
      g_param_spec_string (
          "landmark-model", "Landmark model",
          "dlib shape predictor, 68-point or 5-point (default from "
          "SURVEILLX_LANDMARK_MODEL if set)",
          sx_models_default_landmarks (), rw));
  g_object_class_install_property (
      gobject_class, PROP_RECOGNITION_MODEL,
      g_param_spec_string (
          "recognition-model", "Recognition model",
          "dlib face recognition ResNet (.dat); the default folder is "
          "SURVEILLX_MODEL_DIR if set",
          recognition_default, rw));
  g_object_class_install_property (
      gobject_class, PROP_THRESHOLD,
      g_param_spec_double (
          "threshold", "Threshold",
          "Largest Euclidean distance to an enrolled face that still names "
          "the face (dlib's models: 0.6)",
          0.0, 2.0, DEFAULT_THRESHOLD, rw_playing));
  g_object_class_install_property (
      gobject_class, PROP_INTERVAL,
      g_param_spec_uint (
          "interval", "Interval",
          "Analyse every Nth frame at most (frames also pass unanalysed "
          "while an analysis runs)",
          1, 10000, DEFAULT_INTERVAL, rw_playing));
  g_object_class_install_property (
      gobject_class, PROP_WORKER_NICE,
      g_param_spec_int (
          "worker-nice", "Worker nice value",
          "Scheduling niceness of an analysis thread while it analyses this "
          "element's frames (Linux, per thread): "
          "above 0 the video threads of every camera in the process run "
          "first and analysis takes the CPU left over, so a busy box "
          "analyses less often instead of delaying video",
          0, 19, DEFAULT_WORKER_NICE, rw));
  g_object_class_install_property (
      gobject_class, PROP_SYNCHRONOUS,
      g_param_spec_boolean (
          "synchronous", "Synchronous",
          "Analyse on the streaming thread, holding each analysed frame "
          "until done: for offline files and reproducible results, never "
          "for live video",
          DEFAULT_SYNCHRONOUS, rw));
  g_object_class_install_property (
      gobject_class, PROP_MIN_VOTES,
      g_param_spec_uint (
          "min-votes", "Minimum votes",
          "Analyses that must agree on a person before a track is named", 1,
          100, DEFAULT_MIN_VOTES, rw));
  g_object_class_install_property (
      gobject_class, PROP_MIN_FACE_SIZE,
      g_param_spec_uint (
          "min-face-size", "Minimum face size",
          "Smallest face to find, in pixels of the input frame (box side). "
          "Under 80 px the frame is scanned scaled up (4x the pixels per "
          "halving): when that is more than one analysis can afford, each "
          "analysis scans part of the frame in rotation and re-finds the "
          "faces already tracked around where they were (stats: "
          "analyses-per-sweep). Above 80 px detection is cheaper",
          20, 4096, DEFAULT_MIN_FACE_SIZE, rw_playing));
  g_object_class_install_property (
      gobject_class, PROP_UPSAMPLE,
      g_param_spec_uint (
          "upsample", "Upsample",
          "Deprecated: use min-face-size (upsample=N sets min-face-size to "
          "80 / 2^N)",
          0, 2, DEFAULT_UPSAMPLE, rw_playing | G_PARAM_DEPRECATED));
  g_object_class_install_property (
      gobject_class, PROP_DETECT_THRESHOLD,
      g_param_spec_double (
          "detect-threshold", "Detection threshold",
          "Adjusts the HOG detector's threshold: lower finds more faces and "
          "more false ones",
          -2.0, 2.0, DEFAULT_DETECT_THRESHOLD, rw_playing));
  g_object_class_install_property (
      gobject_class, PROP_IOU_THRESHOLD,
      g_param_spec_double (
          "iou-threshold", "IoU threshold",
          "Least box overlap (intersection over union) for a face to "
          "continue a track",
          0.01, 1.0, DEFAULT_IOU_THRESHOLD, rw));
  g_object_class_install_property (
      gobject_class, PROP_MAX_MISSES,
      g_param_spec_uint (
          "max-misses", "Maximum misses",
          "Analyses in a row a track may go unseen before it is dropped", 0,
          1000, DEFAULT_MAX_MISSES, rw));
  g_object_class_install_property (
      gobject_class, PROP_REDESCRIBE_AFTER,
      g_param_spec_uint (
          "redescribe-after", "Re-describe after",
          "A face found where a confirmed track is, looking as it did when "
          "last described, keeps the track's name without a new descriptor, "
          "but is described again at least every Nth analysis (1: describe "
          "every face every time)",
          1, 1000, DEFAULT_REDESCRIBE_AFTER, rw_playing));
  g_object_class_install_property (
      gobject_class, PROP_DRAW,
      g_param_spec_boolean (
          "draw", "Draw",
          "Draw face boxes on the video (green: named, yellow: being "
          "confirmed, red: unknown)",
          DEFAULT_DRAW, rw_playing));
  g_object_class_install_property (
      gobject_class, PROP_BLUR,
      g_param_spec_enum (
          "blur", "Blur",
          "Faces pixelated in the video going downstream (after analysis, "
          "before drawing): unknown hides visitors and students without "
          "consent from the dashboard, named faces stay visible. A face is "
          "hidden from the first analysis that finds it on",
          GST_TYPE_FACE_RECOG_BLUR, DEFAULT_BLUR, rw_playing));
  g_object_class_install_property (
      gobject_class, PROP_STATS,
      g_param_spec_boxed (
          "stats", "Statistics",
          "frames, analysed, skipped-busy, faces, errors, described, "
          "carried, carry-refused (a face where a named track was, described "
          "because it no longer looked the same), analysis-ms-mean, "
          "detect-ms-mean, sweep-scale (finest detection scale), "
          "sweep-regions and analyses-per-sweep (how a sweep of the frame is "
          "divided), sweeps (completed), refinds (searches around tracked "
          "faces), gallery-people, gallery-shared-by (recognisers in this "
          "process sharing the gallery's one copy)",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (
      element_class, "Face recognition", "Filter/Analyzer/Video",
      "Recognises enrolled faces with dlib (HOG, landmarks, ResNet "
      "descriptors) and attaches them as region-of-interest metas",
      "surveillx-gst developers");

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_face_recog_change_state);
  trans_class->start = GST_DEBUG_FUNCPTR (gst_face_recog_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_face_recog_stop);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_face_recog_sink_event);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_face_recog_transform_ip);
  trans_class->passthrough_on_same_caps = FALSE;
  trans_class->transform_ip_on_passthrough = FALSE;
}

static void
gst_face_recog_init (GstFaceRecog *self)
{
  self->conninfo = g_strdup (DEFAULT_CONNINFO);
  self->schema = g_strdup (DEFAULT_SCHEMA);
  self->landmark_model = g_strdup (sx_models_default_landmarks ());
  self->recognition_model = sx_models_default_recognition ();
  self->threshold = DEFAULT_THRESHOLD;
  self->interval = DEFAULT_INTERVAL;
  self->worker_nice = DEFAULT_WORKER_NICE;
  self->synchronous = DEFAULT_SYNCHRONOUS;
  self->min_votes = DEFAULT_MIN_VOTES;
  self->upsample = DEFAULT_UPSAMPLE;
  self->min_face_size = DEFAULT_MIN_FACE_SIZE;
  self->scan_regions = g_array_new (FALSE, FALSE, sizeof (SxDetectRegion));
  self->job.tracked = g_array_new (FALSE, FALSE, sizeof (SxBox));
  self->detect_threshold = DEFAULT_DETECT_THRESHOLD;
  self->iou_threshold = DEFAULT_IOU_THRESHOLD;
  self->max_misses = DEFAULT_MAX_MISSES;
  self->redescribe_after = DEFAULT_REDESCRIBE_AFTER;
  self->job.known = g_array_new (FALSE, FALSE, sizeof (KnownFace));
  self->draw = DEFAULT_DRAW;
  self->blur = DEFAULT_BLUR;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
}
