/* surveillx-enroll — enrol students' faces into PostgreSQL or a descriptor
 * file, list and remove them, move galleries between the two.
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
#include "sxdb.h"

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
        { NULL } };

static const gchar summary[]
    = "Commands:\n"
      "  add --id ID --name NAME PHOTO...  enrol a student from photos, each\n"
      "                                    showing exactly one face\n"
      "  list                              students and their descriptor "
      "counts\n"
      "  remove --id ID                    remove a student and their faces\n"
      "  export FILE                       database -> descriptor file\n"
      "  import FILE                       descriptor file -> database\n"
      "\n"
      "Targets: --db CONNINFO (migrations applied on first use) or --file "
      "FILE\n"
      "(a facerecog descriptor file, for galleries without a database).";

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
      if (!db || !sx_gallery_store_db (fresh, db, &error)) {
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
            "SELECT s.external_id, s.name, s.active, count(d.id) "
            "FROM students s LEFT JOIN face_descriptors d ON d.student = s.id "
            "GROUP BY s.id ORDER BY s.external_id",
            0, NULL, &error)
           : NULL;
  if (!res) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  for (gint r = 0; r < PQntuples (res); r++)
    g_print ("%s\t%s\t%s\t%s\n", PQgetvalue (res, r, 0), PQgetvalue (res, r, 1),
             g_str_equal (PQgetvalue (res, r, 2), "t") ? "active" : "inactive",
             PQgetvalue (res, r, 3));
  PQclear (res);
  return 0;
}

static int
cmd_remove (void)
{
  if (!opt_id || !*opt_id) {
    g_printerr ("remove: needs --id ID\n");
    return 2;
  }
  g_autoptr (GError) error = NULL;
  guint removed = 0;
  if (opt_file) {
    g_autoptr (SxGallery) g = open_file_gallery (&error);
    g_autoptr (SxGallery) kept = g ? sx_gallery_copy_without (g, opt_id) : NULL;
    if (!kept || !sx_gallery_save_file (kept, opt_file, &error)) {
      g_printerr ("%s\n", error->message);
      return 1;
    }
    removed = sx_gallery_n_people (g) - sx_gallery_n_people (kept);
  } else {
    g_autoptr (SxDb) db = open_db (&error);
    const gchar *params[] = { opt_id };
    PGresult *res
        = db ? sx_db_exec (db, "DELETE FROM students WHERE external_id = $1", 1,
                           params, &error)
             : NULL;
    if (!res) {
      g_printerr ("%s\n", error->message);
      return 1;
    }
    removed = (guint)g_ascii_strtoull (PQcmdTuples (res), NULL, 10);
    PQclear (res);
  }
  if (removed == 0) {
    g_printerr ("remove: no student '%s'\n", opt_id);
    return 1;
  }
  g_print ("%s: removed\n", opt_id);
  return 0;
}

static int
cmd_export_import (gboolean export, const gchar *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SxDb) db = open_db (&error);
  if (!db) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  g_autoptr (SxGallery) g = export ? sx_gallery_load_db (db, &error)
                                   : sx_gallery_load_file (path, &error);
  gboolean ok = g
                && (export ? sx_gallery_save_file (g, path, &error)
                           : sx_gallery_store_db (g, db, &error));
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
  if (opt_schema && !sx_db_check_schema_name (opt_schema, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }
  const gchar *cmd = argv[1];
  if (g_str_equal (cmd, "add"))
    return cmd_add (argv + 2, argc - 2);
  if (g_str_equal (cmd, "list") && argc == 2)
    return cmd_list ();
  if (g_str_equal (cmd, "remove") && argc == 2)
    return cmd_remove ();
  if ((g_str_equal (cmd, "export") || g_str_equal (cmd, "import")) && argc == 3
      && !opt_file)
    return cmd_export_import (g_str_equal (cmd, "export"), argv[2]);
  g_printerr ("unknown or incomplete command '%s'\n\n%s\n", cmd, summary);
  return 2;
}
