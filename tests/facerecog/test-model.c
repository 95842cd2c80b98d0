/* The converted ResNet reproduces face-api.js's published descriptors, the
 * model cache shares loads, and bad model files fail cleanly.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "face.h"
#include "imageload.h"
#include "testutil.h"

#include <gst/gst.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

static void
load_reference (const gchar *name, gfloat *out)
{
  g_autofree gchar *path = sx_test_faces_path (name);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_file (parser, path, NULL));
  JsonArray *values = json_node_get_array (json_parser_get_root (parser));
  g_assert_cmpuint (json_array_get_length (values), ==, SX_FACE_DESCRIPTOR_LEN);
  for (guint i = 0; i < SX_FACE_DESCRIPTOR_LEN; i++)
    out[i] = (gfloat)json_array_get_double_element (values, i);
}

static void
describe_chip (SxDescriptorModel *model, const gchar *name, gfloat *out)
{
  g_autofree gchar *path = sx_test_faces_path (name);
  SxRgbImage chip;
  g_autoptr (GError) error = NULL;
  g_assert_true (sx_rgb_image_load (path, &chip, &error));
  g_assert_cmpuint (chip.width, ==, SX_FACE_CHIP_SIZE);
  g_assert_cmpuint (chip.height, ==, SX_FACE_CHIP_SIZE);
  g_assert_true (sx_face_describe (model, chip.data, 1, out, &error));
  g_assert_no_error (error);
  sx_rgb_image_clear (&chip);
}

static void
test_reference_descriptors (void)
{
  g_autofree gchar *model_path = sx_test_recognition_model ();
  g_autoptr (GError) error = NULL;
  SxDescriptorModel *model = sx_descriptor_model_get (model_path, &error);
  g_assert_no_error (error);

  gfloat ours[2][SX_FACE_DESCRIPTOR_LEN], theirs[2][SX_FACE_DESCRIPTOR_LEN];
  describe_chip (model, "reference/face1.png", ours[0]);
  describe_chip (model, "reference/face2.png", ours[1]);
  load_reference ("reference/faceDescriptor1.json", theirs[0]);
  load_reference ("reference/faceDescriptor2.json", theirs[1]);

  gdouble d1 = sx_face_distance (ours[0], theirs[0]);
  gdouble d2 = sx_face_distance (ours[1], theirs[1]);
  gdouble apart = sx_face_distance (ours[0], ours[1]);
  g_test_message ("distance to reference: face1 %.4f, face2 %.4f; "
                  "face1-face2 %.4f",
                  d1, d2, apart);
  g_assert_cmpfloat (d1, <, 0.1);
  g_assert_cmpfloat (d2, <, 0.1);
  /* Different people stay far apart (published: ~0.89). */
  g_assert_cmpfloat (apart, >, 0.6);

  /* A batch gives what single chips give. */
  g_autofree gchar *p1 = sx_test_faces_path ("reference/face1.png");
  g_autofree gchar *p2 = sx_test_faces_path ("reference/face2.png");
  SxRgbImage a, b;
  g_assert_true (sx_rgb_image_load (p1, &a, NULL));
  g_assert_true (sx_rgb_image_load (p2, &b, NULL));
  g_autofree guint8 *chips = g_malloc (2 * SX_FACE_CHIP_BYTES);
  memcpy (chips, a.data, SX_FACE_CHIP_BYTES);
  memcpy (chips + SX_FACE_CHIP_BYTES, b.data, SX_FACE_CHIP_BYTES);
  gfloat batch[2 * SX_FACE_DESCRIPTOR_LEN];
  g_assert_true (sx_face_describe (model, chips, 2, batch, NULL));
  g_assert_cmpfloat (sx_face_distance (batch, ours[0]), <, 1e-4);
  g_assert_cmpfloat (sx_face_distance (batch + SX_FACE_DESCRIPTOR_LEN, ours[1]),
                     <, 1e-4);
  sx_rgb_image_clear (&a);
  sx_rgb_image_clear (&b);
  sx_descriptor_model_unref (model);
}

static void
test_models_shared (void)
{
  g_autofree gchar *model_path = sx_test_recognition_model ();
  SxDescriptorModel *a = sx_descriptor_model_get (model_path, NULL);
  SxLandmarkModel *la = sx_landmark_model_get (sx_test_landmark_model (), NULL);
  /* an earlier test may have loaded one of them already */
  guint loaded = sx_face_models_loaded ();
  g_assert_cmpuint (loaded, >=, 2);
  /* Another path spelling of the same file is the same model. */
  g_autofree gchar *dir = g_path_get_dirname (model_path);
  g_autofree gchar *base = g_path_get_basename (model_path);
  g_autofree gchar *other = g_build_filename (dir, ".", base, NULL);
  SxDescriptorModel *b = sx_descriptor_model_get (other, NULL);
  SxLandmarkModel *lb = sx_landmark_model_get (sx_test_landmark_model (), NULL);
  g_assert_true (a == b);
  g_assert_true (la == lb);
  g_assert_cmpuint (sx_face_models_loaded (), ==, loaded);
  g_assert_cmpuint (sx_landmark_model_num_parts (la), ==, 68);
  sx_descriptor_model_unref (b);
  sx_landmark_model_unref (lb);
  sx_descriptor_model_unref (a);
  sx_landmark_model_unref (la);
  /* kept for the process: the next camera must not load them again */
  g_assert_cmpuint (sx_face_models_loaded (), ==, loaded);
  SxDescriptorModel *c = sx_descriptor_model_get (model_path, NULL);
  g_assert_true (c == a);
  sx_descriptor_model_unref (c);
}

static void
test_bad_model_files (void)
{
  guint loaded_before = sx_face_models_loaded ();
  g_autoptr (GError) error = NULL;
  g_assert_null (sx_descriptor_model_get ("/nonexistent/model.dat", &error));
  g_assert_error (error, SX_FACE_ERROR, SX_FACE_ERROR_MODEL_MISSING);
  g_assert_nonnull (strstr (error->message, "/nonexistent/model.dat"));
  g_clear_error (&error);

  /* Not a dlib file at all, and a dlib file of the wrong kind. */
  g_autofree gchar *junk = NULL;
  gint fd = g_file_open_tmp ("sx-junk-XXXXXX.dat", &junk, NULL);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, "not a model\n", 12), ==, 12);
  close (fd);
  g_assert_null (sx_descriptor_model_get (junk, &error));
  g_assert_error (error, SX_FACE_ERROR, SX_FACE_ERROR_MODEL_CORRUPT);
  g_assert_nonnull (strstr (error->message, junk));
  g_clear_error (&error);
  g_assert_null (sx_landmark_model_get (junk, &error));
  g_assert_error (error, SX_FACE_ERROR, SX_FACE_ERROR_MODEL_CORRUPT);
  g_clear_error (&error);
  g_unlink (junk);

  g_autofree gchar *resnet = sx_test_recognition_model ();
  g_assert_null (sx_landmark_model_get (resnet, &error));
  g_assert_error (error, SX_FACE_ERROR, SX_FACE_ERROR_MODEL_CORRUPT);
  g_clear_error (&error);
  /* failed loads leave nothing in the cache */
  g_assert_cmpuint (sx_face_models_loaded (), ==, loaded_before);
}

static void
test_bad_images (void)
{
  SxFaceDetector *detector = sx_face_detector_new (NULL);
  SxFaceBox *boxes = NULL;
  g_autoptr (GError) error = NULL;
  guint8 pixels[12] = { 0 };
  SxImage bad_stride = { pixels, 4, 1, 2, 3 };
  g_assert_cmpint (sx_face_detect (detector, &bad_stride, 0, 0, &boxes, &error),
                   ==, -1);
  g_assert_error (error, SX_FACE_ERROR, SX_FACE_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  SxImage tiny = { pixels, 2, 2, 6, 3 };
  g_assert_cmpint (sx_face_detect (detector, &tiny, 0, 0, &boxes, &error), ==,
                   0);
  g_assert_no_error (error);
  g_free (boxes);
  sx_face_detector_free (detector);

  SxRgbImage image;
  g_assert_false (sx_rgb_image_load ("/nonexistent.jpg", &image, &error));
  g_assert_nonnull (strstr (error->message, "/nonexistent.jpg"));
  g_clear_error (&error);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/model/reference-descriptors", test_reference_descriptors);
  g_test_add_func ("/model/shared-cache", test_models_shared);
  g_test_add_func ("/model/bad-files", test_bad_model_files);
  g_test_add_func ("/model/bad-images", test_bad_images);
  return g_test_run ();
}
