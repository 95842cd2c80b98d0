/* surveillx-gst — where the face models are when nobody says (models.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define _GNU_SOURCE /* dladdr */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "models.h"

#include <dlfcn.h>

/* The model folder of the installation this library belongs to, found from
 * the library's own path, so an installation moved elsewhere (or staged
 * with DESTDIR) uses its own models; NULL when there is none (a build
 * tree). */
static gchar *
relocated_model_dir (void)
{
  Dl_info info;
  if (!dladdr ((void *)relocated_model_dir, &info) || !info.dli_fname)
    return NULL;
  g_autofree gchar *library = g_canonicalize_filename (info.dli_fname, NULL);
  g_autofree gchar *libdir = g_path_get_dirname (library);
  gchar *dir = g_canonicalize_filename (SX_LIBDIR_TO_MODEL_DIR, libdir);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    g_clear_pointer (&dir, g_free);
  return dir;
}

gchar *
sx_models_default_recognition (void)
{
  const gchar *dir = g_getenv ("SURVEILLX_MODEL_DIR");
  if (dir && *dir)
    return g_build_filename (dir, SX_RECOGNITION_MODEL_FILE, NULL);
  g_autofree gchar *relocated = relocated_model_dir ();
  return g_build_filename (relocated ? relocated : SX_MODEL_DIR,
                           SX_RECOGNITION_MODEL_FILE, NULL);
}

const gchar *
sx_models_default_landmarks (void)
{
  const gchar *path = g_getenv ("SURVEILLX_LANDMARK_MODEL");

  return path && *path ? path : SX_DEFAULT_LANDMARK_MODEL;
}
