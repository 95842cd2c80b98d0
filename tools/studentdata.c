/* surveillx-gst — a student's data through its life (studentdata.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "studentdata.h"

#include <stdlib.h>

gboolean
sx_audit (SxDb *db, const gchar *actor, const gchar *action,
          const gchar *external_id, const gchar *detail_json, GError **error)
{
  const gchar *params[]
      = { actor, action, external_id, detail_json ? detail_json : "{}" };
  PGresult *res = sx_db_exec (
      db,
      "INSERT INTO audit_log (actor, action, external_id, detail) "
      "VALUES ($1, $2, $3, $4::jsonb)",
      4, params, error);
  if (!res)
    return FALSE;
  PQclear (res);
  return TRUE;
}

static gboolean
begin (SxDb *db, GError **error)
{
  return sx_db_command (db, "BEGIN", error);
}

/* Commits when @ok, else rolls back; returns @ok && the commit worked. */
static gboolean
end (SxDb *db, gboolean ok, GError **error)
{
  if (ok)
    return sx_db_command (db, "COMMIT", error);
  if (sx_db_is_ok (db))
    sx_db_command (db, "ROLLBACK", NULL);
  return FALSE;
}

static guint64
column_u64 (PGresult *res, gint column)
{
  return g_ascii_strtoull (PQgetvalue (res, 0, column), NULL, 10);
}

static gboolean
no_student (const gchar *external_id, GError **error)
{
  g_set_error (error, SX_DB_ERROR, SX_DB_ERROR_QUERY, "No student '%s'",
               external_id);
  return FALSE;
}

/* A JSON object text from key/value pairs, the values already JSON. */
static gchar *
detail (const gchar *first_key, ...)
{
  GString *s = g_string_new ("{");
  va_list args;

  va_start (args, first_key);
  for (const gchar *key = first_key; key; key = va_arg (args, const gchar *)) {
    const gchar *value = va_arg (args, const gchar *);
    g_string_append_printf (s, "%s\"%s\": %s", s->len > 1 ? ", " : "", key,
                            value);
  }
  va_end (args);
  g_string_append_c (s, '}');
  return g_string_free (s, FALSE);
}

/* Begins the transaction and runs @sql with @params, $1 the student's
 * external id; its first column counts the student's rows it touched, and
 * none is "No student". NULL on any failure, rolled back. */
static PGresult *
begin_on_student (SxDb *db, const gchar *sql, gint n_params,
                  const gchar *const *params, GError **error)
{
  if (!begin (db, error))
    return NULL;
  PGresult *res = sx_db_exec (db, sql, n_params, params, error);
  if (res && column_u64 (res, 0) == 0) {
    no_student (params[0], error);
    g_clear_pointer (&res, PQclear);
  }
  if (!res)
    end (db, FALSE, NULL);
  return res;
}

/* The change's audit row, then the commit; rolled back if either fails. */
static gboolean
audit_and_commit (SxDb *db, const gchar *actor, const gchar *action,
                  const gchar *external_id, const gchar *detail_json,
                  GError **error)
{
  return end (db, sx_audit (db, actor, action, external_id, detail_json, error),
              error);
}

gboolean
sx_student_consent (SxDb *db, const gchar *actor, const gchar *external_id,
                    const gchar *source, const gchar *given, GError **error)
{
  /* the source is the proof of consent: it is kept with the event */
  const gchar *params[] = { external_id, source, given };
  PGresult *res = begin_on_student (
      db,
      "WITH s AS (UPDATE students"
      "  SET consent_given = COALESCE($3::timestamptz, now()),"
      "  consent_source = $2, consent_withdrawn = NULL"
      "  WHERE external_id = $1 RETURNING consent_given)"
      " SELECT (SELECT count(*) FROM s),"
      "  jsonb_build_object('source', $2::text,"
      "   'given', (SELECT consent_given FROM s))::text",
      3, params, error);
  if (!res)
    return FALSE;
  g_autofree gchar *d = g_strdup (PQgetvalue (res, 0, 1));
  PQclear (res);
  return audit_and_commit (db, actor, "consent", external_id, d, error);
}

gboolean
sx_student_withdraw (SxDb *db, const gchar *actor, const gchar *external_id,
                     guint *n_descriptors, GError **error)
{
  const gchar *params[] = { external_id };
  PGresult *res = begin_on_student (
      db,
      "WITH s AS (UPDATE students SET consent_withdrawn = now()"
      "  WHERE external_id = $1 RETURNING id),"
      " d AS (DELETE FROM face_descriptors"
      "  WHERE student IN (SELECT id FROM s) RETURNING 1)"
      " SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM d)",
      1, params, error);
  if (!res)
    return FALSE;
  *n_descriptors = (guint)column_u64 (res, 1);
  g_autofree gchar *d
      = detail ("descriptors_deleted", PQgetvalue (res, 0, 1), NULL);
  PQclear (res);
  return audit_and_commit (db, actor, "withdraw", external_id, d, error);
}

gboolean
sx_student_remove (SxDb *db, const gchar *actor, const gchar *external_id,
                   gboolean purge, guint *n_descriptors, guint *n_attendance,
                   GError **error)
{
  /* Every statement's CTEs see one snapshot: the counts are of what the
   * delete removes. The tombstone's time is the transaction's: spooled
   * sightings up to it are dropped, a later enrolment's are not. */
  static const gchar purge_sql[]
      = "WITH s AS (SELECT id FROM students WHERE external_id = $1),"
        " gone AS (DELETE FROM students WHERE id IN (SELECT id FROM s)"
        "  RETURNING 1),"
        " t AS (INSERT INTO erased_students (external_id)"
        "  SELECT $1 WHERE EXISTS (SELECT 1 FROM s)"
        "  ON CONFLICT (external_id) DO UPDATE SET erased = now()"
        "  RETURNING 1)"
        " SELECT (SELECT count(*) FROM gone),"
        "  (SELECT count(*) FROM face_descriptors"
        "   WHERE student IN (SELECT id FROM s)),"
        "  (SELECT count(*) FROM attendance"
        "   WHERE student IN (SELECT id FROM s)),"
        "  (SELECT count(*) FROM t)";
  static const gchar remove_sql[]
      = "WITH s AS (UPDATE students SET active = false"
        "  WHERE external_id = $1 RETURNING id),"
        " d AS (DELETE FROM face_descriptors"
        "  WHERE student IN (SELECT id FROM s) RETURNING 1)"
        " SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM d), 0";
  const gchar *params[] = { external_id };
  PGresult *res
      = begin_on_student (db, purge ? purge_sql : remove_sql, 1, params, error);
  if (!res)
    return FALSE;
  *n_descriptors = (guint)column_u64 (res, 1);
  *n_attendance = (guint)column_u64 (res, 2);
  g_autofree gchar *d
      = purge ? detail ("descriptors_deleted", PQgetvalue (res, 0, 1),
                        "attendance_deleted", PQgetvalue (res, 0, 2), NULL)
              : detail ("descriptors_deleted", PQgetvalue (res, 0, 1), NULL);
  PQclear (res);
  return audit_and_commit (db, actor, purge ? "purge" : "remove", external_id,
                           d, error);
}

gchar *
sx_student_export (SxDb *db, const gchar *actor, const gchar *external_id,
                   GError **error)
{
  /* PostgreSQL writes the document: every row as it is stored, minus the
   * internal ids. */
  const gchar *params[] = { external_id };
  PGresult *res = begin_on_student (
      db,
      "WITH s AS (SELECT * FROM students WHERE external_id = $1)"
      " SELECT (SELECT count(*) FROM s), jsonb_pretty(jsonb_build_object("
      "  'format', 'surveillx-subject-access', 'version', 1,"
      "  'exported', now(),"
      "  'student', (SELECT to_jsonb(s) - 'id' FROM s),"
      "  'face_descriptors', COALESCE((SELECT jsonb_agg(jsonb_build_object("
      "     'source_photo', d.source_photo, 'created', d.created,"
      "     'descriptor', d.descriptor) ORDER BY d.id)"
      "   FROM face_descriptors d JOIN s ON d.student = s.id), '[]'),"
      "  'attendance', COALESCE((SELECT jsonb_agg("
      "     to_jsonb(a) - 'id' - 'student' ORDER BY a.first_seen)"
      "   FROM attendance a JOIN s ON a.student = s.id), '[]'),"
      "  'lessons', COALESCE((SELECT jsonb_agg(l.lesson_id"
      "     ORDER BY l.lesson_id)"
      "   FROM lesson_students l JOIN s ON l.student = s.id), '[]'),"
      "  'audit_log', COALESCE((SELECT jsonb_agg("
      "     to_jsonb(g) - 'id' - 'external_id' ORDER BY g.id)"
      "   FROM audit_log g WHERE g.external_id = $1), '[]')))",
      1, params, error);
  if (!res)
    return NULL;
  gchar *json = g_strdup (PQgetvalue (res, 0, 1));
  PQclear (res);
  if (!audit_and_commit (db, actor, "export", external_id, NULL, error))
    g_clear_pointer (&json, g_free);
  return json;
}

gboolean
sx_retention_apply (SxDb *db, const gchar *actor, guint days,
                    guint64 *n_attendance, guint64 *n_events, GError **error)
{
  g_autofree gchar *days_text = g_strdup_printf ("%u", days);
  const gchar *params[] = { days_text };
  if (!begin (db, error))
    return FALSE;
  PGresult *res = sx_db_exec (
      db,
      "WITH a AS (DELETE FROM attendance"
      "  WHERE last_seen < now() - make_interval(days => $1::integer)"
      "  RETURNING 1),"
      " e AS (DELETE FROM attendance_events"
      "  WHERE applied < now() - make_interval(days => $1::integer)"
      "  RETURNING 1)"
      " SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM e)",
      1, params, error);
  if (!res)
    return end (db, FALSE, error);
  *n_attendance = column_u64 (res, 0);
  *n_events = column_u64 (res, 1);
  g_autofree gchar *d
      = detail ("days", days_text, "attendance_deleted", PQgetvalue (res, 0, 0),
                "events_deleted", PQgetvalue (res, 0, 1), NULL);
  PQclear (res);
  return audit_and_commit (db, actor, "retention", NULL, d, error);
}
