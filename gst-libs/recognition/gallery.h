/* surveillx-gst — the enrolled people a recogniser matches against.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A gallery is built once from a source (a folder of photos, a descriptor
 * file, later PostgreSQL) and never changes after: a reload builds a new
 * one and swaps it in, so matching needs no lock beyond a reference.
 */
#ifndef SX_GALLERY_H
#define SX_GALLERY_H

#include "analyzer.h"

G_BEGIN_DECLS

typedef struct _SxGallery SxGallery;

typedef struct {
  const gchar *id;   /* enrolled id (student number) */
  const gchar *name; /* display name */
  gdouble distance;  /* Euclidean distance to the nearest descriptor */
} SxGalleryMatch;

/* Called once per photo that could not be enrolled; the photo is skipped. */
typedef void (*SxGalleryWarnFunc) (const gchar *path, const GError *error,
                                   gpointer user_data);

SxGallery *sx_gallery_new (void);
SxGallery *sx_gallery_ref (SxGallery *gallery);
void sx_gallery_unref (SxGallery *gallery);

void sx_gallery_add (SxGallery *gallery, const gchar *id, const gchar *name,
                     const gfloat *descriptor, const gchar *source);

guint sx_gallery_n_people (SxGallery *gallery);
gboolean sx_gallery_has_id (SxGallery *gallery, const gchar *id);
/* Person `index` (< n_people), in enrolment order; owned by the gallery. */
const gchar *sx_gallery_person_id (SxGallery *gallery, guint index);
guint sx_gallery_n_descriptors (SxGallery *gallery);

/* Descriptor `index` (< n_descriptors) with its person; all owned by the
 * gallery. */
void sx_gallery_get_entry (SxGallery *gallery, guint index, const gchar **id,
                           const gchar **name, const gfloat **descriptor,
                           const gchar **source);

/* A copy without `id`'s descriptors (for tools editing descriptor files). */
SxGallery *sx_gallery_copy_without (SxGallery *gallery, const gchar *id);

/* Nearest enrolled descriptor; FALSE when the gallery is empty. */
gboolean sx_gallery_match (SxGallery *gallery, const gfloat *descriptor,
                           SxGalleryMatch *match);

/* A folder: one sub-folder per person ("<id>_<name>" or "<name>"), or
 * photos named "<id>_<name>.jpg" (several photos may share an id). */
SxGallery *sx_gallery_load_folder (const gchar *dir, SxAnalyzer *analyzer,
                                   SxGalleryWarnFunc warn, gpointer user_data,
                                   GError **error);

/* The descriptor file format (docs/elements.md), JSON; written mode 0600. */
SxGallery *sx_gallery_load_file (const gchar *path, GError **error);
gboolean sx_gallery_save_file (SxGallery *gallery, const gchar *path,
                               GError **error);

/* Dispatches on what `location` names: a folder or a descriptor file. */
SxGallery *sx_gallery_load (const gchar *location, SxAnalyzer *analyzer,
                            SxGalleryWarnFunc warn, gpointer user_data,
                            GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SxGallery, sx_gallery_unref)

G_END_DECLS

#endif /* SX_GALLERY_H */
