/* surveillx-gst — sxdb: the PostgreSQL layer (see sxdb.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sxdb.h"
#include "sxdb-migrations.h"

#include <string.h>

G_DEFINE_QUARK (sx - db - error - quark, sx_db_error)

#define SX_DB_REDACTED "********"
/* libpq's default is to wait forever for an unreachable host; a writer that
 * retries with backoff is better served by a bounded wait. */
#define SX_DB_DEFAULT_CONNECT_TIMEOUT "10"

struct _SxDb {
  PGconn *conn;
  gchar *schema;
  gchar *description;
  /* Strings that must never appear in a message: the password(s) */
  GPtrArray *secrets;
  /* PQcancel() is thread-safe only on a PGcancel made beforehand */
  GMutex cancel_lock;
  PGcancel *cancel;
  /* Start of the NOTIFY payloads that concern our schema */
  gchar *notify_prefix;
  SxDbNoticeFunc notice_func;
  gpointer notice_data;
};

/* ---- secrets -------------------------------------------------------- */

/* Every place a password can hide in a conninfo, found without libpq so it
 * also works when libpq cannot parse the string (its parse errors quote the
 * offending fragment, which may be the password). Overlong matches are
 * harmless: they only hide more. */
static void
collect_secrets (const gchar *conninfo, GPtrArray *secrets)
{
  const gchar *env;

  if (conninfo != NULL && *conninfo != '\0') {
    const gchar *p;

    /* URI: scheme://user:password@host... and ?password=... */
    p = strstr (conninfo, "://");
    if (p != NULL) {
      const gchar *userinfo = p + 3;
      const gchar *end = userinfo + strcspn (userinfo, "/?");
      const gchar *at = NULL, *q;

      for (q = userinfo; q < end; q++)
        if (*q == '@')
          at = q;
      if (at != NULL) {
        const gchar *colon = memchr (userinfo, ':', at - userinfo);
        if (colon != NULL && at - colon > 1) {
          gchar *raw = g_strndup (colon + 1, at - colon - 1);
          gchar *decoded = g_uri_unescape_string (raw, NULL);
          g_ptr_array_add (secrets, raw);
          if (decoded != NULL)
            g_ptr_array_add (secrets, decoded);
        }
      }
    }
    /* key=value (also matches URI query parameters) */
    for (p = conninfo; (p = strstr (p, "password")) != NULL; p += 8) {
      const gchar *v = p + 8;
      gsize len;

      while (*v == ' ' || *v == '\t')
        v++;
      if (*v != '=')
        continue;
      v++;
      while (*v == ' ' || *v == '\t')
        v++;
      if (*v == '\'') {
        const gchar *close = v + 1;
        while (*close != '\0' && *close != '\'')
          close += (*close == '\\' && close[1] != '\0') ? 2 : 1;
        len = close - v - 1;
        v++;
      } else {
        len = strcspn (v, " \t&");
      }
      if (len > 0) {
        gchar *raw = g_strndup (v, len);
        gchar *decoded = g_uri_unescape_string (raw, NULL);
        g_ptr_array_add (secrets, raw);
        if (decoded != NULL)
          g_ptr_array_add (secrets, decoded);
      }
    }
  }
  env = g_getenv ("PGPASSWORD");
  if (env != NULL && *env != '\0')
    g_ptr_array_add (secrets, g_strdup (env));
}

static gchar *
scrub (const gchar *message, GPtrArray *secrets)
{
  GString *text = g_string_new (message != NULL ? message : "");
  guint i;

  for (i = 0; secrets != NULL && i < secrets->len; i++) {
    const gchar *secret = g_ptr_array_index (secrets, i);
    if (*secret != '\0')
      g_string_replace (text, secret, SX_DB_REDACTED, 0);
  }
  /* libpq's messages end with a newline; GError messages should not */
  while (text->len > 0 && g_ascii_isspace (text->str[text->len - 1]))
    g_string_truncate (text, text->len - 1);
  return g_string_free (text, FALSE);
}

static GPtrArray *
secrets_for (const gchar *conninfo)
{
  GPtrArray *secrets = g_ptr_array_new_with_free_func (g_free);
  collect_secrets (conninfo, secrets);
  return secrets;
}

/* ---- conninfo ------------------------------------------------------- */

gboolean
sx_db_check_conninfo (const gchar *conninfo, GError **error)
{
  PQconninfoOption *options;
  char *parse_error = NULL;
  GPtrArray *secrets;
  gchar *clean;

  if (conninfo == NULL || *conninfo == '\0')
    return TRUE;

  options = PQconninfoParse (conninfo, &parse_error);
  if (options != NULL) {
    PQconninfoFree (options);
    return TRUE;
  }

  secrets = secrets_for (conninfo);
  clean = scrub (parse_error != NULL ? parse_error : "out of memory", secrets);
  g_set_error (error, SX_DB_ERROR, SX_DB_ERROR_CONNINFO,
               "Invalid PostgreSQL connection string: %s", clean);
  g_free (clean);
  g_ptr_array_unref (secrets);
  PQfreemem (parse_error);
  return FALSE;
}

gchar *
sx_db_redact_conninfo (const gchar *conninfo)
{
  PQconninfoOption *options, *o;
  GString *out;

  if (conninfo == NULL || *conninfo == '\0')
    return g_strdup ("(libpq defaults)");

  options = PQconninfoParse (conninfo, NULL);
  if (options == NULL)
    return g_strdup ("(unparsable connection string)");

  /* Rebuilt from the parsed options so URIs and key=value read the same,
   * and nothing the user typed is echoed raw. */
  out = g_string_new (NULL);
  for (o = options; o->keyword != NULL; o++) {
    if (o->val == NULL)
      continue;
    if (out->len > 0)
      g_string_append_c (out, ' ');
    if (g_str_equal (o->keyword, "password") || o->dispchar[0] == '*')
      g_string_append_printf (out, "%s=%s", o->keyword, SX_DB_REDACTED);
    else
      g_string_append_printf (out, "%s='%s'", o->keyword, o->val);
  }
  PQconninfoFree (options);
  return g_string_free (out, FALSE);
}

gboolean
sx_db_check_schema_name (const gchar *schema, GError **error)
{
  /* Identifiers are quoted everywhere, so any characters work; PostgreSQL
   * would silently truncate a long one to 63 bytes and "pg_" is reserved. */
  if (schema == NULL || *schema == '\0') {
    g_set_error (error, SX_DB_ERROR, SX_DB_ERROR_CONNINFO,
                 "The schema name is empty");
    return FALSE;
  }
  if (strlen (schema) > 63) {
    g_set_error (error, SX_DB_ERROR, SX_DB_ERROR_CONNINFO,
                 "Schema name \"%s\" is longer than PostgreSQL's 63 bytes",
                 schema);
    return FALSE;
  }
  if (g_str_has_prefix (schema, "pg_")) {
    g_set_error (error, SX_DB_ERROR, SX_DB_ERROR_CONNINFO,
                 "Schema name \"%s\" is reserved (pg_ prefix)", schema);
    return FALSE;
  }
  if (!g_utf8_validate (schema, -1, NULL)) {
    g_set_error (error, SX_DB_ERROR, SX_DB_ERROR_CONNINFO,
                 "Schema name is not valid UTF-8");
    return FALSE;
  }
  return TRUE;
}

/* ---- errors from results ------------------------------------------- */

static gboolean
sqlstate_is_transient (const gchar *state)
{
  if (state == NULL)
    return TRUE; /* no SQLSTATE: libpq lost the connection */
  return g_str_has_prefix (state, "08")    /* connection exception */
         || g_str_has_prefix (state, "53") /* insufficient resources */
         || g_str_equal (state, "57P01")   /* admin shutdown */
         || g_str_equal (state, "57P02")   /* crash shutdown */
         || g_str_equal (state, "57P03")   /* cannot connect now */
         || g_str_equal (state, "40001")   /* serialization failure */
         || g_str_equal (state, "40P01");  /* deadlock detected */
}

static void
set_result_error (SxDb *db, PGresult *res, GError **error)
{
  const gchar *state = res ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;
  const gchar *primary
      = res ? PQresultErrorField (res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  gboolean transient
      = PQstatus (db->conn) != CONNECTION_OK || sqlstate_is_transient (state);
  gchar *clean = scrub (primary != NULL ? primary : PQerrorMessage (db->conn),
                        db->secrets);
  gchar *code
      = state ? g_strdup_printf (" (SQLSTATE %s)", state) : g_strdup ("");

  g_set_error (error, SX_DB_ERROR,
               transient ? SX_DB_ERROR_CONNECT : SX_DB_ERROR_QUERY,
               "PostgreSQL %s: %s%s", db->description, clean, code);
  g_free (code);
  g_free (clean);
}

static PGresult *
check_result (SxDb *db, PGresult *res, GError **error)
{
  ExecStatusType status = res ? PQresultStatus (res) : PGRES_FATAL_ERROR;

  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
    return res;
  set_result_error (db, res, error);
  PQclear (res);
  return NULL;
}

/* ---- connection ----------------------------------------------------- */

static gchar *
describe (PGconn *conn)
{
  const gchar *host = PQhost (conn);
  return g_strdup_printf ("%s@%s:%s/%s", PQuser (conn),
                          (host != NULL && *host != '\0') ? host : "local",
                          PQport (conn), PQdb (conn));
}

SxDb *
sx_db_connect (const gchar *conninfo, const gchar *schema, GError **error)
{
  const gchar *keywords[8];
  const gchar *values[8];
  gint n = 0;
  SxDb *db;
  PGresult *res;
  gchar *quoted;
  const gchar *param[1];

  if (schema == NULL)
    schema = SX_DB_DEFAULT_SCHEMA;
  if (!sx_db_check_conninfo (conninfo, error)
      || !sx_db_check_schema_name (schema, error))
    return NULL;

  /* Options before "dbname" are defaults the expanded conninfo overrides;
   * client_encoding comes after because every string we send is UTF-8. */
  keywords[n] = "fallback_application_name";
  values[n++] = g_get_prgname () ? g_get_prgname () : "surveillx";
  if (g_getenv ("PGCONNECT_TIMEOUT") == NULL) {
    keywords[n] = "connect_timeout";
    values[n++] = SX_DB_DEFAULT_CONNECT_TIMEOUT;
  }
  keywords[n] = "dbname";
  values[n++] = conninfo != NULL ? conninfo : "";
  keywords[n] = "client_encoding";
  values[n++] = "UTF8";
  keywords[n] = NULL;
  values[n] = NULL;

  db = g_new0 (SxDb, 1);
  g_mutex_init (&db->cancel_lock);
  db->schema = g_strdup (schema);
  db->secrets = secrets_for (conninfo);
  db->conn = PQconnectdbParams (keywords, values, 1);
  if (db->conn == NULL) {
    g_set_error (error, SX_DB_ERROR, SX_DB_ERROR_CONNECT,
                 "Cannot connect to PostgreSQL: out of memory");
    sx_db_free (db);
    return NULL;
  }
  {
    /* the password libpq actually used may come from ~/.pgpass */
    const gchar *used = PQpass (db->conn);
    if (used != NULL && *used != '\0')
      g_ptr_array_add (db->secrets, g_strdup (used));
  }
  db->description = describe (db->conn);

  if (PQstatus (db->conn) != CONNECTION_OK) {
    gchar *clean = scrub (PQerrorMessage (db->conn), db->secrets);
    /* The server asked for a password: ours was wrong or missing. That is
     * configuration, not an outage, so callers should stop retrying. A
     * password that was sent is not enough to say so: a server that dies
     * during authentication ("terminating connection due to unexpected
     * postmaster exit") fails a connection that used one. Without a
     * PGresult there is no SQLSTATE, so the server's (English) message
     * decides; a localised one is retried like an outage, with warnings. */
    const gchar *message = PQerrorMessage (db->conn);
    gboolean auth = PQconnectionNeedsPassword (db->conn)
                    || (PQconnectionUsedPassword (db->conn)
                        && strstr (message, "authentication failed") != NULL);

    if (auth)
      g_set_error (error, SX_DB_ERROR, SX_DB_ERROR_AUTH,
                   "PostgreSQL refused the credentials for %s: %s",
                   db->description, clean);
    else
      g_set_error (error, SX_DB_ERROR, SX_DB_ERROR_CONNECT,
                   "Cannot connect to PostgreSQL %s: %s", db->description,
                   clean);
    g_free (clean);
    sx_db_free (db);
    return NULL;
  }

  /* search_path holds only our schema (pg_catalog is always searched
   * first), so migrations and statements use unqualified names. */
  quoted = PQescapeIdentifier (db->conn, schema, strlen (schema));
  if (quoted == NULL) {
    gchar *clean = scrub (PQerrorMessage (db->conn), db->secrets);
    g_set_error (error, SX_DB_ERROR, SX_DB_ERROR_CONNINFO,
                 "Unusable schema name: %s", clean);
    g_free (clean);
    sx_db_free (db);
    return NULL;
  }
  param[0] = quoted;
  res = sx_db_exec (db,
                    "SELECT pg_catalog.set_config('search_path', $1, false)", 1,
                    param, error);
  PQfreemem (quoted);
  if (res == NULL) {
    sx_db_free (db);
    return NULL;
  }
  PQclear (res);
  /* "schema already exists, skipping" on every start is noise on stderr
   * (libpq prints notices there); warnings and errors still come through. */
  if (!sx_db_command (db, "SET client_min_messages = warning", error)) {
    sx_db_free (db);
    return NULL;
  }

  g_mutex_lock (&db->cancel_lock);
  db->cancel = PQgetCancel (db->conn);
  g_mutex_unlock (&db->cancel_lock);
  return db;
}

void
sx_db_free (SxDb *db)
{
  if (db == NULL)
    return;
  g_mutex_lock (&db->cancel_lock);
  if (db->cancel != NULL)
    PQfreeCancel (db->cancel);
  db->cancel = NULL;
  g_mutex_unlock (&db->cancel_lock);
  if (db->conn != NULL)
    PQfinish (db->conn);
  g_mutex_clear (&db->cancel_lock);
  g_ptr_array_unref (db->secrets);
  g_free (db->schema);
  g_free (db->description);
  g_free (db->notify_prefix);
  g_free (db);
}

PGconn *
sx_db_get_conn (SxDb *db)
{
  return db->conn;
}

const gchar *
sx_db_get_schema (SxDb *db)
{
  return db->schema;
}

const gchar *
sx_db_get_description (SxDb *db)
{
  return db->description;
}

gboolean
sx_db_is_ok (SxDb *db)
{
  return db != NULL && PQstatus (db->conn) == CONNECTION_OK;
}

gboolean
sx_db_error_is_transient (const GError *error)
{
  return error != NULL && error->domain == SX_DB_ERROR
         && error->code == SX_DB_ERROR_CONNECT;
}

void
sx_db_cancel (SxDb *db)
{
  char errbuf[256];

  g_mutex_lock (&db->cancel_lock);
  if (db->cancel != NULL)
    PQcancel (db->cancel, errbuf, sizeof errbuf);
  g_mutex_unlock (&db->cancel_lock);
}

/* ---- statements ----------------------------------------------------- */

PGresult *
sx_db_exec (SxDb *db, const gchar *sql, gint n_params,
            const gchar *const *params, GError **error)
{
  return check_result (
      db, PQexecParams (db->conn, sql, n_params, NULL, params, NULL, NULL, 0),
      error);
}

gboolean
sx_db_prepare (SxDb *db, const gchar *name, const gchar *sql, gint n_params,
               GError **error)
{
  PGresult *res = check_result (
      db, PQprepare (db->conn, name, sql, n_params, NULL), error);

  if (res == NULL)
    return FALSE;
  PQclear (res);
  return TRUE;
}

PGresult *
sx_db_exec_prepared (SxDb *db, const gchar *name, gint n_params,
                     const gchar *const *params, GError **error)
{
  return check_result (
      db, PQexecPrepared (db->conn, name, n_params, params, NULL, NULL, 0),
      error);
}

gboolean
sx_db_command (SxDb *db, const gchar *sql, GError **error)
{
  PGresult *res = sx_db_exec (db, sql, 0, NULL, error);

  if (res == NULL)
    return FALSE;
  PQclear (res);
  return TRUE;
}

/* ---- migrations ----------------------------------------------------- */

guint
sx_db_latest_version (void)
{
  return sx_db_n_migrations > 0
             ? sx_db_migrations[sx_db_n_migrations - 1].version
             : 0;
}

static gboolean
schema_exists (SxDb *db, gboolean *exists, GError **error)
{
  const gchar *param[1] = { db->schema };
  PGresult *res = sx_db_exec (
      db, "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", 1, param,
      error);

  if (res == NULL)
    return FALSE;
  *exists = PQntuples (res) > 0;
  PQclear (res);
  return TRUE;
}

/* Highest applied version, 0 when schema_migrations does not exist. */
static gboolean
applied_version (SxDb *db, guint *version, GError **error)
{
  PGresult *res;
  const gchar *param[1] = { db->schema };

  res = sx_db_exec (db,
                    "SELECT 1 FROM pg_catalog.pg_tables "
                    "WHERE schemaname = $1 AND tablename = 'schema_migrations'",
                    1, param, error);
  if (res == NULL)
    return FALSE;
  if (PQntuples (res) == 0) {
    PQclear (res);
    *version = 0;
    return TRUE;
  }
  PQclear (res);
  res = sx_db_exec (db,
                    "SELECT COALESCE(max(version), 0) FROM schema_migrations",
                    0, NULL, error);
  if (res == NULL)
    return FALSE;
  *version = (guint)g_ascii_strtoull (PQgetvalue (res, 0, 0), NULL, 10);
  PQclear (res);
  return TRUE;
}

static gchar *
migration_checksum (const SxDbMigration *m)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, m->sql, -1);
}

void
sx_db_set_notice_func (SxDb *db, SxDbNoticeFunc func, gpointer user_data)
{
  db->notice_func = func;
  db->notice_data = user_data;
}

static void notice (SxDb *db, const gchar *format, ...) G_GNUC_PRINTF (2, 3);

static void
notice (SxDb *db, const gchar *format, ...)
{
  va_list args;
  g_autofree gchar *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  if (db->notice_func != NULL)
    db->notice_func (message, db->notice_data);
  else
    g_printerr ("sxdb: %s\n", message);
}

/* Warns (does not fail) when an applied migration's text was edited
 * afterwards: the database is what it is, but someone should know. */
static void
verify_checksums (SxDb *db)
{
  PGresult *res = sx_db_exec (
      db, "SELECT version, checksum FROM schema_migrations ORDER BY version", 0,
      NULL, NULL);
  gint i;

  if (res == NULL)
    return;
  for (i = 0; i < PQntuples (res); i++) {
    guint version = (guint)g_ascii_strtoull (PQgetvalue (res, i, 0), NULL, 10);
    if (version >= 1 && version <= sx_db_n_migrations) {
      gchar *sum = migration_checksum (&sx_db_migrations[version - 1]);
      if (!g_str_equal (sum, PQgetvalue (res, i, 1)))
        notice (db,
                "migration %03u in schema \"%s\" was applied from "
                "different SQL than this build carries",
                version, db->schema);
      g_free (sum);
    }
  }
  PQclear (res);
}

gboolean
sx_db_migrate (SxDb *db, GError **error)
{
  gchar *quoted, *sql;
  const gchar *param[3];
  PGresult *res;
  guint version, i;
  gboolean ok = FALSE;

  if (!sx_db_command (db, "BEGIN", error))
    return FALSE;

  /* Several cameras start together: one migrates, the others wait here and
   * then find nothing left to do. */
  param[0] = db->schema;
  res = sx_db_exec (db,
                    "SELECT pg_catalog.pg_advisory_xact_lock("
                    "pg_catalog.hashtext('surveillx-migrate:' || $1))",
                    1, param, error);
  if (res == NULL)
    goto out;
  PQclear (res);

  quoted = PQescapeIdentifier (db->conn, db->schema, strlen (db->schema));
  if (quoted == NULL) {
    g_set_error (error, SX_DB_ERROR, SX_DB_ERROR_CONNINFO,
                 "Unusable schema name \"%s\"", db->schema);
    goto out;
  }
  sql = g_strdup_printf ("CREATE SCHEMA IF NOT EXISTS %s", quoted);
  PQfreemem (quoted);
  ok = sx_db_command (db, sql, error);
  g_free (sql);
  if (!ok)
    goto out;
  ok = FALSE;

  if (!sx_db_command (db,
                      "CREATE TABLE IF NOT EXISTS schema_migrations ("
                      " version integer PRIMARY KEY,"
                      " name text NOT NULL,"
                      " checksum text NOT NULL,"
                      " applied timestamptz NOT NULL DEFAULT now())",
                      error))
    goto out;
  if (!applied_version (db, &version, error))
    goto out;
  if (version > sx_db_latest_version ())
    notice (db,
            "schema \"%s\" is at version %u, newer than this build's %u; "
            "continuing",
            db->schema, version, sx_db_latest_version ());

  for (i = version; i < sx_db_n_migrations; i++) {
    const SxDbMigration *m = &sx_db_migrations[i];
    gchar *version_text = g_strdup_printf ("%u", m->version);
    gchar *sum = migration_checksum (m);

    /* Static SQL from the repository, possibly several statements: the
     * one place PQexec is right. No data is interpolated into it. */
    res = check_result (db, PQexec (db->conn, m->sql), error);
    if (res == NULL) {
      g_prefix_error (error, "Migration %03u_%s failed: ", m->version, m->name);
      g_free (version_text);
      g_free (sum);
      goto out;
    }
    PQclear (res);
    param[0] = version_text;
    param[1] = m->name;
    param[2] = sum;
    res = sx_db_exec (db,
                      "INSERT INTO schema_migrations "
                      "(version, name, checksum) VALUES ($1::integer, $2, $3)",
                      3, param, error);
    g_free (version_text);
    g_free (sum);
    if (res == NULL)
      goto out;
    PQclear (res);
  }
  verify_checksums (db);
  ok = sx_db_command (db, "COMMIT", error);

out:
  if (!ok && PQtransactionStatus (db->conn) != PQTRANS_IDLE)
    sx_db_command (db, "ROLLBACK", NULL);
  return ok;
}

gboolean
sx_db_check_version (SxDb *db, GError **error)
{
  gboolean exists;
  guint version;

  if (!schema_exists (db, &exists, error))
    return FALSE;
  if (!exists) {
    g_set_error (
        error, SX_DB_ERROR, SX_DB_ERROR_SCHEMA,
        "Schema \"%s\" does not exist in %s; create it by applying the "
        "migrations (migrate=true, or surveillx-enroll)",
        db->schema, db->description);
    return FALSE;
  }
  if (!applied_version (db, &version, error))
    return FALSE;
  if (version < sx_db_latest_version ()) {
    g_set_error (
        error, SX_DB_ERROR, SX_DB_ERROR_SCHEMA,
        "Schema \"%s\" in %s is at version %u, this build needs %u; apply "
        "the migrations (migrate=true, or surveillx-enroll)",
        db->schema, db->description, version, sx_db_latest_version ());
    return FALSE;
  }
  return TRUE;
}

/* ---- notifications ------------------------------------------------- */

gboolean
sx_db_listen (SxDb *db, GError **error)
{
  const gchar *param[1] = { db->schema };
  PGresult *res;
  gchar *prefix;

  if (!sx_db_command (db, "LISTEN " SX_DB_GALLERY_CHANNEL, error))
    return FALSE;
  /* Let the server spell the payload's start exactly as the trigger does,
   * JSON escaping included, so filtering needs no JSON parser. */
  res = sx_db_exec (
      db, "SELECT pg_catalog.json_build_object('schema', $1::text)::text", 1,
      param, error);
  if (res == NULL)
    return FALSE;
  prefix = g_strdup (PQgetvalue (res, 0, 0));
  PQclear (res);
  if (g_str_has_suffix (prefix, "}"))
    prefix[strlen (prefix) - 1] = '\0';
  g_free (db->notify_prefix);
  db->notify_prefix = prefix;
  return TRUE;
}

gint
sx_db_get_socket (SxDb *db)
{
  return PQsocket (db->conn);
}

gchar **
sx_db_take_notifications (SxDb *db, GError **error)
{
  GPtrArray *payloads;
  PGnotify *notify;

  if (!PQconsumeInput (db->conn) || PQstatus (db->conn) != CONNECTION_OK) {
    gchar *clean = scrub (PQerrorMessage (db->conn), db->secrets);
    g_set_error (error, SX_DB_ERROR, SX_DB_ERROR_CONNECT, "PostgreSQL %s: %s",
                 db->description, clean);
    g_free (clean);
    return NULL;
  }
  payloads = g_ptr_array_new ();
  while ((notify = PQnotifies (db->conn)) != NULL) {
    if (g_str_equal (notify->relname, SX_DB_GALLERY_CHANNEL)
        && (db->notify_prefix == NULL
            || g_str_has_prefix (notify->extra, db->notify_prefix)))
      g_ptr_array_add (payloads, g_strdup (notify->extra));
    PQfreemem (notify);
  }
  g_ptr_array_add (payloads, NULL);
  return (gchar **)g_ptr_array_free (payloads, FALSE);
}

/* ---- descriptors ---------------------------------------------------- */

gchar *
sx_db_format_descriptor (const gfloat *values, gsize n_values)
{
  GString *out = g_string_new ("{");
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
  gsize i;

  for (i = 0; i < n_values; i++) {
    if (i > 0)
      g_string_append_c (out, ',');
    /* %.9g round-trips a float exactly; g_ascii_ keeps '.' in any locale */
    g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.9g", values[i]));
  }
  g_string_append_c (out, '}');
  return g_string_free (out, FALSE);
}

gboolean
sx_db_parse_descriptor (const gchar *text, gfloat *values, gsize n_values,
                        GError **error)
{
  const gchar *p = text;
  gsize i;

  if (p == NULL || *p != '{')
    goto bad;
  p++;
  for (i = 0; i < n_values; i++) {
    gchar *end;
    gdouble v = g_ascii_strtod (p, &end);
    if (end == p)
      goto bad;
    values[i] = (gfloat)v;
    p = end;
    if (*p == (i + 1 < n_values ? ',' : '}'))
      p++;
    else
      goto bad;
  }
  if (*p == '\0')
    return TRUE;
bad:
  g_set_error (error, SX_DB_ERROR, SX_DB_ERROR_QUERY,
               "Not a %" G_GSIZE_FORMAT "-value descriptor: \"%.40s\"",
               n_values, text ? text : "(null)");
  return FALSE;
}
