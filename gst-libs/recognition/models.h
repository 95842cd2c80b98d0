/* surveillx-gst — where the face models are when nobody says.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One lookup for the element, the tools and the benchmarks, so they load
 * the same files.
 */
#ifndef SX_MODELS_H
#define SX_MODELS_H

#include <glib.h>

G_BEGIN_DECLS

#define SX_RECOGNITION_MODEL_FILE "dlib_face_recognition_resnet_model_v1.dat"

/* dlib's ResNet descriptor model: in $SURVEILLX_MODEL_DIR if set, else the
 * model folder of the installation this library is part of (wherever it
 * was moved), else the configured one. g_free() it. */
gchar *sx_models_default_recognition (void);

/* The landmark model: $SURVEILLX_LANDMARK_MODEL if set, else libdlib-data's
 * 68-point shape predictor. Static. */
const gchar *sx_models_default_landmarks (void);

G_END_DECLS

#endif /* SX_MODELS_H */
