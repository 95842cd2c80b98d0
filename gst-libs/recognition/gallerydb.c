/* surveillx-gst — galleries kept in PostgreSQL, reloaded on NOTIFY.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gallerydb.h"

#include <gst/gst.h>
#include <poll.h>
#include <string.h>

/* Enrolment writes a student and several descriptors: wait this long after
 * a notification for the rest before reloading once. */
#define DEBOUNCE_MS 200
#define POLL_MS 250
#define RECONNECT_MIN_MS 500
#define RECONNECT_MAX_MS 30000

gboolean
sx_gallery_location_is_db (const gchar *location)
{
  if (!location)
    return FALSE;
  if (g_str_has_prefix (location, "postgres://")
      || g_str_has_prefix (location, "postgresql://"))
    return TRUE;
  /* key=value conninfo ("dbname=school host=..."), never a real path */
  return strchr (location, '=') != NULL
         && !g_file_test (location, G_FILE_TEST_EXISTS);
}

SxGallery *
sx_gallery_load_db (SxDb *db, GError **error)
{
  PGresult *res = sx_db_exec (
      db,
      "SELECT s.external_id, s.name, d.descriptor::text, d.source_photo "
      "FROM students s JOIN face_descriptors d ON d.student = s.id "
      "WHERE s.active AND s.consent_given IS NOT NULL "
      "AND s.consent_withdrawn IS NULL ORDER BY s.id, d.id",
      0, NULL, error);
  if (!res)
    return NULL;
  SxGallery *gallery = sx_gallery_new ();
  for (gint row = 0; row < PQntuples (res); row++) {
    gfloat descriptor[SX_FACE_DESCRIPTOR_LEN];
    if (!sx_db_parse_descriptor (PQgetvalue (res, row, 2), descriptor,
                                 SX_FACE_DESCRIPTOR_LEN, error)) {
      PQclear (res);
      sx_gallery_unref (gallery);
      return NULL;
    }
    sx_gallery_add (gallery, PQgetvalue (res, row, 0), PQgetvalue (res, row, 1),
                    descriptor, PQgetvalue (res, row, 3));
  }
  PQclear (res);
  return gallery;
}

gboolean
sx_gallery_store_db (SxGallery *gallery, SxDb *db, const gchar *consent_source,
                     const gchar *consent_given, GError **error)
{
  g_return_val_if_fail (consent_source != NULL, FALSE);
  for (guint i = 0; i < sx_gallery_n_descriptors (gallery); i++) {
    const gchar *id, *name, *source;
    const gfloat *descriptor;
    sx_gallery_get_entry (gallery, i, &id, &name, &descriptor, &source);
    g_autofree gchar *text
        = sx_db_format_descriptor (descriptor, SX_FACE_DESCRIPTOR_LEN);
    const gchar *params[]
        = { id, name, text, source, consent_source, consent_given };
    /* enrolling again with consent renews it, after a withdrawal too */
    PGresult *res = sx_db_exec (
        db,
        "WITH s AS (INSERT INTO students (external_id, name, consent_given,"
        "  consent_source) VALUES ($1, $2,"
        "  COALESCE($6::timestamptz, now()), $5)"
        "  ON CONFLICT (external_id) DO UPDATE SET name = EXCLUDED.name,"
        "  active = true, consent_given = EXCLUDED.consent_given,"
        "  consent_source = EXCLUDED.consent_source, consent_withdrawn = NULL"
        "  RETURNING id) "
        "INSERT INTO face_descriptors (student, descriptor, source_photo) "
        "SELECT s.id, $3::real[], $4 FROM s",
        6, params, error);
    if (!res)
      return FALSE;
    PQclear (res);
  }
  return TRUE;
}

/* ---- Watch ------------------------------------------------------------- */

struct _SxGalleryWatch {
  gchar *conninfo;
  gchar *schema;
  SxDb *db; /* the watch thread's; NULL while reconnecting */
  SxGalleryReloaded reloaded;
  SxGalleryTrouble trouble;
  gpointer user_data;
  GThread *thread;
  gint stopping; /* atomic */
};

/* A shared gallery serves several elements, so what the database says about
 * itself goes to a category of the library's own, not to one element. */
GST_DEBUG_CATEGORY_STATIC (sx_gallery_db_debug);
#define GST_CAT_DEFAULT sx_gallery_db_debug

static void
log_db_notice (const gchar *message, gpointer user_data)
{
  static gsize category_ready = 0;

  if (g_once_init_enter (&category_ready)) {
    GST_DEBUG_CATEGORY_INIT (sx_gallery_db_debug, "sxgallerydb", 0,
                             "surveillx galleries in PostgreSQL");
    g_once_init_leave (&category_ready, 1);
  }
  GST_WARNING ("%s", message);
}

/* Connect, apply migrations (idempotent; several processes may race, the
 * advisory lock in sxdb orders them), LISTEN before loading so no change
 * between the load and the LISTEN is missed. */
static SxDb *
open_listening (const gchar *conninfo, const gchar *schema, GError **error)
{
  SxDb *db = sx_db_connect (conninfo, schema, error);
  if (!db)
    return NULL;
  sx_db_set_notice_func (db, log_db_notice, NULL);
  if (!sx_db_migrate (db, error) || !sx_db_listen (db, error)) {
    sx_db_free (db);
    return NULL;
  }
  return db;
}

static gboolean
wait_readable (gint fd, gint timeout_ms)
{
  struct pollfd p = { fd, POLLIN, 0 };
  return poll (&p, 1, timeout_ms) > 0;
}

static void
report (SxGalleryWatch *w, const GError *error)
{
  if (w->trouble)
    w->trouble (error, w->user_data);
}

static gpointer
watch_main (gpointer data)
{
  SxGalleryWatch *w = data;
  guint backoff = RECONNECT_MIN_MS;

  while (!g_atomic_int_get (&w->stopping)) {
    g_autoptr (GError) error = NULL;
    if (!w->db) {
      /* reconnect, then reload: notifications were lost with the socket */
      w->db = open_listening (w->conninfo, w->schema, &error);
      if (!w->db) {
        report (w, error);
        for (guint slept = 0;
             slept < backoff && !g_atomic_int_get (&w->stopping);
             slept += POLL_MS)
          g_usleep (POLL_MS * 1000);
        backoff = MIN (backoff * 2, RECONNECT_MAX_MS);
        continue;
      }
      backoff = RECONNECT_MIN_MS;
    } else {
      if (!wait_readable (sx_db_get_socket (w->db), POLL_MS))
        continue;
      g_auto (GStrv) payloads = sx_db_take_notifications (w->db, &error);
      if (!payloads) {
        report (w, error);
        g_clear_pointer (&w->db, sx_db_free);
        continue;
      }
      if (!payloads[0])
        continue;
      /* coalesce the burst one enrolment makes */
      while (wait_readable (sx_db_get_socket (w->db), DEBOUNCE_MS)) {
        g_auto (GStrv) more = sx_db_take_notifications (w->db, NULL);
        if (!more)
          break;
      }
    }
    SxGallery *gallery = sx_gallery_load_db (w->db, &error);
    if (!gallery) {
      report (w, error);
      g_clear_pointer (&w->db, sx_db_free);
      continue;
    }
    w->reloaded (gallery, w->user_data);
    sx_gallery_unref (gallery);
  }
  g_clear_pointer (&w->db, sx_db_free);
  return NULL;
}

SxGalleryWatch *
sx_gallery_watch_new (const gchar *conninfo, const gchar *schema,
                      SxGallery **initial, SxGalleryReloaded reloaded,
                      SxGalleryTrouble trouble, gpointer user_data,
                      GError **error)
{
  SxDb *db = open_listening (conninfo, schema, error);
  if (!db)
    return NULL;
  *initial = sx_gallery_load_db (db, error);
  if (!*initial) {
    sx_db_free (db);
    return NULL;
  }
  SxGalleryWatch *w = g_new0 (SxGalleryWatch, 1);
  w->conninfo = g_strdup (conninfo);
  w->schema = g_strdup (schema);
  w->db = db;
  w->reloaded = reloaded;
  w->trouble = trouble;
  w->user_data = user_data;
  w->thread = g_thread_new ("gallery-watch", watch_main, w);
  return w;
}

void
sx_gallery_watch_free (SxGalleryWatch *watch)
{
  if (!watch)
    return;
  g_atomic_int_set (&watch->stopping, 1);
  g_thread_join (watch->thread);
  g_free (watch->conninfo);
  g_free (watch->schema);
  g_free (watch);
}
