/* surveillx-gst — sxdb: the PostgreSQL layer shared by attendancesink, the
 * facerecog gallery and surveillx-enroll.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Plain GLib + libpq, no GStreamer, so command-line tools can link it.
 * An SxDb is one connection whose search_path is the surveillx schema:
 * every statement uses unqualified table names (docs/database.md). An SxDb
 * is not thread-safe except sx_db_cancel(); use one per thread.
 *
 * Error messages never contain the password: everything libpq or the
 * server says passes through the same scrubber before it reaches a GError.
 */
#ifndef SX_DB_H
#define SX_DB_H

#include <glib.h>
#include <libpq-fe.h>

G_BEGIN_DECLS

#define SX_DB_DEFAULT_SCHEMA "surveillx"
/* NOTIFY channel; the payload is JSON {schema, table, op, student} */
#define SX_DB_GALLERY_CHANNEL "surveillx_gallery"
#define SX_DB_DESCRIPTOR_SIZE 128

#define SX_DB_ERROR (sx_db_error_quark ())
GQuark sx_db_error_quark (void);

typedef enum {
  /* The conninfo does not parse, or the schema name is unusable.
   * Permanent: retrying will not help. */
  SX_DB_ERROR_CONNINFO,
  /* The server refused our credentials (wrong or missing password).
   * Permanent. */
  SX_DB_ERROR_AUTH,
  /* The server could not be reached or the connection broke, or it said
   * "try again" (starting up, too many clients, serialization failure).
   * Transient: retry with backoff. */
  SX_DB_ERROR_CONNECT,
  /* The schema is missing, or not at the version this build needs. */
  SX_DB_ERROR_SCHEMA,
  /* A statement failed for a reason retrying will not fix. */
  SX_DB_ERROR_QUERY,
} SxDbError;

typedef struct _SxDb SxDb;

/* Something about the database a person should know that is not an error
 * (a migration applied from other SQL, a schema newer than this build).
 * The elements pass it to GStreamer's debug log on their own object, the
 * tools print it. */
typedef void (*SxDbNoticeFunc) (const gchar *message, gpointer user_data);

/* Conninfo helpers (no network) */
gboolean sx_db_check_conninfo (const gchar *conninfo, GError **error);
gchar *sx_db_redact_conninfo (const gchar *conninfo);
gboolean sx_db_check_schema_name (const gchar *schema, GError **error);

/* Connects (empty or NULL conninfo: libpq defaults and PG* environment) and
 * points search_path at @schema (NULL: SX_DB_DEFAULT_SCHEMA). Does not
 * create or check the schema: call sx_db_migrate() or sx_db_check_version().
 * Adds connect_timeout=10 unless the conninfo or PGCONNECT_TIMEOUT sets one. */
SxDb *sx_db_connect (const gchar *conninfo, const gchar *schema,
                     GError **error);
void sx_db_free (SxDb *db);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SxDb, sx_db_free)

/* Where notices go (NULL: standard error, prefixed "sxdb: "). */
void sx_db_set_notice_func (SxDb *db, SxDbNoticeFunc func, gpointer user_data);

PGconn *sx_db_get_conn (SxDb *db);
const gchar *sx_db_get_schema (SxDb *db);
/* "user@host:port/dbname", for log lines */
const gchar *sx_db_get_description (SxDb *db);

/* Creates the schema if needed and applies the pending embedded migrations
 * in one transaction, serialised against concurrent callers by an advisory
 * lock. Safe to call from every process at every start. */
gboolean sx_db_migrate (SxDb *db, GError **error);
/* Checks without changing anything: schema exists and is at
 * sx_db_latest_version(); otherwise SX_DB_ERROR_SCHEMA naming the fix. */
gboolean sx_db_check_version (SxDb *db, GError **error);
guint sx_db_latest_version (void);

/* Parameterised statement (text parameters, text results). Returns a
 * PGresult to PQclear() when the status is COMMAND_OK or TUPLES_OK, else
 * NULL with SX_DB_ERROR_CONNECT (transient) or SX_DB_ERROR_QUERY. */
PGresult *sx_db_exec (SxDb *db, const gchar *sql, gint n_params,
                      const gchar *const *params, GError **error);
/* The same for a statement prepared once per connection under @name. */
gboolean sx_db_prepare (SxDb *db, const gchar *name, const gchar *sql,
                        gint n_params, GError **error);
PGresult *sx_db_exec_prepared (SxDb *db, const gchar *name, gint n_params,
                               const gchar *const *params, GError **error);
/* BEGIN / COMMIT / ROLLBACK and other parameterless commands */
gboolean sx_db_command (SxDb *db, const gchar *sql, GError **error);

gboolean sx_db_is_ok (SxDb *db);
gboolean sx_db_error_is_transient (const GError *error);
/* Thread-safe: asks the server to abandon the running statement. */
void sx_db_cancel (SxDb *db);

/* Gallery notifications: LISTEN, then wait on sx_db_get_socket() and call
 * sx_db_take_notifications() when it is readable. Returns the payloads
 * (NULL-terminated, maybe empty) or NULL with an error when the
 * connection broke. Only payloads for this SxDb's schema are returned. */
gboolean sx_db_listen (SxDb *db, GError **error);
gint sx_db_get_socket (SxDb *db);
gchar **sx_db_take_notifications (SxDb *db, GError **error);

/* Descriptors as PostgreSQL real[] text: "{0.1,-0.2,...}" */
gchar *sx_db_format_descriptor (const gfloat *values, gsize n_values);
gboolean sx_db_parse_descriptor (const gchar *text, gfloat *values,
                                 gsize n_values, GError **error);

G_END_DECLS

#endif /* SX_DB_H */
