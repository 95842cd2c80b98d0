/* surveillx-gst — where the face models are when nobody says (models.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "models.h"

gchar *
sx_models_default_recognition (void)
{
  const gchar *dir = g_getenv ("SURVEILLX_MODEL_DIR");

  return g_build_filename (dir && *dir ? dir : SX_MODEL_DIR,
                           SX_RECOGNITION_MODEL_FILE, NULL);
}

const gchar *
sx_models_default_landmarks (void)
{
  const gchar *path = g_getenv ("SURVEILLX_LANDMARK_MODEL");

  return path && *path ? path : SX_DEFAULT_LANDMARK_MODEL;
}
