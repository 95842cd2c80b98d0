/* surveillx-gst tests — where the models and test data are.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SX_TESTUTIL_H
#define SX_TESTUTIL_H

#include <glib.h>

#include "models.h"

/* ../shared/testdata/faces/<rel> (SURVEILLX_TESTDATA from meson) */
static inline gchar *
sx_test_faces_path (const gchar *rel)
{
  const gchar *root = g_getenv ("SURVEILLX_TESTDATA");
  g_assert_nonnull (root);
  gchar *path = g_build_filename (root, "faces", rel, NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    g_error ("test data '%s' missing (is ../shared beside the checkout?)",
             path);
  return path;
}

/* the tests' environment names the model folder: the library's lookup */
static inline gchar *
sx_test_recognition_model (void)
{
  g_assert_nonnull (g_getenv ("SURVEILLX_MODEL_DIR"));
  gchar *path = sx_models_default_recognition ();
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    g_error ("'%s' missing: run scripts/fetch-models.sh first", path);
  return path;
}

static inline const gchar *
sx_test_landmark_model (void)
{
  return sx_models_default_landmarks ();
}

/* face-api.js's demo photos, kept by scripts/fetch-models.sh */
static inline gchar *
sx_test_demo_photo (const gchar *name)
{
  gchar *path = g_build_filename (g_getenv ("SURVEILLX_MODEL_DIR"), "faceapi",
                                  "demo", name, NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    g_error ("'%s' missing: run scripts/fetch-models.sh first", path);
  return path;
}

#endif
