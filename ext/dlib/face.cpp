/* surveillx-gst — the dlib shim: the project's only C++ file.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every entry point catches every exception and turns it into a GError, so
 * nothing C++ leaks through face.h.
 */
#include "face.h"

#include <dlib/dnn.h>
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <cmath>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

G_DEFINE_QUARK (sx - face - error - quark, sx_face_error)

#include "sxnet.hpp"

/* ---- A read-only view of caller memory as a dlib generic image --------- */

namespace sx {
template <typename Pixel> struct View {
  const guint8 *data;
  long rows, cols;
  long stride;
};

template <typename P>
long
num_rows (const View<P> &v)
{
  return v.rows;
}
template <typename P>
long
num_columns (const View<P> &v)
{
  return v.cols;
}
template <typename P>
long
width_step (const View<P> &v)
{
  return v.stride;
}
template <typename P>
const void *
image_data (const View<P> &v)
{
  return v.data;
}
/* dlib's generic-image contract wants a mutable accessor too; the shim
 * never writes through a view. */
template <typename P>
void *
image_data (View<P> &v)
{
  return const_cast<guint8 *> (v.data);
}
template <typename P>
void
set_image_size (View<P> &, long, long)
{
  throw dlib::error ("sx::View is read-only");
}
} // namespace sx

namespace dlib {
template <typename P> struct image_traits<sx::View<P> > {
  typedef P pixel_type;
};
} // namespace dlib

template <typename P>
static sx::View<P>
view_of (const SxImage *image)
{
  return sx::View<P>{ image->data, (long)image->height, (long)image->width,
                      (long)image->stride };
}

static gboolean
check_image (const SxImage *image, GError **error)
{
  if (image == nullptr || image->data == nullptr || image->width == 0
      || image->height == 0 || (image->channels != 1 && image->channels != 3)
      || image->stride < (gsize)image->width * image->channels) {
    g_set_error (
        error, SX_FACE_ERROR, SX_FACE_ERROR_INVALID_INPUT,
        "invalid image (need grey or RGB, non-empty, stride >= row size)");
    return FALSE;
  }
  return TRUE;
}

static void
set_error_from_exception (GError **error, const char *what_failed)
{
  try {
    throw;
  } catch (const std::bad_alloc &) {
    g_set_error (error, SX_FACE_ERROR, SX_FACE_ERROR_INTERNAL,
                 "%s: out of memory", what_failed);
  } catch (const std::exception &e) {
    g_set_error (error, SX_FACE_ERROR, SX_FACE_ERROR_INTERNAL, "%s: %s",
                 what_failed, e.what ());
  } catch (...) {
    g_set_error (error, SX_FACE_ERROR, SX_FACE_ERROR_INTERNAL,
                 "%s: unknown C++ exception", what_failed);
  }
}

/* ---- Detector ----------------------------------------------------------- */

struct _SxFaceDetector {
  dlib::frontal_face_detector detector;
  /* The same detector scanning fewer pyramid levels, by level count:
   * made on first use (a copy of the scanner and the weights). */
  std::map<guint, dlib::frontal_face_detector> limited;
};

SxFaceDetector *
sx_face_detector_new (GError **error)
{
  try {
    auto *d = new _SxFaceDetector;
    d->detector = dlib::get_frontal_face_detector ();
    return d;
  } catch (...) {
    set_error_from_exception (error, "creating the HOG face detector");
    return nullptr;
  }
}

void
sx_face_detector_free (SxFaceDetector *detector)
{
  delete detector;
}

/* Detections in a scanned image as boxes of the caller's image: scanned
 * pixels times (sx, sy), offset by where the scan started. */
static gint
boxes_from_detections (const std::vector<dlib::rect_detection> &found, gint x0,
                       gint y0, double sx, double sy, SxFaceBox **boxes)
{
  *boxes = g_new0 (SxFaceBox, MAX (found.size (), 1));
  for (size_t i = 0; i < found.size (); i++) {
    const dlib::rectangle &r = found[i].rect;
    SxFaceBox *b = &(*boxes)[i];
    b->x = x0 + (gint)std::lround (r.left () * sx);
    b->y = y0 + (gint)std::lround (r.top () * sy);
    b->width = (guint)std::lround (r.width () * sx);
    b->height = (guint)std::lround (r.height () * sy);
    b->score = found[i].detection_confidence;
  }
  return (gint)found.size ();
}

gint
sx_face_detect (SxFaceDetector *detector, const SxImage *image, guint upsample,
                gdouble adjust_threshold, SxFaceBox **boxes, GError **error)
{
  g_return_val_if_fail (detector != nullptr && boxes != nullptr, -1);
  *boxes = nullptr;
  if (!check_image (image, error))
    return -1;
  if (upsample > 3) {
    g_set_error (error, SX_FACE_ERROR, SX_FACE_ERROR_INVALID_INPUT,
                 "upsample %u too large (at most 3)", upsample);
    return -1;
  }

  try {
    std::vector<dlib::rect_detection> found;
    /* HOG on grey: the colour variant takes the strongest channel gradient,
     * costs more and finds the same faces. */
    if (image->channels == 1 && upsample == 0) {
      detector->detector (view_of<guint8> (image), found, adjust_threshold);
    } else {
      dlib::array2d<guint8> grey;
      if (image->channels == 1)
        dlib::assign_image (grey, view_of<guint8> (image));
      else
        dlib::assign_image (grey, view_of<dlib::rgb_pixel> (image));
      for (guint i = 0; i < upsample; i++)
        dlib::pyramid_up (grey);
      detector->detector (grey, found, adjust_threshold);
    }

    const double scale = 1.0 / (double)(1u << upsample);
    return boxes_from_detections (found, 0, 0, scale, scale, boxes);
  } catch (...) {
    g_clear_pointer (boxes, g_free);
    set_error_from_exception (error, "detecting faces");
    return -1;
  }
}

static dlib::frontal_face_detector &
detector_with_levels (SxFaceDetector *d, guint max_levels)
{
  if (max_levels == 0)
    return d->detector;
  auto found = d->limited.find (max_levels);
  if (found != d->limited.end ())
    return found->second;
  dlib::frontal_face_detector::image_scanner_type scanner;
  scanner.copy_configuration (d->detector.get_scanner ());
  scanner.set_max_pyramid_levels (max_levels);
  std::vector<dlib::frontal_face_detector::feature_vector_type> weights;
  for (unsigned long i = 0; i < d->detector.num_detectors (); i++)
    weights.push_back (d->detector.get_w (i));
  return d->limited[max_levels] = dlib::frontal_face_detector (
             scanner, d->detector.get_overlap_tester (), weights);
}

gint
sx_face_detect_region (SxFaceDetector *detector, const SxImage *image,
                       const SxDetectRegion *region, gdouble adjust_threshold,
                       SxFaceBox **boxes, GError **error)
{
  g_return_val_if_fail (detector != nullptr && boxes != nullptr, -1);
  *boxes = nullptr;
  if (!check_image (image, error))
    return -1;
  if (region == nullptr || region->x < 0 || region->y < 0 || region->width == 0
      || region->height == 0 || region->x + (gint64)region->width > image->width
      || region->y + (gint64)region->height > image->height
      || !(region->scale > 0.0) || region->scale > 8.0) {
    g_set_error (
        error, SX_FACE_ERROR, SX_FACE_ERROR_INVALID_INPUT,
        "invalid detection region (must lie inside the image, scale in "
        "(0, 8])");
    return -1;
  }

  try {
    SxImage part = *image;
    part.data += (gsize)region->y * image->stride
                 + (gsize)region->x * image->channels;
    part.width = region->width;
    part.height = region->height;
    auto &hog = detector_with_levels (detector, region->max_levels);

    std::vector<dlib::rect_detection> found;
    double sx = 1.0, sy = 1.0;
    if (part.channels == 1 && region->scale == 1.0) {
      hog (view_of<guint8> (&part), found, adjust_threshold);
    } else {
      /* HOG on grey: the colour variant takes the strongest channel
       * gradient, costs more and finds the same faces. */
      dlib::array2d<guint8> grey;
      if (part.channels == 1)
        dlib::assign_image (grey, view_of<guint8> (&part));
      else
        dlib::assign_image (grey, view_of<dlib::rgb_pixel> (&part));
      if (region->scale == 1.0) {
        hog (grey, found, adjust_threshold);
      } else {
        long rows = std::max (1L, std::lround (part.height * region->scale));
        long cols = std::max (1L, std::lround (part.width * region->scale));
        dlib::array2d<guint8> scaled (rows, cols);
        dlib::resize_image (grey, scaled);
        sx = (double)part.width / cols;
        sy = (double)part.height / rows;
        hog (scaled, found, adjust_threshold);
      }
    }

    return boxes_from_detections (found, region->x, region->y, sx, sy, boxes);
  } catch (...) {
    g_clear_pointer (boxes, g_free);
    set_error_from_exception (error, "detecting faces");
    return -1;
  }
}

/* ---- Process-wide model cache -------------------------------------------- */

/* Keyed by canonical path; an entry, once loaded, lives as long as the
 * process (see cache_unref). */
struct CachedModel {
  virtual ~CachedModel () = default;
  std::string key;
  guint refcount = 1;
};

static std::mutex cache_lock;
static std::map<std::string, CachedModel *> cache;

static std::string
canonical_path (const gchar *path)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autofree gchar *resolved = g_file_get_path (file);
  return resolved ? resolved : path;
}

static gboolean
check_readable (const gchar *path, const char *what, GError **error)
{
  if (path == nullptr || *path == '\0') {
    g_set_error (error, SX_FACE_ERROR, SX_FACE_ERROR_MODEL_MISSING,
                 "no %s model path given", what);
    return FALSE;
  }
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR)
      || g_access (path, R_OK) != 0) {
    g_set_error (error, SX_FACE_ERROR, SX_FACE_ERROR_MODEL_MISSING,
                 "%s model '%s' does not exist or is not readable", what, path);
    return FALSE;
  }
  return TRUE;
}

/* Returns a new reference to the cached model for `path`, loading it with
 * `load` on first use. The lock is held during loading on purpose: two
 * elements starting together must not both read a 100 MB file. */
template <typename Model, typename Loader>
static Model *
cache_get (const gchar *path, const char *what, Loader load, GError **error)
{
  if (!check_readable (path, what, error))
    return nullptr;
  std::string key = std::string (what) + ":" + canonical_path (path);
  std::lock_guard<std::mutex> guard (cache_lock);
  auto it = cache.find (key);
  if (it != cache.end ()) {
    it->second->refcount++;
    return static_cast<Model *> (it->second);
  }
  try {
    auto *model = new Model;
    try {
      load (*model, path);
    } catch (...) {
      delete model;
      throw;
    }
    model->key = key;
    cache[key] = model;
    return model;
  } catch (const dlib::serialization_error &e) {
    g_set_error (error, SX_FACE_ERROR, SX_FACE_ERROR_MODEL_CORRUPT,
                 "%s model '%s' is not a valid dlib model file: %s", what, path,
                 e.what ());
  } catch (const std::exception &e) {
    g_set_error (error, SX_FACE_ERROR, SX_FACE_ERROR_MODEL_CORRUPT,
                 "%s model '%s' could not be loaded: %s", what, path,
                 e.what ());
  } catch (...) {
    g_set_error (error, SX_FACE_ERROR, SX_FACE_ERROR_MODEL_CORRUPT,
                 "%s model '%s' could not be loaded", what, path);
  }
  return nullptr;
}

static void
cache_ref (CachedModel *model)
{
  std::lock_guard<std::mutex> guard (cache_lock);
  model->refcount++;
}

/* A model nobody uses any more stays loaded for the process's lifetime:
 * cameras come and go all day, and reloading ~95 MB for each new one cost
 * 1.3 s per connect and left the freed memory in the previous thread's
 * malloc arena, so RSS grew by the models' size per connect/disconnect
 * cycle (launcher-soak). */
static void
cache_unref (CachedModel *model)
{
  std::lock_guard<std::mutex> guard (cache_lock);
  g_assert (model->refcount > 0);
  model->refcount--;
}

guint
sx_face_models_loaded (void)
{
  std::lock_guard<std::mutex> guard (cache_lock);
  return (guint)cache.size ();
}

/* ---- Landmarks ------------------------------------------------------------
 */

struct _SxLandmarkModel : CachedModel {
  dlib::shape_predictor predictor; /* const use is thread-safe */
};

SxLandmarkModel *
sx_landmark_model_get (const gchar *path, GError **error)
{
  return cache_get<_SxLandmarkModel> (
      path, "landmark",
      [] (_SxLandmarkModel &m, const gchar *p) {
        dlib::deserialize (p) >> m.predictor;
        if (m.predictor.num_parts () != 68 && m.predictor.num_parts () != 5)
          throw dlib::error ("expected a 68-point or 5-point face shape "
                             "predictor, this one has "
                             + std::to_string (m.predictor.num_parts ())
                             + " parts");
      },
      error);
}

SxLandmarkModel *
sx_landmark_model_ref (SxLandmarkModel *model)
{
  cache_ref (model);
  return model;
}

void
sx_landmark_model_unref (SxLandmarkModel *model)
{
  if (model)
    cache_unref (model);
}

guint
sx_landmark_model_num_parts (SxLandmarkModel *model)
{
  return (guint)model->predictor.num_parts ();
}

template <typename P>
static void
extract_chip (const dlib::shape_predictor &predictor, const SxImage *image,
              const SxFaceBox *box, guint8 *chip_out)
{
  sx::View<P> view = view_of<P> (image);
  dlib::rectangle rect (box->x, box->y, box->x + (long)box->width - 1,
                        box->y + (long)box->height - 1);
  dlib::full_object_detection shape = predictor (view, rect);
  dlib::matrix<dlib::rgb_pixel> chip;
  dlib::extract_image_chip (view,
                            dlib::get_face_chip_details (
                                shape, SX_FACE_CHIP_SIZE, SX_FACE_CHIP_PADDING),
                            chip);
  memcpy (chip_out, &chip (0, 0), SX_FACE_CHIP_BYTES);
}

gboolean
sx_face_extract_chip (SxLandmarkModel *model, const SxImage *image,
                      const SxFaceBox *box, guint8 *chip, GError **error)
{
  g_return_val_if_fail (model != nullptr && box != nullptr && chip, FALSE);
  if (!check_image (image, error))
    return FALSE;
  try {
    if (image->channels == 3)
      extract_chip<dlib::rgb_pixel> (model->predictor, image, box, chip);
    else
      extract_chip<guint8> (model->predictor, image, box, chip);
    return TRUE;
  } catch (...) {
    set_error_from_exception (error, "aligning a face");
    return FALSE;
  }
}

/* ---- Descriptors ----------------------------------------------------------
 */

/* dlib networks are not reentrant (forward() keeps its outputs), so the
 * model lends one copy per describing thread. Copies share nothing but are
 * made from the single loaded network, never re-read from disk. */
struct _SxDescriptorModel : CachedModel {
  std::mutex lock;
  std::condition_variable returned;
  std::vector<std::unique_ptr<sxnet::anet_type> > idle;
  guint created = 0;
  guint max_copies = 1;
};

SxDescriptorModel *
sx_descriptor_model_get (const gchar *path, GError **error)
{
  return cache_get<_SxDescriptorModel> (
      path, "face recognition",
      [] (_SxDescriptorModel &m, const gchar *p) {
        auto net = std::make_unique<sxnet::anet_type> ();
        dlib::deserialize (p) >> *net;
        m.idle.push_back (std::move (net));
        m.created = 1;
        m.max_copies = MAX (1u, g_get_num_processors ());
      },
      error);
}

SxDescriptorModel *
sx_descriptor_model_ref (SxDescriptorModel *model)
{
  cache_ref (model);
  return model;
}

void
sx_descriptor_model_unref (SxDescriptorModel *model)
{
  if (model)
    cache_unref (model);
}

static std::unique_ptr<sxnet::anet_type>
borrow_net (SxDescriptorModel *model)
{
  std::unique_lock<std::mutex> guard (model->lock);
  for (;;) {
    if (!model->idle.empty ()) {
      auto net = std::move (model->idle.back ());
      model->idle.pop_back ();
      /* Keep a spare ready while copies may still be made: the copy is
       * taken from the one in hand, before it is used. */
      if (model->idle.empty () && model->created < model->max_copies) {
        model->idle.push_back (std::make_unique<sxnet::anet_type> (*net));
        model->created++;
      }
      return net;
    }
    model->returned.wait (guard);
  }
}

static void
return_net (SxDescriptorModel *model, std::unique_ptr<sxnet::anet_type> net)
{
  std::lock_guard<std::mutex> guard (model->lock);
  model->idle.push_back (std::move (net));
  model->returned.notify_one ();
}

gboolean
sx_face_describe (SxDescriptorModel *model, const guint8 *chips, guint n_chips,
                  gfloat *descriptors, GError **error)
{
  g_return_val_if_fail (model != nullptr, FALSE);
  if (n_chips == 0)
    return TRUE;
  g_return_val_if_fail (chips != nullptr && descriptors != nullptr, FALSE);

  std::unique_ptr<sxnet::anet_type> net;
  try {
    std::vector<dlib::matrix<dlib::rgb_pixel> > batch (n_chips);
    for (guint i = 0; i < n_chips; i++) {
      batch[i].set_size (SX_FACE_CHIP_SIZE, SX_FACE_CHIP_SIZE);
      memcpy (&batch[i](0, 0), chips + (gsize)i * SX_FACE_CHIP_BYTES,
              SX_FACE_CHIP_BYTES);
    }
    net = borrow_net (model);
    std::vector<dlib::matrix<float, 0, 1> > out = (*net) (batch, n_chips);
    return_net (model, std::move (net));
    for (guint i = 0; i < n_chips; i++)
      memcpy (descriptors + (gsize)i * SX_FACE_DESCRIPTOR_LEN, &out[i](0),
              sizeof (gfloat) * SX_FACE_DESCRIPTOR_LEN);
    return TRUE;
  } catch (...) {
    if (net)
      return_net (model, std::move (net));
    set_error_from_exception (error, "computing face descriptors");
    return FALSE;
  }
}

gdouble
sx_face_distance (const gfloat *a, const gfloat *b)
{
  double sum = 0;
  for (int i = 0; i < SX_FACE_DESCRIPTOR_LEN; i++) {
    double d = (double)a[i] - (double)b[i];
    sum += d * d;
  }
  return std::sqrt (sum);
}

/* ---- face-api.js -> dlib conversion ---------------------------------------
 */

/* The network's parameter layers in input-to-output order, named as
 * face-api.js's faceRecognitionNet names its tensors. */
static std::vector<std::string>
faceapi_layer_prefixes ()
{
  std::vector<std::string> prefixes = { "conv32_down/" };
  for (const char *block :
       { "conv32_1", "conv32_2", "conv32_3", "conv64_down", "conv64_1",
         "conv64_2", "conv64_3", "conv128_down", "conv128_1", "conv128_2",
         "conv256_down", "conv256_1", "conv256_2", "conv256_down_out" }) {
    prefixes.push_back (std::string (block) + "/conv1/");
    prefixes.push_back (std::string (block) + "/conv2/");
  }
  return prefixes;
}

template <typename T> struct is_con : std::false_type {
};
template <long nf, long nr, long nc, int sy, int sx, int py, int px>
struct is_con<dlib::con_<nf, nr, nc, sy, sx, py, px> > : std::true_type {
};

gboolean
sx_descriptor_model_write_from_faceapi (const SxNamedTensor *tensors,
                                        gsize n_tensors, const gchar *out_path,
                                        GError **error)
{
  try {
    std::map<std::string, const SxNamedTensor *> by_name;
    for (gsize i = 0; i < n_tensors; i++)
      by_name[tensors[i].name] = &tensors[i];
    auto find = [&] (const std::string &name, size_t n) -> const gfloat * {
      auto it = by_name.find (name);
      if (it == by_name.end ())
        throw dlib::error ("tensor '" + name + "' missing from the model");
      if (it->second->n_values != n)
        throw dlib::error (
            "tensor '" + name + "' has " + std::to_string (it->second->n_values)
            + " values, dlib's layer needs " + std::to_string (n));
      return it->second->values;
    };

    auto net = std::make_unique<sxnet::anet_type> ();
    /* dlib trained this network with batch norm over channels (bn_con); a
     * fresh affine_ defaults to per-element (FC) mode, so set CONV mode
     * before the parameters are allocated. */
    dlib::visit_computational_layers (*net, [] (auto &layer) {
      if constexpr (std::is_same_v<std::decay_t<decltype (layer)>,
                                   dlib::affine_>)
        layer = dlib::affine_ (dlib::CONV_MODE);
    });
    /* A forward pass makes every layer allocate its parameters. */
    dlib::matrix<dlib::rgb_pixel> blank (SX_FACE_CHIP_SIZE, SX_FACE_CHIP_SIZE);
    dlib::assign_all_pixels (blank, dlib::rgb_pixel (0, 0, 0));
    (*net) (blank);

    /* One filler per parameter layer. visit_computational_layers walks from
     * the output down; face-api.js lists its tensors from the input up. */
    struct Filler {
      char kind; /* 'c'onv, 'a'ffine, 'f'c */
      std::function<void (const std::string &)> fill;
    };
    std::vector<Filler> fillers;
    gsize used = 0;
    dlib::visit_computational_layers (*net, [&] (auto &layer) {
      using L = std::decay_t<decltype (layer)>;
      if constexpr (std::is_same_v<L, dlib::affine_>) {
        L *a = &layer;
        fillers.push_back ({ 'a', [a, &find, &used] (const std::string &p) {
                              auto gamma = a->get_gamma ();
                              auto beta = a->get_beta ();
                              size_t k = gamma.size ();
                              const gfloat *w = find (p + "scale/weights", k);
                              const gfloat *b = find (p + "scale/biases", k);
                              std::copy (w, w + k, gamma.host ());
                              std::copy (b, b + k, beta.host ());
                              used += 2 * k;
                            } });
      } else if constexpr (is_con<L>::value) {
        L *c = &layer;
        fillers.push_back (
            { 'c', [c, &find, &used] (const std::string &p) {
               dlib::tensor &params = c->get_layer_params ();
               const long out = c->num_filters ();
               const long h = c->nr (), w = c->nc ();
               const long in = ((long)params.size () - out) / (out * h * w);
               const gfloat *f
                   = find (p + "conv/filters", (size_t)(h * w * in * out));
               const gfloat *b = find (p + "conv/bias", out);
               float *dst = params.host ();
               /* tfjs [h][w][in][out] -> dlib [out][in][h][w] */
               for (long o = 0; o < out; o++)
                 for (long i = 0; i < in; i++)
                   for (long y = 0; y < h; y++)
                     for (long x = 0; x < w; x++)
                       dst[((o * in + i) * h + y) * w + x]
                           = f[((y * w + x) * in + i) * out + o];
               std::copy (b, b + out, dst + out * in * h * w);
               used += (gsize)params.size ();
             } });
      } else if constexpr (std::is_same_v<L,
                                          dlib::fc_<128, dlib::FC_NO_BIAS> >) {
        L *fc = &layer;
        fillers.push_back ({ 'f', [fc, &find, &used] (const std::string &) {
                              /* tfjs [256,128] is dlib's [inputs,outputs] */
                              dlib::tensor &params = fc->get_layer_params ();
                              const gfloat *v = find ("fc", params.size ());
                              std::copy (v, v + params.size (), params.host ());
                              used += (gsize)params.size ();
                            } });
      }
    });
    std::reverse (fillers.begin (), fillers.end ());

    std::vector<std::string> prefixes = faceapi_layer_prefixes ();
    if (fillers.size () != 2 * prefixes.size () + 1)
      throw dlib::error ("internal: network layout does not match face-api.js");
    for (size_t i = 0; i < prefixes.size (); i++) {
      if (fillers[2 * i].kind != 'c' || fillers[2 * i + 1].kind != 'a')
        throw dlib::error ("internal: unexpected layer order at "
                           + prefixes[i]);
      fillers[2 * i].fill (prefixes[i]);
      fillers[2 * i + 1].fill (prefixes[i]);
    }
    fillers.back ().fill ("");

    gsize total = 0;
    for (gsize i = 0; i < n_tensors; i++)
      total += tensors[i].n_values;
    if (used != total)
      throw dlib::error ("only " + std::to_string (used) + " of "
                         + std::to_string (total) + " values were placed");

    net->clean ();
    dlib::serialize (out_path) << *net;
    return TRUE;
  } catch (...) {
    set_error_from_exception (error, "converting the face-api.js model");
    return FALSE;
  }
}
