/* surveillx-gst — one gallery per process and source, shared by every
 * recogniser that names it.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Sixteen cameras with the same gallery hold one copy of it: a folder's
 * photos are described once, a database gallery has one connection, one
 * LISTEN and one reload per NOTIFY, whose result every subscriber gets.
 */
#ifndef SX_GALLERYSHARE_H
#define SX_GALLERYSHARE_H

#include "gallery.h"

G_BEGIN_DECLS

typedef struct _SxGalleryShare SxGalleryShare;

/* Called from the database watch's thread, for every subscriber */
typedef struct {
  /* a new gallery after students or descriptors changed */
  void (*reloaded) (SxGallery *gallery, gpointer user_data);
  /* the database is unreachable; the shared watch retries */
  void (*trouble) (const GError *error, gpointer user_data);
} SxGalleryShareCallbacks;

/* Subscribes to the gallery @location names (a folder, a descriptor file
 * or a database, with @schema), loading it if no one in the process has:
 * folder photos are described with @analyzer (@warn hears of each photo
 * skipped; only the loading subscriber does). Galleries are told apart by
 * location, schema and @recognition_model (descriptors of one model do not
 * match another's). *@initial: a reference to the current gallery. */
SxGalleryShare *
sx_gallery_share_open (const gchar *location, const gchar *schema,
                       const gchar *recognition_model, SxAnalyzer *analyzer,
                       SxGalleryWarnFunc warn,
                       const SxGalleryShareCallbacks *callbacks,
                       gpointer user_data, SxGallery **initial, GError **error);

/* Subscribers of the same gallery, this one included */
guint sx_gallery_share_get_users (SxGalleryShare *share);

/* No callback of this subscriber runs after it returns; the last one
 * closes the database watch and drops the gallery. */
void sx_gallery_share_close (SxGalleryShare *share);

G_END_DECLS

#endif /* SX_GALLERYSHARE_H */
