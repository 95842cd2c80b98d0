/* surveillx-gst — one gallery per process and source (galleryshare.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galleryshare.h"

#include "gallerydb.h"

#include <string.h>

/* One gallery and whoever uses it */
typedef struct {
  gchar *key;
  gint users;         /* under registry_lock */
  GMutex lock;        /* subscribers, current */
  GList *subscribers; /* SxGalleryShare */
  SxGallery *current;
  SxGalleryWatch *watch; /* database galleries */
} SharedGallery;

struct _SxGalleryShare {
  SharedGallery *shared;
  SxGalleryShareCallbacks cb;
  gpointer user_data;
};

static GMutex registry_lock;
static GHashTable *registry; /* key -> SharedGallery */

static gchar *
share_key (const gchar *location, const gchar *schema,
           const gchar *recognition_model)
{
  if (sx_gallery_location_is_db (location))
    return g_strdup_printf ("db\x1f%s\x1f%s", location, schema ? schema : "");
  /* the same folder or file by any spelling of its path */
  g_autofree gchar *path = g_canonicalize_filename (location, NULL);
  g_autofree gchar *model
      = recognition_model && *recognition_model
            ? g_canonicalize_filename (recognition_model, NULL)
            : g_strdup ("");
  return g_strdup_printf ("path\x1f%s\x1f%s", path, model);
}

/* The watch's thread: every subscriber gets the new gallery */
static void
shared_reloaded (SxGallery *gallery, gpointer data)
{
  SharedGallery *shared = data;

  g_mutex_lock (&shared->lock);
  SxGallery *old = shared->current;
  shared->current = sx_gallery_ref (gallery);
  for (GList *l = shared->subscribers; l; l = l->next) {
    SxGalleryShare *share = l->data;
    if (share->cb.reloaded)
      share->cb.reloaded (gallery, share->user_data);
  }
  g_mutex_unlock (&shared->lock);
  if (old)
    sx_gallery_unref (old);
}

static void
shared_trouble (const GError *error, gpointer data)
{
  SharedGallery *shared = data;

  g_mutex_lock (&shared->lock);
  for (GList *l = shared->subscribers; l; l = l->next) {
    SxGalleryShare *share = l->data;
    if (share->cb.trouble)
      share->cb.trouble (error, share->user_data);
  }
  g_mutex_unlock (&shared->lock);
}

static void
shared_free (SharedGallery *shared)
{
  /* joins the watch's thread: no callback runs after this */
  g_clear_pointer (&shared->watch, sx_gallery_watch_free);
  g_clear_pointer (&shared->current, sx_gallery_unref);
  g_mutex_clear (&shared->lock);
  g_free (shared->key);
  g_free (shared);
}

/* Loads the gallery @key names; under registry_lock, so a gallery that
 * sixteen cameras ask for at once is loaded by the first only. */
static SharedGallery *
shared_load (gchar *key, const gchar *location, const gchar *schema,
             SxAnalyzer *analyzer, SxGalleryWarnFunc warn, gpointer user_data,
             GError **error)
{
  SharedGallery *shared = g_new0 (SharedGallery, 1);
  SxGallery *initial = NULL;

  g_mutex_init (&shared->lock);
  shared->key = key;
  if (sx_gallery_location_is_db (location)) {
    shared->watch
        = sx_gallery_watch_new (location, schema, &initial, shared_reloaded,
                                shared_trouble, shared, error);
    if (!shared->watch) {
      shared_free (shared);
      return NULL;
    }
  } else {
    initial = sx_gallery_load (location, analyzer, warn, user_data, error);
    if (!initial) {
      shared_free (shared);
      return NULL;
    }
  }
  g_mutex_lock (&shared->lock);
  /* the watch may have reloaded already */
  if (shared->current)
    sx_gallery_unref (initial);
  else
    shared->current = initial;
  g_mutex_unlock (&shared->lock);
  return shared;
}

SxGalleryShare *
sx_gallery_share_open (const gchar *location, const gchar *schema,
                       const gchar *recognition_model, SxAnalyzer *analyzer,
                       SxGalleryWarnFunc warn,
                       const SxGalleryShareCallbacks *callbacks,
                       gpointer user_data, SxGallery **initial, GError **error)
{
  g_return_val_if_fail (location && *location, NULL);

  gchar *key = share_key (location, schema, recognition_model);

  g_mutex_lock (&registry_lock);
  if (!registry)
    registry = g_hash_table_new (g_str_hash, g_str_equal);
  SharedGallery *shared = g_hash_table_lookup (registry, key);
  if (shared) {
    g_free (key);
  } else {
    shared
        = shared_load (key, location, schema, analyzer, warn, user_data, error);
    if (!shared) {
      g_mutex_unlock (&registry_lock);
      return NULL;
    }
    g_hash_table_insert (registry, shared->key, shared);
  }
  shared->users++;
  g_mutex_unlock (&registry_lock);

  SxGalleryShare *share = g_new0 (SxGalleryShare, 1);
  share->shared = shared;
  if (callbacks)
    share->cb = *callbacks;
  share->user_data = user_data;
  g_mutex_lock (&shared->lock);
  shared->subscribers = g_list_prepend (shared->subscribers, share);
  *initial = sx_gallery_ref (shared->current);
  g_mutex_unlock (&shared->lock);
  return share;
}

guint
sx_gallery_share_get_users (SxGalleryShare *share)
{
  g_mutex_lock (&registry_lock);
  guint users = share->shared->users;
  g_mutex_unlock (&registry_lock);
  return users;
}

void
sx_gallery_share_close (SxGalleryShare *share)
{
  if (!share)
    return;
  SharedGallery *shared = share->shared;

  /* callbacks run under this lock: none for @share once it is out */
  g_mutex_lock (&shared->lock);
  shared->subscribers = g_list_remove (shared->subscribers, share);
  g_mutex_unlock (&shared->lock);
  g_free (share);

  g_mutex_lock (&registry_lock);
  gboolean last = --shared->users == 0;
  if (last)
    g_hash_table_remove (registry, shared->key);
  g_mutex_unlock (&registry_lock);
  if (last)
    shared_free (shared);
}
