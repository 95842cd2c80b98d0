/* surveillx-gst — galleries kept in PostgreSQL, reloaded on NOTIFY.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SX_GALLERYDB_H
#define SX_GALLERYDB_H

#include "gallery.h"
#include "sxdb.h"

G_BEGIN_DECLS

/* TRUE when a gallery location names a database rather than a path:
 * postgres:// or postgresql:// URIs, or key=value conninfo. */
gboolean sx_gallery_location_is_db (const gchar *location);

/* The descriptors of every student whose enrolment is active and whose
 * consent is recorded and not withdrawn: nobody else is recognised. */
SxGallery *sx_gallery_load_db (SxDb *db, GError **error);

/* Writes a gallery's people and descriptors into the database, inside the
 * caller's transaction (students upserted by external id, consent recorded
 * from @consent_source, e.g. "form 2026-09, signed by a parent", as given
 * on @consent_given, a date PostgreSQL reads, or now when NULL). */
gboolean sx_gallery_store_db (SxGallery *gallery, SxDb *db,
                              const gchar *consent_source,
                              const gchar *consent_given, GError **error);

/* A live gallery: loads now, then LISTENs on its own connection and
 * calls `reloaded` (from its own thread) with each new gallery after the
 * students or descriptors change; after a lost connection it reconnects
 * with backoff and reloads, since notifications may have been missed. */
typedef struct _SxGalleryWatch SxGalleryWatch;
typedef void (*SxGalleryReloaded) (SxGallery *gallery, gpointer user_data);
typedef void (*SxGalleryTrouble) (const GError *error, gpointer user_data);

SxGalleryWatch *sx_gallery_watch_new (const gchar *conninfo,
                                      const gchar *schema, SxGallery **initial,
                                      SxGalleryReloaded reloaded,
                                      SxGalleryTrouble trouble,
                                      gpointer user_data, GError **error);
void sx_gallery_watch_free (SxGalleryWatch *watch);

G_END_DECLS

#endif /* SX_GALLERYDB_H */
