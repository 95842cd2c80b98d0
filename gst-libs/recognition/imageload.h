/* surveillx-gst — decode a photo to packed RGB with GStreamer's decoders.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SX_IMAGELOAD_H
#define SX_IMAGELOAD_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint8 *data; /* packed RGB, rows `stride` bytes apart */
  guint width;
  guint height;
  gsize stride;
} SxRgbImage;

/* Decodes any image GStreamer can decode (JPEG, PNG, ...) at `path`.
 * gst_init() must have been called. */
gboolean sx_rgb_image_load (const gchar *path, SxRgbImage *image,
                            GError **error);

/* A copy with `border` pixels added on every side, edge pixels repeated:
 * tight face crops (ID photos) need context before HOG finds the face. */
void sx_rgb_image_pad (const SxRgbImage *image, guint border,
                       SxRgbImage *padded);

void sx_rgb_image_clear (SxRgbImage *image);

G_END_DECLS

#endif /* SX_IMAGELOAD_H */
