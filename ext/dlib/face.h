/* surveillx-gst — C API over dlib's face pipeline.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * This header is the only way the rest of the project reaches dlib: opaque
 * handles, plain C types, GError for failures. No C++ type or exception
 * crosses it (face.cpp catches everything).
 *
 * Models are cached per process: getting the same path twice returns the
 * same loaded model with one more reference, so any number of elements and
 * pipelines share one copy in memory.
 */
#ifndef SX_FACE_H
#define SX_FACE_H

#include <glib.h>

G_BEGIN_DECLS

#define SX_FACE_ERROR (sx_face_error_quark ())
GQuark sx_face_error_quark (void);

typedef enum {
  SX_FACE_ERROR_MODEL_MISSING, /* file does not exist or cannot be read */
  SX_FACE_ERROR_MODEL_CORRUPT, /* file exists but is not the expected model */
  SX_FACE_ERROR_INVALID_INPUT, /* bad image size, stride or argument */
  SX_FACE_ERROR_INTERNAL,      /* dlib threw something unexpected */
} SxFaceError;

/* Side of the aligned face chip the descriptor network takes, and the
 * padding dlib's face recognition example uses around the landmarks. */
#define SX_FACE_CHIP_SIZE 150
#define SX_FACE_CHIP_PADDING 0.25
#define SX_FACE_CHIP_BYTES (SX_FACE_CHIP_SIZE * SX_FACE_CHIP_SIZE * 3)
#define SX_FACE_DESCRIPTOR_LEN 128

/* A packed 8-bit image: RGB (3 bytes per pixel) or grey (1 byte). */
typedef struct {
  const guint8 *data;
  guint width;
  guint height;
  gsize stride;   /* bytes from one row to the next */
  guint channels; /* 3 = RGB, 1 = grey */
} SxImage;

typedef struct {
  gint x, y;
  guint width, height;
  gdouble score; /* HOG detection confidence (higher is surer) */
} SxFaceBox;

/* --- Face detector (dlib's HOG frontal face detector) ------------------- */

typedef struct _SxFaceDetector SxFaceDetector;

/* Each detector is private to one thread: dlib's detector keeps scratch
 * state. It is small (the HOG filters ship inside dlib), so every worker
 * makes its own. */
SxFaceDetector *sx_face_detector_new (GError **error);
void sx_face_detector_free (SxFaceDetector *detector);

/* Detects faces in a grey or RGB image. `upsample` doubles the image that
 * many times first (finds smaller faces, costs ~4x per step).
 * Returns the number of boxes written to *boxes (g_free it), or -1. */
gint sx_face_detect (SxFaceDetector *detector, const SxImage *image,
                     guint upsample, gdouble adjust_threshold,
                     SxFaceBox **boxes, GError **error);

/* Smallest face box (pixels of the image it scans) dlib's HOG detector
 * finds: its detection window. Smaller faces need the image scaled up. */
#define SX_FACE_DETECT_MIN_SIZE 80

/* A part of an image to search for faces, at a scale: the region is
 * resized by `scale` before HOG scans it, so faces down to
 * SX_FACE_DETECT_MIN_SIZE / scale pixels of the image are found. */
typedef struct {
  gint x, y;
  guint width, height; /* inside the image */
  gdouble scale;       /* > 0; 1: as it is */
  guint max_levels;    /* HOG pyramid levels scanned (each 5/6 of the one
                        * before): with n, faces up to ~(6/5)^(n-1) times
                        * the smallest; 0: every level (any larger face) */
} SxDetectRegion;

/* Detects faces in one region of a grey or RGB image. Boxes are in the
 * image's pixels. Returns the number of boxes written to *boxes (g_free
 * it), or -1. */
gint sx_face_detect_region (SxFaceDetector *detector, const SxImage *image,
                            const SxDetectRegion *region,
                            gdouble adjust_threshold, SxFaceBox **boxes,
                            GError **error);

/* --- Landmarks and chips (dlib shape predictor) ------------------------- */

typedef struct _SxLandmarkModel SxLandmarkModel;

/* Loads (or reuses) the shape predictor at `path`: 68-point or 5-point. */
SxLandmarkModel *sx_landmark_model_get (const gchar *path, GError **error);
SxLandmarkModel *sx_landmark_model_ref (SxLandmarkModel *model);
void sx_landmark_model_unref (SxLandmarkModel *model);
guint sx_landmark_model_num_parts (SxLandmarkModel *model);

/* Finds the landmarks of `box` in the RGB `image` and writes the aligned
 * SX_FACE_CHIP_SIZE² RGB chip (SX_FACE_CHIP_BYTES) to `chip`. */
gboolean sx_face_extract_chip (SxLandmarkModel *model, const SxImage *image,
                               const SxFaceBox *box, guint8 *chip,
                               GError **error);

/* --- Descriptors (dlib ResNet, 128-D) ----------------------------------- */

typedef struct _SxDescriptorModel SxDescriptorModel;

/* Loads (or reuses) a dlib_face_recognition_resnet_model_v1-style network.
 * The model keeps one network copy per concurrently describing thread
 * (created on demand, at most the number of cores); the weights file is
 * read once. */
SxDescriptorModel *sx_descriptor_model_get (const gchar *path, GError **error);
SxDescriptorModel *sx_descriptor_model_ref (SxDescriptorModel *model);
void sx_descriptor_model_unref (SxDescriptorModel *model);

/* Describes `n_chips` chips (each SX_FACE_CHIP_BYTES, RGB) in one batch,
 * writing n_chips * SX_FACE_DESCRIPTOR_LEN floats to `descriptors`. */
gboolean sx_face_describe (SxDescriptorModel *model, const guint8 *chips,
                           guint n_chips, gfloat *descriptors, GError **error);

gdouble sx_face_distance (const gfloat *a, const gfloat *b);

/* --- Model conversion (tools/) ------------------------------------------ */

/* One named float tensor of face-api.js's faceRecognitionNet, already
 * de-quantised, in tfjs layout (conv filters [h,w,in,out]). */
typedef struct {
  const gchar *name;
  const gfloat *values;
  gsize n_values;
} SxNamedTensor;

/* Builds dlib's ResNet from face-api.js tensors and serialises it to
 * `out_path` in dlib's .dat format. */
gboolean sx_descriptor_model_write_from_faceapi (const SxNamedTensor *tensors,
                                                 gsize n_tensors,
                                                 const gchar *out_path,
                                                 GError **error);

/* Number of models currently loaded in this process (for tests/benchmarks
 * proving the cache shares them). */
guint sx_face_models_loaded (void);

G_END_DECLS

#endif /* SX_FACE_H */
