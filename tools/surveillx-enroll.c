/* surveillx-enroll — enrol students' faces into PostgreSQL or a descriptor
 * file, list and remove them, move galleries between the two; and the rest
 * of a student's data lifecycle in the database (studentdata.c): consent,
 * withdrawal, erasure, subject access, retention, lesson registers.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Uses the same analyzer (HOG, landmarks, ResNet) and model cache as the
 * facerecog element, so a descriptor enrolled here matches what the element
 * computes from video.
 */
#include "analyzer.h"
#include "gallery.h"
#include "gallerydb.h"
#include "models.h"
#include "studentdata.h"
#include "sxdb.h"
#include "sxjson.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <stdio.h>
#include <string.h>

static gchar *opt_db;
static gchar *opt_file;
static gchar *opt_schema;
static gchar *opt_landmarks;
static gchar *opt_recognition;
static gchar *opt_id;
static gchar *opt_name;
static gchar *opt_consent;
static gchar *opt_consent_date;
static gchar *opt_actor;
static gboolean opt_purge;
static gint opt_days = -1;
static gchar *opt_lesson;
static gchar *opt_date;

static GOptionEntry entries[]
    = { { "db", 'd', 0, G_OPTION_ARG_STRING, &opt_db,
          "PostgreSQL conninfo or URI (\"\" = libpq defaults / PG* variables)",
          "CONNINFO" },
        { "file", 'f', 0, G_OPTION_ARG_FILENAME, &opt_file,
          "A descriptor file instead of a database (add, list, remove)",
          "FILE" },
        { "schema", 's', 0, G_OPTION_ARG_STRING, &opt_schema,
          "PostgreSQL schema (default " SX_DB_DEFAULT_SCHEMA ")", "SCHEMA" },
        { "landmark-model", 0, 0, G_OPTION_ARG_FILENAME, &opt_landmarks,
          "dlib shape predictor (68- or 5-point)", "PATH" },
        { "recognition-model", 0, 0, G_OPTION_ARG_FILENAME, &opt_recognition,
          "dlib face recognition ResNet", "PATH" },
        { "id", 'i', 0, G_OPTION_ARG_STRING, &opt_id,
          "Student id (number) for add and remove", "ID" },
        { "name", 'n', 0, G_OPTION_ARG_STRING, &opt_name,
          "Student name for add", "NAME" },
        { "consent", 'c', 0, G_OPTION_ARG_STRING, &opt_consent,
          "Where the consent is recorded, for add, import and consent (e.g. "
          "\"form 2026-09 signed by parent\")",
          "SOURCE" },
        { "consent-date", 0, 0, G_OPTION_ARG_STRING, &opt_consent_date,
          "When the consent was given (YYYY-MM-DD, default now)", "DATE" },
        { "purge", 0, 0, G_OPTION_ARG_NONE, &opt_purge,
          "remove: erase the student, their attendance and what cameras "
          "still spool, not only their faces",
          NULL },
        { "days", 0, 0, G_OPTION_ARG_INT, &opt_days,
          "retention: keep attendance this many days", "N" },
        { "lesson", 'l', 0, G_OPTION_ARG_STRING, &opt_lesson,
          "register: the lesson id of the timetable", "LESSON" },
        { "date", 0, 0, G_OPTION_ARG_STRING, &opt_date,
          "register: the day (YYYY-MM-DD, default today)", "DATE" },
        { "actor", 'a', 0, G_OPTION_ARG_STRING, &opt_actor,
          "Who is acting, for the audit log (default $SUDO_USER or the "
          "login name)",
          "NAME" },
        { NULL } };

static const gchar summary[]
    = "Commands:\n"
      "  add --id ID --name NAME --consent SOURCE PHOTO...\n"
      "                       enrol a student from photos, each showing\n"
      "                       exactly one face (--consent: database only)\n"
      "  list                 students, descriptor counts, consent\n"
      "  remove --id ID       end an enrolment: faces deleted, attendance "
      "kept\n"
      "  remove --id ID --purge\n"
      "                       erase the student: faces, attendance, lesson\n"
      "                       places, and sightings cameras still spool\n"
      "  consent --id ID --consent SOURCE [--consent-date YYYY-MM-DD]\n"
      "                       record consent\n"
      "  withdraw --id ID     consent withdrawn: faces deleted at once, no\n"
      "                       camera names the student any more\n"
      "  export --id ID [FILE]  everything held about a student (JSON)\n"
      "  retention --days N   delete attendance older than N days\n"
      "  register --lesson LESSON [--date YYYY-MM-DD]\n"
      "                       present, late and absent for one lesson\n"
      "  audit [--id ID]      the audit log\n"
      "  export FILE          database -> descriptor file\n"
      "  import --consent SOURCE FILE   descriptor file -> database\n"
      "\n"
      "Targets: --db CONNINFO (migrations applied on first use) or --file "
      "FILE\n"
      "(a facerecog descriptor file, for galleries without a database: add,\n"
      "list and remove only; it keeps no consent or audit records).\n"
      "Every change to the database is written to its audit log.";

/* Who acts, for the audit log: an operator using sudo is named, not
 * root. */
static const gchar *
actor (void)
{
  if (opt_actor && *opt_actor)
    return opt_actor;
  const gchar *sudo_user = g_getenv ("SUDO_USER");
  return sudo_user && *sudo_user ? sudo_user : g_get_user_name ();
}

/* A calendar date, not after today: consent is recorded once given. */
static gboolean
consent_date_is_valid (const gchar *text)
{
  guint year, month, day;
  gchar end;
  if (sscanf (text, "%4u-%2u-%2u%c", &year, &month, &day, &end) != 3
      || !g_date_valid_dmy ((GDateDay)day, (GDateMonth)month, (GDateYear)year))
    return FALSE;
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autoptr (GDateTime) date
      = g_date_time_new_local ((gint)year, (gint)month, (gint)day, 0, 0, 0);
  return date && g_date_time_compare (date, now) <= 0;
}

static gboolean
needs_id (const gchar *command)
{
  if (opt_id && *opt_id)
    return TRUE;
  g_printerr ("%s: needs --id ID\n", command);
  return FALSE;
}

static SxDb *
open_db (GError **error)
{
  SxDb *db = sx_db_connect (opt_db, opt_schema, error);
  if (db && !sx_db_migrate (db, error))
    g_clear_pointer (&db, sx_db_free);
  return db;
}

/* The file target: an absent file is an empty gallery. */
static SxGallery *
open_file_gallery (GError **error)
{
  if (!g_file_test (opt_file, G_FILE_TEST_EXISTS))
    return sx_gallery_new ();
  return sx_gallery_load_file (opt_file, error);
}

static int
cmd_add (gchar **photos, gint n_photos)
{
  if (!opt_id || !*opt_id || n_photos == 0) {
    g_printerr ("add: needs --id ID and at least one photo\n");
    return 2;
  }
  if (!opt_file && (!opt_consent || !*opt_consent)) {
    g_printerr ("add: needs --consent SOURCE: where the consent to process "
                "this student's face is recorded (docs/privacy.md)\n");
    return 2;
  }
  g_autoptr (GError) error = NULL;
  g_autofree gchar *recognition = opt_recognition
                                      ? g_strdup (opt_recognition)
                                      : sx_models_default_recognition ();
  const gchar *landmarks
      = opt_landmarks ? opt_landmarks : sx_models_default_landmarks ();
  g_autoptr (SxAnalyzer) analyzer
      = sx_analyzer_new (landmarks, recognition, &error);
  if (!analyzer) {
    g_printerr ("%s\n", error->message);
    return 1;
  }

  /* Describe every photo first: one bad photo is reported and skipped,
   * the good ones go in together. */
  g_autoptr (SxGallery) fresh = sx_gallery_new ();
  guint failed = 0;
  for (gint i = 0; i < n_photos; i++) {
    gfloat descriptor[SX_FACE_DESCRIPTOR_LEN];
    g_autoptr (GError) photo_error = NULL;
    if (!sx_analyzer_describe_photo (analyzer, photos[i], descriptor,
                                     &photo_error)) {
      g_printerr ("%s: not enrolled: %s\n", photos[i], photo_error->message);
      failed++;
      continue;
    }
    g_autofree gchar *base = g_path_get_basename (photos[i]);
    sx_gallery_add (fresh, opt_id, opt_name ? opt_name : opt_id, descriptor,
                    base);
  }
  guint added = sx_gallery_n_descriptors (fresh);
  if (added > 0) {
    if (opt_file) {
      g_autoptr (SxGallery) all = open_file_gallery (&error);
      for (guint i = 0; all && i < added; i++) {
        const gchar *id, *name, *source;
        const gfloat *d;
        sx_gallery_get_entry (fresh, i, &id, &name, &d, &source);
        sx_gallery_add (all, id, name, d, source);
      }
      if (!all || !sx_gallery_save_file (all, opt_file, &error)) {
        g_printerr ("%s: %s\n", opt_file, error->message);
        return 1;
      }
    } else {
      g_autoptr (SxDb) db = open_db (&error);
      GString *detail = g_string_new (NULL);
      g_string_append_printf (detail,
                              "{\"photos\": %u, \"consent_source\": ", added);
      sx_json_append_string (detail, opt_consent);
      g_string_append_c (detail, '}');
      gboolean ok
          = db && sx_db_command (db, "BEGIN", &error)
            && sx_gallery_store_db (fresh, db, opt_consent, opt_consent_date,
                                    &error)
            && sx_audit (db, actor (), "enrol", opt_id, detail->str, &error)
            && sx_db_command (db, "COMMIT", &error);
      g_string_free (detail, TRUE);
      if (!ok) {
        g_printerr ("%s\n", error->message);
        return 1;
      }
    }
  }
  g_print ("%s: %u photo(s) enrolled, %u refused\n", opt_id, added, failed);
  return failed ? 1 : 0;
}

static int
cmd_list (void)
{
  g_autoptr (GError) error = NULL;
  if (opt_file) {
    g_autoptr (SxGallery) g = open_file_gallery (&error);
    if (!g) {
      g_printerr ("%s\n", error->message);
      return 1;
    }
    /* descriptors are stored person by person */
    const gchar *last_id = NULL, *last_name = NULL;
    guint count = 0;
    for (guint i = 0; i < sx_gallery_n_descriptors (g); i++) {
      const gchar *id, *name, *source;
      const gfloat *d;
      sx_gallery_get_entry (g, i, &id, &name, &d, &source);
      if (last_id && g_strcmp0 (id, last_id) != 0) {
        g_print ("%s\t%s\tactive\t%u\n", last_id, last_name, count);
        count = 0;
      }
      last_id = id;
      last_name = name;
      count++;
    }
    if (last_id)
      g_print ("%s\t%s\tactive\t%u\n", last_id, last_name, count);
    return 0;
  }
  g_autoptr (SxDb) db = open_db (&error);
  PGresult *res
      = db ? sx_db_exec (
            db,
            "SELECT s.external_id, s.name, s.active, count(d.id),"
            " CASE WHEN s.consent_withdrawn IS NOT NULL"
            "  THEN 'consent withdrawn ' || s.consent_withdrawn::date"
            "  WHEN s.consent_given IS NULL THEN 'no consent'"
            "  ELSE 'consent ' || s.consent_given::date || ': '"
            "   || s.consent_source END "
            "FROM students s LEFT JOIN face_descriptors d ON d.student = s.id "
            "GROUP BY s.id ORDER BY s.external_id",
            0, NULL, &error)
           : NULL;
  if (!res) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  for (gint r = 0; r < PQntuples (res); r++)
    g_print ("%s\t%s\t%s\t%s\t%s\n", PQgetvalue (res, r, 0),
             PQgetvalue (res, r, 1),
             g_str_equal (PQgetvalue (res, r, 2), "t") ? "active" : "inactive",
             PQgetvalue (res, r, 3), PQgetvalue (res, r, 4));
  PQclear (res);
  return 0;
}

static int
cmd_remove (void)
{
  if (!needs_id ("remove"))
    return 2;
  g_autoptr (GError) error = NULL;
  if (opt_file) {
    if (opt_purge) {
      g_printerr ("remove --purge: a descriptor file holds faces only; "
                  "remove deletes them\n");
      return 2;
    }
    g_autoptr (SxGallery) g = open_file_gallery (&error);
    g_autoptr (SxGallery) kept = g ? sx_gallery_copy_without (g, opt_id) : NULL;
    if (!kept || !sx_gallery_save_file (kept, opt_file, &error)) {
      g_printerr ("%s\n", error->message);
      return 1;
    }
    if (sx_gallery_n_people (g) == sx_gallery_n_people (kept)) {
      g_printerr ("remove: no student '%s'\n", opt_id);
      return 1;
    }
    g_print ("%s: removed\n", opt_id);
    return 0;
  }
  g_autoptr (SxDb) db = open_db (&error);
  guint descriptors = 0, attendance = 0;
  if (!db
      || !sx_student_remove (db, actor (), opt_id, opt_purge, &descriptors,
                             &attendance, &error)) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  if (opt_purge)
    g_print ("%s: erased (%u face descriptors, %u attendance rows; spooled "
             "sightings will be dropped)\n",
             opt_id, descriptors, attendance);
  else
    g_print ("%s: removed (%u face descriptors; attendance kept)\n", opt_id,
             descriptors);
  return 0;
}

static int
cmd_consent (void)
{
  if (!needs_id ("consent"))
    return 2;
  if (!opt_consent || !*opt_consent) {
    g_printerr ("consent: needs --consent SOURCE\n");
    return 2;
  }
  g_autoptr (GError) error = NULL;
  g_autoptr (SxDb) db = open_db (&error);
  if (!db
      || !sx_student_consent (db, actor (), opt_id, opt_consent,
                              opt_consent_date, &error)) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  g_print ("%s: consent recorded\n", opt_id);
  return 0;
}

static int
cmd_withdraw (void)
{
  if (!needs_id ("withdraw"))
    return 2;
  g_autoptr (GError) error = NULL;
  g_autoptr (SxDb) db = open_db (&error);
  guint descriptors = 0;
  if (!db
      || !sx_student_withdraw (db, actor (), opt_id, &descriptors, &error)) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  g_print ("%s: consent withdrawn, %u face descriptors deleted\n", opt_id,
           descriptors);
  return 0;
}

/* Subject access: to FILE (created 0600: it is personal data) or stdout */
static int
cmd_export_student (const gchar *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SxDb) db = open_db (&error);
  g_autofree gchar *json
      = db ? sx_student_export (db, actor (), opt_id, &error) : NULL;
  if (!json) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  if (!path) {
    g_print ("%s\n", json);
    return 0;
  }
  gint fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  FILE *out = fd >= 0 ? fdopen (fd, "w") : NULL;
  if (out == NULL || fputs (json, out) < 0 || fputc ('\n', out) < 0
      || fclose (out) != 0) {
    g_printerr ("%s: %s\n", path, g_strerror (errno));
    return 1;
  }
  g_print ("%s: exported to %s\n", opt_id, path);
  return 0;
}

static int
cmd_retention (void)
{
  if (opt_days < 1) {
    g_printerr ("retention: needs --days N (1 or more)\n");
    return 2;
  }
  g_autoptr (GError) error = NULL;
  g_autoptr (SxDb) db = open_db (&error);
  guint64 attendance = 0, events = 0;
  if (!db
      || !sx_retention_apply (db, actor (), (guint)opt_days, &attendance,
                              &events, &error)) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  g_print ("retention %d days: %" G_GUINT64_FORMAT
           " attendance rows, %" G_GUINT64_FORMAT " event ids deleted\n",
           opt_days, attendance, events);
  return 0;
}

/* Prints the rows of @sql, tab-separated. */
static int
print_query (const gchar *sql, gint n_params, const gchar *const *params)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SxDb) db = open_db (&error);
  PGresult *res = db ? sx_db_exec (db, sql, n_params, params, &error) : NULL;
  if (!res) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  for (gint r = 0; r < PQntuples (res); r++)
    for (gint c = 0; c < PQnfields (res); c++)
      g_print ("%s%c", PQgetvalue (res, r, c),
               c + 1 < PQnfields (res) ? '\t' : '\n');
  PQclear (res);
  return 0;
}

static int
cmd_register (void)
{
  if (!opt_lesson || !*opt_lesson) {
    g_printerr ("register: needs --lesson LESSON\n");
    return 2;
  }
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree gchar *today = g_date_time_format (now, "%Y-%m-%d");
  const gchar *params[] = { opt_lesson, opt_date ? opt_date : today };
  return print_query (
      "SELECT external_id, name, status, COALESCE(first_seen::text, ''),"
      " COALESCE(last_seen::text, ''), COALESCE(camera_id, '')"
      " FROM lesson_register($1, $2::date)",
      2, params);
}

static int
cmd_audit (void)
{
  const gchar *params[] = { opt_id };
  return print_query ("SELECT at, actor, db_user, action,"
                      " COALESCE(external_id, ''), detail FROM audit_log"
                      " WHERE $1::text IS NULL OR external_id = $1"
                      " ORDER BY id",
                      1, params);
}

static int
cmd_export_import (gboolean export, const gchar *path)
{
  if (!export && (!opt_consent || !*opt_consent)) {
    g_printerr ("import: needs --consent SOURCE: where the consent of the "
                "file's students is recorded\n");
    return 2;
  }
  g_autoptr (GError) error = NULL;
  g_autoptr (SxDb) db = open_db (&error);
  if (!db) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  g_autoptr (SxGallery) g = export ? sx_gallery_load_db (db, &error)
                                   : sx_gallery_load_file (path, &error);
  gboolean ok = g != NULL;
  if (ok && export) {
    /* every enrolled face leaves the database: on the record */
    g_autofree gchar *detail = g_strdup_printf (
        "{\"people\": %u, \"descriptors\": %u}", sx_gallery_n_people (g),
        sx_gallery_n_descriptors (g));
    ok = sx_gallery_save_file (g, path, &error)
         && sx_audit (db, actor (), "export-gallery", NULL, detail, &error);
  } else if (ok) {
    GString *detail
        = g_string_new ("{\"imported\": true, \"consent_source\": ");
    sx_json_append_string (detail, opt_consent);
    g_string_append_c (detail, '}');
    ok = sx_db_command (db, "BEGIN", &error)
         && sx_gallery_store_db (g, db, opt_consent, opt_consent_date, &error);
    for (guint i = 0; ok && i < sx_gallery_n_people (g); i++) {
      const gchar *id = sx_gallery_person_id (g, i);
      ok = sx_audit (db, actor (), "enrol", id, detail->str, &error);
    }
    ok = ok && sx_db_command (db, "COMMIT", &error);
    g_string_free (detail, TRUE);
  }
  if (!ok) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  g_print ("%s %u people, %u descriptors\n", export ? "exported" : "imported",
           sx_gallery_n_people (g), sx_gallery_n_descriptors (g));
  return 0;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx
      = g_option_context_new ("COMMAND [ARGS...] - enrol students' faces");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  g_option_context_set_description (ctx, summary);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }
  if (argc < 2) {
    g_printerr ("%s", g_option_context_get_help (ctx, TRUE, NULL));
    return 2;
  }
  if (opt_file && opt_db) {
    g_printerr ("--db and --file are exclusive\n");
    return 2;
  }
  if (opt_consent_date && !consent_date_is_valid (opt_consent_date)) {
    g_printerr ("--consent-date: '%s' is not a past date YYYY-MM-DD\n",
                opt_consent_date);
    return 2;
  }
  if (opt_schema && !sx_db_check_schema_name (opt_schema, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }
  const gchar *cmd = argv[1];
  gboolean db_only = !opt_file;
  if (g_str_equal (cmd, "add"))
    return cmd_add (argv + 2, argc - 2);
  if (g_str_equal (cmd, "list") && argc == 2)
    return cmd_list ();
  if (g_str_equal (cmd, "remove") && argc == 2)
    return cmd_remove ();
  if (db_only && g_str_equal (cmd, "consent") && argc == 2)
    return cmd_consent ();
  if (db_only && g_str_equal (cmd, "withdraw") && argc == 2)
    return cmd_withdraw ();
  if (db_only && g_str_equal (cmd, "export") && opt_id && argc <= 3)
    return cmd_export_student (argc == 3 ? argv[2] : NULL);
  if (db_only && g_str_equal (cmd, "retention") && argc == 2)
    return cmd_retention ();
  if (db_only && g_str_equal (cmd, "register") && argc == 2)
    return cmd_register ();
  if (db_only && g_str_equal (cmd, "audit") && argc == 2)
    return cmd_audit ();
  if (db_only && (g_str_equal (cmd, "export") || g_str_equal (cmd, "import"))
      && argc == 3)
    return cmd_export_import (g_str_equal (cmd, "export"), argv[2]);
  g_printerr ("unknown or incomplete command '%s'\n\n%s\n", cmd, summary);
  return 2;
}
